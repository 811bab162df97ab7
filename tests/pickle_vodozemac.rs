//! vodozemac import: pickles written by the vodozemac crate (0.11.1) for all four objects,
//! imported into caudata, and the conversation continued with vodozemac live: Olm both ways
//! (including messages that need the imported skipped keys), Megolm decryption of vodozemac's
//! next messages (and, for the outbound session, byte-identical messages).
//! Also measures pickle sizes against vodozemac's (printed with `--nocapture`).

// Test code: a failed unwrap, expect or panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use caudata::PickleError;
use caudata::megolm::{GroupSession, InboundGroupSession, MegolmMessage};
use caudata::olm::{Account, OlmMessage, Session, SessionConfig};
use vodozemac::megolm as vm;
use vodozemac::olm as vo;

mod common;

const KEY: [u8; 32] = *b"a 32-byte vodozemac pickle key!!";

fn to_vz(m: &OlmMessage) -> vo::OlmMessage {
    let (t, b) = m.to_parts();
    vo::OlmMessage::from_parts(t, &b).unwrap()
}

fn from_vz(m: &vo::OlmMessage) -> OlmMessage {
    let (t, b) = m.to_parts();
    OlmMessage::from_parts(t, &b).unwrap()
}

fn vz_curve(k: caudata::Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(k.to_bytes())
}

fn cd_curve(k: vodozemac::Curve25519PublicKey) -> caudata::Curve25519PublicKey {
    caudata::Curve25519PublicKey::from_bytes(k.to_bytes())
}

fn vz_olm_config(v: u8) -> vo::SessionConfig {
    if v == 2 { vo::SessionConfig::version_2() } else { vo::SessionConfig::version_1() }
}

fn vz_megolm_config(v: u8) -> vm::SessionConfig {
    if v == 2 { vm::SessionConfig::version_2() } else { vm::SessionConfig::version_1() }
}

/// A vodozemac sender opens a session to `to`'s key `key`; `to` decrypts, answers, and the
/// answer decrypts in vodozemac.
fn vz_opens_session_to(to: &mut Account, key: caudata::Curve25519PublicKey) {
    let alice = vo::Account::new();
    let mut s = alice
        .create_outbound_session(vo::SessionConfig::version_1(), vz_curve(to.curve25519_key()), vz_curve(key))
        .unwrap();
    let OlmMessage::PreKey(pk) = from_vz(&s.encrypt("to the imported account").unwrap()) else { panic!() };
    let r = to.create_inbound_session(SessionConfig::version_1(), cd_curve(alice.curve25519_key()), &pk).unwrap();
    assert_eq!(r.plaintext, b"to the imported account");
    let mut mine = r.session;
    assert_eq!(s.decrypt(&to_vz(&mine.encrypt(b"answer"))).unwrap(), b"answer");
}

#[test]
fn account_imported_keys_signatures_and_sessions() {
    let mut vz = vo::Account::new();
    vz.generate_one_time_keys(3);
    vz.generate_fallback_key();
    let first_fallback = cd_curve(*vz.fallback_key().values().next().unwrap());
    vz.mark_keys_as_published();
    vz.generate_fallback_key();
    vz.generate_one_time_keys(4);
    let pickle = vz.pickle().encrypt(&KEY);
    let mut a = Account::from_vodozemac_pickle(&pickle, &KEY).unwrap();

    assert_eq!(a.curve25519_key().to_bytes(), vz.curve25519_key().to_bytes());
    assert_eq!(a.ed25519_key().as_bytes(), vz.ed25519_key().as_bytes());
    for msg in ["", "{\"algorithms\":[]}"] {
        assert_eq!(a.sign(msg).to_base64(), vz.sign(msg).to_base64());
    }
    let theirs: HashMap<String, String> =
        vz.one_time_keys().into_iter().map(|(id, k)| (id.to_base64(), k.to_base64())).collect();
    let mine: HashMap<String, String> =
        a.one_time_keys().into_iter().map(|(id, k)| (id.to_base64(), k.to_base64())).collect();
    assert_eq!(mine, theirs);
    assert_eq!(a.stored_one_time_key_count(), 7);
    let theirs: HashMap<String, String> =
        vz.fallback_key().into_iter().map(|(id, k)| (id.to_base64(), k.to_base64())).collect();
    let mine: HashMap<String, String> =
        a.fallback_key().into_iter().map(|(id, k)| (id.to_base64(), k.to_base64())).collect();
    assert_eq!(mine, theirs);

    // sessions to an unpublished and (through the same account's keys) the fallback keys
    let otk = *a.one_time_keys().values().next().unwrap();
    vz_opens_session_to(&mut a, otk);
    assert_eq!(a.stored_one_time_key_count(), 6);
    let fb = *a.fallback_key().values().next().unwrap();
    vz_opens_session_to(&mut a, fb);
    vz_opens_session_to(&mut a, fb);
    // caudata's next key id continues above both of vodozemac's counters
    let created = a.generate_one_time_keys(1).created[0];
    let (id, _) = a.one_time_keys().into_iter().find(|(_, k)| *k == created).unwrap();
    assert_eq!(id.0, 7);
    // the previous fallback key still works after import, and is forgotten on request
    vz_opens_session_to(&mut a, first_fallback);
    assert!(a.forget_fallback_key());
    let alice = vo::Account::new();
    let mut s = alice
        .create_outbound_session(vo::SessionConfig::version_1(), vz_curve(a.curve25519_key()), vz_curve(first_fallback))
        .unwrap();
    let OlmMessage::PreKey(pk) = from_vz(&s.encrypt("late").unwrap()) else { panic!() };
    assert!(a.create_inbound_session(SessionConfig::version_1(), cd_curve(alice.curve25519_key()), &pk).is_err());
}

#[test]
fn account_with_an_expanded_key_signs_like_libolm() {
    // vodozemac's account imported from libolm keeps only the expanded Ed25519 key and pickles
    // it as {"Expanded": [...]}
    let v: serde_json::Value = serde_json::from_str(include_str!("../test-vectors/libolm/pickles.json")).unwrap();
    let p = &v["pickles"]["account_rich"];
    let key = hex::decode(p["pickle_key_hex"].as_str().unwrap()).unwrap();
    let vz = vo::Account::from_libolm_pickle(p["pickle"].as_str().unwrap(), &key).unwrap();
    let json = serde_json::to_string(&vz.pickle()).unwrap();
    assert!(json.contains("\"Expanded\""));
    let a = Account::from_vodozemac_pickle(&vz.pickle().encrypt(&KEY), &KEY).unwrap();
    let from_libolm = Account::from_libolm_pickle(p["pickle"].as_str().unwrap(), &key).unwrap();
    assert_eq!(a.identity_keys(), from_libolm.identity_keys());
    assert_eq!(a.sign(b"m").to_bytes(), from_libolm.sign(b"m").to_bytes());
    assert_eq!(a.sign(b"m").to_base64(), vz.sign("m").to_base64());
    // and it goes on to libolm unchanged
    assert_eq!(a.to_libolm_pickle(&key).unwrap(), from_libolm.to_libolm_pickle(&key).unwrap());
}

/// vodozemac Alice and Bob with a few rounds behind them, some of Alice's messages still
/// undelivered to Bob on two chains.
fn vz_pair(config: u8) -> (vo::Session, vo::Session, Vec<(String, vo::OlmMessage)>) {
    let alice_acc = vo::Account::new();
    let mut bob_acc = vo::Account::new();
    bob_acc.generate_one_time_keys(1);
    let otk = *bob_acc.one_time_keys().values().next().unwrap();
    let mut alice = alice_acc.create_outbound_session(vz_olm_config(config), bob_acc.curve25519_key(), otk).unwrap();
    let vo::OlmMessage::PreKey(pk) = alice.encrypt("hello").unwrap() else { panic!() };
    let mut bob =
        bob_acc.create_inbound_session(vz_olm_config(config), alice_acc.curve25519_key(), &pk).unwrap().session;
    let mut pending = Vec::new();
    for round in 0..3 {
        let m = bob.encrypt(format!("b{round}")).unwrap();
        alice.decrypt(&m).unwrap();
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
fn session_imported_continues_both_ways() {
    for config in [1u8, 2] {
        // Bob's session in the "inactive" state (he last received on a new chain)
        let (mut alice, bob, pending) = vz_pair(config);
        let mut cd = Session::from_vodozemac_pickle(&bob.pickle().encrypt(&KEY), &KEY).unwrap();
        assert_eq!(cd.session_id(), bob.session_id());
        assert_eq!(cd.session_config().version(), config);
        for (pt, m) in &pending {
            assert_eq!(cd.decrypt(&from_vz(m)).unwrap(), pt.as_bytes(), "skipped key from vodozemac");
        }
        for round in 0..4 {
            let m = cd.encrypt(format!("caudata{round}"));
            assert_eq!(alice.decrypt(&to_vz(&m)).unwrap(), format!("caudata{round}").as_bytes());
            let m = alice.encrypt(format!("vz{round}")).unwrap();
            assert_eq!(cd.decrypt(&from_vz(&m)).unwrap(), format!("vz{round}").as_bytes());
        }

        // Bob's session in the "active" state (he sent last): his next message continues his
        // chain, and vodozemac's Bob would have produced a message on the same chain index
        let (mut alice, mut bob, _) = vz_pair(config);
        let sent = bob.encrypt("bob sends").unwrap();
        alice.decrypt(&sent).unwrap();
        let mut cd = Session::from_vodozemac_pickle(&bob.pickle().encrypt(&KEY), &KEY).unwrap();
        let next_vz = from_vz(&bob.encrypt("next").unwrap());
        let next_cd = cd.encrypt(b"next");
        let (OlmMessage::Normal(a), OlmMessage::Normal(b)) = (&next_vz, &next_cd) else { panic!() };
        assert_eq!((a.ratchet_key(), a.chain_index()), (b.ratchet_key(), b.chain_index()));
        assert_eq!(next_vz.to_bytes(), next_cd.to_bytes(), "same chain key: same message");
        assert_eq!(alice.decrypt(&to_vz(&next_cd)).unwrap(), b"next");
        let m = alice.encrypt("to caudata").unwrap();
        assert_eq!(cd.decrypt(&from_vz(&m)).unwrap(), b"to caudata");

        // Alice's outbound session before any answer: still pre-key messages
        let alice_acc = vo::Account::new();
        let mut bob_acc = vo::Account::new();
        bob_acc.generate_one_time_keys(1);
        let otk = *bob_acc.one_time_keys().values().next().unwrap();
        let mut out = alice_acc.create_outbound_session(vz_olm_config(config), bob_acc.curve25519_key(), otk).unwrap();
        let first = out.encrypt("first").unwrap();
        let mut cd = Session::from_vodozemac_pickle(&out.pickle().encrypt(&KEY), &KEY).unwrap();
        assert!(!cd.has_received_message());
        let second = cd.encrypt(b"second");
        assert!(matches!(second, OlmMessage::PreKey(_)));
        let vo::OlmMessage::PreKey(pk) = first else { panic!() };
        let mut b =
            bob_acc.create_inbound_session(vz_olm_config(config), alice_acc.curve25519_key(), &pk).unwrap().session;
        assert_eq!(b.decrypt(&to_vz(&second)).unwrap(), b"second");
        assert_eq!(cd.decrypt(&from_vz(&b.encrypt("back").unwrap())).unwrap(), b"back");
    }
}

#[test]
fn group_session_imported_encrypts_identically() {
    for config in [1u8, 2] {
        let mut vz = vm::GroupSession::new(vz_megolm_config(config));
        let mut vin = vm::InboundGroupSession::new(&vz.session_key(), vz_megolm_config(config));
        for i in 0..3 {
            vin.decrypt(&vz.encrypt(format!("m{i}"))).unwrap();
        }
        let mut cd = GroupSession::from_vodozemac_pickle(&vz.pickle().encrypt(&KEY), &KEY).unwrap();
        assert_eq!(cd.session_id(), vz.session_id());
        assert_eq!(cd.message_index(), 3);
        assert_eq!(cd.session_config().version(), config);
        for i in 3..6 {
            let theirs = vz.encrypt(format!("n{i}"));
            let mine = cd.encrypt(format!("n{i}"));
            assert_eq!(mine.to_bytes(), theirs.to_bytes());
            let d = vin.decrypt(&vm::MegolmMessage::from_bytes(&mine.to_bytes()).unwrap()).unwrap();
            assert_eq!(d.message_index, i);
        }
    }
}

#[test]
fn inbound_group_session_imported_decrypts_vodozemacs_messages() {
    for config in [1u8, 2] {
        let mut out = vm::GroupSession::new(vz_megolm_config(config));
        let mut vin = vm::InboundGroupSession::new(&out.session_key(), vz_megolm_config(config));
        let early: Vec<_> = (0..4).map(|i| out.encrypt(format!("e{i}"))).collect();
        vin.decrypt(&early[3]).unwrap();
        let mut cd = InboundGroupSession::from_vodozemac_pickle(&vin.pickle().encrypt(&KEY), &KEY).unwrap();
        assert!(cd.signing_key_verified());
        assert_eq!(cd.first_known_index(), 0);
        assert_eq!(cd.session_config().version(), config);
        for (i, m) in early.iter().enumerate() {
            let d = cd.decrypt(&MegolmMessage::from_bytes(&m.to_bytes()).unwrap()).unwrap();
            assert_eq!((d.plaintext, d.message_index), (format!("e{i}").into_bytes(), i as u32));
        }
        for i in 4..40u32 {
            let m = out.encrypt(format!("l{i}"));
            if i % 7 == 0 {
                let d = cd.decrypt(&MegolmMessage::from_bytes(&m.to_bytes()).unwrap()).unwrap();
                assert_eq!(d.message_index, i);
            }
        }
        // an unverified (imported) vodozemac session keeps its flag and first index
        let exported = vin.export_at(2).unwrap();
        let imported = vm::InboundGroupSession::import(&exported, vz_megolm_config(config));
        let cd = InboundGroupSession::from_vodozemac_pickle(&imported.pickle().encrypt(&KEY), &KEY).unwrap();
        assert!(!cd.signing_key_verified());
        assert_eq!(cd.first_known_index(), 2);
    }
}

#[test]
fn wrong_key_wrong_object_and_damage_are_errors() {
    let mut vz = vo::Account::new();
    vz.generate_one_time_keys(2);
    let pickle = vz.pickle().encrypt(&KEY);
    assert_eq!(Account::from_vodozemac_pickle(&pickle, &[0; 32]).unwrap_err(), PickleError::Authentication);
    // a group session's pickle given to the other importers
    let g = vm::GroupSession::new(vm::SessionConfig::version_1()).pickle().encrypt(&KEY);
    assert!(matches!(Account::from_vodozemac_pickle(&g, &KEY), Err(PickleError::MissingField(_))));
    assert!(matches!(Session::from_vodozemac_pickle(&g, &KEY), Err(PickleError::MissingField(_))));
    assert!(matches!(InboundGroupSession::from_vodozemac_pickle(&g, &KEY), Err(PickleError::MissingField(_))));
    // every truncation and every flipped character is refused
    for cut in [1, 2, 10, pickle.len() / 2, pickle.len() - 1] {
        assert!(Account::from_vodozemac_pickle(&pickle[..cut], &KEY).is_err());
    }
    let bytes = pickle.as_bytes();
    for i in (0..bytes.len()).step_by(7) {
        let mut b = bytes.to_vec();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        assert!(Account::from_vodozemac_pickle(std::str::from_utf8(&b).unwrap(), &KEY).is_err(), "flip at {i}");
    }
}

/// Sizes of an account with 50 one-time keys and a session with 40 skipped keys, in caudata's
/// format and in vodozemac's (encrypted text, as stored), and libolm's for reference.
#[test]
fn pickle_sizes_against_vodozemac() {
    let mut vz = vo::Account::new();
    vz.generate_one_time_keys(50);
    let vz_account = vz.pickle().encrypt(&KEY);
    let vz_json = serde_json::to_vec(&vz.pickle()).unwrap().len();
    let a = Account::from_vodozemac_pickle(&vz_account, &KEY).unwrap();
    let cd_account = a.pickle().encrypt(&KEY);
    let cd_plain = a.pickle().to_unencrypted_bytes().len();
    let lo_account = a.to_libolm_pickle(&KEY).unwrap();

    let alice_acc = vo::Account::new();
    let mut bob_acc = vo::Account::new();
    bob_acc.generate_one_time_keys(1);
    let otk = *bob_acc.one_time_keys().values().next().unwrap();
    let mut alice =
        alice_acc.create_outbound_session(vo::SessionConfig::version_1(), bob_acc.curve25519_key(), otk).unwrap();
    let vo::OlmMessage::PreKey(pk) = alice.encrypt("hi").unwrap() else { panic!() };
    let mut bob = bob_acc
        .create_inbound_session(vo::SessionConfig::version_1(), alice_acc.curve25519_key(), &pk)
        .unwrap()
        .session;
    let ms: Vec<_> = (0..41).map(|i| alice.encrypt(format!("{i}")).unwrap()).collect();
    bob.decrypt(&ms[40]).unwrap();
    let vz_session = bob.pickle().encrypt(&KEY);
    let vz_sjson = serde_json::to_vec(&bob.pickle()).unwrap().len();
    let s = Session::from_vodozemac_pickle(&vz_session, &KEY).unwrap();
    let cd_session = s.pickle().encrypt(&KEY);
    let cd_splain = s.pickle().to_unencrypted_bytes().len();
    let lo_session = s.to_libolm_pickle(&KEY).unwrap();
    // the imported state holds the 40 skipped keys
    let mut s = s;
    for (i, m) in ms.iter().take(40).enumerate() {
        assert_eq!(s.decrypt(&from_vz(m)).unwrap(), format!("{i}").as_bytes());
    }

    eprintln!(
        "account, 50 one-time keys: caudata {} chars encrypted ({cd_plain} bytes unencrypted), vodozemac {} chars ({vz_json} bytes of JSON), libolm {} chars",
        cd_account.len(),
        vz_account.len(),
        lo_account.len()
    );
    eprintln!(
        "session, 40 skipped keys:  caudata {} chars encrypted ({cd_splain} bytes unencrypted), vodozemac {} chars ({vz_sjson} bytes of JSON), libolm {} chars",
        cd_session.len(),
        vz_session.len(),
        lo_session.len()
    );
    assert!(cd_account.len() * 3 < vz_account.len());
    assert!(cd_session.len() * 3 < vz_session.len());
}

/// vodozemac's pickle cipher (libolm's), for JSON that vodozemac itself would not write.
fn encrypt_json(v: &serde_json::Value) -> String {
    use base64ct::{Base64Unpadded, Encoding};
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    use hmac::{Hmac, KeyInit, Mac};
    let raw = serde_json::to_vec(v).unwrap();
    let mut okm = [0u8; 80];
    hkdf::Hkdf::<sha2::Sha256>::new(None, &KEY).expand(b"Pickle", &mut okm).unwrap();
    let aes_key: [u8; 32] = okm[..32].try_into().unwrap();
    let iv: [u8; 16] = okm[64..].try_into().unwrap();
    let mut ct = cbc::Encryptor::<aes::Aes256>::new((&aes_key).into(), (&iv).into()).encrypt_padded_vec::<Pkcs7>(&raw);
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&okm[32..64]).unwrap();
    mac.update(&ct);
    ct.extend_from_slice(&mac.finalize().into_bytes()[..8]);
    Base64Unpadded::encode_string(&ct)
}

#[test]
fn crafted_json_edge_cases_are_refused() {
    use serde_json::Value;
    let mut vz = vo::Account::new();
    vz.generate_one_time_keys(2);
    let account: Value = serde_json::to_value(vz.pickle()).unwrap();
    // our helper cipher agrees with vodozemac's
    assert!(Account::from_vodozemac_pickle(&encrypt_json(&account), &KEY).is_ok());
    let first_id = account["one_time_keys"]["private_keys"].as_object().unwrap().keys().next().unwrap().clone();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = account.clone();
        f(&mut v);
        Account::from_vodozemac_pickle(&encrypt_json(&v), &KEY).map(drop).unwrap_err()
    };
    // a key id with no next id
    let e = edit(&|v| {
        let k = v["one_time_keys"]["private_keys"].as_object_mut().unwrap().remove(&first_id).unwrap();
        v["one_time_keys"]["private_keys"]["18446744073709551615"] = k;
        v["one_time_keys"]["public_keys"].as_object_mut().unwrap().remove(&first_id);
    });
    assert_eq!(e, PickleError::InvalidField("key id (no next id)"));
    // a public key without its secret key, and one that does not match it
    let e = edit(&|v| {
        v["one_time_keys"]["private_keys"].as_object_mut().unwrap().remove(&first_id);
    });
    assert_eq!(e, PickleError::InvalidField("one-time public key without a secret key"));
    // (a changed byte: setting a fixed value would leave the key as it was one time in 256)
    let e = edit(&|v| {
        let b = &mut v["one_time_keys"]["public_keys"][&first_id][0];
        *b = (b.as_u64().unwrap() ^ 1).into();
    });
    assert!(matches!(e, PickleError::KeyMismatch(_) | PickleError::InvalidField(_)), "{e}");
    // ids that are not canonical decimal numbers, bytes out of range, missing fields
    let e = edit(&|v| {
        let k = v["one_time_keys"]["private_keys"].as_object_mut().unwrap().remove(&first_id).unwrap();
        v["one_time_keys"]["private_keys"]["01"] = k;
    });
    assert_eq!(e, PickleError::InvalidField("one-time key id"));
    assert_eq!(edit(&|v| v["diffie_hellman_key"][3] = 256.into()), PickleError::InvalidField("diffie_hellman_key"));
    assert_eq!(
        edit(&|v| v["signing_key"] = serde_json::json!({"Other": []})),
        PickleError::MissingField("signing_key")
    );
    // 5 001 one-time keys (vodozemac keeps 5 000)
    let e = edit(&|v| {
        let k = v["one_time_keys"]["private_keys"][&first_id].clone();
        for i in 10_000..14_999 {
            v["one_time_keys"]["private_keys"][i.to_string()] = k.clone();
        }
    });
    assert!(matches!(e, PickleError::TooMany { field: "one-time keys", got: 5_001, max: 5_000 }), "{e}");

    // sessions: an inactive ratchet that does not answer the newest chain, 6 chains, an index
    // beyond 32 bits, an unknown ratchet type
    let alice_acc = vo::Account::new();
    let mut bob_acc = vo::Account::new();
    bob_acc.generate_one_time_keys(1);
    let otk = *bob_acc.one_time_keys().values().next().unwrap();
    let mut alice =
        alice_acc.create_outbound_session(vo::SessionConfig::version_1(), bob_acc.curve25519_key(), otk).unwrap();
    let vo::OlmMessage::PreKey(pk) = alice.encrypt("x").unwrap() else { panic!() };
    let bob = bob_acc
        .create_inbound_session(vo::SessionConfig::version_1(), alice_acc.curve25519_key(), &pk)
        .unwrap()
        .session;
    let session: Value = serde_json::to_value(bob.pickle()).unwrap();
    assert_eq!(session["sending_ratchet"]["type"], "inactive");
    assert!(Session::from_vodozemac_pickle(&encrypt_json(&session), &KEY).is_ok());
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = session.clone();
        f(&mut v);
        Session::from_vodozemac_pickle(&encrypt_json(&v), &KEY).map(drop).unwrap_err()
    };
    // (a changed byte: a key whose first byte is already 0 would be left as it was)
    let e = edit(&|v| {
        let b = &mut v["sending_ratchet"]["ratchet_key"][0];
        *b = (b.as_u64().unwrap() ^ 1).into();
    });
    assert!(matches!(e, PickleError::InvalidField(_)), "{e}");
    let e = edit(&|v| {
        let c = v["receiving_chains"]["inner"][0].clone();
        v["receiving_chains"]["inner"] = Value::Array(vec![c; 6]);
    });
    assert!(matches!(e, PickleError::TooMany { field: "receiving chains", got: 6, max: 5 }));
    let e = edit(&|v| v["receiving_chains"]["inner"][0]["hkdf_ratchet"]["index"] = (1u64 << 32).into());
    assert_eq!(e, PickleError::InvalidField("receiving chain key"));
    assert_eq!(
        edit(&|v| v["sending_ratchet"]["type"] = "dormant".into()),
        PickleError::InvalidField("sending_ratchet.type")
    );
    assert_eq!(edit(&|v| v["config"]["version"] = "V3".into()), PickleError::InvalidField("config.version"));
    // an all-zero ratchet key on the only chain: refused (nothing could answer it)
    let e = edit(&|v| {
        let zero = Value::Array(vec![0.into(); 32]);
        v["receiving_chains"]["inner"][0]["ratchet_key"] = zero.clone();
        v["sending_ratchet"]["ratchet_key"] = zero;
    });
    assert_eq!(e, PickleError::Key(caudata::KeyError::NonContributory));
    // missing optional fields take vodozemac's defaults (older vodozemac versions)
    let mut v = session.clone();
    v.as_object_mut().unwrap().remove("config");
    v["sending_ratchet"].as_object_mut().unwrap().remove("ratchet_count");
    v["receiving_chains"]["inner"][0].as_object_mut().unwrap().remove("ratchet_count");
    assert_eq!(Session::from_vodozemac_pickle(&encrypt_json(&v), &KEY).unwrap().session_config().version(), 1);
}

#[test]
fn libolm_export_is_a_path_to_vodozemac() {
    // caudata -> libolm pickle -> vodozemac's own libolm import, then the conversation goes on
    let mut bob = Account::new();
    bob.generate_one_time_keys(2);
    bob.generate_fallback_key();
    let vz_bob = vo::Account::from_libolm_pickle(&bob.to_libolm_pickle(b"move").unwrap(), b"move").unwrap();
    assert_eq!(vz_bob.curve25519_key().to_bytes(), bob.curve25519_key().to_bytes());
    assert_eq!(vz_bob.sign("x").to_base64(), bob.sign(b"x").to_base64());
    assert_eq!(vz_bob.one_time_keys().len(), 2);

    let alice_acc = Account::new();
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut alice = alice_acc.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let OlmMessage::PreKey(pk) = alice.encrypt(b"hi") else { panic!() };
    let mut b =
        bob.create_inbound_session(SessionConfig::version_1(), alice_acc.curve25519_key(), &pk).unwrap().session;
    alice.decrypt(&b.encrypt(b"hello")).unwrap();
    let mut vz_b = vo::Session::from_libolm_pickle(&b.to_libolm_pickle(b"").unwrap(), b"").unwrap();
    for i in 0..3 {
        let m = alice.encrypt(format!("a{i}"));
        assert_eq!(vz_b.decrypt(&to_vz(&m)).unwrap(), format!("a{i}").as_bytes());
        let m = vz_b.encrypt(format!("b{i}")).unwrap();
        assert_eq!(alice.decrypt(&from_vz(&m)).unwrap(), format!("b{i}").as_bytes());
    }

    let mut g = GroupSession::new(caudata::megolm::SessionConfig::version_1());
    let mut i = InboundGroupSession::new(&g.session_key(), caudata::megolm::SessionConfig::version_1());
    let mut vz_g = vm::GroupSession::from_libolm_pickle(&g.to_libolm_pickle(b"").unwrap(), b"").unwrap();
    let mut vz_i = vm::InboundGroupSession::from_libolm_pickle(&i.to_libolm_pickle(b"").unwrap(), b"").unwrap();
    let m = vz_g.encrypt("from vodozemac");
    assert_eq!(m.to_bytes(), g.encrypt("from vodozemac").to_bytes());
    assert_eq!(i.decrypt(&MegolmMessage::from_bytes(&m.to_bytes()).unwrap()).unwrap().plaintext, b"from vodozemac");
    assert_eq!(vz_i.decrypt(&m).unwrap().plaintext, b"from vodozemac");
}

/// A caudata session whose last event was a new receiving chain (so it has no sending chain),
/// through caudata's libolm export, vodozemac's libolm import and vodozemac's pickle, back into
/// caudata: vodozemac keeps a libolm import's chains in libolm's order (newest first) and names
/// the first as the key to answer, which caudata's vodozemac import refused until the
/// authenticated-adversary harness (tests/adversary.rs) found it. It must come back identical
/// and go on talking.
#[test]
fn session_without_a_sending_chain_survives_libolm_and_vodozemac() {
    let key = [3u8; 32];
    let (mut a, mut b) = common::olm_pair(SessionConfig::version_1(), b"1");
    assert_eq!(a.decrypt(&b.encrypt(b"2")).unwrap(), b"2");
    assert_eq!(b.decrypt(&a.encrypt(b"3")).unwrap(), b"3"); // a second receiving chain, no reply yet
    let libolm = b.to_libolm_pickle(&key).unwrap();
    let vz = vo::Session::from_libolm_pickle(&libolm, &key).unwrap();
    let mut back = Session::from_vodozemac_pickle(&vz.pickle().encrypt(&key), &key).unwrap();
    assert_eq!(*back.pickle().to_unencrypted_bytes(), *b.pickle().to_unencrypted_bytes());
    assert_eq!(a.decrypt(&back.encrypt(b"4")).unwrap(), b"4");
    assert_eq!(back.decrypt(&a.encrypt(b"5")).unwrap(), b"5");
}

/// The same trip for a session holding skipped message keys: vodozemac keeps a libolm import's
/// skipped keys newest first (libolm's order), and caudata must come back with them oldest
/// first, as it stores them (else a later gap evicts the newest keys instead of the oldest).
#[test]
fn skipped_keys_keep_their_order_through_libolm_and_vodozemac() {
    let key = [3u8; 32];
    let (mut a, mut b) = common::olm_pair(SessionConfig::version_1(), b"1");
    let skipped: Vec<OlmMessage> = (0..5).map(|i| a.encrypt(format!("skipped {i}"))).collect();
    assert_eq!(b.decrypt(&a.encrypt(b"after the gap")).unwrap(), b"after the gap");
    let vz = vo::Session::from_libolm_pickle(&b.to_libolm_pickle(&key).unwrap(), &key).unwrap();
    let mut back = Session::from_vodozemac_pickle(&vz.pickle().encrypt(&key), &key).unwrap();
    assert_eq!(*back.pickle().to_unencrypted_bytes(), *b.pickle().to_unencrypted_bytes());
    for (i, m) in skipped.iter().enumerate() {
        assert_eq!(back.decrypt(m).unwrap(), format!("skipped {i}").as_bytes());
    }
}

/// How a vodozemac pickle reaches caudata.
#[derive(Clone, Copy, Debug)]
enum Reader {
    Encrypted,
    Json,
    MessagePack,
}

fn session_via(reader: Reader, p: vo::SessionPickle) -> Result<Session, String> {
    match reader {
        Reader::Encrypted => Session::from_vodozemac_pickle(&p.encrypt(&KEY), &KEY).map_err(|e| e.to_string()),
        Reader::Json => {
            serde_json::from_slice::<caudata::pickle::vodozemac::SessionPickle>(&serde_json::to_vec(&p).unwrap())
                .map(Session::from)
                .map_err(|e| e.to_string())
        }
        Reader::MessagePack => {
            rmp_serde::from_slice::<caudata::pickle::vodozemac::SessionPickle>(&rmp_serde::to_vec_named(&p).unwrap())
                .map(Session::from)
                .map_err(|e| e.to_string())
        }
    }
}

/// Regression (issue 15): a session vodozemac imported from libolm keeps libolm's receiving
/// chains newest first. caudata refused it when its ratchet was inactive ("not the newest
/// receiving chain"), and with an active ratchet took the reversed order as its own and then
/// evicted the newest chain first, losing a late message on it. Both go through vodozemac's own
/// `Session::from_libolm_pickle` → `pickle()`, with every way the pickle reaches caudata.
#[test]
fn libolm_ordered_chains_from_vodozemac_are_put_back_in_age_order() {
    for reader in [Reader::Encrypted, Reader::Json, Reader::MessagePack] {
        for bob_answered_last in [false, true] {
            let case = format!("{reader:?}, bob answered last: {bob_answered_last}");
            // Bob (caudata) receives three chains from Alice, one message of each held back.
            let alice_acc = Account::new();
            let mut bob_acc = Account::new();
            bob_acc.generate_one_time_keys(1);
            let otk = *bob_acc.one_time_keys().values().next().unwrap();
            let mut alice =
                alice_acc.create_outbound_session(SessionConfig::version_1(), bob_acc.curve25519_key(), otk).unwrap();
            let OlmMessage::PreKey(pk) = alice.encrypt(b"a1") else { panic!() };
            let late1 = alice.encrypt(b"late on chain 1");
            let mut bob = bob_acc
                .create_inbound_session(SessionConfig::version_1(), alice_acc.curve25519_key(), &pk)
                .unwrap()
                .session;
            let mut late = vec![late1];
            for chain in 2..=3 {
                alice.decrypt(&bob.encrypt(b"b")).unwrap();
                assert_eq!(bob.decrypt(&alice.encrypt(format!("a{chain}"))).unwrap(), format!("a{chain}").as_bytes());
                late.push(alice.encrypt(format!("late on chain {chain}")));
            }
            if bob_answered_last {
                alice.decrypt(&bob.encrypt(b"bob answers")).unwrap();
            }
            // through libolm's format into vodozemac, and vodozemac's pickle into caudata
            let vz = vo::Session::from_libolm_pickle(&bob.to_libolm_pickle(b"").unwrap(), b"").unwrap();
            let json = serde_json::to_value(vz.pickle()).unwrap();
            assert_eq!(json["receiving_chains"]["inner"].as_array().unwrap().len(), 3);
            let first_chain_key = json["receiving_chains"]["inner"][0]["ratchet_key"].clone();
            let newest = match (late.last().unwrap(), &bob_answered_last) {
                (OlmMessage::Normal(m), _) => serde_json::to_value(m.ratchet_key().to_bytes()).unwrap(),
                _ => panic!(),
            };
            assert_eq!(first_chain_key, newest, "vodozemac lists libolm's chains newest first");
            let mut imported = session_via(reader, vz.pickle()).unwrap_or_else(|e| panic!("{case}: refused: {e}"));

            // three new chains: the store of five drops one, which must be the oldest
            for n in 0..3 {
                let m = imported.encrypt(format!("bob {n}"));
                assert_eq!(alice.decrypt(&m).unwrap(), format!("bob {n}").as_bytes(), "{case}");
                let m = alice.encrypt(format!("alice {n}"));
                assert_eq!(imported.decrypt(&m).unwrap(), format!("alice {n}").as_bytes(), "{case}");
            }
            assert!(imported.decrypt(&late[0]).is_err(), "{case}: the oldest chain was dropped");
            for (i, m) in late.iter().enumerate().skip(1) {
                let pt = imported.decrypt(m).unwrap_or_else(|e| panic!("{case}: late message {i}: {e}"));
                assert_eq!(pt, format!("late on chain {}", i + 1).as_bytes());
            }
            // and caudata writes the chains back oldest first, naming the newest, which
            // vodozemac reads and continues
            let back = serde_json::to_value(imported.vodozemac_pickle()).unwrap();
            let chains = back["receiving_chains"]["inner"].as_array().unwrap();
            assert_eq!(chains.len(), 5);
            let mut v = vo::Session::from_pickle(serde_json::from_value(back.clone()).unwrap());
            let m = alice.encrypt("to vodozemac");
            assert_eq!(v.decrypt(&to_vz(&m)).unwrap(), b"to vodozemac");
        }
    }
}

/// vodozemac accounts keep up to 5 000 one-time keys; caudata reads such pickles in every form
/// and serves sessions from the oldest and the newest key; 5 001 are refused.
#[test]
fn account_with_five_thousand_one_time_keys() {
    let mut vz = vo::Account::new();
    vz.generate_one_time_keys(2_600);
    let first = vz.one_time_keys();
    vz.mark_keys_as_published();
    let r = vz.generate_one_time_keys(2_500);
    assert_eq!(r.removed.len(), 100, "vodozemac evicts beyond 5 000");
    // the oldest key vodozemac still holds is the 101st generated (id 100)
    let p = serde_json::to_value(vz.pickle()).unwrap();
    assert_eq!(p["one_time_keys"]["private_keys"].as_object().unwrap().keys().next().unwrap(), "100");
    let oldest_kept = *first.iter().find(|(id, _)| id.to_base64() == caudata::olm::KeyId(100).to_base64()).unwrap().1;
    let newest = *vz.one_time_keys().iter().max_by_key(|(id, _)| **id).unwrap().1;
    let pickles = [
        Account::from_vodozemac_pickle(&vz.pickle().encrypt(&KEY), &KEY).unwrap(),
        Account::from(
            serde_json::from_slice::<caudata::pickle::vodozemac::AccountPickle>(
                &serde_json::to_vec(&vz.pickle()).unwrap(),
            )
            .unwrap(),
        ),
        Account::from(
            rmp_serde::from_slice::<caudata::pickle::vodozemac::AccountPickle>(
                &rmp_serde::to_vec_named(&vz.pickle()).unwrap(),
            )
            .unwrap(),
        ),
    ];
    for mut a in pickles {
        assert_eq!(a.stored_one_time_key_count(), 5_000);
        assert_eq!(a.one_time_keys().len(), 2_500);
        assert_eq!(a.to_vodozemac_pickle(&KEY), vz.pickle().encrypt(&KEY));
        // caudata's own format keeps them all
        let mut a2 = Account::from_pickle(
            caudata::pickle::AccountPickle::from_encrypted(&a.pickle().encrypt(&KEY), &KEY).unwrap(),
        );
        assert_eq!(a2.stored_one_time_key_count(), 5_000);
        vz_opens_session_to(&mut a, newest_cd(newest));
        vz_opens_session_to(&mut a2, cd_curve(oldest_kept));
        assert_eq!(a.stored_one_time_key_count(), 4_999);
        // the next key continues vodozemac's counter, and the store stays at 5 000
        let r = a.generate_one_time_keys(2);
        assert_eq!(r.removed.len(), 1);
        let ids: Vec<u64> = a.one_time_keys().keys().map(|k| k.0).filter(|&i| i >= 5_100).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&5_100) && ids.contains(&5_101));
    }
    // 5 001 keys: refused by every reader
    let mut json = serde_json::to_value(vz.pickle()).unwrap();
    let k = json["one_time_keys"]["private_keys"]["100"].clone();
    json["one_time_keys"]["private_keys"]["99"] = k;
    let e = Account::from_vodozemac_pickle(&encrypt_json(&json), &KEY).unwrap_err();
    assert_eq!(e, PickleError::TooMany { field: "one-time keys", got: 5_001, max: 5_000 });
    let e = serde_json::from_value::<caudata::pickle::vodozemac::AccountPickle>(json).unwrap_err();
    assert!(e.to_string().contains("5001 entries exceed the limit of 5000"), "{e}");
}

fn newest_cd(k: vodozemac::Curve25519PublicKey) -> caudata::Curve25519PublicKey {
    cd_curve(k)
}
