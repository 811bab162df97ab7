//! The symmetric ciphers of libsignal's sealed sender, and the iterated hash of its safety
//! numbers.
//!
//! * Sealed sender v1: AES-256-CTR with an all-zero initial counter block (a 128-bit big-endian
//!   counter; every key encrypts exactly one message), then `HMAC-SHA-256(mac_key, ciphertext)`
//!   truncated to 10 bytes and appended. Decryption checks the MAC, in constant time, before it
//!   touches the ciphertext.
//! * Sealed sender v2: AES-256-GCM-SIV (RFC 8452) with the all-zero 12-byte nonce and no
//!   associated data (the key is used once), the 16-byte tag appended.
//! * Safety numbers: `SHA-512` iterated over `hash ‖ key`.

use aes::Aes256;
use aes_gcm_siv::aead::{AeadInOut, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce, Tag};
use ctr::cipher::{KeyIvInit, StreamCipher};
use sha2::{Digest, Sha512};
use zeroize::Zeroize;

use super::ct::{ct_eq, reveal};
use super::kdf::HmacKey;

/// Length of the truncated HMAC of sealed sender v1.
pub(crate) const CTR_HMAC_TAG_LEN: usize = 10;
/// Length of the AES-GCM-SIV tag.
pub(crate) const GCM_SIV_TAG_LEN: usize = 16;

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

// Not inlined: the constant-time check (benches/ctgrind) declassifies only the branch on the
// tag's verdict in `aes256_ctr_hmac_decrypt` itself, by frame.
#[inline(never)]
fn ctr_apply(key: &[u8; 32], data: &mut [u8]) {
    let mut cipher = Aes256Ctr::new(key.into(), &[0u8; 16].into());
    cipher.apply_keystream(data);
}

/// `AES-256-CTR(cipher_key, zero IV, plaintext) ‖ HMAC-SHA-256(mac_key, ciphertext)[..10]`.
pub(crate) fn aes256_ctr_hmac_encrypt(cipher_key: &[u8; 32], mac_key: &[u8; 32], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext.len() + CTR_HMAC_TAG_LEN);
    out.extend_from_slice(plaintext);
    ctr_apply(cipher_key, &mut out);
    let mut tag = [0u8; 32];
    HmacKey::new(mac_key).mac_into(&[&out], &mut tag);
    out.extend_from_slice(&tag[..CTR_HMAC_TAG_LEN]);
    out
}

/// The inverse of [`aes256_ctr_hmac_encrypt`]; `None` when the input is shorter than the tag or
/// the tag does not verify (checked in constant time, before decryption).
pub(crate) fn aes256_ctr_hmac_decrypt(cipher_key: &[u8; 32], mac_key: &[u8; 32], data: &[u8]) -> Option<Vec<u8>> {
    let body_len = data.len().checked_sub(CTR_HMAC_TAG_LEN)?;
    let (body, tag) = data.split_at(body_len);
    // Whether the tag verified is public (the caller learns it from the result): the one
    // reviewed branch on it is `ct::reveal`'s.
    if !reveal(ctr_hmac_tag_ok(mac_key, body, tag)) {
        return None;
    }
    let mut out = body.to_vec();
    ctr_apply(cipher_key, &mut out);
    Some(out)
}

/// The truncated HMAC of sealed sender v1, recomputed and compared in constant time.
#[inline(never)]
fn ctr_hmac_tag_ok(mac_key: &[u8; 32], body: &[u8], tag: &[u8]) -> bool {
    let mut want = [0u8; 32];
    HmacKey::new(mac_key).mac_into(&[body], &mut want);
    let ok = ct_eq(&want[..CTR_HMAC_TAG_LEN], tag);
    want.zeroize();
    ok
}

/// AES-256-GCM-SIV with the zero nonce and no associated data; the tag is appended.
pub(crate) fn aes256_gcm_siv_encrypt(key: &[u8; 32], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext.len() + GCM_SIV_TAG_LEN);
    out.extend_from_slice(plaintext);
    // AES-GCM-SIV refuses only plaintexts over 2^36 bytes; every caller is bounded far below.
    #[allow(clippy::expect_used)]
    let tag = Aes256GcmSiv::new(key.into())
        .encrypt_inout_detached(&Nonce::default(), &[], out.as_mut_slice().into())
        .expect("sealed sender contents are far below AES-GCM-SIV's length limit");
    out.extend_from_slice(&tag);
    out
}

/// The inverse of [`aes256_gcm_siv_encrypt`]; `None` when the tag does not verify.
pub(crate) fn aes256_gcm_siv_decrypt(key: &[u8; 32], data: &[u8]) -> Option<Vec<u8>> {
    let body_len = data.len().checked_sub(GCM_SIV_TAG_LEN)?;
    let (body, tag) = data.split_at(body_len);
    let tag = Tag::try_from(tag).ok()?;
    let mut out = body.to_vec();
    match Aes256GcmSiv::new(key.into()).decrypt_inout_detached(&Nonce::default(), &[], out.as_mut_slice().into(), &tag)
    {
        Ok(()) => Some(out),
        Err(_) => {
            // The buffer holds unauthenticated keystream-decrypted bytes: wipe them.
            out.zeroize();
            None
        }
    }
}

/// libsignal's fingerprint hash: `h = SHA-512(version(2) ‖ key ‖ id ‖ key)`, then
/// `iterations − 1` times `h = SHA-512(h ‖ key)`. Public data only.
pub(crate) fn fingerprint_hash(iterations: u32, version: [u8; 2], key: &[u8], id: &[u8]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(version);
    h.update(key);
    h.update(id);
    h.update(key);
    let mut out: [u8; 64] = h.finalize().into();
    for _ in 1..iterations {
        let mut h = Sha512::new();
        h.update(out);
        h.update(key);
        out = h.finalize().into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctr_hmac_round_trip_and_tamper() {
        let (k, m) = ([1u8; 32], [2u8; 32]);
        for len in [0usize, 1, 15, 16, 17, 100] {
            let pt: Vec<u8> = (0..len as u8).collect();
            let ct = aes256_ctr_hmac_encrypt(&k, &m, &pt);
            assert_eq!(ct.len(), len + 10);
            assert_eq!(aes256_ctr_hmac_decrypt(&k, &m, &ct).unwrap(), pt);
            for i in 0..ct.len() {
                let mut bad = ct.clone();
                bad[i] ^= 1;
                assert!(aes256_ctr_hmac_decrypt(&k, &m, &bad).is_none());
            }
        }
        assert!(aes256_ctr_hmac_decrypt(&k, &m, &[0; 9]).is_none());
    }

    #[test]
    fn ctr_matches_the_nist_keystream() {
        // AES-256 of the zero block under the SP 800-38A F.5.5 key is the first keystream block
        // of CTR with a zero counter; libsignal's own test uses this key with a zero IV.
        let key: [u8; 32] = hex::decode("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4")
            .unwrap()
            .try_into()
            .unwrap();
        let mut data = [0u8; 35];
        ctr_apply(&key, &mut data);
        assert_eq!(hex::encode(data), "e568f68194cf76d6174d4cc04310a85491151e5d0b7a1f1bc0d7acd0ae3e51e4170e23");
    }

    #[test]
    fn gcm_siv_round_trip_and_tamper() {
        // Known answers come from libsignal (test-vectors/interolm/sealed_sender_*.json).
        let key = [9u8; 32];
        let ct = aes256_gcm_siv_encrypt(&key, b"sealed");
        assert_eq!(ct.len(), 6 + 16);
        assert_eq!(aes256_gcm_siv_decrypt(&key, &ct).unwrap(), b"sealed");
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x80;
            assert!(aes256_gcm_siv_decrypt(&key, &bad).is_none());
        }
        assert!(aes256_gcm_siv_decrypt(&key, &ct[..15]).is_none());
    }
}
