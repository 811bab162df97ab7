use matrix_pickle::Decode;
use serde::{Deserialize, Serialize};

use crate::Curve25519PublicKey;

/// The three public keys an Olm session is made from; they identify it.
#[derive(Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub struct SessionKeys {
    /// The initiator's identity key.
    pub identity_key: Curve25519PublicKey,
    /// The initiator's base (ephemeral) key.
    pub base_key: Curve25519PublicKey,
    /// The responder's one-time (or fallback) key.
    pub one_time_key: Curve25519PublicKey,
}

impl SessionKeys {
    /// The session id: unpadded base64 of SHA-256 over the three keys.
    pub fn session_id(&self) -> String {
        self.to_core().session_id()
    }

    pub(crate) fn to_core(self) -> caudata::olm::SessionKeys {
        caudata::olm::SessionKeys {
            identity_key: self.identity_key.inner,
            base_key: self.base_key.inner,
            one_time_key: self.one_time_key.inner,
        }
    }

    pub(crate) const fn from_core(k: caudata::olm::SessionKeys) -> Self {
        Self {
            identity_key: Curve25519PublicKey::from_core(k.identity_key),
            base_key: Curve25519PublicKey::from_core(k.base_key),
            one_time_key: Curve25519PublicKey::from_core(k.one_time_key),
        }
    }
}

impl Decode for SessionKeys {
    /// The three keys in libolm's session-pickle order: identity, base, one-time.
    fn decode(reader: &mut impl std::io::Read) -> Result<Self, matrix_pickle::DecodeError> {
        Ok(Self {
            identity_key: Curve25519PublicKey::decode(reader)?,
            base_key: Curve25519PublicKey::decode(reader)?,
            one_time_key: Curve25519PublicKey::decode(reader)?,
        })
    }
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("identity_key", &self.identity_key.to_base64())
            .field("base_key", &self.base_key.to_base64())
            .field("one_time_key", &self.one_time_key.to_base64())
            .finish()
    }
}
