//! interolm known-answer tests from real libsignal (test-vectors/interolm/*.json), without Node.
//!
//! For each recorded conversation, Bob is rebuilt from his private keys, processes Alice's
//! PreKeySignalMessages and her later SignalMessage, and answers; after every step his whole
//! ratchet state (root key, sending chain, receiving chains) must equal what libsignal recorded
//! for its own Bob, and when libsignal's Bob sent no SPQR field, Bob's replies must be
//! byte-for-byte libsignal's; where the two 0.90.0 peers negotiated SPQR V1, caudata's Bob
//! negotiates it too and decrypts Alice's SPQR-salted message. The XEdDSA vectors must verify, and fail with bit 7 of `sig[63]`
//! flipped, as libsignal says.

// Test helpers outside `#[test]` functions may panic too (clippy.toml only covers the tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The conversions from the JSON of libsignal's peer, which wrote these files (no process is
// started here).
mod libsignal_peer;

use caudata::interolm::spqr::{SpqrVersion, VersionStatus};
use caudata::interolm::{
    Account, InterolmMessage, Kyber1024Ciphertext, Kyber1024SecretKey, PreKeyBundle, RatchetSnapshot, Session,
    SessionVersion, SpqrPolicy, XEdDsaSignature,
};
use caudata::primitives::{Curve25519SecretKey, RandomSource, SecretBytes};
use libsignal_peer::{bundle_from_json, bytes, hex33, key33, u32_of};
use serde_json::Value;

const SESSION_FILES: &[(&str, &str)] = &[
    ("x3dh_v3_libsignal-0.72.1", include_str!("../test-vectors/interolm/x3dh_v3_libsignal-0.72.1.json")),
    ("x3dh_v3_no_opk_libsignal-0.72.1", include_str!("../test-vectors/interolm/x3dh_v3_no_opk_libsignal-0.72.1.json")),
    ("pqxdh_v4_libsignal-0.72.1", include_str!("../test-vectors/interolm/pqxdh_v4_libsignal-0.72.1.json")),
    ("pqxdh_v4_libsignal-0.90.0", include_str!("../test-vectors/interolm/pqxdh_v4_libsignal-0.90.0.json")),
    (
        "pqxdh_v4_no_opk_libsignal-0.90.0",
        include_str!("../test-vectors/interolm/pqxdh_v4_no_opk_libsignal-0.90.0.json"),
    ),
    (
        "pqxdh_v4_alice-0.72.1_bob-0.90.0",
        include_str!("../test-vectors/interolm/pqxdh_v4_alice-0.72.1_bob-0.90.0.json"),
    ),
    (
        "pqxdh_v4_alice-0.90.0_bob-0.72.1",
        include_str!("../test-vectors/interolm/pqxdh_v4_alice-0.90.0_bob-0.72.1.json"),
    ),
];

fn secret(v: &Value) -> Curve25519SecretKey {
    Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_slice(&bytes(v)).unwrap())
}

/// Replays recorded randomness, and refuses to make any up.
struct Replay(Vec<u8>);

impl RandomSource for Replay {
    fn fill(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "the code drew more randomness than recorded");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

/// Bob, rebuilt from the private keys libsignal exported.
fn rebuild_bob(v: &Value) -> Account {
    let bob = &v["bob"];
    let private = &bob["private"];
    let published = &bob["bundle_as_published"];
    let mut account = Account::from_identity_key(secret(&private["identity_private"]), u32_of(&bob["registration_id"]));
    assert_eq!(hex33(&account.identity_key()), private["identity_public"].as_str().unwrap());
    account.allow_x3dh(true);
    // libsignal 0.72.1 has no SPQR: to answer byte for byte as its Bob did, caudata's Bob runs
    // none either. Any other Bob offers SPQR V1 (the default policy).
    if bob["lib"] == "0.72.1" {
        account.set_spqr_policy(SpqrPolicy::Off);
    }
    let store = account.pre_keys_mut();
    store.import_signed_pre_key(
        u32_of(&published["signed_pre_key_id"]),
        secret(&private["signed_pre_key_private"]),
        XEdDsaSignature::from_slice(&bytes(&published["signed_pre_key_signature"])).unwrap(),
    );
    if !private["pre_key_private"].is_null() {
        store.import_one_time_pre_key(u32_of(&published["pre_key_id"]), secret(&private["pre_key_private"]));
    }
    if !private["kyber_secret_key"].is_null() {
        let sk = Kyber1024SecretKey::from_bytes(&bytes(&private["kyber_secret_key"])).unwrap();
        assert_eq!(
            sk.public_key().to_bytes(),
            bytes(&published["kyber_pre_key"]),
            "public key embedded in the secret key"
        );
        // libsignal's store keeps used Kyber prekeys (marks them used): a last-resort key here.
        store.import_kyber_pre_key(
            u32_of(&published["kyber_pre_key_id"]),
            sk,
            XEdDsaSignature::from_slice(&bytes(&published["kyber_pre_key_signature"])).unwrap(),
            true,
        );
    }
    account
}

/// Compares Bob's ratchet with libsignal's Bob after a step.
fn assert_same_state(name: &str, step: usize, ours: &RatchetSnapshot, theirs: &Value) {
    let ctx = format!("{name}, step {step}");
    assert_eq!(hex::encode(ours.root_key), theirs["root_key"].as_str().unwrap(), "{ctx}: root key");
    assert_eq!(
        ours.sender_ratchet_key.as_ref().map(hex33).as_deref(),
        theirs["sender_ratchet_key"].as_str(),
        "{ctx}: sending ratchet key"
    );
    assert_eq!(
        ours.sender_chain_key.map(hex::encode).as_deref(),
        theirs["sender_chain_key"].as_str(),
        "{ctx}: sending chain key"
    );
    assert_eq!(ours.sender_chain_index, Some(u32_of(&theirs["sender_chain_index"])), "{ctx}: sending index");
    // libsignal stores the last index of the previous chain, max(n, 1) − 1.
    assert_eq!(
        ours.previous_chain_length.saturating_sub(1),
        u32_of(&theirs["previous_counter"]),
        "{ctx}: previous counter"
    );
    let chains = theirs["receiver_chains"].as_array().unwrap();
    assert_eq!(ours.receiver_chains.len(), chains.len(), "{ctx}: number of receiving chains");
    for c in chains {
        let rk = key33(&c["ratchet_key"]);
        let mine = ours
            .receiver_chains
            .iter()
            .find(|r| r.ratchet_key == rk)
            .unwrap_or_else(|| panic!("{ctx}: no receiving chain on {}", hex33(&rk)));
        assert_eq!(hex::encode(mine.chain_key), c["chain_key"].as_str().unwrap(), "{ctx}: receiving chain key");
        assert_eq!(mine.index, u32_of(&c["index"]), "{ctx}: receiving index");
        assert_eq!(mine.skipped.len(), c["skipped_message_keys"].as_u64().unwrap() as usize, "{ctx}: skipped keys");
    }
}

fn message(v: &Value, i: usize) -> (&Value, InterolmMessage) {
    let m = &v["messages"][i];
    assert_eq!(m["index"].as_u64(), Some(i as u64));
    let parsed = InterolmMessage::from_parts(m["type"].as_u64().unwrap() as usize, &bytes(&m["body"])).unwrap();
    // Decoding keeps the received bytes.
    assert_eq!(parsed.to_bytes(), bytes(&m["body"]));
    (m, parsed)
}

fn bob_state(v: &Value, step: usize) -> &Value {
    let s = &v["steps"][step];
    assert_eq!(s["step"].as_u64(), Some(step as u64));
    &s["bob"]["state"]
}

fn run_conversation(name: &str, text: &str) {
    let v: Value = serde_json::from_str(text).unwrap();
    let version = u32_of(&v["session_version"]);
    let expected_version = if version == 3 { SessionVersion::X3dh } else { SessionVersion::Pqxdh };

    // Bob's bundle, as libsignal published it and as Alice processed it, verifies here too.
    bundle_from_json(&v["bob"]["bundle_as_published"]).verify().unwrap();
    let processed = bundle_from_json(&v["bob"]["bundle_processed_by_alice"]);
    processed.verify().unwrap();
    assert_eq!(PreKeyBundle::from_bytes(&processed.to_bytes()).unwrap(), processed);

    let mut bob = rebuild_bob(&v);
    let one_time_id = v["bob"]["bundle_processed_by_alice"]["pre_key_id"].as_u64().map(|x| x as u32);

    // Message 0: Alice's first PreKeySignalMessage creates Bob's session. Bob's new ratchet key
    // comes from the recorded private key.
    let (m0, msg0) = message(&v, 0);
    let InterolmMessage::PreKey(pk0) = &msg0 else { panic!("{name}: message 0 is not a PreKey message") };
    assert_eq!(pk0.session_version() as u32, version);
    assert_eq!(pk0.pre_key_id(), one_time_id);
    if let Some(ss) = v["checks"]["pqxdh"]["kyber_shared_secret"].as_str() {
        let sk = Kyber1024SecretKey::from_bytes(&bytes(&v["bob"]["private"]["kyber_secret_key"])).unwrap();
        let ct = Kyber1024Ciphertext::from_bytes(&bytes(&m0["parsed"]["kyber_ciphertext"])).unwrap();
        assert_eq!(hex::encode(sk.decapsulate(&ct).expose()), ss, "{name}: Kyber1024 round-3 shared secret");
    }
    let first = &v["checks"]["bob_first_receive"];
    let mut rng = Replay(bytes(&first["bob_sender_ratchet_private"]));
    let created = bob.create_inbound_session_with_rng(pk0, &mut rng).unwrap();
    assert_eq!(created.plaintext, bytes(&m0["plaintext"]), "{name}: plaintext 0");
    let mut session: Session = created.session;
    assert_eq!(session.session_version(), expected_version);
    assert!(session.has_received_message());
    if let Some(id) = one_time_id {
        assert!(!bob.pre_keys().contains_one_time_pre_key(id), "{name}: one-time prekey consumed");
    }
    let snap = session.snapshot_for_testing_only();
    assert_eq!(hex::encode(snap.root_key), first["bob_root_key_after"].as_str().unwrap());
    assert_eq!(snap.sender_chain_key.map(hex::encode).as_deref(), first["bob_sender_chain_key"].as_str());
    assert_same_state(name, 2, &snap, bob_state(&v, 2));

    // Message 1: Alice's second PreKeySignalMessage goes to the existing session.
    let (m1, msg1) = message(&v, 1);
    let InterolmMessage::PreKey(pk1) = &msg1 else { panic!("{name}: message 1 is not a PreKey message") };
    assert!(session.matches(pk1));
    assert_eq!(session.decrypt_with_rng(&msg1, &mut Replay(Vec::new())).unwrap(), bytes(&m1["plaintext"]));
    assert_same_state(name, 4, &session.snapshot_for_testing_only(), bob_state(&v, 4));

    // Messages 2 and 3: Bob answers. Without an SPQR field, libsignal's bytes are ours.
    for (i, step) in [(2usize, 5usize), (3, 7)] {
        let m = &v["messages"][i];
        let ours = session.encrypt(bytes(&m["plaintext"])).unwrap();
        let (ty, body) = ours.to_parts();
        assert_eq!(ty, 2, "{name}: Bob's reply {i} is a SignalMessage");
        assert_eq!(u32_of(&m["type"]), 2);
        if m["parsed"]["pq_ratchet"].is_null() {
            assert_eq!(hex::encode(&body), m["body"].as_str().unwrap(), "{name}: Bob's message {i} byte for byte");
        } else {
            assert_eq!(body[0], bytes(&m["body"])[0], "{name}: version byte of message {i}");
        }
        assert_same_state(name, step, &session.snapshot_for_testing_only(), bob_state(&v, step));
    }

    // Message 4: Alice's SignalMessage on a new chain; Bob's next ratchet key is replayed.
    // Between two 0.90.0 peers SPQR V1 was negotiated, and message 4's keys are salted with the
    // SPQR per-message key: caudata's Bob, which negotiated SPQR V1 too (its SPQR chain comes
    // from the PQXDH auth_key alone), derives the same salt.
    let (m4, msg4) = message(&v, 4);
    assert!(matches!(msg4, InterolmMessage::Whisper(_)));
    let after = bob_state(&v, 10);
    let mut rng = Replay(bytes(&after["sender_ratchet_private"]));
    let salted = v["checks"]["messages"][4]["verifies_without_spqr_salt"] == false;
    let mut without_spqr = session.spqr().clone();
    assert_eq!(session.decrypt_with_rng(&msg4, &mut rng).unwrap(), bytes(&m4["plaintext"]), "{name}: plaintext 4");
    assert_same_state(name, 10, &session.snapshot_for_testing_only(), after);
    let want = if salted { SpqrVersion::V1 } else { SpqrVersion::V0 };
    assert_eq!(session.spqr().version_status(), VersionStatus::Complete(want), "{name}: SPQR negotiated");
    if salted {
        // The salt is what made it decrypt: the SPQR key of message 4 is not None.
        let InterolmMessage::Whisper(w) = &msg4 else { unreachable!() };
        let pending = without_spqr.recv(w.pq_ratchet().unwrap()).unwrap();
        assert!(pending.key().is_some(), "{name}: message 4 has an SPQR key");
        pending.commit(&mut without_spqr);
    }

    // Every message is now a replay.
    for i in 0..5 {
        if v["messages"][i]["from"] == "alice" {
            let (_, m) = message(&v, i);
            let before = session.snapshot_for_testing_only();
            assert!(session.decrypt(&m).is_err(), "{name}: replay of message {i} refused");
            assert_eq!(session.snapshot_for_testing_only(), before, "{name}: replay changed nothing");
        }
    }
}

#[test]
fn libsignal_conversations_replay_in_caudata() {
    for (name, text) in SESSION_FILES {
        run_conversation(name, text);
    }
}

#[test]
fn libsignal_message_version_bytes() {
    for (name, text) in SESSION_FILES {
        let v: Value = serde_json::from_str(text).unwrap();
        let expected = if u32_of(&v["session_version"]) == 3 { 0x34 } else { 0x44 };
        for m in v["messages"].as_array().unwrap() {
            assert_eq!(bytes(&m["body"])[0], expected, "{name}: version byte");
        }
        assert_eq!(
            v["message_version_bytes"].as_array().unwrap(),
            &vec![Value::String(format!("0x{expected:02x}"))],
            "{name}"
        );
    }
}

#[test]
fn libsignal_xeddsa_signatures_verify() {
    let v: Value = serde_json::from_str(include_str!("../test-vectors/interolm/xeddsa_libsignal-0.72.1.json")).unwrap();
    let vectors = v["vectors"].as_array().unwrap();
    assert!(vectors.iter().any(|t| t["sig63_bit7_set"] == true), "vectors with the sign bit set");
    assert!(vectors.iter().any(|t| t["sig63_bit7_set"] == false), "vectors with the sign bit clear");
    for t in vectors {
        let public = key33(&t["public_key"]);
        let private = secret(&t["private_key"]);
        assert_eq!(private.public_key(), public);
        let msg = bytes(&t["message"]);
        let sig = XEdDsaSignature::from_slice(&bytes(&t["signature"])).unwrap();
        assert_eq!(sig.as_bytes()[63] & 0x80 != 0, t["sig63_bit7_set"] == true);
        public.verify_xeddsa(&msg, &sig).unwrap();
        let mut flipped = sig.to_bytes();
        flipped[63] ^= 0x80;
        let expect_valid = t["valid_in_libsignal_with_sig63_bit7_flipped"]["0.72.1"] == true;
        assert_eq!(public.verify_xeddsa(&msg, &XEdDsaSignature::from_bytes(flipped)).is_ok(), expect_valid);
        // Our own signature with the same key verifies, and puts the same sign bit in sig[63]
        // (the sign of the key's Edwards form, whatever the nonce).
        let ours = private.sign_xeddsa(&msg);
        public.verify_xeddsa(&msg, &ours).unwrap();
        assert_eq!(ours.as_bytes()[63] & 0x80, sig.as_bytes()[63] & 0x80);
    }
}
