//! Sealed sender (libsignal's `UnidentifiedSenderMessage`): certificates, the sealed content,
//! and the v1, v2 and multi-recipient envelopes, byte-compatible with libsignal 0.72.1 …
//! 0.103.0. Only bytes ↔ structs here; the cryptography is in `crate::interolm::sealed_sender`.
//!
//! **Certificates** (protobuf; each signature is XEdDSA over the exact `certificate` bytes):
//!
//! | message | fields |
//! |---|---|
//! | `ServerCertificate` | 1 `certificate` bytes, 2 `signature` bytes(64) |
//! | `ServerCertificate.Certificate` | 1 `id` uint32, 2 `key` bytes(33) |
//! | `SenderCertificate` | 1 `certificate` bytes, 2 `signature` bytes(64) |
//! | `SenderCertificate.Certificate` | 1 `senderE164` string (optional), 2 `senderDevice` uint32 (1 … 127), 3 `expires` fixed64, 4 `identityKey` bytes(33), 5 `signer` `ServerCertificate`, 6 `senderUuid` string |
//!
//! **Content** (`UnidentifiedSenderMessage.Message`, "USMC"): 1 `type` (1 PreKey, 2 Whisper,
//! 7 SenderKey, 8 Plaintext), 2 `senderCertificate` bytes, 3 `content` bytes, 4 `contentHint`
//! (absent = default, 1 resendable, 2 implicit, others kept), 5 `groupId` bytes (absent when
//! none or empty).
//!
//! **Envelopes** (the first byte is `required_version << 4 | current_version`):
//!
//! | version byte | layout |
//! |---|---|
//! | `0x11` (v1) | protobuf { 1 `ephemeralPublic` bytes(33), 2 `encryptedStatic` bytes, 3 `encryptedMessage` bytes } |
//! | `0x22` (v2, as received) | `C`(32) ‖ `AT`(16) ‖ `E`(32, no type byte) ‖ AES-GCM-SIV ciphertext |
//! | `0x23` (v2 multi-recipient, as sent to the server) | varint count ‖ count × recipient ‖ `E`(32) ‖ ciphertext |
//!
//! A multi-recipient entry is a ServiceId (17 bytes: kind 0 ACI / 1 PNI, UUID) followed by
//! devices `varint device id ‖ u16 BE registration id` (bit 15 set when another device of the
//! same recipient follows; registration ids are 14 bits) and then `C ‖ AT` (48 bytes), shared
//! by the recipient's devices. An excluded recipient is its ServiceId and the device id 0,
//! nothing else. The server hands each device `0x22 ‖ C ‖ AT ‖ E ‖ ciphertext`.
//!
//! Receivers look at the version byte's high nibble: 1 is v1, 2 is v2; 0 (which libsignal
//! reads as v1) and anything above 2 are refused.

use super::codec::{
    Reader, Value, as_bytes, as_fixed64, as_u32, put_bytes_field, put_fixed64_field, put_varint, put_varint_field,
    set_once,
};
use super::signal::{PUBLIC_KEY_LENGTH, decode_public_key, encode_public_key};
use crate::consts::MAX_MESSAGE_LENGTH;
use crate::error::DecodeError;
use crate::primitives::Curve25519PublicKey;

/// Sealed sender version 1.
pub const SEALED_SENDER_V1: u8 = 1;
/// Sealed sender version 2.
pub const SEALED_SENDER_V2: u8 = 2;
/// The version byte of a v1 envelope.
pub const V1_VERSION_BYTE: u8 = 0x11;
/// The version byte of a v2 envelope as a recipient receives it.
pub const V2_VERSION_BYTE: u8 = 0x22;
/// The version byte of a multi-recipient v2 message (ServiceIds of 17 bytes).
pub const MULTI_RECIPIENT_VERSION_BYTE: u8 = 0x23;
/// Length of `C`, the encrypted message key of v2.
pub const V2_MESSAGE_KEY_LENGTH: usize = 32;
/// Length of `AT`, the authentication tag of v2.
pub const V2_AUTH_TAG_LENGTH: usize = 16;
/// Length of a ServiceId in its fixed-width binary form (kind byte ‖ UUID).
pub const SERVICE_ID_LENGTH: usize = 17;
/// Multi-recipient registration ids are 14 bits.
pub const MAX_MULTI_RECIPIENT_REGISTRATION_ID: u32 = 0x3FFF;
/// Server certificate ids that are refused whatever their signature (libsignal's
/// `REVOKED_SERVER_CERTIFICATE_KEY_IDS`; `0xDEADC357` is its test id for the revocation logic).
pub const REVOKED_SERVER_CERTIFICATE_KEY_IDS: [u32; 1] = [0xDEAD_C357];

fn check_length(bytes: &[u8]) -> Result<(), DecodeError> {
    if bytes.len() > MAX_MESSAGE_LENGTH {
        return Err(DecodeError::TooLong { got: bytes.len(), max: MAX_MESSAGE_LENGTH });
    }
    Ok(())
}

fn signature_field(v: Value<'_>, name: &'static str) -> Result<[u8; 64], DecodeError> {
    let b = as_bytes(v, name)?;
    b.try_into().map_err(|_| DecodeError::InvalidFieldLength { field: name, expected: 64, got: b.len() })
}

fn key_field(v: Value<'_>, name: &'static str) -> Result<Curve25519PublicKey, DecodeError> {
    let b = as_bytes(v, name)?;
    if b.len() != PUBLIC_KEY_LENGTH {
        return Err(DecodeError::InvalidFieldLength { field: name, expected: PUBLIC_KEY_LENGTH, got: b.len() });
    }
    Ok(decode_public_key(b)?)
}

fn string_field(v: Value<'_>, name: &'static str) -> Result<String, DecodeError> {
    let b = as_bytes(v, name)?;
    core::str::from_utf8(b).map(str::to_owned).map_err(|_| DecodeError::MalformedField(name))
}

/// `{1 certificate, 2 signature}`, the outer layout of both certificates.
fn decode_signed<'a>(bytes: &'a [u8], what: &'static str) -> Result<(&'a [u8], [u8; 64]), DecodeError> {
    let (mut cert, mut sig) = (None, None);
    let mut r = Reader::new(bytes);
    while let Some((field, v)) = r.field()? {
        match field {
            0 => return Err(DecodeError::MalformedField("field number 0")),
            1 => set_once(&mut cert, as_bytes(v, what)?, what)?,
            2 => set_once(&mut sig, signature_field(v, "certificate signature")?, "certificate signature")?,
            _ => {}
        }
    }
    Ok((cert.ok_or(DecodeError::MissingField(what))?, sig.ok_or(DecodeError::MissingField("certificate signature"))?))
}

fn encode_signed(certificate: &[u8], signature: &[u8; 64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(certificate.len() + 70);
    put_bytes_field(&mut out, 1, certificate);
    put_bytes_field(&mut out, 2, signature);
    out
}

/// A decoded `ServerCertificate`: the key a server signs sender certificates with, certified
/// by a trust root.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServerCertificateWire {
    /// The certificate id.
    pub key_id: u32,
    /// The server's signing key.
    pub key: Curve25519PublicKey,
    certificate: Vec<u8>,
    signature: [u8; 64],
    bytes: Vec<u8>,
}

impl ServerCertificateWire {
    /// Encodes a certificate; `sign` signs the inner `certificate` bytes (with the trust root).
    pub fn encode(key_id: u32, key: &Curve25519PublicKey, sign: impl FnOnce(&[u8]) -> [u8; 64]) -> Self {
        let mut certificate = Vec::with_capacity(45);
        put_varint_field(&mut certificate, 1, u64::from(key_id));
        put_bytes_field(&mut certificate, 2, &encode_public_key(key));
        let signature = sign(&certificate);
        let bytes = encode_signed(&certificate, &signature);
        Self { key_id, key: *key, certificate, signature, bytes }
    }

    /// Decodes a server certificate (its signature is checked by the trust root's holder).
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_length(bytes)?;
        let (certificate, signature) = decode_signed(bytes, "server certificate")?;
        let (mut id, mut key) = (None, None);
        let mut r = Reader::new(certificate);
        while let Some((field, v)) = r.field()? {
            match field {
                0 => return Err(DecodeError::MalformedField("field number 0")),
                1 => set_once(&mut id, as_u32(v, "server certificate id")?, "server certificate id")?,
                2 => set_once(&mut key, key_field(v, "server key")?, "server key")?,
                _ => {}
            }
        }
        Ok(Self {
            key_id: id.ok_or(DecodeError::MissingField("server certificate id"))?,
            key: key.ok_or(DecodeError::MissingField("server key"))?,
            certificate: certificate.to_vec(),
            signature,
            bytes: bytes.to_vec(),
        })
    }

    /// The signed bytes (`ServerCertificate.Certificate` as received).
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    /// The trust root's signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The encoded certificate.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The fields a `SenderCertificate` certifies.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SenderCertificateFields {
    /// The sender's ACI as a UUID string (libsignal's `senderUuid`).
    pub sender_uuid: String,
    /// The sender's phone number, if the server included it.
    pub sender_e164: Option<String>,
    /// The sender's device id.
    pub device_id: u32,
    /// Expiration, compared numerically with the validation time (Signal uses milliseconds
    /// since 1970).
    pub expiration: u64,
    /// The sender's identity key.
    pub identity_key: Curve25519PublicKey,
}

/// A decoded `SenderCertificate`: a sender's identity, device and expiry, signed by a server
/// certificate.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SenderCertificateWire {
    /// The certified fields.
    pub fields: SenderCertificateFields,
    /// The server certificate that signed this one.
    pub signer: ServerCertificateWire,
    certificate: Vec<u8>,
    signature: [u8; 64],
    bytes: Vec<u8>,
}

impl SenderCertificateWire {
    /// Encodes a sender certificate (fields in libsignal's order); `sign` signs the inner
    /// `certificate` bytes (with the server key).
    pub fn encode(
        fields: SenderCertificateFields,
        signer: ServerCertificateWire,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Self {
        let mut c = Vec::with_capacity(signer.bytes.len() + 120);
        if let Some(e164) = &fields.sender_e164 {
            put_bytes_field(&mut c, 1, e164.as_bytes());
        }
        put_varint_field(&mut c, 2, u64::from(fields.device_id));
        put_fixed64_field(&mut c, 3, fields.expiration);
        put_bytes_field(&mut c, 4, &encode_public_key(&fields.identity_key));
        put_bytes_field(&mut c, 5, signer.as_bytes());
        put_bytes_field(&mut c, 6, fields.sender_uuid.as_bytes());
        let signature = sign(&c);
        let bytes = encode_signed(&c, &signature);
        Self { fields, signer, certificate: c, signature, bytes }
    }

    /// Decodes a sender certificate and the server certificate inside it (no signature is
    /// checked here).
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_length(bytes)?;
        let (certificate, signature) = decode_signed(bytes, "sender certificate")?;
        let (mut e164, mut device, mut expires, mut key, mut signer, mut uuid) = (None, None, None, None, None, None);
        let mut r = Reader::with_fixed_width(certificate);
        while let Some((field, v)) = r.field()? {
            match field {
                0 => return Err(DecodeError::MalformedField("field number 0")),
                1 => set_once(&mut e164, string_field(v, "sender e164")?, "sender e164")?,
                2 => set_once(&mut device, as_u32(v, "sender device")?, "sender device")?,
                3 => set_once(&mut expires, as_fixed64(v, "expires")?, "expires")?,
                4 => set_once(&mut key, key_field(v, "sender identity key")?, "sender identity key")?,
                5 => set_once(&mut signer, ServerCertificateWire::decode(as_bytes(v, "signer")?)?, "signer")?,
                6 => set_once(&mut uuid, string_field(v, "sender uuid")?, "sender uuid")?,
                _ => {}
            }
        }
        // libsignal ≥ 0.90 refuses a certificate whose device id is outside 1 … 127 (0.72.1
        // reads any); so does caudata.
        let device_id = device.ok_or(DecodeError::MissingField("sender device"))?;
        if !(1..=127).contains(&device_id) {
            return Err(DecodeError::MalformedField("sender device id outside 1 to 127"));
        }
        Ok(Self {
            fields: SenderCertificateFields {
                sender_uuid: uuid.ok_or(DecodeError::MissingField("sender uuid"))?,
                sender_e164: e164,
                device_id,
                expiration: expires.ok_or(DecodeError::MissingField("expires"))?,
                identity_key: key.ok_or(DecodeError::MissingField("sender identity key"))?,
            },
            signer: signer.ok_or(DecodeError::MissingField("signer"))?,
            certificate: certificate.to_vec(),
            signature,
            bytes: bytes.to_vec(),
        })
    }

    /// The signed bytes (`SenderCertificate.Certificate` as received).
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    /// The server's signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The encoded certificate.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A decoded `UnidentifiedSenderMessage.Message` (the sealed content).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UsmcWire {
    /// The content's type, as libsignal's `CiphertextMessageType` number: 3 PreKey, 2 Whisper,
    /// 7 SenderKey, 8 Plaintext (the protobuf writes PreKey as 1).
    pub message_type: u8,
    /// The sender's certificate.
    pub sender: SenderCertificateWire,
    /// The enclosed message (its own encryption is the session's).
    pub contents: Vec<u8>,
    /// The content hint's raw value (0 when absent).
    pub content_hint: u32,
    /// The group id, if any.
    pub group_id: Option<Vec<u8>>,
    bytes: Vec<u8>,
}

/// The `CiphertextMessageType` numbers a USMC may carry.
const USMC_TYPES: [u8; 4] = [2, 3, 7, 8];

impl UsmcWire {
    /// Encodes the content, fields in libsignal's order; a content hint of 0 and an empty group
    /// id are left out (as libsignal does).
    ///
    /// # Errors
    /// [`DecodeError::UnknownMessageType`] for a type other than 2, 3, 7 or 8.
    pub fn encode(
        message_type: u8,
        sender: SenderCertificateWire,
        contents: Vec<u8>,
        content_hint: u32,
        group_id: Option<Vec<u8>>,
    ) -> Result<Self, DecodeError> {
        if !USMC_TYPES.contains(&message_type) {
            return Err(DecodeError::UnknownMessageType(message_type.into()));
        }
        let proto_type = if message_type == 3 { 1 } else { message_type };
        let mut out = Vec::with_capacity(contents.len() + sender.as_bytes().len() + 60);
        put_varint_field(&mut out, 1, u64::from(proto_type));
        put_bytes_field(&mut out, 2, sender.as_bytes());
        put_bytes_field(&mut out, 3, &contents);
        if content_hint != 0 {
            put_varint_field(&mut out, 4, u64::from(content_hint));
        }
        if let Some(g) = group_id.as_ref().filter(|g| !g.is_empty()) {
            put_bytes_field(&mut out, 5, g);
        }
        Ok(Self { message_type, sender, contents, content_hint, group_id, bytes: out })
    }

    /// Decodes sealed content.
    ///
    /// # Errors
    /// A [`DecodeError`]; [`DecodeError::UnknownMessageType`] for a type libsignal does not
    /// define.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_length(bytes)?;
        let (mut ty, mut sender, mut contents, mut hint, mut group) = (None, None, None, None, None);
        let mut r = Reader::new(bytes);
        while let Some((field, v)) = r.field()? {
            match field {
                0 => return Err(DecodeError::MalformedField("field number 0")),
                1 => set_once(&mut ty, as_u32(v, "content type")?, "content type")?,
                2 => set_once(
                    &mut sender,
                    SenderCertificateWire::decode(as_bytes(v, "sender certificate")?)?,
                    "sender certificate",
                )?,
                3 => set_once(&mut contents, as_bytes(v, "content")?, "content")?,
                4 => set_once(&mut hint, as_u32(v, "content hint")?, "content hint")?,
                5 => set_once(&mut group, as_bytes(v, "group id")?, "group id")?,
                _ => {}
            }
        }
        let message_type = match ty.ok_or(DecodeError::MissingField("content type"))? {
            1 => 3,
            t @ (2 | 7 | 8) => t as u8,
            t => return Err(DecodeError::UnknownMessageType(t as usize)),
        };
        Ok(Self {
            message_type,
            sender: sender.ok_or(DecodeError::MissingField("sender certificate"))?,
            contents: contents.ok_or(DecodeError::MissingField("content"))?.to_vec(),
            content_hint: hint.unwrap_or(0),
            group_id: group.map(<[u8]>::to_vec),
            bytes: bytes.to_vec(),
        })
    }

    /// The encoded content.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A decoded sealed-sender envelope, as a recipient receives it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SealedSenderWire {
    /// Version 1.
    V1 {
        /// The sender's ephemeral key.
        ephemeral: Curve25519PublicKey,
        /// The sender's identity key, encrypted (33 + 10 bytes).
        encrypted_static: Vec<u8>,
        /// The content, encrypted.
        encrypted_message: Vec<u8>,
    },
    /// Version 2 (one recipient's part of a multi-recipient message).
    V2 {
        /// `C`: the message key, encrypted to the recipient.
        encrypted_message_key: [u8; V2_MESSAGE_KEY_LENGTH],
        /// `AT`: authenticates the sender to the recipient.
        auth_tag: [u8; V2_AUTH_TAG_LENGTH],
        /// `E`: the ephemeral key derived from the message key.
        ephemeral: Curve25519PublicKey,
        /// The content, encrypted with AES-256-GCM-SIV.
        encrypted_message: Vec<u8>,
    },
}

impl SealedSenderWire {
    /// Decodes an envelope.
    ///
    /// # Errors
    /// [`DecodeError::LegacyVersion`] for a high nibble of 0, [`DecodeError::UnsupportedVersion`]
    /// above 2, or a decoding error.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_length(bytes)?;
        let version = *bytes.first().ok_or(DecodeError::Truncated("version"))?;
        match version >> 4 {
            SEALED_SENDER_V1 => {
                let (mut e, mut s, mut m) = (None, None, None);
                let mut r = Reader::new(&bytes[1..]);
                while let Some((field, v)) = r.field()? {
                    match field {
                        0 => return Err(DecodeError::MalformedField("field number 0")),
                        1 => set_once(&mut e, key_field(v, "ephemeral key")?, "ephemeral key")?,
                        2 => set_once(&mut s, as_bytes(v, "encrypted static")?, "encrypted static")?,
                        3 => set_once(&mut m, as_bytes(v, "encrypted message")?, "encrypted message")?,
                        _ => {}
                    }
                }
                Ok(Self::V1 {
                    ephemeral: e.ok_or(DecodeError::MissingField("ephemeral key"))?,
                    encrypted_static: s.ok_or(DecodeError::MissingField("encrypted static"))?.to_vec(),
                    encrypted_message: m.ok_or(DecodeError::MissingField("encrypted message"))?.to_vec(),
                })
            }
            SEALED_SENDER_V2 => {
                let rest = &bytes[1..];
                if rest.len() < V2_MESSAGE_KEY_LENGTH + V2_AUTH_TAG_LENGTH + 32 {
                    return Err(DecodeError::Truncated("sealed sender v2 header"));
                }
                let (c, rest) = rest.split_at(V2_MESSAGE_KEY_LENGTH);
                let (at, rest) = rest.split_at(V2_AUTH_TAG_LENGTH);
                let (e, ct) = rest.split_at(32);
                Ok(Self::V2 {
                    encrypted_message_key: c.try_into().map_err(|_| DecodeError::Truncated("C"))?,
                    auth_tag: at.try_into().map_err(|_| DecodeError::Truncated("AT"))?,
                    ephemeral: Curve25519PublicKey::from_slice(e)?,
                    encrypted_message: ct.to_vec(),
                })
            }
            0 => Err(DecodeError::LegacyVersion(version)),
            _ => Err(DecodeError::UnsupportedVersion(version)),
        }
    }

    /// Encodes the envelope (`0x11 ‖ protobuf` or `0x22 ‖ C ‖ AT ‖ E ‖ ciphertext`).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::V1 { ephemeral, encrypted_static, encrypted_message } => {
                let mut out = Vec::with_capacity(encrypted_message.len() + encrypted_static.len() + 45);
                out.push(V1_VERSION_BYTE);
                put_bytes_field(&mut out, 1, &encode_public_key(ephemeral));
                put_bytes_field(&mut out, 2, encrypted_static);
                put_bytes_field(&mut out, 3, encrypted_message);
                out
            }
            Self::V2 { encrypted_message_key, auth_tag, ephemeral, encrypted_message } => {
                let mut out = Vec::with_capacity(1 + 80 + encrypted_message.len());
                out.push(V2_VERSION_BYTE);
                out.extend_from_slice(encrypted_message_key);
                out.extend_from_slice(auth_tag);
                out.extend_from_slice(ephemeral.as_bytes());
                out.extend_from_slice(encrypted_message);
                out
            }
        }
    }
}

/// One recipient of a multi-recipient message: a ServiceId, its devices, and `C ‖ AT` (absent
/// for an excluded recipient, which has no devices).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MultiRecipientEntry {
    /// The ServiceId in fixed-width form (kind byte ‖ UUID).
    pub service_id: [u8; SERVICE_ID_LENGTH],
    /// `(device id, registration id)` of each device.
    pub devices: Vec<(u32, u16)>,
    /// `C ‖ AT`, shared by the devices; `None` for an excluded recipient.
    pub key_material: Option<[u8; V2_MESSAGE_KEY_LENGTH + V2_AUTH_TAG_LENGTH]>,
}

/// A decoded multi-recipient ("SentMessage") sealed-sender v2 message, as a server receives it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MultiRecipientWire {
    /// The recipients, excluded ones included, in message order.
    pub recipients: Vec<MultiRecipientEntry>,
    /// `E ‖ ciphertext`, shared by every recipient.
    shared: Vec<u8>,
}

/// The most recipients (excluded ones included) a multi-recipient message may name: each takes
/// at least 18 bytes, so this is what fits in the largest message.
const MAX_MULTI_RECIPIENTS: u64 = (MAX_MESSAGE_LENGTH / (SERVICE_ID_LENGTH + 1)) as u64;

impl MultiRecipientWire {
    /// Encodes a multi-recipient message (version byte `0x23`).
    ///
    /// # Errors
    /// [`DecodeError::MalformedField`] for a recipient without devices or key material, a device
    /// id of 0 or a registration id above 14 bits.
    pub fn encode(
        recipients: &[MultiRecipientEntry],
        ephemeral: &Curve25519PublicKey,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::with_capacity(8 + recipients.len() * 90 + 32 + ciphertext.len());
        out.push(MULTI_RECIPIENT_VERSION_BYTE);
        put_varint(&mut out, recipients.len() as u64);
        for r in recipients {
            out.extend_from_slice(&r.service_id);
            match &r.key_material {
                None if r.devices.is_empty() => put_varint(&mut out, 0),
                Some(km) if !r.devices.is_empty() => {
                    for (i, &(device, reg)) in r.devices.iter().enumerate() {
                        if device == 0 || u32::from(reg) > MAX_MULTI_RECIPIENT_REGISTRATION_ID {
                            return Err(DecodeError::MalformedField("multi-recipient device"));
                        }
                        put_varint(&mut out, u64::from(device));
                        let more = if i + 1 < r.devices.len() { 0x8000 } else { 0 };
                        out.extend_from_slice(&(reg | more).to_be_bytes());
                    }
                    out.extend_from_slice(km);
                }
                _ => return Err(DecodeError::MalformedField("multi-recipient entry")),
            }
        }
        out.extend_from_slice(ephemeral.as_bytes());
        out.extend_from_slice(ciphertext);
        Ok(out)
    }

    /// Decodes a multi-recipient message (what a server does before fanning it out).
    ///
    /// # Errors
    /// A [`DecodeError`]: a version byte other than `0x23`, a truncated entry, a registration id
    /// above 14 bits, or no room for `E` and a ciphertext.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_length(bytes)?;
        let version = *bytes.first().ok_or(DecodeError::Truncated("version"))?;
        if version != MULTI_RECIPIENT_VERSION_BYTE {
            return Err(if version >> 4 < SEALED_SENDER_V2 {
                DecodeError::LegacyVersion(version)
            } else {
                DecodeError::UnsupportedVersion(version)
            });
        }
        let mut cur = Cursor { buf: bytes, pos: 1 };
        let count = cur.varint("recipient count")?;
        if count > MAX_MULTI_RECIPIENTS {
            return Err(DecodeError::MalformedField("recipient count"));
        }
        let mut recipients = Vec::new();
        for _ in 0..count {
            let service_id: [u8; SERVICE_ID_LENGTH] = cur
                .take(SERVICE_ID_LENGTH, "service id")?
                .try_into()
                .map_err(|_| DecodeError::Truncated("service id"))?;
            let mut devices = Vec::new();
            let mut key_material = None;
            loop {
                let device = cur.varint("device id")?;
                if device == 0 {
                    if !devices.is_empty() {
                        return Err(DecodeError::MalformedField("device id 0 after a device"));
                    }
                    break;
                }
                let device = u32::try_from(device).map_err(|_| DecodeError::OversizeVarint("device id"))?;
                let reg = cur.take(2, "registration id")?;
                let reg = u16::from_be_bytes([reg[0], reg[1]]);
                let value = reg & 0x7FFF;
                if u32::from(value) > MAX_MULTI_RECIPIENT_REGISTRATION_ID {
                    return Err(DecodeError::MalformedField("registration id"));
                }
                devices.push((device, value));
                if reg & 0x8000 == 0 {
                    let km = cur.take(V2_MESSAGE_KEY_LENGTH + V2_AUTH_TAG_LENGTH, "C and AT")?;
                    key_material = Some(km.try_into().map_err(|_| DecodeError::Truncated("C and AT"))?);
                    break;
                }
            }
            recipients.push(MultiRecipientEntry { service_id, devices, key_material });
        }
        let shared = &bytes[cur.pos..];
        if shared.len() < 32 + crate::primitives::GCM_SIV_TAG_LEN {
            return Err(DecodeError::Truncated("ephemeral key and ciphertext"));
        }
        Ok(Self { recipients, shared: shared.to_vec() })
    }

    /// The v2 envelope for the recipient at `index`: `0x22 ‖ C ‖ AT ‖ E ‖ ciphertext` (the same
    /// bytes for each of its devices); `None` for an excluded recipient or an index out of range.
    pub fn message_for_recipient(&self, index: usize) -> Option<Vec<u8>> {
        let km = self.recipients.get(index)?.key_material?;
        let mut out = Vec::with_capacity(1 + km.len() + self.shared.len());
        out.push(V2_VERSION_BYTE);
        out.extend_from_slice(&km);
        out.extend_from_slice(&self.shared);
        Some(out)
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated(what))?;
        let b = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated(what))?;
        self.pos = end;
        Ok(b)
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let mut r = Reader::new(&self.buf[self.pos..]);
        let before = self.buf.len() - self.pos;
        let v = r.varint(what)?;
        // The reader consumed `before - remaining` bytes.
        self.pos += before - r.remaining();
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> ServerCertificateWire {
        ServerCertificateWire::encode(7, &Curve25519PublicKey::from_bytes([1; 32]), |_| [2; 64])
    }

    #[test]
    fn certificates_round_trip() {
        let s = server();
        assert_eq!(ServerCertificateWire::decode(s.as_bytes()).unwrap(), s);
        let fields = SenderCertificateFields {
            sender_uuid: "9d0652a3-dcc3-4d11-975f-74d61598733f".into(),
            sender_e164: Some("+15551234".into()),
            device_id: 3,
            expiration: 1_700_000_000_000,
            identity_key: Curve25519PublicKey::from_bytes([3; 32]),
        };
        let c = SenderCertificateWire::encode(fields, s, |_| [4; 64]);
        assert_eq!(SenderCertificateWire::decode(c.as_bytes()).unwrap(), c);
        let u = UsmcWire::encode(3, c.clone(), vec![5; 10], 2, Some(b"g".to_vec())).unwrap();
        let d = UsmcWire::decode(u.as_bytes()).unwrap();
        assert_eq!(d, u);
        assert_eq!(u.as_bytes()[..2], [0x08, 0x01], "PreKey is type 1 in the protobuf");
        assert!(UsmcWire::encode(4, c, vec![], 0, None).is_err());
    }

    #[test]
    fn envelopes_and_multi_recipient() {
        let v1 = SealedSenderWire::V1 {
            ephemeral: Curve25519PublicKey::from_bytes([1; 32]),
            encrypted_static: vec![2; 43],
            encrypted_message: vec![3; 20],
        };
        let b = v1.encode();
        assert_eq!(b[0], 0x11);
        assert_eq!(SealedSenderWire::decode(&b).unwrap(), v1);
        let mut zero = b.clone();
        zero[0] = 0x01;
        assert_eq!(SealedSenderWire::decode(&zero), Err(DecodeError::LegacyVersion(1)));
        zero[0] = 0x33;
        assert_eq!(SealedSenderWire::decode(&zero), Err(DecodeError::UnsupportedVersion(0x33)));

        let entries = vec![
            MultiRecipientEntry {
                service_id: [0xAA; 17],
                devices: vec![(1, 0x1234), (2, 0x1235)],
                key_material: Some([5; 48]),
            },
            MultiRecipientEntry { service_id: [0xBB; 17], devices: vec![], key_material: None },
            MultiRecipientEntry { service_id: [0xCC; 17], devices: vec![(300, 77)], key_material: Some([6; 48]) },
        ];
        let e = Curve25519PublicKey::from_bytes([7; 32]);
        let m = MultiRecipientWire::encode(&entries, &e, &[8; 40]).unwrap();
        let d = MultiRecipientWire::decode(&m).unwrap();
        assert_eq!(d.recipients, entries);
        let one = d.message_for_recipient(2).unwrap();
        let SealedSenderWire::V2 { encrypted_message_key, ephemeral, encrypted_message, .. } =
            SealedSenderWire::decode(&one).unwrap()
        else {
            panic!()
        };
        assert_eq!((encrypted_message_key, ephemeral, encrypted_message), ([6; 32], e, vec![8; 40]));
        assert!(d.message_for_recipient(1).is_none());
        for cut in 0..m.len() - 40 {
            assert!(MultiRecipientWire::decode(&m[..cut]).is_err(), "{cut}");
        }
    }
}
