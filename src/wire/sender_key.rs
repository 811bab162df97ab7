//! Sender keys (libsignal's group messages): `SenderKeyMessage` (message type 7) and
//! `SenderKeyDistributionMessage`, byte-compatible with libsignal 0.72.1 … 0.103.0.
//!
//! `SenderKeyMessage`:
//!
//! | bytes | content |
//! |---|---|
//! | 1 | version byte `0x33` (`3 << 4 \| 3`) |
//! | 2 + 16 | `0x0A 0x10` distribution id (a UUID, 16 bytes) |
//! | 1 + varint | `0x10` chain id |
//! | 1 + varint | `0x18` iteration (the message key's index in the chain) |
//! | 1 + varint + n | `0x22` AES-256-CBC ciphertext |
//! | 64 | XEdDSA signature by the chain's signing key over all bytes above |
//!
//! `SenderKeyDistributionMessage` (sent inside a 1:1 session; it carries a chain key):
//!
//! | bytes | content |
//! |---|---|
//! | 1 | version byte `0x33` |
//! | 2 + 16 | `0x0A 0x10` distribution id |
//! | 1 + varint | `0x10` chain id |
//! | 1 + varint | `0x18` iteration of the chain key below |
//! | 2 + 32 | `0x22 0x20` chain key |
//! | 2 + 33 | `0x2A 0x21` signing key `0x05 ‖ u` |
//!
//! Decoders look only at the version byte's high nibble (as libsignal): below 3 is too old,
//! above 3 unknown. They accept fields in any order, skip unknown fields, refuse duplicates of
//! known ones and field number 0, and keep the received bytes (the signature covers them).

use zeroize::Zeroizing;

use super::codec::{Reader, as_bytes, as_u32, put_bytes_field, put_varint_field, set_once};
use super::signal::{PUBLIC_KEY_LENGTH, decode_public_key, encode_public_key};
use crate::consts::MAX_MESSAGE_LENGTH;
use crate::error::DecodeError;
use crate::primitives::{Curve25519PublicKey, SecretBytes};

/// The sender-key message version (libsignal's `SENDERKEY_MESSAGE_CURRENT_VERSION`).
pub const SENDER_KEY_VERSION: u8 = 3;
/// The version byte of both sender-key messages.
pub const SENDER_KEY_VERSION_BYTE: u8 = (SENDER_KEY_VERSION << 4) | SENDER_KEY_VERSION;
/// Message type number of a `SenderKeyMessage` (libsignal `CiphertextMessageType::SenderKey`).
pub const MESSAGE_TYPE_SENDER_KEY: usize = 7;
/// Length of the signature that ends a `SenderKeyMessage`.
pub const SIGNATURE_LENGTH: usize = 64;

fn check_version(bytes: &[u8]) -> Result<u8, DecodeError> {
    if bytes.len() > MAX_MESSAGE_LENGTH {
        return Err(DecodeError::TooLong { got: bytes.len(), max: MAX_MESSAGE_LENGTH });
    }
    let version = *bytes.first().ok_or(DecodeError::Truncated("version"))?;
    match version >> 4 {
        v if v < SENDER_KEY_VERSION => Err(DecodeError::LegacyVersion(version)),
        v if v > SENDER_KEY_VERSION => Err(DecodeError::UnsupportedVersion(version)),
        _ => Ok(version),
    }
}

fn uuid_field(v: super::codec::Value<'_>) -> Result<[u8; 16], DecodeError> {
    let b = as_bytes(v, "distribution id")?;
    b.try_into().map_err(|_| DecodeError::InvalidFieldLength { field: "distribution id", expected: 16, got: b.len() })
}

/// A decoded `SenderKeyMessage`; `bytes` are the exact bytes received (or sent).
#[derive(Clone, PartialEq, Eq)]
pub struct SenderKeyMessageWire {
    /// The version byte as received.
    pub version: u8,
    /// The distribution id (UUID bytes).
    pub distribution_id: [u8; 16],
    /// The chain id.
    pub chain_id: u32,
    /// The message key's iteration.
    pub iteration: u32,
    /// AES-256-CBC ciphertext.
    pub ciphertext: Vec<u8>,
    bytes: Vec<u8>,
}

impl SenderKeyMessageWire {
    /// Encodes a message; `sign` gets the bytes to sign and returns the 64-byte signature.
    pub fn encode(
        distribution_id: &[u8; 16],
        chain_id: u32,
        iteration: u32,
        ciphertext: Vec<u8>,
        sign: impl FnOnce(&[u8]) -> [u8; SIGNATURE_LENGTH],
    ) -> Self {
        let mut out = Vec::with_capacity(ciphertext.len() + 100);
        out.push(SENDER_KEY_VERSION_BYTE);
        put_bytes_field(&mut out, 1, distribution_id);
        put_varint_field(&mut out, 2, u64::from(chain_id));
        put_varint_field(&mut out, 3, u64::from(iteration));
        put_bytes_field(&mut out, 4, &ciphertext);
        let sig = sign(&out);
        out.extend_from_slice(&sig);
        Self {
            version: SENDER_KEY_VERSION_BYTE,
            distribution_id: *distribution_id,
            chain_id,
            iteration,
            ciphertext,
            bytes: out,
        }
    }

    /// Decodes a `SenderKeyMessage` (the signature is checked by whoever holds the key).
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let version = check_version(bytes)?;
        if bytes.len() < 1 + SIGNATURE_LENGTH {
            return Err(DecodeError::Truncated("signature"));
        }
        let body = &bytes[1..bytes.len() - SIGNATURE_LENGTH];
        let (mut id, mut chain, mut iteration, mut ct) = (None, None, None, None);
        let mut r = Reader::new(body);
        while let Some((field, v)) = r.field()? {
            match field {
                0 => return Err(DecodeError::MalformedField("field number 0")),
                1 => set_once(&mut id, uuid_field(v)?, "distribution id")?,
                2 => set_once(&mut chain, as_u32(v, "chain id")?, "chain id")?,
                3 => set_once(&mut iteration, as_u32(v, "iteration")?, "iteration")?,
                4 => set_once(&mut ct, as_bytes(v, "ciphertext")?, "ciphertext")?,
                _ => {}
            }
        }
        Ok(Self {
            version,
            distribution_id: id.ok_or(DecodeError::MissingField("distribution id"))?,
            chain_id: chain.ok_or(DecodeError::MissingField("chain id"))?,
            iteration: iteration.ok_or(DecodeError::MissingField("iteration"))?,
            ciphertext: ct.ok_or(DecodeError::MissingField("ciphertext"))?.to_vec(),
            bytes: bytes.to_vec(),
        })
    }

    /// The bytes the signature covers (version byte and protobuf, as received).
    pub fn signed_bytes(&self) -> &[u8] {
        &self.bytes[..self.bytes.len() - SIGNATURE_LENGTH]
    }

    /// The signature as received.
    pub fn signature(&self) -> &[u8] {
        &self.bytes[self.bytes.len() - SIGNATURE_LENGTH..]
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for SenderKeyMessageWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SenderKeyMessageWire")
            .field("version", &self.version)
            .field("chain_id", &self.chain_id)
            .field("iteration", &self.iteration)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// A decoded `SenderKeyDistributionMessage`. It holds a chain key: the fields and the encoded
/// bytes are wiped on drop, and `Debug` prints neither.
#[derive(Clone, PartialEq, Eq)]
pub struct SenderKeyDistributionWire {
    /// The version byte as received.
    pub version: u8,
    /// The distribution id (UUID bytes).
    pub distribution_id: [u8; 16],
    /// The chain id.
    pub chain_id: u32,
    /// The iteration of `chain_key`.
    pub iteration: u32,
    /// The chain key at `iteration`.
    pub chain_key: SecretBytes<32>,
    /// The chain's signing key.
    pub signing_key: Curve25519PublicKey,
    bytes: Zeroizing<Vec<u8>>,
}

impl SenderKeyDistributionWire {
    /// Encodes a distribution message (fields in libsignal's order).
    pub fn encode(
        distribution_id: &[u8; 16],
        chain_id: u32,
        iteration: u32,
        chain_key: &SecretBytes<32>,
        signing_key: &Curve25519PublicKey,
    ) -> Self {
        let mut out = Zeroizing::new(Vec::with_capacity(110));
        out.push(SENDER_KEY_VERSION_BYTE);
        put_bytes_field(&mut out, 1, distribution_id);
        put_varint_field(&mut out, 2, u64::from(chain_id));
        put_varint_field(&mut out, 3, u64::from(iteration));
        put_bytes_field(&mut out, 4, chain_key.expose());
        put_bytes_field(&mut out, 5, &encode_public_key(signing_key));
        Self {
            version: SENDER_KEY_VERSION_BYTE,
            distribution_id: *distribution_id,
            chain_id,
            iteration,
            chain_key: chain_key.clone(),
            signing_key: *signing_key,
            bytes: out,
        }
    }

    /// Decodes a distribution message. The signing key is parsed (`0x05 ‖ u`, 33 bytes) but not
    /// validated here; a record refuses a non-canonical or small-order key when it stores one.
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let version = check_version(bytes)?;
        let (mut id, mut chain, mut iteration, mut key, mut signing) = (None, None, None, None, None);
        let mut r = Reader::new(&bytes[1..]);
        while let Some((field, v)) = r.field()? {
            match field {
                0 => return Err(DecodeError::MalformedField("field number 0")),
                1 => set_once(&mut id, uuid_field(v)?, "distribution id")?,
                2 => set_once(&mut chain, as_u32(v, "chain id")?, "chain id")?,
                3 => set_once(&mut iteration, as_u32(v, "iteration")?, "iteration")?,
                4 => {
                    let b = as_bytes(v, "chain key")?;
                    let k = SecretBytes::<32>::from_slice(b).ok_or(DecodeError::InvalidFieldLength {
                        field: "chain key",
                        expected: 32,
                        got: b.len(),
                    })?;
                    set_once(&mut key, k, "chain key")?
                }
                5 => {
                    let b = as_bytes(v, "signing key")?;
                    if b.len() != PUBLIC_KEY_LENGTH {
                        return Err(DecodeError::InvalidFieldLength {
                            field: "signing key",
                            expected: PUBLIC_KEY_LENGTH,
                            got: b.len(),
                        });
                    }
                    set_once(&mut signing, decode_public_key(b)?, "signing key")?
                }
                _ => {}
            }
        }
        Ok(Self {
            version,
            distribution_id: id.ok_or(DecodeError::MissingField("distribution id"))?,
            chain_id: chain.ok_or(DecodeError::MissingField("chain id"))?,
            iteration: iteration.ok_or(DecodeError::MissingField("iteration"))?,
            chain_key: key.ok_or(DecodeError::MissingField("chain key"))?,
            signing_key: signing.ok_or(DecodeError::MissingField("signing key"))?,
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// The encoded message (it holds the chain key: send it only inside an encrypted session).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for SenderKeyDistributionWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SenderKeyDistributionWire")
            .field("version", &self.version)
            .field("chain_id", &self.chain_id)
            .field("iteration", &self.iteration)
            .field("signing_key", &self.signing_key)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_version_rules() {
        let id = [7u8; 16];
        let m = SenderKeyMessageWire::encode(&id, 5, 300, vec![1; 32], |_| [9; 64]);
        assert_eq!(m.as_bytes()[0], 0x33);
        assert_eq!(SenderKeyMessageWire::decode(m.as_bytes()).unwrap(), m);
        let mut b = m.as_bytes().to_vec();
        b[0] = 0x23;
        assert_eq!(SenderKeyMessageWire::decode(&b), Err(DecodeError::LegacyVersion(0x23)));
        b[0] = 0x43;
        assert_eq!(SenderKeyMessageWire::decode(&b), Err(DecodeError::UnsupportedVersion(0x43)));
        b[0] = 0x3F; // only the high nibble counts
        assert!(SenderKeyMessageWire::decode(&b).is_ok());
        assert_eq!(SenderKeyMessageWire::decode(&[0x33; 64]), Err(DecodeError::Truncated("signature")));

        let key = SecretBytes::from_slice(&[3; 32]).unwrap();
        let pk = Curve25519PublicKey::from_bytes([4; 32]);
        let d = SenderKeyDistributionWire::encode(&id, 5, 9, &key, &pk);
        let back = SenderKeyDistributionWire::decode(d.as_bytes()).unwrap();
        assert_eq!(back, d);
        assert!(!format!("{d:?}").contains("030303"));
    }
}
