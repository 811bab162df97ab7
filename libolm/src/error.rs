//! libolm's error protocol: every fallible function returns `olm_error()` (`(size_t)-1`) and
//! records an `enum OlmErrorCode` in the object, readable as a code or as libolm's string.

use core::ffi::{CStr, c_char};

use caudata::PickleError;

/// `enum OlmErrorCode`, value for value.
pub(crate) mod code {
    #[allow(dead_code)]
    pub(crate) const SUCCESS: u32 = 0;
    pub(crate) const NOT_ENOUGH_RANDOM: u32 = 1;
    pub(crate) const OUTPUT_BUFFER_TOO_SMALL: u32 = 2;
    pub(crate) const BAD_MESSAGE_VERSION: u32 = 3;
    pub(crate) const BAD_MESSAGE_FORMAT: u32 = 4;
    pub(crate) const BAD_MESSAGE_MAC: u32 = 5;
    pub(crate) const BAD_MESSAGE_KEY_ID: u32 = 6;
    pub(crate) const INVALID_BASE64: u32 = 7;
    pub(crate) const BAD_ACCOUNT_KEY: u32 = 8;
    pub(crate) const UNKNOWN_PICKLE_VERSION: u32 = 9;
    pub(crate) const CORRUPTED_PICKLE: u32 = 10;
    pub(crate) const BAD_SESSION_KEY: u32 = 11;
    pub(crate) const UNKNOWN_MESSAGE_INDEX: u32 = 12;
    pub(crate) const BAD_LEGACY_ACCOUNT_PICKLE: u32 = 13;
    pub(crate) const BAD_SIGNATURE: u32 = 14;
    pub(crate) const INPUT_BUFFER_TOO_SMALL: u32 = 15;
    pub(crate) const SAS_THEIR_KEY_NOT_SET: u32 = 16;
    pub(crate) const PICKLE_EXTRA_DATA: u32 = 17;

    /// An object used before it was given keys (`olm_create_account`, `olm_create_*_session`,
    /// `olm_init_*`, `olm_unpickle_*`, `olm_pk_key_from_private`, …). libolm would go on with
    /// all-zero keys; caudata refuses, with the code libolm uses for an unusable key.
    pub(crate) const UNINITIALISED: u32 = BAD_ACCOUNT_KEY;
    /// A key of small order (a non-contributory Diffie-Hellman) where libolm would have
    /// computed an all-zero shared secret.
    pub(crate) const NON_CONTRIBUTORY: u32 = BAD_MESSAGE_KEY_ID;
    /// A panic caught at the boundary (a bug in caudata): the state could not be used.
    pub(crate) const INTERNAL: u32 = CORRUPTED_PICKLE;
}

/// libolm's strings, in code order.
static STRINGS: [&CStr; 18] = [
    c"SUCCESS",
    c"NOT_ENOUGH_RANDOM",
    c"OUTPUT_BUFFER_TOO_SMALL",
    c"BAD_MESSAGE_VERSION",
    c"BAD_MESSAGE_FORMAT",
    c"BAD_MESSAGE_MAC",
    c"BAD_MESSAGE_KEY_ID",
    c"INVALID_BASE64",
    c"BAD_ACCOUNT_KEY",
    c"UNKNOWN_PICKLE_VERSION",
    c"CORRUPTED_PICKLE",
    c"BAD_SESSION_KEY",
    c"UNKNOWN_MESSAGE_INDEX",
    c"BAD_LEGACY_ACCOUNT_PICKLE",
    c"BAD_SIGNATURE",
    c"OLM_INPUT_BUFFER_TOO_SMALL",
    c"OLM_SAS_THEIR_KEY_NOT_SET",
    c"OLM_PICKLE_EXTRA_DATA",
];

/// The static string libolm gives for `code` ("UNKNOWN_ERROR" beyond the enum).
pub(crate) fn string(code: u32) -> *const c_char {
    STRINGS.get(code as usize).copied().unwrap_or(c"UNKNOWN_ERROR").as_ptr()
}

/// The error libolm reports for a pickle that decrypts but does not load.
pub(crate) fn pickle_code(e: &PickleError) -> u32 {
    match e {
        PickleError::Authentication | PickleError::Truncated("pickle MAC") => code::BAD_ACCOUNT_KEY,
        PickleError::Base64 => code::INVALID_BASE64,
        PickleError::UnknownVersion { .. } => code::UNKNOWN_PICKLE_VERSION,
        PickleError::LegacyVersion { .. } => code::BAD_LEGACY_ACCOUNT_PICKLE,
        PickleError::TrailingBytes => code::PICKLE_EXTRA_DATA,
        _ => code::CORRUPTED_PICKLE,
    }
}

/// `_olm_error_to_string`: libolm's name of an error code.
#[unsafe(no_mangle)]
pub extern "C" fn _olm_error_to_string(error: u32) -> *const c_char {
    string(error)
}
