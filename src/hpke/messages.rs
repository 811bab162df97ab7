//! The MSC4388 channel's three wire messages (no secrets here). All are unpadded base64 of:
//!
//! | message | bytes |
//! |---|---|
//! | [`InitialMessage`] (S → G) | `enc (32) ‖ ciphertext ‖ tag (16)` |
//! | [`InitialResponse`] (G → S) | `response nonce (32) ‖ ciphertext ‖ tag (16)` |
//! | [`Message`] (either way) | `ciphertext ‖ tag (16)` |
//!
//! Decoding accepts padded base64 too, and refuses a message too short to hold its tag.

use crate::primitives::{Base64DecodeError, Curve25519PublicKey, base64_decode, base64_encode};

/// The length of the AEAD tag that ends every ciphertext.
const TAG_LEN: usize = 16;

/// A message of the MSC4388 channel could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageDecodeError {
    /// The message is shorter than its fixed fields and an AEAD tag.
    #[error("the message is too short: {got} bytes, at least {min} needed")]
    MessageIncomplete {
        /// Bytes received (after base64 decoding).
        got: usize,
        /// The shortest valid message.
        min: usize,
    },
    /// The message is not valid base64.
    #[error("the message is not valid base64")]
    Base64,
}

impl From<Base64DecodeError> for MessageDecodeError {
    fn from(_: Base64DecodeError) -> Self {
        Self::Base64
    }
}

/// Splits `prefix (32) ‖ ciphertext`, requiring a tag's worth of ciphertext.
fn split_prefix(bytes: &[u8]) -> Result<([u8; 32], Vec<u8>), MessageDecodeError> {
    let min = 32 + TAG_LEN;
    match bytes.split_first_chunk::<32>() {
        Some((prefix, ciphertext)) if bytes.len() >= min => Ok((*prefix, ciphertext.to_vec())),
        _ => Err(MessageDecodeError::MessageIncomplete { got: bytes.len(), min }),
    }
}

/// The first message, from the scanning device S to the device G that showed the QR code: the
/// HPKE encapsulated key (S's ephemeral public key) and the first ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialMessage {
    /// HPKE's `enc`: S's ephemeral Curve25519 public key.
    pub encapsulated_key: Curve25519PublicKey,
    /// `ciphertext ‖ tag` of the first plaintext (sequence number 0).
    pub ciphertext: Vec<u8>,
}

impl InitialMessage {
    /// `enc ‖ ciphertext`.
    pub fn to_bytes(&self) -> Vec<u8> {
        [self.encapsulated_key.as_bytes().as_slice(), &self.ciphertext].concat()
    }

    /// From `enc ‖ ciphertext`.
    ///
    /// # Errors
    /// [`MessageDecodeError::MessageIncomplete`] for fewer than 48 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MessageDecodeError> {
        let (key, ciphertext) = split_prefix(bytes)?;
        Ok(Self { encapsulated_key: Curve25519PublicKey::from_bytes(key), ciphertext })
    }

    /// Unpadded base64 of [`InitialMessage::to_bytes`].
    pub fn encode(&self) -> String {
        base64_encode(self.to_bytes())
    }

    /// From base64.
    ///
    /// # Errors
    /// [`MessageDecodeError::Base64`] or [`MessageDecodeError::MessageIncomplete`].
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        Self::from_bytes(&base64_decode(message)?)
    }
}

/// G's answer to the initial message, which makes the channel bidirectional: the random nonce
/// of G's response context and the first G → S ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialResponse {
    /// The 32 random bytes salting G's response context.
    pub base_response_nonce: [u8; 32],
    /// `ciphertext ‖ tag` of the response (response sequence number 0).
    pub ciphertext: Vec<u8>,
}

impl InitialResponse {
    /// `response nonce ‖ ciphertext`.
    pub fn to_bytes(&self) -> Vec<u8> {
        [self.base_response_nonce.as_slice(), &self.ciphertext].concat()
    }

    /// From `response nonce ‖ ciphertext`.
    ///
    /// # Errors
    /// [`MessageDecodeError::MessageIncomplete`] for fewer than 48 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MessageDecodeError> {
        let (base_response_nonce, ciphertext) = split_prefix(bytes)?;
        Ok(Self { base_response_nonce, ciphertext })
    }

    /// Unpadded base64 of [`InitialResponse::to_bytes`].
    pub fn encode(&self) -> String {
        base64_encode(self.to_bytes())
    }

    /// From base64.
    ///
    /// # Errors
    /// [`MessageDecodeError::Base64`] or [`MessageDecodeError::MessageIncomplete`].
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        Self::from_bytes(&base64_decode(message)?)
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

    /// From base64.
    ///
    /// # Errors
    /// [`MessageDecodeError::Base64`], or [`MessageDecodeError::MessageIncomplete`] for fewer
    /// than 16 bytes (vodozemac refuses only the empty message; a shorter one could never open).
    pub fn decode(message: &str) -> Result<Self, MessageDecodeError> {
        let ciphertext = base64_decode(message)?;
        if ciphertext.len() < TAG_LEN {
            return Err(MessageDecodeError::MessageIncomplete { got: ciphertext.len(), min: TAG_LEN });
        }
        Ok(Self { ciphertext })
    }
}
