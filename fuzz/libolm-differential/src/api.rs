//! The C functions the harness calls, twice: caudata-libolm's (the Rust functions behind
//! libolm.so) and libolm 3.2.16's own (compiled by build.rs, renamed `real_*`). One table type,
//! two instances, so the harness is written once.

use core::ffi::{c_char, c_int, c_void};

use olm::{
    OlmAccount, OlmInboundGroupSession, OlmOutboundGroupSession, OlmPkDecryption, OlmPkEncryption, OlmPkSigning,
    OlmSAS, OlmSession, OlmUtility,
};

macro_rules! api {
    ($( $name:ident ( $($ty:ty),* ) -> $ret:ty ; )*) => {
        /// One implementation of libolm's C interface.
        #[allow(non_snake_case)]
        pub struct Lib {
            pub name: &'static str,
            $( pub $name: unsafe extern "C" fn($($ty),*) -> $ret, )*
        }

        mod real {
            use super::*;
            unsafe extern "C" {
                $(
                    #[link_name = concat!("real_", stringify!($name))]
                    pub fn $name($(_: $ty),*) -> $ret;
                )*
            }
        }

        /// caudata-libolm.
        pub static OURS: Lib = Lib { name: "caudata", $( $name: olm::$name, )* };
        /// libolm 3.2.16.
        pub static REAL: Lib = Lib { name: "libolm", $( $name: real::$name, )* };
    };
}

api! {
    olm_account_size() -> usize;
    olm_session_size() -> usize;
    olm_utility_size() -> usize;
    olm_account(*mut c_void) -> *mut OlmAccount;
    olm_session(*mut c_void) -> *mut OlmSession;
    olm_utility(*mut c_void) -> *mut OlmUtility;
    olm_account_last_error_code(*const OlmAccount) -> u32;
    olm_session_last_error_code(*const OlmSession) -> u32;
    olm_utility_last_error_code(*const OlmUtility) -> u32;
    olm_pickle_account_length(*const OlmAccount) -> usize;
    olm_pickle_account(*mut OlmAccount, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_unpickle_account(*mut OlmAccount, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_pickle_session_length(*const OlmSession) -> usize;
    olm_pickle_session(*mut OlmSession, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_unpickle_session(*mut OlmSession, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_create_account(*mut OlmAccount, *mut c_void, usize) -> usize;
    olm_account_identity_keys_length(*const OlmAccount) -> usize;
    olm_account_identity_keys(*mut OlmAccount, *mut c_void, usize) -> usize;
    olm_account_sign(*mut OlmAccount, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_account_one_time_keys_length(*const OlmAccount) -> usize;
    olm_account_one_time_keys(*mut OlmAccount, *mut c_void, usize) -> usize;
    olm_account_mark_keys_as_published(*mut OlmAccount) -> usize;
    olm_account_max_number_of_one_time_keys(*const OlmAccount) -> usize;
    olm_account_generate_one_time_keys(*mut OlmAccount, usize, *mut c_void, usize) -> usize;
    olm_account_generate_fallback_key(*mut OlmAccount, *mut c_void, usize) -> usize;
    olm_account_fallback_key_length(*const OlmAccount) -> usize;
    olm_account_fallback_key(*mut OlmAccount, *mut c_void, usize) -> usize;
    olm_account_unpublished_fallback_key_length(*const OlmAccount) -> usize;
    olm_account_unpublished_fallback_key(*mut OlmAccount, *mut c_void, usize) -> usize;
    olm_account_forget_old_fallback_key(*mut OlmAccount) -> ();
    olm_create_outbound_session(*mut OlmSession, *const OlmAccount, *const c_void, usize, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_create_inbound_session(*mut OlmSession, *mut OlmAccount, *mut c_void, usize) -> usize;
    olm_create_inbound_session_from(*mut OlmSession, *mut OlmAccount, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_session_id(*mut OlmSession, *mut c_void, usize) -> usize;
    olm_session_has_received_message(*const OlmSession) -> c_int;
    olm_session_describe(*mut OlmSession, *mut c_char, usize) -> ();
    olm_matches_inbound_session(*mut OlmSession, *mut c_void, usize) -> usize;
    olm_matches_inbound_session_from(*mut OlmSession, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_remove_one_time_keys(*mut OlmAccount, *mut OlmSession) -> usize;
    olm_encrypt_message_type(*const OlmSession) -> usize;
    olm_encrypt_random_length(*const OlmSession) -> usize;
    olm_encrypt_message_length(*const OlmSession, usize) -> usize;
    olm_encrypt(*mut OlmSession, *const c_void, usize, *mut c_void, usize, *mut c_void, usize) -> usize;
    olm_decrypt_max_plaintext_length(*mut OlmSession, usize, *mut c_void, usize) -> usize;
    olm_decrypt(*mut OlmSession, usize, *mut c_void, usize, *mut c_void, usize) -> usize;
    olm_sha256(*mut OlmUtility, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_ed25519_verify(*mut OlmUtility, *const c_void, usize, *const c_void, usize, *mut c_void, usize) -> usize;

    olm_outbound_group_session_size() -> usize;
    olm_outbound_group_session(*mut c_void) -> *mut OlmOutboundGroupSession;
    olm_outbound_group_session_last_error_code(*const OlmOutboundGroupSession) -> u32;
    olm_pickle_outbound_group_session_length(*const OlmOutboundGroupSession) -> usize;
    olm_pickle_outbound_group_session(*mut OlmOutboundGroupSession, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_unpickle_outbound_group_session(*mut OlmOutboundGroupSession, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_init_outbound_group_session(*mut OlmOutboundGroupSession, *mut u8, usize) -> usize;
    olm_group_encrypt_message_length(*mut OlmOutboundGroupSession, usize) -> usize;
    olm_group_encrypt(*mut OlmOutboundGroupSession, *const u8, usize, *mut u8, usize) -> usize;
    olm_outbound_group_session_id(*mut OlmOutboundGroupSession, *mut u8, usize) -> usize;
    olm_outbound_group_session_message_index(*mut OlmOutboundGroupSession) -> u32;
    olm_outbound_group_session_key(*mut OlmOutboundGroupSession, *mut u8, usize) -> usize;

    olm_inbound_group_session_size() -> usize;
    olm_inbound_group_session(*mut c_void) -> *mut OlmInboundGroupSession;
    olm_inbound_group_session_last_error_code(*const OlmInboundGroupSession) -> u32;
    olm_pickle_inbound_group_session_length(*const OlmInboundGroupSession) -> usize;
    olm_pickle_inbound_group_session(*mut OlmInboundGroupSession, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_unpickle_inbound_group_session(*mut OlmInboundGroupSession, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_init_inbound_group_session(*mut OlmInboundGroupSession, *const u8, usize) -> usize;
    olm_import_inbound_group_session(*mut OlmInboundGroupSession, *const u8, usize) -> usize;
    olm_group_decrypt_max_plaintext_length(*mut OlmInboundGroupSession, *mut u8, usize) -> usize;
    olm_group_decrypt(*mut OlmInboundGroupSession, *mut u8, usize, *mut u8, usize, *mut u32) -> usize;
    olm_inbound_group_session_id(*mut OlmInboundGroupSession, *mut u8, usize) -> usize;
    olm_inbound_group_session_first_known_index(*const OlmInboundGroupSession) -> u32;
    olm_inbound_group_session_is_verified(*const OlmInboundGroupSession) -> c_int;
    olm_export_inbound_group_session(*mut OlmInboundGroupSession, *mut u8, usize, u32) -> usize;

    olm_pk_encryption_size() -> usize;
    olm_pk_encryption(*mut c_void) -> *mut OlmPkEncryption;
    olm_pk_encryption_last_error_code(*const OlmPkEncryption) -> u32;
    olm_pk_encryption_set_recipient_key(*mut OlmPkEncryption, *const c_void, usize) -> usize;
    olm_pk_ciphertext_length(*const OlmPkEncryption, usize) -> usize;
    olm_pk_encrypt(*mut OlmPkEncryption, *const c_void, usize, *mut c_void, usize, *mut c_void, usize, *mut c_void, usize, *const c_void, usize) -> usize;
    olm_pk_decryption_size() -> usize;
    olm_pk_decryption(*mut c_void) -> *mut OlmPkDecryption;
    olm_pk_decryption_last_error_code(*const OlmPkDecryption) -> u32;
    olm_pk_key_from_private(*mut OlmPkDecryption, *mut c_void, usize, *const c_void, usize) -> usize;
    olm_pickle_pk_decryption_length(*const OlmPkDecryption) -> usize;
    olm_pickle_pk_decryption(*mut OlmPkDecryption, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_unpickle_pk_decryption(*mut OlmPkDecryption, *const c_void, usize, *mut c_void, usize, *mut c_void, usize) -> usize;
    olm_pk_max_plaintext_length(*const OlmPkDecryption, usize) -> usize;
    olm_pk_decrypt(*mut OlmPkDecryption, *const c_void, usize, *const c_void, usize, *mut c_void, usize, *mut c_void, usize) -> usize;
    olm_pk_get_private_key(*mut OlmPkDecryption, *mut c_void, usize) -> usize;
    olm_pk_signing_size() -> usize;
    olm_pk_signing(*mut c_void) -> *mut OlmPkSigning;
    olm_pk_signing_last_error_code(*const OlmPkSigning) -> u32;
    olm_pk_signing_key_from_seed(*mut OlmPkSigning, *mut c_void, usize, *const c_void, usize) -> usize;
    olm_pk_sign(*mut OlmPkSigning, *const u8, usize, *mut u8, usize) -> usize;

    olm_sas_size() -> usize;
    olm_sas(*mut c_void) -> *mut OlmSAS;
    olm_sas_last_error_code(*const OlmSAS) -> u32;
    olm_create_sas(*mut OlmSAS, *mut c_void, usize) -> usize;
    olm_sas_get_pubkey(*mut OlmSAS, *mut c_void, usize) -> usize;
    olm_sas_set_their_key(*mut OlmSAS, *mut c_void, usize) -> usize;
    olm_sas_is_their_key_set(*const OlmSAS) -> c_int;
    olm_sas_generate_bytes(*mut OlmSAS, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_sas_calculate_mac(*mut OlmSAS, *const c_void, usize, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_sas_calculate_mac_fixed_base64(*mut OlmSAS, *const c_void, usize, *const c_void, usize, *mut c_void, usize) -> usize;
    olm_sas_calculate_mac_long_kdf(*mut OlmSAS, *const c_void, usize, *const c_void, usize, *mut c_void, usize) -> usize;
}
