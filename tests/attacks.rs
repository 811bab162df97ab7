//! The attack regression suite: one named test per attack in PROTOCOLS.md §5 (and known
//! implementation bugs), each stating the attack and the refusal caudata must give.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig as MegolmConfig};
use caudata::olm::{Account, OlmMessage, PreKeyMessage, Session, SessionConfig};
use caudata::{Curve25519PublicKey, DecryptionError, KeyError, SessionCreationError};

mod common;

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
    let (mut bob, otk) = common::olm_responder();
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
    let common::OlmOutbound { alice, mut bob, first: pk, .. } = common::olm_outbound(SessionConfig::version_2(), b"v2");
    let r = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk);
    assert_eq!(
        r.unwrap_err(),
        SessionCreationError::MismatchedSessionConfig {
            expected: SessionConfig::version_1(),
            got: SessionConfig::version_2()
        }
    );
    assert_eq!(bob.stored_one_time_key_count(), 1);
}

// ---------------------------------------------------------------- interolm, reuse, replay
// (added with the fuzzers; deterministic sessions from `caudata::fuzzing`)

mod more {
    use caudata::fuzzing::{FuzzRng, interolm_fixture};
    use caudata::interolm::{self, InterolmMessage, PreKeySignalMessage};
    use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig};
    use caudata::wire::signal::encode_public_key;
    use caudata::{DecryptionError, KeyError, PreKeyKind, SessionCreationError};

    /// A PQXDH-only Bob with one one-time prekey, and Alice's first pre-key message to him.
    fn bob_and_first_message() -> (interolm::Account, PreKeySignalMessage) {
        let rng = &mut FuzzRng::new(b"attacks interolm");
        let alice = interolm::Account::new_with_rng(rng);
        let mut bob = interolm::Account::new_with_rng(rng);
        bob.generate_signed_pre_key_with_rng(rng);
        bob.generate_one_time_pre_keys_with_rng(1, rng);
        bob.generate_kyber_pre_key_with_rng(false, rng);
        let mut a = alice.create_outbound_session_with_rng(&bob.pre_key_bundle(1).unwrap(), rng).unwrap();
        let InterolmMessage::PreKey(pk) = a.encrypt(b"first").unwrap() else { unreachable!() };
        (bob, pk)
    }

    fn replace(bytes: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
        let at = bytes.windows(old.len()).position(|w| w == old).expect("field present");
        let mut out = bytes.to_vec();
        out[at..at + old.len()].copy_from_slice(new);
        out
    }

    /// Signal's identity-key substitution ("unknown key share"): Mallory puts her own identity
    /// key into the unauthenticated outer fields of Alice's pre-key message, so that Bob would
    /// believe the message came from Mallory. The identity key enters both the X3DH secret and
    /// the MAC (IK_sender ‖ IK_receiver), so Bob must refuse, and consume no prekey.
    #[test]
    fn attack_interolm_identity_key_substitution() {
        let (mut bob, pk) = bob_and_first_message();
        let mallory = interolm::Account::new_with_rng(&mut FuzzRng::new(b"mallory"));
        let forged = replace(
            &pk.to_bytes(),
            &encode_public_key(&pk.identity_key()),
            &encode_public_key(&mallory.identity_key()),
        );
        let forged = PreKeySignalMessage::from_bytes(&forged).unwrap();
        assert_eq!(forged.identity_key(), mallory.identity_key());
        let otks = bob.pre_keys().one_time_pre_keys();
        let kybers = bob.pre_keys().kyber_pre_key_ids();
        assert_eq!(
            bob.create_inbound_session(&forged).unwrap_err(),
            SessionCreationError::Decryption(DecryptionError::InvalidMac)
        );
        assert_eq!(bob.pre_keys().one_time_pre_keys(), otks, "one-time prekey kept");
        assert_eq!(bob.pre_keys().kyber_pre_key_ids(), kybers, "Kyber prekey kept");
        let r = bob.create_inbound_session(&pk).unwrap();
        assert_eq!(r.plaintext, b"first");
        assert_ne!(r.session.remote_identity_key(), mallory.identity_key());
    }

    /// PQXDH to X3DH downgrade: an attacker strips the Kyber prekey from Bob's bundle (or sends
    /// Bob an X3DH pre-key message). A PQXDH-only account (the default) refuses both, rather
    /// than silently losing post-quantum protection.
    #[test]
    fn attack_interolm_downgrade_pqxdh_to_x3dh() {
        let rng = &mut FuzzRng::new(b"downgrade");
        let alice = interolm::Account::new_with_rng(rng);
        let mut bob = interolm::Account::new_with_rng(rng);
        bob.generate_signed_pre_key_with_rng(rng);
        bob.generate_kyber_pre_key_with_rng(true, rng);
        let mut stripped = bob.pre_key_bundle(1).unwrap();
        stripped.kyber_pre_key = None;
        assert_eq!(alice.create_outbound_session(&stripped).unwrap_err(), SessionCreationError::X3dhNotAllowed);
        // an X3DH message from an initiator that allows X3DH, to a PQXDH-only Bob
        let mut old = interolm::Account::new_with_rng(rng);
        old.allow_x3dh(true);
        let mut s = old.create_outbound_session_with_rng(&stripped, rng).unwrap();
        let InterolmMessage::PreKey(pk) = s.encrypt(b"x3dh").unwrap() else { unreachable!() };
        assert_eq!(pk.session_version(), 3);
        assert_eq!(bob.create_inbound_session(&pk).unwrap_err(), SessionCreationError::X3dhNotAllowed);
        // and a version-4 message cannot claim to be version 3: the Kyber fields are refused
        let InterolmMessage::PreKey(pq) =
            alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap().encrypt(b"pq").unwrap()
        else {
            unreachable!()
        };
        let mut bytes = pq.to_bytes();
        bytes[0] = 0x34;
        assert!(PreKeySignalMessage::from_bytes(&bytes).is_err());
    }

    /// A replayed first message: the one-time prekey it used is gone, so replaying Alice's
    /// pre-key message to Bob's account cannot make a second session (Signal's one-time prekey
    /// replay).
    #[test]
    fn attack_interolm_pre_key_message_replay_to_the_account() {
        let (mut bob, pk) = bob_and_first_message();
        bob.create_inbound_session(&pk).unwrap();
        let id = pk.pre_key_id().unwrap();
        assert_eq!(
            bob.create_inbound_session(&pk).unwrap_err(),
            SessionCreationError::UnknownPreKey { kind: PreKeyKind::OneTime, id }
        );
    }

    /// Message-key reuse in the Signal dialect: a replayed message (current chain or a
    /// skipped key) is refused, and the refusal changes nothing.
    #[test]
    fn attack_interolm_message_key_reuse() {
        let mut f = interolm_fixture(true, true);
        // pending[1] uses a skipped key (pending[0] is older, a later one was read); pending[2]
        // is the next message of the chain
        for m in [f.pending[1].clone(), f.pending[2].clone(), f.pending[0].clone()] {
            assert!(f.bob.decrypt(&m).is_ok());
            let snap = f.bob.snapshot_for_testing_only();
            let r = f.bob.decrypt(&m);
            // MissingMessageKey (or the SPQR layer's KeyAlreadyUsed, which checks first)
            assert!(r.is_err(), "a replay decrypted");
            assert_eq!(f.bob.snapshot_for_testing_only(), snap, "a refused replay changed the session");
        }
    }

    /// Reflection / ratchet-key reuse: a party's own message sent back to it carries its own
    /// ratchet key; it must not decrypt (no chain of ours is ever a receiving chain), in either
    /// dialect.
    #[test]
    fn attack_reflected_own_message_is_refused() {
        let mut f = interolm_fixture(true, true);
        let own = f.bob.encrypt(b"to alice").unwrap();
        let snap = f.bob.snapshot_for_testing_only();
        assert!(f.bob.decrypt(&own).is_err());
        assert_eq!(f.bob.snapshot_for_testing_only(), snap);
        assert_eq!(f.alice.decrypt(&own).unwrap(), b"to alice");

        let mut o = caudata::fuzzing::olm_fixture();
        let own = o.bob.encrypt(b"to alice");
        let before = o.bob.pickle().to_unencrypted_bytes();
        assert!(o.bob.decrypt(&own).is_err());
        assert_eq!(o.bob.pickle().to_unencrypted_bytes(), before);
        assert_eq!(o.alice.decrypt(&own).unwrap(), b"to alice");
    }

    /// An all-zero (or other small-order) base key in a pre-key message makes the DH outputs
    /// known to anyone; refused before any prekey is used.
    #[test]
    fn attack_interolm_all_zero_base_key() {
        let (mut bob, pk) = bob_and_first_message();
        let forged = replace(
            &pk.to_bytes(),
            &encode_public_key(&pk.base_key()),
            &encode_public_key(&caudata::Curve25519PublicKey::from_bytes([0; 32])),
        );
        let forged = PreKeySignalMessage::from_bytes(&forged).unwrap();
        let otks = bob.pre_keys().one_time_pre_keys();
        assert!(matches!(
            bob.create_inbound_session(&forged),
            Err(SessionCreationError::Key(KeyError::NonContributory | KeyError::NonCanonical))
        ));
        assert_eq!(bob.pre_keys().one_time_pre_keys(), otks);
    }

    /// Truncated-MAC length confusion in the Signal dialect: the MAC is always the last 8
    /// bytes; a message with a shorter tag, or with the full 32-byte HMAC appended, is refused
    /// (never verified against a prefix).
    #[test]
    fn attack_interolm_mac_length_confusion() {
        let mut f = interolm_fixture(true, true);
        let InterolmMessage::Whisper(m) = &f.pending[0] else { unreachable!() };
        let bytes = m.to_bytes();
        let snap = f.bob.snapshot_for_testing_only();
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0; 24]);
        for v in [bytes[..bytes.len() - 1].to_vec(), bytes[..bytes.len() - 4].to_vec(), longer] {
            if let Ok(bad) = InterolmMessage::from_parts(2, &v) {
                assert!(f.bob.decrypt(&bad).is_err());
            }
        }
        assert_eq!(f.bob.snapshot_for_testing_only(), snap);
        assert!(f.bob.decrypt(&f.pending[0]).is_ok());
    }

    /// IV / nonce reuse: AES-CBC IVs are derived from the message key, so one message key must
    /// never encrypt twice. Two encryptions of the same plaintext differ in every dialect.
    #[test]
    fn attack_same_plaintext_twice_gives_different_ciphertexts() {
        let mut f = interolm_fixture(true, true);
        assert_ne!(f.alice.encrypt(b"same").unwrap().to_bytes(), f.alice.encrypt(b"same").unwrap().to_bytes());
        let mut o = caudata::fuzzing::olm_fixture();
        assert_ne!(o.alice.encrypt(b"same").to_bytes(), o.alice.encrypt(b"same").to_bytes());
        let mut g = GroupSession::new(MegolmConfig::version_1());
        let (m1, m2) = (g.encrypt(b"same"), g.encrypt(b"same"));
        assert_ne!(m1.to_bytes(), m2.to_bytes());
        assert_ne!(m1.message_index(), m2.message_index());
        // and a pickled-and-restored sender does not repeat its last message key
        let mut restored = GroupSession::from_pickle(g.pickle());
        assert_eq!(restored.encrypt(b"same").message_index(), 2);
    }

    /// Megolm replay: the protocol lets an inbound group session decrypt a message any number
    /// of times (several devices, re-downloads); detecting replays is left to the caller.
    /// caudata reports the authenticated message index and session id so that the caller can
    /// refuse a (session, index) pair seen with a different event (what Matrix SDKs do).
    #[test]
    fn attack_megolm_replay_is_visible_to_the_caller() {
        let mut g = GroupSession::new(MegolmConfig::version_1());
        let mut rx = InboundGroupSession::new(&g.session_key(), MegolmConfig::version_1());
        let m = g.encrypt(b"pay 10");
        let first = rx.decrypt(&m).unwrap();
        let again = rx.decrypt(&m).unwrap();
        assert_eq!((first.message_index, again.message_index), (0, 0));
        assert_eq!(rx.session_id(), g.session_id());
        // the index is authenticated: changing it breaks the signature
        let mut bytes = m.to_bytes();
        let pos = bytes.iter().position(|&b| b == 0x08).unwrap() + 1;
        bytes[pos] ^= 1;
        if let Ok(bad) = caudata::megolm::MegolmMessage::from_bytes(&bytes) {
            assert!(rx.decrypt(&bad).is_err());
        }
    }
}

/// Found by the `decode_bundle` fuzz target: a `PreKeyBundle` with a non-minimal varint
/// (signed prekey id 0x5e written as `de 00`) decoded to the same bundle as the minimal form,
/// so one bundle had many encodings (malleable bytes for anything that hashes or compares
/// serialized bundles). Refused now: the encoding is canonical.
#[test]
fn fuzz_regression_bundle_non_minimal_varint_is_refused() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/decode_bundle");
    let bytes = std::fs::read(dir.join("seed-regress-noncanonical")).unwrap();
    assert_eq!(&bytes[41..44], &[0x30, 0xde, 0x00]);
    assert!(caudata::interolm::PreKeyBundle::from_bytes(&bytes).is_err());
    let minimal = [&bytes[..42], &[0x5e], &bytes[44..]].concat();
    let b = caudata::interolm::PreKeyBundle::from_bytes(&minimal).unwrap();
    assert_eq!(b.signed_pre_key_id, 0x5e);
    assert_eq!(b.to_bytes(), minimal);
}

/// A small-order Ed25519 key (here the identity point) with `R` = identity and `S` = 0 is a
/// "signature" of every message under plain (cofactorless, non-strict) verification: the
/// equation [S]B = R + [k]A holds for every k. A Megolm session key built that way lets anyone
/// forge messages of the session. caudata's strict verification refuses it.
#[test]
fn attack_megolm_session_key_with_small_order_signing_key() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut bytes = vec![2u8, 0, 0, 0, 0];
    bytes.extend_from_slice(&[7u8; 128]);
    bytes.extend_from_slice(&identity);
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&identity);
    bytes.extend_from_slice(&signature);
    // the forgery is a valid signature to a lax verifier ...
    let lax = ed25519_dalek::VerifyingKey::from_bytes(&identity).unwrap();
    ed25519_dalek::Verifier::verify(&lax, &bytes[..165], &ed25519_dalek::Signature::from_bytes(&signature)).unwrap();
    // ... and refused here, both as a session key and as a bare verification
    assert!(matches!(
        caudata::megolm::SessionKey::from_bytes(&bytes),
        Err(caudata::megolm::SessionKeyDecodeError::Signature)
    ));
    let key = caudata::primitives::Ed25519PublicKey::from_bytes(&identity).unwrap();
    let sig = caudata::primitives::Ed25519Signature::from_bytes(signature);
    assert!(key.verify(b"any message at all", &sig).is_err());
}
