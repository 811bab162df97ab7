//! The authenticated adversary against sender keys and sealed sender, as property tests.
//!
//! The adversary holds every key a real peer holds (the chain's signing key and chain keys; a
//! valid identity key and sender certificate) and builds its messages here, independently of
//! caudata (its own protobuf writer, chain KDF with the `hmac`/`hkdf` crates, AES-CBC/CTR with
//! `aes`/`cbc`, AES-GCM-SIV with `aes-gcm-siv`), choosing every field: iterations at the limit
//! and far past it, repeated and old iterations, unknown chain ids, other distribution ids,
//! versions, truncated and garbage ciphertexts, unknown and duplicated fields, signatures by
//! other keys; sealed envelopes around any content, certificates for other keys, expired or
//! from other servers, mismatched ephemeral keys, swapped parts of two envelopes.
//!
//! Properties, after every step: a refused message leaves the record byte-for-byte as it was
//! (libsignal format and caudata pickle); an accepted one is exactly what a reference model
//! of libsignal's rules predicts, and the record keeps working (the next honest message
//! decrypts, the pickle round-trips); a sealed envelope opens only when the certificate's key
//! is the key that sealed it, and validates only under the trust root before its expiry.
//! `PROPTEST_CASES` scales the number of scenarios.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use caudata::interolm::{
    ContentHint, DeviceId, DistributionId, IdentityKeyPair, MessageType, SealedSenderReceiver, SenderCertificate,
    SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord, ServerCertificate, sealed_sender_decrypt,
    sealed_sender_decrypt_to_usmc,
};
use caudata::primitives::{Curve25519PublicKey, Curve25519SecretKey};
use caudata::{CertificateError, SealedSenderError, SenderKeyError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;

// ------------------------------------------------------------------ a tiny protobuf writer

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn f_varint(out: &mut Vec<u8>, tag: u64, v: u64) {
    varint(out, tag << 3);
    varint(out, v);
}

fn f_bytes(out: &mut Vec<u8>, tag: u64, b: &[u8]) {
    varint(out, tag << 3 | 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn key33(k: &Curve25519PublicKey) -> Vec<u8> {
    [&[5u8][..], k.as_bytes()].concat()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::Mac;
    let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

fn hkdf(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    hkdf::Hkdf::<sha2::Sha256>::new(salt, ikm).expand(info, &mut out).unwrap();
    out
}

// ------------------------------------------------------------------ sender keys

const LIMIT: u32 = 25_000;
const KEPT: usize = 2_000;

/// The adversary's chain: chain keys from iteration 0, the signing key.
struct Chain {
    chain_id: u32,
    signing: Curve25519SecretKey,
    keys: Vec<[u8; 32]>,
}

impl Chain {
    fn new(chain_id: u32, seed: u8) -> Self {
        Self { chain_id, signing: Curve25519SecretKey::new(), keys: vec![[seed; 32]] }
    }

    fn chain_key(&mut self, n: u32) -> [u8; 32] {
        while self.keys.len() <= n as usize {
            let next = hmac(self.keys.last().unwrap(), &[&[2]]);
            self.keys.push(next);
        }
        self.keys[n as usize]
    }

    fn ciphertext(&mut self, n: u32, pt: &[u8]) -> Vec<u8> {
        use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
        let seed = hmac(&self.chain_key(n), &[&[1]]);
        let k = hkdf(None, &seed, b"WhisperGroup", 48);
        let key: [u8; 32] = k[16..].try_into().unwrap();
        let iv: [u8; 16] = k[..16].try_into().unwrap();
        cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into()).encrypt_padded_vec::<Pkcs7>(pt)
    }

    fn skdm(
        &mut self,
        dist: &DistributionId,
        iteration: u32,
        signing: &Curve25519PublicKey,
    ) -> SenderKeyDistributionMessage {
        let mut b = vec![0x33];
        f_bytes(&mut b, 1, dist.as_bytes());
        f_varint(&mut b, 2, self.chain_id.into());
        f_varint(&mut b, 3, iteration.into());
        f_bytes(&mut b, 4, &self.chain_key(iteration));
        f_bytes(&mut b, 5, &key33(signing));
        SenderKeyDistributionMessage::from_bytes(&b).unwrap()
    }
}

#[derive(Clone, Debug)]
enum Iter {
    Next,
    Ahead(u16),
    Behind(u16),
    AtLimit,
    PastLimit(u16),
    Absolute(u32),
}

#[derive(Clone, Debug)]
enum Ct {
    Honest,
    Garbage(u8),
    Truncated,
    Empty,
}

#[derive(Clone, Debug)]
enum Sig {
    Valid,
    Flipped,
    OtherKey,
}

#[derive(Clone, Debug)]
enum Extra {
    None,
    UnknownField,
    DuplicateIteration,
    Reversed,
}

#[derive(Clone, Debug)]
struct Forge {
    version: u8,
    right_dist: bool,
    own_chain: bool,
    iter: Iter,
    ct: Ct,
    sig: Sig,
    extra: Extra,
}

fn forge() -> impl Strategy<Value = Forge> {
    let iter = prop_oneof![
        6 => Just(Iter::Next),
        4 => (1u16..60).prop_map(Iter::Ahead),
        3 => (1u16..80).prop_map(Iter::Behind),
        // A jump to the limit costs 25 000 chain steps on both sides: rare.
        1 => prop_oneof![19 => (60u16..2000).prop_map(Iter::Ahead), 1 => Just(Iter::AtLimit)],
        1 => (0u16..3).prop_map(Iter::PastLimit),
        1 => prop_oneof![Just(0u32), Just(u32::MAX), Just(u32::MAX - 1), Just(1 << 31)].prop_map(Iter::Absolute),
    ];
    let ct = prop_oneof![8 => Just(Ct::Honest), 2 => (1u8..5).prop_map(Ct::Garbage), 1 => Just(Ct::Truncated), 1 => Just(Ct::Empty)];
    let sig = prop_oneof![10 => Just(Sig::Valid), 1 => Just(Sig::Flipped), 1 => Just(Sig::OtherKey)];
    let extra = prop_oneof![8 => Just(Extra::None), 1 => Just(Extra::UnknownField), 1 => Just(Extra::DuplicateIteration), 1 => Just(Extra::Reversed)];
    let version = prop_oneof![12 => Just(0x33u8), 1 => Just(0x3Fu8), 1 => Just(0x23u8), 1 => Just(0x43u8)];
    (version, prop::bool::weighted(0.95), prop::bool::weighted(0.95), iter, ct, sig, extra).prop_map(
        |(version, right_dist, own_chain, iter, ct, sig, extra)| Forge {
            version,
            right_dist,
            own_chain,
            iter,
            ct,
            sig,
            extra,
        },
    )
}

/// libsignal's rules for one chain, as a model: the next iteration and the skipped ones kept.
#[derive(Clone, Debug)]
struct Model {
    next: u32,
    skipped: VecDeque<u32>,
}

impl Model {
    /// Ok(()) if a message at `n` with the right key is accepted, and applies it.
    fn take(&mut self, n: u32) -> Result<(), &'static str> {
        if n < self.next {
            let i = self.skipped.iter().position(|&k| k == n).ok_or("DuplicatedMessage")?;
            self.skipped.remove(i);
            return Ok(());
        }
        if n - self.next > LIMIT {
            return Err("TooFarInFuture");
        }
        if n == u32::MAX {
            return Err("ChainExhausted");
        }
        for k in self.next..n {
            self.skipped.push_back(k);
        }
        while self.skipped.len() > KEPT {
            self.skipped.pop_front();
        }
        self.next = n + 1;
        Ok(())
    }
}

fn kind(e: &SenderKeyError) -> &'static str {
    match e {
        SenderKeyError::Decode(_) => "Decode",
        SenderKeyError::UnknownChain { .. } => "UnknownChain",
        SenderKeyError::WrongDistributionId { .. } => "WrongDistributionId",
        SenderKeyError::InvalidSignature => "InvalidSignature",
        SenderKeyError::DuplicatedMessage { .. } => "DuplicatedMessage",
        SenderKeyError::TooFarInFuture { .. } => "TooFarInFuture",
        SenderKeyError::DecryptionFailed => "DecryptionFailed",
        SenderKeyError::ChainExhausted => "ChainExhausted",
        e => panic!("unexpected error {e:?}"),
    }
}

fn snapshot(r: &SenderKeyRecord) -> (Vec<u8>, Vec<u8>) {
    (r.to_libsignal_bytes().to_vec(), r.pickle().to_unencrypted_bytes().to_vec())
}

/// Runs one scenario; counts the outcomes by kind in `stats`.
fn run_sender_keys(start: u32, forges: &[Forge], stats: &mut BTreeMap<&'static str, usize>) {
    let dist = DistributionId::from_bytes([0x5A; 16]);
    let mut chain = Chain::new(0x0BAD_CAFE, 7);
    let signing = chain.signing.public_key();
    let mut record = SenderKeyRecord::new();
    record.process_distribution_message(&chain.skdm(&dist, start, &signing)).unwrap();
    let mut model = Model { next: start, skipped: VecDeque::new() };
    let other_key = Curve25519SecretKey::new();
    for (step, f) in forges.iter().enumerate() {
        let n = match f.iter {
            Iter::Next => model.next,
            Iter::Ahead(k) => model.next.saturating_add(u32::from(k)),
            Iter::Behind(k) => model.next.saturating_sub(u32::from(k)),
            Iter::AtLimit => model.next.saturating_add(LIMIT),
            Iter::PastLimit(k) => model.next.saturating_add(LIMIT + 1 + u32::from(k)),
            Iter::Absolute(v) => v,
        };
        let pt = format!("step {step} iteration {n}").into_bytes();
        // An honest ciphertext needs the chain key at n: only below 2^20 (the test computes it).
        let honest = matches!(f.ct, Ct::Honest) && n < (1 << 20);
        let ct = match f.ct {
            Ct::Honest if honest => chain.ciphertext(n, &pt),
            Ct::Honest | Ct::Garbage(_) => vec![0xA5; 16 * usize::from(if let Ct::Garbage(k) = f.ct { k } else { 2 })],
            Ct::Truncated => vec![1; 15],
            Ct::Empty => vec![],
        };
        let mut body = Vec::new();
        let d = if f.right_dist { *dist.as_bytes() } else { [0x77; 16] };
        let cid = if f.own_chain { chain.chain_id } else { chain.chain_id ^ 1 };
        match f.extra {
            Extra::Reversed => {
                f_bytes(&mut body, 4, &ct);
                f_varint(&mut body, 3, n.into());
                f_varint(&mut body, 2, cid.into());
                f_bytes(&mut body, 1, &d);
            }
            _ => {
                f_bytes(&mut body, 1, &d);
                f_varint(&mut body, 2, cid.into());
                f_varint(&mut body, 3, n.into());
                f_bytes(&mut body, 4, &ct);
            }
        }
        match f.extra {
            Extra::UnknownField => f_bytes(&mut body, 9, b"from a newer sender"),
            Extra::DuplicateIteration => f_varint(&mut body, 3, n.into()),
            _ => {}
        }
        let mut bytes = vec![f.version];
        bytes.extend_from_slice(&body);
        let mut sig = match f.sig {
            Sig::OtherKey => other_key.sign_xeddsa(&bytes).to_bytes(),
            _ => chain.signing.sign_xeddsa(&bytes).to_bytes(),
        };
        if matches!(f.sig, Sig::Flipped) {
            sig[5] ^= 1;
        }
        bytes.extend_from_slice(&sig);

        // What libsignal's rules say.
        let want: Result<(), &str> = if f.version >> 4 != 3 || matches!(f.extra, Extra::DuplicateIteration) {
            Err("Decode")
        } else if !f.right_dist {
            Err("WrongDistributionId")
        } else if !f.own_chain {
            Err("UnknownChain")
        } else if !matches!(f.sig, Sig::Valid) {
            Err("InvalidSignature")
        } else {
            let mut m = model.clone();
            m.take(n).and(if honest { Ok(()) } else { Err("DecryptionFailed") })
        };

        let before = snapshot(&record);
        let got = SenderKeyMessage::from_bytes(&bytes).map_err(SenderKeyError::from).and_then(|m| record.decrypt(&m));
        match (&got, want) {
            (Ok(p), Ok(())) => {
                assert_eq!(p, &pt, "step {step}: wrong plaintext");
                model.take(n).unwrap();
            }
            // Garbage whose padding happens to be valid: accepted as libsignal would (the
            // signature authenticates it), and consumes the key.
            (Ok(_), Err("DecryptionFailed")) => {
                model.take(n).unwrap();
            }
            (Err(e), Err(w)) => assert_eq!(kind(e), w, "step {step}: {f:?} at {n}"),
            (got, want) => panic!("step {step}: {f:?} at {n}: caudata {got:?}, model {want:?}"),
        }
        *stats
            .entry(match &got {
                Ok(_) => "accepted",
                Err(e) => kind(e),
            })
            .or_default() += 1;
        if got.is_ok() {
            // The record keeps working: the pickle round-trips, and the next fresh iteration
            // decrypts (on a copy).
            let back = SenderKeyRecord::from_pickle(
                caudata::pickle::SenderKeyRecordPickle::from_unencrypted_bytes(&record.pickle().to_unencrypted_bytes())
                    .unwrap(),
            );
            assert_eq!(snapshot(&back), snapshot(&record));
            if model.next < (1 << 20) {
                let mut probe = record.clone();
                let mut b = vec![0x33];
                f_bytes(&mut b, 1, dist.as_bytes());
                f_varint(&mut b, 2, chain.chain_id.into());
                f_varint(&mut b, 3, model.next.into());
                let ct = chain.ciphertext(model.next, b"probe");
                f_bytes(&mut b, 4, &ct);
                let s = chain.signing.sign_xeddsa(&b).to_bytes();
                b.extend_from_slice(&s);
                assert_eq!(probe.decrypt(&SenderKeyMessage::from_bytes(&b).unwrap()).unwrap(), b"probe");
            }
        } else {
            assert_eq!(snapshot(&record), before, "step {step}: a refused message changed the record");
        }
    }
}

#[test]
fn sender_keys_survive_an_authenticated_adversary() {
    const KINDS: [&str; 8] = [
        "accepted",
        "Decode",
        "WrongDistributionId",
        "UnknownChain",
        "InvalidSignature",
        "DuplicatedMessage",
        "TooFarInFuture",
        "DecryptionFailed",
    ];
    // One pass of 24 scenarios missed a rule now and then (measured over 1 000 scenarios:
    // no UnknownChain in 53% of them, no WrongDistributionId in 51%, so none in all 24 about
    // 1 run in 2^21); up to 4 passes of fresh scenarios run until every rule was exercised
    // (a rule still missing then has odds below 2^-85).
    const PASSES: usize = 4;
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24);
    let stats = RefCell::new(BTreeMap::new());
    let strategy = (prop_oneof![Just(0u32), Just(1), 2u32..3000], proptest::collection::vec(forge(), 1..40));
    let mut passes = 0;
    while passes < PASSES && KINDS.iter().any(|k| !stats.borrow().contains_key(k)) {
        passes += 1;
        // a fresh runner each pass (a runner that has run its cases runs no more)
        let mut runner = TestRunner::new(Config { cases, ..Config::default() });
        runner
            .run(&strategy, |(start, forges)| {
                run_sender_keys(start, &forges, &mut stats.borrow_mut());
                Ok(())
            })
            .unwrap();
    }
    let stats = stats.into_inner();
    eprintln!("sender keys, {cases} scenarios a pass, {passes} pass(es): {stats:?}");
    // Every rule was exercised (a check that cannot fail is no check).
    for kind in KINDS {
        assert!(stats.get(kind).copied().unwrap_or(0) > 0, "no {kind} in {stats:?}");
    }
}

/// Distribution messages from an authenticated sender who restarts chains, reuses chain ids
/// with other keys, re-sends old ones, and sends unusable signing keys: the record follows
/// libsignal's rules (same chain and key: kept as it is, moved to the front; same chain id,
/// other key: replaced; at most five states, the oldest dropped) and every live chain keeps
/// decrypting.
#[derive(Clone, Debug)]
enum Skdm {
    NewChain,
    Resend { which: usize, iteration: u32 },
    SameIdOtherKey(usize),
    BadKey(u8),
}

fn skdm() -> impl Strategy<Value = Skdm> {
    prop_oneof![
        4 => Just(Skdm::NewChain),
        3 => (0usize..8, 0u32..40).prop_map(|(which, iteration)| Skdm::Resend { which, iteration }),
        2 => (0usize..8).prop_map(Skdm::SameIdOtherKey),
        1 => (0u8..3).prop_map(Skdm::BadKey),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn distribution_messages_follow_libsignals_rules(steps in proptest::collection::vec(skdm(), 1..25)) {
        let dist = DistributionId::from_bytes([0x11; 16]);
        let mut chains: Vec<Chain> = Vec::new();
        // The model: (chain index, next iteration), newest first.
        let mut model: VecDeque<(usize, u32)> = VecDeque::new();
        let mut record = SenderKeyRecord::new();
        for s in steps {
            let before = snapshot(&record);
            let r = match s {
                Skdm::NewChain => {
                    let c = Chain::new(1000 + chains.len() as u32, chains.len() as u8);
                    chains.push(c);
                    let i = chains.len() - 1;
                    let key = chains[i].signing.public_key();
                    let m = chains[i].skdm(&dist, 0, &key);
                    model.retain(|(j, _)| chains[*j].chain_id != chains[i].chain_id);
                    model.truncate(4);
                    model.push_front((i, 0));
                    record.process_distribution_message(&m)
                }
                Skdm::Resend { which, iteration } if !chains.is_empty() => {
                    let i = which % chains.len();
                    let key = chains[i].signing.public_key();
                    let m = chains[i].skdm(&dist, iteration, &key);
                    let kept = model.iter().position(|(j, _)| *j == i);
                    let state = match kept { Some(p) => model.remove(p).unwrap(), None => (i, iteration) };
                    model.retain(|(j, _)| chains[*j].chain_id != chains[i].chain_id);
                    model.truncate(4);
                    model.push_front(state);
                    record.process_distribution_message(&m)
                }
                Skdm::SameIdOtherKey(which) if !chains.is_empty() => {
                    let i = which % chains.len();
                    let mut c = Chain::new(chains[i].chain_id, 200 + chains.len() as u8);
                    let key = c.signing.public_key();
                    let m = c.skdm(&dist, 0, &key);
                    chains.push(c);
                    let new = chains.len() - 1;
                    model.retain(|(j, _)| chains[*j].chain_id != chains[new].chain_id);
                    model.truncate(4);
                    model.push_front((new, 0));
                    record.process_distribution_message(&m)
                }
                Skdm::BadKey(k) => {
                    let mut c = Chain::new(9999, 1);
                    let bad = match k {
                        0 => Curve25519PublicKey::from_bytes([0; 32]),
                        1 => { let mut b = [0u8; 32]; b[0] = 1; Curve25519PublicKey::from_bytes(b) }
                        _ => { let mut b = [0xFF; 32]; b[31] = 0x7F; Curve25519PublicKey::from_bytes(b) }
                    };
                    let m = c.skdm(&dist, 0, &bad);
                    let r = record.process_distribution_message(&m);
                    prop_assert!(matches!(r, Err(SenderKeyError::InvalidSigningKey(_))));
                    prop_assert_eq!(snapshot(&record), before);
                    continue;
                }
                _ => continue,
            };
            r.unwrap();
            let ids: Vec<u32> = model.iter().map(|(j, _)| chains[*j].chain_id).collect();
            prop_assert_eq!(record.chain_ids(), ids);
            // Every live chain decrypts its next message (on a copy).
            for &(j, next) in &model {
                let mut probe = record.clone();
                let mut b = vec![0x33];
                f_bytes(&mut b, 1, dist.as_bytes());
                f_varint(&mut b, 2, chains[j].chain_id.into());
                f_varint(&mut b, 3, next.into());
                let ct = chains[j].ciphertext(next, b"alive");
                f_bytes(&mut b, 4, &ct);
                let sig = chains[j].signing.sign_xeddsa(&b).to_bytes();
                b.extend_from_slice(&sig);
                prop_assert_eq!(probe.decrypt(&SenderKeyMessage::from_bytes(&b).unwrap()).unwrap(), b"alive".to_vec());
            }
        }
    }
}

// ------------------------------------------------------------------ sealed sender

const NOW: u64 = 1_700_000_000_000;

struct Pki {
    root: Curve25519SecretKey,
    server_key: Curve25519SecretKey,
    server: ServerCertificate,
}

impl Pki {
    fn new() -> Self {
        let root = Curve25519SecretKey::new();
        let server_key = Curve25519SecretKey::new();
        let server = ServerCertificate::new(5, &server_key.public_key(), &root);
        Self { root, server_key, server }
    }

    fn cert(&self, key: &Curve25519PublicKey, expires: u64) -> SenderCertificate {
        SenderCertificate::new(
            "9d0652a3-dcc3-4d11-975f-74d61598733f",
            None,
            DeviceId::PRIMARY,
            key,
            expires,
            self.server.clone(),
            &self.server_key,
        )
    }
}

#[derive(Clone, Debug)]
enum CertPick {
    Valid,
    Expired,
    OtherKey,
    OtherServer,
    Garbage,
}

#[derive(Clone, Debug)]
struct SealedForge {
    v2: bool,
    content_type: u32,
    hint: Option<u32>,
    group: Option<Vec<u8>>,
    contents: Vec<u8>,
    cert: CertPick,
    extra_field: bool,
    seal_with_other_identity: bool,
    /// v1: a small-order ephemeral key; v2: an ephemeral key not derived from M.
    bad_ephemeral: bool,
    tamper: Option<(usize, u8)>,
}

fn sealed_forge() -> impl Strategy<Value = SealedForge> {
    (
        any::<bool>(),
        prop_oneof![4 => prop_oneof![Just(1u32), Just(2), Just(7), Just(8)], 1 => prop_oneof![Just(0u32), Just(3), Just(9), Just(1 << 20)]],
        prop::option::of(prop_oneof![Just(0u32), Just(1), Just(2), any::<u32>()]),
        prop::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        proptest::collection::vec(any::<u8>(), 0..100),
        prop_oneof![6 => Just(CertPick::Valid), 1 => Just(CertPick::Expired), 1 => Just(CertPick::OtherKey), 1 => Just(CertPick::OtherServer), 1 => Just(CertPick::Garbage)],
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
        prop::option::weighted(0.15, (any::<usize>(), 1u8..=255)),
    )
        .prop_map(|(v2, content_type, hint, group, contents, cert, extra_field, seal_with_other_identity, bad_ephemeral, tamper)| SealedForge {
            v2,
            content_type,
            hint,
            group,
            contents,
            cert,
            extra_field,
            seal_with_other_identity,
            bad_ephemeral,
            tamper,
        })
}

fn ctr_hmac(k: &[u8], m: &[u8], pt: &[u8]) -> Vec<u8> {
    let aes = aes::Aes256::new_from_slice(k).unwrap();
    let mut out = pt.to_vec();
    for (i, chunk) in out.chunks_mut(16).enumerate() {
        let mut block = [0u8; 16];
        block[8..].copy_from_slice(&(i as u64).to_be_bytes());
        let mut b = block.into();
        aes.encrypt_block(&mut b);
        for (x, y) in chunk.iter_mut().zip(b.iter()) {
            *x ^= y;
        }
    }
    let tag = hmac(m, &[&out]);
    out.extend_from_slice(&tag[..10]);
    out
}

/// Seals `usmc` (any bytes) from `sender` to `recipient`, v1 or v2, as libsignal does.
fn seal(
    usmc: &[u8],
    sender: &IdentityKeyPair,
    recipient: &Curve25519PublicKey,
    v2: bool,
    bad_ephemeral: bool,
) -> Vec<u8> {
    let s_pub = key33(&sender.public_key());
    let r_pub = key33(recipient);
    if !v2 {
        let e = Curve25519SecretKey::new();
        let e_pub = if bad_ephemeral { Curve25519PublicKey::from_bytes([0; 32]) } else { e.public_key() };
        let dh1 = e.diffie_hellman(recipient).unwrap();
        let k = hkdf(Some(&[&b"UnidentifiedDelivery"[..], &r_pub, &key33(&e_pub)].concat()), dh1.expose(), b"", 96);
        let enc_static = ctr_hmac(&k[32..64], &k[64..], &s_pub);
        let dh2 = sender.secret_key().diffie_hellman(recipient).unwrap();
        let k2 = hkdf(Some(&[&k[..32], &enc_static[..]].concat()), dh2.expose(), b"", 96);
        let enc_msg = ctr_hmac(&k2[32..64], &k2[64..], usmc);
        let mut out = vec![0x11];
        f_bytes(&mut out, 1, &key33(&e_pub));
        f_bytes(&mut out, 2, &enc_static);
        f_bytes(&mut out, 3, &enc_msg);
        out
    } else {
        use aes_gcm_siv::aead::{Aead, KeyInit as _};
        let m = Curve25519SecretKey::new().public_key().to_bytes(); // 32 random bytes
        let r = hkdf(None, &m, b"Sealed Sender v2: r (2023-08)", 32);
        let e = Curve25519SecretKey::from_secret_bytes(&caudata::primitives::SecretBytes::from_slice(&r).unwrap());
        let e_pub = if bad_ephemeral { Curve25519SecretKey::new().public_key() } else { e.public_key() };
        let k = hkdf(None, &m, b"Sealed Sender v2: K", 32);
        let dh = e.diffie_hellman(recipient).unwrap();
        let pad = hkdf(None, &[&dh.expose()[..], &key33(&e_pub), &r_pub].concat(), b"Sealed Sender v2: DH", 32);
        let c: Vec<u8> = pad.iter().zip(m).map(|(a, b)| a ^ b).collect();
        let dhs = sender.secret_key().diffie_hellman(recipient).unwrap();
        let at = hkdf(
            None,
            &[&dhs.expose()[..], &key33(&e_pub), &c, &s_pub, &r_pub].concat(),
            b"Sealed Sender v2: DH-sender",
            16,
        );
        let ct = aes_gcm_siv::Aes256GcmSiv::new_from_slice(&k).unwrap().encrypt(&Default::default(), usmc).unwrap();
        [&[0x22u8][..], &c, &at, e_pub.as_bytes(), &ct].concat()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn sealed_sender_survives_an_authenticated_adversary(forges in proptest::collection::vec(sealed_forge(), 1..6)) {
        let pki = Pki::new();
        let other_pki = Pki::new();
        let adversary = IdentityKeyPair::generate();
        let recipient = IdentityKeyPair::generate();
        for f in forges {
            let cert = match f.cert {
                CertPick::Valid => pki.cert(&adversary.public_key(), NOW + 10).to_bytes(),
                CertPick::Expired => pki.cert(&adversary.public_key(), NOW - 1).to_bytes(),
                CertPick::OtherKey => pki.cert(&IdentityKeyPair::generate().public_key(), NOW + 10).to_bytes(),
                CertPick::OtherServer => other_pki.cert(&adversary.public_key(), NOW + 10).to_bytes(),
                CertPick::Garbage => vec![0x0a, 0x03, 1, 2, 3],
            };
            let mut usmc = Vec::new();
            f_varint(&mut usmc, 1, f.content_type.into());
            f_bytes(&mut usmc, 2, &cert);
            f_bytes(&mut usmc, 3, &f.contents);
            if let Some(h) = f.hint { f_varint(&mut usmc, 4, h.into()); }
            if let Some(g) = &f.group { f_bytes(&mut usmc, 5, g); }
            if f.extra_field { f_bytes(&mut usmc, 12, b"newer"); }
            let sealer = if f.seal_with_other_identity { IdentityKeyPair::generate() } else { adversary.clone() };
            let mut sealed = seal(&usmc, &sealer, &recipient.public_key(), f.v2, f.bad_ephemeral);
            if let Some((i, x)) = f.tamper {
                let i = i % sealed.len();
                sealed[i] ^= x;
            }

            let content_ok = matches!(f.content_type, 1 | 2 | 7 | 8) && !matches!(f.cert, CertPick::Garbage);
            let binding_ok = !f.seal_with_other_identity && !matches!(f.cert, CertPick::OtherKey);
            let envelope_ok = !f.bad_ephemeral && f.tamper.is_none();
            let opened = sealed_sender_decrypt_to_usmc(&sealed, &recipient);
            // Deterministic and stateless.
            prop_assert_eq!(&opened, &sealed_sender_decrypt_to_usmc(&sealed, &recipient));
            match &opened {
                Ok(u) => {
                    // Whatever was changed, an opened envelope is bound to its certificate's
                    // key: the sealing key.
                    prop_assert_eq!(u.sender().identity_key(), sealer.public_key());
                    prop_assert!(content_ok, "{f:?}");
                    if envelope_ok {
                        prop_assert_eq!(u.to_bytes(), usmc.clone());
                        prop_assert_eq!(u.contents(), &f.contents[..]);
                        prop_assert_eq!(u.content_hint(), ContentHint::from_u32(f.hint.unwrap_or(0)));
                        prop_assert_eq!(u.group_id(), f.group.as_deref());
                    }
                }
                Err(e) => {
                    // The honest constructions must open; the others fail for a stated reason.
                    prop_assert!(!(content_ok && binding_ok && envelope_ok), "{f:?}: {e:?}");
                    if content_ok && envelope_ok && !binding_ok {
                        prop_assert!(matches!(e, SealedSenderError::SenderKeyMismatch), "{e:?}");
                    }
                }
            }
            let validated = sealed_sender_decrypt(&sealed, &recipient, &[pki.root.public_key()], NOW, None);
            match (&opened, &validated) {
                (Ok(_), Ok(_)) => prop_assert!(matches!(f.cert, CertPick::Valid), "{f:?}"),
                (Ok(_), Err(SealedSenderError::Certificate(c))) => match f.cert {
                    CertPick::Expired => prop_assert!(matches!(c, CertificateError::Expired { expiration: _, now: NOW }), "{:?}", c),
                    CertPick::OtherServer => prop_assert_eq!(c, &CertificateError::UntrustedServer),
                    _ => prop_assert!(false, "{f:?}: {c:?}"),
                },
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (o, v) => prop_assert!(false, "{f:?}: opened {o:?}, validated {v:?}"),
            }
            let _ = MessageType::Whisper;
        }
    }
}

// ------------------------------------------------------------------ a remembering receiver

/// A sender certificate whose every field is chosen by whoever holds a server certificate's
/// key (a malicious or careless server): signed correctly, whatever it says.
#[derive(Clone, Debug)]
struct CraftedCert {
    e164: Option<String>,
    device: Option<u32>,
    expires: Option<u64>,
    /// 0: the sealer's key, 1: another identity's, 2–4: small-order or non-canonical bytes.
    key: u8,
    uuid: Option<String>,
    extra_field: bool,
    /// Signed by a server certificate under another trust root.
    other_signer: bool,
}

fn crafted_cert() -> impl Strategy<Value = CraftedCert> {
    (
        prop::option::of(prop_oneof![Just("+15551234567".to_string()), Just(String::new()), "[+0-9a-z]{0,12}"]),
        prop::option::weighted(
            0.9,
            prop_oneof![Just(0u32), Just(1), Just(2), Just(127), Just(128), Just(u32::MAX), 1u32..200],
        ),
        prop::option::weighted(
            0.9,
            prop_oneof![Just(0u64), Just(NOW - 1), Just(NOW), Just(NOW + 1), Just(u64::MAX), any::<u64>()],
        ),
        prop_oneof![6 => Just(0u8), 1 => Just(1), 1 => 2u8..5],
        prop::option::weighted(
            0.9,
            prop_oneof![
                Just("9d0652a3-dcc3-4d11-975f-74d61598733f".to_string()),
                Just(SELF_UUID.to_string()),
                Just(String::new()),
                "[0-9a-f-]{0,40}",
            ],
        ),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(e164, device, expires, key, uuid, extra_field, other_signer)| CraftedCert {
            e164,
            device,
            expires,
            key,
            uuid,
            extra_field,
            other_signer,
        })
}

const SELF_UUID: &str = "0d5e1f00-5e1f-4000-8000-00000000001f";

fn crafted_cert_bytes(c: &CraftedCert, pki: &Pki, other_pki: &Pki, sealer: &Curve25519PublicKey) -> Vec<u8> {
    let mut cert = Vec::new();
    if let Some(e) = &c.e164 {
        f_bytes(&mut cert, 1, e.as_bytes());
    }
    if let Some(d) = c.device {
        f_varint(&mut cert, 2, d.into());
    }
    if let Some(x) = c.expires {
        varint(&mut cert, 3 << 3 | 1);
        cert.extend_from_slice(&x.to_le_bytes());
    }
    let key = match c.key {
        0 => key33(sealer),
        1 => key33(&IdentityKeyPair::generate().public_key()),
        2 => [&[5u8][..], &[0u8; 32]].concat(),
        3 => [&[5u8][..], &{
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        }]
        .concat(),
        _ => [&[5u8][..], &{
            let mut b = [0xFFu8; 32];
            b[0] = 0xEC;
            b[31] = 0x7F;
            b
        }]
        .concat(),
    };
    f_bytes(&mut cert, 4, &key);
    let signer = if c.other_signer { other_pki } else { pki };
    f_bytes(&mut cert, 5, &signer.server.to_bytes());
    if let Some(u) = &c.uuid {
        f_bytes(&mut cert, 6, u.as_bytes());
    }
    if c.extra_field {
        f_bytes(&mut cert, 15, b"newer");
    }
    let sig = signer.server_key.sign_xeddsa(&cert).to_bytes();
    let mut out = Vec::new();
    f_bytes(&mut out, 1, &cert);
    f_bytes(&mut out, 2, &sig);
    out
}

/// One envelope to the remembering receiver.
#[derive(Clone, Debug)]
enum ReceiverStep {
    /// From one of three honest senders with valid certificates: must open.
    Honest { sender: usize, v2: bool },
    /// The authenticated adversary of `sealed_sender_survives_an_authenticated_adversary`.
    Forge(SealedForge),
    /// The adversary holds the server's key too and writes the certificate itself.
    Crafted { cert: CraftedCert, v2: bool, content_type: u32 },
    /// An outsider's v1 envelope: the first layer is valid (it needs only the recipient's
    /// public key), its static layer names a key of the outsider's choice, the message layer
    /// is garbage. Refused; the named key must not be remembered.
    Outsider { key: u8 },
}

fn receiver_step() -> impl Strategy<Value = ReceiverStep> {
    prop_oneof![
        3 => (0usize..3, any::<bool>()).prop_map(|(sender, v2)| ReceiverStep::Honest { sender, v2 }),
        3 => sealed_forge().prop_map(ReceiverStep::Forge),
        4 => (crafted_cert(), any::<bool>(), prop_oneof![4 => Just(2u32), 1 => Just(1), 1 => Just(7), 1 => Just(8)])
            .prop_map(|(cert, v2, content_type)| ReceiverStep::Crafted { cert, v2, content_type }),
        2 => any::<u8>().prop_map(|key| ReceiverStep::Outsider { key }),
    ]
}

fn usmc_bytes(content_type: u32, cert: &[u8], contents: &[u8]) -> Vec<u8> {
    let mut usmc = Vec::new();
    f_varint(&mut usmc, 1, content_type.into());
    f_bytes(&mut usmc, 2, cert);
    f_bytes(&mut usmc, 3, contents);
    usmc
}

fn outsider_v1(recipient: &Curve25519PublicKey, named: &Curve25519PublicKey, garbage: u8) -> Vec<u8> {
    let e = Curve25519SecretKey::new();
    let dh1 = e.diffie_hellman(recipient).unwrap();
    let k = hkdf(
        Some(&[&b"UnidentifiedDelivery"[..], &key33(recipient), &key33(&e.public_key())].concat()),
        dh1.expose(),
        b"",
        96,
    );
    let enc_static = ctr_hmac(&k[32..64], &k[64..], &key33(named));
    let mut out = vec![0x11];
    f_bytes(&mut out, 1, &key33(&e.public_key()));
    f_bytes(&mut out, 2, &enc_static);
    f_bytes(&mut out, 3, &[garbage; 40]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A `SealedSenderReceiver` (which remembers validated certificates and senders'
    /// Diffie-Hellman results) against the authenticated adversary, one holding a server's
    /// certificate key as well, and outsiders: it decides every envelope exactly as the
    /// stateless functions do; a refused envelope (undecryptable, a certificate that does not
    /// validate, a self-send) leaves what it remembers byte-for-byte unchanged; honest senders
    /// keep getting through.
    #[test]
    fn a_remembering_receiver_survives_the_adversary(steps in proptest::collection::vec(receiver_step(), 1..12)) {
        let pki = Pki::new();
        let other_pki = Pki::new();
        let adversary = IdentityKeyPair::generate();
        let recipient = IdentityKeyPair::generate();
        let roots = [pki.root.public_key()];
        let local = caudata::interolm::ProtocolAddress::new(SELF_UUID, DeviceId::PRIMARY);
        let honest: Vec<(IdentityKeyPair, SenderCertificate)> = (0..3)
            .map(|_| {
                let id = IdentityKeyPair::generate();
                let cert = pki.cert(&id.public_key(), NOW + 10);
                (id, cert)
            })
            .collect();
        let mut rx = SealedSenderReceiver::new(recipient.clone(), roots.to_vec());
        let mut rx_usmc = SealedSenderReceiver::new(recipient.clone(), roots.to_vec());
        for step in steps {
            let (sealed, must_open, crafted) = match &step {
                ReceiverStep::Honest { sender, v2 } => {
                    let (id, cert) = &honest[*sender];
                    let usmc = usmc_bytes(2, &cert.to_bytes(), b"honest");
                    (seal(&usmc, id, &recipient.public_key(), *v2, false), true, None)
                }
                ReceiverStep::Forge(f) => {
                    let cert = match f.cert {
                        CertPick::Valid => pki.cert(&adversary.public_key(), NOW + 10).to_bytes(),
                        CertPick::Expired => pki.cert(&adversary.public_key(), NOW - 1).to_bytes(),
                        CertPick::OtherKey => pki.cert(&IdentityKeyPair::generate().public_key(), NOW + 10).to_bytes(),
                        CertPick::OtherServer => other_pki.cert(&adversary.public_key(), NOW + 10).to_bytes(),
                        CertPick::Garbage => vec![0x0a, 0x03, 1, 2, 3],
                    };
                    let usmc = usmc_bytes(f.content_type, &cert, &f.contents);
                    let sealer = if f.seal_with_other_identity { IdentityKeyPair::generate() } else { adversary.clone() };
                    let mut sealed = seal(&usmc, &sealer, &recipient.public_key(), f.v2, f.bad_ephemeral);
                    if let Some((i, x)) = f.tamper {
                        let i = i % sealed.len();
                        sealed[i] ^= x;
                    }
                    (sealed, false, None)
                }
                ReceiverStep::Crafted { cert, v2, content_type } => {
                    let bytes = crafted_cert_bytes(cert, &pki, &other_pki, &adversary.public_key());
                    let usmc = usmc_bytes(*content_type, &bytes, b"crafted");
                    (seal(&usmc, &adversary, &recipient.public_key(), *v2, false), false, Some(cert.clone()))
                }
                ReceiverStep::Outsider { key } => {
                    let named = if key % 2 == 0 {
                        IdentityKeyPair::generate().public_key()
                    } else {
                        honest[usize::from(*key) % 3].0.public_key()
                    };
                    (outsider_v1(&recipient.public_key(), &named, *key), false, None)
                }
            };

            let before = rx.remembered_for_testing();
            let got = rx.decrypt(&sealed, NOW, Some(&local));
            let stateless = sealed_sender_decrypt(&sealed, &recipient, &roots, NOW, Some(&local));
            prop_assert_eq!(&got, &stateless, "{:?}", step);
            if got.is_err() {
                prop_assert_eq!(rx.remembered_for_testing(), before, "a refused envelope changed the receiver: {:?}", step);
            }
            if must_open {
                prop_assert!(got.is_ok(), "{:?}: {:?}", step, got);
            }
            if matches!(step, ReceiverStep::Outsider { .. }) {
                prop_assert!(got.is_err());
            }
            if let (Some(c), Ok(u)) = (&crafted, &got) {
                // what validated is what the certificate rules allow
                prop_assert!(c.device.is_some_and(|d| (1..=127).contains(&d)), "{:?}", c);
                prop_assert!(c.expires.is_some_and(|x| x >= NOW), "{:?}", c);
                prop_assert!(c.key == 0 && !c.other_signer, "{:?}", c);
                prop_assert!(!(c.uuid.as_deref() == Some(SELF_UUID) && c.device == Some(1)), "a self-send got through");
                prop_assert_eq!(u.sender().identity_key(), adversary.public_key());
            }

            let before = rx_usmc.remembered_for_testing();
            let got = rx_usmc.decrypt_to_usmc(&sealed);
            prop_assert_eq!(&got, &sealed_sender_decrypt_to_usmc(&sealed, &recipient), "{:?}", step);
            if got.is_err() {
                prop_assert_eq!(rx_usmc.remembered_for_testing(), before, "a refused envelope changed the receiver: {:?}", step);
            }
        }
        // what it remembers still works for every honest sender
        for (id, cert) in &honest {
            let usmc = usmc_bytes(2, &cert.to_bytes(), b"after");
            let sealed = seal(&usmc, id, &recipient.public_key(), true, false);
            prop_assert!(rx.decrypt(&sealed, NOW, Some(&local)).is_ok());
        }
    }
}

/// Writes the seed corpora of the sender-key and sealed-sender fuzz targets
/// (`fuzz/corpus/<target>/seed-NN`); the other targets' seeds are `fuzz_corpus`'s.
#[test]
#[ignore = "rewrites the checked-in seed corpora of four fuzz targets"]
fn generate_groups_seed_corpus() {
    for name in ["decode_sender_key", "decrypt_sender_key", "decode_sealed_sender", "decrypt_sealed_sender"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in caudata::fuzzing::seeds(name).iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), s).unwrap();
        }
    }
}

/// The fuzz fixtures work (so that the fuzz targets start from states that decrypt).
#[test]
fn fuzz_fixtures_decrypt() {
    let f = caudata::fuzzing::sender_key_fixture();
    let mut r = f.receiver.clone();
    for m in f.messages.iter().rev() {
        r.decrypt(&SenderKeyMessage::from_bytes(m).unwrap()).unwrap();
    }
    let s = caudata::fuzzing::sealed_fixture();
    for e in &s.envelopes {
        assert_eq!(sealed_sender_decrypt(e, &s.recipient, &[s.trust_root], NOW, None).unwrap(), s.content);
    }
    let d = caudata::interolm::multi_recipient_message_for_recipient(&s.multi).unwrap();
    assert_eq!((d.len(), d[0].devices.len(), d[1].message.is_none()), (2, 2, true));
    let one = d[0].message.clone().unwrap();
    assert_eq!(sealed_sender_decrypt(&one, &s.recipient, &[s.trust_root], NOW, None).unwrap(), s.content);
}
