//! The one session API (layer 6): Olm and Signal-dialect sessions in one store, encrypted,
//! decrypted and routed the same way; a message of the wrong dialect is a clean error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::HashMap;

use caudata::interolm::{self, InterolmMessage};
use caudata::olm::SessionConfig;
use caudata::{DecryptionError, Dialect, Message, Session};

mod common;

/// Two pairs of sessions: an Olm pair and a PQXDH pair, wrapped in the unified type.
fn pairs() -> ((Session, Session), (Session, Session)) {
    // Olm
    let common::OlmOutbound { alice, mut bob, a, first: pk, .. } =
        common::olm_outbound(SessionConfig::version_1(), b"olm hello");
    let b = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk).unwrap();
    assert_eq!(b.plaintext, b"olm hello");

    // Signal dialect, with the same identity key as the Olm account (one identity, two dialects)
    let carol = interolm::Account::from_olm_account(&alice);
    assert_eq!(carol.identity_key(), alice.curve25519_key());
    let mut dave = interolm::Account::new();
    dave.generate_signed_pre_key();
    dave.generate_one_time_pre_keys(1);
    dave.generate_kyber_pre_key(false);
    let bundle = dave.pre_key_bundle(1).unwrap();
    let mut c = carol.create_outbound_session(&bundle).unwrap();
    let InterolmMessage::PreKey(pk) = c.encrypt(b"signal hello").unwrap() else { unreachable!() };
    let d = dave.create_inbound_session(&pk).unwrap();
    assert_eq!(d.plaintext, b"signal hello");

    ((Session::from(a), Session::from(b.session)), (Session::from(c), Session::from(d.session)))
}

#[test]
fn one_store_holds_both_dialects() {
    let ((a, b), (c, d)) = pairs();
    let mut ours: HashMap<String, Session> = HashMap::new();
    let mut theirs: HashMap<String, Session> = HashMap::new();
    for (mine, peer) in [(a, b), (c, d)] {
        assert_eq!(mine.session_id(), peer.session_id());
        theirs.insert(peer.session_id(), peer);
        ours.insert(mine.session_id(), mine);
    }
    assert_eq!(ours.values().filter(|s| s.dialect() == Dialect::Olm).count(), 1);
    assert_eq!(ours.values().filter(|s| s.dialect() == Dialect::Interolm).count(), 1);
    for round in 0..10 {
        for (id, s) in ours.iter_mut() {
            let m = s.encrypt(format!("{round} to {id}")).unwrap();
            // what a transport carries: dialect, type number, bytes
            let (dialect, t, body) = m.to_parts();
            let received = Message::from_parts(dialect, t, &body).unwrap();
            let peer = theirs.get_mut(id).unwrap();
            assert_eq!(peer.decrypt(&received).unwrap(), format!("{round} to {id}").as_bytes());
            let reply = peer.encrypt(b"ack").unwrap();
            assert_eq!(s.decrypt(&reply).unwrap(), b"ack");
            assert!(s.has_received_message());
        }
    }
}

#[test]
fn wrong_dialect_is_a_clean_error_and_changes_nothing() {
    let ((mut a, mut b), (mut c, mut d)) = pairs();
    let olm_msg = a.encrypt(b"for b").unwrap();
    let signal_msg = c.encrypt(b"for d").unwrap();
    assert_eq!(d.decrypt(&olm_msg), Err(DecryptionError::WrongDialect { expected: "interolm", got: "olm" }));
    assert_eq!(b.decrypt(&signal_msg), Err(DecryptionError::WrongDialect { expected: "olm", got: "interolm" }));
    // the right sessions still decrypt them
    assert_eq!(b.decrypt(&olm_msg).unwrap(), b"for b");
    assert_eq!(d.decrypt(&signal_msg).unwrap(), b"for d");
    // parts of one dialect do not parse as the other
    let (_, t, body) = olm_msg.to_parts();
    assert!(Message::from_parts(Dialect::Interolm, t, &body).is_err());
    // unwrapping gives the dialect's own session back
    assert!(a.as_olm().is_some() && a.as_interolm().is_none());
    let c2 = c.into_interolm().unwrap();
    assert!(Session::from(c2).into_olm().is_err());
}
