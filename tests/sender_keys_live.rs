//! Live interoperability of sender keys (libsignal groups) with libsignal 0.72.1, 0.90.0, 0.92.2
//! and 0.103.0 (`groupEncrypt` / `groupDecrypt` / `SenderKeyDistributionMessage` /
//! `SenderKeyRecord`), through `interop/libsignal/groups.mjs`.
//!
//! * A four-member group, two caudata members and two libsignal members, each sending; every
//!   message delivered to every other member in a shuffled order, replays refused by both.
//! * Records moved between the implementations in libsignal's storage format, byte for byte:
//!   receivers' records and senders' own records, the conversation continuing after the move.
//! * Bad input on both sides: wrong distribution id, unknown chain, replays, jumps past the
//!   limit, forged signatures, truncated messages, wrong versions — the same refusals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod groups_common;
mod libsignal_peer;

use std::collections::BTreeMap;

use caudata::SenderKeyError;
use caudata::interolm::{DistributionId, SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord};
use groups_common::{LIBS, shuffle};
use libsignal_peer::{Peer, bytes};
use serde_json::json;

/// A group member: caudata (its own record and one record per other sender) or a libsignal
/// party in the peer.
enum Member {
    Caudata { own: SenderKeyRecord, views: BTreeMap<String, SenderKeyRecord> },
    Libsignal { p: String },
}

struct Group {
    dist: DistributionId,
    names: Vec<String>,
    members: Vec<Member>,
}

impl Group {
    fn new(peer: &mut Peer, lib: &str, kinds: &[bool], tag: &str) -> Self {
        let dist = DistributionId::random_v4();
        let mut names = Vec::new();
        let mut members = Vec::new();
        for (i, &caudata) in kinds.iter().enumerate() {
            let name = format!("{tag}-{}{i}", if caudata { "c" } else { "l" });
            if caudata {
                members.push(Member::Caudata { own: SenderKeyRecord::new(), views: BTreeMap::new() });
            } else {
                let p = format!("{name}@{lib}");
                peer.call(json!({"cmd": "new_party", "p": p, "lib": lib, "name": name}));
                members.push(Member::Libsignal { p });
            }
            names.push(name);
        }
        let mut g = Self { dist, names, members };
        g.distribute(peer);
        g
    }

    /// Every member makes its distribution message and every other member processes it.
    fn distribute(&mut self, peer: &mut Peer) {
        let mut skdms = Vec::new();
        for m in &mut self.members {
            let skdm = match m {
                Member::Caudata { own, .. } => own.create_distribution_message(self.dist).unwrap().to_bytes().to_vec(),
                Member::Libsignal { p } => bytes(
                    &peer.call(json!({"cmd": "sk_create", "p": p, "distribution_id": self.dist.to_string()}))["skdm"],
                ),
            };
            skdms.push(skdm);
        }
        for (r, m) in self.members.iter_mut().enumerate() {
            for (s, skdm) in skdms.iter().enumerate() {
                if r == s {
                    continue;
                }
                match m {
                    Member::Caudata { views, .. } => {
                        let d = SenderKeyDistributionMessage::from_bytes(skdm).unwrap();
                        assert_eq!(d.distribution_id(), self.dist);
                        views.entry(self.names[s].clone()).or_default().process_distribution_message(&d).unwrap();
                    }
                    Member::Libsignal { p } => {
                        peer.call(json!({"cmd": "sk_process", "p": p, "sender_name": self.names[s], "sender_device": 1, "skdm": hex::encode(skdm)}));
                    }
                }
            }
        }
    }

    fn send(&mut self, peer: &mut Peer, sender: usize, pt: &[u8]) -> Vec<u8> {
        match &mut self.members[sender] {
            Member::Caudata { own, .. } => own.encrypt(self.dist, pt).unwrap().to_bytes(),
            Member::Libsignal { p } => {
                let r = peer.call(json!({"cmd": "sk_encrypt", "p": p, "distribution_id": self.dist.to_string(), "pt": hex::encode(pt)}));
                assert_eq!(r["type"], 7);
                bytes(&r["body"])
            }
        }
    }

    /// Decrypts at `receiver`; `Err` carries caudata's error or libsignal's error code name.
    fn receive(&mut self, peer: &mut Peer, receiver: usize, sender: usize, body: &[u8]) -> Result<Vec<u8>, String> {
        let sender_name = self.names[sender].clone();
        match &mut self.members[receiver] {
            Member::Caudata { views, .. } => {
                let view = views.get_mut(&sender_name).unwrap();
                let before = view.to_libsignal_bytes();
                let r = SenderKeyMessage::from_bytes(body).map_err(SenderKeyError::from).and_then(|m| view.decrypt(&m));
                if r.is_err() {
                    assert_eq!(*view.to_libsignal_bytes(), *before, "a refused message changed the record");
                }
                r.map_err(|e| format!("{e:?}"))
            }
            Member::Libsignal { p } => {
                let r = peer.request(json!({"cmd": "sk_decrypt", "p": p, "sender_name": sender_name, "sender_device": 1, "body": hex::encode(body)}));
                if r["ok"] == true { Ok(bytes(&r["pt"])) } else { Err(format!("{} | {}", r["code_name"], r["error"])) }
            }
        }
    }

    /// Every member sends `per_sender` messages; each reaches every other member in a shuffled
    /// order; then one replay per receiver is refused.
    fn round(&mut self, peer: &mut Peer, per_sender: usize, seed: u64) -> usize {
        let n = self.members.len();
        let mut sent = Vec::new();
        for k in 0..per_sender {
            for s in 0..n {
                let pt = format!("{} says {k} (round {seed})", self.names[s]).into_bytes();
                sent.push((s, self.send(peer, s, &pt), pt));
            }
        }
        let mut delivered = 0;
        for r in 0..n {
            let mut order: Vec<usize> = (0..sent.len()).filter(|&i| sent[i].0 != r).collect();
            shuffle(&mut order, seed ^ (r as u64 * 0x9E37));
            for &i in &order {
                let (s, body, pt) = &sent[i];
                assert_eq!(self.receive(peer, r, *s, body).as_deref(), Ok(pt.as_slice()), "member {r} from {s}");
                delivered += 1;
            }
            let (s, body, _) = &sent[order[0]];
            let err = self.receive(peer, r, *s, body).unwrap_err();
            assert!(err.contains("Duplicat"), "replay at member {r}: {err}");
        }
        delivered
    }
}

#[test]
fn four_member_groups_with_every_version() {
    let mut peer = Peer::start_groups();
    for (v, lib) in LIBS.iter().enumerate() {
        let mut g = Group::new(&mut peer, lib, &[true, false, true, false], &format!("g{v}"));
        let delivered = g.round(&mut peer, 6, 1 + v as u64) + g.round(&mut peer, 3, 100 + v as u64);
        assert_eq!(delivered, (6 + 3) * 4 * 3);
    }
}

#[test]
fn records_move_between_implementations_byte_for_byte() {
    let mut peer = Peer::start_groups();
    for (v, lib) in LIBS.iter().enumerate() {
        // c0 (caudata), l1 (libsignal), l2 (libsignal).
        let mut g = Group::new(&mut peer, lib, &[true, false, false], &format!("m{v}"));
        g.round(&mut peer, 4, 7);
        let dist = g.dist.to_string();
        let (c0, l1, l2) = (g.names[0].clone(), g.names[1].clone(), g.names[2].clone());
        let p1 = format!("{l1}@{lib}");
        let p2 = format!("{l2}@{lib}");

        // 1. l2's record of sender l1 → caudata: it continues to decrypt l1's messages, and it
        //    re-serializes to the very same bytes.
        let raw = bytes(
            &peer.call(
                json!({"cmd": "sk_record", "p": p2, "sender_name": l1, "sender_device": 1, "distribution_id": dist}),
            )["record"],
        );
        let mut imported = SenderKeyRecord::from_libsignal_bytes(&raw, g.dist).unwrap();
        assert_eq!(*imported.to_libsignal_bytes(), raw, "{lib}: libsignal record re-encoding");
        let m = g.send(&mut peer, 1, b"after the move");
        assert_eq!(imported.decrypt(&SenderKeyMessage::from_bytes(&m).unwrap()).unwrap(), b"after the move");

        // 2. caudata's record of sender l1 → libsignal l2, which takes it byte for byte and
        //    decrypts l1's next message with it.
        let Member::Caudata { views, own } = &mut g.members[0] else { unreachable!() };
        let ours = views[&l1].to_libsignal_bytes();
        let r = peer.call(json!({"cmd": "sk_set_record", "p": p2, "sender_name": l1, "sender_device": 1, "distribution_id": dist, "record": hex::encode(&*ours)}));
        assert_eq!(bytes(&r["reserialized"]), *ours, "{lib}: libsignal re-serializes caudata's record unchanged");

        // 3. c0's own (sending) record → a libsignal party with c0's name, which sends with it;
        //    l1 and l2 read those messages.
        let own_bytes = own.to_libsignal_bytes();
        let pm = format!("{c0}-moved@{lib}");
        peer.call(json!({"cmd": "new_party", "p": pm, "lib": lib, "name": c0}));
        peer.call(json!({"cmd": "sk_set_record", "p": pm, "sender_name": c0, "sender_device": 1, "distribution_id": dist, "record": hex::encode(&*own_bytes)}));
        let moved = bytes(&peer.call(json!({"cmd": "sk_encrypt", "p": pm, "distribution_id": dist, "pt": hex::encode(b"sent by libsignal with caudata's chain")}))["body"]);
        for p in [&p1, &p2] {
            let r = peer.call(json!({"cmd": "sk_decrypt", "p": p, "sender_name": c0, "sender_device": 1, "body": hex::encode(&moved)}));
            assert_eq!(bytes(&r["pt"]), b"sent by libsignal with caudata's chain");
        }
        // The message's iteration follows c0's own chain.
        assert_eq!(SenderKeyMessage::from_bytes(&moved).unwrap().iteration(), own.current_iteration().unwrap());

        // 4. l1's own record → caudata, which sends with it; l2 reads that.
        let raw = bytes(
            &peer.call(
                json!({"cmd": "sk_record", "p": p1, "sender_name": l1, "sender_device": 1, "distribution_id": dist}),
            )["record"],
        );
        let mut l1_own = SenderKeyRecord::from_libsignal_bytes(&raw, g.dist).unwrap();
        assert!(l1_own.can_send());
        let m = l1_own.encrypt(g.dist, b"sent by caudata with libsignal's chain").unwrap().to_bytes();
        let r = peer.call(
            json!({"cmd": "sk_decrypt", "p": p2, "sender_name": l1, "sender_device": 1, "body": hex::encode(&m)}),
        );
        assert_eq!(bytes(&r["pt"]), b"sent by caudata with libsignal's chain");
    }
}

/// A sender-key chain built here, independently of caudata: chain keys by the `hmac` crate
/// (`CK' = HMAC(CK, 0x02)`), and a sender's record at any iteration in libsignal's storage
/// format (`SenderKeyRecordStructure`).
struct TestChain {
    dist: DistributionId,
    chain_id: u32,
    ck0: [u8; 32],
    signing: caudata::primitives::Curve25519SecretKey,
}

impl TestChain {
    fn new(dist: DistributionId) -> Self {
        let signing = caudata::primitives::Curve25519SecretKey::new();
        // Any 32 bytes make a chain key; the signing key's public half is handy.
        Self { dist, chain_id: 0x1234_5678, ck0: *signing.public_key().as_bytes(), signing }
    }

    fn chain_key(&self, n: u32) -> [u8; 32] {
        use hmac::{KeyInit, Mac};
        (0..n).fold(self.ck0, |ck, _| {
            let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&ck).unwrap();
            m.update(&[2]);
            m.finalize().into_bytes().into()
        })
    }

    fn record_at(&self, n: u32) -> SenderKeyRecord {
        fn field(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
            out.push(tag << 3 | 2);
            let mut len = body.len();
            while len >= 0x80 {
                out.push((len as u8) | 0x80);
                len >>= 7;
            }
            out.push(len as u8);
            out.extend_from_slice(body);
        }
        fn varint(out: &mut Vec<u8>, tag: u8, mut v: u64) {
            out.push(tag << 3);
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let mut ck = Vec::new();
        varint(&mut ck, 1, u64::from(n));
        field(&mut ck, 2, &self.chain_key(n));
        let mut sk = Vec::new();
        field(&mut sk, 1, &[&[5u8][..], self.signing.public_key().as_bytes()].concat());
        field(&mut sk, 2, self.signing.to_secret_bytes().expose());
        let mut state = Vec::new();
        varint(&mut state, 1, u64::from(self.chain_id));
        field(&mut state, 2, &ck);
        field(&mut state, 3, &sk);
        varint(&mut state, 5, 3);
        let mut record = Vec::new();
        field(&mut record, 1, &state);
        SenderKeyRecord::from_libsignal_bytes(&record, self.dist).unwrap()
    }
}

/// The same bad input given to a caudata record and to libsignal holding the same state: both
/// refuse it, with matching errors, and neither changes.
#[test]
fn bad_input_is_refused_by_both() {
    let mut peer = Peer::start_groups();
    for (v, lib) in LIBS.iter().enumerate() {
        let mut g = Group::new(&mut peer, lib, &[true, false], &format!("b{v}"));
        let (c0, l1) = (g.names[0].clone(), g.names[1].clone());
        let p1 = format!("{l1}@{lib}");
        let dist = g.dist;
        let Member::Caudata { own, .. } = &mut g.members[0] else { unreachable!() };
        let good = own.encrypt(dist, b"good").unwrap().to_bytes();

        let mut cases: Vec<(&str, Vec<u8>, &str, &str)> = Vec::new(); // (what, bytes, caudata, libsignal)
        // a forged signature
        let mut forged = good.clone();
        let last = forged.len() - 1;
        forged[last - 10] ^= 1;
        cases.push(("forged signature", forged, "InvalidSignature", "invalid signature"));
        // a changed ciphertext (the signature covers it)
        let mut ct = good.clone();
        ct[30] ^= 1;
        cases.push(("changed body", ct, "InvalidSignature", "invalid signature"));
        // truncated
        cases.push(("truncated", good[..40].to_vec(), "Truncated", "too short"));
        // wrong versions
        let mut old = good.clone();
        old[0] = 0x23;
        cases.push(("old version", old, "LegacyVersion", "too old"));
        let mut new = good.clone();
        new[0] = 0x43;
        cases.push(("new version", new, "UnsupportedVersion", "unrecognized"));
        // another distribution id (re-signed by the sender: an authenticated peer)
        let mut other = SenderKeyRecord::new();
        let other_dist = DistributionId::random_v4();
        other.create_distribution_message(other_dist).unwrap();
        let wrong_dist = other.encrypt(other_dist, b"x").unwrap().to_bytes();
        cases.push(("other distribution", wrong_dist, "WrongDistributionId", "missing sender key state"));

        for (what, body, want_caudata, want_libsignal) in cases {
            let c = g.receive(&mut peer, 1, 0, &body); // libsignal receiving from c0
            let err = c.unwrap_err();
            assert!(err.contains(want_libsignal), "{lib} {what}: libsignal said {err}");
            // caudata: a second caudata receiver of c0 (a fresh view from c0's distribution message)
            let mut view = SenderKeyRecord::new();
            let Member::Caudata { own, .. } = &mut g.members[0] else { unreachable!() };
            let mut own_copy = own.clone();
            view.process_distribution_message(&own_copy.create_distribution_message(dist).unwrap()).unwrap();
            let before = view.to_libsignal_bytes();
            let e = SenderKeyMessage::from_bytes(&body)
                .map_err(SenderKeyError::from)
                .and_then(|m| view.decrypt(&m))
                .unwrap_err();
            assert!(format!("{e:?}").contains(want_caudata), "{lib} {what}: caudata said {e:?}");
            assert_eq!(*view.to_libsignal_bytes(), *before);
        }
        // The good message still decrypts at libsignal after all that.
        let r = peer.call(
            json!({"cmd": "sk_decrypt", "p": p1, "sender_name": c0, "sender_device": 1, "body": hex::encode(&good)}),
        );
        assert_eq!(bytes(&r["pt"]), b"good");

        // A jump past the limit, made by an authenticated sender (one holding the signing
        // key): the sender's chain is put at iterations 25 000 and 25 001 directly (chain keys
        // computed here with the `hmac` crate, records written in libsignal's format), the
        // receivers start from the same chain at iteration 0.
        let chain = TestChain::new(dist);
        let skdm = chain.record_at(0).create_distribution_message(dist).unwrap();
        let mut view = SenderKeyRecord::new();
        view.process_distribution_message(&skdm).unwrap();
        let q = format!("{l1}-other@{lib}");
        peer.call(json!({"cmd": "new_party", "p": q, "lib": lib, "name": "q"}));
        let sender = "authenticated-adversary";
        peer.call(json!({"cmd": "sk_process", "p": q, "sender_name": sender, "sender_device": 1, "skdm": hex::encode(&*skdm.to_bytes())}));
        let at_limit = chain.record_at(25_000).encrypt(dist, b"at the limit").unwrap();
        let past = chain.record_at(25_001).encrypt(dist, b"past the limit").unwrap();
        assert_eq!(view.clone().decrypt(&past), Err(SenderKeyError::TooFarInFuture { got: 25_001, max: 25_000 }));
        let code = peer.fail(json!({"cmd": "sk_decrypt", "p": q, "sender_name": sender, "sender_device": 1, "body": hex::encode(past.to_bytes())}));
        assert!(code.contains("too far into the future"), "{lib}: {code}");
        assert_eq!(view.decrypt(&at_limit).unwrap(), b"at the limit");
        let r = peer.call(json!({"cmd": "sk_decrypt", "p": q, "sender_name": sender, "sender_device": 1, "body": hex::encode(at_limit.to_bytes())}));
        assert_eq!(bytes(&r["pt"]), b"at the limit");
        // Both kept the last 2 000 skipped keys: iteration 23 000 decrypts, 22 999 does not.
        for (n, ok) in [(23_000u32, true), (22_999, false)] {
            let m = chain.record_at(n).encrypt(dist, b"old").unwrap();
            assert_eq!(view.clone().decrypt(&m).is_ok(), ok, "{lib}: caudata, iteration {n}");
            let r = peer.request(json!({"cmd": "sk_decrypt", "p": q, "sender_name": sender, "sender_device": 1, "body": hex::encode(m.to_bytes())}));
            assert_eq!(r["ok"] == true, ok, "{lib}: libsignal, iteration {n}: {r}");
        }
        let fresh = view;

        // An unknown chain: a message from a chain the receiver never got.
        let mut stranger = SenderKeyRecord::new();
        stranger.create_distribution_message(dist).unwrap();
        let m = stranger.encrypt(dist, b"?").unwrap();
        assert!(matches!(fresh.clone().decrypt(&m), Err(SenderKeyError::UnknownChain { .. })));
        let _ = p1;
        let code = peer.fail(json!({"cmd": "sk_decrypt", "p": p1, "sender_name": c0, "sender_device": 1, "body": hex::encode(m.to_bytes())}));
        assert!(code.contains("missing sender key state"), "{lib}: {code}");
    }
}
