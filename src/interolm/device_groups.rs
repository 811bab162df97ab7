//! Sealed sender and sender keys on the high-level [`Device`]: libsignal's
//! `sealedSenderEncryptMessage` / `sealedSenderDecryptMessage` and `groupEncrypt` /
//! `groupDecrypt` / `SenderKeyDistributionMessage.create` / `processSenderKeyDistributionMessage`
//! over the application's stores.
//!
//! ```
//! use caudata::interolm::{
//!     ContentHint, Device, DeviceId, DistributionId, IdentityKeyPair, InMemoryStore, ProtocolAddress,
//!     SenderCertificate, ServerCertificate,
//! };
//! use caudata::primitives::Curve25519SecretKey;
//!
//! let alice_address = ProtocolAddress::new("11111111-2222-4333-8444-555555555555", DeviceId::PRIMARY);
//! let bob_address = ProtocolAddress::new("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", DeviceId::PRIMARY);
//! let alice_identity = IdentityKeyPair::generate();
//! let alice_key = alice_identity.public_key();
//! let mut alice = Device::new(InMemoryStore::new(alice_identity, 1), alice_address.clone());
//! let mut bob = Device::new(InMemoryStore::new(IdentityKeyPair::generate(), 2), bob_address.clone());
//! bob.generate_signed_pre_key(1, 0).unwrap();
//! bob.generate_kyber_pre_key(1, 0, true).unwrap();
//! alice.process_pre_key_bundle(&bob_address, &bob.pre_key_bundle(None, 1, Some(1)).unwrap()).unwrap();
//!
//! // The service's certificates (made here for the example).
//! let (root, server_key) = (Curve25519SecretKey::new(), Curve25519SecretKey::new());
//! let server = ServerCertificate::new(1, &server_key.public_key(), &root);
//! let cert = SenderCertificate::new(alice_address.name(), None, DeviceId::PRIMARY, &alice_key, u64::MAX, server, &server_key);
//!
//! // 1:1, sealed.
//! let sealed = alice.sealed_sender_encrypt(&bob_address, b"hi Bob", &cert, ContentHint::Default, None).unwrap();
//! let opened = bob.sealed_sender_decrypt(&sealed, &[root.public_key()], 1_700_000_000_000).unwrap();
//! assert_eq!((opened.sender, opened.plaintext), (alice_address.clone(), b"hi Bob".to_vec()));
//!
//! // A group: Alice's distribution message goes to Bob in their session, then group messages.
//! let group = DistributionId::random_v4();
//! let skdm = alice.create_sender_key_distribution_message(&group).unwrap();
//! bob.process_sender_key_distribution_message(&alice_address, &skdm).unwrap();
//! let m = alice.group_encrypt(&group, b"to everyone").unwrap();
//! assert_eq!(bob.group_decrypt(&alice_address, &m).unwrap(), b"to everyone");
//! ```

use super::address::ProtocolAddress;
use super::device::Device;
use super::group::{
    DistributionId, SenderKeyDistributionMessage, SenderKeyMessage, create_sender_key_distribution_message,
    group_decrypt, group_encrypt, process_sender_key_distribution_message,
};
use super::message::{InterolmMessage, MessageType};
use super::sealed_sender::{
    ContentHint, SenderCertificate, UnidentifiedSenderMessageContent, sealed_sender_decrypt, sealed_sender_encrypt,
};
use super::stores::{ProtocolStore, SenderKeyStore};
use crate::error::{GroupError, ProtocolError, SealedMessageError, SealedSenderError};
use crate::primitives::Curve25519PublicKey;

/// What [`Device::sealed_sender_decrypt`] returns (libsignal's
/// `SealedSenderDecryptionResult`, with the content hint and group id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSenderDecryptionResult {
    /// The sender, from its validated certificate.
    pub sender: ProtocolAddress,
    /// The sender's phone number, if its certificate has one.
    pub sender_e164: Option<String>,
    /// The content hint.
    pub content_hint: ContentHint,
    /// The group id, if any.
    pub group_id: Option<Vec<u8>>,
    /// The decrypted message.
    pub plaintext: Vec<u8>,
}

impl<S: ProtocolStore> Device<S> {
    /// libsignal's `sealedSenderEncryptMessage` (with a content hint and group id): encrypts
    /// `plaintext` with the session with `remote` ([`Device::encrypt`]) and seals it (v1) to
    /// `remote`'s stored identity key, with `sender_certificate` (ours, from the service).
    ///
    /// # Errors
    /// [`SealedMessageError::Protocol`] as [`Device::encrypt`];
    /// [`SealedMessageError::Sealed`] if the stored identity key is unusable.
    pub fn sealed_sender_encrypt(
        &mut self,
        remote: &ProtocolAddress,
        plaintext: &[u8],
        sender_certificate: &SenderCertificate,
        content_hint: ContentHint,
        group_id: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, SealedMessageError> {
        let identity = self.identity_key_pair()?;
        let their_identity = self
            .store()
            .identity(remote)
            .map_err(ProtocolError::from)?
            .ok_or_else(|| ProtocolError::NoSession(remote.clone()))?;
        let message = self.encrypt(remote, plaintext)?;
        let usmc = UnidentifiedSenderMessageContent::new(
            message.message_type(),
            sender_certificate.clone(),
            message.to_bytes(),
            content_hint,
            group_id,
        );
        Ok(sealed_sender_encrypt(&usmc, &identity, &their_identity)?)
    }

    /// libsignal's `sealedSenderDecryptMessage`: opens `sealed` with our identity, validates the
    /// sender certificate under `trust_roots` at `now`, refuses a message from this very device,
    /// and decrypts the enclosed 1:1 message with the session of the certified sender
    /// ([`Device::decrypt`]). A group message (type 7) or a retry request (type 8) is refused
    /// here with [`SealedMessageError::UnexpectedContent`]: open those with
    /// [`sealed_sender_decrypt`] and pass the content on.
    ///
    /// # Errors
    /// [`SealedMessageError::Sealed`] (decoding, decryption, certificate, self-send),
    /// [`SealedMessageError::UnexpectedContent`], [`SealedMessageError::Protocol`] as
    /// [`Device::decrypt`]. Nothing is stored on error.
    pub fn sealed_sender_decrypt(
        &mut self,
        sealed: &[u8],
        trust_roots: &[Curve25519PublicKey],
        now: u64,
    ) -> Result<SealedSenderDecryptionResult, SealedMessageError> {
        let identity = self.identity_key_pair()?;
        let usmc = sealed_sender_decrypt(sealed, &identity, trust_roots, now, Some(self.address()))?;
        let cert = usmc.sender();
        let sender = cert
            .sender_address()
            .ok_or(SealedSenderError::Decode(crate::DecodeError::MalformedField("sender certificate device id")))?;
        let message = match usmc.message_type() {
            t @ (MessageType::Whisper | MessageType::PreKey) => {
                InterolmMessage::from_parts(t.number().into(), usmc.contents()).map_err(SealedSenderError::Decode)?
            }
            t => return Err(SealedMessageError::UnexpectedContent(t)),
        };
        let plaintext = self.decrypt(&sender, &message)?;
        Ok(SealedSenderDecryptionResult {
            sender,
            sender_e164: cert.sender_e164().map(str::to_owned),
            content_hint: usmc.content_hint(),
            group_id: usmc.group_id().map(<[u8]>::to_vec),
            plaintext,
        })
    }
}

impl<S: ProtocolStore + SenderKeyStore> Device<S> {
    /// [`create_sender_key_distribution_message`] for our own address.
    ///
    /// # Errors
    /// As [`create_sender_key_distribution_message`].
    pub fn create_sender_key_distribution_message(
        &mut self,
        distribution_id: &DistributionId,
    ) -> Result<SenderKeyDistributionMessage, GroupError> {
        let me = self.address().clone();
        create_sender_key_distribution_message(self.store_mut(), &me, distribution_id)
    }

    /// [`process_sender_key_distribution_message`] from `sender`.
    ///
    /// # Errors
    /// As [`process_sender_key_distribution_message`].
    pub fn process_sender_key_distribution_message(
        &mut self,
        sender: &ProtocolAddress,
        message: &SenderKeyDistributionMessage,
    ) -> Result<(), GroupError> {
        process_sender_key_distribution_message(self.store_mut(), sender, message)
    }

    /// [`group_encrypt`] from our own address.
    ///
    /// # Errors
    /// As [`group_encrypt`].
    pub fn group_encrypt(
        &mut self,
        distribution_id: &DistributionId,
        plaintext: &[u8],
    ) -> Result<SenderKeyMessage, GroupError> {
        let me = self.address().clone();
        group_encrypt(self.store_mut(), &me, distribution_id, plaintext)
    }

    /// [`group_decrypt`] of a message from `sender`.
    ///
    /// # Errors
    /// As [`group_decrypt`].
    pub fn group_decrypt(
        &mut self,
        sender: &ProtocolAddress,
        message: &SenderKeyMessage,
    ) -> Result<Vec<u8>, GroupError> {
        group_decrypt(self.store_mut(), sender, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SenderKeyError;
    use crate::interolm::{DeviceId, IdentityKeyPair, InMemoryStore};

    fn device(name: &str) -> Device<InMemoryStore> {
        Device::new(InMemoryStore::new(IdentityKeyPair::generate(), 1), ProtocolAddress::new(name, DeviceId::PRIMARY))
    }

    #[test]
    fn group_messages_decrypt_only_from_processed_senders_and_valid_signatures() {
        let (mut alice, mut bob, mut carol) = (device("alice"), device("bob"), device("carol"));
        let id = DistributionId::from_bytes([4; 16]);
        let from_alice = alice.address().clone();
        let skdm = alice.create_sender_key_distribution_message(&id).unwrap();
        let m = alice.group_encrypt(&id, b"to the group").unwrap();
        let sender_key_error = |r: Result<Vec<u8>, GroupError>| match r {
            Err(GroupError::SenderKey(e)) => Some(e),
            _ => None,
        };
        // nothing processed yet
        assert_eq!(sender_key_error(bob.group_decrypt(&from_alice, &m)), Some(SenderKeyError::NoSenderKeyState));
        bob.process_sender_key_distribution_message(&from_alice, &skdm).unwrap();
        assert_eq!(bob.group_decrypt(&from_alice, &m).unwrap(), b"to the group");
        assert!(matches!(
            sender_key_error(bob.group_decrypt(&from_alice, &m)),
            Some(SenderKeyError::DuplicatedMessage { .. })
        ));
        // the record is kept per sender: alice's key under carol's address is unknown
        let carol_addr = carol.address().clone();
        let m2 = alice.group_encrypt(&id, b"again").unwrap();
        assert_eq!(sender_key_error(bob.group_decrypt(&carol_addr, &m2)), Some(SenderKeyError::NoSenderKeyState));
        // a forged signature
        let mut bytes = m2.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let forged = SenderKeyMessage::from_bytes(&bytes).unwrap();
        assert_eq!(sender_key_error(bob.group_decrypt(&from_alice, &forged)), Some(SenderKeyError::InvalidSignature));
        assert_eq!(bob.group_decrypt(&from_alice, &m2).unwrap(), b"again");
        // carol processes alice's distribution message for her own group record too
        carol.process_sender_key_distribution_message(&from_alice, &skdm).unwrap();
        assert_eq!(carol.group_decrypt(&from_alice, &m2).unwrap(), b"again");
    }

    /// A sealed 1:1 message opens to its certified sender, its phone number, content hint,
    /// group id and plaintext; without the recipient's identity stored there is nothing to seal to.
    #[test]
    fn sealed_messages_open_to_their_sender_and_contents() {
        use crate::interolm::ServerCertificate;
        use crate::primitives::Curve25519SecretKey;
        let (mut alice, mut bob) = (device("11111111-2222-4333-8444-555555555555"), device("bob"));
        let (alice_addr, bob_addr) = (alice.address().clone(), bob.address().clone());
        bob.generate_signed_pre_key(1, 0).unwrap();
        bob.generate_kyber_pre_key(1, 0, true).unwrap();
        let (root, server_key) = (Curve25519SecretKey::new(), Curve25519SecretKey::new());
        let server = ServerCertificate::new(1, &server_key.public_key(), &root);
        let alice_key = alice.identity_key_pair().unwrap().public_key();
        let cert = SenderCertificate::new(
            alice_addr.name(),
            Some("+15550001"),
            DeviceId::PRIMARY,
            &alice_key,
            u64::MAX,
            server,
            &server_key,
        );
        let seal = |alice: &mut Device<InMemoryStore>| {
            alice.sealed_sender_encrypt(&bob_addr, b"hi", &cert, ContentHint::Resendable, Some(vec![7; 4]))
        };
        assert!(
            matches!(seal(&mut alice), Err(SealedMessageError::Protocol(ProtocolError::NoSession(a))) if a == bob_addr)
        );
        alice.process_pre_key_bundle(&bob_addr, &bob.pre_key_bundle(None, 1, Some(1)).unwrap()).unwrap();
        let sealed = seal(&mut alice).unwrap();
        let opened = bob.sealed_sender_decrypt(&sealed, &[root.public_key()], 1_700_000_000_000).unwrap();
        assert_eq!(
            (opened.sender, opened.sender_e164.as_deref(), opened.content_hint, opened.group_id, opened.plaintext),
            (alice_addr, Some("+15550001"), ContentHint::Resendable, Some(vec![7; 4]), b"hi".to_vec())
        );
    }
}
