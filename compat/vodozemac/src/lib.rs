#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cipher;
mod convert;
mod types;
mod utilities;

pub mod ecies;
pub mod hazmat;
pub mod hpke;
pub mod megolm;
pub mod olm;
#[cfg(feature = "insecure-pk-encryption")]
pub mod pk_encryption;
pub mod sas;

pub use base64::DecodeError as Base64DecodeError;
pub use prost::DecodeError as ProtoBufDecodeError;
pub use types::{
    Curve25519PublicKey, Curve25519SecretKey, Ed25519Keypair, Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature,
    KeyError, KeyId, SharedSecret, SignatureError,
};
pub use utilities::{base64_decode, base64_encode};

/// A pickle in vodozemac's encrypted JSON form could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PickleError {
    /// The text is not base64.
    #[error("The pickle wasn't valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The pickle key is wrong, or the pickle was modified or truncated.
    #[error("The pickle couldn't be decrypted: {0}")]
    Decryption(#[from] cipher::DecryptionError),
    /// The decrypted JSON does not hold the object (caudata's reader names the field or the
    /// check that failed).
    #[error("The pickle couldn't be deserialized: {0}")]
    Serialization(#[from] serde_json::Error),
}

/// A libolm pickle could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LibolmPickleError {
    /// The decrypted pickle is too short to hold a version.
    #[error("The pickle doesn't contain a version")]
    MissingVersion,
    /// A version this object does not read: the expected version, then the pickle's.
    #[error("The pickle uses an unsupported version, expected {0}, got {1}")]
    Version(u32, u32),
    /// The text is not base64.
    #[error("The pickle wasn't valid base64: {0}")]
    Base64(#[from] Base64DecodeError),
    /// The pickle key is wrong, or the pickle was modified.
    #[error("The pickle couldn't be decrypted: {0}")]
    Decryption(#[from] cipher::DecryptionError),
    /// A key in the pickle is unusable.
    #[error("The pickle contained an invalid ed25519 public key {0}")]
    PublicKey(#[from] KeyError),
    /// The session pickle has neither a sending nor a receiving chain.
    #[error("The pickle didn't contain a valid Olm session")]
    InvalidSession,
    /// The decrypted bytes do not decode.
    #[error(transparent)]
    Decode(#[from] matrix_pickle::DecodeError),
    /// The object has no libolm encoding.
    #[error(transparent)]
    Encode(#[from] matrix_pickle::EncodeError),
}

/// A dehydrated device (MSC3814) could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum DehydratedDeviceError {
    /// The decrypted device is too short to hold a version.
    #[error("The pickle doesn't contain a version")]
    MissingVersion,
    /// An unknown version: the expected one, then the device's.
    #[error("The pickle uses an unsupported version, expected {0}, got {1}")]
    Version(u32, u32),
    /// The nonce is not 12 bytes.
    #[error("The nonce was invalid")]
    InvalidNonce,
    /// The device or its nonce is not base64.
    #[error("The pickle wasn't valid base64: {0}")]
    Base64(#[from] Base64DecodeError),
    /// The dehydration key is wrong, or the device was modified.
    #[error("The pickle couldn't be decrypted: {0}")]
    Decryption(#[from] chacha20poly1305::aead::Error),
    /// The decrypted device does not decode.
    #[error(transparent)]
    LibolmPickle(#[from] LibolmPickleError),
    /// The account's signing key exists only in libolm's expanded form and cannot be stored.
    #[error("The Account can't be turned into a dehydrated device since it was created by libolm")]
    InvalidAccount,
}

/// A message could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// An Olm message type other than 0 or 1.
    #[error("The message has an invalid type, expected 0 or 1, got {0}")]
    MessageType(usize),
    /// The message is empty.
    #[error("The message didn't contain a version")]
    MissingVersion,
    /// The message is too short for its fields (its length).
    #[error("The message was too short, it didn't contain a valid payload")]
    MessageTooShort(usize),
    /// An unknown version: the version expected, then the message's.
    #[error("The message didn't have a valid version, expected {0}, got {1}")]
    InvalidVersion(u8, u8),
    /// A key inside the message is unusable.
    #[error("The message contained an invalid public key: {0}")]
    InvalidKey(#[from] KeyError),
    /// The MAC has the wrong length: expected, then received.
    #[error("The message contained a MAC with an invalid size, expected {0}, got {1}")]
    InvalidMacLength(usize, usize),
    /// The signature inside the message is malformed.
    #[error("The message contained an invalid Signature: {0}")]
    Signature(#[from] SignatureError),
    /// The protocol-buffer part of the message is malformed.
    #[error(transparent)]
    ProtoBufError(#[from] ProtoBufDecodeError),
    /// The message is not base64.
    #[error("The message wasn't valid base64: {0}")]
    Base64(#[from] Base64DecodeError),
}

/// This crate's version: vodozemac's, whose API it implements.
pub static VERSION: &str = env!("CARGO_PKG_VERSION");
