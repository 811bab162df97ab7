//! Dehydrated devices (MSC3814) and the QR-login channels, caudata against vodozemac 0.11.1:
//!
//! * `dehydrate_50otk` / `rehydrate_50otk`: `Account::to_dehydrated_device` and
//!   `from_dehydrated_device` of an account with 50 one-time keys and a fallback key (what
//!   matrix-rust-sdk dehydrates weekly and rehydrates at login); each library reads its own
//!   device (the formats are the same bytes);
//! * `rehydrate_legacy_50otk`: the legacy `org.matrix.msc3814.v1.olm` device (a libolm pickle
//!   under the derived key; vodozemac: the SDK's `from_libolm_pickle` after the same HKDF);
//! * `ecies_handshake` / `hpke_handshake`: a whole QR-login set-up, both devices, both libraries.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const KEY: [u8; 32] = [7; 32];
const DEVICE_ID: &str = "DEHYDRATED";

fn legacy_key() -> [u8; 32] {
    let mut out = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(DEVICE_ID.as_bytes()), &KEY)
        .expand(b"dehydrated-device-pickle-key", &mut out)
        .unwrap();
    out
}

fn dehydration(c: &mut Criterion) {
    let mut cd = caudata::olm::Account::new();
    cd.generate_one_time_keys(50);
    cd.generate_fallback_key();
    let mut vz = vodozemac::olm::Account::new();
    vz.generate_one_time_keys(50);
    vz.generate_fallback_key();

    let mut g = c.benchmark_group("dehydrate_50otk");
    g.bench_function("caudata", |b| b.iter(|| cd.to_dehydrated_device(black_box(&KEY)).unwrap()));
    g.bench_function("vodozemac", |b| b.iter(|| vz.to_dehydrated_device(black_box(&KEY)).unwrap()));
    g.finish();

    let cd_device = cd.to_dehydrated_device(&KEY).unwrap();
    let vz_device = vz.to_dehydrated_device(&KEY).unwrap();
    let mut g = c.benchmark_group("rehydrate_50otk");
    g.bench_function("caudata", |b| {
        b.iter(|| caudata::olm::Account::from_dehydrated_device(&cd_device.ciphertext, &cd_device.nonce, &KEY).unwrap())
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            vodozemac::olm::Account::from_dehydrated_device(&vz_device.ciphertext, &vz_device.nonce, &KEY).unwrap()
        })
    });
    g.finish();

    let cd_legacy = cd.to_legacy_dehydrated_device(DEVICE_ID, &KEY).unwrap();
    let vz_legacy = vz.to_libolm_pickle(&legacy_key()).unwrap();
    let mut g = c.benchmark_group("rehydrate_legacy_50otk");
    g.bench_function("caudata", |b| {
        b.iter(|| caudata::olm::Account::from_legacy_dehydrated_device(&cd_legacy, DEVICE_ID, &KEY).unwrap())
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| vodozemac::olm::Account::from_libolm_pickle(&vz_legacy, &legacy_key()).unwrap())
    });
    g.finish();
}

fn qr_login(c: &mut Criterion) {
    let mut g = c.benchmark_group("ecies_handshake");
    g.bench_function("caudata", |b| {
        b.iter_batched(
            || (caudata::ecies::Ecies::new(), caudata::ecies::Ecies::new()),
            |(gd, sd)| {
                let out = sd.establish_outbound_channel(gd.public_key(), b"MATRIX_QR_CODE_LOGIN_INITIATE").unwrap();
                let mut inb = gd.establish_inbound_channel(&out.message).unwrap();
                let ok = inb.ecies.encrypt(b"MATRIX_QR_CODE_LOGIN_OK").unwrap();
                out.ecies.check_code().as_bytes()[0] ^ ok.ciphertext[0]
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched(
            || (vodozemac::ecies::Ecies::new(), vodozemac::ecies::Ecies::new()),
            |(gd, sd)| {
                let out = sd.establish_outbound_channel(gd.public_key(), b"MATRIX_QR_CODE_LOGIN_INITIATE").unwrap();
                let mut inb = gd.establish_inbound_channel(&out.message).unwrap();
                let ok = inb.ecies.encrypt(b"MATRIX_QR_CODE_LOGIN_OK");
                out.ecies.check_code().as_bytes()[0] ^ ok.ciphertext[0]
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("hpke_handshake");
    g.bench_function("caudata", |b| {
        b.iter_batched(
            caudata::hpke::HpkeRecipientChannel::new,
            |gd| {
                use caudata::hpke::HpkeSenderChannel;
                let sent = HpkeSenderChannel::new().establish_channel(gd.public_key(), b"INITIATE", b"").unwrap();
                let r = gd.establish_channel(&sent.message, b"").unwrap();
                let a = r.channel.establish_bidirectional_channel(b"OK", b"").unwrap();
                let done = sent.channel.establish_bidirectional_channel(&a.message, b"").unwrap();
                done.channel.check_code().as_bytes()[0]
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched(
            vodozemac::hpke::HpkeRecipientChannel::new,
            |gd| {
                use vodozemac::hpke::HpkeSenderChannel;
                let sent = HpkeSenderChannel::new().establish_channel(gd.public_key(), b"INITIATE", b"").unwrap();
                let r = gd.establish_channel(&sent.message, b"").unwrap();
                let a = r.channel.establish_bidirectional_channel(b"OK", b"");
                let done = sent.channel.establish_bidirectional_channel(&a.message, b"").unwrap();
                done.channel.check_code().as_bytes()[0]
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = dehydration, qr_login }
criterion_main!(benches);
