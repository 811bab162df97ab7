//! Dehydrated devices (MSC3814): an Olm account kept encrypted on the homeserver, which
//! receives room keys while the user has no other device and is rehydrated at the next login.
//!
//! **`org.matrix.msc3814.v2`** (`m.dehydration.v2`), as vodozemac 0.11.1 writes it
//! ([`Account::to_dehydrated_device`] / [`Account::from_dehydrated_device`]): the plaintext
//! (integers big-endian)
//!
//! | field | bytes |
//! |---|---|
//! | version = 1 | 4 |
//! | Curve25519 identity secret key | 32 |
//! | Ed25519 secret seed | 32 |
//! | one-time key count n (≤ 65 535) | 4 |
//! | n one-time secret keys, ascending key id | 32 each |
//! | fallback key present (0 no, anything else yes) | 1 |
//! | the current fallback secret key, if present | 32 |
//!
//! is sealed with ChaCha20-Poly1305 under the caller's 32-byte key itself (no KDF), a random
//! 12-byte nonce and no associated data; `device_pickle = base64(ciphertext ‖ tag)` and
//! `nonce = base64(nonce)`, unpadded. Bytes after the fallback key are ignored, as vodozemac
//! ignores them (room for fields a later writer may append under version 1).
//!
//! Rehydrated, the account's one-time keys get the ids 0…n−1 and are all marked published (the
//! server holds them), the next one-time key id is n, and the fallback key (id 0) is published,
//! so the next fallback key is id 1, all as in vodozemac.
//!
//! **`org.matrix.msc3814.v1.olm`** (legacy; matrix-rust-sdk rehydrates it, nobody writes it any
//! more): `device_pickle` is a libolm account pickle ([`Account::from_libolm_pickle`]) under the
//! key `HKDF-SHA-256(salt = device id, ikm = dehydration key, info =
//! "dehydrated-device-pickle-key", 32)`.

use zeroize::Zeroizing;

use super::codec::{Reader, Writer};
use super::envelope::MAX_PICKLE_LENGTH;
use crate::consts::MAX_ONE_TIME_KEYS;
use crate::error::{DehydratedDeviceError, PickleError};
use crate::olm::{Account, KeyId, StoredKey};
use crate::primitives::{
    CHACHA_NONCE_LEN, ChaChaKey, Curve25519SecretKey, Ed25519SecretKey, OsRandom, RandomSource, SecretBytes,
    base64_decode, base64_encode, hkdf_sha256,
};

/// The plaintext version vodozemac 0.11.1 writes and the only one it reads.
const VERSION: u32 = 1;
/// The longest list of one-time keys read (vodozemac's pickle decoder's array limit).
const MAX_DEHYDRATED_ONE_TIME_KEYS: usize = 65_535;
/// The HKDF info of the legacy format's pickle key.
const LEGACY_KEY_INFO: &[u8] = b"dehydrated-device-pickle-key";

/// A dehydrated device: the two strings of MSC3814's `device_data` (`device_pickle` and
/// `nonce`), unpadded base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DehydratedDeviceResult {
    /// `device_pickle`: base64 of the ChaCha20-Poly1305 ciphertext and tag.
    pub ciphertext: String,
    /// `nonce`: base64 of the 12-byte nonce.
    pub nonce: String,
}

fn encode(account: &Account) -> Result<Zeroizing<Vec<u8>>, DehydratedDeviceError> {
    let seed = account.signing_key.seed().ok_or(DehydratedDeviceError::InvalidAccount)?;
    let otks = account.one_time_keys.len();
    let mut w = Writer::with_capacity(4 + 64 + 4 + otks * 32 + 33);
    w.u32(VERSION);
    w.secret(account.identity_key.to_secret_bytes().expose());
    w.secret(seed.expose());
    w.count(otks);
    // ascending key ids (the map's order), oldest first, as vodozemac writes them
    for k in account.one_time_keys.values() {
        w.secret(k.secret.to_secret_bytes().expose());
    }
    match &account.fallback_key {
        Some((_, k)) => {
            w.u8(1);
            w.secret(k.secret.to_secret_bytes().expose());
        }
        None => w.u8(0),
    }
    Ok(w.finish())
}

/// Decodes the decrypted plaintext (after its version) into an account.
fn decode(r: &mut Reader<'_>) -> Result<Account, PickleError> {
    let identity = r.secret::<32>("Curve25519 identity key")?;
    let signing_key = Ed25519SecretKey::from_seed(r.secret::<32>("Ed25519 seed")?);
    let n = r.count(MAX_DEHYDRATED_ONE_TIME_KEYS, 32, "one-time keys")?;
    // The account keeps the newest MAX_ONE_TIME_KEYS (it would evict the others as soon as
    // they were inserted): the older ones are read past without a public key.
    let skipped = n.saturating_sub(MAX_ONE_TIME_KEYS);
    // Every Curve25519 key kept (identity, one-time keys, fallback key) gets its public key in
    // one batch: one field inversion for all instead of one each.
    let mut secrets = Vec::with_capacity(n - skipped + 2);
    secrets.push(identity);
    for i in 0..n {
        let secret = r.secret::<32>("one-time key")?;
        if i >= skipped {
            secrets.push(secret);
        }
    }
    let has_fallback = r.bool_lenient("fallback key present")?;
    if has_fallback {
        secrets.push(r.secret::<32>("fallback key")?);
    }
    let mut keys = Curve25519SecretKey::from_secret_bytes_batch(&secrets).into_iter();
    drop(secrets);
    let identity_key = keys.next().ok_or(PickleError::InvalidField("identity key"))?;
    let mut account = Account::from_parts(signing_key, identity_key);
    let fallback = if has_fallback { keys.next_back() } else { None };
    for (i, secret) in (skipped..n).zip(keys) {
        let public = secret.public_key();
        account.one_time_keys.insert(KeyId(i as u64), StoredKey { secret, public, published: true });
    }
    if let Some(secret) = fallback {
        let public = secret.public_key();
        account.fallback_key = Some((KeyId(0), StoredKey { secret, public, published: true }));
    }
    // vodozemac's continuation: one-time key ids go on at n; the fallback key is id 0, so the
    // next fallback key is id 1 (fallback ids follow the current one). Without a fallback key
    // vodozemac's next fallback id is also 1, caudata's 0: fallback ids are opaque and only
    // have to differ from the current and previous fallback key's, which they do.
    account.next_key_id = n as u64;
    Ok(account)
}

/// Decodes a decrypted v2 plaintext: version, then the body; trailing bytes are ignored.
pub(crate) fn decode_plaintext(plaintext: &[u8]) -> Result<Account, DehydratedDeviceError> {
    let mut r = Reader::new(plaintext);
    let version = r.u32("version").map_err(|_| DehydratedDeviceError::MissingVersion)?;
    if version != VERSION {
        return Err(DehydratedDeviceError::Version { expected: VERSION, got: version });
    }
    Ok(decode(&mut r)?)
}

/// The legacy format's pickle key.
fn legacy_pickle_key(key: &[u8; 32], device_id: &str) -> SecretBytes<32> {
    let mut out = SecretBytes::zero();
    hkdf_sha256(Some(device_id.as_bytes()), key, LEGACY_KEY_INFO, out.expose_mut());
    out
}

impl Account {
    /// Dehydrates the account (MSC3814 `org.matrix.msc3814.v2`, vodozemac 0.11.1's format)
    /// under the 32-byte dehydration key: its identity keys, one-time keys and current fallback
    /// key. The account itself is not changed.
    ///
    /// ```
    /// use caudata::olm::Account;
    ///
    /// let mut account = Account::new();
    /// account.generate_one_time_keys(2);
    /// let key = [1u8; 32];
    /// let device = account.to_dehydrated_device(&key).unwrap();
    /// let back = Account::from_dehydrated_device(&device.ciphertext, &device.nonce, &key).unwrap();
    /// assert_eq!(back.identity_keys(), account.identity_keys());
    /// assert_eq!(back.stored_one_time_key_count(), 2);
    /// ```
    ///
    /// # Errors
    /// [`DehydratedDeviceError::InvalidAccount`] when the Ed25519 key has no seed (the account
    /// was imported from libolm).
    pub fn to_dehydrated_device(&self, key: &[u8; 32]) -> Result<DehydratedDeviceResult, DehydratedDeviceError> {
        self.to_dehydrated_device_inner(key, &mut OsRandom)
    }

    /// [`Account::to_dehydrated_device`] with the nonce drawn from `rng` (12 bytes).
    ///
    /// # Errors
    /// As [`Account::to_dehydrated_device`].
    #[cfg(feature = "hazmat")]
    pub fn to_dehydrated_device_with_rng(
        &self,
        key: &[u8; 32],
        rng: &mut impl RandomSource,
    ) -> Result<DehydratedDeviceResult, DehydratedDeviceError> {
        self.to_dehydrated_device_inner(key, rng)
    }

    fn to_dehydrated_device_inner(
        &self,
        key: &[u8; 32],
        rng: &mut impl RandomSource,
    ) -> Result<DehydratedDeviceResult, DehydratedDeviceError> {
        let plaintext = encode(self)?;
        let mut nonce = [0u8; CHACHA_NONCE_LEN];
        rng.fill(&mut nonce);
        // Only a plaintext over 256 GiB is refused; an account's is a few kilobytes at most.
        let ciphertext = ChaChaKey::from_array(key)
            .seal(&nonce, b"", &plaintext)
            .ok_or(DehydratedDeviceError::Pickle(PickleError::Unrepresentable("a dehydrated device over 256 GiB")))?;
        Ok(DehydratedDeviceResult { ciphertext: base64_encode(ciphertext), nonce: base64_encode(nonce) })
    }

    /// Rehydrates an account from MSC3814 `org.matrix.msc3814.v2` `device_data` (`device_pickle`,
    /// `nonce`) and the 32-byte dehydration key.
    ///
    /// # Errors
    /// [`DehydratedDeviceError`]: [`Base64`](DehydratedDeviceError::Base64),
    /// [`InvalidNonce`](DehydratedDeviceError::InvalidNonce),
    /// [`Decryption`](DehydratedDeviceError::Decryption) (a wrong key or a modified device),
    /// [`MissingVersion`](DehydratedDeviceError::MissingVersion) /
    /// [`Version`](DehydratedDeviceError::Version), [`Pickle`](DehydratedDeviceError::Pickle)
    /// naming the field that does not decode, or [`TooLong`](DehydratedDeviceError::TooLong).
    pub fn from_dehydrated_device(
        ciphertext: &str,
        nonce: &str,
        key: &[u8; 32],
    ) -> Result<Self, DehydratedDeviceError> {
        let max = MAX_PICKLE_LENGTH / 3 * 4 + 4;
        if ciphertext.len() > max {
            return Err(DehydratedDeviceError::TooLong { got: ciphertext.len(), max });
        }
        let ciphertext = base64_decode(ciphertext).map_err(|_| DehydratedDeviceError::Base64)?;
        let nonce = base64_decode(nonce).map_err(|_| DehydratedDeviceError::Base64)?;
        let nonce: [u8; CHACHA_NONCE_LEN] =
            nonce.as_slice().try_into().map_err(|_| DehydratedDeviceError::InvalidNonce { got: nonce.len() })?;
        let plaintext =
            ChaChaKey::from_array(key).open(&nonce, b"", &ciphertext).ok_or(DehydratedDeviceError::Decryption)?;
        decode_plaintext(&plaintext)
    }

    /// Rehydrates an account from the legacy MSC3814 format `org.matrix.msc3814.v1.olm`: a
    /// libolm account pickle under a key derived from the dehydration key and the device id.
    ///
    /// An account rehydrated this way has only libolm's expanded Ed25519 key, so it cannot be
    /// dehydrated again in the v2 format ([`DehydratedDeviceError::InvalidAccount`], as in
    /// vodozemac); a new device is made instead.
    ///
    /// # Errors
    /// [`DehydratedDeviceError::Decryption`] for a wrong key, device id or a modified pickle,
    /// [`DehydratedDeviceError::Base64`], or [`DehydratedDeviceError::Pickle`] with the libolm
    /// pickle's decoding error.
    pub fn from_legacy_dehydrated_device(
        device_pickle: &str,
        device_id: &str,
        key: &[u8; 32],
    ) -> Result<Self, DehydratedDeviceError> {
        Self::from_libolm_pickle(device_pickle, legacy_pickle_key(key, device_id).expose()).map_err(|e| match e {
            PickleError::Authentication => DehydratedDeviceError::Decryption,
            PickleError::Base64 => DehydratedDeviceError::Base64,
            other => DehydratedDeviceError::Pickle(other),
        })
    }

    /// Writes the legacy format `org.matrix.msc3814.v1.olm` (for migration tests and old
    /// clients; new devices use [`Account::to_dehydrated_device`]).
    ///
    /// # Errors
    /// [`DehydratedDeviceError::Pickle`] when the account cannot be written as a libolm pickle
    /// ([`PickleError::Unrepresentable`]).
    pub fn to_legacy_dehydrated_device(
        &self,
        device_id: &str,
        key: &[u8; 32],
    ) -> Result<String, DehydratedDeviceError> {
        Ok(self.to_libolm_pickle(legacy_pickle_key(key, device_id).expose())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        let mut a = Account::new();
        a.generate_one_time_keys(3);
        a.generate_fallback_key();
        a
    }

    #[test]
    fn v2_round_trip_keeps_every_key_and_id() {
        let a = account();
        let key = [7u8; 32];
        let device = a.to_dehydrated_device(&key).unwrap();
        let b = Account::from_dehydrated_device(&device.ciphertext, &device.nonce, &key).unwrap();
        assert_eq!(b.identity_keys(), a.identity_keys());
        let mut ours: Vec<_> = a.one_time_keys().into_values().collect();
        // rehydrated keys are all published (the server holds them): read the stored ones
        assert!(b.one_time_keys().is_empty());
        let mut theirs: Vec<_> = b.one_time_keys.values().map(|k| k.public).collect();
        ours.sort();
        theirs.sort();
        assert_eq!(theirs, ours);
        assert_eq!(b.one_time_keys.keys().map(|k| k.0).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(b.current_fallback_key().map(|(_, k)| k), a.current_fallback_key().map(|(_, k)| k));
        // a wrong key, a modified device, a short nonce
        assert_eq!(
            Account::from_dehydrated_device(&device.ciphertext, &device.nonce, &[8; 32]).err(),
            Some(DehydratedDeviceError::Decryption)
        );
        assert_eq!(
            Account::from_dehydrated_device(&device.ciphertext, &base64_encode([0u8; 11]), &key).err(),
            Some(DehydratedDeviceError::InvalidNonce { got: 11 })
        );
    }

    #[test]
    fn the_plaintext_version_is_checked() {
        assert_eq!(decode_plaintext(&[0, 0, 1]).err(), Some(DehydratedDeviceError::MissingVersion));
        let mut w = Writer::with_capacity(80);
        w.u32(2);
        w.secret(&[1; 32]);
        w.secret(&[2; 32]);
        w.count(0);
        w.u8(0);
        let mut bytes = w.finish();
        assert_eq!(decode_plaintext(&bytes).err(), Some(DehydratedDeviceError::Version { expected: 1, got: 2 }));
        bytes[3] = 1;
        assert!(decode_plaintext(&bytes).is_ok());
    }

    #[test]
    fn only_the_newest_one_time_keys_are_kept() {
        let n = MAX_ONE_TIME_KEYS + 2;
        let mut w = Writer::with_capacity(80 + n * 32);
        w.u32(VERSION);
        w.secret(&[1; 32]);
        w.secret(&[2; 32]);
        w.count(n);
        for i in 0..n {
            let mut s = [0u8; 32];
            s[..8].copy_from_slice(&(i as u64).to_be_bytes());
            w.secret(&s);
        }
        w.u8(0);
        let account = decode_plaintext(&w.finish()).unwrap();
        let keys = &account.one_time_keys;
        assert_eq!(keys.len(), MAX_ONE_TIME_KEYS);
        assert!(!keys.contains_key(&KeyId(1)));
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&2u64.to_be_bytes());
        assert_eq!(
            keys[&KeyId(2)].public,
            Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut s)).public_key()
        );
        assert!(keys.contains_key(&KeyId(n as u64 - 1)));
        assert_eq!(account.current_fallback_key(), None);
    }

    #[test]
    fn a_device_longer_than_any_pickle_is_refused_before_decoding() {
        let max = MAX_PICKLE_LENGTH / 3 * 4 + 4;
        assert_eq!(max, 1_398_104);
        let nonce = base64_encode([0u8; CHACHA_NONCE_LEN]);
        let too_long = "A".repeat(max + 1);
        assert_eq!(
            Account::from_dehydrated_device(&too_long, &nonce, &[1; 32]).err(),
            Some(DehydratedDeviceError::TooLong { got: max + 1, max })
        );
        let longest = "A".repeat(max);
        assert_eq!(
            Account::from_dehydrated_device(&longest, &nonce, &[1; 32]).err(),
            Some(DehydratedDeviceError::Decryption)
        );
    }

    #[test]
    fn legacy_round_trip_needs_the_same_key_and_device_id() {
        let a = account();
        let pickle = a.to_legacy_dehydrated_device("DEVICE", &[3; 32]).unwrap();
        let b = Account::from_legacy_dehydrated_device(&pickle, "DEVICE", &[3; 32]).unwrap();
        assert_eq!(b.identity_keys(), a.identity_keys());
        assert_eq!(b.stored_one_time_key_count(), 3);
        assert_eq!(
            Account::from_legacy_dehydrated_device(&pickle, "OTHER", &[3; 32]).err(),
            Some(DehydratedDeviceError::Decryption)
        );
    }
}
