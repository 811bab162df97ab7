//! Fuzzing entry points for SAS MACs and key backup's PK messages and pickle (see the parent
//! module's documentation for the conventions).

use super::{FuzzRng, PICKLE_KEY, libolm_pickle_decrypt, libolm_pickle_encrypt};
use crate::Curve25519PublicKey;
use crate::pk_encryption::{Message, PkDecryption, PkEncryption};
use crate::sas::{EstablishedSas, Mac, Sas};

const SAS_INPUT: &str = "ed25519:DEVICE";
const SAS_INFO: &str = "MATRIX_KEY_VERIFICATION_MAC@a:xDEVICE@b:yOTHER$txn";

/// Two established SAS sides and the MACs one of them sent (v2, legacy, long-KDF).
struct SasFixture {
    ours: Sas,
    theirs: EstablishedSas,
    mac: Mac,
    legacy: String,
    long_kdf: String,
}

thread_local! {
    static SAS_FIXTURE: SasFixture = {
        let ours = Sas::new_with_rng(&mut FuzzRng::new(b"sas fixture ours"));
        let other = Sas::new_with_rng(&mut FuzzRng::new(b"sas fixture theirs"));
        let their_key = other.public_key();
        let sender = ours.diffie_hellman_keeping_key(their_key).expect("contributory");
        let theirs = other.diffie_hellman(ours.public_key()).expect("contributory");
        SasFixture {
            mac: sender.calculate_mac(SAS_INPUT, SAS_INFO),
            legacy: sender.calculate_mac_invalid_base64(SAS_INPUT, SAS_INFO),
            long_kdf: sender.calculate_mac_long_kdf(SAS_INPUT, SAS_INFO),
            ours,
            theirs,
        }
    };
    static PK_FIXTURE: PkDecryption = PkDecryption::new_with_rng(&mut FuzzRng::new(b"pk fixture"));
}

/// SAS. First byte: 0 `Mac::from_base64`, 1 `Mac::from_slice`, 2 the legacy and long-KDF MAC
/// strings, 3 a peer key given as base64 to `diffie_hellman`. Asserts: a parsed MAC
/// re-encodes to itself, and a MAC verifies exactly when it is the one that was sent; a peer key
/// is accepted exactly when it decodes and is not of small order, and then gives a secret that
/// the fixed key's own calculation reproduces.
pub fn decode_sas_mac(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    let text = core::str::from_utf8(body).ok();
    SAS_FIXTURE.with(|f| match sel % 4 {
        0 | 1 => {
            let parsed = if sel % 4 == 0 { text.map(Mac::from_base64) } else { Some(Mac::from_slice(body)) };
            if let Some(Ok(mac)) = parsed {
                assert_eq!(Mac::from_base64(&mac.to_base64()).expect("own encoding"), mac);
                let verified = f.theirs.verify_mac(SAS_INPUT, SAS_INFO, &mac).is_ok();
                assert_eq!(verified, mac.as_bytes() == f.mac.as_bytes(), "verify_mac disagrees with equality");
            }
        }
        2 => {
            if let Some(t) = text {
                let legacy = f.theirs.verify_mac_invalid_base64(SAS_INPUT, SAS_INFO, t).is_ok();
                assert_eq!(legacy, t == f.legacy);
                let long = f.theirs.verify_mac_long_kdf(SAS_INPUT, SAS_INFO, t).is_ok();
                assert_eq!(long, t == f.long_kdf);
            }
        }
        _ => {
            if let Some(t) = text {
                let key = Curve25519PublicKey::from_base64(t);
                match f.ours.diffie_hellman_keeping_key(key.clone().unwrap_or(Curve25519PublicKey::from_bytes([0; 32])))
                {
                    Ok(established) => {
                        let key = key.expect("accepted only a key that decodes");
                        assert!(!key.has_small_order());
                        assert_eq!(established.their_public_key(), key);
                        let again = f.ours.diffie_hellman_keeping_key(key).expect("the same key again");
                        assert_eq!(again.bytes("x"), established.bytes("x"));
                    }
                    Err(_) => assert!(key.is_err() || key.is_ok_and(|k| k.has_small_order())),
                }
            }
        }
    });
}

/// Key backup. First byte: 0 the three base64 fields separated by `|`, 1 raw fields
/// (`mac_len ‖ mac ‖ ephemeral key(32) ‖ ciphertext`), 2 a `PkDecryption` libolm pickle as
/// text, 3 the pickle's plaintext (encrypted here, to reach the decoder behind the MAC).
/// Asserts: a decoded message re-encodes to itself; decryption changes nothing, and succeeds only
/// for a well-formed message whose plaintext fits its ciphertext; an imported pickle re-pickles to
/// a fixed point, and a plaintext pickle that loads is canonical.
pub fn decode_pk_message(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else { return };
    PK_FIXTURE.with(|dec| match sel % 4 {
        0 => {
            let Ok(text) = core::str::from_utf8(body) else { return };
            let mut parts = text.splitn(3, '|');
            let (Some(ct), Some(mac), Some(eph)) = (parts.next(), parts.next(), parts.next()) else { return };
            if let Ok(m) = Message::from_base64(ct, mac, eph) {
                let (a, b, c) = m.to_base64_parts();
                assert_eq!(Message::from_base64(&a, &b, &c).expect("own encoding"), m);
                check_decrypt(dec, &m);
            }
        }
        1 => {
            let Some((&mac_len, rest)) = body.split_first() else { return };
            let mac_len = usize::from(mac_len);
            if rest.len() < mac_len + 32 {
                return;
            }
            let (mac, rest) = rest.split_at(mac_len);
            let (key, ciphertext) = rest.split_at(32);
            let Ok(ephemeral_key) = Curve25519PublicKey::from_slice(key) else { return };
            check_decrypt(dec, &Message { ciphertext: ciphertext.to_vec(), mac: mac.to_vec(), ephemeral_key });
        }
        2 => {
            if let Ok(text) = core::str::from_utf8(body)
                && let Ok(imported) = PkDecryption::from_libolm_pickle(text, &PICKLE_KEY)
            {
                let again = imported.to_libolm_pickle(&PICKLE_KEY);
                let reloaded = PkDecryption::from_libolm_pickle(&again, &PICKLE_KEY).expect("own pickle reloads");
                assert_eq!(reloaded.to_libolm_pickle(&PICKLE_KEY), again, "pickle is not a fixed point");
            }
        }
        _ => {
            let text = libolm_pickle_encrypt(body, &PICKLE_KEY);
            if let Ok(imported) = PkDecryption::from_libolm_pickle(&text, &PICKLE_KEY) {
                let again = libolm_pickle_decrypt(&imported.to_libolm_pickle(&PICKLE_KEY), &PICKLE_KEY);
                assert_eq!(again.as_deref(), Some(body), "a non-canonical PkDecryption pickle was accepted");
            }
        }
    });
}

fn check_decrypt(dec: &PkDecryption, m: &Message) {
    let before = dec.to_libolm_pickle(&PICKLE_KEY);
    let result = dec.decrypt(m);
    assert_eq!(dec.to_libolm_pickle(&PICKLE_KEY), before, "decrypt changed the key");
    if let Ok(pt) = result {
        assert!((1..=32).contains(&m.mac.len()), "a MAC of {} bytes was accepted", m.mac.len());
        assert!(!m.ephemeral_key.has_small_order());
        let n = m.ciphertext.len();
        assert!(n.is_multiple_of(16) && n > 0 && pt.len() < n && pt.len() + 16 >= n, "plaintext does not fit");
    }
}

/// Seeds: the fixtures' real MACs, keys, messages and pickles in each encoding.
pub(super) fn seeds(target: &str) -> Vec<Vec<u8>> {
    let with = |sel: u8, body: &[u8]| [&[sel][..], body].concat();
    match target {
        "decode_sas_mac" => SAS_FIXTURE.with(|f| {
            vec![
                with(0, f.mac.to_base64().as_bytes()),
                with(0, format!("{}=", f.mac.to_base64()).as_bytes()),
                with(1, f.mac.as_bytes()),
                with(2, f.legacy.as_bytes()),
                with(2, f.long_kdf.as_bytes()),
                with(3, f.theirs.our_public_key().to_base64().as_bytes()),
                with(3, "A".repeat(43).as_bytes()),
            ]
        }),
        "decode_pk_message" => PK_FIXTURE.with(|dec| {
            let enc = PkEncryption::from(dec);
            let m = enc.encrypt_with_rng(br#"{"session_key":"AQAAAA"}"#, &mut FuzzRng::new(b"pk seed"));
            let (ct, mac, eph) = m.to_base64_parts();
            let raw = [&[m.mac.len() as u8][..], &m.mac, m.ephemeral_key.as_bytes(), &m.ciphertext].concat();
            let pickle = dec.to_libolm_pickle(&PICKLE_KEY);
            vec![
                with(0, format!("{ct}|{mac}|{eph}").as_bytes()),
                with(1, &raw),
                with(2, pickle.as_bytes()),
                with(3, &libolm_pickle_decrypt(&pickle, &PICKLE_KEY).expect("own pickle")),
            ]
        }),
        _ => Vec::new(),
    }
}
