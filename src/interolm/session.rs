//! An interolm session: X3DH or PQXDH setup, then the shared double ratchet.

use zeroize::Zeroizing;

use super::SIGNAL_DIALECT;
use super::address::{MessageAddresses, ProtocolAddress};
use super::message::{InterolmMessage, PreKeySignalMessage, SignalMessage};
use super::spqr::{Direction, SpqrConfig, SpqrState, SpqrVersion};
use crate::consts::MAX_MESSAGE_LENGTH;
use crate::error::{DecryptionError, EncryptionError, KeyError};
use crate::primitives::{
    AesCbcKeys, ContributoryKey, Curve25519PublicKey, Curve25519SecretKey, HmacKey, Kyber1024Ciphertext,
    Kyber1024PublicKey, Kyber1024SecretKey, OsRandom, RandomSource, SecretBytes, aes256_cbc_decrypt,
    aes256_cbc_encrypt, base64_encode, ct_eq, hkdf_sha256, reveal, sha256,
};
use crate::ratchet::{ChainKey, DoubleRatchet, MessageSeed, RootKey, SenderChain, split_root_and_chain};
use crate::wire::signal::{
    ADDRESSES_LENGTH, MAC_LENGTH, PUBLIC_KEY_LENGTH, PreKeyFields, PreKeySignalMessageWire, SESSION_VERSION_PQXDH,
    SESSION_VERSION_X3DH, SignalMessageWire, encode_public_key, version_byte,
};

/// HKDF info of the X3DH root (session version 3).
const X3DH_INFO: &[u8] = b"WhisperText";
/// HKDF info of the PQXDH root (session version 4).
const PQXDH_INFO: &[u8] = b"WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024";
/// HKDF info of the message keys.
const MESSAGE_KEYS_INFO: &[u8] = b"WhisperMessageKeys";
/// The longest SPQR part (SignalMessage field 5) a session writes (see [`super::spqr`]).
const MAX_SPQR_FIELD_LENGTH: usize = 52;

/// Which key agreement started a session, and so its message version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionVersion {
    /// X3DH, session version 3, messages start `0x34`. Only libsignal ≤ 0.72 accepts it.
    X3dh,
    /// PQXDH (X3DH plus Kyber1024), session version 4, messages start `0x44`.
    Pqxdh,
}

impl SessionVersion {
    /// 3 or 4.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::X3dh => SESSION_VERSION_X3DH,
            Self::Pqxdh => SESSION_VERSION_PQXDH,
        }
    }
    /// The version byte of this version's messages (`0x34` or `0x44`).
    pub const fn version_byte(self) -> u8 {
        version_byte(self.as_u8())
    }
    pub(crate) const fn info(self) -> &'static [u8] {
        match self {
            Self::X3dh => X3DH_INFO,
            Self::Pqxdh => PQXDH_INFO,
        }
    }
}

/// Whether and how new PQXDH sessions run SPQR V1, the Sparse Post-Quantum Ratchet that
/// libsignal ≥ 0.92 requires (set with [`super::Account::set_spqr_policy`]; fixed for a
/// session's life when it is created). X3DH sessions never run SPQR, whatever the policy.
///
/// | policy | offers | accepts a peer without SPQR | talks to libsignal |
/// |---|---|---|---|
/// | [`Off`](SpqrPolicy::Off) | nothing (no field 5, unsalted keys) | yes | 0.72.1, 0.90.0 (which drops to V0); **not** ≥ 0.92 |
/// | [`Optional`](SpqrPolicy::Optional) (default) | V1 | yes: the session drops to V0 for good if the peer's first message has no SPQR part | all: 0.72.1 (V0), 0.90.0 (V1), 0.92.2 … 0.103.0 (V1) |
/// | [`Required`](SpqrPolicy::Required) | V1 | no: [`SpqrError::MinimumVersion`](super::spqr::SpqrError::MinimumVersion) | 0.90.0 (V1), 0.92.2 … 0.103.0; what libsignal ≥ 0.92 itself does |
///
/// Differences on the wire: a `Required` initiator salts every message key with SPQR from its
/// first pre-key message on (as libsignal ≥ 0.92); an `Optional` initiator sends SPQR index 0
/// and unsalted keys until the peer's first message (as libsignal 0.90). Once SPQR V1 has been
/// negotiated (the peer's first message carried it), a later message without it is refused
/// ([`SpqrError::VersionMismatch`](super::spqr::SpqrError::VersionMismatch)) under either
/// policy, and so is one whose SPQR part carries no key
/// ([`SpqrError::KeylessAfterNegotiation`](super::spqr::SpqrError::KeylessAfterNegotiation)),
/// except the initiator's pre-key messages on its first chain (a negotiating initiator sends
/// those without a key before it hears back; SPEC.md §6). Field 5 is covered by the double-ratchet MAC, so a man in the middle cannot strip it
/// to force the downgrade `Optional` allows; the downgrade needs a peer that really sends no
/// SPQR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SpqrPolicy {
    /// No SPQR: the behaviour of caudata before SPQR and of libsignal ≤ 0.73.
    Off,
    /// SPQR V1 offered, V0 peers accepted (libsignal 0.74 … 0.90's rule).
    #[default]
    Optional,
    /// SPQR V1 required of the peer (libsignal ≥ 0.92's rule).
    Required,
}

impl SpqrPolicy {
    /// The SPQR state of a new session: `auth_key` is `None` for X3DH.
    fn state(self, auth_key: Option<&SecretBytes<32>>, direction: Direction) -> SpqrState {
        let Some(auth_key) = auth_key else { return SpqrState::disabled() };
        let config = match self {
            Self::Off => return SpqrState::disabled(),
            Self::Optional => SpqrConfig::V1_ALLOW_V0,
            Self::Required => SpqrConfig::V1_REQUIRED,
        };
        // Both configurations are libsignal's constants, which are valid.
        SpqrState::new(auth_key.expose(), direction, &config).unwrap_or_else(|_| SpqrState::disabled())
    }
}

/// The X3DH/PQXDH input key material: `0xFF × 32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] [‖ Kyber secret]`.
struct MasterSecret(Zeroizing<Vec<u8>>);

impl MasterSecret {
    fn new() -> Self {
        let mut v = Zeroizing::new(Vec::with_capacity(32 * 6));
        v.extend_from_slice(&[0xFF; 32]);
        Self(v)
    }
    fn push(&mut self, bytes: &[u8; 32]) {
        self.0.extend_from_slice(bytes);
    }
    /// `RK ‖ CK = HKDF(salt none, input, info, 64)` (X3DH), or
    /// `RK ‖ CK ‖ auth_key = HKDF(salt none, input, info, 96)` (PQXDH; the first 64 bytes are
    /// the same as with length 64): the SPQR `auth_key` is `Some` for PQXDH only.
    fn derive(self, version: SessionVersion) -> (RootKey, ChainKey, Option<SecretBytes<32>>) {
        let mut okm = SecretBytes::<96>::zero();
        hkdf_sha256(None, &self.0, version.info(), okm.expose_mut());
        let mut first = SecretBytes::<64>::zero();
        first.expose_mut().copy_from_slice(&okm.expose()[..64]);
        let (root, chain) = split_root_and_chain(&first);
        let auth_key = (version == SessionVersion::Pqxdh).then(|| {
            let mut k = SecretBytes::<32>::zero();
            k.expose_mut().copy_from_slice(&okm.expose()[64..]);
            k
        });
        (root, chain, auth_key)
    }
}

/// The parameters of an initiator's session (what [`super::Account`] checked in the bundle).
pub(crate) struct OutboundParams<'a> {
    pub(crate) our_identity: &'a Curve25519SecretKey,
    pub(crate) our_registration_id: u32,
    pub(crate) their_identity: Curve25519PublicKey,
    pub(crate) their_registration_id: u32,
    pub(crate) their_signed_pre_key: (u32, Curve25519PublicKey),
    pub(crate) their_one_time_pre_key: Option<(u32, Curve25519PublicKey)>,
    pub(crate) their_kyber_pre_key: Option<(u32, &'a Kyber1024PublicKey)>,
    pub(crate) spqr_policy: SpqrPolicy,
}

/// The responder's keys for one pre-key message (looked up by [`super::Account`]).
pub(crate) struct InboundKeys<'a> {
    pub(crate) our_identity: &'a Curve25519SecretKey,
    pub(crate) our_registration_id: u32,
    pub(crate) signed_pre_key: &'a Curve25519SecretKey,
    pub(crate) one_time_pre_key: Option<&'a Curve25519SecretKey>,
    pub(crate) kyber_pre_key: Option<&'a Kyber1024SecretKey>,
    pub(crate) spqr_policy: SpqrPolicy,
}

/// One end of an interolm (Signal-dialect) conversation with one device.
///
/// A session holds one ratchet state. libsignal keeps up to 40 older states per address and
/// tries each on decryption: [`SessionRecord`](super::SessionRecord) does the same (and routes
/// pre-key messages by base key), and [`Device`](super::Device) keeps one record per address.
pub struct Session {
    pub(crate) version: SessionVersion,
    pub(crate) initiator: bool,
    pub(crate) local_identity: Curve25519PublicKey,
    pub(crate) remote_identity: Curve25519PublicKey,
    pub(crate) local_registration_id: u32,
    pub(crate) remote_registration_id: u32,
    /// The initiator's base key: with the two identities, what names the session.
    pub(crate) base_key: Curve25519PublicKey,
    /// The initiator's pre-key fields, sent with every message until the first reply.
    pub(crate) pending_pre_key: Option<PreKeyFields>,
    /// SHA-256 of the pre-key fields this session was made from (both sides), to refuse a
    /// pre-key message whose unauthenticated outer fields were altered.
    pub(crate) pre_key_digest: [u8; 32],
    pub(crate) ratchet: DoubleRatchet,
    pub(crate) received_message: bool,
    /// The SPQR V1 state, run next to the double ratchet ([`SpqrState::disabled`] for X3DH or
    /// [`SpqrPolicy::Off`]). Pickled as `u32 len ‖ SpqrState::to_bytes()` (secret), restored
    /// with `SpqrState::from_bytes`.
    pub(crate) spqr: SpqrState,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self {
            version,
            initiator,
            local_identity,
            remote_identity,
            local_registration_id: _,
            remote_registration_id,
            base_key: _,
            pending_pre_key,
            pre_key_digest: _,
            ratchet: _,
            received_message,
            spqr,
        } = self;
        f.debug_struct("Session")
            .field("session_id", &self.session_id())
            .field("version", version)
            .field("initiator", initiator)
            .field("local_identity", local_identity)
            .field("remote_identity", remote_identity)
            .field("remote_registration_id", remote_registration_id)
            .field("pending_pre_key", &pending_pre_key.is_some())
            .field("received_message", received_message)
            .field("spqr", &spqr.version_status())
            .field("spqr_epoch", &spqr.summary().epoch)
            .finish_non_exhaustive()
    }
}

/// SHA-256 over a fixed-layout encoding of the pre-key fields.
fn pre_key_digest(f: &PreKeyFields) -> [u8; 32] {
    let opk = f.pre_key_id.map_or([0u8; 5], |id| {
        let mut b = [1u8; 5];
        b[1..].copy_from_slice(&id.to_be_bytes());
        b
    });
    let (kid, kct) = match &f.kyber {
        Some((id, ct)) => {
            let mut b = [1u8; 5];
            b[1..].copy_from_slice(&id.to_be_bytes());
            (b, ct.to_bytes())
        }
        None => ([0u8; 5], Vec::new()),
    };
    sha256(&[
        b"caudata interolm pre-key fields",
        &[f.session_version],
        &f.registration_id.to_be_bytes(),
        &opk,
        &f.signed_pre_key_id.to_be_bytes(),
        &kid,
        &kct,
        f.base_key.as_bytes(),
        f.identity_key.as_bytes(),
    ])
}

impl Session {
    /// The initiator (Alice). Draws, in this order: 32 bytes for the base key, 32 for the
    /// Kyber encapsulation (PQXDH only), 32 for the first sending ratchet key.
    pub(crate) fn new_outbound(p: OutboundParams<'_>, rng: &mut impl RandomSource) -> Result<Self, KeyError> {
        let version = if p.their_kyber_pre_key.is_some() { SessionVersion::Pqxdh } else { SessionVersion::X3dh };
        let base = Curve25519SecretKey::random(rng);
        let (spk_id, spk) = p.their_signed_pre_key;
        let mut ms = MasterSecret::new();
        ms.push(p.our_identity.diffie_hellman(&spk)?.expose());
        ms.push(base.diffie_hellman(&p.their_identity)?.expose());
        ms.push(base.diffie_hellman(&spk)?.expose());
        if let Some((_, opk)) = &p.their_one_time_pre_key {
            ms.push(base.diffie_hellman(opk)?.expose());
        }
        let kyber = p.their_kyber_pre_key.map(|(id, pk)| {
            let (ct, ss) = pk.encapsulate(rng);
            ms.push(ss.expose());
            (id, ct)
        });
        let (root0, chain0, auth_key) = ms.derive(version);
        let spqr = p.spqr_policy.state(auth_key.as_ref(), Direction::A2B);

        // Signal's bootstrap: Bob's signed prekey is his first ratchet key. Alice keeps a
        // receiving chain on it, and at once makes her sending chain by a root step against it.
        // (The bundle check refused a small-order key already; this is the type that says so.)
        let spk = ContributoryKey::new(spk)?;
        let mut ratchet = DoubleRatchet::with_receiver(&SIGNAL_DIALECT, root0, spk, chain0);
        let (root1, sender) = ratchet.step_new_sender(&ratchet.root, &spk, rng);
        ratchet.root = root1;
        ratchet.sender = Some(sender);

        let local_identity = p.our_identity.public_key();
        let fields = PreKeyFields {
            session_version: version.as_u8(),
            registration_id: p.our_registration_id,
            pre_key_id: p.their_one_time_pre_key.map(|(id, _)| id),
            signed_pre_key_id: spk_id,
            kyber,
            base_key: base.public_key(),
            identity_key: local_identity,
        };
        Ok(Self {
            version,
            initiator: true,
            local_identity,
            remote_identity: p.their_identity,
            local_registration_id: p.our_registration_id,
            remote_registration_id: p.their_registration_id,
            base_key: fields.base_key,
            pre_key_digest: pre_key_digest(&fields),
            pending_pre_key: Some(fields),
            ratchet,
            received_message: false,
            spqr,
        })
    }

    /// The responder (Bob), before the pre-key message's inner message is decrypted.
    pub(crate) fn new_inbound(k: InboundKeys<'_>, m: &PreKeySignalMessageWire) -> Result<Self, KeyError> {
        let f = &m.fields;
        let version = if f.kyber.is_some() { SessionVersion::Pqxdh } else { SessionVersion::X3dh };
        f.identity_key.validate_vartime()?;
        f.base_key.validate_vartime()?;
        let mut ms = MasterSecret::new();
        ms.push(k.signed_pre_key.diffie_hellman(&f.identity_key)?.expose());
        ms.push(k.our_identity.diffie_hellman(&f.base_key)?.expose());
        ms.push(k.signed_pre_key.diffie_hellman(&f.base_key)?.expose());
        if let Some(opk) = k.one_time_pre_key {
            ms.push(opk.diffie_hellman(&f.base_key)?.expose());
        }
        if let (Some(sk), Some((_, ct))) = (k.kyber_pre_key, &f.kyber) {
            ms.push(sk.decapsulate(ct).expose());
        }
        let (root0, chain0, auth_key) = ms.derive(version);
        let spqr = k.spqr_policy.state(auth_key.as_ref(), Direction::B2A);
        // Bob's first sending chain is (his signed prekey, CK): he never sends on it, but his
        // first receipt steps the root from it, exactly as libsignal does.
        let sender = SenderChain::new(k.signed_pre_key.clone(), chain0);
        Ok(Self {
            version,
            initiator: false,
            local_identity: k.our_identity.public_key(),
            remote_identity: f.identity_key,
            local_registration_id: k.our_registration_id,
            remote_registration_id: f.registration_id,
            base_key: f.base_key,
            pending_pre_key: None,
            pre_key_digest: pre_key_digest(f),
            ratchet: DoubleRatchet::with_sender(&SIGNAL_DIALECT, root0, sender),
            received_message: false,
            spqr,
        })
    }

    /// An id for the session, the same on both sides:
    /// `base64(SHA-256(version ‖ IK_initiator(33) ‖ IK_responder(33) ‖ base key(33)))`.
    /// (libsignal has no such id; caudata's is made of the values that name a session there.)
    pub fn session_id(&self) -> String {
        let (a, b) = if self.initiator {
            (&self.local_identity, &self.remote_identity)
        } else {
            (&self.remote_identity, &self.local_identity)
        };
        base64_encode(sha256(&[
            &[self.version.as_u8()],
            &encode_public_key(a),
            &encode_public_key(b),
            &encode_public_key(&self.base_key),
        ]))
    }

    /// X3DH or PQXDH.
    pub fn session_version(&self) -> SessionVersion {
        self.version
    }

    /// Whether this side started the session (processed the other's bundle).
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }

    /// Whether this side has decrypted a message from the other. Until then an initiator
    /// sends pre-key messages.
    pub fn has_received_message(&self) -> bool {
        self.received_message
    }

    /// Our identity key.
    pub fn local_identity_key(&self) -> Curve25519PublicKey {
        self.local_identity
    }

    /// The peer's identity key (from its bundle, or from its authenticated pre-key message).
    pub fn remote_identity_key(&self) -> Curve25519PublicKey {
        self.remote_identity
    }

    /// Our registration id as this session announces it.
    pub fn local_registration_id(&self) -> u32 {
        self.local_registration_id
    }

    /// The peer's registration id (from its bundle or pre-key message).
    pub fn remote_registration_id(&self) -> u32 {
        self.remote_registration_id
    }

    /// The initiator's base key.
    pub fn base_key(&self) -> Curve25519PublicKey {
        self.base_key
    }

    /// The session's SPQR state (read only): [`SpqrState::version_status`] tells whether SPQR
    /// V1 runs, is still being negotiated, or was dropped; [`SpqrState::summary`] shows the
    /// epoch and the ML-KEM Braid's progress.
    pub fn spqr(&self) -> &SpqrState {
        &self.spqr
    }

    /// Whether `message` belongs to this session: every one of its outer fields (version,
    /// registration id, prekey ids, Kyber ciphertext, base and identity keys) equals the ones
    /// the session was made from. These fields are outside the MAC, so a message that differs
    /// in any of them is refused rather than decrypted.
    pub fn matches(&self, message: &PreKeySignalMessage) -> bool {
        ct_eq(&pre_key_digest(&message.0.fields), &self.pre_key_digest)
    }

    /// Encrypts `plaintext`. Until the other side has answered, the result is a
    /// `PreKeySignalMessage` (as libsignal sends).
    ///
    /// It does not check the plaintext's length: a plaintext of about 1 MiB or more makes a
    /// message longer than receivers decode
    /// ([`MAX_MESSAGE_LENGTH`](crate::consts::MAX_MESSAGE_LENGTH)). [`Session::try_encrypt`]
    /// refuses such a plaintext instead, and also writes the `addresses` field.
    ///
    /// # Errors
    /// [`EncryptionError::Spqr`] when SPQR cannot make its part of the message (its send chain
    /// for the epoch is exhausted after 2^32 − 1 messages without a reply, or a restored state is
    /// inconsistent). The session is then unchanged: a message without its SPQR key would be a
    /// downgrade, so none is made.
    pub fn encrypt(&mut self, plaintext: impl AsRef<[u8]>) -> Result<InterolmMessage, EncryptionError> {
        self.encrypt_inner(plaintext.as_ref(), None, &mut OsRandom)
    }

    /// [`Session::encrypt`] with an explicit random source. (The Signal ratchet makes its next
    /// sending chain on receipt; only SPQR draws here: 64 bytes when it makes an ML-KEM-768
    /// key pair, 32 when it encapsulates.)
    ///
    /// # Errors
    /// As [`Session::encrypt`].
    #[cfg(feature = "hazmat")]
    pub fn encrypt_with_rng(
        &mut self,
        plaintext: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<InterolmMessage, EncryptionError> {
        self.encrypt_inner(plaintext, None, rng)
    }

    /// Encrypts `plaintext` from `sender` (us) to `recipient`, as libsignal ≥ 0.92's
    /// `signalEncrypt` with both addresses: while the session still sends pre-key messages,
    /// and when both addresses' names are service ids, the message inside the pre-key message
    /// carries the `addresses` field (under the MAC), which libsignal ≥ 0.92 and caudata's
    /// [`Session::decrypt_with_addresses`] check. Pass `None` to write no field, as libsignal
    /// ≤ 0.90 does.
    ///
    /// # Errors
    /// [`EncryptionError::PlaintextTooLong`] when the message could exceed
    /// [`MAX_MESSAGE_LENGTH`](crate::consts::MAX_MESSAGE_LENGTH), the most any receiver
    /// decodes (the bound counts the largest SPQR part, 52 bytes, so a plaintext within 54
    /// bytes of the exact limit may be refused too); [`EncryptionError::Spqr`] as for
    /// [`Session::encrypt`]. The session is then unchanged.
    pub fn try_encrypt(
        &mut self,
        plaintext: &[u8],
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
    ) -> Result<InterolmMessage, EncryptionError> {
        self.try_encrypt_inner(plaintext, addresses, &mut OsRandom)
    }

    /// [`Session::try_encrypt`] with an explicit random source (as [`Session::encrypt_with_rng`]).
    ///
    /// # Errors
    /// As [`Session::try_encrypt`].
    #[cfg(feature = "hazmat")]
    pub fn try_encrypt_with_rng(
        &mut self,
        plaintext: &[u8],
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
        rng: &mut impl RandomSource,
    ) -> Result<InterolmMessage, EncryptionError> {
        self.try_encrypt_inner(plaintext, addresses, rng)
    }

    pub(crate) fn try_encrypt_inner(
        &mut self,
        plaintext: &[u8],
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
        rng: &mut impl RandomSource,
    ) -> Result<InterolmMessage, EncryptionError> {
        let field = match (&self.pending_pre_key, addresses) {
            (Some(_), Some((sender, recipient))) => MessageAddresses::for_message(sender, recipient),
            _ => None,
        };
        let max = self.max_plaintext_length(field.is_some());
        if plaintext.len() > max {
            return Err(EncryptionError::PlaintextTooLong { got: plaintext.len(), max });
        }
        self.encrypt_inner(plaintext, field.map(|a| a.to_bytes()), rng)
    }

    /// The longest plaintext [`Session::try_encrypt`] accepts now (it depends on whether the
    /// next message is a pre-key message, on the counters, and on `addresses`, whether the
    /// `addresses` field is written).
    pub fn max_plaintext_length(&self, addresses: bool) -> usize {
        let varint_len = |v: u64| (64 - (v | 1).leading_zeros() as usize).div_ceil(7);
        let counter = self.ratchet.sender.as_ref().map_or(0, |s| s.chain.index);
        let previous = self.ratchet.previous_counter.saturating_sub(1);
        let spqr = if self.spqr.version() == SpqrVersion::V0 { 0 } else { 2 + MAX_SPQR_FIELD_LENGTH };
        // Everything in the SignalMessage but the ciphertext field.
        let inner_fixed = 1
            + 2
            + PUBLIC_KEY_LENGTH
            + 1
            + varint_len(counter.into())
            + 1
            + varint_len(previous.into())
            + spqr
            + if addresses { 2 + ADDRESSES_LENGTH } else { 0 }
            + MAC_LENGTH;
        let inner = |ct: usize| inner_fixed + 1 + varint_len(ct as u64) + ct;
        let outer = |ct: usize| match &self.pending_pre_key {
            None => inner(ct),
            Some(f) => {
                let n = inner(ct);
                1 + f.pre_key_id.map_or(0, |id| 1 + varint_len(id.into()))
                    + 2 * (2 + PUBLIC_KEY_LENGTH)
                    + 1
                    + varint_len(n as u64)
                    + n
                    + 1
                    + varint_len(f.registration_id.into())
                    + 1
                    + varint_len(f.signed_pre_key_id.into())
                    + f.kyber.as_ref().map_or(0, |(id, _)| {
                        1 + varint_len((*id).into())
                            + 1
                            + varint_len(Kyber1024Ciphertext::LENGTH as u64)
                            + Kyber1024Ciphertext::LENGTH
                    })
            }
        };
        // The ciphertext of a plaintext of p bytes is 16·(⌊p/16⌋ + 1) bytes: find the largest
        // such length that fits, by bisection over multiples of 16.
        let (mut lo, mut hi) = (0usize, MAX_MESSAGE_LENGTH / 16 + 1);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if outer(16 * mid) <= MAX_MESSAGE_LENGTH { lo = mid } else { hi = mid - 1 }
        }
        (16 * lo).saturating_sub(1)
    }

    fn encrypt_inner(
        &mut self,
        plaintext: &[u8],
        addresses: Option<[u8; ADDRESSES_LENGTH]>,
        rng: &mut impl RandomSource,
    ) -> Result<InterolmMessage, EncryptionError> {
        // The addresses go only into pre-key messages (libsignal ≥ 0.91).
        let addresses = addresses.filter(|_| self.pending_pre_key.is_some());
        let version = self.version.as_u8();
        let sender_ik = encode_public_key(&self.local_identity);
        let receiver_ik = encode_public_key(&self.remote_identity);
        // One SPQR step per message, before the double-ratchet step, as libsignal. If `send`
        // fails (nothing changed), no message is made: never one without its SPQR key.
        let (pq_ratchet, spqr_key) = self.spqr.send(rng)?.into_parts();
        let salt = spqr_key.as_ref().map(|k| &k.as_bytes()[..]);
        let wire = self.ratchet.encrypt(rng, |ctx| {
            let keys = AesCbcKeys::derive(salt, ctx.seed.seed.expose(), MESSAGE_KEYS_INFO);
            let ct = aes256_cbc_encrypt(&keys.aes_key, &keys.iv, plaintext);
            let mac = HmacKey::new(&keys.mac_key);
            // The core counts the messages of the previous chain; libsignal sends the index of
            // its last one, max(n, 1) − 1.
            let previous_counter = ctx.previous_counter.saturating_sub(1);
            SignalMessageWire::encode_with_addresses(
                version,
                ctx.ratchet_key,
                ctx.index,
                previous_counter,
                ct,
                pq_ratchet,
                addresses,
                |b| *mac.mac(&[&sender_ik, &receiver_ik, b]).expose(),
            )
        });
        Ok(match &self.pending_pre_key {
            Some(fields) => {
                InterolmMessage::PreKey(PreKeySignalMessage(PreKeySignalMessageWire::encode(fields.clone(), wire)))
            }
            None => InterolmMessage::Whisper(SignalMessage(wire)),
        })
    }

    /// Decrypts a message of this session. On any error the session is unchanged.
    ///
    /// # Errors
    /// [`DecryptionError`]: [`InvalidMac`](DecryptionError::InvalidMac) (tampered, another
    /// session, or an SPQR-salted message given to a session without SPQR),
    /// [`Spqr`](DecryptionError::Spqr) (the SPQR part was refused: see
    /// [`SpqrError`](super::spqr::SpqrError)), [`MissingMessageKey`](DecryptionError::MissingMessageKey)
    /// (a replay, or a key already evicted), [`TooBigMessageGap`](DecryptionError::TooBigMessageGap)
    /// (more than 25 000 ahead), [`VersionMismatch`](DecryptionError::VersionMismatch),
    /// [`SessionMismatch`](DecryptionError::SessionMismatch) for a pre-key message of another
    /// session or with altered outer fields.
    ///
    /// The `addresses` field (field 6) is not checked: this call does not know who the message
    /// is from and for. [`Session::decrypt_with_addresses`] checks it, as libsignal ≥ 0.92.
    pub fn decrypt(&mut self, message: &InterolmMessage) -> Result<Vec<u8>, DecryptionError> {
        self.decrypt_inner(message, None, &mut OsRandom)
    }

    /// [`Session::decrypt`] of a message from `sender` to `recipient` (us), checking the
    /// `addresses` field as libsignal ≥ 0.92 does: a message without the field is accepted; one
    /// with it must name exactly these two (so both names must be service ids). The check
    /// follows the MAC, which covers the field.
    ///
    /// # Errors
    /// As [`Session::decrypt`], and [`DecryptionError::AddressMismatch`].
    pub fn decrypt_with_addresses(
        &mut self,
        message: &InterolmMessage,
        sender: &ProtocolAddress,
        recipient: &ProtocolAddress,
    ) -> Result<Vec<u8>, DecryptionError> {
        self.decrypt_inner(message, Some((sender, recipient)), &mut OsRandom)
    }

    /// [`Session::decrypt`] with an explicit random source: a message on a new chain makes the
    /// next sending chain at once, drawing 32 bytes for its ratchet key.
    ///
    /// # Errors
    /// As [`Session::decrypt`].
    #[cfg(feature = "hazmat")]
    pub fn decrypt_with_rng(
        &mut self,
        message: &InterolmMessage,
        rng: &mut impl RandomSource,
    ) -> Result<Vec<u8>, DecryptionError> {
        self.decrypt_inner(message, None, rng)
    }

    fn decrypt_inner(
        &mut self,
        message: &InterolmMessage,
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
        rng: &mut impl RandomSource,
    ) -> Result<Vec<u8>, DecryptionError> {
        match message {
            InterolmMessage::Whisper(m) => self.decrypt_signal(&m.0, false, addresses, rng),
            InterolmMessage::PreKey(m) => {
                if !self.matches(m) {
                    return Err(DecryptionError::SessionMismatch);
                }
                self.decrypt_signal(&m.0.message, true, addresses, rng)
            }
        }
    }

    /// Whether `m` may be one of the messages an initiator sends before it has heard from us,
    /// which carry no SPQR key if the initiator negotiates SPQR (its minimum is V0): such
    /// messages are pre-key messages of this session (`pre_key`: the outer fields matched) on
    /// the initiator's first double-ratchet chain. That chain is our oldest receiving chain for
    /// as long as none has been dropped, which is certain while fewer chains than the limit are
    /// held (at the limit the oldest may be a later chain, and the answer is no: a pre-reply
    /// message delayed that long is refused rather than risk a downgrade).
    fn may_be_pre_reply(&self, m: &SignalMessageWire, pre_key: bool) -> bool {
        let r = &self.ratchet;
        pre_key
            && !self.initiator
            && r.receivers.len() < r.dialect.max_receiver_chains
            && r.receivers.front().is_none_or(|c| *c.ratchet_key.key() == m.ratchet_key)
    }

    /// Decrypts a `SignalMessage` of this session (`pre_key`: inside a pre-key message of this
    /// session); with `addresses` (sender, recipient), the `addresses` field is checked once the
    /// MAC has verified. Nothing changes on error.
    pub(crate) fn decrypt_signal(
        &mut self,
        m: &SignalMessageWire,
        pre_key: bool,
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
        rng: &mut impl RandomSource,
    ) -> Result<Vec<u8>, DecryptionError> {
        let expected = self.version.as_u8();
        if m.session_version() != expected {
            return Err(DecryptionError::VersionMismatch { expected, got: m.session_version() });
        }
        let sender_ik = encode_public_key(&self.remote_identity);
        let receiver_ik = encode_public_key(&self.local_identity);
        // What the double ratchet would refuse without deriving a key is refused before any
        // SPQR work (SPEC.md §7, work before authentication).
        self.ratchet.precheck(&m.ratchet_key, m.counter)?;
        // SPQR first, on a copy: nothing is committed before the MAC and the padding check.
        // Once SPQR V1 is negotiated a message must carry an SPQR key, except the initiator's
        // messages from before it heard from us (SPEC.md §6, "Policy and version negotiation").
        let field5 = m.pq_ratchet.as_deref().unwrap_or_default();
        let pending =
            if self.may_be_pre_reply(m, pre_key) { self.spqr.recv_pre_reply(field5) } else { self.spqr.recv(field5) }?;
        let salt = pending.key().map(|k| &k.as_bytes()[..]);
        let pt = self.ratchet.decrypt(&m.ratchet_key, m.counter, rng, |seed| {
            let pt = decrypt_with_seed(seed, salt, m, &sender_ik, &receiver_ik)?;
            match addresses {
                Some((sender, recipient)) if !MessageAddresses::accepts(m.addresses.as_deref(), sender, recipient) => {
                    Err(DecryptionError::AddressMismatch)
                }
                _ => Ok(pt),
            }
        })?;
        pending.commit(&mut self.spqr);
        self.received_message = true;
        self.pending_pre_key = None;
        Ok(pt)
    }
}

impl Session {
    /// The digest [`Session::matches`] compares, for the pickle decoder (`src/pickle/`), which
    /// stores the pre-key fields and recomputes it.
    pub(crate) fn pre_key_fields_digest(fields: &PreKeyFields) -> [u8; 32] {
        pre_key_digest(fields)
    }
}

fn decrypt_with_seed(
    seed: &MessageSeed,
    salt: Option<&[u8]>,
    m: &SignalMessageWire,
    sender_ik: &[u8],
    receiver_ik: &[u8],
) -> Result<Vec<u8>, DecryptionError> {
    let keys = AesCbcKeys::derive(salt, seed.seed.expose(), MESSAGE_KEYS_INFO);
    let tag = HmacKey::new(&keys.mac_key).mac(&[sender_ik, receiver_ik, m.authenticated_bytes()]);
    if !reveal(ct_eq(&tag.expose()[..MAC_LENGTH], m.mac())) {
        return Err(DecryptionError::InvalidMac);
    }
    aes256_cbc_decrypt(&keys.aes_key, &keys.iv, &m.ciphertext).ok_or(DecryptionError::InvalidPadding)
}

/// ⚠️ Test hooks: copies of a session's secret state, for known-answer tests and for checking
/// that failed operations leave a session unchanged. Never use them in an application.
#[cfg(feature = "hazmat")]
mod hazmat {
    use super::*;

    /// A receiving chain in a [`RatchetSnapshot`].
    #[derive(Clone, PartialEq, Eq)]
    pub struct ReceiverChainSnapshot {
        /// The sender's ratchet key.
        pub ratchet_key: Curve25519PublicKey,
        /// The chain key (secret).
        pub chain_key: [u8; 32],
        /// The next index.
        pub index: u32,
        /// Stored skipped message-key seeds (secret), oldest first.
        pub skipped: Vec<(u32, [u8; 32])>,
    }

    /// A copy of everything in a session's ratchet (secret values included). Its `Debug`
    /// shows secrets only as short SHA-256 fingerprints.
    #[derive(Clone, PartialEq, Eq)]
    pub struct RatchetSnapshot {
        /// The root key.
        pub root_key: [u8; 32],
        /// The sending ratchet key (public).
        pub sender_ratchet_key: Option<Curve25519PublicKey>,
        /// The sending chain key.
        pub sender_chain_key: Option<[u8; 32]>,
        /// The sending chain's next index.
        pub sender_chain_index: Option<u32>,
        /// The number of messages sent on the previous sending chain.
        pub previous_chain_length: u32,
        /// Receiving chains, oldest first.
        pub receiver_chains: Vec<ReceiverChainSnapshot>,
        /// [`Session::has_received_message`].
        pub received_message: bool,
        /// Whether pre-key messages are still being sent.
        pub pending_pre_key: bool,
        /// The whole SPQR state, [`SpqrState::to_bytes`] (secret).
        pub spqr: Vec<u8>,
    }

    /// A short fingerprint of a secret, for `Debug`.
    fn fp(secret: &[u8; 32]) -> String {
        format!("sha256:{}", base64_encode(&sha256(&[secret])[..6]))
    }

    impl core::fmt::Debug for ReceiverChainSnapshot {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            let Self { ratchet_key, chain_key, index, skipped } = self;
            f.debug_struct("ReceiverChainSnapshot")
                .field("ratchet_key", ratchet_key)
                .field("chain_key", &fp(chain_key))
                .field("index", index)
                .field("skipped", &skipped.iter().map(|(i, s)| (*i, fp(s))).collect::<Vec<_>>())
                .finish()
        }
    }

    impl core::fmt::Debug for RatchetSnapshot {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            let Self {
                root_key,
                sender_ratchet_key,
                sender_chain_key,
                sender_chain_index,
                previous_chain_length,
                receiver_chains,
                received_message,
                pending_pre_key,
                spqr,
            } = self;
            f.debug_struct("RatchetSnapshot")
                .field("root_key", &fp(root_key))
                .field("sender_ratchet_key", sender_ratchet_key)
                .field("sender_chain_key", &sender_chain_key.as_ref().map(fp))
                .field("sender_chain_index", sender_chain_index)
                .field("previous_chain_length", previous_chain_length)
                .field("receiver_chains", receiver_chains)
                .field("received_message", received_message)
                .field("pending_pre_key", pending_pre_key)
                .field("spqr", &format!("sha256:{}", base64_encode(&sha256(&[spqr])[..6])))
                .finish()
        }
    }

    impl Session {
        /// ⚠️ Copies the session's secret ratchet state (see [`RatchetSnapshot`]).
        pub fn snapshot_for_testing_only(&self) -> RatchetSnapshot {
            let r = &self.ratchet;
            RatchetSnapshot {
                root_key: *r.root.0.expose(),
                sender_ratchet_key: r.sender.as_ref().map(SenderChain::ratchet_public),
                sender_chain_key: r.sender.as_ref().map(|s| *s.chain.key.expose()),
                sender_chain_index: r.sender.as_ref().map(|s| s.chain.index),
                previous_chain_length: r.previous_counter,
                receiver_chains: r
                    .receivers
                    .iter()
                    .map(|c| ReceiverChainSnapshot {
                        ratchet_key: *c.ratchet_key.key(),
                        chain_key: *c.chain.key.expose(),
                        index: c.chain.index,
                        skipped: c.skipped.iter().map(|s| (s.index, *s.seed.expose())).collect(),
                    })
                    .collect(),
                received_message: self.received_message,
                pending_pre_key: self.pending_pre_key.is_some(),
                spqr: self.spqr.to_bytes().to_vec(),
            }
        }
    }
}

#[cfg(feature = "hazmat")]
pub use hazmat::{RatchetSnapshot, ReceiverChainSnapshot};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SessionCreationError;
    use crate::interolm::{Account, DeviceId};

    const A: &str = "11111111-2222-4333-8444-555555555555";
    const B: &str = "aaaaaaaa-7000-11eb-b32a-33b8a8a487a6";

    #[test]
    fn pre_key_messages_are_checked_against_their_session_and_their_addresses() {
        let alice = Account::new();
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(0);
        let (sa, sb) = (ProtocolAddress::new(A, DeviceId::PRIMARY), ProtocolAddress::new(B, DeviceId::PRIMARY));
        let mut a = alice.create_outbound_session(&bundle).unwrap();
        let m1 = a.try_encrypt(b"1", Some((&sa, &sb))).unwrap();
        let m2 = a.try_encrypt(b"2", Some((&sa, &sb))).unwrap();
        let InterolmMessage::PreKey(p1) = &m1 else { panic!("a pre-key message") };
        // the addresses are checked when the session is created, and on every later message
        assert_eq!(
            bob.create_inbound_session_with_addresses(p1, &sb, &sa).unwrap_err(),
            SessionCreationError::Decryption(DecryptionError::AddressMismatch)
        );
        let mut b = bob.create_inbound_session_with_addresses(p1, &sa, &sb).unwrap().session;
        assert_eq!(b.decrypt_with_addresses(&m2, &sb, &sa), Err(DecryptionError::AddressMismatch));
        assert_eq!(b.decrypt_with_addresses(&m2, &sa, &sb).unwrap(), b"2");
        // a pre-key message of another session (another base key) is not this session's
        let mut other = alice.create_outbound_session(&bundle).unwrap();
        let m3 = other.encrypt(b"3").unwrap();
        assert_eq!(b.decrypt(&m3), Err(DecryptionError::SessionMismatch));
        // an inner message of another session version
        let InterolmMessage::PreKey(p4) = a.encrypt(b"4").unwrap() else { panic!("a pre-key message") };
        let mut bytes = p4.0.message.as_bytes().to_vec();
        bytes[0] = (3 << 4) | (bytes[0] & 0x0f);
        let v3 = InterolmMessage::Whisper(SignalMessage(SignalMessageWire::decode(&bytes).unwrap()));
        assert_eq!(b.decrypt(&v3), Err(DecryptionError::VersionMismatch { expected: 4, got: 3 }));
        assert_eq!(b.decrypt(&InterolmMessage::PreKey(p4)).unwrap(), b"4");
    }

    #[cfg(feature = "hazmat")]
    #[test]
    fn decrypt_with_rng_decrypts() {
        let alice = Account::new();
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(0);
        let mut a = alice.create_outbound_session(&bundle).unwrap();
        let m1 = a.encrypt(b"1").unwrap();
        let m2 = a.encrypt(b"2").unwrap();
        let InterolmMessage::PreKey(p1) = &m1 else { panic!("a pre-key message") };
        let mut b = bob.create_inbound_session_with_rng(p1, &mut OsRandom).unwrap().session;
        assert_eq!(b.decrypt_with_rng(&m2, &mut OsRandom).unwrap(), b"2");
    }

    /// Refuses one byte more than [`Session::max_plaintext_length`], encrypts that many, and
    /// returns how far below `MAX_MESSAGE_LENGTH` the message would be with its SPQR part at the
    /// largest size the bound allows: less than one AES block, or the bound is not the
    /// longest.
    fn longest_message_slack(s: &mut Session, addresses: Option<(&ProtocolAddress, &ProtocolAddress)>) -> usize {
        let max = s.max_plaintext_length(addresses.is_some());
        let budget = if s.spqr().version() == SpqrVersion::V0 { 0 } else { 2 + MAX_SPQR_FIELD_LENGTH };
        assert_eq!(
            s.try_encrypt(&vec![7; max + 1], addresses).unwrap_err(),
            EncryptionError::PlaintextTooLong { got: max + 1, max }
        );
        let m = s.try_encrypt(&vec![7; max], addresses).unwrap();
        let inner = match &m {
            InterolmMessage::PreKey(p) => p.message(),
            InterolmMessage::Whisper(w) => w.clone(),
        };
        let spqr_part = inner.pq_ratchet().map_or(0, |p| {
            assert!(p.len() <= MAX_SPQR_FIELD_LENGTH);
            2 + p.len()
        });
        let padded = m.to_bytes().len() - spqr_part + budget;
        assert!(padded <= MAX_MESSAGE_LENGTH, "{padded} bytes");
        let slack = MAX_MESSAGE_LENGTH - padded;
        assert!(slack < 16, "a plaintext one block longer would fit: {slack} bytes left");
        slack
    }

    #[test]
    fn the_longest_plaintext_accepted_makes_a_message_of_the_longest_length() {
        let (sa, sb) = (ProtocolAddress::new(A, DeviceId::PRIMARY), ProtocolAddress::new(B, DeviceId::PRIMARY));
        let addresses = Some((&sa, &sb));
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(1);
        // A pre-key session whose four ids (registration, signed, one-time and Kyber prekey,
        // each a varint of 1 to 5 bytes) make its messages `extra` bytes (0 to 16) longer.
        let session = |extra: usize, policy: SpqrPolicy| {
            let id = |n: usize| 1u32 << (7 * n.min(4)); // a varint of n + 1 bytes
            let mut alice = Account::new();
            alice.set_spqr_policy(policy);
            alice.set_registration_id(id(extra));
            let mut b = bundle.clone();
            b.signed_pre_key_id = id(extra.saturating_sub(4));
            b.pre_key = b.pre_key.map(|(_, k)| (id(extra.saturating_sub(8)), k));
            b.kyber_pre_key = b.kyber_pre_key.map(|(_, k, sig)| (id(extra.saturating_sub(12)), k, sig));
            alice.create_outbound_session(&b).unwrap()
        };
        // Every term of the bound counts: with the ids lengthening the message to the limit to
        // the byte (slack 0), a term counted one byte too many lowers the bound by a block;
        // with one byte more (slack 15), a term counted one byte too few raises it by a block.
        let s0 = longest_message_slack(&mut session(0, SpqrPolicy::Optional), addresses);
        assert_eq!(longest_message_slack(&mut session(s0, SpqrPolicy::Optional), addresses), 0);
        assert_eq!(longest_message_slack(&mut session(s0 + 1, SpqrPolicy::Optional), addresses), 15);
        let s0 = longest_message_slack(&mut session(0, SpqrPolicy::Off), addresses);
        assert_eq!(longest_message_slack(&mut session(s0, SpqrPolicy::Off), addresses), 0);
        assert_eq!(longest_message_slack(&mut session(s0 + 1, SpqrPolicy::Off), addresses), 15);
        // without the addresses field; without a one-time prekey
        longest_message_slack(&mut session(16, SpqrPolicy::Optional), None);
        let mut no_one_time = bundle.clone();
        no_one_time.pre_key = None;
        longest_message_slack(&mut Account::new().create_outbound_session(&no_one_time).unwrap(), addresses);
        // a SignalMessage, after the reply
        let alice = Account::new();
        let mut a = alice.create_outbound_session(&bundle).unwrap();
        let InterolmMessage::PreKey(p) = a.encrypt(b"hi").unwrap() else { panic!("a pre-key message") };
        let mut b = bob.create_inbound_session(&p).unwrap().session;
        assert!(!a.has_received_message(), "the initiator before the reply");
        a.decrypt(&b.encrypt(b"re").unwrap()).unwrap();
        assert!(a.has_received_message() && b.has_received_message());
        longest_message_slack(&mut a, None);
        longest_message_slack(&mut b, None);
    }

    /// libsignal's first two pre-key messages (test-vectors/interolm, made by its Node client:
    /// 0.72.1 X3DH and PQXDH without SPQR, 0.90.0 PQXDH with SPQR V1) decrypt for a Bob rebuilt from the private
    /// keys libsignal exported: a known answer for PQXDH's key derivation, the chain and
    /// message keys, the MAC and the SPQR salt, which caudata-only round trips cannot check.
    #[test]
    fn libsignal_pre_key_messages_decrypt_for_its_bob() {
        use crate::primitives::{Kyber1024SecretKey, SecretBytes, XEdDsaSignature};
        for (lib, json) in [
            ("0.72.1 X3DH", include_str!("../../test-vectors/interolm/x3dh_v3_libsignal-0.72.1.json")),
            ("0.72.1", include_str!("../../test-vectors/interolm/pqxdh_v4_libsignal-0.72.1.json")),
            ("0.90.0", include_str!("../../test-vectors/interolm/pqxdh_v4_libsignal-0.90.0.json")),
        ] {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            let b = |k: &serde_json::Value| hex::decode(k.as_str().unwrap()).unwrap();
            let n = |k: &serde_json::Value| k.as_u64().unwrap() as u32;
            let secret = |k| Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_slice(&b(k)).unwrap());
            let (private, published) = (&v["bob"]["private"], &v["bob"]["bundle_as_published"]);
            let mut bob =
                Account::from_identity_key(secret(&private["identity_private"]), n(&v["bob"]["registration_id"]));
            if lib.starts_with("0.72.1") {
                bob.set_spqr_policy(SpqrPolicy::Off);
            }
            bob.allow_x3dh(true);
            let signature = |k| XEdDsaSignature::from_slice(&b(k)).unwrap();
            let store = bob.pre_keys_mut();
            store.import_signed_pre_key(
                n(&published["signed_pre_key_id"]),
                secret(&private["signed_pre_key_private"]),
                signature(&published["signed_pre_key_signature"]),
            );
            store.import_one_time_pre_key(n(&published["pre_key_id"]), secret(&private["pre_key_private"]));
            if !private["kyber_secret_key"].is_null() {
                store.import_kyber_pre_key(
                    n(&published["kyber_pre_key_id"]),
                    Kyber1024SecretKey::from_bytes(&b(&private["kyber_secret_key"])).unwrap(),
                    signature(&published["kyber_pre_key_signature"]),
                    true,
                );
            }
            let message = |i: usize| InterolmMessage::from_parts(3, &b(&v["messages"][i]["body"])).unwrap();
            let InterolmMessage::PreKey(first) = message(0) else { panic!("a pre-key message") };
            let created = bob.create_inbound_session(&first).unwrap();
            assert_eq!(created.plaintext, b(&v["messages"][0]["plaintext"]), "{lib}");
            let mut session = created.session;
            let (version, byte, number) =
                if lib.ends_with("X3DH") { (SessionVersion::X3dh, 0x34, 3) } else { (SessionVersion::Pqxdh, 0x44, 4) };
            let sv = session.session_version();
            assert_eq!((sv, sv.version_byte(), sv.as_u8(), first.session_version()), (version, byte, number, number));
            assert_eq!(session.remote_registration_id(), n(&v["alice"]["registration_id"]));
            assert_eq!(session.decrypt(&message(1)).unwrap(), b(&v["messages"][1]["plaintext"]), "{lib}");
        }
    }

    #[test]
    fn both_sides_describe_the_same_session() {
        let (mut alice, mut bob) = (Account::new(), Account::new());
        alice.set_registration_id(1111);
        bob.set_registration_id(2222);
        bob.generate_signed_pre_key();
        bob.generate_kyber_pre_key(true);
        let bundle = bob.pre_key_bundle(1).unwrap();
        let mut a = alice.create_outbound_session(&bundle).unwrap();
        let InterolmMessage::PreKey(p) = a.encrypt(b"hi").unwrap() else { panic!("a pre-key message") };
        let b = bob.create_inbound_session(&p).unwrap().session;
        assert_eq!((a.is_initiator(), b.is_initiator()), (true, false));
        assert_eq!((a.session_version(), b.session_version()), (SessionVersion::Pqxdh, SessionVersion::Pqxdh));
        assert_eq!((a.local_identity_key(), a.remote_identity_key()), (alice.identity_key(), bob.identity_key()));
        assert_eq!((b.local_identity_key(), b.remote_identity_key()), (bob.identity_key(), alice.identity_key()));
        assert_eq!((a.local_registration_id(), a.remote_registration_id()), (1111, 2222));
        assert_eq!((b.local_registration_id(), b.remote_registration_id()), (2222, 1111));
        assert_eq!((a.base_key(), b.base_key()), (p.base_key(), p.base_key()));
        assert_eq!((a.spqr().version(), b.spqr().version()), (SpqrVersion::V1, SpqrVersion::V1));
        assert!(b.matches(&p));
        // the id: the same on both sides, 32 bytes of hash, another for another session
        assert_eq!(a.session_id(), b.session_id());
        assert_eq!(crate::primitives::base64_decode(a.session_id()).unwrap().len(), 32);
        let other = alice.create_outbound_session(&bundle).unwrap();
        assert_ne!(other.session_id(), a.session_id());
        let InterolmMessage::PreKey(q) = alice.create_outbound_session(&bundle).unwrap().encrypt(b"x").unwrap() else {
            panic!("a pre-key message")
        };
        assert!(!b.matches(&q));
    }

    /// Once SPQR V1 is negotiated, a message without an SPQR key is a downgrade: it is
    /// accepted only as what it may be, a pre-key message the initiator sent before it heard
    /// from us. The same message without its pre-key wrapper is refused, and changes nothing.
    #[test]
    fn keyless_messages_after_negotiation_only_as_pre_key_messages() {
        let alice = Account::new(); // SPQR Optional: minimum V0, so no key before the reply
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(0);
        let mut a = alice.create_outbound_session(&bundle).unwrap();
        let (InterolmMessage::PreKey(p1), InterolmMessage::PreKey(p2)) =
            (a.encrypt(b"1").unwrap(), a.encrypt(b"2").unwrap())
        else {
            panic!("pre-key messages")
        };
        let mut b = bob.create_inbound_session(&p1).unwrap().session;
        assert_eq!(b.spqr().version_status(), crate::interolm::spqr::VersionStatus::Complete(SpqrVersion::V1));
        let bare = InterolmMessage::Whisper(p2.message());
        let before = b.spqr().to_bytes();
        assert!(matches!(
            b.decrypt(&bare),
            Err(DecryptionError::Spqr(crate::interolm::spqr::SpqrError::KeylessAfterNegotiation { .. }))
        ));
        assert_eq!(b.spqr().to_bytes(), before);
        assert_eq!(b.decrypt(&InterolmMessage::PreKey(p2)).unwrap(), b"2");
    }

    /// The allowance for keyless pre-key messages holds only while the initiator's first
    /// chain is certainly the oldest receiving chain held: below the limit of receiving chains
    /// (one of them may have been dropped at it), not at it.
    #[test]
    fn keyless_pre_key_messages_only_below_the_receiving_chain_limit() {
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(0);
        for (chains, accepted) in
            [(crate::consts::MAX_RECEIVER_CHAINS - 1, true), (crate::consts::MAX_RECEIVER_CHAINS, false)]
        {
            let mut a = Account::new().create_outbound_session(&bundle).unwrap();
            let (InterolmMessage::PreKey(p1), InterolmMessage::PreKey(p2)) =
                (a.encrypt(b"1").unwrap(), a.encrypt(b"2").unwrap())
            else {
                panic!("pre-key messages")
            };
            let mut b = bob.create_inbound_session(&p1).unwrap().session;
            while b.ratchet.receivers.len() < chains {
                a.decrypt(&b.encrypt(b"r").unwrap()).unwrap();
                b.decrypt(&a.encrypt(b"a").unwrap()).unwrap();
            }
            assert_eq!(b.ratchet.receivers.len(), chains);
            let delayed = b.decrypt(&InterolmMessage::PreKey(p2));
            if accepted {
                assert_eq!(delayed.unwrap(), b"2");
            } else {
                assert!(
                    matches!(
                        delayed,
                        Err(DecryptionError::Spqr(crate::interolm::spqr::SpqrError::KeylessAfterNegotiation { .. }))
                    ),
                    "{delayed:?}"
                );
            }
        }
    }

    /// An initiator restored from its pickle still names its own pre-key messages: the digest
    /// `matches` compares is rebuilt from the stored pending pre-key fields.
    #[test]
    fn a_restored_initiator_still_matches_its_pre_key_messages() {
        let (_, bundle) = crate::test_fixtures::interolm_responder(0);
        let mut a = Account::new().create_outbound_session(&bundle).unwrap();
        let InterolmMessage::PreKey(p) = a.encrypt(b"1").unwrap() else { panic!("a pre-key message") };
        let key = [7; 32];
        let restored = Session::from_pickle(
            crate::pickle::InterolmSessionPickle::from_encrypted(&a.pickle().encrypt(&key), &key).unwrap(),
        );
        assert!(a.matches(&p) && restored.matches(&p));
    }
}
