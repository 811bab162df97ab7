//! HPKE (RFC 9180), base mode, for the one suite MSC4388 uses:
//! KEM 0x0020 DHKEM(X25519, HKDF-SHA256), KDF 0x0001 HKDF-SHA256, AEAD 0x0003 ChaCha20-Poly1305.
//!
//! Written here from the RFC (§4 `LabeledExtract`/`LabeledExpand`, §4.1 DHKEM, §5.1 the key
//! schedule, §5.2 the AEAD context and its sequence numbers, §5.3 the exporter) and checked
//! against the RFC's Appendix A.2.1 vectors (`test-vectors/rfc9180/`). On top of it, the
//! response context of MSC4388 as vodozemac 0.11.1 builds it.
//!
//! * Diffie-Hellman refuses the all-zero result (RFC 9180 §7.1.4 requires the check for X25519):
//!   setup fails with [`KeyError::NonContributory`].
//! * Sequence numbers are 64-bit: RFC 9180's limit (2^96 − 1 messages) cannot be reached;
//!   2^64 − 1 is refused instead of wrapping (a nonce is never reused).
//! * A failed `open` does not consume a sequence number (RFC 9180 §5.2: the sequence number is
//!   incremented only after a successful open).

use super::aead::{ChaChaKey, NONCE_LEN};
use super::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use super::kdf::{HmacKey, hkdf_sha256};
use super::secret::SecretBytes;
use crate::error::KeyError;

/// `"HPKE-v1"`, the version label of every labeled KDF call.
const VERSION_LABEL: &[u8] = b"HPKE-v1";
/// `"KEM" ‖ I2OSP(0x0020, 2)`: the KEM's own suite id (RFC 9180 §4.1).
const KEM_SUITE_ID: &[u8] = b"KEM\x00\x20";
/// `"HPKE" ‖ kem_id ‖ kdf_id ‖ aead_id` (RFC 9180 §5.1).
const HPKE_SUITE_ID: &[u8] = b"HPKE\x00\x20\x00\x01\x00\x03";
/// `Nsecret`, `Nk`, `Nh`: all 32 for this suite.
const N: usize = 32;
/// `mode_base`.
const MODE_BASE: u8 = 0x00;

/// `LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm)`.
fn labeled_extract(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> SecretBytes<32> {
    HmacKey::new(salt).mac(&[VERSION_LABEL, suite_id, label, ikm])
}

/// `LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖
/// label ‖ info, L)`. Every caller asks for at most 32 bytes (one HMAC block).
fn labeled_expand(suite_id: &[u8], prk: &SecretBytes<32>, label: &[u8], info: &[u8], out: &mut [u8]) {
    debug_assert!(out.len() <= N);
    let length = (out.len() as u16).to_be_bytes();
    let block = HmacKey::new(prk.expose()).mac(&[&length, VERSION_LABEL, suite_id, label, info, &[1]]);
    out.copy_from_slice(&block.expose()[..out.len()]);
}

/// DHKEM's `ExtractAndExpand(dh, kem_context)` (RFC 9180 §4.1).
fn extract_and_expand(dh: &[u8; 32], enc: &Curve25519PublicKey, pk_r: &Curve25519PublicKey) -> SecretBytes<32> {
    let eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh);
    let mut kem_context = [0u8; 64];
    kem_context[..32].copy_from_slice(enc.as_bytes());
    kem_context[32..].copy_from_slice(pk_r.as_bytes());
    let mut shared = SecretBytes::zero();
    labeled_expand(KEM_SUITE_ID, &eae_prk, b"shared_secret", &kem_context, shared.expose_mut());
    shared
}

/// `DeriveKeyPair(ikm)` for X25519 (RFC 9180 §7.1.3): the secret key. Only the known-answer
/// tests need it (keys are otherwise drawn directly, as X25519 allows).
#[cfg(test)]
pub(crate) fn derive_key_pair(ikm: &[u8]) -> SecretBytes<32> {
    let dkp_prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm);
    let mut sk = SecretBytes::zero();
    labeled_expand(KEM_SUITE_ID, &dkp_prk, b"sk", b"", sk.expose_mut());
    sk
}

/// An HPKE AEAD context (RFC 9180 §5.2): key, base nonce, exporter secret and the sequence
/// number. The same type serves as sender (`seal`) and recipient (`open`) context; each channel
/// direction uses one context in one role only.
#[derive(Clone)]
pub(crate) struct HpkeContext {
    key: ChaChaKey,
    base_nonce: SecretBytes<NONCE_LEN>,
    exporter_secret: SecretBytes<32>,
    seq: u64,
}

/// What the key schedule derived, for the known-answer tests.
#[cfg(test)]
pub(crate) struct KeyScheduleOutput {
    pub(crate) shared_secret: SecretBytes<32>,
    pub(crate) context: HpkeContext,
}

impl HpkeContext {
    /// `KeySchedule(mode_base, shared_secret, info, "", "")` (RFC 9180 §5.1).
    fn key_schedule(shared_secret: &SecretBytes<32>, info: &[u8]) -> Self {
        let psk_id_hash = labeled_extract(HPKE_SUITE_ID, b"", b"psk_id_hash", b"");
        let info_hash = labeled_extract(HPKE_SUITE_ID, b"", b"info_hash", info);
        let mut context = [0u8; 1 + 2 * N];
        context[0] = MODE_BASE;
        context[1..1 + N].copy_from_slice(psk_id_hash.expose());
        context[1 + N..].copy_from_slice(info_hash.expose());
        let secret = labeled_extract(HPKE_SUITE_ID, shared_secret.expose(), b"secret", b"");
        let mut key = SecretBytes::zero();
        labeled_expand(HPKE_SUITE_ID, &secret, b"key", &context, key.expose_mut());
        let mut base_nonce = SecretBytes::zero();
        labeled_expand(HPKE_SUITE_ID, &secret, b"base_nonce", &context, base_nonce.expose_mut());
        let mut exporter_secret = SecretBytes::zero();
        labeled_expand(HPKE_SUITE_ID, &secret, b"exp", &context, exporter_secret.expose_mut());
        Self { key: ChaChaKey::new(key), base_nonce, exporter_secret, seq: 0 }
    }

    /// `SetupBaseS(pkR, info)` with the ephemeral key `sk_e` already drawn: returns `enc` (the
    /// ephemeral public key) and the sender context.
    ///
    /// # Errors
    /// [`KeyError::NonContributory`] when `pk_r` has small order.
    pub(crate) fn setup_base_sender(
        pk_r: &Curve25519PublicKey,
        info: &[u8],
        sk_e: &Curve25519SecretKey,
    ) -> Result<(Curve25519PublicKey, Self), KeyError> {
        let dh = sk_e.diffie_hellman(pk_r)?;
        let enc = sk_e.public_key();
        let shared = extract_and_expand(dh.expose(), &enc, pk_r);
        Ok((enc, Self::key_schedule(&shared, info)))
    }

    /// `SetupBaseR(enc, skR, info)`.
    ///
    /// # Errors
    /// [`KeyError::NonContributory`] when `enc` has small order.
    pub(crate) fn setup_base_recipient(
        enc: &Curve25519PublicKey,
        sk_r: &Curve25519SecretKey,
        info: &[u8],
    ) -> Result<Self, KeyError> {
        let dh = sk_r.diffie_hellman(enc)?;
        let shared = extract_and_expand(dh.expose(), enc, &sk_r.public_key());
        Ok(Self::key_schedule(&shared, info))
    }

    /// The recipient side with every intermediate value, for the known-answer tests.
    #[cfg(test)]
    pub(crate) fn setup_base_recipient_for_testing(
        enc: &Curve25519PublicKey,
        sk_r: &Curve25519SecretKey,
        info: &[u8],
    ) -> Result<KeyScheduleOutput, KeyError> {
        let dh = sk_r.diffie_hellman(enc)?;
        let shared_secret = extract_and_expand(dh.expose(), enc, &sk_r.public_key());
        let context = Self::key_schedule(&shared_secret, info);
        Ok(KeyScheduleOutput { shared_secret, context })
    }

    /// `ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn)`.
    fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = *self.base_nonce.expose();
        for (n, s) in nonce[NONCE_LEN - 8..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        nonce
    }

    /// `Seal(aad, pt)`; `None` when the sequence number is exhausted or the plaintext is beyond
    /// ChaCha20-Poly1305's limit. The context is unchanged on `None`.
    pub(crate) fn seal(&mut self, aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let next = self.seq.checked_add(1)?;
        let ct = self.key.seal(&self.nonce(), aad, plaintext)?;
        self.seq = next;
        Some(ct)
    }

    /// `Open(aad, ct)`; `None` when the tag does not verify or the sequence number is exhausted.
    /// The sequence number moves only on success.
    pub(crate) fn open(&mut self, aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
        let next = self.seq.checked_add(1)?;
        let mut pt = self.key.open(&self.nonce(), aad, ciphertext)?;
        self.seq = next;
        Some(core::mem::take(&mut *pt))
    }

    /// `Export(exporter_context, L)` for `L` ≤ 32.
    pub(crate) fn export(&self, exporter_context: &[u8], out: &mut [u8]) {
        labeled_expand(HPKE_SUITE_ID, &self.exporter_secret, b"sec", exporter_context, out);
    }

    /// The response context of MSC4388 (vodozemac 0.11.1's construction, in the spirit of RFC
    /// 9458 §4.4): `secret = Export(label, 32)`, `prk = HKDF-Extract(salt = enc ‖
    /// response_nonce, secret)`, `key = HKDF-Expand(prk, "key", 32)`, `base_nonce =
    /// HKDF-Expand(prk, "nonce", 12)`; a fresh context (sequence 0) whose exporter is unused
    /// (all zero).
    pub(crate) fn response_context(&self, label: &[u8], enc: &Curve25519PublicKey, response_nonce: &[u8; 32]) -> Self {
        let mut secret = SecretBytes::<32>::zero();
        self.export(label, secret.expose_mut());
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(enc.as_bytes());
        salt[32..].copy_from_slice(response_nonce);
        let mut key = SecretBytes::zero();
        hkdf_sha256(Some(&salt), secret.expose(), b"key", key.expose_mut());
        let mut base_nonce = SecretBytes::zero();
        hkdf_sha256(Some(&salt), secret.expose(), b"nonce", base_nonce.expose_mut());
        Self { key: ChaChaKey::new(key), base_nonce, exporter_secret: SecretBytes::zero(), seq: 0 }
    }

    /// The next sequence number (for tests of the limits).
    #[cfg(test)]
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Moves the sequence number (tests of the limit only).
    #[cfg(test)]
    pub(crate) fn set_seq_for_testing(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// The key, base nonce and exporter secret, for the known-answer tests.
    #[cfg(test)]
    pub(crate) fn secrets_for_testing(&self) -> ([u8; 32], [u8; 12], [u8; 32]) {
        (*self.key.expose_for_testing(), *self.base_nonce.expose(), *self.exporter_secret.expose())
    }
}

impl core::fmt::Debug for HpkeContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HpkeContext").field("seq", &self.seq).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    //! RFC 9180 Appendix A.2.1 (test-vectors/rfc9180/a2_1_base_x25519_sha256_chacha20poly1305.json).
    use super::*;

    fn v() -> serde_json::Value {
        serde_json::from_str(include_str!("../../test-vectors/rfc9180/a2_1_base_x25519_sha256_chacha20poly1305.json"))
            .unwrap()
    }
    fn h(v: &serde_json::Value) -> Vec<u8> {
        hex::decode(v.as_str().unwrap()).unwrap()
    }
    fn secret(v: &serde_json::Value) -> Curve25519SecretKey {
        Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_slice(&h(v)).unwrap())
    }

    #[test]
    fn rfc9180_a2_1_key_pairs_and_key_schedule() {
        let v = v();
        // DeriveKeyPair
        assert_eq!(derive_key_pair(&h(&v["ikmE"])).expose().to_vec(), h(&v["skEm"]));
        assert_eq!(derive_key_pair(&h(&v["ikmR"])).expose().to_vec(), h(&v["skRm"]));
        let sk_e = secret(&v["skEm"]);
        let sk_r = secret(&v["skRm"]);
        assert_eq!(sk_e.public_key().as_bytes().to_vec(), h(&v["pkEm"]));
        assert_eq!(sk_r.public_key().as_bytes().to_vec(), h(&v["pkRm"]));
        let info = h(&v["info"]);
        // sender
        let (enc, sender) = HpkeContext::setup_base_sender(&sk_r.public_key(), &info, &sk_e).unwrap();
        assert_eq!(enc.as_bytes().to_vec(), h(&v["enc"]));
        // recipient, with the intermediate values
        let out = HpkeContext::setup_base_recipient_for_testing(&enc, &sk_r, &info).unwrap();
        assert_eq!(out.shared_secret.expose().to_vec(), h(&v["shared_secret"]));
        let (key, base_nonce, exporter) = out.context.secrets_for_testing();
        assert_eq!(key.to_vec(), h(&v["key"]));
        assert_eq!(base_nonce.to_vec(), h(&v["base_nonce"]));
        assert_eq!(exporter.to_vec(), h(&v["exporter_secret"]));
        assert_eq!(sender.secrets_for_testing(), out.context.secrets_for_testing());
    }

    #[test]
    fn rfc9180_a2_1_encryptions_and_exports() {
        let v = v();
        let sk_e = secret(&v["skEm"]);
        let sk_r = secret(&v["skRm"]);
        let info = h(&v["info"]);
        let (enc, mut sender) = HpkeContext::setup_base_sender(&sk_r.public_key(), &info, &sk_e).unwrap();
        let mut recipient = HpkeContext::setup_base_recipient(&enc, &sk_r, &info).unwrap();
        let encryptions = v["encryptions"].as_array().unwrap();
        assert!(encryptions.len() >= 6);
        for e in encryptions {
            let seq = e["sequence_number"].as_u64().unwrap();
            sender.set_seq_for_testing(seq);
            recipient.set_seq_for_testing(seq);
            assert_eq!(sender.nonce().to_vec(), h(&e["nonce"]), "nonce {seq}");
            let ct = sender.seal(&h(&e["aad"]), &h(&e["pt"])).unwrap();
            assert_eq!(ct, h(&e["ct"]), "ct {seq}");
            assert_eq!(sender.seq(), seq + 1);
            // a wrong AAD fails and consumes nothing; the right one opens and moves on
            assert!(recipient.open(b"other", &ct).is_none());
            assert_eq!(recipient.seq(), seq);
            assert_eq!(recipient.open(&h(&e["aad"]), &ct).unwrap(), h(&e["pt"]), "pt {seq}");
            assert_eq!(recipient.seq(), seq + 1);
        }
        for x in v["exports"].as_array().unwrap() {
            let l = x["L"].as_u64().unwrap() as usize;
            let mut out = vec![0u8; l];
            sender.export(&h(&x["exporter_context"]), &mut out);
            assert_eq!(out, h(&x["exported_value"]));
            recipient.export(&h(&x["exporter_context"]), &mut out);
            assert_eq!(out, h(&x["exported_value"]));
        }
    }

    #[test]
    fn small_order_keys_are_refused_and_the_sequence_never_wraps() {
        let sk = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [3u8; 32]));
        for bad in [[0u8; 32], {
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        }] {
            let bad = Curve25519PublicKey::from_bytes(bad);
            assert_eq!(HpkeContext::setup_base_sender(&bad, b"", &sk).unwrap_err(), KeyError::NonContributory);
            assert_eq!(HpkeContext::setup_base_recipient(&bad, &sk, b"").unwrap_err(), KeyError::NonContributory);
        }
        let peer = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut [5u8; 32]));
        let (enc, mut s) = HpkeContext::setup_base_sender(&peer.public_key(), b"i", &sk).unwrap();
        let mut r = HpkeContext::setup_base_recipient(&enc, &peer, b"i").unwrap();
        s.set_seq_for_testing(u64::MAX - 1);
        r.set_seq_for_testing(u64::MAX - 1);
        let ct = s.seal(b"", b"last").unwrap();
        assert_eq!(r.open(b"", &ct).unwrap(), b"last");
        assert!(s.seal(b"", b"one too many").is_none());
        assert_eq!(s.seq(), u64::MAX);
        assert!(r.open(b"", &ct).is_none());
        assert_eq!(r.seq(), u64::MAX);
    }

    #[test]
    fn debug_shows_the_sequence_number_only() {
        let r = Curve25519SecretKey::new();
        let (_, mut ctx) =
            HpkeContext::setup_base_sender(&r.public_key(), b"info", &Curve25519SecretKey::new()).unwrap();
        assert_eq!(format!("{ctx:?}"), "HpkeContext { seq: 0, .. }");
        let _ = ctx.seal(b"", b"m");
        assert_eq!(format!("{ctx:?}"), "HpkeContext { seq: 1, .. }");
    }
}
