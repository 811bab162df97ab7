//! Pickles: caudata's own format (ChaCha20-Poly1305, binary body, base64) against vodozemac
//! 0.11.1's own (its encrypted JSON), for each object. Also writes the pickle sizes to
//! `<target>/criterion/pickle_sizes.json` for `benches/report.py`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const KEY: [u8; 32] = [7; 32];

/// Account with 50 one-time keys; session with 40 skipped message keys; an outbound and an
/// inbound group session.
struct Cd {
    account: caudata::olm::Account,
    session: caudata::olm::Session,
    group: caudata::megolm::GroupSession,
    inbound: caudata::megolm::InboundGroupSession,
}
struct Vz {
    account: vodozemac::olm::Account,
    session: vodozemac::olm::Session,
    group: vodozemac::megolm::GroupSession,
    inbound: vodozemac::megolm::InboundGroupSession,
}

fn cd_objects() -> Cd {
    let mut account = caudata::olm::Account::new();
    account.generate_one_time_keys(50);
    let (mut a, mut b) = common::cd::pair();
    for _ in 0..40 {
        b.encrypt(b"skipped");
    }
    a.decrypt(&b.encrypt(b"last")).unwrap();
    let group = caudata::megolm::GroupSession::new(caudata::megolm::SessionConfig::version_1());
    let inbound = caudata::megolm::InboundGroupSession::from(&group);
    Cd { account, session: a, group, inbound }
}

fn vz_objects() -> Vz {
    let mut account = vodozemac::olm::Account::new();
    account.generate_one_time_keys(50);
    let (mut a, mut b) = common::vz::pair();
    for _ in 0..40 {
        b.encrypt(b"skipped").unwrap();
    }
    a.decrypt(&b.encrypt(b"last").unwrap()).unwrap();
    let group = vodozemac::megolm::GroupSession::new(vodozemac::megolm::SessionConfig::version_1());
    let inbound = vodozemac::megolm::InboundGroupSession::from(&group);
    Vz { account, session: a, group, inbound }
}

macro_rules! pair_of_benches {
    ($c:expr, $what:literal, $cd:expr, $cd_ty:ty, $cd_obj:ty, $vz:expr, $vz_ty:ty, $vz_obj:ty) => {{
        let cd_text = $cd.pickle().encrypt(&KEY);
        let vz_text = $vz.pickle().encrypt(&KEY);
        let mut g = $c.benchmark_group(concat!("pickle_", $what));
        g.bench_function("caudata", |b| b.iter(|| $cd.pickle().encrypt(black_box(&KEY))));
        g.bench_function("vodozemac", |b| b.iter(|| $vz.pickle().encrypt(black_box(&KEY))));
        g.finish();
        let mut g = $c.benchmark_group(concat!("unpickle_", $what));
        g.bench_function("caudata", |b| {
            b.iter_batched(
                || cd_text.clone(),
                |t| <$cd_obj>::from_pickle(<$cd_ty>::from_encrypted(&t, &KEY).unwrap()),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("vodozemac", |b| {
            b.iter_batched(
                || vz_text.clone(),
                |t| <$vz_obj>::from_pickle(<$vz_ty>::from_encrypted(&t, &KEY).unwrap()),
                BatchSize::SmallInput,
            )
        });
        g.finish();
        (cd_text.len(), vz_text.len())
    }};
}

fn pickles(c: &mut Criterion) {
    let cd = cd_objects();
    let vz = vz_objects();
    let account = pair_of_benches!(
        c,
        "account_50otk",
        cd.account,
        caudata::pickle::AccountPickle,
        caudata::olm::Account,
        vz.account,
        vodozemac::olm::AccountPickle,
        vodozemac::olm::Account
    );
    let session = pair_of_benches!(
        c,
        "session_40skipped",
        cd.session,
        caudata::pickle::SessionPickle,
        caudata::olm::Session,
        vz.session,
        vodozemac::olm::SessionPickle,
        vodozemac::olm::Session
    );
    let group = pair_of_benches!(
        c,
        "group_session",
        cd.group,
        caudata::pickle::GroupSessionPickle,
        caudata::megolm::GroupSession,
        vz.group,
        vodozemac::megolm::GroupSessionPickle,
        vodozemac::megolm::GroupSession
    );
    let inbound = pair_of_benches!(
        c,
        "inbound_group_session",
        cd.inbound,
        caudata::pickle::InboundGroupSessionPickle,
        caudata::megolm::InboundGroupSession,
        vz.inbound,
        vodozemac::megolm::InboundGroupSessionPickle,
        vodozemac::megolm::InboundGroupSession
    );
    let json = format!(
        "{{\"account_50otk\": [{}, {}], \"session_40skipped\": [{}, {}], \"group_session\": [{}, {}], \
         \"inbound_group_session\": [{}, {}]}}\n",
        account.0, account.1, session.0, session.1, group.0, group.1, inbound.0, inbound.1
    );
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let dir = std::path::Path::new(&target).join("criterion");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("pickle_sizes.json"), json);
}

criterion_group! { name = benches; config = common::criterion(); targets = pickles }
criterion_main!(benches);
