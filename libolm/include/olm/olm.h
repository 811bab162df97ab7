/* caudata's libolm 3.2.16 C interface: accounts, sessions, utilities.
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/olm.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_OLM_H_
#define OLM_OLM_H_

#include <stddef.h>
#include <stdint.h>

#include "olm/error.h"
#include "olm/inbound_group_session.h"
#include "olm/outbound_group_session.h"
#include "olm/olm_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The message type of a pre-key message (olm_encrypt_message_type, olm_decrypt). */
static const size_t OLM_MESSAGE_TYPE_PRE_KEY = 0;
/** The message type of a normal message. */
static const size_t OLM_MESSAGE_TYPE_MESSAGE = 1;

/** An Olm account: identity keys, one-time keys, fallback keys. */
typedef struct OlmAccount OlmAccount;
/** An Olm session with another account. */
typedef struct OlmSession OlmSession;
/** SHA-256 and Ed25519 verification. */
typedef struct OlmUtility OlmUtility;

/** Writes the version of libolm this library replaces (3.2.16). */
OLM_EXPORT void olm_get_library_version(uint8_t *major, uint8_t *minor, uint8_t *patch);

/** The bytes of memory an OlmAccount needs. */
OLM_EXPORT size_t olm_account_size(void);

/** The bytes of memory an OlmSession needs. */
OLM_EXPORT size_t olm_session_size(void);

/** The bytes of memory an OlmUtility needs. */
OLM_EXPORT size_t olm_utility_size(void);

/** Initialises an account in memory of olm_account_size() bytes. */
OLM_EXPORT OlmAccount * olm_account(void * memory);

/** Initialises a session in memory of olm_session_size() bytes. */
OLM_EXPORT OlmSession * olm_session(void * memory);

/** Initialises a utility in memory of olm_utility_size() bytes. */
OLM_EXPORT OlmUtility * olm_utility(void * memory);

/** The value returned on error, (size_t)-1. */
OLM_EXPORT size_t olm_error(void);

/** The name of the account's last error. */
OLM_EXPORT const char * olm_account_last_error(OlmAccount const * account);

/** The account's last error code. */
OLM_EXPORT enum OlmErrorCode olm_account_last_error_code(OlmAccount const * account);

/** The name of the session's last error. */
OLM_EXPORT const char * olm_session_last_error(OlmSession const * session);

/** The session's last error code. */
OLM_EXPORT enum OlmErrorCode olm_session_last_error_code(OlmSession const * session);

/** The name of the utility's last error. */
OLM_EXPORT const char * olm_utility_last_error(OlmUtility const * utility);

/** The utility's last error code. */
OLM_EXPORT enum OlmErrorCode olm_utility_last_error_code(OlmUtility const * utility);

/** Wipes the account; returns its size. */
OLM_EXPORT size_t olm_clear_account(OlmAccount * account);

/** Wipes the session; returns its size. */
OLM_EXPORT size_t olm_clear_session(OlmSession * session);

/** Resets the utility; returns its size. */
OLM_EXPORT size_t olm_clear_utility(OlmUtility * utility);

/** The length of the account's pickle. */
OLM_EXPORT size_t olm_pickle_account_length(OlmAccount const * account);

/** The length of the session's pickle. */
OLM_EXPORT size_t olm_pickle_session_length(OlmSession const * session);

/** Writes the account's pickle under key; returns its length or olm_error(). */
OLM_EXPORT size_t olm_pickle_account(OlmAccount * account, void const * key, size_t key_length, void * pickled, size_t pickled_length);

/** Writes the session's pickle under key; returns its length or olm_error(). */
OLM_EXPORT size_t olm_pickle_session(OlmSession * session, void const * key, size_t key_length, void * pickled, size_t pickled_length);

/** Loads an account from a pickle (the buffer is decoded in place); returns pickled_length or olm_error(). */
OLM_EXPORT size_t olm_unpickle_account(OlmAccount * account, void const * key, size_t key_length, void * pickled, size_t pickled_length);

/** Loads a session from a pickle (the buffer is decoded in place); returns pickled_length or olm_error(). */
OLM_EXPORT size_t olm_unpickle_session(OlmSession * session, void const * key, size_t key_length, void * pickled, size_t pickled_length);

/** The random bytes olm_create_account needs. */
OLM_EXPORT size_t olm_create_account_random_length(OlmAccount const * account);

/** Creates the account's identity keys from random bytes (which are then wiped). */
OLM_EXPORT size_t olm_create_account(OlmAccount * account, void * random, size_t random_length);

/** The length of the identity keys JSON. */
OLM_EXPORT size_t olm_account_identity_keys_length(OlmAccount const * account);

/** Writes the identity keys as JSON; returns the length. */
OLM_EXPORT size_t olm_account_identity_keys(OlmAccount * account, void * identity_keys, size_t identity_key_length);

/** The length of an account signature. */
OLM_EXPORT size_t olm_account_signature_length(OlmAccount const * account);

/** Signs a message with the account's Ed25519 key (base64); returns the length. */
OLM_EXPORT size_t olm_account_sign(OlmAccount * account, void const * message, size_t message_length, void * signature, size_t signature_length);

/** The length of the one-time keys JSON. */
OLM_EXPORT size_t olm_account_one_time_keys_length(OlmAccount const * account);

/** Writes the unpublished one-time keys as JSON; returns the length. */
OLM_EXPORT size_t olm_account_one_time_keys(OlmAccount * account, void * one_time_keys, size_t one_time_keys_length);

/** Marks the one-time keys and the fallback key published; returns how many one-time keys. */
OLM_EXPORT size_t olm_account_mark_keys_as_published(OlmAccount * account);

/** The most one-time keys the account keeps (100). */
OLM_EXPORT size_t olm_account_max_number_of_one_time_keys(OlmAccount const * account);

/** The random bytes olm_account_generate_one_time_keys needs. */
OLM_EXPORT size_t olm_account_generate_one_time_keys_random_length(OlmAccount const * account, size_t number_of_keys);

/** Generates one-time keys from random bytes (which are then wiped). */
OLM_EXPORT size_t olm_account_generate_one_time_keys(OlmAccount * account, size_t number_of_keys, void * random, size_t random_length);

/** The random bytes olm_account_generate_fallback_key needs. */
OLM_EXPORT size_t olm_account_generate_fallback_key_random_length(OlmAccount const * account);

/** Generates a new fallback key from random bytes (which are then wiped). */
OLM_EXPORT size_t olm_account_generate_fallback_key(OlmAccount * account, void * random, size_t random_length);

/** The length of the fallback key JSON. */
OLM_EXPORT size_t olm_account_fallback_key_length(OlmAccount const * account);

/** Writes the current fallback key as JSON; returns the length. */
OLM_EXPORT size_t olm_account_fallback_key(OlmAccount * account, void * fallback_key, size_t fallback_key_size);

/** The length of the unpublished fallback key JSON. */
OLM_EXPORT size_t olm_account_unpublished_fallback_key_length(OlmAccount const * account);

/** Writes the fallback key as JSON if not yet published; returns the length. */
OLM_EXPORT size_t olm_account_unpublished_fallback_key(OlmAccount * account, void * fallback_key, size_t fallback_key_size);

/** Forgets the previous fallback key. */
OLM_EXPORT void olm_account_forget_old_fallback_key(OlmAccount * account);

/** The random bytes olm_create_outbound_session needs. */
OLM_EXPORT size_t olm_create_outbound_session_random_length(OlmSession const * session);

/** Starts a session with another account's identity and one-time keys (base64). */
OLM_EXPORT size_t olm_create_outbound_session(OlmSession * session, OlmAccount const * account, void const * their_identity_key, size_t their_identity_key_length, void const * their_one_time_key, size_t their_one_time_key_length, void * random, size_t random_length);

/** Starts the responder's session from a pre-key message (decoded in place). */
OLM_EXPORT size_t olm_create_inbound_session(OlmSession * session, OlmAccount * account, void * one_time_key_message, size_t message_length);

/** As olm_create_inbound_session, requiring the sender's identity key. */
OLM_EXPORT size_t olm_create_inbound_session_from(OlmSession * session, OlmAccount * account, void const * their_identity_key, size_t their_identity_key_length, void * one_time_key_message, size_t message_length);

/** The length of the session id. */
OLM_EXPORT size_t olm_session_id_length(OlmSession const * session);

/** Writes the session id; returns its length. */
OLM_EXPORT size_t olm_session_id(OlmSession * session, void * id, size_t id_length);

/** 1 once the session has decrypted a message. */
OLM_EXPORT int olm_session_has_received_message(OlmSession const *session);

/** Writes a description of the session's chains (for logs), cut to buflen. */
OLM_EXPORT void olm_session_describe(OlmSession * session, char *buf, size_t buflen);

/** 1 if the pre-key message (decoded in place) belongs to the session, else 0. */
OLM_EXPORT size_t olm_matches_inbound_session(OlmSession * session, void * one_time_key_message, size_t message_length);

/** As olm_matches_inbound_session, also checking the sender's identity key. */
OLM_EXPORT size_t olm_matches_inbound_session_from(OlmSession * session, void const * their_identity_key, size_t their_identity_key_length, void * one_time_key_message, size_t message_length);

/** Removes the one-time key the session used from the account. */
OLM_EXPORT size_t olm_remove_one_time_keys(OlmAccount * account, OlmSession * session);

/** The type of the next message: 0 pre-key, 1 normal. */
OLM_EXPORT size_t olm_encrypt_message_type(OlmSession const * session);

/** The random bytes the next olm_encrypt needs. */
OLM_EXPORT size_t olm_encrypt_random_length(OlmSession const * session);

/** The length of the next message of plaintext_length bytes. */
OLM_EXPORT size_t olm_encrypt_message_length(OlmSession const * session, size_t plaintext_length);

/** Encrypts a message (base64); returns its length. The random bytes are wiped. */
OLM_EXPORT size_t olm_encrypt(OlmSession * session, void const * plaintext, size_t plaintext_length, void * random, size_t random_length, void * message, size_t message_length);

/** The largest plaintext a message can hold (the message is decoded in place). */
OLM_EXPORT size_t olm_decrypt_max_plaintext_length(OlmSession * session, size_t message_type, void * message, size_t message_length);

/** Decrypts a message (decoded in place); returns the plaintext's length. */
OLM_EXPORT size_t olm_decrypt(OlmSession * session, size_t message_type, void * message, size_t message_length, void * plaintext, size_t max_plaintext_length);

/** The length of a SHA-256 hash in base64. */
OLM_EXPORT size_t olm_sha256_length(OlmUtility const * utility);

/** Writes the SHA-256 of input in base64; returns the length. */
OLM_EXPORT size_t olm_sha256(OlmUtility * utility, void const * input, size_t input_length, void * output, size_t output_length);

/** 0 if the signature (base64, decoded in place) verifies, else olm_error(). */
OLM_EXPORT size_t olm_ed25519_verify(OlmUtility * utility, void const * key, size_t key_length, void const * message, size_t message_length, void * signature, size_t signature_length);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_OLM_H_ */
