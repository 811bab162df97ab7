//! Byte-exact replay of a libolm 3.2.16 transcript (test-vectors/libolm/olm_transcript.json and
//! olm_fallback.json): caudata, fed the same randomness, produces the very bytes libolm
//! produced, and decrypts every libolm message, in libolm's delivery order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::HashMap;

use caudata::olm::{Account, OlmMessage, Session, SessionConfig};
use caudata::primitives::RandomSource;
use serde_json::Value;

/// Replays recorded random buffers; panics if the library asks for more or other lengths.
struct Replay(Vec<u8>);
impl RandomSource for Replay {
    fn fill(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "caudata drew more randomness than libolm did");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}
impl Drop for Replay {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert!(self.0.is_empty(), "caudata drew less randomness than libolm did");
        }
    }
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn load(name: &str) -> Value {
    let path = format!("{}/../test-vectors/libolm/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn random_for(v: &Value, seq: u64) -> Vec<u8> {
    let r = v["random_log"].as_array().unwrap().iter().find(|r| r["seq"].as_u64() == Some(seq)).unwrap();
    h(&r["hex"])
}

fn msg(v: &Value, n: usize) -> (OlmMessage, Vec<u8>) {
    let m = &v["messages"][n];
    let parsed =
        OlmMessage::from_base64_parts(m["type"].as_u64().unwrap() as usize, m["body"].as_str().unwrap()).unwrap();
    (parsed, h(&m["pt_hex"]))
}

#[test]
fn olm_transcript_is_byte_exact() {
    let v = load("olm_transcript.json");
    // accounts from libolm's creation randomness
    let mut accounts: HashMap<&str, Account> = HashMap::new();
    for who in ["alice", "bob"] {
        let a = &v["accounts"][who];
        let seq = a["create_random"]["seq"].as_u64().unwrap();
        let mut acc = Account::new_with_rng(&mut Replay(random_for(&v, seq)));
        assert_eq!(acc.curve25519_key().to_base64(), a["identity_keys"]["curve25519"].as_str().unwrap());
        assert_eq!(acc.ed25519_key().to_base64(), a["identity_keys"]["ed25519"].as_str().unwrap());
        let otks = a["one_time_keys"].as_array().unwrap();
        if !otks.is_empty() {
            let seq = otks[0]["random_seq"].as_u64().unwrap();
            let created = acc.generate_one_time_keys_with_rng(otks.len(), &mut Replay(random_for(&v, seq))).created;
            let ours: Vec<String> = created.iter().map(|k| k.to_base64()).collect();
            let theirs: Vec<&str> = otks.iter().map(|k| k["public"].as_str().unwrap()).collect();
            assert_eq!(ours, theirs);
        }
        accounts.insert(who, acc);
    }
    // Alice's outbound session from the same 64 bytes
    let setup = &v["session_setup"];
    let bob_otk = caudata::Curve25519PublicKey::from_base64(setup["their_one_time_key"].as_str().unwrap()).unwrap();
    let mut sessions: HashMap<String, Session> = HashMap::new();
    let alice_session = accounts["alice"]
        .create_outbound_session_with_rng(
            SessionConfig::version_1(),
            accounts["bob"].curve25519_key(),
            bob_otk,
            &mut Replay(h(&setup["random"]["hex"])),
        )
        .unwrap();
    assert_eq!(alice_session.session_id(), setup["session_id"].as_str().unwrap());
    sessions.insert("alice".into(), alice_session);

    let alice_key = accounts["alice"].curve25519_key();
    let mut checked = 0;
    for step in v["steps"].as_array().unwrap() {
        let party = step["party"].as_str().unwrap();
        let n = step["msg"].as_u64().unwrap() as usize;
        let (m, pt) = msg(&v, n);
        match step["action"].as_str().unwrap() {
            "encrypt" => {
                let random = if step["random"].is_null() { vec![] } else { h(&step["random"]["hex"]) };
                let s = sessions.get_mut(party).unwrap();
                let ours = s.encrypt_with_rng(&pt, &mut Replay(random));
                assert_eq!(ours, m, "step {} (message {n}) differs from libolm's bytes", step["step"]);
            }
            "decrypt" => {
                let s = sessions.get_mut(party).unwrap();
                assert_eq!(s.decrypt(&m).unwrap(), pt, "step {}", step["step"]);
            }
            a if a.starts_with("create_inbound_session") => {
                let OlmMessage::PreKey(pk) = &m else { panic!("expected a pre-key message") };
                let bob = accounts.get_mut("bob").unwrap();
                let res = bob.create_inbound_session(SessionConfig::version_1(), alice_key, pk).unwrap();
                assert_eq!(res.plaintext, pt);
                assert_eq!(res.session.session_id(), step["session_id"].as_str().unwrap());
                // the one-time key ids libolm has left are the ones caudata has left
                assert_eq!(
                    bob.stored_one_time_key_count(),
                    step["account_one_time_key_ids_left"].as_array().unwrap().len()
                );
                sessions.insert("bob".into(), res.session);
            }
            other => panic!("unknown step {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, v["steps"].as_array().unwrap().len());
    assert!(checked >= 28);
}

#[test]
fn fallback_key_transcript_is_byte_exact() {
    let v = load("olm_fallback.json");
    let bob_rand = h(&v["bob_account"]["create_random"]["hex"]);
    let mut bob = Account::new_with_rng(&mut Replay(bob_rand));
    assert_eq!(bob.curve25519_key().to_base64(), v["bob_account"]["identity_keys"]["curve25519"].as_str().unwrap());
    let mut events_checked = 0;
    for ev in v["events"].as_array().unwrap() {
        let name = ev["event"].as_str().unwrap();
        if name.contains("generates fallback key") {
            let seq = ev["random_seq"].as_u64().unwrap();
            bob.generate_fallback_key_with_rng(&mut Replay(random_for(&v, seq)));
            let expect: Vec<String> = ev["olm_account_unpublished_fallback_key_before_publishing"]
                .as_object()
                .unwrap()
                .values()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            let ours: Vec<String> = bob.fallback_key().values().map(|k| k.to_base64()).collect();
            assert_eq!(ours, expect);
            bob.mark_keys_as_published();
            assert!(bob.fallback_key().is_empty());
        } else if name.contains("forget_old_fallback_key") {
            assert!(bob.forget_fallback_key());
        } else if name.contains("opens a session") {
            let acc = &ev["alice_account"];
            let alice = Account::new_with_rng(&mut Replay(h(&acc["create_random"]["hex"])));
            let msgs = ev["messages"].as_array().unwrap();
            let first = &msgs[0];
            let (t, body) = (first["type"].as_u64().unwrap() as usize, first["body"].as_str().unwrap());
            let libolm_first = OlmMessage::from_base64_parts(t, body).unwrap();
            let OlmMessage::PreKey(pk) = &libolm_first else { panic!() };
            let mut a = alice
                .create_outbound_session_with_rng(
                    SessionConfig::version_1(),
                    bob.curve25519_key(),
                    pk.one_time_key(),
                    &mut Replay(h(&ev["outbound_random"]["hex"])),
                )
                .unwrap();
            assert_eq!(a.encrypt_with_rng(&h(&first["pt_hex"]), &mut Replay(vec![])), libolm_first);
            let works = ev["works"].as_bool().unwrap();
            let res = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), pk);
            if !works {
                // libolm: BAD_MESSAGE_KEY_ID after the old fallback key was forgotten
                assert!(matches!(res, Err(caudata::SessionCreationError::MissingOneTimeKey(_))));
                events_checked += 1;
                continue;
            }
            let res = res.unwrap();
            assert_eq!(res.plaintext, h(&first["pt_hex"]));
            assert_eq!(res.session.session_id(), ev["session_id"].as_str().unwrap());
            let mut b = res.session;
            for m in &msgs[1..] {
                let expected =
                    OlmMessage::from_base64_parts(m["type"].as_u64().unwrap() as usize, m["body"].as_str().unwrap())
                        .unwrap();
                let rnd = random_for(&v, m["random_seq"].as_u64().unwrap());
                let pt = h(&m["pt_hex"]);
                if m["from"] == "bob" {
                    assert_eq!(b.encrypt_with_rng(&pt, &mut Replay(rnd)), expected);
                    assert_eq!(a.decrypt(&expected).unwrap(), pt);
                } else {
                    assert_eq!(a.encrypt_with_rng(&pt, &mut Replay(rnd)), expected);
                    assert_eq!(b.decrypt(&expected).unwrap(), pt);
                }
            }
        }
        events_checked += 1;
    }
    assert!(events_checked >= 8);
}
