//! caudata's own pickle bodies (format version 4; versions 1 to 3 are read) and the public pickle types.
//!
//! Each pickle type is an opaque snapshot of its object; the byte layout lives only in the
//! `encode_*`/`decode_*` functions below (documented as tables in SPEC.md §9). Decoding
//! validates everything (limits, tags, key consistency, ratchet invariants) and builds the
//! object only at the end, so an error never leaves a partial object behind.

use std::collections::{BTreeMap, VecDeque};

use zeroize::Zeroizing;

use super::codec::{Reader, Writer};
use super::envelope::{self, ObjectType};
use crate::consts::{MAX_FALLBACK_KEY_USES, MAX_ONE_TIME_KEYS};
use crate::error::PickleError;
use crate::megolm::{GroupSession, InboundGroupSession, MegolmRatchet, SessionConfig as MegolmConfig};
use crate::olm::{Account, FallbackKeyUse, KeyId, Session, SessionConfig, SessionKeys, StoredKey};
use crate::primitives::{
    ContributoryKey, Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretForm, Ed25519SecretKey,
    OsRandom, RandomSource, base64_decode, base64_encode,
};
use crate::ratchet::{ChainKey, Dialect, DoubleRatchet, MessageSeed, ReceiverChain, RootKey, SenderChain};

// ---------------------------------------------------------------- shared pieces

const ED25519_SEED: u8 = 0;
const ED25519_EXPANDED: u8 = 1;

/// An Ed25519 secret key in the form it was created in: `0 ‖ seed(32)` or `1 ‖ expanded(64)`.
pub(crate) fn write_ed25519_secret(w: &mut Writer, key: &Ed25519SecretKey) {
    match key.seed() {
        Some(seed) => {
            w.u8(ED25519_SEED);
            w.secret(seed.expose());
        }
        None => {
            w.u8(ED25519_EXPANDED);
            w.secret(key.expanded_bytes().expose());
        }
    }
    w.bytes(key.public_key().as_bytes());
}

/// Reads what [`write_ed25519_secret`] wrote. From version 3 on the public key is stored: an
/// authenticated (encrypted) pickle's is taken as stored, after the check that it decompresses
/// to a curve point, which saves a base-point multiplication. An unencrypted pickle's is
/// recomputed from the secret and must equal the stored one ([`PickleError::KeyMismatch`]): its
/// bytes may have been altered, and a wrong public key is not harmless, since two signatures of
/// one message under two public keys reveal the secret scalar. Older pickles have it recomputed.
pub(crate) fn read_ed25519_secret(r: &mut Reader<'_>) -> Result<Ed25519SecretKey, PickleError> {
    let form = match r.u8("Ed25519 key form")? {
        ED25519_SEED => Ed25519SecretForm::Seed(r.secret::<32>("Ed25519 seed")?),
        ED25519_EXPANDED => Ed25519SecretForm::Expanded(r.secret::<64>("Ed25519 expanded key")?),
        _ => return Err(PickleError::InvalidField("Ed25519 key form")),
    };
    let stored_public = if r.version() >= V3 {
        Some(Ed25519PublicKey::from_bytes(&r.bytes::<32>("Ed25519 public key")?)?)
    } else {
        None
    };
    if r.is_authenticated() {
        return Ok(Ed25519SecretKey::from_form(form, stored_public));
    }
    let key = Ed25519SecretKey::from_form(form, None);
    if stored_public.is_some_and(|p| p != key.public_key()) {
        return Err(PickleError::KeyMismatch("Ed25519 public key"));
    }
    Ok(key)
}

fn read_olm_config(r: &mut Reader<'_>) -> Result<SessionConfig, PickleError> {
    SessionConfig::from_version(r.u8("session config")?).ok_or(PickleError::InvalidField("session config"))
}

fn read_megolm_config(r: &mut Reader<'_>) -> Result<MegolmConfig, PickleError> {
    MegolmConfig::from_version(r.u8("session config")?).ok_or(PickleError::InvalidField("session config"))
}

/// The first format version that stores each Curve25519 secret key with its public key.
const V2: u8 = 2;
/// The first format version with Ed25519 public keys stored beside their secret keys.
pub(crate) const V3: u8 = 3;
/// The first format version with an Olm account's remembered fallback-key uses.
pub(crate) const V4: u8 = 4;

/// A remembered fallback-key use as written: `u64 key id ‖ digest(16)`.
const FALLBACK_USE_LEN: usize = 8 + 16;

/// A Curve25519 key pair as written: `secret(32) ‖ public(32)`.
pub(crate) const CURVE25519_PAIR_LEN: usize = 64;

/// A stored key's length as written.
const STORED_KEY_LEN: usize = 8 + 1 + CURVE25519_PAIR_LEN;

/// A Curve25519 key pair: `secret(32) ‖ public(32)` (version 1: `secret(32)` alone).
pub(crate) fn write_curve25519_pair(w: &mut Writer, key: &Curve25519SecretKey) {
    w.secret(key.to_secret_bytes().expose());
    w.bytes(key.public_key().as_bytes());
}

/// Reads what [`write_curve25519_pair`] wrote. From version 2 on the public key is stored: an
/// authenticated (encrypted) pickle's is taken as stored, which saves a base-point
/// multiplication; an unencrypted pickle's is recomputed and must equal the stored one
/// ([`PickleError::KeyMismatch`]), since its bytes may have been altered (a wrong public key
/// would be published, signed and used in session ids). A version 1 pickle has its public keys
/// recomputed.
pub(crate) fn read_curve25519_pair(r: &mut Reader<'_>, what: &'static str) -> Result<Curve25519SecretKey, PickleError> {
    let secret = r.secret::<32>(what)?;
    if r.version() < V2 {
        return Ok(Curve25519SecretKey::from_secret_bytes(&secret));
    }
    let public = Curve25519PublicKey::from_bytes(r.bytes::<32>(what)?);
    if r.is_authenticated() {
        return Ok(Curve25519SecretKey::from_secret_bytes_and_public(&secret, public));
    }
    let key = Curve25519SecretKey::from_secret_bytes(&secret);
    if key.public_key() != public {
        return Err(PickleError::KeyMismatch(what));
    }
    Ok(key)
}

/// The encoded length of a key pair in the format being read.
pub(crate) fn curve25519_pair_len(r: &Reader<'_>) -> usize {
    if r.version() >= V2 { CURVE25519_PAIR_LEN } else { 32 }
}

/// A Curve25519 key as stored in an account: `u64 id ‖ bool published ‖ key pair`.
fn write_stored_key(w: &mut Writer, id: KeyId, key: &StoredKey) {
    w.u64(id.0);
    w.bool(key.published);
    write_curve25519_pair(w, &key.secret);
}

fn read_stored_key(r: &mut Reader<'_>, what: &'static str) -> Result<(KeyId, StoredKey), PickleError> {
    let id = KeyId(r.u64(what)?);
    let published = r.bool(what)?;
    let secret = read_curve25519_pair(r, what)?;
    Ok((id, stored_key(secret, published)))
}

/// A stored key, its public key taken from the secret key (computed there unless known).
pub(crate) fn stored_key(secret: Curve25519SecretKey, published: bool) -> StoredKey {
    let public = secret.public_key();
    StoredKey { secret, public, published }
}

// ---------------------------------------------------------------- account

/// The body of an account pickle:
/// `ed25519 key | identity key pair | u64 next_key_id | list<stored key> (ascending ids, ≤ 5 000)
///  | option<fallback> | option<previous fallback> | list≤1024<u64 key id | digest(16)>`, the
/// last list (the remembered uses of the fallback keys, oldest first) from format version 4 on.
fn encode_account(a: &Account, w: &mut Writer) {
    write_ed25519_secret(w, &a.signing_key);
    write_curve25519_pair(w, &a.identity_key);
    w.u64(a.next_key_id);
    w.count(a.one_time_keys.len());
    for (id, k) in &a.one_time_keys {
        write_stored_key(w, *id, k);
    }
    for slot in [&a.fallback_key, &a.previous_fallback_key] {
        match slot {
            Some((id, k)) => {
                w.bool(true);
                write_stored_key(w, *id, k);
            }
            None => w.bool(false),
        }
    }
    w.count(a.fallback_key_uses.len());
    for u in &a.fallback_key_uses {
        w.u64(u.key_id.0);
        w.bytes(&u.digest);
    }
}

fn decode_account(r: &mut Reader<'_>) -> Result<Account, PickleError> {
    let signing_key = read_ed25519_secret(r)?;
    let identity_key = read_curve25519_pair(r, "identity key")?;
    let next_key_id = r.u64("next key id")?;
    let stored_key_len = 8 + 1 + curve25519_pair_len(r);
    let n = r.count(MAX_ONE_TIME_KEYS, stored_key_len, "one-time keys")?;
    let mut one_time_keys = BTreeMap::new();
    let mut last: Option<KeyId> = None;
    for _ in 0..n {
        let (id, k) = read_stored_key(r, "one-time key")?;
        if last.is_some_and(|l| id <= l) {
            return Err(PickleError::InvalidField("one-time key ids (not ascending)"));
        }
        if id.0 >= next_key_id {
            return Err(PickleError::InvalidField("one-time key id (not below the next key id)"));
        }
        last = Some(id);
        one_time_keys.insert(id, k);
    }
    let mut fallback = [None, None];
    for slot in &mut fallback {
        if r.bool("fallback key present")? {
            let (id, k) = read_stored_key(r, "fallback key")?;
            // Fallback keys have their own counter (the next id is the current key's plus
            // one), so their ids are not bounded by the one-time keys' next id.
            if id.0 == u64::MAX {
                return Err(PickleError::InvalidField("fallback key id (no next id)"));
            }
            *slot = Some((id, k));
        }
    }
    let fallback_ids: Vec<KeyId> = fallback.iter().flatten().map(|(id, _)| *id).collect();
    let [fallback_key, previous_fallback_key] = fallback;
    let fallback_key_uses = if r.version() >= V4 {
        r.list(MAX_FALLBACK_KEY_USES, FALLBACK_USE_LEN, "fallback key uses", |r| {
            let key_id = KeyId(r.u64("fallback key use")?);
            if !fallback_ids.contains(&key_id) {
                return Err(PickleError::InvalidField("fallback key use (of a key the account does not hold)"));
            }
            Ok(FallbackKeyUse { key_id, digest: r.bytes::<16>("fallback key use")? })
        })?
    } else {
        Vec::new()
    };
    let mut account = Account::from_parts(signing_key, identity_key);
    account.one_time_keys = one_time_keys;
    account.fallback_key = fallback_key;
    account.previous_fallback_key = previous_fallback_key;
    account.next_key_id = next_key_id;
    account.fallback_key_uses = fallback_key_uses.into();
    Ok(account)
}

pub(crate) fn clone_account(a: &Account) -> Account {
    let mut c = Account::from_parts(a.signing_key.clone(), a.identity_key.clone());
    c.one_time_keys = a.one_time_keys.clone();
    c.fallback_key = a.fallback_key.clone();
    c.previous_fallback_key = a.previous_fallback_key.clone();
    c.next_key_id = a.next_key_id;
    c.contract = a.contract;
    c.fallback_key_uses = a.fallback_key_uses.clone();
    c
}

// ---------------------------------------------------------------- double ratchet

const RECEIVER_MIN_LEN: usize = 32 + 32 + 4 + 4;
const SKIPPED_LEN: usize = 4 + 32;

/// The ratchet core, shared by every double-ratchet session type (the interolm session reuses
/// it with the Signal dialect's limits):
/// `root(32) | option<ratchet key pair | chain(32) | u32 index> | u32 previous_counter
///  | list<ratchet pub(32) | chain(32) | u32 index | list<u32 index | seed(32)>>` (oldest first).
pub(crate) fn encode_ratchet(d: &DoubleRatchet, w: &mut Writer) {
    // caudata's format keeps skipped seeds per chain
    let d = &*d.with_per_chain_skipped();
    w.secret(d.root.0.expose());
    match &d.sender {
        Some(s) => {
            w.bool(true);
            write_curve25519_pair(w, &s.ratchet_key);
            w.secret(s.chain.key.expose());
            w.u32(s.chain.index);
        }
        None => w.bool(false),
    }
    w.u32(d.previous_counter);
    w.count(d.receivers.len());
    for rc in &d.receivers {
        w.bytes(rc.ratchet_key.key().as_bytes());
        w.secret(rc.chain.key.expose());
        w.u32(rc.chain.index);
        w.count(rc.skipped.len());
        for s in &rc.skipped {
            w.u32(s.index);
            w.secret(s.seed.expose());
        }
    }
}

pub(crate) fn decode_ratchet(r: &mut Reader<'_>, dialect: &'static Dialect) -> Result<DoubleRatchet, PickleError> {
    let root = RootKey(r.secret::<32>("root key")?);
    let sender = if r.bool("sending chain present")? {
        let ratchet_key = read_curve25519_pair(r, "sending ratchet key")?;
        let key = r.secret::<32>("sending chain key")?;
        let index = r.u32("sending chain index")?;
        Some(SenderChain::new(ratchet_key, ChainKey { key, index }))
    } else {
        None
    };
    let previous_counter = r.u32("previous counter")?;
    let n = r.count(dialect.max_receiver_chains, RECEIVER_MIN_LEN, "receiving chains")?;
    let mut receivers = VecDeque::with_capacity(n);
    for _ in 0..n {
        let ratchet_key =
            ContributoryKey::new(Curve25519PublicKey::from_bytes(r.bytes::<32>("receiving ratchet key")?))?;
        let key = r.secret::<32>("receiving chain key")?;
        let index = r.u32("receiving chain index")?;
        let m = r.count(dialect.max_skipped, SKIPPED_LEN, "skipped message keys")?;
        let mut skipped = VecDeque::with_capacity(m);
        for _ in 0..m {
            let index = r.u32("skipped key index")?;
            let seed = r.secret::<32>("skipped message key")?;
            skipped.push_back(MessageSeed { seed, index });
        }
        receivers.push_back(ReceiverChain { ratchet_key, chain: ChainKey { key, index }, skipped });
    }
    check_ratchet_invariant(sender.as_ref(), &receivers)?;
    Ok(DoubleRatchet { dialect, root, sender, receivers, previous_counter, shared_skipped: None })
}

/// What the ratchet core relies on and a pickle could otherwise break: there is a sending
/// chain, or a receiving chain to answer. (That every receiving chain's key gives a
/// contributory Diffie-Hellman result is the type's: each reader builds it with
/// [`ContributoryKey::new`], which refuses a small-order key with
/// [`KeyError::NonContributory`](crate::KeyError::NonContributory).)
pub(crate) fn check_ratchet_invariant(
    sender: Option<&SenderChain>,
    receivers: &VecDeque<ReceiverChain>,
) -> Result<(), PickleError> {
    if sender.is_none() && receivers.is_empty() {
        return Err(PickleError::InvalidField("ratchet (neither a sending nor a receiving chain)"));
    }
    Ok(())
}

// ---------------------------------------------------------------- Olm session

/// `I_A(32) | E_A(32) | E_B(32) | u8 config | bool received_message | ratchet`.
fn encode_session(s: &Session, w: &mut Writer) {
    w.bytes(s.session_keys.identity_key.as_bytes());
    w.bytes(s.session_keys.base_key.as_bytes());
    w.bytes(s.session_keys.one_time_key.as_bytes());
    w.u8(s.config.version());
    w.bool(s.received_message);
    encode_ratchet(&s.ratchet, w);
}

fn decode_session(r: &mut Reader<'_>) -> Result<Session, PickleError> {
    let session_keys = SessionKeys {
        identity_key: Curve25519PublicKey::from_bytes(r.bytes::<32>("identity key")?),
        base_key: Curve25519PublicKey::from_bytes(r.bytes::<32>("base key")?),
        one_time_key: Curve25519PublicKey::from_bytes(r.bytes::<32>("one-time key")?),
    };
    session_keys.check_contributory()?;
    let config = read_olm_config(r)?;
    let received_message = r.bool("received message")?;
    let ratchet = decode_ratchet(r, &crate::olm::OLM_DIALECT)?;
    Ok(Session { session_keys, ratchet, config, received_message })
}

pub(crate) fn clone_session(s: &Session) -> Session {
    Session {
        session_keys: s.session_keys,
        ratchet: s.ratchet.clone(),
        config: s.config,
        received_message: s.received_message,
    }
}

// ---------------------------------------------------------------- Megolm

/// `u8 config | u32 index | ratchet(128) | ed25519 key`.
fn encode_group_session(s: &GroupSession, w: &mut Writer) {
    w.u8(s.config.version());
    w.u32(s.ratchet.index);
    w.secret(s.ratchet.parts.expose());
    write_ed25519_secret(w, &s.signing_key);
}

fn decode_group_session(r: &mut Reader<'_>) -> Result<GroupSession, PickleError> {
    let config = read_megolm_config(r)?;
    let index = r.u32("ratchet index")?;
    let parts = r.secret::<128>("ratchet")?;
    let signing_key = read_ed25519_secret(r)?;
    Ok(GroupSession { ratchet: MegolmRatchet::new(parts, index), signing_key, config })
}

pub(crate) fn clone_group_session(s: &GroupSession) -> GroupSession {
    GroupSession { ratchet: s.ratchet.clone(), signing_key: s.signing_key.clone(), config: s.config }
}

/// `u8 config | u32 initial index | initial(128) | u32 latest index | latest(128)
///  | ed25519 public(32) | bool verified`.
fn encode_inbound_group_session(s: &InboundGroupSession, w: &mut Writer) {
    w.u8(s.config.version());
    w.u32(s.initial_ratchet.index);
    w.secret(s.initial_ratchet.parts.expose());
    w.u32(s.latest_ratchet.index);
    w.secret(s.latest_ratchet.parts.expose());
    w.bytes(s.signing_key.as_bytes());
    w.bool(s.signing_key_verified);
}

fn decode_inbound_group_session(r: &mut Reader<'_>) -> Result<InboundGroupSession, PickleError> {
    let config = read_megolm_config(r)?;
    let initial_index = r.u32("initial ratchet index")?;
    let initial = r.secret::<128>("initial ratchet")?;
    let latest_index = r.u32("latest ratchet index")?;
    let latest = r.secret::<128>("latest ratchet")?;
    let signing_key = Ed25519PublicKey::from_bytes(&r.bytes::<32>("signing key")?)?;
    let signing_key_verified = r.bool("signing key verified")?;
    Ok(InboundGroupSession {
        initial_ratchet: MegolmRatchet::new(initial, initial_index),
        latest_ratchet: MegolmRatchet::new(latest, latest_index),
        signing_key,
        signing_key_verified,
        config,
    })
}

// ---------------------------------------------------------------- the public pickle types

/// Decodes a whole body of format `version` (`authenticated`: it came out of the pickle
/// cipher): every byte must be used.
pub(crate) fn decode_all<T>(
    body: &[u8],
    version: u8,
    authenticated: bool,
    f: impl FnOnce(&mut Reader<'_>) -> Result<T, PickleError>,
) -> Result<T, PickleError> {
    let r = Reader::with_version(body, version);
    let mut r = if authenticated { r.authenticated() } else { r };
    let v = f(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// The pickle types share their envelope code through this trait.
pub(crate) trait PickleBody: Sized {
    const TYPE: ObjectType;
    /// A capacity guess so the writer rarely grows.
    fn size_hint(&self) -> usize;
    fn encode(&self, w: &mut Writer);
    fn decode(r: &mut Reader<'_>) -> Result<Self, PickleError>;

    fn body(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer::with_capacity(self.size_hint());
        self.encode(&mut w);
        w.finish()
    }
}

pub(crate) fn to_encrypted<T: PickleBody>(v: &T, key: &[u8; 32], rng: &mut impl RandomSource) -> Vec<u8> {
    envelope::seal(T::TYPE, &v.body(), key, rng)
}

pub(crate) fn from_encrypted_bytes<T: PickleBody>(bytes: &[u8], key: &[u8; 32]) -> Result<T, PickleError> {
    let (body, version) = envelope::open(T::TYPE, bytes, key)?;
    decode_all(&body, version, true, T::decode)
}

pub(crate) fn from_encrypted_str<T: PickleBody>(pickle: &str, key: &[u8; 32]) -> Result<T, PickleError> {
    let max = envelope::MAX_PICKLE_LENGTH / 3 * 4 + 4;
    if pickle.len() > max {
        return Err(PickleError::TooLong { got: pickle.len(), max });
    }
    let bytes = base64_decode(pickle).map_err(|_| PickleError::Base64)?;
    from_encrypted_bytes(&bytes, key)
}

pub(crate) fn from_plain<T: PickleBody>(bytes: &[u8]) -> Result<T, PickleError> {
    let (body, version) = envelope::unwrap_plain(T::TYPE, bytes)?;
    decode_all(body, version, false, T::decode)
}

/// Defines a pickle type: the opaque struct, its [`PickleBody`] and its envelope methods
/// (`encrypt`, `from_encrypted`, unencrypted forms). The object's own `pickle()` and
/// `from_pickle()` come from `pickle_methods!` (or are written by hand when pickling can fail).
macro_rules! pickle_type {
    ($(#[$doc:meta])* $name:ident, $object:ty, $ty:expr, $hint:expr, $encode:ident, $decode:ident) => {
        $(#[$doc])*
        ///
        /// Obtained from the object's `pickle()`; turned back into the object with its
        /// `from_pickle()`. Holds secret keys (wiped on drop); prints nothing secret.
        pub struct $name(pub(crate) $object);

        impl PickleBody for $name {
            const TYPE: ObjectType = $ty;
            fn size_hint(&self) -> usize {
                #[allow(clippy::redundant_closure_call)]
                ($hint)(&self.0)
            }
            fn encode(&self, w: &mut Writer) {
                $encode(&self.0, w)
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, PickleError> {
                $decode(r).map(Self)
            }
        }

        impl $name {
            /// Encrypts with ChaCha20-Poly1305 under a key derived from `pickle_key`, with a
            /// fresh random nonce, and returns unpadded base64.
            pub fn encrypt(&self, pickle_key: &[u8; 32]) -> String {
                base64_encode(to_encrypted(self, pickle_key, &mut OsRandom))
            }

            /// [`Self::encrypt`] with the nonce drawn from `rng` (12 bytes), for known-answer
            /// tests. Never pass a predictable source in an application: a repeated nonce under
            /// one key reveals the XOR of two pickles.
            #[cfg(feature = "hazmat")]
            pub fn encrypt_with_rng(&self, pickle_key: &[u8; 32], rng: &mut impl RandomSource) -> String {
                base64_encode(to_encrypted(self, pickle_key, rng))
            }

            /// The encrypted pickle as bytes (what [`Self::encrypt`] base64-encodes).
            pub fn encrypt_to_bytes(&self, pickle_key: &[u8; 32]) -> Vec<u8> {
                to_encrypted(self, pickle_key, &mut OsRandom)
            }

            /// Decrypts and decodes what [`Self::encrypt`] wrote.
            ///
            /// # Errors
            /// [`PickleError::Authentication`] for a wrong key or a modified pickle;
            /// [`PickleError::UnknownVersion`] for a format newer than this library;
            /// [`PickleError::WrongObjectType`], [`PickleError::NotAPickle`], a decoding error
            /// naming the field. Nothing is returned on error.
            pub fn from_encrypted(pickle: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
                from_encrypted_str(pickle, pickle_key)
            }

            /// Decrypts and decodes what [`Self::encrypt_to_bytes`] wrote.
            ///
            /// # Errors
            /// As [`Self::from_encrypted`].
            pub fn from_encrypted_bytes(pickle: &[u8], pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
                from_encrypted_bytes(pickle, pickle_key)
            }

            /// The unencrypted form (header and body), for callers that encrypt at rest
            /// themselves. It contains every secret key of the object: the buffer is wiped on
            /// drop, and the caller must protect any copy.
            pub fn to_unencrypted_bytes(&self) -> Zeroizing<Vec<u8>> {
                envelope::wrap_plain(Self::TYPE, &self.body())
            }

            /// Decodes what [`Self::to_unencrypted_bytes`] wrote.
            ///
            /// # Errors
            /// As [`Self::from_encrypted`], except that there is no authentication (and so no
            /// [`PickleError::Authentication`]).
            pub fn from_unencrypted_bytes(bytes: &[u8]) -> Result<Self, PickleError> {
                from_plain(bytes)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }
    };
}
pub(crate) use pickle_type;

/// The object's infallible `pickle()` (a snapshot made with `$clone`) and `from_pickle()`.
macro_rules! pickle_methods {
    ($object:ty, $name:ident, $clone:path) => {
        impl $object {
            /// A snapshot of the object for storage (see the type's `encrypt` and
            /// `to_unencrypted_bytes`).
            pub fn pickle(&self) -> $name {
                $name($clone(self))
            }

            /// The object a pickle was made from. It behaves exactly as the pickled object
            /// did: the same keys, and the same next messages from the same randomness.
            pub fn from_pickle(pickle: $name) -> Self {
                pickle.0
            }
        }
    };
}
pub(crate) use pickle_methods;

pickle_type!(
    /// A pickled [`Account`].
    AccountPickle,
    Account,
    ObjectType::Account,
    |a: &Account| 196
        + a.one_time_keys.len() * STORED_KEY_LEN
        + 2 * STORED_KEY_LEN
        + a.fallback_key_uses.len() * FALLBACK_USE_LEN,
    encode_account,
    decode_account
);
pickle_methods!(Account, AccountPickle, clone_account);

pickle_type!(
    /// A pickled Olm [`Session`].
    SessionPickle,
    Session,
    ObjectType::OlmSession,
    |s: &Session| 256
        + s.ratchet.receivers.iter().map(|r| RECEIVER_MIN_LEN + r.skipped.len() * SKIPPED_LEN).sum::<usize>(),
    encode_session,
    decode_session
);
pickle_methods!(Session, SessionPickle, clone_session);

pickle_type!(
    /// A pickled Megolm [`GroupSession`] (the sender's side).
    GroupSessionPickle,
    GroupSession,
    ObjectType::GroupSession,
    |_: &GroupSession| 1 + 4 + 128 + 65 + 32,
    encode_group_session,
    decode_group_session
);
pickle_methods!(GroupSession, GroupSessionPickle, clone_group_session);

pickle_type!(
    /// A pickled Megolm [`InboundGroupSession`].
    InboundGroupSessionPickle,
    InboundGroupSession,
    ObjectType::InboundGroupSession,
    |_: &InboundGroupSession| 1 + 2 * (4 + 128) + 32 + 1,
    encode_inbound_group_session,
    decode_inbound_group_session
);
pickle_methods!(InboundGroupSession, InboundGroupSessionPickle, InboundGroupSession::duplicate);

#[cfg(test)]
mod tests {
    //! The checks of an unencrypted pickle's stored public keys (written to kill the mutants
    //! listed in TESTING.md).

    use super::*;

    /// Replaces the first occurrence of `needle` in `bytes` with `with` (a valid key of
    /// another account, so that only the comparison can refuse it).
    fn replace(bytes: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
        let at = bytes.windows(needle.len()).position(|w| w == needle).unwrap();
        let mut out = bytes.to_vec();
        out[at..at + with.len()].copy_from_slice(with);
        out
    }

    #[test]
    fn encrypted_pickle_text_is_bounded_by_the_largest_pickle_s_base64() {
        // the text of the largest pickle is decoded (and refused for what it is: not a pickle);
        // a longer one is refused by its length before any decoding
        let key = [3u8; 32];
        let largest = base64_encode(vec![0u8; envelope::MAX_PICKLE_LENGTH]).len();
        let at = AccountPickle::from_encrypted(&"A".repeat(largest), &key);
        assert!(matches!(at, Err(PickleError::NotAPickle)), "{at:?}");
        let over = AccountPickle::from_encrypted(&"A".repeat(largest + 8), &key);
        let Err(PickleError::TooLong { got, max }) = over else { panic!("{over:?}") };
        assert!(got == largest + 8 && (largest..largest + 8).contains(&max), "{max}");
        // the bound itself is read (base64 with its padding: the largest pickle's text is that long)
        let padded = AccountPickle::from_encrypted(&("A".repeat(largest) + &"=".repeat(max - largest)), &key);
        assert!(matches!(padded, Err(PickleError::NotAPickle)), "{padded:?}");
    }

    #[test]
    fn unencrypted_account_public_keys_are_recomputed_and_compared() {
        let account = Account::new();
        let bytes = account.pickle().to_unencrypted_bytes();
        let back = Account::from_pickle(AccountPickle::from_unencrypted_bytes(&bytes).unwrap());
        assert_eq!(back.identity_keys(), account.identity_keys());
        let other = Account::new();
        for (public, substitute, what) in [
            (account.ed25519_key().as_bytes().to_vec(), other.ed25519_key().as_bytes().to_vec(), "Ed25519 public key"),
            (account.curve25519_key().as_bytes().to_vec(), other.curve25519_key().as_bytes().to_vec(), "identity key"),
        ] {
            assert_eq!(
                AccountPickle::from_unencrypted_bytes(&replace(&bytes, &public, &substitute)).err(),
                Some(PickleError::KeyMismatch(what))
            );
        }
    }

    #[test]
    fn accounts_with_one_time_and_fallback_keys_round_trip() {
        let mut account = Account::new();
        account.generate_one_time_keys(3);
        account.generate_fallback_key();
        account.generate_fallback_key();
        let bytes = account.pickle().to_unencrypted_bytes();
        let back = Account::from_pickle(AccountPickle::from_unencrypted_bytes(&bytes).unwrap());
        assert_eq!(*back.pickle().to_unencrypted_bytes(), *bytes);
        assert_eq!(back.one_time_keys(), account.one_time_keys());
        assert_eq!(back.fallback_key(), account.fallback_key());
        assert_eq!(back.stored_one_time_key_count(), 3);
    }

    #[test]
    fn expanded_ed25519_keys_and_curve25519_pairs_of_versions_1_and_2_are_read() {
        // an Ed25519 key known only in its expanded form (no seed) is written and read as such
        let expanded = Ed25519SecretKey::from_expanded(crate::primitives::SecretBytes::from_slice(&[7; 64]).unwrap());
        let mut w = Writer::with_capacity(128);
        write_ed25519_secret(&mut w, &expanded);
        let bytes = w.finish();
        assert_eq!(bytes[0], ED25519_EXPANDED);
        let mut r = Reader::new(&bytes);
        assert_eq!(read_ed25519_secret(&mut r).unwrap().public_key(), expanded.public_key());
        assert_eq!(r.finish(), Ok(()));
        // a Curve25519 pair: version 1 stores the secret alone, version 2 on both halves
        let key = Curve25519SecretKey::new();
        let mut w = Writer::with_capacity(64);
        write_curve25519_pair(&mut w, &key);
        let pair = w.finish();
        let mut r = Reader::with_version(&pair, V2);
        assert_eq!(read_curve25519_pair(&mut r, "k").unwrap().public_key(), key.public_key());
        assert_eq!(r.finish(), Ok(()));
        let mut r = Reader::with_version(&pair[..32], 1);
        assert_eq!(read_curve25519_pair(&mut r, "k").unwrap().public_key(), key.public_key());
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn the_one_time_key_count_is_bounded_by_whole_stored_keys() {
        let mut account = Account::new();
        account.generate_one_time_keys(1);
        let mut w = Writer::with_capacity(512);
        encode_account(&account, &mut w);
        let body = w.finish();
        // Ed25519 seed form (1 + 32 + 32), identity pair (64), next key id (8), then the count
        let count_at = 65 + 64 + 8;
        let stored = 8 + 1 + CURVE25519_PAIR_LEN;
        assert_eq!(body.len(), count_at + 4 + stored + 2 + 4);
        let decode = |b: &[u8]| decode_account(&mut Reader::new(b)).map(|a| a.identity_keys());
        assert_eq!(decode(&body), Ok(account.identity_keys()));
        // a count of 2 needs 146 bytes after it: 145 are refused at the count, 146 are not
        let mut two = body.to_vec();
        two[count_at..count_at + 4].copy_from_slice(&2u32.to_be_bytes());
        let short = 2 * stored - 1 - (body.len() - count_at - 4);
        two.extend_from_slice(&vec![0; short]);
        assert_eq!(decode(&two), Err(PickleError::Truncated("one-time keys")));
        two.push(0);
        assert_ne!(decode(&two), Err(PickleError::Truncated("one-time keys")));
    }

    #[test]
    fn fallback_key_uses_of_held_keys_only_round_trip() {
        let mut account = Account::new();
        account.generate_fallback_key();
        let id = *account.fallback_key().keys().next().unwrap();
        account.fallback_key_uses.push_back(FallbackKeyUse { key_id: id, digest: [9; 16] });
        let bytes = account.pickle().to_unencrypted_bytes();
        let back = Account::from_pickle(AccountPickle::from_unencrypted_bytes(&bytes).unwrap());
        assert_eq!(back.fallback_key_uses, account.fallback_key_uses);
        assert_eq!(*back.pickle().to_unencrypted_bytes(), *bytes);
        // the same use of a key id the account does not hold
        let mut other = account.pickle().to_unencrypted_bytes().to_vec();
        let at = other.len() - 16 - 8;
        other[at..at + 8].copy_from_slice(&(id.0 + 1).to_be_bytes());
        assert_eq!(
            AccountPickle::from_unencrypted_bytes(&other).err(),
            Some(PickleError::InvalidField("fallback key use (of a key the account does not hold)"))
        );
    }

    #[test]
    fn the_ratchet_invariant_needs_one_chain() {
        let chain = || ChainKey { key: crate::primitives::SecretBytes::from_slice(&[1; 32]).unwrap(), index: 0 };
        let sender = SenderChain::new(Curve25519SecretKey::new(), chain());
        let their_key = ContributoryKey::new(Curve25519SecretKey::new().public_key()).unwrap();
        let receivers: VecDeque<_> =
            [ReceiverChain { ratchet_key: their_key, chain: chain(), skipped: VecDeque::new() }].into();
        assert_eq!(check_ratchet_invariant(Some(&sender), &VecDeque::new()), Ok(()));
        assert_eq!(check_ratchet_invariant(None, &receivers), Ok(()));
        assert_eq!(check_ratchet_invariant(Some(&sender), &receivers), Ok(()));
        assert_eq!(
            check_ratchet_invariant(None, &VecDeque::new()),
            Err(PickleError::InvalidField("ratchet (neither a sending nor a receiving chain)"))
        );
    }

    #[test]
    fn inbound_group_sessions_round_trip_with_their_flag() {
        use crate::megolm::SessionOrdering;
        let outbound = GroupSession::new(MegolmConfig::version_2());
        let signed = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_2());
        let imported = InboundGroupSession::import(&signed.export_at(3).unwrap(), MegolmConfig::version_2());
        for (s, verified) in [(&signed, true), (&imported, false)] {
            let back = InboundGroupSession::from_pickle(
                InboundGroupSessionPickle::from_unencrypted_bytes(&s.pickle().to_unencrypted_bytes()).unwrap(),
            );
            assert_eq!(back.signing_key_verified(), verified);
            assert_eq!(back.first_known_index(), s.first_known_index());
            assert_eq!(back.compare(s), SessionOrdering::Equal);
            assert_eq!(back.session_config(), s.session_config());
        }
    }

    /// An outbound group session through both forms of its pickle: the same key, index,
    /// configuration and signing key, so its next message decrypts for a receiver of the
    /// original's session key.
    #[test]
    fn group_sessions_round_trip_and_keep_sending() {
        for config in [MegolmConfig::version_1(), MegolmConfig::version_2()] {
            let mut outbound = GroupSession::new(config);
            let mut inbound = InboundGroupSession::new(&outbound.session_key(), config);
            let _ = outbound.encrypt(b"m0");
            let key = [4u8; 32];
            let bytes = outbound.pickle().to_unencrypted_bytes();
            let plain = GroupSession::from_pickle(GroupSessionPickle::from_unencrypted_bytes(&bytes).unwrap());
            let sealed = GroupSession::from_pickle(
                GroupSessionPickle::from_encrypted(&outbound.pickle().encrypt(&key), &key).unwrap(),
            );
            for mut back in [plain, sealed] {
                assert_eq!((back.session_id(), back.message_index()), (outbound.session_id(), 1));
                assert_eq!(back.session_config(), config);
                assert_eq!(*back.pickle().to_unencrypted_bytes(), *bytes);
                let m = back.encrypt(b"m1");
                assert_eq!(inbound.decrypt(&m).unwrap().plaintext, b"m1");
            }
        }
    }
}
