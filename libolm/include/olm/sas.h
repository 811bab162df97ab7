/* caudata's libolm 3.2.16 C interface: short authentication strings.
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/sas.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_SAS_H_
#define OLM_SAS_H_

#include <stddef.h>
#include <stdint.h>

#include "olm/error.h"
#include "olm/olm_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One side of an interactive verification. */
typedef struct OlmSAS OlmSAS;

/** The name of the last error. */
OLM_EXPORT const char * olm_sas_last_error(const OlmSAS * sas);

/** The last error code. */
OLM_EXPORT enum OlmErrorCode olm_sas_last_error_code(const OlmSAS * sas);

/** The bytes of memory an OlmSAS needs. */
OLM_EXPORT size_t olm_sas_size(void);

/** Initialises a SAS in memory of olm_sas_size() bytes. */
OLM_EXPORT OlmSAS * olm_sas(void * memory);

/** Wipes the SAS; returns its size. */
OLM_EXPORT size_t olm_clear_sas(OlmSAS * sas);

/** The random bytes olm_create_sas needs. */
OLM_EXPORT size_t olm_create_sas_random_length(const OlmSAS * sas);

/** Creates the ephemeral key from random bytes. */
OLM_EXPORT size_t olm_create_sas(OlmSAS * sas, void * random, size_t random_length);

/** The length of the public key in base64. */
OLM_EXPORT size_t olm_sas_pubkey_length(const OlmSAS * sas);

/** Writes our public key (base64). */
OLM_EXPORT size_t olm_sas_get_pubkey(OlmSAS * sas, void * pubkey, size_t pubkey_length);

/** Sets the other side's public key (base64, decoded in place). */
OLM_EXPORT size_t olm_sas_set_their_key(OlmSAS *sas, void * their_key, size_t their_key_length);

/** 1 once the other side's key is set. */
OLM_EXPORT int olm_sas_is_their_key_set(const OlmSAS *sas);

/** Writes output_length bytes derived from the shared secret and info. */
OLM_EXPORT size_t olm_sas_generate_bytes(OlmSAS * sas, const void * info, size_t info_length, void * output, size_t output_length);

/** The length of a MAC in base64. */
OLM_EXPORT size_t olm_sas_mac_length(const OlmSAS *sas);

/** The hkdf-hmac-sha256 MAC of input, in libolm's in-place base64. */
OLM_EXPORT size_t olm_sas_calculate_mac(OlmSAS * sas, const void * input, size_t input_length, const void * info, size_t info_length, void * mac, size_t mac_length);

/** The hkdf-hmac-sha256.v2 MAC of input, in standard base64. */
OLM_EXPORT size_t olm_sas_calculate_mac_fixed_base64(OlmSAS * sas, const void * input, size_t input_length, const void * info, size_t info_length, void * mac, size_t mac_length);

/** Old Riot's hmac-sha256 MAC (256-byte key), in libolm's in-place base64. */
OLM_EXPORT size_t olm_sas_calculate_mac_long_kdf(OlmSAS * sas, const void * input, size_t input_length, const void * info, size_t info_length, void * mac, size_t mac_length);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_SAS_H_ */
