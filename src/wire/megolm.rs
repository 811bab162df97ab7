//! Megolm message and session-key codecs (Matrix `m.megolm.v1.aes-sha2`).
//!
//! Message:
//!
//! | bytes | content |
//! |---|---|
//! | 1 | version: `0x03` (8-byte MAC, libolm) or `0x04` (32-byte MAC) |
//! | 1 + varint | `0x08` message index |
//! | 1 + varint + n | `0x12` ciphertext |
//! | 8 or 32 | HMAC-SHA-256 over version and payload |
//! | 64 | Ed25519 signature over everything before it |
//!
//! Session key (v2, 229 bytes): `0x02 ‖ u32 BE index ‖ ratchet (128) ‖ Ed25519 key (32) ‖
//! signature (64)` over the first 165 bytes. Exported session key (v1, 165 bytes): `0x01 ‖ u32
//! BE index ‖ ratchet (128) ‖ Ed25519 key (32)`.

use super::codec::{Reader, as_bytes, as_u32, put_bytes_field, put_varint_field, set_once};
use crate::consts::MAX_MESSAGE_LENGTH;
use crate::error::DecodeError;

/// Version byte with an 8-byte MAC.
pub const VERSION_TRUNCATED_MAC: u8 = 3;
/// Version byte with a 32-byte MAC.
pub const VERSION_FULL_MAC: u8 = 4;
/// Signature length.
pub const SIGNATURE_LEN: usize = 64;

/// A decoded Megolm message; `bytes` are exactly what was received.
#[derive(Clone, PartialEq, Eq)]
pub struct MegolmMessageWire {
    /// Version byte.
    pub version: u8,
    /// The ratchet index the message was encrypted at.
    pub message_index: u32,
    /// AES-256-CBC ciphertext.
    pub ciphertext: Vec<u8>,
    bytes: Vec<u8>,
    mac_len: usize,
}

impl MegolmMessageWire {
    /// MAC length for a version byte.
    pub const fn mac_len_for(version: u8) -> usize {
        if version == VERSION_FULL_MAC { 32 } else { 8 }
    }

    /// Encodes; `mac` gets the bytes to MAC, `sign` the bytes to sign.
    pub fn encode(
        version: u8,
        message_index: u32,
        ciphertext: Vec<u8>,
        mac: impl FnOnce(&[u8]) -> [u8; 32],
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Self {
        let mac_len = Self::mac_len_for(version);
        let mut out = Vec::with_capacity(ciphertext.len() + 16 + mac_len + SIGNATURE_LEN);
        out.push(version);
        put_varint_field(&mut out, 1, u64::from(message_index));
        put_bytes_field(&mut out, 2, &ciphertext);
        let tag = mac(&out);
        out.extend_from_slice(&tag[..mac_len]);
        let sig = sign(&out);
        out.extend_from_slice(&sig);
        Self { version, message_index, ciphertext, bytes: out, mac_len }
    }

    /// Decodes a message.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the problem.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LENGTH {
            return Err(DecodeError::TooLong { got: bytes.len(), max: MAX_MESSAGE_LENGTH });
        }
        let version = *bytes.first().ok_or(DecodeError::Truncated("version"))?;
        if version != VERSION_TRUNCATED_MAC && version != VERSION_FULL_MAC {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let mac_len = Self::mac_len_for(version);
        if bytes.len() < 1 + mac_len + SIGNATURE_LEN {
            return Err(DecodeError::Truncated("MAC and signature"));
        }
        let body = &bytes[1..bytes.len() - mac_len - SIGNATURE_LEN];
        let (mut idx, mut ct) = (None, None);
        let mut r = Reader::new(body);
        while let Some((field, v)) = r.field()? {
            match field {
                1 => set_once(&mut idx, as_u32(v, "message index")?, "message index")?,
                2 => set_once(&mut ct, as_bytes(v, "ciphertext")?, "ciphertext")?,
                _ => {}
            }
        }
        Ok(Self {
            version,
            message_index: idx.ok_or(DecodeError::MissingField("message index"))?,
            ciphertext: ct.ok_or(DecodeError::MissingField("ciphertext"))?.to_vec(),
            bytes: bytes.to_vec(),
            mac_len,
        })
    }

    /// Bytes covered by the signature.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.bytes[..self.bytes.len() - SIGNATURE_LEN]
    }
    /// Bytes covered by the MAC.
    pub fn authenticated_bytes(&self) -> &[u8] {
        &self.bytes[..self.bytes.len() - SIGNATURE_LEN - self.mac_len]
    }
    /// The MAC as received.
    pub fn mac(&self) -> &[u8] {
        let end = self.bytes.len() - SIGNATURE_LEN;
        &self.bytes[end - self.mac_len..end]
    }
    /// The signature as received.
    pub fn signature(&self) -> [u8; 64] {
        let mut s = [0u8; 64];
        s.copy_from_slice(&self.bytes[self.bytes.len() - SIGNATURE_LEN..]);
        s
    }
    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for MegolmMessageWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MegolmMessageWire")
            .field("version", &self.version)
            .field("message_index", &self.message_index)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}
