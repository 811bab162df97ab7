//! XEdDSA: Ed25519-style signatures made with a Curve25519 (X25519) key, as libsignal makes
//! and checks them.
//!
//! The signer turns its X25519 scalar `a` (clamped) into the Edwards public key `A = a·B`
//! and signs as Ed25519 does, with the nonce drawn from 64 random bytes:
//!
//! ```text
//! r = SHA-512(0xFE ‖ 0xFF × 31 ‖ a ‖ M ‖ Z(64)) mod ℓ,   R = r·B
//! h = SHA-512(R ‖ A ‖ M) mod ℓ,                         s = r + h·a mod ℓ
//! signature = R(32) ‖ s(32), then sig[63] bit 7 := sign bit of A (bit 255 of its encoding)
//! ```
//!
//! The XEdDSA specification instead negates `a` so that the sign bit is always 0; libsignal
//! does not, and moves the sign bit into the top bit of `s`, which is free because `s < 2^253`.
//! The verifier follows libsignal: it rebuilds `A` from the Montgomery `u` with the sign bit
//! taken from `sig[63]`, clears that bit, refuses `s ≥ 2^253`, and checks
//! `R == s·B − h·A` by comparing encodings. A specification signature (sign bit 0 and
//! `A` with a positive `x`) verifies too; a strict specification verifier would reject about
//! half of libsignal's signatures, so this is the verifier interoperability requires.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use sha2::{Digest, Sha512};
use zeroize::Zeroize;

use super::ct::ct_eq;
use super::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use super::rng::{OsRandom, RandomSource};
use crate::error::{KeyError, SignatureError};

/// A 64-byte XEdDSA signature (`R ‖ s`, with the Edwards sign bit in bit 7 of byte 63).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct XEdDsaSignature([u8; 64]);

impl XEdDsaSignature {
    signature_bytes!();

    /// The 64 bytes, borrowed.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl core::fmt::Debug for XEdDsaSignature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "XEdDsaSignature({})", self.to_base64())
    }
}

fn hash_to_scalar(parts: &[&[u8]]) -> Scalar {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    let mut wide: [u8; 64] = h.finalize().into();
    let s = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    s
}

/// The prefix that separates the nonce hash from a plain SHA-512 (XEdDSA's `hash_1`).
const NONCE_PREFIX: [u8; 32] = {
    let mut p = [0xFFu8; 32];
    p[0] = 0xFE;
    p
};

impl Curve25519SecretKey {
    /// Signs `message` with XEdDSA, compatibly with libsignal's `PrivateKey::calculate_signature`
    /// (64 bytes of fresh randomness per signature).
    pub fn sign_xeddsa(&self, message: &[u8]) -> XEdDsaSignature {
        self.sign_xeddsa_inner(message, &mut OsRandom)
    }

    /// [`Curve25519SecretKey::sign_xeddsa`] with an explicit random source (64 bytes drawn).
    #[cfg(feature = "hazmat")]
    pub fn sign_xeddsa_with_rng(&self, message: &[u8], rng: &mut impl RandomSource) -> XEdDsaSignature {
        self.sign_xeddsa_inner(message, rng)
    }

    pub(crate) fn sign_xeddsa_inner(&self, message: &[u8], rng: &mut impl RandomSource) -> XEdDsaSignature {
        let secret = self.to_secret_bytes();
        let mut key_bytes = clamp_integer(*secret.expose());
        let mut a = Scalar::from_bytes_mod_order(key_bytes);
        let big_a = EdwardsPoint::mul_base(&a).compress();
        let sign_bit = big_a.as_bytes()[31] & 0x80;

        let mut z = [0u8; 64];
        rng.fill(&mut z);
        let mut r = hash_to_scalar(&[&NONCE_PREFIX, &key_bytes, message, &z]);
        z.zeroize();
        key_bytes.zeroize();
        let big_r = EdwardsPoint::mul_base(&r).compress();
        let h = hash_to_scalar(&[big_r.as_bytes(), big_a.as_bytes(), message]);
        let s = h * a + r;
        a.zeroize();
        r.zeroize();

        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(big_r.as_bytes());
        sig[32..].copy_from_slice(s.as_bytes());
        sig[63] = (sig[63] & 0x7F) | sign_bit;
        XEdDsaSignature(sig)
    }
}

impl Curve25519PublicKey {
    /// Verifies an XEdDSA signature the way libsignal's `PublicKey::verify_signature` does
    /// (see the module documentation), except that the key is validated first
    /// ([`Curve25519PublicKey::validate_vartime`]): under a key of small order `h·A` takes at
    /// most 8 values, so a "signature" `R = s·B` verifies for one message in 8 whatever `s` is,
    /// and forging takes a handful of tries. libsignal does not refuse such keys here. Variable
    /// time: only public data is involved.
    ///
    /// # Errors
    /// [`SignatureError::Key`] for a key of small order or not canonically encoded,
    /// [`SignatureError::Invalid`] if the signature does not verify.
    pub fn verify_xeddsa(&self, message: &[u8], signature: &XEdDsaSignature) -> Result<(), SignatureError> {
        self.validate_vartime()?;
        if xeddsa_verify_vartime(self.as_bytes(), message, &signature.0) {
            Ok(())
        } else {
            Err(SignatureError::Invalid)
        }
    }
}

impl Curve25519PublicKey {
    /// Checks a peer's long- or medium-term key the way interolm does before using it: the
    /// encoding must be canonical (`u < 2^255 − 19`, bit 255 clear) and the point must not
    /// have small order (the all-zero key included; the same constant-time comparison with the
    /// small-order encodings that every receiving chain's key passes), so that no two encodings
    /// name one key and no Diffie-Hellman with it can be non-contributory. Variable time in the
    /// canonical check (public data).
    ///
    /// # Errors
    /// [`KeyError::NonCanonical`] or [`KeyError::NonContributory`].
    pub fn validate_vartime(&self) -> Result<(), KeyError> {
        let b = self.as_bytes();
        let high_bit = b[31] & 0x80 != 0;
        // p = 2^255 − 19 is ED FF … FF 7F little-endian; values in [p, 2^255) have this shape.
        let at_least_p = b[31] == 0x7F && b[1..31].iter().all(|&x| x == 0xFF) && b[0] >= 0xED;
        if high_bit || at_least_p {
            return Err(KeyError::NonCanonical);
        }
        // Not a birational map to Edwards (u = p − 1 has no Edwards image, so a check through
        // `to_edwards` let that small-order key through): the list X25519 itself refuses.
        if self.has_small_order() {
            return Err(KeyError::NonContributory);
        }
        Ok(())
    }
}

fn xeddsa_verify_vartime(public: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
    let sign = (sig[63] & 0x80) >> 7;
    let Some(big_a) = MontgomeryPoint(*public).to_edwards(sign) else {
        return false;
    };
    let big_a_bytes = big_a.compress();
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&sig[32..]);
    s_bytes[31] &= 0x7F;
    if s_bytes[31] & 0xE0 != 0 {
        return false;
    }
    let big_r = &sig[..32];
    let h = hash_to_scalar(&[big_r, big_a_bytes.as_bytes(), message]);
    // s < 2^253 < 2ℓ here, so reducing it changes nothing about s·B.
    let s = Scalar::from_bytes_mod_order(s_bytes);
    let check: CompressedEdwardsY = EdwardsPoint::vartime_double_scalar_mul_basepoint(&h, &-big_a, &s).compress();
    ct_eq(check.as_bytes(), big_r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_tamper() {
        for i in 0..16u8 {
            let k = Curve25519SecretKey::new();
            let msg = [i; 33];
            let sig = k.sign_xeddsa(&msg);
            let pk = k.public_key();
            pk.verify_xeddsa(&msg, &sig).unwrap();
            assert!(pk.verify_xeddsa(&msg[1..], &sig).is_err());
            let mut flipped = sig.to_bytes();
            flipped[63] ^= 0x80;
            assert!(pk.verify_xeddsa(&msg, &XEdDsaSignature(flipped)).is_err());
            let mut bad_r = sig.to_bytes();
            bad_r[0] ^= 1;
            assert!(pk.verify_xeddsa(&msg, &XEdDsaSignature(bad_r)).is_err());
            // s ≥ 2^253 is refused.
            let mut big_s = sig.to_bytes();
            big_s[63] |= 0x20;
            assert!(pk.verify_xeddsa(&msg, &XEdDsaSignature(big_s)).is_err());
        }
    }

    #[test]
    fn key_validation() {
        assert_eq!(Curve25519PublicKey::from_bytes([0; 32]).validate_vartime(), Err(KeyError::NonContributory));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(Curve25519PublicKey::from_bytes(one).validate_vartime(), Err(KeyError::NonContributory));
        let mut p = [0xFFu8; 32];
        p[0] = 0xED;
        p[31] = 0x7F;
        assert_eq!(Curve25519PublicKey::from_bytes(p).validate_vartime(), Err(KeyError::NonCanonical));
        let mut k = Curve25519SecretKey::new().public_key().to_bytes();
        Curve25519PublicKey::from_bytes(k).validate_vartime().unwrap();
        k[31] |= 0x80;
        assert_eq!(Curve25519PublicKey::from_bytes(k).validate_vartime(), Err(KeyError::NonCanonical));
    }

    #[test]
    fn accepts_specification_signatures() {
        // The XEdDSA specification negates the key so that the sign bit is 0; libsignal's
        // verifier (and ours) accepts such signatures as well.
        let k = Curve25519SecretKey::new();
        let secret = k.to_secret_bytes();
        let mut a = Scalar::from_bytes_mod_order(clamp_integer(*secret.expose()));
        let mut big_a = EdwardsPoint::mul_base(&a).compress();
        if big_a.as_bytes()[31] & 0x80 != 0 {
            a = -a;
            big_a = EdwardsPoint::mul_base(&a).compress();
        }
        let msg = b"spec";
        let r = hash_to_scalar(&[&[7u8; 64], msg]);
        let big_r = EdwardsPoint::mul_base(&r).compress();
        let h = hash_to_scalar(&[big_r.as_bytes(), big_a.as_bytes(), msg]);
        let s = h * a + r;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(big_r.as_bytes());
        sig[32..].copy_from_slice(s.as_bytes());
        k.public_key().verify_xeddsa(msg, &XEdDsaSignature(sig)).unwrap();
    }

    #[test]
    fn debug_shows_the_signature_in_base64() {
        let sig = Curve25519SecretKey::new().sign_xeddsa(b"m");
        assert_eq!(format!("{sig:?}"), format!("XEdDsaSignature({})", sig.to_base64()));
    }
}
