//! The error of vodozemac's (private) pickle cipher, which its public errors carry.

use aes::cipher::block_padding::Error as UnpadError;
use hmac::digest::MacError;

/// A pickle or a libolm pickle did not decrypt.
#[derive(Debug, thiserror::Error)]
#[allow(unreachable_pub)]
pub enum DecryptionError {
    /// The plaintext's padding is invalid (after a valid MAC).
    #[error("Failed decrypting, invalid padding")]
    InvalidPadding(#[from] UnpadError),
    /// The MAC does not verify: a wrong key, or a modified pickle.
    #[error("The MAC of the ciphertext didn't pass validation {0}")]
    Mac(#[from] MacError),
    /// The ciphertext is too short to hold a MAC.
    #[error("The ciphertext didn't contain a valid MAC")]
    MacMissing,
}
