//! An Olm account: the long-term identity and the one-time and fallback keys.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::message::PreKeyMessage;
use super::session::{Session, SessionConfig};
use crate::consts::{LIBOLM_MAX_ONE_TIME_KEYS, MAX_FALLBACK_KEY_USES, MAX_ONE_TIME_KEYS, MAX_ONE_TIME_KEYS_ON_SERVER};
use crate::error::{KeyError, SessionCreationError};
use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature, OsRandom,
    RandomSource, SecretBytes, base64_encode, sha256,
};

/// The id of a one-time or fallback key. Encoded in Matrix as base64 of its 8 big-endian bytes
/// (vodozemac's encoding; libolm's 4-byte ids import as the same numbers).
///
/// With the `serde` feature it serializes as vodozemac's `KeyId` does: a newtype struct
/// `KeyId` of a `u64` (a decimal string as a JSON map key, an integer in MessagePack).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyId(pub u64);

impl KeyId {
    /// Unpadded base64 of the 8 big-endian bytes.
    pub fn to_base64(self) -> String {
        base64_encode(self.0.to_be_bytes())
    }
}

impl From<KeyId> for String {
    /// [`KeyId::to_base64`], as vodozemac converts it.
    fn from(id: KeyId) -> Self {
        id.to_base64()
    }
}

/// An account's two public identity keys. With the `serde` feature: vodozemac's struct
/// `IdentityKeys { ed25519, curve25519 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IdentityKeys {
    /// The Ed25519 signing key.
    pub ed25519: Ed25519PublicKey,
    /// The Curve25519 identity key.
    pub curve25519: Curve25519PublicKey,
}

/// The rules an account follows for its one-time and fallback keys: how many it keeps, how
/// many a client should publish, and how key ids are numbered. The keys themselves and every
/// protocol step are the same under both; only the bookkeeping differs.
///
/// The contract is a runtime setting: caudata's own pickle format does not store it (set it
/// again after [`Account::from_pickle`](crate::pickle::AccountPickle)); libolm's format
/// implies [`OneTimeKeyContract::Libolm`] when read by the libolm C interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum OneTimeKeyContract {
    /// vodozemac 0.11's contract (the default): publish up to 50 keys
    /// ([`MAX_ONE_TIME_KEYS_ON_SERVER`]), keep up to 5 000 ([`MAX_ONE_TIME_KEYS`]) so that keys
    /// claimed long ago still work, number one-time keys from 0 and fallback keys with a
    /// separate counter from 0.
    #[default]
    Vodozemac,
    /// libolm 3.2.16's contract, for its C interface and for applications that depend on its
    /// numbers: keep and publish up to 100 keys ([`LIBOLM_MAX_ONE_TIME_KEYS`], evicting the
    /// oldest), and number one-time *and* fallback keys from one 32-bit counter starting at 1,
    /// which wraps at 2³² as libolm's does.
    Libolm,
}

impl OneTimeKeyContract {
    /// The most one-time keys an account keeps under this contract.
    pub const fn max_stored_one_time_keys(self) -> usize {
        match self {
            Self::Vodozemac => MAX_ONE_TIME_KEYS,
            Self::Libolm => LIBOLM_MAX_ONE_TIME_KEYS,
        }
    }

    /// How many one-time keys a client should keep published on the server.
    pub const fn max_published_one_time_keys(self) -> usize {
        match self {
            Self::Vodozemac => MAX_ONE_TIME_KEYS_ON_SERVER,
            Self::Libolm => LIBOLM_MAX_ONE_TIME_KEYS,
        }
    }
}

/// What [`Account::generate_one_time_keys`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeKeyGenerationResult {
    /// The new public keys.
    pub created: Vec<Curve25519PublicKey>,
    /// Keys evicted (oldest first) to stay within the store's limit.
    pub removed: Vec<Curve25519PublicKey>,
}

/// The result of [`Account::create_inbound_session`]. Its `Debug` shows the plaintext's length,
/// never its bytes.
pub struct InboundCreationResult {
    /// The new session.
    pub session: Session,
    /// The plaintext of the pre-key message.
    pub plaintext: Vec<u8>,
}

impl core::fmt::Debug for InboundCreationResult {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { session, plaintext } = self;
        f.debug_struct("InboundCreationResult")
            .field("session", session)
            .field("plaintext_len", &plaintext.len())
            .finish_non_exhaustive()
    }
}

/// One use of a fallback key that created a session: the key's id and the first 16 bytes of
/// SHA-256 over a label, the initiator's base key and identity key (what names the session).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct FallbackKeyUse {
    pub(crate) key_id: KeyId,
    pub(crate) digest: [u8; 16],
}

impl FallbackKeyUse {
    pub(crate) fn new(key_id: KeyId, base_key: &Curve25519PublicKey, identity_key: &Curve25519PublicKey) -> Self {
        let d = sha256(&[b"caudata olm fallback key use", base_key.as_bytes(), identity_key.as_bytes()]);
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&d[..16]);
        Self { key_id, digest }
    }
}

#[derive(Clone)]
pub(crate) struct StoredKey {
    pub(crate) secret: Curve25519SecretKey,
    pub(crate) public: Curve25519PublicKey,
    pub(crate) published: bool,
}

/// An Olm account.
pub struct Account {
    pub(crate) signing_key: Ed25519SecretKey,
    pub(crate) identity_key: Curve25519SecretKey,
    pub(crate) identity_public: Curve25519PublicKey,
    /// One-time keys by id; ids grow, so the first entry is the oldest.
    pub(crate) one_time_keys: BTreeMap<KeyId, StoredKey>,
    /// Current and previous fallback keys.
    pub(crate) fallback_key: Option<(KeyId, StoredKey)>,
    pub(crate) previous_fallback_key: Option<(KeyId, StoredKey)>,
    /// The next one-time key id. Under [`OneTimeKeyContract::Vodozemac`] fallback keys are
    /// counted separately: the next fallback key id is the current fallback key's id plus one
    /// (see [`Account::next_fallback_key_id`]). Under [`OneTimeKeyContract::Libolm`] fallback
    /// keys draw from this counter too, and it is libolm's last id plus one.
    pub(crate) next_key_id: u64,
    pub(crate) contract: OneTimeKeyContract,
    /// Uses of the current and previous fallback keys that created a session, oldest first, at
    /// most [`MAX_FALLBACK_KEY_USES`]: a replay of such a pre-key message is refused.
    pub(crate) fallback_key_uses: VecDeque<FallbackKeyUse>,
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Account")
            .field("identity_keys", &self.identity_keys())
            .field("one_time_keys", &self.one_time_keys.len())
            .finish_non_exhaustive()
    }
}

impl Default for Account {
    fn default() -> Self {
        Self::new()
    }
}

impl Account {
    /// A new account with fresh identity keys.
    pub fn new() -> Self {
        Self::new_inner(&mut OsRandom)
    }

    /// A new account from `rng`: 32 bytes for the Ed25519 seed, then 32 for the Curve25519
    /// key (libolm's order).
    #[cfg(feature = "hazmat")]
    pub fn new_with_rng(rng: &mut impl RandomSource) -> Self {
        Self::new_inner(rng)
    }
    fn new_inner(rng: &mut impl RandomSource) -> Self {
        // Both keys' randomness in one draw (one system call; SPEC.md §2, "Randomness"): the
        // same 64 bytes in the same order as two draws of 32.
        let mut seeds = zeroize::Zeroizing::new([[0u8; 32]; 2]);
        rng.fill(seeds.as_flattened_mut());
        let signing_key = Ed25519SecretKey::from_seed(SecretBytes::from_array(&mut seeds[0]));
        let identity_key = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut seeds[1]));
        Self::from_parts(signing_key, identity_key)
    }

    pub(crate) fn from_parts(signing_key: Ed25519SecretKey, identity_key: Curve25519SecretKey) -> Self {
        let identity_public = identity_key.public_key();
        Self {
            signing_key,
            identity_key,
            identity_public,
            one_time_keys: BTreeMap::new(),
            fallback_key: None,
            previous_fallback_key: None,
            next_key_id: 0,
            contract: OneTimeKeyContract::Vodozemac,
            fallback_key_uses: VecDeque::new(),
        }
    }

    /// The one-time-key contract the account follows ([`OneTimeKeyContract::Vodozemac`] unless
    /// set otherwise).
    pub fn one_time_key_contract(&self) -> OneTimeKeyContract {
        self.contract
    }

    /// Switches the account to `contract`. Switching to [`OneTimeKeyContract::Libolm`] evicts
    /// the oldest one-time keys beyond libolm's 100 (returned, oldest first) and continues the
    /// one shared counter above every id in use (libolm's ids start at 1); switching back
    /// keeps every key and id (fallback keys then count on from the current one's id).
    pub fn set_one_time_key_contract(&mut self, contract: OneTimeKeyContract) -> Vec<Curve25519PublicKey> {
        let mut removed = Vec::new();
        if contract == OneTimeKeyContract::Libolm && self.contract != contract {
            let fallback_next = [&self.fallback_key, &self.previous_fallback_key]
                .into_iter()
                .flatten()
                .map(|(id, _)| id.0.saturating_add(1))
                .max()
                .unwrap_or(0);
            self.next_key_id = self.next_key_id.max(fallback_next).max(1);
            removed = self.evict_beyond(contract.max_stored_one_time_keys());
        }
        self.contract = contract;
        removed
    }

    /// Drops the oldest one-time keys (lowest ids) beyond `max`; returns their public keys.
    fn evict_beyond(&mut self, max: usize) -> Vec<Curve25519PublicKey> {
        let mut removed = Vec::new();
        while self.one_time_keys.len() > max {
            if let Some((_, k)) = self.one_time_keys.pop_first() {
                removed.push(k.public);
            }
        }
        removed
    }

    /// Both public identity keys.
    pub const fn identity_keys(&self) -> IdentityKeys {
        IdentityKeys { ed25519: self.signing_key.public_key(), curve25519: self.identity_public }
    }

    /// The Curve25519 identity key.
    pub const fn curve25519_key(&self) -> Curve25519PublicKey {
        self.identity_public
    }

    /// The Ed25519 signing key.
    pub const fn ed25519_key(&self) -> Ed25519PublicKey {
        self.signing_key.public_key()
    }

    /// Signs `message` with the account's Ed25519 key.
    pub fn sign(&self, message: impl AsRef<[u8]>) -> Ed25519Signature {
        self.signing_key.sign(message.as_ref())
    }

    /// How many one-time keys a client should keep published on the server: 50, as vodozemac
    /// says. The account itself keeps up to [`MAX_ONE_TIME_KEYS`] (5 000) private keys, so that
    /// keys claimed from the server whose pre-key messages arrive late survive later top-ups
    /// (libolm's function of this name returned its storage size, 100, which is what it returns
    /// under [`OneTimeKeyContract::Libolm`]).
    pub fn max_number_of_one_time_keys(&self) -> usize {
        self.contract.max_published_one_time_keys()
    }

    /// How many one-time keys are stored (published or not).
    pub fn stored_one_time_key_count(&self) -> usize {
        self.one_time_keys.len()
    }

    fn next_id(&mut self) -> KeyId {
        match self.contract {
            OneTimeKeyContract::Vodozemac => {
                let id = KeyId(self.next_key_id);
                self.next_key_id = self.next_key_id.wrapping_add(1);
                id
            }
            OneTimeKeyContract::Libolm => {
                // libolm's `++next_one_time_key_id` on a `uint32_t`: after 2^32 - 1 comes 0.
                #[allow(clippy::cast_possible_truncation)]
                let id = self.next_key_id as u32;
                self.next_key_id = u64::from(id) + 1;
                KeyId(id.into())
            }
        }
    }

    /// Generates `count` one-time keys with ids continuing the account's counter, evicting the
    /// oldest (lowest id) beyond [`MAX_ONE_TIME_KEYS`] (5 000) private keys (100 under
    /// [`OneTimeKeyContract::Libolm`]).
    pub fn generate_one_time_keys(&mut self, count: usize) -> OneTimeKeyGenerationResult {
        self.generate_otks_inner(count, &mut OsRandom)
    }

    /// [`Account::generate_one_time_keys`] from `rng` (32 bytes a key).
    #[cfg(feature = "hazmat")]
    pub fn generate_one_time_keys_with_rng(
        &mut self,
        count: usize,
        rng: &mut impl RandomSource,
    ) -> OneTimeKeyGenerationResult {
        self.generate_otks_inner(count, rng)
    }
    fn generate_otks_inner(&mut self, count: usize, rng: &mut impl RandomSource) -> OneTimeKeyGenerationResult {
        // The randomness is drawn a batch of keys at a time: one system call for up to 64 keys
        // instead of one per key, and the same bytes in the same order as key-by-key draws.
        const BATCH: usize = 64;
        let max = self.contract.max_stored_one_time_keys();
        let mut created = Vec::with_capacity(count.min(max));
        let mut removed = Vec::new();
        let mut pool = zeroize::Zeroizing::new([[0u8; 32]; BATCH]);
        for i in 0..count {
            let slot = i % BATCH;
            if slot == 0 {
                let keys = (count - i).min(BATCH);
                rng.fill(pool[..keys].as_flattened_mut());
            }
            let mut bytes = pool[slot];
            let secret = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut bytes));
            let public = secret.public_key();
            let id = self.next_id();
            self.one_time_keys.insert(id, StoredKey { secret, public, published: false });
            created.push(public);
            removed.extend(self.evict_beyond(max));
        }
        created.retain(|k| !removed.contains(k));
        OneTimeKeyGenerationResult { created, removed }
    }

    /// The one-time keys not yet marked as published.
    pub fn one_time_keys(&self) -> HashMap<KeyId, Curve25519PublicKey> {
        self.one_time_keys.iter().filter(|(_, k)| !k.published).map(|(id, k)| (*id, k.public)).collect()
    }

    /// Generates a new fallback key; the current one becomes the previous one, and the old
    /// previous one (returned) is forgotten.
    pub fn generate_fallback_key(&mut self) -> Option<Curve25519PublicKey> {
        self.generate_fallback_inner(&mut OsRandom)
    }

    /// [`Account::generate_fallback_key`] from `rng` (32 bytes).
    #[cfg(feature = "hazmat")]
    pub fn generate_fallback_key_with_rng(&mut self, rng: &mut impl RandomSource) -> Option<Curve25519PublicKey> {
        self.generate_fallback_inner(rng)
    }
    fn generate_fallback_inner(&mut self, rng: &mut impl RandomSource) -> Option<Curve25519PublicKey> {
        let secret = Curve25519SecretKey::random(rng);
        let public = secret.public_key();
        let id = match self.contract {
            OneTimeKeyContract::Vodozemac => KeyId(self.next_fallback_key_id()),
            OneTimeKeyContract::Libolm => self.next_id(),
        };
        let old_previous = self.previous_fallback_key.take();
        if let Some((old_id, _)) = &old_previous {
            self.fallback_key_uses.retain(|u| u.key_id != *old_id);
        }
        self.previous_fallback_key = self.fallback_key.take();
        self.fallback_key = Some((id, StoredKey { secret, public, published: false }));
        old_previous.map(|(_, k)| k.public)
    }

    /// The id the next fallback key gets: fallback keys have their own counter, as in
    /// vodozemac (the first is 0), which is always the current fallback key's id plus one.
    pub(crate) fn next_fallback_key_id(&self) -> u64 {
        self.fallback_key.as_ref().map_or(0, |(id, _)| id.0.wrapping_add(1))
    }

    /// The current fallback key if it is not yet published.
    pub fn fallback_key(&self) -> HashMap<KeyId, Curve25519PublicKey> {
        self.fallback_key.iter().filter(|(_, k)| !k.published).map(|(id, k)| (*id, k.public)).collect()
    }

    /// The current fallback key, published or not (libolm's `olm_account_fallback_key`).
    pub fn current_fallback_key(&self) -> Option<(KeyId, Curve25519PublicKey)> {
        self.fallback_key.as_ref().map(|(id, k)| (*id, k.public))
    }

    /// Forgets the previous fallback key (and the record of its uses); returns whether there
    /// was one.
    pub fn forget_fallback_key(&mut self) -> bool {
        match self.previous_fallback_key.take() {
            Some((id, _)) => {
                self.fallback_key_uses.retain(|u| u.key_id != id);
                true
            }
            None => false,
        }
    }

    /// How many uses of fallback keys the account remembers (to refuse replays), at most
    /// [`MAX_FALLBACK_KEY_USES`].
    pub fn fallback_key_uses(&self) -> usize {
        self.fallback_key_uses.len()
    }

    /// Marks every one-time key and the fallback key as published.
    pub fn mark_keys_as_published(&mut self) {
        for k in self.one_time_keys.values_mut() {
            k.published = true;
        }
        if let Some((_, k)) = self.fallback_key.as_mut() {
            k.published = true;
        }
    }

    /// Starts a session with another account's identity key and one of its one-time (or
    /// fallback) keys.
    ///
    /// # Errors
    /// [`SessionCreationError::Key`] if either key yields a non-contributory Diffie-Hellman
    /// result (an all-zero or small-order key).
    pub fn create_outbound_session(
        &self,
        session_config: SessionConfig,
        identity_key: Curve25519PublicKey,
        one_time_key: Curve25519PublicKey,
    ) -> Result<Session, SessionCreationError> {
        Ok(Session::new_outbound(session_config, &self.identity_key, &identity_key, &one_time_key, &mut OsRandom)?)
    }

    /// [`Account::create_outbound_session`] from `rng` (64 bytes: base key, ratchet key).
    ///
    /// # Errors
    /// As [`Account::create_outbound_session`].
    #[cfg(feature = "hazmat")]
    pub fn create_outbound_session_with_rng(
        &self,
        session_config: SessionConfig,
        identity_key: Curve25519PublicKey,
        one_time_key: Curve25519PublicKey,
        rng: &mut impl RandomSource,
    ) -> Result<Session, SessionCreationError> {
        Ok(Session::new_outbound(session_config, &self.identity_key, &identity_key, &one_time_key, rng)?)
    }
    /// The key a pre-key message names: a one-time key (`Ok`) or a fallback key (`Err`), with
    /// its id.
    fn find_key(&self, public: &Curve25519PublicKey) -> Option<(Result<KeyId, KeyId>, &Curve25519SecretKey)> {
        if let Some((id, k)) = self.one_time_keys.iter().find(|(_, k)| k.public == *public) {
            return Some((Ok(*id), &k.secret));
        }
        [&self.fallback_key, &self.previous_fallback_key]
            .into_iter()
            .flatten()
            .find(|(_, k)| k.public == *public)
            .map(|(id, k)| (Err(*id), &k.secret))
    }

    /// Creates the responder's session from a pre-key message and decrypts it. The one-time key
    /// is removed only after the message decrypts; fallback keys are kept, and the use is
    /// remembered (base and identity key, the last [`MAX_FALLBACK_KEY_USES`]) so that the same
    /// pre-key message cannot make a second session. (Later pre-key messages of a session belong
    /// to it: find it with [`Session::matches`].) On any error the account is unchanged.
    /// `session_config` must match the sender's (version-2 messages carry a full MAC).
    ///
    /// # Errors
    /// [`SessionCreationError`]: the sender's identity key differs from `their_identity_key`
    /// ([`SessionCreationError::MismatchedIdentityKey`] with both keys), the message was made
    /// with another session configuration
    /// ([`SessionCreationError::MismatchedSessionConfig`]), the one-time key is unknown or used
    /// ([`SessionCreationError::MissingOneTimeKey`] with the key), the message was already used
    /// with a fallback key ([`SessionCreationError::ReplayedPreKeyMessage`]), a key is
    /// non-contributory, or the message does not decrypt.
    pub fn create_inbound_session(
        &mut self,
        session_config: SessionConfig,
        their_identity_key: Curve25519PublicKey,
        pre_key_message: &PreKeyMessage,
    ) -> Result<InboundCreationResult, SessionCreationError> {
        let config = session_config;
        let m = &pre_key_message.0;
        if m.identity_key != their_identity_key {
            return Err(SessionCreationError::MismatchedIdentityKey(their_identity_key, m.identity_key));
        }
        // the message version tells the sender's configuration (checked before any key is
        // looked up, as vodozemac does)
        let got = if m.message.version == crate::wire::olm::VERSION_FULL_MAC {
            SessionConfig::version_2()
        } else {
            SessionConfig::version_1()
        };
        if got != config {
            return Err(SessionCreationError::MismatchedSessionConfig { expected: config, got });
        }
        let (key_id, secret) =
            self.find_key(&m.one_time_key).ok_or(SessionCreationError::MissingOneTimeKey(m.one_time_key))?;
        // A fallback key outlives its uses: a pre-key message that already made a session with
        // it is refused before any key agreement (a one-time key is simply gone).
        let fallback_use = key_id.err().map(|id| FallbackKeyUse::new(id, &m.base_key, &m.identity_key));
        if fallback_use.is_some_and(|u| self.fallback_key_uses.contains(&u)) {
            return Err(SessionCreationError::ReplayedPreKeyMessage);
        }
        let mut session = Session::new_inbound(config, &self.identity_key, secret, m)?;
        let plaintext = session.decrypt_normal(&m.message)?;
        if let Ok(id) = key_id {
            self.one_time_keys.remove(&id);
        }
        if let Some(u) = fallback_use {
            if self.fallback_key_uses.len() >= MAX_FALLBACK_KEY_USES {
                self.fallback_key_uses.pop_front();
            }
            self.fallback_key_uses.push_back(u);
        }
        Ok(InboundCreationResult { session, plaintext })
    }

    /// Removes the one-time key whose public half is `public` and returns its secret half
    /// (vodozemac's low-level `remove_one_time_key`); `None` if there is none.
    #[cfg(feature = "hazmat")]
    pub fn take_one_time_key(&mut self, public: Curve25519PublicKey) -> Option<Curve25519SecretKey> {
        let id = self.one_time_keys.iter().find(|(_, k)| k.public == public).map(|(id, _)| *id)?;
        self.one_time_keys.remove(&id).map(|k| k.secret)
    }

    /// Removes the one-time key a session was created from (for callers that create sessions
    /// through other paths); returns whether one was removed.
    pub fn remove_one_time_key(&mut self, public: Curve25519PublicKey) -> bool {
        let id = self.one_time_keys.iter().find(|(_, k)| k.public == public).map(|(id, _)| *id);
        id.and_then(|id| self.one_time_keys.remove(&id)).is_some()
    }

    /// libolm's `olm_remove_one_time_keys`: removes the one-time key `public` and returns its
    /// id; for the current or previous fallback key, returns its id and keeps the key (libolm
    /// does not treat that as an error); `None` (and no change) for a key the account does not
    /// hold.
    pub fn remove_one_time_key_libolm(&mut self, public: Curve25519PublicKey) -> Option<KeyId> {
        // newest first, as libolm's list is ordered (two keys made from the same random bytes
        // are equal: libolm removes the newer)
        if let Some(id) = self.one_time_keys.iter().rev().find(|(_, k)| k.public == public).map(|(id, _)| *id) {
            self.one_time_keys.remove(&id);
            return Some(id);
        }
        [&self.fallback_key, &self.previous_fallback_key]
            .into_iter()
            .flatten()
            .find(|(_, k)| k.public == public)
            .map(|(id, _)| *id)
    }

    /// libolm's `olm_create_inbound_session[_from]`: the responder's session from a pre-key
    /// message, *without* decrypting it and without removing the one-time key (the caller
    /// decrypts the same message with [`Session::decrypt`] next, and removes the key with
    /// [`Account::remove_one_time_key_libolm`] once it did). The session has not received a
    /// message until then ([`Session::has_received_message`] is `false`), as in libolm.
    ///
    /// Applications use [`Account::create_inbound_session`], which authenticates the message
    /// before anything is kept.
    ///
    /// # Errors
    /// [`SessionCreationError::MismatchedIdentityKey`] if `their_identity_key` is given and is
    /// not the message's, [`SessionCreationError::MissingOneTimeKey`] for a key the account
    /// does not hold, [`SessionCreationError::Key`] for a non-contributory key.
    #[cfg(feature = "hazmat")]
    pub fn create_inbound_session_libolm(
        &self,
        their_identity_key: Option<Curve25519PublicKey>,
        pre_key_message: &PreKeyMessage,
    ) -> Result<Session, SessionCreationError> {
        let m = &pre_key_message.0;
        if let Some(theirs) = their_identity_key
            && theirs != m.identity_key
        {
            return Err(SessionCreationError::MismatchedIdentityKey(theirs, m.identity_key));
        }
        let (_, secret) =
            self.find_key(&m.one_time_key).ok_or(SessionCreationError::MissingOneTimeKey(m.one_time_key))?;
        let mut session = Session::new_inbound(SessionConfig::version_1(), &self.identity_key, secret, m)?;
        session.received_message = false;
        Ok(session)
    }
}

impl From<KeyError> for Box<SessionCreationError> {
    fn from(e: KeyError) -> Self {
        Box::new(SessionCreationError::Key(e))
    }
}

#[cfg(test)]
mod tests {
    //! The account's checks and limits at their edges (written to kill the mutants listed in
    //! TESTING.md; `tests/` holds the interop and adversarial suites).

    use super::*;
    use crate::error::DecryptionError;
    use crate::olm::OlmMessage;

    /// Alice's first pre-key message to `bob`'s key `key`.
    fn first_message(bob: &Account, key: Curve25519PublicKey, config: SessionConfig) -> (Account, PreKeyMessage) {
        let alice = Account::new();
        let mut s = alice.create_outbound_session(config, bob.curve25519_key(), key).unwrap();
        let OlmMessage::PreKey(m) = s.encrypt(b"hi") else { panic!("not a pre-key message") };
        (alice, m)
    }

    fn otk_ids(a: &Account) -> Vec<KeyId> {
        a.one_time_keys.keys().copied().collect()
    }

    #[test]
    fn inbound_refusals_keep_the_one_time_key_and_success_consumes_it() {
        let mut bob = Account::new();
        bob.generate_one_time_keys(2);
        let (&id, &otk) = bob.one_time_keys().iter().min_by_key(|(id, _)| **id).unwrap();
        let (alice, m) = first_message(&bob, otk, SessionConfig::version_1());
        let before = otk_ids(&bob);
        // another configuration than the sender's
        assert_eq!(
            bob.create_inbound_session(SessionConfig::version_2(), alice.curve25519_key(), &m).unwrap_err(),
            SessionCreationError::MismatchedSessionConfig {
                expected: SessionConfig::version_2(),
                got: SessionConfig::version_1()
            }
        );
        // a message that fails its MAC
        let mut bytes = m.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let forged = PreKeyMessage::from_bytes(&bytes).unwrap();
        assert_eq!(
            bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &forged).unwrap_err(),
            SessionCreationError::Decryption(DecryptionError::InvalidMac)
        );
        // a key bob never had
        let mut carol = Account::new();
        carol.generate_one_time_keys(1);
        let carols = *carol.one_time_keys().values().next().unwrap();
        let (alice2, to_carol) = first_message(&carol, carols, SessionConfig::version_1());
        assert_eq!(
            bob.create_inbound_session(SessionConfig::version_1(), alice2.curve25519_key(), &to_carol).unwrap_err(),
            SessionCreationError::MissingOneTimeKey(carols)
        );
        assert_eq!(otk_ids(&bob), before);
        assert_eq!(bob.fallback_key_uses(), 0);
        // the genuine message consumes exactly its key, once
        let created = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &m).unwrap();
        assert_eq!(created.plaintext, b"hi");
        assert_eq!(otk_ids(&bob), before.iter().copied().filter(|k| *k != id).collect::<Vec<_>>());
        assert_eq!(
            bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &m).unwrap_err(),
            SessionCreationError::MissingOneTimeKey(otk)
        );
    }

    #[test]
    fn fallback_key_replays_are_refused_and_their_record_is_bounded() {
        let mut bob = Account::new();
        bob.generate_fallback_key();
        let (fb_id, fb) = bob.current_fallback_key().unwrap();
        let (alice, m) = first_message(&bob, fb, SessionConfig::version_1());
        bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &m).unwrap();
        assert_eq!(bob.fallback_key_uses(), 1);
        assert_eq!(
            bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &m).unwrap_err(),
            SessionCreationError::ReplayedPreKeyMessage
        );
        assert_eq!(bob.fallback_key_uses(), 1);
        assert_eq!(bob.current_fallback_key(), Some((fb_id, fb)), "a fallback key outlives its uses");
        // at the limit the oldest use is forgotten, never more than the limit kept
        let other = Curve25519SecretKey::new().public_key();
        while bob.fallback_key_uses.len() < MAX_FALLBACK_KEY_USES {
            bob.fallback_key_uses.push_back(FallbackKeyUse::new(fb_id, &other, &other));
        }
        let (alice2, m2) = first_message(&bob, fb, SessionConfig::version_1());
        bob.create_inbound_session(SessionConfig::version_1(), alice2.curve25519_key(), &m2).unwrap();
        assert_eq!(bob.fallback_key_uses(), MAX_FALLBACK_KEY_USES);
        assert_ne!(
            bob.fallback_key_uses.front(),
            Some(&FallbackKeyUse::new(fb_id, &m.base_key(), &alice.curve25519_key()))
        );
        assert_eq!(
            bob.fallback_key_uses.back(),
            Some(&FallbackKeyUse::new(fb_id, &m2.base_key(), &alice2.curve25519_key()))
        );
        // rotating twice drops the first key and the record of its uses; forgetting the previous
        // key drops its uses too
        assert_eq!(bob.generate_fallback_key(), None);
        assert_eq!(bob.fallback_key_uses(), MAX_FALLBACK_KEY_USES);
        assert_eq!(bob.generate_fallback_key(), Some(fb));
        assert_eq!(bob.fallback_key_uses(), 0);
        bob.fallback_key_uses.push_back(FallbackKeyUse::new(
            bob.previous_fallback_key.as_ref().unwrap().0,
            &other,
            &other,
        ));
        let current = bob.current_fallback_key().unwrap().0;
        bob.fallback_key_uses.push_back(FallbackKeyUse::new(current, &other, &other));
        assert!(bob.forget_fallback_key());
        assert_eq!(bob.fallback_key_uses.iter().map(|u| u.key_id).collect::<Vec<_>>(), [current]);
        assert!(!bob.forget_fallback_key());
    }

    #[test]
    fn one_time_keys_beyond_the_contract_are_evicted_oldest_first() {
        assert_eq!(
            [OneTimeKeyContract::Vodozemac, OneTimeKeyContract::Libolm]
                .map(|c| (c.max_stored_one_time_keys(), c.max_published_one_time_keys())),
            [(MAX_ONE_TIME_KEYS, MAX_ONE_TIME_KEYS_ON_SERVER), (LIBOLM_MAX_ONE_TIME_KEYS, LIBOLM_MAX_ONE_TIME_KEYS)]
        );
        let mut a = Account::new();
        assert_eq!(a.max_number_of_one_time_keys(), MAX_ONE_TIME_KEYS_ON_SERVER);
        let first = a.generate_one_time_keys(LIBOLM_MAX_ONE_TIME_KEYS + 20);
        assert!(first.removed.is_empty());
        // switching to libolm's contract evicts the 20 oldest (lowest ids), ids continue from 1 on
        let removed = a.set_one_time_key_contract(OneTimeKeyContract::Libolm);
        assert_eq!(removed, first.created[..20]);
        assert_eq!(a.one_time_key_contract(), OneTimeKeyContract::Libolm);
        assert_eq!(a.max_number_of_one_time_keys(), LIBOLM_MAX_ONE_TIME_KEYS);
        assert_eq!(otk_ids(&a), (20..120).map(KeyId).collect::<Vec<_>>());
        assert_eq!(a.set_one_time_key_contract(OneTimeKeyContract::Libolm), []);
        // at the limit, each new key evicts the oldest; a key evicted at once is not "created"
        let more = a.generate_one_time_keys(2);
        assert_eq!((more.created.len(), more.removed), (2, first.created[20..22].to_vec()));
        assert_eq!(a.stored_one_time_key_count(), LIBOLM_MAX_ONE_TIME_KEYS);
        assert_eq!(otk_ids(&a).last(), Some(&KeyId(121)));
        let flood = a.generate_one_time_keys(LIBOLM_MAX_ONE_TIME_KEYS + 1);
        assert_eq!(
            (flood.created.len(), flood.removed.len()),
            (LIBOLM_MAX_ONE_TIME_KEYS, LIBOLM_MAX_ONE_TIME_KEYS + 1)
        );
        assert_eq!(a.stored_one_time_key_count(), LIBOLM_MAX_ONE_TIME_KEYS);
        // back to vodozemac's contract: nothing evicted, the counter goes on
        assert_eq!(a.set_one_time_key_contract(OneTimeKeyContract::Vodozemac), []);
        assert_eq!(a.stored_one_time_key_count(), LIBOLM_MAX_ONE_TIME_KEYS);
        // a fresh account under libolm's contract numbers from 1
        let mut b = Account::new();
        assert_eq!(b.set_one_time_key_contract(OneTimeKeyContract::Libolm), []);
        b.generate_one_time_keys(1);
        assert_eq!(otk_ids(&b), [KeyId(1)]);
    }

    #[test]
    fn removing_keys_and_key_ids() {
        let mut a = Account::new();
        a.generate_one_time_keys(3);
        a.generate_fallback_key();
        let (fb_id, fb) = a.current_fallback_key().unwrap();
        let keys: Vec<(KeyId, Curve25519PublicKey)> = a.one_time_keys.iter().map(|(id, k)| (*id, k.public)).collect();
        assert!(a.remove_one_time_key(keys[0].1));
        assert!(!a.remove_one_time_key(keys[0].1));
        assert_eq!(a.remove_one_time_key_libolm(keys[1].1), Some(keys[1].0));
        assert_eq!(a.remove_one_time_key_libolm(keys[1].1), None);
        assert_eq!(a.remove_one_time_key_libolm(fb), Some(fb_id));
        assert_eq!(a.current_fallback_key(), Some((fb_id, fb)), "a fallback key is kept");
        assert_eq!(otk_ids(&a), [keys[2].0]);
        assert_eq!(KeyId(1).to_base64(), "AAAAAAAAAAE");
        assert_eq!(String::from(KeyId(1)), "AAAAAAAAAAE");
    }

    /// Counts up, one byte at a time: every key drawn from it differs, and the order of the
    /// draws shows in the keys.
    struct Counter(u8);
    impl RandomSource for Counter {
        fn fill(&mut self, dest: &mut [u8]) {
            for b in dest {
                *b = self.0;
                self.0 = self.0.wrapping_add(1);
            }
        }
    }

    /// One batched draw gives the same keys in the same order as one draw a key (across the
    /// 64-key batches), and fallback keys are numbered and published as the contract says.
    #[test]
    fn batched_key_generation_fallback_ids_and_publication() {
        let mut batched = Account::new();
        let mut rng = Counter(0);
        let keys = batched.generate_otks_inner(130, &mut rng).created;
        let mut one_by_one = Account::new();
        let mut rng_one_by_one = Counter(0);
        let expected: Vec<_> =
            (0..130).flat_map(|_| one_by_one.generate_otks_inner(1, &mut rng_one_by_one).created).collect();
        assert_eq!(keys, expected);
        // and no more bytes than the keys need (the last batch is short)
        assert_eq!(rng.0, rng_one_by_one.0);
        // the identity keys come from the caller's randomness too (known-answer tests)
        #[cfg(feature = "hazmat")]
        {
            let same = [0, 0, 1].map(|start| Account::new_with_rng(&mut Counter(start)).identity_keys());
            assert_eq!(same[0], same[1]);
            assert_ne!(same[0], same[2]);
            let mut a = Account::new();
            assert_eq!(a.generate_fallback_key_with_rng(&mut Counter(0)), None);
            let first = a.current_fallback_key().unwrap().1;
            assert_eq!(a.generate_fallback_key_with_rng(&mut Counter(0)), None);
            assert_eq!(a.current_fallback_key().unwrap().1, first, "the same bytes, the same key");
            assert_eq!(a.generate_fallback_key_with_rng(&mut Counter(1)), Some(first));
        }
        assert_eq!(otk_ids(&batched), (0..130).map(KeyId).collect::<Vec<_>>());
        // vodozemac's separate fallback counter from 0; published keys are no longer offered
        let mut a = Account::new();
        a.generate_one_time_keys(2);
        a.generate_fallback_key();
        let (id, fb) = a.current_fallback_key().unwrap();
        assert_eq!((id, a.fallback_key()), (KeyId(0), HashMap::from([(KeyId(0), fb)])));
        assert_eq!(a.one_time_keys().len(), 2);
        a.mark_keys_as_published();
        assert!(a.fallback_key().is_empty() && a.one_time_keys().is_empty());
        assert_eq!(a.current_fallback_key(), Some((id, fb)));
        a.generate_fallback_key();
        assert_eq!(a.current_fallback_key().unwrap().0, KeyId(1));
        assert_eq!(a.next_fallback_key_id(), 2);
        // libolm's one counter: above every id in use, shared with one-time keys
        assert_eq!(a.set_one_time_key_contract(OneTimeKeyContract::Libolm), []);
        a.generate_fallback_key();
        a.generate_one_time_keys(1);
        assert_eq!(a.current_fallback_key().unwrap().0, KeyId(2));
        assert_eq!(otk_ids(&a), [KeyId(0), KeyId(1), KeyId(3)]);
    }

    /// libolm's inbound creation refuses a pre-key message from another identity than the
    /// one given (and checks nothing when none is given), and keeps the one-time key.
    #[cfg(feature = "hazmat")]
    #[test]
    fn libolm_inbound_creation_checks_the_identity_key() {
        let (bob, otk) = crate::test_fixtures::olm_responder();
        let (alice, m) = first_message(&bob, otk, SessionConfig::version_1());
        let mallory = Account::new().curve25519_key();
        assert_eq!(
            bob.create_inbound_session_libolm(Some(mallory), &m).unwrap_err(),
            SessionCreationError::MismatchedIdentityKey(mallory, alice.curve25519_key())
        );
        for theirs in [Some(alice.curve25519_key()), None] {
            let mut s = bob.create_inbound_session_libolm(theirs, &m).unwrap();
            assert!(!s.has_received_message());
            assert_eq!(s.decrypt(&OlmMessage::PreKey(m.clone())).unwrap(), b"hi");
        }
        assert_eq!(bob.stored_one_time_key_count(), 1);
    }
}
