//! A minimal, strict JSON reader for vodozemac's pickles (import only; nothing here writes
//! JSON).
//!
//! Why not `serde_json`: the whole decrypted document is secret (keys are arrays of numbers),
//! and a generic deserializer copies numbers and strings into buffers this crate does not
//! control. This reader keeps every value in a tree that is wiped on drop, needs no new
//! dependency in the library, and accepts only what vodozemac writes: RFC 8259 JSON whose
//! numbers are non-negative integers below 2^64, nested at most [`MAX_DEPTH`] deep, without
//! duplicate object keys. Anything else is an error with the byte offset.
//!
//! No buffer ever grows: `Vec`'s growth frees the old allocation without wiping it, which would
//! leave copies of the numbers (the secret bytes) in freed memory. Each array and object is
//! sized by a first pass that counts its items, and each string by the length of its raw text.

use zeroize::{Zeroize, Zeroizing};

use crate::error::PickleError;
use crate::primitives::SecretBytes;

/// Deepest nesting accepted (vodozemac's pickles nest 6 levels).
pub(crate) const MAX_DEPTH: usize = 32;
/// Most items in one array or object (vodozemac's largest is an account's map of up to 5 000
/// one-time keys; the account reader refuses more than that itself, with `TooMany`), so that the
/// capacity reserved before parsing one stays bounded whatever the input.
pub(crate) const MAX_ITEMS: usize = 1 << 16;

/// A parsed JSON value. Numbers and strings are wiped when the tree is dropped.
pub(crate) enum Json {
    Null,
    Bool(bool),
    Num(u64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Drop for Json {
    fn drop(&mut self) {
        match self {
            Json::Num(n) => n.zeroize(),
            Json::Str(s) => s.zeroize(),
            Json::Bool(b) => b.zeroize(),
            Json::Obj(members) => {
                for (k, _) in members.iter_mut() {
                    k.zeroize();
                }
            }
            Json::Null | Json::Arr(_) => {}
        }
    }
}

impl Json {
    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The member `key`, which must be present.
    pub(crate) fn field(&self, key: &'static str) -> Result<&Json, PickleError> {
        self.get(key).ok_or(PickleError::MissingField(key))
    }

    /// The member `key` unless it is absent or `null`.
    pub(crate) fn optional(&self, key: &str) -> Option<&Json> {
        self.get(key).filter(|v| !matches!(v, Json::Null))
    }

    pub(crate) fn as_u64(&self, what: &'static str) -> Result<u64, PickleError> {
        match self {
            Json::Num(n) => Ok(*n),
            _ => Err(PickleError::MissingField(what)),
        }
    }

    pub(crate) fn as_u32(&self, what: &'static str) -> Result<u32, PickleError> {
        u32::try_from(self.as_u64(what)?).map_err(|_| PickleError::InvalidField(what))
    }

    pub(crate) fn as_bool(&self, what: &'static str) -> Result<bool, PickleError> {
        match self {
            Json::Bool(b) => Ok(*b),
            _ => Err(PickleError::MissingField(what)),
        }
    }

    pub(crate) fn as_str(&self, what: &'static str) -> Result<&str, PickleError> {
        match self {
            Json::Str(s) => Ok(s),
            _ => Err(PickleError::MissingField(what)),
        }
    }

    pub(crate) fn as_array(&self, what: &'static str) -> Result<&[Json], PickleError> {
        match self {
            Json::Arr(a) => Ok(a),
            _ => Err(PickleError::MissingField(what)),
        }
    }

    pub(crate) fn as_object(&self, what: &'static str) -> Result<&[(String, Json)], PickleError> {
        match self {
            Json::Obj(m) => Ok(m),
            _ => Err(PickleError::MissingField(what)),
        }
    }

    /// Exactly `N` numbers of at most 255, as serde writes byte arrays, copied straight into a
    /// zeroizing box.
    pub(crate) fn secret<const N: usize>(&self, what: &'static str) -> Result<SecretBytes<N>, PickleError> {
        let items = self.as_array(what)?;
        if items.len() != N {
            return Err(PickleError::InvalidField(what));
        }
        let mut out = SecretBytes::<N>::zero();
        for (o, item) in out.expose_mut().iter_mut().zip(items) {
            match item {
                Json::Num(n) if *n <= 255 => *o = *n as u8,
                _ => return Err(PickleError::InvalidField(what)),
            }
        }
        Ok(out)
    }

    /// `N` public bytes (same encoding as [`Json::secret`]).
    pub(crate) fn bytes<const N: usize>(&self, what: &'static str) -> Result<[u8; N], PickleError> {
        Ok(*self.secret::<N>(what)?.expose())
    }
}

/// Parses a whole document.
pub(crate) fn parse(input: &[u8]) -> Result<Json, PickleError> {
    let mut p = Parser { s: input, pos: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos != input.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> PickleError {
        PickleError::Json { offset: self.pos, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, reason: &'static str) -> Result<(), PickleError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(reason))
        }
    }

    fn literal(&mut self, word: &'static [u8], v: Json) -> Result<Json, PickleError> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, PickleError> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'0'..=b'9') => self.number(),
            Some(b'-') => Err(self.err("negative numbers are not used in pickles")),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn number(&mut self) -> Result<Json, PickleError> {
        let start = self.pos;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            if self.pos > start && self.s[start] == b'0' {
                return Err(self.err("leading zero"));
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or_else(|| self.err("integer too large"))?;
            self.pos += 1;
        }
        if let Some(b'.' | b'e' | b'E') = self.peek() {
            return Err(self.err("only integers are used in pickles"));
        }
        Ok(Json::Num(n))
    }

    fn hex4(&mut self) -> Result<u32, PickleError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape")),
            };
            v = v << 4 | u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// The number of items of the array or object that starts at `self.pos` (`[` or `{`),
    /// counted without allocating: commas at its own nesting level, skipping strings. Only a
    /// capacity: malformed input is found by the parse that follows, and the count is bounded by
    /// the input's length.
    fn count_items(&self) -> usize {
        let (mut depth, mut commas, mut empty, mut in_string, mut escaped) = (0usize, 0usize, true, false, false);
        for &c in &self.s[self.pos..] {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                b'[' | b'{' => {
                    if depth == 1 {
                        empty = false;
                    }
                    depth += 1;
                }
                b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                b',' if depth == 1 => commas += 1,
                b'"' => {
                    in_string = true;
                    if depth == 1 {
                        empty = false;
                    }
                }
                b' ' | b'\t' | b'\n' | b'\r' => {}
                _ if depth == 1 => empty = false,
                _ => {}
            }
        }
        if empty { 0 } else { commas + 1 }
    }

    /// [`Parser::count_items`], refused above [`MAX_ITEMS`].
    fn checked_count(&self) -> Result<usize, PickleError> {
        let n = self.count_items();
        if n > MAX_ITEMS { Err(self.err("too many items in an array or object")) } else { Ok(n) }
    }

    /// The length of the raw text of the string whose opening quote was just consumed, up to
    /// its closing quote (or the end of the input): an upper bound of its decoded length.
    fn raw_string_len(&self) -> usize {
        let mut escaped = false;
        for (i, &c) in self.s[self.pos..].iter().enumerate() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => return i,
                _ => {}
            }
        }
        self.s.len() - self.pos
    }

    fn string(&mut self) -> Result<String, PickleError> {
        self.expect(b'"', "expected a string")?;
        // Zeroizing, so a string abandoned by an error is wiped too; sized so it never grows.
        let mut out = Zeroizing::new(Vec::with_capacity(self.raw_string_len()));
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.pos += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.pos..].starts_with(b"\\u") {
                                    return Err(self.err("lone surrogate"));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("lone surrogate"))?
                        }
                        _ => {
                            return Err(self.err("invalid escape"));
                        }
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => {
                    return Err(self.err("control character in string"));
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(core::mem::take(&mut *out)).map_err(|e| {
            let mut bytes = e.into_bytes();
            bytes.zeroize();
            self.err("invalid UTF-8 in string")
        })
    }

    fn array(&mut self, depth: usize) -> Result<Json, PickleError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let mut items = Vec::with_capacity(self.checked_count()?);
        self.expect(b'[', "expected an array")?;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Arr(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Arr(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, PickleError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let start = self.pos;
        let mut members: Vec<(String, Json)> = Vec::with_capacity(self.checked_count()?);
        self.expect(b'{', "expected an object")?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Obj(members));
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            self.expect(b':', "expected ':'")?;
            self.ws();
            let v = self.value(depth)?;
            members.push((key, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
        // Sorted by a binary heap rather than `sort_unstable` (O(n log n) either way; a fraction
        // of the code in the WebAssembly module).
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        let keys = std::collections::BinaryHeap::from(keys).into_sorted_vec();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(PickleError::Json { offset: start, reason: "duplicate key" });
        }
        Ok(Json::Obj(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_vodozemac_writes() {
        let v = parse(br#" {"a":[1,2,255],"b":{"c":null,"d":true,"e":"V1"},"f":18446744073709551615} "#).unwrap();
        assert_eq!(v.field("a").unwrap().bytes::<3>("a").unwrap(), [1, 2, 255]);
        assert!(matches!(v.field("b").unwrap().field("c").unwrap(), Json::Null));
        assert!(v.field("b").unwrap().optional("c").is_none());
        assert!(v.field("b").unwrap().field("d").unwrap().as_bool("d").unwrap());
        assert_eq!(v.field("b").unwrap().field("e").unwrap().as_str("e").unwrap(), "V1");
        assert_eq!(v.field("f").unwrap().as_u64("f").unwrap(), u64::MAX);
        assert_eq!(parse(br#""\u00e9\ud83d\ude00\n""#).unwrap().as_str("s").unwrap(), "é😀\n");
        // every escape JSON has
        assert_eq!(parse(br#""\"\\\/\b\f\n\r\t\u0041""#).unwrap().as_str("s").unwrap(), "\"\\/\u{8}\u{c}\n\r\tA");
        assert!(parse(br#""\a""#).is_err());
        // upper-case hex digits, as other JSON writers emit them
        assert_eq!(parse(br#""\u00C9\uD83D\uDE00\u00Ff""#).unwrap().as_str("s").unwrap(), "É😀ÿ");
    }

    /// A key twice in one object is refused wherever the two copies sit among the others
    /// (the check sorts the keys), distinct keys that share prefixes are not, and a refusal
    /// names the object's offset.
    #[test]
    fn duplicate_keys_refused() {
        for doc in [&br#"{"a":1,"a":2}"#[..], br#"{"b":1,"a":2,"c":3,"a":4}"#, br#"{"x":{"k":1,"j":2,"k":3}}"#] {
            let Err(err) = parse(doc) else { panic!("accepted {}", String::from_utf8_lossy(doc)) };
            assert!(matches!(err, PickleError::Json { reason: "duplicate key", .. }), "{err:?}");
        }
        assert!(matches!(parse(br#" {"a":1,"a":2}"#), Err(PickleError::Json { offset: 1, .. })));
        let many: String = (0..300).rev().map(|i| format!("\"k{i}\":{i},")).collect::<String>() + "\"k\":0";
        assert!(parse(format!("{{{many}}}").as_bytes()).is_ok());
        assert!(parse(format!("{{{many},\"k17\":1}}").as_bytes()).is_err());
        assert!(parse(br#"{"a":1,"ab":2,"":3,"b":{"a":4}}"#).is_ok());
    }

    /// Every array, object and string is sized before it is filled: none ever grows (growth
    /// would free the old buffer, secret numbers and all, without wiping it).
    #[test]
    fn buffers_never_grow() {
        fn check(v: &Json) {
            match v {
                Json::Arr(a) => {
                    assert_eq!(a.capacity(), a.len());
                    a.iter().for_each(check);
                }
                Json::Obj(m) => {
                    assert_eq!(m.capacity(), m.len());
                    for (k, v) in m {
                        assert!(k.capacity() >= k.len());
                        check(v);
                    }
                }
                Json::Str(s) => assert!(s.capacity() >= s.len()),
                _ => {}
            }
        }
        let doc = br#" [ 1 , [2,3], [], {}, {"a,]":"x\"],}","b":[ [ ], [4] , { "c" : [5,6,7] } ]}, "s,t\\", 8 ] "#;
        let v = parse(doc).unwrap();
        check(&v);
        assert_eq!(v.as_array("v").unwrap().len(), 7);
        let numbers = format!("[{}]", vec!["255"; 300].join(","));
        check(&parse(numbers.as_bytes()).unwrap());
        // arrays of strings alone (their items are found by the quotes)
        check(&parse(br#"[["a","b,]"],"c"]"#).unwrap());
        // a string's buffer is its raw text's length: exactly the decoded length without
        // escapes, an upper bound with them (never less, which would grow it)
        let v = parse(br#"["plain","a\"b\\c","\u00e9",""]"#).unwrap();
        let caps: Vec<(usize, usize)> = v
            .as_array("v")
            .unwrap()
            .iter()
            .map(|s| match s {
                Json::Str(s) => (s.len(), s.capacity()),
                _ => panic!("not a string"),
            })
            .collect();
        assert_eq!(caps, [(5, 5), (5, 7), (2, 6), (0, 0)]);
        // more items than any pickle has is refused before anything is reserved
        let many = format!("[{}]", vec!["0"; MAX_ITEMS + 1].join(","));
        assert!(matches!(
            parse(many.as_bytes()),
            Err(PickleError::Json { reason: "too many items in an array or object", .. })
        ));
    }

    #[test]
    fn refuses_what_it_does_not_need() {
        for bad in [
            &b"{\"a\":1,\"a\":2}"[..],
            b"[1,]",
            b"01",
            b"1.5",
            b"-1",
            b"18446744073709551616",
            b"[1] x",
            b"\"\\ud800\"",
            b"\"a\x01\"",
            b"{\"a\" 1}",
            b"",
            b"tru",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(deep.as_bytes()), Err(PickleError::Json { reason: "nested too deeply", .. })));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(ok.as_bytes()).is_ok());
        // objects count towards the depth too, alone or mixed with arrays
        let objects = |n: usize| r#"{"a":"#.repeat(n) + "1" + &"}".repeat(n);
        assert!(parse(objects(MAX_DEPTH).as_bytes()).is_ok());
        assert!(matches!(
            parse(objects(MAX_DEPTH + 1).as_bytes()),
            Err(PickleError::Json { reason: "nested too deeply", .. })
        ));
        let mixed = r#"[{"a":"#.repeat(MAX_DEPTH / 2) + "[]" + &"}]".repeat(MAX_DEPTH / 2);
        assert!(matches!(parse(mixed.as_bytes()), Err(PickleError::Json { reason: "nested too deeply", .. })));
    }

    #[test]
    fn arrays_and_objects_are_bounded_in_items() {
        let array = |n: usize| format!("[{}]", vec!["0"; n].join(","));
        assert!(parse(array(MAX_ITEMS).as_bytes()).is_ok());
        assert!(matches!(
            parse(array(MAX_ITEMS + 1).as_bytes()),
            Err(PickleError::Json { reason: "too many items in an array or object", .. })
        ));
    }

    /// Each accessor gives its own kind of value and refuses every other kind, naming the
    /// field (the readers of `pickle/vodozemac/read.rs` rely on these refusals for type checks).
    #[test]
    fn accessors_take_only_their_own_kind() {
        let v =
            parse(br#"{"n":4294967296,"m":7,"t":true,"f":false,"s":"x","a":[0,255],"o":{"k":null},"z":null}"#).unwrap();
        let f = |k: &'static str| v.field(k).unwrap();
        assert_eq!(v.field("q").err(), Some(PickleError::MissingField("q")));
        assert!(v.get("q").is_none() && f("m").get("k").is_none());
        assert!(matches!(v.optional("m"), Some(Json::Num(7))));
        assert!(v.optional("z").is_none() && v.optional("q").is_none());
        assert_eq!(f("n").as_u64("n"), Ok(1 << 32));
        assert_eq!(f("m").as_u32("m"), Ok(7));
        assert_eq!(f("n").as_u32("n"), Err(PickleError::InvalidField("n")));
        assert_eq!((f("t").as_bool("t"), f("f").as_bool("f")), (Ok(true), Ok(false)));
        assert_eq!(f("s").as_str("s"), Ok("x"));
        assert_eq!(f("a").bytes::<2>("a"), Ok([0, 255]));
        assert_eq!(f("a").as_array("a").map(<[Json]>::len), Ok(2));
        let o = f("o").as_object("o").unwrap();
        assert!(o.len() == 1 && o[0].0 == "k" && matches!(o[0].1, Json::Null));
        for k in ["n", "t", "s", "a", "o", "z"] {
            let x = f(k);
            let e = Some(PickleError::MissingField("w"));
            assert!(matches!(x, Json::Num(_)) || x.as_u64("w").err() == e, "{k}");
            assert!(matches!(x, Json::Num(_)) || x.as_u32("w").err() == e, "{k}");
            assert!(matches!(x, Json::Bool(_)) || x.as_bool("w").err() == e, "{k}");
            assert!(matches!(x, Json::Str(_)) || x.as_str("w").err() == e, "{k}");
            assert!(matches!(x, Json::Arr(_)) || x.as_array("w").err() == e, "{k}");
            assert!(matches!(x, Json::Obj(_)) || x.as_object("w").err() == e, "{k}");
        }
        // byte arrays: exactly N numbers, each at most 255
        let bytes = |doc: &[u8]| parse(doc).unwrap().secret::<2>("b").map(|s| *s.expose());
        assert_eq!(bytes(b"[1,2]"), Ok([1, 2]));
        assert_eq!(bytes(b"[255,0]"), Ok([255, 0]));
        for doc in [&b"[1]"[..], b"[1,2,3]", b"[256,1]", b"[1,\"a\"]", b"[1,[2]]", b"{}"] {
            assert!(bytes(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
        assert_eq!(parse(b"[1,256]").unwrap().bytes::<2>("b"), Err(PickleError::InvalidField("b")));
    }
}
