//! Known answers for the vodozemac-shaped pickles caudata writes: accounts and Olm sessions built
//! from a fixed random stream, written in every form a user stores (vodozemac's encrypted string,
//! and serde through the pickle structs: serde_json, MessagePack with and without field names),
//! each pinned by the SHA-256 of its bytes.
//!
//! The digests were computed by caudata's writer as it was before it wrote from borrowed views of
//! the objects (main at f85b469, which copied each object into owned pickle structs first), and
//! this test passes unchanged after: the change did not move a byte. vodozemac itself is the
//! oracle for the shapes (tests/serde_vodozemac.rs, tests/pickle_vodozemac.rs compare with its
//! output); this file pins caudata's own bytes, so that a later writer change is seen even where
//! those comparisons would need vodozemac to hold the same state.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::olm::{Account, OlmMessage, Session, SessionConfig};
use caudata::primitives::RandomSource;
use sha2::{Digest, Sha256};

const KEY: [u8; 32] = [0x33; 32];

/// SHA-256 of a counter, 32 bytes at a time: a fixed stream of random-looking bytes (every byte
/// value occurs, so every length of decimal number and of MessagePack integer is written).
struct Stream(u64);

impl RandomSource for Stream {
    fn fill(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let h = Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&h[..chunk.len()]);
        }
    }
}

/// Accounts (no keys; published and unpublished one-time keys, current and previous fallback
/// keys, before and after a one-time key was used) and sessions (sending only, receiving only,
/// both chains, skipped message keys on either side).
fn objects() -> (Vec<Account>, Vec<Session>) {
    let mut rng = Stream(0);
    let empty = Account::new_with_rng(&mut rng);
    let mut bob = Account::new_with_rng(&mut rng);
    bob.generate_one_time_keys_with_rng(30, &mut rng);
    bob.generate_fallback_key_with_rng(&mut rng);
    bob.mark_keys_as_published();
    bob.generate_fallback_key_with_rng(&mut rng);
    bob.generate_one_time_keys_with_rng(20, &mut rng);
    let before = Account::from_vodozemac_pickle(&bob.to_vodozemac_pickle(&KEY), &KEY).unwrap();

    let alice = Account::new_with_rng(&mut rng);
    // the unpublished key with the lowest id (the map's own order is random)
    let otk = bob.one_time_keys().into_iter().min_by_key(|(id, _)| *id).unwrap().1;
    let mut a = alice
        .create_outbound_session_with_rng(SessionConfig::version_2(), bob.curve25519_key(), otk, &mut rng)
        .unwrap();
    let OlmMessage::PreKey(first) = a.encrypt_with_rng(b"first", &mut rng) else { panic!("not a pre-key message") };
    let mut b = bob.create_inbound_session(SessionConfig::version_2(), alice.curve25519_key(), &first).unwrap().session;
    let copy = |s: &Session| Session::from(s.vodozemac_pickle());
    let mut sessions = vec![copy(&a), copy(&b)];
    let late: Vec<OlmMessage> = (0..3u8).map(|i| b.encrypt_with_rng(&[i], &mut rng)).collect();
    a.decrypt(&late[2]).unwrap();
    sessions.push(copy(&a));
    let late: Vec<OlmMessage> = (0..4u8).map(|i| a.encrypt_with_rng(&[i], &mut rng)).collect();
    b.decrypt(&late[3]).unwrap();
    b.decrypt(&late[1]).unwrap();
    sessions.push(copy(&b));
    b.decrypt(&late[0]).unwrap();
    sessions.extend([a, b]);
    (vec![empty, before, bob], sessions)
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every form of every object, as digests, in a fixed order.
fn digests() -> Vec<String> {
    let (accounts, sessions) = objects();
    let mut out = Vec::new();
    for a in &accounts {
        out.push(digest(a.to_vodozemac_pickle(&KEY).as_bytes()));
        out.push(digest(&serde_json::to_vec(&a.vodozemac_pickle()).unwrap()));
        out.push(digest(&rmp_serde::to_vec_named(&a.vodozemac_pickle()).unwrap()));
        out.push(digest(&rmp_serde::to_vec(&a.vodozemac_pickle()).unwrap()));
    }
    for s in &sessions {
        out.push(digest(s.to_vodozemac_pickle(&KEY).as_bytes()));
        out.push(digest(&serde_json::to_vec(&s.vodozemac_pickle()).unwrap()));
        out.push(digest(&rmp_serde::to_vec_named(&s.vodozemac_pickle()).unwrap()));
        out.push(digest(&rmp_serde::to_vec(&s.vodozemac_pickle()).unwrap()));
    }
    out
}

/// Computed at f85b469 (before the views), in the order of [`digests`]: per object, the
/// encrypted string, serde_json, `rmp_serde::to_vec_named`, `rmp_serde::to_vec`.
const EXPECTED: &[&str] = &[
    "552efb1f7184728d13fee2621373dfaf485f7ee986c55d623cf75d216af11583",
    "73205290261b83e9ac857d46b4213faade4c2f1cae2493212e1e04f281a56633",
    "2b1ed01f3bf167bd8418dc9ea40bb8a7dc3ebd098f748f5e72706ada6d78a9cd",
    "59e243ab03d187c29c00053c508a74e30b0e1af0ef272402618c6396c6acfeba",
    "33284911a5b8acfe037597f2c4f3d1d524849d52205e6f1b1bc0d1e9d4ab7b2c",
    "67092ccfb7ab26a181a635f120c74105151c16802c01be6086096b245ee2152d",
    "fd51ab66295e5dfc4e2cc75aedd60f33fae1fb5ff3bceaa9d40992bbddcddafb",
    "2f11e2a0574dfd38ee840c11bcc3b34002a05e634112da55d61e0823bef6f8ea",
    "2f2d27ba5595d956ba58f33c170c954922f262638cc4ae49ca563dfce61fa135",
    "b2c15c1f978d2df63c1a797367346e06a7dc1ebd9e7c246baf9b312f8ea07ef1",
    "ab4d7d1266739b06425547c10c9b496bc92d82fdb29dccba594dfa3de7a80f9e",
    "906d7c3bb51b08eb7ff7d00a9d296e5b07b220d88b64ab2c0da8b1db7daa261f",
    "132efa0876d53aedc2dd89a7560f33251b07a16fc4dd2f61ae6a9098f6bbf3e8",
    "46572a510969db03d79d99de3c2e44339aee22192d624bed90e06a5ec1f44c6a",
    "eb7a1576e0917e93285656adeb0a0101aad939881ea4f70c28b1b23122bf5d3f",
    "c863943ea78b03ec6a25ff5184766e8af599ee31649f7217e38e4f15d9d71344",
    "d51b7663877a2f5683742585ca05d50545328f059d46b119b5edbbbc4f401e35",
    "4784e01e4450bbb6b316cb02114c60ca31cac4f27624d1b97a66bdce142a4b48",
    "add8259a6143dfb5179a094857fbe8b6b8ec66a8f16aa284c97a66908f80bb4d",
    "91389f21e2c17b4630323206be69e681fa28fc68514b6b25dbbc1e4746399ac5",
    "b014825ea1d745124bee56eb6d56da6a57b83db6cbce4ec08993b3b5595bc9bb",
    "6cb594b9045b9a98a6a5c364aee55e5741bd2875edc588c2251c606d52322034",
    "a56b20827f6d11400f76700e506f89b357c0003179ca43914fe5f0118b91f000",
    "13f999ff81c939d0cde58fad3a458bcae28a47a295e9bb5e1a085645fed9978b",
    "d7f9aa25770e08f30898d22cb2827a0f9d79c2e517e30dda1adb88f03e13f9e1",
    "cad88aa43082859c9f5de737753b47b5154b63525b1d4fd708bfe62cb9872b94",
    "eec42c4ee1cf9bb43d334b0dcded1247ed25911e827f82f532e127205ed78e5f",
    "77d1c09f4ba62986ce760154034fac20bb33b049bc895113107329eb2c919158",
    "e12c445940793dbf920a8fac9e90772fa0825934729c90b988f8facd03142f85",
    "93e69800cc4df483f051bfd3c70651e97b5228604550a66365ecfacbb232f285",
    "5b76d6a01e0e45678b1cd2f6b1dcd6500ba61457797251cab9a168923025c430",
    "cdf6aeb6d70d1ab4a213283c7ba0e32b521b506a68a9c5231c2d6130f12f8b86",
    "390a42c9bbfb52e7d0694e494bc92448897656526d939481e5df0d07ea39ab41",
    "b0312580fd168195031d69b481ee16ac752abcbeed6383963f4dc482968269a8",
    "d1751cdcee297476297197bbf14c5e716260d0a19fc58d2dd1ddf35aff0e774d",
    "186b55ab7d6012776471d6a0c863e098347a1734877cb9edcefc33328f148bb8",
];

#[test]
fn vodozemac_shaped_pickles_keep_their_bytes() {
    let got = digests();
    assert_eq!(got.len(), 4 * (3 + 6));
    assert!(got.iter().collect::<std::collections::HashSet<_>>().len() == got.len(), "every form differs");
    assert_eq!(got, EXPECTED, "\n{}", got.iter().map(|d| format!("    \"{d}\",")).collect::<Vec<_>>().join("\n"));
}
