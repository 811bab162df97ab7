//! Layer 2: bytes to message structs and back. Nothing here holds a secret, except the chain
//! key of a sender-key distribution message (in zeroizing storage, never printed).
//!
//! Decoders take `&[u8]`, reject what they cannot read with a precise [`DecodeError`], and keep
//! the exact bytes that a MAC or signature covers so that authentication is checked over what
//! was received, never over a re-encoding.
//!
//! [`DecodeError`]: crate::DecodeError

pub(crate) mod codec;

/// The four encodings of a public message type that wraps a wire struct (`Self(Wire)`): binary
/// and unpadded base64, each way. `Wire` must have `decode(&[u8]) -> Result<Wire, DecodeError>`
/// and `as_bytes() -> &[u8]` (the exact bytes received or encoded). Expands inside the type's
/// `impl` block.
macro_rules! binary_and_base64 {
    ($wire:ty) => {
        /// Decodes the binary form.
        ///
        /// # Errors
        /// A [`DecodeError`](crate::DecodeError) naming the problem.
        pub fn from_bytes(bytes: &[u8]) -> Result<Self, $crate::error::DecodeError> {
            <$wire>::decode(bytes).map(Self)
        }
        /// Decodes the base64 form.
        ///
        /// # Errors
        /// A [`DecodeError`](crate::DecodeError) naming the problem.
        pub fn from_base64(input: &str) -> Result<Self, $crate::error::DecodeError> {
            Self::from_bytes(&$crate::primitives::base64_decode(input).map_err(|_| $crate::error::DecodeError::Base64)?)
        }
        /// The binary form.
        pub fn to_bytes(&self) -> Vec<u8> {
            self.0.as_bytes().to_vec()
        }
        /// The unpadded base64 form Matrix sends.
        pub fn to_base64(&self) -> String {
            $crate::primitives::base64_encode(self.0.as_bytes())
        }
    };
}
pub(crate) use binary_and_base64;
pub mod megolm;
pub mod olm;
pub mod sealed_sender;
pub mod sender_key;
pub mod signal;
