//! Import of libsignal's stored SPQR state (`SessionStructure` field 15, the protobuf
//! `signal.proto.pq_ratchet.PqRatchetState` of SparsePostQuantumRatchet, SPEC.md §6 "Migration
//! from libsignal"), for moving a libsignal session to caudata without restarting it.
//!
//! ```text
//! PqRatchetState { 1 version_negotiation { 1 auth_key, 2 direction (0 A2B, 1 B2A), 3 min_version,
//!                                          4 chain_params { 1 max_jump, 2 max_ooo_keys } (0: default) },
//!                  2 chain { 1 direction, 2 current_epoch, 3 links [ { 1 send, 2 recv:
//!                            { 1 ctr, 2 next (32, or empty once wiped), 3 prev (BE32 index ‖ key32)* } } ],
//!                            4 next_root, 5 send_epoch, 6 params },
//!                  3 v1 { oneof 1 … 11: the eleven Braid states, libsignal's order } }
//! each state   { 1 uc { 1 epoch, 2 auth { 1 root_key, 2 mac_key }, then by state: ek, dk, hdr, es, ct1 },
//!                2 / 3 encoder or decoder }
//! encoder      { 1 idx, 2 pts [16] (BE16 values at x = 0 … n−1) | 3 polys [16] (BE16 coefficients, constant first) }
//! decoder      { 1 pts_needed (16·n), 2 polys (16), 3 pts [16] ((BE16 x ‖ BE16 y)*), 4 is_complete }
//! ```
//!
//! libsignal keeps, for a ct-sender, its libcrux encapsulation state `es` (2 080 bytes, ending
//! with the 32-byte randomness `m`), where caudata keeps `m` and the header: `m` is taken from
//! `es` and checked by re-deriving the stored ct1. One state cannot be carried over:
//! `EkReceivedCt1Sampled` (the ct-sender has the whole encapsulation key but no acknowledgement
//! of its ct1 yet) stores no header: without `rho` the encapsulation state can be neither rebuilt
//! from `m` nor checked (SPEC.md §6 "Migration from libsignal" says why in full); it is refused
//! with [`SpqrError::InvalidState`], and the record imports once the ek-sender has acknowledged
//! ct1.

use std::collections::VecDeque;

use super::auth::Authenticator;
use super::chain::{Chain, ChainParams, KeyHistory, Link, MAX_LINKS, SubChain};
use super::erasure::{CHUNK_LEN, Decoder, Encoder};
use super::message::Chunk;
use super::scka::{CT2_MSG_LEN, HEADER_MSG_LEN, Phase, Scka};
use super::{Direction, Negotiation, SpqrError, SpqrState, SpqrVersion, gf16};
use crate::primitives::{
    MLKEM768_CT1_LEN, MLKEM768_EK_VECTOR_LEN, MLKEM768_HEADER_LEN, MlKem768DecapsulationKey, SecretBytes,
    mlkem768_encapsulate1,
};
use crate::wire::codec::Fields;

fn bad(what: &'static str) -> SpqrError {
    SpqrError::InvalidState(what)
}

fn fields<'a>(bytes: &'a [u8], what: &'static str) -> Result<Fields<'a>, SpqrError> {
    Fields::read(bytes).map_err(|_| bad(what))
}

/// Maps a codec error to `InvalidState(what)`.
trait OrBad<T> {
    fn or_bad(self, what: &'static str) -> Result<T, SpqrError>;
}

impl<T> OrBad<T> for Result<T, crate::error::DecodeError> {
    fn or_bad(self, what: &'static str) -> Result<T, SpqrError> {
        self.map_err(|_| bad(what))
    }
}

fn secret32(b: &[u8], what: &'static str) -> Result<SecretBytes<32>, SpqrError> {
    SecretBytes::from_slice(b).ok_or(bad(what))
}

fn direction(v: u32) -> Result<Direction, SpqrError> {
    match v {
        0 => Ok(Direction::A2B),
        1 => Ok(Direction::B2A),
        _ => Err(bad("libsignal SPQR: unknown direction")),
    }
}

fn params(bytes: &[u8]) -> Result<ChainParams, SpqrError> {
    let f = fields(bytes, "libsignal SPQR: chain params")?;
    let d = ChainParams::default();
    let max_jump = f.u32(1, "max_jump").or_bad("libsignal SPQR: max_jump")?;
    let max_ooo = f.u32(2, "max_ooo_keys").or_bad("libsignal SPQR: max_ooo_keys")?;
    let p = ChainParams {
        max_jump: if max_jump == 0 { d.max_jump } else { max_jump },
        max_ooo_keys: if max_ooo == 0 { d.max_ooo_keys } else { max_ooo },
    };
    p.validate().map_err(|_| bad("libsignal SPQR: chain limits out of range"))?;
    Ok(p)
}

/// An encoder of a `len`-byte payload: its payload is rebuilt from the stored points or
/// polynomials.
fn encoder(bytes: &[u8], len: usize) -> Result<Encoder, SpqrError> {
    let f = fields(bytes, "libsignal SPQR: encoder")?;
    let idx = f.u32(1, "idx").or_bad("libsignal SPQR: encoder index")?;
    let pts = f.repeated(2, "pts").or_bad("libsignal SPQR: encoder points")?;
    let polys = f.repeated(3, "polys").or_bad("libsignal SPQR: encoder polynomials")?;
    let n = len / CHUNK_LEN;
    let mut payload = vec![0u8; len];
    let put = |payload: &mut [u8], p: usize, x: usize, y: u16| {
        payload[CHUNK_LEN * x + 2 * p..CHUNK_LEN * x + 2 * p + 2].copy_from_slice(&y.to_be_bytes());
    };
    match (pts.len(), polys.len()) {
        (16, 0) => {
            for (p, values) in pts.iter().enumerate() {
                if values.len() != 2 * n {
                    return Err(bad("libsignal SPQR: encoder points of the wrong length"));
                }
                for x in 0..n {
                    put(&mut payload, p, x, u16::from_be_bytes([values[2 * x], values[2 * x + 1]]));
                }
            }
        }
        (0, 16) => {
            for (p, coefficients) in polys.iter().enumerate() {
                if coefficients.is_empty() || coefficients.len() % 2 != 0 || coefficients.len() > 2 * n {
                    return Err(bad("libsignal SPQR: encoder polynomial of the wrong degree"));
                }
                for x in 0..n {
                    // Horner's rule, highest coefficient first.
                    let mut y = 0u16;
                    for c in coefficients.chunks_exact(2).rev() {
                        y = gf16::mul(y, x as u16) ^ u16::from_be_bytes([c[0], c[1]]);
                    }
                    put(&mut payload, p, x, y);
                }
            }
        }
        _ => return Err(bad("libsignal SPQR: an encoder needs 16 point lists or 16 polynomials")),
    }
    Encoder::resume(&payload, idx).map_err(|_| bad("libsignal SPQR: encoder length"))
}

/// A decoder of a `len`-byte payload from its stored points.
fn decoder(bytes: &[u8], len: usize) -> Result<Decoder, SpqrError> {
    let f = fields(bytes, "libsignal SPQR: decoder")?;
    let n = len / CHUNK_LEN;
    let needed = f.u32(1, "pts_needed").or_bad("libsignal SPQR: decoder size")?;
    let polys = f.u32(2, "polys").or_bad("libsignal SPQR: decoder size")?;
    if needed as usize != 16 * n || polys != 16 || f.u64(4, "is_complete").or_bad("libsignal SPQR: decoder")? != 0 {
        return Err(bad("libsignal SPQR: a decoder of another size, or complete"));
    }
    let pts = f.repeated(3, "pts").or_bad("libsignal SPQR: decoder points")?;
    if pts.is_empty() {
        return Decoder::restore(len, Vec::new()).ok_or(bad("libsignal SPQR: decoder"));
    }
    if pts.len() != 16 || pts[0].len() % 4 != 0 || pts.iter().any(|l| l.len() != pts[0].len()) {
        return Err(bad("libsignal SPQR: decoder point lists disagree"));
    }
    let count = pts[0].len() / 4;
    let mut chunks = Vec::with_capacity(count);
    for i in 0..count {
        let x = |l: &[u8]| u16::from_be_bytes([l[4 * i], l[4 * i + 1]]);
        let index = x(pts[0]);
        let mut data = [0u8; CHUNK_LEN];
        for (p, l) in pts.iter().enumerate() {
            if x(l) != index {
                return Err(bad("libsignal SPQR: decoder point lists disagree"));
            }
            data[2 * p..2 * p + 2].copy_from_slice(&l[4 * i + 2..4 * i + 4]);
        }
        chunks.push(Chunk { index, data });
    }
    Decoder::restore(len, chunks).ok_or(bad("libsignal SPQR: decoder points unsorted, repeated or complete"))
}

fn dk(b: &[u8]) -> Result<MlKem768DecapsulationKey, SpqrError> {
    MlKem768DecapsulationKey::from_slice(b).ok_or(bad("libsignal SPQR: malformed decapsulation key"))
}

fn array<const N: usize>(b: &[u8], what: &'static str) -> Result<[u8; N], SpqrError> {
    b.try_into().map_err(|_| bad(what))
}

/// `m`, the last 32 bytes of libcrux's serialized encapsulation state, checked against the
/// stored ct1.
fn randomness(hdr: &[u8; MLKEM768_HEADER_LEN], es: &[u8], ct1: &[u8]) -> Result<SecretBytes<32>, SpqrError> {
    if es.len() < 32 {
        return Err(bad("libsignal SPQR: encapsulation state too short"));
    }
    let m = secret32(&es[es.len() - 32..], "libsignal SPQR: encapsulation state")?;
    let (derived, _) = mlkem768_encapsulate1(hdr, &m).ok_or(bad("libsignal SPQR: encapsulation"))?;
    if derived[..] != *ct1 {
        return Err(bad("libsignal SPQR: the encapsulation state does not give the stored ct1"));
    }
    Ok(m)
}

fn scka(bytes: &[u8]) -> Result<Scka, SpqrError> {
    let f = fields(bytes, "libsignal SPQR: V1 state")?;
    let tags: Vec<u64> = (1..=11).filter(|t| f.has(*t)).collect();
    let [tag] = tags[..] else { return Err(bad("libsignal SPQR: not exactly one V1 state")) };
    let state = fields(f.bytes(tag, "state").or_bad("libsignal SPQR: V1 state")?, "libsignal SPQR: V1 state")?;
    let uc = fields(state.bytes(1, "uc").or_bad("libsignal SPQR: state")?, "libsignal SPQR: state")?;
    let epoch = uc.u64(1, "epoch").or_bad("libsignal SPQR: epoch")?;
    if epoch == 0 {
        return Err(bad("libsignal SPQR: epoch 0"));
    }
    let auth = fields(uc.bytes(2, "auth").or_bad("libsignal SPQR: authenticator")?, "libsignal SPQR: authenticator")?;
    let auth = Authenticator::from_keys(
        secret32(
            auth.bytes(1, "root_key").or_bad("libsignal SPQR: authenticator")?,
            "libsignal SPQR: authenticator root key",
        )?,
        secret32(
            auth.bytes(2, "mac_key").or_bad("libsignal SPQR: authenticator")?,
            "libsignal SPQR: authenticator MAC key",
        )?,
    );
    let ub = |n: u64| uc.bytes(n, "state field").or_bad("libsignal SPQR: state field");
    let sb = |n: u64| state.bytes(n, "state field").or_bad("libsignal SPQR: state field");
    let ek_encoder = |dk: &MlKem768DecapsulationKey, enc: &[u8]| -> Result<Encoder, SpqrError> {
        let e = encoder(enc, MLKEM768_EK_VECTOR_LEN)?;
        if e.payload() != dk.ek_vector() {
            return Err(bad("libsignal SPQR: the ek encoder does not send the key's ek vector"));
        }
        Ok(e)
    };
    let phase = match tag {
        1 => Phase::KeysUnsampled,
        2 => {
            // uc = HeaderSent { 3 ek, 4 dk }
            let dk = dk(ub(4)?)?;
            let hdr_enc = encoder(sb(2)?, HEADER_MSG_LEN)?;
            let (hdr, mac) = hdr_enc.payload().split_at(MLKEM768_HEADER_LEN);
            let key_hdr = dk.header();
            if hdr != key_hdr || ub(3)? != dk.ek_vector() {
                return Err(bad("libsignal SPQR: the header encoder does not send the key's header"));
            }
            // The header's MAC too: the peer would refuse a wrong one only once all three chunks
            // arrived, after this side had spent its epoch on it.
            if !auth.verify_header_mac(epoch, &key_hdr, mac) {
                return Err(bad("libsignal SPQR: the header encoder's MAC is not this epoch's"));
            }
            Phase::KeysSampled { dk, hdr_enc }
        }
        3 => {
            // uc = EkSent { 3 dk }
            let dk = dk(ub(3)?)?;
            let ek_enc = ek_encoder(&dk, sb(2)?)?;
            Phase::HeaderSent { dk, ek_enc, ct1_dec: decoder(sb(3)?, MLKEM768_CT1_LEN)? }
        }
        4 => {
            // uc = EkSentCt1Received { 3 dk, 4 ct1 }
            let dk = dk(ub(3)?)?;
            let ct1 = Box::new(array::<MLKEM768_CT1_LEN>(ub(4)?, "libsignal SPQR: ct1")?);
            let ek_enc = ek_encoder(&dk, sb(2)?)?;
            Phase::Ct1Received { dk, ct1, ek_enc }
        }
        5 => Phase::EkSentCt1Received {
            dk: dk(ub(3)?)?,
            ct1: Box::new(array::<MLKEM768_CT1_LEN>(ub(4)?, "libsignal SPQR: ct1")?),
            ct2_dec: decoder(sb(3)?, CT2_MSG_LEN)?,
        },
        6 => Phase::NoHeaderReceived { hdr_dec: decoder(sb(2)?, HEADER_MSG_LEN)? },
        7 => Phase::HeaderReceived {
            hdr: array(ub(3)?, "libsignal SPQR: header")?,
            ek_dec: decoder(sb(2)?, MLKEM768_EK_VECTOR_LEN)?,
        },
        8 | 10 => {
            // uc = Ct1Sent { 3 hdr, 4 es, 5 ct1 }
            let hdr: [u8; MLKEM768_HEADER_LEN] = array(ub(3)?, "libsignal SPQR: header")?;
            let ct1 = ub(5)?;
            let m = randomness(&hdr, ub(4)?, ct1)?;
            if tag == 8 {
                let ct1_enc = encoder(sb(2)?, MLKEM768_CT1_LEN)?;
                if ct1_enc.payload() != ct1 {
                    return Err(bad("libsignal SPQR: the ct1 encoder does not send the stored ct1"));
                }
                Phase::Ct1Sampled { hdr, m, ct1_enc, ek_dec: decoder(sb(3)?, MLKEM768_EK_VECTOR_LEN)? }
            } else {
                Phase::Ct1Acknowledged { hdr, m, ek_dec: decoder(sb(2)?, MLKEM768_EK_VECTOR_LEN)? }
            }
        }
        9 => {
            return Err(bad(
                "libsignal SPQR state EkReceivedCt1Sampled stores no header (rho), without which the encapsulation \
                 state can be neither rebuilt nor checked; import the record once the peer has acknowledged ct1",
            ));
        }
        11 => Phase::Ct2Sampled { ct2_enc: encoder(sb(2)?, CT2_MSG_LEN)? },
        _ => return Err(bad("libsignal SPQR: unknown V1 state")),
    };
    Ok(Scka { epoch, auth, phase })
}

fn sub_chain(bytes: &[u8], params: &ChainParams) -> Result<SubChain, SpqrError> {
    let f = fields(bytes, "libsignal SPQR: chain direction")?;
    let ctr = f.u32(1, "ctr").or_bad("libsignal SPQR: chain counter")?;
    let next = match f.bytes(2, "next").or_bad("libsignal SPQR: chain key")? {
        [] => None,
        k => Some(secret32(k, "libsignal SPQR: chain key")?),
    };
    let prev = f.bytes(3, "prev").or_bad("libsignal SPQR: skipped keys")?;
    if prev.len() % 36 != 0 || prev.len() / 36 > params.max_ooo_keys as usize * 11 / 10 + 1 {
        return Err(bad("libsignal SPQR: skipped keys"));
    }
    let mut history = KeyHistory::default();
    for e in prev.chunks_exact(36) {
        let index = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
        let key: [u8; 32] = array(&e[4..], "libsignal SPQR: skipped key")?;
        let key = zeroize::Zeroizing::new(key);
        history.push(index, &key);
    }
    Ok(SubChain { ctr, next, history })
}

fn chain(bytes: &[u8]) -> Result<Chain, SpqrError> {
    let f = fields(bytes, "libsignal SPQR: chain")?;
    let dir = direction(f.u32(1, "direction").or_bad("libsignal SPQR: chain direction")?)?;
    let params = params(f.bytes(6, "params").or_bad("libsignal SPQR: chain params")?)?;
    let links = f.repeated(3, "links").or_bad("libsignal SPQR: chain links")?;
    if links.is_empty() || links.len() > MAX_LINKS {
        return Err(bad("libsignal SPQR: chain link count"));
    }
    let mut out = VecDeque::with_capacity(links.len());
    for l in links {
        let lf = fields(l, "libsignal SPQR: chain link")?;
        out.push_back(Link {
            send: sub_chain(lf.bytes(1, "send").or_bad("libsignal SPQR: chain link")?, &params)?,
            recv: sub_chain(lf.bytes(2, "recv").or_bad("libsignal SPQR: chain link")?, &params)?,
        });
    }
    Ok(Chain {
        dir,
        current_epoch: f.u64(2, "current_epoch").or_bad("libsignal SPQR: chain epoch")?,
        send_epoch: f.u64(5, "send_epoch").or_bad("libsignal SPQR: chain epoch")?,
        links: out,
        next_root: secret32(
            f.bytes(4, "next_root").or_bad("libsignal SPQR: chain root")?,
            "libsignal SPQR: chain root",
        )?,
        params,
    })
}

impl SpqrState {
    /// The state of a libsignal session (`SessionStructure` field 15, as libsignal 0.90 …
    /// 0.103 store it; empty for a session without SPQR). The result is checked as
    /// [`SpqrState::from_bytes`] checks caudata's own form.
    ///
    /// # Errors
    /// [`SpqrError::InvalidState`] naming the problem, including the one libsignal state that
    /// cannot be carried over (`EkReceivedCt1Sampled`, see SPEC.md §6).
    pub fn from_libsignal(bytes: &[u8]) -> Result<Self, SpqrError> {
        if bytes.is_empty() {
            return Ok(Self::disabled());
        }
        let f = fields(bytes, "libsignal SPQR: state")?;
        let negotiation = match f.opt_bytes(1, "version_negotiation").or_bad("libsignal SPQR: negotiation")? {
            None => None,
            Some(b) => {
                let n = fields(b, "libsignal SPQR: negotiation")?;
                Some(Negotiation {
                    auth_key: secret32(
                        n.bytes(1, "auth_key").or_bad("libsignal SPQR: auth key")?,
                        "libsignal SPQR: auth key",
                    )?,
                    direction: direction(n.u32(2, "direction").or_bad("libsignal SPQR: direction")?)?,
                    min_version: match n.u32(3, "min_version").or_bad("libsignal SPQR: min version")? {
                        0 => SpqrVersion::V0,
                        1 => SpqrVersion::V1,
                        _ => return Err(bad("libsignal SPQR: unknown minimum version")),
                    },
                    params: params(n.bytes(4, "chain_params").or_bad("libsignal SPQR: chain params")?)?,
                })
            }
        };
        let chain = f.opt_bytes(2, "chain").or_bad("libsignal SPQR: chain")?.map(chain).transpose()?;
        let scka = f.opt_bytes(3, "v1").or_bad("libsignal SPQR: V1 state")?.map(scka).transpose()?;
        let state = Self { scka, chain, negotiation };
        // caudata's own checks (epochs, link counts, key histories, decoders …).
        Self::from_bytes(&state.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interolm::spqr::VersionStatus;
    use crate::wire::codec::{put_bytes_field, put_varint_field};

    fn message(fields: &[(u8, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, b) in fields {
            put_bytes_field(&mut out, *n, b);
        }
        out
    }

    /// `EkReceivedCt1Sampled` (V1 state 9) is refused by name, whatever it holds: its
    /// `Ct1SentEkReceived` has `es`, `ek` and `ct1` but no header, so `rho` is missing (SPEC.md
    /// §6). The same message as `Ct1Sampled` (state 8) gets past the state tag and fails on the
    /// contents instead, so the refusal is the tag's.
    #[test]
    fn ek_received_ct1_sampled_is_refused_with_the_reason() {
        let auth = message(&[(1, &[1; 32]), (2, &[2; 32])]);
        let mut uc = Vec::new();
        put_varint_field(&mut uc, 1, 3);
        put_bytes_field(&mut uc, 2, &auth);
        put_bytes_field(&mut uc, 3, &[0; 2080]); // es
        put_bytes_field(&mut uc, 4, &[0; MLKEM768_EK_VECTOR_LEN]); // ek
        put_bytes_field(&mut uc, 5, &[0; MLKEM768_CT1_LEN]); // ct1
        let state = message(&[(1, &uc), (2, &[])]);
        let record = |tag: u8| message(&[(3, &message(&[(tag, &state)]))]);
        match SpqrState::from_libsignal(&record(9)) {
            Err(SpqrError::InvalidState(why)) => {
                assert!(why.contains("EkReceivedCt1Sampled") && why.contains("rho"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        match SpqrState::from_libsignal(&record(8)) {
            Err(SpqrError::InvalidState(why)) => assert!(!why.contains("EkReceivedCt1Sampled"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    /// A libsignal `PolyDecoder` of a `len`-byte payload holding `chunks`, as 16 point lists
    /// (list `p`: `BE16(index) ‖ BE16(value p)` per chunk), with the given `polys` and
    /// `is_complete` fields.
    fn libsignal_decoder(len: usize, chunks: &[Chunk], polys: u64, complete: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, (16 * (len / CHUNK_LEN)) as u64);
        put_varint_field(&mut out, 2, polys);
        for p in 0..16 {
            let list: Vec<u8> = chunks
                .iter()
                .flat_map(|c| [c.index.to_be_bytes(), [c.data[2 * p], c.data[2 * p + 1]]])
                .flatten()
                .collect();
            if !chunks.is_empty() {
                put_bytes_field(&mut out, 3, &list);
            }
        }
        put_varint_field(&mut out, 4, complete);
        out
    }

    #[test]
    fn decoders_are_read_point_by_point_and_inconsistent_ones_refused() {
        let len = 4 * CHUNK_LEN;
        let payload: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
        let encoder = Encoder::new(&payload).unwrap();
        let held = [1, 0x0105, 0x0203].map(|i| encoder.chunk_at(i));
        let read = |bytes: &[u8]| decoder(bytes, len);
        let d = read(&libsignal_decoder(len, &held, 16, 0)).unwrap();
        assert_eq!((d.payload_len(), d.chunks()), (len, &held[..]));
        let mut full = d.clone();
        full.add_chunk(&encoder.chunk_at(3));
        assert_eq!(full.decode().unwrap(), payload);
        assert_eq!(read(&libsignal_decoder(len, &[], 16, 0)).unwrap(), Decoder::new(len).unwrap());
        let refused = |bytes: &[u8]| assert!(matches!(read(bytes), Err(SpqrError::InvalidState(_))), "{bytes:?}");
        // another payload size, another number of polynomials, a complete decoder
        refused(&libsignal_decoder(len + CHUNK_LEN, &held, 16, 0));
        assert!(decoder(&libsignal_decoder(len + CHUNK_LEN, &held, 16, 0), len + CHUNK_LEN).is_ok());
        refused(&libsignal_decoder(len, &held, 15, 0));
        refused(&libsignal_decoder(len, &held, 16, 1));
        refused(&libsignal_decoder(len, &[], 16, 1));
        // chunks out of order, repeated, or as many as needed
        refused(&libsignal_decoder(len, &[held[1], held[0]], 16, 0));
        refused(&libsignal_decoder(len, &[held[0], held[0]], 16, 0));
        refused(&libsignal_decoder(len, &[held[0], held[1], held[2], encoder.chunk_at(0x0300)], 16, 0));
        // point lists: 15 of them, a length not a multiple of 4, lengths that differ, or an x
        // that is not the same in every list
        let good = libsignal_decoder(len, &held, 16, 0);
        let f = Fields::read(&good).unwrap();
        let lists = f.repeated(3, "pts").unwrap();
        let with_lists = |lists: &[Vec<u8>]| {
            let mut out = libsignal_decoder(len, &[], 16, 0);
            lists.iter().for_each(|l| put_bytes_field(&mut out, 3, l));
            out
        };
        let lists: Vec<Vec<u8>> = lists.iter().map(|l| l.to_vec()).collect();
        assert_eq!(read(&with_lists(&lists)).unwrap(), d);
        refused(&with_lists(&lists[..15]));
        refused(&with_lists(&lists.iter().map(|l| l[..10].to_vec()).collect::<Vec<_>>()));
        let mut longer = lists.clone();
        longer[9].extend_from_slice(&[0, 9, 1, 2]);
        refused(&with_lists(&longer));
        for (at, byte) in [(0, 4), (5, 8), (9, 9)] {
            let mut other_x = lists.clone();
            other_x[at][byte] ^= 1;
            refused(&with_lists(&other_x));
        }
    }

    /// Every SPQR state (`SessionStructure` field 15) in the libsignal 0.90.0 PQXDH vectors
    /// imports, both parties after every step: negotiating (minimum V0) until the first
    /// message arrives, then settled on V1; a negotiating state with minimum V1 keeps it, an
    /// unknown minimum is refused.
    #[test]
    fn libsignal_0_90_0_states_import_with_their_negotiation() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../../test-vectors/interolm/pqxdh_v4_libsignal-0.90.0.json"))
                .unwrap();
        let (mut negotiating, mut settled) = (0, 0);
        for step in v["steps"].as_array().unwrap() {
            for party in ["alice", "bob"] {
                let Some(hex_state) = step[party]["decoded"]["pq_ratchet_state"].as_str() else { continue };
                let bytes = hex::decode(hex_state).unwrap();
                let state = SpqrState::from_libsignal(&bytes).unwrap();
                let f = Fields::read(&bytes).unwrap();
                assert_eq!(state.summary().version, SpqrVersion::V1);
                let Some(negotiation) = f.opt_bytes(1, "negotiation").unwrap() else {
                    assert_eq!(state.version_status(), VersionStatus::Complete(SpqrVersion::V1));
                    settled += 1;
                    continue;
                };
                negotiating += 1;
                assert_eq!(
                    state.version_status(),
                    VersionStatus::Negotiating { version: SpqrVersion::V1, min_version: SpqrVersion::V0 }
                );
                // the same state with field 3 (min_version) of the negotiation set
                let with_min = |m: u64| {
                    let mut n = negotiation.to_vec();
                    put_varint_field(&mut n, 3, m);
                    let mut out = message(&[(1, &n)]);
                    for field in [2, 3] {
                        if let Some(b) = f.opt_bytes(field, "state").unwrap() {
                            put_bytes_field(&mut out, field as u8, b);
                        }
                    }
                    SpqrState::from_libsignal(&out)
                };
                assert_eq!(
                    with_min(1).unwrap().version_status(),
                    VersionStatus::Negotiating { version: SpqrVersion::V1, min_version: SpqrVersion::V1 }
                );
                assert_eq!(with_min(0).unwrap().version_status(), state.version_status());
                assert!(matches!(with_min(2), Err(SpqrError::InvalidState(_))));
            }
        }
        assert_eq!((negotiating, settled), (6, 14));
    }

    /// A libsignal `PolyEncoder` at index `idx`: 16 lists of points (field 2) or of polynomial
    /// coefficients (field 3, lowest degree first), as given.
    fn libsignal_encoder(idx: u64, pts: &[Vec<u8>], polys: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint_field(&mut out, 1, idx);
        pts.iter().for_each(|l| put_bytes_field(&mut out, 2, l));
        polys.iter().for_each(|l| put_bytes_field(&mut out, 3, l));
        out
    }

    #[test]
    fn encoders_are_rebuilt_from_points_or_polynomials_and_malformed_ones_refused() {
        let (n, len) = (3, 3 * CHUNK_LEN);
        let payload: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(91) ^ 0x5a).collect();
        let value = |x: usize, p: usize| [payload[CHUNK_LEN * x + 2 * p], payload[CHUNK_LEN * x + 2 * p + 1]];
        let pts: Vec<Vec<u8>> = (0..16).map(|p| (0..n).flat_map(|x| value(x, p)).collect()).collect();
        let e = encoder(&libsignal_encoder(70_000, &pts, &[]), len).unwrap();
        assert_eq!((e.payload(), e.next_index()), (&payload[..], 70_000));
        let refused = |bytes: &[u8]| assert!(matches!(encoder(bytes, len), Err(SpqrError::InvalidState(_))));
        refused(&libsignal_encoder(0, &pts[..15], &[]));
        refused(&libsignal_encoder(0, &[], &[]));
        for wrong in [2 * n - 2, 2 * n + 2] {
            let mut other = pts.clone();
            other[7].resize(wrong, 0);
            refused(&libsignal_encoder(0, &other, &[]));
        }
        // polynomial p of degree < n, evaluated at x = 0 … n−1 (here by powers of x, not by
        // Horner's rule as the reader does)
        let eval = |coefficients: &[u8], x: u16| {
            let (mut y, mut power) = (0u16, 1u16);
            for c in coefficients.chunks_exact(2) {
                y ^= gf16::mul(u16::from_be_bytes([c[0], c[1]]), power);
                power = gf16::mul(power, x);
            }
            y
        };
        let polys: Vec<Vec<u8>> = (0..16u8)
            .map(|p| (0..2 * (p as usize % n + 1)).map(|i| p.wrapping_mul(29) ^ (i as u8).wrapping_mul(113)).collect())
            .collect();
        let e = encoder(&libsignal_encoder(5, &[], &polys), len).unwrap();
        for (p, coefficients) in polys.iter().enumerate() {
            for x in 0..n {
                let y = eval(coefficients, x as u16).to_be_bytes();
                assert_eq!(e.payload()[CHUNK_LEN * x + 2 * p..CHUNK_LEN * x + 2 * p + 2], y, "p {p} x {x}");
            }
        }
        assert!(polys.iter().any(|c| c.len() == 2 * n), "a polynomial of the highest degree");
        refused(&libsignal_encoder(0, &pts, &polys));
        refused(&libsignal_encoder(0, &[], &polys[..15]));
        for wrong in [0, 1, 2 * n + 2] {
            let mut other = polys.clone();
            other[3].resize(wrong, 1);
            refused(&libsignal_encoder(0, &[], &other));
        }
    }

    #[test]
    fn sub_chains_keep_at_most_the_trim_size_of_whole_skipped_keys() {
        let params = ChainParams { max_jump: 100, max_ooo_keys: 20 }; // trim size 23
        let sub = |next: &[u8], keys: u32, extra: usize| {
            let mut prev: Vec<u8> =
                (0..keys).flat_map(|i| [&(i * 3).to_be_bytes()[..], &[i as u8; 32]].concat()).collect();
            prev.resize(prev.len() + extra, 0);
            sub_chain(&message(&[(2, next), (3, &prev)]).iter().copied().chain([8, 50]).collect::<Vec<_>>(), &params)
        };
        let s = sub(&[7; 32], 23, 0).unwrap();
        assert_eq!((s.ctr, s.next.as_ref().map(|k| *k.expose())), (50, Some([7; 32])));
        let entries: Vec<(u32, Vec<u8>)> = s.history.entries().map(|(i, k)| (i, k.to_vec())).collect();
        assert_eq!(entries, (0..23u32).map(|i| (i * 3, vec![i as u8; 32])).collect::<Vec<_>>());
        assert!(sub(&[], 0, 0).unwrap().next.is_none());
        for (keys, extra) in [(24, 0), (22, 1), (22, 35), (0, 35)] {
            assert!(matches!(sub(&[7; 32], keys, extra), Err(SpqrError::InvalidState("libsignal SPQR: skipped keys"))));
        }
    }

    #[test]
    fn chain_params_default_only_when_absent_and_stay_in_range() {
        let p = |fields: &[(u8, u64)]| {
            let mut out = Vec::new();
            fields.iter().for_each(|(n, v)| put_varint_field(&mut out, *n, *v));
            params(&out)
        };
        let d = ChainParams::default();
        assert_eq!(p(&[]).unwrap(), d);
        assert_eq!(p(&[(1, 7), (2, 9)]).unwrap(), ChainParams { max_jump: 7, max_ooo_keys: 9 });
        assert_eq!(p(&[(2, 9)]).unwrap(), ChainParams { max_jump: d.max_jump, max_ooo_keys: 9 });
        assert_eq!(p(&[(1, 7)]).unwrap(), ChainParams { max_jump: 7, max_ooo_keys: d.max_ooo_keys });
        assert!(matches!(p(&[(2, 50_001)]), Err(SpqrError::InvalidState(_))));
    }

    /// `m` is the last 32 bytes of libcrux's encapsulation state, accepted only if it gives
    /// the stored ct1 for the header.
    #[test]
    fn the_encapsulation_randomness_must_give_the_stored_ct1() {
        let dk = MlKem768DecapsulationKey::generate(&mut crate::primitives::OsRandom);
        let hdr = dk.header();
        let m = [7u8; 32];
        let (ct1, _) = mlkem768_encapsulate1(&hdr, &SecretBytes::from_slice(&m).unwrap()).unwrap();
        let es = [&[1u8; 100][..], &m].concat();
        assert_eq!(*randomness(&hdr, &es, &ct1[..]).unwrap().expose(), m);
        assert_eq!(*randomness(&hdr, &m, &ct1[..]).unwrap().expose(), m);
        assert!(randomness(&hdr, &m[1..], &ct1[..]).is_err());
        let mut other = ct1.to_vec();
        other[5] ^= 1;
        assert!(randomness(&hdr, &es, &other).is_err());
        let mut es_other = es.clone();
        es_other[110] ^= 1;
        assert!(randomness(&hdr, &es_other, &ct1[..]).is_err());
    }

    /// Numbered fields of one message, in order: `(field number, bytes)`.
    type NumberedFields = Vec<(u8, Vec<u8>)>;
    /// Alters a Braid state's `uc` and state fields (its tag first) before they are written.
    type Tweak<'a> = dyn Fn(u8, &mut [(u8, Vec<u8>)], &mut [(u8, Vec<u8>)]) + 'a;

    /// The state in the libsignal layout this module reads (SPEC.md §6): the inverse of
    /// `from_libsignal`, written here only to test it (caudata exports no libsignal state).
    /// `tweak` may alter the Braid state's `uc` and state fields (by number) before they are
    /// written.
    fn to_libsignal(state: &SpqrState, tweak: &Tweak<'_>) -> Vec<u8> {
        let encoder = |e: &Encoder| {
            let n = e.payload().len() / CHUNK_LEN;
            let mut out = Vec::new();
            put_varint_field(&mut out, 1, u64::from(e.next_index()));
            for p in 0..16 {
                let values: Vec<u8> = (0..n)
                    .flat_map(|x| [e.payload()[CHUNK_LEN * x + 2 * p], e.payload()[CHUNK_LEN * x + 2 * p + 1]])
                    .collect();
                put_bytes_field(&mut out, 2, &values);
            }
            out
        };
        let decoder = |d: &Decoder| libsignal_decoder(d.payload_len(), d.chunks(), 16, 0);
        let params = |p: &ChainParams| {
            let mut out = Vec::new();
            put_varint_field(&mut out, 1, u64::from(p.max_jump));
            put_varint_field(&mut out, 2, u64::from(p.max_ooo_keys));
            out
        };
        let mut out = Vec::new();
        if let Some(n) = &state.negotiation {
            let mut b = Vec::new();
            put_bytes_field(&mut b, 1, n.auth_key.expose());
            put_varint_field(&mut b, 2, n.direction as u64);
            put_varint_field(&mut b, 3, if n.min_version == SpqrVersion::V1 { 1 } else { 0 });
            put_bytes_field(&mut b, 4, &params(&n.params));
            put_bytes_field(&mut out, 1, &b);
        }
        if let Some(c) = &state.chain {
            let mut b = Vec::new();
            put_varint_field(&mut b, 1, c.dir as u64);
            put_varint_field(&mut b, 2, c.current_epoch);
            for link in &c.links {
                let mut l = Vec::new();
                for (field, half) in [(1, &link.send), (2, &link.recv)] {
                    let mut h = Vec::new();
                    put_varint_field(&mut h, 1, u64::from(half.ctr));
                    put_bytes_field(&mut h, 2, half.next.as_ref().map_or(&[][..], |k| &k.expose()[..]));
                    let prev: Vec<u8> =
                        half.history.entries().flat_map(|(i, k)| [&i.to_be_bytes()[..], k].concat()).collect();
                    put_bytes_field(&mut h, 3, &prev);
                    put_bytes_field(&mut l, field, &h);
                }
                put_bytes_field(&mut b, 3, &l);
            }
            put_bytes_field(&mut b, 4, c.next_root.expose());
            put_varint_field(&mut b, 5, c.send_epoch);
            put_bytes_field(&mut b, 6, &params(&c.params));
            put_bytes_field(&mut out, 2, &b);
        }
        if let Some(s) = &state.scka {
            let mut uc = Vec::new();
            put_varint_field(&mut uc, 1, s.epoch);
            put_bytes_field(&mut uc, 2, &message(&[(1, s.auth.root_key()), (2, s.auth.mac_key())]));
            let es = |m: &SecretBytes<32>| [&[0x55; 64][..], m.expose()].concat();
            let ct1 = |hdr: &[u8; MLKEM768_HEADER_LEN], m: &SecretBytes<32>| mlkem768_encapsulate1(hdr, m).unwrap().0;
            let (tag, mut uc_fields, mut state_fields): (u8, NumberedFields, NumberedFields) = match &s.phase {
                Phase::KeysUnsampled => (1, vec![], vec![]),
                Phase::KeysSampled { dk, hdr_enc } => {
                    (2, vec![(3, dk.ek_vector().to_vec()), (4, dk.as_bytes().to_vec())], vec![(2, encoder(hdr_enc))])
                }
                Phase::HeaderSent { dk, ek_enc, ct1_dec } => {
                    (3, vec![(3, dk.as_bytes().to_vec())], vec![(2, encoder(ek_enc)), (3, decoder(ct1_dec))])
                }
                Phase::Ct1Received { dk, ct1, ek_enc } => {
                    (4, vec![(3, dk.as_bytes().to_vec()), (4, ct1.to_vec())], vec![(2, encoder(ek_enc))])
                }
                Phase::EkSentCt1Received { dk, ct1, ct2_dec } => {
                    (5, vec![(3, dk.as_bytes().to_vec()), (4, ct1.to_vec())], vec![(3, decoder(ct2_dec))])
                }
                Phase::NoHeaderReceived { hdr_dec } => (6, vec![], vec![(2, decoder(hdr_dec))]),
                Phase::HeaderReceived { hdr, ek_dec } => (7, vec![(3, hdr.to_vec())], vec![(2, decoder(ek_dec))]),
                Phase::Ct1Sampled { hdr, m, ct1_enc, ek_dec } => (
                    8,
                    vec![(3, hdr.to_vec()), (4, es(m)), (5, ct1(hdr, m).to_vec())],
                    vec![(2, encoder(ct1_enc)), (3, decoder(ek_dec))],
                ),
                Phase::EkReceivedCt1Sampled { .. } => (9, vec![], vec![]),
                Phase::Ct1Acknowledged { hdr, m, ek_dec } => {
                    (10, vec![(3, hdr.to_vec()), (4, es(m)), (5, ct1(hdr, m).to_vec())], vec![(2, decoder(ek_dec))])
                }
                Phase::Ct2Sampled { ct2_enc } => (11, vec![], vec![(2, encoder(ct2_enc))]),
            };
            tweak(tag, &mut uc_fields, &mut state_fields);
            uc_fields.iter().for_each(|(f, b)| put_bytes_field(&mut uc, *f, b));
            let mut st = Vec::new();
            put_bytes_field(&mut st, 1, &uc);
            state_fields.iter().for_each(|(f, b)| put_bytes_field(&mut st, *f, b));
            put_bytes_field(&mut out, 3, &message(&[(tag, &st)]));
        }
        out
    }

    /// Every Braid state of a lossy, reordered two-party run (both sides, after every step)
    /// reads back from the libsignal layout as the same state; the checks that tie a state's
    /// parts together refuse each altered copy.
    #[test]
    fn every_braid_state_imports_from_the_libsignal_layout() {
        let (mut a, mut b) = (SpqrState::new_initiator(&[3; 32]), SpqrState::new_responder(&[3; 32]));
        let mut rng = crate::primitives::OsRandom;
        let (mut seen, mut refusals) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
        let mut header_mac_refused = false;
        let mut in_flight: Vec<(bool, Vec<u8>)> = Vec::new();
        for i in 0..250u32 {
            let a_sends = i % 7 < 4;
            let sent = if a_sends { a.send(&mut rng) } else { b.send(&mut rng) }.unwrap();
            in_flight.push((a_sends, sent.message().to_vec()));
            // deliver all but the newest two, in reverse order, dropping every fifth
            while in_flight.len() > 2 {
                let (to_b, m) = in_flight.remove(in_flight.len() - 3);
                if i % 5 == 0 {
                    continue;
                }
                let to = if to_b { &mut b } else { &mut a };
                if let Ok(r) = to.recv(&m) {
                    r.commit(to);
                }
            }
            for st in [&a, &b] {
                let summary = st.summary();
                if summary.state == Some("EkReceivedCt1Sampled") {
                    continue;
                }
                let back = SpqrState::from_libsignal(&to_libsignal(st, &|_, _, _| {})).unwrap();
                assert_eq!(*back.to_bytes(), *st.to_bytes(), "{summary:?}");
                if !seen.insert(summary.state.unwrap()) {
                    continue; // the alterations below once per state name
                }
                // each part that must agree with another, altered: the ek and the header
                // encoder with the key (2), the ek encoder with the key (3, 4), the ct1
                // encoder with the stored ct1 and the randomness with it (8, 10)
                let flip_last = |fields: &mut [(u8, Vec<u8>)], n: u8| {
                    fields.iter_mut().filter(|(f, _)| *f == n).for_each(|(_, b)| *b.last_mut().unwrap() ^= 1)
                };
                let tweaks: [&Tweak<'_>; 2] = [
                    &|tag, uc, _| {
                        if tag == 2 {
                            flip_last(uc, 3)
                        }
                    },
                    &|tag, uc, _| {
                        if [8, 10].contains(&tag) {
                            flip_last(uc, 4)
                        }
                    },
                ];
                for (i, tweak) in tweaks.iter().enumerate() {
                    let altered = to_libsignal(st, tweak);
                    if altered != to_libsignal(st, &|_, _, _| {}) {
                        assert!(SpqrState::from_libsignal(&altered).is_err(), "tweak {i}: {summary:?}");
                        refusals.insert((i, summary.state.unwrap()));
                    }
                }
                // an encoder sending other bytes than its key's header or ek vector, or than ct1
                let mut other = (*st).clone();
                let flipped = |e: &mut Encoder| {
                    let mut payload = e.payload().to_vec();
                    payload[0] ^= 1;
                    *e = Encoder::resume(&payload, e.next_index()).unwrap();
                };
                match &mut other.scka.as_mut().unwrap().phase {
                    Phase::KeysSampled { hdr_enc: e, .. }
                    | Phase::HeaderSent { ek_enc: e, .. }
                    | Phase::Ct1Received { ek_enc: e, .. }
                    | Phase::Ct1Sampled { ct1_enc: e, .. } => flipped(e),
                    _ => {}
                }
                let altered = to_libsignal(&other, &|_, _, _| {});
                if altered != to_libsignal(st, &|_, _, _| {}) {
                    assert!(SpqrState::from_libsignal(&altered).is_err(), "other encoder: {summary:?}");
                    refusals.insert((2, summary.state.unwrap()));
                }
                // a header encoder sending the key's header under another MAC
                let mut other_mac = (*st).clone();
                if let Phase::KeysSampled { hdr_enc: e, .. } = &mut other_mac.scka.as_mut().unwrap().phase {
                    let mut payload = e.payload().to_vec();
                    *payload.last_mut().unwrap() ^= 1;
                    *e = Encoder::resume(&payload, e.next_index()).unwrap();
                    let altered = to_libsignal(&other_mac, &|_, _, _| {});
                    assert!(SpqrState::from_libsignal(&altered).is_err(), "header MAC: {summary:?}");
                    header_mac_refused = true;
                }
                let mut epoch_0 = (*st).clone();
                epoch_0.scka.as_mut().unwrap().epoch = 0;
                assert!(SpqrState::from_libsignal(&to_libsignal(&epoch_0, &|_, _, _| {})).is_err());
            }
        }
        assert!(seen.len() >= 10, "{seen:?}");
        assert_eq!(refusals.len(), 7, "{refusals:?}");
        assert!(header_mac_refused);
    }

    /// A chain's link count is checked as it is read (1 to `MAX_LINKS`), before its links are
    /// parsed (caudata's own reader checks it again, from a count byte that `to_bytes` writes
    /// modulo 256).
    #[test]
    fn chains_have_1_to_max_links_links() {
        let with = |k: usize| {
            let mut f: Vec<(u8, &[u8])> = vec![(3, &[][..]); k];
            f.push((4, &[1; 32][..]));
            chain(&message(&f))
        };
        assert_eq!(with(1).unwrap().links.len(), 1);
        assert_eq!(with(MAX_LINKS).unwrap().links.len(), MAX_LINKS);
        for k in [0, MAX_LINKS + 1] {
            assert!(matches!(with(k), Err(SpqrError::InvalidState("libsignal SPQR: chain link count"))), "{k}");
        }
    }
}
