//! serde for protocol values (feature `serde`), with vodozemac 0.11.1's data-model shapes:
//!
//! | type | serde data model |
//! |---|---|
//! | [`olm::SessionConfig`], [`megolm::SessionConfig`] | struct `SessionConfig { version }`, `version` the unit variant `V1` or `V2` of enum `Version` (JSON `{"version":"V1"}`) |
//! | [`OlmMessage`] | struct `{ "type": usize, "body": string }`, the body unpadded base64; reading decodes the body (padding optional) and parses the message at once |
//! | [`Message`], [`PreKeyMessage`], [`MegolmMessage`] | a string: unpadded base64 (padding optional when read) |
//! | [`SessionKey`], [`ExportedSessionKey`] | a string: unpadded base64, and only unpadded base64 is read |
//!
//! Errors while reading are the format's own error, carrying this crate's error message.
//!
//! [`olm::SessionConfig`]: crate::olm::SessionConfig
//! [`megolm::SessionConfig`]: crate::megolm::SessionConfig
//! [`OlmMessage`]: crate::olm::OlmMessage
//! [`Message`]: crate::olm::Message
//! [`PreKeyMessage`]: crate::olm::PreKeyMessage
//! [`MegolmMessage`]: crate::megolm::MegolmMessage
//! [`SessionKey`]: crate::megolm::SessionKey
//! [`ExportedSessionKey`]: crate::megolm::ExportedSessionKey

use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroize;

use crate::error::DecodeError;
use crate::megolm::{self, ExportedSessionKey, MegolmMessage, SessionKey};
use crate::olm::{self, Message, OlmMessage, PreKeyMessage};
use crate::primitives::{base64_decode_padding_indifferent, base64_decode_unpadded_secret, base64_encode};

// ---------------------------------------------------------------- session configs

#[derive(Serialize, Deserialize)]
#[serde(rename = "Version")]
enum VersionRepr {
    V1,
    V2,
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "SessionConfig")]
struct ConfigRepr {
    version: VersionRepr,
}

impl ConfigRepr {
    fn new(version: u8) -> Self {
        Self { version: if version == 2 { VersionRepr::V2 } else { VersionRepr::V1 } }
    }
    fn version(&self) -> u8 {
        match self.version {
            VersionRepr::V1 => 1,
            VersionRepr::V2 => 2,
        }
    }
}

macro_rules! config_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                ConfigRepr::new(self.version()).serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = ConfigRepr::deserialize(d)?.version();
                <$ty>::from_version(v).ok_or_else(|| de::Error::custom("unknown session config version"))
            }
        }
    };
}

config_serde!(olm::SessionConfig);
config_serde!(megolm::SessionConfig);

// ---------------------------------------------------------------- Olm messages

/// vodozemac's `MessageSerdeHelper`.
#[derive(Serialize, Deserialize)]
#[serde(rename = "MessageSerdeHelper")]
struct OlmMessageRepr {
    #[serde(rename = "type")]
    message_type: usize,
    #[serde(rename = "body")]
    ciphertext: String,
}

impl Serialize for OlmMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (message_type, ciphertext) = self.to_base64_parts();
        OlmMessageRepr { message_type, ciphertext }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for OlmMessage {
    /// Parses the message at once: a body that is not base64, a type other than 0 or 1, or a
    /// body that is not a message of that type is an error here.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = OlmMessageRepr::deserialize(d)?;
        let body =
            base64_decode_padding_indifferent(&repr.ciphertext).map_err(|_| de::Error::custom(DecodeError::Base64))?;
        OlmMessage::from_parts(repr.message_type, &body).map_err(de::Error::custom)
    }
}

/// Reads a string (as serde's `String` does: a string, or bytes that are UTF-8) and hands it
/// to `f`; an owned string is wiped afterwards.
struct StrVisitor<F>(&'static str, F);

impl<'de, T, E: fmt::Display, F: FnOnce(&str) -> Result<T, E>> Visitor<'de> for StrVisitor<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_str<Er: de::Error>(self, v: &str) -> Result<T, Er> {
        (self.1)(v).map_err(Er::custom)
    }

    fn visit_string<Er: de::Error>(self, mut v: String) -> Result<T, Er> {
        let r = (self.1)(&v).map_err(Er::custom);
        v.zeroize();
        r
    }

    fn visit_bytes<Er: de::Error>(self, v: &[u8]) -> Result<T, Er> {
        match core::str::from_utf8(v) {
            Ok(s) => (self.1)(s).map_err(Er::custom),
            Err(_) => Err(Er::invalid_value(de::Unexpected::Bytes(&[]), &self)),
        }
    }

    fn visit_byte_buf<Er: de::Error>(self, mut v: Vec<u8>) -> Result<T, Er> {
        let r = self.visit_bytes(&v);
        v.zeroize();
        r
    }
}

fn from_string<'de, D: Deserializer<'de>, T, E: fmt::Display>(
    d: D,
    what: &'static str,
    f: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error> {
    d.deserialize_string(StrVisitor(what, f))
}

macro_rules! base64_message_serde {
    ($ty:ty, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&base64_encode(self.to_bytes()))
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                from_string(d, $what, |s| {
                    let bytes = base64_decode_padding_indifferent(s).map_err(|_| DecodeError::Base64)?;
                    <$ty>::from_bytes(&bytes)
                })
            }
        }
    };
}

base64_message_serde!(Message, "a base64-encoded Olm message");
base64_message_serde!(PreKeyMessage, "a base64-encoded Olm pre-key message");
base64_message_serde!(MegolmMessage, "a base64-encoded Megolm message");

// ---------------------------------------------------------------- Megolm session keys

macro_rules! session_key_serde {
    ($ty:ty, $what:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_base64())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            /// Unpadded base64 only, as vodozemac reads it.
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                from_string(d, $what, |s| {
                    let bytes = base64_decode_unpadded_secret(s).map_err(|_| DecodeError::Base64)?;
                    <$ty>::from_bytes(&bytes)
                })
            }
        }
    };
}

session_key_serde!(SessionKey, "an unpadded base64-encoded Megolm session key");
session_key_serde!(ExportedSessionKey, "an unpadded base64-encoded exported Megolm session key");
