//! caudata's demo: an Olm conversation between two accounts and a Megolm group message, with
//! the bytes on the wire; a Signal-dialect (interolm) session; and a three-member Signal-dialect
//! group (sender keys distributed over sealed sender, group messages sealed once for everyone).
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

    println!();
    signal_group()
}

/// Three members of a Signal-dialect group, with libsignal's semantics: 1:1 sessions between
/// them, sender keys distributed inside sealed-sender 1:1 messages, group messages (type 7)
/// sealed once for everyone (sealed sender v2, fanned out as a server would).
fn signal_group() -> Result<(), Box<dyn std::error::Error>> {
    use caudata::interolm::{
        ContentHint, Device, DeviceId, DistributionId, IdentityKeyPair, InMemoryStore, MessageType, ProtocolAddress,
        SealedSenderRecipient, SenderCertificate, SenderKeyDistributionMessage, ServerCertificate, ServiceId,
        UnidentifiedSenderMessageContent, multi_recipient_message_for_recipient, sealed_sender_decrypt,
        sealed_sender_multi_recipient_encrypt,
    };
    use caudata::primitives::Curve25519SecretKey;
    println!("== interolm group: three members, sender keys, sealed sender (libsignal semantics) ==");
    const NOW: u64 = 1_700_000_000_000;
    // The service: a trust root and a server certificate; it certifies each member.
    let (root, server_key) = (Curve25519SecretKey::new(), Curve25519SecretKey::new());
    let server = ServerCertificate::new(1, &server_key.public_key(), &root);
    let names = [
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333",
    ];
    let mut members = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let identity = IdentityKeyPair::generate();
        let key = identity.public_key();
        let address = ProtocolAddress::new(*name, DeviceId::PRIMARY);
        let mut device = Device::new(InMemoryStore::new(identity.clone(), 100 + i as u32), address.clone());
        device.generate_signed_pre_key(1, NOW)?;
        device.generate_kyber_pre_key(1, NOW, true)?;
        let cert =
            SenderCertificate::new(name, None, DeviceId::PRIMARY, &key, NOW + 86_400_000, server.clone(), &server_key);
        members.push((device, address, identity, cert));
    }
    let label = ["alice", "bob", "carol"];
    // Pairwise sessions: each member processes the bundles of the members after it.
    for i in 0..3 {
        for j in i + 1..3 {
            let bundle = members[j].0.pre_key_bundle(None, 1, Some(1))?;
            let peer = members[j].1.clone();
            members[i].0.process_pre_key_bundle(&peer, &bundle)?;
        }
    }
    // Each member's sender key goes to the others inside a sealed 1:1 message.
    let group = DistributionId::random_v4();
    for (i, j) in [(0, 1), (0, 2), (1, 2), (1, 0), (2, 0), (2, 1)] {
        let skdm = members[i].0.create_sender_key_distribution_message(&group)?;
        let (to, cert) = (members[j].1.clone(), members[i].3.clone());
        let sealed = members[i].0.sealed_sender_encrypt(&to, &skdm.to_bytes(), &cert, ContentHint::Implicit, None)?;
        let opened = members[j].0.sealed_sender_decrypt(&sealed, &[root.public_key()], NOW)?;
        let skdm = SenderKeyDistributionMessage::from_bytes(&opened.plaintext)?;
        members[j].0.process_sender_key_distribution_message(&opened.sender, &skdm)?;
        println!(
            "  {} → {}: sender key (chain {}) in a {}-byte sealed envelope",
            label[i],
            label[j],
            skdm.chain_id(),
            sealed.len()
        );
    }
    // Group messages: encrypted once, readable by every other member, in any order.
    let m1 = members[1].0.group_encrypt(&group, b"bob: first")?;
    let m2 = members[1].0.group_encrypt(&group, b"bob: second")?;
    for k in [0, 2] {
        let from = members[1].1.clone();
        let second = members[k].0.group_decrypt(&from, &m2)?;
        let first = members[k].0.group_decrypt(&from, &m1)?;
        println!(
            "  {} reads bob's messages out of order: {:?}, {:?}",
            label[k],
            String::from_utf8_lossy(&second),
            String::from_utf8_lossy(&first)
        );
        if members[k].0.group_decrypt(&from, &m1).is_ok() {
            return Err("group replay accepted".into());
        }
    }
    // Alice's group message, sealed once (v2) for both others; the server fans it out.
    let m = members[0].0.group_encrypt(&group, b"alice: to everyone, sealed")?;
    let usmc = UnidentifiedSenderMessageContent::new(
        MessageType::SenderKey,
        members[0].3.clone(),
        m.to_bytes(),
        ContentHint::Resendable,
        Some(group.as_bytes().to_vec()),
    );
    let recipients: Vec<SealedSenderRecipient> = [1, 2]
        .iter()
        .map(|&j| -> Result<SealedSenderRecipient, Box<dyn std::error::Error>> {
            let record = members[0].0.session_record(&members[j].1)?.ok_or("no session")?;
            let registration = record.current().ok_or("no current session")?.remote_registration_id();
            Ok(SealedSenderRecipient {
                service_id: ServiceId::parse(names[j])?,
                identity_key: members[j].2.public_key(),
                devices: vec![(DeviceId::PRIMARY, registration)],
            })
        })
        .collect::<Result<_, _>>()?;
    let sent = sealed_sender_multi_recipient_encrypt(&usmc, &members[0].2, &recipients, &[])?;
    println!("  alice → server: one {}-byte multi-recipient message", sent.len());
    for (delivery, j) in multi_recipient_message_for_recipient(&sent)?.into_iter().zip([1, 2]) {
        let envelope = delivery.message.ok_or("excluded")?;
        let content = sealed_sender_decrypt(&envelope, &members[j].2, &[root.public_key()], NOW, Some(&members[j].1))?;
        let sender = content.sender().sender_address().ok_or("bad device id")?;
        let m = caudata::interolm::SenderKeyMessage::from_bytes(content.contents())?;
        let pt = members[j].0.group_decrypt(&sender, &m)?;
        println!(
            "  {} opens its {}-byte envelope: from {}, {:?}",
            label[j],
            envelope.len(),
            label[0],
            String::from_utf8_lossy(&pt)
        );
    }
    Ok(())
}
