use std::fmt;

use serde::{Deserialize, Serialize};

use crate::convert::decode_error;
use crate::{DecodeError, Ed25519Signature, base64_decode, base64_encode};

/// The newest Megolm message version (32-byte MAC); version 3 (8-byte MAC) is read too.
const VERSION: u8 = 4;

/// A Megolm message.
#[derive(Clone, PartialEq, Eq)]
pub struct MegolmMessage {
    pub(crate) inner: caudata::megolm::MegolmMessage,
    signature: Ed25519Signature,
}

impl MegolmMessage {
    pub(crate) fn from_core(inner: caudata::megolm::MegolmMessage) -> Self {
        let signature = Ed25519Signature(inner.signature());
        Self { inner, signature }
    }

    /// The ciphertext.
    pub fn ciphertext(&self) -> &[u8] {
        self.inner.ciphertext()
    }

    /// The message index.
    pub const fn message_index(&self) -> u32 {
        self.inner.message_index()
    }

    /// The MAC (8 or 32 bytes).
    pub fn mac(&self) -> &[u8] {
        self.inner.mac()
    }

    /// The sender's signature.
    pub const fn signature(&self) -> &Ed25519Signature {
        &self.signature
    }

    /// Decodes the binary form.
    ///
    /// # Errors
    /// A [`DecodeError`].
    pub fn from_bytes(message: &[u8]) -> Result<Self, DecodeError> {
        Self::try_from(message)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Decodes the base64 form (padding optional).
    ///
    /// # Errors
    /// A [`DecodeError`].
    pub fn from_base64(message: &str) -> Result<Self, DecodeError> {
        Self::try_from(message)
    }

    /// The unpadded base64 form.
    pub fn to_base64(&self) -> String {
        base64_encode(self.to_bytes())
    }
}

impl Serialize for MegolmMessage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for MegolmMessage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<&str> for MegolmMessage {
    type Error = DecodeError;

    fn try_from(message: &str) -> Result<Self, Self::Error> {
        Self::try_from(base64_decode(message)?)
    }
}

impl TryFrom<Vec<u8>> for MegolmMessage {
    type Error = DecodeError;

    fn try_from(message: Vec<u8>) -> Result<Self, Self::Error> {
        Self::try_from(message.as_slice())
    }
}

impl TryFrom<&[u8]> for MegolmMessage {
    type Error = DecodeError;

    fn try_from(message: &[u8]) -> Result<Self, Self::Error> {
        let version = *message.first().ok_or(DecodeError::MissingVersion)?;
        if version != VERSION && version != 3 {
            return Err(DecodeError::InvalidVersion(VERSION, version));
        }
        caudata::megolm::MegolmMessage::from_bytes(message)
            .map(Self::from_core)
            .map_err(|e| decode_error(e, message.len(), VERSION))
    }
}

impl fmt::Debug for MegolmMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MegolmMessage")
            .field("version", &self.inner.version())
            .field("message_index", &self.message_index())
            .finish_non_exhaustive()
    }
}
