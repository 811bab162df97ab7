//! Retry receipts: libsignal's `DecryptionErrorMessage` and `PlaintextContent` (message type
//! 8), so that an application can ask a libsignal sender to resend, and answer such a request.
//!
//! When a message does not decrypt, the receiver sends the sender a `DecryptionErrorMessage`
//! (the original message's ratchet key for a 1:1 message, none for a group message, its
//! timestamp and the sender's device id) as a `PlaintextContent`, unencrypted, usually inside a
//! sealed-sender envelope. The sender sees which session failed
//! ([`Session::current_ratchet_key_matches`]): if its current session still uses that ratchet
//! key, it archives the session and starts a new one, then resends.
//!
//! | message | bytes |
//! |---|---|
//! | `DecryptionErrorMessage` | protobuf { 1 `ratchet_key` bytes(33) (absent for group messages), 2 `timestamp` uint64, 3 `device_id` uint32 } |
//! | `PlaintextContent` | `0xC0` ‖ `Content` protobuf { 8 `decryptionErrorMessage` bytes } ‖ `0x80` |
//!
//! ```
//! use caudata::interolm::{DecryptionErrorMessage, MessageType, PlaintextContent};
//!
//! # let failed_message = caudata::interolm::SenderKeyMessage::from_bytes(&{
//! #     let mut r = caudata::interolm::SenderKeyRecord::new();
//! #     let g = caudata::interolm::DistributionId::from_bytes([1; 16]);
//! #     r.create_distribution_message(g).unwrap();
//! #     r.encrypt(g, b"x").unwrap().to_bytes()
//! # }).unwrap().to_bytes();
//! // A group message (type 7) from device 2, sent at 1 700 000 000 000 ms, did not decrypt.
//! let dem = DecryptionErrorMessage::for_original(&failed_message, MessageType::SenderKey, 1_700_000_000_000, 2).unwrap();
//! let retry = PlaintextContent::from_decryption_error_message(&dem);
//! // ... sent as message type 8; the sender reads it back:
//! let received = PlaintextContent::from_bytes(&retry.to_bytes()).unwrap();
//! let request = received.decryption_error_message().unwrap();
//! assert_eq!((request.timestamp(), request.device_id(), request.ratchet_key()), (1_700_000_000_000, 2, None));
//! ```

use super::message::{MessageType, PreKeySignalMessage, SignalMessage};
use super::session::Session;
use crate::consts::MAX_MESSAGE_LENGTH;
use crate::error::DecodeError;
use crate::primitives::{Curve25519PublicKey, ct_eq};
use crate::wire::codec::{Reader, as_bytes, as_u32, as_u64, put_bytes_field, put_varint_field, set_once};
use crate::wire::signal::{PUBLIC_KEY_LENGTH, decode_public_key, encode_public_key};

/// The first byte of a `PlaintextContent` (libsignal's `PLAINTEXT_CONTEXT_IDENTIFIER_BYTE`).
pub(crate) const PLAINTEXT_CONTENT_IDENTIFIER: u8 = 0xC0;
/// The byte that ends a `PlaintextContent`'s `Content` (where padding would start).
pub(crate) const PADDING_BOUNDARY: u8 = 0x80;
/// The `Content` field that holds a `DecryptionErrorMessage`.
const CONTENT_DECRYPTION_ERROR_FIELD: u64 = 8;

/// libsignal's `DecryptionErrorMessage`: a request to resend a message that did not decrypt.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DecryptionErrorMessage {
    ratchet_key: Option<Curve25519PublicKey>,
    timestamp: u64,
    device_id: u32,
    bytes: Vec<u8>,
}

impl DecryptionErrorMessage {
    fn encode(ratchet_key: Option<Curve25519PublicKey>, timestamp: u64, device_id: u32) -> Self {
        let mut bytes = Vec::with_capacity(50);
        if let Some(k) = &ratchet_key {
            put_bytes_field(&mut bytes, 1, &encode_public_key(k));
        }
        put_varint_field(&mut bytes, 2, timestamp);
        put_varint_field(&mut bytes, 3, u64::from(device_id));
        Self { ratchet_key, timestamp, device_id, bytes }
    }

    /// The request for `original` (a message of type `original_type`, as received) sent at
    /// `timestamp` by the device `sender_device_id`: for a 1:1 message it names the message's
    /// ratchet key (for a pre-key message, the one inside), for a group message none.
    ///
    /// # Errors
    /// A [`DecodeError`] if `original` does not decode as its type, and
    /// [`DecodeError::UnknownMessageType`] for a plaintext content (type 8: it was not
    /// encrypted, so it cannot have failed to decrypt).
    pub fn for_original(
        original: &[u8],
        original_type: MessageType,
        timestamp: u64,
        sender_device_id: u32,
    ) -> Result<Self, DecodeError> {
        let ratchet_key = match original_type {
            MessageType::Whisper => Some(SignalMessage::from_bytes(original)?.ratchet_key()),
            MessageType::PreKey => Some(PreKeySignalMessage::from_bytes(original)?.message().ratchet_key()),
            MessageType::SenderKey => None,
            MessageType::Plaintext => return Err(DecodeError::UnknownMessageType(8)),
        };
        Ok(Self::encode(ratchet_key, timestamp, sender_device_id))
    }

    /// Decodes the serialized form. As libsignal, the timestamp is required and the device id
    /// defaults to 0.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LENGTH {
            return Err(DecodeError::TooLong { got: bytes.len(), max: MAX_MESSAGE_LENGTH });
        }
        let (mut key, mut timestamp, mut device) = (None, None, None);
        let mut r = Reader::new(bytes);
        while let Some((field, v)) = r.field()? {
            match field {
                0 => return Err(DecodeError::MalformedField("field number 0")),
                1 => {
                    let b = as_bytes(v, "ratchet key")?;
                    if b.len() != PUBLIC_KEY_LENGTH {
                        return Err(DecodeError::InvalidFieldLength {
                            field: "ratchet key",
                            expected: PUBLIC_KEY_LENGTH,
                            got: b.len(),
                        });
                    }
                    set_once(&mut key, decode_public_key(b)?, "ratchet key")?
                }
                2 => set_once(&mut timestamp, as_u64(v, "timestamp")?, "timestamp")?,
                3 => set_once(&mut device, as_u32(v, "device id")?, "device id")?,
                _ => {}
            }
        }
        Ok(Self {
            ratchet_key: key,
            timestamp: timestamp.ok_or(DecodeError::MissingField("timestamp"))?,
            device_id: device.unwrap_or(0),
            bytes: bytes.to_vec(),
        })
    }

    /// The serialized form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The failed message's ratchet key (`None` for a group message).
    pub fn ratchet_key(&self) -> Option<Curve25519PublicKey> {
        self.ratchet_key
    }

    /// The failed message's timestamp.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The device id of the failed message's sender.
    pub fn device_id(&self) -> u32 {
        self.device_id
    }
}

/// libsignal's `PlaintextContent` (message type 8): content that may travel unencrypted —
/// today only a [`DecryptionErrorMessage`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PlaintextContent {
    bytes: Vec<u8>,
}

impl PlaintextContent {
    /// The plaintext content carrying `message`: `0xC0 ‖ Content{8: message} ‖ 0x80`.
    pub fn from_decryption_error_message(message: &DecryptionErrorMessage) -> Self {
        let mut bytes = Vec::with_capacity(message.bytes.len() + 4);
        bytes.push(PLAINTEXT_CONTENT_IDENTIFIER);
        put_bytes_field(&mut bytes, CONTENT_DECRYPTION_ERROR_FIELD as u8, &message.bytes);
        bytes.push(PADDING_BOUNDARY);
        Self { bytes }
    }

    /// Accepts any bytes that start with `0xC0`, as libsignal does; what follows is read by
    /// [`PlaintextContent::decryption_error_message`].
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] for empty input, [`DecodeError::UnsupportedVersion`] for
    /// another first byte.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LENGTH {
            return Err(DecodeError::TooLong { got: bytes.len(), max: MAX_MESSAGE_LENGTH });
        }
        match bytes.first() {
            None => Err(DecodeError::Truncated("plaintext content")),
            Some(&PLAINTEXT_CONTENT_IDENTIFIER) => Ok(Self { bytes: bytes.to_vec() }),
            Some(&b) => Err(DecodeError::UnsupportedVersion(b)),
        }
    }

    /// The serialized form (what is sent as message type 8).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The body: the serialized `Content` and the padding boundary (what Signal apps decode as
    /// their `Content`).
    pub fn body(&self) -> &[u8] {
        &self.bytes[1..]
    }

    /// The `DecryptionErrorMessage` in the body (libsignal's
    /// `DecryptionErrorMessage.extractFromSerializedBody`): the body must end with `0x80`, and
    /// the `Content` before it must hold field 8.
    ///
    /// # Errors
    /// A [`DecodeError`]: [`DecodeError::MalformedField`] without the boundary byte,
    /// [`DecodeError::MissingField`] without field 8.
    pub fn decryption_error_message(&self) -> Result<DecryptionErrorMessage, DecodeError> {
        let content = match self.body().split_last() {
            Some((&PADDING_BOUNDARY, content)) => content,
            _ => return Err(DecodeError::MalformedField("no padding boundary")),
        };
        let mut dem = None;
        let mut r = Reader::new(content);
        while let Some((field, v)) = r.field()? {
            match field {
                0 => return Err(DecodeError::MalformedField("field number 0")),
                CONTENT_DECRYPTION_ERROR_FIELD => {
                    set_once(&mut dem, as_bytes(v, "decryption error message")?, "decryption error message")?
                }
                _ => {}
            }
        }
        DecryptionErrorMessage::from_bytes(dem.ok_or(DecodeError::MissingField("decryption error message"))?)
    }
}

impl Session {
    /// Whether this session currently sends with `ratchet_key` (libsignal's
    /// `SessionRecord.currentRatchetKeyMatches`): what a sender checks when a
    /// [`DecryptionErrorMessage`] names a ratchet key, before it archives the session.
    pub fn current_ratchet_key_matches(&self, ratchet_key: &Curve25519PublicKey) -> bool {
        self.ratchet.sender.as_ref().is_some_and(|s| ct_eq(s.ratchet_public().as_bytes(), ratchet_key.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refusals() {
        let dem = DecryptionErrorMessage::encode(Some(Curve25519PublicKey::from_bytes([5; 32])), 1234, 3);
        assert_eq!(DecryptionErrorMessage::from_bytes(&dem.to_bytes()).unwrap(), dem);
        let back = DecryptionErrorMessage::from_bytes(&dem.to_bytes()).unwrap();
        assert_eq!(
            (back.ratchet_key(), back.timestamp(), back.device_id()),
            (Some(Curve25519PublicKey::from_bytes([5; 32])), 1234, 3)
        );
        let p = PlaintextContent::from_decryption_error_message(&dem);
        assert_eq!(p.to_bytes()[0], 0xC0);
        assert_eq!(*p.to_bytes().last().unwrap(), 0x80);
        assert_eq!(PlaintextContent::from_bytes(&p.to_bytes()).unwrap().decryption_error_message().unwrap(), dem);
        assert_eq!(PlaintextContent::from_bytes(&[0xC1]), Err(DecodeError::UnsupportedVersion(0xC1)));
        assert!(PlaintextContent::from_bytes(&[0xC0]).unwrap().decryption_error_message().is_err());
        assert_eq!(DecryptionErrorMessage::from_bytes(&[0x18, 1]), Err(DecodeError::MissingField("timestamp")));
    }

    #[test]
    fn the_length_limit_and_field_zero_are_refused() {
        let dem = DecryptionErrorMessage::encode(None, 1, 2);
        // padded with an unknown length-delimited field (5) to `total` bytes
        let padded = |total: usize| {
            let mut b = dem.to_bytes();
            let len = total - b.len() - 4;
            b.extend_from_slice(&[0x2a, (len as u8) | 0x80, ((len >> 7) as u8) | 0x80, (len >> 14) as u8]);
            b.resize(total, 0);
            b
        };
        let largest = DecryptionErrorMessage::from_bytes(&padded(MAX_MESSAGE_LENGTH)).unwrap();
        assert_eq!((largest.ratchet_key(), largest.timestamp(), largest.device_id()), (None, 1, 2));
        assert_eq!(
            DecryptionErrorMessage::from_bytes(&padded(MAX_MESSAGE_LENGTH + 1)),
            Err(DecodeError::TooLong { got: MAX_MESSAGE_LENGTH + 1, max: MAX_MESSAGE_LENGTH })
        );
        // field number 0 (varint 0) before valid fields
        let zero = [&[0x00, 0x00][..], &dem.to_bytes()].concat();
        assert_eq!(DecryptionErrorMessage::from_bytes(&zero), Err(DecodeError::MalformedField("field number 0")));
        let content =
            [&[0xC0, 0x00, 0x00][..], &PlaintextContent::from_decryption_error_message(&dem).to_bytes()[1..]].concat();
        assert_eq!(
            PlaintextContent::from_bytes(&content).unwrap().decryption_error_message(),
            Err(DecodeError::MalformedField("field number 0"))
        );
        // a body without the padding boundary
        let mut unpadded = PlaintextContent::from_decryption_error_message(&dem).to_bytes();
        unpadded.pop();
        assert_eq!(
            PlaintextContent::from_bytes(&unpadded).unwrap().decryption_error_message(),
            Err(DecodeError::MalformedField("no padding boundary"))
        );
    }

    #[test]
    fn plaintext_contents_are_read_up_to_the_message_length_limit() {
        let mut bytes = vec![0u8; MAX_MESSAGE_LENGTH];
        bytes[0] = 0xC0;
        assert_eq!(PlaintextContent::from_bytes(&bytes).unwrap().to_bytes(), bytes);
        bytes.push(0);
        assert_eq!(
            PlaintextContent::from_bytes(&bytes),
            Err(DecodeError::TooLong { got: MAX_MESSAGE_LENGTH + 1, max: MAX_MESSAGE_LENGTH })
        );
        assert_eq!(PlaintextContent::from_bytes(&[]), Err(DecodeError::Truncated("plaintext content")));
    }

    /// The sender's check before it archives a session on a retry request: only the ratchet
    /// key it sends with now matches: not another key, and not in the receiver's session.
    #[test]
    fn only_the_current_sending_ratchet_key_matches() {
        use crate::interolm::{Account, InterolmMessage};
        let alice = Account::new();
        let mut bob = Account::new();
        bob.generate_signed_pre_key();
        bob.generate_kyber_pre_key(false);
        let mut session = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
        let sent = session.encrypt(b"hi").unwrap();
        let InterolmMessage::PreKey(m) = &sent else { panic!("not a pre-key message") };
        let request = DecryptionErrorMessage::for_original(&sent.to_bytes(), sent.message_type(), 1, 1).unwrap();
        let key = request.ratchet_key().unwrap();
        assert_eq!(key, m.message().ratchet_key());
        assert!(session.current_ratchet_key_matches(&key));
        assert!(!session.current_ratchet_key_matches(&Curve25519PublicKey::from_bytes([9; 32])));
        let received = bob.create_inbound_session(m).unwrap();
        assert!(!received.session.current_ratchet_key_matches(&key));
    }
}
