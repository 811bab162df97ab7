//! Secret keys as Matrix clients import and export them: Ed25519 seeds and their base64
//! (cross-signing keys, libolm's `PkSigning`), `Ed25519Keypair`, raw Curve25519 secret keys
//! (backup keys, unclamped), `KeyId`; against the shared vectors, vodozemac 0.11.1 and libolm
//! 3.2.16 (live, both ways). Verification stays strict (vodozemac's, not libolm's).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use caudata::primitives::{OsRandom, RandomSource, SecretBytes};
use caudata::{
    Curve25519SecretKey, Ed25519Keypair, Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature, KeyError, KeyId,
};
use common::{Libolm, hexs};
use serde_json::{Value, json};

fn vectors() -> Value {
    serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/matrix-parity/ed25519_pksigning.json"
    )))
    .unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// (seed, message, public, signature) of every signing vector.
fn signing_cases() -> Vec<(String, Vec<u8>, String, String)> {
    let mut out = Vec::new();
    for case in vectors()["signing"].as_array().unwrap() {
        if let Some(msgs) = case["messages"].as_array() {
            for m in msgs {
                out.push((
                    s(&case["seed_hex"]).into(),
                    s(&m["utf8"]).as_bytes().to_vec(),
                    s(&case["public_b64"]).into(),
                    s(&m["signature_b64"]).into(),
                ));
            }
        } else {
            out.push((
                s(&case["seed_hex"]).into(),
                s(&case["message_utf8"]).as_bytes().to_vec(),
                s(&case["public_b64"]).into(),
                s(&case["signature_b64"]).into(),
            ));
        }
    }
    out
}

#[test]
fn signing_vectors() {
    let cases = signing_cases();
    assert_eq!(cases.len(), 5);
    for (seed, msg, public, sig) in &cases {
        let seed: [u8; 32] = hex::decode(seed).unwrap().try_into().unwrap();
        let key = Ed25519SecretKey::from_bytes(&seed);
        assert_eq!(key.public_key().to_base64(), *public);
        assert_eq!(key.sign(msg).to_base64(), *sig);
        key.public_key().verify(msg, &Ed25519Signature::from_base64(sig).unwrap()).unwrap();
        let pair = Ed25519Keypair::from(Ed25519SecretKey::from_bytes(&seed));
        assert_eq!(pair.sign(msg).to_base64(), *sig);
        // the expanded form (libolm's pickles) signs identically
        let expanded = Ed25519Keypair::from_expanded(key.expanded_bytes());
        assert!(expanded.is_expanded());
        assert_eq!((expanded.public_key(), expanded.sign(msg)), (key.public_key(), key.sign(msg)));
    }
    for case in vectors()["signing"].as_array().unwrap() {
        let seed = hex::decode(s(&case["seed_hex"])).unwrap();
        if let Some(padded) = case.get("seed_b64_padded_also_accepted") {
            let key = Ed25519SecretKey::from_base64(s(&case["seed_b64"])).unwrap();
            assert_eq!(key.seed().unwrap().expose()[..], seed[..]);
            assert_eq!(*key.to_base64().unwrap(), s(&case["seed_b64"]));
            let key = Ed25519SecretKey::from_base64(s(padded)).unwrap();
            assert_eq!(key.public_key().to_base64(), s(&case["public_b64"]));
        } else {
            // the Matrix spec appendix seed has non-zero trailing bits: refused, as vodozemac does
            assert!(s(&case["vodozemac_Ed25519SecretKey_from_base64(spec form)"]).starts_with("Failed"));
            assert_eq!(Ed25519SecretKey::from_base64(s(&case["seed_b64"])).err(), Some(KeyError::Base64));
            let key = Ed25519SecretKey::from_base64(s(&case["canonical_seed_b64"])).unwrap();
            assert_eq!(key.seed().unwrap().expose()[..], seed[..]);
            assert_eq!(*key.to_base64().unwrap(), s(&case["canonical_seed_b64"]));
        }
    }
}

#[test]
fn strict_verification_vector() {
    let v = &vectors()["verify_strict"];
    let msg = s(&v["message_utf8"]).as_bytes();
    let key = Ed25519PublicKey::from_base64(s(&v["public_b64"])).unwrap();
    let sig = |f: &str| Ed25519Signature::from_base64(s(&v[f])).unwrap();
    assert_eq!(v["valid_accepted"], true);
    key.verify(msg, &sig("valid_signature_b64")).unwrap();
    assert_eq!(v["wrong_message_accepted"], false);
    assert!(key.verify(b"verify mE", &sig("valid_signature_b64")).is_err());
    assert_eq!(v["s_plus_L_accepted"], false);
    assert!(key.verify(msg, &sig("s_plus_L_signature_b64")).is_err());
    assert_eq!((&v["weak_key_parses"], &v["weak_key_forgery_accepted"]), (&json!(true), &json!(false)));
    let weak = Ed25519PublicKey::from_base64(s(&v["weak_identity_key_b64"])).unwrap();
    assert!(weak.verify(msg, &sig("weak_key_forgery_signature_b64")).is_err());
    assert!(weak.verify(b"anything", &sig("weak_key_forgery_signature_b64")).is_err());
    assert_eq!(v["non_decompressible_key_parses"], false);
    let bad: [u8; 32] = hex::decode(s(&v["non_decompressible_key_hex"])).unwrap().try_into().unwrap();
    assert_eq!(Ed25519PublicKey::from_bytes(&bad).err(), Some(KeyError::InvalidPoint));
    assert_eq!(v["public_from_base64_42_chars_ok"], false);
    assert!(Ed25519PublicKey::from_base64(&s(&v["public_b64"])[..42]).is_err());
    assert_eq!(v["public_from_base64_44_padded_ok"], true);
    assert_eq!(Ed25519PublicKey::from_base64(&format!("{}=", s(&v["public_b64"]))).unwrap(), key);
    assert_eq!(v["signature_from_base64_len_63_ok"], false);
    assert!(Ed25519Signature::from_slice(&[0; 63]).is_err());
    assert_eq!(v["signature_from_base64_any_64_bytes_ok"], true);
    assert!(Ed25519Signature::from_slice(&[0xff; 64]).is_ok());
}

fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    OsRandom.fill(&mut seed);
    seed
}

/// libolm's `PkSigning` (cross-signing keys) reproduces the vectors, makes the same keys and
/// signatures as caudata from random seeds, and each side verifies the other's signatures.
#[test]
fn live_libolm_pk_signing() {
    let mut peer = Libolm::start();
    for (seed, msg, public, sig) in signing_cases() {
        let r = peer.ok(json!({"cmd": "pk_signing", "seed_hex": seed, "msg_hex": hexs(&msg)}));
        assert_eq!((s(&r["public_key"]), s(&r["sig"])), (public.as_str(), sig.as_str()));
    }
    for i in 0..16 {
        let seed = random_seed();
        let msg = format!("{{\"keys\":{{}},\"round\":{i}}}");
        let ours = Ed25519SecretKey::from_bytes(&seed);
        let r = peer.ok(json!({"cmd": "pk_signing", "seed_hex": hexs(seed), "msg_hex": hexs(&msg)}));
        assert_eq!(s(&r["public_key"]), ours.public_key().to_base64());
        assert_eq!(s(&r["sig"]), ours.sign(msg.as_bytes()).to_base64());
        // libolm verifies caudata's signature; caudata verifies libolm's
        let theirs = Ed25519Signature::from_base64(s(&r["sig"])).unwrap();
        ours.public_key().verify(msg.as_bytes(), &theirs).unwrap();
        let r = peer.ok(json!({"cmd": "ed25519_verify", "key": ours.public_key().to_base64(), "msg_hex": hexs(&msg),
            "sig": ours.sign(msg.as_bytes()).to_base64()}));
        assert_eq!(r["valid"], true);
        let r = peer
            .ok(json!({"cmd": "ed25519_verify", "key": ours.public_key().to_base64(), "msg_hex": hexs("other"),
            "sig": ours.sign(msg.as_bytes()).to_base64()}));
        assert_eq!(r["valid"], false);
    }
}

#[test]
fn live_vodozemac_seed_keys() {
    for _ in 0..16 {
        let seed = random_seed();
        let ours = Ed25519SecretKey::from_bytes(&seed);
        let theirs = vodozemac::Ed25519SecretKey::from_slice(&seed);
        assert_eq!(ours.public_key().as_bytes(), theirs.public_key().as_bytes());
        assert_eq!(ours.sign(b"m").to_bytes(), theirs.sign(b"m").to_bytes());
        // base64 both ways, unpadded and padded
        let text = ours.to_base64().unwrap();
        assert_eq!(*text, theirs.to_base64());
        let vz_back = vodozemac::Ed25519SecretKey::from_base64(&text).unwrap();
        assert_eq!(vz_back.public_key().as_bytes(), ours.public_key().as_bytes());
        assert!(vodozemac::Ed25519SecretKey::from_base64(&format!("{}=", *text)).is_ok());
        let back = Ed25519SecretKey::from_base64(&theirs.to_base64()).unwrap();
        assert_eq!(back.seed().unwrap().expose(), &seed);
        // vodozemac verifies a caudata key pair's signature and the reverse
        let pair = Ed25519Keypair::from(back);
        let sig = vodozemac::Ed25519Signature::from_slice(&pair.sign(b"signed").to_bytes()).unwrap();
        theirs.public_key().verify(b"signed", &sig).unwrap();
        let their_sig = Ed25519Signature::from_slice(&theirs.sign(b"theirs").to_bytes()).unwrap();
        pair.public_key().verify(b"theirs", &their_sig).unwrap();
    }
    // the forms vodozemac refuses, caudata refuses: the appendix seed (non-zero trailing bits),
    // a short seed, the URL-safe alphabet
    let spec = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
    assert!(vodozemac::Ed25519SecretKey::from_base64(spec).is_err());
    assert_eq!(Ed25519SecretKey::from_base64(spec).err(), Some(KeyError::Base64));
    let url_safe = spec.replace('+', "-");
    assert!(vodozemac::Ed25519SecretKey::from_base64(&url_safe).is_err());
    assert_eq!(Ed25519SecretKey::from_base64(&url_safe).err(), Some(KeyError::Base64));
    assert!(vodozemac::Ed25519SecretKey::from_base64(&spec[..40]).is_err());
    assert!(Ed25519SecretKey::from_base64(&spec[..40]).is_err());
}

#[test]
fn live_vodozemac_curve25519_secret_bytes() {
    let mut raws = vec![[0xffu8; 32], [0u8; 32]];
    for _ in 0..8 {
        raws.push(random_seed());
    }
    for raw in raws {
        let ours = Curve25519SecretKey::from_bytes(&raw);
        let theirs = vodozemac::Curve25519SecretKey::from_slice(&raw);
        assert_eq!(*theirs.to_bytes(), *ours.to_secret_bytes().expose(), "both keep the raw bytes");
        assert_eq!(*ours.to_secret_bytes().expose(), raw, "unclamped");
        assert_eq!(ours.public_key().to_bytes(), vodozemac::Curve25519PublicKey::from(&theirs).to_bytes());
        let from_slice = Curve25519SecretKey::from_slice(&raw).unwrap();
        assert_eq!(from_slice.public_key(), ours.public_key());
        // Diffie-Hellman agrees with vodozemac's from the same bytes
        let peer = vodozemac::Curve25519SecretKey::new();
        let peer_pk = vodozemac::Curve25519PublicKey::from(&peer);
        let ours_shared = ours.diffie_hellman(&caudata::Curve25519PublicKey::from_bytes(peer_pk.to_bytes())).unwrap();
        let their_shared =
            peer.diffie_hellman(&vodozemac::Curve25519PublicKey::from_bytes(ours.public_key().to_bytes()));
        assert_eq!(ours_shared.expose(), their_shared.unwrap().as_bytes());
    }
    assert_eq!(
        Curve25519SecretKey::from_slice(&[1; 33]).err(),
        Some(KeyError::InvalidLength { expected: 32, got: 33 })
    );
}

#[test]
fn key_ids_encode_as_vodozemac_does() {
    // misc_api.json in the shared vectors: the first three one-time key ids
    for (n, text) in [(0, "AAAAAAAAAAA"), (1, "AAAAAAAAAAE"), (2, "AAAAAAAAAAI")] {
        assert_eq!(String::from(KeyId(n)), text);
        assert_eq!(KeyId(n).to_base64(), text);
    }
    assert_eq!(String::from(KeyId(u64::MAX)), "//////////8");
}

#[test]
fn root_level_names_and_debug_without_secrets() {
    // vodozemac's root-level names (SDK imports), and the secret wrappers' Debug prints no secret
    let seed = [0x42u8; 32];
    let key = Ed25519SecretKey::from_seed(SecretBytes::from_slice(&seed).unwrap());
    let dbg = format!("{key:?} {:?} {:?}", Ed25519Keypair::from(key.clone()), Curve25519SecretKey::from_bytes(&seed));
    assert!(!dbg.contains(&hexs(seed)) && !dbg.contains("QkJC"), "{dbg}");
    let _: caudata::SharedSecret =
        Curve25519SecretKey::from_bytes(&seed).diffie_hellman(&Curve25519SecretKey::new().public_key()).unwrap();
}

/// `Ed25519Keypair` through serde (vodozemac's `Ed25519KeypairPickle` shape), both ways, in JSON
/// and MessagePack, for a seeded key and an expanded-only one: the same bytes, and the key read
/// back signs as the original.
#[test]
fn keypair_serde_is_vodozemacs_both_ways() {
    let seeded = Ed25519Keypair::from(Ed25519SecretKey::from_bytes(&random_seed()));
    let expanded = Ed25519Keypair::from_expanded(Ed25519SecretKey::from_bytes(&random_seed()).expanded_bytes());
    for ours in [seeded, expanded] {
        let json = serde_json::to_string(&ours).unwrap();
        assert!(json.starts_with(if ours.is_expanded() { "{\"Expanded\":[" } else { "{\"Normal\":[" }), "{json}");
        let theirs: vodozemac::Ed25519Keypair = serde_json::from_str(&json).unwrap();
        assert_eq!(theirs.public_key().as_bytes(), ours.public_key().as_bytes());
        assert_eq!(theirs.sign(b"m").to_bytes(), ours.sign(b"m").to_bytes());
        assert_eq!(serde_json::to_string(&theirs).unwrap(), json, "vodozemac writes the same JSON");
        let mp = rmp_serde::to_vec_named(&theirs).unwrap();
        assert_eq!(rmp_serde::to_vec_named(&ours).unwrap(), mp, "and the same MessagePack");
        let back: Ed25519Keypair = rmp_serde::from_slice(&mp).unwrap();
        assert_eq!((back.public_key(), back.is_expanded()), (ours.public_key(), ours.is_expanded()));
        let back: Ed25519Keypair = serde_json::from_str(&json).unwrap();
        assert_eq!(back.sign(b"x"), ours.sign(b"x"));
    }
    // a wrong length or an unknown form is an error
    assert!(serde_json::from_str::<Ed25519Keypair>("{\"Normal\":[1,2,3]}").is_err());
    assert!(serde_json::from_str::<Ed25519Keypair>("{\"Other\":[]}").is_err());
}
