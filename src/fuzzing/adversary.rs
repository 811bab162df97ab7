//! ⚠️ The authenticated adversary (hazmat feature only, hidden from the docs).
//!
//! Every other harness in [`crate::fuzzing`] plays an outsider, who cannot make a MAC: whatever
//! it sends is refused at the MAC, so nothing ever runs on a session *after* an adversarial
//! message was accepted. This module plays the other end of the conversation, a peer that holds
//! every secret of the session and builds **correctly authenticated** messages whose every field
//! it chooses: ratchet keys (small-order, twist, non-canonical, reflected, an old one), counters
//! (0, the gap limit, across 2^31 and 2^32, repeated and regressing), version bytes, unknown
//! fields and non-minimal encodings, payloads from empty to a megabyte and invalid padding under
//! a valid MAC, pre-key outer fields that disagree with the inner message, Megolm indices
//! across the 2^32 wrap and malleated signatures, and every SPQR field (version, epoch, index,
//! payload type, chunk).
//!
//! **How messages are authenticated.** The MAC of a forged message is computed with the key the
//! victim itself will derive for the header the adversary wrote (for a double-ratchet message:
//! the victim's chain key at that counter, or the root step against that ratchet key; for SPQR:
//! the salt the victim's SPQR state yields for that field 5), found by a read-only trial of the
//! victim's own code, which commits nothing. A peer that shares the session's secrets can
//! compute every such key (it is the same chain on both sides); for the few headers whose key
//! no real peer could compute (a twist-point ratchet key, whose Diffie-Hellman result the peer
//! cannot know) this adversary is stronger than any real one, which only makes the properties
//! below harder to satisfy. Megolm needs no such trial: the adversary is the sender, keeps its
//! ratchet from the first index it shared, and can advance it to any index.
//!
//! **What is checked** (a panic here is a finding):
//!
//! 1. nothing panics, whatever is sent;
//! 2. a refused message leaves the victim byte-for-byte unchanged (its own unencrypted pickle,
//!    and the ratchet snapshot for interolm; the account's pickle for pre-key messages);
//! 3. after every accepted message the victim encrypts, and round-trips through its own pickle
//!    (unencrypted and encrypted) to an identical state, and, where the format can hold it,
//!    through libolm's (and, through [`Hooks`], vodozemac's) to the same state up to what those
//!    formats cannot say (libolm keeps 40 skipped keys per session; vodozemac keeps a libolm
//!    import's chains newest first, and takes two encodings of one point for one chain); the
//!    plaintext is the one the adversary encrypted; a message with a flipped MAC or invalid
//!    padding is never accepted;
//! 4. while the adversary has sent nothing inconsistent (no foreign ratchet key, no forged SPQR
//!    field), the conversation goes on in both directions: an honest round trip decrypts;
//! 5. interolm: once SPQR V1 is negotiated, no message is accepted without an SPQR key (the
//!    classical chain alone must not authenticate it), except the initiator's pre-key messages
//!    on its first chain, whose keys come from PQXDH's Kyber secret (SPEC.md §6);
//! 6. Megolm: whether a message decrypts, and to what, does not depend on the session's history
//!    (a fresh import of the same session decides the same), and a merge of two copies decrypts
//!    whatever either decrypts within the merged copy's window (half the ring from its first
//!    known index).
//!
//! The scenarios are run by the property tests in `tests/adversary.rs` (typed [`Action`]s from
//! proptest strategies) and by the cargo-fuzz target `adversary` ([`adversary`], which reads
//! the same actions from bytes with [`actions_from_bytes`]).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // assertions are the point

use std::cell::RefCell;
use std::collections::VecDeque;

use super::{FuzzRng, PICKLE_KEY};
use crate::error::DecryptionError;
use crate::interolm::spqr::{Chunk, Payload as SpqrPayload, SpqrMessage, SpqrVersion, VersionStatus};
use crate::interolm::{self, InterolmMessage, SpqrPolicy};
use crate::megolm::{self, GroupSession, InboundGroupSession, MegolmMessage, MegolmRatchet};
use crate::olm::{self, OlmMessage};
use crate::pickle::{
    AccountPickle, InboundGroupSessionPickle, InterolmAccountPickle, InterolmSessionPickle, SessionPickle,
};
use crate::primitives::{AesCbcKeys, Curve25519PublicKey, HmacKey, RandomSource, SecretBytes, aes256_cbc_encrypt};
use crate::ratchet::{MessageSeed, SenderChain};
use crate::wire::codec::put_varint;
use crate::wire::olm::{PreKeyMessageWire, VERSION_FULL_MAC, VERSION_TRUNCATED_MAC};
use crate::wire::signal::{PreKeyFields, encode_public_key, version_byte};

// ------------------------------------------------------------------ choices

/// Curve25519 u-coordinates of small order (as X25519 reads them): 0, 1, the two points of
/// order 8, p − 1, p and p + 1.
pub const SMALL_ORDER_KEYS: [[u8; 32]; 7] = [
    [0; 32],
    le(1),
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44,
        0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09,
        0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
    ],
    p_plus(-1),
    p_plus(0),
    p_plus(1),
];

/// Curve25519 u-coordinates on the quadratic twist (u³ + A·u² + u is not a square modulo p): 2,
/// 3, and a large one (the first SHA-256("twist…") that is); X25519 with them gives a
/// contributory but meaningless result.
pub const TWIST_KEYS: [[u8; 32]; 3] = [
    le(2),
    le(3),
    [
        0xa0, 0x1e, 0x02, 0x0e, 0x65, 0x31, 0x7c, 0x74, 0x44, 0xe4, 0x7e, 0x54, 0x08, 0xa1, 0x66, 0x82, 0x52, 0x25,
        0x8b, 0xb7, 0xbf, 0xcb, 0x35, 0x09, 0x85, 0x78, 0x0c, 0x1a, 0x06, 0x09, 0xec, 0x6c,
    ],
];

const fn le(n: u8) -> [u8; 32] {
    let mut b = [0; 32];
    b[0] = n;
    b
}

/// p + `d` (p = 2^255 − 19) for small `d`, little-endian.
const fn p_plus(d: i8) -> [u8; 32] {
    let mut b = [0xff; 32];
    b[0] = (0xed_i16 + d as i16) as u8;
    b[31] = 0x7f;
    b
}

/// Which Curve25519 key a field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPick {
    /// The honest value (the peer's current ratchet key, its base or identity key, the
    /// victim's one-time key the peer chose).
    Honest,
    /// A key the peer used before (its previous ratchet key), if any.
    Previous,
    /// The victim's own key (its current ratchet key, or its identity key).
    Reflected,
    /// [`SMALL_ORDER_KEYS`]`[i % 7]`, with bit 255 set if `high_bit`.
    SmallOrder(u8, bool),
    /// [`TWIST_KEYS`]`[i % 3]`.
    Twist(u8),
    /// The honest key with bit 255 set: the same point for X25519, other bytes.
    HighBit,
    /// The honest key's u-coordinate plus p (only when that stays below 2^255): the same
    /// point for X25519, a non-canonical encoding.
    PlusP,
    /// Any 32 bytes.
    Bytes([u8; 32]),
}

impl KeyPick {
    fn resolve(
        self,
        honest: Curve25519PublicKey,
        previous: Option<Curve25519PublicKey>,
        own: Option<Curve25519PublicKey>,
    ) -> Curve25519PublicKey {
        let b = match self {
            Self::Honest => return honest,
            Self::Previous => return previous.unwrap_or(honest),
            Self::Reflected => return own.unwrap_or(honest),
            Self::SmallOrder(i, high) => {
                let mut k = SMALL_ORDER_KEYS[usize::from(i) % SMALL_ORDER_KEYS.len()];
                if high {
                    k[31] |= 0x80;
                }
                k
            }
            Self::Twist(i) => TWIST_KEYS[usize::from(i) % TWIST_KEYS.len()],
            Self::HighBit => {
                let mut k = honest.to_bytes();
                k[31] |= 0x80;
                k
            }
            Self::PlusP => add_p(honest.to_bytes()).unwrap_or(honest.to_bytes()),
            Self::Bytes(b) => b,
        };
        Curve25519PublicKey::from_bytes(b)
    }

    /// Whether the resolved key is the honest one (or one the peer really owns).
    fn keeps_peer_consistent(self) -> bool {
        matches!(self, Self::Honest | Self::Previous)
    }
}

/// `u + p` if it is below 2^255 (u < 19), else `None`.
fn add_p(u: [u8; 32]) -> Option<[u8; 32]> {
    let p = p_plus(0);
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let t = u16::from(u[i]) + u16::from(p[i]) + carry;
        out[i] = t as u8;
        carry = t >> 8;
    }
    (carry == 0 && out[31] & 0x80 == 0).then_some(out)
}

/// The counter (chain index, Megolm message index) a message carries, relative to where the
/// victim is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// The next index the victim expects (the peer's next index).
    Next,
    /// `n` ahead of it (real skipped messages).
    Skip(u32),
    /// `n` behind it (a replay or a skipped key).
    Back(u32),
    /// The dialect's gap limit ahead, plus `d`.
    Gap(i8),
    /// Half the 2^32 ring ahead, plus `d`.
    HalfRing(i32),
    /// Megolm: the victim's first known index plus `d`; elsewhere as `Skip(d)`.
    FirstKnown(i32),
    /// This index.
    Abs(u32),
}

impl Counter {
    fn resolve(self, next: u32, max_gap: u32, first_known: u32) -> u32 {
        match self {
            Self::Next => next,
            Self::Skip(n) => next.wrapping_add(n),
            Self::Back(n) => next.wrapping_sub(n),
            Self::Gap(d) => next.wrapping_add(max_gap).wrapping_add_signed(i32::from(d)),
            Self::HalfRing(d) => next.wrapping_add(1 << 31).wrapping_add_signed(d),
            Self::FirstKnown(d) => first_known.wrapping_add_signed(d),
            Self::Abs(i) => i,
        }
    }
}

/// How the protobuf of a message is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Layout {
    /// Known fields in reverse order.
    pub reversed: bool,
    /// Unknown fields added (`tag`, varint or bytes): each decoder must skip them.
    pub unknown: Option<(u8, bool)>,
    /// Varints written with redundant continuation bytes.
    pub nonminimal: bool,
}

/// The SPQR field 5 of an interolm message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpqrPick {
    /// What the peer's SPQR state sends next.
    Honest,
    /// No field 5 (SPQR V0).
    Omit,
    /// A version byte above V1, then `len` bytes.
    VersionAbove(u8, u8),
    /// A V1 message with chosen values: epoch (relative to the victim's: `0` is its current
    /// epoch; `i64::MIN` means epoch 1), index (absolute), payload type (0–6, 7+ invalid),
    /// chunk index and chunk byte, and trailing bytes.
    Message {
        /// The epoch relative to the victim's SCKA epoch (`i64::MIN`: epoch 1).
        epoch: i64,
        /// The chain index (0: no key).
        index: u32,
        /// The payload type byte.
        kind: u8,
        /// The chunk index.
        chunk_index: u16,
        /// The byte the chunk is filled with.
        fill: u8,
        /// Trailing bytes after the message.
        trailing: u8,
    },
    /// Exactly these bytes.
    Raw(Vec<u8>),
}

/// What the adversary writes into one double-ratchet message (Olm or interolm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forge {
    /// The ratchet key.
    pub ratchet_key: KeyPick,
    /// The counter.
    pub counter: Counter,
    /// interolm: the previous counter written (`None`: the honest value).
    pub previous_counter: Option<u32>,
    /// The version byte (`None`: the session's).
    pub version: Option<u8>,
    /// The protobuf layout.
    pub layout: Layout,
    /// Plaintext length (up to ~1 MiB).
    pub plaintext_len: u32,
    /// Encrypt without valid PKCS#7 padding (under a valid MAC): must be refused.
    pub bad_padding: bool,
    /// Flip a MAC bit: must be refused.
    pub bad_mac: bool,
    /// interolm: field 5.
    pub spqr: SpqrPick,
    /// Send it as a pre-key message (Olm or interolm, to the session) with these outer fields
    /// changed (`None`: a normal message, when the session allows).
    pub pre_key: Option<Vec<OuterTweak>>,
}

impl Default for Forge {
    fn default() -> Self {
        Self {
            ratchet_key: KeyPick::Honest,
            counter: Counter::Next,
            previous_counter: None,
            version: None,
            layout: Layout::default(),
            plaintext_len: 5,
            bad_padding: false,
            bad_mac: false,
            spqr: SpqrPick::Honest,
            pre_key: None,
        }
    }
}

/// A change to an outer (unauthenticated) field of a pre-key message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OuterTweak {
    /// Olm: the one-time key field; interolm: not used.
    OneTimeKey(KeyPick),
    /// The base key.
    BaseKey(KeyPick),
    /// The identity key.
    IdentityKey(KeyPick),
    /// interolm: the registration id.
    RegistrationId(u32),
    /// interolm: the one-time prekey id (`None`: absent).
    PreKeyId(Option<u32>),
    /// interolm: the signed prekey id.
    SignedPreKeyId(u32),
    /// interolm: the Kyber prekey id (`None`: absent, with the ciphertext).
    KyberId(Option<u32>),
    /// interolm: the Kyber ciphertext replaced by an encapsulation to another of the victim's
    /// Kyber keys (`true`) or by the fill byte pattern (`false`).
    KyberCiphertext(bool),
    /// interolm: the session version written in the version byte.
    SessionVersion(u8),
    /// Olm: the account is told this identity instead of the message's (`true`: the peer's).
    CallerIdentity(bool),
}

/// How a Megolm message is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signature {
    /// With the session's signing key.
    #[default]
    Valid,
    /// The valid signature with S + L (malleated): must be refused.
    Malleated,
    /// With another key: must be refused.
    OtherKey,
}

/// What the adversary writes into one Megolm message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MegolmForge {
    /// The message index.
    pub index: Counter,
    /// The version byte (`None`: the session's).
    pub version: Option<u8>,
    /// The protobuf layout.
    pub layout: Layout,
    /// Plaintext length.
    pub plaintext_len: u32,
    /// Invalid padding under a valid MAC.
    pub bad_padding: bool,
    /// A flipped MAC bit.
    pub bad_mac: bool,
    /// The signature.
    pub signature: Signature,
}

impl Default for MegolmForge {
    fn default() -> Self {
        Self {
            index: Counter::Next,
            version: None,
            layout: Layout::default(),
            plaintext_len: 5,
            bad_padding: false,
            bad_mac: false,
            signature: Signature::Valid,
        }
    }
}

impl From<&MegolmForge> for Forge {
    /// A Megolm forgery's fields as a double-ratchet forgery (so that every action means
    /// something in every scenario).
    fn from(m: &MegolmForge) -> Self {
        Self {
            counter: m.index,
            version: m.version,
            layout: m.layout,
            plaintext_len: m.plaintext_len,
            bad_padding: m.bad_padding,
            bad_mac: m.bad_mac,
            ..Self::default()
        }
    }
}

impl From<&Forge> for MegolmForge {
    /// A double-ratchet forgery's fields as a Megolm forgery.
    fn from(f: &Forge) -> Self {
        Self {
            index: f.counter,
            version: f.version,
            layout: f.layout,
            plaintext_len: f.plaintext_len,
            bad_padding: f.bad_padding,
            bad_mac: f.bad_mac,
            signature: match f.ratchet_key {
                KeyPick::SmallOrder(..) => Signature::Malleated,
                KeyPick::Bytes(_) => Signature::OtherKey,
                _ => Signature::Valid,
            },
        }
    }
}

/// One step of an adversarial conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `count` honest messages, from the peer (`true`) or from the victim, each delivered at
    /// once.
    Honest {
        /// From the peer to the victim.
        from_peer: bool,
        /// How many.
        count: u8,
    },
    /// One forged, authenticated double-ratchet message to the victim (Olm, interolm; also the
    /// pre-key message that starts a session with the victim's account).
    Forge(Forge),
    /// One forged Megolm message.
    Megolm(MegolmForge),
    /// The victim goes through its pickles and comes back.
    Reload,
    /// One of the last forged messages again (`i` counts back).
    Replay(u8),
    /// Both ends' current chains are relabelled to start at `base` (a session that has sent
    /// that many messages; the keys are unchanged, only the counters move): how to reach the
    /// 2^32 wrap in a test. Megolm: the victim merges with a copy exported `base` ahead.
    Relabel(u32),
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Adversarial messages delivered (forged and replayed).
    pub cases: usize,
    /// Of those, accepted.
    pub accepted: usize,
    /// Of those, refused.
    pub refused: usize,
    /// Forgeries that did not even decode (a version byte or layout the decoder refuses).
    pub undecodable: usize,
    /// Honest messages delivered.
    pub honest: usize,
    /// Pickle round trips checked (every format counts).
    pub pickles: usize,
    /// Honest round trips after an accepted forgery.
    pub round_trips: usize,
    /// Chains relabelled (both ends moved to a far counter).
    pub relabels: usize,
}

/// Extra checks the in-crate harness cannot do (vodozemac is a dev-dependency of the tests
/// only): called on the victim after every accepted message.
pub trait Hooks {
    /// An Olm session (e.g. through vodozemac's libolm import and pickle).
    fn olm_session(&mut self, _session: &olm::Session) -> usize {
        0
    }
    /// A Megolm inbound group session.
    fn inbound_group_session(&mut self, _session: &InboundGroupSession) -> usize {
        0
    }
}

/// No extra checks.
pub struct NoHooks;
impl Hooks for NoHooks {}

// ------------------------------------------------------------------ encoding helpers

/// A protobuf writer that can lay fields out adversarially.
struct Pb {
    layout: Layout,
    fields: Vec<Vec<u8>>,
}

impl Pb {
    fn new(layout: Layout) -> Self {
        Self { layout, fields: Vec::new() }
    }

    fn varint_bytes(&self, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        if self.layout.nonminimal && out.len() < 10 {
            // one redundant continuation byte: 0x80-terminated groups of zero bits
            if let Some(last) = out.last_mut() {
                *last |= 0x80;
            }
            out.push(0);
        }
        out
    }

    fn varint(&mut self, tag: u8, v: u64) {
        let mut f = vec![tag << 3];
        f.extend(self.varint_bytes(v));
        self.fields.push(f);
    }

    fn bytes(&mut self, tag: u8, b: &[u8]) {
        let mut f = vec![tag << 3 | 2];
        f.extend(self.varint_bytes(b.len() as u64));
        f.extend_from_slice(b);
        self.fields.push(f);
    }

    fn finish(mut self, prefix: u8) -> Vec<u8> {
        if self.layout.reversed {
            self.fields.reverse();
        }
        if let Some((tag, as_bytes)) = self.layout.unknown {
            let tag = 9 + tag % 6; // 9..=14: unknown to Olm, Megolm and Signal messages
            let f = if as_bytes { vec![tag << 3 | 2, 3, 0xAA, 0xBB, 0xCC] } else { vec![tag << 3, 0x96, 0x01] };
            let at = usize::from(tag) % (self.fields.len() + 1);
            self.fields.insert(at, f);
        }
        let mut out = vec![prefix];
        for f in self.fields {
            out.extend(f);
        }
        out
    }
}

/// Panics unless `a == b`, naming the first differing byte (never printing the bytes, which
/// hold secrets and run to kilobytes).
#[track_caller]
fn assert_same(a: &[u8], b: &[u8], what: &str) {
    if a != b {
        let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
        panic!("{what} (first difference at byte {at}; lengths {} and {})", a.len(), b.len());
    }
}

/// The plaintext an adversarial message carries: `len` bytes, recognisable.
fn plaintext(len: u32, tag: usize) -> Vec<u8> {
    let len = (len as usize).min(MAX_PLAINTEXT);
    let mut p = format!("adversary {tag} ").into_bytes();
    p.resize(len, b'.');
    p.truncate(len);
    p
}

/// The largest plaintext forged: big, but leaves the message under the 1 MiB decode limit.
pub const MAX_PLAINTEXT: usize = (1 << 20) - 4096;

/// AES-256-CBC of `plaintext`, or (bad padding) of `plaintext` whose last block ends in `0x00`
/// and carries no PKCS#7 padding: a ciphertext no honest sender makes, under a valid MAC.
fn encrypt_payload(keys: &AesCbcKeys, plaintext: &[u8], bad_padding: bool) -> Vec<u8> {
    if !bad_padding {
        return aes256_cbc_encrypt(&keys.aes_key, &keys.iv, plaintext);
    }
    let mut p = plaintext.to_vec();
    p.resize(p.len().div_ceil(16).max(1) * 16, b'x');
    if let Some(last) = p.last_mut() {
        *last = 0;
    }
    // CBC of p with PKCS#7 adds one whole padding block; dropping it leaves CBC of p alone.
    let mut ct = aes256_cbc_encrypt(&keys.aes_key, &keys.iv, &p);
    ct.truncate(p.len());
    ct
}

fn random_keys(rng: &mut FuzzRng) -> AesCbcKeys {
    let mut ikm = [0u8; 32];
    rng.fill(&mut ikm);
    AesCbcKeys::derive(None, &ikm, b"adversary: no key")
}

// ------------------------------------------------------------------ Olm

/// The Olm message-key derivation of one seed (as `olm::Session` does it).
fn olm_keys(seed: &MessageSeed) -> AesCbcKeys {
    AesCbcKeys::derive(None, seed.seed.expose(), b"OLM_KEYS")
}

/// The seed `session` would use for (`ratchet_key`, `index`), found by a trial decryption that
/// commits nothing (`None`: it refuses before any MAC check).
fn olm_oracle(session: &olm::Session, ratchet_key: &Curve25519PublicKey, index: u32) -> Option<MessageSeed> {
    let mut ratchet = session.ratchet.clone();
    let mut found = None;
    let _ = ratchet.decrypt(ratchet_key, index, &mut FuzzRng::new(b"oracle"), |seed| {
        found = Some(seed.clone());
        Err::<(), _>(DecryptionError::InvalidMac)
    });
    found
}

/// Encodes an Olm normal message with chosen fields, MACed with `seed`'s keys (or random
/// keys): the bytes and the plaintext.
#[allow(clippy::too_many_arguments)]
fn olm_normal_bytes(
    version: u8,
    ratchet_key: &Curve25519PublicKey,
    index: u32,
    seed: Option<&MessageSeed>,
    f: &Forge,
    tag: usize,
    rng: &mut FuzzRng,
) -> (Vec<u8>, Vec<u8>) {
    let keys = seed.map_or_else(|| random_keys(rng), olm_keys);
    let pt = plaintext(f.plaintext_len, tag);
    let ct = encrypt_payload(&keys, &pt, f.bad_padding);
    let mut pb = Pb::new(f.layout);
    pb.bytes(1, ratchet_key.as_bytes());
    pb.varint(2, u64::from(index));
    pb.bytes(4, &ct);
    let mut out = pb.finish(version);
    let mac = HmacKey::new(&keys.mac_key).mac(&[&out]);
    let mac_len = if version == VERSION_FULL_MAC { 32 } else { 8 };
    let mut tag_bytes = mac.expose()[..mac_len].to_vec();
    if f.bad_mac {
        tag_bytes[0] ^= 1;
    }
    out.extend(tag_bytes);
    (out, pt)
}

/// An Olm pre-key message around `inner` with the outer keys `keys` (and the version byte).
fn olm_pre_key_bytes(keys: [&Curve25519PublicKey; 3], inner: &[u8], layout: Layout) -> Vec<u8> {
    let mut pb = Pb::new(Layout { nonminimal: false, ..layout });
    pb.bytes(1, keys[0].as_bytes());
    pb.bytes(2, keys[1].as_bytes());
    pb.bytes(3, keys[2].as_bytes());
    pb.bytes(4, inner);
    pb.finish(crate::wire::olm::PRE_KEY_VERSION)
}

fn olm_state(s: &olm::Session) -> Vec<u8> {
    s.pickle().to_unencrypted_bytes().to_vec()
}

/// The after-acceptance checks of an Olm session: pickles of every format (own unencrypted and
/// encrypted, libolm, the hooks'), each identical on the way back. Returns the reloaded session.
fn olm_reload(s: olm::Session, hooks: &mut dyn Hooks, rng: &mut FuzzRng, stats: &mut Stats) -> olm::Session {
    let before = olm_state(&s);
    let own = SessionPickle::from_unencrypted_bytes(&before)
        .unwrap_or_else(|e| panic!("an accepted message left an Olm session whose own pickle does not load: {e}"));
    let reloaded = olm::Session::from_pickle(own);
    assert_same(&olm_state(&reloaded), &before, "own pickle round trip changed the Olm session");
    let text = s.pickle().encrypt_with_rng(&PICKLE_KEY, rng);
    let back =
        olm::Session::from_pickle(SessionPickle::from_encrypted(&text, &PICKLE_KEY).expect("own encrypted pickle"));
    assert_same(&olm_state(&back), &before, "encrypted pickle round trip changed the Olm session");
    stats.pickles += 2;
    if let Ok(libolm) = s.to_libolm_pickle(&PICKLE_KEY) {
        let back = olm::Session::from_libolm_pickle(&libolm, &PICKLE_KEY)
            .unwrap_or_else(|e| panic!("caudata's libolm export of an Olm session does not import: {e}"));
        assert!(same_olm_state(&back, &s, true), "libolm pickle round trip changed the Olm session");
        stats.pickles += 1;
    }
    stats.pickles += hooks.olm_session(&s);
    reloaded
}

/// Two Olm sessions that have talked both ways, from a fixed seed.
fn olm_pair(config: olm::SessionConfig) -> (olm::Session, olm::Session, olm::Account) {
    let rng = &mut FuzzRng::new(b"adversary olm pair");
    let alice = olm::Account::new_with_rng(rng);
    let mut bob = olm::Account::new_with_rng(rng);
    bob.generate_one_time_keys_with_rng(1, rng);
    let otk = *bob.one_time_keys().values().next().expect("otk");
    let mut a = alice.create_outbound_session_with_rng(config, bob.curve25519_key(), otk, rng).expect("outbound");
    let OlmMessage::PreKey(pk) = a.encrypt_with_rng(b"hello", rng) else { unreachable!() };
    let mut b = bob.create_inbound_session(config, alice.curve25519_key(), &pk).expect("inbound").session;
    let reply = b.encrypt_with_rng(b"hi", rng);
    a.decrypt(&reply).expect("reply");
    (a, b, bob)
}

/// The Olm scenario: an established session (`victim_initiator`: the victim started it),
/// configuration version 1 or 2, and the adversary's `actions`.
pub fn run_olm_session(victim_initiator: bool, version_2: bool, actions: &[Action], hooks: &mut dyn Hooks) -> Stats {
    let config = if version_2 { olm::SessionConfig::version_2() } else { olm::SessionConfig::version_1() };
    let (a, b, _) = olm_pair(config);
    let (victim, peer) = if victim_initiator { (a, b) } else { (b, a) };
    let mut run = OlmRun {
        victim,
        peer,
        rng: FuzzRng::new(b"adversary olm run"),
        stats: Stats::default(),
        sent: VecDeque::new(),
        peer_keys: Vec::new(),
        broken: false,
    };
    // The peer's ratchet keys so far: the victim's receiving chains, oldest first.
    run.peer_keys = run.victim.ratchet.receivers.iter().map(|r| *r.ratchet_key.key()).collect();
    if let Some(k) = run.peer.ratchet.sender.as_ref().map(|s| s.ratchet_public())
        && run.peer_keys.last() != Some(&k)
    {
        run.peer_keys.push(k);
    }
    for action in actions {
        run.step(action, hooks);
    }
    run.finish(hooks);
    run.stats
}

struct OlmRun {
    victim: olm::Session,
    peer: olm::Session,
    rng: FuzzRng,
    stats: Stats,
    /// The last forged messages and their plaintexts, for replays.
    sent: VecDeque<(OlmMessage, Vec<u8>)>,
    /// Every ratchet key the peer has sent on, oldest first.
    peer_keys: Vec<Curve25519PublicKey>,
    /// An inconsistent forgery was accepted: the honest conversation may be over.
    broken: bool,
}

impl OlmRun {
    fn step(&mut self, action: &Action, hooks: &mut dyn Hooks) {
        match action {
            Action::Honest { from_peer, count } => {
                for _ in 0..(*count).min(8) {
                    self.honest(*from_peer);
                }
            }
            Action::Forge(f) => self.forge(f, hooks),
            Action::Replay(i) => {
                if !self.sent.is_empty() {
                    let (m, pt) = self.sent[usize::from(*i) % self.sent.len()].clone();
                    self.deliver(&m, &pt, false, false, false, hooks);
                }
            }
            Action::Reload => {
                let v = std::mem::replace(&mut self.victim, clone_olm(&self.peer));
                self.victim = olm_reload(v, hooks, &mut self.rng, &mut self.stats);
            }
            Action::Relabel(base) => self.relabel(*base),
            Action::Megolm(m) => self.forge(&Forge::from(m), hooks),
        }
    }

    /// One honest message; it must decrypt unless the conversation is broken.
    fn honest(&mut self, from_peer: bool) {
        let pt = format!("honest {}", self.stats.honest).into_bytes();
        let (from, to) =
            if from_peer { (&mut self.peer, &mut self.victim) } else { (&mut self.victim, &mut self.peer) };
        let m = from.encrypt_with_rng(&pt, &mut self.rng);
        if from_peer
            && let Some(k) = from.ratchet.sender.as_ref().map(|s| s.ratchet_public())
            && self.peer_keys.last() != Some(&k)
        {
            self.peer_keys.push(k);
        }
        let before = olm_state(to);
        match to.decrypt(&m) {
            Ok(got) => assert!(got == pt, "an honest Olm message decrypted to something else"),
            Err(e) => {
                assert!(
                    self.broken,
                    "an honest Olm message was refused ({e:?}) although the adversary stayed consistent"
                );
                assert_same(&olm_state(to), &before, "a refused honest message changed the session");
            }
        }
        self.stats.honest += 1;
    }

    /// Both ends' current sending/receiving chain counters move to `base` (the peer first
    /// sends, if it has no sending chain yet).
    fn relabel(&mut self, base: u32) {
        let current = self.peer.ratchet.sender.as_ref().map(SenderChain::ratchet_public);
        if current.is_none_or(|k| !self.victim.ratchet.receivers.iter().any(|r| *r.ratchet_key.key() == k)) {
            self.honest(true);
        }
        let Some(sender) = self.peer.ratchet.sender.as_mut() else { return };
        let key = sender.ratchet_public();
        let Some(rc) = self.victim.ratchet.receivers.iter_mut().find(|r| *r.ratchet_key.key() == key) else { return };
        if rc.chain.index != sender.chain.index {
            return; // messages in flight: nothing consistent to relabel
        }
        rc.chain.index = base;
        rc.skipped.clear();
        sender.chain.index = base;
        self.stats.relabels += 1;
    }

    fn forge(&mut self, f: &Forge, hooks: &mut dyn Hooks) {
        let tag = self.stats.cases;
        let honest_key = self.peer.ratchet.sender.as_ref().map(|s| s.ratchet_public());
        let Some(honest_key) = honest_key.or_else(|| self.peer_keys.last().copied()) else { return };
        let previous = self.peer_keys.iter().rev().nth(1).copied();
        let own = self.victim.ratchet.sender.as_ref().map(|s| s.ratchet_public());
        let rk = f.ratchet_key.resolve(honest_key, previous, own);
        let next =
            self.victim.ratchet.receivers.iter().find(|r| *r.ratchet_key.key() == rk).map_or(0, |r| r.chain.index);
        let index = f.counter.resolve(next, crate::consts::OLM_MAX_MESSAGE_GAP, 0);
        let seed = olm_oracle(&self.victim, &rk, index);
        let version = f.version.unwrap_or(self.victim.config.message_version());
        let (inner, pt) = olm_normal_bytes(version, &rk, index, seed.as_ref(), f, tag, &mut self.rng);
        let message = match &f.pre_key {
            None => OlmMessage::from_parts(1, &inner),
            Some(tweaks) => {
                let k = self.victim.session_keys;
                let (mut otk, mut base, mut id) = (k.one_time_key, k.base_key, k.identity_key);
                for t in tweaks {
                    match *t {
                        OuterTweak::OneTimeKey(p) => {
                            otk = p.resolve(otk, None, Some(self.victim.session_keys.identity_key))
                        }
                        OuterTweak::BaseKey(p) => base = p.resolve(base, None, None),
                        OuterTweak::IdentityKey(p) => id = p.resolve(id, None, None),
                        _ => {}
                    }
                }
                OlmMessage::from_parts(0, &olm_pre_key_bytes([&otk, &base, &id], &inner, f.layout))
            }
        };
        let Ok(message) = message else {
            self.stats.undecodable += 1;
            return;
        };
        let consistent = f.ratchet_key.keeps_peer_consistent() && f.version.is_none();
        self.sent.push_back((message.clone(), pt.clone()));
        if self.sent.len() > 8 {
            self.sent.pop_front();
        }
        let accepted = self.deliver(&message, &pt, f.bad_mac, f.bad_padding, consistent, hooks);
        if accepted && consistent && rk == honest_key {
            // the peer catches up, as a sender that really skipped would be
            if let Some(s) = self.peer.ratchet.sender.as_mut()
                && s.ratchet_public() == rk
            {
                catch_up(&mut s.chain, index, crate::consts::OLM_MAX_MESSAGE_GAP);
            }
        }
    }

    /// Delivers an adversarial message and checks the outcome; returns whether it was accepted.
    fn deliver(
        &mut self,
        m: &OlmMessage,
        pt: &[u8],
        bad_mac: bool,
        bad_padding: bool,
        consistent: bool,
        hooks: &mut dyn Hooks,
    ) -> bool {
        self.stats.cases += 1;
        let before = olm_state(&self.victim);
        match self.victim.decrypt(m) {
            Err(_) => {
                assert_same(&olm_state(&self.victim), &before, "a refused adversarial Olm message changed the session");
                self.stats.refused += 1;
                false
            }
            Ok(got) => {
                assert!(!bad_mac, "an Olm message with a flipped MAC bit was accepted");
                assert!(!bad_padding, "an Olm message with invalid padding was accepted");
                assert!(got == pt, "an accepted Olm message decrypted to something else");
                self.stats.accepted += 1;
                if !consistent {
                    self.broken = true;
                }
                self.after_accept(hooks);
                true
            }
        }
    }

    /// The victim encrypts (must not panic), goes through its pickles, and, while the
    /// adversary is consistent, completes an honest round trip.
    fn after_accept(&mut self, hooks: &mut dyn Hooks) {
        let v = std::mem::replace(&mut self.victim, clone_olm(&self.peer));
        self.victim = olm_reload(v, hooks, &mut self.rng, &mut self.stats);
        if self.broken {
            let _ = self.victim.encrypt_with_rng(b"after", &mut self.rng);
            return;
        }
        self.honest(false);
        self.honest(true);
        self.stats.round_trips += 1;
    }

    fn finish(&mut self, hooks: &mut dyn Hooks) {
        let _ = self.victim.encrypt_with_rng(b"final", &mut self.rng);
        let v = std::mem::replace(&mut self.victim, clone_olm(&self.peer));
        self.victim = olm_reload(v, hooks, &mut self.rng, &mut self.stats);
        if !self.broken {
            self.honest(false);
            self.honest(true);
        }
    }
}

/// Whether `back` (a session that went through libolm's format, and perhaps vodozemac) holds
/// the state of `original`, except the order of its receiving chains unless `in_order` (the
/// order only decides which chain a new one evicts), and except skipped message keys beyond
/// the 40 libolm keeps for a whole session: then `back` holds 40 of `original`'s.
pub fn same_olm_state(back: &olm::Session, original: &olm::Session, in_order: bool) -> bool {
    type Chain = (Curve25519PublicKey, [u8; 32], u32, Vec<(u32, [u8; 32])>);
    let chains = |s: &olm::Session| -> Vec<Chain> {
        let mut v: Vec<Chain> = s
            .ratchet
            .receivers
            .iter()
            .map(|r| {
                let skipped = r.skipped.iter().map(|k| (k.index, *k.seed.expose())).collect();
                (*r.ratchet_key.key(), *r.chain.key.expose(), r.chain.index, skipped)
            })
            .collect();
        if !in_order {
            v.sort_by_key(|c| c.0);
        }
        v
    };
    let sender = |s: &olm::Session| {
        s.ratchet.sender.as_ref().map(|c| (c.ratchet_public(), *c.chain.key.expose(), c.chain.index))
    };
    let same_rest = back.session_keys == original.session_keys
        && back.config == original.config
        && back.received_message == original.received_message
        && back.ratchet.root == original.ratchet.root
        && back.ratchet.previous_counter == original.ratchet.previous_counter
        && sender(back) == sender(original);
    let (b, o) = (chains(back), chains(original));
    let total: usize = o.iter().map(|c| c.3.len()).sum();
    if total <= LIBOLM_MAX_SKIPPED {
        return same_rest && b == o;
    }
    let kept: usize = b.iter().map(|c| c.3.len()).sum();
    same_rest
        && kept == LIBOLM_MAX_SKIPPED
        && b.len() == o.len()
        && b.iter().zip(&o).all(|(x, y)| x.0 == y.0 && x.1 == y.1 && x.2 == y.2 && x.3.iter().all(|k| y.3.contains(k)))
}

/// libolm keeps at most 40 skipped message keys for a whole session (caudata 40 per chain).
const LIBOLM_MAX_SKIPPED: usize = 40;

/// Whether two receiving chains of `s` have keys that are one X25519 point in two encodings
/// (bit 255, or u and u + p).
pub fn olm_chains_alias(s: &olm::Session) -> bool {
    let canonical = |k: &Curve25519PublicKey| {
        let mut b = k.to_bytes();
        b[31] &= 0x7f;
        let p = p_plus(0);
        // values in [p, 2^255) are p + d, d < 19: same shape as p, low byte ≥ 0xed
        if b[31] == 0x7f && b[1..31].iter().all(|&x| x == 0xff) && b[0] >= p[0] {
            let d = b[0] - p[0];
            b = [0; 32];
            b[0] = d;
        }
        b
    };
    let keys: Vec<[u8; 32]> = s.ratchet.receivers.iter().map(|r| canonical(r.ratchet_key.key())).collect();
    keys.iter().enumerate().any(|(i, k)| keys[i + 1..].contains(k))
}

fn clone_olm(s: &olm::Session) -> olm::Session {
    olm::Session::from_pickle(s.pickle())
}

/// Moves a sender's chain past `index` (ring arithmetic: only when `index` is at most `max_gap`
/// ahead of it), as a sender that really sent up to `index` would be.
fn catch_up(chain: &mut crate::ratchet::ChainKey, index: u32, max_gap: u32) {
    let ahead = index.wrapping_sub(chain.index);
    if ahead <= max_gap {
        for _ in 0..=ahead {
            skip_chain(chain);
        }
    }
}

/// Advances a chain by one without keeping the key.
fn skip_chain(c: &mut crate::ratchet::ChainKey) {
    let mac = HmacKey::new(c.key.expose());
    let mut next = [0u8; 32];
    mac.mac_byte_into(2, &mut next);
    c.key = SecretBytes::from_array(&mut next);
    c.index = c.index.wrapping_add(1);
}

/// The Olm account scenario: every [`Action::Forge`] is the first (pre-key) message of a new
/// session that a fresh initiator starts with the victim's account, built with the forge's
/// inner fields and outer tweaks. An accepted one makes a session that must work (encrypt,
/// pickles, and an honest round trip with the initiator while consistent); a refused one
/// leaves the account unchanged.
pub fn run_olm_account(version_2: bool, actions: &[Action], hooks: &mut dyn Hooks) -> Stats {
    let config = if version_2 { olm::SessionConfig::version_2() } else { olm::SessionConfig::version_1() };
    let rng = &mut FuzzRng::new(b"adversary olm account");
    let mut victim = olm::Account::new_with_rng(rng);
    victim.generate_one_time_keys_with_rng(4, rng);
    victim.generate_fallback_key_with_rng(rng);
    let mut stats = Stats::default();
    for (n, action) in actions.iter().enumerate() {
        let converted;
        let f = match action {
            Action::Forge(f) => f,
            Action::Megolm(m) => {
                converted = Forge::from(m);
                &converted
            }
            _ => continue,
        };
        let peer_account = olm::Account::new_with_rng(rng);
        let mut keys: Vec<Curve25519PublicKey> = victim.one_time_keys().into_values().collect();
        keys.sort();
        keys.extend(victim.fallback_key().into_values());
        if keys.is_empty() {
            victim.generate_one_time_keys_with_rng(4, rng);
            continue;
        }
        let target = keys[n % keys.len()];
        let Ok(mut peer) = peer_account.create_outbound_session_with_rng(config, victim.curve25519_key(), target, rng)
        else {
            continue;
        };
        let sk = peer.session_keys;
        let (mut otk, mut base, mut id, mut caller_id) =
            (sk.one_time_key, sk.base_key, sk.identity_key, sk.identity_key);
        for t in f.pre_key.iter().flatten() {
            match *t {
                OuterTweak::OneTimeKey(p) => otk = p.resolve(otk, keys.first().copied(), Some(victim.curve25519_key())),
                OuterTweak::BaseKey(p) => base = p.resolve(base, None, Some(victim.curve25519_key())),
                OuterTweak::IdentityKey(p) => id = p.resolve(id, None, Some(victim.curve25519_key())),
                OuterTweak::CallerIdentity(peers) => caller_id = if peers { sk.identity_key } else { id },
                _ => {}
            }
        }
        let honest_rk = peer.ratchet.sender.as_ref().map(|s| s.ratchet_public()).expect("initiator sender");
        let rk = f.ratchet_key.resolve(honest_rk, None, Some(victim.curve25519_key()));
        let index = f.counter.resolve(0, crate::consts::OLM_MAX_MESSAGE_GAP, 0);
        // The victim's view: its key for `otk`, the 3DH with the written keys, the first chain.
        let seed = olm_account_oracle(&victim, config, &otk, &base, &id, &rk, index);
        let version = f.version.unwrap_or(config.message_version());
        let (inner, pt) = olm_normal_bytes(version, &rk, index, seed.as_ref(), f, n, rng);
        let Ok(pk) = olm::PreKeyMessage::from_bytes(&olm_pre_key_bytes([&otk, &base, &id], &inner, f.layout)) else {
            stats.undecodable += 1;
            continue;
        };
        stats.cases += 1;
        let before = victim.pickle().to_unencrypted_bytes().to_vec();
        match victim.create_inbound_session(config, caller_id, &pk) {
            Err(_) => {
                assert_same(
                    &victim.pickle().to_unencrypted_bytes(),
                    &before,
                    "a refused adversarial pre-key message changed the Olm account",
                );
                stats.refused += 1;
            }
            Ok(r) => {
                assert!(!f.bad_mac, "an Olm pre-key message with a flipped MAC bit was accepted");
                assert!(!f.bad_padding, "an Olm pre-key message with invalid padding was accepted");
                assert!(r.plaintext == pt, "an accepted pre-key message decrypted to something else");
                stats.accepted += 1;
                let mut s = olm_reload(r.session, hooks, rng, &mut stats);
                let reply = s.encrypt_with_rng(b"reply", rng);
                let consistent = f.ratchet_key.keeps_peer_consistent()
                    && [otk, base, id] == [sk.one_time_key, sk.base_key, sk.identity_key]
                    && f.version.is_none();
                if consistent {
                    // the initiator catches up to the index it claimed, then they talk
                    if let Some(sender) = peer.ratchet.sender.as_mut() {
                        catch_up(&mut sender.chain, index, crate::consts::OLM_MAX_MESSAGE_GAP);
                    }
                    assert_eq!(peer.decrypt(&reply).expect("the initiator reads the victim's reply"), b"reply");
                    let back = peer.encrypt_with_rng(b"back", rng);
                    assert_eq!(s.decrypt(&back).expect("the victim reads the initiator's answer"), b"back");
                    stats.round_trips += 1;
                }
                let _ = olm_reload(s, hooks, rng, &mut stats);
            }
        }
        let reloaded = olm::Account::from_pickle(
            AccountPickle::from_unencrypted_bytes(&victim.pickle().to_unencrypted_bytes()).expect("account pickle"),
        );
        assert_same(
            &reloaded.pickle().to_unencrypted_bytes(),
            &victim.pickle().to_unencrypted_bytes(),
            "an Olm account changed through its pickle",
        );
        victim = reloaded;
    }
    stats
}

/// The seed of the first chain the victim's account would make for this pre-key message.
fn olm_account_oracle(
    victim: &olm::Account,
    config: olm::SessionConfig,
    otk: &Curve25519PublicKey,
    base: &Curve25519PublicKey,
    id: &Curve25519PublicKey,
    rk: &Curve25519PublicKey,
    index: u32,
) -> Option<MessageSeed> {
    let secret = victim
        .one_time_keys
        .values()
        .chain(victim.fallback_key.iter().map(|(_, k)| k))
        .chain(victim.previous_fallback_key.iter().map(|(_, k)| k))
        .find(|k| k.public == *otk)
        .map(|k| k.secret.clone())?;
    // A placeholder inner message with the ratchet key and index of the real one.
    let placeholder =
        crate::wire::olm::NormalMessageWire::encode(config.message_version(), rk, index, vec![0; 16], |_| [0; 32]);
    let wire = PreKeyMessageWire::encode(*otk, *base, *id, placeholder);
    let session = olm::Session::new_inbound(config, &victim.identity_key, &secret, &wire).ok()?;
    olm_oracle(&session, rk, index)
}

// ------------------------------------------------------------------ Megolm

fn megolm_state(s: &InboundGroupSession) -> Vec<u8> {
    s.pickle().to_unencrypted_bytes().to_vec()
}

fn clone_igs(s: &InboundGroupSession) -> InboundGroupSession {
    InboundGroupSession::from_pickle(s.pickle())
}

/// Own (unencrypted, encrypted), libolm and the hooks' pickles of an inbound group session,
/// each identical on the way back, and an export at the first known index that imports to the
/// same ratchet.
fn megolm_reload(
    s: InboundGroupSession,
    hooks: &mut dyn Hooks,
    rng: &mut FuzzRng,
    stats: &mut Stats,
) -> InboundGroupSession {
    let before = megolm_state(&s);
    let reloaded =
        InboundGroupSession::from_pickle(InboundGroupSessionPickle::from_unencrypted_bytes(&before).unwrap_or_else(
            |e| panic!("an accepted message left a Megolm session whose own pickle does not load: {e}"),
        ));
    assert_same(&megolm_state(&reloaded), &before, "own pickle round trip changed the Megolm session");
    let text = s.pickle().encrypt_with_rng(&PICKLE_KEY, rng);
    let back = InboundGroupSession::from_pickle(
        InboundGroupSessionPickle::from_encrypted(&text, &PICKLE_KEY).expect("own encrypted pickle"),
    );
    assert_same(&megolm_state(&back), &before, "encrypted pickle round trip changed the Megolm session");
    stats.pickles += 2;
    if let Ok(libolm) = s.to_libolm_pickle(&PICKLE_KEY) {
        let back = InboundGroupSession::from_libolm_pickle(&libolm, &PICKLE_KEY)
            .unwrap_or_else(|e| panic!("caudata's libolm export of a Megolm session does not import: {e}"));
        // libolm keeps no "latest" cache: the first known index and the export must agree
        assert_eq!(back.first_known_index(), s.first_known_index(), "libolm round trip moved the first known index");
        assert_same(
            &back.export_at_first_known_index().to_bytes(),
            &s.export_at_first_known_index().to_bytes(),
            "libolm round trip changed the Megolm ratchet",
        );
        stats.pickles += 1;
    }
    let exported = s.export_at_first_known_index();
    let imported = InboundGroupSession::import(&exported, s.session_config());
    assert_same(
        &imported.export_at_first_known_index().to_bytes(),
        &exported.to_bytes(),
        "export/import is not stable",
    );
    stats.pickles += hooks.inbound_group_session(&s);
    reloaded
}

/// The Megolm scenario: a group session whose receiver got the session key at `start`
/// (0, or near 2^31 or 2^32 to cross the wrap), and the adversary's `actions`
/// ([`Action::Megolm`], honest messages, replays, reloads, and merges with copies exported
/// later ([`Action::Relabel`])).
pub fn run_megolm(start: u32, version_2: bool, actions: &[Action], hooks: &mut dyn Hooks) -> Stats {
    let config = if version_2 { megolm::SessionConfig::version_2() } else { megolm::SessionConfig::version_1() };
    let rng = &mut FuzzRng::new(b"adversary megolm");
    let mut sender = GroupSession::new_with_rng(config, rng);
    sender.advance_to_for_testing(start);
    let initial = sender.ratchet.clone();
    let mut victim = InboundGroupSession::new(&sender.session_key(), config);
    let other_key = crate::primitives::Ed25519SecretKey::random(rng);
    let mut stats = Stats::default();
    let mut sent: VecDeque<(MegolmMessage, Vec<u8>)> = VecDeque::new();
    for action in actions {
        match action {
            Action::Honest { count, .. } => {
                for _ in 0..(*count).min(8) {
                    let pt = format!("honest {}", stats.honest).into_bytes();
                    let m = sender.encrypt(&pt);
                    let got = victim.decrypt(&m).expect("an honest Megolm message was refused");
                    assert!(
                        (&got.plaintext, got.message_index) == (&pt, m.message_index()),
                        "an honest Megolm message decrypted wrongly"
                    );
                    push_bounded(&mut sent, (m, pt));
                    stats.honest += 1;
                }
            }
            Action::Megolm(_) | Action::Forge(_) => {
                let converted;
                let f = match action {
                    Action::Megolm(f) => f,
                    Action::Forge(f) => {
                        converted = MegolmForge::from(f);
                        &converted
                    }
                    _ => unreachable!(),
                };
                let next = sender.message_index();
                let index = f.index.resolve(next, 0x0100_0000, victim.first_known_index());
                let mut r = initial.clone();
                r.advance_to(index);
                let pt = plaintext(f.plaintext_len, stats.cases);
                let bytes = megolm_bytes(&sender, &other_key, &r, f, &pt, rng);
                match MegolmMessage::from_bytes(&bytes) {
                    Ok(m) => {
                        push_bounded(&mut sent, (m.clone(), pt.clone()));
                        victim = megolm_deliver(victim, &m, &pt, Some(f), hooks, rng, &mut stats);
                    }
                    Err(_) => stats.undecodable += 1,
                }
            }
            Action::Replay(i) if !sent.is_empty() => {
                let (m, pt) = sent[usize::from(*i) % sent.len()].clone();
                victim = megolm_deliver(victim, &m, &pt, None, hooks, rng, &mut stats);
            }
            Action::Reload => victim = megolm_reload(victim, hooks, rng, &mut stats),
            Action::Relabel(delta) => {
                // A copy of the session exported `delta` after the first known index (as another
                // device would hold), merged: the merge must decrypt whatever either decrypts,
                // within its own window (SPEC.md §5.3: half the ring from the first known index;
                // the merge keeps the earlier first index, so a copy that started later may reach
                // a little further ahead).
                let Some(exported) = victim.export_at(victim.first_known_index().wrapping_add(*delta)) else {
                    continue;
                };
                let other = InboundGroupSession::import(&exported, config);
                let merged = victim.merge(&other).expect("a copy of the same session must merge");
                for (m, _) in &sent {
                    let a = clone_igs(&victim).decrypt(m).ok();
                    let b = clone_igs(&other).decrypt(m).ok();
                    let c = clone_igs(&merged).decrypt(m).ok();
                    let in_window = m.message_index().wrapping_sub(merged.first_known_index()) < 1 << 31;
                    if in_window && let Some(d) = a.as_ref().or(b.as_ref()) {
                        assert_eq!(
                            c.as_ref(),
                            Some(d),
                            "the merged Megolm session lost a message one copy could decrypt"
                        );
                    }
                }
                victim = megolm_reload(merged, hooks, rng, &mut stats);
            }
            _ => {}
        }
    }
    let m = sender.encrypt(b"final");
    assert_eq!(victim.decrypt(&m).expect("the final honest Megolm message").plaintext, b"final");
    stats
}

fn push_bounded<T>(q: &mut VecDeque<T>, v: T) {
    q.push_back(v);
    if q.len() > 8 {
        q.pop_front();
    }
}

/// A Megolm message at `r.index` with the forge's fields, MACed with `r`'s keys and signed as
/// chosen.
fn megolm_bytes(
    sender: &GroupSession,
    other_key: &crate::primitives::Ed25519SecretKey,
    r: &MegolmRatchet,
    f: &MegolmForge,
    pt: &[u8],
    rng: &mut FuzzRng,
) -> Vec<u8> {
    let _ = rng;
    let keys = AesCbcKeys::derive(None, r.parts.expose(), b"MEGOLM_KEYS");
    let ct = encrypt_payload(&keys, pt, f.bad_padding);
    let session_version = if sender.session_config().version() == 2 { VERSION_FULL_MAC } else { VERSION_TRUNCATED_MAC };
    let version = f.version.unwrap_or(session_version);
    let mut pb = Pb::new(f.layout);
    pb.varint(1, u64::from(r.index));
    pb.bytes(2, &ct);
    let mut out = pb.finish(version);
    let mac = HmacKey::new(&keys.mac_key).mac(&[&out]);
    let mac_len = if version == VERSION_FULL_MAC { 32 } else { 8 };
    out.extend_from_slice(&mac.expose()[..mac_len]);
    if f.bad_mac {
        let n = out.len();
        out[n - 1] ^= 1;
    }
    let mut sig = match f.signature {
        Signature::OtherKey => other_key.sign(&out).to_bytes(),
        _ => sender.signing_key.sign(&out).to_bytes(),
    };
    if f.signature == Signature::Malleated {
        add_l(&mut sig[32..]);
    }
    out.extend_from_slice(&sig);
    out
}

/// Adds the group order L to a little-endian scalar.
fn add_l(s: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (b, l) in s.iter_mut().zip(L) {
        let t = u16::from(*b) + u16::from(l) + carry;
        *b = t as u8;
        carry = t >> 8;
    }
}

/// Delivers an adversarial Megolm message; checks the outcome against a fresh import of the
/// same session (no history), the refusal rule and the acceptance checks.
fn megolm_deliver(
    mut victim: InboundGroupSession,
    m: &MegolmMessage,
    pt: &[u8],
    f: Option<&MegolmForge>,
    hooks: &mut dyn Hooks,
    rng: &mut FuzzRng,
    stats: &mut Stats,
) -> InboundGroupSession {
    stats.cases += 1;
    let before = megolm_state(&victim);
    let mut fresh = InboundGroupSession::import(&victim.export_at_first_known_index(), victim.session_config());
    let fresh_result = fresh.decrypt(m).map(|d| (d.plaintext, d.message_index));
    match victim.decrypt(m) {
        Err(e) => {
            assert_same(&megolm_state(&victim), &before, "a refused adversarial Megolm message changed the session");
            assert!(
                fresh_result.is_err(),
                "Megolm history decides: index {} is refused ({e:?}) by the session, accepted by a fresh import of it",
                m.message_index()
            );
            stats.refused += 1;
            victim
        }
        Ok(d) => {
            if let Some(f) = f {
                assert!(!f.bad_mac, "a Megolm message with a flipped MAC bit was accepted");
                assert!(!f.bad_padding, "a Megolm message with invalid padding was accepted");
                assert_eq!(f.signature, Signature::Valid, "a Megolm message with a bad signature was accepted");
            }
            assert!(
                (d.plaintext.as_slice(), d.message_index) == (pt, m.message_index()),
                "an accepted Megolm message decrypted wrongly"
            );
            assert!(
                fresh_result.ok().map(|(_, i)| i) == Some(d.message_index),
                "Megolm history decides: index {} (first known {}) is accepted by the session, refused by a fresh import of it",
                m.message_index(),
                victim.first_known_index()
            );
            stats.accepted += 1;
            megolm_reload(victim, hooks, rng, stats)
        }
    }
}

// ------------------------------------------------------------------ interolm

/// How an interolm scenario's sessions are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterolmSetup {
    /// PQXDH (else X3DH, which never runs SPQR).
    pub pqxdh: bool,
    /// Both accounts' SPQR policy.
    pub policy: SpqrPolicy,
    /// The victim is the initiator.
    pub victim_initiator: bool,
    /// Honest round trips before the adversary starts (≥ 50 reach SPQR epoch 2 and beyond).
    pub warm: u16,
}

type InterolmPair = (Vec<u8>, Vec<u8>, PreKeyFields);

thread_local! {
    static INTEROLM_PAIRS: RefCell<Vec<(InterolmSetup, InterolmPair)>> = const { RefCell::new(Vec::new()) };
}

/// Initiator and responder (pickles), and the initiator's pre-key fields; built once per setup.
fn interolm_pair(setup: InterolmSetup) -> (interolm::Session, interolm::Session, PreKeyFields) {
    let key = InterolmSetup { victim_initiator: false, ..setup };
    let (a, b, fields) = INTEROLM_PAIRS.with(|cell| {
        if let Some((_, p)) = cell.borrow().iter().find(|(k, _)| *k == key) {
            return p.clone();
        }
        let rng = &mut FuzzRng::new(b"adversary interolm pair");
        let mut alice = interolm::Account::new_with_rng(rng);
        let mut bob = interolm::Account::new_with_rng(rng);
        for acct in [&mut alice, &mut bob] {
            acct.allow_x3dh(!setup.pqxdh);
            acct.set_spqr_policy(setup.policy);
        }
        bob.generate_signed_pre_key_with_rng(rng);
        bob.generate_one_time_pre_keys_with_rng(1, rng);
        if setup.pqxdh {
            bob.generate_kyber_pre_key_with_rng(false, rng);
        }
        let bundle = bob.pre_key_bundle(1).expect("bundle");
        let mut a = alice.create_outbound_session_with_rng(&bundle, rng).expect("outbound");
        let fields = a.pending_pre_key.clone().expect("pre-key fields");
        let InterolmMessage::PreKey(pk) = a.encrypt_with_rng(b"hello", rng).expect("first message") else {
            unreachable!()
        };
        let mut b = bob.create_inbound_session_with_rng(&pk, rng).expect("inbound").session;
        for i in 0..=setup.warm {
            let m = b.encrypt_with_rng(format!("warm b{i}").as_bytes(), rng).expect("warm-up");
            a.decrypt_with_rng(&m, rng).expect("warm-up");
            if i < setup.warm {
                let m = a.encrypt_with_rng(format!("warm a{i}").as_bytes(), rng).expect("warm-up");
                b.decrypt_with_rng(&m, rng).expect("warm-up");
            }
        }
        let p = (a.pickle().to_unencrypted_bytes().to_vec(), b.pickle().to_unencrypted_bytes().to_vec(), fields);
        cell.borrow_mut().push((key, p.clone()));
        p
    });
    let load =
        |p: &[u8]| interolm::Session::from_pickle(InterolmSessionPickle::from_unencrypted_bytes(p).expect("pair"));
    (load(&a), load(&b), fields)
}

fn interolm_state(s: &interolm::Session) -> (Vec<u8>, interolm::RatchetSnapshot) {
    (s.pickle().to_unencrypted_bytes().to_vec(), s.snapshot_for_testing_only())
}

fn clone_interolm(s: &interolm::Session) -> interolm::Session {
    interolm::Session::from_pickle(s.pickle())
}

/// Own pickles (unencrypted and encrypted) of an interolm session, identical on the way back
/// (pickle bytes and ratchet snapshot).
fn interolm_reload(s: interolm::Session, rng: &mut FuzzRng, stats: &mut Stats) -> interolm::Session {
    let (bytes, snapshot) = interolm_state(&s);
    let reloaded =
        interolm::Session::from_pickle(InterolmSessionPickle::from_unencrypted_bytes(&bytes).unwrap_or_else(|e| {
            panic!("an accepted message left an interolm session whose own pickle does not load: {e}")
        }));
    assert!(
        interolm_state(&reloaded) == (bytes.clone(), snapshot.clone()),
        "own pickle round trip changed the interolm session"
    );
    let text = s.pickle().encrypt_with_rng(&PICKLE_KEY, rng);
    let back = interolm::Session::from_pickle(
        InterolmSessionPickle::from_encrypted(&text, &PICKLE_KEY).expect("own encrypted pickle"),
    );
    assert!(interolm_state(&back) == (bytes, snapshot), "encrypted pickle round trip changed the interolm session");
    stats.pickles += 2;
    reloaded
}

/// The SPQR field 5 a pick gives, relative to the victim's state; the peer's SPQR state sends
/// for [`SpqrPick::Honest`].
fn spqr_field(
    pick: &SpqrPick,
    victim: &interolm::spqr::SpqrState,
    peer: Option<&mut interolm::spqr::SpqrState>,
    rng: &mut FuzzRng,
) -> Vec<u8> {
    match pick {
        SpqrPick::Honest => peer.and_then(|p| p.send(rng).ok()).map(|s| s.message().to_vec()).unwrap_or_default(),
        SpqrPick::Omit => Vec::new(),
        SpqrPick::VersionAbove(v, len) => {
            let mut out = vec![(*v).max(2)];
            out.extend((0..*len).map(|i| i.wrapping_mul(37)));
            out
        }
        SpqrPick::Message { epoch, index, kind, chunk_index, fill, trailing } => {
            let current = victim.summary().epoch.max(1);
            let e = if *epoch == i64::MIN { 1 } else { current.saturating_add_signed(*epoch) };
            let chunk = Chunk { index: *chunk_index, data: [*fill; 32] };
            let payload = match kind {
                0 => Some(SpqrPayload::None),
                1 => Some(SpqrPayload::Hdr(chunk)),
                2 => Some(SpqrPayload::Ek(chunk)),
                3 => Some(SpqrPayload::EkCt1Ack(chunk)),
                4 => Some(SpqrPayload::Ct1Ack),
                5 => Some(SpqrPayload::Ct1(chunk)),
                6 => Some(SpqrPayload::Ct2(chunk)),
                _ => None,
            };
            let mut out = match payload {
                Some(payload) => SpqrMessage { epoch: e, index: *index, payload }.to_bytes(),
                None => {
                    let mut out = vec![1];
                    put_varint(&mut out, e);
                    put_varint(&mut out, u64::from(*index));
                    out.push(*kind);
                    out
                }
            };
            out.extend((0..*trailing).map(|i| i ^ 0x5a));
            out
        }
        SpqrPick::Raw(b) => b.clone(),
    }
}

/// The Signal-dialect message keys the victim would use for this header and field 5.
fn interolm_oracle(
    victim: &interolm::Session,
    rk: &Curve25519PublicKey,
    index: u32,
    field5: &[u8],
) -> (Option<MessageSeed>, Option<[u8; 32]>) {
    let salt = victim.spqr.recv(field5).ok().and_then(|p| p.key().map(|k| *k.as_bytes()));
    let mut ratchet = victim.ratchet.clone();
    let mut found = None;
    let _ = ratchet.decrypt(rk, index, &mut FuzzRng::new(b"oracle"), |seed| {
        found = Some(seed.clone());
        Err::<(), _>(DecryptionError::InvalidMac)
    });
    (found, salt)
}

/// A `SignalMessage` with the forge's fields, MACed with the keys of (`seed`, `salt`) between
/// `sender` and `receiver` (identity keys).
#[allow(clippy::too_many_arguments)]
fn signal_bytes(
    session_version: u8,
    rk: &Curve25519PublicKey,
    index: u32,
    previous_counter: u32,
    field5: &[u8],
    seed: Option<&MessageSeed>,
    salt: Option<&[u8; 32]>,
    identities: (&Curve25519PublicKey, &Curve25519PublicKey),
    f: &Forge,
    tag: usize,
    rng: &mut FuzzRng,
) -> (Vec<u8>, Vec<u8>) {
    let keys = match seed {
        Some(s) => AesCbcKeys::derive(salt.map(|s| &s[..]), s.seed.expose(), b"WhisperMessageKeys"),
        None => random_keys(rng),
    };
    let pt = plaintext(f.plaintext_len, tag);
    let ct = encrypt_payload(&keys, &pt, f.bad_padding);
    let mut pb = Pb::new(f.layout);
    pb.bytes(1, &encode_public_key(rk));
    pb.varint(2, u64::from(index));
    pb.varint(3, u64::from(previous_counter));
    pb.bytes(4, &ct);
    if !field5.is_empty() {
        pb.bytes(5, field5);
    }
    let mut out = pb.finish(f.version.unwrap_or(version_byte(session_version)));
    let mac =
        HmacKey::new(&keys.mac_key).mac(&[&encode_public_key(identities.0), &encode_public_key(identities.1), &out]);
    let mut tag_bytes = mac.expose()[..8].to_vec();
    if f.bad_mac {
        tag_bytes[0] ^= 1;
    }
    out.extend(tag_bytes);
    (out, pt)
}

/// Applies pre-key tweaks to `fields`; `victim_identity` is the reflected key.
fn tweak_fields(
    fields: &PreKeyFields,
    tweaks: &[OuterTweak],
    victim_identity: Curve25519PublicKey,
    other_ct: Option<&interolm::Kyber1024Ciphertext>,
) -> PreKeyFields {
    let mut f = fields.clone();
    for t in tweaks {
        match *t {
            OuterTweak::BaseKey(p) => f.base_key = p.resolve(f.base_key, None, Some(victim_identity)),
            OuterTweak::IdentityKey(p) => f.identity_key = p.resolve(f.identity_key, None, Some(victim_identity)),
            OuterTweak::RegistrationId(r) => f.registration_id = r,
            OuterTweak::PreKeyId(id) => f.pre_key_id = id,
            OuterTweak::SignedPreKeyId(id) => f.signed_pre_key_id = id,
            OuterTweak::KyberId(Some(id)) => {
                if let Some((_, ct)) = f.kyber.take() {
                    f.kyber = Some((id, ct));
                }
            }
            OuterTweak::KyberId(None) => f.kyber = None,
            OuterTweak::KyberCiphertext(other) => {
                if let Some((id, ct)) = f.kyber.take() {
                    let replaced = if other {
                        other_ct.cloned()
                    } else {
                        let mut b = vec![0x5a; interolm::Kyber1024Ciphertext::LENGTH];
                        b[0] = crate::primitives::KYBER1024_KEY_TYPE;
                        interolm::Kyber1024Ciphertext::from_bytes(&b).ok()
                    };
                    f.kyber = Some((id, replaced.unwrap_or(ct)));
                }
            }
            OuterTweak::SessionVersion(v) => f.session_version = v,
            OuterTweak::OneTimeKey(_) | OuterTweak::CallerIdentity(_) => {}
        }
    }
    f
}

/// The interolm scenario: an established session (see [`InterolmSetup`]) and the adversary's
/// `actions`.
pub fn run_interolm_session(setup: InterolmSetup, actions: &[Action]) -> Stats {
    let (a, b, fields) = interolm_pair(setup);
    let (victim, peer) = if setup.victim_initiator { (a, b) } else { (b, a) };
    let mut run = InterolmRun {
        // the victim's receiving chains are the peer's ratchet keys so far, oldest first
        peer_keys: victim
            .ratchet
            .receivers
            .iter()
            .map(|r| *r.ratchet_key.key())
            .chain(peer.ratchet.sender.iter().map(|s| s.ratchet_public()))
            .collect(),
        victim,
        peer,
        fields,
        rng: FuzzRng::new(b"adversary interolm run"),
        stats: Stats::default(),
        sent: VecDeque::new(),
        broken: false,
    };
    for action in actions {
        run.step(action);
    }
    run.victim.encrypt_with_rng(b"final", &mut run.rng).expect("the victim cannot encrypt any more");
    let v = std::mem::replace(&mut run.victim, clone_interolm(&run.peer));
    run.victim = interolm_reload(v, &mut run.rng, &mut run.stats);
    if !run.broken {
        run.honest(false);
        run.honest(true);
    }
    run.stats
}

struct InterolmRun {
    victim: interolm::Session,
    peer: interolm::Session,
    fields: PreKeyFields,
    rng: FuzzRng,
    stats: Stats,
    sent: VecDeque<(InterolmMessage, Vec<u8>, bool)>,
    peer_keys: Vec<Curve25519PublicKey>,
    broken: bool,
}

impl InterolmRun {
    fn step(&mut self, action: &Action) {
        match action {
            Action::Honest { from_peer, count } => {
                for _ in 0..(*count).min(8) {
                    self.honest(*from_peer);
                }
            }
            Action::Forge(f) => self.forge(f),
            Action::Megolm(m) => self.forge(&Forge::from(m)),
            Action::Replay(i) if !self.sent.is_empty() => {
                let (m, pt, salted) = self.sent[usize::from(*i) % self.sent.len()].clone();
                self.deliver(&m, &pt, salted, None, false);
            }
            Action::Reload => {
                let v = std::mem::replace(&mut self.victim, clone_interolm(&self.peer));
                self.victim = interolm_reload(v, &mut self.rng, &mut self.stats);
            }
            Action::Relabel(base) => {
                // the victim must know the peer's current sending chain: the peer sends first
                let current = self.peer.ratchet.sender.as_ref().map(SenderChain::ratchet_public);
                if current.is_none_or(|k| !self.victim.ratchet.receivers.iter().any(|r| *r.ratchet_key.key() == k)) {
                    self.honest(true);
                }
                let Some(sender) = self.peer.ratchet.sender.as_mut() else { return };
                let key = sender.ratchet_public();
                let Some(rc) = self.victim.ratchet.receivers.iter_mut().find(|r| *r.ratchet_key.key() == key) else {
                    return;
                };
                if rc.chain.index == sender.chain.index {
                    rc.chain.index = *base;
                    rc.skipped.clear();
                    sender.chain.index = *base;
                    self.stats.relabels += 1;
                }
            }
            _ => {}
        }
    }

    fn honest(&mut self, from_peer: bool) {
        let pt = format!("honest {}", self.stats.honest).into_bytes();
        let (from, to) =
            if from_peer { (&mut self.peer, &mut self.victim) } else { (&mut self.victim, &mut self.peer) };
        let m = from.encrypt_with_rng(&pt, &mut self.rng).expect("an interolm session cannot encrypt");
        if from_peer
            && let Some(k) = from.ratchet.sender.as_ref().map(|s| s.ratchet_public())
            && self.peer_keys.last() != Some(&k)
        {
            self.peer_keys.push(k);
        }
        let before = interolm_state(to);
        match to.decrypt_with_rng(&m, &mut self.rng) {
            Ok(got) => assert!(got == pt, "an honest interolm message decrypted to something else"),
            Err(e) => {
                assert!(
                    self.broken,
                    "an honest interolm message was refused ({e:?}) although the adversary stayed consistent"
                );
                assert!(interolm_state(to) == before, "a refused honest message changed the session");
            }
        }
        self.stats.honest += 1;
    }

    fn forge(&mut self, f: &Forge) {
        let tag = self.stats.cases;
        let honest_key = self.peer.ratchet.sender.as_ref().map(|s| s.ratchet_public());
        let Some(honest_key) = honest_key.or_else(|| self.peer_keys.last().copied()) else { return };
        let previous = self.peer_keys.iter().rev().nth(1).copied();
        let own = self.victim.ratchet.sender.as_ref().map(|s| s.ratchet_public());
        let rk = f.ratchet_key.resolve(honest_key, previous, own);
        let next =
            self.victim.ratchet.receivers.iter().find(|r| *r.ratchet_key.key() == rk).map_or(0, |r| r.chain.index);
        let index = f.counter.resolve(next, crate::consts::SIGNAL_MAX_FORWARD_JUMPS, 0);
        let field5 = spqr_field(&f.spqr, &self.victim.spqr, Some(&mut self.peer.spqr), &mut self.rng);
        let (seed, salt) = interolm_oracle(&self.victim, &rk, index, &field5);
        let prev = f.previous_counter.unwrap_or(self.peer.ratchet.previous_counter.saturating_sub(1));
        let (inner, pt) = signal_bytes(
            self.victim.version.as_u8(),
            &rk,
            index,
            prev,
            &field5,
            seed.as_ref(),
            salt.as_ref(),
            (&self.victim.remote_identity, &self.victim.local_identity),
            f,
            tag,
            &mut self.rng,
        );
        let message = match &f.pre_key {
            None => InterolmMessage::from_parts(2, &inner),
            Some(tweaks) => match crate::wire::signal::SignalMessageWire::decode(&inner) {
                Ok(wire) => {
                    let fields = tweak_fields(&self.fields, tweaks, self.victim.local_identity, None);
                    let pk = crate::wire::signal::PreKeySignalMessageWire::encode(fields, wire);
                    InterolmMessage::from_parts(3, pk.as_bytes())
                }
                Err(e) => Err(e),
            },
        };
        let Ok(message) = message else {
            self.stats.undecodable += 1;
            return;
        };
        let consistent = f.ratchet_key.keeps_peer_consistent()
            && f.spqr == SpqrPick::Honest
            && f.version.is_none()
            && f.pre_key.as_ref().is_none_or(Vec::is_empty);
        push_bounded(&mut self.sent, (message.clone(), pt.clone(), salt.is_some()));
        let bad = (f.bad_mac, f.bad_padding);
        if self.deliver(&message, &pt, salt.is_some(), Some(bad), consistent)
            && consistent
            && rk == honest_key
            && let Some(s) = self.peer.ratchet.sender.as_mut()
            && s.ratchet_public() == rk
        {
            catch_up(&mut s.chain, index, crate::consts::SIGNAL_MAX_FORWARD_JUMPS);
        }
    }

    /// Delivers an adversarial message; returns whether it was accepted.
    fn deliver(
        &mut self,
        m: &InterolmMessage,
        pt: &[u8],
        salted: bool,
        bad: Option<(bool, bool)>,
        consistent: bool,
    ) -> bool {
        self.stats.cases += 1;
        let before = interolm_state(&self.victim);
        let negotiated = self.victim.spqr().version_status() == VersionStatus::Complete(SpqrVersion::V1);
        // SPEC.md §6: the initiator's pre-key messages on its first chain may come from before it
        // heard from us, without an SPQR key; that chain's keys come from PQXDH's Kyber secret,
        // so accepting them keyless is no downgrade. The first chain is the responder's oldest
        // receiving chain while none has been dropped.
        let pre_reply = match m {
            InterolmMessage::PreKey(p) => {
                let r = &self.victim.ratchet;
                !self.victim.initiator
                    && r.receivers.len() < crate::consts::MAX_RECEIVER_CHAINS
                    && r.receivers.front().is_none_or(|c| *c.ratchet_key.key() == p.message().ratchet_key())
            }
            InterolmMessage::Whisper(_) => false,
        };
        match self.victim.decrypt_with_rng(m, &mut self.rng) {
            Err(_) => {
                assert!(
                    interolm_state(&self.victim) == before,
                    "a refused adversarial interolm message changed the session"
                );
                self.stats.refused += 1;
                false
            }
            Ok(got) => {
                let (bad_mac, bad_padding) = bad.unwrap_or_default();
                assert!(!bad_mac, "an interolm message with a flipped MAC bit was accepted");
                assert!(!bad_padding, "an interolm message with invalid padding was accepted");
                assert!(got == pt, "an accepted interolm message decrypted to something else");
                assert!(
                    salted || !negotiated || pre_reply,
                    "SPQR downgrade: after SPQR V1 was negotiated, a message without an SPQR key (field 5: {}) was \
                     accepted on the classical chain alone",
                    crate::primitives::base64_encode(m_field5(m))
                );
                self.stats.accepted += 1;
                if !consistent {
                    self.broken = true;
                }
                let v = std::mem::replace(&mut self.victim, clone_interolm(&self.peer));
                self.victim = interolm_reload(v, &mut self.rng, &mut self.stats);
                if self.broken {
                    self.victim
                        .encrypt_with_rng(b"after", &mut self.rng)
                        .expect("the victim cannot encrypt after an accepted message");
                } else {
                    self.honest(false);
                    self.honest(true);
                    self.stats.round_trips += 1;
                }
                true
            }
        }
    }
}

fn m_field5(m: &InterolmMessage) -> Vec<u8> {
    match m {
        InterolmMessage::Whisper(s) => s.pq_ratchet().unwrap_or_default().to_vec(),
        InterolmMessage::PreKey(p) => p.message().pq_ratchet().unwrap_or_default().to_vec(),
    }
}

/// The interolm account scenario: every [`Action::Forge`] is the first message of a session a
/// fresh initiator starts from the victim's bundle (one-time prekey, signed prekey, Kyber
/// prekey: one-time or last-resort), with the forge's inner fields and outer tweaks; an
/// [`Action::Replay`] sends an earlier one again (a replay must never make a second session).
pub fn run_interolm_account(policy: SpqrPolicy, actions: &[Action]) -> Stats {
    let rng = &mut FuzzRng::new(b"adversary interolm account");
    let mut victim = interolm::Account::new_with_rng(rng);
    victim.set_spqr_policy(policy);
    victim.allow_x3dh(true);
    victim.generate_signed_pre_key_with_rng(rng);
    victim.generate_one_time_pre_keys_with_rng(4, rng);
    victim.generate_kyber_pre_key_with_rng(true, rng);
    victim.generate_kyber_pre_key_with_rng(false, rng);
    let mut stats = Stats::default();
    let mut sent: VecDeque<(interolm::PreKeySignalMessage, bool)> = VecDeque::new();
    let account_state = |a: &interolm::Account| a.pickle().expect("account pickle").to_unencrypted_bytes().to_vec();
    for (n, action) in actions.iter().enumerate() {
        let converted;
        let forged = match action {
            Action::Forge(f) => Some(f),
            Action::Megolm(m) => {
                converted = Forge::from(m);
                Some(&converted)
            }
            _ => None,
        };
        let (pk, pt, bad, consistent, mut peer) = match (forged, action) {
            (Some(f), _) => {
                let mut peer_account = interolm::Account::new_with_rng(rng);
                peer_account.set_spqr_policy(policy);
                peer_account.allow_x3dh(true);
                let Some(mut bundle) = victim.pre_key_bundle(1) else { continue };
                if n % 3 == 1 {
                    bundle.pre_key = None;
                }
                if n % 5 == 2 {
                    bundle.kyber_pre_key = None; // X3DH
                }
                if n % 4 == 3 {
                    // the last-resort Kyber key instead of the one-time one
                    if let Some((&id, r)) = victim.pre_keys.kyber.iter().find(|(_, r)| r.last_resort) {
                        bundle.kyber_pre_key = Some((id, r.secret.public_key().clone(), r.signature));
                    }
                }
                if bundle.pre_key.is_none() && victim.pre_keys.one_time.is_empty() {
                    victim.generate_one_time_pre_keys_with_rng(4, rng);
                }
                let Ok(mut peer) = peer_account.create_outbound_session_with_rng(&bundle, rng) else { continue };
                let Some(fields) = peer.pending_pre_key.clone() else { continue };
                let other_ct = victim.pre_keys.kyber.values().next().map(|r| r.secret.public_key().encapsulate(rng).0);
                let fields = tweak_fields(
                    &fields,
                    f.pre_key.as_deref().unwrap_or_default(),
                    victim.identity_public,
                    other_ct.as_ref(),
                );
                let honest_rk = peer.ratchet.sender.as_ref().map(|s| s.ratchet_public()).expect("initiator sender");
                let rk = f.ratchet_key.resolve(honest_rk, None, Some(victim.identity_public));
                let index = f.counter.resolve(0, crate::consts::SIGNAL_MAX_FORWARD_JUMPS, 0);
                // The victim's view: the session its account would make from these fields.
                let responder = interolm_account_oracle(&victim, &fields);
                let field5 = match &responder {
                    Some(r) => spqr_field(&f.spqr, &r.spqr, Some(&mut peer.spqr), rng),
                    None => spqr_field(&f.spqr, &interolm::spqr::SpqrState::disabled(), Some(&mut peer.spqr), rng),
                };
                let (seed, salt) = match &responder {
                    Some(r) => interolm_oracle(r, &rk, index, &field5),
                    None => (None, None),
                };
                let session_version = fields.session_version;
                let (inner, pt) = signal_bytes(
                    session_version,
                    &rk,
                    index,
                    f.previous_counter.unwrap_or(0),
                    &field5,
                    seed.as_ref(),
                    salt.as_ref(),
                    (&fields.identity_key, &victim.identity_public),
                    f,
                    n,
                    rng,
                );
                let Ok(wire) = crate::wire::signal::SignalMessageWire::decode(&inner) else {
                    stats.undecodable += 1;
                    continue;
                };
                let honest_fields = peer.pending_pre_key.clone().expect("fields");
                let encoded = crate::wire::signal::PreKeySignalMessageWire::encode(fields.clone(), wire);
                let Ok(pk) = interolm::PreKeySignalMessage::from_bytes(encoded.as_bytes()) else {
                    stats.undecodable += 1;
                    continue;
                };
                let consistent = f.ratchet_key.keeps_peer_consistent()
                    && f.spqr == SpqrPick::Honest
                    && f.version.is_none()
                    && fields == honest_fields;
                if consistent && let Some(s) = peer.ratchet.sender.as_mut() {
                    catch_up(&mut s.chain, index, crate::consts::SIGNAL_MAX_FORWARD_JUMPS);
                }
                (pk, pt, (f.bad_mac, f.bad_padding), consistent, Some(peer))
            }
            (None, Action::Replay(i)) if !sent.is_empty() => {
                let (pk, accepted) = sent[usize::from(*i) % sent.len()].clone();
                stats.cases += 1;
                let before = account_state(&victim);
                let r = victim.create_inbound_session_with_rng(&pk, rng);
                assert!(r.is_err() || !accepted, "a replayed interolm pre-key message made a second session");
                if r.is_err() {
                    assert_same(&account_state(&victim), &before, "a refused replay changed the interolm account");
                    stats.refused += 1;
                } else {
                    stats.accepted += 1;
                }
                continue;
            }
            _ => continue,
        };
        stats.cases += 1;
        let before = account_state(&victim);
        match victim.create_inbound_session_with_rng(&pk, rng) {
            Err(_) => {
                assert_same(
                    &account_state(&victim),
                    &before,
                    "a refused adversarial pre-key message changed the interolm account",
                );
                stats.refused += 1;
                push_bounded(&mut sent, (pk, false));
            }
            Ok(r) => {
                assert!(!bad.0, "an interolm pre-key message with a flipped MAC bit was accepted");
                assert!(!bad.1, "an interolm pre-key message with invalid padding was accepted");
                assert!(r.plaintext == pt, "an accepted pre-key message decrypted to something else");
                stats.accepted += 1;
                push_bounded(&mut sent, (pk, true));
                let mut s = interolm_reload(r.session, rng, &mut stats);
                let reply = s.encrypt_with_rng(b"reply", rng).expect("the new session cannot encrypt");
                if consistent && let Some(peer) = peer.as_mut() {
                    assert_eq!(peer.decrypt_with_rng(&reply, rng).expect("the initiator reads the reply"), b"reply");
                    let back = peer.encrypt_with_rng(b"back", rng).expect("the initiator cannot encrypt");
                    assert_eq!(s.decrypt_with_rng(&back, rng).expect("the victim reads the answer"), b"back");
                    stats.round_trips += 1;
                }
                let _ = interolm_reload(s, rng, &mut stats);
            }
        }
        let reloaded = interolm::Account::from_pickle(
            InterolmAccountPickle::from_unencrypted_bytes(&account_state(&victim)).expect("account pickle loads"),
        );
        assert_same(
            &account_state(&reloaded),
            &account_state(&victim),
            "an interolm account changed through its pickle",
        );
        victim = reloaded;
    }
    stats
}

/// The session the victim's account would make for these pre-key fields (before decrypting).
fn interolm_account_oracle(victim: &interolm::Account, fields: &PreKeyFields) -> Option<interolm::Session> {
    use crate::interolm::InboundKeys;
    let store = &victim.pre_keys;
    let spk = store.signed.get(&fields.signed_pre_key_id)?;
    let opk = match fields.pre_key_id {
        Some(id) => Some(&store.one_time.get(&id)?.secret),
        None => None,
    };
    let kyber = match &fields.kyber {
        Some((id, _)) => Some(&store.kyber.get(id)?.secret),
        None => None,
    };
    let keys = InboundKeys {
        our_identity: &victim.identity,
        our_registration_id: victim.registration_id,
        signed_pre_key: &spk.secret,
        one_time_pre_key: opk,
        kyber_pre_key: kyber,
        spqr_policy: victim.spqr_policy,
    };
    let placeholder = crate::wire::signal::SignalMessageWire::encode(
        fields.session_version,
        &fields.base_key,
        0,
        0,
        vec![0; 16],
        |_| [0; 32],
    );
    let wire = crate::wire::signal::PreKeySignalMessageWire::encode(fields.clone(), placeholder);
    interolm::Session::new_inbound(keys, &wire).ok()
}

// ------------------------------------------------------------------ bytes → actions

/// Counters worth hitting: 0, the Olm and Signal limits and their neighbours, the halves and
/// the end of the 2^32 ring.
pub const SPECIAL_U32: [u32; 20] = [
    0,
    1,
    2,
    39,
    40,
    41,
    1999,
    2000,
    2001,
    24_999,
    25_000,
    25_001,
    0x00ff_ffff,
    0x0100_0000,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xffff_fffd,
    0xffff_fffe,
    0xffff_ffff,
];

/// Plaintext lengths worth hitting (block boundaries, large, the largest).
pub const SPECIAL_LEN: [u32; 12] = [0, 1, 15, 16, 17, 31, 32, 33, 1000, 65_535, 300_000, MAX_PLAINTEXT as u32];

/// Reads fuzzer bytes; past the end everything is zero.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    /// A special value (high bit clear) or a raw one.
    fn special_u32(&mut self) -> u32 {
        let s = self.u8();
        if s & 0x80 == 0 { SPECIAL_U32[usize::from(s) % SPECIAL_U32.len()] } else { self.u32() }
    }
    fn key(&mut self) -> KeyPick {
        match self.u8() % 16 {
            0..=5 => KeyPick::Honest,
            6 => KeyPick::Previous,
            7 => KeyPick::Reflected,
            8 | 9 => {
                let b = self.u8();
                KeyPick::SmallOrder(b & 7, b & 0x80 != 0)
            }
            10 => KeyPick::Twist(self.u8()),
            11 => KeyPick::HighBit,
            12 => KeyPick::PlusP,
            13 => {
                let mut b = [0u8; 32];
                for x in &mut b {
                    *x = self.u8();
                }
                KeyPick::Bytes(b)
            }
            _ => KeyPick::Honest,
        }
    }
    fn counter(&mut self) -> Counter {
        match self.u8() % 10 {
            0..=2 => Counter::Next,
            3 => Counter::Skip(u32::from(self.u16())),
            4 => Counter::Back(u32::from(self.u8())),
            5 => Counter::Gap(self.u8() as i8 % 3),
            6 => Counter::HalfRing(i32::from(self.u8() as i8)),
            7 => Counter::FirstKnown(self.u32() as i32),
            8 => Counter::Abs(self.special_u32()),
            _ => Counter::Skip(self.special_u32()),
        }
    }
    fn layout(&mut self) -> Layout {
        let b = self.u8();
        Layout { reversed: b & 1 != 0, unknown: (b & 2 != 0).then_some((b >> 4, b & 4 != 0)), nonminimal: b & 8 != 0 }
    }
    fn spqr(&mut self) -> SpqrPick {
        match self.u8() % 8 {
            0..=3 => SpqrPick::Honest,
            4 => SpqrPick::Omit,
            5 => SpqrPick::VersionAbove(self.u8(), self.u8() % 40),
            6 => {
                let epoch = match self.u8() % 8 {
                    0 => i64::MIN,
                    1 => -2,
                    2 => -1,
                    3 | 4 => 0,
                    5 => 1,
                    6 => 2,
                    _ => i64::MAX,
                };
                SpqrPick::Message {
                    epoch,
                    index: self.special_u32(),
                    kind: self.u8() % 9,
                    chunk_index: self.u16(),
                    fill: self.u8(),
                    trailing: self.u8() % 4,
                }
            }
            _ => {
                let n = self.u8() % 48;
                SpqrPick::Raw((0..n).map(|_| self.u8()).collect())
            }
        }
    }
    fn tweak(&mut self) -> OuterTweak {
        match self.u8() % 10 {
            0 => OuterTweak::OneTimeKey(self.key()),
            1 => OuterTweak::BaseKey(self.key()),
            2 => OuterTweak::IdentityKey(self.key()),
            3 => OuterTweak::RegistrationId(self.special_u32()),
            4 => OuterTweak::PreKeyId(self.bool().then(|| self.special_u32())),
            5 => OuterTweak::SignedPreKeyId(self.special_u32()),
            6 => OuterTweak::KyberId(self.bool().then(|| self.special_u32())),
            7 => OuterTweak::KyberCiphertext(self.bool()),
            8 => OuterTweak::SessionVersion(self.u8() % 6),
            _ => OuterTweak::CallerIdentity(self.bool()),
        }
    }
    fn forge(&mut self) -> Forge {
        let ratchet_key = self.key();
        let counter = self.counter();
        let flags = self.u8();
        let layout = if flags & 1 != 0 { self.layout() } else { Layout::default() };
        let version = (flags & 2 != 0).then(|| self.u8());
        let previous_counter = (flags & 4 != 0).then(|| self.special_u32());
        let pre_key = (flags & 8 != 0).then(|| (0..self.u8() % 3).map(|_| self.tweak()).collect());
        let plaintext_len = if flags & 16 != 0 { SPECIAL_LEN[usize::from(self.u8()) % SPECIAL_LEN.len()] } else { 5 };
        let spqr = if flags & 32 != 0 { self.spqr() } else { SpqrPick::Honest };
        let bad = if flags & 64 != 0 { self.u8() } else { 0 };
        Forge {
            ratchet_key,
            counter,
            previous_counter,
            version,
            layout,
            plaintext_len,
            bad_padding: bad & 1 != 0,
            bad_mac: bad & 2 != 0,
            spqr,
            pre_key,
        }
    }
    fn megolm(&mut self) -> MegolmForge {
        let index = self.counter();
        let flags = self.u8();
        MegolmForge {
            index,
            version: (flags & 1 != 0).then(|| self.u8()),
            layout: if flags & 2 != 0 { self.layout() } else { Layout::default() },
            plaintext_len: if flags & 4 != 0 { SPECIAL_LEN[usize::from(self.u8()) % SPECIAL_LEN.len()] } else { 5 },
            bad_padding: flags & 8 != 0,
            bad_mac: flags & 16 != 0,
            signature: match flags >> 5 {
                6 => Signature::Malleated,
                7 => Signature::OtherKey,
                _ => Signature::Valid,
            },
        }
    }
}

/// The most actions one input runs (bounded work per input).
pub const MAX_ACTIONS: usize = 48;

/// Reads a sequence of [`Action`]s from fuzzer bytes: an opcode byte each (0 honest, 1–3
/// forge, 4 Megolm forge, 5 reload, 6 replay, 7 relabel), then its parameters, which favour
/// the special values ([`SPECIAL_U32`], [`SMALL_ORDER_KEYS`], [`TWIST_KEYS`], [`SPECIAL_LEN`]).
pub fn actions_from_bytes(data: &[u8]) -> Vec<Action> {
    let mut input = Input { data, pos: 0 };
    let mut actions = Vec::new();
    while !input.done() && actions.len() < MAX_ACTIONS {
        let op = input.u8();
        actions.push(match op % 8 {
            0 => Action::Honest { from_peer: op & 8 != 0, count: 1 + (op >> 4) % 4 },
            1..=3 => Action::Forge(input.forge()),
            4 => Action::Megolm(input.megolm()),
            5 => Action::Reload,
            6 => Action::Replay(input.u8()),
            _ => Action::Relabel(input.special_u32()),
        });
    }
    actions
}

/// The scenario a fuzz input runs (its first byte).
pub fn scenario_of(sel: u8) -> &'static str {
    match sel % 8 {
        0 => "olm session",
        1 => "olm account",
        2 => "megolm",
        3 => "interolm session (PQXDH, SPQR required)",
        4 => "interolm session (PQXDH, SPQR optional)",
        5 => "interolm session (X3DH)",
        6 => "interolm account",
        _ => "interolm session (PQXDH, SPQR required, later epochs)",
    }
}

/// The fuzz target: the first byte picks the scenario (low 3 bits, see [`scenario_of`]) and
/// its variant (bit 3: the victim is the initiator / configuration version 2; bits 4–5: the
/// Megolm starting index), the rest is a sequence of actions ([`actions_from_bytes`]).
pub fn adversary(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else { return };
    run_scenario(sel, &actions_from_bytes(rest), &mut NoHooks);
}

/// Runs the scenario `sel` selects (as [`adversary`]) with `hooks`.
pub fn run_scenario(sel: u8, actions: &[Action], hooks: &mut dyn Hooks) -> Stats {
    let flag = sel & 8 != 0;
    let interolm = |pqxdh, policy, warm| InterolmSetup { pqxdh, policy, victim_initiator: flag, warm };
    match sel % 8 {
        0 => run_olm_session(flag, sel & 16 != 0, actions, hooks),
        1 => run_olm_account(flag, actions, hooks),
        2 => {
            let start = [0, 0x7fff_fff0, 0xffff_fff0, 0x00ff_fff8][usize::from(sel >> 4) % 4];
            run_megolm(start, flag, actions, hooks)
        }
        3 => run_interolm_session(interolm(true, SpqrPolicy::Required, 0), actions),
        4 => run_interolm_session(interolm(true, SpqrPolicy::Optional, 0), actions),
        5 => run_interolm_session(interolm(false, SpqrPolicy::Off, 0), actions),
        6 => run_interolm_account(if flag { SpqrPolicy::Optional } else { SpqrPolicy::Required }, actions),
        _ => run_interolm_session(interolm(true, SpqrPolicy::Required, WARM_EPOCHS), actions),
    }
}

/// Honest round trips that take a PQXDH session's SPQR past epoch 2 (the later-epoch setup).
pub const WARM_EPOCHS: u16 = 90;

/// Seeds for the `adversary` corpus: each scenario with honest traffic, and the known attacks
/// in their simplest form.
pub fn adversary_seeds() -> Vec<Vec<u8>> {
    let forge = |key: u8, counter: u8, flags: u8, extra: &[u8]| [&[1u8, key, counter, flags][..], extra].concat();
    let mut v = Vec::new();
    for sel in 0..16u8 {
        // honest both ways, a reload, an honest forgery (key Honest, counter Next)
        v.push([&[sel, 0x10, 0x18, 5][..], &forge(0, 0, 0, &[])].concat());
    }
    // Olm account: small-order inner ratchet key (all zero) in a pre-key message
    v.push([&[1u8][..], &forge(8, 0, 0, &[0])].concat());
    // Olm session: counter at the gap limit, a skipped key, a replay
    v.push([&[0u8][..], &forge(0, 5, 0, &[1]), &forge(0, 3, 0, &[40, 0]), &[6, 0]].concat());
    // interolm, SPQR required: a field 5 with a version byte above V1
    v.push([&[3u8, 0x10, 0x18][..], &forge(0, 0, 32, &[5, 2, 4])].concat());
    // interolm after later epochs: an SPQR V1 message of epoch 1, index 0
    v.push([&[7u8][..], &forge(0, 0, 32, &[6, 0, 0, 0, 0, 0, 0, 0, 0])].concat());
    // Megolm across the wrap: honest, then an index half the ring ahead of the first known one
    v.push([&[2u8 | 0x20, 0x30][..], &[4, 7, 0, 0x0a, 0, 0, 0x80, 0]].concat());
    v
}

/// The initiator's and the responder's sessions a setup starts from (for tests).
pub fn interolm_sessions_for_testing(setup: InterolmSetup) -> (interolm::Session, interolm::Session) {
    let (a, b, _) = interolm_pair(setup);
    (a, b)
}
