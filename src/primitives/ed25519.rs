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

/// Below this many signatures [`verify_batch`] verifies one by one: the torsion check's fixed
/// cost ([`TORSION_ROUNDS`] scalar multiplications) would outweigh what batching saves.
pub(crate) const BATCH_MIN: usize = 96;

/// Independent random subset sums in the torsion check: each misses a nonzero torsion
/// component with probability at most 1/2, so a batch accepts a signature the strict
/// verification refuses with probability at most 2^-64 (+ 2^-128 for the prime-order part).
const TORSION_ROUNDS: usize = 64;

/// Points per precomputed subset table in the torsion check: 11 additions build the 16 subset
/// sums of 4 points, then each round adds one entry (≈ 18 additions per point instead of 32).
const TORSION_CHUNK: usize = 4;

/// Whether 32 bytes are the canonical encoding of a field element (y < 2^255 − 19, ignoring
/// the sign bit). The sign bit of `x = 0` points (y = ±1) is not checked here: both are of small
/// order and refused anyway.
fn canonical_y(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f;
    !(top == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[0] >= 0xed)
}

/// The [`TORSION_ROUNDS`] random subset sums of the torsion check: `U_j = Σ_i c_ji·R_i`, where
/// `c_ji` is bit `j` of the little-endian `u64` in `bits[8i..8i + 8]` (`bits` holds 8 bytes per
/// point). Built [`TORSION_CHUNK`] points at a time from a table of their subset sums.
fn torsion_subset_sums(points: &[EdwardsPoint], bits: &[u8]) -> [EdwardsPoint; TORSION_ROUNDS] {
    let mut sums = [EdwardsPoint::default(); TORSION_ROUNDS];
    let mut table = [EdwardsPoint::default(); 1 << TORSION_CHUNK];
    for (chunk, bits) in points.chunks(TORSION_CHUNK).zip(bits.chunks(TORSION_CHUNK * 8)) {
        let mut masks = [0u64; TORSION_CHUNK];
        for (m, b) in masks.iter_mut().zip(bits.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            *m = u64::from_le_bytes(w);
        }
        // table[x] = Σ_{bit t of x} R_t.
        for x in 1..(1usize << chunk.len()) {
            let low = x.trailing_zeros() as usize;
            let rest = x & (x - 1);
            table[x] = if rest == 0 { chunk[low] } else { table[rest] + chunk[low] };
        }
        for (j, sum) in sums.iter_mut().enumerate() {
            let x = masks.iter().enumerate().fold(0usize, |acc, (t, m)| acc | ((((m >> j) & 1) as usize) << t));
            if x != 0 {
                *sum += table[x];
            }
        }
    }
    sums
}

/// Strict verification of many signatures, each under one of `keys`: entry `i` of the result is
/// what [`Ed25519PublicKey::verify`] would return for `items[i] = (key index, message,
/// signature)` (an out-of-range key index is `false`).
///
/// Randomised batch verification (SPEC.md, "Megolm batch decryption"): the prime-order part of
/// every equation `[s]B = R + [k]A` is checked in one multiscalar multiplication with random
/// 128-bit weights; the torsion part, which a random linear combination cannot check soundly
/// (weights that are even cancel points of order 2), is checked separately: each `R` must be
/// torsion-free, tested on [`TORSION_ROUNDS`] random subset sums of the `R`s. Keys that are not
/// torsion-free, and batches that fail, fall back to one verification per signature, so a
/// forged signature never makes another one fail. Accepting a signature that `verify` refuses
/// has probability ≤ 2^-64 + 2^-128 per batch, over `rng`'s weights; `rng` must be
/// unpredictable to whoever chose the signatures.
pub(crate) fn verify_batch(
    keys: &[Ed25519PublicKey],
    items: &[(usize, &[u8], &Ed25519Signature)],
    rng: &mut impl RandomSource,
) -> Vec<bool> {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};

    let mut result = vec![false; items.len()];
    if items.len() < BATCH_MIN {
        for (out, (key, message, signature)) in result.iter_mut().zip(items) {
            *out = keys.get(*key).is_some_and(|k| k.verify(message, signature).is_ok());
        }
        return result;
    }
    // Per key: small order (every signature refused), torsion-free (batchable).
    let points: Vec<EdwardsPoint> = keys.iter().map(|k| k.0.to_edwards()).collect();
    let batchable: Vec<Option<bool>> =
        points.iter().map(|a| (!a.is_small_order()).then(|| a.is_torsion_free())).collect();
    // The candidates: (item, key, R, S, k). Everything `verify` refuses before its equation is
    // refused here the same way; signatures under a key with torsion are verified alone.
    let mut candidates: Vec<(usize, usize, EdwardsPoint, Scalar, Scalar)> = Vec::with_capacity(items.len());
    for (i, (key, message, signature)) in items.iter().enumerate() {
        let Some(torsion_free) = batchable.get(*key).copied().flatten() else { continue };
        if !torsion_free {
            result[i] = keys[*key].verify(message, signature).is_ok();
            continue;
        }
        let (r_bytes, s_bytes) = signature.0.split_at(32);
        let mut r = [0u8; 32];
        r.copy_from_slice(r_bytes);
        let mut s = [0u8; 32];
        s.copy_from_slice(s_bytes);
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s)) else { continue };
        if !canonical_y(&r) {
            continue;
        }
        let Some(r_point) = CompressedEdwardsY(r).decompress() else { continue };
        if r_point.is_small_order() {
            continue;
        }
        let mut h = Sha512::new();
        h.update(r);
        h.update(keys[*key].as_bytes());
        h.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        candidates.push((i, *key, r_point, s, k));
    }
    if candidates.is_empty() {
        return result;
    }
    // One draw from the OS for all weights: 16 bytes (z) and 8 bytes (subset bits) each.
    let mut random = vec![0u8; candidates.len() * 24];
    rng.fill(&mut random);
    let (z_bytes, bit_bytes) = random.split_at(candidates.len() * 16);

    // Prime-order part: Σ z·R + Σ_A (Σ z·k)·A − (Σ z·s)·B = 0.
    let mut scalars: Vec<Scalar> = Vec::with_capacity(candidates.len() + keys.len() + 1);
    let mut bases: Vec<EdwardsPoint> = Vec::with_capacity(candidates.len() + keys.len() + 1);
    let mut per_key = vec![Scalar::ZERO; keys.len()];
    let mut sum_zs = Scalar::ZERO;
    for ((_, key, r, s, k), z) in candidates.iter().zip(z_bytes.chunks_exact(16)) {
        let mut wide = [0u8; 32];
        wide[..16].copy_from_slice(z);
        let z = Scalar::from_bytes_mod_order(wide);
        per_key[*key] += z * k;
        sum_zs += z * s;
        scalars.push(z);
        bases.push(*r);
    }
    for (a, w) in points.iter().zip(&per_key) {
        if *w != Scalar::ZERO {
            scalars.push(*w);
            bases.push(*a);
        }
    }
    scalars.push(-sum_zs);
    bases.push(ED25519_BASEPOINT_POINT);
    let prime_part_ok = EdwardsPoint::vartime_multiscalar_mul(&scalars, &bases).is_identity();

    // Torsion part: every R torsion-free, checked on random subset sums U_j = Σ c_ji·R_i.
    let torsion_ok = prime_part_ok && {
        let rs: Vec<EdwardsPoint> = candidates.iter().map(|c| c.2).collect();
        torsion_subset_sums(&rs, bit_bytes).iter().all(EdwardsPoint::is_torsion_free)
    };
    if prime_part_ok && torsion_ok {
        for (i, ..) in &candidates {
            result[*i] = true;
        }
    } else {
        // Find which failed: each alone, so one forgery never hides or taints another.
        for (i, key, ..) in &candidates {
            let (_, message, signature) = items[*i];
            result[*i] = keys[*key].verify(message, signature).is_ok();
        }
    }
    result
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
    signature_bytes!();
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

    /// The form the key was created in (its seed or libolm's expanded bytes), borrowed, for
    /// writing a pickle without a copy.
    pub(crate) fn form(&self) -> &SecretForm {
        &self.form
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
    /// Copies the key without recomputing anything: the expanded form (a SHA-512 of the seed)
    /// and the public key (a base-point multiplication) are copied, not derived again. The
    /// copy of the expanded form is written straight into its own zeroed heap allocation (no
    /// secret temporary on the stack), which the `Box`'s drop wipes as the original's.
    fn clone(&self) -> Self {
        let mut expanded = Box::new(ExpandedSecretKey { scalar: Scalar::ZERO, hash_prefix: [0; 32] });
        expanded.scalar = self.expanded.scalar;
        expanded.hash_prefix = self.expanded.hash_prefix;
        Self { form: self.form.clone(), expanded, public: self.public }
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

    /// A clone copies the expanded form instead of hashing the seed again: it is the same key
    /// in both forms (same public key, same deterministic signatures, same expanded bytes).
    #[test]
    fn a_clone_is_the_same_key_in_either_form() {
        let seeded = Ed25519SecretKey::from_seed(SecretBytes::from_array(&mut [9; 32]));
        let expanded = Ed25519SecretKey::from_expanded(SecretBytes::from_array(&mut [0x41; 64]));
        for key in [seeded, expanded] {
            let copy = key.clone();
            assert_eq!(copy.public_key(), key.public_key());
            assert_eq!(copy.sign(b"message").to_bytes(), key.sign(b"message").to_bytes());
            assert_eq!(copy.expanded_bytes().expose(), key.expanded_bytes().expose());
            assert_eq!(copy.seed().map(|s| *s.expose()), key.seed().map(|s| *s.expose()));
            assert!(
                copy.expanded.scalar == key.expanded.scalar && copy.expanded.hash_prefix == key.expanded.hash_prefix
            );
            key.public_key().verify(b"message", &copy.sign(b"message")).unwrap();
        }
    }

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
    fn public_keys_round_trip_through_unpadded_base64() {
        let public = key(9).public_key();
        let text = public.to_base64();
        assert_eq!(text, base64_encode(public.as_bytes()));
        assert_eq!(text.len(), 43, "unpadded");
        assert_eq!(Ed25519PublicKey::from_base64(&text), Ok(public));
    }

    #[test]
    fn a_random_key_is_the_seed_drawn_from_the_given_source() {
        // known-answer tests replay a peer's randomness through `RandomSource`
        struct Fixed(u8);
        impl RandomSource for Fixed {
            fn fill(&mut self, dest: &mut [u8]) {
                dest.fill(self.0);
            }
        }
        let k = Ed25519SecretKey::random(&mut Fixed(9));
        assert_eq!(k.seed(), Some(&SecretBytes::from_array(&mut [9; 32])));
        assert_eq!(k.public_key(), key(9).public_key());
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

    /// A signature whose `R` carries a torsion component `t`, made with the secret key:
    /// `R' = [r]B + t`, `S = r + k'·a` with `k' = H(R' ‖ A ‖ M)`. `[S]B − [k']A = [r]B ≠ R'`, so
    /// the cofactorless verification refuses it; a plain random linear combination accepts it
    /// whenever its weight kills `t` (even weights, for `t` of order 2).
    fn torsion_signature(sk: &Ed25519SecretKey, message: &[u8], r: u8, t: EdwardsPoint) -> Ed25519Signature {
        raw_signature(sk, sk.public_key().as_bytes(), message, r, t)
    }

    /// `R = [r]B + t` and `S = r + H(R ‖ key ‖ M)·a` with `sk`'s scalar `a`: an honest signature
    /// for `key = A`, `t` = identity; the two malformed kinds above and below otherwise.
    fn raw_signature(
        sk: &Ed25519SecretKey,
        key: &[u8; 32],
        message: &[u8],
        r: u8,
        t: EdwardsPoint,
    ) -> Ed25519Signature {
        let a = ExpandedSecretKey::from_bytes(sk.expanded_bytes().expose()).scalar;
        let r = Scalar::from_bytes_mod_order([r; 32]);
        let big_r = (ED25519_BASEPOINT_POINT * r + t).compress().to_bytes();
        let mut h = Sha512::new();
        h.update(big_r);
        h.update(key);
        h.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&big_r);
        sig[32..].copy_from_slice((r + k * a).as_bytes());
        Ed25519Signature(sig)
    }

    /// The batch's answers, checked against `verify` on every entry.
    fn batch_equals_single(keys: &[Ed25519PublicKey], items: &[(usize, Vec<u8>, Ed25519Signature)]) -> Vec<bool> {
        let refs: Vec<(usize, &[u8], &Ed25519Signature)> = items.iter().map(|(k, m, s)| (*k, &m[..], s)).collect();
        let got = verify_batch(keys, &refs, &mut crate::primitives::OsRandom);
        for ((k, m, s), g) in items.iter().zip(&got) {
            let want = keys.get(*k).is_some_and(|key| key.verify(m, s).is_ok());
            assert_eq!(*g, want, "key {k}");
        }
        got
    }

    #[test]
    fn batch_refuses_torsion_in_r_that_a_plain_linear_combination_accepts() {
        let sks: Vec<_> = (0..3).map(|i| key(40 + i)).collect();
        let keys: Vec<_> = sks.iter().map(Ed25519SecretKey::public_key).collect();
        // Every torsion point, alone and as a cancelling pair (t, −t), among honest signatures;
        // repeated, as a plain batch would accept each about half the time.
        for round in 0..8u8 {
            for (n, t) in EIGHT_TORSION.iter().enumerate().skip(1) {
                let mut items: Vec<(usize, Vec<u8>, Ed25519Signature)> = (0..BATCH_MIN as u8 + 20)
                    .map(|j| {
                        let m = vec![j, round, n as u8];
                        let k = usize::from(j) % 3;
                        let sig = sks[k].sign(&m);
                        (k, m, sig)
                    })
                    .collect();
                items[5].2 = torsion_signature(&sks[items[5].0], &items[5].1, round + 1, *t);
                items[50].2 = torsion_signature(&sks[items[50].0], &items[50].1, round + 2, *t);
                items[51].2 = torsion_signature(&sks[items[51].0], &items[51].1, round + 3, -t);
                let got = batch_equals_single(&keys, &items);
                assert_eq!(got.iter().filter(|g| !**g).count(), 3, "round {round} torsion {n}");
            }
        }
    }

    /// A signature for the mixed-order key `A' = A + t` made with `A`'s secret: `S = r + k'·a`,
    /// `k' = H(R ‖ A' ‖ M)`. `[S]B − R − [k']A' = −[k']t`: the cofactorless verification refuses
    /// it (unless `k'·t` is the identity); a batch equation with a random weight `z` is off by
    /// `−[z·k']t`, the identity for one `z` in 8 or more.
    fn mixed_key_signature(sk: &Ed25519SecretKey, mixed: &[u8; 32], message: &[u8], r: u8) -> Ed25519Signature {
        raw_signature(sk, mixed, message, r, EdwardsPoint::default())
    }

    /// `canonical_y` at its edges: p − 1 is the largest canonical y, p to 2^255 − 1 are not,
    /// and the sign bit (bit 255) is not part of y.
    #[test]
    fn canonical_y_accepts_below_p_and_refuses_from_p_on() {
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        let mut below = p;
        below[0] = 0xec;
        let mut y_zero = [0u8; 32];
        let mut other_limb = p;
        other_limb[1] = 0xfe;
        let mut top_below = p;
        top_below[31] = 0x7e;
        for (bytes, want) in
            [(p, false), ([0xff; 32], false), (below, true), (y_zero, true), (other_limb, true), (top_below, true)]
        {
            assert_eq!(canonical_y(&bytes), want, "{bytes:02x?}");
            let mut signed = bytes;
            signed[31] |= 0x80;
            assert_eq!(canonical_y(&signed), want, "sign bit set: {signed:02x?}");
        }
        let mut p_plus_18 = p;
        p_plus_18[0] = 0xff;
        assert!(!canonical_y(&p_plus_18));
        y_zero[0] = 0xed;
        assert!(canonical_y(&y_zero));
    }

    /// The torsion check's subset sums equal the sums taken directly, point by point, for every
    /// batch length around the table's chunk size (so a partial last chunk is covered), with
    /// bits that select no point, every point, and mixed ones; points of every kind (prime
    /// order, torsion, mixed).
    #[test]
    fn torsion_subset_sums_are_the_direct_sums() {
        let point = |i: u64| {
            let p = ED25519_BASEPOINT_POINT * Scalar::from(i * 7919 + 3);
            if i % 3 == 1 { p + EIGHT_TORSION[(i % 8) as usize] } else { p }
        };
        for n in [1usize, 2, 3, 4, 5, 7, 8, 9, 13] {
            let points: Vec<EdwardsPoint> = (0..n as u64).map(point).collect();
            for pattern in 0..4u64 {
                let bits: Vec<u8> = (0..n as u64)
                    .flat_map(|i| {
                        let m = match pattern {
                            0 => 0,
                            1 => u64::MAX,
                            2 => 0x9e37_79b9_7f4a_7c15u64.rotate_left((i * 13) as u32) ^ (i * 0x0101),
                            _ => 1u64 << (i * 5 % 64),
                        };
                        m.to_le_bytes()
                    })
                    .collect();
                let sums = torsion_subset_sums(&points, &bits);
                for (j, sum) in sums.iter().enumerate() {
                    let mut direct = EdwardsPoint::default();
                    for (i, p) in points.iter().enumerate() {
                        let mut w = [0u8; 8];
                        w.copy_from_slice(&bits[8 * i..8 * i + 8]);
                        if (u64::from_le_bytes(w) >> j) & 1 == 1 {
                            direct += p;
                        }
                    }
                    assert_eq!(sum.compress(), direct.compress(), "n {n}, pattern {pattern}, round {j}");
                }
            }
        }
    }

    /// Signatures under a key with a torsion component are verified alone, never in the batch
    /// equation: there a random weight cancels the torsion often enough to accept what
    /// `verify` refuses (48 batches, each with fresh weights).
    #[test]
    fn keys_with_torsion_are_never_batched() {
        let sks: Vec<_> = (0..2).map(|i| key(80 + i)).collect();
        let mut keys: Vec<_> = sks.iter().map(Ed25519SecretKey::public_key).collect();
        let mixed = (keys[0].0.to_edwards() + EIGHT_TORSION[1]).compress().to_bytes();
        keys.push(Ed25519PublicKey::from_bytes(&mixed).unwrap());
        let mut refused = 0;
        for round in 0..48u8 {
            let mut items: Vec<(usize, Vec<u8>, Ed25519Signature)> = (0..BATCH_MIN as u8 + 4)
                .map(|j| {
                    let m = vec![j, round];
                    let k = usize::from(j) % 2;
                    let sig = sks[k].sign(&m);
                    (k, m, sig)
                })
                .collect();
            let m = vec![0xaa, round];
            let sig = mixed_key_signature(&sks[0], &mixed, &m, round.wrapping_add(1));
            items.push((2, m, sig));
            let got = batch_equals_single(&keys, &items);
            refused += usize::from(!got[got.len() - 1]);
            assert!(got[..got.len() - 1].iter().all(|g| *g));
        }
        assert!(refused > 30, "the cofactorless verification refuses them ({refused} of 48)");
    }

    #[test]
    fn batch_equals_single_on_malleated_small_order_and_unknown_keys() {
        let sks: Vec<_> = (0..4).map(|i| key(60 + i)).collect();
        let mut keys: Vec<_> = sks.iter().map(Ed25519SecretKey::public_key).collect();
        // A small-order key and a mixed-order key (A + a point of order 8): the latter is
        // verified one by one.
        keys.push(Ed25519PublicKey::from_bytes(&EIGHT_TORSION[2].compress().to_bytes()).unwrap());
        let mixed = (keys[0].0.to_edwards() + EIGHT_TORSION[1]).compress().to_bytes();
        keys.push(Ed25519PublicKey::from_bytes(&mixed).unwrap());
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut items = Vec::new();
        for j in 0..300u16 {
            let k = usize::from(j % 4);
            let m = j.to_le_bytes().to_vec();
            let mut sig = sks[k].sign(&m).to_bytes();
            let key_index = match j % 23 {
                0 => 4,
                1 => 5,
                2 => 99,
                _ => k,
            };
            match j % 17 {
                // S + L.
                3 => {
                    let mut carry = 0u16;
                    for (b, lb) in sig[32..].iter_mut().zip(l) {
                        let v = u16::from(*b) + u16::from(lb) + carry;
                        *b = v as u8;
                        carry = v >> 8;
                    }
                }
                // A small-order R, a non-canonical R (y + p for small y), a flipped bit.
                4 => sig[..32].copy_from_slice(&EIGHT_TORSION[(j % 8) as usize].compress().to_bytes()),
                5 => {
                    sig[..32].copy_from_slice(&[0xff; 32]);
                    sig[0] = 0xee;
                    sig[31] = 0x7f;
                }
                6 => sig[usize::from(j % 64)] ^= 1 << (j % 8),
                _ => {}
            }
            items.push((key_index, m, Ed25519Signature(sig)));
        }
        let got = batch_equals_single(&keys, &items);
        assert!(got.iter().filter(|g| **g).count() > 150, "the honest ones pass");
        assert!(got.iter().filter(|g| !**g).count() > 30, "the forged ones fail");
    }

    /// Debug and Display show public keys and signatures in base64, a secret key only by its
    /// public key.
    #[test]
    fn debug_shows_public_values_only() {
        let secret = Ed25519SecretKey::new();
        let public = secret.public_key();
        let b64 = public.to_base64();
        assert_eq!(format!("{public}"), b64);
        assert_eq!(format!("{public:?}"), format!("Ed25519PublicKey({b64})"));
        let signature = secret.sign(b"m");
        assert_eq!(format!("{signature:?}"), format!("Ed25519Signature({})", signature.to_base64()));
        assert_eq!(format!("{secret:?}"), format!("Ed25519SecretKey {{ public: Ed25519PublicKey({b64}), .. }}"));
    }
}
