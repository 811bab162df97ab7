//! vodozemac's pickle structs to caudata's objects (every check is here, whichever reader
//! produced the struct) and back.

use std::collections::{BTreeMap, VecDeque};

use super::shape::{
    AccountShape, FallbackKeyShape, FallbackKeysShape, GroupSessionShape, InboundGroupSessionShape, MegolmRatchetShape,
    OneTimeKeysShape, SendingShape, SessionShape, VZ_MAX_RECEIVING_CHAINS, VZ_MAX_SKIPPED_KEYS,
};
#[cfg(test)]
use super::shape::{
    ActiveShape, ChainKeyShape, ChainStoreShape, InactiveShape, MessageKeyStoreShape, OlmRatchetShape, RatchetCount,
    ReceiverChainShape, RemoteChainKeyShape, RemoteMessageKeyShape, RemoteRootKeyShape,
};
use crate::consts::{MAX_ONE_TIME_KEYS, MAX_RECEIVER_CHAINS, OLM_MAX_SKIPPED_KEYS};
use crate::error::PickleError;
use crate::megolm::{GroupSession, InboundGroupSession, MegolmRatchet};
use crate::olm::{Account, KeyId, OLM_DIALECT, Session, StoredKey};
use crate::pickle::own::{check_ratchet_invariant, stored_key};
use crate::primitives::{ContributoryKey, Curve25519PublicKey};
use crate::ratchet::{ChainKey, DoubleRatchet, MessageSeed, ReceiverChain, RootKey, SenderChain};

// vodozemac's own limits are caudata's: a pickle within vodozemac's is within caudata's.
const _: () = assert!(VZ_MAX_RECEIVING_CHAINS == MAX_RECEIVER_CHAINS && VZ_MAX_SKIPPED_KEYS == OLM_MAX_SKIPPED_KEYS);

/// The id after `id`, refusing the last id (a pickle holding it could never make a new key).
fn after(id: u64) -> Result<u64, PickleError> {
    id.checked_add(1).ok_or(PickleError::InvalidField("key id (no next id)"))
}

// ---------------------------------------------------------------- account

pub(crate) fn account_from_shape(p: AccountShape) -> Result<Account, PickleError> {
    let AccountShape { signing_key, diffie_hellman_key, one_time_keys, fallback_keys } = p;
    let OneTimeKeysShape { next_key_id, public_keys, private_keys } = one_time_keys;
    if private_keys.len() > MAX_ONE_TIME_KEYS {
        return Err(PickleError::TooMany {
            field: "one-time keys",
            got: private_keys.len() as u64,
            max: MAX_ONE_TIME_KEYS as u64,
        });
    }
    let mut next_otk = next_key_id;
    let mut otks: BTreeMap<KeyId, StoredKey> = BTreeMap::new();
    for (id, secret) in private_keys {
        next_otk = next_otk.max(after(id.0)?);
        // published until proven otherwise: vodozemac lists only unpublished public keys
        otks.insert(id, stored_key(secret, true));
    }
    for (id, public) in public_keys {
        let stored = otks.get_mut(&id).ok_or(PickleError::InvalidField("one-time public key without a secret key"))?;
        if stored.public != public {
            return Err(PickleError::KeyMismatch("one-time key"));
        }
        stored.published = false;
    }

    let FallbackKeysShape { key_id: _, fallback_key, previous_fallback_key } = fallback_keys;
    let fallback = |k: Option<FallbackKeyShape>| -> Result<Option<(KeyId, StoredKey)>, PickleError> {
        k.map(|k| {
            after(k.key_id.0)?;
            Ok((k.key_id, stored_key(k.key, k.published)))
        })
        .transpose()
    };
    // The next fallback id is the current key's plus one (vodozemac's counter always is), so
    // the stored counter is not needed; a previous key without a current one never occurs.
    let (fallback_key, previous_fallback_key) = (fallback(fallback_key)?, fallback(previous_fallback_key)?);
    if fallback_key.is_none() && previous_fallback_key.is_some() {
        return Err(PickleError::InvalidField("previous_fallback_key without a fallback_key"));
    }

    let mut account = Account::from_parts(signing_key, diffie_hellman_key);
    account.one_time_keys = otks;
    account.fallback_key = fallback_key;
    account.previous_fallback_key = previous_fallback_key;
    account.next_key_id = next_otk;
    Ok(account)
}

/// The account's shape, owned (the tests edit it; writing goes through `view::account`).
#[cfg(test)]
pub(crate) fn account_to_shape(a: &Account) -> AccountShape {
    let fallback = |k: &Option<(KeyId, StoredKey)>| {
        k.as_ref().map(|(id, k)| FallbackKeyShape { key_id: *id, key: k.secret.clone(), published: k.published })
    };
    AccountShape {
        signing_key: a.signing_key.clone(),
        diffie_hellman_key: a.identity_key.clone(),
        one_time_keys: OneTimeKeysShape {
            next_key_id: a.next_key_id,
            public_keys: a.one_time_keys.iter().filter(|(_, k)| !k.published).map(|(id, k)| (*id, k.public)).collect(),
            private_keys: a.one_time_keys.iter().map(|(id, k)| (*id, k.secret.clone())).collect(),
        },
        fallback_keys: FallbackKeysShape {
            key_id: a.next_fallback_key_id(),
            fallback_key: fallback(&a.fallback_key),
            previous_fallback_key: fallback(&a.previous_fallback_key),
        },
    }
}

// ---------------------------------------------------------------- Olm session

fn index_u32(index: u64, what: &'static str) -> Result<u32, PickleError> {
    u32::try_from(index).map_err(|_| PickleError::InvalidField(what))
}

/// Puts vodozemac's receiving chains in caudata's order, oldest first.
///
/// vodozemac appends each new chain and evicts the first, so its own sessions list their
/// chains oldest first. But `Session::from_libolm_pickle` copies libolm's list, which is
/// newest first, and vodozemac then appends new chains after it. The pickle records which
/// chain is the newest only indirectly: an inactive ratchet names the chain it will answer
/// (`ratchet_key`), an active one the chain it answered (`parent_ratchet_key`, unknown only for
/// a sending chain imported from libolm or written before vodozemac 0.6). So:
/// * the newest chain known and last: the order is vodozemac's own, kept;
/// * known and first (of several): libolm's order, reversed;
/// * known and elsewhere (libolm's chains followed by vodozemac's): moved to the end, the
///   others kept in their order;
/// * unknown (an active ratchet from libolm, with several chains): libolm's order, reversed.
fn oldest_first(mut chains: Vec<ReceiverChain>, newest: Option<Curve25519PublicKey>) -> VecDeque<ReceiverChain> {
    let last = chains.len().saturating_sub(1);
    match newest.and_then(|k| chains.iter().position(|c| *c.ratchet_key.key() == k)) {
        Some(i) if i == last => {}
        Some(0) => chains.reverse(),
        Some(i) => {
            let newest = chains.remove(i);
            chains.push(newest);
        }
        None => chains.reverse(),
    }
    chains.into()
}

pub(crate) fn session_from_shape(p: SessionShape) -> Result<Session, PickleError> {
    let SessionShape { session_keys, sending_ratchet, receiving_chains, config } = p;
    let chains = receiving_chains.inner;
    if chains.len() > MAX_RECEIVER_CHAINS {
        return Err(PickleError::TooMany {
            field: "receiving chains",
            got: chains.len() as u64,
            max: MAX_RECEIVER_CHAINS as u64,
        });
    }
    // every key of a session took part in a Diffie-Hellman: none may have small order
    session_keys.check_contributory()?;
    let mut receivers = Vec::with_capacity(chains.len());
    for c in chains {
        // a key enters a receiving chain only if a Diffie-Hellman with it is contributory
        let ratchet_key = ContributoryKey::new(c.ratchet_key)?;
        let keys = c.skipped_message_keys.inner;
        if keys.len() > OLM_MAX_SKIPPED_KEYS {
            return Err(PickleError::TooMany {
                field: "skipped message keys",
                got: keys.len() as u64,
                max: OLM_MAX_SKIPPED_KEYS as u64,
            });
        }
        let mut skipped = Vec::with_capacity(keys.len());
        for k in keys {
            skipped.push(MessageSeed { seed: k.key, index: index_u32(k.index, "skipped key index")? });
        }
        // within a chain, keys are derived in index order: oldest first is lowest first
        // (vodozemac's libolm import keeps libolm's order)
        skipped.sort_by_key(|s| s.index);
        receivers.push(ReceiverChain {
            ratchet_key,
            chain: ChainKey { key: c.hkdf_ratchet.key, index: index_u32(c.hkdf_ratchet.index, "receiving chain key")? },
            skipped: skipped.into(),
        });
    }

    let (root, sender, newest) = match sending_ratchet {
        SendingShape::Active(a) => {
            let chain = ChainKey {
                key: a.symmetric_key_ratchet.key,
                index: index_u32(a.symmetric_key_ratchet.index, "sending chain key")?,
            };
            let sender = SenderChain::new(a.active_ratchet.ratchet_key, chain);
            (RootKey(a.active_ratchet.root_key), Some(sender), a.parent_ratchet_key)
        }
        SendingShape::Inactive(i) => {
            // caudata answers the newest receiving chain; vodozemac names the key explicitly
            if !receivers.iter().any(|r| *r.ratchet_key.key() == i.ratchet_key) {
                return Err(PickleError::InvalidField("sending_ratchet.ratchet_key (no such receiving chain)"));
            }
            (RootKey(i.root_key.key), None, Some(i.ratchet_key))
        }
    };
    let receivers = oldest_first(receivers, newest);
    check_ratchet_invariant(sender.as_ref(), &receivers)?;
    // vodozemac has no flag: a session has received once it has a receiving chain.
    let received_message = !receivers.is_empty();
    Ok(Session {
        session_keys,
        ratchet: DoubleRatchet {
            dialect: &OLM_DIALECT,
            root,
            sender,
            receivers,
            previous_counter: 0,
            shared_skipped: None,
        },
        config,
        received_message,
    })
}

/// caudata keeps no ratchet counts (vodozemac's diagnostics): every count is written unknown.
#[cfg(test)]
const UNKNOWN: RatchetCount = RatchetCount::Unknown(());

/// The session's shape, owned (the tests edit it; writing goes through `view::session`).
#[cfg(test)]
pub(crate) fn session_to_shape(s: &Session) -> SessionShape {
    // vodozemac keeps skipped keys per chain
    let d = &*s.ratchet.with_per_chain_skipped();
    let newest = d.receivers.back().map(|r| *r.ratchet_key.key());
    let sending_ratchet = match (&d.sender, newest) {
        (Some(sender), _) => SendingShape::Active(ActiveShape {
            // an Olm sending chain is made answering the newest receiving chain
            parent_ratchet_key: newest,
            ratchet_count: UNKNOWN,
            active_ratchet: OlmRatchetShape { root_key: d.root.0.clone(), ratchet_key: sender.ratchet_key.clone() },
            symmetric_key_ratchet: ChainKeyShape { key: sender.chain.key.clone(), index: sender.chain.index.into() },
        }),
        (None, Some(theirs)) => SendingShape::Inactive(InactiveShape {
            root_key: RemoteRootKeyShape { key: d.root.0.clone() },
            ratchet_key: theirs,
            ratchet_count: UNKNOWN,
        }),
        // A ratchet has a sending or a receiving chain (every constructor and pickle reader
        // makes sure); this arm is never taken, and writes what vodozemac would refuse.
        (None, None) => SendingShape::Inactive(InactiveShape {
            root_key: RemoteRootKeyShape { key: d.root.0.clone() },
            ratchet_key: Curve25519PublicKey::from_bytes([0; 32]),
            ratchet_count: UNKNOWN,
        }),
    };
    SessionShape {
        session_keys: s.session_keys,
        sending_ratchet,
        receiving_chains: ChainStoreShape {
            inner: d
                .receivers
                .iter()
                .map(|r| ReceiverChainShape {
                    ratchet_key: *r.ratchet_key.key(),
                    hkdf_ratchet: RemoteChainKeyShape { key: r.chain.key.clone(), index: r.chain.index.into() },
                    skipped_message_keys: MessageKeyStoreShape {
                        inner: r
                            .skipped
                            .iter()
                            .map(|k| RemoteMessageKeyShape { key: k.seed.clone(), index: k.index.into() })
                            .collect(),
                    },
                    ratchet_count: UNKNOWN,
                })
                .collect(),
        },
        config: s.config,
    }
}

// ---------------------------------------------------------------- Megolm

fn megolm_ratchet(r: MegolmRatchetShape) -> MegolmRatchet {
    MegolmRatchet::new(r.inner, r.counter)
}

fn megolm_ratchet_shape(r: &MegolmRatchet) -> MegolmRatchetShape {
    MegolmRatchetShape { inner: r.parts.clone(), counter: r.index }
}

pub(crate) fn group_session_from_shape(p: GroupSessionShape) -> GroupSession {
    GroupSession { ratchet: megolm_ratchet(p.ratchet), signing_key: p.signing_key, config: p.config }
}

pub(crate) fn group_session_to_shape(s: &GroupSession) -> GroupSessionShape {
    GroupSessionShape {
        ratchet: megolm_ratchet_shape(&s.ratchet),
        signing_key: s.signing_key.clone(),
        config: s.config,
    }
}

pub(crate) fn inbound_group_session_from_shape(p: InboundGroupSessionShape) -> InboundGroupSession {
    let initial_ratchet = megolm_ratchet(p.initial_ratchet);
    InboundGroupSession {
        latest_ratchet: initial_ratchet.clone(),
        initial_ratchet,
        signing_key: p.signing_key,
        signing_key_verified: p.signing_key_verified,
        config: p.config,
    }
}

/// vodozemac keeps no latest ratchet in its pickles: only the initial one is written.
pub(crate) fn inbound_group_session_to_shape(s: &InboundGroupSession) -> InboundGroupSessionShape {
    InboundGroupSessionShape {
        initial_ratchet: megolm_ratchet_shape(&s.initial_ratchet),
        signing_key: s.signing_key,
        signing_key_verified: s.signing_key_verified,
        config: s.config,
    }
}

#[cfg(test)]
mod tests {
    //! The checks of vodozemac's pickle structs, read from the structs themselves (the JSON
    //! reader and serde only fill them; `tests/` replays vodozemac's own pickles). Written to
    //! kill the mutants of Phase S (TESTING.md).

    use super::*;
    use crate::olm::SessionConfig;
    use crate::primitives::{Curve25519SecretKey, SecretBytes};

    fn secret32(b: u8) -> SecretBytes<32> {
        SecretBytes::from_slice(&[b; 32]).unwrap()
    }

    /// Alice's session (a sending chain, no receiving chain) and Bob's (one receiving chain,
    /// no sending chain), after one pre-key message.
    fn pair() -> (Session, Session) {
        crate::test_fixtures::olm_pair(SessionConfig::version_2(), b"first")
    }

    fn chain(ratchet_key: Curve25519PublicKey, skipped: u64) -> ReceiverChainShape {
        ReceiverChainShape {
            ratchet_key,
            hkdf_ratchet: RemoteChainKeyShape { key: secret32(1), index: skipped + 1 },
            skipped_message_keys: MessageKeyStoreShape {
                inner: (0..skipped).map(|index| RemoteMessageKeyShape { key: secret32(2), index }).collect(),
            },
            ratchet_count: UNKNOWN,
        }
    }

    fn order(s: &Session) -> Vec<Curve25519PublicKey> {
        s.ratchet.receivers.iter().map(|r| *r.ratchet_key.key()).collect()
    }

    #[test]
    fn one_time_keys_are_read_up_to_the_limit_with_matching_public_halves() {
        let mut account = Account::new();
        account.generate_one_time_keys(2);
        account.generate_fallback_key();
        let back = account_from_shape(account_to_shape(&account)).unwrap();
        assert_eq!(back.one_time_keys(), account.one_time_keys());
        assert_eq!(back.fallback_key(), account.fallback_key());
        assert_eq!(back.next_key_id, account.next_key_id);
        // an account without fallback keys is read too
        let plain = Account::new();
        assert_eq!(account_from_shape(account_to_shape(&plain)).unwrap().identity_keys(), plain.identity_keys());

        // MAX_ONE_TIME_KEYS secret keys are read, one more is refused
        let key = Curve25519SecretKey::new();
        let with = |n: u64| {
            let mut shape = account_to_shape(&plain);
            shape.one_time_keys.private_keys = (0..n).map(|i| (KeyId(i), key.clone())).collect();
            account_from_shape(shape)
        };
        let max = MAX_ONE_TIME_KEYS as u64;
        assert_eq!(with(max).unwrap().one_time_keys.len(), MAX_ONE_TIME_KEYS);
        assert!(
            matches!(with(max + 1), Err(PickleError::TooMany { field: "one-time keys", got, max: m }) if got == max + 1 && m == max)
        );

        // an unpublished key's public half must be its secret key's
        let mut shape = account_to_shape(&account);
        let (_, public) = shape.one_time_keys.public_keys.iter_mut().next().unwrap();
        *public = Curve25519SecretKey::new().public_key();
        assert!(matches!(account_from_shape(shape), Err(PickleError::KeyMismatch("one-time key"))));
        // a public key without its secret key
        let mut shape = account_to_shape(&account);
        shape.one_time_keys.public_keys.insert(KeyId(99), key.public_key());
        assert!(matches!(account_from_shape(shape), Err(PickleError::InvalidField(_))));
        // a previous fallback key without a current one
        let mut shape = account_to_shape(&account);
        shape.fallback_keys.previous_fallback_key = shape.fallback_keys.fallback_key.take();
        assert!(matches!(
            account_from_shape(shape),
            Err(PickleError::InvalidField("previous_fallback_key without a fallback_key"))
        ));
    }

    #[test]
    fn key_ids_must_leave_a_next_id() {
        let plain = Account::new();
        // the next id is after the highest stored one, whatever the counter says
        let mut shape = account_to_shape(&plain);
        shape.one_time_keys.next_key_id = 0;
        shape.one_time_keys.private_keys.insert(KeyId(7), Curve25519SecretKey::new());
        assert_eq!(account_from_shape(shape).unwrap().next_key_id, 8);
        // the last id is refused, for a one-time key and for a fallback key
        let mut shape = account_to_shape(&plain);
        shape.one_time_keys.private_keys.insert(KeyId(u64::MAX), Curve25519SecretKey::new());
        assert!(matches!(account_from_shape(shape), Err(PickleError::InvalidField("key id (no next id)"))));
        let mut shape = account_to_shape(&plain);
        shape.fallback_keys.fallback_key =
            Some(FallbackKeyShape { key_id: KeyId(u64::MAX), key: Curve25519SecretKey::new(), published: false });
        assert!(matches!(account_from_shape(shape), Err(PickleError::InvalidField("key id (no next id)"))));
    }

    #[test]
    fn sessions_round_trip_with_their_received_flag() {
        let (mut a, b) = pair();
        let back_a = session_from_shape(session_to_shape(&a)).unwrap();
        assert!(!back_a.has_received_message());
        assert_eq!(back_a.ratchet.sender.as_ref().unwrap().chain.index, a.ratchet.sender.as_ref().unwrap().chain.index);
        let mut back_b = session_from_shape(session_to_shape(&b)).unwrap();
        assert!(back_b.has_received_message());
        assert_eq!(order(&back_b), order(&b));
        // both restored sessions still talk
        let m = back_b.encrypt(b"reply");
        assert_eq!(a.decrypt(&m).unwrap(), b"reply");
        let m = a.encrypt(b"again");
        assert_eq!(back_b.decrypt(&m).unwrap(), b"again");
    }

    #[test]
    fn receiving_chains_and_skipped_keys_are_read_up_to_their_limits() {
        let (a, _) = pair();
        let with = |chains: usize, skipped: u64| {
            let mut shape = session_to_shape(&a);
            shape.receiving_chains.inner =
                (0..chains).map(|_| chain(Curve25519SecretKey::new().public_key(), skipped)).collect();
            session_from_shape(shape)
        };
        let s = with(MAX_RECEIVER_CHAINS, OLM_MAX_SKIPPED_KEYS as u64).unwrap();
        assert_eq!(s.ratchet.receivers.len(), MAX_RECEIVER_CHAINS);
        assert!(s.ratchet.receivers.iter().all(|r| r.skipped.len() == OLM_MAX_SKIPPED_KEYS));
        assert!(matches!(
            with(MAX_RECEIVER_CHAINS + 1, 0),
            Err(PickleError::TooMany { field: "receiving chains", got: 6, max: 5 })
        ));
        assert!(matches!(
            with(1, OLM_MAX_SKIPPED_KEYS as u64 + 1),
            Err(PickleError::TooMany { field: "skipped message keys", got: 41, max: 40 })
        ));
        // indices are whole u32s
        let mut shape = session_to_shape(&a);
        let mut c = chain(Curve25519SecretKey::new().public_key(), 1);
        c.skipped_message_keys.inner[0].index = u64::from(u32::MAX) + 1;
        shape.receiving_chains.inner = vec![c];
        assert!(matches!(session_from_shape(shape), Err(PickleError::InvalidField("skipped key index"))));
        let mut shape = session_to_shape(&a);
        let mut c = chain(Curve25519SecretKey::new().public_key(), 2);
        c.hkdf_ratchet.index = 0x1_0000_0003;
        shape.receiving_chains.inner = vec![c];
        assert!(matches!(session_from_shape(shape), Err(PickleError::InvalidField("receiving chain key"))));
        let mut shape = session_to_shape(&a);
        shape.receiving_chains.inner = vec![chain(Curve25519SecretKey::new().public_key(), 2)];
        let s = session_from_shape(shape).unwrap();
        let r = &s.ratchet.receivers[0];
        assert_eq!((r.chain.index, r.skipped.iter().map(|k| k.index).collect::<Vec<_>>()), (3, vec![0, 1]));
    }

    #[test]
    fn an_inactive_ratchet_must_name_one_of_its_receiving_chains() {
        let (_, b) = pair();
        let shape = session_to_shape(&b);
        assert!(matches!(shape.sending_ratchet, SendingShape::Inactive(_)));
        // two chains, the named one among them: read
        let mut two = session_to_shape(&b);
        two.receiving_chains.inner.insert(0, chain(Curve25519SecretKey::new().public_key(), 0));
        assert_eq!(session_from_shape(two).unwrap().ratchet.receivers.len(), 2);
        // a key no receiving chain has
        let mut shape = session_to_shape(&b);
        let SendingShape::Inactive(i) = &mut shape.sending_ratchet else { unreachable!() };
        i.ratchet_key = Curve25519SecretKey::new().public_key();
        assert!(matches!(
            session_from_shape(shape),
            Err(PickleError::InvalidField("sending_ratchet.ratchet_key (no such receiving chain)"))
        ));
    }

    #[test]
    fn receiving_chains_are_put_oldest_first() {
        let (a, _) = pair();
        let keys: Vec<_> = (0..3).map(|_| Curve25519SecretKey::new().public_key()).collect();
        let read = |newest: Option<Curve25519PublicKey>| {
            let mut shape = session_to_shape(&a);
            shape.receiving_chains.inner = keys.iter().map(|k| chain(*k, 0)).collect();
            let SendingShape::Active(act) = &mut shape.sending_ratchet else { unreachable!() };
            act.parent_ratchet_key = newest;
            order(&session_from_shape(shape).unwrap())
        };
        let (k0, k1, k2) = (keys[0], keys[1], keys[2]);
        assert_eq!(read(Some(k2)), [k0, k1, k2]);
        assert_eq!(read(Some(k0)), [k2, k1, k0]);
        assert_eq!(read(Some(k1)), [k0, k2, k1]);
        assert_eq!(read(None), [k2, k1, k0]);
        assert_eq!(read(Some(Curve25519SecretKey::new().public_key())), [k2, k1, k0]);
    }
}
