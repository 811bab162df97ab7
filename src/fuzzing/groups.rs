//! Fuzz targets for what applications of the Signal dialect use beyond one session: sender
//! keys, sealed sender, retry receipts, safety numbers (see the parent module for the rules).
//!
//! * `decode_sender_key`: `SenderKeyMessage`, `SenderKeyDistributionMessage` and libsignal's
//!   `SenderKeyRecord` storage format decode without panicking, and what decodes re-encodes
//!   to a fixed point (the two messages: to the input itself, minus unknown fields' order).
//! * `decode_sealed_sender`: envelopes (v1, v2), multi-recipient messages, contents,
//!   certificates, `DecryptionErrorMessage`, `PlaintextContent`, scannable fingerprints.
//! * `decrypt_sender_key`: a fixed receiver record; the input is a message as received
//!   (selector 0) or the body of one that the fixture's sender signs (selector 1: an
//!   authenticated sender choosing every field). A refused message leaves the record as it
//!   was; an accepted one leaves a record whose pickle round-trips.
//! * `decrypt_sealed_sender`: a fixed recipient; the input is an envelope as received
//!   (selector 0), or content bytes the fixture's sender seals with v1 (1) or v2 (2). Opening
//!   is deterministic, and an opened envelope's certificate names the key that sealed it.

use super::FuzzRng;
use crate::interolm::sealed_sender::{seal_v1_bytes, seal_v2_bytes};
use crate::interolm::{
    DecryptionErrorMessage, DeviceId, DistributionId, Fingerprint, IdentityKeyPair, MessageType, PlaintextContent,
    SenderCertificate, SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord, ServerCertificate,
    UnidentifiedSenderMessageContent, multi_recipient_message_for_recipient, sealed_sender_decrypt,
    sealed_sender_decrypt_to_usmc,
};
use crate::pickle::SenderKeyRecordPickle;
use crate::primitives::{Curve25519PublicKey, Curve25519SecretKey};
use crate::wire::sealed_sender::{
    MultiRecipientWire, SealedSenderWire, SenderCertificateWire, ServerCertificateWire, UsmcWire,
};
use crate::wire::sender_key::{SenderKeyDistributionWire, SenderKeyMessageWire};

/// The fixture's group.
pub const FUZZ_DISTRIBUTION_ID: [u8; 16] = [0x5A; 16];

/// A sender's record, its receiver's record, and messages (the first six sent, in order).
pub struct SenderKeyFixture {
    /// The sender's own record (after sending `messages`).
    pub sender: SenderKeyRecord,
    /// The receiver's record (nothing received yet).
    pub receiver: SenderKeyRecord,
    /// Serialized `SenderKeyMessage`s.
    pub messages: Vec<Vec<u8>>,
    /// The serialized distribution message.
    pub distribution: Vec<u8>,
}

/// The deterministic sender-key fixture.
pub fn sender_key_fixture() -> SenderKeyFixture {
    let id = DistributionId::from_bytes(FUZZ_DISTRIBUTION_ID);
    let mut rng = FuzzRng::new(b"sender key fixture");
    let mut sender = SenderKeyRecord::new();
    let d = sender.create_distribution_message_with_rng(id, &mut rng).unwrap();
    let mut receiver = SenderKeyRecord::new();
    receiver.process_distribution_message(&d).unwrap();
    let messages =
        (0..6u8).map(|i| sender.encrypt_with_rng(id, &[i; 20], &mut rng).unwrap().to_bytes()).collect::<Vec<_>>();
    SenderKeyFixture { sender, receiver, messages, distribution: d.to_bytes().to_vec() }
}

thread_local! {
    static SK: SenderKeyFixture = sender_key_fixture();
    static SS: SealedFixture = sealed_fixture();
}

fn record_bytes(r: &SenderKeyRecord) -> Vec<u8> {
    r.to_libsignal_bytes().to_vec()
}

/// See the module documentation.
pub fn decode_sender_key(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    match sel % 3 {
        0 => {
            if let Ok(m) = SenderKeyMessageWire::decode(rest) {
                let again = SenderKeyMessageWire::decode(m.as_bytes()).unwrap();
                assert_eq!(again, m, "SenderKeyMessage decode is not stable");
                let public = SenderKeyMessage::from_bytes(rest).unwrap();
                assert_eq!(public.to_bytes(), rest, "a message keeps its received bytes");
            }
        }
        1 => {
            if let Ok(d) = SenderKeyDistributionWire::decode(rest) {
                // Re-encoding in libsignal's order decodes to the same fields.
                let again = SenderKeyDistributionWire::encode(
                    &d.distribution_id,
                    d.chain_id,
                    d.iteration,
                    &d.chain_key,
                    &d.signing_key,
                );
                let back = SenderKeyDistributionWire::decode(again.as_bytes()).unwrap();
                assert_eq!(
                    (back.distribution_id, back.chain_id, back.iteration, back.signing_key),
                    (d.distribution_id, d.chain_id, d.iteration, d.signing_key)
                );
                let mut r = SenderKeyRecord::new();
                let m = SenderKeyDistributionMessage::from_bytes(rest).unwrap();
                if r.process_distribution_message(&m).is_ok() {
                    assert_eq!(r.chain_ids(), vec![d.chain_id]);
                }
            }
        }
        _ => {
            let id = DistributionId::from_bytes(FUZZ_DISTRIBUTION_ID);
            if let Ok(r) = SenderKeyRecord::from_libsignal_bytes(rest, id) {
                let first = record_bytes(&r);
                let again = SenderKeyRecord::from_libsignal_bytes(&first, id).expect("a record re-encoding decodes");
                assert_eq!(record_bytes(&again), first, "record encoding is not a fixed point");
                let pickled = r.pickle().to_unencrypted_bytes();
                let back =
                    SenderKeyRecord::from_pickle(SenderKeyRecordPickle::from_unencrypted_bytes(&pickled).unwrap());
                assert_eq!(record_bytes(&back), first, "pickle round trip");
            }
            if let Ok(p) = SenderKeyRecordPickle::from_unencrypted_bytes(rest) {
                let r = SenderKeyRecord::from_pickle(p);
                let again = r.pickle().to_unencrypted_bytes();
                let back = SenderKeyRecord::from_pickle(SenderKeyRecordPickle::from_unencrypted_bytes(&again).unwrap());
                assert_eq!(*back.pickle().to_unencrypted_bytes(), *again, "pickle is not a fixed point");
            }
        }
    }
}

/// See the module documentation.
pub fn decrypt_sender_key(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    SK.with(|f| {
        let bytes = if sel % 2 == 0 {
            rest.to_vec()
        } else {
            let mut b = vec![0x33];
            b.extend_from_slice(rest);
            let sig = f.sender.sign_for_fuzzing(&b, &mut FuzzRng::new(rest)).unwrap();
            b.extend_from_slice(&sig);
            b
        };
        let mut r = f.receiver.clone();
        // Some messages first (selector bits), so that skipped keys exist.
        for (i, m) in f.messages.iter().enumerate() {
            if sel & (4 << i) != 0 {
                r.decrypt(&SenderKeyMessage::from_bytes(m).unwrap()).unwrap();
            }
        }
        let before = record_bytes(&r);
        let before_pickle = r.pickle().to_unencrypted_bytes();
        let Ok(m) = SenderKeyMessage::from_bytes(&bytes) else { return };
        match r.decrypt(&m) {
            Err(_) => {
                assert_eq!(record_bytes(&r), before, "a refused message changed the record");
                assert_eq!(*r.pickle().to_unencrypted_bytes(), *before_pickle);
            }
            Ok(_) => {
                let p = r.pickle().to_unencrypted_bytes();
                let back = SenderKeyRecord::from_pickle(SenderKeyRecordPickle::from_unencrypted_bytes(&p).unwrap());
                assert_eq!(record_bytes(&back), record_bytes(&r));
                assert!(r.decrypt(&m).is_err(), "a message decrypted twice");
            }
        }
    });
}

/// A sealed-sender sender and recipient with a trust root.
pub struct SealedFixture {
    /// The trust root's public key.
    pub trust_root: Curve25519PublicKey,
    /// The sender's identity.
    pub sender: IdentityKeyPair,
    /// The recipient's identity.
    pub recipient: IdentityKeyPair,
    /// A content from the sender (a whisper-typed content with a hint and group id).
    pub content: UnidentifiedSenderMessageContent,
    /// v1 and v2 envelopes of `content` to the recipient.
    pub envelopes: Vec<Vec<u8>>,
    /// A multi-recipient message of `content` to the recipient and an excluded one.
    pub multi: Vec<u8>,
}

/// The deterministic sealed-sender fixture.
pub fn sealed_fixture() -> SealedFixture {
    let mut rng = FuzzRng::new(b"sealed fixture");
    let root = Curve25519SecretKey::random(&mut rng);
    let server_key = Curve25519SecretKey::random(&mut rng);
    let server = ServerCertificate::new_with_rng(3, &server_key.public_key(), &root, &mut rng);
    let sender = IdentityKeyPair::from_secret_key(Curve25519SecretKey::random(&mut rng));
    let recipient = IdentityKeyPair::from_secret_key(Curve25519SecretKey::random(&mut rng));
    let cert = SenderCertificate::new_with_rng(
        "9d0652a3-dcc3-4d11-975f-74d61598733f",
        Some("+15551234567"),
        DeviceId::PRIMARY,
        &sender.public_key(),
        2_000_000_000_000,
        server,
        &server_key,
        &mut rng,
    );
    let content = UnidentifiedSenderMessageContent::new(
        MessageType::Whisper,
        cert,
        b"an encrypted message".to_vec(),
        crate::interolm::ContentHint::Resendable,
        Some(b"group".to_vec()),
    );
    let v1 = seal_v1_bytes(&content.to_bytes(), &sender, &recipient.public_key(), &mut rng).unwrap();
    let v2 = seal_v2_bytes(&content.to_bytes(), &sender, &recipient.public_key(), &mut rng).unwrap();
    let to = crate::interolm::SealedSenderRecipient {
        service_id: crate::interolm::ServiceId::aci(crate::interolm::Uuid::from_bytes([0xAA; 16])),
        identity_key: recipient.public_key(),
        devices: vec![(DeviceId::PRIMARY, 0x1234), (DeviceId::new(2).unwrap(), 7)],
    };
    let excluded = crate::interolm::ServiceId::pni(crate::interolm::Uuid::from_bytes([0xBB; 16]));
    let multi = crate::interolm::sealed_sender_multi_recipient_encrypt_with_rng(
        &content,
        &sender,
        &[to],
        &[excluded],
        &mut rng,
    )
    .unwrap();
    SealedFixture { trust_root: root.public_key(), sender, recipient, content, envelopes: vec![v1, v2], multi }
}

/// See the module documentation.
pub fn decode_sealed_sender(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    match sel % 8 {
        0 => {
            if let Ok(e) = SealedSenderWire::decode(rest) {
                let again = SealedSenderWire::decode(&e.encode()).expect("an envelope re-encoding decodes");
                assert_eq!(again, e);
            }
        }
        1 => {
            if let Ok(m) = MultiRecipientWire::decode(rest) {
                for i in 0..m.recipients.len() {
                    if let Some(one) = m.message_for_recipient(i) {
                        SealedSenderWire::decode(&one).expect("a fanned-out message decodes");
                    }
                }
                let _ = multi_recipient_message_for_recipient(rest);
            }
        }
        2 => {
            if let Ok(u) = UsmcWire::decode(rest) {
                let again = UsmcWire::encode(
                    u.message_type,
                    u.sender.clone(),
                    u.contents.clone(),
                    u.content_hint,
                    u.group_id.clone(),
                )
                .expect("a decoded type encodes");
                let back = UsmcWire::decode(again.as_bytes()).expect("a content re-encoding decodes");
                assert_eq!(
                    (back.message_type, &back.sender, &back.contents, back.content_hint),
                    (u.message_type, &u.sender, &u.contents, u.content_hint)
                );
            }
        }
        3 => {
            if let Ok(c) = SenderCertificateWire::decode(rest) {
                assert_eq!(SenderCertificateWire::decode(c.as_bytes()).unwrap(), c);
                let _ = SenderCertificate::from_bytes(rest)
                    .unwrap()
                    .validate(&[Curve25519PublicKey::from_bytes([9; 32])], 0);
            }
        }
        4 => {
            if let Ok(c) = ServerCertificateWire::decode(rest) {
                assert_eq!(ServerCertificateWire::decode(c.as_bytes()).unwrap(), c);
            }
        }
        5 => {
            if let Ok(d) = DecryptionErrorMessage::from_bytes(rest) {
                let p = PlaintextContent::from_decryption_error_message(&d);
                let back = PlaintextContent::from_bytes(&p.to_bytes()).unwrap().decryption_error_message().unwrap();
                assert_eq!(
                    (back.ratchet_key(), back.timestamp(), back.device_id()),
                    (d.ratchet_key(), d.timestamp(), d.device_id())
                );
            }
        }
        6 => {
            if let Ok(p) = PlaintextContent::from_bytes(rest) {
                let _ = p.decryption_error_message();
            }
        }
        _ => {
            let k = Curve25519PublicKey::from_bytes([7; 32]);
            let f = Fingerprint::new(2, 2, b"a", &k, b"b", &k).unwrap();
            let _ = f.scannable().compare(rest);
        }
    }
}

/// See the module documentation.
pub fn decrypt_sealed_sender(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    SS.with(|f| {
        let mut rng = FuzzRng::new(rest);
        let sealed = match sel % 3 {
            0 => rest.to_vec(),
            1 => seal_v1_bytes(rest, &f.sender, &f.recipient.public_key(), &mut rng).unwrap(),
            _ => seal_v2_bytes(rest, &f.sender, &f.recipient.public_key(), &mut rng).unwrap(),
        };
        let opened = sealed_sender_decrypt_to_usmc(&sealed, &f.recipient);
        assert_eq!(opened, sealed_sender_decrypt_to_usmc(&sealed, &f.recipient), "opening is not deterministic");
        if let Ok(u) = &opened {
            if sel % 3 != 0 {
                assert_eq!(u.sender().identity_key(), f.sender.public_key(), "an envelope opened under another key");
                assert_eq!(u.to_bytes(), rest, "sealed content changed");
            }
            let validated = sealed_sender_decrypt(&sealed, &f.recipient, &[f.trust_root], 1_700_000_000_000, None);
            if let Ok(v) = validated {
                assert_eq!(&v, u);
            }
        }
    });
}

/// A few valid inputs for the targets of this module.
pub(super) fn seeds(target: &str) -> Vec<Vec<u8>> {
    let with = |sel: u8, body: &[u8]| [&[sel][..], body].concat();
    match target {
        "decode_sender_key" => SK.with(|f| {
            let mut v: Vec<Vec<u8>> = f.messages.iter().take(2).map(|m| with(0, m)).collect();
            v.push(with(1, &f.distribution));
            v.push(with(2, &f.receiver.to_libsignal_bytes()));
            v.push(with(2, &f.sender.to_libsignal_bytes()));
            v.push(with(2, &f.sender.pickle().to_unencrypted_bytes()));
            v
        }),
        "decrypt_sender_key" => SK.with(|f| {
            let mut v: Vec<Vec<u8>> = f.messages.iter().map(|m| with(0, m)).collect();
            // received out of order, after others (selector bits 2..7 say which came first)
            v.push(with(0b0010_1000, &f.messages[2]));
            // an authenticated body: the fixture's next message's fields, re-signed
            let m = SenderKeyMessageWire::decode(&f.messages[5]).unwrap();
            v.push(with(1, m.signed_bytes().get(1..).unwrap_or(&[])));
            v
        }),
        "decode_sealed_sender" => SS.with(|f| {
            let cert = f.content.sender();
            let dem =
                DecryptionErrorMessage::for_original(&SK.with(|s| s.messages[0].clone()), MessageType::SenderKey, 7, 2)
                    .unwrap();
            vec![
                with(0, &f.envelopes[0]),
                with(0, &f.envelopes[1]),
                with(1, &f.multi),
                with(2, &f.content.to_bytes()),
                with(3, &cert.to_bytes()),
                with(4, &cert.signer().to_bytes()),
                with(5, &dem.to_bytes()),
                with(6, &PlaintextContent::from_decryption_error_message(&dem).to_bytes()),
            ]
        }),
        "decrypt_sealed_sender" => SS.with(|f| {
            vec![
                with(0, &f.envelopes[0]),
                with(0, &f.envelopes[1]),
                with(1, &f.content.to_bytes()),
                with(2, &f.content.to_bytes()),
            ]
        }),
        _ => Vec::new(),
    }
}
