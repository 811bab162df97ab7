//! The ML-KEM Braid: the chunked state machine that agrees on one epoch secret per epoch.
//!
//! The ek-sender (Alice in odd epochs, Bob in even ones) samples an ML-KEM-768 key pair and
//! sends the header message `hdr ‖ mac_hdr` (3 chunks) and then the ek vector (36 chunks); the
//! ct-sender answers with ct1 (30 chunks) as soon as it has the header, and with
//! `ct2 ‖ mac_ct` (5 chunks) once it has the ek vector and knows ct1 arrived. Roles swap
//! after every epoch.
//!
//! | state | `send` emits | on a message of the same epoch |
//! |---|---|---|
//! | KeysUnsampled | KeyGen; Hdr #0 → KeysSampled | — |
//! | KeysSampled | Hdr #k | Ct1 → HeaderSent |
//! | HeaderSent | Ek #k | Ct1 → (complete) Ct1Received |
//! | Ct1Received | EkCt1Ack #k | Ct2 → EkSentCt1Received |
//! | EkSentCt1Received | Ct1Ack | Ct2 → (complete) decaps, MAC → **S_e**, NoHeaderReceived(e+1) |
//! | NoHeaderReceived | None | Hdr → (complete) MAC → HeaderReceived |
//! | HeaderReceived | Encaps1 → **S_e**; Ct1 #0 → Ct1Sampled | — |
//! | Ct1Sampled | Ct1 #k | Ek/EkCt1Ack → (complete) check ek → Ct2Sampled if ack else EkReceivedCt1Sampled; (incomplete) Ct1Acknowledged if ack |
//! | EkReceivedCt1Sampled | Ct1 #k | Ct1Ack/EkCt1Ack → Encaps2 → Ct2Sampled |
//! | Ct1Acknowledged | None | Ek/EkCt1Ack → (complete) check ek, Encaps2 → Ct2Sampled |
//! | Ct2Sampled | Ct2 #k | — ; a message of epoch e+1 → KeysUnsampled(e+1) |
//!
//! Messages of an older epoch are ignored; a newer one is [`SpqrError::EpochFromFuture`]
//! except in Ct2Sampled as shown.

use super::SpqrError;
use super::auth::{Authenticator, epoch_secret};
use super::erasure::{Decoder, Encoder};
use super::message::Payload;
use crate::primitives::{
    MLKEM768_CT1_LEN, MLKEM768_CT2_LEN, MLKEM768_EK_VECTOR_LEN, MLKEM768_HEADER_LEN, MlKem768DecapsulationKey,
    RandomSource, SecretBytes, mlkem768_encapsulate1, mlkem768_encapsulate2, mlkem768_validate_ek,
};

/// The header message: `hdr(64) ‖ mac_hdr(32)`.
pub(crate) const HEADER_MSG_LEN: usize = MLKEM768_HEADER_LEN + 32;
/// The last ct-sender payload: `ct2(128) ‖ mac_ct(32)`.
pub(crate) const CT2_MSG_LEN: usize = MLKEM768_CT2_LEN + 32;

pub(crate) type Header = [u8; MLKEM768_HEADER_LEN];
pub(crate) type Ct1 = Box<[u8; MLKEM768_CT1_LEN]>;
pub(crate) type EkVector = Box<[u8; MLKEM768_EK_VECTOR_LEN]>;

/// The eleven states and what each holds besides the epoch and authenticator.
#[derive(Clone)]
pub(crate) enum Phase {
    // ek-sender
    KeysUnsampled,
    KeysSampled { dk: MlKem768DecapsulationKey, hdr_enc: Encoder },
    HeaderSent { dk: MlKem768DecapsulationKey, ek_enc: Encoder, ct1_dec: Decoder },
    Ct1Received { dk: MlKem768DecapsulationKey, ct1: Ct1, ek_enc: Encoder },
    EkSentCt1Received { dk: MlKem768DecapsulationKey, ct1: Ct1, ct2_dec: Decoder },
    // ct-sender; `m` is the 32-byte encapsulation randomness (see primitives::mlkem768)
    NoHeaderReceived { hdr_dec: Decoder },
    HeaderReceived { hdr: Header, ek_dec: Decoder },
    Ct1Sampled { hdr: Header, m: SecretBytes<32>, ct1_enc: Encoder, ek_dec: Decoder },
    EkReceivedCt1Sampled { hdr: Header, m: SecretBytes<32>, ek: EkVector, ct1_enc: Encoder },
    Ct1Acknowledged { hdr: Header, m: SecretBytes<32>, ek_dec: Decoder },
    Ct2Sampled { ct2_enc: Encoder },
}

/// Where the ek-sender's key pair comes from.
pub(crate) enum KeySource<'a> {
    /// `ML-KEM.KeyGen` from 64 bytes of the caller's randomness.
    Generate,
    /// A given key pair (known-answer tests replaying a peer's recorded keys).
    #[cfg_attr(not(feature = "hazmat"), allow(dead_code))]
    Fixed(&'a MlKem768DecapsulationKey),
}

/// The SCKA state.
#[derive(Clone)]
pub(crate) struct Scka {
    pub(crate) epoch: u64,
    pub(crate) auth: Authenticator,
    pub(crate) phase: Phase,
}

/// An epoch secret with its epoch.
pub(crate) type EpochSecret = (u64, SecretBytes<32>);

fn internal<T>(what: &'static str) -> impl FnOnce(T) -> SpqrError {
    move |_| SpqrError::Internal(what)
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], SpqrError> {
    bytes.try_into().map_err(internal("payload length"))
}

fn boxed<const N: usize>(bytes: &[u8]) -> Result<Box<[u8; N]>, SpqrError> {
    Ok(Box::new(fixed::<N>(bytes)?))
}

impl Scka {
    /// Alice (the PQXDH initiator): the first ek-sender.
    pub(crate) fn new_ek_sender(auth_key: &[u8; 32]) -> Self {
        Self { epoch: 1, auth: Authenticator::new(auth_key), phase: Phase::KeysUnsampled }
    }

    /// Bob (the responder): the first ct-sender.
    pub(crate) fn new_ct_sender(auth_key: &[u8; 32]) -> Self {
        Self {
            epoch: 1,
            auth: Authenticator::new(auth_key),
            phase: Phase::NoHeaderReceived { hdr_dec: Decoder::fixed::<HEADER_MSG_LEN>() },
        }
    }

    /// libsignal's name of the current state.
    pub(crate) fn state_name(&self) -> &'static str {
        match &self.phase {
            Phase::KeysUnsampled => "KeysUnsampled",
            Phase::KeysSampled { .. } => "KeysSampled",
            Phase::HeaderSent { .. } => "HeaderSent",
            Phase::Ct1Received { .. } => "Ct1Received",
            Phase::EkSentCt1Received { .. } => "EkSentCt1Received",
            Phase::NoHeaderReceived { .. } => "NoHeaderReceived",
            Phase::HeaderReceived { .. } => "HeaderReceived",
            Phase::Ct1Sampled { .. } => "Ct1Sampled",
            Phase::EkReceivedCt1Sampled { .. } => "EkReceivedCt1Sampled",
            Phase::Ct1Acknowledged { .. } => "Ct1Acknowledged",
            Phase::Ct2Sampled { .. } => "Ct2Sampled",
        }
    }

    /// The encoder sending now, if any.
    pub(crate) fn encoder(&self) -> Option<&Encoder> {
        match &self.phase {
            Phase::KeysSampled { hdr_enc: e, .. }
            | Phase::HeaderSent { ek_enc: e, .. }
            | Phase::Ct1Received { ek_enc: e, .. }
            | Phase::Ct1Sampled { ct1_enc: e, .. }
            | Phase::EkReceivedCt1Sampled { ct1_enc: e, .. }
            | Phase::Ct2Sampled { ct2_enc: e } => Some(e),
            _ => None,
        }
    }

    /// The decoder receiving now, if any.
    pub(crate) fn decoder(&self) -> Option<&Decoder> {
        match &self.phase {
            Phase::HeaderSent { ct1_dec: d, .. }
            | Phase::EkSentCt1Received { ct2_dec: d, .. }
            | Phase::NoHeaderReceived { hdr_dec: d }
            | Phase::HeaderReceived { ek_dec: d, .. }
            | Phase::Ct1Sampled { ek_dec: d, .. }
            | Phase::Ct1Acknowledged { ek_dec: d, .. } => Some(d),
            _ => None,
        }
    }

    /// One send: the payload (to go out with `self.epoch` as it was before the call) and, when
    /// the ct-sender samples ct1, the epoch secret.
    pub(crate) fn send(
        self,
        rng: &mut impl RandomSource,
        keys: KeySource<'_>,
    ) -> Result<(Self, Payload, Option<EpochSecret>), SpqrError> {
        let Self { epoch, mut auth, phase } = self;
        let mut secret = None;
        let (phase, payload) = match phase {
            Phase::KeysUnsampled => {
                let dk = match keys {
                    KeySource::Generate => MlKem768DecapsulationKey::generate(rng),
                    KeySource::Fixed(dk) => dk.clone(),
                };
                let hdr = dk.header();
                let mut msg = [0u8; HEADER_MSG_LEN];
                msg[..MLKEM768_HEADER_LEN].copy_from_slice(&hdr);
                msg[MLKEM768_HEADER_LEN..].copy_from_slice(&auth.header_mac(epoch, &hdr));
                let mut hdr_enc = Encoder::from_array(&msg);
                let chunk = hdr_enc.next_chunk();
                (Phase::KeysSampled { dk, hdr_enc }, Payload::Hdr(chunk))
            }
            Phase::KeysSampled { dk, mut hdr_enc } => {
                let chunk = hdr_enc.next_chunk();
                (Phase::KeysSampled { dk, hdr_enc }, Payload::Hdr(chunk))
            }
            Phase::HeaderSent { dk, mut ek_enc, ct1_dec } => {
                let chunk = ek_enc.next_chunk();
                (Phase::HeaderSent { dk, ek_enc, ct1_dec }, Payload::Ek(chunk))
            }
            Phase::Ct1Received { dk, ct1, mut ek_enc } => {
                let chunk = ek_enc.next_chunk();
                (Phase::Ct1Received { dk, ct1, ek_enc }, Payload::EkCt1Ack(chunk))
            }
            p @ Phase::EkSentCt1Received { .. } => (p, Payload::Ct1Ack),
            p @ (Phase::NoHeaderReceived { .. } | Phase::Ct1Acknowledged { .. }) => (p, Payload::None),
            Phase::HeaderReceived { hdr, ek_dec } => {
                let m = SecretBytes::<32>::random(rng);
                let (ct1, k) = mlkem768_encapsulate1(&hdr, &m).ok_or(SpqrError::Internal("encapsulate1"))?;
                let s = epoch_secret(&k, epoch);
                auth.update(epoch, s.expose());
                secret = Some((epoch, s));
                let mut ct1_enc = Encoder::from_array(&ct1);
                let chunk = ct1_enc.next_chunk();
                (Phase::Ct1Sampled { hdr, m, ct1_enc, ek_dec }, Payload::Ct1(chunk))
            }
            Phase::Ct1Sampled { hdr, m, mut ct1_enc, ek_dec } => {
                let chunk = ct1_enc.next_chunk();
                (Phase::Ct1Sampled { hdr, m, ct1_enc, ek_dec }, Payload::Ct1(chunk))
            }
            Phase::EkReceivedCt1Sampled { hdr, m, ek, mut ct1_enc } => {
                let chunk = ct1_enc.next_chunk();
                (Phase::EkReceivedCt1Sampled { hdr, m, ek, ct1_enc }, Payload::Ct1(chunk))
            }
            Phase::Ct2Sampled { mut ct2_enc } => {
                let chunk = ct2_enc.next_chunk();
                (Phase::Ct2Sampled { ct2_enc }, Payload::Ct2(chunk))
            }
        };
        Ok((Self { epoch, auth, phase }, payload, secret))
    }

    /// One receive of a message of SCKA epoch `msg_epoch`: the next state and, when the
    /// ek-sender completes ct2, the epoch secret.
    pub(crate) fn recv(self, msg_epoch: u64, payload: &Payload) -> Result<(Self, Option<EpochSecret>), SpqrError> {
        let Self { epoch, mut auth, phase } = self;
        if msg_epoch < epoch {
            return Ok((Self { epoch, auth, phase }, None));
        }
        if msg_epoch > epoch {
            return match phase {
                Phase::Ct2Sampled { .. } if Some(msg_epoch) == epoch.checked_add(1) => {
                    Ok((Self { epoch: msg_epoch, auth, phase: Phase::KeysUnsampled }, None))
                }
                _ => Err(SpqrError::EpochFromFuture { got: msg_epoch, current: epoch }),
            };
        }
        let mut secret = None;
        let mut next_epoch = epoch;
        let phase = match (phase, payload) {
            // ek-sender
            (Phase::KeysSampled { dk, .. }, Payload::Ct1(c)) => {
                let mut ct1_dec = Decoder::fixed::<MLKEM768_CT1_LEN>();
                ct1_dec.add_chunk(c);
                let ek_enc = Encoder::from_array(dk.ek_vector());
                Phase::HeaderSent { dk, ek_enc, ct1_dec }
            }
            (Phase::HeaderSent { dk, ek_enc, mut ct1_dec }, Payload::Ct1(c)) => {
                ct1_dec.add_chunk(c);
                match ct1_dec.decode() {
                    Some(ct1) => Phase::Ct1Received { dk, ct1: boxed(&ct1)?, ek_enc },
                    None => Phase::HeaderSent { dk, ek_enc, ct1_dec },
                }
            }
            (Phase::Ct1Received { dk, ct1, .. }, Payload::Ct2(c)) => {
                let mut ct2_dec = Decoder::fixed::<CT2_MSG_LEN>();
                ct2_dec.add_chunk(c);
                Phase::EkSentCt1Received { dk, ct1, ct2_dec }
            }
            (Phase::EkSentCt1Received { dk, ct1, mut ct2_dec }, Payload::Ct2(c)) => {
                ct2_dec.add_chunk(c);
                match ct2_dec.decode() {
                    None => Phase::EkSentCt1Received { dk, ct1, ct2_dec },
                    Some(msg) => {
                        let ct2 = fixed::<MLKEM768_CT2_LEN>(&msg[..MLKEM768_CT2_LEN])?;
                        let k = dk.decapsulate(&ct1, &ct2);
                        let s = epoch_secret(&k, epoch);
                        auth.update(epoch, s.expose());
                        if !auth.verify_ciphertext_mac(epoch, &ct1, &ct2, &msg[MLKEM768_CT2_LEN..]) {
                            return Err(SpqrError::InvalidCiphertextMac);
                        }
                        secret = Some((epoch, s));
                        next_epoch = epoch.checked_add(1).ok_or(SpqrError::Internal("epoch overflow"))?;
                        Phase::NoHeaderReceived { hdr_dec: Decoder::fixed::<HEADER_MSG_LEN>() }
                    }
                }
            }
            // ct-sender
            (Phase::NoHeaderReceived { mut hdr_dec }, Payload::Hdr(c)) => {
                hdr_dec.add_chunk(c);
                match hdr_dec.decode() {
                    None => Phase::NoHeaderReceived { hdr_dec },
                    Some(msg) => {
                        let hdr = fixed::<MLKEM768_HEADER_LEN>(&msg[..MLKEM768_HEADER_LEN])?;
                        if !auth.verify_header_mac(epoch, &hdr, &msg[MLKEM768_HEADER_LEN..]) {
                            return Err(SpqrError::InvalidHeaderMac);
                        }
                        Phase::HeaderReceived { hdr, ek_dec: Decoder::fixed::<MLKEM768_EK_VECTOR_LEN>() }
                    }
                }
            }
            (Phase::Ct1Sampled { hdr, m, ct1_enc, mut ek_dec }, Payload::Ek(c) | Payload::EkCt1Ack(c)) => {
                let ack = matches!(payload, Payload::EkCt1Ack(_));
                ek_dec.add_chunk(c);
                match (ek_dec.decode(), ack) {
                    (Some(ek), true) => {
                        let ek = checked_ek(&hdr, &ek)?;
                        Phase::Ct2Sampled { ct2_enc: encapsulate2(epoch, &auth, &hdr, &m, &ek)? }
                    }
                    (Some(ek), false) => Phase::EkReceivedCt1Sampled { ek: checked_ek(&hdr, &ek)?, hdr, m, ct1_enc },
                    (None, true) => Phase::Ct1Acknowledged { hdr, m, ek_dec },
                    (None, false) => Phase::Ct1Sampled { hdr, m, ct1_enc, ek_dec },
                }
            }
            (Phase::EkReceivedCt1Sampled { hdr, m, ek, .. }, Payload::Ct1Ack | Payload::EkCt1Ack(_)) => {
                Phase::Ct2Sampled { ct2_enc: encapsulate2(epoch, &auth, &hdr, &m, &ek)? }
            }
            (Phase::Ct1Acknowledged { hdr, m, mut ek_dec }, Payload::Ek(c) | Payload::EkCt1Ack(c)) => {
                ek_dec.add_chunk(c);
                match ek_dec.decode() {
                    Some(ek) => {
                        let ek = checked_ek(&hdr, &ek)?;
                        Phase::Ct2Sampled { ct2_enc: encapsulate2(epoch, &auth, &hdr, &m, &ek)? }
                    }
                    None => Phase::Ct1Acknowledged { hdr, m, ek_dec },
                }
            }
            // Everything else is ignored.
            (phase, _) => phase,
        };
        Ok((Self { epoch: next_epoch, auth, phase }, secret))
    }
}

/// The ct-sender's check of a reassembled ek vector against the header.
fn checked_ek(hdr: &Header, ek: &[u8]) -> Result<EkVector, SpqrError> {
    let ek = boxed::<MLKEM768_EK_VECTOR_LEN>(ek)?;
    if !mlkem768_validate_ek(hdr, &ek) {
        return Err(SpqrError::InvalidEncapsulationKey);
    }
    Ok(ek)
}

/// Encaps2 and the ciphertext MAC: the encoder of `ct2 ‖ mac_ct`.
fn encapsulate2(
    epoch: u64,
    auth: &Authenticator,
    hdr: &Header,
    m: &SecretBytes<32>,
    ek: &[u8; MLKEM768_EK_VECTOR_LEN],
) -> Result<Encoder, SpqrError> {
    let (ct1, ct2) = mlkem768_encapsulate2(hdr, m, ek).ok_or(SpqrError::Internal("encapsulate2"))?;
    let mut msg = [0u8; CT2_MSG_LEN];
    msg[..MLKEM768_CT2_LEN].copy_from_slice(&ct2);
    msg[MLKEM768_CT2_LEN..].copy_from_slice(&auth.ciphertext_mac(epoch, &ct1, &ct2));
    Ok(Encoder::from_array(&msg))
}
