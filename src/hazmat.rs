//! ⚠️ Low-level building blocks, exposed only with the `hazmat` feature for known-answer tests,
//! fuzzers, benchmarks (the primitive floor) and the constant-time check. Applications never need
//! them, and misusing them (reusing an IV, skipping a MAC check) breaks the protocols' security.

use crate::primitives::{self, HmacKey};

/// Constant-time equality of two byte strings (time depends only on the lengths).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    primitives::ct_eq(a, b)
}

/// HMAC-SHA-256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    *HmacKey::new(key).mac(&[message]).expose()
}

/// HKDF-SHA-256 (`salt` `None` means 32 zero bytes).
pub fn hkdf_sha256(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], out: &mut [u8]) {
    primitives::hkdf_sha256(salt, ikm, info, out)
}

/// AES-256-CBC with PKCS#7 padding.
pub fn aes256_cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    primitives::aes256_cbc_encrypt(key, iv, plaintext)
}

/// AES-256-CBC decryption; `None` for a bad length or padding.
pub fn aes256_cbc_decrypt(key: &[u8; 32], iv: &[u8; 16], ciphertext: &[u8]) -> Option<Vec<u8>> {
    primitives::aes256_cbc_decrypt(key, iv, ciphertext)
}

/// Verifies a (possibly truncated) HMAC-SHA-256 tag the way every caudata decrypt does:
/// recompute, then compare in constant time.
pub fn verify_hmac_sha256(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    let full = HmacKey::new(key).mac(&[message]);
    tag.len() <= 32 && primitives::ct_eq(&full.expose()[..tag.len()], tag)
}

/// Sealed sender v1's cipher, opened: AES-256-CTR (zero IV) after a constant-time check of the
/// 10-byte truncated HMAC-SHA-256; `None` when the tag does not verify.
pub fn aes256_ctr_hmac_decrypt(cipher_key: &[u8; 32], mac_key: &[u8; 32], data: &[u8]) -> Option<Vec<u8>> {
    primitives::aes256_ctr_hmac_decrypt(cipher_key, mac_key, data)
}

/// Sealed sender v2's cipher, opened: AES-256-GCM-SIV with the zero nonce and no associated
/// data; `None` when the tag does not verify.
pub fn aes256_gcm_siv_decrypt(key: &[u8; 32], data: &[u8]) -> Option<Vec<u8>> {
    primitives::aes256_gcm_siv_decrypt(key, data)
}

/// Sealed sender v1's cipher (see [`aes256_ctr_hmac_decrypt`]).
pub fn aes256_ctr_hmac_encrypt(cipher_key: &[u8; 32], mac_key: &[u8; 32], plaintext: &[u8]) -> Vec<u8> {
    primitives::aes256_ctr_hmac_encrypt(cipher_key, mac_key, plaintext)
}

/// Sealed sender v2's cipher (see [`aes256_gcm_siv_decrypt`]).
pub fn aes256_gcm_siv_encrypt(key: &[u8; 32], plaintext: &[u8]) -> Vec<u8> {
    primitives::aes256_gcm_siv_encrypt(key, plaintext)
}
