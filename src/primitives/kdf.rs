//! HMAC-SHA-256, HKDF-SHA-256 and SHA-256.
//!
//! HMAC is computed here on SHA-256's compression function (`sha2`'s `compress256`: SHA-NI
//! where the CPU has it, else the portable code; both branch-free on the data), on the stack,
//! with no allocation:
//!
//! * an [`HmacKey`] holds the two hash states after the key's inner and outer pad blocks, so
//!   every HMAC under it costs two compressions fewer (a chain key's two HMACs, the Megolm
//!   re-seeding of several parts from one, HKDF's expand blocks under one PRK);
//! * HKDF with the all-zero salt (every Olm, Megolm and Signal message key) starts from the
//!   zero key's states, computed once per process;
//! * nothing else branches on secret data: block counts and padding depend only on lengths.

use std::sync::LazyLock;

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::secret::SecretBytes;

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const IV: [u32; 8] =
    [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19];
const BLOCK: usize = 64;

/// A SHA-256 computation resumed from a state after `done` bytes (always whole blocks).
#[derive(Zeroize, ZeroizeOnDrop)]
struct Stream {
    state: [u32; 8],
    buf: [u8; BLOCK],
    buf_len: usize,
    total: u64,
}

impl Stream {
    fn resume(state: [u32; 8], done: u64) -> Self {
        Self { state, buf: [0; BLOCK], buf_len: 0, total: done }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.buf_len > 0 {
            let take = (BLOCK - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < BLOCK {
                return;
            }
            compress256(&mut self.state, core::slice::from_ref(&self.buf));
            self.buf_len = 0;
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        if !blocks.is_empty() {
            compress256(&mut self.state, blocks);
        }
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    /// Pads (`0x80`, zeros, the bit length) and writes the digest into `out`.
    fn finish_into(&mut self, out: &mut [u8; 32]) {
        let bits = self.total * 8;
        self.buf[self.buf_len] = 0x80;
        self.buf[self.buf_len + 1..].fill(0);
        if self.buf_len + 1 > BLOCK - 8 {
            compress256(&mut self.state, core::slice::from_ref(&self.buf));
            self.buf.fill(0);
        }
        self.buf[BLOCK - 8..].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut self.state, core::slice::from_ref(&self.buf));
        write_digest(&self.state, out);
    }
}

fn write_digest(state: &[u32; 8], out: &mut [u8; 32]) {
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
}

/// An HMAC-SHA-256 key whose inner and outer hash states are computed once, so that every
/// HMAC under it costs two compression functions fewer. Wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            let mut d: [u8; 32] = Sha256::digest(key).into();
            block[..32].copy_from_slice(&d);
            d.zeroize();
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        Self::from_block(&mut block)
    }

    /// From a key of exactly 32 bytes (chain keys, ratchet parts, PRKs).
    fn from_block(block: &mut [u8; BLOCK]) -> Self {
        block.iter_mut().for_each(|b| *b ^= 0x36);
        let mut inner = IV;
        compress256(&mut inner, core::slice::from_ref(block));
        block.iter_mut().for_each(|b| *b ^= 0x36 ^ 0x5c);
        let mut outer = IV;
        compress256(&mut outer, core::slice::from_ref(block));
        block.zeroize();
        Self { inner, outer }
    }

    /// HMAC over the concatenation of `parts`.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> SecretBytes<32> {
        let mut out = SecretBytes::zero();
        self.mac_into(parts, out.expose_mut());
        out
    }

    /// HMAC over the concatenation of `parts`, written into `out` (no allocation).
    pub(crate) fn mac_into(&self, parts: &[&[u8]], out: &mut [u8; 32]) {
        let mut inner = Stream::resume(self.inner, BLOCK as u64);
        for p in parts {
            inner.update(p);
        }
        let mut digest = [0u8; 32];
        inner.finish_into(&mut digest);
        self.outer_into(&mut digest, out);
    }

    /// HMAC of the single byte `byte` (a chain or Megolm ratchet step): one inner and one
    /// outer compression.
    pub(crate) fn mac_byte_into(&self, byte: u8, out: &mut [u8; 32]) {
        let mut block = [0u8; BLOCK];
        block[0] = byte;
        block[1] = 0x80;
        block[BLOCK - 8..].copy_from_slice(&(((BLOCK + 1) * 8) as u64).to_be_bytes());
        let mut state = self.inner;
        compress256(&mut state, core::slice::from_ref(&block));
        let mut digest = [0u8; 32];
        write_digest(&state, &mut digest);
        state.zeroize();
        self.outer_into(&mut digest, out);
    }

    /// The outer hash over the inner digest (which is wiped).
    fn outer_into(&self, digest: &mut [u8; 32], out: &mut [u8; 32]) {
        let mut block = [0u8; BLOCK];
        block[..32].copy_from_slice(digest);
        block[32] = 0x80;
        block[BLOCK - 8..].copy_from_slice(&(((BLOCK + 32) * 8) as u64).to_be_bytes());
        let mut state = self.outer;
        compress256(&mut state, core::slice::from_ref(&block));
        write_digest(&state, out);
        state.zeroize();
        // Only the digest half of the block is secret (the rest is padding and length).
        block[..32].zeroize();
        digest.zeroize();
    }
}

impl core::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

/// The HMAC key of HKDF's default salt (32 zero bytes, the same key as the empty salt). Not a
/// secret.
static ZERO_SALT: LazyLock<HmacKey> = LazyLock::new(|| HmacKey::new(&[]));

/// HKDF-SHA-256 into `out`. `salt` `None` means 32 zero bytes (the same HMAC key as empty).
/// Outputs longer than HKDF's 255 × 32 bytes are not defined: `out` is zeroed (every caller
/// asks for at most 96 bytes).
pub(crate) fn hkdf_sha256(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], out: &mut [u8]) {
    if out.len() > 255 * 32 {
        out.zeroize();
        return;
    }
    let mut prk = [0u8; 32];
    match salt {
        None => ZERO_SALT.mac_into(&[ikm], &mut prk),
        Some(s) => HmacKey::new(s).mac_into(&[ikm], &mut prk),
    }
    let key = HmacKey::new(&prk);
    prk.zeroize();
    let mut t = [0u8; 32];
    let mut prev = 0usize;
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let counter = [(i + 1) as u8];
        let mut next = [0u8; 32];
        key.mac_into(&[&t[..prev], info, &counter], &mut next);
        t = next;
        next.zeroize();
        chunk.copy_from_slice(&t[..chunk.len()]);
        prev = 32;
    }
    t.zeroize();
}

/// SHA-256 of the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};

    use super::*;

    fn reference_hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().into()
    }

    #[test]
    fn hmac_matches_the_hmac_crate_for_every_length_around_the_block_edges() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for key_len in [0, 1, 32, 63, 64, 65, 100] {
            let key = &data[..key_len];
            let k = HmacKey::new(key);
            for msg_len in 0..200 {
                let msg = &data[100..100 + msg_len];
                let want = reference_hmac(key, msg);
                assert_eq!(*k.mac(&[msg]).expose(), want, "key {key_len} msg {msg_len}");
                // split across parts
                let (a, b) = msg.split_at(msg_len / 3);
                assert_eq!(*k.mac(&[a, b, &[]]).expose(), want);
            }
            for byte in [0u8, 1, 2, 3, 0xff] {
                let mut out = [0u8; 32];
                k.mac_byte_into(byte, &mut out);
                assert_eq!(out, reference_hmac(key, &[byte]));
            }
        }
    }

    #[test]
    fn hkdf_matches_the_hkdf_crate() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 13 + 1) as u8).collect();
        for (salt, ikm_len, info_len, out_len) in [
            (None, 32, 8, 80),
            (Some(&data[..32]), 32, 14, 64),
            (None, 96, 8, 64),
            (None, 128, 11, 80),
            (Some(&data[..0]), 5, 0, 1),
        ] {
            let (ikm, info) = (&data[40..40 + ikm_len], &data[10..10 + info_len]);
            let mut want = vec![0u8; out_len];
            hkdf::Hkdf::<Sha256>::new(salt, ikm).expand(info, &mut want).unwrap();
            let mut got = vec![0u8; out_len];
            hkdf_sha256(salt, ikm, info, &mut got);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn hkdf_gives_up_to_255_blocks_and_zeroes_a_longer_output() {
        let (ikm, info) = (b"input key material".as_slice(), b"info".as_slice());
        // the longest output HKDF defines (255 blocks) is computed in full
        let mut want = vec![0u8; 255 * 32];
        hkdf::Hkdf::<Sha256>::new(None, ikm).expand(info, &mut want).unwrap();
        let mut got = vec![0xaa; 255 * 32];
        hkdf_sha256(None, ikm, info, &mut got);
        assert_eq!(got, want);
        // one byte more is undefined: zeroed, not a wrapped block counter
        let mut longer = vec![0xaa; 255 * 32 + 1];
        hkdf_sha256(None, ikm, info, &mut longer);
        assert!(longer.iter().all(|&b| b == 0));
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", HmacKey::new(b"k")), "HmacKey(..)");
    }
}
