//! AES-256-CBC with PKCS#7 padding. `aes` uses AES-NI where the CPU has it and a bitsliced
//! (table-free) software implementation elsewhere, so neither leaks through cache timing.

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::kdf::hkdf_sha256;
use super::secret::SecretBytes;
use super::stack::{AES_SCRUB, scrubbed};

/// The 80 bytes `AES key (32) ‖ MAC key (32) ‖ IV (16)` that Olm, Megolm, libolm pickles and
/// the Signal dialect all derive with HKDF-SHA-256. Boxed (HKDF writes straight into the heap), so
/// that moving the keys moves a pointer and leaves no copy on the stack; wiped on drop.
pub(crate) struct AesCbcKeys(Box<Keys>);

/// The three parts of [`AesCbcKeys`], reached through it.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Keys {
    pub(crate) aes_key: [u8; 32],
    pub(crate) mac_key: [u8; 32],
    pub(crate) iv: [u8; 16],
}

impl AesCbcKeys {
    /// `HKDF(salt, ikm, info, 80)` split as key, MAC key, IV.
    pub(crate) fn derive(salt: Option<&[u8]>, ikm: &[u8], info: &[u8]) -> Self {
        let mut okm = SecretBytes::<80>::zero();
        hkdf_sha256(salt, ikm, info, okm.expose_mut());
        let mut k = Box::new(Keys { aes_key: [0; 32], mac_key: [0; 32], iv: [0; 16] });
        let o = okm.expose();
        k.aes_key.copy_from_slice(&o[..32]);
        k.mac_key.copy_from_slice(&o[32..64]);
        k.iv.copy_from_slice(&o[64..80]);
        Self(k)
    }
}

impl core::ops::Deref for AesCbcKeys {
    type Target = Keys;
    fn deref(&self) -> &Keys {
        &self.0
    }
}

impl core::fmt::Debug for AesCbcKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AesCbcKeys(..)")
    }
}

/// AES-256-CBC encryption with PKCS#7 padding. The `aes` crate wipes its key schedule when
/// dropped (feature `zeroize`), but `cbc` builds the cipher and moves it by value, and each move
/// leaves a copy of the round keys (which begin with the AES key itself) on the stack: that
/// region is overwritten afterwards ([`scrubbed`], about 0.3 µs).
pub(crate) fn aes256_cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    scrubbed::<_, AES_SCRUB>(|| {
        cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext)
    })
}

/// AES-256-CBC decryption; `None` when the length or the padding is wrong. Callers check a MAC
/// over the ciphertext first, so a padding failure is not an oracle. The stack the cipher used
/// is overwritten afterwards, as for [`aes256_cbc_encrypt`].
pub(crate) fn aes256_cbc_decrypt(key: &[u8; 32], iv: &[u8; 16], ciphertext: &[u8]) -> Option<Vec<u8>> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return None;
    }
    scrubbed::<_, AES_SCRUB>(|| {
        cbc::Decryptor::<Aes256>::new(key.into(), iv.into()).decrypt_padded_vec::<Pkcs7>(ciphertext).ok()
    })
}
