//! Olm (`m.olm.v1.curve25519-aes-sha2`): accounts, sessions and their messages, as vodozemac
//! 0.11.1 names and shapes them; caudata's `olm` module does the work.

mod account;
mod messages;
mod session;
mod session_config;
mod session_keys;

pub use account::{
    Account, AccountPickle, IdentityKeys, InboundCreationResult, OneTimeKeyGenerationResult, SessionCreationError,
};
pub use messages::{Message, MessageType, OlmMessage, PreKeyMessage};
pub use session::{DecryptionError, EncryptionError, RatchetPublicKey, Session, SessionPickle};
pub use session_config::SessionConfig;
pub use session_keys::SessionKeys;
