//! Olm messages as Matrix carries them: a type (0 pre-key, 1 normal) and a base64 body.

use crate::error::DecodeError;
use crate::primitives::{Curve25519PublicKey, base64_decode, base64_encode, sha256};
use crate::wire::olm::{NormalMessageWire, PreKeyMessageWire};

/// Matrix's Olm message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageType {
    /// Type 0: a pre-key message, which can start a session.
    PreKey = 0,
    /// Type 1: a normal message.
    Normal = 1,
}

/// A normal Olm message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message(pub(crate) NormalMessageWire);

impl Message {
    crate::wire::binary_and_base64!(NormalMessageWire);
    /// The sender's ratchet key.
    pub const fn ratchet_key(&self) -> Curve25519PublicKey {
        self.0.ratchet_key
    }
    /// The message's index in its chain.
    pub const fn chain_index(&self) -> u32 {
        self.0.chain_index
    }
    /// The version byte (3: 8-byte MAC; 4: 32-byte MAC).
    pub const fn version(&self) -> u8 {
        self.0.version
    }
    /// Whether the MAC is truncated to 8 bytes (libolm's format).
    pub fn mac_truncated(&self) -> bool {
        self.0.mac().len() == 8
    }
    /// The AES-256-CBC ciphertext the message carries.
    pub fn ciphertext(&self) -> &[u8] {
        &self.0.ciphertext
    }
    /// The MAC (8 bytes for version 3, 32 for version 4), as received.
    pub fn mac(&self) -> &[u8] {
        self.0.mac()
    }
}

/// A pre-key Olm message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreKeyMessage(pub(crate) PreKeyMessageWire);

impl PreKeyMessage {
    crate::wire::binary_and_base64!(PreKeyMessageWire);
    /// The receiver's one-time (or fallback) key the sender used.
    pub fn one_time_key(&self) -> Curve25519PublicKey {
        self.0.one_time_key
    }
    /// The sender's base key.
    pub fn base_key(&self) -> Curve25519PublicKey {
        self.0.base_key
    }
    /// The sender's identity key.
    pub fn identity_key(&self) -> Curve25519PublicKey {
        self.0.identity_key
    }
    /// The normal message inside.
    pub fn message(&self) -> Message {
        Message(self.0.message.clone())
    }
    /// The three keys of the session this message starts or belongs to (the sender's identity
    /// and base keys, the receiver's one-time key), as
    /// [`Session::session_keys`](crate::olm::Session::session_keys) gives them.
    pub fn session_keys(&self) -> super::SessionKeys {
        super::SessionKeys {
            identity_key: self.0.identity_key,
            base_key: self.0.base_key,
            one_time_key: self.0.one_time_key,
        }
    }
    /// The id of the session this message starts or belongs to.
    pub fn session_id(&self) -> String {
        session_id(&self.0.identity_key, &self.0.base_key, &self.0.one_time_key)
    }

    /// Wraps a normal message with a session's keys (vodozemac's low-level `wrap`). Nothing is
    /// checked: the result decrypts only in the session the keys name.
    #[cfg(feature = "hazmat")]
    pub fn wrap(session_keys: super::SessionKeys, message: Message) -> Self {
        let k = session_keys;
        Self(PreKeyMessageWire::encode(k.one_time_key, k.base_key, k.identity_key, message.0))
    }
}

/// `base64(SHA-256(I_A ‖ E_A ‖ E_B))`.
pub(crate) fn session_id(
    identity_key: &Curve25519PublicKey,
    base_key: &Curve25519PublicKey,
    one_time_key: &Curve25519PublicKey,
) -> String {
    base64_encode(sha256(&[identity_key.as_bytes(), base_key.as_bytes(), one_time_key.as_bytes()]))
}

/// An Olm message of either type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum OlmMessage {
    /// A normal message (type 1).
    Normal(Message),
    /// A pre-key message (type 0).
    PreKey(PreKeyMessage),
}

impl OlmMessage {
    /// From Matrix's `type` and the binary body (base64-decoded `body`).
    ///
    /// # Errors
    /// [`DecodeError::UnknownMessageType`] or a decoding error of the body.
    pub fn from_parts(message_type: usize, body: &[u8]) -> Result<Self, DecodeError> {
        match message_type {
            0 => PreKeyMessage::from_bytes(body).map(Self::PreKey),
            1 => Message::from_bytes(body).map(Self::Normal),
            t => Err(DecodeError::UnknownMessageType(t)),
        }
    }

    /// Matrix's `type` and the binary body.
    pub fn to_parts(&self) -> (usize, Vec<u8>) {
        (self.message_type() as usize, self.to_bytes())
    }

    /// From Matrix's `type` and base64 `body`, as they appear in an `m.room.encrypted` event.
    ///
    /// # Errors
    /// As [`OlmMessage::from_parts`], or [`DecodeError::Base64`].
    pub fn from_base64_parts(message_type: usize, body: &str) -> Result<Self, DecodeError> {
        Self::from_parts(message_type, &base64_decode(body).map_err(|_| DecodeError::Base64)?)
    }

    /// Matrix's `type` and unpadded base64 `body`.
    pub fn to_base64_parts(&self) -> (usize, String) {
        (self.message_type() as usize, base64_encode(self.to_bytes()))
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Normal(_) => MessageType::Normal,
            Self::PreKey(_) => MessageType::PreKey,
        }
    }

    /// The binary body.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Normal(m) => m.to_bytes(),
            Self::PreKey(m) => m.to_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::olm::SessionConfig;
    use crate::test_fixtures::{OlmOutbound, olm_outbound};

    #[test]
    fn accessors_give_the_received_fields() {
        for config in [SessionConfig::version_1(), SessionConfig::version_2()] {
            let OlmOutbound { first: m, .. } = olm_outbound(config, b"seventeen bytes..");
            let inner = m.message();
            let mac_len = if config.version() == 1 { 8 } else { 32 };
            assert_eq!(inner.mac().len(), mac_len);
            assert_eq!(inner.mac_truncated(), config.version() == 1);
            // one AES block of ciphertext for 17 bytes: 32 bytes with PKCS#7
            assert_eq!(inner.ciphertext().len(), 32);
            let bytes = inner.to_bytes();
            assert!(bytes.ends_with(inner.mac()));
            assert!(bytes.windows(32).any(|w| w == inner.ciphertext()));
            #[cfg(feature = "hazmat")]
            assert_eq!(PreKeyMessage::wrap(m.session_keys(), m.message()), m, "wrap rebuilds the message");
        }
    }

    #[cfg(feature = "hazmat")]
    #[test]
    fn take_one_time_key_returns_the_secret_once() {
        let mut bob = crate::olm::Account::new();
        bob.generate_one_time_keys(2);
        let otk = *bob.one_time_keys().values().next().unwrap();
        let secret = bob.take_one_time_key(otk).unwrap();
        assert_eq!(secret.public_key(), otk);
        assert!(bob.take_one_time_key(otk).is_none());
        assert_eq!(bob.stored_one_time_key_count(), 1);
    }

    /// Matrix's (type, body) form and base64 round-trip both kinds, an unknown type is refused,
    /// and a pre-key message names its session and its keys as the session does.
    #[test]
    fn parts_base64_and_session_identity_round_trip() {
        let OlmOutbound { alice, mut bob, otk, mut a, first } = olm_outbound(SessionConfig::version_1(), b"first");
        let pre_key = OlmMessage::PreKey(first);
        let OlmMessage::PreKey(p) = &pre_key else { panic!("a pre-key message") };
        assert_eq!(p.session_id(), a.session_id());
        // SPEC.md: base64(SHA-256(I_A ‖ E_A ‖ E_B))
        let k = a.session_keys();
        let digest = sha256(&[k.identity_key.as_bytes(), k.base_key.as_bytes(), k.one_time_key.as_bytes()]);
        assert_eq!(p.session_id(), base64_encode(digest));
        assert_eq!(p.session_keys(), a.session_keys());
        assert_eq!((p.one_time_key(), p.identity_key()), (otk, alice.curve25519_key()));
        assert_eq!(p.base_key(), a.session_keys().base_key);
        assert_eq!(PreKeyMessage::from_base64(&p.to_base64()).as_ref(), Ok(p));
        let mut b = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), p).unwrap().session;
        b.encrypt(b"one");
        b.encrypt(b"one more");
        let normal = b.encrypt(b"two");
        let OlmMessage::Normal(n) = &normal else { panic!("a normal message") };
        assert_eq!((n.chain_index(), n.version(), n.mac_truncated()), (2, 3, true));
        assert_eq!(OlmMessage::Normal(n.clone()).message_type(), MessageType::Normal);
        assert_eq!(Message::from_base64(&n.to_base64()).as_ref(), Ok(n));
        for (m, kind) in [(&pre_key, 0), (&normal, 1)] {
            let (t, body) = m.to_parts();
            assert_eq!((t, &body), (kind, &m.to_bytes()));
            assert_eq!(OlmMessage::from_parts(t, &body).as_ref(), Ok(m));
            let (t, body) = m.to_base64_parts();
            assert_eq!(OlmMessage::from_base64_parts(t, &body).as_ref(), Ok(m));
            assert_eq!(OlmMessage::from_parts(2, &m.to_bytes()), Err(DecodeError::UnknownMessageType(2)));
        }
        assert_eq!(a.decrypt(&normal).unwrap(), b"two");
        let ratchet_key = n.ratchet_key();
        assert_ne!(ratchet_key, p.message().ratchet_key());
    }
}
