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

/// matrix-rust-sdk's one-time-key upload: when nothing is left unpublished, top the server up
/// to `max_number_of_one_time_keys()` and mark the new keys published.
fn sdk_top_up(server: &mut Vec<caudata::Curve25519PublicKey>, account: &mut Account) {
    let max = account.max_number_of_one_time_keys();
    if account.one_time_keys().is_empty() && server.len() < max {
        account.generate_one_time_keys(max - server.len());
        server.extend(account.one_time_keys().into_values());
        account.mark_keys_as_published();
    }
}

fn vz_top_up(server: &mut Vec<vodozemac::Curve25519PublicKey>, account: &mut vz::Account) {
    let max = account.max_number_of_one_time_keys();
    if account.one_time_keys().is_empty() && server.len() < max {
        account.generate_one_time_keys(max - server.len());
        server.extend(account.one_time_keys().into_values());
        account.mark_keys_as_published();
    }
}

/// Issue 15's scenario: ten peers claim one-time keys whose pre-key messages are delayed while
/// the client keeps topping the server up (and other claimed keys are never used). With the
/// store no larger than what the client advertises, the top-ups evicted the claimed keys (10 of
/// 10 delayed messages failed); with vodozemac's contract (advertise 50, keep 5 000) all ten
/// decrypt, in caudata as in vodozemac.
#[test]
fn delayed_pre_key_messages_survive_sdk_top_ups() {
    let mut bob = Account::new();
    let mut vz_bob = vz::Account::new();
    assert_eq!(bob.max_number_of_one_time_keys(), 50);
    assert_eq!(vz_bob.max_number_of_one_time_keys(), 50);
    let (mut server, mut vz_server) = (Vec::new(), Vec::new());
    sdk_top_up(&mut server, &mut bob);
    vz_top_up(&mut vz_server, &mut vz_bob);
    assert_eq!((server.len(), vz_server.len()), (50, 50));

    // ten peers (vodozemac senders to caudata's Bob, caudata senders to vodozemac's) claim a
    // key each and send a pre-key message that is delayed
    let mut delayed = Vec::new();
    let mut vz_delayed = Vec::new();
    for i in 0..10 {
        let peer = vz::Account::new();
        let otk = server.remove(0);
        let mut s = peer
            .create_outbound_session(vz::SessionConfig::version_1(), vz_curve(bob.curve25519_key()), vz_curve(otk))
            .unwrap();
        delayed.push((cd_curve(peer.curve25519_key()), from_vz(&s.encrypt(format!("delayed {i}")).unwrap())));
        let peer = Account::new();
        let otk = vz_server.remove(0);
        let mut s = peer
            .create_outbound_session(SessionConfig::version_1(), cd_curve(vz_bob.curve25519_key()), cd_curve(otk))
            .unwrap();
        vz_delayed.push((vz_curve(peer.curve25519_key()), to_vz(&s.encrypt(format!("delayed {i}")))));
    }
    // many top-ups meanwhile, each after 30 keys were claimed and never used
    for _ in 0..10 {
        sdk_top_up(&mut server, &mut bob);
        vz_top_up(&mut vz_server, &mut vz_bob);
        server.drain(..30);
        vz_server.drain(..30);
    }
    sdk_top_up(&mut server, &mut bob);
    vz_top_up(&mut vz_server, &mut vz_bob);
    // 50 on the server, 10 delayed and 300 abandoned keys held: far beyond libolm's 100
    assert_eq!(bob.stored_one_time_key_count(), 360);
    assert_eq!(vz_bob.stored_one_time_key_count(), 360);
    // the account survives its pickles too
    let bob = Account::from_vodozemac_pickle(&bob.to_vodozemac_pickle(&[1; 32]), &[1; 32]).unwrap();
    let mut bob = Account::from_pickle(
        caudata::pickle::AccountPickle::from_encrypted(&bob.pickle().encrypt(&[2; 32]), &[2; 32]).unwrap(),
    );
    let mut ok = 0;
    for (i, (sender, m)) in delayed.iter().enumerate() {
        let OlmMessage::PreKey(pk) = m else { panic!() };
        let r = bob.create_inbound_session(SessionConfig::version_1(), *sender, pk).unwrap();
        assert_eq!(r.plaintext, format!("delayed {i}").as_bytes());
        ok += 1;
    }
    for (i, (sender, m)) in vz_delayed.iter().enumerate() {
        let vz::OlmMessage::PreKey(pk) = m else { panic!() };
        let r = vz_bob.create_inbound_session(vz::SessionConfig::version_1(), *sender, pk).unwrap();
        assert_eq!(r.plaintext, format!("delayed {i}").as_bytes());
    }
    assert_eq!(ok, 10);
    assert_eq!(bob.stored_one_time_key_count(), 350);
}

/// The information vodozemac's `SessionCreationError` carries: the missing one-time key, both
/// identity keys, both session configs; checked in vodozemac's order (identity, config, key).
#[test]
fn session_creation_errors_carry_vodozemacs_information() {
    let alice = vz::Account::new();
    let mallory = vz::Account::new();
    let mut bob = Account::new();
    let mut vz_bob = vz::Account::new();
    bob.generate_one_time_keys(1);
    vz_bob.generate_one_time_keys(1);
    let unknown = vodozemac::Curve25519SecretKey::new();
    let unknown = vodozemac::Curve25519PublicKey::from(&unknown);
    for config in [SessionConfig::version_1(), SessionConfig::version_2()] {
        let other = if config.version() == 1 { SessionConfig::version_2() } else { SessionConfig::version_1() };
        let mut s = alice.create_outbound_session(vz_config(config), vz_curve(bob.curve25519_key()), unknown).unwrap();
        let vz::OlmMessage::PreKey(vz_pk) = s.encrypt("x").unwrap() else { panic!() };
        let OlmMessage::PreKey(pk) = from_vz(&vz::OlmMessage::PreKey(vz_pk.clone())) else { panic!() };
        // the missing key, as a key
        let e = bob.create_inbound_session(config, cd_curve(alice.curve25519_key()), &pk).unwrap_err();
        assert_eq!(e, caudata::SessionCreationError::MissingOneTimeKey(cd_curve(unknown)));
        let ve = vz_bob.create_inbound_session(vz_config(config), alice.curve25519_key(), &vz_pk).unwrap_err();
        assert!(matches!(ve, vz::SessionCreationError::MissingOneTimeKey(k) if k == unknown));
        assert_eq!(e.to_string().contains(&unknown.to_base64()), ve.to_string().contains(&unknown.to_base64()));
        // the identity keys: expected, then the message's
        let e = bob.create_inbound_session(config, cd_curve(mallory.curve25519_key()), &pk).unwrap_err();
        assert_eq!(
            e,
            caudata::SessionCreationError::MismatchedIdentityKey(
                cd_curve(mallory.curve25519_key()),
                cd_curve(alice.curve25519_key())
            )
        );
        let ve = vz_bob.create_inbound_session(vz_config(config), mallory.curve25519_key(), &vz_pk).unwrap_err();
        assert!(matches!(ve, vz::SessionCreationError::MismatchedIdentityKey(a, b)
            if a == mallory.curve25519_key() && b == alice.curve25519_key()));
        // the configurations, before the key is looked up
        let e = bob.create_inbound_session(other, cd_curve(alice.curve25519_key()), &pk).unwrap_err();
        assert_eq!(e, caudata::SessionCreationError::MismatchedSessionConfig { expected: other, got: config });
        let ve = vz_bob.create_inbound_session(vz_config(other), alice.curve25519_key(), &vz_pk).unwrap_err();
        assert!(matches!(ve, vz::SessionCreationError::MismatchedSessionConfig { expected, got: Some(got) }
            if expected == vz_config(other) && got == vz_config(config)));
        assert_eq!(bob.stored_one_time_key_count(), 1);
    }
}
