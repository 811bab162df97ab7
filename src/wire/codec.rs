//! The protobuf subset that Olm, Megolm and Signal messages use: varints (wire type 0) and
//! length-delimited fields (wire type 2), tags below 16. Sealed sender's certificates also use
//! fixed64 (wire type 1): a reader made with [`Reader::with_fixed_width`] reads wire types 1 and
//! 5 as well (the other readers refuse them, as before).

use crate::error::DecodeError;

pub(crate) const WIRE_VARINT: u8 = 0;
pub(crate) const WIRE_LEN: u8 = 2;
pub(crate) const WIRE_FIXED64: u8 = 1;
pub(crate) const WIRE_FIXED32: u8 = 5;

/// Appends an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a varint field.
/// The length of `v` as a protobuf varint.
pub(crate) const fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// The length of a length-delimited field (tag, length, bytes) of `len` bytes.
pub(crate) const fn bytes_field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

pub(crate) fn put_varint_field(out: &mut Vec<u8>, field: u8, v: u64) {
    out.push(field << 3 | WIRE_VARINT);
    put_varint(out, v);
}

/// Appends a length-delimited field.
pub(crate) fn put_bytes_field(out: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    out.push(field << 3 | WIRE_LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a fixed64 field (little-endian).
pub(crate) fn put_fixed64_field(out: &mut Vec<u8>, field: u8, v: u64) {
    out.push(field << 3 | WIRE_FIXED64);
    out.extend_from_slice(&v.to_le_bytes());
}

/// One decoded field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// Wire type 1 (only from [`Reader::with_fixed_width`]).
    Fixed64(u64),
    /// Wire type 5 (only from [`Reader::with_fixed_width`]); no decoder reads one yet.
    #[allow(dead_code)]
    Fixed32(u32),
}

/// Reads protobuf fields from a byte slice.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    fixed_width: bool,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0, fixed_width: false }
    }

    /// A reader that also accepts fixed64 and fixed32 fields (wire types 1 and 5).
    pub(crate) fn with_fixed_width(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0, fixed_width: true }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated(what))?;
        let bytes = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated(what))?;
        self.pos = end;
        Ok(bytes)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// A varint of at most 10 bytes whose value fits in 64 bits.
    pub(crate) fn varint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = *self.buf.get(self.pos).ok_or(DecodeError::Truncated(what))?;
            self.pos += 1;
            let bits = u64::from(b & 0x7f);
            if i == 9 && bits > 1 {
                return Err(DecodeError::OversizeVarint(what));
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::OversizeVarint(what))
    }

    /// The next field as `(field number, value)`, or `None` at the end.
    pub(crate) fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, DecodeError> {
        if self.is_empty() {
            return Ok(None);
        }
        let key = self.varint("field tag")?;
        let field = key >> 3;
        match (key & 7) as u8 {
            WIRE_VARINT => Ok(Some((field, Value::Varint(self.varint("varint field")?)))),
            WIRE_LEN => {
                let len = self.varint("field length")?;
                let len = usize::try_from(len).map_err(|_| DecodeError::Truncated("field body"))?;
                let end = self.pos.checked_add(len).ok_or(DecodeError::Truncated("field body"))?;
                let bytes = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated("field body"))?;
                self.pos = end;
                Ok(Some((field, Value::Bytes(bytes))))
            }
            WIRE_FIXED64 if self.fixed_width => {
                let b: [u8; 8] =
                    self.take(8, "fixed64 field")?.try_into().map_err(|_| DecodeError::Truncated("fixed64 field"))?;
                Ok(Some((field, Value::Fixed64(u64::from_le_bytes(b)))))
            }
            WIRE_FIXED32 if self.fixed_width => {
                let b: [u8; 4] =
                    self.take(4, "fixed32 field")?.try_into().map_err(|_| DecodeError::Truncated("fixed32 field"))?;
                Ok(Some((field, Value::Fixed32(u32::from_le_bytes(b)))))
            }
            _ => Err(DecodeError::MalformedField("unsupported protobuf wire type")),
        }
    }
}

impl<'a> Reader<'a> {
    /// [`Reader::field`] that also reads the fixed-width wire types (1: 8 bytes, 5: 4 bytes),
    /// given as [`Value::Bytes`] of their little-endian bytes: for libsignal's stored records
    /// (a prekey record's timestamp is a `fixed64`), never for messages.
    pub(crate) fn field_with_fixed(&mut self) -> Result<Option<(u64, Value<'a>)>, DecodeError> {
        if self.is_empty() {
            return Ok(None);
        }
        let start = self.pos;
        let key = self.varint("field tag")?;
        let width = match key & 7 {
            1 => 8,
            5 => 4,
            _ => {
                self.pos = start;
                return self.field();
            }
        };
        let end = self.pos.checked_add(width).ok_or(DecodeError::Truncated("fixed-width field"))?;
        let bytes = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated("fixed-width field"))?;
        self.pos = end;
        Ok(Some((key >> 3, Value::Bytes(bytes))))
    }
}

/// Sets `slot` once; a second occurrence of a known field is an error.
pub(crate) fn set_once<T>(slot: &mut Option<T>, v: T, name: &'static str) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::DuplicateField(name));
    }
    *slot = Some(v);
    Ok(())
}

/// A varint field that must fit in a `u32`.
pub(crate) fn as_u32(v: Value<'_>, name: &'static str) -> Result<u32, DecodeError> {
    match v {
        Value::Varint(x) => u32::try_from(x).map_err(|_| DecodeError::OversizeVarint(name)),
        _ => Err(DecodeError::MalformedField(name)),
    }
}

/// A varint field of any width (a `uint64`).
pub(crate) fn as_u64(v: Value<'_>, name: &'static str) -> Result<u64, DecodeError> {
    match v {
        Value::Varint(x) => Ok(x),
        _ => Err(DecodeError::MalformedField(name)),
    }
}

/// A fixed64 field.
pub(crate) fn as_fixed64(v: Value<'_>, name: &'static str) -> Result<u64, DecodeError> {
    match v {
        Value::Fixed64(x) => Ok(x),
        _ => Err(DecodeError::MalformedField(name)),
    }
}

/// A length-delimited field.
pub(crate) fn as_bytes<'a>(v: Value<'a>, name: &'static str) -> Result<&'a [u8], DecodeError> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(DecodeError::MalformedField(name)),
    }
}

/// A length-delimited field of exactly `N` bytes.
pub(crate) fn as_array<const N: usize>(v: Value<'_>, name: &'static str) -> Result<[u8; N], DecodeError> {
    as_bytes(v, name)?.try_into().map_err(|_| DecodeError::MalformedField(name))
}

/// The fields of one protobuf message as stored records use them (libsignal's `SessionRecord`
/// and prekey records, SPQR's state): read all at once, then looked up by number. Proto3
/// semantics: an absent scalar is 0, an absent message or byte string is empty.
pub(crate) struct Fields<'a>(Vec<(u64, Value<'a>)>);

/// The most fields a stored-record message may have (a session's receiving chains hold up to
/// 2 000 skipped keys each; SPQR's decoders up to 16 point lists).
const MAX_RECORD_FIELDS: usize = 4096;

impl<'a> Fields<'a> {
    /// Reads every field of `buf` (fixed-width ones included).
    pub(crate) fn read(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let mut v = Vec::new();
        while let Some(f) = r.field_with_fixed()? {
            if v.len() >= MAX_RECORD_FIELDS {
                return Err(DecodeError::MalformedField("too many fields"));
            }
            v.push(f);
        }
        Ok(Self(v))
    }

    fn one(&self, n: u64, name: &'static str) -> Result<Option<Value<'a>>, DecodeError> {
        let mut it = self.0.iter().filter(|(f, _)| *f == n);
        let first = it.next().map(|(_, v)| *v);
        if it.next().is_some() {
            return Err(DecodeError::DuplicateField(name));
        }
        Ok(first)
    }

    /// A varint field that fits in `u32` (0 when absent).
    pub(crate) fn u32(&self, n: u64, name: &'static str) -> Result<u32, DecodeError> {
        self.one(n, name)?.map_or(Ok(0), |v| as_u32(v, name))
    }

    /// A varint field, present or not.
    pub(crate) fn opt_u32(&self, n: u64, name: &'static str) -> Result<Option<u32>, DecodeError> {
        self.one(n, name)?.map(|v| as_u32(v, name)).transpose()
    }

    /// A varint field as `u64` (0 when absent).
    pub(crate) fn u64(&self, n: u64, name: &'static str) -> Result<u64, DecodeError> {
        match self.one(n, name)? {
            None => Ok(0),
            Some(Value::Varint(x)) => Ok(x),
            Some(_) => Err(DecodeError::MalformedField(name)),
        }
    }

    /// A `fixed64` field (0 when absent).
    pub(crate) fn fixed64(&self, n: u64, name: &'static str) -> Result<u64, DecodeError> {
        match self.one(n, name)? {
            None => Ok(0),
            Some(v) => Ok(u64::from_le_bytes(as_array::<8>(v, name)?)),
        }
    }

    /// A length-delimited field (empty when absent).
    pub(crate) fn bytes(&self, n: u64, name: &'static str) -> Result<&'a [u8], DecodeError> {
        self.one(n, name)?.map_or(Ok(&[][..]), |v| as_bytes(v, name))
    }

    /// A length-delimited field, present or not.
    pub(crate) fn opt_bytes(&self, n: u64, name: &'static str) -> Result<Option<&'a [u8]>, DecodeError> {
        self.one(n, name)?.map(|v| as_bytes(v, name)).transpose()
    }

    /// Every occurrence of a repeated length-delimited field, in order.
    pub(crate) fn repeated(&self, n: u64, name: &'static str) -> Result<Vec<&'a [u8]>, DecodeError> {
        self.0.iter().filter(|(f, _)| *f == n).map(|(_, v)| as_bytes(*v, name)).collect()
    }

    /// Whether field `n` occurs.
    pub(crate) fn has(&self, n: u64) -> bool {
        self.0.iter().any(|(f, _)| *f == n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libolm_framing_vector() {
        // libolm's test: fields in any order decode; encoding writes them in tag order.
        let input = hex::decode("0310010a0a726174636865746b6579220a63697068657274657874686d616373686132").unwrap();
        let body = &input[1..input.len() - 8];
        let mut r = Reader::new(body);
        let mut seen = Vec::new();
        while let Some((f, v)) = r.field().unwrap() {
            seen.push((f, v));
        }
        assert!(matches!(seen[0], (2, Value::Varint(1))));
        assert!(matches!(seen[1], (1, Value::Bytes(b"ratchetkey"))));
        assert!(matches!(seen[2], (4, Value::Bytes(b"ciphertext"))));
        let mut out = vec![3];
        put_bytes_field(&mut out, 1, b"ratchetkey");
        put_varint_field(&mut out, 2, 1);
        put_bytes_field(&mut out, 4, b"ciphertext");
        out.extend_from_slice(b"hmacsha2");
        assert_eq!(hex::encode(out), "030a0a726174636865746b65791001220a63697068657274657874686d616373686132");
        let mut g = vec![3];
        put_varint_field(&mut g, 1, 200);
        put_bytes_field(&mut g, 2, b"ciphertext");
        assert_eq!(hex::encode(&g[..6]), "0308c801120a");
    }

    #[test]
    fn varint_limits() {
        // 10-byte varint with a 2 in the top byte overflows u64
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert!(matches!(r.varint("x"), Err(DecodeError::OversizeVarint(_))));
        let mut r = Reader::new(&[0x80, 0x80]);
        assert!(matches!(r.varint("x"), Err(DecodeError::Truncated(_))));
        let mut r = Reader::new(&[0x0a, 0x05, 1, 2]);
        assert!(matches!(r.field(), Err(DecodeError::Truncated(_))));
        assert!(matches!(as_u32(Value::Varint(1 << 32), "i"), Err(DecodeError::OversizeVarint(_))));
    }
}
