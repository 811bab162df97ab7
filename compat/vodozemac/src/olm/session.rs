use std::fmt;

use aes::cipher::block_padding::Error as UnpadError;
use hmac::digest::MacError;
use serde::{Deserialize, Serialize};

use super::{OlmMessage, SessionConfig, SessionKeys};
use crate::{Curve25519PublicKey, PickleError};

/// An Olm message could not be decrypted. The session is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum DecryptionError {
    /// The MAC does not verify.
    #[error("Failed decrypting Olm message, invalid MAC: {0}")]
    InvalidMAC(#[from] MacError),
    /// The MAC has the wrong length for the session's configuration: expected, then received.
    #[error("Failed decrypting Olm message, invalid MAC length: expected {0}, got {1}")]
    InvalidMACLength(usize, usize),
    /// The plaintext's padding is invalid.
    #[error("Failed decrypting Olm message, invalid padding")]
    InvalidPadding(#[from] UnpadError),
    /// The message's ratchet key gives a non-contributory Diffie-Hellman result.
    #[error(
        "One or more keys lacked contributory behavior in the Diffie-Hellman operation, \
         resulting in an insecure shared secret"
    )]
    NonContributoryKey,
    /// No key for the message's index: a replay, or a message too old to decrypt (its index).
    #[error("The message key with the given key can't be created, message index: {0}")]
    MissingMessageKey(u64),
    /// The message is too far ahead in its chain: the gap, then the limit.
    #[error("The message gap was too big, got {0}, max allowed {1}")]
    TooBigMessageGap(u64, u64),
}

impl DecryptionError {
    pub(crate) fn from_core(e: caudata::DecryptionError) -> Self {
        use caudata::DecryptionError as C;
        match e {
            C::InvalidMacLength { expected, got } => Self::InvalidMACLength(expected, got),
            C::InvalidPadding => Self::InvalidPadding(UnpadError),
            C::MissingMessageKey { index } => Self::MissingMessageKey(u64::from(index)),
            C::TooBigMessageGap { got, max } => Self::TooBigMessageGap(got, max),
            C::Key(_) => Self::NonContributoryKey,
            // `InvalidMac`, and `SessionMismatch`: caudata refuses a pre-key message whose
            // outer keys are not this session's (they are not covered by the MAC) with the
            // error a forged message gets.
            _ => Self::InvalidMAC(MacError),
        }
    }
}

/// An Olm message could not be encrypted.
#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    /// A key gives a non-contributory Diffie-Hellman result. (caudata checks every key before
    /// it is stored, so encryption never fails.)
    #[error(
        "One or more keys lacked contributory behavior in the Diffie-Hellman operation, \
         resulting in an insecure shared secret"
    )]
    NonContributoryKey,
}

/// An Olm ratchet's public key.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct RatchetPublicKey(Curve25519PublicKey);

impl From<[u8; 32]> for RatchetPublicKey {
    fn from(bytes: [u8; 32]) -> Self {
        RatchetPublicKey(Curve25519PublicKey::from(bytes))
    }
}

impl AsRef<Curve25519PublicKey> for RatchetPublicKey {
    fn as_ref(&self) -> &Curve25519PublicKey {
        &self.0
    }
}

/// One end of an Olm conversation.
pub struct Session(pub(crate) caudata::olm::Session);

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.session_id())
            .field("config", &self.session_config())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The session id, the same on both sides.
    pub fn session_id(&self) -> String {
        self.0.session_id()
    }

    /// Whether a message from the other side has been decrypted (until then, this side sends
    /// pre-key messages).
    pub const fn has_received_message(&self) -> bool {
        self.0.has_received_message()
    }

    /// Encrypts `plaintext`.
    ///
    /// # Errors
    /// Never: caudata refuses unusable keys before a session exists.
    pub fn encrypt(&mut self, plaintext: impl AsRef<[u8]>) -> Result<OlmMessage, EncryptionError> {
        Ok(OlmMessage::from_core(self.0.encrypt(plaintext)))
    }

    /// The keys the session was made from.
    pub const fn session_keys(&self) -> SessionKeys {
        SessionKeys::from_core(self.0.session_keys())
    }

    /// The session's configuration.
    pub const fn session_config(&self) -> SessionConfig {
        SessionConfig::from_core(self.0.session_config())
    }

    /// Decrypts `message`. On error the session is unchanged.
    ///
    /// # Errors
    /// A [`DecryptionError`].
    pub fn decrypt(&mut self, message: &OlmMessage) -> Result<Vec<u8>, DecryptionError> {
        let core = match message {
            OlmMessage::Normal(m) => caudata::olm::OlmMessage::Normal(m.0.clone()),
            OlmMessage::PreKey(m) => caudata::olm::OlmMessage::PreKey(m.inner.clone()),
        };
        self.0.decrypt(&core).map_err(DecryptionError::from_core)
    }

    /// A snapshot for storage.
    pub fn pickle(&self) -> SessionPickle {
        SessionPickle(self.0.vodozemac_pickle())
    }

    /// Restores a session from [`Session::pickle`].
    pub fn from_pickle(pickle: SessionPickle) -> Self {
        pickle.into()
    }

    /// Imports a libolm session pickle.
    ///
    /// # Errors
    /// A [`LibolmPickleError`](crate::LibolmPickleError).
    #[cfg(feature = "libolm-compat")]
    pub fn from_libolm_pickle(pickle: &str, pickle_key: &[u8]) -> Result<Self, crate::LibolmPickleError> {
        caudata::olm::Session::from_libolm_pickle(pickle, pickle_key)
            .map(Self)
            .map_err(|e| crate::convert::libolm_pickle_error(e, pickle, 1))
    }
}

/// A [`Session`] in vodozemac's pickle shape: serde gives vodozemac's exact JSON or
/// MessagePack, and [`SessionPickle::encrypt`] its encrypted string.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionPickle(caudata::pickle::vodozemac::SessionPickle);

impl SessionPickle {
    /// Encrypts as vodozemac does (its JSON under libolm's pickle cipher, unpadded base64).
    pub fn encrypt(self, pickle_key: &[u8; 32]) -> String {
        self.0.encrypt(pickle_key)
    }

    /// Reads what [`SessionPickle::encrypt`] (or vodozemac's) wrote.
    ///
    /// # Errors
    /// A [`PickleError`].
    pub fn from_encrypted(ciphertext: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
        caudata::pickle::vodozemac::SessionPickle::from_encrypted(ciphertext, pickle_key)
            .map(Self)
            .map_err(|e| crate::convert::pickle_error(e, ciphertext))
    }
}

impl From<SessionPickle> for Session {
    fn from(pickle: SessionPickle) -> Self {
        Self(pickle.0.into())
    }
}
