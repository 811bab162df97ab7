//! Constant-time check in the style of ctgrind: every secret input is marked *undefined* with a
//! valgrind client request, so memcheck reports any conditional branch or memory index that
//! depends on it ("Conditional jump or move depends on uninitialised value(s)", "Use of
//! uninitialised value of size 8"). Results are marked defined again before they are used, which
//! is the one place a secret-derived bit (MAC valid or not) is allowed to steer control flow.
//!
//! `ctgrind check`   runs caudata's operations; must be clean under valgrind.
//! `ctgrind control` runs a deliberately leaky early-exit compare; valgrind must flag it, which
//!                   proves the harness can see a leak.
//! Run both with `benches/ctgrind/run.sh`.

use caudata::hazmat;
use caudata::primitives::{
    Curve25519PublicKey, Curve25519SecretKey, Ed25519SecretKey, RandomSource, SecretBytes, base64_decode, base64_encode,
};

/// valgrind's client-request codes (valgrind/memcheck.h).
const MAKE_MEM_UNDEFINED: u64 = 0x4D43_0001;
const MAKE_MEM_DEFINED: u64 = 0x4D43_0002;

/// Issues a client request; a no-op when not running under valgrind.
#[cfg(target_arch = "x86_64")]
fn client_request(request: u64, addr: *const u8, len: usize) {
    let args: [u64; 6] = [request, addr as u64, len as u64, 0, 0, 0];
    let mut result: u64 = 0;
    // SAFETY: the magic preamble is a sequence of rotations that leaves rdi unchanged and an
    // `xchg rbx, rbx`; outside valgrind it does nothing. valgrind reads `args` through rax.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51", "xchg rbx, rbx",
            inout("rdx") result,
            in("rax") args.as_ptr(),
            out("rdi") _,
            options(nostack),
        );
    }
    let _ = result;
}

#[cfg(not(target_arch = "x86_64"))]
fn client_request(_: u64, _: *const u8, _: usize) {
    panic!("the constant-time check runs on x86_64 only");
}

fn secret<T: ?Sized>(v: &T) {
    client_request(MAKE_MEM_UNDEFINED, (v as *const T).cast(), std::mem::size_of_val(v));
}
fn public<T: ?Sized>(v: &T) {
    client_request(MAKE_MEM_DEFINED, (v as *const T).cast(), std::mem::size_of_val(v));
}

fn check() {
    // 1. MAC verification: key and the recomputed tag are secret; the received tag is public.
    let key = std::hint::black_box([7u8; 32]);
    let msg = b"version and payload of an Olm message".to_vec();
    let good = hazmat::hmac_sha256(&key, &msg);
    let mut bad = good;
    bad[0] ^= 1;
    secret(&key);
    for tag in [&good[..8], &bad[..8], &good[..], &bad[..]] {
        let ok = hazmat::verify_hmac_sha256(&key, &msg, tag);
        public(&ok);
        std::hint::black_box(ok);
    }

    // 2. Constant-time comparison of two secrets.
    let a = std::hint::black_box([1u8; 32]);
    let mut b = std::hint::black_box([1u8; 32]);
    b[31] = 2;
    secret(&a);
    secret(&b);
    let eq = hazmat::ct_eq(&a, &b);
    public(&eq);
    std::hint::black_box(eq);
    let s1 = SecretBytes::<32>::from_slice(&a).unwrap_or_else(SecretBytes::zero);
    let s2 = SecretBytes::<32>::from_slice(&b).unwrap_or_else(SecretBytes::zero);
    secret(&s1.expose()[..]);
    secret(&s2.expose()[..]);
    let eq = s1 == s2;
    public(&eq);
    std::hint::black_box(eq);

    // 3. HKDF from a secret input (the message-key derivation).
    let ikm = std::hint::black_box([9u8; 32]);
    secret(&ikm);
    let mut okm = [0u8; 80];
    hazmat::hkdf_sha256(None, &ikm, b"OLM_KEYS", &mut okm);
    std::hint::black_box(&okm);

    // 4. AES-256-CBC encryption and decryption with a secret key and plaintext (AES-NI or the
    //    crate's bitsliced software AES: no tables). The padding check of decryption branches on
    //    the last plaintext byte; it runs only after the MAC verified, and what it reveals (the
    //    padding length) is the plaintext length, which the ciphertext length shows anyway.
    let aes_key = std::hint::black_box([3u8; 32]);
    let iv = [4u8; 16];
    let pt = std::hint::black_box([5u8; 48]);
    secret(&aes_key);
    secret(&pt);
    let ct = hazmat::aes256_cbc_encrypt(&aes_key, &iv, &pt);
    public(&ct[..]);
    std::hint::black_box(&ct);

    // 5. base64 of secrets (session keys, pickles): encoding, and decoding of unpadded text
    //    whose length is not a multiple of 4 (a session key: 229 bytes, 306 characters; a key:
    //    32 bytes, 43 characters). For lengths divisible by 4 the decoder first looks at whether
    //    the last two characters are '=': see SIDE-CHANNELS.md.
    for n in [229usize, 32] {
        let raw = std::hint::black_box(vec![0xA5u8; n]);
        secret(&raw[..]);
        let text = base64_encode(&raw);
        let bytes = text.into_bytes();
        public(&bytes.len());
        let back = base64_decode(&bytes);
        public(&back.is_ok());
        if let Ok(v) = &back {
            public(&v[..]);
        }
        std::hint::black_box(&back);
    }

    // 6. X25519 with a secret scalar (the contributory check inspects the result, which is
    //    declassified as a whole first: it is compared with zero, a public outcome).
    let mut sk = std::hint::black_box([0x42u8; 32]);
    secret(&sk);
    let s = SecretBytes::<32>::from_array(&mut sk);
    let x = Curve25519SecretKey::from_secret_bytes(&s);
    let their = Curve25519PublicKey::from_bytes([9u8; 32]);
    let shared = x.diffie_hellman(&their);
    std::hint::black_box(shared.is_ok());

    // 7. Ed25519 signing with a secret seed.
    let seed = std::hint::black_box([0x24u8; 32]);
    secret(&seed);
    let k = Ed25519SecretKey::from_seed(SecretBytes::from_slice(&seed).unwrap_or_else(SecretBytes::zero));
    let sig = k.sign(b"canonical json");
    let bytes = sig.to_bytes();
    public(&bytes[..]);
    std::hint::black_box(bytes);

    // 8. The MSC4108 ECIES channel, S's side: a secret ephemeral key, X25519 with G's public key,
    //    HKDF-SHA-512 (both channel keys and the check code, over info strings holding the
    //    base64 of S's secret-derived public key), the check code's digits, ChaCha20-Poly1305.
    let g_public = caudata::ecies::Ecies::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut Known(0x11)).public_key();
    let s = caudata::ecies::Ecies::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut Secret(0x31));
    {
        let out = s.establish_outbound_channel(g_public, b"MATRIX_QR_CODE_LOGIN_INITIATE").expect("ECIES set-up");
        let mut channel = out.ecies;
        let digits = [
            channel.check_code().to_digit(caudata::ecies::DigitMode::AllowLeadingZero),
            channel.check_code().to_digit(caudata::ecies::DigitMode::NoLeadingZero),
        ];
        public(&digits);
        std::hint::black_box(digits);
        let secret_plaintext = std::hint::black_box([0x77u8; 40]);
        secret(&secret_plaintext);
        for ct in [out.message.ciphertext, channel.encrypt(&secret_plaintext).expect("ECIES encrypt").ciphertext] {
            public(&ct[..]);
            std::hint::black_box(ct);
        }
    }

    // 9. The MSC4388 HPKE channel, S's side: RFC 9180 SetupBaseS with a secret ephemeral key
    //    (DHKEM's labeled HKDF-SHA-256, the key schedule) and Seal (the nonce XOR).
    let g_public =
        caudata::hpke::HpkeRecipientChannel::with_info_and_rng("MATRIX_QR_CODE_LOGIN", &mut Known(0x12)).public_key();
    {
        let sent = caudata::hpke::HpkeSenderChannel::new()
            .establish_channel_with_rng(g_public, b"hello", b"", &mut Secret(0x41))
            .expect("HPKE set-up");
        let ct = sent.message.ciphertext;
        public(&ct[..]);
        std::hint::black_box(ct);
    }

    // 10. Dehydrating an account (MSC3814 v2) whose identity, one-time and fallback keys and the
    //     dehydration key are secret: the plaintext encoding and ChaCha20-Poly1305.
    let mut account = caudata::olm::Account::new_with_rng(&mut Secret(0x51));
    account.generate_one_time_keys_with_rng(3, &mut Secret(0x61));
    account.generate_fallback_key_with_rng(&mut Secret(0x71));
    let key = std::hint::black_box([0x5au8; 32]);
    secret(&key);
    {
        let device = account.to_dehydrated_device_with_rng(&key, &mut Known(0x13)).expect("dehydration");
        let bytes = device.ciphertext.into_bytes();
        public(&bytes[..]);
        std::hint::black_box(bytes);
    }

    sas_and_pk();

    // 13. Sealed sender v1's cipher: AES-256-CTR and the truncated HMAC checked in constant time,
    //    with secret keys; the ciphertext (good and with a bad tag) is public; whether the tag
    //    verified is public.
    let (ck, mk) = (std::hint::black_box([0x11u8; 32]), std::hint::black_box([0x22u8; 32]));
    let sealed = hazmat::aes256_ctr_hmac_encrypt(&ck, &mk, b"sealed sender content");
    let mut tampered = sealed.clone();
    tampered[3] ^= 1;
    secret(&ck);
    secret(&mk);
    for data in [&sealed, &tampered] {
        let out = hazmat::aes256_ctr_hmac_decrypt(&ck, &mk, data);
        public(&out.is_some());
        std::hint::black_box(&out);
    }

    // 14. Sealed sender v2's cipher: AES-256-GCM-SIV decryption with a secret key (tag checked
    //    by the crate in constant time; POLYVAL with CLMUL or its constant-time software form).
    let k = std::hint::black_box([0x33u8; 32]);
    let sealed = hazmat::aes256_gcm_siv_encrypt(&k, b"sealed sender v2 content");
    let mut tampered = sealed.clone();
    tampered[0] ^= 1;
    secret(&k);
    for data in [&sealed, &tampered] {
        let out = hazmat::aes256_gcm_siv_decrypt(&k, data);
        public(&out.is_some());
        std::hint::black_box(&out);
    }

    // 15. Sealed sender v2's ephemeral key from a secret seed (HKDF, then an X25519 base-point
    //     multiplication), compared in constant time with the received key.
    let m = std::hint::black_box([0x44u8; 32]);
    secret(&m);
    let mut r = [0u8; 32];
    hazmat::hkdf_sha256(None, &m, b"Sealed Sender v2: r (2023-08)", &mut r);
    let e = Curve25519SecretKey::from_secret_bytes(&SecretBytes::from_array(&mut r)).public_key();
    let received = Curve25519PublicKey::from_bytes([0x55u8; 32]);
    let same = hazmat::ct_eq(e.as_bytes(), received.as_bytes());
    public(&same);
    std::hint::black_box(same);
}

/// Randomness marked secret (undefined) as soon as it is drawn: key material.
struct Secret(u8);
impl RandomSource for Secret {
    fn fill(&mut self, dest: &mut [u8]) {
        for (i, b) in dest.iter_mut().enumerate() {
            *b = self.0.wrapping_add(i as u8);
        }
        self.0 = self.0.wrapping_add(0x2b);
        secret(dest);
    }
}

/// Randomness that stays public: the peer's key, nonces.
struct Known(u8);
impl RandomSource for Known {
    fn fill(&mut self, dest: &mut [u8]) {
        dest.fill(self.0);
    }
}


/// 11–12: SAS (the ephemeral secrets secret; public keys and sent MACs public) and key-backup
/// decryption (the recipient's secret key secret; the message public).
fn sas_and_pk() {
    use caudata::pk_encryption::{PkDecryption, PkEncryption};
    use caudata::sas::{Mac, Sas};

    // 11. SAS: key agreement, the SAS bytes, and verification of each kind of MAC, good and bad.
    let a = Sas::new_with_rng(&mut Secret(0x31));
    let b = Sas::new_with_rng(&mut Secret(0x61));
    let (ak, bk) = (a.public_key(), b.public_key());
    public(ak.as_bytes());
    public(bk.as_bytes());
    let (Ok(a), Ok(b)) = (a.diffie_hellman(bk), b.diffie_hellman(ak)) else { panic!("contributory keys") };
    let shown = a.bytes("MATRIX_KEY_VERIFICATION_SAS|...");
    public(shown.as_bytes());
    std::hint::black_box(shown.emoji_indices());
    let (input, info) = ("ed25519 key", "MATRIX_KEY_VERIFICATION_MAC...");
    let mac = a.calculate_mac(input, info);
    public(mac.as_bytes());
    let mut bad = *mac.as_bytes();
    bad[7] ^= 4;
    for tag in [mac, Mac::from_bytes(bad)] {
        let ok = b.verify_mac(input, info, &tag).is_ok();
        public(&ok);
        std::hint::black_box(ok);
    }
    for legacy in [a.calculate_mac_invalid_base64(input, info), a.calculate_mac_long_kdf(input, info)] {
        public(legacy.as_bytes());
        let ok = b.verify_mac_invalid_base64(input, info, &legacy).is_ok()
            | b.verify_mac_long_kdf(input, info, &legacy).is_ok();
        public(&ok);
        std::hint::black_box(ok);
    }

    // 12. PK decryption of a backed-up key: good MAC (then the padding check on the
    //    plaintext), and a bad MAC.
    let dec = PkDecryption::new_with_rng(&mut Secret(0x7e));
    let their = dec.public_key();
    public(their.as_bytes());
    let Ok(enc) = PkEncryption::from_key(their) else { panic!("our own key") };
    let m = enc.encrypt_with_rng(b"{\"session_key\":\"...\"}", &mut Secret(0x13));
    public(&m.ciphertext[..]);
    public(&m.mac[..]);
    public(m.ephemeral_key.as_bytes());
    let mut wrong = m.clone();
    wrong.mac[0] ^= 1;
    for msg in [&m, &wrong] {
        let out = dec.decrypt(msg);
        let ok = out.is_ok();
        public(&ok);
        if let Ok(pt) = &out {
            public(&pt[..]);
        }
        let _ = std::hint::black_box(out);
    }
}

fn control() {
    // An early-exit comparison of a secret: valgrind must report it.
    let a = std::hint::black_box([1u8; 32]);
    let b = std::hint::black_box([1u8; 32]);
    secret(&a);
    let (a, b) = (std::hint::black_box(&a), std::hint::black_box(&b));
    let mut equal = true;
    for i in 0..32 {
        if a[i] != b[i] {
            equal = false;
            break;
        }
    }
    std::hint::black_box(equal);
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("check") => check(),
        Some("control") => control(),
        _ => {
            eprintln!("usage: ctgrind check|control");
            std::process::exit(2);
        }
    }
}
