//! Benchmark only: vodozemac 0.11.1 behind the same JavaScript surface as caudata's package
//! (the subset bench.mjs uses), so that both are timed in one Node process with the same
//! compiler settings. Errors become plain strings: the benchmark never expects one.

use js_sys::{Object, Reflect, Uint8Array};
use vodozemac::megolm::{self, MegolmMessage, SessionKey};
use vodozemac::olm::{self, OlmMessage, PreKeyMessage, SessionConfig};
use vodozemac::{Curve25519PublicKey, base64_decode, base64_encode};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn bytes(value: &JsValue) -> Result<Vec<u8>, JsError> {
    if let Some(s) = value.as_string() {
        return Ok(s.into_bytes());
    }
    match value.dyn_ref::<Uint8Array>() {
        Some(a) => Ok(a.to_vec()),
        None => Err(JsError::new("plaintext must be a string or a Uint8Array")),
    }
}

fn object(entries: &[(&str, &JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in entries {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

fn key(s: &str) -> Result<Curve25519PublicKey, JsError> {
    Curve25519PublicKey::from_base64(s).map_err(err)
}

fn olm_message(m: &OlmMessage) -> JsValue {
    let (t, body) = m.to_parts();
    object(&[("type", &JsValue::from(t as u32)), ("body", &JsValue::from_str(&base64_encode(body)))]).into()
}

/// vodozemac's Olm account.
#[wasm_bindgen]
pub struct Account(olm::Account);

#[wasm_bindgen]
impl Account {
    /// A new account.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Account {
        Account(olm::Account::new())
    }

    /// The Curve25519 identity key.
    #[wasm_bindgen(getter, js_name = curve25519Key)]
    pub fn curve25519_key(&self) -> String {
        self.0.curve25519_key().to_base64()
    }

    /// Generates one-time keys.
    #[wasm_bindgen(js_name = generateOneTimeKeys)]
    pub fn generate_one_time_keys(&mut self, count: usize) {
        self.0.generate_one_time_keys(count);
    }

    /// key id → one-time key.
    #[wasm_bindgen(getter, js_name = oneTimeKeys)]
    pub fn one_time_keys(&self) -> Object {
        let o = Object::new();
        for (id, k) in self.0.one_time_keys() {
            let _ = Reflect::set(&o, &JsValue::from_str(&id.to_base64()), &JsValue::from_str(&k.to_base64()));
        }
        o
    }

    /// Marks the keys published.
    #[wasm_bindgen(js_name = markKeysAsPublished)]
    pub fn mark_keys_as_published(&mut self) {
        self.0.mark_keys_as_published();
    }

    /// An outbound session (libolm's configuration).
    #[wasm_bindgen(js_name = createOutboundSession)]
    pub fn create_outbound_session(&self, identity_key: &str, one_time_key: &str) -> Result<Session, JsError> {
        let s = self
            .0
            .create_outbound_session(SessionConfig::version_1(), key(identity_key)?, key(one_time_key)?)
            .map_err(err)?;
        Ok(Session(s))
    }

    /// `{session, plaintext}` from a pre-key message body.
    #[wasm_bindgen(js_name = createInboundSession)]
    pub fn create_inbound_session(&mut self, identity_key: &str, body: &str) -> Result<Object, JsError> {
        let m = PreKeyMessage::from_base64(body).map_err(err)?;
        let r = self.0.create_inbound_session(SessionConfig::version_1(), key(identity_key)?, &m).map_err(err)?;
        let text = String::from_utf8_lossy(&r.plaintext).into_owned();
        Ok(object(&[("session", &Session(r.session).into()), ("plaintext", &JsValue::from_str(&text))]))
    }
}

/// vodozemac's Olm session.
#[wasm_bindgen]
pub struct Session(olm::Session);

#[wasm_bindgen]
impl Session {
    /// `{type, body}`.
    pub fn encrypt(&mut self, plaintext: &JsValue) -> Result<JsValue, JsError> {
        let m = self.0.encrypt(bytes(plaintext)?).map_err(err)?;
        Ok(olm_message(&m))
    }

    /// The plaintext as a string.
    pub fn decrypt(&mut self, message_type: u32, body: &str) -> Result<String, JsError> {
        let raw = base64_decode(body).map_err(err)?;
        let m = OlmMessage::from_parts(message_type as usize, &raw).map_err(err)?;
        let p = self.0.decrypt(&m).map_err(err)?;
        Ok(String::from_utf8_lossy(&p).into_owned())
    }
}

/// vodozemac's outbound Megolm session.
#[wasm_bindgen]
pub struct GroupSession(megolm::GroupSession);

#[wasm_bindgen]
impl GroupSession {
    /// A new session (libolm's configuration).
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> GroupSession {
        GroupSession(megolm::GroupSession::new(megolm::SessionConfig::version_1()))
    }

    /// The session key.
    #[wasm_bindgen(getter, js_name = sessionKey)]
    pub fn session_key(&self) -> String {
        self.0.session_key().to_base64()
    }

    /// The message in base64.
    pub fn encrypt(&mut self, plaintext: &JsValue) -> Result<String, JsError> {
        Ok(self.0.encrypt(bytes(plaintext)?).to_base64())
    }
}

/// vodozemac's inbound Megolm session.
#[wasm_bindgen]
pub struct InboundGroupSession(megolm::InboundGroupSession);

#[wasm_bindgen]
impl InboundGroupSession {
    /// From a session key (libolm's configuration).
    #[wasm_bindgen(constructor)]
    pub fn new(session_key: &str) -> Result<InboundGroupSession, JsError> {
        let k = SessionKey::from_base64(session_key).map_err(err)?;
        Ok(InboundGroupSession(megolm::InboundGroupSession::new(&k, megolm::SessionConfig::version_1())))
    }

    /// `{plaintext, messageIndex}`.
    pub fn decrypt(&mut self, message: &str) -> Result<Object, JsError> {
        let m = MegolmMessage::from_base64(message).map_err(err)?;
        let d = self.0.decrypt(&m).map_err(err)?;
        let text = String::from_utf8_lossy(&d.plaintext).into_owned();
        Ok(object(&[("plaintext", &JsValue::from_str(&text)), ("messageIndex", &JsValue::from(d.message_index))]))
    }
}
