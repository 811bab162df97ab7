//! Olm: caudata and vodozemac 0.11.1 side by side, same inputs. Each group `olm_*` has the
//! functions `caudata` and `vodozemac`; `benches/report.py` turns them into one table.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{SIZES, cd, plaintext, vz};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn account(c: &mut Criterion) {
    let mut g = c.benchmark_group("olm_account_new");
    g.bench_function("caudata", |b| b.iter(caudata::olm::Account::new));
    g.bench_function("vodozemac", |b| b.iter(vodozemac::olm::Account::new));
    g.finish();

    let mut g = c.benchmark_group("olm_one_time_keys_50");
    g.bench_function("caudata", |b| {
        b.iter_batched(
            caudata::olm::Account::new,
            |mut a| {
                a.generate_one_time_keys(50);
                a
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched(
            vodozemac::olm::Account::new,
            |mut a| {
                a.generate_one_time_keys(50);
                a
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn session_setup(c: &mut Criterion) {
    // Outbound: from the responder's published identity and one-time key.
    let mut g = c.benchmark_group("olm_session_outbound");
    {
        let alice = caudata::olm::Account::new();
        let mut bob = caudata::olm::Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        let idk = bob.curve25519_key();
        let cfg = caudata::olm::SessionConfig::version_1();
        g.bench_function("caudata", |b| b.iter(|| alice.create_outbound_session(cfg, idk, otk).unwrap()));
    }
    {
        let alice = vodozemac::olm::Account::new();
        let mut bob = vodozemac::olm::Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        let idk = bob.curve25519_key();
        let cfg = vodozemac::olm::SessionConfig::version_1();
        g.bench_function("vodozemac", |b| b.iter(|| alice.create_outbound_session(cfg, idk, otk)));
    }
    g.finish();

    // Inbound: from a pre-key message carrying 100 B (the one-time key is consumed, so each
    // iteration starts from a fresh copy of the account, made outside the timing).
    let mut g = c.benchmark_group("olm_session_inbound");
    {
        use caudata::olm::*;
        let alice = Account::new();
        let mut bob = Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        bob.mark_keys_as_published();
        let mut s = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(m) = s.encrypt(plaintext(100)) else { panic!() };
        let idk = alice.curve25519_key();
        g.bench_function("caudata", |b| {
            b.iter_batched(
                || cd::clone_account(&bob),
                |mut bob| bob.create_inbound_session(SessionConfig::version_1(), idk, &m).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    {
        use vodozemac::olm::*;
        let alice = Account::new();
        let mut bob = Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        bob.mark_keys_as_published();
        let mut s = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(m) = s.encrypt(plaintext(100)).unwrap() else { panic!() };
        let idk = alice.curve25519_key();
        g.bench_function("vodozemac", |b| {
            b.iter_batched(
                || vz::clone_account(&bob),
                |mut bob| bob.create_inbound_session(SessionConfig::version_1(), idk, &m).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn steady(c: &mut Criterion) {
    for (name, n) in SIZES {
        let pt = plaintext(n);
        // Encrypt on an established session: no ratchet step, just the next chain key.
        let mut g = c.benchmark_group(format!("olm_encrypt_steady_{name}"));
        let (mut a, _) = cd::pair();
        g.bench_function("caudata", |b| b.iter(|| a.encrypt(black_box(&pt))));
        let (mut a, _) = vz::pair();
        g.bench_function("vodozemac", |b| b.iter(|| a.encrypt(black_box(&pt)).unwrap()));
        g.finish();

        // Decrypt the next message of the current receiving chain.
        let mut g = c.benchmark_group(format!("olm_decrypt_steady_{name}"));
        let (mut a, b0) = cd::pair();
        let m = a.encrypt(&pt);
        g.bench_function("caudata", |b| {
            b.iter_batched(|| cd::clone_session(&b0), |mut s| s.decrypt(&m).unwrap(), BatchSize::SmallInput)
        });
        let (mut a, b0) = vz::pair();
        let m = a.encrypt(&pt).unwrap();
        g.bench_function("vodozemac", |b| {
            b.iter_batched(|| vz::clone_session(&b0), |mut s| s.decrypt(&m).unwrap(), BatchSize::SmallInput)
        });
        g.finish();
    }
}

fn ratchet_step(c: &mut Criterion) {
    for (name, n) in SIZES {
        let pt = plaintext(n);
        // Encrypt right after receiving on a new chain: a fresh ratchet key and a root step.
        let mut g = c.benchmark_group(format!("olm_encrypt_ratchet_{name}"));
        let (a, mut b0) = cd::pair();
        let mut a0 = cd::clone_session(&a);
        a0.decrypt(&b0.encrypt(b"new chain")).unwrap();
        g.bench_function("caudata", |b| {
            b.iter_batched(|| cd::clone_session(&a0), |mut s| s.encrypt(&pt), BatchSize::SmallInput)
        });
        let (mut a0, mut b0) = vz::pair();
        a0.decrypt(&b0.encrypt(b"new chain").unwrap()).unwrap();
        g.bench_function("vodozemac", |b| {
            b.iter_batched(|| vz::clone_session(&a0), |mut s| s.encrypt(&pt).unwrap(), BatchSize::SmallInput)
        });
        g.finish();

        // Decrypt the first message of the peer's new chain: a root step.
        let mut g = c.benchmark_group(format!("olm_decrypt_ratchet_{name}"));
        let (mut a0, mut b0) = cd::pair();
        b0.decrypt(&a0.encrypt(b"so Bob steps")).unwrap();
        let m = b0.encrypt(&pt);
        g.bench_function("caudata", |b| {
            b.iter_batched(|| cd::clone_session(&a0), |mut s| s.decrypt(&m).unwrap(), BatchSize::SmallInput)
        });
        let (mut a0, mut b0) = vz::pair();
        b0.decrypt(&a0.encrypt(b"so Bob steps").unwrap()).unwrap();
        let m = b0.encrypt(&pt).unwrap();
        g.bench_function("vodozemac", |b| {
            b.iter_batched(|| vz::clone_session(&a0), |mut s| s.decrypt(&m).unwrap(), BatchSize::SmallInput)
        });
        g.finish();
    }
}

fn out_of_order(c: &mut Criterion) {
    // The receiver is 1000 messages behind: the message at index +1000 arrives first, so 1000
    // chain steps are taken and the newest skipped keys stored (40 in both libraries).
    let pt = plaintext(100);
    let mut g = c.benchmark_group("olm_decrypt_skip_1000");
    let (mut a0, mut b0) = cd::pair();
    a0.decrypt(&b0.encrypt(b"on Bob's chain")).unwrap();
    for _ in 0..1000 {
        b0.encrypt(b"lost");
    }
    let m = b0.encrypt(&pt);
    g.bench_function("caudata", |b| {
        b.iter_batched(|| cd::clone_session(&a0), |mut s| s.decrypt(&m).unwrap(), BatchSize::SmallInput)
    });
    let (mut a0, mut b0) = vz::pair();
    a0.decrypt(&b0.encrypt(b"on Bob's chain").unwrap()).unwrap();
    for _ in 0..1000 {
        b0.encrypt(b"lost").unwrap();
    }
    let m = b0.encrypt(&pt).unwrap();
    g.bench_function("vodozemac", |b| {
        b.iter_batched(|| vz::clone_session(&a0), |mut s| s.decrypt(&m).unwrap(), BatchSize::SmallInput)
    });
    g.finish();

    // A late message whose key was stored when a later one arrived.
    let mut g = c.benchmark_group("olm_decrypt_stored_skipped");
    let (mut a0, mut b0) = cd::pair();
    a0.decrypt(&b0.encrypt(b"on Bob's chain")).unwrap();
    let late = b0.encrypt(&pt);
    for _ in 0..30 {
        b0.encrypt(b"lost");
    }
    a0.decrypt(&b0.encrypt(b"later")).unwrap();
    g.bench_function("caudata", |b| {
        b.iter_batched(|| cd::clone_session(&a0), |mut s| s.decrypt(&late).unwrap(), BatchSize::SmallInput)
    });
    let (mut a0, mut b0) = vz::pair();
    a0.decrypt(&b0.encrypt(b"on Bob's chain").unwrap()).unwrap();
    let late = b0.encrypt(&pt).unwrap();
    for _ in 0..30 {
        b0.encrypt(b"lost").unwrap();
    }
    a0.decrypt(&b0.encrypt(b"later").unwrap()).unwrap();
    g.bench_function("vodozemac", |b| {
        b.iter_batched(|| vz::clone_session(&a0), |mut s| s.decrypt(&late).unwrap(), BatchSize::SmallInput)
    });
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = account, session_setup, steady, ratchet_step, out_of_order }
criterion_main!(benches);
