//! The attack regression suite: one named test per attack in PROTOCOLS.md §5 (and known
//! implementation bugs), each stating the attack and the refusal caudata must give.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig as MegolmConfig};
use caudata::olm::{Account, OlmMessage, PreKeyMessage, Session, SessionConfig};
use caudata::{Curve25519PublicKey, DecryptionError, KeyError, SessionCreationError};

fn pair() -> (Account, Account, Session, Session) {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_one_time_keys(2);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut a = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let OlmMessage::PreKey(pk) = a.encrypt(b"hi") else { unreachable!() };
    let b = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk).unwrap().session;
    (alice, bob, a, b)
}

/// Re-encodes a pre-key message with some outer keys replaced.
fn with_outer_keys(
    pk: &PreKeyMessage,
    otk: Option<[u8; 32]>,
    base: Option<[u8; 32]>,
    identity: Option<[u8; 32]>,
) -> PreKeyMessage {
    let inner = pk.message().to_bytes();
    let mut out = vec![3u8];
    for (tag, key) in [
        (0x0a, otk.unwrap_or(pk.one_time_key().to_bytes())),
        (0x12, base.unwrap_or(pk.base_key().to_bytes())),
        (0x1a, identity.unwrap_or(pk.identity_key().to_bytes())),
    ] {
        out.push(tag);
        out.push(32);
        out.extend_from_slice(&key);
    }
    out.push(0x22);
    let mut len = inner.len();
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(&inner);
    PreKeyMessage::from_bytes(&out).unwrap()
}

/// CVE-2024-45193 (libolm accepts): a Megolm signature with S replaced by S + L.
#[test]
fn attack_megolm_malleable_signature_s_plus_l() {
    let mut out = GroupSession::new(MegolmConfig::version_1());
    let mut inb = InboundGroupSession::new(&out.session_key(), MegolmConfig::version_1());
    let mut bytes = out.encrypt(b"x").to_bytes();
    let n = bytes.len();
    let mut carry = 0u16;
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    for i in 0..32 {
        let t = u16::from(bytes[n - 32 + i]) + u16::from(L[i]) + carry;
        bytes[n - 32 + i] = t as u8;
        carry = t >> 8;
    }
    let m = MegolmMessage::from_bytes(&bytes).unwrap();
    assert_eq!(inb.decrypt(&m), Err(DecryptionError::InvalidSignature));
}

/// libolm accepts a pre-key message built from all-zero Curve25519 keys (the shared secret is
/// all zeros, known to anyone). caudata refuses any non-contributory DH.
#[test]
fn attack_all_zero_keys_pre_key_message() {
    let (alice, mut bob, mut a, _) = pair();
    let _ = &alice;
    let otk = *bob.one_time_keys().values().next().unwrap();
    // a fresh session's first message with its base and identity key zeroed
    let mut s = Account::new().create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let OlmMessage::PreKey(pk) = s.encrypt(b"forged") else { unreachable!() };
    let forged = with_outer_keys(&pk, None, Some([0; 32]), Some([0; 32]));
    let r = bob.create_inbound_session(SessionConfig::version_1(), Curve25519PublicKey::from_bytes([0; 32]), &forged);
    assert_eq!(r.unwrap_err(), SessionCreationError::Key(KeyError::NonContributory));
    assert_eq!(bob.stored_one_time_key_count(), 1, "nothing consumed");
    // and an outbound session to an all-zero one-time key is refused up front
    let r = Account::new().create_outbound_session(
        SessionConfig::version_1(),
        bob.curve25519_key(),
        Curve25519PublicKey::from_bytes([0; 32]),
    );
    assert!(matches!(r, Err(SessionCreationError::Key(KeyError::NonContributory))));
    // an all-zero ratchet key in a normal message: the DH of the new chain is refused
    let m = a.encrypt(b"x");
    let OlmMessage::PreKey(pk) = m else { unreachable!() };
    let mut inner = pk.message().to_bytes();
    inner[3..35].copy_from_slice(&[0; 32]);
    let zero = caudata::olm::Message::from_bytes(&inner).unwrap();
    assert_eq!(a.decrypt(&OlmMessage::Normal(zero)), Err(DecryptionError::Key(KeyError::NonContributory)));
}

/// A forged pre-key message (right keys, garbage inside) must not consume the one-time key.
#[test]
fn attack_forged_pre_key_message_does_not_consume_one_time_key() {
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let eve = Account::new();
    let mut s = eve.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let OlmMessage::PreKey(pk) = s.encrypt(b"real") else { unreachable!() };
    let mut bytes = pk.to_bytes();
    let n = bytes.len();
    bytes[n - 1] ^= 1; // MAC of the inner message
    let forged = PreKeyMessage::from_bytes(&bytes).unwrap();
    let r = bob.create_inbound_session(SessionConfig::version_1(), eve.curve25519_key(), &forged);
    assert_eq!(r.unwrap_err(), SessionCreationError::Decryption(DecryptionError::InvalidMac));
    assert_eq!(bob.stored_one_time_key_count(), 1);
    // the genuine message still works afterwards
    assert_eq!(
        bob.create_inbound_session(SessionConfig::version_1(), eve.curve25519_key(), &pk).unwrap().plaintext,
        b"real"
    );
    assert_eq!(bob.stored_one_time_key_count(), 0);
}

/// libolm and vodozemac decrypt a pre-key message whose unauthenticated outer keys were
/// altered, if it reaches the session it belongs to, and spend the message key. caudata refuses
/// unless the outer keys are the session's, and spends nothing.
#[test]
fn attack_pre_key_message_with_altered_outer_keys() {
    let (_, _, mut a, mut b) = pair();
    let OlmMessage::PreKey(pk) = a.encrypt(b"second") else { unreachable!() };
    let other = Curve25519PublicKey::from_bytes([9; 32]).to_bytes();
    for altered in [
        with_outer_keys(&pk, Some(other), None, None),
        with_outer_keys(&pk, None, Some(other), None),
        with_outer_keys(&pk, None, None, Some(other)),
    ] {
        assert!(!b.matches(&altered));
        assert_eq!(b.decrypt(&OlmMessage::PreKey(altered)), Err(DecryptionError::SessionMismatch));
    }
    assert_eq!(b.decrypt(&OlmMessage::PreKey(pk)).unwrap(), b"second", "message key not spent");
}

/// A replayed message is refused: its key is gone after the first decryption.
#[test]
fn attack_replay_is_refused() {
    let (_, _, mut a, mut b) = pair();
    let m = a.encrypt(b"once");
    assert_eq!(b.decrypt(&m).unwrap(), b"once");
    assert!(matches!(b.decrypt(&m), Err(DecryptionError::MissingMessageKey { .. })));
    // also for a skipped key that was used
    let m1 = a.encrypt(b"1");
    let m2 = a.encrypt(b"2");
    b.decrypt(&m2).unwrap();
    b.decrypt(&m1).unwrap();
    assert!(matches!(b.decrypt(&m1), Err(DecryptionError::MissingMessageKey { .. })));
}

/// Unbounded skipping: a chain index of 2^32 cannot even be encoded (oversize varint), and a
/// jump over the gap limit costs nothing and changes nothing.
#[test]
fn attack_unbounded_skipping() {
    let (_, _, mut a, mut b) = pair();
    let OlmMessage::PreKey(pk) = a.encrypt(b"x") else { unreachable!() };
    let inner = pk.message().to_bytes();
    // rewrite the chain index varint (after 0x0a 0x20 <32> 0x10) to 2^32
    let mut forged = inner[..35].to_vec();
    forged.extend_from_slice(&[0x10, 0x80, 0x80, 0x80, 0x80, 0x10]);
    forged.extend_from_slice(&inner[37..]);
    assert!(matches!(caudata::olm::Message::from_bytes(&forged), Err(caudata::DecodeError::OversizeVarint(_))));
    // index u32::MAX on the existing chain: refused before any key is derived
    let mut far = inner[..35].to_vec();
    far.extend_from_slice(&[0x10, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    far.extend_from_slice(&inner[37..]);
    let m = caudata::olm::Message::from_bytes(&far).unwrap();
    assert!(matches!(b.decrypt(&OlmMessage::Normal(m)), Err(DecryptionError::TooBigMessageGap { .. })));
    assert_eq!(b.decrypt(&OlmMessage::PreKey(pk)).unwrap(), b"x");
}

/// A bad message never corrupts the session: after every failed decrypt the session goes on
/// exactly as if the bad message had not arrived.
#[test]
fn attack_bad_messages_leave_the_session_unchanged() {
    let (_, _, mut a, mut b) = pair();
    b.decrypt(&a.encrypt(b"warm up")).unwrap();
    let r = b.encrypt(b"reply");
    a.decrypt(&r).unwrap();
    let good = a.encrypt(b"good"); // new chain for b
    let OlmMessage::Normal(gm) = &good else { unreachable!() };
    let bytes = gm.to_bytes();
    let mut variants = Vec::new();
    for i in 0..bytes.len() {
        let mut x = bytes.clone();
        x[i] ^= 0x40;
        variants.push(x);
    }
    variants.push(bytes[..bytes.len() - 1].to_vec());
    for v in variants {
        if let Ok(m) = caudata::olm::Message::from_bytes(&v) {
            assert!(b.decrypt(&OlmMessage::Normal(m)).is_err());
        }
    }
    assert_eq!(b.decrypt(&good).unwrap(), b"good");
    // and the conversation continues both ways
    a.decrypt(&b.encrypt(b"after")).unwrap();
    b.decrypt(&a.encrypt(b"after 2")).unwrap();
}

/// A message of another MAC length than the session's config (v2 message to a v1 session) is
/// refused rather than verified with a truncated MAC.
#[test]
fn attack_mac_length_downgrade() {
    let alice = Account::new();
    let mut bob = Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut a = alice.create_outbound_session(SessionConfig::version_2(), bob.curve25519_key(), otk).unwrap();
    let OlmMessage::PreKey(pk) = a.encrypt(b"v2") else { unreachable!() };
    let r = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk);
    assert!(matches!(
        r,
        Err(SessionCreationError::Decryption(DecryptionError::InvalidMacLength { expected: 8, got: 32 }))
    ));
    assert_eq!(bob.stored_one_time_key_count(), 1);
}
