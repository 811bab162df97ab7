//! The Megolm ratchet: four 32-byte parts and a 32-bit counter.

use crate::primitives::{HmacKey, SecretBytes};

/// `R0 ‖ R1 ‖ R2 ‖ R3` and the index `i` they correspond to.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct MegolmRatchet {
    pub(crate) parts: SecretBytes<128>,
    pub(crate) index: u32,
}

impl MegolmRatchet {
    pub(crate) fn new(parts: SecretBytes<128>, index: u32) -> Self {
        Self { parts, index }
    }

    /// Wipes the parts and the index in place.
    pub(crate) fn zeroize(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.parts);
        self.index = 0;
    }

    /// `R_to = HMAC(R_from, [to])`.
    fn rehash(&mut self, from: usize, to: usize) {
        let key = self.key(from);
        key.mac_byte_into(to as u8, self.part_mut(to));
    }

    /// The HMAC key `R_j`.
    fn key(&self, j: usize) -> HmacKey {
        HmacKey::new(&self.parts.expose()[j * 32..j * 32 + 32])
    }

    /// `R_j`, to overwrite in place.
    fn part_mut(&mut self, j: usize) -> &mut [u8; 32] {
        let (chunks, _) = self.parts.expose_mut().as_chunks_mut::<32>();
        &mut chunks[j]
    }

    /// Re-seeds `R_3 .. R_j` from `R_j` (last of all `R_j` itself), with one key set-up.
    fn reseed_from(&mut self, j: usize) {
        let key = self.key(j);
        for k in (j..4).rev() {
            key.mac_byte_into(k as u8, self.part_mut(k));
        }
    }

    /// Advances by one (the message index after encrypting).
    pub(crate) fn advance(&mut self) {
        let next = self.index.wrapping_add(1);
        let h = if next & 0x00ff_ffff == 0 {
            0
        } else if next & 0xffff == 0 {
            1
        } else if next & 0xff == 0 {
            2
        } else {
            3
        };
        self.reseed_from(h);
        self.index = next;
    }

    /// Advances to `target` (modulo 2^32, always forwards) in at most 4 × 255 HMACs: each
    /// part `R_j` is rehashed once per step of its byte of the counter, and on its last step
    /// it also re-seeds the parts below it.
    pub(crate) fn advance_to(&mut self, target: u32) {
        for j in 0..4usize {
            let shift = (3 - j) * 8;
            let mask: u32 = if shift == 0 { u32::MAX } else { u32::MAX << shift };
            let mut steps = ((target >> shift).wrapping_sub(self.index >> shift)) & 0xff;
            if steps == 0 {
                // Only R0 can need a full turn: the counter wrapped past 2^32.
                if j == 0 && target < self.index {
                    steps = 0x100;
                } else {
                    continue;
                }
            }
            for _ in 1..steps {
                self.rehash(j, j);
            }
            // The last step re-seeds R3 .. R(j+1) from R_j, then R_j itself.
            self.reseed_from(j);
            self.index = target & mask;
        }
        self.index = target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vec() -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../test-vectors/libolm-upstream.json")).unwrap();
        v["vectors"]["megolm_ratchet"].clone()
    }

    fn initial(index: u32) -> MegolmRatchet {
        let v = vec();
        let r = v["initial_R_ascii"].as_str().unwrap().as_bytes();
        MegolmRatchet::new(SecretBytes::from_slice(r).unwrap(), index)
    }

    fn hexof(r: &MegolmRatchet) -> String {
        hex::encode(r.parts.expose())
    }

    #[test]
    fn libolm_advance_vectors() {
        let v = vec();
        let mut r = initial(0);
        r.advance();
        assert_eq!(hexof(&r), v["after_1"].as_str().unwrap());
        let mut r = initial(0);
        r.advance_to(0x1000000);
        assert_eq!(hexof(&r), v["after_0x1000000"].as_str().unwrap());
        r.advance_to(0x1041506);
        assert_eq!(hexof(&r), v["after_0x1041506"].as_str().unwrap());
        assert_eq!(r.index, 0x1041506);
    }

    #[test]
    fn advance_to_equals_repeated_advance() {
        for target in [1u32, 2, 255, 256, 257, 511, 65535, 65536, 65537, 70000] {
            let mut a = initial(0);
            a.advance_to(target);
            let mut b = initial(0);
            for _ in 0..target {
                b.advance();
            }
            assert_eq!(a, b, "target {target}");
        }
        // and from a non-zero start
        let mut a = initial(300);
        a.advance_to(70_000);
        let mut b = initial(300);
        for _ in 300..70_000 {
            b.advance();
        }
        assert_eq!(a, b);
    }

    #[test]
    fn libolm_wraparound_cases() {
        // init(counter=0xffffffff).advance_to(0x1000000) == init(0).advance_to(0x2000000)
        let mut a = initial(0xffff_ffff);
        a.advance_to(0x100_0000);
        let mut b = initial(0);
        b.advance_to(0x200_0000);
        assert_eq!(a.parts, b.parts);
        // 0xffffffff -> 0 equals one advance()
        let mut a = initial(0xffff_ffff);
        a.advance_to(0);
        let mut b = initial(0xffff_ffff);
        b.advance();
        assert_eq!(a, b);
        // 1 -> 0x80000000 -> 0 equals 1 -> 0
        let mut a = initial(1);
        a.advance_to(0x8000_0000);
        a.advance_to(0);
        let mut b = initial(1);
        b.advance_to(0);
        assert_eq!(a, b);
    }

    /// Advancing to the index the ratchet is at is no step (not a full turn of `R0`, which only
    /// a target below the index means).
    #[test]
    fn advancing_to_the_current_index_changes_nothing() {
        for index in [0, 5, 0x100_0000, 0xffff_ffff] {
            let mut r = initial(index);
            r.advance_to(index);
            assert_eq!(r, initial(index), "{index:#x}");
        }
    }
}
