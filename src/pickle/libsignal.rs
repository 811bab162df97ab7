//! Import of libsignal's stored records (SPEC.md §9.6), so that an application built on
//! libsignal can move to caudata without re-establishing its sessions: `SessionRecord`,
//! `PreKeyRecord`, `SignedPreKeyRecord`, `KyberPreKeyRecord` and `IdentityKeyPair`, as the npm
//! package's `serialize()` writes them (protobuf; field numbers observed with libsignal 0.72.1,
//! 0.90.0 and 0.103.0, see `test-vectors/interolm/README.md`). Import only: caudata keeps its
//! own pickles from then on.
//!
//! Every importer checks what it can (key lengths and types, that each public key is its
//! secret key's, chain and skipped-key limits, the SPQR state) and builds the object only at
//! the end, so a truncated or altered record is an error and never a partial object.

use std::collections::VecDeque;

use crate::consts::{MAX_RECEIVER_CHAINS, SIGNAL_MAX_SKIPPED_KEYS};
use crate::error::{DecodeError, PickleError};
use crate::interolm::spqr::{Direction, SpqrState, SpqrVersion};
use crate::interolm::{
    IdentityKeyPair, KyberPreKeyRecord, MAX_ARCHIVED_SESSIONS, PreKeyRecord, SIGNAL_DIALECT, Session, SessionRecord,
    SessionVersion, SignedPreKeyRecord,
};
use crate::pickle::InterolmSessionPickle;
use crate::primitives::{
    ContributoryKey, Curve25519PublicKey, Curve25519SecretKey, Kyber1024Ciphertext, Kyber1024PublicKey,
    Kyber1024SecretKey, SecretBytes, XEdDsaSignature, sha256,
};
use crate::ratchet::{ChainKey, DoubleRatchet, MessageSeed, ReceiverChain, RootKey, SenderChain};
use crate::wire::codec::Fields;
use crate::wire::signal::{PreKeyFields, decode_public_key};

/// The largest libsignal record imported (libsignal's own records have no limit; a record with
/// 41 sessions full of skipped keys stays below this).
pub const MAX_LIBSIGNAL_RECORD_LENGTH: usize = 16 << 20;

fn pe(e: DecodeError) -> PickleError {
    match e {
        DecodeError::Truncated(what) => PickleError::Truncated(what),
        DecodeError::MissingField(what) => PickleError::MissingField(what),
        DecodeError::DuplicateField(what) | DecodeError::MalformedField(what) | DecodeError::OversizeVarint(what) => {
            PickleError::InvalidField(what)
        }
        DecodeError::Key(k) => PickleError::Key(k),
        _ => PickleError::InvalidField("libsignal record"),
    }
}

fn read(bytes: &[u8]) -> Result<Fields<'_>, PickleError> {
    if bytes.len() > MAX_LIBSIGNAL_RECORD_LENGTH {
        return Err(PickleError::TooLong { got: bytes.len(), max: MAX_LIBSIGNAL_RECORD_LENGTH });
    }
    Fields::read(bytes).map_err(pe)
}

fn public(b: &[u8], what: &'static str) -> Result<Curve25519PublicKey, PickleError> {
    if b.is_empty() {
        return Err(PickleError::MissingField(what));
    }
    Ok(decode_public_key(b)?)
}

fn secret32(b: &[u8], what: &'static str) -> Result<SecretBytes<32>, PickleError> {
    if b.is_empty() {
        return Err(PickleError::MissingField(what));
    }
    SecretBytes::from_slice(b).ok_or(PickleError::InvalidField(what))
}

/// A key pair given as a 33-byte public key and a 32-byte secret key that must agree.
fn pair(public_bytes: &[u8], secret_bytes: &[u8], what: &'static str) -> Result<Curve25519SecretKey, PickleError> {
    let public = public(public_bytes, what)?;
    let secret = Curve25519SecretKey::from_secret_bytes(&secret32(secret_bytes, what)?);
    if secret.public_key() != public {
        return Err(PickleError::KeyMismatch(what));
    }
    Ok(secret)
}

fn signature(b: &[u8], what: &'static str) -> Result<XEdDsaSignature, PickleError> {
    XEdDsaSignature::from_slice(b).map_err(|_| PickleError::InvalidField(what))
}

impl IdentityKeyPair {
    /// Imports libsignal's `IdentityKeyPair.serialize()`: `{1 public key (33), 2 private key
    /// (32)}`.
    ///
    /// # Errors
    /// [`PickleError`] for a malformed record or a public key that is not the secret key's.
    pub fn from_libsignal(bytes: &[u8]) -> Result<Self, PickleError> {
        let f = read(bytes)?;
        let key = pair(
            f.bytes(1, "identity public key").map_err(pe)?,
            f.bytes(2, "identity private key").map_err(pe)?,
            "identity key",
        )?;
        Ok(Self::from_secret_key(key))
    }
}

impl PreKeyRecord {
    /// Imports libsignal's `PreKeyRecord.serialize()`: `{1 id, 2 public key (33), 3 private key
    /// (32)}`.
    ///
    /// # Errors
    /// As [`IdentityKeyPair::from_libsignal`].
    pub fn from_libsignal(bytes: &[u8]) -> Result<Self, PickleError> {
        let f = read(bytes)?;
        let id = f.u32(1, "prekey id").map_err(pe)?;
        let key = pair(
            f.bytes(2, "prekey public key").map_err(pe)?,
            f.bytes(3, "prekey private key").map_err(pe)?,
            "prekey",
        )?;
        Ok(Self::new(id, key))
    }
}

impl SignedPreKeyRecord {
    /// Imports libsignal's `SignedPreKeyRecord.serialize()`: `{1 id, 2 public key (33), 3
    /// private key (32), 4 signature (64), 5 timestamp (fixed64, milliseconds)}`. The signature
    /// is kept as given (peers check it against the identity key).
    ///
    /// # Errors
    /// As [`IdentityKeyPair::from_libsignal`].
    pub fn from_libsignal(bytes: &[u8]) -> Result<Self, PickleError> {
        let f = read(bytes)?;
        let id = f.u32(1, "signed prekey id").map_err(pe)?;
        let key = pair(
            f.bytes(2, "signed prekey public key").map_err(pe)?,
            f.bytes(3, "signed prekey private key").map_err(pe)?,
            "signed prekey",
        )?;
        let sig = signature(f.bytes(4, "signed prekey signature").map_err(pe)?, "signed prekey signature")?;
        let timestamp = f.fixed64(5, "signed prekey timestamp").map_err(pe)?;
        Ok(Self::new(id, timestamp, key, sig))
    }
}

impl KyberPreKeyRecord {
    /// Imports libsignal's `KyberPreKeyRecord.serialize()`: `{1 id, 2 public key (1569), 3
    /// secret key (3169), 4 signature (64), 5 timestamp (fixed64, milliseconds)}`. libsignal's
    /// record does not say whether the key is last-resort (its application decides in
    /// `markKyberPreKeyUsed`): the caller says so.
    ///
    /// # Errors
    /// As [`IdentityKeyPair::from_libsignal`]; also when the public key is not the one inside
    /// the secret key.
    pub fn from_libsignal(bytes: &[u8], last_resort: bool) -> Result<Self, PickleError> {
        let f = read(bytes)?;
        let id = f.u32(1, "Kyber prekey id").map_err(pe)?;
        let public = Kyber1024PublicKey::from_bytes(f.bytes(2, "Kyber prekey public key").map_err(pe)?)?;
        let secret = Kyber1024SecretKey::from_bytes(f.bytes(3, "Kyber prekey secret key").map_err(pe)?)?;
        if *secret.public_key() != public {
            return Err(PickleError::KeyMismatch("Kyber prekey"));
        }
        let sig = signature(f.bytes(4, "Kyber prekey signature").map_err(pe)?, "Kyber prekey signature")?;
        let timestamp = f.fixed64(5, "Kyber prekey timestamp").map_err(pe)?;
        Ok(Self::new(id, timestamp, secret, sig, last_resort))
    }
}

/// The pre-key digest of a session imported without its pre-key fields (the responder's side):
/// libsignal does not keep them, so [`Session::matches`] is false for every message; the
/// session record routes its pre-key messages by base key instead.
fn unknown_pre_key_digest() -> [u8; 32] {
    sha256(&[b"caudata interolm: imported from libsignal, pre-key fields unknown"])
}

/// `Chain { 1 sender_ratchet_key, 2 sender_ratchet_key_private, 3 chain_key { 1 index, 2 key },
/// 4 message_keys [ { 1 index, 5 seed } ] }`.
fn chain_key(f: &Fields<'_>) -> Result<ChainKey, PickleError> {
    let ck = read(f.bytes(3, "chain key").map_err(pe)?)?;
    Ok(ChainKey {
        key: secret32(ck.bytes(2, "chain key").map_err(pe)?, "chain key")?,
        index: ck.u32(1, "chain key index").map_err(pe)?,
    })
}

fn receiver(bytes: &[u8]) -> Result<ReceiverChain, PickleError> {
    let f = read(bytes)?;
    let ratchet_key = public(f.bytes(1, "receiving ratchet key").map_err(pe)?, "receiving ratchet key")?;
    ratchet_key.validate_vartime()?;
    let ratchet_key = ContributoryKey::new(ratchet_key)?;
    let chain = chain_key(&f)?;
    let keys = f.repeated(4, "message keys").map_err(pe)?;
    if keys.len() > SIGNAL_MAX_SKIPPED_KEYS {
        return Err(PickleError::TooMany {
            field: "skipped message keys",
            got: keys.len() as u64,
            max: SIGNAL_MAX_SKIPPED_KEYS as u64,
        });
    }
    let mut skipped = VecDeque::with_capacity(keys.len());
    // libsignal keeps them newest first; caudata oldest first.
    for k in keys.iter().rev() {
        let k = read(k)?;
        let index = k.u32(1, "message key index").map_err(pe)?;
        let seed = k.bytes(5, "message key seed").map_err(pe)?;
        if seed.is_empty() {
            // libsignal before 2023 stored the derived keys; caudata keeps seeds (SPQR salts
            // the derivation), so such a key cannot be carried over.
            return Err(PickleError::InvalidField("a skipped message key without its seed (libsignal before 2023)"));
        }
        if index >= chain.index {
            return Err(PickleError::InvalidField("a skipped message key at or after its chain's index"));
        }
        skipped.push_back(MessageSeed { seed: secret32(seed, "message key seed")?, index });
    }
    Ok(ReceiverChain { ratchet_key, chain, skipped })
}

/// One `SessionStructure` (the field numbers are in `test-vectors/interolm/README.md`).
fn session(bytes: &[u8]) -> Result<Session, PickleError> {
    let f = read(bytes)?;
    let version = match f.u32(1, "session version").map_err(pe)? {
        3 => SessionVersion::X3dh,
        4 => SessionVersion::Pqxdh,
        _ => return Err(PickleError::InvalidField("session version (libsignal sessions are 3 or 4)")),
    };
    let local_identity = public(f.bytes(2, "local identity key").map_err(pe)?, "local identity key")?;
    let remote_identity = public(f.bytes(3, "remote identity key").map_err(pe)?, "remote identity key")?;
    remote_identity.validate_vartime()?;
    let root = RootKey(secret32(f.bytes(4, "root key").map_err(pe)?, "root key")?);
    // libsignal keeps the index of the last message of the previous chain, as sent; caudata
    // keeps the count (it sends count − 1).
    let previous_counter = f
        .u32(5, "previous counter")
        .map_err(pe)?
        .checked_add(1)
        .ok_or(PickleError::InvalidField("previous counter"))?;
    let sender = read(f.bytes(6, "sending chain").map_err(pe)?)?;
    let ratchet_key = pair(
        sender.bytes(1, "sending ratchet key").map_err(pe)?,
        sender.bytes(2, "sending ratchet private key").map_err(pe)?,
        "sending ratchet key",
    )?;
    let sender = SenderChain::new(ratchet_key, chain_key(&sender)?);
    let receivers = f.repeated(7, "receiving chains").map_err(pe)?;
    if receivers.len() > MAX_RECEIVER_CHAINS {
        return Err(PickleError::TooMany {
            field: "receiving chains",
            got: receivers.len() as u64,
            max: MAX_RECEIVER_CHAINS as u64,
        });
    }
    let receivers = receivers.into_iter().map(receiver).collect::<Result<VecDeque<_>, _>>()?;
    let remote_registration_id = f.u32(10, "remote registration id").map_err(pe)?;
    let local_registration_id = f.u32(11, "local registration id").map_err(pe)?;
    let base_key = public(f.bytes(13, "alice base key").map_err(pe)?, "alice base key")?;
    let kyber = match f.opt_bytes(14, "pending Kyber prekey").map_err(pe)? {
        None => None,
        Some(b) => {
            let k = read(b)?;
            let ct = Kyber1024Ciphertext::from_bytes(k.bytes(2, "pending Kyber ciphertext").map_err(pe)?)?;
            Some((k.u32(1, "pending Kyber prekey id").map_err(pe)?, ct))
        }
    };
    let pending_pre_key = match f.opt_bytes(9, "pending prekey").map_err(pe)? {
        None if kyber.is_some() => {
            return Err(PickleError::InvalidField("a pending Kyber prekey without a pending prekey"));
        }
        None => None,
        Some(b) => {
            let p = read(b)?;
            if public(p.bytes(2, "pending base key").map_err(pe)?, "pending base key")? != base_key {
                return Err(PickleError::InvalidField("pending base key (not the session's base key)"));
            }
            if kyber.is_some() != (version == SessionVersion::Pqxdh) {
                return Err(PickleError::InvalidField("pending Kyber prekey and session version disagree"));
            }
            // libsignal's `timestamp` (field 4) stops it sending on a session whose first
            // message went unanswered for 30 days; caudata has no such expiry.
            Some(PreKeyFields {
                session_version: version.as_u8(),
                registration_id: local_registration_id,
                pre_key_id: p.opt_u32(1, "pending one-time prekey id").map_err(pe)?,
                signed_pre_key_id: p.u32(3, "pending signed prekey id").map_err(pe)?,
                kyber,
                base_key,
                identity_key: local_identity,
            })
        }
    };
    let spqr = SpqrState::from_libsignal(f.bytes(15, "SPQR state").map_err(pe)?).map_err(PickleError::Spqr)?;
    if version == SessionVersion::X3dh && spqr.version() != SpqrVersion::V0 {
        return Err(PickleError::InvalidField("SPQR state in an X3DH session"));
    }
    // Who started the session: the side with a pending prekey, else SPQR's direction; an
    // answered X3DH or SPQR-less session does not say, and is taken as the responder's (this
    // only orders the identities in caudata's `session_id`).
    let initiator = pending_pre_key.is_some() || spqr.direction() == Some(Direction::A2B);
    let pre_key_digest = match &pending_pre_key {
        Some(fields) => Session::pre_key_fields_digest(fields),
        None => unknown_pre_key_digest(),
    };
    let s = Session {
        version,
        initiator,
        local_identity,
        remote_identity,
        local_registration_id,
        remote_registration_id,
        base_key,
        received_message: pending_pre_key.is_none(),
        pending_pre_key,
        pre_key_digest,
        ratchet: DoubleRatchet {
            dialect: &SIGNAL_DIALECT,
            root,
            sender: Some(sender),
            receivers,
            previous_counter,
            shared_skipped: None,
        },
        spqr,
    };
    // caudata's own invariants, exactly as for its own pickles.
    Ok(Session::from_pickle(InterolmSessionPickle::from_unencrypted_bytes(&s.pickle().to_unencrypted_bytes())?))
}

impl Session {
    /// Imports one session of a libsignal record (a serialized `SessionStructure`, as found in
    /// a `SessionRecord`); see [`SessionRecord::from_libsignal`].
    ///
    /// # Errors
    /// As [`SessionRecord::from_libsignal`].
    pub fn from_libsignal_session_structure(bytes: &[u8]) -> Result<Self, PickleError> {
        session(bytes)
    }
}

impl SessionRecord {
    /// Imports libsignal's `SessionRecord.serialize()`: `{1 current session, 2 previous
    /// sessions (repeated, newest first)}`, every session with its double ratchet, skipped
    /// message keys, pending pre-key state and SPQR state. The imported sessions continue the
    /// conversation where libsignal left it (checked live with libsignal 0.103.0, 0.90.0 and
    /// 0.72.1 records).
    ///
    /// What is not carried over: libsignal's pending-prekey timestamp (libsignal stops sending
    /// on a session whose first message went unanswered for 30 days; caudata does not), and its
    /// `needs_refresh` flag. A record is refused when a session cannot be represented: skipped
    /// message keys stored without their seed (libsignal before 2023), or an SPQR state in
    /// `EkReceivedCt1Sampled` (see [`SpqrState::from_libsignal`]).
    ///
    /// # Errors
    /// [`PickleError`] naming the problem; [`PickleError::Spqr`] for the SPQR state.
    pub fn from_libsignal(bytes: &[u8]) -> Result<Self, PickleError> {
        let f = read(bytes)?;
        let current = f.opt_bytes(1, "current session").map_err(pe)?.map(session).transpose()?;
        let previous = f.repeated(2, "previous sessions").map_err(pe)?;
        if previous.len() > MAX_ARCHIVED_SESSIONS {
            return Err(PickleError::TooMany {
                field: "previous sessions",
                got: previous.len() as u64,
                max: MAX_ARCHIVED_SESSIONS as u64,
            });
        }
        let archived = previous.into_iter().map(session).collect::<Result<VecDeque<_>, _>>()?;
        Ok(Self { current, archived })
    }
}

#[cfg(test)]
mod tests {
    //! Records built in libsignal's layout (the field numbers of `test-vectors/interolm/README.md`)
    //! for the checks a live libsignal record cannot reach: the limits and the key agreement.

    use super::*;
    use crate::wire::codec::{put_bytes_field, put_fixed64_field, put_varint_field};

    #[test]
    fn records_up_to_the_length_limit_are_read() {
        let over = MAX_LIBSIGNAL_RECORD_LENGTH + 1;
        assert_eq!(
            read(&vec![0; over]).err(),
            Some(PickleError::TooLong { got: over, max: MAX_LIBSIGNAL_RECORD_LENGTH })
        );
        // exactly the limit is parsed (and refused as protobuf: field number 0)
        assert!(!matches!(read(&vec![0; MAX_LIBSIGNAL_RECORD_LENGTH]), Err(PickleError::TooLong { .. }) | Ok(_)));
        // an empty session record: no current session, no previous ones
        let empty = SessionRecord::from_libsignal(&[]).unwrap();
        assert!(empty.current().is_none());
        assert_eq!(empty.archived_len(), 0);
    }

    #[test]
    fn kyber_prekeys_import_when_the_public_key_is_the_secret_keys() {
        let identity = IdentityKeyPair::generate();
        let key = KyberPreKeyRecord::generate(7, 1_700_000_000_000, &identity, true);
        let other = KyberPreKeyRecord::generate(8, 1_700_000_000_000, &identity, true);
        let record = |public: &Kyber1024PublicKey| {
            let mut out = Vec::new();
            put_varint_field(&mut out, 1, 7);
            put_bytes_field(&mut out, 2, &public.to_bytes());
            put_bytes_field(&mut out, 3, &key.secret_key().to_bytes());
            put_bytes_field(&mut out, 4, key.signature().as_bytes());
            put_fixed64_field(&mut out, 5, 1_700_000_000_000);
            out
        };
        let imported = KyberPreKeyRecord::from_libsignal(&record(key.public_key()), false).unwrap();
        assert_eq!((imported.id(), imported.timestamp(), imported.is_last_resort()), (7, 1_700_000_000_000, false));
        assert!(*imported.public_key() == *key.public_key());
        assert_eq!(imported.signature().as_bytes(), key.signature().as_bytes());
        assert_eq!(
            KyberPreKeyRecord::from_libsignal(&record(other.public_key()), false).err(),
            Some(PickleError::KeyMismatch("Kyber prekey"))
        );
    }

    /// A receiving chain at `index` with skipped message keys at `skipped` (newest first, as
    /// libsignal keeps them).
    fn chain(index: u32, skipped: impl IntoIterator<Item = u32>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut ratchet_key = vec![0x05];
        ratchet_key.extend_from_slice(Curve25519SecretKey::new().public_key().as_bytes());
        put_bytes_field(&mut out, 1, &ratchet_key);
        let mut ck = Vec::new();
        put_varint_field(&mut ck, 1, index.into());
        put_bytes_field(&mut ck, 2, &[3; 32]);
        put_bytes_field(&mut out, 3, &ck);
        for i in skipped {
            let mut k = Vec::new();
            put_varint_field(&mut k, 1, i.into());
            put_bytes_field(&mut k, 5, &[4; 32]);
            put_bytes_field(&mut out, 4, &k);
        }
        out
    }

    #[test]
    fn receiving_chains_keep_up_to_the_limit_of_skipped_keys_before_their_index() {
        let max = u32::try_from(SIGNAL_MAX_SKIPPED_KEYS).unwrap();
        let full = receiver(&chain(max + 5, (5..max + 5).rev())).unwrap();
        assert_eq!(full.chain.index, max + 5);
        let indices: Vec<u32> = full.skipped.iter().map(|k| k.index).collect();
        assert_eq!(indices, (5..max + 5).collect::<Vec<_>>(), "oldest first");
        assert_eq!(
            receiver(&chain(max + 5, (4..max + 5).rev())).err(),
            Some(PickleError::TooMany {
                field: "skipped message keys",
                got: SIGNAL_MAX_SKIPPED_KEYS as u64 + 1,
                max: SIGNAL_MAX_SKIPPED_KEYS as u64
            })
        );
        assert_eq!(receiver(&chain(3, [2])).unwrap().skipped.len(), 1);
        for at_or_after in [3, 4] {
            assert_eq!(
                receiver(&chain(3, [at_or_after])).err(),
                Some(PickleError::InvalidField("a skipped message key at or after its chain's index"))
            );
        }
    }

    #[test]
    fn session_records_keep_up_to_the_limit_of_previous_sessions() {
        let record = |previous: usize| {
            let mut out = Vec::new();
            for _ in 0..previous {
                put_bytes_field(&mut out, 2, &[]);
            }
            out
        };
        assert_eq!(
            SessionRecord::from_libsignal(&record(MAX_ARCHIVED_SESSIONS + 1)).err(),
            Some(PickleError::TooMany {
                field: "previous sessions",
                got: MAX_ARCHIVED_SESSIONS as u64 + 1,
                max: MAX_ARCHIVED_SESSIONS as u64
            })
        );
        // the limit itself passes the count, and then each (empty: version 0) session is refused
        assert_eq!(
            SessionRecord::from_libsignal(&record(MAX_ARCHIVED_SESSIONS)).err(),
            Some(PickleError::InvalidField("session version (libsignal sessions are 3 or 4)"))
        );
    }

    fn vector(name: &str) -> serde_json::Value {
        let text = match name {
            "x3dh" => include_str!("../../test-vectors/interolm/x3dh_v3_libsignal-0.72.1.json"),
            "pqxdh" => include_str!("../../test-vectors/interolm/pqxdh_v4_libsignal-0.72.1.json"),
            _ => include_str!("../../test-vectors/interolm/pqxdh_v4_libsignal-0.90.0.json"),
        };
        serde_json::from_str(text).unwrap()
    }

    /// The top-level fields of a protobuf message: (number, the field's whole bytes, its
    /// payload when length-delimited).
    fn fields(b: &[u8]) -> Vec<(u64, Vec<u8>, Vec<u8>)> {
        fn varint(b: &[u8], at: &mut usize) -> u64 {
            let mut v = 0;
            for shift in (0..).step_by(7) {
                let byte = b[*at];
                *at += 1;
                v |= u64::from(byte & 0x7f) << shift;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            v
        }
        let mut out = Vec::new();
        let mut at = 0;
        while at < b.len() {
            let start = at;
            let tag = varint(b, &mut at);
            let payload = match tag & 7 {
                0 => {
                    varint(b, &mut at);
                    Vec::new()
                }
                1 => {
                    at += 8;
                    Vec::new()
                }
                2 => {
                    let n = usize::try_from(varint(b, &mut at)).unwrap();
                    at += n;
                    b[at - n..at].to_vec()
                }
                t => panic!("wire type {t}"),
            };
            out.push((tag >> 3, b[start..at].to_vec(), payload));
        }
        out
    }

    /// The current session of the record of `party` at `step` of a vector.
    fn current(v: &serde_json::Value, step: usize, party: &str) -> Vec<u8> {
        let record = hex::decode(v["steps"][step][party]["record"].as_str().unwrap()).unwrap();
        fields(&record).into_iter().find(|f| f.0 == 1).unwrap().2
    }

    /// `session` without the fields numbered in `drop`, with `add` appended.
    fn edit(session: &[u8], drop: &[u64], add: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = fields(session).into_iter().filter(|f| !drop.contains(&f.0)).flat_map(|f| f.1).collect();
        out.extend_from_slice(add);
        out
    }

    /// libsignal's own records (0.72.1 X3DH and PQXDH, 0.90.0 PQXDH with SPQR) import at every
    /// step, each side, with the session version, SPQR version and initiator they say.
    #[test]
    fn libsignal_records_import_with_their_version_spqr_and_initiator() {
        for (name, version, spqr) in [
            ("x3dh", SessionVersion::X3dh, SpqrVersion::V0),
            ("pqxdh", SessionVersion::Pqxdh, SpqrVersion::V0),
            ("spqr", SessionVersion::Pqxdh, SpqrVersion::V1),
        ] {
            let v = vector(name);
            for step in 0..v["steps"].as_array().unwrap().len() {
                for party in ["alice", "bob"] {
                    if v["steps"][step][party].is_null() {
                        continue;
                    }
                    let s = session(&current(&v, step, party)).unwrap();
                    let pending = !v["steps"][step][party]["state"]["pending_pre_key"].is_null();
                    assert_eq!(s.session_version(), version, "{name} {step} {party}");
                    assert_eq!(s.spqr.version(), spqr, "{name} {step} {party}");
                    // Alice while she has a pending prekey, or when SPQR says so; else taken
                    // as the responder
                    let initiator = party == "alice" && (pending || spqr == SpqrVersion::V1);
                    assert_eq!(s.is_initiator(), initiator, "{name} {step} {party}");
                    assert_eq!(s.pending_pre_key.is_some(), pending, "{name} {step} {party}");
                    // the ratchet as libsignal's summary gives it: root key, the sending
                    // chain's key pair (not only its public half) and index, the receiving keys
                    let state = &v["steps"][step][party]["state"];
                    let hex_of = |k: &str| state[k].as_str().unwrap().to_owned();
                    assert_eq!(hex::encode(s.ratchet.root.0.expose()), hex_of("root_key"));
                    let sender = s.ratchet.sender.as_ref().unwrap();
                    assert_eq!(
                        format!("05{}", hex::encode(sender.ratchet_key.public_key().as_bytes())),
                        hex_of("sender_ratchet_key")
                    );
                    assert_eq!(
                        hex::encode(sender.ratchet_key.to_secret_bytes().expose()),
                        hex_of("sender_ratchet_private")
                    );
                    assert_eq!(u64::from(sender.chain.index), state["sender_chain_index"].as_u64().unwrap());
                    let theirs: Vec<_> = state["receiver_chains"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["ratchet_key"].as_str().unwrap().to_owned())
                        .collect();
                    let ours: Vec<_> = s
                        .ratchet
                        .receivers
                        .iter()
                        .map(|r| format!("05{}", hex::encode(r.ratchet_key.key().as_bytes())))
                        .collect();
                    assert_eq!(ours, theirs, "{name} {step} {party}");
                }
            }
        }
    }

    /// A record's pending prekey must agree with the session: the base key, a Kyber part
    /// exactly for version 4, no Kyber part without a pending prekey; at most 5 receiving chains.
    #[test]
    fn pending_prekeys_and_receiving_chains_must_agree_with_the_session() {
        let v = vector("pqxdh");
        let alice = current(&v, 0, "alice");
        assert!(session(&alice).is_ok());
        let pending = fields(&alice).into_iter().find(|f| f.0 == 9).unwrap();
        // a Kyber part without a pending prekey
        assert_eq!(
            session(&edit(&alice, &[9], &[])).err(),
            Some(PickleError::InvalidField("a pending Kyber prekey without a pending prekey"))
        );
        // neither: read (as an answered session)
        assert!(session(&edit(&alice, &[9, 14], &[])).unwrap().pending_pre_key.is_none());
        // version 4 without the Kyber part, version 3 with it
        let disagree = Some(PickleError::InvalidField("pending Kyber prekey and session version disagree"));
        assert_eq!(session(&edit(&alice, &[14], &[])).err(), disagree);
        let mut v3 = Vec::new();
        put_varint_field(&mut v3, 1, 3);
        assert_eq!(session(&edit(&alice, &[1], &v3)).err(), disagree);
        // a pending base key that is not the session's
        let mut other = Vec::new();
        for f in fields(&pending.2) {
            if f.0 == 2 {
                let mut key = vec![0x05];
                key.extend_from_slice(Curve25519SecretKey::new().public_key().as_bytes());
                put_bytes_field(&mut other, 2, &key);
            } else {
                other.extend_from_slice(&f.1);
            }
        }
        let mut field = Vec::new();
        put_bytes_field(&mut field, 9, &other);
        assert_eq!(
            session(&edit(&alice, &[9], &field)).err(),
            Some(PickleError::InvalidField("pending base key (not the session's base key)"))
        );
        // and an X3DH session's pending prekey without a Kyber part is read
        let x3dh = current(&vector("x3dh"), 0, "alice");
        assert!(session(&x3dh).unwrap().pending_pre_key.unwrap().kyber.is_none());
        // an SPQR state in a version 3 session
        let spqr = current(&vector("spqr"), 4, "alice");
        assert!(session(&spqr).is_ok());
        assert_eq!(
            session(&edit(&spqr, &[1, 9, 14], &v3)).err(),
            Some(PickleError::InvalidField("SPQR state in an X3DH session"))
        );
        // receiving chains: 5 read, 6 refused
        let answered = current(&v, 4, "alice");
        let with = |n: u32| {
            let mut add = Vec::new();
            for i in 0..n {
                put_bytes_field(&mut add, 7, &chain(10 + i, [1]));
            }
            session(&edit(&answered, &[7], &add))
        };
        assert_eq!(with(5).unwrap().ratchet.receivers.len(), 5);
        assert_eq!(
            with(6).err(),
            Some(PickleError::TooMany { field: "receiving chains", got: 6, max: MAX_RECEIVER_CHAINS as u64 })
        );
    }

    /// Each protobuf decoding error keeps its meaning (and the field's name) as a pickle error.
    #[test]
    fn decoding_errors_keep_their_kind_and_field() {
        assert_eq!(pe(DecodeError::Truncated("a")), PickleError::Truncated("a"));
        assert_eq!(pe(DecodeError::MissingField("b")), PickleError::MissingField("b"));
        for e in [DecodeError::DuplicateField("c"), DecodeError::MalformedField("c"), DecodeError::OversizeVarint("c")]
        {
            assert_eq!(pe(e), PickleError::InvalidField("c"));
        }
        assert_eq!(
            pe(DecodeError::Key(crate::KeyError::NonContributory)),
            PickleError::Key(crate::KeyError::NonContributory)
        );
        assert_eq!(pe(DecodeError::TrailingBytes), PickleError::InvalidField("libsignal record"));
        // and through a record: a cut chain key is truncated, a missing root key missing
        assert_eq!(receiver(&chain(3, [1])[..40]).err(), Some(PickleError::Truncated("field body")));
        let alice = current(&vector("x3dh"), 0, "alice");
        assert_eq!(session(&edit(&alice, &[4], &[])).err(), Some(PickleError::MissingField("root key")));
    }
}
