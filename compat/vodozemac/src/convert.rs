//! caudata's errors in vodozemac's shapes. caudata's errors are more detailed; where vodozemac
//! has no matching variant, the closest one carries caudata's message.

use hmac::digest::MacError;

use crate::cipher::DecryptionError as CipherError;
use crate::{DecodeError, DehydratedDeviceError, KeyError, LibolmPickleError, PickleError};

/// A `prost::DecodeError` carrying `description` (vodozemac reports every malformed
/// protocol-buffer field through prost's error).
pub(crate) fn protobuf_error(description: String) -> prost::DecodeError {
    #[allow(deprecated)]
    prost::DecodeError::new(description)
}

/// caudata's decode error for a message of `len` bytes whose newest version is
/// `expected_version`.
pub(crate) fn decode_error(e: caudata::DecodeError, len: usize, expected_version: u8) -> DecodeError {
    use caudata::DecodeError as C;
    match e {
        C::Truncated(_) => DecodeError::MessageTooShort(len),
        C::UnsupportedVersion(v) | C::LegacyVersion(v) => DecodeError::InvalidVersion(expected_version, v),
        C::Key(k) => DecodeError::InvalidKey(KeyError::from_core(k, "Curve25519")),
        C::UnknownMessageType(t) => DecodeError::MessageType(t),
        C::Base64 => DecodeError::Base64(base64::DecodeError::InvalidPadding),
        other => DecodeError::ProtoBufError(protobuf_error(other.to_string())),
    }
}

/// A `serde_json::Error` carrying `message`: how a pickle's content errors are reported.
pub(crate) fn json_error(message: impl std::fmt::Display) -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom(message)
}

/// The base64 error vodozemac would report for `input` (called once caudata refused it).
pub(crate) fn base64_error(input: &str) -> base64::DecodeError {
    match crate::base64_decode(input) {
        Err(e) => e,
        // Text vodozemac's decoder takes but caudata's refuses does not exist for the inputs
        // that reach here; report the closest error.
        Ok(_) => base64::DecodeError::InvalidPadding,
    }
}

/// caudata's error for a pickle in vodozemac's encrypted JSON form.
pub(crate) fn pickle_error(e: caudata::PickleError, input: &str) -> PickleError {
    use caudata::PickleError as C;
    match e {
        C::Base64 => PickleError::Base64(base64_error(input)),
        C::Authentication => PickleError::Decryption(CipherError::Mac(MacError)),
        C::Truncated(_) => PickleError::Decryption(CipherError::MacMissing),
        other => PickleError::Serialization(json_error(other)),
    }
}

/// caudata's error for a libolm pickle (`expected_version`: the version vodozemac reads).
pub(crate) fn libolm_pickle_error(e: caudata::PickleError, input: &str, expected_version: u32) -> LibolmPickleError {
    use caudata::PickleError as C;
    match e {
        C::Base64 => LibolmPickleError::Base64(base64_error(input)),
        C::Authentication => LibolmPickleError::Decryption(CipherError::Mac(MacError)),
        C::Truncated("pickle MAC") => LibolmPickleError::Decryption(CipherError::MacMissing),
        C::Truncated("version") => LibolmPickleError::MissingVersion,
        C::UnknownVersion { got, .. } | C::LegacyVersion { got, .. } => {
            LibolmPickleError::Version(expected_version, got)
        }
        C::Key(k) => LibolmPickleError::PublicKey(KeyError::from_core(k, "Ed25519")),
        C::KeyMismatch(_) => LibolmPickleError::PublicKey(KeyError::NonContributoryKey),
        C::Unrepresentable(what) => {
            LibolmPickleError::Encode(matrix_pickle::EncodeError::IO(std::io::Error::other(what)))
        }
        other => LibolmPickleError::Decode(matrix_pickle::DecodeError::IO(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            other.to_string(),
        ))),
    }
}

/// caudata's error for a dehydrated device.
pub(crate) fn dehydrated_device_error(
    e: caudata::DehydratedDeviceError,
    ciphertext: &str,
    nonce: &str,
) -> DehydratedDeviceError {
    use caudata::DehydratedDeviceError as C;
    match e {
        C::MissingVersion => DehydratedDeviceError::MissingVersion,
        C::Version { expected, got } => DehydratedDeviceError::Version(expected, got),
        C::InvalidNonce { .. } => DehydratedDeviceError::InvalidNonce,
        C::Base64 => DehydratedDeviceError::Base64(match crate::base64_decode(ciphertext) {
            Err(e) => e,
            Ok(_) => base64_error(nonce),
        }),
        C::Decryption => DehydratedDeviceError::Decryption(chacha20poly1305::aead::Error),
        C::InvalidAccount => DehydratedDeviceError::InvalidAccount,
        C::Pickle(p) => DehydratedDeviceError::LibolmPickle(libolm_pickle_error(p, "", 1)),
        other => DehydratedDeviceError::LibolmPickle(LibolmPickleError::Decode(matrix_pickle::DecodeError::IO(
            std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
        ))),
    }
}
