//! The libsignal peer with the application-layer commands (`interop/libsignal/app.mjs`), and
//! conversions between caudata values and its JSON. Included with `#[path]` by
//! `interolm_app.rs` and `interolm_migration.rs`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use caudata::Curve25519PublicKey;
use caudata::interolm::{InterolmMessage, Kyber1024PublicKey, PreKeyBundle, XEdDsaSignature};
use serde_json::{Value, json};

pub(crate) fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/libsignal")
}

/// `node interop/libsignal/app.mjs` over JSON lines. Fails (never skips) without Node or the
/// installed libsignal versions.
pub(crate) struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    pub(crate) fn start() -> Self {
        let dir = harness_dir();
        for alias in ["ls072", "ls090", "ls0922", "ls0103"] {
            assert!(
                dir.join("node_modules").join(alias).join("package.json").exists(),
                "libsignal peer {alias} is not installed in {}: run interop/libsignal/setup.sh",
                dir.display()
            );
        }
        let mut child = Command::new("node")
            .arg(dir.join("app.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node ({e}): install Node 20+ and run interop/libsignal/setup.sh"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self { child, stdin, stdout }
    }

    /// One request; the response, `ok` or not.
    pub(crate) fn request(&mut self, req: Value) -> Value {
        writeln!(self.stdin, "{req}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "app.mjs exited (request {})", req["cmd"]);
        serde_json::from_str(&line).unwrap()
    }

    /// A request that must succeed.
    pub(crate) fn call(&mut self, req: Value) -> Value {
        let cmd = req["cmd"].clone();
        let r = self.request(req);
        assert_eq!(r["ok"], true, "app.mjs {cmd} failed: {}", r["error"]);
        r
    }

    /// A request that must fail; its error text.
    pub(crate) fn fail(&mut self, req: Value) -> String {
        let cmd = req["cmd"].clone();
        let r = self.request(req);
        assert_eq!(r["ok"], false, "app.mjs {cmd} succeeded: {r}");
        r["error"].as_str().unwrap().to_string()
    }

    /// libsignal party `p` encrypts for `peer` (name, device).
    pub(crate) fn encrypt(&mut self, p: &str, peer: (&str, u8), pt: &[u8]) -> InterolmMessage {
        let r = self.call(
            json!({"cmd": "encrypt", "p": p, "peer_name": peer.0, "peer_device_id": peer.1, "pt": hex::encode(pt)}),
        );
        InterolmMessage::from_parts(r["type"].as_u64().unwrap() as usize, &bytes(&r["body"])).unwrap()
    }

    /// libsignal party `p` decrypts a message from `peer`; `Ok(plaintext)` or `Err(error text)`.
    pub(crate) fn decrypt(&mut self, p: &str, peer: (&str, u8), m: &InterolmMessage) -> Result<Vec<u8>, String> {
        let (t, body) = m.to_parts();
        let r = self.request(json!({"cmd": "decrypt", "p": p, "peer_name": peer.0, "peer_device_id": peer.1,
            "type": t, "body": hex::encode(body)}));
        if r["ok"] == true { Ok(bytes(&r["pt"])) } else { Err(r["error"].as_str().unwrap().to_string()) }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

pub(crate) fn hex33(k: &Curve25519PublicKey) -> String {
    format!("05{}", hex::encode(k.as_bytes()))
}

pub(crate) fn key33(v: &Value) -> Curve25519PublicKey {
    let b = bytes(v);
    assert_eq!((b.len(), b[0]), (33, 5));
    Curve25519PublicKey::from_slice(&b[1..]).unwrap()
}

pub(crate) fn bundle_to_json(b: &PreKeyBundle) -> Value {
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

pub(crate) fn bundle_from_json(b: &Value) -> PreKeyBundle {
    let u = |v: &Value| u32::try_from(v.as_u64().unwrap()).unwrap();
    PreKeyBundle {
        registration_id: u(&b["registration_id"]),
        device_id: u(&b["device_id"]),
        identity_key: key33(&b["identity_key"]),
        pre_key: (!b["pre_key"].is_null()).then(|| (u(&b["pre_key_id"]), key33(&b["pre_key"]))),
        signed_pre_key_id: u(&b["signed_pre_key_id"]),
        signed_pre_key: key33(&b["signed_pre_key"]),
        signed_pre_key_signature: XEdDsaSignature::from_slice(&bytes(&b["signed_pre_key_signature"])).unwrap(),
        kyber_pre_key: (!b["kyber_pre_key"].is_null()).then(|| {
            (
                u(&b["kyber_pre_key_id"]),
                Kyber1024PublicKey::from_bytes(&bytes(&b["kyber_pre_key"])).unwrap(),
                XEdDsaSignature::from_slice(&bytes(&b["kyber_pre_key_signature"])).unwrap(),
            )
        }),
    }
}

/// A small deterministic generator for schedules (SplitMix64).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
