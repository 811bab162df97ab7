//! Instruction counts for SAS and key backup (a module of `instructions.rs`, same protocol:
//! inputs prepared outside `measured`, `n` operations inside).

use std::hint::black_box;

use super::measured;

pub(crate) const OPS: &[&str] = &[
    "sas_new",
    "sas_diffie_hellman",
    "sas_bytes_and_macs",
    "pk_encrypt_backup_key",
    "pk_decrypt_backup_key",
    "pk_decrypt_from_key",
];

const INFO: &str =
    "MATRIX_KEY_VERIFICATION_MAC@alice:example.orgALICEDEVICE@bob:example.orgBOBDEVICE$txn-0001ed25519:ALICEDEVICE";
const INPUT: &str = "PgTCPEAtzxYPBCJt5Kcp2ih5V3iNTrpOf9GtaaJ3zVs";
const RAW: [u8; 32] = [0x5c; 32];

fn backup_plaintext() -> Vec<u8> {
    br#"{"algorithm":"m.megolm.v1.aes-sha2","forwarding_curve25519_key_chain":[],"sender_claimed_keys":{"ed25519":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"sender_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","session_key":"AQAAAA"}"#.to_vec()
}

/// Runs `op` for `lib` if it is one of these; `false` otherwise.
pub(crate) fn run(op: &str, lib: &str, n: usize) -> bool {
    if !OPS.contains(&op) {
        return false;
    }
    match lib {
        "caudata" => caudata(op, n),
        "vodozemac" => vodozemac(op, n),
        _ => panic!("library: caudata or vodozemac"),
    }
    true
}

fn caudata(op: &str, n: usize) {
    use caudata::pk_encryption::{PkDecryption, PkEncryption};
    use caudata::sas::Sas;
    let peer = Sas::new().public_key();
    let dec = PkDecryption::from_key(caudata::Curve25519SecretKey::from_bytes(&RAW));
    let enc = PkEncryption::from_key(dec.public_key()).unwrap();
    let pt = backup_plaintext();
    match op {
        "sas_new" => measured(|| {
            for _ in 0..n {
                black_box(Sas::new().public_key());
            }
        }),
        "sas_diffie_hellman" => {
            let all: Vec<Sas> = (0..n).map(|_| Sas::new()).collect();
            measured(|| {
                for s in all {
                    black_box(s.diffie_hellman(peer).unwrap());
                }
            })
        }
        "sas_bytes_and_macs" => {
            let e = Sas::new().diffie_hellman(peer).unwrap();
            let mac = e.calculate_mac(INPUT, INFO);
            measured(|| {
                for _ in 0..n {
                    black_box(e.bytes(INFO).decimals());
                    black_box(e.calculate_mac(INPUT, INFO).to_base64());
                    black_box(e.calculate_mac_invalid_base64(INPUT, INFO));
                    e.verify_mac(INPUT, INFO, &mac).unwrap();
                }
            })
        }
        "pk_encrypt_backup_key" => measured(|| {
            for _ in 0..n {
                black_box(enc.encrypt(&pt));
            }
        }),
        "pk_decrypt_backup_key" | "pk_decrypt_from_key" => {
            let m = enc.encrypt(&pt);
            let rebuild = op == "pk_decrypt_from_key";
            measured(|| {
                for _ in 0..n {
                    if rebuild {
                        let d = PkDecryption::from_key(caudata::Curve25519SecretKey::from_bytes(&RAW));
                        black_box(d.decrypt(&m).unwrap());
                    } else {
                        black_box(dec.decrypt(&m).unwrap());
                    }
                }
            })
        }
        _ => unreachable!(),
    }
}

fn vodozemac(op: &str, n: usize) {
    use vodozemac::pk_encryption::{Message, PkDecryption, PkEncryption};
    use vodozemac::sas::Sas;
    let peer = Sas::new().public_key();
    let dec = PkDecryption::from_key(vodozemac::Curve25519SecretKey::from_slice(&RAW));
    let enc = PkEncryption::from_key(dec.public_key());
    let pt = backup_plaintext();
    match op {
        "sas_new" => measured(|| {
            for _ in 0..n {
                black_box(Sas::new().public_key());
            }
        }),
        "sas_diffie_hellman" => {
            let all: Vec<Sas> = (0..n).map(|_| Sas::new()).collect();
            measured(|| {
                for s in all {
                    black_box(s.diffie_hellman(peer).unwrap());
                }
            })
        }
        "sas_bytes_and_macs" => {
            let e = Sas::new().diffie_hellman(peer).unwrap();
            let mac = e.calculate_mac(INPUT, INFO);
            measured(|| {
                for _ in 0..n {
                    black_box(e.bytes(INFO).decimals());
                    black_box(e.calculate_mac(INPUT, INFO).to_base64());
                    black_box(e.calculate_mac_invalid_base64(INPUT, INFO));
                    e.verify_mac(INPUT, INFO, &mac).unwrap();
                }
            })
        }
        "pk_encrypt_backup_key" => measured(|| {
            for _ in 0..n {
                black_box(enc.encrypt(&pt).unwrap());
            }
        }),
        "pk_decrypt_backup_key" | "pk_decrypt_from_key" => {
            let m = enc.encrypt(&pt).unwrap();
            let m = Message { ciphertext: m.ciphertext, mac: m.mac, ephemeral_key: m.ephemeral_key };
            let rebuild = op == "pk_decrypt_from_key";
            measured(|| {
                for _ in 0..n {
                    if rebuild {
                        let d = PkDecryption::from_key(vodozemac::Curve25519SecretKey::from_slice(&RAW));
                        black_box(d.decrypt(&m).unwrap());
                    } else {
                        black_box(dec.decrypt(&m).unwrap());
                    }
                }
            })
        }
        _ => unreachable!(),
    }
}
