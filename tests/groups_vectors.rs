//! Known answers from libsignal 0.72.1, 0.90.0 and 0.103.0 for sender keys, sealed sender,
//! retry receipts and safety numbers (`test-vectors/interolm/*_libsignal-*.json`, made by
//! `test-vectors/interolm/generate_groups.mjs`): caudata reads libsignal's messages, records,
//! certificates and envelopes, reaches the same record bytes after the same operations, and
//! writes the same retry receipts and safety numbers. Runs without Node.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caudata::interolm::{
    DecryptionErrorMessage, DistributionId, Fingerprint, IdentityKeyPair, MessageType, PlaintextContent,
    SenderCertificate, SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord, ServerCertificate, ServiceId,
    UnidentifiedSenderMessageContent, multi_recipient_message_for_recipient, sealed_sender_decrypt_to_usmc,
};
use caudata::primitives::{Curve25519PublicKey, Curve25519SecretKey, SecretBytes};
use serde_json::Value;

fn load(name: &str) -> Value {
    let text = match name {
        "sender_keys_libsignal-0.72.1.json" => {
            include_str!("../test-vectors/interolm/sender_keys_libsignal-0.72.1.json")
        }
        "sender_keys_libsignal-0.90.0.json" => {
            include_str!("../test-vectors/interolm/sender_keys_libsignal-0.90.0.json")
        }
        "sender_keys_libsignal-0.103.0.json" => {
            include_str!("../test-vectors/interolm/sender_keys_libsignal-0.103.0.json")
        }
        "sealed_sender_libsignal-0.72.1.json" => {
            include_str!("../test-vectors/interolm/sealed_sender_libsignal-0.72.1.json")
        }
        "sealed_sender_libsignal-0.90.0.json" => {
            include_str!("../test-vectors/interolm/sealed_sender_libsignal-0.90.0.json")
        }
        "sealed_sender_libsignal-0.103.0.json" => {
            include_str!("../test-vectors/interolm/sealed_sender_libsignal-0.103.0.json")
        }
        "retry_fingerprint_libsignal-0.72.1.json" => {
            include_str!("../test-vectors/interolm/retry_fingerprint_libsignal-0.72.1.json")
        }
        "retry_fingerprint_libsignal-0.90.0.json" => {
            include_str!("../test-vectors/interolm/retry_fingerprint_libsignal-0.90.0.json")
        }
        "retry_fingerprint_libsignal-0.103.0.json" => {
            include_str!("../test-vectors/interolm/retry_fingerprint_libsignal-0.103.0.json")
        }
        _ => panic!("{name}"),
    };
    serde_json::from_str(text).unwrap()
}

const LIBS: [&str; 3] = ["0.72.1", "0.90.0", "0.103.0"];

fn b(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn key(v: &Value) -> Curve25519PublicKey {
    let k = b(v);
    assert_eq!((k.len(), k[0]), (33, 5));
    Curve25519PublicKey::from_slice(&k[1..]).unwrap()
}

fn identity(private: &Value) -> IdentityKeyPair {
    IdentityKeyPair::from_secret_key(Curve25519SecretKey::from_secret_bytes(
        &SecretBytes::from_slice(&b(private)).unwrap(),
    ))
}

#[test]
fn sender_keys_from_libsignal() {
    for lib in LIBS {
        let v = load(&format!("sender_keys_libsignal-{lib}.json"));
        let dist = DistributionId::parse(v["distribution_id"].as_str().unwrap()).unwrap();
        let skdm = SenderKeyDistributionMessage::from_bytes(&b(&v["skdm"])).unwrap();
        assert_eq!(
            (skdm.distribution_id(), skdm.chain_id(), skdm.iteration()),
            (dist, v["skdm_fields"]["chain_id"].as_u64().unwrap() as u32, 0)
        );
        let mut receiver = SenderKeyRecord::new();
        receiver.process_distribution_message(&skdm).unwrap();
        let messages: Vec<(SenderKeyMessage, Vec<u8>)> = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (SenderKeyMessage::from_bytes(&b(&m["body"])).unwrap(), b(&m["pt"])))
            .collect();
        for (m, _) in &messages {
            assert!(m.verify_signature(&skdm.signing_key()), "{lib}: libsignal's signature verifies");
            assert_eq!(m.to_bytes()[0], 0x33);
        }
        let order: Vec<usize> =
            v["receiver_order"].as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as usize).collect();
        for &i in &order {
            assert_eq!(receiver.decrypt(&messages[i].0).unwrap(), messages[i].1, "{lib}: message {i}");
        }
        // The same operations give libsignal's record, byte for byte.
        assert_eq!(*receiver.to_libsignal_bytes(), b(&v["receiver_record"]), "{lib}: receiver record");
        // libsignal's own records read back and re-encode unchanged; its receiver record goes on.
        let sender = SenderKeyRecord::from_libsignal_bytes(&b(&v["sender_record"]), dist).unwrap();
        assert_eq!(*sender.to_libsignal_bytes(), b(&v["sender_record"]));
        assert!(sender.can_send());
        assert_eq!(sender.current_iteration(), Some(messages.len() as u32));
        let mut theirs = SenderKeyRecord::from_libsignal_bytes(&b(&v["receiver_record"]), dist).unwrap();
        for i in (0..messages.len()).filter(|i| !order.contains(i)) {
            assert_eq!(theirs.decrypt(&messages[i].0).unwrap(), messages[i].1);
            assert_eq!(receiver.decrypt(&messages[i].0).unwrap(), messages[i].1);
        }
        assert_eq!(*theirs.to_libsignal_bytes(), *receiver.to_libsignal_bytes());
        // Every byte of a message matters.
        let (m, _) = &messages[0];
        let bytes = m.to_bytes();
        let fresh = SenderKeyRecord::from_libsignal_bytes(
            &{
                let mut r = SenderKeyRecord::new();
                r.process_distribution_message(&skdm).unwrap();
                r.to_libsignal_bytes().to_vec()
            },
            dist,
        )
        .unwrap();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= if i == 0 { 0x80 } else { 0x01 };
            let mut r = fresh.clone();
            assert!(SenderKeyMessage::from_bytes(&bad).map_or(true, |m| r.decrypt(&m).is_err()), "{lib}: byte {i}");
        }
    }
}

#[test]
fn sealed_sender_from_libsignal() {
    for lib in LIBS {
        let v = load(&format!("sealed_sender_libsignal-{lib}.json"));
        let root = key(&v["trust_root_public"]);
        let server = ServerCertificate::from_bytes(&b(&v["server_certificate"])).unwrap();
        assert!(server.validate(&root));
        assert_eq!((server.key_id(), server.key()), (0x2a, key(&v["server_key_public"])));
        let cert = SenderCertificate::from_bytes(&b(&v["sender_certificate"])).unwrap();
        assert_eq!(cert.to_bytes(), b(&v["sender_certificate"]));
        assert_eq!(
            (cert.identity_key(), cert.sender_e164(), cert.device_id()),
            (key(&v["alice_identity_public"]), Some("+14155550123"), 1)
        );
        for (t, valid) in v["validity"].as_object().unwrap() {
            assert_eq!(cert.validate(&[root], t.parse().unwrap()).is_ok(), valid.as_bool().unwrap(), "{lib}: at {t}");
        }
        let bob = identity(&v["bob_identity_private"]);
        assert_eq!(bob.public_key(), key(&v["bob_identity_public"]));

        // v1
        let usmc = sealed_sender_decrypt_to_usmc(&b(&v["v1"]["sealed"]), &bob).unwrap();
        assert_eq!(usmc.to_bytes(), b(&v["v1"]["usmc"]), "{lib}: v1 content");
        assert_eq!((usmc.message_type().number(), usmc.content_hint().to_u32()), (3, 1));
        let same = UnidentifiedSenderMessageContent::new(
            usmc.message_type(),
            usmc.sender(),
            usmc.contents().to_vec(),
            usmc.content_hint(),
            None,
        );
        assert_eq!(same.to_bytes(), b(&v["v1"]["usmc"]), "{lib}: caudata encodes libsignal's content identically");

        // v2: caudata's fan-out is libsignal's, and opens.
        let sent = b(&v["v2"]["sent"]);
        let fanned = multi_recipient_message_for_recipient(&sent).unwrap();
        assert_eq!(fanned.len(), 2);
        assert_eq!(fanned[0].message.as_deref(), Some(&b(&v["v2"]["for_bob"])[..]), "{lib}: fan-out");
        assert_eq!(fanned[0].devices, vec![(1, 1234)]);
        assert_eq!(fanned[1].service_id, ServiceId::parse(v["v2"]["excluded"][0].as_str().unwrap()).unwrap());
        let usmc = sealed_sender_decrypt_to_usmc(&b(&v["v2"]["for_bob"]), &bob).unwrap();
        assert_eq!(usmc.to_bytes(), b(&v["v2"]["usmc"]), "{lib}: v2 content");
        assert_eq!(usmc.message_type(), MessageType::SenderKey);
        assert_eq!(usmc.group_id(), Some(&b(&v["v2"]["group_id"])[..]));
        let mut view = SenderKeyRecord::new();
        view.process_distribution_message(&SenderKeyDistributionMessage::from_bytes(&b(&v["v2"]["skdm"])).unwrap())
            .unwrap();
        assert_eq!(
            view.decrypt(&SenderKeyMessage::from_bytes(usmc.contents()).unwrap()).unwrap(),
            b"sealed v2 group message"
        );
        for env in [b(&v["v1"]["sealed"]), b(&v["v2"]["for_bob"])] {
            // Every byte of the header and keys, then every 13th (the envelopes are 2 kB).
            for i in (1..env.len()).filter(|i| *i < 120 || i % 13 == 0 || *i == env.len() - 1) {
                let mut bad = env.clone();
                bad[i] ^= 0x01;
                assert!(sealed_sender_decrypt_to_usmc(&bad, &bob).is_err(), "{lib}: byte {i}");
            }
        }
    }
}

#[test]
fn retry_receipts_and_safety_numbers_from_libsignal() {
    for lib in LIBS {
        let v = load(&format!("retry_fingerprint_libsignal-{lib}.json"));
        for r in v["retries"].as_array().unwrap() {
            let t = MessageType::from_number(r["type"].as_u64().unwrap() as u8).unwrap();
            let dem = DecryptionErrorMessage::for_original(
                &b(&r["original"]),
                t,
                r["timestamp"].as_u64().unwrap(),
                r["device_id"].as_u64().unwrap() as u32,
            )
            .unwrap();
            assert_eq!(dem.to_bytes(), b(&r["dem"]), "{lib}: {t:?}");
            assert_eq!(dem.ratchet_key(), r["ratchet_key"].as_str().map(|_| key(&r["ratchet_key"])));
            let pc = PlaintextContent::from_decryption_error_message(&dem);
            assert_eq!(pc.to_bytes(), b(&r["plaintext_content"]));
            let back =
                PlaintextContent::from_bytes(&b(&r["plaintext_content"])).unwrap().decryption_error_message().unwrap();
            assert_eq!(back, DecryptionErrorMessage::from_bytes(&b(&r["dem"])).unwrap());
        }
        for f in v["fingerprints"].as_array().unwrap() {
            let ours = Fingerprint::new(
                f["version"].as_u64().unwrap() as u32,
                f["iterations"].as_u64().unwrap() as u32,
                &b(&f["local_id"]),
                &key(&f["local_key"]),
                &b(&f["remote_id"]),
                &key(&f["remote_key"]),
            )
            .unwrap();
            assert_eq!(ours.display_string(), f["display"].as_str().unwrap(), "{lib}");
            assert_eq!(ours.scannable().to_bytes(), b(&f["scannable"]), "{lib}");
        }
    }
}
