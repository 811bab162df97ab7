//! A small, generic binary writer and reader for pickles (caudata's own format and libolm's).
//!
//! Integers are big-endian. Every read is bounds-checked and names the field it was reading,
//! so a short input gives [`PickleError::Truncated`] with the field's name. List counts are
//! checked against a protocol limit *and* against the bytes that remain before anything is
//! allocated, so a count of 2^32 costs nothing. Secret fields are copied straight into
//! [`SecretBytes`]; the writer's buffer is a [`Zeroizing`] vector that never reallocates
//! behind its own back (growth copies into a new zeroizing buffer and wipes the old one).

use zeroize::Zeroizing;

use crate::error::PickleError;
use crate::primitives::{SecretBytes, SecretVec};

/// Appends fields to a zeroizing buffer that grows only through its own wiping copy
/// ([`SecretVec`]).
pub(crate) struct Writer {
    buf: SecretVec,
}

impl Writer {
    /// A writer whose buffer can take `capacity` bytes without growing.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self { buf: SecretVec::with_capacity(capacity) }
    }

    /// One byte (public or secret).
    #[inline]
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }

    /// Public bytes, written as they are (no length prefix).
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// Secret bytes (no length prefix). The same as [`Writer::bytes`]; named for the reader.
    pub(crate) fn secret(&mut self, v: &[u8]) {
        self.bytes(v);
    }

    /// A list count as a `u32`. Callers only write lists bounded by protocol limits far below
    /// 2^32; a larger count saturates (and would then fail to read back).
    pub(crate) fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }

    /// The bytes written, wiped on drop.
    pub(crate) fn finish(self) -> Zeroizing<Vec<u8>> {
        self.buf.finish()
    }
}

/// Reads fields from a byte slice.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    version: u8,
    /// Whether the bytes were authenticated (an encrypted pickle opened with its key). Only
    /// then may a public key stored beside its secret be taken as stored.
    authenticated: bool,
}

impl<'a> Reader<'a> {
    /// A reader of the current format version.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self::with_version(buf, super::envelope::FORMAT_VERSION)
    }

    /// A reader of a body written in caudata's format `version` (from the pickle's header),
    /// not authenticated.
    pub(crate) fn with_version(buf: &'a [u8], version: u8) -> Self {
        Self { buf, pos: 0, version, authenticated: false }
    }

    /// The same reader, for bytes that were authenticated.
    pub(crate) fn authenticated(self) -> Self {
        Self { authenticated: true, ..self }
    }

    /// The format version of the body being read (caudata's own format).
    pub(crate) fn version(&self) -> u8 {
        self.version
    }

    /// Whether the bytes being read were authenticated.
    pub(crate) fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PickleError> {
        if self.remaining() < n {
            return Err(PickleError::Truncated(what));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], PickleError> {
        let s = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, PickleError> {
        Ok(self.take(1, what)?[0])
    }

    /// A strict boolean: 0 or 1, anything else is refused (caudata's own format).
    pub(crate) fn bool(&mut self, what: &'static str) -> Result<bool, PickleError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(PickleError::InvalidField(what)),
        }
    }

    /// libolm's boolean: any non-zero byte is true, as libolm itself reads it.
    pub(crate) fn bool_lenient(&mut self, what: &'static str) -> Result<bool, PickleError> {
        Ok(self.u8(what)? != 0)
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, PickleError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, PickleError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// `N` public bytes.
    pub(crate) fn bytes<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], PickleError> {
        self.array(what)
    }

    /// `N` secret bytes, copied straight into a zeroizing box.
    pub(crate) fn secret<const N: usize>(&mut self, what: &'static str) -> Result<SecretBytes<N>, PickleError> {
        let s = self.take(N, what)?;
        SecretBytes::from_slice(s).ok_or(PickleError::Truncated(what))
    }

    /// `n` secret bytes of a length known only at run time, copied into a zeroizing buffer.
    pub(crate) fn take_secret(&mut self, n: usize, what: &'static str) -> Result<Zeroizing<Vec<u8>>, PickleError> {
        Ok(Zeroizing::new(self.take(n, what)?.to_vec()))
    }

    /// Checks a list count against the protocol limit `max` and against the input left
    /// (each item takes at least `min_item` bytes), before anything is allocated.
    pub(crate) fn check_count(
        &self,
        count: u64,
        max: usize,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, PickleError> {
        if count > max as u64 {
            return Err(PickleError::TooMany { field: what, got: count, max: max as u64 });
        }
        // count <= max, which fits in usize.
        let n =
            usize::try_from(count).map_err(|_| PickleError::TooMany { field: what, got: count, max: max as u64 })?;
        if n.saturating_mul(min_item) > self.remaining() {
            return Err(PickleError::Truncated(what));
        }
        Ok(n)
    }

    /// A `u32` list count, checked as [`Reader::check_count`] does.
    pub(crate) fn count(&mut self, max: usize, min_item: usize, what: &'static str) -> Result<usize, PickleError> {
        let c = self.u32(what)?;
        self.check_count(c.into(), max, min_item, what)
    }

    /// A list of at most `max` items of at least `min_item` bytes each.
    pub(crate) fn list<T>(
        &mut self,
        max: usize,
        min_item: usize,
        what: &'static str,
        mut item: impl FnMut(&mut Self) -> Result<T, PickleError>,
    ) -> Result<Vec<T>, PickleError> {
        let n = self.count(max, min_item, what)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self)?);
        }
        Ok(out)
    }

    /// Succeeds only if every byte was read.
    pub(crate) fn finish(self) -> Result<(), PickleError> {
        if self.remaining() != 0 {
            return Err(PickleError::TrailingBytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bounds() {
        let mut w = Writer::with_capacity(1);
        w.u8(7);
        w.bool(true);
        w.u32(0xdead_beef);
        w.u64(1 << 40);
        w.secret(&[9; 32]);
        w.count(2);
        w.u32(1);
        w.u32(2);
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert!(r.bool("b").unwrap());
        assert_eq!(r.u32("c").unwrap(), 0xdead_beef);
        assert_eq!(r.u64("d").unwrap(), 1 << 40);
        assert_eq!(r.secret::<32>("e").unwrap().expose(), &[9; 32]);
        assert_eq!(r.list(2, 4, "f", |r| r.u32("g")).unwrap(), vec![1, 2]);
        r.finish().unwrap();
    }

    #[test]
    fn huge_counts_allocate_nothing() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0, 0];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.list(usize::MAX, 4, "keys", |r| r.u32("k")).unwrap_err(), PickleError::Truncated("keys"));
        let mut r = Reader::new(&bytes);
        assert!(matches!(r.list(40, 4, "keys", |r| r.u32("k")), Err(PickleError::TooMany { .. })));
    }

    #[test]
    fn strict_bool_and_trailing_bytes() {
        assert_eq!(Reader::new(&[2]).bool("x").unwrap_err(), PickleError::InvalidField("x"));
        assert!(Reader::new(&[2]).bool_lenient("x").unwrap());
        let mut r = Reader::new(&[1, 2]);
        r.u8("x").unwrap();
        assert_eq!(r.finish().unwrap_err(), PickleError::TrailingBytes);
        assert_eq!(Reader::new(&[1, 2, 3]).u32("n").unwrap_err(), PickleError::Truncated("n"));
    }

    #[test]
    fn counts_are_checked_at_their_edges() {
        // 3 items of at least 4 bytes: 12 bytes left is enough, 11 is not; a limit of 3 takes 3
        let twelve = [0u8; 12];
        let r = Reader::new(&twelve);
        assert_eq!(r.check_count(3, 3, 4, "x"), Ok(3));
        assert_eq!(r.check_count(4, 3, 1, "x"), Err(PickleError::TooMany { field: "x", got: 4, max: 3 }));
        assert_eq!(Reader::new(&twelve[..11]).check_count(3, 3, 4, "x"), Err(PickleError::Truncated("x")));
        assert_eq!(r.check_count(0, 0, 4, "x"), Ok(0));
        assert_eq!(r.check_count(12, 100, 1, "x"), Ok(12));
        assert_eq!(r.check_count(13, 100, 1, "x"), Err(PickleError::Truncated("x")));
    }
}
