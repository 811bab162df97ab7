//! Bad input to SPQR: each case gives its precise `SpqrError`, leaves the state unchanged (same
//! serialized bytes), and the genuine message is still accepted afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caudata::interolm::spqr::{
    Chunk, Payload, SpqrDecodeError, SpqrError, SpqrMessage, SpqrSend, SpqrState, SpqrVersion,
};
use caudata::primitives::OsRandom;

const AUTH_KEY: [u8; 32] = [0x5A; 32];

fn pair() -> (SpqrState, SpqrState) {
    (SpqrState::new_initiator(&AUTH_KEY), SpqrState::new_responder(&AUTH_KEY))
}

/// `recv` must fail with `want` and leave `state` byte-for-byte unchanged.
fn refused(state: &SpqrState, field5: &[u8], want: SpqrError) {
    let before = state.to_bytes();
    assert_eq!(state.recv(field5).unwrap_err(), want);
    assert_eq!(state.to_bytes(), before, "state unchanged");
}

fn deliver(to: &mut SpqrState, sent: &SpqrSend) {
    let r = to.recv(sent.message()).unwrap();
    assert_eq!(r.key(), sent.key());
    r.commit(to);
}

/// The same message with its chunk's bytes altered.
fn tampered(sent: &SpqrSend) -> Vec<u8> {
    let mut m = SpqrMessage::from_bytes(sent.message()).unwrap();
    let flip = |c: &mut Chunk| c.data[7] ^= 0x40;
    match &mut m.payload {
        Payload::Hdr(c) | Payload::Ek(c) | Payload::EkCt1Ack(c) | Payload::Ct1(c) | Payload::Ct2(c) => flip(c),
        Payload::None | Payload::Ct1Ack => panic!("no chunk to tamper with"),
    }
    m.to_bytes()
}

fn decoder_fill(state: &SpqrState) -> Option<(usize, usize)> {
    state.summary().receiving
}

#[test]
fn truncated_and_malformed_field5() {
    let (mut alice, bob) = pair();
    let sent = alice.send(&mut OsRandom).unwrap();
    let bytes = sent.message();
    assert_eq!(bytes.len(), 37);
    // An empty field 5 is V0, which libsignal's configuration refuses.
    refused(&bob, &[], SpqrError::MinimumVersion { got: SpqrVersion::V0, min: SpqrVersion::V1 });
    let what = |n: usize| match n {
        1 => "epoch",
        2 => "index",
        3 => "message type",
        4 => "chunk index",
        _ => "chunk",
    };
    for n in 1..bytes.len() {
        refused(&bob, &bytes[..n], SpqrError::Decode(SpqrDecodeError::Truncated(what(n))));
    }
    // A chunk index no payload can have (> 65 535).
    let mut impossible = vec![1, 1, 1, 1, 0x80, 0x80, 0x04];
    impossible.extend([0u8; 32]);
    refused(&bob, &impossible, SpqrError::Decode(SpqrDecodeError::ChunkIndexTooLarge(65_536)));
    refused(&bob, &[1, 1, 1, 9], SpqrError::Decode(SpqrDecodeError::UnknownType(9)));
    refused(&bob, &[1, 0, 1, 0], SpqrError::Decode(SpqrDecodeError::EpochZero));
    refused(
        &bob,
        &[1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0],
        SpqrError::Decode(SpqrDecodeError::IndexTooLarge(0x7_FFFF_FFFF)),
    );
    // Still fine afterwards.
    let mut bob = bob;
    deliver(&mut bob, &sent);
}

#[test]
fn header_with_a_bad_mac() {
    let (mut alice, mut bob) = pair();
    let chunks: Vec<SpqrSend> = (0..3).map(|_| alice.send(&mut OsRandom).unwrap()).collect();
    deliver(&mut bob, &chunks[0]);
    deliver(&mut bob, &chunks[1]);
    // The third chunk completes the header message; altered, its MAC fails.
    refused(&bob, &tampered(&chunks[2]), SpqrError::InvalidHeaderMac);
    deliver(&mut bob, &chunks[2]);
    assert_eq!(bob.summary().state, Some("HeaderReceived"));

    // A header from a party with another auth key fails the same way.
    let mut mallory = SpqrState::new_initiator(&[1; 32]);
    let mut bob2 = SpqrState::new_responder(&AUTH_KEY);
    for i in 0..3 {
        let m = mallory.send(&mut OsRandom).unwrap();
        if i < 2 {
            // (Their message keys differ from Mallory's too, which the double ratchet's MAC
            // would catch; SPQR alone only sees the header MAC once the header is complete.)
            bob2.recv(m.message()).unwrap().commit(&mut bob2);
        } else {
            refused(&bob2, m.message(), SpqrError::InvalidHeaderMac);
        }
    }
}

/// Runs lockstep A, B, A, B …, offering `hook` every message before it is delivered.
fn lockstep(steps: usize, mut hook: impl FnMut(bool, &SpqrState, &SpqrSend)) -> (SpqrState, SpqrState) {
    let (mut alice, mut bob) = pair();
    for i in 0..steps {
        let a_sends = i % 2 == 0;
        let (from, to) = if a_sends { (&mut alice, &mut bob) } else { (&mut bob, &mut alice) };
        let sent = from.send(&mut OsRandom).unwrap();
        hook(a_sends, to, &sent);
        deliver(to, &sent);
    }
    (alice, bob)
}

#[test]
fn ciphertext_with_a_bad_mac_and_ek_that_does_not_match_its_header() {
    let (mut saw_ct, mut saw_ek) = (false, false);
    let (alice, _) = lockstep(200, |a_sends, to, sent| {
        let Ok(m) = SpqrMessage::from_bytes(sent.message()) else { return };
        match (a_sends, m.payload, decoder_fill(to)) {
            // Bob needs one more ek chunk: an altered one makes the ek vector fail its hash.
            (true, Payload::Ek(_) | Payload::EkCt1Ack(_), Some((35, 36))) => {
                refused(to, &tampered(sent), SpqrError::InvalidEncapsulationKey);
                saw_ek = true;
            }
            // Alice needs one more ct2 chunk: an altered one makes the ciphertext MAC fail.
            (false, Payload::Ct2(_), Some((4, 5))) => {
                refused(to, &tampered(sent), SpqrError::InvalidCiphertextMac);
                saw_ct = true;
            }
            _ => {}
        }
    });
    assert!(saw_ct && saw_ek);
    assert!(alice.summary().epoch >= 3, "epochs still complete after the refused messages");
}

#[test]
fn epochs_from_the_future() {
    let (mut alice, bob) = pair();
    let first = alice.send(&mut OsRandom).unwrap();
    let future = SpqrMessage { epoch: 2, index: 1, payload: Payload::None }.to_bytes();
    refused(&bob, &future, SpqrError::EpochFromFuture { got: 2, current: 1 });
    let far = SpqrMessage { epoch: u64::MAX, index: 1, payload: Payload::None }.to_bytes();
    refused(&bob, &far, SpqrError::EpochFromFuture { got: u64::MAX, current: 1 });
    let mut bob = bob;
    deliver(&mut bob, &first);

    // A ct-sender in Ct2Sampled takes epoch + 1 (the epoch is over) but not epoch + 2.
    let mut ct2_sampled = None;
    lockstep(120, |a_sends, to, _| {
        if a_sends && ct2_sampled.is_none() && to.summary().state == Some("Ct2Sampled") {
            ct2_sampled = Some(to.clone());
        }
    });
    let bob = ct2_sampled.expect("Bob reaches Ct2Sampled");
    let e = bob.summary().epoch;
    let skip = SpqrMessage { epoch: e + 2, index: 1, payload: Payload::None }.to_bytes();
    refused(&bob, &skip, SpqrError::EpochFromFuture { got: e + 2, current: e });
}

#[test]
fn replays_jumps_and_dropped_epochs() {
    let (mut alice, mut bob) = pair();
    let first = alice.send(&mut OsRandom).unwrap();
    deliver(&mut bob, &first);
    refused(&bob, first.message(), SpqrError::KeyAlreadyUsed { index: 1 });
    let jump = SpqrMessage { epoch: 1, index: 25_002, payload: Payload::None }.to_bytes();
    refused(&bob, &jump, SpqrError::KeyJump { index: 25_002, ctr: 1, max_jump: 25_000 });

    // Messages of an epoch whose keys were dropped: keep an early message of Alice's, run
    // three epochs, then deliver it.
    let mut early = None;
    let (_, bob) = lockstep(300, |a_sends, _, sent| {
        if a_sends && early.is_none() {
            let m = SpqrMessage::from_bytes(sent.message()).unwrap();
            if m.index == 2 {
                early = Some(sent.message().to_vec());
            }
        }
    });
    // Bob already used key 2 of chain epoch 0 and has since dropped that epoch.
    refused(&bob, &early.unwrap(), SpqrError::EpochUnavailable { chain_epoch: 0 });
}
