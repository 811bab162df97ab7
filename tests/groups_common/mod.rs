//! Helpers for the sender-key, sealed-sender, retry and safety-number tests against the live
//! libsignal peer `interop/libsignal/groups.mjs` (started with
//! [`Peer::start_groups`](crate::libsignal_peer::Peer::start_groups); the process and the JSON
//! conversions are in `libsignal_peer/`, which the including crate declares). Needs Node 20+ and
//! `bash interop/libsignal/setup.sh`; without them the tests fail, never skip.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The libsignal versions with every API these tests use.
pub const LIBS: [&str; 4] = ["0.72.1", "0.90.0", "0.92.2", "0.103.0"];

/// A small deterministic shuffle (Fisher-Yates over [`Schedule`]), so failures reproduce.
pub fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut s = Schedule(seed | 1);
    for i in (1..v.len()).rev() {
        v.swap(i, s.next(i + 1));
    }
}

// ---------------------------------------------------------------------------------------------
// 1:1 sessions between a caudata account and a libsignal party (sealed sender seals their
// messages).

use caudata::interolm::{Account, IdentityKeyPair, InterolmMessage, Session};
use caudata::primitives::Curve25519SecretKey;
use serde_json::json;

use crate::libsignal_peer::{Peer, Schedule, bundle_from_json, bundle_to_json, bytes};

/// A caudata device: an account (identity and prekeys), the same identity as an
/// `IdentityKeyPair` (what sealed sender uses), a service-id name, and its sessions.
pub struct CaudataDevice {
    pub name: String,
    pub account: Account,
    pub identity: IdentityKeyPair,
    pub sessions: std::collections::BTreeMap<String, Session>,
}

impl CaudataDevice {
    pub fn new(name: &str, registration_id: u32) -> Self {
        let secret = Curve25519SecretKey::new();
        let identity = IdentityKeyPair::from_secret_key(secret.clone());
        let mut account = Account::from_identity_key(secret, registration_id);
        account.generate_signed_pre_key();
        account.generate_kyber_pre_key(true);
        Self { name: name.to_owned(), account, identity, sessions: Default::default() }
    }

    /// Starts a session with libsignal party `p` (named `peer_name`, device 1) from its bundle;
    /// the first message (a pre-key message) carries `first` and is returned as (type, body).
    pub fn start_with(&mut self, peer: &mut Peer, p: &str, peer_name: &str, first: &[u8]) -> (usize, Vec<u8>) {
        let r = peer.call(json!({"cmd": "export_party", "p": p}));
        let bundle = bundle_from_json(&r["bundle"]);
        let mut s = self.account.create_outbound_session(&bundle).unwrap();
        let m = s.encrypt(first).unwrap().to_parts();
        self.sessions.insert(peer_name.to_owned(), s);
        m
    }

    /// Lets libsignal party `p` start a session with this device (from its bundle) and send
    /// `first`; this device decrypts it.
    pub fn accept_from(&mut self, peer: &mut Peer, p: &str, peer_name: &str, first: &[u8]) {
        self.account.generate_one_time_pre_keys(1);
        let bundle = self.account.pre_key_bundle(1).unwrap();
        peer.call(json!({"cmd": "process_bundle", "p": p, "peer_name": self.name, "peer_device_id": 1, "bundle": bundle_to_json(&bundle)}));
        let r = peer.call(
            json!({"cmd": "encrypt", "p": p, "peer_name": self.name, "peer_device_id": 1, "pt": hex::encode(first)}),
        );
        let m = InterolmMessage::from_parts(r["type"].as_u64().unwrap() as usize, &bytes(&r["body"])).unwrap();
        let InterolmMessage::PreKey(pk) = m else { panic!("first message is not a pre-key message") };
        let res = self.account.create_inbound_session(&pk).unwrap();
        assert_eq!(res.plaintext, first);
        self.sessions.insert(peer_name.to_owned(), res.session);
    }
}
