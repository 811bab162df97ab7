//! The prekeys an interolm account holds: signed prekeys, one-time prekeys and Kyber prekeys,
//! each under a `u32` id as libsignal numbers them.

use std::collections::BTreeMap;

use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, Kyber1024PublicKey, Kyber1024SecretKey, XEdDsaSignature,
};

/// A signed prekey: its secret, and the identity key's signature of its public key.
#[derive(Clone)]
pub(crate) struct SignedPreKeyRecord {
    pub(crate) secret: Curve25519SecretKey,
    pub(crate) public: Curve25519PublicKey,
    pub(crate) signature: XEdDsaSignature,
}

/// A one-time prekey.
#[derive(Clone)]
pub(crate) struct OneTimePreKeyRecord {
    pub(crate) secret: Curve25519SecretKey,
    pub(crate) public: Curve25519PublicKey,
}

/// A Kyber1024 prekey, signed by the identity key. A last-resort key stays after use; any
/// other is removed with the session that used it.
#[derive(Clone)]
pub(crate) struct KyberPreKeyRecord {
    pub(crate) secret: Kyber1024SecretKey,
    pub(crate) signature: XEdDsaSignature,
    pub(crate) last_resort: bool,
}

/// The prekeys of an interolm [`Account`](super::Account), by id.
///
/// A one-time prekey, and a Kyber prekey that is not last-resort, is removed only when a
/// pre-key message that used it has decrypted. The store never evicts anything by itself:
/// rotating signed and Kyber prekeys and topping up one-time prekeys is the caller's policy
/// (Signal clients rotate signed prekeys about every two days, and keep around 100 one-time
/// prekeys on the server).
#[derive(Clone, Default)]
pub struct PreKeyStore {
    pub(crate) signed: BTreeMap<u32, SignedPreKeyRecord>,
    pub(crate) one_time: BTreeMap<u32, OneTimePreKeyRecord>,
    pub(crate) kyber: BTreeMap<u32, KyberPreKeyRecord>,
    pub(crate) next_signed_id: u32,
    pub(crate) next_one_time_id: u32,
    pub(crate) next_kyber_id: u32,
}

impl core::fmt::Debug for PreKeyStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreKeyStore")
            .field("signed_pre_keys", &self.signed.keys().collect::<Vec<_>>())
            .field("one_time_pre_keys", &self.one_time.len())
            .field("kyber_pre_keys", &self.kyber.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The next free id after `next`, skipping ids still in use (ids wrap around `u32`).
fn allocate<V>(next: &mut u32, used: &BTreeMap<u32, V>) -> u32 {
    loop {
        let id = (*next).max(1);
        *next = id.wrapping_add(1);
        if !used.contains_key(&id) {
            return id;
        }
    }
}

impl PreKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn allocate_signed_id(&mut self) -> u32 {
        allocate(&mut self.next_signed_id, &self.signed)
    }
    pub(crate) fn allocate_one_time_id(&mut self) -> u32 {
        allocate(&mut self.next_one_time_id, &self.one_time)
    }
    pub(crate) fn allocate_kyber_id(&mut self) -> u32 {
        allocate(&mut self.next_kyber_id, &self.kyber)
    }

    /// Ids of the signed prekeys, ascending.
    pub fn signed_pre_key_ids(&self) -> Vec<u32> {
        self.signed.keys().copied().collect()
    }

    /// A signed prekey's public key and signature.
    pub fn signed_pre_key(&self, id: u32) -> Option<(Curve25519PublicKey, XEdDsaSignature)> {
        self.signed.get(&id).map(|r| (r.public, r.signature))
    }

    /// The one-time prekeys (id, public key), ascending by id.
    pub fn one_time_pre_keys(&self) -> Vec<(u32, Curve25519PublicKey)> {
        self.one_time.iter().map(|(id, r)| (*id, r.public)).collect()
    }

    /// Whether the one-time prekey `id` is still there (unused).
    pub fn contains_one_time_pre_key(&self, id: u32) -> bool {
        self.one_time.contains_key(&id)
    }

    /// Ids of the Kyber prekeys, ascending.
    pub fn kyber_pre_key_ids(&self) -> Vec<u32> {
        self.kyber.keys().copied().collect()
    }

    /// A Kyber prekey's public key, signature, and whether it is last-resort.
    pub fn kyber_pre_key(&self, id: u32) -> Option<(&Kyber1024PublicKey, XEdDsaSignature, bool)> {
        self.kyber.get(&id).map(|r| (r.secret.public_key(), r.signature, r.last_resort))
    }

    /// Removes a signed prekey (rotation); returns whether it was there.
    pub fn remove_signed_pre_key(&mut self, id: u32) -> bool {
        self.signed.remove(&id).is_some()
    }

    /// Removes a one-time prekey; returns whether it was there.
    pub fn remove_one_time_pre_key(&mut self, id: u32) -> bool {
        self.one_time.remove(&id).is_some()
    }

    /// Removes a Kyber prekey; returns whether it was there.
    pub fn remove_kyber_pre_key(&mut self, id: u32) -> bool {
        self.kyber.remove(&id).is_some()
    }

    /// Stores an existing signed prekey under `id` (for instance one exported from libsignal),
    /// replacing any key with that id. The signature is stored as given: it is what peers
    /// receive in the bundle, and they check it.
    pub fn import_signed_pre_key(&mut self, id: u32, secret: Curve25519SecretKey, signature: XEdDsaSignature) {
        let public = secret.public_key();
        self.signed.insert(id, SignedPreKeyRecord { secret, public, signature });
    }

    /// Stores an existing one-time prekey under `id`, replacing any key with that id.
    pub fn import_one_time_pre_key(&mut self, id: u32, secret: Curve25519SecretKey) {
        let public = secret.public_key();
        self.one_time.insert(id, OneTimePreKeyRecord { secret, public });
    }

    /// Stores an existing Kyber prekey under `id`, replacing any key with that id.
    pub fn import_kyber_pre_key(
        &mut self,
        id: u32,
        secret: Kyber1024SecretKey,
        signature: XEdDsaSignature,
        last_resort: bool,
    ) {
        self.kyber.insert(id, KyberPreKeyRecord { secret, signature, last_resort });
    }
}
