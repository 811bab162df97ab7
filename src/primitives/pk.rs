//! The cipher of libolm's `PkEncryption` (`m.megolm_backup.v1.curve25519-aes-sha2`), with the
//! quirks every deployed backup depends on:
//!
//! ```text
//! S        = X25519(ephemeral secret, recipient public)      (must be contributory)
//! okm      = HKDF-SHA-256(no salt, S, info = "", 80)
//! aes_key  = okm[0..32]   mac_key = okm[32..64]   iv = okm[64..80]
//! ct       = AES-256-CBC-PKCS7(aes_key, iv, plaintext)
//! mac      = HMAC-SHA-256(mac_key, "")[0..8]                 (the empty string, not ct)
//! ```
//!
//! The MAC covers nothing (libolm passed the MAC's 8-byte buffer length as the length of the
//! data to authenticate, after the data pointer had moved past it): it proves only that the
//! sender combined *some* ephemeral key with the recipient's. Decryption checks it anyway, on
//! any 1 to 32-byte prefix as vodozemac does, in constant time.

use super::cipher::{AesCbcKeys, aes256_cbc_decrypt, aes256_cbc_encrypt};
use super::ct::{ct_eq, reveal};
use super::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use super::kdf::HmacKey;
use crate::error::KeyError;

/// The MAC length libolm and vodozemac write (and libolm requires).
pub(crate) const PK_MAC_LENGTH: usize = 8;

/// Why a PK message did not decrypt (mapped to the public error by `crate::pk_encryption`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PkFailure {
    /// The ephemeral key has small order.
    Key(KeyError),
    /// The MAC is empty or longer than 32 bytes.
    MacLength(usize),
    /// The MAC is not a prefix of `HMAC(mac_key, "")`.
    Mac,
    /// The ciphertext is empty or not a whole number of AES blocks.
    CiphertextLength(usize),
    /// The last block's PKCS#7 padding is invalid.
    Padding,
}

/// The AES key, MAC key and IV of the message between `secret` and `public`.
fn keys(secret: &Curve25519SecretKey, public: &Curve25519PublicKey) -> Result<AesCbcKeys, KeyError> {
    let shared = secret.diffie_hellman(public)?;
    Ok(AesCbcKeys::derive(None, shared.expose(), b""))
}

/// Encrypts `plaintext` to `recipient` with the ephemeral secret `ephemeral`: the ciphertext
/// and the 8-byte MAC.
///
/// # Errors
/// [`KeyError::NonContributory`] when `recipient` has small order.
pub(crate) fn pk_encrypt(
    ephemeral: &Curve25519SecretKey,
    recipient: &Curve25519PublicKey,
    plaintext: &[u8],
) -> Result<(Vec<u8>, [u8; PK_MAC_LENGTH]), KeyError> {
    let k = keys(ephemeral, recipient)?;
    let ciphertext = aes256_cbc_encrypt(&k.aes_key, &k.iv, plaintext);
    let full = HmacKey::new(&k.mac_key).mac(&[]);
    let mut mac = [0u8; PK_MAC_LENGTH];
    mac.copy_from_slice(&full.expose()[..PK_MAC_LENGTH]);
    Ok((ciphertext, mac))
}

/// Decrypts a message sent to `secret`'s public key under the ephemeral key `ephemeral`. The
/// MAC is checked first (constant time for its length), then the length, then the padding.
///
/// # Errors
/// A [`PkFailure`] saying which check failed.
pub(crate) fn pk_decrypt(
    secret: &Curve25519SecretKey,
    ephemeral: &Curve25519PublicKey,
    ciphertext: &[u8],
    mac: &[u8],
) -> Result<Vec<u8>, PkFailure> {
    if mac.is_empty() || mac.len() > 32 {
        return Err(PkFailure::MacLength(mac.len()));
    }
    let k = keys(secret, ephemeral).map_err(PkFailure::Key)?;
    let full = HmacKey::new(&k.mac_key).mac(&[]);
    if !reveal(ct_eq(&full.expose()[..mac.len()], mac)) {
        return Err(PkFailure::Mac);
    }
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return Err(PkFailure::CiphertextLength(ciphertext.len()));
    }
    aes256_cbc_decrypt(&k.aes_key, &k.iv, ciphertext).ok_or(PkFailure::Padding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::SecretBytes;

    fn key(i: u8) -> Curve25519SecretKey {
        Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [i; 32]))
    }

    #[test]
    fn decryption_checks_the_mac_prefix_then_the_length_then_the_padding() {
        let (recipient, ephemeral) = (key(1), key(2));
        let (r, e) = (recipient.public_key(), ephemeral.public_key());
        let (ct, mac) = pk_encrypt(&ephemeral, &r, b"a backed-up room key").unwrap();
        assert_eq!(pk_decrypt(&recipient, &e, &ct, &mac).unwrap(), b"a backed-up room key");
        // any prefix of HMAC(mac_key, "") from 1 to 32 bytes, nothing shorter or longer
        let full = HmacKey::new(&keys(&recipient, &e).unwrap().mac_key).mac(&[]);
        assert_eq!(full.expose()[..PK_MAC_LENGTH], mac);
        for len in [1, 8, 31, 32] {
            assert!(pk_decrypt(&recipient, &e, &ct, &full.expose()[..len]).is_ok(), "{len}");
        }
        let mut long = full.expose().to_vec();
        long.push(0);
        assert_eq!(pk_decrypt(&recipient, &e, &ct, &long), Err(PkFailure::MacLength(33)));
        assert_eq!(pk_decrypt(&recipient, &e, &ct, &[]), Err(PkFailure::MacLength(0)));
        let mut wrong = mac;
        wrong[7] ^= 1;
        assert_eq!(pk_decrypt(&recipient, &e, &ct, &wrong), Err(PkFailure::Mac));
        // the MAC does not cover the ciphertext: its length and padding are checked after it
        assert_eq!(pk_decrypt(&recipient, &e, &[], &mac), Err(PkFailure::CiphertextLength(0)));
        assert_eq!(pk_decrypt(&recipient, &e, &ct[..ct.len() - 1], &mac), Err(PkFailure::CiphertextLength(31)));
        assert_eq!(pk_decrypt(&recipient, &e, &ct[..16], &mac), Err(PkFailure::Padding));
        // small-order keys, either way
        let zero = Curve25519PublicKey::from_bytes([0; 32]);
        assert_eq!(pk_decrypt(&recipient, &zero, &ct, &mac), Err(PkFailure::Key(KeyError::NonContributory)));
        assert_eq!(pk_encrypt(&ephemeral, &zero, b"x").err(), Some(KeyError::NonContributory));
    }
}
