//! Zeroization evidence: a global allocator that scans every block as it is freed (for the
//! protocol objects, and for pickling and unpickling in every format). Secrets are
//! drawn from a recognisable pattern; after the objects that held them drop, no freed heap block
//! may still contain the pattern. A control (a plain `Vec` holding the pattern) must be caught,
//! which shows the scan works. (Stack copies are outside what this can see; caudata keeps
//! secrets boxed so that moves copy only pointers.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![allow(unsafe_code)] // the scanning allocator; the library itself forbids unsafe code

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig};
use caudata::olm::{Account, Session, SessionConfig};
use caudata::pickle::{AccountPickle, GroupSessionPickle, InboundGroupSessionPickle, SessionPickle};
use caudata::primitives::RandomSource;

const BYTE: u8 = 0x5A;
const RUN: usize = 24;
const KEY: [u8; 32] = [7; 32];

static SCANNING: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);
/// The scan is process-wide: the tests in this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct ScanningAllocator;

fn contains_pattern(block: &[u8]) -> bool {
    let mut run = 0;
    for &b in block {
        run = if b == BYTE { run + 1 } else { 0 };
        if run >= RUN {
            return true;
        }
    }
    false
}

unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if SCANNING.load(Ordering::Relaxed) {
            // SAFETY: the block is still allocated and `layout.size()` bytes long.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if contains_pattern(block) {
                FOUND.fetch_add(1, Ordering::Relaxed);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: ScanningAllocator = ScanningAllocator;

/// Randomness that is all `BYTE`, written straight into the library's buffers (no copy of ours
/// on the heap).
struct Pattern;
impl RandomSource for Pattern {
    fn fill(&mut self, dest: &mut [u8]) {
        dest.fill(BYTE);
    }
}

fn found_after(f: impl FnOnce()) -> usize {
    FOUND.store(0, Ordering::SeqCst);
    SCANNING.store(true, Ordering::SeqCst);
    f();
    SCANNING.store(false, Ordering::SeqCst);
    FOUND.load(Ordering::SeqCst)
}

#[test]
fn secrets_are_wiped_when_objects_drop() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // control: an unwiped heap buffer with the pattern is seen
    let control = found_after(|| {
        let v = std::hint::black_box(vec![BYTE; 64]);
        drop(v);
    });
    assert_eq!(control, 1, "the scan must see an unwiped buffer");

    // Olm: account keys (Ed25519 seed, Curve25519 identity, one-time and fallback keys), session
    // keys (base key, ratchet keys) all come from the pattern.
    let olm = found_after(|| {
        let alice = Account::new_with_rng(&mut Pattern);
        let mut bob = Account::new_with_rng(&mut Pattern);
        bob.generate_one_time_keys_with_rng(3, &mut Pattern);
        bob.generate_fallback_key_with_rng(&mut Pattern);
        let otk = *bob.one_time_keys().values().next().unwrap();
        let session =
            alice.create_outbound_session_with_rng(SessionConfig::version_1(), bob.curve25519_key(), otk, &mut Pattern);
        // the identity and one-time keys are equal here (same pattern), so DH is contributory but
        // the session is only for the memory test
        if let Ok(mut s) = session {
            let _ = s.encrypt_with_rng(b"plaintext", &mut Pattern);
            drop(s);
        }
        drop(alice);
        drop(bob);
    });
    assert_eq!(olm, 0, "an Olm secret survived in a freed heap block");

    // Megolm: the 128-byte ratchet and the Ed25519 seed come from the pattern; an inbound
    // session copies the ratchet.
    let megolm = found_after(|| {
        let out = GroupSession::new_with_rng(MegolmConfig::version_1(), &mut Pattern);
        let key = out.session_key();
        let inbound = InboundGroupSession::new(&key, MegolmConfig::version_1());
        let exported = inbound.export_at_first_known_index();
        let text = exported.to_base64();
        drop(text);
        drop(exported);
        drop(inbound);
        drop(key);
        drop(out);
    });
    assert_eq!(megolm, 0, "a Megolm secret survived in a freed heap block");
}

/// vodozemac's pickle cipher (libolm's), for hand-made vodozemac JSON.
fn libolm_encrypt(raw: &[u8], key: &[u8]) -> String {
    use base64ct::{Base64Unpadded, Encoding};
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    use hmac::{Hmac, KeyInit, Mac};
    let mut okm = [0u8; 80];
    hkdf::Hkdf::<sha2::Sha256>::new(None, key).expand(b"Pickle", &mut okm).unwrap();
    let aes_key: [u8; 32] = okm[..32].try_into().unwrap();
    let iv: [u8; 16] = okm[64..].try_into().unwrap();
    let mut ct = cbc::Encryptor::<aes::Aes256>::new((&aes_key).into(), (&iv).into()).encrypt_padded_vec::<Pkcs7>(raw);
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&okm[32..64]).unwrap();
    mac.update(&ct);
    ct.extend_from_slice(&mac.finalize().into_bytes()[..8]);
    Base64Unpadded::encode_string(&ct)
}

fn pattern_array(n: usize) -> String {
    format!("[{}]", vec![BYTE.to_string(); n].join(","))
}

#[test]
fn pickling_leaves_no_secret_in_freed_memory() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let control = found_after(|| drop(std::hint::black_box(vec![BYTE; 64])));
    assert_eq!(control, 1, "the scan must see an unwiped buffer");

    // objects whose secrets all come from the pattern, built outside the scan
    let mut bob = Account::new_with_rng(&mut Pattern);
    bob.generate_one_time_keys_with_rng(3, &mut Pattern);
    bob.generate_fallback_key_with_rng(&mut Pattern);
    let alice = Account::new_with_rng(&mut Pattern);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut session = alice
        .create_outbound_session_with_rng(SessionConfig::version_1(), bob.curve25519_key(), otk, &mut Pattern)
        .unwrap();
    let _ = session.encrypt_with_rng(b"x", &mut Pattern);
    let group = GroupSession::new_with_rng(MegolmConfig::version_1(), &mut Pattern);
    let inbound = InboundGroupSession::new(&group.session_key(), MegolmConfig::version_1());
    // vodozemac-format JSON with pattern keys, encrypted outside the scan
    let vz_account = libolm_encrypt(
        format!(
            r#"{{"signing_key":{{"Normal":{k}}},"diffie_hellman_key":{k},"one_time_keys":{{"next_key_id":1,"public_keys":{{}},"private_keys":{{"0":{k}}}}},"fallback_keys":{{"key_id":0,"fallback_key":null,"previous_fallback_key":null}}}}"#,
            k = pattern_array(32)
        )
        .as_bytes(),
        &KEY,
    );
    let vz_group = libolm_encrypt(
        format!(
            r#"{{"ratchet":{{"inner":{r},"counter":0}},"signing_key":{{"Expanded":{e}}}}}"#,
            r = pattern_array(128),
            e = pattern_array(64)
        )
        .as_bytes(),
        &KEY,
    );

    let found = found_after(|| {
        // own format, encrypted and unencrypted, all four objects
        let a = Account::from_pickle(AccountPickle::from_encrypted(&bob.pickle().encrypt(&KEY), &KEY).unwrap());
        let plain = a.pickle().to_unencrypted_bytes();
        drop(Account::from_pickle(AccountPickle::from_unencrypted_bytes(&plain).unwrap()));
        drop(plain);
        drop(a);
        let s = Session::from_pickle(SessionPickle::from_encrypted(&session.pickle().encrypt(&KEY), &KEY).unwrap());
        drop(Session::from_pickle(SessionPickle::from_unencrypted_bytes(&s.pickle().to_unencrypted_bytes()).unwrap()));
        drop(s);
        let g =
            GroupSession::from_pickle(GroupSessionPickle::from_encrypted(&group.pickle().encrypt(&KEY), &KEY).unwrap());
        drop(g);
        let i = InboundGroupSession::from_pickle(
            InboundGroupSessionPickle::from_unencrypted_bytes(&inbound.pickle().to_unencrypted_bytes()).unwrap(),
        );
        drop(i);
        // libolm export and import, all four objects
        drop(Account::from_libolm_pickle(&bob.to_libolm_pickle(b"k").unwrap(), b"k").unwrap());
        drop(Session::from_libolm_pickle(&session.to_libolm_pickle(b"k").unwrap(), b"k").unwrap());
        drop(GroupSession::from_libolm_pickle(&group.to_libolm_pickle(b"k").unwrap(), b"k").unwrap());
        drop(InboundGroupSession::from_libolm_pickle(&inbound.to_libolm_pickle(b"k").unwrap(), b"k").unwrap());
        // vodozemac import
        drop(Account::from_vodozemac_pickle(&vz_account, &KEY).unwrap());
        drop(GroupSession::from_vodozemac_pickle(&vz_group, &KEY).unwrap());
        // failures part-way (wrong key, damaged body) wipe what they decrypted too
        let _ = Account::from_libolm_pickle(&bob.to_libolm_pickle(b"k").unwrap()[..200], b"k");
        let mut damaged = bob.pickle().to_unencrypted_bytes().to_vec();
        damaged.truncate(damaged.len() - 1);
        let _ = AccountPickle::from_unencrypted_bytes(&damaged);
        damaged.fill(0);
    });
    assert_eq!(found, 0, "a secret survived pickling in a freed heap block");
    drop((bob, alice, session, group, inbound));
}

/// interolm store records (identity, one-time / signed / Kyber prekeys), their pickles in both
/// forms, the in-memory store and a session record holding a session made from them.
#[test]
fn interolm_store_records_and_their_pickles_are_wiped() {
    use caudata::interolm::{
        Account, IdentityKeyPair, InMemoryStore, KyberPreKeyRecord, OneTimePreKeyStore, PreKeyRecord, SessionRecord,
        SignedPreKeyRecord, SignedPreKeyStore,
    };
    use caudata::pickle::{InterolmIdentityKeyPairPickle, InterolmPreKeyPickle, InterolmSessionRecordPickle};
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let found = found_after(|| {
        let identity = IdentityKeyPair::generate_with_rng(&mut Pattern);
        let pre_key = PreKeyRecord::generate_with_rng(1, &mut Pattern);
        let signed = SignedPreKeyRecord::generate_with_rng(2, 3, &identity, &mut Pattern);
        let kyber = KyberPreKeyRecord::generate_with_rng(4, 5, &identity, true, &mut Pattern);
        let sealed = identity.pickle().encrypt(&KEY);
        let back = IdentityKeyPair::from_pickle(InterolmIdentityKeyPairPickle::from_encrypted(&sealed, &KEY).unwrap());
        let plain = pre_key.pickle().to_unencrypted_bytes();
        let pk = PreKeyRecord::from_pickle(InterolmPreKeyPickle::from_unencrypted_bytes(&plain).unwrap());
        let _ = kyber.pickle().encrypt(&KEY);
        let mut store = InMemoryStore::new(back, 1);
        store.store_pre_key(&pk).unwrap();
        store.store_signed_pre_key(&signed).unwrap();
        let mut bob = Account::new_with_rng(&mut Pattern);
        bob.generate_signed_pre_key_with_rng(&mut Pattern);
        let mut alice = Account::new_with_rng(&mut Pattern);
        alice.allow_x3dh(true);
        let made = alice.create_outbound_session_with_rng(&bob.pre_key_bundle(1).unwrap(), &mut Pattern);
        assert!(made.is_ok(), "the session record part must run");
        if let Ok(s) = made {
            let record = SessionRecord::from(s);
            let p = record.pickle().encrypt(&KEY);
            drop(SessionRecord::from_pickle(InterolmSessionRecordPickle::from_encrypted(&p, &KEY).unwrap()));
            drop(record);
        }
        drop((identity, pre_key, signed, kyber, store, plain, bob, alice));
    });
    assert_eq!(found, 0, "an interolm store secret survived in a freed heap block");
}

/// SAS, key backup (PK encryption, the libolm `PkDecryption` pickle) and secret-key import and
/// export: every secret key below comes from the pattern, and none of it may survive in a freed
/// heap block, including the decode buffers of base64 seeds and pickles.
#[test]
fn sas_pk_and_key_import_leave_no_secret_in_freed_memory() {
    use caudata::pk_encryption::{Message, PkDecryption, PkEncryption};
    use caudata::sas::Sas;
    use caudata::{Curve25519SecretKey, Ed25519Keypair, Ed25519SecretKey};

    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let control = found_after(|| drop(std::hint::black_box(vec![BYTE; 64])));
    assert_eq!(control, 1, "the scan must see an unwiped buffer");

    let seed_text = Ed25519SecretKey::from_bytes(&[BYTE; 32]).to_base64().unwrap().to_string();
    let found = found_after(|| {
        // SAS: both ephemeral keys from the pattern
        let alice = Sas::new_with_rng(&mut Pattern);
        let bob = Sas::new_with_rng(&mut Pattern);
        let (ak, bk) = (alice.public_key(), bob.public_key());
        let alice = alice.diffie_hellman(bk).unwrap();
        let failed = Sas::new_with_rng(&mut Pattern).diffie_hellman(caudata::Curve25519PublicKey::from_bytes([0; 32]));
        assert!(failed.is_err());
        let bob = bob.diffie_hellman(ak).unwrap();
        let _ = (alice.bytes("i"), alice.bytes_raw("i", 100).unwrap());
        let mac = alice.calculate_mac("input", "info");
        bob.verify_mac("input", "info", &mac).unwrap();
        bob.verify_mac_invalid_base64("input", "info", &alice.calculate_mac_invalid_base64("input", "info")).unwrap();
        bob.verify_mac_long_kdf("input", "info", &alice.calculate_mac_long_kdf("input", "info")).unwrap();
        drop((alice, bob));

        // PK: the recipient key and the ephemeral key from the pattern; a round trip through
        // base64, a failed decrypt, and the libolm pickle both ways
        let dec = PkDecryption::new_with_rng(&mut Pattern);
        let enc = PkEncryption::from(&dec);
        let m = enc.encrypt_with_rng(b"room key", &mut Pattern);
        let (ct, mac, eph) = m.to_base64_parts();
        let received = Message::from_base64(&ct, &mac, &eph).unwrap();
        assert_eq!(dec.decrypt(&received).unwrap(), b"room key");
        let _ = dec.decrypt(&Message { mac: vec![0; 8], ..received });
        let pickle = dec.to_libolm_pickle(b"k");
        drop(PkDecryption::from_libolm_pickle(&pickle, b"k").unwrap());
        let _ = PkDecryption::from_libolm_pickle(&pickle, b"wrong");
        drop((dec, m));

        // secret keys from bytes, seeds and base64
        drop(Curve25519SecretKey::from_bytes(&[BYTE; 32]));
        drop(Curve25519SecretKey::from_slice(&[BYTE; 32]).unwrap());
        let seeded = Ed25519SecretKey::from_base64(&seed_text).unwrap();
        drop(seeded.to_base64());
        drop(Ed25519Keypair::from(seeded));
        drop(Ed25519SecretKey::from_slice(&[BYTE; 32]).unwrap());
        drop(Ed25519Keypair::new_with_rng(&mut Pattern));
    });
    assert_eq!(found, 0, "a SAS, PK or imported secret survived in a freed heap block");
}

/// The QR-login channels (ECIES, HPKE) and dehydrated devices (v2 and legacy): every ephemeral
/// and identity secret, the dehydration key and the one-time keys come from the pattern; after
/// the objects drop, no freed heap block holds it. (The derived channel keys are not the
/// pattern; they live in the same zeroizing `SecretBytes` as the secrets that are.)
#[test]
fn qr_login_and_dehydration_leave_no_secret_in_freed_memory() {
    use caudata::ecies::Ecies;
    use caudata::hpke::{HpkeRecipientChannel, HpkeSenderChannel};
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let control = found_after(|| drop(std::hint::black_box(vec![BYTE; 64])));
    assert_eq!(control, 1, "the scan must see an unwiped buffer");

    let found = found_after(|| {
        // ECIES, both roles, messages both ways, a failed decryption
        let g = Ecies::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut Pattern);
        let s = Ecies::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut Pattern);
        let out = s.establish_outbound_channel(g.public_key(), b"initiate").unwrap();
        let inb = g.establish_inbound_channel(&out.message).unwrap();
        let (mut s, mut g) = (out.ecies, inb.ecies);
        let m = g.encrypt(b"ok").unwrap();
        assert!(s.decrypt(&caudata::ecies::Message { ciphertext: vec![1; 20] }).is_err());
        drop(s.decrypt(&m).unwrap());
        drop((s, g, m));

        // HPKE, both roles, a message each way
        let g = HpkeRecipientChannel::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut Pattern);
        let sent =
            HpkeSenderChannel::new().establish_channel_with_rng(g.public_key(), b"hi", b"", &mut Pattern).unwrap();
        let g = g.establish_channel(&sent.message, b"").unwrap().channel;
        let answered = g.establish_bidirectional_channel_with_rng(b"ok", b"", &mut Pattern).unwrap();
        let mut s = sent.channel.establish_bidirectional_channel(&answered.message, b"").unwrap().channel;
        let mut g = answered.channel;
        let m = s.seal(b"to G", b"").unwrap();
        drop(g.open(&m, b"").unwrap());
        let m = g.seal(b"to S", b"").unwrap();
        assert!(s.open(&caudata::hpke::Message { ciphertext: vec![2; 20] }, b"").is_err());
        drop(s.open(&m, b"").unwrap());
        drop((s, g, m));

        // dehydrated devices: the key, the identity, one-time and fallback keys are the pattern
        let key = [BYTE; 32];
        let mut a = Account::new_with_rng(&mut Pattern);
        a.generate_one_time_keys_with_rng(3, &mut Pattern);
        a.generate_fallback_key_with_rng(&mut Pattern);
        let d = a.to_dehydrated_device_with_rng(&key, &mut Pattern).unwrap();
        let back = Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &key).unwrap();
        assert!(Account::from_dehydrated_device(&d.ciphertext, &d.nonce, &[0; 32]).is_err());
        let legacy = back.to_legacy_dehydrated_device("DEVICE", &key).unwrap();
        drop(Account::from_legacy_dehydrated_device(&legacy, "DEVICE", &key).unwrap());
        drop((a, back, d, legacy));
    });
    assert_eq!(found, 0, "a QR-login or dehydration secret survived in a freed heap block");
}
