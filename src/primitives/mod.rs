//! Layer 1: the only code that touches raw secret bytes and the cryptographic crates.
//!
//! Everything secret in here zeroizes on drop, has a hand-written `Debug` that prints nothing
//! secret, and is compared only in constant time.

mod base64;
mod cipher;
mod ct;
mod curve25519;
mod ed25519;
mod kdf;
mod rng;
mod secret;

pub use base64::{Base64DecodeError, base64_decode, base64_encode};
#[allow(unused_imports)]
pub(crate) use base64::{base64_decode_secret, base64_encode_secret};
pub(crate) use cipher::{AesCbcKeys, aes256_cbc_decrypt, aes256_cbc_encrypt};
pub(crate) use ct::ct_eq;
pub use curve25519::{Curve25519PublicKey, Curve25519SecretKey, SharedSecret};
pub use ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};
pub(crate) use kdf::{HmacKey, hkdf_sha256, sha256};
pub use rng::{OsRandom, RandomSource};
pub use secret::SecretBytes;
