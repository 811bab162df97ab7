//! HKDF-SHA-512 (RFC 5869), for the MSC4108 ECIES channel as vodozemac ships it.
//!
//! HMAC runs on the `hmac` crate with its `zeroize` feature (and `sha2`'s), so every HMAC state
//! wipes itself on drop; the pseudorandom key and each output block live in buffers wiped here.

use hmac::Hmac;
use hmac::digest::{FixedOutput, KeyInit, Output, Update};
use sha2::Sha512;
use zeroize::Zeroize;

type HmacSha512 = Hmac<Sha512>;
const HASH_LEN: usize = 64;

/// An HKDF-SHA-512 pseudorandom key (HKDF-Extract's output), wiped on drop.
pub(crate) struct HkdfSha512 {
    prk: HmacSha512,
}

impl HkdfSha512 {
    /// HKDF-Extract with no salt (HashLen zero bytes).
    pub(crate) fn extract(ikm: &[u8]) -> Self {
        let mut prk = [0u8; HASH_LEN];
        mac_into(&[0u8; HASH_LEN], &[ikm], &mut prk);
        let s = Self { prk: keyed(&prk) };
        prk.zeroize();
        s
    }

    /// HKDF-Expand into `out`. Outputs beyond HKDF's 255 × 64 bytes are not defined: `out` is
    /// zeroed instead (every caller asks for at most 32 bytes).
    pub(crate) fn expand(&self, info: &[&[u8]], out: &mut [u8]) {
        if out.len() > 255 * HASH_LEN {
            out.zeroize();
            return;
        }
        let mut t = [0u8; HASH_LEN];
        for (i, chunk) in out.chunks_mut(HASH_LEN).enumerate() {
            let mut m = self.prk.clone();
            if i > 0 {
                m.update(&t);
            }
            for part in info {
                m.update(part);
            }
            m.update(&[(i + 1) as u8]);
            finish(m, &mut t);
            chunk.copy_from_slice(&t[..chunk.len()]);
        }
        t.zeroize();
    }
}

fn keyed(key: &[u8]) -> HmacSha512 {
    // A genuine invariant: HMAC takes keys of any length (long ones are hashed first).
    #[allow(clippy::expect_used)]
    <HmacSha512 as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length")
}

fn mac_into(key: &[u8], parts: &[&[u8]], out: &mut [u8; HASH_LEN]) {
    let mut m = keyed(key);
    for p in parts {
        m.update(p);
    }
    finish(m, out);
}

fn finish(m: HmacSha512, out: &mut [u8; HASH_LEN]) {
    let mut tag = Output::<HmacSha512>::default();
    m.finalize_into(&mut tag);
    out.copy_from_slice(&tag);
    tag.as_mut_slice().zeroize();
}

impl core::fmt::Debug for HkdfSha512 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HkdfSha512(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_hkdf_crate() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for (ikm_len, info_len, out_len) in [(32, 10, 32), (32, 80, 2), (0, 0, 64), (65, 130, 65), (200, 1, 200)] {
            let (ikm, info) = (&data[..ikm_len], &data[50..50 + info_len]);
            let mut want = vec![0u8; out_len];
            hkdf::Hkdf::<Sha512>::new(None, ikm).expand(info, &mut want).unwrap();
            let mut got = vec![0u8; out_len];
            let (a, b) = info.split_at(info_len / 2);
            HkdfSha512::extract(ikm).expand(&[a, b], &mut got);
            assert_eq!(got, want, "{ikm_len} {info_len} {out_len}");
        }
    }

    #[test]
    fn expand_gives_up_to_255_blocks_and_zeroes_a_longer_output() {
        let (ikm, info) = (b"input key material".as_slice(), b"info".as_slice());
        let mut want = vec![0u8; 255 * HASH_LEN];
        hkdf::Hkdf::<Sha512>::new(None, ikm).expand(info, &mut want).unwrap();
        let mut got = vec![0xaa; 255 * HASH_LEN];
        HkdfSha512::extract(ikm).expand(&[info], &mut got);
        assert_eq!(got, want);
        // one byte more is undefined: zeroed, not a wrapped block counter
        let mut longer = vec![0xaa; 255 * HASH_LEN + 1];
        HkdfSha512::extract(ikm).expand(&[info], &mut longer);
        assert!(longer.iter().all(|&b| b == 0));
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", HkdfSha512::extract(b"k")), "HkdfSha512(..)");
    }
}
