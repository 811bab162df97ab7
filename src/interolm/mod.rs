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
//! Beyond one session, what applications talking to libsignal peers use: [`group`] (sender
//! keys: Signal groups), [`sealed_sender`] (v1, v2 and multi-recipient envelopes with server
//! and sender certificates), [`retry`] (retry receipts: `DecryptionErrorMessage`,
//! `PlaintextContent`) and [`fingerprint`] (safety numbers); the same over the stores and on
//! [`Device`] for applications using the high-level API.
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
mod address;
mod bundle;
mod device;
mod device_groups;
pub mod fingerprint;
pub mod group;
mod key_records;
mod memory_store;
mod message;
pub mod retry;
pub mod sealed_sender;
mod session;
mod session_record;
pub mod spqr;
mod store;
mod stores;

pub use account::{Account, InboundCreationResult};
pub use fingerprint::{DEFAULT_ITERATIONS as FINGERPRINT_ITERATIONS, Fingerprint, ScannableFingerprint};
pub use group::{
    DistributionId, SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord,
    create_sender_key_distribution_message, group_decrypt, group_encrypt, process_sender_key_distribution_message,
};
pub use message::{InterolmMessage, MessageType, PreKeySignalMessage, SignalMessage};
pub use retry::{DecryptionErrorMessage, PlaintextContent};
pub use sealed_sender::{
    ContentHint, MAX_KNOWN_SENDERS, MAX_KNOWN_SERVER_CERTIFICATES, MultiRecipientDelivery, SealedSenderReceiver,
    SealedSenderRecipient, SenderCertificate, ServerCertificate, UnidentifiedSenderMessageContent,
    multi_recipient_message_for_recipient, sealed_sender_decrypt, sealed_sender_decrypt_to_usmc, sealed_sender_encrypt,
    sealed_sender_multi_recipient_encrypt,
};
#[cfg(feature = "hazmat")]
pub use sealed_sender::{sealed_sender_encrypt_with_rng, sealed_sender_multi_recipient_encrypt_with_rng};
#[cfg(feature = "hazmat")]
pub use session::{RatchetSnapshot, ReceiverChainSnapshot};
pub use session::{Session, SessionVersion, SpqrPolicy};
pub(crate) use store::LastResortUse;
pub use store::PreKeyStore;

// Applications: addresses, session records, stores and the high-level API.
pub use address::{
    ADDRESSES_LENGTH, DeviceId, MAX_DEVICE_ID, MessageAddresses, ProtocolAddress, SERVICE_ID_LENGTH, ServiceId,
    ServiceIdKind, Uuid,
};
pub use device::Device;
pub use device_groups::SealedSenderDecryptionResult;
pub use key_records::{IdentityKeyPair, KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord};
pub use memory_store::InMemoryStore;
pub use session_record::{MAX_ARCHIVED_SESSIONS, SessionRecord, SessionSlot};
pub use stores::{
    IdentityChange, IdentityKeyStore, KyberPreKeyStore, OneTimePreKeyStore, PreKeyReplayStore, PreKeyUse,
    ProtocolStore, SenderKeyStore, SessionStore, SignedPreKeyStore, TrustDirection,
};

pub use crate::error::{AddressError, BundleError, EncryptionError, PreKeyKind, ProtocolError, StoreError};
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
