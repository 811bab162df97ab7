//! The application-layer commands of the libsignal peer `interop/libsignal/app.mjs` (started
//! with [`Peer::start_app`]; the process and the JSON conversions are in `libsignal_peer/`, which
//! the including crate declares), and a schedule generator. Included with `#[path]` by
//! `interolm_app.rs` and `interolm_migration.rs`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caudata::interolm::InterolmMessage;
use serde_json::json;

use crate::libsignal_peer::{Peer, bytes};

/// `app.mjs`'s 1:1 commands as methods of the shared peer process.
impl Peer {
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
