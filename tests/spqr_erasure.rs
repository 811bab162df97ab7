//! Property tests of SPQR's erasure code and message codec, and "never panics" checks of every
//! decoder that takes untrusted bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caudata::interolm::spqr::hazmat::{Decoder, Encoder};
use caudata::interolm::spqr::{Chunk, Payload, SpqrMessage, SpqrState};
use caudata::primitives::OsRandom;
use proptest::prelude::*;

/// The payload lengths SPQR V1 codes: header message, ct2 ‖ MAC, ct1, ek vector.
const LENS: [usize; 4] = [96, 160, 960, 1152];

fn payload_and_indices() -> impl Strategy<Value = (Vec<u8>, Vec<u16>)> {
    (0..LENS.len()).prop_flat_map(|i| {
        let len = LENS[i];
        (
            proptest::collection::vec(any::<u8>(), len),
            proptest::collection::btree_set(any::<u16>(), len / 32)
                .prop_map(|set| set.into_iter().collect::<Vec<u16>>())
                .prop_shuffle(),
        )
    })
}

fn arb_chunk() -> impl Strategy<Value = Chunk> {
    (any::<u16>(), any::<[u8; 32]>()).prop_map(|(index, data)| Chunk { index, data })
}

fn arb_message() -> impl Strategy<Value = SpqrMessage> {
    let payload = prop_oneof![
        Just(Payload::None),
        Just(Payload::Ct1Ack),
        arb_chunk().prop_map(Payload::Hdr),
        arb_chunk().prop_map(Payload::Ek),
        arb_chunk().prop_map(Payload::EkCt1Ack),
        arb_chunk().prop_map(Payload::Ct1),
        arb_chunk().prop_map(Payload::Ct2),
    ];
    (1..=u64::MAX, any::<u32>(), payload).prop_map(|(epoch, index, payload)| SpqrMessage { epoch, index, payload })
}

proptest! {
    // Miri (scripts/miri.sh) interprets every step: a handful of cases there
    #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 4 } else { 48 }, ..ProptestConfig::default() })]

    /// Any n distinct chunk indices (systematic, parity or both, in any order) rebuild the payload.
    #[test]
    fn any_n_chunks_rebuild_the_payload((payload, indices) in payload_and_indices()) {
        let enc = Encoder::new(&payload).unwrap();
        let mut dec = Decoder::new(payload.len()).unwrap();
        for (i, &k) in indices.iter().enumerate() {
            prop_assert!(!dec.is_complete());
            prop_assert_eq!(dec.decode(), None);
            let chunk = enc.chunk_at(k);
            if usize::from(k) < payload.len() / 32 {
                prop_assert_eq!(&chunk.data[..], &payload[32 * usize::from(k)..32 * usize::from(k) + 32]);
            }
            dec.add_chunk(&chunk);
            dec.add_chunk(&chunk); // duplicates change nothing
            prop_assert_eq!(dec.chunks().len(), i + 1);
        }
        prop_assert_eq!(dec.decode().unwrap(), payload);
    }

    /// More chunks than needed, with repeats, still decode to the payload.
    #[test]
    fn surplus_chunks_are_harmless((payload, indices) in payload_and_indices(), extra in proptest::collection::vec(any::<u16>(), 0..20)) {
        let enc = Encoder::new(&payload).unwrap();
        let mut dec = Decoder::new(payload.len()).unwrap();
        for &k in extra.iter().chain(&indices) {
            dec.add_chunk(&enc.chunk_at(k));
        }
        prop_assert_eq!(dec.decode().unwrap(), payload);
    }

    /// The codec round-trips every message exactly.
    #[test]
    fn codec_round_trip(msg in arb_message(), trailing in proptest::collection::vec(any::<u8>(), 0..8)) {
        let bytes = msg.to_bytes();
        prop_assert!(bytes.len() <= 1 + 10 + 5 + 1 + 3 + 32);
        let (back, used) = SpqrMessage::from_bytes_with_len(&[&bytes[..], &trailing[..]].concat()).unwrap();
        prop_assert_eq!(back, msg);
        prop_assert_eq!(used, bytes.len());
        // Every strict prefix fails to decode.
        for cut in 0..bytes.len() {
            prop_assert!(SpqrMessage::from_bytes(&bytes[..cut]).is_err());
        }
    }

    /// Arbitrary bytes never make the message decoder panic, and what decodes re-encodes to a
    /// message that decodes the same.
    #[test]
    fn arbitrary_bytes_never_panic_the_codec(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(m) = SpqrMessage::from_bytes(&bytes) {
            prop_assert_eq!(SpqrMessage::from_bytes(&m.to_bytes()).unwrap(), m);
        }
        let mut v1 = bytes.clone();
        if let Some(b) = v1.first_mut() { *b = 1; }
        let _ = SpqrMessage::from_bytes(&v1);
    }

    /// Arbitrary field-5 bytes never make a session state panic, and never change it.
    #[test]
    fn arbitrary_field5_never_panics_a_state(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        let k = [5u8; 32];
        let mut alice = SpqrState::new_initiator(&k);
        let bob = SpqrState::new_responder(&k);
        let _ = alice.send(&mut OsRandom).unwrap();
        for state in [&alice, &bob] {
            let before = state.to_bytes();
            let mut v1 = bytes.clone();
            if let Some(b) = v1.first_mut() { *b = 1; }
            let _ = state.recv(&bytes);
            let _ = state.recv(&v1);
            prop_assert_eq!(state.to_bytes(), before);
        }
    }

    /// Arbitrary bytes, and valid states with bytes flipped or cut, never make the state decoder
    /// panic.
    #[test]
    fn arbitrary_state_bytes_never_panic(noise in proptest::collection::vec(any::<u8>(), 0..300), flip in any::<(u16, u8)>(), cut in any::<u16>()) {
        let _ = SpqrState::from_bytes(&noise);
        let mut alice = SpqrState::new_initiator(&[9; 32]);
        let mut bob = SpqrState::new_responder(&[9; 32]);
        let s = alice.send(&mut OsRandom).unwrap();
        bob.recv(s.message()).unwrap().commit(&mut bob);
        for state in [&alice, &bob] {
            let mut bytes = state.to_bytes().to_vec();
            let at = usize::from(flip.0) % bytes.len();
            bytes[at] ^= flip.1 | 1;
            let _ = SpqrState::from_bytes(&bytes);
            let _ = SpqrState::from_bytes(&bytes[..usize::from(cut) % bytes.len()]);
        }
    }
}
