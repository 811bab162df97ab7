//! caudata's demo: an Olm conversation between two accounts and a Megolm group message, with
//! the bytes on the wire.
//!
//! Run with `cargo run --example demo`.

use caudata::megolm::{GroupSession, InboundGroupSession, SessionConfig as MegolmConfig};
use caudata::olm::{Account, OlmMessage, SessionConfig};

fn show(label: &str, m: &OlmMessage) {
    let (t, body) = m.to_base64_parts();
    let bytes = m.to_bytes();
    println!("  {label}: Matrix type {t}, {} bytes on the wire", bytes.len());
    println!("    hex    {}", hex(&bytes));
    println!("    base64 {body}");
}

fn hex(b: &[u8]) -> String {
    let s: String = b.iter().map(|x| format!("{x:02x}")).collect();
    if s.len() > 96 { format!("{}…{}", &s[..64], &s[s.len() - 24..]) } else { s }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Olm (Matrix 1:1), libolm/vodozemac wire format ==");
    let alice = Account::new();
    let mut bob = Account::new();
    println!("alice: curve25519 {}  ed25519 {}", alice.curve25519_key(), alice.ed25519_key());
    println!("bob:   curve25519 {}  ed25519 {}", bob.curve25519_key(), bob.ed25519_key());

    bob.generate_one_time_keys(1);
    let (key_id, otk) = bob.one_time_keys().into_iter().next().ok_or("no one-time key")?;
    bob.mark_keys_as_published();
    println!("bob publishes one-time key {} = {otk}", key_id.to_base64());

    let mut a = alice.create_outbound_session(SessionConfig::version_1(), bob.curve25519_key(), otk)?;
    let first = a.encrypt("Hello Bob, this is Alice.");
    show("alice → bob (pre-key message)", &first);

    let OlmMessage::PreKey(pre_key) = &first else { return Err("expected a pre-key message".into()) };
    let created = bob.create_inbound_session(SessionConfig::version_1(), alice.curve25519_key(), pre_key)?;
    let mut b = created.session;
    println!("  bob decrypts: {:?}", String::from_utf8_lossy(&created.plaintext));
    println!("  session id on both sides: {} / {}", a.session_id(), b.session_id());
    println!("  bob's one-time key is now used up: {} left", bob.stored_one_time_key_count());

    let reply = b.encrypt("Hi Alice! New ratchet key from me.");
    show("bob → alice (normal message, ratchet step)", &reply);
    println!("  alice decrypts: {:?}", String::from_utf8_lossy(&a.decrypt(&reply)?));

    let m1 = a.encrypt("one");
    let m2 = a.encrypt("two");
    println!(
        "  out of order: bob gets 'two' first: {:?}, then 'one': {:?}",
        String::from_utf8_lossy(&b.decrypt(&m2)?),
        String::from_utf8_lossy(&b.decrypt(&m1)?)
    );
    match b.decrypt(&m1) {
        Err(e) => println!("  a replay of 'one' is refused: {e}"),
        Ok(_) => return Err("replay accepted".into()),
    }

    println!();
    println!("== Megolm (Matrix group) ==");
    let mut outbound = GroupSession::new(MegolmConfig::version_1());
    let session_key = outbound.session_key();
    println!("alice's group session {} (shared with members over Olm)", outbound.session_id());
    let mut bob_in = InboundGroupSession::new(&session_key, MegolmConfig::version_1());
    for text in ["Hello room", "Second message"] {
        let m = outbound.encrypt(text);
        println!("  message index {}: {} bytes: {}", m.message_index(), m.to_bytes().len(), hex(&m.to_bytes()));
        let d = bob_in.decrypt(&m)?;
        println!("  bob decrypts index {}: {:?}", d.message_index, String::from_utf8_lossy(&d.plaintext));
    }

    println!();
    println!("== interolm (the Signal dialect, libsignal wire format: PQXDH with Kyber1024) ==");
    // The same Curve25519 identity serves both dialects.
    let carol = caudata::interolm::Account::from_olm_account(&alice);
    let mut dave = caudata::interolm::Account::new();
    dave.generate_signed_pre_key();
    dave.generate_one_time_pre_keys(1);
    dave.generate_kyber_pre_key(false);
    let bundle = dave.pre_key_bundle(1).ok_or("no bundle")?;
    println!(
        "dave publishes a bundle: signed prekey {}, one-time prekey {:?}, Kyber1024 prekey {:?} ({} bytes serialized)",
        bundle.signed_pre_key_id,
        bundle.pre_key.as_ref().map(|(id, _)| *id),
        bundle.kyber_pre_key.as_ref().map(|k| k.0),
        bundle.to_bytes().len()
    );
    let mut c = caudata::Session::from(carol.create_outbound_session(&bundle)?);
    let first = c.encrypt("Hello Dave, post-quantum hello from Alice's identity.")?;
    let (dialect, t, bytes) = first.to_parts();
    println!(
        "  carol → dave: {} message type {t} (PreKeySignalMessage), {} bytes, version byte {:#04x}",
        dialect.name(),
        bytes.len(),
        bytes[0]
    );
    let caudata::Message::Interolm(caudata::interolm::InterolmMessage::PreKey(pk)) = &first else {
        return Err("expected a pre-key message".into());
    };
    let created = dave.create_inbound_session(pk)?;
    println!("  dave decrypts: {:?}", String::from_utf8_lossy(&created.plaintext));
    let mut d = caudata::Session::from(created.session);
    let reply = d.encrypt("Hi! Same session API as Olm.")?;
    let (_, t, bytes) = reply.to_parts();
    println!("  dave → carol: message type {t} (SignalMessage), {} bytes: {}", bytes.len(), hex(&bytes));
    println!("  carol decrypts: {:?}", String::from_utf8_lossy(&c.decrypt(&reply)?));
    match d.decrypt(&caudata::Message::Olm(m2)) {
        Err(e) => println!("  an Olm message given to the Signal-dialect session: {e}"),
        Ok(_) => return Err("wrong dialect accepted".into()),
    }
    Ok(())
}
