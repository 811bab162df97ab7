//! SAS verification and key backup (PK encryption): caudata and vodozemac 0.11.1 side by side,
//! on the same keys and messages (the formats are byte-compatible).
//!
//! Key backup is the bulk path: a restore decrypts every backed-up room key (tens of
//! thousands), and matrix-rust-sdk rebuilds the `PkDecryption` from the key's bytes for every
//! one (`pk_decrypt_from_key`). SAS runs once per verification; its cost is two X25519s and a
//! handful of HKDF/HMACs.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caudata::pk_encryption as cp;
use caudata::sas as cs;
use common::{cd_curve, vz_curve};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vodozemac::pk_encryption as vp;
use vodozemac::sas as vs;

const SAS_INFO: &str = "MATRIX_KEY_VERIFICATION_SAS|@alice:example.org|ALICEDEVICE|x1FyvRtWfYynhdlBzIyU+/GvJbs1T9Yoav1U2gydd0Q|@bob:example.org|BOBDEVICE|TMsDidpgthfSHtUFGVAFPWz2KobHYjcPC3aCXtOalig|$txn-0001";
const MAC_INFO: &str =
    "MATRIX_KEY_VERIFICATION_MAC@alice:example.orgALICEDEVICE@bob:example.orgBOBDEVICE$txn-0001ed25519:ALICEDEVICE";
const MAC_INPUT: &str = "PgTCPEAtzxYPBCJt5Kcp2ih5V3iNTrpOf9GtaaJ3zVs";

/// A backed-up room key as the SDK encrypts it (about 230 bytes of JSON).
fn backup_plaintext() -> Vec<u8> {
    br#"{"algorithm":"m.megolm.v1.aes-sha2","forwarding_curve25519_key_chain":[],"sender_claimed_keys":{"ed25519":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"sender_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","session_key":"AQAAAA"}"#.to_vec()
}

fn sas(c: &mut Criterion) {
    let mut g = c.benchmark_group("sas_new");
    g.bench_function("caudata", |b| b.iter(|| black_box(cs::Sas::new().public_key())));
    g.bench_function("vodozemac", |b| b.iter(|| black_box(vs::Sas::new().public_key())));
    g.finish();

    let peer = vs::Sas::new().public_key();
    let mut g = c.benchmark_group("sas_diffie_hellman");
    g.bench_function("caudata", |b| {
        b.iter_batched(cs::Sas::new, |s| s.diffie_hellman(cd_curve(peer)).unwrap(), BatchSize::SmallInput)
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched(vs::Sas::new, |s| s.diffie_hellman(peer).unwrap(), BatchSize::SmallInput)
    });
    g.finish();

    // one established pair per library; the MAC to verify is the other side's
    let (a, b) = (cs::Sas::new(), cs::Sas::new());
    let (ak, bk) = (a.public_key(), b.public_key());
    let (cd, cd_peer) = (a.diffie_hellman(bk).unwrap(), b.diffie_hellman(ak).unwrap());
    let (a, b) = (vs::Sas::new(), vs::Sas::new());
    let (ak, bk) = (a.public_key(), b.public_key());
    let (vz, vz_peer) = (a.diffie_hellman(bk).unwrap(), b.diffie_hellman(ak).unwrap());
    let cd_mac = cd_peer.calculate_mac(MAC_INPUT, MAC_INFO);
    let vz_mac = vz_peer.calculate_mac(MAC_INPUT, MAC_INFO);

    let mut g = c.benchmark_group("sas_bytes");
    g.bench_function("caudata", |b| b.iter(|| black_box(cd.bytes(black_box(SAS_INFO)).emoji_indices())));
    g.bench_function("vodozemac", |b| b.iter(|| black_box(vz.bytes(black_box(SAS_INFO)).emoji_indices())));
    g.finish();
    let mut g = c.benchmark_group("sas_calculate_mac");
    g.bench_function("caudata", |b| b.iter(|| black_box(cd.calculate_mac(MAC_INPUT, black_box(MAC_INFO)).to_base64())));
    g.bench_function("vodozemac", |b| {
        b.iter(|| black_box(vz.calculate_mac(MAC_INPUT, black_box(MAC_INFO)).to_base64()))
    });
    g.finish();
    let mut g = c.benchmark_group("sas_verify_mac");
    g.bench_function("caudata", |b| b.iter(|| cd.verify_mac(MAC_INPUT, black_box(MAC_INFO), &cd_mac).unwrap()));
    g.bench_function("vodozemac", |b| b.iter(|| vz.verify_mac(MAC_INPUT, black_box(MAC_INFO), &vz_mac).unwrap()));
    g.finish();
    let mut g = c.benchmark_group("sas_mac_invalid_base64");
    g.bench_function("caudata", |b| {
        b.iter(|| black_box(cd.calculate_mac_invalid_base64(MAC_INPUT, black_box(MAC_INFO))))
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| black_box(vz.calculate_mac_invalid_base64(MAC_INPUT, black_box(MAC_INFO))))
    });
    g.finish();

    // One side of a whole verification as the SDK runs it: key, agreement, the SAS shown, two
    // MACs sent, two verified.
    let peer_cd = cd_curve(peer);
    let mut g = c.benchmark_group("sas_one_side");
    g.bench_function("caudata", |b| {
        b.iter(|| {
            let s = cs::Sas::new();
            black_box(s.public_key());
            let e = s.diffie_hellman(peer_cd).unwrap();
            black_box(e.bytes(SAS_INFO).emoji_indices());
            black_box(e.calculate_mac(MAC_INPUT, MAC_INFO).to_base64());
            black_box(e.calculate_mac("ed25519:ALICEDEVICE", "KEY_IDS").to_base64());
            black_box(e.verify_mac(MAC_INPUT, MAC_INFO, &cd_mac).is_err());
            black_box(e.verify_mac(MAC_INPUT, "KEY_IDS", &cd_mac).is_err());
        })
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            let s = vs::Sas::new();
            black_box(s.public_key());
            let e = s.diffie_hellman(peer).unwrap();
            black_box(e.bytes(SAS_INFO).emoji_indices());
            black_box(e.calculate_mac(MAC_INPUT, MAC_INFO).to_base64());
            black_box(e.calculate_mac("ed25519:ALICEDEVICE", "KEY_IDS").to_base64());
            black_box(e.verify_mac(MAC_INPUT, MAC_INFO, &vz_mac).is_err());
            black_box(e.verify_mac(MAC_INPUT, "KEY_IDS", &vz_mac).is_err());
        })
    });
    g.finish();
}

fn pk(c: &mut Criterion) {
    let pt = backup_plaintext();
    let raw = {
        let mut r = [0u8; 32];
        getrandom::fill(&mut r).unwrap();
        r
    };
    let cd_dec = cp::PkDecryption::from_key(caudata::Curve25519SecretKey::from_bytes(&raw));
    let vz_dec = vp::PkDecryption::from_key(vodozemac::Curve25519SecretKey::from_slice(&raw));
    let cd_enc = cp::PkEncryption::from_key(cd_dec.public_key()).unwrap();
    let vz_enc = vp::PkEncryption::from_key(vz_curve(cd_dec.public_key()));

    let mut g = c.benchmark_group("pk_encrypt_backup_key");
    g.bench_function("caudata", |b| b.iter(|| black_box(cd_enc.encrypt(black_box(&pt)))));
    g.bench_function("vodozemac", |b| b.iter(|| black_box(vz_enc.encrypt(black_box(&pt)).unwrap())));
    g.finish();

    // the same message for both (made by caudata)
    let m = cd_enc.encrypt(&pt);
    let vm =
        vp::Message { ciphertext: m.ciphertext.clone(), mac: m.mac.clone(), ephemeral_key: vz_curve(m.ephemeral_key) };
    let mut g = c.benchmark_group("pk_decrypt_backup_key");
    g.bench_function("caudata", |b| b.iter(|| black_box(cd_dec.decrypt(black_box(&m)).unwrap())));
    g.bench_function("vodozemac", |b| b.iter(|| black_box(vz_dec.decrypt(black_box(&vm)).unwrap())));
    g.finish();

    // matrix-rust-sdk's restore: the decryption key rebuilt from its bytes for every message
    let mut g = c.benchmark_group("pk_decrypt_from_key");
    g.bench_function("caudata", |b| {
        b.iter(|| {
            let d = cp::PkDecryption::from_key(caudata::Curve25519SecretKey::from_bytes(black_box(&raw)));
            black_box(d.decrypt(&m).unwrap())
        })
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            let d = vp::PkDecryption::from_key(vodozemac::Curve25519SecretKey::from_slice(black_box(&raw)));
            black_box(d.decrypt(&vm).unwrap())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("pk_message_from_base64");
    let (ct, mac, eph) = m.to_base64_parts();
    g.bench_function("caudata", |b| {
        b.iter(|| black_box(cp::Message::from_base64(black_box(&ct), &mac, &eph).unwrap()))
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| black_box(vp::Message::from_base64(black_box(&ct), &mac, &eph).unwrap()))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = sas, pk }
criterion_main!(benches);
