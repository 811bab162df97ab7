//! Errors as JavaScript sees them: a thrown `Error` whose `name` is `"CaudataError"`, whose
//! `message` is caudata's own (it never contains key material or plaintext), and whose `code`
//! is one of the stable strings below. The table is README.md's "Error codes".

use caudata::interolm::spqr::SpqrError;
use caudata::megolm::SessionKeyDecodeError;
use caudata::{
    BundleError, DecodeError, DecryptionError, EncryptionError, KeyError, PickleError, SessionCreationError,
    SignatureError,
};
use wasm_bindgen::JsValue;

/// Every code an error can carry, in the order of README.md's table. Exported to JavaScript as
/// `errorCodes()` so that tests and applications can check they handle all of them.
pub(crate) const ALL_CODES: &[&str] = &[
    "INVALID_ARGUMENT",
    "INVALID_BASE64",
    "INVALID_KEY",
    "NON_CONTRIBUTORY_KEY",
    "BAD_SIGNATURE",
    "DECODE_ERROR",
    "UNKNOWN_MESSAGE_TYPE",
    "UNSUPPORTED_VERSION",
    "LEGACY_VERSION",
    "BAD_MAC",
    "BAD_MAC_LENGTH",
    "BAD_PADDING",
    "MISSING_MESSAGE_KEY",
    "TOO_BIG_MESSAGE_GAP",
    "UNEXPECTED_RATCHET_KEY",
    "SESSION_MISMATCH",
    "UNKNOWN_MESSAGE_INDEX",
    "WRONG_DIALECT",
    "VERSION_MISMATCH",
    "MISSING_ONE_TIME_KEY",
    "MISMATCHED_IDENTITY_KEY",
    "UNKNOWN_PRE_KEY",
    "INVALID_BUNDLE",
    "X3DH_NOT_ALLOWED",
    "REPLAYED_PRE_KEY_MESSAGE",
    "SPQR_ERROR",
    "INVALID_SESSION_KEY",
    "BAD_PICKLE_KEY",
    "UNKNOWN_PICKLE_VERSION",
    "LEGACY_PICKLE_VERSION",
    "WRONG_PICKLE_TYPE",
    "UNREPRESENTABLE",
    "INVALID_PICKLE",
    "ERROR",
];

/// An error on its way to JavaScript. Converting it into a `JsValue` builds the `Error` object;
/// wasm-bindgen throws whatever a `Result`'s `Err` converts to.
#[derive(Debug)]
pub struct Error {
    code: &'static str,
    message: String,
}

impl Error {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("INVALID_ARGUMENT", message)
    }
}

impl From<Error> for JsValue {
    fn from(e: Error) -> Self {
        let error = js_sys::Error::new(&e.message);
        error.set_name("CaudataError");
        // Setting a property on a fresh, extensible Error object cannot fail.
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(e.code));
        error.into()
    }
}

/// The stable code of each of caudata's error variants.
pub(crate) trait Code: core::fmt::Display {
    fn code(&self) -> &'static str;
}

macro_rules! from_caudata {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Self::new(e.code(), e.to_string())
            }
        }
    )*};
}
from_caudata!(
    KeyError,
    SignatureError,
    DecodeError,
    DecryptionError,
    EncryptionError,
    SessionCreationError,
    BundleError,
    SessionKeyDecodeError,
    PickleError
);

impl Code for KeyError {
    fn code(&self) -> &'static str {
        match self {
            Self::Base64 => "INVALID_BASE64",
            Self::NonContributory => "NON_CONTRIBUTORY_KEY",
            _ => "INVALID_KEY",
        }
    }
}

impl Code for SignatureError {
    fn code(&self) -> &'static str {
        match self {
            Self::Key(k) => k.code(),
            _ => "BAD_SIGNATURE",
        }
    }
}

impl Code for DecodeError {
    fn code(&self) -> &'static str {
        match self {
            Self::Base64 => "INVALID_BASE64",
            Self::Key(k) => k.code(),
            Self::UnknownMessageType(_) => "UNKNOWN_MESSAGE_TYPE",
            Self::UnsupportedVersion(_) => "UNSUPPORTED_VERSION",
            Self::LegacyVersion(_) => "LEGACY_VERSION",
            _ => "DECODE_ERROR",
        }
    }
}

impl Code for DecryptionError {
    fn code(&self) -> &'static str {
        match self {
            Self::Decode(d) => d.code(),
            Self::InvalidMac => "BAD_MAC",
            Self::InvalidMacLength { .. } => "BAD_MAC_LENGTH",
            Self::InvalidPadding => "BAD_PADDING",
            Self::MissingMessageKey { .. } => "MISSING_MESSAGE_KEY",
            Self::TooBigMessageGap { .. } => "TOO_BIG_MESSAGE_GAP",
            Self::UnexpectedRatchetKey => "UNEXPECTED_RATCHET_KEY",
            Self::SessionMismatch => "SESSION_MISMATCH",
            Self::Key(k) => k.code(),
            Self::InvalidSignature => "BAD_SIGNATURE",
            Self::UnknownMessageIndex { .. } => "UNKNOWN_MESSAGE_INDEX",
            Self::WrongDialect { .. } => "WRONG_DIALECT",
            Self::VersionMismatch { .. } => "VERSION_MISMATCH",
            Self::Spqr(e) => e.code(),
            _ => "ERROR",
        }
    }
}

impl Code for EncryptionError {
    fn code(&self) -> &'static str {
        match self {
            Self::Spqr(e) => e.code(),
            _ => "ERROR",
        }
    }
}

/// interolm's post-quantum ratchet: a replay, a too-old or too-far key and a bad MAC get the
/// same codes as in the double ratchet; anything else is `SPQR_ERROR`.
impl Code for SpqrError {
    fn code(&self) -> &'static str {
        match self {
            Self::KeyAlreadyUsed { .. } | Self::KeyTrimmed { .. } => "MISSING_MESSAGE_KEY",
            Self::KeyJump { .. } => "TOO_BIG_MESSAGE_GAP",
            Self::InvalidHeaderMac | Self::InvalidCiphertextMac => "BAD_MAC",
            _ => "SPQR_ERROR",
        }
    }
}

impl Code for SessionCreationError {
    fn code(&self) -> &'static str {
        match self {
            Self::MissingOneTimeKey(_) => "MISSING_ONE_TIME_KEY",
            Self::MismatchedIdentityKey(..) => "MISMATCHED_IDENTITY_KEY",
            Self::MismatchedSessionConfig { .. } => "MISMATCHED_SESSION_CONFIG",
            Self::Decryption(d) => d.code(),
            Self::Key(k) => k.code(),
            Self::UnknownPreKey { .. } => "UNKNOWN_PRE_KEY",
            Self::InvalidBundle(b) => b.code(),
            Self::X3dhNotAllowed => "X3DH_NOT_ALLOWED",
            Self::ReplayedPreKeyMessage => "REPLAYED_PRE_KEY_MESSAGE",
            _ => "ERROR",
        }
    }
}

impl Code for BundleError {
    fn code(&self) -> &'static str {
        match self {
            Self::Decode(d) => d.code(),
            _ => "INVALID_BUNDLE",
        }
    }
}

impl Code for SessionKeyDecodeError {
    fn code(&self) -> &'static str {
        match self {
            Self::Signature => "BAD_SIGNATURE",
            Self::Key(k) => k.code(),
            Self::Decode(DecodeError::Base64) => "INVALID_BASE64",
            _ => "INVALID_SESSION_KEY",
        }
    }
}

impl Code for PickleError {
    fn code(&self) -> &'static str {
        match self {
            Self::Base64 => "INVALID_BASE64",
            Self::Authentication => "BAD_PICKLE_KEY",
            Self::UnknownVersion { .. } => "UNKNOWN_PICKLE_VERSION",
            Self::LegacyVersion { .. } => "LEGACY_PICKLE_VERSION",
            Self::WrongObjectType { .. } => "WRONG_PICKLE_TYPE",
            Self::Unrepresentable(_) => "UNREPRESENTABLE",
            _ => "INVALID_PICKLE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_code_is_listed() {
        let samples: Vec<&'static str> = vec![
            KeyError::Base64.code(),
            KeyError::NonContributory.code(),
            KeyError::InvalidPoint.code(),
            SignatureError::Invalid.code(),
            DecodeError::TrailingBytes.code(),
            DecodeError::UnknownMessageType(7).code(),
            DecodeError::UnsupportedVersion(9).code(),
            DecodeError::LegacyVersion(2).code(),
            DecryptionError::InvalidMac.code(),
            DecryptionError::InvalidMacLength { expected: 8, got: 32 }.code(),
            DecryptionError::InvalidPadding.code(),
            DecryptionError::MissingMessageKey { index: 1 }.code(),
            DecryptionError::TooBigMessageGap { got: 1, max: 0 }.code(),
            DecryptionError::UnexpectedRatchetKey.code(),
            DecryptionError::SessionMismatch.code(),
            DecryptionError::InvalidSignature.code(),
            DecryptionError::UnknownMessageIndex { got: 0, first_known: 1 }.code(),
            DecryptionError::WrongDialect { expected: "olm", got: "interolm" }.code(),
            DecryptionError::VersionMismatch { expected: 3, got: 4 }.code(),
            DecryptionError::Spqr(SpqrError::Internal("x")).code(),
            SessionCreationError::MissingOneTimeKey(caudata::Curve25519PublicKey::from_bytes([0; 32])).code(),
            SessionCreationError::MismatchedIdentityKey(
                caudata::Curve25519PublicKey::from_bytes([0; 32]),
                caudata::Curve25519PublicKey::from_bytes([1; 32]),
            )
            .code(),
            SessionCreationError::MismatchedSessionConfig {
                expected: caudata::olm::SessionConfig::version_1(),
                got: caudata::olm::SessionConfig::version_2(),
            }
            .code(),
            SessionCreationError::X3dhNotAllowed.code(),
            SessionCreationError::ReplayedPreKeyMessage.code(),
            BundleError::InvalidSignature(caudata::PreKeyKind::Signed).code(),
            SessionKeyDecodeError::Length { expected: 229, got: 1 }.code(),
            PickleError::Authentication.code(),
            PickleError::UnknownVersion { got: 9, max: 1 }.code(),
            PickleError::LegacyVersion { object: "account", got: 1 }.code(),
            PickleError::WrongObjectType { expected: 1, got: 2 }.code(),
            PickleError::Unrepresentable("x").code(),
            PickleError::TrailingBytes.code(),
        ];
        for code in samples {
            assert!(ALL_CODES.contains(&code), "{code} is not in ALL_CODES");
        }
    }
}
