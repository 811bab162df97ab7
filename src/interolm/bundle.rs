//! Checking a peer's prekey bundle before it is used.

use crate::error::{BundleError, PreKeyKind};
use crate::wire::signal::{PreKeyBundle, encode_public_key};

impl PreKeyBundle {
    /// Checks everything an initiator relies on, in libsignal's order and then some: every
    /// Curve25519 key is canonical and not of small order (so never all-zero), the signed
    /// prekey's XEdDSA signature (over its 33-byte form) and the Kyber prekey's (over its
    /// 1569-byte form) verify under the identity key. Session creation calls this first.
    ///
    /// # Errors
    /// [`BundleError::InvalidKey`] naming the key, or [`BundleError::InvalidSignature`] naming
    /// the prekey.
    pub fn verify(&self) -> Result<(), BundleError> {
        let check = |key: &'static str, k: &crate::Curve25519PublicKey| {
            k.validate_vartime().map_err(|error| BundleError::InvalidKey { key, error })
        };
        check("identity key", &self.identity_key)?;
        check("signed prekey", &self.signed_pre_key)?;
        if let Some((_, k)) = &self.pre_key {
            check("one-time prekey", k)?;
        }
        self.identity_key
            .verify_xeddsa(&encode_public_key(&self.signed_pre_key), &self.signed_pre_key_signature)
            .map_err(|_| BundleError::InvalidSignature(PreKeyKind::Signed))?;
        if let Some((_, key, sig)) = &self.kyber_pre_key {
            self.identity_key
                .verify_xeddsa(&key.to_bytes(), sig)
                .map_err(|_| BundleError::InvalidSignature(PreKeyKind::Kyber))?;
        }
        Ok(())
    }
}
