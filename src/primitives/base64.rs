//! Base64 (standard alphabet, unpadded on output, padding accepted on input), through
//! `base64ct`, whose encoder and decoder do not branch or index on the data: it is used for
//! secrets (pickles, exported keys) as well as public values.

use base64ct::{Base64, Base64Unpadded, Encoding};
use zeroize::Zeroizing;

/// The input was not valid base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid base64")]
#[non_exhaustive]
pub struct Base64DecodeError;

/// Encodes `bytes` as unpadded standard base64.
pub fn base64_encode(bytes: impl AsRef<[u8]>) -> String {
    Base64Unpadded::encode_string(bytes.as_ref())
}

/// Decodes standard base64, padded or unpadded, without branching on the characters (the
/// decoder is chosen by the input's length alone: padded text always has a length divisible by 4,
/// and the padded decoder also reads unpadded text of such a length).
///
/// # Errors
/// [`Base64DecodeError`] for characters outside the alphabet, a bad length or non-zero
/// trailing bits.
pub fn base64_decode(input: impl AsRef<[u8]>) -> Result<Vec<u8>, Base64DecodeError> {
    let mut out = Vec::new();
    decode_into(input.as_ref(), &mut out)?;
    Ok(out)
}

/// Decodes into `out` (sized once, never grown), choosing the decoder by the length alone.
fn decode_into(input: &[u8], out: &mut Vec<u8>) -> Result<(), Base64DecodeError> {
    if input.len().is_multiple_of(4) {
        decode_with::<Base64>(input, out)
    } else {
        decode_with::<Base64Unpadded>(input, out)
    }
}

fn decode_with<E: Encoding>(input: &[u8], out: &mut Vec<u8>) -> Result<(), Base64DecodeError> {
    out.resize(input.len() / 4 * 3 + 3, 0);
    let len = E::decode(input, out).map_err(|_| Base64DecodeError)?.len();
    out.truncate(len);
    Ok(())
}

/// Encodes secret bytes; the result is wiped when dropped.
pub(crate) fn base64_encode_secret(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(base64_encode(bytes))
}

/// Decodes into a buffer that is wiped when dropped, on success and on failure alike: a decode
/// that fails part-way (a bad character at the end) has already written the secret bytes before
/// it, and the buffer holding them is wiped, not just freed.
pub(crate) fn base64_decode_secret(input: impl AsRef<[u8]>) -> Result<Zeroizing<Vec<u8>>, Base64DecodeError> {
    let mut out = Zeroizing::new(Vec::new());
    decode_into(input.as_ref(), &mut out)?;
    Ok(out)
}

/// Decodes base64 as vodozemac's `base64_decode` does (the standard alphabet, canonical
/// trailing bits, padding optional: a last group of 2 symbols may be followed by 0–2 `=`, one
/// of 3 symbols by 0–1 `=`). For public values only: Olm message bodies (serde), key-backup
/// messages and SAS MACs.
pub(crate) fn base64_decode_padding_indifferent(input: &str) -> Result<Vec<u8>, Base64DecodeError> {
    let bytes = input.as_bytes();
    let pads = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &bytes[..bytes.len() - pads];
    let ok = match pads {
        0 => true,
        1 => matches!(body.len() % 4, 2 | 3),
        2 => body.len() % 4 == 2,
        _ => false,
    };
    if !ok {
        return Err(Base64DecodeError);
    }
    let mut out = vec![0u8; body.len() / 4 * 3 + 3];
    let len = Base64Unpadded::decode(body, &mut out).map_err(|_| Base64DecodeError)?.len();
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_indifferent_decoding_takes_only_the_paddings_vodozemac_takes() {
        let ok = |s: &str, want: &[u8]| assert_eq!(base64_decode_padding_indifferent(s).as_deref(), Ok(want), "{s}");
        let bad = |s: &str| assert_eq!(base64_decode_padding_indifferent(s), Err(Base64DecodeError), "{s}");
        ok("", b"");
        ok("YWJj", b"abc");
        ok("YWJjZA", b"abcd");
        // a last group of 3 symbols: 0 or 1 `=`
        ok("YWI", b"ab");
        ok("YWI=", b"ab");
        bad("YWI==");
        // a last group of 2 symbols: 0 to 2 `=`
        ok("YQ", b"a");
        ok("YQ=", b"a");
        ok("YQ==", b"a");
        bad("YQ===");
        // no padding after a whole group, or alone
        bad("YWJj=");
        bad("YWJj==");
        bad("=");
        bad("==");
        // the body is still checked: alphabet, length, canonical trailing bits
        bad("YW!");
        bad("Y");
        bad("YWJ");
        bad("YR==");
    }

    #[test]
    fn secrets_decode_as_public_bytes_do() {
        for text in ["AQID", "AQIDBA", "AQIDBA==", ""] {
            assert_eq!(base64_decode_secret(text).map(|v| v.to_vec()), base64_decode(text), "{text}");
        }
        assert_eq!(*base64_decode_secret("AQIDBA").unwrap(), [1, 2, 3, 4]);
        assert!(base64_decode_secret("AQ!D").is_err());
    }
}
