//! Ed25519: signing from a seed or from libolm's expanded key, and strict verification.

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::Sha512;

use super::base64::{base64_decode, base64_encode};
use super::rng::RandomSource;
use super::secret::SecretBytes;
use crate::error::{KeyError, SignatureError};

/// An Ed25519 public key. Construction checks that the bytes decode to a curve point; strict
/// verification additionally refuses small-order keys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ed25519PublicKey(VerifyingKey);

impl Ed25519PublicKey {
    /// Length in bytes.
    pub const LENGTH: usize = 32;

    /// From 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidPoint`] if the bytes are not a compressed Edwards point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        VerifyingKey::from_bytes(bytes).map(Self).map_err(|_| KeyError::InvalidPoint)
    }

    /// From a slice of exactly 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] or [`KeyError::InvalidPoint`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::InvalidLength { expected: 32, got: bytes.len() })?;
        Self::from_bytes(&arr)
    }

    /// From base64.
    ///
    /// # Errors
    /// [`KeyError::Base64`], [`KeyError::InvalidLength`] or [`KeyError::InvalidPoint`].
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        let bytes = base64_decode(input).map_err(|_| KeyError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Unpadded base64.
    pub fn to_base64(&self) -> String {
        base64_encode(self.0.as_bytes())
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Strict RFC 8032 verification: refuses non-canonical `S` (S ≥ L, the malleability that
    /// libolm accepts, CVE-2024-45193), non-canonical `R` and small-order public keys.
    ///
    /// # Errors
    /// [`SignatureError::Invalid`] if the signature does not verify.
    pub fn verify(&self, message: &[u8], signature: &Ed25519Signature) -> Result<(), SignatureError> {
        // `verify_strict` itself refuses a small-order key (and a small-order `R`) before any
        // other work; the tests below hold it to that, so no separate `is_weak` check is made.
        let sig = Signature::from_bytes(&signature.0);
        self.0.verify_strict(message, &sig).map_err(|_| SignatureError::Invalid)
    }
}

impl core::fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Ed25519PublicKey({})", self.to_base64())
    }
}

impl core::fmt::Display for Ed25519PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// A 64-byte Ed25519 signature (`R ‖ S`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ed25519Signature(pub(crate) [u8; 64]);

impl Ed25519Signature {
    /// Length in bytes.
    pub const LENGTH: usize = 64;

    /// From 64 bytes (checked only when verified).
    pub const fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// From a slice of exactly 64 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 64] = bytes.try_into().map_err(|_| KeyError::InvalidLength { expected: 64, got: bytes.len() })?;
        Ok(Self(arr))
    }

    /// From base64.
    ///
    /// # Errors
    /// [`KeyError::Base64`] or [`KeyError::InvalidLength`].
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        let bytes = base64_decode(input).map_err(|_| KeyError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Unpadded base64.
    pub fn to_base64(&self) -> String {
        base64_encode(self.0)
    }

    /// The 64 bytes.
    pub const fn to_bytes(&self) -> [u8; 64] {
        self.0
    }
}

impl core::fmt::Debug for Ed25519Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Ed25519Signature({})", self.to_base64())
    }
}

/// The form an Ed25519 secret key was created in. libolm pickles store only the expanded
/// form (clamped scalar ‖ nonce prefix), so an imported key has no seed.
#[derive(Clone)]
enum SecretForm {
    Seed(SecretBytes<32>),
    Expanded(SecretBytes<64>),
}

/// An Ed25519 secret key, wiped on drop.
pub struct Ed25519SecretKey {
    form: SecretForm,
    expanded: Box<ExpandedSecretKey>,
    public: VerifyingKey,
}

impl Ed25519SecretKey {
    /// A fresh key from the operating system's randomness.
    pub fn new() -> Self {
        Self::random(&mut super::rng::OsRandom)
    }

    /// A key from a 32-byte seed drawn from `rng`.
    pub fn random(rng: &mut impl RandomSource) -> Self {
        Self::from_seed(SecretBytes::random(rng))
    }

    /// From a 32-byte RFC 8032 seed.
    pub fn from_seed(seed: SecretBytes<32>) -> Self {
        let expanded = Box::new(ExpandedSecretKey::from(seed.expose()));
        let public = VerifyingKey::from(&*expanded);
        Self { form: SecretForm::Seed(seed), expanded, public }
    }

    /// From libolm's 64-byte expanded form (clamped scalar ‖ nonce prefix).
    pub fn from_expanded(bytes: SecretBytes<64>) -> Self {
        let expanded = Box::new(ExpandedSecretKey::from_bytes(bytes.expose()));
        let public = VerifyingKey::from(&*expanded);
        Self { form: SecretForm::Expanded(bytes), expanded, public }
    }

    /// From a seed and its public key, taken as given: no base-point multiplication.
    ///
    /// Only for a public key that was stored together with this secret in an authenticated
    /// container (caudata's pickle). A wrong public key is not harmless: RFC 8032's nonce
    /// depends on the secret and the message only, so two signatures of one message under
    /// two different public keys reveal the secret scalar. Whoever could substitute the
    /// stored public key could already read the stored secret beside it.
    pub(crate) fn from_seed_and_public(seed: SecretBytes<32>, public: Ed25519PublicKey) -> Self {
        let expanded = Box::new(ExpandedSecretKey::from(seed.expose()));
        Self { form: SecretForm::Seed(seed), expanded, public: public.0 }
    }

    /// From libolm's expanded form and its public key, taken as given (see
    /// [`Self::from_seed_and_public`]).
    pub(crate) fn from_expanded_and_public(bytes: SecretBytes<64>, public: Ed25519PublicKey) -> Self {
        let expanded = Box::new(ExpandedSecretKey::from_bytes(bytes.expose()));
        Self { form: SecretForm::Expanded(bytes), expanded, public: public.0 }
    }

    /// The seed, when the key was made from one.
    pub fn seed(&self) -> Option<&SecretBytes<32>> {
        match &self.form {
            SecretForm::Seed(s) => Some(s),
            SecretForm::Expanded(_) => None,
        }
    }

    /// The 64-byte expanded form (`SHA-512(seed)` with the scalar clamped, as libolm stores it).
    pub fn expanded_bytes(&self) -> SecretBytes<64> {
        match &self.form {
            SecretForm::Expanded(e) => e.clone(),
            SecretForm::Seed(s) => {
                use sha2::Digest;
                let mut h: [u8; 64] = Sha512::digest(s.expose()).into();
                h[0] &= 248;
                h[31] &= 127;
                h[31] |= 64;
                SecretBytes::from_array(&mut h)
            }
        }
    }

    /// The public key.
    pub fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.public)
    }

    /// Signs `message` (deterministic RFC 8032 signature).
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        Ed25519Signature(raw_sign::<Sha512>(&self.expanded, message, &self.public).to_bytes())
    }
}

impl Clone for Ed25519SecretKey {
    /// Copies the key without recomputing the public key (a base-point multiplication): the
    /// expanded form is re-parsed (a SHA-512 at most), the public key copied.
    fn clone(&self) -> Self {
        let expanded = match &self.form {
            SecretForm::Seed(s) => ExpandedSecretKey::from(s.expose()),
            SecretForm::Expanded(e) => ExpandedSecretKey::from_bytes(e.expose()),
        };
        Self { form: self.form.clone(), expanded: Box::new(expanded), public: self.public }
    }
}

impl Default for Ed25519SecretKey {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Ed25519SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ed25519SecretKey").field("public", &self.public_key()).finish_non_exhaustive()
    }
}
