//! Megolm: caudata and vodozemac 0.11.1 side by side. The messages and keys are the same bytes
//! for both (the formats are wire-compatible), made by a caudata outbound session.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caudata::megolm as cm;
use common::{SIZES, plaintext};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vodozemac::megolm as vm;

fn cd_cfg() -> cm::SessionConfig {
    cm::SessionConfig::version_1()
}
fn vz_cfg() -> vm::SessionConfig {
    vm::SessionConfig::version_1()
}
fn vz_msg(m: &cm::MegolmMessage) -> vm::MegolmMessage {
    vm::MegolmMessage::from_bytes(&m.to_bytes()).unwrap()
}
fn vz_exported(k: &cm::ExportedSessionKey) -> vm::ExportedSessionKey {
    vm::ExportedSessionKey::from_base64(&k.to_base64()).unwrap()
}

fn encrypt(c: &mut Criterion) {
    for (name, n) in SIZES {
        let pt = plaintext(n);
        let mut g = c.benchmark_group(format!("megolm_encrypt_{name}"));
        let mut s = cm::GroupSession::new(cd_cfg());
        g.bench_function("caudata", |b| b.iter(|| s.encrypt(black_box(&pt))));
        let mut s = vm::GroupSession::new(vz_cfg());
        g.bench_function("vodozemac", |b| b.iter(|| s.encrypt(black_box(&pt))));
        g.finish();
    }
}

fn decrypt(c: &mut Criterion) {
    for (name, n) in SIZES {
        // The next message after the last one decrypted: one ratchet step.
        let pt = plaintext(n);
        let mut out = cm::GroupSession::new(cd_cfg());
        let mut cd_in = cm::InboundGroupSession::new(&out.session_key(), cd_cfg());
        let key = vm::SessionKey::from_base64(&out.session_key().to_base64()).unwrap();
        let mut vz_in = vm::InboundGroupSession::new(&key, vz_cfg());
        let first = out.encrypt(&pt);
        cd_in.decrypt(&first).unwrap();
        vz_in.decrypt(&vz_msg(&first)).unwrap();
        let next = out.encrypt(&pt);
        let vz_next = vz_msg(&next);

        let mut g = c.benchmark_group(format!("megolm_decrypt_{name}"));
        g.bench_function("caudata", |b| {
            b.iter_batched(
                || cm::InboundGroupSession::from_pickle(cd_in.pickle()),
                |mut s| s.decrypt(&next).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("vodozemac", |b| {
            b.iter_batched(
                || vm::InboundGroupSession::from_pickle(vz_in.pickle()),
                |mut s| s.decrypt(&vz_next).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

fn at_distance(c: &mut Criterion) {
    // A session imported at index 0 decrypts a message far ahead; both the full decrypt and
    // the ratchet advance alone (export at that index: no signature, no cipher) are measured.
    for (name, index) in [("1000", 1000u32), ("2p24", 1 << 24)] {
        let mut out = cm::GroupSession::new(cd_cfg());
        let cd_in = cm::InboundGroupSession::new(&out.session_key(), cd_cfg());
        let exported = cd_in.export_at_first_known_index();
        let vz_exported = vz_exported(&exported);
        out.advance_to_for_testing(index);
        let m = out.encrypt(plaintext(100));
        let vm_m = vz_msg(&m);

        let mut g = c.benchmark_group(format!("megolm_decrypt_at_{name}"));
        g.bench_function("caudata", |b| {
            b.iter_batched(
                || cm::InboundGroupSession::import(&exported, cd_cfg()),
                |mut s| s.decrypt(&m).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("vodozemac", |b| {
            b.iter_batched(
                || vm::InboundGroupSession::import(&vz_exported, vz_cfg()),
                |mut s| s.decrypt(&vm_m).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.finish();

        let mut g = c.benchmark_group(format!("megolm_advance_{name}"));
        g.bench_function("caudata", |b| {
            b.iter_batched(
                || cm::InboundGroupSession::import(&exported, cd_cfg()),
                |s| s.export_at(index).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("vodozemac", |b| {
            b.iter_batched(
                || vm::InboundGroupSession::import(&vz_exported, vz_cfg()),
                |mut s| s.export_at(index).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

fn keys(c: &mut Criterion) {
    let out = cm::GroupSession::new(cd_cfg());
    let vz_out = vm::GroupSession::new(vz_cfg());

    // The signed session key an outbound session shares (sign + base64), and its import
    // (base64 + strict verify) into a new inbound session.
    let mut g = c.benchmark_group("megolm_session_key_export");
    g.bench_function("caudata", |b| b.iter(|| out.session_key().to_base64()));
    g.bench_function("vodozemac", |b| b.iter(|| vz_out.session_key().to_base64()));
    g.finish();

    let text = out.session_key().to_base64();
    let mut g = c.benchmark_group("megolm_session_key_import");
    g.bench_function("caudata", |b| {
        b.iter(|| cm::InboundGroupSession::new(&cm::SessionKey::from_base64(black_box(&text)).unwrap(), cd_cfg()))
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| vm::InboundGroupSession::new(&vm::SessionKey::from_base64(black_box(&text)).unwrap(), vz_cfg()))
    });
    g.finish();

    // The unsigned exported key (key backup, forwarding).
    let cd_in = cm::InboundGroupSession::new(&out.session_key(), cd_cfg());
    let mut vz_in = vm::InboundGroupSession::new(&vm::SessionKey::from_base64(&text).unwrap(), vz_cfg());
    let mut g = c.benchmark_group("megolm_exported_key_export");
    g.bench_function("caudata", |b| b.iter(|| cd_in.export_at_first_known_index().to_base64()));
    g.bench_function("vodozemac", |b| b.iter(|| vz_in.export_at(0).unwrap().to_base64()));
    g.finish();

    let text = cd_in.export_at_first_known_index().to_base64();
    let mut g = c.benchmark_group("megolm_exported_key_import");
    g.bench_function("caudata", |b| {
        b.iter(|| {
            cm::InboundGroupSession::import(&cm::ExportedSessionKey::from_base64(black_box(&text)).unwrap(), cd_cfg())
        })
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            vm::InboundGroupSession::import(&vm::ExportedSessionKey::from_base64(black_box(&text)).unwrap(), vz_cfg())
        })
    });
    g.finish();
}

/// Opening a room (issue 19 §4): 10 000 messages of 5 sessions, 100-byte plaintexts, each
/// session's messages at consecutive indices from its first known one, the sessions
/// interleaved as a room's history is. caudata decrypts them with one `decrypt_batch` call,
/// vodozemac one by one in history order.
fn history(c: &mut Criterion) {
    const SESSIONS: usize = 5;
    const PER_SESSION: usize = 2000;
    let pt = plaintext(100);
    let mut outs: Vec<_> = (0..SESSIONS).map(|_| cm::GroupSession::new(cd_cfg())).collect();
    let cd_in: Vec<_> = outs.iter().map(|o| cm::InboundGroupSession::new(&o.session_key(), cd_cfg())).collect();
    let vz_in: Vec<_> = outs
        .iter()
        .map(|o| {
            vm::InboundGroupSession::new(&vm::SessionKey::from_base64(&o.session_key().to_base64()).unwrap(), vz_cfg())
        })
        .collect();
    let per_session: Vec<Vec<cm::MegolmMessage>> =
        outs.iter_mut().map(|o| (0..PER_SESSION).map(|_| o.encrypt(&pt)).collect()).collect();
    // Interleaved history for the one-by-one decryption.
    let vz_history: Vec<(usize, vm::MegolmMessage)> = (0..PER_SESSION)
        .flat_map(|i| (0..SESSIONS).map(move |s| (s, i)))
        .map(|(s, i)| (s, vz_msg(&per_session[s][i])))
        .collect();
    let cd_history: Vec<(usize, cm::MegolmMessage)> = (0..PER_SESSION)
        .flat_map(|i| (0..SESSIONS).map(move |s| (s, i)))
        .map(|(s, i)| (s, per_session[s][i].clone()))
        .collect();

    let mut g = c.benchmark_group("megolm_history_10000x5");
    g.sample_size(10);
    g.bench_function("caudata_batch", |b| {
        b.iter_batched(
            || cd_in.iter().map(|s| cm::InboundGroupSession::from_pickle(s.pickle())).collect::<Vec<_>>(),
            |mut sessions| {
                let mut batch: Vec<_> = sessions.iter_mut().zip(&per_session).map(|(s, m)| (s, m.as_slice())).collect();
                let results = cm::decrypt_batch(&mut batch);
                assert!(results.iter().flatten().all(Result::is_ok));
                results
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("caudata_one_by_one", |b| {
        b.iter_batched(
            || cd_in.iter().map(|s| cm::InboundGroupSession::from_pickle(s.pickle())).collect::<Vec<_>>(),
            |mut sessions| cd_history.iter().map(|(s, m)| sessions[*s].decrypt(m).unwrap()).collect::<Vec<_>>(),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched(
            || vz_in.iter().map(|s| vm::InboundGroupSession::from_pickle(s.pickle())).collect::<Vec<_>>(),
            |mut sessions| vz_history.iter().map(|(s, m)| sessions[*s].decrypt(m).unwrap()).collect::<Vec<_>>(),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = encrypt, decrypt, at_distance, keys, history }
criterion_main!(benches);
