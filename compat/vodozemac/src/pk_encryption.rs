//! libolm's PK encryption (`m.megolm_backup.v1.curve25519-aes-sha2`, server-side key backup),
//! as vodozemac 0.11.1 names and shapes it; caudata's `pk_encryption` module does the work.
//! Its MAC authenticates nothing (libolm's design); the feature's name says so.

use aes::cipher::block_padding::Error as UnpadError;
use hmac::digest::MacError;

use crate::{Curve25519PublicKey, Curve25519SecretKey, KeyError, base64_decode};

/// A message could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key gives a non-contributory Diffie-Hellman result (a small-order key).
    #[error(
        "One or more keys lacked contributory behavior in the Diffie-Hellman operation, \
         resulting in an insecure shared secret"
    )]
    NonContributoryKey,
    /// The ciphertext's padding or length is invalid.
    #[error("failed to decrypt, invalid padding: {0}")]
    InvalidPadding(#[from] UnpadError),
    /// The MAC does not verify.
    #[error("the MAC of the ciphertext didn't pass validation: {0}")]
    Mac(#[from] MacError),
}

/// A message's base64 fields could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum MessageDecodeError {
    /// A field is not base64.
    #[error(transparent)]
    Base64(#[from] crate::Base64DecodeError),
    /// The ephemeral key is invalid.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// An encrypted message (a backup's `session_data`).
#[derive(Debug)]
pub struct Message {
    /// The AES-256-CBC ciphertext.
    pub ciphertext: Vec<u8>,
    /// The (truncated) MAC.
    pub mac: Vec<u8>,
    /// The sender's ephemeral key.
    pub ephemeral_key: Curve25519PublicKey,
}

impl Message {
    /// From the three base64 fields.
    ///
    /// # Errors
    /// A [`MessageDecodeError`].
    pub fn from_base64(ciphertext: &str, mac: &str, ephemeral_key: &str) -> Result<Self, MessageDecodeError> {
        Ok(Self {
            ciphertext: base64_decode(ciphertext)?,
            mac: base64_decode(mac)?,
            ephemeral_key: Curve25519PublicKey::from_base64(ephemeral_key)?,
        })
    }
}

/// The recipient's side: a Curve25519 key pair (a backup key).
pub struct PkDecryption {
    inner: caudata::pk_encryption::PkDecryption,
    secret_key: Curve25519SecretKey,
    public_key: Curve25519PublicKey,
}

impl PkDecryption {
    /// A fresh key pair.
    pub fn new() -> Self {
        Self::from_key(Curve25519SecretKey::new())
    }

    /// From a secret key (its bytes kept as given).
    pub fn from_key(secret_key: Curve25519SecretKey) -> Self {
        let inner = caudata::pk_encryption::PkDecryption::from_key(secret_key.0.clone());
        let public_key = Curve25519PublicKey::from_core(inner.public_key());
        Self { inner, secret_key, public_key }
    }

    /// The secret key.
    pub const fn secret_key(&self) -> &Curve25519SecretKey {
        &self.secret_key
    }

    /// The public key.
    pub const fn public_key(&self) -> Curve25519PublicKey {
        self.public_key
    }

    /// Imports libolm's `PkDecryption` pickle.
    ///
    /// # Errors
    /// A [`LibolmPickleError`](crate::LibolmPickleError).
    pub fn from_libolm_pickle(pickle: &str, pickle_key: &[u8]) -> Result<Self, crate::LibolmPickleError> {
        let inner = caudata::pk_encryption::PkDecryption::from_libolm_pickle(pickle, pickle_key)
            .map_err(|e| crate::convert::libolm_pickle_error(e, pickle, 1))?;
        let secret_key = Curve25519SecretKey(inner.secret_key().clone());
        let public_key = Curve25519PublicKey::from_core(inner.public_key());
        Ok(Self { inner, secret_key, public_key })
    }

    /// Exports as libolm's `PkDecryption` pickle.
    ///
    /// # Errors
    /// Never.
    pub fn to_libolm_pickle(&self, pickle_key: &[u8]) -> Result<String, crate::LibolmPickleError> {
        Ok(self.inner.to_libolm_pickle(pickle_key))
    }

    /// Decrypts a message sent to this key.
    ///
    /// # Errors
    /// An [`Error`].
    pub fn decrypt(&self, message: &Message) -> Result<Vec<u8>, Error> {
        use caudata::DecryptionError as C;
        let m = caudata::pk_encryption::Message {
            ciphertext: message.ciphertext.clone(),
            mac: message.mac.clone(),
            ephemeral_key: message.ephemeral_key.inner,
        };
        self.inner.decrypt(&m).map_err(|e| match e {
            C::Key(_) => Error::NonContributoryKey,
            C::InvalidMac | C::InvalidMacLength { .. } => Error::Mac(MacError),
            _ => Error::InvalidPadding(UnpadError),
        })
    }
}

impl Default for PkDecryption {
    fn default() -> Self {
        Self::new()
    }
}

/// The sender's side: the recipient's public key.
pub struct PkEncryption {
    public_key: Curve25519PublicKey,
}

impl PkEncryption {
    /// For the recipient's public key (a small-order key is refused when encrypting).
    pub const fn from_key(public_key: Curve25519PublicKey) -> Self {
        Self { public_key }
    }

    /// Encrypts `message` with a fresh ephemeral key.
    ///
    /// # Errors
    /// [`Error::NonContributoryKey`] if the recipient's key has small order.
    pub fn encrypt(&self, message: &[u8]) -> Result<Message, Error> {
        let encryption = caudata::pk_encryption::PkEncryption::from_key(self.public_key.inner)
            .map_err(|_| Error::NonContributoryKey)?;
        let m = encryption.encrypt(message);
        Ok(Message {
            ciphertext: m.ciphertext,
            mac: m.mac,
            ephemeral_key: Curve25519PublicKey::from_core(m.ephemeral_key),
        })
    }
}

impl From<&PkDecryption> for PkEncryption {
    fn from(value: &PkDecryption) -> Self {
        Self::from_key(value.public_key())
    }
}

impl From<Curve25519PublicKey> for PkEncryption {
    fn from(public_key: Curve25519PublicKey) -> Self {
        Self { public_key }
    }
}
