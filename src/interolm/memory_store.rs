//! [`InMemoryStore`]: every store trait in memory, for tests, short-lived devices, and as the
//! model the persistent stores follow.

use std::collections::{BTreeMap, HashMap, VecDeque};

use zeroize::Zeroizing;

use super::address::{ProtocolAddress, Uuid};
use super::key_records::{IdentityKeyPair, KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord};
use super::session_record::SessionRecord;
use super::stores::{
    IdentityChange, IdentityKeyStore, KyberPreKeyStore, OneTimePreKeyStore, PreKeyReplayStore, PreKeyUse,
    ProtocolStore, SenderKeyStore, SessionStore, SignedPreKeyStore, TrustDirection,
};
use crate::consts::MAX_LAST_RESORT_USES;
use crate::error::StoreError;
use crate::primitives::{Curve25519PublicKey, sha256};

/// A remembered [`PreKeyUse`]: its two ids and a 16-byte digest of the use.
#[derive(Clone, Copy, PartialEq, Eq)]
struct UseEntry {
    signed_pre_key_id: u32,
    kyber_pre_key_id: Option<u32>,
    digest: [u8; 16],
}

impl UseEntry {
    fn new(u: &PreKeyUse) -> Self {
        let kyber = match u.kyber_pre_key_id {
            Some(id) => {
                let mut b = [1u8; 5];
                b[1..].copy_from_slice(&id.to_be_bytes());
                b
            }
            None => [0u8; 5],
        };
        let d = sha256(&[
            b"caudata interolm pre-key use",
            &u.signed_pre_key_id.to_be_bytes(),
            &kyber,
            u.base_key.as_bytes(),
        ]);
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&d[..16]);
        Self { signed_pre_key_id: u.signed_pre_key_id, kyber_pre_key_id: u.kyber_pre_key_id, digest }
    }
}

/// Every store in memory: the local identity and registration id, correspondents' identities
/// (trusted on first use, then only that key, as libsignal's in-memory store), session records,
/// the three kinds of prekeys, sender keys, and the bounded memory of pre-key uses (the newest
/// [`MAX_LAST_RESORT_USES`] as 16-byte digests; those of a signed or Kyber prekey are forgotten
/// when it is removed).
///
/// ```
/// use caudata::interolm::{DeviceId, IdentityKeyPair, InMemoryStore, ProtocolAddress, IdentityKeyStore};
///
/// let store = InMemoryStore::new(IdentityKeyPair::generate(), 4242);
/// assert_eq!(store.local_registration_id().unwrap(), 4242);
/// ```
#[derive(Clone)]
pub struct InMemoryStore {
    identity: IdentityKeyPair,
    registration_id: u32,
    identities: HashMap<ProtocolAddress, Curve25519PublicKey>,
    sessions: HashMap<ProtocolAddress, SessionRecord>,
    pre_keys: BTreeMap<u32, PreKeyRecord>,
    signed_pre_keys: BTreeMap<u32, SignedPreKeyRecord>,
    kyber_pre_keys: BTreeMap<u32, KyberPreKeyRecord>,
    sender_keys: HashMap<(ProtocolAddress, Uuid), Zeroizing<Vec<u8>>>,
    uses: VecDeque<UseEntry>,
}

impl core::fmt::Debug for InMemoryStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InMemoryStore")
            .field("identity", &self.identity)
            .field("registration_id", &self.registration_id)
            .field("identities", &self.identities.len())
            .field("sessions", &self.sessions.len())
            .field("pre_keys", &self.pre_keys.len())
            .field("signed_pre_keys", &self.signed_pre_keys.keys().collect::<Vec<_>>())
            .field("kyber_pre_keys", &self.kyber_pre_keys.keys().collect::<Vec<_>>())
            .field("sender_keys", &self.sender_keys.len())
            .field("pre_key_uses", &self.uses.len())
            .finish_non_exhaustive()
    }
}

impl InMemoryStore {
    /// An empty store for the device with this identity and registration id.
    pub fn new(identity: IdentityKeyPair, registration_id: u32) -> Self {
        Self {
            identity,
            registration_id,
            identities: HashMap::new(),
            sessions: HashMap::new(),
            pre_keys: BTreeMap::new(),
            signed_pre_keys: BTreeMap::new(),
            kyber_pre_keys: BTreeMap::new(),
            sender_keys: HashMap::new(),
            uses: VecDeque::new(),
        }
    }

    /// How many pre-key uses are remembered (at most [`MAX_LAST_RESORT_USES`]).
    pub fn pre_key_uses(&self) -> usize {
        self.uses.len()
    }

    /// The addresses that have a session record.
    pub fn session_addresses(&self) -> Vec<ProtocolAddress> {
        let mut v: Vec<_> = self.sessions.keys().cloned().collect();
        v.sort();
        v
    }

    /// Ids of the one-time prekeys held, ascending.
    pub fn pre_key_ids(&self) -> Vec<u32> {
        self.pre_keys.keys().copied().collect()
    }
}

impl SessionStore for InMemoryStore {
    fn load_session(&self, address: &ProtocolAddress) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.sessions.get(address).cloned())
    }

    fn store_session(&mut self, address: &ProtocolAddress, record: &SessionRecord) -> Result<(), StoreError> {
        self.sessions.insert(address.clone(), record.clone());
        Ok(())
    }
}

impl IdentityKeyStore for InMemoryStore {
    fn identity_key_pair(&self) -> Result<IdentityKeyPair, StoreError> {
        Ok(self.identity.clone())
    }

    fn local_registration_id(&self) -> Result<u32, StoreError> {
        Ok(self.registration_id)
    }

    fn save_identity(
        &mut self,
        address: &ProtocolAddress,
        identity: &Curve25519PublicKey,
    ) -> Result<IdentityChange, StoreError> {
        Ok(match self.identities.insert(address.clone(), *identity) {
            Some(old) if old != *identity => IdentityChange::ReplacedExisting,
            _ => IdentityChange::NewOrUnchanged,
        })
    }

    fn is_trusted_identity(
        &self,
        address: &ProtocolAddress,
        identity: &Curve25519PublicKey,
        _direction: TrustDirection,
    ) -> Result<bool, StoreError> {
        Ok(self.identities.get(address).is_none_or(|known| known == identity))
    }

    fn identity(&self, address: &ProtocolAddress) -> Result<Option<Curve25519PublicKey>, StoreError> {
        Ok(self.identities.get(address).copied())
    }
}

impl OneTimePreKeyStore for InMemoryStore {
    fn load_pre_key(&self, id: u32) -> Result<Option<PreKeyRecord>, StoreError> {
        Ok(self.pre_keys.get(&id).cloned())
    }

    fn store_pre_key(&mut self, record: &PreKeyRecord) -> Result<(), StoreError> {
        self.pre_keys.insert(record.id, record.clone());
        Ok(())
    }

    fn remove_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.pre_keys.remove(&id);
        Ok(())
    }
}

impl SignedPreKeyStore for InMemoryStore {
    fn load_signed_pre_key(&self, id: u32) -> Result<Option<SignedPreKeyRecord>, StoreError> {
        Ok(self.signed_pre_keys.get(&id).cloned())
    }

    fn store_signed_pre_key(&mut self, record: &SignedPreKeyRecord) -> Result<(), StoreError> {
        self.signed_pre_keys.insert(record.id, record.clone());
        Ok(())
    }

    fn remove_signed_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.uses.retain(|u| u.signed_pre_key_id != id);
        self.signed_pre_keys.remove(&id);
        Ok(())
    }

    fn signed_pre_key_ids(&self) -> Result<Vec<u32>, StoreError> {
        Ok(self.signed_pre_keys.keys().copied().collect())
    }
}

impl KyberPreKeyStore for InMemoryStore {
    fn load_kyber_pre_key(&self, id: u32) -> Result<Option<KyberPreKeyRecord>, StoreError> {
        Ok(self.kyber_pre_keys.get(&id).cloned())
    }

    fn store_kyber_pre_key(&mut self, record: &KyberPreKeyRecord) -> Result<(), StoreError> {
        self.kyber_pre_keys.insert(record.id, record.clone());
        Ok(())
    }

    fn remove_kyber_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.uses.retain(|u| u.kyber_pre_key_id != Some(id));
        self.kyber_pre_keys.remove(&id);
        Ok(())
    }

    fn kyber_pre_key_ids(&self) -> Result<Vec<u32>, StoreError> {
        Ok(self.kyber_pre_keys.keys().copied().collect())
    }
}

impl PreKeyReplayStore for InMemoryStore {
    fn contains_pre_key_use(&self, entry: &PreKeyUse) -> Result<bool, StoreError> {
        let e = UseEntry::new(entry);
        Ok(self.uses.contains(&e))
    }

    fn remember_pre_key_use(&mut self, entry: &PreKeyUse) -> Result<(), StoreError> {
        let e = UseEntry::new(entry);
        if !self.uses.contains(&e) {
            if self.uses.len() >= MAX_LAST_RESORT_USES {
                self.uses.pop_front();
            }
            self.uses.push_back(e);
        }
        Ok(())
    }
}

impl SenderKeyStore for InMemoryStore {
    fn store_sender_key(
        &mut self,
        sender: &ProtocolAddress,
        distribution_id: &Uuid,
        record: &[u8],
    ) -> Result<(), StoreError> {
        self.sender_keys.insert((sender.clone(), *distribution_id), Zeroizing::new(record.to_vec()));
        Ok(())
    }

    fn load_sender_key(
        &self,
        sender: &ProtocolAddress,
        distribution_id: &Uuid,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        Ok(self.sender_keys.get(&(sender.clone(), *distribution_id)).cloned())
    }
}

/// In memory, each write is final at once: the store has nothing to roll back, and a failed
/// operation has written nothing.
impl ProtocolStore for InMemoryStore {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interolm::DeviceId;

    #[test]
    fn replay_memory_is_bounded_and_follows_its_prekeys() {
        let mut s = InMemoryStore::new(IdentityKeyPair::generate(), 1);
        let base = |i: u32| {
            let mut b = [9u8; 32];
            b[..4].copy_from_slice(&i.to_be_bytes());
            Curve25519PublicKey::from_bytes(b)
        };
        let uses: Vec<_> = (0..MAX_LAST_RESORT_USES as u32 + 1)
            .map(|i| PreKeyUse { signed_pre_key_id: 3, kyber_pre_key_id: (i % 2 == 0).then_some(7), base_key: base(i) })
            .collect();
        for u in &uses[..MAX_LAST_RESORT_USES] {
            assert!(!s.contains_pre_key_use(u).unwrap());
            s.remember_pre_key_use(u).unwrap();
            s.remember_pre_key_use(u).unwrap(); // twice is once
        }
        assert_eq!(s.pre_key_uses(), MAX_LAST_RESORT_USES);
        s.remember_pre_key_use(&uses[MAX_LAST_RESORT_USES]).unwrap();
        assert!(!s.contains_pre_key_use(&uses[0]).unwrap());
        assert!(s.contains_pre_key_use(&uses[1]).unwrap());
        // the same base key with another Kyber id, or none, is another use
        let u2 = uses[2];
        assert!(!s.contains_pre_key_use(&PreKeyUse { kyber_pre_key_id: Some(8), ..u2 }).unwrap());
        assert!(!s.contains_pre_key_use(&PreKeyUse { kyber_pre_key_id: None, ..u2 }).unwrap());
        s.remove_kyber_pre_key(7).unwrap();
        assert_eq!(s.pre_key_uses(), MAX_LAST_RESORT_USES / 2);
        s.remove_signed_pre_key(3).unwrap();
        assert_eq!(s.pre_key_uses(), 0);
    }

    #[test]
    fn identities_are_trusted_on_first_use() {
        let mut s = InMemoryStore::new(IdentityKeyPair::generate(), 1);
        let a = ProtocolAddress::new("a", DeviceId::PRIMARY);
        let k1 = IdentityKeyPair::generate().public_key();
        let k2 = IdentityKeyPair::generate().public_key();
        assert!(s.is_trusted_identity(&a, &k1, TrustDirection::Sending).unwrap());
        assert_eq!(s.save_identity(&a, &k1).unwrap(), IdentityChange::NewOrUnchanged);
        assert_eq!(s.save_identity(&a, &k1).unwrap(), IdentityChange::NewOrUnchanged);
        assert!(!s.is_trusted_identity(&a, &k2, TrustDirection::Receiving).unwrap());
        assert_eq!(s.save_identity(&a, &k2).unwrap(), IdentityChange::ReplacedExisting);
        assert_eq!(s.identity(&a).unwrap(), Some(k2));
    }

    /// What is stored is what is loaded, listed and removed, key by key and address by address.
    #[test]
    fn records_are_loaded_listed_and_removed_as_stored() {
        use crate::interolm::Account;
        use crate::primitives::OsRandom;
        let identity = IdentityKeyPair::generate();
        let mut s = InMemoryStore::new(identity.clone(), 77);
        assert_eq!(s.identity_key_pair().unwrap().public_key(), identity.public_key());
        assert_eq!(s.local_registration_id().unwrap(), 77);
        // sessions
        let (a, b) = (ProtocolAddress::new("a", DeviceId::PRIMARY), ProtocolAddress::new("b", DeviceId::PRIMARY));
        let alice = Account::new();
        let mut bob = Account::new();
        bob.generate_signed_pre_key();
        bob.generate_kyber_pre_key(false);
        let session = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
        s.store_session(&b, &SessionRecord::from(session)).unwrap();
        s.store_session(&a, &SessionRecord::new()).unwrap();
        assert_eq!(s.session_addresses(), [a.clone(), b.clone()]);
        assert!(s.load_session(&a).unwrap().unwrap().is_empty());
        assert_eq!(s.load_session(&b).unwrap().unwrap().current().unwrap().remote_identity, bob.identity_key());
        assert!(s.load_session(&ProtocolAddress::new("c", DeviceId::PRIMARY)).unwrap().is_none());
        // prekeys of each kind
        let (p1, p2) = (PreKeyRecord::generate(2), PreKeyRecord::generate(1));
        s.store_pre_key(&p1).unwrap();
        s.store_pre_key(&p2).unwrap();
        assert_eq!(s.pre_key_ids(), [1, 2]);
        assert_eq!(s.load_pre_key(2).unwrap().unwrap().public_key(), p1.public_key());
        s.remove_pre_key(2).unwrap();
        assert_eq!((s.pre_key_ids(), s.load_pre_key(2).unwrap().is_none()), (vec![1], true));
        let spk = SignedPreKeyRecord::generate(5, 1, &identity);
        s.store_signed_pre_key(&spk).unwrap();
        s.store_signed_pre_key(&SignedPreKeyRecord::generate(6, 2, &identity)).unwrap();
        assert_eq!(s.signed_pre_key_ids().unwrap(), [5, 6]);
        assert_eq!(s.load_signed_pre_key(5).unwrap().unwrap().public_key(), spk.public_key());
        s.remove_signed_pre_key(5).unwrap();
        assert_eq!((s.signed_pre_key_ids().unwrap(), s.load_signed_pre_key(5).unwrap().is_none()), (vec![6], true));
        let kyber = KyberPreKeyRecord::generate_inner(8, 3, &identity, true, &mut OsRandom);
        s.store_kyber_pre_key(&kyber).unwrap();
        s.store_kyber_pre_key(&KyberPreKeyRecord::generate_inner(9, 4, &identity, false, &mut OsRandom)).unwrap();
        assert_eq!(s.kyber_pre_key_ids().unwrap(), [8, 9]);
        assert_eq!(s.load_kyber_pre_key(8).unwrap().unwrap().public_key(), kyber.public_key());
        s.remove_kyber_pre_key(8).unwrap();
        assert_eq!((s.kyber_pre_key_ids().unwrap(), s.load_kyber_pre_key(8).unwrap().is_none()), (vec![9], true));
        // sender keys, by sender and distribution id
        let (d1, d2) = (Uuid::from_bytes([1; 16]), Uuid::from_bytes([2; 16]));
        s.store_sender_key(&a, &d1, b"record").unwrap();
        assert_eq!(s.load_sender_key(&a, &d1).unwrap().as_deref().map(Vec::as_slice), Some(&b"record"[..]));
        assert!(s.load_sender_key(&a, &d2).unwrap().is_none() && s.load_sender_key(&b, &d1).unwrap().is_none());
    }

    /// Removing a Kyber prekey forgets the uses of that key only: the replay memory of the
    /// other last-resort keys (and of uses without a Kyber key) stays.
    #[test]
    fn removing_a_kyber_prekey_forgets_only_its_own_uses() {
        let mut s = InMemoryStore::new(IdentityKeyPair::generate(), 1);
        let base_key = Curve25519PublicKey::from_bytes([9; 32]);
        let uses = [Some(7), Some(8), None].map(|kyber_pre_key_id| PreKeyUse {
            signed_pre_key_id: 3,
            kyber_pre_key_id,
            base_key,
        });
        for u in &uses {
            s.remember_pre_key_use(u).unwrap();
        }
        s.remove_kyber_pre_key(7).unwrap();
        let kept: Vec<bool> = uses.iter().map(|u| s.contains_pre_key_use(u).unwrap()).collect();
        assert_eq!(kept, [false, true, true]);
    }
}
