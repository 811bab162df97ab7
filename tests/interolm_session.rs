//! interolm sessions between two caudata accounts, and every kind of bad input: each must give
//! its precise error, leave the session (snapshot) and the account's prekeys unchanged, and
//! leave the next genuine message decryptable.

// Test helpers outside `#[test]` functions may panic too (clippy.toml only covers the tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aes::Aes256;
use caudata::interolm::{
    Account, BundleError, InterolmMessage, PreKeyBundle, PreKeyKind, PreKeySignalMessage, Session, SessionVersion,
    SignalMessage, SpqrPolicy, XEdDsaSignature,
};
use caudata::{Curve25519PublicKey, DecodeError, DecryptionError, KeyError, SessionCreationError};
use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

// ---------------------------------------------------------------------------------------------
// Helpers: accounts, and a minimal protobuf editor to forge messages

fn bob_account(kyber: bool, one_time: bool) -> Account {
    let mut bob = Account::new();
    bob.allow_x3dh(!kyber);
    bob.generate_signed_pre_key();
    if one_time {
        bob.generate_one_time_pre_keys(3);
    }
    if kyber {
        bob.generate_kyber_pre_key(false);
    }
    bob
}

fn pair(kyber: bool) -> (Account, Session, Account, PreKeyBundle) {
    pair_with(kyber, SpqrPolicy::default())
}

/// [`pair`] with both accounts on `policy`. The forging helpers below know nothing of SPQR:
/// tests that forge messages a session must accept run with [`SpqrPolicy::Off`] (SPQR's own
/// bad input is in `tests/interolm_spqr.rs`).
fn pair_with(kyber: bool, policy: SpqrPolicy) -> (Account, Session, Account, PreKeyBundle) {
    let mut alice = Account::new();
    alice.allow_x3dh(!kyber);
    alice.set_spqr_policy(policy);
    let mut bob = bob_account(kyber, true);
    bob.set_spqr_policy(policy);
    let bundle = bob.pre_key_bundle(7).unwrap();
    let session = alice.create_outbound_session(&bundle).unwrap();
    (alice, session, bob, bundle)
}

fn prekey(m: &InterolmMessage) -> &PreKeySignalMessage {
    match m {
        InterolmMessage::PreKey(p) => p,
        InterolmMessage::Whisper(_) => panic!("expected a PreKey message"),
    }
}

#[derive(Clone, Debug)]
enum Field {
    Varint(u64),
    Bytes(Vec<u8>),
}

fn read_varint(b: &[u8], i: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let c = b[*i];
        *i += 1;
        v |= u64::from(c & 0x7f) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return v;
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn parse(b: &[u8]) -> Vec<(u64, Field)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = read_varint(b, &mut i);
        match key & 7 {
            0 => out.push((key >> 3, Field::Varint(read_varint(b, &mut i)))),
            2 => {
                let len = read_varint(b, &mut i) as usize;
                out.push((key >> 3, Field::Bytes(b[i..i + len].to_vec())));
                i += len;
            }
            t => panic!("wire type {t}"),
        }
    }
    out
}

fn serialize(fields: &[(u64, Field)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, f) in fields {
        match f {
            Field::Varint(v) => {
                put_varint(&mut out, n << 3);
                put_varint(&mut out, *v);
            }
            Field::Bytes(b) => {
                put_varint(&mut out, n << 3 | 2);
                put_varint(&mut out, b.len() as u64);
                out.extend_from_slice(b);
            }
        }
    }
    out
}

/// Rewrites the fields of a PreKeySignalMessage (version byte kept).
fn edit_prekey(m: &PreKeySignalMessage, f: impl FnOnce(&mut Vec<(u64, Field)>)) -> Vec<u8> {
    let bytes = m.to_bytes();
    let mut fields = parse(&bytes[1..]);
    f(&mut fields);
    [&bytes[..1], &serialize(&fields)[..]].concat()
}

fn ik33(k: &Curve25519PublicKey) -> Vec<u8> {
    [&[5u8][..], k.as_bytes()].concat()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// The message keys at `index` of a chain whose key at index `from` is `ck`.
fn message_keys(ck: [u8; 32], from: u32, index: u32) -> ([u8; 32], [u8; 32], [u8; 16]) {
    let mut ck = ck;
    for _ in from..index {
        ck = hmac(&ck, &[&[2]]);
    }
    let seed = hmac(&ck, &[&[1]]);
    let mut okm = [0u8; 80];
    hkdf::Hkdf::<Sha256>::new(None, &seed).expand(b"WhisperMessageKeys", &mut okm).unwrap();
    (okm[..32].try_into().unwrap(), okm[32..64].try_into().unwrap(), okm[64..].try_into().unwrap())
}

/// A SignalMessage made by hand from message keys (an independent encoder).
#[allow(clippy::too_many_arguments)]
fn forge(
    version_byte: u8,
    ratchet_key: &Curve25519PublicKey,
    counter: u32,
    keys: &([u8; 32], [u8; 32], [u8; 16]),
    plaintext: &[u8],
    mac_order: (&[u8], &[u8]),
) -> Vec<u8> {
    let ct = cbc::Encryptor::<Aes256>::new(&keys.0.into(), &keys.2.into()).encrypt_padded_vec::<Pkcs7>(plaintext);
    let body = serialize(&[
        (1, Field::Bytes(ik33(ratchet_key))),
        (2, Field::Varint(counter.into())),
        (3, Field::Varint(0)),
        (4, Field::Bytes(ct)),
    ]);
    let mut out = [&[version_byte][..], &body].concat();
    let mac = hmac(&keys.1, &[mac_order.0, mac_order.1, &out]);
    out.extend_from_slice(&mac[..8]);
    out
}

// ---------------------------------------------------------------------------------------------
// Working sessions

#[test]
fn pqxdh_and_x3dh_conversations_with_and_without_one_time_prekeys() {
    for kyber in [true, false] {
        for one_time in [true, false] {
            let mut alice = Account::new();
            alice.allow_x3dh(!kyber);
            let mut bob = bob_account(kyber, one_time);
            let bundle = bob.pre_key_bundle(1).unwrap();
            assert_eq!(bundle.pre_key.is_some(), one_time);
            let mut a = alice.create_outbound_session(&bundle).unwrap();
            let want = if kyber { SessionVersion::Pqxdh } else { SessionVersion::X3dh };
            assert_eq!(a.session_version(), want);
            let m1 = a.encrypt(b"one").unwrap();
            let m2 = a.encrypt(b"two").unwrap();
            assert_eq!(m1.to_bytes()[0], want.version_byte());
            // Out of order: the second PreKey message creates the session.
            let r = bob.create_inbound_session(prekey(&m2)).unwrap();
            assert_eq!(r.plaintext, b"two");
            let mut b = r.session;
            assert!(b.matches(prekey(&m1)));
            assert_eq!(b.decrypt(&m1).unwrap(), b"one");
            assert_eq!(bob.pre_keys().one_time_pre_keys().len(), if one_time { 2 } else { 0 });
            assert!(bob.pre_keys().kyber_pre_key_ids().is_empty(), "the one-time Kyber prekey is spent");
            for i in 0..20u32 {
                let (from, to) = if i % 2 == 0 { (&mut b, &mut a) } else { (&mut a, &mut b) };
                let msgs: Vec<_> =
                    (0..(i % 4)).map(|k| (from.encrypt(format!("{i}.{k}")).unwrap(), format!("{i}.{k}"))).collect();
                for (m, pt) in msgs.iter().rev() {
                    assert_eq!(to.decrypt(m).unwrap(), pt.as_bytes());
                }
            }
            assert!(matches!(a.encrypt(b"x").unwrap(), InterolmMessage::Whisper(_)));
            assert_eq!(a.session_id(), b.session_id());
            assert_eq!(a.remote_identity_key(), bob.identity_key());
            assert_eq!(b.remote_identity_key(), alice.identity_key());
            assert_eq!(b.remote_registration_id(), alice.registration_id());
        }
    }
}

#[test]
fn same_identity_as_olm_account() {
    let olm = caudata::olm::Account::new();
    let account = Account::from_olm_account(&olm);
    assert_eq!(account.identity_key(), olm.curve25519_key());
}

#[test]
fn last_resort_kyber_prekey_stays() {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_signed_pre_key();
    let k = bob.generate_kyber_pre_key(true);
    let mut a = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
    bob.create_inbound_session(prekey(&a.encrypt(b"hi").unwrap())).unwrap();
    assert_eq!(bob.pre_keys().kyber_pre_key_ids(), vec![k]);
}

/// A pre-key message on a last-resort Kyber prekey without a one-time prekey spends nothing, so
/// replaying it would create a second session and deliver its first message again. The account
/// remembers the use and refuses the replay (as libsignal does), also after being pickled; a
/// new session on the same prekeys is still welcome; rotating the signed prekey forgets it.
#[test]
fn replayed_pre_key_message_on_a_last_resort_kyber_prekey_is_refused() {
    use caudata::pickle::InterolmAccountPickle;
    let alice = Account::new();
    let mut bob = Account::new();
    let spk = bob.generate_signed_pre_key();
    bob.generate_kyber_pre_key(true);
    let bundle = bob.pre_key_bundle(1).unwrap();
    let m = prekey(&alice.create_outbound_session(&bundle).unwrap().encrypt(b"pay 100").unwrap()).clone();
    assert_eq!(bob.create_inbound_session(&m).unwrap().plaintext, b"pay 100");
    assert_eq!(bob.pre_keys().last_resort_uses(), 1);
    let before = bob.pickle().unwrap().to_unencrypted_bytes();
    assert!(matches!(bob.create_inbound_session(&m), Err(SessionCreationError::ReplayedPreKeyMessage)));
    assert_eq!(*bob.pickle().unwrap().to_unencrypted_bytes(), *before, "a refused replay changes nothing");
    // the remembered use survives a pickle
    let key = [3u8; 32];
    let mut bob = Account::from_pickle(
        InterolmAccountPickle::from_encrypted(&bob.pickle().unwrap().encrypt(&key), &key).unwrap(),
    );
    assert!(matches!(bob.create_inbound_session(&m), Err(SessionCreationError::ReplayedPreKeyMessage)));
    // another session on the same last-resort prekey is fine
    let m2 = prekey(&alice.create_outbound_session(&bundle).unwrap().encrypt(b"hello").unwrap()).clone();
    assert_eq!(bob.create_inbound_session(&m2).unwrap().plaintext, b"hello");
    assert_eq!(bob.pre_keys().last_resort_uses(), 2);
    // a message with a fresh base key that does not decrypt is not remembered (so a forgery
    // cannot block the genuine message it copies the base key from)
    let m3 = prekey(&alice.create_outbound_session(&bundle).unwrap().encrypt(b"x").unwrap()).clone();
    let mut bytes = m3.to_bytes();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    let bad = PreKeySignalMessage::from_bytes(&bytes).unwrap();
    assert!(bob.create_inbound_session(&bad).is_err());
    assert_eq!(bob.pre_keys().last_resort_uses(), 2);
    assert_eq!(bob.create_inbound_session(&m3).unwrap().plaintext, b"x");
    // rotating the signed prekey forgets its uses (messages naming it are unknown from then on)
    assert!(bob.pre_keys_mut().remove_signed_pre_key(spk));
    assert_eq!(bob.pre_keys().last_resort_uses(), 0);
    assert!(matches!(
        bob.create_inbound_session(&m),
        Err(SessionCreationError::UnknownPreKey { kind: PreKeyKind::Signed, .. })
    ));
    // a one-time Kyber prekey is spent instead, and nothing is remembered for it
    let mut carol = Account::new();
    carol.generate_signed_pre_key();
    carol.generate_kyber_pre_key(false);
    let m = prekey(&alice.create_outbound_session(&carol.pre_key_bundle(1).unwrap()).unwrap().encrypt(b"c").unwrap())
        .clone();
    carol.create_inbound_session(&m).unwrap();
    assert_eq!(carol.pre_keys().last_resort_uses(), 0);
    assert!(matches!(
        carol.create_inbound_session(&m),
        Err(SessionCreationError::UnknownPreKey { kind: PreKeyKind::Kyber, .. })
    ));
}

#[test]
fn bundle_round_trip_and_decode_errors() {
    let (_, _, _, bundle) = pair(true);
    let bytes = bundle.to_bytes();
    assert_eq!(PreKeyBundle::from_bytes(&bytes).unwrap(), bundle);
    assert_eq!(PreKeyBundle::from_bytes(&bytes[..bytes.len() - 1]), Err(DecodeError::Truncated("field body")));
    let mut v2 = bytes.clone();
    v2[0] = 2;
    assert_eq!(PreKeyBundle::from_bytes(&v2), Err(DecodeError::UnsupportedVersion(2)));
    let mut extra = bytes.clone();
    extra.extend_from_slice(&[0x60, 0x01]); // field 12
    assert_eq!(PreKeyBundle::from_bytes(&extra), Err(DecodeError::MalformedField("unknown bundle field")));
}

// ---------------------------------------------------------------------------------------------
// Bundles

#[test]
fn bundle_with_bad_signatures_is_refused() {
    let (alice, _, _, bundle) = pair(true);
    let mut b = bundle.clone();
    let mut sig = b.signed_pre_key_signature.to_bytes();
    sig[5] ^= 1;
    b.signed_pre_key_signature = XEdDsaSignature::from_bytes(sig);
    assert_eq!(
        alice.create_outbound_session(&b).unwrap_err(),
        SessionCreationError::InvalidBundle(BundleError::InvalidSignature(PreKeyKind::Signed))
    );
    let mut b = bundle.clone();
    let (id, key, sig) = b.kyber_pre_key.take().unwrap();
    let mut sig = sig.to_bytes();
    sig[63] ^= 0x80; // the sign bit libsignal keeps there
    b.kyber_pre_key = Some((id, key, XEdDsaSignature::from_bytes(sig)));
    assert_eq!(
        alice.create_outbound_session(&b).unwrap_err(),
        SessionCreationError::InvalidBundle(BundleError::InvalidSignature(PreKeyKind::Kyber))
    );
    // A signature by another identity.
    let mut b = bundle.clone();
    b.signed_pre_key_signature = Account::new().sign(&ik33(&b.signed_pre_key));
    assert_eq!(b.verify(), Err(BundleError::InvalidSignature(PreKeyKind::Signed)));
    // A signature over the key without its 0x05 type byte.
    let mut b = bundle;
    b.signed_pre_key_signature = Account::new().sign(b.signed_pre_key.as_bytes());
    assert_eq!(b.verify(), Err(BundleError::InvalidSignature(PreKeyKind::Signed)));
}

#[test]
fn bundle_with_zero_or_non_canonical_keys_is_refused() {
    let alice = Account::new();
    let bob = bob_account(true, true);
    let good = bob.pre_key_bundle(1).unwrap();
    let zero = Curve25519PublicKey::from_bytes([0; 32]);
    let mut high = good.signed_pre_key.to_bytes();
    high[31] |= 0x80; // same X25519 value, another encoding
    let high = Curve25519PublicKey::from_bytes(high);
    let mut p = [0xFFu8; 32];
    p[0] = 0xED;
    p[31] = 0x7F; // u = p ≡ 0
    let p = Curve25519PublicKey::from_bytes(p);
    let cases: Vec<(&str, PreKeyBundle, KeyError)> = vec![
        ("identity key", PreKeyBundle { identity_key: zero, ..good.clone() }, KeyError::NonContributory),
        // Correctly signed by the identity, and still refused.
        (
            "signed prekey",
            PreKeyBundle { signed_pre_key: zero, signed_pre_key_signature: bob.sign(&ik33(&zero)), ..good.clone() },
            KeyError::NonContributory,
        ),
        (
            "signed prekey",
            PreKeyBundle { signed_pre_key: high, signed_pre_key_signature: bob.sign(&ik33(&high)), ..good.clone() },
            KeyError::NonCanonical,
        ),
        ("one-time prekey", PreKeyBundle { pre_key: Some((1, zero)), ..good.clone() }, KeyError::NonContributory),
        ("one-time prekey", PreKeyBundle { pre_key: Some((1, p)), ..good.clone() }, KeyError::NonCanonical),
        ("identity key", PreKeyBundle { identity_key: high, ..good.clone() }, KeyError::NonCanonical),
    ];
    for (key, bundle, error) in cases {
        assert_eq!(
            alice.create_outbound_session(&bundle).unwrap_err(),
            SessionCreationError::InvalidBundle(BundleError::InvalidKey { key, error: error.clone() }),
            "{key}: {error}"
        );
    }
}

#[test]
fn x3dh_needs_explicit_permission() {
    let alice = Account::new();
    let mut bob = bob_account(false, true);
    let bundle = bob.pre_key_bundle(1).unwrap();
    assert_eq!(alice.create_outbound_session(&bundle).unwrap_err(), SessionCreationError::X3dhNotAllowed);
    // An X3DH pre-key message to an account that requires PQXDH.
    let mut legacy = Account::new();
    legacy.allow_x3dh(true);
    let mut s = legacy.create_outbound_session(&bundle).unwrap();
    let m = s.encrypt(b"x3dh").unwrap();
    bob.allow_x3dh(false);
    assert_eq!(bob.create_inbound_session(prekey(&m)).unwrap_err(), SessionCreationError::X3dhNotAllowed);
    bob.allow_x3dh(true);
    assert_eq!(bob.create_inbound_session(prekey(&m)).unwrap().plaintext, b"x3dh");
}

// ---------------------------------------------------------------------------------------------
// Pre-key messages

#[test]
fn unknown_prekey_ids_are_refused_and_nothing_is_spent() {
    let (alice, _, mut bob, bundle) = pair(true);
    let otk = bundle.pre_key.unwrap().0;
    let kyber = bundle.kyber_pre_key.as_ref().unwrap().0;
    let cases = [
        (PreKeyBundle { signed_pre_key_id: 999, ..bundle.clone() }, PreKeyKind::Signed, 999),
        (PreKeyBundle { pre_key: Some((998, bundle.pre_key.unwrap().1)), ..bundle.clone() }, PreKeyKind::OneTime, 998),
        (
            {
                let (_, k, s) = bundle.kyber_pre_key.clone().unwrap();
                PreKeyBundle { kyber_pre_key: Some((997, k, s)), ..bundle.clone() }
            },
            PreKeyKind::Kyber,
            997,
        ),
    ];
    for (b, kind, id) in cases {
        let mut s = alice.create_outbound_session(&b).unwrap();
        let m = s.encrypt(b"hi").unwrap();
        assert_eq!(
            bob.create_inbound_session(prekey(&m)).unwrap_err(),
            SessionCreationError::UnknownPreKey { kind, id }
        );
        assert!(bob.pre_keys().contains_one_time_pre_key(otk));
        assert!(bob.pre_keys().kyber_pre_key(kyber).is_some());
    }
    // The genuine message still works, and spends the prekeys.
    let mut s = alice.create_outbound_session(&bundle).unwrap();
    let m = s.encrypt(b"genuine").unwrap();
    assert_eq!(bob.create_inbound_session(prekey(&m)).unwrap().plaintext, b"genuine");
    assert!(!bob.pre_keys().contains_one_time_pre_key(otk));
    // A replay of the same pre-key message to the account: its one-time prekey is gone.
    assert_eq!(
        bob.create_inbound_session(prekey(&m)).unwrap_err(),
        SessionCreationError::UnknownPreKey { kind: PreKeyKind::OneTime, id: otk }
    );
}

#[test]
fn forged_prekey_message_spends_nothing() {
    let (_, mut a, mut bob, bundle) = pair(true);
    let otk = bundle.pre_key.unwrap().0;
    let m = a.encrypt(b"hello").unwrap();
    let pk = prekey(&m);
    // Flip the last MAC byte of the inner message.
    let bad = edit_prekey(pk, |f| {
        for (n, v) in f.iter_mut() {
            if let (4, Field::Bytes(inner)) = (*n, v) {
                *inner.last_mut().unwrap() ^= 1;
            }
        }
    });
    let bad = PreKeySignalMessage::from_bytes(&bad).unwrap();
    assert_eq!(
        bob.create_inbound_session(&bad).unwrap_err(),
        SessionCreationError::Decryption(DecryptionError::InvalidMac)
    );
    assert!(bob.pre_keys().contains_one_time_pre_key(otk));
    assert_eq!(bob.pre_keys().kyber_pre_key_ids().len(), 1);
    // Another sender identity in the outer fields: the X3DH secret differs, the MAC fails.
    let other = Account::new().identity_key();
    let spoofed = edit_prekey(pk, |f| {
        for (n, v) in f.iter_mut() {
            if *n == 3 {
                *v = Field::Bytes(ik33(&other));
            }
        }
    });
    assert_eq!(
        bob.create_inbound_session(&PreKeySignalMessage::from_bytes(&spoofed).unwrap()).unwrap_err(),
        SessionCreationError::Decryption(DecryptionError::InvalidMac)
    );
    // An all-zero base key.
    let zero = edit_prekey(pk, |f| {
        for (n, v) in f.iter_mut() {
            if *n == 2 {
                *v = Field::Bytes(ik33(&Curve25519PublicKey::from_bytes([0; 32])));
            }
        }
    });
    assert_eq!(
        bob.create_inbound_session(&PreKeySignalMessage::from_bytes(&zero).unwrap()).unwrap_err(),
        SessionCreationError::Key(KeyError::NonContributory)
    );
    assert!(bob.pre_keys().contains_one_time_pre_key(otk));
    assert_eq!(bob.create_inbound_session(pk).unwrap().plaintext, b"hello");
    assert!(!bob.pre_keys().contains_one_time_pre_key(otk));
}

#[test]
fn kyber_field_errors_are_precise() {
    let (_, mut a, _, _) = pair(true);
    let m = a.encrypt(b"hello").unwrap();
    let pk = prekey(&m);
    let short = edit_prekey(pk, |f| {
        for (n, v) in f.iter_mut() {
            if let (8, Field::Bytes(ct)) = (*n, v) {
                ct.pop();
            }
        }
    });
    assert_eq!(
        InterolmMessage::from_parts(3, &short),
        Err(DecodeError::InvalidFieldLength { field: "kyber_ciphertext", expected: 1569, got: 1568 })
    );
    let long = edit_prekey(pk, |f| {
        for (n, v) in f.iter_mut() {
            if let (8, Field::Bytes(ct)) = (*n, v) {
                ct.push(0);
            }
        }
    });
    assert_eq!(
        InterolmMessage::from_parts(3, &long),
        Err(DecodeError::InvalidFieldLength { field: "kyber_ciphertext", expected: 1569, got: 1570 })
    );
    let wrong_type = edit_prekey(pk, |f| {
        for (n, v) in f.iter_mut() {
            if let (8, Field::Bytes(ct)) = (*n, v) {
                ct[0] = 0x07;
            }
        }
    });
    assert_eq!(InterolmMessage::from_parts(3, &wrong_type), Err(DecodeError::Key(KeyError::UnknownKeyType(7))));
    let no_kyber = edit_prekey(pk, |f| f.retain(|(n, _)| *n != 7 && *n != 8));
    assert_eq!(InterolmMessage::from_parts(3, &no_kyber), Err(DecodeError::MissingField("kyber_pre_key_id")));
    let no_ct = edit_prekey(pk, |f| f.retain(|(n, _)| *n != 8));
    assert_eq!(InterolmMessage::from_parts(3, &no_ct), Err(DecodeError::MissingField("kyber_ciphertext")));
    // The other fields.
    let no_spk = edit_prekey(pk, |f| f.retain(|(n, _)| *n != 6));
    assert_eq!(InterolmMessage::from_parts(3, &no_spk), Err(DecodeError::MissingField("signed_pre_key_id")));
    let dup = edit_prekey(pk, |f| f.push((6, Field::Varint(1))));
    assert_eq!(InterolmMessage::from_parts(3, &dup), Err(DecodeError::DuplicateField("signed_pre_key_id")));
    let key32 = edit_prekey(pk, |f| {
        for (n, v) in f.iter_mut() {
            if let (2, Field::Bytes(k)) = (*n, v) {
                k.remove(0);
            }
        }
    });
    assert_eq!(
        InterolmMessage::from_parts(3, &key32),
        Err(DecodeError::Key(KeyError::InvalidLength { expected: 33, got: 32 }))
    );
    assert_eq!(InterolmMessage::from_parts(1, &m.to_bytes()), Err(DecodeError::UnknownMessageType(1)));
    let mut old = m.to_bytes();
    old[0] = 0x24;
    assert_eq!(InterolmMessage::from_parts(3, &old), Err(DecodeError::LegacyVersion(0x24)));
    old[0] = 0x54;
    assert_eq!(InterolmMessage::from_parts(3, &old), Err(DecodeError::UnsupportedVersion(0x54)));
}

#[test]
fn prekey_message_with_altered_outer_fields_is_refused_by_its_session() {
    let (_, mut a, mut bob, _) = pair(true);
    let m1 = a.encrypt(b"one").unwrap();
    let m2 = a.encrypt(b"two").unwrap();
    let mut b = bob.create_inbound_session(prekey(&m1)).unwrap().session;
    let before = b.snapshot_for_testing_only();
    // The registration id and the one-time prekey id are outside the MAC.
    for (field, value) in [(5u64, 1234u64), (1, 77)] {
        let altered = edit_prekey(prekey(&m2), |f| {
            for (n, v) in f.iter_mut() {
                if *n == field {
                    *v = Field::Varint(value);
                }
            }
        });
        let altered = InterolmMessage::from_parts(3, &altered).unwrap();
        assert_eq!(b.decrypt(&altered), Err(DecryptionError::SessionMismatch));
        assert_eq!(b.snapshot_for_testing_only(), before, "nothing spent");
    }
    assert_eq!(b.decrypt(&m2).unwrap(), b"two");
}

// ---------------------------------------------------------------------------------------------
// Signal messages

#[test]
fn wrong_identity_order_in_the_mac_is_refused() {
    let (alice, mut a, mut bob, _) = pair_with(true, SpqrPolicy::Off);
    let m1 = a.encrypt(b"first").unwrap();
    let mut b = bob.create_inbound_session(prekey(&m1)).unwrap().session;
    let snap = b.snapshot_for_testing_only();
    let keys = message_keys(snap.sender_chain_key.unwrap(), snap.sender_chain_index.unwrap(), 0);
    let rk = snap.sender_ratchet_key.unwrap();
    let (bob_ik, alice_ik) = (ik33(&bob.identity_key()), ik33(&alice.identity_key()));
    // The forger is right when it uses the right order (this checks the forger)…
    let right = forge(0x44, &rk, 0, &keys, b"reply", (&bob_ik, &alice_ik));
    assert_eq!(right, b.encrypt(b"reply").unwrap().to_bytes(), "independent encoder, same bytes");
    let before = a.snapshot_for_testing_only();
    // …and refused with the receiver's identity first.
    let wrong = forge(0x44, &rk, 0, &keys, b"reply", (&alice_ik, &bob_ik));
    let wrong = InterolmMessage::Whisper(SignalMessage::from_bytes(&wrong).unwrap());
    assert_eq!(a.decrypt(&wrong), Err(DecryptionError::InvalidMac));
    assert_eq!(a.snapshot_for_testing_only(), before);
    let right = InterolmMessage::Whisper(SignalMessage::from_bytes(&right).unwrap());
    assert_eq!(a.decrypt(&right).unwrap(), b"reply");
}

#[test]
fn tampered_messages_leave_the_session_unchanged() {
    let (_, mut a, mut bob, _) = pair(true);
    let mut b = bob.create_inbound_session(prekey(&a.encrypt(b"0").unwrap())).unwrap().session;
    a.decrypt(&b.encrypt(b"r").unwrap()).unwrap();
    let m = a.encrypt(b"genuine").unwrap();
    let bytes = m.to_bytes();
    let before = b.snapshot_for_testing_only();
    for i in 0..bytes.len() {
        let mut t = bytes.clone();
        t[i] ^= 0x01;
        if let Ok(msg) = InterolmMessage::from_parts(2, &t) {
            assert!(b.decrypt(&msg).is_err(), "byte {i} flipped and accepted");
        }
        assert_eq!(b.snapshot_for_testing_only(), before, "byte {i}");
    }
    // The version byte of the other session version.
    let mut v3 = bytes.clone();
    v3[0] = 0x34;
    assert_eq!(
        b.decrypt(&InterolmMessage::from_parts(2, &v3).unwrap()),
        Err(DecryptionError::VersionMismatch { expected: 4, got: 3 })
    );
    assert_eq!(b.decrypt(&m).unwrap(), b"genuine");
}

#[test]
fn replays_are_refused() {
    let (_, mut a, mut bob, _) = pair(false);
    let m0 = a.encrypt(b"0").unwrap();
    let mut b = bob.create_inbound_session(prekey(&m0)).unwrap().session;
    assert_eq!(b.decrypt(&m0), Err(DecryptionError::MissingMessageKey { index: 0 }));
    let r = b.encrypt(b"r").unwrap();
    a.decrypt(&r).unwrap();
    let before = a.snapshot_for_testing_only();
    assert_eq!(a.decrypt(&r), Err(DecryptionError::MissingMessageKey { index: 0 }));
    assert_eq!(a.snapshot_for_testing_only(), before);
    // A skipped key is used once.
    let (x, y) = (b.encrypt(b"x").unwrap(), b.encrypt(b"y").unwrap());
    a.decrypt(&y).unwrap();
    a.decrypt(&x).unwrap();
    assert_eq!(a.decrypt(&x), Err(DecryptionError::MissingMessageKey { index: 1 }));
}

#[test]
fn forward_jump_limit_is_25000() {
    let (_, mut a, mut bob, _) = pair(true);
    let b = bob.create_inbound_session(prekey(&a.encrypt(b"0").unwrap())).unwrap().session;
    let snap = b.snapshot_for_testing_only();
    let (ck, idx, rk) =
        (snap.sender_chain_key.unwrap(), snap.sender_chain_index.unwrap(), snap.sender_ratchet_key.unwrap());
    let order = (ik33(&b.local_identity_key()), ik33(&b.remote_identity_key()));
    let before = a.snapshot_for_testing_only();
    // Index 25 001 on a new chain: a jump of 25 001, refused before any work.
    let far = forge(0x44, &rk, 25_001, &message_keys(ck, idx, 0), b"far", (&order.0, &order.1));
    assert_eq!(
        a.decrypt(&InterolmMessage::from_parts(2, &far).unwrap()),
        Err(DecryptionError::TooBigMessageGap { got: 25_001, max: 25_000 })
    );
    assert_eq!(a.snapshot_for_testing_only(), before);
    // Index 25 000 is the largest jump allowed, and decrypts (keeping 2 000 skipped keys).
    let edge = forge(0x44, &rk, 25_000, &message_keys(ck, idx, 25_000), b"edge", (&order.0, &order.1));
    assert_eq!(a.decrypt(&InterolmMessage::from_parts(2, &edge).unwrap()).unwrap(), b"edge");
    let after = a.snapshot_for_testing_only();
    let chain = after.receiver_chains.iter().find(|c| c.ratchet_key == rk).unwrap();
    assert_eq!(chain.skipped.len(), 2_000);
    assert_eq!(chain.skipped.first().unwrap().0, 23_000);
    // Within the chain, the same limit counts from the chain's position.
    let far = forge(0x44, &rk, 50_002, &message_keys(ck, idx, 0), b"far", (&order.0, &order.1));
    assert_eq!(
        a.decrypt(&InterolmMessage::from_parts(2, &far).unwrap()),
        Err(DecryptionError::TooBigMessageGap { got: 25_001, max: 25_000 })
    );
    // Index 0 was skipped but evicted (only the newest 2 000 are kept).
    let zero = forge(0x44, &rk, 0, &message_keys(ck, idx, 0), b"zero", (&order.0, &order.1));
    assert_eq!(
        a.decrypt(&InterolmMessage::from_parts(2, &zero).unwrap()),
        Err(DecryptionError::MissingMessageKey { index: 0 })
    );
    let kept = forge(0x44, &rk, 23_000, &message_keys(ck, idx, 23_000), b"kept", (&order.0, &order.1));
    assert_eq!(a.decrypt(&InterolmMessage::from_parts(2, &kept).unwrap()).unwrap(), b"kept");
}

#[test]
fn at_most_2000_skipped_keys_and_5_receiving_chains() {
    // The double ratchet's limits alone (SPQR keeps its own 2 000 keys, checked first).
    let (_, mut a, mut bob, _) = pair_with(true, SpqrPolicy::Off);
    let mut b = bob.create_inbound_session(prekey(&a.encrypt(b"0").unwrap())).unwrap().session;
    let held: Vec<_> = (0..2_100).map(|i| b.encrypt(format!("{i}")).unwrap()).collect();
    let last = b.encrypt(b"last").unwrap();
    a.decrypt(&last).unwrap();
    let snap = a.snapshot_for_testing_only();
    let chain = snap.receiver_chains.last().unwrap();
    assert_eq!(chain.skipped.len(), 2_000);
    assert_eq!(a.decrypt(&held[99]), Err(DecryptionError::MissingMessageKey { index: 99 }));
    assert_eq!(a.decrypt(&held[100]).unwrap(), b"100");
    // Ratchet turns: never more than 5 receiving chains.
    for i in 0..8 {
        let m = a.encrypt(format!("a{i}")).unwrap();
        b.decrypt(&m).unwrap();
        let m = b.encrypt(format!("b{i}")).unwrap();
        a.decrypt(&m).unwrap();
        assert!(a.snapshot_for_testing_only().receiver_chains.len() <= 5);
        assert!(b.snapshot_for_testing_only().receiver_chains.len() <= 5);
    }
    assert_eq!(a.snapshot_for_testing_only().receiver_chains.len(), 5);
    // The chain of the held messages was dropped with its keys: its ratchet key now looks new,
    // and the keys derived for it do not authenticate the message.
    let before = a.snapshot_for_testing_only();
    assert_eq!(a.decrypt(&held[101]), Err(DecryptionError::InvalidMac));
    assert_eq!(a.snapshot_for_testing_only(), before);
}

#[test]
fn messages_of_another_session_are_refused() {
    let (_, mut a1, mut bob, _) = pair(true);
    let mut b1 = bob.create_inbound_session(prekey(&a1.encrypt(b"x").unwrap())).unwrap().session;
    let (_, mut a2, mut bob2, _) = pair(true);
    let mut b2 = bob2.create_inbound_session(prekey(&a2.encrypt(b"y").unwrap())).unwrap().session;
    let before = a1.snapshot_for_testing_only();
    let foreign = b2.encrypt(b"z").unwrap();
    assert!(a1.decrypt(&foreign).is_err());
    assert_eq!(a1.snapshot_for_testing_only(), before);
    let pre = a2.encrypt(b"p").unwrap();
    assert_eq!(b1.decrypt(&pre), Err(DecryptionError::SessionMismatch));
    assert_eq!(a1.decrypt(&b1.encrypt(b"ok").unwrap()).unwrap(), b"ok");
}

#[test]
fn debug_output_has_no_secrets() {
    let (alice, a, _, _) = pair(true);
    let text = format!("{a:?} {alice:?}");
    let snap = a.snapshot_for_testing_only();
    assert!(!text.contains(&hex::encode(snap.root_key)));
    assert!(text.contains("Session") && text.contains("Account"));
}

#[test]
fn addresses_and_pq_ratchet_fields_are_read_and_authenticated() {
    // libsignal ≥ 0.91 may add field 6 (sender and recipient addresses) and 0.90 adds field 5
    // (SPQR); both are covered by the MAC, and caudata reads past them (with SPQR off, field 5
    // is authenticated and ignored).
    let (_, mut a, mut bob, _) = pair_with(true, SpqrPolicy::Off);
    let b = bob.create_inbound_session(prekey(&a.encrypt(b"0").unwrap())).unwrap().session;
    let snap = b.snapshot_for_testing_only();
    let keys = message_keys(snap.sender_chain_key.unwrap(), snap.sender_chain_index.unwrap(), 0);
    let rk = snap.sender_ratchet_key.unwrap();
    let (sender, receiver) = (ik33(&b.local_identity_key()), ik33(&b.remote_identity_key()));
    let plain = forge(0x44, &rk, 0, &keys, b"with extras", (&sender, &receiver));
    // Re-encode with fields 5 and 6 added, and a MAC over the new bytes.
    let mut fields = parse(&plain[1..plain.len() - 8]);
    fields.push((5, Field::Bytes(vec![1, 1, 1, 0])));
    fields.push((6, Field::Bytes(vec![0xAA; 36])));
    let mut with_extras = [&[0x44u8][..], &serialize(&fields)].concat();
    let mac = hmac(&keys.1, &[&sender, &receiver, &with_extras]);
    let mut tampered = with_extras.clone();
    with_extras.extend_from_slice(&mac[..8]);
    let msg = SignalMessage::from_bytes(&with_extras).unwrap();
    assert!(msg.has_pq_ratchet());
    // The same fields with the MAC of the message without them: refused.
    tampered.extend_from_slice(&plain[plain.len() - 8..]);
    let before = a.snapshot_for_testing_only();
    assert_eq!(a.decrypt(&InterolmMessage::from_parts(2, &tampered).unwrap()), Err(DecryptionError::InvalidMac));
    assert_eq!(a.snapshot_for_testing_only(), before);
    assert_eq!(a.decrypt(&InterolmMessage::Whisper(msg)).unwrap(), b"with extras");
}
