//! A session record: everything one device keeps about one remote device, as libsignal's
//! `SessionRecord`: the current session and up to [`MAX_ARCHIVED_SESSIONS`] archived ones,
//! newest first.
//!
//! * A new session (a processed bundle, or a pre-key message that starts one) becomes current,
//!   and the old current one is archived: messages still in flight for it keep decrypting.
//! * A `SignalMessage` is tried on the current session, then on each archived one, newest
//!   first; the session that decrypts it becomes current (so replies go where the peer is).
//!   Each try leaves a session that fails unchanged.
//! * A pre-key message goes to the session with its base key (and session version), current
//!   or archived, never to a new one: a pre-key message whose unauthenticated outer fields were
//!   altered, or that is simply repeated, then meets the session it belongs to and is refused
//!   there as a duplicate, instead of creating a second session (and delivering its message
//!   twice) where no one-time prekey is consumed. Only a base key no session has starts one.

use std::collections::VecDeque;

use super::address::ProtocolAddress;
use super::message::{PreKeySignalMessage, SignalMessage};
use super::session::Session;
use crate::error::DecryptionError;
use crate::primitives::{Curve25519PublicKey, RandomSource};

/// How many archived sessions a record keeps (libsignal's `ARCHIVED_STATES_MAX_LENGTH`); the
/// oldest goes beyond it.
pub const MAX_ARCHIVED_SESSIONS: usize = 40;

/// Where a session sits in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionSlot {
    /// The current session.
    Current,
    /// The archived session at this position, 0 being the newest.
    Archived(usize),
}

/// The sessions with one remote device: the current one and up to
/// [`MAX_ARCHIVED_SESSIONS`] archived ones, newest first, as libsignal's `SessionRecord`.
///
/// * A new session (a processed bundle, or a pre-key message that starts one) becomes current,
///   and the old current one is archived: messages still in flight for it keep decrypting.
/// * A `SignalMessage` is tried on the current session, then on each archived one, newest
///   first; the session that decrypts it becomes current (so replies go where the peer is).
///   Each try leaves a session that fails unchanged.
/// * A pre-key message goes to the session with its base key (and session version), current
///   or archived, never to a new one: a pre-key message whose unauthenticated outer fields were
///   altered, or that is simply repeated, then meets the session it belongs to and is refused
///   there as a duplicate, instead of creating a second session (and delivering its message
///   twice) where no one-time prekey is consumed. Only a base key no session has starts one.
///
/// ```
/// use caudata::interolm::{Account, InterolmMessage, SessionRecord};
///
/// let alice = Account::new();
/// let mut bob = Account::new();
/// bob.generate_signed_pre_key();
/// bob.generate_kyber_pre_key(true);
/// let bundle = bob.pre_key_bundle(1).unwrap();
///
/// // Alice starts twice (say, after reinstalling her session store): both sessions stay.
/// let mut record = SessionRecord::new();
/// record.promote(alice.create_outbound_session(&bundle).unwrap());
/// let first = record.current_mut().unwrap().encrypt(b"first").unwrap();
/// record.promote(alice.create_outbound_session(&bundle).unwrap());
/// assert_eq!(record.archived_len(), 1);
///
/// // Bob answers on the first session; Alice finds it and makes it current again.
/// let InterolmMessage::PreKey(m) = first else { unreachable!() };
/// let mut bobs = bob.create_inbound_session(&m).unwrap().session;
/// let InterolmMessage::Whisper(reply) = bobs.encrypt(b"reply").unwrap() else { unreachable!() };
/// assert_eq!(record.decrypt_signal_message(&reply, None).unwrap(), b"reply");
/// assert_eq!(record.current().unwrap().base_key(), m.base_key());
/// ```
#[derive(Default)]
pub struct SessionRecord {
    pub(crate) current: Option<Session>,
    /// Newest first.
    pub(crate) archived: VecDeque<Session>,
}

impl core::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("current", &self.current.as_ref().map(Session::session_id))
            .field("archived", &self.archived.len())
            .finish_non_exhaustive()
    }
}

impl Clone for SessionRecord {
    fn clone(&self) -> Self {
        let c = crate::pickle::clone_interolm_session;
        Self { current: self.current.as_ref().map(c), archived: self.archived.iter().map(c).collect() }
    }
}

impl From<Session> for SessionRecord {
    fn from(session: Session) -> Self {
        Self { current: Some(session), archived: VecDeque::new() }
    }
}

impl SessionRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current session, if any (libsignal's `hasCurrentState`).
    pub fn current(&self) -> Option<&Session> {
        self.current.as_ref()
    }

    /// The current session, to encrypt with.
    pub fn current_mut(&mut self) -> Option<&mut Session> {
        self.current.as_mut()
    }

    /// The archived sessions, newest first.
    pub fn archived(&self) -> impl ExactSizeIterator<Item = &Session> {
        self.archived.iter()
    }

    /// How many archived sessions the record holds.
    pub fn archived_len(&self) -> usize {
        self.archived.len()
    }

    /// Whether the record holds no session at all.
    pub fn is_empty(&self) -> bool {
        self.current.is_none() && self.archived.is_empty()
    }

    /// The session in `slot`.
    pub fn session(&self, slot: SessionSlot) -> Option<&Session> {
        match slot {
            SessionSlot::Current => self.current.as_ref(),
            SessionSlot::Archived(i) => self.archived.get(i),
        }
    }

    /// Makes `session` current, archiving the current one (libsignal's `promoteState`).
    pub fn promote(&mut self, session: Session) {
        self.archive_current();
        self.current = Some(session);
    }

    /// Moves the current session to the archive (libsignal's `archiveCurrentState`): the next
    /// message to this device needs a new session. Sessions beyond
    /// [`MAX_ARCHIVED_SESSIONS`] are dropped, oldest first.
    pub fn archive_current(&mut self) {
        if let Some(s) = self.current.take() {
            self.archived.push_front(s);
            self.archived.truncate(MAX_ARCHIVED_SESSIONS);
        }
    }

    /// Makes the session in `slot` current (archiving the current one); returns whether there
    /// was one.
    pub fn promote_slot(&mut self, slot: SessionSlot) -> bool {
        match slot {
            SessionSlot::Current => self.current.is_some(),
            SessionSlot::Archived(i) => match self.archived.remove(i) {
                Some(s) => {
                    self.promote(s);
                    true
                }
                None => false,
            },
        }
    }

    /// The session a pre-key message belongs to: the one with its session version and base
    /// key (libsignal's `promote_matching_session` looks for the same pair).
    pub fn find_pre_key_session(&self, message: &PreKeySignalMessage) -> Option<SessionSlot> {
        self.find_base_key(message.session_version(), &message.base_key())
    }

    /// The slot of the session with this session version and initiator base key.
    pub fn find_base_key(&self, session_version: u8, base_key: &Curve25519PublicKey) -> Option<SessionSlot> {
        let is = |s: &Session| s.version.as_u8() == session_version && s.base_key == *base_key;
        if self.current.as_ref().is_some_and(is) {
            return Some(SessionSlot::Current);
        }
        self.archived.iter().position(is).map(SessionSlot::Archived)
    }

    /// Decrypts a `SignalMessage` with the current session, then with each archived one,
    /// newest first; the session that succeeds becomes current. With `addresses` (sender,
    /// recipient), the `addresses` field is checked as
    /// [`Session::decrypt_with_addresses`] does.
    ///
    /// # Errors
    /// The error of the current session (else of the newest archived one) when none decrypts;
    /// a [`DecryptionError::MissingMessageKey`] (a repeated message) at once, as libsignal
    /// stops at `DuplicatedMessage`. [`DecryptionError::SessionMismatch`] for an empty record.
    /// The record is unchanged on error.
    pub fn decrypt_signal_message(
        &mut self,
        message: &SignalMessage,
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
    ) -> Result<Vec<u8>, DecryptionError> {
        self.decrypt_signal_message_inner(message, addresses, &mut crate::primitives::OsRandom).map(|(pt, _)| pt)
    }

    pub(crate) fn decrypt_signal_message_inner(
        &mut self,
        message: &SignalMessage,
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
        rng: &mut impl RandomSource,
    ) -> Result<(Vec<u8>, SessionSlot), DecryptionError> {
        let mut first_error = None;
        let slots = self
            .current
            .iter()
            .map(|_| SessionSlot::Current)
            .chain((0..self.archived.len()).map(SessionSlot::Archived))
            .collect::<Vec<_>>();
        for slot in slots {
            let session = match slot {
                SessionSlot::Current => self.current.as_mut(),
                SessionSlot::Archived(i) => self.archived.get_mut(i),
            };
            let Some(session) = session else { continue };
            match session.decrypt_signal(&message.0, false, addresses, rng) {
                Ok(pt) => {
                    self.promote_slot(slot);
                    return Ok((pt, slot));
                }
                Err(e @ DecryptionError::MissingMessageKey { .. }) => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(DecryptionError::SessionMismatch))
    }

    /// Decrypts a pre-key message with the session it belongs to
    /// ([`SessionRecord::find_pre_key_session`]), which then becomes current. Like libsignal,
    /// only the base key and version route the message; its other outer fields (registration
    /// id, prekey ids) are not authenticated and not compared. The identity key is: a message
    /// whose identity key is not the session's is refused, as libsignal 0.103.0 does.
    ///
    /// Returns `None` when no session has the message's base key: the message starts a new
    /// session, which [`Device`](super::Device) (or the caller, through
    /// [`Account::create_inbound_session`](super::Account::create_inbound_session)) creates.
    ///
    /// # Errors
    /// [`DecryptionError::SessionMismatch`] for another identity key; the session's error when
    /// the inner message does not decrypt. The record is unchanged on error.
    pub fn decrypt_pre_key_message(
        &mut self,
        message: &PreKeySignalMessage,
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
    ) -> Option<Result<Vec<u8>, DecryptionError>> {
        self.decrypt_pre_key_message_inner(message, addresses, &mut crate::primitives::OsRandom)
    }

    pub(crate) fn decrypt_pre_key_message_inner(
        &mut self,
        message: &PreKeySignalMessage,
        addresses: Option<(&ProtocolAddress, &ProtocolAddress)>,
        rng: &mut impl RandomSource,
    ) -> Option<Result<Vec<u8>, DecryptionError>> {
        let slot = self.find_pre_key_session(message)?;
        let session = match slot {
            SessionSlot::Current => self.current.as_mut(),
            SessionSlot::Archived(i) => self.archived.get_mut(i),
        }?;
        if session.remote_identity != message.identity_key() {
            return Some(Err(DecryptionError::SessionMismatch));
        }
        Some(session.decrypt_signal(&message.0.message, true, addresses, rng).inspect(|_| {
            self.promote_slot(slot);
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interolm::{Account, InterolmMessage};

    fn bytes(r: &SessionRecord) -> Vec<u8> {
        r.pickle().to_unencrypted_bytes().to_vec()
    }

    #[test]
    fn archive_limit_promotion_routing_and_failures_change_nothing() {
        let alice = Account::new();
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(0);
        // Bob's record: sessions from 42 pre-key messages of Alice; the first is dropped.
        let mut alices = Vec::new();
        let mut firsts = Vec::new();
        let mut record = SessionRecord::new();
        for _ in 0..42 {
            let mut a = alice.create_outbound_session(&bundle).unwrap();
            let InterolmMessage::PreKey(m) = a.encrypt(b"first").unwrap() else { panic!() };
            assert!(record.decrypt_pre_key_message(&m, None).is_none(), "a new base key has no session");
            record.promote(bob.create_inbound_session(&m).unwrap().session);
            alices.push(a);
            firsts.push(m);
        }
        assert_eq!(record.archived_len(), MAX_ARCHIVED_SESSIONS);
        assert!(record.find_pre_key_session(&firsts[0]).is_none());
        assert_eq!(record.find_pre_key_session(&firsts[1]), Some(SessionSlot::Archived(39)));
        assert_eq!(record.find_pre_key_session(&firsts[41]), Some(SessionSlot::Current));
        // a repeated pre-key message meets its session: a duplicate, the record unchanged
        let before = bytes(&record);
        let e = record.decrypt_pre_key_message(&firsts[5], None).unwrap().unwrap_err();
        assert!(matches!(e, DecryptionError::Spqr(_) | DecryptionError::MissingMessageKey { .. }), "{e:?}");
        assert_eq!(bytes(&record), before);
        // the second pre-key message of an archived session decrypts there and promotes it
        let InterolmMessage::PreKey(m) = alices[5].encrypt(b"second").unwrap() else { panic!() };
        assert_eq!(record.decrypt_pre_key_message(&m, None).unwrap().unwrap(), b"second");
        assert_eq!(record.current().unwrap().base_key(), firsts[5].base_key());
        assert_eq!(record.archived_len(), MAX_ARCHIVED_SESSIONS);
        // Bob answers on an archived session; Alice reads it and answers with a whisper message,
        // which arrives when another session is current on Bob's side: tried in order, promoted.
        let mut alice_record = SessionRecord::from(alices.remove(20));
        let alice_base = alice_record.current().unwrap().base_key();
        let s = record.archived().position(|s| s.base_key() == alice_base).unwrap();
        assert!(record.promote_slot(SessionSlot::Archived(s)));
        let InterolmMessage::Whisper(reply) = record.current_mut().unwrap().encrypt(b"from bob").unwrap() else {
            panic!()
        };
        assert_eq!(alice_record.decrypt_signal_message(&reply, None).unwrap(), b"from bob");
        let InterolmMessage::Whisper(w) = alice_record.current_mut().unwrap().encrypt(b"from alice").unwrap() else {
            panic!()
        };
        assert!(record.promote_slot(SessionSlot::Archived(3)));
        assert_ne!(record.current().unwrap().base_key(), alice_base);
        let before = bytes(&record);
        let mut forged = w.to_bytes();
        let n = forged.len();
        forged[n - 1] ^= 1;
        let forged = SignalMessage::from_bytes(&forged).unwrap();
        assert_eq!(record.decrypt_signal_message(&forged, None), Err(DecryptionError::InvalidMac));
        assert_eq!(bytes(&record), before, "every session tried, none changed");
        assert_eq!(record.decrypt_signal_message(&w, None).unwrap(), b"from alice");
        assert_eq!(record.current().unwrap().base_key(), alice_base);
    }

    #[test]
    fn slots_emptiness_lookup_by_version_and_base_key_and_copies() {
        let mut r = SessionRecord::new();
        assert!(r.is_empty() && r.session(SessionSlot::Current).is_none());
        assert!(!r.promote_slot(SessionSlot::Current) && !r.promote_slot(SessionSlot::Archived(0)));
        let alice = Account::new();
        let (bob, bundle) = crate::test_fixtures::interolm_responder(0);
        let (s1, s2) =
            (alice.create_outbound_session(&bundle).unwrap(), alice.create_outbound_session(&bundle).unwrap());
        let (b1, b2) = (s1.base_key(), s2.base_key());
        let v = s1.version.as_u8();
        r.promote(s1);
        r.promote(s2);
        assert!(!r.is_empty());
        assert_eq!(r.session(SessionSlot::Current).unwrap().base_key(), b2);
        assert_eq!(r.session(SessionSlot::Archived(0)).unwrap().base_key(), b1);
        assert!(r.session(SessionSlot::Archived(1)).is_none());
        assert!(r.promote_slot(SessionSlot::Current));
        assert_eq!(r.current().unwrap().base_key(), b2);
        // both the session version and the base key must match
        assert_eq!(r.find_base_key(v, &b2), Some(SessionSlot::Current));
        assert_eq!(r.find_base_key(v, &b1), Some(SessionSlot::Archived(0)));
        assert_eq!(r.find_base_key(v ^ 7, &b2), None);
        assert_eq!(r.find_base_key(v, &bob.identity_key()), None);
        // archived sessions only: not empty
        r.archive_current();
        assert!(r.current().is_none() && !r.is_empty() && r.archived_len() == 2);
        let copy = r.clone();
        assert_eq!(bytes(&copy), bytes(&r));
    }
}
