//! libolm's public-key encryption as Matrix key backup uses it
//! (`m.megolm_backup.v1.curve25519-aes-sha2`), byte-compatible with libolm 3.2.16
//! (`olm_pk_*`) and vodozemac 0.11.1 (`vodozemac::pk_encryption`).
//!
//! ⚠️ The scheme does not authenticate the ciphertext: its MAC is libolm's HMAC of the *empty
//! string* (a bug every deployed backup now depends on; the Matrix spec documents it). Whoever
//! can write to the backup can replace a message with one of their own, or flip bits in a
//! ciphertext block (garbling that block and flipping the same bits in the next). Treat what
//! a backup decrypts to as unauthenticated, and check the room keys it holds as the Matrix
//! clients do. The same goes for padding: a party that sees whether decryption failed learns
//! something about the last block. See SPEC.md, "Key backup".
//!
//! What caudata writes is what libolm requires: an 8-byte MAC (11 characters of unpadded
//! base64) and a 32-byte ephemeral key (43 characters). What it reads is what vodozemac reads:
//! padded or unpadded base64, and a MAC of 1 to 32 bytes that is a prefix of the full one.
//!
//! ```
//! use caudata::pk_encryption::{Message, PkDecryption, PkEncryption};
//!
//! let backup_key = PkDecryption::new();
//! let encryption = PkEncryption::from_key(backup_key.public_key()).unwrap();
//! let message = encryption.encrypt(b"{\"session_key\": \"...\"}");
//!
//! // as uploaded: session_data = {ciphertext, mac, ephemeral}
//! let (ciphertext, mac, ephemeral) = message.to_base64_parts();
//! assert_eq!((mac.len(), ephemeral.len()), (11, 43));
//!
//! let received = Message::from_base64(&ciphertext, &mac, &ephemeral).unwrap();
//! assert_eq!(backup_key.decrypt(&received).unwrap(), b"{\"session_key\": \"...\"}");
//! ```

use crate::error::{DecodeError, DecryptionError, KeyError};
use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, OsRandom, PK_MAC_LENGTH, PkFailure, RandomSource,
    base64_decode_padding_indifferent, base64_encode, pk_decrypt, pk_encrypt,
};

/// The MAC length that caudata, libolm and vodozemac write.
pub const MAC_LENGTH: usize = PK_MAC_LENGTH;

/// An encrypted message: the three fields of a backup's `session_data` (there in base64:
/// [`Message::from_base64`], [`Message::to_base64_parts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// AES-256-CBC ciphertext with PKCS#7 padding.
    pub ciphertext: Vec<u8>,
    /// libolm's MAC of the empty string, [`MAC_LENGTH`] bytes as written (it authenticates
    /// nothing).
    pub mac: Vec<u8>,
    /// The sender's ephemeral Curve25519 key.
    pub ephemeral_key: Curve25519PublicKey,
}

impl Message {
    /// From the base64 fields, in vodozemac's argument order: `ciphertext`, `mac`, `ephemeral`.
    /// Base64 is read as vodozemac reads it: canonical, with the padding optional (also a
    /// single `=` where two are due); lengths are checked by [`PkDecryption::decrypt`].
    ///
    /// # Errors
    /// [`DecodeError::Base64`] when a field is not valid base64, [`DecodeError::Key`] when the
    /// ephemeral key is not 32 bytes.
    pub fn from_base64(ciphertext: &str, mac: &str, ephemeral_key: &str) -> Result<Self, DecodeError> {
        Ok(Self {
            ciphertext: base64_decode_padding_indifferent(ciphertext).map_err(|_| DecodeError::Base64)?,
            mac: base64_decode_padding_indifferent(mac).map_err(|_| DecodeError::Base64)?,
            ephemeral_key: Curve25519PublicKey::from_base64(ephemeral_key)?,
        })
    }

    /// The fields as unpadded base64, in the order of [`Message::from_base64`]:
    /// `(ciphertext, mac, ephemeral)`.
    pub fn to_base64_parts(&self) -> (String, String, String) {
        (base64_encode(&self.ciphertext), base64_encode(&self.mac), self.ephemeral_key.to_base64())
    }
}

/// Encryption to a recipient's public key (a backup's `auth_data.public_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PkEncryption {
    public_key: Curve25519PublicKey,
}

impl PkEncryption {
    /// For the recipient `public_key`, which is checked here.
    ///
    /// # Errors
    /// [`KeyError::NonContributory`] for a small-order key (all zeros among them), with which
    /// every message would be encrypted under a key anyone can compute. libolm accepts such a
    /// key; vodozemac refuses it in `encrypt`.
    pub fn from_key(public_key: Curve25519PublicKey) -> Result<Self, KeyError> {
        if public_key.has_small_order() {
            return Err(KeyError::NonContributory);
        }
        Ok(Self { public_key })
    }

    /// The recipient's public key.
    pub fn public_key(&self) -> Curve25519PublicKey {
        self.public_key
    }

    /// Encrypts `plaintext` under a fresh ephemeral key.
    pub fn encrypt(&self, plaintext: impl AsRef<[u8]>) -> Message {
        self.encrypt_inner(plaintext.as_ref(), &mut OsRandom)
    }

    /// [`PkEncryption::encrypt`] with the 32 bytes of the ephemeral secret from `rng` (libolm's
    /// `olm_pk_encrypt` random input), for known-answer tests and the libolm C interface.
    #[cfg(feature = "hazmat")]
    pub fn encrypt_with_rng(&self, plaintext: &[u8], rng: &mut impl RandomSource) -> Message {
        self.encrypt_inner(plaintext, rng)
    }

    fn encrypt_inner(&self, plaintext: &[u8], rng: &mut impl RandomSource) -> Message {
        let ephemeral = Curve25519SecretKey::random(rng);
        // `from_key` refused every key of small order, and X25519 with a clamped scalar is
        // all-zero exactly for those (primitives/curve25519.rs proves the list): the one
        // error of `pk_encrypt` cannot happen.
        #[allow(clippy::expect_used)]
        let (ciphertext, mac) =
            pk_encrypt(&ephemeral, &self.public_key, plaintext).expect("the recipient key was checked in from_key");
        Message { ciphertext, mac: mac.to_vec(), ephemeral_key: ephemeral.public_key() }
    }
}

impl TryFrom<Curve25519PublicKey> for PkEncryption {
    type Error = KeyError;

    fn try_from(public_key: Curve25519PublicKey) -> Result<Self, KeyError> {
        Self::from_key(public_key)
    }
}

impl From<&PkDecryption> for PkEncryption {
    /// Encryption to our own key (a key we made is never of small order).
    fn from(decryption: &PkDecryption) -> Self {
        Self { public_key: decryption.public_key() }
    }
}

/// A recipient's secret key (a backup's decryption key), wiped on drop.
///
/// Its public key is derived on first use only, so a `PkDecryption` made with
/// [`PkDecryption::from_key`] just to decrypt (as matrix-rust-sdk does for every backed-up
/// room key) costs no base-point multiplication.
#[derive(Clone, Default)]
pub struct PkDecryption {
    secret_key: Curve25519SecretKey,
}

impl PkDecryption {
    /// A fresh key.
    pub fn new() -> Self {
        Self { secret_key: Curve25519SecretKey::new() }
    }

    /// A key of 32 bytes from `rng` (libolm's `olm_pk_generate_key`).
    #[cfg(feature = "hazmat")]
    pub fn new_with_rng(rng: &mut impl RandomSource) -> Self {
        Self { secret_key: Curve25519SecretKey::random(rng) }
    }

    /// From an existing secret key, whose bytes are kept as they are (not clamped), so the
    /// recovery key made from them stays the same. libolm's `olm_pk_key_from_private`.
    pub fn from_key(secret_key: Curve25519SecretKey) -> Self {
        Self { secret_key }
    }

    /// The secret key (its raw bytes: [`Curve25519SecretKey::to_secret_bytes`]).
    pub fn secret_key(&self) -> &Curve25519SecretKey {
        &self.secret_key
    }

    /// The public key, to publish in the backup's `auth_data`.
    pub fn public_key(&self) -> Curve25519PublicKey {
        self.secret_key.public_key()
    }

    /// Decrypts a message sent to this key. The ephemeral key is checked first, then the MAC
    /// (constant time), then the ciphertext's length and padding.
    ///
    /// # Errors
    /// * [`DecryptionError::Key`] with [`KeyError::NonContributory`]: the ephemeral key has
    ///   small order (libolm would go on with an all-zero secret);
    /// * [`DecryptionError::InvalidMacLength`]: an empty MAC, or one over 32 bytes;
    /// * [`DecryptionError::InvalidMac`]: the MAC is not a prefix of the expected one (the
    ///   message was made for another key, or its MAC or ephemeral key was changed);
    /// * [`DecryptionError::Decode`]: the ciphertext is empty or not whole AES blocks;
    /// * [`DecryptionError::InvalidPadding`]: the last block's padding is wrong (a truncated
    ///   or altered ciphertext).
    pub fn decrypt(&self, message: &Message) -> Result<Vec<u8>, DecryptionError> {
        pk_decrypt(&self.secret_key, &message.ephemeral_key, &message.ciphertext, &message.mac).map_err(|e| match e {
            PkFailure::Key(k) => DecryptionError::Key(k),
            PkFailure::MacLength(got) => DecryptionError::InvalidMacLength { expected: MAC_LENGTH, got },
            PkFailure::Mac => DecryptionError::InvalidMac,
            PkFailure::CiphertextLength(_) => {
                DecryptionError::Decode(DecodeError::MalformedField("ciphertext (empty, or not whole AES blocks)"))
            }
            PkFailure::Padding => DecryptionError::InvalidPadding,
        })
    }
}

impl core::fmt::Debug for PkDecryption {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { secret_key } = self;
        f.debug_struct("PkDecryption").field("public_key", &secret_key.public_key()).finish_non_exhaustive()
    }
}
