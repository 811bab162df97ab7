use serde::{Deserialize, Serialize};

use super::{MegolmMessage, SessionConfig, SessionKey};
use crate::PickleError;

/// An outbound group session: the sender's side of a Megolm session.
pub struct GroupSession(pub(crate) caudata::megolm::GroupSession);

impl Default for GroupSession {
    fn default() -> Self {
        Self::new(Default::default())
    }
}

impl GroupSession {
    /// A new session with a fresh ratchet and signing key.
    pub fn new(config: SessionConfig) -> Self {
        Self(caudata::megolm::GroupSession::new(config.to_core()))
    }

    /// The session id: the signing key in unpadded base64.
    pub fn session_id(&self) -> String {
        self.0.session_id()
    }

    /// The index the next message gets.
    pub const fn message_index(&self) -> u32 {
        self.0.message_index()
    }

    /// The session's configuration.
    pub const fn session_config(&self) -> SessionConfig {
        SessionConfig::from_core(self.0.session_config())
    }

    /// Encrypts `plaintext` and advances the ratchet.
    pub fn encrypt(&mut self, plaintext: impl AsRef<[u8]>) -> MegolmMessage {
        MegolmMessage::from_core(self.0.encrypt(plaintext))
    }

    /// The signed session key at the current index, for the room's members.
    pub fn session_key(&self) -> SessionKey {
        SessionKey(self.0.session_key())
    }

    /// A snapshot for storage.
    pub fn pickle(&self) -> GroupSessionPickle {
        GroupSessionPickle(self.0.vodozemac_pickle())
    }

    /// Restores a session from [`GroupSession::pickle`].
    pub fn from_pickle(pickle: GroupSessionPickle) -> Self {
        pickle.into()
    }

    /// Imports a libolm outbound group session pickle.
    ///
    /// # Errors
    /// A [`LibolmPickleError`](crate::LibolmPickleError).
    #[cfg(feature = "libolm-compat")]
    pub fn from_libolm_pickle(pickle: &str, pickle_key: &[u8]) -> Result<Self, crate::LibolmPickleError> {
        caudata::megolm::GroupSession::from_libolm_pickle(pickle, pickle_key)
            .map(Self)
            .map_err(|e| crate::convert::libolm_pickle_error(e, pickle, 1))
    }
}

/// A [`GroupSession`] in vodozemac's pickle shape.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupSessionPickle(caudata::pickle::vodozemac::GroupSessionPickle);

impl GroupSessionPickle {
    /// Encrypts as vodozemac does (its JSON under libolm's pickle cipher, unpadded base64).
    pub fn encrypt(self, pickle_key: &[u8; 32]) -> String {
        self.0.encrypt(pickle_key)
    }

    /// Reads what [`GroupSessionPickle::encrypt`] (or vodozemac's) wrote.
    ///
    /// # Errors
    /// A [`PickleError`].
    pub fn from_encrypted(ciphertext: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
        caudata::pickle::vodozemac::GroupSessionPickle::from_encrypted(ciphertext, pickle_key)
            .map(Self)
            .map_err(|e| crate::convert::pickle_error(e, ciphertext))
    }
}

impl From<GroupSessionPickle> for GroupSession {
    fn from(pickle: GroupSessionPickle) -> Self {
        Self(pickle.0.into())
    }
}
