//! Live interoperability of sealed sender, retry receipts and safety numbers with libsignal
//! 0.72.1, 0.90.0, 0.92.2 and 0.103.0, through `interop/libsignal/groups.mjs`, in both directions:
//!
//! * trust roots, server and sender certificates made on either side and validated by both;
//! * sealed sender v1 around 1:1 messages (pre-key and whisper), with content hints and group
//!   ids; v2 multi-recipient messages (several devices per recipient, excluded recipients),
//!   parsed and fanned out by libsignal's and by caudata's server-side code, opened by both;
//! * a group conversation over sealed sender: distribution messages in sealed 1:1 messages,
//!   group messages (type 7) in multi-recipient envelopes;
//! * retry receipts: `DecryptionErrorMessage` and `PlaintextContent` (type 8), byte-equal on
//!   both sides, naming the ratchet key the sender's session recognises;
//! * safety numbers equal to libsignal's;
//! * bad input refused by both: forged, expired, revoked and untrusted certificates, a
//!   certificate naming another key than the sealing one, tampered and truncated envelopes,
//!   unknown versions, self-sent messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod groups_common;
mod libsignal_peer;

use caudata::interolm::{
    ContentHint, DecryptionErrorMessage, DeviceId, DistributionId, Fingerprint, IdentityKeyPair, InterolmMessage,
    MessageType, PlaintextContent, ProtocolAddress, SealedSenderRecipient, SenderCertificate,
    SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord, ServerCertificate, ServiceId,
    UnidentifiedSenderMessageContent, multi_recipient_message_for_recipient, sealed_sender_decrypt,
    sealed_sender_decrypt_to_usmc, sealed_sender_encrypt, sealed_sender_multi_recipient_encrypt,
};
use caudata::primitives::{Curve25519PublicKey, Curve25519SecretKey, SecretBytes};
use caudata::{CertificateError, SealedSenderError};
use groups_common::{CaudataDevice, LIBS};
use libsignal_peer::{Peer, bundle_from_json, bytes, hex33, key33, u32_of};
use serde_json::{Value, json};

const ALICE: &str = "9d0652a3-dcc3-4d11-975f-74d61598733f"; // caudata
const BOB: &str = "aaaaaaaa-7000-11eb-b32a-33b8a8a487a6"; // libsignal
const CAROL: &str = "bbbbbbbb-7000-11eb-b32a-33b8a8a487a6"; // libsignal
const DAVE: &str = "dddddddd-7000-11eb-b32a-33b8a8a487a6"; // excluded
const EXPIRES: u64 = 1_800_000_000_000;
const NOW: u64 = 1_700_000_000_000;

fn secret(v: &Value) -> Curve25519SecretKey {
    Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_slice(&bytes(v)).unwrap())
}

/// A trust root and a server certificate made by libsignal in the harness.
struct Pki {
    root: Curve25519SecretKey,
    server_cert: Vec<u8>,
    server_key: Curve25519SecretKey,
}

impl Pki {
    fn libsignal(peer: &mut Peer, lib: &str, key_id: u32) -> Self {
        let root = peer.call(json!({"cmd": "ss_keypair", "lib": lib}));
        let server = peer.call(json!({"cmd": "ss_keypair", "lib": lib}));
        let cert = peer.call(json!({"cmd": "ss_server_cert", "lib": lib, "key_id": key_id, "key": server["public"], "trust_root_private": root["private"]}));
        Self {
            root: secret(&root["private"]),
            server_cert: bytes(&cert["cert"]),
            server_key: secret(&server["private"]),
        }
    }

    fn root_hex(&self) -> String {
        hex33(&self.root.public_key())
    }

    /// A sender certificate made by libsignal.
    fn libsignal_cert(
        &self,
        peer: &mut Peer,
        lib: &str,
        uuid: &str,
        device: u32,
        key: &Curve25519PublicKey,
        expires: u64,
    ) -> Vec<u8> {
        bytes(
            &peer.call(json!({
                "cmd": "ss_sender_cert", "lib": lib, "uuid": uuid, "e164": "+15551230000", "device_id": device,
                "identity_key": hex33(key), "expiration": expires, "server_cert": hex::encode(&self.server_cert),
                "server_private": hex::encode(self.server_key.to_secret_bytes().expose()),
            }))["cert"],
        )
    }

    /// The same certificate made by caudata.
    fn caudata_cert(&self, uuid: &str, device: u32, key: &Curve25519PublicKey, expires: u64) -> SenderCertificate {
        let server = ServerCertificate::from_bytes(&self.server_cert).unwrap();
        SenderCertificate::new(
            uuid,
            Some("+15551230000"),
            DeviceId::new(device).unwrap(),
            key,
            expires,
            server,
            &self.server_key,
        )
    }
}

fn identity_of(peer: &mut Peer, p: &str) -> Curve25519PublicKey {
    key33(&peer.call(json!({"cmd": "export_party", "p": p}))["secrets"]["identity_public"])
}

fn registration_of(peer: &mut Peer, p: &str) -> u32 {
    u32_of(&peer.call(json!({"cmd": "export_party", "p": p}))["bundle"]["registration_id"])
}

fn service(s: &str) -> ServiceId {
    ServiceId::parse(s).unwrap()
}

fn decrypt_inner(alice: &mut CaudataDevice, from: &str, usmc: &UnidentifiedSenderMessageContent) -> Vec<u8> {
    let m = InterolmMessage::from_parts(usmc.message_type().number().into(), usmc.contents()).unwrap();
    alice.sessions.get_mut(from).unwrap().decrypt(&m).unwrap()
}

#[test]
fn certificates_made_on_either_side_validate_on_both() {
    let mut peer = Peer::start_groups();
    for lib in LIBS {
        let pki = Pki::libsignal(&mut peer, lib, 0x51);
        let key = Curve25519SecretKey::new().public_key();
        let theirs = pki.libsignal_cert(&mut peer, lib, ALICE, 3, &key, EXPIRES);
        let ours = pki.caudata_cert(ALICE, 3, &key, EXPIRES);
        // Only the signatures differ (XEdDSA draws fresh randomness).
        let parsed = SenderCertificate::from_bytes(&theirs).unwrap();
        assert_eq!((parsed.sender_uuid(), parsed.sender_e164(), parsed.device_id()), (ALICE, Some("+15551230000"), 3));
        assert_eq!((parsed.identity_key(), parsed.expiration(), parsed.signer().key_id()), (key, EXPIRES, 0x51));
        assert_eq!(parsed.to_bytes(), theirs);
        assert_eq!(theirs.len(), ours.to_bytes().len());
        let other_root = Curve25519SecretKey::new().public_key();
        for cert in [theirs, ours.to_bytes()] {
            let c = SenderCertificate::from_bytes(&cert).unwrap();
            for (roots, time, want) in [
                (vec![pki.root.public_key()], NOW, Ok(())),
                (vec![pki.root.public_key()], EXPIRES, Ok(())),
                (
                    vec![pki.root.public_key()],
                    EXPIRES + 1,
                    Err(CertificateError::Expired { expiration: EXPIRES, now: EXPIRES + 1 }),
                ),
                (vec![other_root], NOW, Err(CertificateError::UntrustedServer)),
                (vec![other_root, pki.root.public_key()], NOW, Ok(())),
                (vec![], NOW, Err(CertificateError::UntrustedServer)),
            ] {
                assert_eq!(c.validate(&roots, time), want, "{lib}");
                if lib == "0.72.1" && roots.len() != 1 {
                    continue; // 0.72.1 validates against one trust root only
                }
                let r = peer.call(json!({"cmd": "ss_validate", "lib": lib, "cert": hex::encode(&cert),
                    "trust_roots": roots.iter().map(hex33).collect::<Vec<_>>(), "time": time}));
                assert_eq!(r["valid"], want.is_ok(), "{lib}: libsignal and caudata disagree ({roots:?}, {time})");
            }
            // A flipped bit in either signature, or in a certified field.
            let server = ServerCertificate::from_bytes(&pki.server_cert).unwrap();
            for i in [cert.len() - 1, cert.len() - 40, 6, 12] {
                let mut bad = cert.clone();
                bad[i] ^= 0x04;
                let c = SenderCertificate::from_bytes(&bad);
                let ours = c.as_ref().map(|c| c.validate(&[pki.root.public_key()], NOW).is_ok()).unwrap_or(false);
                let r = peer.request(json!({"cmd": "ss_validate", "lib": lib, "cert": hex::encode(&bad), "trust_roots": [pki.root_hex()], "time": NOW}));
                let theirs = r["ok"] == true && r["valid"] == true;
                assert!(!ours && !theirs, "{lib}: byte {i} flipped: caudata {ours}, libsignal {theirs}");
            }
            assert!(server.validate(&pki.root.public_key()));
        }
        // The revoked test id 0xDEADC357: refused by both whatever the signatures.
        let revoked = Pki::libsignal(&mut peer, lib, 0xDEAD_C357);
        let cert = revoked.libsignal_cert(&mut peer, lib, ALICE, 1, &key, EXPIRES);
        let c = SenderCertificate::from_bytes(&cert).unwrap();
        assert_eq!(c.validate(&[revoked.root.public_key()], NOW), Err(CertificateError::Revoked(0xDEAD_C357)));
        let r = peer.call(json!({"cmd": "ss_validate", "lib": lib, "cert": hex::encode(&cert), "trust_roots": [revoked.root_hex()], "time": NOW}));
        assert_eq!(r["valid"], false, "{lib}");
    }
}

#[test]
fn sealed_1to1_group_and_retry_with_every_version() {
    let mut peer = Peer::start_groups();
    for lib in LIBS {
        let pki = Pki::libsignal(&mut peer, lib, 7);
        let (pb, pc) = (format!("bob@{lib}"), format!("carol@{lib}"));
        peer.call(json!({"cmd": "new_party", "p": pb, "lib": lib, "name": BOB}));
        peer.call(json!({"cmd": "new_party", "p": pc, "lib": lib, "name": CAROL}));
        let mut alice = CaudataDevice::new(ALICE, 1234);
        let alice_cert = pki.caudata_cert(ALICE, 1, &alice.identity.public_key(), EXPIRES);
        let bob_key = identity_of(&mut peer, &pb);
        let bob_cert = pki.libsignal_cert(&mut peer, lib, BOB, 1, &bob_key, EXPIRES);
        let alice_address = ProtocolAddress::new(ALICE, DeviceId::PRIMARY);

        // 1. caudata → libsignal, v1 around a pre-key message.
        let (t, body) = alice.start_with(&mut peer, &pb, BOB, b"sealed hello");
        assert_eq!(t, 3);
        let usmc = UnidentifiedSenderMessageContent::new(
            MessageType::PreKey,
            alice_cert.clone(),
            body,
            ContentHint::Resendable,
            None,
        );
        let sealed = sealed_sender_encrypt(&usmc, &alice.identity, &bob_key).unwrap();
        assert_eq!(sealed[0], 0x11);
        let r = peer.call(json!({"cmd": "ss_decrypt", "p": pb, "body": hex::encode(&sealed), "trust_root": pki.root_hex(), "time": NOW}));
        assert_eq!(
            (bytes(&r["pt"]), r["sender_uuid"].as_str(), r["device_id"].as_u64()),
            (b"sealed hello".to_vec(), Some(ALICE), Some(1))
        );
        let r = peer.call(json!({"cmd": "ss_decrypt_to_usmc", "p": pb, "body": hex::encode(&sealed)}));
        assert_eq!(bytes(&r["usmc"]), usmc.to_bytes(), "{lib}: libsignal reads caudata's content byte for byte");
        assert_eq!((r["type"].as_u64(), r["content_hint"].as_u64(), r["group_id"].is_null()), (Some(3), Some(1), true));

        // 2. libsignal → caudata, v1 around a whisper message, with a hint and a group id.
        let u = peer.call(
            json!({"cmd": "ss_usmc", "p": pb, "peer_name": ALICE, "peer_device": 1, "pt": hex::encode(b"sealed reply"),
            "sender_cert": hex::encode(&bob_cert), "content_hint": 2, "group_id": "0123456789abcdef"}),
        );
        let s =
            peer.call(json!({"cmd": "ss_seal_v1", "p": pb, "peer_name": ALICE, "peer_device": 1, "usmc": u["usmc"]}));
        let got = sealed_sender_decrypt(
            &bytes(&s["sealed"]),
            &alice.identity,
            &[pki.root.public_key()],
            NOW,
            Some(&alice_address),
        )
        .unwrap();
        assert_eq!(got.to_bytes(), bytes(&u["usmc"]));
        assert_eq!(
            (got.message_type(), got.content_hint(), got.group_id()),
            (MessageType::Whisper, ContentHint::Implicit, Some(&bytes(&json!("0123456789abcdef"))[..]))
        );
        assert_eq!((got.sender().sender_uuid(), got.sender().identity_key()), (BOB, bob_key));
        // caudata's encoding of the same content is libsignal's.
        let same = UnidentifiedSenderMessageContent::new(
            got.message_type(),
            got.sender(),
            got.contents().to_vec(),
            got.content_hint(),
            got.group_id().map(<[u8]>::to_vec),
        );
        assert_eq!(same.to_bytes(), got.to_bytes());
        assert_eq!(decrypt_inner(&mut alice, BOB, &got), b"sealed reply");

        // 3. libsignal → caudata and carol, v2 multi-recipient (carol gets a session with bob
        //    first; dave is excluded).
        let carol_bundle = peer.call(json!({"cmd": "export_party", "p": pc}))["bundle"].clone();
        peer.call(
            json!({"cmd": "process_bundle", "p": pb, "peer_name": CAROL, "peer_device_id": 1, "bundle": carol_bundle}),
        );
        let u = peer.call(
            json!({"cmd": "ss_usmc", "p": pb, "peer_name": ALICE, "peer_device": 1, "pt": hex::encode(b"v2 for alice"),
            "sender_cert": hex::encode(&bob_cert), "content_hint": 1}),
        );
        let sent = bytes(&peer.call(json!({"cmd": "ss_multi", "p": pb, "recipients": [{"name": ALICE, "device": 1}, {"name": CAROL, "device": 1}],
            "excluded": [DAVE], "usmc": u["usmc"]}))["sent"]);
        assert_eq!(sent[0], 0x23);
        let split = peer.call(json!({"cmd": "ss_split", "lib": lib, "sent": hex::encode(&sent)}));
        let ours = multi_recipient_message_for_recipient(&sent).unwrap();
        assert_eq!(ours.len(), 3);
        assert_eq!(
            (ours[2].service_id, ours[2].devices.is_empty(), ours[2].message.is_none()),
            (service(DAVE), true, true)
        );
        assert_eq!(split["excluded"], json!([DAVE]));
        for d in &ours[..2] {
            let theirs = &split["recipients"][d.service_id.to_string()];
            assert_eq!(bytes(&theirs["message"]), *d.message.as_ref().unwrap(), "{lib}: the fan-out agrees");
            assert_eq!(theirs["device_ids"], json!(d.devices.iter().map(|d| d.0).collect::<Vec<_>>()));
            assert_eq!(theirs["registration_ids"], json!(d.devices.iter().map(|d| d.1).collect::<Vec<_>>()));
        }
        assert_eq!(ours[0].devices, vec![(1, 1234)]);
        let to_alice = ours[0].message.clone().unwrap();
        assert_eq!(to_alice[0], 0x22);
        let got =
            sealed_sender_decrypt(&to_alice, &alice.identity, &[pki.root.public_key()], NOW, Some(&alice_address))
                .unwrap();
        assert_eq!(got.to_bytes(), bytes(&u["usmc"]));
        assert_eq!(decrypt_inner(&mut alice, BOB, &got), b"v2 for alice");
        let r = peer.call(json!({"cmd": "ss_decrypt_to_usmc", "p": pc, "body": split["recipients"][CAROL]["message"]}));
        assert_eq!(bytes(&r["usmc"]), bytes(&u["usmc"]));

        // 4. A group over sealed sender. Alice's distribution message reaches bob in a sealed
        //    1:1 message, carol directly; then alice's group messages go out as one v2 message.
        let group = DistributionId::random_v4();
        let mut own = SenderKeyRecord::new();
        let skdm = own.create_distribution_message(group).unwrap().to_bytes();
        let (t, body) = alice.sessions.get_mut(BOB).unwrap().encrypt(&skdm[..]).unwrap().to_parts();
        let usmc = UnidentifiedSenderMessageContent::new(
            MessageType::from_number(t as u8).unwrap(),
            alice_cert.clone(),
            body,
            ContentHint::Default,
            None,
        );
        let sealed = sealed_sender_encrypt(&usmc, &alice.identity, &bob_key).unwrap();
        let r = peer.call(json!({"cmd": "ss_decrypt", "p": pb, "body": hex::encode(&sealed), "trust_root": pki.root_hex(), "time": NOW}));
        peer.call(json!({"cmd": "sk_process", "p": pb, "sender_name": ALICE, "sender_device": 1, "skdm": r["pt"]}));
        peer.call(json!({"cmd": "sk_process", "p": pc, "sender_name": ALICE, "sender_device": 1, "skdm": hex::encode(&*skdm)}));
        let recipients = [
            SealedSenderRecipient {
                service_id: service(BOB),
                identity_key: bob_key,
                devices: vec![(DeviceId::PRIMARY, registration_of(&mut peer, &pb))],
            },
            SealedSenderRecipient {
                service_id: service(CAROL),
                identity_key: identity_of(&mut peer, &pc),
                devices: vec![(DeviceId::PRIMARY, registration_of(&mut peer, &pc))],
            },
        ];
        for k in 0..3 {
            let pt = format!("group message {k}");
            let m = own.encrypt(group, pt.as_bytes()).unwrap();
            let usmc = UnidentifiedSenderMessageContent::new(
                MessageType::SenderKey,
                alice_cert.clone(),
                m.to_bytes(),
                ContentHint::Resendable,
                Some(group.as_bytes().to_vec()),
            );
            let sent =
                sealed_sender_multi_recipient_encrypt(&usmc, &alice.identity, &recipients, &[service(DAVE)]).unwrap();
            let split = peer.call(json!({"cmd": "ss_split", "lib": lib, "sent": hex::encode(&sent)}));
            assert_eq!(split["excluded"], json!([DAVE]));
            for (p, name) in [(&pb, BOB), (&pc, CAROL)] {
                let u = peer
                    .call(json!({"cmd": "ss_decrypt_to_usmc", "p": p, "body": split["recipients"][name]["message"]}));
                assert_eq!((u["type"].as_u64(), bytes(&u["group_id"])), (Some(7), group.as_bytes().to_vec()));
                let r = peer.call(json!({"cmd": "sk_decrypt", "p": p, "sender_name": u["sender"]["sender_uuid"], "sender_device": 1, "body": u["contents"]}));
                assert_eq!(bytes(&r["pt"]), pt.as_bytes(), "{lib} {name}");
            }
        }
        //    And bob's group messages to alice: his distribution message in a sealed 1:1
        //    message, his group messages in v2 envelopes fanned out by caudata.
        let bob_group = DistributionId::random_v4();
        let skdm = peer.call(json!({"cmd": "sk_create", "p": pb, "distribution_id": bob_group.to_string()}));
        let u = peer.call(json!({"cmd": "ss_usmc", "p": pb, "peer_name": ALICE, "peer_device": 1, "pt": skdm["skdm"], "sender_cert": hex::encode(&bob_cert)}));
        let s =
            peer.call(json!({"cmd": "ss_seal_v1", "p": pb, "peer_name": ALICE, "peer_device": 1, "usmc": u["usmc"]}));
        let got = sealed_sender_decrypt(
            &bytes(&s["sealed"]),
            &alice.identity,
            &[pki.root.public_key()],
            NOW,
            Some(&alice_address),
        )
        .unwrap();
        let skdm = SenderKeyDistributionMessage::from_bytes(&decrypt_inner(&mut alice, BOB, &got)).unwrap();
        let mut view = SenderKeyRecord::new();
        view.process_distribution_message(&skdm).unwrap();
        let mut envelopes = Vec::new();
        for k in 0..3 {
            let u = peer.call(json!({"cmd": "ss_usmc", "p": pb, "distribution_id": bob_group.to_string(), "pt": hex::encode(format!("from bob {k}")),
                "sender_cert": hex::encode(&bob_cert), "content_hint": 1, "group_id": hex::encode(bob_group.as_bytes())}));
            let sent = bytes(&peer.call(json!({"cmd": "ss_multi", "p": pb, "recipients": [{"name": ALICE, "device": 1}, {"name": CAROL, "device": 1}], "usmc": u["usmc"]}))["sent"]);
            envelopes.push(multi_recipient_message_for_recipient(&sent).unwrap()[0].message.clone().unwrap());
        }
        for k in [2usize, 0, 1] {
            let got = sealed_sender_decrypt(
                &envelopes[k],
                &alice.identity,
                &[pki.root.public_key()],
                NOW,
                Some(&alice_address),
            )
            .unwrap();
            assert_eq!(got.message_type(), MessageType::SenderKey);
            let m = SenderKeyMessage::from_bytes(got.contents()).unwrap();
            assert_eq!(view.decrypt(&m).unwrap(), format!("from bob {k}").as_bytes());
        }

        // 5. Retry receipts (type 8) in sealed envelopes, both ways; the sender's session
        //    recognises the ratchet key.
        let (t, failed) = alice.sessions.get_mut(BOB).unwrap().encrypt(b"this one 'fails'").unwrap().to_parts();
        let dem = peer.call(json!({"cmd": "dem_for_original", "lib": lib, "body": hex::encode(&failed), "type": t, "timestamp": NOW, "device_id": 1}));
        let ours =
            DecryptionErrorMessage::for_original(&failed, MessageType::from_number(t as u8).unwrap(), NOW, 1).unwrap();
        assert_eq!(ours.to_bytes(), bytes(&dem["dem"]), "{lib}: DecryptionErrorMessage bytes");
        let pc_bytes =
            bytes(&peer.call(json!({"cmd": "plaintext_from_dem", "lib": lib, "dem": dem["dem"]}))["plaintext"]);
        assert_eq!(
            PlaintextContent::from_decryption_error_message(&ours).to_bytes(),
            pc_bytes,
            "{lib}: PlaintextContent bytes"
        );
        let u = peer.call(json!({"cmd": "ss_usmc", "p": pb, "plaintext": hex::encode(&pc_bytes), "sender_cert": hex::encode(&bob_cert), "content_hint": 2}));
        let s =
            peer.call(json!({"cmd": "ss_seal_v1", "p": pb, "peer_name": ALICE, "peer_device": 1, "usmc": u["usmc"]}));
        let got = sealed_sender_decrypt(
            &bytes(&s["sealed"]),
            &alice.identity,
            &[pki.root.public_key()],
            NOW,
            Some(&alice_address),
        )
        .unwrap();
        assert_eq!(got.message_type(), MessageType::Plaintext);
        let request = PlaintextContent::from_bytes(got.contents()).unwrap().decryption_error_message().unwrap();
        assert_eq!((request.timestamp(), request.device_id()), (NOW, 1));
        assert!(alice.sessions[BOB].current_ratchet_key_matches(&request.ratchet_key().unwrap()));
        //    caudata asks bob to resend one of his messages.
        let r = peer.call(json!({"cmd": "encrypt", "p": pb, "peer_name": ALICE, "peer_device_id": 1, "pt": "00"}));
        let dem = DecryptionErrorMessage::for_original(
            &bytes(&r["body"]),
            MessageType::from_number(r["type"].as_u64().unwrap() as u8).unwrap(),
            NOW + 5,
            1,
        )
        .unwrap();
        let retry = PlaintextContent::from_decryption_error_message(&dem);
        let usmc = UnidentifiedSenderMessageContent::new(
            MessageType::Plaintext,
            alice_cert.clone(),
            retry.to_bytes(),
            ContentHint::Implicit,
            None,
        );
        let sealed = sealed_sender_encrypt(&usmc, &alice.identity, &bob_key).unwrap();
        let u = peer.call(json!({"cmd": "ss_decrypt_to_usmc", "p": pb, "body": hex::encode(&sealed)}));
        assert_eq!(u["type"].as_u64(), Some(8));
        let parsed = peer.call(json!({"cmd": "plaintext_parse", "lib": lib, "plaintext": u["contents"]}));
        assert_eq!(parsed["timestamp"].as_u64(), Some(NOW + 5));
        let m = peer.call(json!({"cmd": "ratchet_key_matches", "p": pb, "peer_name": ALICE, "peer_device": 1, "ratchet_key": parsed["ratchet_key"]}));
        assert_eq!(m["matches"], true, "{lib}: bob's session recognises its ratchet key");
    }
}

#[test]
fn retry_messages_are_byte_equal_for_every_message_type() {
    let mut peer = Peer::start_groups();
    for lib in LIBS {
        let pb = format!("bob-dem@{lib}");
        peer.call(json!({"cmd": "new_party", "p": pb, "lib": lib, "name": BOB}));
        let mut alice = CaudataDevice::new(ALICE, 77);
        let (t3, pre_key) = alice.start_with(&mut peer, &pb, BOB, b"1");
        let r = peer.call(json!({"cmd": "decrypt", "p": pb, "peer_name": ALICE, "peer_device_id": 1, "type": t3, "body": hex::encode(&pre_key)}));
        assert_eq!(bytes(&r["pt"]), b"1");
        let r = peer.call(json!({"cmd": "encrypt", "p": pb, "peer_name": ALICE, "peer_device_id": 1, "pt": "02"}));
        let whisper = bytes(&r["body"]);
        let mut own = SenderKeyRecord::new();
        let g = DistributionId::random_v4();
        own.create_distribution_message(g).unwrap();
        let group = own.encrypt(g, b"3").unwrap().to_bytes();
        for (t, body, device, ts) in
            [(3u8, &pre_key, 1u32, 0u64), (2, &whisper, 127, (1u64 << 53) - 1), (7, &group, 42, 1)]
        {
            let ours =
                DecryptionErrorMessage::for_original(body, MessageType::from_number(t).unwrap(), ts, device).unwrap();
            let theirs = peer.call(json!({"cmd": "dem_for_original", "lib": lib, "body": hex::encode(body), "type": t, "timestamp": ts, "device_id": device}));
            assert_eq!(ours.to_bytes(), bytes(&theirs["dem"]), "{lib} type {t}");
            let parsed = peer.call(json!({"cmd": "dem_parse", "lib": lib, "dem": theirs["dem"]}));
            assert_eq!(parsed["ratchet_key"].as_str().map(str::to_owned), ours.ratchet_key().map(|k| hex33(&k)));
            let pc = peer.call(json!({"cmd": "plaintext_from_dem", "lib": lib, "dem": theirs["dem"]}));
            let ours_pc = PlaintextContent::from_decryption_error_message(&ours);
            assert_eq!(ours_pc.to_bytes(), bytes(&pc["plaintext"]));
            assert_eq!(ours_pc.body(), bytes(&pc["body"]));
        }
        // A plaintext content cannot be the subject of a retry request, on either side.
        assert!(DecryptionErrorMessage::for_original(&[0xC0], MessageType::Plaintext, 1, 1).is_err());
        peer.fail(
            json!({"cmd": "dem_for_original", "lib": lib, "body": "c0", "type": 8, "timestamp": 1, "device_id": 1}),
        );
        // Garbage refused by both.
        for bad in [&b""[..], &[0xC0][..], &[0xC1, 0x42, 0x80][..], &[0xC0, 0x42, 0x01, 0x00, 0x80][..]] {
            let ours = PlaintextContent::from_bytes(bad).and_then(|p| p.decryption_error_message());
            let theirs = peer.request(json!({"cmd": "plaintext_parse", "lib": lib, "plaintext": hex::encode(bad)}));
            assert!(ours.is_err() && theirs["ok"] == false, "{lib} {bad:02x?}: {theirs}");
        }
    }
}

#[test]
fn safety_numbers_equal_libsignals() {
    let mut peer = Peer::start_groups();
    for (i, lib) in LIBS.iter().enumerate() {
        for (version, iterations) in [(1u32, 5200u32), (2, 5200), (2, 1024), (0, 2)] {
            let a = Curve25519SecretKey::new().public_key();
            let b = Curve25519SecretKey::new().public_key();
            let (ida, idb) = (service(ALICE).uuid().as_bytes().to_vec(), format!("+1415555{i}{version}").into_bytes());
            let ours = Fingerprint::new(version, iterations, &ida, &a, &idb, &b).unwrap();
            let theirs = peer.call(json!({"cmd": "fingerprint", "lib": lib, "iterations": iterations, "version": version,
                "local_id": hex::encode(&ida), "local_key": hex33(&a), "remote_id": hex::encode(&idb), "remote_key": hex33(&b)}));
            assert_eq!(ours.display_string(), theirs["display"].as_str().unwrap(), "{lib} v{version} x{iterations}");
            assert_eq!(ours.scannable().to_bytes(), bytes(&theirs["scannable"]));
            // the other side's view compares equal on both
            let other = Fingerprint::new(version, iterations, &idb, &b, &ida, &a).unwrap();
            assert!(ours.scannable().compare(&other.scannable().to_bytes()).unwrap());
            let r = peer.call(json!({"cmd": "fingerprint_compare", "lib": lib, "ours": hex::encode(other.scannable().to_bytes()), "theirs": theirs["scannable"]}));
            assert_eq!(r["equal"], true);
            let r = peer.call(json!({"cmd": "fingerprint_compare", "lib": lib, "ours": theirs["scannable"], "theirs": theirs["scannable"]}));
            assert_eq!(r["equal"], false);
        }
    }
}

/// Bad sealed input: both implementations refuse, and caudata's error says why.
#[test]
fn bad_sealed_input_is_refused_by_both() {
    let mut peer = Peer::start_groups();
    for lib in LIBS {
        let pki = Pki::libsignal(&mut peer, lib, 9);
        let pb = format!("bob-bad@{lib}");
        peer.call(json!({"cmd": "new_party", "p": pb, "lib": lib, "name": BOB}));
        let bob_key = identity_of(&mut peer, &pb);
        let mut alice = CaudataDevice::new(ALICE, 99);
        let (_, body) = alice.start_with(&mut peer, &pb, BOB, b"x");
        let cert = pki.caudata_cert(ALICE, 1, &alice.identity.public_key(), EXPIRES);
        let usmc = UnidentifiedSenderMessageContent::new(
            MessageType::PreKey,
            cert.clone(),
            body.clone(),
            ContentHint::Default,
            None,
        );
        let v1 = sealed_sender_encrypt(&usmc, &alice.identity, &bob_key).unwrap();
        let recipients = [SealedSenderRecipient {
            service_id: service(BOB),
            identity_key: bob_key,
            devices: vec![(DeviceId::PRIMARY, 5)],
        }];
        let sent = sealed_sender_multi_recipient_encrypt(&usmc, &alice.identity, &recipients, &[]).unwrap();
        let v2 = multi_recipient_message_for_recipient(&sent).unwrap()[0].message.clone().unwrap();

        let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
        for (name, env) in [("v1", &v1), ("v2", &v2)] {
            for i in [0usize, 1, 2, 20, 40, 60, 90, env.len() / 2, env.len() - 1] {
                let mut bad = env.clone();
                bad[i] ^= if i == 0 { 0x30 } else { 0x01 };
                cases.push((format!("{name} byte {i} flipped"), bad));
            }
            for cut in [0usize, 1, 30, 80, env.len() - 1] {
                cases.push((format!("{name} cut to {cut}"), env[..cut].to_vec()));
            }
        }
        for version in [0x33u8, 0x44] {
            let mut bad = v1.clone();
            bad[0] = version;
            cases.push((format!("version {version:#04x}"), bad));
        }
        // A known difference: libsignal reads a version byte with high nibble 0 as v1; caudata
        // refuses it (no libsignal version has ever sent one).
        let mut v0 = v1.clone();
        v0[0] = 0x01;
        assert_eq!(
            sealed_sender_decrypt_to_usmc(&v0, &alice.identity),
            Err(SealedSenderError::Decode(caudata::DecodeError::LegacyVersion(1)))
        );
        let r = peer.call(json!({"cmd": "ss_decrypt_to_usmc", "p": pb, "body": hex::encode(&v0)}));
        assert_eq!(bytes(&r["usmc"]), usmc.to_bytes(), "{lib}: libsignal opens version byte 0x01");
        // An authenticated adversary: sealed with alice's key, certificate for another key.
        let mallory = IdentityKeyPair::generate();
        let forged_cert = pki.caudata_cert(ALICE, 1, &mallory.public_key(), EXPIRES);
        let forged = UnidentifiedSenderMessageContent::new(
            MessageType::PreKey,
            forged_cert,
            body.clone(),
            ContentHint::Default,
            None,
        );
        let wrong_key_v1 = sealed_sender_encrypt(&forged, &alice.identity, &bob_key).unwrap();
        assert_eq!(
            sealed_sender_decrypt_to_usmc(&wrong_key_v1, &IdentityKeyPair::generate()).unwrap_err(),
            SealedSenderError::DecryptionFailed
        );
        cases.push(("v1 certificate for another key".into(), wrong_key_v1));
        let sent = sealed_sender_multi_recipient_encrypt(&forged, &alice.identity, &recipients, &[]).unwrap();
        cases.push((
            "v2 certificate for another key".into(),
            multi_recipient_message_for_recipient(&sent).unwrap()[0].message.clone().unwrap(),
        ));
        // A certificate by an untrusted server, and an expired one.
        let other = Pki::libsignal(&mut peer, lib, 9);
        let untrusted = UnidentifiedSenderMessageContent::new(
            MessageType::PreKey,
            other.caudata_cert(ALICE, 1, &alice.identity.public_key(), EXPIRES),
            body.clone(),
            ContentHint::Default,
            None,
        );
        cases.push(("untrusted server".into(), sealed_sender_encrypt(&untrusted, &alice.identity, &bob_key).unwrap()));
        let expired = UnidentifiedSenderMessageContent::new(
            MessageType::PreKey,
            pki.caudata_cert(ALICE, 1, &alice.identity.public_key(), NOW - 1),
            body.clone(),
            ContentHint::Default,
            None,
        );
        cases.push(("expired".into(), sealed_sender_encrypt(&expired, &alice.identity, &bob_key).unwrap()));
        // Bob's own certificate: a message from himself.
        let self_cert = pki.caudata_cert(BOB, 1, &alice.identity.public_key(), EXPIRES);
        let selfsent = UnidentifiedSenderMessageContent::new(
            MessageType::PreKey,
            self_cert,
            body.clone(),
            ContentHint::Default,
            None,
        );
        cases.push(("self-send".into(), sealed_sender_encrypt(&selfsent, &alice.identity, &bob_key).unwrap()));

        // caudata, as bob: an identity pair for bob is not available (libsignal holds it), so
        // caudata checks the same inputs sealed to a caudata recipient instead, below; here
        // libsignal (as bob) refuses each one.
        for (what, bad) in &cases {
            let r = peer.request(json!({"cmd": "ss_decrypt", "p": pb, "body": hex::encode(bad), "trust_root": pki.root_hex(), "time": NOW}));
            assert_eq!(r["ok"], false, "{lib}: libsignal accepted {what}");
        }
        // The untouched envelopes still open at libsignal after all that (nothing changed).
        let r = peer.call(
            json!({"cmd": "ss_decrypt", "p": pb, "body": hex::encode(&v1), "trust_root": pki.root_hex(), "time": NOW}),
        );
        assert_eq!(bytes(&r["pt"]), b"x");

        // caudata as the recipient of the same kinds of input, sealed by libsignal.
        let carol = CaudataDevice::new(CAROL, 5);
        let carol_address = ProtocolAddress::new(CAROL, DeviceId::PRIMARY);
        peer.call(json!({"cmd": "save_identity", "p": pb, "peer_name": CAROL, "peer_device": 1, "identity_key": hex33(&carol.identity.public_key())}));
        let bob_cert = pki.libsignal_cert(&mut peer, lib, BOB, 1, &bob_key, EXPIRES);
        let usmc = UnidentifiedSenderMessageContent::new(
            MessageType::Whisper,
            SenderCertificate::from_bytes(&bob_cert).unwrap(),
            vec![1, 2, 3],
            ContentHint::Default,
            None,
        );
        let good = bytes(&peer.call(json!({"cmd": "ss_seal_v1", "p": pb, "peer_name": CAROL, "peer_device": 1, "usmc": hex::encode(usmc.to_bytes())}))["sealed"]);
        let open = |b: &[u8], now: u64| {
            sealed_sender_decrypt(b, &carol.identity, &[pki.root.public_key()], now, Some(&carol_address))
        };
        assert_eq!(open(&good, NOW).unwrap(), usmc);
        assert_eq!(
            open(&good, EXPIRES + 1),
            Err(SealedSenderError::Certificate(CertificateError::Expired { expiration: EXPIRES, now: EXPIRES + 1 }))
        );
        assert_eq!(
            sealed_sender_decrypt(&good, &carol.identity, &[other.root.public_key()], NOW, None),
            Err(SealedSenderError::Certificate(CertificateError::UntrustedServer))
        );
        assert_eq!(
            sealed_sender_decrypt(
                &good,
                &carol.identity,
                &[pki.root.public_key()],
                NOW,
                Some(&ProtocolAddress::new(BOB, DeviceId::PRIMARY))
            ),
            Err(SealedSenderError::SelfSend)
        );
        for i in 0..good.len() {
            let mut bad = good.clone();
            // The version byte's low nibble is ignored (as libsignal), so flip its high one.
            bad[i] ^= if i == 0 { 0x80 } else { 0x08 };
            assert!(open(&bad, NOW).is_err(), "{lib}: byte {i} flipped");
        }
        for cut in 0..good.len() {
            assert!(open(&good[..cut], NOW).is_err(), "{lib}: cut to {cut}");
        }
        assert_eq!(open(&good, NOW).unwrap(), usmc, "still opens");
    }
}

/// The high-level API: a caudata `Device` (in-memory stores) seals 1:1 messages to libsignal
/// (`sealedSenderDecryptMessage` opens them), opens libsignal's, and runs a group with it over
/// its sender-key store; a refused envelope leaves the session record as it was.
#[test]
fn device_api_sealed_sender_and_groups_with_every_version() {
    use caudata::SealedMessageError;
    use caudata::interolm::{Device, InMemoryStore};
    let mut peer = Peer::start_groups();
    for lib in LIBS {
        let pki = Pki::libsignal(&mut peer, lib, 3);
        let pb = format!("bob-device@{lib}");
        peer.call(json!({"cmd": "new_party", "p": pb, "lib": lib, "name": BOB}));
        let (alice_address, bob_address) =
            (ProtocolAddress::new(ALICE, DeviceId::PRIMARY), ProtocolAddress::new(BOB, DeviceId::PRIMARY));
        let identity = IdentityKeyPair::generate();
        let alice_key = identity.public_key();
        let mut alice = Device::new(InMemoryStore::new(identity, 4321), alice_address.clone());
        let bundle = bundle_from_json(&peer.call(json!({"cmd": "export_party", "p": pb}))["bundle"]);
        alice.process_pre_key_bundle(&bob_address, &bundle).unwrap();
        let cert = pki.caudata_cert(ALICE, 1, &alice_key, EXPIRES);

        for k in 0..3 {
            let pt = format!("sealed by the device {k}");
            let sealed =
                alice.sealed_sender_encrypt(&bob_address, pt.as_bytes(), &cert, ContentHint::Resendable, None).unwrap();
            let r = peer.call(json!({"cmd": "ss_decrypt", "p": pb, "body": hex::encode(&sealed), "trust_root": pki.root_hex(), "time": NOW}));
            assert_eq!(bytes(&r["pt"]), pt.as_bytes(), "{lib}");
        }
        let bob_key = identity_of(&mut peer, &pb);
        let bob_cert = pki.libsignal_cert(&mut peer, lib, BOB, 1, &bob_key, EXPIRES);
        let u = peer.call(json!({"cmd": "ss_usmc", "p": pb, "peer_name": ALICE, "peer_device": 1, "pt": hex::encode(b"reply"), "sender_cert": hex::encode(&bob_cert), "content_hint": 1, "group_id": "ab"}));
        let sealed = bytes(
            &peer.call(json!({"cmd": "ss_seal_v1", "p": pb, "peer_name": ALICE, "peer_device": 1, "usmc": u["usmc"]}))
                ["sealed"],
        );
        // Refused first (expired at that time, then tampered): the session record stays.
        let before = alice.session_record(&bob_address).unwrap().unwrap().pickle().to_unencrypted_bytes();
        assert!(matches!(
            alice.sealed_sender_decrypt(&sealed, &[pki.root.public_key()], EXPIRES + 1),
            Err(SealedMessageError::Sealed(SealedSenderError::Certificate(CertificateError::Expired { .. })))
        ));
        let mut tampered = sealed.clone();
        let n = tampered.len();
        tampered[n - 3] ^= 1;
        assert!(alice.sealed_sender_decrypt(&tampered, &[pki.root.public_key()], NOW).is_err());
        assert_eq!(*alice.session_record(&bob_address).unwrap().unwrap().pickle().to_unencrypted_bytes(), *before);
        let got = alice.sealed_sender_decrypt(&sealed, &[pki.root.public_key()], NOW).unwrap();
        assert_eq!(
            (got.sender, got.plaintext, got.content_hint, got.group_id),
            (bob_address.clone(), b"reply".to_vec(), ContentHint::Resendable, Some(vec![0xab]))
        );

        // A group through the stores: alice's distribution message in a sealed 1:1 message.
        let group = DistributionId::random_v4();
        let skdm = alice.create_sender_key_distribution_message(&group).unwrap();
        let sealed =
            alice.sealed_sender_encrypt(&bob_address, &skdm.to_bytes(), &cert, ContentHint::Implicit, None).unwrap();
        let r = peer.call(json!({"cmd": "ss_decrypt", "p": pb, "body": hex::encode(&sealed), "trust_root": pki.root_hex(), "time": NOW}));
        peer.call(json!({"cmd": "sk_process", "p": pb, "sender_name": ALICE, "sender_device": 1, "skdm": r["pt"]}));
        let m = alice.group_encrypt(&group, b"group, high level").unwrap();
        let r = peer.call(json!({"cmd": "sk_decrypt", "p": pb, "sender_name": ALICE, "sender_device": 1, "body": hex::encode(m.to_bytes())}));
        assert_eq!(bytes(&r["pt"]), b"group, high level");
        let bob_group = DistributionId::random_v4();
        let skdm = peer.call(json!({"cmd": "sk_create", "p": pb, "distribution_id": bob_group.to_string()}));
        alice
            .process_sender_key_distribution_message(
                &bob_address,
                &SenderKeyDistributionMessage::from_bytes(&bytes(&skdm["skdm"])).unwrap(),
            )
            .unwrap();
        let m = peer.call(json!({"cmd": "sk_encrypt", "p": pb, "distribution_id": bob_group.to_string(), "pt": hex::encode(b"from bob")}));
        let m = SenderKeyMessage::from_bytes(&bytes(&m["body"])).unwrap();
        assert_eq!(alice.group_decrypt(&bob_address, &m).unwrap(), b"from bob");
        assert!(alice.group_decrypt(&bob_address, &m).is_err(), "replay");
        // Group content in a sealed envelope is not for `sealed_sender_decrypt` of the device.
        let u = peer.call(json!({"cmd": "ss_usmc", "p": pb, "distribution_id": bob_group.to_string(), "pt": "00", "sender_cert": hex::encode(&bob_cert)}));
        let sealed = bytes(
            &peer.call(json!({"cmd": "ss_seal_v1", "p": pb, "peer_name": ALICE, "peer_device": 1, "usmc": u["usmc"]}))
                ["sealed"],
        );
        assert!(matches!(
            alice.sealed_sender_decrypt(&sealed, &[pki.root.public_key()], NOW),
            Err(SealedMessageError::UnexpectedContent(MessageType::SenderKey))
        ));
    }
}

/// A caudata application on the SQLite store (`caudata-sqlite`, the database reopened for every
/// step, as after a restart) in a group with a libsignal member: its own sender key and the
/// member's are stored as sealed pickles, the distribution messages travel in sealed sender
/// envelopes, and group messages go both ways, out of order.
#[test]
fn groups_over_the_sqlite_store_with_every_version() {
    use caudata::interolm::Device;
    use caudata_sqlite::SqliteStore;
    const KEY: [u8; 32] = [0x3C; 32];
    let mut peer = Peer::start_groups();
    let dir = std::env::temp_dir().join(format!("caudata-groups-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for lib in LIBS {
        let db = dir.join(format!("alice-{lib}.db"));
        let _ = std::fs::remove_file(&db);
        let alice_address = ProtocolAddress::new(ALICE, DeviceId::PRIMARY);
        let bob_address = ProtocolAddress::new(BOB, DeviceId::PRIMARY);
        let open = || Device::new(SqliteStore::open(&db, &KEY).unwrap(), alice_address.clone());
        let identity = IdentityKeyPair::generate();
        SqliteStore::open(&db, &KEY).unwrap().set_local_identity(&identity, 7).unwrap();
        let pki = Pki::libsignal(&mut peer, lib, 11);
        let cert = pki.caudata_cert(ALICE, 1, &identity.public_key(), EXPIRES);
        let pb = format!("bob-sqlite@{lib}");
        peer.call(json!({"cmd": "new_party", "p": pb, "lib": lib, "name": BOB}));
        let bundle = bundle_from_json(&peer.call(json!({"cmd": "export_party", "p": pb}))["bundle"]);
        open().process_pre_key_bundle(&bob_address, &bundle).unwrap();
        let group = DistributionId::random_v4();
        let skdm = open().create_sender_key_distribution_message(&group).unwrap();
        let sealed =
            open().sealed_sender_encrypt(&bob_address, &skdm.to_bytes(), &cert, ContentHint::Implicit, None).unwrap();
        let r = peer.call(json!({"cmd": "ss_decrypt", "p": pb, "body": hex::encode(&sealed), "trust_root": pki.root_hex(), "time": NOW}));
        peer.call(json!({"cmd": "sk_process", "p": pb, "sender_name": ALICE, "sender_device": 1, "skdm": r["pt"]}));
        // Bob's distribution message, in a sealed envelope to alice.
        let bob_key = identity_of(&mut peer, &pb);
        let bob_cert = pki.libsignal_cert(&mut peer, lib, BOB, 1, &bob_key, EXPIRES);
        let skdm = peer.call(json!({"cmd": "sk_create", "p": pb, "distribution_id": group.to_string()}));
        let u = peer.call(json!({"cmd": "ss_usmc", "p": pb, "peer_name": ALICE, "peer_device": 1, "pt": skdm["skdm"], "sender_cert": hex::encode(&bob_cert)}));
        let s =
            peer.call(json!({"cmd": "ss_seal_v1", "p": pb, "peer_name": ALICE, "peer_device": 1, "usmc": u["usmc"]}));
        let got = open().sealed_sender_decrypt(&bytes(&s["sealed"]), &[pki.root.public_key()], NOW).unwrap();
        let skdm = SenderKeyDistributionMessage::from_bytes(&got.plaintext).unwrap();
        open().process_sender_key_distribution_message(&got.sender, &skdm).unwrap();
        // Both ways, out of order; every step on a freshly opened database.
        let ours: Vec<_> =
            (0..4).map(|k| open().group_encrypt(&group, format!("alice {k}").as_bytes()).unwrap()).collect();
        for k in [3usize, 1, 0, 2] {
            let r = peer.call(json!({"cmd": "sk_decrypt", "p": pb, "sender_name": ALICE, "sender_device": 1, "body": hex::encode(ours[k].to_bytes())}));
            assert_eq!(bytes(&r["pt"]), format!("alice {k}").as_bytes(), "{lib}");
        }
        let theirs: Vec<_> = (0..4)
            .map(|k| {
                let m = peer.call(json!({"cmd": "sk_encrypt", "p": pb, "distribution_id": group.to_string(), "pt": hex::encode(format!("bob {k}"))}));
                SenderKeyMessage::from_bytes(&bytes(&m["body"])).unwrap()
            })
            .collect();
        for k in [2usize, 0, 3, 1] {
            assert_eq!(open().group_decrypt(&bob_address, &theirs[k]).unwrap(), format!("bob {k}").as_bytes(), "{lib}");
        }
        assert!(open().group_decrypt(&bob_address, &theirs[0]).is_err(), "{lib}: a replay after a restart");
        let _ = std::fs::remove_file(&db);
    }
}

/// Sender certificates with a device id outside 1 … 127 (made by libsignal 0.72.1, which allows
/// them): refused by libsignal 0.90.0, 0.92.2 and 0.103.0 when decoding, and by caudata.
#[test]
fn sender_device_ids_outside_1_to_127_are_refused() {
    let mut peer = Peer::start_groups();
    let pki = Pki::libsignal(&mut peer, "0.72.1", 4);
    let key = Curve25519SecretKey::new().public_key();
    for device in [0u32, 128, 70_000] {
        let cert = pki.libsignal_cert(&mut peer, "0.72.1", ALICE, device, &key, EXPIRES);
        assert!(SenderCertificate::from_bytes(&cert).is_err(), "device {device}");
        for lib in ["0.90.0", "0.92.2", "0.103.0"] {
            peer.fail(json!({"cmd": "ss_validate", "lib": lib, "cert": hex::encode(&cert), "trust_roots": [pki.root_hex()], "time": NOW}));
        }
    }
    let cert = pki.libsignal_cert(&mut peer, "0.72.1", ALICE, 127, &key, EXPIRES);
    assert_eq!(SenderCertificate::from_bytes(&cert).unwrap().device_id(), 127);
}
