//! SPQR V1 against the real libsignal, live, through `interop/libsignal/peer.mjs`.
//!
//! Needs Node 20+ and `bash interop/libsignal/setup.sh`. Without them these tests fail; they
//! never skip.
//!
//! * 0.103.0 and 0.92.2 (SPQR V1 required by libsignal): both directions, hundreds of messages
//!   in bursts (long one-sided runs too), delivered shuffled, some dropped, until the ML-KEM
//!   Braid has completed at least four epochs; every delivered message must decrypt on both
//!   sides, and caudata's session must report SPQR V1 at epoch ≥ 4.
//! * 0.90.0: with the default policy SPQR V1 is negotiated; with [`SpqrPolicy::Off`] libsignal
//!   drops to V0 (its messages lose field 5), both directions.
//! * 0.72.1 (no SPQR): the default policy drops to V0 in both directions; `Required` refuses
//!   0.72.1's first message with `MinimumVersion`, state unchanged.
//! * caudata's SPQR overhead per message is measured (field 5 bytes).
//! * messages sent before the first reply (keyless from a negotiating initiator) delivered after
//!   negotiation completed, out of order: 0.90.0, 0.92.2, 0.103.0, both directions (issue 14).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod libsignal_peer;

use std::collections::VecDeque;
use std::time::Instant;

use caudata::interolm::spqr::{SpqrError, SpqrVersion, VersionStatus};
use caudata::interolm::{Account, InterolmMessage, Session, SpqrPolicy};
use caudata::{DecryptionError, SessionCreationError};
use libsignal_peer::{Peer, Schedule, bundle_from_json, bundle_to_json, bytes};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// A conversation

const CAUDATA_NAME: &str = "caudata";

/// A message in flight: type, body, plaintext, and the round it was sent in.
struct InFlight {
    t: usize,
    body: Vec<u8>,
    pt: Vec<u8>,
    round: usize,
}

#[derive(Default, Debug)]
struct Stats {
    sent: [usize; 2],
    delivered: [usize; 2],
    dropped: [usize; 2],
    out_of_order: [usize; 2],
    /// Field-5 bytes in caudata's messages, and how many had one.
    caudata_field5_bytes: usize,
    caudata_field5_count: usize,
    /// libsignal's messages with field 5.
    libsignal_field5_count: usize,
    max_burst: usize,
}

/// Index 0: caudata → libsignal; 1: libsignal → caudata.
const TO_LIBSIGNAL: usize = 0;
const TO_CAUDATA: usize = 1;

struct Live<'a> {
    peer: &'a mut Peer,
    lib: &'static str,
    p: String,
    caudata: Account,
    session: Option<Session>,
    stats: Stats,
    /// Whether the libsignal party has a session with caudata yet (it has after its
    /// `process_bundle`, or after the first PreKey message it decrypted).
    libsignal_started: bool,
}

impl<'a> Live<'a> {
    fn new(peer: &'a mut Peer, lib: &'static str, policy: SpqrPolicy, tag: &str) -> Self {
        let p = format!("{tag}-{lib}");
        peer.call(json!({"cmd": "new_party", "p": p, "lib": lib, "name": "libsignal", "registration_id": 4243}));
        let mut caudata = Account::new();
        caudata.set_spqr_policy(policy);
        Self { peer, lib, p, caudata, session: None, stats: Stats::default(), libsignal_started: false }
    }

    fn libsignal_starts(&mut self) {
        self.caudata.generate_signed_pre_key();
        self.caudata.generate_one_time_pre_keys(2);
        self.caudata.generate_kyber_pre_key(false);
        let bundle = self.caudata.pre_key_bundle(1).unwrap();
        self.peer.call(json!({
            "cmd": "process_bundle", "p": self.p, "peer_name": CAUDATA_NAME, "peer_device_id": 1,
            "bundle": bundle_to_json(&bundle),
        }));
        self.libsignal_started = true;
    }

    fn caudata_starts(&mut self) {
        let r = self.peer.call(json!({"cmd": "export_party", "p": self.p}));
        let bundle = bundle_from_json(&r["bundle"]);
        self.session = Some(self.caudata.create_outbound_session(&bundle).unwrap());
    }

    fn field5(t: usize, body: &[u8]) -> Option<Vec<u8>> {
        match InterolmMessage::from_parts(t, body).unwrap() {
            InterolmMessage::PreKey(m) => m.message().pq_ratchet().map(<[u8]>::to_vec),
            InterolmMessage::Whisper(m) => m.pq_ratchet().map(<[u8]>::to_vec),
        }
    }

    fn caudata_send(&mut self, pt: Vec<u8>, round: usize) -> InFlight {
        let (t, body) = self.session.as_mut().unwrap().encrypt(&pt).unwrap().to_parts();
        if let Some(f5) = Self::field5(t, &body) {
            self.stats.caudata_field5_bytes += f5.len();
            self.stats.caudata_field5_count += 1;
        }
        self.stats.sent[TO_LIBSIGNAL] += 1;
        InFlight { t, body, pt, round }
    }

    fn libsignal_send(&mut self, pt: Vec<u8>, round: usize) -> InFlight {
        let r = self.peer.call(json!({
            "cmd": "encrypt", "p": self.p, "peer_name": CAUDATA_NAME, "peer_device_id": 1, "pt": hex::encode(&pt),
        }));
        let body = bytes(&r["body"]);
        let t = r["type"].as_u64().unwrap() as usize;
        if Self::field5(t, &body).is_some() {
            self.stats.libsignal_field5_count += 1;
        }
        self.stats.sent[TO_CAUDATA] += 1;
        InFlight { t, body, pt, round }
    }

    fn caudata_receive(&mut self, m: &InFlight) {
        let msg = InterolmMessage::from_parts(m.t, &m.body).unwrap();
        let lib = self.lib;
        let got = match (&mut self.session, &msg) {
            (Some(s), InterolmMessage::PreKey(pk)) if !s.matches(pk) => panic!("a PreKey message of another session"),
            (Some(s), _) => s.decrypt(&msg).unwrap_or_else(|e| {
                panic!(
                    "caudata cannot decrypt libsignal {lib}'s message of round {}: {e} (SPQR {:?})",
                    m.round,
                    s.spqr()
                )
            }),
            (None, InterolmMessage::PreKey(pk)) => {
                let r = self
                    .caudata
                    .create_inbound_session(pk)
                    .unwrap_or_else(|e| panic!("caudata cannot accept libsignal {lib}'s PreKey message: {e}"));
                self.session = Some(r.session);
                r.plaintext
            }
            (None, InterolmMessage::Whisper(_)) => panic!("a SignalMessage before any session"),
        };
        assert_eq!(got, m.pt);
        self.stats.delivered[TO_CAUDATA] += 1;
    }

    fn libsignal_receive(&mut self, m: &InFlight) {
        let r = self.peer.request(json!({
            "cmd": "decrypt", "p": self.p, "peer_name": CAUDATA_NAME, "peer_device_id": 1,
            "type": m.t, "body": hex::encode(&m.body),
        }));
        assert_eq!(
            r["ok"],
            true,
            "libsignal {} cannot decrypt caudata's type-{} message of round {}: {} (caudata SPQR {:?})",
            self.lib,
            m.t,
            m.round,
            r["error"],
            self.session.as_ref().map(Session::spqr)
        );
        assert_eq!(bytes(&r["pt"]), m.pt);
        self.libsignal_started = true;
        self.stats.delivered[TO_LIBSIGNAL] += 1;
    }

    fn epoch(&self) -> u64 {
        self.session.as_ref().map_or(0, |s| s.spqr().summary().epoch)
    }

    /// Rounds of bursty traffic until caudata's SPQR epoch reaches `target_epoch` (V1) or
    /// `min_messages` have been sent (V0), at most `max_messages`. Each round one side sends a
    /// burst (usually 1–6 messages, sometimes 15–40 in a row); the other side then gets a
    /// shuffled part of what is waiting for it; a few messages are dropped; nothing waits more
    /// than three rounds.
    fn run(&mut self, first_is_caudata: bool, target_epoch: u64, min_messages: usize, max_messages: usize, seed: u64) {
        let mut sched = Schedule(seed);
        let mut queues: [VecDeque<InFlight>; 2] = [VecDeque::new(), VecDeque::new()];
        let mut caudata_turn = first_is_caudata;
        let mut last_round_seen = [0usize; 2];
        let mut round = 0usize;
        loop {
            let total = self.stats.sent[0] + self.stats.sent[1];
            let done = total >= min_messages && (target_epoch == 0 || self.epoch() >= target_epoch);
            if done || total >= max_messages {
                break;
            }
            // A side that has no session yet cannot send.
            if caudata_turn && self.session.is_none() {
                caudata_turn = false;
            } else if !caudata_turn && !self.libsignal_started {
                caudata_turn = true;
            }
            // Bursts: mostly short, sometimes long one-sided runs; the first sender keeps its
            // turn now and then (two bursts in a row from one side).
            let burst = if sched.chance(12) { 15 + sched.next(26) } else { 1 + sched.next(6) };
            self.stats.max_burst = self.stats.max_burst.max(burst);
            let dir = if caudata_turn { TO_LIBSIGNAL } else { TO_CAUDATA };
            for k in 0..burst {
                let pt =
                    format!("round {round} #{k} {}", if caudata_turn { "caudata" } else { "libsignal" }).into_bytes();
                let m = if caudata_turn { self.caudata_send(pt, round) } else { self.libsignal_send(pt, round) };
                queues[dir].push_back(m);
            }
            // Delivery to the burst's receiver: messages older than three rounds first (or
            // dropped), then a random part of the rest, shuffled.
            let q = &mut queues[dir];
            let mut batch: Vec<InFlight> = Vec::new();
            while q.front().is_some_and(|m| m.round + 3 <= round) {
                batch.push(q.pop_front().unwrap());
            }
            let take = if q.is_empty() { 0 } else { sched.next(q.len() + 1) };
            for _ in 0..take {
                let i = sched.next(q.len());
                batch.push(q.remove(i).unwrap());
            }
            for i in (1..batch.len()).rev() {
                batch.swap(i, sched.next(i + 1));
            }
            for m in batch {
                // Drop 4%, but never the very first message of a direction (one PreKey message
                // must arrive to start a session; later ones may be dropped).
                let receiver_has_session =
                    if dir == TO_LIBSIGNAL { self.libsignal_started } else { self.session.is_some() };
                if receiver_has_session && sched.chance(4) {
                    self.stats.dropped[dir] += 1;
                    continue;
                }
                if m.round < last_round_seen[dir] {
                    self.stats.out_of_order[dir] += 1;
                }
                last_round_seen[dir] = last_round_seen[dir].max(m.round);
                if dir == TO_LIBSIGNAL { self.libsignal_receive(&m) } else { self.caudata_receive(&m) }
            }
            // Usually the turn passes; one time in five the same side sends again.
            if !sched.chance(20) {
                caudata_turn = !caudata_turn;
            }
            round += 1;
        }
        for dir in [TO_LIBSIGNAL, TO_CAUDATA] {
            while let Some(m) = queues[dir].pop_front() {
                if dir == TO_LIBSIGNAL { self.libsignal_receive(&m) } else { self.caudata_receive(&m) }
            }
        }
    }

    fn close(self) -> Stats {
        self.peer.call(json!({"cmd": "drop_party", "p": self.p}));
        self.stats
    }
}

/// A long SPQR V1 run: at least four epochs, both directions, with bursts, reordering, drops.
fn spqr_v1_long(lib: &'static str, caudata_initiates: bool, seed: u64) {
    let start = Instant::now();
    let mut peer = Peer::start();
    let mut c = Live::new(&mut peer, lib, SpqrPolicy::default(), if caudata_initiates { "ci" } else { "li" });
    if caudata_initiates {
        c.caudata_starts()
    } else {
        c.libsignal_starts()
    }
    c.run(caudata_initiates, 5, 300, 4000, seed);
    let summary = c.session.as_ref().unwrap().spqr().summary();
    let status = c.session.as_ref().unwrap().spqr().version_status();
    let stats = c.close();
    eprintln!(
        "libsignal {lib}, caudata initiates: {caudata_initiates}: {stats:?}; SPQR {summary:?}; {:.1?}; caudata field 5: {:.1} bytes on average",
        start.elapsed(),
        stats.caudata_field5_bytes as f64 / stats.caudata_field5_count.max(1) as f64,
    );
    assert_eq!(status, VersionStatus::Complete(SpqrVersion::V1));
    assert!(summary.epoch >= 4, "SPQR epoch {} after {stats:?}", summary.epoch);
    let total = stats.sent[0] + stats.sent[1];
    assert!(total >= 300, "{total} messages");
    assert!(stats.dropped.iter().all(|&d| d >= 1), "drops in both directions: {stats:?}");
    assert!(stats.out_of_order.iter().all(|&d| d >= 5), "reordering in both directions: {stats:?}");
    assert!(stats.max_burst >= 15, "long bursts: {stats:?}");
    // Every message both ways carried SPQR.
    assert_eq!(stats.caudata_field5_count, stats.sent[TO_LIBSIGNAL]);
    assert_eq!(stats.libsignal_field5_count, stats.sent[TO_CAUDATA]);
}

#[test]
fn spqr_v1_libsignal_0_103_0_caudata_initiates() {
    spqr_v1_long("0.103.0", true, 0x0103_0001);
}

#[test]
fn spqr_v1_libsignal_0_103_0_libsignal_initiates() {
    spqr_v1_long("0.103.0", false, 0x0103_0002);
}

#[test]
fn spqr_v1_libsignal_0_92_2_caudata_initiates() {
    spqr_v1_long("0.92.2", true, 0x0922_0001);
}

#[test]
fn spqr_v1_libsignal_0_92_2_libsignal_initiates() {
    spqr_v1_long("0.92.2", false, 0x0922_0002);
}

/// A short run with a peer that ends without SPQR (or, for 0.90 with the default policy, with
/// V1): checks the negotiated version and field 5 on both sides.
fn negotiated(lib: &'static str, policy: SpqrPolicy, caudata_initiates: bool, want: SpqrVersion, seed: u64) {
    let mut peer = Peer::start();
    let mut c = Live::new(&mut peer, lib, policy, if caudata_initiates { "ci" } else { "li" });
    if caudata_initiates {
        c.caudata_starts()
    } else {
        c.libsignal_starts()
    }
    c.run(caudata_initiates, 0, 150, 150, seed);
    // After negotiation, a few more messages each way: libsignal's must carry field 5 exactly
    // when V1 was negotiated.
    let before = c.stats.libsignal_field5_count;
    for i in 0..5 {
        let m = c.libsignal_send(format!("after {i}").into_bytes(), usize::MAX);
        c.caudata_receive(&m);
        let m = c.caudata_send(format!("answer {i}").into_bytes(), usize::MAX);
        c.libsignal_receive(&m);
    }
    let field5_after = c.stats.libsignal_field5_count - before;
    let status = c.session.as_ref().unwrap().spqr().version_status();
    let stats = c.close();
    eprintln!("libsignal {lib}, {policy:?}, caudata initiates: {caudata_initiates}: {stats:?}, {status:?}");
    assert_eq!(status, VersionStatus::Complete(want), "libsignal {lib} {policy:?}");
    assert_eq!(field5_after, if want == SpqrVersion::V1 { 5 } else { 0 }, "libsignal {lib}'s field 5");
    assert!(stats.delivered[0] > 30 && stats.delivered[1] > 30, "{stats:?}");
}

#[test]
fn libsignal_0_90_0_negotiates_down_to_v0_with_spqr_off() {
    negotiated("0.90.0", SpqrPolicy::Off, true, SpqrVersion::V0, 0x0900_0001);
    negotiated("0.90.0", SpqrPolicy::Off, false, SpqrVersion::V0, 0x0900_0002);
}

#[test]
fn libsignal_0_90_0_runs_spqr_v1_by_default() {
    negotiated("0.90.0", SpqrPolicy::Optional, true, SpqrVersion::V1, 0x0900_0003);
    negotiated("0.90.0", SpqrPolicy::Optional, false, SpqrVersion::V1, 0x0900_0004);
    negotiated("0.90.0", SpqrPolicy::Required, true, SpqrVersion::V1, 0x0900_0005);
}

#[test]
fn libsignal_0_72_1_pqxdh_negotiates_down_to_v0() {
    negotiated("0.72.1", SpqrPolicy::Optional, true, SpqrVersion::V0, 0x0721_0001);
    negotiated("0.72.1", SpqrPolicy::Optional, false, SpqrVersion::V0, 0x0721_0002);
    negotiated("0.72.1", SpqrPolicy::Off, true, SpqrVersion::V0, 0x0721_0003);
}

#[test]
fn spqr_required_refuses_libsignal_0_72_1() {
    let mut peer = Peer::start();
    // libsignal 0.72.1 initiates: its PreKey message has no SPQR part, which a `Required`
    // account refuses; no prekey is consumed.
    let mut c = Live::new(&mut peer, "0.72.1", SpqrPolicy::Required, "req-li");
    c.libsignal_starts();
    let m = c.libsignal_send(b"hello".to_vec(), 0);
    let InterolmMessage::PreKey(pk) = InterolmMessage::from_parts(m.t, &m.body).unwrap() else { unreachable!() };
    let one_time = pk.pre_key_id().unwrap();
    let err = c.caudata.create_inbound_session(&pk).unwrap_err();
    assert_eq!(
        err,
        SessionCreationError::Decryption(DecryptionError::Spqr(SpqrError::MinimumVersion {
            got: SpqrVersion::V0,
            min: SpqrVersion::V1
        }))
    );
    assert!(c.caudata.pre_keys().contains_one_time_pre_key(one_time));
    c.close();

    // caudata initiates: 0.72.1 cannot read SPQR-salted keys (as with libsignal ≥ 0.92).
    let mut c = Live::new(&mut peer, "0.72.1", SpqrPolicy::Required, "req-ci");
    c.caudata_starts();
    let m = c.caudata_send(b"hello".to_vec(), 0);
    let r = c.peer.request(json!({
        "cmd": "decrypt", "p": c.p, "peer_name": CAUDATA_NAME, "peer_device_id": 1, "type": m.t, "body": hex::encode(&m.body),
    }));
    assert_eq!(r["ok"], false);
    assert_eq!(r["error"], "LibSignalError: invalid PreKey message: decryption failed");
    c.close();
}

/// Issue 14, defect 2: once SPQR V1 is negotiated, caudata refuses a message without an SPQR
/// key, except an initiator's pre-key messages on its first chain (those a negotiating
/// initiator, libsignal 0.90, sends without a key before it hears back). This shows that
/// conversations still work when such messages, and the keyed ones of 0.92.2 and 0.103.0, are
/// delayed across the negotiation point: the initiator sends six messages before any reply, the
/// responder gets one of them, three rounds of exchange follow (the initiator's later chains,
/// SPQR negotiated on both sides), then the five delayed ones arrive, out of order, then more
/// traffic both ways.
fn delayed_across_negotiation(lib: &'static str, policy: SpqrPolicy, caudata_initiates: bool) {
    /// A message sent by caudata (`true`) or libsignal.
    fn send(c: &mut Live<'_>, by_caudata: bool, pt: String, round: usize) -> InFlight {
        if by_caudata { c.caudata_send(pt.into_bytes(), round) } else { c.libsignal_send(pt.into_bytes(), round) }
    }
    /// A message received by caudata (`true`) or libsignal.
    fn receive(c: &mut Live<'_>, by_caudata: bool, m: &InFlight) {
        if by_caudata { c.caudata_receive(m) } else { c.libsignal_receive(m) }
    }
    let mut peer = Peer::start();
    let tag = format!("delay-{}-{policy:?}", if caudata_initiates { "ci" } else { "li" });
    let mut c = Live::new(&mut peer, lib, policy, &tag);
    if caudata_initiates {
        c.caudata_starts();
    } else {
        c.libsignal_starts();
    }
    let (i, r) = (caudata_initiates, !caudata_initiates);
    let early: Vec<InFlight> = (0..6).map(|k| send(&mut c, i, format!("early {k}"), 0)).collect();
    assert!(early.iter().all(|m| m.t == 3), "pre-key messages before the first reply");
    // A negotiating initiator's early messages carry SPQR index 0: no key.
    let negotiating = if caudata_initiates { policy == SpqrPolicy::Optional } else { lib == "0.90.0" };
    for m in &early {
        let index =
            caudata::interolm::spqr::SpqrMessage::from_bytes(&Live::field5(m.t, &m.body).unwrap()).unwrap().index;
        assert_eq!(index == 0, negotiating, "libsignal {lib}, {policy:?}, caudata initiates: {caudata_initiates}");
    }
    receive(&mut c, r, &early[5]);
    for round in 1..=3 {
        let replies: Vec<InFlight> = (0..3).map(|k| send(&mut c, r, format!("r{round}.{k}"), round)).collect();
        for m in replies.iter().rev() {
            receive(&mut c, i, m);
        }
        let later: Vec<InFlight> = (0..3).map(|k| send(&mut c, i, format!("i{round}.{k}"), round)).collect();
        for m in [&later[2], &later[0], &later[1]] {
            receive(&mut c, r, m);
        }
    }
    let status = c.session.as_ref().unwrap().spqr().version_status();
    for k in [2, 0, 4, 1, 3] {
        receive(&mut c, r, &early[k]);
    }
    for round in 4..=5 {
        let m = send(&mut c, r, format!("r{round}"), round);
        receive(&mut c, i, &m);
        let m = send(&mut c, i, format!("i{round}"), round);
        receive(&mut c, r, &m);
    }
    let stats = c.close();
    assert_eq!(status, VersionStatus::Complete(SpqrVersion::V1), "libsignal {lib}, {policy:?}");
    assert_eq!(stats.delivered[0] + stats.delivered[1], stats.sent[0] + stats.sent[1], "{stats:?}");
}

#[test]
fn delayed_messages_across_spqr_negotiation_libsignal_0_90_0() {
    // libsignal 0.90.0 negotiates: as initiator its first six messages carry no SPQR key.
    delayed_across_negotiation("0.90.0", SpqrPolicy::Optional, false);
    delayed_across_negotiation("0.90.0", SpqrPolicy::Required, false);
    delayed_across_negotiation("0.90.0", SpqrPolicy::Optional, true);
    delayed_across_negotiation("0.90.0", SpqrPolicy::Required, true);
}

#[test]
fn delayed_messages_across_spqr_negotiation_libsignal_0_92_2_and_0_103_0() {
    for lib in ["0.92.2", "0.103.0"] {
        for policy in [SpqrPolicy::Optional, SpqrPolicy::Required] {
            delayed_across_negotiation(lib, policy, false);
            delayed_across_negotiation(lib, policy, true);
        }
    }
}
