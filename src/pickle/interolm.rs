//! caudata's own pickle bodies for the interolm (Signal dialect) objects — the session (object
//! type 5) and the account (type 6) — and [`AnySessionPickle`], one pickle type for a session of
//! either dialect (see SPEC.md §9 for the tables).
//!
//! As for the Olm objects, decoding validates everything (limits, tags, key consistency, the
//! session's own invariants) and builds the object only at the end.

use zeroize::Zeroizing;

use super::codec::{Reader, Writer};
use super::envelope::{self, ObjectType};
use super::own::{
    CURVE25519_PAIR_LEN, PickleBody, SessionPickle, V3, curve25519_pair_len, decode_ratchet, encode_ratchet,
    from_encrypted_bytes, from_encrypted_str, from_plain, pickle_methods, pickle_type, read_curve25519_pair,
    to_encrypted, write_curve25519_pair,
};
use crate::consts::MAX_LAST_RESORT_USES;
use crate::error::PickleError;
use crate::interolm::spqr::{SpqrState, SpqrVersion};
use crate::interolm::{Account, LastResortUse, PreKeyStore, SIGNAL_DIALECT, Session, SessionVersion, SpqrPolicy};
use crate::primitives::{
    Curve25519PublicKey, Kyber1024Ciphertext, Kyber1024SecretKey, OsRandom, RandomSource, XEdDsaSignature,
    base64_decode, base64_encode,
};
use crate::session::{Dialect, Inner};
use crate::wire::signal::{PreKeyFields, SESSION_VERSION_PQXDH, SESSION_VERSION_X3DH};

// ---------------------------------------------------------------- interolm session (type 5)

/// A Kyber1024 ciphertext in libsignal's serialized form, `0x08 ‖ ct`.
const KYBER_CT_LEN: usize = Kyber1024Ciphertext::LENGTH;
/// A Kyber1024 secret key in libsignal's serialized form, `0x08 ‖ sk`.
const KYBER_SK_LEN: usize = Kyber1024SecretKey::LENGTH;

/// `u8 version | bool initiator | local identity(32) | remote identity(32) | u32 local reg id
///  | u32 remote reg id | base key(32) | bool received | pre-key part | ratchet | u32 len ‖ SPQR`,
/// where the pre-key part is `1 ‖ option<u32 one-time id> ‖ u32 signed id ‖ option<u32 Kyber id
/// ‖ ciphertext(1569)>` while the initiator still sends pre-key messages (its other fields are
/// the session's own), else `0 ‖ pre-key digest(32)`.
pub(super) fn encode_interolm_session(s: &Session, w: &mut Writer) {
    w.u8(s.version.as_u8());
    w.bool(s.initiator);
    w.bytes(s.local_identity.as_bytes());
    w.bytes(s.remote_identity.as_bytes());
    w.u32(s.local_registration_id);
    w.u32(s.remote_registration_id);
    w.bytes(s.base_key.as_bytes());
    w.bool(s.received_message);
    match &s.pending_pre_key {
        Some(f) => {
            w.bool(true);
            match f.pre_key_id {
                Some(id) => {
                    w.bool(true);
                    w.u32(id);
                }
                None => w.bool(false),
            }
            w.u32(f.signed_pre_key_id);
            match &f.kyber {
                Some((id, ct)) => {
                    w.bool(true);
                    w.u32(*id);
                    w.bytes(&ct.to_bytes());
                }
                None => w.bool(false),
            }
        }
        None => {
            w.bool(false);
            w.bytes(&s.pre_key_digest);
        }
    }
    encode_ratchet(&s.ratchet, w);
    let spqr = s.spqr.to_bytes();
    w.count(spqr.len());
    w.secret(&spqr);
}

fn read_session_version(r: &mut Reader<'_>) -> Result<SessionVersion, PickleError> {
    match r.u8("session version")? {
        SESSION_VERSION_X3DH => Ok(SessionVersion::X3dh),
        SESSION_VERSION_PQXDH => Ok(SessionVersion::Pqxdh),
        _ => Err(PickleError::InvalidField("session version")),
    }
}

fn read_public(r: &mut Reader<'_>, what: &'static str) -> Result<Curve25519PublicKey, PickleError> {
    Ok(Curve25519PublicKey::from_bytes(r.bytes::<32>(what)?))
}

pub(super) fn decode_interolm_session(r: &mut Reader<'_>) -> Result<Session, PickleError> {
    let version = read_session_version(r)?;
    let initiator = r.bool("initiator")?;
    let local_identity = read_public(r, "local identity key")?;
    let remote_identity = read_public(r, "remote identity key")?;
    let local_registration_id = r.u32("local registration id")?;
    let remote_registration_id = r.u32("remote registration id")?;
    let base_key = read_public(r, "base key")?;
    // Held to the rules a live session's keys passed (a bundle's or a pre-key message's).
    remote_identity.validate_vartime()?;
    base_key.validate_vartime()?;
    let received_message = r.bool("received message")?;
    let (pending_pre_key, stored_digest) = if r.bool("pending pre-key present")? {
        let pre_key_id = if r.bool("one-time prekey present")? { Some(r.u32("one-time prekey id")?) } else { None };
        let signed_pre_key_id = r.u32("signed prekey id")?;
        let kyber = if r.bool("Kyber prekey present")? {
            let id = r.u32("Kyber prekey id")?;
            let ct = Kyber1024Ciphertext::from_bytes(&r.bytes::<KYBER_CT_LEN>("Kyber ciphertext")?)?;
            Some((id, ct))
        } else {
            None
        };
        // The other fields of the initiator's pre-key messages are the session's own.
        let fields = PreKeyFields {
            session_version: version.as_u8(),
            registration_id: local_registration_id,
            pre_key_id,
            signed_pre_key_id,
            kyber,
            base_key,
            identity_key: local_identity,
        };
        (Some(fields), None)
    } else {
        (None, Some(r.bytes::<32>("pre-key digest")?))
    };
    let ratchet = decode_ratchet(r, &SIGNAL_DIALECT)?;
    let spqr_len = r.count(envelope::MAX_PICKLE_LENGTH, 1, "SPQR state")?;
    if spqr_len == 0 {
        return Err(PickleError::InvalidField("SPQR state (empty)"));
    }
    let spqr_bytes = r.take_secret(spqr_len, "SPQR state")?;
    let spqr = SpqrState::from_bytes(&spqr_bytes).map_err(PickleError::Spqr)?;

    // The session's invariants: only an initiator that has not heard back sends pre-key
    // messages (and then always does); PQXDH pre-key messages carry a Kyber ciphertext and
    // X3DH ones none; the Signal ratchet always has a sending chain (it makes the next one as
    // soon as a new ratchet key arrives); X3DH sessions never run SPQR.
    if pending_pre_key.is_some() != (initiator && !received_message) {
        return Err(PickleError::InvalidField("pending pre-key (initiator and received-message flags disagree)"));
    }
    if let Some(f) = &pending_pre_key
        && f.kyber.is_some() != (version == SessionVersion::Pqxdh)
    {
        return Err(PickleError::InvalidField("pending pre-key (Kyber ciphertext and session version disagree)"));
    }
    if ratchet.sender.is_none() {
        return Err(PickleError::InvalidField("ratchet (no sending chain)"));
    }
    if version == SessionVersion::X3dh && spqr.version() != SpqrVersion::V0 {
        return Err(PickleError::InvalidField("SPQR state (an X3DH session runs none)"));
    }
    let pre_key_digest = match (&pending_pre_key, stored_digest) {
        (Some(f), _) => Session::pre_key_fields_digest(f),
        (None, Some(d)) => d,
        (None, None) => return Err(PickleError::InvalidField("pre-key digest")),
    };
    Ok(Session {
        version,
        initiator,
        local_identity,
        remote_identity,
        local_registration_id,
        remote_registration_id,
        base_key,
        pending_pre_key,
        pre_key_digest,
        ratchet,
        received_message,
        spqr,
    })
}

pub(crate) fn clone_interolm_session(s: &Session) -> Session {
    Session {
        version: s.version,
        initiator: s.initiator,
        local_identity: s.local_identity,
        remote_identity: s.remote_identity,
        local_registration_id: s.local_registration_id,
        remote_registration_id: s.remote_registration_id,
        base_key: s.base_key,
        pending_pre_key: s.pending_pre_key.clone(),
        pre_key_digest: s.pre_key_digest,
        ratchet: s.ratchet.clone(),
        received_message: s.received_message,
        spqr: s.spqr.clone(),
    }
}

fn interolm_session_size_hint(s: &Session) -> usize {
    const RECEIVER: usize = 32 + 32 + 4 + 4;
    const SKIPPED: usize = 4 + 32;
    256 + KYBER_CT_LEN + 4096 + s.ratchet.receivers.iter().map(|r| RECEIVER + r.skipped.len() * SKIPPED).sum::<usize>()
}

pickle_type!(
    /// A pickled interolm (Signal dialect) [`Session`](crate::interolm::Session): identities,
    /// registration ids, base key, the pre-key fields an initiator repeats until the first
    /// reply, the double ratchet (Signal's limits: 5 receiving chains, 2 000 skipped keys each)
    /// and the SPQR state.
    InterolmSessionPickle,
    Session,
    ObjectType::InterolmSession,
    interolm_session_size_hint,
    encode_interolm_session,
    decode_interolm_session
);
pickle_methods!(Session, InterolmSessionPickle, clone_interolm_session);

// ---------------------------------------------------------------- interolm account (type 6)

/// The most signed prekeys an account pickle holds (Signal clients keep two or three).
pub const MAX_SIGNED_PRE_KEYS: usize = 100;
/// The most one-time prekeys an account pickle holds (Signal clients keep about 100).
pub const MAX_ONE_TIME_PRE_KEYS: usize = 10_000;
/// The most Kyber prekeys an account pickle holds (one-time and last-resort; 3.2 kB each).
pub const MAX_KYBER_PRE_KEYS: usize = 100;

const KYBER_LEN: usize = 4 + 1 + KYBER_SK_LEN + 64;
/// A signed prekey and a one-time prekey as written: `u32 id ‖ key pair (‖ signature 64)`.
const SIGNED_LEN: usize = 4 + CURVE25519_PAIR_LEN + 64;
const ONE_TIME_LEN: usize = 4 + CURVE25519_PAIR_LEN;
/// A remembered use of a last-resort Kyber prekey: `u32 Kyber id ‖ u32 signed id ‖ digest 16`.
const LAST_RESORT_USE_LEN: usize = 4 + 4 + 16;

/// The largest interolm account pickle (encrypted, every list full, format 3 or 4): 1 041 709 bytes.
/// It must stay below the largest pickle any reader accepts, or a full account could be
/// written and never read back; checked when the crate compiles.
const MAX_ACCOUNT_PICKLE: usize = envelope::HEADER_LEN
    + envelope::NONCE_LEN
    + envelope::TAG_LEN
    + CURVE25519_PAIR_LEN
    + 4
    + 1
    + 1
    + 3 * 4
    + 3 * 4
    + MAX_SIGNED_PRE_KEYS * SIGNED_LEN
    + MAX_ONE_TIME_PRE_KEYS * ONE_TIME_LEN
    + MAX_KYBER_PRE_KEYS * KYBER_LEN
    + 4
    + MAX_LAST_RESORT_USES * LAST_RESORT_USE_LEN;
const _: () = assert!(MAX_ACCOUNT_PICKLE <= envelope::MAX_PICKLE_LENGTH);

const SPQR_OFF: u8 = 0;
const SPQR_OPTIONAL: u8 = 1;
const SPQR_REQUIRED: u8 = 2;

/// `identity key pair | u32 registration id | bool X3DH allowed | u8 SPQR policy
///  | u32 next signed id | u32 next one-time id | u32 next Kyber id
///  | list≤100<u32 id | key pair | signature(64)> | list≤10000<u32 id | key pair>
///  | list≤100<u32 id | bool last resort | Kyber secret(3169) | signature(64)>
///  | list≤1024<u32 Kyber id | u32 signed id | base key digest(16)>` (ids ascending; a key pair
/// is `secret(32) | public(32)`, in format version 1 `secret(32)` alone; the last list, the
/// remembered uses of last-resort Kyber prekeys oldest first, from format version 3 on).
fn encode_interolm_account(a: &Account, w: &mut Writer) {
    write_curve25519_pair(w, &a.identity);
    w.u32(a.registration_id);
    w.bool(a.x3dh_allowed);
    w.u8(match a.spqr_policy {
        SpqrPolicy::Off => SPQR_OFF,
        SpqrPolicy::Optional => SPQR_OPTIONAL,
        SpqrPolicy::Required => SPQR_REQUIRED,
    });
    let s = &a.pre_keys;
    w.u32(s.next_signed_id);
    w.u32(s.next_one_time_id);
    w.u32(s.next_kyber_id);
    w.count(s.signed.len());
    for (id, k) in &s.signed {
        w.u32(*id);
        write_curve25519_pair(w, &k.secret);
        w.bytes(k.signature.as_bytes());
    }
    w.count(s.one_time.len());
    for (id, k) in &s.one_time {
        w.u32(*id);
        write_curve25519_pair(w, &k.secret);
    }
    w.count(s.kyber.len());
    for (id, k) in &s.kyber {
        w.u32(*id);
        w.bool(k.last_resort);
        w.secret(&k.secret.to_bytes());
        w.bytes(k.signature.as_bytes());
    }
    w.count(s.last_resort_uses.len());
    for u in &s.last_resort_uses {
        w.u32(u.kyber_id);
        w.u32(u.signed_id);
        w.bytes(&u.base_key_digest);
    }
}

/// Reads a list of `(u32 id, item)` with strictly ascending ids.
fn read_id_list<T>(
    r: &mut Reader<'_>,
    max: usize,
    min_item: usize,
    what: &'static str,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T, PickleError>,
) -> Result<Vec<(u32, T)>, PickleError> {
    let mut last: Option<u32> = None;
    r.list(max, min_item, what, |r| {
        let id = r.u32(what)?;
        if last.is_some_and(|l| id <= l) {
            return Err(PickleError::InvalidField(what));
        }
        last = Some(id);
        Ok((id, item(r)?))
    })
}

fn decode_interolm_account(r: &mut Reader<'_>) -> Result<Account, PickleError> {
    let identity = read_curve25519_pair(r, "identity key")?;
    let registration_id = r.u32("registration id")?;
    let x3dh_allowed = r.bool("X3DH allowed")?;
    let spqr_policy = match r.u8("SPQR policy")? {
        SPQR_OFF => SpqrPolicy::Off,
        SPQR_OPTIONAL => SpqrPolicy::Optional,
        SPQR_REQUIRED => SpqrPolicy::Required,
        _ => return Err(PickleError::InvalidField("SPQR policy")),
    };
    let next_signed_id = r.u32("next signed prekey id")?;
    let next_one_time_id = r.u32("next one-time prekey id")?;
    let next_kyber_id = r.u32("next Kyber prekey id")?;
    let pair_len = curve25519_pair_len(r);
    let signed = read_id_list(r, MAX_SIGNED_PRE_KEYS, 4 + pair_len + 64, "signed prekeys", |r| {
        let secret = read_curve25519_pair(r, "signed prekey")?;
        Ok((secret, XEdDsaSignature::from_bytes(r.bytes::<64>("signed prekey signature")?)))
    })?;
    let one_time = read_id_list(r, MAX_ONE_TIME_PRE_KEYS, 4 + pair_len, "one-time prekeys", |r| {
        read_curve25519_pair(r, "one-time prekey")
    })?;
    let kyber = read_id_list(r, MAX_KYBER_PRE_KEYS, KYBER_LEN, "Kyber prekeys", |r| {
        let last_resort = r.bool("Kyber prekey last resort")?;
        let secret = r.take_secret(KYBER_SK_LEN, "Kyber prekey")?;
        let signature = XEdDsaSignature::from_bytes(r.bytes::<64>("Kyber prekey signature")?);
        Ok((last_resort, secret, signature))
    })?;
    let last_resort_uses = if r.version() >= V3 {
        r.list(MAX_LAST_RESORT_USES, LAST_RESORT_USE_LEN, "last-resort uses", |r| {
            Ok(LastResortUse {
                kyber_id: r.u32("last-resort use")?,
                signed_id: r.u32("last-resort use")?,
                base_key_digest: r.bytes::<16>("last-resort use")?,
            })
        })?
    } else {
        Vec::new()
    };

    // Everything is read: now the keys (Kyber secret keys are checked against the hash of
    // their public key; Curve25519 public keys were stored beside them, or are recomputed
    // when first needed for a version 1 pickle).
    let mut pre_keys = PreKeyStore::new();
    for (id, (last_resort, secret, signature)) in kyber {
        let secret = Kyber1024SecretKey::from_bytes(&secret)?;
        pre_keys.import_kyber_pre_key(id, secret, signature, last_resort);
    }
    for (id, (secret, signature)) in signed {
        pre_keys.import_signed_pre_key(id, secret, signature);
    }
    for (id, secret) in one_time {
        pre_keys.import_one_time_pre_key(id, secret);
    }
    pre_keys.next_signed_id = next_signed_id;
    pre_keys.next_one_time_id = next_one_time_id;
    pre_keys.next_kyber_id = next_kyber_id;
    pre_keys.last_resort_uses = last_resort_uses.into();
    let mut account = Account::from_identity_key(identity, registration_id);
    account.x3dh_allowed = x3dh_allowed;
    account.spqr_policy = spqr_policy;
    account.pre_keys = pre_keys;
    Ok(account)
}

pub(crate) fn clone_interolm_account(a: &Account) -> Account {
    Account {
        identity: a.identity.clone(),
        identity_public: a.identity_public,
        registration_id: a.registration_id,
        x3dh_allowed: a.x3dh_allowed,
        pre_keys: a.pre_keys.clone(),
        spqr_policy: a.spqr_policy,
    }
}

fn interolm_account_size_hint(a: &Account) -> usize {
    98 + a.pre_keys.signed.len() * SIGNED_LEN
        + a.pre_keys.one_time.len() * ONE_TIME_LEN
        + a.pre_keys.kyber.len() * KYBER_LEN
        + a.pre_keys.last_resort_uses.len() * LAST_RESORT_USE_LEN
}

pickle_type!(
    /// A pickled interolm [`Account`](crate::interolm::Account): identity key, registration id,
    /// X3DH and SPQR policies, and every prekey (signed prekeys with their signatures, one-time
    /// prekeys, Kyber prekeys with their secret keys, signatures and last-resort flags).
    InterolmAccountPickle,
    Account,
    ObjectType::InterolmAccount,
    interolm_account_size_hint,
    encode_interolm_account,
    decode_interolm_account
);

impl Account {
    /// A snapshot of the account for storage (see [`InterolmAccountPickle::encrypt`] and
    /// [`InterolmAccountPickle::to_unencrypted_bytes`]).
    ///
    /// # Errors
    /// [`PickleError::TooMany`] when the account holds more prekeys than a pickle may
    /// ([`MAX_SIGNED_PRE_KEYS`], [`MAX_ONE_TIME_PRE_KEYS`], [`MAX_KYBER_PRE_KEYS`]): such a
    /// pickle could not be read back, so none is made. Remove old prekeys first.
    pub fn pickle(&self) -> Result<InterolmAccountPickle, PickleError> {
        let s = &self.pre_keys;
        for (field, got, max) in [
            ("signed prekeys", s.signed.len(), MAX_SIGNED_PRE_KEYS),
            ("one-time prekeys", s.one_time.len(), MAX_ONE_TIME_PRE_KEYS),
            ("Kyber prekeys", s.kyber.len(), MAX_KYBER_PRE_KEYS),
        ] {
            if got > max {
                return Err(PickleError::TooMany { field, got: got as u64, max: max as u64 });
            }
        }
        Ok(InterolmAccountPickle(clone_interolm_account(self)))
    }

    /// The account a pickle was made from: the same identity, policies and prekeys (consumed
    /// prekeys stay consumed).
    pub fn from_pickle(pickle: InterolmAccountPickle) -> Self {
        pickle.0
    }
}

// ---------------------------------------------------------------- either dialect

/// Boxed, as [`crate::Session`]'s dialects are: an interolm session is much larger.
enum AnyInner {
    Olm(Box<SessionPickle>),
    Interolm(Box<InterolmSessionPickle>),
}

/// A pickled [`Session`](crate::Session) of either dialect: an Olm session (object type 2,
/// the same bytes as [`SessionPickle`]) or an interolm session (type 5, the same bytes as
/// [`InterolmSessionPickle`]). Reading dispatches on the object type in the pickle's header,
/// so a bridge can keep sessions of both dialects in one table and restore them without
/// knowing their dialect in advance.
///
/// ```
/// use caudata::olm::{Account, SessionConfig};
/// use caudata::pickle::AnySessionPickle;
/// use caudata::{Dialect, Session};
///
/// let alice = Account::new();
/// let mut bob = Account::new();
/// bob.generate_one_time_keys(1);
/// let otk = *bob.one_time_keys().values().next().unwrap();
/// let olm = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
/// let session = Session::from(olm);
///
/// let key = [7u8; 32];
/// let stored = session.pickle().encrypt(&key);
/// let restored = Session::from_pickle(AnySessionPickle::from_encrypted(&stored, &key).unwrap());
/// assert_eq!(restored.dialect(), Dialect::Olm);
/// assert_eq!(restored.session_id(), session.session_id());
/// ```
pub struct AnySessionPickle(AnyInner);

impl core::fmt::Debug for AnySessionPickle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.0 {
            AnyInner::Olm(p) => f.debug_tuple("AnySessionPickle").field(p).finish(),
            AnyInner::Interolm(p) => f.debug_tuple("AnySessionPickle").field(p).finish(),
        }
    }
}

impl From<SessionPickle> for AnySessionPickle {
    fn from(p: SessionPickle) -> Self {
        Self(AnyInner::Olm(Box::new(p)))
    }
}

impl From<InterolmSessionPickle> for AnySessionPickle {
    fn from(p: InterolmSessionPickle) -> Self {
        Self(AnyInner::Interolm(Box::new(p)))
    }
}

/// Calls `$f` with the pickle inside, whatever its dialect.
macro_rules! any {
    ($self:expr, $p:ident => $e:expr) => {
        match &$self.0 {
            AnyInner::Olm($p) => $e,
            AnyInner::Interolm($p) => $e,
        }
    };
}

impl AnySessionPickle {
    /// The dialect of the pickled session.
    pub fn dialect(&self) -> Dialect {
        match self.0 {
            AnyInner::Olm(_) => Dialect::Olm,
            AnyInner::Interolm(_) => Dialect::Interolm,
        }
    }

    /// The Olm session pickle inside, if it is one.
    ///
    /// # Errors
    /// Gives the pickle back if it holds an interolm session.
    pub fn into_olm(self) -> Result<SessionPickle, Self> {
        match self.0 {
            AnyInner::Olm(p) => Ok(*p),
            other => Err(Self(other)),
        }
    }

    /// The interolm session pickle inside, if it is one.
    ///
    /// # Errors
    /// Gives the pickle back if it holds an Olm session.
    pub fn into_interolm(self) -> Result<InterolmSessionPickle, Self> {
        match self.0 {
            AnyInner::Interolm(p) => Ok(*p),
            other => Err(Self(other)),
        }
    }

    /// Encrypts as the session's own pickle type does ([`SessionPickle::encrypt`]).
    pub fn encrypt(&self, pickle_key: &[u8; 32]) -> String {
        base64_encode(self.encrypt_to_bytes(pickle_key))
    }

    /// [`Self::encrypt`] with the nonce drawn from `rng`, for known-answer tests only.
    #[cfg(feature = "hazmat")]
    pub fn encrypt_with_rng(&self, pickle_key: &[u8; 32], rng: &mut impl RandomSource) -> String {
        base64_encode(self.seal(pickle_key, rng))
    }

    /// The encrypted pickle as bytes.
    pub fn encrypt_to_bytes(&self, pickle_key: &[u8; 32]) -> Vec<u8> {
        self.seal(pickle_key, &mut OsRandom)
    }

    fn seal(&self, pickle_key: &[u8; 32], rng: &mut impl RandomSource) -> Vec<u8> {
        any!(self, p => to_encrypted(&**p, pickle_key, rng))
    }

    /// Decrypts and decodes an encrypted session pickle of either dialect.
    ///
    /// # Errors
    /// [`PickleError::NotASession`] for a pickle of another object (checked before
    /// authentication; the type tag is authenticated with the rest of the header), then as
    /// [`SessionPickle::from_encrypted`].
    pub fn from_encrypted(pickle: &str, pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
        let max = envelope::MAX_PICKLE_LENGTH / 3 * 4 + 4;
        if pickle.len() > max {
            return Err(PickleError::TooLong { got: pickle.len(), max });
        }
        let bytes = Zeroizing::new(base64_decode(pickle).map_err(|_| PickleError::Base64)?);
        Self::from_encrypted_bytes(&bytes, pickle_key)
    }

    /// Decrypts and decodes what [`Self::encrypt_to_bytes`] (or either dialect's own
    /// `encrypt_to_bytes`) wrote.
    ///
    /// # Errors
    /// As [`Self::from_encrypted`].
    pub fn from_encrypted_bytes(pickle: &[u8], pickle_key: &[u8; 32]) -> Result<Self, PickleError> {
        match envelope::peek_type(pickle)? {
            t if t == ObjectType::OlmSession as u8 => {
                from_encrypted_bytes(pickle, pickle_key).map(|p: SessionPickle| AnyInner::Olm(Box::new(p)))
            }
            t if t == ObjectType::InterolmSession as u8 => {
                from_encrypted_bytes(pickle, pickle_key).map(|p: InterolmSessionPickle| AnyInner::Interolm(Box::new(p)))
            }
            t => Err(PickleError::NotASession(t)),
        }
        .map(Self)
    }

    /// The unencrypted form (header and body); it holds every secret of the session.
    pub fn to_unencrypted_bytes(&self) -> Zeroizing<Vec<u8>> {
        any!(self, p => p.to_unencrypted_bytes())
    }

    /// Decodes an unencrypted session pickle of either dialect.
    ///
    /// # Errors
    /// [`PickleError::NotASession`], then as [`SessionPickle::from_unencrypted_bytes`].
    pub fn from_unencrypted_bytes(bytes: &[u8]) -> Result<Self, PickleError> {
        match envelope::peek_type(bytes)? {
            t if t == ObjectType::OlmSession as u8 => {
                from_plain(bytes).map(|p: SessionPickle| AnyInner::Olm(Box::new(p)))
            }
            t if t == ObjectType::InterolmSession as u8 => {
                from_plain(bytes).map(|p: InterolmSessionPickle| AnyInner::Interolm(Box::new(p)))
            }
            t => Err(PickleError::NotASession(t)),
        }
        .map(Self)
    }
}

impl crate::Session {
    /// A snapshot of the session, whatever its dialect, for storage (see
    /// [`AnySessionPickle::encrypt`]).
    pub fn pickle(&self) -> AnySessionPickle {
        match &self.0 {
            Inner::Olm(s) => s.pickle().into(),
            Inner::Interolm(s) => s.pickle().into(),
        }
    }

    /// The session a pickle was made from, in its dialect. It behaves exactly as the pickled
    /// session did.
    pub fn from_pickle(pickle: AnySessionPickle) -> Self {
        match pickle.0 {
            AnyInner::Olm(p) => crate::olm::Session::from_pickle(*p).into(),
            AnyInner::Interolm(p) => Session::from_pickle(*p).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::own::decode_all;
    use super::*;
    use crate::interolm::InterolmMessage;

    /// Pickles and reads back; the account read back pickles to the same bytes.
    fn round_trip(a: &Account) -> Account {
        let bytes = a.pickle().unwrap().to_unencrypted_bytes();
        let back = Account::from_pickle(InterolmAccountPickle::from_unencrypted_bytes(&bytes).unwrap());
        assert_eq!(*back.pickle().unwrap().to_unencrypted_bytes(), *bytes);
        back
    }

    /// An account with a signed and a last-resort Kyber prekey, and one remembered use of it.
    fn bob_with_a_last_resort_use() -> Account {
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(0);
        let mut session = Account::new().create_outbound_session(&bundle).unwrap();
        let InterolmMessage::PreKey(m) = session.encrypt(b"hi").unwrap() else { panic!("not a pre-key message") };
        bob.create_inbound_session(&m).unwrap();
        bob
    }

    fn read_account(bytes: &[u8]) -> Result<Account, PickleError> {
        InterolmAccountPickle::from_unencrypted_bytes(bytes).map(Account::from_pickle)
    }

    #[test]
    fn accounts_round_trip_with_every_policy_and_prekey_list() {
        let mut a = Account::new();
        a.generate_signed_pre_key();
        a.generate_signed_pre_key();
        a.generate_one_time_pre_keys(3);
        for (policy, x3dh) in [(SpqrPolicy::Off, true), (SpqrPolicy::Optional, false), (SpqrPolicy::Required, true)] {
            a.set_spqr_policy(policy);
            a.allow_x3dh(x3dh);
            let back = round_trip(&a);
            assert_eq!(back.spqr_policy(), policy);
            assert_eq!((back.identity_key(), back.registration_id()), (a.identity_key(), a.registration_id()));
            assert_eq!(back.pre_keys().one_time.len(), 3);
            assert_eq!(back.pre_keys().signed.len(), 2);
        }
        // Kyber prekeys of both kinds and a remembered last-resort use
        let mut bob = bob_with_a_last_resort_use();
        bob.generate_kyber_pre_key(false);
        let back = round_trip(&bob);
        assert_eq!(back.pre_keys().last_resort_uses(), 1);
        assert_eq!(back.pre_keys().kyber.len(), 2);
    }

    #[test]
    fn account_lists_are_bounded_by_their_items_and_ascending() {
        // one signed prekey, nothing else: the body ends `signed count | item (132) | three
        // empty counts (12)`
        let mut a = Account::new();
        a.generate_signed_pre_key();
        let mut bytes = a.pickle().unwrap().to_unencrypted_bytes().to_vec();
        let at = bytes.len() - 12 - 132 - 4;
        assert_eq!(bytes[at..at + 4], [0, 0, 0, 1]);
        bytes[at + 3] = 2; // two claimed, one there: refused before any is read
        assert_eq!(read_account(&bytes).err(), Some(PickleError::Truncated("signed prekeys")));
        // two one-time prekeys with the same id
        let mut a = Account::new();
        a.generate_one_time_pre_keys(2);
        let mut bytes = a.pickle().unwrap().to_unencrypted_bytes().to_vec();
        let (first, second) = (bytes.len() - 8 - 2 * 68, bytes.len() - 8 - 68);
        let id: [u8; 4] = bytes[first..first + 4].try_into().unwrap();
        assert!(read_account(&bytes).is_ok());
        bytes[second..second + 4].copy_from_slice(&id);
        assert_eq!(read_account(&bytes).err(), Some(PickleError::InvalidField("one-time prekeys")));
    }

    #[test]
    fn session_pickles_of_either_dialect_are_told_apart_and_bounded() {
        let (bob, otk) = crate::test_fixtures::olm_responder();
        let olm = crate::olm::Account::new()
            .create_outbound_session(crate::olm::SessionConfig::version_1(), bob.identity_keys().curve25519, otk)
            .unwrap();
        let (_, signal_bundle) = crate::test_fixtures::interolm_responder(0);
        let signal = Account::new().create_outbound_session(&signal_bundle).unwrap();
        let key = [5u8; 32];
        for (session, dialect) in [(crate::Session::from(olm), Dialect::Olm), (signal.into(), Dialect::Interolm)] {
            let pickle = session.pickle();
            assert_eq!(pickle.dialect(), dialect);
            let plain = pickle.to_unencrypted_bytes();
            let back = AnySessionPickle::from_encrypted(&pickle.encrypt(&key), &key).unwrap();
            assert_eq!((back.dialect(), &*back.to_unencrypted_bytes()), (dialect, &*plain));
            let back = AnySessionPickle::from_unencrypted_bytes(&plain).unwrap();
            assert_eq!((back.dialect(), &*back.to_unencrypted_bytes()), (dialect, &*plain));
            let restored = crate::Session::from_pickle(back);
            assert_eq!(*restored.pickle().to_unencrypted_bytes(), *plain);
        }
        // another object's pickle is not a session, encrypted or not
        let account = Account::new().pickle().unwrap();
        let t = ObjectType::InterolmAccount as u8;
        assert_eq!(
            AnySessionPickle::from_unencrypted_bytes(&account.to_unencrypted_bytes()).err(),
            Some(PickleError::NotASession(t))
        );
        assert_eq!(
            AnySessionPickle::from_encrypted(&account.encrypt(&key), &key).err(),
            Some(PickleError::NotASession(t))
        );
        // longer than any pickle's base64: refused before decoding
        let max = envelope::MAX_PICKLE_LENGTH / 3 * 4 + 4;
        assert_eq!(max, 1_398_104);
        assert_eq!(
            AnySessionPickle::from_encrypted(&"A".repeat(max + 1), &key).err(),
            Some(PickleError::TooLong { got: max + 1, max })
        );
        // the longest text passes to the byte-level check (its 1 048 578 bytes are refused there)
        assert_eq!(
            AnySessionPickle::from_encrypted(&"A".repeat(max), &key).err(),
            Some(PickleError::TooLong { got: 1_048_578, max: envelope::MAX_PICKLE_LENGTH })
        );
    }

    #[test]
    fn x3dh_sessions_and_initiators_that_heard_back_round_trip() {
        fn round_trip_session(s: &Session) {
            let bytes = s.pickle().to_unencrypted_bytes();
            let back = Session::from_pickle(InterolmSessionPickle::from_unencrypted_bytes(&bytes).unwrap());
            assert_eq!(*back.pickle().to_unencrypted_bytes(), *bytes);
        }
        for kyber in [false, true] {
            let mut alice = Account::new();
            alice.allow_x3dh(true);
            let mut bob = Account::new();
            bob.allow_x3dh(true);
            bob.generate_signed_pre_key();
            bob.generate_one_time_pre_keys(1);
            if kyber {
                bob.generate_kyber_pre_key(false);
            }
            let mut a = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
            assert_eq!(a.session_version() == SessionVersion::X3dh, !kyber);
            round_trip_session(&a); // a pending pre-key message
            let InterolmMessage::PreKey(m) = a.encrypt(b"hi").unwrap() else { panic!("not a pre-key message") };
            let mut b = bob.create_inbound_session(&m).unwrap().session;
            round_trip_session(&b);
            let reply = b.encrypt(b"hello").unwrap();
            assert_eq!(a.decrypt(&reply).unwrap(), b"hello");
            round_trip_session(&a); // an initiator that has heard back: no pending pre-key
        }
    }

    #[test]
    fn decode_all_is_used_for_bodies() {
        // An empty body is truncated at the first field, for both new objects.
        assert_eq!(
            decode_all(&[], envelope::FORMAT_VERSION, false, decode_interolm_session).unwrap_err(),
            PickleError::Truncated("session version")
        );
        assert_eq!(
            decode_all(&[], envelope::FORMAT_VERSION, false, decode_interolm_account).unwrap_err(),
            PickleError::Truncated("identity key")
        );
    }

    /// The item sizes the account reader checks its counts against are the format's (SPEC.md
    /// §9), and so is the largest account pickle that the compile-time check compares with the
    /// readers' limit.
    #[test]
    fn account_item_sizes_and_the_largest_account_are_the_format_s() {
        assert_eq!((SIGNED_LEN, ONE_TIME_LEN, KYBER_LEN, LAST_RESORT_USE_LEN), (132, 68, 3238, 24));
        assert_eq!(MAX_ACCOUNT_PICKLE, 1_041_709);
        let mut a = Account::new();
        a.generate_signed_pre_key();
        a.generate_one_time_pre_keys(2);
        a.generate_kyber_pre_key(false);
        let empty = Account::new().pickle().unwrap().body().len();
        assert_eq!(a.pickle().unwrap().body().len(), empty + SIGNED_LEN + 2 * ONE_TIME_LEN + KYBER_LEN);
        // the writer's capacity guess is the body's length exactly: it never grows (it used
        // to be 2 bytes short, so every account pickle was copied once more while written)
        let bob = bob_with_a_last_resort_use();
        assert_eq!(bob.pre_keys().last_resort_uses(), 1);
        for a in [&Account::new(), &a, &bob] {
            assert_eq!(interolm_account_size_hint(a), a.pickle().unwrap().body().len());
        }
    }

    /// The writer's capacity guess covers the session's body, skipped keys and all (a guess
    /// short of it makes the writer copy the whole body once more).
    #[test]
    fn the_session_size_hint_covers_its_body() {
        let alice = Account::new();
        let (_, bundle) = crate::test_fixtures::interolm_responder(0);
        let mut s = alice.create_outbound_session(&bundle).unwrap();
        let body = |s: &Session| InterolmSessionPickle(clone_interolm_session(s)).body().len();
        assert!(body(&s) <= interolm_session_size_hint(&s), "{} {}", body(&s), interolm_session_size_hint(&s));
        let c = &mut s.ratchet.receivers[0];
        for index in 0..2_000 {
            c.skipped.push_back(crate::ratchet::MessageSeed {
                seed: crate::primitives::SecretBytes::from_slice(&[3; 32]).unwrap(),
                index,
            });
        }
        assert!(body(&s) <= interolm_session_size_hint(&s), "{} {}", body(&s), interolm_session_size_hint(&s));
        assert!(body(&s) + 4_096 > interolm_session_size_hint(&s));
    }

    /// An account with more prekeys of a kind than a pickle may hold is not pickled (it could
    /// not be read back); exactly the limit is.
    #[test]
    fn accounts_are_pickled_up_to_the_prekey_limits() {
        let mut a = Account::new();
        for _ in 0..MAX_SIGNED_PRE_KEYS {
            a.generate_signed_pre_key();
        }
        let back = round_trip(&a);
        assert_eq!(back.pre_keys().signed.len(), MAX_SIGNED_PRE_KEYS);
        a.generate_signed_pre_key();
        assert_eq!(
            a.pickle().err(),
            Some(PickleError::TooMany { field: "signed prekeys", got: 101, max: MAX_SIGNED_PRE_KEYS as u64 })
        );
    }

    /// The `hazmat` sealing with a chosen nonce opens to the same session, either dialect.
    #[cfg(feature = "hazmat")]
    #[test]
    fn any_session_pickles_seal_with_a_chosen_nonce() {
        struct Fixed;
        impl RandomSource for Fixed {
            fn fill(&mut self, dest: &mut [u8]) {
                dest.fill(6);
            }
        }
        let olm = crate::olm::Account::new();
        let mut other = crate::olm::Account::new();
        other.generate_one_time_keys(1);
        let otk = *other.one_time_keys().values().next().unwrap();
        let s = crate::Session::from(
            olm.create_outbound_session(crate::olm::SessionConfig::version_2(), other.curve25519_key(), otk).unwrap(),
        );
        let key = [2u8; 32];
        let text = s.pickle().encrypt_with_rng(&key, &mut Fixed);
        assert_eq!(text, s.pickle().encrypt_with_rng(&key, &mut Fixed));
        let back = crate::Session::from_pickle(AnySessionPickle::from_encrypted(&text, &key).unwrap());
        assert_eq!(back.session_id(), s.session_id());
    }
}
