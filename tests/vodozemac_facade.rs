//! Live differential tests of the vodozemac facade (`compat/vodozemac`, vodozemac 0.11.1's API
//! on caudata) against the real vodozemac 0.11.1, linked into the same test binary under
//! cargo's package renaming (`vodozemac` is the real one, `vodozemac_facade` the facade; both
//! are package `vodozemac` 0.11.1, from crates.io and from a path).
//!
//! Every protocol is run both ways (one side facade, the other vodozemac, then swapped), with
//! values crossing as the wire or storage forms a client would send or store: Olm (pre-key
//! and normal messages, ratchet steps, out-of-order delivery), Megolm (session keys and
//! exported keys both ways), SAS (bytes, MACs, libolm's invalid-base64 MAC), PK encryption
//! (key backup), ECIES (MSC4108), HPKE (MSC4388), dehydrated devices, and every pickle through
//! serde (JSON and MessagePack, byte for byte) and vodozemac's encrypted strings. Debug formats,
//! serde shapes and error Display texts are compared too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use vodozemac as real;
use vodozemac_facade as fa;

const KEY: [u8; 32] = [7; 32];

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn rmp<T: serde::Serialize>(v: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(v).unwrap()
}

/// Moves a value from one library to the other through JSON, checking that the other library
/// re-serializes it to the same bytes in JSON and in MessagePack.
fn cross<A: serde::Serialize, B: serde::Serialize + serde::de::DeserializeOwned>(a: &A) -> B {
    let text = json(a);
    let b: B = serde_json::from_str(&text).unwrap();
    assert_eq!(json(&b), text, "JSON differs after crossing");
    assert_eq!(rmp(&b), rmp(a), "MessagePack differs after crossing");
    let back: B = rmp_serde::from_slice(&rmp(a)).unwrap();
    assert_eq!(json(&back), text, "MessagePack does not read back");
    b
}

/// vodozemac's diagnostic ratchet counts (`ratchet_count`: `{"Known": n}`), which caudata does
/// not keep (it writes `{"Unknown": null}`, as vodozemac does for sessions it imported from
/// libolm), set to unknown in a session pickle's JSON.
fn without_ratchet_counts(text: &str) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "ratchet_count" {
                        *x = serde_json::json!({ "Unknown": null });
                    } else {
                        walk(x);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    walk(&mut v);
    v
}

/// [`cross`] for session pickles: the same bytes but for vodozemac's ratchet counts (a session
/// that went through the facade has them as unknown, and then crosses byte for byte).
fn cross_session<A: serde::Serialize, B: serde::Serialize + serde::de::DeserializeOwned>(a: &A) -> B {
    let text = json(a);
    let b: B = serde_json::from_str(&text).unwrap();
    assert_eq!(without_ratchet_counts(&json(&b)), without_ratchet_counts(&text), "JSON differs after crossing");
    let back: B = rmp_serde::from_slice(&rmp(a)).unwrap();
    assert_eq!(rmp(&back), rmp(&b), "MessagePack does not read back");
    let again: B = serde_json::from_str(&json(&b)).unwrap();
    assert_eq!(json(&again), json(&b), "not a fixed point after crossing");
    b
}

fn fa_otk(a: &mut fa::olm::Account) -> fa::Curve25519PublicKey {
    a.generate_one_time_keys(1);
    let k = *a.one_time_keys().values().next().unwrap();
    a.mark_keys_as_published();
    k
}

fn real_otk(a: &mut real::olm::Account) -> real::Curve25519PublicKey {
    a.generate_one_time_keys(1);
    let k = *a.one_time_keys().values().next().unwrap();
    a.mark_keys_as_published();
    k
}

fn to_real(k: fa::Curve25519PublicKey) -> real::Curve25519PublicKey {
    real::Curve25519PublicKey::from_base64(&k.to_base64()).unwrap()
}

fn to_fa(k: real::Curve25519PublicKey) -> fa::Curve25519PublicKey {
    fa::Curve25519PublicKey::from_base64(&k.to_base64()).unwrap()
}

/// An Olm message as Matrix carries it: `{"type", "body"}`.
fn olm_to_real(m: &fa::olm::OlmMessage) -> real::olm::OlmMessage {
    cross(m)
}

fn olm_to_fa(m: &real::olm::OlmMessage) -> fa::olm::OlmMessage {
    cross(m)
}

// ------------------------------------------------------------------ Olm

#[test]
fn olm_facade_initiates_vodozemac_responds() {
    for config in [1, 2] {
        let (fc, rc) = if config == 1 {
            (fa::olm::SessionConfig::version_1(), real::olm::SessionConfig::version_1())
        } else {
            (fa::olm::SessionConfig::version_2(), real::olm::SessionConfig::version_2())
        };
        let alice = fa::olm::Account::new();
        let mut bob = real::olm::Account::new();
        let otk = real_otk(&mut bob);
        let mut a = alice.create_outbound_session(fc, to_fa(bob.curve25519_key()), to_fa(otk)).unwrap();
        let first = a.encrypt("hello bob").unwrap();
        let fa::olm::OlmMessage::PreKey(ref pk) = first else { panic!("a pre-key message") };
        assert_eq!(pk.session_id(), a.session_id());
        let real::olm::OlmMessage::PreKey(m) = olm_to_real(&first) else { panic!() };
        let created = bob.create_inbound_session(rc, to_real(alice.curve25519_key()), &m).unwrap();
        assert_eq!(created.plaintext, b"hello bob");
        let mut b = created.session;
        assert_eq!(b.session_id(), a.session_id());
        assert_eq!(json(&b.session_keys()), json(&a.session_keys()));
        conversation(&mut a, &mut b);
    }
}

#[test]
fn olm_vodozemac_initiates_facade_responds() {
    for config in [1, 2] {
        let (fc, rc) = if config == 1 {
            (fa::olm::SessionConfig::version_1(), real::olm::SessionConfig::version_1())
        } else {
            (fa::olm::SessionConfig::version_2(), real::olm::SessionConfig::version_2())
        };
        let alice = real::olm::Account::new();
        let mut bob = fa::olm::Account::new();
        let otk = fa_otk(&mut bob);
        let mut a = alice.create_outbound_session(rc, to_real(bob.curve25519_key()), to_real(otk)).unwrap();
        let first = a.encrypt("hello bob").unwrap();
        let fa::olm::OlmMessage::PreKey(m) = olm_to_fa(&first) else { panic!() };
        assert_eq!(m.session_id(), a.session_id());
        // the wrong config and the wrong identity key are refused as vodozemac refuses them
        let wrong = if config == 1 { fa::olm::SessionConfig::version_2() } else { fa::olm::SessionConfig::version_1() };
        let e = bob.create_inbound_session(wrong, to_fa(alice.curve25519_key()), &m).unwrap_err();
        assert!(matches!(e, fa::olm::SessionCreationError::MismatchedSessionConfig { .. }), "{e:?}");
        let e = bob.create_inbound_session(fc, otk, &m).unwrap_err();
        assert!(matches!(e, fa::olm::SessionCreationError::MismatchedIdentityKey(..)), "{e:?}");
        let created = bob.create_inbound_session(fc, to_fa(alice.curve25519_key()), &m).unwrap();
        assert_eq!(created.plaintext, b"hello bob");
        // the one-time key is used up
        let e = bob.create_inbound_session(fc, to_fa(alice.curve25519_key()), &m).unwrap_err();
        assert!(matches!(e, fa::olm::SessionCreationError::MissingOneTimeKey(k) if k == otk), "{e:?}");
        let mut b = created.session;
        conversation_rev(&mut a, &mut b);
    }
}

/// Facade `a` and vodozemac `b`: bursts in both directions (each turn a ratchet step), the
/// last burst delivered in reverse order, then a replay refused by both.
fn conversation(a: &mut fa::olm::Session, b: &mut real::olm::Session) {
    for round in 0..6 {
        let msgs: Vec<_> = (0..3).map(|i| a.encrypt(format!("a{round}.{i}")).unwrap()).collect();
        for (i, m) in msgs.iter().enumerate().rev() {
            assert_eq!(b.decrypt(&olm_to_real(m)).unwrap(), format!("a{round}.{i}").as_bytes());
        }
        let msgs: Vec<_> = (0..3).map(|i| b.encrypt(format!("b{round}.{i}")).unwrap()).collect();
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(a.decrypt(&olm_to_fa(m)).unwrap(), format!("b{round}.{i}").as_bytes());
        }
        let replay = olm_to_fa(&msgs[0]);
        assert!(matches!(a.decrypt(&replay), Err(fa::olm::DecryptionError::MissingMessageKey(_))));
    }
    assert!(a.has_received_message() && b.has_received_message());
}

fn conversation_rev(a: &mut real::olm::Session, b: &mut fa::olm::Session) {
    for round in 0..6 {
        let msgs: Vec<_> = (0..3).map(|i| a.encrypt(format!("a{round}.{i}")).unwrap()).collect();
        for (i, m) in msgs.iter().enumerate().rev() {
            assert_eq!(b.decrypt(&olm_to_fa(m)).unwrap(), format!("a{round}.{i}").as_bytes());
        }
        let msgs: Vec<_> = (0..3).map(|i| b.encrypt(format!("b{round}.{i}")).unwrap()).collect();
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(a.decrypt(&olm_to_real(m)).unwrap(), format!("b{round}.{i}").as_bytes());
        }
    }
}

#[test]
fn olm_sessions_and_accounts_cross_through_pickles_mid_conversation() {
    let mut alice = fa::olm::Account::new();
    let mut bob = real::olm::Account::new();
    alice.generate_fallback_key();
    bob.generate_fallback_key();
    let otk = real_otk(&mut bob);
    let mut a = alice.create_outbound_session(Default::default(), to_fa(bob.curve25519_key()), to_fa(otk)).unwrap();
    let real::olm::OlmMessage::PreKey(m) = olm_to_real(&a.encrypt("one").unwrap()) else { panic!() };
    let mut b = bob.create_inbound_session(Default::default(), to_real(alice.curve25519_key()), &m).unwrap().session;
    conversation(&mut a, &mut b);
    for _ in 0..3 {
        // every object moves to the other library through serde and back through the
        // encrypted pickle string, and the conversation goes on
        let b2: fa::olm::Session = fa::olm::Session::from_pickle(cross_session(&b.pickle()));
        let a2: real::olm::Session = real::olm::Session::from_pickle(cross_session(&a.pickle()));
        let (mut a, mut b) = (b2, a2);
        conversation(&mut a, &mut b);
        let pa = a.pickle().encrypt(&KEY);
        let pb = b.pickle().encrypt(&KEY);
        let mut a3 = fa::olm::Session::from_pickle(fa::olm::SessionPickle::from_encrypted(&pa, &KEY).unwrap());
        let mut b3 = real::olm::Session::from_pickle(real::olm::SessionPickle::from_encrypted(&pb, &KEY).unwrap());
        conversation(&mut a3, &mut b3);
    }
    // accounts: the same identity and unpublished keys after crossing, in both directions
    alice.generate_one_time_keys(5);
    let alice_real: real::olm::Account = real::olm::Account::from_pickle(cross(&alice.pickle()));
    assert_eq!(json(&alice_real.identity_keys()), json(&alice.identity_keys()));
    assert_eq!(alice_real.one_time_keys().len(), 5);
    let back: fa::olm::Account = fa::olm::Account::from_pickle(cross(&alice_real.pickle()));
    assert_eq!(json(&back.pickle()), json(&alice.pickle()));
    let enc = alice_real.pickle().encrypt(&KEY);
    let again = fa::olm::Account::from_pickle(fa::olm::AccountPickle::from_encrypted(&enc, &KEY).unwrap());
    assert_eq!(json(&again.pickle()), json(&alice.pickle()));
    // and the facade's encrypted string reads in vodozemac
    let enc = again.pickle().encrypt(&KEY);
    let in_real = real::olm::Account::from_pickle(real::olm::AccountPickle::from_encrypted(&enc, &KEY).unwrap());
    assert_eq!(json(&in_real.pickle()), json(&alice.pickle()));
}

// ------------------------------------------------------------------ Megolm

#[test]
fn megolm_both_ways_with_session_keys_and_exports() {
    // facade sends, vodozemac receives
    let mut out = fa::megolm::GroupSession::new(Default::default());
    let key = real::megolm::SessionKey::from_base64(&out.session_key().to_base64()).unwrap();
    let mut inbound = real::megolm::InboundGroupSession::new(&key, Default::default());
    assert_eq!(inbound.session_id(), out.session_id());
    for i in 0..20u32 {
        let m = out.encrypt(format!("m{i}"));
        let m: real::megolm::MegolmMessage = cross(&m);
        let d = inbound.decrypt(&m).unwrap();
        assert_eq!((d.plaintext, d.message_index), (format!("m{i}").into_bytes(), i));
    }
    // vodozemac sends, facade receives, from an export at index 5
    let mut out = real::megolm::GroupSession::new(Default::default());
    let key: fa::megolm::SessionKey = cross(&out.session_key());
    let mut full = fa::megolm::InboundGroupSession::new(&key, Default::default());
    let msgs: Vec<_> = (0..10).map(|i| out.encrypt(format!("r{i}"))).collect();
    for (i, m) in msgs.iter().enumerate().rev() {
        assert_eq!(full.decrypt(&cross(m)).unwrap().plaintext, format!("r{i}").as_bytes());
    }
    let export = full.export_at(5).unwrap();
    let exported_real = real::megolm::ExportedSessionKey::from_base64(&export.to_base64()).unwrap();
    let mut partial_real = real::megolm::InboundGroupSession::import(&exported_real, Default::default());
    let mut partial = fa::megolm::InboundGroupSession::import(&export, Default::default());
    let old: fa::megolm::MegolmMessage = cross(&msgs[4]);
    let e = partial.decrypt(&old).unwrap_err();
    let e_real = partial_real.decrypt(&msgs[4]).unwrap_err();
    assert!(matches!(e, fa::megolm::DecryptionError::UnknownMessageIndex(5, 4)), "{e:?}");
    assert_eq!(e.to_string(), e_real.to_string());
    assert_eq!(partial.compare(&mut full), fa::megolm::SessionOrdering::Worse);
    assert_eq!(full.compare(&mut partial), fa::megolm::SessionOrdering::Better);
    assert!(full.merge(&mut partial).is_some());
    // inbound pickles cross both ways, and the first known index survives
    let p: real::megolm::InboundGroupSessionPickle = cross(&partial.pickle());
    let r = real::megolm::InboundGroupSession::from_pickle(p);
    assert_eq!(r.first_known_index(), 5);
    let p: fa::megolm::InboundGroupSessionPickle = cross(&r.pickle());
    assert_eq!(fa::megolm::InboundGroupSession::from_pickle(p).first_known_index(), 5);
    // outbound pickles cross and go on encrypting where they were
    let mut moved = fa::megolm::GroupSession::from_pickle(cross(&out.pickle()));
    assert_eq!(moved.message_index(), 10);
    let m: real::megolm::MegolmMessage = cross(&moved.encrypt("after the move"));
    let mut r_in = real::megolm::InboundGroupSession::new(&key_real(&out), Default::default());
    assert_eq!(r_in.decrypt(&m).unwrap().plaintext, b"after the move");
}

fn key_real(out: &real::megolm::GroupSession) -> real::megolm::SessionKey {
    out.session_key()
}

// ------------------------------------------------------------------ SAS

#[test]
fn sas_both_ways() {
    for facade_first in [true, false] {
        let f = fa::sas::Sas::new();
        let r = real::sas::Sas::new();
        let (fk, rk) = (f.public_key().to_base64(), r.public_key().to_base64());
        let f = if facade_first {
            f.diffie_hellman_with_raw(&rk).unwrap()
        } else {
            f.diffie_hellman(fa::Curve25519PublicKey::from_base64(&rk).unwrap()).unwrap()
        };
        let r = r.diffie_hellman_with_raw(&fk).unwrap();
        let info = "MATRIX_KEY_VERIFICATION_SAS|@a:x|A|k|@b:x|B|k|txn";
        assert_eq!(f.bytes(info).as_bytes(), r.bytes(info).as_bytes());
        assert_eq!(f.bytes(info).emoji_indices(), r.bytes(info).emoji_indices());
        assert_eq!(f.bytes(info).decimals(), r.bytes(info).decimals());
        assert_eq!(f.bytes_raw(info, 100).unwrap(), r.bytes_raw(info, 100).unwrap());
        assert!(f.bytes_raw(info, 255 * 32 + 1).is_err() && r.bytes_raw(info, 255 * 32 + 1).is_err());
        let (input, mac_info) = ("ed25519:DEVICE", "MATRIX_KEY_VERIFICATION_MAC...");
        let fm = f.calculate_mac(input, mac_info);
        let rm = r.calculate_mac(input, mac_info);
        assert_eq!(fm.to_base64(), rm.to_base64());
        r.verify_mac(input, mac_info, &real::sas::Mac::from_base64(&fm.to_base64()).unwrap()).unwrap();
        f.verify_mac(input, mac_info, &fa::sas::Mac::from_base64(&rm.to_base64()).unwrap()).unwrap();
        let e = f.verify_mac("other", mac_info, &fa::sas::Mac::from_base64(&rm.to_base64()).unwrap()).unwrap_err();
        let e_real = r.verify_mac("other", mac_info, &rm).unwrap_err();
        assert_eq!(e.to_string(), e_real.to_string());
        assert_eq!(f.calculate_mac_invalid_base64(input, mac_info), r.calculate_mac_invalid_base64(input, mac_info));
        let shape = |ours: &str, theirs: &str| {
            format!("EstablishedSas {{ our_public_key: {ours:?}, their_public_key: {theirs:?}, .. }}")
        };
        assert_eq!(format!("{f:?}"), shape(&fk, &rk));
        assert_eq!(format!("{r:?}"), shape(&rk, &fk));
    }
    // a small-order key is refused by both, with the same message
    let zero = [0u8; 32];
    let e = fa::sas::Sas::new().diffie_hellman(fa::Curve25519PublicKey::from_bytes(zero)).unwrap_err();
    let e_real = real::sas::Sas::new().diffie_hellman(real::Curve25519PublicKey::from_bytes(zero)).unwrap_err();
    assert_eq!(e.to_string(), e_real.to_string());
}

// ------------------------------------------------------------------ PK encryption

#[test]
fn pk_encryption_both_ways_and_pickles() {
    let secret = [0x42u8; 32];
    let fd = fa::pk_encryption::PkDecryption::from_key(fa::Curve25519SecretKey::from_slice(&secret));
    let rd = real::pk_encryption::PkDecryption::from_key(real::Curve25519SecretKey::from_slice(&secret));
    assert_eq!(fd.public_key().to_base64(), rd.public_key().to_base64());
    assert_eq!(*fd.secret_key().to_bytes(), secret);
    // vodozemac encrypts, the facade decrypts; and the reverse
    let m = real::pk_encryption::PkEncryption::from_key(rd.public_key()).encrypt(b"room key").unwrap();
    let m = fa::pk_encryption::Message::from_base64(
        &real::base64_encode(&m.ciphertext),
        &real::base64_encode(&m.mac),
        &m.ephemeral_key.to_base64(),
    )
    .unwrap();
    assert_eq!(fd.decrypt(&m).unwrap(), b"room key");
    let m = fa::pk_encryption::PkEncryption::from(&fd).encrypt(b"other key").unwrap();
    let m = real::pk_encryption::Message::from_base64(
        &fa::base64_encode(&m.ciphertext),
        &fa::base64_encode(&m.mac),
        &m.ephemeral_key.to_base64(),
    )
    .unwrap();
    assert_eq!(rd.decrypt(&m).unwrap(), b"other key");
    // libolm's PkDecryption pickle, both ways
    let p = fd.to_libolm_pickle(b"k").unwrap();
    let back = real::pk_encryption::PkDecryption::from_libolm_pickle(&p, b"k").unwrap();
    assert_eq!(back.public_key().to_base64(), fd.public_key().to_base64());
    let p = rd.to_libolm_pickle(b"k").unwrap();
    let back = fa::pk_encryption::PkDecryption::from_libolm_pickle(&p, b"k").unwrap();
    assert_eq!(back.public_key().to_base64(), fd.public_key().to_base64());
    // a wrong MAC: the same error text
    let mut bad = fa::pk_encryption::PkEncryption::from(&fd).encrypt(b"x").unwrap();
    bad.mac[0] ^= 1;
    let e = fd.decrypt(&bad).unwrap_err();
    let bad_real = real::pk_encryption::Message {
        ciphertext: bad.ciphertext.clone(),
        mac: bad.mac.clone(),
        ephemeral_key: to_real(bad.ephemeral_key),
    };
    assert_eq!(e.to_string(), rd.decrypt(&bad_real).unwrap_err().to_string());
}

// ------------------------------------------------------------------ ECIES and HPKE

#[test]
fn ecies_both_ways() {
    for facade_initiates in [true, false] {
        if facade_initiates {
            let g = real::ecies::Ecies::new();
            let s = fa::ecies::Ecies::new();
            let out = s.establish_outbound_channel(to_fa(g.public_key()), b"MATRIX_QR_CODE_LOGIN_INITIATE").unwrap();
            let msg = real::ecies::InitialMessage::decode(&out.message.encode()).unwrap();
            let inb = g.establish_inbound_channel(&msg).unwrap();
            assert_eq!(inb.message, b"MATRIX_QR_CODE_LOGIN_INITIATE");
            let (mut s, mut g) = (out.ecies, inb.ecies);
            assert_eq!(s.check_code().as_bytes(), g.check_code().as_bytes());
            assert_eq!(
                s.check_code().to_digit(fa::ecies::DigitMode::AllowLeadingZero),
                g.check_code().to_digit(real::ecies::DigitMode::AllowLeadingZero)
            );
            for i in 0..3 {
                let m = g.encrypt(format!("g{i}").as_bytes());
                assert_eq!(
                    s.decrypt(&fa::ecies::Message::decode(&m.encode()).unwrap()).unwrap(),
                    format!("g{i}").as_bytes()
                );
                let m = s.encrypt(format!("s{i}").as_bytes());
                assert_eq!(
                    g.decrypt(&real::ecies::Message::decode(&m.encode()).unwrap()).unwrap(),
                    format!("s{i}").as_bytes()
                );
            }
        } else {
            let g = fa::ecies::Ecies::new();
            let s = real::ecies::Ecies::new();
            let out = s.establish_outbound_channel(to_real(g.public_key()), b"hello").unwrap();
            let msg = fa::ecies::InitialMessage::decode(&out.message.encode()).unwrap();
            let inb = g.establish_inbound_channel(&msg).unwrap();
            let (mut s, mut g) = (out.ecies, inb.ecies);
            assert_eq!(s.check_code().as_bytes(), g.check_code().as_bytes());
            for i in 0..3 {
                let m = s.encrypt(format!("s{i}").as_bytes());
                assert_eq!(
                    g.decrypt(&fa::ecies::Message::decode(&m.encode()).unwrap()).unwrap(),
                    format!("s{i}").as_bytes()
                );
                let m = g.encrypt(format!("g{i}").as_bytes());
                assert_eq!(
                    s.decrypt(&real::ecies::Message::decode(&m.encode()).unwrap()).unwrap(),
                    format!("g{i}").as_bytes()
                );
            }
        }
    }
}

#[test]
fn hpke_both_ways() {
    let aad = b"aad";
    // the facade scans (sender), vodozemac shows the QR code (recipient)
    let g = real::hpke::HpkeRecipientChannel::new();
    let sent = fa::hpke::HpkeSenderChannel::new().establish_channel(to_fa(g.public_key()), b"hi G", aad).unwrap();
    let got = g.establish_channel(&real::hpke::InitialMessage::decode(&sent.message.encode()).unwrap(), aad).unwrap();
    assert_eq!(got.message, b"hi G");
    let answered = got.channel.establish_bidirectional_channel(b"hi S", aad);
    let done = sent
        .channel
        .establish_bidirectional_channel(&fa::hpke::InitialResponse::decode(&answered.message.encode()).unwrap(), aad)
        .unwrap();
    assert_eq!(done.message, b"hi S");
    let (mut s, mut g) = (done.channel, answered.channel);
    assert_eq!(s.check_code().as_bytes(), g.check_code().as_bytes());
    for i in 0..3 {
        let m = s.seal(format!("s{i}").as_bytes(), aad);
        assert_eq!(
            g.open(&real::hpke::Message::decode(&m.encode()).unwrap(), aad).unwrap(),
            format!("s{i}").as_bytes()
        );
        let m = g.seal(format!("g{i}").as_bytes(), aad);
        assert_eq!(s.open(&fa::hpke::Message::decode(&m.encode()).unwrap(), aad).unwrap(), format!("g{i}").as_bytes());
    }
    // vodozemac scans, the facade shows the QR code
    let g = fa::hpke::HpkeRecipientChannel::new();
    let sent = real::hpke::HpkeSenderChannel::new().establish_channel(to_real(g.public_key()), b"hi G", aad).unwrap();
    let got = g.establish_channel(&fa::hpke::InitialMessage::decode(&sent.message.encode()).unwrap(), aad).unwrap();
    assert_eq!(got.message, b"hi G");
    let answered = got.channel.establish_bidirectional_channel(b"hi S", aad);
    let done = sent
        .channel
        .establish_bidirectional_channel(&real::hpke::InitialResponse::decode(&answered.message.encode()).unwrap(), aad)
        .unwrap();
    let (mut s, mut g) = (done.channel, answered.channel);
    assert_eq!(s.check_code().as_bytes(), g.check_code().as_bytes());
    let m = s.seal(b"x", aad);
    assert_eq!(g.open(&fa::hpke::Message::decode(&m.encode()).unwrap(), aad).unwrap(), b"x");
    let m = g.seal(b"y", aad);
    assert_eq!(s.open(&real::hpke::Message::decode(&m.encode()).unwrap(), aad).unwrap(), b"y");
}

// ------------------------------------------------------------------ dehydrated devices

#[test]
fn dehydrated_devices_both_ways() {
    let key = [3u8; 32];
    let mut a = fa::olm::Account::new();
    a.generate_one_time_keys(10);
    a.generate_fallback_key();
    let d = a.to_dehydrated_device(&key).unwrap();
    let r = real::olm::Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &key).unwrap();
    assert_eq!(json(&r.identity_keys()), json(&a.identity_keys()));
    let d = r.to_dehydrated_device(&key).unwrap();
    let back = fa::olm::Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &key).unwrap();
    assert_eq!(json(&back.identity_keys()), json(&a.identity_keys()));
    // the rehydrated device answers a pre-key message sent to one of its one-time keys
    let mut sender = real::olm::Account::new();
    let mut rehydrated_real = real::olm::Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &key).unwrap();
    let otk = *a.one_time_keys().values().next().unwrap();
    let mut s = sender.create_outbound_session(Default::default(), r.curve25519_key(), to_real(otk)).unwrap();
    let m = s.encrypt("to the dehydrated device").unwrap();
    let fa::olm::OlmMessage::PreKey(pk) = olm_to_fa(&m) else { panic!() };
    let mut back = back;
    let got = back.create_inbound_session(Default::default(), to_fa(sender.curve25519_key()), &pk).unwrap();
    assert_eq!(got.plaintext, b"to the dehydrated device");
    let real::olm::OlmMessage::PreKey(pk) = m else { panic!() };
    assert!(rehydrated_real.create_inbound_session(Default::default(), sender.curve25519_key(), &pk).is_ok());
    let _ = &mut sender;
    // a wrong key is refused by both with the same text
    let e = fa::olm::Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &[0; 32]).map(|_| ()).unwrap_err();
    let e_real = real::olm::Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &[0; 32]).map(|_| ()).unwrap_err();
    assert_eq!(e.to_string(), e_real.to_string());
}

// ------------------------------------------------------------------ shapes: Debug, serde, errors

#[test]
fn debug_formats_match() {
    let real_account = real::olm::Account::new();
    let account = fa::olm::Account::from_pickle(cross(&real_account.pickle()));
    assert_eq!(format!("{:?}", account.curve25519_key()), format!("{:?}", real_account.curve25519_key()));
    assert_eq!(format!("{:?}", account.ed25519_key()), format!("{:?}", real_account.ed25519_key()));
    assert_eq!(format!("{:?}", account.identity_keys()), format!("{:?}", real_account.identity_keys()));
    assert_eq!(format!("{:?}", account.sign("x")), format!("{:?}", real_account.sign("x")));
    assert_eq!(format!("{}", account.sign("x")), format!("{}", real_account.sign("x")));
    assert_eq!(
        format!("{:?}", fa::olm::SessionConfig::version_2()),
        format!("{:?}", real::olm::SessionConfig::version_2())
    );
    assert_eq!(
        format!("{:?}", fa::megolm::SessionConfig::version_1()),
        format!("{:?}", real::megolm::SessionConfig::version_1())
    );
    let mut bob = real::olm::Account::new();
    let otk = real_otk(&mut bob);
    let mut s = real_account.create_outbound_session(Default::default(), bob.curve25519_key(), otk).unwrap();
    let m = s.encrypt("x").unwrap();
    let fm = olm_to_fa(&m);
    assert_eq!(format!("{fm:?}"), format!("{m:?}"));
    let real::olm::OlmMessage::PreKey(pk) = &m else { panic!() };
    let fa::olm::OlmMessage::PreKey(fpk) = &fm else { panic!() };
    assert_eq!(format!("{:?}", fpk.session_keys()), format!("{:?}", pk.session_keys()));
    assert_eq!(format!("{:?}", fpk.message()), format!("{:?}", pk.message()));
    let mut g = real::megolm::GroupSession::new(Default::default());
    let mm = g.encrypt("x");
    let fmm: fa::megolm::MegolmMessage = cross(&mm);
    assert_eq!(format!("{fmm:?}"), format!("{mm:?}"));
    assert_eq!(format!("{:?}", fmm.signature()), format!("{:?}", mm.signature()));
    bob.generate_one_time_keys(1);
    let id = *bob.one_time_keys().keys().next().unwrap();
    let fid: fa::KeyId = cross(&id);
    assert_eq!(format!("{fid:?}"), format!("{id:?}"));
}

#[test]
fn key_ids_and_one_time_key_contract_match() {
    let mut f = fa::olm::Account::new();
    let mut r = real::olm::Account::new();
    assert_eq!(f.max_number_of_one_time_keys(), r.max_number_of_one_time_keys());
    for _ in 0..3 {
        let fr = f.generate_one_time_keys(70);
        let rr = r.generate_one_time_keys(70);
        assert_eq!((fr.created.len(), fr.removed.len()), (rr.created.len(), rr.removed.len()));
        let mut fids: Vec<String> = f.one_time_keys().keys().map(|k| k.to_base64()).collect();
        let mut rids: Vec<String> = r.one_time_keys().keys().map(|k| k.to_base64()).collect();
        fids.sort();
        rids.sort();
        assert_eq!(fids, rids, "key ids continue the same counter");
        let fid = *f.one_time_keys().keys().max().unwrap();
        let rid = *r.one_time_keys().keys().max().unwrap();
        assert_eq!(json(&fid), json(&rid));
        f.mark_keys_as_published();
        r.mark_keys_as_published();
        assert_eq!(f.stored_one_time_key_count(), r.stored_one_time_key_count());
    }
    f.generate_fallback_key();
    r.generate_fallback_key();
    let fk: Vec<String> = f.fallback_key().keys().map(|k| k.to_base64()).collect();
    let rk: Vec<String> = r.fallback_key().keys().map(|k| k.to_base64()).collect();
    assert_eq!(fk, rk);
    assert_eq!(f.forget_fallback_key(), r.forget_fallback_key());
    assert_eq!(
        String::from(*f.fallback_key().keys().next().unwrap()),
        String::from(*r.fallback_key().keys().next().unwrap())
    );
}

/// The one deliberate difference in session creation: a pre-key message replayed to a fallback
/// key. vodozemac makes a second session and delivers the plaintext again; the facade (caudata)
/// refuses it with vodozemac's answer to a replay to a one-time key, `MissingOneTimeKey`, and
/// its account is unchanged. The first delivery is the same on both.
#[test]
fn fallback_key_replay_refused_by_the_facade_only() {
    let sender = real::olm::Account::new();
    let mut f = fa::olm::Account::new();
    let mut r = real::olm::Account::new();
    f.generate_fallback_key();
    r.generate_fallback_key();
    let fk = *f.fallback_key().values().next().unwrap();
    let rk = *r.fallback_key().values().next().unwrap();
    let mut to_f =
        sender.create_outbound_session(Default::default(), to_real(f.curve25519_key()), to_real(fk)).unwrap();
    let mut to_r = sender.create_outbound_session(Default::default(), r.curve25519_key(), rk).unwrap();
    let real::olm::OlmMessage::PreKey(mf) = to_f.encrypt("once").unwrap() else { panic!() };
    let real::olm::OlmMessage::PreKey(mr) = to_r.encrypt("once").unwrap() else { panic!() };
    let mf = fa::olm::PreKeyMessage::from_base64(&mf.to_base64()).unwrap();

    let first = f.create_inbound_session(Default::default(), to_fa(sender.curve25519_key()), &mf).unwrap();
    assert_eq!(first.plaintext, b"once");
    assert_eq!(r.create_inbound_session(Default::default(), sender.curve25519_key(), &mr).unwrap().plaintext, b"once");

    let before = json(&f.pickle());
    let replay = f.create_inbound_session(Default::default(), to_fa(sender.curve25519_key()), &mf);
    assert!(
        matches!(replay, Err(fa::olm::SessionCreationError::MissingOneTimeKey(k)) if k == fk),
        "the facade refuses the replay"
    );
    assert_eq!(json(&f.pickle()), before, "a refused replay changes nothing");
    let again = r.create_inbound_session(Default::default(), sender.curve25519_key(), &mr).unwrap();
    assert_eq!(again.plaintext, b"once", "vodozemac delivers the replay a second time");
}

#[test]
fn error_texts_match() {
    // keys
    for input in ["", "a", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAZ"]
    {
        let f = fa::Curve25519PublicKey::from_base64(input).unwrap_err().to_string();
        let r = real::Curve25519PublicKey::from_base64(input).unwrap_err().to_string();
        assert_eq!(f, r, "{input:?}");
        let f = fa::Ed25519PublicKey::from_base64(input).unwrap_err().to_string();
        let r = real::Ed25519PublicKey::from_base64(input).unwrap_err().to_string();
        assert_eq!(f, r, "{input:?}");
    }
    let f = fa::Ed25519Signature::from_slice(&[0; 10]).unwrap_err().to_string();
    let r = real::Ed25519Signature::from_slice(&[0; 10]).unwrap_err().to_string();
    assert_eq!(f, r);
    // messages
    let bodies: [&[u8]; 6] = [b"", b"\x02", b"\x03", b"\x03\x0a", b"\x04\x0a\x20", b"\x09abc"];
    for t in [0usize, 1, 2] {
        for body in bodies {
            let f = fa::olm::OlmMessage::from_parts(t, body).unwrap_err().to_string();
            let r = real::olm::OlmMessage::from_parts(t, body).unwrap_err().to_string();
            if !f.starts_with("failed to decode Protobuf") && !r.starts_with("failed to decode Protobuf") {
                assert_eq!(f, r, "type {t}, body {body:?}");
            }
        }
    }
    for body in bodies {
        let f = fa::megolm::MegolmMessage::from_bytes(body).unwrap_err().to_string();
        let r = real::megolm::MegolmMessage::from_bytes(body).unwrap_err().to_string();
        assert_eq!(f, r, "{body:?}");
    }
    // session keys
    for input in ["", "!!!!", "AQ", "Ag"] {
        let f = fa::megolm::SessionKey::from_base64(input).map(|_| ()).unwrap_err().to_string();
        let r = real::megolm::SessionKey::from_base64(input).map(|_| ()).unwrap_err().to_string();
        assert_eq!(f, r, "{input:?}");
        let f = fa::megolm::ExportedSessionKey::from_base64(input).map(|_| ()).unwrap_err().to_string();
        let r = real::megolm::ExportedSessionKey::from_base64(input).map(|_| ()).unwrap_err().to_string();
        assert_eq!(f, r, "{input:?}");
    }
    // pickles
    for input in ["!!!", "AAAA", &real::olm::Account::new().pickle().encrypt(&[1; 32])] {
        let f = fa::olm::AccountPickle::from_encrypted(input, &KEY).map(|_| ()).unwrap_err().to_string();
        let r = real::olm::AccountPickle::from_encrypted(input, &KEY).map(|_| ()).unwrap_err().to_string();
        assert_eq!(f, r, "{input:?}");
    }
    // libolm pickles: the wrong key
    let p = real::olm::Account::new().to_libolm_pickle(b"one").unwrap();
    let f = fa::olm::Account::from_libolm_pickle(&p, b"two").map(|_| ()).unwrap_err().to_string();
    let r = real::olm::Account::from_libolm_pickle(&p, b"two").map(|_| ()).unwrap_err().to_string();
    assert_eq!(f, r);
}

#[test]
fn serde_shapes_match() {
    let r = real::olm::Account::new();
    let ik: fa::olm::IdentityKeys = cross(&r.identity_keys());
    let _: real::olm::IdentityKeys = cross(&ik);
    let _: fa::Curve25519PublicKey = cross(&r.curve25519_key());
    let _: fa::Ed25519PublicKey = cross(&r.ed25519_key());
    let _: fa::olm::SessionConfig = cross(&real::olm::SessionConfig::version_2());
    let _: fa::megolm::SessionConfig = cross(&real::megolm::SessionConfig::version_2());
    let seed = real::Ed25519SecretKey::new();
    let fseed: fa::Ed25519SecretKey = cross(&seed);
    assert_eq!(fseed.public_key().to_base64(), seed.public_key().to_base64());
    assert_eq!(fseed.to_base64(), seed.to_base64());
    let c = real::Curve25519SecretKey::new();
    let fc: fa::Curve25519SecretKey = cross(&c);
    assert_eq!(fc.to_bytes(), c.to_bytes());
    let kp = real::Ed25519Keypair::new();
    let fkp: fa::Ed25519Keypair = cross(&kp);
    assert_eq!(fkp.public_key().to_base64(), kp.public_key().to_base64());
    let g = real::megolm::GroupSession::new(Default::default());
    let _: fa::megolm::SessionKey = cross(&g.session_key());
    let inbound = real::megolm::InboundGroupSession::new(&g.session_key(), Default::default());
    let _: fa::megolm::ExportedSessionKey = cross(&inbound.export_at_first_known_index());
    let _: fa::megolm::InboundGroupSession = serde_json::from_str(&json(&inbound.pickle())).unwrap();
    let _: fa::megolm::GroupSessionPickle = cross(&g.pickle());
}
