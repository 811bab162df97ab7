//! ChaCha20-Poly1305 (RFC 8439), the AEAD of caudata's own pickle envelope: the one wrapper
//! around the `chacha20poly1305` crate, so that the envelope and the Wycheproof vectors
//! (`tests/wycheproof.rs`, through `caudata::hazmat`) run the same code.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};

use super::secret::SecretBytes;

/// Nonce length.
pub(crate) const CHACHA20POLY1305_NONCE_LEN: usize = 12;
/// Tag length.
pub(crate) const CHACHA20POLY1305_TAG_LEN: usize = 16;

/// Encrypts `buf` in place under `key` and `nonce`, authenticating `aad` too; returns the tag,
/// or `None` for a plaintext over ChaCha20-Poly1305's limit (about 256 GiB).
pub(crate) fn chacha20poly1305_seal(
    key: &SecretBytes<32>,
    nonce: &[u8; CHACHA20POLY1305_NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Option<[u8; CHACHA20POLY1305_TAG_LEN]> {
    let tag = ChaCha20Poly1305::new(key.expose().into())
        .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into())
        .ok()?;
    Some(tag.into())
}

/// Checks `tag` over `aad` and the ciphertext in `buf` (in constant time, inside the crate), then
/// decrypts `buf` in place; whether the tag verified (the crate checks it before decrypting).
#[must_use]
pub(crate) fn chacha20poly1305_open(
    key: &SecretBytes<32>,
    nonce: &[u8; CHACHA20POLY1305_NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; CHACHA20POLY1305_TAG_LEN],
) -> bool {
    ChaCha20Poly1305::new(key.expose().into())
        .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into(), &Tag::from(*tag))
        .is_ok()
}
