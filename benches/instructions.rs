//! Instruction counts, caudata against vodozemac: the load-independent half of the comparison.
//!
//! Wall-clock medians on a shared 2-core machine move by ±10 % from run to run, which is more
//! than the difference between the two libraries on operations bound by the same X25519 or
//! Ed25519 code. Instructions counted by callgrind do not move. For each operation this binary
//! prepares `n` inputs (outside the measurement), then runs the operation on each inside
//! `measured`, the only function `benches/instructions.py` tells callgrind to count:
//!
//! ```text
//! python3 benches/instructions.py          # every operation, table on stdout
//! ```
//!
//! Under valgrind, SHA-256 runs its portable code (valgrind does not offer SHA-NI), so
//! SHA-heavy operations count more instructions than they execute natively; both libraries use
//! the same `sha2` crate, so the ratio stays fair. Run alone (`cargo bench` passes `--bench`),
//! it lists the operations and exits.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;
// SAS and key backup (issue 15): their own module, the same protocol.
mod instructions_sas_pk;
// vodozemac's pickle structs through serde, on the facade (compat/vodozemac).
mod instructions_facade;

use common::{cd, vz};
use std::hint::black_box;

/// The only function callgrind counts.
#[inline(never)]
fn measured<F: FnOnce()>(f: F) {
    f();
    black_box(());
}

const OPS: &[&str] = &[
    "olm_account_new",
    "olm_one_time_keys_50",
    "olm_session_outbound",
    "olm_session_inbound",
    "olm_encrypt_steady_100B",
    "olm_decrypt_steady_100B",
    "olm_encrypt_ratchet_100B",
    "olm_decrypt_ratchet_100B",
    "olm_decrypt_skip_1000",
    "megolm_encrypt_100B",
    "megolm_decrypt_100B",
    "megolm_history_10000x5",
    "megolm_advance_1000",
    "megolm_decrypt_at_1000",
    "megolm_session_key_import",
    "pickle_account_50otk",
    "unpickle_account_50otk",
    "unpickle_session_40skipped",
    "unpickle_group_session",
    "pickle_group_session",
    "pickle_inbound_group_session",
    "unpickle_inbound_group_session",
    "dehydrate_50otk",
    "rehydrate_50otk",
    "rehydrate_legacy_50otk",
];

/// An account with 50 one-time keys and a fallback key, dehydrated (MSC3814 v2) and as a legacy
/// (v1) device: what matrix-rust-sdk dehydrates weekly and rehydrates at login.
const DEVICE_ID: &str = "DEHYDRATED";

/// The legacy device's libolm pickle key (matrix-rust-sdk's `expand_legacy_pickle_key`).
fn legacy_key() -> [u8; 32] {
    let mut out = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(DEVICE_ID.as_bytes()), &KEY)
        .expand(b"dehydrated-device-pickle-key", &mut out)
        .unwrap();
    out
}

const KEY: [u8; 32] = [7; 32];

/// An exported key at index 0 and a message at index 1000 (made by caudata; vodozemac gets
/// the same bytes).
fn megolm_far() -> (caudata::megolm::ExportedSessionKey, caudata::megolm::MegolmMessage) {
    use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig};
    let mut out = GroupSession::new(SessionConfig::version_1());
    let exported =
        InboundGroupSession::new(&out.session_key(), SessionConfig::version_1()).export_at_first_known_index();
    out.advance_to_for_testing(1000);
    let m = out.encrypt(common::plaintext(100));
    (exported, m)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(op), Some(lib), Some(n)) = (args.get(1), args.get(2), args.get(3).and_then(|n| n.parse::<usize>().ok()))
    else {
        println!("{}", OPS.join("\n"));
        println!("{}", instructions_sas_pk::OPS.join("\n"));
        println!("{}", instructions_facade::OPS.join("\n"));
        return;
    };
    if instructions_sas_pk::run(op, lib, n) || instructions_facade::run(op, lib, n) {
        return;
    }
    match lib.as_str() {
        "caudata" => caudata_op(op, n),
        "vodozemac" => vodozemac_op(op, n),
        _ => panic!("library: caudata or vodozemac"),
    }
}

fn caudata_op(op: &str, n: usize) {
    use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig, SessionKey};
    use caudata::olm::{Account, OlmMessage, SessionConfig};
    use caudata::pickle::{AccountPickle, GroupSessionPickle, SessionPickle};
    let pt = common::plaintext(100);
    match op {
        "olm_account_new" => measured(|| {
            for _ in 0..n {
                black_box(Account::new());
            }
        }),
        "olm_decrypt_skip_1000" => {
            let (mut a, mut b) = cd::pair();
            a.decrypt(&b.encrypt(b"on Bob's chain")).unwrap();
            for _ in 0..1000 {
                b.encrypt(b"lost");
            }
            let m = b.encrypt(&pt);
            let copies: Vec<_> = (0..n).map(|_| cd::clone_session(&a)).collect();
            measured(|| {
                for mut s in copies {
                    black_box(s.decrypt(&m).unwrap());
                }
            })
        }
        "megolm_advance_1000" | "megolm_decrypt_at_1000" => {
            let (exported, m) = megolm_far();
            let copies: Vec<_> =
                (0..n).map(|_| InboundGroupSession::import(&exported, MegolmConfig::version_1())).collect();
            if op == "megolm_advance_1000" {
                measured(|| {
                    for s in copies {
                        black_box(s.export_at(1000).unwrap());
                    }
                })
            } else {
                measured(|| {
                    for mut s in copies {
                        black_box(s.decrypt(&m).unwrap());
                    }
                })
            }
        }
        "olm_one_time_keys_50" => {
            let accounts: Vec<Account> = (0..n).map(|_| Account::new()).collect();
            measured(|| {
                for mut a in accounts {
                    a.generate_one_time_keys(50);
                    black_box(a);
                }
            })
        }
        "olm_session_outbound" => {
            let alice = Account::new();
            let mut bob = Account::new();
            bob.generate_one_time_keys(1);
            let otk = *bob.one_time_keys().values().next().unwrap();
            let idk = bob.curve25519_key();
            measured(|| {
                for _ in 0..n {
                    black_box(alice.create_outbound_session(SessionConfig::version_1(), idk, otk).unwrap());
                }
            })
        }
        "olm_session_inbound" => {
            let alice = Account::new();
            let mut bob = Account::new();
            bob.generate_one_time_keys(n);
            let otks: Vec<_> = bob.one_time_keys().values().copied().collect();
            bob.mark_keys_as_published();
            let messages: Vec<_> = otks
                .into_iter()
                .map(|otk| {
                    let mut s =
                        alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
                    let OlmMessage::PreKey(m) = s.encrypt(&pt) else { panic!() };
                    m
                })
                .collect();
            let idk = alice.curve25519_key();
            measured(|| {
                for m in &messages {
                    black_box(bob.create_inbound_session(SessionConfig::version_1(), idk, m).unwrap());
                }
            })
        }
        "olm_encrypt_steady_100B" => {
            let (mut a, _) = cd::pair();
            measured(|| {
                for _ in 0..n {
                    black_box(a.encrypt(&pt));
                }
            })
        }
        "olm_decrypt_steady_100B" => {
            let (mut a, mut b) = cd::pair();
            let messages: Vec<_> = (0..n).map(|_| a.encrypt(&pt)).collect();
            measured(|| {
                for m in &messages {
                    black_box(b.decrypt(m).unwrap());
                }
            })
        }
        "olm_encrypt_ratchet_100B" => {
            let (mut a, mut b) = cd::pair();
            a.decrypt(&b.encrypt(b"new chain")).unwrap();
            let copies: Vec<_> = (0..n).map(|_| cd::clone_session(&a)).collect();
            measured(|| {
                for mut s in copies {
                    black_box(s.encrypt(&pt));
                }
            })
        }
        "olm_decrypt_ratchet_100B" => {
            let (mut a, mut b) = cd::pair();
            b.decrypt(&a.encrypt(b"so Bob steps")).unwrap();
            let m = b.encrypt(&pt);
            let copies: Vec<_> = (0..n).map(|_| cd::clone_session(&a)).collect();
            measured(|| {
                for mut s in copies {
                    black_box(s.decrypt(&m).unwrap());
                }
            })
        }
        "megolm_encrypt_100B" => {
            let mut g = GroupSession::new(MegolmConfig::version_1());
            measured(|| {
                for _ in 0..n {
                    black_box(g.encrypt(&pt));
                }
            })
        }
        "megolm_history_10000x5" => {
            // A room's history: 5 sessions × 2000 messages, interleaved; caudata in one batch.
            let mut outs: Vec<_> = (0..5).map(|_| GroupSession::new(MegolmConfig::version_1())).collect();
            let inbound: Vec<_> =
                outs.iter().map(|g| InboundGroupSession::new(&g.session_key(), MegolmConfig::version_1())).collect();
            let messages: Vec<Vec<_>> = outs.iter_mut().map(|g| (0..2000).map(|_| g.encrypt(&pt)).collect()).collect();
            let copies: Vec<Vec<_>> = (0..n)
                .map(|_| inbound.iter().map(|s| InboundGroupSession::from_pickle(s.pickle())).collect())
                .collect();
            measured(|| {
                for mut sessions in copies {
                    let mut batch: Vec<_> =
                        sessions.iter_mut().zip(&messages).map(|(s, m)| (s, m.as_slice())).collect();
                    black_box(caudata::megolm::decrypt_batch(&mut batch));
                }
            })
        }
        "megolm_decrypt_100B" => {
            let mut g = GroupSession::new(MegolmConfig::version_1());
            let mut i = InboundGroupSession::new(&g.session_key(), MegolmConfig::version_1());
            let messages: Vec<_> = (0..n).map(|_| g.encrypt(&pt)).collect();
            measured(|| {
                for m in &messages {
                    black_box(i.decrypt(m).unwrap());
                }
            })
        }
        "megolm_session_key_import" => {
            let text = GroupSession::new(MegolmConfig::version_1()).session_key().to_base64();
            measured(|| {
                for _ in 0..n {
                    let key = SessionKey::from_base64(&text).unwrap();
                    black_box(InboundGroupSession::new(&key, MegolmConfig::version_1()));
                }
            })
        }
        "pickle_account_50otk" | "unpickle_account_50otk" => {
            let mut a = Account::new();
            a.generate_one_time_keys(50);
            if op.starts_with("pickle") {
                measured(|| {
                    for _ in 0..n {
                        black_box(a.pickle().encrypt(&KEY));
                    }
                })
            } else {
                let p = a.pickle().encrypt(&KEY);
                measured(|| {
                    for _ in 0..n {
                        black_box(Account::from_pickle(AccountPickle::from_encrypted(&p, &KEY).unwrap()));
                    }
                })
            }
        }
        "unpickle_session_40skipped" => {
            let s = cd_session_40skipped();
            let p = s.pickle().encrypt(&KEY);
            measured(|| {
                for _ in 0..n {
                    black_box(caudata::olm::Session::from_pickle(SessionPickle::from_encrypted(&p, &KEY).unwrap()));
                }
            })
        }
        "unpickle_group_session" => {
            let p = GroupSession::new(MegolmConfig::version_1()).pickle().encrypt(&KEY);
            measured(|| {
                for _ in 0..n {
                    black_box(GroupSession::from_pickle(GroupSessionPickle::from_encrypted(&p, &KEY).unwrap()));
                }
            })
        }
        "pickle_group_session" => {
            let s = GroupSession::new(MegolmConfig::version_1());
            measured(|| {
                for _ in 0..n {
                    black_box(s.pickle().encrypt(&KEY));
                }
            })
        }
        "pickle_inbound_group_session" | "unpickle_inbound_group_session" => {
            let s = InboundGroupSession::from(&GroupSession::new(MegolmConfig::version_1()));
            if op.starts_with("pickle") {
                measured(|| {
                    for _ in 0..n {
                        black_box(s.pickle().encrypt(&KEY));
                    }
                })
            } else {
                let p = s.pickle().encrypt(&KEY);
                measured(|| {
                    for _ in 0..n {
                        black_box(InboundGroupSession::from_pickle(
                            caudata::pickle::InboundGroupSessionPickle::from_encrypted(&p, &KEY).unwrap(),
                        ));
                    }
                })
            }
        }
        "dehydrate_50otk" | "rehydrate_50otk" | "rehydrate_legacy_50otk" => {
            let mut a = Account::new();
            a.generate_one_time_keys(50);
            a.generate_fallback_key();
            let d = a.to_dehydrated_device(&KEY).unwrap();
            let legacy = a.to_legacy_dehydrated_device(DEVICE_ID, &KEY).unwrap();
            match op {
                "dehydrate_50otk" => measured(|| {
                    for _ in 0..n {
                        black_box(a.to_dehydrated_device(&KEY).unwrap());
                    }
                }),
                "rehydrate_50otk" => measured(|| {
                    for _ in 0..n {
                        black_box(Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &KEY).unwrap());
                    }
                }),
                _ => measured(|| {
                    for _ in 0..n {
                        black_box(Account::from_legacy_dehydrated_device(&legacy, DEVICE_ID, &KEY).unwrap());
                    }
                }),
            }
        }
        _ => panic!("unknown operation {op}"),
    }
}

fn vodozemac_op(op: &str, n: usize) {
    use vodozemac::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig, SessionKey};
    use vodozemac::olm::{Account, AccountPickle, OlmMessage, Session, SessionConfig, SessionPickle};
    let pt = common::plaintext(100);
    match op {
        "olm_account_new" => measured(|| {
            for _ in 0..n {
                black_box(Account::new());
            }
        }),
        "olm_decrypt_skip_1000" => {
            let (mut a, mut b) = vz::pair();
            a.decrypt(&b.encrypt(b"on Bob's chain").unwrap()).unwrap();
            for _ in 0..1000 {
                b.encrypt(b"lost").unwrap();
            }
            let m = b.encrypt(&pt).unwrap();
            let copies: Vec<_> = (0..n).map(|_| vz::clone_session(&a)).collect();
            measured(|| {
                for mut s in copies {
                    black_box(s.decrypt(&m).unwrap());
                }
            })
        }
        "megolm_advance_1000" | "megolm_decrypt_at_1000" => {
            let (exported, m) = megolm_far();
            let exported = vodozemac::megolm::ExportedSessionKey::from_base64(&exported.to_base64()).unwrap();
            let m = vodozemac::megolm::MegolmMessage::from_bytes(&m.to_bytes()).unwrap();
            let copies: Vec<_> =
                (0..n).map(|_| InboundGroupSession::import(&exported, MegolmConfig::version_1())).collect();
            if op == "megolm_advance_1000" {
                measured(|| {
                    for mut s in copies {
                        black_box(s.export_at(1000).unwrap());
                    }
                })
            } else {
                measured(|| {
                    for mut s in copies {
                        black_box(s.decrypt(&m).unwrap());
                    }
                })
            }
        }
        "olm_one_time_keys_50" => {
            let accounts: Vec<Account> = (0..n).map(|_| Account::new()).collect();
            measured(|| {
                for mut a in accounts {
                    a.generate_one_time_keys(50);
                    black_box(a);
                }
            })
        }
        "olm_session_outbound" => {
            let alice = Account::new();
            let mut bob = Account::new();
            bob.generate_one_time_keys(1);
            let otk = *bob.one_time_keys().values().next().unwrap();
            let idk = bob.curve25519_key();
            measured(|| {
                for _ in 0..n {
                    black_box(alice.create_outbound_session(SessionConfig::version_1(), idk, otk).unwrap());
                }
            })
        }
        "olm_session_inbound" => {
            let alice = Account::new();
            let mut bob = Account::new();
            bob.generate_one_time_keys(n);
            let otks: Vec<_> = bob.one_time_keys().values().copied().collect();
            bob.mark_keys_as_published();
            let messages: Vec<_> = otks
                .into_iter()
                .map(|otk| {
                    let mut s =
                        alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
                    let OlmMessage::PreKey(m) = s.encrypt(&pt).unwrap() else { panic!() };
                    m
                })
                .collect();
            let idk = alice.curve25519_key();
            measured(|| {
                for m in &messages {
                    black_box(bob.create_inbound_session(SessionConfig::version_1(), idk, m).unwrap());
                }
            })
        }
        "olm_encrypt_steady_100B" => {
            let (mut a, _) = vz::pair();
            measured(|| {
                for _ in 0..n {
                    black_box(a.encrypt(&pt).unwrap());
                }
            })
        }
        "olm_decrypt_steady_100B" => {
            let (mut a, mut b) = vz::pair();
            let messages: Vec<_> = (0..n).map(|_| a.encrypt(&pt).unwrap()).collect();
            measured(|| {
                for m in &messages {
                    black_box(b.decrypt(m).unwrap());
                }
            })
        }
        "olm_encrypt_ratchet_100B" => {
            let (mut a, mut b) = vz::pair();
            a.decrypt(&b.encrypt(b"new chain").unwrap()).unwrap();
            let copies: Vec<_> = (0..n).map(|_| vz::clone_session(&a)).collect();
            measured(|| {
                for mut s in copies {
                    black_box(s.encrypt(&pt).unwrap());
                }
            })
        }
        "olm_decrypt_ratchet_100B" => {
            let (mut a, mut b) = vz::pair();
            b.decrypt(&a.encrypt(b"so Bob steps").unwrap()).unwrap();
            let m = b.encrypt(&pt).unwrap();
            let copies: Vec<_> = (0..n).map(|_| vz::clone_session(&a)).collect();
            measured(|| {
                for mut s in copies {
                    black_box(s.decrypt(&m).unwrap());
                }
            })
        }
        "megolm_encrypt_100B" => {
            let mut g = GroupSession::new(MegolmConfig::version_1());
            measured(|| {
                for _ in 0..n {
                    black_box(g.encrypt(&pt));
                }
            })
        }
        "megolm_history_10000x5" => {
            let mut outs: Vec<_> = (0..5)
                .map(|_| caudata::megolm::GroupSession::new(caudata::megolm::SessionConfig::version_1()))
                .collect();
            let inbound: Vec<_> = outs
                .iter()
                .map(|g| {
                    InboundGroupSession::new(
                        &SessionKey::from_base64(&g.session_key().to_base64()).unwrap(),
                        MegolmConfig::version_1(),
                    )
                })
                .collect();
            let messages: Vec<Vec<_>> = outs
                .iter_mut()
                .map(|g| {
                    (0..2000)
                        .map(|_| vodozemac::megolm::MegolmMessage::from_bytes(&g.encrypt(&pt).to_bytes()).unwrap())
                        .collect()
                })
                .collect();
            let copies: Vec<Vec<_>> = (0..n)
                .map(|_| inbound.iter().map(|s| InboundGroupSession::from_pickle(s.pickle())).collect())
                .collect();
            measured(|| {
                for mut sessions in copies {
                    for i in 0..2000 {
                        for (s, m) in sessions.iter_mut().zip(&messages) {
                            black_box(s.decrypt(&m[i]).unwrap());
                        }
                    }
                }
            })
        }
        "megolm_decrypt_100B" => {
            let mut g = GroupSession::new(MegolmConfig::version_1());
            let mut i = InboundGroupSession::new(&g.session_key(), MegolmConfig::version_1());
            let messages: Vec<_> = (0..n).map(|_| g.encrypt(&pt)).collect();
            measured(|| {
                for m in &messages {
                    black_box(i.decrypt(m).unwrap());
                }
            })
        }
        "megolm_session_key_import" => {
            let text = GroupSession::new(MegolmConfig::version_1()).session_key().to_base64();
            measured(|| {
                for _ in 0..n {
                    let key = SessionKey::from_base64(&text).unwrap();
                    black_box(InboundGroupSession::new(&key, MegolmConfig::version_1()));
                }
            })
        }
        "pickle_account_50otk" | "unpickle_account_50otk" => {
            let mut a = Account::new();
            a.generate_one_time_keys(50);
            if op.starts_with("pickle") {
                measured(|| {
                    for _ in 0..n {
                        black_box(a.pickle().encrypt(&KEY));
                    }
                })
            } else {
                let p = a.pickle().encrypt(&KEY);
                measured(|| {
                    for _ in 0..n {
                        black_box(Account::from_pickle(AccountPickle::from_encrypted(&p, &KEY).unwrap()));
                    }
                })
            }
        }
        "unpickle_session_40skipped" => {
            let s = vz_session_40skipped();
            let p = s.pickle().encrypt(&KEY);
            measured(|| {
                for _ in 0..n {
                    black_box(Session::from_pickle(SessionPickle::from_encrypted(&p, &KEY).unwrap()));
                }
            })
        }
        "unpickle_group_session" => {
            let p = GroupSession::new(MegolmConfig::version_1()).pickle().encrypt(&KEY);
            measured(|| {
                for _ in 0..n {
                    black_box(GroupSession::from_pickle(
                        vodozemac::megolm::GroupSessionPickle::from_encrypted(&p, &KEY).unwrap(),
                    ));
                }
            })
        }
        "pickle_group_session" => {
            let s = GroupSession::new(MegolmConfig::version_1());
            measured(|| {
                for _ in 0..n {
                    black_box(s.pickle().encrypt(&KEY));
                }
            })
        }
        "pickle_inbound_group_session" | "unpickle_inbound_group_session" => {
            let s = InboundGroupSession::from(&GroupSession::new(MegolmConfig::version_1()));
            if op.starts_with("pickle") {
                measured(|| {
                    for _ in 0..n {
                        black_box(s.pickle().encrypt(&KEY));
                    }
                })
            } else {
                let p = s.pickle().encrypt(&KEY);
                measured(|| {
                    for _ in 0..n {
                        black_box(InboundGroupSession::from_pickle(
                            vodozemac::megolm::InboundGroupSessionPickle::from_encrypted(&p, &KEY).unwrap(),
                        ));
                    }
                })
            }
        }
        "dehydrate_50otk" | "rehydrate_50otk" | "rehydrate_legacy_50otk" => {
            let mut a = Account::new();
            a.generate_one_time_keys(50);
            a.generate_fallback_key();
            let d = a.to_dehydrated_device(&KEY).unwrap();
            let legacy = a.to_libolm_pickle(&legacy_key()).unwrap();
            match op {
                "dehydrate_50otk" => measured(|| {
                    for _ in 0..n {
                        black_box(a.to_dehydrated_device(&KEY).unwrap());
                    }
                }),
                "rehydrate_50otk" => measured(|| {
                    for _ in 0..n {
                        black_box(Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &KEY).unwrap());
                    }
                }),
                _ => measured(|| {
                    for _ in 0..n {
                        black_box(Account::from_libolm_pickle(&legacy, &legacy_key()).unwrap());
                    }
                }),
            }
        }
        _ => panic!("unknown operation {op}"),
    }
}

/// The session of `benches/pickle.rs`: Alice after the first message of Bob's new chain, which
/// arrived after 40 others (40 skipped message keys, no sending chain until she answers).
fn cd_session_40skipped() -> caudata::olm::Session {
    let (mut a, mut b) = cd::pair();
    for _ in 0..40 {
        b.encrypt(b"skipped");
    }
    a.decrypt(&b.encrypt(b"last")).unwrap();
    a
}

fn vz_session_40skipped() -> vodozemac::olm::Session {
    let (mut a, mut b) = vz::pair();
    for _ in 0..40 {
        b.encrypt(b"skipped").unwrap();
    }
    a.decrypt(&b.encrypt(b"last").unwrap()).unwrap();
    a
}
