//! Import of vodozemac's own pickles (`AccountPickle::encrypt` and friends in vodozemac
//! 0.11): serde JSON inside libolm's pickle cipher with a 32-byte key (no version in the
//! envelope). The JSON shapes below were taken from pickles that vodozemac 0.11.1 wrote
//! (tests/pickle_vodozemac.rs), including the fields older vodozemac versions omitted (read
//! with vodozemac's own defaults) and the `key_id` alias of `next_key_id`. Unknown fields are
//! ignored, as vodozemac ignores them. Byte arrays are JSON arrays of numbers.
//!
//! | object | JSON |
//! |---|---|
//! | Account | `{signing_key: {Normal: [32]} \| {Expanded: [64]}, diffie_hellman_key: [32], one_time_keys: {next_key_id, public_keys: {id: [32]} (unpublished only), private_keys: {id: [32]}}, fallback_keys: {key_id, fallback_key, previous_fallback_key: null \| {key_id, key: [32], published}}}` |
//! | Session | `{session_keys: {identity_key, base_key, one_time_key}, sending_ratchet: {type: "active", active_ratchet: {root_key: [32], ratchet_key: [32]}, symmetric_key_ratchet: {key, index}} \| {type: "inactive", root_key: {key}, ratchet_key}, receiving_chains: {inner: [{ratchet_key, hkdf_ratchet: {key, index}, skipped_message_keys: {inner: [{key, index}]}}]}, config?: {version: "V1" \| "V2"}}` |
//! | GroupSession | `{ratchet: {inner: [128], counter}, signing_key: {Normal \| Expanded}, config?}` |
//! | InboundGroupSession | `{initial_ratchet: {inner, counter}, signing_key: [32], signing_key_verified, config?}` (vodozemac keeps no latest ratchet in pickles) |

use std::collections::{BTreeMap, VecDeque};

use super::json::{self, Json};
use super::libolm;
use super::own::{check_ratchet_invariant, stored_key};
use crate::consts::{MAX_ONE_TIME_KEYS, MAX_RECEIVER_CHAINS, OLM_MAX_SKIPPED_KEYS};
use crate::error::PickleError;
use crate::megolm::{GroupSession, InboundGroupSession, MegolmRatchet, SessionConfig as MegolmConfig};
use crate::olm::{Account, KeyId, OLM_DIALECT, Session, SessionConfig, SessionKeys, StoredKey};
use crate::primitives::{
    ContributoryKey, Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretKey,
};
use crate::ratchet::{ChainKey, DoubleRatchet, MessageSeed, ReceiverChain, RootKey, SenderChain};

fn ed25519_keypair(v: &Json) -> Result<Ed25519SecretKey, PickleError> {
    if let Some(seed) = v.get("Normal") {
        Ok(Ed25519SecretKey::from_seed(seed.secret::<32>("signing_key.Normal")?))
    } else if let Some(expanded) = v.get("Expanded") {
        Ok(Ed25519SecretKey::from_expanded(expanded.secret::<64>("signing_key.Expanded")?))
    } else {
        Err(PickleError::MissingField("signing_key"))
    }
}

/// `{"version": "V1" | "V2"}`; absent means version 1 (vodozemac's default).
fn config_version(v: &Json) -> Result<u8, PickleError> {
    match v.optional("config") {
        None => Ok(1),
        Some(c) => match c.field("version")?.as_str("config.version")? {
            "V1" => Ok(1),
            "V2" => Ok(2),
            _ => Err(PickleError::InvalidField("config.version")),
        },
    }
}

/// vodozemac counts chain indices in `u64`; Olm messages and caudata use `u32`.
fn index_u32(v: &Json, what: &'static str) -> Result<u32, PickleError> {
    v.as_u32(what)
}

fn key_id(s: &str) -> Result<KeyId, PickleError> {
    // serde_json writes u64 map keys as decimal strings
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return Err(PickleError::InvalidField("one-time key id"));
    }
    s.parse::<u64>().map(KeyId).map_err(|_| PickleError::InvalidField("one-time key id"))
}

// ---------------------------------------------------------------- account

fn account(v: &Json) -> Result<Account, PickleError> {
    let signing_key = ed25519_keypair(v.field("signing_key")?)?;
    let identity_key =
        Curve25519SecretKey::from_secret_bytes(&v.field("diffie_hellman_key")?.secret::<32>("diffie_hellman_key")?);

    let otks = v.field("one_time_keys")?;
    let otk_next = otks
        .get("next_key_id")
        .or_else(|| otks.get("key_id"))
        .ok_or(PickleError::MissingField("one_time_keys.next_key_id"))?
        .as_u64("one_time_keys.next_key_id")?;
    let private = otks.field("private_keys")?.as_object("one_time_keys.private_keys")?;
    if private.len() > MAX_ONE_TIME_KEYS {
        return Err(PickleError::TooMany {
            field: "one-time keys",
            got: private.len() as u64,
            max: MAX_ONE_TIME_KEYS as u64,
        });
    }
    let mut one_time_keys: BTreeMap<KeyId, StoredKey> = BTreeMap::new();
    for (id, secret) in private {
        let secret = Curve25519SecretKey::from_secret_bytes(&secret.secret::<32>("one-time key")?);
        // published until proven otherwise: vodozemac lists only unpublished public keys
        one_time_keys.insert(key_id(id)?, stored_key(secret, true));
    }
    for (id, public) in otks.field("public_keys")?.as_object("one_time_keys.public_keys")? {
        let public = Curve25519PublicKey::from_bytes(public.bytes::<32>("one-time public key")?);
        let stored = one_time_keys
            .get_mut(&key_id(id)?)
            .ok_or(PickleError::InvalidField("one-time public key without a secret key"))?;
        if stored.public != public {
            return Err(PickleError::KeyMismatch("one-time key"));
        }
        stored.published = false;
    }

    let fb = v.field("fallback_keys")?;
    let fb_next = fb.field("key_id")?.as_u64("fallback_keys.key_id")?;
    let mut slots = [None, None];
    for (slot, name) in slots.iter_mut().zip(["fallback_key", "previous_fallback_key"]) {
        if let Some(k) = fb.optional(name) {
            let id = KeyId(k.field("key_id")?.as_u64("fallback key id")?);
            let secret = Curve25519SecretKey::from_secret_bytes(&k.field("key")?.secret::<32>("fallback key")?);
            let published = k.field("published")?.as_bool("fallback key published")?;
            *slot = Some((id, stored_key(secret, published)));
        }
    }
    let [fallback_key, previous_fallback_key] = slots;

    // vodozemac counts one-time and fallback key ids separately; caudata shares one counter,
    // so it continues above both.
    // (an id of 2^64 - 1 leaves no next id: refused, as caudata's own format would refuse it)
    let mut max_id = 0u64;
    for id in one_time_keys
        .keys()
        .chain(fallback_key.iter().map(|(id, _)| id))
        .chain(previous_fallback_key.iter().map(|(id, _)| id))
    {
        max_id = max_id.max(id.0.checked_add(1).ok_or(PickleError::InvalidField("key id (no next id)"))?);
    }
    let mut account = Account::from_parts(signing_key, identity_key);
    account.one_time_keys = one_time_keys;
    account.fallback_key = fallback_key;
    account.previous_fallback_key = previous_fallback_key;
    account.next_key_id = otk_next.max(fb_next).max(max_id);
    Ok(account)
}

// ---------------------------------------------------------------- Olm session

fn chain_key(v: &Json, what: &'static str) -> Result<ChainKey, PickleError> {
    Ok(ChainKey { key: v.field("key")?.secret::<32>(what)?, index: index_u32(v.field("index")?, what)? })
}

fn session(v: &Json) -> Result<Session, PickleError> {
    let keys = v.field("session_keys")?;
    let session_keys = SessionKeys {
        identity_key: Curve25519PublicKey::from_bytes(keys.field("identity_key")?.bytes::<32>("identity_key")?),
        base_key: Curve25519PublicKey::from_bytes(keys.field("base_key")?.bytes::<32>("base_key")?),
        one_time_key: Curve25519PublicKey::from_bytes(keys.field("one_time_key")?.bytes::<32>("one_time_key")?),
    };
    session_keys.check_contributory()?;
    let config = SessionConfig::from_version(config_version(v)?).ok_or(PickleError::InvalidField("config"))?;

    let chains = v.field("receiving_chains")?.field("inner")?.as_array("receiving_chains.inner")?;
    if chains.len() > MAX_RECEIVER_CHAINS {
        return Err(PickleError::TooMany {
            field: "receiving chains",
            got: chains.len() as u64,
            max: MAX_RECEIVER_CHAINS as u64,
        });
    }
    // vodozemac keeps the chains and skipped keys it makes oldest first, as caudata does (what
    // it imported from libolm stays in libolm's order, newest first: see below)
    let mut receivers = VecDeque::with_capacity(chains.len());
    for c in chains {
        let ratchet_key = ContributoryKey::new(Curve25519PublicKey::from_bytes(
            c.field("ratchet_key")?.bytes::<32>("receiving ratchet key")?,
        ))?;
        let chain = chain_key(c.field("hkdf_ratchet")?, "receiving chain key")?;
        let keys = c.field("skipped_message_keys")?.field("inner")?.as_array("skipped_message_keys.inner")?;
        if keys.len() > OLM_MAX_SKIPPED_KEYS {
            return Err(PickleError::TooMany {
                field: "skipped message keys",
                got: keys.len() as u64,
                max: OLM_MAX_SKIPPED_KEYS as u64,
            });
        }
        let mut skipped = VecDeque::with_capacity(keys.len());
        for k in keys {
            skipped.push_back(MessageSeed {
                seed: k.field("key")?.secret::<32>("skipped message key")?,
                index: index_u32(k.field("index")?, "skipped key index")?,
            });
        }
        // Oldest first is lowest index first (a chain's keys are skipped in index order). A
        // session vodozemac made lists them so; one it imported from libolm keeps libolm's
        // order, newest first, which would make caudata evict the newest key first.
        skipped.make_contiguous().sort_by_key(|s| s.index);
        receivers.push_back(ReceiverChain { ratchet_key, chain, skipped });
    }

    let sending = v.field("sending_ratchet")?;
    let (root, sender) = match sending.field("type")?.as_str("sending_ratchet.type")? {
        "active" => {
            let active = sending.field("active_ratchet")?;
            let root = RootKey(active.field("root_key")?.secret::<32>("root key")?);
            let ratchet_key = Curve25519SecretKey::from_secret_bytes(
                &active.field("ratchet_key")?.secret::<32>("sending ratchet key")?,
            );
            let chain = chain_key(sending.field("symmetric_key_ratchet")?, "sending chain key")?;
            (root, Some(SenderChain::new(ratchet_key, chain)))
        }
        "inactive" => {
            let root = RootKey(sending.field("root_key")?.field("key")?.secret::<32>("root key")?);
            let theirs = Curve25519PublicKey::from_bytes(sending.field("ratchet_key")?.bytes::<32>("ratchet key")?);
            // caudata answers the newest receiving chain; vodozemac names the key explicitly.
            // A session vodozemac made keeps its chains oldest first, so the named chain is the
            // last; one it imported from libolm keeps libolm's order, newest first, and names
            // the first. The named chain becomes caudata's newest either way (the order of the
            // others only decides which one a new chain evicts).
            let at = receivers
                .iter()
                .position(|r| *r.ratchet_key.key() == theirs)
                .ok_or(PickleError::InvalidField("sending_ratchet.ratchet_key (no such receiving chain)"))?;
            if let Some(named) = receivers.remove(at) {
                receivers.push_back(named);
            }
            (root, None)
        }
        _ => return Err(PickleError::InvalidField("sending_ratchet.type")),
    };
    check_ratchet_invariant(sender.as_ref(), &receivers)?;
    // vodozemac has no flag: a session has received once it has a receiving chain.
    let received_message = !receivers.is_empty();
    Ok(Session {
        session_keys,
        ratchet: DoubleRatchet { dialect: &OLM_DIALECT, root, sender, receivers, previous_counter: 0 },
        config,
        received_message,
    })
}

// ---------------------------------------------------------------- Megolm

fn megolm_ratchet(v: &Json, what: &'static str) -> Result<MegolmRatchet, PickleError> {
    Ok(MegolmRatchet::new(v.field("inner")?.secret::<128>(what)?, v.field("counter")?.as_u32(what)?))
}

fn group_session(v: &Json) -> Result<GroupSession, PickleError> {
    let ratchet = megolm_ratchet(v.field("ratchet")?, "ratchet")?;
    let signing_key = ed25519_keypair(v.field("signing_key")?)?;
    let config = MegolmConfig::from_version(config_version(v)?).ok_or(PickleError::InvalidField("config"))?;
    Ok(GroupSession { ratchet, signing_key, config })
}

fn inbound_group_session(v: &Json) -> Result<InboundGroupSession, PickleError> {
    let initial_ratchet = megolm_ratchet(v.field("initial_ratchet")?, "initial ratchet")?;
    let signing_key = Ed25519PublicKey::from_bytes(&v.field("signing_key")?.bytes::<32>("signing_key")?)?;
    let signing_key_verified = v.field("signing_key_verified")?.as_bool("signing_key_verified")?;
    let config = MegolmConfig::from_version(config_version(v)?).ok_or(PickleError::InvalidField("config"))?;
    Ok(InboundGroupSession {
        latest_ratchet: initial_ratchet.clone(),
        initial_ratchet,
        signing_key,
        signing_key_verified,
        config,
    })
}

fn import<T>(
    pickle: &str,
    pickle_key: &[u8; 32],
    f: impl FnOnce(&Json) -> Result<T, PickleError>,
) -> Result<T, PickleError> {
    let plaintext = libolm::decrypt(pickle, pickle_key)?;
    let doc = json::parse(&plaintext)?;
    f(&doc)
}

macro_rules! vodozemac_api {
    ($object:ty, $name:literal, $f:ident) => {
        impl $object {
            #[doc = concat!("Imports a pickle that vodozemac's `", $name, "::encrypt` wrote (vodozemac 0.11 and earlier versions with the same JSON).")]
            ///
            /// # Errors
            /// [`PickleError::Authentication`] for a wrong key or a modified pickle,
            /// [`PickleError::Json`] / [`PickleError::MissingField`] for JSON this library does
            /// not read, limits and key checks as for the other formats. Nothing is returned
            /// on error.
            pub fn from_vodozemac_pickle(pickle: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
                import(pickle, pickle_key, $f)
            }
        }
    };
}

vodozemac_api!(Account, "AccountPickle", account);
vodozemac_api!(Session, "SessionPickle", session);
vodozemac_api!(GroupSession, "GroupSessionPickle", group_session);
vodozemac_api!(InboundGroupSession, "InboundGroupSessionPickle", inbound_group_session);
