//! Layer 2: bytes to message structs and back. Nothing here holds a secret, except the chain
//! key of a sender-key distribution message (in zeroizing storage, never printed).
//!
//! Decoders take `&[u8]`, reject what they cannot read with a precise [`DecodeError`], and keep
//! the exact bytes that a MAC or signature covers so that authentication is checked over what
//! was received, never over a re-encoding.
//!
//! [`DecodeError`]: crate::DecodeError

pub(crate) mod codec;
pub mod megolm;
pub mod olm;
pub mod sealed_sender;
pub mod sender_key;
pub mod signal;
