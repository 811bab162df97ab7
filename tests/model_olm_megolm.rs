//! Model-based property tests: random schedules of sends, losses, reorders, duplicates and
//! corruptions between two Olm sessions (and a Megolm sender and receiver), checked against an
//! abstract reference model of the ratchet that says which deliveries must decrypt.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::{BTreeSet, VecDeque};

use caudata::Curve25519PublicKey;
use caudata::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig as MegolmConfig};
use caudata::olm::{OlmMessage, Session, SessionConfig};
use proptest::prelude::*;

mod common;

#[derive(Debug, Clone)]
enum Op {
    /// A or B sends this many messages.
    Send { from_a: bool, count: u8 },
    /// Deliver the in-flight message at this position (modulo the queue length).
    Deliver(usize),
    /// Deliver it, and keep a copy in flight (duplicate).
    Duplicate(usize),
    /// Drop it.
    Drop(usize),
    /// Deliver a copy with one byte changed; the original stays in flight.
    Corrupt(usize, usize, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), 1u8..6).prop_map(|(from_a, count)| Op::Send { from_a, count }),
        5 => any::<usize>().prop_map(Op::Deliver),
        1 => any::<usize>().prop_map(Op::Duplicate),
        1 => any::<usize>().prop_map(Op::Drop),
        1 => (any::<usize>(), any::<usize>(), 1u8..=255).prop_map(|(i, p, x)| Op::Corrupt(i, p, x)),
    ]
}

/// The abstract receiver: chains by ratchet key, each with its next index and skipped indices,
/// with Olm's limits (40 skipped per chain, 5 chains, gap 2000).
#[derive(Default)]
struct ModelReceiver {
    chains: VecDeque<(Curve25519PublicKey, u32, VecDeque<u32>)>,
    delivered: BTreeSet<(Curve25519PublicKey, u32)>,
}

impl ModelReceiver {
    /// Whether a first delivery of (key, index) must decrypt, and the model's state after it.
    fn deliver(&mut self, key: Curve25519PublicKey, index: u32) -> bool {
        if !self.delivered.insert((key, index)) {
            return false; // replay
        }
        if let Some(c) = self.chains.iter_mut().find(|c| c.0 == key) {
            if index < c.1 {
                if let Some(p) = c.2.iter().position(|&i| i == index) {
                    c.2.remove(p);
                    return true;
                }
                return false;
            }
            if index - c.1 > 2000 {
                return false;
            }
            c.2.extend(c.1..index);
            while c.2.len() > 40 {
                c.2.pop_front();
            }
            c.1 = index + 1;
            true
        } else {
            if index > 2000 {
                return false;
            }
            let mut skipped: VecDeque<u32> = (0..index).collect();
            while skipped.len() > 40 {
                skipped.pop_front();
            }
            self.chains.push_back((key, index + 1, skipped));
            while self.chains.len() > 5 {
                self.chains.pop_front();
            }
            true
        }
    }
}

fn inner(m: &OlmMessage) -> (Curve25519PublicKey, u32) {
    match m {
        OlmMessage::Normal(n) => (n.ratchet_key(), n.chain_index()),
        OlmMessage::PreKey(p) => (p.message().ratchet_key(), p.message().chain_index()),
    }
}

fn setup() -> (Session, Session) {
    common::olm_pair(SessionConfig::version_1(), b"setup")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn olm_schedules_agree_with_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        let (mut a, mut b) = setup();
        let mut model_a = ModelReceiver::default();
        let mut model_b = ModelReceiver::default();
        // the setup message was delivered to b at index 0 of a's first chain
        let first = a.encrypt(b"x");
        let (k0, _) = inner(&first);
        model_b.deliver(k0, 0);
        prop_assert_eq!(b.decrypt(&first).unwrap(), b"x");
        model_b.deliver(k0, 1);
        // in flight: (to_b, message, plaintext)
        let mut flight: Vec<(bool, OlmMessage, Vec<u8>)> = Vec::new();
        let mut counter = 0u32;
        for op in ops {
            match op {
                Op::Send { from_a, count } => {
                    for _ in 0..count {
                        counter += 1;
                        let pt = format!("m{counter}").into_bytes();
                        let m = if from_a { a.encrypt(&pt) } else { b.encrypt(&pt) };
                        flight.push((from_a, m, pt));
                    }
                }
                Op::Drop(i) if !flight.is_empty() => {
                    let i = i % flight.len();
                    flight.remove(i);
                }
                Op::Deliver(i) | Op::Duplicate(i) if !flight.is_empty() => {
                    let i = i % flight.len();
                    let (to_b, m, pt) = if matches!(op, Op::Deliver(_)) { flight.remove(i) } else { flight[i].clone() };
                    let (key, idx) = inner(&m);
                    let (session, model) = if to_b { (&mut b, &mut model_b) } else { (&mut a, &mut model_a) };
                    let must = model.deliver(key, idx);
                    let got = session.decrypt(&m);
                    if must {
                        prop_assert_eq!(got.as_deref().ok(), Some(&pt[..]), "must decrypt: {:?}", got);
                    } else {
                        prop_assert!(got.is_err(), "must not decrypt");
                    }
                }
                Op::Corrupt(i, pos, x) if !flight.is_empty() => {
                    let i = i % flight.len();
                    let (to_b, m, _) = &flight[i];
                    let mut bytes = m.to_bytes();
                    let pos = pos % bytes.len();
                    bytes[pos] ^= x;
                    let (t, _) = m.to_parts();
                    if let Ok(bad) = OlmMessage::from_parts(t, &bytes) {
                        let session = if *to_b { &mut b } else { &mut a };
                        prop_assert!(session.decrypt(&bad).is_err(), "a corrupted message decrypted");
                    }
                }
                _ => {}
            }
        }
        // whatever happened, the two sides can still talk
        let m = a.encrypt(b"final a");
        prop_assert_eq!(b.decrypt(&m).unwrap(), b"final a");
        let m = b.encrypt(b"final b");
        prop_assert_eq!(a.decrypt(&m).unwrap(), b"final b");
    }

    #[test]
    fn megolm_schedules_agree_with_the_model(
        sends in 1usize..60,
        order in proptest::collection::vec(any::<usize>(), 0..80),
        corrupt in proptest::collection::vec((any::<usize>(), any::<usize>(), 1u8..=255), 0..10),
        first_known in 0usize..5,
    ) {
        let mut sender = GroupSession::new(MegolmConfig::version_1());
        let key0 = sender.session_key();
        let msgs: Vec<MegolmMessage> = (0..sends).map(|i| sender.encrypt(format!("{i}"))).collect();
        // the receiver starts at `first_known` (an export), so earlier messages must fail
        let full = InboundGroupSession::new(&key0, MegolmConfig::version_1());
        let mut rx = InboundGroupSession::import(&full.export_at(first_known as u32).unwrap(), MegolmConfig::version_1());
        for o in order {
            let i = o % msgs.len();
            let r = rx.decrypt(&msgs[i]);
            if i >= first_known {
                let d = r.unwrap();
                prop_assert_eq!(d.plaintext, format!("{i}").into_bytes());
                prop_assert_eq!(d.message_index as usize, i);
            } else {
                prop_assert!(r.is_err());
            }
        }
        for (i, pos, x) in corrupt {
            let i = i % msgs.len();
            let mut bytes = msgs[i].to_bytes();
            let pos = pos % bytes.len();
            bytes[pos] ^= x;
            if let Ok(m) = MegolmMessage::from_bytes(&bytes) {
                prop_assert!(rx.decrypt(&m).is_err());
            }
        }
        // still decrypts everything from first_known on
        for (i, m) in msgs.iter().enumerate().skip(first_known) {
            prop_assert_eq!(rx.decrypt(m).unwrap().plaintext, format!("{i}").into_bytes());
        }
    }
}
