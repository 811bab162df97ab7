//! Keys, signatures and key ids, with vodozemac's methods, `Debug`/`Display` forms and serde
//! shapes; each wraps caudata's type, which does the work.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::utilities::{base64_decode, base64_encode, decoded_len_estimate};

/// The length a key or signature has as unpadded base64 (32 bytes: 43 characters).
const BASE64_32: usize = 43;
/// The same, padded.
const PADDED_BASE64_32: usize = 44;

// ---------------------------------------------------------------- errors

/// A key could not be decoded or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A public key's base64 is invalid.
    #[error("Failed to decode a public key from Base64: {0}")]
    Base64Error(#[from] base64::DecodeError),
    /// A private key's base64 is invalid.
    #[error("Failed to decode a private key from Base64: {0}")]
    Base64PrivateKey(#[from] base64ct::Error),
    /// The key has the wrong number of bytes.
    #[error(
        "Failed to decode {key_type} key from Base64: \
        Invalid number of bytes for {key_type}, expected {expected_length}, got {length}."
    )]
    InvalidKeyLength {
        /// `"Curve25519"` or `"Ed25519"`.
        key_type: &'static str,
        /// The length a key of this type has.
        expected_length: usize,
        /// The length received (for base64 input, the length it would decode to).
        length: usize,
    },
    /// An Ed25519 public key that is not a curve point.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// Diffie-Hellman with the key gives the all-zero result (a small-order key).
    #[error(
        "One or more keys lacked contributory behavior in the Diffie-Hellman operation, \
         resulting in an insecure shared secret"
    )]
    NonContributoryKey,
}

/// A signature could not be decoded, or does not verify.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The signature's base64 is invalid.
    #[error("The signature couldn't be decoded: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The signature is malformed or does not verify (strict RFC 8032 verification).
    #[error("The signature was invalid: {0}")]
    Signature(#[from] ed25519_dalek::SignatureError),
}

impl SignatureError {
    /// ed25519-dalek's opaque error, as vodozemac reports every failed or malformed signature.
    pub(crate) fn invalid() -> Self {
        Self::Signature(ed25519_dalek::SignatureError::new())
    }
}

impl KeyError {
    /// caudata's key error, told which type of key was being read.
    pub(crate) fn from_core(e: caudata::KeyError, key_type: &'static str) -> Self {
        use caudata::KeyError as C;
        match e {
            C::InvalidLength { expected, got } => {
                Self::InvalidKeyLength { key_type, expected_length: expected, length: got }
            }
            C::InvalidPoint => Self::Signature(SignatureError::invalid()),
            C::Base64 => Self::Base64Error(base64::DecodeError::InvalidPadding),
            // `NonContributory`, and the interolm-only variants, which Matrix keys never reach.
            _ => Self::NonContributoryKey,
        }
    }

    fn length(key_type: &'static str, expected_length: usize, base64_len: usize) -> Self {
        Self::InvalidKeyLength { key_type, expected_length, length: decoded_len_estimate(base64_len) }
    }
}

// ---------------------------------------------------------------- Curve25519

/// A Curve25519 public key.
#[derive(PartialEq, Eq, Hash, Copy, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Curve25519PublicKey {
    pub(crate) inner: caudata::Curve25519PublicKey,
}

impl Curve25519PublicKey {
    /// The length in bytes.
    pub const LENGTH: usize = 32;

    pub(crate) const fn from_core(inner: caudata::Curve25519PublicKey) -> Self {
        Self { inner }
    }

    /// A copy of the 32 bytes.
    #[inline]
    pub fn to_bytes(&self) -> [u8; Self::LENGTH] {
        self.inner.to_bytes()
    }

    /// The 32 bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8; Self::LENGTH] {
        self.inner.as_bytes()
    }

    /// The 32 bytes in a vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.inner.as_bytes().to_vec()
    }

    /// From 32 bytes (any 32 bytes; a small-order key is refused where it is used).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self::from_core(caudata::Curve25519PublicKey::from_bytes(bytes))
    }

    /// From base64 of 43 (unpadded) or 44 (padded) characters.
    ///
    /// # Errors
    /// [`KeyError::InvalidKeyLength`] for another length, [`KeyError::Base64Error`] for text
    /// that is not base64.
    pub fn from_base64(input: &str) -> Result<Curve25519PublicKey, KeyError> {
        if input.len() != BASE64_32 && input.len() != PADDED_BASE64_32 {
            Err(KeyError::length("Curve25519", Self::LENGTH, input.len()))
        } else {
            Self::from_slice(&base64_decode(input)?)
        }
    }

    /// From a slice of exactly 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidKeyLength`] for another length.
    pub fn from_slice(slice: &[u8]) -> Result<Curve25519PublicKey, KeyError> {
        caudata::Curve25519PublicKey::from_slice(slice)
            .map(Self::from_core)
            .map_err(|e| KeyError::from_core(e, "Curve25519"))
    }

    /// Unpadded base64.
    pub fn to_base64(&self) -> String {
        base64_encode(self.inner.as_bytes())
    }
}

impl fmt::Display for Curve25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for Curve25519PublicKey {
    /// `"curve25519:<base64>"`, quoted, as vodozemac prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&format!("curve25519:{self}"), f)
    }
}

impl matrix_pickle::Decode for Curve25519PublicKey {
    /// 32 bytes, as in libolm's pickles.
    fn decode(reader: &mut impl std::io::Read) -> Result<Self, matrix_pickle::DecodeError> {
        let mut bytes = [0u8; 32];
        reader.read_exact(&mut bytes)?;
        Ok(Self::from_bytes(bytes))
    }
}

impl From<[u8; Self::LENGTH]> for Curve25519PublicKey {
    fn from(bytes: [u8; Self::LENGTH]) -> Curve25519PublicKey {
        Self::from_bytes(bytes)
    }
}

impl<'a> From<&'a Curve25519SecretKey> for Curve25519PublicKey {
    fn from(secret: &'a Curve25519SecretKey) -> Curve25519PublicKey {
        Self::from_core(secret.0.public_key())
    }
}

impl<'a> From<&'a x25519_dalek::EphemeralSecret> for Curve25519PublicKey {
    fn from(secret: &'a x25519_dalek::EphemeralSecret) -> Curve25519PublicKey {
        Self::from_bytes(x25519_dalek::PublicKey::from(secret).to_bytes())
    }
}

impl<'a> From<&'a x25519_dalek::ReusableSecret> for Curve25519PublicKey {
    fn from(secret: &'a x25519_dalek::ReusableSecret) -> Curve25519PublicKey {
        Self::from_bytes(x25519_dalek::PublicKey::from(secret).to_bytes())
    }
}

/// A Curve25519 secret key, wiped when dropped. Its bytes are kept as given (not clamped).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Curve25519SecretKey(pub(crate) caudata::Curve25519SecretKey);

impl Curve25519SecretKey {
    /// A fresh random key.
    pub fn new() -> Self {
        Self(caudata::Curve25519SecretKey::new())
    }

    /// From its 32 raw bytes (not clamped). The caller should wipe its copy.
    pub fn from_slice(bytes: &[u8; 32]) -> Self {
        Self(caudata::Curve25519SecretKey::from_bytes(bytes))
    }

    /// X25519 with `their_public_key`; `None` when the result is all zeros (a small-order key).
    pub fn diffie_hellman(&self, their_public_key: &Curve25519PublicKey) -> Option<SharedSecret> {
        self.0.diffie_hellman(&their_public_key.inner).ok().map(SharedSecret)
    }

    /// A copy of the 32 raw bytes. The caller should wipe it.
    pub fn to_bytes(&self) -> Box<[u8; 32]> {
        Box::new(*self.0.to_secret_bytes().expose())
    }
}

impl Default for Curve25519SecretKey {
    fn default() -> Self {
        Self::new()
    }
}

/// A contributory X25519 shared secret, wiped when dropped.
pub struct SharedSecret(caudata::SharedSecret);

impl SharedSecret {
    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.expose()
    }

    /// A copy of the 32 bytes. The caller should wipe it.
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.0.expose()
    }

    /// Whether the secret is not all zeros: always, since caudata refuses the others.
    pub fn was_contributory(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------- Ed25519

/// An Ed25519 public key.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(transparent)]
pub struct Ed25519PublicKey(pub(crate) caudata::Ed25519PublicKey);

impl Ed25519PublicKey {
    /// The length in bytes.
    pub const LENGTH: usize = 32;

    /// From 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::Signature`] if the bytes are not a curve point.
    pub fn from_slice(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        caudata::Ed25519PublicKey::from_bytes(bytes).map(Self).map_err(|e| KeyError::from_core(e, "Ed25519"))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; Self::LENGTH] {
        self.0.as_bytes()
    }

    /// From base64 of 43 (unpadded) or 44 (padded) characters.
    ///
    /// # Errors
    /// [`KeyError::InvalidKeyLength`], [`KeyError::Base64Error`] or [`KeyError::Signature`].
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        if input.len() != BASE64_32 && input.len() != PADDED_BASE64_32 {
            return Err(KeyError::length("Ed25519", Self::LENGTH, input.len()));
        }
        let bytes = base64_decode(input)?;
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyError::InvalidKeyLength {
            key_type: "Ed25519",
            expected_length: Self::LENGTH,
            length: bytes.len(),
        })?;
        Self::from_slice(&bytes)
    }

    /// Unpadded base64.
    pub fn to_base64(&self) -> String {
        base64_encode(self.as_bytes())
    }

    /// Strict RFC 8032 verification of `signature` over `message`.
    ///
    /// # Errors
    /// [`SignatureError::Signature`] if it does not verify.
    pub fn verify(&self, message: &[u8], signature: &Ed25519Signature) -> Result<(), SignatureError> {
        self.0.verify(message, &signature.0).map_err(|_| SignatureError::invalid())
    }
}

impl fmt::Display for Ed25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for Ed25519PublicKey {
    /// `"ed25519:<base64>"`, quoted, as vodozemac prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&format!("ed25519:{self}"), f)
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ed25519Signature(pub(crate) caudata::Ed25519Signature);

impl Ed25519Signature {
    /// The length in bytes.
    pub const LENGTH: usize = 64;

    /// From a slice of exactly 64 bytes.
    ///
    /// # Errors
    /// [`SignatureError::Signature`] for another length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SignatureError> {
        caudata::Ed25519Signature::from_slice(bytes).map(Self).map_err(|_| SignatureError::invalid())
    }

    /// From base64.
    ///
    /// # Errors
    /// [`SignatureError::Base64`] or [`SignatureError::Signature`].
    pub fn from_base64(signature: &str) -> Result<Self, SignatureError> {
        Self::from_slice(&base64_decode(signature)?)
    }

    /// Unpadded base64.
    pub fn to_base64(&self) -> String {
        base64_encode(self.0.to_bytes())
    }

    /// The 64 bytes.
    pub fn to_bytes(&self) -> [u8; Self::LENGTH] {
        self.0.to_bytes()
    }
}

impl fmt::Display for Ed25519Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl fmt::Debug for Ed25519Signature {
    /// `"ed25519:<base64>"`, quoted, as vodozemac prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&format!("ed25519:{self}"), f)
    }
}

/// An Ed25519 secret key: a 32-byte RFC 8032 seed, wiped when dropped.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ed25519SecretKey(caudata::Ed25519SecretKey);

impl Ed25519SecretKey {
    /// The length of the seed in bytes.
    pub const LENGTH: usize = 32;

    /// A fresh random key.
    pub fn new() -> Self {
        Self(caudata::Ed25519SecretKey::new())
    }

    /// A copy of the seed. The caller should wipe it.
    pub fn to_bytes(&self) -> Box<[u8; 32]> {
        // Every key of this type is made from a seed (`new`, `from_slice`, `from_base64`,
        // serde), never from libolm's expanded form, so the seed is always there.
        Box::new(self.0.seed().map_or([0; 32], |s| *s.expose()))
    }

    /// From a 32-byte seed. The caller should wipe its copy.
    pub fn from_slice(bytes: &[u8; 32]) -> Self {
        Self(caudata::Ed25519SecretKey::from_bytes(bytes))
    }

    /// The seed as unpadded base64.
    pub fn to_base64(&self) -> String {
        self.0.to_base64().map(|s| s.to_string()).unwrap_or_default()
    }

    /// From the base64 of a seed: 43 characters unpadded or 44 padded.
    ///
    /// # Errors
    /// [`KeyError::InvalidKeyLength`] for another length, [`KeyError::Base64PrivateKey`] for
    /// text that is not canonical base64.
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        if input.len() != BASE64_32 && input.len() != PADDED_BASE64_32 {
            return Err(KeyError::length("Ed25519", Self::LENGTH, input.len()));
        }
        caudata::Ed25519SecretKey::from_base64(input).map(Self).map_err(|e| match e {
            caudata::KeyError::Base64 => KeyError::Base64PrivateKey(private_key_base64_error(input)),
            other => KeyError::from_core(other, "Ed25519"),
        })
    }

    /// The public key.
    pub fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.0.public_key())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        Ed25519Signature(self.0.sign(message))
    }
}

impl Default for Ed25519SecretKey {
    fn default() -> Self {
        Self::new()
    }
}

/// The error base64ct gives for text caudata refused as a private key (the padded decoder's,
/// the last one vodozemac tries). Only reached for invalid text; a buffer decoded anyway is
/// wiped.
fn private_key_base64_error(input: &str) -> base64ct::Error {
    use base64ct::Encoding;
    match base64ct::Base64::decode_vec(input) {
        Err(e) => e,
        Ok(mut bytes) => {
            bytes.zeroize();
            base64ct::Error::InvalidEncoding
        }
    }
}

/// An Ed25519 key pair: the signing key of an account or of a Megolm session (possibly in
/// libolm's expanded form, for keys imported from libolm).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ed25519Keypair(pub(crate) caudata::Ed25519Keypair);

impl Ed25519Keypair {
    /// A fresh random key pair.
    pub fn new() -> Self {
        Self(caudata::Ed25519Keypair::new())
    }

    /// The public key.
    pub const fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.0.public_key())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        Ed25519Signature(self.0.sign(message))
    }
}

impl Default for Ed25519Keypair {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------- key ids

/// The id of a one-time or fallback key: a counter, published as base64 of its 8 big-endian
/// bytes.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyId(pub(crate) u64);

impl From<KeyId> for String {
    fn from(value: KeyId) -> String {
        value.to_base64()
    }
}

impl KeyId {
    /// Unpadded base64 of the 8 big-endian bytes.
    pub fn to_base64(self) -> String {
        base64_encode(self.0.to_be_bytes())
    }
}

impl From<caudata::KeyId> for KeyId {
    fn from(id: caudata::KeyId) -> Self {
        Self(id.0)
    }
}
