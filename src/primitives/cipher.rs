//! AES-256-CBC with PKCS#7 padding. `aes` uses AES-NI where the CPU has it and a bitsliced
//! (table-free) software implementation elsewhere, so neither leaks through cache timing.

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::kdf::hkdf_sha256;

/// The 80 bytes `AES key (32) ‖ MAC key (32) ‖ IV (16)` that Olm, Megolm, libolm pickles and
/// the Signal dialect all derive with HKDF-SHA-256.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct AesCbcKeys {
    pub(crate) aes_key: [u8; 32],
    pub(crate) mac_key: [u8; 32],
    pub(crate) iv: [u8; 16],
}

impl AesCbcKeys {
    /// `HKDF(salt, ikm, info, 80)` split as key, MAC key, IV.
    pub(crate) fn derive(salt: Option<&[u8]>, ikm: &[u8], info: &[u8]) -> Self {
        let mut okm = [0u8; 80];
        hkdf_sha256(salt, ikm, info, &mut okm);
        let mut k = Self { aes_key: [0; 32], mac_key: [0; 32], iv: [0; 16] };
        k.aes_key.copy_from_slice(&okm[..32]);
        k.mac_key.copy_from_slice(&okm[32..64]);
        k.iv.copy_from_slice(&okm[64..80]);
        okm.zeroize();
        k
    }
}

impl core::fmt::Debug for AesCbcKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AesCbcKeys(..)")
    }
}

/// AES-256-CBC encryption with PKCS#7 padding.
pub(crate) fn aes256_cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext)
}

/// AES-256-CBC decryption; `None` when the length or the padding is wrong. Callers check a MAC
/// over the ciphertext first, so a padding failure is not an oracle.
pub(crate) fn aes256_cbc_decrypt(key: &[u8; 32], iv: &[u8; 16], ciphertext: &[u8]) -> Option<Vec<u8>> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return None;
    }
    cbc::Decryptor::<Aes256>::new(key.into(), iv.into()).decrypt_padded_vec::<Pkcs7>(ciphertext).ok()
}
