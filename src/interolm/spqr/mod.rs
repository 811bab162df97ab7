//! SPQR V1, the Sparse Post-Quantum Ratchet that libsignal ≥ 0.92 runs next to the double
//! ratchet of every session (facts: `shared/SPQR.md`; design and limits: SPEC.md §6,
//! "SPQR V1").
//!
//! One [`SpqrState`] per interolm session. It has two layers: the ML-KEM Braid, a state machine
//! that agrees on one epoch secret per epoch over many messages (ML-KEM-768 key and ciphertext
//! cut into 32-byte erasure-coded chunks, one chunk per message), and a symmetric chain, seeded
//! by the PQXDH `auth_key` and re-keyed with every epoch secret, that hands out one 32-byte
//! **SPQR message key** per message and direction.
//!
//! # Integration contract (the interolm session)
//!
//! **Creation.** PQXDH's `HKDF(…, "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024", 96)` gives
//! `RK(0..32) ‖ CK(32..64) ‖ auth_key(64..96)`. The initiator (Alice, who processed the bundle)
//! calls [`SpqrState::new_initiator`]`(auth_key)`, the responder [`SpqrState::new_responder`]
//! (both with libsignal's configuration: V1 required), or [`SpqrState::new`] with another
//! [`SpqrConfig`]. An X3DH (version 3) session has no `auth_key` and uses
//! [`SpqrState::disabled`].
//!
//! **Encrypt** (every message, PreKey messages included, exactly once, in the order the
//! double-ratchet counters advance):
//! ```text
//! let out = session.spqr.send(rng)?;               // state committed inside, atomically
//! seed = HMAC-SHA256(CK, 0x01); CK' = HMAC-SHA256(CK, 0x02)
//! aes_key ‖ mac_key ‖ iv = HKDF(salt = out.key() (32 bytes) or None, ikm = seed, "WhisperMessageKeys", 80)
//! SignalMessage { 1 ratchet_key, 2 counter, 3 previous_counter, 4 ciphertext,
//!                 5 out.message() — omitted when empty (V0), 6 addresses? }
//! ```
//! `None` as salt is HKDF's all-zero salt (libsignal passes no salt). The field-5 bytes are
//! covered by the 8-byte double-ratchet MAC like every other field.
//!
//! **Decrypt** (transactional: nothing is committed until the message authenticated):
//! ```text
//! let pending = session.spqr.recv(field5.unwrap_or(&[]))?;   // &self: state untouched
//! derive message keys as above with salt = pending.key()     // for the DR chain / skipped seed
//! verify the MAC, AES-CBC-decrypt
//! only then: commit the DR state and pending.commit(&mut session.spqr)
//! ```
//! A forged, replayed or undecryptable message therefore leaves SPQR untouched, and an SPQR
//! error (a [`SpqrError`]) rejects the message before any DR state changes. Skipped DR keys must
//! be stored as **seeds** (`HMAC(CK, 0x01)`), not as final keys: the salt only arrives with the
//! delayed message. SPQR indices are independent of DR counters. SPQR state belongs to one
//! session: archived sessions keep theirs, and trial decryption runs `recv` on each candidate's
//! own state.
//!
//! **Sizes.** field 5 is 4 bytes (no chunk) or 37 bytes (a chunk) while epoch, index and chunk
//! index are below 128; 5 / 38 bytes for indices up to 16 383; at most 52 bytes. Empty for V0.
//!
//! **Version negotiation** (libsignal's rules). A state starts "negotiating" and keeps the
//! `auth_key`, direction and minimum version until its first successful `recv`:
//! * an empty field 5 (or first byte `0x00`) is V0; a first byte above `0x01` is a newer
//!   version, ignored while negotiating: no key, state unchanged;
//! * once negotiation completed with V1, a message without an SPQR key (a first byte above
//!   `0x01`, or epoch 1 with index 0) is [`SpqrError::KeylessAfterNegotiation`], unless the caller
//!   knows it is one the peer sent before it first heard from us
//!   ([`SpqrState::recv_pre_reply`]; libsignal accepts both forms at any time, a downgrade);
//! * V0 from the peer while negotiating: [`SpqrError::MinimumVersion`] if our minimum is V1
//!   (libsignal ≥ 0.92: "decryption failed"), else the session drops to V0 for good;
//! * V0 after negotiation closed: [`SpqrError::VersionMismatch`];
//! * with minimum V0, sends carry index 0 and no key until the first receive creates the chain;
//! * sending never changes negotiation.
//!
//! **Persistence.** [`SpqrState::to_bytes`] / [`SpqrState::from_bytes`]: a compact versioned
//! binary form for the session pickle (secret; the caller must encrypt and wipe it).
//!
//! # Example
//! ```
//! use caudata::interolm::spqr::SpqrState;
//! use caudata::primitives::OsRandom;
//!
//! let auth_key = [7u8; 32];
//! let mut alice = SpqrState::new_initiator(&auth_key);
//! let mut bob = SpqrState::new_responder(&auth_key);
//! let sent = alice.send(&mut OsRandom).unwrap();
//! assert_eq!(sent.message().len(), 37); // epoch 1, index 1, header chunk 0
//! let pending = bob.recv(sent.message()).unwrap();
//! assert_eq!(pending.key(), sent.key()); // the "WhisperMessageKeys" salt on both sides
//! pending.commit(&mut bob); // only after the double ratchet authenticated the message
//! ```

mod auth;
mod chain;
mod erasure;
mod error;
mod gf16;
mod libsignal;
mod message;
mod pickle;
mod scka;

pub use error::SpqrError;
pub use message::{Chunk, Payload, SPQR_V1, SpqrDecodeError, SpqrMessage};

use crate::primitives::{RandomSource, SecretBytes};
use chain::{Chain, ChainParams};
use scka::{KeySource, Scka};

/// Low-level SPQR pieces for known-answer tests and fuzzers. ⚠️ Not for applications.
#[cfg(feature = "hazmat")]
pub mod hazmat {
    pub use super::auth::{Authenticator, MacTag, epoch_secret};
    pub use super::chain::{Chain, ChainParams, DEFAULT_MAX_JUMP, DEFAULT_MAX_OOO_KEYS, MAX_OOO_KEYS_LIMIT};
    pub use super::erasure::{CHUNK_LEN, Decoder, Encoder, MAX_PAYLOAD_LEN, PayloadLengthError};
    use crate::primitives::{MlKem768DecapsulationKey, SecretBytes, mlkem768_encapsulate2, mlkem768_validate_ek};

    /// ML-KEM-768 decapsulation of `ct1 ‖ ct2` with a 2400-byte FIPS 203 key; `None` for a
    /// malformed key.
    pub fn mlkem768_decapsulate(dk: &[u8], ct1: &[u8; 960], ct2: &[u8; 128]) -> Option<[u8; 32]> {
        Some(*MlKem768DecapsulationKey::from_slice(dk)?.decapsulate(ct1, ct2).expose())
    }

    /// The ct-sender's whole encapsulation to `hdr ‖ ek_vector` with randomness `m`:
    /// `(ct1, ct2, K)`; `None` if the ek vector does not match the header.
    pub fn mlkem768_encapsulate(
        hdr: &[u8; 64],
        ek_vector: &[u8; 1152],
        m: &[u8; 32],
    ) -> Option<([u8; 960], [u8; 128], [u8; 32])> {
        if !mlkem768_validate_ek(hdr, ek_vector) {
            return None;
        }
        let m = SecretBytes::from_array(&mut { *m });
        let (ct1, k) = crate::primitives::mlkem768_encapsulate1(hdr, &m)?;
        let (_, ct2) = mlkem768_encapsulate2(hdr, &m, ek_vector)?;
        Some((ct1, ct2, *k.expose()))
    }
}

/// An SPQR protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpqrVersion {
    /// No SPQR: field 5 is empty and no message key is mixed in.
    V0,
    /// SPQR V1 (ML-KEM-768 Braid), what libsignal ≥ 0.92 requires.
    V1,
}

/// Which way this side's keys run: the PQXDH initiator is `A2B`, the responder `B2A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Alice, the initiator: the first ek-sender.
    A2B,
    /// Bob, the responder: the first ct-sender.
    B2A,
}

/// How a session runs SPQR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpqrConfig {
    /// The version offered.
    pub version: SpqrVersion,
    /// The lowest version accepted from the peer.
    pub min_version: SpqrVersion,
    /// How far ahead a message index may be (libsignal: 25 000; `u32::MAX` for a session with
    /// oneself).
    pub max_jump: u32,
    /// How far behind skipped keys are kept (libsignal: 2 000; at most 50 000).
    pub max_ooo_keys: u32,
}

impl SpqrConfig {
    /// libsignal ≥ 0.92: V1, and a peer without SPQR is refused.
    pub const V1_REQUIRED: Self = Self {
        version: SpqrVersion::V1,
        min_version: SpqrVersion::V1,
        max_jump: chain::DEFAULT_MAX_JUMP,
        max_ooo_keys: chain::DEFAULT_MAX_OOO_KEYS,
    };
    /// libsignal 0.74 … 0.90: V1 offered, V0 peers accepted (the session then drops to V0).
    pub const V1_ALLOW_V0: Self = Self { min_version: SpqrVersion::V0, ..Self::V1_REQUIRED };
    /// No SPQR at all (X3DH sessions, or peers before SPQR).
    pub const DISABLED: Self = Self { version: SpqrVersion::V0, min_version: SpqrVersion::V0, ..Self::V1_REQUIRED };

    fn chain_params(&self) -> ChainParams {
        ChainParams { max_jump: self.max_jump, max_ooo_keys: self.max_ooo_keys }
    }
}

impl Default for SpqrConfig {
    /// [`SpqrConfig::V1_REQUIRED`], as libsignal.
    fn default() -> Self {
        Self::V1_REQUIRED
    }
}

/// What a state keeps until its first successful receive.
#[derive(Clone)]
struct Negotiation {
    auth_key: SecretBytes<32>,
    direction: Direction,
    min_version: SpqrVersion,
    params: ChainParams,
}

/// A per-message SPQR key: the HKDF salt of the double ratchet's `"WhisperMessageKeys"`.
/// Wiped on drop, compared in constant time, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SpqrMessageKey(SecretBytes<32>);

impl SpqrMessageKey {
    /// The 32 key bytes, to pass as the HKDF salt. The caller must not copy them out of
    /// zeroizing storage.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.expose()
    }
}

impl zeroize::ZeroizeOnDrop for SpqrMessageKey {}

impl core::fmt::Debug for SpqrMessageKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SpqrMessageKey(..)")
    }
}

/// The result of [`SpqrState::send`].
#[derive(Debug)]
pub struct SpqrSend {
    message: Vec<u8>,
    key: Option<SpqrMessageKey>,
}

impl SpqrSend {
    /// The bytes for field 5 of the `SignalMessage` (empty: omit the field).
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// The salt of `"WhisperMessageKeys"` (`None`: no salt).
    pub fn key(&self) -> Option<&SpqrMessageKey> {
        self.key.as_ref()
    }

    /// Both parts.
    pub fn into_parts(self) -> (Vec<u8>, Option<SpqrMessageKey>) {
        (self.message, self.key)
    }
}

/// The result of [`SpqrState::recv`]: the message key and the state to commit once the double
/// ratchet has authenticated the message.
#[derive(Debug)]
#[must_use = "the SPQR state must be committed once the message is authenticated"]
pub struct SpqrReceived {
    key: Option<SpqrMessageKey>,
    next: SpqrState,
}

impl SpqrReceived {
    /// The salt of `"WhisperMessageKeys"` (`None`: no salt).
    pub fn key(&self) -> Option<&SpqrMessageKey> {
        self.key.as_ref()
    }

    /// Replaces `state` (the one `recv` was called on) with the new state.
    pub fn commit(self, state: &mut SpqrState) {
        *state = self.next;
    }

    /// The key and the new state.
    pub fn into_parts(self) -> (Option<SpqrMessageKey>, SpqrState) {
        (self.key, self.next)
    }
}

/// Negotiation status, as libsignal's `current_version` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionStatus {
    /// Nothing received yet: the peer may still move us down to `min_version`.
    Negotiating {
        /// The version we run now.
        version: SpqrVersion,
        /// The lowest we accept.
        min_version: SpqrVersion,
    },
    /// Settled.
    Complete(SpqrVersion),
}

/// A non-secret snapshot of an SPQR state, for debugging and for comparing with libsignal's
/// stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpqrSummary {
    /// The version run.
    pub version: SpqrVersion,
    /// Whether negotiation is still open.
    pub negotiating: bool,
    /// libsignal's name of the ML-KEM Braid state (`None` for V0).
    pub state: Option<&'static str>,
    /// The SCKA epoch (0 for V0).
    pub epoch: u64,
    /// The index counter of the encoder sending now.
    pub sending_next_index: Option<u32>,
    /// Chunks held by the decoder receiving now, and how many it needs.
    pub receiving: Option<(usize, usize)>,
    /// The chain's last epoch, if the chain exists.
    pub chain_current_epoch: Option<u64>,
    /// The chain epoch of the last send.
    pub chain_send_epoch: Option<u64>,
    /// `(send ctr, receive ctr)` per chain link, oldest first.
    pub chain_counters: Vec<(u32, u32)>,
}

/// The SPQR state of one session (one side).
#[derive(Clone)]
pub struct SpqrState {
    /// The ML-KEM Braid; `None` for V0 (disabled, or negotiated down).
    scka: Option<Scka>,
    /// Created from the `auth_key` at the first send (minimum V1) or the first receive.
    chain: Option<Chain>,
    /// Open until the first successful receive.
    negotiation: Option<Negotiation>,
}

impl core::fmt::Debug for SpqrState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { scka, chain, negotiation } = self;
        f.debug_struct("SpqrState")
            .field("state", &scka.as_ref().map(Scka::state_name))
            .field("epoch", &scka.as_ref().map(|s| s.epoch))
            .field("chain", chain)
            .field("negotiating", &negotiation.is_some())
            .finish_non_exhaustive()
    }
}

impl SpqrState {
    /// A new state. V0 configurations give [`SpqrState::disabled`].
    ///
    /// # Errors
    /// [`SpqrError::InvalidConfig`] if `min_version > version` or a limit is out of range.
    pub fn new(auth_key: &[u8; 32], direction: Direction, config: &SpqrConfig) -> Result<Self, SpqrError> {
        if config.min_version > config.version {
            return Err(SpqrError::InvalidConfig("min_version is above version"));
        }
        let params = config.chain_params();
        params.validate()?;
        if config.version == SpqrVersion::V0 {
            return Ok(Self::disabled());
        }
        Ok(Self::new_v1(auth_key, direction, config.min_version, params))
    }

    fn new_v1(auth_key: &[u8; 32], direction: Direction, min_version: SpqrVersion, params: ChainParams) -> Self {
        let scka = match direction {
            Direction::A2B => Scka::new_ek_sender(auth_key),
            Direction::B2A => Scka::new_ct_sender(auth_key),
        };
        Self {
            scka: Some(scka),
            chain: None,
            negotiation: Some(Negotiation {
                auth_key: SecretBytes::from_array(&mut { *auth_key }),
                direction,
                min_version,
                params,
            }),
        }
    }

    /// The PQXDH initiator's state with libsignal's configuration ([`SpqrConfig::V1_REQUIRED`]).
    pub fn new_initiator(auth_key: &[u8; 32]) -> Self {
        Self::new_v1(auth_key, Direction::A2B, SpqrVersion::V1, ChainParams::default())
    }

    /// The PQXDH responder's state with libsignal's configuration ([`SpqrConfig::V1_REQUIRED`]).
    pub fn new_responder(auth_key: &[u8; 32]) -> Self {
        Self::new_v1(auth_key, Direction::B2A, SpqrVersion::V1, ChainParams::default())
    }

    /// A V0 state: no SPQR (empty field 5, no key); a V1 peer is accepted and ignored.
    pub fn disabled() -> Self {
        Self { scka: None, chain: None, negotiation: None }
    }

    /// The version run now.
    pub fn version(&self) -> SpqrVersion {
        if self.scka.is_some() { SpqrVersion::V1 } else { SpqrVersion::V0 }
    }

    /// Which side this state is (`A2B`: the PQXDH initiator), when the state still knows it
    /// (a V1 state, or one still negotiating).
    pub(crate) fn direction(&self) -> Option<Direction> {
        self.negotiation.as_ref().map(|n| n.direction).or_else(|| self.chain.as_ref().map(|c| c.dir))
    }

    /// The negotiation status.
    pub fn version_status(&self) -> VersionStatus {
        match &self.negotiation {
            Some(n) => VersionStatus::Negotiating { version: self.version(), min_version: n.min_version },
            None => VersionStatus::Complete(self.version()),
        }
    }

    /// A non-secret snapshot.
    pub fn summary(&self) -> SpqrSummary {
        let scka = self.scka.as_ref();
        SpqrSummary {
            version: self.version(),
            negotiating: self.negotiation.is_some(),
            state: scka.map(Scka::state_name),
            epoch: scka.map_or(0, |s| s.epoch),
            sending_next_index: scka.and_then(Scka::encoder).map(|e| e.next_index()),
            receiving: scka.and_then(Scka::decoder).map(|d| (d.chunks().len(), d.payload_len() / erasure::CHUNK_LEN)),
            chain_current_epoch: self.chain.as_ref().map(Chain::current_epoch),
            chain_send_epoch: self.chain.as_ref().map(Chain::send_epoch),
            chain_counters: self.chain.as_ref().map(Chain::counters).unwrap_or_default(),
        }
    }

    /// Produces the SPQR part of the next outgoing message: field-5 bytes and the message key.
    /// Call exactly once per encrypted message. The state advances only on success.
    ///
    /// # Errors
    /// Only [`SpqrError::Internal`] (an inconsistent state); nothing is changed then.
    pub fn send(&mut self, rng: &mut impl RandomSource) -> Result<SpqrSend, SpqrError> {
        self.send_with(rng, KeySource::Generate)
    }

    /// [`SpqrState::send`], except that if this send samples the ek-sender's key pair, it takes
    /// `decapsulation_key` (2400 bytes, FIPS 203 layout) instead of generating one. For replaying
    /// recorded traffic only.
    ///
    /// # Errors
    /// As [`SpqrState::send`], and [`SpqrError::InvalidState`] for a malformed key.
    #[cfg(feature = "hazmat")]
    pub fn send_with_keys_for_testing_only(
        &mut self,
        rng: &mut impl RandomSource,
        decapsulation_key: &[u8],
    ) -> Result<SpqrSend, SpqrError> {
        let dk = crate::primitives::MlKem768DecapsulationKey::from_slice(decapsulation_key)
            .ok_or(SpqrError::InvalidState("malformed ML-KEM-768 decapsulation key"))?;
        self.send_with(rng, KeySource::Fixed(&dk))
    }

    fn send_with(&mut self, rng: &mut impl RandomSource, keys: KeySource<'_>) -> Result<SpqrSend, SpqrError> {
        let Some(scka) = self.scka.clone() else {
            return Ok(SpqrSend { message: Vec::new(), key: None });
        };
        let msg_epoch = scka.epoch;
        let (scka, payload, secret) = scka.send(rng, keys)?;
        let mut chain = match (&self.chain, &self.negotiation) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(n)) if n.min_version > SpqrVersion::V0 => {
                Some(Chain::new(n.auth_key.expose(), n.direction, n.params))
            }
            (None, Some(_)) => None,
            (None, None) => return Err(SpqrError::Internal("no chain and no negotiation state")),
        };
        let (index, key) = match chain.as_mut() {
            Some(chain) => {
                if let Some((e, s)) = &secret {
                    chain.add_epoch(*e, s)?;
                }
                let (index, key) = chain.send_key(msg_epoch - 1)?;
                (index, Some(SpqrMessageKey(key)))
            }
            None if secret.is_some() => return Err(SpqrError::Internal("an epoch secret without a chain")),
            None => (0, None),
        };
        let message = SpqrMessage { epoch: msg_epoch, index, payload }.to_bytes();
        self.scka = Some(scka);
        self.chain = chain;
        Ok(SpqrSend { message, key })
    }

    /// Processes field 5 of a received message (empty slice if absent) **without changing this
    /// state**: returns the message key and the state to commit with [`SpqrReceived::commit`]
    /// once the double ratchet has verified the MAC and decrypted.
    ///
    /// # Errors
    /// [`SpqrError::Decode`] for malformed bytes; [`SpqrError::InvalidHeaderMac`],
    /// [`SpqrError::InvalidCiphertextMac`], [`SpqrError::InvalidEncapsulationKey`] when a
    /// completed payload fails its check; [`SpqrError::EpochFromFuture`],
    /// [`SpqrError::EpochUnavailable`], [`SpqrError::KeyJump`], [`SpqrError::KeyTrimmed`],
    /// [`SpqrError::KeyAlreadyUsed`] for keys that cannot be had;
    /// [`SpqrError::MinimumVersion`] / [`SpqrError::VersionMismatch`] for a V0 message the
    /// session does not accept.
    /// [`SpqrError::KeylessAfterNegotiation`] for a message without a key once V1 was negotiated.
    pub fn recv(&self, field5: &[u8]) -> Result<SpqrReceived, SpqrError> {
        self.recv_inner(field5, false)
    }

    /// [`SpqrState::recv`] for a message the peer may have sent before it first heard from us:
    /// a peer whose minimum version is V0 (libsignal 0.74 … 0.90, caudata's
    /// [`SpqrPolicy::Optional`](super::SpqrPolicy::Optional)) has no chain then, and its
    /// messages carry SPQR index 0 and no key. Such a message may arrive after negotiation
    /// completed (delayed, or reordered with later ones), and is accepted without a key here.
    /// The interolm session calls this only for the initiator's pre-key messages on its first
    /// double-ratchet chain, the only place such messages can come from; a classical chain key
    /// of that chain comes from PQXDH's Kyber secret, so no downgrade is gained there.
    ///
    /// # Errors
    /// As [`SpqrState::recv`], without [`SpqrError::KeylessAfterNegotiation`].
    pub fn recv_pre_reply(&self, field5: &[u8]) -> Result<SpqrReceived, SpqrError> {
        self.recv_inner(field5, true)
    }

    fn recv_inner(&self, field5: &[u8], pre_reply: bool) -> Result<SpqrReceived, SpqrError> {
        let unchanged = || SpqrReceived { key: None, next: self.clone() };
        // SPQR V1 was negotiated: every message from the peer must carry a key, except the
        // ones it may have sent before it first heard from us.
        let keys_required = self.negotiation.is_none() && self.scka.is_some() && !pre_reply;
        let msg_version = match field5.first() {
            None | Some(0) => SpqrVersion::V0,
            Some(&SPQR_V1) => SpqrVersion::V1,
            Some(&version) if keys_required => return Err(SpqrError::KeylessAfterNegotiation { version }),
            // A newer version than we know, while negotiating: ignore SPQR, keep sending ours.
            Some(_) => return Ok(unchanged()),
        };
        let ours = self.version();
        if msg_version < ours {
            let Some(n) = &self.negotiation else {
                return Err(SpqrError::VersionMismatch { got: msg_version, ours });
            };
            if msg_version < n.min_version {
                return Err(SpqrError::MinimumVersion { got: msg_version, min: n.min_version });
            }
            // Negotiate down to V0 for good.
            return Ok(SpqrReceived { key: None, next: Self::disabled() });
        }
        let Some(scka) = self.scka.clone() else {
            // We run V0: a V1 peer's SPQR part is ignored.
            return Ok(SpqrReceived { key: None, next: Self::disabled() });
        };
        let msg = SpqrMessage::from_bytes(field5)?;
        // Epoch 1 and index 0 is "no key" (checked before any work).
        let keyless = msg.epoch == 1 && msg.index == 0;
        if keyless && keys_required {
            return Err(SpqrError::KeylessAfterNegotiation { version: SPQR_V1 });
        }
        let (scka, secret) = scka.recv(msg.epoch, &msg.payload)?;
        let mut chain = match (&self.chain, &self.negotiation) {
            (Some(c), _) => c.clone(),
            (None, Some(n)) => Chain::new(n.auth_key.expose(), n.direction, n.params),
            (None, None) => return Err(SpqrError::Internal("no chain and no negotiation state")),
        };
        if let Some((e, s)) = &secret {
            chain.add_epoch(*e, s)?;
        }
        let chain_epoch = msg.epoch - 1;
        let key = if keyless { None } else { Some(SpqrMessageKey(chain.recv_key(chain_epoch, msg.index)?)) };
        Ok(SpqrReceived { key, next: Self { scka: Some(scka), chain: Some(chain), negotiation: None } })
    }
}

#[cfg(test)]
mod tests;
