//! Layer 6: one session API over every dialect.
//!
//! A bridge between Matrix and a libsignal-based messenger holds Olm sessions and Signal-dialect
//! sessions side by side. [`Session`] wraps either, with one way to encrypt, decrypt and (see
//! [`crate::pickle`]) persist; the dialect is part of the session, and a message of the wrong
//! dialect is a clean error.
//!
//! ```
//! use caudata::olm::{Account, OlmMessage, SessionConfig};
//! use caudata::{Dialect, Message, Session};
//!
//! let alice = Account::new();
//! let mut bob = Account::new();
//! bob.generate_one_time_keys(1);
//! let otk = *bob.one_time_keys().values().next().unwrap();
//! let olm = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
//!
//! // Any dialect goes into the same store.
//! let mut store: Vec<Session> = vec![Session::from(olm)];
//! let message: Message = store[0].encrypt(b"hello").unwrap();
//! assert_eq!(message.dialect(), Dialect::Olm);
//! let (dialect, message_type, body) = message.to_parts();
//! assert_eq!((dialect, message_type), (Dialect::Olm, 0));
//! # let _ = body;
//! ```

use crate::error::{DecodeError, DecryptionError, EncryptionError};
use crate::interolm::{self, InterolmMessage};
use crate::olm::{self, OlmMessage};

/// The protocol a session or message speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// Matrix Olm (libolm, vodozemac).
    Olm,
    /// The Signal dialect (libsignal).
    Interolm,
}

impl Dialect {
    /// A short name: "olm" or "interolm".
    pub const fn name(self) -> &'static str {
        match self {
            Self::Olm => "olm",
            Self::Interolm => "interolm",
        }
    }
}

/// A message of any dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum Message {
    /// An Olm message (Matrix types 0 and 1).
    Olm(OlmMessage),
    /// A Signal-dialect message (libsignal types 3 and 2).
    Interolm(InterolmMessage),
}

impl Message {
    /// The message's dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Olm(_) => Dialect::Olm,
            Self::Interolm(_) => Dialect::Interolm,
        }
    }

    /// Dialect, the dialect's own message type number, and the binary body.
    pub fn to_parts(&self) -> (Dialect, usize, Vec<u8>) {
        match self {
            Self::Olm(m) => {
                let (t, b) = m.to_parts();
                (Dialect::Olm, t, b)
            }
            Self::Interolm(m) => {
                let (t, b) = m.to_parts();
                (Dialect::Interolm, t, b)
            }
        }
    }

    /// From the parts [`Message::to_parts`] gives.
    ///
    /// # Errors
    /// A [`DecodeError`] for an unknown type or a malformed body.
    pub fn from_parts(dialect: Dialect, message_type: usize, body: &[u8]) -> Result<Self, DecodeError> {
        match dialect {
            Dialect::Olm => OlmMessage::from_parts(message_type, body).map(Self::Olm),
            Dialect::Interolm => InterolmMessage::from_parts(message_type, body).map(Self::Interolm),
        }
    }
}

impl From<OlmMessage> for Message {
    fn from(m: OlmMessage) -> Self {
        Self::Olm(m)
    }
}

impl From<InterolmMessage> for Message {
    fn from(m: InterolmMessage) -> Self {
        Self::Interolm(m)
    }
}

/// Boxed so that a `Session` is two words whatever the dialect's state size.
pub(crate) enum Inner {
    Olm(Box<olm::Session>),
    Interolm(Box<interolm::Session>),
}

/// A 1:1 session of any dialect.
pub struct Session(pub(crate) Inner);

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.0 {
            Inner::Olm(s) => s.fmt(f),
            Inner::Interolm(s) => s.fmt(f),
        }
    }
}

impl From<olm::Session> for Session {
    fn from(s: olm::Session) -> Self {
        Self(Inner::Olm(Box::new(s)))
    }
}

impl From<interolm::Session> for Session {
    fn from(s: interolm::Session) -> Self {
        Self(Inner::Interolm(Box::new(s)))
    }
}

impl Session {
    /// The session's dialect.
    pub fn dialect(&self) -> Dialect {
        match &self.0 {
            Inner::Olm(_) => Dialect::Olm,
            Inner::Interolm(_) => Dialect::Interolm,
        }
    }

    /// The session id (unique within its dialect; Olm's is Matrix's session id).
    pub fn session_id(&self) -> String {
        match &self.0 {
            Inner::Olm(s) => s.session_id(),
            Inner::Interolm(s) => s.session_id(),
        }
    }

    /// Whether a message from the other side has been decrypted.
    pub fn has_received_message(&self) -> bool {
        match &self.0 {
            Inner::Olm(s) => s.has_received_message(),
            Inner::Interolm(s) => s.has_received_message(),
        }
    }

    /// Encrypts `plaintext` in the session's dialect.
    ///
    /// # Errors
    /// An interolm session's [`EncryptionError`] (an Olm session always encrypts); the session
    /// is then unchanged.
    pub fn encrypt(&mut self, plaintext: impl AsRef<[u8]>) -> Result<Message, EncryptionError> {
        Ok(match &mut self.0 {
            Inner::Olm(s) => Message::Olm(s.encrypt(plaintext)),
            Inner::Interolm(s) => Message::Interolm(s.encrypt(plaintext)?),
        })
    }

    /// Decrypts a message of the session's dialect. On any error the session is unchanged.
    ///
    /// # Errors
    /// [`DecryptionError::WrongDialect`] for a message of another dialect, or the dialect's own
    /// decryption errors.
    pub fn decrypt(&mut self, message: &Message) -> Result<Vec<u8>, DecryptionError> {
        match (&mut self.0, message) {
            (Inner::Olm(s), Message::Olm(m)) => s.decrypt(m),
            (Inner::Interolm(s), Message::Interolm(m)) => s.decrypt(m),
            (_, m) => Err(DecryptionError::WrongDialect { expected: self.dialect().name(), got: m.dialect().name() }),
        }
    }

    /// The Olm session inside, if it is one.
    pub fn as_olm(&self) -> Option<&olm::Session> {
        match &self.0 {
            Inner::Olm(s) => Some(s),
            Inner::Interolm(_) => None,
        }
    }

    /// The Signal-dialect session inside, if it is one.
    pub fn as_interolm(&self) -> Option<&interolm::Session> {
        match &self.0 {
            Inner::Interolm(s) => Some(s),
            Inner::Olm(_) => None,
        }
    }

    /// Unwraps an Olm session.
    ///
    /// # Errors
    /// Gives the session back if it is of another dialect.
    pub fn into_olm(self) -> Result<olm::Session, Self> {
        match self.0 {
            Inner::Olm(s) => Ok(*s),
            other => Err(Self(other)),
        }
    }

    /// Unwraps a Signal-dialect session.
    ///
    /// # Errors
    /// Gives the session back if it is of another dialect.
    pub fn into_interolm(self) -> Result<interolm::Session, Self> {
        match self.0 {
            Inner::Interolm(s) => Ok(*s),
            other => Err(Self(other)),
        }
    }
}
