//! The length functions take any `size_t` from C: they answer as libolm's wrapping `size_t`
//! arithmetic does, and never panic (a panic in an `extern "C"` function aborts the process;
//! these tests run with overflow checks on, so an unchecked `+` here would abort them).

use olm::*;

const HUGE: [usize; 6] =
    [usize::MAX, usize::MAX - 1, usize::MAX - 20, usize::MAX / 3 * 2, usize::MAX / 4 * 3 + 5, 1 << 63];

/// libolm's `_olm_encode_base64_length`, in wrapping arithmetic.
fn libolm_b64(n: usize) -> usize {
    let m = n.wrapping_add(2);
    4usize.wrapping_mul(m / 3).wrapping_add(m % 3).wrapping_sub(2)
}

#[test]
fn lengths_for_any_size_t_wrap_as_libolm_does() {
    for n in HUGE {
        let cbc = n.wrapping_add(16 - n % 16);
        assert_eq!(_olm_crypto_aes_encrypt_cbc_length(n), cbc);
        assert_eq!(olm_pk_ciphertext_length(core::ptr::null(), n), libolm_b64(cbc));
        assert_eq!(_olm_enc_output_length(n), libolm_b64(cbc.wrapping_add(8)));
        assert_eq!(olm_account_generate_one_time_keys_random_length(core::ptr::null(), n), n.wrapping_mul(32));
        let _ = olm_pk_max_plaintext_length(core::ptr::null(), n);
        let base = 0x1000 as *mut u8;
        // SAFETY: the pointer is only offset (wrapping), never dereferenced.
        let pos = unsafe { _olm_enc_output_pos(base, n) };
        let sealed = cbc.wrapping_add(8);
        assert_eq!(pos as usize, 0x1000usize.wrapping_add(libolm_b64(sealed).wrapping_sub(sealed)));
    }
}

#[test]
fn base64_length_matches_the_core_where_it_does_not_overflow() {
    for n in (0..5000).chain([usize::MAX / 4 - 1, usize::MAX / 8]) {
        assert_eq!(libolm_b64(n), caudata::hazmat::libolm_base64_encoded_length(n), "{n}");
        assert_eq!(olm_pk_ciphertext_length(core::ptr::null(), n / 2), libolm_b64(n / 2 + 16 - (n / 2) % 16));
    }
}
