use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::{KeyError, SignatureError};

/// A session key or exported session key could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum SessionKeyDecodeError {
    /// The version byte is wrong: expected, then received.
    #[error("The session key had a invalid version, expected {0}, got {1}")]
    Version(u8, u8),
    /// The key is too short (or, for caudata, has bytes after its end).
    #[error("The session key was too short {0}")]
    Read(#[from] std::io::Error),
    /// The text is not unpadded base64.
    #[error("The session key wasn't valid base64: {0}")]
    Base64(#[from] base64ct::Error),
    /// The session key's signature does not verify.
    #[error("The signature on the session key was invalid: {0}")]
    Signature(#[from] SignatureError),
    /// The session's Ed25519 key is not a curve point.
    #[error("The public key of session was invalid: {0}")]
    PublicKey(#[from] KeyError),
}

impl SessionKeyDecodeError {
    fn from_core(e: caudata::megolm::SessionKeyDecodeError, input: Option<&str>) -> Self {
        use caudata::megolm::SessionKeyDecodeError as C;
        match e {
            C::Version { expected, got } => Self::Version(expected, got),
            C::Length { expected, got } if got < expected => {
                Self::Read(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "failed to fill whole buffer"))
            }
            C::Length { .. } => Self::Read(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bytes after the end of the session key",
            )),
            C::Signature => Self::Signature(SignatureError::invalid()),
            C::Key(k) => Self::PublicKey(KeyError::from_core(k, "Ed25519")),
            _ => Self::Base64(input.map_or(base64ct::Error::InvalidEncoding, unpadded_base64_error)),
        }
    }
}

/// The error base64ct's unpadded decoder gives for `input` (called once caudata refused it);
/// anything decoded is wiped.
fn unpadded_base64_error(input: &str) -> base64ct::Error {
    use base64ct::Encoding;
    match base64ct::Base64Unpadded::decode_vec(input) {
        Err(e) => e,
        Ok(mut bytes) => {
            bytes.zeroize();
            base64ct::Error::InvalidEncoding
        }
    }
}

/// Checks the version byte first, as vodozemac reads it.
fn check_version(bytes: &[u8], version: u8) -> Result<(), SessionKeyDecodeError> {
    match bytes.first() {
        Some(&v) if v != version => Err(SessionKeyDecodeError::Version(version, v)),
        _ => Ok(()),
    }
}

/// Decodes unpadded base64 only (as vodozemac reads session keys) into a buffer wiped after use.
fn decode_unpadded(key: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, SessionKeyDecodeError> {
    use base64ct::Encoding;
    let mut out = zeroize::Zeroizing::new(vec![0u8; key.len() / 4 * 3 + 3]);
    let len = base64ct::Base64Unpadded::decode(key.as_bytes(), &mut out)?.len();
    out.truncate(len);
    Ok(out)
}

/// A Megolm session exported without a signature (key backup, key forwarding, key export).
/// Wiped when dropped.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExportedSessionKey(pub(crate) caudata::megolm::ExportedSessionKey);

impl ExportedSessionKey {
    /// The binary form (165 bytes). The caller should wipe it.
    pub fn to_bytes(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.to_bytes())
    }

    /// Decodes the binary form.
    ///
    /// # Errors
    /// A [`SessionKeyDecodeError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionKeyDecodeError> {
        check_version(bytes, 1)?;
        caudata::megolm::ExportedSessionKey::from_bytes(bytes)
            .map(Self)
            .map_err(|e| SessionKeyDecodeError::from_core(e, None))
    }

    /// Unpadded base64. The caller should wipe it.
    pub fn to_base64(&self) -> String {
        std::mem::take(&mut *self.0.to_base64())
    }

    /// Decodes unpadded base64.
    ///
    /// # Errors
    /// A [`SessionKeyDecodeError`].
    pub fn from_base64(key: &str) -> Result<Self, SessionKeyDecodeError> {
        Self::from_bytes(&decode_unpadded(key)?)
    }
}

impl TryFrom<&[u8]> for ExportedSessionKey {
    type Error = SessionKeyDecodeError;

    fn try_from(value: &[u8]) -> Result<Self, Self::Error> {
        Self::from_bytes(value)
    }
}

impl TryFrom<&str> for ExportedSessionKey {
    type Error = SessionKeyDecodeError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::from_base64(value)
    }
}

/// A signed Megolm session key: what a group session's creator sends to the room. Wiped when
/// dropped.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionKey(pub(crate) caudata::megolm::SessionKey);

impl SessionKey {
    /// The binary form (229 bytes). The caller should wipe it.
    pub fn to_bytes(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.to_bytes())
    }

    /// Decodes the binary form and checks its signature.
    ///
    /// # Errors
    /// A [`SessionKeyDecodeError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionKeyDecodeError> {
        check_version(bytes, 2)?;
        caudata::megolm::SessionKey::from_bytes(bytes).map(Self).map_err(|e| SessionKeyDecodeError::from_core(e, None))
    }

    /// Unpadded base64. The caller should wipe it.
    pub fn to_base64(&self) -> String {
        std::mem::take(&mut *self.0.to_base64())
    }

    /// Decodes unpadded base64 and checks the signature.
    ///
    /// # Errors
    /// A [`SessionKeyDecodeError`].
    pub fn from_base64(key: &str) -> Result<Self, SessionKeyDecodeError> {
        Self::from_bytes(&decode_unpadded(key)?)
    }
}

impl TryFrom<&[u8]> for SessionKey {
    type Error = SessionKeyDecodeError;

    fn try_from(value: &[u8]) -> Result<Self, Self::Error> {
        Self::from_bytes(value)
    }
}

impl TryFrom<&str> for SessionKey {
    type Error = SessionKeyDecodeError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::from_base64(value)
    }
}

impl Zeroize for ExportedSessionKey {
    /// Wipes the ratchet in place (the signing key is public and kept).
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Zeroize for SessionKey {
    /// Wipes the ratchet in place (the signing key and signature are public and kept).
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for ExportedSessionKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl Drop for SessionKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}
