//! caudata's own serialization of an SPQR state (not libsignal's protobuf: interop never needs
//! it). Big-endian fixed-width integers, no padding; every count is checked against a limit and
//! against the bytes left before anything is allocated, and trailing bytes are refused.
//!
//! ```text
//! state       := 0x01 (format) ‖ version u8 (0 = V0, 1 = V1) ‖ flags u8
//!                (bit 0: negotiation, bit 1: chain; V0 states have neither)
//!                [negotiation] [scka, iff V1] [chain]
//! negotiation := auth_key(32) ‖ direction u8 (0 A2B, 1 B2A) ‖ min_version u8 ‖ max_jump u32 ‖ max_ooo u32
//! scka        := tag u8 (1 … 11, libsignal's order) ‖ epoch u64 ‖ root_key(32) ‖ mac_key(32) ‖ fields
//!   1 KeysUnsampled        —
//!   2 KeysSampled          dk(2400) ‖ enc96
//!   3 HeaderSent           dk ‖ next u32 (the ek encoder; its payload is dk's ek vector) ‖ dec960
//!   4 Ct1Received          dk ‖ ct1(960) ‖ next u32 (ek encoder)
//!   5 EkSentCt1Received    dk ‖ ct1(960) ‖ dec160
//!   6 NoHeaderReceived     dec96
//!   7 HeaderReceived       hdr(64) ‖ dec1152
//!   8 Ct1Sampled           hdr ‖ m(32) ‖ enc960 ‖ dec1152
//!   9 EkReceivedCt1Sampled hdr ‖ m ‖ ek(1152) ‖ enc960
//!  10 Ct1Acknowledged      hdr ‖ m ‖ dec1152
//!  11 Ct2Sampled           enc160
//! encN        := next u32 ‖ payload(N)
//! decN        := count u8 (< N/32) ‖ count × (index u16 ‖ data(32)), indices strictly increasing
//! chain       := direction u8 ‖ current_epoch u64 ‖ send_epoch u64 ‖ next_root(32) ‖ max_jump u32 ‖
//!                max_ooo u32 ‖ links u8 (1 … 8) ‖ links × (send half ‖ receive half)
//! half        := ctr u32 ‖ has_next u8 ‖ [next(32)] ‖ count u32 (≤ max_ooo·11/10 + 1) ‖
//!                count × (index u32 ‖ key(32))
//! ```

use std::collections::VecDeque;

use zeroize::Zeroizing;

use super::auth::Authenticator;
use super::chain::{Chain, ChainParams, KeyHistory, Link, MAX_LINKS, SubChain};
use super::erasure::{CHUNK_LEN, Decoder, Encoder};
use super::message::Chunk;
use super::scka::{CT2_MSG_LEN, HEADER_MSG_LEN, Phase, Scka};
use super::{Direction, Negotiation, SpqrError, SpqrState, SpqrVersion};
use crate::primitives::{
    MLKEM768_CT1_LEN, MLKEM768_DK_LEN, MLKEM768_EK_VECTOR_LEN, MLKEM768_HEADER_LEN, MlKem768DecapsulationKey,
    SecretBytes, SecretVec, mlkem768_validate_ek,
};

const FORMAT: u8 = 1;
const FLAG_NEGOTIATION: u8 = 1;
const FLAG_CHAIN: u8 = 2;

fn bad(what: &'static str) -> SpqrError {
    SpqrError::InvalidState(what)
}

/// The state's bytes, in a buffer that grows only through its own wiping copy (the state holds
/// ML-KEM decapsulation keys and chain keys; `Vec`'s own growth would free them unwiped).
struct Writer(SecretVec);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn encoder(&mut self, e: &Encoder) {
        self.u32(e.next_index());
        self.bytes(e.payload());
    }
    fn decoder(&mut self, d: &Decoder) {
        // A stored decoder holds fewer chunks than needed (≤ 35).
        self.u8(d.chunks().len() as u8);
        for c in d.chunks() {
            self.u16(c.index);
            self.bytes(&c.data);
        }
    }
    fn direction(&mut self, d: Direction) {
        self.u8(match d {
            Direction::A2B => 0,
            Direction::B2A => 1,
        });
    }
    fn version(&mut self, v: SpqrVersion) {
        self.u8(match v {
            SpqrVersion::V0 => 0,
            SpqrVersion::V1 => 1,
        });
    }
    fn params(&mut self, p: &ChainParams) {
        self.u32(p.max_jump);
        self.u32(p.max_ooo_keys);
    }
    fn half(&mut self, h: &SubChain) {
        self.u32(h.ctr);
        match &h.next {
            Some(n) => {
                self.u8(1);
                self.bytes(n.expose());
            }
            None => self.u8(0),
        }
        self.u32(h.history.len() as u32);
        for (i, k) in h.history.entries() {
            self.u32(i);
            self.bytes(k);
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SpqrError> {
        if self.buf.len() < n {
            return Err(bad("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], SpqrError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, SpqrError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, SpqrError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, SpqrError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, SpqrError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn secret(&mut self) -> Result<SecretBytes<32>, SpqrError> {
        SecretBytes::from_slice(self.take(32)?).ok_or(bad("truncated"))
    }
    fn flag(&mut self) -> Result<bool, SpqrError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad("a flag byte is neither 0 nor 1")),
        }
    }
    fn direction(&mut self) -> Result<Direction, SpqrError> {
        match self.u8()? {
            0 => Ok(Direction::A2B),
            1 => Ok(Direction::B2A),
            _ => Err(bad("unknown direction")),
        }
    }
    fn version(&mut self) -> Result<SpqrVersion, SpqrError> {
        match self.u8()? {
            0 => Ok(SpqrVersion::V0),
            1 => Ok(SpqrVersion::V1),
            _ => Err(bad("unknown SPQR version")),
        }
    }
    fn params(&mut self) -> Result<ChainParams, SpqrError> {
        let p = ChainParams { max_jump: self.u32()?, max_ooo_keys: self.u32()? };
        p.validate().map_err(|_| bad("chain limits out of range"))?;
        Ok(p)
    }
    fn encoder<const N: usize>(&mut self) -> Result<Encoder, SpqrError> {
        let next = self.u32()?;
        Encoder::resume(self.take(N)?, next).map_err(|_| bad("encoder length"))
    }
    fn decoder<const N: usize>(&mut self) -> Result<Decoder, SpqrError> {
        let count = usize::from(self.u8()?);
        if count >= N / CHUNK_LEN || count * (2 + CHUNK_LEN) > self.buf.len() {
            return Err(bad("decoder chunk count"));
        }
        let mut chunks = Vec::with_capacity(count);
        for _ in 0..count {
            chunks.push(Chunk { index: self.u16()?, data: self.array()? });
        }
        Decoder::restore(N, chunks).ok_or(bad("decoder chunks not strictly increasing"))
    }
    fn dk(&mut self) -> Result<MlKem768DecapsulationKey, SpqrError> {
        MlKem768DecapsulationKey::from_slice(self.take(MLKEM768_DK_LEN)?).ok_or(bad("malformed decapsulation key"))
    }
    fn half(&mut self, params: &ChainParams) -> Result<SubChain, SpqrError> {
        let ctr = self.u32()?;
        let next = if self.flag()? { Some(self.secret()?) } else { None };
        let count = self.u32()? as usize;
        let trim = params.max_ooo_keys as usize * 11 / 10 + 1;
        if count > trim || count.saturating_mul(36) > self.buf.len() {
            return Err(bad("too many skipped keys"));
        }
        let mut history = KeyHistory::default();
        for _ in 0..count {
            let index = self.u32()?;
            let key: Zeroizing<[u8; 32]> = Zeroizing::new(self.array()?);
            if index >= ctr {
                return Err(bad("a skipped key at or after its chain's counter"));
            }
            history.push(index, &key);
        }
        Ok(SubChain { ctr, next, history })
    }
}

impl SpqrState {
    /// The state's serialized form (see SPEC.md §6, SPQR V1). It holds every secret of the state:
    /// the caller must encrypt it (as part of the session pickle) and let it be wiped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut w = Writer(SecretVec::with_capacity(4096));
        w.u8(FORMAT);
        w.version(self.version());
        let flags = if self.negotiation.is_some() { FLAG_NEGOTIATION } else { 0 }
            | if self.chain.is_some() { FLAG_CHAIN } else { 0 };
        w.u8(flags);
        if let Some(n) = &self.negotiation {
            w.bytes(n.auth_key.expose());
            w.direction(n.direction);
            w.version(n.min_version);
            w.params(&n.params);
        }
        if let Some(s) = &self.scka {
            write_scka(&mut w, s);
        }
        if let Some(c) = &self.chain {
            w.direction(c.dir);
            w.u64(c.current_epoch);
            w.u64(c.send_epoch);
            w.bytes(c.next_root.expose());
            w.params(&c.params);
            w.u8(c.links.len() as u8);
            for link in &c.links {
                w.half(&link.send);
                w.half(&link.recv);
            }
        }
        w.0.finish()
    }

    /// Restores a state from [`SpqrState::to_bytes`]. Never panics, and allocates only what the
    /// input really contains.
    ///
    /// # Errors
    /// [`SpqrError::InvalidState`] naming the first problem found.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SpqrError> {
        let mut r = Reader { buf: bytes };
        if r.u8()? != FORMAT {
            return Err(bad("unknown format byte"));
        }
        let version = r.version()?;
        let flags = r.u8()?;
        if flags & !(FLAG_NEGOTIATION | FLAG_CHAIN) != 0 {
            return Err(bad("unknown flags"));
        }
        if version == SpqrVersion::V0 && flags != 0 {
            return Err(bad("a V0 state holds nothing"));
        }
        let negotiation = if flags & FLAG_NEGOTIATION != 0 {
            Some(Negotiation {
                auth_key: r.secret()?,
                direction: r.direction()?,
                min_version: r.version()?,
                params: r.params()?,
            })
        } else {
            None
        };
        let scka = match version {
            SpqrVersion::V0 => None,
            SpqrVersion::V1 => Some(read_scka(&mut r)?),
        };
        let chain = if flags & FLAG_CHAIN != 0 { Some(read_chain(&mut r)?) } else { None };
        if !r.buf.is_empty() {
            return Err(bad("trailing bytes"));
        }
        if let Some(s) = &scka {
            match &chain {
                None if negotiation.is_none() => return Err(bad("neither a chain nor negotiation state")),
                None if s.epoch != 1 => return Err(bad("an epoch past 1 without a chain")),
                Some(c) if c.current_epoch > s.epoch || c.current_epoch + 1 < s.epoch => {
                    return Err(bad("chain and state epochs disagree"));
                }
                _ => {}
            }
        }
        Ok(Self { scka, chain, negotiation })
    }
}

fn write_scka(w: &mut Writer, s: &Scka) {
    let tag = match &s.phase {
        Phase::KeysUnsampled => 1,
        Phase::KeysSampled { .. } => 2,
        Phase::HeaderSent { .. } => 3,
        Phase::Ct1Received { .. } => 4,
        Phase::EkSentCt1Received { .. } => 5,
        Phase::NoHeaderReceived { .. } => 6,
        Phase::HeaderReceived { .. } => 7,
        Phase::Ct1Sampled { .. } => 8,
        Phase::EkReceivedCt1Sampled { .. } => 9,
        Phase::Ct1Acknowledged { .. } => 10,
        Phase::Ct2Sampled { .. } => 11,
    };
    w.u8(tag);
    w.u64(s.epoch);
    w.bytes(s.auth.root_key());
    w.bytes(s.auth.mac_key());
    match &s.phase {
        Phase::KeysUnsampled => {}
        Phase::KeysSampled { dk, hdr_enc } => {
            w.bytes(dk.as_bytes());
            w.encoder(hdr_enc);
        }
        Phase::HeaderSent { dk, ek_enc, ct1_dec } => {
            w.bytes(dk.as_bytes());
            w.u32(ek_enc.next_index());
            w.decoder(ct1_dec);
        }
        Phase::Ct1Received { dk, ct1, ek_enc } => {
            w.bytes(dk.as_bytes());
            w.bytes(&ct1[..]);
            w.u32(ek_enc.next_index());
        }
        Phase::EkSentCt1Received { dk, ct1, ct2_dec } => {
            w.bytes(dk.as_bytes());
            w.bytes(&ct1[..]);
            w.decoder(ct2_dec);
        }
        Phase::NoHeaderReceived { hdr_dec } => w.decoder(hdr_dec),
        Phase::HeaderReceived { hdr, ek_dec } => {
            w.bytes(hdr);
            w.decoder(ek_dec);
        }
        Phase::Ct1Sampled { hdr, m, ct1_enc, ek_dec } => {
            w.bytes(hdr);
            w.bytes(m.expose());
            w.encoder(ct1_enc);
            w.decoder(ek_dec);
        }
        Phase::EkReceivedCt1Sampled { hdr, m, ek, ct1_enc } => {
            w.bytes(hdr);
            w.bytes(m.expose());
            w.bytes(&ek[..]);
            w.encoder(ct1_enc);
        }
        Phase::Ct1Acknowledged { hdr, m, ek_dec } => {
            w.bytes(hdr);
            w.bytes(m.expose());
            w.decoder(ek_dec);
        }
        Phase::Ct2Sampled { ct2_enc } => w.encoder(ct2_enc),
    }
}

fn read_scka(r: &mut Reader<'_>) -> Result<Scka, SpqrError> {
    let tag = r.u8()?;
    let epoch = r.u64()?;
    if epoch == 0 {
        return Err(bad("epoch 0"));
    }
    let auth = Authenticator::from_keys(r.secret()?, r.secret()?);
    let ek_encoder = |dk: &MlKem768DecapsulationKey, next: u32| {
        Encoder::resume(dk.ek_vector(), next).map_err(|_| bad("encoder length"))
    };
    let phase = match tag {
        1 => Phase::KeysUnsampled,
        2 => Phase::KeysSampled { dk: r.dk()?, hdr_enc: r.encoder::<HEADER_MSG_LEN>()? },
        3 => {
            let dk = r.dk()?;
            let ek_enc = ek_encoder(&dk, r.u32()?)?;
            Phase::HeaderSent { dk, ek_enc, ct1_dec: r.decoder::<MLKEM768_CT1_LEN>()? }
        }
        4 => {
            let dk = r.dk()?;
            let ct1 = Box::new(r.array::<MLKEM768_CT1_LEN>()?);
            let ek_enc = ek_encoder(&dk, r.u32()?)?;
            Phase::Ct1Received { dk, ct1, ek_enc }
        }
        5 => Phase::EkSentCt1Received {
            dk: r.dk()?,
            ct1: Box::new(r.array::<MLKEM768_CT1_LEN>()?),
            ct2_dec: r.decoder::<CT2_MSG_LEN>()?,
        },
        6 => Phase::NoHeaderReceived { hdr_dec: r.decoder::<HEADER_MSG_LEN>()? },
        7 => Phase::HeaderReceived {
            hdr: r.array::<MLKEM768_HEADER_LEN>()?,
            ek_dec: r.decoder::<MLKEM768_EK_VECTOR_LEN>()?,
        },
        8 => Phase::Ct1Sampled {
            hdr: r.array::<MLKEM768_HEADER_LEN>()?,
            m: r.secret()?,
            ct1_enc: r.encoder::<MLKEM768_CT1_LEN>()?,
            ek_dec: r.decoder::<MLKEM768_EK_VECTOR_LEN>()?,
        },
        9 => {
            let hdr = r.array::<MLKEM768_HEADER_LEN>()?;
            let m = r.secret()?;
            let ek = Box::new(r.array::<MLKEM768_EK_VECTOR_LEN>()?);
            if !mlkem768_validate_ek(&hdr, &ek) {
                return Err(bad("the ek vector does not match the header"));
            }
            Phase::EkReceivedCt1Sampled { hdr, m, ek, ct1_enc: r.encoder::<MLKEM768_CT1_LEN>()? }
        }
        10 => Phase::Ct1Acknowledged {
            hdr: r.array::<MLKEM768_HEADER_LEN>()?,
            m: r.secret()?,
            ek_dec: r.decoder::<MLKEM768_EK_VECTOR_LEN>()?,
        },
        11 => Phase::Ct2Sampled { ct2_enc: r.encoder::<CT2_MSG_LEN>()? },
        _ => return Err(bad("unknown state tag")),
    };
    Ok(Scka { epoch, auth, phase })
}

fn read_chain(r: &mut Reader<'_>) -> Result<Chain, SpqrError> {
    let dir = r.direction()?;
    let current_epoch = r.u64()?;
    let send_epoch = r.u64()?;
    let next_root = r.secret()?;
    let params = r.params()?;
    let count = usize::from(r.u8()?);
    if count == 0 || count > MAX_LINKS || count as u64 > current_epoch.saturating_add(1) {
        return Err(bad("chain link count"));
    }
    if send_epoch > current_epoch || send_epoch.saturating_add(count as u64) <= current_epoch {
        return Err(bad("chain send epoch out of range"));
    }
    let mut links = VecDeque::with_capacity(count);
    for _ in 0..count {
        links.push_back(Link { send: r.half(&params)?, recv: r.half(&params)? });
    }
    Ok(Chain { dir, current_epoch, send_epoch, links, next_root, params })
}
