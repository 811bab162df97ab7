//! The SPQR message: the bytes carried in field 5 of a `SignalMessage`.
//!
//! | bytes | field | rule |
//! |---|---|---|
//! | 1 | version | `0x01` (V1) |
//! | 1–10 | epoch | LEB128 varint, ≥ 1 |
//! | 1–5 | index | LEB128 varint, fits a `u32`: the chain index of the message key (0 = no key) |
//! | 1 | type | 0 None, 1 Hdr, 2 Ek, 3 EkCt1Ack, 4 Ct1Ack, 5 Ct1, 6 Ct2 |
//! | 1–3 | chunk index | types 1, 2, 3, 5, 6 only: LEB128 varint ≤ 65 535 |
//! | 32 | chunk | types 1, 2, 3, 5, 6 only |
//! | … | trailing bytes | ignored (libsignal keeps them for forward extension) |
//!
//! Varints may be non-minimal (libsignal's parser takes them) but never longer than 10 bytes
//! nor above `u64::MAX`. The message is 4 bytes without a chunk and 37 with one while epoch,
//! index and chunk index are below 128. An empty field 5 is not a message: it means V0.

use super::erasure::CHUNK_LEN;

/// The version byte of SPQR V1 messages.
pub const SPQR_V1: u8 = 1;

/// One chunk of an erasure-coded payload: 32 bytes and their index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chunk {
    /// The chunk index (below the payload's chunk count: systematic; above: parity).
    pub index: u16,
    /// The 32 bytes.
    pub data: [u8; CHUNK_LEN],
}

/// What an SPQR message carries for the ML-KEM Braid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payload {
    /// Nothing (type 0).
    None,
    /// A chunk of the header message `hdr ‖ mac_hdr` (type 1).
    Hdr(Chunk),
    /// A chunk of the ek vector (type 2).
    Ek(Chunk),
    /// A chunk of the ek vector that also acknowledges all of ct1 (type 3).
    EkCt1Ack(Chunk),
    /// "I have all of ct1", without a chunk (type 4).
    Ct1Ack,
    /// A chunk of ct1 (type 5).
    Ct1(Chunk),
    /// A chunk of `ct2 ‖ mac_ct` (type 6).
    Ct2(Chunk),
}

impl Payload {
    fn type_byte(&self) -> u8 {
        match self {
            Self::None => 0,
            Self::Hdr(_) => 1,
            Self::Ek(_) => 2,
            Self::EkCt1Ack(_) => 3,
            Self::Ct1Ack => 4,
            Self::Ct1(_) => 5,
            Self::Ct2(_) => 6,
        }
    }

    /// The chunk carried, if any.
    pub fn chunk(&self) -> Option<&Chunk> {
        match self {
            Self::Hdr(c) | Self::Ek(c) | Self::EkCt1Ack(c) | Self::Ct1(c) | Self::Ct2(c) => Some(c),
            Self::None | Self::Ct1Ack => None,
        }
    }

    /// The type's name, as libsignal spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Hdr(_) => "Hdr",
            Self::Ek(_) => "Ek",
            Self::EkCt1Ack(_) => "EkCt1Ack",
            Self::Ct1Ack => "Ct1Ack",
            Self::Ct1(_) => "Ct1",
            Self::Ct2(_) => "Ct2",
        }
    }
}

/// A decoded SPQR V1 message. It holds no secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpqrMessage {
    /// The sender's SCKA epoch (≥ 1). The message key comes from chain epoch `epoch − 1`.
    pub epoch: u64,
    /// The index of the message key in the sender's chain for that epoch (0: no key).
    pub index: u32,
    /// The ML-KEM Braid payload.
    pub payload: Payload,
}

/// Why field 5 could not be decoded as an SPQR V1 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpqrDecodeError {
    /// No bytes at all (the caller treats an empty field 5 as V0 before decoding).
    #[error("empty SPQR message")]
    Empty,
    /// The first byte is not `0x01`.
    #[error("unsupported SPQR message version {0:#04x}")]
    UnsupportedVersion(u8),
    /// The input ended inside the named field.
    #[error("truncated SPQR message: {0}")]
    Truncated(&'static str),
    /// A varint longer than 10 bytes or above `u64::MAX`.
    #[error("oversize varint in the SPQR message's {0}")]
    OversizeVarint(&'static str),
    /// Epoch 0 does not exist.
    #[error("SPQR message with epoch 0")]
    EpochZero,
    /// A chain index that does not fit 32 bits.
    #[error("SPQR message index {0} exceeds 2^32 − 1")]
    IndexTooLarge(u64),
    /// A type byte above 6.
    #[error("unknown SPQR message type {0}")]
    UnknownType(u8),
    /// A chunk index above 65 535.
    #[error("SPQR chunk index {0} exceeds 65535")]
    ChunkIndexTooLarge(u64),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self, what: &'static str) -> Result<u8, SpqrDecodeError> {
        let b = *self.buf.get(self.pos).ok_or(SpqrDecodeError::Truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, SpqrDecodeError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.byte(what)?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && bits > 1 {
                return Err(SpqrDecodeError::OversizeVarint(what));
            }
            v |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(SpqrDecodeError::OversizeVarint(what))
    }

    fn chunk(&mut self) -> Result<Chunk, SpqrDecodeError> {
        let index = self.varint("chunk index")?;
        let index = u16::try_from(index).map_err(|_| SpqrDecodeError::ChunkIndexTooLarge(index))?;
        let end = self.pos + CHUNK_LEN;
        let bytes = self.buf.get(self.pos..end).ok_or(SpqrDecodeError::Truncated("chunk"))?;
        let mut data = [0u8; CHUNK_LEN];
        data.copy_from_slice(bytes);
        self.pos = end;
        Ok(Chunk { index, data })
    }
}

impl SpqrMessage {
    /// The wire form (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 10 + 5 + 1 + 3 + CHUNK_LEN);
        out.push(SPQR_V1);
        put_varint(&mut out, self.epoch);
        put_varint(&mut out, u64::from(self.index));
        out.push(self.payload.type_byte());
        if let Some(c) = self.payload.chunk() {
            put_varint(&mut out, u64::from(c.index));
            out.extend_from_slice(&c.data);
        }
        out
    }

    /// Decodes a V1 message; bytes after it are ignored, as libsignal does.
    ///
    /// # Errors
    /// A [`SpqrDecodeError`] naming what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SpqrDecodeError> {
        Self::from_bytes_with_len(bytes).map(|(m, _)| m)
    }

    /// Decodes a V1 message and also returns how many bytes it took (the rest is trailing).
    ///
    /// # Errors
    /// As [`SpqrMessage::from_bytes`].
    pub fn from_bytes_with_len(bytes: &[u8]) -> Result<(Self, usize), SpqrDecodeError> {
        let mut r = Reader { buf: bytes, pos: 0 };
        match bytes.first() {
            None => return Err(SpqrDecodeError::Empty),
            Some(&SPQR_V1) => r.pos = 1,
            Some(&v) => return Err(SpqrDecodeError::UnsupportedVersion(v)),
        }
        let epoch = r.varint("epoch")?;
        if epoch == 0 {
            return Err(SpqrDecodeError::EpochZero);
        }
        let index = r.varint("index")?;
        let index = u32::try_from(index).map_err(|_| SpqrDecodeError::IndexTooLarge(index))?;
        let payload = match r.byte("message type")? {
            0 => Payload::None,
            1 => Payload::Hdr(r.chunk()?),
            2 => Payload::Ek(r.chunk()?),
            3 => Payload::EkCt1Ack(r.chunk()?),
            4 => Payload::Ct1Ack,
            5 => Payload::Ct1(r.chunk()?),
            6 => Payload::Ct2(r.chunk()?),
            t => return Err(SpqrDecodeError::UnknownType(t)),
        };
        Ok((Self { epoch, index, payload }, r.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn captured_examples() {
        // Bob's None, a Ct1Ack at index 40, and a parity EkCt1Ack at index 128 (libsignal 0.103).
        let none = SpqrMessage::from_bytes(&h("01010100")).unwrap();
        assert_eq!(none, SpqrMessage { epoch: 1, index: 1, payload: Payload::None });
        assert_eq!(none.to_bytes(), h("01010100"));
        let ack = SpqrMessage::from_bytes(&h("01012804")).unwrap();
        assert_eq!(ack, SpqrMessage { epoch: 1, index: 40, payload: Payload::Ct1Ack });
        let mut long = h("0101800103760000");
        long.resize(6 + 32, 0xAB);
        let m = SpqrMessage::from_bytes(&long).unwrap();
        assert_eq!(m.index, 128);
        assert_eq!(m.payload.chunk().unwrap().index, 118);
        assert_eq!(m.to_bytes(), long);
    }

    #[test]
    fn precise_errors() {
        use SpqrDecodeError as E;
        assert_eq!(SpqrMessage::from_bytes(&[]), Err(E::Empty));
        assert_eq!(SpqrMessage::from_bytes(&[2, 1, 1, 0]), Err(E::UnsupportedVersion(2)));
        assert_eq!(SpqrMessage::from_bytes(&[1]), Err(E::Truncated("epoch")));
        assert_eq!(SpqrMessage::from_bytes(&[1, 0x80]), Err(E::Truncated("epoch")));
        assert_eq!(SpqrMessage::from_bytes(&[1, 0, 1, 0]), Err(E::EpochZero));
        assert_eq!(SpqrMessage::from_bytes(&[1, 1]), Err(E::Truncated("index")));
        assert_eq!(SpqrMessage::from_bytes(&[1, 1, 1]), Err(E::Truncated("message type")));
        assert_eq!(SpqrMessage::from_bytes(&[1, 1, 1, 7]), Err(E::UnknownType(7)));
        assert_eq!(SpqrMessage::from_bytes(&[1, 1, 1, 1]), Err(E::Truncated("chunk index")));
        assert_eq!(SpqrMessage::from_bytes(&[1, 1, 1, 1, 0, 0]), Err(E::Truncated("chunk")));
        assert_eq!(SpqrMessage::from_bytes(&[1, 1, 1, 2, 0x80, 0x80, 0x04]), Err(E::ChunkIndexTooLarge(65536)));
        assert_eq!(SpqrMessage::from_bytes(&[1, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 0]), Err(E::IndexTooLarge(1 << 32)));
        let mut over = vec![1];
        over.extend([0xFF; 9]);
        over.push(0x02);
        assert_eq!(SpqrMessage::from_bytes(&over), Err(E::OversizeVarint("epoch")));
        let mut eleven = vec![1];
        eleven.extend([0x80; 10]);
        eleven.push(0);
        assert_eq!(SpqrMessage::from_bytes(&eleven), Err(E::OversizeVarint("epoch")));
        // Non-minimal varints and trailing bytes are accepted.
        let (m, used) = SpqrMessage::from_bytes_with_len(&[1, 0x81, 0x00, 1, 0, 0xEE]).unwrap();
        assert_eq!((m.epoch, used), (1, 5));
        assert_eq!(
            SpqrMessage::from_bytes(&[1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, 0])
                .unwrap()
                .epoch,
            u64::MAX
        );
    }

    /// Each of the seven payload types: its type byte (the fourth byte here), its libsignal
    /// name, and the round trip through the wire form.
    #[test]
    fn every_payload_type_has_its_byte_and_name() {
        let c = Chunk { index: 3, data: [0x5A; CHUNK_LEN] };
        let all = [
            (Payload::None, "None"),
            (Payload::Hdr(c), "Hdr"),
            (Payload::Ek(c), "Ek"),
            (Payload::EkCt1Ack(c), "EkCt1Ack"),
            (Payload::Ct1Ack, "Ct1Ack"),
            (Payload::Ct1(c), "Ct1"),
            (Payload::Ct2(c), "Ct2"),
        ];
        for (t, (payload, name)) in all.into_iter().enumerate() {
            assert_eq!(payload.name(), name);
            let m = SpqrMessage { epoch: 2, index: 1, payload };
            let bytes = m.to_bytes();
            assert_eq!(bytes[3], t as u8, "{name}");
            assert_eq!(bytes.len(), if payload.chunk().is_some() { 5 + CHUNK_LEN } else { 4 }, "{name}");
            assert_eq!(SpqrMessage::from_bytes(&bytes), Ok(m));
        }
    }
}
