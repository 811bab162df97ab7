//! X25519 keys and Diffie-Hellman with the contributory check.

use std::sync::OnceLock;

use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

use super::base64::{Base64DecodeError, base64_decode, base64_encode};
use super::rng::RandomSource;
use super::secret::SecretBytes;
use crate::error::KeyError;

/// A Curve25519 public key (32 bytes, Montgomery u-coordinate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Curve25519PublicKey([u8; 32]);

impl Curve25519PublicKey {
    /// Length in bytes.
    pub const LENGTH: usize = 32;

    /// Wraps 32 bytes. Any 32 bytes are accepted here; a key that yields a non-contributory
    /// shared secret is refused when it is used in Diffie-Hellman.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// From a slice of exactly 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::InvalidLength { expected: 32, got: bytes.len() })?;
        Ok(Self(arr))
    }

    /// From unpadded (or padded) base64.
    ///
    /// # Errors
    /// [`KeyError::Base64`] or [`KeyError::InvalidLength`].
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        let bytes = base64_decode(input).map_err(|_: Base64DecodeError| KeyError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Unpadded base64, as Matrix publishes keys.
    pub fn to_base64(&self) -> String {
        base64_encode(self.0)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A copy of the 32 bytes.
    pub const fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
}

impl core::fmt::Debug for Curve25519PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Curve25519PublicKey({})", self.to_base64())
    }
}

impl core::fmt::Display for Curve25519PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl From<[u8; 32]> for Curve25519PublicKey {
    fn from(b: [u8; 32]) -> Self {
        Self(b)
    }
}

/// A Curve25519 secret key, wiped on drop (`StaticSecret` zeroizes itself). Its public key is
/// derived once, on first use, and kept beside it (a base-point multiplication saved on every
/// later use: session set-up, bundles, pickles).
#[derive(Clone)]
pub struct Curve25519SecretKey(Box<KeyPair>);

#[derive(Clone)]
struct KeyPair {
    secret: StaticSecret,
    public: OnceLock<[u8; 32]>,
}

impl KeyPair {
    fn new(secret: StaticSecret) -> Self {
        Self { secret, public: OnceLock::new() }
    }
}

impl Curve25519SecretKey {
    /// A fresh random key.
    pub fn new() -> Self {
        Self::random(&mut super::rng::OsRandom)
    }

    /// A key from the given random source (32 bytes are drawn, as libolm does).
    pub fn random(rng: &mut impl RandomSource) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        let s = Self(Box::new(KeyPair::new(StaticSecret::from(bytes))));
        bytes.zeroize();
        s
    }

    /// From secret bytes (as stored in a pickle).
    pub fn from_secret_bytes(bytes: &SecretBytes<32>) -> Self {
        Self(Box::new(KeyPair::new(StaticSecret::from(*bytes.expose()))))
    }

    /// From secret bytes and the public key stored beside them (caudata's pickles since
    /// format version 2): no base-point multiplication. The caller vouches
    /// that `public` belongs to the secret (the pickle was authenticated, or is the caller's).
    pub(crate) fn from_secret_bytes_and_public(bytes: &SecretBytes<32>, public: Curve25519PublicKey) -> Self {
        let pair = KeyPair { secret: StaticSecret::from(*bytes.expose()), public: OnceLock::from(public.0) };
        Self(Box::new(pair))
    }

    /// The secret bytes, for pickling. The result zeroizes on drop.
    pub fn to_secret_bytes(&self) -> SecretBytes<32> {
        let mut b = self.0.secret.to_bytes();
        SecretBytes::from_array(&mut b)
    }

    /// The matching public key.
    pub fn public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey(*self.0.public.get_or_init(|| PublicKey::from(&self.0.secret).to_bytes()))
    }

    /// X25519 with `their` public key.
    ///
    /// # Errors
    /// [`KeyError::NonContributory`] when the result is all zeros (the peer's key has small
    /// order), which libolm would accept: see SPEC.md.
    pub fn diffie_hellman(&self, their: &Curve25519PublicKey) -> Result<SharedSecret, KeyError> {
        let shared = self.0.secret.diffie_hellman(&PublicKey::from(their.0));
        if !shared.was_contributory() {
            return Err(KeyError::NonContributory);
        }
        let mut b = shared.to_bytes();
        Ok(SharedSecret(SecretBytes::from_array(&mut b)))
    }
}

impl Default for Curve25519SecretKey {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Curve25519SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Curve25519SecretKey").field("public", &self.public_key()).finish_non_exhaustive()
    }
}

/// A contributory X25519 shared secret, wiped on drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedSecret(SecretBytes<32>);

impl SharedSecret {
    /// The 32 secret bytes.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose()
    }
}
