//! The application layer of interolm against live libsignal (`interop/libsignal/app.mjs`):
//! addresses (SignalMessage field 6, libsignal ≥ 0.91's misdirection protection) in both
//! directions with 0.92.2 and 0.103.0 and their absence with 0.90.0 and 0.72.1; pre-key
//! messages routed by base key (an altered replay meets its session); identity changes; the
//! plaintext limit; and a multi-device conversation between a caudata application on
//! [`caudata_sqlite::SqliteStore`] and libsignal 0.103.0 devices.
//!
//! Needs Node 20+ and `bash interop/libsignal/setup.sh`; fails, never skips, without them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/libsignal_app.rs"]
mod app_peer;
mod libsignal_peer;

use std::path::Path;

use app_peer::Rng;
use caudata::interolm::{
    Device, DeviceId, IdentityChange, IdentityKeyPair, IdentityKeyStore, InMemoryStore, InterolmMessage,
    MessageAddresses, PreKeySignalMessage, ProtocolAddress, ProtocolStore, SessionStore,
};
use caudata::wire::signal::PreKeySignalMessageWire;
use caudata::{DecryptionError, EncryptionError, ProtocolError, SessionCreationError};
use caudata_sqlite::SqliteStore;
use libsignal_peer::{Peer, bundle_from_json, bundle_to_json};
use serde_json::json;

const ALICE: &str = "11111111-2222-4333-8444-555555555555";
const BOB: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const CAROL: &str = "cccccccc-dddd-4eee-8fff-000000000000";
const NOW: u64 = 1_790_000_000_000;

fn addr(name: &str, d: u8) -> ProtocolAddress {
    ProtocolAddress::new(name, DeviceId::new(d.into()).unwrap())
}

/// A caudata device in memory with a signed prekey (1), one-time prekeys 100…109 and a
/// last-resort Kyber prekey (1).
fn mem_device(name: &str, d: u8) -> Device<InMemoryStore> {
    let mut dev = Device::new(InMemoryStore::new(IdentityKeyPair::generate(), 1000 + u32::from(d)), addr(name, d));
    provision(&mut dev);
    dev
}

fn provision<S: ProtocolStore>(dev: &mut Device<S>) {
    dev.generate_signed_pre_key(1, NOW).unwrap();
    dev.generate_pre_keys(100, 10).unwrap();
    dev.generate_kyber_pre_key(1, NOW, true).unwrap();
}

fn pre_key(m: &InterolmMessage) -> &PreKeySignalMessage {
    match m {
        InterolmMessage::PreKey(p) => p,
        InterolmMessage::Whisper(_) => panic!("expected a pre-key message"),
    }
}

/// The `addresses` field inside a pre-key message, if any.
fn addresses_field(m: &InterolmMessage) -> Option<Vec<u8>> {
    let w = PreKeySignalMessageWire::decode(&pre_key(m).to_bytes()).unwrap();
    w.message.addresses.clone()
}

#[test]
fn libsignal_0_92_2_and_0_103_0_write_and_check_addresses_both_directions() {
    let mut peer = Peer::start_app();
    for lib in ["0.92.2", "0.103.0"] {
        // libsignal (PNI Bob, device 7) → caudata (ACI Alice, device 3)
        let mut alice = mem_device(ALICE, 3);
        let bob_name = format!("PNI:{BOB}");
        peer.call(json!({"cmd": "new_party", "p": "bob", "lib": lib, "name": bob_name, "device_id": 7}));
        let bundle = alice.pre_key_bundle(Some(100), 1, Some(1)).unwrap();
        peer.call(json!({"cmd": "process_bundle", "p": "bob", "peer_name": ALICE, "peer_device_id": 3, "bundle": bundle_to_json(&bundle)}));
        let m = peer.encrypt("bob", (ALICE, 3), b"to alice");
        let expected = MessageAddresses::for_message(&addr(&bob_name, 7), &addr(ALICE, 3)).unwrap();
        assert_eq!(addresses_field(&m), Some(expected.to_bytes().to_vec()), "{lib} writes the field");

        // Misdirected: another sender device, another local device, a non-service-id name.
        let bob7 = addr(&bob_name, 7);
        for (remote, local) in
            [(addr(&bob_name, 8), addr(ALICE, 3)), (bob7.clone(), addr(ALICE, 4)), (addr("bob", 7), addr(ALICE, 3))]
        {
            let mut other = Device::new(alice.store().clone(), local);
            let e = other.decrypt(&remote, &m).unwrap_err();
            assert!(
                matches!(
                    e,
                    ProtocolError::SessionCreation(SessionCreationError::Decryption(DecryptionError::AddressMismatch))
                ),
                "{lib}: {e:?}"
            );
            assert!(!other.has_session(&remote).unwrap());
            assert_eq!(other.store().pre_key_ids().len(), 10, "the one-time prekey stays");
        }
        assert_eq!(alice.decrypt(&bob7, &m).unwrap(), b"to alice");
        let reply = alice.encrypt(&bob7, b"to bob").unwrap();
        assert!(matches!(reply, InterolmMessage::Whisper(_)));
        assert_eq!(peer.decrypt("bob", (ALICE, 3), &reply).unwrap(), b"to bob");

        // caudata (ACI Alice, device 5) → libsignal (ACI Carol, device 2)
        let mut alice5 = mem_device(ALICE, 5);
        let carol = peer.call(json!({"cmd": "new_party", "p": "carol", "lib": lib, "name": CAROL, "device_id": 2}));
        let carol2 = addr(CAROL, 2);
        alice5.process_pre_key_bundle(&carol2, &bundle_from_json(&carol["bundle"])).unwrap();
        let m = alice5.encrypt(&carol2, b"to carol").unwrap();
        let expected = MessageAddresses::for_message(&addr(ALICE, 5), &carol2).unwrap();
        assert_eq!(addresses_field(&m), Some(expected.to_bytes().to_vec()));
        let e = peer.decrypt("carol", (ALICE, 6), &m).unwrap_err();
        assert!(e.contains("decryption failed"), "{lib} refuses a misdirected message: {e}");
        let e = peer.decrypt("carol", ("alice", 5), &m).unwrap_err();
        assert!(e.contains("decryption failed"), "{lib}: {e}");
        assert_eq!(peer.decrypt("carol", (ALICE, 5), &m).unwrap(), b"to carol");
        let r = peer.encrypt("carol", (ALICE, 5), b"back");
        assert_eq!(alice5.decrypt(&carol2, &r).unwrap(), b"back");

        // Names that are not service ids: no field, and libsignal accepts that.
        let mut plain = Device::new(InMemoryStore::new(IdentityKeyPair::generate(), 77), addr("alice", 1));
        provision(&mut plain);
        let dave = peer.call(json!({"cmd": "new_party", "p": "dave", "lib": lib, "name": "dave", "device_id": 1}));
        plain.process_pre_key_bundle(&addr("dave", 1), &bundle_from_json(&dave["bundle"])).unwrap();
        let m = plain.encrypt(&addr("dave", 1), b"plain").unwrap();
        assert_eq!(addresses_field(&m), None);
        assert_eq!(peer.decrypt("dave", ("alice", 1), &m).unwrap(), b"plain");
        for p in ["bob", "carol", "dave"] {
            peer.call(json!({"cmd": "drop_party", "p": p}));
        }
    }
}

#[test]
fn libsignal_0_90_0_and_0_72_1_without_addresses_both_directions() {
    let mut peer = Peer::start_app();
    for lib in ["0.90.0", "0.72.1"] {
        // libsignal → caudata: no field, accepted by a caudata device that checks addresses.
        let mut alice = mem_device(ALICE, 1);
        peer.call(json!({"cmd": "new_party", "p": "bob", "lib": lib, "name": BOB, "device_id": 2}));
        let bundle = alice.pre_key_bundle(Some(101), 1, Some(1)).unwrap();
        peer.call(json!({"cmd": "process_bundle", "p": "bob", "peer_name": ALICE, "peer_device_id": 1, "bundle": bundle_to_json(&bundle)}));
        let m = peer.encrypt("bob", (ALICE, 1), b"old");
        assert_eq!(addresses_field(&m), None, "{lib} writes no field");
        assert_eq!(alice.decrypt(&addr(BOB, 2), &m).unwrap(), b"old");
        // caudata → libsignal: the field is written (the MAC covers it) and the older library
        // ignores it
        let mut alice2 = mem_device(ALICE, 2);
        let carol = peer.call(json!({"cmd": "new_party", "p": "carol", "lib": lib, "name": CAROL, "device_id": 1}));
        alice2.process_pre_key_bundle(&addr(CAROL, 1), &bundle_from_json(&carol["bundle"])).unwrap();
        for i in 0..3u8 {
            let m = alice2.encrypt(&addr(CAROL, 1), &[i; 5]).unwrap();
            assert!(addresses_field(&m).is_some());
            assert_eq!(peer.decrypt("carol", (ALICE, 2), &m).unwrap(), [i; 5], "{lib}");
        }
        let r = peer.encrypt("carol", (ALICE, 2), b"reply");
        assert_eq!(alice2.decrypt(&addr(CAROL, 1), &r).unwrap(), b"reply");
        let m = alice2.encrypt(&addr(CAROL, 1), b"whisper").unwrap();
        assert!(matches!(m, InterolmMessage::Whisper(_)));
        assert_eq!(peer.decrypt("carol", (ALICE, 2), &m).unwrap(), b"whisper");
        for p in ["bob", "carol"] {
            peer.call(json!({"cmd": "drop_party", "p": p}));
        }
    }
}

/// A pre-key message with its registration id (outside the MAC) changed.
fn altered(m: &InterolmMessage) -> InterolmMessage {
    let w = PreKeySignalMessageWire::decode(&pre_key(m).to_bytes()).unwrap();
    let mut f = w.fields.clone();
    f.registration_id ^= 0x55;
    let bytes = PreKeySignalMessageWire::encode(f, w.message.clone()).as_bytes().to_vec();
    InterolmMessage::from_parts(3, &bytes).unwrap()
}

#[test]
fn pre_key_messages_that_spend_no_one_time_key_meet_their_session_when_replayed() {
    let mut peer = Peer::start_app();
    // X3DH without a one-time prekey (libsignal 0.72.1), and PQXDH on a last-resort Kyber
    // prekey without a one-time prekey (0.103.0): nothing is consumed by the first message.
    for (lib, kyber) in [("0.72.1", None), ("0.103.0", Some(1))] {
        let mut alice = mem_device(ALICE, 1);
        alice.allow_x3dh(true);
        let bob = addr(BOB, 1);
        peer.call(json!({"cmd": "new_party", "p": "bob", "lib": lib, "name": BOB, "device_id": 1}));
        let bundle = alice.pre_key_bundle(None, 1, kyber).unwrap();
        peer.call(json!({"cmd": "process_bundle", "p": "bob", "peer_name": ALICE, "peer_device_id": 1, "bundle": bundle_to_json(&bundle)}));
        let m1 = peer.encrypt("bob", (ALICE, 1), b"one");
        let m2 = peer.encrypt("bob", (ALICE, 1), b"two");
        assert_eq!(alice.decrypt(&bob, &m1).unwrap(), b"one");
        for replay in [m1.clone(), altered(&m1)] {
            let e = alice.decrypt(&bob, &replay).unwrap_err();
            // the duplicate is caught by the double ratchet, or first by SPQR (whose receive runs
            // first, and whose key for index 1 is spent)
            assert!(
                matches!(
                    e,
                    ProtocolError::Decryption(
                        DecryptionError::MissingMessageKey { index: 0 }
                            | DecryptionError::Spqr(caudata::interolm::spqr::SpqrError::KeyAlreadyUsed { index: 1 })
                    )
                ),
                "{lib}: {e:?}"
            );
        }
        // the second pre-key message of the session, with an altered outer field, goes to it too
        assert_eq!(alice.decrypt(&bob, &altered(&m2)).unwrap(), b"two");
        let record = alice.session_record(&bob).unwrap().unwrap();
        assert_eq!(record.archived_len(), 0, "{lib}: one session, never a second");
        assert_eq!(alice.store().pre_key_uses(), 1);
        // if the record is lost, the replay memory still refuses the message
        alice.store_mut().store_session(&bob, &caudata::interolm::SessionRecord::new()).unwrap();
        let e = alice.decrypt(&bob, &altered(&m1)).unwrap_err();
        assert!(
            matches!(e, ProtocolError::SessionCreation(SessionCreationError::ReplayedPreKeyMessage)),
            "{lib}: {e:?}"
        );
        peer.call(json!({"cmd": "drop_party", "p": "bob"}));
    }
}

#[test]
fn identity_changes_are_detected_and_refused_until_accepted() {
    let mut peer = Peer::start_app();
    let mut alice = mem_device(ALICE, 1);
    let bob = addr(BOB, 1);
    let first = peer.call(json!({"cmd": "new_party", "p": "bob", "lib": "0.103.0", "name": BOB, "device_id": 1}));
    alice.process_pre_key_bundle(&bob, &bundle_from_json(&first["bundle"])).unwrap();
    let m = alice.encrypt(&bob, b"hello").unwrap();
    assert_eq!(peer.decrypt("bob", (ALICE, 1), &m).unwrap(), b"hello");

    // Bob reinstalls: a new identity under the same address.
    peer.call(json!({"cmd": "drop_party", "p": "bob"}));
    let second = peer.call(json!({"cmd": "new_party", "p": "bob", "lib": "0.103.0", "name": BOB, "device_id": 1}));
    let new_bundle = bundle_from_json(&second["bundle"]);
    let e = alice.process_pre_key_bundle(&bob, &new_bundle).unwrap_err();
    assert!(matches!(e, ProtocolError::UntrustedIdentity(ref a) if *a == bob), "{e:?}");
    // … and his pre-key message is refused the same way, with nothing stored
    let bundle = alice.pre_key_bundle(Some(102), 1, Some(1)).unwrap();
    peer.call(json!({"cmd": "process_bundle", "p": "bob", "peer_name": ALICE, "peer_device_id": 1, "bundle": bundle_to_json(&bundle)}));
    let from_new = peer.encrypt("bob", (ALICE, 1), b"it's me");
    let before = alice.session_record(&bob).unwrap().unwrap().current().unwrap().session_id();
    let e = alice.decrypt(&bob, &from_new).unwrap_err();
    assert!(matches!(e, ProtocolError::UntrustedIdentity(_)), "{e:?}");
    assert_eq!(alice.session_record(&bob).unwrap().unwrap().current().unwrap().session_id(), before);
    // The application accepts the new identity (a safety-number change shown to the user).
    assert_eq!(
        alice.store_mut().save_identity(&bob, &new_bundle.identity_key).unwrap(),
        IdentityChange::ReplacedExisting
    );
    assert_eq!(alice.decrypt(&bob, &from_new).unwrap(), b"it's me");
    let r = alice.encrypt(&bob, b"welcome back").unwrap();
    assert_eq!(peer.decrypt("bob", (ALICE, 1), &r).unwrap(), b"welcome back");
    assert_eq!(alice.session_record(&bob).unwrap().unwrap().archived_len(), 1);
}

#[test]
fn plaintexts_whose_message_receivers_refuse_are_refused() {
    let mut peer = Peer::start_app();
    let mut alice = mem_device(ALICE, 1);
    let bob = addr(BOB, 1);
    let b = peer.call(json!({"cmd": "new_party", "p": "bob", "lib": "0.103.0", "name": BOB, "device_id": 1}));
    alice.process_pre_key_bundle(&bob, &bundle_from_json(&b["bundle"])).unwrap();
    let before = alice.session_record(&bob).unwrap().unwrap().pickle().to_unencrypted_bytes();
    let big = vec![7u8; 1_100_000];
    let e = alice.encrypt(&bob, &big).unwrap_err();
    let ProtocolError::Encryption(EncryptionError::PlaintextTooLong { got, max }) = e else { panic!("{e:?}") };
    assert_eq!(got, 1_100_000);
    assert_eq!(*alice.session_record(&bob).unwrap().unwrap().pickle().to_unencrypted_bytes(), *before);
    // the longest plaintext accepted makes a message every receiver decodes (the pre-key message,
    // with its Kyber ciphertext and addresses, is the largest there is)
    let at_max = vec![9u8; max];
    let m = alice.encrypt(&bob, &at_max).unwrap();
    let (t, body) = m.to_parts();
    assert!(
        body.len() <= caudata::consts::MAX_MESSAGE_LENGTH && body.len() + 16 + 54 > caudata::consts::MAX_MESSAGE_LENGTH,
        "{}",
        body.len()
    );
    assert!(InterolmMessage::from_parts(t, &body).is_ok());
    assert_eq!(peer.decrypt("bob", (ALICE, 1), &m).unwrap(), at_max);
}

// ------------------------------------------------------------------ multi-device over SQLite

const KEY: [u8; 32] = [0x5A; 32];

/// In flight: from ('a'|'b', device), to, the message, its plaintext.
type Flight = ((char, u8), (char, u8), InterolmMessage, Vec<u8>);

/// A caudata device whose store is the SQLite database at `path` (opened anew each call, as an
/// application restarting would).
fn sqlite_device(path: &Path, name: &str, d: u8) -> Device<SqliteStore> {
    let s = SqliteStore::open(path, &KEY).unwrap();
    let fresh = s.identity_key_pair().is_err();
    if fresh {
        s.set_local_identity(&IdentityKeyPair::generate(), 2000 + u32::from(d)).unwrap();
    }
    let mut dev = Device::new(s, addr(name, d));
    if fresh {
        provision(&mut dev);
    }
    dev
}

#[test]
fn multi_device_conversation_over_sqlite_with_libsignal_0_103_0() {
    let mut peer = Peer::start_app();
    let dir = std::env::temp_dir().join(format!("caudata-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = |d: u8| dir.join(format!("alice-{d}.db"));
    // Alice: a caudata application with devices 1 and 2 (each its own SQLite database);
    // Bob: a libsignal 0.103.0 user with devices 1, 2 and 3.
    let alice_devices = [1u8, 2];
    let bob_devices = [1u8, 2, 3];
    for d in alice_devices {
        let _ = std::fs::remove_file(db(d));
        sqlite_device(&db(d), ALICE, d);
    }
    for d in bob_devices {
        peer.call(json!({"cmd": "new_party", "p": format!("bob{d}"), "lib": "0.103.0", "name": BOB, "device_id": d}));
        peer.call(json!({"cmd": "add_pre_keys", "p": format!("bob{d}"), "first_id": 200, "count": 10}));
    }
    // One-time prekeys handed out by "the server", per device.
    let mut next_otk = [200u32; 4];
    let mut alice_otk = [100u32; 3];
    let mut bob_bundle = |peer: &mut Peer, d: u8| {
        let id = next_otk[d as usize];
        next_otk[d as usize] += 1;
        bundle_from_json(&peer.call(json!({"cmd": "bundle_with", "p": format!("bob{d}"), "pre_key_id": id, "signed_pre_key_id": 17, "kyber_pre_key_id": 23}))["bundle"])
    };

    let mut rng = Rng(0x5eed);
    // In flight: (from, to, message, plaintext); "from"/"to" are ('a'|'b', device).
    let mut flight: Vec<Flight> = Vec::new();
    let mut delivered = 0;
    for round in 0..30u32 {
        // A sender: one of Alice's devices or one of Bob's.
        let pt = format!("round {round}").into_bytes();
        if rng.below(2) == 0 {
            let d = alice_devices[rng.below(2)];
            let mut me = sqlite_device(&db(d), ALICE, d);
            // to every Bob device and to Alice's other device (a sync message)
            let mut targets: Vec<(char, u8)> = bob_devices.iter().map(|&b| ('b', b)).collect();
            targets.extend(alice_devices.iter().filter(|&&o| o != d).map(|&o| ('a', o)));
            for (who, td) in targets {
                let to = if who == 'b' { addr(BOB, td) } else { addr(ALICE, td) };
                if !me.has_session(&to).unwrap() {
                    let bundle = if who == 'b' {
                        bob_bundle(&mut peer, td)
                    } else {
                        let other = sqlite_device(&db(td), ALICE, td);
                        let id = alice_otk[td as usize];
                        alice_otk[td as usize] += 1;
                        other.pre_key_bundle(Some(id), 1, Some(1)).unwrap()
                    };
                    me.process_pre_key_bundle(&to, &bundle).unwrap();
                }
                flight.push((('a', d), (who, td), me.encrypt(&to, &pt).unwrap(), pt.clone()));
            }
        } else {
            let d = bob_devices[rng.below(3)];
            for ad in alice_devices {
                let has = peer.call(
                    json!({"cmd": "has_session", "p": format!("bob{d}"), "peer_name": ALICE, "peer_device_id": ad}),
                );
                if has["has_current_state"] != true {
                    let me = sqlite_device(&db(ad), ALICE, ad);
                    let id = alice_otk[ad as usize];
                    alice_otk[ad as usize] += 1;
                    let bundle = me.pre_key_bundle(Some(id), 1, Some(1)).unwrap();
                    peer.call(json!({"cmd": "process_bundle", "p": format!("bob{d}"), "peer_name": ALICE, "peer_device_id": ad, "bundle": bundle_to_json(&bundle)}));
                }
                let m = peer.encrypt(&format!("bob{d}"), (ALICE, ad), &pt);
                flight.push((('b', d), ('a', ad), m, pt.clone()));
            }
        }
        // Deliver a random part of what is in flight, in random order.
        let n = rng.below(flight.len() + 1);
        for _ in 0..n {
            let (from, to, m, pt) = flight.swap_remove(rng.below(flight.len()));
            let got = match (from, to) {
                (('b', fd), ('a', td)) => sqlite_device(&db(td), ALICE, td).decrypt(&addr(BOB, fd), &m).unwrap(),
                (('a', fd), ('a', td)) => sqlite_device(&db(td), ALICE, td).decrypt(&addr(ALICE, fd), &m).unwrap(),
                (('a', fd), ('b', td)) => peer.decrypt(&format!("bob{td}"), (ALICE, fd), &m).unwrap(),
                _ => unreachable!(),
            };
            assert_eq!(got, pt);
            delivered += 1;
        }
    }
    // Everything left arrives.
    while let Some((from, to, m, pt)) = flight.pop() {
        let got = match (from, to) {
            (('b', fd), ('a', td)) => sqlite_device(&db(td), ALICE, td).decrypt(&addr(BOB, fd), &m).unwrap(),
            (('a', fd), ('a', td)) => sqlite_device(&db(td), ALICE, td).decrypt(&addr(ALICE, fd), &m).unwrap(),
            (('a', fd), ('b', td)) => peer.decrypt(&format!("bob{td}"), (ALICE, fd), &m).unwrap(),
            _ => unreachable!(),
        };
        assert_eq!(got, pt);
        delivered += 1;
    }
    assert!(delivered > 60, "{delivered} messages delivered");

    // Bob's device 3 starts over with a new session (say, after losing its record); messages
    // from the old session still in flight keep decrypting through Alice's archived session.
    let has = peer.call(json!({"cmd": "has_session", "p": "bob3", "peer_name": ALICE, "peer_device_id": 1}));
    if has["has_current_state"] != true {
        let me = sqlite_device(&db(1), ALICE, 1);
        let bundle = me.pre_key_bundle(Some(alice_otk[1]), 1, Some(1)).unwrap();
        alice_otk[1] += 1;
        peer.call(json!({"cmd": "process_bundle", "p": "bob3", "peer_name": ALICE, "peer_device_id": 1, "bundle": bundle_to_json(&bundle)}));
        let m = peer.encrypt("bob3", (ALICE, 1), b"first");
        assert_eq!(sqlite_device(&db(1), ALICE, 1).decrypt(&addr(BOB, 3), &m).unwrap(), b"first");
    }
    let old = peer.encrypt("bob3", (ALICE, 1), b"old session, late");
    peer.call(json!({"cmd": "archive_session", "p": "bob3", "peer_name": ALICE, "peer_device_id": 1}));
    let mut a1 = sqlite_device(&db(1), ALICE, 1);
    let id = alice_otk[1];
    let bundle = a1.pre_key_bundle(Some(id), 1, Some(1)).unwrap();
    peer.call(json!({"cmd": "process_bundle", "p": "bob3", "peer_name": ALICE, "peer_device_id": 1, "bundle": bundle_to_json(&bundle)}));
    let new = peer.encrypt("bob3", (ALICE, 1), b"new session");
    assert_eq!(a1.decrypt(&addr(BOB, 3), &new).unwrap(), b"new session");
    assert_eq!(a1.decrypt(&addr(BOB, 3), &old).unwrap(), b"old session, late");
    let record = a1.session_record(&addr(BOB, 3)).unwrap().unwrap();
    assert!(record.archived_len() >= 1);
    // the late message made the old session current again; Bob still reads what Alice sends on it
    let r = a1.encrypt(&addr(BOB, 3), b"reply").unwrap();
    assert_eq!(peer.decrypt("bob3", (ALICE, 1), &r).unwrap(), b"reply");
    let _ = std::fs::remove_dir_all(&dir);
}
