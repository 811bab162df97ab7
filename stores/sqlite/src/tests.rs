#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caudata::interolm::{
    Device, DeviceId, IdentityKeyPair, IdentityKeyStore, InterolmMessage, KyberPreKeyStore, OneTimePreKeyStore,
    PreKeyReplayStore, PreKeyUse, ProtocolAddress, ProtocolStore, SenderKeyStore, SessionStore, SignedPreKeyStore,
    Uuid,
};
use caudata::{Curve25519PublicKey, DecryptionError, ProtocolError, StoreError};

use super::*;

const KEY: [u8; 32] = [0x11; 32];
const A: &str = "11111111-2222-4333-8444-555555555555";
const B: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

fn addr(name: &str, d: u32) -> ProtocolAddress {
    ProtocolAddress::new(name, DeviceId::new(d).unwrap())
}

fn device(path: &Path, name: &str, d: u32, reg: u32) -> Device<SqliteStore> {
    let s = SqliteStore::open(path, &KEY).unwrap();
    if s.identity_key_pair().is_err() {
        s.set_local_identity(&IdentityKeyPair::generate(), reg).unwrap();
    }
    Device::new(s, addr(name, d))
}

#[test]
fn a_conversation_survives_closing_and_reopening_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let (aa, ba) = (addr(A, 1), addr(B, 2));
    {
        let mut bob = device(&pb, B, 2, 2);
        bob.generate_signed_pre_key(5, 1_000).unwrap();
        bob.generate_pre_keys(40, 2).unwrap();
        bob.generate_kyber_pre_key(6, 1_000, true).unwrap();
        let bundle = bob.pre_key_bundle(Some(40), 5, Some(6)).unwrap();
        let mut alice = device(&pa, A, 1, 1);
        alice.process_pre_key_bundle(&ba, &bundle).unwrap();
    }
    for round in 0..4u8 {
        let mut alice = device(&pa, A, 1, 1);
        let mut bob = device(&pb, B, 2, 2);
        let m = alice.encrypt(&ba, &[round; 3]).unwrap();
        assert_eq!(matches!(m, InterolmMessage::PreKey(_)), round == 0);
        assert_eq!(bob.decrypt(&aa, &m).unwrap(), [round; 3]);
        let r = bob.encrypt(&aa, &[round + 100; 2]).unwrap();
        assert_eq!(alice.decrypt(&ba, &r).unwrap(), [round + 100; 2]);
    }
    let bob = SqliteStore::open(&pb, &KEY).unwrap();
    // the one-time prekey is gone, the other stays; the last-resort Kyber prekey stays, and its
    // use is remembered only if no one-time prekey was spent (here one was)
    assert!(bob.load_pre_key(40).unwrap().is_none());
    assert!(bob.load_pre_key(41).unwrap().is_some());
    assert_eq!(bob.kyber_pre_key_ids().unwrap(), vec![6]);
    assert_eq!(bob.pre_key_uses().unwrap(), 0);
    assert_eq!(bob.session_addresses().unwrap(), vec![aa]);
    // the wrong pickle key reads nothing
    let wrong = SqliteStore::open(&pb, &[0x22; 32]).unwrap();
    assert!(matches!(wrong.identity_key_pair(), Err(StoreError::Pickle(caudata::PickleError::Authentication))));
}

#[test]
fn a_failed_decrypt_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let (aa, ba) = (addr(A, 1), addr(B, 2));
    let mut bob = device(&pb, B, 2, 2);
    bob.generate_signed_pre_key(5, 1_000).unwrap();
    bob.generate_kyber_pre_key(6, 1_000, true).unwrap();
    let bundle = bob.pre_key_bundle(None, 5, Some(6)).unwrap();
    let mut alice = device(&pa, A, 1, 1);
    alice.process_pre_key_bundle(&ba, &bundle).unwrap();
    let m = alice.encrypt(&ba, b"hi").unwrap();
    let dump = |p: &Path| {
        let c = Connection::open(p).unwrap();
        let mut out = Vec::new();
        for t in ["meta", "identities", "sessions", "pre_keys", "signed_pre_keys", "kyber_pre_keys", "pre_key_uses"] {
            let mut st = c.prepare(&format!("SELECT * FROM {t}")).unwrap();
            let n = st.column_count();
            let rows: Vec<Vec<String>> = st
                .query_map([], |r| Ok((0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect()))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            out.push(rows);
        }
        out
    };
    let before = dump(&pb);
    // the wrong sender address: the addresses field names Alice's device 1
    let err = bob.decrypt(&addr(A, 3), &m).unwrap_err();
    assert!(
        matches!(
            err,
            ProtocolError::SessionCreation(caudata::SessionCreationError::Decryption(DecryptionError::AddressMismatch))
        ),
        "{err:?}"
    );
    // a corrupted message
    let (t, mut body) = m.to_parts();
    let n = body.len();
    body[n - 20] ^= 1;
    assert!(bob.decrypt(&aa, &InterolmMessage::from_parts(t, &body).unwrap()).is_err());
    assert_eq!(dump(&pb), before);
    // the real one, then its replay (no one-time prekey: the use is remembered)
    assert_eq!(bob.decrypt(&aa, &m).unwrap(), b"hi");
    assert_eq!(bob.store().pre_key_uses().unwrap(), 1);
    let after = dump(&pb);
    assert!(matches!(bob.decrypt(&aa, &m), Err(ProtocolError::Decryption(DecryptionError::MissingMessageKey { .. }))));
    // with the session gone (say, the record was lost), the replay memory refuses it
    bob.store_mut().store_session(&aa, &SessionRecord::new()).unwrap();
    assert!(matches!(
        bob.decrypt(&aa, &m),
        Err(ProtocolError::SessionCreation(caudata::SessionCreationError::ReplayedPreKeyMessage))
    ));
    drop(after);
}

#[test]
fn transactions_roll_back_and_the_replay_memory_is_bounded() {
    let mut s = SqliteStore::open_in_memory(&KEY).unwrap();
    s.set_local_identity(&IdentityKeyPair::generate(), 9).unwrap();
    let a = addr(A, 1);
    s.begin().unwrap();
    s.save_identity(&a, &Curve25519PublicKey::from_bytes([9; 32])).unwrap();
    s.rollback();
    assert_eq!(s.identity(&a).unwrap(), None);
    s.set_max_pre_key_uses(3);
    let u = |i: u8| PreKeyUse {
        signed_pre_key_id: 1,
        kyber_pre_key_id: Some(2),
        base_key: Curve25519PublicKey::from_bytes([i; 32]),
    };
    for i in 0..5 {
        s.remember_pre_key_use(&u(i)).unwrap();
    }
    assert_eq!(s.pre_key_uses().unwrap(), 3);
    assert!(!s.contains_pre_key_use(&u(1)).unwrap());
    assert!(s.contains_pre_key_use(&u(4)).unwrap());
    assert!(!s.contains_pre_key_use(&PreKeyUse { kyber_pre_key_id: None, ..u(4) }).unwrap());
    s.remove_signed_pre_key(1).unwrap();
    assert_eq!(s.pre_key_uses().unwrap(), 0);
    // sender keys are sealed pickles of any type
    let d = Uuid::from_bytes([7; 16]);
    let plain = IdentityKeyPair::generate().pickle().to_unencrypted_bytes();
    s.store_sender_key(&a, &d, &plain).unwrap();
    assert_eq!(*s.load_sender_key(&a, &d).unwrap().unwrap(), *plain);
    assert!(s.load_sender_key(&addr(A, 2), &d).unwrap().is_none());
    assert!(s.store_sender_key(&a, &d, b"not a pickle").is_err());
}
