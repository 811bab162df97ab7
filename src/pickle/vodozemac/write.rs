//! The pickle structs as the JSON `serde_json::to_vec` writes for vodozemac's (compact, fields
//! in declaration order, maps in key order, byte arrays as arrays of numbers), so that an
//! encrypted pickle caudata writes is byte for byte the one vodozemac writes for the same
//! state (tests/pickle_vodozemac.rs compares them). Written into a zeroizing buffer.

use zeroize::{Zeroize, Zeroizing};

use super::convert;
use super::shape::{GroupSessionShape, InboundGroupSessionShape, MegolmRatchetShape, RatchetCount};
use super::view::{self, AccountView, FallbackKeyView, SendingView, SessionView};
use crate::megolm::{GroupSession, InboundGroupSession};
use crate::olm::{Account, Session};
use crate::pickle::codec::Writer;
use crate::primitives::{Curve25519PublicKey, Curve25519SecretKey, Ed25519SecretForm, Ed25519SecretKey};

struct Json(Writer);

impl Json {
    fn new(capacity: usize) -> Self {
        Self(Writer::with_capacity(capacity))
    }

    fn raw(&mut self, s: &str) {
        self.0.bytes(s.as_bytes());
    }

    /// `"name":` (names are plain ASCII identifiers, written without escapes).
    fn key(&mut self, first: bool, name: &str) {
        if !first {
            self.raw(",");
        }
        self.raw("\"");
        self.raw(name);
        self.raw("\":");
    }

    fn num(&mut self, mut n: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.0.secret(&buf[i..]);
        buf.zeroize();
    }

    fn bool(&mut self, b: bool) {
        self.raw(if b { "true" } else { "false" });
    }

    /// Bytes (public or secret) as an array of numbers. Each byte's digits are pushed
    /// straight into the (zeroizing) buffer: no copy of a secret byte on the stack, and no
    /// call per digit.
    fn bytes(&mut self, b: &[u8]) {
        self.0.u8(b'[');
        for (i, &x) in b.iter().enumerate() {
            if i > 0 {
                self.0.u8(b',');
            }
            if x >= 100 {
                self.0.u8(b'0' + x / 100);
            }
            if x >= 10 {
                self.0.u8(b'0' + x / 10 % 10);
            }
            self.0.u8(b'0' + x % 10);
        }
        self.0.u8(b']');
    }

    fn public(&mut self, k: &Curve25519PublicKey) {
        self.bytes(k.as_bytes());
    }

    /// Written from the key's own storage (no copy of the secret).
    fn secret_key(&mut self, k: &Curve25519SecretKey) {
        self.bytes(k.secret_bytes());
    }

    fn keypair(&mut self, k: &Ed25519SecretKey) {
        match k.form() {
            Ed25519SecretForm::Seed(seed) => {
                self.raw("{\"Normal\":");
                self.bytes(seed.expose());
            }
            Ed25519SecretForm::Expanded(e) => {
                self.raw("{\"Expanded\":");
                self.bytes(e.expose());
            }
        }
        self.raw("}");
    }

    fn count(&mut self, c: RatchetCount) {
        match c {
            RatchetCount::Known(n) => {
                self.raw("{\"Known\":");
                self.num(n);
                self.raw("}");
            }
            RatchetCount::Unknown(()) => self.raw("{\"Unknown\":null}"),
        }
    }

    fn config(&mut self, version: u8) {
        self.raw(if version == 2 { "{\"version\":\"V2\"}" } else { "{\"version\":\"V1\"}" });
    }

    fn key_chain(&mut self, key: &[u8; 32], index: u64) {
        self.key(true, "key");
        self.bytes(key);
        self.key(false, "index");
        self.num(index);
    }

    fn finish(self) -> Zeroizing<Vec<u8>> {
        self.0.finish()
    }
}

/// The account's JSON, written from the account itself (its view: no secret copied).
pub(crate) fn account(a: &Account) -> Zeroizing<Vec<u8>> {
    account_json(&view::account(a))
}

pub(crate) fn account_json(a: &AccountView<'_>) -> Zeroizing<Vec<u8>> {
    let otks = &a.one_time_keys;
    let mut j = Json::new(512 + 140 * (otks.private_keys.len() + otks.public_keys.len()));
    j.raw("{");
    j.key(true, "signing_key");
    j.keypair(a.signing_key);
    j.key(false, "diffie_hellman_key");
    j.secret_key(a.diffie_hellman_key);
    j.key(false, "one_time_keys");
    j.raw("{");
    j.key(true, "next_key_id");
    j.num(otks.next_key_id);
    j.key(false, "public_keys");
    j.raw("{");
    for (i, (id, k)) in otks.public_keys.iter().enumerate() {
        j.raw(if i == 0 { "\"" } else { ",\"" });
        j.num(id.0);
        j.raw("\":");
        j.public(k);
    }
    j.raw("}");
    j.key(false, "private_keys");
    j.raw("{");
    for (i, (id, k)) in otks.private_keys.iter().enumerate() {
        j.raw(if i == 0 { "\"" } else { ",\"" });
        j.num(id.0);
        j.raw("\":");
        j.secret_key(k);
    }
    j.raw("}}");
    j.key(false, "fallback_keys");
    j.raw("{");
    j.key(true, "key_id");
    j.num(a.fallback_keys.key_id);
    for (name, k) in [
        ("fallback_key", &a.fallback_keys.fallback_key),
        ("previous_fallback_key", &a.fallback_keys.previous_fallback_key),
    ] {
        j.key(false, name);
        match k {
            Some(FallbackKeyView { key_id, key, published }) => {
                j.raw("{");
                j.key(true, "key_id");
                j.num(key_id.0);
                j.key(false, "key");
                j.secret_key(key);
                j.key(false, "published");
                j.bool(*published);
                j.raw("}");
            }
            None => j.raw("null"),
        }
    }
    j.raw("}}");
    j.finish()
}

/// The session's JSON, written from the session itself (its view: no secret copied).
pub(crate) fn session(s: &Session) -> Zeroizing<Vec<u8>> {
    view::session(s, session_json)
}

pub(crate) fn session_json(s: &SessionView<'_>) -> Zeroizing<Vec<u8>> {
    let chains = &s.receiving_chains.inner;
    let skipped: usize = chains.iter().map(|c| c.skipped_message_keys.inner.len()).sum();
    let mut j = Json::new(1024 + 300 * chains.len() + 150 * skipped);
    j.raw("{");
    j.key(true, "session_keys");
    j.raw("{");
    j.key(true, "identity_key");
    j.public(&s.session_keys.identity_key);
    j.key(false, "base_key");
    j.public(&s.session_keys.base_key);
    j.key(false, "one_time_key");
    j.public(&s.session_keys.one_time_key);
    j.raw("}");
    j.key(false, "sending_ratchet");
    match &s.sending_ratchet {
        SendingView::Inactive(i) => {
            j.raw("{\"type\":\"inactive\"");
            j.key(false, "root_key");
            j.raw("{");
            j.key(true, "key");
            j.bytes(i.root_key.key.expose());
            j.raw("}");
            j.key(false, "ratchet_key");
            j.public(&i.ratchet_key);
            j.key(false, "ratchet_count");
            j.count(i.ratchet_count);
            j.raw("}");
        }
        SendingView::Active(a) => {
            j.raw("{\"type\":\"active\"");
            j.key(false, "parent_ratchet_key");
            match &a.parent_ratchet_key {
                Some(k) => j.public(k),
                None => j.raw("null"),
            }
            j.key(false, "ratchet_count");
            j.count(a.ratchet_count);
            j.key(false, "active_ratchet");
            j.raw("{");
            j.key(true, "root_key");
            j.bytes(a.active_ratchet.root_key.expose());
            j.key(false, "ratchet_key");
            j.secret_key(a.active_ratchet.ratchet_key);
            j.raw("}");
            j.key(false, "symmetric_key_ratchet");
            j.raw("{");
            j.key_chain(a.symmetric_key_ratchet.key.expose(), a.symmetric_key_ratchet.index);
            j.raw("}}");
        }
    }
    j.key(false, "receiving_chains");
    j.raw("{\"inner\":[");
    for (i, c) in chains.iter().enumerate() {
        j.raw(if i == 0 { "{" } else { ",{" });
        j.key(true, "ratchet_key");
        j.public(&c.ratchet_key);
        j.key(false, "hkdf_ratchet");
        j.raw("{");
        j.key_chain(c.hkdf_ratchet.key.expose(), c.hkdf_ratchet.index);
        j.raw("}");
        j.key(false, "skipped_message_keys");
        j.raw("{\"inner\":[");
        for (n, k) in c.skipped_message_keys.inner.iter().enumerate() {
            j.raw(if n == 0 { "{" } else { ",{" });
            j.key_chain(k.key.expose(), k.index);
            j.raw("}");
        }
        j.raw("]}");
        j.key(false, "ratchet_count");
        j.count(c.ratchet_count);
        j.raw("}");
    }
    j.raw("]}");
    j.key(false, "config");
    j.config(s.config.version());
    j.raw("}");
    j.finish()
}

fn megolm_ratchet(j: &mut Json, r: &MegolmRatchetShape) {
    j.raw("{");
    j.key(true, "inner");
    j.bytes(r.inner.expose());
    j.key(false, "counter");
    j.num(r.counter.into());
    j.raw("}");
}

/// The group session's JSON (through its shape: a small copy).
pub(crate) fn group_session(s: &GroupSession) -> Zeroizing<Vec<u8>> {
    group_session_json(&convert::group_session_to_shape(s))
}

pub(crate) fn group_session_json(s: &GroupSessionShape) -> Zeroizing<Vec<u8>> {
    let mut j = Json::new(1024);
    j.raw("{");
    j.key(true, "ratchet");
    megolm_ratchet(&mut j, &s.ratchet);
    j.key(false, "signing_key");
    j.keypair(&s.signing_key);
    j.key(false, "config");
    j.config(s.config.version());
    j.raw("}");
    j.finish()
}

/// The inbound group session's JSON (through its shape: a small copy).
pub(crate) fn inbound_group_session(s: &InboundGroupSession) -> Zeroizing<Vec<u8>> {
    inbound_group_session_json(&convert::inbound_group_session_to_shape(s))
}

pub(crate) fn inbound_group_session_json(s: &InboundGroupSessionShape) -> Zeroizing<Vec<u8>> {
    let mut j = Json::new(1024);
    j.raw("{");
    j.key(true, "initial_ratchet");
    megolm_ratchet(&mut j, &s.initial_ratchet);
    j.key(false, "signing_key");
    j.bytes(s.signing_key.as_bytes());
    j.key(false, "signing_key_verified");
    j.bool(s.signing_key_verified);
    j.key(false, "config");
    j.config(s.config.version());
    j.raw("}");
    j.finish()
}

#[cfg(test)]
mod tests {
    //! The JSON's buffer is sized once, by its guess: a buffer that grows frees an unwiped copy
    //! (the writer's own growth wipes it, but copies the whole JSON again).

    use super::super::convert;
    use super::*;
    use crate::olm::{Account, OlmMessage, SessionConfig};
    use crate::primitives::SecretBytes;

    /// Every byte value is written as serde_json writes it (the digits pushed one by one).
    #[test]
    fn bytes_are_written_as_serde_json_writes_them() {
        let all: Vec<u8> = (0..=255).collect();
        let mut j = Json::new(4);
        j.bytes(&all);
        j.bytes(&[]);
        j.bytes(&[7]);
        let expected = [serde_json::to_vec(&all).unwrap(), b"[][7]".to_vec()].concat();
        assert_eq!(*j.finish(), expected);
    }

    /// (The session's guess, 150 bytes a skipped key, is for keys of random bytes and small
    /// indices; keys of bytes all above 99 with 20-digit indices write about 170.)
    #[test]
    fn the_json_never_outgrows_its_first_buffer() {
        let mut bob = Account::new();
        bob.generate_one_time_keys(30);
        bob.mark_keys_as_published();
        bob.generate_one_time_keys(20);
        bob.generate_fallback_key();
        bob.generate_fallback_key();
        let json = account(&bob);
        assert_eq!(json.capacity(), 512 + 140 * (50 + 20), "{}", json.len());

        let alice = Account::new();
        let otk = *bob.one_time_keys().values().next().unwrap();
        let mut a = alice.create_outbound_session(SessionConfig::version_2(), bob.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(_) = a.encrypt(b"x") else { panic!("not a pre-key message") };
        let mut shape = convert::session_to_shape(&a);
        let chain = |k: u8| super::super::shape::ReceiverChainShape {
            ratchet_key: Curve25519SecretKey::new().public_key(),
            hkdf_ratchet: super::super::shape::RemoteChainKeyShape {
                key: SecretBytes::from_slice(&[k; 32]).unwrap(),
                index: 99,
            },
            skipped_message_keys: super::super::shape::MessageKeyStoreShape {
                inner: (0..40)
                    .map(|i| super::super::shape::RemoteMessageKeyShape {
                        key: SecretBytes::from_slice(&[k; 32]).unwrap(),
                        index: i,
                    })
                    .collect(),
            },
            ratchet_count: RatchetCount::Known(7),
        };
        shape.receiving_chains.inner = (0..5).map(chain).collect();
        let json = session_json(&view::session_shape(&shape));
        assert_eq!(json.capacity(), 1024 + 300 * 5 + 150 * 200, "{}", json.len());
    }
}
