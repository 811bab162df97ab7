//! Instruction counts for sender keys and sealed sender (callgrind, load-independent; see
//! `benches/instructions.rs` for the method). For each operation this binary prepares `n`
//! inputs outside the measurement, then runs the operation on each inside `measured`:
//!
//! ```text
//! cargo bench -p caudata-benches --bench groups_instructions --no-run
//! valgrind --tool=callgrind --toggle-collect='*measured*' --callgrind-out-file=/dev/null \
//!     target/release/deps/groups_instructions-… sealed_decrypt_v1 20
//! ```
//!
//! `python3 benches/groups_instructions.py` runs every operation and prints instructions per
//! call and the ratio the issue bounds: sealed decrypt / (plain decrypt + one certificate
//! validation). Run alone (`cargo bench` passes `--bench`), it lists the operations.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caudata::interolm::{
    ContentHint, DeviceId, DistributionId, InterolmMessage, SealedSenderReceiver, SealedSenderRecipient,
    SenderKeyRecord, ServiceId, UnidentifiedSenderMessageContent, Uuid, multi_recipient_message_for_recipient,
    sealed_sender_decrypt, sealed_sender_encrypt, sealed_sender_multi_recipient_encrypt,
};
use common::groups::{NOW, Setup, setup};
use std::hint::black_box;

#[inline(never)]
fn measured<F: FnOnce()>(f: F) {
    f();
    black_box(());
}

const OPS: &[&str] = &[
    "plain_decrypt",
    "certificate_validate",
    "sealed_decrypt_v1",
    "sealed_decrypt_v2",
    "sealed_decrypt_v1_cached",
    "sealed_decrypt_v2_cached",
    "sealed_encrypt_v1",
    "sender_key_encrypt",
    "sender_key_decrypt",
];

fn envelope(s: &mut Setup, v2: bool, pt: &[u8]) -> Vec<u8> {
    let m = s.alice.encrypt(pt).unwrap();
    let usmc = UnidentifiedSenderMessageContent::new(
        m.message_type(),
        s.cert.clone(),
        m.to_bytes(),
        ContentHint::Resendable,
        None,
    );
    if !v2 {
        return sealed_sender_encrypt(&usmc, &s.alice_identity, &s.bob_identity.public_key()).unwrap();
    }
    let to = SealedSenderRecipient {
        service_id: ServiceId::aci(Uuid::from_bytes([2; 16])),
        identity_key: s.bob_identity.public_key(),
        devices: vec![(DeviceId::PRIMARY, 2)],
    };
    let sent = sealed_sender_multi_recipient_encrypt(&usmc, &s.alice_identity, &[to], &[]).unwrap();
    multi_recipient_message_for_recipient(&sent).unwrap()[0].message.clone().unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(op), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<usize>().ok())) else {
        println!("{}", OPS.join("\n"));
        return;
    };
    let pt = common::plaintext(100);
    let mut s = setup();
    let roots = [s.root.public_key()];
    match op.as_str() {
        "plain_decrypt" => {
            let ms: Vec<_> = (0..n).map(|_| s.alice.encrypt(&pt).unwrap()).collect();
            measured(|| {
                for m in &ms {
                    black_box(s.bob.decrypt(m).unwrap());
                }
            });
        }
        "certificate_validate" => measured(|| {
            for _ in 0..n {
                s.cert.validate(black_box(&roots), NOW).unwrap();
            }
        }),
        "sealed_decrypt_v1" | "sealed_decrypt_v2" | "sealed_decrypt_v1_cached" | "sealed_decrypt_v2_cached" => {
            let v2 = op.contains("v2");
            let cached = op.ends_with("cached");
            let mut receiver = SealedSenderReceiver::new(s.bob_identity.clone(), roots.to_vec());
            if cached {
                // Warm: the receiver has seen this sender and its server certificate once.
                let w = envelope(&mut s, v2, &pt);
                let u = receiver.decrypt(&w, NOW, None).unwrap();
                s.bob
                    .decrypt(&InterolmMessage::from_parts(u.message_type().number().into(), u.contents()).unwrap())
                    .unwrap();
            }
            let es: Vec<_> = (0..n).map(|_| envelope(&mut s, v2, &pt)).collect();
            measured(|| {
                for e in &es {
                    let u = if cached {
                        receiver.decrypt(e, NOW, None).unwrap()
                    } else {
                        sealed_sender_decrypt(e, &s.bob_identity, &roots, NOW, None).unwrap()
                    };
                    let m = InterolmMessage::from_parts(u.message_type().number().into(), u.contents()).unwrap();
                    black_box(s.bob.decrypt(&m).unwrap());
                }
            });
        }
        "sealed_encrypt_v1" => {
            let usmc = UnidentifiedSenderMessageContent::new(
                caudata::interolm::MessageType::Whisper,
                s.cert.clone(),
                common::plaintext(150),
                ContentHint::Default,
                None,
            );
            measured(|| {
                for _ in 0..n {
                    black_box(sealed_sender_encrypt(&usmc, &s.alice_identity, &s.bob_identity.public_key()).unwrap());
                }
            });
        }
        "sender_key_encrypt" | "sender_key_decrypt" => {
            let dist = DistributionId::from_bytes([1; 16]);
            let mut sender = SenderKeyRecord::new();
            let skdm = sender.create_distribution_message(dist).unwrap();
            let mut receiver = SenderKeyRecord::new();
            receiver.process_distribution_message(&skdm).unwrap();
            if op == "sender_key_encrypt" {
                measured(|| {
                    for _ in 0..n {
                        black_box(sender.encrypt(dist, &pt).unwrap());
                    }
                });
            } else {
                let ms: Vec<_> = (0..n).map(|_| sender.encrypt(dist, &pt).unwrap()).collect();
                measured(|| {
                    for m in &ms {
                        black_box(receiver.decrypt(m).unwrap());
                    }
                });
            }
        }
        _ => panic!("unknown op {op}"),
    }
}
