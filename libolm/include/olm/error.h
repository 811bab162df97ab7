/* caudata's libolm 3.2.16 C interface: error codes.
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/error.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_ERROR_H_
#define OLM_ERROR_H_

#include "olm/olm_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Why the last call on an object returned olm_error(). */
enum OlmErrorCode {
    OLM_SUCCESS = 0,                 /**< no error */
    OLM_NOT_ENOUGH_RANDOM = 1,       /**< the random buffer is shorter than required */
    OLM_OUTPUT_BUFFER_TOO_SMALL = 2, /**< the output buffer is shorter than required */
    OLM_BAD_MESSAGE_VERSION = 3,     /**< the message's version is not supported */
    OLM_BAD_MESSAGE_FORMAT = 4,      /**< the message could not be decoded */
    OLM_BAD_MESSAGE_MAC = 5,         /**< the message could not be authenticated */
    OLM_BAD_MESSAGE_KEY_ID = 6,      /**< the message refers to an unknown or unusable key */
    OLM_INVALID_BASE64 = 7,          /**< the base64 input has an impossible length */
    OLM_BAD_ACCOUNT_KEY = 8,         /**< wrong pickle key (or an object without keys yet) */
    OLM_UNKNOWN_PICKLE_VERSION = 9,  /**< the pickle's version is not supported */
    OLM_CORRUPTED_PICKLE = 10,       /**< the pickle decrypted but could not be loaded */
    OLM_BAD_SESSION_KEY = 11,        /**< a Megolm session key of the wrong version or length */
    OLM_UNKNOWN_MESSAGE_INDEX = 12,  /**< a Megolm message from before the first known index */
    OLM_BAD_LEGACY_ACCOUNT_PICKLE = 13, /**< an account pickle of version 1, refused */
    OLM_BAD_SIGNATURE = 14,          /**< a signature does not verify */
    OLM_INPUT_BUFFER_TOO_SMALL = 15, /**< an input buffer is shorter than required */
    OLM_SAS_THEIR_KEY_NOT_SET = 16,  /**< the SAS needs the other side's key first */
    OLM_PICKLE_EXTRA_DATA = 17,      /**< the pickle has bytes after its last field */
};

/** libolm's name of an error code ("UNKNOWN_ERROR" beyond the list). */
OLM_EXPORT const char * _olm_error_to_string(enum OlmErrorCode error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_ERROR_H_ */
