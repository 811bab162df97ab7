//! SAS (`m.sas.v1`): the shared vectors as known answers, live differential tests against
//! vodozemac 0.11.1 and libolm 3.2.16 (each side's output checked by the other, both ways),
//! and bad input (small-order keys, bad MACs, wrong lengths, non-canonical base64).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use caudata::primitives::RandomSource;
use caudata::sas::{EstablishedSas, Mac, Sas, SasBytes, SasError};
use caudata::{Curve25519PublicKey, KeyError};
use common::{Libolm, hexs};
use serde_json::{Value, json};

fn vectors() -> Value {
    serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/matrix-parity/sas.json")))
        .unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(s(v)).unwrap()
}

/// Randomness that replays fixed bytes (the vectors' secrets).
struct Replay(Vec<u8>);
impl RandomSource for Replay {
    fn fill(&mut self, dest: &mut [u8]) {
        assert!(dest.len() <= self.0.len(), "more randomness asked for than recorded");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

fn sas_from_secret(secret: &[u8]) -> Sas {
    Sas::new_with_rng(&mut Replay(secret.to_vec()))
}

fn key(b64: &str) -> Curve25519PublicKey {
    Curve25519PublicKey::from_base64(b64).unwrap()
}

fn vz_key(k: Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(k.to_bytes())
}

fn long_kdf_field(m: &Value) -> &str {
    let (_, v) = m.as_object().unwrap().iter().find(|(k, _)| k.starts_with("libolm_long_kdf")).unwrap();
    s(v)
}

/// Every value of the `deterministic` vector from both sides: Alice computes, Bob verifies.
#[test]
fn deterministic_vector() {
    let v = &vectors()["deterministic"];
    let alice = sas_from_secret(&h(&v["alice_secret_hex"]));
    let bob = sas_from_secret(&h(&v["bob_secret_hex"]));
    assert_eq!(alice.public_key().to_base64(), s(&v["alice_public_b64"]));
    assert_eq!(bob.public_key().to_base64(), s(&v["bob_public_b64"]));
    let alice = alice.diffie_hellman_with_raw(s(&v["bob_public_b64"])).unwrap();
    let bob = bob.diffie_hellman(key(s(&v["alice_public_b64"]))).unwrap();
    assert_eq!(alice.our_public_key(), bob.their_public_key());
    assert_eq!(alice.their_public_key(), bob.our_public_key());

    for side in [&alice, &bob] {
        let bytes = side.bytes(s(&v["sas_info"]));
        assert_eq!(hexs(bytes.as_bytes()), s(&v["sas_bytes_hex"]));
        let emoji: Vec<u8> = serde_json::from_value(v["emoji_indices"].clone()).unwrap();
        assert_eq!(bytes.emoji_indices().to_vec(), emoji);
        let d: (u16, u16, u16) = serde_json::from_value(v["decimals"].clone()).unwrap();
        assert_eq!(bytes.decimals(), d);
        assert_eq!(
            hexs(side.bytes(s(&v["legacy_curve25519_info"])).as_bytes()),
            s(&v["legacy_curve25519_sas_bytes_hex"])
        );
        assert_eq!(hexs(side.bytes_raw("TEST", 10).unwrap()), s(&v["bytes_raw_TEST_10_hex"]));
    }

    let macs = v["macs_sent_by_alice"].as_array().unwrap();
    assert_eq!(macs.len(), 4);
    for m in macs {
        let (input, info) = (s(&m["input"]), s(&m["info"]));
        let mac = alice.calculate_mac(input, info);
        assert_eq!(hexs(mac.as_bytes()), s(&m["mac_hex"]), "{}", m["what"]);
        assert_eq!(mac.to_base64(), s(&m["hkdf-hmac-sha256.v2"]));
        assert_eq!(alice.calculate_mac_invalid_base64(input, info), s(&m["hkdf-hmac-sha256"]));
        assert_eq!(alice.calculate_mac_long_kdf(input, info), long_kdf_field(m));
        // Bob verifies each form of Alice's MAC
        bob.verify_mac(input, info, &Mac::from_base64(s(&m["hkdf-hmac-sha256.v2"])).unwrap()).unwrap();
        bob.verify_mac_invalid_base64(input, info, s(&m["hkdf-hmac-sha256"])).unwrap();
        bob.verify_mac_long_kdf(input, info, long_kdf_field(m)).unwrap();
        // and no form passes for another
        assert_eq!(bob.verify_mac_invalid_base64(input, info, long_kdf_field(m)), Err(SasError::Mac));
        assert_eq!(bob.verify_mac_long_kdf(input, info, s(&m["hkdf-hmac-sha256"])), Err(SasError::Mac));
        assert_eq!(bob.verify_mac_invalid_base64(input, info, s(&m["hkdf-hmac-sha256.v2"])), Err(SasError::Mac));
    }
}

/// vodozemac's recorded side: Alice (caudata) against vodozemac's public key.
#[test]
fn recorded_vodozemac_vector() {
    for r in vectors()["recorded_vodozemac"].as_array().unwrap() {
        let alice = sas_from_secret(&h(&r["alice_secret_hex"]));
        assert_eq!(alice.public_key().to_base64(), s(&r["alice_public_b64"]));
        let alice = alice.diffie_hellman_with_raw(s(&r["vodozemac_public_b64"])).unwrap();
        let bytes = alice.bytes(s(&r["sas_info"]));
        assert_eq!(hexs(bytes.as_bytes()), s(&r["sas_bytes_hex"]));
        let emoji: Vec<u8> = serde_json::from_value(r["emoji_indices"].clone()).unwrap();
        assert_eq!(bytes.emoji_indices().to_vec(), emoji);
        let d: (u16, u16, u16) = serde_json::from_value(r["decimals"].clone()).unwrap();
        assert_eq!(bytes.decimals(), d);
        let (input, info) = (s(&r["mac_input"]), s(&r["mac_info"]));
        alice.verify_mac(input, info, &Mac::from_base64(s(&r["mac_v2_b64"])).unwrap()).unwrap();
        alice.verify_mac_invalid_base64(input, info, s(&r["mac_legacy_b64"])).unwrap();
        assert_eq!(alice.calculate_mac(input, info).to_base64(), s(&r["mac_v2_b64"]));
    }
}

#[test]
fn emoji_decimal_edge_vectors() {
    let edges = vectors()["emoji_decimal_edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 4);
    for e in edges {
        let b: [u8; 6] = h(&e["bytes_hex"]).try_into().unwrap();
        let bytes = SasBytes::from_bytes(b);
        let emoji: Vec<u8> = serde_json::from_value(e["emoji_indices"].clone()).unwrap();
        assert_eq!(bytes.emoji_indices().to_vec(), emoji);
        let d: (u16, u16, u16) = serde_json::from_value(e["decimals"].clone()).unwrap();
        assert_eq!(bytes.decimals(), d);
    }
}

/// Matrix-shaped info strings for one exchange (the starter is `a`).
fn infos(round: usize, a: &str, b: &str) -> (String, String, String) {
    let txn = format!("$txn{round}");
    let sas = format!("MATRIX_KEY_VERIFICATION_SAS|@a:x|A{round}|{a}|@b:y|B{round}|{b}|{txn}");
    let mac = format!("MATRIX_KEY_VERIFICATION_MAC@a:xA{round}@b:yB{round}{txn}ed25519:A{round}");
    let input = format!("key {round} {}", "x".repeat(round * 7));
    (sas, mac, input)
}

/// Checks two established sides against each other: caudata's `ours`, and the other side's
/// outputs through `theirs` (bytes for an info and count, and the three MAC strings).
fn check_against(ours: &EstablishedSas, round: usize, theirs: &mut dyn FnMut(&str, usize, &str, &str) -> PeerOut) {
    let (sas_info, mac_info, input) =
        infos(round, &ours.our_public_key().to_base64(), &ours.their_public_key().to_base64());
    for count in [6, 5, 1, 32, 33, 100] {
        let out = theirs(&sas_info, count, &input, &mac_info);
        assert_eq!(ours.bytes_raw(&sas_info, count).unwrap(), out.bytes, "bytes_raw({count})");
        let n = count.min(6);
        assert_eq!(ours.bytes(&sas_info).as_bytes()[..n], out.bytes[..n], "HKDF output is a prefix stream");
    }
    let out = theirs(&sas_info, 6, &input, &mac_info);
    // their MACs verify here
    ours.verify_mac(&input, &mac_info, &Mac::from_base64(&out.mac_v2).unwrap()).unwrap();
    ours.verify_mac_invalid_base64(&input, &mac_info, &out.mac_legacy).unwrap();
    if let Some(long) = &out.mac_long_kdf {
        ours.verify_mac_long_kdf(&input, &mac_info, long).unwrap();
    }
    // and ours are the same strings (the other direction of verification is in the callers)
    assert_eq!(ours.calculate_mac(&input, &mac_info).to_base64(), out.mac_v2);
    assert_eq!(ours.calculate_mac_invalid_base64(&input, &mac_info), out.mac_legacy);
    // a MAC for another input does not verify
    assert_eq!(ours.verify_mac("other", &mac_info, &Mac::from_base64(&out.mac_v2).unwrap()), Err(SasError::Mac));
}

struct PeerOut {
    bytes: Vec<u8>,
    mac_v2: String,
    mac_legacy: String,
    mac_long_kdf: Option<String>,
}

#[test]
fn live_vodozemac_both_ways() {
    for round in 0..12 {
        let ours = Sas::new();
        let theirs = vodozemac::sas::Sas::new();
        let (our_pk, their_pk) = (ours.public_key(), theirs.public_key());
        // alternate who passes the key as base64
        let ours = if round % 2 == 0 {
            ours.diffie_hellman(Curve25519PublicKey::from_bytes(their_pk.to_bytes())).unwrap()
        } else {
            ours.diffie_hellman_with_raw(&their_pk.to_base64()).unwrap()
        };
        let theirs = theirs.diffie_hellman(vz_key(our_pk)).unwrap();
        check_against(&ours, round, &mut |info, count, input, mac_info| PeerOut {
            bytes: theirs.bytes_raw(info, count).unwrap(),
            mac_v2: theirs.calculate_mac(input, mac_info).to_base64(),
            mac_legacy: theirs.calculate_mac_invalid_base64(input, mac_info),
            mac_long_kdf: None,
        });
        // vodozemac verifies caudata's MAC, and its emoji and decimals agree
        let (sas_info, mac_info, input) = infos(round, "k1", "k2");
        let mac = ours.calculate_mac(&input, &mac_info);
        theirs.verify_mac(&input, &mac_info, &vodozemac::sas::Mac::from_base64(&mac.to_base64()).unwrap()).unwrap();
        let mut bad = *mac.as_bytes();
        bad[31] ^= 1;
        assert!(theirs.verify_mac(&input, &mac_info, &vodozemac::sas::Mac::from_slice(&bad)).is_err());
        assert_eq!(ours.bytes(&sas_info).emoji_indices(), theirs.bytes(&sas_info).emoji_indices());
        assert_eq!(ours.bytes(&sas_info).decimals(), theirs.bytes(&sas_info).decimals());
    }
}

#[test]
fn live_libolm_both_ways() {
    let mut peer = Libolm::start();
    for round in 0..8 {
        let ours = Sas::new();
        let their_pk = peer.ok(json!({"cmd": "sas_new", "h": "s"}))["public_key"].as_str().unwrap().to_string();
        peer.ok(json!({"cmd": "sas_set_their_key", "h": "s", "key": ours.public_key().to_base64()}));
        let ours = ours.diffie_hellman_with_raw(&their_pk).unwrap();
        check_against(&ours, round, &mut |info, count, input, mac_info| {
            let mac = |kind: &str, peer: &mut Libolm| {
                let r = peer.ok(json!({"cmd": "sas_mac", "h": "s", "kind": kind,
                    "input_hex": hexs(input), "info_hex": hexs(mac_info)}));
                r["mac"].as_str().unwrap().to_string()
            };
            let bytes = peer.ok(json!({"cmd": "sas_bytes", "h": "s", "info_hex": hexs(info), "n": count}));
            PeerOut {
                bytes: hex::decode(bytes["bytes"].as_str().unwrap()).unwrap(),
                mac_v2: mac("fixed_base64", &mut peer),
                mac_legacy: mac("invalid_base64", &mut peer),
                mac_long_kdf: Some(mac("long_kdf", &mut peer)),
            }
        });
        // libolm computes the same long-KDF MAC as caudata
        let (_, mac_info, input) = infos(round, "k1", "k2");
        let r = peer.ok(json!({"cmd": "sas_mac", "h": "s", "kind": "long_kdf",
            "input_hex": hexs(&input), "info_hex": hexs(&mac_info)}));
        assert_eq!(ours.calculate_mac_long_kdf(&input, &mac_info), r["mac"].as_str().unwrap());
    }
}

/// The deterministic vector regenerated by libolm from the same secrets.
#[test]
fn live_libolm_reproduces_the_vector() {
    let v = &vectors()["deterministic"];
    let mut peer = Libolm::start();
    let r = peer.ok(json!({"cmd": "sas_new", "h": "a", "secret_hex": s(&v["alice_secret_hex"])}));
    assert_eq!(r["public_key"], v["alice_public_b64"]);
    peer.ok(json!({"cmd": "sas_set_their_key", "h": "a", "key": v["bob_public_b64"]}));
    let r = peer.ok(json!({"cmd": "sas_bytes", "h": "a", "info_hex": hexs(s(&v["sas_info"])), "n": 6}));
    assert_eq!(r["bytes"], v["sas_bytes_hex"]);
    let r = peer.ok(json!({"cmd": "sas_bytes", "h": "a", "info_hex": hexs("TEST"), "n": 10}));
    assert_eq!(r["bytes"], v["bytes_raw_TEST_10_hex"]);
    for m in v["macs_sent_by_alice"].as_array().unwrap() {
        for (kind, want) in [
            ("invalid_base64", s(&m["hkdf-hmac-sha256"])),
            ("fixed_base64", s(&m["hkdf-hmac-sha256.v2"])),
            ("long_kdf", long_kdf_field(m)),
        ] {
            let r = peer.ok(json!({"cmd": "sas_mac", "h": "a", "kind": kind,
                "input_hex": hexs(s(&m["input"])), "info_hex": hexs(s(&m["info"]))}));
            assert_eq!(r["mac"], want, "{kind} of {}", m["what"]);
        }
    }
}

/// The points of small order (and their encodings with bit 255 set): X25519 with them is all
/// zeros whatever the secret.
fn small_order_keys() -> Vec<[u8; 32]> {
    let p_minus = |low: u8| {
        let mut b = [0xff; 32];
        b[0] = low;
        b[31] = 0x7f;
        b
    };
    let mut one = [0u8; 32];
    one[0] = 1;
    let order8a = hex::decode("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157").unwrap();
    let order8b = hex::decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800").unwrap();
    let mut keys = vec![
        [0; 32],
        one,
        order8a.try_into().unwrap(),
        order8b.try_into().unwrap(),
        p_minus(0xec),
        p_minus(0xed),
        p_minus(0xee),
    ];
    let high: Vec<[u8; 32]> = keys
        .iter()
        .map(|k| {
            let mut k = *k;
            k[31] |= 0x80;
            k
        })
        .collect();
    keys.extend(high);
    keys
}

#[test]
fn small_order_keys_are_refused_and_leave_the_sas_unchanged() {
    let sas = Sas::new();
    let public = sas.public_key();
    for k in small_order_keys() {
        let their = Curve25519PublicKey::from_bytes(k);
        assert_eq!(sas.diffie_hellman_keeping_key(their).err(), Some(KeyError::NonContributory), "{their:?}");
        assert_eq!(Sas::new().diffie_hellman(their).err(), Some(KeyError::NonContributory));
        // vodozemac refuses the same keys
        assert!(vodozemac::sas::Sas::new().diffie_hellman(vodozemac::Curve25519PublicKey::from_bytes(k)).is_err());
    }
    // the refused attempts changed nothing: same key, and it still agrees with a good peer
    assert_eq!(sas.public_key(), public);
    let peer = vodozemac::sas::Sas::new();
    let peer_pk = Curve25519PublicKey::from_bytes(peer.public_key().to_bytes());
    let ours = sas.diffie_hellman_keeping_key(peer_pk).unwrap();
    let theirs = peer.diffie_hellman(vz_key(public)).unwrap();
    assert_eq!(ours.bytes("i").as_bytes(), theirs.bytes("i").as_bytes());
    // keeping the key, a second agreement gives the same secret (libolm's set_their_key again)
    let again = sas.diffie_hellman_keeping_key(peer_pk).unwrap();
    assert_eq!(again.bytes("i"), ours.bytes("i"));
}

/// libolm accepts the all-zero key and goes on with an all-zero secret (the documented
/// difference): its bytes are then those of HKDF over 32 zero bytes, which anyone can compute.
#[test]
fn live_libolm_accepts_an_all_zero_key_which_caudata_refuses() {
    let mut peer = Libolm::start();
    peer.ok(json!({"cmd": "sas_new", "h": "s"}));
    peer.ok(json!({"cmd": "sas_set_their_key", "h": "s", "key": "A".repeat(43)}));
    let r = peer.ok(json!({"cmd": "sas_bytes", "h": "s", "info_hex": hexs("i"), "n": 6}));
    let mut zero_hkdf = [0u8; 6];
    caudata::hazmat::hkdf_sha256(None, &[0; 32], b"i", &mut zero_hkdf);
    assert_eq!(r["bytes"], hexs(zero_hkdf));
    assert_eq!(Sas::new().diffie_hellman_with_raw(&"A".repeat(43)).err(), Some(KeyError::NonContributory));
}

#[test]
fn malformed_keys_are_refused() {
    // a fixed key: 42 of its characters leave non-zero trailing bits ("i" = 0b100010)
    let good = "TMsDidpgthfSHtUFGVAFPWz2KobHYjcPC3aCXtOalig";
    assert_eq!(Sas::new().diffie_hellman_with_raw(&good[..42]).err(), Some(KeyError::Base64));
    assert_eq!(
        Sas::new().diffie_hellman_with_raw(&good[..40]).err(),
        Some(KeyError::InvalidLength { expected: 32, got: 30 })
    );
    assert_eq!(
        Sas::new().diffie_hellman_with_raw(&format!("{good}AAAA")).err(),
        Some(KeyError::InvalidLength { expected: 32, got: 35 })
    );
    assert_eq!(Sas::new().diffie_hellman_with_raw(&good.replace('W', "-")).err(), Some(KeyError::Base64));
    assert_eq!(Sas::new().diffie_hellman_with_raw(&format!(" {good}")).err(), Some(KeyError::Base64));
    assert!(Sas::new().diffie_hellman_with_raw(&format!("{good}=")).is_ok(), "padded keys are accepted");
    assert_eq!(Sas::new().diffie_hellman_with_raw("").err(), Some(KeyError::InvalidLength { expected: 32, got: 0 }));
}

#[test]
fn bad_macs_are_refused() {
    let a = Sas::new();
    let b = Sas::new();
    let (ak, bk) = (a.public_key(), b.public_key());
    let (a, b) = (a.diffie_hellman(bk).unwrap(), b.diffie_hellman(ak).unwrap());
    let (input, info) = ("ed25519 key", "MATRIX_KEY_VERIFICATION_MAC...");
    let mac = a.calculate_mac(input, info);
    b.verify_mac(input, info, &mac).unwrap();
    // every single-bit change of the MAC, the input or the info fails
    for bit in 0..256 {
        let mut m = *mac.as_bytes();
        m[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(b.verify_mac(input, info, &Mac::from_bytes(m)), Err(SasError::Mac));
    }
    assert_eq!(b.verify_mac("ed25519 kez", info, &mac), Err(SasError::Mac));
    assert_eq!(b.verify_mac(input, "MATRIX_KEY_VERIFICATION_MAC..,", &mac), Err(SasError::Mac));
    // a third party's MAC with the same strings fails (another shared secret)
    let c = Sas::new().diffie_hellman(bk).unwrap();
    assert_eq!(b.verify_mac(input, info, &c.calculate_mac(input, info)), Err(SasError::Mac));
    // legacy and long-KDF strings: each character changed, truncated, extended
    type Verify = fn(&EstablishedSas, &str, &str, &str) -> Result<(), SasError>;
    let legacy_verify: Verify = |s, i, f, t| s.verify_mac_invalid_base64(i, f, t);
    let long_verify: Verify = |s, i, f, t| s.verify_mac_long_kdf(i, f, t);
    for (legacy, verify) in [
        (a.calculate_mac_invalid_base64(input, info), legacy_verify),
        (a.calculate_mac_long_kdf(input, info), long_verify),
    ] {
        verify(&b, input, info, &legacy).unwrap();
        for i in 0..legacy.len() {
            let mut t = legacy.clone().into_bytes();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            assert_eq!(verify(&b, input, info, std::str::from_utf8(&t).unwrap()), Err(SasError::Mac));
        }
        assert_eq!(verify(&b, input, info, &legacy[..42]), Err(SasError::InvalidMacLength { expected: 43, got: 42 }));
        assert_eq!(
            verify(&b, input, info, &format!("{legacy}=")),
            Err(SasError::InvalidMacLength { expected: 43, got: 44 })
        );
        assert_eq!(verify(&b, input, info, ""), Err(SasError::InvalidMacLength { expected: 43, got: 0 }));
    }
    // parsing: truncated, too long, non-canonical, URL-safe, padded (accepted)
    let text = mac.to_base64();
    assert_eq!(Mac::from_base64(&text[..40]).err(), Some(SasError::InvalidMacLength { expected: 32, got: 30 }));
    assert_eq!(
        Mac::from_base64(&format!("{text}AAAA")).err(),
        Some(SasError::InvalidMacLength { expected: 32, got: 35 })
    );
    // 42 characters keep 4 bits of the last byte: non-canonical unless they are zero, else 31 bytes
    // (fixed MACs: a random one's truncation is canonical 1 time in 16)
    let ones = Mac::from_bytes([0xff; 32]).to_base64();
    assert_eq!(Mac::from_base64(&ones[..42]).err(), Some(SasError::Base64));
    let high_nibble_zero = Mac::from_bytes([0x0f; 32]).to_base64();
    assert_eq!(
        Mac::from_base64(&high_nibble_zero[..42]).err(),
        Some(SasError::InvalidMacLength { expected: 32, got: 31 })
    );
    assert_eq!(Mac::from_base64(&format!("{text}=")).unwrap(), mac);
    // padding as vodozemac reads it
    for form in [text.clone(), format!("{text}="), format!("{text}=="), format!("{text}==="), format!("={text}")] {
        let theirs = vodozemac::sas::Mac::from_base64(&form).is_ok();
        assert_eq!(Mac::from_base64(&form).is_ok(), theirs, "{form}");
    }
    assert_eq!(Mac::from_base64(" ").err(), Some(SasError::Base64));
    assert_eq!(Mac::from_slice(&[0; 31]).err(), Some(SasError::InvalidMacLength { expected: 32, got: 31 }));
    // the last character carries 4 bits of the MAC and 2 zero bits: setting one is refused
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let last = ALPHABET.iter().position(|&c| c == text.as_bytes()[42]).unwrap();
    assert_eq!(last & 3, 0);
    let non_canonical = format!("{}{}", &text[..42], char::from(ALPHABET[last | 1]));
    assert_eq!(Mac::from_base64(&non_canonical).err(), Some(SasError::Base64));
}
