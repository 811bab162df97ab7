//! Regressions of issue 14 ("Hardening II"): the defects an authenticated adversary (a peer
//! holding valid keys and choosing every field) or a holder of an unencrypted pickle could
//! exploit. Each test failed on the code before its fix (the commit that added it says how) and
//! states the attack and the refusal caudata gives now.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use caudata::olm::{Account, OlmMessage, PreKeyMessage, Session, SessionConfig};
use caudata::pickle::SessionPickle;
use caudata::{Curve25519PublicKey, KeyError, PickleError, SessionCreationError};
use hmac::{Hmac, KeyInit, Mac};

mod common;

type HmacSha256 = Hmac<sha2::Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// The u-coordinates of every point of small order (and their other encodings): the keys that
/// make X25519 non-contributory.
fn small_order_keys() -> Vec<[u8; 32]> {
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
        let mut p = [0xffu8; 32];
        p[0] = low;
        p[31] = 0x7f;
        keys.push(p);
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
    keys
}

/// A pre-key message encoded by hand: `0x03 ‖ 0x0a otk ‖ 0x12 base ‖ 0x1a identity ‖ 0x22 inner`.
fn encode_pre_key(otk: &[u8; 32], base: &[u8; 32], identity: &[u8; 32], inner: &[u8]) -> PreKeyMessage {
    let mut out = vec![3u8];
    for (tag, key) in [(0x0a, otk), (0x12, base), (0x1a, identity)] {
        out.push(tag);
        out.push(32);
        out.extend_from_slice(key);
    }
    out.push(0x22);
    let mut len = inner.len();
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(inner);
    PreKeyMessage::from_bytes(&out).unwrap()
}

/// The sending chain key at index 0 of a fresh outbound Olm session, read from its unencrypted
/// pickle (formats 3 and 4: header 7, session keys 96, config 1, received 1, root 32, sender present 1,
/// ratchet key pair 64, then the chain key).
fn first_chain_key(s: &Session) -> [u8; 32] {
    let plain = s.pickle().to_unencrypted_bytes();
    assert_eq!(&plain[..4], b"cdpk");
    assert_eq!(plain[4], caudata::pickle::FORMAT_VERSION);
    plain[202..234].try_into().unwrap()
}

/// What anyone who knows Bob's identity key and one of his published one-time (or fallback) keys
/// can send: a genuine first pre-key message whose inner ratchet key is replaced by `ratchet_key`,
/// with the inner MAC recomputed. The MAC key comes from the 3DH chain key alone, which does not
/// depend on the ratchet key, so the message authenticates.
fn pre_key_with_ratchet_key(
    bob: &Account,
    otk: Curve25519PublicKey,
    ratchet_key: &[u8; 32],
) -> (Account, PreKeyMessage) {
    let eve = Account::new();
    let mut s = eve.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let chain_key = first_chain_key(&s);
    let OlmMessage::PreKey(pk) = s.encrypt(b"small-order ratchet key") else { unreachable!() };
    let mut inner = pk.message().to_bytes();
    assert_eq!(&inner[..3], &[3, 0x0a, 0x20]);
    inner[3..35].copy_from_slice(ratchet_key);
    let seed = hmac(&chain_key, &[&[1]]);
    let mut okm = [0u8; 80];
    hkdf::Hkdf::<sha2::Sha256>::new(None, &seed).expand(b"OLM_KEYS", &mut okm).unwrap();
    let n = inner.len();
    let mac = hmac(&okm[32..64], &[&inner[..n - 8]]);
    inner[n - 8..].copy_from_slice(&mac[..8]);
    let forged =
        encode_pre_key(&pk.one_time_key().to_bytes(), &pk.base_key().to_bytes(), &pk.identity_key().to_bytes(), &inner);
    (eve, forged)
}

// ---------------------------------------------------------------- defect 1

/// Defect 1 (high, remote crash): a pre-key message whose inner ratchet key has small order was
/// accepted by `create_inbound_session` (the responder's first receiving chain is the only one
/// made without a Diffie-Hellman, and the inner MAC does not depend on the ratchet key); the
/// victim's next `encrypt` then panicked ("key already checked contributory"). Now no key of
/// small order can enter a receiving chain: the pre-key message is refused, nothing is consumed,
/// and the same one-time key still starts a genuine session. Checked for every small-order
/// encoding, to a one-time key and to a fallback key.
#[test]
fn defect1_small_order_inner_ratchet_key_is_refused() {
    for bad in small_order_keys() {
        let mut bob = Account::new();
        bob.generate_one_time_keys(1);
        bob.generate_fallback_key();
        let otk = *bob.one_time_keys().values().next().unwrap();
        let fallback = *bob.fallback_key().values().next().unwrap();
        bob.mark_keys_as_published();
        for key in [otk, fallback] {
            let (eve, forged) = pre_key_with_ratchet_key(&bob, key, &bad);
            let before = bob.pickle().to_unencrypted_bytes();
            let r = bob.create_inbound_session(SessionConfig::version_1(), eve.curve25519_key(), &forged);
            // Before the fix this succeeded, and the session's next encrypt panicked.
            if let Ok(mut created) = r {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| created.session.encrypt(b"x")));
                panic!("a pre-key message with the small-order ratchet key {} was accepted", hex::encode(bad));
            }
            assert_eq!(r.unwrap_err(), SessionCreationError::Key(KeyError::NonContributory), "{}", hex::encode(bad));
            assert_eq!(bob.pickle().to_unencrypted_bytes(), before, "the account is unchanged");
        }
        // the one-time key is still there and still starts a genuine session, which works both ways
        let alice = Account::new();
        let mut a = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
        let OlmMessage::PreKey(pk) = a.encrypt(b"genuine") else { unreachable!() };
        let mut b =
            bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk).unwrap().session;
        assert_eq!(a.decrypt(&b.encrypt(b"reply")).unwrap(), b"reply");
    }
}

/// Replaces every occurrence of `old` in `bytes` by `new`; returns how many there were.
fn replace_all(bytes: &mut [u8], old: &[u8; 32], new: &[u8; 32]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i + 32 <= bytes.len() {
        if &bytes[i..i + 32] == old {
            bytes[i..i + 32].copy_from_slice(new);
            n += 1;
            i += 32;
        } else {
            i += 1;
        }
    }
    n
}

/// An Olm session pair where Bob has two receiving chains and a sending chain: the receiving
/// chain keys are Alice's first two ratchet keys.
fn olm_pair_with_two_chains() -> (Session, Session, [u8; 32]) {
    let common::OlmOutbound { alice, mut bob, mut a, first: pk, .. } =
        common::olm_outbound(SessionConfig::version_1(), b"1");
    let first_ratchet_key = pk.message().ratchet_key().to_bytes();
    let mut b = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk).unwrap().session;
    a.decrypt(&b.encrypt(b"2")).unwrap();
    b.decrypt(&a.encrypt(b"3")).unwrap(); // Alice's second chain
    b.encrypt(b"4"); // Bob has a sending chain again
    (a, b, first_ratchet_key)
}

/// Defect 1, pickles: every reader refuses a receiving chain whose ratchet key has small order,
/// whichever chain it is. Before, caudata's own pickles and libolm's were checked only for the
/// newest chain of a session without a sending chain, and vodozemac's likewise.
#[test]
fn defect1_small_order_receiving_chain_key_in_any_pickle_is_refused() {
    let (_, b, old_chain_key) = olm_pair_with_two_chains();
    let before = b.pickle().to_unencrypted_bytes();
    for bad in small_order_keys() {
        // caudata's own format (the older of the two receiving chains)
        let mut own = before.to_vec();
        assert_eq!(replace_all(&mut own, &old_chain_key, &bad), 1);
        assert_eq!(
            SessionPickle::from_unencrypted_bytes(&own).map(|_| ()),
            Err(PickleError::Key(KeyError::NonContributory)),
            "own format, {}",
            hex::encode(bad)
        );
        // libolm's format
        let raw = caudata::fuzzing::libolm_pickle_decrypt(&b.to_libolm_pickle(b"key").unwrap(), b"key").unwrap();
        let mut raw = raw.clone();
        assert_eq!(replace_all(&mut raw, &old_chain_key, &bad), 1);
        let pickle = caudata::fuzzing::libolm_pickle_encrypt(&raw, b"key");
        assert_eq!(
            Session::from_libolm_pickle(&pickle, b"key").map(|_| ()),
            Err(PickleError::Key(KeyError::NonContributory)),
            "libolm format, {}",
            hex::encode(bad)
        );
    }
    // and the unmodified pickles load
    Session::from_pickle(SessionPickle::from_unencrypted_bytes(&before).unwrap());
    Session::from_libolm_pickle(&b.to_libolm_pickle(b"key").unwrap(), b"key").unwrap();
}

/// Defect 1, vodozemac pickles: a receiving chain key of small order in vodozemac's JSON
/// (with a sending chain present, so the old newest-chain check did not apply) is refused.
#[test]
fn defect1_small_order_receiving_chain_key_in_vodozemac_pickle_is_refused() {
    use vodozemac::olm as vo;
    let key = [3u8; 32];
    let alice = vo::Account::new();
    let mut bob = vo::Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    let mut a = alice.create_outbound_session(vo::SessionConfig::version_1(), bob.curve25519_key(), otk).unwrap();
    let vo::OlmMessage::PreKey(pk) = a.encrypt("1").unwrap() else { unreachable!() };
    let mut b =
        bob.create_inbound_session(vo::SessionConfig::version_1(), alice.curve25519_key(), &pk).unwrap().session;
    a.decrypt(&b.encrypt("2").unwrap()).unwrap();
    b.decrypt(&a.encrypt("3").unwrap()).unwrap();
    b.encrypt("4").unwrap();
    let json: serde_json::Value = serde_json::to_value(b.pickle()).unwrap();
    assert_eq!(json["sending_ratchet"]["type"], "active");
    // the pickle as vodozemac wrote it imports
    let good = caudata::fuzzing::libolm_pickle_encrypt(json.to_string().as_bytes(), &key);
    Session::from_vodozemac_pickle(&good, &key).unwrap();
    for bad in small_order_keys() {
        let mut j = json.clone();
        j["receiving_chains"]["inner"][0]["ratchet_key"] = serde_json::json!(bad.to_vec());
        let pickle = caudata::fuzzing::libolm_pickle_encrypt(j.to_string().as_bytes(), &key);
        assert_eq!(
            Session::from_vodozemac_pickle(&pickle, &key).map(|_| ()),
            Err(PickleError::Key(KeyError::NonContributory)),
            "{}",
            hex::encode(bad)
        );
    }
}

/// Defect 1, interolm: the Signal dialect's receiving chains are made by a Diffie-Hellman
/// (a small-order key in a message is refused there), and its pickles are checked like Olm's:
/// a small-order key in any receiving chain is refused.
#[test]
fn defect1_small_order_receiving_chain_key_in_interolm_pickle_is_refused() {
    use caudata::interolm::{self, InterolmMessage};
    use caudata::pickle::InterolmSessionPickle;
    let alice = interolm::Account::new();
    let (mut bob, bundle) = common::interolm_responder(0);
    let mut a = alice.create_outbound_session(&bundle).unwrap();
    let InterolmMessage::PreKey(pk) = a.encrypt(b"1").unwrap() else { unreachable!() };
    let first_ratchet_key = pk.message().ratchet_key().to_bytes();
    let mut b = bob.create_inbound_session(&pk).unwrap().session;
    a.decrypt(&b.encrypt(b"2").unwrap()).unwrap();
    b.decrypt(&a.encrypt(b"3").unwrap()).unwrap(); // Bob: two receiving chains, and a sending chain
    let before = b.pickle().to_unencrypted_bytes();
    InterolmSessionPickle::from_unencrypted_bytes(&before).unwrap();
    for bad in small_order_keys() {
        let mut own = before.to_vec();
        assert_eq!(replace_all(&mut own, &first_ratchet_key, &bad), 1);
        assert_eq!(
            InterolmSessionPickle::from_unencrypted_bytes(&own).map(|_| ()),
            Err(PickleError::Key(KeyError::NonContributory)),
            "{}",
            hex::encode(bad)
        );
    }
    // a small-order ratchet key in a live message (a new chain) is refused before anything else
    let mut b = interolm::Session::from_pickle(InterolmSessionPickle::from_unencrypted_bytes(&before).unwrap());
    a.decrypt(&b.encrypt(b"4").unwrap()).unwrap();
    let m = a.encrypt(b"5").unwrap(); // on Alice's third chain
    let (t, body) = m.to_parts();
    let InterolmMessage::Whisper(w) = &m else { unreachable!() };
    let key = w.ratchet_key().to_bytes();
    for bad in small_order_keys() {
        let mut forged = body.clone();
        assert_eq!(replace_all(&mut forged, &key, &bad), 1);
        let forged = InterolmMessage::from_parts(t, &forged).unwrap();
        assert_eq!(b.decrypt(&forged), Err(caudata::DecryptionError::Key(KeyError::NonContributory)));
    }
    assert_eq!(b.decrypt(&m).unwrap(), b"5");
}

/// Defect 1, the audit of other stored peer keys: a session's own identifying keys (Olm's three
/// session keys, interolm's remote identity and base key) took part in a Diffie-Hellman (or passed
/// the bundle check) when the session was made; a pickle that holds a small-order one instead is
/// refused rather than trusted. Before, every reader took them as stored.
#[test]
fn defect1_small_order_session_keys_in_pickles_are_refused() {
    let (a, _, _) = olm_pair_with_two_chains();
    let keys = a.session_keys();
    let plain = a.pickle().to_unencrypted_bytes();
    let libolm = caudata::fuzzing::libolm_pickle_decrypt(&a.to_libolm_pickle(b"k").unwrap(), b"k").unwrap();
    for key in [keys.identity_key, keys.base_key, keys.one_time_key] {
        let mut own = plain.to_vec();
        assert!(replace_all(&mut own, &key.to_bytes(), &[0; 32]) >= 1);
        assert_eq!(
            SessionPickle::from_unencrypted_bytes(&own).map(|_| ()),
            Err(PickleError::Key(KeyError::NonContributory))
        );
        let mut raw = libolm.clone();
        assert!(replace_all(&mut raw, &key.to_bytes(), &[0; 32]) >= 1);
        let p = caudata::fuzzing::libolm_pickle_encrypt(&raw, b"k");
        assert_eq!(Session::from_libolm_pickle(&p, b"k").map(|_| ()), Err(PickleError::Key(KeyError::NonContributory)));
    }

    use caudata::interolm::{self, InterolmMessage};
    use caudata::pickle::InterolmSessionPickle;
    let alice = interolm::Account::new();
    let (mut bob, bundle) = common::interolm_responder(0);
    let mut a = alice.create_outbound_session(&bundle).unwrap();
    let InterolmMessage::PreKey(pk) = a.encrypt(b"1").unwrap() else { unreachable!() };
    let b = bob.create_inbound_session(&pk).unwrap().session;
    let plain = b.pickle().to_unencrypted_bytes();
    for key in [b.remote_identity_key(), b.base_key()] {
        let mut own = plain.to_vec();
        assert_eq!(replace_all(&mut own, &key.to_bytes(), &[0; 32]), 1);
        assert_eq!(
            InterolmSessionPickle::from_unencrypted_bytes(&own).map(|_| ()),
            Err(PickleError::Key(KeyError::NonContributory))
        );
    }
}

// ---------------------------------------------------------------- defect 2

mod spqr_downgrade {
    use super::hmac;
    use caudata::interolm::spqr::{SpqrError, SpqrState, SpqrVersion, VersionStatus};
    use caudata::interolm::{Account, InterolmMessage, PreKeySignalMessage, Session, SignalMessage, SpqrPolicy};
    use caudata::wire::signal::{PreKeySignalMessageWire, SignalMessageWire, encode_public_key};
    use caudata::{Curve25519PublicKey, DecryptionError};

    fn prekey(m: &InterolmMessage) -> &PreKeySignalMessage {
        match m {
            InterolmMessage::PreKey(p) => p,
            InterolmMessage::Whisper(_) => panic!("expected a pre-key message"),
        }
    }

    /// Alice and Bob (both caudata, with the given policies) after `rounds` exchanges in both
    /// directions, so that both have completed SPQR negotiation (and, with enough rounds, left
    /// SPQR epoch 1).
    fn conversation(alice_policy: SpqrPolicy, bob_policy: SpqrPolicy, rounds: usize) -> (Session, Session) {
        let mut alice = Account::new();
        alice.set_spqr_policy(alice_policy);
        let mut bob = Account::new();
        bob.set_spqr_policy(bob_policy);
        bob.generate_signed_pre_key();
        bob.generate_kyber_pre_key(true);
        let mut a = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
        let mut b = bob.create_inbound_session(prekey(&a.encrypt(b"hello").unwrap())).unwrap().session;
        for i in 0..rounds {
            for _ in 0..3 {
                assert_eq!(a.decrypt(&b.encrypt(format!("b{i}")).unwrap()).unwrap(), format!("b{i}").as_bytes());
            }
            for _ in 0..3 {
                assert_eq!(b.decrypt(&a.encrypt(format!("a{i}")).unwrap()).unwrap(), format!("a{i}").as_bytes());
            }
        }
        for s in [&a, &b] {
            assert_eq!(s.spqr().version_status(), VersionStatus::Complete(SpqrVersion::V1));
        }
        (a, b)
    }

    /// What an attacker who knows `from`'s current classical sending chain key (and nothing of
    /// SPQR) can send to `to`: a message on that chain at its next index, authenticated with the
    /// unsalted message keys, whose field 5 yields no SPQR key.
    fn forge_keyless(from: &Session, to: &Session, field5: &[u8], plaintext: &[u8]) -> SignalMessageWire {
        use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
        let snap = from.snapshot_for_testing_only();
        let ck = snap.sender_chain_key.unwrap();
        let index = snap.sender_chain_index.unwrap();
        let ratchet_key: Curve25519PublicKey = snap.sender_ratchet_key.unwrap();
        let seed = hmac(&ck, &[&[1]]);
        let mut okm = [0u8; 80];
        hkdf::Hkdf::<sha2::Sha256>::new(None, &seed).expand(b"WhisperMessageKeys", &mut okm).unwrap();
        let aes_key: [u8; 32] = okm[..32].try_into().unwrap();
        let iv: [u8; 16] = okm[64..].try_into().unwrap();
        let ct = cbc::Encryptor::<aes::Aes256>::new(&aes_key.into(), &iv.into()).encrypt_padded_vec::<Pkcs7>(plaintext);
        let (sender_ik, receiver_ik) =
            (encode_public_key(&from.local_identity_key()), encode_public_key(&to.local_identity_key()));
        SignalMessageWire::encode_with_pq_ratchet(4, &ratchet_key, index, 0, ct, field5.to_vec(), |b| {
            hmac(&okm[32..64], &[&sender_ik, &receiver_ik, b])
        })
    }

    fn whisper(w: &SignalMessageWire) -> InterolmMessage {
        InterolmMessage::Whisper(SignalMessage::from_bytes(w.as_bytes()).unwrap())
    }

    /// The two keyless forms: a version byte above V1 (a newer SPQR, ignored), and a V1 message
    /// with epoch 1 and index 0 ("no key yet").
    const KEYLESS: [&[u8]; 2] = [&[0x02, 0x01, 0x01, 0x00], &[0x01, 0x01, 0x00, 0x00]];

    /// Defect 2 (medium, SPQR downgrade): after both sides completed SPQR V1 negotiation, a
    /// message whose field 5 yields no SPQR key was accepted on the classical chain alone, so an
    /// attacker who knows only a classical chain key could forge messages. Now refused in both
    /// directions, for both forms, with every policy that negotiates V1, before and after SPQR
    /// epoch 1; the session is unchanged and the conversation goes on.
    #[test]
    fn defect2_keyless_spqr_message_after_negotiation_is_refused() {
        for (alice_policy, bob_policy) in [
            (SpqrPolicy::Required, SpqrPolicy::Required),
            (SpqrPolicy::Optional, SpqrPolicy::Optional),
            (SpqrPolicy::Optional, SpqrPolicy::Required),
            (SpqrPolicy::Required, SpqrPolicy::Optional),
        ] {
            for rounds in [1, 30] {
                let (mut a, mut b) = conversation(alice_policy, bob_policy, rounds);
                if rounds == 30 {
                    assert!(b.spqr().summary().epoch >= 2, "past SPQR epoch 1");
                }
                for field5 in KEYLESS {
                    for to_bob in [true, false] {
                        let (from, to) = if to_bob { (&a, &mut b) } else { (&b, &mut a) };
                        let forged = whisper(&forge_keyless(from, to, field5, b"forged"));
                        let before = to.snapshot_for_testing_only();
                        let r = to.decrypt(&forged);
                        assert_eq!(
                            r,
                            Err(DecryptionError::Spqr(SpqrError::KeylessAfterNegotiation { version: field5[0] })),
                            "{alice_policy:?}/{bob_policy:?}, {rounds} rounds, to Bob: {to_bob}, field 5 {field5:02x?}"
                        );
                        assert_eq!(to.snapshot_for_testing_only(), before);
                    }
                }
                // and the real conversation goes on both ways
                assert_eq!(b.decrypt(&a.encrypt(b"after").unwrap()).unwrap(), b"after");
                assert_eq!(a.decrypt(&b.encrypt(b"after").unwrap()).unwrap(), b"after");
            }
        }
    }

    /// Defect 2, the same at the SPQR layer: once negotiation completed, `SpqrState::recv`
    /// refuses both keyless forms (libsignal accepts them).
    #[test]
    fn defect2_spqr_state_refuses_keyless_after_negotiation() {
        let auth_key = [9u8; 32];
        let mut alice = SpqrState::new_initiator(&auth_key);
        let mut bob = SpqrState::new_responder(&auth_key);
        let rng = &mut caudata::primitives::OsRandom;
        let m = alice.send(rng).unwrap();
        bob.recv(m.message()).unwrap().commit(&mut bob);
        let m = bob.send(rng).unwrap();
        alice.recv(m.message()).unwrap().commit(&mut alice);
        for s in [&alice, &bob] {
            assert_eq!(s.version_status(), VersionStatus::Complete(SpqrVersion::V1));
            for field5 in KEYLESS {
                assert_eq!(
                    s.recv(field5).map(|_| ()),
                    Err(SpqrError::KeylessAfterNegotiation { version: field5[0] }),
                    "{field5:02x?}"
                );
                // a message the caller knows the peer sent before it heard from us is accepted
                assert!(s.recv_pre_reply(field5).unwrap().key().is_none());
            }
        }
        // while negotiating, both forms are still accepted (libsignal's rule)
        let fresh = SpqrState::new_responder(&auth_key);
        for field5 in KEYLESS {
            assert!(fresh.recv(field5).unwrap().key().is_none());
        }
    }

    /// Defect 2, the forged message dressed as the initiator's early pre-key message: keyless
    /// pre-key messages are accepted only on the initiator's first chain, so one on a later chain
    /// is refused even with the session's own outer fields.
    #[test]
    fn defect2_keyless_pre_key_message_on_a_later_chain_is_refused() {
        let mut alice = Account::new();
        alice.set_spqr_policy(SpqrPolicy::Optional);
        let (mut bob, bundle) = crate::common::interolm_responder(0);
        let mut a = alice.create_outbound_session(&bundle).unwrap();
        let first = a.encrypt(b"first").unwrap();
        let fields = PreKeySignalMessageWire::decode(&first.to_bytes()).unwrap().fields;
        let mut b = bob.create_inbound_session(prekey(&first)).unwrap().session;
        for i in 0..3 {
            a.decrypt(&b.encrypt(format!("{i}")).unwrap()).unwrap();
            b.decrypt(&a.encrypt(format!("{i}")).unwrap()).unwrap();
        }
        let forged = forge_keyless(&a, &b, KEYLESS[1], b"forged");
        let wrapped = PreKeySignalMessageWire::encode(fields, forged);
        let m = InterolmMessage::PreKey(PreKeySignalMessage::from_bytes(wrapped.as_bytes()).unwrap());
        assert!(b.matches(prekey(&m)));
        assert_eq!(b.decrypt(&m), Err(DecryptionError::Spqr(SpqrError::KeylessAfterNegotiation { version: 1 })));
    }

    /// Defect 2, what must keep working: an initiator that negotiates (caudata's `Optional`, as
    /// libsignal 0.90) sends keyless pre-key messages until it hears from the responder; those
    /// may arrive after negotiation completed, after later messages, in any order, even after
    /// SPQR left epoch 1, and still decrypt. (The live tests against libsignal 0.90.0, 0.92.2 and
    /// 0.103.0 are in tests/spqr_live.rs.)
    #[test]
    fn defect2_delayed_pre_reply_messages_still_decrypt() {
        for bob_policy in [SpqrPolicy::Optional, SpqrPolicy::Required] {
            // (1, 1): one exchange; (3, 25): long bursts, so that SPQR leaves epoch 1 while Bob
            // still holds Alice's first chain (5 are kept; each round makes one more).
            for (rounds, burst) in [(1, 1), (3, 25)] {
                let mut alice = Account::new();
                alice.set_spqr_policy(SpqrPolicy::Optional);
                let mut bob = Account::new();
                bob.set_spqr_policy(bob_policy);
                bob.generate_signed_pre_key();
                bob.generate_kyber_pre_key(true);
                let mut a = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
                let early: Vec<InterolmMessage> = (0..6).map(|i| a.encrypt(format!("early {i}")).unwrap()).collect();
                let mut b = bob.create_inbound_session(prekey(&early[5])).unwrap().session;
                // Bob gets three of them at once (SPQR's header, 3 chunks, is then complete)
                b.decrypt(&early[2]).unwrap();
                b.decrypt(&early[4]).unwrap();
                // the conversation moves on: Alice's later chains carry SPQR keys
                for i in 0..rounds {
                    for _ in 0..burst {
                        let m = b.encrypt(format!("b{i}")).unwrap();
                        a.decrypt(&m).unwrap();
                    }
                    for _ in 0..burst {
                        let m = a.encrypt(format!("a{i}")).unwrap();
                        b.decrypt(&m).unwrap();
                    }
                }
                assert_eq!(b.spqr().version_status(), VersionStatus::Complete(SpqrVersion::V1));
                if rounds == 3 {
                    assert!(b.spqr().summary().epoch >= 2, "SPQR left epoch 1: {:?}", b.spqr().summary());
                }
                for i in [3, 0, 1] {
                    assert_eq!(b.decrypt(&early[i]).unwrap(), format!("early {i}").as_bytes(), "{bob_policy:?}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------- defect 3

/// Defect 3 (SPQR send failure): when SPQR's `send` failed, the message went out without its
/// SPQR key and without an error, a downgrade that a peer which negotiated SPQR refuses. Now
/// `encrypt` returns `EncryptionError::Spqr` and the session is unchanged. The failure is made
/// real: a session whose SPQR send counter for the epoch is exhausted (2^32 − 1 messages sent
/// without hearing back), restored from its pickle with the counter set there.
#[test]
fn defect3_spqr_send_failure_is_an_error() {
    use caudata::interolm::spqr::SpqrError;
    use caudata::interolm::{Account, InterolmMessage, Session, SpqrPolicy};
    use caudata::pickle::InterolmSessionPickle;
    let mut alice = Account::new();
    alice.set_spqr_policy(SpqrPolicy::Required);
    let (_, bundle) = common::interolm_responder(0);
    let mut a = alice.create_outbound_session(&bundle).unwrap();
    for _ in 0..0x123 {
        a.encrypt(b"unanswered").unwrap();
    }
    assert_eq!(a.spqr().summary().chain_counters[0].0, 0x123);
    // The SPQR state is the pickle's last field; its current send half is `ctr u32 ‖ has_next 1`.
    let mut plain = a.pickle().to_unencrypted_bytes().to_vec();
    let spqr = a.spqr().to_bytes();
    let start = plain.len() - spqr.len();
    assert_eq!(&plain[start..], &spqr[..]);
    let at: Vec<usize> = (start..plain.len() - 5).filter(|&i| plain[i..i + 5] == [0, 0, 1, 0x23, 1]).collect();
    assert_eq!(at.len(), 1);
    plain[at[0]..at[0] + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let mut exhausted = Session::from_pickle(InterolmSessionPickle::from_unencrypted_bytes(&plain).unwrap());
    let before = exhausted.snapshot_for_testing_only();
    let r = exhausted.encrypt(b"would go without SPQR");
    if let Ok(m) = &r {
        let (InterolmMessage::PreKey(_) | InterolmMessage::Whisper(_)) = m;
        panic!("a message was made although SPQR could not make its part: {m:?}");
    }
    assert_eq!(r.unwrap_err(), caudata::EncryptionError::Spqr(SpqrError::Internal("sub-chain counter overflow")));
    assert_eq!(exhausted.snapshot_for_testing_only(), before, "nothing changed");
    // the same through the dialect-independent session API
    let mut any = caudata::Session::from(exhausted);
    assert!(matches!(any.encrypt(b"x"), Err(caudata::EncryptionError::Spqr(_))));
}

// ---------------------------------------------------------------- low items

/// Issue 14, low: `validate_vartime` (interolm's check of identity keys, prekeys and base keys)
/// looked for small order through the map to Edwards form, which u = p − 1 (a point of order 2
/// on the twist's side of the map) does not have: that key passed. It now uses the same
/// comparison with the small-order encodings as every receiving chain's key.
#[test]
fn low_validate_vartime_refuses_p_minus_1() {
    let mut p_minus_1 = [0xffu8; 32];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    assert_eq!(Curve25519PublicKey::from_bytes(p_minus_1).validate_vartime(), Err(KeyError::NonContributory));
    for k in small_order_keys() {
        assert!(Curve25519PublicKey::from_bytes(k).validate_vartime().is_err(), "{}", hex::encode(k));
    }
    let fine = caudata::primitives::Curve25519SecretKey::new().public_key();
    fine.validate_vartime().unwrap();
}

/// Issue 14, low: the public XEdDSA verifier accepted forgeries under small-order keys: with
/// `A` of small order, `h·A` takes at most 8 values, so `R = s·B` verifies for one message hash
/// in 8, whatever `s`. The verifier now validates the key first.
#[test]
fn low_xeddsa_verifier_refuses_small_order_keys() {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::montgomery::MontgomeryPoint;
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::IsIdentity;
    use sha2::Digest;
    let message = b"a prekey the identity never signed";
    let mut forged_under = 0;
    for u in small_order_keys() {
        let Some(a) = MontgomeryPoint(u).to_edwards(0) else { continue };
        let a_bytes = a.compress().to_bytes();
        // search for s with h·A = identity, so that R = s·B passes R == s·B − h·A
        let forgery = (1u64..400).find_map(|k| {
            let s = Scalar::from(k);
            let r = (ED25519_BASEPOINT_POINT * s).compress().to_bytes();
            let h: [u8; 64] =
                sha2::Sha512::new().chain_update(r).chain_update(a_bytes).chain_update(message).finalize().into();
            let h = Scalar::from_bytes_mod_order_wide(&h);
            (a * h).is_identity().then(|| {
                let mut sig = [0u8; 64];
                sig[..32].copy_from_slice(&r);
                sig[32..].copy_from_slice(s.as_bytes());
                sig
            })
        });
        let sig = caudata::interolm::XEdDsaSignature::from_bytes(forgery.expect("a forgery within 400 tries"));
        forged_under += 1;
        let key = Curve25519PublicKey::from_bytes(u);
        assert!(key.verify_xeddsa(message, &sig).is_err(), "a forged signature verified under {}", hex::encode(u));
    }
    assert!(forged_under >= 5, "forgeries tried under {forged_under} small-order keys");
    // genuine signatures still verify
    let k = caudata::primitives::Curve25519SecretKey::new();
    k.public_key().verify_xeddsa(message, &k.sign_xeddsa(message)).unwrap();
}

/// Issue 14, low: `Debug` of `olm::InboundCreationResult`, `interolm::InboundCreationResult`
/// and `megolm::DecryptedMessage` printed the plaintext (into logs, panics, `{:?}` of a
/// result). Now only its length.
#[test]
fn low_debug_never_prints_plaintext() {
    let secret = b"the launch code is 0000";
    // as text, and as the list of numbers a derived `Debug` of a `Vec<u8>` prints
    let numbers = secret[..4].iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
    let needles = [String::from_utf8_lossy(secret).to_string(), numbers];
    let check = |what: &str, debug: String| {
        for n in &needles {
            assert!(!debug.contains(n.as_str()), "{what} prints the plaintext: {debug}");
        }
        assert!(debug.contains(&secret.len().to_string()), "{what} shows the length: {debug}");
    };
    let common::OlmOutbound { alice, mut bob, first: pk, .. } =
        common::olm_outbound(SessionConfig::version_1(), secret);
    let r = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk).unwrap();
    check("olm::InboundCreationResult", format!("{r:?}"));

    let signal_alice = caudata::interolm::Account::new();
    let (mut signal_bob, signal_bundle) = common::interolm_responder(0);
    let mut s = signal_alice.create_outbound_session(&signal_bundle).unwrap();
    let caudata::interolm::InterolmMessage::PreKey(pk) = s.encrypt(secret).unwrap() else { unreachable!() };
    let r = signal_bob.create_inbound_session(&pk).unwrap();
    check("interolm::InboundCreationResult", format!("{r:?}"));

    let mut out = caudata::megolm::GroupSession::new(caudata::megolm::SessionConfig::version_1());
    let mut inbound = caudata::megolm::InboundGroupSession::new(&out.session_key(), out.session_config());
    let d = inbound.decrypt(&out.encrypt(secret)).unwrap();
    check("megolm::DecryptedMessage", format!("{d:?}"));
    check("megolm::DecryptedMessage (pretty)", format!("{d:#?}"));
}

/// Issue 14, low: caudata's own pickles (format 3) store each public key beside its secret
/// key, and the readers took it as stored even from an unencrypted pickle, whose bytes the
/// caller may have stored or moved anywhere. A wrong Ed25519 public key is not harmless: two
/// signatures of one message under two public keys reveal the secret scalar. Unencrypted
/// pickles now have their public keys recomputed and compared (`KeyMismatch`); encrypted ones,
/// authenticated, still load without the base-point multiplications.
#[test]
fn low_unencrypted_pickles_public_keys_are_checked() {
    use caudata::pickle::{AccountPickle, GroupSessionPickle, InterolmAccountPickle};
    let mut account = Account::new();
    account.generate_one_time_keys(2);
    account.generate_fallback_key();
    let other = Account::new();
    let plain = account.pickle().to_unencrypted_bytes().to_vec();
    let mut swapped_ed = plain.clone();
    assert_eq!(replace_all(&mut swapped_ed, account.ed25519_key().as_bytes(), other.ed25519_key().as_bytes()), 1);
    let r = AccountPickle::from_unencrypted_bytes(&swapped_ed).map(Account::from_pickle);
    if let Ok(a) = &r {
        // what the substitution gives an attacker: signatures under the wrong public key
        assert_ne!(a.ed25519_key(), account.ed25519_key(), "the stored public key was taken");
    }
    assert_eq!(r.map(|_| ()), Err(PickleError::KeyMismatch("Ed25519 public key")));
    let mut swapped_curve = plain.clone();
    assert_eq!(
        replace_all(&mut swapped_curve, &account.curve25519_key().to_bytes(), &other.curve25519_key().to_bytes()),
        1
    );
    assert_eq!(
        AccountPickle::from_unencrypted_bytes(&swapped_curve).map(|_| ()),
        Err(PickleError::KeyMismatch("identity key"))
    );
    let otk = *account.one_time_keys().values().next().unwrap();
    let mut swapped_otk = plain.clone();
    assert_eq!(replace_all(&mut swapped_otk, &otk.to_bytes(), &other.curve25519_key().to_bytes()), 1);
    assert_eq!(
        AccountPickle::from_unencrypted_bytes(&swapped_otk).map(|_| ()),
        Err(PickleError::KeyMismatch("one-time key"))
    );
    // the unmodified forms load, encrypted and not
    Account::from_pickle(AccountPickle::from_unencrypted_bytes(&plain).unwrap());
    Account::from_pickle(AccountPickle::from_encrypted(&account.pickle().encrypt(&[1; 32]), &[1; 32]).unwrap());

    // an outbound group session's signing key
    let group = caudata::megolm::GroupSession::new(caudata::megolm::SessionConfig::version_1());
    let other_group = caudata::megolm::GroupSession::new(caudata::megolm::SessionConfig::version_1());
    let mut g = group.pickle().to_unencrypted_bytes().to_vec();
    let (old, new) = (group.session_key().to_bytes(), other_group.session_key().to_bytes());
    assert_eq!(replace_all(&mut g, &old[133..165].try_into().unwrap(), &new[133..165].try_into().unwrap()), 1);
    assert_eq!(
        GroupSessionPickle::from_unencrypted_bytes(&g).map(|_| ()),
        Err(PickleError::KeyMismatch("Ed25519 public key"))
    );

    // an interolm account's identity key
    let signal = caudata::interolm::Account::new();
    let mut s = signal.pickle().unwrap().to_unencrypted_bytes().to_vec();
    assert_eq!(replace_all(&mut s, &signal.identity_key().to_bytes(), &other.curve25519_key().to_bytes()), 1);
    assert_eq!(
        InterolmAccountPickle::from_unencrypted_bytes(&s).map(|_| ()),
        Err(PickleError::KeyMismatch("identity key"))
    );
}

/// Issue 14, low: Megolm mixed ring arithmetic with plain ordering. A message index 2^31 + 10
/// ahead of the first known index (refused when reached from the initial ratchet) was accepted
/// when the cached latest ratchet was close enough; `compare` and `merge` ordered first indices
/// plainly, so across the 2^32 wrap `merge` kept the copy that knows less and `compare` called
/// it better. One rule now (SPEC.md §5.3): the ring, measured from the first known index.
#[test]
fn low_megolm_one_ordering_rule() {
    use caudata::DecryptionError::UnknownMessageIndex;
    use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig, SessionOrdering};
    // 1. an index 2^31 + 10 ahead is refused, whatever the cached ratchet
    let mut out = GroupSession::new(MegolmConfig::version_1());
    let mut inbound = InboundGroupSession::new(&out.session_key(), MegolmConfig::version_1());
    out.advance_to_for_testing(20);
    inbound.decrypt(&out.encrypt(b"twenty")).unwrap();
    let far = (1u32 << 31) + 10;
    out.advance_to_for_testing(far);
    let m = out.encrypt(b"far");
    assert_eq!(inbound.decrypt(&m).map(|d| d.plaintext), Err(UnknownMessageIndex { got: far, first_known: 0 }));
    // just under half the ring is still accepted
    let mut out2 = GroupSession::new(MegolmConfig::version_1());
    let mut inbound2 = InboundGroupSession::new(&out2.session_key(), MegolmConfig::version_1());
    out2.advance_to_for_testing((1 << 31) - 1);
    assert_eq!(inbound2.decrypt(&out2.encrypt(b"edge")).unwrap().plaintext, b"edge");

    // 2. across the 2^32 wrap: a copy from 2^32 − 5 knows more than one from 3
    let mut out = GroupSession::new(MegolmConfig::version_1());
    out.advance_to_for_testing(u32::MAX - 4);
    let early = InboundGroupSession::new(&out.session_key(), MegolmConfig::version_1());
    out.advance_to_for_testing(3);
    let late = InboundGroupSession::new(&out.session_key(), MegolmConfig::version_1());
    assert!(early.connected(&late) && late.connected(&early));
    assert_eq!(early.compare(&late), SessionOrdering::Better);
    assert_eq!(late.compare(&early), SessionOrdering::Worse);
    for merged in [early.merge(&late).unwrap(), late.merge(&early).unwrap()] {
        assert_eq!(merged.first_known_index(), u32::MAX - 4, "the merge keeps the copy that knows more");
    }
    // and the merged copy decrypts a message from before the wrap
    let mut sender = GroupSession::new(MegolmConfig::version_1());
    sender.advance_to_for_testing(u32::MAX - 4);
    let a = InboundGroupSession::new(&sender.session_key(), MegolmConfig::version_1());
    sender.advance_to_for_testing(u32::MAX - 2);
    let before_wrap = sender.encrypt(b"before the wrap");
    sender.advance_to_for_testing(5);
    let b = InboundGroupSession::new(&sender.session_key(), MegolmConfig::version_1());
    let mut merged = b.merge(&a).unwrap();
    assert_eq!(merged.decrypt(&before_wrap).unwrap().plaintext, b"before the wrap");
}

/// Issue 14, low: a fallback key outlives its uses, so replaying a pre-key message sent to one
/// made a second session and delivered the message again. The account now remembers each use
/// (base and identity key digest, the last 1 024, kept in its pickle from format 4 on, dropped
/// with the key) and refuses a replay with `ReplayedPreKeyMessage`, before any key agreement.
#[test]
fn low_pre_key_message_replayed_to_a_fallback_key_is_refused() {
    use caudata::consts::MAX_FALLBACK_KEY_USES;
    use caudata::pickle::AccountPickle;
    let mut bob = Account::new();
    bob.generate_fallback_key();
    let fallback = *bob.fallback_key().values().next().unwrap();
    bob.mark_keys_as_published();
    let first_message = |bob: &Account| {
        let alice = Account::new();
        let mut s = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), fallback).unwrap();
        let OlmMessage::PreKey(pk) = s.encrypt(b"once") else { unreachable!() };
        (alice, pk)
    };
    let (alice, pk) = first_message(&bob);
    let r = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk).unwrap();
    assert_eq!(r.plaintext, b"once");
    let before = bob.pickle().to_unencrypted_bytes();
    let replay = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk);
    assert_eq!(replay.map(|r| r.plaintext), Err(SessionCreationError::ReplayedPreKeyMessage));
    assert_eq!(bob.pickle().to_unencrypted_bytes(), before, "the account is unchanged");
    // the record survives pickling, encrypted and not
    for mut restored in [
        Account::from_pickle(AccountPickle::from_unencrypted_bytes(&before).unwrap()),
        Account::from_pickle(AccountPickle::from_encrypted(&bob.pickle().encrypt(&[5; 32]), &[5; 32]).unwrap()),
    ] {
        let r = restored.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk);
        assert_eq!(r.map(|r| r.plaintext), Err(SessionCreationError::ReplayedPreKeyMessage));
    }
    // other senders still use the fallback key; the record is bounded, oldest forgotten
    for _ in 0..MAX_FALLBACK_KEY_USES {
        let (other, m) = first_message(&bob);
        bob.create_inbound_session(SessionConfig::version_1(), other.curve25519_key(), &m).unwrap();
    }
    assert_eq!(bob.fallback_key_uses(), MAX_FALLBACK_KEY_USES);
    // and it goes with the key: once the fallback key is forgotten, so are its uses
    bob.generate_fallback_key();
    assert!(bob.forget_fallback_key());
    assert_eq!(bob.fallback_key_uses(), 0);
    assert!(matches!(
        bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), &pk),
        Err(SessionCreationError::MissingOneTimeKey(_))
    ));
}

// ---------------------------------------------------------------- defect 5

/// Defect 5 (bounded work before authentication): a forged interolm message made the receiver
/// run SPQR (up to 25 000 chain steps, and a copy of the state) before the double ratchet even
/// looked at its index. Now what the double ratchet refuses without deriving a key (a gap over
/// 25 000, a missing skipped key, a new ratchet key of small order) is refused first, with no
/// SPQR work: here the SPQR part is one the SPQR layer would refuse too, and the double
/// ratchet's error is the one reported. The worst message that passes both cheap checks is
/// measured in benches/forged.rs (SPEC.md §7).
#[test]
fn defect5_double_ratchet_limits_come_before_spqr_work() {
    use caudata::interolm::spqr::{Payload, SpqrMessage};
    use caudata::interolm::{Account as SignalAccount, InterolmMessage, SignalMessage, SpqrPolicy};
    use caudata::wire::signal::SignalMessageWire;
    let mut alice = SignalAccount::new();
    alice.set_spqr_policy(SpqrPolicy::Required);
    let mut bob = SignalAccount::new();
    bob.set_spqr_policy(SpqrPolicy::Required);
    bob.generate_signed_pre_key();
    bob.generate_kyber_pre_key(true);
    let mut a = alice.create_outbound_session(&bob.pre_key_bundle(1).unwrap()).unwrap();
    let InterolmMessage::PreKey(m) = a.encrypt(b"hello").unwrap() else { unreachable!() };
    let mut b = bob.create_inbound_session(&m).unwrap().session;
    a.decrypt(&b.encrypt(b"hi").unwrap()).unwrap();
    let s = b.spqr().summary();
    let ctr = s.chain_counters.last().unwrap().1;
    let limit = caudata::consts::SIGNAL_MAX_FORWARD_JUMPS;
    let forge = |dr_index: u32, spqr_index: u32| {
        let field5 = SpqrMessage { epoch: s.epoch, index: spqr_index, payload: Payload::None }.to_bytes();
        let key = caudata::primitives::Curve25519SecretKey::new().public_key();
        let wire = SignalMessageWire::encode_with_pq_ratchet(4, &key, dr_index, 0, vec![0; 16], field5, |_| [0; 32]);
        InterolmMessage::Whisper(SignalMessage::from_bytes(wire.as_bytes()).unwrap())
    };
    let before = b.snapshot_for_testing_only();
    // over both limits: the double ratchet's refusal, without SPQR's
    assert_eq!(
        b.decrypt(&forge(limit + 1, ctr + limit + 1)),
        Err(caudata::DecryptionError::TooBigMessageGap { got: u64::from(limit) + 1, max: limit.into() })
    );
    // at both limits: all the work, then the MAC fails; nothing changes
    assert_eq!(b.decrypt(&forge(limit, ctr + limit)), Err(caudata::DecryptionError::InvalidMac));
    assert_eq!(b.snapshot_for_testing_only(), before);
    assert_eq!(b.decrypt(&a.encrypt(b"still fine").unwrap()).unwrap(), b"still fine");
}
