//! Layer 2: bytes to message structs and back. Nothing here holds a secret.
//!
//! Decoders take `&[u8]`, reject what they cannot read with a precise [`DecodeError`], and keep
//! the exact bytes that a MAC or signature covers so that authentication is checked over what
//! was received, never over a re-encoding.
//!
//! [`DecodeError`]: crate::DecodeError

pub(crate) mod codec;
pub mod megolm;
pub mod olm;
pub mod signal;
