//! matrix-sdk-crypto's hot paths, as the SDK drives vodozemac's API, with the real vodozemac
//! 0.11.1 and the facade (compat/vodozemac: vodozemac's API on caudata) in the same run, on the
//! same inputs (state created by one library and moved to the other through serde, as a store
//! written by one and read by the other).
//!
//! matrix-sdk-crypto's crates.io package carries no benchmarks (they live in matrix-rust-sdk's
//! `benchmarks` crate, which is not published), so these follow what the SDK does per event:
//!
//! * `room_history_decrypt`: opening a room's history of 1 000 events from 20 senders: each
//!   sender's inbound group session is loaded from the store (MessagePack, as matrix-sdk-sqlite
//!   writes it: `rmp_serde::to_vec_named`) and each event's ciphertext is parsed from base64
//!   and decrypted.
//! * `share_room_key_500_devices`: sharing a room key with 500 devices that already have Olm
//!   sessions: per device the session is loaded from MessagePack, the `m.room_key` payload
//!   (≈ 600 bytes of JSON) encrypted, the message serialized to the to-device event's JSON
//!   (`{"type", "body"}`) and the session pickled back for the store.
//! * `share_room_key_500_new_devices`: the first share with 500 devices: an outbound Olm session
//!   per device from its claimed one-time key, then the same encryption.
//!
//! * `ops/…`: the single operations under those paths, each on both libraries: Olm encrypt and
//!   decrypt of a 600-byte payload in an established session, Megolm encrypt and decrypt of a
//!   150-byte event, `Account::new`, and the store's pickling (`rmp_serde::to_vec_named` of
//!   `pickle()`, and back through `from_pickle`) of an account with 50 one-time keys, an Olm
//!   session and an inbound group session.
//!
//! The facade must not be slower than vodozemac on any of them.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vodozemac as vz;
use vodozemac_facade as fa;

const DEVICES: usize = 500;
const SENDERS: usize = 20;
const EVENTS_PER_SENDER: usize = 50;

/// An `m.room_key` payload as the SDK encrypts it for each device (about 600 bytes).
fn room_key_payload(session_key: &str) -> String {
    format!(
        r#"{{"type":"m.room_key","content":{{"algorithm":"m.megolm.v1.aes-sha2","room_id":"!AAAAAAAAAAAAAAAAAA:example.org","session_id":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","session_key":"{session_key}"}},"sender":"@alice:example.org","sender_device":"ALICEDEVICE","keys":{{"ed25519":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},"recipient":"@bob:example.org","recipient_keys":{{"ed25519":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},"org.matrix.msc4147.device_keys":{{}}}}"#
    )
}

/// A room message as the SDK encrypts it (about 150 bytes).
fn event_payload(i: usize) -> String {
    format!(
        r#"{{"type":"m.room.message","content":{{"msgtype":"m.text","body":"message number {i} in this room's history"}},"room_id":"!AAAAAAAAAAAAAAAAAA:example.org"}}"#
    )
}

/// A history: per sender, the inbound session's MessagePack pickle (written by vodozemac) and
/// the events' base64 ciphertexts.
fn history() -> Vec<(Vec<u8>, Vec<String>)> {
    (0..SENDERS)
        .map(|_| {
            let mut out = vz::megolm::GroupSession::new(Default::default());
            let inbound = vz::megolm::InboundGroupSession::new(&out.session_key(), Default::default());
            let pickle = rmp_serde::to_vec_named(&inbound.pickle()).unwrap();
            let events = (0..EVENTS_PER_SENDER).map(|i| out.encrypt(event_payload(i)).to_base64()).collect();
            (pickle, events)
        })
        .collect()
}

fn room_history(c: &mut Criterion) {
    let history = history();
    let mut g = c.benchmark_group("room_history_decrypt");
    g.sample_size(20);
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            for (pickle, events) in &history {
                let p: vz::megolm::InboundGroupSessionPickle = rmp_serde::from_slice(pickle).unwrap();
                let mut s = vz::megolm::InboundGroupSession::from_pickle(p);
                for e in events {
                    let m = vz::megolm::MegolmMessage::from_base64(e).unwrap();
                    black_box(s.decrypt(&m).unwrap());
                }
            }
        })
    });
    g.bench_function("facade", |b| {
        b.iter(|| {
            for (pickle, events) in &history {
                let p: fa::megolm::InboundGroupSessionPickle = rmp_serde::from_slice(pickle).unwrap();
                let mut s = fa::megolm::InboundGroupSession::from_pickle(p);
                for e in events {
                    let m = fa::megolm::MegolmMessage::from_base64(e).unwrap();
                    black_box(s.decrypt(&m).unwrap());
                }
            }
        })
    });
    g.finish();
}

/// 500 devices with established Olm sessions (each has answered once, as after a first
/// share and a reply): the sender's sessions as MessagePack pickles written by vodozemac.
fn sessions() -> Vec<Vec<u8>> {
    let alice = vz::olm::Account::new();
    (0..DEVICES)
        .map(|_| {
            let mut bob = vz::olm::Account::new();
            bob.generate_one_time_keys(1);
            let otk = *bob.one_time_keys().values().next().unwrap();
            let mut s = alice.create_outbound_session(Default::default(), bob.curve25519_key(), otk).unwrap();
            let vz::olm::OlmMessage::PreKey(m) = s.encrypt("hello").unwrap() else { panic!() };
            let mut r = bob.create_inbound_session(Default::default(), alice.curve25519_key(), &m).unwrap().session;
            s.decrypt(&r.encrypt("reply").unwrap()).unwrap();
            rmp_serde::to_vec_named(&s.pickle()).unwrap()
        })
        .collect()
}

fn share_room_key(c: &mut Criterion) {
    let pickles = sessions();
    let payload = room_key_payload(&vz::megolm::GroupSession::new(Default::default()).session_key().to_base64());
    let mut g = c.benchmark_group("share_room_key_500_devices");
    g.sample_size(10);
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            for pickle in &pickles {
                let p: vz::olm::SessionPickle = rmp_serde::from_slice(pickle).unwrap();
                let mut s = vz::olm::Session::from_pickle(p);
                let m = s.encrypt(&payload).unwrap();
                black_box(serde_json::to_string(&m).unwrap());
                black_box(rmp_serde::to_vec_named(&s.pickle()).unwrap());
            }
        })
    });
    g.bench_function("facade", |b| {
        b.iter(|| {
            for pickle in &pickles {
                let p: fa::olm::SessionPickle = rmp_serde::from_slice(pickle).unwrap();
                let mut s = fa::olm::Session::from_pickle(p);
                let m = s.encrypt(&payload).unwrap();
                black_box(serde_json::to_string(&m).unwrap());
                black_box(rmp_serde::to_vec_named(&s.pickle()).unwrap());
            }
        })
    });
    g.finish();

    // the first share: one outbound session per device, from its claimed one-time key
    let keys: Vec<(String, String)> = (0..DEVICES)
        .map(|_| {
            let mut a = vz::olm::Account::new();
            a.generate_one_time_keys(1);
            (a.curve25519_key().to_base64(), a.one_time_keys().values().next().unwrap().to_base64())
        })
        .collect();
    let vz_alice = vz::olm::Account::new();
    let fa_alice: fa::olm::Account = fa::olm::Account::from_pickle(
        rmp_serde::from_slice(&rmp_serde::to_vec_named(&vz_alice.pickle()).unwrap()).unwrap(),
    );
    let mut g = c.benchmark_group("share_room_key_500_new_devices");
    g.sample_size(10);
    g.bench_function("vodozemac", |b| {
        b.iter_batched(
            || (),
            |()| {
                for (identity, otk) in &keys {
                    let identity = vz::Curve25519PublicKey::from_base64(identity).unwrap();
                    let otk = vz::Curve25519PublicKey::from_base64(otk).unwrap();
                    let mut s = vz_alice.create_outbound_session(Default::default(), identity, otk).unwrap();
                    let m = s.encrypt(&payload).unwrap();
                    black_box(serde_json::to_string(&m).unwrap());
                    black_box(rmp_serde::to_vec_named(&s.pickle()).unwrap());
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("facade", |b| {
        b.iter_batched(
            || (),
            |()| {
                for (identity, otk) in &keys {
                    let identity = fa::Curve25519PublicKey::from_base64(identity).unwrap();
                    let otk = fa::Curve25519PublicKey::from_base64(otk).unwrap();
                    let mut s = fa_alice.create_outbound_session(Default::default(), identity, otk).unwrap();
                    let m = s.encrypt(&payload).unwrap();
                    black_box(serde_json::to_string(&m).unwrap());
                    black_box(rmp_serde::to_vec_named(&s.pickle()).unwrap());
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// One operation on both libraries, side by side in one criterion group.
macro_rules! pair {
    ($c:expr, $name:expr, |$lib:ident| $body:block) => {{
        let mut g = $c.benchmark_group(concat!("ops/", $name));
        {
            use vz as $lib;
            g.bench_function("vodozemac", $body);
        }
        {
            use fa as $lib;
            g.bench_function("facade", $body);
        }
        g.finish();
    }};
}

fn ops(c: &mut Criterion) {
    let payload = room_key_payload(&vz::megolm::GroupSession::new(Default::default()).session_key().to_base64());
    let event = event_payload(7);

    pair!(c, "account_new", |lib| { |b: &mut criterion::Bencher<'_>| b.iter(|| black_box(lib::olm::Account::new())) });

    pair!(c, "olm_encrypt_600B", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let (mut s, _) = olm_pair_of!(lib);
            b.iter(|| black_box(s.encrypt(&payload).unwrap()))
        }
    });

    pair!(c, "olm_decrypt_600B", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let (mut s, mut r) = olm_pair_of!(lib);
            b.iter_batched(
                || s.encrypt(&payload).unwrap(),
                |m| black_box(r.decrypt(&m).unwrap()),
                BatchSize::SmallInput,
            )
        }
    });

    pair!(c, "megolm_encrypt_150B", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let mut out = lib::megolm::GroupSession::new(Default::default());
            b.iter(|| black_box(out.encrypt(&event)))
        }
    });

    pair!(c, "megolm_decrypt_150B", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let mut out = lib::megolm::GroupSession::new(Default::default());
            let mut inbound = lib::megolm::InboundGroupSession::new(&out.session_key(), Default::default());
            b.iter_batched(|| out.encrypt(&event), |m| black_box(inbound.decrypt(&m).unwrap()), BatchSize::SmallInput)
        }
    });

    pair!(c, "pickle_account_50otk", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let mut a = lib::olm::Account::new();
            a.generate_one_time_keys(50);
            a.generate_fallback_key();
            b.iter(|| black_box(rmp_serde::to_vec_named(&a.pickle()).unwrap()))
        }
    });

    pair!(c, "unpickle_account_50otk", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let mut a = lib::olm::Account::new();
            a.generate_one_time_keys(50);
            a.generate_fallback_key();
            let bytes = rmp_serde::to_vec_named(&a.pickle()).unwrap();
            b.iter(|| {
                let p: lib::olm::AccountPickle = rmp_serde::from_slice(&bytes).unwrap();
                black_box(lib::olm::Account::from_pickle(p))
            })
        }
    });

    pair!(c, "pickle_olm_session", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let (s, _) = olm_pair_of!(lib);
            b.iter(|| black_box(rmp_serde::to_vec_named(&s.pickle()).unwrap()))
        }
    });

    pair!(c, "unpickle_olm_session", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let (s, _) = olm_pair_of!(lib);
            let bytes = rmp_serde::to_vec_named(&s.pickle()).unwrap();
            b.iter(|| {
                let p: lib::olm::SessionPickle = rmp_serde::from_slice(&bytes).unwrap();
                black_box(lib::olm::Session::from_pickle(p))
            })
        }
    });

    pair!(c, "pickle_inbound_group_session", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let out = lib::megolm::GroupSession::new(Default::default());
            let inbound = lib::megolm::InboundGroupSession::new(&out.session_key(), Default::default());
            b.iter(|| black_box(rmp_serde::to_vec_named(&inbound.pickle()).unwrap()))
        }
    });

    pair!(c, "unpickle_inbound_group_session", |lib| {
        |b: &mut criterion::Bencher<'_>| {
            let out = lib::megolm::GroupSession::new(Default::default());
            let inbound = lib::megolm::InboundGroupSession::new(&out.session_key(), Default::default());
            let bytes = rmp_serde::to_vec_named(&inbound.pickle()).unwrap();
            b.iter(|| {
                let p: lib::megolm::InboundGroupSessionPickle = rmp_serde::from_slice(&bytes).unwrap();
                black_box(lib::megolm::InboundGroupSession::from_pickle(p))
            })
        }
    });
}

criterion_group!(benches, room_history, share_room_key, ops);
criterion_main!(benches);
