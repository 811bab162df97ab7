//! Two-party runs, negotiation and persistence.

use super::*;
use crate::primitives::OsRandom;

/// A deterministic RandomSource (xorshift) so failures reproduce.
struct TestRng(u64);

impl RandomSource for TestRng {
    fn fill(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
    }
}

impl TestRng {
    fn below(&mut self, n: u64) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b) % n
    }
}

fn pair() -> (SpqrState, SpqrState) {
    let k = [42u8; 32];
    (SpqrState::new_initiator(&k), SpqrState::new_responder(&k))
}

fn deliver(to: &mut SpqrState, sent: &SpqrSend) {
    let r = to.recv(sent.message()).unwrap();
    assert_eq!(r.key(), sent.key());
    r.commit(to);
}

/// Runs `n` messages with a random schedule (bursts, reordering within a window, 10 % loss),
/// round-tripping both states through `to_bytes` / `from_bytes` after every step. Returns the
/// epochs reached.
fn random_run(seed: u64, n: usize) -> (u64, u64) {
    let mut rng = TestRng(seed);
    let (mut a, mut b) = pair();
    let mut in_flight: Vec<(bool, SpqrSend)> = Vec::new(); // (to_b, message)
    for _ in 0..n {
        if rng.below(2) == 0 || in_flight.is_empty() {
            let a_sends = rng.below(10) < 6;
            let (from, to_b) = if a_sends { (&mut a, true) } else { (&mut b, false) };
            let sent = from.send(&mut rng).unwrap();
            in_flight.push((to_b, sent));
        } else {
            let i = rng.below(in_flight.len().min(6) as u64) as usize;
            let (to_b, sent) = in_flight.remove(i);
            if rng.below(10) == 0 {
                continue; // lost
            }
            let to = if to_b { &mut b } else { &mut a };
            match to.recv(sent.message()) {
                Ok(r) => {
                    assert_eq!(r.key(), sent.key());
                    r.commit(to);
                }
                // A message whose chain epoch has been dropped is the only acceptable failure.
                Err(SpqrError::EpochUnavailable { .. }) => {}
                Err(e) => panic!("seed {seed}: {e}"),
            }
        }
        a = SpqrState::from_bytes(&a.to_bytes()).unwrap();
        b = SpqrState::from_bytes(&b.to_bytes()).unwrap();
    }
    (a.summary().epoch, b.summary().epoch)
}

#[test]
fn lockstep_epochs_and_roles() {
    let (mut a, mut b) = pair();
    let mut rng = OsRandom;
    for _ in 0..200 {
        let s = a.send(&mut rng).unwrap();
        deliver(&mut b, &s);
        let s = b.send(&mut rng).unwrap();
        deliver(&mut a, &s);
    }
    // 86–87 messages per epoch in lockstep: 400 messages make 4 epochs.
    assert_eq!(a.summary().epoch, 5);
    assert_eq!(b.summary().epoch, 5);
}

#[test]
fn random_schedules_agree_and_progress() {
    for seed in 1..=6u64 {
        let (ea, eb) = random_run(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 1000);
        assert!(ea >= 2 && eb >= 2, "seed {seed}: epochs {ea}/{eb}");
    }
}

#[test]
fn v0_negotiation() {
    let k = [1u8; 32];
    // libsignal ≥ 0.92: a peer without SPQR is refused while negotiating…
    let bob = SpqrState::new_responder(&k);
    assert_eq!(bob.recv(&[]).unwrap_err(), SpqrError::MinimumVersion { got: SpqrVersion::V0, min: SpqrVersion::V1 });
    // … and after negotiation closed it is a mismatch.
    let mut alice = SpqrState::new_initiator(&k);
    let mut bob = SpqrState::new_responder(&k);
    let s = alice.send(&mut OsRandom).unwrap();
    deliver(&mut bob, &s);
    assert_eq!(bob.version_status(), VersionStatus::Complete(SpqrVersion::V1));
    assert_eq!(bob.recv(&[]).unwrap_err(), SpqrError::VersionMismatch { got: SpqrVersion::V0, ours: SpqrVersion::V1 });
    // A first byte 0x00 is V0 too; a newer version is ignored while negotiating, refused after
    // (it would carry no key: a downgrade), except for a message the peer sent before it heard
    // from us.
    assert!(matches!(bob.recv(&[0, 1, 1, 0]), Err(SpqrError::VersionMismatch { .. })));
    let fresh = SpqrState::new_responder(&k);
    let r = fresh.recv(&[2, 1, 1, 0]).unwrap();
    assert!(r.key().is_none());
    assert_eq!(r.into_parts().1.to_bytes(), fresh.to_bytes());
    assert_eq!(bob.recv(&[2, 1, 1, 0]).unwrap_err(), SpqrError::KeylessAfterNegotiation { version: 2 });
    let r = bob.recv_pre_reply(&[2, 1, 1, 0]).unwrap();
    assert!(r.key().is_none());
    assert_eq!(r.into_parts().1.to_bytes(), bob.to_bytes());

    // V1 allowing V0: sends carry index 0 and no key until the chain exists; a V0 peer moves
    // the session down to V0 for good.
    let mut a = SpqrState::new(&k, Direction::A2B, &SpqrConfig::V1_ALLOW_V0).unwrap();
    let mut b = SpqrState::new(&k, Direction::B2A, &SpqrConfig::V1_ALLOW_V0).unwrap();
    let s = a.send(&mut OsRandom).unwrap();
    assert!(s.key().is_none());
    assert_eq!(SpqrMessage::from_bytes(s.message()).unwrap().index, 0);
    deliver(&mut b, &s);
    let s = b.send(&mut OsRandom).unwrap();
    assert!(s.key().is_some());
    deliver(&mut a, &s);
    let s = a.send(&mut OsRandom).unwrap();
    assert!(s.key().is_some());
    let mut c = SpqrState::new(&k, Direction::B2A, &SpqrConfig::V1_ALLOW_V0).unwrap();
    let r = c.recv(&[]).unwrap();
    assert!(r.key().is_none());
    r.commit(&mut c);
    assert_eq!(c.version_status(), VersionStatus::Complete(SpqrVersion::V0));
    assert!(c.send(&mut OsRandom).unwrap().message().is_empty());
    assert!(c.recv(s.message()).unwrap().key().is_none(), "V1 ignored by a V0 session");

    // Disabled sessions.
    let mut d = SpqrState::new(&k, Direction::A2B, &SpqrConfig::DISABLED).unwrap();
    assert_eq!(d.version(), SpqrVersion::V0);
    assert!(d.send(&mut OsRandom).unwrap().message().is_empty());
    assert!(
        SpqrState::new(&k, Direction::A2B, &SpqrConfig { min_version: SpqrVersion::V1, ..SpqrConfig::DISABLED })
            .is_err()
    );
    assert!(SpqrState::new(&k, Direction::A2B, &SpqrConfig { max_ooo_keys: 0, ..SpqrConfig::V1_REQUIRED }).is_err());
}

#[test]
fn sending_never_closes_negotiation_and_first_receive_does() {
    let (mut a, mut b) = pair();
    for _ in 0..5 {
        a.send(&mut OsRandom).unwrap();
    }
    assert!(matches!(a.version_status(), VersionStatus::Negotiating { .. }));
    let s = b.send(&mut OsRandom).unwrap();
    assert_eq!(s.message(), [1, 1, 1, 0]);
    deliver(&mut a, &s);
    assert_eq!(a.version_status(), VersionStatus::Complete(SpqrVersion::V1));
}

#[test]
fn pickle_round_trips_every_state_and_refuses_garbage() {
    let (mut a, mut b) = pair();
    let mut rng = OsRandom;
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..180 {
        let (from, to) = if i % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
        let s = from.send(&mut rng).unwrap();
        deliver(to, &s);
        for st in [&a, &b] {
            let bytes = st.to_bytes();
            let back = SpqrState::from_bytes(&bytes).unwrap();
            assert_eq!(back.to_bytes(), bytes);
            assert_eq!(back.summary(), st.summary());
            seen.insert(st.summary().state.unwrap());
            // Every strict prefix and a trailing byte are refused.
            for cut in [0, 1, 2, bytes.len() / 2, bytes.len() - 1] {
                assert!(SpqrState::from_bytes(&bytes[..cut]).is_err());
            }
            let mut longer = bytes.to_vec();
            longer.push(0);
            assert_eq!(SpqrState::from_bytes(&longer).unwrap_err(), SpqrError::InvalidState("trailing bytes"));
        }
    }
    // Lockstep never visits EkReceivedCt1Sampled; every other state is seen.
    assert!(seen.len() >= 9, "{seen:?}");
    assert_eq!(SpqrState::from_bytes(&SpqrState::disabled().to_bytes()).unwrap().version(), SpqrVersion::V0);
}

#[test]
fn debug_prints_no_secret() {
    let (mut a, _) = pair();
    a.send(&mut OsRandom).unwrap();
    let s = format!("{a:?}");
    assert!(s.contains("KeysSampled"), "{s}");
    let key = a.send(&mut OsRandom).unwrap().into_parts().1.unwrap();
    assert_eq!(format!("{key:?}"), "SpqrMessageKey(..)");
}

/// One side restored from its pickle, the other not: a field written wrong (the
/// authenticator's root or MAC key, say) would break the next epoch's MACs, which a run
/// restoring both sides alike cannot see.
#[test]
fn a_state_restored_on_one_side_only_keeps_agreeing() {
    let (mut a, mut b) = pair();
    let mut rng = OsRandom;
    for round in 0..300 {
        if round % 50 == 25 {
            a = SpqrState::from_bytes(&a.to_bytes()).unwrap();
        }
        if round % 50 == 0 {
            b = SpqrState::from_bytes(&b.to_bytes()).unwrap();
        }
        let s = a.send(&mut rng).unwrap();
        deliver(&mut b, &s);
        let s = b.send(&mut rng).unwrap();
        deliver(&mut a, &s);
    }
    assert!(a.summary().epoch >= 4 && b.summary().epoch >= 4);
}

/// In every phase, a message from two or more epochs ahead is refused as from the future
/// (a ct-sender waiting for the next epoch's first message accepts exactly one epoch ahead).
#[test]
fn messages_from_two_epochs_ahead_are_refused_in_every_phase() {
    let (mut a, mut b) = pair();
    let mut rng = OsRandom;
    let mut phases = std::collections::BTreeSet::new();
    let check = |to: &SpqrState, sent: &SpqrSend| {
        let mut m = SpqrMessage::from_bytes(sent.message()).unwrap();
        let current = to.summary().epoch;
        m.epoch = current + 2;
        assert_eq!(
            to.recv(&m.to_bytes()).map(|_| ()),
            Err(SpqrError::EpochFromFuture { got: current + 2, current }),
            "{:?}",
            to.summary()
        );
    };
    for _ in 0..200 {
        let s = a.send(&mut rng).unwrap();
        check(&b, &s);
        phases.insert(format!("{:?}", b.summary().state));
        deliver(&mut b, &s);
        let s = b.send(&mut rng).unwrap();
        check(&a, &s);
        phases.insert(format!("{:?}", a.summary().state));
        deliver(&mut a, &s);
    }
    assert!(phases.iter().any(|p| p.contains("Ct2Sampled")), "{phases:?}");
}

/// What the writer writes for a state the reader must refuse, each with the reader's reason:
/// the restored state is checked for consistency (flags, epochs, link counts, skipped keys,
/// decoder sizes), not only for length, and the counts are checked against the bytes left
/// before anything is allocated.
#[test]
fn inconsistent_restored_states_are_refused_with_the_reason() {
    let refused = |bytes: &[u8], why: &'static str| {
        assert_eq!(SpqrState::from_bytes(bytes).unwrap_err(), SpqrError::InvalidState(why));
    };
    let accepted = |s: &SpqrState| {
        let bytes = s.to_bytes();
        assert_eq!(SpqrState::from_bytes(&bytes).unwrap().to_bytes(), bytes);
    };
    let (fresh, fresh_responder) = pair();
    assert!(fresh.chain.is_none() && fresh.negotiation.is_some());
    // flags: unknown ones, and any at all in a V0 state
    let mut bytes = fresh.to_bytes().to_vec();
    bytes[2] |= 4;
    refused(&bytes, "unknown flags");
    for flags in [1, 2, 3] {
        let mut v0 = SpqrState::disabled().to_bytes().to_vec();
        v0[2] = flags;
        refused(&v0, "a V0 state holds nothing");
    }
    // the Braid without a chain: only while negotiating, and only in epoch 1; never epoch 0
    let edit = |s: &SpqrState, f: &dyn Fn(&mut SpqrState)| {
        let mut s = s.clone();
        f(&mut s);
        s.to_bytes()
    };
    refused(&edit(&fresh, &|s| s.negotiation = None), "neither a chain nor negotiation state");
    refused(&edit(&fresh, &|s| s.scka.as_mut().unwrap().epoch = 2), "an epoch past 1 without a chain");
    refused(&edit(&fresh, &|s| s.scka.as_mut().unwrap().epoch = 0), "epoch 0");

    let (mut a, mut b) = pair();
    let mut rng = TestRng(7);
    let mut i = 0;
    while a.chain.as_ref().is_none_or(|c| c.current_epoch < 2 || c.links.len() < 2) {
        let (from, to) = if i % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
        deliver(to, &from.send(&mut rng).unwrap());
        i += 1;
    }
    accepted(&a);
    let current = a.chain.as_ref().unwrap().current_epoch;
    let links = a.chain.as_ref().unwrap().links.len() as u64;
    let with = |f: &dyn Fn(&mut SpqrState)| {
        let mut s = a.clone();
        f(&mut s);
        s
    };
    // the chain's epoch is the Braid's or one behind it
    accepted(&with(&|s| s.scka.as_mut().unwrap().epoch = current));
    accepted(&with(&|s| s.scka.as_mut().unwrap().epoch = current + 1));
    for epoch in [current - 1, current + 2] {
        refused(&with(&|s| s.scka.as_mut().unwrap().epoch = epoch).to_bytes(), "chain and state epochs disagree");
    }
    // 1 to MAX_LINKS links, at most one per epoch so far; the send epoch one of theirs
    let at_epoch = |s: &mut SpqrState, current: u64, send: u64| {
        s.scka.as_mut().unwrap().epoch = current;
        let c = s.chain.as_mut().unwrap();
        (c.current_epoch, c.send_epoch) = (current, send);
    };
    refused(&with(&|s| s.chain.as_mut().unwrap().links.clear()).to_bytes(), "chain link count");
    accepted(&with(&|s| at_epoch(s, links - 1, links - 1)));
    refused(&with(&|s| at_epoch(s, links - 2, links - 2)).to_bytes(), "chain link count");
    let with_links = |n: usize| {
        with(&|s| {
            at_epoch(s, 100, 100);
            let links = &mut s.chain.as_mut().unwrap().links;
            while links.len() < n {
                links.push_front(links[0].clone());
            }
        })
    };
    accepted(&with_links(chain::MAX_LINKS));
    refused(&with_links(chain::MAX_LINKS + 1).to_bytes(), "chain link count");
    accepted(&with(&|s| at_epoch(s, 10, 10 + 1 - links)));
    refused(&with(&|s| at_epoch(s, 10, 10 - links)).to_bytes(), "chain send epoch out of range");
    refused(&with(&|s| at_epoch(s, 10, 11)).to_bytes(), "chain send epoch out of range");
    // skipped keys: at most the history's trim size (23 for max_ooo_keys 20), each below the
    // sub-chain's counter
    let skipped = |n: u32, ctr: u32| {
        with(&|s| {
            let c = s.chain.as_mut().unwrap();
            c.params.max_ooo_keys = 20;
            let recv = &mut c.links.back_mut().unwrap().recv;
            recv.ctr = ctr;
            recv.history = chain::KeyHistory::default();
            (0..n).for_each(|i| recv.history.push(i, &[i as u8; 32]));
        })
        .to_bytes()
    };
    accepted(&SpqrState::from_bytes(&skipped(23, 23)).unwrap());
    refused(&skipped(24, 24), "too many skipped keys");
    refused(&skipped(23, 22), "a skipped key at or after its chain's counter");
    let last_byte_cut = skipped(23, 23);
    refused(&last_byte_cut[..last_byte_cut.len() - 1], "too many skipped keys");

    // a decoder: fewer chunks than its payload needs, and no more than the bytes left
    let (mut a, mut b) = pair();
    deliver(&mut b, &a.send(&mut rng).unwrap());
    let mut b = b.clone();
    (b.chain, b.negotiation) = (None, fresh_responder.negotiation.clone());
    let bytes = b.to_bytes();
    // format, version, flags, negotiation (32 + 1 + 1 + 8), tag, epoch, two keys, count
    let count = 3 + 42 + 1 + 8 + 64;
    assert_eq!((bytes[count - 73], bytes[count], bytes.len()), (6, 1, count + 1 + 2 + erasure::CHUNK_LEN));
    accepted(&b);
    refused(&bytes[..bytes.len() - 1], "decoder chunk count");
    let mut full = bytes.to_vec();
    full[count] = (scka::HEADER_MSG_LEN / erasure::CHUNK_LEN) as u8;
    full.extend_from_slice(&[0; 200]);
    refused(&full, "decoder chunk count");
}

#[test]
fn summaries_show_the_decoder_receiving_now() {
    let (mut a, mut b) = pair();
    let needed = scka::HEADER_MSG_LEN / erasure::CHUNK_LEN;
    assert_eq!((b.summary().state, b.summary().receiving), (Some("NoHeaderReceived"), Some((0, needed))));
    deliver(&mut b, &a.send(&mut OsRandom).unwrap());
    assert_eq!(b.summary().receiving, Some((1, needed)));
    assert_eq!((a.summary().state, a.summary().receiving), (Some("KeysSampled"), None));
}

#[test]
fn message_keys_expose_the_chain_key_both_sides_derive() {
    // `as_bytes` is what the double ratchet salts its message keys with (`Session`): a constant
    // there would leave every message under the classical chain alone, on both sides alike.
    let (mut a, b) = pair();
    let mut rng = OsRandom;
    let (s1, s2) = (a.send(&mut rng).unwrap(), a.send(&mut rng).unwrap());
    let (k1, k2) = (s1.key().unwrap().as_bytes(), s2.key().unwrap().as_bytes());
    assert_ne!(k1, &[0u8; 32]);
    assert_ne!(k1, k2);
    let r = b.recv(s1.message()).unwrap();
    assert_eq!(r.key().unwrap().as_bytes(), k1);
}

#[test]
fn each_side_knows_its_direction_while_negotiating_and_after() {
    // (a libsignal record's import takes the initiator's side from it)
    let (mut a, mut b) = pair();
    assert_eq!((a.direction(), b.direction()), (Some(Direction::A2B), Some(Direction::B2A)));
    let mut rng = OsRandom;
    let s = a.send(&mut rng).unwrap();
    deliver(&mut b, &s);
    let s = b.send(&mut rng).unwrap();
    deliver(&mut a, &s);
    assert!(a.negotiation.is_none() && b.negotiation.is_none());
    assert_eq!((a.direction(), b.direction()), (Some(Direction::A2B), Some(Direction::B2A)));
}

#[test]
fn an_epoch_secret_with_no_chain_to_take_it_is_an_error_not_a_keyless_message() {
    // Issue 14, defect 3: a send that completes an epoch must put its secret into the chain.
    // A state without a chain (still negotiating, V0 allowed) cannot complete an epoch in a
    // real conversation; forced here, at every send of a lockstep run, it must refuse rather
    // than send a message without an SPQR key.
    let (mut a, mut b) = pair();
    let mut rng = OsRandom;
    let mut refused = 0;
    for i in 0..400 {
        let (from, to) = if i % 2 == 0 { (&mut a, &mut b) } else { (&mut b, &mut a) };
        {
            let mut chainless = from.clone();
            chainless.chain = None;
            chainless.negotiation = Some(Negotiation {
                auth_key: SecretBytes::from_array(&mut [42; 32]),
                direction: from.direction().unwrap(),
                min_version: SpqrVersion::V0,
                params: ChainParams::default(),
            });
            match chainless.send(&mut rng) {
                Ok(sent) => assert!(sent.key().is_none()),
                Err(e) => {
                    assert!(matches!(e, SpqrError::Internal(_)), "{e}");
                    refused += 1;
                }
            }
            let s = from.send(&mut rng).unwrap();
            deliver(to, &s);
        }
    }
    // 400 lockstep messages complete 4 epochs, each from one send
    assert!(refused >= 2, "{refused}");
}

#[test]
fn summaries_show_the_encoder_sending_now() {
    let (mut a, b) = pair();
    assert_eq!((a.summary().state, a.summary().sending_next_index), (Some("KeysUnsampled"), None));
    assert_eq!(b.summary().sending_next_index, None);
    for sent in 1..=2 {
        a.send(&mut OsRandom).unwrap();
        assert_eq!((a.summary().state, a.summary().sending_next_index), (Some("KeysSampled"), Some(sent)));
    }
}
