//! vodozemac's pickle structs for writing: the shapes of `shape.rs`, borrowing the object's
//! keys instead of copying them. Writing a pickle (serde's `Serialize`, and the JSON of the
//! encrypted pickle) reads the live object through these; no secret is copied to write it.
//!
//! Each view is its shape field for field, with the same serde names, field order and
//! field serializers, so it makes the very same serde data-model calls (the tests below compare
//! a view's output with its shape's; tests/serde_vodozemac.rs compares it with vodozemac's in
//! JSON and both MessagePack forms). The key lists are vectors of references (no secret is in
//! them), written with `collect_map`/`collect_seq` and their exact lengths, as the shapes'
//! `BTreeMap` and `Vec` are.

#[cfg(feature = "serde")]
use serde::{Serialize, Serializer};

use super::shape::RatchetCount;
#[cfg(test)]
use super::shape::{AccountShape, SendingShape, SessionShape};
use crate::olm::{Account, KeyId, SessionConfig, SessionKeys};
use crate::primitives::{Curve25519PublicKey, Curve25519SecretKey, Ed25519SecretKey, SecretBytes};
use crate::ratchet::DoubleRatchet;

// ---------------------------------------------------------------- field serializers

#[cfg(feature = "serde")]
fn keypair<S: Serializer>(k: &&Ed25519SecretKey, s: S) -> Result<S::Ok, S::Error> {
    crate::primitives::serde_with::keypair::serialize(k, s)
}

/// serde's own `[u8; 32]`: what `serde_with::tuple` writes (a tuple of 32 `u8`), from the
/// key's own storage.
#[cfg(feature = "serde")]
fn tuple<S: Serializer>(k: &&SecretBytes<32>, s: S) -> Result<S::Ok, S::Error> {
    k.expose().serialize(s)
}

/// A `BTreeMap<KeyId, V>`'s serialization (`collect_map` of its entries in key order, exact
/// length) from a list of entries already in key order.
#[cfg(feature = "serde")]
fn map<S: Serializer, V: Serialize>(entries: &[(KeyId, V)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(entries.iter().map(|(k, v)| (k, v)))
}

// ---------------------------------------------------------------- account

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "AccountPickle"))]
pub(crate) struct AccountView<'a> {
    #[cfg_attr(feature = "serde", serde(serialize_with = "keypair"))]
    pub(crate) signing_key: &'a Ed25519SecretKey,
    pub(crate) diffie_hellman_key: &'a Curve25519SecretKey,
    pub(crate) one_time_keys: OneTimeKeysView<'a>,
    pub(crate) fallback_keys: FallbackKeysView<'a>,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "OneTimeKeysPickle"))]
pub(crate) struct OneTimeKeysView<'a> {
    pub(crate) next_key_id: u64,
    /// The unpublished keys' public halves, in key id order.
    #[cfg_attr(feature = "serde", serde(serialize_with = "map"))]
    pub(crate) public_keys: Vec<(KeyId, &'a Curve25519PublicKey)>,
    /// Every one-time key's secret, in key id order.
    #[cfg_attr(feature = "serde", serde(serialize_with = "map"))]
    pub(crate) private_keys: Vec<(KeyId, &'a Curve25519SecretKey)>,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "FallbackKeys"))]
pub(crate) struct FallbackKeysView<'a> {
    pub(crate) key_id: u64,
    pub(crate) fallback_key: Option<FallbackKeyView<'a>>,
    pub(crate) previous_fallback_key: Option<FallbackKeyView<'a>>,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "FallbackKey"))]
pub(crate) struct FallbackKeyView<'a> {
    pub(crate) key_id: KeyId,
    pub(crate) key: &'a Curve25519SecretKey,
    pub(crate) published: bool,
}

/// The account as vodozemac pickles it (see `convert::account_to_shape`, its owned twin).
pub(crate) fn account(a: &Account) -> AccountView<'_> {
    fn fallback(k: &Option<(KeyId, crate::olm::StoredKey)>) -> Option<FallbackKeyView<'_>> {
        k.as_ref().map(|(id, k)| FallbackKeyView { key_id: *id, key: &k.secret, published: k.published })
    }
    AccountView {
        signing_key: &a.signing_key,
        diffie_hellman_key: &a.identity_key,
        one_time_keys: OneTimeKeysView {
            next_key_id: a.next_key_id,
            public_keys: a.one_time_keys.iter().filter(|(_, k)| !k.published).map(|(id, k)| (*id, &k.public)).collect(),
            private_keys: a.one_time_keys.iter().map(|(id, k)| (*id, &k.secret)).collect(),
        },
        fallback_keys: FallbackKeysView {
            key_id: a.next_fallback_key_id(),
            fallback_key: fallback(&a.fallback_key),
            previous_fallback_key: fallback(&a.previous_fallback_key),
        },
    }
}

/// A shape's view (the tests write hand-made shapes through the writers).
#[cfg(test)]
pub(crate) fn account_shape(a: &AccountShape) -> AccountView<'_> {
    fn fallback(k: &Option<super::shape::FallbackKeyShape>) -> Option<FallbackKeyView<'_>> {
        k.as_ref().map(|k| FallbackKeyView { key_id: k.key_id, key: &k.key, published: k.published })
    }
    let otks = &a.one_time_keys;
    AccountView {
        signing_key: &a.signing_key,
        diffie_hellman_key: &a.diffie_hellman_key,
        one_time_keys: OneTimeKeysView {
            next_key_id: otks.next_key_id,
            public_keys: otks.public_keys.iter().map(|(id, k)| (*id, k)).collect(),
            private_keys: otks.private_keys.iter().map(|(id, k)| (*id, k)).collect(),
        },
        fallback_keys: FallbackKeysView {
            key_id: a.fallback_keys.key_id,
            fallback_key: fallback(&a.fallback_keys.fallback_key),
            previous_fallback_key: fallback(&a.fallback_keys.previous_fallback_key),
        },
    }
}

// ---------------------------------------------------------------- Olm session

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "SessionPickle"))]
pub(crate) struct SessionView<'a> {
    pub(crate) session_keys: SessionKeys,
    pub(crate) sending_ratchet: SendingView<'a>,
    pub(crate) receiving_chains: ChainStoreView<'a>,
    pub(crate) config: SessionConfig,
}

#[cfg_attr(
    feature = "serde",
    derive(Serialize),
    serde(rename = "SendingShape", tag = "type", rename_all = "snake_case")
)]
pub(crate) enum SendingView<'a> {
    Inactive(InactiveView<'a>),
    Active(ActiveView<'a>),
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "InactiveDoubleRatchet"))]
pub(crate) struct InactiveView<'a> {
    pub(crate) root_key: RemoteRootKeyView<'a>,
    pub(crate) ratchet_key: Curve25519PublicKey,
    pub(crate) ratchet_count: RatchetCount,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "RemoteRootKey"))]
pub(crate) struct RemoteRootKeyView<'a> {
    #[cfg_attr(feature = "serde", serde(serialize_with = "tuple"))]
    pub(crate) key: &'a SecretBytes<32>,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "ActiveDoubleRatchet"))]
pub(crate) struct ActiveView<'a> {
    pub(crate) parent_ratchet_key: Option<Curve25519PublicKey>,
    pub(crate) ratchet_count: RatchetCount,
    pub(crate) active_ratchet: OlmRatchetView<'a>,
    pub(crate) symmetric_key_ratchet: ChainKeyView<'a>,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "Ratchet"))]
pub(crate) struct OlmRatchetView<'a> {
    #[cfg_attr(feature = "serde", serde(serialize_with = "tuple"))]
    pub(crate) root_key: &'a SecretBytes<32>,
    pub(crate) ratchet_key: &'a Curve25519SecretKey,
}

macro_rules! key_index_view {
    ($(#[$doc:meta])* $view:ident, $name:literal) => {
        $(#[$doc])*
        #[cfg_attr(feature = "serde", derive(Serialize), serde(rename = $name))]
        pub(crate) struct $view<'a> {
            #[cfg_attr(feature = "serde", serde(serialize_with = "tuple"))]
            pub(crate) key: &'a SecretBytes<32>,
            pub(crate) index: u64,
        }
    };
}
key_index_view!(
    /// vodozemac's `ChainKey` (the sending chain).
    ChainKeyView, "ChainKey"
);
key_index_view!(
    /// vodozemac's `RemoteChainKey` (a receiving chain).
    RemoteChainKeyView, "RemoteChainKey"
);
key_index_view!(
    /// vodozemac's `RemoteMessageKey` (a skipped message key).
    RemoteMessageKeyView, "RemoteMessageKey"
);

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "ChainStore"))]
pub(crate) struct ChainStoreView<'a> {
    pub(crate) inner: Vec<ReceiverChainView<'a>>,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "ReceiverChain"))]
pub(crate) struct ReceiverChainView<'a> {
    pub(crate) ratchet_key: Curve25519PublicKey,
    pub(crate) hkdf_ratchet: RemoteChainKeyView<'a>,
    pub(crate) skipped_message_keys: MessageKeyStoreView<'a>,
    pub(crate) ratchet_count: RatchetCount,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "MessageKeyStore"))]
pub(crate) struct MessageKeyStoreView<'a> {
    pub(crate) inner: Vec<RemoteMessageKeyView<'a>>,
}

/// caudata keeps no ratchet counts (vodozemac's diagnostics): every count is written unknown.
const UNKNOWN: RatchetCount = RatchetCount::Unknown(());

/// Calls `f` with the session as vodozemac pickles it (see `convert::session_to_shape`, its
/// owned twin).
pub(crate) fn session<R>(s: &crate::olm::Session, f: impl FnOnce(&SessionView<'_>) -> R) -> R {
    // vodozemac keeps skipped keys per chain (a copy only if they are kept in one list)
    let d = s.ratchet.with_per_chain_skipped();
    f(&ratchet(s.session_keys, s.config, &d))
}

fn ratchet(session_keys: SessionKeys, config: SessionConfig, d: &DoubleRatchet) -> SessionView<'_> {
    let newest = d.receivers.back().map(|r| *r.ratchet_key.key());
    let sending_ratchet = match (&d.sender, newest) {
        (Some(sender), _) => SendingView::Active(ActiveView {
            // an Olm sending chain is made answering the newest receiving chain
            parent_ratchet_key: newest,
            ratchet_count: UNKNOWN,
            active_ratchet: OlmRatchetView { root_key: &d.root.0, ratchet_key: &sender.ratchet_key },
            symmetric_key_ratchet: ChainKeyView { key: &sender.chain.key, index: sender.chain.index.into() },
        }),
        (None, Some(theirs)) => SendingView::Inactive(InactiveView {
            root_key: RemoteRootKeyView { key: &d.root.0 },
            ratchet_key: theirs,
            ratchet_count: UNKNOWN,
        }),
        // A ratchet has a sending or a receiving chain (every constructor and pickle reader
        // makes sure); this arm is never taken, and writes what vodozemac would refuse.
        (None, None) => SendingView::Inactive(InactiveView {
            root_key: RemoteRootKeyView { key: &d.root.0 },
            ratchet_key: Curve25519PublicKey::from_bytes([0; 32]),
            ratchet_count: UNKNOWN,
        }),
    };
    SessionView {
        session_keys,
        sending_ratchet,
        receiving_chains: ChainStoreView {
            inner: d
                .receivers
                .iter()
                .map(|r| ReceiverChainView {
                    ratchet_key: *r.ratchet_key.key(),
                    hkdf_ratchet: RemoteChainKeyView { key: &r.chain.key, index: r.chain.index.into() },
                    skipped_message_keys: MessageKeyStoreView {
                        inner: r
                            .skipped
                            .iter()
                            .map(|k| RemoteMessageKeyView { key: &k.seed, index: k.index.into() })
                            .collect(),
                    },
                    ratchet_count: UNKNOWN,
                })
                .collect(),
        },
        config,
    }
}

/// A shape's view (the tests write hand-made shapes through the writers).
#[cfg(test)]
pub(crate) fn session_shape(s: &SessionShape) -> SessionView<'_> {
    let sending_ratchet = match &s.sending_ratchet {
        SendingShape::Active(a) => SendingView::Active(ActiveView {
            parent_ratchet_key: a.parent_ratchet_key,
            ratchet_count: a.ratchet_count,
            active_ratchet: OlmRatchetView {
                root_key: &a.active_ratchet.root_key,
                ratchet_key: &a.active_ratchet.ratchet_key,
            },
            symmetric_key_ratchet: ChainKeyView {
                key: &a.symmetric_key_ratchet.key,
                index: a.symmetric_key_ratchet.index,
            },
        }),
        SendingShape::Inactive(i) => SendingView::Inactive(InactiveView {
            root_key: RemoteRootKeyView { key: &i.root_key.key },
            ratchet_key: i.ratchet_key,
            ratchet_count: i.ratchet_count,
        }),
    };
    SessionView {
        session_keys: s.session_keys,
        sending_ratchet,
        receiving_chains: ChainStoreView {
            inner: s
                .receiving_chains
                .inner
                .iter()
                .map(|c| ReceiverChainView {
                    ratchet_key: c.ratchet_key,
                    hkdf_ratchet: RemoteChainKeyView { key: &c.hkdf_ratchet.key, index: c.hkdf_ratchet.index },
                    skipped_message_keys: MessageKeyStoreView {
                        inner: c
                            .skipped_message_keys
                            .inner
                            .iter()
                            .map(|k| RemoteMessageKeyView { key: &k.key, index: k.index })
                            .collect(),
                    },
                    ratchet_count: c.ratchet_count,
                })
                .collect(),
        },
        config: s.config,
    }
}

/// `Serialize` of [`super::AccountPickle`]: the account's view.
#[cfg(feature = "serde")]
pub(crate) fn serialize_account<S: Serializer>(a: &Account, s: S) -> Result<S::Ok, S::Error> {
    account(a).serialize(s)
}

/// `Serialize` of [`super::SessionPickle`]: the session's view.
#[cfg(feature = "serde")]
pub(crate) fn serialize_session<S: Serializer>(x: &crate::olm::Session, s: S) -> Result<S::Ok, S::Error> {
    session(x, |v| v.serialize(s))
}

#[cfg(test)]
mod tests {
    //! A view writes what its shape writes (the owned copy that writing went through before
    //! the views): serde_json of both, and the JSON writer against serde_json, for accounts
    //! and sessions in every state the shapes can hold.

    use super::super::{convert, write};
    use super::*;
    use crate::olm::{OlmMessage, Session};
    use crate::primitives::SecretBytes;

    fn accounts() -> Vec<Account> {
        let empty = Account::new();
        let mut full = Account::new();
        full.generate_one_time_keys(30);
        full.mark_keys_as_published();
        full.generate_one_time_keys(20);
        full.generate_fallback_key();
        full.mark_keys_as_published();
        full.generate_fallback_key();
        // libolm's expanded signing key (an account imported from libolm)
        let mut expanded = Account::from_parts(
            Ed25519SecretKey::from_expanded(SecretBytes::from_slice(&[0x41; 64]).unwrap()),
            Curve25519SecretKey::new(),
        );
        expanded.generate_one_time_keys(3);
        expanded.generate_fallback_key();
        vec![empty, full, expanded]
    }

    /// Alice's and Bob's sessions at each step: sending only, receiving only, both, and with
    /// skipped message keys on two chains.
    fn sessions() -> Vec<Session> {
        let (mut a, mut b) = crate::test_fixtures::olm_pair(SessionConfig::version_2(), b"first");
        let mut out = vec![crate::pickle::own::clone_session(&a), crate::pickle::own::clone_session(&b)];
        let late: Vec<OlmMessage> = (0..3).map(|i| b.encrypt([i])).collect();
        a.decrypt(&late[2]).unwrap();
        out.push(crate::pickle::own::clone_session(&a));
        let late: Vec<OlmMessage> = (0..4).map(|i| a.encrypt([i])).collect();
        b.decrypt(&late[3]).unwrap();
        b.decrypt(&late[1]).unwrap();
        out.push(crate::pickle::own::clone_session(&b));
        let late: Vec<OlmMessage> = (0..2).map(|i| b.encrypt([i])).collect();
        a.decrypt(&late[1]).unwrap();
        out.extend([a, b]);
        out
    }

    #[test]
    fn an_account_writes_what_its_shape_writes() {
        for a in accounts() {
            let shape = convert::account_to_shape(&a);
            let json = write::account(&a);
            assert_eq!(*json, *write::account_json(&account_shape(&shape)));
            #[cfg(feature = "serde")]
            {
                let of_shape = serde_json::to_vec(&shape).unwrap();
                assert_eq!(serde_json::to_vec(&account(&a)).unwrap(), of_shape);
                assert_eq!(serde_json::to_vec(&a.vodozemac_pickle()).unwrap(), of_shape);
                assert_eq!(*json, of_shape, "{}", String::from_utf8_lossy(&of_shape));
            }
        }
    }

    #[test]
    fn a_session_writes_what_its_shape_writes() {
        let all = sessions();
        assert!(all.iter().any(|s| s.ratchet.receivers.iter().any(|r| r.skipped.len() == 2)));
        assert!(all.iter().any(|s| s.ratchet.sender.is_none()));
        for s in all {
            let shape = convert::session_to_shape(&s);
            let json = write::session(&s);
            assert_eq!(*json, *write::session_json(&session_shape(&shape)));
            #[cfg(feature = "serde")]
            {
                let of_shape = serde_json::to_vec(&shape).unwrap();
                assert_eq!(session(&s, |v| serde_json::to_vec(v).unwrap()), of_shape);
                assert_eq!(serde_json::to_vec(&s.vodozemac_pickle()).unwrap(), of_shape);
                assert_eq!(*json, of_shape, "{}", String::from_utf8_lossy(&of_shape));
            }
        }
    }
}
