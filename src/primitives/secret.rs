//! Fixed-size secret byte arrays.

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::ct::ct_eq;
use super::rng::RandomSource;

/// `N` secret bytes on the heap (so moves do not leave copies behind), wiped on drop,
/// never printed, compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes<const N: usize>(Box<[u8; N]>);

impl<const N: usize> SecretBytes<N> {
    /// Takes ownership of `bytes` and wipes the caller's copy.
    pub fn from_array(bytes: &mut [u8; N]) -> Self {
        let s = Self(Box::new(*bytes));
        bytes.zeroize();
        s
    }

    /// Copies a slice of exactly `N` bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != N {
            return None;
        }
        let mut b = Box::new([0u8; N]);
        b.copy_from_slice(bytes);
        Some(Self(b))
    }

    /// All zero bytes (a placeholder to be overwritten).
    pub fn zero() -> Self {
        Self(Box::new([0u8; N]))
    }

    /// Fresh random bytes.
    pub fn random(rng: &mut impl RandomSource) -> Self {
        let mut b = Box::new([0u8; N]);
        rng.fill(&mut b[..]);
        Self(b)
    }

    /// The secret bytes. The caller must not copy them out of zeroizing storage.
    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }

    /// Mutable access for filling in place.
    pub fn expose_mut(&mut self) -> &mut [u8; N] {
        &mut self.0
    }
}

impl<const N: usize> PartialEq for SecretBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0[..], &other.0[..])
    }
}
impl<const N: usize> Eq for SecretBytes<N> {}

impl<const N: usize> core::fmt::Debug for SecretBytes<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SecretBytes<{N}>(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_bytes() {
        assert_eq!(format!("{:?}", SecretBytes::<4>::zero()), "SecretBytes<4>(..)");
    }
}
