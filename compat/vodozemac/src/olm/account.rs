use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::session::DecryptionError;
use super::{PreKeyMessage, Session, SessionConfig};
use crate::{Curve25519PublicKey, Ed25519PublicKey, Ed25519Signature, KeyId, PickleError};

/// How many one-time keys a client should keep published on the server (the account itself
/// keeps up to 100 times as many private keys, so that late pre-key messages still find theirs).
const PUBLIC_MAX_ONE_TIME_KEYS: usize = 50;

/// A session could not be created. The account is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum SessionCreationError {
    /// The pre-key message names a one-time key this account does not have (unknown or used).
    #[error("The pre-key message contained an unknown one-time key: {0}")]
    MissingOneTimeKey(Curve25519PublicKey),
    /// The identity key in the message is not the one expected: expected, then received.
    #[error(
        "The given identity key doesn't match the one in the pre-key message: \
        expected {0}, got {1}"
    )]
    MismatchedIdentityKey(Curve25519PublicKey, Curve25519PublicKey),
    /// The pre-key message was made with another session configuration.
    #[error(
        "The session config doesn't match the one used for the pre-key message: expected {expected:?}, got {got:?}"
    )]
    MismatchedSessionConfig {
        /// The configuration asked for.
        expected: SessionConfig,
        /// The message's configuration (`None`: one this build does not know).
        got: Option<SessionConfig>,
    },
    /// The pre-key message did not decrypt.
    #[error("The message that was used to establish the Session couldn't be decrypted")]
    Decryption(#[from] DecryptionError),
    /// A key gives a non-contributory Diffie-Hellman result (a small-order key).
    #[error("The shared secret was derived from an insecure key exchange (non-contributory behaviour)")]
    NonContributoryKey,
}

impl SessionCreationError {
    fn from_core(e: caudata::SessionCreationError, expected: SessionConfig) -> Self {
        use caudata::SessionCreationError as C;
        match e {
            C::MissingOneTimeKey(k) => Self::MissingOneTimeKey(Curve25519PublicKey::from_core(k)),
            C::MismatchedIdentityKey(a, b) => {
                Self::MismatchedIdentityKey(Curve25519PublicKey::from_core(a), Curve25519PublicKey::from_core(b))
            }
            C::MismatchedSessionConfig { got, .. } => Self::MismatchedSessionConfig {
                expected,
                // a version-2 message without the experimental-session-config feature is one
                // this build does not know
                got: if got.version() == 1 || cfg!(feature = "experimental-session-config") {
                    Some(SessionConfig::from_core(got))
                } else {
                    None
                },
            },
            C::Decryption(caudata::DecryptionError::Key(_)) => Self::NonContributoryKey,
            C::Decryption(d) => Self::Decryption(DecryptionError::from_core(d)),
            // `Key` (a non-contributory key), and the interolm-only variants
            _ => Self::NonContributoryKey,
        }
    }
}

/// An account's public identity keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityKeys {
    /// The Ed25519 signing key.
    pub ed25519: Ed25519PublicKey,
    /// The Curve25519 identity key.
    pub curve25519: Curve25519PublicKey,
}

/// A session created from a pre-key message, and that message's plaintext.
#[derive(Debug)]
pub struct InboundCreationResult {
    /// The new session.
    pub session: Session,
    /// The plaintext of the pre-key message.
    pub plaintext: Vec<u8>,
}

/// What [`Account::generate_one_time_keys`] did.
pub struct OneTimeKeyGenerationResult {
    /// The new keys' public halves.
    pub created: Vec<Curve25519PublicKey>,
    /// Keys removed (oldest first) to keep the store within its limit.
    pub removed: Vec<Curve25519PublicKey>,
}

/// A dehydrated device (MSC3814): the `device_pickle` and `nonce` strings.
#[derive(Debug)]
pub struct DehydratedDeviceResult {
    /// Unpadded base64 of the encrypted device.
    pub ciphertext: String,
    /// Unpadded base64 of the 12-byte nonce.
    pub nonce: String,
}

/// An Olm account: the long-term identity keys and the one-time and fallback keys.
pub struct Account(caudata::olm::Account);

impl Account {
    /// A new account with fresh identity keys.
    pub fn new() -> Self {
        Self(caudata::olm::Account::new())
    }

    /// Both public identity keys.
    pub const fn identity_keys(&self) -> IdentityKeys {
        IdentityKeys { ed25519: self.ed25519_key(), curve25519: self.curve25519_key() }
    }

    /// The Ed25519 signing key.
    pub const fn ed25519_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.0.ed25519_key())
    }

    /// The Curve25519 identity key.
    pub const fn curve25519_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey::from_core(self.0.curve25519_key())
    }

    /// Signs `message` with the account's Ed25519 key.
    pub fn sign(&self, message: impl AsRef<[u8]>) -> Ed25519Signature {
        Ed25519Signature(self.0.sign(message))
    }

    /// How many one-time keys to keep published on the server: 50.
    pub const fn max_number_of_one_time_keys(&self) -> usize {
        PUBLIC_MAX_ONE_TIME_KEYS
    }

    /// Starts a session with another account's identity key and one of its one-time keys.
    ///
    /// # Errors
    /// [`SessionCreationError::NonContributoryKey`] if a key has small order.
    pub fn create_outbound_session(
        &self,
        session_config: SessionConfig,
        identity_key: Curve25519PublicKey,
        one_time_key: Curve25519PublicKey,
    ) -> Result<Session, SessionCreationError> {
        self.0
            .create_outbound_session(session_config.to_core(), identity_key.inner, one_time_key.inner)
            .map(Session)
            .map_err(|e| SessionCreationError::from_core(e, session_config))
    }

    /// Removes a one-time key and returns its secret half.
    #[cfg(feature = "low-level-api")]
    pub fn remove_one_time_key(&mut self, public_key: Curve25519PublicKey) -> Option<crate::Curve25519SecretKey> {
        self.0.take_one_time_key(public_key.inner).map(crate::Curve25519SecretKey)
    }

    /// Creates a session from a pre-key message and decrypts the message; the one-time key it
    /// used is then removed. On error the account is unchanged.
    ///
    /// # Errors
    /// A [`SessionCreationError`].
    pub fn create_inbound_session(
        &mut self,
        expected_config: SessionConfig,
        their_identity_key: Curve25519PublicKey,
        pre_key_message: &PreKeyMessage,
    ) -> Result<InboundCreationResult, SessionCreationError> {
        self.0
            .create_inbound_session(expected_config.to_core(), their_identity_key.inner, &pre_key_message.inner)
            .map(|r| InboundCreationResult { session: Session(r.session), plaintext: r.plaintext })
            .map_err(|e| match e {
                // caudata refuses a pre-key message replayed to a fallback key (vodozemac makes a
                // second session and delivers the message again). vodozemac's answer to a replay
                // to a one-time key is `MissingOneTimeKey`: the same answer here, with the key
                // the message names, so that callers treat both replays alike.
                caudata::SessionCreationError::ReplayedPreKeyMessage => {
                    SessionCreationError::MissingOneTimeKey(pre_key_message.one_time_key())
                }
                e => SessionCreationError::from_core(e, expected_config),
            })
    }

    /// Generates `count` one-time keys (the oldest are removed beyond the store's 5 000).
    pub fn generate_one_time_keys(&mut self, count: usize) -> OneTimeKeyGenerationResult {
        let r = self.0.generate_one_time_keys(count);
        OneTimeKeyGenerationResult {
            created: r.created.into_iter().map(Curve25519PublicKey::from_core).collect(),
            removed: r.removed.into_iter().map(Curve25519PublicKey::from_core).collect(),
        }
    }

    /// How many one-time keys are stored (published or not).
    pub fn stored_one_time_key_count(&self) -> usize {
        self.0.stored_one_time_key_count()
    }

    /// The one-time keys not yet marked as published.
    pub fn one_time_keys(&self) -> HashMap<KeyId, Curve25519PublicKey> {
        keys(self.0.one_time_keys())
    }

    /// Generates a fallback key; returns the previous fallback key that is forgotten, if any.
    pub fn generate_fallback_key(&mut self) -> Option<Curve25519PublicKey> {
        self.0.generate_fallback_key().map(Curve25519PublicKey::from_core)
    }

    /// The current fallback key, if not yet published.
    pub fn fallback_key(&self) -> HashMap<KeyId, Curve25519PublicKey> {
        keys(self.0.fallback_key())
    }

    /// Forgets the previous fallback key; returns whether there was one.
    pub fn forget_fallback_key(&mut self) -> bool {
        self.0.forget_fallback_key()
    }

    /// Marks the one-time keys and the fallback key as published.
    pub fn mark_keys_as_published(&mut self) {
        self.0.mark_keys_as_published()
    }

    /// A snapshot for storage.
    pub fn pickle(&self) -> AccountPickle {
        AccountPickle(self.0.vodozemac_pickle())
    }

    /// Restores an account from [`Account::pickle`].
    pub fn from_pickle(pickle: AccountPickle) -> Self {
        pickle.into()
    }

    /// Imports a libolm account pickle.
    ///
    /// # Errors
    /// A [`LibolmPickleError`](crate::LibolmPickleError).
    #[cfg(feature = "libolm-compat")]
    pub fn from_libolm_pickle(pickle: &str, pickle_key: &[u8]) -> Result<Self, crate::LibolmPickleError> {
        caudata::olm::Account::from_libolm_pickle(pickle, pickle_key)
            .map(Self)
            .map_err(|e| crate::convert::libolm_pickle_error(e, pickle, 4))
    }

    /// Exports as a libolm account pickle (version 4).
    ///
    /// # Errors
    /// A [`LibolmPickleError`](crate::LibolmPickleError) when the account cannot be written
    /// in libolm's format.
    #[cfg(feature = "libolm-compat")]
    pub fn to_libolm_pickle(&self, pickle_key: &[u8]) -> Result<String, crate::LibolmPickleError> {
        self.0.to_libolm_pickle(pickle_key).map_err(|e| crate::convert::libolm_pickle_error(e, "", 4))
    }

    /// Writes the account as a dehydrated device (MSC3814) under `key`.
    ///
    /// # Errors
    /// [`DehydratedDeviceError::InvalidAccount`](crate::DehydratedDeviceError::InvalidAccount)
    /// for an account imported from libolm (its key has no seed).
    pub fn to_dehydrated_device(&self, key: &[u8; 32]) -> Result<DehydratedDeviceResult, crate::DehydratedDeviceError> {
        self.0
            .to_dehydrated_device(key)
            .map(|d| DehydratedDeviceResult { ciphertext: d.ciphertext, nonce: d.nonce })
            .map_err(|e| crate::convert::dehydrated_device_error(e, "", ""))
    }

    /// Reads a dehydrated device.
    ///
    /// # Errors
    /// A [`DehydratedDeviceError`](crate::DehydratedDeviceError).
    pub fn from_dehydrated_device(
        ciphertext: &str,
        nonce: &str,
        key: &[u8; 32],
    ) -> Result<Self, crate::DehydratedDeviceError> {
        caudata::olm::Account::from_dehydrated_device(ciphertext, nonce, key)
            .map(Self)
            .map_err(|e| crate::convert::dehydrated_device_error(e, ciphertext, nonce))
    }
}

fn keys(map: HashMap<caudata::KeyId, caudata::Curve25519PublicKey>) -> HashMap<KeyId, Curve25519PublicKey> {
    map.into_iter().map(|(id, k)| (KeyId(id.0), Curve25519PublicKey::from_core(k))).collect()
}

impl Default for Account {
    fn default() -> Self {
        Self::new()
    }
}

/// An [`Account`] in vodozemac's pickle shape: serde gives vodozemac's exact JSON or
/// MessagePack, and [`AccountPickle::encrypt`] its encrypted string.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountPickle(caudata::pickle::vodozemac::AccountPickle);

impl AccountPickle {
    /// Encrypts as vodozemac does (its JSON under libolm's pickle cipher, unpadded base64).
    pub fn encrypt(self, pickle_key: &[u8; 32]) -> String {
        self.0.encrypt(pickle_key)
    }

    /// Reads what [`AccountPickle::encrypt`] (or vodozemac's) wrote.
    ///
    /// # Errors
    /// A [`PickleError`].
    pub fn from_encrypted(ciphertext: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
        caudata::pickle::vodozemac::AccountPickle::from_encrypted(ciphertext, pickle_key)
            .map(Self)
            .map_err(|e| crate::convert::pickle_error(e, ciphertext))
    }
}

impl From<AccountPickle> for Account {
    fn from(pickle: AccountPickle) -> Self {
        Self(pickle.0.into())
    }
}
