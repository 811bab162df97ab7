/* caudata's libolm 3.2.16 C interface: the primitives libolm exports for its unit tests (applications should not use them).
 *
 * Part of caudata-libolm (caudata's libolm/ directory): the functions, types and ABI of
 * libolm 3.2.16's <olm/crypto.h>, implemented on caudata. Apache-2.0. */
#ifndef OLM_CRYPTO_H_
#define OLM_CRYPTO_H_

#include <stddef.h>
#include <stdint.h>

#include "olm/olm_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHA256_OUTPUT_LENGTH 32
#define CURVE25519_KEY_LENGTH 32
#define CURVE25519_SHARED_SECRET_LENGTH 32
#define CURVE25519_RANDOM_LENGTH CURVE25519_KEY_LENGTH
#define ED25519_PUBLIC_KEY_LENGTH 32
#define ED25519_PRIVATE_KEY_LENGTH 64
#define ED25519_RANDOM_LENGTH 32
#define ED25519_SIGNATURE_LENGTH 64
#define AES256_KEY_LENGTH 32
#define AES256_IV_LENGTH 16

/** An AES-256 key. */
struct _olm_aes256_key { uint8_t key[AES256_KEY_LENGTH]; };
/** An AES-CBC IV. */
struct _olm_aes256_iv { uint8_t iv[AES256_IV_LENGTH]; };
/** A Curve25519 public key. */
struct _olm_curve25519_public_key { uint8_t public_key[CURVE25519_KEY_LENGTH]; };
/** A Curve25519 private key. */
struct _olm_curve25519_private_key { uint8_t private_key[CURVE25519_KEY_LENGTH]; };
/** A Curve25519 key pair. */
struct _olm_curve25519_key_pair {
    struct _olm_curve25519_public_key public_key;
    struct _olm_curve25519_private_key private_key;
};
/** An Ed25519 public key. */
struct _olm_ed25519_public_key { uint8_t public_key[ED25519_PUBLIC_KEY_LENGTH]; };
/** An Ed25519 expanded private key. */
struct _olm_ed25519_private_key { uint8_t private_key[ED25519_PRIVATE_KEY_LENGTH]; };
/** An Ed25519 key pair. */
struct _olm_ed25519_key_pair {
    struct _olm_ed25519_public_key public_key;
    struct _olm_ed25519_private_key private_key;
};

/** The AES-256-CBC ciphertext length of input_length bytes. */
OLM_EXPORT size_t _olm_crypto_aes_encrypt_cbc_length(size_t input_length);

/** AES-256-CBC with PKCS#7 padding. */
OLM_EXPORT void _olm_crypto_aes_encrypt_cbc(const struct _olm_aes256_key *key, const struct _olm_aes256_iv *iv, const uint8_t *input, size_t input_length, uint8_t *output);

/** AES-256-CBC decryption; the plaintext length or (size_t)-1. */
OLM_EXPORT size_t _olm_crypto_aes_decrypt_cbc(const struct _olm_aes256_key *key, const struct _olm_aes256_iv *iv, uint8_t const * input, size_t input_length, uint8_t * output);

/** SHA-256 (32 bytes). */
OLM_EXPORT void _olm_crypto_sha256(uint8_t const * input, size_t input_length, uint8_t * output);

/** HMAC-SHA-256 (32 bytes). */
OLM_EXPORT void _olm_crypto_hmac_sha256(uint8_t const * key, size_t key_length, uint8_t const * input, size_t input_length, uint8_t * output);

/** HKDF-SHA-256; a NULL salt means 32 zero bytes. */
OLM_EXPORT void _olm_crypto_hkdf_sha256(uint8_t const * input, size_t input_length, uint8_t const * salt, size_t salt_length, uint8_t const * info, size_t info_length, uint8_t * output, size_t output_length);

/** The Curve25519 key pair whose private key is the 32 random bytes. */
OLM_EXPORT void _olm_crypto_curve25519_generate_key(uint8_t const * random_32_bytes, struct _olm_curve25519_key_pair *output);

/** X25519 (32 zero bytes for a key of small order). */
OLM_EXPORT void _olm_crypto_curve25519_shared_secret(const struct _olm_curve25519_key_pair *our_key, const struct _olm_curve25519_public_key *their_key, uint8_t * output);

/** The Ed25519 key pair of a 32-byte seed. */
OLM_EXPORT void _olm_crypto_ed25519_generate_key(uint8_t const * random_bytes, struct _olm_ed25519_key_pair *output);

/** An Ed25519 signature (64 bytes). */
OLM_EXPORT void _olm_crypto_ed25519_sign(const struct _olm_ed25519_key_pair *our_key, const uint8_t * message, size_t message_length, uint8_t * output);

/** Non-zero if the signature verifies (strict Ed25519). */
OLM_EXPORT int _olm_crypto_ed25519_verify(const struct _olm_ed25519_public_key *their_key, const uint8_t * message, size_t message_length, const uint8_t * signature);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OLM_CRYPTO_H_ */
