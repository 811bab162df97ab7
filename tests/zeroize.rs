//! Zeroization evidence: a global allocator that scans every block as it is freed. Secrets are
//! drawn from a recognisable pattern; after the objects that held them drop, no freed heap block
//! may still contain the pattern. A control (a plain `Vec` holding the pattern) must be caught,
//! which shows the scan works. (Stack copies are outside what this can see; caudata keeps
//! secrets boxed so that moves copy only pointers.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![allow(unsafe_code)] // the scanning allocator; the library itself forbids unsafe code

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig};
use caudata::olm::{Account, SessionConfig};
use caudata::primitives::RandomSource;

const BYTE: u8 = 0x5A;
const RUN: usize = 24;

static SCANNING: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);

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
