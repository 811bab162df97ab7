//! Olm: accounts and 1:1 sessions, compatible with libolm and vodozemac.

use caudata::Curve25519PublicKey;
use caudata::olm::{self, OlmMessage, PreKeyMessage, SessionConfig};
use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::{
    Error, IdentityKeysJs, KeyMap, OlmInboundCreationBytes, OlmInboundCreationString, OlmMessageJs,
    OneTimeKeyGeneration, Plaintext, object, plaintext_bytes, secret_to_string, secret_to_uint8array,
};

fn curve25519(key: &str) -> Result<Curve25519PublicKey, Error> {
    Ok(Curve25519PublicKey::from_base64(key)?)
}

/// Olm session configuration from its version number: 1 (libolm's, 8-byte MAC; the default)
/// or 2 (full MAC, caudata and vodozemac only).
fn config(version: Option<u32>) -> Result<SessionConfig, Error> {
    match version.unwrap_or(1) {
        1 => Ok(SessionConfig::version_1()),
        2 => Ok(SessionConfig::version_2()),
        v => Err(Error::invalid_argument(format!("unknown Olm session version {v} (1 or 2)"))),
    }
}

fn key_map<'a>(keys: impl IntoIterator<Item = (&'a olm::KeyId, &'a Curve25519PublicKey)>) -> KeyMap {
    let mut entries: Vec<(String, String)> = keys.into_iter().map(|(id, k)| (id.to_base64(), k.to_base64())).collect();
    entries.sort();
    let o = js_sys::Object::new();
    for (id, key) in entries {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(&id), &JsValue::from_str(&key));
    }
    o.unchecked_into()
}

fn key_array(keys: &[Curve25519PublicKey]) -> Array {
    keys.iter().map(|k| JsValue::from_str(&k.to_base64())).collect()
}

fn olm_message(message: &OlmMessage) -> OlmMessageJs {
    let (message_type, body) = message.to_base64_parts();
    object(&[("type", &JsValue::from(message_type as u32)), ("body", &JsValue::from_str(&body))]).unchecked_into()
}

fn parse_olm_message(message_type: u32, body: &str) -> Result<OlmMessage, Error> {
    Ok(OlmMessage::from_base64_parts(message_type as usize, body)?)
}

/// An Olm account: the Ed25519 and Curve25519 identity keys, the one-time keys and the
/// fallback key.
#[wasm_bindgen]
pub struct Account {
    pub(crate) inner: olm::Account,
}

#[wasm_bindgen]
impl Account {
    /// A new account with fresh identity keys (randomness from `crypto.getRandomValues`).
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Account {
        Account { inner: olm::Account::new() }
    }

    /// Both public identity keys, unpadded base64.
    #[wasm_bindgen(getter, js_name = identityKeys)]
    pub fn identity_keys(&self) -> IdentityKeysJs {
        object(&[
            ("ed25519", &JsValue::from_str(&self.inner.ed25519_key().to_base64())),
            ("curve25519", &JsValue::from_str(&self.inner.curve25519_key().to_base64())),
        ])
        .unchecked_into()
    }

    /// The Ed25519 signing key, unpadded base64.
    #[wasm_bindgen(getter, js_name = ed25519Key)]
    pub fn ed25519_key(&self) -> String {
        self.inner.ed25519_key().to_base64()
    }

    /// The Curve25519 identity key, unpadded base64.
    #[wasm_bindgen(getter, js_name = curve25519Key)]
    pub fn curve25519_key(&self) -> String {
        self.inner.curve25519_key().to_base64()
    }

    /// Signs `message` (a string is signed as its UTF-8 bytes) with the Ed25519 key; returns the
    /// signature in unpadded base64.
    pub fn sign(&self, message: &Plaintext) -> Result<String, Error> {
        Ok(self.inner.sign(plaintext_bytes(message)?.as_slice()).to_base64())
    }

    /// The most one-time keys the account keeps.
    #[wasm_bindgen(getter, js_name = maxNumberOfOneTimeKeys)]
    pub fn max_number_of_one_time_keys(&self) -> usize {
        self.inner.max_number_of_one_time_keys()
    }

    /// How many one-time keys are stored, published or not.
    #[wasm_bindgen(getter, js_name = storedOneTimeKeyCount)]
    pub fn stored_one_time_key_count(&self) -> usize {
        self.inner.stored_one_time_key_count()
    }

    /// Generates `count` one-time keys, evicting the oldest beyond the 5 000 kept.
    #[wasm_bindgen(js_name = generateOneTimeKeys)]
    pub fn generate_one_time_keys(&mut self, count: usize) -> OneTimeKeyGeneration {
        let result = self.inner.generate_one_time_keys(count);
        object(&[("created", &key_array(&result.created)), ("removed", &key_array(&result.removed))]).unchecked_into()
    }

    /// The unpublished one-time keys: key id → public key, both unpadded base64.
    #[wasm_bindgen(getter, js_name = oneTimeKeys)]
    pub fn one_time_keys(&self) -> KeyMap {
        key_map(&self.inner.one_time_keys())
    }

    /// Generates a new fallback key. Returns the previous-but-one fallback key, which is now
    /// forgotten, if there was one.
    #[wasm_bindgen(js_name = generateFallbackKey)]
    pub fn generate_fallback_key(&mut self) -> Option<String> {
        self.inner.generate_fallback_key().map(|k| k.to_base64())
    }

    /// The current fallback key if it is not yet published: key id → public key.
    #[wasm_bindgen(getter, js_name = fallbackKey)]
    pub fn fallback_key(&self) -> KeyMap {
        key_map(&self.inner.fallback_key())
    }

    /// Forgets the previous fallback key; returns whether there was one.
    #[wasm_bindgen(js_name = forgetFallbackKey)]
    pub fn forget_fallback_key(&mut self) -> bool {
        self.inner.forget_fallback_key()
    }

    /// Marks every one-time key and the fallback key as published.
    #[wasm_bindgen(js_name = markKeysAsPublished)]
    pub fn mark_keys_as_published(&mut self) {
        self.inner.mark_keys_as_published()
    }

    /// Removes the one-time key `key` (unpadded base64); returns whether it was there.
    #[wasm_bindgen(js_name = removeOneTimeKey)]
    pub fn remove_one_time_key(&mut self, key: &str) -> Result<bool, Error> {
        Ok(self.inner.remove_one_time_key(curve25519(key)?))
    }

    /// Starts a session with another account's Curve25519 identity key and one of its
    /// one-time or fallback keys (unpadded base64). `version` is the session configuration:
    /// 1 (default, libolm) or 2.
    #[wasm_bindgen(js_name = createOutboundSession)]
    pub fn create_outbound_session(
        &self,
        #[wasm_bindgen(js_name = identityKey)] identity_key: &str,
        #[wasm_bindgen(js_name = oneTimeKey)] one_time_key: &str,
        version: Option<u32>,
    ) -> Result<Session, Error> {
        let inner = self.inner.create_outbound_session(
            config(version)?,
            curve25519(identity_key)?,
            curve25519(one_time_key)?,
        )?;
        Ok(Session { inner })
    }

    fn inbound(
        &mut self,
        identity_key: &str,
        pre_key_message: &str,
        version: Option<u32>,
    ) -> Result<(Session, Zeroizing<Vec<u8>>), Error> {
        let message = PreKeyMessage::from_base64(pre_key_message)?;
        let result = self.inner.create_inbound_session(config(version)?, curve25519(identity_key)?, &message)?;
        Ok((Session { inner: result.session }, Zeroizing::new(result.plaintext)))
    }

    /// Creates the responder's session from a pre-key message (the base64 `body` of a type-0
    /// message) from `identityKey`, and decrypts it. The plaintext is decoded as UTF-8. The
    /// one-time key is removed once the message has decrypted; on any error the account is
    /// unchanged.
    #[wasm_bindgen(js_name = createInboundSession)]
    pub fn create_inbound_session(
        &mut self,
        #[wasm_bindgen(js_name = identityKey)] identity_key: &str,
        #[wasm_bindgen(js_name = preKeyMessage)] pre_key_message: &str,
        version: Option<u32>,
    ) -> Result<OlmInboundCreationString, Error> {
        let (session, plaintext) = self.inbound(identity_key, pre_key_message, version)?;
        Ok(object(&[("session", &session.into()), ("plaintext", &secret_to_string(plaintext))]).unchecked_into())
    }

    /// As `createInboundSession`, with the plaintext as bytes.
    #[wasm_bindgen(js_name = createInboundSessionBytes)]
    pub fn create_inbound_session_bytes(
        &mut self,
        #[wasm_bindgen(js_name = identityKey)] identity_key: &str,
        #[wasm_bindgen(js_name = preKeyMessage)] pre_key_message: &str,
        version: Option<u32>,
    ) -> Result<OlmInboundCreationBytes, Error> {
        let (session, plaintext) = self.inbound(identity_key, pre_key_message, version)?;
        Ok(object(&[("session", &session.into()), ("plaintext", &secret_to_uint8array(plaintext))]).unchecked_into())
    }
}

/// An Olm session: one end of a 1:1 double-ratchet conversation.
#[wasm_bindgen]
pub struct Session {
    pub(crate) inner: olm::Session,
}

#[wasm_bindgen]
impl Session {
    /// The session id (unpadded base64), the same on both sides.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.inner.session_id()
    }

    /// Whether this side has decrypted a message from the other (until then an initiator
    /// sends pre-key messages).
    #[wasm_bindgen(getter, js_name = hasReceivedMessage)]
    pub fn has_received_message(&self) -> bool {
        self.inner.has_received_message()
    }

    /// The session configuration's version: 1 (libolm) or 2.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> u8 {
        self.inner.session_config().version()
    }

    /// Encrypts `plaintext` (a string is encrypted as its UTF-8 bytes).
    pub fn encrypt(&mut self, plaintext: &Plaintext) -> Result<OlmMessageJs, Error> {
        let message = self.inner.encrypt(plaintext_bytes(plaintext)?.as_slice());
        Ok(olm_message(&message))
    }

    /// Decrypts a message given as Matrix carries it (`type` 0 or 1, base64 `body`) and
    /// decodes the plaintext as UTF-8. On any error the session is unchanged.
    pub fn decrypt(
        &mut self,
        #[wasm_bindgen(js_name = messageType)] message_type: u32,
        body: &str,
    ) -> Result<js_sys::JsString, Error> {
        let plaintext = Zeroizing::new(self.inner.decrypt(&parse_olm_message(message_type, body)?)?);
        Ok(secret_to_string(plaintext))
    }

    /// As `decrypt`, returning the plaintext's bytes.
    #[wasm_bindgen(js_name = decryptBytes)]
    pub fn decrypt_bytes(
        &mut self,
        #[wasm_bindgen(js_name = messageType)] message_type: u32,
        body: &str,
    ) -> Result<js_sys::Uint8Array, Error> {
        let plaintext = Zeroizing::new(self.inner.decrypt(&parse_olm_message(message_type, body)?)?);
        Ok(secret_to_uint8array(plaintext))
    }

    /// Whether a message (`type`, base64 `body`) is a pre-key message of this session.
    pub fn matches(&self, #[wasm_bindgen(js_name = messageType)] message_type: u32, body: &str) -> Result<bool, Error> {
        Ok(match parse_olm_message(message_type, body)? {
            OlmMessage::PreKey(m) => self.inner.matches(&m),
            OlmMessage::Normal(_) => false,
        })
    }
}
