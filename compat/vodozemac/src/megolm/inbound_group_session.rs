use aes::cipher::block_padding::Error as UnpadError;
use hmac::digest::MacError;
use serde::{Deserialize, Serialize};

use super::{ExportedSessionKey, GroupSession, MegolmMessage, SessionConfig, SessionKey};
use crate::{PickleError, SignatureError};

/// How two inbound group sessions compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionOrdering {
    /// The same session with the same first known index.
    Equal,
    /// The same session; this one can decrypt earlier messages.
    Better,
    /// The same session; the other one can decrypt earlier messages.
    Worse,
    /// Not the same session.
    Unconnected,
}

impl SessionOrdering {
    fn from_core(o: caudata::megolm::SessionOrdering) -> Self {
        match o {
            caudata::megolm::SessionOrdering::Equal => Self::Equal,
            caudata::megolm::SessionOrdering::Better => Self::Better,
            caudata::megolm::SessionOrdering::Worse => Self::Worse,
            _ => Self::Unconnected,
        }
    }
}

/// A Megolm message could not be decrypted. The session is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum DecryptionError {
    /// The sender's signature does not verify.
    #[error("The signature on the message was invalid: {0}")]
    Signature(#[from] SignatureError),
    /// The MAC does not verify.
    #[error("Failed decrypting Megolm message, invalid MAC: {0}")]
    InvalidMAC(#[from] MacError),
    /// The MAC has the wrong length for the session's configuration: expected, then received.
    #[error("Failed decrypting Olm message, invalid MAC length: expected {0}, got {1}")]
    InvalidMACLength(usize, usize),
    /// The plaintext's padding is invalid.
    #[error("Failed decrypting Megolm message, invalid padding")]
    InvalidPadding(#[from] UnpadError),
    /// The message is older than the session: the first known index, then the message's.
    #[error(
        "The message was encrypted using an unknown message index, \
        first known index {0}, index of the message {1}"
    )]
    UnknownMessageIndex(u32, u32),
}

impl DecryptionError {
    fn from_core(e: caudata::DecryptionError) -> Self {
        use caudata::DecryptionError as C;
        match e {
            C::InvalidSignature => Self::Signature(SignatureError::invalid()),
            C::InvalidMacLength { expected, got } => Self::InvalidMACLength(expected, got),
            C::InvalidPadding => Self::InvalidPadding(UnpadError),
            C::UnknownMessageIndex { got, first_known } => Self::UnknownMessageIndex(first_known, got),
            _ => Self::InvalidMAC(MacError),
        }
    }
}

/// A decrypted Megolm message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptedMessage {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// The message's index.
    pub message_index: u32,
}

/// An inbound group session: a receiver's side of a Megolm session.
pub struct InboundGroupSession(pub(crate) caudata::megolm::InboundGroupSession);

impl InboundGroupSession {
    /// From the signed session key the sender shared (its signing key counts as verified).
    pub fn new(key: &SessionKey, session_config: SessionConfig) -> Self {
        Self(caudata::megolm::InboundGroupSession::new(&key.0, session_config.to_core()))
    }

    /// From an exported (unsigned) session key (its signing key is not verified).
    pub fn import(session_key: &ExportedSessionKey, session_config: SessionConfig) -> Self {
        Self(caudata::megolm::InboundGroupSession::import(&session_key.0, session_config.to_core()))
    }

    /// The session id: the sender's signing key in unpadded base64.
    pub fn session_id(&self) -> String {
        self.0.session_id()
    }

    /// Whether both are the same session (same key, same ratchet where they overlap).
    pub fn connected(&mut self, other: &mut InboundGroupSession) -> bool {
        self.0.connected(&other.0)
    }

    /// Compares two sessions (which decrypts more).
    pub fn compare(&mut self, other: &mut InboundGroupSession) -> SessionOrdering {
        SessionOrdering::from_core(self.0.compare(&other.0))
    }

    /// The better of two connected sessions (its signing key verified if either's is).
    pub fn merge(&mut self, other: &mut InboundGroupSession) -> Option<InboundGroupSession> {
        self.0.merge(&other.0).map(Self)
    }

    /// The first message index this session can decrypt.
    pub const fn first_known_index(&self) -> u32 {
        self.0.first_known_index()
    }

    /// Forgets the message keys before `index`; returns whether anything changed.
    pub fn advance_to(&mut self, index: u32) -> bool {
        self.0.advance_to(index)
    }

    /// Decrypts `message`. On error the session is unchanged.
    ///
    /// # Errors
    /// A [`DecryptionError`].
    pub fn decrypt(&mut self, message: &MegolmMessage) -> Result<DecryptedMessage, DecryptionError> {
        self.0
            .decrypt(&message.inner)
            .map(|m| DecryptedMessage { plaintext: m.plaintext, message_index: m.message_index })
            .map_err(DecryptionError::from_core)
    }

    /// The session exported at `index`, if this session can decrypt that far back.
    pub fn export_at(&mut self, index: u32) -> Option<ExportedSessionKey> {
        self.0.export_at(index).map(ExportedSessionKey)
    }

    /// The session exported at its first known index.
    pub fn export_at_first_known_index(&self) -> ExportedSessionKey {
        ExportedSessionKey(self.0.export_at_first_known_index())
    }

    /// A snapshot for storage.
    pub fn pickle(&self) -> InboundGroupSessionPickle {
        InboundGroupSessionPickle(self.0.vodozemac_pickle())
    }

    /// Restores a session from [`InboundGroupSession::pickle`].
    pub fn from_pickle(pickle: InboundGroupSessionPickle) -> Self {
        Self::from(pickle)
    }

    /// Imports a libolm inbound group session pickle.
    ///
    /// # Errors
    /// A [`LibolmPickleError`](crate::LibolmPickleError).
    #[cfg(feature = "libolm-compat")]
    pub fn from_libolm_pickle(pickle: &str, pickle_key: &[u8]) -> Result<Self, crate::LibolmPickleError> {
        caudata::megolm::InboundGroupSession::from_libolm_pickle(pickle, pickle_key)
            .map(Self)
            .map_err(|e| crate::convert::libolm_pickle_error(e, pickle, 2))
    }
}

impl<'de> Deserialize<'de> for InboundGroupSession {
    /// From vodozemac's pickle shape, as vodozemac's session deserializes.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        InboundGroupSessionPickle::deserialize(d).map(Self::from)
    }
}

/// An [`InboundGroupSession`] in vodozemac's pickle shape.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct InboundGroupSessionPickle(caudata::pickle::vodozemac::InboundGroupSessionPickle);

impl InboundGroupSessionPickle {
    /// Encrypts as vodozemac does (its JSON under libolm's pickle cipher, unpadded base64).
    pub fn encrypt(self, pickle_key: &[u8; 32]) -> String {
        self.0.encrypt(pickle_key)
    }

    /// Reads what [`InboundGroupSessionPickle::encrypt`] (or vodozemac's) wrote.
    ///
    /// # Errors
    /// A [`PickleError`].
    pub fn from_encrypted(ciphertext: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
        caudata::pickle::vodozemac::InboundGroupSessionPickle::from_encrypted(ciphertext, pickle_key)
            .map(Self)
            .map_err(|e| crate::convert::pickle_error(e, ciphertext))
    }
}

impl From<&InboundGroupSession> for InboundGroupSessionPickle {
    fn from(session: &InboundGroupSession) -> Self {
        session.pickle()
    }
}

impl From<InboundGroupSessionPickle> for InboundGroupSession {
    fn from(pickle: InboundGroupSessionPickle) -> Self {
        Self(pickle.0.into())
    }
}

impl From<&GroupSession> for InboundGroupSession {
    fn from(session: &GroupSession) -> Self {
        Self(caudata::megolm::InboundGroupSession::from(&session.0))
    }
}
