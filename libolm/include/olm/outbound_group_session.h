/* caudata's libolm 3.2.16 C interface: Megolm outbound group sessions.
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/outbound_group_session.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_OUTBOUND_GROUP_SESSION_H_
#define OLM_OUTBOUND_GROUP_SESSION_H_

#include <stddef.h>
#include <stdint.h>

#include "olm/error.h"
#include "olm/olm_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A Megolm session that encrypts a sender's room messages. */
typedef struct OlmOutboundGroupSession OlmOutboundGroupSession;

/** The bytes of memory an OlmOutboundGroupSession needs. */
OLM_EXPORT size_t olm_outbound_group_session_size(void);

/** Initialises an outbound group session in memory of olm_outbound_group_session_size() bytes. */
OLM_EXPORT OlmOutboundGroupSession * olm_outbound_group_session(void *memory);

/** The name of the last error. */
OLM_EXPORT const char *olm_outbound_group_session_last_error(const OlmOutboundGroupSession *session);

/** The last error code. */
OLM_EXPORT enum OlmErrorCode olm_outbound_group_session_last_error_code(const OlmOutboundGroupSession *session);

/** Wipes the session; returns its size. */
OLM_EXPORT size_t olm_clear_outbound_group_session(OlmOutboundGroupSession *session);

/** The length of the session's pickle. */
OLM_EXPORT size_t olm_pickle_outbound_group_session_length(const OlmOutboundGroupSession *session);

/** Writes the session's pickle under key; returns its length or olm_error(). */
OLM_EXPORT size_t olm_pickle_outbound_group_session(OlmOutboundGroupSession *session, void const * key, size_t key_length, void * pickled, size_t pickled_length);

/** Loads the session from a pickle (decoded in place); returns pickled_length or olm_error(). */
OLM_EXPORT size_t olm_unpickle_outbound_group_session(OlmOutboundGroupSession *session, void const * key, size_t key_length, void * pickled, size_t pickled_length);

/** The random bytes olm_init_outbound_group_session needs. */
OLM_EXPORT size_t olm_init_outbound_group_session_random_length(const OlmOutboundGroupSession *session);

/** Starts a new session from random bytes (which are then wiped). */
OLM_EXPORT size_t olm_init_outbound_group_session(OlmOutboundGroupSession *session, uint8_t *random, size_t random_length);

/** The length of the next message of plaintext_length bytes. */
OLM_EXPORT size_t olm_group_encrypt_message_length(OlmOutboundGroupSession *session, size_t plaintext_length);

/** Encrypts and signs a message (base64); returns its length. */
OLM_EXPORT size_t olm_group_encrypt(OlmOutboundGroupSession *session, uint8_t const * plaintext, size_t plaintext_length, uint8_t * message, size_t message_length);

/** The length of the session id. */
OLM_EXPORT size_t olm_outbound_group_session_id_length(const OlmOutboundGroupSession *session);

/** Writes the session id; returns its length. */
OLM_EXPORT size_t olm_outbound_group_session_id(OlmOutboundGroupSession *session, uint8_t * id, size_t id_length);

/** The index of the next message. */
OLM_EXPORT uint32_t olm_outbound_group_session_message_index(OlmOutboundGroupSession *session);

/** The length of the session key. */
OLM_EXPORT size_t olm_outbound_group_session_key_length(const OlmOutboundGroupSession *session);

/** Writes the signed session key at the current index (base64); returns its length. */
OLM_EXPORT size_t olm_outbound_group_session_key(OlmOutboundGroupSession *session, uint8_t * key, size_t key_length);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_OUTBOUND_GROUP_SESSION_H_ */
