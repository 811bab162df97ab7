//! An Olm session.

use super::OLM_DIALECT;
use super::message::{Message, OlmMessage, PreKeyMessage, session_id};
use crate::error::{DecryptionError, KeyError};
use crate::primitives::{
    AesCbcKeys, ContributoryKey, Curve25519PublicKey, Curve25519SecretKey, HmacKey, OsRandom, RandomSource,
    SecretBytes, aes256_cbc_decrypt, aes256_cbc_encrypt, ct_eq, hkdf_sha256, reveal,
};
use crate::ratchet::{DoubleRatchet, MessageSeed, SenderChain, split_root_and_chain};
use crate::wire::olm::{NormalMessageWire, PreKeyMessageWire, VERSION_FULL_MAC, VERSION_TRUNCATED_MAC};

/// Which Olm variant a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionConfig {
    version: u8,
}

impl SessionConfig {
    /// Version 1: 8-byte truncated MAC, version byte 3. What libolm speaks; the default.
    pub const fn version_1() -> Self {
        Self { version: 1 }
    }
    /// Version 2: full 32-byte MAC, version byte 4. Only caudata and vodozemac read it.
    pub const fn version_2() -> Self {
        Self { version: 2 }
    }
    /// 1 or 2.
    pub const fn version(&self) -> u8 {
        self.version
    }
    pub(crate) const fn message_version(&self) -> u8 {
        if self.version == 2 { VERSION_FULL_MAC } else { VERSION_TRUNCATED_MAC }
    }
    pub(crate) fn from_version(v: u8) -> Option<Self> {
        match v {
            1 | 2 => Some(Self { version: v }),
            _ => None,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::version_1()
    }
}

/// The three public keys that identify an Olm session. With the `serde` feature: vodozemac's
/// struct `SessionKeys { identity_key, base_key, one_time_key }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SessionKeys {
    /// The initiator's identity key `I_A`.
    pub identity_key: Curve25519PublicKey,
    /// The initiator's base key `E_A`.
    pub base_key: Curve25519PublicKey,
    /// The responder's one-time or fallback key `E_B`.
    pub one_time_key: Curve25519PublicKey,
}

impl SessionKeys {
    /// The session id, `base64(SHA-256(I_A ‖ E_A ‖ E_B))`.
    pub fn session_id(&self) -> String {
        session_id(&self.identity_key, &self.base_key, &self.one_time_key)
    }

    /// Whether all three keys are usable in Diffie-Hellman, as every key of a session created
    /// here was (each took part in the 3DH): the pickle readers hold a stored session to this.
    pub(crate) fn check_contributory(&self) -> Result<(), KeyError> {
        for k in [self.identity_key, self.base_key, self.one_time_key] {
            ContributoryKey::new(k)?;
        }
        Ok(())
    }
}

/// The chain indices of a session (see [`Session::chain_indices`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ChainIndices {
    /// The index of the next message sent (0 before there is a sending chain).
    pub sender: u32,
    /// The index of the next message expected on each receiving chain, newest chain first.
    pub receivers: Vec<u32>,
    /// The index of each kept skipped message key, newest first.
    pub skipped: Vec<u32>,
}

/// An Olm session: one end of a 1:1 double-ratchet conversation.
pub struct Session {
    pub(crate) session_keys: SessionKeys,
    pub(crate) ratchet: DoubleRatchet,
    pub(crate) config: SessionConfig,
    pub(crate) received_message: bool,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { session_keys, ratchet: _, config, received_message } = self;
        f.debug_struct("Session")
            .field("session_id", &session_keys.session_id())
            .field("config", config)
            .field("received_message", received_message)
            .finish_non_exhaustive()
    }
}

/// `R0 ‖ C0 = HKDF(0, S, "OLM_ROOT", 64)` for the 96-byte 3DH secret `S`.
fn olm_root(shared: &SecretBytes<96>) -> (crate::ratchet::RootKey, crate::ratchet::ChainKey) {
    let mut okm = SecretBytes::<64>::zero();
    hkdf_sha256(None, shared.expose(), b"OLM_ROOT", okm.expose_mut());
    split_root_and_chain(&okm)
}

fn concat3(a: &[u8; 32], b: &[u8; 32], c: &[u8; 32]) -> SecretBytes<96> {
    let mut s = SecretBytes::<96>::zero();
    let o = s.expose_mut();
    o[..32].copy_from_slice(a);
    o[32..64].copy_from_slice(b);
    o[64..].copy_from_slice(c);
    s
}

impl Session {
    /// The initiator's side: `S = DH(I_A, E_B) ‖ DH(E_A, I_B) ‖ DH(E_A, E_B)`. Draws 64 random
    /// bytes: the base key, then the first ratchet key (libolm's order).
    pub(crate) fn new_outbound(
        config: SessionConfig,
        our_identity: &Curve25519SecretKey,
        their_identity: &Curve25519PublicKey,
        their_one_time_key: &Curve25519PublicKey,
        rng: &mut impl RandomSource,
    ) -> Result<Self, KeyError> {
        let base = Curve25519SecretKey::random(rng);
        let ratchet_key = Curve25519SecretKey::random(rng);
        let s = concat3(
            our_identity.diffie_hellman(their_one_time_key)?.expose(),
            base.diffie_hellman(their_identity)?.expose(),
            base.diffie_hellman(their_one_time_key)?.expose(),
        );
        let (root, chain) = olm_root(&s);
        let session_keys = SessionKeys {
            identity_key: our_identity.public_key(),
            base_key: base.public_key(),
            one_time_key: *their_one_time_key,
        };
        Ok(Self {
            session_keys,
            ratchet: DoubleRatchet::with_sender(&OLM_DIALECT, root, SenderChain::new(ratchet_key, chain)),
            config,
            received_message: false,
        })
    }

    /// The responder's side, before its first message is decrypted.
    pub(crate) fn new_inbound(
        config: SessionConfig,
        our_identity: &Curve25519SecretKey,
        our_one_time_key: &Curve25519SecretKey,
        message: &PreKeyMessageWire,
    ) -> Result<Self, KeyError> {
        // The responder's first receiving chain is the only one made without a Diffie-Hellman
        // with its ratchet key, and the inner MAC does not depend on that key: it is checked
        // here, before anything else, as every receiving chain's key is.
        let their_ratchet_key = ContributoryKey::new(message.message.ratchet_key)?;
        let s = concat3(
            our_one_time_key.diffie_hellman(&message.identity_key)?.expose(),
            our_identity.diffie_hellman(&message.base_key)?.expose(),
            our_one_time_key.diffie_hellman(&message.base_key)?.expose(),
        );
        let (root, chain) = olm_root(&s);
        let session_keys = SessionKeys {
            identity_key: message.identity_key,
            base_key: message.base_key,
            one_time_key: message.one_time_key,
        };
        Ok(Self {
            session_keys,
            ratchet: DoubleRatchet::with_receiver(&OLM_DIALECT, root, their_ratchet_key, chain),
            config,
            received_message: true,
        })
    }

    /// The session id, the same on both sides.
    pub fn session_id(&self) -> String {
        self.session_keys.session_id()
    }

    /// The keys the session was created from.
    pub const fn session_keys(&self) -> SessionKeys {
        self.session_keys
    }

    /// The session's configuration.
    pub const fn session_config(&self) -> SessionConfig {
        self.config
    }

    /// Whether this side has decrypted a message from the other (until then, an initiator
    /// sends pre-key messages).
    pub const fn has_received_message(&self) -> bool {
        self.received_message
    }

    /// The indices libolm's `olm_session_describe` reports: the sending chain's next index (0
    /// while there is none), each receiving chain's next index (newest chain first) and each
    /// skipped message key's index (newest first). Public bookkeeping only, for logs.
    pub fn chain_indices(&self) -> ChainIndices {
        let d = &self.ratchet;
        ChainIndices {
            sender: d.sender.as_ref().map_or(0, |s| s.chain.index),
            receivers: d.receivers.iter().rev().map(|rc| rc.chain.index).collect(),
            skipped: match &d.shared_skipped {
                Some(list) => list.iter().map(|s| s.seed.index).collect(),
                None => d.receivers.iter().rev().flat_map(|rc| rc.skipped.iter().rev().map(|k| k.index)).collect(),
            },
        }
    }

    /// [`Session::chain_indices`] in libolm's words (`olm_session_describe`, which mautrix
    /// logs): `sender chain index: 2 receiver chain indices: 5 1 skipped message keys: 3`.
    pub fn describe(&self) -> String {
        use core::fmt::Write;
        let c = self.chain_indices();
        // libolm prints the indices with `%d`
        let mut s = format!("sender chain index: {} receiver chain indices:", c.sender as i32);
        for i in &c.receivers {
            let _ = write!(s, " {}", *i as i32);
        }
        s.push_str(" skipped message keys:");
        for i in &c.skipped {
            let _ = write!(s, " {}", *i as i32);
        }
        s
    }

    /// How many random bytes the next [`Session::encrypt`] draws: 32 when it starts a new
    /// sending chain (a new ratchet key), else 0 (libolm's `olm_encrypt_random_length`).
    pub fn encrypt_random_length(&self) -> usize {
        if self.ratchet.sender.is_some() { 0 } else { 32 }
    }

    /// The length in bytes (before base64) of the message the next [`Session::encrypt`] of
    /// `plaintext_length` bytes makes (libolm's `olm_encrypt_message_length`).
    pub fn encrypt_message_length(&self, plaintext_length: usize) -> usize {
        use crate::wire::codec::{bytes_field_len, varint_len};
        let index = self.ratchet.sender.as_ref().map_or(0, |s| s.chain.index);
        let ciphertext = plaintext_length - plaintext_length % 16 + 16;
        let version = self.config.message_version();
        let normal = 1
            + bytes_field_len(32)
            + 1
            + varint_len(index.into())
            + bytes_field_len(ciphertext)
            + NormalMessageWire::mac_len_for(version);
        if self.received_message { normal } else { 1 + 3 * bytes_field_len(32) + bytes_field_len(normal) }
    }

    /// Whether `message` belongs to this session (same three session keys).
    pub fn matches(&self, message: &PreKeyMessage) -> bool {
        let m = &message.0;
        m.identity_key == self.session_keys.identity_key
            && m.base_key == self.session_keys.base_key
            && m.one_time_key == self.session_keys.one_time_key
    }

    /// Encrypts `plaintext`. Until the other side has answered, the result is a pre-key message.
    pub fn encrypt(&mut self, plaintext: impl AsRef<[u8]>) -> OlmMessage {
        self.encrypt_inner(plaintext.as_ref(), &mut OsRandom)
    }

    /// [`Session::encrypt`] with an explicit random source (for known-answer tests).
    #[cfg(feature = "hazmat")]
    pub fn encrypt_with_rng(&mut self, plaintext: &[u8], rng: &mut impl RandomSource) -> OlmMessage {
        self.encrypt_inner(plaintext, rng)
    }

    fn encrypt_inner(&mut self, plaintext: &[u8], rng: &mut impl RandomSource) -> OlmMessage {
        let version = self.config.message_version();
        let wire = self.ratchet.encrypt(rng, |ctx| {
            let keys = AesCbcKeys::derive(None, ctx.seed.seed.expose(), b"OLM_KEYS");
            let ct = aes256_cbc_encrypt(&keys.aes_key, &keys.iv, plaintext);
            let mac = HmacKey::new(&keys.mac_key);
            NormalMessageWire::encode(version, ctx.ratchet_key, ctx.index, ct, |b| *mac.mac(&[b]).expose())
        });
        if self.received_message {
            OlmMessage::Normal(Message(wire))
        } else {
            let k = &self.session_keys;
            OlmMessage::PreKey(PreKeyMessage(PreKeyMessageWire::encode(
                k.one_time_key,
                k.base_key,
                k.identity_key,
                wire,
            )))
        }
    }

    /// Decrypts a message of this session. On any error the session is unchanged.
    ///
    /// # Errors
    /// [`DecryptionError`]: a bad MAC, a used or too-old key, a gap over the limit, a pre-key
    /// message for another session, a MAC length that does not match the session's config.
    pub fn decrypt(&mut self, message: &OlmMessage) -> Result<Vec<u8>, DecryptionError> {
        match message {
            OlmMessage::Normal(m) => self.decrypt_normal(&m.0),
            OlmMessage::PreKey(m) => {
                // The outer keys are not covered by the MAC: refuse a pre-key message whose keys
                // were altered rather than spend a message key on it.
                if !self.matches(m) {
                    return Err(DecryptionError::SessionMismatch);
                }
                self.decrypt_normal(&m.0.message)
            }
        }
    }

    pub(crate) fn decrypt_normal(&mut self, m: &NormalMessageWire) -> Result<Vec<u8>, DecryptionError> {
        let expected = self.config.message_version();
        if m.version != expected {
            return Err(DecryptionError::InvalidMacLength {
                expected: NormalMessageWire::mac_len_for(expected),
                got: m.mac().len(),
            });
        }
        let pt =
            self.ratchet.decrypt(&m.ratchet_key, m.chain_index, &mut OsRandom, |seed| decrypt_with_seed(seed, m))?;
        self.received_message = true;
        Ok(pt)
    }
}

fn decrypt_with_seed(seed: &MessageSeed, m: &NormalMessageWire) -> Result<Vec<u8>, DecryptionError> {
    let keys = AesCbcKeys::derive(None, seed.seed.expose(), b"OLM_KEYS");
    let tag = HmacKey::new(&keys.mac_key).mac(&[m.authenticated_bytes()]);
    let received = m.mac();
    // the verdict is the call's public outcome; `reveal` is the one reviewed branch on it
    if !reveal(ct_eq(&tag.expose()[..received.len()], received)) {
        return Err(DecryptionError::InvalidMac);
    }
    aes256_cbc_decrypt(&keys.aes_key, &keys.iv, &m.ciphertext).ok_or(DecryptionError::InvalidPadding)
}

#[cfg(test)]
mod tests {
    //! Refusals of [`Session::decrypt`] and of inbound session creation (written to kill the
    //! mutants listed in TESTING.md; `tests/` holds the interop and adversarial suites).

    use super::*;
    use crate::error::SessionCreationError;
    use crate::test_fixtures::{OlmOutbound, olm_outbound};

    fn pair() -> (Session, Session, PreKeyMessage) {
        let OlmOutbound { alice, mut bob, a, first, .. } = olm_outbound(SessionConfig::version_2(), b"first");
        // The wrong identity key is refused before anything else.
        assert!(matches!(
            bob.create_inbound_session(SessionConfig::version_2(), bob.curve25519_key(), &first),
            Err(SessionCreationError::MismatchedIdentityKey(..))
        ));
        let created = bob.create_inbound_session(SessionConfig::version_2(), alice.curve25519_key(), &first).unwrap();
        assert_eq!(created.plaintext, b"first");
        (a, created.session, first)
    }

    #[test]
    fn pre_key_messages_with_any_altered_key_are_refused() {
        let (mut a, mut b, _) = pair();
        let OlmMessage::PreKey(second) = a.encrypt(b"second") else { panic!("not a pre-key message") };
        let other = Curve25519SecretKey::new().public_key();
        for field in 0..3 {
            let mut m = second.clone();
            match field {
                0 => m.0.one_time_key = other,
                1 => m.0.base_key = other,
                _ => m.0.identity_key = other,
            }
            assert_eq!(b.decrypt(&OlmMessage::PreKey(m)), Err(DecryptionError::SessionMismatch), "field {field}");
        }
        assert_eq!(b.decrypt(&OlmMessage::PreKey(second)).unwrap(), b"second");
    }

    #[test]
    fn a_bad_mac_is_refused_and_changes_nothing() {
        let (mut a, mut b, _) = pair();
        let OlmMessage::Normal(reply) = b.encrypt(b"reply") else { panic!("not a normal message") };
        let mut bytes = reply.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let forged = OlmMessage::Normal(Message::from_bytes(&bytes).unwrap());
        assert_eq!(a.decrypt(&forged), Err(DecryptionError::InvalidMac));
        assert_eq!(a.decrypt(&OlmMessage::Normal(reply)).unwrap(), b"reply");
    }

    /// The pickle readers' check: a stored session whose keys could not all have taken part
    /// in the 3DH (a small-order or all-zero key) is refused, whichever of the three it is.
    #[test]
    fn stored_session_keys_must_all_be_contributory() {
        let (a, _, _) = pair();
        let keys = a.session_keys();
        assert_eq!(keys.check_contributory(), Ok(()));
        let zero = Curve25519PublicKey::from_bytes([0; 32]);
        for field in 0..3 {
            let mut k = keys;
            match field {
                0 => k.identity_key = zero,
                1 => k.base_key = zero,
                _ => k.one_time_key = zero,
            }
            assert_eq!(k.check_contributory(), Err(KeyError::NonContributory), "field {field}");
        }
    }

    /// The version a pickle stores and reads back, and nothing else parses.
    #[test]
    fn session_config_versions_round_trip_and_nothing_else_parses() {
        for config in [SessionConfig::version_1(), SessionConfig::version_2()] {
            assert_eq!(SessionConfig::from_version(config.version()), Some(config));
        }
        assert_eq!((SessionConfig::version_1().version(), SessionConfig::version_2().version()), (1, 2));
        for v in [0, 3, 255] {
            assert_eq!(SessionConfig::from_version(v), None);
        }
    }

    /// The lengths libolm's interface reports match what `encrypt` does, before and after the
    /// first reply (pre-key then normal messages, a new chain then an existing one).
    #[test]
    fn predicted_lengths_match_the_messages() {
        let (mut a, mut b, _) = pair();
        assert!(!a.has_received_message() && b.has_received_message());
        // the initiator's chain exists from the start; the responder's first message makes one
        for (s, first_random) in [(&mut a, 0), (&mut b, 32)] {
            for (i, len) in [0, 15, 16, 17, 200].into_iter().enumerate() {
                let random = s.encrypt_random_length();
                let predicted = s.encrypt_message_length(len);
                let m = s.encrypt(vec![1u8; len]);
                assert_eq!(predicted, m.to_bytes().len(), "message {i} length {len}");
                assert_eq!(random, if i == 0 { first_random } else { 0 });
            }
        }
        let OlmMessage::Normal(reply) = b.encrypt(b"r") else { panic!("not a normal message") };
        a.decrypt(&OlmMessage::Normal(reply)).unwrap();
        assert!(a.has_received_message());
        assert_eq!(a.encrypt_random_length(), 32, "a new ratchet key after a reply");
        let predicted = a.encrypt_message_length(5);
        assert_eq!(predicted, a.encrypt(b"12345").to_bytes().len());
        assert_eq!(a.encrypt_random_length(), 0);
        assert_eq!(a.chain_indices().sender, 1);
        // b sent five messages before the reply (index 5): a skipped 0 to 4, newest first
        assert_eq!(a.describe(), "sender chain index: 1 receiver chain indices: 6 skipped message keys: 4 3 2 1 0");
    }

    #[test]
    fn debug_shows_the_session_id_and_config_only() {
        let (a, b, _) = pair();
        let id = a.session_id();
        assert_eq!(
            format!("{a:?}"),
            format!(
                "Session {{ session_id: {id:?}, config: SessionConfig {{ version: 2 }}, received_message: false, .. }}"
            )
        );
        assert!(format!("{b:?}").ends_with("received_message: true, .. }"));
    }
}
