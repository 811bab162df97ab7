//! Shared set-up for the benches: both libraries' objects built from the same inputs, and
//! cheap copies of a state (through each library's in-memory pickle) for `iter_batched`.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod groups;

/// An established Olm session pair of one library (the receiver has answered once, so both
/// sides are past the pre-key stage), as `(sender, receiver)`.
/// (Generic over the library's crate name; benches that include this module without using it
/// leave it unused.)
#[allow(unused_macros)]
macro_rules! olm_pair_of {
    ($lib:ident) => {{
        let alice = $lib::olm::Account::new();
        let mut bob = $lib::olm::Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        let mut s = alice.create_outbound_session(Default::default(), bob.curve25519_key(), otk).unwrap();
        let $lib::olm::OlmMessage::PreKey(m) = s.encrypt("hello").unwrap() else { panic!() };
        let mut r = bob.create_inbound_session(Default::default(), alice.curve25519_key(), &m).unwrap().session;
        s.decrypt(&r.encrypt("reply").unwrap()).unwrap();
        (s, r)
    }};
}

use criterion::Criterion;
use std::time::Duration;

/// Sizes of plaintext measured: a chat message and a large one.
pub const SIZES: [(&str, usize); 2] = [("100B", 100), ("10KiB", 10 * 1024)];

/// Short runs: the table wants medians, and other work shares the machine.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args()
}

pub fn plaintext(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

pub fn cd_curve(k: vodozemac::Curve25519PublicKey) -> caudata::Curve25519PublicKey {
    caudata::Curve25519PublicKey::from_bytes(k.to_bytes())
}

pub fn vz_curve(k: caudata::Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(k.to_bytes())
}

pub mod cd {
    //! caudata set-up.
    use caudata::olm::{Account, OlmMessage, Session, SessionConfig};

    pub fn clone_session(s: &Session) -> Session {
        Session::from_pickle(s.pickle())
    }
    pub fn clone_account(a: &Account) -> Account {
        Account::from_pickle(a.pickle())
    }

    /// Alice (initiator) and Bob after three messages (A→B, B→A, A→B): Alice's sending chain
    /// is known to Bob, so her next message is steady on both sides.
    pub fn pair() -> (Session, Session) {
        let alice = Account::new();
        let mut bob = Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        bob.mark_keys_as_published();
        let mut a = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(m) = a.encrypt(b"hello") else { panic!() };
        let mut b = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &m).unwrap().session;
        let r = b.encrypt(b"hi");
        a.decrypt(&r).unwrap();
        // Alice's next chain, received by Bob: from here both send and receive on known chains.
        b.decrypt(&a.encrypt(b"steady")).unwrap();
        (a, b)
    }
}

pub mod vz {
    //! vodozemac set-up, the same steps.
    use vodozemac::olm::{Account, OlmMessage, Session, SessionConfig};

    pub fn clone_session(s: &Session) -> Session {
        Session::from_pickle(s.pickle())
    }
    pub fn clone_account(a: &Account) -> Account {
        Account::from_pickle(a.pickle())
    }

    pub fn pair() -> (Session, Session) {
        let alice = Account::new();
        let mut bob = Account::new();
        bob.generate_one_time_keys(1);
        let otk = *bob.one_time_keys().values().next().unwrap();
        bob.mark_keys_as_published();
        let mut a = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(m) = a.encrypt(b"hello").unwrap() else { panic!() };
        let mut b = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &m).unwrap().session;
        let r = b.encrypt(b"hi").unwrap();
        a.decrypt(&r).unwrap();
        b.decrypt(&a.encrypt(b"steady").unwrap()).unwrap();
        (a, b)
    }
}
