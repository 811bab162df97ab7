//! The stores a Signal-dialect application implements, as libsignal's: sessions, identities
//! (with the trust decision), one-time / signed / Kyber prekeys, sender keys, and the memory of
//! pre-key messages that made sessions without consuming a one-time key.
//!
//! caudata ships two implementations: [`InMemoryStore`](super::InMemoryStore) here, and a
//! persistent one on SQLite in the separate crate `caudata-sqlite` (`stores/sqlite/`), which
//! keeps every secret value as an encrypted caudata pickle.
//!
//! The traits are synchronous (libsignal's are `async`): caudata has no runtime, and each call
//! is a lookup or a write of one record. An application on an asynchronous database loads what
//! a call needs first, or runs the call on a blocking thread.
//!
//! # Transactions
//! One high-level operation ([`Device::decrypt`](super::Device::decrypt) and friends) reads
//! several stores and, only once the message has authenticated, writes several. A store that
//! can make those writes atomic implements [`ProtocolStore::begin`],
//! [`ProtocolStore::commit`] and [`ProtocolStore::rollback`]; the default methods do nothing,
//! and the operation then writes in this order: identity, session record, replay memory,
//! removal of the used one-time prekeys. A failure between two writes leaves the earlier ones
//! in place.

use zeroize::Zeroizing;

use super::address::{ProtocolAddress, Uuid};
use super::key_records::{IdentityKeyPair, KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord};
use super::session_record::SessionRecord;
use crate::error::StoreError;
use crate::primitives::Curve25519PublicKey;

/// Which way a message goes, for the trust decision (libsignal's `Direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrustDirection {
    /// We are about to send to the address.
    Sending,
    /// We received from the address.
    Receiving,
}

/// What [`IdentityKeyStore::save_identity`] did (libsignal's `IdentityChange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdentityChange {
    /// The address had no identity, or the same one.
    NewOrUnchanged,
    /// The address had another identity, now replaced: the correspondent changed identity
    /// key (reinstalled, or someone else). Applications show a safety-number change.
    ReplacedExisting,
}

/// Sessions, one [`SessionRecord`] per remote address.
pub trait SessionStore {
    /// The record for `address`, if any.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn load_session(&self, address: &ProtocolAddress) -> Result<Option<SessionRecord>, StoreError>;

    /// Stores `record` for `address`, replacing any record.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn store_session(&mut self, address: &ProtocolAddress, record: &SessionRecord) -> Result<(), StoreError>;
}

/// The local identity, and the identity keys of correspondents with the trust decision.
pub trait IdentityKeyStore {
    /// The local identity key pair.
    ///
    /// # Errors
    /// [`StoreError::NoLocalIdentity`] before one is set, or another [`StoreError`].
    fn identity_key_pair(&self) -> Result<IdentityKeyPair, StoreError>;

    /// The local registration id.
    ///
    /// # Errors
    /// As [`IdentityKeyStore::identity_key_pair`].
    fn local_registration_id(&self) -> Result<u32, StoreError>;

    /// Records `identity` as the identity key of `address` (after a message from it
    /// authenticated, or when a session with it is started).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn save_identity(
        &mut self,
        address: &ProtocolAddress,
        identity: &Curve25519PublicKey,
    ) -> Result<IdentityChange, StoreError>;

    /// Whether `identity` may be used with `address` in `direction`. libsignal's in-memory
    /// store (and [`InMemoryStore`](super::InMemoryStore)) trusts an address's first identity
    /// and then only that one; Signal's apps also let the user accept a changed one.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn is_trusted_identity(
        &self,
        address: &ProtocolAddress,
        identity: &Curve25519PublicKey,
        direction: TrustDirection,
    ) -> Result<bool, StoreError>;

    /// The identity key recorded for `address`, if any.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn identity(&self, address: &ProtocolAddress) -> Result<Option<Curve25519PublicKey>, StoreError>;
}

/// One-time prekeys (libsignal's `PreKeyStore`).
pub trait OneTimePreKeyStore {
    /// The prekey `id`, if the store still has it.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn load_pre_key(&self, id: u32) -> Result<Option<PreKeyRecord>, StoreError>;

    /// Stores a prekey under its id.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn store_pre_key(&mut self, record: &PreKeyRecord) -> Result<(), StoreError>;

    /// Removes the prekey `id` (a session used it); removing a missing one is not an error.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn remove_pre_key(&mut self, id: u32) -> Result<(), StoreError>;
}

/// Signed prekeys (libsignal's `SignedPreKeyStore`), with their creation times for rotation.
pub trait SignedPreKeyStore {
    /// The signed prekey `id`, if the store has it.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn load_signed_pre_key(&self, id: u32) -> Result<Option<SignedPreKeyRecord>, StoreError>;

    /// Stores a signed prekey under its id.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn store_signed_pre_key(&mut self, record: &SignedPreKeyRecord) -> Result<(), StoreError>;

    /// Removes the signed prekey `id` (rotation).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn remove_signed_pre_key(&mut self, id: u32) -> Result<(), StoreError>;

    /// The ids of every signed prekey held, ascending.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn signed_pre_key_ids(&self) -> Result<Vec<u32>, StoreError>;
}

/// Kyber prekeys (libsignal's `KyberPreKeyStore`), one-time and last-resort.
pub trait KyberPreKeyStore {
    /// The Kyber prekey `id`, if the store has it.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn load_kyber_pre_key(&self, id: u32) -> Result<Option<KyberPreKeyRecord>, StoreError>;

    /// Stores a Kyber prekey under its id.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn store_kyber_pre_key(&mut self, record: &KyberPreKeyRecord) -> Result<(), StoreError>;

    /// Removes the Kyber prekey `id` (a session used a one-time one, or rotation).
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn remove_kyber_pre_key(&mut self, id: u32) -> Result<(), StoreError>;

    /// The ids of every Kyber prekey held, ascending.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn kyber_pre_key_ids(&self) -> Result<Vec<u32>, StoreError>;
}

/// A pre-key message that created a session without consuming any one-time key: X3DH or PQXDH
/// without a one-time prekey, and with no Kyber prekey or a last-resort one. Such a message
/// could create the same session again and again (its keys stay), so the responder remembers
/// it (libsignal leaves this to the application, through `markKyberPreKeyUsed`, and does
/// nothing for X3DH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PreKeyUse {
    /// The signed prekey it used.
    pub signed_pre_key_id: u32,
    /// The (last-resort) Kyber prekey it used, if any.
    pub kyber_pre_key_id: Option<u32>,
    /// The initiator's base key.
    pub base_key: Curve25519PublicKey,
}

/// The memory of [`PreKeyUse`]s, the hook through which an application keeps it itself. The
/// high-level API refuses a pre-key message whose use is remembered
/// ([`SessionCreationError::ReplayedPreKeyMessage`](crate::SessionCreationError::ReplayedPreKeyMessage))
/// and remembers each new one once its message has decrypted.
///
/// The memory only needs to cover the life of the signed prekey a use names: once that key is
/// removed, the message cannot create a session anyway. [`InMemoryStore`](super::InMemoryStore)
/// keeps the newest [`MAX_LAST_RESORT_USES`](crate::consts::MAX_LAST_RESORT_USES) (16-byte
/// digests) and forgets those of a signed or Kyber prekey when it is removed.
pub trait PreKeyReplayStore {
    /// Whether `entry` is remembered.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn contains_pre_key_use(&self, entry: &PreKeyUse) -> Result<bool, StoreError>;

    /// Remembers `entry`.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn remember_pre_key_use(&mut self, entry: &PreKeyUse) -> Result<(), StoreError>;
}

/// Sender keys (libsignal's `SenderKeyStore`), one record per sender address and distribution
/// id. The record is opaque here: the bytes are the **unencrypted caudata pickle** of the
/// sender-key record (secret; they are wiped on drop), which persistent stores encrypt at rest
/// (`caudata-sqlite` seals them with [`crate::pickle::seal_unencrypted`]).
pub trait SenderKeyStore {
    /// Stores the record of `sender`'s sender key for `distribution_id`.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn store_sender_key(
        &mut self,
        sender: &ProtocolAddress,
        distribution_id: &Uuid,
        record: &[u8],
    ) -> Result<(), StoreError>;

    /// The record stored for `sender` and `distribution_id`, if any.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn load_sender_key(
        &self,
        sender: &ProtocolAddress,
        distribution_id: &Uuid,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError>;
}

/// Everything the high-level API ([`Device`](super::Device)) needs, with optional
/// transactions.
///
/// One high-level operation ([`Device::decrypt`](super::Device::decrypt) and friends) reads
/// several stores and, only once the message has authenticated, writes several. A store that
/// can make those writes atomic implements [`ProtocolStore::begin`], [`ProtocolStore::commit`]
/// and [`ProtocolStore::rollback`]; the default methods do nothing, and the operation then
/// writes in this order: identity, session record, replay memory, removal of the used one-time
/// prekeys. A failure between two writes leaves the earlier ones in place.
///
/// The store traits are synchronous (libsignal's are `async`): caudata has no runtime, and
/// each call is a lookup or a write of one record. An application on an asynchronous database
/// loads what a call needs first, or runs the call on a blocking thread.
pub trait ProtocolStore:
    SessionStore + IdentityKeyStore + OneTimePreKeyStore + SignedPreKeyStore + KyberPreKeyStore + PreKeyReplayStore
{
    /// Starts a transaction: the writes until [`ProtocolStore::commit`] are to be kept or
    /// dropped together. The default does nothing.
    ///
    /// # Errors
    /// [`StoreError`] if the store fails.
    fn begin(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Keeps the writes made since [`ProtocolStore::begin`].
    ///
    /// # Errors
    /// [`StoreError`] if the store fails; the caller then calls [`ProtocolStore::rollback`].
    fn commit(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Drops the writes made since [`ProtocolStore::begin`] (called after any error).
    fn rollback(&mut self) {}
}
