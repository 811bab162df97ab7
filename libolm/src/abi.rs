//! The C boundary: raw pointers in, owned Rust values out, and back. Every `unsafe` of the
//! crate that reads or writes a caller's buffer is in this module or in `object.rs`.
//!
//! The rules, as libolm's callers already follow them:
//! * an input pointer with a non-zero length points to that many readable bytes;
//! * an output pointer with a non-zero length points to that many writable bytes;
//! * a null pointer is accepted only with a zero length (anything else is refused with an
//!   error instead of dereferenced).
//!
//! Inputs are copied into owned buffers before anything is written, and outputs are written
//! from owned buffers with `ptr::copy`, so a caller that passes overlapping buffers (libolm
//! allowed some) gets libolm's in-place results and Rust never holds two overlapping
//! references.

use core::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use caudata::primitives::RandomSource;
use zeroize::{Zeroize, Zeroizing};

/// libolm's error return, `(size_t)-1`.
pub(crate) const OLM_ERROR: usize = usize::MAX;

/// Runs `f`; a panic (a bug: the crate is written not to panic) does not cross into C but
/// becomes `on_panic()`.
pub(crate) fn guard<T>(on_panic: impl FnOnce() -> T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| on_panic())
}

/// Copies `len` bytes at `ptr` into an owned buffer (wiped when dropped, as it may hold a
/// secret: a pickle key, a private key, a plaintext). `None` for a null pointer with a
/// non-zero length, or a length no buffer can have.
///
/// # Safety
/// `ptr` is null or valid for `len` bytes of reads.
pub(crate) unsafe fn read_in(ptr: *const c_void, len: usize) -> Option<Zeroizing<Vec<u8>>> {
    if len == 0 {
        return Some(Zeroizing::new(Vec::new()));
    }
    if ptr.is_null() || len > isize::MAX as usize {
        return None;
    }
    // SAFETY: `ptr` is non-null and, by the caller's contract, valid for `len` bytes of reads;
    // `len` fits `isize`. The slice lives only for the copy.
    let bytes = unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    Some(Zeroizing::new(bytes.to_vec()))
}

/// Whether an output buffer of `capacity` bytes at `ptr` can be written (non-null, or empty).
pub(crate) fn writable(ptr: *mut c_void, capacity: usize) -> bool {
    capacity == 0 || (!ptr.is_null() && capacity <= isize::MAX as usize)
}

/// Writes `data` at the start of the `capacity`-byte buffer at `ptr`. Returns `false` (and
/// writes nothing) if it does not fit or the buffer is null.
///
/// # Safety
/// `ptr` is null or valid for `capacity` bytes of writes.
pub(crate) unsafe fn write_out(ptr: *mut c_void, capacity: usize, data: &[u8]) -> bool {
    if data.len() > capacity {
        return false;
    }
    if data.is_empty() {
        return true;
    }
    if ptr.is_null() {
        return false;
    }
    // SAFETY: `data.len() <= capacity` bytes at `ptr` are writable by the caller's contract;
    // `data` is an owned Rust buffer, so `ptr::copy` (which allows overlap) is sound even if
    // the caller's buffers overlap each other.
    unsafe { core::ptr::copy(data.as_ptr(), ptr.cast::<u8>(), data.len()) };
    true
}

/// Overwrites the `len` bytes at `ptr` with zeros (libolm wipes the random buffers it was
/// given once it has used them).
///
/// # Safety
/// `ptr` is null or valid for `len` bytes of writes.
pub(crate) unsafe fn wipe(ptr: *mut c_void, len: usize) {
    if ptr.is_null() || len == 0 || len > isize::MAX as usize {
        return;
    }
    // SAFETY: valid for `len` bytes of writes by the caller's contract; the slice lives only
    // for the wipe, and no other reference to those bytes is alive.
    let bytes = unsafe { core::slice::from_raw_parts_mut(ptr.cast::<u8>(), len) };
    bytes.zeroize();
}

/// Writes a `u32` through a caller's pointer (nothing if it is null).
///
/// # Safety
/// `ptr` is null or valid for a (possibly unaligned) `u32` write.
pub(crate) unsafe fn write_u32(ptr: *mut u32, value: u32) {
    if !ptr.is_null() {
        // SAFETY: non-null and writable by the caller's contract; unaligned writes are allowed.
        unsafe { ptr.write_unaligned(value) };
    }
}

/// Randomness from the caller's buffer, in order, as libolm consumes it. Asking for more than
/// the buffer holds yields zeros and marks the source short; callers check the length first,
/// and check [`CallerRandom::short`] after, so a short source never produces a result.
pub(crate) struct CallerRandom<'a> {
    bytes: &'a [u8],
    pos: usize,
    short: bool,
}

impl<'a> CallerRandom<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0, short: false }
    }

    /// Whether more bytes were asked for than the buffer held.
    pub(crate) fn short(&self) -> bool {
        self.short
    }
}

impl RandomSource for CallerRandom<'_> {
    fn fill(&mut self, dest: &mut [u8]) {
        match self.bytes.get(self.pos..self.pos.saturating_add(dest.len())) {
            Some(src) => {
                dest.copy_from_slice(src);
                self.pos += dest.len();
            }
            None => {
                dest.zeroize();
                self.short = true;
            }
        }
    }
}

/// libolm's base64 length of `n` raw bytes.
pub(crate) const fn b64_len(n: usize) -> usize {
    // libolm's formula, wrapping as its `size_t` arithmetic does (equal to
    // `caudata::hazmat::libolm_base64_encoded_length` wherever that does not overflow): the
    // length functions take any `size_t` from C and must not panic on it.
    let m = n.wrapping_add(2);
    4usize.wrapping_mul(m / 3).wrapping_add(m % 3).wrapping_sub(2)
}

/// Standard unpadded base64, as libolm writes it.
pub(crate) fn b64(bytes: &[u8]) -> String {
    caudata::primitives::base64_encode(bytes)
}

/// Decodes a caller's base64 buffer as libolm does, *in place*: the decoded bytes are also
/// written back to the start of the caller's buffer (libolm documents that it destroys its
/// input this way). `Err(())` for a null buffer; `Ok(None)` when the length leaves one
/// character over (libolm's `OLM_INVALID_BASE64`).
///
/// # Safety
/// `ptr` is null or valid for `len` bytes of reads and writes.
pub(crate) unsafe fn decode_in_place(ptr: *mut c_void, len: usize) -> Result<Option<Vec<u8>>, ()> {
    // SAFETY: forwarded contract.
    let mut buf = unsafe { read_in(ptr, len) }.ok_or(())?;
    let Some(n) = caudata::hazmat::libolm_base64_decode_in_place(&mut buf) else {
        return Ok(None);
    };
    // SAFETY: forwarded contract; `n <= len`.
    unsafe { write_out(ptr, len, &buf[..n]) };
    Ok(Some(buf[..n].to_vec()))
}

/// [`decode_in_place`] for a secret (a pickle): the plaintext it becomes is never written back.
///
/// # Safety
/// As [`decode_in_place`].
pub(crate) unsafe fn decode_secret_in_place(ptr: *mut c_void, len: usize) -> Result<Option<Zeroizing<Vec<u8>>>, ()> {
    // SAFETY: forwarded contract.
    let mut buf = unsafe { read_in(ptr, len) }.ok_or(())?;
    let Some(n) = caudata::hazmat::libolm_base64_decode_in_place(&mut buf) else {
        return Ok(None);
    };
    // SAFETY: forwarded contract; `n <= len`. The decoded bytes are the sealed pickle
    // (ciphertext and MAC), not a secret.
    unsafe { write_out(ptr, len, &buf[..n]) };
    buf.truncate(n);
    Ok(Some(buf))
}

/// Decodes a base64 key argument of exactly `libolm_len` characters (libolm checks only that
/// the length decodes to 32 bytes) into 32 bytes, without touching the caller's buffer.
pub(crate) fn decode_key(encoded: &[u8]) -> Option<[u8; 32]> {
    let raw = caudata::hazmat::libolm_base64_decode(encoded)?;
    raw.try_into().ok()
}
