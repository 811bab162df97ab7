//! Spawning the live peers (libolm through python-olm) for differential tests, and the
//! Olm and interolm set-ups many test files share.
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

/// Bob's Olm account with one fresh (unpublished) one-time key, and that key.
pub(crate) fn olm_responder() -> (caudata::olm::Account, caudata::Curve25519PublicKey) {
    let mut bob = caudata::olm::Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    (bob, otk)
}

/// Alice's outbound Olm session to Bob's one-time key `otk`, and the pre-key message it sent
/// first; Bob has not seen it yet.
pub(crate) struct OlmOutbound {
    pub(crate) alice: caudata::olm::Account,
    pub(crate) bob: caudata::olm::Account,
    pub(crate) otk: caudata::Curve25519PublicKey,
    /// Alice's session, after encrypting `first`.
    pub(crate) a: caudata::olm::Session,
    pub(crate) first: caudata::olm::PreKeyMessage,
}

/// A fresh Alice and [`olm_responder`]'s Bob; Alice opens a `config` session to Bob and
/// encrypts `first_plaintext`, a pre-key message.
pub(crate) fn olm_outbound(config: caudata::olm::SessionConfig, first_plaintext: &[u8]) -> OlmOutbound {
    let alice = caudata::olm::Account::new();
    let (bob, otk) = olm_responder();
    let mut a = alice.create_outbound_session(config, bob.curve25519_key(), otk).unwrap();
    let caudata::olm::OlmMessage::PreKey(first) = a.encrypt(first_plaintext) else { unreachable!() };
    OlmOutbound { alice, bob, otk, a, first }
}

/// Alice's and Bob's `config` sessions after Bob took Alice's first pre-key message (of
/// `first_plaintext`): Alice has a sending chain, Bob one receiving chain.
pub(crate) fn olm_pair(
    config: caudata::olm::SessionConfig,
    first_plaintext: &[u8],
) -> (caudata::olm::Session, caudata::olm::Session) {
    let OlmOutbound { alice, mut bob, a, first, .. } = olm_outbound(config, first_plaintext);
    let b = bob.create_inbound_session(config, alice.curve25519_key(), &first).unwrap().session;
    (a, b)
}

/// Bob's interolm account with a signed prekey, a last-resort Kyber prekey and `one_time`
/// one-time prekeys, and the bundle it publishes (device 1).
pub(crate) fn interolm_responder(one_time: usize) -> (caudata::interolm::Account, caudata::interolm::PreKeyBundle) {
    let mut bob = caudata::interolm::Account::new();
    bob.generate_signed_pre_key();
    bob.generate_kyber_pre_key(true);
    if one_time > 0 {
        bob.generate_one_time_pre_keys(one_time);
    }
    let bundle = bob.pre_key_bundle(1).unwrap();
    (bob, bundle)
}
