//! interolm: the Signal dialect (X3DH, PQXDH), interoperable with libsignal. Keys, signatures
//! and messages are bytes in libsignal's serialized forms (`0x05 ‖ key` for Curve25519,
//! `0x08 ‖ key` for Kyber1024), so they plug straight into `@signalapp/libsignal-client`.

use caudata::interolm::{
    self, InterolmMessage, Kyber1024PublicKey, PreKeySignalMessage, SessionVersion, XEdDsaSignature,
};
use caudata::wire::signal::{decode_public_key, encode_public_key};
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::olm::Account as OlmAccount;
use crate::{
    Error, InterolmInboundCreation, InterolmMessageJs, Plaintext, object, plaintext_bytes, secret_to_uint8array,
};

fn message_js(message: &InterolmMessage) -> InterolmMessageJs {
    let (message_type, body) = message.to_parts();
    object(&[("type", &JsValue::from(message_type as u32)), ("body", &Uint8Array::from(body.as_slice()))])
        .unchecked_into()
}

fn public_key_bytes(key: &caudata::Curve25519PublicKey) -> Vec<u8> {
    encode_public_key(key).to_vec()
}

/// The identity and prekeys of one Signal-dialect device. PQXDH only unless `allowX3dh(true)`.
#[wasm_bindgen]
pub struct InterolmAccount {
    inner: interolm::Account,
}

#[wasm_bindgen]
impl InterolmAccount {
    /// A new account with a fresh identity key, a random registration id and no prekeys.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> InterolmAccount {
        InterolmAccount { inner: interolm::Account::new() }
    }

    /// An account with the same Curve25519 identity key as an Olm account (and a random
    /// registration id), so that one device has one key in both dialects.
    #[wasm_bindgen(js_name = fromOlmAccount)]
    pub fn from_olm_account(account: &OlmAccount) -> InterolmAccount {
        InterolmAccount { inner: interolm::Account::from_olm_account(&account.inner) }
    }

    /// The identity key, serialized as libsignal does (33 bytes, `0x05 ‖ key`).
    #[wasm_bindgen(getter, js_name = identityKey)]
    pub fn identity_key(&self) -> Vec<u8> {
        public_key_bytes(&self.inner.identity_key())
    }

    /// The registration id announced in bundles and pre-key messages.
    #[wasm_bindgen(getter, js_name = registrationId)]
    pub fn registration_id(&self) -> u32 {
        self.inner.registration_id()
    }

    /// Changes the registration id (sessions made before keep the old one).
    #[wasm_bindgen(setter, js_name = registrationId)]
    pub fn set_registration_id(&mut self, #[wasm_bindgen(js_name = registrationId)] registration_id: u32) {
        self.inner.set_registration_id(registration_id)
    }

    /// Allows (or forbids again) X3DH sessions, for peers on libsignal ≤ 0.72.
    #[wasm_bindgen(js_name = allowX3dh)]
    pub fn allow_x3dh(&mut self, allowed: bool) {
        self.inner.allow_x3dh(allowed)
    }

    /// Whether X3DH sessions are allowed.
    #[wasm_bindgen(getter, js_name = x3dhAllowed)]
    pub fn x3dh_allowed(&self) -> bool {
        self.inner.x3dh_allowed()
    }

    /// Signs `message` with the identity key (XEdDSA, 64 bytes, as libsignal's
    /// `PrivateKey.sign`).
    pub fn sign(&self, message: &Plaintext) -> Result<Vec<u8>, Error> {
        Ok(self.inner.sign(&plaintext_bytes(message)?).as_bytes().to_vec())
    }

    /// Generates a signed prekey (it becomes the one bundles publish) and returns its id.
    #[wasm_bindgen(js_name = generateSignedPreKey)]
    pub fn generate_signed_pre_key(&mut self) -> u32 {
        self.inner.generate_signed_pre_key()
    }

    /// Generates `count` one-time prekeys and returns their ids.
    #[wasm_bindgen(js_name = generateOneTimePreKeys)]
    pub fn generate_one_time_pre_keys(&mut self, count: usize) -> Vec<u32> {
        self.inner.generate_one_time_pre_keys(count)
    }

    /// Generates a Kyber1024 prekey (a last-resort one is kept after use) and returns its id.
    #[wasm_bindgen(js_name = generateKyberPreKey)]
    pub fn generate_kyber_pre_key(&mut self, #[wasm_bindgen(js_name = lastResort)] last_resort: bool) -> u32 {
        self.inner.generate_kyber_pre_key(last_resort)
    }

    /// Ids of the one-time prekeys still unused, ascending.
    #[wasm_bindgen(getter, js_name = oneTimePreKeyIds)]
    pub fn one_time_pre_key_ids(&self) -> Vec<u32> {
        self.inner.pre_keys().one_time_pre_keys().into_iter().map(|(id, _)| id).collect()
    }

    /// Removes a one-time prekey; returns whether it was there.
    #[wasm_bindgen(js_name = removeOneTimePreKey)]
    pub fn remove_one_time_pre_key(&mut self, id: u32) -> bool {
        self.inner.pre_keys_mut().remove_one_time_pre_key(id)
    }

    /// Removes a signed prekey (rotation); returns whether it was there.
    #[wasm_bindgen(js_name = removeSignedPreKey)]
    pub fn remove_signed_pre_key(&mut self, id: u32) -> bool {
        self.inner.pre_keys_mut().remove_signed_pre_key(id)
    }

    /// Removes a Kyber prekey; returns whether it was there.
    #[wasm_bindgen(js_name = removeKyberPreKey)]
    pub fn remove_kyber_pre_key(&mut self, id: u32) -> bool {
        self.inner.pre_keys_mut().remove_kyber_pre_key(id)
    }

    /// The bundle to publish for `deviceId`: the newest signed prekey, the lowest one-time
    /// prekey, the newest Kyber prekey. `undefined` without a signed prekey.
    #[wasm_bindgen(js_name = preKeyBundle)]
    pub fn pre_key_bundle(&self, #[wasm_bindgen(js_name = deviceId)] device_id: u32) -> Option<PreKeyBundle> {
        self.inner.pre_key_bundle(device_id).map(|inner| PreKeyBundle { inner })
    }

    /// Starts a session from another device's bundle (verified first): PQXDH with a Kyber
    /// prekey, else X3DH if allowed.
    #[wasm_bindgen(js_name = createOutboundSession)]
    pub fn create_outbound_session(&self, bundle: &PreKeyBundle) -> Result<InterolmSession, Error> {
        Ok(InterolmSession { inner: self.inner.create_outbound_session(&bundle.inner)? })
    }

    /// Creates the responder's session from a `PreKeySignalMessage` (type 3) and decrypts it.
    /// Prekeys are consumed only once the message has decrypted.
    #[wasm_bindgen(js_name = createInboundSession)]
    pub fn create_inbound_session(
        &mut self,
        #[wasm_bindgen(js_name = preKeyMessage)] pre_key_message: &[u8],
    ) -> Result<InterolmInboundCreation, Error> {
        let message = PreKeySignalMessage::from_bytes(pre_key_message)?;
        let result = self.inner.create_inbound_session(&message)?;
        let session = InterolmSession { inner: result.session };
        Ok(object(&[
            ("session", &session.into()),
            ("plaintext", &secret_to_uint8array(Zeroizing::new(result.plaintext))),
        ])
        .unchecked_into())
    }
}

/// A Signal prekey bundle. Its fields are public and unverified until `verify()` or a session
/// uses it. Keys are libsignal's serialized forms.
#[wasm_bindgen]
pub struct PreKeyBundle {
    inner: interolm::PreKeyBundle,
}

#[wasm_bindgen]
impl PreKeyBundle {
    /// A bundle from its parts, in the order of libsignal's `PreKeyBundle.new`: the one-time
    /// prekey (id and key) and the Kyber prekey (id, key, signature) are each all or nothing
    /// (`null`/`undefined`).
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        #[wasm_bindgen(js_name = registrationId)] registration_id: u32,
        #[wasm_bindgen(js_name = deviceId)] device_id: u32,
        #[wasm_bindgen(js_name = preKeyId)] pre_key_id: Option<u32>,
        #[wasm_bindgen(js_name = preKey)] pre_key: Option<Vec<u8>>,
        #[wasm_bindgen(js_name = signedPreKeyId)] signed_pre_key_id: u32,
        #[wasm_bindgen(js_name = signedPreKey)] signed_pre_key: &[u8],
        #[wasm_bindgen(js_name = signedPreKeySignature)] signed_pre_key_signature: &[u8],
        #[wasm_bindgen(js_name = identityKey)] identity_key: &[u8],
        #[wasm_bindgen(js_name = kyberPreKeyId)] kyber_pre_key_id: Option<u32>,
        #[wasm_bindgen(js_name = kyberPreKey)] kyber_pre_key: Option<Vec<u8>>,
        #[wasm_bindgen(js_name = kyberPreKeySignature)] kyber_pre_key_signature: Option<Vec<u8>>,
    ) -> Result<PreKeyBundle, Error> {
        let pre_key = match (pre_key_id, pre_key) {
            (Some(id), Some(key)) => Some((id, decode_public_key(&key)?)),
            (None, None) => None,
            _ => return Err(Error::invalid_argument("the one-time prekey needs both its id and its key")),
        };
        let kyber_pre_key = match (kyber_pre_key_id, kyber_pre_key, kyber_pre_key_signature) {
            (Some(id), Some(key), Some(sig)) => {
                Some((id, Kyber1024PublicKey::from_bytes(&key)?, XEdDsaSignature::from_slice(&sig)?))
            }
            (None, None, None) => None,
            _ => return Err(Error::invalid_argument("the Kyber prekey needs its id, key and signature")),
        };
        Ok(PreKeyBundle {
            inner: interolm::PreKeyBundle {
                registration_id,
                device_id,
                identity_key: decode_public_key(identity_key)?,
                pre_key,
                signed_pre_key_id,
                signed_pre_key: decode_public_key(signed_pre_key)?,
                signed_pre_key_signature: XEdDsaSignature::from_slice(signed_pre_key_signature)?,
                kyber_pre_key,
            },
        })
    }

    /// Parses caudata's serialized bundle (`toBytes`).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<PreKeyBundle, Error> {
        Ok(PreKeyBundle { inner: interolm::PreKeyBundle::from_bytes(bytes)? })
    }

    /// caudata's serialized bundle.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Checks every key and both signatures; throws `INVALID_BUNDLE` naming the problem.
    pub fn verify(&self) -> Result<(), Error> {
        Ok(self.inner.verify()?)
    }

    /// The owner's registration id.
    #[wasm_bindgen(getter, js_name = registrationId)]
    pub fn registration_id(&self) -> u32 {
        self.inner.registration_id
    }

    /// The owner's device id.
    #[wasm_bindgen(getter, js_name = deviceId)]
    pub fn device_id(&self) -> u32 {
        self.inner.device_id
    }

    /// The owner's identity key (33 bytes).
    #[wasm_bindgen(getter, js_name = identityKey)]
    pub fn identity_key(&self) -> Vec<u8> {
        public_key_bytes(&self.inner.identity_key)
    }

    /// The one-time prekey's id, if there is one.
    #[wasm_bindgen(getter, js_name = preKeyId)]
    pub fn pre_key_id(&self) -> Option<u32> {
        self.inner.pre_key.as_ref().map(|(id, _)| *id)
    }

    /// The one-time prekey (33 bytes), if there is one.
    #[wasm_bindgen(getter, js_name = preKey)]
    pub fn pre_key(&self) -> Option<Vec<u8>> {
        self.inner.pre_key.as_ref().map(|(_, k)| public_key_bytes(k))
    }

    /// The signed prekey's id.
    #[wasm_bindgen(getter, js_name = signedPreKeyId)]
    pub fn signed_pre_key_id(&self) -> u32 {
        self.inner.signed_pre_key_id
    }

    /// The signed prekey (33 bytes).
    #[wasm_bindgen(getter, js_name = signedPreKey)]
    pub fn signed_pre_key(&self) -> Vec<u8> {
        public_key_bytes(&self.inner.signed_pre_key)
    }

    /// The signed prekey's XEdDSA signature (64 bytes).
    #[wasm_bindgen(getter, js_name = signedPreKeySignature)]
    pub fn signed_pre_key_signature(&self) -> Vec<u8> {
        self.inner.signed_pre_key_signature.as_bytes().to_vec()
    }

    /// The Kyber prekey's id, if there is one.
    #[wasm_bindgen(getter, js_name = kyberPreKeyId)]
    pub fn kyber_pre_key_id(&self) -> Option<u32> {
        self.inner.kyber_pre_key.as_ref().map(|(id, _, _)| *id)
    }

    /// The Kyber1024 prekey (1569 bytes), if there is one.
    #[wasm_bindgen(getter, js_name = kyberPreKey)]
    pub fn kyber_pre_key(&self) -> Option<Vec<u8>> {
        self.inner.kyber_pre_key.as_ref().map(|(_, k, _)| k.to_bytes())
    }

    /// The Kyber prekey's XEdDSA signature (64 bytes), if there is one.
    #[wasm_bindgen(getter, js_name = kyberPreKeySignature)]
    pub fn kyber_pre_key_signature(&self) -> Option<Vec<u8>> {
        self.inner.kyber_pre_key.as_ref().map(|(_, _, s)| s.as_bytes().to_vec())
    }
}

/// A Signal-dialect session.
#[wasm_bindgen]
pub struct InterolmSession {
    inner: interolm::Session,
}

#[wasm_bindgen]
impl InterolmSession {
    /// An id for the session, the same on both sides (libsignal has none; see caudata's docs).
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.inner.session_id()
    }

    /// 3 (X3DH) or 4 (PQXDH).
    #[wasm_bindgen(getter, js_name = sessionVersion)]
    pub fn session_version(&self) -> u8 {
        match self.inner.session_version() {
            SessionVersion::X3dh => 3,
            _ => 4,
        }
    }

    /// Whether this side started the session.
    #[wasm_bindgen(getter, js_name = isInitiator)]
    pub fn is_initiator(&self) -> bool {
        self.inner.is_initiator()
    }

    /// Whether this side has decrypted a message from the other.
    #[wasm_bindgen(getter, js_name = hasReceivedMessage)]
    pub fn has_received_message(&self) -> bool {
        self.inner.has_received_message()
    }

    /// Our identity key (33 bytes).
    #[wasm_bindgen(getter, js_name = localIdentityKey)]
    pub fn local_identity_key(&self) -> Vec<u8> {
        public_key_bytes(&self.inner.local_identity_key())
    }

    /// The peer's identity key (33 bytes).
    #[wasm_bindgen(getter, js_name = remoteIdentityKey)]
    pub fn remote_identity_key(&self) -> Vec<u8> {
        public_key_bytes(&self.inner.remote_identity_key())
    }

    /// Our registration id as this session announces it.
    #[wasm_bindgen(getter, js_name = localRegistrationId)]
    pub fn local_registration_id(&self) -> u32 {
        self.inner.local_registration_id()
    }

    /// The peer's registration id.
    #[wasm_bindgen(getter, js_name = remoteRegistrationId)]
    pub fn remote_registration_id(&self) -> u32 {
        self.inner.remote_registration_id()
    }

    /// Encrypts `plaintext`; a `PreKeySignalMessage` (type 3) until the peer has answered.
    pub fn encrypt(&mut self, plaintext: &Plaintext) -> Result<InterolmMessageJs, Error> {
        Ok(message_js(&self.inner.encrypt(plaintext_bytes(plaintext)?.as_slice())?))
    }

    /// Decrypts a message (`type` 2 or 3, its bytes). On any error the session is unchanged.
    pub fn decrypt(
        &mut self,
        #[wasm_bindgen(js_name = messageType)] message_type: u32,
        body: &[u8],
    ) -> Result<Uint8Array, Error> {
        let message = InterolmMessage::from_parts(message_type as usize, body)?;
        Ok(secret_to_uint8array(Zeroizing::new(self.inner.decrypt(&message)?)))
    }

    /// Whether a `PreKeySignalMessage` belongs to this session (all its outer fields match).
    pub fn matches(&self, #[wasm_bindgen(js_name = preKeyMessage)] pre_key_message: &[u8]) -> Result<bool, Error> {
        Ok(self.inner.matches(&PreKeySignalMessage::from_bytes(pre_key_message)?))
    }
}
