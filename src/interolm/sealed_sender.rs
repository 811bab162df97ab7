//! Sealed sender: libsignal's `UnidentifiedSenderMessage`, which hides the sender of a message
//! from the server. Wire- and behaviour-compatible with libsignal 0.72.1 … 0.103.0.
//!
//! It is a layer over messages that are already encrypted: a session's message (type 2 or 3),
//! a group message (type 7) or a plaintext retry request (type 8) goes, with the sender's
//! [`SenderCertificate`], into an [`UnidentifiedSenderMessageContent`] ("USMC"), and that is
//! encrypted to the recipient's identity key:
//!
//! * **v1** ([`sealed_sender_encrypt`], version byte `0x11`), one recipient:
//!   `E` fresh; `(chain, k1, m1) = HKDF(salt = "UnidentifiedDelivery" ‖ R ‖ E, DH(E, R), 96)`;
//!   `S` (the sender's identity) is sealed with AES-256-CTR and a 10-byte HMAC under `k1, m1`;
//!   `(_, k2, m2) = HKDF(salt = chain ‖ sealed S, DH(S, R), 96)` seals the USMC the same way.
//!   Keys are 33 bytes (`0x05 ‖ u`) everywhere.
//! * **v2** ([`sealed_sender_multi_recipient_encrypt`], version byte `0x23` to the server,
//!   `0x22` to each recipient): `M` random; `E = X25519(HKDF(M, "Sealed Sender v2: r (2023-08)",
//!   32))`, `K = HKDF(M, "Sealed Sender v2: K", 32)`; per recipient
//!   `C = HKDF(DH(E, R) ‖ E ‖ R, "Sealed Sender v2: DH", 32) ⊕ M` and
//!   `AT = HKDF(DH(S, R) ‖ E ‖ C ‖ S ‖ R, "Sealed Sender v2: DH-sender", 16)`; the USMC is
//!   encrypted once with AES-256-GCM-SIV under `K` (zero nonce). The recipient recovers `M`,
//!   re-derives `E` (and refuses a mismatch), decrypts, then checks `AT` against the sender
//!   certificate's key.
//!
//! The receiver ([`sealed_sender_decrypt_to_usmc`], or [`sealed_sender_decrypt`] which also
//! validates the certificate) learns the sender from the certificate: a server certificate
//! signed by a trust root, a sender certificate (UUID, phone number, device, identity key,
//! expiry) signed by the server certificate's key, both XEdDSA as libsignal signs and verifies.
//!
//! ```
//! use caudata::interolm::{
//!     ContentHint, DeviceId, IdentityKeyPair, MessageType, SenderCertificate, ServerCertificate,
//!     UnidentifiedSenderMessageContent, sealed_sender_decrypt, sealed_sender_encrypt,
//! };
//! use caudata::primitives::Curve25519SecretKey;
//!
//! // The server side: a trust root, a server certificate, a sender certificate for Alice.
//! let trust_root = Curve25519SecretKey::new();
//! let server_key = Curve25519SecretKey::new();
//! let server = ServerCertificate::new(1, &server_key.public_key(), &trust_root);
//! let alice = IdentityKeyPair::generate();
//! let bob = IdentityKeyPair::generate();
//! let cert = SenderCertificate::new(
//!     "9d0652a3-dcc3-4d11-975f-74d61598733f", None, DeviceId::PRIMARY, &alice.public_key(),
//!     1_800_000_000_000, server, &server_key,
//! );
//!
//! // Alice seals a message she has already encrypted for Bob (here: any type-2 bytes).
//! let inner = b"a SignalMessage from Alice's session with Bob".to_vec();
//! let usmc = UnidentifiedSenderMessageContent::new(MessageType::Whisper, cert, inner.clone(), ContentHint::Resendable, None);
//! let sealed = sealed_sender_encrypt(&usmc, &alice, &bob.public_key()).unwrap();
//!
//! // Bob opens it: he learns the sender from the validated certificate.
//! let opened = sealed_sender_decrypt(&sealed, &bob, &[trust_root.public_key()], 1_700_000_000_000, None).unwrap();
//! assert_eq!(opened.sender().sender_uuid(), "9d0652a3-dcc3-4d11-975f-74d61598733f");
//! assert_eq!(opened.contents(), inner);
//! ```

use subtle::ConstantTimeEq;

use super::address::{DeviceId, ProtocolAddress, ServiceId};
use super::key_records::IdentityKeyPair;
use super::message::MessageType;
use crate::error::{CertificateError, DecodeError, KeyError, SealedSenderError};
use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, OsRandom, RandomSource, SecretBytes, SharedSecret, XEdDsaSignature,
    aes256_ctr_hmac_decrypt, aes256_ctr_hmac_encrypt, aes256_gcm_siv_decrypt, aes256_gcm_siv_encrypt, hkdf_sha256,
};
use crate::wire::sealed_sender::{
    MAX_MULTI_RECIPIENT_REGISTRATION_ID, MultiRecipientEntry, MultiRecipientWire, REVOKED_SERVER_CERTIFICATE_KEY_IDS,
    SealedSenderWire, SenderCertificateFields, SenderCertificateWire, ServerCertificateWire, UsmcWire,
    V2_AUTH_TAG_LENGTH, V2_MESSAGE_KEY_LENGTH,
};
use crate::wire::signal::encode_public_key;

const SALT_PREFIX: &[u8] = b"UnidentifiedDelivery";
const LABEL_R: &[u8] = b"Sealed Sender v2: r (2023-08)";
const LABEL_K: &[u8] = b"Sealed Sender v2: K";
const LABEL_DH: &[u8] = b"Sealed Sender v2: DH";
const LABEL_DH_S: &[u8] = b"Sealed Sender v2: DH-sender";

// ------------------------------------------------------------------ certificates

fn verify(key: &Curve25519PublicKey, message: &[u8], signature: &[u8; 64]) -> bool {
    key.verify_xeddsa(message, &XEdDsaSignature::from_bytes(*signature)).is_ok()
}

/// A server certificate: a server's signing key and id, signed by a trust root (libsignal
/// `ServerCertificate`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ServerCertificate(pub(crate) ServerCertificateWire);

impl ServerCertificate {
    /// A certificate of `key` under the id `key_id`, signed by `trust_root` (what a server
    /// operator, or a test, does).
    pub fn new(key_id: u32, key: &Curve25519PublicKey, trust_root: &Curve25519SecretKey) -> Self {
        Self::new_inner(key_id, key, trust_root, &mut OsRandom)
    }

    /// [`ServerCertificate::new`] with an explicit random source (64 bytes for the signature).
    #[cfg(feature = "hazmat")]
    pub fn new_with_rng(
        key_id: u32,
        key: &Curve25519PublicKey,
        trust_root: &Curve25519SecretKey,
        rng: &mut impl RandomSource,
    ) -> Self {
        Self::new_inner(key_id, key, trust_root, rng)
    }

    fn new_inner(
        key_id: u32,
        key: &Curve25519PublicKey,
        trust_root: &Curve25519SecretKey,
        rng: &mut impl RandomSource,
    ) -> Self {
        Self(ServerCertificateWire::encode(key_id, key, |c| trust_root.sign_xeddsa_inner(c, rng).to_bytes()))
    }

    /// Decodes libsignal's serialized form.
    ///
    /// # Errors
    /// A [`DecodeError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        ServerCertificateWire::decode(bytes).map(Self)
    }

    /// The serialized form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }

    /// The certificate id.
    pub fn key_id(&self) -> u32 {
        self.0.key_id
    }

    /// The server's signing key.
    pub fn key(&self) -> Curve25519PublicKey {
        self.0.key
    }

    /// Whether the certificate is valid under `trust_root`: not revoked, and signed by it.
    pub fn validate(&self, trust_root: &Curve25519PublicKey) -> bool {
        !REVOKED_SERVER_CERTIFICATE_KEY_IDS.contains(&self.0.key_id)
            && verify(trust_root, self.0.certificate(), self.0.signature())
    }
}

/// A sender certificate: the sender's UUID, phone number, device, identity key and an expiry,
/// signed by a [`ServerCertificate`]'s key (libsignal `SenderCertificate`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SenderCertificate(pub(crate) SenderCertificateWire);

impl SenderCertificate {
    /// A certificate for a sender, signed with `signer_key` (the key `signer` certifies).
    pub fn new(
        sender_uuid: &str,
        sender_e164: Option<&str>,
        device_id: DeviceId,
        identity_key: &Curve25519PublicKey,
        expiration: u64,
        signer: ServerCertificate,
        signer_key: &Curve25519SecretKey,
    ) -> Self {
        Self::new_inner(
            sender_uuid,
            sender_e164,
            device_id,
            identity_key,
            expiration,
            signer,
            signer_key,
            &mut OsRandom,
        )
    }

    /// [`SenderCertificate::new`] with an explicit random source (64 bytes for the signature).
    #[cfg(feature = "hazmat")]
    #[allow(clippy::too_many_arguments)]
    pub fn new_with_rng(
        sender_uuid: &str,
        sender_e164: Option<&str>,
        device_id: DeviceId,
        identity_key: &Curve25519PublicKey,
        expiration: u64,
        signer: ServerCertificate,
        signer_key: &Curve25519SecretKey,
        rng: &mut impl RandomSource,
    ) -> Self {
        Self::new_inner(sender_uuid, sender_e164, device_id, identity_key, expiration, signer, signer_key, rng)
    }

    #[allow(clippy::too_many_arguments)]
    fn new_inner(
        sender_uuid: &str,
        sender_e164: Option<&str>,
        device_id: DeviceId,
        identity_key: &Curve25519PublicKey,
        expiration: u64,
        signer: ServerCertificate,
        signer_key: &Curve25519SecretKey,
        rng: &mut impl RandomSource,
    ) -> Self {
        let fields = SenderCertificateFields {
            sender_uuid: sender_uuid.to_owned(),
            sender_e164: sender_e164.map(str::to_owned),
            device_id: u32::from(device_id.get()),
            expiration,
            identity_key: *identity_key,
        };
        Self(SenderCertificateWire::encode(fields, signer.0, |c| signer_key.sign_xeddsa_inner(c, rng).to_bytes()))
    }

    /// Decodes libsignal's serialized form (nothing is validated here).
    ///
    /// # Errors
    /// A [`DecodeError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        SenderCertificateWire::decode(bytes).map(Self)
    }

    /// The serialized form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }

    /// The sender's UUID string (its ACI).
    pub fn sender_uuid(&self) -> &str {
        &self.0.fields.sender_uuid
    }

    /// The sender's ACI, if the UUID string is one.
    pub fn sender_aci(&self) -> Option<ServiceId> {
        ServiceId::parse(&self.0.fields.sender_uuid).ok().filter(|s| s.kind() == super::address::ServiceIdKind::Aci)
    }

    /// The sender's phone number, if included.
    pub fn sender_e164(&self) -> Option<&str> {
        self.0.fields.sender_e164.as_deref()
    }

    /// The sender's device id, as certified (1 … 127: decoding refuses others, as libsignal ≥
    /// 0.90 does).
    pub fn device_id(&self) -> u32 {
        self.0.fields.device_id
    }

    /// The expiration.
    pub fn expiration(&self) -> u64 {
        self.0.fields.expiration
    }

    /// The sender's identity key.
    pub fn identity_key(&self) -> Curve25519PublicKey {
        self.0.fields.identity_key
    }

    /// The server certificate that signed this one.
    pub fn signer(&self) -> ServerCertificate {
        ServerCertificate(self.0.signer.clone())
    }

    /// The sender's address (UUID string and device); `Some` for every decoded certificate.
    pub fn sender_address(&self) -> Option<ProtocolAddress> {
        let device = DeviceId::new(self.0.fields.device_id).ok()?;
        Some(ProtocolAddress::new(self.0.fields.sender_uuid.clone(), device))
    }

    /// Validates the certificate as libsignal's `validateWithTrustRoots`: one of `trust_roots`
    /// signed the (unrevoked) server certificate, whose key signed this certificate, which
    /// has not expired at `now` (compared numerically with the expiration; Signal uses
    /// milliseconds since 1970; a certificate is valid up to and including its expiration).
    /// Every trust root is tried, whatever the result of the earlier ones.
    ///
    /// # Errors
    /// The first [`CertificateError`] in that order.
    pub fn validate(&self, trust_roots: &[Curve25519PublicKey], now: u64) -> Result<(), CertificateError> {
        self.validate_with(trust_roots, now, false)
    }

    /// [`SenderCertificate::validate`]; `server_known` skips the trust roots' signature check
    /// (the caller has validated this exact server certificate under the same roots before).
    /// The checks that do not depend on signatures: revocation and expiry.
    fn validate_time(&self, now: u64) -> Result<(), CertificateError> {
        if REVOKED_SERVER_CERTIFICATE_KEY_IDS.contains(&self.0.signer.key_id) {
            return Err(CertificateError::Revoked(self.0.signer.key_id));
        }
        if now > self.0.fields.expiration {
            return Err(CertificateError::Expired { expiration: self.0.fields.expiration, now });
        }
        Ok(())
    }

    fn validate_with(
        &self,
        trust_roots: &[Curve25519PublicKey],
        now: u64,
        server_known: bool,
    ) -> Result<(), CertificateError> {
        let signer = &self.0.signer;
        if REVOKED_SERVER_CERTIFICATE_KEY_IDS.contains(&signer.key_id) {
            return Err(CertificateError::Revoked(signer.key_id));
        }
        if !server_known {
            let mut trusted = subtle::Choice::from(0);
            for root in trust_roots {
                trusted |= subtle::Choice::from(u8::from(verify(root, signer.certificate(), signer.signature())));
            }
            if !bool::from(trusted) {
                return Err(CertificateError::UntrustedServer);
            }
        }
        if !verify(&signer.key, self.0.certificate(), self.0.signature()) {
            return Err(CertificateError::InvalidSignature);
        }
        if now > self.0.fields.expiration {
            return Err(CertificateError::Expired { expiration: self.0.fields.expiration, now });
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ content

/// How the recipient should react if the content cannot be decrypted (libsignal
/// `ContentHint`); unknown values are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ContentHint {
    /// Show an error at once (the sender will not resend). Encoded by leaving the field out.
    Default,
    /// The sender will resend: delay any error.
    Resendable,
    /// Something implicit (a receipt, a typing message): show no error.
    Implicit,
    /// A value this library does not know.
    Unknown(u32),
}

impl ContentHint {
    /// The raw value (0 default, 1 resendable, 2 implicit).
    pub const fn to_u32(self) -> u32 {
        match self {
            Self::Default => 0,
            Self::Resendable => 1,
            Self::Implicit => 2,
            Self::Unknown(v) => v,
        }
    }

    /// From the raw value.
    pub const fn from_u32(v: u32) -> Self {
        match v {
            0 => Self::Default,
            1 => Self::Resendable,
            2 => Self::Implicit,
            v => Self::Unknown(v),
        }
    }
}

/// The sealed content (libsignal `UnidentifiedSenderMessageContent`): an already encrypted
/// message, its type, the sender's certificate, a content hint and an optional group id.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UnidentifiedSenderMessageContent(pub(crate) UsmcWire);

impl UnidentifiedSenderMessageContent {
    /// The content for `contents`, a message of type `message_type` (its serialized bytes).
    /// An empty group id is left out, as libsignal does.
    pub fn new(
        message_type: MessageType,
        sender: SenderCertificate,
        contents: Vec<u8>,
        content_hint: ContentHint,
        group_id: Option<Vec<u8>>,
    ) -> Self {
        // Every MessageType is one of the four numbers the content accepts.
        let wire = UsmcWire::encode(
            message_type.number(),
            sender.0.clone(),
            contents.clone(),
            content_hint.to_u32(),
            group_id.clone(),
        );
        match wire {
            Ok(w) => Self(w),
            // Unreachable (the enum has only valid types); fall back to a Whisper content
            // rather than panic.
            Err(_) => Self::new(MessageType::Whisper, sender, contents, content_hint, group_id),
        }
    }

    /// Decodes libsignal's serialized form.
    ///
    /// # Errors
    /// A [`DecodeError`] ([`DecodeError::UnknownMessageType`] for a type libsignal does not
    /// define).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        UsmcWire::decode(bytes).map(Self)
    }

    /// The serialized form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }

    /// The enclosed message's type.
    pub fn message_type(&self) -> MessageType {
        MessageType::from_number(self.0.message_type).unwrap_or(MessageType::Whisper)
    }

    /// The sender's certificate (not validated by itself: see [`sealed_sender_decrypt`]).
    pub fn sender(&self) -> SenderCertificate {
        SenderCertificate(self.0.sender.clone())
    }

    /// The enclosed message.
    pub fn contents(&self) -> &[u8] {
        &self.0.contents
    }

    /// The content hint.
    pub fn content_hint(&self) -> ContentHint {
        ContentHint::from_u32(self.0.content_hint)
    }

    /// The group id, if any.
    pub fn group_id(&self) -> Option<&[u8]> {
        self.0.group_id.as_deref()
    }
}

// ------------------------------------------------------------------ the key schedules

fn dh(ours: &Curve25519SecretKey, theirs: &Curve25519PublicKey) -> Result<SharedSecret, KeyError> {
    ours.diffie_hellman(theirs)
}

/// `(chain, cipher, mac)` = HKDF(salt, ikm, "", 96).
fn three_keys(salt: &[u8], ikm: &[u8]) -> (SecretBytes<32>, SecretBytes<32>, SecretBytes<32>) {
    let mut okm = SecretBytes::<96>::zero();
    hkdf_sha256(Some(salt), ikm, &[], okm.expose_mut());
    let split =
        |i: usize| SecretBytes::<32>::from_slice(&okm.expose()[i * 32..(i + 1) * 32]).unwrap_or_else(SecretBytes::zero);
    (split(0), split(1), split(2))
}

/// `chain ‖ sealed S`: holds the chain key, so it is wiped on drop.
fn v1_static_salt(chain: &SecretBytes<32>, encrypted_static: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut salt = zeroize::Zeroizing::new(Vec::with_capacity(32 + encrypted_static.len()));
    salt.extend_from_slice(chain.expose());
    salt.extend_from_slice(encrypted_static);
    salt
}

fn v1_ephemeral_salt(recipient: &Curve25519PublicKey, ephemeral: &Curve25519PublicKey) -> Vec<u8> {
    [SALT_PREFIX, &encode_public_key(recipient), &encode_public_key(ephemeral)].concat()
}

/// v2: `E` and `K` from `M`.
fn v2_derive(m: &SecretBytes<32>) -> (Curve25519SecretKey, SecretBytes<32>) {
    let mut r = SecretBytes::<32>::zero();
    hkdf_sha256(None, m.expose(), LABEL_R, r.expose_mut());
    let e = Curve25519SecretKey::from_secret_bytes(&r);
    let mut k = SecretBytes::<32>::zero();
    hkdf_sha256(None, m.expose(), LABEL_K, k.expose_mut());
    (e, k)
}

/// v2: `HKDF(DH ‖ E ‖ R, "DH", 32)`, the pad of `M`.
fn v2_pad(shared: &[u8; 32], e: &Curve25519PublicKey, recipient: &Curve25519PublicKey) -> SecretBytes<32> {
    let mut ikm = SecretBytes::<98>::zero();
    ikm.expose_mut()[..32].copy_from_slice(shared);
    ikm.expose_mut()[32..65].copy_from_slice(&encode_public_key(e));
    ikm.expose_mut()[65..].copy_from_slice(&encode_public_key(recipient));
    let mut out = SecretBytes::<32>::zero();
    hkdf_sha256(None, ikm.expose(), LABEL_DH, out.expose_mut());
    out
}

/// v2: `AT = HKDF(DH(S, R) ‖ E ‖ C ‖ S ‖ R, "DH-sender", 16)`.
fn v2_auth_tag(
    shared: &[u8; 32],
    e: &Curve25519PublicKey,
    c: &[u8; V2_MESSAGE_KEY_LENGTH],
    sender: &Curve25519PublicKey,
    recipient: &Curve25519PublicKey,
) -> [u8; V2_AUTH_TAG_LENGTH] {
    let mut ikm = SecretBytes::<163>::zero();
    let b = ikm.expose_mut();
    b[..32].copy_from_slice(shared);
    b[32..65].copy_from_slice(&encode_public_key(e));
    b[65..97].copy_from_slice(c);
    b[97..130].copy_from_slice(&encode_public_key(sender));
    b[130..].copy_from_slice(&encode_public_key(recipient));
    let mut out = [0u8; V2_AUTH_TAG_LENGTH];
    hkdf_sha256(None, ikm.expose(), LABEL_DH_S, &mut out);
    out
}

fn xor32(a: &SecretBytes<32>, b: &[u8; 32]) -> SecretBytes<32> {
    let mut out = SecretBytes::<32>::zero();
    for ((o, x), y) in out.expose_mut().iter_mut().zip(a.expose()).zip(b) {
        *o = x ^ y;
    }
    out
}

// ------------------------------------------------------------------ v1

/// Sealed sender v1 (libsignal `sealedSenderEncrypt`): seals `content` from `sender` (this
/// device's identity) to `recipient_identity`.
///
/// # Errors
/// [`SealedSenderError::Key`] if the recipient's identity key is not canonical or has small
/// order.
pub fn sealed_sender_encrypt(
    content: &UnidentifiedSenderMessageContent,
    sender: &IdentityKeyPair,
    recipient_identity: &Curve25519PublicKey,
) -> Result<Vec<u8>, SealedSenderError> {
    sealed_sender_encrypt_inner(content, sender, recipient_identity, &mut OsRandom)
}

/// [`sealed_sender_encrypt`] with an explicit random source (32 bytes for the ephemeral key).
///
/// # Errors
/// As [`sealed_sender_encrypt`].
#[cfg(feature = "hazmat")]
pub fn sealed_sender_encrypt_with_rng(
    content: &UnidentifiedSenderMessageContent,
    sender: &IdentityKeyPair,
    recipient_identity: &Curve25519PublicKey,
    rng: &mut impl RandomSource,
) -> Result<Vec<u8>, SealedSenderError> {
    sealed_sender_encrypt_inner(content, sender, recipient_identity, rng)
}

fn sealed_sender_encrypt_inner(
    content: &UnidentifiedSenderMessageContent,
    sender: &IdentityKeyPair,
    recipient: &Curve25519PublicKey,
    rng: &mut impl RandomSource,
) -> Result<Vec<u8>, SealedSenderError> {
    seal_v1_bytes(content.0.as_bytes(), sender, recipient, rng)
}

/// v1 around any content bytes (the fuzzers seal arbitrary contents with it).
pub(crate) fn seal_v1_bytes(
    content: &[u8],
    sender: &IdentityKeyPair,
    recipient: &Curve25519PublicKey,
    rng: &mut impl RandomSource,
) -> Result<Vec<u8>, SealedSenderError> {
    recipient.validate_vartime()?;
    let e = Curve25519SecretKey::random(rng);
    let e_pub = e.public_key();
    let (chain, k1, m1) = three_keys(&v1_ephemeral_salt(recipient, &e_pub), dh(&e, recipient)?.expose());
    let encrypted_static = aes256_ctr_hmac_encrypt(k1.expose(), m1.expose(), &encode_public_key(&sender.public_key()));
    let salt = v1_static_salt(&chain, &encrypted_static);
    let (_, k2, m2) = three_keys(&salt, dh(sender.secret_key(), recipient)?.expose());
    let encrypted_message = aes256_ctr_hmac_encrypt(k2.expose(), m2.expose(), content);
    Ok(SealedSenderWire::V1 { ephemeral: e_pub, encrypted_static, encrypted_message }.encode())
}

// ------------------------------------------------------------------ v2 (multi-recipient)

/// One recipient of [`sealed_sender_multi_recipient_encrypt`]: a user (service id and identity
/// key) and the devices to deliver to, each with the registration id of its session.
#[derive(Clone, Debug)]
pub struct SealedSenderRecipient {
    /// The recipient's service id.
    pub service_id: ServiceId,
    /// The recipient's identity key.
    pub identity_key: Curve25519PublicKey,
    /// `(device id, registration id)` per device; registration ids must fit in 14 bits.
    pub devices: Vec<(DeviceId, u32)>,
}

/// Sealed sender v2 to several recipients at once (libsignal
/// `sealedSenderMultiRecipientEncrypt`): the "SentMessage" a server fans out
/// ([`multi_recipient_message_for_recipient`] does the server's part).
///
/// # Errors
/// [`SealedSenderError::InvalidRecipient`] for a recipient without devices, a registration id
/// over 14 bits or a service id listed twice; [`SealedSenderError::Key`] for an unusable
/// identity key.
pub fn sealed_sender_multi_recipient_encrypt(
    content: &UnidentifiedSenderMessageContent,
    sender: &IdentityKeyPair,
    recipients: &[SealedSenderRecipient],
    excluded: &[ServiceId],
) -> Result<Vec<u8>, SealedSenderError> {
    multi_recipient_encrypt_inner(content, sender, recipients, excluded, &mut OsRandom)
}

/// [`sealed_sender_multi_recipient_encrypt`] with an explicit random source (32 bytes for `M`).
///
/// # Errors
/// As [`sealed_sender_multi_recipient_encrypt`].
#[cfg(feature = "hazmat")]
pub fn sealed_sender_multi_recipient_encrypt_with_rng(
    content: &UnidentifiedSenderMessageContent,
    sender: &IdentityKeyPair,
    recipients: &[SealedSenderRecipient],
    excluded: &[ServiceId],
    rng: &mut impl RandomSource,
) -> Result<Vec<u8>, SealedSenderError> {
    multi_recipient_encrypt_inner(content, sender, recipients, excluded, rng)
}

fn multi_recipient_encrypt_inner(
    content: &UnidentifiedSenderMessageContent,
    sender: &IdentityKeyPair,
    recipients: &[SealedSenderRecipient],
    excluded: &[ServiceId],
    rng: &mut impl RandomSource,
) -> Result<Vec<u8>, SealedSenderError> {
    let mut seen = std::collections::BTreeSet::new();
    for id in recipients.iter().map(|r| &r.service_id).chain(excluded) {
        if !seen.insert(*id) {
            return Err(SealedSenderError::InvalidRecipient("a service id listed twice"));
        }
    }
    let m = SecretBytes::<32>::random(rng);
    let (e, k) = v2_derive(&m);
    let e_pub = e.public_key();
    let sender_pub = sender.public_key();
    let mut entries = Vec::with_capacity(recipients.len() + excluded.len());
    for r in recipients {
        if r.devices.is_empty() {
            return Err(SealedSenderError::InvalidRecipient("a recipient without devices"));
        }
        let mut devices = Vec::with_capacity(r.devices.len());
        for &(device, reg) in &r.devices {
            if reg > MAX_MULTI_RECIPIENT_REGISTRATION_ID {
                return Err(SealedSenderError::InvalidRecipient("a registration id over 14 bits"));
            }
            devices.push((u32::from(device.get()), reg as u16));
        }
        r.identity_key.validate_vartime()?;
        let c = xor32(&v2_pad(dh(&e, &r.identity_key)?.expose(), &e_pub, &r.identity_key), m.expose());
        let c: [u8; 32] = *c.expose();
        let at =
            v2_auth_tag(dh(sender.secret_key(), &r.identity_key)?.expose(), &e_pub, &c, &sender_pub, &r.identity_key);
        let mut km = [0u8; V2_MESSAGE_KEY_LENGTH + V2_AUTH_TAG_LENGTH];
        km[..32].copy_from_slice(&c);
        km[32..].copy_from_slice(&at);
        entries.push(MultiRecipientEntry {
            service_id: r.service_id.to_fixed_width_bytes(),
            devices,
            key_material: Some(km),
        });
    }
    for id in excluded {
        entries.push(MultiRecipientEntry {
            service_id: id.to_fixed_width_bytes(),
            devices: Vec::new(),
            key_material: None,
        });
    }
    let ciphertext = aes256_gcm_siv_encrypt(k.expose(), content.0.as_bytes());
    MultiRecipientWire::encode(&entries, &e_pub, &ciphertext)
        .map_err(|_| SealedSenderError::InvalidRecipient("unencodable recipient"))
}

/// One recipient of a multi-recipient message, as a server sees it
/// ([`multi_recipient_message_for_recipient`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MultiRecipientDelivery {
    /// The recipient.
    pub service_id: ServiceId,
    /// `(device id, registration id)` of each of its devices; empty for an excluded recipient.
    pub devices: Vec<(u32, u16)>,
    /// The v2 envelope each of its devices receives; `None` for an excluded recipient.
    pub message: Option<Vec<u8>>,
}

/// One recipient's v2 envelope around any content bytes (what a server would hand it; the
/// fuzzers seal arbitrary contents with it).
#[cfg(feature = "hazmat")]
pub(crate) fn seal_v2_bytes(
    content: &[u8],
    sender: &IdentityKeyPair,
    recipient: &Curve25519PublicKey,
    rng: &mut impl RandomSource,
) -> Result<Vec<u8>, SealedSenderError> {
    let m = SecretBytes::<32>::random(rng);
    let (e, k) = v2_derive(&m);
    let e_pub = e.public_key();
    recipient.validate_vartime()?;
    let c = xor32(&v2_pad(dh(&e, recipient)?.expose(), &e_pub, recipient), m.expose());
    let c: [u8; 32] = *c.expose();
    let at = v2_auth_tag(dh(sender.secret_key(), recipient)?.expose(), &e_pub, &c, &sender.public_key(), recipient);
    let encrypted_message = aes256_gcm_siv_encrypt(k.expose(), content);
    Ok(SealedSenderWire::V2 { encrypted_message_key: c, auth_tag: at, ephemeral: e_pub, encrypted_message }.encode())
}

/// The server's part of sealed sender v2: the recipients of a multi-recipient message, in
/// message order, each with its devices and the envelope its devices receive.
///
/// # Errors
/// A [`DecodeError`] for a malformed message.
pub fn multi_recipient_message_for_recipient(sent: &[u8]) -> Result<Vec<MultiRecipientDelivery>, DecodeError> {
    let m = MultiRecipientWire::decode(sent)?;
    let mut out = Vec::with_capacity(m.recipients.len());
    for (i, r) in m.recipients.iter().enumerate() {
        let service_id =
            ServiceId::from_fixed_width_bytes(&r.service_id).map_err(|_| DecodeError::MalformedField("service id"))?;
        out.push(MultiRecipientDelivery {
            service_id,
            devices: r.devices.clone(),
            message: m.message_for_recipient(i),
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------ opening

/// Opens a v1 or v2 envelope with this device's identity (libsignal
/// `sealedSenderDecryptToUsmc`): the content, whose certificate is **not** validated yet, but
/// whose identity key is checked to be the key that sealed the message.
///
/// # Errors
/// [`SealedSenderError::Decode`], [`SealedSenderError::DecryptionFailed`],
/// [`SealedSenderError::SenderKeyMismatch`] or [`SealedSenderError::Key`].
pub fn sealed_sender_decrypt_to_usmc(
    sealed: &[u8],
    recipient: &IdentityKeyPair,
) -> Result<UnidentifiedSenderMessageContent, SealedSenderError> {
    open(sealed, recipient, |s| dh(recipient.secret_key(), s))
}

/// Opens an envelope; `static_dh(S)` is `DH(recipient, S)` (computed, or remembered).
fn open(
    sealed: &[u8],
    recipient: &IdentityKeyPair,
    mut static_dh: impl FnMut(&Curve25519PublicKey) -> Result<SharedSecret, KeyError>,
) -> Result<UnidentifiedSenderMessageContent, SealedSenderError> {
    let r_pub = recipient.public_key();
    match SealedSenderWire::decode(sealed)? {
        SealedSenderWire::V1 { ephemeral, encrypted_static, encrypted_message } => {
            let (chain, k1, m1) =
                three_keys(&v1_ephemeral_salt(&r_pub, &ephemeral), dh(recipient.secret_key(), &ephemeral)?.expose());
            let static_bytes = aes256_ctr_hmac_decrypt(k1.expose(), m1.expose(), &encrypted_static)
                .ok_or(SealedSenderError::DecryptionFailed)?;
            let sender = crate::wire::signal::decode_public_key(&static_bytes).map_err(SealedSenderError::Key)?;
            let salt = v1_static_salt(&chain, &encrypted_static);
            let (_, k2, m2) = three_keys(&salt, static_dh(&sender)?.expose());
            let bytes = aes256_ctr_hmac_decrypt(k2.expose(), m2.expose(), &encrypted_message)
                .ok_or(SealedSenderError::DecryptionFailed)?;
            let usmc = UsmcWire::decode(&bytes)?;
            if !bool::from(usmc.sender.fields.identity_key.as_bytes().ct_eq(sender.as_bytes())) {
                return Err(SealedSenderError::SenderKeyMismatch);
            }
            Ok(UnidentifiedSenderMessageContent(usmc))
        }
        SealedSenderWire::V2 { encrypted_message_key, auth_tag, ephemeral, encrypted_message } => {
            let pad = v2_pad(dh(recipient.secret_key(), &ephemeral)?.expose(), &ephemeral, &r_pub);
            let m = xor32(&pad, &encrypted_message_key);
            let (e, k) = v2_derive(&m);
            if !bool::from(e.public_key().as_bytes().ct_eq(ephemeral.as_bytes())) {
                return Err(SealedSenderError::DecryptionFailed);
            }
            let bytes =
                aes256_gcm_siv_decrypt(k.expose(), &encrypted_message).ok_or(SealedSenderError::DecryptionFailed)?;
            let usmc = UsmcWire::decode(&bytes)?;
            let sender = usmc.sender.fields.identity_key;
            let at = v2_auth_tag(static_dh(&sender)?.expose(), &ephemeral, &encrypted_message_key, &sender, &r_pub);
            if !bool::from(at.ct_eq(&auth_tag)) {
                return Err(SealedSenderError::SenderKeyMismatch);
            }
            Ok(UnidentifiedSenderMessageContent(usmc))
        }
    }
}

/// Opens an envelope and validates its sender, as libsignal's `sealedSenderDecryptMessage`
/// does before it decrypts the enclosed message: the certificate must validate under one of
/// `trust_roots` at `now` ([`SenderCertificate::validate`]), and must not name this very
/// device (`local`: its own UUID string and device id; a sender with the same UUID and another
/// device is fine). The enclosed message is returned still encrypted: decrypt it with the
/// session of [`SenderCertificate::sender_address`] (types 2 and 3), the sender-key record of
/// that address (type 7), or read it as a [`PlaintextContent`](crate::interolm::PlaintextContent)
/// (type 8).
///
/// # Errors
/// As [`sealed_sender_decrypt_to_usmc`], [`SealedSenderError::Certificate`], or
/// [`SealedSenderError::SelfSend`].
pub fn sealed_sender_decrypt(
    sealed: &[u8],
    recipient: &IdentityKeyPair,
    trust_roots: &[Curve25519PublicKey],
    now: u64,
    local: Option<&ProtocolAddress>,
) -> Result<UnidentifiedSenderMessageContent, SealedSenderError> {
    let usmc = sealed_sender_decrypt_to_usmc(sealed, recipient)?;
    let cert = SenderCertificate(usmc.0.sender.clone());
    cert.validate(trust_roots, now)?;
    check_not_self(&cert, local)?;
    Ok(usmc)
}

/// Server certificates a [`SealedSenderReceiver`] remembers as validated.
pub const MAX_KNOWN_SERVER_CERTIFICATES: usize = 16;
/// Sender certificates, and senders' static Diffie-Hellman values, a [`SealedSenderReceiver`]
/// remembers.
pub const MAX_KNOWN_SENDERS: usize = 256;

/// A recipient of sealed-sender messages that remembers work between messages, for speed:
/// certificates whose signatures it has checked under its trust roots — sender certificates
/// (a sender uses one for a day or so: each saves two XEdDSA verifications per message) and
/// server certificates (a service has a handful: one verification for a new sender
/// certificate) — keyed by the SHA-256 of their exact bytes; and the static Diffie-Hellman of
/// its identity with recent senders' identities (each saves one X25519 per message).
/// Revocation and expiry are checked on every message. All three are bounded
/// ([`MAX_KNOWN_SERVER_CERTIFICATES`], [`MAX_KNOWN_SENDERS`], the oldest forgotten first); the
/// Diffie-Hellman results are secrets, wiped when forgotten or dropped. Results are exactly
/// those of [`sealed_sender_decrypt`] and [`sealed_sender_decrypt_to_usmc`].
pub struct SealedSenderReceiver {
    identity: IdentityKeyPair,
    trust_roots: Vec<Curve25519PublicKey>,
    servers: std::collections::VecDeque<[u8; 32]>,
    senders: std::collections::VecDeque<[u8; 32]>,
    statics: std::collections::VecDeque<(Curve25519PublicKey, SharedSecret)>,
}

impl core::fmt::Debug for SealedSenderReceiver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { identity, trust_roots, servers, senders, statics } = self;
        f.debug_struct("SealedSenderReceiver")
            .field("identity", &identity.public_key())
            .field("trust_roots", trust_roots)
            .field("known_servers", &servers.len())
            .field("known_sender_certificates", &senders.len())
            .field("known_senders", &statics.len())
            .finish_non_exhaustive()
    }
}

impl SealedSenderReceiver {
    /// A receiver with this identity and these trust roots.
    pub fn new(identity: IdentityKeyPair, trust_roots: Vec<Curve25519PublicKey>) -> Self {
        Self {
            identity,
            trust_roots,
            servers: Default::default(),
            senders: Default::default(),
            statics: Default::default(),
        }
    }

    /// [`sealed_sender_decrypt_to_usmc`] with the remembered Diffie-Hellman results. A new
    /// sender's result is remembered only once the envelope has opened: a refused envelope
    /// changes nothing (else anyone could make the receiver remember keys of their choice,
    /// evicting real senders).
    ///
    /// # Errors
    /// As [`sealed_sender_decrypt_to_usmc`].
    pub fn decrypt_to_usmc(&mut self, sealed: &[u8]) -> Result<UnidentifiedSenderMessageContent, SealedSenderError> {
        let (usmc, new_static) = self.open_remembering(sealed)?;
        self.remember_static(new_static);
        Ok(usmc)
    }

    /// Opens with the remembered Diffie-Hellman results, changing nothing: the content, and the
    /// sender's result if it was not remembered yet.
    fn open_remembering(
        &self,
        sealed: &[u8],
    ) -> Result<(UnidentifiedSenderMessageContent, Option<(Curve25519PublicKey, SharedSecret)>), SealedSenderError>
    {
        let Self { identity, statics, .. } = self;
        let mut new_static = None;
        let usmc = open(sealed, identity, |sender| {
            if let Some((_, s)) = statics.iter().find(|(k, _)| k == sender) {
                return Ok(s.clone());
            }
            let s = dh(identity.secret_key(), sender)?;
            new_static = Some((*sender, s.clone()));
            Ok(s)
        })?;
        Ok((usmc, new_static))
    }

    fn remember_static(&mut self, new_static: Option<(Curve25519PublicKey, SharedSecret)>) {
        if let Some(entry) = new_static {
            if self.statics.len() >= MAX_KNOWN_SENDERS {
                self.statics.pop_front();
            }
            self.statics.push_back(entry);
        }
    }

    /// [`sealed_sender_decrypt`] with the remembered server certificates and Diffie-Hellman
    /// results. What is new (a sender's Diffie-Hellman result, a validated sender or server
    /// certificate) is remembered only when the whole call succeeds: a refused envelope, an
    /// invalid certificate or a self-send changes nothing.
    ///
    /// # Errors
    /// As [`sealed_sender_decrypt`].
    pub fn decrypt(
        &mut self,
        sealed: &[u8],
        now: u64,
        local: Option<&ProtocolAddress>,
    ) -> Result<UnidentifiedSenderMessageContent, SealedSenderError> {
        let (usmc, new_static) = self.open_remembering(sealed)?;
        let cert = SenderCertificate(usmc.0.sender.clone());
        let cert_id = crate::primitives::sha256(&[cert.0.as_bytes()]);
        let mut new_ids = None;
        if self.senders.contains(&cert_id) {
            cert.validate_time(now)?;
        } else {
            let server_id = crate::primitives::sha256(&[cert.0.signer.as_bytes()]);
            let server_known = self.servers.contains(&server_id);
            cert.validate_with(&self.trust_roots, now, server_known)?;
            new_ids = Some((cert_id, (!server_known).then_some(server_id)));
        }
        check_not_self(&cert, local)?;
        self.remember_static(new_static);
        if let Some((cert_id, server_id)) = new_ids {
            remember(&mut self.senders, cert_id, MAX_KNOWN_SENDERS);
            if let Some(server_id) = server_id {
                remember(&mut self.servers, server_id, MAX_KNOWN_SERVER_CERTIFICATES);
            }
        }
        Ok(usmc)
    }

    /// ⚠️ What the receiver remembers, as bytes: the SHA-256 ids of the server and sender
    /// certificates and the public keys of the senders whose Diffie-Hellman results it keeps,
    /// each list oldest first (the results themselves follow from the keys). For tests that
    /// check that a refused envelope changes nothing.
    #[cfg(feature = "hazmat")]
    pub fn remembered_for_testing(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for list in [&self.servers, &self.senders] {
            out.extend_from_slice(&(list.len() as u32).to_be_bytes());
            list.iter().for_each(|id| out.extend_from_slice(id));
        }
        out.extend_from_slice(&(self.statics.len() as u32).to_be_bytes());
        self.statics.iter().for_each(|(k, _)| out.extend_from_slice(k.as_bytes()));
        out
    }
}

fn remember(list: &mut std::collections::VecDeque<[u8; 32]>, id: [u8; 32], max: usize) {
    if list.len() >= max {
        list.pop_front();
    }
    list.push_back(id);
}

fn check_not_self(cert: &SenderCertificate, local: Option<&ProtocolAddress>) -> Result<(), SealedSenderError> {
    if let Some(local) = local
        && local.name() == cert.sender_uuid()
        && u32::from(local.device_id().get()) == cert.device_id()
    {
        return Err(SealedSenderError::SelfSend);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Curve25519SecretKey, SenderCertificate, IdentityKeyPair, IdentityKeyPair) {
        let root = Curve25519SecretKey::new();
        let server_key = Curve25519SecretKey::new();
        let server = ServerCertificate::new(9, &server_key.public_key(), &root);
        let alice = IdentityKeyPair::generate();
        let bob = IdentityKeyPair::generate();
        let cert =
            SenderCertificate::new("a", Some("+1"), DeviceId::PRIMARY, &alice.public_key(), 100, server, &server_key);
        (root, cert, alice, bob)
    }

    /// `usmc` sealed by `sender` as a v2 (multi-recipient) message to `bob`'s primary device,
    /// and the part of it that device receives.
    fn v2_to_bob(usmc: &UnidentifiedSenderMessageContent, sender: &IdentityKeyPair, bob: &IdentityKeyPair) -> Vec<u8> {
        let bob_id = ServiceId::parse("aaaaaaaa-7000-11eb-b32a-33b8a8a487a6").unwrap();
        let sent = sealed_sender_multi_recipient_encrypt(
            usmc,
            sender,
            &[SealedSenderRecipient {
                service_id: bob_id,
                identity_key: bob.public_key(),
                devices: vec![(DeviceId::PRIMARY, 7)],
            }],
            &[],
        )
        .unwrap();
        multi_recipient_message_for_recipient(&sent).unwrap()[0].message.clone().unwrap()
    }

    #[test]
    fn the_receiver_agrees_with_the_free_functions() {
        let (root, cert, alice, bob) = setup();
        let mut r = SealedSenderReceiver::new(bob.clone(), vec![root.public_key()]);
        let usmc = UnidentifiedSenderMessageContent::new(
            MessageType::Whisper,
            cert.clone(),
            vec![1; 9],
            ContentHint::Default,
            None,
        );
        let good = sealed_sender_encrypt(&usmc, &alice, &bob.public_key()).unwrap();
        // a certificate by another server, and one for another key
        let other_root = Curve25519SecretKey::new();
        let other_server = Curve25519SecretKey::new();
        let untrusted = SenderCertificate::new(
            "a",
            None,
            DeviceId::PRIMARY,
            &alice.public_key(),
            100,
            ServerCertificate::new(9, &other_server.public_key(), &other_root),
            &other_server,
        );
        let bad_server = sealed_sender_encrypt(
            &UnidentifiedSenderMessageContent::new(MessageType::Whisper, untrusted, vec![], ContentHint::Default, None),
            &alice,
            &bob.public_key(),
        )
        .unwrap();
        let mallory = IdentityKeyPair::generate();
        let wrong_key = sealed_sender_encrypt(&usmc, &mallory, &bob.public_key()).unwrap();
        let me = ProtocolAddress::new("a", DeviceId::PRIMARY);
        for _ in 0..2 {
            for (e, now, local) in [
                (&good, 100, None),
                (&good, 101, None),
                (&bad_server, 50, None),
                (&wrong_key, 50, None),
                (&good, 50, Some(&me)),
            ] {
                assert_eq!(r.decrypt(e, now, local), sealed_sender_decrypt(e, &bob, &[root.public_key()], now, local));
                assert_eq!(r.decrypt_to_usmc(e), sealed_sender_decrypt_to_usmc(e, &bob));
            }
        }
        // alice's certificate, its server and her Diffie-Hellman value; nothing of the refused
        // envelopes (mallory's static key was named, but her envelope was refused)
        assert_eq!((r.servers.len(), r.senders.len(), r.statics.len()), (1, 1, 1));
    }

    #[test]
    fn v1_and_v2_round_trip_and_tamper() {
        let (root, cert, alice, bob) = setup();
        let usmc = UnidentifiedSenderMessageContent::new(
            MessageType::SenderKey,
            cert,
            b"inner".to_vec(),
            ContentHint::Implicit,
            Some(b"g".to_vec()),
        );
        let v1 = sealed_sender_encrypt(&usmc, &alice, &bob.public_key()).unwrap();
        let v2 = v2_to_bob(&usmc, &alice, &bob);
        for sealed in [v1, v2] {
            let got = sealed_sender_decrypt(&sealed, &bob, &[root.public_key()], 100, None).unwrap();
            assert_eq!(got, usmc);
            assert_eq!(
                sealed_sender_decrypt(&sealed, &bob, &[root.public_key()], 101, None),
                Err(SealedSenderError::Certificate(CertificateError::Expired { expiration: 100, now: 101 }))
            );
            assert!(sealed_sender_decrypt_to_usmc(&sealed, &alice).is_err(), "only the recipient opens it");
            for i in (0..sealed.len()).step_by(7) {
                let mut bad = sealed.clone();
                bad[i] ^= 0x40;
                assert!(sealed_sender_decrypt_to_usmc(&bad, &bob).is_err(), "byte {i}");
            }
        }
    }

    #[test]
    fn certificate_checks_refuse_each_fault() {
        let root = Curve25519SecretKey::new();
        let other_root = Curve25519SecretKey::new();
        let server_key = Curve25519SecretKey::new();
        let alice = IdentityKeyPair::generate();
        let server = ServerCertificate::new(9, &server_key.public_key(), &root);
        let revoked = ServerCertificate::new(0xDEAD_C357, &server_key.public_key(), &root);
        // the server certificate: signed by its root, not revoked
        assert!(server.validate(&root.public_key()));
        assert!(!server.validate(&other_root.public_key()), "another root");
        assert!(!revoked.validate(&root.public_key()), "revoked id");
        let cert = |signer: &ServerCertificate, key: &Curve25519SecretKey| {
            SenderCertificate::new("a", None, DeviceId::PRIMARY, &alice.public_key(), 100, signer.clone(), key)
        };
        let good = cert(&server, &server_key);
        let roots = [root.public_key()];
        assert_eq!(good.validate(&roots, 0), Ok(()));
        assert_eq!(good.validate(&roots, 100), Ok(()), "valid up to and including the expiration");
        assert_eq!(good.validate(&roots, 101), Err(CertificateError::Expired { expiration: 100, now: 101 }));
        assert_eq!(good.validate(&[other_root.public_key()], 50), Err(CertificateError::UntrustedServer));
        assert_eq!(good.validate(&[], 50), Err(CertificateError::UntrustedServer));
        // any one of several roots will do, whichever position it has
        assert_eq!(good.validate(&[other_root.public_key(), root.public_key()], 50), Ok(()));
        assert_eq!(good.validate(&[root.public_key(), other_root.public_key()], 50), Ok(()));
        assert_eq!(cert(&revoked, &server_key).validate(&roots, 50), Err(CertificateError::Revoked(0xDEAD_C357)));
        // signed by a key other than the one its server certificate names
        let forged = cert(&server, &other_root);
        assert_eq!(forged.validate(&roots, 50), Err(CertificateError::InvalidSignature));
        // the receiver's remembered path: revocation and expiry still checked per message
        assert_eq!(good.validate_with(&[], 50, true), Ok(()));
        assert_eq!(forged.validate_with(&[], 50, true), Err(CertificateError::InvalidSignature));
        assert_eq!(good.validate_with(&[], 101, true), Err(CertificateError::Expired { expiration: 100, now: 101 }));
        assert_eq!(good.validate_time(100), Ok(()));
        assert_eq!(good.validate_time(101), Err(CertificateError::Expired { expiration: 100, now: 101 }));
        assert_eq!(cert(&revoked, &server_key).validate_time(50), Err(CertificateError::Revoked(0xDEAD_C357)));
    }

    #[test]
    fn only_this_very_device_is_a_self_send() {
        let (_, cert, _, _) = setup();
        let other_device = DeviceId::new(2).unwrap();
        assert_eq!(check_not_self(&cert, None), Ok(()));
        assert_eq!(
            check_not_self(&cert, Some(&ProtocolAddress::new("a", DeviceId::PRIMARY))),
            Err(SealedSenderError::SelfSend)
        );
        assert_eq!(check_not_self(&cert, Some(&ProtocolAddress::new("a", other_device))), Ok(()));
        assert_eq!(check_not_self(&cert, Some(&ProtocolAddress::new("b", DeviceId::PRIMARY))), Ok(()));
    }

    #[test]
    fn a_v2_envelope_sealed_by_another_identity_is_refused() {
        let (root, cert, alice, bob) = setup();
        let usmc =
            UnidentifiedSenderMessageContent::new(MessageType::Whisper, cert, vec![3; 5], ContentHint::Default, None);
        let to_bob = |sender: &IdentityKeyPair| v2_to_bob(&usmc, sender, &bob);
        assert_eq!(sealed_sender_decrypt_to_usmc(&to_bob(&alice), &bob), Ok(usmc.clone()));
        // mallory seals alice's certificate: the authentication tag is over mallory's static key
        let mallory = IdentityKeyPair::generate();
        let forged = to_bob(&mallory);
        assert_eq!(sealed_sender_decrypt_to_usmc(&forged, &bob), Err(SealedSenderError::SenderKeyMismatch));
        let mut r = SealedSenderReceiver::new(bob.clone(), vec![root.public_key()]);
        assert_eq!(r.decrypt(&forged, 50, None), Err(SealedSenderError::SenderKeyMismatch));
        assert_eq!((r.servers.len(), r.senders.len(), r.statics.len()), (0, 0, 0));
    }

    #[test]
    fn the_receiver_uses_each_senders_own_remembered_secret() {
        let (root, cert_a, alice, bob) = setup();
        let server_key = Curve25519SecretKey::new();
        let carol = IdentityKeyPair::generate();
        let cert_c = SenderCertificate::new(
            "c",
            None,
            DeviceId::PRIMARY,
            &carol.public_key(),
            100,
            ServerCertificate::new(10, &server_key.public_key(), &root),
            &server_key,
        );
        let mut r = SealedSenderReceiver::new(bob.clone(), vec![root.public_key()]);
        for _ in 0..2 {
            for (cert, who) in [(&cert_a, &alice), (&cert_c, &carol)] {
                let usmc = UnidentifiedSenderMessageContent::new(
                    MessageType::Whisper,
                    cert.clone(),
                    vec![7],
                    ContentHint::Default,
                    None,
                );
                let sealed = sealed_sender_encrypt(&usmc, who, &bob.public_key()).unwrap();
                assert_eq!(r.decrypt(&sealed, 50, None), Ok(usmc.clone()));
                assert_eq!(r.decrypt_to_usmc(&sealed), Ok(usmc));
            }
        }
        // two servers, two sender certificates, two static secrets: each remembered once
        assert_eq!((r.servers.len(), r.senders.len(), r.statics.len()), (2, 2, 2));
    }

    /// What the receiver reports remembering is what it holds: the server certificate id, the
    /// sender certificate id and the sender's key, each list with its count (the tests that
    /// check that a refused envelope changes nothing compare these bytes).
    #[cfg(feature = "hazmat")]
    #[test]
    fn remembered_for_testing_lists_what_is_remembered() {
        let (root, cert, alice, bob) = setup();
        let mut r = SealedSenderReceiver::new(bob.clone(), vec![root.public_key()]);
        assert_eq!(r.remembered_for_testing(), [0u8; 12]);
        let usmc =
            UnidentifiedSenderMessageContent::new(MessageType::Whisper, cert, vec![7], ContentHint::Default, None);
        r.decrypt(&sealed_sender_encrypt(&usmc, &alice, &bob.public_key()).unwrap(), 50, None).unwrap();
        let mut expected = Vec::new();
        for id in [&r.servers[0], &r.senders[0], alice.public_key().as_bytes()] {
            expected.extend_from_slice(&1u32.to_be_bytes());
            expected.extend_from_slice(id);
        }
        assert_eq!(r.remembered_for_testing(), expected);
    }

    /// libsignal 0.103.0's envelopes (test-vectors/interolm, made by its Node client) open to
    /// its contents: a known answer for the key derivations, which a round trip through
    /// caudata alone cannot check (a derivation changed on both sides still agrees with itself).
    #[test]
    fn libsignal_0_103_0_envelopes_open_to_its_contents() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../test-vectors/interolm/sealed_sender_libsignal-0.103.0.json"))
                .unwrap();
        let b = |k: &serde_json::Value| hex::decode(k.as_str().unwrap()).unwrap();
        let key = |k: &serde_json::Value| crate::wire::signal::decode_public_key(&b(k)).unwrap();
        let root = key(&v["trust_root_public"]);
        let cert = SenderCertificate::from_bytes(&b(&v["sender_certificate"])).unwrap();
        assert_eq!(
            (cert.identity_key(), cert.sender_e164(), cert.device_id(), cert.expiration()),
            (key(&v["alice_identity_public"]), Some("+14155550123"), 1, 1_800_000_000_000)
        );
        let server = cert.signer();
        assert_eq!((server.key_id(), server.key()), (0x2a, key(&v["server_key_public"])));
        let secret = SecretBytes::from_slice(&b(&v["bob_identity_private"])).unwrap();
        let bob = IdentityKeyPair::from_secret_key(Curve25519SecretKey::from_secret_bytes(&secret));
        let mut r = SealedSenderReceiver::new(bob.clone(), vec![root]);
        for (version, envelope) in [("v1", "sealed"), ("v2", "for_bob")] {
            let sealed = b(&v[version][envelope]);
            let usmc = sealed_sender_decrypt_to_usmc(&sealed, &bob).unwrap();
            assert_eq!(usmc.to_bytes(), b(&v[version]["usmc"]), "{version}");
            assert_eq!(r.decrypt(&sealed, 1_700_000_000_000, None).unwrap(), usmc);
            assert_eq!(
                (usmc.message_type().number(), usmc.content_hint().to_u32(), usmc.sender().to_bytes()),
                (
                    v[version]["type"].as_u64().unwrap() as u8,
                    v[version]["content_hint"].as_u64().unwrap() as u32,
                    cert.to_bytes()
                )
            );
            assert_eq!(
                usmc.group_id().map(<[u8]>::to_vec),
                v[version]["group_id"].as_str().map(|_| b(&v[version]["group_id"]))
            );
        }
    }

    #[test]
    fn certificate_and_content_accessors() {
        let (root, server_key, alice) =
            (Curve25519SecretKey::new(), Curve25519SecretKey::new(), IdentityKeyPair::generate());
        let device = DeviceId::new(5).unwrap();
        let cert = |uuid: &str| {
            let server = ServerCertificate::new(9, &server_key.public_key(), &root);
            SenderCertificate::new(uuid, None, device, &alice.public_key(), 100, server, &server_key)
        };
        let aci = "aaaaaaaa-7000-11eb-b32a-33b8a8a487a6";
        let c = cert(aci);
        assert_eq!(
            (c.sender_uuid(), c.sender_aci(), c.sender_e164()),
            (aci, Some(ServiceId::parse(aci).unwrap()), None)
        );
        assert_eq!((c.device_id(), c.expiration(), c.identity_key()), (5, 100, alice.public_key()));
        assert_eq!(c.sender_address(), Some(ProtocolAddress::new(aci, device)));
        assert_eq!(SenderCertificate::from_bytes(&c.to_bytes()).unwrap().to_bytes(), c.to_bytes());
        let server = c.signer();
        assert_eq!((server.key_id(), server.key()), (9, server_key.public_key()));
        assert_eq!(ServerCertificate::from_bytes(&server.to_bytes()).unwrap().to_bytes(), server.to_bytes());
        // only an ACI is an ACI
        assert_eq!(cert(&format!("PNI:{aci}")).sender_aci(), None);
        assert_eq!(cert("a").sender_aci(), None);
        let usmc = UnidentifiedSenderMessageContent::new(
            MessageType::Plaintext,
            c,
            vec![1, 2, 3],
            ContentHint::Resendable,
            Some(vec![9]),
        );
        assert_eq!(
            (usmc.message_type(), usmc.contents(), usmc.group_id()),
            (MessageType::Plaintext, &[1, 2, 3][..], Some(&[9][..]))
        );
        assert_eq!(usmc.content_hint(), ContentHint::Resendable);
        assert_eq!(UnidentifiedSenderMessageContent::from_bytes(&usmc.to_bytes()).unwrap(), usmc);
        for (hint, n) in [
            (ContentHint::Default, 0),
            (ContentHint::Resendable, 1),
            (ContentHint::Implicit, 2),
            (ContentHint::Unknown(7), 7),
        ] {
            assert_eq!((hint.to_u32(), ContentHint::from_u32(n)), (n, hint));
        }
    }

    #[test]
    fn multi_recipient_senders_refuse_inconsistent_recipient_lists() {
        let (_, cert, alice, bob) = setup();
        let usmc =
            UnidentifiedSenderMessageContent::new(MessageType::Whisper, cert, vec![1], ContentHint::Default, None);
        let (b_id, c_id) = (
            ServiceId::parse("aaaaaaaa-7000-11eb-b32a-33b8a8a487a6").unwrap(),
            ServiceId::parse("bbbbbbbb-7000-11eb-b32a-33b8a8a487a6").unwrap(),
        );
        let to = |id: ServiceId, devices: Vec<(DeviceId, u32)>| SealedSenderRecipient {
            service_id: id,
            identity_key: bob.public_key(),
            devices,
        };
        let one = vec![(DeviceId::PRIMARY, 0x3FFF)];
        let send = |recipients: &[SealedSenderRecipient], excluded: &[ServiceId]| {
            sealed_sender_multi_recipient_encrypt(&usmc, &alice, recipients, excluded).map(|_| ())
        };
        assert_eq!(send(&[to(b_id, one.clone())], &[c_id]), Ok(()));
        let twice = Err(SealedSenderError::InvalidRecipient("a service id listed twice"));
        assert_eq!(send(&[to(b_id, one.clone()), to(b_id, one.clone())], &[]), twice);
        assert_eq!(send(&[to(b_id, one.clone())], &[b_id]), twice);
        assert_eq!(
            send(&[to(b_id, vec![])], &[]),
            Err(SealedSenderError::InvalidRecipient("a recipient without devices"))
        );
        assert_eq!(
            send(&[to(b_id, vec![(DeviceId::PRIMARY, 0x4000)])], &[]),
            Err(SealedSenderError::InvalidRecipient("a registration id over 14 bits"))
        );
    }

    /// The explicit-randomness forms seal what the plain ones seal, and open.
    #[cfg(feature = "hazmat")]
    #[test]
    fn sealing_with_an_explicit_random_source_opens() {
        let (_, cert, alice, bob) = setup();
        let usmc =
            UnidentifiedSenderMessageContent::new(MessageType::Whisper, cert, vec![4], ContentHint::Default, None);
        let v1 = sealed_sender_encrypt_with_rng(&usmc, &alice, &bob.public_key(), &mut OsRandom).unwrap();
        assert_eq!(sealed_sender_decrypt_to_usmc(&v1, &bob).unwrap(), usmc);
        let bob_id = ServiceId::parse("aaaaaaaa-7000-11eb-b32a-33b8a8a487a6").unwrap();
        let to_bob = [SealedSenderRecipient {
            service_id: bob_id,
            identity_key: bob.public_key(),
            devices: vec![(DeviceId::PRIMARY, 7)],
        }];
        let sent = sealed_sender_multi_recipient_encrypt_with_rng(&usmc, &alice, &to_bob, &[], &mut OsRandom).unwrap();
        let v2 = multi_recipient_message_for_recipient(&sent).unwrap()[0].message.clone().unwrap();
        assert_eq!(sealed_sender_decrypt_to_usmc(&v2, &bob).unwrap(), usmc);
        // the fuzzers' one-recipient v2 envelope
        let v2 = seal_v2_bytes(&usmc.to_bytes(), &alice, &bob.public_key(), &mut OsRandom).unwrap();
        assert_eq!(sealed_sender_decrypt_to_usmc(&v2, &bob).unwrap(), usmc);
    }
}
