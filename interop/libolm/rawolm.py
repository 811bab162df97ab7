"""Thin wrapper over libolm's raw C API as exposed by python-olm's cffi module `_libolm`.

Used by interop/libolm/peer.py (live peer, OS randomness) and by
test-vectors/libolm/generate.py (known-answer vectors, recorded randomness).

Why the raw API rather than python-olm's classes: the high-level API turns plaintexts
into `str` (decrypt decodes UTF-8 with errors="replace", so binary data is lost),
takes pickle passphrases as `str`, and draws its randomness from os.urandom itself.
Every function that needs randomness here takes an `rng(n, what) -> bytes` callable
instead, so a caller can make libolm fully deterministic and record what it consumed.

Conventions: keys, messages and pickles are the `str` libolm produces (unpadded base64);
plaintexts and pickle keys are `bytes`.
"""

import json
import os

from _libolm import ffi, lib

ERROR = lib.olm_error()


class OlmError(Exception):
    """A libolm call returned olm_error(); str(e) is libolm's error name, e.g. BAD_MESSAGE_MAC."""


def os_rng(n, what=None):
    return os.urandom(n)


def library_version():
    v = ffi.new("uint8_t[3]")
    lib.olm_get_library_version(v, v + 1, v + 2)
    return "%d.%d.%d" % (v[0], v[1], v[2])


def _in(data):
    """A fresh mutable C copy of `data` (libolm destroys several of its inputs)."""
    if isinstance(data, str):
        data = data.encode("ascii")
    buf = ffi.new("uint8_t[]", max(len(data), 1))
    ffi.memmove(buf, data, len(data))
    return buf, len(data)


def _random(rng, n, what):
    if n == 0:
        return ffi.NULL, b""
    data = rng(n, what)
    if len(data) != n:
        raise ValueError("rng returned %d bytes, %d wanted" % (len(data), n))
    buf, _ = _in(data)
    return buf, data


class _Obj:
    _size = None  # libolm size function
    _init = None  # libolm init-in-memory function
    _last_error = None
    _clear = None

    def __init__(self):
        self._mem = ffi.new("uint8_t[]", type(self)._size())
        self.ptr = type(self)._init(self._mem)

    def _check(self, ret):
        if ret == ERROR:
            raise OlmError(ffi.string(type(self)._last_error(self.ptr)).decode())
        return ret

    def _out(self, length_fn, fill_fn, *args):
        n = length_fn(self.ptr)
        out = ffi.new("uint8_t[]", max(n, 1))
        self._check(fill_fn(self.ptr, *args, out, n))
        return bytes(ffi.buffer(out, n))

    def clear(self):
        if self.ptr is not None:
            type(self)._clear(self.ptr)
            self.ptr = None

    def _pickle(self, length_fn, pickle_fn, key):
        kbuf, klen = _in(key)
        n = length_fn(self.ptr)
        out = ffi.new("uint8_t[]", n)
        self._check(pickle_fn(self.ptr, kbuf, klen, out, n))
        return bytes(ffi.buffer(out, n)).decode("ascii")

    @classmethod
    def _unpickle(cls, unpickle_fn, pickle, key):
        obj = cls()
        kbuf, klen = _in(key)
        pbuf, plen = _in(pickle)
        obj._check(unpickle_fn(obj.ptr, kbuf, klen, pbuf, plen))
        return obj


class Account(_Obj):
    _size = lib.olm_account_size
    _init = lib.olm_account
    _last_error = lib.olm_account_last_error
    _clear = lib.olm_clear_account

    @classmethod
    def create(cls, rng=os_rng):
        acc = cls()
        rbuf, _ = _random(rng, lib.olm_create_account_random_length(acc.ptr), "olm_create_account")
        acc._check(lib.olm_create_account(acc.ptr, rbuf, lib.olm_create_account_random_length(acc.ptr)))
        return acc

    def identity_keys(self):
        return json.loads(self._out(lib.olm_account_identity_keys_length, lib.olm_account_identity_keys))

    def sign(self, message):
        mbuf, mlen = _in(message)
        n = lib.olm_account_signature_length(self.ptr)
        out = ffi.new("uint8_t[]", n)
        self._check(lib.olm_account_sign(self.ptr, mbuf, mlen, out, n))
        return bytes(ffi.buffer(out, n)).decode("ascii")

    def one_time_keys(self):
        """{key_id: public_key} of the unpublished one-time keys."""
        raw = self._out(lib.olm_account_one_time_keys_length, lib.olm_account_one_time_keys)
        return json.loads(raw).get("curve25519", {})

    def mark_keys_as_published(self):
        return self._check(lib.olm_account_mark_keys_as_published(self.ptr))

    def max_number_of_one_time_keys(self):
        return lib.olm_account_max_number_of_one_time_keys(self.ptr)

    def generate_one_time_keys(self, count, rng=os_rng):
        n = lib.olm_account_generate_one_time_keys_random_length(self.ptr, count)
        rbuf, _ = _random(rng, n, "olm_account_generate_one_time_keys(%d)" % count)
        return self._check(lib.olm_account_generate_one_time_keys(self.ptr, count, rbuf, n))

    def generate_fallback_key(self, rng=os_rng):
        n = lib.olm_account_generate_fallback_key_random_length(self.ptr)
        rbuf, _ = _random(rng, n, "olm_account_generate_fallback_key")
        return self._check(lib.olm_account_generate_fallback_key(self.ptr, rbuf, n))

    def unpublished_fallback_key(self):
        raw = self._out(lib.olm_account_unpublished_fallback_key_length,
                        lib.olm_account_unpublished_fallback_key)
        return json.loads(raw).get("curve25519", {})

    def fallback_key(self):
        """olm_account_fallback_key (deprecated in libolm): the current fallback key, published or not."""
        raw = self._out(lib.olm_account_fallback_key_length, lib.olm_account_fallback_key)
        return json.loads(raw).get("curve25519", {})

    def forget_old_fallback_key(self):
        lib.olm_account_forget_old_fallback_key(self.ptr)

    def remove_one_time_keys(self, session):
        return self._check(lib.olm_remove_one_time_keys(self.ptr, session.ptr))

    def pickle(self, key=b""):
        return self._pickle(lib.olm_pickle_account_length, lib.olm_pickle_account, key)

    @classmethod
    def unpickle(cls, pickle, key=b""):
        return cls._unpickle(lib.olm_unpickle_account, pickle, key)


class Session(_Obj):
    _size = lib.olm_session_size
    _init = lib.olm_session
    _last_error = lib.olm_session_last_error
    _clear = lib.olm_clear_session

    @classmethod
    def outbound(cls, account, their_identity_key, their_one_time_key, rng=os_rng):
        s = cls()
        ik, iklen = _in(their_identity_key)
        otk, otklen = _in(their_one_time_key)
        n = lib.olm_create_outbound_session_random_length(s.ptr)
        rbuf, _ = _random(rng, n, "olm_create_outbound_session")
        s._check(lib.olm_create_outbound_session(s.ptr, account.ptr, ik, iklen, otk, otklen, rbuf, n))
        return s

    @classmethod
    def inbound(cls, account, prekey_body, their_identity_key=None):
        """From a type-0 message body; does not decrypt it, does not remove the one-time key."""
        s = cls()
        mbuf, mlen = _in(prekey_body)
        if their_identity_key is None:
            s._check(lib.olm_create_inbound_session(s.ptr, account.ptr, mbuf, mlen))
        else:
            ik, iklen = _in(their_identity_key)
            s._check(lib.olm_create_inbound_session_from(s.ptr, account.ptr, ik, iklen, mbuf, mlen))
        return s

    def session_id(self):
        return self._out(lib.olm_session_id_length, lib.olm_session_id).decode("ascii")

    def has_received_message(self):
        return bool(lib.olm_session_has_received_message(self.ptr))

    def matches_inbound(self, prekey_body, their_identity_key=None):
        mbuf, mlen = _in(prekey_body)
        if their_identity_key is None:
            r = self._check(lib.olm_matches_inbound_session(self.ptr, mbuf, mlen))
        else:
            ik, iklen = _in(their_identity_key)
            r = self._check(lib.olm_matches_inbound_session_from(self.ptr, ik, iklen, mbuf, mlen))
        return bool(r)

    def describe(self):
        buf = ffi.new("char[]", 600)
        lib.olm_session_describe(self.ptr, buf, 600)
        return ffi.string(buf).decode()

    def encrypt_random_length(self):
        return lib.olm_encrypt_random_length(self.ptr)

    def encrypt(self, plaintext, rng=os_rng):
        """Returns (message_type, body)."""
        mtype = self._check(lib.olm_encrypt_message_type(self.ptr))
        pbuf, plen = _in(plaintext)
        n = lib.olm_encrypt_random_length(self.ptr)
        rbuf, _ = _random(rng, n, "olm_encrypt")
        outlen = lib.olm_encrypt_message_length(self.ptr, plen)
        out = ffi.new("uint8_t[]", outlen)
        written = self._check(lib.olm_encrypt(self.ptr, pbuf, plen, rbuf, n, out, outlen))
        return int(mtype), bytes(ffi.buffer(out, written)).decode("ascii")

    def decrypt(self, message_type, body):
        mbuf, mlen = _in(body)  # olm_decrypt_max_plaintext_length destroys its input
        maxlen = self._check(lib.olm_decrypt_max_plaintext_length(self.ptr, message_type, mbuf, mlen))
        mbuf, mlen = _in(body)
        out = ffi.new("uint8_t[]", max(maxlen, 1))
        n = self._check(lib.olm_decrypt(self.ptr, message_type, mbuf, mlen, out, maxlen))
        return bytes(ffi.buffer(out, n))

    def pickle(self, key=b""):
        return self._pickle(lib.olm_pickle_session_length, lib.olm_pickle_session, key)

    @classmethod
    def unpickle(cls, pickle, key=b""):
        return cls._unpickle(lib.olm_unpickle_session, pickle, key)


class OutboundGroupSession(_Obj):
    _size = lib.olm_outbound_group_session_size
    _init = lib.olm_outbound_group_session
    _last_error = lib.olm_outbound_group_session_last_error
    _clear = lib.olm_clear_outbound_group_session

    @classmethod
    def create(cls, rng=os_rng):
        s = cls()
        n = lib.olm_init_outbound_group_session_random_length(s.ptr)
        rbuf, _ = _random(rng, n, "olm_init_outbound_group_session")
        s._check(lib.olm_init_outbound_group_session(s.ptr, rbuf, n))
        return s

    def session_id(self):
        return self._out(lib.olm_outbound_group_session_id_length,
                         lib.olm_outbound_group_session_id).decode("ascii")

    def session_key(self):
        return self._out(lib.olm_outbound_group_session_key_length,
                         lib.olm_outbound_group_session_key).decode("ascii")

    def message_index(self):
        return lib.olm_outbound_group_session_message_index(self.ptr)

    def encrypt(self, plaintext):
        pbuf, plen = _in(plaintext)
        outlen = lib.olm_group_encrypt_message_length(self.ptr, plen)
        out = ffi.new("uint8_t[]", outlen)
        n = self._check(lib.olm_group_encrypt(self.ptr, pbuf, plen, out, outlen))
        return bytes(ffi.buffer(out, n)).decode("ascii")

    def pickle(self, key=b""):
        return self._pickle(lib.olm_pickle_outbound_group_session_length,
                            lib.olm_pickle_outbound_group_session, key)

    @classmethod
    def unpickle(cls, pickle, key=b""):
        return cls._unpickle(lib.olm_unpickle_outbound_group_session, pickle, key)


class InboundGroupSession(_Obj):
    _size = lib.olm_inbound_group_session_size
    _init = lib.olm_inbound_group_session
    _last_error = lib.olm_inbound_group_session_last_error
    _clear = lib.olm_clear_inbound_group_session

    @classmethod
    def from_session_key(cls, session_key):
        s = cls()
        kbuf, klen = _in(session_key)
        s._check(lib.olm_init_inbound_group_session(s.ptr, kbuf, klen))
        return s

    @classmethod
    def import_session(cls, exported):
        s = cls()
        kbuf, klen = _in(exported)
        s._check(lib.olm_import_inbound_group_session(s.ptr, kbuf, klen))
        return s

    def session_id(self):
        return self._out(lib.olm_inbound_group_session_id_length,
                         lib.olm_inbound_group_session_id).decode("ascii")

    def first_known_index(self):
        return lib.olm_inbound_group_session_first_known_index(self.ptr)

    def is_verified(self):
        return bool(lib.olm_inbound_group_session_is_verified(self.ptr))

    def decrypt(self, body):
        """Returns (plaintext, message_index)."""
        mbuf, mlen = _in(body)  # destroyed by the length call
        maxlen = self._check(lib.olm_group_decrypt_max_plaintext_length(self.ptr, mbuf, mlen))
        mbuf, mlen = _in(body)
        out = ffi.new("uint8_t[]", max(maxlen, 1))
        idx = ffi.new("uint32_t *")
        n = self._check(lib.olm_group_decrypt(self.ptr, mbuf, mlen, out, maxlen, idx))
        return bytes(ffi.buffer(out, n)), int(idx[0])

    def export(self, message_index):
        n = lib.olm_export_inbound_group_session_length(self.ptr)
        out = ffi.new("uint8_t[]", n)
        self._check(lib.olm_export_inbound_group_session(self.ptr, out, n, message_index))
        return bytes(ffi.buffer(out, n)).decode("ascii")

    def pickle(self, key=b""):
        return self._pickle(lib.olm_pickle_inbound_group_session_length,
                            lib.olm_pickle_inbound_group_session, key)

    @classmethod
    def unpickle(cls, pickle, key=b""):
        return cls._unpickle(lib.olm_unpickle_inbound_group_session, pickle, key)


def ed25519_verify(public_key, message, signature):
    """olm_ed25519_verify through an OlmUtility; True/False (False carries BAD_MESSAGE_MAC-style error)."""
    mem = ffi.new("uint8_t[]", lib.olm_utility_size())
    u = lib.olm_utility(mem)
    kbuf, klen = _in(public_key)
    mbuf, mlen = _in(message)
    sbuf, slen = _in(signature)
    r = lib.olm_ed25519_verify(u, kbuf, klen, mbuf, mlen, sbuf, slen)
    err = ffi.string(lib.olm_utility_last_error(u)).decode() if r == ERROR else None
    lib.olm_clear_utility(u)
    return err is None, err
