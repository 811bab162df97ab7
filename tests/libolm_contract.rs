//! The core's entry points for libolm's C interface (caudata-libolm): libolm's one-time-key
//! contract, its unencrypted object states and pickle cipher, its base64 decoder, its
//! bookkeeping of skipped message keys, session creation without decryption, and the length
//! and description queries. The numbers checked here are libolm 3.2.16's (its account.cpp,
//! session.cpp, ratchet.cpp; the live comparisons are libolm/tests/python and the
//! differential fuzzer).
#![allow(clippy::unwrap_used, clippy::panic)]

use caudata::Curve25519PublicKey;
use caudata::hazmat::{
    libolm_base64_decode, libolm_base64_decoded_length, libolm_base64_encoded_length, open_libolm_pickle,
    seal_libolm_pickle,
};
use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig};
use caudata::olm::{Account, OlmMessage, OneTimeKeyContract, Session, SessionConfig};
use caudata::primitives::RandomSource;
use caudata::{PickleError, SessionCreationError};

/// A deterministic random source (a counter), so tests are reproducible.
struct Counter(u8);
impl RandomSource for Counter {
    fn fill(&mut self, dest: &mut [u8]) {
        for b in dest {
            self.0 = self.0.wrapping_add(1);
            *b = self.0.wrapping_mul(31);
        }
    }
}

fn libolm_account(seed: u8) -> Account {
    let mut a = Account::new_with_rng(&mut Counter(seed));
    a.set_one_time_key_contract(OneTimeKeyContract::Libolm);
    a
}

#[test]
fn libolm_contract_numbers_keys_from_one_with_one_counter() {
    let mut a = libolm_account(1);
    assert_eq!(a.max_number_of_one_time_keys(), 100);
    a.generate_one_time_keys_with_rng(3, &mut Counter(9));
    let mut ids: Vec<u64> = a.one_time_keys().keys().map(|k| k.0).collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3]);
    // fallback keys take the next number of the same counter (libolm's ++next_one_time_key_id)
    a.generate_fallback_key_with_rng(&mut Counter(20));
    assert_eq!(a.current_fallback_key().map(|(id, _)| id.0), Some(4));
    a.generate_one_time_keys_with_rng(1, &mut Counter(30));
    assert!(a.one_time_keys().keys().any(|k| k.0 == 5));
    // the vodozemac contract counts fallback keys apart, from 0
    let mut v = Account::new_with_rng(&mut Counter(1));
    v.generate_one_time_keys_with_rng(3, &mut Counter(9));
    v.generate_fallback_key_with_rng(&mut Counter(20));
    assert_eq!(v.current_fallback_key().map(|(id, _)| id.0), Some(0));
    assert_eq!(v.max_number_of_one_time_keys(), 50);
}

#[test]
fn libolm_contract_keeps_the_newest_hundred() {
    let mut a = libolm_account(2);
    let r = a.generate_one_time_keys_with_rng(130, &mut Counter(3));
    assert_eq!(r.removed.len(), 30);
    assert_eq!(a.stored_one_time_key_count(), 100);
    let mut ids: Vec<u64> = a.one_time_keys().keys().map(|k| k.0).collect();
    ids.sort();
    assert_eq!((ids[0], ids[99]), (31, 130));
    // switching a vodozemac account with more keys evicts the oldest, and counts on from 1
    let mut v = Account::new_with_rng(&mut Counter(4));
    v.generate_one_time_keys_with_rng(120, &mut Counter(5));
    let removed = v.set_one_time_key_contract(OneTimeKeyContract::Libolm);
    assert_eq!(removed.len(), 20);
    assert_eq!(v.stored_one_time_key_count(), 100);
}

#[test]
fn libolm_counter_wraps_at_32_bits_as_libolms() {
    // an account whose libolm counter is at 2^32 - 1: the next key is id 0, then 1
    let a = libolm_account(3);
    let mut raw = a.to_libolm_raw_pickle().unwrap().to_vec();
    let n = raw.len();
    raw[n - 4..].copy_from_slice(&u32::MAX.to_be_bytes());
    let mut a = Account::from_libolm_raw_pickle(&raw).unwrap();
    a.generate_one_time_keys_with_rng(2, &mut Counter(6));
    let mut ids: Vec<u64> = a.one_time_keys().keys().map(|k| k.0).collect();
    ids.sort();
    assert_eq!(ids, [0, 1]);
    let raw = a.to_libolm_raw_pickle().unwrap();
    assert_eq!(&raw[raw.len() - 4..], &1u32.to_be_bytes());
}

#[test]
fn raw_states_round_trip_and_the_trusted_account_load_agrees() {
    let mut a = libolm_account(4);
    a.generate_one_time_keys_with_rng(5, &mut Counter(7));
    a.generate_fallback_key_with_rng(&mut Counter(8));
    let raw = a.to_libolm_raw_pickle().unwrap();
    let b = Account::from_libolm_raw_pickle(&raw).unwrap();
    let c = Account::from_libolm_raw_pickle_trusted(&raw).unwrap();
    assert_eq!(*b.to_libolm_raw_pickle().unwrap(), *raw);
    assert_eq!(*c.to_libolm_raw_pickle().unwrap(), *raw);
    assert_eq!(b.one_time_key_contract(), OneTimeKeyContract::Libolm);
    // the checked load refuses a stored one-time public key that is not its secret's
    let mut bad = raw.to_vec();
    let first_key_public = 4 + 96 + 64 + 4 + 4 + 1;
    bad[first_key_public] ^= 1;
    assert!(matches!(Account::from_libolm_raw_pickle(&bad), Err(PickleError::KeyMismatch(_))));
    // the pickle cipher: libolm's pickle is base64 of these bytes
    let sealed = seal_libolm_pickle(&raw, b"key");
    assert_eq!(*open_libolm_pickle(&sealed, b"key").unwrap(), *raw);
    assert_eq!(a.to_libolm_pickle(b"key").unwrap(), caudata::primitives::base64_encode(&sealed));
    assert_eq!(open_libolm_pickle(&sealed, b"other").unwrap_err(), PickleError::Authentication);
    assert!(open_libolm_pickle(&sealed[..7], b"key").is_err());
}

#[test]
fn libolm_base64_lengths_and_decoding() {
    assert_eq!([0, 1, 2, 3, 32, 64].map(libolm_base64_encoded_length), [0, 2, 3, 4, 43, 86]);
    assert_eq!(libolm_base64_decoded_length(43), Some(32));
    assert_eq!(libolm_base64_decoded_length(44), Some(33));
    assert_eq!(libolm_base64_decoded_length(45), None);
    assert_eq!(libolm_base64_decode(b"YWJj").unwrap(), b"abc");
    // unused low bits of the last character are ignored, as libolm does
    assert_eq!(libolm_base64_decode(b"YWJ").unwrap(), libolm_base64_decode(b"YWI").unwrap());
    // characters outside the alphabet decode to libolm's pattern instead of failing
    assert_eq!(libolm_base64_decode(b"!!!!").unwrap(), [0xFF, 0xFF, 0xFF]);
    assert_eq!(libolm_base64_decode(b"A!AA").unwrap(), [0x0F, 0xF0, 0x00]);
    assert!(libolm_base64_decode(b"AAAAA").is_none());
}

/// Alice (libolm contract) and Bob with one one-time key, and Alice's first message.
fn pair() -> (Account, Account, Session, OlmMessage) {
    let alice = libolm_account(10);
    let mut bob = libolm_account(11);
    bob.generate_one_time_keys_with_rng(1, &mut Counter(12));
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut s = alice
        .create_outbound_session_with_rng(SessionConfig::version_1(), bob.curve25519_key(), otk, &mut Counter(13))
        .unwrap();
    let m = s.encrypt_with_rng(b"first", &mut Counter(14));
    (alice, bob, s, m)
}

#[test]
fn inbound_session_as_libolm_makes_it_then_decrypts() {
    let (alice, mut bob, mut a, m) = pair();
    let OlmMessage::PreKey(pre) = &m else { panic!("a pre-key message") };
    // the wrong sender identity is refused, as libolm's olm_create_inbound_session_from does
    assert!(matches!(
        bob.create_inbound_session_libolm(Some(bob.curve25519_key()), pre),
        Err(SessionCreationError::MismatchedIdentityKey(..))
    ));
    let mut b = bob.create_inbound_session_libolm(Some(alice.curve25519_key()), pre).unwrap();
    assert!(!b.has_received_message(), "libolm: not received until the message is decrypted");
    assert_eq!(bob.stored_one_time_key_count(), 1, "the key stays until the caller removes it");
    assert_eq!(b.decrypt(&m).unwrap(), b"first");
    assert!(b.has_received_message());
    assert_eq!(bob.remove_one_time_key_libolm(pre.one_time_key()).map(|k| k.0), Some(1));
    assert_eq!(bob.remove_one_time_key_libolm(pre.one_time_key()), None);
    assert_eq!(a.decrypt(&b.encrypt_with_rng(b"reply", &mut Counter(15))).unwrap(), b"reply");
}

#[test]
fn fallback_keys_are_found_but_not_removed() {
    let alice = libolm_account(20);
    let mut bob = libolm_account(21);
    bob.generate_fallback_key_with_rng(&mut Counter(22));
    let (id, fb) = bob.current_fallback_key().unwrap();
    let mut s = alice
        .create_outbound_session_with_rng(SessionConfig::version_1(), bob.curve25519_key(), fb, &mut Counter(23))
        .unwrap();
    let OlmMessage::PreKey(pre) = s.encrypt_with_rng(b"x", &mut Counter(24)) else { panic!() };
    bob.create_inbound_session_libolm(None, &pre).unwrap();
    assert_eq!(bob.remove_one_time_key_libolm(fb), Some(id));
    assert_eq!(bob.current_fallback_key(), Some((id, fb)), "a fallback key is kept");
}

#[test]
fn message_lengths_are_the_lengths_of_the_messages() {
    let (_, bob, mut a, m) = pair();
    let OlmMessage::PreKey(pre) = &m else { panic!() };
    let mut b = bob.create_inbound_session_libolm(None, pre).unwrap();
    b.decrypt(&m).unwrap();
    for n in [0, 1, 15, 16, 17, 100, 1000] {
        for s in [&mut a, &mut b] {
            let expected = s.encrypt_message_length(n);
            let needs_random = s.encrypt_random_length();
            let msg = s.encrypt_with_rng(&vec![7u8; n], &mut Counter(1));
            assert_eq!(msg.to_parts().1.len(), expected, "{n} bytes");
            assert!(needs_random == 0 || needs_random == 32);
        }
    }
    let mut g = GroupSession::new_with_rng(MegolmConfig::version_1(), &mut Counter(2));
    for n in [0, 15, 16, 300] {
        let expected = g.encrypt_message_length(n);
        assert_eq!(g.encrypt(vec![1u8; n]).to_bytes().len(), expected);
    }
}

/// libolm's own bookkeeping of skipped keys (one list, newest first, which keeps the keys of a
/// chain receiving a late message after a newer chain): the order libolm 3.2.16 reports in
/// `olm_session_describe` for this exchange was observed with python-olm 3.2.16.
#[test]
fn skipped_keys_follow_libolms_single_list() {
    let (_, bob, mut a, m) = pair();
    let OlmMessage::PreKey(pre) = &m else { panic!() };
    let b0 = bob.create_inbound_session_libolm(None, pre).unwrap();
    // the C interface's sessions hold libolm's state
    let mut b = Session::from_libolm_raw_pickle(&b0.to_libolm_raw_pickle().unwrap()).unwrap();
    b.decrypt(&m).unwrap();
    a.decrypt(&b.encrypt_with_rng(b"r1", &mut Counter(30))).unwrap();
    let x: Vec<OlmMessage> = (0..5).map(|i| a.encrypt_with_rng(&[i], &mut Counter(31))).collect();
    b.decrypt(&x[2]).unwrap();
    a.decrypt(&b.encrypt_with_rng(b"r2", &mut Counter(32))).unwrap();
    let y: Vec<OlmMessage> = (0..3).map(|i| a.encrypt_with_rng(&[i], &mut Counter(33))).collect();
    b.decrypt(&y[2]).unwrap();
    assert_eq!(b.describe(), "sender chain index: 0 receiver chain indices: 3 3 1 skipped message keys: 1 0 1 0");
    b.decrypt(&x[4]).unwrap();
    // libolm: the late chain's new skipped key goes to the front
    assert_eq!(b.describe(), "sender chain index: 0 receiver chain indices: 3 5 1 skipped message keys: 3 1 0 1 0");
    // the raw state keeps that order, and caudata's own format keeps every usable key
    let again = Session::from_libolm_raw_pickle(&b.to_libolm_raw_pickle().unwrap()).unwrap();
    assert_eq!(again.describe(), b.describe());
    let own = Session::from_pickle(b.pickle());
    assert_eq!(own.chain_indices().skipped.len(), 5);
    for msg in [&x[0], &x[1], &x[3], &y[0], &y[1]] {
        assert!(b.clone_for_test().decrypt(msg).is_ok());
    }
}

trait CloneForTest {
    fn clone_for_test(&self) -> Session;
}
impl CloneForTest for Session {
    fn clone_for_test(&self) -> Session {
        Session::from_libolm_raw_pickle(&self.to_libolm_raw_pickle().unwrap()).unwrap()
    }
}

#[test]
fn inbound_group_sessions_keep_libolms_bookkeeping() {
    let mut out = GroupSession::new_with_rng(MegolmConfig::version_1(), &mut Counter(40));
    let key = out.session_key();
    let msgs: Vec<_> = (0..4).map(|i| out.encrypt([i])).collect();
    let exported = InboundGroupSession::new(&key, MegolmConfig::version_1()).export_at(0).unwrap();
    let mut s = InboundGroupSession::import(&exported, MegolmConfig::version_1());
    assert!(!s.signing_key_verified());
    // libolm's export moves the cached ratchet forward: the state changes, what decrypts not
    let before = s.to_libolm_raw_pickle().unwrap();
    s.export_at_libolm(3).unwrap();
    assert_ne!(*s.to_libolm_raw_pickle().unwrap(), *before);
    assert_eq!(s.decrypt_libolm(&msgs[1]).unwrap().plaintext, [1]);
    assert!(s.signing_key_verified(), "libolm: a message that decrypts verifies the session");
    // vodozemac's decrypt leaves the flag alone
    let mut v = InboundGroupSession::import(&exported, MegolmConfig::version_1());
    v.decrypt(&msgs[0]).unwrap();
    assert!(!v.signing_key_verified());
}

#[test]
fn a_session_with_an_all_zero_key_is_refused_where_libolm_goes_on() {
    let alice = libolm_account(50);
    let zero = Curve25519PublicKey::from_bytes([0; 32]);
    assert!(alice.create_outbound_session(SessionConfig::version_1(), zero, zero).is_err());
}
