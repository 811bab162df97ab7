//! Olm message codecs (Matrix `m.olm.v1.curve25519-aes-sha2`).
//!
//! Normal message (Matrix type 1):
//!
//! | bytes | content |
//! |---|---|
//! | 1 | version: `0x03` (8-byte MAC, libolm) or `0x04` (32-byte MAC) |
//! | 2 + 32 | `0x0A 0x20` ratchet key |
//! | 1 + varint | `0x10` chain index (always written, even when 0: libolm requires it) |
//! | 1 + varint + n | `0x22` ciphertext |
//! | 8 or 32 | HMAC-SHA-256 over everything before it |
//!
//! Pre-key message (Matrix type 0, no MAC of its own): `0x03`, then `0x0A` one-time key,
//! `0x12` base key, `0x1A` identity key (32 bytes each), `0x22` the encoded normal message.
//!
//! Decoding accepts fields in any order and skips unknown fields (as libolm and protobuf do),
//! refuses duplicates of known fields, and requires every field that libolm requires.

use super::codec::{Reader, as_array, as_bytes, as_u32, put_bytes_field, put_varint_field, set_once};
use crate::consts::MAX_MESSAGE_LENGTH;
use crate::error::DecodeError;
use crate::primitives::Curve25519PublicKey;

/// Version byte of a normal message with an 8-byte MAC (libolm).
pub const VERSION_TRUNCATED_MAC: u8 = 3;
/// Version byte of a normal message with a full 32-byte MAC.
pub const VERSION_FULL_MAC: u8 = 4;
/// Version byte of a pre-key message.
pub const PRE_KEY_VERSION: u8 = 3;

/// A decoded Olm normal message. `bytes` are the exact bytes received.
#[derive(Clone, PartialEq, Eq)]
pub struct NormalMessageWire {
    /// Version byte (3 or 4).
    pub version: u8,
    /// The sender's ratchet key.
    pub ratchet_key: Curve25519PublicKey,
    /// Index of the message in its chain.
    pub chain_index: u32,
    /// AES-256-CBC ciphertext.
    pub ciphertext: Vec<u8>,
    bytes: Vec<u8>,
    mac_len: usize,
}

impl NormalMessageWire {
    /// MAC length for a version byte.
    pub const fn mac_len_for(version: u8) -> usize {
        if version == VERSION_FULL_MAC { 32 } else { 8 }
    }

    /// Encodes the message; `mac` is called on the bytes to authenticate and returns the full
    /// 32-byte HMAC, of which the version decides how much is appended.
    pub fn encode(
        version: u8,
        ratchet_key: &Curve25519PublicKey,
        chain_index: u32,
        ciphertext: Vec<u8>,
        mac: impl FnOnce(&[u8]) -> [u8; 32],
    ) -> Self {
        let mac_len = Self::mac_len_for(version);
        let mut out = Vec::with_capacity(ciphertext.len() + 48 + mac_len);
        out.push(version);
        put_bytes_field(&mut out, 1, ratchet_key.as_bytes());
        put_varint_field(&mut out, 2, u64::from(chain_index));
        put_bytes_field(&mut out, 4, &ciphertext);
        let tag = mac(&out);
        out.extend_from_slice(&tag[..mac_len]);
        Self { version, ratchet_key: *ratchet_key, chain_index, ciphertext, bytes: out, mac_len }
    }

    /// Decodes a normal message.
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LENGTH {
            return Err(DecodeError::TooLong { got: bytes.len(), max: MAX_MESSAGE_LENGTH });
        }
        let version = *bytes.first().ok_or(DecodeError::Truncated("version"))?;
        if version != VERSION_TRUNCATED_MAC && version != VERSION_FULL_MAC {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let mac_len = Self::mac_len_for(version);
        if bytes.len() < 1 + mac_len {
            return Err(DecodeError::Truncated("MAC"));
        }
        let body = &bytes[1..bytes.len() - mac_len];
        let (mut rk, mut idx, mut ct) = (None, None, None);
        let mut r = Reader::new(body);
        while let Some((field, v)) = r.field()? {
            match field {
                1 => set_once(&mut rk, as_array::<32>(v, "ratchet key")?, "ratchet key")?,
                2 => set_once(&mut idx, as_u32(v, "chain index")?, "chain index")?,
                4 => set_once(&mut ct, as_bytes(v, "ciphertext")?, "ciphertext")?,
                _ => {}
            }
        }
        Ok(Self {
            version,
            ratchet_key: Curve25519PublicKey::from_bytes(rk.ok_or(DecodeError::MissingField("ratchet key"))?),
            chain_index: idx.ok_or(DecodeError::MissingField("chain index"))?,
            ciphertext: ct.ok_or(DecodeError::MissingField("ciphertext"))?.to_vec(),
            bytes: bytes.to_vec(),
            mac_len,
        })
    }

    /// The bytes the MAC covers (version and payload, as received).
    pub fn authenticated_bytes(&self) -> &[u8] {
        &self.bytes[..self.bytes.len() - self.mac_len]
    }

    /// The MAC as received.
    pub fn mac(&self) -> &[u8] {
        &self.bytes[self.bytes.len() - self.mac_len..]
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for NormalMessageWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NormalMessageWire")
            .field("version", &self.version)
            .field("ratchet_key", &self.ratchet_key)
            .field("chain_index", &self.chain_index)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// A decoded Olm pre-key message.
#[derive(Clone, PartialEq, Eq)]
pub struct PreKeyMessageWire {
    /// The receiver's one-time (or fallback) key the sender used.
    pub one_time_key: Curve25519PublicKey,
    /// The sender's ephemeral base key.
    pub base_key: Curve25519PublicKey,
    /// The sender's identity key.
    pub identity_key: Curve25519PublicKey,
    /// The enclosed normal message.
    pub message: NormalMessageWire,
    bytes: Vec<u8>,
}

impl PreKeyMessageWire {
    /// Encodes a pre-key message around an encoded normal message.
    pub fn encode(
        one_time_key: Curve25519PublicKey,
        base_key: Curve25519PublicKey,
        identity_key: Curve25519PublicKey,
        message: NormalMessageWire,
    ) -> Self {
        let mut out = Vec::with_capacity(message.as_bytes().len() + 110);
        out.push(PRE_KEY_VERSION);
        put_bytes_field(&mut out, 1, one_time_key.as_bytes());
        put_bytes_field(&mut out, 2, base_key.as_bytes());
        put_bytes_field(&mut out, 3, identity_key.as_bytes());
        put_bytes_field(&mut out, 4, message.as_bytes());
        Self { one_time_key, base_key, identity_key, message, bytes: out }
    }

    /// Decodes a pre-key message and the normal message inside it.
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LENGTH {
            return Err(DecodeError::TooLong { got: bytes.len(), max: MAX_MESSAGE_LENGTH });
        }
        let version = *bytes.first().ok_or(DecodeError::Truncated("version"))?;
        if version != PRE_KEY_VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let (mut otk, mut base, mut id, mut msg) = (None, None, None, None);
        let mut r = Reader::new(&bytes[1..]);
        while let Some((field, v)) = r.field()? {
            match field {
                1 => set_once(&mut otk, as_array::<32>(v, "one-time key")?, "one-time key")?,
                2 => set_once(&mut base, as_array::<32>(v, "base key")?, "base key")?,
                3 => set_once(&mut id, as_array::<32>(v, "identity key")?, "identity key")?,
                4 => set_once(&mut msg, as_bytes(v, "message")?, "message")?,
                _ => {}
            }
        }
        let message = NormalMessageWire::decode(msg.ok_or(DecodeError::MissingField("message"))?)?;
        Ok(Self {
            one_time_key: Curve25519PublicKey::from_bytes(otk.ok_or(DecodeError::MissingField("one-time key"))?),
            base_key: Curve25519PublicKey::from_bytes(base.ok_or(DecodeError::MissingField("base key"))?),
            identity_key: Curve25519PublicKey::from_bytes(id.ok_or(DecodeError::MissingField("identity key"))?),
            message,
            bytes: bytes.to_vec(),
        })
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for PreKeyMessageWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreKeyMessageWire")
            .field("one_time_key", &self.one_time_key)
            .field("base_key", &self.base_key)
            .field("identity_key", &self.identity_key)
            .field("message", &self.message)
            .finish()
    }
}
