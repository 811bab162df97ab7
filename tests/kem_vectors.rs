//! Known answers for caudata's two KEMs, through its own wrappers:
//!
//! * **Kyber1024, NIST PQC round 3** (libsignal's PQXDH KEM): the 100 vectors of the Kyber
//!   team's `PQCkemKAT_3168.rsp` (test-vectors/kem/kyber1024_round3_kat.json, see its
//!   generate.py). Each vector's NIST AES-256-CTR DRBG is rebuilt from its seed and drives
//!   `Kyber1024SecretKey::generate` and `Kyber1024PublicKey::encapsulate` through caudata's
//!   `RandomSource`; pk, sk, ct and the shared secret must match, decapsulation must return the
//!   same secret, and the whole `.rsp` file rebuilt from caudata's outputs must have the
//!   published SHA-256.
//! * **ML-KEM-768 "unlucky" vector** (C2SP CCTV, test-vectors/kem/mlkem768_unluckysample.txt):
//!   a key whose matrix Â needs more than 575 bytes of SHAKE-128 in SampleNTT (probability
//!   2^-38), through the split encapsulation and the decapsulation (with its re-encryption)
//!   SPQR uses; both sample Â from the ρ of the key. The vector's key generation from (d, z)
//!   predates FIPS 203's domain separator in K-PKE.KeyGen (`G(d ‖ k)`), so caudata's final-FIPS
//!   key generation rightly gives another key from the same (d, z); FIPS 203 key generation is
//!   checked by Wycheproof's ML-KEM-768 vectors in tests/wycheproof.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use aes::Aes256;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use caudata::hazmat;
use caudata::interolm::{Kyber1024Ciphertext, Kyber1024SecretKey};
use caudata::primitives::RandomSource;
use sha2::{Digest, Sha256};

/// NIST's `AES256_CTR_DRBG` (the `randombytes` of the PQC KAT generator), without derivation
/// function and prediction resistance, as in its `rng.c`.
struct NistDrbg {
    key: [u8; 32],
    v: [u8; 16],
}

impl NistDrbg {
    fn new(seed: &[u8; 48]) -> Self {
        let mut d = Self { key: [0; 32], v: [0; 16] };
        d.update(Some(seed));
        d
    }

    fn increment(&mut self) {
        for b in self.v.iter_mut().rev() {
            let (n, carry) = b.overflowing_add(1);
            *b = n;
            if !carry {
                break;
            }
        }
    }

    fn block(&mut self) -> [u8; 16] {
        self.increment();
        let mut block = aes::Block::from(self.v);
        Aes256::new(&self.key.into()).encrypt_block(&mut block);
        block.into()
    }

    fn update(&mut self, provided: Option<&[u8; 48]>) {
        let mut temp = [0u8; 48];
        for chunk in temp.chunks_mut(16) {
            chunk.copy_from_slice(&self.block());
        }
        if let Some(p) = provided {
            temp.iter_mut().zip(p).for_each(|(t, p)| *t ^= p);
        }
        self.key.copy_from_slice(&temp[..32]);
        self.v.copy_from_slice(&temp[32..]);
    }

    /// One `randombytes(out, len)` call.
    fn randombytes(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(16) {
            let b = self.block();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        self.update(None);
    }
}

/// The reference implementation draws 32 bytes per `randombytes` call (d, then z, at key
/// generation; m at encapsulation); caudata asks for d ‖ z at once, so a request is served as
/// 32-byte calls.
impl RandomSource for NistDrbg {
    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.randombytes(chunk);
        }
    }
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[test]
fn kyber1024_round3_kat() {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("../test-vectors/kem/kyber1024_round3_kat.json")).unwrap();
    let vectors = v["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 100);
    let mut rsp = String::new();
    for t in vectors {
        let count = t["count"].as_u64().unwrap();
        let seed: [u8; 48] = h(t["seed"].as_str().unwrap()).try_into().unwrap();
        let mut drbg = NistDrbg::new(&seed);
        let sk = Kyber1024SecretKey::generate(&mut drbg);
        let pk = sk.public_key();
        let (ct, ss) = pk.encapsulate(&mut drbg);
        // caudata's serializations carry libsignal's type byte 0x08 in front
        let (pk_b, sk_b, ct_b) = (pk.to_bytes(), sk.to_bytes(), ct.to_bytes());
        let (pk_b, sk_b, ct_b) = (&pk_b[1..], &sk_b[1..], &ct_b[1..]);
        assert_eq!(sha256_hex(pk_b), t["pk_sha256"].as_str().unwrap(), "count {count}: pk");
        assert_eq!(sha256_hex(sk_b), t["sk_sha256"].as_str().unwrap(), "count {count}: sk");
        assert_eq!(sha256_hex(ct_b), t["ct_sha256"].as_str().unwrap(), "count {count}: ct");
        assert_eq!(hex::encode(ss.expose()), t["ss"].as_str().unwrap(), "count {count}: ss");
        assert_eq!(sk.decapsulate(&ct).expose(), ss.expose(), "count {count}: decapsulation");
        // a stored key decapsulates the same; a changed ciphertext gives another secret
        // (implicit rejection), the same one every time
        let stored = Kyber1024SecretKey::from_bytes(&sk.to_bytes()).unwrap();
        assert_eq!(stored.decapsulate(&ct).expose(), ss.expose());
        let mut bad = ct.to_bytes();
        bad[1 + (count as usize * 13) % 1568] ^= 1;
        let bad = Kyber1024Ciphertext::from_bytes(&bad).unwrap();
        assert_ne!(sk.decapsulate(&bad).expose(), ss.expose(), "count {count}: a changed ciphertext");
        assert_eq!(sk.decapsulate(&bad).expose(), stored.decapsulate(&bad).expose());
        let up = |b: &[u8]| hex::encode_upper(b);
        rsp.push_str(&format!(
            "count = {count}\nseed = {}\npk = {}\nsk = {}\nct = {}\nss = {}\n\n",
            up(&seed),
            up(pk_b),
            up(sk_b),
            up(ct_b),
            up(ss.expose())
        ));
    }
    assert_eq!(sha256_hex(rsp.as_bytes()), v["rsp_sha256"].as_str().unwrap(), "the rebuilt PQCkemKAT_3168.rsp");
    eprintln!("Kyber1024 round 3: 100 of 100 NIST KAT vectors (pk, sk, ct, ss, decapsulation; whole .rsp rebuilt)");
}

#[test]
fn mlkem768_unlucky_sample() {
    let text = include_str!("../test-vectors/kem/mlkem768_unluckysample.txt");
    let field = |name: &str| {
        let line = text.lines().find(|l| l.starts_with(&format!("{name} = "))).unwrap();
        h(&line[name.len() + 3..])
    };
    let (ek, dk, m, k, c) = (field("ek"), field("dk"), field("m"), field("K"), field("c"));
    // the key in dk is the ek given (decapsulation checks its hash)
    assert_eq!(&dk[1152..2336], &ek[..]);
    let header = [&ek[1152..], &sha3::Sha3_256::digest(&ek)[..]].concat();
    let (our_c, our_k) = hazmat::mlkem768_encapsulate(&header, &ek[..1152], &m.try_into().unwrap()).unwrap();
    assert_eq!((&our_c[..], &our_k[..]), (&c[..], &k[..]), "encapsulation");
    assert_eq!(hazmat::mlkem768_decapsulate(&dk, &c).unwrap(), &k[..], "decapsulation");
    eprintln!("ML-KEM-768 unlucky sample (C2SP CCTV): encapsulation and decapsulation");
}
