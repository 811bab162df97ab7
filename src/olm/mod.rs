//! Layer 4: Olm, the Matrix 1:1 double ratchet (`m.olm.v1.curve25519-aes-sha2`), wire- and
//! behaviour-compatible with libolm and vodozemac.
//!
//! ```
//! use caudata::olm::{Account, OlmMessage, SessionConfig};
//!
//! let mut alice = Account::new();
//! let mut bob = Account::new();
//! bob.generate_one_time_keys(1);
//! let (_, bob_otk) = bob.one_time_keys().into_iter().next().unwrap();
//! bob.mark_keys_as_published();
//!
//! let mut alice_session = alice
//!     .create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), bob_otk)
//!     .unwrap();
//! let message = alice_session.encrypt(b"Hello, Bob");
//! let OlmMessage::PreKey(pre_key) = &message else { unreachable!() };
//! let result = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), pre_key).unwrap();
//! assert_eq!(result.plaintext, b"Hello, Bob");
//! let mut bob_session = result.session;
//!
//! let reply = bob_session.encrypt(b"Hi Alice");
//! assert_eq!(alice_session.decrypt(&reply).unwrap(), b"Hi Alice");
//! assert_eq!(alice_session.session_id(), bob_session.session_id());
//! ```

mod account;
mod message;
mod session;

/// The result of [`Account::to_dehydrated_device`] (MSC3814 dehydrated devices).
pub use crate::pickle::DehydratedDeviceResult;
pub use account::{
    Account, IdentityKeys, InboundCreationResult, KeyId, OneTimeKeyContract, OneTimeKeyGenerationResult,
};
pub(crate) use account::{FallbackKeyUse, StoredKey};
pub use message::{Message, MessageType, OlmMessage, PreKeyMessage};
pub use session::{ChainIndices, Session, SessionConfig, SessionKeys};

use crate::ratchet::Dialect;

/// Olm's ratchet parameters (libolm `olm_ratchet.cpp`, `docs/olm.md`).
pub(crate) static OLM_DIALECT: Dialect = Dialect {
    name: "olm",
    root_info: b"OLM_RATCHET",
    max_gap: crate::consts::OLM_MAX_MESSAGE_GAP,
    max_skipped: crate::consts::OLM_MAX_SKIPPED_KEYS,
    max_receiver_chains: crate::consts::MAX_RECEIVER_CHAINS,
    eager_sending_step: false,
};
