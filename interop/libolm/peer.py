#!/usr/bin/env python3
"""A live libolm peer driven over JSON lines (one request per stdin line, one response per
stdout line, flushed, until EOF).

Run with the venv made by interop/libolm/setup.sh:
    interop/libolm/.venv/bin/python interop/libolm/peer.py

Request:  {"cmd": "<name>", ...args}
Response: {"ok": true, ...results} or {"ok": false, "error": "<reason>"}
  "error" is libolm's own error name (e.g. "BAD_MESSAGE_MAC") when libolm refused; a request
  the peer itself cannot carry out (unknown command, missing argument, unknown handle, bad hex)
  gets an error starting with "peer: ". An "id" in the request, if any, is echoed back.

Objects (accounts, sessions, group sessions) live in one table under string handles that the
caller picks ("h"); creating under a used handle replaces the old object. Commands that refer
to another object name it by its handle ("account", "session").

Data encodings: plaintexts, messages to sign and pickle keys are hex strings ("pt", "msg_hex",
"key_hex"; pickle keys are arbitrary bytes, "" = empty key). Keys, signatures, pickles and
Megolm messages are base64 strings exactly as libolm prints them (unpadded). Olm messages are
{"type": 0|1, "body": "<base64>"} as in Matrix.

All libolm calls go through the raw cffi API (rawolm.py), which keeps plaintexts binary-safe.
See README.md in this folder for the command list.
"""

import hashlib
import hmac
import json
import sys

import rawolm as R


class PeerError(Exception):
    pass


OBJECTS = {}


def _get(args, name, kind=None):
    if name not in args:
        raise PeerError("missing argument %r" % name)
    v = args[name]
    if kind is not None and not isinstance(v, kind):
        raise PeerError("argument %r must be %s" % (name, kind.__name__))
    return v


def _hex(args, name, default=None):
    if name not in args and default is not None:
        return default
    v = _get(args, name, str)
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise PeerError("argument %r is not hex" % name)


def _obj(args, name, cls):
    h = _get(args, name, str)
    o = OBJECTS.get(h)
    if o is None:
        raise PeerError("no object under handle %r" % h)
    if not isinstance(o, cls):
        raise PeerError("handle %r is a %s, not a %s" % (h, type(o).__name__, cls.__name__))
    return o


def _put(args, obj):
    h = _get(args, "h", str)
    old = OBJECTS.pop(h, None)
    if old is not None:
        old.clear()
    OBJECTS[h] = obj
    return obj


def _opt_str(args, name):
    v = args.get(name)
    if v is not None and not isinstance(v, str):
        raise PeerError("argument %r must be a string" % name)
    return v


# ---------------------------------------------------------------- accounts

def account_new(a):
    acc = _put(a, R.Account.create())
    return acc.identity_keys()


def account_identity_keys(a):
    return _obj(a, "h", R.Account).identity_keys()


def account_generate_otks(a):
    n = _get(a, "n", int)
    _obj(a, "h", R.Account).generate_one_time_keys(n)
    return {}


def account_one_time_keys(a):
    return {"keys": _obj(a, "h", R.Account).one_time_keys()}


def account_mark_published(a):
    _obj(a, "h", R.Account).mark_keys_as_published()
    return {}


def account_max_otks(a):
    return {"n": _obj(a, "h", R.Account).max_number_of_one_time_keys()}


def account_generate_fallback(a):
    _obj(a, "h", R.Account).generate_fallback_key()
    return {}


def account_fallback_key(a):
    acc = _obj(a, "h", R.Account)
    which = a.get("which", "unpublished")
    if which == "unpublished":
        return {"keys": acc.unpublished_fallback_key(), "which": which}
    if which == "current":
        return {"keys": acc.fallback_key(), "which": which}
    raise PeerError("'which' must be 'unpublished' or 'current'")


def account_forget_old_fallback(a):
    _obj(a, "h", R.Account).forget_old_fallback_key()
    return {}


def account_sign(a):
    return {"sig": _obj(a, "h", R.Account).sign(_hex(a, "msg_hex"))}


def account_pickle(a):
    return {"pickle": _obj(a, "h", R.Account).pickle(_hex(a, "key_hex", b""))}


def account_unpickle(a):
    acc = R.Account.unpickle(_get(a, "pickle", str), _hex(a, "key_hex", b""))
    _put(a, acc)
    return acc.identity_keys()


def account_remove_otks(a):
    acc = _obj(a, "h", R.Account)
    acc.remove_one_time_keys(_obj(a, "session", R.Session))
    return {}


# ---------------------------------------------------------------- Olm sessions

def session_outbound(a):
    acc = _obj(a, "account", R.Account)
    s = R.Session.outbound(acc, _get(a, "identity_key", str), _get(a, "one_time_key", str))
    _put(a, s)
    return {"session_id": s.session_id()}


def session_inbound(a):
    """Like matrix-js-sdk: create from the pre-key message, remove the one-time key, decrypt.

    Optional: "remove_otk": false keeps the one-time key; "decrypt": false only creates the
    session (then "pt" is absent). If decrypting fails the session is not stored (the one-time
    key is already gone, as with libolm-based clients).
    """
    acc = _obj(a, "account", R.Account)
    body = _get(a, "body", str)
    s = R.Session.inbound(acc, body, _opt_str(a, "identity_key"))
    if a.get("remove_otk", True):
        acc.remove_one_time_keys(s)
    out = {"session_id": s.session_id()}
    if a.get("decrypt", True):
        try:
            out["pt"] = s.decrypt(0, body).hex()
        except R.OlmError:
            s.clear()
            raise
    _put(a, s)
    return out


def session_encrypt(a):
    t, body = _obj(a, "h", R.Session).encrypt(_hex(a, "pt"))
    return {"type": t, "body": body}


def session_decrypt(a):
    t = _get(a, "type", int)
    return {"pt": _obj(a, "h", R.Session).decrypt(t, _get(a, "body", str)).hex()}


def session_id(a):
    return {"session_id": _obj(a, "h", R.Session).session_id()}


def session_matches(a):
    s = _obj(a, "h", R.Session)
    return {"matches": s.matches_inbound(_get(a, "body", str), _opt_str(a, "identity_key"))}


def session_has_received(a):
    return {"received": _obj(a, "h", R.Session).has_received_message()}


def session_describe(a):
    return {"description": _obj(a, "h", R.Session).describe()}


def session_pickle(a):
    return {"pickle": _obj(a, "h", R.Session).pickle(_hex(a, "key_hex", b""))}


def session_unpickle(a):
    s = R.Session.unpickle(_get(a, "pickle", str), _hex(a, "key_hex", b""))
    _put(a, s)
    return {"session_id": s.session_id()}


# ---------------------------------------------------------------- Megolm

def _group_out_info(s):
    return {"session_id": s.session_id(), "session_key": s.session_key(), "index": s.message_index()}


def group_out_new(a):
    return _group_out_info(_put(a, R.OutboundGroupSession.create()))


def group_out_info(a):
    return _group_out_info(_obj(a, "h", R.OutboundGroupSession))


def group_encrypt(a):
    s = _obj(a, "h", R.OutboundGroupSession)
    before = s.message_index()
    return {"body": s.encrypt(_hex(a, "pt")), "index_before": before}


def group_out_pickle(a):
    return {"pickle": _obj(a, "h", R.OutboundGroupSession).pickle(_hex(a, "key_hex", b""))}


def group_out_unpickle(a):
    s = R.OutboundGroupSession.unpickle(_get(a, "pickle", str), _hex(a, "key_hex", b""))
    return _group_out_info(_put(a, s))


def _group_in_info(s):
    return {"session_id": s.session_id(), "first_known_index": s.first_known_index(),
            "verified": s.is_verified()}


def group_in_new(a):
    return _group_in_info(_put(a, R.InboundGroupSession.from_session_key(_get(a, "session_key", str))))


def group_in_import(a):
    return _group_in_info(_put(a, R.InboundGroupSession.import_session(_get(a, "exported", str))))


def group_in_info(a):
    return _group_in_info(_obj(a, "h", R.InboundGroupSession))


def group_in_first_known(a):
    return {"first_known_index": _obj(a, "h", R.InboundGroupSession).first_known_index()}


def group_decrypt(a):
    pt, idx = _obj(a, "h", R.InboundGroupSession).decrypt(_get(a, "body", str))
    return {"pt": pt.hex(), "index": idx}


def group_export(a):
    return {"exported": _obj(a, "h", R.InboundGroupSession).export(_get(a, "index", int))}


def group_in_pickle(a):
    return {"pickle": _obj(a, "h", R.InboundGroupSession).pickle(_hex(a, "key_hex", b""))}


def group_in_unpickle(a):
    s = R.InboundGroupSession.unpickle(_get(a, "pickle", str), _hex(a, "key_hex", b""))
    return _group_in_info(_put(a, s))


# ---------------------------------------------------------------- misc

def free(a):
    h = _get(a, "h", str)
    o = OBJECTS.pop(h, None)
    if o is None:
        raise PeerError("no object under handle %r" % h)
    o.clear()
    return {}


def version(a):
    return {"version": R.library_version(), "peer": "libolm via python-olm (raw cffi API)"}


def ed25519_verify(a):
    ok, err = R.ed25519_verify(_get(a, "key", str), _hex(a, "msg_hex"), _get(a, "sig", str))
    return {"valid": ok, "libolm_error": err}


# ---------------------------------------------------------------- dehydrated devices (legacy)

def _legacy_dehydration_key(a):
    """MSC3814 `org.matrix.msc3814.v1.olm`: the libolm account pickle's key is
    HKDF-SHA-256(salt = device id, ikm = 32-byte dehydration key, info =
    "dehydrated-device-pickle-key", 32), as matrix-rust-sdk derives it. libolm has no KDF for
    this: it is computed here with Python's hmac, independently of the Rust side."""
    key = _hex(a, "key_hex")
    device_id = _get(a, "device_id", str).encode()
    prk = hmac.new(device_id, key, hashlib.sha256).digest()
    return hmac.new(prk, b"dehydrated-device-pickle-key\x01", hashlib.sha256).digest()


def dehydrate_legacy(a):
    acc = _obj(a, "h", R.Account)
    return {"device_pickle": acc.pickle(_legacy_dehydration_key(a))}


def rehydrate_legacy(a):
    acc = R.Account.unpickle(_get(a, "device_pickle", str), _legacy_dehydration_key(a))
    _put(a, acc)
    return acc.identity_keys()


COMMANDS = {f.__name__: f for f in [
    account_new, account_identity_keys, account_generate_otks, account_one_time_keys,
    account_mark_published, account_max_otks, account_generate_fallback, account_fallback_key,
    account_forget_old_fallback, account_sign, account_pickle, account_unpickle,
    account_remove_otks,
    session_outbound, session_inbound, session_encrypt, session_decrypt, session_id,
    session_matches, session_has_received, session_describe, session_pickle, session_unpickle,
    group_out_new, group_out_info, group_encrypt, group_out_pickle, group_out_unpickle,
    group_in_new, group_in_import, group_in_info, group_in_first_known, group_decrypt,
    group_export, group_in_pickle, group_in_unpickle,
    free, version, ed25519_verify,
    dehydrate_legacy, rehydrate_legacy,
]}


# ---------------------------------------------------------------- SAS, PK (rawsaspk.py)
# Binary inputs are hex ("info_hex", "input_hex", "pt", "*_secret_hex"); keys, MACs,
# ciphertexts, signatures and pickles are libolm's base64 strings. A "*_secret_hex" argument
# replaces libolm's random input (deterministic runs); without it the OS supplies it.

import rawsaspk as SP


def _fixed_rng(a, name):
    """An rng replaying the hex argument `name` (exactly the bytes libolm asks for), or the OS."""
    if name not in a:
        return R.os_rng
    data = _hex(a, name)

    def rng(n, what=None):
        if n != len(data):
            raise PeerError("%r has %d bytes, libolm wants %d" % (name, len(data), n))
        return data
    return rng


def _ascii(b):
    return b.decode("ascii")


def sas_new(a):
    s = _put(a, SP.Sas.create(_fixed_rng(a, "secret_hex")))
    return {"public_key": _ascii(s.pubkey())}


def sas_set_their_key(a):
    _obj(a, "h", SP.Sas).set_their_key(_get(a, "key", str))
    return {}


def sas_bytes(a):
    return {"bytes": _obj(a, "h", SP.Sas).generate_bytes(_hex(a, "info_hex"), _get(a, "n", int)).hex()}


def sas_mac(a):
    """kind: "invalid_base64" (olm_sas_calculate_mac, hkdf-hmac-sha256), "fixed_base64"
    (olm_sas_calculate_mac_fixed_base64, hkdf-hmac-sha256.v2) or "long_kdf"."""
    s = _obj(a, "h", SP.Sas)
    fn = {"invalid_base64": s.calculate_mac, "fixed_base64": s.calculate_mac_fixed_base64,
          "long_kdf": s.calculate_mac_long_kdf}.get(_get(a, "kind", str))
    if fn is None:
        raise PeerError("'kind' must be invalid_base64, fixed_base64 or long_kdf")
    return {"mac": _ascii(fn(_hex(a, "input_hex"), _hex(a, "info_hex")))}


def pk_decryption_new(a):
    """From "secret_hex" (olm_pk_key_from_private) or fresh (olm_pk_generate_key's input)."""
    d = _put(a, SP.PkDecryption.generate(_fixed_rng(a, "secret_hex")))
    return {"public_key": _ascii(d.public_key)}


def pk_decryption_secret(a):
    return {"secret_hex": _obj(a, "h", SP.PkDecryption).private_key().hex()}


def pk_decrypt(a):
    ct = _get(a, "ciphertext", str)
    if "=" in ct:
        # libolm 3.2.16 decodes the ciphertext in place with a length computed as if unpadded
        # and corrupts its heap on padded input (glibc aborts the peer): refuse it here.
        raise PeerError("libolm corrupts its heap on a padded ciphertext; not sent")
    pt = _obj(a, "h", SP.PkDecryption).decrypt(ct, _get(a, "mac", str), _get(a, "ephemeral", str))
    return {"pt": pt.hex()}


def pk_decryption_pickle(a):
    return {"pickle": _ascii(_obj(a, "h", SP.PkDecryption).pickle(_hex(a, "key_hex", b"")))}


def pk_decryption_unpickle(a):
    d = SP.PkDecryption.unpickle(_get(a, "pickle", str), _hex(a, "key_hex", b""))
    _put(a, d)
    return {"public_key": _ascii(d.public_key)}


def pk_encrypt(a):
    """Stateless: olm_pk_encryption_set_recipient_key, olm_pk_encrypt, clear."""
    e = SP.PkEncryption.create(_get(a, "recipient", str))
    try:
        ct, mac, key = e.encrypt(_hex(a, "pt"), _fixed_rng(a, "ephemeral_secret_hex"))
    finally:
        e.clear()
    return {"ciphertext": _ascii(ct), "mac": _ascii(mac), "ephemeral": _ascii(key)}


def pk_signing(a):
    """Stateless: olm_pk_signing_key_from_seed, then olm_pk_sign of "msg_hex" if given."""
    s = SP.PkSigning.from_seed(_hex(a, "seed_hex"))
    try:
        out = {"public_key": _ascii(s.public_key)}
        if "msg_hex" in a:
            out["sig"] = _ascii(s.sign(_hex(a, "msg_hex")))
    finally:
        s.clear()
    return out


COMMANDS.update({f.__name__: f for f in [
    sas_new, sas_set_their_key, sas_bytes, sas_mac,
    pk_decryption_new, pk_decryption_secret, pk_decrypt, pk_decryption_pickle,
    pk_decryption_unpickle, pk_encrypt, pk_signing,
]})


def handle(line):
    try:
        req = json.loads(line)
    except ValueError as e:
        return {"ok": False, "error": "peer: bad JSON: %s" % e}
    if not isinstance(req, dict):
        return {"ok": False, "error": "peer: request must be a JSON object"}
    cmd = req.get("cmd")
    fn = COMMANDS.get(cmd) if isinstance(cmd, str) else None
    try:
        if fn is None:
            raise PeerError("unknown command %r" % (cmd,))
        resp = {"ok": True}
        resp.update(fn(req))
    except R.OlmError as e:
        resp = {"ok": False, "error": str(e)}
    except PeerError as e:
        resp = {"ok": False, "error": "peer: %s" % e}
    except Exception as e:  # never die on a bad request
        resp = {"ok": False, "error": "peer: %s: %s" % (type(e).__name__, e)}
    if "id" in req:
        resp["id"] = req["id"]
    return resp


def main():
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        out.write(json.dumps(handle(line), separators=(",", ":")) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
