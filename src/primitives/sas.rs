//! The secret half of SAS verification (`m.sas.v1`): the X25519 shared secret and everything
//! derived from it. The protocol layer (`crate::sas`) only sees the derived public values.
//!
//! * SAS bytes: `HKDF-SHA-256(no salt, shared, info, n)`.
//! * MAC (`hkdf-hmac-sha256.v2`, and the legacy `hkdf-hmac-sha256` before encoding):
//!   `HMAC-SHA-256(HKDF-SHA-256(no salt, shared, info, 32), input)`.
//! * libolm's long-KDF MAC (old Riot's `hmac-sha256`): the HMAC key is 256 bytes of the same
//!   HKDF (HMAC hashes a key longer than its block, so the key is `SHA-256` of them).
//! * libolm's in-place base64 ([`libolm_in_place_base64`]), for the legacy and long-KDF MACs.
//!
//! Verification recomputes the expected value and compares in constant time; the expected
//! value lives only in wiped buffers.

use base64ct::{Base64Unpadded, Encoding};
use zeroize::{Zeroize, Zeroizing};

use super::ct::{ct_eq, reveal};
use super::curve25519::{Curve25519PublicKey, Curve25519SecretKey, SharedSecret};
use super::kdf::{HmacKey, hkdf_sha256};
use super::secret::SecretBytes;
use crate::error::KeyError;

/// The most bytes HKDF-SHA-256 can produce (255 blocks).
pub(crate) const SAS_MAX_BYTES: usize = 255 * 32;

/// Length of libolm's in-place base64 of a 32-byte MAC (that of unpadded base64).
pub(crate) const ENCODED_MAC_LENGTH: usize = 43;

/// Length of the HMAC key of libolm's long-KDF MAC.
const LONG_KDF_KEY_LENGTH: usize = 256;

/// Which of the MAC constructions to compute or verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SasMacKind {
    /// The MAC key is 32 bytes of HKDF (`hkdf-hmac-sha256`, `hkdf-hmac-sha256.v2`).
    Hkdf,
    /// The MAC key is 256 bytes of HKDF (libolm's `olm_sas_calculate_mac_long_kdf`).
    LongKdf,
}

/// A contributory X25519 shared secret between two SAS ephemeral keys. Wiped on drop.
pub(crate) struct SasSecret(SharedSecret);

impl SasSecret {
    /// X25519 of our ephemeral secret with their public key.
    ///
    /// # Errors
    /// [`KeyError::NonContributory`] when their key has small order (all-zero result).
    pub(crate) fn agree(ours: &Curve25519SecretKey, theirs: &Curve25519PublicKey) -> Result<Self, KeyError> {
        ours.diffie_hellman(theirs).map(Self)
    }

    /// `HKDF-SHA-256(no salt, shared, info)` into `out`, which the caller keeps within
    /// [`SAS_MAX_BYTES`].
    pub(crate) fn bytes_into(&self, info: &[u8], out: &mut [u8]) {
        hkdf_sha256(None, self.0.expose(), info, out);
    }

    /// The MAC of `input` under the key derived with `info`; wiped on drop.
    fn mac_secret(&self, kind: SasMacKind, input: &[u8], info: &[u8]) -> SecretBytes<32> {
        let key = match kind {
            SasMacKind::Hkdf => {
                let mut k = [0u8; 32];
                self.bytes_into(info, &mut k);
                let key = HmacKey::new(&k);
                k.zeroize();
                key
            }
            SasMacKind::LongKdf => {
                let mut k = [0u8; LONG_KDF_KEY_LENGTH];
                self.bytes_into(info, &mut k);
                let key = HmacKey::new(&k);
                k.zeroize();
                key
            }
        };
        key.mac(&[input])
    }

    /// The 32-byte MAC (sent to the peer, so returned in the clear).
    pub(crate) fn mac(&self, kind: SasMacKind, input: &[u8], info: &[u8]) -> [u8; 32] {
        *self.mac_secret(kind, input, info).expose()
    }

    /// The MAC in libolm's in-place base64 (43 characters), wiped on drop (it is sent, so the
    /// caller may unwrap it; a verifier's expected value stays wrapped).
    pub(crate) fn mac_in_place_base64(&self, kind: SasMacKind, input: &[u8], info: &[u8]) -> Zeroizing<String> {
        libolm_in_place_base64(self.mac_secret(kind, input, info).expose())
    }

    /// Whether `tag` is the 32-byte MAC of `input`; constant time in everything but the
    /// lengths of `input` and `info` and the outcome.
    pub(crate) fn verify_mac(&self, kind: SasMacKind, input: &[u8], info: &[u8], tag: &[u8; 32]) -> bool {
        reveal(ct_eq(self.mac_secret(kind, input, info).expose(), tag))
    }

    /// Whether `tag` is the in-place base64 of the MAC of `input`; constant time in everything
    /// but the lengths and the outcome.
    pub(crate) fn verify_in_place_base64(&self, kind: SasMacKind, input: &[u8], info: &[u8], tag: &[u8]) -> bool {
        reveal(ct_eq(self.mac_in_place_base64(kind, input, info).as_bytes(), tag))
    }
}

impl core::fmt::Debug for SasSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SasSecret(..)")
    }
}

/// libolm's `olm_sas_calculate_mac` output: the MAC base64-encoded *in place*, into the very
/// buffer that holds it, so every 3-byte group after the first is read after earlier groups'
/// characters have overwritten some of it. Place the 32 bytes at the start of a 43-byte buffer;
/// for k = 0..9 read bytes 3k..3k+2 as they are now and write their 4 characters at 4k; then
/// read bytes 30 and 31 and write their 3 characters at 40. Only the first 4 characters agree
/// with the true encoding.
///
/// The result is therefore the ordinary base64 of the 32 bytes the encoder *read*; those are
/// found by running the loop, and encoded with `base64ct`, whose encoder does not branch or
/// index on the data (nor does its `String` conversion validate it).
pub(crate) fn libolm_in_place_base64(mac: &[u8; 32]) -> Zeroizing<String> {
    let mut buf = Zeroizing::new([0u8; 40]);
    buf[..32].copy_from_slice(mac);
    let mut read = Zeroizing::new([0u8; 32]);
    for k in 0..10 {
        read[3 * k..3 * k + 3].copy_from_slice(&buf[3 * k..3 * k + 3]);
        encode_into(&read[3 * k..3 * k + 3], &mut buf[4 * k..4 * k + 4]);
    }
    read[30..].copy_from_slice(&buf[30..32]);
    Zeroizing::new(Base64Unpadded::encode_string(&read[..]))
}

/// Unpadded base64 of 3 bytes into `dst` (4 bytes).
fn encode_into(src: &[u8], dst: &mut [u8]) {
    // `dst` is exactly `encoded_len(src)` long, so base64ct's only error, a too-small output
    // buffer, cannot happen.
    #[allow(clippy::expect_used)]
    Base64Unpadded::encode(src, dst).expect("the output buffer has the encoded length");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place encoding, written as the byte-by-byte simulation of libolm's loop (a
    /// different construction from the one above: a reference encoder of 6-bit groups).
    fn simulate(mac: &[u8; 32]) -> [u8; 43] {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut b = [0u8; 43];
        b[..32].copy_from_slice(mac);
        let mut out = 0;
        let mut pos = 0;
        while pos + 3 <= 32 {
            let v = u32::from(b[pos]) << 16 | u32::from(b[pos + 1]) << 8 | u32::from(b[pos + 2]);
            pos += 3;
            for i in 0..4 {
                b[out + i] = A[(v >> (18 - 6 * i) & 63) as usize];
            }
            out += 4;
        }
        let v = u32::from(b[30]) << 10 | u32::from(b[31]) << 2;
        for i in 0..3 {
            b[out + i] = A[(v >> (12 - 6 * i) & 63) as usize];
        }
        b
    }

    fn pair() -> (SasSecret, SasSecret) {
        let a = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [1; 32]));
        let b = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [2; 32]));
        (SasSecret::agree(&a, &b.public_key()).unwrap(), SasSecret::agree(&b, &a.public_key()).unwrap())
    }

    /// `HMAC-SHA-256(HKDF-SHA-256(no salt, shared, info, key_len), input)`, with the RustCrypto
    /// crates.
    fn reference_mac(s: &SasSecret, key_len: usize, input: &[u8], info: &[u8]) -> [u8; 32] {
        use hmac::{KeyInit, Mac};
        let mut key = vec![0u8; key_len];
        hkdf::Hkdf::<sha2::Sha256>::new(None, s.0.expose()).expand(info, &mut key).unwrap();
        let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        m.update(input);
        m.finalize().into_bytes().into()
    }

    #[test]
    fn both_sides_derive_the_same_bytes_and_macs_and_verify_only_them() {
        let (alice, bob) = pair();
        let (mut x, mut y) = ([0u8; 6], [0u8; 6]);
        alice.bytes_into(b"info", &mut x);
        bob.bytes_into(b"info", &mut y);
        assert_eq!(x, y);
        let mut want = [0u8; 6];
        hkdf::Hkdf::<sha2::Sha256>::new(None, alice.0.expose()).expand(b"info", &mut want).unwrap();
        assert_eq!(x, want);
        for (kind, key_len) in [(SasMacKind::Hkdf, 32), (SasMacKind::LongKdf, LONG_KDF_KEY_LENGTH)] {
            let mac = alice.mac(kind, b"input", b"info");
            assert_eq!(mac, reference_mac(&alice, key_len, b"input", b"info"), "{kind:?}");
            assert_eq!(bob.mac(kind, b"input", b"info"), mac);
            let b64 = alice.mac_in_place_base64(kind, b"input", b"info");
            assert_eq!(*b64, *libolm_in_place_base64(&mac));
            assert_eq!(b64.len(), ENCODED_MAC_LENGTH);
            // the right tag verifies; any other tag, input, info or construction does not
            assert!(bob.verify_mac(kind, b"input", b"info", &mac));
            assert!(bob.verify_in_place_base64(kind, b"input", b"info", b64.as_bytes()));
            let mut flipped = mac;
            flipped[31] ^= 1;
            assert!(!bob.verify_mac(kind, b"input", b"info", &flipped));
            assert!(!bob.verify_mac(kind, b"other", b"info", &mac));
            assert!(!bob.verify_mac(kind, b"input", b"other", &mac));
            let mut b64_flipped = b64.as_bytes().to_vec();
            b64_flipped[42] ^= 1;
            assert!(!bob.verify_in_place_base64(kind, b"input", b"info", &b64_flipped));
            assert!(!bob.verify_in_place_base64(kind, b"input", b"info", &b64.as_bytes()[..42]));
        }
        assert_ne!(alice.mac(SasMacKind::Hkdf, b"input", b"info"), alice.mac(SasMacKind::LongKdf, b"input", b"info"));
        let low_order = Curve25519PublicKey::from_bytes([0; 32]);
        let ours = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [1; 32]));
        assert_eq!(SasSecret::agree(&ours, &low_order).err(), Some(KeyError::NonContributory));
    }

    #[test]
    fn in_place_base64_matches_a_simulation_of_libolm() {
        for seed in 0u8..=255 {
            let mac: [u8; 32] = core::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add((i * 7) as u8));
            let got = libolm_in_place_base64(&mac);
            assert_eq!(got.as_bytes(), simulate(&mac));
            // the first group is read before anything is overwritten
            let true_b64 = crate::primitives::base64_encode(mac);
            assert_eq!(&got[..4], &true_b64[..4]);
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        assert_eq!(format!("{:?}", pair().0), "SasSecret(..)");
    }
}
