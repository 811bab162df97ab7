//! The live libsignal peers (npm `@signalapp/libsignal-client` 0.72.1, 0.90.0, 0.92.2 and 0.103.0
//! side by side), spoken to over JSON lines, and the conversions between caudata values and their
//! JSON (hex; public keys `0x05 ‖ u`), which is also the format of the known-answer files the
//! peer wrote (`interolm_vectors.rs`). One definition for every test crate that needs them:
//! declare `mod libsignal_peer;` at the crate root (the group and application helpers in
//! `groups_common/` and `common/libsignal_app.rs` build on it).
//!
//! Three harness scripts in `interop/libsignal/`, one request/response loop: `peer.mjs` (1:1
//! sessions, [`Peer::start`]), `groups.mjs` (also sender keys and sealed sender; understands every
//! `peer.mjs` command, [`Peer::start_groups`]) and `app.mjs` (application-layer commands,
//! [`Peer::start_app`]). Needs Node 20+ and `bash interop/libsignal/setup.sh`; without them the
//! tests fail, never skip.

// Test helpers outside `#[test]` functions may panic too (clippy.toml only covers the tests);
// not every crate uses every helper.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use caudata::Curve25519PublicKey;
use caudata::interolm::{Kyber1024PublicKey, PreKeyBundle, XEdDsaSignature};
use serde_json::{Value, json};

/// The npm aliases `setup.sh` installs, one per libsignal version; every one must be present.
pub(crate) const ALIASES: [&str; 4] = ["ls072", "ls090", "ls0922", "ls0103"];

/// `interop/libsignal/`: the harness scripts and their `node_modules`.
pub(crate) fn harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/libsignal")
}

/// One `node interop/libsignal/<script>` child: a request is one JSON line on its stdin, the
/// response one JSON line on its stdout (`{"ok": true, ...}` or `{"ok": false, "error": ...}`).
/// Killed when dropped.
pub(crate) struct Peer {
    script: &'static str,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    /// `peer.mjs`: 1:1 sessions (X3DH, PQXDH, SPQR) in any of the four versions.
    pub(crate) fn start() -> Self {
        Self::spawn("peer.mjs")
    }

    /// `groups.mjs`: sender keys, sealed sender, retries and safety numbers, and every
    /// `peer.mjs` command.
    pub(crate) fn start_groups() -> Self {
        Self::spawn("groups.mjs")
    }

    /// `app.mjs`: the application-layer commands (`common/libsignal_app.rs`).
    pub(crate) fn start_app() -> Self {
        Self::spawn("app.mjs")
    }

    /// Starts `node <harness_dir>/<script>` after checking that every libsignal version is
    /// installed: a missing one fails the test with the command that installs it.
    fn spawn(script: &'static str) -> Self {
        let dir = harness_dir();
        for alias in ALIASES {
            assert!(
                dir.join("node_modules").join(alias).join("package.json").exists(),
                "libsignal peer {alias} is not installed in {}: run interop/libsignal/setup.sh",
                dir.display()
            );
        }
        let mut child = Command::new("node")
            .arg(dir.join(script))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node ({e}): install Node 20+ and run interop/libsignal/setup.sh"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self { script, child, stdin, stdout }
    }

    /// Sends one request and returns the response, `ok` or not.
    pub(crate) fn request(&mut self, req: Value) -> Value {
        writeln!(self.stdin, "{req}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "{} exited (request {req})", self.script);
        serde_json::from_str(&line).unwrap()
    }

    /// Sends one request that must succeed.
    pub(crate) fn call(&mut self, req: Value) -> Value {
        let cmd = req["cmd"].clone();
        let r = self.request(req);
        assert_eq!(r["ok"], true, "{} {cmd} failed: {}", self.script, r["error"]);
        r
    }

    /// Sends one request that must fail; returns `"<code name> | <message>"`.
    pub(crate) fn fail(&mut self, req: Value) -> String {
        let cmd = req["cmd"].clone();
        let r = self.request(req);
        assert_eq!(r["ok"], false, "{} {cmd} should have failed: {r}", self.script);
        format!("{} | {}", r["code_name"].as_str().unwrap_or("-"), r["error"].as_str().unwrap_or(""))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A public key as the peer writes it: hex of `0x05 ‖ u`.
pub(crate) fn hex33(k: &Curve25519PublicKey) -> String {
    format!("05{}", hex::encode(k.as_bytes()))
}

/// A public key from the peer's `0x05 ‖ u` hex; anything else fails the test.
pub(crate) fn key33(v: &Value) -> Curve25519PublicKey {
    let b = bytes(v);
    assert_eq!((b.len(), b[0]), (33, 0x05), "libsignal public key");
    Curve25519PublicKey::from_slice(&b[1..]).unwrap()
}

/// The bytes of a hex string in the peer's JSON.
pub(crate) fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap_or_else(|| panic!("expected a hex string, got {v}"))).unwrap()
}

/// A JSON number that must fit a `u32` (ids).
pub(crate) fn u32_of(v: &Value) -> u32 {
    u32::try_from(v.as_u64().unwrap_or_else(|| panic!("expected an integer, got {v}"))).unwrap()
}

/// A caudata prekey bundle as the peer's `process_bundle` takes it (optional parts left out).
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

/// A bundle the peer exported (`export_party`); an absent or `null` one-time or Kyber prekey is
/// `None`.
pub(crate) fn bundle_from_json(b: &Value) -> PreKeyBundle {
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

/// A small deterministic generator (xorshift64) for delivery schedules and shuffles in the live
/// tests, so a failure reproduces from its seed (not for keys). The seed must not be 0.
pub(crate) struct Schedule(pub(crate) u64);

impl Schedule {
    /// The next number below `n`.
    pub(crate) fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.next(100) < percent
    }
}
