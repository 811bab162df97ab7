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
const WORDS: usize = 12;
const KEY: [u8; 32] = [7; 32];

static SCANNING: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);
/// The scan is process-wide: the tests in this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct ScanningAllocator;

/// A freed block holds a secret if it has a run of [`RUN`] pattern bytes, or at least
/// [`WORDS`] aligned 64-bit words equal to the pattern byte: secret bytes held one per integer,
/// as a JSON reader's numbers are (the vodozemac pickle import).
fn contains_pattern(block: &[u8]) -> bool {
    let mut run = 0;
    for &b in block {
        run = if b == BYTE { run + 1 } else { 0 };
        if run >= RUN {
            return true;
        }
    }
    let word = u64::from(BYTE).to_ne_bytes();
    block.chunks_exact(8).filter(|w| *w == word).count() >= WORDS
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
        // Every freed block is cleared, so that a block handed out again cannot bring an
        // earlier owner's pattern bytes into a later scan (what a scan finds was written while
        // the block was in use).
        // SAFETY: the block is still allocated and `layout.size()` bytes long.
        unsafe { core::ptr::write_bytes(ptr, 0, layout.size()) };
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

/// The pattern with a counter in the last 4 bytes of every 32: keys from it still hold runs of
/// 28 pattern bytes, but are all different (a conversation needs fresh ratchet keys).
struct PatternCounter(u32);
impl RandomSource for PatternCounter {
    fn fill(&mut self, dest: &mut [u8]) {
        dest.fill(BYTE);
        for chunk in dest.chunks_mut(32) {
            if chunk.len() == 32 {
                self.0 += 1;
                chunk[28..].copy_from_slice(&self.0.to_le_bytes());
            }
        }
    }
}

fn found_after(f: impl FnOnce()) -> usize {
    /// Stops the scan even if `f` panics, so that a failed test cannot make the next one scan
    /// frees it does not own.
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            SCANNING.store(false, Ordering::SeqCst);
        }
    }
    FOUND.store(0, Ordering::SeqCst);
    SCANNING.store(true, Ordering::SeqCst);
    let stop = Stop;
    f();
    drop(stop);
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
    let control = found_after(|| drop(std::hint::black_box(vec![u64::from(BYTE); 16])));
    assert_eq!(control, 1, "the scan must see secret bytes held one per integer");

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
        // vodozemac export: the encrypted strings, the snapshots, serde through the snapshots
        // (written from borrowed views of the objects: nothing secret is copied to be freed)
        drop(bob.to_vodozemac_pickle(&KEY));
        drop(session.to_vodozemac_pickle(&KEY));
        drop(bob.vodozemac_pickle().encrypt(&KEY));
        drop(session.vodozemac_pickle().encrypt(&KEY));
        drop(serde_json::to_vec(&bob.vodozemac_pickle()).unwrap());
        drop(serde_json::to_vec(&session.vodozemac_pickle()).unwrap());
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

// ---------------------------------------------------------------- the stack

/// How much stack below the scanning frame is cleared before, and scanned after, an operation.
const STACK_PROBE: usize = 256 * 1024;

/// Overwrites the stack region that the next call from the same frame will use.
#[inline(never)]
fn clear_stack() {
    let mut region = core::mem::MaybeUninit::<[u8; STACK_PROBE]>::uninit();
    let p = region.as_mut_ptr().cast::<u8>();
    for i in 0..STACK_PROBE {
        // SAFETY: `p` points to STACK_PROBE bytes of this frame.
        unsafe { core::ptr::write_volatile(p.add(i), 0) };
    }
    std::hint::black_box(&mut region);
}

/// Whether the stack region that the previous call from the same frame used still holds
/// `needle`. It reads memory this function never wrote (what the earlier calls left there),
/// with volatile reads of uninitialised bytes: outside Rust's abstract machine, which is the
/// point (this is a test of what the machine leaves behind).
#[inline(never)]
fn stack_holds(needle: &[u8]) -> bool {
    let region = core::mem::MaybeUninit::<[u8; STACK_PROBE]>::uninit();
    let p = region.as_ptr().cast::<u8>();
    // SAFETY: `p` points to STACK_PROBE bytes of this frame; they are read, never written.
    let mut bytes: Vec<u8> = (0..STACK_PROBE).map(|i| unsafe { core::ptr::read_volatile(p.add(i)) }).collect();
    std::hint::black_box(&region);
    let found = bytes.windows(needle.len()).any(|w| w == needle);
    // what was copied may be secret, and must not show up in a heap scan of another test
    bytes.fill(0);
    std::hint::black_box(&bytes);
    found
}

/// Runs `op` in a frame of its own, 4 KiB below the caller's (so that the scan's own few
/// locals, at the top of its frame, cannot cover what `op` left behind).
#[inline(never)]
fn run_apart(op: impl FnOnce()) {
    let pad = std::hint::black_box([0u8; 4096]);
    op();
    std::hint::black_box(&pad);
}

/// Clears the stack, runs `op`, and reports whether `needle` is left on the stack it used.
/// (The needle itself must be on the heap or above this frame.)
#[inline(never)]
fn left_on_stack(needle: &[u8], op: impl FnOnce()) -> bool {
    clear_stack();
    run_apart(op);
    stack_holds(needle)
}

#[test]
fn the_stack_scan_sees_a_copy_left_behind() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let secret = Box::new([0x77u8; 64]);
    assert!(left_on_stack(&[0x77; 48], || {
        let mut copy = std::hint::black_box([0u8; 64]);
        copy.copy_from_slice(std::hint::black_box(&secret[..]));
        std::hint::black_box(&copy);
    }));
    assert!(!left_on_stack(&[0x77; 48], || {
        std::hint::black_box(&secret);
    }));
}

/// Issue 14, low: the `aes` crate ran without its `zeroize` feature, and `cbc` moves the cipher
/// by value, so the round keys of every message key (which begin with the AES key) stayed on
/// the stack. Now the feature is on and the stack the cipher used is overwritten. Checked for
/// Megolm's encryption and decryption (message keys from a known ratchet), libolm's pickle
/// cipher (keys from a known pickle key), and the primitive itself.
#[test]
fn aes_keys_leave_no_copy_on_the_stack() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut okm = Box::new([0u8; 80]);
    hkdf::Hkdf::<sha2::Sha256>::new(None, &[BYTE; 128]).expand(b"MEGOLM_KEYS", &mut okm[..]).unwrap();
    let megolm_key = okm[..32].to_vec();
    let mut out = GroupSession::new_with_rng(MegolmConfig::version_1(), &mut Pattern);
    let mut inbound = InboundGroupSession::new(&out.session_key(), MegolmConfig::version_1());
    let message = out.encrypt(b"message 0");
    let mut out = GroupSession::new_with_rng(MegolmConfig::version_1(), &mut Pattern);
    assert!(!left_on_stack(&megolm_key, || drop(std::hint::black_box(out.encrypt(b"message 0")))), "Megolm encrypt");
    assert!(!left_on_stack(&megolm_key, || drop(inbound.decrypt(&message).unwrap())), "Megolm decrypt");

    hkdf::Hkdf::<sha2::Sha256>::new(None, b"pickle key").expand(b"Pickle", &mut okm[..]).unwrap();
    let pickle_key = okm[..32].to_vec();
    let account = Account::new();
    let pickle = account.to_libolm_pickle(b"pickle key").unwrap();
    assert!(!left_on_stack(&pickle_key, || drop(account.to_libolm_pickle(b"pickle key").unwrap())), "libolm export");
    assert!(
        !left_on_stack(&pickle_key, || drop(Account::from_libolm_pickle(&pickle, b"pickle key").unwrap())),
        "libolm import"
    );

    let key: Box<[u8; 32]> = Box::new(core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11)));
    let iv = Box::new([1u8; 16]);
    let ct = caudata::hazmat::aes256_cbc_encrypt(&key, &iv, b"plaintext");
    assert!(!left_on_stack(&key[..], || drop(caudata::hazmat::aes256_cbc_encrypt(&key, &iv, b"plaintext"))));
    assert!(!left_on_stack(&key[..], || drop(caudata::hazmat::aes256_cbc_decrypt(&key, &iv, &ct))));
}

/// Issue 14, low: Kyber1024 and ML-KEM-768 secret keys were built on the stack before being
/// boxed (parsing a stored key copied it into a local array; libcrux returns a generated key
/// pair by value), and the copies were never wiped. Now stored keys are copied from box to box
/// and the stack libcrux used is overwritten after each operation. Checked with a window of the
/// secret polynomial part of each key (`sk_pke`, `dk_pke`), which nothing else holds.
#[test]
fn kem_secret_keys_leave_no_copy_on_the_stack() {
    use caudata::interolm::Kyber1024SecretKey;
    use caudata::interolm::spqr::SpqrState;
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let kyber = Kyber1024SecretKey::generate(&mut Pattern).to_bytes().to_vec();
    let needle = kyber[1 + 100..1 + 164].to_vec();
    assert!(
        !left_on_stack(&needle, || drop(std::hint::black_box(Kyber1024SecretKey::generate(&mut Pattern)))),
        "Kyber generate"
    );
    assert!(!left_on_stack(&needle, || drop(Kyber1024SecretKey::from_bytes(&kyber).unwrap())), "Kyber from_bytes");
    let sk = Kyber1024SecretKey::from_bytes(&kyber).unwrap();
    assert!(!left_on_stack(&needle, || drop(std::hint::black_box(sk.clone()))), "Kyber clone");
    let (ct, _) = sk.public_key().encapsulate(&mut Pattern);
    assert!(!left_on_stack(&needle, || drop(sk.decapsulate(&ct))), "Kyber decapsulate");

    // ML-KEM-768: the SPQR initiator's first send generates its decapsulation key; the state's
    // bytes hold it at offset 118 (format, version, flags, negotiation 42, tag, epoch, two keys).
    let mut state = SpqrState::new_initiator(&[3; 32]);
    state.send(&mut Pattern).unwrap();
    let bytes = state.to_bytes().to_vec();
    let needle = bytes[118 + 100..118 + 164].to_vec();
    assert!(
        !left_on_stack(&needle, || {
            let mut s = SpqrState::new_initiator(&[3; 32]);
            drop(std::hint::black_box(s.send(&mut Pattern).unwrap()));
        }),
        "ML-KEM generate"
    );
    assert!(!left_on_stack(&needle, || drop(SpqrState::from_bytes(&bytes).unwrap())), "ML-KEM from_bytes");
}

/// Issue 14, low: the vodozemac pickle import kept the JSON numbers (the secret bytes) in a
/// growing `Vec`, whose growth freed the old buffers without wiping them. Now no buffer of the
/// reader grows. Every object, and an import that fails after the secret arrays were read.
#[test]
fn vodozemac_import_leaves_no_secret_number_in_freed_memory() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let k = pattern_array(32);
    let account = format!(
        r#"{{"signing_key":{{"Expanded":{e}}},"diffie_hellman_key":{k},"one_time_keys":{{"next_key_id":2,"public_keys":{{}},"private_keys":{{"0":{k},"1":{k}}}}},"fallback_keys":{{"key_id":0,"fallback_key":null,"previous_fallback_key":null}}}}"#,
        e = pattern_array(64)
    );
    let group =
        format!(r#"{{"ratchet":{{"inner":{r},"counter":0}},"signing_key":{{"Normal":{k}}}}}"#, r = pattern_array(128));
    let inbound = format!(
        r#"{{"initial_ratchet":{{"inner":{r},"counter":0}},"signing_key":{p},"signing_key_verified":true}}"#,
        r = pattern_array(128),
        p = serde_json::to_string(&GroupSession::new(MegolmConfig::version_1()).session_key().to_bytes()[133..165])
            .unwrap()
    );
    let pickles: Vec<String> = [account.clone(), group.clone(), inbound.clone(), format!("{account} trailing")]
        .iter()
        .map(|j| libolm_encrypt(j.as_bytes(), &KEY))
        .collect();
    let found = found_after(|| {
        drop(Account::from_vodozemac_pickle(&pickles[0], &KEY).unwrap());
        drop(GroupSession::from_vodozemac_pickle(&pickles[1], &KEY).unwrap());
        drop(InboundGroupSession::from_vodozemac_pickle(&pickles[2], &KEY).unwrap());
        assert!(Account::from_vodozemac_pickle(&pickles[3], &KEY).is_err());
    });
    assert_eq!(found, 0, "a secret survived the vodozemac import in a freed heap block");
}

/// Issue 14, low: decoding a base64 session key that fails part-way (a bad last character)
/// freed the partly decoded secret without wiping it. Now the buffer is wiped either way.
#[test]
fn failed_base64_decoding_of_a_session_key_wipes_what_it_decoded() {
    use base64ct::{Base64Unpadded, Encoding};
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut exported = vec![1u8, 0, 0, 0, 0];
    exported.extend_from_slice(&[BYTE; 128]);
    exported.extend_from_slice(&[0u8; 32]);
    let mut text = Base64Unpadded::encode_string(&exported);
    text.pop();
    text.push('!');
    let mut signed = vec![2u8, 0, 0, 0, 0];
    signed.extend_from_slice(&[BYTE; 128]);
    signed.extend_from_slice(&[0u8; 96]);
    let mut signed_text = Base64Unpadded::encode_string(&signed);
    signed_text.pop();
    signed_text.push('!');
    let found = found_after(|| {
        assert!(caudata::megolm::ExportedSessionKey::from_base64(&text).is_err());
        assert!(caudata::megolm::SessionKey::from_base64(&signed_text).is_err());
    });
    assert_eq!(found, 0, "a partly decoded session key was freed without being wiped");
}

/// Issue 14, low: the zeroization test covered no interolm object. Now: accounts (identity,
/// signed, one-time and Kyber prekeys), PQXDH sessions running SPQR through a whole epoch
/// (ML-KEM key generation, encapsulation, decapsulation, chain keys), and their pickles in both
/// forms, all from the pattern; nothing survives in freed heap memory.
#[test]
fn interolm_secrets_are_wiped_when_objects_drop() {
    use caudata::interolm::{Account as SignalAccount, InterolmMessage, Session as SignalSession};
    use caudata::pickle::{InterolmAccountPickle, InterolmSessionPickle};
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let found = found_after(|| {
        let rng = &mut PatternCounter(0);
        let mut bob = SignalAccount::new_with_rng(rng);
        bob.generate_signed_pre_key_with_rng(rng);
        bob.generate_one_time_pre_keys_with_rng(2, rng);
        bob.generate_kyber_pre_key_with_rng(true, rng);
        let alice = SignalAccount::new_with_rng(rng);
        let bundle = bob.pre_key_bundle(1).unwrap();
        let mut a = alice.create_outbound_session_with_rng(&bundle, rng).unwrap();
        let InterolmMessage::PreKey(pk) = a.encrypt_with_rng(b"hello", rng).unwrap() else { unreachable!() };
        let mut b = bob.create_inbound_session_with_rng(&pk, rng).unwrap().session;
        for i in 0..60 {
            let (from, to) = if i % 2 == 0 { (&mut b, &mut a) } else { (&mut a, &mut b) };
            for _ in 0..3 {
                let m = from.encrypt_with_rng(b"x", rng).unwrap();
                to.decrypt_with_rng(&m, rng).unwrap();
            }
        }
        assert!(a.spqr().summary().epoch >= 2, "SPQR went through a whole epoch");
        for s in [&a, &b] {
            let plain = s.pickle().to_unencrypted_bytes();
            drop(SignalSession::from_pickle(InterolmSessionPickle::from_unencrypted_bytes(&plain).unwrap()));
            let enc = s.pickle().encrypt(&KEY);
            drop(SignalSession::from_pickle(InterolmSessionPickle::from_encrypted(&enc, &KEY).unwrap()));
        }
        let plain = bob.pickle().unwrap().to_unencrypted_bytes();
        drop(SignalAccount::from_pickle(InterolmAccountPickle::from_unencrypted_bytes(&plain).unwrap()));
        let enc = bob.pickle().unwrap().encrypt(&KEY);
        drop(SignalAccount::from_pickle(InterolmAccountPickle::from_encrypted(&enc, &KEY).unwrap()));
        // a session swollen with 299 skipped keys outgrows the session record writer's first
        // buffer (8 KiB a session): the buffer, already holding the ratchet's secret key, must
        // grow through the writer's wiping copy, not `Vec`'s reallocation
        let late: Vec<_> = (0..300).map(|_| b.encrypt_with_rng(b"x", rng).unwrap()).collect();
        a.decrypt_with_rng(&late[299], rng).unwrap();
        let record = caudata::interolm::SessionRecord::from(a);
        let enc = record.pickle().encrypt(&KEY);
        assert!(enc.len() > 8192 + 299 * 36, "{}", enc.len());
        drop(caudata::interolm::SessionRecord::from_pickle(
            caudata::pickle::InterolmSessionRecordPickle::from_encrypted(&enc, &KEY).unwrap(),
        ));
        drop((record, late, b, alice, bob));
    });
    assert_eq!(found, 0, "an interolm secret survived in a freed heap block");
    // control: the scan sees these secrets when they are not wiped
    let kyber = caudata::interolm::Kyber1024SecretKey::generate(&mut PatternCounter(0));
    let control = found_after(|| drop(std::hint::black_box(kyber.to_bytes().to_vec())));
    assert_eq!(control, 1, "a copy of a Kyber secret key is seen");
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

/// Sender keys and sealed sender (libsignal groups): a sender-key chain key and signing key,
/// sealed sender's ephemeral keys (v1) and message keys (v2) and an identity key all come from
/// the pattern; every form they pass through (distribution messages, libsignal's record
/// format, pickles, skipped keys, the envelopes' key schedules) must be wiped.
#[test]
fn sender_keys_and_sealed_sender_leave_no_secret_in_freed_memory() {
    use caudata::interolm::{
        ContentHint, DeviceId, DistributionId, IdentityKeyPair, MessageType, SealedSenderRecipient, SenderCertificate,
        SenderKeyDistributionMessage, SenderKeyRecord, ServerCertificate, ServiceId, UnidentifiedSenderMessageContent,
        Uuid, sealed_sender_decrypt_to_usmc, sealed_sender_encrypt_with_rng,
        sealed_sender_multi_recipient_encrypt_with_rng,
    };
    use caudata::pickle::SenderKeyRecordPickle;
    use caudata::primitives::Curve25519SecretKey;

    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let groups = found_after(|| {
        let dist = DistributionId::from_bytes([1; 16]);
        let mut sender = SenderKeyRecord::new();
        let skdm = sender.create_distribution_message_with_rng(dist, &mut Pattern).unwrap();
        let wire = skdm.to_bytes();
        let skdm = SenderKeyDistributionMessage::from_bytes(&wire).unwrap();
        let mut receiver = SenderKeyRecord::new();
        receiver.process_distribution_message(&skdm).unwrap();
        let messages: Vec<_> =
            (0..5u8).map(|i| sender.encrypt_with_rng(dist, &[i; 40], &mut Pattern).unwrap()).collect();
        // out of order: skipped keys are stored, then taken
        for i in [4usize, 0, 2] {
            receiver.decrypt(&messages[i]).unwrap();
        }
        for r in [&sender, &receiver] {
            let libsignal = r.to_libsignal_bytes();
            let back = SenderKeyRecord::from_libsignal_bytes(&libsignal, dist).unwrap();
            let plain = back.pickle().to_unencrypted_bytes();
            let again = SenderKeyRecord::from_pickle(SenderKeyRecordPickle::from_unencrypted_bytes(&plain).unwrap());
            let sealed = again.pickle().encrypt(&KEY);
            let opened = SenderKeyRecord::from_pickle(SenderKeyRecordPickle::from_encrypted(&sealed, &KEY).unwrap());
            drop((libsignal, back, plain, again, sealed, opened));
        }
        drop((sender, receiver, skdm, wire, messages));
    });
    assert_eq!(groups, 0, "a sender-key secret survived in a freed heap block");
    // Control: the pattern does reach those forms (an unwiped copy of the sender's record, whose
    // signing key is the pattern, is seen).
    let control = found_after(|| {
        let mut sender = SenderKeyRecord::new();
        sender.create_distribution_message_with_rng(DistributionId::from_bytes([1; 16]), &mut Pattern).unwrap();
        let copy = std::hint::black_box(sender.to_libsignal_bytes().to_vec());
        drop(copy);
        drop(sender);
    });
    assert_eq!(control, 1, "the scan must see an unwiped copy of a record");

    let sealed = found_after(|| {
        let root = Curve25519SecretKey::new();
        let server_key = Curve25519SecretKey::new();
        let server = ServerCertificate::new(1, &server_key.public_key(), &root);
        let alice = IdentityKeyPair::from_secret_key(Curve25519SecretKey::random(&mut Pattern));
        let bob = IdentityKeyPair::generate();
        let cert = SenderCertificate::new("a", None, DeviceId::PRIMARY, &alice.public_key(), 1, server, &server_key);
        let usmc =
            UnidentifiedSenderMessageContent::new(MessageType::Whisper, cert, vec![1; 50], ContentHint::Default, None);
        let v1 = sealed_sender_encrypt_with_rng(&usmc, &alice, &bob.public_key(), &mut Pattern).unwrap();
        let to = SealedSenderRecipient {
            service_id: ServiceId::aci(Uuid::from_bytes([2; 16])),
            identity_key: bob.public_key(),
            devices: vec![(DeviceId::PRIMARY, 1)],
        };
        let sent = sealed_sender_multi_recipient_encrypt_with_rng(&usmc, &alice, &[to], &[], &mut Pattern).unwrap();
        let v2 = caudata::interolm::multi_recipient_message_for_recipient(&sent).unwrap()[0].message.clone().unwrap();
        for e in [&v1, &v2] {
            assert_eq!(sealed_sender_decrypt_to_usmc(e, &bob).unwrap(), usmc);
        }
        drop((alice, bob, usmc, v1, v2, sent, root, server_key));
    });
    assert_eq!(sealed, 0, "a sealed-sender secret survived in a freed heap block");
}
