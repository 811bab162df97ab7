//! libolm's pickles: import of every version libolm ever wrote, export of the version libolm
//! 3.2.x writes today, so that a user can move from libolm to caudata and back.
//!
//! Cipher (also used by vodozemac's own pickles): `AES_KEY(32) ‖ MAC_KEY(32) ‖ IV(16) =
//! HKDF-SHA-256(zero salt, pickle key, "Pickle", 80)`; the pickle is
//! `base64(AES-256-CBC-PKCS7(raw) ‖ HMAC-SHA-256(MAC_KEY, ciphertext)[..8])`. The IV is derived
//! from the key, so equal states under one key give equal pickles (a libolm property, kept on
//! export because libolm must read the result).
//!
//! Raw layouts (integers big-endian, `bool` one byte, lists a `u32` count then the items):
//!
//! | object | versions read | layout |
//! |---|---|---|
//! | Account | 2, 3, 4 (1 refused) | `u32 v ‖ ed25519 pub(32) ‖ expanded(64) ‖ curve pub(32) ‖ priv(32) ‖ list≤100<u32 id ‖ bool published ‖ pub ‖ priv> (newest first) ‖ fallback ‖ u32 last_key_id`; fallback: v2 none, v3 always two slots (present if `published`), v4 `u8 n ≤ 2` then n slots (current, previous) |
//! | Session | 1, 0x80000001 | `u32 v ‖ bool received ‖ I_A ‖ E_A ‖ E_B ‖ root(32) ‖ list≤1<pub ‖ priv ‖ chain(32) ‖ u32 idx> ‖ list≤5<pub ‖ chain ‖ u32 idx> (newest first) ‖ list≤40<pub ‖ message key(32) ‖ u32 idx> (newest first) [‖ u32 ignored, 0x80000001 only]` |
//! | OutboundGroupSession | 1 | `u32 v ‖ ratchet(128) ‖ u32 counter ‖ ed25519 pub ‖ expanded(64)` |
//! | InboundGroupSession | 1, 2 | `u32 v ‖ initial(128) ‖ u32 ‖ latest(128) ‖ u32 ‖ ed25519 pub ‖ [bool verified, v2; v1 means verified]` |

use std::collections::{BTreeMap, VecDeque};

use zeroize::Zeroizing;

use super::codec::{Reader, Writer};
use super::envelope::MAX_PICKLE_LENGTH;
use super::own::{check_ratchet_invariant, stored_key};
use crate::error::PickleError;
use crate::megolm::{GroupSession, InboundGroupSession, MegolmRatchet, SessionConfig as MegolmConfig};
use crate::olm::{Account, KeyId, OLM_DIALECT, Session, SessionConfig, SessionKeys, StoredKey};
use crate::primitives::{
    AesCbcKeys, ContributoryKey, Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretKey, HmacKey,
    aes256_cbc_decrypt, aes256_cbc_encrypt, base64_decode, base64_encode, ct_eq,
};
use crate::ratchet::{ChainKey, DoubleRatchet, MessageSeed, ReceiverChain, RootKey, SenderChain, SharedSeed};

const MAC_LEN: usize = 8;
/// libolm's limits: `MAX_ONE_TIME_KEYS`, receiving chains, skipped message keys (all sessions'
/// chains together).
const LIBOLM_MAX_ONE_TIME_KEYS: usize = 100;
/// One-time keys read from a libolm account pickle: vodozemac's `to_libolm_pickle` writes all of
/// its keys (up to 5 000) in this format; libolm itself keeps the first 99 and the last of a
/// longer list (checked with python-olm 3.2.16), caudata keeps them all, up to its own limit.
const LIBOLM_IMPORT_MAX_ONE_TIME_KEYS: usize = crate::consts::MAX_ONE_TIME_KEYS;
const LIBOLM_MAX_RECEIVER_CHAINS: usize = 5;
const LIBOLM_MAX_SKIPPED_KEYS: usize = 40;

const ACCOUNT_VERSION: u32 = 4;
const SESSION_VERSION: u32 = 1;
const SESSION_VERSION_WITH_CHAIN_INDEX: u32 = 0x8000_0001;
const OUTBOUND_GROUP_VERSION: u32 = 1;
const INBOUND_GROUP_VERSION: u32 = 2;

// ---------------------------------------------------------------- cipher

/// Encrypts a raw pickle the way libolm does.
pub(crate) fn encrypt(raw: &[u8], pickle_key: &[u8]) -> String {
    let keys = AesCbcKeys::derive(None, pickle_key, b"Pickle");
    let mut out = aes256_cbc_encrypt(&keys.aes_key, &keys.iv, raw);
    let mac = HmacKey::new(&keys.mac_key).mac(&[&out]);
    out.extend_from_slice(&mac.expose()[..MAC_LEN]);
    base64_encode(out)
}

/// Authenticates and decrypts a libolm-style pickle (libolm's or vodozemac's). The MAC is
/// checked before anything is decrypted.
pub(crate) fn decrypt(pickle: &str, pickle_key: &[u8]) -> Result<Zeroizing<Vec<u8>>, PickleError> {
    decrypt_up_to(pickle, pickle_key, MAX_PICKLE_LENGTH)
}

/// [`decrypt`] of a pickle of at most `max_length` bytes (before base64).
pub(crate) fn decrypt_up_to(
    pickle: &str,
    pickle_key: &[u8],
    max_length: usize,
) -> Result<Zeroizing<Vec<u8>>, PickleError> {
    let max = max_length / 3 * 4 + 4;
    if pickle.len() > max {
        return Err(PickleError::TooLong { got: pickle.len(), max });
    }
    let bytes = base64_decode(pickle).map_err(|_| PickleError::Base64)?;
    if bytes.len() < MAC_LEN {
        return Err(PickleError::Truncated("pickle MAC"));
    }
    let (ct, mac) = bytes.split_at(bytes.len() - MAC_LEN);
    let keys = AesCbcKeys::derive(None, pickle_key, b"Pickle");
    let expected = HmacKey::new(&keys.mac_key).mac(&[ct]);
    if !ct_eq(&expected.expose()[..MAC_LEN], mac) {
        return Err(PickleError::Authentication);
    }
    // Authentic, so a bad length or padding means the writer was broken, not an attack.
    aes256_cbc_decrypt(&keys.aes_key, &keys.iv, ct).map(Zeroizing::new).ok_or(PickleError::InvalidField("padding"))
}

fn decode_all<T>(raw: &[u8], f: impl FnOnce(&mut Reader<'_>) -> Result<T, PickleError>) -> Result<T, PickleError> {
    let mut r = Reader::new(raw);
    let v = f(&mut r)?;
    r.finish()?;
    Ok(v)
}

// ---------------------------------------------------------------- key pairs

fn read_curve_pair(r: &mut Reader<'_>, what: &'static str) -> Result<Curve25519SecretKey, PickleError> {
    let public = r.bytes::<32>(what)?;
    let secret = Curve25519SecretKey::from_secret_bytes(&r.secret::<32>(what)?);
    if secret.public_key().as_bytes() != &public {
        return Err(PickleError::KeyMismatch(what));
    }
    Ok(secret)
}

fn write_curve_pair(w: &mut Writer, secret: &Curve25519SecretKey) {
    w.bytes(secret.public_key().as_bytes());
    w.secret(secret.to_secret_bytes().expose());
}

/// libolm's Ed25519 pair: `pub(32) ‖ expanded(64)`. The imported key signs from the expanded
/// form, byte for byte as libolm does.
pub(crate) fn read_ed25519_pair(r: &mut Reader<'_>, what: &'static str) -> Result<Ed25519SecretKey, PickleError> {
    let public = r.bytes::<32>(what)?;
    let secret = Ed25519SecretKey::from_expanded(r.secret::<64>(what)?);
    if secret.public_key().as_bytes() != &public {
        return Err(PickleError::KeyMismatch(what));
    }
    Ok(secret)
}

fn write_ed25519_pair(w: &mut Writer, key: &Ed25519SecretKey) {
    w.bytes(key.public_key().as_bytes());
    w.secret(key.expanded_bytes().expose());
}

// ---------------------------------------------------------------- account

/// One libolm one-time or fallback key: `u32 id ‖ bool published ‖ pub ‖ priv`.
const LIBOLM_KEY_LEN: usize = 4 + 1 + 32 + 32;

struct LibolmKey {
    id: u32,
    published: bool,
    public: [u8; 32],
    secret: Curve25519SecretKey,
}

/// One stored key. Its public key is derived from the secret (later, and compared with the
/// stored one), unless `trust_public` (bytes this library wrote into memory only the key's owner
/// can reach, beside the secret key itself): then the stored public key is taken as it is,
/// saving a base-point multiplication per key.
fn read_key_raw(r: &mut Reader<'_>, what: &'static str, trust_public: bool) -> Result<LibolmKey, PickleError> {
    let id = r.u32(what)?;
    let published = r.bool_lenient(what)?;
    let public = r.bytes::<32>(what)?;
    let bytes = r.secret::<32>(what)?;
    let secret = if trust_public {
        Curve25519SecretKey::from_secret_bytes_and_public(&bytes, Curve25519PublicKey::from_bytes(public))
    } else {
        Curve25519SecretKey::from_secret_bytes(&bytes)
    };
    Ok(LibolmKey { id, published, public, secret })
}

fn into_stored(k: LibolmKey, what: &'static str) -> Result<(KeyId, StoredKey), PickleError> {
    let stored = stored_key(k.secret, k.published);
    if stored.public.as_bytes() != &k.public {
        return Err(PickleError::KeyMismatch(what));
    }
    Ok((KeyId(k.id.into()), stored))
}

fn decode_account(r: &mut Reader<'_>) -> Result<Account, PickleError> {
    decode_account_with(r, false, false)
}

/// An account as libolm itself holds it (the libolm C interface's object memory): libolm's
/// one-time-key contract, its counter exactly as stored, and its way of reading an over-long
/// key list (the first 99 keys and the last, as inserting into its 100-slot list keeps them).
#[cfg(feature = "hazmat")]
fn decode_account_libolm_state(r: &mut Reader<'_>) -> Result<Account, PickleError> {
    decode_account_with(r, true, false)
}

/// [`decode_account_libolm_state`] trusting the stored one-time and fallback public keys.
#[cfg(feature = "hazmat")]
fn decode_account_libolm_state_trusted(r: &mut Reader<'_>) -> Result<Account, PickleError> {
    decode_account_with(r, true, true)
}

fn decode_account_with(r: &mut Reader<'_>, libolm_state: bool, trust_public: bool) -> Result<Account, PickleError> {
    let read_key_raw = |r: &mut Reader<'_>, what| read_key_raw(r, what, trust_public);
    let version = r.u32("version")?;
    match version {
        2..=ACCOUNT_VERSION => {}
        1 => return Err(PickleError::LegacyVersion { object: "libolm account", got: 1 }),
        got => return Err(PickleError::UnknownVersion { got, max: ACCOUNT_VERSION }),
    }
    let signing_key = read_ed25519_pair(r, "Ed25519 identity key")?;
    let identity_key = read_curve_pair(r, "Curve25519 identity key")?;
    let otks =
        r.list(LIBOLM_IMPORT_MAX_ONE_TIME_KEYS, LIBOLM_KEY_LEN, "one-time keys", |r| read_key_raw(r, "one-time key"))?;
    let (fallback_key, previous_fallback_key) = match version {
        2 => (None, None),
        3 => {
            // Version 3 always stored both slots and used `published` as "present" (libolm
            // assumes such keys were published).
            let current = read_key_raw(r, "fallback key")?;
            let previous = read_key_raw(r, "previous fallback key")?;
            if current.published {
                let prev =
                    if previous.published { Some(into_stored(previous, "previous fallback key")?) } else { None };
                (Some(into_stored(current, "fallback key")?), prev)
            } else {
                (None, None)
            }
        }
        _ => {
            let n = r.u8("fallback key count")?;
            if n > 2 {
                return Err(PickleError::TooMany { field: "fallback keys", got: n.into(), max: 2 });
            }
            let current =
                if n >= 1 { Some(into_stored(read_key_raw(r, "fallback key")?, "fallback key")?) } else { None };
            let previous = if n >= 2 {
                Some(into_stored(read_key_raw(r, "previous fallback key")?, "previous fallback key")?)
            } else {
                None
            };
            (current, previous)
        }
    };
    let last_key_id = r.u32("next one-time key id")?;
    // the one-time keys' public keys together: one field inversion instead of one each
    Curve25519SecretKey::precompute_public_keys(otks.iter().map(|k| &k.secret));

    let mut otks = otks;
    if libolm_state && otks.len() > LIBOLM_MAX_ONE_TIME_KEYS {
        // libolm inserts each key at the end of a full 100-slot list by overwriting its last
        // slot: the first 99 keys and the last one remain.
        let last = otks.pop();
        otks.truncate(LIBOLM_MAX_ONE_TIME_KEYS - 1);
        otks.extend(last);
    }
    let mut one_time_keys = BTreeMap::new();
    for k in otks {
        let (id, stored) = into_stored(k, "one-time key")?;
        if one_time_keys.insert(id, stored).is_some() {
            return Err(PickleError::InvalidField("one-time key ids (duplicate)"));
        }
    }
    // libolm stores the last id it handed out and pre-increments; caudata stores the next one.
    let max_id = one_time_keys
        .keys()
        .chain(fallback_key.iter().map(|(id, _)| id))
        .chain(previous_fallback_key.iter().map(|(id, _)| id))
        .map(|id| id.0)
        .max();
    let next_key_id = if libolm_state {
        u64::from(last_key_id) + 1
    } else {
        (u64::from(last_key_id) + 1).max(max_id.map_or(0, |m| m + 1))
    };
    let mut account = Account::from_parts(signing_key, identity_key);
    if libolm_state {
        account.contract = crate::olm::OneTimeKeyContract::Libolm;
    }
    account.one_time_keys = one_time_keys;
    account.fallback_key = fallback_key;
    account.previous_fallback_key = previous_fallback_key;
    account.next_key_id = next_key_id;
    Ok(account)
}

fn libolm_id(id: KeyId) -> Result<u32, PickleError> {
    u32::try_from(id.0).map_err(|_| PickleError::Unrepresentable("a key id beyond libolm's 32 bits"))
}

fn write_stored(w: &mut Writer, id: KeyId, k: &StoredKey) -> Result<(), PickleError> {
    w.u32(libolm_id(id)?);
    w.bool(k.published);
    w.bytes(k.public.as_bytes());
    w.secret(k.secret.to_secret_bytes().expose());
    Ok(())
}

fn encode_account(a: &Account) -> Result<Zeroizing<Vec<u8>>, PickleError> {
    // libolm keeps one counter for one-time and fallback keys: it must continue above both of
    // caudata's (the fallback counter is the current fallback id plus one).
    let next = match a.contract {
        crate::olm::OneTimeKeyContract::Libolm => a.next_key_id,
        _ => a.next_key_id.max(a.next_fallback_key_id()),
    };
    let last_key_id = u32::try_from(next.saturating_sub(1))
        .map_err(|_| PickleError::Unrepresentable("a key id beyond libolm's 32 bits"))?;
    // libolm holds 100 one-time keys (a longer list would lose all but the first 99 and the
    // last): the newest 100 are written, the older ones (claimed long ago, or never) are left
    // out, as libolm itself would have evicted them.
    let otks = a.one_time_keys.len().min(LIBOLM_MAX_ONE_TIME_KEYS);
    let mut w = Writer::with_capacity(4 + 96 + 64 + 4 + (otks + 2) * LIBOLM_KEY_LEN + 5);
    w.u32(ACCOUNT_VERSION);
    write_ed25519_pair(&mut w, &a.signing_key);
    w.bytes(a.identity_public.as_bytes());
    w.secret(a.identity_key.to_secret_bytes().expose());
    w.count(otks);
    // newest (highest id) first, as libolm keeps them
    for (id, k) in a.one_time_keys.iter().rev().take(otks) {
        write_stored(&mut w, *id, k)?;
    }
    // current, then previous (a previous key without a current one, which caudata never
    // makes, would become libolm's current key)
    let slots: Vec<_> = [&a.fallback_key, &a.previous_fallback_key].into_iter().flatten().collect();
    w.u8(if slots.len() == 2 { 2 } else { u8::from(slots.len() == 1) });
    for (id, k) in slots {
        write_stored(&mut w, *id, k)?;
    }
    w.u32(last_key_id);
    Ok(w.finish())
}

// ---------------------------------------------------------------- Olm session

const SENDER_LEN: usize = 32 + 32 + 32 + 4;
const RECEIVER_LEN: usize = 32 + 32 + 4;
const SKIPPED_LEN: usize = 32 + 32 + 4;

fn decode_session(r: &mut Reader<'_>) -> Result<Session, PickleError> {
    decode_session_with(r, false)
}

/// A session as libolm holds it (its C interface's object memory): libolm's single list of
/// skipped message keys, kept as it is.
#[cfg(feature = "hazmat")]
fn decode_session_libolm_state(r: &mut Reader<'_>) -> Result<Session, PickleError> {
    decode_session_with(r, true)
}

fn decode_session_with(r: &mut Reader<'_>, libolm_state: bool) -> Result<Session, PickleError> {
    let with_chain_index = match r.u32("version")? {
        SESSION_VERSION => false,
        SESSION_VERSION_WITH_CHAIN_INDEX => true,
        got => return Err(PickleError::UnknownVersion { got, max: SESSION_VERSION }),
    };
    let received_message = r.bool_lenient("received message")?;
    let session_keys = SessionKeys {
        identity_key: Curve25519PublicKey::from_bytes(r.bytes::<32>("identity key")?),
        base_key: Curve25519PublicKey::from_bytes(r.bytes::<32>("base key")?),
        one_time_key: Curve25519PublicKey::from_bytes(r.bytes::<32>("one-time key")?),
    };
    session_keys.check_contributory()?;
    let root = RootKey(r.secret::<32>("root key")?);
    let mut senders = r.list(1, SENDER_LEN, "sending chains", |r| {
        let ratchet_key = read_curve_pair(r, "sending ratchet key")?;
        let key = r.secret::<32>("sending chain key")?;
        let index = r.u32("sending chain index")?;
        Ok(SenderChain::new(ratchet_key, ChainKey { key, index }))
    })?;
    // newest first in libolm; caudata keeps them oldest first
    let chains = r.list(LIBOLM_MAX_RECEIVER_CHAINS, RECEIVER_LEN, "receiving chains", |r| {
        let ratchet_key =
            ContributoryKey::new(Curve25519PublicKey::from_bytes(r.bytes::<32>("receiving ratchet key")?))?;
        let key = r.secret::<32>("receiving chain key")?;
        let index = r.u32("receiving chain index")?;
        Ok(ReceiverChain { ratchet_key, chain: ChainKey { key, index }, skipped: VecDeque::new() })
    })?;
    let skipped = r.list(LIBOLM_MAX_SKIPPED_KEYS, SKIPPED_LEN, "skipped message keys", |r| {
        let ratchet_key = Curve25519PublicKey::from_bytes(r.bytes::<32>("skipped key ratchet key")?);
        let seed = r.secret::<32>("skipped message key")?;
        let index = r.u32("skipped key index")?;
        Ok((ratchet_key, MessageSeed { seed, index }))
    })?;
    if with_chain_index {
        r.u32("chain index (ignored)")?;
    }
    let mut receivers: VecDeque<ReceiverChain> = chains.into_iter().rev().collect();
    let shared_skipped = if libolm_state {
        Some(skipped.into_iter().map(|(ratchet_key, seed)| SharedSeed { ratchet_key, seed }).collect())
    } else {
        // libolm's single list (newest first) onto caudata's per-chain lists (oldest first). A
        // key whose chain is no longer kept is dropped: libolm looks skipped keys up only
        // through a known chain, so it could not use it either.
        for (ratchet_key, seed) in skipped.into_iter().rev() {
            if let Some(rc) = receivers.iter_mut().find(|rc| *rc.ratchet_key.key() == ratchet_key) {
                rc.skipped.push_back(seed);
            }
        }
        None
    };
    let sender = senders.pop();
    check_ratchet_invariant(sender.as_ref(), &receivers)?;
    Ok(Session {
        session_keys,
        ratchet: DoubleRatchet { dialect: &OLM_DIALECT, root, sender, receivers, previous_counter: 0, shared_skipped },
        config: SessionConfig::version_1(),
        received_message,
    })
}

fn encode_session(s: &Session) -> Result<Zeroizing<Vec<u8>>, PickleError> {
    if s.config.version() != 1 {
        return Err(PickleError::Unrepresentable("an Olm session with configuration version 2"));
    }
    let d = &s.ratchet;
    // libolm keeps one list of at most 40 skipped keys, newest first: libolm's own list when
    // the session keeps it (the C interface), else the newest chains' keys first, each chain's
    // newest first.
    let skipped: Vec<(&Curve25519PublicKey, &MessageSeed)> = match &d.shared_skipped {
        Some(list) => list.iter().take(LIBOLM_MAX_SKIPPED_KEYS).map(|s| (&s.ratchet_key, &s.seed)).collect(),
        None => d
            .receivers
            .iter()
            .rev()
            .flat_map(|rc| rc.skipped.iter().rev().map(move |k| (rc.ratchet_key.key(), k)))
            .take(LIBOLM_MAX_SKIPPED_KEYS)
            .collect(),
    };
    let receivers = d.receivers.len().min(LIBOLM_MAX_RECEIVER_CHAINS);
    let mut w = Writer::with_capacity(
        4 + 1 + 96 + 32 + 12 + SENDER_LEN + receivers * RECEIVER_LEN + skipped.len() * SKIPPED_LEN,
    );
    w.u32(SESSION_VERSION);
    w.bool(s.received_message);
    w.bytes(s.session_keys.identity_key.as_bytes());
    w.bytes(s.session_keys.base_key.as_bytes());
    w.bytes(s.session_keys.one_time_key.as_bytes());
    w.secret(d.root.0.expose());
    match &d.sender {
        Some(sc) => {
            w.count(1);
            write_curve_pair(&mut w, &sc.ratchet_key);
            w.secret(sc.chain.key.expose());
            w.u32(sc.chain.index);
        }
        None => w.count(0),
    }
    w.count(receivers);
    for rc in d.receivers.iter().rev().take(receivers) {
        w.bytes(rc.ratchet_key.key().as_bytes());
        w.secret(rc.chain.key.expose());
        w.u32(rc.chain.index);
    }
    w.count(skipped.len());
    for (ratchet_key, k) in skipped {
        w.bytes(ratchet_key.as_bytes());
        w.secret(k.seed.expose());
        w.u32(k.index);
    }
    Ok(w.finish())
}

// ---------------------------------------------------------------- Megolm

fn read_megolm_ratchet(r: &mut Reader<'_>, what: &'static str) -> Result<MegolmRatchet, PickleError> {
    let parts = r.secret::<128>(what)?;
    let index = r.u32(what)?;
    Ok(MegolmRatchet::new(parts, index))
}

fn write_megolm_ratchet(w: &mut Writer, ratchet: &MegolmRatchet) {
    w.secret(ratchet.parts.expose());
    w.u32(ratchet.index);
}

fn decode_group_session(r: &mut Reader<'_>) -> Result<GroupSession, PickleError> {
    match r.u32("version")? {
        OUTBOUND_GROUP_VERSION => {}
        got => return Err(PickleError::UnknownVersion { got, max: OUTBOUND_GROUP_VERSION }),
    }
    let ratchet = read_megolm_ratchet(r, "ratchet")?;
    let signing_key = read_ed25519_pair(r, "Ed25519 signing key")?;
    Ok(GroupSession { ratchet, signing_key, config: MegolmConfig::version_1() })
}

fn encode_group_session(s: &GroupSession) -> Result<Zeroizing<Vec<u8>>, PickleError> {
    if s.config.version() != 1 {
        return Err(PickleError::Unrepresentable("a group session with configuration version 2"));
    }
    let mut w = Writer::with_capacity(4 + 132 + 96);
    w.u32(OUTBOUND_GROUP_VERSION);
    write_megolm_ratchet(&mut w, &s.ratchet);
    write_ed25519_pair(&mut w, &s.signing_key);
    Ok(w.finish())
}

fn decode_inbound_group_session(r: &mut Reader<'_>) -> Result<InboundGroupSession, PickleError> {
    let version = r.u32("version")?;
    if !(1..=INBOUND_GROUP_VERSION).contains(&version) {
        return Err(PickleError::UnknownVersion { got: version, max: INBOUND_GROUP_VERSION });
    }
    let initial_ratchet = read_megolm_ratchet(r, "initial ratchet")?;
    let latest_ratchet = read_megolm_ratchet(r, "latest ratchet")?;
    let signing_key = Ed25519PublicKey::from_bytes(&r.bytes::<32>("signing key")?)?;
    // Version 1 had no flag: all its sessions came from verified session keys.
    let signing_key_verified = if version == 1 { true } else { r.bool_lenient("signing key verified")? };
    Ok(InboundGroupSession {
        initial_ratchet,
        latest_ratchet,
        signing_key,
        signing_key_verified,
        config: MegolmConfig::version_1(),
    })
}

fn encode_inbound_group_session(s: &InboundGroupSession) -> Result<Zeroizing<Vec<u8>>, PickleError> {
    if s.config.version() != 1 {
        return Err(PickleError::Unrepresentable("a group session with configuration version 2"));
    }
    let mut w = Writer::with_capacity(4 + 2 * 132 + 33);
    w.u32(INBOUND_GROUP_VERSION);
    write_megolm_ratchet(&mut w, &s.initial_ratchet);
    write_megolm_ratchet(&mut w, &s.latest_ratchet);
    w.bytes(s.signing_key.as_bytes());
    w.bool(s.signing_key_verified);
    Ok(w.finish())
}

// ---------------------------------------------------------------- public API

macro_rules! libolm_api {
    ($object:ty, $libolm_name:literal, $versions:literal, $decode:ident, $encode:ident) => {
        impl $object {
            #[doc = concat!("Imports a libolm ", $libolm_name, " pickle (versions ", $versions, "), made with any pickle key bytes.")]
            ///
            /// # Errors
            /// [`PickleError::Authentication`] for a wrong key or a modified pickle,
            /// [`PickleError::UnknownVersion`] / [`PickleError::LegacyVersion`], or a decoding
            /// error naming the field. Nothing is returned on error.
            pub fn from_libolm_pickle(pickle: &str, pickle_key: &[u8]) -> Result<Self, PickleError> {
                let raw = decrypt(pickle, pickle_key)?;
                decode_all(&raw, $decode)
            }

            #[doc = concat!("Exports as a libolm ", $libolm_name, " pickle of the version libolm 3.2 writes, which libolm can load and continue with.")]
            ///
            /// ⚠️ libolm's format derives its IV from the key: pickling twice under one key
            /// gives two ciphertexts with the same IV. Prefer caudata's own format except to
            /// move back to libolm.
            ///
            /// # Errors
            /// [`PickleError::Unrepresentable`] when the object has no libolm equivalent (a
            /// version-2 session configuration, a key id beyond 32 bits).
            pub fn to_libolm_pickle(&self, pickle_key: &[u8]) -> Result<String, PickleError> {
                Ok(encrypt(&$encode(self)?, pickle_key))
            }
        }
    };
}

libolm_api!(Account, "account", "2, 3 and 4; version 1 is refused", decode_account, encode_account);

// ---------------------------------------------------------------- raw states (hazmat)

macro_rules! libolm_raw_api {
    ($object:ty, $libolm_name:literal, $decode:ident, $encode:ident) => {
        #[cfg(feature = "hazmat")]
        impl $object {
            #[doc = concat!("⚠️ A libolm ", $libolm_name, " from its *unencrypted* pickle bytes, as libolm holds it in memory (for the libolm C interface, whose objects live in the caller's memory in this form).")]
            ///
            /// The bytes are checked exactly as an imported pickle's are (versions, lengths,
            /// every stored public key against its secret key).
            ///
            /// # Errors
            /// As the pickle import, except that nothing is decrypted.
            pub fn from_libolm_raw_pickle(raw: &[u8]) -> Result<Self, PickleError> {
                if raw.len() > MAX_PICKLE_LENGTH {
                    return Err(PickleError::TooLong { got: raw.len(), max: MAX_PICKLE_LENGTH });
                }
                decode_all(raw, $decode)
            }

            #[doc = concat!("⚠️ The *unencrypted* bytes of this ", $libolm_name, "'s libolm pickle (secret keys in the clear, wiped when dropped).")]
            ///
            /// # Errors
            /// As the pickle export.
            pub fn to_libolm_raw_pickle(&self) -> Result<Zeroizing<Vec<u8>>, PickleError> {
                $encode(self)
            }
        }
    };
}

libolm_raw_api!(Account, "account", decode_account_libolm_state, encode_account);

#[cfg(feature = "hazmat")]
impl Account {
    /// ⚠️ [`Account::from_libolm_raw_pickle`] that takes the stored one-time and fallback
    /// public keys as they are instead of deriving each from its secret key (up to 102
    /// base-point multiplications, some 20 million instructions). Only for bytes this library
    /// wrote itself into memory that holds the secret keys beside them (the libolm C
    /// interface's object memory, reloaded on every call): whoever could alter a stored
    /// public key there could read the secret keys. The identity keys are still checked. A
    /// wrong stored key would only be published, or looked up, wrongly: sessions are always
    /// computed from the secret key.
    ///
    /// # Errors
    /// As [`Account::from_libolm_raw_pickle`].
    pub fn from_libolm_raw_pickle_trusted(raw: &[u8]) -> Result<Self, PickleError> {
        if raw.len() > MAX_PICKLE_LENGTH {
            return Err(PickleError::TooLong { got: raw.len(), max: MAX_PICKLE_LENGTH });
        }
        decode_all(raw, decode_account_libolm_state_trusted)
    }
}
libolm_raw_api!(Session, "session", decode_session_libolm_state, encode_session);
libolm_raw_api!(GroupSession, "outbound group session", decode_group_session, encode_group_session);
libolm_raw_api!(
    InboundGroupSession,
    "inbound group session",
    decode_inbound_group_session,
    encode_inbound_group_session
);

/// ⚠️ libolm's pickle cipher on raw bytes (the libolm C interface's `_olm_enc_output`):
/// `AES-256-CBC(raw) ‖ HMAC-SHA-256(ciphertext)[..8]` under keys derived from `pickle_key`,
/// before base64. The IV is derived from the key: equal inputs give equal outputs.
#[cfg(feature = "hazmat")]
pub(crate) fn seal_libolm_pickle(raw: &[u8], pickle_key: &[u8]) -> Vec<u8> {
    let keys = AesCbcKeys::derive(None, pickle_key, b"Pickle");
    let mut out = aes256_cbc_encrypt(&keys.aes_key, &keys.iv, raw);
    let mac = HmacKey::new(&keys.mac_key).mac(&[&out]);
    out.extend_from_slice(&mac.expose()[..MAC_LEN]);
    out
}

/// ⚠️ The inverse of [`seal_libolm_pickle`] (libolm's `_olm_enc_input` after base64): checks
/// the MAC first, then decrypts.
///
/// # Errors
/// [`PickleError::Truncated`] for fewer than 8 bytes, [`PickleError::Authentication`] for a
/// wrong key or altered bytes, [`PickleError::InvalidField`] for an authentic ciphertext that
/// does not decrypt (which only a broken writer makes).
#[cfg(feature = "hazmat")]
pub(crate) fn open_libolm_pickle(sealed: &[u8], pickle_key: &[u8]) -> Result<Zeroizing<Vec<u8>>, PickleError> {
    if sealed.len() < MAC_LEN {
        return Err(PickleError::Truncated("pickle MAC"));
    }
    let (ct, mac) = sealed.split_at(sealed.len() - MAC_LEN);
    let keys = AesCbcKeys::derive(None, pickle_key, b"Pickle");
    let expected = HmacKey::new(&keys.mac_key).mac(&[ct]);
    if !ct_eq(&expected.expose()[..MAC_LEN], mac) {
        return Err(PickleError::Authentication);
    }
    aes256_cbc_decrypt(&keys.aes_key, &keys.iv, ct).map(Zeroizing::new).ok_or(PickleError::InvalidField("padding"))
}
libolm_api!(Session, "session", "1 and 0x80000001", decode_session, encode_session);
libolm_api!(GroupSession, "outbound group session", "1", decode_group_session, encode_group_session);
libolm_api!(
    InboundGroupSession,
    "inbound group session",
    "1 and 2",
    decode_inbound_group_session,
    encode_inbound_group_session
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Alice's and Bob's version-1 Olm sessions after Bob took Alice's first pre-key message.
    fn olm_pair() -> (Session, Session) {
        crate::test_fixtures::olm_pair(SessionConfig::version_1(), b"first")
    }

    #[test]
    fn account_versions_2_to_4_and_the_fallback_key_count() {
        let mut a = Account::new();
        a.generate_one_time_keys(2);
        a.generate_fallback_key();
        a.generate_fallback_key(); // a current and a previous fallback key
        let v4 = encode_account(&a).unwrap().to_vec();
        // version | Ed25519 pair (96) | Curve25519 pair (64) | 2 one-time keys | fallback count
        let count_at = 4 + 96 + 64 + 4 + 2 * LIBOLM_KEY_LEN;
        assert_eq!(v4[count_at], 2);
        let ids = |b: &[u8]| decode_all(b, decode_account).map(|a| a.identity_keys());
        assert_eq!(ids(&v4), Ok(a.identity_keys()));
        // the key id counter continues where it was, and never below a stored key's id
        let next = a.next_key_id.max(a.next_fallback_key_id());
        assert_eq!(decode_all(&v4, decode_account).unwrap().next_key_id, next);
        let mut behind = v4.clone();
        let end = behind.len();
        behind[end - 4..].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(decode_all(&behind, decode_account).unwrap().next_key_id, next);
        // a counter ahead of every stored key (their keys used up): the next id is one past it
        let mut ahead = v4.clone();
        ahead[end - 4..].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(decode_all(&ahead, decode_account).unwrap().next_key_id, 1001);
        #[cfg(feature = "hazmat")]
        {
            let state = decode_all(&v4, decode_account_libolm_state).unwrap();
            assert_eq!(state.identity_keys(), a.identity_keys());
            assert_eq!(state.next_key_id, a.next_key_id.max(a.next_fallback_key_id()));
            let trusted = decode_all(&v4, decode_account_libolm_state_trusted).unwrap();
            assert_eq!(trusted.identity_keys(), a.identity_keys());
        }
        let mut three = v4.clone();
        three[count_at] = 3;
        assert_eq!(ids(&three), Err(PickleError::TooMany { field: "fallback keys", got: 3, max: 2 }));
        // version 3: both fallback slots, no count; version 2: no fallback keys at all
        let mut v3 = v4.clone();
        v3.remove(count_at);
        v3[..4].copy_from_slice(&3u32.to_be_bytes());
        assert_eq!(ids(&v3), Ok(a.identity_keys()));
        let mut v2 = v4[..count_at].to_vec();
        v2.extend_from_slice(&v4[v4.len() - 4..]);
        v2[..4].copy_from_slice(&2u32.to_be_bytes());
        assert_eq!(ids(&v2), Ok(a.identity_keys()));
        let mut v1 = v2.clone();
        v1[..4].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(ids(&v1), Err(PickleError::LegacyVersion { object: "libolm account", got: 1 }));
    }

    /// libolm's own account object keeps, of an over-long one-time key list, the first 99 keys
    /// and the last (it overwrites the last of its 100 slots); caudata's import keeps them all.
    #[cfg(feature = "hazmat")]
    #[test]
    fn libolm_state_keeps_the_first_99_one_time_keys_and_the_last() {
        let ids = |a: &Account| a.one_time_keys.keys().map(|k| k.0).collect::<Vec<_>>();
        let mut a = Account::new();
        a.generate_one_time_keys(LIBOLM_MAX_ONE_TIME_KEYS);
        let raw = encode_account(&a).unwrap().to_vec();
        let state = decode_all(&raw, decode_account_libolm_state).unwrap();
        assert_eq!(ids(&state), ids(&a), "100 keys: all kept");
        // two more keys (another account's, ids 100 and 101) after the 100: a list of 102
        let mut b = Account::new();
        b.generate_one_time_keys(2);
        let extra = encode_account(&b).unwrap().to_vec();
        let (count_at, first) = (4 + 96 + 64, 4 + 96 + 64 + 4);
        let mut long = raw[..first + 100 * LIBOLM_KEY_LEN].to_vec();
        for (i, id) in [100u32, 101].into_iter().enumerate() {
            let entry = &extra[first + i * LIBOLM_KEY_LEN..first + (i + 1) * LIBOLM_KEY_LEN];
            long.extend_from_slice(&id.to_be_bytes());
            long.extend_from_slice(&entry[4..]);
        }
        long.extend_from_slice(&raw[first + 100 * LIBOLM_KEY_LEN..]);
        long[count_at..count_at + 4].copy_from_slice(&102u32.to_be_bytes());
        assert_eq!(decode_all(&long, decode_account).unwrap().one_time_keys.len(), 102);
        // the keys in the list's order (the writer puts the newest first)
        let id_at = |i: usize| {
            let at = first + i * LIBOLM_KEY_LEN;
            u64::from(u32::from_be_bytes(long[at..at + 4].try_into().unwrap()))
        };
        let mut want: Vec<u64> = (0..99).map(id_at).chain([id_at(101)]).collect();
        want.sort_unstable();
        let state = decode_all(&long, decode_account_libolm_state).unwrap();
        assert_eq!(ids(&state), want);
        assert!(!want.contains(&id_at(99)) && !want.contains(&id_at(100)));
    }

    /// libolm keeps one list of skipped message keys for all chains; the import puts each key
    /// back on the receiving chain of its ratchet key.
    #[test]
    fn skipped_message_keys_go_back_to_their_chain() {
        let (mut a, mut b) = olm_pair();
        let (second, third) = (a.encrypt(b"second"), a.encrypt(b"third"));
        assert_eq!(b.decrypt(&third).unwrap(), b"third");
        let raw = encode_session(&b).unwrap();
        let mut back = decode_all(&raw, decode_session).unwrap();
        assert_eq!(back.decrypt(&second).unwrap(), b"second");
    }

    #[cfg(feature = "hazmat")]
    #[test]
    fn trusted_raw_account_import_checks_its_length_first() {
        let mut a = Account::new();
        a.generate_one_time_keys(1);
        let raw = encode_account(&a).unwrap();
        let back = Account::from_libolm_raw_pickle_trusted(&raw).unwrap();
        assert_eq!(back.identity_keys(), a.identity_keys());
        assert_eq!(back.one_time_keys(), a.one_time_keys());
        let too_long = MAX_PICKLE_LENGTH + 1;
        assert_eq!(
            Account::from_libolm_raw_pickle_trusted(&vec![0; too_long]).err(),
            Some(PickleError::TooLong { got: too_long, max: MAX_PICKLE_LENGTH })
        );
        // exactly the limit is decoded (and refused as a pickle of version 0)
        assert!(!matches!(
            Account::from_libolm_raw_pickle_trusted(&vec![0; MAX_PICKLE_LENGTH]),
            Err(PickleError::TooLong { .. }) | Ok(_)
        ));
    }

    #[test]
    fn cipher_round_trip_and_mac_first() {
        let p = encrypt(b"raw bytes", b"key");
        assert_eq!(&decrypt(&p, b"key").unwrap()[..], b"raw bytes");
        assert_eq!(decrypt(&p, b"other").unwrap_err(), PickleError::Authentication);
        assert_eq!(decrypt("AAAA", b"key").unwrap_err(), PickleError::Truncated("pickle MAC"));
        assert_eq!(decrypt("!!", b"key").unwrap_err(), PickleError::Base64);
    }

    /// An authentic pickle of no ciphertext at all: the 8 MAC bytes alone.
    fn mac_only(pickle_key: &[u8]) -> Vec<u8> {
        let keys = AesCbcKeys::derive(None, pickle_key, b"Pickle");
        HmacKey::new(&keys.mac_key).mac(&[b""]).expose()[..MAC_LEN].to_vec()
    }

    #[test]
    fn length_limits_come_before_the_mac_and_the_mac_before_decryption() {
        // the text limit for 30 bytes: 30 / 3 * 4 + 4 = 44 characters
        let at_limit = "A".repeat(44);
        assert_eq!(decrypt_up_to(&at_limit, b"key", 30).unwrap_err(), PickleError::Authentication);
        let over = "A".repeat(45);
        assert_eq!(decrypt_up_to(&over, b"key", 30).unwrap_err(), PickleError::TooLong { got: 45, max: 44 });
        // exactly the MAC (8 bytes): authenticated, then refused as a ciphertext; 7 bytes are not a MAC
        let mac = mac_only(b"key");
        assert_eq!(decrypt(&base64_encode(&mac), b"key").unwrap_err(), PickleError::InvalidField("padding"));
        assert_eq!(decrypt(&base64_encode(&mac), b"other").unwrap_err(), PickleError::Authentication);
        assert_eq!(decrypt(&base64_encode(&mac[..7]), b"key").unwrap_err(), PickleError::Truncated("pickle MAC"));
        // one flipped bit anywhere fails the MAC
        let p = base64_decode(encrypt(b"raw bytes", b"key")).unwrap();
        for i in 0..p.len() {
            let mut bad = p.clone();
            bad[i] ^= 1;
            assert_eq!(decrypt(&base64_encode(&bad), b"key").unwrap_err(), PickleError::Authentication, "byte {i}");
        }
    }

    #[cfg(feature = "hazmat")]
    #[test]
    fn the_raw_sealed_form_checks_its_mac_first() {
        let sealed = seal_libolm_pickle(b"raw", b"key");
        assert_eq!(&open_libolm_pickle(&sealed, b"key").unwrap()[..], b"raw");
        assert_eq!(open_libolm_pickle(&sealed, b"other").unwrap_err(), PickleError::Authentication);
        let mut bad = sealed.clone();
        bad[0] ^= 1;
        assert_eq!(open_libolm_pickle(&bad, b"key").unwrap_err(), PickleError::Authentication);
        let mac = mac_only(b"key");
        assert_eq!(open_libolm_pickle(&mac, b"key").unwrap_err(), PickleError::InvalidField("padding"));
        assert_eq!(open_libolm_pickle(&mac[..7], b"key").unwrap_err(), PickleError::Truncated("pickle MAC"));
    }

    #[test]
    fn inbound_group_sessions_keep_their_verified_flag_and_version() {
        use crate::megolm::SessionOrdering;
        let outbound = GroupSession::new(MegolmConfig::version_1());
        let signed = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_1());
        let imported = InboundGroupSession::import(&signed.export_at_first_known_index(), MegolmConfig::version_1());
        for (s, verified) in [(&signed, true), (&imported, false)] {
            let raw = encode_inbound_group_session(s).unwrap();
            assert_eq!(&raw[..4], &INBOUND_GROUP_VERSION.to_be_bytes());
            let back = decode_all(&raw, decode_inbound_group_session).unwrap();
            assert_eq!(back.signing_key_verified(), verified);
            assert_eq!(back.compare(s), SessionOrdering::Equal);
            // through the pickle cipher too
            let text = s.to_libolm_pickle(b"k").unwrap();
            assert_eq!(InboundGroupSession::from_libolm_pickle(&text, b"k").unwrap().signing_key_verified(), verified);
            // version 1 had no flag: its sessions came from verified session keys
            let mut v1 = raw[..raw.len() - 1].to_vec();
            v1[..4].copy_from_slice(&1u32.to_be_bytes());
            assert!(decode_all(&v1, decode_inbound_group_session).unwrap().signing_key_verified());
            // versions 0 and 3 are unknown
            for v in [0u32, INBOUND_GROUP_VERSION + 1] {
                let mut other = raw.to_vec();
                other[..4].copy_from_slice(&v.to_be_bytes());
                assert_eq!(
                    decode_all(&other, decode_inbound_group_session).err(),
                    Some(PickleError::UnknownVersion { got: v, max: INBOUND_GROUP_VERSION })
                );
            }
        }
        // a session of configuration version 2 has no libolm form
        let v2 = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_2());
        assert!(matches!(encode_inbound_group_session(&v2), Err(PickleError::Unrepresentable(_))));
    }

    /// Every object through libolm's pickle format and cipher and back: the same keys, the same
    /// conversation, the same bytes when written again; what libolm cannot hold is refused.
    #[test]
    fn every_object_round_trips_through_libolm_pickles() {
        use crate::olm::OlmMessage;
        let key = b"pickle key";
        let mut bob = Account::new();
        bob.generate_one_time_keys(2);
        bob.mark_keys_as_published();
        bob.generate_one_time_keys(1);
        let plain = Account::new();
        for a in [&bob, &plain] {
            let text = a.to_libolm_pickle(key).unwrap();
            let back = Account::from_libolm_pickle(&text, key).unwrap();
            assert_eq!(back.identity_keys(), a.identity_keys());
            assert_eq!(back.one_time_keys(), a.one_time_keys());
            assert_eq!(back.stored_one_time_key_count(), a.stored_one_time_key_count());
            assert_eq!(back.fallback_key(), a.fallback_key());
            assert_eq!(back.to_libolm_pickle(key).unwrap(), text);
        }
        // one and two fallback keys
        let mut fb = Account::new();
        for n in 1..=2 {
            fb.generate_fallback_key();
            let back = Account::from_libolm_pickle(&fb.to_libolm_pickle(key).unwrap(), key).unwrap();
            assert_eq!(back.fallback_key(), fb.fallback_key(), "{n}");
            assert_eq!(back.previous_fallback_key.is_some(), n == 2);
        }
        // a key id beyond 32 bits has no libolm form
        let mut far = Account::new();
        far.next_key_id = 1 << 32;
        far.generate_one_time_keys(1);
        assert!(matches!(far.to_libolm_pickle(key), Err(PickleError::Unrepresentable(_))));

        // sessions, both sides, before and after a reply
        let alice = Account::new();
        let otk = *bob.one_time_keys().values().next().unwrap();
        let cfg = SessionConfig::version_1();
        let mut a = alice.create_outbound_session(cfg, bob.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(first) = a.encrypt(b"first") else { panic!("not a pre-key message") };
        let b = bob.create_inbound_session(cfg, alice.curve25519_key(), &first).unwrap().session;
        let through = |s: &Session| {
            let text = s.to_libolm_pickle(key).unwrap();
            let back = Session::from_libolm_pickle(&text, key).unwrap();
            assert_eq!(back.session_id(), s.session_id());
            assert_eq!(back.has_received_message(), s.has_received_message());
            back
        };
        let mut b = through(&b);
        let reply = b.encrypt(b"reply");
        let mut a2 = through(&a);
        assert_eq!(a2.decrypt(&reply).unwrap(), b"reply");
        let mut b2 = through(&b);
        assert_eq!(b2.decrypt(&a2.encrypt(b"again")).unwrap(), b"again");
        let v2 = alice.create_outbound_session(SessionConfig::version_2(), bob.curve25519_key(), otk).unwrap();
        assert!(matches!(v2.to_libolm_pickle(key), Err(PickleError::Unrepresentable(_))));

        // group sessions
        let mut outbound = GroupSession::new(MegolmConfig::version_1());
        let _ = outbound.encrypt(b"m");
        let text = outbound.to_libolm_pickle(key).unwrap();
        let back = GroupSession::from_libolm_pickle(&text, key).unwrap();
        assert_eq!((back.session_id(), back.message_index()), (outbound.session_id(), 1));
        assert_eq!(back.to_libolm_pickle(key).unwrap(), text);
        let v2 = GroupSession::new(MegolmConfig::version_2());
        assert!(matches!(v2.to_libolm_pickle(key), Err(PickleError::Unrepresentable(_))));
        let inbound = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_1());
        let back = InboundGroupSession::from_libolm_pickle(&inbound.to_libolm_pickle(key).unwrap(), key).unwrap();
        assert_eq!((back.session_id(), back.first_known_index()), (inbound.session_id(), 1));
    }

    /// The skipped-key count is checked against whole keys (68 bytes each) before any is read.
    #[test]
    fn the_skipped_key_count_is_bounded_by_whole_keys() {
        let (mut a, mut b) = olm_pair();
        let _skipped = a.encrypt(b"second");
        assert_eq!(b.decrypt(&a.encrypt(b"third")).unwrap(), b"third");
        let raw = encode_session(&b).unwrap();
        let at = raw.len() - SKIPPED_LEN - 4;
        assert_eq!(raw[at..at + 4], [0, 0, 0, 1]);
        // a count of 2 needs 136 bytes after it: 135 are refused at the count, 136 are read
        let mut two = raw.to_vec();
        two[at + 3] = 2;
        two.extend_from_slice(&[0; SKIPPED_LEN - 1]);
        assert_eq!(decode_all(&two, decode_session).err(), Some(PickleError::Truncated("skipped message keys")));
        two.push(0);
        assert!(decode_all(&two, decode_session).is_ok());
    }

    /// A libolm-contract account's one counter (which wraps at 2^32, as libolm's) is written as
    /// it is, whatever its fallback key's id; other accounts continue above both of theirs.
    #[test]
    fn the_key_counter_written_is_libolm_s_own_for_a_libolm_account() {
        let last_id = |a: &Account| {
            let raw = encode_account(a).unwrap();
            u32::from_be_bytes(raw[raw.len() - 4..].try_into().unwrap())
        };
        let mut a = Account::new();
        a.generate_fallback_key();
        a.fallback_key.as_mut().unwrap().0 = KeyId(0xffff_fff0);
        a.next_key_id = 5;
        assert_eq!(last_id(&a), 0xffff_fff0);
        a.contract = crate::olm::OneTimeKeyContract::Libolm;
        assert_eq!(last_id(&a), 4);
    }
}
