//! Import and export of secret keys as Matrix clients store them: Curve25519 secret keys as their
//! raw 32 bytes (backup keys, whose recovery key is the base58 of exactly these bytes), Ed25519
//! secret keys as their 32-byte RFC 8032 seed and its base64 (cross-signing keys in secret
//! storage, libolm's `PkSigning`), and [`Ed25519Keypair`], vodozemac's name for a signing key
//! that may exist only in libolm's expanded form.
//!
//! Nothing here clamps: a Curve25519 secret key keeps the bytes it was given (X25519 clamps
//! inside the scalar multiplication), as libolm and vodozemac do, so the recovery key derived
//! from an imported key is the one the user wrote down.

use zeroize::Zeroizing;

use super::base64::{base64_decode_secret, base64_encode_secret};
use super::curve25519::Curve25519SecretKey;
use super::ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};
#[cfg(feature = "hazmat")]
use super::rng::RandomSource;
use super::secret::SecretBytes;
use crate::error::KeyError;

impl Curve25519SecretKey {
    /// Length of the secret key in bytes.
    pub const LENGTH: usize = 32;

    /// From its 32 raw bytes, kept exactly as given (not clamped): [`Self::to_secret_bytes`]
    /// returns the same bytes. The caller should wipe its copy.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut copy = *bytes;
        Self::from_secret_bytes(&SecretBytes::from_array(&mut copy))
    }

    /// From a slice of exactly 32 raw bytes (not clamped).
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let secret = SecretBytes::<32>::from_slice(bytes)
            .ok_or(KeyError::InvalidLength { expected: Self::LENGTH, got: bytes.len() })?;
        Ok(Self::from_secret_bytes(&secret))
    }
}

impl Ed25519SecretKey {
    /// Length of the seed in bytes.
    pub const LENGTH: usize = 32;

    /// From a 32-byte RFC 8032 seed (what libolm's `olm_pk_signing_key_from_seed` takes and
    /// vodozemac's `Ed25519SecretKey::from_slice` reads). The caller should wipe its copy.
    pub fn from_bytes(seed: &[u8; 32]) -> Self {
        let mut copy = *seed;
        Self::from_seed(SecretBytes::from_array(&mut copy))
    }

    /// From a slice of exactly 32 seed bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] for any other length.
    pub fn from_slice(seed: &[u8]) -> Result<Self, KeyError> {
        let secret = SecretBytes::<32>::from_slice(seed)
            .ok_or(KeyError::InvalidLength { expected: Self::LENGTH, got: seed.len() })?;
        Ok(Self::from_seed(secret))
    }

    /// The seed as unpadded base64 (43 characters), the form in which Matrix clients keep
    /// cross-signing keys in secret storage; `None` for a key that exists only in libolm's
    /// expanded form (it has no seed). The string is wiped when dropped.
    pub fn to_base64(&self) -> Option<Zeroizing<String>> {
        self.seed().map(|s| base64_encode_secret(s.expose()))
    }

    /// From the base64 of a 32-byte seed: 43 characters unpadded or 44 padded (clients have
    /// stored both), canonical in either case (non-zero trailing bits are refused, as vodozemac
    /// refuses them). Decoded into a buffer that is wiped.
    ///
    /// ```
    /// use caudata::primitives::Ed25519SecretKey;
    ///
    /// let key = Ed25519SecretKey::new();
    /// let text = key.to_base64().unwrap();
    /// let back = Ed25519SecretKey::from_base64(&text).unwrap();
    /// assert_eq!(back.public_key(), key.public_key());
    /// assert_eq!(Ed25519SecretKey::from_base64(&format!("{}=", *text)).unwrap().public_key(), key.public_key());
    /// ```
    ///
    /// # Errors
    /// [`KeyError::Base64`] for text that is not canonical base64, [`KeyError::InvalidLength`]
    /// when it does not decode to 32 bytes.
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        let bytes = base64_decode_secret(input).map_err(|_| KeyError::Base64)?;
        Self::from_slice(&bytes)
    }
}

/// An Ed25519 signing key pair: vodozemac's `Ed25519Keypair`, the type an account's or a Megolm
/// session's signing key has. Unlike [`Ed25519SecretKey`] as vodozemac defines it, the key may
/// exist only in libolm's 64-byte expanded form (an account imported from a libolm pickle), so
/// caudata's [`Ed25519SecretKey`] already is such a pair; this type wraps it so that the two
/// names keep their own identity (vodozemac stores them differently).
#[derive(Clone, Default)]
pub struct Ed25519Keypair(Ed25519SecretKey);

impl Ed25519Keypair {
    /// A fresh key pair from the operating system's randomness.
    pub fn new() -> Self {
        Self(Ed25519SecretKey::new())
    }

    /// A key pair whose 32-byte seed is drawn from `rng`.
    #[cfg(feature = "hazmat")]
    pub fn new_with_rng(rng: &mut impl RandomSource) -> Self {
        Self(Ed25519SecretKey::random(rng))
    }

    /// From libolm's 64-byte expanded form (clamped scalar ‖ nonce prefix).
    pub fn from_expanded(bytes: SecretBytes<64>) -> Self {
        Self(Ed25519SecretKey::from_expanded(bytes))
    }

    /// The public key.
    pub const fn public_key(&self) -> Ed25519PublicKey {
        self.0.public_key()
    }

    /// Signs `message` (deterministic RFC 8032 signature).
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        self.0.sign(message)
    }

    /// The secret key (seed or expanded form).
    pub fn secret_key(&self) -> &Ed25519SecretKey {
        &self.0
    }

    /// Whether the key exists only in libolm's expanded form (then it has no seed).
    pub fn is_expanded(&self) -> bool {
        self.0.seed().is_none()
    }
}

impl From<Ed25519SecretKey> for Ed25519Keypair {
    fn from(key: Ed25519SecretKey) -> Self {
        Self(key)
    }
}

impl From<Ed25519Keypair> for Ed25519SecretKey {
    fn from(pair: Ed25519Keypair) -> Self {
        pair.0
    }
}

impl core::fmt::Debug for Ed25519Keypair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self(key) = self;
        f.debug_struct("Ed25519Keypair").field("public", &key.public_key()).finish_non_exhaustive()
    }
}

/// vodozemac's serde shape for `Ed25519Keypair` (its `Ed25519KeypairPickle`): the externally
/// tagged `{"Normal": <32-byte seed>}` or `{"Expanded": <64 bytes>}`, as inside account and
/// group-session pickles.
#[cfg(feature = "serde")]
impl serde::Serialize for Ed25519Keypair {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::serde_with::keypair::serialize(&self.0, s)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Ed25519Keypair {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::serde_with::keypair::deserialize(d).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve25519_secret_bytes_are_kept_unclamped() {
        // every bit that clamping would change is set or cleared the "wrong" way
        let raw = [0xff; 32];
        let key = Curve25519SecretKey::from_bytes(&raw);
        assert_eq!(key.to_secret_bytes().expose(), &raw);
        let clamped = {
            let mut c = raw;
            c[0] &= 248;
            c[31] &= 127;
            c[31] |= 64;
            c
        };
        // the same scalar after clamping: the same public key, but the bytes stay distinct
        assert_eq!(Curve25519SecretKey::from_bytes(&clamped).public_key(), key.public_key());
        assert_eq!(Curve25519SecretKey::from_slice(&raw).unwrap().to_secret_bytes().expose(), &raw);
        assert_eq!(
            Curve25519SecretKey::from_slice(&raw[..31]).err(),
            Some(KeyError::InvalidLength { expected: 32, got: 31 })
        );
    }

    #[test]
    fn ed25519_keypairs_keep_their_key_and_form() {
        let seed_key = Ed25519SecretKey::from_bytes(&[0x22; 32]);
        let expanded = Ed25519Keypair::from_expanded(seed_key.expanded_bytes());
        assert!(expanded.is_expanded());
        assert_eq!(expanded.public_key(), seed_key.public_key());
        assert_eq!(expanded.secret_key().expanded_bytes(), seed_key.expanded_bytes());
        let sig = expanded.sign(b"message");
        assert_eq!(sig, seed_key.sign(b"message"));
        expanded.public_key().verify(b"message", &sig).unwrap();
        let pair = Ed25519Keypair::from(seed_key.clone());
        assert_eq!(pair.secret_key().seed(), seed_key.seed());
        assert_eq!(Ed25519SecretKey::from(pair).seed(), seed_key.seed());
        #[cfg(feature = "hazmat")]
        {
            struct Fixed;
            impl RandomSource for Fixed {
                fn fill(&mut self, dest: &mut [u8]) {
                    dest.fill(0x22);
                }
            }
            assert_eq!(Ed25519Keypair::new_with_rng(&mut Fixed).public_key(), seed_key.public_key());
        }
        // vodozemac's serde shape, in both forms
        #[cfg(feature = "serde")]
        for pair in [Ed25519Keypair::from(seed_key.clone()), expanded] {
            let json = serde_json::to_value(&pair).unwrap();
            let tag = if pair.is_expanded() { "Expanded" } else { "Normal" };
            assert_eq!(json[tag].as_array().map(Vec::len), Some(if pair.is_expanded() { 64 } else { 32 }));
            let back: Ed25519Keypair = serde_json::from_value(json).unwrap();
            assert_eq!((back.public_key(), back.is_expanded()), (pair.public_key(), pair.is_expanded()));
        }
    }

    #[test]
    fn ed25519_seed_base64_forms() {
        let seed = [0x11; 32];
        let key = Ed25519SecretKey::from_bytes(&seed);
        let text = key.to_base64().unwrap();
        assert_eq!(text.len(), 43);
        for form in [text.to_string(), format!("{}=", *text)] {
            let back = Ed25519SecretKey::from_base64(&form).unwrap();
            assert_eq!(back.seed().unwrap().expose(), &seed);
        }
        // non-canonical trailing bits, the URL-safe alphabet, whitespace, a short seed
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let last = ALPHABET.iter().position(|&c| c == text.as_bytes()[42]).unwrap();
        let mut bad = text[..42].to_string();
        bad.push(char::from(ALPHABET[last ^ 1])); // the same 4 data bits, a dropped bit set
        assert_eq!(Ed25519SecretKey::from_base64(&bad).err(), Some(KeyError::Base64));
        assert_eq!(Ed25519SecretKey::from_base64(&text.replacen('E', "-", 1)).err(), Some(KeyError::Base64));
        assert_eq!(Ed25519SecretKey::from_base64(&format!(" {}", *text)).err(), Some(KeyError::Base64));
        assert_eq!(
            Ed25519SecretKey::from_base64(&crate::primitives::base64_encode([1u8; 31])).err(),
            Some(KeyError::InvalidLength { expected: 32, got: 31 })
        );
        assert_eq!(
            Ed25519SecretKey::from_slice(&[0; 33]).err(),
            Some(KeyError::InvalidLength { expected: 32, got: 33 })
        );
        // an expanded-only key has no seed to export
        let expanded = Ed25519SecretKey::from_expanded(key.expanded_bytes());
        assert!(expanded.to_base64().is_none());
        assert!(Ed25519Keypair::from(expanded).is_expanded());
        assert!(!Ed25519Keypair::from(key).is_expanded());
    }

    #[test]
    fn debug_shows_the_public_key_only() {
        let pair = Ed25519Keypair::new();
        assert_eq!(format!("{pair:?}"), format!("Ed25519Keypair {{ public: {:?}, .. }}", pair.public_key()));
    }
}
