//! The primitives each operation is built from, measured straight on the crates caudata uses
//! (so the sum, the "naive floor" of `benches/report.py`, owes nothing to caudata's code).
//! Groups `prim_*`, one function `caudata` each (the same crates serve vodozemac).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caudata::primitives::{Curve25519SecretKey, OsRandom};
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit as _, Nonce};
use common::plaintext;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use x25519_dalek::{PublicKey, StaticSecret};

fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).unwrap();
    b
}

fn one(c: &mut Criterion, name: &str, f: impl FnMut(&mut criterion::Bencher<'_>)) {
    let mut g = c.benchmark_group(format!("prim_{name}"));
    g.bench_function("caudata", f);
    g.finish();
}

fn curves(c: &mut Criterion) {
    let ours = StaticSecret::from(random32());
    let theirs = PublicKey::from(&StaticSecret::from(random32()));
    one(c, "x25519_dh", |b| b.iter(|| ours.diffie_hellman(black_box(&theirs))));
    one(c, "x25519_keygen", |b| b.iter(|| PublicKey::from(&StaticSecret::from(random32()))));

    one(c, "ed25519_keygen", |b| b.iter(|| SigningKey::from_bytes(&random32())));
    let key = SigningKey::from_bytes(&random32());
    let public = key.verifying_key();
    for (name, n) in [("128B", 128), ("10KiB", 10 * 1024 + 32)] {
        let msg = plaintext(n);
        let sig = key.sign(&msg);
        one(c, &format!("ed25519_sign_{name}"), |b| b.iter(|| key.sign(black_box(&msg))));
        one(c, &format!("ed25519_verify_{name}"), |b| b.iter(|| public.verify_strict(black_box(&msg), &sig).unwrap()));
    }
    let pk_bytes = public.to_bytes();
    one(c, "ed25519_decompress", |b| b.iter(|| ed25519_dalek::VerifyingKey::from_bytes(black_box(&pk_bytes)).unwrap()));

    let xk = Curve25519SecretKey::new();
    let xp = xk.public_key();
    let msg = plaintext(33);
    let sig = xk.sign_xeddsa(&msg);
    one(c, "xeddsa_sign", |b| b.iter(|| xk.sign_xeddsa(black_box(&msg))));
    one(c, "xeddsa_verify", |b| b.iter(|| xp.verify_xeddsa(black_box(&msg), &sig).unwrap()));

    let kyber = caudata::interolm::Kyber1024SecretKey::generate(&mut OsRandom);
    let (ct, _) = kyber.public_key().encapsulate(&mut OsRandom);
    one(c, "kyber1024_encaps", |b| b.iter(|| kyber.public_key().encapsulate(&mut OsRandom)));
    one(c, "kyber1024_decaps", |b| b.iter(|| kyber.decapsulate(black_box(&ct))));
}

fn symmetric(c: &mut Criterion) {
    let key = random32();
    // A chain step's HMAC: a fresh 32-byte key, a 1-byte message.
    one(c, "hmac_1B", |b| {
        b.iter(|| {
            let mut m = Hmac::<Sha256>::new_from_slice(black_box(&key)).unwrap();
            m.update(&[1]);
            m.finalize()
        })
    });
    // A message MAC: fresh key, the authenticated bytes of a 100 B or 10 KiB message.
    for (name, n) in [("150B", 150), ("10KiB", 10 * 1024 + 60)] {
        let msg = plaintext(n);
        one(c, &format!("hmac_{name}"), |b| {
            b.iter(|| {
                let mut m = Hmac::<Sha256>::new_from_slice(black_box(&key)).unwrap();
                m.update(&msg);
                m.finalize()
            })
        });
    }
    // Message keys: HKDF(zero salt, 32-byte seed, label, 80).
    one(c, "hkdf_80", |b| {
        b.iter(|| {
            let mut okm = [0u8; 80];
            hkdf::Hkdf::<Sha256>::new(None, black_box(&key)).expand(b"OLM_KEYS", &mut okm).unwrap();
            okm
        })
    });
    // Root step: HKDF(root key, 32-byte DH, label, 64).
    one(c, "hkdf_64", |b| {
        b.iter(|| {
            let mut okm = [0u8; 64];
            hkdf::Hkdf::<Sha256>::new(Some(&key), black_box(&key)).expand(b"OLM_RATCHET", &mut okm).unwrap();
            okm
        })
    });
    // Session set-up: HKDF(zero salt, 96-byte 3DH secret, label, 64).
    let ikm = plaintext(96);
    one(c, "hkdf_64_ikm96", |b| {
        b.iter(|| {
            let mut okm = [0u8; 64];
            hkdf::Hkdf::<Sha256>::new(None, black_box(&ikm)).expand(b"OLM_ROOT", &mut okm).unwrap();
            okm
        })
    });
    one(c, "sha256_96B", |b| b.iter(|| Sha256::digest(black_box(&ikm))));

    let iv = [9u8; 16];
    for (name, n) in [("100B", 100), ("10KiB", 10 * 1024)] {
        let pt = plaintext(n);
        let ct = caudata::hazmat::aes256_cbc_encrypt(&key, &iv, &pt);
        one(c, &format!("aes256cbc_enc_{name}"), |b| {
            b.iter(|| caudata::hazmat::aes256_cbc_encrypt(&key, &iv, black_box(&pt)))
        });
        one(c, &format!("aes256cbc_dec_{name}"), |b| {
            b.iter(|| caudata::hazmat::aes256_cbc_decrypt(&key, &iv, black_box(&ct)).unwrap())
        });
    }

    // Pickles: ChaCha20-Poly1305 and base64 of 1 KiB (scaled by size in the report).
    let aead = ChaCha20Poly1305::new((&key).into());
    let buf = plaintext(1024);
    one(c, "chacha20poly1305_1KiB", |b| {
        b.iter_batched(
            || buf.clone(),
            |mut m| aead.encrypt_inout_detached(&Nonce::from([0u8; 12]), b"", m.as_mut_slice().into()).unwrap(),
            BatchSize::SmallInput,
        )
    });
    one(c, "base64_encode_1KiB", |b| b.iter(|| caudata::primitives::base64_encode(black_box(&buf))));
}

criterion_group! { name = benches; config = common::criterion(); targets = curves, symmetric }
criterion_main!(benches);
