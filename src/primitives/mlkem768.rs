//! ML-KEM-768 (FIPS 203) with the incremental split of encapsulation that SPQR's ML-KEM
//! Braid uses (`libcrux-ml-kem`, module `mlkem768::incremental`).
//!
//! The split is a re-ordering of standard ML-KEM-768, not another KEM:
//!
//! | value | bytes | what it is |
//! |---|---|---|
//! | header | 64 | `rho(32) ‖ H(ek)(32)`, with the FIPS 203 `ek = t ‖ rho` and `H` = SHA3-256 |
//! | ek vector | 1152 | `t`, the first 1152 bytes of the FIPS 203 encapsulation key |
//! | ct1 | 960 | the compressed `u`, the first 960 bytes of the FIPS 203 ciphertext |
//! | ct2 | 128 | the compressed `v`, the last 128 bytes of the FIPS 203 ciphertext |
//! | decapsulation key | 2400 | `dk_pke(1152) ‖ t(1152) ‖ rho(32) ‖ H(ek)(32) ‖ z(32)` |
//!
//! `encapsulate1` needs only the header and the 32-byte encapsulation randomness `m`; it yields
//! ct1 and the final shared secret. `encapsulate2` later needs `t` as well. Both are
//! deterministic in `(header, m)`, so the only encapsulation secret this module asks the caller
//! to keep is `m` (32 bytes): libcrux's 2080-byte intermediate state is rebuilt on demand and
//! wiped after each use, never persisted (so its platform-dependent byte order, libcrux issue
//! #1275, cannot matter).

use libcrux_ml_kem::mlkem768::{MlKem768Ciphertext, MlKem768PrivateKey, incremental, validate_private_key};
use zeroize::Zeroize;

use super::rng::RandomSource;
use super::secret::SecretBytes;
use super::stack::{KEM_SCRUB, scrubbed};

/// Length of the header `rho ‖ H(ek)`.
pub(crate) const MLKEM768_HEADER_LEN: usize = 64;
/// Length of the ek vector `t`.
pub(crate) const MLKEM768_EK_VECTOR_LEN: usize = 1152;
/// Length of ct1.
pub(crate) const MLKEM768_CT1_LEN: usize = 960;
/// Length of ct2.
pub(crate) const MLKEM768_CT2_LEN: usize = 128;
/// Length of the decapsulation key.
pub(crate) const MLKEM768_DK_LEN: usize = 2400;

const ENCAPS_STATE_LEN: usize = incremental::encaps_state_len();
const EK_OFFSET: usize = 1152;
const HEADER_OFFSET: usize = 2304;

/// An ML-KEM-768 decapsulation key (2400 bytes, FIPS 203 layout), wiped on drop.
#[derive(Clone)]
pub(crate) struct MlKem768DecapsulationKey(Box<[u8; MLKEM768_DK_LEN]>);

impl MlKem768DecapsulationKey {
    /// `ML-KEM.KeyGen_internal(d, z)` from 64 bytes of `rng`.
    /// libcrux writes the key into its box; the stack it used is overwritten afterwards.
    pub(crate) fn generate(rng: &mut impl RandomSource) -> Self {
        let seed = SecretBytes::<64>::random(rng);
        let mut dk = Box::new([0u8; MLKEM768_DK_LEN]);
        scrubbed::<_, KEM_SCRUB>(|| incremental::generate_key_pair_compressed(*seed.expose(), &mut dk));
        Self(dk)
    }

    /// A stored decapsulation key; `None` unless it is 2400 bytes whose embedded public key
    /// matches its hash and passes the FIPS 203 modulus check.
    /// Copied from box to box, never into an array on the stack.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != MLKEM768_DK_LEN {
            return None;
        }
        let mut key = Self(Box::new([0u8; MLKEM768_DK_LEN]));
        key.0.copy_from_slice(bytes);
        let mut sk = Box::new(MlKem768PrivateKey::default());
        sk[0..].copy_from_slice(&key.0[..]);
        let hash_ok = scrubbed::<_, KEM_SCRUB>(|| validate_private_key(&sk, &MlKem768Ciphertext::default()));
        sk[0..].zeroize();
        (hash_ok && mlkem768_validate_ek(&key.header(), key.ek_vector())).then_some(key)
    }

    /// The 2400 secret bytes. The caller must not copy them out of zeroizing storage.
    pub(crate) fn as_bytes(&self) -> &[u8; MLKEM768_DK_LEN] {
        &self.0
    }

    /// The public header `rho ‖ H(ek)`.
    pub(crate) fn header(&self) -> [u8; MLKEM768_HEADER_LEN] {
        let mut h = [0u8; MLKEM768_HEADER_LEN];
        h.copy_from_slice(&self.0[HEADER_OFFSET..HEADER_OFFSET + MLKEM768_HEADER_LEN]);
        h
    }

    /// The public ek vector `t`.
    pub(crate) fn ek_vector(&self) -> &[u8; MLKEM768_EK_VECTOR_LEN] {
        // The range is exactly 1152 bytes long, so the conversion cannot fail.
        #[allow(clippy::expect_used)]
        (&self.0[EK_OFFSET..EK_OFFSET + MLKEM768_EK_VECTOR_LEN]).try_into().expect("fixed range")
    }

    /// FIPS 203 decapsulation of `ct1 ‖ ct2`, implicit rejection included: a ciphertext not
    /// made for this key gives an unrelated pseudo-random secret.
    /// The stack libcrux used is overwritten afterwards.
    pub(crate) fn decapsulate(&self, ct1: &[u8; MLKEM768_CT1_LEN], ct2: &[u8; MLKEM768_CT2_LEN]) -> SecretBytes<32> {
        scrubbed::<_, KEM_SCRUB>(|| {
            let c1 = incremental::Ciphertext1 { value: *ct1 };
            let c2 = incremental::Ciphertext2 { value: *ct2 };
            let mut ss = incremental::decapsulate_compressed_key(&self.0, &c1, &c2);
            SecretBytes::from_array(&mut ss)
        })
    }
}

impl Drop for MlKem768DecapsulationKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for MlKem768DecapsulationKey {}

impl core::fmt::Debug for MlKem768DecapsulationKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MlKem768DecapsulationKey(..)")
    }
}

/// Runs libcrux's `encapsulate1` into a wiped-after-use state buffer and hands the state to `f`.
fn with_encaps1<T>(
    header: &[u8; MLKEM768_HEADER_LEN],
    m: &SecretBytes<32>,
    f: impl FnOnce(&[u8; ENCAPS_STATE_LEN], [u8; MLKEM768_CT1_LEN], SecretBytes<32>) -> T,
) -> Option<T> {
    let mut state = Box::new([0u8; ENCAPS_STATE_LEN]);
    let mut ss = SecretBytes::<32>::zero();
    let out = scrubbed::<_, KEM_SCRUB>(|| {
        match incremental::encapsulate1(header, *m.expose(), &mut state[..], ss.expose_mut()) {
            Ok(ct1) => Some(f(&state, ct1.value, ss.clone())),
            Err(_) => None,
        }
    });
    state.zeroize();
    out
}

/// Encaps1: ct1 and the shared secret `K` from the header and the 32-byte randomness `m`.
/// `None` only if libcrux refuses its fixed-size inputs, which cannot happen.
pub(crate) fn mlkem768_encapsulate1(
    header: &[u8; MLKEM768_HEADER_LEN],
    m: &SecretBytes<32>,
) -> Option<([u8; MLKEM768_CT1_LEN], SecretBytes<32>)> {
    with_encaps1(header, m, |_, ct1, ss| (ct1, ss))
}

/// Encaps2: ct1 and ct2 for the same `(header, m)` as [`mlkem768_encapsulate1`], now that the
/// ek vector `t` is known. The caller must have checked `t` with [`mlkem768_validate_ek`].
pub(crate) fn mlkem768_encapsulate2(
    header: &[u8; MLKEM768_HEADER_LEN],
    m: &SecretBytes<32>,
    ek_vector: &[u8; MLKEM768_EK_VECTOR_LEN],
) -> Option<([u8; MLKEM768_CT1_LEN], [u8; MLKEM768_CT2_LEN])> {
    with_encaps1(header, m, |state, ct1, _| (ct1, incremental::encapsulate2(state, ek_vector).value))
}

/// The ct-sender's check of a received ek vector: `SHA3-256(t ‖ rho) == header[32..64]` and
/// every 12-bit coefficient of `t` is below q = 3329.
pub(crate) fn mlkem768_validate_ek(
    header: &[u8; MLKEM768_HEADER_LEN],
    ek_vector: &[u8; MLKEM768_EK_VECTOR_LEN],
) -> bool {
    incremental::validate_pk_bytes(header, ek_vector).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::OsRandom;

    #[test]
    fn incremental_round_trip() {
        let dk = MlKem768DecapsulationKey::generate(&mut OsRandom);
        let m = SecretBytes::<32>::random(&mut OsRandom);
        let (ct1, k) = mlkem768_encapsulate1(&dk.header(), &m).unwrap();
        assert!(mlkem768_validate_ek(&dk.header(), dk.ek_vector()));
        let (ct1b, ct2) = mlkem768_encapsulate2(&dk.header(), &m, dk.ek_vector()).unwrap();
        assert_eq!(ct1, ct1b);
        assert_eq!(dk.decapsulate(&ct1, &ct2), k);
        let dk2 = MlKem768DecapsulationKey::from_slice(dk.as_bytes()).unwrap();
        assert_eq!(dk2.header(), dk.header());
    }

    #[test]
    fn bad_keys_are_refused() {
        let dk = MlKem768DecapsulationKey::generate(&mut OsRandom);
        let mut ek = *dk.ek_vector();
        ek[0] ^= 1;
        assert!(!mlkem768_validate_ek(&dk.header(), &ek), "hash mismatch");
        let mut bytes = *dk.as_bytes();
        bytes[EK_OFFSET + 3] ^= 0x80;
        assert!(MlKem768DecapsulationKey::from_slice(&bytes).is_none());
        assert!(MlKem768DecapsulationKey::from_slice(&bytes[..100]).is_none());
    }

    /// SHA3-256 (FIPS 202), a plain Keccak-f[1600] sponge: the hash that binds a stored
    /// decapsulation key's embedded ek, for building one whose hash matches a malformed ek.
    fn sha3_256(data: &[u8]) -> [u8; 32] {
        const RC: [u64; 24] = [
            0x0000_0000_0000_0001,
            0x0000_0000_0000_8082,
            0x8000_0000_0000_808a,
            0x8000_0000_8000_8000,
            0x0000_0000_0000_808b,
            0x0000_0000_8000_0001,
            0x8000_0000_8000_8081,
            0x8000_0000_0000_8009,
            0x0000_0000_0000_008a,
            0x0000_0000_0000_0088,
            0x0000_0000_8000_8009,
            0x0000_0000_8000_000a,
            0x0000_0000_8000_808b,
            0x8000_0000_0000_008b,
            0x8000_0000_0000_8089,
            0x8000_0000_0000_8003,
            0x8000_0000_0000_8002,
            0x8000_0000_0000_0080,
            0x0000_0000_0000_800a,
            0x8000_0000_8000_000a,
            0x8000_0000_8000_8081,
            0x8000_0000_0000_8080,
            0x0000_0000_8000_0001,
            0x8000_0000_8000_8008,
        ];
        // rotation of lane x + 5y
        const ROT: [u32; 25] =
            [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];
        fn permute(a: &mut [u64; 25]) {
            for rc in RC {
                let c: [u64; 5] = core::array::from_fn(|x| a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20]);
                for x in 0..5 {
                    let d = c[(x + 4) % 5] ^ c[(x + 1) % 5].rotate_left(1);
                    for y in 0..5 {
                        a[x + 5 * y] ^= d;
                    }
                }
                let mut b = [0u64; 25];
                for x in 0..5 {
                    for y in 0..5 {
                        b[y + 5 * ((2 * x + 3 * y) % 5)] = a[x + 5 * y].rotate_left(ROT[x + 5 * y]);
                    }
                }
                for x in 0..5 {
                    for y in 0..5 {
                        a[x + 5 * y] = b[x + 5 * y] ^ (!b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
                    }
                }
                a[0] ^= rc;
            }
        }
        const RATE: usize = 136;
        let mut padded = data.to_vec();
        padded.push(0x06);
        padded.resize(padded.len().div_ceil(RATE) * RATE, 0);
        *padded.last_mut().unwrap() |= 0x80;
        let mut a = [0u64; 25];
        for block in padded.chunks(RATE) {
            for (lane, word) in a.iter_mut().zip(block.chunks(8)) {
                *lane ^= u64::from_le_bytes(word.try_into().unwrap());
            }
            permute(&mut a);
        }
        core::array::from_fn(|i| (a[i / 8] >> (8 * (i % 8))) as u8)
    }

    #[test]
    fn a_stored_key_needs_both_its_hash_and_the_modulus_check() {
        assert_eq!(
            hex::encode(sha3_256(b"")),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
            "FIPS 202 SHA3-256 of the empty string"
        );
        let dk = MlKem768DecapsulationKey::generate(&mut OsRandom);
        let mut bytes = *dk.as_bytes();
        let (ek, hash) = (EK_OFFSET..HEADER_OFFSET + 32, HEADER_OFFSET + 32..HEADER_OFFSET + 64);
        assert_eq!(sha3_256(&bytes[ek.clone()]), bytes[hash.clone()], "the hash the key stores");
        // the first coefficient of t set to 0xfff (>= q = 3329), the stored hash made to match
        bytes[EK_OFFSET] = 0xff;
        bytes[EK_OFFSET + 1] |= 0x0f;
        let h = sha3_256(&bytes[ek]);
        bytes[hash].copy_from_slice(&h);
        assert!(MlKem768DecapsulationKey::from_slice(&bytes).is_none(), "hash matches, modulus check fails");
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", MlKem768DecapsulationKey::generate(&mut OsRandom)), "MlKem768DecapsulationKey(..)");
    }
}
