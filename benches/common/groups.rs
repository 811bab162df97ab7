//! The Signal-dialect set-up shared by the group benches (`groups`, `groups_instructions`):
//! an established session between alice and bob, their identities, and a sender certificate
//! for alice under a fresh trust root.

use caudata::interolm::{
    Account, DeviceId, IdentityKeyPair, InterolmMessage, SenderCertificate, ServerCertificate, Session,
};
use caudata::primitives::Curve25519SecretKey;

/// The certificates' notion of now (ms since the epoch); they expire at twice this.
pub const NOW: u64 = 1_700_000_000_000;

pub struct Setup {
    pub alice_identity: IdentityKeyPair,
    pub alice: Session,
    pub bob_identity: IdentityKeyPair,
    pub bob: Session,
    pub cert: SenderCertificate,
    pub root: Curve25519SecretKey,
}

pub fn setup() -> Setup {
    let a_secret = Curve25519SecretKey::new();
    let b_secret = Curve25519SecretKey::new();
    let alice_identity = IdentityKeyPair::from_secret_key(a_secret.clone());
    let bob_identity = IdentityKeyPair::from_secret_key(b_secret.clone());
    let alice_account = Account::from_identity_key(a_secret, 1);
    let mut bob_account = Account::from_identity_key(b_secret, 2);
    bob_account.generate_signed_pre_key();
    bob_account.generate_kyber_pre_key(true);
    let mut alice = alice_account.create_outbound_session(&bob_account.pre_key_bundle(1).unwrap()).unwrap();
    let InterolmMessage::PreKey(m) = alice.encrypt(b"hello").unwrap() else { panic!() };
    let mut bob = bob_account.create_inbound_session(&m).unwrap().session;
    alice.decrypt(&bob.encrypt(b"hi").unwrap()).unwrap();
    bob.decrypt(&alice.encrypt(b"steady").unwrap()).unwrap();
    let root = Curve25519SecretKey::new();
    let server_key = Curve25519SecretKey::new();
    let server = ServerCertificate::new(1, &server_key.public_key(), &root);
    let cert = SenderCertificate::new(
        "9d0652a3-dcc3-4d11-975f-74d61598733f",
        None,
        DeviceId::PRIMARY,
        &alice_identity.public_key(),
        NOW * 2,
        server,
        &server_key,
    );
    Setup { alice_identity, alice, bob_identity, bob, cert, root }
}
