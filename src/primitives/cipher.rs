//! AES-256-CBC with PKCS#7 padding. `aes` uses AES-NI where the CPU has it and a bitsliced
//! (table-free) software implementation elsewhere, so neither leaks through cache timing.

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding, block_padding::Pkcs7};
use subtle::{ConstantTimeEq, ConstantTimeGreater, ConstantTimeLess};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::ct::reveal;
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

/// AES-256-CBC decryption; `None` when the length or the padding is wrong. Olm, Megolm and the
/// pickles check a MAC over the ciphertext first, so a padding failure is not an oracle there;
/// key backup's MAC covers nothing, so there it is the protocol's own (see SPEC.md). Either way
/// the padding is checked in constant time, and only its outcome (valid or not, and its length,
/// which the plaintext's length shows) becomes control flow; a failed decryption is wiped. The
/// stack the cipher used is overwritten afterwards, as for [`aes256_cbc_encrypt`].
pub(crate) fn aes256_cbc_decrypt(key: &[u8; 32], iv: &[u8; 16], ciphertext: &[u8]) -> Option<Vec<u8>> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return None;
    }
    let mut out = scrubbed::<_, AES_SCRUB>(|| {
        cbc::Decryptor::<Aes256>::new(key.into(), iv.into()).decrypt_padded_vec::<NoPadding>(ciphertext).ok()
    })?;
    let last: &[u8; 16] = out.last_chunk()?;
    match pkcs7_padding_length(last) {
        Some(pad) => {
            out.truncate(out.len() - pad);
            Some(out)
        }
        None => {
            out.zeroize();
            None
        }
    }
}

/// The length (1 to 16) of the PKCS#7 padding that ends `block`, or `None` if it is not valid
/// padding. Every byte is examined whatever its value; the verdict and the length pass through
/// [`reveal`] (the length by comparison with each candidate), the only branches on the data.
fn pkcs7_padding_length(block: &[u8; 16]) -> Option<usize> {
    let n = block[15];
    let mut valid = !n.ct_eq(&0) & !n.ct_gt(&16);
    for (distance, b) in (0u8..).zip(block.iter().rev()) {
        // bytes within the last `n` must all equal `n`
        valid &= !distance.ct_lt(&n) | b.ct_eq(&n);
    }
    if !reveal(valid.into()) {
        return None;
    }
    (1..=16u8).find(|&len| reveal(n.ct_eq(&len).into())).map(usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_check_agrees_with_pkcs7_for_every_last_byte_and_position() {
        let key = [3u8; 32];
        let iv = [4u8; 16];
        // every valid padding length: round trip, and the `cbc` crate's own unpadding agrees
        for len in 0..48 {
            let pt: Vec<u8> = (0..len as u8).collect();
            let ct = aes256_cbc_encrypt(&key, &iv, &pt);
            assert_eq!(aes256_cbc_decrypt(&key, &iv, &ct).unwrap(), pt);
        }
        // every last block: the padding is valid exactly when PKCS#7 says so
        let reference = |block: &[u8; 16]| -> Option<usize> {
            let n = usize::from(block[15]);
            (1..=16).contains(&n).then_some(n).filter(|&n| block[16 - n..].iter().all(|&b| usize::from(b) == n))
        };
        let mut checked = 0;
        for n in 0..=255u8 {
            for wrong_at in [None, Some(0usize), Some(1), Some(7), Some(14), Some(15)] {
                let mut block = [n; 16];
                if let Some(i) = wrong_at {
                    block[i] ^= 0x01;
                }
                block[15] = n;
                assert_eq!(pkcs7_padding_length(&block), reference(&block), "{block:?}");
                checked += usize::from(reference(&block).is_some());
            }
        }
        assert!(checked > 16, "valid paddings were exercised");
    }

    #[test]
    fn debug_hides_the_keys() {
        assert_eq!(format!("{:?}", AesCbcKeys::derive(None, b"k", b"i")), "AesCbcKeys(..)");
    }
}
