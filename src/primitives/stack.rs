//! Overwriting the stack that a dependency's secret computation used.
//!
//! `zeroize` wipes a value where it is dropped, but the crypto crates caudata calls move secret
//! values by value on the way (`cbc`'s cipher into `encrypt_padded_vec(self)`, `libcrux`'s key
//! pairs and unpacked keys returned by value, its internal polynomials), and every move or spill
//! leaves a copy in a dead stack slot that no destructor reaches. [`scrubbed`] runs such a
//! computation in a frame of its own and then overwrites the region of the stack it used.
//! `tests/zeroize.rs` scans the stack after each operation for the secret it handled.

/// Stack bytes overwritten after an AES-256-CBC operation (`aes` and `cbc` use under 2 KiB
/// optimised, a few KiB unoptimised).
pub(crate) const AES_SCRUB: usize = 16 * 1024;
/// Stack bytes overwritten after a Kyber1024 or ML-KEM-768 operation (`libcrux-ml-kem` uses
/// tens of KiB unoptimised; caudata's dev profile builds it unoptimised).
pub(crate) const KEM_SCRUB: usize = 64 * 1024;

/// Runs `f` in a frame of its own, then overwrites the `N` bytes of stack below the caller's
/// frame, where `f`'s frames were.
#[inline(always)]
pub(crate) fn scrubbed<T, const N: usize>(f: impl FnOnce() -> T) -> T {
    let result = apart(f);
    scrub::<N>();
    result
}

#[inline(never)]
fn apart<T>(f: impl FnOnce() -> T) -> T {
    f()
}

#[inline(never)]
fn scrub<const N: usize>() {
    let mut area = [0u8; N];
    // The zeros are written (a `memset`): the buffer's address escapes to `black_box`, which
    // may read it.
    core::hint::black_box(&mut area);
}
