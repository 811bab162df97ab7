//! The application layer's cost over the plain session (issue 18): decrypting a steady
//! `SignalMessage` with a bare `Session`, through a `SessionRecord` (addresses checked, trial
//! order), and through `Device::decrypt` over the in-memory store and over `caudata-sqlite`
//! (an in-memory database: the record unpickled, decrypted, pickled, sealed and written in one
//! transaction). 100-byte plaintexts, SPQR V1 on both sides.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caudata::interolm::{
    Account, Device, DeviceId, IdentityKeyPair, InMemoryStore, InterolmMessage, ProtocolAddress, ProtocolStore,
    Session, SessionRecord, SpqrPolicy,
};
use caudata_sqlite::SqliteStore;
use common::plaintext;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const A: &str = "11111111-2222-4333-8444-555555555555";
const B: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

fn pair() -> (Session, Session) {
    let mut alice = Account::new();
    let mut bob = Account::new();
    alice.set_spqr_policy(SpqrPolicy::Required);
    bob.set_spqr_policy(SpqrPolicy::Required);
    bob.generate_signed_pre_key();
    bob.generate_kyber_pre_key(true);
    let bundle = bob.pre_key_bundle(1).unwrap();
    let mut a = alice.create_outbound_session(&bundle).unwrap();
    let InterolmMessage::PreKey(m) = a.encrypt(b"hello").unwrap() else { panic!() };
    let mut b = bob.create_inbound_session(&m).unwrap().session;
    a.decrypt(&b.encrypt(b"hi").unwrap()).unwrap();
    b.decrypt(&a.encrypt(b"steady").unwrap()).unwrap();
    (a, b)
}

fn devices<S: ProtocolStore>(mut sa: impl FnMut(IdentityKeyPair, u32) -> S) -> (Device<S>, Device<S>) {
    let aa = ProtocolAddress::new(A, DeviceId::PRIMARY);
    let ba = ProtocolAddress::new(B, DeviceId::PRIMARY);
    let mut alice = Device::new(sa(IdentityKeyPair::generate(), 1), aa.clone());
    let mut bob = Device::new(sa(IdentityKeyPair::generate(), 2), ba.clone());
    for d in [&mut alice, &mut bob] {
        d.set_spqr_policy(SpqrPolicy::Required);
        d.generate_signed_pre_key(1, 0).unwrap();
        d.generate_kyber_pre_key(1, 0, true).unwrap();
    }
    let bundle = bob.pre_key_bundle(None, 1, Some(1)).unwrap();
    alice.process_pre_key_bundle(&ba, &bundle).unwrap();
    bob.decrypt(&aa, &alice.encrypt(&ba, b"hello").unwrap()).unwrap();
    alice.decrypt(&ba, &bob.encrypt(&aa, b"hi").unwrap()).unwrap();
    bob.decrypt(&aa, &alice.encrypt(&ba, b"steady").unwrap()).unwrap();
    (alice, bob)
}

fn decrypt(c: &mut Criterion) {
    let pt = plaintext(100);
    let aa = ProtocolAddress::new(A, DeviceId::PRIMARY);
    let ba = ProtocolAddress::new(B, DeviceId::PRIMARY);
    let mut g = c.benchmark_group("interolm_app_decrypt_steady_100");

    let (mut a, mut b) = pair();
    g.bench_function("session", |bn| {
        bn.iter_batched(|| a.encrypt(&pt).unwrap(), |m| b.decrypt(black_box(&m)).unwrap(), BatchSize::SmallInput)
    });

    let (mut a, b) = pair();
    let mut record = SessionRecord::from(b);
    g.bench_function("session_record", |bn| {
        bn.iter_batched(
            || {
                let InterolmMessage::Whisper(m) = a.encrypt(&pt).unwrap() else { panic!() };
                m
            },
            |m| record.decrypt_signal_message(black_box(&m), Some((&aa, &ba))).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let (mut alice, mut bob) = devices(InMemoryStore::new);
    g.bench_function("device_in_memory", |bn| {
        bn.iter_batched(
            || alice.encrypt(&ba, &pt).unwrap(),
            |m| bob.decrypt(&aa, black_box(&m)).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let (mut alice, mut bob) = devices(|identity, reg| {
        let s = SqliteStore::open_in_memory(&[7; 32]).unwrap();
        s.set_local_identity(&identity, reg).unwrap();
        s
    });
    g.bench_function("device_sqlite", |bn| {
        bn.iter_batched(
            || alice.encrypt(&ba, &pt).unwrap(),
            |m| bob.decrypt(&aa, black_box(&m)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, decrypt);
criterion_main!(benches);
