//! Megolm (`m.megolm.v1.aes-sha2`): group sessions, their messages and session keys, as
//! vodozemac 0.11.1 names and shapes them; caudata's `megolm` module does the work.

mod group_session;
mod inbound_group_session;
mod message;
mod session_config;
mod session_keys;

pub use group_session::{GroupSession, GroupSessionPickle};
pub use inbound_group_session::{
    DecryptedMessage, DecryptionError, InboundGroupSession, InboundGroupSessionPickle, SessionOrdering,
};
pub use message::MegolmMessage;
pub use session_config::SessionConfig;
pub use session_keys::{ExportedSessionKey, SessionKey, SessionKeyDecodeError};
