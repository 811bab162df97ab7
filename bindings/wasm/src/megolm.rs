//! Megolm: outbound and inbound group sessions, compatible with libolm and vodozemac.

use caudata::megolm::{self, ExportedSessionKey, MegolmMessage, SessionConfig, SessionKey, SessionOrdering};
use js_sys::JsString;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::{
    DecryptedGroupMessageBytes, DecryptedGroupMessageString, Error, Plaintext, object, plaintext_bytes,
    secret_to_string, secret_to_uint8array,
};

/// Megolm session configuration from its version number: 1 (libolm's, 8-byte MAC; the
/// default) or 2 (full MAC).
fn config(version: Option<u32>) -> Result<SessionConfig, Error> {
    match version.unwrap_or(1) {
        1 => Ok(SessionConfig::version_1()),
        2 => Ok(SessionConfig::version_2()),
        v => Err(Error::invalid_argument(format!("unknown Megolm session version {v} (1 or 2)"))),
    }
}

/// A secret string (session key, export) copied out to JavaScript; the WebAssembly copy is
/// wiped on drop.
fn secret_string(s: Zeroizing<String>) -> JsString {
    JsValue::from_str(&s).unchecked_into()
}

/// An outbound Megolm group session: the sender's side.
#[wasm_bindgen]
pub struct GroupSession {
    pub(crate) inner: megolm::GroupSession,
}

#[wasm_bindgen]
impl GroupSession {
    /// A new session with a random ratchet and signing key. `version`: 1 (default) or 2.
    #[wasm_bindgen(constructor)]
    pub fn new(version: Option<u32>) -> Result<GroupSession, Error> {
        Ok(GroupSession { inner: megolm::GroupSession::new(config(version)?) })
    }

    /// The session id: the unpadded base64 of the session's Ed25519 key.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.inner.session_id()
    }

    /// The index the next message will have.
    #[wasm_bindgen(getter, js_name = messageIndex)]
    pub fn message_index(&self) -> u32 {
        self.inner.message_index()
    }

    /// The session configuration's version: 1 or 2.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> u8 {
        self.inner.session_config().version()
    }

    /// The signed session key at the current index (unpadded base64), to share with the room.
    /// It is a secret: whoever has it can read every message from this index on.
    #[wasm_bindgen(getter, js_name = sessionKey)]
    pub fn session_key(&self) -> JsString {
        secret_string(self.inner.session_key().to_base64())
    }

    /// Encrypts `plaintext` (a string as its UTF-8 bytes) at the current index; returns the
    /// message in unpadded base64.
    pub fn encrypt(&mut self, plaintext: &Plaintext) -> Result<String, Error> {
        Ok(self.inner.encrypt(plaintext_bytes(plaintext)?.as_slice()).to_base64())
    }
}

/// An inbound Megolm group session: a receiver's side.
#[wasm_bindgen]
pub struct InboundGroupSession {
    pub(crate) inner: megolm::InboundGroupSession,
}

#[wasm_bindgen]
impl InboundGroupSession {
    /// From a signed session key (unpadded base64, as `GroupSession.sessionKey` or libolm's
    /// `session_key()` gives it); its signature is verified. `version`: 1 (default) or 2.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = sessionKey)] session_key: &str,
        version: Option<u32>,
    ) -> Result<InboundGroupSession, Error> {
        let key = SessionKey::from_base64(session_key)?;
        Ok(InboundGroupSession { inner: megolm::InboundGroupSession::new(&key, config(version)?) })
    }

    /// From an unsigned exported session key (as `exportAt` or libolm's `export_session` give
    /// it). The result is not `signingKeyVerified`.
    #[wasm_bindgen(js_name = import)]
    pub fn import(
        #[wasm_bindgen(js_name = exportedKey)] exported_key: &str,
        version: Option<u32>,
    ) -> Result<InboundGroupSession, Error> {
        let key = ExportedSessionKey::from_base64(exported_key)?;
        Ok(InboundGroupSession { inner: megolm::InboundGroupSession::import(&key, config(version)?) })
    }

    /// The session id: the sender's Ed25519 key, unpadded base64.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.inner.session_id()
    }

    /// The first message index this session can decrypt.
    #[wasm_bindgen(getter, js_name = firstKnownIndex)]
    pub fn first_known_index(&self) -> u32 {
        self.inner.first_known_index()
    }

    /// Whether the session came from a signed session key (or was merged with one).
    #[wasm_bindgen(getter, js_name = signingKeyVerified)]
    pub fn signing_key_verified(&self) -> bool {
        self.inner.signing_key_verified()
    }

    /// The session configuration's version: 1 or 2.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> u8 {
        self.inner.session_config().version()
    }

    fn decrypt_inner(&mut self, message: &str) -> Result<(Zeroizing<Vec<u8>>, u32), Error> {
        let message = MegolmMessage::from_base64(message)?;
        let decrypted = self.inner.decrypt(&message)?;
        Ok((Zeroizing::new(decrypted.plaintext), decrypted.message_index))
    }

    /// Verifies and decrypts a message (unpadded base64); the plaintext is decoded as UTF-8.
    /// The caller tracks `(sessionId, messageIndex)` to detect replays. On any error the session
    /// is unchanged.
    pub fn decrypt(&mut self, message: &str) -> Result<DecryptedGroupMessageString, Error> {
        let (plaintext, index) = self.decrypt_inner(message)?;
        Ok(object(&[("plaintext", &secret_to_string(plaintext)), ("messageIndex", &JsValue::from(index))])
            .unchecked_into())
    }

    /// As `decrypt`, with the plaintext as bytes.
    #[wasm_bindgen(js_name = decryptBytes)]
    pub fn decrypt_bytes(&mut self, message: &str) -> Result<DecryptedGroupMessageBytes, Error> {
        let (plaintext, index) = self.decrypt_inner(message)?;
        Ok(object(&[("plaintext", &secret_to_uint8array(plaintext)), ("messageIndex", &JsValue::from(index))])
            .unchecked_into())
    }

    /// Decrypts many messages (unpadded base64) at once, e.g. a room's history: an array with,
    /// for each message in order, either `{ plaintext, messageIndex }` (plaintext as UTF-8) or
    /// the `CaudataError` that `decrypt` would have thrown for it (returned, not thrown). The
    /// results and the session's final state are those of calling `decrypt` on each message in
    /// order; the signatures are verified as a batch (see caudata's `megolm::decrypt_batch`),
    /// so a long history costs well under one verification per message.
    #[wasm_bindgen(js_name = decryptBatch, unchecked_return_type = "Array<DecryptedGroupMessage<string> | CaudataError>")]
    pub fn decrypt_batch(&mut self, messages: Vec<String>) -> js_sys::Array {
        let decoded: Vec<Result<MegolmMessage, Error>> =
            messages.iter().map(|m| MegolmMessage::from_base64(m).map_err(Error::from)).collect();
        let valid: Vec<MegolmMessage> = decoded.iter().filter_map(|m| m.as_ref().ok().cloned()).collect();
        let mut results = self.inner.decrypt_batch(&valid).into_iter();
        let out = js_sys::Array::new();
        for d in decoded {
            // One batch result per message that decoded, in order.
            let result = d.and_then(|_| {
                results.next().ok_or_else(|| Error::new("ERROR", "batch result missing"))?.map_err(Error::from)
            });
            let value: JsValue = match result {
                Ok(m) => object(&[
                    ("plaintext", &secret_to_string(Zeroizing::new(m.plaintext))),
                    ("messageIndex", &JsValue::from(m.message_index)),
                ])
                .into(),
                Err(e) => e.into(),
            };
            out.push(&value);
        }
        out
    }

    /// The session exported at `index` (unpadded base64), or `undefined` before the first known
    /// index. A secret, like the session key.
    #[wasm_bindgen(js_name = exportAt, unchecked_return_type = "string | undefined")]
    pub fn export_at(&self, index: u32) -> JsValue {
        match self.inner.export_at(index) {
            Some(key) => secret_string(key.to_base64()).into(),
            None => JsValue::UNDEFINED,
        }
    }

    /// The session exported at its first known index.
    #[wasm_bindgen(js_name = exportAtFirstKnownIndex)]
    pub fn export_at_first_known_index(&self) -> JsString {
        secret_string(self.inner.export_at_first_known_index().to_base64())
    }

    /// Whether both are copies of one session.
    pub fn connected(&self, other: &InboundGroupSession) -> bool {
        self.inner.connected(&other.inner)
    }

    /// How this copy relates to `other`: "equal", "better" (this one knows earlier messages),
    /// "worse", or "unconnected".
    #[wasm_bindgen(unchecked_return_type = "\"equal\" | \"better\" | \"worse\" | \"unconnected\"")]
    pub fn compare(&self, other: &InboundGroupSession) -> String {
        match self.inner.compare(&other.inner) {
            SessionOrdering::Equal => "equal",
            SessionOrdering::Better => "better",
            SessionOrdering::Worse => "worse",
            _ => "unconnected",
        }
        .to_owned()
    }

    /// Merges two copies of one session into a new one (the lower first index, verified if
    /// either is); `undefined` if they are not the same session.
    pub fn merge(&self, other: &InboundGroupSession) -> Option<InboundGroupSession> {
        self.inner.merge(&other.inner).map(|inner| InboundGroupSession { inner })
    }
}
