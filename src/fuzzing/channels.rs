//! Fuzzing the QR-login channels (MSC4108 ECIES, MSC4388 HPKE) and dehydrated devices
//! (MSC3814). The first byte selects what the rest is given to; the properties:
//!
//! * decoders never panic, and a decoded message re-encodes to a fixed point;
//! * on a fixed established channel, a message that fails to decrypt changes nothing: the
//!   genuine next message still decrypts afterwards (and one that decrypts is that message);
//! * set-up from a fuzzed initial message or response never panics;
//! * a decoded dehydrated device re-dehydrates and rehydrates to the same account.

use super::{FuzzRng, PICKLE_KEY, roundtrip};
use crate::ecies::{self, Ecies};
use crate::hpke::{self, HpkeRecipientChannel, HpkeSenderChannel};
use crate::olm::Account;
use crate::primitives::{ChaChaKey, base64_encode};

const GENUINE: &[u8] = b"the genuine next message";

/// Decodes text with `decode`; if that succeeds, the re-encoding decodes and encoding is then a
/// fixed point. (Not canonical: padded base64 is read, unpadded written.)
fn text_roundtrip<T, E>(
    data: Option<&str>,
    decode: impl Fn(&str) -> Result<T, E>,
    encode: impl Fn(&T) -> String,
    what: &str,
) -> Option<T> {
    let value = decode(data?).ok()?;
    let first = encode(&value);
    let again = decode(&first).unwrap_or_else(|_| panic!("{what}: the re-encoding does not decode"));
    assert_eq!(encode(&again), first, "{what}: encoding is not a fixed point");
    Some(value)
}

/// An established ECIES pair (S, G) and G's next message to S.
fn ecies_fixture() -> (ecies::EstablishedEcies, ecies::EstablishedEcies, ecies::Message, ecies::InitialMessage) {
    let g = Ecies::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut FuzzRng::new(b"ecies G"));
    let s = Ecies::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut FuzzRng::new(b"ecies S"));
    let out = s.establish_outbound_channel(g.public_key(), b"MATRIX_QR_CODE_LOGIN_INITIATE").unwrap();
    let initial = out.message;
    let mut g = g.establish_inbound_channel(&initial).unwrap().ecies;
    let next = g.encrypt(GENUINE).unwrap();
    (out.ecies, g, next, initial)
}

/// ECIES: selector 0 the initial message's text (decoded, then given to a fixed G), 1 a later
/// message's text (decoded, then given to a fixed S), 2 a later message's raw ciphertext.
pub fn decode_ecies(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let text = core::str::from_utf8(body).ok();
    match sel % 3 {
        0 => {
            let Some(m) = text_roundtrip(
                text,
                ecies::InitialMessage::decode,
                ecies::InitialMessage::encode,
                "ECIES initial message",
            ) else {
                return;
            };
            let g = Ecies::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut FuzzRng::new(b"ecies G"));
            if let Ok(r) = g.establish_inbound_channel(&m) {
                assert_eq!(r.message, b"MATRIX_QR_CODE_LOGIN_INITIATE", "a forged initial message decrypted");
            }
        }
        _ => {
            let m = if sel % 3 == 1 {
                let Some(m) = text_roundtrip(text, ecies::Message::decode, ecies::Message::encode, "ECIES message")
                else {
                    return;
                };
                m
            } else {
                ecies::Message { ciphertext: body.to_vec() }
            };
            let (mut s, _g, next, _) = ecies_fixture();
            match s.decrypt(&m) {
                Ok(pt) => assert_eq!(pt, GENUINE, "a forged ECIES message decrypted"),
                Err(_) => assert_eq!(s.decrypt(&next).unwrap(), GENUINE, "a failed decryption changed the channel"),
            }
        }
    }
}

/// An established HPKE pair (S, G), the genuine next G → S message, the initial message and
/// response.
fn hpke_fixture() -> (hpke::EstablishedHpkeChannel, hpke::Message, hpke::InitialMessage, hpke::InitialResponse) {
    let g = HpkeRecipientChannel::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut FuzzRng::new(b"hpke G"));
    let sent = HpkeSenderChannel::new()
        .establish_channel_with_rng(g.public_key(), b"MATRIX_QR_CODE_LOGIN_INITIATE", b"", &mut FuzzRng::new(b"hpke S"))
        .unwrap();
    let g = g.establish_channel(&sent.message, b"").unwrap().channel;
    let answered = g
        .establish_bidirectional_channel_with_rng(b"MATRIX_QR_CODE_LOGIN_OK", b"", &mut FuzzRng::new(b"nonce"))
        .unwrap();
    let mut g = answered.channel;
    let next = g.seal(GENUINE, b"").unwrap();
    let s = sent.channel.establish_bidirectional_channel(&answered.message, b"").unwrap().channel;
    (s, next, sent.message, answered.message)
}

/// HPKE: selector 0 an initial message (text, then given to a fixed G), 1 an initial response
/// (text, then given to a fixed S), 2 a later message (text), 3 raw `enc ‖ ciphertext`, 4 raw
/// `nonce ‖ ciphertext`, 5 a raw later ciphertext.
pub fn decode_hpke(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let text = core::str::from_utf8(body).ok();
    let initial = match sel % 6 {
        0 => text_roundtrip(text, hpke::InitialMessage::decode, hpke::InitialMessage::encode, "HPKE initial"),
        3 => roundtrip(body, hpke::InitialMessage::from_bytes, |m| m.to_bytes(), true, "HPKE initial bytes"),
        _ => None,
    };
    if let Some(m) = initial {
        let g = HpkeRecipientChannel::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut FuzzRng::new(b"hpke G"));
        if let Ok(r) = g.establish_channel(&m, b"") {
            assert_eq!(r.message, b"MATRIX_QR_CODE_LOGIN_INITIATE", "a forged initial message opened");
        }
        return;
    }
    let response = match sel % 6 {
        1 => text_roundtrip(text, hpke::InitialResponse::decode, hpke::InitialResponse::encode, "HPKE response"),
        4 => roundtrip(body, hpke::InitialResponse::from_bytes, |m| m.to_bytes(), true, "HPKE response bytes"),
        _ => None,
    };
    if let Some(r) = response {
        let g = HpkeRecipientChannel::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut FuzzRng::new(b"hpke G"));
        let sent = HpkeSenderChannel::new()
            .establish_channel_with_rng(
                g.public_key(),
                b"MATRIX_QR_CODE_LOGIN_INITIATE",
                b"",
                &mut FuzzRng::new(b"hpke S"),
            )
            .unwrap();
        if let Ok(done) = sent.channel.establish_bidirectional_channel(&r, b"") {
            assert_eq!(done.message, b"MATRIX_QR_CODE_LOGIN_OK", "a forged response opened");
        }
        return;
    }
    let m = match sel % 6 {
        2 => text_roundtrip(text, hpke::Message::decode, hpke::Message::encode, "HPKE message"),
        5 => Some(hpke::Message { ciphertext: body.to_vec() }),
        _ => None,
    };
    if let Some(m) = m {
        let (mut s, next, _, _) = hpke_fixture();
        match s.open(&m, b"") {
            Ok(pt) => assert_eq!(pt, GENUINE, "a forged HPKE message opened"),
            Err(_) => assert_eq!(s.open(&next, b"").unwrap(), GENUINE, "a failed open changed the channel"),
        }
    }
}

/// The key and nonce every fuzzed dehydrated device uses.
const NONCE: [u8; 12] = [0x24; 12];

/// Dehydrated devices: selector 0 a decrypted v2 plaintext, 1 the same sealed under the fixed
/// key (the whole path: base64, nonce, AEAD, decoder), 2 `device_pickle "|" nonce` text, 3 a
/// legacy v1 device's text under the fixed key and device id.
pub fn decode_dehydrated_device(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let account = match sel % 4 {
        0 => crate::pickle::decode_dehydrated_plaintext(body).ok(),
        1 => {
            let sealed = ChaChaKey::from_array(&PICKLE_KEY).seal(&NONCE, b"", body).unwrap();
            let r = Account::from_dehydrated_device(&base64_encode(sealed), &base64_encode(NONCE), &PICKLE_KEY);
            assert_eq!(r.is_ok(), crate::pickle::decode_dehydrated_plaintext(body).is_ok());
            r.ok()
        }
        2 => {
            let text = core::str::from_utf8(body).ok();
            text.and_then(|t| t.split_once('|'))
                .and_then(|(c, n)| Account::from_dehydrated_device(c, n, &PICKLE_KEY).ok())
        }
        _ => core::str::from_utf8(body)
            .ok()
            .and_then(|t| Account::from_legacy_dehydrated_device(t, "FUZZDEVICE", &PICKLE_KEY).ok()),
    };
    let Some(account) = account else { return };
    // a fixed point: dehydrate, rehydrate, dehydrate again
    let Ok(first) = account.to_dehydrated_device_with_rng(&PICKLE_KEY, &mut FuzzRng::new(b"n")) else {
        // only an account without an Ed25519 seed (from a legacy device) cannot be dehydrated
        assert!(sel % 4 == 3, "a rehydrated v2 device cannot be dehydrated again");
        return;
    };
    let again = Account::from_dehydrated_device(&first.ciphertext, &first.nonce, &PICKLE_KEY).unwrap();
    assert_eq!(again.identity_keys(), account.identity_keys());
    assert_eq!(again.stored_one_time_key_count(), account.stored_one_time_key_count());
    let second = again.to_dehydrated_device_with_rng(&PICKLE_KEY, &mut FuzzRng::new(b"n")).unwrap();
    assert_eq!(second, first, "dehydration is not a fixed point");
}

/// Seeds for the three targets.
pub(super) fn seeds(target: &str) -> Vec<Vec<u8>> {
    let with = |sel: u8, body: &[u8]| [&[sel][..], body].concat();
    match target {
        "decode_ecies" => {
            let (mut s, _, next, initial) = ecies_fixture();
            let later = s.encrypt(b"S to G").unwrap();
            vec![
                with(0, initial.encode().as_bytes()),
                with(1, next.encode().as_bytes()),
                with(2, &next.ciphertext),
                with(1, later.encode().as_bytes()),
            ]
        }
        "decode_hpke" => {
            let (mut s, next, initial, response) = hpke_fixture();
            let later = s.seal(b"S to G", b"").unwrap();
            vec![
                with(0, initial.encode().as_bytes()),
                with(1, response.encode().as_bytes()),
                with(2, next.encode().as_bytes()),
                with(3, &initial.to_bytes()),
                with(4, &response.to_bytes()),
                with(5, &next.ciphertext),
                with(2, later.encode().as_bytes()),
            ]
        }
        "decode_dehydrated_device" => {
            let mut a = Account::new_with_rng(&mut FuzzRng::new(b"dehydrated"));
            a.generate_one_time_keys_with_rng(3, &mut FuzzRng::new(b"otks"));
            a.generate_fallback_key_with_rng(&mut FuzzRng::new(b"fallback"));
            let d = a.to_dehydrated_device_with_rng(&PICKLE_KEY, &mut FuzzRng::new(b"nonce")).unwrap();
            let plaintext = ChaChaKey::from_array(&PICKLE_KEY)
                .open(
                    &crate::primitives::base64_decode(&d.nonce).unwrap().try_into().unwrap(),
                    b"",
                    &crate::primitives::base64_decode(&d.ciphertext).unwrap(),
                )
                .unwrap();
            let bare = Account::new_with_rng(&mut FuzzRng::new(b"bare"));
            let bare_plain = {
                let d = bare.to_dehydrated_device_with_rng(&PICKLE_KEY, &mut FuzzRng::new(b"nonce")).unwrap();
                ChaChaKey::from_array(&PICKLE_KEY)
                    .open(
                        &crate::primitives::base64_decode(&d.nonce).unwrap().try_into().unwrap(),
                        b"",
                        &crate::primitives::base64_decode(&d.ciphertext).unwrap(),
                    )
                    .unwrap()
            };
            vec![
                with(0, &plaintext),
                with(1, &plaintext),
                with(0, &bare_plain),
                with(2, format!("{}|{}", d.ciphertext, d.nonce).as_bytes()),
                with(3, a.to_legacy_dehydrated_device("FUZZDEVICE", &PICKLE_KEY).unwrap().as_bytes()),
            ]
        }
        _ => Vec::new(),
    }
}
