//! The worst forged message of each dialect, beside a genuine one (issue 14): how much work a
//! receiver does for a message that fails its MAC or signature. Everything before that check is
//! work an outsider can make the receiver do; it is bounded by the limits in SPEC.md §7 ("Work
//! before authentication"), and this bench keeps the bound from regressing silently.
//!
//! * Olm: a normal message on a new chain (a fresh, valid ratchet key) at the gap limit, index
//!   2 000: one X25519 root step and 2 000 chain steps, then the MAC fails.
//! * Megolm: the signature is checked first, so the worst forgery costs one Ed25519 verification,
//!   whatever its index.
//! * interolm (SPQR V1): a message on a new chain (two X25519, a key generation) at the jump limit
//!   25 000, whose SPQR part asks for the key 25 000 ahead in the current epoch: 25 000
//!   double-ratchet steps and 25 000 SPQR chain steps, then the MAC fails.
//!
//! A failed decryption changes nothing, so the same forged message is decrypted again and again.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caudata::interolm::spqr::SpqrMessage;
use caudata::interolm::{self, InterolmMessage, SignalMessage, SpqrPolicy};
use caudata::megolm::{GroupSession, InboundGroupSession, MegolmMessage, SessionConfig as MegolmConfig};
use caudata::olm::{Message, OlmMessage};
use caudata::primitives::Curve25519SecretKey;
use caudata::wire::signal::SignalMessageWire;
use caudata::{DecryptionError, consts};
use common::plaintext;
use criterion::{BatchSize, Criterion, criterion_group};
use std::hint::black_box;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// An Olm pair, and the worst forgery against the second.
fn olm_fixture() -> (caudata::olm::Session, caudata::olm::Session, OlmMessage) {
    let (a, mut b) = common::cd::pair();
    b.encrypt(b"b has a sending chain, so a new ratchet key is answered with a root step");
    // the forgery: version 3, a fresh valid ratchet key, index 2 000, 16 bytes, a garbage MAC
    let mut bytes = vec![3u8, 0x0a, 0x20];
    bytes.extend_from_slice(Curve25519SecretKey::new().public_key().as_bytes());
    bytes.push(0x10);
    varint(&mut bytes, consts::OLM_MAX_MESSAGE_GAP.into());
    bytes.extend_from_slice(&[0x22, 16]);
    bytes.extend_from_slice(&[0x55; 16 + 8]);
    let forged = OlmMessage::Normal(Message::from_bytes(&bytes).unwrap());
    assert_eq!(b.decrypt(&forged), Err(DecryptionError::InvalidMac));
    (a, b, forged)
}

fn olm(c: &mut Criterion) {
    let (mut a, mut b, forged) = olm_fixture();
    let mut g = c.benchmark_group("forged_olm_worst");
    g.bench_function("caudata", |bench| bench.iter(|| b.decrypt(black_box(&forged)).unwrap_err()));
    g.finish();
    let pt = plaintext(100);
    let mut g = c.benchmark_group("forged_olm_genuine_100B");
    g.bench_function("caudata", |bench| {
        bench.iter_batched(|| a.encrypt(&pt), |m| b.decrypt(&m).unwrap(), BatchSize::SmallInput)
    });
    g.finish();
}

/// An inbound group session, and the worst forgery against it (a far index, a bad signature).
fn megolm_fixture() -> (InboundGroupSession, MegolmMessage) {
    let mut out = GroupSession::new(MegolmConfig::version_1());
    let mut inbound = InboundGroupSession::new(&out.session_key(), MegolmConfig::version_1());
    out.advance_to_for_testing((1 << 31) - 1);
    let mut bytes = out.encrypt(plaintext(100)).to_bytes();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    let forged = MegolmMessage::from_bytes(&bytes).unwrap();
    assert_eq!(inbound.decrypt(&forged), Err(DecryptionError::InvalidSignature));
    (inbound, forged)
}

fn megolm(c: &mut Criterion) {
    let pt = plaintext(100);
    let (mut inbound, forged) = megolm_fixture();
    let mut g = c.benchmark_group("forged_megolm_worst");
    g.bench_function("caudata", |bench| bench.iter(|| inbound.decrypt(black_box(&forged)).unwrap_err()));
    g.finish();
    let mut out = GroupSession::new(MegolmConfig::version_1());
    let mut inbound = InboundGroupSession::new(&out.session_key(), MegolmConfig::version_1());
    let mut g = c.benchmark_group("forged_megolm_genuine_100B");
    g.bench_function("caudata", |bench| {
        bench.iter_batched(|| out.encrypt(&pt), |m| inbound.decrypt(&m).unwrap(), BatchSize::SmallInput)
    });
    g.finish();
}

/// Alice and Bob (SPQR V1 required) after a few exchanges: both have completed negotiation.
fn interolm_pair() -> (interolm::Session, interolm::Session) {
    let mut alice = interolm::Account::new();
    let mut bob = interolm::Account::new();
    alice.set_spqr_policy(SpqrPolicy::Required);
    bob.set_spqr_policy(SpqrPolicy::Required);
    bob.generate_signed_pre_key();
    bob.generate_kyber_pre_key(true);
    let mut a = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
    let InterolmMessage::PreKey(m) = a.encrypt(b"hello").unwrap() else { panic!() };
    let mut b = bob.create_inbound_session(&m).unwrap().session;
    for _ in 0..3 {
        a.decrypt(&b.encrypt(b"b").unwrap()).unwrap();
        b.decrypt(&a.encrypt(b"a").unwrap()).unwrap();
    }
    (a, b)
}

/// The forgery against `to`: a new ratchet key at DR index 25 000, and an SPQR part of the
/// current epoch asking for the key 25 000 past the receive counter of its chain.
fn interolm_forgery(to: &interolm::Session) -> InterolmMessage {
    let s = to.spqr().summary();
    let epoch = s.epoch;
    let recv_ctr = s.chain_counters.last().map_or(0, |c| c.1);
    let field5 = SpqrMessage {
        epoch,
        index: recv_ctr + consts::SIGNAL_MAX_FORWARD_JUMPS,
        payload: interolm::spqr::Payload::None,
    }
    .to_bytes();
    let ratchet_key = Curve25519SecretKey::new().public_key();
    let wire = SignalMessageWire::encode_with_pq_ratchet(
        4,
        &ratchet_key,
        consts::SIGNAL_MAX_FORWARD_JUMPS,
        0,
        vec![0x55; 16],
        field5,
        |_| [0x55; 32],
    );
    InterolmMessage::Whisper(SignalMessage::from_bytes(wire.as_bytes()).unwrap())
}

fn interolm(c: &mut Criterion) {
    let (mut a, mut b) = interolm_pair();
    let forged = interolm_forgery(&b);
    assert_eq!(b.decrypt(&forged), Err(DecryptionError::InvalidMac), "the forgery reaches the MAC");
    let mut g = c.benchmark_group("forged_interolm_worst");
    g.bench_function("caudata", |bench| bench.iter(|| b.decrypt(black_box(&forged)).unwrap_err()));
    g.finish();
    let pt = plaintext(100);
    let mut g = c.benchmark_group("forged_interolm_genuine_100B");
    g.bench_function("caudata", |bench| {
        bench.iter_batched(|| a.encrypt(&pt).unwrap(), |m| b.decrypt(&m).unwrap(), BatchSize::SmallInput)
    });
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = olm, megolm, interolm }

/// The only function callgrind counts in `--count` mode.
#[inline(never)]
fn measured<F: FnOnce()>(f: F) {
    f();
    black_box(());
}

/// `forged --count olm|megolm|interolm N`: decrypts the worst forgery N times inside
/// `measured` (`…_genuine`: N genuine 100-byte messages, in order)
/// `measured` and exits, for load-independent instruction counts:
/// `valgrind --tool=callgrind --toggle-collect='*measured*' target/release/deps/forged-* --count interolm 3`
/// (collected instructions / N).
fn count(what: &str, n: usize) {
    match what {
        "olm" => {
            let (_, mut b, forged) = olm_fixture();
            for _ in 0..n {
                measured(|| drop(b.decrypt(black_box(&forged))));
            }
        }
        "megolm" => {
            let (mut inbound, forged) = megolm_fixture();
            for _ in 0..n {
                measured(|| drop(inbound.decrypt(black_box(&forged))));
            }
        }
        "interolm" => {
            let (_, mut b) = interolm_pair();
            let forged = interolm_forgery(&b);
            for _ in 0..n {
                measured(|| drop(b.decrypt(black_box(&forged))));
            }
        }
        "olm_genuine" => {
            let (mut a, mut b, _) = olm_fixture();
            let messages: Vec<_> = (0..n).map(|_| a.encrypt(plaintext(100))).collect();
            for m in &messages {
                measured(|| drop(b.decrypt(black_box(m)).unwrap()));
            }
        }
        "megolm_genuine" => {
            let mut out = GroupSession::new(MegolmConfig::version_1());
            let mut inbound = InboundGroupSession::new(&out.session_key(), MegolmConfig::version_1());
            let messages: Vec<_> = (0..n).map(|_| out.encrypt(plaintext(100))).collect();
            for m in &messages {
                measured(|| drop(inbound.decrypt(black_box(m)).unwrap()));
            }
        }
        "interolm_genuine" => {
            let (mut a, mut b) = interolm_pair();
            let messages: Vec<_> = (0..n).map(|_| a.encrypt(plaintext(100)).unwrap()).collect();
            for m in &messages {
                measured(|| drop(b.decrypt(black_box(m)).unwrap()));
            }
        }
        _ => panic!("--count olm|megolm|interolm[_genuine] N"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--count") {
        let n = args.get(at + 2).map_or(1, |n| n.parse().unwrap());
        count(&args[at + 1], n);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
