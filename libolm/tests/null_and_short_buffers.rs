//! Null pointers with a non-zero length, and buffers shorter than required, get libolm's
//! error code (and `olm_error()`), never a crash; objects are unchanged by such a call.
#![allow(clippy::undocumented_unsafe_blocks)] // test code: each call follows the contract except for the null/short buffer under test

use core::ffi::c_void;
use core::ptr::{null, null_mut};

use olm::*;

const NOT_ENOUGH_RANDOM: u32 = 1;
const OUTPUT_BUFFER_TOO_SMALL: u32 = 2;
const BAD_SESSION_KEY: u32 = 11;
const INPUT_BUFFER_TOO_SMALL: u32 = 15;

/// Caller-allocated object memory (8-byte aligned, as malloc's).
fn memory(size: usize) -> Vec<u64> {
    vec![0u64; size.div_ceil(8)]
}

#[test]
fn null_and_short_buffers_give_libolms_errors() {
    let err = olm_error();
    let mut mem = memory(olm_account_size());
    let a = unsafe { olm_account(mem.as_mut_ptr().cast()) };
    let mut random = [7u8; 64];
    unsafe {
        assert_eq!(olm_create_account(a, random.as_mut_ptr().cast(), 63), err);
        assert_eq!(olm_account_last_error_code(a), NOT_ENOUGH_RANDOM);
        assert_eq!(olm_create_account(a, null_mut(), 64), err);
        assert_eq!(olm_account_last_error_code(a), NOT_ENOUGH_RANDOM);
        assert_ne!(olm_create_account(a, random.as_mut_ptr().cast(), 64), err);
    }
    let before = mem.clone();
    let mut small = [0u8; 10];
    let mut sig = [0u8; 100];
    let expect = |r: usize, code: u32| {
        assert_eq!(r, err);
        assert_eq!(unsafe { olm_account_last_error_code(a) }, code);
    };
    unsafe {
        expect(olm_account_identity_keys(a, null_mut(), 500), OUTPUT_BUFFER_TOO_SMALL);
        expect(olm_account_identity_keys(a, small.as_mut_ptr().cast(), 10), OUTPUT_BUFFER_TOO_SMALL);
        expect(olm_account_sign(a, null(), 5, small.as_mut_ptr().cast(), 10), OUTPUT_BUFFER_TOO_SMALL);
        expect(olm_account_sign(a, null(), 5, sig.as_mut_ptr().cast(), 100), INPUT_BUFFER_TOO_SMALL);
        let key = b"k".as_ptr().cast();
        expect(olm_pickle_account(a, key, 1, small.as_mut_ptr().cast(), 10), OUTPUT_BUFFER_TOO_SMALL);
        expect(olm_unpickle_account(a, null(), 0, null_mut(), 100), INPUT_BUFFER_TOO_SMALL);
    }
    // only the last error (the object header's error field) changed
    let (b, m): (&[u8], &[u8]) = unsafe {
        (
            core::slice::from_raw_parts(before.as_ptr().cast(), olm_account_size()),
            core::slice::from_raw_parts(mem.as_ptr().cast(), olm_account_size()),
        )
    };
    assert_eq!(b[..4], m[..4]);
    assert_eq!(b[8..], m[8..]);

    let mut smem = memory(olm_session_size());
    let s = unsafe { olm_session(smem.as_mut_ptr().cast()) };
    unsafe {
        assert_eq!(olm_decrypt(s, 0, null_mut(), 100, small.as_mut_ptr().cast(), 10), err);
        assert_eq!(olm_session_last_error_code(s), INPUT_BUFFER_TOO_SMALL);
        assert_eq!(olm_create_inbound_session(s, a, null_mut(), 100), err);
        assert_eq!(olm_session_last_error_code(s), INPUT_BUFFER_TOO_SMALL);
        assert_eq!(
            olm_encrypt(
                null_mut(),
                b"x".as_ptr().cast(),
                1,
                random.as_mut_ptr().cast(),
                64,
                sig.as_mut_ptr().cast(),
                100
            ),
            err
        );
        assert_eq!(olm_create_account(null_mut(), random.as_mut_ptr().cast(), 64), err);
        assert_eq!(olm_account_last_error_code(null_mut()), 0);
    }

    let mut gmem = memory(olm_inbound_group_session_size());
    let g = unsafe { olm_inbound_group_session(gmem.as_mut_ptr().cast()) };
    unsafe {
        assert_eq!(olm_init_inbound_group_session(g, null(), 200), err);
        assert_eq!(olm_inbound_group_session_last_error_code(g), BAD_SESSION_KEY);
        assert_eq!(olm_group_decrypt(g, null_mut(), 200, null_mut(), 0, null_mut()), err);
        assert_eq!(olm_inbound_group_session_last_error_code(g), INPUT_BUFFER_TOO_SMALL);
    }

    let mut dmem = memory(olm_pk_decryption_size());
    let d = unsafe { olm_pk_decryption(dmem.as_mut_ptr().cast()) };
    unsafe {
        assert_eq!(olm_pk_key_from_private(d, null_mut(), 0, null(), 32), err);
        assert_eq!(olm_pk_decryption_last_error_code(d), OUTPUT_BUFFER_TOO_SMALL);
    }

    let mut sasmem = memory(olm_sas_size());
    let sas = unsafe { olm_sas(sasmem.as_mut_ptr().cast::<c_void>()) };
    unsafe {
        assert_eq!(olm_create_sas(sas, null_mut(), 32), err);
        assert_eq!(olm_sas_last_error_code(sas), NOT_ENOUGH_RANDOM);
    }
}
