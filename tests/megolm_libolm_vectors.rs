//! Megolm against libolm 3.2.16's recorded output (test-vectors/libolm/megolm.json): a group
//! session made from libolm's randomness produces libolm's bytes; libolm's messages, exports and
//! tampered messages get the answers caudata must give.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::DecryptionError;
use caudata::megolm::{
    ExportedSessionKey, GroupSession, InboundGroupSession, MegolmMessage, SessionConfig, SessionKey,
};
use caudata::primitives::RandomSource;
use serde_json::Value;

struct Replay(Vec<u8>);
impl RandomSource for Replay {
    fn fill(&mut self, dest: &mut [u8]) {
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

fn load() -> Value {
    let path = format!("{}/../test-vectors/libolm/megolm.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn outbound_from_libolm_randomness_is_byte_exact() {
    let v = load();
    let mut out =
        GroupSession::new_with_rng(SessionConfig::version_1(), &mut Replay(h(&v["outbound"]["random"]["hex"])));
    assert_eq!(out.session_id(), v["outbound"]["session_id"].as_str().unwrap());
    assert_eq!(&*out.session_key().to_base64(), v["session_keys"]["0"]["session_key"].as_str().unwrap());
    for m in v["messages"].as_array().unwrap() {
        let idx = m["index"].as_u64().unwrap() as u32;
        if out.message_index() != idx {
            out.advance_to_for_testing(idx);
        }
        if let Some(k) = v["session_keys"].get(idx.to_string()) {
            assert_eq!(&*out.session_key().to_base64(), k["session_key"].as_str().unwrap(), "session key at {idx}");
        }
        let ours = out.encrypt(h(&m["pt_hex"]));
        assert_eq!(ours.to_base64(), m["body"].as_str().unwrap(), "message at {idx}");
    }
}

#[test]
fn inbound_decrypts_libolm_messages_and_exports_match() {
    let v = load();
    let key = SessionKey::from_base64(v["session_keys"]["0"]["session_key"].as_str().unwrap()).unwrap();
    let mut s = InboundGroupSession::new(&key, SessionConfig::version_1());
    // out of order: last first
    for m in v["messages"].as_array().unwrap().iter().rev() {
        let d = s.decrypt(&MegolmMessage::from_base64(m["body"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!((d.plaintext, u64::from(d.message_index)), (h(&m["pt_hex"]), m["index"].as_u64().unwrap()));
    }
    for (idx, e) in v["inbound"]["exports"].as_object().unwrap() {
        let idx: u32 = idx.parse().unwrap();
        let ours = s.export_at(idx).unwrap();
        assert_eq!(&*ours.to_base64(), e["exported"].as_str().unwrap(), "export at {idx}");
        let imported = InboundGroupSession::import(
            &ExportedSessionKey::from_base64(e["exported"].as_str().unwrap()).unwrap(),
            SessionConfig::version_1(),
        );
        assert_eq!(imported.first_known_index(), idx);
    }
    // session keys at later indices verify and start there
    for (idx, k) in v["session_keys"].as_object().unwrap() {
        let key = SessionKey::from_base64(k["session_key"].as_str().unwrap()).unwrap();
        assert_eq!(key.index().to_string(), *idx);
    }
}

#[test]
fn tampered_messages_are_refused() {
    let v = load();
    for t in v["tampered"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let key = SessionKey::from_base64(t["session_key"].as_str().unwrap()).unwrap();
        let mut s = InboundGroupSession::new(&key, SessionConfig::version_1());
        let before = s.export_at(0).unwrap().to_bytes();
        let parsed = MegolmMessage::from_base64(t["body"].as_str().unwrap());
        let result = parsed.map_err(DecryptionError::from).and_then(|m| s.decrypt(&m));
        let err = result.expect_err(name);
        match name {
            "ciphertext_bit_flip" | "bad_signature" | "signature_s_plus_l" => {
                assert_eq!(err, DecryptionError::InvalidSignature, "{name}")
            }
            "ciphertext_bit_flip_resigned" | "mac_flip_resigned" => {
                // re-signed with the sender's key: the signature holds, the MAC does not
                assert_eq!(err, DecryptionError::InvalidMac, "{name}")
            }
            "version_2_resigned" => {
                assert!(matches!(err, DecryptionError::Decode(caudata::DecodeError::UnsupportedVersion(2))))
            }
            other => panic!("unexpected case {other}"),
        }
        if name == "signature_s_plus_l" {
            assert_eq!(t["expected_libolm"], "accepts", "libolm 3.2.16 accepts S+L; caudata must not");
        }
        assert_eq!(&s.export_at(0).unwrap().to_bytes()[..], &before[..], "{name}: state unchanged");
    }
}

#[test]
fn crafted_high_indices_and_wraparound() {
    let v = load();
    for c in v["crafted_high_index"].as_array().unwrap() {
        let key = SessionKey::from_base64(c["session_key"].as_str().unwrap()).unwrap();
        let mut s = InboundGroupSession::new(&key, SessionConfig::version_1());
        // libolm, from a session at 0xFFFFFFFE, decrypts indices 0 and 1 as later messages
        for m in c["messages"].as_array().unwrap().iter().rev() {
            let d = s.decrypt(&MegolmMessage::from_base64(m["body"].as_str().unwrap()).unwrap()).unwrap();
            assert_eq!(
                (d.plaintext, u64::from(d.message_index)),
                (h(&m["pt_hex"]), m["index"].as_u64().unwrap()),
                "{}",
                c["label"]
            );
        }
    }
}
