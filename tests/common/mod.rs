//! Spawning the live peers (libolm through python-olm) for differential tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

/// A libolm 3.2.16 peer (interop/libolm/peer.py) over JSON lines.
pub(crate) struct Libolm {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Libolm {
    /// Starts the peer. Fails (never skips) when the venv is missing.
    pub(crate) fn start() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let python = root.join("../interop/libolm/.venv/bin/python");
        assert!(
            python.exists(),
            "the libolm peer is not installed: run interop/libolm/setup.sh (the README's test command does)"
        );
        let mut child = Command::new(python)
            .arg(root.join("../interop/libolm/peer.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start interop/libolm/peer.py");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut p = Self { child, stdin, stdout };
        assert_eq!(p.ok(json!({"cmd": "version"}))["version"], "3.2.16");
        p
    }

    /// Sends one request and returns the response object.
    pub(crate) fn call(&mut self, req: Value) -> Value {
        writeln!(self.stdin, "{req}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad peer output {line:?}: {e}"))
    }

    /// A request that must succeed.
    pub(crate) fn ok(&mut self, req: Value) -> Value {
        let r = self.call(req.clone());
        assert_eq!(r["ok"], true, "libolm refused {req}: {r}");
        r
    }

    /// A request that must fail; returns libolm's error name.
    pub(crate) fn err(&mut self, req: Value) -> String {
        let r = self.call(req.clone());
        assert_eq!(r["ok"], false, "libolm accepted {req}: {r}");
        r["error"].as_str().unwrap().to_string()
    }
}

impl Drop for Libolm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn hexs(b: impl AsRef<[u8]>) -> String {
    hex::encode(b)
}

pub(crate) fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}
