//! Live differential tests: caudata's Olm against the vodozemac crate (0.11.1), both directions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::olm::{Account, OlmMessage, Session, SessionConfig};
use vodozemac::olm as vz;

fn vz_config(c: SessionConfig) -> vz::SessionConfig {
    if c.version() == 2 { vz::SessionConfig::version_2() } else { vz::SessionConfig::version_1() }
}

fn to_vz(m: &OlmMessage) -> vz::OlmMessage {
    let (t, b) = m.to_parts();
    vz::OlmMessage::from_parts(t, &b).expect("vodozemac decodes caudata's message")
}

fn from_vz(m: &vz::OlmMessage) -> OlmMessage {
    let (t, b) = m.to_parts();
    OlmMessage::from_parts(t, &b).expect("caudata decodes vodozemac's message")
}

fn vz_curve(k: caudata::Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(k.to_bytes())
}

fn cd_curve(k: vodozemac::Curve25519PublicKey) -> caudata::Curve25519PublicKey {
    caudata::Curve25519PublicKey::from_bytes(k.to_bytes())
}

/// caudata initiates to a vodozemac account.
fn caudata_to_vz(config: SessionConfig, use_fallback: bool) -> (Session, vz::Session) {
    let alice = Account::new();
    let mut bob = vz::Account::new();
    let key = if use_fallback {
        bob.generate_fallback_key();
        *bob.fallback_key().values().next().unwrap()
    } else {
        bob.generate_one_time_keys(1);
        *bob.one_time_keys().values().next().unwrap()
    };
    bob.mark_keys_as_published();
    let mut a = alice.create_outbound_session(config, cd_curve(bob.curve25519_key()), cd_curve(key)).unwrap();
    let first = a.encrypt(b"first from caudata");
    let vz::OlmMessage::PreKey(pk) = to_vz(&first) else { panic!("expected a pre-key message") };
    let res = bob.create_inbound_session(vz_config(config), vz_curve(alice.curve25519_key()), &pk).unwrap();
    assert_eq!(res.plaintext, b"first from caudata");
    assert_eq!(res.session.session_id(), a.session_id());
    (a, res.session)
}

/// vodozemac initiates to a caudata account.
fn vz_to_caudata(config: SessionConfig, use_fallback: bool) -> (Session, vz::Session) {
    let alice = vz::Account::new();
    let mut bob = Account::new();
    let key = if use_fallback {
        bob.generate_fallback_key();
        *bob.fallback_key().values().next().unwrap()
    } else {
        bob.generate_one_time_keys(1);
        *bob.one_time_keys().values().next().unwrap()
    };
    bob.mark_keys_as_published();
    let mut a =
        alice.create_outbound_session(vz_config(config), vz_curve(bob.curve25519_key()), vz_curve(key)).unwrap();
    let first = a.encrypt(b"first from vodozemac").unwrap();
    let OlmMessage::PreKey(pk) = from_vz(&first) else { panic!("expected a pre-key message") };
    let res = bob.create_inbound_session(config, cd_curve(alice.curve25519_key()), &pk).unwrap();
    assert_eq!(res.plaintext, b"first from vodozemac");
    assert_eq!(res.session.session_id(), a.session_id());
    if !use_fallback {
        assert!(bob.one_time_keys().is_empty() && bob.stored_one_time_key_count() == 0, "one-time key consumed");
    }
    (res.session, a)
}

/// Many round trips with bursts delivered out of order, both directions.
fn converse(c: &mut Session, v: &mut vz::Session, rounds: usize) {
    for round in 0..rounds {
        // a burst from caudata, delivered in reverse order
        let burst = 1 + round % 5;
        let msgs: Vec<_> = (0..burst).map(|i| (format!("c{round}.{i}"), c.encrypt(format!("c{round}.{i}")))).collect();
        for (pt, m) in msgs.iter().rev() {
            assert_eq!(v.decrypt(&to_vz(m)).unwrap(), pt.as_bytes());
        }
        // a burst from vodozemac, delivered with the first one last
        let burst = 1 + (round * 3) % 4;
        let mut msgs: Vec<_> =
            (0..burst).map(|i| (format!("v{round}.{i}"), v.encrypt(format!("v{round}.{i}")).unwrap())).collect();
        msgs.rotate_left(1);
        for (pt, m) in &msgs {
            assert_eq!(c.decrypt(&from_vz(m)).unwrap(), pt.as_bytes());
        }
    }
    assert!(c.has_received_message());
}

#[test]
fn caudata_initiates_v1() {
    let (mut c, mut v) = caudata_to_vz(SessionConfig::version_1(), false);
    converse(&mut c, &mut v, 40);
}

#[test]
fn vodozemac_initiates_v1() {
    let (mut c, mut v) = vz_to_caudata(SessionConfig::version_1(), false);
    // the responder speaks first after the pre-key message
    let m = c.encrypt(b"reply");
    assert!(matches!(m, OlmMessage::Normal(_)));
    assert_eq!(v.decrypt(&to_vz(&m)).unwrap(), b"reply");
    converse(&mut c, &mut v, 40);
}

#[test]
fn both_directions_v2_full_mac() {
    let (mut c, mut v) = caudata_to_vz(SessionConfig::version_2(), false);
    converse(&mut c, &mut v, 10);
    let (mut c, mut v) = vz_to_caudata(SessionConfig::version_2(), false);
    converse(&mut c, &mut v, 10);
    let m = c.encrypt(b"x");
    let OlmMessage::Normal(n) = m else { panic!("expected a normal message") };
    assert_eq!(n.version(), 4, "config v2 writes version 4 (full MAC)");
}

#[test]
fn fallback_key_sessions_both_directions() {
    let (mut c, mut v) = caudata_to_vz(SessionConfig::version_1(), true);
    converse(&mut c, &mut v, 5);
    let (mut c, mut v) = vz_to_caudata(SessionConfig::version_1(), true);
    converse(&mut c, &mut v, 5);
}

#[test]
fn several_pre_key_messages_before_reply() {
    let (mut c, mut v) = caudata_to_vz(SessionConfig::version_1(), false);
    for i in 0..5 {
        let m = c.encrypt(format!("pre {i}"));
        assert!(matches!(m, OlmMessage::PreKey(_)));
        assert_eq!(v.decrypt(&to_vz(&m)).unwrap(), format!("pre {i}").as_bytes());
    }
    let r = v.encrypt("reply").unwrap();
    assert_eq!(c.decrypt(&from_vz(&r)).unwrap(), b"reply");
    assert!(matches!(c.encrypt(b"now normal"), OlmMessage::Normal(_)));
}

#[test]
fn out_of_order_up_to_the_gap_limit() {
    let (mut c, mut v) = vz_to_caudata(SessionConfig::version_1(), false);
    // The pre-key message used chain index 0; msgs[i] has chain index i + 1.
    let msgs: Vec<_> = (0..2002).map(|i| v.encrypt(format!("{i}")).unwrap()).collect();
    // A gap of 2001 is refused and changes nothing ...
    assert!(matches!(
        c.decrypt(&from_vz(&msgs[2001])),
        Err(caudata::DecryptionError::TooBigMessageGap { got: 2001, max: 2000 })
    ));
    // ... a gap of exactly 2000 is accepted.
    assert_eq!(c.decrypt(&from_vz(&msgs[2000])).unwrap(), b"2000");
    assert_eq!(c.decrypt(&from_vz(&msgs[2001])).unwrap(), b"2001");
    // the 40 newest skipped keys are kept, older ones are gone
    for i in (1960..2000).rev() {
        assert_eq!(c.decrypt(&from_vz(&msgs[i])).unwrap(), format!("{i}").as_bytes());
    }
    assert!(matches!(
        c.decrypt(&from_vz(&msgs[1959])),
        Err(caudata::DecryptionError::MissingMessageKey { index: 1960 })
    ));
    // a replay is refused: its key is gone
    assert!(matches!(
        c.decrypt(&from_vz(&msgs[1999])),
        Err(caudata::DecryptionError::MissingMessageKey { index: 2000 })
    ));
}

#[test]
fn signatures_cross_verify() {
    let a = Account::new();
    let sig = a.sign("canonical json");
    let vk = vodozemac::Ed25519PublicKey::from_slice(a.ed25519_key().as_bytes()).unwrap();
    vk.verify(b"canonical json", &vodozemac::Ed25519Signature::from_slice(&sig.to_bytes()).unwrap()).unwrap();
    let b = vz::Account::new();
    let sig = b.sign("canonical json");
    let pk = caudata::Ed25519PublicKey::from_slice(b.ed25519_key().as_bytes()).unwrap();
    pk.verify(b"canonical json", &caudata::Ed25519Signature::from_slice(&sig.to_bytes()).unwrap()).unwrap();
}
