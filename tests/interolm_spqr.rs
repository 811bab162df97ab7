//! SPQR V1 inside interolm sessions between two caudata accounts: policies, negotiation, and
//! bad SPQR input. Every refused message must give its precise error and leave the whole
//! session (double ratchet and SPQR state: [`Session::snapshot_for_testing_only`]) unchanged,
//! and the genuine message must still decrypt afterwards.
//!
//! Field 5 is covered by the double-ratchet MAC, but the SPQR part is checked first, so an
//! altered field 5 is reported as the SPQR error it causes (here the MAC of the edited
//! messages is not even recomputed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caudata::DecryptionError;
use caudata::interolm::spqr::{SpqrError, SpqrVersion, VersionStatus};
use caudata::interolm::{Account, InterolmMessage, PreKeySignalMessage, Session, SessionVersion, SpqrPolicy};
use caudata::wire::signal::{PreKeySignalMessageWire, SignalMessageWire};

fn accounts(alice_policy: SpqrPolicy, bob_policy: SpqrPolicy) -> (Session, Account) {
    let mut alice = Account::new();
    alice.set_spqr_policy(alice_policy);
    let mut bob = Account::new();
    bob.set_spqr_policy(bob_policy);
    bob.generate_signed_pre_key();
    bob.generate_one_time_pre_keys(2);
    bob.generate_kyber_pre_key(true);
    let session = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
    (session, bob)
}

fn prekey(m: &InterolmMessage) -> &PreKeySignalMessage {
    match m {
        InterolmMessage::PreKey(p) => p,
        InterolmMessage::Whisper(_) => panic!("expected a PreKey message"),
    }
}

fn field5(m: &InterolmMessage) -> Option<Vec<u8>> {
    match m {
        InterolmMessage::PreKey(p) => p.message().pq_ratchet().map(<[u8]>::to_vec),
        InterolmMessage::Whisper(w) => w.pq_ratchet().map(<[u8]>::to_vec),
    }
}

/// The same message with field 5 replaced by `edit(field 5)` (empty: removed). The MAC is not
/// recomputed (a forger could not).
fn with_field5(m: &InterolmMessage, edit: impl FnOnce(Vec<u8>) -> Vec<u8>) -> InterolmMessage {
    edit_inner(m, |_| {}, edit)
}

/// The same message with the inner ciphertext and field 5 edited, the MAC kept.
fn edit_inner(
    m: &InterolmMessage,
    edit_ct: impl FnOnce(&mut Vec<u8>),
    edit: impl FnOnce(Vec<u8>) -> Vec<u8>,
) -> InterolmMessage {
    let (t, body) = m.to_parts();
    let rebuild = |inner: &SignalMessageWire, edit: Box<dyn FnOnce(Vec<u8>) -> Vec<u8> + '_>| {
        let mac: [u8; 8] = inner.mac().try_into().unwrap();
        let mut ct = inner.ciphertext.clone();
        edit_ct(&mut ct);
        SignalMessageWire::encode_with_pq_ratchet(
            inner.session_version(),
            &inner.ratchet_key,
            inner.counter,
            inner.previous_counter,
            ct,
            edit(inner.pq_ratchet.clone().unwrap_or_default()),
            |_| {
                let mut full = [0u8; 32];
                full[..8].copy_from_slice(&mac);
                full
            },
        )
    };
    let edit: Box<dyn FnOnce(Vec<u8>) -> Vec<u8>> = Box::new(edit);
    if t == 3 {
        let w = PreKeySignalMessageWire::decode(&body).unwrap();
        let inner = rebuild(&w.message, edit);
        let bytes = PreKeySignalMessageWire::encode(w.fields.clone(), inner).as_bytes().to_vec();
        InterolmMessage::from_parts(3, &bytes).unwrap()
    } else {
        let w = SignalMessageWire::decode(&body).unwrap();
        InterolmMessage::from_parts(2, rebuild(&w, edit).as_bytes()).unwrap()
    }
}

/// `session.decrypt(m)` must fail with `want` and change nothing.
fn refused(session: &mut Session, m: &InterolmMessage, want: DecryptionError) {
    let before = session.snapshot_for_testing_only();
    assert_eq!(session.decrypt(m), Err(want));
    assert_eq!(session.snapshot_for_testing_only(), before, "a refused message changed the session");
}

#[test]
fn every_message_carries_spqr_and_epochs_advance() {
    for policy in [SpqrPolicy::Optional, SpqrPolicy::Required] {
        let (mut a, mut bob) = accounts(policy, policy);
        let m0 = a.encrypt(b"hello").unwrap();
        let f0 = field5(&m0).unwrap();
        // Required: epoch 1, index 1, a header chunk (37 bytes); Optional: index 0 until the
        // peer has answered.
        assert_eq!(f0.len(), 37);
        assert_eq!(f0[..3], [1, 1, u8::from(policy == SpqrPolicy::Required)]);
        let mut b = bob.create_inbound_session(prekey(&m0)).unwrap().session;
        assert_eq!(b.spqr().version_status(), VersionStatus::Complete(SpqrVersion::V1));
        for round in 0..120 {
            for k in 0..3 {
                let m = a.encrypt(format!("a{round}.{k}")).unwrap();
                assert!(field5(&m).is_some());
                assert_eq!(b.decrypt(&m).unwrap(), format!("a{round}.{k}").as_bytes());
            }
            let m = b.encrypt(format!("b{round}")).unwrap();
            assert_eq!(a.decrypt(&m).unwrap(), format!("b{round}").as_bytes());
        }
        assert!(a.spqr().summary().epoch >= 3, "{policy:?}: {:?}", a.spqr().summary());
        assert_eq!(a.spqr().version_status(), VersionStatus::Complete(SpqrVersion::V1));
    }
}

#[test]
fn optional_drops_to_v0_for_a_peer_without_spqr_and_required_refuses_it() {
    // Alice without SPQR, Bob optional: Bob drops to V0 for good and sends no field 5.
    let (mut a, mut bob) = accounts(SpqrPolicy::Off, SpqrPolicy::Optional);
    let m0 = a.encrypt(b"v0").unwrap();
    assert_eq!(field5(&m0), None);
    let mut b = bob.create_inbound_session(prekey(&m0)).unwrap().session;
    assert_eq!(b.spqr().version_status(), VersionStatus::Complete(SpqrVersion::V0));
    let r = b.encrypt(b"reply").unwrap();
    assert_eq!(field5(&r), None);
    assert_eq!(a.decrypt(&r).unwrap(), b"reply");

    // Alice optional, Bob without SPQR: Alice's first messages carry SPQR index 0 without a
    // key, which Bob ignores; his reply without SPQR moves Alice to V0.
    let (mut a, mut bob) = accounts(SpqrPolicy::Optional, SpqrPolicy::Off);
    let m0 = a.encrypt(b"offer").unwrap();
    assert!(field5(&m0).is_some());
    let mut b = bob.create_inbound_session(prekey(&m0)).unwrap().session;
    let r = b.encrypt(b"no spqr").unwrap();
    assert_eq!(a.decrypt(&r).unwrap(), b"no spqr");
    assert_eq!(a.spqr().version_status(), VersionStatus::Complete(SpqrVersion::V0));
    assert_eq!(field5(&a.encrypt(b"after").unwrap()), None);

    // Bob required: Alice's PreKey message without SPQR is refused, nothing spent.
    let (mut a, mut bob) = accounts(SpqrPolicy::Off, SpqrPolicy::Required);
    let m0 = a.encrypt(b"v0").unwrap();
    let id = prekey(&m0).pre_key_id().unwrap();
    let err = bob.create_inbound_session(prekey(&m0)).unwrap_err();
    assert_eq!(
        err,
        caudata::SessionCreationError::Decryption(DecryptionError::Spqr(SpqrError::MinimumVersion {
            got: SpqrVersion::V0,
            min: SpqrVersion::V1
        }))
    );
    assert!(bob.pre_keys().contains_one_time_pre_key(id));

    // X3DH sessions never run SPQR.
    let mut alice = Account::new();
    alice.allow_x3dh(true);
    alice.set_spqr_policy(SpqrPolicy::Required);
    let mut bob = Account::new();
    bob.allow_x3dh(true);
    bob.generate_signed_pre_key();
    let mut a = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
    assert_eq!(a.session_version(), SessionVersion::X3dh);
    let m0 = a.encrypt(b"x3dh").unwrap();
    assert_eq!(field5(&m0), None);
    assert_eq!(a.spqr().version_status(), VersionStatus::Complete(SpqrVersion::V0));
}

#[test]
fn stripped_field5_is_refused_in_a_v1_minimum_session() {
    let (mut a, mut bob) = accounts(SpqrPolicy::Required, SpqrPolicy::Required);
    let m0 = a.encrypt(b"zero").unwrap();
    let m1 = a.encrypt(b"one").unwrap();
    // Bob (minimum V1) has not received anything yet through an existing session: build it
    // from m0, then m1 without field 5 while negotiation is over: VersionMismatch.
    let mut b = bob.create_inbound_session(prekey(&m0)).unwrap().session;
    let stripped = with_field5(&m1, |_| Vec::new());
    assert_eq!(field5(&stripped), None);
    refused(
        &mut b,
        &stripped,
        DecryptionError::Spqr(SpqrError::VersionMismatch { got: SpqrVersion::V0, ours: SpqrVersion::V1 }),
    );
    assert_eq!(b.decrypt(&m1).unwrap(), b"one");

    // Alice (minimum V1, still negotiating) gets Bob's reply without field 5: MinimumVersion.
    let r = b.encrypt(b"reply").unwrap();
    let stripped = with_field5(&r, |_| Vec::new());
    refused(
        &mut a,
        &stripped,
        DecryptionError::Spqr(SpqrError::MinimumVersion { got: SpqrVersion::V0, min: SpqrVersion::V1 }),
    );
    assert_eq!(a.decrypt(&r).unwrap(), b"reply");

    // Optional sessions refuse it too once V1 was negotiated.
    let (mut a, mut bob) = accounts(SpqrPolicy::Optional, SpqrPolicy::Optional);
    let mut b = bob.create_inbound_session(prekey(&a.encrypt(b"0").unwrap())).unwrap().session;
    let r = b.encrypt(b"r").unwrap();
    let stripped = with_field5(&r, |_| Vec::new());
    // Alice is still negotiating with minimum V0: the stripped reply would be accepted as V0
    // by SPQR, and then fails the double-ratchet MAC (field 5 is under the MAC): unchanged.
    refused(&mut a, &stripped, DecryptionError::InvalidMac);
    assert_eq!(a.decrypt(&r).unwrap(), b"r");
    let m = a.encrypt(b"next").unwrap();
    let stripped = with_field5(&m, |_| Vec::new());
    refused(
        &mut b,
        &stripped,
        DecryptionError::Spqr(SpqrError::VersionMismatch { got: SpqrVersion::V0, ours: SpqrVersion::V1 }),
    );
    assert_eq!(b.decrypt(&m).unwrap(), b"next");
}

#[test]
fn bad_spqr_parts_are_refused_and_change_nothing() {
    let (mut a, mut bob) = accounts(SpqrPolicy::Required, SpqrPolicy::Required);
    // Alice's first three messages carry the three chunks of the SPQR header (any three
    // distinct chunks complete it).
    let msgs: Vec<_> = (0..4).map(|i| a.encrypt(format!("m{i}")).unwrap()).collect();
    for m in &msgs {
        let f = field5(m).unwrap();
        assert_eq!((f.len(), f[3]), (37, 1), "a header chunk");
    }
    let mut b = bob.create_inbound_session(prekey(&msgs[0])).unwrap().session;
    assert_eq!(b.decrypt(&msgs[1]).unwrap(), b"m1");

    // A header chunk with a flipped bit: the header completes and its MAC fails.
    let bad_chunk = with_field5(&msgs[2], |mut f| {
        f[10] ^= 1;
        f
    });
    refused(&mut b, &bad_chunk, DecryptionError::Spqr(SpqrError::InvalidHeaderMac));

    // An epoch from the future.
    let future = with_field5(&msgs[2], |mut f| {
        f[1] = 5;
        f
    });
    refused(&mut b, &future, DecryptionError::Spqr(SpqrError::EpochFromFuture { got: 5, current: 1 }));

    // Truncated field 5 (a chunk one byte short, or only the version byte).
    let truncated = with_field5(&msgs[2], |mut f| {
        f.pop();
        f
    });
    let before = b.snapshot_for_testing_only();
    let err = b.decrypt(&truncated).unwrap_err();
    assert!(matches!(err, DecryptionError::Spqr(SpqrError::Decode(_))), "{err:?}");
    assert_eq!(b.snapshot_for_testing_only(), before);
    let only_version = with_field5(&msgs[2], |_| vec![1]);
    let err = b.decrypt(&only_version).unwrap_err();
    assert!(matches!(err, DecryptionError::Spqr(SpqrError::Decode(_))), "{err:?}");
    assert_eq!(b.snapshot_for_testing_only(), before);
    // An unknown chunk type.
    let bad_type = with_field5(&msgs[2], |mut f| {
        f[3] = 7;
        f
    });
    let err = b.decrypt(&bad_type).unwrap_err();
    assert!(matches!(err, DecryptionError::Spqr(SpqrError::Decode(_))), "{err:?}");
    assert_eq!(b.snapshot_for_testing_only(), before);

    // A genuine SPQR part with a tampered double-ratchet ciphertext: the MAC fails, and SPQR
    // (which would have completed the header) is not committed either.
    let tampered = edit_inner(&msgs[2], |ct| ct[0] ^= 1, |f| f);
    refused(&mut b, &tampered, DecryptionError::InvalidMac);

    // The genuine messages still decrypt, in any order, and the header completes.
    assert_eq!(b.decrypt(&msgs[3]).unwrap(), b"m3");
    assert_eq!(b.decrypt(&msgs[2]).unwrap(), b"m2");
    // A replayed SPQR part (message 2 again): refused by the double ratchet, nothing changes.
    let before = b.snapshot_for_testing_only();
    assert!(b.decrypt(&msgs[2]).is_err());
    assert_eq!(b.snapshot_for_testing_only(), before);
    let r = b.encrypt(b"ok").unwrap();
    assert_eq!(a.decrypt(&r).unwrap(), b"ok");
}
