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

/// SHA-256 of `message` (libolm's `olm_sha256` before base64).
pub fn sha256(message: &[u8]) -> [u8; 32] {
    primitives::sha256(&[message])
}

/// ⚠️ libolm's pickle cipher on raw bytes, before base64 (its `_olm_enc_output`):
/// `AES-256-CBC(raw) ‖ HMAC-SHA-256(ciphertext)[..8]`, keys and IV derived from `pickle_key`
/// with HKDF-SHA-256 (info `"Pickle"`). Equal inputs give equal outputs.
pub fn seal_libolm_pickle(raw: &[u8], pickle_key: &[u8]) -> Vec<u8> {
    crate::pickle::seal_libolm_pickle(raw, pickle_key)
}

/// ⚠️ The inverse of [`seal_libolm_pickle`] (libolm's `_olm_enc_input` after base64): the MAC
/// is checked before anything is decrypted.
///
/// # Errors
/// [`crate::PickleError::Truncated`] (under 8 bytes), [`crate::PickleError::Authentication`]
/// (wrong key, altered bytes), [`crate::PickleError::InvalidField`] (an authentic ciphertext
/// that does not decrypt).
pub fn open_libolm_pickle(sealed: &[u8], pickle_key: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, crate::PickleError> {
    crate::pickle::open_libolm_pickle(sealed, pickle_key)
}

/// The length libolm gives to the base64 of `raw_length` bytes (unpadded).
pub const fn libolm_base64_encoded_length(raw_length: usize) -> usize {
    4 * raw_length.div_ceil(3) - (3 - raw_length % 3) % 3
}

/// The length libolm decodes `encoded_length` base64 characters to, or `None` when the length
/// leaves one character over (the only base64 error libolm detects).
pub const fn libolm_base64_decoded_length(encoded_length: usize) -> Option<usize> {
    if encoded_length % 4 == 1 { None } else { Some(encoded_length / 4 * 3 + (encoded_length % 4).saturating_sub(1)) }
}

/// ⚠️ Decodes base64 exactly as libolm 3.2.16 does, in place: the first
/// [`libolm_base64_decoded_length`] bytes of `buffer` receive the result.
///
/// libolm checks only the length: it ignores the top bit of every character, decodes
/// characters outside the alphabet to a fixed bit pattern that spills into the neighbouring
/// bits, and ignores the unused bits of the last character. Messages, keys and pickles read
/// through libolm's C interface are decoded this way so that the same bytes are accepted and
/// the same errors result; the values decoded are public (ciphertexts, public keys, MACs).
///
/// Returns `None` (and changes nothing) when the length leaves one character over.
pub fn libolm_base64_decode_in_place(buffer: &mut [u8]) -> Option<usize> {
    let out_len = libolm_base64_decoded_length(buffer.len())?;
    // libolm's table: 0xFF for every byte outside the alphabet (`&` 0x7F first).
    fn value(c: u8) -> u32 {
        match c & 0x7F {
            c @ b'A'..=b'Z' => u32::from(c - b'A'),
            c @ b'a'..=b'z' => u32::from(c - b'a') + 26,
            c @ b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => 0xFF,
        }
    }
    let full = buffer.len() / 4;
    for g in 0..full {
        let i = g * 4;
        let mut v = value(buffer[i]);
        v = (v << 6) | value(buffer[i + 1]);
        v = (v << 6) | value(buffer[i + 2]);
        v = (v << 6) | value(buffer[i + 3]);
        // the group's three bytes land at or before its four characters
        let o = g * 3;
        buffer[o] = (v >> 16) as u8;
        buffer[o + 1] = (v >> 8) as u8;
        buffer[o + 2] = v as u8;
    }
    let rem = buffer.len() % 4;
    if rem >= 2 {
        let i = full * 4;
        let o = full * 3;
        let mut v = (value(buffer[i]) << 6) | value(buffer[i + 1]);
        if rem == 3 {
            v = (v << 6) | value(buffer[i + 2]);
            v >>= 2;
            buffer[o + 1] = v as u8;
            v >>= 8;
        } else {
            v >>= 4;
        }
        buffer[o] = v as u8;
    }
    Some(out_len)
}

/// [`libolm_base64_decode_in_place`] into a new buffer.
pub fn libolm_base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut buf = input.to_vec();
    let n = libolm_base64_decode_in_place(&mut buf)?;
    buf.truncate(n);
    Some(buf)
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
