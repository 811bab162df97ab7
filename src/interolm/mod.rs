//! Layer 4: interolm, the Signal dialect: X3DH and PQXDH sessions that interoperate with the
//! official libsignal (`@signalapp/libsignal-client` 0.72.1, 0.90.0, and 0.92.2 … 0.103.0,
//! which require SPQR V1: PQXDH sessions run [`spqr`] next to the double ratchet; see
//! [`SpqrPolicy`]).
//!
//! The same Curve25519 identity can serve Olm and interolm ([`Account::from_olm_account`]);
//! it signs the prekeys with XEdDSA. Setup (X3DH, or PQXDH with Kyber1024) is here; the
//! double ratchet is the crate's one core, run with the Signal parameters: root info
//! `"WhisperRatchet"`, message keys `HKDF(∅, seed, "WhisperMessageKeys", 80)`, at most 25 000
//! messages skipped at once, 2 000 stored skipped keys per chain, 5 receiving chains, and a
//! new sending chain made as soon as a new ratchet key arrives.
//!
//! ```
//! use caudata::interolm::{Account, InterolmMessage};
//!
//! let alice = Account::new();
//! let mut bob = Account::new();
//! bob.generate_signed_pre_key();
//! bob.generate_one_time_pre_keys(1);
//! bob.generate_kyber_pre_key(true);
//! let bundle = bob.pre_key_bundle(1).unwrap();
//! // Bundles travel as bytes.
//! let bundle = caudata::interolm::PreKeyBundle::from_bytes(&bundle.to_bytes()).unwrap();
//!
//! let mut alice_session = alice.create_outbound_session(&bundle).unwrap();
//! let message = alice_session.encrypt(b"Hello, Bob").unwrap();
//! let (message_type, body) = message.to_parts();
//! assert_eq!(message_type, 3);
//! let InterolmMessage::PreKey(pre_key) = InterolmMessage::from_parts(message_type, &body).unwrap() else {
//!     unreachable!()
//! };
//! let result = bob.create_inbound_session(&pre_key).unwrap();
//! assert_eq!(result.plaintext, b"Hello, Bob");
//! let mut bob_session = result.session;
//!
//! let reply = bob_session.encrypt(b"Hi Alice").unwrap();
//! assert_eq!(alice_session.decrypt(&reply).unwrap(), b"Hi Alice");
//! assert_eq!(alice_session.session_id(), bob_session.session_id());
//! ```

mod account;
mod bundle;
mod message;
mod session;
pub mod spqr;
mod store;

pub use account::{Account, InboundCreationResult};
pub use message::{InterolmMessage, MessageType, PreKeySignalMessage, SignalMessage};
#[cfg(feature = "hazmat")]
pub(crate) use session::InboundKeys; // the adversary's oracle (src/fuzzing/adversary.rs)
#[cfg(feature = "hazmat")]
pub use session::{RatchetSnapshot, ReceiverChainSnapshot};
pub use session::{Session, SessionVersion, SpqrPolicy};
pub(crate) use store::LastResortUse;
pub use store::PreKeyStore;

pub use crate::error::{BundleError, PreKeyKind};
pub use crate::primitives::{Kyber1024Ciphertext, Kyber1024PublicKey, Kyber1024SecretKey, XEdDsaSignature};
pub use crate::wire::signal::PreKeyBundle;

use crate::ratchet::Dialect;

/// The Signal ratchet's parameters (libsignal `rust/protocol`: `consts.rs`, `ratchet/keys.rs`).
pub(crate) static SIGNAL_DIALECT: Dialect = Dialect {
    name: "interolm",
    root_info: b"WhisperRatchet",
    max_gap: crate::consts::SIGNAL_MAX_FORWARD_JUMPS,
    max_skipped: crate::consts::SIGNAL_MAX_SKIPPED_KEYS,
    max_receiver_chains: crate::consts::MAX_RECEIVER_CHAINS,
    eager_sending_step: true,
};
