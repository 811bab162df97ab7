//! Dehydrated devices (MSC3814) against vodozemac 0.11.1, libolm 3.2.16 and the shared known
//! answers (`test-vectors/matrix-parity/dehydrated_device.json`):
//!
//! * v2 (`org.matrix.msc3814.v2`): both fixed cases reproduced byte for byte from their
//!   secrets and nonce; the plaintext checked independently (RustCrypto ChaCha20-Poly1305);
//!   vodozemac's recorded re-dehydrations read; the version / nonce / trailing-byte / flag /
//!   key-id behaviour; live in both directions with vodozemac, the rehydrated account then
//!   receiving Olm sessions on its one-time and fallback keys;
//! * legacy v1 (`org.matrix.msc3814.v1.olm`): the recorded device read, its key derivation
//!   recomputed; live in both directions with vodozemac (libolm pickle under the derived key)
//!   and with libolm (python-olm, the KDF computed in Python);
//! * bad input: every bit flip, truncation, wrong key, wrong lengths, non-canonical base64,
//!   wrong versions and malformed bodies give a clear error, and the account being dehydrated is
//!   never changed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use caudata::olm::{Account, KeyId, OlmMessage, SessionConfig};
use caudata::primitives::RandomSource;
use caudata::{Curve25519PublicKey, DehydratedDeviceError, PickleError};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use common::Libolm;
use serde_json::{Value, json};
use vodozemac::olm as vo;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/matrix-parity/dehydrated_device.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("missing {k}"))
}

fn h(v: &Value, k: &str) -> Vec<u8> {
    hex::decode(s(v, k)).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64ct::{Base64Unpadded, Encoding};
    Base64Unpadded::encode_string(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    caudata::primitives::base64_decode(text).unwrap()
}

/// Randomness replayed from a recording.
struct Replay(Vec<u8>);
impl RandomSource for Replay {
    fn fill(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "the recording ran out");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

/// An independent ChaCha20-Poly1305 (the RustCrypto crate used directly).
fn seal(key: &[u8; 32], nonce: &[u8; 12], plaintext: &[u8]) -> String {
    b64(&ChaCha20Poly1305::new(key.into()).encrypt(&Nonce::from(*nonce), plaintext).unwrap())
}

fn open(key: &[u8; 32], device: &str, nonce: &str) -> Vec<u8> {
    let nonce: [u8; 12] = unb64(nonce).try_into().unwrap();
    ChaCha20Poly1305::new(key.into()).decrypt(&Nonce::from(nonce), unb64(device).as_slice()).unwrap()
}

/// The account of a vector case, built through the public API from its secrets.
fn account_of(case: &Value) -> Account {
    let mut a =
        Account::new_with_rng(&mut Replay([h(case, "ed25519_seed_hex"), h(case, "curve25519_secret_hex")].concat()));
    let otks: Vec<u8> = case["one_time_key_secrets_hex"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|k| hex::decode(k.as_str().unwrap()).unwrap())
        .collect();
    a.generate_one_time_keys_with_rng(otks.len() / 32, &mut Replay(otks));
    if let Some(f) = case["fallback_secret_hex"].as_str() {
        a.generate_fallback_key_with_rng(&mut Replay(hex::decode(f).unwrap()));
    }
    a
}

fn key_of(v: &Value) -> [u8; 32] {
    h(v, "pickle_key_hex").try_into().unwrap()
}

/// The identity and every one-time and fallback key (public) of an account, and its next ids.
fn fingerprint(a: &Account) -> String {
    let sorted = |m: std::collections::HashMap<KeyId, Curve25519PublicKey>| {
        m.into_iter().collect::<std::collections::BTreeMap<_, _>>()
    };
    format!(
        "{:?} {:?} {:?} {}",
        a.identity_keys(),
        sorted(a.one_time_keys()),
        sorted(a.fallback_key()),
        a.stored_one_time_key_count()
    )
}

#[test]
fn v2_known_answers() {
    let v = vectors();
    for case in v["cases"].as_array().unwrap() {
        let name = s(case, "name");
        let key = key_of(case);
        assert_eq!(b64(&key), s(case, "pickle_key_b64 (m.dehydrated_device secret)"));
        let account = account_of(case);
        assert_eq!(account.curve25519_key().to_base64(), s(case, "expected_curve25519_b64 (= device_id)"));
        assert_eq!(account.ed25519_key().to_base64(), s(case, "expected_ed25519_b64"));
        // byte for byte, with the recorded nonce
        let before = fingerprint(&account);
        let d = account.to_dehydrated_device_with_rng(&key, &mut Replay(unb64(s(case, "nonce")))).unwrap();
        assert_eq!(fingerprint(&account), before, "dehydrating changed the account");
        assert_eq!(d.ciphertext, s(case, "device_pickle"), "{name}");
        assert_eq!(d.nonce, s(case, "nonce"), "{name}");
        assert_eq!(open(&key, &d.ciphertext, &d.nonce), h(case, "plaintext_hex"), "{name}");
        // read back: the recorded device and vodozemac's re-dehydration of it
        let recorded = &case["recorded_vodozemac_redehydration"];
        for (device, nonce) in
            [(s(case, "device_pickle"), s(case, "nonce")), (s(recorded, "device_pickle"), s(recorded, "nonce"))]
        {
            assert_eq!(open(&key, device, nonce), h(case, "plaintext_hex"));
            let mut r = Account::from_dehydrated_device(device, nonce, &key).unwrap();
            let after = &case["after_rehydration"];
            assert_eq!(r.identity_keys(), account.identity_keys());
            assert_eq!(r.sign("{}").to_base64(), s(after, "sign('{}')_b64"));
            assert_eq!(r.stored_one_time_key_count() as u64, after["stored_one_time_key_count"].as_u64().unwrap());
            assert_eq!(r.one_time_keys().len() as u64, after["one_time_keys() (unpublished)"].as_u64().unwrap());
            assert_eq!(r.fallback_key().len() as u64, after["fallback_key() (unpublished)"].as_u64().unwrap());
            // re-dehydrating with vodozemac's nonce gives vodozemac's bytes
            let again = r.to_dehydrated_device_with_rng(&key, &mut Replay(unb64(s(recorded, "nonce")))).unwrap();
            assert_eq!(again.ciphertext, s(recorded, "device_pickle"));
            // one-time key ids continue at n, as in vodozemac
            let n = case["one_time_key_secrets_hex"].as_array().unwrap().len() as u64;
            r.generate_one_time_keys(1);
            assert_eq!(r.one_time_keys().keys().copied().collect::<Vec<_>>(), vec![KeyId(n)]);
        }
    }
    // the vector's key-id facts (3 one-time keys)
    let mut r = Account::from_dehydrated_device(
        s(&v["cases"][0], "device_pickle"),
        s(&v["cases"][0], "nonce"),
        &key_of(&v["cases"][0]),
    )
    .unwrap();
    r.generate_one_time_keys(1);
    assert_eq!(
        r.one_time_keys().keys().next().unwrap().to_base64(),
        v["new_otk_key_id_after_rehydrating_3"][0].as_str().unwrap()
    );
    r.generate_fallback_key();
    assert_eq!(
        r.fallback_key().keys().next().unwrap().to_base64(),
        v["new_fallback_key_id_after_rehydration"][0].as_str().unwrap()
    );
}

#[test]
fn v2_recorded_behaviour() {
    let v = vectors();
    let case = &v["cases"][0];
    let key = key_of(case);
    let nonce: [u8; 12] = unb64(s(case, "nonce")).try_into().unwrap();
    let plaintext = h(case, "plaintext_hex");
    let read = |pt: &[u8]| Account::from_dehydrated_device(&seal(&key, &nonce, pt), s(case, "nonce"), &key);
    let want = read(&plaintext).unwrap().identity_keys();
    // the MSC's version 0x80000000 is refused, as by vodozemac; so are 0 and 2
    assert!(s(&v, "version_0x80000000_(MSC_text)_result").contains("expected 1, got 2147483648"));
    for version in [0x8000_0000u32, 0, 2] {
        let mut pt = plaintext.clone();
        pt[..4].copy_from_slice(&version.to_be_bytes());
        assert_eq!(read(&pt).unwrap_err(), DehydratedDeviceError::Version { expected: 1, got: version });
    }
    for n in 0..4 {
        assert_eq!(read(&plaintext[..n]).unwrap_err(), DehydratedDeviceError::MissingVersion);
    }
    // a trailing byte is ignored and a fallback flag of 2 means "present", as in vodozemac
    assert!(v["trailing_byte_after_pickle_accepted"].as_bool().unwrap());
    assert!(v["fallback_flag_byte_2_accepted_as_true"].as_bool().unwrap());
    assert_eq!(read(&[plaintext.as_slice(), &[0]].concat()).unwrap().identity_keys(), want);
    let flag = plaintext.len() - 33;
    assert_eq!(plaintext[flag], 1);
    let mut two = plaintext.clone();
    two[flag] = 2;
    let r = read(&two).unwrap();
    assert_eq!(r.identity_keys(), want);
    // an 8-byte nonce and a wrong key
    assert_eq!(s(&v, "nonce_of_8_bytes_result"), "The nonce was invalid");
    assert_eq!(
        Account::from_dehydrated_device(s(case, "device_pickle"), &b64(&[0; 8]), &key).unwrap_err(),
        DehydratedDeviceError::InvalidNonce { got: 8 }
    );
    assert!(s(&v, "wrong_key_result").contains("couldn't be decrypted"));
    assert_eq!(
        Account::from_dehydrated_device(s(case, "device_pickle"), s(case, "nonce"), &[0; 32]).unwrap_err(),
        DehydratedDeviceError::Decryption
    );
    // a libolm-origin account (expanded Ed25519 key only) cannot be dehydrated
    assert!(s(&v, "libolm_origin_account_to_dehydrated_device").contains("created by libolm"));
    let from_libolm = Account::from_libolm_pickle(&account_of(case).to_libolm_pickle(b"k").unwrap(), b"k").unwrap();
    assert_eq!(from_libolm.to_dehydrated_device(&key).unwrap_err(), DehydratedDeviceError::InvalidAccount);
}

#[test]
fn v2_bad_input_is_refused() {
    let v = vectors();
    let case = &v["cases"][0];
    let key = key_of(case);
    let (device, nonce) = (s(case, "device_pickle"), s(case, "nonce"));
    let bytes = unb64(device);
    // every single-bit flip of the ciphertext and the nonce
    for bit in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            Account::from_dehydrated_device(&b64(&b), nonce, &key).unwrap_err(),
            DehydratedDeviceError::Decryption
        );
    }
    let nonce_bytes = unb64(nonce);
    for bit in 0..96 {
        let mut n = nonce_bytes.clone();
        n[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            Account::from_dehydrated_device(device, &b64(&n), &key).unwrap_err(),
            DehydratedDeviceError::Decryption
        );
    }
    // truncation, and nonces of other lengths
    for n in [0, 1, 15, 16, 17, bytes.len() - 1] {
        assert_eq!(
            Account::from_dehydrated_device(&b64(&bytes[..n]), nonce, &key).unwrap_err(),
            DehydratedDeviceError::Decryption
        );
    }
    for n in [0, 11, 13, 24] {
        assert_eq!(
            Account::from_dehydrated_device(device, &b64(&vec![7; n]), &key).unwrap_err(),
            DehydratedDeviceError::InvalidNonce { got: n }
        );
    }
    // malformed and non-canonical base64 (a 12-byte nonce is 16 characters without padding
    // bits, so the ciphertext is the one given a set padding bit)
    assert_ne!(bytes.len() % 3, 0, "the device's last character carries padding bits");
    let mut nc = device.to_string();
    let last = nc.pop().unwrap();
    nc.push(char::from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            [b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                .iter()
                .position(|&c| c as char == last)
                .unwrap()
                | 1],
    ));
    assert_eq!(Account::from_dehydrated_device(&nc, nonce, &key).unwrap_err(), DehydratedDeviceError::Base64);
    for bad in ["!!!!", "a b", "ab-_"] {
        assert_eq!(Account::from_dehydrated_device(bad, nonce, &key).unwrap_err(), DehydratedDeviceError::Base64);
        assert_eq!(Account::from_dehydrated_device(device, bad, &key).unwrap_err(), DehydratedDeviceError::Base64);
    }
    // padded base64 is read (vodozemac reads it too)
    let padded = format!("{device}{}", "=".repeat((4 - device.len() % 4) % 4));
    assert_ne!(padded, device);
    assert!(Account::from_dehydrated_device(&padded, nonce, &key).is_ok());
    // too long
    let huge = "A".repeat((1 << 20) / 3 * 4 + 8);
    assert!(matches!(Account::from_dehydrated_device(&huge, nonce, &key), Err(DehydratedDeviceError::TooLong { .. })));

    // authentic but malformed bodies (an authenticated writer choosing every byte)
    let nonce12: [u8; 12] = nonce_bytes.clone().try_into().unwrap();
    let read = |pt: &[u8]| Account::from_dehydrated_device(&seal(&key, &nonce12, pt), nonce, &key);
    let pt = h(case, "plaintext_hex");
    for n in 4..pt.len() {
        let e = read(&pt[..n]).unwrap_err();
        assert!(matches!(e, DehydratedDeviceError::Pickle(PickleError::Truncated(_))), "{n}: {e:?}");
    }
    let mut count = pt.clone();
    count[68..72].copy_from_slice(&65_536u32.to_be_bytes());
    assert!(matches!(read(&count).unwrap_err(), DehydratedDeviceError::Pickle(PickleError::TooMany { .. })));
    count[68..72].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(read(&count).unwrap_err(), DehydratedDeviceError::Pickle(PickleError::TooMany { .. })));
    count[68..72].copy_from_slice(&65_535u32.to_be_bytes());
    assert_eq!(read(&count).unwrap_err(), DehydratedDeviceError::Pickle(PickleError::Truncated("one-time keys")));
}

/// More one-time keys than the account keeps (5 000 + 37): the newest are kept, ids as in
/// vodozemac.
#[test]
fn v2_many_one_time_keys() {
    let key = [9u8; 32];
    let n: usize = caudata::consts::MAX_ONE_TIME_KEYS + 37;
    let mut pt = vec![0, 0, 0, 1];
    pt.extend_from_slice(&[1; 32]);
    pt.extend_from_slice(&[2; 32]);
    pt.extend_from_slice(&(n as u32).to_be_bytes());
    for i in 0..n {
        pt.extend_from_slice(&[(i % 251) as u8 + 3; 32]);
    }
    pt.push(0);
    let nonce = [4u8; 12];
    let r = Account::from_dehydrated_device(&seal(&key, &nonce, &pt), &b64(&nonce), &key).unwrap();
    let kept = r.stored_one_time_key_count();
    assert_eq!(kept, caudata::consts::MAX_ONE_TIME_KEYS);
    // the kept keys are the newest, with their ids: dehydrating again writes them in order
    let again = r.to_dehydrated_device_with_rng(&key, &mut Replay(nonce.to_vec())).unwrap();
    let back = open(&key, &again.ciphertext, &again.nonce);
    assert_eq!(&back[68..72], &(kept as u32).to_be_bytes());
    assert_eq!(&back[72..72 + kept * 32], &pt[72 + (n - kept) * 32..72 + n * 32]);
    let mut r = r;
    r.generate_one_time_keys(1);
    assert_eq!(r.one_time_keys().keys().copied().collect::<Vec<_>>(), vec![KeyId(n as u64)]);
}

// ------------------------------------------------------------------ live: vodozemac

fn vz_curve(k: Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(k.to_bytes())
}

fn cd_curve(k: vodozemac::Curve25519PublicKey) -> Curve25519PublicKey {
    Curve25519PublicKey::from_bytes(k.to_bytes())
}

/// A vodozemac sender opens a session to `to` on `key`; `to` decrypts it and answers.
fn vodozemac_session_to(to: &mut Account, key: Curve25519PublicKey) {
    let alice = vo::Account::new();
    let mut s = alice
        .create_outbound_session(vo::SessionConfig::version_1(), vz_curve(to.curve25519_key()), vz_curve(key))
        .unwrap();
    let (t, b) = s.encrypt("room key").unwrap().to_parts();
    let OlmMessage::PreKey(pk) = OlmMessage::from_parts(t, &b).unwrap() else { panic!("not a pre-key message") };
    let r = to.create_inbound_session(SessionConfig::version_1(), cd_curve(alice.curve25519_key()), &pk).unwrap();
    assert_eq!(r.plaintext, b"room key");
    let mut mine = r.session;
    let (t, b) = mine.encrypt(b"thanks").to_parts();
    assert_eq!(s.decrypt(&vo::OlmMessage::from_parts(t, &b).unwrap()).unwrap(), b"thanks");
}

/// A caudata sender opens a session to the vodozemac account `to` on `key`; it decrypts.
fn caudata_session_to(to: &mut vo::Account, key: vodozemac::Curve25519PublicKey) {
    let alice = Account::new();
    let mut s = alice
        .create_outbound_session(SessionConfig::version_1(), cd_curve(to.curve25519_key()), cd_curve(key))
        .unwrap();
    let (t, b) = s.encrypt(b"room key").to_parts();
    let vo::OlmMessage::PreKey(pk) = vo::OlmMessage::from_parts(t, &b).unwrap() else {
        panic!("not a pre-key message")
    };
    let r = to.create_inbound_session(vo::SessionConfig::version_1(), vz_curve(alice.curve25519_key()), &pk).unwrap();
    assert_eq!(r.plaintext, b"room key");
}

#[test]
fn v2_live_vodozemac_to_caudata() {
    for (otks, fallback, publish) in [(0, false, false), (5, true, false), (50, true, true), (1, false, true)] {
        let key: [u8; 32] = core::array::from_fn(|i| (i * 3 + otks) as u8);
        let mut vz = vo::Account::new();
        vz.generate_one_time_keys(otks);
        if fallback {
            vz.generate_fallback_key();
        }
        let otk_keys: Vec<_> = vz.one_time_keys().into_values().collect();
        let fallback_key = vz.fallback_key().into_values().next();
        if publish {
            vz.mark_keys_as_published();
        }
        let d = vz.to_dehydrated_device(&key).unwrap();
        let mut r = Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &key).unwrap();
        assert_eq!(r.curve25519_key().to_bytes(), vz.curve25519_key().to_bytes());
        assert_eq!(r.ed25519_key().as_bytes(), vz.ed25519_key().as_bytes());
        assert_eq!(r.sign("{}").to_bytes(), vz.sign("{}").to_bytes());
        assert_eq!(r.stored_one_time_key_count(), otks);
        assert!(r.one_time_keys().is_empty() && r.fallback_key().is_empty(), "all published");
        // vodozemac's own rehydration agrees
        let vr = vo::Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &key).unwrap();
        assert_eq!(vr.stored_one_time_key_count(), r.stored_one_time_key_count());
        // the rehydrated account receives sessions on the one-time keys and the fallback key
        for k in otk_keys.iter().take(3) {
            vodozemac_session_to(&mut r, cd_curve(*k));
        }
        assert_eq!(r.stored_one_time_key_count(), otks - otks.min(3));
        if let Some(k) = fallback_key {
            vodozemac_session_to(&mut r, cd_curve(k));
            vodozemac_session_to(&mut r, cd_curve(k));
        }
    }
}

#[test]
fn v2_live_caudata_to_vodozemac() {
    for (otks, fallback) in [(0, false), (4, true), (100, true)] {
        let key = [otks as u8 ^ 0x5a; 32];
        let mut a = Account::new();
        a.generate_one_time_keys(otks);
        if fallback {
            a.generate_fallback_key();
        }
        let otk_keys: Vec<_> = a.one_time_keys().into_values().collect();
        let fallback_key = a.fallback_key().into_values().next();
        let d = a.to_dehydrated_device(&key).unwrap();
        let mut vr = vo::Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &key).unwrap();
        assert_eq!(cd_curve(vr.curve25519_key()), a.curve25519_key());
        assert_eq!(vr.ed25519_key().as_bytes(), a.ed25519_key().as_bytes());
        assert_eq!(vr.stored_one_time_key_count(), otks);
        for k in otk_keys.iter().take(3) {
            caudata_session_to(&mut vr, vz_curve(*k));
        }
        if let Some(k) = fallback_key {
            caudata_session_to(&mut vr, vz_curve(k));
        }
        // vodozemac continues the key ids at n; it re-dehydrates to what caudata reads back
        vr.generate_one_time_keys(1);
        let ids: Vec<u64> = vr
            .one_time_keys()
            .keys()
            .map(|id| u64::from_be_bytes(unb64(&id.to_base64()).try_into().unwrap()))
            .collect();
        assert_eq!(ids, vec![otks as u64]);
        let again = vr.to_dehydrated_device(&key).unwrap();
        let r = Account::from_dehydrated_device(&again.ciphertext, &again.nonce, &key).unwrap();
        assert_eq!(r.identity_keys(), a.identity_keys());
        assert_eq!(r.stored_one_time_key_count(), vr.stored_one_time_key_count());
    }
}

// ------------------------------------------------------------------ legacy v1

/// The SDK's `expand_legacy_pickle_key`, recomputed with the hkdf crate.
fn legacy_key(key: &[u8; 32], device_id: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(device_id.as_bytes()), key)
        .expand(b"dehydrated-device-pickle-key", &mut out)
        .unwrap();
    out
}

#[test]
fn legacy_known_answer_and_bad_input() {
    let v = &vectors()["legacy_v1_matrix_sdk_rehydration_only"];
    let key: [u8; 32] = h(v, "dehydration_key_hex").try_into().unwrap();
    let device_id = s(v, "device_id");
    assert_eq!(legacy_key(&key, device_id).to_vec(), h(v, "derived_pickle_key_hex"));
    let pickle = s(v, "device_pickle (libolm Account pickle v4, libolm pickle cipher)");
    let a = Account::from_legacy_dehydrated_device(pickle, device_id, &key).unwrap();
    assert_eq!(a.curve25519_key().to_base64(), s(v, "expected_curve25519_b64"));
    assert_eq!(a.ed25519_key().to_base64(), s(v, "expected_ed25519_b64"));
    // vodozemac reads it the SDK's way
    let vz = vo::Account::from_libolm_pickle(pickle, &legacy_key(&key, device_id)).unwrap();
    assert_eq!(vz.curve25519_key().to_bytes(), a.curve25519_key().to_bytes());
    // a rehydrated legacy device has no Ed25519 seed: it cannot become a v2 device
    assert_eq!(a.to_dehydrated_device(&key).unwrap_err(), DehydratedDeviceError::InvalidAccount);
    // wrong key, wrong device id, modified, malformed
    let e = |p: &str, d: &str, k: &[u8; 32]| Account::from_legacy_dehydrated_device(p, d, k).unwrap_err();
    assert_eq!(e(pickle, device_id, &[0; 32]), DehydratedDeviceError::Decryption);
    assert_eq!(e(pickle, "OTHERDEVICE", &key), DehydratedDeviceError::Decryption);
    let bytes = unb64(pickle);
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        assert_eq!(e(&b64(&b), device_id, &key), DehydratedDeviceError::Decryption, "byte {i}");
    }
    assert_eq!(e("!!!!", device_id, &key), DehydratedDeviceError::Base64);
    assert!(matches!(e("AAAA", device_id, &key), DehydratedDeviceError::Pickle(PickleError::Truncated(_))));
}

#[test]
fn legacy_live_with_vodozemac_both_ways() {
    let key = [0x33u8; 32];
    // vodozemac writes (as an old client did, a libolm pickle under the derived key)
    let mut vz = vo::Account::new();
    vz.generate_one_time_keys(4);
    vz.generate_fallback_key();
    let otk = *vz.one_time_keys().values().next().unwrap();
    let fallback = *vz.fallback_key().values().next().unwrap();
    let device_id = vz.curve25519_key().to_base64();
    let pickle = vz.to_libolm_pickle(&legacy_key(&key, &device_id)).unwrap();
    let mut a = Account::from_legacy_dehydrated_device(&pickle, &device_id, &key).unwrap();
    assert_eq!(a.curve25519_key().to_bytes(), vz.curve25519_key().to_bytes());
    assert_eq!(a.sign("x").to_bytes(), vz.sign("x").to_bytes());
    vodozemac_session_to(&mut a, cd_curve(otk));
    vodozemac_session_to(&mut a, cd_curve(fallback));
    // caudata writes, vodozemac rehydrates the SDK's way
    let mut c = Account::new();
    c.generate_one_time_keys(3);
    c.generate_fallback_key();
    let otk = *c.one_time_keys().values().next().unwrap();
    let device_id = "ABCDEFGHIJ";
    let legacy = c.to_legacy_dehydrated_device(device_id, &key).unwrap();
    let mut vr = vo::Account::from_libolm_pickle(&legacy, &legacy_key(&key, device_id)).unwrap();
    assert_eq!(cd_curve(vr.curve25519_key()), c.curve25519_key());
    caudata_session_to(&mut vr, vz_curve(otk));
}

#[test]
fn legacy_live_with_libolm_both_ways() {
    let mut p = Libolm::start();
    let key = [0x44u8; 32];
    let key_hex = hex::encode(key);
    // the recorded device: libolm unpickles it under the key derived in Python
    let v = &vectors()["legacy_v1_matrix_sdk_rehydration_only"];
    let r = p.ok(json!({"cmd": "rehydrate_legacy", "h": "rec", "device_id": s(v, "device_id"),
        "key_hex": s(v, "dehydration_key_hex"),
        "device_pickle": s(v, "device_pickle (libolm Account pickle v4, libolm pickle cipher)")}));
    assert_eq!(r["curve25519"], s(v, "expected_curve25519_b64"));

    // libolm dehydrates; caudata rehydrates and receives a libolm session on a one-time key
    let ids = p.ok(json!({"cmd": "account_new", "h": "dev"}));
    p.ok(json!({"cmd": "account_generate_otks", "h": "dev", "n": 3}));
    p.ok(json!({"cmd": "account_generate_fallback", "h": "dev"}));
    let otks = p.ok(json!({"cmd": "account_one_time_keys", "h": "dev"}));
    let otk = otks["keys"].as_object().unwrap().values().next().unwrap().as_str().unwrap().to_string();
    p.ok(json!({"cmd": "account_mark_published", "h": "dev"}));
    let device_id = ids["curve25519"].as_str().unwrap();
    let d = p.ok(json!({"cmd": "dehydrate_legacy", "h": "dev", "device_id": device_id, "key_hex": key_hex}));
    let mut a = Account::from_legacy_dehydrated_device(d["device_pickle"].as_str().unwrap(), device_id, &key).unwrap();
    assert_eq!(a.curve25519_key().to_base64(), ids["curve25519"]);
    assert_eq!(a.ed25519_key().to_base64(), ids["ed25519"]);
    assert_eq!(a.stored_one_time_key_count(), 3);
    let sender = p.ok(json!({"cmd": "account_new", "h": "sender"}));
    p.ok(json!({"cmd": "session_outbound", "h": "s1", "account": "sender", "identity_key": device_id, "one_time_key": otk}));
    let m = p.ok(json!({"cmd": "session_encrypt", "h": "s1", "pt": hex::encode(b"room key")}));
    let OlmMessage::PreKey(pk) =
        OlmMessage::from_base64_parts(m["type"].as_u64().unwrap() as usize, m["body"].as_str().unwrap()).unwrap()
    else {
        panic!("not a pre-key message")
    };
    let sender_key = Curve25519PublicKey::from_base64(sender["curve25519"].as_str().unwrap()).unwrap();
    assert_eq!(a.create_inbound_session(SessionConfig::version_1(), sender_key, &pk).unwrap().plaintext, b"room key");

    // caudata dehydrates; libolm rehydrates and receives a caudata session on a one-time key
    let mut c = Account::new();
    c.generate_one_time_keys(2);
    let otk = *c.one_time_keys().values().next().unwrap();
    let device_id = "SOMEDEVICE";
    let legacy = c.to_legacy_dehydrated_device(device_id, &key).unwrap();
    let r = p.ok(json!({"cmd": "rehydrate_legacy", "h": "back", "device_pickle": legacy, "device_id": device_id, "key_hex": key_hex}));
    assert_eq!(r["curve25519"], c.curve25519_key().to_base64());
    assert_eq!(r["ed25519"], c.ed25519_key().to_base64());
    let alice = Account::new();
    let mut s_ = alice.create_outbound_session(SessionConfig::version_1(), c.curve25519_key(), otk).unwrap();
    let (t, body) = s_.encrypt(b"to libolm").to_base64_parts();
    let got = p.ok(json!({"cmd": "session_inbound", "h": "in", "account": "back", "body": body,
        "identity_key": alice.curve25519_key().to_base64()}));
    assert_eq!(t, 0);
    assert_eq!(got["pt"], hex::encode(b"to libolm"));
    // the wrong device id is refused by libolm too
    let e = p.err(
        json!({"cmd": "rehydrate_legacy", "h": "x", "device_pickle": legacy, "device_id": "OTHER", "key_hex": key_hex}),
    );
    assert_eq!(e, "BAD_ACCOUNT_KEY");
}
