//! serde for the key types (feature `serde`), with the data-model calls vodozemac 0.11.1 makes,
//! so that every serde format (JSON, MessagePack, …) gives byte-identical output and reads what
//! vodozemac wrote:
//!
//! | type | serde data model (vodozemac 0.11.1 through x25519-dalek 3 / ed25519-dalek 3) |
//! |---|---|
//! | [`Curve25519PublicKey`] | newtype `PublicKey`(newtype `MontgomeryPoint`(tuple of 32 `u8`)) |
//! | [`Curve25519SecretKey`] | newtype `StaticSecret`(tuple of 32 `u8`), the raw unclamped bytes |
//! | [`Ed25519PublicKey`] | bytes (32); read from bytes or a sequence of exactly 32 `u8`, then point-checked |
//! | [`Ed25519SecretKey`] | bytes (the 32-byte seed); a key that has only libolm's expanded form cannot be serialized |
//!
//! Secret bytes are read straight into [`SecretBytes`] (never into a stack array or a growing
//! vector). The helper types below give the pickle structs the same shapes for their raw
//! secret fields.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::ed25519::SecretForm;
use super::{Curve25519PublicKey, Curve25519SecretKey, Ed25519PublicKey, Ed25519SecretKey, SecretBytes};

// ---------------------------------------------------------------- secret byte helpers

/// How a fixed-size secret is read, matching the type vodozemac reads it with.
#[derive(Clone, Copy)]
enum Form {
    /// serde's `[u8; N]`: `deserialize_tuple(N)`, exactly N elements read.
    Tuple,
    /// `Vec<u8>` then a length check (vodozemac's Megolm ratchet): `deserialize_seq`.
    Seq,
    /// ed25519-dalek's keys: `deserialize_bytes`, bytes or a sequence of exactly N `u8`.
    Bytes,
    /// serde_bytes' `ByteBuf` then a length check (vodozemac's expanded Ed25519 key):
    /// `deserialize_byte_buf`, bytes, a string's bytes or a sequence.
    ByteBuf,
}

struct FillVisitor<const N: usize> {
    form: Form,
}

impl<const N: usize> FillVisitor<N> {
    fn copy<E: de::Error>(&self, v: &[u8]) -> Result<SecretBytes<N>, E> {
        SecretBytes::from_slice(v).ok_or_else(|| E::invalid_length(v.len(), self))
    }
}

impl<'de, const N: usize> Visitor<'de> for FillVisitor<N> {
    type Value = SecretBytes<N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{N} bytes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = SecretBytes::<N>::zero();
        for (i, slot) in out.expose_mut().iter_mut().enumerate() {
            *slot = seq.next_element::<u8>()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
        }
        // serde's arrays read exactly N elements and leave the rest to the format (which then
        // refuses them); the other readers refuse a longer sequence themselves.
        if !matches!(self.form, Form::Tuple) && seq.next_element::<u8>()?.is_some() {
            return Err(de::Error::invalid_length(N + 1, &self));
        }
        Ok(out)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        match self.form {
            Form::Bytes | Form::ByteBuf => self.copy(v),
            Form::Tuple | Form::Seq => Err(E::invalid_type(de::Unexpected::Bytes(&[]), &self)),
        }
    }

    fn visit_byte_buf<E: de::Error>(self, mut v: Vec<u8>) -> Result<Self::Value, E> {
        let r = self.visit_bytes(&v);
        v.zeroize();
        r
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match self.form {
            Form::ByteBuf => self.copy(v.as_bytes()),
            _ => Err(E::invalid_type(de::Unexpected::Str(""), &self)),
        }
    }

    fn visit_string<E: de::Error>(self, mut v: String) -> Result<Self::Value, E> {
        let r = self.visit_str(&v);
        v.zeroize();
        r
    }
}

fn read<'de, D: Deserializer<'de>, const N: usize>(d: D, form: Form) -> Result<SecretBytes<N>, D::Error> {
    let v = FillVisitor::<N> { form };
    match form {
        Form::Tuple => d.deserialize_tuple(N, v),
        Form::Seq => d.deserialize_seq(v),
        Form::Bytes => d.deserialize_bytes(v),
        Form::ByteBuf => d.deserialize_byte_buf(v),
    }
}

/// `N` secret bytes shaped as serde's `[u8; N]` (a tuple of N `u8`): vodozemac's
/// `Box<[u8; 32]>` root, chain and message keys.
pub(crate) struct SecretTuple<const N: usize>(pub(crate) SecretBytes<N>);

impl<const N: usize> Serialize for SecretTuple<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TupleRef(self.0.expose()).serialize(s)
    }
}

/// Borrowed secret bytes written as serde's `[u8; N]` (a tuple of N `u8`): what
/// [`SecretTuple`] writes, without a copy of the secret.
struct TupleRef<'a, const N: usize>(pub(crate) &'a [u8; N]);

impl<const N: usize> Serialize for TupleRef<'_, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(N)?;
        for b in self.0 {
            t.serialize_element(b)?;
        }
        t.end()
    }
}

impl<'de, const N: usize> Deserialize<'de> for SecretTuple<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(d, Form::Tuple).map(Self)
    }
}

/// `N` secret bytes shaped as a sequence of `u8` of length N (vodozemac's Megolm ratchet,
/// written from a slice and read as a `Vec<u8>`).
pub(crate) struct SecretSeq<const N: usize>(pub(crate) SecretBytes<N>);

impl<const N: usize> Serialize for SecretSeq<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SeqRef(self.0.expose()).serialize(s)
    }
}

/// Borrowed secret bytes written as a sequence of N `u8`: what [`SecretSeq`] writes, without a
/// copy of the secret.
struct SeqRef<'a, const N: usize>(&'a [u8; N]);

impl<const N: usize> Serialize for SeqRef<'_, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_seq(Some(N))?;
        for b in self.0 {
            t.serialize_element(b)?;
        }
        t.end()
    }
}

impl<'de, const N: usize> Deserialize<'de> for SecretSeq<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(d, Form::Seq).map(Self)
    }
}

/// An Ed25519 seed shaped as ed25519-dalek's `SigningKey` (bytes).
struct SeedBytes(SecretBytes<32>);

impl Serialize for SeedBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0.expose())
    }
}

impl<'de> Deserialize<'de> for SeedBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(d, Form::Bytes).map(Self)
    }
}

/// libolm's 64-byte expanded Ed25519 key shaped as vodozemac's `ExpandedSecretKey` (bytes).
struct ExpandedBytes(SecretBytes<64>);

impl Serialize for ExpandedBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0.expose())
    }
}

impl<'de> Deserialize<'de> for ExpandedBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(d, Form::ByteBuf).map(Self)
    }
}

/// A derived newtype struct's reader: the inner value, or (for formats that write newtype
/// structs as sequences) the first element of a sequence.
struct NewtypeVisitor<T>(&'static str, PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for NewtypeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tuple struct {}", self.0)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        seq.next_element::<T>()?.ok_or_else(|| de::Error::invalid_length(0, &"tuple struct with 1 element"))
    }
}

fn newtype<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D, name: &'static str) -> Result<T, D::Error> {
    d.deserialize_newtype_struct(name, NewtypeVisitor(name, PhantomData))
}

// ---------------------------------------------------------------- Curve25519

/// x25519-dalek's `MontgomeryPoint`: newtype struct of `[u8; 32]`.
struct Montgomery([u8; 32]);

impl Serialize for Montgomery {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("MontgomeryPoint", &self.0)
    }
}

impl<'de> Deserialize<'de> for Montgomery {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        newtype(d, "MontgomeryPoint").map(Self)
    }
}

impl Serialize for Curve25519PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("PublicKey", &Montgomery(self.to_bytes()))
    }
}

impl<'de> Deserialize<'de> for Curve25519PublicKey {
    /// Any 32 bytes, as [`Curve25519PublicKey::from_bytes`] (a small-order key is refused
    /// where it is used, or where a pickle stores it).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        newtype::<D, Montgomery>(d, "PublicKey").map(|m| Self::from_bytes(m.0))
    }
}

impl Serialize for Curve25519SecretKey {
    /// Written from the key's own storage (no copy of the secret).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // serde's own `[u8; 32]` (what x25519-dalek's `StaticSecret` writes): the same calls
        // as `SecretTuple`, and the same code as vodozemac's
        s.serialize_newtype_struct("StaticSecret", self.secret_bytes())
    }
}

impl<'de> Deserialize<'de> for Curve25519SecretKey {
    /// The raw 32 bytes, unclamped (as they were written).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        newtype::<D, SecretTuple<32>>(d, "StaticSecret").map(|t| Self::from_secret_bytes(&t.0))
    }
}

// ---------------------------------------------------------------- Ed25519

impl Serialize for Ed25519PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.as_bytes())
    }
}

impl<'de> Deserialize<'de> for Ed25519PublicKey {
    /// 32 bytes that decompress to a curve point (ed25519-dalek's `VerifyingKey`); a
    /// small-order key is accepted here and refused by [`Ed25519PublicKey::verify`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ed25519PublicKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an Ed25519 public key (32 bytes)")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ed25519PublicKey::from_slice(v).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut b = [0u8; 32];
                for (i, slot) in b.iter_mut().enumerate() {
                    *slot = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                if seq.next_element::<u8>()?.is_some() {
                    return Err(de::Error::invalid_length(33, &self));
                }
                Ed25519PublicKey::from_bytes(&b).map_err(de::Error::custom)
            }
        }
        d.deserialize_bytes(V)
    }
}

impl Serialize for Ed25519SecretKey {
    /// The 32-byte seed as bytes.
    ///
    /// # Errors
    /// A key known only in libolm's expanded form (an account imported from libolm) has no
    /// seed: serializing it is an error, as vodozemac's `Ed25519SecretKey` cannot hold it.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.seed() {
            Some(seed) => s.serialize_bytes(seed.expose()),
            None => Err(serde::ser::Error::custom("an Ed25519 key in libolm's expanded form has no seed to serialize")),
        }
    }
}

impl<'de> Deserialize<'de> for Ed25519SecretKey {
    /// A 32-byte seed (bytes, or a sequence of exactly 32 `u8`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SeedBytes::deserialize(d).map(|s| Self::from_seed(s.0))
    }
}

/// vodozemac's `Ed25519KeypairPickle` (the signing key of an account or an outbound group
/// session): the externally tagged enum `SecretKeys { Normal(seed bytes), Expanded(64 bytes) }`.
#[derive(Serialize, Deserialize)]
#[serde(rename = "SecretKeys")]
enum KeypairForm {
    Normal(SeedBytes),
    Expanded(ExpandedBytes),
}

/// [`KeypairForm`] for writing, borrowing the seed or the expanded bytes (the same serde
/// name, variants and indices, so the same data-model calls).
#[derive(Serialize)]
#[serde(rename = "SecretKeys")]
enum KeypairFormRef<'a> {
    Normal(BytesRef<'a>),
    Expanded(BytesRef<'a>),
}

/// Borrowed secret bytes written as bytes (what [`SeedBytes`] and [`ExpandedBytes`] write).
struct BytesRef<'a>(&'a [u8]);

impl Serialize for BytesRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// An Ed25519 secret key in vodozemac's keypair-pickle shape, in the form it was created in.
pub(crate) struct Ed25519KeypairPickle(pub(crate) Ed25519SecretKey);

impl Serialize for Ed25519KeypairPickle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        KeypairRef(&self.0).serialize(s)
    }
}

/// A borrowed Ed25519 secret key written in vodozemac's keypair-pickle shape (no copy of the
/// seed; a key held in libolm's expanded form is written from its own expanded bytes).
pub(crate) struct KeypairRef<'a>(pub(crate) &'a Ed25519SecretKey);

impl Serialize for KeypairRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.form() {
            SecretForm::Seed(seed) => KeypairFormRef::Normal(BytesRef(seed.expose())),
            SecretForm::Expanded(e) => KeypairFormRef::Expanded(BytesRef(e.expose())),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Ed25519KeypairPickle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self(match KeypairForm::deserialize(d)? {
            KeypairForm::Normal(seed) => Ed25519SecretKey::from_seed(seed.0),
            KeypairForm::Expanded(e) => Ed25519SecretKey::from_expanded(e.0),
        }))
    }
}

/// `#[serde(with = …)]` helpers for the pickle structs' secret fields.
pub(crate) mod with {
    use super::*;

    /// `SecretBytes<N>` as serde's `[u8; N]` (a tuple of N `u8`).
    pub(crate) mod tuple {
        use super::*;
        pub(crate) fn serialize<S: Serializer, const N: usize>(v: &SecretBytes<N>, s: S) -> Result<S::Ok, S::Error> {
            TupleRef(v.expose()).serialize(s)
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<SecretBytes<N>, D::Error> {
            SecretTuple::deserialize(d).map(|t| t.0)
        }
    }

    /// `SecretBytes<N>` as a sequence of N `u8` (vodozemac's Megolm ratchet).
    pub(crate) mod seq {
        use super::*;
        pub(crate) fn serialize<S: Serializer, const N: usize>(v: &SecretBytes<N>, s: S) -> Result<S::Ok, S::Error> {
            SeqRef(v.expose()).serialize(s)
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<SecretBytes<N>, D::Error> {
            SecretSeq::deserialize(d).map(|t| t.0)
        }
    }

    /// An Ed25519 secret key as vodozemac's `Ed25519KeypairPickle`.
    pub(crate) mod keypair {
        use super::*;
        pub(crate) fn serialize<S: Serializer>(v: &Ed25519SecretKey, s: S) -> Result<S::Ok, S::Error> {
            KeypairRef(v).serialize(s)
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ed25519SecretKey, D::Error> {
            Ed25519KeypairPickle::deserialize(d).map(|k| k.0)
        }
    }
}

// ---------------------------------------------------------------- base64 as vodozemac reads it

/// Decodes unpadded base64 only (as vodozemac's Megolm session keys are read, through
/// base64ct) into a buffer wiped on drop.
pub(crate) fn base64_decode_unpadded_secret(
    input: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, super::Base64DecodeError> {
    use base64ct::{Base64Unpadded, Encoding};
    let mut out = zeroize::Zeroizing::new(vec![0u8; input.len() / 4 * 3 + 3]);
    let len = Base64Unpadded::decode(input.as_bytes(), &mut out).map_err(|_| super::Base64DecodeError)?.len();
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde::de::value::{
        BytesDeserializer, Error as ValueError, SeqAccessDeserializer, SeqDeserializer, StrDeserializer,
    };

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Fields {
        #[serde(with = "with::tuple")]
        tuple: SecretBytes<4>,
        #[serde(with = "with::seq")]
        seq: SecretBytes<4>,
        #[serde(with = "with::keypair")]
        keypair: Ed25519SecretKey,
    }

    fn seed(i: u8) -> Ed25519SecretKey {
        Ed25519SecretKey::from_seed(SecretBytes::from_array(&mut [i; 32]))
    }

    fn numbers(n: usize) -> String {
        serde_json::to_string(&vec![7u8; n]).unwrap()
    }

    #[test]
    fn secret_keys_round_trip_in_their_vodozemac_shapes() {
        let curve = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [5; 32]));
        let json = serde_json::to_string(&curve).unwrap();
        assert_eq!(json, numbers(32).replace('7', "5"));
        let back: Curve25519SecretKey = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_secret_bytes(), curve.to_secret_bytes());

        let ed = seed(3);
        let back: Ed25519SecretKey = serde_json::from_str(&serde_json::to_string(&ed).unwrap()).unwrap();
        assert_eq!(back.seed(), ed.seed());

        // both forms of the keypair pickle, each kept in its form
        for key in [seed(4), Ed25519SecretKey::from_expanded(seed(4).expanded_bytes())] {
            let fields = Fields {
                tuple: SecretBytes::from_array(&mut [1, 2, 3, 4]),
                seq: SecretBytes::from_array(&mut [5, 6, 7, 8]),
                keypair: key,
            };
            let json = serde_json::to_string(&fields).unwrap();
            let back: Fields = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
            assert_eq!(*back.tuple.expose(), [1, 2, 3, 4]);
            assert_eq!(*back.seq.expose(), [5, 6, 7, 8]);
            assert_eq!(back.keypair.seed(), fields.keypair.seed());
            assert_eq!(back.keypair.expanded_bytes(), fields.keypair.expanded_bytes());
            assert_eq!(back.keypair.public_key(), fields.keypair.public_key());
        }
    }

    #[test]
    fn secret_bytes_of_the_wrong_length_or_type_are_refused() {
        // a seed (bytes read from a sequence): exactly 32 elements
        assert!(serde_json::from_str::<Ed25519SecretKey>(&numbers(32)).is_ok());
        assert!(serde_json::from_str::<Ed25519SecretKey>(&numbers(31)).is_err());
        assert!(serde_json::from_str::<Ed25519SecretKey>(&numbers(33)).is_err());
        // an Ed25519 public key: exactly 32 elements or bytes, a curve point
        let public = seed(1).public_key();
        let json = serde_json::to_string(&public).unwrap();
        assert_eq!(serde_json::from_str::<Ed25519PublicKey>(&json).unwrap(), public);
        assert!(serde_json::from_str::<Ed25519PublicKey>(&json.replace(']', ",0]")).is_err());
        assert!(serde_json::from_str::<Ed25519PublicKey>(&numbers(31)).is_err());
        assert!(Ed25519PublicKey::deserialize(BytesDeserializer::<ValueError>::new(public.as_bytes())).is_ok());
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2; // y = 2 is not on the curve
        assert!(Ed25519PublicKey::deserialize(BytesDeserializer::<ValueError>::new(&not_a_point)).is_err());
        let curve = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [5; 32])).public_key();
        assert_eq!(
            serde_json::from_str::<Curve25519PublicKey>(&serde_json::to_string(&curve).unwrap()).unwrap(),
            curve
        );
        // a Curve25519 secret (a tuple): exactly 32 elements
        assert!(serde_json::from_str::<Curve25519SecretKey>(&numbers(31)).is_err());
        assert!(serde_json::from_str::<Curve25519SecretKey>(&numbers(33)).is_err());
        // a Megolm ratchet (a sequence) of 5 instead of 4
        let fields = |seq: usize| {
            format!(r#"{{"tuple":{},"seq":{},"keypair":{{"Normal":{}}}}}"#, numbers(4), numbers(seq), numbers(32))
        };
        assert!(serde_json::from_str::<Fields>(&fields(4)).is_ok());
        assert!(serde_json::from_str::<Fields>(&fields(5)).is_err());
        assert!(serde_json::from_str::<Fields>(&fields(3)).is_err());
        // bytes where a tuple or a sequence is read, and a string only where vodozemac's
        // `ByteBuf` takes one (the expanded key)
        let bytes = [7u8; 32];
        assert!(SecretTuple::<32>::deserialize(BytesDeserializer::<ValueError>::new(&bytes)).is_err());
        assert!(SecretSeq::<32>::deserialize(BytesDeserializer::<ValueError>::new(&bytes)).is_err());
        assert!(SeedBytes::deserialize(BytesDeserializer::<ValueError>::new(&bytes)).is_ok());
        assert!(SeedBytes::deserialize(BytesDeserializer::<ValueError>::new(&bytes[..31])).is_err());
        // a format that leaves a longer sequence's rest unread (serde_json refuses it itself):
        // only a tuple leaves the rest to the format
        let elements =
            |n: usize| SeqAccessDeserializer::new(SeqDeserializer::<_, ValueError>::new(vec![7u8; n].into_iter()));
        assert!(SecretSeq::<32>::deserialize(elements(32)).is_ok());
        let err = SecretSeq::<32>::deserialize(elements(33)).err().unwrap();
        assert_eq!(err.to_string(), "invalid length 33, expected 32 bytes");
        assert!(SeedBytes::deserialize(elements(33)).is_err());
        assert!(SecretTuple::<32>::deserialize(elements(33)).is_ok());
        let err = SecretSeq::<32>::deserialize(elements(31)).err().unwrap();
        assert_eq!(err.to_string(), "invalid length 31, expected 32 bytes");
        // what the other visitors expected, in their errors
        let err = serde_json::from_str::<Ed25519PublicKey>("1").err().unwrap().to_string();
        assert!(err.starts_with("invalid type: integer `1`, expected an Ed25519 public key (32 bytes)"), "{err}");
        let err = Curve25519PublicKey::deserialize(StrDeserializer::<ValueError>::new("x")).err().unwrap();
        assert_eq!(err.to_string(), r#"invalid type: string "x", expected tuple struct PublicKey"#);
        let text = "x".repeat(64);
        let expanded = ExpandedBytes::deserialize(StrDeserializer::<ValueError>::new(&text)).unwrap();
        assert_eq!(*expanded.0.expose(), [b'x'; 64]);
        assert!(ExpandedBytes::deserialize(StrDeserializer::<ValueError>::new(&text[..63])).is_err());
        assert!(SeedBytes::deserialize(StrDeserializer::<ValueError>::new(&text[..32])).is_err());
    }

    /// Megolm session keys are read from unpadded base64 only, as vodozemac reads them.
    #[test]
    fn unpadded_base64_secrets_decode_exactly() {
        let decode = |s: &str| base64_decode_unpadded_secret(s).map(|v| v.to_vec());
        assert_eq!(decode("AQID").unwrap(), [1, 2, 3]);
        assert_eq!(decode("AQIDBA").unwrap(), [1, 2, 3, 4]);
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
        assert!(decode("AQIDBA==").is_err());
        assert!(decode("AQ!D").is_err());
        let key = [7u8; 229];
        assert_eq!(decode(&crate::primitives::base64_encode(key)).unwrap(), key);
    }
}
