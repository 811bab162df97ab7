/* caudata's libolm 3.2.16 C interface: Megolm inbound group sessions.
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/inbound_group_session.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_INBOUND_GROUP_SESSION_H_
#define OLM_INBOUND_GROUP_SESSION_H_

#include <stddef.h>
#include <stdint.h>

#include "olm/error.h"
#include "olm/olm_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A Megolm session that decrypts a room's messages. */
typedef struct OlmInboundGroupSession OlmInboundGroupSession;

/** The bytes of memory an OlmInboundGroupSession needs. */
OLM_EXPORT size_t olm_inbound_group_session_size(void);

/** Initialises an inbound group session in memory of olm_inbound_group_session_size() bytes. */
OLM_EXPORT OlmInboundGroupSession * olm_inbound_group_session(void *memory);

/** The name of the last error. */
OLM_EXPORT const char *olm_inbound_group_session_last_error(const OlmInboundGroupSession *session);

/** The last error code. */
OLM_EXPORT enum OlmErrorCode olm_inbound_group_session_last_error_code(const OlmInboundGroupSession *session);

/** Wipes the session; returns its size. */
OLM_EXPORT size_t olm_clear_inbound_group_session(OlmInboundGroupSession *session);

/** The length of the session's pickle. */
OLM_EXPORT size_t olm_pickle_inbound_group_session_length(const OlmInboundGroupSession *session);

/** Writes the session's pickle under key; returns its length or olm_error(). */
OLM_EXPORT size_t olm_pickle_inbound_group_session(OlmInboundGroupSession *session, void const * key, size_t key_length, void * pickled, size_t pickled_length);

/** Loads the session from a pickle (the buffer is decoded in place); returns pickled_length or olm_error(). */
OLM_EXPORT size_t olm_unpickle_inbound_group_session(OlmInboundGroupSession *session, void const * key, size_t key_length, void * pickled, size_t pickled_length);

/** Starts the session from a signed session key (base64). */
OLM_EXPORT size_t olm_init_inbound_group_session(OlmInboundGroupSession *session, uint8_t const * session_key, size_t session_key_length);

/** Starts the session from an exported session key (base64). */
OLM_EXPORT size_t olm_import_inbound_group_session(OlmInboundGroupSession *session, uint8_t const * session_key, size_t session_key_length);

/** The largest plaintext a message can hold (the message is decoded in place). */
OLM_EXPORT size_t olm_group_decrypt_max_plaintext_length(OlmInboundGroupSession *session, uint8_t * message, size_t message_length);

/** Decrypts a message (decoded in place); returns the plaintext length and sets *message_index. */
OLM_EXPORT size_t olm_group_decrypt(OlmInboundGroupSession *session, uint8_t * message, size_t message_length, uint8_t * plaintext, size_t max_plaintext_length, uint32_t * message_index);

/** The length of the session id. */
OLM_EXPORT size_t olm_inbound_group_session_id_length(const OlmInboundGroupSession *session);

/** Writes the session id; returns its length. */
OLM_EXPORT size_t olm_inbound_group_session_id(OlmInboundGroupSession *session, uint8_t * id, size_t id_length);

/** The first message index the session can decrypt. */
OLM_EXPORT uint32_t olm_inbound_group_session_first_known_index(const OlmInboundGroupSession *session);

/** 1 if the session came from a signed key or has decrypted a message. */
OLM_EXPORT int olm_inbound_group_session_is_verified(const OlmInboundGroupSession *session);

/** The length of an exported session key. */
OLM_EXPORT size_t olm_export_inbound_group_session_length(const OlmInboundGroupSession *session);

/** Exports the session at message_index (base64); returns the length. */
OLM_EXPORT size_t olm_export_inbound_group_session(OlmInboundGroupSession *session, uint8_t * key, size_t key_length, uint32_t message_index);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_INBOUND_GROUP_SESSION_H_ */
