//! Replay of real libsignal 0.103.0 ↔ 0.103.0 traffic with SPQR V1
//! (`test-vectors/spqr/spqr-capture-libsignal-0.103.json`, described in the README beside it).
//!
//! Checked, for both scenarios (`lockstep`, `bursty_reordered_lossy`):
//! * the SPQR message codec on every captured field 5 (decode, and re-encode byte for byte);
//! * the erasure code: every captured chunk (systematic and parity) re-encoded from its payload,
//!   and every payload rebuilt from the captured chunks;
//! * the authenticator (root and MAC keys before and after every epoch, `mac_hdr`, `mac_ct`),
//!   the header hash order, ML-KEM-768 decapsulation and encapsulation, the epoch secrets;
//! * the chain: every recorded per-message key of both directions in every epoch;
//! * two `SpqrState`s (Alice, Bob) driven through the captured event order with the captured
//!   randomness (`dk` and `encaps_m` of each epoch): every field 5 we send equals libsignal's,
//!   every message key equals `spqr_key`, and the receiving side, fed the captured field-5 bytes
//!   in the captured delivery order (drops included), yields the captured keys; after every
//!   event our state summary matches libsignal's stored state.
//!
//! The ML-KEM key generation seeds `(d, z)` are not recorded, so key generation is replayed by
//! injecting the recorded decapsulation key (`send_with_keys_for_testing_only`); everything
//! derived from it (header, ek vector) is then recomputed and compared.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};

use caudata::interolm::spqr::hazmat::{
    Authenticator, Chain, ChainParams, Decoder, Encoder, epoch_secret, mlkem768_decapsulate, mlkem768_encapsulate,
};
use caudata::interolm::spqr::{Direction, Payload, SpqrMessage, SpqrState};
use caudata::primitives::{RandomSource, SecretBytes};
use serde_json::Value;

const CAPTURE: &str = include_str!("../test-vectors/spqr/spqr-capture-libsignal-0.103.json");

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn arr<const N: usize>(v: &Value) -> [u8; N] {
    h(v).try_into().expect("length")
}

fn scenarios() -> Vec<Value> {
    let v: Value = serde_json::from_str(CAPTURE).unwrap();
    assert_eq!(v["format"], "caudata-spqr-vectors-v1");
    assert_eq!(v["libsignal_version"], "0.103.0");
    v["scenarios"].as_array().unwrap().clone()
}

/// The four erasure-coded payloads of one epoch.
struct Payloads {
    hdr: Vec<u8>,
    ek: Vec<u8>,
    ct1: Vec<u8>,
    ct2: Vec<u8>,
}

fn payloads(e: &Value) -> Payloads {
    Payloads {
        hdr: [h(&e["hdr"]), h(&e["mac_hdr"])].concat(),
        ek: h(&e["ek_vector"]),
        ct1: h(&e["ct1"]),
        ct2: [h(&e["ct2"]), h(&e["mac_ct"])].concat(),
    }
}

fn payload_of<'a>(p: &'a Payloads, payload: &Payload) -> Option<&'a [u8]> {
    match payload {
        Payload::Hdr(_) => Some(&p.hdr),
        Payload::Ek(_) | Payload::EkCt1Ack(_) => Some(&p.ek),
        Payload::Ct1(_) => Some(&p.ct1),
        Payload::Ct2(_) => Some(&p.ct2),
        Payload::None | Payload::Ct1Ack => None,
    }
}

#[test]
fn codec_and_erasure_code_reproduce_every_chunk() {
    let (mut total_chunks, mut total_parity, mut total_msgs) = (0, 0, 0);
    for s in scenarios() {
        let epochs: Vec<Payloads> = s["epochs"].as_array().unwrap().iter().map(payloads).collect();
        // Chunks per (epoch, payload kind), to rebuild each payload from what was captured.
        let mut seen: BTreeMap<(u64, &'static str), Vec<caudata::interolm::spqr::Chunk>> = BTreeMap::new();
        for m in s["messages"].as_array().unwrap() {
            let bytes = h(&m["spqr_msg"]);
            let msg = SpqrMessage::from_bytes(&bytes).unwrap();
            let d = &m["spqr"];
            assert_eq!(d["version"], 1);
            assert_eq!(msg.epoch, d["epoch"].as_u64().unwrap());
            assert_eq!(u64::from(msg.index), d["index"].as_u64().unwrap());
            assert_eq!(msg.payload.name(), d["type"].as_str().unwrap());
            assert_eq!(msg.to_bytes(), bytes, "re-encoding is byte-exact");
            total_msgs += 1;
            let Some(chunk) = msg.payload.chunk() else { continue };
            assert_eq!(u64::from(chunk.index), d["chunk_index"].as_u64().unwrap());
            assert_eq!(chunk.data.to_vec(), h(&d["chunk"]));
            let payload = payload_of(&epochs[msg.epoch as usize - 1], &msg.payload).unwrap();
            let enc = Encoder::new(payload).unwrap();
            assert_eq!(&enc.chunk_at(chunk.index), chunk, "seq {}", m["seq"]);
            total_chunks += 1;
            if usize::from(chunk.index) >= payload.len() / 32 {
                total_parity += 1;
            }
            let kind = match msg.payload {
                Payload::Hdr(_) => "Hdr",
                Payload::Ek(_) | Payload::EkCt1Ack(_) => "Ek",
                Payload::Ct1(_) => "Ct1",
                _ => "Ct2",
            };
            seen.entry((msg.epoch, kind)).or_default().push(*chunk);
        }
        // Every payload rebuilt from captured chunks, newest first (so parity is used where
        // there is any).
        for ((epoch, kind), chunks) in &seen {
            let p = &epochs[*epoch as usize - 1];
            let payload = match *kind {
                "Hdr" => &p.hdr,
                "Ek" => &p.ek,
                "Ct1" => &p.ct1,
                _ => &p.ct2,
            };
            let mut dec = Decoder::new(payload.len()).unwrap();
            for c in chunks.iter().rev() {
                dec.add_chunk(c);
            }
            if dec.is_complete() {
                assert_eq!(&dec.decode().unwrap(), payload, "epoch {epoch} {kind}");
            }
        }
    }
    // The numbers SPQR.md §10/§13 quote: 734 messages, 570 chunks, 126 of them parity.
    assert_eq!((total_msgs, total_chunks, total_parity), (734, 570, 126));
}

#[test]
fn authenticator_kem_and_epoch_secrets() {
    let mut epochs_checked = 0;
    for s in scenarios() {
        let auth_key: [u8; 32] = arr(&s["auth_key"]);
        let mut auth = Authenticator::new(&auth_key);
        for e in s["epochs"].as_array().unwrap() {
            let epoch = e["epoch"].as_u64().unwrap();
            assert_eq!(auth.root_key().to_vec(), h(&e["auth_root_key_before"]));
            assert_eq!(auth.mac_key().to_vec(), h(&e["auth_mac_key_before"]));
            let hdr: [u8; 64] = arr(&e["hdr"]);
            let ek: [u8; 1152] = arr(&e["ek_vector"]);
            let dk = h(&e["dk"]);
            let (ct1, ct2): ([u8; 960], [u8; 128]) = (arr(&e["ct1"]), arr(&e["ct2"]));
            assert_eq!(auth.header_mac(epoch, &hdr).to_vec(), h(&e["mac_hdr"]));
            // hdr = rho ‖ SHA3-256(t ‖ rho), and both halves sit inside dk.
            assert_eq!(&dk[2304..2368], &hdr[..]);
            assert_eq!(&dk[1152..2304], &ek[..]);
            let k = mlkem768_decapsulate(&dk, &ct1, &ct2).unwrap();
            assert_eq!(k.to_vec(), h(&e["mlkem_shared_secret"]));
            let m: [u8; 32] = arr(&e["encaps_m"]);
            let (ct1b, ct2b, kb) = mlkem768_encapsulate(&hdr, &ek, &m).unwrap();
            assert_eq!((ct1b, ct2b, kb), (ct1, ct2, k), "Encaps1/Encaps2 reproduce libsignal's ciphertext");
            let secret = epoch_secret(&SecretBytes::from_array(&mut { k }), epoch);
            assert_eq!(secret.expose().to_vec(), h(&e["epoch_secret"]));
            auth.update(epoch, secret.expose());
            assert_eq!(auth.root_key().to_vec(), h(&e["auth_root_key_after"]));
            assert_eq!(auth.mac_key().to_vec(), h(&e["auth_mac_key_after"]));
            assert_eq!(auth.ciphertext_mac(epoch, &ct1, &ct2).to_vec(), h(&e["mac_ct"]));
            epochs_checked += 1;
        }
    }
    assert_eq!(epochs_checked, 6);
}

#[test]
fn chain_keys_of_every_epoch_and_direction() {
    let mut keys_checked = 0;
    for s in scenarios() {
        let auth_key: [u8; 32] = arr(&s["auth_key"]);
        let secrets: Vec<[u8; 32]> = s["epochs"].as_array().unwrap().iter().map(|e| arr(&e["epoch_secret"])).collect();
        for (dir, name) in [(Direction::A2B, "A2B"), (Direction::B2A, "B2A")] {
            let mut chain = Chain::new(&auth_key, dir, ChainParams::default());
            for epoch in 0..=secrets.len() as u64 {
                if epoch > 0 {
                    let s = SecretBytes::from_array(&mut { secrets[epoch as usize - 1] });
                    chain.add_epoch(epoch, &s).unwrap();
                }
                let list = s["chain_keys"][format!("{name}/e{epoch}")].as_array().unwrap();
                for (i, want) in list.iter().enumerate() {
                    let (index, key) = chain.send_key(epoch).unwrap();
                    assert_eq!(index as usize, i + 1);
                    assert_eq!(key.expose().to_vec(), h(want), "{name}/e{epoch} #{index}");
                    keys_checked += 1;
                }
            }
        }
    }
    // 43+43+44+43+43+44+44+43+3+3 and 132+42+154+56+3+3.
    assert_eq!(keys_checked, 353 + 390);
}

/// Hands out the recorded encapsulation randomness `m` (32 bytes) and nothing else.
struct Recorded(Option<[u8; 32]>);

impl RandomSource for Recorded {
    fn fill(&mut self, dest: &mut [u8]) {
        assert_eq!(dest.len(), 32, "only the 32-byte encapsulation randomness is replayed");
        dest.copy_from_slice(&self.0.take().expect("randomness asked for twice"));
    }
}

/// Compares our summary with libsignal's stored-state summary `st`.
fn check_state(ours: &SpqrState, st: &Value, ctx: &str) {
    let sum = ours.summary();
    assert_eq!(sum.state, st["state"].as_str(), "{ctx}");
    assert_eq!(sum.epoch, st["epoch"].as_u64().unwrap(), "{ctx}");
    assert_eq!(sum.negotiating, st["negotiating"].as_bool().unwrap(), "{ctx}");
    assert_eq!(sum.chain_current_epoch, st["chain_current_epoch"].as_u64(), "{ctx}");
    assert_eq!(sum.chain_send_epoch, st["chain_send_epoch"].as_u64(), "{ctx}");
    if let Some(n) = st["chain_links"].as_u64() {
        assert_eq!(sum.chain_counters.len() as u64, n, "{ctx}");
        let send: Vec<u64> = sum.chain_counters.iter().map(|c| u64::from(c.0)).collect();
        let recv: Vec<u64> = sum.chain_counters.iter().map(|c| u64::from(c.1)).collect();
        let want = |k: &str| st[k].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect::<Vec<_>>();
        assert_eq!(send, want("chain_send_ctr"), "{ctx}");
        assert_eq!(recv, want("chain_recv_ctr"), "{ctx}");
    }
    let obj = st.as_object().unwrap();
    let next = obj.iter().find(|(k, _)| k.starts_with("sending_") && k.ends_with("_next_idx"));
    assert_eq!(sum.sending_next_index.map(u64::from), next.map(|(_, v)| v.as_u64().unwrap()), "{ctx}");
    let points = obj.iter().find(|(k, _)| k.starts_with("receiving_") && k.ends_with("_points"));
    let needed = obj.iter().find(|(k, _)| k.starts_with("receiving_") && k.ends_with("_pts_needed"));
    match (sum.receiving, points, needed) {
        (Some((held, need)), Some((_, p)), Some((_, n))) => {
            for per_poly in p.as_array().unwrap() {
                assert_eq!(per_poly.as_u64().unwrap(), held as u64, "{ctx}");
            }
            assert_eq!(n.as_u64().unwrap(), need as u64 * 16, "{ctx}: 16-bit values needed");
        }
        (None, None, None) => {}
        other => panic!("{ctx}: decoder mismatch {other:?}"),
    }
}

#[test]
fn two_states_replay_the_captured_traffic() {
    let mut report = Vec::new();
    for s in scenarios() {
        let name = s["name"].as_str().unwrap().to_owned();
        let auth_key: [u8; 32] = arr(&s["auth_key"]);
        let epochs = s["epochs"].as_array().unwrap();
        let messages: HashMap<u64, &Value> =
            s["messages"].as_array().unwrap().iter().map(|m| (m["seq"].as_u64().unwrap(), m)).collect();
        // The event order: sends (messages) and deliveries interleaved by their sequence number.
        let mut events: Vec<(u64, bool, &Value)> = messages.iter().map(|(&q, &m)| (q, true, m)).collect();
        events.extend(s["deliveries"].as_array().unwrap().iter().map(|d| (d["seq"].as_u64().unwrap(), false, d)));
        events.sort_by_key(|e| e.0);

        let mut alice = SpqrState::new_initiator(&auth_key);
        let mut bob = SpqrState::new_responder(&auth_key);
        let (mut sent, mut received, mut dropped) = (0, 0, 0);
        for (seq, is_send, ev) in events {
            let ctx = format!("{name} seq {seq}");
            if is_send {
                let state = if ev["from"] == "alice" { &mut alice } else { &mut bob };
                let epoch = state.summary().epoch as usize;
                // Past the last recorded epoch no randomness may be needed (Recorded(None) panics).
                let out = match epochs.get(epoch - 1) {
                    Some(e) => {
                        let mut rng = Recorded(Some(arr(&e["encaps_m"])));
                        state.send_with_keys_for_testing_only(&mut rng, &h(&e["dk"])).unwrap()
                    }
                    None => state.send(&mut Recorded(None)).unwrap(),
                };
                assert_eq!(hex::encode(out.message()), ev["spqr_msg"].as_str().unwrap(), "{ctx}: field 5");
                assert_eq!(out.key().unwrap().as_bytes().to_vec(), h(&ev["spqr_key"]), "{ctx}: key");
                check_state(state, &ev["state_after"], &ctx);
                sent += 1;
            } else if ev["event"] == "drop" {
                dropped += 1;
            } else {
                assert_eq!(ev["event"], "deliver");
                assert_eq!(ev["ok"], true);
                let m = messages[&ev["msg_seq"].as_u64().unwrap()];
                let state = if ev["to"] == "alice" { &mut alice } else { &mut bob };
                let pending = state.recv(&h(&m["spqr_msg"])).unwrap();
                assert_eq!(pending.key().unwrap().as_bytes().to_vec(), h(&m["spqr_key"]), "{ctx}: key");
                pending.commit(state);
                check_state(state, &ev["state_after"], &ctx);
                // The pickle round-trips mid-conversation.
                *state = SpqrState::from_bytes(&state.to_bytes()).unwrap();
                received += 1;
            }
        }
        report.push((name, sent, received, dropped, alice.summary().epoch, bob.summary().epoch));
    }
    assert_eq!(
        report,
        [("lockstep".to_owned(), 348, 348, 0, 5, 5), ("bursty_reordered_lossy".to_owned(), 386, 357, 29, 3, 3)]
    );
}
