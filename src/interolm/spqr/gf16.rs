//! GF(2^16) modulo `x^16 + x^12 + x^3 + x + 1` (`0x1100B`), the field of SPQR's erasure code.
//!
//! An element is a `u16` whose bit `i` is the coefficient of `x^i`; addition is XOR. Only public
//! data (chunks of public keys and ciphertexts) passes through here, but the arithmetic is
//! branch-free anyway.

/// The reduction polynomial, with its `x^16` term.
const MODULUS: u32 = 0x1_100B;

/// Product in GF(2^16).
#[inline]
pub(crate) fn mul(a: u16, b: u16) -> u16 {
    let a = u32::from(a);
    let b = u32::from(b);
    let mut r = 0u32;
    for i in 0..16 {
        r ^= (a << i) & ((b >> i) & 1).wrapping_neg();
    }
    // The carry-less product has degree at most 30; fold the high terms down.
    for i in (16..31).rev() {
        r ^= (MODULUS << (i - 16)) & ((r >> i) & 1).wrapping_neg();
    }
    r as u16
}

/// Multiplicative inverse, `a^(2^16 − 2)`; the inverse of 0 is given as 0.
pub(crate) fn inv(a: u16) -> u16 {
    // 2^16 − 2 = 0b1111_1111_1111_1110: square-and-multiply from the top bit.
    let mut r = 1u16;
    for bit in (0..16).rev() {
        r = mul(r, r);
        if (0xFFFEu16 >> bit) & 1 == 1 {
            r = mul(r, a);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_laws() {
        assert_eq!(mul(1, 0xBEEF), 0xBEEF);
        assert_eq!(mul(0, 0xBEEF), 0);
        // x · x^15 = x^16 = x^12 + x^3 + x + 1
        assert_eq!(mul(2, 0x8000), 0x100B);
        assert_eq!(inv(0), 0);
        for a in (1..=u16::MAX).step_by(97).chain([1, 2, 0xFFFF]) {
            assert_eq!(mul(a, inv(a)), 1, "a = {a:#x}");
            let b = a.wrapping_mul(31).wrapping_add(7);
            let c = a.rotate_left(5) ^ 0x1234;
            assert_eq!(mul(a, b), mul(b, a));
            assert_eq!(mul(a, b ^ c), mul(a, b) ^ mul(a, c));
            assert_eq!(mul(mul(a, b), c), mul(a, mul(b, c)));
        }
    }
}
