//! vodozemac's pickles, both ways: the plain pickle structs that vodozemac 0.11's `pickle()`
//! returns and matrix-rust-sdk stores through serde ([`AccountPickle`], [`SessionPickle`],
//! [`GroupSessionPickle`], [`InboundGroupSessionPickle`]; `Serialize` and `Deserialize` with the
//! `serde` feature, in vodozemac's exact data-model shapes, so JSON and MessagePack are byte
//! for byte vodozemac's), and vodozemac's encrypted pickle strings (its `encrypt()`: the JSON
//! under libolm's pickle cipher with a 32-byte key), read and written without the feature.
//!
//! Reading validates everything before an object exists (limits, keys that must match,
//! receiving-chain ratchet keys that must give a contributory Diffie-Hellman, key ids that
//! must leave a next id); a deserialized pickle struct is therefore always a usable object, and
//! converting it is infallible, as in vodozemac. caudata's own pickle format
//! ([`crate::pickle::AccountPickle`] and the others) is separate and unchanged.
//!
//! | object | JSON (serde_json), byte arrays as arrays of numbers |
//! |---|---|
//! | Account | `{signing_key: {Normal: [32]} \| {Expanded: [64]}, diffie_hellman_key: [32], one_time_keys: {next_key_id, public_keys: {id: [32]} (unpublished only), private_keys: {id: [32]}}, fallback_keys: {key_id, fallback_key, previous_fallback_key: null \| {key_id, key: [32], published}}}` |
//! | Session | `{session_keys: {identity_key, base_key, one_time_key}, sending_ratchet: {type: "active", parent_ratchet_key, ratchet_count, active_ratchet: {root_key: [32], ratchet_key: [32]}, symmetric_key_ratchet: {key, index}} \| {type: "inactive", root_key: {key}, ratchet_key, ratchet_count}, receiving_chains: {inner: [{ratchet_key, hkdf_ratchet: {key, index}, skipped_message_keys: {inner: [{key, index}]}, ratchet_count}]}, config: {version: "V1" \| "V2"}}` |
//! | GroupSession | `{ratchet: {inner: [128], counter}, signing_key: {Normal \| Expanded}, config}` |
//! | InboundGroupSession | `{initial_ratchet: {inner, counter}, signing_key: [32], signing_key_verified, config}` (no latest ratchet) |
//!
//! Fields older vodozemac versions did not write take vodozemac's defaults; unknown fields are
//! ignored. What caudata cannot keep: vodozemac's diagnostic ratchet counts (written as
//! unknown), and the order of receiving chains that vodozemac imported from libolm (restored to
//! oldest first; SPEC.md §9).
//!
//! ```
//! use caudata::olm::Account;
//!
//! let mut account = Account::new();
//! account.generate_one_time_keys(3);
//! let key = [7u8; 32];
//! // the string vodozemac's `account.pickle().encrypt(&key)` would give for this account
//! let text = account.to_vodozemac_pickle(&key);
//! let restored = Account::from_vodozemac_pickle(&text, &key).unwrap();
//! assert_eq!(restored.identity_keys(), account.identity_keys());
//! assert_eq!(restored.one_time_keys(), account.one_time_keys());
//! ```

mod convert;
mod read;
mod shape;
mod view;
mod write;

use zeroize::Zeroizing;

use super::json::{self, Json};
use super::libolm;
use crate::error::PickleError;
use crate::megolm::{GroupSession, InboundGroupSession};
use crate::olm::{Account, Session};

/// The largest decrypted vodozemac pickle read: 2 MiB of JSON, room for an account holding all
/// 5 000 one-time keys unpublished (about 1.3 MB).
pub const MAX_VODOZEMAC_PICKLE_LENGTH: usize = 2 << 20;

fn import<T>(
    pickle: &str,
    pickle_key: &[u8; 32],
    f: impl FnOnce(&Json) -> Result<T, PickleError>,
) -> Result<T, PickleError> {
    let plaintext = libolm::decrypt_up_to(pickle, pickle_key, MAX_VODOZEMAC_PICKLE_LENGTH)?;
    let doc = json::parse(&plaintext)?;
    f(&doc)
}

fn export(json: Zeroizing<Vec<u8>>, pickle_key: &[u8; 32]) -> String {
    libolm::encrypt(&json, pickle_key)
}

macro_rules! vodozemac_pickle {
    (
        $(#[$doc:meta])* $pickle:ident, $object:ty, $vz:literal, $shape:ty,
        $read:path, $write:path, $from_shape:expr, $serialize:path
    ) => {
        $(#[$doc])*
        ///
        /// Holds the object's secret keys (wiped on drop); prints nothing secret. With the
        /// `serde` feature it serializes and deserializes exactly as vodozemac's struct does;
        /// deserializing checks the content and fails with the format's error carrying a
        /// [`PickleError`] message.
        pub struct $pickle(pub(crate) $object);

        impl $pickle {
            #[doc = concat!("Encrypts as vodozemac's `", $vz, "::encrypt` does: the JSON under libolm's pickle cipher, unpadded base64. For the same state the string is the one vodozemac writes (the cipher's IV is derived from the key).")]
            pub fn encrypt(&self, pickle_key: &[u8; 32]) -> String {
                export($write(&self.0), pickle_key)
            }

            #[doc = concat!("Decrypts and reads what vodozemac's `", $vz, "::encrypt` (or [`Self::encrypt`]) wrote.")]
            ///
            /// # Errors
            /// [`PickleError::Authentication`] for a wrong key or a modified pickle,
            /// [`PickleError::Json`] / [`PickleError::MissingField`] for JSON this library does
            /// not read, [`PickleError::TooLong`] beyond [`MAX_VODOZEMAC_PICKLE_LENGTH`],
            /// limits and key checks as for the other formats. Nothing is returned on error.
            pub fn from_encrypted(pickle: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
                import(pickle, pickle_key, |v| {
                    #[allow(clippy::redundant_closure_call)]
                    ($from_shape)($read(v)?).map(Self)
                })
            }
        }

        impl From<$pickle> for $object {
            fn from(p: $pickle) -> Self {
                p.0
            }
        }

        impl core::fmt::Debug for $pickle {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_tuple(stringify!($pickle)).field(&self.0).finish()
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $pickle {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $serialize(&self.0, s)
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $pickle {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let shape = <$shape as serde::Deserialize>::deserialize(d)?;
                #[allow(clippy::redundant_closure_call)]
                ($from_shape)(shape).map(Self).map_err(serde::de::Error::custom)
            }
        }

        impl $object {
            #[doc = concat!("Imports a pickle that vodozemac's `", $vz, "::encrypt` wrote (vodozemac 0.11 and earlier versions with the same JSON).")]
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($pickle), "::from_encrypted`].")]
            pub fn from_vodozemac_pickle(pickle: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
                $pickle::from_encrypted(pickle, pickle_key).map(|p| p.0)
            }

            #[doc = concat!("Exports as vodozemac's `", $vz, "::encrypt` would: vodozemac's `from_encrypted` (and [`Self::from_vodozemac_pickle`]) read it.")]
            pub fn to_vodozemac_pickle(&self, pickle_key: &[u8; 32]) -> String {
                export($write(self), pickle_key)
            }

            #[doc = concat!("A snapshot in vodozemac's plain pickle struct (`", $vz, "`), for storage through serde or [`", stringify!($pickle), "::encrypt`]; turned back into the object with `From`.")]
            pub fn vodozemac_pickle(&self) -> $pickle {
                $pickle(clone_of(self))
            }
        }
    };
}

/// A copy of an object, for a pickle snapshot.
trait CloneForPickle {
    fn clone_for_pickle(&self) -> Self;
}
impl CloneForPickle for Account {
    fn clone_for_pickle(&self) -> Self {
        super::own::clone_account(self)
    }
}
impl CloneForPickle for Session {
    fn clone_for_pickle(&self) -> Self {
        super::own::clone_session(self)
    }
}
impl CloneForPickle for GroupSession {
    fn clone_for_pickle(&self) -> Self {
        super::own::clone_group_session(self)
    }
}
impl CloneForPickle for InboundGroupSession {
    fn clone_for_pickle(&self) -> Self {
        self.duplicate()
    }
}
fn clone_of<T: CloneForPickle>(v: &T) -> T {
    v.clone_for_pickle()
}

/// `Serialize` of [`GroupSessionPickle`] (a small copy: the shape).
#[cfg(feature = "serde")]
fn serialize_shape_of_group_session<S: serde::Serializer>(g: &GroupSession, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&convert::group_session_to_shape(g), s)
}

/// `Serialize` of [`InboundGroupSessionPickle`] (a small copy: the shape).
#[cfg(feature = "serde")]
fn serialize_shape_of_inbound_group_session<S: serde::Serializer>(
    g: &InboundGroupSession,
    s: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&convert::inbound_group_session_to_shape(g), s)
}

vodozemac_pickle!(
    /// vodozemac's `olm::AccountPickle`: an [`Account`] in vodozemac's pickle shape. Holds up to
    /// 5 000 one-time keys.
    AccountPickle, Account, "AccountPickle", shape::AccountShape,
    read::account, write::account, convert::account_from_shape, view::serialize_account
);
vodozemac_pickle!(
    /// vodozemac's `olm::SessionPickle`: a [`Session`] in vodozemac's pickle shape.
    SessionPickle, Session, "SessionPickle", shape::SessionShape,
    read::session, write::session, convert::session_from_shape, view::serialize_session
);
vodozemac_pickle!(
    /// vodozemac's `megolm::GroupSessionPickle`: a [`GroupSession`] in vodozemac's pickle shape.
    GroupSessionPickle, GroupSession, "GroupSessionPickle", shape::GroupSessionShape,
    read::group_session, write::group_session,
    |s| Ok::<_, PickleError>(convert::group_session_from_shape(s)), serialize_shape_of_group_session
);
vodozemac_pickle!(
    /// vodozemac's `megolm::InboundGroupSessionPickle`: an [`InboundGroupSession`] in
    /// vodozemac's pickle shape (the initial ratchet only, as vodozemac keeps it).
    InboundGroupSessionPickle, InboundGroupSession, "InboundGroupSessionPickle", shape::InboundGroupSessionShape,
    read::inbound_group_session, write::inbound_group_session,
    |s| Ok::<_, PickleError>(convert::inbound_group_session_from_shape(s)),
    serialize_shape_of_inbound_group_session
);

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for InboundGroupSession {
    /// vodozemac's `InboundGroupSession` deserializes from its pickle struct; so does this one.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        InboundGroupSessionPickle::deserialize(d).map(|p| p.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::megolm::{SessionConfig as MegolmConfig, SessionOrdering};

    #[test]
    fn inbound_group_sessions_round_trip_with_their_flag() {
        let outbound = GroupSession::new(MegolmConfig::version_1());
        let signed = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_1());
        let imported = InboundGroupSession::import(&signed.export_at(2).unwrap(), MegolmConfig::version_1());
        for (s, verified) in [(&signed, true), (&imported, false)] {
            let text = s.to_vodozemac_pickle(&[3; 32]);
            let back = InboundGroupSession::from_vodozemac_pickle(&text, &[3; 32]).unwrap();
            assert_eq!(back.signing_key_verified(), verified);
            assert_eq!(back.first_known_index(), s.first_known_index());
            assert_eq!(back.compare(s), SessionOrdering::Equal);
            assert!(InboundGroupSession::from_vodozemac_pickle(&text, &[4; 32]).is_err());
        }
    }

    /// Each object's snapshot in vodozemac's pickle struct is that object: back through `From`,
    /// through the struct's own encryption, and (with `serde`) through serde_json.
    #[test]
    fn snapshots_are_the_object_they_were_taken_of() {
        use crate::olm::{OlmMessage, SessionConfig};
        let key = [5u8; 32];
        let mut account = Account::new();
        account.generate_one_time_keys(2);
        let back: Account = account.vodozemac_pickle().into();
        assert_eq!((back.identity_keys(), back.one_time_keys()), (account.identity_keys(), account.one_time_keys()));
        let text = account.vodozemac_pickle().encrypt(&key);
        assert_eq!(
            Account::from(AccountPickle::from_encrypted(&text, &key).unwrap()).identity_keys(),
            account.identity_keys()
        );

        let alice = Account::new();
        let otk = *account.one_time_keys().values().next().unwrap();
        let mut a = alice.create_outbound_session(SessionConfig::version_2(), account.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(m) = a.encrypt(b"x") else { panic!("not a pre-key message") };
        let b = account.create_inbound_session(SessionConfig::version_2(), alice.curve25519_key(), &m).unwrap().session;
        let mut back: Session = b.vodozemac_pickle().into();
        assert_eq!(back.session_id(), b.session_id());
        assert_eq!(a.decrypt(&back.encrypt(b"y")).unwrap(), b"y");
        let text = b.vodozemac_pickle().encrypt(&key);
        assert_eq!(Session::from(SessionPickle::from_encrypted(&text, &key).unwrap()).session_id(), b.session_id());

        let outbound = GroupSession::new(MegolmConfig::version_1());
        let back: GroupSession = outbound.vodozemac_pickle().into();
        assert_eq!(*back.session_key().to_base64(), *outbound.session_key().to_base64());
        let inbound = InboundGroupSession::new(&outbound.session_key(), MegolmConfig::version_1());
        let back: InboundGroupSession = inbound.vodozemac_pickle().into();
        assert_eq!(back.compare(&inbound), SessionOrdering::Equal);

        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&account.vodozemac_pickle()).unwrap();
            let back: Account = serde_json::from_str::<AccountPickle>(&json).unwrap().into();
            assert_eq!(back.identity_keys(), account.identity_keys());
            let json = serde_json::to_string(&inbound.vodozemac_pickle()).unwrap();
            let back: InboundGroupSession = serde_json::from_str(&json).unwrap();
            assert_eq!(back.compare(&inbound), SessionOrdering::Equal);
        }
    }
}
