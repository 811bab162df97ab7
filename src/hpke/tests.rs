//! The limits and the failure behaviour, which need the crate's internals (the sequence
//! numbers). Known answers and live interop are in tests/qr_login.rs.

use super::*;
use crate::primitives::RandomSource;

struct Fill(u8);
impl RandomSource for Fill {
    fn fill(&mut self, dest: &mut [u8]) {
        dest.fill(self.0);
    }
}

fn pair() -> (EstablishedHpkeChannel, EstablishedHpkeChannel) {
    let g = HpkeRecipientChannel::with_info_and_rng_inner("test", &mut Fill(1));
    let s = HpkeSenderChannel::with_info("test").establish_inner(g.public_key(), b"hello", b"", &mut Fill(2)).unwrap();
    let g = g.establish_channel(&s.message, b"").unwrap();
    assert_eq!(g.message, b"hello");
    let g = g.channel.bidirectional_inner(b"ok", b"", &mut Fill(3)).unwrap();
    let s = s.channel.establish_bidirectional_channel(&g.message, b"").unwrap();
    assert_eq!(s.message, b"ok");
    (s.channel, g.channel)
}

#[test]
fn sequence_numbers_move_only_on_success_and_never_wrap() {
    let (mut s, mut g) = pair();
    // S sealed the initial message (0); G the response (0)
    assert_eq!(s.sequence_numbers_for_testing(), (1, 1));
    assert_eq!(g.sequence_numbers_for_testing(), (1, 1));
    let m = s.seal(b"one", b"ad").unwrap();
    // a wrong AAD, a flipped bit, a truncation: refused, nothing consumed
    assert_eq!(g.open(&m, b"other"), Err(Error::Decryption));
    let mut flipped = m.clone();
    flipped.ciphertext[0] ^= 1;
    assert_eq!(g.open(&flipped, b"ad"), Err(Error::Decryption));
    let short = Message { ciphertext: m.ciphertext[..10].to_vec() };
    assert_eq!(g.open(&short, b"ad"), Err(Error::Decryption));
    assert_eq!(g.sequence_numbers_for_testing(), (1, 1));
    assert_eq!(g.open(&m, b"ad").unwrap(), b"one");
    // a replay fails
    assert_eq!(g.open(&m, b"ad"), Err(Error::Decryption));
    // S's own message is not accepted back by S (directions have separate keys)
    let m2 = s.seal(b"two", b"").unwrap();
    assert_eq!(s.open(&m2, b""), Err(Error::Decryption));
    assert_eq!(g.open(&m2, b"").unwrap(), b"two");

    // the sequence limit: the last number is refused, state unchanged
    let (Role::Sender { outbound, .. } | Role::Recipient { outbound, .. }) = &mut s.role;
    outbound.set_seq_for_testing(u64::MAX);
    assert_eq!(s.seal(b"x", b""), Err(Error::Encryption));
    assert_eq!(s.sequence_numbers_for_testing().0, u64::MAX);
}

#[test]
fn check_codes_agree_and_digits_follow_both_modes() {
    let (s, g) = pair();
    assert_eq!(s.check_code(), g.check_code());
    assert_eq!(s.their_public_key(), g.public_key());
    assert_eq!(g.their_public_key(), s.public_key());
    for (bytes, lz, nlz) in [([0, 0], 0, 10), ([9, 9], 99, 19), ([8, 9], 89, 99), ([255, 255], 55, 45)] {
        let c = CheckCode::from_bytes(bytes);
        assert_eq!(c.to_digit(DigitMode::AllowLeadingZero), lz, "{bytes:?}");
        assert_eq!(c.to_digit(DigitMode::NoLeadingZero), nlz, "{bytes:?}");
    }
    // exhaustively within range
    for b0 in 0..=255u8 {
        for b1 in 0..=255u8 {
            let c = CheckCode::from_bytes([b0, b1]);
            assert!(c.to_digit(DigitMode::AllowLeadingZero) <= 99);
            assert!((10..=99).contains(&c.to_digit(DigitMode::NoLeadingZero)));
        }
    }
    assert_eq!(format!("{:?}", s.check_code()), "CheckCode(..)");
}

#[test]
fn small_order_keys_are_refused() {
    let mut one = [0u8; 32];
    one[0] = 1;
    for bad in [[0u8; 32], one] {
        let bad = Curve25519PublicKey::from_bytes(bad);
        assert_eq!(HpkeSenderChannel::new().establish_channel(bad, b"", b"").unwrap_err(), Error::NonContributoryKey);
        let m = InitialMessage { encapsulated_key: bad, ciphertext: vec![0; 16] };
        assert_eq!(HpkeRecipientChannel::new().establish_channel(&m, b"").unwrap_err(), Error::NonContributoryKey);
    }
}
