//! The high-level API: one local device over an application's stores, with libsignal's
//! operations (`processPreKeyBundle`, `signalEncrypt`, `signalDecrypt`,
//! `signalDecryptPreKey`) as [`Device::process_pre_key_bundle`], [`Device::encrypt`] and
//! [`Device::decrypt`].

use super::address::{DeviceId, ProtocolAddress};
use super::key_records::{IdentityKeyPair, KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord};
use super::message::{InterolmMessage, PreKeySignalMessage, SignalMessage};
use super::session::{InboundKeys, OutboundParams, Session, SpqrPolicy};
use super::session_record::{SessionRecord, SessionSlot};
use super::stores::{PreKeyUse, ProtocolStore, TrustDirection};
use crate::error::{PreKeyKind, ProtocolError, SessionCreationError, StoreError};
use crate::primitives::{OsRandom, RandomSource};
use crate::wire::signal::{PreKeyBundle, SESSION_VERSION_X3DH};

/// One local device (our [`ProtocolAddress`]) talking the Signal protocol over the stores `S`:
/// sessions kept per remote address in [`SessionRecord`]s, identities checked by the
/// identity store's trust decision, prekeys consumed from the prekey stores, replays of
/// pre-key messages that consume no one-time key refused through the [`PreKeyReplayStore`]
/// hook, and the `addresses` field (libsignal ≥ 0.91's misdirection protection) written into
/// pre-key messages and checked in received ones.
///
/// Every operation reads what it needs, does its work in memory, and writes only once the
/// message has authenticated (in one transaction if the store has them: see
/// [`ProtocolStore`]). On any error nothing is written.
///
/// Policies, as on [`Account`](super::Account): PQXDH only unless [`Device::allow_x3dh`], and
/// SPQR [`SpqrPolicy::Optional`] (interoperates with libsignal 0.72.1 … 0.103.0; choose
/// [`SpqrPolicy::Required`] to refuse peers without SPQR, as libsignal ≥ 0.92 does).
///
/// ```
/// use caudata::interolm::{Device, DeviceId, IdentityKeyPair, InMemoryStore, ProtocolAddress};
///
/// let alice_address = ProtocolAddress::new("11111111-2222-4333-8444-555555555555", DeviceId::PRIMARY);
/// let bob_address = ProtocolAddress::new("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", DeviceId::new(2).unwrap());
/// let mut alice = Device::new(InMemoryStore::new(IdentityKeyPair::generate(), 1), alice_address.clone());
/// let mut bob = Device::new(InMemoryStore::new(IdentityKeyPair::generate(), 2), bob_address.clone());
///
/// bob.generate_signed_pre_key(1, 1_700_000_000_000).unwrap();
/// bob.generate_pre_keys(100, 1).unwrap();
/// bob.generate_kyber_pre_key(1, 1_700_000_000_000, true).unwrap();
/// let bundle = bob.pre_key_bundle(Some(100), 1, Some(1)).unwrap();
///
/// alice.process_pre_key_bundle(&bob_address, &bundle).unwrap();
/// let m = alice.encrypt(&bob_address, b"hello").unwrap();
/// assert_eq!(bob.decrypt(&alice_address, &m).unwrap(), b"hello");
/// let reply = bob.encrypt(&alice_address, b"hi").unwrap();
/// assert_eq!(alice.decrypt(&bob_address, &reply).unwrap(), b"hi");
/// ```
///
/// [`PreKeyReplayStore`]: super::PreKeyReplayStore
#[derive(Debug)]
pub struct Device<S> {
    store: S,
    address: ProtocolAddress,
    x3dh_allowed: bool,
    spqr_policy: SpqrPolicy,
}

impl<S: ProtocolStore> Device<S> {
    /// The device at `address` (ours) over `store`.
    pub fn new(store: S, address: ProtocolAddress) -> Self {
        Self { store, address, x3dh_allowed: false, spqr_policy: SpqrPolicy::default() }
    }

    /// Our address.
    pub fn address(&self) -> &ProtocolAddress {
        &self.address
    }

    /// The stores.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The stores, to change them directly.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The stores, giving up the device.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Allows (or forbids again) X3DH sessions, in both directions (for peers on libsignal ≤
    /// 0.72): see [`Account`](super::Account).
    pub fn allow_x3dh(&mut self, allowed: bool) {
        self.x3dh_allowed = allowed;
    }

    /// The SPQR policy of the PQXDH sessions this device creates from now on.
    pub fn set_spqr_policy(&mut self, policy: SpqrPolicy) {
        self.spqr_policy = policy;
    }

    // ------------------------------------------------------------------ prekeys

    /// Makes a signed prekey with this id and creation time (milliseconds since the Unix
    /// epoch), stores it and returns it.
    ///
    /// # Errors
    /// [`ProtocolError::Store`].
    pub fn generate_signed_pre_key(&mut self, id: u32, timestamp: u64) -> Result<SignedPreKeyRecord, ProtocolError> {
        let identity = self.store.identity_key_pair()?;
        let r = SignedPreKeyRecord::generate_inner(id, timestamp, &identity, &mut OsRandom);
        self.store.store_signed_pre_key(&r)?;
        Ok(r)
    }

    /// Makes `count` one-time prekeys with ids `first_id`, `first_id + 1`, … (wrapping past
    /// `u32::MAX` to 1) and stores them.
    ///
    /// # Errors
    /// [`ProtocolError::Store`].
    pub fn generate_pre_keys(&mut self, first_id: u32, count: u32) -> Result<Vec<PreKeyRecord>, ProtocolError> {
        let mut out = Vec::with_capacity(count as usize);
        let mut id = first_id.max(1);
        for _ in 0..count {
            let r = PreKeyRecord::generate_inner(id, &mut OsRandom);
            self.store.store_pre_key(&r)?;
            out.push(r);
            id = id.checked_add(1).unwrap_or(1);
        }
        Ok(out)
    }

    /// Makes a Kyber1024 prekey (one-time, or last-resort) with this id and creation time,
    /// stores it and returns it.
    ///
    /// # Errors
    /// [`ProtocolError::Store`].
    pub fn generate_kyber_pre_key(
        &mut self,
        id: u32,
        timestamp: u64,
        last_resort: bool,
    ) -> Result<KyberPreKeyRecord, ProtocolError> {
        let identity = self.store.identity_key_pair()?;
        let r = KyberPreKeyRecord::generate_inner(id, timestamp, &identity, last_resort, &mut OsRandom);
        self.store.store_kyber_pre_key(&r)?;
        Ok(r)
    }

    /// The bundle to publish for our device, made of the stored prekeys with these ids.
    ///
    /// # Errors
    /// [`SessionCreationError::UnknownPreKey`] (as [`ProtocolError::SessionCreation`]) for an
    /// id the stores do not hold, or [`ProtocolError::Store`].
    pub fn pre_key_bundle(
        &self,
        pre_key_id: Option<u32>,
        signed_pre_key_id: u32,
        kyber_pre_key_id: Option<u32>,
    ) -> Result<PreKeyBundle, ProtocolError> {
        let unknown = |kind, id| ProtocolError::SessionCreation(SessionCreationError::UnknownPreKey { kind, id });
        let identity = self.store.identity_key_pair()?;
        let spk = self
            .store
            .load_signed_pre_key(signed_pre_key_id)?
            .ok_or_else(|| unknown(PreKeyKind::Signed, signed_pre_key_id))?;
        let pre_key = match pre_key_id {
            Some(id) => {
                Some((id, self.store.load_pre_key(id)?.ok_or_else(|| unknown(PreKeyKind::OneTime, id))?.public))
            }
            None => None,
        };
        let kyber_pre_key = match kyber_pre_key_id {
            Some(id) => {
                let k = self.store.load_kyber_pre_key(id)?.ok_or_else(|| unknown(PreKeyKind::Kyber, id))?;
                Some((id, k.public_key().clone(), k.signature))
            }
            None => None,
        };
        Ok(PreKeyBundle {
            registration_id: self.store.local_registration_id()?,
            device_id: self.address.device_id().get().into(),
            identity_key: identity.public_key(),
            pre_key,
            signed_pre_key_id,
            signed_pre_key: spk.public,
            signed_pre_key_signature: spk.signature,
            kyber_pre_key,
        })
    }

    // ------------------------------------------------------------------ sessions

    /// Starts a session with `remote` from its bundle (libsignal's `processPreKeyBundle`): the
    /// bundle is verified, its identity must be trusted for sending, the new session becomes
    /// current (archiving the one before) and the identity is saved. Messages to `remote` are
    /// pre-key messages until it answers.
    ///
    /// # Errors
    /// [`ProtocolError::SessionCreation`] (invalid bundle, X3DH not allowed),
    /// [`ProtocolError::UntrustedIdentity`], [`ProtocolError::Store`]. Nothing is stored then.
    pub fn process_pre_key_bundle(
        &mut self,
        remote: &ProtocolAddress,
        bundle: &PreKeyBundle,
    ) -> Result<(), ProtocolError> {
        self.process_pre_key_bundle_inner(remote, bundle, &mut OsRandom)
    }

    /// [`Device::process_pre_key_bundle`] with an explicit random source (as
    /// [`Account::create_outbound_session_with_rng`](super::Account::create_outbound_session_with_rng)).
    ///
    /// # Errors
    /// As [`Device::process_pre_key_bundle`].
    #[cfg(feature = "hazmat")]
    pub fn process_pre_key_bundle_with_rng(
        &mut self,
        remote: &ProtocolAddress,
        bundle: &PreKeyBundle,
        rng: &mut impl RandomSource,
    ) -> Result<(), ProtocolError> {
        self.process_pre_key_bundle_inner(remote, bundle, rng)
    }

    fn process_pre_key_bundle_inner(
        &mut self,
        remote: &ProtocolAddress,
        bundle: &PreKeyBundle,
        rng: &mut impl RandomSource,
    ) -> Result<(), ProtocolError> {
        bundle.verify()?;
        if bundle.kyber_pre_key.is_none() && !self.x3dh_allowed {
            return Err(SessionCreationError::X3dhNotAllowed.into());
        }
        if !self.store.is_trusted_identity(remote, &bundle.identity_key, TrustDirection::Sending)? {
            return Err(ProtocolError::UntrustedIdentity(remote.clone()));
        }
        let identity = self.store.identity_key_pair()?;
        let params = OutboundParams {
            our_identity: identity.secret_key(),
            our_registration_id: self.store.local_registration_id()?,
            their_identity: bundle.identity_key,
            their_registration_id: bundle.registration_id,
            their_signed_pre_key: (bundle.signed_pre_key_id, bundle.signed_pre_key),
            their_one_time_pre_key: bundle.pre_key,
            their_kyber_pre_key: bundle.kyber_pre_key.as_ref().map(|(id, k, _)| (*id, k)),
            spqr_policy: self.spqr_policy,
        };
        let session = Session::new_outbound(params, rng).map_err(SessionCreationError::from)?;
        let mut record = self.store.load_session(remote)?.unwrap_or_default();
        record.promote(session);
        self.transaction(|s| {
            s.save_identity(remote, &bundle.identity_key)?;
            s.store_session(remote, &record)
        })
    }

    /// Encrypts `plaintext` for `remote` with its current session (libsignal's
    /// `signalEncrypt`). The session's identity must be trusted for sending. While `remote` has
    /// not answered, the message is a pre-key message, with the `addresses` field when both
    /// addresses are service ids.
    ///
    /// # Errors
    /// [`ProtocolError::NoSession`], [`ProtocolError::UntrustedIdentity`],
    /// [`ProtocolError::Encryption`] for a plaintext whose message receivers would refuse as
    /// too long, [`ProtocolError::Store`]. Nothing is stored then.
    pub fn encrypt(&mut self, remote: &ProtocolAddress, plaintext: &[u8]) -> Result<InterolmMessage, ProtocolError> {
        self.encrypt_inner(remote, plaintext, &mut OsRandom)
    }

    /// [`Device::encrypt`] with an explicit random source (as
    /// [`Session::encrypt_with_rng`]).
    ///
    /// # Errors
    /// As [`Device::encrypt`].
    #[cfg(feature = "hazmat")]
    pub fn encrypt_with_rng(
        &mut self,
        remote: &ProtocolAddress,
        plaintext: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<InterolmMessage, ProtocolError> {
        self.encrypt_inner(remote, plaintext, rng)
    }

    fn encrypt_inner(
        &mut self,
        remote: &ProtocolAddress,
        plaintext: &[u8],
        rng: &mut impl RandomSource,
    ) -> Result<InterolmMessage, ProtocolError> {
        let mut record = self.store.load_session(remote)?.ok_or_else(|| ProtocolError::NoSession(remote.clone()))?;
        let session = record.current_mut().ok_or_else(|| ProtocolError::NoSession(remote.clone()))?;
        let their_identity = session.remote_identity;
        if !self.store.is_trusted_identity(remote, &their_identity, TrustDirection::Sending)? {
            return Err(ProtocolError::UntrustedIdentity(remote.clone()));
        }
        let message = session.try_encrypt_inner(plaintext, Some((&self.address, remote)), rng)?;
        self.transaction(|s| {
            s.save_identity(remote, &their_identity)?;
            s.store_session(remote, &record)
        })?;
        Ok(message)
    }

    /// Decrypts a message from `remote` (libsignal's `signalDecrypt` and
    /// `signalDecryptPreKey`).
    ///
    /// * A `SignalMessage` is tried on the current session, then on the archived ones; the one
    ///   that decrypts it becomes current.
    /// * A pre-key message goes to the session with its base key if there is one (its identity
    ///   key must be that session's); otherwise it starts a new session from our prekeys,
    ///   which becomes current. Its one-time prekey and one-time Kyber prekey are then removed;
    ///   a message that consumed no one-time key is remembered through the
    ///   [`PreKeyReplayStore`](super::PreKeyReplayStore), and refused if it already was.
    ///
    /// In both, the `addresses` field must name `remote` and us if present, and the identity
    /// must be trusted for receiving; it is then saved.
    ///
    /// # Errors
    /// [`ProtocolError::NoSession`] for a `SignalMessage` without any session,
    /// [`ProtocolError::Decryption`] (a MAC that fails, a repeated message
    /// ([`MissingMessageKey`](crate::DecryptionError::MissingMessageKey)), the wrong addresses
    /// ([`AddressMismatch`](crate::DecryptionError::AddressMismatch)), …),
    /// [`ProtocolError::SessionCreation`] (unknown prekey, replay, X3DH not allowed, …),
    /// [`ProtocolError::UntrustedIdentity`], [`ProtocolError::InconsistentIdentity`],
    /// [`ProtocolError::Store`]. Nothing is stored then.
    pub fn decrypt(&mut self, remote: &ProtocolAddress, message: &InterolmMessage) -> Result<Vec<u8>, ProtocolError> {
        self.decrypt_inner(remote, message, &mut OsRandom)
    }

    /// [`Device::decrypt`] with an explicit random source (32 bytes per new receiving chain).
    ///
    /// # Errors
    /// As [`Device::decrypt`].
    #[cfg(feature = "hazmat")]
    pub fn decrypt_with_rng(
        &mut self,
        remote: &ProtocolAddress,
        message: &InterolmMessage,
        rng: &mut impl RandomSource,
    ) -> Result<Vec<u8>, ProtocolError> {
        self.decrypt_inner(remote, message, rng)
    }

    fn decrypt_inner(
        &mut self,
        remote: &ProtocolAddress,
        message: &InterolmMessage,
        rng: &mut impl RandomSource,
    ) -> Result<Vec<u8>, ProtocolError> {
        match message {
            InterolmMessage::Whisper(m) => self.decrypt_whisper(remote, m, rng),
            InterolmMessage::PreKey(m) => self.decrypt_pre_key(remote, m, rng),
        }
    }

    fn decrypt_whisper(
        &mut self,
        remote: &ProtocolAddress,
        m: &SignalMessage,
        rng: &mut impl RandomSource,
    ) -> Result<Vec<u8>, ProtocolError> {
        let mut record = self.store.load_session(remote)?.ok_or_else(|| ProtocolError::NoSession(remote.clone()))?;
        if record.is_empty() {
            return Err(ProtocolError::NoSession(remote.clone()));
        }
        let (plaintext, _) = record.decrypt_signal_message_inner(m, Some((remote, &self.address)), rng)?;
        let their_identity =
            record.current().map(|s| s.remote_identity).ok_or(ProtocolError::NoSession(remote.clone()))?;
        if !self.store.is_trusted_identity(remote, &their_identity, TrustDirection::Receiving)? {
            return Err(ProtocolError::UntrustedIdentity(remote.clone()));
        }
        self.transaction(|s| {
            s.save_identity(remote, &their_identity)?;
            s.store_session(remote, &record)
        })?;
        Ok(plaintext)
    }

    fn decrypt_pre_key(
        &mut self,
        remote: &ProtocolAddress,
        m: &PreKeySignalMessage,
        rng: &mut impl RandomSource,
    ) -> Result<Vec<u8>, ProtocolError> {
        let their_identity = m.identity_key();
        if !self.store.is_trusted_identity(remote, &their_identity, TrustDirection::Receiving)? {
            return Err(ProtocolError::UntrustedIdentity(remote.clone()));
        }
        let mut record = self.store.load_session(remote)?.unwrap_or_default();
        let addresses = Some((remote, &self.address));

        // A session with this base key exists: the message is one of its.
        if let Some(slot) = record.find_pre_key_session(m) {
            if record.session(slot).is_some_and(|s| s.remote_identity != their_identity) {
                return Err(ProtocolError::InconsistentIdentity);
            }
            let plaintext = match record.decrypt_pre_key_message_inner(m, addresses, rng) {
                Some(r) => r?,
                None => return Err(ProtocolError::NoSession(remote.clone())),
            };
            self.transaction(|s| {
                s.save_identity(remote, &their_identity)?;
                s.store_session(remote, &record)
            })?;
            return Ok(plaintext);
        }

        // A new session.
        let f = &m.0.fields;
        if f.session_version == SESSION_VERSION_X3DH && !self.x3dh_allowed {
            return Err(SessionCreationError::X3dhNotAllowed.into());
        }
        let unknown = |kind, id| ProtocolError::SessionCreation(SessionCreationError::UnknownPreKey { kind, id });
        let spk = self
            .store
            .load_signed_pre_key(f.signed_pre_key_id)?
            .ok_or_else(|| unknown(PreKeyKind::Signed, f.signed_pre_key_id))?;
        let opk = match f.pre_key_id {
            Some(id) => Some(self.store.load_pre_key(id)?.ok_or_else(|| unknown(PreKeyKind::OneTime, id))?),
            None => None,
        };
        let kyber = match &f.kyber {
            Some((id, _)) => Some(self.store.load_kyber_pre_key(*id)?.ok_or_else(|| unknown(PreKeyKind::Kyber, *id))?),
            None => None,
        };
        // Nothing one-time is spent: remember the use, and refuse one already remembered.
        let replay_entry = (opk.is_none() && kyber.as_ref().is_none_or(|k| k.last_resort)).then(|| PreKeyUse {
            signed_pre_key_id: f.signed_pre_key_id,
            kyber_pre_key_id: f.kyber.as_ref().map(|(id, _)| *id),
            base_key: f.base_key,
        });
        if let Some(u) = &replay_entry
            && self.store.contains_pre_key_use(u)?
        {
            return Err(SessionCreationError::ReplayedPreKeyMessage.into());
        }
        let identity = self.store.identity_key_pair()?;
        let keys = InboundKeys {
            our_identity: identity.secret_key(),
            our_registration_id: self.store.local_registration_id()?,
            signed_pre_key: &spk.key,
            one_time_pre_key: opk.as_ref().map(|r| &r.key),
            kyber_pre_key: kyber.as_ref().map(|r| &r.key),
            spqr_policy: self.spqr_policy,
        };
        let mut session = Session::new_inbound(keys, &m.0).map_err(SessionCreationError::from)?;
        let plaintext =
            session.decrypt_signal(&m.0.message, true, addresses, rng).map_err(SessionCreationError::from)?;
        record.promote(session);
        let remove_kyber = kyber.as_ref().filter(|k| !k.last_resort).map(|k| k.id);
        self.transaction(|s| {
            s.save_identity(remote, &their_identity)?;
            s.store_session(remote, &record)?;
            if let Some(u) = &replay_entry {
                s.remember_pre_key_use(u)?;
            }
            if let Some(id) = f.pre_key_id {
                s.remove_pre_key(id)?;
            }
            if let Some(id) = remove_kyber {
                s.remove_kyber_pre_key(id)?;
            }
            Ok(())
        })?;
        Ok(plaintext)
    }

    /// The session record kept for `remote`, if any.
    ///
    /// # Errors
    /// [`ProtocolError::Store`].
    pub fn session_record(&self, remote: &ProtocolAddress) -> Result<Option<SessionRecord>, ProtocolError> {
        Ok(self.store.load_session(remote)?)
    }

    /// Whether there is a current session with `remote` to encrypt with.
    ///
    /// # Errors
    /// [`ProtocolError::Store`].
    pub fn has_session(&self, remote: &ProtocolAddress) -> Result<bool, ProtocolError> {
        Ok(self.store.load_session(remote)?.is_some_and(|r| r.session(SessionSlot::Current).is_some()))
    }

    /// Archives the current session with `remote` (libsignal's `archiveCurrentState`): the next
    /// message to it needs its bundle again, while messages from the old session still decrypt.
    ///
    /// # Errors
    /// [`ProtocolError::Store`].
    pub fn archive_session(&mut self, remote: &ProtocolAddress) -> Result<(), ProtocolError> {
        if let Some(mut record) = self.store.load_session(remote)? {
            record.archive_current();
            self.transaction(|s| s.store_session(remote, &record))?;
        }
        Ok(())
    }

    /// Runs `writes` in a store transaction: committed if they all succeed, rolled back
    /// otherwise.
    fn transaction(&mut self, writes: impl FnOnce(&mut S) -> Result<(), StoreError>) -> Result<(), ProtocolError> {
        self.store.begin()?;
        match writes(&mut self.store).and_then(|()| self.store.commit()) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.store.rollback();
                Err(e.into())
            }
        }
    }
}

impl<S: ProtocolStore> Device<S> {
    /// Our device id (the one bundles announce).
    pub fn device_id(&self) -> DeviceId {
        self.address.device_id()
    }

    /// Our identity key pair, from the store.
    ///
    /// # Errors
    /// [`ProtocolError::Store`].
    pub fn identity_key_pair(&self) -> Result<IdentityKeyPair, ProtocolError> {
        Ok(self.store.identity_key_pair()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interolm::stores::{IdentityKeyStore, KyberPreKeyStore, OneTimePreKeyStore, SessionStore};
    use crate::interolm::{IdentityKeyPair, InMemoryStore};

    fn addr(name: &str) -> ProtocolAddress {
        ProtocolAddress::new(name, DeviceId::PRIMARY)
    }

    /// A device with signed prekey 1, one-time prekey 100 and, if `kyber`, Kyber prekey 1
    /// (last resort if `Some(true)`).
    fn device(name: &str, kyber: Option<bool>) -> Device<InMemoryStore> {
        let mut d = Device::new(InMemoryStore::new(IdentityKeyPair::generate(), 7), addr(name));
        d.generate_signed_pre_key(1, 0).unwrap();
        d.generate_pre_keys(100, 1).unwrap();
        if let Some(last_resort) = kyber {
            d.generate_kyber_pre_key(1, 0, last_resort).unwrap();
        }
        d
    }

    fn identity(d: &Device<InMemoryStore>) -> crate::primitives::Curve25519PublicKey {
        d.identity_key_pair().unwrap().public_key()
    }

    #[test]
    fn x3dh_is_refused_both_ways_unless_allowed() {
        let (mut alice, mut bob) = (device("alice", None), device("bob", None));
        let bundle = bob.pre_key_bundle(Some(100), 1, None).unwrap();
        let x3dh = |r: Result<_, ProtocolError>| {
            matches!(r, Err(ProtocolError::SessionCreation(SessionCreationError::X3dhNotAllowed)))
        };
        assert!(x3dh(alice.process_pre_key_bundle(&addr("bob"), &bundle).map(|()| Vec::new())));
        assert!(!alice.has_session(&addr("bob")).unwrap());
        alice.allow_x3dh(true);
        alice.process_pre_key_bundle(&addr("bob"), &bundle).unwrap();
        let m = alice.encrypt(&addr("bob"), b"hi").unwrap();
        assert!(x3dh(bob.decrypt(&addr("alice"), &m)));
        assert!(bob.store().load_pre_key(100).unwrap().is_some(), "a refusal spends nothing");
        bob.allow_x3dh(true);
        assert_eq!(bob.decrypt(&addr("alice"), &m).unwrap(), b"hi");
        assert!(bob.store().load_pre_key(100).unwrap().is_none(), "the one-time prekey is spent");
        // PQXDH needs no permission; a one-time Kyber prekey is spent, a last-resort one kept
        for last_resort in [false, true] {
            let (mut alice, mut bob) = (device("alice", None), device("bob", Some(last_resort)));
            alice.process_pre_key_bundle(&addr("bob"), &bob.pre_key_bundle(Some(100), 1, Some(1)).unwrap()).unwrap();
            let m = alice.encrypt(&addr("bob"), b"pq").unwrap();
            assert_eq!(bob.decrypt(&addr("alice"), &m).unwrap(), b"pq");
            assert_eq!(bob.store().load_kyber_pre_key(1).unwrap().is_some(), last_resort);
        }
    }

    #[test]
    fn a_changed_identity_is_refused_in_every_direction() {
        let (mut alice, mut bob) = (device("alice", Some(true)), device("bob", Some(true)));
        let stranger = IdentityKeyPair::generate().public_key();
        let bundle = bob.pre_key_bundle(Some(100), 1, Some(1)).unwrap();
        // sending: a bundle whose identity is not the one alice knows for bob
        alice.store_mut().save_identity(&addr("bob"), &stranger).unwrap();
        let untrusted = |r: Result<Vec<u8>, ProtocolError>, who: &str| matches!(r, Err(ProtocolError::UntrustedIdentity(a)) if a == addr(who));
        assert!(untrusted(alice.process_pre_key_bundle(&addr("bob"), &bundle).map(|()| Vec::new()), "bob"));
        alice.store_mut().save_identity(&addr("bob"), &identity(&bob)).unwrap();
        alice.process_pre_key_bundle(&addr("bob"), &bundle).unwrap();
        let m = alice.encrypt(&addr("bob"), b"1").unwrap();
        // receiving a pre-key message: bob knows another identity for alice
        bob.store_mut().save_identity(&addr("alice"), &stranger).unwrap();
        assert!(untrusted(bob.decrypt(&addr("alice"), &m), "alice"));
        assert!(!bob.has_session(&addr("alice")).unwrap());
        bob.store_mut().save_identity(&addr("alice"), &identity(&alice)).unwrap();
        assert_eq!(bob.decrypt(&addr("alice"), &m).unwrap(), b"1");
        let reply = bob.encrypt(&addr("alice"), b"2").unwrap();
        assert_eq!(alice.decrypt(&addr("bob"), &reply).unwrap(), b"2");
        // receiving a whisper message from an established session: the identity changed since
        let m3 = alice.encrypt(&addr("bob"), b"3").unwrap();
        assert!(matches!(m3, InterolmMessage::Whisper(_)));
        bob.store_mut().save_identity(&addr("alice"), &stranger).unwrap();
        let before = bob.session_record(&addr("alice")).unwrap().unwrap().pickle().to_unencrypted_bytes().to_vec();
        assert!(untrusted(bob.decrypt(&addr("alice"), &m3), "alice"));
        assert_eq!(
            bob.session_record(&addr("alice")).unwrap().unwrap().pickle().to_unencrypted_bytes().to_vec(),
            before
        );
        bob.store_mut().save_identity(&addr("alice"), &identity(&alice)).unwrap();
        assert_eq!(bob.decrypt(&addr("alice"), &m3).unwrap(), b"3");
    }

    #[test]
    fn a_pre_key_message_spending_nothing_one_time_is_refused_when_replayed() {
        // no one-time prekey, a last-resort Kyber prekey: the use is remembered
        let (mut alice, mut bob) = (device("alice", None), device("bob", Some(true)));
        alice.process_pre_key_bundle(&addr("bob"), &bob.pre_key_bundle(None, 1, Some(1)).unwrap()).unwrap();
        let m = alice.encrypt(&addr("bob"), b"once").unwrap();
        assert_eq!(bob.decrypt(&addr("alice"), &m).unwrap(), b"once");
        assert_eq!(bob.store().pre_key_uses(), 1);
        // the record lost, the replay memory still refuses the message
        bob.store_mut().store_session(&addr("alice"), &SessionRecord::new()).unwrap();
        assert!(matches!(
            bob.decrypt(&addr("alice"), &m),
            Err(ProtocolError::SessionCreation(SessionCreationError::ReplayedPreKeyMessage))
        ));
        // a one-time prekey is spent instead of remembered, with or without a Kyber prekey
        for kyber in [None, Some(false), Some(true)] {
            let (mut alice, mut bob) = (device("alice", None), device("bob", kyber));
            alice.allow_x3dh(true);
            bob.allow_x3dh(true);
            let bundle = bob.pre_key_bundle(Some(100), 1, kyber.map(|_| 1)).unwrap();
            alice.process_pre_key_bundle(&addr("bob"), &bundle).unwrap();
            assert_eq!(bob.decrypt(&addr("alice"), &alice.encrypt(&addr("bob"), b"x").unwrap()).unwrap(), b"x");
            assert_eq!(bob.store().pre_key_uses(), 0, "{kyber:?}");
        }
        // a one-time Kyber prekey without a one-time prekey: spent too, not remembered
        let (mut alice, mut bob) = (device("alice", None), device("bob", Some(false)));
        alice.process_pre_key_bundle(&addr("bob"), &bob.pre_key_bundle(None, 1, Some(1)).unwrap()).unwrap();
        assert_eq!(bob.decrypt(&addr("alice"), &alice.encrypt(&addr("bob"), b"y").unwrap()).unwrap(), b"y");
        assert_eq!(bob.store().pre_key_uses(), 0);
        assert!(bob.store().load_kyber_pre_key(1).unwrap().is_none());
    }

    #[test]
    fn later_pre_key_messages_go_to_their_session_if_the_identity_is_the_same() {
        let (mut alice, mut bob) = (device("alice", None), device("bob", Some(true)));
        alice.process_pre_key_bundle(&addr("bob"), &bob.pre_key_bundle(Some(100), 1, Some(1)).unwrap()).unwrap();
        let m1 = alice.encrypt(&addr("bob"), b"1").unwrap();
        let m2 = alice.encrypt(&addr("bob"), b"2").unwrap();
        assert_eq!(bob.decrypt(&addr("alice"), &m1).unwrap(), b"1");
        // the second pre-key message (the one-time prekey is gone) goes to the session of its base key
        assert_eq!(bob.decrypt(&addr("alice"), &m2).unwrap(), b"2");
        let sessions = bob.session_record(&addr("alice")).unwrap().unwrap();
        assert_eq!(sessions.archived_len(), 0, "one session, never a second");
        // the same base key under another identity key, which the store was told to trust:
        // not the session's identity
        let m3 = alice.encrypt(&addr("bob"), b"3").unwrap();
        let InterolmMessage::PreKey(p) = m3 else { panic!("a pre-key message") };
        let stranger = IdentityKeyPair::generate().public_key();
        let mut fields = p.0.fields.clone();
        fields.identity_key = stranger;
        let relabelled = InterolmMessage::PreKey(PreKeySignalMessage(
            crate::wire::signal::PreKeySignalMessageWire::encode(fields, p.0.message.clone()),
        ));
        bob.store_mut().save_identity(&addr("alice"), &stranger).unwrap();
        assert!(matches!(bob.decrypt(&addr("alice"), &relabelled), Err(ProtocolError::InconsistentIdentity)));
        bob.store_mut().save_identity(&addr("alice"), &identity(&alice)).unwrap();
        assert_eq!(bob.decrypt(&addr("alice"), &InterolmMessage::PreKey(p)).unwrap(), b"3");
    }

    #[cfg(feature = "hazmat")]
    #[test]
    fn the_explicit_rng_variants_do_the_same() {
        use crate::primitives::OsRandom;
        let (mut alice, mut bob) = (device("alice", None), device("bob", Some(true)));
        let bundle = bob.pre_key_bundle(Some(100), 1, Some(1)).unwrap();
        alice.process_pre_key_bundle_with_rng(&addr("bob"), &bundle, &mut OsRandom).unwrap();
        assert!(alice.has_session(&addr("bob")).unwrap());
        let m = alice.encrypt_with_rng(&addr("bob"), b"rng", &mut OsRandom).unwrap();
        assert_eq!(bob.decrypt_with_rng(&addr("alice"), &m, &mut OsRandom).unwrap(), b"rng");
    }

    #[test]
    fn an_archived_session_no_longer_encrypts_but_still_decrypts() {
        let (mut alice, mut bob) = (device("alice", None), device("bob", Some(true)));
        alice.process_pre_key_bundle(&addr("bob"), &bob.pre_key_bundle(Some(100), 1, Some(1)).unwrap()).unwrap();
        assert!(alice.has_session(&addr("bob")).unwrap());
        let m = alice.encrypt(&addr("bob"), b"1").unwrap();
        assert_eq!(bob.decrypt(&addr("alice"), &m).unwrap(), b"1");
        let reply = bob.encrypt(&addr("alice"), b"2").unwrap();
        alice.archive_session(&addr("bob")).unwrap();
        assert!(!alice.has_session(&addr("bob")).unwrap());
        let record = alice.session_record(&addr("bob")).unwrap().unwrap();
        assert_eq!((record.current().is_none(), record.archived_len()), (true, 1));
        assert!(alice.encrypt(&addr("bob"), b"3").is_err());
        assert_eq!(alice.decrypt(&addr("bob"), &reply).unwrap(), b"2");
        // no record, nothing to archive
        alice.archive_session(&addr("carol")).unwrap();
        assert!(alice.session_record(&addr("carol")).unwrap().is_none());
        let d = Device::new(
            InMemoryStore::new(IdentityKeyPair::generate(), 7),
            ProtocolAddress::new("d", DeviceId::new(3).unwrap()),
        );
        assert_eq!(d.device_id().get(), 3);
    }

    /// The device's SPQR policy goes into the sessions it creates from then on.
    #[test]
    fn the_spqr_policy_applies_to_new_sessions() {
        use crate::interolm::spqr::SpqrVersion;
        for (policy, version) in [(SpqrPolicy::Off, SpqrVersion::V0), (SpqrPolicy::Optional, SpqrVersion::V1)] {
            let (mut alice, bob) = (device("alice", None), device("bob", Some(true)));
            alice.set_spqr_policy(policy);
            alice.process_pre_key_bundle(&addr("bob"), &bob.pre_key_bundle(Some(100), 1, Some(1)).unwrap()).unwrap();
            let record = alice.session_record(&addr("bob")).unwrap().unwrap();
            assert_eq!(record.current().unwrap().spqr().version(), version, "{policy:?}");
        }
    }
}
