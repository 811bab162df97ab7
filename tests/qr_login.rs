//! The QR-code login channels against vodozemac 0.11.1 and the shared known answers:
//!
//! * MSC4108 ECIES (`caudata::ecies` ↔ `vodozemac::ecies`): the fixed-secret transcript of
//!   `test-vectors/matrix-parity/ecies_msc4108.json` reproduced byte for byte (initial message,
//!   both directions at nonces 0 and 1, check code in both digit modes), and live sessions with
//!   vodozemac in both roles;
//! * MSC4388 HPKE (`caudata::hpke` ↔ `vodozemac::hpke`): `hpke_msc4388.json` reproduced (initial
//!   message, initial response, check code in vodozemac 0.11.1's form, a message each way), and
//!   live sessions in both roles, with and without associated data;
//! * bad input: malformed text, non-canonical base64, wrong lengths, small-order keys, every
//!   single-bit flip, truncation, replay, reordering, reflection and another application info
//!   are refused with a clear error, and the channel is unchanged (the known-answer transcript
//!   continues byte for byte after the failures).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::Curve25519PublicKey;
use caudata::ecies::{self, DigitMode, Ecies, InboundCreationResult, OutboundCreationResult};
use caudata::hpke::{self, HpkeRecipientChannel, HpkeSenderChannel};
use caudata::primitives::RandomSource;
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/../test-vectors/matrix-parity/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("missing {k}"))
}

fn h(v: &Value, k: &str) -> Vec<u8> {
    hex::decode(s(v, k)).unwrap()
}

/// Randomness replayed from a recording.
struct Replay(Vec<u8>);
impl RandomSource for Replay {
    fn fill(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "the recording ran out");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

fn vz_key(k: Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(k.to_bytes())
}

fn cd_key(k: vodozemac::Curve25519PublicKey) -> Curve25519PublicKey {
    Curve25519PublicKey::from_bytes(k.to_bytes())
}

/// Plaintexts of many sizes, the empty one included.
fn plaintexts() -> Vec<Vec<u8>> {
    [0usize, 1, 15, 16, 17, 63, 64, 65, 1000, 10_000]
        .iter()
        .map(|&n| (0..n).map(|i| (i * 7 + n) as u8).collect())
        .collect()
}

/// Every single-bit flip of `bytes`.
fn bit_flips(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..bytes.len() * 8).map(move |bit| {
        let mut b = bytes.to_vec();
        b[bit / 8] ^= 1 << (bit % 8);
        b
    })
}

// ================================================================== ECIES (MSC4108)

const INITIATE: &[u8] = b"MATRIX_QR_CODE_LOGIN_INITIATE";

/// S and G from the vector's secrets, S's initial message, G's channel.
fn ecies_from_vectors(v: &Value) -> (ecies::EstablishedEcies, ecies::EstablishedEcies, ecies::InitialMessage) {
    let info = s(v, "app_info");
    let g = Ecies::with_info_and_rng(info, &mut Replay(h(v, "G_secret_hex")));
    let s_ = Ecies::with_info_and_rng(info, &mut Replay(h(v, "S_secret_hex")));
    assert_eq!(g.public_key().to_base64(), s(v, "G_public_b64"));
    assert_eq!(s_.public_key().to_base64(), s(v, "S_public_b64"));
    let OutboundCreationResult { ecies: s_, message } =
        s_.establish_outbound_channel(g.public_key(), INITIATE).unwrap();
    let InboundCreationResult { ecies: g, message: pt } = g.establish_inbound_channel(&message).unwrap();
    assert_eq!(pt, INITIATE);
    (s_, g, message)
}

#[test]
fn ecies_known_answers() {
    let v = vectors("ecies_msc4108.json");
    let (mut s_, mut g, initial) = ecies_from_vectors(&v);
    let t = v["transcript"].as_array().unwrap();
    assert_eq!(initial.encode(), s(&t[0], "wire"));
    assert_eq!(ecies::InitialMessage::decode(s(&t[0], "wire")).unwrap(), initial);
    // check code: bytes and both digit modes, equal on both sides
    for c in [s_.check_code(), g.check_code()] {
        assert_eq!(c.as_bytes().to_vec(), h(&v, "check_code_bytes_hex"));
        assert_eq!(
            u64::from(c.to_digit(DigitMode::AllowLeadingZero)),
            v["check_code_allow_leading_zero (MSC4108, used by matrix-sdk)"].as_u64().unwrap()
        );
        assert_eq!(u64::from(c.to_digit(DigitMode::NoLeadingZero)), v["check_code_no_leading_zero"].as_u64().unwrap());
    }
    assert_eq!(g.public_key(), s_.their_public_key());
    // the rest of the transcript, alternately, with failures before each genuine message: the
    // channel must be unchanged by them (the next wire string is still the recorded one)
    for m in &t[1..] {
        let pt = s(m, "plaintext_utf8").as_bytes();
        let (from, to) = if s(m, "from") == "G" { (&mut g, &mut s_) } else { (&mut s_, &mut g) };
        let sent = from.encrypt(pt).unwrap();
        assert_eq!(sent.encode(), s(m, "wire"), "{m}");
        let received = ecies::Message::decode(s(m, "wire")).unwrap();
        let mut tampered = received.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(to.decrypt(&tampered), Err(ecies::Error::Decryption));
        assert_eq!(to.decrypt(&ecies::Message { ciphertext: vec![] }), Err(ecies::Error::Decryption));
        assert_eq!(to.decrypt(&received).unwrap(), pt);
        assert_eq!(to.decrypt(&received), Err(ecies::Error::Decryption), "replay");
    }
}

#[test]
fn ecies_live_with_vodozemac_as_the_scanning_device() {
    use vodozemac::ecies as ve;
    for round in 0..3 {
        let g = Ecies::new();
        let ve::OutboundCreationResult { ecies: mut vs, message } =
            ve::Ecies::new().establish_outbound_channel(vz_key(g.public_key()), INITIATE).unwrap();
        let InboundCreationResult { ecies: mut g, message: pt } =
            g.establish_inbound_channel(&ecies::InitialMessage::decode(&message.encode()).unwrap()).unwrap();
        assert_eq!(pt, INITIATE);
        assert_eq!(g.check_code().as_bytes(), vs.check_code().as_bytes());
        for mode in [
            (DigitMode::AllowLeadingZero, ve::DigitMode::AllowLeadingZero),
            (DigitMode::NoLeadingZero, ve::DigitMode::NoLeadingZero),
        ] {
            assert_eq!(g.check_code().to_digit(mode.0), vs.check_code().to_digit(mode.1));
        }
        assert_eq!(cd_key(vs.public_key()), g.their_public_key());
        for (i, pt) in plaintexts().into_iter().enumerate() {
            // G → S, then S → G; every other round the order is two from one side
            let wire = g.encrypt(&pt).unwrap().encode();
            assert_eq!(vs.decrypt(&ve::Message::decode(&wire).unwrap()).unwrap(), pt);
            if (i + round) % 2 == 0 {
                let wire = g.encrypt(b"twice").unwrap().encode();
                assert_eq!(vs.decrypt(&ve::Message::decode(&wire).unwrap()).unwrap(), b"twice");
            }
            let wire = vs.encrypt(&pt).encode();
            assert_eq!(g.decrypt(&ecies::Message::decode(&wire).unwrap()).unwrap(), pt);
        }
    }
}

#[test]
fn ecies_live_with_vodozemac_as_the_qr_device() {
    use vodozemac::ecies as ve;
    let vg = ve::Ecies::new();
    let OutboundCreationResult { ecies: mut s_, message } =
        Ecies::new().establish_outbound_channel(cd_key(vg.public_key()), INITIATE).unwrap();
    let ve::InboundCreationResult { ecies: mut vg, message: pt } =
        vg.establish_inbound_channel(&ve::InitialMessage::decode(&message.encode()).unwrap()).unwrap();
    assert_eq!(pt, INITIATE);
    assert_eq!(s_.check_code().as_bytes(), vg.check_code().as_bytes());
    let ok = vg.encrypt(b"MATRIX_QR_CODE_LOGIN_OK").encode();
    assert_eq!(s_.decrypt(&ecies::Message::decode(&ok).unwrap()).unwrap(), b"MATRIX_QR_CODE_LOGIN_OK");
    for pt in plaintexts() {
        let wire = s_.encrypt(&pt).unwrap().encode();
        assert_eq!(vg.decrypt(&ve::Message::decode(&wire).unwrap()).unwrap(), pt);
        let wire = vg.encrypt(&pt).encode();
        assert_eq!(s_.decrypt(&ecies::Message::decode(&wire).unwrap()).unwrap(), pt);
    }
    // with another application info on both sides
    let vg = ve::Ecies::with_info("org.example.other");
    let out = Ecies::with_info("org.example.other").establish_outbound_channel(cd_key(vg.public_key()), b"x").unwrap();
    let inb = vg.establish_inbound_channel(&ve::InitialMessage::decode(&out.message.encode()).unwrap()).unwrap();
    assert_eq!(inb.message, b"x");
    assert_eq!(out.ecies.check_code().as_bytes(), inb.ecies.check_code().as_bytes());
}

/// The documented difference: vodozemac burns its receive counter on a failed decryption, so a
/// tampered message desynchronises it for good; caudata's channel is unchanged by the failure.
#[test]
fn ecies_failed_decryption_caudata_recovers_vodozemac_does_not() {
    use vodozemac::ecies as ve;
    let vg = ve::Ecies::new();
    let OutboundCreationResult { ecies: mut s_, message } =
        Ecies::new().establish_outbound_channel(cd_key(vg.public_key()), INITIATE).unwrap();
    let mut vg = vg.establish_inbound_channel(&ve::InitialMessage::decode(&message.encode()).unwrap()).unwrap().ecies;
    // vodozemac → caudata: a tampered copy, then the genuine one
    let genuine = vg.encrypt(b"one");
    let mut bad = genuine.ciphertext.clone();
    bad[5] ^= 4;
    assert_eq!(s_.decrypt(&ecies::Message { ciphertext: bad }), Err(ecies::Error::Decryption));
    assert_eq!(s_.decrypt(&ecies::Message { ciphertext: genuine.ciphertext }).unwrap(), b"one");
    // caudata → vodozemac: the same; vodozemac cannot decrypt the genuine message afterwards
    let genuine = s_.encrypt(b"two").unwrap();
    let mut bad = genuine.ciphertext.clone();
    bad[5] ^= 4;
    assert!(vg.decrypt(&ve::Message { ciphertext: bad }).is_err());
    assert!(vg.decrypt(&ve::Message { ciphertext: genuine.ciphertext }).is_err(), "vodozemac changed its behaviour");
}

#[test]
fn ecies_bad_input_is_refused_with_the_channel_unchanged() {
    use ecies::MessageDecodeError as E;
    let v = vectors("ecies_msc4108.json");
    let wire = s(&v["transcript"][0], "wire").to_string();
    let (ct, key) = wire.split_once('|').unwrap();
    // malformed text
    assert_eq!(ecies::InitialMessage::decode(ct), Err(E::MissingSeparator));
    assert_eq!(ecies::InitialMessage::decode(""), Err(E::MissingSeparator));
    for bad_key in [&key[..42], &key[..40], "", "AAAA", &format!("{key}A"), &format!("{key}AAAA")] {
        assert!(matches!(ecies::InitialMessage::decode(&format!("{ct}|{bad_key}")), Err(E::KeyError(_))), "{bad_key}");
    }
    // non-canonical base64: trailing bits set in the key's last character, and in the ciphertext's
    let mut nc_key = key.to_string();
    let last = nc_key.pop().unwrap();
    assert_eq!(last, 'o', "this vector's key ends in o (101000: its last two bits are padding)");
    nc_key.push('p');
    assert!(matches!(ecies::InitialMessage::decode(&format!("{ct}|{nc_key}")), Err(E::KeyError(_))));
    // (the 45-byte ciphertext is 60 characters, without padding bits: append a 3-character
    // group whose last character has a padding bit set)
    assert_eq!(ecies::InitialMessage::decode(&format!("{ct}YWJ|{key}")), Err(E::Base64));
    assert_eq!(ecies::InitialMessage::decode(&format!("{ct}YWI|{key}")).unwrap().ciphertext.len(), 47);
    assert_eq!(ecies::Message::decode("YWJ"), Err(E::Base64));
    // other alphabets, whitespace, bad lengths
    for bad in ["ab-_", "ab cd", "abcde", "a", "%%%%", "YQ=A"] {
        assert_eq!(ecies::Message::decode(bad), Err(E::Base64), "{bad}");
    }
    // padding is accepted (vodozemac accepts it too)
    assert_eq!(ecies::Message::decode("YWI=").unwrap().ciphertext, b"ab");

    // small-order keys in the initial message, and as the QR code's key
    let good = ecies::InitialMessage::decode(&wire).unwrap();
    for bad in small_order_keys() {
        let m = ecies::InitialMessage { public_key: bad, ciphertext: good.ciphertext.clone() };
        let g = Ecies::with_info_and_rng(s(&v, "app_info"), &mut Replay(h(&v, "G_secret_hex")));
        assert_eq!(g.establish_inbound_channel(&m).unwrap_err(), ecies::Error::NonContributoryKey);
        assert_eq!(Ecies::new().establish_outbound_channel(bad, b"").unwrap_err(), ecies::Error::NonContributoryKey);
    }
    // every bit flip of the initial message's ciphertext and key, truncation, another info
    let g_with = |info: &str| Ecies::with_info_and_rng(info, &mut Replay(h(&v, "G_secret_hex")));
    for ct in bit_flips(&good.ciphertext) {
        let m = ecies::InitialMessage { public_key: good.public_key, ciphertext: ct };
        assert_eq!(g_with("MATRIX_QR_CODE_LOGIN").establish_inbound_channel(&m).unwrap_err(), ecies::Error::Decryption);
    }
    for key in bit_flips(good.public_key.as_bytes()) {
        let m = ecies::InitialMessage {
            public_key: Curve25519PublicKey::from_slice(&key).unwrap(),
            ciphertext: good.ciphertext.clone(),
        };
        let e = g_with("MATRIX_QR_CODE_LOGIN").establish_inbound_channel(&m).unwrap_err();
        assert!(matches!(e, ecies::Error::Decryption | ecies::Error::NonContributoryKey), "{e:?}");
    }
    for n in [0, 1, 15, 16, good.ciphertext.len() - 1] {
        let m = ecies::InitialMessage { public_key: good.public_key, ciphertext: good.ciphertext[..n].to_vec() };
        assert_eq!(g_with("MATRIX_QR_CODE_LOGIN").establish_inbound_channel(&m).unwrap_err(), ecies::Error::Decryption);
    }
    assert_eq!(g_with("MATRIX_QR_CODE_LOGIN_").establish_inbound_channel(&good).unwrap_err(), ecies::Error::Decryption);

    // later messages: bit flips, reordering and reflection fail; the transcript then continues
    let (mut s_, mut g, _) = ecies_from_vectors(&v);
    let t = v["transcript"].as_array().unwrap();
    let ok = ecies::Message::decode(s(&t[1], "wire")).unwrap();
    let second = ecies::Message::decode(s(&t[3], "wire")).unwrap();
    assert_eq!(s_.decrypt(&second), Err(ecies::Error::Decryption), "out of order");
    for ct in bit_flips(&ok.ciphertext) {
        assert_eq!(s_.decrypt(&ecies::Message { ciphertext: ct }), Err(ecies::Error::Decryption));
    }
    let reflected = s_.encrypt(b"to myself").unwrap();
    assert_eq!(s_.decrypt(&reflected), Err(ecies::Error::Decryption), "reflection");
    assert_eq!(s_.decrypt(&ok).unwrap(), b"MATRIX_QR_CODE_LOGIN_OK");
    // G expects S's nonce 1, which S used for the reflected message: G reads it. G's sending side
    // is untouched by all this: its nonce-0 and nonce-1 messages are the recorded ones
    assert_eq!(g.decrypt(&reflected).unwrap(), b"to myself");
    assert_eq!(g.encrypt(s(&t[1], "plaintext_utf8").as_bytes()).unwrap().encode(), s(&t[1], "wire"));
    assert_eq!(g.encrypt(s(&t[3], "plaintext_utf8").as_bytes()).unwrap().encode(), s(&t[3], "wire"));
    assert_eq!(s_.decrypt(&second).unwrap(), s(&t[3], "plaintext_utf8").as_bytes());
}

fn base64_value(c: char) -> u8 {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    A.iter().position(|&x| x as char == c).unwrap() as u8
}

fn base64_char(v: u8) -> char {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    A[v as usize] as char
}

/// The u-coordinates of small order (and their high-bit twins), which X25519 maps to zero.
fn small_order_keys() -> Vec<Curve25519PublicKey> {
    let mut keys = vec![[0u8; 32], {
        let mut k = [0u8; 32];
        k[0] = 1;
        k
    }];
    let mut p_minus_1 = [0xff; 32];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    keys.push(p_minus_1);
    keys.push(
        hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").unwrap().try_into().unwrap(),
    );
    let high: Vec<[u8; 32]> = keys
        .iter()
        .map(|k| {
            let mut k = *k;
            k[31] |= 0x80;
            k
        })
        .collect();
    keys.extend(high);
    keys.into_iter().map(Curve25519PublicKey::from_bytes).collect()
}

// ================================================================== HPKE (MSC4388)

/// S's and G's established channels from the vector, and the two wire strings.
fn hpke_from_vectors(v: &Value) -> (hpke::EstablishedHpkeChannel, hpke::EstablishedHpkeChannel, String, String) {
    let info = s(v, "app_info");
    let aad = s(v, "aad").as_bytes();
    let g = HpkeRecipientChannel::with_info_and_rng(info, &mut Replay(h(v, "G_secret_hex")));
    assert_eq!(g.public_key().to_base64(), s(v, "G_public_b64"));
    let sent = HpkeSenderChannel::with_info(info)
        .establish_channel_with_rng(
            g.public_key(),
            s(v, "initial_plaintext_utf8").as_bytes(),
            aad,
            &mut Replay(h(v, "S_ephemeral_secret_hex")),
        )
        .unwrap();
    assert_eq!(sent.message.encapsulated_key.to_base64(), s(v, "enc_b64"));
    let initial = sent.message.encode();
    let received = g.establish_channel(&hpke::InitialMessage::decode(&initial).unwrap(), aad).unwrap();
    assert_eq!(received.message, s(v, "initial_plaintext_utf8").as_bytes());
    let answered = received
        .channel
        .establish_bidirectional_channel_with_rng(
            s(v, "initial_response_plaintext_utf8").as_bytes(),
            aad,
            &mut Replay(h(v, "response_nonce_hex")),
        )
        .unwrap();
    let response = answered.message.encode();
    let done =
        sent.channel.establish_bidirectional_channel(&hpke::InitialResponse::decode(&response).unwrap(), aad).unwrap();
    assert_eq!(done.message, s(v, "initial_response_plaintext_utf8").as_bytes());
    (done.channel, answered.channel, initial, response)
}

#[test]
fn hpke_known_answers() {
    let v = vectors("hpke_msc4388.json");
    let (mut s_, mut g, initial, response) = hpke_from_vectors(&v);
    assert_eq!(initial, s(&v, "initial_message"));
    assert_eq!(response, s(&v, "initial_response"));
    for c in [s_.check_code(), g.check_code()] {
        assert_eq!(c.as_bytes().to_vec(), h(&v, "check_code_bytes_hex (0.11.1)"));
        assert_ne!(c.as_bytes().to_vec(), h(&v, "legacy_0.11.0_check_code_bytes_hex"));
        assert_eq!(
            u64::from(c.to_digit(DigitMode::NoLeadingZero)),
            v["check_code_no_leading_zero (MSC4388)"].as_u64().unwrap()
        );
        assert_eq!(
            u64::from(c.to_digit(DigitMode::AllowLeadingZero)),
            v["check_code_allow_leading_zero"].as_u64().unwrap()
        );
    }
    assert_eq!(s_.public_key().to_base64(), s(&v, "enc_b64"));
    assert_eq!(g.their_public_key(), s_.public_key());
    assert_eq!(s_.their_public_key(), g.public_key());
    // one message each way (sequence 1 of each context); failures first must change nothing
    let sg = &v["S_to_G_seq1"];
    let gs = &v["G_to_S_seq1"];
    let to_g = hpke::Message::decode(s(sg, "wire")).unwrap();
    let to_s = hpke::Message::decode(s(gs, "wire")).unwrap();
    assert_eq!(g.open(&to_s, b""), Err(hpke::Error::Decryption), "G's own message");
    assert_eq!(g.open(&to_g, b"other aad"), Err(hpke::Error::Decryption));
    assert_eq!(s_.seal(s(sg, "plaintext_utf8").as_bytes(), b"").unwrap().encode(), s(sg, "wire"));
    assert_eq!(g.seal(s(gs, "plaintext_utf8").as_bytes(), b"").unwrap().encode(), s(gs, "wire"));
    assert_eq!(g.open(&to_g, b"").unwrap(), s(sg, "plaintext_utf8").as_bytes());
    assert_eq!(s_.open(&to_s, b"").unwrap(), s(gs, "plaintext_utf8").as_bytes());
    assert_eq!(s_.open(&to_s, b""), Err(hpke::Error::Decryption), "replay");
}

#[test]
fn hpke_live_with_vodozemac_as_the_scanning_device() {
    use vodozemac::hpke as vh;
    for aad in [&b""[..], b"associated data"] {
        let g = HpkeRecipientChannel::new();
        let vh::SenderCreationResult { channel: vs, message } =
            vh::HpkeSenderChannel::new().establish_channel(vz_key(g.public_key()), b"INITIATE", aad).unwrap();
        let r = g.establish_channel(&hpke::InitialMessage::decode(&message.encode()).unwrap(), aad).unwrap();
        assert_eq!(r.message, b"INITIATE");
        let a = r.channel.establish_bidirectional_channel(b"OK", aad).unwrap();
        let vh::BidirectionalCreationResult { channel: mut vs, message: ok } = vs
            .establish_bidirectional_channel(&vh::InitialResponse::decode(&a.message.encode()).unwrap(), aad)
            .unwrap();
        assert_eq!(ok, b"OK");
        let mut g = a.channel;
        assert_eq!(g.check_code().as_bytes(), vs.check_code().as_bytes());
        assert_eq!(
            g.check_code().to_digit(DigitMode::NoLeadingZero),
            vs.check_code().to_digit(vh::DigitMode::NoLeadingZero)
        );
        assert_eq!(g.their_public_key(), cd_key(vs.public_key()));
        for pt in plaintexts() {
            let wire = vs.seal(&pt, aad).encode();
            assert_eq!(g.open(&hpke::Message::decode(&wire).unwrap(), aad).unwrap(), pt);
            let wire = g.seal(&pt, aad).unwrap().encode();
            assert_eq!(vs.open(&vh::Message::decode(&wire).unwrap(), aad).unwrap(), pt);
            let wire = g.seal(&pt, aad).unwrap().encode();
            assert_eq!(vs.open(&vh::Message::decode(&wire).unwrap(), aad).unwrap(), pt);
        }
    }
}

#[test]
fn hpke_live_with_vodozemac_as_the_qr_device() {
    use vodozemac::hpke as vh;
    for info in ["MATRIX_QR_CODE_LOGIN", "org.example.other"] {
        let vg = vh::HpkeRecipientChannel::with_info(info);
        let sent =
            HpkeSenderChannel::with_info(info).establish_channel(cd_key(vg.public_key()), b"INITIATE", b"").unwrap();
        let vh::RecipientCreationResult { channel: vg, message } =
            vg.establish_channel(&vh::InitialMessage::decode(&sent.message.encode()).unwrap(), b"").unwrap();
        assert_eq!(message, b"INITIATE");
        let vh::BidirectionalCreationResult { channel: mut vg, message: response } =
            vg.establish_bidirectional_channel(b"OK", b"");
        let done = sent
            .channel
            .establish_bidirectional_channel(&hpke::InitialResponse::decode(&response.encode()).unwrap(), b"")
            .unwrap();
        assert_eq!(done.message, b"OK");
        let mut s_ = done.channel;
        assert_eq!(s_.check_code().as_bytes(), vg.check_code().as_bytes());
        for pt in plaintexts() {
            let wire = s_.seal(&pt, b"x").unwrap().encode();
            assert_eq!(vg.open(&vh::Message::decode(&wire).unwrap(), b"x").unwrap(), pt);
            let wire = vg.seal(&pt, b"y").encode();
            assert_eq!(s_.open(&hpke::Message::decode(&wire).unwrap(), b"y").unwrap(), pt);
        }
    }
}

#[test]
fn hpke_bad_input_is_refused_with_the_channel_unchanged() {
    use hpke::MessageDecodeError as E;
    let v = vectors("hpke_msc4388.json");
    let aad = b"";
    // malformed text and short messages
    for bad in ["ab-_", "ab cd", "abcde", "%%%%", "YQ=A"] {
        assert_eq!(hpke::Message::decode(bad), Err(E::Base64), "{bad}");
        assert_eq!(hpke::InitialMessage::decode(bad), Err(E::Base64), "{bad}");
        assert_eq!(hpke::InitialResponse::decode(bad), Err(E::Base64), "{bad}");
    }
    assert_eq!(hpke::Message::decode(""), Err(E::MessageIncomplete { got: 0, min: 16 }));
    assert_eq!(hpke::Message::decode(&"A".repeat(20)), Err(E::MessageIncomplete { got: 15, min: 16 }));
    let initial = hpke::InitialMessage::decode(s(&v, "initial_message")).unwrap();
    let bytes = initial.to_bytes();
    for n in [0, 31, 32, 47] {
        assert_eq!(hpke::InitialMessage::from_bytes(&bytes[..n]), Err(E::MessageIncomplete { got: n, min: 48 }));
        assert_eq!(hpke::InitialResponse::from_bytes(&bytes[..n]), Err(E::MessageIncomplete { got: n, min: 48 }));
    }
    assert_eq!(hpke::InitialMessage::from_bytes(&bytes).unwrap(), initial);
    // non-canonical base64 (trailing bits of the last character)
    let text = s(&v, "initial_message");
    let mut nc = text[..text.len() - 1].to_string();
    nc.push(base64_char(base64_value(text.chars().last().unwrap()) | 1));
    assert_ne!(nc, text);
    assert_eq!(hpke::InitialMessage::decode(&nc), Err(E::Base64));

    let g = || HpkeRecipientChannel::with_info_and_rng(s(&v, "app_info"), &mut Replay(h(&v, "G_secret_hex")));
    // small-order encapsulated keys; a small-order key in the QR code
    for bad in small_order_keys() {
        let m = hpke::InitialMessage { encapsulated_key: bad, ciphertext: initial.ciphertext.clone() };
        assert_eq!(g().establish_channel(&m, aad).unwrap_err(), hpke::Error::NonContributoryKey);
        assert_eq!(
            HpkeSenderChannel::new().establish_channel(bad, b"", aad).unwrap_err(),
            hpke::Error::NonContributoryKey
        );
    }
    // every bit flip of the initial message, another info, another AAD
    for b in bit_flips(&bytes) {
        let m = hpke::InitialMessage::from_bytes(&b).unwrap();
        let e = g().establish_channel(&m, aad).unwrap_err();
        assert!(matches!(e, hpke::Error::Decryption | hpke::Error::NonContributoryKey), "{e:?}");
    }
    let other = HpkeRecipientChannel::with_info_and_rng("MATRIX_QR_CODE_LOGIN_", &mut Replay(h(&v, "G_secret_hex")));
    assert_eq!(other.establish_channel(&initial, aad).unwrap_err(), hpke::Error::Decryption);
    assert_eq!(g().establish_channel(&initial, b"x").unwrap_err(), hpke::Error::Decryption);

    // the initial response: every bit flip (nonce and ciphertext) fails at S
    let response = hpke::InitialResponse::decode(s(&v, "initial_response")).unwrap();
    let sender = || {
        HpkeSenderChannel::new()
            .establish_channel_with_rng(
                g().public_key(),
                s(&v, "initial_plaintext_utf8").as_bytes(),
                aad,
                &mut Replay(h(&v, "S_ephemeral_secret_hex")),
            )
            .unwrap()
            .channel
    };
    for b in bit_flips(&response.to_bytes()) {
        let r = hpke::InitialResponse::from_bytes(&b).unwrap();
        assert_eq!(sender().establish_bidirectional_channel(&r, aad).unwrap_err(), hpke::Error::Decryption);
    }
    assert!(sender().establish_bidirectional_channel(&response, aad).is_ok());

    // later messages: bit flips, truncation, reflection and reordering fail; then the recorded
    // messages still follow byte for byte
    let (mut s_, mut g, _, _) = hpke_from_vectors(&v);
    let sg = &v["S_to_G_seq1"];
    let to_g = hpke::Message::decode(s(sg, "wire")).unwrap();
    for ct in bit_flips(&to_g.ciphertext) {
        assert_eq!(g.open(&hpke::Message { ciphertext: ct }, aad), Err(hpke::Error::Decryption));
    }
    for n in [0, 15, 16, to_g.ciphertext.len() - 1] {
        assert_eq!(
            g.open(&hpke::Message { ciphertext: to_g.ciphertext[..n].to_vec() }, aad),
            Err(hpke::Error::Decryption)
        );
    }
    let gs = &v["G_to_S_seq1"];
    assert_eq!(g.seal(s(gs, "plaintext_utf8").as_bytes(), aad).unwrap().encode(), s(gs, "wire"));
    let g2 = g.seal(b"G seq 2", aad).unwrap();
    assert_eq!(s_.open(&g2, aad), Err(hpke::Error::Decryption), "out of order");
    assert_eq!(s_.seal(s(sg, "plaintext_utf8").as_bytes(), aad).unwrap().encode(), s(sg, "wire"));
    assert_eq!(g.open(&to_g, aad).unwrap(), s(sg, "plaintext_utf8").as_bytes());
    assert_eq!(
        s_.open(&hpke::Message::decode(s(gs, "wire")).unwrap(), aad).unwrap(),
        s(gs, "plaintext_utf8").as_bytes()
    );
    assert_eq!(s_.open(&g2, aad).unwrap(), b"G seq 2");
}
