//! ⚠️ Fuzzing entry points (hazmat feature only, hidden from the docs).
//!
//! Every cargo-fuzz target in `fuzz/fuzz_targets/` is one line calling a function here, and
//! `tests/fuzz_corpus.rs` replays the checked-in corpora (`fuzz/corpus/<target>/`) through the
//! very same functions on stable Rust. Each function takes arbitrary bytes, must never panic on
//! its own account, and panics (an assertion) only when caudata breaks a property:
//!
//! * decoders: no panic; a decoded value re-encodes to something that decodes to the same
//!   encoding (and, for caudata's own canonical formats, to the input itself);
//! * decryption with fixed, deterministic sessions: a failed decrypt leaves the session (and
//!   the account, for pre-key messages) exactly as it was: same unencrypted pickle (Olm,
//!   Megolm) or same ratchet snapshot (interolm);
//! * pickle import: no panic; an imported object re-pickles to a fixed point;
//! * two-party interaction ([`run_olm`], [`run_interolm`]): a schedule of sends, deliveries,
//!   drops, reorders, duplicates, corruptions and pickle round trips, checked against a
//!   reference model of which deliveries must decrypt.
//!
//! Nothing here is an API: names and behaviour change without notice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // assertions are the point

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};

use crate::error::DecryptionError;
use crate::interolm::{self, InterolmMessage};
use crate::megolm::{self, ExportedSessionKey, GroupSession, InboundGroupSession, MegolmMessage, SessionKey};
use crate::olm::{self, OlmMessage};
use crate::pickle::{
    AccountPickle, GroupSessionPickle, InboundGroupSessionPickle, InterolmAccountPickle, InterolmSessionPickle,
    SessionPickle,
};
use crate::primitives::{AesCbcKeys, Curve25519PublicKey, HmacKey, RandomSource, aes256_cbc_encrypt, base64_encode};
use crate::wire::signal::PreKeyBundle;

/// A fuzz target's entry point.
pub type Target = fn(&[u8]);

// Sender keys, sealed sender, retry receipts, safety numbers.
mod groups;
pub use groups::{
    FUZZ_DISTRIBUTION_ID, SealedFixture, SenderKeyFixture, decode_sealed_sender, decode_sender_key,
    decrypt_sealed_sender, decrypt_sender_key, sealed_fixture, sender_key_fixture,
};

/// The fuzz targets: name (the file `fuzz/fuzz_targets/<name>.rs` and the corpus directory
/// `fuzz/corpus/<name>/`) and entry point.
pub const TARGETS: &[(&str, Target)] = &[
    ("decode_olm", decode_olm),
    ("decode_megolm", decode_megolm),
    ("decode_signal", decode_signal),
    ("decode_bundle", decode_bundle),
    ("decrypt_olm", decrypt_olm),
    ("decrypt_megolm", decrypt_megolm),
    ("decrypt_interolm", decrypt_interolm),
    ("unpickle_own", unpickle_own),
    ("unpickle_libolm", unpickle_libolm),
    ("unpickle_vodozemac", unpickle_vodozemac),
    ("interaction_olm", interaction_olm),
    ("interaction_interolm", interaction_interolm),
    ("spqr", spqr),
    ("decode_sas_mac", decode_sas_mac),
    ("decode_pk_message", decode_pk_message),
    ("decode_sender_key", decode_sender_key),
    ("decrypt_sender_key", decrypt_sender_key),
    ("decode_sealed_sender", decode_sealed_sender),
    ("decrypt_sealed_sender", decrypt_sealed_sender),
    ("import_libsignal", import_libsignal),
    ("decode_ecies", decode_ecies),
    ("decode_hpke", decode_hpke),
    ("decode_dehydrated_device", decode_dehydrated_device),
];

// The QR-login channels and dehydrated devices (src/fuzzing/channels.rs).
mod channels;
pub use channels::{decode_dehydrated_device, decode_ecies, decode_hpke};
// SAS MACs and key backup (PK messages and the PkDecryption pickle): fuzzing/sas_pk.rs.
mod sas_pk;
pub use sas_pk::{decode_pk_message, decode_sas_mac};

/// The pickle key every fuzzing pickle uses.
pub const PICKLE_KEY: [u8; 32] = [0x42; 32];

// ------------------------------------------------------------------ randomness

/// A deterministic random source: HMAC-SHA-256(seed, counter) blocks. Only for fuzzing and
/// tests; predictable by construction.
pub struct FuzzRng {
    key: HmacKey,
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl FuzzRng {
    /// A source seeded with `seed`.
    pub fn new(seed: &[u8]) -> Self {
        Self { key: HmacKey::new(seed), counter: 0, block: [0; 32], used: 32 }
    }
}

impl RandomSource for FuzzRng {
    fn fill(&mut self, dest: &mut [u8]) {
        for b in dest {
            if self.used == 32 {
                self.block = *self.key.mac(&[&self.counter.to_le_bytes()]).expose();
                self.counter += 1;
                self.used = 0;
            }
            *b = self.block[self.used];
            self.used += 1;
        }
    }
}

// ------------------------------------------------------------------ decoders

/// Decodes with `decode`; if that succeeds, checks that the re-encoding decodes, that encoding
/// is then a fixed point, and (`canonical`) that the first re-encoding is the input itself.
fn roundtrip<T, E>(
    data: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, E>,
    encode: impl Fn(&T) -> Vec<u8>,
    canonical: bool,
    what: &str,
) -> Option<T> {
    let value = decode(data).ok()?;
    let first = encode(&value);
    let again = decode(&first).unwrap_or_else(|_| panic!("{what}: the re-encoding does not decode"));
    assert_eq!(encode(&again), first, "{what}: encoding is not a fixed point");
    if canonical {
        assert_eq!(first, data, "{what}: a canonical format decoded a non-canonical input");
    }
    Some(value)
}

/// Olm messages: normal, pre-key, `OlmMessage::from_parts`, base64 parts and the one session
/// API's [`crate::Message`]. The first byte selects the decoder.
pub fn decode_olm(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    match sel & 7 {
        0 => {
            if let Some(m) = roundtrip(body, olm::Message::from_bytes, olm::Message::to_bytes, true, "olm message") {
                let _ = (m.ratchet_key(), m.chain_index(), m.version(), m.mac_truncated(), m.to_base64());
            }
        }
        1 => {
            if let Some(m) = roundtrip(
                body,
                olm::PreKeyMessage::from_bytes,
                olm::PreKeyMessage::to_bytes,
                true,
                "olm pre-key message",
            ) {
                let _ = (m.one_time_key(), m.base_key(), m.identity_key(), m.session_id(), m.message().to_bytes());
            }
        }
        2 => {
            let t = usize::from(sel >> 4);
            if let Ok(m) = OlmMessage::from_parts(t, body) {
                let (t2, b2) = m.to_parts();
                assert_eq!(OlmMessage::from_parts(t2, &b2).as_ref(), Ok(&m));
            }
        }
        3 => {
            if let Ok(s) = core::str::from_utf8(body)
                && let Ok(m) = OlmMessage::from_base64_parts(usize::from(sel >> 4), s)
            {
                let (t2, b2) = m.to_base64_parts();
                assert_eq!(OlmMessage::from_base64_parts(t2, &b2).as_ref(), Ok(&m));
            }
        }
        4 => {
            let dialect = if sel & 8 == 0 { crate::Dialect::Olm } else { crate::Dialect::Interolm };
            if let Ok(m) = crate::Message::from_parts(dialect, usize::from(sel >> 5), body) {
                let (d, t, b) = m.to_parts();
                assert_eq!(d, dialect);
                assert_eq!(crate::Message::from_parts(d, t, &b).as_ref(), Ok(&m));
            }
        }
        _ => {}
    }
}

/// Megolm: message, session key, exported session key, each as bytes and as base64.
pub fn decode_megolm(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let text = core::str::from_utf8(body).ok();
    match sel % 6 {
        0 => {
            if let Some(m) = roundtrip(body, MegolmMessage::from_bytes, MegolmMessage::to_bytes, true, "megolm message")
            {
                let _ = (m.message_index(), m.signature(), m.to_base64());
            }
        }
        1 => {
            if let Some(t) = text
                && let Ok(m) = MegolmMessage::from_base64(t)
            {
                assert_eq!(MegolmMessage::from_base64(&m.to_base64()), Ok(m));
            }
        }
        2 => {
            if let Some(k) = roundtrip(body, SessionKey::from_bytes, |k| k.to_bytes().to_vec(), true, "session key") {
                let s = InboundGroupSession::new(&k, megolm::SessionConfig::version_1());
                assert_eq!(s.first_known_index(), k.index());
            }
        }
        3 => {
            if let Some(t) = text
                && let Ok(k) = SessionKey::from_base64(t)
            {
                let again = SessionKey::from_base64(&k.to_base64()).expect("re-encoded session key");
                assert_eq!(again.to_bytes(), k.to_bytes());
            }
        }
        4 => {
            if let Some(k) =
                roundtrip(body, ExportedSessionKey::from_bytes, |k| k.to_bytes().to_vec(), true, "exported session key")
            {
                let s = InboundGroupSession::import(&k, megolm::SessionConfig::version_1());
                assert_eq!(s.export_at_first_known_index().to_bytes(), k.to_bytes());
            }
        }
        _ => {
            if let Some(t) = text
                && let Ok(k) = ExportedSessionKey::from_base64(t)
            {
                let again = ExportedSessionKey::from_base64(&k.to_base64()).expect("re-encoded exported key");
                assert_eq!(again.to_bytes(), k.to_bytes());
            }
        }
    }
}

/// Signal dialect: `SignalMessage`, `PreKeySignalMessage`, `InterolmMessage` parts and base64
/// parts. Both messages are tolerant protobufs that keep the received bytes, so the check is
/// that they re-encode to exactly what was received.
pub fn decode_signal(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    match sel % 4 {
        0 => {
            if let Some(m) = roundtrip(
                body,
                interolm::SignalMessage::from_bytes,
                interolm::SignalMessage::to_bytes,
                true,
                "signal message",
            ) {
                let _ = (m.version_byte(), m.session_version(), m.ratchet_key(), m.counter(), m.previous_counter());
                let _ = m.has_pq_ratchet();
            }
        }
        1 => {
            if let Some(m) = roundtrip(
                body,
                interolm::PreKeySignalMessage::from_bytes,
                interolm::PreKeySignalMessage::to_bytes,
                true,
                "pre-key signal message",
            ) {
                let _ = (m.session_version(), m.registration_id(), m.pre_key_id(), m.signed_pre_key_id());
                let _ = (m.kyber_pre_key_id(), m.base_key(), m.identity_key(), m.message().to_bytes());
                assert_eq!(m.message().session_version(), m.session_version());
            }
        }
        2 => {
            if let Ok(m) = InterolmMessage::from_parts(usize::from(sel >> 4), body) {
                let (t, b) = m.to_parts();
                assert_eq!(b, body);
                assert_eq!(InterolmMessage::from_parts(t, &b).as_ref(), Ok(&m));
            }
        }
        _ => {
            if let Ok(s) = core::str::from_utf8(body)
                && let Ok(m) = InterolmMessage::from_base64_parts(usize::from(sel >> 4), s)
            {
                let (t, b) = m.to_base64_parts();
                assert_eq!(InterolmMessage::from_base64_parts(t, &b).as_ref(), Ok(&m));
            }
        }
    }
}

/// A `PreKeyBundle` (caudata's own canonical encoding): decode, re-encode equal to the input,
/// verify, and start an outbound session from it (refused or made, never a panic).
pub fn decode_bundle(data: &[u8]) {
    let Some(bundle) = roundtrip(data, PreKeyBundle::from_bytes, PreKeyBundle::to_bytes, true, "bundle") else {
        return;
    };
    let verified = bundle.verify();
    let mut alice = interolm::Account::new_with_rng(&mut FuzzRng::new(b"bundle alice"));
    alice.allow_x3dh(true);
    let session = alice.create_outbound_session_with_rng(&bundle, &mut FuzzRng::new(data));
    if verified.is_err() {
        assert!(session.is_err(), "an unverifiable bundle made a session");
    }
    if let Ok(mut s) = session {
        let m = s.encrypt_with_rng(b"x", &mut FuzzRng::new(b"enc")).expect("a fresh session encrypts");
        assert!(matches!(m, InterolmMessage::PreKey(_)));
    }
}

// ------------------------------------------------------------------ fixed sessions

/// Established Olm sessions (Alice initiated; both sides have sent and received), Bob's
/// account with one unused one-time key, and messages from Alice that Bob has not seen.
pub struct OlmFixture {
    /// Alice's session.
    pub alice: olm::Session,
    /// Bob's session (the one decrypt fuzzing targets).
    pub bob: olm::Session,
    /// Bob's account, with a one-time key left.
    pub bob_account: olm::Account,
    /// The identity key of Carol, whose pre-key message to Bob's account is in `pending`.
    pub carol_identity: Curve25519PublicKey,
    /// Undelivered messages to Bob: a normal message, a pre-key message of a new session
    /// for the account, and others.
    pub pending: Vec<OlmMessage>,
}

/// Builds [`OlmFixture`] deterministically.
pub fn olm_fixture() -> OlmFixture {
    let rng = &mut FuzzRng::new(b"caudata olm fixture");
    let alice = olm::Account::new_with_rng(rng);
    let mut bob = olm::Account::new_with_rng(rng);
    bob.generate_one_time_keys_with_rng(2, rng);
    let mut otks: Vec<Curve25519PublicKey> = bob.one_time_keys().into_values().collect();
    otks.sort();
    let cfg = olm::SessionConfig::version_1();
    let mut a = alice.create_outbound_session_with_rng(cfg, bob.curve25519_key(), otks[0], rng).expect("outbound");
    let OlmMessage::PreKey(pk) = a.encrypt_with_rng(b"hello bob", rng) else { unreachable!() };
    let mut b = bob.create_inbound_session(cfg, alice.curve25519_key(), &pk).expect("inbound").session;
    let reply = b.encrypt_with_rng(b"hello alice", rng);
    assert_eq!(a.decrypt(&reply).expect("reply"), b"hello alice");
    let mut pending = vec![a.encrypt_with_rng(b"first on a new chain", rng), a.encrypt_with_rng(b"second", rng)];
    b.decrypt(&a.encrypt_with_rng(b"third, delivered", rng)).expect("third");
    pending.push(a.encrypt_with_rng(b"fourth", rng));
    // A second initiator's pre-key message, for the account path.
    let carol = olm::Account::new_with_rng(rng);
    let mut c = carol.create_outbound_session_with_rng(cfg, bob.curve25519_key(), otks[1], rng).expect("carol");
    pending.push(c.encrypt_with_rng(b"hello from carol", rng));
    OlmFixture { alice: a, bob: b, bob_account: bob, carol_identity: carol.curve25519_key(), pending }
}

/// A Megolm sender and a receiver made from its first session key, with messages the
/// receiver has not decrypted.
pub struct MegolmFixture {
    /// The receiver.
    pub inbound: InboundGroupSession,
    /// Messages 0..4 of the sender.
    pub messages: Vec<MegolmMessage>,
    /// The sender's session key at index 0.
    pub session_key: SessionKey,
}

/// Builds [`MegolmFixture`] deterministically.
pub fn megolm_fixture() -> MegolmFixture {
    let mut out = GroupSession::new_with_rng(megolm::SessionConfig::version_1(), &mut FuzzRng::new(b"megolm"));
    let session_key = out.session_key();
    let inbound = InboundGroupSession::new(&session_key, megolm::SessionConfig::version_1());
    let messages = (0..4).map(|i| out.encrypt(format!("megolm message {i}"))).collect();
    MegolmFixture { inbound, messages, session_key }
}

/// Established interolm sessions (PQXDH, or X3DH), and messages Bob has not seen.
pub struct InterolmFixture {
    /// Alice's session (the initiator).
    pub alice: interolm::Session,
    /// Bob's session.
    pub bob: interolm::Session,
    /// Bob's account, with prekeys left for a new initiator.
    pub bob_account: interolm::Account,
    /// Bob's signed prekey (Alice's first receiving chain).
    pub bob_signed_pre_key: Curve25519PublicKey,
    /// Undelivered messages to Bob: Alice's, then a new initiator's pre-key message.
    pub pending: Vec<InterolmMessage>,
    /// Whether Alice has received a reply (if not, her messages are pre-key messages).
    pub answered: bool,
}

/// Builds [`InterolmFixture`] deterministically; `answered`: Bob has replied and Alice has
/// read the reply (otherwise only Alice's first message has reached Bob).
pub fn interolm_fixture(pqxdh: bool, answered: bool) -> InterolmFixture {
    let rng = &mut FuzzRng::new(if pqxdh { b"caudata interolm pqxdh" } else { b"caudata interolm x3dh." });
    let mut alice = interolm::Account::new_with_rng(rng);
    let mut bob = interolm::Account::new_with_rng(rng);
    alice.allow_x3dh(!pqxdh);
    bob.allow_x3dh(!pqxdh);
    bob.generate_signed_pre_key_with_rng(rng);
    bob.generate_one_time_pre_keys_with_rng(2, rng);
    if pqxdh {
        bob.generate_kyber_pre_key_with_rng(true, rng);
    }
    let bundle = bob.pre_key_bundle(1).expect("bundle");
    let mut a = alice.create_outbound_session_with_rng(&bundle, rng).expect("outbound");
    let InterolmMessage::PreKey(pk) = a.encrypt_with_rng(b"hello bob", rng).unwrap() else { unreachable!() };
    let mut b = bob.create_inbound_session_with_rng(&pk, rng).expect("inbound").session;
    if answered {
        let reply = b.encrypt_with_rng(b"hello alice", rng).unwrap();
        assert_eq!(a.decrypt_with_rng(&reply, rng).expect("reply"), b"hello alice");
    }
    let mut pending = vec![a.encrypt_with_rng(b"first", rng).unwrap(), a.encrypt_with_rng(b"second", rng).unwrap()];
    b.decrypt_with_rng(&a.encrypt_with_rng(b"third, delivered", rng).unwrap(), rng).expect("third");
    pending.push(a.encrypt_with_rng(b"fourth", rng).unwrap());
    let mut carol = interolm::Account::new_with_rng(rng);
    carol.allow_x3dh(!pqxdh);
    let bundle = bob.pre_key_bundle(1).expect("bundle");
    let mut c = carol.create_outbound_session_with_rng(&bundle, rng).expect("carol");
    pending.push(c.encrypt_with_rng(b"hello from carol", rng).unwrap());
    InterolmFixture { alice: a, bob: b, bob_account: bob, bob_signed_pre_key: bundle.signed_pre_key, pending, answered }
}

fn olm_state(s: &olm::Session) -> Vec<u8> {
    s.pickle().to_unencrypted_bytes().to_vec()
}

fn olm_account_state(a: &olm::Account) -> Vec<u8> {
    a.pickle().to_unencrypted_bytes().to_vec()
}

fn megolm_state(s: &InboundGroupSession) -> Vec<u8> {
    s.pickle().to_unencrypted_bytes().to_vec()
}

type PreKeyState = (Vec<u32>, Vec<(u32, Curve25519PublicKey)>, Vec<u32>);

fn interolm_account_state(a: &interolm::Account) -> PreKeyState {
    let p = a.pre_keys();
    (p.signed_pre_key_ids(), p.one_time_pre_keys(), p.kyber_pre_key_ids())
}

thread_local! {
    static OLM: RefCell<Option<OlmFixture>> = const { RefCell::new(None) };
    static MEGOLM: RefCell<Option<MegolmFixture>> = const { RefCell::new(None) };
    static INTEROLM: RefCell<[Option<InterolmFixture>; 2]> = const { RefCell::new([None, None]) };
}

// ------------------------------------------------------------------ decryption

/// Arbitrary bytes as an Olm message to Bob's established session (first byte: message type
/// and path), or as a pre-key message to Bob's account. A failure must leave the session or
/// the account's unencrypted pickle unchanged.
pub fn decrypt_olm(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let Ok(message) = OlmMessage::from_parts(usize::from(sel & 1), body) else { return };
    OLM.with(|cell| {
        let mut slot = cell.borrow_mut();
        let f = slot.get_or_insert_with(olm_fixture);
        let changed = if sel & 2 == 0 {
            let before = olm_state(&f.bob);
            match f.bob.decrypt(&message) {
                Ok(_) => true,
                Err(_) => {
                    assert_eq!(olm_state(&f.bob), before, "a failed Olm decrypt changed the session");
                    false
                }
            }
        } else {
            let OlmMessage::PreKey(pk) = &message else { return };
            let before = olm_account_state(&f.bob_account);
            let cfg = if sel & 4 == 0 { olm::SessionConfig::version_1() } else { olm::SessionConfig::version_2() };
            match f.bob_account.create_inbound_session(cfg, f.carol_identity, pk) {
                Ok(r) => {
                    assert!(r.session.matches(pk));
                    true
                }
                Err(_) => {
                    assert_eq!(
                        olm_account_state(&f.bob_account),
                        before,
                        "a failed inbound session changed the account"
                    );
                    false
                }
            }
        };
        if changed {
            *slot = None; // rebuilt for the next input: every input starts from the same state
        }
    });
}

/// Arbitrary bytes as a Megolm message to the fixed inbound group session. A failure must
/// leave its unencrypted pickle unchanged; a success must report the index the message says.
pub fn decrypt_megolm(data: &[u8]) {
    let Ok(message) = MegolmMessage::from_bytes(data) else { return };
    MEGOLM.with(|cell| {
        let mut slot = cell.borrow_mut();
        let f = slot.get_or_insert_with(megolm_fixture);
        let before = megolm_state(&f.inbound);
        match f.inbound.decrypt(&message) {
            Ok(d) => {
                assert_eq!(d.message_index, message.message_index());
                *slot = None;
            }
            Err(_) => assert_eq!(megolm_state(&f.inbound), before, "a failed Megolm decrypt changed the session"),
        }
    });
}

/// Arbitrary bytes as a Signal-dialect message to Bob's established session (first byte:
/// message type, X3DH or PQXDH session, session or account path). A failure must leave the
/// ratchet snapshot (or the account's prekeys) unchanged.
pub fn decrypt_interolm(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let Ok(message) = InterolmMessage::from_parts(2 + usize::from(sel & 1), body) else { return };
    let which = usize::from(sel >> 1 & 1);
    INTEROLM.with(|cell| {
        let mut slots = cell.borrow_mut();
        let f = slots[which].get_or_insert_with(|| interolm_fixture(which == 0, which == 0));
        let rng = &mut FuzzRng::new(data);
        let changed = if sel & 4 == 0 {
            let before = f.bob.snapshot_for_testing_only();
            match f.bob.decrypt_with_rng(&message, rng) {
                Ok(_) => true,
                Err(_) => {
                    assert_eq!(f.bob.snapshot_for_testing_only(), before, "a failed decrypt changed the session");
                    false
                }
            }
        } else {
            let InterolmMessage::PreKey(pk) = &message else { return };
            let before = interolm_account_state(&f.bob_account);
            match f.bob_account.create_inbound_session_with_rng(pk, rng) {
                Ok(r) => {
                    assert!(r.session.matches(pk));
                    true
                }
                Err(_) => {
                    assert_eq!(interolm_account_state(&f.bob_account), before, "a failed inbound changed the account");
                    false
                }
            }
        };
        if changed {
            slots[which] = None;
        }
    });
}

// ------------------------------------------------------------------ pickles

/// Encrypts `raw` as libolm (and vodozemac) encrypt pickles, so that fuzzed plaintexts reach
/// the decoders behind the MAC.
pub fn libolm_pickle_encrypt(raw: &[u8], pickle_key: &[u8]) -> String {
    let keys = AesCbcKeys::derive(None, pickle_key, b"Pickle");
    let mut out = aes256_cbc_encrypt(&keys.aes_key, &keys.iv, raw);
    let mac = HmacKey::new(&keys.mac_key).mac(&[&out]);
    out.extend_from_slice(&mac.expose()[..8]);
    base64_encode(out)
}

/// Decrypts a libolm-style pickle (no checks beyond the MAC), for making seeds.
pub fn libolm_pickle_decrypt(text: &str, pickle_key: &[u8]) -> Option<Vec<u8>> {
    let raw = crate::primitives::base64_decode(text).ok()?;
    let (ct, mac) = raw.split_at(raw.len().checked_sub(8)?);
    let keys = AesCbcKeys::derive(None, pickle_key, b"Pickle");
    let expected = HmacKey::new(&keys.mac_key).mac(&[ct]);
    if expected.expose()[..8] != *mac {
        return None;
    }
    crate::primitives::aes256_cbc_decrypt(&keys.aes_key, &keys.iv, ct)
}

/// After an import: the object's own unencrypted pickle decodes back to itself.
macro_rules! own_fixed_point {
    ($pickle:ty, $object:ty, $value:expr) => {{
        let value: $object = $value;
        let bytes = value.pickle().to_unencrypted_bytes();
        let again = <$object>::from_pickle(<$pickle>::from_unencrypted_bytes(&bytes).expect("own pickle reloads"));
        assert_eq!(*again.pickle().to_unencrypted_bytes(), *bytes, "own pickle is not a fixed point");
        value
    }};
}

/// caudata's own pickle format, for every object. First byte: bit 3 clear: an Olm or Megolm
/// object (low 2 bits: account, Olm session, group session, inbound group session); bit 3
/// set: an interolm object (bit 0: session, account); bit 2: encrypted (else unencrypted:
/// canonical, re-encoding equals the input, in the current format).
pub fn unpickle_own(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    if sel & 8 != 0 {
        unpickle_own_interolm(sel, body);
        return;
    }
    macro_rules! own {
        ($pickle:ty, $object:ty) => {{
            if sel & 4 == 0 {
                if let Ok(p) = <$pickle>::from_unencrypted_bytes(body) {
                    // canonical in the current format; an older format's body re-encodes in
                    // the current one (and must then be a fixed point, checked below)
                    if body.get(4) == Some(&crate::pickle::FORMAT_VERSION) {
                        assert_eq!(*p.to_unencrypted_bytes(), *body, "own unencrypted pickle is not canonical");
                    }
                    own_fixed_point!($pickle, $object, <$object>::from_pickle(p));
                }
            } else {
                if let Ok(p) = <$pickle>::from_encrypted_bytes(body, &PICKLE_KEY) {
                    own_fixed_point!($pickle, $object, <$object>::from_pickle(p));
                }
                if let Ok(s) = core::str::from_utf8(body)
                    && let Ok(p) = <$pickle>::from_encrypted(s, &PICKLE_KEY)
                {
                    own_fixed_point!($pickle, $object, <$object>::from_pickle(p));
                }
            }
        }};
    }
    match sel & 3 {
        0 => own!(AccountPickle, olm::Account),
        1 => own!(SessionPickle, olm::Session),
        2 => own!(GroupSessionPickle, GroupSession),
        _ => own!(InboundGroupSessionPickle, InboundGroupSession),
    }
}

/// The interolm half of [`unpickle_own`] (object types 5 and 6).
fn unpickle_own_interolm(sel: u8, body: &[u8]) {
    // Parses as `sel` says; an unencrypted pickle of the current format must be canonical.
    macro_rules! parse {
        ($pickle:ty) => {{
            let parsed = if sel & 4 == 0 {
                <$pickle>::from_unencrypted_bytes(body)
            } else {
                <$pickle>::from_encrypted_bytes(body, &PICKLE_KEY)
            };
            let Ok(p) = parsed else { return };
            if sel & 4 == 0 && body.get(4) == Some(&crate::pickle::FORMAT_VERSION) {
                assert_eq!(*p.to_unencrypted_bytes(), *body, "own unencrypted pickle is not canonical");
            }
            p
        }};
    }
    if sel & 1 == 0 {
        let session = interolm::Session::from_pickle(parse!(InterolmSessionPickle));
        own_fixed_point!(InterolmSessionPickle, interolm::Session, session);
    } else {
        // An account's pickle() is fallible (its limits); an account that loaded is within them.
        let repickle = |a: &interolm::Account| a.pickle().expect("a loaded account pickles").to_unencrypted_bytes();
        let account = interolm::Account::from_pickle(parse!(InterolmAccountPickle));
        let bytes = repickle(&account);
        let again = interolm::Account::from_pickle(
            InterolmAccountPickle::from_unencrypted_bytes(&bytes).expect("own pickle reloads"),
        );
        assert_eq!(*repickle(&again), *bytes, "own pickle is not a fixed point");
    }
}

/// libolm pickles of every object. First byte: object (low 2 bits); bit 2 set: the rest is
/// the pickle text itself under [`PICKLE_KEY`] (reaches only the MAC), else the rest is the
/// plaintext, encrypted here so that the decoder sees it. An import re-exports (when libolm
/// can represent it) to a pickle that imports to the same object.
pub fn unpickle_libolm(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let text = if sel & 4 == 0 {
        libolm_pickle_encrypt(body, &PICKLE_KEY)
    } else {
        let Ok(s) = core::str::from_utf8(body) else { return };
        s.to_owned()
    };
    macro_rules! libolm {
        ($pickle:ty, $object:ty) => {{
            if let Ok(v) = <$object>::from_libolm_pickle(&text, &PICKLE_KEY) {
                let v = own_fixed_point!($pickle, $object, v);
                if let Ok(exported) = v.to_libolm_pickle(&PICKLE_KEY) {
                    let back =
                        <$object>::from_libolm_pickle(&exported, &PICKLE_KEY).expect("own libolm export imports");
                    assert_eq!(back.to_libolm_pickle(&PICKLE_KEY).ok(), Some(exported), "libolm export not stable");
                }
            }
        }};
    }
    match sel & 3 {
        0 => libolm!(AccountPickle, olm::Account),
        1 => libolm!(SessionPickle, olm::Session),
        2 => libolm!(GroupSessionPickle, GroupSession),
        _ => libolm!(InboundGroupSessionPickle, InboundGroupSession),
    }
}

/// vodozemac pickles (JSON under libolm's pickle cipher) of every object; the first byte
/// as for [`unpickle_libolm`].
pub fn unpickle_vodozemac(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let text = if sel & 4 == 0 {
        libolm_pickle_encrypt(body, &PICKLE_KEY)
    } else {
        let Ok(s) = core::str::from_utf8(body) else { return };
        s.to_owned()
    };
    macro_rules! vodozemac {
        ($pickle:ty, $object:ty) => {{
            if let Ok(v) = <$object>::from_vodozemac_pickle(&text, &PICKLE_KEY) {
                own_fixed_point!($pickle, $object, v);
            }
        }};
    }
    match sel & 3 {
        0 => vodozemac!(AccountPickle, olm::Account),
        1 => vodozemac!(SessionPickle, olm::Session),
        2 => vodozemac!(GroupSessionPickle, GroupSession),
        _ => vodozemac!(InboundGroupSessionPickle, InboundGroupSession),
    }
}

// ------------------------------------------------------------------ two parties

/// One step of a two-party schedule. Positions index the in-flight messages modulo their
/// number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Alice (`from_a`) or Bob sends this many messages.
    Send {
        /// Alice sends (else Bob).
        from_a: bool,
        /// How many.
        count: u16,
    },
    /// Deliver the in-flight message at this position (any position: reordering).
    Deliver(usize),
    /// Deliver a copy and keep the message in flight (a duplicate).
    Duplicate(usize),
    /// Lose the message.
    Drop(usize),
    /// Deliver a copy with the byte at `.1` (modulo the length) XORed with `.2` (non-zero);
    /// the original stays in flight.
    Corrupt(usize, usize, u8),
    /// Pickle and restore Alice (`true`) or Bob, mid-conversation (a no-op where the
    /// dialect has no pickle).
    Pickle(bool),
}

/// Reads a schedule from fuzzer bytes: one byte an opcode, plus its arguments.
pub fn steps_from_bytes(data: &[u8]) -> Vec<Step> {
    let mut it = data.iter().copied();
    let mut steps = Vec::new();
    while let Some(op) = it.next() {
        let mut arg = || usize::from(it.next().unwrap_or(0));
        let step = match op % 8 {
            0 | 1 => Step::Send { from_a: op & 8 == 0, count: u16::from(op >> 4) + 1 },
            2 => {
                // a burst, to reach the skipped-key limits
                let n = arg();
                Step::Send { from_a: op & 8 == 0, count: (n as u16 + 1) * 4 }
            }
            3 | 4 => Step::Deliver(arg()),
            5 => {
                if op & 8 == 0 {
                    Step::Duplicate(arg())
                } else {
                    Step::Drop(arg())
                }
            }
            6 => {
                let (i, p, x) = (arg(), arg() * 7 + arg(), arg() as u8);
                Step::Corrupt(i, p, x.max(1))
            }
            _ => Step::Pickle(op & 8 == 0),
        };
        steps.push(step);
    }
    steps
}

/// A dialect's limits, as the reference model needs them.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest jump ahead in a chain (and the largest first index of a new chain).
    pub max_gap: u32,
    /// Skipped keys kept per receiving chain (the newest).
    pub max_skipped: usize,
    /// Receiving chains kept (the newest).
    pub max_chains: usize,
}

/// Olm's limits.
pub const OLM_LIMITS: Limits = Limits {
    max_gap: crate::consts::OLM_MAX_MESSAGE_GAP,
    max_skipped: crate::consts::OLM_MAX_SKIPPED_KEYS,
    max_chains: crate::consts::MAX_RECEIVER_CHAINS,
};

/// The Signal dialect's limits.
pub const SIGNAL_LIMITS: Limits = Limits {
    max_gap: crate::consts::SIGNAL_MAX_FORWARD_JUMPS,
    max_skipped: crate::consts::SIGNAL_MAX_SKIPPED_KEYS,
    max_chains: crate::consts::MAX_RECEIVER_CHAINS,
};

/// The reference model of one receiver: which (ratchet key, index) deliveries must decrypt.
///
/// Chains are named by the sender's ratchet key. A key the receiver has never seen is always
/// the *next* chain of the root ratchet (a sender makes chain n + 1 only after receiving
/// chain n of the other side, which the receiver made only after opening chain n − 1), so it
/// opens; a key whose chain was evicted (beyond `max_chains`) never decrypts again. In a
/// chain, an index ahead of the next one decrypts if the jump is within `max_gap`, and keeps
/// the newest `max_skipped` passed-over keys; an index behind decrypts once if its key is
/// still stored.
#[derive(Debug, Clone)]
pub struct ModelReceiver {
    limits: Limits,
    chains: VecDeque<(Curve25519PublicKey, u32, VecDeque<u32>)>,
    opened: BTreeSet<Curve25519PublicKey>,
    delivered: BTreeSet<(Curve25519PublicKey, u32)>,
}

impl ModelReceiver {
    /// A receiver with no chain.
    pub fn new(limits: Limits) -> Self {
        Self { limits, chains: VecDeque::new(), opened: BTreeSet::new(), delivered: BTreeSet::new() }
    }

    /// Whether a delivery of (key, index) must decrypt; updates the model as the receiver
    /// must update itself.
    pub fn deliver(&mut self, key: Curve25519PublicKey, index: u32) -> bool {
        let l = self.limits;
        if !self.delivered.insert((key, index)) {
            return false; // a replay
        }
        if let Some(c) = self.chains.iter_mut().find(|c| c.0 == key) {
            if index < c.1 {
                return match c.2.iter().position(|&i| i == index) {
                    Some(p) => {
                        c.2.remove(p);
                        true
                    }
                    None => false,
                };
            }
            if index - c.1 > l.max_gap {
                self.delivered.remove(&(key, index));
                return false;
            }
            let keep_from = index.saturating_sub(l.max_skipped as u32).max(c.1);
            c.2.extend(keep_from..index);
            while c.2.len() > l.max_skipped {
                c.2.pop_front();
            }
            c.1 = index + 1;
            return true;
        }
        if self.opened.contains(&key) {
            return false; // evicted
        }
        if index > l.max_gap {
            self.delivered.remove(&(key, index));
            return false;
        }
        self.opened.insert(key);
        let skipped: VecDeque<u32> = (index.saturating_sub(l.max_skipped as u32)..index).collect();
        self.chains.push_back((key, index + 1, skipped));
        while self.chains.len() > l.max_chains {
            self.chains.pop_front();
        }
        true
    }
}

/// What a schedule did, for reports and for tests that a schedule exercised something.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Messages encrypted.
    pub sent: usize,
    /// Deliveries (duplicates included) that decrypted, as the model required.
    pub decrypted: usize,
    /// Deliveries the model and the session both refused.
    pub refused: usize,
    /// Corrupted copies refused.
    pub corrupt_refused: usize,
    /// Corrupted copies that decrypted to the original plaintext (a change in a field that
    /// no key depends on, e.g. the low nibble of a pre-key message's version byte).
    pub corrupt_benign: usize,
    /// Pickle round trips.
    pub pickles: usize,
}

/// A dialect as the two-party driver sees it.
trait Party {
    type Msg: Clone;
    type State: PartialEq + core::fmt::Debug;
    fn encrypt(&mut self, plaintext: &[u8], rng: &mut FuzzRng) -> Self::Msg;
    fn decrypt(&mut self, m: &Self::Msg, rng: &mut FuzzRng) -> Result<Vec<u8>, DecryptionError>;
    fn header(m: &Self::Msg) -> (Curve25519PublicKey, u32);
    fn parts(m: &Self::Msg) -> (usize, Vec<u8>);
    fn from_parts(t: usize, body: &[u8]) -> Option<Self::Msg>;
    fn state(&self) -> Self::State;
    /// Pickles and restores; returns whether the dialect can.
    fn reload(&mut self, how: u8, rng: &mut FuzzRng) -> bool;
}

impl Party for olm::Session {
    type Msg = OlmMessage;
    type State = Vec<u8>;
    fn encrypt(&mut self, plaintext: &[u8], rng: &mut FuzzRng) -> OlmMessage {
        self.encrypt_with_rng(plaintext, rng)
    }
    fn decrypt(&mut self, m: &OlmMessage, _: &mut FuzzRng) -> Result<Vec<u8>, DecryptionError> {
        olm::Session::decrypt(self, m)
    }
    fn header(m: &OlmMessage) -> (Curve25519PublicKey, u32) {
        match m {
            OlmMessage::Normal(n) => (n.ratchet_key(), n.chain_index()),
            OlmMessage::PreKey(p) => (p.message().ratchet_key(), p.message().chain_index()),
        }
    }
    fn parts(m: &OlmMessage) -> (usize, Vec<u8>) {
        m.to_parts()
    }
    fn from_parts(t: usize, body: &[u8]) -> Option<OlmMessage> {
        OlmMessage::from_parts(t, body).ok()
    }
    fn state(&self) -> Vec<u8> {
        olm_state(self)
    }
    fn reload(&mut self, how: u8, rng: &mut FuzzRng) -> bool {
        let before = olm_state(self);
        let restored = if how.is_multiple_of(2) {
            SessionPickle::from_unencrypted_bytes(&self.pickle().to_unencrypted_bytes()).expect("own pickle")
        } else {
            let text = self.pickle().encrypt_with_rng(&PICKLE_KEY, rng);
            SessionPickle::from_encrypted(&text, &PICKLE_KEY).expect("own encrypted pickle")
        };
        *self = olm::Session::from_pickle(restored);
        assert_eq!(olm_state(self), before, "pickle round trip changed the session");
        true
    }
}

impl Party for interolm::Session {
    type Msg = InterolmMessage;
    type State = interolm::RatchetSnapshot;
    fn encrypt(&mut self, plaintext: &[u8], rng: &mut FuzzRng) -> InterolmMessage {
        self.encrypt_with_rng(plaintext, rng).unwrap()
    }
    fn decrypt(&mut self, m: &InterolmMessage, rng: &mut FuzzRng) -> Result<Vec<u8>, DecryptionError> {
        self.decrypt_with_rng(m, rng)
    }
    fn header(m: &InterolmMessage) -> (Curve25519PublicKey, u32) {
        let s = match m {
            InterolmMessage::Whisper(s) => s.clone(),
            InterolmMessage::PreKey(p) => p.message(),
        };
        (s.ratchet_key(), s.counter())
    }
    fn parts(m: &InterolmMessage) -> (usize, Vec<u8>) {
        m.to_parts()
    }
    fn from_parts(t: usize, body: &[u8]) -> Option<InterolmMessage> {
        InterolmMessage::from_parts(t, body).ok()
    }
    fn state(&self) -> interolm::RatchetSnapshot {
        self.snapshot_for_testing_only()
    }
    fn reload(&mut self, how: u8, rng: &mut FuzzRng) -> bool {
        let before = self.pickle().to_unencrypted_bytes();
        let snapshot = self.snapshot_for_testing_only();
        let restored = if how.is_multiple_of(2) {
            InterolmSessionPickle::from_unencrypted_bytes(&before).expect("own pickle")
        } else {
            let text = self.pickle().encrypt_with_rng(&PICKLE_KEY, rng);
            InterolmSessionPickle::from_encrypted(&text, &PICKLE_KEY).expect("own encrypted pickle")
        };
        *self = interolm::Session::from_pickle(restored);
        assert_eq!(*self.pickle().to_unencrypted_bytes(), *before, "pickle round trip changed the session");
        assert!(self.snapshot_for_testing_only() == snapshot, "pickle round trip changed the ratchet");
        true
    }
}

/// The most messages one schedule encrypts.
pub const MAX_SENT: usize = 2_500;

struct InFlight<M> {
    to_b: bool,
    message: M,
    plaintext: Vec<u8>,
}

/// Runs `steps` between `a` and `b` against the model; panics on any disagreement.
fn run<P: Party>(
    mut a: P,
    mut b: P,
    mut model_a: ModelReceiver,
    mut model_b: ModelReceiver,
    steps: &[Step],
    rng: &mut FuzzRng,
) -> Stats {
    let mut stats = Stats::default();
    let mut flight: Vec<InFlight<P::Msg>> = Vec::new();
    let mut counter = 0u32;
    // Delivers `m` (a copy that is in flight or was) and checks the outcome against the model.
    fn deliver<P: Party>(
        session: &mut P,
        model: &mut ModelReceiver,
        m: &P::Msg,
        plaintext: &[u8],
        rng: &mut FuzzRng,
        stats: &mut Stats,
    ) {
        let (key, index) = P::header(m);
        let must = model.deliver(key, index);
        let before = session.state();
        match session.decrypt(m, rng) {
            Ok(pt) => {
                assert!(must, "decrypted a message the model refuses: {key:?} #{index}");
                assert_eq!(pt, plaintext, "the parties disagree on a plaintext");
                stats.decrypted += 1;
            }
            Err(e) => {
                assert!(!must, "refused a message the model accepts ({key:?} #{index}): {e:?}");
                assert_eq!(session.state(), before, "a failed decrypt ({e:?}) changed the session");
                stats.refused += 1;
            }
        }
    }
    for step in steps {
        match *step {
            Step::Send { from_a, count } => {
                // bounded work per input
                for _ in 0..count.min(MAX_SENT.saturating_sub(stats.sent) as u16) {
                    counter += 1;
                    let mut plaintext = format!("m{counter}").into_bytes();
                    plaintext.resize(plaintext.len() + (counter as usize * 7) % 23, b'.');
                    let message = if from_a { a.encrypt(&plaintext, rng) } else { b.encrypt(&plaintext, rng) };
                    flight.push(InFlight { to_b: from_a, message, plaintext });
                    stats.sent += 1;
                }
            }
            Step::Drop(i) if !flight.is_empty() => {
                let i = i % flight.len();
                flight.remove(i);
            }
            Step::Deliver(i) | Step::Duplicate(i) if !flight.is_empty() => {
                let i = i % flight.len();
                let f = if matches!(step, Step::Deliver(_)) {
                    flight.remove(i)
                } else {
                    let f = &flight[i];
                    InFlight { to_b: f.to_b, message: f.message.clone(), plaintext: f.plaintext.clone() }
                };
                let (session, model) = if f.to_b { (&mut b, &mut model_b) } else { (&mut a, &mut model_a) };
                deliver(session, model, &f.message, &f.plaintext, rng, &mut stats);
            }
            Step::Corrupt(i, pos, x) if !flight.is_empty() => {
                let f = &flight[i % flight.len()];
                let (t, mut bytes) = P::parts(&f.message);
                let pos = pos % bytes.len();
                bytes[pos] ^= x.max(1);
                let Some(bad) = P::from_parts(t, &bytes) else { continue };
                let (session, model) = if f.to_b { (&mut b, &mut model_b) } else { (&mut a, &mut model_a) };
                let before = session.state();
                match session.decrypt(&bad, rng) {
                    Ok(pt) => {
                        // Only a change that leaves every authenticated and key-bearing
                        // field alone may decrypt, and it then counts as the original.
                        assert_eq!(pt, f.plaintext, "a corrupted message decrypted to something else");
                        assert_eq!(P::header(&bad), P::header(&f.message));
                        let (key, index) = P::header(&f.message);
                        assert!(model.deliver(key, index), "a corrupted copy of a dead message decrypted");
                        stats.corrupt_benign += 1;
                    }
                    Err(e) => {
                        assert_eq!(
                            session.state(),
                            before,
                            "a failed decrypt of a corrupted copy ({e:?}) changed the session"
                        );
                        stats.corrupt_refused += 1;
                    }
                }
            }
            Step::Pickle(of_a) => {
                let p = if of_a { &mut a } else { &mut b };
                if p.reload(counter as u8, rng) {
                    stats.pickles += 1;
                }
            }
            _ => {}
        }
    }
    // Whatever happened, both can still talk (within what the model allows).
    for from_a in [true, false] {
        let plaintext = b"final".to_vec();
        let m = if from_a { a.encrypt(&plaintext, rng) } else { b.encrypt(&plaintext, rng) };
        let (session, model) = if from_a { (&mut b, &mut model_b) } else { (&mut a, &mut model_a) };
        deliver(session, model, &m, &plaintext, rng, &mut stats);
    }
    stats
}

thread_local! {
    static OLM_PAIR: RefCell<Option<(Vec<u8>, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Runs a schedule between two fresh Olm sessions (Alice sent one pre-key message, Bob read
/// it).
pub fn run_olm(steps: &[Step]) -> Stats {
    let (pa, pb) = OLM_PAIR.with(|c| {
        c.borrow_mut()
            .get_or_insert_with(|| {
                let rng = &mut FuzzRng::new(b"caudata olm pair");
                let alice = olm::Account::new_with_rng(rng);
                let mut bob = olm::Account::new_with_rng(rng);
                bob.generate_one_time_keys_with_rng(1, rng);
                let otk = *bob.one_time_keys().values().next().expect("otk");
                let cfg = olm::SessionConfig::version_1();
                let mut a = alice.create_outbound_session_with_rng(cfg, bob.curve25519_key(), otk, rng).expect("out");
                let OlmMessage::PreKey(pk) = a.encrypt_with_rng(b"setup", rng) else { unreachable!() };
                let b = bob.create_inbound_session(cfg, alice.curve25519_key(), &pk).expect("in").session;
                (olm_state(&a), olm_state(&b))
            })
            .clone()
    });
    let load = |p: &[u8]| olm::Session::from_pickle(SessionPickle::from_unencrypted_bytes(p).expect("pair pickle"));
    let (a, b) = (load(&pa), load(&pb));
    let model_a = ModelReceiver::new(OLM_LIMITS);
    let mut model_b = ModelReceiver::new(OLM_LIMITS);
    // Bob has read Alice's message 0 on her first chain.
    let OlmMessage::PreKey(pk) = olm::Session::from_pickle(SessionPickle::from_unencrypted_bytes(&pa).expect("a"))
        .encrypt_with_rng(b"peek", &mut FuzzRng::new(b"peek"))
    else {
        unreachable!()
    };
    assert!(model_b.deliver(pk.message().ratchet_key(), 0));
    run(a, b, model_a, model_b, steps, &mut FuzzRng::new(b"olm schedule"))
}

/// Runs a schedule between two fresh interolm sessions (PQXDH or X3DH; Alice sent one
/// pre-key message, Bob read it).
pub fn run_interolm(pqxdh: bool, steps: &[Step]) -> Stats {
    let rng = &mut FuzzRng::new(if pqxdh { b"interolm pair pqxdh" } else { b"interolm pair x3dh." });
    let mut alice = interolm::Account::new_with_rng(rng);
    let mut bob = interolm::Account::new_with_rng(rng);
    alice.allow_x3dh(!pqxdh);
    bob.allow_x3dh(!pqxdh);
    bob.generate_signed_pre_key_with_rng(rng);
    bob.generate_one_time_pre_keys_with_rng(1, rng);
    if pqxdh {
        bob.generate_kyber_pre_key_with_rng(false, rng);
    }
    let bundle = bob.pre_key_bundle(1).expect("bundle");
    let mut a = alice.create_outbound_session_with_rng(&bundle, rng).expect("outbound");
    let InterolmMessage::PreKey(pk) = a.encrypt_with_rng(b"setup", rng).unwrap() else { unreachable!() };
    let b = bob.create_inbound_session_with_rng(&pk, rng).expect("inbound").session;
    // Alice's first receiving chain is Bob's signed prekey (never sent on, but it takes a slot).
    let mut model_a = ModelReceiver::new(SIGNAL_LIMITS);
    model_a.opened.insert(bundle.signed_pre_key);
    model_a.chains.push_back((bundle.signed_pre_key, 0, VecDeque::new()));
    let mut model_b = ModelReceiver::new(SIGNAL_LIMITS);
    assert!(model_b.deliver(pk.message().ratchet_key(), 0));
    run(a, b, model_a, model_b, steps, rng)
}

/// The stateful two-party Olm target: the bytes are a schedule ([`steps_from_bytes`]).
pub fn interaction_olm(data: &[u8]) {
    run_olm(&steps_from_bytes(data));
}

/// The stateful two-party interolm target: the first byte picks PQXDH (even) or X3DH, the
/// rest is a schedule ([`steps_from_bytes`]).
pub fn interaction_interolm(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    run_interolm(sel.is_multiple_of(2), &steps_from_bytes(rest));
}

// ------------------------------------------------------------------ seeds

/// A few valid inputs for `target`, for the checked-in seed corpora.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let with = |sel: u8, body: &[u8]| [&[sel][..], body].concat();
    let olm = olm_fixture();
    let megolm = megolm_fixture();
    let inter = interolm_fixture(true, true);
    let inter_x3dh = interolm_fixture(false, false);
    let olm_parts: Vec<(usize, Vec<u8>)> = olm.pending.iter().map(OlmMessage::to_parts).collect();
    let sig_parts: Vec<(usize, Vec<u8>)> = inter.pending.iter().map(InterolmMessage::to_parts).collect();
    let sig_x3dh: Vec<(usize, Vec<u8>)> = inter_x3dh.pending.iter().map(InterolmMessage::to_parts).collect();
    let pickles = || {
        let mut igs = InboundGroupSession::new(&megolm.session_key, megolm::SessionConfig::version_1());
        igs.decrypt(&megolm.messages[1]).expect("megolm");
        let gs = GroupSession::new_with_rng(megolm::SessionConfig::version_1(), &mut FuzzRng::new(b"gs"));
        vec![
            olm.bob_account.pickle().to_unencrypted_bytes().to_vec(),
            olm.bob.pickle().to_unencrypted_bytes().to_vec(),
            gs.pickle().to_unencrypted_bytes().to_vec(),
            igs.pickle().to_unencrypted_bytes().to_vec(),
        ]
    };
    match target {
        "decode_olm" => {
            // selector: 0 normal, 1 pre-key, 2 parts, 3 base64 parts, 4 one API (type in the high nibble)
            let mut v: Vec<Vec<u8>> = olm_parts.iter().map(|(t, b)| with(u8::from(*t == 0), b)).collect();
            v.push(with(0x02, &olm_parts[3].1));
            v.push(with(0x03 | 0x10, olm.pending[0].to_base64_parts().1.as_bytes()));
            v.push(with(0x04 | 0x10, &olm_parts[0].1));
            v.push(with(0x04 | 0x08 | 0x30, &sig_parts[3].1));
            v
        }
        "decode_megolm" => vec![
            with(0, &megolm.messages[0].to_bytes()),
            with(1, megolm.messages[1].to_base64().as_bytes()),
            with(2, &megolm.session_key.to_bytes()),
            with(3, megolm.session_key.to_base64().as_bytes()),
            with(4, &megolm.inbound.export_at_first_known_index().to_bytes()),
            with(5, megolm.inbound.export_at_first_known_index().to_base64().as_bytes()),
        ],
        "decode_signal" => {
            let mut v = vec![with(0, &sig_parts[0].1), with(1, &sig_x3dh[0].1), with(1, &sig_parts[3].1)];
            v.push(with(2 | 0x20, &sig_parts[1].1));
            v.push(with(3 | 0x30, inter.pending[3].to_base64_parts().1.as_bytes()));
            v
        }
        "decode_bundle" => {
            let mut b = interolm::Account::new_with_rng(&mut FuzzRng::new(b"bundle seed"));
            b.generate_signed_pre_key_with_rng(&mut FuzzRng::new(b"s"));
            let x3dh = b.pre_key_bundle(7).expect("bundle").to_bytes();
            b.generate_one_time_pre_keys_with_rng(1, &mut FuzzRng::new(b"o"));
            b.generate_kyber_pre_key_with_rng(false, &mut FuzzRng::new(b"k"));
            vec![x3dh, b.pre_key_bundle(7).expect("bundle").to_bytes()]
        }
        "decrypt_olm" => {
            let mut v: Vec<Vec<u8>> = olm_parts[..3].iter().map(|(t, b)| with(*t as u8, b)).collect();
            v.push(with(2, &olm_parts[3].1)); // pre-key message to the account
            v
        }
        "decrypt_megolm" => megolm.messages.iter().map(MegolmMessage::to_bytes).collect(),
        "decrypt_interolm" => {
            let mut v: Vec<Vec<u8>> = sig_parts[..3].iter().map(|(t, b)| with(*t as u8 - 2, b)).collect();
            v.push(with(1 | 4, &sig_parts[3].1));
            v.extend(sig_x3dh[..2].iter().map(|(t, b)| with((*t as u8 - 2) | 2, b)));
            v
        }
        "unpickle_own" => {
            let mut v: Vec<Vec<u8>> = pickles().into_iter().enumerate().map(|(i, p)| with(i as u8, &p)).collect();
            v.push(with(4 | 1, &olm.bob.pickle().encrypt_to_bytes(&PICKLE_KEY)));
            // interolm: sessions (PQXDH with SPQR, X3DH), the account, one encrypted
            v.push(with(8, &inter.alice.pickle().to_unencrypted_bytes()));
            v.push(with(8, &inter_x3dh.bob.pickle().to_unencrypted_bytes()));
            v.push(with(8 | 1, &inter.bob_account.pickle().expect("account").to_unencrypted_bytes()));
            v.push(with(8 | 4, &inter.bob.pickle().encrypt_to_bytes(&PICKLE_KEY)));
            v
        }
        "unpickle_libolm" => {
            let mut v = Vec::new();
            let rng = &mut FuzzRng::new(b"libolm seeds");
            let texts = [
                olm.bob_account.to_libolm_pickle(&PICKLE_KEY).expect("account"),
                olm.bob.to_libolm_pickle(&PICKLE_KEY).expect("session"),
                GroupSession::new_with_rng(megolm::SessionConfig::version_1(), rng)
                    .to_libolm_pickle(&PICKLE_KEY)
                    .expect("group"),
                megolm.inbound.to_libolm_pickle(&PICKLE_KEY).expect("inbound"),
            ];
            for (i, t) in texts.iter().enumerate() {
                v.push(with(i as u8 | 4, t.as_bytes()));
                // the plaintext, for the decoder
                v.push(with(i as u8, &libolm_pickle_decrypt(t, &PICKLE_KEY).expect("own pickle decrypts")));
            }
            v
        }
        "unpickle_vodozemac" => {
            // Real vodozemac pickles come from the corpus generator in tests/fuzz_corpus.rs
            // (vodozemac is a dev-dependency); these are the wrong-key and not-JSON cases.
            vec![with(4, b"AAAAAAAAAAAAAAAAAAAAAA"), with(1, b"{\"version\":1}")]
        }
        "interaction_olm" => vec![
            vec![0, 3, 0, 8, 3, 0, 0x09, 4, 1, 3, 0, 5, 0, 7, 8 | 7, 3, 0],
            vec![0x20, 3, 2, 3, 5, 8 | 5, 1, 6, 0, 0, 3, 0x55, 3, 0, 7],
            vec![2, 12, 3, 47, 3, 3, 3, 0, 8 | 2, 3, 4, 40, 3, 1],
        ],
        "interaction_interolm" => vec![
            vec![0, 0, 3, 0, 8, 3, 0, 0x09, 4, 1, 3, 0, 5, 0, 8 | 5, 3, 6, 1, 0, 9, 0xff],
            vec![1, 0x20, 3, 2, 3, 5, 8 | 5, 1, 6, 0, 0, 3, 0x55, 3, 0],
            vec![0, 2, 30, 3, 119, 3, 3, 3, 0, 8 | 2, 3, 4, 40, 3, 1],
            // pickle round trips of both parties between sends and deliveries (PQXDH, X3DH)
            vec![0, 0, 7, 3, 0, 8 | 7, 8, 3, 0, 7, 0x18, 8 | 7, 4, 0, 4, 0, 7, 0, 3, 0],
            vec![1, 0, 8 | 7, 3, 0, 7, 8, 8 | 7, 3, 0, 0x10, 7, 4, 1, 8 | 7, 3, 0],
        ],
        "decode_ecies" | "decode_hpke" | "decode_dehydrated_device" => channels::seeds(target),
        "decode_sas_mac" | "decode_pk_message" => sas_pk::seeds(target),
        other => groups::seeds(other),
    }
}

// ------------------------------------------------------------------ SPQR

use crate::interolm::spqr::{SpqrMessage, SpqrState};

thread_local! {
    /// Two SPQR states part-way through an epoch (Alice and Bob after some exchange), built once.
    static SPQR_FIXTURE: (SpqrState, SpqrState) = {
        let key = [7u8; 32];
        let mut a = SpqrState::new_initiator(&key);
        let mut b = SpqrState::new_responder(&key);
        let mut rng = FuzzRng::new(b"spqr fixture");
        for _ in 0..12 {
            let m = a.send(&mut rng).unwrap();
            b.recv(m.message()).unwrap().commit(&mut b);
            let m = b.send(&mut rng).unwrap();
            a.recv(m.message()).unwrap().commit(&mut a);
        }
        (a, b)
    };
}

/// SPQR: the field-5 codec (decode, re-encode, decode again gives the same message), `recv` of
/// arbitrary bytes on states part-way through an epoch (an accepted message commits and the
/// states keep working), and `SpqrState::from_bytes` of arbitrary bytes (a decoded state
/// re-encodes to a fixed point).
pub fn spqr(data: &[u8]) {
    if let Ok(m) = SpqrMessage::from_bytes(data) {
        let again = SpqrMessage::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(again.to_bytes(), m.to_bytes(), "SPQR message re-encoding is not stable");
    }
    SPQR_FIXTURE.with(|(a, b)| {
        for s in [a, b] {
            let before = s.to_bytes();
            if let Ok(received) = s.recv(data) {
                let mut next = s.clone();
                received.commit(&mut next);
                let mut rng = FuzzRng::new(b"spqr after");
                let _ = next.send(&mut rng);
            }
            assert_eq!(*s.to_bytes(), *before, "recv changed the state");
        }
    });
    if let Ok(state) = SpqrState::from_bytes(data) {
        let bytes = state.to_bytes();
        let again = SpqrState::from_bytes(&bytes).unwrap();
        assert_eq!(*again.to_bytes(), *bytes, "SPQR state encoding is not a fixed point");
    }
}

// ------------------------------------------------------------------ serde (feature `serde`)

/// A serde format for [`serde_vodozemac`]: the fuzz target and the corpus replay implement it
/// with `serde_json` and `rmp_serde`, which the library itself does not depend on.
#[cfg(feature = "serde")]
pub trait SerdeFormat {
    /// Reads a value; `None` on any error.
    fn read<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Option<T>;
    /// Writes a value; `None` on any error.
    fn write<T: serde::Serialize>(&self, value: &T) -> Option<Vec<u8>>;
}

/// The name of the serde fuzz target (not in [`TARGETS`]: its entry point needs the formats).
#[cfg(feature = "serde")]
pub const SERDE_TARGET: &str = "serde_vodozemac";

/// Reads `value` back from its own encoding and checks the encoding is a fixed point.
#[cfg(feature = "serde")]
fn serde_fixed_point<T: serde::Serialize + serde::de::DeserializeOwned>(f: &impl SerdeFormat, value: &T) -> T {
    let once = f.write(value).expect("a value read must be writable");
    let again: T = f.read(&once).expect("caudata must read what it wrote");
    assert_eq!(f.write(&again).expect("writable"), once, "serde encoding is not a fixed point");
    again
}

/// serde inputs in vodozemac's shapes: the first byte picks the format (bit 7: MessagePack,
/// else JSON) and the type (the low bits); the rest is read as that type. Anything read must
/// write back to a fixed point, and objects read from pickles must work (an account signs and
/// makes keys, sessions encrypt, group sessions encrypt and export). Returns whether the input
/// was read.
#[cfg(feature = "serde")]
pub fn serde_vodozemac(data: &[u8], json: &impl SerdeFormat, msgpack: &impl SerdeFormat) -> bool {
    use crate::pickle::vodozemac as vz;
    let Some((&sel, body)) = data.split_first() else { return false };
    return if sel & 0x80 != 0 { serde_one(sel & 0x7f, body, msgpack) } else { serde_one(sel, body, json) };
    fn serde_one(sel: u8, body: &[u8], f: &impl SerdeFormat) -> bool {
        macro_rules! fixed {
            ($t:ty) => {
                f.read::<$t>(body).map(|v| serde_fixed_point(f, &v))
            };
        }
        match sel % 16 {
            0 => {
                let Some(p) = fixed!(vz::AccountPickle) else { return false };
                {
                    let mut a = olm::Account::from(p);
                    let _ = a.sign(b"fuzz");
                    a.generate_one_time_keys(1);
                    a.generate_fallback_key();
                    serde_fixed_point(f, &a.vodozemac_pickle());
                    true
                }
            }
            1 => {
                let Some(p) = fixed!(vz::SessionPickle) else { return false };
                {
                    let mut s = olm::Session::from(p);
                    let _ = s.encrypt(b"fuzz");
                    serde_fixed_point(f, &s.vodozemac_pickle());
                    true
                }
            }
            2 => {
                let Some(p) = fixed!(vz::GroupSessionPickle) else { return false };
                {
                    let mut g = GroupSession::from(p);
                    let _ = g.encrypt(b"fuzz");
                    let _ = g.session_key();
                    true
                }
            }
            3 => {
                let Some(p) = fixed!(vz::InboundGroupSessionPickle) else { return false };
                {
                    let mut s = InboundGroupSession::from(p);
                    let _ = s.export_at(s.first_known_index().wrapping_add(3));
                    s.advance_to(s.first_known_index().wrapping_add(1));
                    true
                }
            }
            4 => fixed!(OlmMessage).is_some(),
            5 => fixed!(MegolmMessage).is_some(),
            6 => fixed!(SessionKey).is_some(),
            7 => fixed!(ExportedSessionKey).is_some(),
            8 => fixed!(Curve25519PublicKey).is_some(),
            9 => fixed!(crate::Ed25519PublicKey).is_some(),
            10 => fixed!(crate::primitives::Ed25519SecretKey).is_some(),
            11 => fixed!(crate::primitives::Curve25519SecretKey).is_some(),
            12 => fixed!(olm::IdentityKeys).is_some(),
            13 => fixed!(olm::SessionConfig).is_some(),
            14 => fixed!(olm::SessionKeys).is_some(),
            _ => fixed!(olm::PreKeyMessage).is_some(),
        }
    }
}

/// libsignal record import (`SessionRecord::from_libsignal` and friends): selector byte, then
/// the record. Never panics; an imported session record or SPQR state survives caudata's own
/// pickle round trip unchanged; an `addresses` field re-encodes to its input.
pub fn import_libsignal(data: &[u8]) {
    use crate::interolm::spqr::SpqrState;
    use crate::interolm::{
        IdentityKeyPair, KyberPreKeyRecord, MessageAddresses, PreKeyRecord, SessionRecord, SignedPreKeyRecord,
    };
    use crate::pickle::InterolmSessionRecordPickle;
    let Some((&sel, body)) = data.split_first() else { return };
    match sel % 7 {
        0 => {
            if let Ok(r) = SessionRecord::from_libsignal(body) {
                let p = r.pickle().to_unencrypted_bytes();
                let back = SessionRecord::from_pickle(InterolmSessionRecordPickle::from_unencrypted_bytes(&p).unwrap());
                assert_eq!(*back.pickle().to_unencrypted_bytes(), *p, "imported record is not a pickle fixed point");
            }
        }
        1 => {
            if let Ok(s) = SpqrState::from_libsignal(body) {
                let b = s.to_bytes();
                assert_eq!(*SpqrState::from_bytes(&b).unwrap().to_bytes(), *b);
            }
        }
        2 => {
            let _ = PreKeyRecord::from_libsignal(body).map(|r| (r.id(), r.public_key()));
        }
        3 => {
            let _ = SignedPreKeyRecord::from_libsignal(body).map(|r| (r.id(), r.timestamp(), r.public_key()));
        }
        4 => {
            let _ = KyberPreKeyRecord::from_libsignal(body, sel & 0x80 != 0).map(|r| (r.id(), r.timestamp()));
        }
        5 => {
            let _ = IdentityKeyPair::from_libsignal(body).map(|k| k.public_key());
        }
        _ => {
            if let Ok(a) = MessageAddresses::from_bytes(body) {
                assert_eq!(&a.to_bytes()[..], body);
            }
        }
    }
}
