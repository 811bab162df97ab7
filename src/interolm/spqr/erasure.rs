//! SPQR's erasure code: a payload cut into 32-byte chunks with `u16` indices, of which any
//! `n` distinct ones rebuild the payload (`n` = payload length / 32).
//!
//! Byte-for-byte as libsignal (SPQR V1):
//!
//! * The payload `M` (a multiple of 32 bytes) is read as big-endian `u16` values
//!   `m_0 … m_{16n−1}`. Value `m_t` belongs to polynomial `p = t mod 16` at the point
//!   `x = ⌊t/16⌋`, so each of the 16 polynomials holds `n` points.
//! * `f_p` is the polynomial over GF(2^16) of degree `< n` with `f_p(x) = m_{16x+p}` for
//!   `x = 0 … n−1`.
//! * Chunk `k` is `BE16(f_0(k)) ‖ … ‖ BE16(f_15(k))`. The code is systematic: for `k < n` the
//!   chunk is bytes `32k … 32k+31` of `M`; chunks `k ≥ n` are parity.
//! * The decoder keeps a chunk if `k < n` or if it holds fewer than `n` chunks, never two with
//!   the same index (the first copy wins), and rebuilds `M` from the `n` lowest indices it holds.

#![cfg_attr(not(feature = "hazmat"), allow(unreachable_pub, dead_code))]

use super::gf16;
use super::message::Chunk;

/// Bytes of payload in a chunk.
pub const CHUNK_LEN: usize = 32;
/// `u16` values per chunk: one per interleaved polynomial.
const POLYS: usize = CHUNK_LEN / 2;
/// The largest payload accepted, 64 chunks. SPQR V1's largest payload is the 1152-byte ek
/// vector (36 chunks).
pub const MAX_PAYLOAD_LEN: usize = 64 * CHUNK_LEN;

/// A payload length the code cannot take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("erasure-code payloads are 32 to {MAX_PAYLOAD_LEN} bytes in steps of 32, got {0}")]
pub struct PayloadLengthError(pub usize);

fn check_len(len: usize) -> Result<usize, PayloadLengthError> {
    if len == 0 || !len.is_multiple_of(CHUNK_LEN) || len > MAX_PAYLOAD_LEN {
        return Err(PayloadLengthError(len));
    }
    Ok(len / CHUNK_LEN)
}

#[inline]
fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// The Lagrange weights `c_j = Π_{i≠j} (t − x_i) / (x_j − x_i)` that evaluate at `t` the
/// polynomial through the points with abscissas `xs` (distinct, `t` not among them).
fn lagrange_weights(xs: &[u16], t: u16) -> Vec<u16> {
    // Prefix and suffix products of (t − x_i) give every numerator in O(n).
    let n = xs.len();
    let mut prefix = vec![1u16; n + 1];
    for i in 0..n {
        prefix[i + 1] = gf16::mul(prefix[i], t ^ xs[i]);
    }
    let mut weights = vec![0u16; n];
    let mut suffix = 1u16;
    for j in (0..n).rev() {
        let numerator = gf16::mul(prefix[j], suffix);
        suffix = gf16::mul(suffix, t ^ xs[j]);
        let mut denominator = 1u16;
        for (i, &xi) in xs.iter().enumerate() {
            if i != j {
                denominator = gf16::mul(denominator, xs[j] ^ xi);
            }
        }
        weights[j] = gf16::mul(numerator, gf16::inv(denominator));
    }
    weights
}

/// Evaluates the 16 interleaved polynomials, given by their values at `xs` (`rows[j]` holds the
/// 32 bytes at abscissa `xs[j]`), at `t`, into one 32-byte chunk.
fn interpolate_chunk(xs: &[u16], rows: &[&[u8]], t: u16) -> [u8; CHUNK_LEN] {
    let weights = lagrange_weights(xs, t);
    let mut out = [0u8; CHUNK_LEN];
    for p in 0..POLYS {
        let mut acc = 0u16;
        for (w, row) in weights.iter().zip(rows) {
            acc ^= gf16::mul(*w, be16(row, 2 * p));
        }
        out[2 * p..2 * p + 2].copy_from_slice(&acc.to_be_bytes());
    }
    out
}

/// Cuts a payload into chunks `0, 1, 2, …` (systematic first, then parity), one per call.
#[derive(Clone, PartialEq, Eq)]
pub struct Encoder {
    payload: Vec<u8>,
    /// The index of the next chunk. libsignal keeps a `u32` and casts it to `u16`, so after
    /// 65 536 chunks the indices wrap around.
    next: u32,
}

impl Encoder {
    /// An encoder for `payload`, starting at chunk 0.
    ///
    /// # Errors
    /// [`PayloadLengthError`] unless the length is a non-zero multiple of 32, at most
    /// [`MAX_PAYLOAD_LEN`].
    pub fn new(payload: &[u8]) -> Result<Self, PayloadLengthError> {
        Self::resume(payload, 0)
    }

    /// An encoder for a payload whose length is checked at compile time.
    pub(crate) fn from_array<const LEN: usize>(payload: &[u8; LEN]) -> Self {
        const { assert!(LEN > 0 && LEN.is_multiple_of(CHUNK_LEN) && LEN <= MAX_PAYLOAD_LEN) };
        Self { payload: payload.to_vec(), next: 0 }
    }

    /// An encoder for `payload` whose next chunk is `next` (a restored state).
    ///
    /// # Errors
    /// As [`Encoder::new`].
    pub fn resume(payload: &[u8], next: u32) -> Result<Self, PayloadLengthError> {
        check_len(payload.len())?;
        Ok(Self { payload: payload.to_vec(), next })
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The index counter of the next chunk (before the cast to `u16`).
    pub fn next_index(&self) -> u32 {
        self.next
    }

    /// The next chunk; advances the counter.
    pub fn next_chunk(&mut self) -> Chunk {
        let chunk = self.chunk_at(self.next as u16);
        self.next = self.next.wrapping_add(1);
        chunk
    }

    /// Chunk `index`, whatever the counter says.
    pub fn chunk_at(&self, index: u16) -> Chunk {
        let n = self.payload.len() / CHUNK_LEN;
        let k = usize::from(index);
        let mut data = [0u8; CHUNK_LEN];
        if k < n {
            data.copy_from_slice(&self.payload[k * CHUNK_LEN..(k + 1) * CHUNK_LEN]);
        } else {
            let xs: Vec<u16> = (0..n as u16).collect();
            let rows: Vec<&[u8]> = self.payload.chunks_exact(CHUNK_LEN).collect();
            data = interpolate_chunk(&xs, &rows, index);
        }
        Chunk { index, data }
    }
}

impl core::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encoder").field("len", &self.payload.len()).field("next", &self.next).finish()
    }
}

/// Collects chunks of a payload of known length until any `n` distinct ones have arrived.
#[derive(Clone, PartialEq, Eq)]
pub struct Decoder {
    /// Chunks needed (payload length / 32).
    needed: usize,
    /// Chunks kept, sorted by index, no index twice.
    chunks: Vec<Chunk>,
}

impl Decoder {
    /// A decoder for a payload of `len` bytes.
    ///
    /// # Errors
    /// [`PayloadLengthError`] as for [`Encoder::new`].
    pub fn new(len: usize) -> Result<Self, PayloadLengthError> {
        Ok(Self { needed: check_len(len)?, chunks: Vec::new() })
    }

    /// A decoder for a payload length checked at compile time.
    pub(crate) fn fixed<const LEN: usize>() -> Self {
        const { assert!(LEN > 0 && LEN.is_multiple_of(CHUNK_LEN) && LEN <= MAX_PAYLOAD_LEN) };
        Self { needed: LEN / CHUNK_LEN, chunks: Vec::new() }
    }

    /// A decoder restored from the chunks it held: `None` unless they are sorted by strictly
    /// increasing index and fewer than needed (a complete decoder is never stored).
    pub(crate) fn restore(len: usize, chunks: Vec<Chunk>) -> Option<Self> {
        let needed = check_len(len).ok()?;
        let sorted = chunks.windows(2).all(|w| w[0].index < w[1].index);
        (sorted && chunks.len() < needed).then_some(Self { needed, chunks })
    }

    /// The payload length in bytes.
    pub fn payload_len(&self) -> usize {
        self.needed * CHUNK_LEN
    }

    /// The chunks held, sorted by index.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Adds a chunk under libsignal's acceptance rule: kept if its index is below `n` (it can
    /// be used without interpolation) or if fewer than `n` chunks are held; a second chunk with
    /// an index already held is dropped.
    pub fn add_chunk(&mut self, chunk: &Chunk) {
        if usize::from(chunk.index) >= self.needed && self.chunks.len() >= self.needed {
            return;
        }
        if let Err(at) = self.chunks.binary_search_by_key(&chunk.index, |c| c.index) {
            self.chunks.insert(at, *chunk);
        }
    }

    /// Whether enough chunks have arrived.
    pub fn is_complete(&self) -> bool {
        self.chunks.len() >= self.needed
    }

    /// The payload, rebuilt from the `n` lowest chunk indices held; `None` until complete.
    pub fn decode(&self) -> Option<Vec<u8>> {
        if !self.is_complete() {
            return None;
        }
        let used = &self.chunks[..self.needed];
        let xs: Vec<u16> = used.iter().map(|c| c.index).collect();
        let rows: Vec<&[u8]> = used.iter().map(|c| &c.data[..]).collect();
        let mut out = Vec::with_capacity(self.needed * CHUNK_LEN);
        for t in 0..self.needed as u16 {
            match xs.binary_search(&t) {
                Ok(j) => out.extend_from_slice(rows[j]),
                Err(_) => out.extend_from_slice(&interpolate_chunk(&xs, &rows, t)),
            }
        }
        Some(out)
    }
}

impl core::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let indices: Vec<u16> = self.chunks.iter().map(|c| c.index).collect();
        f.debug_struct("Decoder").field("needed", &self.needed).field("held", &indices).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed)).collect()
    }

    #[test]
    fn systematic_then_parity_round_trip() {
        for len in [96, 160, 960, 1152] {
            let m = payload(len, 3);
            let mut enc = Encoder::new(&m).unwrap();
            let n = len / CHUNK_LEN;
            let chunks: Vec<Chunk> = (0..2 * n).map(|_| enc.next_chunk()).collect();
            for (k, c) in chunks.iter().take(n).enumerate() {
                assert_eq!(&c.data[..], &m[k * 32..k * 32 + 32]);
            }
            // Parity only.
            let mut dec = Decoder::new(len).unwrap();
            for c in &chunks[n..] {
                assert_eq!(dec.decode(), None);
                dec.add_chunk(c);
            }
            assert_eq!(dec.decode().unwrap(), m);
            // Mixed, odd ones only then parity.
            let mut dec = Decoder::new(len).unwrap();
            for c in chunks.iter().skip(1).step_by(2) {
                dec.add_chunk(c);
            }
            assert_eq!(dec.decode().unwrap(), m);
        }
    }

    #[test]
    fn acceptance_rule() {
        let m = payload(96, 9);
        let enc = Encoder::new(&m).unwrap();
        let mut dec = Decoder::new(96).unwrap();
        dec.add_chunk(&enc.chunk_at(7));
        dec.add_chunk(&enc.chunk_at(7)); // duplicate index
        dec.add_chunk(&enc.chunk_at(9));
        assert_eq!(dec.chunks().len(), 2);
        let mut bad = enc.chunk_at(9);
        bad.data[0] ^= 1;
        dec.add_chunk(&bad); // first copy wins
        assert_eq!(dec.chunks()[1], enc.chunk_at(9));
        dec.add_chunk(&enc.chunk_at(4));
        assert!(dec.is_complete());
        dec.add_chunk(&enc.chunk_at(5)); // parity beyond n is no longer kept
        assert_eq!(dec.chunks().len(), 3);
        dec.add_chunk(&enc.chunk_at(1)); // a systematic one still is
        assert_eq!(dec.chunks().len(), 4);
        assert_eq!(dec.decode().unwrap(), m);
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(Encoder::new(&[0; 33]), Err(PayloadLengthError(33)));
        assert_eq!(Decoder::new(0), Err(PayloadLengthError(0)));
        assert!(Decoder::new(MAX_PAYLOAD_LEN + 32).is_err());
        let c = Chunk { index: 1, data: [0; 32] };
        assert!(Decoder::restore(96, vec![c, c]).is_none());
        assert!(Decoder::restore(96, vec![c]).is_some());
    }

    #[test]
    fn wraps_after_65536_chunks() {
        let m = payload(96, 1);
        let mut enc = Encoder::resume(&m, u32::from(u16::MAX)).unwrap();
        assert_eq!(enc.next_chunk().index, u16::MAX);
        assert_eq!(enc.next_chunk(), enc.chunk_at(0));
    }

    #[test]
    fn payload_lengths_are_whole_chunks_up_to_the_limit() {
        assert_eq!(check_len(CHUNK_LEN), Ok(1));
        assert_eq!(check_len(3 * CHUNK_LEN), Ok(3));
        assert_eq!(check_len(MAX_PAYLOAD_LEN), Ok(64));
        for bad in [0, 1, CHUNK_LEN - 1, CHUNK_LEN + 1, MAX_PAYLOAD_LEN + CHUNK_LEN, MAX_PAYLOAD_LEN + 1] {
            assert_eq!(check_len(bad), Err(PayloadLengthError(bad)), "{bad}");
        }
    }
}
