/* caudata's libolm 3.2.16 C interface: public-key encryption and signing.
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/pk.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_PK_H_
#define OLM_PK_H_

#include <stddef.h>
#include <stdint.h>

#include "olm/error.h"
#include "olm/olm_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Encryption to a public key (key backup). */
typedef struct OlmPkEncryption OlmPkEncryption;
/** A private key that decrypts. */
typedef struct OlmPkDecryption OlmPkDecryption;
/** An Ed25519 signing key from a seed. */
typedef struct OlmPkSigning OlmPkSigning;

/** The bytes of memory an OlmPkEncryption needs. */
OLM_EXPORT size_t olm_pk_encryption_size(void);

/** Initialises a PK encryption object. */
OLM_EXPORT OlmPkEncryption *olm_pk_encryption(void * memory);

/** The name of the last error. */
OLM_EXPORT const char * olm_pk_encryption_last_error(const OlmPkEncryption * encryption);

/** The last error code. */
OLM_EXPORT enum OlmErrorCode olm_pk_encryption_last_error_code(const OlmPkEncryption * encryption);

/** Wipes the object; returns its size. */
OLM_EXPORT size_t olm_clear_pk_encryption(OlmPkEncryption *encryption);

/** Sets the recipient's public key (base64). */
OLM_EXPORT size_t olm_pk_encryption_set_recipient_key(OlmPkEncryption *encryption, void const *public_key, size_t public_key_length);

/** The length of the ciphertext of plaintext_length bytes. */
OLM_EXPORT size_t olm_pk_ciphertext_length(const OlmPkEncryption *encryption, size_t plaintext_length);

/** The length of the MAC. */
OLM_EXPORT size_t olm_pk_mac_length(const OlmPkEncryption *encryption);

/** The length of a public key in base64. */
OLM_EXPORT size_t olm_pk_key_length(void);

/** The random bytes olm_pk_encrypt needs. */
OLM_EXPORT size_t olm_pk_encrypt_random_length(const OlmPkEncryption *encryption);

/** Encrypts to the recipient key; writes ciphertext, MAC and ephemeral key (base64). */
OLM_EXPORT size_t olm_pk_encrypt(OlmPkEncryption *encryption, void const * plaintext, size_t plaintext_length, void * ciphertext, size_t ciphertext_length, void * mac, size_t mac_length, void * ephemeral_key, size_t ephemeral_key_size, const void * random, size_t random_length);

/** The bytes of memory an OlmPkDecryption needs. */
OLM_EXPORT size_t olm_pk_decryption_size(void);

/** Initialises a PK decryption object. */
OLM_EXPORT OlmPkDecryption *olm_pk_decryption(void * memory);

/** The name of the last error. */
OLM_EXPORT const char * olm_pk_decryption_last_error(const OlmPkDecryption * decryption);

/** The last error code. */
OLM_EXPORT enum OlmErrorCode olm_pk_decryption_last_error_code(const OlmPkDecryption * decryption);

/** Wipes the object; returns its size. */
OLM_EXPORT size_t olm_clear_pk_decryption(OlmPkDecryption *decryption);

/** The length of a private key. */
OLM_EXPORT size_t olm_pk_private_key_length(void);

/** The random bytes olm_pk_generate_key needs. */
OLM_EXPORT size_t olm_pk_generate_key_random_length(void);

/** Uses privkey as the private key; writes the public key (base64). */
OLM_EXPORT size_t olm_pk_key_from_private(OlmPkDecryption * decryption, void * pubkey, size_t pubkey_length, const void * privkey, size_t privkey_length);

/** As olm_pk_key_from_private, with random bytes as the key. */
OLM_EXPORT size_t olm_pk_generate_key(OlmPkDecryption * decryption, void * pubkey, size_t pubkey_length, const void * privkey, size_t privkey_length);

/** The length of the object's pickle. */
OLM_EXPORT size_t olm_pickle_pk_decryption_length(const OlmPkDecryption * decryption);

/** Writes the object's pickle under key; returns its length. */
OLM_EXPORT size_t olm_pickle_pk_decryption(OlmPkDecryption * decryption, void const * key, size_t key_length, void *pickled, size_t pickled_length);

/** Loads the object from a pickle; writes the public key if pubkey is not NULL. */
OLM_EXPORT size_t olm_unpickle_pk_decryption(OlmPkDecryption * decryption, void const * key, size_t key_length, void *pickled, size_t pickled_length, void *pubkey, size_t pubkey_length);

/** The largest plaintext of a ciphertext_length-character ciphertext. */
OLM_EXPORT size_t olm_pk_max_plaintext_length(const OlmPkDecryption * decryption, size_t ciphertext_length);

/** Decrypts a message (the ciphertext is decoded in place); returns the plaintext's length. */
OLM_EXPORT size_t olm_pk_decrypt(OlmPkDecryption * decryption, void const * ephemeral_key, size_t ephemeral_key_length, void const * mac, size_t mac_length, void * ciphertext, size_t ciphertext_length, void * plaintext, size_t max_plaintext_length);

/** Copies the private key out. */
OLM_EXPORT size_t olm_pk_get_private_key(OlmPkDecryption * decryption, void *private_key, size_t private_key_length);

/** The bytes of memory an OlmPkSigning needs. */
OLM_EXPORT size_t olm_pk_signing_size(void);

/** Initialises a signing object. */
OLM_EXPORT OlmPkSigning *olm_pk_signing(void * memory);

/** The name of the last error. */
OLM_EXPORT const char * olm_pk_signing_last_error(const OlmPkSigning * sign);

/** The last error code. */
OLM_EXPORT enum OlmErrorCode olm_pk_signing_last_error_code(const OlmPkSigning * sign);

/** Wipes the object; returns its size. */
OLM_EXPORT size_t olm_clear_pk_signing(OlmPkSigning *sign);

/** The Ed25519 key of a 32-byte seed; writes the public key (base64). */
OLM_EXPORT size_t olm_pk_signing_key_from_seed(OlmPkSigning * sign, void * pubkey, size_t pubkey_length, const void * seed, size_t seed_length);

/** The length of a seed. */
OLM_EXPORT size_t olm_pk_signing_seed_length(void);

/** The length of a public key in base64. */
OLM_EXPORT size_t olm_pk_signing_public_key_length(void);

/** The length of a signature in base64. */
OLM_EXPORT size_t olm_pk_signature_length(void);

/** Signs a message (base64 signature); returns its length. */
OLM_EXPORT size_t olm_pk_sign(OlmPkSigning *sign, uint8_t const * message, size_t message_length, uint8_t * signature, size_t signature_length);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_PK_H_ */
