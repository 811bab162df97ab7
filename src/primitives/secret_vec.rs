//! A growable buffer for secret bytes that never lets `Vec` reallocate it behind its back.
//!
//! `Vec`'s own growth copies into a new allocation and frees the old one unwiped, with every
//! secret byte written so far. [`SecretVec`] grows by copying into a new zeroizing allocation
//! itself, so the old one is wiped as it is dropped. The pickle writers (caudata's own format,
//! libolm's, vodozemac's JSON and SPQR's state) write through it.

use zeroize::Zeroizing;

/// A zeroizing byte buffer whose growth wipes what it leaves behind.
pub(crate) struct SecretVec {
    buf: Zeroizing<Vec<u8>>,
}

impl SecretVec {
    /// A buffer that can take `capacity` bytes before it grows.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { buf: Zeroizing::new(Vec::with_capacity(capacity)) }
    }

    /// Makes room for `extra` more bytes (the one place the buffer grows).
    #[inline]
    fn reserve(&mut self, extra: usize) {
        if self.buf.capacity() - self.buf.len() < extra {
            self.grow(extra);
        }
    }

    #[cold]
    fn grow(&mut self, extra: usize) {
        let needed = self.buf.len().saturating_add(extra);
        let mut grown = Zeroizing::new(Vec::with_capacity(needed.max(self.buf.capacity().saturating_mul(2))));
        grown.extend_from_slice(&self.buf);
        self.buf = grown; // the old buffer is wiped when dropped here
    }

    /// Appends one byte.
    #[inline]
    pub(crate) fn push(&mut self, v: u8) {
        self.reserve(1);
        self.buf.push(v);
    }

    /// Appends bytes.
    #[inline]
    pub(crate) fn extend_from_slice(&mut self, v: &[u8]) {
        self.reserve(v.len());
        self.buf.extend_from_slice(v);
    }

    /// The bytes written, wiped on drop.
    pub(crate) fn finish(self) -> Zeroizing<Vec<u8>> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffer grows only through its own copy (which wipes the old buffer), never through
    /// `Vec`'s reallocation (which frees it unwiped): its capacities are its own rule's
    /// (exactly what is needed, or twice the old capacity; nothing while it fits), where
    /// `Vec`'s rule differs for small buffers (at least 8). This is what the unit suite can
    /// observe; `tests/zeroize.rs` scans the freed memory itself. (std allocates a `Vec<u8>`
    /// of exactly the capacity asked for.)
    #[test]
    fn the_buffer_grows_only_through_its_own_wiping_copy() {
        let mut w = SecretVec::with_capacity(0);
        assert_eq!(w.buf.capacity(), 0);
        w.push(1);
        assert_eq!(w.buf.capacity(), 1);
        w.extend_from_slice(&[2; 4]);
        assert_eq!(w.buf.capacity(), 5);
        w.push(3);
        assert_eq!(w.buf.capacity(), 10);
        w.extend_from_slice(&[4; 4]);
        assert_eq!(w.buf.capacity(), 10);
        w.extend_from_slice(&[5; 30]);
        assert_eq!(w.buf.capacity(), 40);
        assert_eq!(w.buf.len(), 40);
        let out = w.finish();
        assert_eq!((&out[..7], out[39]), (&[1, 2, 2, 2, 2, 3, 4][..], 5));
        // full, then one byte more: twice the capacity (4), where `Vec` would take 8
        let mut w = SecretVec::with_capacity(2);
        w.push(6);
        w.push(7);
        assert_eq!(w.buf.capacity(), 2);
        w.push(8);
        assert_eq!(w.buf.capacity(), 4);
        w.extend_from_slice(&[9]);
        assert_eq!(w.buf.capacity(), 4);
        let mut w = SecretVec::with_capacity(4);
        w.extend_from_slice(&[0, 0, 0, 6]);
        assert_eq!(w.buf.capacity(), 4);
        assert_eq!(*w.finish(), [0, 0, 0, 6]);
    }
}
