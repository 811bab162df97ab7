//! X25519 keys and Diffie-Hellman with the contributory check.

use std::sync::OnceLock;

use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

use super::base64::{Base64DecodeError, base64_decode, base64_encode};
use super::rng::RandomSource;
use super::secret::SecretBytes;
use crate::error::KeyError;

/// The u-coordinates (as X25519 reads them: modulo 2^255, the top bit ignored) of every point
/// of order dividing 8 on Curve25519 or its twist: 0, 1, the two points of order 8, p − 1, and
/// the non-canonical encodings p and p + 1. X25519 with a clamped scalar (a multiple of 8 below
/// 2^255) gives the all-zero result exactly for these inputs (any other point's order has a
/// prime factor near 2^252 that no such scalar is a multiple of); the unit tests check the list
/// against curve25519-dalek's torsion points and against X25519 itself.
const SMALL_ORDER: [[u8; 32]; 7] = [
    [0; 32],
    le_small(1),
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44,
        0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09,
        0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
    ],
    p_with_low_byte(0xec), // p − 1
    p_with_low_byte(0xed), // p
    p_with_low_byte(0xee), // p + 1
];

/// `n` as 32 little-endian bytes.
const fn le_small(n: u8) -> [u8; 32] {
    let mut b = [0; 32];
    b[0] = n;
    b
}

/// p = 2^255 − 19 (`ed ff … ff 7f` little-endian) with its lowest byte replaced by `low`.
const fn p_with_low_byte(low: u8) -> [u8; 32] {
    let mut b = [0xff; 32];
    b[0] = low;
    b[31] = 0x7f;
    b
}

/// A Curve25519 public key (32 bytes, Montgomery u-coordinate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Curve25519PublicKey([u8; 32]);

impl Curve25519PublicKey {
    /// Length in bytes.
    pub const LENGTH: usize = 32;

    /// Wraps 32 bytes. Any 32 bytes are accepted here; a key that yields a non-contributory
    /// shared secret is refused when it is used in Diffie-Hellman.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// From a slice of exactly 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidLength`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::InvalidLength { expected: 32, got: bytes.len() })?;
        Ok(Self(arr))
    }

    /// From unpadded (or padded) base64.
    ///
    /// # Errors
    /// [`KeyError::Base64`] or [`KeyError::InvalidLength`].
    pub fn from_base64(input: &str) -> Result<Self, KeyError> {
        let bytes = base64_decode(input).map_err(|_: Base64DecodeError| KeyError::Base64)?;
        Self::from_slice(&bytes)
    }

    /// Unpadded base64, as Matrix publishes keys.
    pub fn to_base64(&self) -> String {
        base64_encode(self.0)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A copy of the 32 bytes.
    pub const fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Whether Diffie-Hellman with this key is non-contributory (all zeros whatever our
    /// secret key), decided by comparison with the small-order encodings instead of a scalar
    /// multiplication; constant time. [`Curve25519SecretKey::diffie_hellman`] refuses exactly
    /// these keys.
    pub(crate) fn has_small_order(&self) -> bool {
        use subtle::ConstantTimeEq;
        let mut u = self.0;
        u[31] &= 0x7f;
        let mut found = subtle::Choice::from(0);
        for bad in &SMALL_ORDER {
            found |= u.ct_eq(bad);
        }
        found.into()
    }
}

/// A peer's Curve25519 public key that has been checked not to have small order: the only form
/// in which a peer's key is stored for a later Diffie-Hellman (every receiving chain of the double
/// ratchet holds one). [`ContributoryKey::new`] is its only constructor, so a key that was not
/// checked cannot reach a chain, whichever way the chain is made (a live message, or any pickle
/// format). Diffie-Hellman with it cannot fail ([`Curve25519SecretKey::diffie_hellman_checked`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ContributoryKey(Curve25519PublicKey);

impl ContributoryKey {
    /// Checks `key` (constant time, a comparison with the small-order encodings).
    ///
    /// # Errors
    /// [`KeyError::NonContributory`] if it has small order.
    pub(crate) fn new(key: Curve25519PublicKey) -> Result<Self, KeyError> {
        if key.has_small_order() { Err(KeyError::NonContributory) } else { Ok(Self(key)) }
    }

    /// The key.
    pub(crate) const fn key(&self) -> &Curve25519PublicKey {
        &self.0
    }
}

impl core::fmt::Debug for ContributoryKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl core::fmt::Debug for Curve25519PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Curve25519PublicKey({})", self.to_base64())
    }
}

impl core::fmt::Display for Curve25519PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl From<[u8; 32]> for Curve25519PublicKey {
    fn from(b: [u8; 32]) -> Self {
        Self(b)
    }
}

/// A Curve25519 secret key, wiped on drop (`StaticSecret` zeroizes itself). Its public key is
/// derived once, on first use, and kept beside it (a base-point multiplication saved on every
/// later use: session set-up, bundles, pickles).
#[derive(Clone)]
pub struct Curve25519SecretKey(Box<KeyPair>);

#[derive(Clone)]
struct KeyPair {
    secret: StaticSecret,
    public: OnceLock<[u8; 32]>,
}

impl KeyPair {
    fn new(secret: StaticSecret) -> Self {
        Self { secret, public: OnceLock::new() }
    }
}

impl Curve25519SecretKey {
    /// A fresh random key.
    pub fn new() -> Self {
        Self::random(&mut super::rng::OsRandom)
    }

    /// A key from the given random source (32 bytes are drawn, as libolm does).
    pub fn random(rng: &mut impl RandomSource) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        let s = Self(Box::new(KeyPair::new(StaticSecret::from(bytes))));
        bytes.zeroize();
        s
    }

    /// From secret bytes (as stored in a pickle).
    pub fn from_secret_bytes(bytes: &SecretBytes<32>) -> Self {
        Self(Box::new(KeyPair::new(StaticSecret::from(*bytes.expose()))))
    }

    /// From secret bytes and the public key stored beside them (caudata's pickles since
    /// format version 2): no base-point multiplication. The caller vouches
    /// that `public` belongs to the secret (the pickle was authenticated, or is the caller's).
    pub(crate) fn from_secret_bytes_and_public(bytes: &SecretBytes<32>, public: Curve25519PublicKey) -> Self {
        let pair = KeyPair { secret: StaticSecret::from(*bytes.expose()), public: OnceLock::from(public.0) };
        Self(Box::new(pair))
    }

    /// Computes the public keys of `keys` that do not have theirs yet, together: one
    /// base-point multiplication each, as [`Curve25519SecretKey::public_key`] does, but a single
    /// field inversion for all of them (Montgomery's trick, `to_montgomery_batch`) instead of
    /// one each, which saves about a sixth of the work of loading many keys (a dehydrated
    /// device, a libolm account). The projective points in between are wiped.
    pub(crate) fn precompute_public_keys<'a>(keys: impl IntoIterator<Item = &'a Self>) {
        use curve25519_dalek::EdwardsPoint;
        let pending: Vec<&Self> = keys.into_iter().filter(|k| k.0.public.get().is_none()).collect();
        if pending.len() < 2 {
            return; // nothing to share: computed on first use, as usual
        }
        let points: zeroize::Zeroizing<Vec<EdwardsPoint>> = zeroize::Zeroizing::new(
            pending
                .iter()
                .map(|k| {
                    let mut bytes = k.0.secret.to_bytes();
                    let p = EdwardsPoint::mul_base_clamped(bytes);
                    bytes.zeroize();
                    p
                })
                .collect(),
        );
        for (k, u) in pending.iter().zip(EdwardsPoint::to_montgomery_batch(&points)) {
            // Not yet set (checked above, and nothing else holds the keys).
            let _ = k.0.public.set(u.to_bytes());
        }
    }

    /// Keys from secret bytes, their public keys computed together
    /// ([`Curve25519SecretKey::precompute_public_keys`]).
    pub(crate) fn from_secret_bytes_batch(secrets: &[SecretBytes<32>]) -> Vec<Self> {
        let keys: Vec<Self> = secrets.iter().map(Self::from_secret_bytes).collect();
        Self::precompute_public_keys(&keys);
        keys
    }

    /// The secret bytes in the key's own storage, for writing a pickle without a copy (the
    /// serde shapes and the pickle writers, all inside the crate).
    pub(crate) fn secret_bytes(&self) -> &[u8; 32] {
        self.0.secret.as_bytes()
    }

    /// The secret bytes, for pickling. The result zeroizes on drop.
    pub fn to_secret_bytes(&self) -> SecretBytes<32> {
        let mut b = self.0.secret.to_bytes();
        SecretBytes::from_array(&mut b)
    }

    /// The matching public key.
    pub fn public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey(*self.0.public.get_or_init(|| PublicKey::from(&self.0.secret).to_bytes()))
    }

    /// ⚠️ The secret scalar's bytes (in this key's own storage), for the constant-time check
    /// (`caudata::hazmat`, `benches/ctgrind`) only.
    #[cfg(feature = "hazmat")]
    pub(crate) fn secret_bytes_for_ctgrind(&self) -> &[u8; 32] {
        self.0.secret.as_bytes()
    }

    /// X25519 with `their` public key.
    ///
    /// # Errors
    /// [`KeyError::NonContributory`] when the result is all zeros (the peer's key has small
    /// order), which libolm would accept: see SPEC.md.
    // Never inlined: the contributory verdict is the one reviewed secret-derived branch here,
    // and benches/ctgrind's suppression names this function (inlined into a caller, the
    // branch would be attributed to the caller). A call is nothing next to the scalar
    // multiplication.
    #[inline(never)]
    pub fn diffie_hellman(&self, their: &Curve25519PublicKey) -> Result<SharedSecret, KeyError> {
        let mut b = x25519(&self.0.secret, their.0);
        let zero = b.iter().fold(0u8, |acc, x| acc | x);
        // The verdict, as x25519-dalek's `was_contributory`: constant-time up to this one bit.
        if bool::from(subtle::ConstantTimeEq::ct_eq(&zero, &0)) {
            b.zeroize();
            return Err(KeyError::NonContributory);
        }
        Ok(SharedSecret(SecretBytes::from_array(&mut b)))
    }

    /// X25519 with a key already checked not to have small order: infallible. The result is
    /// never all zeros: a clamped scalar `k` is a multiple of 8 below 2^255, and for a point
    /// whose order is not a divisor of 8, `k·P` is the identity (or the point of order 2) only
    /// if `k` is a multiple of the large prime factor of its order (ℓ ≈ 2^252 on the curve,
    /// ℓ' ≈ 2^253 on the twist) as well as of 8, which no such scalar is.
    /// (`has_small_order_agrees_with_x25519` checks the refused list against X25519 itself.)
    pub(crate) fn diffie_hellman_checked(&self, their: &ContributoryKey) -> SharedSecret {
        let mut b = x25519(&self.0.secret, their.0.0);
        SharedSecret(SecretBytes::from_array(&mut b))
    }
}

/// Whether curve25519-dalek multiplies Edwards points with its AVX2 backend here (it picks it
/// at run time on x86-64 CPUs that have AVX2). Only then is the Edwards path cheaper than the
/// ladder; elsewhere (serial backends: other CPUs, wasm) the ladder is kept.
fn vectorised_edwards() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// X25519 (RFC 7748): the u-coordinate of `clamp(secret)·P` for the point `P` with
/// u-coordinate `u` (the top bit ignored, any value modulo p), on Curve25519 or its twist.
///
/// Equal to x25519-dalek's Montgomery ladder for every input (unit test
/// `x25519_equals_the_ladder`), and cheaper: a point of Curve25519 itself (every honest key)
/// is mapped to its Edwards form and multiplied there, with curve25519-dalek's constant-time
/// windowed multiplication on its AVX2 backend — about two thirds of the ladder's
/// instructions, the map and the way back (two field inversions and a square root) included;
/// without AVX2 the ladder runs. The clamped scalar is used unreduced (`mul_clamped`), so a torsion component is
/// multiplied exactly as the ladder does; both signs of the Edwards x-coordinate give the same
/// u. A point on the twist (no Edwards image, `u = −1` included) takes the ladder. Which path
/// runs depends on `u` alone, public data; the scalar's use is constant-time on both, and every
/// intermediate holding the secret or the shared point is wiped.
fn x25519(secret: &StaticSecret, u: [u8; 32]) -> [u8; 32] {
    use curve25519_dalek::MontgomeryPoint;
    let edwards = if vectorised_edwards() { MontgomeryPoint(u).to_edwards(0) } else { None };
    match edwards {
        Some(p) => {
            let mut k = secret.to_bytes();
            let mut q = p.mul_clamped(k);
            k.zeroize();
            let mut m = q.to_montgomery();
            q.zeroize();
            let out = m.to_bytes();
            m.zeroize();
            out
        }
        None => secret.diffie_hellman(&PublicKey::from(u)).to_bytes(),
    }
}

impl Default for Curve25519SecretKey {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Curve25519SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Curve25519SecretKey").field("public", &self.public_key()).finish_non_exhaustive()
    }
}

/// A contributory X25519 shared secret, wiped on drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedSecret(SecretBytes<32>);

impl SharedSecret {
    /// The 32 secret bytes.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x25519_equals_the_ladder() {
        // Points on the curve (public keys), arbitrary bytes (about half of them on the twist),
        // every small-order encoding with and without the top bit, u = −1 (no Edwards image),
        // and non-canonical values up to 2^255 − 1.
        let mut inputs: Vec<[u8; 32]> = Vec::new();
        let mut on_curve = 0;
        for i in 0..64u8 {
            inputs.push(Curve25519SecretKey::new().public_key().0);
            let mut raw = SecretBytes::<32>::random(&mut crate::primitives::OsRandom);
            inputs.push(*raw.expose());
            raw.expose_mut()[31] |= 0x80;
            inputs.push(*raw.expose());
            inputs.push(p_with_low_byte(0xed + (i % 0x12)));
        }
        for bad in SMALL_ORDER {
            inputs.push(bad);
            let mut high = bad;
            high[31] |= 0x80;
            inputs.push(high);
        }
        inputs.push([0xff; 32]);
        for _ in 0..4 {
            let secret = StaticSecret::from(*SecretBytes::<32>::random(&mut crate::primitives::OsRandom).expose());
            for u in &inputs {
                let ladder = secret.diffie_hellman(&PublicKey::from(*u)).to_bytes();
                assert_eq!(x25519(&secret, *u), ladder, "u = {u:02x?}");
                on_curve += usize::from(curve25519_dalek::MontgomeryPoint(*u).to_edwards(0).is_some());
            }
        }
        // u = 2 is on the twist (benches/ctgrind runs the ladder path with it).
        assert!(curve25519_dalek::MontgomeryPoint(le_small(2)).to_edwards(0).is_none());
        // Points of both kinds were tried (with AVX2, both paths ran; without, the ladder only).
        // The fixed inputs guarantee both whatever the random ones are: the 64 public keys and
        // u = 0, 1, 4, 6 … are on the curve; u = −1 (twice) and the 18 inputs with u = 2, 3, 5,
        // 12 or 14 among u = p … p + 17 are not. (A bound that needed 12 of the 128 random
        // inputs off the curve failed when 58 of the 64 random values were on it: 2^-37.7.)
        let off_curve = 4 * inputs.len() - on_curve;
        assert!(on_curve > 4 * 64 && off_curve >= 4 * 20, "{on_curve} on the curve, {off_curve} off it");
    }

    #[test]
    fn small_order_list_is_the_torsion_points_and_their_other_encodings() {
        let mut expected: Vec<[u8; 32]> =
            curve25519_dalek::constants::EIGHT_TORSION.iter().map(|p| p.to_montgomery().to_bytes()).collect();
        // p − 1, p, p + 1, written out independently of the constant's helpers
        for low in [0xec, 0xed, 0xee] {
            let mut x = [0xff; 32];
            x[0] = low;
            x[31] = 0x7f;
            expected.push(x);
        }
        expected.sort();
        expected.dedup();
        let mut list = SMALL_ORDER.to_vec();
        list.sort();
        assert_eq!(list, expected);
    }

    #[test]
    fn batch_public_keys_equal_single_ones() {
        let mut rng = 0x1234_5678_u64;
        let mut next = || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) as u8
        };
        let mut secrets: Vec<SecretBytes<32>> =
            (0..40).map(|_| SecretBytes::from_array(&mut core::array::from_fn(|_| next()))).collect();
        // clamping edge cases: all zeros, all ones, the bits clamping clears or sets
        for fill in [0u8, 0xff, 0x07, 0x80, 0x40] {
            secrets.push(SecretBytes::from_array(&mut [fill; 32]));
        }
        let batch = Curve25519SecretKey::from_secret_bytes_batch(&secrets);
        assert_eq!(batch.len(), secrets.len());
        for (s, k) in secrets.iter().zip(&batch) {
            let single = Curve25519SecretKey::from_secret_bytes(s);
            assert_eq!(k.public_key(), single.public_key());
            assert_eq!(k.to_secret_bytes(), *s);
        }
        assert!(Curve25519SecretKey::from_secret_bytes_batch(&[]).is_empty());
    }

    #[test]
    fn public_keys_round_trip_through_unpadded_base64() {
        let key = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [7; 32])).public_key();
        let text = key.to_base64();
        assert_eq!(text, base64_encode(key.as_bytes()));
        assert_eq!(text.len(), 43, "unpadded");
        assert_eq!(Curve25519PublicKey::from_base64(&text), Ok(key));
    }

    #[cfg(feature = "hazmat")]
    #[test]
    fn the_ctgrind_accessor_gives_the_secret_scalar_bytes() {
        let key = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [7; 32]));
        assert_eq!(key.secret_bytes_for_ctgrind(), key.to_secret_bytes().expose());
    }

    #[test]
    fn a_batch_of_two_or_more_has_its_public_keys_computed_at_once() {
        for n in [2u8, 3] {
            let secrets: Vec<SecretBytes<32>> = (0..n).map(|i| SecretBytes::from_array(&mut [i + 1; 32])).collect();
            let batch = Curve25519SecretKey::from_secret_bytes_batch(&secrets);
            for (s, k) in secrets.iter().zip(&batch) {
                let precomputed = k.0.public.get().copied();
                assert_eq!(precomputed, Some(Curve25519SecretKey::from_secret_bytes(s).public_key().0), "{n}");
            }
        }
        // a single key is left to be computed on first use
        let one = Curve25519SecretKey::from_secret_bytes_batch(&[SecretBytes::from_array(&mut [9; 32])]);
        assert!(one[0].0.public.get().is_none());
    }

    #[test]
    fn has_small_order_agrees_with_x25519() {
        let secrets: Vec<Curve25519SecretKey> = (1..=3u8)
            .map(|i| Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [i.wrapping_mul(37); 32])))
            .collect();
        let check = |key: Curve25519PublicKey| {
            for s in &secrets {
                let zero = matches!(s.diffie_hellman(&key), Err(KeyError::NonContributory));
                assert_eq!(key.has_small_order(), zero, "{key:?}");
            }
        };
        for bad in SMALL_ORDER {
            check(Curve25519PublicKey(bad));
            let mut high = bad;
            high[31] |= 0x80; // X25519 ignores the top bit
            check(Curve25519PublicKey(high));
            assert!(Curve25519PublicKey(high).has_small_order());
            // every single-bit neighbour (most are ordinary points, some are on the twist)
            for bit in 0..255 {
                let mut near = bad;
                near[bit / 8] ^= 1 << (bit % 8);
                check(Curve25519PublicKey(near));
            }
        }
        for s in &secrets {
            check(s.public_key());
        }
    }

    /// Debug and Display show public keys in base64 and a secret key only by its public key.
    #[test]
    fn debug_shows_public_keys_only() {
        let secret = Curve25519SecretKey::new();
        let public = secret.public_key();
        let b64 = public.to_base64();
        assert_eq!(format!("{public}"), b64);
        assert_eq!(format!("{public:?}"), format!("Curve25519PublicKey({b64})"));
        assert_eq!(format!("{:?}", ContributoryKey::new(public).unwrap()), format!("Curve25519PublicKey({b64})"));
        assert_eq!(format!("{secret:?}"), format!("Curve25519SecretKey {{ public: Curve25519PublicKey({b64}), .. }}"));
    }
}
