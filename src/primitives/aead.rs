//! ChaCha20-Poly1305 (RFC 8439) under a raw 32-byte key, for the protocols whose keys come from
//! elsewhere: the QR-login channels (ECIES, HPKE) and dehydrated devices (the key is the
//! caller's). caudata's own pickles derive their key first (`pickle/envelope.rs`).
//!
//! The tag is appended to the ciphertext (16 bytes). Opening checks the tag (in constant time,
//! inside `chacha20poly1305`) before anything is decrypted, so a failed open reveals nothing and
//! leaves no plaintext behind.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

use super::secret::SecretBytes;

/// The length of a Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;
/// The length of a ChaCha20-Poly1305 nonce.
pub(crate) const NONCE_LEN: usize = 12;

/// A ChaCha20-Poly1305 key, wiped on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ChaChaKey(SecretBytes<32>);

impl ChaChaKey {
    pub(crate) fn new(key: SecretBytes<32>) -> Self {
        Self(key)
    }

    /// Overwrites the key with zeros in place.
    pub(crate) fn wipe(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }

    /// From the caller's 32 bytes (a dehydration key): copied into zeroizing storage.
    pub(crate) fn from_array(key: &[u8; 32]) -> Self {
        let mut copy = *key;
        Self(SecretBytes::from_array(&mut copy))
    }

    /// The key bytes (known-answer tests only).
    #[cfg(test)]
    pub(crate) fn expose_for_testing(&self) -> &[u8; 32] {
        self.0.expose()
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        // With the `zeroize` feature the cipher wipes its copy of the key when dropped.
        ChaCha20Poly1305::new(self.0.expose().into())
    }

    /// `ciphertext ‖ tag`. `None` only for a plaintext beyond ChaCha20-Poly1305's limit (about
    /// 256 GiB).
    pub(crate) fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        // Sized exactly: the plaintext copied in is never left behind by a reallocation, and
        // it is encrypted in place at once.
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        match self.cipher().encrypt_inout_detached(&Nonce::from(*nonce), aad, out.as_mut_slice().into()) {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Some(out)
            }
            Err(_) => {
                zeroize::Zeroize::zeroize(&mut out);
                None
            }
        }
    }

    /// Checks the tag of `ciphertext ‖ tag`, then decrypts. `None` when the tag does not verify
    /// (wrong key, nonce or associated data, or modified bytes) or the input is shorter than a
    /// tag. The plaintext is returned in a buffer that is wiped when dropped.
    pub(crate) fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let ct_len = sealed.len().checked_sub(TAG_LEN)?;
        let (ct, tag) = sealed.split_at(ct_len);
        let tag = Tag::try_from(tag).ok()?;
        let mut body = Zeroizing::new(ct.to_vec());
        self.cipher().decrypt_inout_detached(&Nonce::from(*nonce), aad, body.as_mut_slice().into(), &tag).ok()?;
        Some(body)
    }
}

impl core::fmt::Debug for ChaChaKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ChaChaKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8439 §2.8.2: the AEAD test vector.
    #[test]
    fn rfc8439_aead_vector() {
        let key: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
        let nonce = [0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47];
        let aad = hex::decode("50515253c0c1c2c3c4c5c6c7").unwrap();
        let pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let sealed = ChaChaKey::from_array(&key).seal(&nonce, &aad, pt).unwrap();
        let want_ct = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116";
        assert_eq!(hex::encode(&sealed[..pt.len()]), want_ct);
        assert_eq!(hex::encode(&sealed[pt.len()..]), "1ae10b594f09e26a7e902ecbd0600691");
        let key = ChaChaKey::from_array(&key);
        assert_eq!(&key.open(&nonce, &aad, &sealed).unwrap()[..], pt);
        // every single-bit flip, a wrong nonce, wrong AAD and truncation are refused
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(key.open(&nonce, &aad, &bad).is_none(), "byte {i}");
        }
        let mut other_nonce = nonce;
        other_nonce[11] ^= 1;
        assert!(key.open(&other_nonce, &aad, &sealed).is_none());
        assert!(key.open(&nonce, b"", &sealed).is_none());
        assert!(key.open(&nonce, &aad, &sealed[..15]).is_none());
        assert!(key.open(&nonce, &aad, &[]).is_none());
    }

    #[test]
    fn wipe_overwrites_the_key_in_place() {
        let mut key = ChaChaKey::from_array(&[0x5a; 32]);
        let sealed = key.seal(&[0; NONCE_LEN], b"", b"secret").unwrap();
        key.wipe();
        assert_eq!(*key.expose_for_testing(), [0; 32]);
        assert!(key.open(&[0; NONCE_LEN], b"", &sealed).is_none());
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", ChaChaKey::from_array(&[1; 32])), "ChaChaKey(..)");
    }
}
