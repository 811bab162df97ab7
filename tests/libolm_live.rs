//! Live differential tests against libolm 3.2.16 (python-olm's wheel), driven over JSON lines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use caudata::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig as MegolmConfig, SessionKey};
use caudata::olm::{Account, OlmMessage, Session, SessionConfig};
use caudata::{Curve25519PublicKey, DecryptionError};
use common::{Libolm, hexs, unhex};
use serde_json::json;

fn to_peer(m: &OlmMessage) -> (usize, String) {
    m.to_base64_parts()
}

fn from_peer(r: &serde_json::Value) -> OlmMessage {
    OlmMessage::from_base64_parts(r["type"].as_u64().unwrap() as usize, r["body"].as_str().unwrap()).unwrap()
}

/// caudata opens a session to a libolm account; returns caudata's session (libolm's is "bob_s").
fn caudata_initiates(p: &mut Libolm, fallback: bool) -> Session {
    let alice = Account::new();
    let keys = p.ok(json!({"cmd": "account_new", "h": "bob"}));
    let otk = if fallback {
        p.ok(json!({"cmd": "account_generate_fallback", "h": "bob"}));
        p.ok(json!({"cmd": "account_fallback_key", "h": "bob"}))["keys"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .clone()
    } else {
        p.ok(json!({"cmd": "account_generate_otks", "h": "bob", "n": 1}));
        p.ok(json!({"cmd": "account_one_time_keys", "h": "bob"}))["keys"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .clone()
    };
    p.ok(json!({"cmd": "account_mark_published", "h": "bob"}));
    let bob_id = Curve25519PublicKey::from_base64(keys["curve25519"].as_str().unwrap()).unwrap();
    let otk = Curve25519PublicKey::from_base64(otk.as_str().unwrap()).unwrap();
    let mut s = alice.create_outbound_session(SessionConfig::version_1(), bob_id, otk).unwrap();
    let m = s.encrypt(b"hello libolm");
    let (t, body) = to_peer(&m);
    assert_eq!(t, 0);
    let r = p.ok(json!({"cmd": "session_inbound", "h": "bob_s", "account": "bob", "body": body,
                        "identity_key": alice.curve25519_key().to_base64()}));
    assert_eq!(unhex(&r["pt"]), b"hello libolm");
    assert_eq!(r["session_id"].as_str().unwrap(), s.session_id());
    s
}

/// A libolm account opens a session to caudata; returns caudata's session (libolm's is "alice_s").
fn libolm_initiates(p: &mut Libolm, fallback: bool) -> Session {
    let mut bob = Account::new();
    let otk = if fallback {
        bob.generate_fallback_key();
        *bob.fallback_key().values().next().unwrap()
    } else {
        bob.generate_one_time_keys(1);
        *bob.one_time_keys().values().next().unwrap()
    };
    bob.mark_keys_as_published();
    let keys = p.ok(json!({"cmd": "account_new", "h": "alice"}));
    p.ok(json!({"cmd": "session_outbound", "h": "alice_s", "account": "alice",
                "identity_key": bob.curve25519_key().to_base64(), "one_time_key": otk.to_base64()}));
    let r = p.ok(json!({"cmd": "session_encrypt", "h": "alice_s", "pt": hexs("hello caudata")}));
    let OlmMessage::PreKey(pk) = from_peer(&r) else { panic!("expected pre-key") };
    let alice_id = Curve25519PublicKey::from_base64(keys["curve25519"].as_str().unwrap()).unwrap();
    let res = bob.create_inbound_session(SessionConfig::version_1(), alice_id, &pk).unwrap();
    assert_eq!(res.plaintext, b"hello caudata");
    if !fallback {
        assert_eq!(bob.stored_one_time_key_count(), 0);
    }
    res.session
}

fn converse(p: &mut Libolm, c: &mut Session, peer: &str, rounds: usize) {
    for round in 0..rounds {
        let n = 1 + round % 4;
        let msgs: Vec<_> = (0..n).map(|i| (format!("c{round}.{i}"), c.encrypt(format!("c{round}.{i}")))).collect();
        for (pt, m) in msgs.iter().rev() {
            let (t, body) = to_peer(m);
            let r = p.ok(json!({"cmd": "session_decrypt", "h": peer, "type": t, "body": body}));
            assert_eq!(unhex(&r["pt"]), pt.as_bytes());
        }
        let n = 1 + (round * 3) % 5;
        let mut msgs: Vec<_> = (0..n)
            .map(|i| {
                let pt = format!("l{round}.{i}");
                (pt.clone(), from_peer(&p.ok(json!({"cmd": "session_encrypt", "h": peer, "pt": hexs(&pt)}))))
            })
            .collect();
        msgs.rotate_left(1);
        for (pt, m) in &msgs {
            assert_eq!(c.decrypt(m).unwrap(), pt.as_bytes());
        }
    }
}

#[test]
fn olm_caudata_initiates_to_libolm() {
    let mut p = Libolm::start();
    let mut c = caudata_initiates(&mut p, false);
    converse(&mut p, &mut c, "bob_s", 30);
}

#[test]
fn olm_libolm_initiates_to_caudata() {
    let mut p = Libolm::start();
    let mut c = libolm_initiates(&mut p, false);
    converse(&mut p, &mut c, "alice_s", 30);
}

#[test]
fn olm_fallback_key_sessions_with_libolm() {
    let mut p = Libolm::start();
    let mut c = caudata_initiates(&mut p, true);
    converse(&mut p, &mut c, "bob_s", 5);
    let mut c = libolm_initiates(&mut p, true);
    converse(&mut p, &mut c, "alice_s", 5);
}

#[test]
fn olm_gap_limit_same_as_libolm() {
    let mut p = Libolm::start();
    let mut c = libolm_initiates(&mut p, false);
    // libolm's pre-key message used index 0; the next 2002 have indices 1..=2002
    let msgs: Vec<_> = (0..2002)
        .map(|i| from_peer(&p.ok(json!({"cmd": "session_encrypt", "h": "alice_s", "pt": hexs(format!("{i}"))}))))
        .collect();
    assert!(matches!(c.decrypt(&msgs[2001]), Err(DecryptionError::TooBigMessageGap { got: 2001, max: 2000 })));
    assert_eq!(c.decrypt(&msgs[2000]).unwrap(), b"2000");
    // and the other way: libolm refuses a gap of 2001 from caudata, accepts 2000
    let mut c2 = caudata_initiates(&mut p, false);
    let out: Vec<_> = (0..2002).map(|i| c2.encrypt(format!("{i}"))).collect();
    let (t, b) = to_peer(&out[2001]);
    assert_eq!(p.err(json!({"cmd": "session_decrypt", "h": "bob_s", "type": t, "body": b})), "BAD_MESSAGE_MAC");
    let (t, b) = to_peer(&out[2000]);
    p.ok(json!({"cmd": "session_decrypt", "h": "bob_s", "type": t, "body": b}));
}

#[test]
fn megolm_both_directions_with_libolm() {
    let mut p = Libolm::start();
    // caudata sends, libolm receives, including a jump to 2^24 (caudata's sender can skip)
    let mut out = GroupSession::new(MegolmConfig::version_1());
    let r = p.ok(json!({"cmd": "group_in_new", "h": "in", "session_key": &*out.session_key().to_base64()}));
    assert_eq!(r["session_id"].as_str().unwrap(), out.session_id());
    for idx in [0u32, 1, 2, 255, 256, 257, 65535, 65536, 1 << 24, (1 << 24) + 1] {
        if out.message_index() != idx {
            out.advance_to_for_testing(idx);
        }
        let m = out.encrypt(format!("at {idx}"));
        let r = p.ok(json!({"cmd": "group_decrypt", "h": "in", "body": m.to_base64()}));
        assert_eq!((unhex(&r["pt"]), r["index"].as_u64().unwrap()), (format!("at {idx}").into_bytes(), u64::from(idx)));
    }
    // libolm sends, caudata receives in order and out of order, and from an export at 100
    let r = p.ok(json!({"cmd": "group_out_new", "h": "out"}));
    let key = SessionKey::from_base64(r["session_key"].as_str().unwrap()).unwrap();
    let mut inbound = InboundGroupSession::new(&key, MegolmConfig::version_1());
    let msgs: Vec<_> = (0..300)
        .map(|i| {
            MegolmMessage::from_base64(
                p.ok(json!({"cmd": "group_encrypt", "h": "out", "pt": hexs(format!("{i}"))}))["body"].as_str().unwrap(),
            )
            .unwrap()
        })
        .collect();
    for i in [0usize, 1, 299, 255, 256, 2, 100] {
        let d = inbound.decrypt(&msgs[i]).unwrap();
        assert_eq!((d.plaintext, d.message_index), (format!("{i}").into_bytes(), i as u32));
    }
    let exported = p.ok(json!({"cmd": "group_in_new", "h": "in2", "session_key": r["session_key"]}));
    assert_eq!(exported["first_known_index"], 0);
    let e = p.ok(json!({"cmd": "group_export", "h": "in2", "index": 100}));
    let mut imported = InboundGroupSession::import(
        &caudata::megolm::ExportedSessionKey::from_base64(e["exported"].as_str().unwrap()).unwrap(),
        MegolmConfig::version_1(),
    );
    assert!(matches!(
        imported.decrypt(&msgs[99]),
        Err(DecryptionError::UnknownMessageIndex { got: 99, first_known: 100 })
    ));
    assert_eq!(imported.decrypt(&msgs[100]).unwrap().plaintext, b"100");
    // caudata's export at 200 loads in libolm
    let ours = inbound.export_at(200).unwrap();
    let r = p.ok(json!({"cmd": "group_in_import", "h": "in3", "exported": &*ours.to_base64()}));
    assert_eq!(r["first_known_index"], 200);
    let r = p.ok(json!({"cmd": "group_decrypt", "h": "in3", "body": msgs[250].to_base64()}));
    assert_eq!(unhex(&r["pt"]), b"250");
}

#[test]
fn signatures_verify_in_libolm() {
    let mut p = Libolm::start();
    let a = Account::new();
    let sig = a.sign(b"{\"canonical\":\"json\"}");
    let r = p.ok(json!({"cmd": "ed25519_verify", "key": a.ed25519_key().to_base64(), "msg_hex": hexs(b"{\"canonical\":\"json\"}"), "sig": sig.to_base64()}));
    assert_eq!(r["valid"], true);
    p.ok(json!({"cmd": "account_new", "h": "x"}));
    let r = p.ok(json!({"cmd": "account_sign", "h": "x", "msg_hex": hexs(b"abc")}));
    let k = p.ok(json!({"cmd": "account_identity_keys", "h": "x"}));
    let key = caudata::Ed25519PublicKey::from_base64(k["ed25519"].as_str().unwrap()).unwrap();
    key.verify(b"abc", &caudata::Ed25519Signature::from_base64(r["sig"].as_str().unwrap()).unwrap()).unwrap();
}
