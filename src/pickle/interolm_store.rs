//! caudata's own pickle bodies for what the interolm stores keep (SPEC.md §9): the session
//! record (object type 7), the identity key pair (8), and the one-time, signed and Kyber
//! prekey records (9, 10, 11). Persistent stores keep these pickles, encrypted, as their values.

use super::codec::{Reader, Writer};
use super::envelope::{self, ObjectType};
use super::interolm::{decode_interolm_session, encode_interolm_session};
use super::own::{
    CURVE25519_PAIR_LEN, PickleBody, from_encrypted_bytes, from_encrypted_str, from_plain, pickle_type,
    read_curve25519_pair, to_encrypted, write_curve25519_pair,
};
use crate::error::PickleError;
use crate::interolm::{
    IdentityKeyPair, KyberPreKeyRecord, MAX_ARCHIVED_SESSIONS, PreKeyRecord, SessionRecord, SignedPreKeyRecord,
};
#[cfg(feature = "hazmat")]
use crate::primitives::RandomSource;
use crate::primitives::{Kyber1024SecretKey, OsRandom, XEdDsaSignature, base64_encode};
use zeroize::Zeroizing;

// ---------------------------------------------------------------- session record (type 7)

/// The smallest encoded session (fixed fields, an empty ratchet, a V0 SPQR state).
const MIN_SESSION_LEN: usize = 128;

/// Everything around the body: header, nonce, tag.
const ENVELOPE_LEN: usize = envelope::HEADER_LEN + envelope::NONCE_LEN + envelope::TAG_LEN;

/// `bool current present ‖ [current session] ‖ u32 n (≤ 40) ‖ n × archived session` (newest
/// first), each session as in an interolm session pickle (object type 5). Archived sessions are
/// written newest first while the whole encrypted pickle stays within the 1 MiB every reader
/// accepts; older ones that do not fit are left out (see [`SessionRecord::pickle`]).
fn encode_record(r: &SessionRecord, w: &mut Writer) {
    let mut used = ENVELOPE_LEN + 1 + 4;
    match &r.current {
        Some(s) => {
            let mut one = Writer::with_capacity(8192);
            encode_interolm_session(s, &mut one);
            let one = one.finish();
            used += one.len();
            w.bool(true);
            w.secret(&one);
        }
        None => w.bool(false),
    }
    let mut archived: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(r.archived.len());
    for s in &r.archived {
        let mut one = Writer::with_capacity(8192);
        encode_interolm_session(s, &mut one);
        let one = one.finish();
        if used + one.len() > envelope::MAX_PICKLE_LENGTH {
            break;
        }
        used += one.len();
        archived.push(one);
    }
    w.count(archived.len());
    for one in &archived {
        w.secret(one);
    }
}

fn decode_record(r: &mut Reader<'_>) -> Result<SessionRecord, PickleError> {
    let current = if r.bool("current session present")? { Some(decode_interolm_session(r)?) } else { None };
    let n = r.count(MAX_ARCHIVED_SESSIONS, MIN_SESSION_LEN, "archived sessions")?;
    let mut archived = std::collections::VecDeque::with_capacity(n);
    for _ in 0..n {
        archived.push_back(decode_interolm_session(r)?);
    }
    Ok(SessionRecord { current, archived })
}

fn record_size_hint(r: &SessionRecord) -> usize {
    (usize::from(r.current.is_some()) + r.archived.len()) * 8192 + 8
}

pickle_type!(
    /// A pickled interolm [`SessionRecord`](crate::interolm::SessionRecord): the current
    /// session and the archived ones, newest first, each as in an
    /// [`InterolmSessionPickle`](crate::pickle::InterolmSessionPickle).
    InterolmSessionRecordPickle,
    SessionRecord,
    ObjectType::InterolmSessionRecord,
    record_size_hint,
    encode_record,
    decode_record
);

impl SessionRecord {
    /// A snapshot of the record for storage. The pickle holds the current session and the
    /// archived sessions, newest first, that fit in a pickle any reader accepts (1 MiB,
    /// [`MAX_MESSAGE_LENGTH`](crate::consts::MAX_MESSAGE_LENGTH)); older ones beyond that are
    /// left out. Sessions are a few kilobytes, so in practice all 40 fit; only sessions swollen
    /// with skipped message keys (up to 2 000 per receiving chain) can crowd out the oldest.
    /// libsignal keeps records of any size.
    pub fn pickle(&self) -> InterolmSessionRecordPickle {
        InterolmSessionRecordPickle(self.clone())
    }

    /// The record a pickle was made from.
    pub fn from_pickle(pickle: InterolmSessionRecordPickle) -> Self {
        pickle.0
    }
}

// ---------------------------------------------------------------- identity key pair (type 8)

/// `key pair` (`secret(32) ‖ public(32)`).
fn encode_identity(k: &IdentityKeyPair, w: &mut Writer) {
    write_curve25519_pair(w, k.secret_key());
}

fn decode_identity(r: &mut Reader<'_>) -> Result<IdentityKeyPair, PickleError> {
    Ok(IdentityKeyPair::from_secret_key(read_curve25519_pair(r, "identity key")?))
}

pickle_type!(
    /// A pickled interolm [`IdentityKeyPair`](crate::interolm::IdentityKeyPair).
    InterolmIdentityKeyPairPickle,
    IdentityKeyPair,
    ObjectType::InterolmIdentityKeyPair,
    |_: &IdentityKeyPair| CURVE25519_PAIR_LEN,
    encode_identity,
    decode_identity
);

impl IdentityKeyPair {
    /// A snapshot for storage.
    pub fn pickle(&self) -> InterolmIdentityKeyPairPickle {
        InterolmIdentityKeyPairPickle(self.clone())
    }

    /// The key pair a pickle was made from.
    pub fn from_pickle(pickle: InterolmIdentityKeyPairPickle) -> Self {
        pickle.0
    }
}

// ---------------------------------------------------------------- one-time prekey (type 9)

/// `u32 id ‖ key pair`.
fn encode_pre_key(k: &PreKeyRecord, w: &mut Writer) {
    w.u32(k.id);
    write_curve25519_pair(w, &k.key);
}

fn decode_pre_key(r: &mut Reader<'_>) -> Result<PreKeyRecord, PickleError> {
    let id = r.u32("prekey id")?;
    Ok(PreKeyRecord::new(id, read_curve25519_pair(r, "prekey")?))
}

pickle_type!(
    /// A pickled interolm [`PreKeyRecord`](crate::interolm::PreKeyRecord).
    InterolmPreKeyPickle,
    PreKeyRecord,
    ObjectType::InterolmPreKey,
    |_: &PreKeyRecord| 4 + CURVE25519_PAIR_LEN,
    encode_pre_key,
    decode_pre_key
);

// ---------------------------------------------------------------- signed prekey (type 10)

/// `u32 id ‖ u64 timestamp (ms) ‖ key pair ‖ signature(64)`.
fn encode_signed(k: &SignedPreKeyRecord, w: &mut Writer) {
    w.u32(k.id);
    w.u64(k.timestamp);
    write_curve25519_pair(w, &k.key);
    w.bytes(k.signature.as_bytes());
}

fn decode_signed(r: &mut Reader<'_>) -> Result<SignedPreKeyRecord, PickleError> {
    let id = r.u32("signed prekey id")?;
    let timestamp = r.u64("signed prekey timestamp")?;
    let key = read_curve25519_pair(r, "signed prekey")?;
    let signature = XEdDsaSignature::from_bytes(r.bytes::<64>("signed prekey signature")?);
    Ok(SignedPreKeyRecord::new(id, timestamp, key, signature))
}

pickle_type!(
    /// A pickled interolm [`SignedPreKeyRecord`](crate::interolm::SignedPreKeyRecord).
    InterolmSignedPreKeyPickle,
    SignedPreKeyRecord,
    ObjectType::InterolmSignedPreKey,
    |_: &SignedPreKeyRecord| 4 + 8 + CURVE25519_PAIR_LEN + 64,
    encode_signed,
    decode_signed
);

// ---------------------------------------------------------------- Kyber prekey (type 11)

/// `u32 id ‖ u64 timestamp (ms) ‖ bool last resort ‖ Kyber secret key (3169, 0x08 ‖ sk) ‖
/// signature(64)`.
fn encode_kyber(k: &KyberPreKeyRecord, w: &mut Writer) {
    w.u32(k.id);
    w.u64(k.timestamp);
    w.bool(k.last_resort);
    w.secret(&k.key.to_bytes());
    w.bytes(k.signature.as_bytes());
}

fn decode_kyber(r: &mut Reader<'_>) -> Result<KyberPreKeyRecord, PickleError> {
    let id = r.u32("Kyber prekey id")?;
    let timestamp = r.u64("Kyber prekey timestamp")?;
    let last_resort = r.bool("Kyber prekey last resort")?;
    let secret = r.take_secret(Kyber1024SecretKey::LENGTH, "Kyber prekey")?;
    let signature = XEdDsaSignature::from_bytes(r.bytes::<64>("Kyber prekey signature")?);
    let key = Kyber1024SecretKey::from_bytes(&secret)?;
    Ok(KyberPreKeyRecord::new(id, timestamp, key, signature, last_resort))
}

pickle_type!(
    /// A pickled interolm [`KyberPreKeyRecord`](crate::interolm::KyberPreKeyRecord).
    InterolmKyberPreKeyPickle,
    KyberPreKeyRecord,
    ObjectType::InterolmKyberPreKey,
    |_: &KyberPreKeyRecord| 4 + 8 + 1 + Kyber1024SecretKey::LENGTH + 64,
    encode_kyber,
    decode_kyber
);

/// `pickle()` and `from_pickle()` for the prekey records (infallible snapshots).
macro_rules! record_pickle_methods {
    ($object:ty, $name:ident) => {
        impl $object {
            /// A snapshot for storage.
            pub fn pickle(&self) -> $name {
                $name(self.clone())
            }

            /// The record a pickle was made from.
            pub fn from_pickle(pickle: $name) -> Self {
                pickle.0
            }
        }
    };
}

record_pickle_methods!(PreKeyRecord, InterolmPreKeyPickle);
record_pickle_methods!(SignedPreKeyRecord, InterolmSignedPreKeyPickle);
record_pickle_methods!(KyberPreKeyRecord, InterolmKyberPreKeyPickle);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interolm::{Account, InterolmMessage};

    #[test]
    fn records_round_trip() {
        let id = IdentityKeyPair::generate();
        let key = [3u8; 32];
        let back = IdentityKeyPair::from_pickle(
            InterolmIdentityKeyPairPickle::from_encrypted(&id.pickle().encrypt(&key), &key).unwrap(),
        );
        assert_eq!(back.public_key(), id.public_key());
        let spk = SignedPreKeyRecord::generate(7, 1_700_000_000_123, &id);
        let back = SignedPreKeyRecord::from_pickle(
            InterolmSignedPreKeyPickle::from_unencrypted_bytes(&spk.pickle().to_unencrypted_bytes()).unwrap(),
        );
        assert_eq!(
            (back.id(), back.timestamp(), back.public_key(), back.signature()),
            (7, 1_700_000_000_123, spk.public_key(), spk.signature())
        );
        let k = KyberPreKeyRecord::generate(9, 5, &id, true);
        let back = KyberPreKeyRecord::from_pickle(
            InterolmKyberPreKeyPickle::from_encrypted(&k.pickle().encrypt(&key), &key).unwrap(),
        );
        assert_eq!((back.id(), back.timestamp(), back.is_last_resort()), (9, 5, true));
        assert_eq!(back.public_key(), k.public_key());
        let p = PreKeyRecord::generate(11);
        let back =
            PreKeyRecord::from_pickle(InterolmPreKeyPickle::from_encrypted(&p.pickle().encrypt(&key), &key).unwrap());
        assert_eq!((back.id(), back.public_key()), (11, p.public_key()));
        // a pickle of one kind is not read as another
        assert_eq!(
            InterolmPreKeyPickle::from_encrypted(&spk.pickle().encrypt(&key), &key).unwrap_err(),
            PickleError::WrongObjectType { expected: 9, got: 10 }
        );
    }

    #[test]
    fn session_record_round_trips_and_keeps_order() {
        let alice = Account::new();
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(0);
        let mut record = SessionRecord::new();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let s = alice.create_outbound_session(&bundle).unwrap();
            ids.push(s.session_id());
            record.promote(s);
        }
        let key = [5u8; 32];
        let back = SessionRecord::from_pickle(
            InterolmSessionRecordPickle::from_encrypted(&record.pickle().encrypt(&key), &key).unwrap(),
        );
        assert_eq!(back.current().unwrap().session_id(), ids[2]);
        let archived: Vec<_> = back.archived().map(|s| s.session_id()).collect();
        assert_eq!(archived, vec![ids[1].clone(), ids[0].clone()]);
        // the restored current session still talks to Bob
        let mut back = back;
        let InterolmMessage::PreKey(m) = back.current_mut().unwrap().encrypt(b"x").unwrap() else { panic!() };
        assert_eq!(bob.create_inbound_session(&m).unwrap().plaintext, b"x");
        // an empty record
        let empty = SessionRecord::from_pickle(
            InterolmSessionRecordPickle::from_unencrypted_bytes(&SessionRecord::new().pickle().to_unencrypted_bytes())
                .unwrap(),
        );
        assert!(empty.is_empty());
    }

    /// A session of `extra` more bytes: skipped message keys (36 bytes each as written) in up
    /// to 5 receiving chains of up to 2 000 keys (72 bytes more per chain added).
    fn swell(s: &mut crate::interolm::Session, skipped: usize) {
        use crate::primitives::{ContributoryKey, Curve25519SecretKey, SecretBytes};
        use crate::ratchet::{ChainKey, MessageSeed, ReceiverChain};
        let mut left = skipped;
        while left > 0 {
            let r = &mut s.ratchet.receivers;
            if r.iter().all(|c| c.skipped.len() == crate::consts::SIGNAL_MAX_SKIPPED_KEYS) {
                r.push_back(ReceiverChain {
                    ratchet_key: ContributoryKey::new(Curve25519SecretKey::new().public_key()).unwrap(),
                    chain: ChainKey { key: SecretBytes::from_slice(&[1; 32]).unwrap(), index: 9_000 },
                    skipped: std::collections::VecDeque::new(),
                });
            }
            let c = r.iter_mut().find(|c| c.skipped.len() < crate::consts::SIGNAL_MAX_SKIPPED_KEYS).unwrap();
            let index = c.skipped.len() as u32;
            c.skipped.push_back(MessageSeed { seed: SecretBytes::from_slice(&[2; 32]).unwrap(), index });
            left -= 1;
        }
    }

    fn encoded_len(s: &crate::interolm::Session) -> usize {
        let mut w = Writer::with_capacity(0);
        encode_interolm_session(s, &mut w);
        w.finish().len()
    }

    /// Swells `s` with skipped keys until it is `len` bytes as written (each chain added costs
    /// 72 bytes more: 2 keys; at most 5 chains).
    fn fill_to(s: &mut crate::interolm::Session, len: usize) {
        swell(s, (len - encoded_len(s)) / 36 - 10);
        let mut left = len - encoded_len(s);
        loop {
            let full = s.ratchet.receivers.iter().all(|c| c.skipped.len() == crate::consts::SIGNAL_MAX_SKIPPED_KEYS);
            let cost = if full { 36 + 72 } else { 36 };
            if left < cost {
                break;
            }
            swell(s, 1);
            left -= cost;
        }
        assert_eq!(encoded_len(s), len, "filled to the byte");
    }

    /// The archived sessions kept are the newest that fit in a pickle every reader accepts:
    /// a record filled to the byte keeps them all, one skipped key more and the oldest of them
    /// is left out; never a pickle over the limit.
    #[test]
    fn session_records_keep_the_newest_archived_sessions_that_fit() {
        let alice = Account::new();
        let (_, bundle) = crate::test_fixtures::interolm_responder(1);
        // A fresh session is 2 026 bytes as written, one that has sent a message 4 526 (its
        // SPQR state grows): 10 and 26 more than a multiple of 36 (a skipped key; a receiving
        // chain is 72). Two of each, with the envelope (35), the flag (1) and the count (4),
        // can fill the 1 MiB to the byte: 2^20 - 40 is a multiple of 36.
        let fresh = || alice.create_outbound_session(&bundle).unwrap();
        let sent = || {
            let mut s = fresh();
            let _ = s.encrypt(b"x").unwrap();
            s
        };
        let (current, mut a0, mut a1, mut a2, a3) = (fresh(), sent(), fresh(), sent(), fresh());
        assert_eq!((encoded_len(&current), encoded_len(&a2)), (2_026, 4_526));
        swell(&mut a0, 9_800);
        swell(&mut a1, 9_800);
        let space = envelope::MAX_PICKLE_LENGTH - 40 - encoded_len(&current) - encoded_len(&a0) - encoded_len(&a1);
        // (each chain added costs 72 bytes more, 2 keys: at most 5 chains)
        fill_to(&mut a2, space);
        let ids = [a0.session_id(), a1.session_id(), a2.session_id()];
        let key = [5u8; 32];
        let read = |record: &SessionRecord| {
            let bytes = record.pickle().encrypt_to_bytes(&key);
            assert!(bytes.len() <= envelope::MAX_PICKLE_LENGTH, "{}", bytes.len());
            let back =
                SessionRecord::from_pickle(InterolmSessionRecordPickle::from_encrypted_bytes(&bytes, &key).unwrap());
            assert!(back.current().is_some());
            (bytes.len(), back.archived().map(|s| s.session_id()).collect::<Vec<_>>())
        };
        let mut record = SessionRecord { current: Some(current), archived: [a0, a1, a2, a3].into() };
        assert_eq!(read(&record), (envelope::MAX_PICKLE_LENGTH, ids.to_vec()));
        // one skipped key more in the third: it no longer fits, nor does the fourth after it
        swell(&mut record.archived[2], 1);
        assert_eq!(read(&record).1, ids[..2].to_vec());
        // the current session counts too: without that key the third fits again, not with a
        // skipped key more in the current session
        let last = record.archived[2].ratchet.receivers.iter_mut().rev().find(|c| !c.skipped.is_empty()).unwrap();
        last.skipped.pop_back();
        swell(record.current.as_mut().unwrap(), 1);
        assert_eq!(read(&record).1, ids[..2].to_vec());
    }

    /// The writer's capacity guess (8 KiB a session) covers a record of fresh sessions.
    #[test]
    fn the_record_size_hint_covers_fresh_sessions() {
        let alice = Account::new();
        let (_, bundle) = crate::test_fixtures::interolm_responder(0);
        let mut record = SessionRecord::new();
        for n in 1..=3 {
            record.promote(alice.create_outbound_session(&bundle).unwrap());
            let body = InterolmSessionRecordPickle(record.clone()).body().len();
            assert!(body <= record_size_hint(&record), "{n}: {body}");
        }
    }

    /// A record one byte over the limit: the writer counts the envelope (35 bytes) and its own
    /// flag and count (5) exactly, so the archived session that makes it one byte too long is
    /// left out (and the pickle stays within the limit). Fresh sessions are an even number of
    /// bytes; some that have received a message are odd, so the pool has both.
    #[test]
    fn a_session_record_one_byte_over_the_limit_leaves_out_the_session_that_overflows() {
        let alice = Account::new();
        let (mut bob, bundle) = crate::test_fixtures::interolm_responder(0);
        // sessions of many sizes: both ends of a short conversation, step by step
        let mut a = alice.create_outbound_session(&bundle).unwrap();
        let InterolmMessage::PreKey(m) = a.encrypt(b"x").unwrap() else { panic!() };
        let mut b = bob.create_inbound_session(&m).unwrap().session;
        let c = crate::pickle::clone_interolm_session;
        let mut pool = vec![c(&a), c(&b)];
        for _ in 0..2 {
            a.decrypt(&b.encrypt(b"y").unwrap()).unwrap();
            pool.extend([c(&a), c(&b)]);
            b.decrypt(&a.encrypt(b"z").unwrap()).unwrap();
            pool.extend([c(&a), c(&b)]);
        }
        let mut a0 = alice.create_outbound_session(&bundle).unwrap();
        let mut a1 = alice.create_outbound_session(&bundle).unwrap();
        let _ = a1.encrypt(b"x").unwrap();
        swell(&mut a0, 9_000);
        swell(&mut a1, 9_000);
        let target = envelope::MAX_PICKLE_LENGTH + 1 - 40 - encoded_len(&a0) - encoded_len(&a1);
        // a current session and a third archived one (filled by whole skipped keys) that make
        // the record exactly one byte too long
        let (i, j) = (0..pool.len())
            .flat_map(|i| (0..pool.len()).map(move |j| (i, j)))
            .find(|&(i, j)| (target - encoded_len(&pool[i]) - encoded_len(&pool[j])).is_multiple_of(36))
            .unwrap();
        let current = c(&pool[i]);
        let mut a2 = c(&pool[j]);
        fill_to(&mut a2, target - encoded_len(&current));
        let ids = [a0.session_id(), a1.session_id()];
        let record = SessionRecord { current: Some(current), archived: [a0, a1, a2, c(&b)].into() };
        let all: usize = record.current.iter().chain(&record.archived).take(4).map(encoded_len).sum();
        assert_eq!(40 + all, envelope::MAX_PICKLE_LENGTH + 1);
        let key = [6u8; 32];
        let bytes = record.pickle().encrypt_to_bytes(&key);
        let back = SessionRecord::from_pickle(InterolmSessionRecordPickle::from_encrypted_bytes(&bytes, &key).unwrap());
        assert_eq!(back.archived().map(|s| s.session_id()).collect::<Vec<_>>(), ids.to_vec());
        assert_eq!(bytes.len(), envelope::MAX_PICKLE_LENGTH + 1 - encoded_len(&record.archived[2]));
    }
}
