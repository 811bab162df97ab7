//! The live libsignal peer for the sender-key, sealed-sender, retry and safety-number tests:
//! `interop/libsignal/groups.mjs` (which also understands every `peer.mjs` command), spoken to
//! over JSON lines. Needs Node 20+ and `bash interop/libsignal/setup.sh`; without them the tests
//! fail, never skip.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use caudata::Curve25519PublicKey;
use serde_json::Value;

/// The libsignal versions with every API these tests use.
pub const LIBS: [&str; 4] = ["0.72.1", "0.90.0", "0.92.2", "0.103.0"];

pub fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/libsignal")
}

pub struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    pub fn start() -> Self {
        let dir = harness_dir();
        for alias in ["ls072", "ls090", "ls0922", "ls0103"] {
            assert!(
                dir.join("node_modules").join(alias).join("package.json").exists(),
                "libsignal peer {alias} is not installed in {}: run interop/libsignal/setup.sh",
                dir.display()
            );
        }
        let mut child = Command::new("node")
            .arg(dir.join("groups.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node ({e}): install Node 20+ and run interop/libsignal/setup.sh"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self { child, stdin, stdout }
    }

    /// Sends one request and returns the response, `ok` or not.
    pub fn request(&mut self, req: Value) -> Value {
        writeln!(self.stdin, "{req}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "groups.mjs exited (request {req})");
        serde_json::from_str(&line).unwrap()
    }

    /// Sends one request that must succeed.
    pub fn call(&mut self, req: Value) -> Value {
        let cmd = req["cmd"].clone();
        let r = self.request(req);
        assert_eq!(r["ok"], true, "groups.mjs {cmd} failed: {}", r["error"]);
        r
    }

    /// Sends one request that must fail; returns `"<code name> | <message>"`.
    pub fn fail(&mut self, req: Value) -> String {
        let cmd = req["cmd"].clone();
        let r = self.request(req);
        assert_eq!(r["ok"], false, "groups.mjs {cmd} should have failed: {r}");
        format!("{} | {}", r["code_name"].as_str().unwrap_or("-"), r["error"].as_str().unwrap_or(""))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn hex33(k: &Curve25519PublicKey) -> String {
    format!("05{}", hex::encode(k.as_bytes()))
}

pub fn key33(v: &Value) -> Curve25519PublicKey {
    let b = bytes(v);
    assert_eq!((b.len(), b[0]), (33, 5));
    Curve25519PublicKey::from_slice(&b[1..]).unwrap()
}

pub fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or_else(|| panic!("not a hex string: {v}"))).unwrap()
}

/// A small deterministic shuffle (xorshift), so failures reproduce.
pub fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut s = seed | 1;
    for i in (1..v.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.swap(i, (s % (i as u64 + 1)) as usize);
    }
}

// ---------------------------------------------------------------------------------------------
// 1:1 sessions between a caudata account and a libsignal party (sealed sender seals their
// messages).

use caudata::interolm::{
    Account, IdentityKeyPair, InterolmMessage, Kyber1024PublicKey, PreKeyBundle, Session, XEdDsaSignature,
};
use caudata::primitives::Curve25519SecretKey;
use serde_json::json;

pub fn u32_of(v: &Value) -> u32 {
    u32::try_from(v.as_u64().unwrap()).unwrap()
}

pub fn bundle_to_json(b: &PreKeyBundle) -> Value {
    let mut j = json!({
        "registration_id": b.registration_id,
        "device_id": b.device_id,
        "identity_key": hex33(&b.identity_key),
        "signed_pre_key_id": b.signed_pre_key_id,
        "signed_pre_key": hex33(&b.signed_pre_key),
        "signed_pre_key_signature": hex::encode(b.signed_pre_key_signature.as_bytes()),
    });
    if let Some((id, k)) = &b.pre_key {
        j["pre_key_id"] = json!(id);
        j["pre_key"] = json!(hex33(k));
    }
    if let Some((id, k, sig)) = &b.kyber_pre_key {
        j["kyber_pre_key_id"] = json!(id);
        j["kyber_pre_key"] = json!(hex::encode(k.to_bytes()));
        j["kyber_pre_key_signature"] = json!(hex::encode(sig.as_bytes()));
    }
    j
}

pub fn bundle_from_json(b: &Value) -> PreKeyBundle {
    let present = |k: &str| b.get(k).filter(|v| !v.is_null());
    PreKeyBundle {
        registration_id: u32_of(&b["registration_id"]),
        device_id: u32_of(&b["device_id"]),
        identity_key: key33(&b["identity_key"]),
        pre_key: present("pre_key").map(|k| (u32_of(&b["pre_key_id"]), key33(k))),
        signed_pre_key_id: u32_of(&b["signed_pre_key_id"]),
        signed_pre_key: key33(&b["signed_pre_key"]),
        signed_pre_key_signature: XEdDsaSignature::from_slice(&bytes(&b["signed_pre_key_signature"])).unwrap(),
        kyber_pre_key: present("kyber_pre_key").map(|k| {
            (
                u32_of(&b["kyber_pre_key_id"]),
                Kyber1024PublicKey::from_bytes(&bytes(k)).unwrap(),
                XEdDsaSignature::from_slice(&bytes(&b["kyber_pre_key_signature"])).unwrap(),
            )
        }),
    }
}

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
