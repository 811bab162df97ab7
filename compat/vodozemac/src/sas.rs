//! SAS verification (`m.sas.v1`): the short authentication string and the MACs, as vodozemac
//! 0.11.1 names and shapes them; caudata's `sas` module does the work.

use hmac::digest::MacError;

use crate::{Curve25519PublicKey, KeyError, base64_decode, base64_encode};

/// A SAS MAC (any bytes, as received; a valid one is 32 bytes).
pub struct Mac(Vec<u8>);

impl Mac {
    /// Unpadded base64.
    pub fn to_base64(&self) -> String {
        base64_encode(&self.0)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// From bytes (of any length; a MAC that is not 32 bytes does not verify).
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// From base64 (padding optional).
    ///
    /// # Errors
    /// The base64 error.
    pub fn from_base64(mac: &str) -> Result<Self, base64::DecodeError> {
        Ok(Self(base64_decode(mac)?))
    }
}

/// More SAS bytes were asked for than HKDF-SHA-256 can give (255 × 32).
#[derive(Debug, Clone, thiserror::Error)]
#[error("The given count of bytes was too large")]
pub struct InvalidCount;

/// A SAS MAC did not verify.
#[derive(Debug, thiserror::Error)]
pub enum SasError {
    /// The MAC is wrong (or not 32 bytes).
    #[error("The SAS MAC validation didn't succeed: {0}")]
    Mac(#[from] MacError),
}

/// Our side of a SAS verification before the other side's key is known.
pub struct Sas {
    inner: caudata::sas::Sas,
    public_key: Curve25519PublicKey,
}

/// A SAS verification with the shared secret established.
pub struct EstablishedSas(caudata::sas::EstablishedSas);

impl std::fmt::Debug for EstablishedSas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstablishedSas")
            .field("our_public_key", &self.0.our_public_key().to_base64())
            .field("their_public_key", &self.0.their_public_key().to_base64())
            .finish_non_exhaustive()
    }
}

/// The six bytes a SAS is shown from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SasBytes {
    bytes: [u8; 6],
}

impl SasBytes {
    /// The seven emoji indices (0–63).
    pub fn emoji_indices(&self) -> [u8; 7] {
        caudata::sas::SasBytes::from_bytes(self.bytes).emoji_indices()
    }

    /// The three decimals (1000–9191).
    pub fn decimals(&self) -> (u16, u16, u16) {
        caudata::sas::SasBytes::from_bytes(self.bytes).decimals()
    }

    /// The six bytes.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.bytes
    }
}

impl Default for Sas {
    fn default() -> Self {
        Self::new()
    }
}

impl Sas {
    /// A fresh ephemeral key.
    pub fn new() -> Self {
        let inner = caudata::sas::Sas::new();
        let public_key = Curve25519PublicKey::from_core(inner.public_key());
        Self { inner, public_key }
    }

    /// Our public key, to send to the other side.
    pub const fn public_key(&self) -> Curve25519PublicKey {
        self.public_key
    }

    /// Establishes the shared secret with the other side's key.
    ///
    /// # Errors
    /// [`KeyError::NonContributoryKey`] for a small-order key.
    pub fn diffie_hellman(self, their_public_key: Curve25519PublicKey) -> Result<EstablishedSas, KeyError> {
        self.inner
            .diffie_hellman(their_public_key.inner)
            .map(EstablishedSas)
            .map_err(|e| KeyError::from_core(e, "Curve25519"))
    }

    /// [`Sas::diffie_hellman`] with the other side's key in base64.
    ///
    /// # Errors
    /// The key's decode error, or [`KeyError::NonContributoryKey`].
    pub fn diffie_hellman_with_raw(self, other_public_key: &str) -> Result<EstablishedSas, KeyError> {
        let other_public_key = Curve25519PublicKey::from_base64(other_public_key)?;
        self.diffie_hellman(other_public_key)
    }
}

impl EstablishedSas {
    /// The six SAS bytes for `info`.
    pub fn bytes(&self, info: &str) -> SasBytes {
        SasBytes { bytes: *self.0.bytes(info).as_bytes() }
    }

    /// `count` bytes of HKDF output for `info`.
    ///
    /// # Errors
    /// [`InvalidCount`] beyond 255 × 32 bytes.
    pub fn bytes_raw(&self, info: &str, count: usize) -> Result<Vec<u8>, InvalidCount> {
        self.0.bytes_raw(info, count).map_err(|_| InvalidCount)
    }

    /// The MAC of `input` under the key for `info` (`hkdf-hmac-sha256.v2`).
    pub fn calculate_mac(&self, input: &str, info: &str) -> Mac {
        Mac(self.0.calculate_mac(input, info).as_bytes().to_vec())
    }

    /// libolm's `hkdf-hmac-sha256` MAC: base64 of the MAC computed in place, which is not
    /// valid base64.
    #[cfg(feature = "libolm-compat")]
    pub fn calculate_mac_invalid_base64(&self, input: &str, info: &str) -> String {
        self.0.calculate_mac_invalid_base64(input, info)
    }

    /// Checks a MAC made with [`EstablishedSas::calculate_mac`] (constant time).
    ///
    /// # Errors
    /// [`SasError::Mac`] if it does not verify.
    pub fn verify_mac(&self, input: &str, info: &str, tag: &Mac) -> Result<(), SasError> {
        let tag = caudata::sas::Mac::from_slice(&tag.0).map_err(|_| SasError::Mac(MacError))?;
        self.0.verify_mac(input, info, &tag).map_err(|_| SasError::Mac(MacError))
    }

    /// Our public key.
    pub const fn our_public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.0.our_public_key())
    }

    /// The other side's public key.
    pub const fn their_public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.0.their_public_key())
    }
}
