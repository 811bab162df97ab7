//! The prekeys an interolm account holds: signed prekeys, one-time prekeys and Kyber prekeys,
//! each under a `u32` id as libsignal numbers them.

use std::collections::{BTreeMap, VecDeque};

use crate::consts::MAX_LAST_RESORT_USES;
use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, Kyber1024PublicKey, Kyber1024SecretKey, XEdDsaSignature, sha256,
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

/// One use of a last-resort Kyber prekey that created a session: the two prekey ids and the
/// first 16 bytes of SHA-256 over a label and the initiator's base key (libsignal's replay
/// record is the triple of the ids and the base key; the digest keeps the record at 24 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct LastResortUse {
    pub(crate) kyber_id: u32,
    pub(crate) signed_id: u32,
    pub(crate) base_key_digest: [u8; 16],
}

impl LastResortUse {
    pub(crate) fn new(kyber_id: u32, signed_id: u32, base_key: &Curve25519PublicKey) -> Self {
        let d = sha256(&[b"caudata interolm last-resort use", base_key.as_bytes()]);
        let mut base_key_digest = [0u8; 16];
        base_key_digest.copy_from_slice(&d[..16]);
        Self { kyber_id, signed_id, base_key_digest }
    }
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
    /// Uses of last-resort Kyber prekeys, oldest first, at most [`MAX_LAST_RESORT_USES`].
    pub(crate) last_resort_uses: VecDeque<LastResortUse>,
}

impl core::fmt::Debug for PreKeyStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreKeyStore")
            .field("signed_pre_keys", &self.signed.keys().collect::<Vec<_>>())
            .field("one_time_pre_keys", &self.one_time.len())
            .field("kyber_pre_keys", &self.kyber.keys().collect::<Vec<_>>())
            .field("last_resort_uses", &self.last_resort_uses.len())
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

    /// Removes a signed prekey (rotation); returns whether it was there. The remembered uses
    /// of last-resort Kyber prekeys with it go too (a message naming it no longer finds it).
    pub fn remove_signed_pre_key(&mut self, id: u32) -> bool {
        self.last_resort_uses.retain(|u| u.signed_id != id);
        self.signed.remove(&id).is_some()
    }

    /// Removes a one-time prekey; returns whether it was there.
    pub fn remove_one_time_pre_key(&mut self, id: u32) -> bool {
        self.one_time.remove(&id).is_some()
    }

    /// Removes a Kyber prekey; returns whether it was there. The remembered uses of it (if it
    /// was last-resort) go too.
    pub fn remove_kyber_pre_key(&mut self, id: u32) -> bool {
        self.last_resort_uses.retain(|u| u.kyber_id != id);
        self.kyber.remove(&id).is_some()
    }

    /// How many uses of last-resort Kyber prekeys are remembered against replay (at most
    /// [`MAX_LAST_RESORT_USES`](crate::consts::MAX_LAST_RESORT_USES)).
    pub fn last_resort_uses(&self) -> usize {
        self.last_resort_uses.len()
    }

    pub(crate) fn last_resort_used(&self, u: &LastResortUse) -> bool {
        self.last_resort_uses.contains(u)
    }

    /// Remembers a use, forgetting the oldest beyond the limit.
    pub(crate) fn remember_last_resort_use(&mut self, u: LastResortUse) {
        if self.last_resort_uses.len() >= MAX_LAST_RESORT_USES {
            self.last_resort_uses.pop_front();
        }
        self.last_resort_uses.push_back(u);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn base_key(i: u32) -> Curve25519PublicKey {
        let mut b = [9u8; 32];
        b[..4].copy_from_slice(&i.to_be_bytes());
        Curve25519PublicKey::from_bytes(b)
    }

    #[test]
    fn last_resort_uses_are_bounded_oldest_first_and_go_with_their_prekeys() {
        let mut s = PreKeyStore::new();
        let uses: Vec<_> =
            (0..MAX_LAST_RESORT_USES as u32 + 1).map(|i| LastResortUse::new(7 + i % 2, 3, &base_key(i))).collect();
        for u in &uses[..MAX_LAST_RESORT_USES] {
            assert!(!s.last_resort_used(u));
            s.remember_last_resort_use(*u);
        }
        assert!(uses[..MAX_LAST_RESORT_USES].iter().all(|u| s.last_resort_used(u)));
        assert_eq!(s.last_resort_uses(), MAX_LAST_RESORT_USES);
        // one more: the oldest is forgotten, the newest remembered
        s.remember_last_resort_use(uses[MAX_LAST_RESORT_USES]);
        assert_eq!(s.last_resort_uses(), MAX_LAST_RESORT_USES);
        assert!(!s.last_resort_used(&uses[0]));
        assert!(s.last_resort_used(&uses[1]) && s.last_resort_used(&uses[MAX_LAST_RESORT_USES]));
        // the same base key with other prekey ids is another use
        assert!(!s.last_resort_used(&LastResortUse::new(8, 3, &base_key(2))));
        assert!(!s.last_resort_used(&LastResortUse::new(7, 4, &base_key(2))));
        // removing Kyber prekey 7 forgets its uses (the even ones), removing signed prekey 3 the rest
        s.remove_kyber_pre_key(7);
        assert_eq!(s.last_resort_uses(), MAX_LAST_RESORT_USES / 2);
        assert!(!s.last_resort_used(&uses[2]) && s.last_resort_used(&uses[3]));
        s.remove_signed_pre_key(3);
        assert_eq!(s.last_resort_uses(), 0);
    }

    #[test]
    fn imported_prekeys_are_stored_under_their_ids() {
        use crate::primitives::{Curve25519SecretKey, Kyber1024SecretKey, OsRandom, XEdDsaSignature};
        let mut s = PreKeyStore::new();
        let spk = Curve25519SecretKey::new();
        let opk = Curve25519SecretKey::new();
        let sig = XEdDsaSignature::from_bytes([3; 64]);
        s.import_signed_pre_key(5, spk.clone(), sig);
        s.import_one_time_pre_key(6, opk.clone());
        s.import_kyber_pre_key(7, Kyber1024SecretKey::generate(&mut OsRandom), sig, true);
        assert_eq!(s.signed[&5].public, spk.public_key());
        assert_eq!(s.signed[&5].signature, sig);
        assert_eq!(s.one_time[&6].public, opk.public_key());
        assert!(s.kyber[&7].last_resort);
        assert_eq!(s.kyber[&7].signature, sig);
    }

    #[test]
    fn accessors_and_removals_report_what_is_there() {
        use crate::primitives::{Curve25519SecretKey, Kyber1024SecretKey, OsRandom, XEdDsaSignature};
        let mut s = PreKeyStore::new();
        let (spk, opk6, opk8) = (Curve25519SecretKey::new(), Curve25519SecretKey::new(), Curve25519SecretKey::new());
        let (k7, k9) = (Kyber1024SecretKey::generate(&mut OsRandom), Kyber1024SecretKey::generate(&mut OsRandom));
        let sig = XEdDsaSignature::from_bytes([3; 64]);
        s.import_signed_pre_key(5, spk.clone(), sig);
        s.import_one_time_pre_key(8, opk8.clone());
        s.import_one_time_pre_key(6, opk6.clone());
        s.import_kyber_pre_key(9, k9.clone(), sig, false);
        s.import_kyber_pre_key(7, k7.clone(), sig, true);
        assert_eq!(s.signed_pre_key_ids(), [5]);
        assert_eq!(s.signed_pre_key(5), Some((spk.public_key(), sig)));
        assert_eq!(s.signed_pre_key(4), None);
        assert_eq!(s.one_time_pre_keys(), [(6, opk6.public_key()), (8, opk8.public_key())]);
        assert!(s.contains_one_time_pre_key(6) && !s.contains_one_time_pre_key(7));
        assert_eq!(s.kyber_pre_key_ids(), [7, 9]);
        assert_eq!(s.kyber_pre_key(7), Some((k7.public_key(), sig, true)));
        assert_eq!(s.kyber_pre_key(9), Some((k9.public_key(), sig, false)));
        assert_eq!(s.kyber_pre_key(8), None);
        // each removal says whether the key was there
        assert!(s.remove_signed_pre_key(5) && !s.remove_signed_pre_key(5) && !s.remove_signed_pre_key(4));
        assert!(s.remove_one_time_pre_key(6) && !s.remove_one_time_pre_key(6));
        assert!(s.remove_kyber_pre_key(7) && !s.remove_kyber_pre_key(7));
        assert_eq!((s.signed_pre_key_ids(), s.one_time_pre_keys().len(), s.kyber_pre_key_ids()), (vec![], 1, vec![9]));
    }

    #[test]
    fn new_ids_start_at_1_and_skip_ids_in_use() {
        use crate::primitives::Curve25519SecretKey;
        let mut s = PreKeyStore::new();
        assert_eq!((s.allocate_signed_id(), s.allocate_kyber_id()), (1, 1));
        s.import_one_time_pre_key(1, Curve25519SecretKey::new());
        s.import_one_time_pre_key(2, Curve25519SecretKey::new());
        assert_eq!((s.allocate_one_time_id(), s.allocate_one_time_id()), (3, 4));
        // after u32::MAX the ids wrap around to 1 (0 is never used), skipping ids in use
        s.next_one_time_id = u32::MAX;
        assert_eq!((s.allocate_one_time_id(), s.allocate_one_time_id()), (u32::MAX, 3));
        assert_eq!((s.allocate_signed_id(), s.allocate_kyber_id()), (2, 2));
    }
}
