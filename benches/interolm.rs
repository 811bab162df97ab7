//! interolm (the Signal dialect): X3DH and PQXDH session set-up, steady encrypt and decrypt,
//! with SPQR V1 (the default once both sides offer it) and without it (`SpqrPolicy::Off`), so
//! the per-message cost of SPQR shows.
//! caudata only: vodozemac has no equivalent. The responder publishes no one-time prekey and
//! a last-resort Kyber prekey, so one pre-key message can be processed again and again.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caudata::interolm::{Account, InterolmMessage, PreKeyBundle, Session, SpqrPolicy};
use common::{SIZES, plaintext};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn parties(pq: bool) -> (Account, Account, PreKeyBundle) {
    let mut alice = Account::new();
    let mut bob = Account::new();
    alice.allow_x3dh(!pq);
    bob.allow_x3dh(!pq);
    bob.generate_signed_pre_key();
    if pq {
        bob.generate_kyber_pre_key(true);
    }
    let bundle = bob.pre_key_bundle(1).unwrap();
    (alice, bob, bundle)
}

fn pair(policy: SpqrPolicy) -> (Session, Session) {
    let (mut alice, mut bob, _) = parties(true);
    alice.set_spqr_policy(policy);
    bob.set_spqr_policy(policy);
    let bundle = bob.pre_key_bundle(1).unwrap();
    let mut a = alice.create_outbound_session(&bundle).unwrap();
    let InterolmMessage::PreKey(m) = a.encrypt(b"hello").unwrap() else { panic!() };
    let mut b = bob.create_inbound_session(&m).unwrap().session;
    a.decrypt(&b.encrypt(b"hi").unwrap()).unwrap();
    b.decrypt(&a.encrypt(b"steady").unwrap()).unwrap();
    (a, b)
}

fn setup(c: &mut Criterion) {
    for (name, pq) in [("x3dh", false), ("pqxdh", true)] {
        let (alice, mut bob, bundle) = parties(pq);
        let mut g = c.benchmark_group(format!("interolm_{name}_outbound"));
        g.bench_function("caudata", |b| b.iter(|| alice.create_outbound_session(black_box(&bundle)).unwrap()));
        g.finish();

        // Each iteration gets a new pre-key message (made outside the timing): the last-resort
        // Kyber prekey refuses a message it has already accepted (a replay).
        let fresh = || {
            let InterolmMessage::PreKey(m) =
                alice.create_outbound_session(&bundle).unwrap().encrypt(plaintext(100)).unwrap()
            else {
                panic!()
            };
            m
        };
        let mut g = c.benchmark_group(format!("interolm_{name}_inbound"));
        g.bench_function("caudata", |b| {
            b.iter_batched(fresh, |m| bob.create_inbound_session(black_box(&m)).unwrap(), BatchSize::SmallInput)
        });
        g.finish();
    }
}

fn steady(c: &mut Criterion) {
    for (spqr, policy) in [("", SpqrPolicy::Required), ("_no_spqr", SpqrPolicy::Off)] {
        for (name, n) in SIZES {
            let pt = plaintext(n);
            let (mut a, _) = pair(policy);
            let mut g = c.benchmark_group(format!("interolm_encrypt_steady_{name}{spqr}"));
            g.bench_function("caudata", |b| b.iter(|| a.encrypt(black_box(&pt))));
            g.finish();

            // Messages are made in order outside the timing and decrypted in order (a fresh
            // pair: the receiver must not be thousands of messages behind).
            let (mut a, mut b0) = pair(policy);
            let mut g = c.benchmark_group(format!("interolm_decrypt_steady_{name}{spqr}"));
            g.bench_function("caudata", |b| {
                b.iter_batched(|| a.encrypt(&pt).unwrap(), |m| b0.decrypt(&m).unwrap(), BatchSize::SmallInput)
            });
            g.finish();
        }
    }
}

criterion_group! { name = benches; config = common::criterion(); targets = setup, steady }
criterion_main!(benches);
