//! Signal-dialect (interolm) message codecs, byte-compatible with libsignal.
//!
//! Public keys are 33 bytes, `0x05 ‖ X25519 u`; Kyber1024 values carry the type byte `0x08`.
//! The version byte of both messages is `session_version << 4 | 4`: `0x34` for X3DH (session
//! version 3; libraries before 2023 sent `0x33`), `0x44` for PQXDH (version 4). Receivers look
//! only at the high nibble: below 3 is "too old", above 4 is "unknown".
//!
//! `SignalMessage` (message type 2):
//!
//! | bytes | content |
//! |---|---|
//! | 1 | version byte |
//! | 2 + 33 | `0x0A 0x21` ratchet key |
//! | 1 + varint | `0x10` counter (index in the sending chain; always written) |
//! | 1 + varint | `0x18` previous counter (last index of the sender's previous chain; always written) |
//! | 1 + varint + n | `0x22` AES-256-CBC ciphertext |
//! | (1 + varint + n) | `0x2A` SPQR message (`pq_ratchet`), omitted when empty (SPQR V0) |
//! | (1 + varint + 36) | `0x32` addresses (libsignal ≥ 0.91): sender and recipient, only inside a pre-key message (see `interolm::MessageAddresses`) |
//! | 8 | `HMAC-SHA-256(mac_key, IK_sender(33) ‖ IK_receiver(33) ‖ all bytes above)[..8]` |
//!
//! `PreKeySignalMessage` (message type 3, no MAC of its own), fields in libsignal's order:
//!
//! | field | content |
//! |---|---|
//! | — | version byte |
//! | 1 varint | one-time prekey id (absent without a one-time prekey) |
//! | 2 bytes(33) | sender's base key |
//! | 3 bytes(33) | sender's identity key |
//! | 4 bytes | the whole serialized `SignalMessage` (its version byte and MAC included) |
//! | 5 varint | sender's registration id |
//! | 6 varint | signed prekey id |
//! | 7 varint | Kyber prekey id (required in version 4, refused in version 3) |
//! | 8 bytes(1569) | Kyber1024 ciphertext `0x08 ‖ ct` (required in version 4, refused in version 3) |
//!
//! Decoders accept fields in any order, skip unknown fields, refuse duplicates of known ones,
//! and keep the received bytes: MACs are computed over them, never over a re-encoding.

use super::codec::{Reader, Value, as_bytes, as_u32, put_bytes_field, put_varint_field, set_once};
use crate::consts::MAX_MESSAGE_LENGTH;
use crate::error::{DecodeError, KeyError};
use crate::primitives::{Curve25519PublicKey, Kyber1024Ciphertext, Kyber1024PublicKey, XEdDsaSignature};

/// Length of the `addresses` field (SignalMessage field 6): two fixed-width service ids (17
/// bytes each) and two one-byte device ids.
pub const ADDRESSES_LENGTH: usize = 36;

/// libsignal's key-type byte for Curve25519 public keys.
pub const CURVE25519_KEY_TYPE: u8 = 0x05;
/// Length of a serialized Curve25519 public key (`0x05 ‖ u`).
pub const PUBLIC_KEY_LENGTH: usize = 33;
/// Session version of X3DH sessions.
pub const SESSION_VERSION_X3DH: u8 = 3;
/// Session version of PQXDH sessions.
pub const SESSION_VERSION_PQXDH: u8 = 4;
/// The low nibble of every version byte libsignal sends (its `CIPHERTEXT_MESSAGE_CURRENT_VERSION`).
pub const CURRENT_MESSAGE_VERSION: u8 = 4;
/// Length of the truncated MAC that ends a `SignalMessage`.
pub const MAC_LENGTH: usize = 8;
/// Message type number of a `SignalMessage` (libsignal `CiphertextMessageType::Whisper`).
pub const MESSAGE_TYPE_WHISPER: usize = 2;
/// Message type number of a `PreKeySignalMessage` (libsignal `CiphertextMessageType::PreKey`).
pub const MESSAGE_TYPE_PRE_KEY: usize = 3;

/// The version byte libsignal writes for a session version: `v << 4 | 4`.
pub const fn version_byte(session_version: u8) -> u8 {
    (session_version << 4) | CURRENT_MESSAGE_VERSION
}

/// The session version a version byte announces (its high nibble).
///
/// # Errors
/// [`DecodeError::LegacyVersion`] below 3, [`DecodeError::UnsupportedVersion`] above 4.
pub fn session_version_of(byte: u8) -> Result<u8, DecodeError> {
    match byte >> 4 {
        v if v < SESSION_VERSION_X3DH => Err(DecodeError::LegacyVersion(byte)),
        v if v > SESSION_VERSION_PQXDH => Err(DecodeError::UnsupportedVersion(byte)),
        v => Ok(v),
    }
}

/// `0x05 ‖ u`.
pub fn encode_public_key(key: &Curve25519PublicKey) -> [u8; PUBLIC_KEY_LENGTH] {
    let mut out = [0u8; PUBLIC_KEY_LENGTH];
    out[0] = CURVE25519_KEY_TYPE;
    out[1..].copy_from_slice(key.as_bytes());
    out
}

/// Parses `0x05 ‖ u` (exactly 33 bytes).
///
/// # Errors
/// [`KeyError::InvalidLength`] or [`KeyError::UnknownKeyType`].
pub fn decode_public_key(bytes: &[u8]) -> Result<Curve25519PublicKey, KeyError> {
    if bytes.len() != PUBLIC_KEY_LENGTH {
        return Err(KeyError::InvalidLength { expected: PUBLIC_KEY_LENGTH, got: bytes.len() });
    }
    match bytes.split_first() {
        Some((&CURVE25519_KEY_TYPE, rest)) => Curve25519PublicKey::from_slice(rest),
        Some((&t, _)) => Err(KeyError::UnknownKeyType(t)),
        None => Err(KeyError::InvalidLength { expected: PUBLIC_KEY_LENGTH, got: 0 }),
    }
}

fn key_field(v: Value<'_>, name: &'static str) -> Result<Curve25519PublicKey, DecodeError> {
    Ok(decode_public_key(as_bytes(v, name)?)?)
}

fn check_length(bytes: &[u8]) -> Result<(), DecodeError> {
    if bytes.len() > MAX_MESSAGE_LENGTH {
        return Err(DecodeError::TooLong { got: bytes.len(), max: MAX_MESSAGE_LENGTH });
    }
    Ok(())
}

/// A decoded `SignalMessage`. `bytes` are the exact bytes received (or sent).
#[derive(Clone, PartialEq, Eq)]
pub struct SignalMessageWire {
    /// The version byte as received.
    pub version: u8,
    /// The sender's ratchet key.
    pub ratchet_key: Curve25519PublicKey,
    /// The message's index in its chain.
    pub counter: u32,
    /// The last index of the sender's previous chain (0 if none).
    pub previous_counter: u32,
    /// AES-256-CBC ciphertext.
    pub ciphertext: Vec<u8>,
    /// Field 5, the SPQR message, if present (not interpreted here).
    pub pq_ratchet: Option<Vec<u8>>,
    /// Field 6, sender and recipient addresses, if present (covered by the MAC, not interpreted).
    pub addresses: Option<Vec<u8>>,
    bytes: Vec<u8>,
}

impl SignalMessageWire {
    /// Encodes a message without an SPQR part; `mac` gets the bytes to authenticate and returns
    /// the full HMAC, of which the first 8 bytes are appended.
    pub fn encode(
        session_version: u8,
        ratchet_key: &Curve25519PublicKey,
        counter: u32,
        previous_counter: u32,
        ciphertext: Vec<u8>,
        mac: impl FnOnce(&[u8]) -> [u8; 32],
    ) -> Self {
        Self::encode_with_pq_ratchet(
            session_version,
            ratchet_key,
            counter,
            previous_counter,
            ciphertext,
            Vec::new(),
            mac,
        )
    }

    /// [`SignalMessageWire::encode`] with the SPQR message `pq_ratchet` as field 5, after the
    /// ciphertext (libsignal's order) and under the MAC; an empty `pq_ratchet` omits the field.
    pub fn encode_with_pq_ratchet(
        session_version: u8,
        ratchet_key: &Curve25519PublicKey,
        counter: u32,
        previous_counter: u32,
        ciphertext: Vec<u8>,
        pq_ratchet: Vec<u8>,
        mac: impl FnOnce(&[u8]) -> [u8; 32],
    ) -> Self {
        Self::encode_with_addresses(
            session_version,
            ratchet_key,
            counter,
            previous_counter,
            ciphertext,
            pq_ratchet,
            None,
            mac,
        )
    }

    /// [`SignalMessageWire::encode_with_pq_ratchet`] with the `addresses` field (field 6, 36
    /// bytes, after field 5 as libsignal ≥ 0.91 writes it) when `addresses` is `Some`.
    #[allow(clippy::too_many_arguments)]
    pub fn encode_with_addresses(
        session_version: u8,
        ratchet_key: &Curve25519PublicKey,
        counter: u32,
        previous_counter: u32,
        ciphertext: Vec<u8>,
        pq_ratchet: Vec<u8>,
        addresses: Option<[u8; ADDRESSES_LENGTH]>,
        mac: impl FnOnce(&[u8]) -> [u8; 32],
    ) -> Self {
        let version = version_byte(session_version);
        let mut out = Vec::with_capacity(ciphertext.len() + pq_ratchet.len() + 58 + 38);
        out.push(version);
        put_bytes_field(&mut out, 1, &encode_public_key(ratchet_key));
        put_varint_field(&mut out, 2, u64::from(counter));
        put_varint_field(&mut out, 3, u64::from(previous_counter));
        put_bytes_field(&mut out, 4, &ciphertext);
        if !pq_ratchet.is_empty() {
            put_bytes_field(&mut out, 5, &pq_ratchet);
        }
        if let Some(a) = &addresses {
            put_bytes_field(&mut out, 6, a);
        }
        let tag = mac(&out);
        out.extend_from_slice(&tag[..MAC_LENGTH]);
        Self {
            version,
            ratchet_key: *ratchet_key,
            counter,
            previous_counter,
            ciphertext,
            pq_ratchet: (!pq_ratchet.is_empty()).then_some(pq_ratchet),
            addresses: addresses.map(|a| a.to_vec()),
            bytes: out,
        }
    }

    /// Decodes a `SignalMessage`.
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_length(bytes)?;
        let version = *bytes.first().ok_or(DecodeError::Truncated("version"))?;
        session_version_of(version)?;
        if bytes.len() < 1 + MAC_LENGTH {
            return Err(DecodeError::Truncated("MAC"));
        }
        let body = &bytes[1..bytes.len() - MAC_LENGTH];
        let (mut rk, mut counter, mut prev, mut ct, mut pq, mut addr) = (None, None, None, None, None, None);
        let mut r = Reader::new(body);
        while let Some((field, v)) = r.field()? {
            match field {
                1 => set_once(&mut rk, key_field(v, "ratchet key")?, "ratchet key")?,
                2 => set_once(&mut counter, as_u32(v, "counter")?, "counter")?,
                3 => set_once(&mut prev, as_u32(v, "previous counter")?, "previous counter")?,
                4 => set_once(&mut ct, as_bytes(v, "ciphertext")?, "ciphertext")?,
                5 => set_once(&mut pq, as_bytes(v, "pq_ratchet")?, "pq_ratchet")?,
                6 => set_once(&mut addr, as_bytes(v, "addresses")?, "addresses")?,
                _ => {}
            }
        }
        Ok(Self {
            version,
            ratchet_key: rk.ok_or(DecodeError::MissingField("ratchet key"))?,
            counter: counter.ok_or(DecodeError::MissingField("counter"))?,
            previous_counter: prev.unwrap_or(0),
            ciphertext: ct.ok_or(DecodeError::MissingField("ciphertext"))?.to_vec(),
            pq_ratchet: pq.filter(|p| !p.is_empty()).map(<[u8]>::to_vec),
            addresses: addr.map(<[u8]>::to_vec),
            bytes: bytes.to_vec(),
        })
    }

    /// The session version the version byte announces (3 or 4).
    pub fn session_version(&self) -> u8 {
        self.version >> 4
    }

    /// The bytes the MAC covers after the two identity keys (version byte and protobuf, as
    /// received).
    pub fn authenticated_bytes(&self) -> &[u8] {
        &self.bytes[..self.bytes.len() - MAC_LENGTH]
    }

    /// The 8-byte MAC as received.
    pub fn mac(&self) -> &[u8] {
        &self.bytes[self.bytes.len() - MAC_LENGTH..]
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for SignalMessageWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignalMessageWire")
            .field("version", &self.version)
            .field("ratchet_key", &self.ratchet_key)
            .field("counter", &self.counter)
            .field("previous_counter", &self.previous_counter)
            .field("ciphertext_len", &self.ciphertext.len())
            .field("pq_ratchet_len", &self.pq_ratchet.as_ref().map(Vec::len))
            .field("has_addresses", &self.addresses.is_some())
            .finish_non_exhaustive()
    }
}

/// The fields of a `PreKeySignalMessage` besides the inner message, as the sender knows them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PreKeyFields {
    /// Session version (3 X3DH, 4 PQXDH).
    pub session_version: u8,
    /// The sender's registration id.
    pub registration_id: u32,
    /// The recipient's one-time prekey id, if one was used.
    pub pre_key_id: Option<u32>,
    /// The recipient's signed prekey id.
    pub signed_pre_key_id: u32,
    /// The recipient's Kyber prekey id and the Kyber ciphertext (version 4 only).
    pub kyber: Option<(u32, Kyber1024Ciphertext)>,
    /// The sender's base key.
    pub base_key: Curve25519PublicKey,
    /// The sender's identity key.
    pub identity_key: Curve25519PublicKey,
}

/// A decoded `PreKeySignalMessage`.
#[derive(Clone, PartialEq, Eq)]
pub struct PreKeySignalMessageWire {
    /// Everything but the inner message.
    pub fields: PreKeyFields,
    /// The enclosed `SignalMessage`.
    pub message: SignalMessageWire,
    bytes: Vec<u8>,
}

impl PreKeySignalMessageWire {
    /// Encodes a pre-key message around an encoded `SignalMessage`, fields in libsignal's order.
    pub fn encode(fields: PreKeyFields, message: SignalMessageWire) -> Self {
        let mut out = Vec::with_capacity(message.as_bytes().len() + 100 + fields.kyber.as_ref().map_or(0, |_| 1575));
        out.push(version_byte(fields.session_version));
        if let Some(id) = fields.pre_key_id {
            put_varint_field(&mut out, 1, u64::from(id));
        }
        put_bytes_field(&mut out, 2, &encode_public_key(&fields.base_key));
        put_bytes_field(&mut out, 3, &encode_public_key(&fields.identity_key));
        put_bytes_field(&mut out, 4, message.as_bytes());
        put_varint_field(&mut out, 5, u64::from(fields.registration_id));
        put_varint_field(&mut out, 6, u64::from(fields.signed_pre_key_id));
        if let Some((id, ct)) = &fields.kyber {
            put_varint_field(&mut out, 7, u64::from(*id));
            put_bytes_field(&mut out, 8, &ct.to_bytes());
        }
        Self { fields, message, bytes: out }
    }

    /// Decodes a pre-key message and the `SignalMessage` inside it.
    ///
    /// # Errors
    /// A [`DecodeError`]: among others [`DecodeError::MissingField`] for a version-4 message
    /// without its Kyber fields, [`DecodeError::InvalidFieldLength`] for a Kyber ciphertext that
    /// is not 1569 bytes, [`DecodeError::MalformedField`] for Kyber fields in a version-3
    /// message or an inner message of another version.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_length(bytes)?;
        let version = *bytes.first().ok_or(DecodeError::Truncated("version"))?;
        let session_version = session_version_of(version)?;
        let (mut otk, mut base, mut id, mut msg, mut reg, mut spk, mut kid, mut kct) =
            (None, None, None, None, None, None, None, None);
        let mut r = Reader::new(&bytes[1..]);
        while let Some((field, v)) = r.field()? {
            match field {
                1 => set_once(&mut otk, as_u32(v, "pre_key_id")?, "pre_key_id")?,
                2 => set_once(&mut base, key_field(v, "base key")?, "base key")?,
                3 => set_once(&mut id, key_field(v, "identity key")?, "identity key")?,
                4 => set_once(&mut msg, as_bytes(v, "message")?, "message")?,
                5 => set_once(&mut reg, as_u32(v, "registration_id")?, "registration_id")?,
                6 => set_once(&mut spk, as_u32(v, "signed_pre_key_id")?, "signed_pre_key_id")?,
                7 => set_once(&mut kid, as_u32(v, "kyber_pre_key_id")?, "kyber_pre_key_id")?,
                8 => set_once(&mut kct, as_bytes(v, "kyber_ciphertext")?, "kyber_ciphertext")?,
                _ => {}
            }
        }
        let kyber = match (session_version, kid, kct) {
            (SESSION_VERSION_X3DH, None, None) => None,
            (SESSION_VERSION_X3DH, _, _) => {
                return Err(DecodeError::MalformedField("Kyber fields in a version 3 message"));
            }
            (_, None, _) => return Err(DecodeError::MissingField("kyber_pre_key_id")),
            (_, Some(_), None) => return Err(DecodeError::MissingField("kyber_ciphertext")),
            (_, Some(kid), Some(ct)) => {
                if ct.len() != Kyber1024Ciphertext::LENGTH {
                    return Err(DecodeError::InvalidFieldLength {
                        field: "kyber_ciphertext",
                        expected: Kyber1024Ciphertext::LENGTH,
                        got: ct.len(),
                    });
                }
                Some((kid, Kyber1024Ciphertext::from_bytes(ct)?))
            }
        };
        let message = SignalMessageWire::decode(msg.ok_or(DecodeError::MissingField("message"))?)?;
        if message.session_version() != session_version {
            return Err(DecodeError::MalformedField("inner message of another version"));
        }
        let fields = PreKeyFields {
            session_version,
            registration_id: reg.unwrap_or(0),
            pre_key_id: otk,
            signed_pre_key_id: spk.ok_or(DecodeError::MissingField("signed_pre_key_id"))?,
            kyber,
            base_key: base.ok_or(DecodeError::MissingField("base key"))?,
            identity_key: id.ok_or(DecodeError::MissingField("identity key"))?,
        };
        Ok(Self { fields, message, bytes: bytes.to_vec() })
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl core::fmt::Debug for PreKeySignalMessageWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreKeySignalMessageWire")
            .field("fields", &self.fields)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

/// A Signal prekey bundle: what a device publishes so that others can start sessions with it,
/// and what an initiator consumes. Its fields are public and unverified; `verify` (and every
/// session creation) checks the keys and the signatures before use.
///
/// Serialized (caudata's own format, protobuf-style like the messages):
///
/// | field | content |
/// |---|---|
/// | — | format byte `0x01` |
/// | 1 varint | registration id |
/// | 2 varint | device id |
/// | 3 bytes(33) | identity key `0x05 ‖ u` |
/// | 4 varint, 5 bytes(33) | one-time prekey id and key (both or neither) |
/// | 6 varint, 7 bytes(33), 8 bytes(64) | signed prekey id, key, XEdDSA signature over field 7's 33 bytes |
/// | 9 varint, 10 bytes(1569), 11 bytes(64) | Kyber prekey id, key `0x08 ‖ pk`, signature over field 10 (all or none) |
///
/// Trailing garbage cannot hide anywhere: every byte belongs to a field, unknown fields are
/// refused (a bundle is not a message that must tolerate newer senders), and so are duplicates.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PreKeyBundle {
    /// The owner's registration id.
    pub registration_id: u32,
    /// The owner's device id.
    pub device_id: u32,
    /// The owner's identity key.
    pub identity_key: Curve25519PublicKey,
    /// One-time prekey id and key.
    pub pre_key: Option<(u32, Curve25519PublicKey)>,
    /// Signed prekey id.
    pub signed_pre_key_id: u32,
    /// Signed prekey.
    pub signed_pre_key: Curve25519PublicKey,
    /// Signature of the signed prekey's 33-byte form.
    pub signed_pre_key_signature: XEdDsaSignature,
    /// Kyber prekey id, key and signature of the key's 1569-byte form.
    pub kyber_pre_key: Option<(u32, Kyber1024PublicKey, XEdDsaSignature)>,
}

/// Format byte of a serialized [`PreKeyBundle`].
pub const BUNDLE_FORMAT: u8 = 0x01;

impl PreKeyBundle {
    /// Serializes the bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1800);
        out.push(BUNDLE_FORMAT);
        put_varint_field(&mut out, 1, u64::from(self.registration_id));
        put_varint_field(&mut out, 2, u64::from(self.device_id));
        put_bytes_field(&mut out, 3, &encode_public_key(&self.identity_key));
        if let Some((id, key)) = &self.pre_key {
            put_varint_field(&mut out, 4, u64::from(*id));
            put_bytes_field(&mut out, 5, &encode_public_key(key));
        }
        put_varint_field(&mut out, 6, u64::from(self.signed_pre_key_id));
        put_bytes_field(&mut out, 7, &encode_public_key(&self.signed_pre_key));
        put_bytes_field(&mut out, 8, self.signed_pre_key_signature.as_bytes());
        if let Some((id, key, sig)) = &self.kyber_pre_key {
            put_varint_field(&mut out, 9, u64::from(*id));
            put_bytes_field(&mut out, 10, &key.to_bytes());
            put_bytes_field(&mut out, 11, sig.as_bytes());
        }
        out
    }

    /// Parses a serialized bundle. Signatures and keys are checked only when the bundle is
    /// used (or by `verify`, in the interolm module).
    ///
    /// # Errors
    /// A [`DecodeError`] naming what is wrong (including a malformed Kyber key).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        check_length(bytes)?;
        let format = *bytes.first().ok_or(DecodeError::Truncated("format"))?;
        if format != BUNDLE_FORMAT {
            return Err(DecodeError::UnsupportedVersion(format));
        }
        let mut reg = None;
        let mut dev = None;
        let mut ik = None;
        let (mut otk_id, mut otk) = (None, None);
        let (mut spk_id, mut spk, mut spk_sig) = (None, None, None);
        let (mut k_id, mut k, mut k_sig) = (None, None, None);
        let sig = |v: Value<'_>, name: &'static str| -> Result<XEdDsaSignature, DecodeError> {
            let b = as_bytes(v, name)?;
            XEdDsaSignature::from_slice(b).map_err(|_| DecodeError::InvalidFieldLength {
                field: name,
                expected: XEdDsaSignature::LENGTH,
                got: b.len(),
            })
        };
        let mut r = Reader::new(&bytes[1..]);
        while let Some((field, v)) = r.field()? {
            match field {
                1 => set_once(&mut reg, as_u32(v, "registration id")?, "registration id")?,
                2 => set_once(&mut dev, as_u32(v, "device id")?, "device id")?,
                3 => set_once(&mut ik, key_field(v, "identity key")?, "identity key")?,
                4 => set_once(&mut otk_id, as_u32(v, "one-time prekey id")?, "one-time prekey id")?,
                5 => set_once(&mut otk, key_field(v, "one-time prekey")?, "one-time prekey")?,
                6 => set_once(&mut spk_id, as_u32(v, "signed prekey id")?, "signed prekey id")?,
                7 => set_once(&mut spk, key_field(v, "signed prekey")?, "signed prekey")?,
                8 => set_once(&mut spk_sig, sig(v, "signed prekey signature")?, "signed prekey signature")?,
                9 => set_once(&mut k_id, as_u32(v, "Kyber prekey id")?, "Kyber prekey id")?,
                10 => set_once(&mut k, Kyber1024PublicKey::from_bytes(as_bytes(v, "Kyber prekey")?)?, "Kyber prekey")?,
                11 => set_once(&mut k_sig, sig(v, "Kyber prekey signature")?, "Kyber prekey signature")?,
                _ => return Err(DecodeError::MalformedField("unknown bundle field")),
            }
        }
        let pre_key = match (otk_id, otk) {
            (Some(id), Some(key)) => Some((id, key)),
            (None, None) => None,
            (None, Some(_)) => return Err(DecodeError::MissingField("one-time prekey id")),
            (Some(_), None) => return Err(DecodeError::MissingField("one-time prekey")),
        };
        let kyber_pre_key = match (k_id, k, k_sig) {
            (Some(id), Some(key), Some(sig)) => Some((id, key, sig)),
            (None, None, None) => None,
            (None, _, _) => return Err(DecodeError::MissingField("Kyber prekey id")),
            (_, None, _) => return Err(DecodeError::MissingField("Kyber prekey")),
            (_, _, None) => return Err(DecodeError::MissingField("Kyber prekey signature")),
        };
        let bundle = Self {
            registration_id: reg.ok_or(DecodeError::MissingField("registration id"))?,
            device_id: dev.ok_or(DecodeError::MissingField("device id"))?,
            identity_key: ik.ok_or(DecodeError::MissingField("identity key"))?,
            pre_key,
            signed_pre_key_id: spk_id.ok_or(DecodeError::MissingField("signed prekey id"))?,
            signed_pre_key: spk.ok_or(DecodeError::MissingField("signed prekey"))?,
            signed_pre_key_signature: spk_sig.ok_or(DecodeError::MissingField("signed prekey signature"))?,
            kyber_pre_key,
        };
        // One bundle, one encoding: no non-minimal varints, no reordered fields (found by the
        // `decode_bundle` fuzz target).
        if bundle.to_bytes() != bytes {
            return Err(DecodeError::MalformedField("non-canonical bundle encoding"));
        }
        Ok(bundle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Curve25519PublicKey {
        Curve25519PublicKey::from_bytes([b; 32])
    }

    #[test]
    fn signal_message_round_trip_and_versions() {
        let m = SignalMessageWire::encode(4, &key(9), 300, 0, vec![1; 16], |_| [0xAB; 32]);
        assert_eq!(m.as_bytes()[0], 0x44);
        assert_eq!(m.mac(), &[0xAB; 8]);
        let d = SignalMessageWire::decode(m.as_bytes()).unwrap();
        assert_eq!(d, m);
        let mut old = m.as_bytes().to_vec();
        old[0] = 0x24;
        assert_eq!(SignalMessageWire::decode(&old), Err(DecodeError::LegacyVersion(0x24)));
        old[0] = 0x54;
        assert_eq!(SignalMessageWire::decode(&old), Err(DecodeError::UnsupportedVersion(0x54)));
        old[0] = 0x33; // pre-2023 X3DH version byte: accepted (only the high nibble counts)
        assert_eq!(SignalMessageWire::decode(&old).unwrap().session_version(), 3);
        assert_eq!(SignalMessageWire::decode(&[0x44; 8]), Err(DecodeError::Truncated("MAC")));
    }

    #[test]
    fn public_keys_need_the_type_byte() {
        let mut k = encode_public_key(&key(3));
        assert_eq!(decode_public_key(&k), Ok(key(3)));
        assert_eq!(decode_public_key(&k[1..]), Err(KeyError::InvalidLength { expected: 33, got: 32 }));
        k[0] = 0x06;
        assert_eq!(decode_public_key(&k), Err(KeyError::UnknownKeyType(6)));
    }

    #[test]
    fn prekey_message_kyber_rules() {
        let inner = SignalMessageWire::encode(3, &key(9), 0, 0, vec![1; 16], |_| [0; 32]);
        let fields = PreKeyFields {
            session_version: 3,
            registration_id: 7,
            pre_key_id: None,
            signed_pre_key_id: 5,
            kyber: None,
            base_key: key(1),
            identity_key: key(2),
        };
        let m = PreKeySignalMessageWire::encode(fields.clone(), inner.clone());
        assert_eq!(PreKeySignalMessageWire::decode(m.as_bytes()).unwrap(), m);
        // A version-4 message without Kyber fields.
        let mut bytes = m.as_bytes().to_vec();
        bytes[0] = 0x44;
        let inner4 = SignalMessageWire::encode(4, &key(9), 0, 0, vec![1; 16], |_| [0; 32]);
        let m4 = PreKeySignalMessageWire::encode(PreKeyFields { session_version: 4, ..fields }, inner4);
        assert_eq!(PreKeySignalMessageWire::decode(m4.as_bytes()), Err(DecodeError::MissingField("kyber_pre_key_id")));
        assert_eq!(PreKeySignalMessageWire::decode(&bytes), Err(DecodeError::MissingField("kyber_pre_key_id")));
        // A Kyber ciphertext of the wrong length.
        let mut short = m4.as_bytes().to_vec();
        put_varint_field(&mut short, 7, 1);
        put_bytes_field(&mut short, 8, &[8u8; 1568]);
        assert_eq!(
            PreKeySignalMessageWire::decode(&short),
            Err(DecodeError::InvalidFieldLength { field: "kyber_ciphertext", expected: 1569, got: 1568 })
        );
    }
}
