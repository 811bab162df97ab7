//! vodozemac's pickle JSON (as `serde_json` writes it) into the pickle structs, through the
//! strict, zeroizing JSON reader of `pickle/json.rs`, so that the encrypted pickle strings are
//! read without the `serde` feature. What serde's derived code accepts is accepted here too:
//! fields in any order, unknown fields ignored, the defaults of fields older vodozemac
//! versions did not write, the `key_id` alias of `next_key_id`.

use std::collections::BTreeMap;

use super::shape::{
    AccountShape, ActiveShape, ChainKeyShape, ChainStoreShape, FallbackKeyShape, FallbackKeysShape, GroupSessionShape,
    InactiveShape, InboundGroupSessionShape, MegolmRatchetShape, MessageKeyStoreShape, OlmRatchetShape,
    OneTimeKeysShape, RatchetCount, ReceiverChainShape, RemoteChainKeyShape, RemoteMessageKeyShape, RemoteRootKeyShape,
    SendingShape, SessionShape, VZ_MAX_RECEIVING_CHAINS, VZ_MAX_SKIPPED_KEYS,
};
use crate::error::PickleError;
use crate::megolm::SessionConfig as MegolmConfig;
use crate::olm::{KeyId, SessionConfig, SessionKeys};
use crate::pickle::json::Json;
use crate::primitives::{Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretKey};

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

fn key_id(s: &str) -> Result<KeyId, PickleError> {
    // serde_json writes u64 map keys as decimal strings
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return Err(PickleError::InvalidField("one-time key id"));
    }
    s.parse::<u64>().map(KeyId).map_err(|_| PickleError::InvalidField("one-time key id"))
}

fn curve_public(v: &Json, what: &'static str) -> Result<Curve25519PublicKey, PickleError> {
    Ok(Curve25519PublicKey::from_bytes(v.bytes::<32>(what)?))
}

fn curve_secret(v: &Json, what: &'static str) -> Result<Curve25519SecretKey, PickleError> {
    Ok(Curve25519SecretKey::from_secret_bytes(&v.secret::<32>(what)?))
}

/// `{"Known": n}` or `{"Unknown": null}`; absent means unknown.
fn ratchet_count(v: &Json) -> Result<RatchetCount, PickleError> {
    match v.get("ratchet_count") {
        None => Ok(RatchetCount::Unknown(())),
        Some(c) => match (c.get("Known"), c.get("Unknown")) {
            (Some(n), None) => Ok(RatchetCount::Known(n.as_u64("ratchet_count.Known")?)),
            (None, Some(Json::Null)) => Ok(RatchetCount::Unknown(())),
            _ => Err(PickleError::InvalidField("ratchet_count")),
        },
    }
}

pub(crate) fn account(v: &Json) -> Result<AccountShape, PickleError> {
    let otks = v.field("one_time_keys")?;
    let next_key_id = otks
        .get("next_key_id")
        .or_else(|| otks.get("key_id"))
        .ok_or(PickleError::MissingField("one_time_keys.next_key_id"))?
        .as_u64("one_time_keys.next_key_id")?;
    let mut private_keys = BTreeMap::new();
    let private = otks.field("private_keys")?.as_object("one_time_keys.private_keys")?;
    if private.len() > crate::consts::MAX_ONE_TIME_KEYS {
        return Err(PickleError::TooMany {
            field: "one-time keys",
            got: private.len() as u64,
            max: crate::consts::MAX_ONE_TIME_KEYS as u64,
        });
    }
    for (id, secret) in private {
        private_keys.insert(key_id(id)?, curve_secret(secret, "one-time key")?);
    }
    let mut public_keys = BTreeMap::new();
    for (id, public) in otks.field("public_keys")?.as_object("one_time_keys.public_keys")? {
        public_keys.insert(key_id(id)?, curve_public(public, "one-time public key")?);
    }

    let fb = v.field("fallback_keys")?;
    let key = |name: &str| -> Result<Option<FallbackKeyShape>, PickleError> {
        fb.optional(name)
            .map(|k| {
                Ok(FallbackKeyShape {
                    key_id: KeyId(k.field("key_id")?.as_u64("fallback key id")?),
                    key: curve_secret(k.field("key")?, "fallback key")?,
                    published: k.field("published")?.as_bool("fallback key published")?,
                })
            })
            .transpose()
    };
    Ok(AccountShape {
        signing_key: ed25519_keypair(v.field("signing_key")?)?,
        diffie_hellman_key: curve_secret(v.field("diffie_hellman_key")?, "diffie_hellman_key")?,
        one_time_keys: OneTimeKeysShape { next_key_id, public_keys, private_keys },
        fallback_keys: FallbackKeysShape {
            key_id: fb.field("key_id")?.as_u64("fallback_keys.key_id")?,
            fallback_key: key("fallback_key")?,
            previous_fallback_key: key("previous_fallback_key")?,
        },
    })
}

fn chain_key(v: &Json, what: &'static str) -> Result<(crate::primitives::SecretBytes<32>, u64), PickleError> {
    Ok((v.field("key")?.secret::<32>(what)?, v.field("index")?.as_u64(what)?))
}

pub(crate) fn session(v: &Json) -> Result<SessionShape, PickleError> {
    let keys = v.field("session_keys")?;
    let session_keys = SessionKeys {
        identity_key: curve_public(keys.field("identity_key")?, "identity_key")?,
        base_key: curve_public(keys.field("base_key")?, "base_key")?,
        one_time_key: curve_public(keys.field("one_time_key")?, "one_time_key")?,
    };
    let config = SessionConfig::from_version(config_version(v)?).ok_or(PickleError::InvalidField("config"))?;

    let chains = v.field("receiving_chains")?.field("inner")?.as_array("receiving_chains.inner")?;
    if chains.len() > VZ_MAX_RECEIVING_CHAINS {
        return Err(PickleError::TooMany {
            field: "receiving chains",
            got: chains.len() as u64,
            max: VZ_MAX_RECEIVING_CHAINS as u64,
        });
    }
    let mut inner = Vec::with_capacity(chains.len());
    for c in chains {
        let keys = c.field("skipped_message_keys")?.field("inner")?.as_array("skipped_message_keys.inner")?;
        if keys.len() > VZ_MAX_SKIPPED_KEYS {
            return Err(PickleError::TooMany {
                field: "skipped message keys",
                got: keys.len() as u64,
                max: VZ_MAX_SKIPPED_KEYS as u64,
            });
        }
        let mut skipped = Vec::with_capacity(keys.len());
        for k in keys {
            let (key, index) = chain_key(k, "skipped message key")?;
            skipped.push(RemoteMessageKeyShape { key, index });
        }
        let (key, index) = chain_key(c.field("hkdf_ratchet")?, "receiving chain key")?;
        inner.push(ReceiverChainShape {
            ratchet_key: curve_public(c.field("ratchet_key")?, "receiving ratchet key")?,
            hkdf_ratchet: RemoteChainKeyShape { key, index },
            skipped_message_keys: MessageKeyStoreShape { inner: skipped },
            ratchet_count: ratchet_count(c)?,
        });
    }

    let sending = v.field("sending_ratchet")?;
    let sending_ratchet = match sending.field("type")?.as_str("sending_ratchet.type")? {
        "active" => {
            let active = sending.field("active_ratchet")?;
            let (key, index) = chain_key(sending.field("symmetric_key_ratchet")?, "sending chain key")?;
            SendingShape::Active(ActiveShape {
                parent_ratchet_key: sending
                    .optional("parent_ratchet_key")
                    .map(|k| curve_public(k, "parent_ratchet_key"))
                    .transpose()?,
                ratchet_count: ratchet_count(sending)?,
                active_ratchet: OlmRatchetShape {
                    root_key: active.field("root_key")?.secret::<32>("root key")?,
                    ratchet_key: curve_secret(active.field("ratchet_key")?, "sending ratchet key")?,
                },
                symmetric_key_ratchet: ChainKeyShape { key, index },
            })
        }
        "inactive" => SendingShape::Inactive(InactiveShape {
            root_key: RemoteRootKeyShape { key: sending.field("root_key")?.field("key")?.secret::<32>("root key")? },
            ratchet_key: curve_public(sending.field("ratchet_key")?, "ratchet key")?,
            ratchet_count: ratchet_count(sending)?,
        }),
        _ => return Err(PickleError::InvalidField("sending_ratchet.type")),
    };
    Ok(SessionShape { session_keys, sending_ratchet, receiving_chains: ChainStoreShape { inner }, config })
}

fn megolm_ratchet(v: &Json, what: &'static str) -> Result<MegolmRatchetShape, PickleError> {
    Ok(MegolmRatchetShape { inner: v.field("inner")?.secret::<128>(what)?, counter: v.field("counter")?.as_u32(what)? })
}

pub(crate) fn group_session(v: &Json) -> Result<GroupSessionShape, PickleError> {
    Ok(GroupSessionShape {
        ratchet: megolm_ratchet(v.field("ratchet")?, "ratchet")?,
        signing_key: ed25519_keypair(v.field("signing_key")?)?,
        config: MegolmConfig::from_version(config_version(v)?).ok_or(PickleError::InvalidField("config"))?,
    })
}

pub(crate) fn inbound_group_session(v: &Json) -> Result<InboundGroupSessionShape, PickleError> {
    Ok(InboundGroupSessionShape {
        initial_ratchet: megolm_ratchet(v.field("initial_ratchet")?, "initial ratchet")?,
        signing_key: Ed25519PublicKey::from_bytes(&v.field("signing_key")?.bytes::<32>("signing_key")?)?,
        signing_key_verified: v.field("signing_key_verified")?.as_bool("signing_key_verified")?,
        config: MegolmConfig::from_version(config_version(v)?).ok_or(PickleError::InvalidField("config"))?,
    })
}

#[cfg(test)]
mod tests {
    //! The reader's own checks, on JSON written by `write.rs` (then parsed) or by hand; the
    //! conversion's checks (`convert.rs`) are not called, so each refusal here is the reader's.

    use super::super::{convert, view, write};
    use super::*;
    use crate::olm::{Account, OlmMessage};
    use crate::pickle::json::parse;
    use crate::primitives::SecretBytes;

    #[test]
    fn key_ids_are_canonical_decimal_u64s() {
        for (s, id) in [("0", 0), ("7", 7), ("10", 10), ("18446744073709551615", u64::MAX)] {
            assert_eq!(key_id(s).map(|k| k.0), Ok(id), "{s}");
        }
        for s in ["", "00", "07", "+7", "-7", "7a", " 7", "a", "18446744073709551616", "000000000000000000007"] {
            assert_eq!(key_id(s).err(), Some(PickleError::InvalidField("one-time key id")), "{s}");
        }
    }

    #[test]
    fn config_versions_are_v1_v2_or_absent() {
        let version = |doc: &[u8]| config_version(&parse(doc).unwrap());
        assert_eq!(version(br#"{"config":{"version":"V1"}}"#), Ok(1));
        assert_eq!(version(br#"{"config":{"version":"V2"}}"#), Ok(2));
        assert_eq!(version(br#"{}"#), Ok(1));
        assert_eq!(version(br#"{"config":null}"#), Ok(1));
        assert_eq!(version(br#"{"config":{"version":"V3"}}"#), Err(PickleError::InvalidField("config.version")));
        assert_eq!(version(br#"{"config":{}}"#), Err(PickleError::MissingField("version")));
    }

    /// A session's shape with `chains` receiving chains of `skipped` skipped keys each, written
    /// as vodozemac's JSON and read back by the reader alone.
    fn read_session(chains: usize, skipped: u64) -> Result<SessionShape, PickleError> {
        let a = crate::test_fixtures::olm_outbound(SessionConfig::version_2(), b"x").a;
        let mut shape = convert::session_to_shape(&a);
        shape.receiving_chains.inner = (0..chains)
            .map(|i| ReceiverChainShape {
                ratchet_key: Curve25519SecretKey::new().public_key(),
                hkdf_ratchet: RemoteChainKeyShape {
                    key: SecretBytes::from_slice(&[1; 32]).unwrap(),
                    index: 70 + i as u64,
                },
                skipped_message_keys: MessageKeyStoreShape {
                    inner: (0..skipped)
                        .map(|index| RemoteMessageKeyShape { key: SecretBytes::from_slice(&[2; 32]).unwrap(), index })
                        .collect(),
                },
                ratchet_count: RatchetCount::Known(3),
            })
            .collect();
        session(&parse(&write::session_json(&view::session_shape(&shape))).unwrap())
    }

    #[test]
    fn the_session_reader_bounds_its_lists_and_keeps_every_index() {
        let shape = read_session(VZ_MAX_RECEIVING_CHAINS, VZ_MAX_SKIPPED_KEYS as u64).unwrap();
        let chains = &shape.receiving_chains.inner;
        assert_eq!(chains.len(), VZ_MAX_RECEIVING_CHAINS);
        for (i, c) in chains.iter().enumerate() {
            assert_eq!(c.hkdf_ratchet.index, 70 + i as u64);
            assert_eq!(c.hkdf_ratchet.key.expose(), &[1; 32]);
            let keys = &c.skipped_message_keys.inner;
            assert_eq!(keys.iter().map(|k| k.index).collect::<Vec<_>>(), (0..40).collect::<Vec<_>>());
            assert!(keys.iter().all(|k| k.key.expose() == &[2; 32]));
        }
        let SendingShape::Active(a) = &shape.sending_ratchet else { panic!("not active") };
        assert_eq!(a.symmetric_key_ratchet.index, 1);
        assert_eq!(shape.config.version(), 2);
        assert!(matches!(
            read_session(VZ_MAX_RECEIVING_CHAINS + 1, 0).err(),
            Some(PickleError::TooMany { field: "receiving chains", got: 6, max: 5 })
        ));
        assert!(matches!(
            read_session(1, VZ_MAX_SKIPPED_KEYS as u64 + 1).err(),
            Some(PickleError::TooMany { field: "skipped message keys", got: 41, max: 40 })
        ));
    }

    #[test]
    fn ratchet_counts_are_known_unknown_or_absent() {
        let count = |doc: &[u8]| ratchet_count(&parse(doc).unwrap());
        assert_eq!(count(br#"{"ratchet_count":{"Known":18446744073709551615}}"#), Ok(RatchetCount::Known(u64::MAX)));
        assert_eq!(count(br#"{"ratchet_count":{"Known":0}}"#), Ok(RatchetCount::Known(0)));
        assert_eq!(count(br#"{"ratchet_count":{"Unknown":null}}"#), Ok(RatchetCount::Unknown(())));
        assert_eq!(count(br#"{}"#), Ok(RatchetCount::Unknown(())));
        for doc in [
            &br#"{"ratchet_count":{}}"#[..],
            br#"{"ratchet_count":{"Unknown":1}}"#,
            br#"{"ratchet_count":{"Known":1,"Unknown":null}}"#,
        ] {
            assert_eq!(count(doc), Err(PickleError::InvalidField("ratchet_count")));
        }
        // what the writer writes, read back: the chains' counts and the sending ratchet's
        let shape = read_session(2, 0).unwrap();
        assert!(shape.receiving_chains.inner.iter().all(|c| c.ratchet_count == RatchetCount::Known(3)));
    }

    /// An account, every kind of session and its keys, through the writer, the JSON parser and
    /// this reader (no serde), back to the same object.
    #[test]
    fn what_the_writer_writes_reads_back() {
        let mut account = Account::new();
        account.generate_one_time_keys(3);
        account.mark_keys_as_published();
        account.generate_one_time_keys(12);
        account.generate_fallback_key();
        account.generate_fallback_key();
        let json = write::account(&account);
        let back = convert::account_from_shape(super::account(&parse(&json).unwrap()).unwrap()).unwrap();
        assert_eq!(back.identity_keys(), account.identity_keys());
        assert_eq!(back.one_time_keys(), account.one_time_keys());
        assert_eq!(back.one_time_keys.len(), 15);
        assert_eq!(back.fallback_key(), account.fallback_key());
        assert_eq!(back.next_key_id, account.next_key_id);
        assert_eq!(*write::account(&back), *json);

        // Bob's side: an inactive ratchet, then an active one with a parent
        let mut bob = Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        let mut a = account.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(m) = a.encrypt(b"x") else { panic!("not a pre-key message") };
        let b = bob.create_inbound_session(SessionConfig::version_1(), account.curve25519_key(), &m).unwrap().session;
        let through = |s: &crate::olm::Session| {
            let json = write::session(s);
            let back = convert::session_from_shape(session(&parse(&json).unwrap()).unwrap()).unwrap();
            assert_eq!(*write::session(&back), *json);
            back
        };
        let mut b2 = through(&b);
        assert_eq!(b2.session_config().version(), 1);
        let reply = b2.encrypt(b"y");
        assert_eq!(a.decrypt(&reply).unwrap(), b"y");
        let mut b3 = through(&b2);
        assert_eq!(b3.decrypt(&a.encrypt(b"w")).unwrap(), b"w");

        // Megolm: the outbound session and an inbound one
        let mut outbound = crate::megolm::GroupSession::new(MegolmConfig::version_2());
        let _ = outbound.encrypt(b"m");
        let json = write::group_session(&outbound);
        let back = convert::group_session_from_shape(group_session(&parse(&json).unwrap()).unwrap());
        assert_eq!(back.message_index(), 1);
        assert_eq!(*back.session_key().to_base64(), *outbound.session_key().to_base64());
        assert_eq!(back.session_config(), MegolmConfig::version_2());
        let inbound = crate::megolm::InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_1());
        let json = write::inbound_group_session(&inbound);
        let back = convert::inbound_group_session_from_shape(inbound_group_session(&parse(&json).unwrap()).unwrap());
        assert_eq!(back.first_known_index(), 1);
        assert!(back.signing_key_verified());
        assert_eq!(back.session_config(), MegolmConfig::version_1());
    }

    #[test]
    fn the_account_reader_bounds_its_one_time_keys() {
        let plain = Account::new();
        let with = |n: u64| {
            let mut shape = convert::account_to_shape(&plain);
            shape.one_time_keys.private_keys = (0..n).map(|i| (KeyId(i), Curve25519SecretKey::new())).collect();
            account(&parse(&write::account_json(&view::account_shape(&shape))).unwrap())
                .map(|a| a.one_time_keys.private_keys.len())
        };
        let max = crate::consts::MAX_ONE_TIME_KEYS as u64;
        assert_eq!(with(max), Ok(crate::consts::MAX_ONE_TIME_KEYS));
        assert!(matches!(
            with(max + 1),
            Err(PickleError::TooMany { field: "one-time keys", got, max: m }) if got == max + 1 && m == max
        ));
    }
}
