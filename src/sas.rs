//! Short authentication strings for interactive verification (`m.sas.v1`), compatible with
//! vodozemac 0.11.1 (`vodozemac::sas`) and libolm 3.2.16 (`olm_sas_*`).
//!
//! Each side makes an ephemeral X25519 key ([`Sas::new`]), sends its public key, and combines it
//! with the other side's ([`Sas::diffie_hellman`]). Both then derive the same
//! [`SasBytes`], shown as seven emoji or three four-digit numbers, and MAC their long-term keys
//! under the shared secret ([`EstablishedSas::calculate_mac`]) so that each can check the
//! other's ([`EstablishedSas::verify_mac`], constant time). The info strings are the caller's:
//! Matrix builds them from the user and device ids, the keys and the transaction id (see
//! SPEC.md, "SAS").
//!
//! ```
//! use caudata::sas::Sas;
//!
//! let alice = Sas::new();
//! let bob = Sas::new();
//! let (alice_key, bob_key) = (alice.public_key(), bob.public_key());
//! let alice = alice.diffie_hellman(bob_key).unwrap();
//! let bob = bob.diffie_hellman(alice_key).unwrap();
//!
//! let info = "MATRIX_KEY_VERIFICATION_SAS|...";
//! assert_eq!(alice.bytes(info).emoji_indices(), bob.bytes(info).emoji_indices());
//! assert_eq!(alice.bytes(info).decimals(), bob.bytes(info).decimals());
//!
//! let mac = alice.calculate_mac("the key to vouch for", "MATRIX_KEY_VERIFICATION_MAC...");
//! bob.verify_mac("the key to vouch for", "MATRIX_KEY_VERIFICATION_MAC...", &mac).unwrap();
//! assert!(bob.verify_mac("another key", "MATRIX_KEY_VERIFICATION_MAC...", &mac).is_err());
//! ```
//!
//! Three MAC methods: `hkdf-hmac-sha256.v2` ([`EstablishedSas::calculate_mac`], base64 by
//! [`Mac::to_base64`]), the legacy `hkdf-hmac-sha256` that older clients still negotiate (the
//! same MAC in libolm's in-place base64, [`EstablishedSas::calculate_mac_invalid_base64`]), and
//! libolm's long-KDF MAC ([`EstablishedSas::calculate_mac_long_kdf`], old Riot's
//! `hmac-sha256`, which neither vodozemac nor matrix-rust-sdk offers). Each has a
//! constant-time `verify_*`.

use crate::error::KeyError;
use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, ENCODED_MAC_LENGTH, OsRandom, RandomSource, SAS_MAX_BYTES, SasMacKind,
    SasSecret, base64_decode_padding_indifferent, base64_encode, ct_eq,
};

/// A SAS operation failed. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SasError {
    /// The MAC does not verify: the other side MACed another input, used another info string,
    /// or does not share our secret (a man in the middle).
    #[error("the SAS MAC does not verify")]
    Mac,
    /// A MAC of the wrong length (bytes, or characters for an encoded MAC).
    #[error("a SAS MAC must be {expected} bytes long, got {got}")]
    InvalidMacLength {
        /// The length required.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// The MAC is not valid base64.
    #[error("the SAS MAC is not valid base64")]
    Base64,
    /// More SAS bytes were asked for than HKDF-SHA-256 can produce.
    #[error("{requested} SAS bytes asked for, at most {max} can be derived")]
    InvalidCount {
        /// The count asked for.
        requested: usize,
        /// The limit, 255 × 32.
        max: usize,
    },
}

/// Our side of a verification before the other side's key is known: an ephemeral X25519 key.
/// It is used once ([`Sas::diffie_hellman`] consumes it) and wiped on drop.
pub struct Sas {
    secret: Curve25519SecretKey,
}

impl Sas {
    /// A fresh ephemeral key.
    pub fn new() -> Self {
        Self::new_inner(&mut OsRandom)
    }

    /// [`Sas::new`] with 32 bytes of the ephemeral secret from `rng` (libolm's `olm_create_sas`).
    #[cfg(feature = "hazmat")]
    pub fn new_with_rng(rng: &mut impl RandomSource) -> Self {
        Self::new_inner(rng)
    }

    fn new_inner(rng: &mut impl RandomSource) -> Self {
        let secret = Curve25519SecretKey::random(rng);
        let _ = secret.public_key(); // derived now (it is sent first), cached beside the secret
        Self { secret }
    }

    /// Our ephemeral public key, to send in `m.key.verification.key` (unpadded base64).
    pub fn public_key(&self) -> Curve25519PublicKey {
        self.secret.public_key()
    }

    /// Combines our key with theirs, consuming our key (one verification, one key).
    ///
    /// # Errors
    /// [`KeyError::NonContributory`] when their key has small order (the all-zero shared
    /// secret that libolm would accept).
    pub fn diffie_hellman(self, their_public_key: Curve25519PublicKey) -> Result<EstablishedSas, KeyError> {
        self.establish(their_public_key)
    }

    /// [`Sas::diffie_hellman`] with their key as base64 (43 characters, or 44 padded).
    ///
    /// # Errors
    /// [`KeyError::Base64`] or [`KeyError::InvalidLength`] for a malformed key, and as
    /// [`Sas::diffie_hellman`].
    pub fn diffie_hellman_with_raw(self, their_public_key: &str) -> Result<EstablishedSas, KeyError> {
        self.diffie_hellman(Curve25519PublicKey::from_base64(their_public_key)?)
    }

    /// [`Sas::diffie_hellman`] that keeps this `Sas`, as libolm's `olm_sas_set_their_key` does
    /// (it may be called again, with the same or another key). For the libolm C interface;
    /// applications use [`Sas::diffie_hellman`].
    ///
    /// # Errors
    /// As [`Sas::diffie_hellman`]; this `Sas` is unchanged either way.
    #[cfg(feature = "hazmat")]
    pub fn diffie_hellman_keeping_key(
        &self,
        their_public_key: Curve25519PublicKey,
    ) -> Result<EstablishedSas, KeyError> {
        self.establish(their_public_key)
    }

    fn establish(&self, their_public_key: Curve25519PublicKey) -> Result<EstablishedSas, KeyError> {
        let secret = SasSecret::agree(&self.secret, &their_public_key)?;
        Ok(EstablishedSas { secret, our_public_key: self.public_key(), their_public_key })
    }
}

impl Default for Sas {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Sas {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { secret } = self;
        f.debug_struct("Sas").field("public_key", &secret.public_key()).finish_non_exhaustive()
    }
}

/// Both sides' keys are combined: the shared secret from which the SAS and the MACs are
/// derived. Wiped on drop.
pub struct EstablishedSas {
    secret: SasSecret,
    our_public_key: Curve25519PublicKey,
    their_public_key: Curve25519PublicKey,
}

impl EstablishedSas {
    /// The six bytes both sides show, as emoji or decimals: `HKDF-SHA-256(no salt, shared
    /// secret, info, 6)`. Matrix's info string is
    /// `MATRIX_KEY_VERIFICATION_SAS|<starter user>|<starter device>|<starter key>|<accepter
    /// user>|<accepter device>|<accepter key>|<transaction id>`.
    pub fn bytes(&self, info: impl AsRef<[u8]>) -> SasBytes {
        let mut bytes = [0u8; 6];
        self.secret.bytes_into(info.as_ref(), &mut bytes);
        SasBytes(bytes)
    }

    /// `count` bytes of the same HKDF (libolm's `olm_sas_generate_bytes`; the first six are
    /// [`EstablishedSas::bytes`]).
    ///
    /// # Errors
    /// [`SasError::InvalidCount`] for more than 255 × 32 bytes.
    pub fn bytes_raw(&self, info: impl AsRef<[u8]>, count: usize) -> Result<Vec<u8>, SasError> {
        if count > SAS_MAX_BYTES {
            return Err(SasError::InvalidCount { requested: count, max: SAS_MAX_BYTES });
        }
        let mut out = vec![0u8; count];
        self.secret.bytes_into(info.as_ref(), &mut out);
        Ok(out)
    }

    /// The `hkdf-hmac-sha256.v2` MAC of `input` (in Matrix, a public key in unpadded base64, or
    /// the sorted, comma-joined key ids): `HMAC-SHA-256(HKDF-SHA-256(no salt, shared secret,
    /// info, 32), input)`. Send it as [`Mac::to_base64`].
    pub fn calculate_mac(&self, input: impl AsRef<[u8]>, info: impl AsRef<[u8]>) -> Mac {
        Mac(self.secret.mac(SasMacKind::Hkdf, input.as_ref(), info.as_ref()))
    }

    /// The legacy `hkdf-hmac-sha256` MAC: [`EstablishedSas::calculate_mac`]'s 32 bytes in
    /// libolm's in-place base64 (43 characters of which only the first 4 agree with the true
    /// encoding; see SPEC.md). Only for peers that do not offer `hkdf-hmac-sha256.v2`.
    pub fn calculate_mac_invalid_base64(&self, input: impl AsRef<[u8]>, info: impl AsRef<[u8]>) -> String {
        self.secret.mac_in_place_base64(SasMacKind::Hkdf, input.as_ref(), info.as_ref()).to_string()
    }

    /// libolm's `olm_sas_calculate_mac_long_kdf` (old Riot's `hmac-sha256` method): the HMAC
    /// key is 256 bytes of HKDF, and the result is in libolm's in-place base64 too. Neither
    /// vodozemac nor current Matrix clients use it; it is here for libolm parity.
    pub fn calculate_mac_long_kdf(&self, input: impl AsRef<[u8]>, info: impl AsRef<[u8]>) -> String {
        self.secret.mac_in_place_base64(SasMacKind::LongKdf, input.as_ref(), info.as_ref()).to_string()
    }

    /// Checks the other side's `hkdf-hmac-sha256.v2` MAC, comparing in constant time.
    ///
    /// # Errors
    /// [`SasError::Mac`] if it does not verify.
    pub fn verify_mac(&self, input: impl AsRef<[u8]>, info: impl AsRef<[u8]>, tag: &Mac) -> Result<(), SasError> {
        if self.secret.verify_mac(SasMacKind::Hkdf, input.as_ref(), info.as_ref(), &tag.0) {
            Ok(())
        } else {
            Err(SasError::Mac)
        }
    }

    /// Checks the other side's legacy `hkdf-hmac-sha256` MAC (in-place base64), recomputing it
    /// and comparing in constant time.
    ///
    /// # Errors
    /// [`SasError::InvalidMacLength`] unless `tag` has 43 characters, [`SasError::Mac`] if it
    /// does not verify.
    pub fn verify_mac_invalid_base64(
        &self,
        input: impl AsRef<[u8]>,
        info: impl AsRef<[u8]>,
        tag: &str,
    ) -> Result<(), SasError> {
        self.verify_encoded(SasMacKind::Hkdf, input.as_ref(), info.as_ref(), tag)
    }

    /// Checks a MAC made by [`EstablishedSas::calculate_mac_long_kdf`], in constant time.
    ///
    /// # Errors
    /// As [`EstablishedSas::verify_mac_invalid_base64`].
    pub fn verify_mac_long_kdf(
        &self,
        input: impl AsRef<[u8]>,
        info: impl AsRef<[u8]>,
        tag: &str,
    ) -> Result<(), SasError> {
        self.verify_encoded(SasMacKind::LongKdf, input.as_ref(), info.as_ref(), tag)
    }

    fn verify_encoded(&self, kind: SasMacKind, input: &[u8], info: &[u8], tag: &str) -> Result<(), SasError> {
        if tag.len() != ENCODED_MAC_LENGTH {
            return Err(SasError::InvalidMacLength { expected: ENCODED_MAC_LENGTH, got: tag.len() });
        }
        if self.secret.verify_in_place_base64(kind, input, info, tag.as_bytes()) { Ok(()) } else { Err(SasError::Mac) }
    }

    /// Our ephemeral public key.
    pub const fn our_public_key(&self) -> Curve25519PublicKey {
        self.our_public_key
    }

    /// Their ephemeral public key.
    pub const fn their_public_key(&self) -> Curve25519PublicKey {
        self.their_public_key
    }
}

impl core::fmt::Debug for EstablishedSas {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { secret: _, our_public_key, their_public_key } = self;
        f.debug_struct("EstablishedSas")
            .field("our_public_key", our_public_key)
            .field("their_public_key", their_public_key)
            .finish_non_exhaustive()
    }
}

/// The six SAS bytes and the two forms users compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SasBytes([u8; 6]);

impl SasBytes {
    /// Wraps six bytes (for showing bytes derived elsewhere).
    pub const fn from_bytes(bytes: [u8; 6]) -> Self {
        Self(bytes)
    }

    /// Seven indices (0–63) into Matrix's emoji table: the first 42 bits, six at a time, most
    /// significant first.
    pub fn emoji_indices(&self) -> [u8; 7] {
        let n = self.as_u48();
        core::array::from_fn(|i| ((n >> (42 - 6 * i)) & 63) as u8)
    }

    /// Three numbers from 1000 to 9191: the first 39 bits, 13 at a time, each plus 1000.
    pub fn decimals(&self) -> (u16, u16, u16) {
        let n = self.as_u48() >> 8; // the first five bytes
        let part = |shift: u32| ((n >> shift) & 0x1fff) as u16 + 1000;
        (part(27), part(14), part(1))
    }

    /// The six bytes.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    fn as_u48(&self) -> u64 {
        let [a, b, c, d, e, f] = self.0;
        u64::from_be_bytes([0, 0, a, b, c, d, e, f])
    }
}

/// A 32-byte SAS MAC (`hkdf-hmac-sha256.v2`). Not secret (it is sent), but compared in
/// constant time all the same.
#[derive(Clone, Copy)]
pub struct Mac([u8; 32]);

impl Mac {
    /// Length in bytes.
    pub const LENGTH: usize = 32;

    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// From a slice of exactly 32 bytes.
    ///
    /// # Errors
    /// [`SasError::InvalidMacLength`] for any other length (vodozemac accepts any length here
    /// and refuses it in `verify_mac`).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SasError> {
        let arr: [u8; 32] =
            bytes.try_into().map_err(|_| SasError::InvalidMacLength { expected: Self::LENGTH, got: bytes.len() })?;
        Ok(Self(arr))
    }

    /// From base64 (43 characters, or 44 padded), as received in `m.key.verification.mac`.
    ///
    /// # Errors
    /// [`SasError::Base64`] or [`SasError::InvalidMacLength`].
    pub fn from_base64(mac: &str) -> Result<Self, SasError> {
        let bytes = base64_decode_padding_indifferent(mac).map_err(|_| SasError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Unpadded base64 (43 characters).
    pub fn to_base64(&self) -> String {
        base64_encode(self.0)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for Mac {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}
impl Eq for Mac {}

impl core::fmt::Debug for Mac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Mac({})", self.to_base64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_and_decimal_edges() {
        let s = SasBytes::from_bytes([0xff; 6]);
        assert_eq!(s.emoji_indices(), [63; 7]);
        assert_eq!(s.decimals(), (9191, 9191, 9191));
        let s = SasBytes::from_bytes([0x80, 0, 0, 0, 0, 1]);
        assert_eq!(s.emoji_indices(), [32, 0, 0, 0, 0, 0, 0]);
        assert_eq!(s.decimals(), (5096, 1000, 1000));
        // the low 6 bits of the last byte reach no emoji, and no bit of it a decimal
        assert_eq!(SasBytes::from_bytes([0, 0, 0, 0, 0, 0x3f]).emoji_indices(), [0; 7]);
        assert_eq!(SasBytes::from_bytes([0, 0, 0, 0, 0, 0xff]).decimals(), (1000, 1000, 1000));
    }

    #[test]
    fn small_order_keys_are_refused() {
        let sas = Sas::new();
        let their = Curve25519PublicKey::from_bytes([0; 32]);
        assert_eq!(sas.diffie_hellman(their).err(), Some(KeyError::NonContributory));
        assert_eq!(
            Sas::new().diffie_hellman_with_raw("AAAA").err(),
            Some(KeyError::InvalidLength { expected: 32, got: 3 })
        );
    }

    #[test]
    fn bytes_raw_limit_and_prefix() {
        let a = Sas::new();
        let b = Sas::new();
        let bk = b.public_key();
        let a = a.diffie_hellman(bk).unwrap();
        assert_eq!(a.bytes_raw("i", SAS_MAX_BYTES + 1), Err(SasError::InvalidCount { requested: 8161, max: 8160 }));
        let all = a.bytes_raw("i", SAS_MAX_BYTES).unwrap();
        assert_eq!(&all[..6], a.bytes("i").as_bytes());
        assert!(a.bytes_raw("i", 0).unwrap().is_empty());
    }
}
