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
        // other work, so no separate `is_weak` check is made;
        // `tests/attacks.rs::attack_megolm_session_key_with_small_order_signing_key` holds it to that.
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
pub(crate) enum SecretForm {
    /// A 32-byte RFC 8032 seed.
    Seed(SecretBytes<32>),
    /// libolm's 64-byte expanded form (clamped scalar ‖ nonce prefix).
    Expanded(SecretBytes<64>),
}

impl SecretForm {
    /// The scalar and nonce prefix signing uses (a SHA-512 of the seed at most).
    fn expand(&self) -> ExpandedSecretKey {
        match self {
            Self::Seed(s) => ExpandedSecretKey::from(s.expose()),
            Self::Expanded(e) => ExpandedSecretKey::from_bytes(e.expose()),
        }
    }
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
        Self::from_form(SecretForm::Seed(seed), None)
    }

    /// From libolm's 64-byte expanded form (clamped scalar ‖ nonce prefix).
    pub fn from_expanded(bytes: SecretBytes<64>) -> Self {
        Self::from_form(SecretForm::Expanded(bytes), None)
    }

    /// From either form, with the public key derived (`None`: one base-point multiplication)
    /// or taken as given.
    ///
    /// A given public key must have been stored together with this secret in an authenticated
    /// container (caudata's pickle). A wrong public key is not harmless: RFC 8032's nonce
    /// depends on the secret and the message only, so two signatures of one message under two
    /// different public keys reveal the secret scalar. Whoever could substitute the stored
    /// public key could already read the stored secret beside it.
    pub(crate) fn from_form(form: SecretForm, public: Option<Ed25519PublicKey>) -> Self {
        let expanded = Box::new(form.expand());
        let public = public.map_or_else(|| VerifyingKey::from(&*expanded), |p| p.0);
        Self { form, expanded, public }
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
    pub const fn public_key(&self) -> Ed25519PublicKey {
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
        Self { form: self.form.clone(), expanded: Box::new(self.form.expand()), public: self.public }
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
