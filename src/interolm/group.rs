//! Sender keys: libsignal's group messages (`SenderKeyDistributionMessage` and
//! `SenderKeyMessage`, message type 7), wire- and storage-compatible with libsignal 0.72.1 …
//! 0.103.0.
//!
//! Each group member has, per group (a *distribution id*, a UUID), one sending chain: a chain
//! key that advances with every message (`seed = HMAC(CK, 0x01)`, `CK' = HMAC(CK, 0x02)`,
//! message keys `HKDF(∅, seed, "WhisperGroup", 48)` = IV(16) ‖ AES-256 key(32)) and an X25519
//! signing key whose XEdDSA signature ends every message. A member sends its chain key and
//! the signing key's public half to each other member in a [`SenderKeyDistributionMessage`]
//! (inside a 1:1 session), then encrypts each group message once, for everyone.
//!
//! A [`SenderKeyRecord`] is what libsignal's `SenderKeyStore` keeps per (sender address,
//! distribution id): up to five states (chains), newest first. The sender's own record holds
//! its private signing key; the receivers' records hold the public key, the chain key, and up
//! to 2 000 skipped message keys per chain. A receiver accepts a message at most 25 000
//! iterations ahead of its chain.
//!
//! Every failed operation leaves the record exactly as it was. The record remembers its
//! distribution id and refuses messages of another one.
//!
//! ```
//! use caudata::interolm::{DistributionId, SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord};
//!
//! let group = DistributionId::from_bytes([0x11; 16]);
//! // Alice's own record for the group, and the distribution message she sends to Bob (inside
//! // their 1:1 session).
//! let mut alice = SenderKeyRecord::new();
//! let skdm = alice.create_distribution_message(group).unwrap();
//! let skdm = SenderKeyDistributionMessage::from_bytes(&skdm.to_bytes()).unwrap();
//!
//! // Bob's record for (Alice's address, the group).
//! let mut bob_view_of_alice = SenderKeyRecord::new();
//! bob_view_of_alice.process_distribution_message(&skdm).unwrap();
//!
//! let m1 = alice.encrypt(group, b"first").unwrap();
//! let m2 = alice.encrypt(group, b"second").unwrap();
//! // Type 7 on the wire; out of order is fine.
//! let m2 = SenderKeyMessage::from_bytes(&m2.to_bytes()).unwrap();
//! assert_eq!(bob_view_of_alice.decrypt(&m2).unwrap(), b"second");
//! assert_eq!(bob_view_of_alice.decrypt(&m1).unwrap(), b"first");
//! assert!(bob_view_of_alice.decrypt(&m1).is_err()); // a replay
//! ```

use std::collections::VecDeque;

use zeroize::Zeroizing;

use super::address::Uuid;
use crate::consts::{MAX_SENDER_KEY_STATES, SENDER_KEY_MAX_FORWARD_JUMPS, SENDER_KEY_MAX_SKIPPED_KEYS};
use crate::error::{DecodeError, KeyError, SenderKeyError};
use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, HmacKey, OsRandom, RandomSource, SecretBytes, XEdDsaSignature,
    aes256_cbc_decrypt, aes256_cbc_encrypt, hkdf_sha256,
};
use crate::wire::codec::{Reader, as_bytes, as_u32, put_bytes_field, put_varint_field, set_once};
use crate::wire::sender_key::{SENDER_KEY_VERSION, SenderKeyDistributionWire, SenderKeyMessageWire};
use crate::wire::signal::{PUBLIC_KEY_LENGTH, decode_public_key, encode_public_key};

/// A group's distribution id: a UUID chosen by the group's creator and shared by every member
/// (libsignal's `distributionId`).
pub type DistributionId = Uuid;

impl Uuid {
    /// A random (version 4) UUID, e.g. a new group's distribution id.
    pub fn random_v4() -> Self {
        let mut b = [0u8; 16];
        OsRandom.fill(&mut b);
        b[6] = (b[6] & 0x0F) | 0x40;
        b[8] = (b[8] & 0x3F) | 0x80;
        Self::from_bytes(b)
    }
}

/// A `SenderKeyDistributionMessage`: a member's chain key (at some iteration), chain id and
/// public signing key for one group. It carries a secret: send it only inside an encrypted
/// 1:1 session, and drop it after processing (it is wiped on drop).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SenderKeyDistributionMessage(pub(crate) SenderKeyDistributionWire);

impl SenderKeyDistributionMessage {
    /// Decodes the binary form (libsignal's `SenderKeyDistributionMessage.serialize()`).
    ///
    /// # Errors
    /// A [`DecodeError`] naming the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        SenderKeyDistributionWire::decode(bytes).map(Self)
    }

    /// The binary form. It holds the chain key and is wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.as_bytes().to_vec())
    }

    /// The group.
    pub fn distribution_id(&self) -> DistributionId {
        DistributionId::from_bytes(self.0.distribution_id)
    }

    /// The chain id.
    pub fn chain_id(&self) -> u32 {
        self.0.chain_id
    }

    /// The iteration of the chain key it carries: the first message a receiver can read.
    pub fn iteration(&self) -> u32 {
        self.0.iteration
    }

    /// The chain's public signing key.
    pub fn signing_key(&self) -> Curve25519PublicKey {
        self.0.signing_key
    }
}

/// A `SenderKeyMessage` (message type 7).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SenderKeyMessage(pub(crate) SenderKeyMessageWire);

impl SenderKeyMessage {
    /// Decodes the binary form.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        SenderKeyMessageWire::decode(bytes).map(Self)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }

    /// The group.
    pub fn distribution_id(&self) -> DistributionId {
        DistributionId::from_bytes(self.0.distribution_id)
    }

    /// The chain id.
    pub fn chain_id(&self) -> u32 {
        self.0.chain_id
    }

    /// The message key's iteration.
    pub fn iteration(&self) -> u32 {
        self.0.iteration
    }

    /// Whether the signature verifies with `signing_key` (XEdDSA, as libsignal verifies).
    pub fn verify_signature(&self, signing_key: &Curve25519PublicKey) -> bool {
        XEdDsaSignature::from_slice(self.0.signature())
            .is_ok_and(|sig| signing_key.verify_xeddsa(self.0.signed_bytes(), &sig).is_ok())
    }
}

/// A chain key and its iteration.
#[derive(Clone)]
struct SenderChainKey {
    iteration: u32,
    key: SecretBytes<32>,
}

const MESSAGE_KEY_SEED: u8 = 0x01;
const CHAIN_KEY_SEED: u8 = 0x02;
const GROUP_INFO: &[u8] = b"WhisperGroup";

impl SenderChainKey {
    fn derive(&self, byte: u8) -> SecretBytes<32> {
        let mut out = SecretBytes::zero();
        HmacKey::new(self.key.expose()).mac_byte_into(byte, out.expose_mut());
        out
    }

    fn message_key(&self) -> SenderMessageKey {
        SenderMessageKey { iteration: self.iteration, seed: self.derive(MESSAGE_KEY_SEED) }
    }

    /// The next chain key; `None` at iteration 2^32 − 1 (there is no next).
    fn next(&self) -> Option<Self> {
        Some(Self { iteration: self.iteration.checked_add(1)?, key: self.derive(CHAIN_KEY_SEED) })
    }
}

/// A message key's seed (what libsignal stores) and its iteration.
#[derive(Clone)]
struct SenderMessageKey {
    iteration: u32,
    seed: SecretBytes<32>,
}

impl SenderMessageKey {
    /// `HKDF(∅, seed, "WhisperGroup", 48)` = IV(16) ‖ key(32).
    fn keys(&self) -> (SecretBytes<16>, SecretBytes<32>) {
        let mut okm = SecretBytes::<48>::zero();
        hkdf_sha256(None, self.seed.expose(), GROUP_INFO, okm.expose_mut());
        let mut iv = SecretBytes::<16>::zero();
        let mut key = SecretBytes::<32>::zero();
        iv.expose_mut().copy_from_slice(&okm.expose()[..16]);
        key.expose_mut().copy_from_slice(&okm.expose()[16..]);
        (iv, key)
    }
}

/// One chain of a record.
#[derive(Clone)]
struct SenderKeyState {
    message_version: u8,
    chain_id: u32,
    chain: SenderChainKey,
    signing_public: Curve25519PublicKey,
    signing_private: Option<Curve25519SecretKey>,
    /// Oldest first.
    skipped: VecDeque<SenderMessageKey>,
}

/// libsignal's `SenderKeyRecord`: the sender-key states (chains) of one sender in one group,
/// newest first, at most [`MAX_SENDER_KEY_STATES`]. See the [module documentation](self).
///
/// Stored with [`SenderKeyRecord::pickle`] (caudata's pickle format, encrypted or not) or in
/// libsignal's own storage format ([`SenderKeyRecord::to_libsignal_bytes`], which libsignal's
/// `SenderKeyRecord.deserialize` reads, and [`SenderKeyRecord::from_libsignal_bytes`]).
#[derive(Clone, Default)]
pub struct SenderKeyRecord {
    pub(crate) distribution_id: Option<DistributionId>,
    states: VecDeque<SenderKeyState>,
}

impl core::fmt::Debug for SenderKeyRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { distribution_id, states } = self;
        f.debug_struct("SenderKeyRecord")
            .field("distribution_id", distribution_id)
            .field(
                "chains",
                &states
                    .iter()
                    .map(|s| (s.chain_id, s.chain.iteration, s.skipped.len(), s.signing_private.is_some()))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl SenderKeyRecord {
    /// An empty record (no state yet; it takes the distribution id of the first distribution
    /// message it makes or processes).
    pub fn new() -> Self {
        Self::default()
    }

    /// The record's distribution id, once it has one.
    pub fn distribution_id(&self) -> Option<DistributionId> {
        self.distribution_id
    }

    /// The chain ids of the states, newest first.
    pub fn chain_ids(&self) -> Vec<u32> {
        self.states.iter().map(|s| s.chain_id).collect()
    }

    /// The current chain's iteration: the next message's (sender) or the next expected one
    /// (receiver); `None` for an empty record.
    pub fn current_iteration(&self) -> Option<u32> {
        self.states.front().map(|s| s.chain.iteration)
    }

    /// Whether the current state can send (holds a private signing key).
    pub fn can_send(&self) -> bool {
        self.states.front().is_some_and(|s| s.signing_private.is_some())
    }

    fn check_distribution(&self, got: DistributionId) -> Result<(), SenderKeyError> {
        match self.distribution_id {
            Some(expected) if expected != got => Err(SenderKeyError::WrongDistributionId { expected, got }),
            _ => Ok(()),
        }
    }

    /// The distribution message for this member's own chain in the group `distribution_id`:
    /// an empty record first gets a new sending state (random 31-bit chain id, random chain
    /// key at iteration 0, new signing key), as libsignal's `SenderKeyDistributionMessage.create`
    /// does; otherwise the current state's chain key at its current iteration is sent.
    ///
    /// # Errors
    /// [`SenderKeyError::WrongDistributionId`] if the record belongs to another group.
    pub fn create_distribution_message(
        &mut self,
        distribution_id: DistributionId,
    ) -> Result<SenderKeyDistributionMessage, SenderKeyError> {
        self.create_distribution_message_inner(distribution_id, &mut OsRandom)
    }

    /// [`SenderKeyRecord::create_distribution_message`] with an explicit random source (4 bytes
    /// for the chain id, 32 for the chain key, 32 for the signing key, when a state is made).
    #[cfg(feature = "hazmat")]
    pub fn create_distribution_message_with_rng(
        &mut self,
        distribution_id: DistributionId,
        rng: &mut impl RandomSource,
    ) -> Result<SenderKeyDistributionMessage, SenderKeyError> {
        self.create_distribution_message_inner(distribution_id, rng)
    }

    fn create_distribution_message_inner(
        &mut self,
        distribution_id: DistributionId,
        rng: &mut impl RandomSource,
    ) -> Result<SenderKeyDistributionMessage, SenderKeyError> {
        self.check_distribution(distribution_id)?;
        if self.states.is_empty() {
            let mut id = [0u8; 4];
            rng.fill(&mut id);
            // libsignal-protocol-java uses 31-bit chain ids; libsignal keeps that.
            let chain_id = u32::from_le_bytes(id) >> 1;
            let key = SecretBytes::random(rng);
            let signing = Curve25519SecretKey::random(rng);
            self.states.push_front(SenderKeyState {
                message_version: SENDER_KEY_VERSION,
                chain_id,
                chain: SenderChainKey { iteration: 0, key },
                signing_public: signing.public_key(),
                signing_private: Some(signing),
                skipped: VecDeque::new(),
            });
            self.distribution_id = Some(distribution_id);
        }
        let s = self.states.front().ok_or(SenderKeyError::NoSenderKeyState)?;
        Ok(SenderKeyDistributionMessage(SenderKeyDistributionWire::encode(
            distribution_id.as_bytes(),
            s.chain_id,
            s.chain.iteration,
            &s.chain.key,
            &s.signing_public,
        )))
    }

    /// Stores the chain a distribution message announces, as libsignal's
    /// `processSenderKeyDistributionMessage` does: a state with the same chain id and signing
    /// key is kept as it is (moved to the front), any other state with that chain id is
    /// dropped, the new state goes to the front, and the oldest states beyond five are dropped.
    ///
    /// # Errors
    /// [`SenderKeyError::WrongDistributionId`] if the record belongs to another group,
    /// [`SenderKeyError::InvalidSigningKey`] for a non-canonical or small-order signing key
    /// (which libsignal would store). Nothing is changed on error.
    pub fn process_distribution_message(
        &mut self,
        message: &SenderKeyDistributionMessage,
    ) -> Result<(), SenderKeyError> {
        let m = &message.0;
        self.check_distribution(message.distribution_id())?;
        m.signing_key.validate_vartime().map_err(SenderKeyError::InvalidSigningKey)?;
        let existing = self.states.iter().position(|s| s.chain_id == m.chain_id && s.signing_public == m.signing_key);
        let state = match existing.and_then(|i| self.states.remove(i)) {
            Some(s) => s,
            None => SenderKeyState {
                message_version: m.version >> 4,
                chain_id: m.chain_id,
                chain: SenderChainKey { iteration: m.iteration, key: m.chain_key.clone() },
                signing_public: m.signing_key,
                signing_private: None,
                skipped: VecDeque::new(),
            },
        };
        self.states.retain(|s| s.chain_id != m.chain_id);
        while self.states.len() >= MAX_SENDER_KEY_STATES {
            self.states.pop_back();
        }
        self.states.push_front(state);
        self.distribution_id = Some(message.distribution_id());
        Ok(())
    }

    /// Encrypts a group message with the current (own) chain, as libsignal's `groupEncrypt`:
    /// AES-256-CBC under the chain's next message key, signed with the private signing key.
    ///
    /// # Errors
    /// [`SenderKeyError::WrongDistributionId`], [`SenderKeyError::NoSenderKeyState`],
    /// [`SenderKeyError::NotSender`] (a record that only receives), or
    /// [`SenderKeyError::ChainExhausted`]. Nothing is changed on error.
    pub fn encrypt(
        &mut self,
        distribution_id: DistributionId,
        plaintext: &[u8],
    ) -> Result<SenderKeyMessage, SenderKeyError> {
        self.encrypt_inner(distribution_id, plaintext, &mut OsRandom)
    }

    /// [`SenderKeyRecord::encrypt`] with an explicit random source (64 bytes for the signature).
    #[cfg(feature = "hazmat")]
    pub fn encrypt_with_rng(
        &mut self,
        distribution_id: DistributionId,
        plaintext: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<SenderKeyMessage, SenderKeyError> {
        self.encrypt_inner(distribution_id, plaintext, rng)
    }

    fn encrypt_inner(
        &mut self,
        distribution_id: DistributionId,
        plaintext: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<SenderKeyMessage, SenderKeyError> {
        self.check_distribution(distribution_id)?;
        let s = self.states.front_mut().ok_or(SenderKeyError::NoSenderKeyState)?;
        let signing = s.signing_private.as_ref().ok_or(SenderKeyError::NotSender)?;
        let next = s.chain.next().ok_or(SenderKeyError::ChainExhausted)?;
        let mk = s.chain.message_key();
        let (iv, key) = mk.keys();
        let ciphertext = aes256_cbc_encrypt(key.expose(), iv.expose(), plaintext);
        let wire =
            SenderKeyMessageWire::encode(distribution_id.as_bytes(), s.chain_id, mk.iteration, ciphertext, |b| {
                signing.sign_xeddsa_inner(b, rng).to_bytes()
            });
        s.chain = next;
        Ok(SenderKeyMessage(wire))
    }

    /// The current state's signature over `bytes` (the fuzzers re-sign what they forge).
    #[cfg(feature = "hazmat")]
    pub(crate) fn sign_for_fuzzing(&self, bytes: &[u8], rng: &mut impl RandomSource) -> Option<[u8; 64]> {
        let key = self.states.front()?.signing_private.as_ref()?;
        Some(key.sign_xeddsa_inner(bytes, rng).to_bytes())
    }

    /// Decrypts a group message, as libsignal's `groupDecrypt`: finds the state of the
    /// message's chain id, checks the signature, takes a skipped key or advances the chain
    /// (at most 25 000 iterations ahead, keeping at most 2 000 skipped keys), then decrypts.
    ///
    /// # Errors
    /// [`SenderKeyError::WrongDistributionId`], [`SenderKeyError::NoSenderKeyState`],
    /// [`SenderKeyError::UnknownChain`], [`SenderKeyError::VersionMismatch`],
    /// [`SenderKeyError::InvalidSignature`], [`SenderKeyError::DuplicatedMessage`],
    /// [`SenderKeyError::TooFarInFuture`], [`SenderKeyError::ChainExhausted`] or
    /// [`SenderKeyError::DecryptionFailed`]. Nothing is changed on error.
    pub fn decrypt(&mut self, message: &SenderKeyMessage) -> Result<Vec<u8>, SenderKeyError> {
        let m = &message.0;
        self.check_distribution(message.distribution_id())?;
        if self.states.is_empty() {
            return Err(SenderKeyError::NoSenderKeyState);
        }
        let index = self
            .states
            .iter()
            .position(|s| s.chain_id == m.chain_id)
            .ok_or(SenderKeyError::UnknownChain { chain_id: m.chain_id })?;
        let state = &self.states[index];
        if m.version >> 4 != state.message_version {
            return Err(SenderKeyError::VersionMismatch { expected: state.message_version, got: m.version >> 4 });
        }
        if !message.verify_signature(&state.signing_public) {
            return Err(SenderKeyError::InvalidSignature);
        }
        let plan = plan_message_key(state, m.iteration)?;
        let (iv, key) = plan.key.keys();
        let plaintext =
            aes256_cbc_decrypt(key.expose(), iv.expose(), &m.ciphertext).ok_or(SenderKeyError::DecryptionFailed)?;
        let state = &mut self.states[index];
        match plan.update {
            Update::TakeSkipped(i) => {
                state.skipped.remove(i);
            }
            Update::Advance { chain, new_skipped } => {
                state.chain = chain;
                state.skipped.extend(new_skipped);
                while state.skipped.len() > SENDER_KEY_MAX_SKIPPED_KEYS {
                    state.skipped.pop_front();
                }
            }
        }
        Ok(plaintext)
    }
}

/// What a successful decrypt changes in the state.
enum Update {
    TakeSkipped(usize),
    Advance { chain: SenderChainKey, new_skipped: Vec<SenderMessageKey> },
}

struct Plan {
    key: SenderMessageKey,
    update: Update,
}

fn plan_message_key(state: &SenderKeyState, iteration: u32) -> Result<Plan, SenderKeyError> {
    let current = state.chain.iteration;
    if iteration < current {
        let i = state
            .skipped
            .iter()
            .position(|k| k.iteration == iteration)
            .ok_or(SenderKeyError::DuplicatedMessage { iteration, current })?;
        return Ok(Plan { key: state.skipped[i].clone(), update: Update::TakeSkipped(i) });
    }
    let jump = iteration - current;
    if jump > SENDER_KEY_MAX_FORWARD_JUMPS {
        return Err(SenderKeyError::TooFarInFuture { got: u64::from(jump), max: SENDER_KEY_MAX_FORWARD_JUMPS });
    }
    // Only the newest skipped keys survive the bound; the older ones are not derived at all.
    let keep_from = iteration.saturating_sub(SENDER_KEY_MAX_SKIPPED_KEYS as u32);
    let mut chain = state.chain.clone();
    let mut new_skipped = Vec::new();
    while chain.iteration < iteration {
        if chain.iteration >= keep_from {
            new_skipped.push(chain.message_key());
        }
        chain = chain.next().ok_or(SenderKeyError::ChainExhausted)?;
    }
    let key = chain.message_key();
    let chain = chain.next().ok_or(SenderKeyError::ChainExhausted)?;
    Ok(Plan { key, update: Update::Advance { chain, new_skipped } })
}

// ------------------------------------------------------------------ over a SenderKeyStore

use super::address::ProtocolAddress;
use super::stores::SenderKeyStore;
use crate::error::{GroupError, StoreError};
use crate::pickle::SenderKeyRecordPickle;

fn load_record<S: SenderKeyStore + ?Sized>(
    store: &S,
    sender: &ProtocolAddress,
    distribution_id: &DistributionId,
) -> Result<Option<SenderKeyRecord>, GroupError> {
    let Some(bytes) = store.load_sender_key(sender, distribution_id)? else { return Ok(None) };
    let pickle = SenderKeyRecordPickle::from_unencrypted_bytes(&bytes).map_err(StoreError::Pickle)?;
    Ok(Some(SenderKeyRecord::from_pickle(pickle)))
}

fn store_record<S: SenderKeyStore + ?Sized>(
    store: &mut S,
    sender: &ProtocolAddress,
    distribution_id: &DistributionId,
    record: &SenderKeyRecord,
) -> Result<(), GroupError> {
    store.store_sender_key(sender, distribution_id, &record.pickle().to_unencrypted_bytes())?;
    Ok(())
}

/// libsignal's `SenderKeyDistributionMessage.create`: the distribution message of `sender`'s
/// (this device's own address) chain for the group, creating the chain on first use.
///
/// # Errors
/// [`GroupError::Store`] if the store fails or holds a record that does not decode.
pub fn create_sender_key_distribution_message<S: SenderKeyStore + ?Sized>(
    store: &mut S,
    sender: &ProtocolAddress,
    distribution_id: &DistributionId,
) -> Result<SenderKeyDistributionMessage, GroupError> {
    let existing = load_record(store, sender, distribution_id)?;
    let created = existing.is_none();
    let mut record = existing.unwrap_or_default();
    let m = record.create_distribution_message(*distribution_id)?;
    if created {
        store_record(store, sender, distribution_id, &record)?;
    }
    Ok(m)
}

/// libsignal's `processSenderKeyDistributionMessage`: stores the chain `sender` announces.
///
/// # Errors
/// As [`SenderKeyRecord::process_distribution_message`], or [`GroupError::Store`].
pub fn process_sender_key_distribution_message<S: SenderKeyStore + ?Sized>(
    store: &mut S,
    sender: &ProtocolAddress,
    message: &SenderKeyDistributionMessage,
) -> Result<(), GroupError> {
    let id = message.distribution_id();
    let mut record = load_record(store, sender, &id)?.unwrap_or_default();
    record.process_distribution_message(message)?;
    store_record(store, sender, &id, &record)
}

/// libsignal's `groupEncrypt`: a group message from `sender` (this device's own address).
///
/// # Errors
/// As [`SenderKeyRecord::encrypt`] ([`SenderKeyError::NoSenderKeyState`] when no chain was
/// created), or [`GroupError::Store`].
pub fn group_encrypt<S: SenderKeyStore + ?Sized>(
    store: &mut S,
    sender: &ProtocolAddress,
    distribution_id: &DistributionId,
    plaintext: &[u8],
) -> Result<SenderKeyMessage, GroupError> {
    let mut record = load_record(store, sender, distribution_id)?.ok_or(SenderKeyError::NoSenderKeyState)?;
    let m = record.encrypt(*distribution_id, plaintext)?;
    store_record(store, sender, distribution_id, &record)?;
    Ok(m)
}

/// libsignal's `groupDecrypt`: a group message from `sender`, with the record stored for
/// `sender` and the message's distribution id.
///
/// # Errors
/// As [`SenderKeyRecord::decrypt`] ([`SenderKeyError::NoSenderKeyState`] when nothing is
/// stored), or [`GroupError::Store`]. Nothing is stored on error.
pub fn group_decrypt<S: SenderKeyStore + ?Sized>(
    store: &mut S,
    sender: &ProtocolAddress,
    message: &SenderKeyMessage,
) -> Result<Vec<u8>, GroupError> {
    let id = message.distribution_id();
    let mut record = load_record(store, sender, &id)?.ok_or(SenderKeyError::NoSenderKeyState)?;
    let plaintext = record.decrypt(message)?;
    store_record(store, sender, &id, &record)?;
    Ok(plaintext)
}

// ------------------------------------------------------------------ libsignal's storage format

/// `SenderKeyRecordStructure` (libsignal `storage.proto`, proto3):
/// `repeated SenderKeyStateStructure sender_key_states = 1`, each
/// `{1 chain_id, 2 {1 iteration, 2 seed} chain key, 3 {1 public(33), 2 private(32)} signing key,
/// 4 repeated {1 iteration, 2 seed} message keys, 5 message_version}`; zero values are left out,
/// as proto3 writes them.
/// An upper bound on a state's encoded size, so that no buffer holding keys ever reallocates
/// (a reallocation would free the old buffer without wiping it): chain id 6, chain key 42,
/// signing key 71, version 6, each skipped key 42, the state's own tag and length 6.
fn state_capacity(s: &SenderKeyState) -> usize {
    140 + s.skipped.len() * 48
}

fn encode_state(s: &SenderKeyState, out: &mut Zeroizing<Vec<u8>>) {
    let mut body = Zeroizing::new(Vec::with_capacity(state_capacity(s)));
    if s.chain_id != 0 {
        put_varint_field(&mut body, 1, u64::from(s.chain_id));
    }
    let mut ck = Zeroizing::new(Vec::with_capacity(48));
    put_chain(&mut ck, s.chain.iteration, &s.chain.key);
    put_bytes_field(&mut body, 2, &ck);
    let mut sk = Zeroizing::new(Vec::with_capacity(70));
    put_bytes_field(&mut sk, 1, &encode_public_key(&s.signing_public));
    if let Some(p) = &s.signing_private {
        put_bytes_field(&mut sk, 2, p.to_secret_bytes().expose());
    }
    put_bytes_field(&mut body, 3, &sk);
    for k in &s.skipped {
        let mut mk = Zeroizing::new(Vec::with_capacity(48));
        put_chain(&mut mk, k.iteration, &k.seed);
        put_bytes_field(&mut body, 4, &mk);
    }
    if s.message_version != 0 {
        put_varint_field(&mut body, 5, u64::from(s.message_version));
    }
    // `out` was sized by `state_capacity` for every state: this does not reallocate.
    put_bytes_field(out, 1, &body);
}

fn put_chain(out: &mut Vec<u8>, iteration: u32, seed: &SecretBytes<32>) {
    if iteration != 0 {
        put_varint_field(out, 1, u64::from(iteration));
    }
    put_bytes_field(out, 2, seed.expose());
}

fn decode_chain(bytes: &[u8], what: &'static str) -> Result<(u32, SecretBytes<32>), DecodeError> {
    let (mut iteration, mut seed) = (None, None);
    let mut r = Reader::new(bytes);
    while let Some((field, v)) = r.field()? {
        match field {
            1 => set_once(&mut iteration, as_u32(v, what)?, what)?,
            2 => {
                let b = as_bytes(v, what)?;
                let s = SecretBytes::from_slice(b).ok_or(DecodeError::InvalidFieldLength {
                    field: what,
                    expected: 32,
                    got: b.len(),
                })?;
                set_once(&mut seed, s, what)?
            }
            _ => {}
        }
    }
    Ok((iteration.unwrap_or(0), seed.ok_or(DecodeError::MissingField(what))?))
}

fn decode_state(bytes: &[u8]) -> Result<SenderKeyState, DecodeError> {
    let (mut chain_id, mut chain, mut signing, mut version) = (None, None, None, None);
    let mut skipped = VecDeque::new();
    let mut r = Reader::new(bytes);
    while let Some((field, v)) = r.field()? {
        match field {
            1 => set_once(&mut chain_id, as_u32(v, "chain id")?, "chain id")?,
            2 => set_once(
                &mut chain,
                decode_chain(as_bytes(v, "sender chain key")?, "sender chain key")?,
                "sender chain key",
            )?,
            3 => set_once(&mut signing, as_bytes(v, "signing key")?, "signing key")?,
            4 => {
                if skipped.len() >= SENDER_KEY_MAX_SKIPPED_KEYS {
                    return Err(DecodeError::MalformedField("more than 2000 sender message keys"));
                }
                let (iteration, seed) = decode_chain(as_bytes(v, "sender message key")?, "sender message key")?;
                skipped.push_back(SenderMessageKey { iteration, seed });
            }
            5 => set_once(&mut version, as_u32(v, "message version")?, "message version")?,
            _ => {}
        }
    }
    // libsignal reads a missing version as 3 (the first sender-key version).
    let message_version = match version.unwrap_or(0) {
        0 | 3 => SENDER_KEY_VERSION,
        _ => return Err(DecodeError::MalformedField("sender key state version")),
    };
    let (iteration, key) = chain.ok_or(DecodeError::MissingField("sender chain key"))?;
    let (mut public, mut private) = (None, None);
    let mut r = Reader::new(signing.ok_or(DecodeError::MissingField("signing key"))?);
    while let Some((field, v)) = r.field()? {
        match field {
            1 => set_once(&mut public, as_bytes(v, "public signing key")?, "public signing key")?,
            2 => set_once(&mut private, as_bytes(v, "private signing key")?, "private signing key")?,
            _ => {}
        }
    }
    let public = public.ok_or(DecodeError::MissingField("public signing key"))?;
    if public.len() != PUBLIC_KEY_LENGTH {
        return Err(DecodeError::InvalidFieldLength {
            field: "public signing key",
            expected: PUBLIC_KEY_LENGTH,
            got: public.len(),
        });
    }
    let signing_public = decode_public_key(public)?;
    signing_public.validate_vartime()?;
    let signing_private = match private.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => {
            let secret = SecretBytes::<32>::from_slice(p).ok_or(DecodeError::InvalidFieldLength {
                field: "private signing key",
                expected: 32,
                got: p.len(),
            })?;
            let k = Curve25519SecretKey::from_secret_bytes(&secret);
            if k.public_key() != signing_public {
                return Err(DecodeError::Key(KeyError::InvalidPoint));
            }
            Some(k)
        }
    };
    Ok(SenderKeyState {
        message_version,
        chain_id: chain_id.unwrap_or(0),
        chain: SenderChainKey { iteration, key },
        signing_public,
        signing_private,
        skipped,
    })
}

impl SenderKeyRecord {
    /// The record in libsignal's storage format (`SenderKeyRecord.serialize()`): what its
    /// `SenderKeyRecord.deserialize` reads. The distribution id is not part of that format.
    /// The bytes hold chain keys (and, in a sender's own record, the private signing key) and
    /// are wiped on drop.
    pub fn to_libsignal_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.states.iter().map(state_capacity).sum()));
        for s in &self.states {
            encode_state(s, &mut out);
        }
        out
    }

    /// Reads a record in libsignal's storage format (`SenderKeyRecord.serialize()`), for the
    /// group `distribution_id` (the key it was stored under).
    ///
    /// Stricter than libsignal: more than five states or 2 000 skipped keys, a state version
    /// other than 3 (or absent), a key of the wrong length, a non-canonical or small-order
    /// public signing key, and a private signing key that does not match the public one are
    /// all refused.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the problem.
    pub fn from_libsignal_bytes(bytes: &[u8], distribution_id: DistributionId) -> Result<Self, DecodeError> {
        if bytes.len() > crate::consts::MAX_MESSAGE_LENGTH {
            return Err(DecodeError::TooLong { got: bytes.len(), max: crate::consts::MAX_MESSAGE_LENGTH });
        }
        let mut states = VecDeque::new();
        let mut r = Reader::new(bytes);
        while let Some((field, v)) = r.field()? {
            if field == 1 {
                if states.len() >= MAX_SENDER_KEY_STATES {
                    return Err(DecodeError::MalformedField("more than 5 sender key states"));
                }
                states.push_back(decode_state(as_bytes(v, "sender key state")?)?);
            }
        }
        Ok(Self { distribution_id: (!states.is_empty()).then_some(distribution_id), states })
    }
}

// ------------------------------------------------------------------ caudata's pickle body

use crate::error::PickleError;
use crate::pickle::codec::{Reader as PickleReader, Writer as PickleWriter};

/// `option<distribution id(16)> | u8 count | count × state`, a state being
/// `u8 version | u32 chain id | u32 iteration | chain key(32) | signing public(32) |
///  bool private ‖ [private(32)] | u32 n | n × (u32 iteration ‖ seed(32))`.
pub(crate) fn encode_record_body(rec: &SenderKeyRecord, w: &mut PickleWriter) {
    match &rec.distribution_id {
        Some(id) => {
            w.bool(true);
            w.bytes(id.as_bytes());
        }
        None => w.bool(false),
    }
    w.u8(rec.states.len() as u8);
    for s in &rec.states {
        w.u8(s.message_version);
        w.u32(s.chain_id);
        w.u32(s.chain.iteration);
        w.secret(s.chain.key.expose());
        w.bytes(s.signing_public.as_bytes());
        match &s.signing_private {
            Some(p) => {
                w.bool(true);
                w.secret(p.to_secret_bytes().expose());
            }
            None => w.bool(false),
        }
        w.count(s.skipped.len());
        for k in &s.skipped {
            w.u32(k.iteration);
            w.secret(k.seed.expose());
        }
    }
}

pub(crate) fn decode_record_body(r: &mut PickleReader<'_>) -> Result<SenderKeyRecord, PickleError> {
    let distribution_id = if r.bool("distribution id present")? {
        Some(DistributionId::from_bytes(r.bytes::<16>("distribution id")?))
    } else {
        None
    };
    let n = usize::from(r.u8("state count")?);
    if n > MAX_SENDER_KEY_STATES {
        return Err(PickleError::TooMany {
            field: "sender key states",
            got: n as u64,
            max: MAX_SENDER_KEY_STATES as u64,
        });
    }
    if (n == 0) != distribution_id.is_none() {
        return Err(PickleError::InvalidField("distribution id"));
    }
    let mut states = VecDeque::with_capacity(n);
    for _ in 0..n {
        let message_version = r.u8("message version")?;
        if message_version != SENDER_KEY_VERSION {
            return Err(PickleError::InvalidField("message version"));
        }
        let chain_id = r.u32("chain id")?;
        let iteration = r.u32("iteration")?;
        let key = r.secret::<32>("chain key")?;
        let signing_public = Curve25519PublicKey::from_bytes(r.bytes::<32>("signing key")?);
        signing_public.validate_vartime()?;
        let signing_private = if r.bool("private signing key present")? {
            let k = Curve25519SecretKey::from_secret_bytes(&r.secret::<32>("private signing key")?);
            if k.public_key() != signing_public {
                return Err(PickleError::KeyMismatch("signing key"));
            }
            Some(k)
        } else {
            None
        };
        let count = r.count(SENDER_KEY_MAX_SKIPPED_KEYS, 36, "sender message keys")?;
        let mut skipped = VecDeque::with_capacity(count);
        for _ in 0..count {
            let iteration = r.u32("message key iteration")?;
            skipped.push_back(SenderMessageKey { iteration, seed: r.secret::<32>("message key seed")? });
        }
        states.push_back(SenderKeyState {
            message_version,
            chain_id,
            chain: SenderChainKey { iteration, key },
            signing_public,
            signing_private,
            skipped,
        });
    }
    Ok(SenderKeyRecord { distribution_id, states })
}

pub(crate) fn record_size_hint(rec: &SenderKeyRecord) -> usize {
    18 + rec.states.iter().map(|s| 120 + s.skipped.len() * 36).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (SenderKeyRecord, SenderKeyRecord, DistributionId) {
        let id = DistributionId::from_bytes([1; 16]);
        let mut a = SenderKeyRecord::new();
        let d = a.create_distribution_message(id).unwrap();
        let mut b = SenderKeyRecord::new();
        b.process_distribution_message(&d).unwrap();
        (a, b, id)
    }

    #[test]
    fn out_of_order_and_replays() {
        let (mut a, mut b, id) = pair();
        let ms: Vec<_> = (0..10u8).map(|i| a.encrypt(id, &[i]).unwrap()).collect();
        for i in [3usize, 0, 9, 1, 2, 8, 4, 7, 5, 6] {
            assert_eq!(b.decrypt(&ms[i]).unwrap(), [i as u8]);
            assert!(matches!(b.decrypt(&ms[i]), Err(SenderKeyError::DuplicatedMessage { .. })));
        }
    }

    #[test]
    fn limits() {
        let (a, mut b, id) = pair();
        // A message exactly 25 000 ahead is accepted, one more is not.
        let mut far = a.clone();
        far.states[0].chain = (0..25_001).fold(far.states[0].chain.clone(), |c, _| c.next().unwrap());
        let too_far = far.encrypt(id, b"x").unwrap();
        let before = b.to_libsignal_bytes();
        assert_eq!(b.decrypt(&too_far), Err(SenderKeyError::TooFarInFuture { got: 25_001, max: 25_000 }));
        assert_eq!(b.to_libsignal_bytes(), before);
        let mut edge = a.clone();
        edge.states[0].chain = (0..25_000).fold(edge.states[0].chain.clone(), |c, _| c.next().unwrap());
        assert_eq!(b.decrypt(&edge.encrypt(id, b"y").unwrap()).unwrap(), b"y");
        assert_eq!(b.states[0].skipped.len(), 2000);
        assert_eq!(b.states[0].skipped.front().unwrap().iteration, 23_000);
        // the chain end
        let mut end = a;
        end.states[0].chain.iteration = u32::MAX;
        assert_eq!(end.encrypt(id, b"z").unwrap_err(), SenderKeyError::ChainExhausted);
    }

    #[test]
    fn random_uuids_are_version_4() {
        let id = DistributionId::random_v4();
        assert_eq!((id.as_bytes()[6] >> 4, id.as_bytes()[8] >> 6), (4, 2));
        assert_ne!(id, DistributionId::random_v4());
    }

    #[test]
    fn libsignal_format_round_trip() {
        let (mut a, mut b, id) = pair();
        let m0 = a.encrypt(id, b"0").unwrap();
        let m1 = a.encrypt(id, b"1").unwrap();
        b.decrypt(&m1).unwrap();
        for r in [&a, &b] {
            let bytes = r.to_libsignal_bytes();
            let back = SenderKeyRecord::from_libsignal_bytes(&bytes, id).unwrap();
            assert_eq!(*back.to_libsignal_bytes(), *bytes);
        }
        let mut b2 = SenderKeyRecord::from_libsignal_bytes(&b.to_libsignal_bytes(), id).unwrap();
        assert_eq!(b2.decrypt(&m0).unwrap(), b"0");
    }

    #[test]
    fn foreign_and_forged_messages_are_refused_and_change_nothing() {
        let (mut a, mut b, id) = pair();
        let other_id = DistributionId::from_bytes([2; 16]);
        let mut c = SenderKeyRecord::new();
        let from_other_group = c.create_distribution_message(other_id).unwrap();
        let mut d = SenderKeyRecord::new();
        d.create_distribution_message(id).unwrap();
        let m = a.encrypt(id, b"x").unwrap();
        let mut bytes = m.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let forged = SenderKeyMessage::from_bytes(&bytes).unwrap();
        let unknown_chain = d.encrypt(id, b"y").unwrap();
        let before = b.to_libsignal_bytes();
        let wrong_group = SenderKeyError::WrongDistributionId { expected: id, got: other_id };
        assert_eq!(b.process_distribution_message(&from_other_group), Err(wrong_group.clone()));
        assert_eq!(b.decrypt(&c.encrypt(other_id, b"z").unwrap()), Err(wrong_group));
        assert_eq!(b.decrypt(&forged), Err(SenderKeyError::InvalidSignature));
        assert_eq!(b.decrypt(&unknown_chain), Err(SenderKeyError::UnknownChain { chain_id: unknown_chain.chain_id() }));
        assert_eq!(*b.to_libsignal_bytes(), *before, "refusals change nothing");
        assert_eq!(SenderKeyRecord::new().decrypt(&m), Err(SenderKeyError::NoSenderKeyState));
        assert_eq!(b.decrypt(&m).unwrap(), b"x");
    }

    #[test]
    fn distribution_messages_keep_replace_and_bound_the_states() {
        let (mut a, mut b, id) = pair();
        let first = a.create_distribution_message(id).unwrap();
        let m0 = a.encrypt(id, b"0").unwrap();
        let m1 = a.encrypt(id, b"1").unwrap();
        assert_eq!(b.decrypt(&m1).unwrap(), b"1");
        // the same chain and signing key again: the state is kept as it is (not reset to the
        // announced iteration, which would make m1 decrypt twice)
        b.process_distribution_message(&first).unwrap();
        assert!(matches!(b.decrypt(&m1), Err(SenderKeyError::DuplicatedMessage { .. })));
        assert_eq!(b.decrypt(&m0).unwrap(), b"0");
        // the same chain id with another signing key replaces the state: the old key's
        // messages no longer verify
        let m2 = a.encrypt(id, b"2").unwrap();
        let other_key = Curve25519SecretKey::new().public_key();
        let key = a.states[0].chain.key.clone();
        let takeover = SenderKeyDistributionMessage(SenderKeyDistributionWire::encode(
            id.as_bytes(),
            first.chain_id(),
            0,
            &key,
            &other_key,
        ));
        b.process_distribution_message(&takeover).unwrap();
        assert_eq!(b.chain_ids(), [first.chain_id()]);
        assert_eq!(b.decrypt(&m2), Err(SenderKeyError::InvalidSignature));
        // senders of the same group: each keeps its own state, up to five, the oldest dropped
        let mut senders: Vec<SenderKeyRecord> = (0..MAX_SENDER_KEY_STATES).map(|_| SenderKeyRecord::new()).collect();
        let mut b = SenderKeyRecord::new();
        for s in &mut senders {
            b.process_distribution_message(&s.create_distribution_message(id).unwrap()).unwrap();
        }
        for s in &mut senders {
            assert_eq!(b.decrypt(&s.encrypt(id, b"m").unwrap()).unwrap(), b"m");
        }
        let mut newest = SenderKeyRecord::new();
        b.process_distribution_message(&newest.create_distribution_message(id).unwrap()).unwrap();
        assert_eq!(b.chain_ids().len(), MAX_SENDER_KEY_STATES);
        let oldest = senders[0].encrypt(id, b"m").unwrap();
        assert_eq!(b.decrypt(&oldest), Err(SenderKeyError::UnknownChain { chain_id: oldest.chain_id() }));
        assert_eq!(b.decrypt(&newest.encrypt(id, b"n").unwrap()).unwrap(), b"n");
        assert_eq!(b.decrypt(&senders[1].encrypt(id, b"o").unwrap()).unwrap(), b"o");
    }

    /// One `SenderKeyStateStructure` in libsignal's storage format, as field 1 of a record:
    /// chain id 7, chain key at iteration 1, the given signing key halves, `skipped` message
    /// keys, and the `version` field if any.
    fn libsignal_state(public: &[u8], private: Option<&[u8]>, skipped: u32, version: Option<u64>) -> Vec<u8> {
        let seed = SecretBytes::<32>::from_slice(&[9; 32]).unwrap();
        let mut body = Vec::new();
        put_varint_field(&mut body, 1, 7);
        let mut ck = Vec::new();
        put_chain(&mut ck, 1, &seed);
        put_bytes_field(&mut body, 2, &ck);
        let mut sk = Vec::new();
        put_bytes_field(&mut sk, 1, public);
        if let Some(p) = private {
            put_bytes_field(&mut sk, 2, p);
        }
        put_bytes_field(&mut body, 3, &sk);
        for i in 0..skipped {
            let mut mk = Vec::new();
            put_chain(&mut mk, 2 + i, &seed);
            put_bytes_field(&mut body, 4, &mk);
        }
        if let Some(v) = version {
            put_varint_field(&mut body, 5, v);
        }
        let mut out = Vec::new();
        put_bytes_field(&mut out, 1, &body);
        out
    }

    #[test]
    fn libsignal_records_are_read_up_to_their_limits_and_malformed_ones_refused() {
        let id = DistributionId::from_bytes([1; 16]);
        let key = Curve25519SecretKey::new();
        let public = encode_public_key(&key.public_key());
        let private = key.to_secret_bytes();
        let read = |b: &[u8]| SenderKeyRecord::from_libsignal_bytes(b, id);
        let state = |skipped, version| libsignal_state(&public, None, skipped, version);
        // a state without a version is read as version 3 (libsignal's default); others refused
        let r = read(&state(0, None)).unwrap();
        assert_eq!(
            (r.states[0].message_version, r.states[0].chain_id, r.distribution_id),
            (SENDER_KEY_VERSION, 7, Some(id))
        );
        assert_eq!(read(&state(0, Some(3))).unwrap().states[0].message_version, SENDER_KEY_VERSION);
        assert_eq!(read(&state(0, Some(2))).unwrap_err(), DecodeError::MalformedField("sender key state version"));
        // 2 000 skipped message keys are read, 2 001 refused
        assert_eq!(read(&state(2000, Some(3))).unwrap().states[0].skipped.len(), SENDER_KEY_MAX_SKIPPED_KEYS);
        assert_eq!(
            read(&state(2001, Some(3))).unwrap_err(),
            DecodeError::MalformedField("more than 2000 sender message keys")
        );
        // five states are read, six refused
        assert_eq!(read(&state(0, Some(3)).repeat(5)).unwrap().states.len(), MAX_SENDER_KEY_STATES);
        assert_eq!(
            read(&state(0, Some(3)).repeat(6)).unwrap_err(),
            DecodeError::MalformedField("more than 5 sender key states")
        );
        // the private signing key must be the public key's; an empty one means none
        let other = Curve25519SecretKey::new().to_secret_bytes();
        let with_private = |p: &[u8]| read(&libsignal_state(&public, Some(p), 0, Some(3)));
        assert_eq!(with_private(other.expose()).unwrap_err(), DecodeError::Key(KeyError::InvalidPoint));
        assert!(with_private(private.expose()).unwrap().states[0].signing_private.is_some());
        assert!(with_private(&[]).unwrap().states[0].signing_private.is_none());
        assert_eq!(
            read(&libsignal_state(&public[1..], None, 0, Some(3))).unwrap_err(),
            DecodeError::InvalidFieldLength { field: "public signing key", expected: PUBLIC_KEY_LENGTH, got: 32 }
        );
        // no state: no distribution id
        assert_eq!(read(&[]).unwrap().distribution_id, None);
        // the length bound: a record of exactly MAX_MESSAGE_LENGTH bytes (one unknown field) is
        // read, one byte more is refused before decoding
        let max = crate::consts::MAX_MESSAGE_LENGTH;
        let mut longest = Vec::new();
        put_bytes_field(&mut longest, 2, &vec![0; max - 4]);
        assert_eq!(longest.len(), max);
        assert_eq!(read(&longest).unwrap().states.len(), 0);
        longest.push(0);
        assert_eq!(read(&longest).unwrap_err(), DecodeError::TooLong { got: max + 1, max });
    }

    #[test]
    fn pickle_bodies_are_checked_state_by_state() {
        let encode = |r: &SenderKeyRecord| {
            let mut w = PickleWriter::with_capacity(record_size_hint(r));
            encode_record_body(r, &mut w);
            w.finish().to_vec()
        };
        let decode = |b: &[u8]| decode_record_body(&mut PickleReader::new(b));
        let (a, _, id) = pair();
        let good = encode(&a);
        // bool ‖ id(16) ‖ count ‖ version ‖ chain id(4) ‖ iteration(4) ‖ chain key(32) ‖
        // public(32) ‖ bool private ‖ private(32) ‖ …
        let (count, version, private) = (17, 18, 92);
        assert_eq!(encode(&decode(&good).unwrap()), good);
        let patched = |at: usize, v: u8| {
            let mut b = good.clone();
            b[at] = v;
            decode(&b).map(|_| ())
        };
        assert_eq!(patched(version, 2), Err(PickleError::InvalidField("message version")));
        assert_eq!(patched(private + 1, good[private + 1] ^ 1), Err(PickleError::KeyMismatch("signing key")));
        // the distribution id is present exactly when there are states
        assert_eq!(patched(0, 0).unwrap_err(), PickleError::InvalidField("distribution id"));
        assert_eq!(decode(&encode(&SenderKeyRecord::new())).unwrap().distribution_id, None);
        let mut no_state_with_id = good[..17].to_vec();
        no_state_with_id.push(0);
        assert_eq!(decode(&no_state_with_id).unwrap_err(), PickleError::InvalidField("distribution id"));
        // up to five states: five are read, a count of six is refused
        let mut five = SenderKeyRecord::new();
        for _ in 0..MAX_SENDER_KEY_STATES {
            five.process_distribution_message(&SenderKeyRecord::new().create_distribution_message(id).unwrap())
                .unwrap();
        }
        let five = encode(&five);
        assert_eq!(decode(&five).unwrap().states.len(), MAX_SENDER_KEY_STATES);
        let mut six = five.clone();
        six[count] = 6;
        assert_eq!(decode(&six).unwrap_err(), PickleError::TooMany { field: "sender key states", got: 6, max: 5 });
    }

    /// The libsignal-format bytes hold chain keys: they are written into one buffer sized
    /// up front, never grown (growing would free a copy of the keys without wiping it).
    #[test]
    fn libsignal_bytes_are_written_without_reallocating() {
        let (mut a, mut b, id) = pair();
        let ms: Vec<_> = (0..40).map(|i| a.encrypt(id, &[i]).unwrap()).collect();
        b.decrypt(&ms[39]).unwrap();
        assert_eq!(b.states[0].skipped.len(), 39);
        for r in [&a, &b] {
            let bytes = r.to_libsignal_bytes();
            assert_eq!(bytes.capacity(), r.states.iter().map(state_capacity).sum::<usize>());
            assert!(bytes.len() > 100 + 36 * r.states[0].skipped.len(), "{} bytes", bytes.len());
        }
    }

    /// libsignal 0.103.0's group messages (test-vectors/interolm, made by its Node client)
    /// decrypt in its receiver's order to the same record, byte for byte, and its sender's
    /// record reads back: a known answer for the chain and message-key derivations, which
    /// caudata-only round trips cannot check.
    #[test]
    fn libsignal_0_103_0_messages_decrypt_to_its_receiver_record() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../test-vectors/interolm/sender_keys_libsignal-0.103.0.json"))
                .unwrap();
        let b = |k: &serde_json::Value| hex::decode(k.as_str().unwrap()).unwrap();
        let id = DistributionId::parse(v["distribution_id"].as_str().unwrap()).unwrap();
        let skdm = SenderKeyDistributionMessage::from_bytes(&b(&v["skdm"])).unwrap();
        assert_eq!(*skdm.to_bytes(), b(&v["skdm"]));
        assert_eq!(
            (skdm.distribution_id(), skdm.chain_id(), skdm.iteration()),
            (id, v["skdm_fields"]["chain_id"].as_u64().unwrap() as u32, 0)
        );
        let mut receiver = SenderKeyRecord::new();
        receiver.process_distribution_message(&skdm).unwrap();
        let messages = v["messages"].as_array().unwrap();
        for i in v["receiver_order"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as usize) {
            let m = SenderKeyMessage::from_bytes(&b(&messages[i]["body"])).unwrap();
            assert_eq!((m.distribution_id(), m.chain_id(), m.iteration()), (id, skdm.chain_id(), i as u32));
            assert!(m.verify_signature(&skdm.signing_key()));
            assert_eq!(m.to_bytes(), b(&messages[i]["body"]));
            assert_eq!(receiver.decrypt(&m).unwrap(), b(&messages[i]["pt"]), "message {i}");
        }
        assert_eq!(*receiver.to_libsignal_bytes(), b(&v["receiver_record"]));
        let sender = SenderKeyRecord::from_libsignal_bytes(&b(&v["sender_record"]), id).unwrap();
        assert!(sender.can_send() && !receiver.can_send());
        assert_eq!(sender.current_iteration(), Some(messages.len() as u32));
        assert_eq!((sender.distribution_id(), sender.chain_ids()), (Some(id), vec![skdm.chain_id()]));
    }

    #[test]
    fn chain_ids_are_31_bits_and_group_ids_version_4_uuids_every_time() {
        for _ in 0..64 {
            let id = DistributionId::random_v4();
            assert_eq!((id.as_bytes()[6] >> 4, id.as_bytes()[8] >> 6), (4, 2), "{:?}", id.as_bytes());
            let d = SenderKeyRecord::new().create_distribution_message(id).unwrap();
            assert!(d.chain_id() < 1 << 31, "{}", d.chain_id());
        }
    }

    /// The forward limit counts from the receiver's own iteration, not from 0.
    #[test]
    fn the_forward_limit_counts_from_the_receivers_iteration() {
        let (a, mut b, id) = pair();
        let mut ahead = a.clone();
        ahead.states[0].chain = (0..10).fold(ahead.states[0].chain.clone(), |c, _| c.next().unwrap());
        assert_eq!(b.decrypt(&ahead.encrypt(id, b"10").unwrap()).unwrap(), b"10");
        assert_eq!(b.current_iteration(), Some(11));
        let mut edge = a.clone();
        edge.states[0].chain = (0..11 + 25_000).fold(edge.states[0].chain.clone(), |c, _| c.next().unwrap());
        let mut too_far = edge.clone();
        too_far.states[0].chain = too_far.states[0].chain.next().unwrap();
        let far = too_far.encrypt(id, b"x").unwrap();
        assert_eq!(b.decrypt(&far), Err(SenderKeyError::TooFarInFuture { got: 25_001, max: 25_000 }));
        assert_eq!(b.decrypt(&edge.encrypt(id, b"y").unwrap()).unwrap(), b"y");
    }

    /// A distribution message made after sending carries the chain's current iteration: a
    /// member who joins later starts there.
    #[test]
    fn later_distribution_messages_start_at_the_current_iteration() {
        let (mut a, _, id) = pair();
        (0..3).for_each(|i| drop(a.encrypt(id, &[i]).unwrap()));
        let d = a.create_distribution_message(id).unwrap();
        assert_eq!((d.iteration(), d.chain_id(), d.distribution_id()), (3, a.chain_ids()[0], id));
        let mut late = SenderKeyRecord::new();
        late.process_distribution_message(&SenderKeyDistributionMessage::from_bytes(&d.to_bytes()).unwrap()).unwrap();
        assert_eq!(late.current_iteration(), Some(3));
        assert_eq!(late.decrypt(&a.encrypt(id, b"m").unwrap()).unwrap(), b"m");
    }

    /// The fuzzers' signing hook signs with the current state's private key, and only a
    /// sender's record has one.
    #[cfg(feature = "hazmat")]
    #[test]
    fn the_fuzzing_signature_verifies_under_the_states_key() {
        let (a, b, _) = pair();
        let signature = a.sign_for_fuzzing(b"forged", &mut OsRandom).unwrap();
        let signature = XEdDsaSignature::from_slice(&signature).unwrap();
        assert!(a.states[0].signing_public.verify_xeddsa(b"forged", &signature).is_ok());
        assert!(a.states[0].signing_public.verify_xeddsa(b"other", &signature).is_err());
        assert_eq!(b.sign_for_fuzzing(b"forged", &mut OsRandom), None);
    }

    /// The pickle body's size hint covers the body (a writer that has to grow copies the
    /// secrets once more) and is not far above it: the sender's record (private key, no skipped
    /// key) and a receiver's with 39 skipped keys (no private key: 32 bytes fewer) each fit
    /// their hint to within 42 bytes a state.
    #[test]
    fn pickle_bodies_fit_their_size_hint() {
        let (mut a, mut b, id) = pair();
        let ms: Vec<_> = (0..40).map(|i| a.encrypt(id, &[i]).unwrap()).collect();
        b.decrypt(&ms[39]).unwrap();
        assert_eq!(b.states[0].skipped.len(), 39);
        for r in [&a, &b] {
            let hint = record_size_hint(r);
            let mut w = PickleWriter::with_capacity(hint);
            encode_record_body(r, &mut w);
            let body = w.finish();
            assert_eq!(body.capacity(), hint, "the writer grew");
            assert!(
                body.len() <= hint && hint <= body.len() + 42 * r.states.len(),
                "hint {hint} for {} bytes",
                body.len()
            );
        }
    }
}
