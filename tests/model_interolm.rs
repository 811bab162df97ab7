//! Model-based property tests for interolm (the Signal dialect), as `model_olm_megolm.rs` does
//! for Olm and Megolm: random schedules of sends, losses, reorders, duplicates, corruptions and
//! pickle round trips, checked against a reference model of which deliveries must decrypt
//! (`caudata::fuzzing::ModelReceiver`: Signal's 2000 skipped keys per chain, 5 receiving
//! chains, jumps of at most 25 000, eager ratchet step). The driver is the one the
//! `interaction_*` fuzz targets run; it also asserts that every failed decrypt leaves the
//! session identical (ratchet snapshot for interolm, unencrypted pickle for Olm).
//!
//! Pickle round trips mid-conversation: Olm sessions (own format, unencrypted and encrypted)
//! through the driver, Megolm inbound sessions (own format and libolm's) below. interolm has
//! no pickle yet, so its `Pickle` steps are no-ops.
//!
//! The limits are also checked directly, without the model, so that a model and an
//! implementation wrong in the same way cannot agree.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::DecryptionError;
use caudata::fuzzing::{FuzzRng, Step, run_interolm, run_olm};
use caudata::interolm::{Account, InterolmMessage, Session};
use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig};
use caudata::pickle::InboundGroupSessionPickle;
use proptest::prelude::*;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), 1u16..6).prop_map(|(from_a, count)| Step::Send { from_a, count }),
        1 => (any::<bool>(), 30u16..80).prop_map(|(from_a, count)| Step::Send { from_a, count }),
        6 => any::<usize>().prop_map(Step::Deliver),
        1 => any::<usize>().prop_map(Step::Duplicate),
        1 => any::<usize>().prop_map(Step::Drop),
        1 => (any::<usize>(), any::<usize>(), 1u8..=255).prop_map(|(i, p, x)| Step::Corrupt(i, p, x)),
        1 => any::<bool>().prop_map(Step::Pickle),
    ]
}

/// Cases per property (each a schedule of up to 120 steps).
const CASES: u32 = 64;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn interolm_pqxdh_schedules_agree_with_the_model(steps in proptest::collection::vec(step(), 1..120)) {
        let stats = run_interolm(true, &steps);
        prop_assert!(stats.decrypted >= 2, "the final exchange decrypts: {:?}", stats);
    }

    #[test]
    fn interolm_x3dh_schedules_agree_with_the_model(steps in proptest::collection::vec(step(), 1..120)) {
        let stats = run_interolm(false, &steps);
        prop_assert!(stats.decrypted >= 2, "{:?}", stats);
    }

    /// Olm with pickle round trips mid-conversation (the model file for Olm is the lead's; this
    /// adds the pickle steps): every state survives, and the conversation continues.
    #[test]
    fn olm_schedules_with_pickle_round_trips_agree_with_the_model(
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let stats = run_olm(&steps);
        prop_assert!(stats.decrypted >= 2, "{:?}", stats);
    }

    /// Megolm: an inbound session pickled (own format, unencrypted or encrypted, or libolm's)
    /// between decryptions decrypts exactly as the unpickled one does.
    #[test]
    fn megolm_state_survives_pickle_round_trips(
        sends in 1usize..40,
        ops in proptest::collection::vec((any::<usize>(), 0u8..4), 1..60),
    ) {
        let mut out = GroupSession::new_with_rng(MegolmConfig::version_1(), &mut FuzzRng::new(b"model megolm"));
        let key = out.session_key();
        let msgs: Vec<_> = (0..sends).map(|i| out.encrypt(format!("{i}"))).collect();
        let mut reference = InboundGroupSession::new(&key, MegolmConfig::version_1());
        let mut rx = InboundGroupSession::new(&key, MegolmConfig::version_1());
        for (i, how) in ops {
            let before = rx.pickle().to_unencrypted_bytes();
            rx = match how {
                0 => InboundGroupSession::from_pickle(InboundGroupSessionPickle::from_unencrypted_bytes(&before).unwrap()),
                1 => {
                    let k = [3u8; 32];
                    let text = rx.pickle().encrypt(&k);
                    InboundGroupSession::from_pickle(InboundGroupSessionPickle::from_encrypted(&text, &k).unwrap())
                }
                2 => InboundGroupSession::from_libolm_pickle(&rx.to_libolm_pickle(b"k").unwrap(), b"k").unwrap(),
                _ => rx,
            };
            prop_assert_eq!(&*rx.pickle().to_unencrypted_bytes(), &*before, "pickle round trip changed the state");
            let m = &msgs[i % msgs.len()];
            let (a, b) = (reference.decrypt(m), rx.decrypt(m));
            prop_assert_eq!(a.map(|d| d.plaintext), b.map(|d| d.plaintext));
            prop_assert_eq!(&*rx.pickle().to_unencrypted_bytes(), &*reference.pickle().to_unencrypted_bytes());
        }
        let _ = out.encrypt("end");
    }
}

// ------------------------------------------------------------------ the limits, directly

/// A PQXDH pair after Alice's first message reached Bob (Bob's receiving chain is at index 1).
fn pair() -> (Session, Session) {
    let rng = &mut FuzzRng::new(b"model_interolm pair");
    let alice = Account::new_with_rng(rng);
    let mut bob = Account::new_with_rng(rng);
    bob.generate_signed_pre_key_with_rng(rng);
    bob.generate_one_time_pre_keys_with_rng(1, rng);
    bob.generate_kyber_pre_key_with_rng(true, rng);
    let mut a = alice.create_outbound_session_with_rng(&bob.pre_key_bundle(1).unwrap(), rng).unwrap();
    let InterolmMessage::PreKey(pk) = a.encrypt(b"setup").unwrap() else { unreachable!() };
    let b = bob.create_inbound_session_with_rng(&pk, rng).unwrap().session;
    (a, b)
}

/// Signal keeps the newest 2000 skipped keys of a chain: a jump over 2001 messages loses
/// exactly the oldest one, and the refusal changes nothing.
#[test]
fn signal_keeps_2000_skipped_keys_per_chain() {
    let (mut a, mut b) = pair();
    let msgs: Vec<_> = (1..=2002).map(|i| a.encrypt(format!("{i}")).unwrap()).collect(); // indices 1..=2002
    assert_eq!(b.decrypt(&msgs[2001]).unwrap(), b"2002");
    let snap = b.snapshot_for_testing_only();
    assert_eq!(snap.receiver_chains.last().unwrap().skipped.len(), 2000);
    assert!(matches!(b.decrypt(&msgs[0]), Err(DecryptionError::MissingMessageKey { index: 1 })));
    assert_eq!(b.snapshot_for_testing_only(), snap, "refusal changed the session");
    for (i, m) in msgs.iter().enumerate().take(2001).skip(1) {
        assert_eq!(b.decrypt(m).unwrap(), format!("{}", i + 1).as_bytes());
    }
}

/// A jump of 25 000 messages in a chain is allowed, 25 001 is refused before any key is
/// derived, and the refused message changes nothing.
#[test]
fn signal_forward_jump_limit_is_25000() {
    let (mut a, mut b) = pair();
    // Bob's chain expects index 1; index 25 002 is a jump of 25 001.
    let msgs: Vec<_> = (1..=25_002u32).map(|i| a.encrypt(i.to_be_bytes()).unwrap()).collect();
    let snap = b.snapshot_for_testing_only();
    assert_eq!(b.decrypt(&msgs[25_001]), Err(DecryptionError::TooBigMessageGap { got: 25_001, max: 25_000 }));
    assert_eq!(b.snapshot_for_testing_only(), snap);
    assert_eq!(b.decrypt(&msgs[25_000]).unwrap(), 25_001u32.to_be_bytes());
    // now 25 002 is the next message
    assert_eq!(b.decrypt(&msgs[25_001]).unwrap(), 25_002u32.to_be_bytes());
}

/// Five receiving chains are kept: a message on the sixth-newest chain is refused (its chain
/// was evicted), one on the fifth-newest still decrypts.
#[test]
fn signal_keeps_five_receiving_chains() {
    for (rounds, survives) in [(4, true), (5, false)] {
        let (mut a, mut b) = pair();
        // Bob answers: Alice opens Bob's first chain (next to the signed-prekey chain).
        a.decrypt(&b.encrypt(b"first").unwrap()).unwrap();
        let late = b.encrypt(b"late").unwrap(); // on Bob's first chain
        for i in 0..rounds {
            b.decrypt(&a.encrypt(format!("a{i}")).unwrap()).unwrap();
            a.decrypt(&b.encrypt(format!("b{i}")).unwrap()).unwrap(); // a new Bob chain at Alice
        }
        let chains = a.snapshot_for_testing_only().receiver_chains.len();
        assert_eq!(chains, 5, "rounds {rounds}");
        let r = a.decrypt(&late);
        assert_eq!(r.is_ok(), survives, "rounds {rounds}: {r:?}");
    }
}

/// The Signal ratchet steps eagerly: receiving a new chain makes the next sending chain at
/// once (a new sending ratchet key before anything is sent); a message on a known chain does
/// not.
#[test]
fn signal_ratchet_steps_on_receipt() {
    let (mut a, mut b) = pair();
    let before = b.snapshot_for_testing_only().sender_ratchet_key;
    let reply = b.encrypt(b"reply").unwrap();
    a.decrypt(&reply).unwrap();
    let m1 = a.encrypt(b"1").unwrap();
    let m2 = a.encrypt(b"2").unwrap();
    b.decrypt(&m1).unwrap();
    let after = b.snapshot_for_testing_only();
    assert_ne!(after.sender_ratchet_key, before, "a new sending chain right on receipt");
    assert_eq!(after.sender_chain_index, Some(0));
    b.decrypt(&m2).unwrap();
    assert_eq!(b.snapshot_for_testing_only().sender_ratchet_key, after.sender_ratchet_key, "same chain: no step");
}
