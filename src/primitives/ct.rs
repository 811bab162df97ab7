//! Constant-time comparison.

use subtle::ConstantTimeEq;

/// Compares two byte strings in time that depends only on their lengths.
#[inline]
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The point where the outcome of a constant-time check (a MAC verified or not) becomes control
/// flow: a yes/no the caller reveals anyway by succeeding or failing. Never inlined, and built
/// so that the branch happens here, so that the constant-time check (`benches/ctgrind`, whose
/// suppression names this function) allows this branch and no other.
#[inline(never)]
pub(crate) fn reveal(ok: bool) -> bool {
    // Opaque constants in each arm keep the compiler from turning the branch into a move of
    // `ok` itself (which would carry the secret-derived bit on into the caller's branches).
    if core::hint::black_box(ok) { core::hint::black_box(true) } else { core::hint::black_box(false) }
}
