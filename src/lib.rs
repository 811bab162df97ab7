#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod consts;
mod error;
#[cfg(feature = "hazmat")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "hazmat")]
pub mod hazmat;
pub mod megolm;
pub mod olm;
pub mod primitives;
pub(crate) mod ratchet;
mod session;
pub mod wire;

pub use error::{DecodeError, DecryptionError, EncryptionError, KeyError, SessionCreationError, SignatureError};
pub use primitives::{Curve25519PublicKey, Ed25519PublicKey, Ed25519Signature};
pub mod interolm;
pub use error::{BundleError, PreKeyKind};
pub mod pickle;
pub use error::PickleError;
pub use session::{Dialect, Message, Session};
