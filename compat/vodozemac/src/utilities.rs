//! base64 as vodozemac 0.11.1 reads and writes it: the standard alphabet, unpadded output, and
//! padding optional on input (canonical trailing bits required). Used for public values only
//! (keys, messages, MACs, signatures); secrets are decoded by caudata into wiped buffers.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{Engine, alphabet};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64 (standard alphabet, padding optional).
///
/// ```
/// assert_eq!(vodozemac::base64_decode("aGk").unwrap(), b"hi");
/// assert_eq!(vodozemac::base64_decode("aGk=").unwrap(), b"hi");
/// assert!(vodozemac::base64_decode("aGk!").is_err());
/// ```
///
/// # Errors
/// The [`base64::DecodeError`](crate::Base64DecodeError) of the first invalid symbol or length.
pub fn base64_decode(input: impl AsRef<[u8]>) -> Result<Vec<u8>, base64::DecodeError> {
    ENGINE.decode(input)
}

/// Encodes as unpadded base64 (standard alphabet).
///
/// ```
/// assert_eq!(vodozemac::base64_encode(b"hi"), "aGk");
/// ```
pub fn base64_encode(input: impl AsRef<[u8]>) -> String {
    ENGINE.encode(input)
}

/// The decoded length base64 text of `len` characters could have (vodozemac reports it in its
/// key-length errors).
pub(crate) fn decoded_len_estimate(len: usize) -> usize {
    base64::decoded_len_estimate(len)
}
