//! Signal-dialect messages as a transport carries them: a type (2 Whisper, 3 PreKey) and bytes.

use crate::error::DecodeError;
use crate::primitives::{Curve25519PublicKey, base64_decode, base64_encode};
use crate::wire::signal::{MESSAGE_TYPE_PRE_KEY, MESSAGE_TYPE_WHISPER, PreKeySignalMessageWire, SignalMessageWire};

/// libsignal's `CiphertextMessageType`: the two messages a session makes, and the two other
/// contents a sealed-sender envelope can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// Type 2: a `SignalMessage` ("Whisper").
    Whisper = 2,
    /// Type 3: a `PreKeySignalMessage`, which can start a session.
    PreKey = 3,
    /// Type 7: a `SenderKeyMessage` (a group message, [`crate::interolm::SenderKeyMessage`]).
    SenderKey = 7,
    /// Type 8: a `PlaintextContent` (an unencrypted retry request,
    /// [`crate::interolm::PlaintextContent`]).
    Plaintext = 8,
}

impl MessageType {
    /// The type with libsignal's number (2, 3, 7 or 8).
    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            2 => Some(Self::Whisper),
            3 => Some(Self::PreKey),
            7 => Some(Self::SenderKey),
            8 => Some(Self::Plaintext),
            _ => None,
        }
    }

    /// libsignal's number.
    pub fn number(self) -> u8 {
        self as u8
    }
}

/// A `SignalMessage` (type 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalMessage(pub(crate) SignalMessageWire);

impl SignalMessage {
    /// Decodes the binary form.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        SignalMessageWire::decode(bytes).map(Self)
    }
    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }
    /// The version byte as sent (`0x34` X3DH, `0x44` PQXDH).
    pub fn version_byte(&self) -> u8 {
        self.0.version
    }
    /// The session version (3 or 4).
    pub fn session_version(&self) -> u8 {
        self.0.session_version()
    }
    /// The sender's ratchet key.
    pub fn ratchet_key(&self) -> Curve25519PublicKey {
        self.0.ratchet_key
    }
    /// The message's index in its chain.
    pub fn counter(&self) -> u32 {
        self.0.counter
    }
    /// The last index of the sender's previous sending chain.
    pub fn previous_counter(&self) -> u32 {
        self.0.previous_counter
    }
    /// Whether the sender included an SPQR message (field 5; absent when the sender runs SPQR
    /// V0).
    pub fn has_pq_ratchet(&self) -> bool {
        self.0.pq_ratchet.is_some()
    }
    /// The SPQR message (field 5), if any: what [`crate::interolm::spqr::SpqrState::recv`]
    /// takes. Not secret, and covered by the MAC.
    pub fn pq_ratchet(&self) -> Option<&[u8]> {
        self.0.pq_ratchet.as_deref()
    }
}

/// A `PreKeySignalMessage` (type 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreKeySignalMessage(pub(crate) PreKeySignalMessageWire);

impl PreKeySignalMessage {
    /// Decodes the binary form.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        PreKeySignalMessageWire::decode(bytes).map(Self)
    }
    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }
    /// The session version (3 X3DH, 4 PQXDH).
    pub fn session_version(&self) -> u8 {
        self.0.fields.session_version
    }
    /// The sender's registration id.
    pub fn registration_id(&self) -> u32 {
        self.0.fields.registration_id
    }
    /// The recipient's one-time prekey id, if one was used.
    pub fn pre_key_id(&self) -> Option<u32> {
        self.0.fields.pre_key_id
    }
    /// The recipient's signed prekey id.
    pub fn signed_pre_key_id(&self) -> u32 {
        self.0.fields.signed_pre_key_id
    }
    /// The recipient's Kyber prekey id (version 4).
    pub fn kyber_pre_key_id(&self) -> Option<u32> {
        self.0.fields.kyber.as_ref().map(|(id, _)| *id)
    }
    /// The sender's base key.
    pub fn base_key(&self) -> Curve25519PublicKey {
        self.0.fields.base_key
    }
    /// The sender's identity key. It is not authenticated by itself: trust it only after the
    /// session it creates has decrypted the message, and then check it against what you know
    /// of the sender.
    pub fn identity_key(&self) -> Curve25519PublicKey {
        self.0.fields.identity_key
    }
    /// The enclosed `SignalMessage`.
    pub fn message(&self) -> SignalMessage {
        SignalMessage(self.0.message.clone())
    }
}

/// A message of an interolm session, as libsignal's `CiphertextMessage` (closed: only the two
/// types a 1:1 session makes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum InterolmMessage {
    /// A `PreKeySignalMessage` (type 3): what the initiator sends until the first reply.
    PreKey(PreKeySignalMessage),
    /// A `SignalMessage` (type 2).
    Whisper(SignalMessage),
}

impl InterolmMessage {
    /// From libsignal's type number and the serialized message.
    ///
    /// # Errors
    /// [`DecodeError::UnknownMessageType`] for a type other than 2 or 3, or a decoding error.
    pub fn from_parts(message_type: usize, body: &[u8]) -> Result<Self, DecodeError> {
        match message_type {
            MESSAGE_TYPE_PRE_KEY => PreKeySignalMessage::from_bytes(body).map(Self::PreKey),
            MESSAGE_TYPE_WHISPER => SignalMessage::from_bytes(body).map(Self::Whisper),
            t => Err(DecodeError::UnknownMessageType(t)),
        }
    }

    /// libsignal's type number and the serialized message.
    pub fn to_parts(&self) -> (usize, Vec<u8>) {
        (self.message_type() as usize, self.to_bytes())
    }

    /// As [`InterolmMessage::from_parts`], with a base64 body.
    ///
    /// # Errors
    /// As [`InterolmMessage::from_parts`], or [`DecodeError::Base64`].
    pub fn from_base64_parts(message_type: usize, body: &str) -> Result<Self, DecodeError> {
        Self::from_parts(message_type, &base64_decode(body).map_err(|_| DecodeError::Base64)?)
    }

    /// The type number and an unpadded base64 body.
    pub fn to_base64_parts(&self) -> (usize, String) {
        (self.message_type() as usize, base64_encode(self.to_bytes()))
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::PreKey(_) => MessageType::PreKey,
            Self::Whisper(_) => MessageType::Whisper,
        }
    }

    /// The serialized message.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::PreKey(m) => m.to_bytes(),
            Self::Whisper(m) => m.to_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_type_numbers_round_trip_and_nothing_else_parses() {
        for t in [MessageType::Whisper, MessageType::PreKey, MessageType::SenderKey, MessageType::Plaintext] {
            assert_eq!(MessageType::from_number(t.number()), Some(t));
        }
        assert_eq!(
            [2, 3, 7, 8].map(|n| MessageType::from_number(n).map(MessageType::number)),
            [Some(2), Some(3), Some(7), Some(8)]
        );
        for n in (0..=u8::MAX).filter(|n| ![2, 3, 7, 8].contains(n)) {
            assert_eq!(MessageType::from_number(n), None, "type {n}");
        }
    }

    /// libsignal 0.90.0's messages (test-vectors/interolm, with the fields its client parsed)
    /// read back field by field, and their type numbers, bytes and base64 forms round trip.
    #[test]
    fn libsignal_messages_read_field_by_field() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../test-vectors/interolm/pqxdh_v4_libsignal-0.90.0.json")).unwrap();
        let b = |k: &serde_json::Value| hex::decode(k.as_str().unwrap()).unwrap();
        let key = |k: &serde_json::Value| crate::wire::signal::decode_public_key(&b(k)).unwrap();
        let n = |k: &serde_json::Value| k.as_u64().unwrap() as u32;
        let check_signal = |m: &SignalMessage, p: &serde_json::Value| {
            assert_eq!((m.version_byte(), m.session_version()), (0x44, 4));
            assert_eq!(
                (m.ratchet_key(), m.counter(), m.previous_counter()),
                (key(&p["ratchet_key"]), n(&p["counter"]), n(&p["previous_counter"]))
            );
            let pq = p["pq_ratchet"].as_str().map(|_| b(&p["pq_ratchet"]));
            assert_eq!((m.has_pq_ratchet(), m.pq_ratchet().map(<[u8]>::to_vec)), (pq.is_some(), pq));
        };
        let (mut pre_key, mut signal) = (0, 0);
        for m in v["messages"].as_array().unwrap() {
            let (t, body, p) = (m["type"].as_u64().unwrap() as usize, b(&m["body"]), &m["parsed"]);
            let message = InterolmMessage::from_parts(t, &body).unwrap();
            assert_eq!((message.to_parts(), message.to_bytes()), ((t, body.clone()), body.clone()));
            assert_eq!(message.message_type().number() as usize, t);
            let (t64, text) = message.to_base64_parts();
            assert_eq!((t64, base64_decode(&text).unwrap()), (t, body.clone()));
            assert_eq!(InterolmMessage::from_base64_parts(t64, &text).unwrap(), message);
            match &message {
                InterolmMessage::PreKey(k) => {
                    pre_key += 1;
                    assert_eq!(k.to_bytes(), body);
                    assert_eq!(
                        (
                            k.session_version(),
                            k.registration_id(),
                            k.pre_key_id(),
                            k.signed_pre_key_id(),
                            k.kyber_pre_key_id()
                        ),
                        (
                            4,
                            n(&p["registration_id"]),
                            Some(n(&p["pre_key_id"])),
                            n(&p["signed_pre_key_id"]),
                            Some(n(&p["kyber_pre_key_id"]))
                        )
                    );
                    assert_eq!((k.base_key(), k.identity_key()), (key(&p["base_key"]), key(&p["identity_key"])));
                    assert_eq!(k.message().to_bytes(), b(&p["message"]));
                }
                InterolmMessage::Whisper(w) => {
                    signal += 1;
                    assert_eq!(w.to_bytes(), body);
                    check_signal(w, p);
                }
            }
        }
        assert_eq!((pre_key, signal), (2, 3));
    }

    /// libsignal 0.72.1 has no SPQR: its messages have no field 5.
    #[test]
    fn messages_without_spqr_have_no_pq_ratchet() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../test-vectors/interolm/pqxdh_v4_libsignal-0.72.1.json")).unwrap();
        let body = hex::decode(v["messages"][4]["body"].as_str().unwrap()).unwrap();
        let m = SignalMessage::from_bytes(&body).unwrap();
        assert_eq!((m.has_pq_ratchet(), m.pq_ratchet()), (false, None));
    }
}
