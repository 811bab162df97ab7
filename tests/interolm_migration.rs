//! Migration from libsignal, live: a libsignal party (the "bridge") converses with another
//! libsignal party (its correspondent) for a while, with messages held back and delivered out
//! of order and a session restarted once; then its records (identity key pair, one-time /
//! signed / Kyber prekeys, session record with current and archived sessions, SPQR state
//! included) are exported with libsignal's own `serialize()`, imported into a caudata
//! [`Device`], and the conversation continues with caudata in the bridge's place: messages
//! still in flight both ways, new messages both ways, and a newcomer starting a session on the
//! imported prekeys. Against libsignal 0.103.0 (SPQR V1), 0.90.0 and 0.72.1.
//!
//! Also: libsignal records with bytes cut off or changed are refused without a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/libsignal_app.rs"]
mod app_peer;
mod libsignal_peer;

use std::collections::BTreeMap;

use app_peer::Rng;
use caudata::PickleError;
use caudata::interolm::spqr::{SpqrError, SpqrVersion, VersionStatus};
use caudata::interolm::{
    Device, DeviceId, IdentityKeyPair, IdentityKeyStore, InMemoryStore, InterolmMessage, KyberPreKeyRecord,
    KyberPreKeyStore, OneTimePreKeyStore, PreKeyRecord, ProtocolAddress, SessionRecord, SessionStore,
    SignedPreKeyRecord, SignedPreKeyStore,
};
use libsignal_peer::{Peer, bundle_to_json, bytes};
use serde_json::{Value, json};

const BRIDGE: &str = "11111111-2222-4333-8444-555555555555";
const PEER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const NEWCOMER: &str = "cccccccc-dddd-4eee-8fff-000000000000";

fn addr(name: &str, d: u8) -> ProtocolAddress {
    ProtocolAddress::new(name, DeviceId::new(d.into()).unwrap())
}

/// A message in flight: from the bridge (true) or the peer, the message, its plaintext.
type InFlight = (bool, InterolmMessage, Vec<u8>);

/// Imports libsignal party `p`'s records into a caudata device at `address`.
fn import(records: &Value, address: ProtocolAddress) -> Result<Device<InMemoryStore>, PickleError> {
    let identity = IdentityKeyPair::from_libsignal(&bytes(&records["identity_key_pair"]))?;
    let reg = u32::try_from(records["registration_id"].as_u64().unwrap()).unwrap();
    let mut store = InMemoryStore::new(identity, reg);
    for k in records["pre_keys"].as_array().unwrap() {
        store.store_pre_key(&PreKeyRecord::from_libsignal(&bytes(&k["record"]))?).unwrap();
    }
    for k in records["signed_pre_keys"].as_array().unwrap() {
        store.store_signed_pre_key(&SignedPreKeyRecord::from_libsignal(&bytes(&k["record"]))?).unwrap();
    }
    // the peer keeps its Kyber prekeys after use: last-resort keys
    for k in records["kyber_pre_keys"].as_array().unwrap() {
        store.store_kyber_pre_key(&KyberPreKeyRecord::from_libsignal(&bytes(&k["record"]), true)?).unwrap();
    }
    for (name, record) in records["sessions"].as_object().unwrap() {
        let (n, d) = name.rsplit_once('.').unwrap();
        let a = addr(n, d.parse().unwrap());
        store.store_session(&a, &SessionRecord::from_libsignal(&bytes(record))?).unwrap();
    }
    for (name, key) in records["identities"].as_object().unwrap() {
        let (n, d) = name.rsplit_once('.').unwrap();
        let k = bytes(key);
        store
            .save_identity(&addr(n, d.parse().unwrap()), &caudata::Curve25519PublicKey::from_slice(&k[1..]).unwrap())
            .unwrap();
    }
    let mut dev = Device::new(store, address);
    dev.allow_x3dh(true);
    Ok(dev)
}

/// One conversation, migrated after `before` steps; returns the SPQR state the bridge's current
/// session had when it was imported.
fn migrate_and_continue(peer: &mut Peer, lib: &str, seed: u64, before: usize, x3dh: bool) -> Option<&'static str> {
    let mut rng = Rng(seed);
    peer.call(json!({"cmd": "new_party", "p": "bridge", "lib": lib, "name": BRIDGE, "device_id": 1}));
    peer.call(json!({"cmd": "add_pre_keys", "p": "bridge", "first_id": 200, "count": 5}));
    peer.call(json!({"cmd": "new_party", "p": "peer", "lib": lib, "name": PEER, "device_id": 2}));
    peer.call(json!({"cmd": "add_pre_keys", "p": "peer", "first_id": 300, "count": 5}));
    let bundle_of = |peer: &mut Peer, p: &str, otk: u32| {
        let mut b = peer.call(json!({"cmd": "bundle_with", "p": p, "pre_key_id": otk, "signed_pre_key_id": 17,
            "kyber_pre_key_id": if x3dh { Value::Null } else { json!(23) }}))["bundle"]
            .clone();
        if x3dh {
            for k in ["kyber_pre_key_id", "kyber_pre_key", "kyber_pre_key_signature"] {
                b.as_object_mut().unwrap().remove(k);
            }
        }
        b
    };
    // who starts depends on the seed
    if seed.is_multiple_of(2) {
        let b = bundle_of(peer, "bridge", 200);
        peer.call(json!({"cmd": "process_bundle", "p": "peer", "peer_name": BRIDGE, "peer_device_id": 1, "bundle": b}));
    } else {
        let b = bundle_of(peer, "peer", 300);
        peer.call(json!({"cmd": "process_bundle", "p": "bridge", "peer_name": PEER, "peer_device_id": 2, "bundle": b}));
    }
    let mut flight: Vec<InFlight> = Vec::new();
    let mut counter = 0u32;
    let mut step = |peer: &mut Peer,
                    flight: &mut Vec<InFlight>,
                    rng: &mut Rng,
                    bridge: Option<&mut Device<InMemoryStore>>| {
        counter += 1;
        let pt = format!("message {counter}").into_bytes();
        let from_bridge = rng.below(2) == 0;
        let has_session = |peer: &mut Peer, p: &str, name: &str, d: u8| {
            peer.call(json!({"cmd": "has_session", "p": p, "peer_name": name, "peer_device_id": d}))["has_current_state"]
                == true
        };
        match (from_bridge, bridge) {
            (true, Some(b)) if b.has_session(&addr(PEER, 2)).unwrap() => {
                flight.push((true, b.encrypt(&addr(PEER, 2), &pt).unwrap(), pt));
            }
            (true, None) if has_session(peer, "bridge", PEER, 2) => {
                flight.push((true, peer.encrypt("bridge", (PEER, 2), &pt), pt));
            }
            (false, _) if has_session(peer, "peer", BRIDGE, 1) => {
                flight.push((false, peer.encrypt("peer", (BRIDGE, 1), &pt), pt));
            }
            _ => {}
        }
    };
    let deliver = |peer: &mut Peer,
                   flight: &mut Vec<InFlight>,
                   rng: &mut Rng,
                   bridge: Option<&mut Device<InMemoryStore>>,
                   all: bool| {
        let n = if all { flight.len() } else { rng.below(flight.len() + 1) };
        let mut bridge = bridge;
        for _ in 0..n {
            let (from_bridge, m, pt) = flight.swap_remove(rng.below(flight.len()));
            let got = if from_bridge {
                peer.decrypt("peer", (BRIDGE, 1), &m).unwrap()
            } else {
                match bridge.as_deref_mut() {
                    Some(b) => b.decrypt(&addr(PEER, 2), &m).unwrap_or_else(|e| panic!("{lib} seed {seed}: {e:?}")),
                    None => peer.decrypt("bridge", (PEER, 2), &m).unwrap(),
                }
            };
            assert_eq!(got, pt, "{lib} seed {seed}");
        }
    };
    for i in 0..before {
        step(peer, &mut flight, &mut rng, None);
        if i == before / 2 {
            // the peer restarts its session (the bridge's record then archives the old one)
            let has = peer.call(json!({"cmd": "has_session", "p": "peer", "peer_name": BRIDGE, "peer_device_id": 1}));
            if has["has_session"] == true {
                peer.call(json!({"cmd": "archive_session", "p": "peer", "peer_name": BRIDGE, "peer_device_id": 1}));
                let b = bundle_of(peer, "bridge", 201);
                peer.call(json!({"cmd": "process_bundle", "p": "peer", "peer_name": BRIDGE, "peer_device_id": 1, "bundle": b}));
            }
        }
        deliver(peer, &mut flight, &mut rng, None, false);
    }
    // Export and import; a state that cannot be carried over is retried after another step.
    let mut bridge = None;
    let mut state = None;
    for _ in 0..20 {
        let records = peer.call(json!({"cmd": "export_records", "p": "bridge"}));
        match import(&records, addr(BRIDGE, 1)) {
            Ok(d) => {
                state = d
                    .session_record(&addr(PEER, 2))
                    .unwrap()
                    .and_then(|r| r.current().map(|s| s.spqr().summary().state))
                    .flatten();
                bridge = Some(d);
                break;
            }
            Err(PickleError::Spqr(SpqrError::InvalidState(why))) if why.contains("EkReceivedCt1Sampled") => {
                step(peer, &mut flight, &mut rng, None);
                deliver(peer, &mut flight, &mut rng, None, false);
            }
            Err(e) => panic!("{lib} seed {seed}: import failed: {e:?}"),
        }
    }
    let mut bridge = bridge.expect("imported within 20 steps");
    peer.call(json!({"cmd": "drop_party", "p": "bridge"}));
    // Continue with caudata in the bridge's place.
    for _ in 0..30 {
        step(peer, &mut flight, &mut rng, Some(&mut bridge));
        deliver(peer, &mut flight, &mut rng, Some(&mut bridge), false);
    }
    deliver(peer, &mut flight, &mut rng, Some(&mut bridge), true);
    for i in 0..2u8 {
        let m = bridge.encrypt(&addr(PEER, 2), &[i; 4]).unwrap();
        assert_eq!(peer.decrypt("peer", (BRIDGE, 1), &m).unwrap(), [i; 4]);
        let m = peer.encrypt("peer", (BRIDGE, 1), &[i + 9; 4]);
        assert_eq!(bridge.decrypt(&addr(PEER, 2), &m).unwrap(), [i + 9; 4]);
    }
    if lib != "0.72.1" {
        let status = bridge.session_record(&addr(PEER, 2)).unwrap().unwrap().current().unwrap().spqr().version_status();
        assert_eq!(status, VersionStatus::Complete(SpqrVersion::V1), "{lib} seed {seed}");
    }
    // A newcomer starts a session on the imported prekeys.
    peer.call(json!({"cmd": "new_party", "p": "newcomer", "lib": lib, "name": NEWCOMER, "device_id": 1}));
    let otk = bridge.store().pre_key_ids().last().copied();
    let kyber = if x3dh { None } else { Some(23) };
    let bundle = bridge.pre_key_bundle(otk, 17, kyber).unwrap();
    peer.call(json!({"cmd": "process_bundle", "p": "newcomer", "peer_name": BRIDGE, "peer_device_id": 1, "bundle": bundle_to_json(&bundle)}));
    let m = peer.encrypt("newcomer", (BRIDGE, 1), b"hello bridge");
    assert_eq!(bridge.decrypt(&addr(NEWCOMER, 1), &m).unwrap(), b"hello bridge");
    let r = bridge.encrypt(&addr(NEWCOMER, 1), b"hello newcomer").unwrap();
    assert_eq!(peer.decrypt("newcomer", (BRIDGE, 1), &r).unwrap(), b"hello newcomer");
    for p in ["peer", "newcomer"] {
        peer.call(json!({"cmd": "drop_party", "p": p}));
    }
    state
}

#[test]
fn libsignal_0_103_0_sessions_migrate_with_their_spqr_state_and_continue() {
    let mut peer = Peer::start_app();
    let mut states: BTreeMap<&'static str, usize> = BTreeMap::new();
    let points = [1, 2, 3, 5, 8, 13, 20, 25, 33, 40, 50, 60, 70, 80, 90, 100, 110, 120, 135, 150, 165, 180, 200, 230];
    for (seed, &before) in points.iter().enumerate() {
        let seed = seed as u64;
        // migration points spread over the first SPQR epochs (an epoch takes some 90 messages)
        let s = migrate_and_continue(&mut peer, "0.103.0", 0xC0DE + seed, before, false);
        *states.entry(s.unwrap_or("none")).or_default() += 1;
    }
    eprintln!("SPQR states at import: {states:?}");
    // the Braid states the random schedules reach (seen: 8 of the 10 importable ones)
    assert!(states.len() >= 6, "{states:?}");
}

#[test]
fn libsignal_0_90_0_and_0_72_1_sessions_migrate_and_continue() {
    let mut peer = Peer::start_app();
    for (i, before) in [0usize, 7, 30].into_iter().enumerate() {
        migrate_and_continue(&mut peer, "0.90.0", 0x90 + i as u64, before, false);
        migrate_and_continue(&mut peer, "0.72.1", 0x72 + i as u64, before, false);
        migrate_and_continue(&mut peer, "0.72.1", 0x73 + i as u64, before, true);
    }
}

#[test]
fn altered_libsignal_records_are_refused_without_panic() {
    let mut peer = Peer::start_app();
    peer.call(json!({"cmd": "new_party", "p": "a", "lib": "0.103.0", "name": BRIDGE, "device_id": 1}));
    let b = peer.call(json!({"cmd": "new_party", "p": "b", "lib": "0.103.0", "name": PEER, "device_id": 2}));
    peer.call(
        json!({"cmd": "process_bundle", "p": "a", "peer_name": PEER, "peer_device_id": 2, "bundle": b["bundle"]}),
    );
    for i in 0..3u8 {
        let m = peer.encrypt("a", (PEER, 2), &[i]);
        peer.decrypt("b", (BRIDGE, 1), &m).unwrap();
        let m = peer.encrypt("b", (BRIDGE, 1), &[i]);
        peer.decrypt("a", (PEER, 2), &m).unwrap();
    }
    let r = peer.call(json!({"cmd": "export_records", "p": "a"}));
    let record = bytes(&r["sessions"][format!("{PEER}.2")]);
    let imported = SessionRecord::from_libsignal(&record).unwrap();
    assert!(imported.current().is_some());
    let ok = |b: &[u8]| SessionRecord::from_libsignal(b).is_ok();
    // every truncation is refused (a cut always breaks a field or drops a required one)
    let mut refused = 0;
    for cut in (0..record.len()).step_by(7) {
        if !ok(&record[..cut]) {
            refused += 1;
        }
    }
    assert!(refused > record.len() / 7 * 9 / 10, "{refused}");
    // single-bit changes: none panics; those in key material are refused
    let mut rng = Rng(7);
    for _ in 0..2000 {
        let mut b = record.clone();
        let i = rng.below(b.len());
        b[i] ^= 1 << rng.below(8);
        let _ = SessionRecord::from_libsignal(&b);
    }
    for (k, f) in [("identity_key_pair", 0), ("pre_keys", 1), ("signed_pre_keys", 2), ("kyber_pre_keys", 3)] {
        let v = if f == 0 { bytes(&r[k]) } else { bytes(&r[k][0]["record"]) };
        for cut in [0, 1, v.len() / 2, v.len() - 1] {
            let got = match f {
                0 => IdentityKeyPair::from_libsignal(&v[..cut]).is_ok(),
                1 => PreKeyRecord::from_libsignal(&v[..cut]).is_ok(),
                2 => SignedPreKeyRecord::from_libsignal(&v[..cut]).is_ok(),
                _ => KyberPreKeyRecord::from_libsignal(&v[..cut], true).is_ok(),
            };
            assert!(!got, "{k} cut at {cut}");
        }
    }
    // another session version (the current session's field 1 is its first field)
    let at = record.windows(2).position(|w| w == [0x08, 0x04]).unwrap();
    for v in [2u8, 5] {
        let mut b = record.clone();
        b[at + 1] = v;
        assert_eq!(
            SessionRecord::from_libsignal(&b).unwrap_err(),
            PickleError::InvalidField("session version (libsignal sessions are 3 or 4)")
        );
    }
    // a private key that is not the public key's
    let mut ikp = bytes(&r["identity_key_pair"]);
    let n = ikp.len();
    ikp[n - 5] ^= 1; // not a bit that clamping ignores
    assert!(matches!(IdentityKeyPair::from_libsignal(&ikp), Err(PickleError::KeyMismatch(_))));
}

/// The bridge starts and sends many messages before any reply, so its SPQR header encoder is
/// past the systematic chunks when it is migrated (libsignal then stores the encoder as
/// polynomials): the imported encoder's next parity chunks must rebuild the header on the peer.
#[test]
fn a_one_sided_burst_migrates_with_a_parity_encoder() {
    let mut peer = Peer::start_app();
    for lib in ["0.103.0", "0.92.2"] {
        peer.call(json!({"cmd": "new_party", "p": "bridge", "lib": lib, "name": BRIDGE, "device_id": 1}));
        let p = peer.call(json!({"cmd": "new_party", "p": "peer", "lib": lib, "name": PEER, "device_id": 2}));
        peer.call(json!({"cmd": "process_bundle", "p": "bridge", "peer_name": PEER, "peer_device_id": 2, "bundle": p["bundle"]}));
        // 8 messages, the first 5 lost: the peer sees only header chunks 5 … 7 (parity) before
        // the migration, and the rest from caudata
        let mut kept = Vec::new();
        for i in 0..8u8 {
            let m = peer.encrypt("bridge", (PEER, 2), &[i]);
            if i >= 5 {
                kept.push((m, vec![i]));
            }
        }
        let records = peer.call(json!({"cmd": "export_records", "p": "bridge"}));
        let mut bridge = import(&records, addr(BRIDGE, 1)).unwrap();
        let summary = bridge.session_record(&addr(PEER, 2)).unwrap().unwrap().current().unwrap().spqr().summary();
        assert_eq!((summary.state, summary.sending_next_index), (Some("KeysSampled"), Some(8)), "{lib}");
        peer.call(json!({"cmd": "drop_party", "p": "bridge"}));
        for i in 8..12u8 {
            kept.push((bridge.encrypt(&addr(PEER, 2), &[i]).unwrap(), vec![i]));
        }
        for (m, pt) in kept.iter().rev() {
            assert_eq!(peer.decrypt("peer", (BRIDGE, 1), m).unwrap(), *pt, "{lib}");
        }
        for i in 0..40u8 {
            let m = peer.encrypt("peer", (BRIDGE, 1), &[i]);
            assert_eq!(bridge.decrypt(&addr(PEER, 2), &m).unwrap(), [i]);
            let m = bridge.encrypt(&addr(PEER, 2), &[i]).unwrap();
            assert_eq!(peer.decrypt("peer", (BRIDGE, 1), &m).unwrap(), [i]);
        }
        let status = bridge.session_record(&addr(PEER, 2)).unwrap().unwrap().current().unwrap().spqr().version_status();
        assert_eq!(status, VersionStatus::Complete(SpqrVersion::V1));
        peer.call(json!({"cmd": "drop_party", "p": "peer"}));
    }
}
