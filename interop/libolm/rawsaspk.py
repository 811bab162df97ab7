"""libolm's SAS (olm/sas.h) and PK (olm/pk.h) through the raw cffi API, in the style of
rawolm.py: every random input is an `rng(n, what) -> bytes` parameter, every byte string in and
out is `bytes` (keys, MACs and pickles are libolm's ASCII base64), and a libolm refusal raises
rawolm.OlmError with libolm's error name.

Used by interop/libolm/peer.py (the `sas_*`, `pk_*` and `pk_signing_*` commands).
"""

from _libolm import ffi, lib

from rawolm import ERROR, OlmError, _in, _random, os_rng


class _Raw:
    _size = None
    _init = None
    _last_error = None
    _clear = None

    def __init__(self):
        self._mem = ffi.new("uint8_t[]", type(self)._size())
        self.ptr = type(self)._init(self._mem)

    def _check(self, ret):
        if ret == ERROR:
            raise OlmError(ffi.string(type(self)._last_error(self.ptr)).decode())
        return ret

    def clear(self):
        if self.ptr is not None:
            type(self)._clear(self.ptr)
            self.ptr = None


def _buf(n):
    return ffi.new("uint8_t[]", max(n, 1))


def _bytes(buf, n):
    return bytes(ffi.buffer(buf, n))


class Sas(_Raw):
    _size = lib.olm_sas_size
    _init = lib.olm_sas
    _last_error = lib.olm_sas_last_error
    _clear = lib.olm_clear_sas

    @classmethod
    def create(cls, rng=os_rng):
        s = cls()
        n = lib.olm_create_sas_random_length(s.ptr)
        rbuf, _ = _random(rng, n, "olm_create_sas")
        s._check(lib.olm_create_sas(s.ptr, rbuf, n))
        return s

    def pubkey(self):
        n = lib.olm_sas_pubkey_length(self.ptr)
        out = _buf(n)
        self._check(lib.olm_sas_get_pubkey(self.ptr, out, n))
        return _bytes(out, n)

    def set_their_key(self, key):
        kbuf, klen = _in(key)
        self._check(lib.olm_sas_set_their_key(self.ptr, kbuf, klen))

    def is_their_key_set(self):
        return lib.olm_sas_is_their_key_set(self.ptr) == 1

    def generate_bytes(self, info, n):
        ibuf, ilen = _in(info)
        out = _buf(n)
        self._check(lib.olm_sas_generate_bytes(self.ptr, ibuf, ilen, out, n))
        return _bytes(out, n)

    def _mac(self, fn, message, info):
        mbuf, mlen = _in(message)
        ibuf, ilen = _in(info)
        n = lib.olm_sas_mac_length(self.ptr)
        out = _buf(n)
        self._check(fn(self.ptr, mbuf, mlen, ibuf, ilen, out, n))
        return _bytes(out, n)

    def calculate_mac(self, message, info):
        """olm_sas_calculate_mac: the in-place ("invalid") base64 of the MAC."""
        return self._mac(lib.olm_sas_calculate_mac, message, info)

    def calculate_mac_fixed_base64(self, message, info):
        return self._mac(lib.olm_sas_calculate_mac_fixed_base64, message, info)

    def calculate_mac_long_kdf(self, message, info):
        return self._mac(lib.olm_sas_calculate_mac_long_kdf, message, info)


class PkEncryption(_Raw):
    _size = lib.olm_pk_encryption_size
    _init = lib.olm_pk_encryption
    _last_error = lib.olm_pk_encryption_last_error
    _clear = lib.olm_clear_pk_encryption

    @classmethod
    def create(cls, recipient_key):
        e = cls()
        kbuf, klen = _in(recipient_key)
        e._check(lib.olm_pk_encryption_set_recipient_key(e.ptr, kbuf, klen))
        return e

    def encrypt(self, plaintext, rng=os_rng):
        """Returns (ciphertext, mac, ephemeral_key), each libolm's base64 bytes."""
        pbuf, plen = _in(plaintext)
        ct_len = lib.olm_pk_ciphertext_length(self.ptr, plen)
        mac_len = lib.olm_pk_mac_length(self.ptr)
        key_len = lib.olm_pk_key_length()
        ct, mac, key = _buf(ct_len), _buf(mac_len), _buf(key_len)
        n = lib.olm_pk_encrypt_random_length(self.ptr)
        rbuf, _ = _random(rng, n, "olm_pk_encrypt")
        self._check(lib.olm_pk_encrypt(self.ptr, pbuf, plen, ct, ct_len, mac, mac_len, key, key_len, rbuf, n))
        return _bytes(ct, ct_len), _bytes(mac, mac_len), _bytes(key, key_len)


class PkDecryption(_Raw):
    _size = lib.olm_pk_decryption_size
    _init = lib.olm_pk_decryption
    _last_error = lib.olm_pk_decryption_last_error
    _clear = lib.olm_clear_pk_decryption

    public_key = None

    @classmethod
    def from_private(cls, private):
        """olm_pk_key_from_private (olm_pk_generate_key is the same with random bytes)."""
        d = cls()
        pbuf, plen = _in(private)
        n = lib.olm_pk_key_length()
        out = _buf(n)
        d._check(lib.olm_pk_key_from_private(d.ptr, out, n, pbuf, plen))
        d.public_key = _bytes(out, n)
        return d

    @classmethod
    def generate(cls, rng=os_rng):
        return cls.from_private(rng(lib.olm_pk_private_key_length(), "olm_pk_key_from_private"))

    def private_key(self):
        n = lib.olm_pk_private_key_length()
        out = _buf(n)
        self._check(lib.olm_pk_get_private_key(self.ptr, out, n))
        return _bytes(out, n)

    def decrypt(self, ciphertext, mac, ephemeral_key):
        # libolm decodes the ciphertext in place: hand it a copy
        cbuf, clen = _in(ciphertext)
        mbuf, mlen = _in(mac)
        kbuf, klen = _in(ephemeral_key)
        n = lib.olm_pk_max_plaintext_length(self.ptr, clen)
        out = _buf(n)
        got = self._check(lib.olm_pk_decrypt(self.ptr, kbuf, klen, mbuf, mlen, cbuf, clen, out, n))
        return _bytes(out, got)

    def pickle(self, key):
        kbuf, klen = _in(key)
        n = lib.olm_pickle_pk_decryption_length(self.ptr)
        out = _buf(n)
        self._check(lib.olm_pickle_pk_decryption(self.ptr, kbuf, klen, out, n))
        return _bytes(out, n)

    @classmethod
    def unpickle(cls, pickle, key):
        d = cls()
        kbuf, klen = _in(key)
        pbuf, plen = _in(pickle)
        n = lib.olm_pk_key_length()
        out = _buf(n)
        d._check(lib.olm_unpickle_pk_decryption(d.ptr, kbuf, klen, pbuf, plen, out, n))
        d.public_key = _bytes(out, n)
        return d


class PkSigning(_Raw):
    _size = lib.olm_pk_signing_size
    _init = lib.olm_pk_signing
    _last_error = lib.olm_pk_signing_last_error
    _clear = lib.olm_clear_pk_signing

    public_key = None

    @classmethod
    def from_seed(cls, seed):
        s = cls()
        sbuf, slen = _in(seed)
        n = lib.olm_pk_signing_public_key_length()
        out = _buf(n)
        s._check(lib.olm_pk_signing_key_from_seed(s.ptr, out, n, sbuf, slen))
        s.public_key = _bytes(out, n)
        return s

    def sign(self, message):
        mbuf, mlen = _in(message)
        n = lib.olm_pk_signature_length()
        out = _buf(n)
        self._check(lib.olm_pk_sign(self.ptr, mbuf, mlen, out, n))
        return _bytes(out, n)
