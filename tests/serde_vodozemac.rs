//! serde interop with vodozemac 0.11.1 (caudata's `serde` feature): every type vodozemac
//! serializes is written by each library and read by the other, in JSON (serde_json) and in
//! MessagePack (rmp_serde, both `to_vec_named`, which matrix-rust-sdk's SQLite store uses, and
//! the compact `to_vec`), and the bytes are compared. The values read are then used: keys sign
//! and agree, messages decrypt, pickled objects go on talking to vodozemac's peer objects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::megolm::{ExportedSessionKey, GroupSession, InboundGroupSession, MegolmMessage, SessionKey};
use caudata::olm::{Account, IdentityKeys, KeyId, Message, OlmMessage, PreKeyMessage, Session, SessionKeys};
use caudata::pickle::vodozemac as cdp;
use caudata::primitives::{Curve25519SecretKey, Ed25519SecretKey, SecretBytes};
use caudata::{Curve25519PublicKey, Ed25519PublicKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use vodozemac::megolm as vm;
use vodozemac::olm as vo;

/// The three encodings matrix-rust-sdk's stores and events use.
fn encodings<T: Serialize>(v: &T) -> [Vec<u8>; 3] {
    [serde_json::to_vec(v).unwrap(), rmp_serde::to_vec_named(v).unwrap(), rmp_serde::to_vec(v).unwrap()]
}

fn decode<T: DeserializeOwned>(format: usize, bytes: &[u8]) -> Result<T, String> {
    match format {
        0 => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        _ => rmp_serde::from_slice(bytes).map_err(|e| e.to_string()),
    }
}

/// `ours` and `theirs` serialize to the same bytes in every encoding; each library reads the
/// other's bytes; `same` compares what was read.
fn identical<C, V>(ours: &C, theirs: &V, same: impl Fn(&C, &V) -> bool)
where
    C: Serialize + DeserializeOwned,
    V: Serialize + DeserializeOwned,
{
    let (mine, vz) = (encodings(ours), encodings(theirs));
    for f in 0..3 {
        assert_eq!(mine[f], vz[f], "encoding {f}: {}", String::from_utf8_lossy(&vz[f]));
        let c: C = decode(f, &vz[f]).unwrap_or_else(|e| panic!("caudata reads vodozemac's encoding {f}: {e}"));
        let v: V = decode(f, &mine[f]).unwrap_or_else(|e| panic!("vodozemac reads caudata's encoding {f}: {e}"));
        assert!(same(&c, theirs), "caudata read another value (encoding {f})");
        assert!(same(ours, &v), "vodozemac read another value (encoding {f})");
    }
}

fn vz_curve(k: Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(k.to_bytes())
}

fn to_vz(m: &OlmMessage) -> vo::OlmMessage {
    let (t, b) = m.to_parts();
    vo::OlmMessage::from_parts(t, &b).unwrap()
}

fn from_vz(m: &vo::OlmMessage) -> OlmMessage {
    let (t, b) = m.to_parts();
    OlmMessage::from_parts(t, &b).unwrap()
}

#[test]
fn keys_key_ids_and_identity_keys() {
    for i in 0..8u8 {
        let bytes = [i.wrapping_mul(31).wrapping_add(7); 32];
        // Curve25519: public and (unclamped) secret keys
        let vz_secret = vodozemac::Curve25519SecretKey::from_slice(&bytes);
        let cd_secret = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_slice(&bytes).unwrap());
        identical(&cd_secret, &vz_secret, |c, v| c.to_secret_bytes().expose() == &*v.to_bytes());
        let vz_public = vodozemac::Curve25519PublicKey::from(&vz_secret);
        identical(&cd_secret.public_key(), &vz_public, |c, v| c.as_bytes() == v.as_bytes());
        // any 32 bytes are a Curve25519 public key in both (all-zero included)
        let any = Curve25519PublicKey::from_bytes([i; 32]);
        identical(&any, &vodozemac::Curve25519PublicKey::from_bytes([i; 32]), |c, v| c.as_bytes() == v.as_bytes());

        // Ed25519: seeds and public keys
        let vz_ed = vodozemac::Ed25519SecretKey::from_slice(&bytes);
        let cd_ed = Ed25519SecretKey::from_seed(SecretBytes::from_slice(&bytes).unwrap());
        identical(&cd_ed, &vz_ed, |c, v| c.sign(b"m").to_bytes() == v.sign(b"m").to_bytes());
        identical(&cd_ed.public_key(), &vz_ed.public_key(), |c, v| c.as_bytes() == v.as_bytes());
    }

    // key ids as vodozemac hands them out, alone and as map keys
    let mut vz = vo::Account::new();
    vz.generate_one_time_keys(3);
    for (id, key) in vz.one_time_keys() {
        let n: u64 = serde_json::from_slice(&serde_json::to_vec(&id).unwrap()).unwrap();
        identical(&KeyId(n), &id, |c, v| c.to_base64() == v.to_base64());
        let mine = std::collections::BTreeMap::from([(KeyId(n), Curve25519PublicKey::from_bytes(key.to_bytes()))]);
        let theirs = std::collections::BTreeMap::from([(id, key)]);
        identical(&mine, &theirs, |c, v| c.len() == v.len());
    }
    // identity keys
    let vz_keys = vz.identity_keys();
    let cd_keys = IdentityKeys {
        ed25519: Ed25519PublicKey::from_bytes(vz_keys.ed25519.as_bytes()).unwrap(),
        curve25519: Curve25519PublicKey::from_bytes(vz_keys.curve25519.to_bytes()),
    };
    identical(&cd_keys, &vz_keys, |c, v| {
        c.ed25519.as_bytes() == v.ed25519.as_bytes() && c.curve25519.as_bytes() == v.curve25519.as_bytes()
    });
}

#[test]
fn key_shapes_are_vodozemacs() {
    // the recorded shapes of the shared vectors (misc_api.json): arrays of numbers in JSON
    let c = Curve25519PublicKey::from_bytes([1; 32]);
    assert_eq!(serde_json::to_string(&c).unwrap(), format!("[{}]", vec!["1"; 32].join(",")));
    let e = Ed25519SecretKey::from_seed(SecretBytes::from_slice(&[1; 32]).unwrap());
    assert_eq!(serde_json::to_string(&e).unwrap(), format!("[{}]", vec!["1"; 32].join(",")));
    // MessagePack: Curve25519 keys are arrays, Ed25519 keys `bin 8` (0xc4, length 32)
    let mp = rmp_serde::to_vec_named(&c).unwrap();
    assert_eq!((mp[0], mp.len()), (0xdc, 3 + 32));
    let mp = rmp_serde::to_vec_named(&e.public_key()).unwrap();
    assert_eq!(&mp[..2], &[0xc4, 32]);
    // KeyId: a JSON number, a decimal string as a map key
    assert_eq!(serde_json::to_string(&KeyId(7)).unwrap(), "7");
    let m = std::collections::BTreeMap::from([(KeyId(7), 1u8)]);
    assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"7":1}"#);
    // Ed25519 public keys that do not decompress are refused, as by vodozemac; so are wrong
    // lengths of every key
    let not_a_point = (2u8..)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| Ed25519PublicKey::from_bytes(b).is_err())
        .unwrap();
    for f in 0..2 {
        let enc = |v: &[u8]| {
            let bytes = serde_bytes_like(v);
            if f == 0 { serde_json::to_vec(&bytes).unwrap() } else { rmp_serde::to_vec(&bytes).unwrap() }
        };
        assert!(decode::<Ed25519PublicKey>(f, &enc(&not_a_point)).is_err());
        assert!(decode::<vodozemac::Ed25519PublicKey>(f, &enc(&not_a_point)).is_err());
        for len in [0usize, 31, 33] {
            let v = vec![9u8; len];
            assert!(decode::<Ed25519PublicKey>(f, &enc(&v)).is_err(), "{len}");
            assert!(decode::<Ed25519SecretKey>(f, &enc(&v)).is_err(), "{len}");
            assert!(decode::<vodozemac::Ed25519SecretKey>(f, &enc(&v)).is_err(), "{len}");
            let arr = if f == 0 { serde_json::to_vec(&v).unwrap() } else { rmp_serde::to_vec(&v).unwrap() };
            assert!(decode::<Curve25519PublicKey>(f, &arr).is_err(), "{len}");
            assert!(decode::<vodozemac::Curve25519PublicKey>(f, &arr).is_err(), "{len}");
            assert!(decode::<Curve25519SecretKey>(f, &arr).is_err(), "{len}");
        }
    }
    // an Ed25519 key known only in libolm's expanded form has no seed to serialize
    let expanded = Ed25519SecretKey::from_expanded(e.expanded_bytes());
    assert!(serde_json::to_vec(&expanded).is_err());
}

/// A byte string for serde (`serialize_bytes`): a JSON array of numbers, MessagePack `bin`.
fn serde_bytes_like(v: &[u8]) -> impl Serialize + '_ {
    struct B<'a>(&'a [u8]);
    impl Serialize for B<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
    B(v)
}

#[test]
fn session_configs() {
    identical(&caudata::olm::SessionConfig::version_1(), &vo::SessionConfig::version_1(), |c, v| {
        c.version() == v.version()
    });
    identical(&caudata::olm::SessionConfig::version_2(), &vo::SessionConfig::version_2(), |c, v| {
        c.version() == v.version()
    });
    identical(&caudata::megolm::SessionConfig::version_1(), &vm::SessionConfig::version_1(), |c, v| {
        c.version() == v.version()
    });
    identical(&caudata::megolm::SessionConfig::version_2(), &vm::SessionConfig::version_2(), |c, v| {
        c.version() == v.version()
    });
    assert_eq!(serde_json::to_string(&caudata::olm::SessionConfig::version_2()).unwrap(), r#"{"version":"V2"}"#);
    assert!(serde_json::from_str::<caudata::olm::SessionConfig>(r#"{"version":"V3"}"#).is_err());
}

#[test]
fn olm_messages_and_session_keys() {
    for config in [1u8, 2] {
        let (vc, cc) = if config == 2 {
            (vo::SessionConfig::version_2(), caudata::olm::SessionConfig::version_2())
        } else {
            (vo::SessionConfig::version_1(), caudata::olm::SessionConfig::version_1())
        };
        let alice = vo::Account::new();
        let mut bob = Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        let mut s = alice.create_outbound_session(vc, vz_curve(bob.curve25519_key()), vz_curve(otk)).unwrap();
        let vz_pre = s.encrypt("pre-key").unwrap();
        let cd_pre = from_vz(&vz_pre);
        identical(&cd_pre, &vz_pre, |c, v| c.to_parts() == v.to_parts());
        let (OlmMessage::PreKey(cd_inner), vo::OlmMessage::PreKey(vz_inner)) = (&cd_pre, &vz_pre) else { panic!() };
        identical(cd_inner, vz_inner, |c, v| c.to_bytes() == v.to_bytes());
        // PreKeyMessage::session_keys, and SessionKeys' own shape
        let keys: SessionKeys = cd_inner.session_keys();
        assert_eq!(keys.session_id(), vz_inner.session_id());
        identical(&keys, &vz_inner.session_keys(), |c, v| c.session_id() == v.session_id());
        // the message read through serde starts the session
        let read: OlmMessage = serde_json::from_slice(&serde_json::to_vec(&vz_pre).unwrap()).unwrap();
        let OlmMessage::PreKey(p) = read else { panic!() };
        let mut b = bob
            .create_inbound_session(cc, Curve25519PublicKey::from_bytes(alice.curve25519_key().to_bytes()), &p)
            .unwrap();
        assert_eq!(b.plaintext, b"pre-key");
        identical(&b.session.session_keys(), &s.session_keys(), |c, v| c.session_id() == v.session_id());

        let cd_normal = b.session.encrypt(b"normal");
        let vz_normal = to_vz(&cd_normal);
        identical(&cd_normal, &vz_normal, |c, v| c.to_parts() == v.to_parts());
        let (OlmMessage::Normal(cm), vo::OlmMessage::Normal(vm_)) = (&cd_normal, &vz_normal) else { panic!() };
        identical(cm, vm_, |c, v| c.to_bytes() == v.to_bytes());
        let read: vo::OlmMessage = rmp_serde::from_slice(&rmp_serde::to_vec_named(&cd_normal).unwrap()).unwrap();
        assert_eq!(s.decrypt(&read).unwrap(), b"normal");
    }
}

#[test]
fn olm_message_json_edge_cases_as_vodozemac() {
    let alice = vo::Account::new();
    let mut bob = vo::Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut s = alice.create_outbound_session(vo::SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let pre = s.encrypt("x").unwrap();
    let (_, body) = pre.to_parts();
    let b64 = vodozemac::base64_encode(&body);
    let pad = "=".repeat((4 - b64.len() % 4) % 4);
    let cases = [
        (format!(r#"{{"type":0,"body":"{b64}"}}"#), true),
        (format!(r#"{{"body":"{b64}","type":0,"extra":[1]}}"#), true),
        (format!(r#"{{"type":0,"body":"{b64}{pad}"}}"#), true),
        (format!(r#"{{"type":"0","body":"{b64}"}}"#), false),
        (format!(r#"{{"type":2,"body":"{b64}"}}"#), false),
        (format!(r#"{{"type":1,"body":"{b64}"}}"#), false),
        (format!(r#"{{"type":0,"body":"{b64}==="}}"#), false),
        (format!(r#"{{"type":0,"body":"{}"}}"#, &b64[1..]), false),
        (
            format!(r#"{{"type":0,"body":"{}"}}"#, b64.replace('/', "_").replace('+', "-")),
            b64.find(['/', '+']).is_none(),
        ),
        (r#"{"type":0}"#.to_string(), false),
        (r#"{"type":0,"body":""}"#.to_string(), false),
    ];
    for (json, ok) in cases {
        let cd = serde_json::from_str::<OlmMessage>(&json);
        let vz = serde_json::from_str::<vo::OlmMessage>(&json);
        assert_eq!(cd.is_ok(), ok, "caudata on {json}");
        assert_eq!(vz.is_ok(), ok, "vodozemac on {json}");
    }
    // a partial pad ("…=" where "…==" is canonical) is read as vodozemac reads it
    for cut in 1..=3 {
        let bytes = &body[..body.len() - cut];
        let unpadded = vodozemac::base64_encode(bytes);
        if unpadded.len() % 4 == 2 {
            let json = format!(r#""{unpadded}=""#);
            let cd = serde_json::from_str::<PreKeyMessage>(&json).is_ok();
            let vz = serde_json::from_str::<vo::PreKeyMessage>(&json).is_ok();
            assert_eq!(cd, vz, "{json}");
        }
    }
    // Message and PreKeyMessage read as base64 strings; vodozemac's strings are caudata's
    let (_, normal) = {
        let mut b = bob
            .create_inbound_session(
                vo::SessionConfig::version_1(),
                alice.curve25519_key(),
                match &pre {
                    vo::OlmMessage::PreKey(p) => p,
                    _ => panic!(),
                },
            )
            .unwrap()
            .session;
        b.encrypt("y").unwrap().to_parts()
    };
    let json = serde_json::to_string(&vodozemac::base64_encode(&normal)).unwrap();
    assert!(serde_json::from_str::<Message>(&json).is_ok());
    assert!(serde_json::from_str::<PreKeyMessage>(&json).is_err());
    assert!(serde_json::from_str::<vo::PreKeyMessage>(&json).is_err());
}

#[test]
fn megolm_messages_and_session_keys() {
    for config in [1u8, 2] {
        let (vc, cc) = if config == 2 {
            (vm::SessionConfig::version_2(), caudata::megolm::SessionConfig::version_2())
        } else {
            (vm::SessionConfig::version_1(), caudata::megolm::SessionConfig::version_1())
        };
        let mut out = GroupSession::new(cc);
        let key = out.session_key();
        let m = out.encrypt(b"room message");
        let vz_m = vm::MegolmMessage::from_bytes(&m.to_bytes()).unwrap();
        identical(&m, &vz_m, |c, v| c.to_bytes() == v.to_bytes());

        let vz_key = vm::SessionKey::from_base64(&key.to_base64()).unwrap();
        identical(&key, &vz_key, |c, v| *c.to_base64() == v.to_base64());
        let mut vin = vm::InboundGroupSession::new(&vz_key, vc);
        let read: MegolmMessage = rmp_serde::from_slice(&rmp_serde::to_vec_named(&vz_m).unwrap()).unwrap();
        let mut cin = InboundGroupSession::new(&key, cc);
        assert_eq!(cin.decrypt(&read).unwrap().plaintext, b"room message");
        assert_eq!(vin.decrypt(&vz_m).unwrap().plaintext, b"room message");

        let exported = cin.export_at(1).unwrap();
        let vz_exported = vin.export_at(1).unwrap();
        identical(&exported, &vz_exported, |c, v| *c.to_base64() == v.to_base64());

        // only unpadded base64 is read, by both
        let padded = |s: String| format!("\"{s}{}\"", "=".repeat((4 - s.len() % 4) % 4));
        let p = padded(key.to_base64().to_string());
        assert!(p.contains('='));
        assert!(serde_json::from_str::<SessionKey>(&p).is_err());
        assert!(serde_json::from_str::<vm::SessionKey>(&p).is_err());
        // (165 bytes need no padding: a trailing `=` is refused)
        let p = format!("\"{}=\"", exported.to_base64().as_str());
        assert!(serde_json::from_str::<ExportedSessionKey>(&p).is_err());
        assert!(serde_json::from_str::<vm::ExportedSessionKey>(&p).is_err());
        // a session key whose signature does not verify is refused by both
        let mut bytes = key.to_bytes().to_vec();
        bytes[200] ^= 1;
        let bad = serde_json::to_string(&vodozemac::base64_encode(&bytes)).unwrap();
        assert!(serde_json::from_str::<SessionKey>(&bad).is_err());
        assert!(serde_json::from_str::<vm::SessionKey>(&bad).is_err());
    }
}

// ---------------------------------------------------------------- pickles

/// `ours` (a caudata pickle struct) and `theirs` (vodozemac's) serialize identically.
fn same_bytes<C: Serialize, V: Serialize>(ours: &C, theirs: &V) {
    let (mine, vz) = (encodings(ours), encodings(theirs));
    for f in 0..3 {
        assert_eq!(String::from_utf8_lossy(&mine[f]), String::from_utf8_lossy(&vz[f]), "encoding {f}");
    }
}

/// Reads vodozemac's pickle struct in every encoding; all agree.
fn read_all<C: DeserializeOwned, V: Serialize>(theirs: &V) -> Vec<C> {
    encodings(theirs).iter().enumerate().map(|(f, b)| decode::<C>(f, b).unwrap()).collect()
}

const KEY: [u8; 32] = *b"pickle key for serde interop tst";

#[test]
fn account_pickles_both_ways() {
    let mut vz = vo::Account::new();
    vz.generate_one_time_keys(5);
    vz.generate_fallback_key();
    vz.mark_keys_as_published();
    vz.generate_fallback_key();
    vz.generate_one_time_keys(3);
    for cd in read_all::<cdp::AccountPickle, _>(&vz.pickle()) {
        // caudata writes what vodozemac writes, as plain structs and as encrypted strings
        same_bytes(&cd, &vz.pickle());
        assert_eq!(cd.encrypt(&KEY), vz.pickle().encrypt(&KEY));
        let mut a = Account::from(cd);
        assert_eq!(a.to_vodozemac_pickle(&KEY), vz.pickle().encrypt(&KEY));
        same_bytes(&a.vodozemac_pickle(), &vz.pickle());
        assert_eq!(a.identity_keys().curve25519.to_bytes(), vz.curve25519_key().to_bytes());
        assert_eq!(a.sign(b"x").to_bytes(), vz.sign("x").to_bytes());
        // both go on identically: the same ids for new keys
        let mut vz2 = vo::Account::from_pickle(decode(0, &serde_json::to_vec(&a.vodozemac_pickle()).unwrap()).unwrap());
        a.generate_one_time_keys(2);
        vz2.generate_one_time_keys(2);
        a.generate_fallback_key();
        vz2.generate_fallback_key();
        let ids = |m: std::collections::HashMap<String, String>| {
            let mut v: Vec<_> = m.into_keys().collect();
            v.sort();
            v
        };
        let cd_ids = ids(a.one_time_keys().into_iter().map(|(k, v)| (k.to_base64(), v.to_base64())).collect());
        let vz_ids = ids(vz2.one_time_keys().into_iter().map(|(k, v)| (k.to_base64(), v.to_base64())).collect());
        assert_eq!(cd_ids, vz_ids);
        let cd_fb: Vec<String> = a.fallback_key().keys().map(|k| k.to_base64()).collect();
        let vz_fb: Vec<String> = vz2.fallback_key().keys().map(|k| k.to_base64()).collect();
        assert_eq!(cd_fb, vz_fb);
        assert_eq!(cd_fb, ["AAAAAAAAAAI"]);
    }
    // an account caudata made, read by vodozemac from every encoding, takes a session
    let mut a = Account::new();
    a.generate_one_time_keys(2);
    a.generate_fallback_key();
    let p = a.vodozemac_pickle();
    for (f, bytes) in encodings(&p).iter().enumerate() {
        let vz_pickle: vo::AccountPickle = decode(f, bytes).unwrap();
        let mut b = vo::Account::from_pickle(vz_pickle);
        assert_eq!(b.curve25519_key().to_bytes(), a.curve25519_key().to_bytes());
        let alice = Account::new();
        let otk = *a.one_time_keys().values().next().unwrap();
        let mut s =
            alice.create_outbound_session(caudata::olm::SessionConfig::version_1(), a.curve25519_key(), otk).unwrap();
        let vo::OlmMessage::PreKey(pk) = to_vz(&s.encrypt(b"to vodozemac")) else { panic!() };
        let r =
            b.create_inbound_session(vo::SessionConfig::version_1(), vz_curve(alice.curve25519_key()), &pk).unwrap();
        assert_eq!(r.plaintext, b"to vodozemac");
    }
    assert!(vo::AccountPickle::from_encrypted(&a.to_vodozemac_pickle(&KEY), &KEY).is_ok());
}

/// vodozemac Alice and Bob after a few rounds, some of Alice's messages undelivered.
fn vz_pair(config: vo::SessionConfig) -> (vo::Session, vo::Session, Vec<(String, vo::OlmMessage)>) {
    let alice_acc = vo::Account::new();
    let mut bob_acc = vo::Account::new();
    bob_acc.generate_one_time_keys(1);
    let otk = *bob_acc.one_time_keys().values().next().unwrap();
    let mut alice = alice_acc.create_outbound_session(config, bob_acc.curve25519_key(), otk).unwrap();
    let vo::OlmMessage::PreKey(pk) = alice.encrypt("hello").unwrap() else { panic!() };
    let mut bob = bob_acc.create_inbound_session(config, alice_acc.curve25519_key(), &pk).unwrap().session;
    let mut pending = Vec::new();
    for round in 0..3 {
        alice.decrypt(&bob.encrypt(format!("b{round}")).unwrap()).unwrap();
        let burst: Vec<_> =
            (0..3).map(|i| (format!("a{round}.{i}"), alice.encrypt(format!("a{round}.{i}")).unwrap())).collect();
        assert_eq!(bob.decrypt(&burst[2].1).unwrap(), burst[2].0.as_bytes());
        if round > 0 {
            pending.extend(burst.into_iter().take(2));
        }
    }
    (alice, bob, pending)
}

#[test]
fn session_pickles_both_ways() {
    for config in [vo::SessionConfig::version_1(), vo::SessionConfig::version_2()] {
        // every encoding, with a pair of its own (copies of one state would diverge)
        for (bob_sent_last, f) in [false, true].into_iter().flat_map(|b| (0..3).map(move |f| (b, f))) {
            let (mut alice, mut bob, pending) = vz_pair(config);
            if bob_sent_last {
                alice.decrypt(&bob.encrypt("bob sends").unwrap()).unwrap();
            }
            {
                let mut cd: cdp::SessionPickle = decode(f, &encodings(&bob.pickle())[f]).unwrap();
                // vodozemac reads what caudata writes, and writes it back unchanged
                for (g, bytes) in encodings(&cd).iter().enumerate() {
                    let back: vo::SessionPickle = decode(g, bytes).unwrap();
                    assert_eq!(&encodings(&back)[g], bytes);
                }
                let vz_copy = vo::Session::from_pickle(decode(0, &serde_json::to_vec(&cd).unwrap()).unwrap());
                assert_eq!(vz_copy.session_id(), bob.session_id());
                let mut s = Session::from(cd);
                assert_eq!(s.session_id(), bob.session_id());
                assert_eq!(s.session_config().version(), config.version());
                // the skipped keys came across
                for (pt, m) in &pending {
                    assert_eq!(s.decrypt(&from_vz(m)).unwrap(), pt.as_bytes());
                }
                // the conversation goes on with vodozemac's Alice, from caudata and from the
                // vodozemac copy of caudata's pickle
                let m = s.encrypt(b"from caudata");
                assert_eq!(alice.decrypt(&to_vz(&m)).unwrap(), b"from caudata");
                let m = alice.encrypt("to caudata").unwrap();
                assert_eq!(s.decrypt(&from_vz(&m)).unwrap(), b"to caudata");
                cd = s.vodozemac_pickle();
                let mut v = vo::Session::from_pickle(decode(1, &rmp_serde::to_vec_named(&cd).unwrap()).unwrap());
                let m = v.encrypt("from the vodozemac copy").unwrap();
                assert_eq!(alice.decrypt(&m).unwrap(), b"from the vodozemac copy");
                let m = alice.encrypt("to the vodozemac copy").unwrap();
                assert_eq!(v.decrypt(&m).unwrap(), b"to the vodozemac copy");
                // and the encrypted string
                let json = serde_json::to_string(&cd).unwrap();
                let text = Session::from(cd).to_vodozemac_pickle(&KEY);
                let plain = caudata::fuzzing::libolm_pickle_decrypt(&text, &KEY).unwrap();
                assert_eq!(String::from_utf8(plain).unwrap(), json, "the JSON writer agrees with serde_json");
                // (the same state as `v`, which already went on: compared as a pickle)
                let v = vo::SessionPickle::from_encrypted(&text, &KEY).unwrap();
                assert_eq!(serde_json::to_string(&v).unwrap(), json);
            }
        }
    }
}

#[test]
fn megolm_pickles_both_ways() {
    for config in [vm::SessionConfig::version_1(), vm::SessionConfig::version_2()] {
        let mut vz = vm::GroupSession::new(config);
        let mut vin = vm::InboundGroupSession::new(&vz.session_key(), config);
        for i in 0..3 {
            vin.decrypt(&vz.encrypt(format!("m{i}"))).unwrap();
        }
        for cd in read_all::<cdp::GroupSessionPickle, _>(&vz.pickle()) {
            same_bytes(&cd, &vz.pickle());
            assert_eq!(cd.encrypt(&KEY), vz.pickle().encrypt(&KEY));
            let mut g = GroupSession::from(cd);
            let mut copy = vm::GroupSession::from_pickle(vz.pickle());
            assert_eq!(g.encrypt("n").to_bytes(), copy.encrypt("n").to_bytes());
        }
        for cd in read_all::<cdp::InboundGroupSessionPickle, _>(&vin.pickle()) {
            same_bytes(&cd, &vin.pickle());
            assert_eq!(cd.encrypt(&KEY), vin.pickle().encrypt(&KEY));
            let mut s = InboundGroupSession::from(cd);
            let m = vz.encrypt("late");
            assert_eq!(s.decrypt(&MegolmMessage::from_bytes(&m.to_bytes()).unwrap()).unwrap().plaintext, b"late");
            // vodozemac's InboundGroupSession deserializes from the pickle; so does caudata's
            let direct: InboundGroupSession =
                serde_json::from_slice(&serde_json::to_vec(&vin.pickle()).unwrap()).unwrap();
            assert_eq!(direct.session_id(), vin.session_id());
            // caudata's pickle, read by vodozemac after caudata decrypted further, still
            // starts at the first known index (vodozemac keeps no latest ratchet)
            let back: vm::InboundGroupSessionPickle =
                rmp_serde::from_slice(&rmp_serde::to_vec_named(&s.vodozemac_pickle()).unwrap()).unwrap();
            let mut v = vm::InboundGroupSession::from_pickle(back);
            assert_eq!(v.first_known_index(), 0);
            assert_eq!(v.decrypt(&m).unwrap().plaintext, b"late");
        }
    }
}

#[test]
fn inbound_group_session_advance_to_as_vodozemac() {
    let mut out = vm::GroupSession::new(vm::SessionConfig::version_1());
    let key = out.session_key();
    let mut vin = vm::InboundGroupSession::new(&key, vm::SessionConfig::version_1());
    let mut cin = InboundGroupSession::new(
        &SessionKey::from_base64(&key.to_base64()).unwrap(),
        caudata::megolm::SessionConfig::version_1(),
    );
    let ms: Vec<_> = (0..10).map(|i| out.encrypt(format!("{i}"))).collect();
    assert_eq!(cin.decrypt(&MegolmMessage::from_bytes(&ms[7].to_bytes()).unwrap()).unwrap().message_index, 7);
    vin.decrypt(&ms[7]).unwrap();
    for (to, expected) in [(0u32, false), (3, true), (3, false), (2, false), (9, true)] {
        assert_eq!(cin.advance_to(to), expected, "advance_to({to})");
        assert_eq!(vin.advance_to(to), expected, "vodozemac advance_to({to})");
        assert_eq!(cin.first_known_index(), vin.first_known_index());
        assert_eq!(*cin.export_at_first_known_index().to_base64(), vin.export_at_first_known_index().to_base64());
    }
    for (i, m) in ms.iter().enumerate() {
        let cd = cin.decrypt(&MegolmMessage::from_bytes(&m.to_bytes()).unwrap()).is_ok();
        assert_eq!(cd, vin.decrypt(m).is_ok(), "message {i}");
        assert_eq!(cd, i >= 9);
    }
}

/// Bad serde input is a clear error in both formats, never a panic, and never an object:
/// small-order keys, too many chains or skipped keys, indices beyond 32 bits, wrong lengths,
/// truncations.
#[test]
fn bad_pickle_input_is_a_clear_error() {
    let (_, bob, _) = vz_pair(vo::SessionConfig::version_1());
    let good = serde_json::to_value(bob.pickle()).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "non-contributory",
            Box::new(|v| v["receiving_chains"]["inner"][0]["ratchet_key"] = serde_json::json!(vec![0u8; 32])),
        ),
        (
            "non-contributory",
            Box::new(|v| {
                v["session_keys"]["base_key"] =
                    serde_json::json!([1u8].iter().chain([0u8; 31].iter()).collect::<Vec<_>>())
            }),
        ),
        (
            "no more than 5",
            Box::new(|v| {
                let c = v["receiving_chains"]["inner"][0].clone();
                v["receiving_chains"]["inner"] = serde_json::Value::Array(vec![c; 6]);
            }),
        ),
        (
            "no more than 40",
            Box::new(|v| {
                let k = serde_json::json!({"key": vec![7u8; 32], "index": 1});
                v["receiving_chains"]["inner"][0]["skipped_message_keys"]["inner"] =
                    serde_json::Value::Array(vec![k; 41]);
            }),
        ),
        (
            "receiving chain key",
            Box::new(|v| v["receiving_chains"]["inner"][0]["hkdf_ratchet"]["index"] = (1u64 << 32).into()),
        ),
        (
            "invalid length",
            Box::new(|v| v["receiving_chains"]["inner"][0]["hkdf_ratchet"]["key"] = serde_json::json!(vec![1u8; 31])),
        ),
        ("type", Box::new(|v| v["sending_ratchet"].as_object_mut().unwrap().remove("type").map(drop).unwrap())),
    ];
    for (expect, edit) in edits {
        let mut v = good.clone();
        edit(&mut v);
        let e = serde_json::from_value::<cdp::SessionPickle>(v.clone()).unwrap_err().to_string();
        assert!(e.contains(expect), "{expect}: {e}");
        let mp = rmp_serde::to_vec_named(&v).unwrap();
        let e = rmp_serde::from_slice::<cdp::SessionPickle>(&mp).unwrap_err().to_string();
        assert!(e.contains(expect), "{expect} (MessagePack): {e}");
    }
    // every truncation of every pickle in MessagePack is an error, not a panic
    let all = [
        rmp_serde::to_vec_named(&bob.pickle()).unwrap(),
        rmp_serde::to_vec_named(&vo::Account::new().pickle()).unwrap(),
        rmp_serde::to_vec_named(&vm::GroupSession::new(vm::SessionConfig::version_1()).pickle()).unwrap(),
    ];
    for bytes in &all {
        for cut in 0..bytes.len() {
            assert!(rmp_serde::from_slice::<cdp::SessionPickle>(&bytes[..cut]).is_err());
            assert!(rmp_serde::from_slice::<cdp::AccountPickle>(&bytes[..cut]).is_err());
            assert!(rmp_serde::from_slice::<cdp::GroupSessionPickle>(&bytes[..cut]).is_err());
        }
    }
}
