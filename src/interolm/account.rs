//! An interolm account: a Curve25519 identity (shareable with an Olm account), a
//! registration id, and the prekeys.

use super::address::ProtocolAddress;
use super::message::PreKeySignalMessage;
use super::session::{InboundKeys, OutboundParams, Session, SpqrPolicy};
use super::store::{KyberPreKeyRecord, LastResortUse, OneTimePreKeyRecord, PreKeyStore, SignedPreKeyRecord};
use crate::error::{PreKeyKind, SessionCreationError};
use crate::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, Kyber1024SecretKey, OsRandom, RandomSource, XEdDsaSignature,
};
use crate::wire::signal::{PreKeyBundle, SESSION_VERSION_X3DH, encode_public_key};

/// The result of [`Account::create_inbound_session`]. Its `Debug` shows the plaintext's length,
/// never its bytes.
pub struct InboundCreationResult {
    /// The new session.
    pub session: Session,
    /// The plaintext of the pre-key message.
    pub plaintext: Vec<u8>,
}

impl core::fmt::Debug for InboundCreationResult {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { session, plaintext } = self;
        f.debug_struct("InboundCreationResult")
            .field("session", session)
            .field("plaintext_len", &plaintext.len())
            .finish_non_exhaustive()
    }
}

/// The identity and prekeys of one Signal-dialect device.
///
/// Sessions are separate values that the caller keeps (a bridge keeps one per peer address);
/// the account is needed only to start them. The identity is a Curve25519 key pair, and it can
/// be the very identity of an Olm account ([`Account::from_olm_account`]), so that one device
/// is known by one key in both dialects.
///
/// By default the account speaks PQXDH only, as libsignal 0.90 and later do: a bundle without a
/// Kyber prekey, or an X3DH pre-key message, is refused with
/// [`SessionCreationError::X3dhNotAllowed`] unless [`Account::allow_x3dh`] was set (for peers
/// on libsignal ≤ 0.72 or older clients). Without that rule, anyone who can strip the Kyber
/// prekey from a bundle in transit could silently downgrade a session to X3DH.
///
/// New PQXDH sessions run SPQR V1 next to the double ratchet, as libsignal ≥ 0.92 requires,
/// and by default still accept a peer that sends no SPQR (libsignal ≤ 0.90): see
/// [`SpqrPolicy`] and [`Account::set_spqr_policy`].
pub struct Account {
    pub(crate) identity: Curve25519SecretKey,
    pub(crate) identity_public: Curve25519PublicKey,
    pub(crate) registration_id: u32,
    pub(crate) x3dh_allowed: bool,
    pub(crate) pre_keys: PreKeyStore,
    pub(crate) spqr_policy: SpqrPolicy,
}

impl core::fmt::Debug for Account {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self { identity: _, identity_public, registration_id, x3dh_allowed, pre_keys, spqr_policy } = self;
        f.debug_struct("Account")
            .field("identity_key", identity_public)
            .field("registration_id", registration_id)
            .field("x3dh_allowed", x3dh_allowed)
            .field("spqr_policy", spqr_policy)
            .field("pre_keys", pre_keys)
            .finish_non_exhaustive()
    }
}

impl Default for Account {
    fn default() -> Self {
        Self::new()
    }
}

/// A random registration id in 1..=16380, the range libsignal's `KeyHelper` uses.
fn random_registration_id(rng: &mut impl RandomSource) -> u32 {
    let mut b = [0u8; 4];
    rng.fill(&mut b);
    1 + u32::from_le_bytes(b) % 16380
}

impl Account {
    /// A new account with a fresh identity and a random registration id, and no prekeys.
    pub fn new() -> Self {
        Self::new_inner(&mut OsRandom)
    }

    /// [`Account::new`] from `rng` (32 bytes for the identity key, 4 for the registration id).
    #[cfg(feature = "hazmat")]
    pub fn new_with_rng(rng: &mut impl RandomSource) -> Self {
        Self::new_inner(rng)
    }

    fn new_inner(rng: &mut impl RandomSource) -> Self {
        let identity = Curve25519SecretKey::random(rng);
        let registration_id = random_registration_id(rng);
        Self::from_identity_key(identity, registration_id)
    }

    /// An account whose identity is `identity` (for instance imported from libsignal).
    pub fn from_identity_key(identity: Curve25519SecretKey, registration_id: u32) -> Self {
        let identity_public = identity.public_key();
        Self {
            identity,
            identity_public,
            registration_id,
            x3dh_allowed: false,
            pre_keys: PreKeyStore::new(),
            spqr_policy: SpqrPolicy::default(),
        }
    }

    /// An account with the same Curve25519 identity key as an Olm account, and a random
    /// registration id.
    pub fn from_olm_account(account: &crate::olm::Account) -> Self {
        Self::from_identity_key(account.identity_key.clone(), random_registration_id(&mut OsRandom))
    }

    /// The identity key (the same key in the Signal serialization is `0x05 ‖ key`).
    pub fn identity_key(&self) -> Curve25519PublicKey {
        self.identity_public
    }

    /// The registration id announced in bundles and pre-key messages.
    pub fn registration_id(&self) -> u32 {
        self.registration_id
    }

    /// Changes the registration id (sessions made before keep the old one).
    pub fn set_registration_id(&mut self, registration_id: u32) {
        self.registration_id = registration_id;
    }

    /// Allows (or forbids again) X3DH sessions, in both directions. See the type's documentation.
    pub fn allow_x3dh(&mut self, allowed: bool) {
        self.x3dh_allowed = allowed;
    }

    /// Whether X3DH sessions are allowed.
    pub fn x3dh_allowed(&self) -> bool {
        self.x3dh_allowed
    }

    /// Sets how the PQXDH sessions created from now on run SPQR (default
    /// [`SpqrPolicy::Optional`]); sessions made before keep theirs. [`SpqrPolicy::Required`]
    /// is what libsignal ≥ 0.92 does; [`SpqrPolicy::Off`] only talks to libsignal ≤ 0.90.
    pub fn set_spqr_policy(&mut self, policy: SpqrPolicy) {
        self.spqr_policy = policy;
    }

    /// The SPQR policy of new PQXDH sessions.
    pub fn spqr_policy(&self) -> SpqrPolicy {
        self.spqr_policy
    }

    /// Signs `message` with the identity key (XEdDSA, as libsignal's `PrivateKey::sign`).
    pub fn sign(&self, message: &[u8]) -> XEdDsaSignature {
        self.identity.sign_xeddsa(message)
    }

    /// The prekeys.
    pub fn pre_keys(&self) -> &PreKeyStore {
        &self.pre_keys
    }

    /// The prekeys, for rotation, removal and import.
    pub fn pre_keys_mut(&mut self) -> &mut PreKeyStore {
        &mut self.pre_keys
    }

    /// Generates a signed prekey and returns its id. It becomes the one [`Account::pre_key_bundle`]
    /// publishes; older ones stay until removed, for pre-key messages still in flight.
    pub fn generate_signed_pre_key(&mut self) -> u32 {
        self.generate_signed_pre_key_inner(&mut OsRandom)
    }

    /// [`Account::generate_signed_pre_key`] from `rng` (32 bytes for the key, 64 for the signature).
    #[cfg(feature = "hazmat")]
    pub fn generate_signed_pre_key_with_rng(&mut self, rng: &mut impl RandomSource) -> u32 {
        self.generate_signed_pre_key_inner(rng)
    }

    fn generate_signed_pre_key_inner(&mut self, rng: &mut impl RandomSource) -> u32 {
        let secret = Curve25519SecretKey::random(rng);
        let public = secret.public_key();
        let signature = self.identity.sign_xeddsa_inner(&encode_public_key(&public), rng);
        let id = self.pre_keys.allocate_signed_id();
        self.pre_keys.signed.insert(id, SignedPreKeyRecord { secret, public, signature });
        id
    }

    /// Generates `count` one-time prekeys and returns their ids.
    pub fn generate_one_time_pre_keys(&mut self, count: usize) -> Vec<u32> {
        self.generate_one_time_pre_keys_inner(count, &mut OsRandom)
    }

    /// [`Account::generate_one_time_pre_keys`] from `rng` (32 bytes a key).
    #[cfg(feature = "hazmat")]
    pub fn generate_one_time_pre_keys_with_rng(&mut self, count: usize, rng: &mut impl RandomSource) -> Vec<u32> {
        self.generate_one_time_pre_keys_inner(count, rng)
    }

    fn generate_one_time_pre_keys_inner(&mut self, count: usize, rng: &mut impl RandomSource) -> Vec<u32> {
        (0..count)
            .map(|_| {
                let secret = Curve25519SecretKey::random(rng);
                let public = secret.public_key();
                let id = self.pre_keys.allocate_one_time_id();
                self.pre_keys.one_time.insert(id, OneTimePreKeyRecord { secret, public });
                id
            })
            .collect()
    }

    /// Generates a Kyber1024 prekey, signed by the identity key, and returns its id. A
    /// last-resort key survives its use (libsignal's "last resort" Kyber prekey, published
    /// when one-time Kyber prekeys run out); any other is removed by the session it starts.
    pub fn generate_kyber_pre_key(&mut self, last_resort: bool) -> u32 {
        self.generate_kyber_pre_key_inner(last_resort, &mut OsRandom)
    }

    /// [`Account::generate_kyber_pre_key`] from `rng` (64 bytes for the key, 64 for the signature).
    #[cfg(feature = "hazmat")]
    pub fn generate_kyber_pre_key_with_rng(&mut self, last_resort: bool, rng: &mut impl RandomSource) -> u32 {
        self.generate_kyber_pre_key_inner(last_resort, rng)
    }

    fn generate_kyber_pre_key_inner(&mut self, last_resort: bool, rng: &mut impl RandomSource) -> u32 {
        let secret = Kyber1024SecretKey::generate(rng);
        let signature = self.identity.sign_xeddsa_inner(&secret.public_key().to_bytes(), rng);
        let id = self.pre_keys.allocate_kyber_id();
        self.pre_keys.kyber.insert(id, KyberPreKeyRecord { secret, signature, last_resort });
        id
    }

    /// The bundle to publish: the newest signed prekey, the one-time prekey with the lowest id
    /// (if any), and the newest one-time Kyber prekey, else the newest last-resort one (if any).
    /// `None` without a signed prekey. Nothing is removed: the server hands each one-time
    /// prekey to one initiator, and the key is consumed when that initiator's message arrives.
    pub fn pre_key_bundle(&self, device_id: u32) -> Option<PreKeyBundle> {
        let (&spk_id, spk) = self.pre_keys.signed.last_key_value()?;
        let pre_key = self.pre_keys.one_time.first_key_value().map(|(id, r)| (*id, r.public));
        let kyber = self
            .pre_keys
            .kyber
            .iter()
            .rev()
            .find(|(_, r)| !r.last_resort)
            .or_else(|| self.pre_keys.kyber.iter().next_back())
            .map(|(id, r)| (*id, r.secret.public_key().clone(), r.signature));
        Some(PreKeyBundle {
            registration_id: self.registration_id,
            device_id,
            identity_key: self.identity_public,
            pre_key,
            signed_pre_key_id: spk_id,
            signed_pre_key: spk.public,
            signed_pre_key_signature: spk.signature,
            kyber_pre_key: kyber,
        })
    }

    /// Starts a session from another device's bundle (X3DH, or PQXDH when the bundle has a
    /// Kyber prekey). The bundle is verified first ([`PreKeyBundle::verify`]). The session
    /// sends `PreKeySignalMessage`s until the first reply.
    ///
    /// # Errors
    /// [`SessionCreationError::InvalidBundle`] (bad signature, malformed or weak key),
    /// [`SessionCreationError::X3dhNotAllowed`], or [`SessionCreationError::Key`].
    pub fn create_outbound_session(&self, bundle: &PreKeyBundle) -> Result<Session, SessionCreationError> {
        self.create_outbound_session_inner(bundle, &mut OsRandom)
    }

    /// [`Account::create_outbound_session`] from `rng` (32 bytes base key, 32 Kyber
    /// encapsulation (PQXDH), 32 first ratchet key).
    ///
    /// # Errors
    /// As [`Account::create_outbound_session`].
    #[cfg(feature = "hazmat")]
    pub fn create_outbound_session_with_rng(
        &self,
        bundle: &PreKeyBundle,
        rng: &mut impl RandomSource,
    ) -> Result<Session, SessionCreationError> {
        self.create_outbound_session_inner(bundle, rng)
    }

    fn create_outbound_session_inner(
        &self,
        bundle: &PreKeyBundle,
        rng: &mut impl RandomSource,
    ) -> Result<Session, SessionCreationError> {
        bundle.verify()?;
        if bundle.kyber_pre_key.is_none() && !self.x3dh_allowed {
            return Err(SessionCreationError::X3dhNotAllowed);
        }
        let params = OutboundParams {
            our_identity: &self.identity,
            our_registration_id: self.registration_id,
            their_identity: bundle.identity_key,
            their_registration_id: bundle.registration_id,
            their_signed_pre_key: (bundle.signed_pre_key_id, bundle.signed_pre_key),
            their_one_time_pre_key: bundle.pre_key,
            their_kyber_pre_key: bundle.kyber_pre_key.as_ref().map(|(id, k, _)| (*id, k)),
            spqr_policy: self.spqr_policy,
        };
        Ok(Session::new_outbound(params, rng)?)
    }

    /// Creates the responder's session from a pre-key message and decrypts it. The one-time
    /// prekey (and a Kyber prekey that is not last-resort) is removed only after the message
    /// has decrypted; on any error the account is unchanged.
    ///
    /// A last-resort Kyber prekey stays, so its use is remembered instead (the Kyber and signed
    /// prekey ids and a digest of the base key, as libsignal asks applications to do): the same
    /// pre-key message again is refused as a replay, rather than creating a second session and
    /// delivering its first message twice. The account remembers the latest
    /// [`MAX_LAST_RESORT_USES`](crate::consts::MAX_LAST_RESORT_USES) uses, and forgets those of a
    /// signed or Kyber prekey when it is removed; rotate signed prekeys, as Signal clients do
    /// every few days, to keep the window of older uses covered.
    ///
    /// The sender's identity key is in the message ([`PreKeySignalMessage::identity_key`]) and
    /// in the session; deciding whether to trust it is the caller's business, as is routing:
    /// a pre-key message belongs to the existing session with its base key, if there is one
    /// ([`SessionRecord::find_pre_key_session`](super::SessionRecord::find_pre_key_session)),
    /// and only a base key no session has may create a session here. Do not route by trying
    /// [`Session::matches`] and creating a session when it fails: a repeated pre-key message
    /// with an altered unauthenticated field (its registration id) fails `matches`, and where no
    /// one-time key is consumed (X3DH or a last-resort Kyber prekey without a one-time prekey)
    /// it would create a second session, deliver its message again and break the reply path.
    /// [`SessionRecord`](super::SessionRecord) and [`Device`](super::Device) route as libsignal
    /// does.
    ///
    /// # Errors
    /// [`SessionCreationError::UnknownPreKey`] for a signed, one-time or Kyber prekey id the
    /// account does not have, [`SessionCreationError::X3dhNotAllowed`],
    /// [`SessionCreationError::Key`] for a malformed or weak key in the message,
    /// [`SessionCreationError::ReplayedPreKeyMessage`] for a remembered use of a last-resort
    /// Kyber prekey, and [`SessionCreationError::Decryption`] when the message does not decrypt.
    pub fn create_inbound_session(
        &mut self,
        message: &PreKeySignalMessage,
    ) -> Result<InboundCreationResult, SessionCreationError> {
        self.create_inbound_session_inner(message, None, &mut OsRandom)
    }

    /// [`Account::create_inbound_session`] of a message from `sender` to `recipient` (us),
    /// checking its `addresses` field as libsignal ≥ 0.92 does (see
    /// [`Session::decrypt_with_addresses`]).
    ///
    /// # Errors
    /// As [`Account::create_inbound_session`]; a message naming other addresses fails with
    /// [`SessionCreationError::Decryption`] of [`DecryptionError::AddressMismatch`](crate::DecryptionError::AddressMismatch).
    pub fn create_inbound_session_with_addresses(
        &mut self,
        message: &PreKeySignalMessage,
        sender: &ProtocolAddress,
        recipient: &ProtocolAddress,
    ) -> Result<InboundCreationResult, SessionCreationError> {
        self.create_inbound_session_inner(message, Some((sender, recipient)), &mut OsRandom)
    }

    /// [`Account::create_inbound_session`] from `rng` (32 bytes for the first sending ratchet
    /// key).
    ///
    /// # Errors
    /// As [`Account::create_inbound_session`].
    #[cfg(feature = "hazmat")]
    pub fn create_inbound_session_with_rng(
        &mut self,
        message: &PreKeySignalMessage,
        rng: &mut impl RandomSource,
    ) -> Result<InboundCreationResult, SessionCreationError> {
        self.create_inbound_session_inner(message, None, rng)
    }

    fn create_inbound_session_inner(
        &mut self,
        message: &PreKeySignalMessage,
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
        rng: &mut impl RandomSource,
    ) -> Result<InboundCreationResult, SessionCreationError> {
        let m = &message.0;
        let f = &m.fields;
        if f.session_version == SESSION_VERSION_X3DH && !self.x3dh_allowed {
            return Err(SessionCreationError::X3dhNotAllowed);
        }
        let store = &self.pre_keys;
        let spk = store
            .signed
            .get(&f.signed_pre_key_id)
            .ok_or(SessionCreationError::UnknownPreKey { kind: PreKeyKind::Signed, id: f.signed_pre_key_id })?;
        let opk = match f.pre_key_id {
            Some(id) => Some(
                store.one_time.get(&id).ok_or(SessionCreationError::UnknownPreKey { kind: PreKeyKind::OneTime, id })?,
            ),
            None => None,
        };
        let kyber = match &f.kyber {
            Some((id, _)) => Some(
                store.kyber.get(id).ok_or(SessionCreationError::UnknownPreKey { kind: PreKeyKind::Kyber, id: *id })?,
            ),
            None => None,
        };
        // A last-resort Kyber prekey outlives its uses: refuse one it has already had.
        let last_resort_use = match (&f.kyber, kyber) {
            (Some((id, _)), Some(r)) if r.last_resort => {
                let u = LastResortUse::new(*id, f.signed_pre_key_id, &f.base_key);
                if store.last_resort_used(&u) {
                    return Err(SessionCreationError::ReplayedPreKeyMessage);
                }
                Some(u)
            }
            _ => None,
        };
        let keys = InboundKeys {
            our_identity: &self.identity,
            our_registration_id: self.registration_id,
            signed_pre_key: &spk.secret,
            one_time_pre_key: opk.map(|r| &r.secret),
            kyber_pre_key: kyber.map(|r| &r.secret),
            spqr_policy: self.spqr_policy,
        };
        let mut session = Session::new_inbound(keys, m)?;
        let plaintext = session.decrypt_signal(&m.message, true, addresses, rng)?;

        // Only now that the message has decrypted are the one-time keys spent.
        let remove_kyber = kyber.is_some_and(|r| !r.last_resort);
        if let Some(id) = f.pre_key_id {
            self.pre_keys.one_time.remove(&id);
        }
        if let (true, Some((id, _))) = (remove_kyber, &f.kyber) {
            self.pre_keys.kyber.remove(id);
        }
        if let Some(u) = last_resort_use {
            self.pre_keys.remember_last_resort_use(u);
        }
        Ok(InboundCreationResult { session, plaintext })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interolm::InterolmMessage;

    /// Bob with a signed prekey and a one-time prekey, and a Kyber prekey if `kyber` (last
    /// resort if `Some(true)`).
    fn bob(kyber: Option<bool>) -> Account {
        let mut bob = Account::new();
        bob.generate_signed_pre_key();
        bob.generate_one_time_pre_keys(1);
        if let Some(last_resort) = kyber {
            bob.generate_kyber_pre_key(last_resort);
        }
        bob
    }

    fn pre_key_message(session: &mut Session) -> PreKeySignalMessage {
        match session.encrypt(b"hi").unwrap() {
            InterolmMessage::PreKey(m) => m,
            other => panic!("not a pre-key message: {other:?}"),
        }
    }

    #[test]
    fn x3dh_is_refused_both_ways_unless_allowed() {
        let mut alice = Account::new();
        let mut bob_x3dh = bob(None);
        let bundle = bob_x3dh.pre_key_bundle(1).unwrap();
        assert_eq!(alice.create_outbound_session(&bundle).unwrap_err(), SessionCreationError::X3dhNotAllowed);
        alice.allow_x3dh(true);
        let mut session = alice.create_outbound_session(&bundle).unwrap();
        let m = pre_key_message(&mut session);
        let before = format!("{:?}", bob_x3dh.pre_keys());
        assert_eq!(bob_x3dh.create_inbound_session(&m).unwrap_err(), SessionCreationError::X3dhNotAllowed);
        assert_eq!(format!("{:?}", bob_x3dh.pre_keys()), before, "a refusal spends nothing");
        bob_x3dh.allow_x3dh(true);
        assert_eq!(bob_x3dh.create_inbound_session(&m).unwrap().plaintext, b"hi");
        // PQXDH needs no permission, either way
        let alice = Account::new();
        let mut bob_pq = bob(Some(false));
        let mut session = alice.create_outbound_session(&bob_pq.pre_key_bundle(1).unwrap()).unwrap();
        assert_eq!(bob_pq.create_inbound_session(&pre_key_message(&mut session)).unwrap().plaintext, b"hi");
    }

    #[test]
    fn a_one_time_kyber_prekey_is_spent_and_a_last_resort_one_refuses_replays() {
        let alice = Account::new();
        // one-time Kyber prekey: spent with the one-time prekey once the message decrypts
        let mut bob_once = bob(Some(false));
        let mut session = alice.create_outbound_session(&bob_once.pre_key_bundle(1).unwrap()).unwrap();
        let m = pre_key_message(&mut session);
        bob_once.create_inbound_session(&m).unwrap();
        assert!(bob_once.pre_keys().kyber.is_empty(), "one-time Kyber prekey spent");
        assert!(bob_once.pre_keys().one_time.is_empty(), "one-time prekey spent");
        assert_eq!(bob_once.pre_keys().last_resort_uses(), 0, "only last-resort uses are remembered");
        assert!(matches!(
            bob_once.create_inbound_session(&m),
            Err(SessionCreationError::UnknownPreKey { kind: PreKeyKind::OneTime, .. })
        ));
        // last-resort Kyber prekey and no one-time prekey: kept, and each use accepted once
        let (mut bob_lr, bundle) = crate::test_fixtures::interolm_responder(0);
        let mut session = alice.create_outbound_session(&bundle).unwrap();
        let m = pre_key_message(&mut session);
        assert_eq!(bob_lr.create_inbound_session(&m).unwrap().plaintext, b"hi");
        assert_eq!(bob_lr.pre_keys().kyber.len(), 1, "a last-resort Kyber prekey is kept");
        assert_eq!(bob_lr.pre_keys().last_resort_uses(), 1);
        let before = format!("{:?}", bob_lr.pre_keys());
        assert_eq!(bob_lr.create_inbound_session(&m).unwrap_err(), SessionCreationError::ReplayedPreKeyMessage);
        assert_eq!(format!("{:?}", bob_lr.pre_keys()), before);
        // another session (another base key) to the same last-resort prekey is fine
        let mut session = alice.create_outbound_session(&bundle).unwrap();
        assert_eq!(bob_lr.create_inbound_session(&pre_key_message(&mut session)).unwrap().plaintext, b"hi");
    }

    #[test]
    fn an_olm_account_lends_its_identity_key() {
        let olm = crate::olm::Account::new();
        let a = Account::from_olm_account(&olm);
        assert_eq!(a.identity_key(), olm.curve25519_key());
        assert!((1..=16380).contains(&a.registration_id()));
    }

    struct Fill(u8);
    impl RandomSource for Fill {
        fn fill(&mut self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
    }

    #[test]
    fn registration_ids_run_from_1_to_16380() {
        assert_eq!(random_registration_id(&mut Fill(0)), 1);
        // u32::MAX = 262 208 × 16 380 + 255
        assert_eq!(random_registration_id(&mut Fill(0xFF)), 256);
    }

    #[test]
    fn x3dh_is_off_until_allowed() {
        let mut a = Account::new();
        assert!(!a.x3dh_allowed());
        a.allow_x3dh(true);
        assert!(a.x3dh_allowed());
        a.allow_x3dh(false);
        assert!(!a.x3dh_allowed());
    }

    /// (hazmat) An account from a given random source is that source's: the same bytes make
    /// the same identity and registration id.
    #[cfg(feature = "hazmat")]
    #[test]
    fn accounts_from_the_same_random_bytes_are_the_same() {
        let (a, b) = (Account::new_with_rng(&mut Fill(7)), Account::new_with_rng(&mut Fill(7)));
        assert_eq!(a.identity_key(), b.identity_key());
        assert_eq!(a.registration_id(), 1 + 0x0707_0707 % 16380);
        assert_ne!(Account::new_with_rng(&mut Fill(8)).identity_key(), a.identity_key());
    }

    /// Each generator returns the ids it stored its keys under (the next free ones), with or
    /// (hazmat) without an explicit random source; `pre_keys_mut` changes the account's own store.
    #[test]
    fn generated_prekeys_are_stored_under_the_ids_returned() {
        let mut a = Account::new();
        assert_eq!((a.generate_signed_pre_key(), a.generate_signed_pre_key()), (1, 2));
        assert_eq!(a.generate_one_time_pre_keys(2), [1, 2]);
        assert_eq!((a.generate_kyber_pre_key(false), a.generate_kyber_pre_key(true)), (1, 2));
        #[cfg(feature = "hazmat")]
        {
            assert_eq!(a.generate_signed_pre_key_with_rng(&mut Fill(1)), 3);
            assert_eq!(a.generate_one_time_pre_keys_with_rng(2, &mut Fill(2)), [3, 4]);
            assert_eq!(a.generate_kyber_pre_key_with_rng(true, &mut Fill(3)), 3);
        }
        let (n, one_time) = if cfg!(feature = "hazmat") { (3, 4) } else { (2, 2) };
        assert_eq!(a.pre_keys().signed_pre_key_ids(), (1..=n).collect::<Vec<_>>());
        assert_eq!(a.pre_keys().kyber_pre_key_ids(), (1..=n).collect::<Vec<_>>());
        assert_eq!(a.pre_keys().one_time_pre_keys().len(), one_time);
        assert!(a.pre_keys_mut().remove_one_time_pre_key(1));
        assert!(!a.pre_keys().contains_one_time_pre_key(1));
    }

    /// The bundle's Kyber prekey is the newest one-time one while there is one (a last-resort
    /// key is reused by every initiator), else the newest last-resort one.
    #[test]
    fn bundles_prefer_one_time_kyber_prekeys() {
        let mut a = Account::new();
        a.generate_signed_pre_key();
        let kyber_id = |a: &Account| a.pre_key_bundle(1).unwrap().kyber_pre_key.map(|(id, _, _)| id);
        assert_eq!(kyber_id(&a), None);
        let (one_time, last_resort) = (a.generate_kyber_pre_key(false), a.generate_kyber_pre_key(true));
        assert_eq!(kyber_id(&a), Some(one_time));
        let newest_last_resort = a.generate_kyber_pre_key(true);
        assert_eq!(kyber_id(&a), Some(one_time));
        a.pre_keys_mut().remove_kyber_pre_key(one_time);
        assert_eq!(kyber_id(&a), Some(newest_last_resort));
        assert_ne!(newest_last_resort, last_resort);
    }
}
