//! Layer 1: the only code that touches raw secret bytes and the cryptographic crates.
//!
//! Everything secret in here zeroizes on drop, has a hand-written `Debug` that prints nothing
//! secret, and is compared only in constant time.

/// The byte-level API of a 64-byte signature newtype (`Self([u8; 64])`): its length, building
/// it from bytes, a slice or base64 (nothing is checked before verification), and its bytes
/// and base64 back. Expands inside the type's `impl` block (`ed25519`, `xeddsa`).
macro_rules! signature_bytes {
    () => {
        /// Length in bytes.
        pub const LENGTH: usize = 64;

        /// From 64 bytes (checked only when verified).
        pub const fn from_bytes(bytes: [u8; 64]) -> Self {
            Self(bytes)
        }

        /// From a slice of exactly 64 bytes.
        ///
        /// # Errors
        /// [`KeyError::InvalidLength`](crate::KeyError::InvalidLength) for any other length.
        pub fn from_slice(bytes: &[u8]) -> Result<Self, $crate::error::KeyError> {
            let arr: [u8; 64] = bytes
                .try_into()
                .map_err(|_| $crate::error::KeyError::InvalidLength { expected: 64, got: bytes.len() })?;
            Ok(Self(arr))
        }

        /// From base64.
        ///
        /// # Errors
        /// [`KeyError::Base64`](crate::KeyError::Base64) or
        /// [`KeyError::InvalidLength`](crate::KeyError::InvalidLength).
        pub fn from_base64(input: &str) -> Result<Self, $crate::error::KeyError> {
            let bytes = $crate::primitives::base64_decode(input).map_err(|_| $crate::error::KeyError::Base64)?;
            Self::from_slice(&bytes)
        }

        /// Unpadded base64.
        pub fn to_base64(&self) -> String {
            $crate::primitives::base64_encode(self.0)
        }

        /// The 64 bytes.
        pub const fn to_bytes(&self) -> [u8; 64] {
            self.0
        }
    };
}

mod base64;
mod cipher;
mod ct;
mod curve25519;
mod ed25519;
mod kdf;
mod rng;
mod secret;
mod secret_vec;
#[cfg(feature = "serde")]
mod serde_shapes;
mod stack;
#[cfg(feature = "serde")]
pub(crate) use serde_shapes::{base64_decode_unpadded_secret, with as serde_with};

// The QR-login channels (MSC4108 ECIES, MSC4388 HPKE) and dehydrated devices: ChaCha20-Poly1305
// under raw keys, HKDF-SHA-512, and RFC 9180 HPKE for one suite.
mod aead;
mod hpke;
mod sha512;
pub(crate) use aead::{ChaChaKey, NONCE_LEN as CHACHA_NONCE_LEN, TAG_LEN as CHACHA_TAG_LEN};
pub(crate) use hpke::HpkeContext;
pub(crate) use sha512::HkdfSha512;

pub use base64::{Base64DecodeError, base64_decode, base64_encode};
#[allow(unused_imports)]
pub(crate) use base64::{base64_decode_padding_indifferent, base64_decode_secret, base64_encode_secret};
pub(crate) use cipher::{AesCbcKeys, aes256_cbc_decrypt, aes256_cbc_encrypt};
pub(crate) use ct::{ct_eq, reveal};
pub(crate) use curve25519::ContributoryKey;
pub use curve25519::{Curve25519PublicKey, Curve25519SecretKey, SharedSecret};
pub(crate) use ed25519::SecretForm as Ed25519SecretForm;
pub(crate) use ed25519::verify_batch as ed25519_verify_batch;
pub use ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};
pub(crate) use kdf::{HmacKey, hkdf_sha256, sha256};
pub use rng::{OsRandom, RandomSource};
pub use secret::SecretBytes;
pub(crate) use secret_vec::SecretVec;

// interolm (the Signal dialect): XEdDSA signatures with Curve25519 keys, and Kyber1024.
mod kyber;
mod xeddsa;
pub use kyber::{KYBER1024_KEY_TYPE, Kyber1024Ciphertext, Kyber1024PublicKey, Kyber1024SecretKey};
pub use xeddsa::XEdDsaSignature;

// interolm sealed sender (AES-CTR + HMAC, AES-GCM-SIV) and safety numbers (iterated SHA-512).
mod sealed;
pub(crate) use sealed::{
    GCM_SIV_TAG_LEN, aes256_ctr_hmac_decrypt, aes256_ctr_hmac_encrypt, aes256_gcm_siv_decrypt, aes256_gcm_siv_encrypt,
    fingerprint_hash,
};

// interolm SPQR: ML-KEM-768 with libcrux's incremental (split) encapsulation.
mod mlkem768;
pub(crate) use mlkem768::{
    MLKEM768_CT1_LEN, MLKEM768_CT2_LEN, MLKEM768_DK_LEN, MLKEM768_EK_VECTOR_LEN, MLKEM768_HEADER_LEN,
    MlKem768DecapsulationKey, mlkem768_encapsulate1, mlkem768_encapsulate2, mlkem768_validate_ek,
};

// Matrix parity: secret-key import/export and `Ed25519Keypair`, SAS secrets, the backup cipher.
mod keys;
mod pk;
mod sas;
pub use keys::Ed25519Keypair;
pub(crate) use pk::{PK_MAC_LENGTH, PkFailure, pk_decrypt, pk_encrypt};
pub(crate) use sas::{ENCODED_MAC_LENGTH, SAS_MAX_BYTES, SasMacKind, SasSecret};

#[cfg(test)]
mod tests {
    //! Known answers from libolm's own test suite (test-vectors/libolm-upstream.json).
    use super::*;

    fn v() -> serde_json::Value {
        serde_json::from_str(include_str!("../../test-vectors/libolm-upstream.json")).unwrap()
    }
    fn h(s: &serde_json::Value) -> Vec<u8> {
        hex::decode(s.as_str().unwrap()).unwrap()
    }

    #[test]
    fn curve25519_libolm_vector() {
        let v = &v()["vectors"]["curve25519"];
        let a = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_slice(&h(&v["alice_private"])).unwrap());
        let b = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_slice(&h(&v["bob_private"])).unwrap());
        assert_eq!(a.public_key().as_bytes().to_vec(), h(&v["alice_public"]));
        assert_eq!(b.public_key().as_bytes().to_vec(), h(&v["bob_public"]));
        assert_eq!(a.diffie_hellman(&b.public_key()).unwrap().expose().to_vec(), h(&v["shared"]));
        assert_eq!(b.diffie_hellman(&a.public_key()).unwrap().expose().to_vec(), h(&v["shared"]));
    }

    #[test]
    fn all_zero_and_small_order_keys_are_refused() {
        let a = Curve25519SecretKey::new();
        assert_eq!(a.diffie_hellman(&Curve25519PublicKey::from_bytes([0; 32])), Err(crate::KeyError::NonContributory));
        let mut one = [0u8; 32];
        one[0] = 1; // the point of order 4 with u = 1
        assert_eq!(a.diffie_hellman(&Curve25519PublicKey::from_bytes(one)), Err(crate::KeyError::NonContributory));
    }

    #[test]
    fn aes_libolm_vector() {
        let v = &v()["vectors"]["aes256_cbc_pkcs7"];
        let key: [u8; 32] = h(&v["key"]).try_into().unwrap();
        let iv: [u8; 16] = h(&v["iv"]).try_into().unwrap();
        let ct = aes256_cbc_encrypt(&key, &iv, &h(&v["plaintext"]));
        assert_eq!(ct, h(&v["ciphertext"]));
        assert_eq!(aes256_cbc_decrypt(&key, &iv, &ct).unwrap(), h(&v["plaintext"]));
        assert!(aes256_cbc_decrypt(&key, &iv, &ct[..16]).is_none(), "bad padding refused");
        assert!(aes256_cbc_decrypt(&key, &iv, &ct[..15]).is_none(), "bad length refused");
    }

    #[test]
    fn hash_hmac_hkdf_libolm_vectors() {
        let v = &v()["vectors"];
        assert_eq!(sha256(&[]).to_vec(), h(&v["sha256_empty"]));
        assert_eq!(HmacKey::new(&[]).mac(&[]).expose().to_vec(), h(&v["hmac_sha256_emptykey_emptymsg"]));
        let t = &v["hkdf_sha256_rfc5869_tc1"];
        let mut okm = vec![0u8; 42];
        hkdf_sha256(Some(&h(&t["salt"])), &h(&t["ikm"]), &h(&t["info"]), &mut okm);
        assert_eq!(okm, h(&t["okm"]));
        // a zero salt, an empty salt and no salt are the same HMAC key
        let (mut a, mut b, mut c) = ([0u8; 32], [0u8; 32], [0u8; 32]);
        hkdf_sha256(None, b"ikm", b"info", &mut a);
        hkdf_sha256(Some(&[0u8; 32]), b"ikm", b"info", &mut b);
        hkdf_sha256(Some(&[]), b"ikm", b"info", &mut c);
        assert_eq!((a, a), (b, c));
    }

    #[test]
    fn ed25519_seed_string_round_trip_and_strictness() {
        let v = &v()["vectors"]["ed25519_seed_string"];
        let seed = v["seed_ascii"].as_str().unwrap().as_bytes();
        let key = Ed25519SecretKey::from_seed(SecretBytes::from_slice(seed).unwrap());
        let msg = v["message"].as_str().unwrap().as_bytes();
        let sig = key.sign(msg);
        key.public_key().verify(msg, &sig).unwrap();
        // the expanded form signs identically (libolm pickles store only that form)
        let expanded = Ed25519SecretKey::from_expanded(key.expanded_bytes());
        assert_eq!(expanded.sign(msg), sig);
        assert_eq!(expanded.public_key(), key.public_key());
        // S + L (malleated signature) is refused
        let mut bad = sig.to_bytes();
        add_l(&mut bad[32..]);
        assert!(key.public_key().verify(msg, &Ed25519Signature::from_bytes(bad)).is_err());
    }

    /// Adds the group order L to a little-endian scalar in place.
    pub(crate) fn add_l(s: &mut [u8]) {
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let t = u16::from(s[i]) + u16::from(L[i]) + carry;
            s[i] = t as u8;
            carry = t >> 8;
        }
    }

    #[test]
    fn base64_round_trip_and_padding() {
        assert_eq!(base64_encode(b"ab"), "YWI");
        assert_eq!(base64_decode("YWI").unwrap(), b"ab");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert!(base64_decode("YW!").is_err());
        assert!(base64_decode("YWJ").is_err(), "non-canonical trailing bits refused");
    }
}
