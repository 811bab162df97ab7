//! interolm beyond one session: sender keys (libsignal groups) and sealed sender.
//!
//! * `sender_key_{encrypt,decrypt}_100B`: a group message of 100 bytes, decrypted in order.
//! * `sealed_plain_decrypt`: the baseline, a 1:1 message (100 B, SPQR V1) decrypted by its
//!   session; `sealed_certificate_validate`: one sender-certificate validation (a server
//!   certificate under the trust root, then the sender certificate: two XEdDSA verifications);
//!   `sealed_decrypt_v1` / `sealed_decrypt_v2`: the same message in a sealed envelope, opened,
//!   its certificate validated and the message decrypted — what the issue bounds by
//!   1.1 × (plain + certificate); `_cached` the same through a [`SealedSenderReceiver`], which
//!   remembers validated server certificates and the static Diffie-Hellman per sender.
//! * `sealed_encrypt_v1`, `sealed_multi_recipient_encrypt_10`: the sender's side.
//!
//! caudata only: vodozemac has no equivalent.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caudata::interolm::{
    ContentHint, DeviceId, DistributionId, IdentityKeyPair, InterolmMessage, MessageType, SealedSenderReceiver,
    SealedSenderRecipient, SenderKeyRecord, ServiceId, UnidentifiedSenderMessageContent, Uuid,
    multi_recipient_message_for_recipient, sealed_sender_decrypt, sealed_sender_encrypt,
    sealed_sender_multi_recipient_encrypt,
};
use caudata::primitives::Curve25519PublicKey;
use common::groups::{NOW, Setup, setup};
use common::plaintext;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn sender_keys(c: &mut Criterion) {
    let dist = DistributionId::from_bytes([1; 16]);
    let pt = plaintext(100);
    let mut sender = SenderKeyRecord::new();
    let skdm = sender.create_distribution_message(dist).unwrap();
    let mut g = c.benchmark_group("sender_key_encrypt_100B");
    g.bench_function("caudata", |b| b.iter(|| sender.encrypt(dist, black_box(&pt)).unwrap()));
    g.finish();
    let mut sender = SenderKeyRecord::new();
    let skdm2 = sender.create_distribution_message(dist).unwrap();
    let mut receiver = SenderKeyRecord::new();
    receiver.process_distribution_message(&skdm2).unwrap();
    let _ = skdm;
    let mut g = c.benchmark_group("sender_key_decrypt_100B");
    g.bench_function("caudata", |b| {
        b.iter_batched(
            || sender.encrypt(dist, &pt).unwrap(),
            |m| receiver.decrypt(black_box(&m)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn seal_v2(
    alice_identity: &IdentityKeyPair,
    bob: &Curve25519PublicKey,
    usmc: &UnidentifiedSenderMessageContent,
) -> Vec<u8> {
    let to = SealedSenderRecipient {
        service_id: ServiceId::aci(Uuid::from_bytes([2; 16])),
        identity_key: *bob,
        devices: vec![(DeviceId::PRIMARY, 2)],
    };
    let sent = sealed_sender_multi_recipient_encrypt(usmc, alice_identity, &[to], &[]).unwrap();
    multi_recipient_message_for_recipient(&sent).unwrap()[0].message.clone().unwrap()
}

fn sealed(c: &mut Criterion) {
    let pt = plaintext(100);
    let Setup { alice_identity, mut alice, bob_identity, mut bob, cert, root } = setup();
    let roots = [root.public_key()];
    let bob_key = bob_identity.public_key();

    let mut g = c.benchmark_group("sealed_plain_decrypt");
    g.bench_function("caudata", |b| {
        b.iter_batched(|| alice.encrypt(&pt).unwrap(), |m| bob.decrypt(black_box(&m)).unwrap(), BatchSize::SmallInput)
    });
    g.finish();

    let mut g = c.benchmark_group("sealed_certificate_validate");
    g.bench_function("caudata", |b| b.iter(|| cert.validate(black_box(&roots), NOW).unwrap()));
    g.finish();

    for (name, v2) in [("v1", false), ("v2", true)] {
        let mut make = || {
            let m = alice.encrypt(&pt).unwrap();
            let usmc = UnidentifiedSenderMessageContent::new(
                m.message_type(),
                cert.clone(),
                m.to_bytes(),
                ContentHint::Resendable,
                None,
            );
            if v2 {
                seal_v2(&alice_identity, &bob_key, &usmc)
            } else {
                sealed_sender_encrypt(&usmc, &alice_identity, &bob_key).unwrap()
            }
        };
        let mut g = c.benchmark_group(format!("sealed_decrypt_{name}"));
        g.bench_function("caudata", |b| {
            b.iter_batched(
                &mut make,
                |e| {
                    let usmc = sealed_sender_decrypt(black_box(&e), &bob_identity, &roots, NOW, None).unwrap();
                    let m = InterolmMessage::from_parts(usmc.message_type().number().into(), usmc.contents()).unwrap();
                    bob.decrypt(&m).unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();

        let mut receiver = SealedSenderReceiver::new(bob_identity.clone(), roots.to_vec());
        let mut g = c.benchmark_group(format!("sealed_decrypt_{name}_cached"));
        g.bench_function("caudata", |b| {
            b.iter_batched(
                &mut make,
                |e| {
                    let usmc = receiver.decrypt(black_box(&e), NOW, None).unwrap();
                    let m = InterolmMessage::from_parts(usmc.message_type().number().into(), usmc.contents()).unwrap();
                    bob.decrypt(&m).unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }

    let usmc = UnidentifiedSenderMessageContent::new(
        MessageType::Whisper,
        cert.clone(),
        plaintext(150),
        ContentHint::Default,
        None,
    );
    let mut g = c.benchmark_group("sealed_encrypt_v1");
    g.bench_function("caudata", |b| {
        b.iter(|| sealed_sender_encrypt(black_box(&usmc), &alice_identity, &bob_key).unwrap())
    });
    g.finish();
    let recipients: Vec<SealedSenderRecipient> = (0..10u8)
        .map(|i| SealedSenderRecipient {
            service_id: ServiceId::aci(Uuid::from_bytes([i; 16])),
            identity_key: IdentityKeyPair::generate().public_key(),
            devices: vec![(DeviceId::PRIMARY, 1), (DeviceId::new(2).unwrap(), 2)],
        })
        .collect();
    let mut g = c.benchmark_group("sealed_multi_recipient_encrypt_10");
    g.bench_function("caudata", |b| {
        b.iter(|| sealed_sender_multi_recipient_encrypt(black_box(&usmc), &alice_identity, &recipients, &[]).unwrap())
    });
    g.finish();
}

criterion_group! { name = benches; config = common::criterion(); targets = sender_keys, sealed }
criterion_main!(benches);
