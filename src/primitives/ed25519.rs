//! Ed25519: signing from a seed or from libolm's expanded key, and strict verification.

use curve25519_dalek::{EdwardsPoint, Scalar};
use ed25519_dalek::VerifyingKey;
use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use sha2::{Digest, Sha512};

use super::base64::{base64_decode, base64_encode};
use super::rng::RandomSource;
use super::secret::SecretBytes;
use crate::error::{KeyError, SignatureError};

/// An Ed25519 public key. Construction checks that the bytes decode to a curve point; strict
/// verification additionally refuses small-order keys.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ed25519PublicKey(VerifyingKey);

impl Ed25519PublicKey {
    /// Length in bytes.
    pub const LENGTH: usize = 32;

    /// From 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidPoint`] if the bytes are not a compressed Edwards point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        VerifyingKey::from_bytes(bytes).map(Self).map_err(|_| KeyError::InvalidPoint)
    }

    /// From a slice of exactly 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] or [`KeyError::InvalidPoint`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::InvalidLength { expected: 32, got: bytes.len() })?;
        Self::from_bytes(&arr)
    }

    /// From base64.
    ///
    /// # Errors
    /// [`KeyError::Base64`], [`KeyError::InvalidLength`] or [`KeyError::InvalidPoint`].
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        let bytes = base64_decode(input).map_err(|_| KeyError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Unpadded base64.
    pub fn to_base64(&self) -> String {
        base64_encode(self.0.as_bytes())
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Strict RFC 8032 verification: refuses non-canonical `S` (S ≥ L, the malleability that
    /// libolm accepts, CVE-2024-45193), non-canonical `R` and small-order public keys.
    ///
    /// # Errors
    /// [`SignatureError::Invalid`] if the signature does not verify.
    pub fn verify(&self, message: &[u8], signature: &Ed25519Signature) -> Result<(), SignatureError> {
        // RFC 8032 §5.1.7 with ed25519-dalek's `verify_strict` acceptance rule, which the
        // tests below hold this to: S < L; neither the key nor R of small order; and
        // [S]B − [k]A encoded equal to R's bytes (so a non-canonical or invalid R never
        // matches). `verify_strict` decodes R to test its order, a square root per signature;
        // here the recomputed point is tested instead, which is R itself once the encodings are
        // equal, and costs three doublings. About 10 % of a verification, and most of the cost
        // of a Megolm decryption is that verification.
        let (r, s) = signature.0.split_at(32);
        let mut s_bytes = [0u8; 32];
        s_bytes.copy_from_slice(s);
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)).ok_or(SignatureError::Invalid)?;
        let a = self.0.to_edwards();
        if a.is_small_order() {
            return Err(SignatureError::Invalid);
        }
        let mut h = Sha512::new();
        h.update(r);
        h.update(self.0.as_bytes());
        h.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let expected_r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s);
        // Public values only: an ordinary comparison.
        if expected_r.compress().as_bytes()[..] != *r || expected_r.is_small_order() {
            return Err(SignatureError::Invalid);
        }
        Ok(())
    }
}

impl core::fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Ed25519PublicKey({})", self.to_base64())
    }
}

impl core::fmt::Display for Ed25519PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// A 64-byte Ed25519 signature (`R ‖ S`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ed25519Signature(pub(crate) [u8; 64]);

impl Ed25519Signature {
    /// Length in bytes.
    pub const LENGTH: usize = 64;

    /// From 64 bytes (checked only when verified).
    pub const fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// From a slice of exactly 64 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 64] = bytes.try_into().map_err(|_| KeyError::InvalidLength { expected: 64, got: bytes.len() })?;
        Ok(Self(arr))
    }

    /// From base64.
    ///
    /// # Errors
    /// [`KeyError::Base64`] or [`KeyError::InvalidLength`].
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        let bytes = base64_decode(input).map_err(|_| KeyError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Unpadded base64.
    pub fn to_base64(&self) -> String {
        base64_encode(self.0)
    }

    /// The 64 bytes.
    pub const fn to_bytes(&self) -> [u8; 64] {
        self.0
    }
}

impl core::fmt::Debug for Ed25519Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Ed25519Signature({})", self.to_base64())
    }
}

/// The form an Ed25519 secret key was created in. libolm pickles store only the expanded
/// form (clamped scalar ‖ nonce prefix), so an imported key has no seed.
#[derive(Clone)]
pub(crate) enum SecretForm {
    /// A 32-byte RFC 8032 seed.
    Seed(SecretBytes<32>),
    /// libolm's 64-byte expanded form (clamped scalar ‖ nonce prefix).
    Expanded(SecretBytes<64>),
}

impl SecretForm {
    /// The scalar and nonce prefix signing uses (a SHA-512 of the seed at most).
    fn expand(&self) -> ExpandedSecretKey {
        match self {
            Self::Seed(s) => ExpandedSecretKey::from(s.expose()),
            Self::Expanded(e) => ExpandedSecretKey::from_bytes(e.expose()),
        }
    }
}

/// An Ed25519 secret key, wiped on drop.
pub struct Ed25519SecretKey {
    form: SecretForm,
    expanded: Box<ExpandedSecretKey>,
    public: VerifyingKey,
}

impl Ed25519SecretKey {
    /// A fresh key from the operating system's randomness.
    pub fn new() -> Self {
        Self::random(&mut super::rng::OsRandom)
    }

    /// A key from a 32-byte seed drawn from `rng`.
    pub fn random(rng: &mut impl RandomSource) -> Self {
        Self::from_seed(SecretBytes::random(rng))
    }

    /// From a 32-byte RFC 8032 seed.
    pub fn from_seed(seed: SecretBytes<32>) -> Self {
        Self::from_form(SecretForm::Seed(seed), None)
    }

    /// From libolm's 64-byte expanded form (clamped scalar ‖ nonce prefix).
    pub fn from_expanded(bytes: SecretBytes<64>) -> Self {
        Self::from_form(SecretForm::Expanded(bytes), None)
    }

    /// From either form, with the public key derived (`None`: one base-point multiplication)
    /// or taken as given.
    ///
    /// A given public key must have been stored together with this secret in an authenticated
    /// container (caudata's pickle). A wrong public key is not harmless: RFC 8032's nonce
    /// depends on the secret and the message only, so two signatures of one message under two
    /// different public keys reveal the secret scalar. Whoever could substitute the stored
    /// public key could already read the stored secret beside it.
    pub(crate) fn from_form(form: SecretForm, public: Option<Ed25519PublicKey>) -> Self {
        let expanded = Box::new(form.expand());
        let public = public.map_or_else(|| VerifyingKey::from(&*expanded), |p| p.0);
        Self { form, expanded, public }
    }

    /// The seed, when the key was made from one.
    pub fn seed(&self) -> Option<&SecretBytes<32>> {
        match &self.form {
            SecretForm::Seed(s) => Some(s),
            SecretForm::Expanded(_) => None,
        }
    }

    /// The 64-byte expanded form (`SHA-512(seed)` with the scalar clamped, as libolm stores it).
    pub fn expanded_bytes(&self) -> SecretBytes<64> {
        match &self.form {
            SecretForm::Expanded(e) => e.clone(),
            SecretForm::Seed(s) => {
                let mut h: [u8; 64] = Sha512::digest(s.expose()).into();
                h[0] &= 248;
                h[31] &= 127;
                h[31] |= 64;
                SecretBytes::from_array(&mut h)
            }
        }
    }

    /// The public key.
    pub const fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.public)
    }

    /// Signs `message` (deterministic RFC 8032 signature).
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        Ed25519Signature(raw_sign::<Sha512>(&self.expanded, message, &self.public).to_bytes())
    }
}

impl Clone for Ed25519SecretKey {
    /// Copies the key without recomputing the public key (a base-point multiplication): the
    /// expanded form is re-parsed (a SHA-512 at most), the public key copied.
    fn clone(&self) -> Self {
        Self { form: self.form.clone(), expanded: Box::new(self.form.expand()), public: self.public }
    }
}

impl Default for Ed25519SecretKey {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Ed25519SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ed25519SecretKey").field("public", &self.public_key()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use ed25519_dalek::Signature;

    use super::*;

    /// `ed25519-dalek`'s `verify_strict`, the rule `Ed25519PublicKey::verify` must equal.
    fn reference(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        VerifyingKey::from_bytes(key).is_ok_and(|k| k.verify_strict(message, &Signature::from_bytes(signature)).is_ok())
    }

    fn ours(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Option<bool> {
        let k = Ed25519PublicKey::from_bytes(key).ok()?;
        Some(k.verify(message, &Ed25519Signature::from_bytes(*signature)).is_ok())
    }

    fn same(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
        let r = reference(key, message, signature);
        assert_eq!(ours(key, message, signature).unwrap_or(false), r, "key {key:?} sig {signature:?}");
        r
    }

    /// A deterministic key: seed `i`.
    fn key(i: u8) -> Ed25519SecretKey {
        Ed25519SecretKey::from_seed(SecretBytes::from_array(&mut [i; 32]))
    }

    #[test]
    fn verify_accepts_what_verify_strict_accepts_and_refuses_every_tampering() {
        let mut accepted = 0;
        for i in 0..24u8 {
            let sk = key(i);
            let pk = *sk.public_key().as_bytes();
            let message: Vec<u8> = (0..i as usize * 7).map(|j| (j * 31) as u8 ^ i).collect();
            let sig = sk.sign(&message).to_bytes();
            accepted += usize::from(same(&pk, &message, &sig));
            // Every bit of the signature flipped (R: other points, invalid encodings, the
            // non-canonical ones; S: other scalars and values ≥ L).
            for bit in 0..512 {
                let mut t = sig;
                t[bit / 8] ^= 1 << (bit % 8);
                assert!(!same(&pk, &message, &t), "bit {bit}");
            }
            // Another message, another key.
            assert!(!same(&pk, b"another message", &sig));
            assert!(!same(key(i.wrapping_add(100)).public_key().as_bytes(), &message, &sig));
        }
        assert_eq!(accepted, 24, "every honest signature verifies");
    }

    #[test]
    fn verify_refuses_s_plus_l_the_malleability_libolm_accepts() {
        // L, little-endian.
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let sk = key(7);
        let sig = sk.sign(b"m").to_bytes();
        let mut t = sig;
        let mut carry = 0u16;
        for j in 0..32 {
            let v = u16::from(t[32 + j]) + u16::from(l[j]) + carry;
            t[32 + j] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0, "S + L fits in 256 bits");
        assert!(same(sk.public_key().as_bytes(), b"m", &sig));
        assert!(!same(sk.public_key().as_bytes(), b"m", &t));
    }

    #[test]
    fn verify_refuses_small_order_r_even_when_the_equation_holds() {
        // R = the identity and S = k·a: [S]B = R + [k]A holds, so a cofactorless verifier
        // without the small-order check would accept this "signature" of any message.
        let sk = key(3);
        let a = ExpandedSecretKey::from_bytes(sk.expanded_bytes().expose()).scalar;
        let pk = sk.public_key();
        let r = EIGHT_TORSION[0].compress().to_bytes();
        let mut h = Sha512::new();
        h.update(r);
        h.update(pk.as_bytes());
        h.update(b"forged");
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice((k * a).as_bytes());
        assert_eq!(ED25519_BASEPOINT_POINT * (k * a), pk.0.to_edwards() * k, "the equation holds");
        assert!(!same(pk.as_bytes(), b"forged", &sig));
        // And every small-order R with an otherwise honest S.
        let honest = sk.sign(b"m").to_bytes();
        for t in EIGHT_TORSION {
            let mut sig = honest;
            sig[..32].copy_from_slice(t.compress().as_bytes());
            assert!(!same(pk.as_bytes(), b"m", &sig));
        }
    }

    #[test]
    fn verify_refuses_small_order_keys_even_when_the_equation_holds() {
        // A small-order key A and R = [S]B: [S]B = R + [k]A holds for the identity, and up to
        // torsion for the others; both verifiers must refuse all eight keys.
        for (n, t) in EIGHT_TORSION.iter().enumerate() {
            let a = t.compress().to_bytes();
            let s = Scalar::from_bytes_mod_order([n as u8 + 1; 32]);
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice((ED25519_BASEPOINT_POINT * s).compress().as_bytes());
            sig[32..].copy_from_slice(s.as_bytes());
            assert!(!same(&a, b"any message", &sig), "torsion point {n}");
        }
    }
}
