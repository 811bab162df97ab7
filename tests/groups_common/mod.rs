//! The live libsignal peer for the sender-key, sealed-sender, retry and safety-number tests:
//! `interop/libsignal/groups.mjs` (which also understands every `peer.mjs` command), spoken to
//! over JSON lines. Needs Node 20+ and `bash interop/libsignal/setup.sh`; without them the tests
//! fail, never skip.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use caudata::Curve25519PublicKey;
use serde_json::Value;

/// The libsignal versions with every API these tests use.
pub const LIBS: [&str; 3] = ["0.72.1", "0.90.0", "0.103.0"];

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
        for alias in ["ls072", "ls090", "ls0103"] {
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
