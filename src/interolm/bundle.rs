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

#[cfg(test)]
mod tests {
    use crate::error::{BundleError, PreKeyKind, SessionCreationError};
    use crate::interolm::Account;
    use crate::primitives::{Curve25519PublicKey, XEdDsaSignature};

    fn flipped(sig: &XEdDsaSignature) -> XEdDsaSignature {
        let mut b = sig.to_bytes();
        b[7] ^= 1;
        XEdDsaSignature::from_bytes(b)
    }

    #[test]
    fn every_signature_and_key_of_a_bundle_is_checked() {
        let mut bob = Account::new();
        bob.generate_signed_pre_key();
        bob.generate_one_time_pre_keys(1);
        bob.generate_kyber_pre_key(false);
        let good = bob.pre_key_bundle(1).unwrap();
        assert_eq!(good.verify(), Ok(()));
        let alice = Account::new();
        let mut bad_signed = good.clone();
        bad_signed.signed_pre_key_signature = flipped(&good.signed_pre_key_signature);
        assert_eq!(bad_signed.verify(), Err(BundleError::InvalidSignature(PreKeyKind::Signed)));
        assert_eq!(
            alice.create_outbound_session(&bad_signed).unwrap_err(),
            SessionCreationError::InvalidBundle(BundleError::InvalidSignature(PreKeyKind::Signed))
        );
        let mut bad_kyber = good.clone();
        if let Some((_, _, sig)) = &mut bad_kyber.kyber_pre_key {
            *sig = flipped(sig);
        }
        assert_eq!(bad_kyber.verify(), Err(BundleError::InvalidSignature(PreKeyKind::Kyber)));
        // another identity key: neither signature verifies
        let mut other_identity = good.clone();
        other_identity.identity_key = Account::new().identity_key();
        assert_eq!(other_identity.verify(), Err(BundleError::InvalidSignature(PreKeyKind::Signed)));
        // a small-order key anywhere
        let zero = Curve25519PublicKey::from_bytes([0; 32]);
        let mut weak = good.clone();
        weak.pre_key = weak.pre_key.map(|(id, _)| (id, zero));
        assert!(matches!(weak.verify(), Err(BundleError::InvalidKey { key: "one-time prekey", .. })));
        let mut weak = good.clone();
        weak.signed_pre_key = zero;
        assert!(matches!(weak.verify(), Err(BundleError::InvalidKey { key: "signed prekey", .. })));
        let mut weak = good;
        weak.identity_key = zero;
        assert!(matches!(weak.verify(), Err(BundleError::InvalidKey { key: "identity key", .. })));
    }
}
