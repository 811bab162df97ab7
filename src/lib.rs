#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod consts;
pub mod ecies;
mod error;
#[cfg(feature = "hazmat")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "hazmat")]
pub mod hazmat;
pub mod hpke;
pub mod megolm;
pub mod olm;
pub mod primitives;
pub(crate) mod ratchet;
#[cfg(feature = "serde")]
mod serde_shapes;
mod session;
pub mod wire;

pub use error::{DecodeError, DecryptionError, KeyError, SessionCreationError, SignatureError};
pub use primitives::{Curve25519PublicKey, Ed25519PublicKey, Ed25519Signature};
pub mod interolm;
pub use error::{AddressError, EncryptionError, ProtocolError, StoreError};
pub use error::{BundleError, PreKeyKind};
pub mod pickle;
pub use error::DehydratedDeviceError;
pub use error::PickleError;
pub use error::{
    CertificateError, FingerprintError, GroupError, SealedMessageError, SealedSenderError, SenderKeyError,
};
pub use session::{Dialect, Message, Session};
// Matrix parity (issue 15): SAS verification, key backup's PK encryption, and vodozemac's
// root-level key names.
pub mod pk_encryption;
pub mod sas;
pub use olm::KeyId;
pub use primitives::{Curve25519SecretKey, Ed25519Keypair, Ed25519SecretKey, SharedSecret};

/// Set-ups shared by the unit tests (see the module).
#[cfg(test)]
mod test_fixtures;
