//! Persisted state ("pickles"), kept apart from the protocol code: the protocol types are not
//! serializable themselves; each has explicit conversions to and from storage formats.
//!
//! * **caudata's own format** (read and write): a compact binary encoding with a magic, a
//!   format version and an object-type tag, either encrypted and authenticated with
//!   ChaCha20-Poly1305 under a 32-byte pickle key and a random nonce
//!   ([`AccountPickle::encrypt`]), or unencrypted for callers that encrypt at rest themselves
//!   ([`AccountPickle::to_unencrypted_bytes`]). Obtained with `pickle()` on
//!   [`Account`](crate::olm::Account), [`Session`](crate::olm::Session),
//!   [`GroupSession`](crate::megolm::GroupSession) and
//!   [`InboundGroupSession`](crate::megolm::InboundGroupSession), restored with `from_pickle()`.
//!   The interolm (Signal dialect) objects have the same: [`InterolmSessionPickle`] from
//!   [`interolm::Session::pickle`](crate::interolm::Session::pickle) and
//!   [`InterolmAccountPickle`] from [`interolm::Account::pickle`](crate::interolm::Account::pickle);
//!   and a session of either dialect is pickled through [`crate::Session::pickle`] as an
//!   [`AnySessionPickle`], which reads back without knowing the dialect in advance.
//! * **libolm** (import of every version libolm wrote, export of the current one):
//!   `from_libolm_pickle(&str, &[u8])` and `to_libolm_pickle(&self, &[u8])` on the same four
//!   types, so that a user can move to caudata and back.
//! * **vodozemac** (both ways): the encrypted strings of vodozemac's `encrypt()`
//!   (`from_vodozemac_pickle(&str, &[u8; 32])`, `to_vodozemac_pickle(&self, &[u8; 32])`) and its
//!   plain pickle structs ([`vodozemac::AccountPickle`] and the others, from
//!   `vodozemac_pickle()`, serde with the `serde` feature) on the same four types.
//!
//! Every reader refuses bad input with a [`PickleError`](crate::PickleError) and never panics
//! or returns a partially built object; list counts are bounded by protocol limits and by the
//! input left before anything is allocated. Secrets pass only through zeroizing buffers.
//!
//! ```
//! use caudata::olm::Account;
//!
//! let mut account = Account::new();
//! account.generate_one_time_keys(2);
//! let key = [7u8; 32];
//! let stored = account.pickle().encrypt(&key);
//! let restored = Account::from_pickle(caudata::pickle::AccountPickle::from_encrypted(&stored, &key).unwrap());
//! assert_eq!(restored.identity_keys(), account.identity_keys());
//! assert_eq!(restored.one_time_keys(), account.one_time_keys());
//! ```

pub(crate) mod codec;
mod dehydrated;
mod envelope;
mod interolm;
mod interolm_store;
mod json;
mod libolm;
#[cfg(feature = "hazmat")]
pub(crate) use libolm::{open_libolm_pickle, seal_libolm_pickle};
mod libsignal;
mod own;
mod pk;
mod sender_key;
pub mod vodozemac;

pub use dehydrated::DehydratedDeviceResult;
#[cfg(feature = "hazmat")]
pub(crate) use dehydrated::decode_plaintext as decode_dehydrated_plaintext;
pub(crate) use interolm::clone_interolm_session;
pub use interolm::{
    AnySessionPickle, InterolmAccountPickle, InterolmSessionPickle, MAX_KYBER_PRE_KEYS, MAX_ONE_TIME_PRE_KEYS,
    MAX_SIGNED_PRE_KEYS,
};
pub use interolm_store::{
    InterolmIdentityKeyPairPickle, InterolmKyberPreKeyPickle, InterolmPreKeyPickle, InterolmSessionRecordPickle,
    InterolmSignedPreKeyPickle,
};
pub use libsignal::MAX_LIBSIGNAL_RECORD_LENGTH;
pub use own::{AccountPickle, GroupSessionPickle, InboundGroupSessionPickle, SessionPickle};
pub use sender_key::SenderKeyRecordPickle;

/// The version of caudata's own pickle format this library writes (the newest it reads).
pub const FORMAT_VERSION: u8 = envelope::FORMAT_VERSION;

/// Encrypts the unencrypted form of any caudata pickle (what a type's `to_unencrypted_bytes`
/// wrote) into its encrypted form, as that type's `encrypt_to_bytes` would have: for stores
/// that hold pickles of types they do not know (sender-key records, for instance).
///
/// # Errors
/// [`PickleError::NotAPickle`](crate::PickleError::NotAPickle),
/// [`PickleError::UnknownVersion`](crate::PickleError::UnknownVersion),
/// [`PickleError::TooLong`](crate::PickleError::TooLong),
/// [`PickleError::WrongProtection`](crate::PickleError::WrongProtection) for an encrypted input.
pub fn seal_unencrypted(pickle: &[u8], pickle_key: &[u8; 32]) -> Result<Vec<u8>, crate::PickleError> {
    envelope::seal_plain(pickle, pickle_key, &mut crate::primitives::OsRandom)
}

/// Decrypts the encrypted form of any caudata pickle into its unencrypted form (the reverse
/// of [`seal_unencrypted`]). The result holds secrets and is wiped on drop.
///
/// # Errors
/// [`PickleError::Authentication`](crate::PickleError::Authentication) for a wrong key or a modified pickle, and the header errors
/// of [`seal_unencrypted`].
pub fn open_to_unencrypted(
    pickle: &[u8],
    pickle_key: &[u8; 32],
) -> Result<zeroize::Zeroizing<Vec<u8>>, crate::PickleError> {
    envelope::open_to_plain(pickle, pickle_key)
}
