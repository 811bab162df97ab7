//! The MSC4108 channel's two wire messages (no secrets here), as vodozemac 0.11.1 writes them:
//!
//! | message | text |
//! |---|---|
//! | [`InitialMessage`] (S → G) | `base64(ciphertext ‖ tag) "|" base64(S's public key)` |
//! | [`Message`] (either way) | `base64(ciphertext ‖ tag)` |
//!
//! Base64 is written unpadded and read padded or unpadded; the initial message is split at its
//! first `|` (base64 never contains one).

use crate::error::KeyError;
use crate::primitives::{Base64DecodeError, Curve25519PublicKey, base64_decode, base64_encode};

/// A message of the MSC4108 channel could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageDecodeError {
    /// The initial message has no `|` between the ciphertext and the key.
    #[error("the initial message is missing the | separator")]
    MissingSeparator,
    /// The initial message's public key is not 32 bytes of base64.
    #[error("the initial message's public key is invalid: {0}")]
    KeyError(#[from] KeyError),
    /// The ciphertext is not valid base64.
    #[error("the ciphertext is not valid base64")]
    Base64,
}

impl From<Base64DecodeError> for MessageDecodeError {
    fn from(_: Base64DecodeError) -> Self {
        Self::Base64
    }
}

/// The first message, from the scanning device S to the device G that showed the QR code: S's
/// ephemeral public key (unauthenticated until the check codes are compared) and the first
/// ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialMessage {
    /// S's ephemeral Curve25519 public key.
    pub public_key: Curve25519PublicKey,
    /// `ciphertext ‖ tag` of the first plaintext (S's nonce 0).
    pub ciphertext: Vec<u8>,
}

impl InitialMessage {
    /// `base64(ciphertext) "|" base64(public key)`, unpadded.
    pub fn encode(&self) -> String {
        format!("{}|{}", base64_encode(&self.ciphertext), self.public_key.to_base64())
    }

    /// Splits at the first `|`.
    ///
    /// # Errors
    /// [`MessageDecodeError::MissingSeparator`], [`MessageDecodeError::KeyError`] (the key is
    /// checked first, as vodozemac does) or [`MessageDecodeError::Base64`].
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        let (ciphertext, key) = message.split_once('|').ok_or(MessageDecodeError::MissingSeparator)?;
        let public_key = Curve25519PublicKey::from_base64(key)?;
        Ok(Self { public_key, ciphertext: base64_decode(ciphertext)? })
    }
}

/// A message on the established channel, in either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `ciphertext ‖ tag`.
    pub ciphertext: Vec<u8>,
}

impl Message {
    /// Unpadded base64 of the ciphertext.
    pub fn encode(&self) -> String {
        base64_encode(&self.ciphertext)
    }

    /// From base64. Any length decodes (as in vodozemac); one too short to hold a tag fails to
    /// decrypt.
    ///
    /// # Errors
    /// [`MessageDecodeError::Base64`].
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        Ok(Self { ciphertext: base64_decode(message)? })
    }
}
