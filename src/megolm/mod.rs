//! Layer 4: Megolm group sessions (`m.megolm.v1.aes-sha2`), compatible with libolm and
//! vodozemac.
//!
//! ```
//! use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig};
//!
//! let mut outbound = GroupSession::new(SessionConfig::version_1());
//! let mut inbound = InboundGroupSession::new(&outbound.session_key(), SessionConfig::version_1());
//! let message = outbound.encrypt(b"Hello, room");
//! let decrypted = inbound.decrypt(&message).unwrap();
//! assert_eq!(decrypted.plaintext, b"Hello, room");
//! assert_eq!(decrypted.message_index, 0);
//! assert_eq!(inbound.session_id(), outbound.session_id());
//! ```

mod batch;
mod ratchet;
mod session_keys;

pub use batch::{BatchResults, decrypt_batch};

pub use session_keys::{
    EXPORTED_SESSION_KEY_LEN, ExportedSessionKey, SESSION_KEY_LEN, SessionKey, SessionKeyDecodeError,
};

pub(crate) use ratchet::MegolmRatchet;
use subtle::ConstantTimeEq;

use crate::error::DecryptionError;
use crate::primitives::{
    AesCbcKeys, Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature, HmacKey, OsRandom, RandomSource, SecretBytes,
    aes256_cbc_decrypt, aes256_cbc_encrypt, ct_eq, reveal,
};
use crate::wire::megolm::{MegolmMessageWire, VERSION_FULL_MAC, VERSION_TRUNCATED_MAC};

/// Which Megolm variant a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionConfig {
    version: u8,
}

impl SessionConfig {
    /// Version 1: 8-byte MAC (libolm). The default.
    pub const fn version_1() -> Self {
        Self { version: 1 }
    }
    /// Version 2: full 32-byte MAC.
    pub const fn version_2() -> Self {
        Self { version: 2 }
    }
    /// 1 or 2.
    pub const fn version(&self) -> u8 {
        self.version
    }
    const fn message_version(&self) -> u8 {
        if self.version == 2 { VERSION_FULL_MAC } else { VERSION_TRUNCATED_MAC }
    }
    pub(crate) fn from_version(v: u8) -> Option<Self> {
        matches!(v, 1 | 2).then_some(Self { version: v })
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::version_1()
    }
}

/// A Megolm message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MegolmMessage(MegolmMessageWire);

impl MegolmMessage {
    crate::wire::binary_and_base64!(MegolmMessageWire);
    /// The message index.
    pub const fn message_index(&self) -> u32 {
        self.0.message_index
    }
    /// The signature.
    pub fn signature(&self) -> Ed25519Signature {
        Ed25519Signature::from_bytes(self.0.signature())
    }
    /// The AES-256-CBC ciphertext the message carries.
    pub fn ciphertext(&self) -> &[u8] {
        &self.0.ciphertext
    }
    /// The MAC (8 bytes for version 3, 32 for version 4), as received.
    pub fn mac(&self) -> &[u8] {
        self.0.mac()
    }
    /// The version byte (3: 8-byte MAC; 4: 32-byte MAC).
    pub const fn version(&self) -> u8 {
        self.0.version
    }
}

fn message_keys(ratchet: &MegolmRatchet) -> AesCbcKeys {
    AesCbcKeys::derive(None, ratchet.parts.expose(), b"MEGOLM_KEYS")
}

/// An outbound group session: the sender's side.
pub struct GroupSession {
    pub(crate) ratchet: MegolmRatchet,
    pub(crate) signing_key: Ed25519SecretKey,
    pub(crate) config: SessionConfig,
}

impl core::fmt::Debug for GroupSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupSession")
            .field("session_id", &self.session_id())
            .field("message_index", &self.message_index())
            .finish_non_exhaustive()
    }
}

impl GroupSession {
    /// A new session with a random ratchet and signing key.
    pub fn new(config: SessionConfig) -> Self {
        Self::new_inner(config, &mut OsRandom)
    }

    /// [`GroupSession::new`] from `rng`: 128 bytes of ratchet, then the 32-byte Ed25519 seed
    /// (libolm's order).
    #[cfg(feature = "hazmat")]
    pub fn new_with_rng(config: SessionConfig, rng: &mut impl RandomSource) -> Self {
        Self::new_inner(config, rng)
    }

    fn new_inner(config: SessionConfig, rng: &mut impl RandomSource) -> Self {
        // One draw (one system call) for the ratchet and the seed, in libolm's order.
        let random = SecretBytes::<160>::random(rng);
        let (parts, seed) = random.expose().split_at(128);
        #[allow(clippy::expect_used)]
        let parts = SecretBytes::<128>::from_slice(parts).expect("160 = 128 + 32");
        #[allow(clippy::expect_used)]
        let signing_key = Ed25519SecretKey::from_seed(SecretBytes::from_slice(seed).expect("160 = 128 + 32"));
        Self { ratchet: MegolmRatchet::new(parts, 0), signing_key, config }
    }

    /// The session id: base64 of the Ed25519 public key.
    pub fn session_id(&self) -> String {
        self.signing_key.public_key().to_base64()
    }

    /// Moves the ratchet forward to `index` without sending (tests of far indices only: the
    /// skipped indices are never sent).
    #[cfg(any(test, feature = "hazmat"))]
    pub fn advance_to_for_testing(&mut self, index: u32) {
        self.ratchet.advance_to(index);
    }

    /// The index the next message will have.
    pub const fn message_index(&self) -> u32 {
        self.ratchet.index
    }

    /// The length in bytes (before base64) of the message the next [`GroupSession::encrypt`]
    /// of `plaintext_length` bytes makes (libolm's `olm_group_encrypt_message_length`).
    pub fn encrypt_message_length(&self, plaintext_length: usize) -> usize {
        use crate::wire::codec::{bytes_field_len, varint_len};
        let ciphertext = plaintext_length - plaintext_length % 16 + 16;
        1 + 1
            + varint_len(self.ratchet.index.into())
            + bytes_field_len(ciphertext)
            + MegolmMessageWire::mac_len_for(self.config.message_version())
            + 64
    }

    /// The session's configuration.
    pub const fn session_config(&self) -> SessionConfig {
        self.config
    }

    /// Encrypts `plaintext` at the current index, then advances the ratchet.
    pub fn encrypt(&mut self, plaintext: impl AsRef<[u8]>) -> MegolmMessage {
        let keys = message_keys(&self.ratchet);
        let ct = aes256_cbc_encrypt(&keys.aes_key, &keys.iv, plaintext.as_ref());
        let mac = HmacKey::new(&keys.mac_key);
        let wire = MegolmMessageWire::encode(
            self.config.message_version(),
            self.ratchet.index,
            ct,
            |b| *mac.mac(&[b]).expose(),
            |b| self.signing_key.sign(b).to_bytes(),
        );
        self.ratchet.advance();
        MegolmMessage(wire)
    }

    /// The signed session key at the current index, to share with the room.
    pub fn session_key(&self) -> SessionKey {
        let signing_key = self.signing_key.public_key();
        let mut unsigned = ExportedSessionKey { ratchet: self.ratchet.clone(), signing_key }.to_bytes();
        unsigned[0] = 2;
        let signature = self.signing_key.sign(&unsigned);
        SessionKey { ratchet: self.ratchet.clone(), signing_key, signature }
    }
}

/// A decrypted group message. Its `Debug` shows the plaintext's length, never its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptedMessage {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// The message's index (the caller tracks `(session_id, index)` to detect replays).
    pub message_index: u32,
}

impl core::fmt::Debug for DecryptedMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { plaintext, message_index } = self;
        f.debug_struct("DecryptedMessage")
            .field("plaintext_len", &plaintext.len())
            .field("message_index", message_index)
            .finish_non_exhaustive()
    }
}

/// How two copies of a group session relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionOrdering {
    /// Same session, same first known index.
    Equal,
    /// Same session; this one knows earlier messages.
    Better,
    /// Same session; the other knows earlier messages.
    Worse,
    /// Not the same session.
    Unconnected,
}

/// An inbound group session: a receiver's side.
pub struct InboundGroupSession {
    /// The ratchet at the first known index (kept for exports).
    pub(crate) initial_ratchet: MegolmRatchet,
    /// The ratchet at the newest index decrypted (so sequential decryption is cheap).
    pub(crate) latest_ratchet: MegolmRatchet,
    pub(crate) signing_key: Ed25519PublicKey,
    /// Whether the session came from a signed session key.
    pub(crate) signing_key_verified: bool,
    pub(crate) config: SessionConfig,
}

impl core::fmt::Debug for InboundGroupSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InboundGroupSession")
            .field("session_id", &self.session_id())
            .field("first_known_index", &self.first_known_index())
            .finish_non_exhaustive()
    }
}

/// Megolm's one ordering rule (SPEC.md §5.3): indices live in the 2^32 ring, and `a` is at or
/// after `b` when it is less than half the ring ahead of it, `(a − b) mod 2^32 < 2^31`. Every
/// comparison of indices (which ratchet to advance, whether a message is known, which copy of a
/// session knows more, what a merge keeps) goes through this or through [`offset_from`].
fn at_or_after(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) < 1 << 31
}

/// How far `index` is ahead of `first` in the ring, if it is at or after it.
fn offset_from(first: u32, index: u32) -> Option<u32> {
    at_or_after(index, first).then(|| index.wrapping_sub(first))
}

impl InboundGroupSession {
    /// A field-by-field copy. The type is deliberately not `Clone` (a copy of a ratchet is a
    /// second holder of its keys); the pickle snapshots and the tests make theirs here.
    pub(crate) fn duplicate(&self) -> Self {
        Self {
            initial_ratchet: self.initial_ratchet.clone(),
            latest_ratchet: self.latest_ratchet.clone(),
            signing_key: self.signing_key,
            signing_key_verified: self.signing_key_verified,
            config: self.config,
        }
    }

    /// From a signed session key (its signature was verified when it was parsed).
    pub fn new(key: &SessionKey, config: SessionConfig) -> Self {
        Self {
            initial_ratchet: key.ratchet.clone(),
            latest_ratchet: key.ratchet.clone(),
            signing_key: key.signing_key,
            signing_key_verified: true,
            config,
        }
    }

    /// From an unsigned exported key.
    pub fn import(key: &ExportedSessionKey, config: SessionConfig) -> Self {
        Self {
            initial_ratchet: key.ratchet.clone(),
            latest_ratchet: key.ratchet.clone(),
            signing_key: key.signing_key,
            signing_key_verified: false,
            config,
        }
    }

    /// The session id: base64 of the sender's Ed25519 key.
    pub fn session_id(&self) -> String {
        self.signing_key.to_base64()
    }

    /// The first message index this session can decrypt.
    pub const fn first_known_index(&self) -> u32 {
        self.initial_ratchet.index
    }

    /// Permanently forgets the messages before `index`: the session can then decrypt and
    /// export only from `index` on. Returns `false` (and changes nothing) when the first known
    /// index is already `index` or later. (vodozemac's `advance_to`; indices compare as plain
    /// numbers, as there.)
    pub fn advance_to(&mut self, index: u32) -> bool {
        if self.first_known_index() >= index {
            return false;
        }
        self.initial_ratchet.advance_to(index);
        if self.latest_ratchet.index < index {
            self.latest_ratchet = self.initial_ratchet.clone();
        }
        true
    }

    /// Whether the session came from a signed session key (or was merged with one).
    pub fn signing_key_verified(&self) -> bool {
        self.signing_key_verified
    }

    /// The session's configuration.
    pub const fn session_config(&self) -> SessionConfig {
        self.config
    }

    /// The ratchet at `index`: `None` unless `index` is at or after the first known index
    /// (less than 2^31 ahead of it in the ring); then advanced from the latest ratchet if that
    /// is between the two, else from the initial one. Whether an index is usable never depends
    /// on the cached ratchet.
    fn ratchet_at(&self, index: u32) -> Option<MegolmRatchet> {
        let first = self.initial_ratchet.index;
        let wanted = offset_from(first, index)?;
        let base = match offset_from(first, self.latest_ratchet.index) {
            Some(latest) if latest <= wanted => &self.latest_ratchet,
            _ => &self.initial_ratchet,
        };
        let mut r = base.clone();
        if r.index != index {
            r.advance_to(index);
        }
        Some(r)
    }

    /// Verifies the signature (strictly), then the MAC, then decrypts. On any error the
    /// session is unchanged.
    ///
    /// # Errors
    /// [`DecryptionError::InvalidSignature`], [`DecryptionError::InvalidMac`],
    /// [`DecryptionError::UnknownMessageIndex`], a MAC length that does not match the config.
    pub fn decrypt(&mut self, message: &MegolmMessage) -> Result<DecryptedMessage, DecryptionError> {
        let m = &message.0;
        self.signing_key
            .verify(m.signed_bytes(), &Ed25519Signature::from_bytes(m.signature()))
            .map_err(|_| DecryptionError::InvalidSignature)?;
        if m.version != self.config.message_version() {
            return Err(DecryptionError::InvalidMacLength {
                expected: MegolmMessageWire::mac_len_for(self.config.message_version()),
                got: m.mac().len(),
            });
        }
        let ratchet = self.ratchet_at(m.message_index).ok_or(DecryptionError::UnknownMessageIndex {
            got: m.message_index,
            first_known: self.initial_ratchet.index,
        })?;
        let keys = message_keys(&ratchet);
        let tag = HmacKey::new(&keys.mac_key).mac(&[m.authenticated_bytes()]);
        if !reveal(ct_eq(&tag.expose()[..m.mac().len()], m.mac())) {
            return Err(DecryptionError::InvalidMac);
        }
        let plaintext =
            aes256_cbc_decrypt(&keys.aes_key, &keys.iv, &m.ciphertext).ok_or(DecryptionError::InvalidPadding)?;
        // Keep the ratchet furthest from the first known index (a stale latest ratchet, not
        // between the two, is replaced).
        let first = self.initial_ratchet.index;
        let reached = offset_from(first, ratchet.index);
        if offset_from(first, self.latest_ratchet.index).is_none_or(|latest| reached >= Some(latest)) {
            self.latest_ratchet = ratchet;
        }
        Ok(DecryptedMessage { plaintext, message_index: m.message_index })
    }

    /// libolm's `olm_group_decrypt`: [`InboundGroupSession::decrypt`], after which the session
    /// also counts as verified ([`InboundGroupSession::signing_key_verified`]): libolm takes a
    /// message that decrypts and carries the session key's signature as proof that an
    /// imported session is genuine. (vodozemac keeps the flag as the key left it.)
    ///
    /// # Errors
    /// As [`InboundGroupSession::decrypt`]; the session is then unchanged.
    #[cfg(feature = "hazmat")]
    pub fn decrypt_libolm(&mut self, message: &MegolmMessage) -> Result<DecryptedMessage, DecryptionError> {
        let r = self.decrypt(message)?;
        self.signing_key_verified = true;
        Ok(r)
    }

    /// The session exported at `index` (≥ the first known index), or `None` before it.
    pub fn export_at(&self, index: u32) -> Option<ExportedSessionKey> {
        self.ratchet_at(index).map(|ratchet| ExportedSessionKey { ratchet, signing_key: self.signing_key })
    }

    /// libolm's `olm_export_inbound_group_session`: [`InboundGroupSession::export_at`], which
    /// also moves the session's cached latest ratchet forward to `index` when `index` is at or
    /// after it, as libolm does (a later pickle then holds the advanced ratchet, byte for byte
    /// what libolm writes). What the session can decrypt does not change.
    #[cfg(feature = "hazmat")]
    pub fn export_at_libolm(&mut self, index: u32) -> Option<ExportedSessionKey> {
        let key = self.export_at(index)?;
        if at_or_after(index, self.latest_ratchet.index) {
            self.latest_ratchet = key.ratchet.clone();
        }
        Some(key)
    }

    /// The session exported at its first known index.
    pub fn export_at_first_known_index(&self) -> ExportedSessionKey {
        ExportedSessionKey { ratchet: self.initial_ratchet.clone(), signing_key: self.signing_key }
    }

    /// The two copies ordered by their first known index in the ring: `(earlier, later)`, or
    /// `None` when they are exactly half the ring apart (neither is before the other).
    fn ordered<'a>(&'a self, other: &'a InboundGroupSession) -> Option<(&'a Self, &'a Self)> {
        let (mine, theirs) = (self.first_known_index(), other.first_known_index());
        if at_or_after(theirs, mine) {
            Some((self, other))
        } else if at_or_after(mine, theirs) {
            Some((other, self))
        } else {
            None
        }
    }

    /// Whether both are copies of one session (same key; the earlier copy's ratchet, advanced
    /// to the later copy's first index, equals it; compared in constant time). "Earlier" is in
    /// the ring, as everywhere in Megolm: a copy from index 2^32 − 5 is earlier than one from
    /// index 3 of the same session.
    pub fn connected(&self, other: &InboundGroupSession) -> bool {
        if self.config != other.config || self.signing_key != other.signing_key {
            return false;
        }
        let Some((earlier, later)) = self.ordered(other) else { return false };
        match earlier.ratchet_at(later.first_known_index()) {
            Some(r) => bool::from(r.parts.expose().ct_eq(later.initial_ratchet.parts.expose())),
            None => false,
        }
    }

    /// Which copy knows more: the one whose first known index is earlier in the ring.
    pub fn compare(&self, other: &InboundGroupSession) -> SessionOrdering {
        if !self.connected(other) {
            return SessionOrdering::Unconnected;
        }
        match self.ordered(other) {
            _ if self.first_known_index() == other.first_known_index() => SessionOrdering::Equal,
            Some((earlier, _)) if core::ptr::eq(earlier, self) => SessionOrdering::Better,
            _ => SessionOrdering::Worse,
        }
    }

    /// Merges two copies: the earlier first index (in the ring), the latest ratchet furthest
    /// from it, verified if either was verified. `None` if they are not the same session.
    pub fn merge(&self, other: &InboundGroupSession) -> Option<InboundGroupSession> {
        if !self.connected(other) {
            return None;
        }
        let (best, _) = self.ordered(other)?;
        let first = best.first_known_index();
        let latest = [&self.latest_ratchet, &other.latest_ratchet]
            .into_iter()
            .filter_map(|r| offset_from(first, r.index).map(|o| (o, r)))
            .max_by_key(|(o, _)| *o)
            .map_or(&best.initial_ratchet, |(_, r)| r);
        Some(InboundGroupSession {
            initial_ratchet: best.initial_ratchet.clone(),
            latest_ratchet: latest.clone(),
            signing_key: self.signing_key,
            signing_key_verified: self.signing_key_verified || other.signing_key_verified,
            config: self.config,
        })
    }
}

impl From<&GroupSession> for InboundGroupSession {
    fn from(s: &GroupSession) -> Self {
        Self::new(&s.session_key(), s.config)
    }
}

#[cfg(test)]
mod accessor_tests {
    use super::*;

    #[test]
    fn accessors_give_the_received_fields() {
        for (config, version, mac_len) in [(SessionConfig::version_1(), 3, 8), (SessionConfig::version_2(), 4, 32)] {
            let mut g = GroupSession::new(config);
            let m = g.encrypt(b"sixteen bytes!!!");
            assert_eq!((m.version(), m.mac().len(), m.ciphertext().len()), (version, mac_len, 32));
            let bytes = m.to_bytes();
            let end = bytes.len() - 64;
            assert_eq!(&bytes[end - mac_len..end], m.mac());
            assert_eq!(bytes[0], version);
        }
    }

    /// The version a pickle stores and reads back: a version-2 session (32-byte MAC) must not
    /// come back as version 1 (8-byte MAC), and no other number is a version.
    #[test]
    fn session_config_versions_round_trip_and_nothing_else_parses() {
        for config in [SessionConfig::version_1(), SessionConfig::version_2()] {
            assert_eq!(SessionConfig::from_version(config.version()), Some(config));
        }
        assert_eq!((SessionConfig::version_1().version(), SessionConfig::version_2().version()), (1, 2));
        for v in [0, 3, 4, 255] {
            assert_eq!(SessionConfig::from_version(v), None);
        }
    }

    /// `encrypt_message_length` predicts the exact encoded length (every padding boundary,
    /// each varint length of the index), and the base64 form decodes to the same message.
    #[test]
    fn encrypt_message_length_is_exact_and_base64_round_trips() {
        for config in [SessionConfig::version_1(), SessionConfig::version_2()] {
            for index in [0, 127, 128, 16_383, 16_384, 1 << 31] {
                let mut g = GroupSession::new(config);
                g.advance_to_for_testing(index);
                for len in [0, 1, 15, 16, 17, 31, 32, 33, 100] {
                    assert_eq!(g.message_index(), index);
                    let predicted = g.encrypt_message_length(len);
                    let m = g.encrypt(vec![7u8; len]);
                    assert_eq!(predicted, m.to_bytes().len(), "{config:?} index {index} length {len}");
                    assert_eq!(MegolmMessage::from_base64(&m.to_base64()), Ok(m));
                    assert_eq!(g.session_id(), InboundGroupSession::from(&g).session_id());
                    assert_eq!(g.session_id(), g.signing_key.public_key().to_base64());
                    g = GroupSession::new(config);
                    g.advance_to_for_testing(index);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The checks of [`InboundGroupSession`] at their exact edges (written to kill the mutants
    //! listed in TESTING.md; the interop suites in `tests/` cover the formats).

    use super::*;

    fn pair() -> (GroupSession, InboundGroupSession) {
        let outbound = GroupSession::new(SessionConfig::version_1());
        let inbound = InboundGroupSession::new(&outbound.session_key(), SessionConfig::version_1());
        (outbound, inbound)
    }

    #[test]
    fn a_wrong_ratchet_fails_the_mac_after_a_valid_signature() {
        let (mut outbound, mut inbound) = pair();
        let m = outbound.encrypt(b"hello");
        let mut tampered = inbound.duplicate();
        tampered.initial_ratchet.parts.expose_mut()[0] ^= 1;
        tampered.latest_ratchet = tampered.initial_ratchet.clone();
        // The signature is the sender's and valid: only the MAC can refuse this.
        assert_eq!(tampered.decrypt(&m), Err(DecryptionError::InvalidMac));
        assert_eq!(inbound.decrypt(&m).unwrap().plaintext, b"hello");
    }

    #[test]
    fn an_index_half_the_ring_ahead_is_unknown() {
        let (mut outbound, mut inbound) = pair();
        outbound.advance_to_for_testing((1 << 31) - 1);
        let last_known = outbound.encrypt(b"a");
        let half_ring = outbound.encrypt(b"b");
        assert_eq!(half_ring.message_index(), 1 << 31);
        assert_eq!(
            inbound.decrypt(&half_ring),
            Err(DecryptionError::UnknownMessageIndex { got: 1 << 31, first_known: 0 })
        );
        assert_eq!(inbound.decrypt(&last_known).unwrap().plaintext, b"a");
        assert!(inbound.export_at(1 << 31).is_none());
    }

    #[test]
    fn copies_with_another_signing_key_are_not_connected() {
        let (_, inbound) = pair();
        let mut impostor = inbound.duplicate();
        impostor.signing_key = GroupSession::new(SessionConfig::version_1()).signing_key.public_key();
        assert!(inbound.connected(&inbound.duplicate()));
        assert!(!inbound.connected(&impostor));
        assert!(!impostor.connected(&inbound));
        assert!(inbound.merge(&impostor).is_none());
        assert_eq!(inbound.compare(&impostor), SessionOrdering::Unconnected);
    }

    #[test]
    fn advance_to_forgets_the_earlier_messages_and_their_keys() {
        let (mut outbound, mut inbound) = pair();
        let sent: Vec<MegolmMessage> = (0..5).map(|_| outbound.encrypt(b"m")).collect();
        inbound.decrypt(&sent[1]).unwrap();
        assert!(inbound.advance_to(3));
        assert_eq!(inbound.first_known_index(), 3);
        // The cached ratchet (at 1) holds forgotten keys: it is replaced.
        assert_eq!(inbound.latest_ratchet.index, 3);
        assert_eq!(inbound.decrypt(&sent[2]), Err(DecryptionError::UnknownMessageIndex { got: 2, first_known: 3 }));
        assert_eq!(inbound.decrypt(&sent[4]).unwrap().message_index, 4);
        // Not forwards: nothing to do.
        assert!(!inbound.advance_to(3));
        assert!(!inbound.advance_to(2));
        assert_eq!(inbound.first_known_index(), 3);
    }

    /// Only a signed session key makes a verified session; an imported (unsigned) one stays
    /// unverified unless merged with a verified copy (or, libolm's rule, after a message it
    /// decrypts; a message it refuses changes nothing).
    #[test]
    fn only_signed_keys_and_merges_with_them_are_verified() {
        let (mut outbound, signed) = pair();
        let imported = InboundGroupSession::import(&signed.export_at_first_known_index(), SessionConfig::version_1());
        assert!(signed.signing_key_verified());
        assert!(!imported.signing_key_verified());
        assert!(imported.merge(&signed).unwrap().signing_key_verified());
        assert!(signed.merge(&imported).unwrap().signing_key_verified());
        assert!(!imported.merge(&imported.duplicate()).unwrap().signing_key_verified());
        #[cfg(feature = "hazmat")]
        {
            let mut imported = imported;
            let m = outbound.encrypt(b"proof");
            let mut forged = m.to_bytes();
            let last = forged.len() - 1;
            forged[last] ^= 1;
            let forged = MegolmMessage::from_bytes(&forged).unwrap();
            assert_eq!(imported.decrypt_libolm(&forged), Err(DecryptionError::InvalidSignature));
            assert!(!imported.signing_key_verified());
            assert_eq!(imported.decrypt_libolm(&m).unwrap().plaintext, b"proof");
            assert!(imported.signing_key_verified());
        }
        #[cfg(not(feature = "hazmat"))]
        let _ = outbound.encrypt(b"unused");
    }

    /// `compare` and `merge` prefer the copy that knows more (the earlier first index), and
    /// `export_at_libolm` exports what `export_at` does, moving the cached ratchet forward only.
    #[test]
    fn compare_merge_and_libolm_export_prefer_the_earlier_copy() {
        let (mut outbound, earlier) = pair();
        let sent: Vec<MegolmMessage> = (0..4).map(|_| outbound.encrypt(b"m")).collect();
        let later = InboundGroupSession::import(&earlier.export_at(2).unwrap(), SessionConfig::version_1());
        assert_eq!(earlier.compare(&earlier.duplicate()), SessionOrdering::Equal);
        assert_eq!(earlier.compare(&later), SessionOrdering::Better);
        assert_eq!(later.compare(&earlier), SessionOrdering::Worse);
        for merged in [later.merge(&earlier).unwrap(), earlier.merge(&later).unwrap()] {
            assert_eq!(merged.first_known_index(), 0);
            assert!(merged.signing_key_verified());
            let mut merged = merged;
            assert_eq!(merged.decrypt(&sent[0]).unwrap().message_index, 0);
        }
        #[cfg(feature = "hazmat")]
        {
            let mut s = earlier.duplicate();
            let key = s.export_at_libolm(3).unwrap();
            assert_eq!(key.to_bytes(), earlier.export_at(3).unwrap().to_bytes());
            assert_eq!(s.latest_ratchet.index, 3);
            assert!(s.export_at_libolm(1).is_some());
            assert_eq!(s.latest_ratchet.index, 3);
            assert_eq!(s.decrypt(&sent[1]).unwrap().message_index, 1);
        }
    }
}
