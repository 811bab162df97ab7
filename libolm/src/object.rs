//! libolm's objects live in memory the caller allocates (`olm_account_size()` bytes, then
//! `olm_account(memory)`), and libolm keeps nothing anywhere else: a caller may free that
//! memory without `olm_clear_*` and nothing leaks, and may copy it. caudata keeps the same
//! contract by keeping each object's whole state *in that memory*, in libolm's own unencrypted
//! pickle layout (so `olm_pickle_*` is libolm's pickle cipher over those very bytes), and
//! loading it into caudata's types for each call. A call that fails writes nothing but the
//! error code.
//!
//! Layout (little-endian `u32`s; no alignment is assumed):
//!
//! | offset | content |
//! |---|---|
//! | 0 | magic, per object type (memory `olm_*()` was not called on reads as uninitialised) |
//! | 4 | last error (`enum OlmErrorCode`) |
//! | 8 | length of the state (0: no state yet, e.g. before `olm_create_account`) |
//! | 12 | flags, per object type |
//! | 16 | the state, up to the type's capacity; the rest is zero |

use core::ffi::c_void;

use zeroize::{Zeroize, Zeroizing};

const HEADER: usize = 16;

/// An object type: its magic number, the largest state it holds, and the raw pickle libolm
/// writes for such an object before it has keys.
pub(crate) struct Kind {
    magic: u32,
    capacity: usize,
    blank: &'static [(usize, u8)],
}

impl Kind {
    /// The bytes `olm_*_size()` returns.
    pub(crate) const fn size(&self) -> usize {
        HEADER + self.capacity
    }

    /// libolm's raw pickle of an object that has no keys yet (its memory is all zeros but for
    /// the current version number): libolm pickles such objects, and reads them back, so its
    /// tests do. caudata pickles an object without state as exactly these bytes, and reads
    /// exactly these bytes back as an object without state.
    pub(crate) fn blank_raw(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for &(n, byte) in self.blank {
            out.extend(core::iter::repeat_n(byte, n));
        }
        out
    }
}

/// One libolm key entry in an account: `u32 id ‖ bool published ‖ public(32) ‖ secret(32)`.
const KEY_ENTRY: usize = 4 + 1 + 32 + 32;

/// An account: version, Ed25519 pair (32 + 64), Curve25519 pair (64), up to 100 one-time keys,
/// up to two fallback keys, the key counter.
pub(crate) const ACCOUNT: Kind = Kind {
    magic: 0x6361_0001,
    capacity: 4 + 96 + 64 + 4 + 100 * KEY_ENTRY + 1 + 2 * KEY_ENTRY + 4,
    // version 4, zero keys, no one-time keys, no fallback key, counter 0
    blank: &[(3, 0), (1, 4), (96 + 64 + 4 + 1 + 4, 0)],
};
/// A session: version, flag, three keys, root key, one sending chain, five receiving chains,
/// forty skipped message keys.
pub(crate) const SESSION: Kind = Kind {
    magic: 0x6361_0002,
    capacity: 4 + 1 + 96 + 32 + 4 + (32 + 32 + 32 + 4) + 4 + 5 * (32 + 32 + 4) + 4 + 40 * (32 + 32 + 4),
    // version 1, not received, zero keys and root key, no chains
    blank: &[(3, 0), (1, 1), (1 + 96 + 32 + 12, 0)],
};
/// A utility holds only its last error.
pub(crate) const UTILITY: Kind = Kind { magic: 0x6361_0003, capacity: 0, blank: &[] };
/// An outbound group session: version, ratchet (128 + 4), Ed25519 pair (32 + 64).
pub(crate) const OUTBOUND_GROUP: Kind =
    Kind { magic: 0x6361_0004, capacity: 4 + 132 + 96, blank: &[(3, 0), (1, 1), (132 + 96, 0)] };
/// An inbound group session: version, two ratchets, signing key, verified flag.
pub(crate) const INBOUND_GROUP: Kind =
    Kind { magic: 0x6361_0005, capacity: 4 + 132 + 132 + 32 + 1, blank: &[(3, 0), (1, 2), (132 + 132 + 32 + 1, 0)] };
/// A PK encryption: the recipient's public key as given.
pub(crate) const PK_ENCRYPTION: Kind = Kind { magic: 0x6361_0006, capacity: 32, blank: &[] };
/// A PK decryption: libolm's `PkDecryption` pickle (version, public key, secret key).
pub(crate) const PK_DECRYPTION: Kind =
    Kind { magic: 0x6361_0007, capacity: 4 + 32 + 32, blank: &[(3, 0), (1, 1), (64, 0)] };
/// A PK signing key: its 32-byte seed.
pub(crate) const PK_SIGNING: Kind = Kind { magic: 0x6361_0008, capacity: 32, blank: &[] };
/// A SAS: the 32-byte ephemeral secret, then the other side's key (32) once set.
pub(crate) const SAS: Kind = Kind { magic: 0x6361_0009, capacity: 64, blank: &[] };

/// The whole object as a byte slice, for the duration of one access.
///
/// # Safety
/// `obj` is valid for `kind.size()` bytes of reads and writes, and no other reference to that
/// memory is alive while the returned slice is.
unsafe fn bytes<'a>(obj: *mut c_void, kind: &Kind) -> &'a mut [u8] {
    // SAFETY: forwarded contract.
    unsafe { core::slice::from_raw_parts_mut(obj.cast::<u8>(), kind.size()) }
}

fn get_u32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// `olm_*(memory)`: wipes the memory and makes it an object with no state.
///
/// # Safety
/// `memory` is null or valid for `kind.size()` bytes of reads and writes.
pub(crate) unsafe fn init(memory: *mut c_void, kind: &Kind) -> *mut c_void {
    if memory.is_null() {
        return memory;
    }
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(memory, kind) };
    b.zeroize();
    put_u32(b, 0, kind.magic);
    memory
}

/// `olm_clear_*`: wipes every byte (secrets included) and leaves a fresh object, as libolm
/// does. Returns the size.
///
/// # Safety
/// As [`init`].
pub(crate) unsafe fn clear(obj: *mut c_void, kind: &Kind) -> usize {
    // SAFETY: forwarded contract.
    unsafe { init(obj, kind) };
    kind.size()
}

/// The last error code (0 for a null pointer).
///
/// # Safety
/// `obj` is null or valid for 8 bytes of reads.
pub(crate) unsafe fn last_error(obj: *const c_void) -> u32 {
    if obj.is_null() {
        return 0;
    }
    let mut w = [0u8; 4];
    // SAFETY: 8 readable bytes by contract (every object is at least `HEADER` bytes); the
    // copy is into a local array.
    unsafe { core::ptr::copy_nonoverlapping(obj.cast::<u8>().add(4), w.as_mut_ptr(), 4) };
    u32::from_le_bytes(w)
}

/// Records `code` as the object's last error (nothing for a null pointer).
///
/// # Safety
/// `obj` is null or valid for `kind.size()` bytes of reads and writes.
pub(crate) unsafe fn set_error(obj: *mut c_void, kind: &Kind, code: u32) {
    if obj.is_null() {
        return;
    }
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(obj, kind) };
    put_u32(b, 4, code);
}

/// The object's state (a copy wiped when dropped), `None` if it has none yet or if the memory
/// is not such an object.
///
/// # Safety
/// As [`set_error`].
pub(crate) unsafe fn state(obj: *const c_void, kind: &Kind) -> Option<Zeroizing<Vec<u8>>> {
    if obj.is_null() {
        return None;
    }
    // SAFETY: forwarded contract; read-only use of a slice that lives for this function.
    let b: &[u8] = unsafe { core::slice::from_raw_parts(obj.cast::<u8>(), kind.size()) };
    if get_u32(b, 0) != kind.magic {
        return None;
    }
    let len = get_u32(b, 8) as usize;
    if len == 0 || len > kind.capacity {
        return None;
    }
    Some(Zeroizing::new(b[HEADER..HEADER + len].to_vec()))
}

/// Replaces the state with `data` and wipes the bytes of the old state beyond it. Returns
/// `false` (and changes nothing) if `data` does not fit, which the capacities rule out.
///
/// # Safety
/// As [`set_error`].
pub(crate) unsafe fn set_state(obj: *mut c_void, kind: &Kind, data: &[u8]) -> bool {
    if obj.is_null() || data.len() > kind.capacity {
        return false;
    }
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(obj, kind) };
    put_u32(b, 0, kind.magic);
    b[HEADER..HEADER + data.len()].copy_from_slice(data);
    b[HEADER + data.len()..].zeroize();
    put_u32(b, 8, data.len() as u32);
    true
}

/// The object's flags (0 for memory that is not such an object).
///
/// # Safety
/// As [`set_error`].
pub(crate) unsafe fn flags(obj: *const c_void, kind: &Kind) -> u32 {
    if obj.is_null() {
        return 0;
    }
    // SAFETY: forwarded contract; read-only.
    let b: &[u8] = unsafe { core::slice::from_raw_parts(obj.cast::<u8>(), kind.size()) };
    if get_u32(b, 0) != kind.magic { 0 } else { get_u32(b, 12) }
}

/// Sets the object's flags.
///
/// # Safety
/// As [`set_error`].
pub(crate) unsafe fn set_flags(obj: *mut c_void, kind: &Kind, flags: u32) {
    if obj.is_null() {
        return;
    }
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(obj, kind) };
    put_u32(b, 12, flags);
}
