//! Key backup's PK encryption (`m.megolm_backup.v1.curve25519-aes-sha2`): the shared vectors
//! as known answers, live differential tests against vodozemac 0.11.1 and libolm 3.2.16 (each
//! side decrypts what the other encrypts; the libolm `PkDecryption` pickle both ways), libolm's
//! quirks, and bad input refused with nothing changed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use caudata::pk_encryption::{MAC_LENGTH, Message, PkDecryption, PkEncryption};
use caudata::primitives::RandomSource;
use caudata::{Curve25519PublicKey, Curve25519SecretKey, DecodeError, DecryptionError, KeyError, PickleError};
use common::{Libolm, hexs};
use serde_json::{Value, json};

fn vectors() -> Value {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/matrix-parity/pk_encryption.json"
    )))
    .unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(s(v)).unwrap()
}

struct Replay(Vec<u8>);
impl RandomSource for Replay {
    fn fill(&mut self, dest: &mut [u8]) {
        assert!(dest.len() <= self.0.len(), "more randomness asked for than recorded");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

fn recipient() -> PkDecryption {
    PkDecryption::from_key(Curve25519SecretKey::from_slice(&h(&vectors()["recipient_secret_hex"])).unwrap())
}

fn message(m: &Value) -> Message {
    Message::from_base64(s(&m["ciphertext"]), s(&m["mac"]), s(&m["ephemeral"])).unwrap()
}

#[test]
fn deterministic_vectors() {
    let v = vectors();
    let dec = recipient();
    assert_eq!(dec.public_key().to_base64(), s(&v["recipient_public_b64"]));
    assert_eq!(hexs(dec.secret_key().to_secret_bytes().expose()), s(&v["recipient_secret_hex"]));
    let enc = PkEncryption::from_key(dec.public_key()).unwrap();
    let cases = v["deterministic"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let pt = s(&c["plaintext_utf8"]).as_bytes();
        let m = enc.encrypt_with_rng(pt, &mut Replay(h(&c["ephemeral_secret_hex"])));
        let (ct, mac, eph) = m.to_base64_parts();
        assert_eq!(ct, s(&c["ciphertext"]), "{}", c["name"]);
        assert_eq!(mac, s(&c["mac"]));
        assert_eq!(eph, s(&c["ephemeral"]));
        assert_eq!((mac.len(), eph.len(), m.mac.len()), (11, 43, MAC_LENGTH));
        assert_eq!(dec.decrypt(&message(c)).unwrap(), pt);
        // the MAC is the HMAC of the empty string under the vector's MAC key
        assert_eq!(m.mac, caudata::hazmat::hmac_sha256(&h(&c["mac_key_hex"]), b"")[..8]);
        // the intermediate keys: AES-256-CBC under the vector's key and IV gives the ciphertext
        let key: [u8; 32] = h(&c["aes_key_hex"]).try_into().unwrap();
        let iv: [u8; 16] = h(&c["iv_hex"]).try_into().unwrap();
        assert_eq!(caudata::hazmat::aes256_cbc_encrypt(&key, &iv, pt), m.ciphertext);
    }
    for r in v["recorded_vodozemac"].as_array().unwrap() {
        assert_eq!(dec.decrypt(&message(r)).unwrap(), s(&r["plaintext_utf8"]).as_bytes(), "{}", r["name"]);
    }
}

#[test]
fn libolm_pickle_vector() {
    let v = vectors();
    let p = &v["libolm_pickle"];
    let key = s(&p["pickle_key_utf8"]).as_bytes();
    let dec = PkDecryption::from_libolm_pickle(s(&p["pickle"]), key).unwrap();
    assert_eq!(dec.public_key().to_base64(), s(&v["recipient_public_b64"]));
    assert_eq!(hexs(dec.secret_key().to_secret_bytes().expose()), s(&v["recipient_secret_hex"]));
    assert_eq!(recipient().to_libolm_pickle(key), s(&p["pickle"]), "deterministic, byte for byte");
}

/// The quirks vodozemac has (and caudata shares): a MAC of 1 to 32 bytes that prefixes the
/// full one, padded base64, and a ciphertext the MAC does not cover.
#[test]
fn vodozemac_decrypt_quirks() {
    let v = vectors();
    let q = &v["vodozemac_decrypt_quirks"];
    let c = &v["deterministic"][2]; // "16_bytes": 2 blocks of ciphertext
    let dec = recipient();
    let m = message(c);
    let full = caudata::hazmat::hmac_sha256(&h(&c["mac_key_hex"]), b"");
    for (len, field) in [
        (1, "mac_1_byte_prefix_accepted"),
        (4, "mac_4_byte_prefix_accepted"),
        (8, "mac_8_bytes_accepted"),
        (32, "mac_full_32_bytes_accepted"),
    ] {
        assert_eq!(q[field], true);
        let mm = Message { mac: full[..len].to_vec(), ..m.clone() };
        assert_eq!(dec.decrypt(&mm).unwrap(), b"0123456789abcdef", "{len}-byte MAC");
        // and vodozemac agrees
        let vz = vodozemac::pk_encryption::Message {
            ciphertext: mm.ciphertext.clone(),
            mac: mm.mac.clone(),
            ephemeral_key: vz_key(mm.ephemeral_key),
        };
        assert_eq!(vz_recipient().decrypt(&vz).unwrap(), b"0123456789abcdef");
    }
    assert_eq!(q["mac_empty_accepted"], false);
    assert_eq!(
        dec.decrypt(&Message { mac: vec![], ..m.clone() }),
        Err(DecryptionError::InvalidMacLength { expected: 8, got: 0 })
    );
    assert_eq!(q["padded_base64_fields_parse"], true);
    let (ct, mac, eph) = m.to_base64_parts();
    let padded = |t: &str| format!("{t}{}", "=".repeat((4 - t.len() % 4) % 4));
    assert_eq!(Message::from_base64(&padded(&ct), &padded(&mac), &padded(&eph)).unwrap(), m);
    // padding read as vodozemac reads it: optional, also a single '=' where two are due (a
    // 16-byte ciphertext ends in a group of 2 symbols), but never more than is due
    let one_block = message(&v["deterministic"][0]);
    let (ct1, mac1, eph1) = one_block.to_base64_parts();
    for (ct_form, mac_form) in [
        (format!("{ct1}="), mac1.clone()),
        (format!("{ct1}=="), format!("{mac1}=")),
        (format!("{ct1}==="), mac1.clone()),
        (ct1.clone(), format!("{mac1}==")),
        (format!("{ct1}=A"), mac1.clone()),
    ] {
        let ours = Message::from_base64(&ct_form, &mac_form, &eph1).ok();
        let theirs = vodozemac::pk_encryption::Message::from_base64(&ct_form, &mac_form, &eph1).ok();
        assert_eq!(ours.is_some(), theirs.is_some(), "{ct_form} {mac_form}");
        if let Some(m) = ours {
            assert_eq!(m, one_block);
        }
    }
    assert!(Message::from_base64(&format!("{ct1}="), &mac1, &eph1).is_ok());
    // a bit flipped in ciphertext block 1 of 3: accepted, block 1 garbled, block 2 flipped
    let long = &v["deterministic"][1]; // "short": 26 bytes, 2 blocks
    let mut mm = message(long);
    let pt = s(&long["plaintext_utf8"]).as_bytes();
    mm.ciphertext[3] ^= 0x40;
    let got = dec.decrypt(&mm).unwrap();
    assert_eq!(got.len(), pt.len());
    assert_ne!(got[..16], pt[..16], "block 1 is garbled");
    let mut want_tail = pt[16..].to_vec();
    want_tail[3] ^= 0x40;
    assert_eq!(got[16..], want_tail[..], "block 2 has the same bit flipped");
    // a zero key is refused up front
    assert!(q["encrypt_to_all_zero_key"].as_str().unwrap().starts_with("error"));
    assert_eq!(PkEncryption::from_key(Curve25519PublicKey::from_bytes([0; 32])).err(), Some(KeyError::NonContributory));
}

fn vz_key(k: Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(k.to_bytes())
}

fn vz_recipient() -> vodozemac::pk_encryption::PkDecryption {
    let b: [u8; 32] = h(&vectors()["recipient_secret_hex"]).try_into().unwrap();
    vodozemac::pk_encryption::PkDecryption::from_key(vodozemac::Curve25519SecretKey::from_slice(&b))
}

fn plaintexts() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = (0..=48).map(|n| (0..n).map(|i| (i * 7 + n) as u8).collect()).collect();
    v.push(vec![0xab; 5000]);
    v.push(br#"{"algorithm":"m.megolm.v1.aes-sha2","session_key":"AQAAAA..."}"#.to_vec());
    v
}

#[test]
fn live_vodozemac_both_ways() {
    use vodozemac::pk_encryption as vz;
    // keys made on each side, including raw bytes that clamping would change
    let mut raw = [0xffu8; 32];
    raw[0] = 0x07;
    let ours = PkDecryption::from_key(Curve25519SecretKey::from_bytes(&raw));
    let theirs = vz::PkDecryption::from_key(vodozemac::Curve25519SecretKey::from_slice(&raw));
    assert_eq!(ours.public_key().to_bytes(), theirs.public_key().to_bytes());
    assert_eq!(*theirs.secret_key().to_bytes(), *ours.secret_key().to_secret_bytes().expose(), "unclamped both sides");
    for (ours, theirs) in [(ours, theirs), (PkDecryption::new(), vz::PkDecryption::new())] {
        let to_theirs =
            PkEncryption::from_key(Curve25519PublicKey::from_bytes(theirs.public_key().to_bytes())).unwrap();
        let to_ours = vz::PkEncryption::from_key(vz_key(ours.public_key()));
        for pt in plaintexts() {
            // caudata → vodozemac
            let m = to_theirs.encrypt(&pt);
            let (ct, mac, eph) = m.to_base64_parts();
            let vm = vz::Message::from_base64(&ct, &mac, &eph).unwrap();
            assert_eq!(theirs.decrypt(&vm).unwrap(), pt);
            // vodozemac → caudata, through the base64 fields as a backup carries them
            let vm = to_ours.encrypt(&pt).unwrap();
            let b64 = |b: &[u8]| vodozemac::base64_encode(b);
            let m = Message::from_base64(&b64(&vm.ciphertext), &b64(&vm.mac), &vm.ephemeral_key.to_base64()).unwrap();
            assert_eq!(m.mac.len(), 8);
            assert_eq!(ours.decrypt(&m).unwrap(), pt);
        }
        // the libolm pickle, both ways, byte for byte
        for key in [&b""[..], b"a pickle key", &[7u8; 32]] {
            let mine = ours.to_libolm_pickle(key);
            let back = vz::PkDecryption::from_libolm_pickle(&mine, key).unwrap();
            assert_eq!(back.public_key().to_bytes(), ours.public_key().to_bytes());
            assert_eq!(back.to_libolm_pickle(key).unwrap(), mine);
            let theirs_pickle = theirs.to_libolm_pickle(key).unwrap();
            let imported = PkDecryption::from_libolm_pickle(&theirs_pickle, key).unwrap();
            assert_eq!(imported.public_key().to_bytes(), theirs.public_key().to_bytes());
            assert_eq!(imported.to_libolm_pickle(key), theirs_pickle);
        }
    }
}

#[test]
fn live_libolm_both_ways() {
    let mut peer = Libolm::start();
    let ours = PkDecryption::new();
    let their_pk = peer.ok(json!({"cmd": "pk_decryption_new", "h": "d"}))["public_key"].as_str().unwrap().to_string();
    let to_theirs = PkEncryption::from_key(Curve25519PublicKey::from_base64(&their_pk).unwrap()).unwrap();
    for pt in plaintexts() {
        // caudata → libolm
        let (ct, mac, eph) = to_theirs.encrypt(&pt).to_base64_parts();
        let r = peer.ok(json!({"cmd": "pk_decrypt", "h": "d", "ciphertext": ct, "mac": mac, "ephemeral": eph}));
        assert_eq!(r["pt"], hexs(&pt));
        // libolm → caudata
        let r = peer.ok(json!({"cmd": "pk_encrypt", "recipient": ours.public_key().to_base64(), "pt": hexs(&pt)}));
        let m = Message::from_base64(s(&r["ciphertext"]), s(&r["mac"]), s(&r["ephemeral"])).unwrap();
        assert_eq!(ours.decrypt(&m).unwrap(), pt);
    }
    // the pickle both ways, and the raw secret (unclamped) the same on both sides
    let mut raw = [0xffu8; 32];
    raw[31] = 0x80;
    let fixed = PkDecryption::from_key(Curve25519SecretKey::from_bytes(&raw));
    let r = peer.ok(json!({"cmd": "pk_decryption_new", "h": "f", "secret_hex": hexs(raw)}));
    assert_eq!(r["public_key"], fixed.public_key().to_base64());
    for key in [&b""[..], b"DEFAULT_PICKLE_KEY", &[0xee; 64]] {
        let theirs = peer.ok(json!({"cmd": "pk_decryption_pickle", "h": "f", "key_hex": hexs(key)}))["pickle"].clone();
        assert_eq!(fixed.to_libolm_pickle(key), s(&theirs), "libolm's pickle, byte for byte");
        let imported = PkDecryption::from_libolm_pickle(s(&theirs), key).unwrap();
        assert_eq!(imported.secret_key().to_secret_bytes().expose(), &raw);
        // a caudata pickle of a fresh key loads in libolm with the same keys
        let mine = ours.to_libolm_pickle(key);
        let r = peer.ok(json!({"cmd": "pk_decryption_unpickle", "h": "o", "pickle": mine, "key_hex": hexs(key)}));
        assert_eq!(r["public_key"], ours.public_key().to_base64());
        let r = peer.ok(json!({"cmd": "pk_decryption_secret", "h": "o"}));
        assert_eq!(r["secret_hex"], hexs(ours.secret_key().to_secret_bytes().expose()));
    }
}

/// libolm regenerates every deterministic vector from its ephemeral secret, and reproduces the
/// pickle.
#[test]
fn live_libolm_reproduces_the_vectors() {
    let v = vectors();
    let mut peer = Libolm::start();
    for c in v["deterministic"].as_array().unwrap() {
        let r = peer.ok(json!({"cmd": "pk_encrypt", "recipient": v["recipient_public_b64"],
            "pt": hexs(s(&c["plaintext_utf8"])), "ephemeral_secret_hex": c["ephemeral_secret_hex"]}));
        assert_eq!((&r["ciphertext"], &r["mac"], &r["ephemeral"]), (&c["ciphertext"], &c["mac"], &c["ephemeral"]));
    }
    peer.ok(json!({"cmd": "pk_decryption_new", "h": "d", "secret_hex": v["recipient_secret_hex"]}));
    for r in v["recorded_vodozemac"].as_array().unwrap() {
        let got = peer.ok(json!({"cmd": "pk_decrypt", "h": "d", "ciphertext": r["ciphertext"], "mac": r["mac"], "ephemeral": r["ephemeral"]}));
        assert_eq!(got["pt"], hexs(s(&r["plaintext_utf8"])));
    }
    let p = &v["libolm_pickle"];
    let r = peer.ok(json!({"cmd": "pk_decryption_pickle", "h": "d", "key_hex": hexs(s(&p["pickle_key_utf8"]))}));
    assert_eq!(r["pickle"], p["pickle"]);
}

/// libolm reads only what caudata writes: an 8-byte MAC in 11 characters and a 43-character
/// key, unpadded. It refuses the padded and shortened forms that vodozemac and caudata read.
#[test]
fn live_libolm_demands_the_exact_lengths_caudata_writes() {
    let mut peer = Libolm::start();
    let r = peer.ok(json!({"cmd": "pk_decryption_new", "h": "d"}));
    let enc = PkEncryption::from_key(Curve25519PublicKey::from_base64(s(&r["public_key"])).unwrap()).unwrap();
    let (ct, mac, eph) = enc.encrypt(b"payload").to_base64_parts();
    peer.ok(json!({"cmd": "pk_decrypt", "h": "d", "ciphertext": ct, "mac": mac, "ephemeral": eph}));
    for (mac2, eph2) in
        [(format!("{mac}="), eph.clone()), (mac[..10].to_string(), eph.clone()), (mac.clone(), format!("{eph}="))]
    {
        let e = peer.err(json!({"cmd": "pk_decrypt", "h": "d", "ciphertext": ct, "mac": mac2, "ephemeral": eph2}));
        assert_eq!(e, "INVALID_BASE64");
    }
}

fn all_small_order_keys() -> Vec<Curve25519PublicKey> {
    let mut keys = vec![[0u8; 32]];
    let mut one = [0u8; 32];
    one[0] = 1;
    keys.push(one);
    keys.push(
        hex::decode("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157").unwrap().try_into().unwrap(),
    );
    keys.push(
        hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").unwrap().try_into().unwrap(),
    );
    for low in [0xec, 0xed, 0xee] {
        let mut k = [0xff; 32];
        k[0] = low;
        k[31] = 0x7f;
        keys.push(k);
    }
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

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let v = vectors();
    let dec = recipient();
    let before = dec.to_libolm_pickle(b"k");
    let good = message(&v["deterministic"][3]); // 13 blocks of backup-like JSON
    let check = |m: &Message, want: DecryptionError| {
        assert_eq!(dec.decrypt(m), Err(want));
        assert_eq!(dec.to_libolm_pickle(b"k"), before, "a failed decrypt changed the key");
    };
    // small-order ephemeral keys (libolm would go on with an all-zero secret)
    for k in all_small_order_keys() {
        check(&Message { ephemeral_key: k, ..good.clone() }, DecryptionError::Key(KeyError::NonContributory));
        assert_eq!(PkEncryption::from_key(k).err(), Some(KeyError::NonContributory));
    }
    // MACs: wrong length, each bit flipped, another key's
    check(&Message { mac: vec![], ..good.clone() }, DecryptionError::InvalidMacLength { expected: 8, got: 0 });
    check(&Message { mac: vec![0; 33], ..good.clone() }, DecryptionError::InvalidMacLength { expected: 8, got: 33 });
    for bit in 0..64 {
        let mut mac = good.mac.clone();
        mac[bit / 8] ^= 1 << (bit % 8);
        check(&Message { mac, ..good.clone() }, DecryptionError::InvalidMac);
    }
    let other = PkEncryption::from_key(PkDecryption::new().public_key()).unwrap().encrypt(b"x");
    check(&Message { mac: other.mac.clone(), ..good.clone() }, DecryptionError::InvalidMac);
    // a message for another recipient: its MAC does not verify here
    check(&other, DecryptionError::InvalidMac);
    // truncated ciphertexts: not whole blocks, empty, or whole blocks with the padding cut off
    let blocks = DecryptionError::Decode(DecodeError::MalformedField("ciphertext (empty, or not whole AES blocks)"));
    for cut in [1, 15, 17] {
        check(
            &Message { ciphertext: good.ciphertext[..good.ciphertext.len() - cut].to_vec(), ..good.clone() },
            blocks.clone(),
        );
    }
    check(&Message { ciphertext: vec![], ..good.clone() }, blocks);
    // dropping the last block: the new last block is JSON text, whose bytes (all ≥ 0x20) are
    // never valid padding
    check(
        &Message { ciphertext: good.ciphertext[..good.ciphertext.len() - 16].to_vec(), ..good.clone() },
        DecryptionError::InvalidPadding,
    );
    // the last block changed: the padding byte turns invalid (bit 7 of the last byte flipped in the block before)
    let mut ct = good.ciphertext.clone();
    let n = ct.len();
    ct[n - 17] ^= 0x80;
    check(&Message { ciphertext: ct, ..good.clone() }, DecryptionError::InvalidPadding);
    // still decrypts afterwards
    assert!(dec.decrypt(&good).is_ok());
}

#[test]
fn malformed_base64_fields_are_refused() {
    let (ct, mac, eph) = message(&vectors()["deterministic"][1]).to_base64_parts();
    // the ciphertext is 32 bytes (43 characters, last one carrying 2 zero bits), the MAC 8
    // bytes (11 characters, 2 zero bits), the key 32 bytes
    let non_canonical = |t: &str| {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let i = A.iter().position(|&c| c == *t.as_bytes().last().unwrap()).unwrap();
        format!("{}{}", &t[..t.len() - 1], char::from(A[i | 1]))
    };
    assert_eq!(Message::from_base64(&non_canonical(&ct), &mac, &eph).err(), Some(DecodeError::Base64));
    assert_eq!(Message::from_base64(&ct, &non_canonical(&mac), &eph).err(), Some(DecodeError::Base64));
    assert_eq!(Message::from_base64(&ct, &mac, &non_canonical(&eph)).err(), Some(DecodeError::Key(KeyError::Base64)));
    assert_eq!(
        Message::from_base64(&ct, &mac, &eph[..40]).err(),
        Some(DecodeError::Key(KeyError::InvalidLength { expected: 32, got: 30 }))
    );
    assert_eq!(Message::from_base64(&format!("{ct} "), &mac, &eph).err(), Some(DecodeError::Base64));
    assert_eq!(
        Message::from_base64(&ct.replacen(|c: char| c.is_ascii_alphanumeric(), "_", 1), &mac, &eph).err(),
        Some(DecodeError::Base64)
    );
    assert_eq!(Message::from_base64("A", &mac, &eph).err(), Some(DecodeError::Base64));
}

/// An independent libolm pickle cipher (RustCrypto crates), for hand-made pickles.
fn libolm_pickle(raw: &[u8], key: &[u8]) -> String {
    use base64ct::{Base64Unpadded, Encoding};
    use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    use hmac::{Hmac, KeyInit, Mac};
    let mut okm = [0u8; 80];
    hkdf::Hkdf::<sha2::Sha256>::new(None, key).expand(b"Pickle", &mut okm).unwrap();
    let aes_key: [u8; 32] = okm[..32].try_into().unwrap();
    let iv: [u8; 16] = okm[64..].try_into().unwrap();
    let mut ct = cbc::Encryptor::<aes::Aes256>::new((&aes_key).into(), (&iv).into()).encrypt_padded_vec::<Pkcs7>(raw);
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&okm[32..64]).unwrap();
    mac.update(&ct);
    ct.extend_from_slice(&mac.finalize().into_bytes()[..8]);
    Base64Unpadded::encode_string(&ct)
}

#[test]
fn bad_pickles_are_refused() {
    let v = vectors();
    let dec = recipient();
    let (public, secret) = (dec.public_key().to_bytes(), dec.secret_key().to_secret_bytes());
    let raw = |version: u32, public: &[u8], secret: &[u8], extra: &[u8]| {
        [&version.to_be_bytes()[..], public, secret, extra].concat()
    };
    let read =
        |raw: Vec<u8>| PkDecryption::from_libolm_pickle(&libolm_pickle(&raw, b"k"), b"k").map(|d| d.public_key());
    assert_eq!(read(raw(1, &public, secret.expose(), b"")), Ok(dec.public_key()), "the hand-made pickle is right");
    assert_eq!(read(raw(0, &public, secret.expose(), b"")), Err(PickleError::UnknownVersion { got: 0, max: 1 }));
    assert_eq!(read(raw(2, &public, secret.expose(), b"")), Err(PickleError::UnknownVersion { got: 2, max: 1 }));
    assert_eq!(read(raw(1, &public, secret.expose(), b"x")), Err(PickleError::TrailingBytes));
    assert_eq!(read(raw(1, &public, &secret.expose()[..31], b"")), Err(PickleError::Truncated("PkDecryption key")));
    assert_eq!(read(raw(1, &[0; 32], secret.expose(), b"")), Err(PickleError::KeyMismatch("PkDecryption key")));
    assert_eq!(read(vec![0, 0, 0]), Err(PickleError::Truncated("version")));
    let p = s(&v["libolm_pickle"]["pickle"]);
    assert_eq!(PkDecryption::from_libolm_pickle(p, b"wrong key").err(), Some(PickleError::Authentication));
    let mut flipped = p.as_bytes().to_vec();
    flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        PkDecryption::from_libolm_pickle(std::str::from_utf8(&flipped).unwrap(), b"DEFAULT_PICKLE_KEY").err(),
        Some(PickleError::Authentication)
    );
    assert_eq!(PkDecryption::from_libolm_pickle("not base64!", b"k").err(), Some(PickleError::Base64));
    assert_eq!(PkDecryption::from_libolm_pickle("AAAA", b"k").err(), Some(PickleError::Truncated("pickle MAC")));
}

/// What libolm does with the same bad pickles (recorded: it checks the version and the length
/// but not that the public key belongs to the secret key).
#[test]
fn live_libolm_pickle_strictness() {
    let mut peer = Libolm::start();
    let dec = recipient();
    let (public, secret) = (dec.public_key().to_bytes(), dec.secret_key().to_secret_bytes());
    let mut try_raw = |raw: Vec<u8>| {
        let p = libolm_pickle(&raw, b"k");
        let r = peer.call(json!({"cmd": "pk_decryption_unpickle", "h": "x", "pickle": p, "key_hex": hexs(b"k")}));
        if r["ok"] == true {
            Ok(r["public_key"].as_str().unwrap().to_string())
        } else {
            Err(r["error"].as_str().unwrap().to_string())
        }
    };
    let v1 = |p: &[u8], s: &[u8], extra: &[u8]| [&1u32.to_be_bytes()[..], p, s, extra].concat();
    assert_eq!(try_raw(v1(&public, secret.expose(), b"")), Ok(dec.public_key().to_base64()));
    assert_eq!(
        try_raw([&2u32.to_be_bytes()[..], &public, secret.expose()].concat()),
        Err("UNKNOWN_PICKLE_VERSION".into())
    );
    assert_eq!(try_raw(v1(&public, secret.expose(), b"x")), Err("OLM_PICKLE_EXTRA_DATA".into()));
    assert_eq!(try_raw(v1(&public, &secret.expose()[..31], b"")), Err("CORRUPTED_PICKLE".into()));
    // libolm takes a foreign public key as it is; caudata refuses (bad_pickles_are_refused)
    assert_eq!(try_raw(v1(&[0; 32], secret.expose(), b"")), Ok("A".repeat(43)));
}
