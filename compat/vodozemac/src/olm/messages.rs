use std::fmt;

use serde::{Deserialize, Serialize};

use super::SessionKeys;
use crate::convert::decode_error;
use crate::{Curve25519PublicKey, DecodeError, base64_decode, base64_encode};

/// The newest normal-message version (32-byte MAC); version 3 (8-byte MAC) is read too.
const MESSAGE_VERSION: u8 = 4;
/// The pre-key message version.
const PRE_KEY_VERSION: u8 = 3;

/// A normal Olm message.
#[derive(Clone, PartialEq, Eq)]
pub struct Message(pub(crate) caudata::olm::Message);

impl Message {
    /// The sender's ratchet key.
    pub const fn ratchet_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.0.ratchet_key())
    }

    /// The message's index in its chain.
    pub const fn chain_index(&self) -> u64 {
        self.0.chain_index() as u64
    }

    /// The ciphertext.
    pub fn ciphertext(&self) -> &[u8] {
        self.0.ciphertext()
    }

    /// The version byte: 3 (8-byte MAC) or 4 (32-byte MAC).
    pub const fn version(&self) -> u8 {
        self.0.version()
    }

    /// Decodes the binary form.
    ///
    /// # Errors
    /// A [`DecodeError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::try_from(bytes)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
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

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Message::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<&str> for Message {
    type Error = DecodeError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::try_from(base64_decode(value)?)
    }
}

impl TryFrom<Vec<u8>> for Message {
    type Error = DecodeError;

    fn try_from(value: Vec<u8>) -> Result<Self, Self::Error> {
        Self::try_from(value.as_slice())
    }
}

impl TryFrom<&[u8]> for Message {
    type Error = DecodeError;

    fn try_from(value: &[u8]) -> Result<Self, Self::Error> {
        if value.is_empty() {
            return Err(DecodeError::MissingVersion);
        }
        caudata::olm::Message::from_bytes(value).map(Self).map_err(|e| decode_error(e, value.len(), MESSAGE_VERSION))
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("version", &self.version())
            .field("ratchet_key", &self.ratchet_key())
            .field("chain_index", &self.chain_index())
            .finish_non_exhaustive()
    }
}

/// A pre-key Olm message: a normal message with the keys that start its session.
#[derive(Clone, PartialEq, Eq)]
pub struct PreKeyMessage {
    pub(crate) inner: caudata::olm::PreKeyMessage,
    session_keys: SessionKeys,
    message: Message,
}

impl PreKeyMessage {
    pub(crate) fn from_core(inner: caudata::olm::PreKeyMessage) -> Self {
        let session_keys = SessionKeys::from_core(inner.session_keys());
        let message = Message(inner.message());
        Self { inner, session_keys, message }
    }

    /// The receiver's one-time (or fallback) key the sender used.
    pub const fn one_time_key(&self) -> Curve25519PublicKey {
        self.session_keys.one_time_key
    }

    /// The sender's base key.
    pub const fn base_key(&self) -> Curve25519PublicKey {
        self.session_keys.base_key
    }

    /// The sender's identity key.
    pub const fn identity_key(&self) -> Curve25519PublicKey {
        self.session_keys.identity_key
    }

    /// The keys of the session this message starts or belongs to.
    pub const fn session_keys(&self) -> SessionKeys {
        self.session_keys
    }

    /// The id of the session this message starts or belongs to.
    pub fn session_id(&self) -> String {
        self.inner.session_id()
    }

    /// The normal message inside.
    pub const fn message(&self) -> &Message {
        &self.message
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

    /// Wraps a normal message with a session's keys. Nothing is checked.
    #[cfg(feature = "low-level-api")]
    pub fn wrap(session_keys: SessionKeys, message: Message) -> Self {
        Self::from_core(caudata::olm::PreKeyMessage::wrap(session_keys.to_core(), message.0))
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

impl fmt::Debug for PreKeyMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreKeyMessage")
            .field("session_keys", &self.session_keys)
            .field("message", &self.message)
            .finish()
    }
}

impl Serialize for PreKeyMessage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for PreKeyMessage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PreKeyMessage::from_base64(&text).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<&str> for PreKeyMessage {
    type Error = DecodeError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::try_from(base64_decode(value)?)
    }
}

impl TryFrom<Vec<u8>> for PreKeyMessage {
    type Error = DecodeError;

    fn try_from(value: Vec<u8>) -> Result<Self, Self::Error> {
        Self::try_from(value.as_slice())
    }
}

impl TryFrom<&[u8]> for PreKeyMessage {
    type Error = DecodeError;

    fn try_from(value: &[u8]) -> Result<Self, Self::Error> {
        let version = *value.first().ok_or(DecodeError::MissingVersion)?;
        if version != PRE_KEY_VERSION {
            return Err(DecodeError::InvalidVersion(PRE_KEY_VERSION, version));
        }
        caudata::olm::PreKeyMessage::from_bytes(value)
            .map(Self::from_core)
            .map_err(|e| decode_error(e, value.len(), MESSAGE_VERSION))
    }
}

/// An Olm message of either type.
#[derive(Debug, Clone, PartialEq, Eq)]
// vodozemac's shape: boxing the pre-key variant would change the public enum.
#[allow(clippy::large_enum_variant)]
pub enum OlmMessage {
    /// A normal message (type 1).
    Normal(Message),
    /// A pre-key message (type 0).
    PreKey(PreKeyMessage),
}

impl From<Message> for OlmMessage {
    fn from(m: Message) -> Self {
        Self::Normal(m)
    }
}

impl From<PreKeyMessage> for OlmMessage {
    fn from(m: PreKeyMessage) -> Self {
        Self::PreKey(m)
    }
}

#[derive(Serialize, Deserialize)]
struct MessageSerdeHelper {
    #[serde(rename = "type")]
    message_type: usize,
    #[serde(rename = "body")]
    ciphertext: String,
}

impl Serialize for OlmMessage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (message_type, ciphertext) = self.to_parts();
        MessageSerdeHelper { message_type, ciphertext: base64_encode(ciphertext) }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for OlmMessage {
    /// `{"type": 0 or 1, "body": base64}`; the body is decoded and parsed at once.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = MessageSerdeHelper::deserialize(d)?;
        let bytes = base64_decode(value.ciphertext).map_err(serde::de::Error::custom)?;
        OlmMessage::from_parts(value.message_type, &bytes).map_err(serde::de::Error::custom)
    }
}

impl OlmMessage {
    /// From Matrix's `type` and the binary body.
    ///
    /// # Errors
    /// [`DecodeError::MessageType`] for a type other than 0 or 1, or the body's decode error.
    pub fn from_parts(message_type: usize, ciphertext: &[u8]) -> Result<Self, DecodeError> {
        match message_type {
            0 => Ok(Self::PreKey(PreKeyMessage::from_bytes(ciphertext)?)),
            1 => Ok(Self::Normal(Message::from_bytes(ciphertext)?)),
            m => Err(DecodeError::MessageType(m)),
        }
    }

    /// The ciphertext of the (inner) normal message.
    pub fn message(&self) -> &[u8] {
        match self {
            OlmMessage::Normal(m) => m.ciphertext(),
            OlmMessage::PreKey(m) => m.message.ciphertext(),
        }
    }

    /// The message type.
    pub const fn message_type(&self) -> MessageType {
        match self {
            OlmMessage::Normal(_) => MessageType::Normal,
            OlmMessage::PreKey(_) => MessageType::PreKey,
        }
    }

    /// Matrix's `type` and the binary body.
    pub fn to_parts(&self) -> (usize, Vec<u8>) {
        match self {
            OlmMessage::Normal(m) => (MessageType::Normal.into(), m.to_bytes()),
            OlmMessage::PreKey(m) => (MessageType::PreKey.into(), m.to_bytes()),
        }
    }

    pub(crate) fn from_core(m: caudata::olm::OlmMessage) -> Self {
        match m {
            caudata::olm::OlmMessage::Normal(m) => Self::Normal(Message(m)),
            caudata::olm::OlmMessage::PreKey(m) => Self::PreKey(PreKeyMessage::from_core(m)),
        }
    }
}

/// Matrix's Olm message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Type 0: a pre-key message.
    PreKey = 0,
    /// Type 1: a normal message.
    Normal = 1,
}

impl TryFrom<usize> for MessageType {
    type Error = ();

    fn try_from(value: usize) -> Result<Self, Self::Error> {
        match value {
            0 => Ok(MessageType::PreKey),
            1 => Ok(MessageType::Normal),
            _ => Err(()),
        }
    }
}

impl From<MessageType> for usize {
    fn from(value: MessageType) -> usize {
        value as usize
    }
}
