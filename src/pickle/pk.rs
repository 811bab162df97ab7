//! libolm's `PkDecryption` pickle, both ways (`olm_pickle_pk_decryption`,
//! `olm_unpickle_pk_decryption`; vodozemac's `PkDecryption::{from,to}_libolm_pickle` write the
//! same bytes).
//!
//! Raw layout, then libolm's pickle cipher (see `libolm.rs`):
//!
//! | field | bytes |
//! |---|---|
//! | version (big-endian, 1) | 4 |
//! | Curve25519 public key | 32 |
//! | Curve25519 secret key, raw (unclamped) | 32 |
//!
//! libolm refuses any other version (`UNKNOWN_PICKLE_VERSION`) and trailing bytes
//! (`OLM_PICKLE_EXTRA_DATA`), and does not compare the public key with the secret one;
//! vodozemac ignores the stored public key. caudata refuses a public key that does not belong
//! to the secret key, as its other libolm readers do.

use super::codec::{Reader, Writer};
use super::libolm::{decrypt, encrypt};
use crate::error::PickleError;
use crate::pk_encryption::PkDecryption;
use crate::primitives::Curve25519SecretKey;

const PK_DECRYPTION_VERSION: u32 = 1;
const RAW_LENGTH: usize = 4 + 32 + 32;

impl PkDecryption {
    /// Reads libolm's `PkDecryption` pickle (version 1), encrypted under `pickle_key`.
    ///
    /// # Errors
    /// [`PickleError::Authentication`] for a wrong key or a modified pickle,
    /// [`PickleError::UnknownVersion`] for a version other than 1, [`PickleError::Truncated`]
    /// or [`PickleError::TrailingBytes`] for a wrong length, [`PickleError::KeyMismatch`] when
    /// the stored public key is not the secret key's; [`PickleError::Base64`] and
    /// [`PickleError::TooLong`] for text that is not a pickle.
    pub fn from_libolm_pickle(pickle: &str, pickle_key: &[u8]) -> Result<Self, PickleError> {
        let raw = decrypt(pickle, pickle_key)?;
        Self::decode_libolm_raw(&raw)
    }

    fn decode_libolm_raw(raw: &[u8]) -> Result<Self, PickleError> {
        let mut r = Reader::new(raw);
        let version = r.u32("version")?;
        if version != PK_DECRYPTION_VERSION {
            return Err(PickleError::UnknownVersion { got: version, max: PK_DECRYPTION_VERSION });
        }
        let public = r.bytes::<32>("PkDecryption key")?;
        let secret = Curve25519SecretKey::from_secret_bytes(&r.secret::<32>("PkDecryption key")?);
        r.finish()?;
        if secret.public_key().as_bytes() != &public {
            return Err(PickleError::KeyMismatch("PkDecryption key"));
        }
        Ok(Self::from_key(secret))
    }

    /// libolm's `PkDecryption` pickle (version 1) under `pickle_key`. Like every libolm pickle
    /// it is deterministic (the IV comes from the key): the same key and pickle key give the
    /// same text, byte for byte what libolm and vodozemac write.
    pub fn to_libolm_pickle(&self, pickle_key: &[u8]) -> String {
        encrypt(&self.encode_libolm_raw(), pickle_key)
    }

    fn encode_libolm_raw(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(RAW_LENGTH);
        w.u32(PK_DECRYPTION_VERSION);
        w.bytes(self.public_key().as_bytes());
        w.secret(self.secret_key().to_secret_bytes().expose());
        w.finish()
    }

    /// ⚠️ From the *unencrypted* bytes of libolm's `PkDecryption` pickle (for the libolm C
    /// interface), checked as [`PkDecryption::from_libolm_pickle`] checks them.
    ///
    /// # Errors
    /// As [`PkDecryption::from_libolm_pickle`], except that nothing is decrypted.
    #[cfg(feature = "hazmat")]
    pub fn from_libolm_raw_pickle(raw: &[u8]) -> Result<Self, PickleError> {
        Self::decode_libolm_raw(raw)
    }

    /// ⚠️ The *unencrypted* bytes of libolm's `PkDecryption` pickle (the secret key in the
    /// clear, wiped when dropped).
    #[cfg(feature = "hazmat")]
    pub fn to_libolm_raw_pickle(&self) -> zeroize::Zeroizing<Vec<u8>> {
        self.encode_libolm_raw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_refusal() {
        let pk = PkDecryption::new();
        let text = pk.to_libolm_pickle(b"key");
        assert_eq!(text, pk.to_libolm_pickle(b"key"), "deterministic");
        let back = PkDecryption::from_libolm_pickle(&text, b"key").unwrap();
        assert_eq!(back.public_key(), pk.public_key());
        assert_eq!(PkDecryption::from_libolm_pickle(&text, b"other").unwrap_err(), PickleError::Authentication);
        let raw = pk.encode_libolm_raw();
        assert_eq!(raw.len(), RAW_LENGTH);
        assert_eq!(&raw[..4], &[0, 0, 0, 1]);
        assert_eq!(PkDecryption::decode_libolm_raw(&raw).unwrap().public_key(), pk.public_key());
        let mut v2 = raw.to_vec();
        v2[3] = 2;
        assert_eq!(PkDecryption::decode_libolm_raw(&v2).unwrap_err(), PickleError::UnknownVersion { got: 2, max: 1 });
        // a public key that is not the secret key's
        let mut mismatched = raw.to_vec();
        mismatched[4..36].copy_from_slice(PkDecryption::new().public_key().as_bytes());
        assert_eq!(
            PkDecryption::decode_libolm_raw(&mismatched).unwrap_err(),
            PickleError::KeyMismatch("PkDecryption key")
        );
        assert!(PkDecryption::decode_libolm_raw(&raw[..RAW_LENGTH - 1]).is_err());
        assert!(PkDecryption::decode_libolm_raw(&[&raw[..], &[0]].concat()).is_err());
    }

    #[cfg(feature = "hazmat")]
    #[test]
    fn the_raw_pickle_is_the_decrypted_one() {
        let pk = PkDecryption::new();
        let raw = pk.to_libolm_raw_pickle();
        assert_eq!(*raw, *decrypt(&pk.to_libolm_pickle(b"k"), b"k").unwrap());
        assert_eq!(PkDecryption::from_libolm_raw_pickle(&raw).unwrap().public_key(), pk.public_key());
        let mut bad = raw.to_vec();
        bad[0] = 9;
        assert!(PkDecryption::from_libolm_raw_pickle(&bad).is_err());
    }
}
