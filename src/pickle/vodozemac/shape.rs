//! vodozemac 0.11.1's pickle structs, field for field: what `serde_json` or `rmp_serde` read
//! and write (feature `serde`) and what the JSON reader and writer of this module read and
//! write (always). The struct names are vodozemac's (they reach formats that record them); the
//! secret fields are read straight into zeroizing storage.
//!
//! These are plain data: nothing here is validated (see `convert.rs`).

use std::collections::BTreeMap;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::megolm::SessionConfig as MegolmConfig;
use crate::olm::{KeyId, SessionConfig, SessionKeys};
use crate::primitives::{Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretKey, SecretBytes};

/// The most receiving chains vodozemac keeps (its `ChainStore` is an `ArrayVec` of 5).
pub(crate) const VZ_MAX_RECEIVING_CHAINS: usize = 5;
/// The most skipped message keys vodozemac keeps per chain (`ArrayVec` of 40).
pub(crate) const VZ_MAX_SKIPPED_KEYS: usize = 40;

// ---------------------------------------------------------------- account

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "AccountPickle"))]
pub(crate) struct AccountShape {
    #[cfg_attr(feature = "serde", serde(with = "crate::primitives::serde_with::keypair"))]
    pub(crate) signing_key: Ed25519SecretKey,
    pub(crate) diffie_hellman_key: Curve25519SecretKey,
    pub(crate) one_time_keys: OneTimeKeysShape,
    pub(crate) fallback_keys: FallbackKeysShape,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "OneTimeKeysPickle"))]
pub(crate) struct OneTimeKeysShape {
    #[cfg_attr(feature = "serde", serde(alias = "key_id"))]
    pub(crate) next_key_id: u64,
    /// The unpublished keys' public halves.
    pub(crate) public_keys: BTreeMap<KeyId, Curve25519PublicKey>,
    pub(crate) private_keys: BTreeMap<KeyId, Curve25519SecretKey>,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "FallbackKeys"))]
pub(crate) struct FallbackKeysShape {
    /// The next fallback key id (read, then not needed: see `convert::account_from_shape`).
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) key_id: u64,
    pub(crate) fallback_key: Option<FallbackKeyShape>,
    pub(crate) previous_fallback_key: Option<FallbackKeyShape>,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "FallbackKey"))]
pub(crate) struct FallbackKeyShape {
    pub(crate) key_id: KeyId,
    pub(crate) key: Curve25519SecretKey,
    pub(crate) published: bool,
}

// ---------------------------------------------------------------- Olm session

/// vodozemac's diagnostic count of Diffie-Hellman steps (not needed by the algorithm).
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "RatchetCount"))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RatchetCount {
    Known(u64),
    Unknown(()),
}

#[cfg(feature = "serde")]
fn unknown_count() -> RatchetCount {
    RatchetCount::Unknown(())
}

#[cfg(feature = "serde")]
fn default_olm_config() -> SessionConfig {
    SessionConfig::version_1()
}

#[cfg(feature = "serde")]
fn default_megolm_config() -> MegolmConfig {
    MegolmConfig::version_1()
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "SessionPickle"))]
pub(crate) struct SessionShape {
    pub(crate) session_keys: SessionKeys,
    pub(crate) sending_ratchet: SendingShape,
    pub(crate) receiving_chains: ChainStoreShape,
    #[cfg_attr(feature = "serde", serde(default = "default_olm_config"))]
    pub(crate) config: SessionConfig,
}

/// vodozemac's `DoubleRatchetState`, internally tagged by `"type"`. Its `Deserialize` is written
/// out (below) instead of derived: serde's derived internally tagged enums first copy the whole
/// value, secrets included, into buffers that are freed without being wiped.
#[cfg_attr(feature = "serde", derive(Serialize), serde(tag = "type", rename_all = "snake_case"))]
pub(crate) enum SendingShape {
    Inactive(InactiveShape),
    Active(ActiveShape),
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "InactiveDoubleRatchet"))]
pub(crate) struct InactiveShape {
    pub(crate) root_key: RemoteRootKeyShape,
    pub(crate) ratchet_key: Curve25519PublicKey,
    /// Read, then not kept (caudata keeps no ratchet counts).
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) ratchet_count: RatchetCount,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "RemoteRootKey"))]
pub(crate) struct RemoteRootKeyShape {
    #[cfg_attr(feature = "serde", serde(with = "crate::primitives::serde_with::tuple"))]
    pub(crate) key: SecretBytes<32>,
}

#[cfg_attr(feature = "serde", derive(Serialize), serde(rename = "ActiveDoubleRatchet"))]
pub(crate) struct ActiveShape {
    pub(crate) parent_ratchet_key: Option<Curve25519PublicKey>,
    /// Read, then not kept (caudata keeps no ratchet counts).
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) ratchet_count: RatchetCount,
    pub(crate) active_ratchet: OlmRatchetShape,
    pub(crate) symmetric_key_ratchet: ChainKeyShape,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "Ratchet"))]
pub(crate) struct OlmRatchetShape {
    #[cfg_attr(feature = "serde", serde(with = "crate::primitives::serde_with::tuple"))]
    pub(crate) root_key: SecretBytes<32>,
    pub(crate) ratchet_key: Curve25519SecretKey,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "ChainKey"))]
pub(crate) struct ChainKeyShape {
    #[cfg_attr(feature = "serde", serde(with = "crate::primitives::serde_with::tuple"))]
    pub(crate) key: SecretBytes<32>,
    pub(crate) index: u64,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "ChainStore"))]
pub(crate) struct ChainStoreShape {
    #[cfg_attr(feature = "serde", serde(deserialize_with = "at_most_5"))]
    pub(crate) inner: Vec<ReceiverChainShape>,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "ReceiverChain"))]
pub(crate) struct ReceiverChainShape {
    pub(crate) ratchet_key: Curve25519PublicKey,
    pub(crate) hkdf_ratchet: RemoteChainKeyShape,
    pub(crate) skipped_message_keys: MessageKeyStoreShape,
    #[cfg_attr(feature = "serde", serde(default = "unknown_count"))]
    /// Read, then not kept (caudata keeps no ratchet counts).
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) ratchet_count: RatchetCount,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "RemoteChainKey"))]
pub(crate) struct RemoteChainKeyShape {
    #[cfg_attr(feature = "serde", serde(with = "crate::primitives::serde_with::tuple"))]
    pub(crate) key: SecretBytes<32>,
    pub(crate) index: u64,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "MessageKeyStore"))]
pub(crate) struct MessageKeyStoreShape {
    #[cfg_attr(feature = "serde", serde(deserialize_with = "at_most_40"))]
    pub(crate) inner: Vec<RemoteMessageKeyShape>,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "RemoteMessageKey"))]
pub(crate) struct RemoteMessageKeyShape {
    #[cfg_attr(feature = "serde", serde(with = "crate::primitives::serde_with::tuple"))]
    pub(crate) key: SecretBytes<32>,
    pub(crate) index: u64,
}

// ---------------------------------------------------------------- Megolm

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "Ratchet"))]
pub(crate) struct MegolmRatchetShape {
    #[cfg_attr(feature = "serde", serde(with = "crate::primitives::serde_with::seq"))]
    pub(crate) inner: SecretBytes<128>,
    pub(crate) counter: u32,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "GroupSessionPickle"))]
pub(crate) struct GroupSessionShape {
    pub(crate) ratchet: MegolmRatchetShape,
    #[cfg_attr(feature = "serde", serde(with = "crate::primitives::serde_with::keypair"))]
    pub(crate) signing_key: Ed25519SecretKey,
    #[cfg_attr(feature = "serde", serde(default = "default_megolm_config"))]
    pub(crate) config: MegolmConfig,
}

#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename = "InboundGroupSessionPickle"))]
pub(crate) struct InboundGroupSessionShape {
    pub(crate) initial_ratchet: MegolmRatchetShape,
    pub(crate) signing_key: Ed25519PublicKey,
    pub(crate) signing_key_verified: bool,
    #[cfg_attr(feature = "serde", serde(default = "default_megolm_config"))]
    pub(crate) config: MegolmConfig,
}

// ---------------------------------------------------------------- serde: bounded lists, the tagged ratchet

#[cfg(feature = "serde")]
fn bounded<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>, const CAP: usize>(d: D) -> Result<Vec<T>, D::Error> {
    use core::marker::PhantomData;
    use serde::de::{Error, SeqAccess, Visitor};
    struct V<T, const CAP: usize>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>, const CAP: usize> Visitor<'de> for V<T, CAP> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            write!(f, "an array with no more than {CAP} items")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(CAP);
            while let Some(v) = seq.next_element()? {
                if out.len() == CAP {
                    return Err(A::Error::invalid_length(CAP + 1, &self));
                }
                out.push(v);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V::<T, CAP>(PhantomData))
}

#[cfg(feature = "serde")]
fn at_most_5<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ReceiverChainShape>, D::Error> {
    bounded::<D, ReceiverChainShape, VZ_MAX_RECEIVING_CHAINS>(d)
}

#[cfg(feature = "serde")]
fn at_most_40<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<RemoteMessageKeyShape>, D::Error> {
    bounded::<D, RemoteMessageKeyShape, VZ_MAX_SKIPPED_KEYS>(d)
}

#[cfg(feature = "serde")]
impl<'de> Deserialize<'de> for SendingShape {
    /// Reads the fields of either variant (in any order, unknown ones ignored) and builds the
    /// one the `"type"` names, as serde's internally tagged enums do; a sequence is read as
    /// the tag followed by the variant's fields in order.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, IgnoredAny, MapAccess, SeqAccess, Visitor};

        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Tag {
            Inactive,
            Active,
        }

        #[derive(Default)]
        struct Fields {
            root_key: Option<RemoteRootKeyShape>,
            ratchet_key: Option<Curve25519PublicKey>,
            ratchet_count: Option<RatchetCount>,
            parent_ratchet_key: Option<Option<Curve25519PublicKey>>,
            active_ratchet: Option<OlmRatchetShape>,
            symmetric_key_ratchet: Option<ChainKeyShape>,
        }

        fn build<E: Error>(tag: Tag, f: Fields) -> Result<SendingShape, E> {
            let count = f.ratchet_count.unwrap_or(RatchetCount::Unknown(()));
            Ok(match tag {
                Tag::Inactive => SendingShape::Inactive(InactiveShape {
                    root_key: f.root_key.ok_or_else(|| E::missing_field("root_key"))?,
                    ratchet_key: f.ratchet_key.ok_or_else(|| E::missing_field("ratchet_key"))?,
                    ratchet_count: count,
                }),
                Tag::Active => SendingShape::Active(ActiveShape {
                    parent_ratchet_key: f.parent_ratchet_key.flatten(),
                    ratchet_count: count,
                    active_ratchet: f.active_ratchet.ok_or_else(|| E::missing_field("active_ratchet"))?,
                    symmetric_key_ratchet: f
                        .symmetric_key_ratchet
                        .ok_or_else(|| E::missing_field("symmetric_key_ratchet"))?,
                }),
            })
        }

        fn set<T, E: Error>(slot: &mut Option<T>, v: T, name: &'static str) -> Result<(), E> {
            if slot.is_some() {
                return Err(E::duplicate_field(name));
            }
            *slot = Some(v);
            Ok(())
        }

        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SendingShape;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a double ratchet tagged \"active\" or \"inactive\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SendingShape, A::Error> {
                let mut tag = None;
                let mut f = Fields::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "type" => set(&mut tag, map.next_value::<Tag>()?, "type")?,
                        "root_key" => set(&mut f.root_key, map.next_value()?, "root_key")?,
                        "ratchet_key" => set(&mut f.ratchet_key, map.next_value()?, "ratchet_key")?,
                        "ratchet_count" => set(&mut f.ratchet_count, map.next_value()?, "ratchet_count")?,
                        "parent_ratchet_key" => {
                            set(&mut f.parent_ratchet_key, map.next_value()?, "parent_ratchet_key")?
                        }
                        "active_ratchet" => set(&mut f.active_ratchet, map.next_value()?, "active_ratchet")?,
                        "symmetric_key_ratchet" => {
                            set(&mut f.symmetric_key_ratchet, map.next_value()?, "symmetric_key_ratchet")?
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                build(tag.ok_or_else(|| A::Error::missing_field("type"))?, f)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SendingShape, A::Error> {
                let tag: Tag = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let mut f = Fields::default();
                match tag {
                    Tag::Inactive => {
                        f.root_key = seq.next_element()?;
                        f.ratchet_key = seq.next_element()?;
                        f.ratchet_count = seq.next_element()?;
                    }
                    Tag::Active => {
                        f.parent_ratchet_key = seq.next_element()?;
                        f.ratchet_count = seq.next_element()?;
                        f.active_ratchet = seq.next_element()?;
                        f.symmetric_key_ratchet = seq.next_element()?;
                    }
                }
                build(tag, f)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn bounded_lists_take_up_to_their_capacity() {
        let read = |json: &str| bounded::<_, u8, 3>(&mut serde_json::Deserializer::from_str(json));
        assert_eq!(read("[]").unwrap(), Vec::<u8>::new());
        assert_eq!(read("[1,2,3]").unwrap(), [1, 2, 3]);
        let e = read("[1,2,3,4]").unwrap_err().to_string();
        assert!(e.contains("invalid length 4, expected an array with no more than 3 items"), "{e}");
        assert!(read("[1,2,3,4,5,6,7,8,9]").is_err());
    }

    /// serde_json's output of the shapes (what matrix-rust-sdk stores) is byte for byte what
    /// `write.rs` writes for vodozemac's encrypted pickles, and reads back through the written-out
    /// `Deserialize` of the tagged ratchet and the bounded chain lists to the same bytes.
    #[test]
    fn serde_json_writes_what_the_writer_writes_and_reads_it_back() {
        use super::super::{convert, view, write};
        let (a, mut b) = crate::test_fixtures::olm_pair(SessionConfig::version_2(), b"x");
        let inactive = convert::session_to_shape(&b);
        let _ = b.encrypt(b"y");
        let mut active = convert::session_to_shape(&b);
        active.receiving_chains.inner[0].ratchet_count = RatchetCount::Known(7);
        active.receiving_chains.inner[0].skipped_message_keys.inner = (0..3)
            .map(|index| RemoteMessageKeyShape { key: SecretBytes::from_slice(&[4; 32]).unwrap(), index })
            .collect();
        let SendingShape::Active(act) = &mut active.sending_ratchet else { panic!("not active") };
        assert!(act.parent_ratchet_key.is_some());
        act.ratchet_count = RatchetCount::Known(9);
        for shape in [&inactive, &active, &convert::session_to_shape(&a)] {
            let json = serde_json::to_vec(shape).unwrap();
            assert_eq!(json, *write::session_json(&view::session_shape(shape)), "{}", String::from_utf8_lossy(&json));
            let back: SessionShape = serde_json::from_slice(&json).unwrap();
            assert_eq!(*write::session_json(&view::session_shape(&back)), json);
        }
        // the ratchet's fields in another order, unknown ones ignored
        let SendingShape::Active(act) = &active.sending_ratchet else { unreachable!() };
        let json = format!(
            r#"{{"x":1,"symmetric_key_ratchet":{},"active_ratchet":{},"ratchet_count":{{"Known":9}},"parent_ratchet_key":{},"type":"active"}}"#,
            serde_json::to_string(&act.symmetric_key_ratchet).unwrap(),
            serde_json::to_string(&act.active_ratchet).unwrap(),
            serde_json::to_string(&act.parent_ratchet_key).unwrap(),
        );
        let back: SendingShape = serde_json::from_str(&json).unwrap();
        let SendingShape::Active(b2) = back else { panic!("not active") };
        assert_eq!((b2.parent_ratchet_key, b2.ratchet_count), (act.parent_ratchet_key, RatchetCount::Known(9)));
        assert_eq!(b2.symmetric_key_ratchet.index, act.symmetric_key_ratchet.index);
        // a field twice is refused; so is what is not a ratchet at all
        let twice = json.replacen(r#""x":1"#, r#""type":"active""#, 1);
        let e = serde_json::from_str::<SendingShape>(&twice).err().unwrap().to_string();
        assert!(e.contains("duplicate field `type`"), "{e}");
        let e = serde_json::from_str::<SendingShape>("5").err().unwrap().to_string();
        assert!(e.contains("expected a double ratchet tagged \"active\" or \"inactive\""), "{e}");
        // the sequence form: the tag, then the variant's fields in order
        let SendingShape::Inactive(i) = &inactive.sending_ratchet else { panic!("not inactive") };
        let seq = format!(
            r#"["inactive",{},{},{{"Known":2}}]"#,
            serde_json::to_string(&i.root_key).unwrap(),
            serde_json::to_string(&i.ratchet_key).unwrap()
        );
        let SendingShape::Inactive(back) = serde_json::from_str::<SendingShape>(&seq).unwrap() else { panic!() };
        assert_eq!((back.ratchet_key, back.ratchet_count), (i.ratchet_key, RatchetCount::Known(2)));
        assert_eq!(back.root_key.key.expose(), i.root_key.key.expose());
        let seq = format!(
            r#"["active",null,{{"Known":4}},{},{}]"#,
            serde_json::to_string(&act.active_ratchet).unwrap(),
            serde_json::to_string(&act.symmetric_key_ratchet).unwrap()
        );
        let SendingShape::Active(back) = serde_json::from_str::<SendingShape>(&seq).unwrap() else { panic!() };
        assert_eq!((back.parent_ratchet_key, back.ratchet_count), (None, RatchetCount::Known(4)));
        // the chain lists are bounded through serde too: 6 chains, 41 skipped keys
        let mut six = serde_json::to_value(&inactive).unwrap();
        let chain = six["receiving_chains"]["inner"][0].clone();
        six["receiving_chains"]["inner"] = serde_json::Value::Array(vec![chain.clone(); 6]);
        let e = serde_json::from_value::<SessionShape>(six).err().unwrap().to_string();
        assert!(e.contains("no more than 5 items"), "{e}");
        let mut many = serde_json::to_value(&inactive).unwrap();
        let key =
            serde_json::to_value(RemoteMessageKeyShape { key: SecretBytes::from_slice(&[4; 32]).unwrap(), index: 1 })
                .unwrap();
        many["receiving_chains"]["inner"][0]["skipped_message_keys"]["inner"] = serde_json::Value::Array(vec![key; 41]);
        let e = serde_json::from_value::<SessionShape>(many).err().unwrap().to_string();
        assert!(e.contains("no more than 40 items"), "{e}");
    }

    /// Fields older vodozemac versions did not write take vodozemac's defaults.
    #[test]
    fn absent_fields_take_vodozemac_defaults() {
        let chain: ReceiverChainShape = serde_json::from_str(&format!(
            r#"{{"ratchet_key":{k},"hkdf_ratchet":{{"key":{k},"index":0}},"skipped_message_keys":{{"inner":[]}}}}"#,
            k = serde_json::to_string(&[9u8; 32]).unwrap()
        ))
        .unwrap();
        assert_eq!(chain.ratchet_count, RatchetCount::Unknown(()));
        let (k, root, inner) = (vec![9u8; 32], vec![1u8; 32], vec![1u8; 128]);
        let v = serde_json::json!({"session_keys": {"identity_key": k, "base_key": k, "one_time_key": k},
            "sending_ratchet": {"type": "inactive", "root_key": {"key": root}, "ratchet_key": k},
            "receiving_chains": {"inner": []}});
        let s: SessionShape = serde_json::from_value(v).unwrap();
        assert_eq!(s.config, SessionConfig::version_1());
        let signing = Ed25519SecretKey::new().public_key().as_bytes().to_vec();
        let v = serde_json::json!({"initial_ratchet": {"inner": inner, "counter": 0},
            "signing_key": signing, "signing_key_verified": true});
        let g: InboundGroupSessionShape = serde_json::from_value(v).unwrap();
        assert_eq!(g.config, MegolmConfig::version_1());
    }
}
