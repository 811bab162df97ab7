//! Stores across libraries: two matrix-sdk-crypto 0.19.1 `OlmMachine`s (Alice and Bob) on
//! matrix-sdk-sqlite 0.19.1's SQLite crypto store, built once with the real vodozemac 0.11 and
//! once with the facade (compat/vodozemac, vodozemac's API on caudata). run-store-roundtrip.sh
//! runs `write` with one build and `continue` with the other, then the first again, so that
//! each library opens stores the other wrote and continues every session:
//!
//! * `write DIR`: both devices upload keys and learn each other's (a simulated homeserver),
//!   Alice claims a one-time key of Bob's and shares a room key (Olm pre-key message), Bob
//!   answers over the same Olm session with a room key of his own, and each encrypts room
//!   messages the other decrypts. The events go to `DIR/events.json`, the identity keys to
//!   `DIR/identity.json`.
//! * `continue DIR`: reopens both stores; checks the identity keys; decrypts every event ever
//!   written (the stored inbound group sessions); encrypts new events with the stored outbound
//!   group sessions (the same session ids as before) and decrypts them on the other side;
//!   discards the room keys and shares new ones in both directions over the stored Olm sessions
//!   (no key claim may be needed: the Olm sessions are the stored ones), and exchanges events
//!   under the new keys.
//!
//! Any failure exits non-zero with a message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use matrix_sdk_crypto::types::requests::{AnyOutgoingRequest, ToDeviceRequest};
use matrix_sdk_crypto::{
    DecryptionSettings, EncryptionSettings, EncryptionSyncChanges, OlmMachine, OlmMachineBuilder, TrustRequirement,
};
use matrix_sdk_sqlite::SqliteCryptoStore;
use ruma::api::client::keys::{claim_keys, get_keys, upload_keys};
use ruma::api::client::sync::sync_events::DeviceLists;
use ruma::api::client::to_device::send_event_to_device;
use ruma::encryption::{DeviceKeys, OneTimeKey};
use ruma::events::AnyToDeviceEvent;
use ruma::events::room::message::RoomMessageEventContent;
use ruma::serde::Raw;
use ruma::{OwnedDeviceId, OwnedOneTimeKeyId, RoomId, UInt, UserId, room_id, user_id};
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const PASSPHRASE: &str = "caudata store round trip";

fn room() -> &'static RoomId {
    room_id!("!room:example.org")
}

struct Device {
    machine: OlmMachine,
    /// The device keys and one-time keys it uploaded (the simulated homeserver's copy).
    device_keys: Option<Raw<DeviceKeys>>,
    one_time_keys: BTreeMap<OwnedOneTimeKeyId, Raw<OneTimeKey>>,
}

async fn open(dir: &Path, user: &UserId, device: &str) -> Result<Device> {
    let store = SqliteCryptoStore::open(dir.join(device), Some(PASSPHRASE)).await?;
    let device_id: OwnedDeviceId = device.into();
    let machine = OlmMachineBuilder::new(user, &device_id).with_crypto_store(store).build().await?;
    Ok(Device { machine, device_keys: None, one_time_keys: BTreeMap::new() })
}

fn settings() -> DecryptionSettings {
    DecryptionSettings { sender_device_trust_requirement: TrustRequirement::Untrusted }
}

/// Answers every key upload of `d` (recording what it uploaded), as a homeserver would.
async fn upload(d: &mut Device) -> Result<()> {
    for r in d.machine.outgoing_requests().await? {
        if let AnyOutgoingRequest::KeysUpload(req) = r.request() {
            if let Some(k) = &req.device_keys {
                d.device_keys = Some(k.clone());
            }
            d.one_time_keys.extend(req.one_time_keys.clone());
            let count = UInt::try_from(d.one_time_keys.len())?;
            let response = upload_keys::v3::Response::new(BTreeMap::from([(
                ruma::OneTimeKeyAlgorithm::SignedCurve25519,
                count,
            )]));
            d.machine.mark_request_as_sent(r.request_id(), &response).await?;
        }
    }
    Ok(())
}

/// Lets `d` learn `other`'s device keys through a `/keys/query`.
async fn query(d: &Device, other: &Device) -> Result<()> {
    d.machine.update_tracked_users([other.machine.user_id()]).await?;
    for r in d.machine.outgoing_requests().await? {
        if let AnyOutgoingRequest::KeysQuery(_) = r.request() {
            let mut response = get_keys::v3::Response::new();
            let keys = other.device_keys.clone().ok_or("the other device uploaded no device keys")?;
            response.device_keys = BTreeMap::from([(
                other.machine.user_id().to_owned(),
                BTreeMap::from([(other.machine.device_id().to_owned(), keys)]),
            )]);
            d.machine.mark_request_as_sent(r.request_id(), &response).await?;
        }
    }
    Ok(())
}

/// Lets `d` claim one of `other`'s one-time keys, if it has no Olm session with it.
/// Returns whether a claim was needed.
async fn claim(d: &Device, other: &mut Device) -> Result<bool> {
    let Some((txn, _request)) = d.machine.get_missing_sessions([other.machine.user_id()].into_iter()).await? else {
        return Ok(false);
    };
    let (id, key) = other.one_time_keys.pop_first().ok_or("no one-time key left to claim")?;
    let response = claim_keys::v3::Response::new(BTreeMap::from([(
        other.machine.user_id().to_owned(),
        BTreeMap::from([(other.machine.device_id().to_owned(), BTreeMap::from([(id, key)]))]),
    )]));
    d.machine.mark_request_as_sent(&txn, &response).await?;
    Ok(true)
}

/// Delivers to-device requests of `from` to `to` and acknowledges them; returns how many
/// room keys `to` received.
async fn deliver(from: &Device, to: &Device, requests: Vec<Arc<ToDeviceRequest>>) -> Result<usize> {
    let mut events: Vec<Raw<AnyToDeviceEvent>> = Vec::new();
    for req in &requests {
        for devices in req.messages.values() {
            for content in devices.values() {
                let event = json!({
                    "type": req.event_type.to_string(),
                    "sender": from.machine.user_id(),
                    "content": content,
                });
                events.push(Raw::new(&event)?.cast_unchecked());
            }
        }
    }
    let changes = EncryptionSyncChanges {
        to_device_events: events,
        changed_devices: &DeviceLists::new(),
        one_time_keys_counts: &BTreeMap::new(),
        unused_fallback_keys: None,
        next_batch_token: None,
    };
    let (processed, room_keys) = to.machine.receive_sync_changes(changes, &settings()).await?;
    for p in &processed {
        if let matrix_sdk_common::deserialized_responses::ProcessedToDeviceEvent::UnableToDecrypt { utd_info, .. } = p {
            return Err(format!("a to-device event did not decrypt: {utd_info:?}").into());
        }
    }
    for req in &requests {
        from.machine.mark_request_as_sent(&req.txn_id, &send_event_to_device::v3::Response::new()).await?;
    }
    Ok(room_keys.len())
}

/// Shares `from`'s room key for the room with `to`; returns (claim needed, keys received).
async fn share(from: &Device, to: &mut Device) -> Result<(bool, usize)> {
    let claimed = claim(from, to).await?;
    let requests =
        from.machine.share_room_key(room(), [to.machine.user_id()].into_iter(), EncryptionSettings::default()).await?;
    let received = deliver(from, to, requests).await?;
    Ok((claimed, received))
}

/// An encrypted room event from `from` with `body`, as a homeserver would serve it.
async fn encrypt(from: &Device, body: &str, n: usize) -> Result<Value> {
    let result = from.machine.encrypt_room_event(room(), RoomMessageEventContent::text_plain(body)).await?;
    Ok(json!({
        "type": "m.room.encrypted",
        "event_id": format!("$event{n}"),
        "sender": from.machine.user_id(),
        "origin_server_ts": 1_700_000_000_000u64 + n as u64,
        "room_id": room(),
        "content": result.content,
    }))
}

/// Decrypts `event` on `to` and checks its body.
async fn decrypt(to: &Device, event: &Value, body: &str) -> Result<()> {
    let raw = Raw::new(event)?.cast_unchecked();
    let decrypted = to.machine.decrypt_room_event(&raw, room(), &settings()).await?;
    let got: Value = decrypted.event.deserialize_as_unchecked()?;
    if got["content"]["body"] != body {
        return Err(format!("decrypted {:?}, expected {body:?}", got["content"]["body"]).into());
    }
    Ok(())
}

fn session_id(event: &Value) -> String {
    event["content"]["session_id"].as_str().unwrap_or_default().to_owned()
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Log {
    /// (recipient "alice" | "bob", body, event)
    events: Vec<(String, String, Value)>,
    /// The uploaded device and one-time keys (the simulated homeserver's state).
    alice_keys: Option<Value>,
    bob_keys: Option<Value>,
    alice_otks: BTreeMap<String, Value>,
    bob_otks: BTreeMap<String, Value>,
    identity: BTreeMap<String, String>,
    /// Every Megolm session id used so far, by sender.
    sessions: BTreeMap<String, Vec<String>>,
}

fn save_server(log: &mut Log, alice: &Device, bob: &Device) -> Result<()> {
    log.alice_keys = alice.device_keys.as_ref().map(|k| serde_json::to_value(k)).transpose()?;
    log.bob_keys = bob.device_keys.as_ref().map(|k| serde_json::to_value(k)).transpose()?;
    log.alice_otks = alice.one_time_keys.iter().map(|(k, v)| Ok((k.to_string(), serde_json::to_value(v)?))).collect::<Result<_>>()?;
    log.bob_otks = bob.one_time_keys.iter().map(|(k, v)| Ok((k.to_string(), serde_json::to_value(v)?))).collect::<Result<_>>()?;
    Ok(())
}

fn load_server(d: &mut Device, keys: &Option<Value>, otks: &BTreeMap<String, Value>) -> Result<()> {
    d.device_keys = keys.as_ref().map(|k| serde_json::from_value(k.clone())).transpose()?;
    d.one_time_keys = otks
        .iter()
        .map(|(k, v)| Ok((OwnedOneTimeKeyId::try_from(k.as_str())?, serde_json::from_value(v.clone())?)))
        .collect::<Result<_>>()?;
    Ok(())
}

fn identity(d: &Device) -> String {
    let k = d.machine.identity_keys();
    format!("{} {}", k.curve25519.to_base64(), k.ed25519.to_base64())
}

async fn exchange(alice: &Device, bob: &Device, log: &mut Log, round: &str) -> Result<()> {
    for i in 0..3 {
        let n = log.events.len();
        let body = format!("{round}: Alice's message {i}");
        let event = encrypt(alice, &body, n).await?;
        decrypt(bob, &event, &body).await?;
        log.sessions.entry("alice".into()).or_default().push(session_id(&event));
        log.events.push(("bob".into(), body, event));
        let n = log.events.len();
        let body = format!("{round}: Bob's message {i}");
        let event = encrypt(bob, &body, n).await?;
        decrypt(alice, &event, &body).await?;
        log.sessions.entry("bob".into()).or_default().push(session_id(&event));
        log.events.push(("alice".into(), body, event));
    }
    Ok(())
}

async fn write(dir: &Path) -> Result<()> {
    let mut log = Log::default();
    let mut alice = open(dir, user_id!("@alice:example.org"), "ALICEDEVICE").await?;
    let mut bob = open(dir, user_id!("@bob:example.org"), "BOBDEVICE").await?;
    upload(&mut alice).await?;
    upload(&mut bob).await?;
    query(&alice, &bob).await?;
    query(&bob, &alice).await?;
    // Alice starts the Olm session (a claim and a pre-key message), Bob answers over it
    let (claimed, received) = share(&alice, &mut bob).await?;
    if !claimed || received != 1 {
        return Err(format!("first share: claimed {claimed}, {received} room keys").into());
    }
    let (claimed, received) = share(&bob, &mut alice).await?;
    if claimed || received != 1 {
        return Err(format!("Bob's answer: claimed {claimed}, {received} room keys").into());
    }
    exchange(&alice, &bob, &mut log, "written").await?;
    log.identity.insert("alice".into(), identity(&alice));
    log.identity.insert("bob".into(), identity(&bob));
    save_server(&mut log, &alice, &bob)?;
    std::fs::write(dir.join("log.json"), serde_json::to_vec_pretty(&log)?)?;
    println!("store-roundtrip: wrote two stores, {} events, with vodozemac {}", log.events.len(), vodozemac_version());
    Ok(())
}

async fn cont(dir: &Path) -> Result<()> {
    let mut log: Log = serde_json::from_slice(&std::fs::read(dir.join("log.json"))?)?;
    let mut alice = open(dir, user_id!("@alice:example.org"), "ALICEDEVICE").await?;
    let mut bob = open(dir, user_id!("@bob:example.org"), "BOBDEVICE").await?;
    let (ak, ao) = (log.alice_keys.clone(), log.alice_otks.clone());
    let (bk, bo) = (log.bob_keys.clone(), log.bob_otks.clone());
    load_server(&mut alice, &ak, &ao)?;
    load_server(&mut bob, &bk, &bo)?;
    for (who, d) in [("alice", &alice), ("bob", &bob)] {
        if log.identity.get(who) != Some(&identity(d)) {
            return Err(format!("{who}'s identity keys changed on reopening").into());
        }
    }
    // every event so far, with the stored inbound group sessions
    for (to, body, event) in &log.events {
        decrypt(if to == "alice" { &alice } else { &bob }, event, body).await?;
    }
    let old = log.events.len();
    // the stored outbound group sessions go on: the same session ids
    let round = format!("continued {}", log.identity.len() + old);
    let last_alice = log.sessions["alice"].last().cloned();
    let last_bob = log.sessions["bob"].last().cloned();
    exchange(&alice, &bob, &mut log, &round).await?;
    if log.sessions["alice"].last() != last_alice.as_ref() || log.sessions["bob"].last() != last_bob.as_ref() {
        return Err("a stored outbound group session was not continued".into());
    }
    // new room keys both ways over the stored Olm sessions: no claim may be needed
    alice.machine.discard_room_key(room()).await?;
    bob.machine.discard_room_key(room()).await?;
    let (claimed, received) = share(&alice, &mut bob).await?;
    if claimed || received != 1 {
        return Err(format!("Alice's new key: claimed {claimed} (the Olm session was lost), {received} room keys").into());
    }
    let (claimed, received) = share(&bob, &mut alice).await?;
    if claimed || received != 1 {
        return Err(format!("Bob's new key: claimed {claimed} (the Olm session was lost), {received} room keys").into());
    }
    exchange(&alice, &bob, &mut log, &format!("{round}, new keys")).await?;
    if log.sessions["alice"].last() == last_alice.as_ref() || log.sessions["bob"].last() == last_bob.as_ref() {
        return Err("the room keys were not replaced".into());
    }
    save_server(&mut log, &alice, &bob)?;
    std::fs::write(dir.join("log.json"), serde_json::to_vec_pretty(&log)?)?;
    println!(
        "store-roundtrip: reopened two stores with vodozemac {}: {old} old events decrypted, Olm and Megolm sessions continued ({} events now)",
        vodozemac_version(),
        log.events.len()
    );
    Ok(())
}

/// Which vodozemac this build links, as run-store-roundtrip.sh built it.
fn vodozemac_version() -> &'static str {
    option_env!("STORE_ROUNDTRIP_VODOZEMAC").unwrap_or("0.11.1 from crates.io")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(cmd), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: store-roundtrip write|continue DIR");
        std::process::exit(2);
    };
    let dir = PathBuf::from(dir);
    let r = match cmd.as_str() {
        "write" => write(&dir).await,
        "continue" => cont(&dir).await,
        _ => Err("unknown command".into()),
    };
    if let Err(e) = r {
        eprintln!("store-roundtrip: FAIL ({cmd}, {}): {e}", vodozemac_version());
        std::process::exit(1);
    }
}
