/* caudata's libolm 3.2.16 C interface: the pickle cipher (for libolm's own tests).
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/pickle_encoding.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_PICKLE_ENCODING_H_
#define OLM_PICKLE_ENCODING_H_

#include <stddef.h>
#include <stdint.h>

#include "olm/error.h"
#include "olm/olm_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The pickle length for raw_length bytes of object state. */
OLM_EXPORT size_t _olm_enc_output_length(size_t raw_length);

/** Where in a pickle buffer the raw state goes before _olm_enc_output. */
OLM_EXPORT uint8_t *_olm_enc_output_pos(uint8_t * output, size_t raw_length);

/** Encrypts the raw state at _olm_enc_output_pos(pickle, raw_length) into pickle; returns the length. */
OLM_EXPORT size_t _olm_enc_output(uint8_t const * key, size_t key_length, uint8_t *pickle, size_t raw_length);

/** Decodes and decrypts a pickle in place; returns the raw length or olm_error(). */
OLM_EXPORT size_t _olm_enc_input(uint8_t const * key, size_t key_length, uint8_t * input, size_t b64_length, enum OlmErrorCode * last_error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_PICKLE_ENCODING_H_ */
