//! libolm's lenient reading of message *shapes*, so that the C interface reports libolm's
//! error for the same malformed input and answers the length questions libolm answers before
//! any decryption (`olm_decrypt_max_plaintext_length`, `olm_matches_inbound_session`). It only
//! finds fields; every message that is decrypted is then parsed strictly by caudata's own
//! decoders, which refuse some messages libolm accepts (see the README).
//!
//! libolm's reader: a version byte, then single-byte tags; a known tag's value is read
//! (length-delimited values longer than what is left end the message with the field unset;
//! a repeated field keeps its last value); an unknown tag with wire type 0 or 2 is skipped,
//! any other ends the message. Varints may be of any length and are truncated to the field's
//! width.

/// Skips a varint (libolm stops at the end of the input if it has no last byte).
fn varint_skip(input: &[u8], mut pos: usize) -> usize {
    while pos < input.len() {
        let b = input[pos];
        pos += 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    pos
}

/// libolm's `varint_decode`, in 64 bits (callers truncate to 32 where libolm decodes a
/// `uint32_t`, which keeps the same low bits).
fn varint_value(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |v, b| (v << 7) | u64::from(b & 0x7F))
}

/// A length-delimited value, or `None` when it overruns the input (libolm then stops).
fn bytes_field(input: &[u8], pos: usize) -> (usize, Option<(usize, usize)>) {
    let len_start = pos;
    let pos = varint_skip(input, pos);
    let len = varint_value(&input[len_start..pos]);
    let left = (input.len() - pos) as u64;
    if len > left {
        return (input.len(), None);
    }
    let len = len as usize;
    (pos + len, Some((pos, len)))
}

fn skip_unknown(input: &[u8], pos: usize) -> usize {
    if pos >= input.len() {
        return pos;
    }
    match input[pos] & 7 {
        0 => {
            let pos = varint_skip(input, pos);
            varint_skip(input, pos)
        }
        2 => {
            let pos = varint_skip(input, pos);
            bytes_field(input, pos).0
        }
        _ => input.len(),
    }
}

/// What libolm's reader found in a message body (positions into the scanned slice).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fields {
    /// The version byte, 0 if the body was empty (or shorter than its trailer).
    pub(crate) version: u8,
    /// Length-delimited fields by tag index, as `(start, length)`.
    pub(crate) bytes: [Option<(usize, usize)>; 4],
    /// The varint field, truncated to 32 bits, if present.
    pub(crate) varint: Option<u32>,
}

/// Scans `body` (trailer already removed) with libolm's loop: each round tries the known tags
/// in `order` (`Some(i)`: length-delimited field `i` with that tag; `None` entries are the
/// varint field's tag), then skips one unknown field if none matched.
fn scan(body: &[u8], order: &[(u8, Option<usize>)]) -> Fields {
    let mut f = Fields::default();
    let Some(&version) = body.first() else {
        return f;
    };
    f.version = version;
    let mut pos = 1;
    while pos < body.len() {
        let start = pos;
        for &(tag, slot) in order {
            if pos < body.len() && body[pos] == tag {
                pos += 1;
                match slot {
                    Some(i) => {
                        let (next, value) = bytes_field(body, pos);
                        pos = next;
                        if let Some(v) = value {
                            f.bytes[i] = Some(v);
                        }
                    }
                    None => {
                        let value_start = pos;
                        pos = varint_skip(body, pos);
                        f.varint = Some(varint_value(&body[value_start..pos]) as u32);
                    }
                }
            }
        }
        if pos == start {
            pos = skip_unknown(body, pos);
        }
    }
    f
}

/// An Olm normal message: version, ratchet key (0x0A, field 0), chain index (0x10), ciphertext
/// (0x22, field 1); the last 8 bytes are the MAC. `None` when the message is shorter than its
/// MAC (libolm reads version 0).
pub(crate) fn olm_message(message: &[u8]) -> Fields {
    const MAC: usize = 8;
    if message.len() <= MAC {
        return Fields::default();
    }
    scan(&message[..message.len() - MAC], &[(0x0A, Some(0)), (0x10, None), (0x22, Some(1))])
}

/// An Olm pre-key message: one-time key (0x0A, field 0), base key (0x12, field 1), identity key
/// (0x1A, field 2), message (0x22, field 3).
pub(crate) fn pre_key_message(message: &[u8]) -> Fields {
    scan(message, &[(0x0A, Some(0)), (0x12, Some(1)), (0x1A, Some(2)), (0x22, Some(3))])
}

/// A Megolm message: message index (0x08), ciphertext (0x12, field 0); the last 8 + 64 bytes
/// are the MAC and the signature.
pub(crate) fn group_message(message: &[u8]) -> Fields {
    const TRAILER: usize = 8 + 64;
    if message.len() <= TRAILER {
        return Fields::default();
    }
    scan(&message[..message.len() - TRAILER], &[(0x08, None), (0x12, Some(0))])
}

/// The bytes of a field found by a scan.
pub(crate) fn field(body: &[u8], f: Option<(usize, usize)>) -> Option<&[u8]> {
    f.and_then(|(start, len)| body.get(start..start + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_libolm_quirks() {
        // version 3, ratchet key of 2 bytes, counter 5, ciphertext of 1 byte, 8-byte MAC
        let mut m = vec![3, 0x0A, 2, 0xAA, 0xBB, 0x10, 5, 0x22, 1, 0xCC];
        m.extend_from_slice(&[0; 8]);
        let f = olm_message(&m);
        assert_eq!(f.version, 3);
        assert_eq!(field(&m, f.bytes[0]), Some(&[0xAA, 0xBB][..]));
        assert_eq!(f.varint, Some(5));
        assert_eq!(field(&m, f.bytes[1]), Some(&[0xCC][..]));
        // a length past the end stops the scan with the field unset
        let f = pre_key_message(&[3, 0x22, 9, 1]);
        assert!(f.bytes[3].is_none());
        // an unknown wire type ends the message; a repeated field keeps its last value
        let f = pre_key_message(&[3, 0x0A, 1, 7, 0x0A, 1, 8, 0x0B, 0x0A, 1, 9]);
        assert_eq!(field(&[3, 0x0A, 1, 7, 0x0A, 1, 8, 0x0B, 0x0A, 1, 9], f.bytes[0]), Some(&[8][..]));
        // shorter than the MAC: version 0
        assert_eq!(olm_message(&[3; 8]).version, 0);
    }
}
