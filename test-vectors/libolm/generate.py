#!/usr/bin/env python3
"""Deterministic libolm known-answer vectors for caudata.

    interop/libolm/setup.sh && interop/libolm/.venv/bin/python test-vectors/libolm/generate.py

Drives libolm's raw C API (python-olm's cffi module `_libolm`, through
interop/libolm/rawolm.py). Every libolm call that needs randomness takes it as a byte
buffer; here each buffer is derived from fixed labels (see Rng) and recorded, in order,
with the call that consumed it, so the outputs are the same on every run (only the date
in "_comment" changes).

Besides recording what libolm produced, this script re-derives a good part of it
independently (3DH, root/chain/message keys, the Megolm ratchet, pickle layouts, Ed25519
keys) and asserts agreement, so a passing run also confirms /work/shared/PROTOCOLS.md
sections 1-3 against the real libolm. Values computed by this script rather than read
from libolm are marked "computed" in the JSON.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "interop", "libolm"))

import rawolm as R  # noqa: E402
from cryptography.hazmat.primitives import hashes, padding  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: E402
    Ed25519PrivateKey, Ed25519PublicKey)
from cryptography.hazmat.primitives.asymmetric.x25519 import (  # noqa: E402
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402

VERSION = R.library_version()
PICKLE_KEY = b"caudata pickle key"
ZERO32 = bytes(32)
L = 2 ** 252 + 27742317777372353535851937790883648493  # Ed25519 group order


def comment(what):
    return ("%s. Peer: libolm %s via python-olm 3.2.16 (raw cffi API). Generated %s. "
            "Regenerate with: interop/libolm/setup.sh && "
            "interop/libolm/.venv/bin/python test-vectors/libolm/generate.py"
            % (what, VERSION, datetime.date.today().isoformat()))


# ------------------------------------------------------------------ encodings

def b64e(b):
    return base64.b64encode(b).decode().rstrip("=")


def b64d(s):
    return base64.b64decode(s + "=" * (-len(s) % 4))


def h(b):
    return b.hex()


# ------------------------------------------------------------------ randomness

class Rng:
    """Deterministic randomness with a log.

    Block k of party `who` is SHA-256(ascii(label) || u32be(k)) with
    label = "caudata/libolm-vectors/<file>/<who>", k counting from 0 per label; a buffer
    of n bytes is the next ceil(n/32) blocks, truncated to n.
    """

    def __init__(self, file):
        self.file = file
        self.counters = {}
        self.log = []

    def label(self, who):
        return "caudata/libolm-vectors/%s/%s" % (self.file, who)

    def for_(self, who):
        def rng(n, call):
            k0 = self.counters.get(who, 0)
            out = b""
            k = k0
            while len(out) < n:
                out += hashlib.sha256(self.label(who).encode() + struct.pack(">I", k)).digest()
                k += 1
            self.counters[who] = k
            out = out[:n]
            self.log.append({
                "seq": len(self.log), "who": who, "call": call, "len": n, "hex": h(out),
                "derivation": "SHA-256(\"%s\" || u32be(k)), k = %d..%d, truncated to %d bytes"
                              % (self.label(who), k0, k - 1, n),
            })
            return out
        return rng

    def last(self):
        return self.log[-1]

    def count(self):
        return len(self.log)


# ------------------------------------------------------------------ primitives (independent)

def hkdf(salt, ikm, info, n):
    return HKDF(hashes.SHA256(), n, salt, info).derive(ikm)


def hm(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def x25519_pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes_raw()


def x25519(priv, pub):
    return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(pub))


def ed_pub(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed_expanded(seed):
    d = bytearray(hashlib.sha512(seed).digest())
    d[0] &= 248
    d[31] &= 63
    d[31] |= 64
    return bytes(d)


def ed_sign(seed, msg):
    return Ed25519PrivateKey.from_private_bytes(seed).sign(msg)


def ed_verify_strict(pub, msg, sig):
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        return True
    except InvalidSignature:
        return False


def aes_cbc_decrypt(key, iv, ct):
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    pt = d.update(ct) + d.finalize()
    u = padding.PKCS7(128).unpadder()
    return u.update(pt) + u.finalize()


def aes_cbc_encrypt(key, iv, pt):
    p = padding.PKCS7(128).padder()
    padded = p.update(pt) + p.finalize()
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(padded) + e.finalize()


def keys80(seed, info):
    k = hkdf(ZERO32, seed, info, 80)
    return k[:32], k[32:64], k[64:80]


# ------------------------------------------------------------------ pickle cipher

def pickle_decrypt(pickle, key):
    aes, mac, iv = keys80(key, b"Pickle")
    data = b64d(pickle)
    ct, tag = data[:-8], data[-8:]
    assert hm(mac, ct)[:8] == tag, "pickle MAC"
    return aes_cbc_decrypt(aes, iv, ct)


def pickle_encrypt(raw, key):
    aes, mac, iv = keys80(key, b"Pickle")
    ct = aes_cbc_encrypt(aes, iv, raw)
    return b64e(ct + hm(mac, ct)[:8])


class Reader:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def take(self, n):
        assert self.i + n <= len(self.d), "pickle too short"
        b = self.d[self.i:self.i + n]
        self.i += n
        return b

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u8(self):
        return self.take(1)[0]

    def boolean(self):
        b = self.u8()
        assert b in (0, 1)
        return bool(b)

    def end(self):
        assert self.i == len(self.d), "trailing bytes in pickle"


def _curve_pair(r):
    pub, priv = r.take(32), r.take(32)
    assert x25519_pub(priv) == pub, "curve25519 pair in pickle"
    return {"public": h(pub), "private": h(priv)}


def _key_entry(r):
    kid = r.u32()
    published = r.boolean()
    pair = _curve_pair(r)
    return {"id": kid, "id_b64": b64e(struct.pack(">I", kid)), "published": published, **pair}


def parse_account(raw):
    r = Reader(raw)
    v = r.u32()
    assert v == 4, "account pickle version %d" % v
    edpub, edpriv = r.take(32), r.take(64)
    f = {"version": v, "ed25519_public": h(edpub), "ed25519_expanded_private": h(edpriv)}
    f["curve25519"] = _curve_pair(r)
    f["one_time_keys"] = [_key_entry(r) for _ in range(r.u32())]
    nfb = r.u8()
    assert nfb <= 2
    f["num_fallback_keys"] = nfb
    f["fallback_keys_current_then_previous"] = [_key_entry(r) for _ in range(nfb)]
    f["next_one_time_key_id"] = r.u32()
    r.end()
    f["layout"] = ("u32 version | ed25519 pub32 | ed25519 expanded priv64 | curve25519 pub32 | "
                   "priv32 | u32 n | n x (u32 id | u8 published | pub32 | priv32) | u8 n_fallback | "
                   "n_fallback x (u32 id | u8 published | pub32 | priv32) | u32 next_key_id")
    return f


def parse_session(raw):
    r = Reader(raw)
    v = r.u32()
    assert v == 1, "session pickle version %d" % v
    f = {"version": v, "received_message": r.boolean(),
         "alice_identity_key": h(r.take(32)), "alice_base_key": h(r.take(32)),
         "bob_one_time_key": h(r.take(32)), "root_key": h(r.take(32))}
    f["sender_chain"] = []
    for _ in range(r.u32()):
        f["sender_chain"].append({"ratchet_key": _curve_pair(r), "chain_key": h(r.take(32)),
                                  "index": r.u32()})
    f["receiver_chains"] = []
    for _ in range(r.u32()):
        f["receiver_chains"].append({"ratchet_key": h(r.take(32)), "chain_key": h(r.take(32)),
                                     "index": r.u32()})
    f["skipped_message_keys"] = []
    for _ in range(r.u32()):
        f["skipped_message_keys"].append({"ratchet_key": h(r.take(32)), "message_key": h(r.take(32)),
                                          "index": r.u32()})
    r.end()
    f["layout"] = ("u32 version | u8 received | I_A32 | E_A32 | E_B32 | root32 | "
                   "u32 n (<=1) x (ratchet pub32 | priv32 | chain32 | u32 index) | "
                   "u32 n x (ratchet pub32 | chain32 | u32 index) | "
                   "u32 n x (ratchet pub32 | message_key32 | u32 index)")
    return f


def parse_outbound_group(raw):
    r = Reader(raw)
    v = r.u32()
    assert v == 1
    f = {"version": v, "ratchet": h(r.take(128)), "counter": r.u32(),
         "ed25519_public": h(r.take(32)), "ed25519_expanded_private": h(r.take(64))}
    r.end()
    f["layout"] = "u32 version | ratchet128 | u32 counter | ed25519 pub32 | expanded priv64"
    return f


def parse_inbound_group(raw):
    r = Reader(raw)
    v = r.u32()
    assert v == 2
    f = {"version": v, "initial_ratchet": h(r.take(128)), "initial_counter": r.u32(),
         "latest_ratchet": h(r.take(128)), "latest_counter": r.u32(),
         "ed25519_public": h(r.take(32)), "signing_key_verified": r.boolean()}
    r.end()
    f["layout"] = ("u32 version | initial ratchet128 | u32 initial counter | latest ratchet128 | "
                   "u32 latest counter | ed25519 pub32 | u8 verified")
    return f


PARSERS = {R.Account: parse_account, R.Session: parse_session,
           R.OutboundGroupSession: parse_outbound_group, R.InboundGroupSession: parse_inbound_group}


def pickled(obj, key=b""):
    """Pickle with libolm, decrypt it here, parse the fields; check libolm can read it back."""
    p = obj.pickle(key)
    raw = pickle_decrypt(p, key)
    fields = PARSERS[type(obj)](raw)
    assert pickle_encrypt(raw, key) == p, "pickle cipher is deterministic and reproducible"
    back = type(obj).unpickle(p, key)
    assert back.pickle(key) == p
    back.clear()
    return {"pickle_key_hex": h(key), "pickle": p, "version": fields["version"],
            "raw_hex": h(raw), "fields": fields}


# ------------------------------------------------------------------ message codecs

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_fields(data):
    i, fields = 0, []
    while i < len(data):
        tag = data[i]
        i += 1
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            v, shift = 0, 0
            while True:
                b = data[i]
                i += 1
                v |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            fields.append((num, v))
        elif wire == 2:
            ln, shift = 0, 0
            while True:
                b = data[i]
                i += 1
                ln |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            fields.append((num, data[i:i + ln]))
            i += ln
        else:
            raise ValueError("wire type %d" % wire)
    return fields


def decode_normal(raw):
    assert raw[0] == 3
    f = dict(read_fields(raw[1:-8]))
    return {"version": raw[0], "ratchet_key": h(f[1]), "chain_index": f[2],
            "ciphertext": h(f[4]), "mac": h(raw[-8:]), "raw_hex": h(raw)}


def decode_olm(mtype, body):
    raw = b64d(body)
    if mtype == 1:
        return decode_normal(raw)
    assert raw[0] == 3
    f = dict(read_fields(raw[1:]))
    return {"version": raw[0], "one_time_key": h(f[1]), "base_key": h(f[2]),
            "identity_key": h(f[3]), "message": decode_normal(f[4]), "raw_hex": h(raw)}


def decode_megolm(body):
    raw = b64d(body)
    f = dict(read_fields(raw[1:-72]))
    return {"version": raw[0], "message_index": f[1], "ciphertext": h(f[2]),
            "mac": h(raw[-72:-64]), "signature": h(raw[-64:]), "raw_hex": h(raw)}


def encode_normal(ratchet_key, index, ciphertext, mac_key):
    payload = (b"\x03" + b"\x0a\x20" + ratchet_key + b"\x10" + varint(index)
               + b"\x22" + varint(len(ciphertext)) + ciphertext)
    return payload + hm(mac_key, payload)[:8]


def encode_prekey(one_time_key, base_key, identity_key, inner):
    return (b"\x03" + b"\x0a\x20" + one_time_key + b"\x12\x20" + base_key + b"\x1a\x20" + identity_key
            + b"\x22" + varint(len(inner)) + inner)


def olm_open(chain_key, raw_normal):
    """Independent decryption of a normal message given its chain key."""
    aes, mac, iv = keys80(hm(chain_key, b"\x01"), b"OLM_KEYS")
    assert hm(mac, raw_normal[:-8])[:8] == raw_normal[-8:], "olm MAC (computed)"
    f = dict(read_fields(raw_normal[1:-8]))
    return aes_cbc_decrypt(aes, iv, f[4])


# ------------------------------------------------------------------ Megolm (independent)

def megolm_advance(parts, i):
    """Advance ratchet parts (list of 4 x 32 bytes) from counter i to i+1."""
    parts = list(parts)
    i = (i + 1) & 0xFFFFFFFF
    if i & 0xFFFFFF == 0:
        hgt = 0
    elif i & 0xFFFF == 0:
        hgt = 1
    elif i & 0xFF == 0:
        hgt = 2
    else:
        hgt = 3
    src = parts[hgt]
    for j in range(3, hgt - 1, -1):
        parts[j] = hm(src, bytes([j]))
    return parts, i


def megolm_advance_to(ratchet, i, target):
    parts = [ratchet[k:k + 32] for k in range(0, 128, 32)]
    # step-by-step is fine up to a few hundred thousand
    while i != target:
        parts, i = megolm_advance(parts, i)
    return b"".join(parts)


def megolm_open(ratchet, body, ed_public):
    raw = b64d(body)
    assert ed_verify_strict(ed_public, raw[:-64], raw[-64:]), "megolm signature (computed)"
    aes, mac, iv = keys80(ratchet, b"MEGOLM_KEYS")
    assert hm(mac, raw[:-72])[:8] == raw[-72:-64], "megolm MAC (computed)"
    f = dict(read_fields(raw[1:-72]))
    return aes_cbc_decrypt(aes, iv, f[2])


def decode_session_key(key_b64):
    raw = b64d(key_b64)
    assert raw[0] == 2 and len(raw) == 229
    assert ed_verify_strict(raw[133:165], raw[:165], raw[165:]), "session key signature"
    return {"version": 2, "index": struct.unpack(">I", raw[1:5])[0], "ratchet": h(raw[5:133]),
            "ed25519_public": h(raw[133:165]), "signature": h(raw[165:]), "raw_hex": h(raw)}


def decode_exported(key_b64):
    raw = b64d(key_b64)
    assert raw[0] == 1 and len(raw) == 165
    return {"version": 1, "index": struct.unpack(">I", raw[1:5])[0], "ratchet": h(raw[5:133]),
            "ed25519_public": h(raw[133:165]), "raw_hex": h(raw)}


def flip_b64(body, byte_index, mask=1):
    raw = bytearray(b64d(body))
    raw[byte_index] ^= mask
    return b64e(bytes(raw))


def libolm_try(fn):
    try:
        return {"result": "ok", "value": fn()}
    except R.OlmError as e:
        return {"result": "error", "error": str(e)}


# ------------------------------------------------------------------ accounts

def make_account(rng, who, n_otks=0, publish=True):
    """Create an account and n one-time keys; verify how libolm consumed the randomness."""
    acc = R.Account.create(rng.for_(who))
    rec = rng.last()
    assert rec["call"] == "olm_create_account" and rec["len"] == 64
    rnd = bytes.fromhex(rec["hex"])
    seed, cpriv = rnd[:32], rnd[32:]
    ik = acc.identity_keys()
    assert b64d(ik["ed25519"]) == ed_pub(seed), "ed25519 seed = random[0:32]"
    assert b64d(ik["curve25519"]) == x25519_pub(cpriv), "curve25519 private = random[32:64]"
    fields = parse_account(pickle_decrypt(acc.pickle(b""), b""))
    assert fields["ed25519_expanded_private"] == h(ed_expanded(seed))
    assert fields["curve25519"]["private"] == h(cpriv)
    info = {
        "create_random": {"seq": rec["seq"], "hex": rec["hex"],
                          "split": "ed25519 seed = bytes 0..32, curve25519 private = bytes 32..64"},
        "ed25519_seed": h(seed), "ed25519_expanded_private": h(ed_expanded(seed)),
        "curve25519_private": h(cpriv),
        "identity_keys": ik,
        "identity_keys_hex": {"curve25519": h(b64d(ik["curve25519"])), "ed25519": h(b64d(ik["ed25519"]))},
        "one_time_keys": [],
    }
    if n_otks:
        info["one_time_keys"] = gen_otks(acc, rng, who, n_otks)
        info["one_time_keys_json"] = acc.one_time_keys()
        if publish:
            acc.mark_keys_as_published()
            info["one_time_keys_marked_published"] = True
    return acc, info


def gen_otks(acc, rng, who, n):
    before = {e["id"] for e in parse_account(pickle_decrypt(acc.pickle(), b""))["one_time_keys"]}
    acc.generate_one_time_keys(n, rng.for_(who))
    rec = rng.last()
    assert rec["len"] == 32 * n
    rnd = bytes.fromhex(rec["hex"])
    fields = parse_account(pickle_decrypt(acc.pickle(), b""))
    new = sorted((e for e in fields["one_time_keys"] if e["id"] not in before), key=lambda e: e["id"])
    pub_json = acc.one_time_keys()
    out = []
    for i, e in enumerate(new):
        chunk = rnd[32 * i:32 * i + 32]
        assert e["private"] == h(chunk), "one-time key i uses random[32i:32i+32], ids ascending"
        assert pub_json[e["id_b64"]] == b64e(x25519_pub(chunk))
        out.append({"key_id": e["id_b64"], "key_id_u32": e["id"], "private": h(chunk),
                    "public": b64e(x25519_pub(chunk)), "public_hex": h(x25519_pub(chunk)),
                    "random_seq": rec["seq"], "random_offset": 32 * i})
    return out


# ------------------------------------------------------------------ olm_transcript.json

PLAINTEXTS = [
    b"Hello Bob, this is Alice.",
    b"",
    bytes(range(16)),
    b"{\"type\":\"m.room_key\",\"content\":{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}",
    bytes(range(255, 240, -1)),
    b"x" * 17,
    "caf\u00e9 \U0001F510".encode(),
    b"\x00",
    b"burst 1",
    b"burst 2 " + b"y" * 31,
    b"burst 3 " + bytes(32),
    b"burst 4",
    b"burst 5 " + b"z" * 200,
    b"bye",
]


def gen_olm_transcript():
    rng = Rng("olm_transcript")
    alice, alice_info = make_account(rng, "alice", n_otks=2)
    bob, bob_info = make_account(rng, "bob", n_otks=3)
    bob_otk = bob_info["one_time_keys"][1]  # use key AAAAAg, not the first
    I_A, I_B = b64d(alice_info["identity_keys"]["curve25519"]), b64d(bob_info["identity_keys"]["curve25519"])
    a_ipriv = bytes.fromhex(alice_info["curve25519_private"])
    b_ipriv = bytes.fromhex(bob_info["curve25519_private"])
    E_B = bytes.fromhex(bob_otk["public_hex"])

    # --- Alice's outbound session
    a_sess = R.Session.outbound(alice, bob_info["identity_keys"]["curve25519"], bob_otk["public"],
                                rng.for_("alice"))
    rec = rng.last()
    assert rec["call"] == "olm_create_outbound_session" and rec["len"] == 64
    rnd = bytes.fromhex(rec["hex"])
    base_priv, ratchet_priv = rnd[:32], rnd[32:]
    E_A = x25519_pub(base_priv)
    S = x25519(a_ipriv, E_B) + x25519(base_priv, I_B) + x25519(base_priv, E_B)
    rk = hkdf(ZERO32, S, b"OLM_ROOT", 64)
    a_p = pickled(a_sess)
    af = a_p["fields"]
    assert af["root_key"] == h(rk[:32])
    assert af["sender_chain"][0]["chain_key"] == h(rk[32:]) and af["sender_chain"][0]["index"] == 0
    assert af["sender_chain"][0]["ratchet_key"]["private"] == h(ratchet_priv)
    assert af["alice_base_key"] == h(E_A)
    sid = b64e(hashlib.sha256(I_A + E_A + E_B).digest())
    assert a_sess.session_id() == sid
    setup = {
        "initiator": "alice", "responder": "bob",
        "their_identity_key": bob_info["identity_keys"]["curve25519"],
        "their_one_time_key": bob_otk["public"], "their_one_time_key_id": bob_otk["key_id"],
        "random": {"seq": rec["seq"], "hex": rec["hex"],
                   "split": "base key private = bytes 0..32, first ratchet key private = bytes 32..64"},
        "base_key_private": h(base_priv), "base_key_public": h(E_A),
        "ratchet_key_private": h(ratchet_priv), "ratchet_key_public": h(x25519_pub(ratchet_priv)),
        "computed_shared_secret": h(S), "computed_root_key": h(rk[:32]),
        "computed_first_chain_key": h(rk[32:]),
        "session_id": sid,
        "alice_session_pickle_after": a_p["pickle"], "alice_session_pickle_after_raw_hex": a_p["raw_hex"],
    }

    sessions = {"alice": a_sess, "bob": None}
    accounts = {"alice": alice, "bob": bob}
    last_fields = {"alice": af, "bob": None}
    messages = []
    steps = []
    snapshots = {}  # name -> (party, pickle) for the attack section

    def send(who, n):
        s = sessions[who]
        before = last_fields[who]
        nrand = s.encrypt_random_length()
        count = rng.count()
        mtype, body = s.encrypt(PLAINTEXTS[n], rng.for_(who))
        assert mtype == (0 if not before["received_message"] else 1)
        dec = decode_olm(mtype, body)
        normal = dec["message"] if mtype == 0 else dec
        p = pickled(s)
        f = p["fields"]
        step = {"step": len(steps), "action": "encrypt", "party": who, "msg": n,
                "olm_encrypt_random_length": nrand}
        if nrand:
            rec = rng.last()
            assert rng.count() == count + 1 and rec["len"] == 32
            new_priv = bytes.fromhex(rec["hex"])
            their = bytes.fromhex(before["receiver_chains"][0]["ratchet_key"])
            out = hkdf(bytes.fromhex(before["root_key"]), x25519(new_priv, their), b"OLM_RATCHET", 64)
            assert f["root_key"] == h(out[:32]), "root step (computed)"
            chain = out[32:]
            assert normal["ratchet_key"] == h(x25519_pub(new_priv))
            step["random"] = {"seq": rec["seq"], "hex": rec["hex"],
                              "use": "new ratchet key private (all 32 bytes)"}
            step["computed_root_key"] = h(out[:32])
            step["computed_chain_key"] = h(chain)
        else:
            assert rng.count() == count
            step["random"] = None
            chain = bytes.fromhex(before["sender_chain"][0]["chain_key"])
            assert normal["chain_index"] == before["sender_chain"][0]["index"]
        assert olm_open(chain, bytes.fromhex(normal["raw_hex"])) == PLAINTEXTS[n]
        assert f["sender_chain"][0]["chain_key"] == h(hm(chain, b"\x02"))
        step["computed_message_key_seed"] = h(hm(chain, b"\x01"))
        step["session_id"] = s.session_id()
        step["pickle_after"] = p["pickle"]
        step["pickle_after_raw_hex"] = p["raw_hex"]
        last_fields[who] = f
        steps.append(step)
        messages.append({"n": n, "from": who, "to": "bob" if who == "alice" else "alice",
                         "pt_hex": h(PLAINTEXTS[n]), "type": mtype, "body": body,
                         "chain_index": normal["chain_index"], "decoded": dec})

    def recv(who, n):
        m = messages[n]
        assert m["to"] == who
        step = {"step": len(steps), "party": who, "msg": n}
        if sessions[who] is None:
            acc = accounts[who]
            s = R.Session.inbound(acc, m["body"])
            assert s.matches_inbound(m["body"])
            assert s.matches_inbound(m["body"], alice_info["identity_keys"]["curve25519"])
            acc.remove_one_time_keys(s)
            sessions[who] = s
            ap = pickled(acc)
            left = [e["id_b64"] for e in ap["fields"]["one_time_keys"]]
            assert bob_otk["key_id"] not in left
            step["action"] = "create_inbound_session+remove_one_time_keys+decrypt"
            step["account_one_time_key_ids_left"] = left
            step["account_pickle_after"] = ap["pickle"]
        else:
            step["action"] = "decrypt"
        s = sessions[who]
        before = s.pickle()
        pt = s.decrypt(m["type"], m["body"])
        assert pt == PLAINTEXTS[n]
        p = pickled(s)
        step["pt_hex"] = h(pt)
        step["session_id"] = s.session_id()
        step["pickle_after"] = p["pickle"]
        step["pickle_after_raw_hex"] = p["raw_hex"]
        last_fields[who] = p["fields"]
        steps.append(step)
        snapshots.setdefault((who, n), before)

    for n in (0, 1, 2):
        send("alice", n)
    for n in (0, 1, 2):
        recv("bob", n)
    send("bob", 3)
    recv("alice", 3)
    send("alice", 4)
    recv("bob", 4)
    send("bob", 5)
    send("bob", 6)
    recv("alice", 6)
    recv("alice", 5)
    for n in range(7, 12):
        send("alice", n)
    burst_order = [9, 7, 11, 8, 10]
    for n in burst_order:
        recv("bob", n)
    send("bob", 12)
    recv("alice", 12)
    send("alice", 13)
    recv("bob", 13)
    assert sessions["alice"].session_id() == sessions["bob"].session_id() == sid

    final = {}
    for who in ("alice", "bob"):
        p = pickled(sessions[who])
        final[who] = {"session_id": sessions[who].session_id(), "pickle_key_hex": "",
                      "pickle": p["pickle"], "raw_hex": p["raw_hex"], "fields": p["fields"],
                      "has_received_message": sessions[who].has_received_message(),
                      "account_pickle": accounts[who].pickle(b"")}

    attacks = olm_attacks(messages, snapshots, final, bob_info, alice_info, rng)
    doc = {
        "_comment": comment("Olm (libolm) transcript between Alice and Bob"),
        "libolm_version": VERSION,
        "pickle_key_hex": "",
        "notes": [
            "Messages are Matrix-style {type, body}: type 0 = pre-key, 1 = normal; body = unpadded base64.",
            "random_log lists every random buffer given to libolm in order; each step also links its buffer by seq.",
            "Accounts: olm_create_account takes 64 bytes: Ed25519 seed (0..32) then Curve25519 private (32..64).",
            "olm_account_generate_one_time_keys(n) takes 32*n bytes; key i (ids ascending from next_key_id) is bytes 32i..32i+32.",
            "olm_create_outbound_session takes 64 bytes: base key private, then first ratchet key private.",
            "olm_encrypt takes 32 bytes (new ratchet key private) on the first send after receiving on a new chain, else 0.",
            "Fields named computed_* were derived by generate.py (not read from libolm) and checked against libolm's pickles/messages.",
            "step.pickle_after is the pickle of that party's session right after the step (pickle key = empty).",
        ],
        "random_log": rng.log,
        "accounts": {"alice": alice_info, "bob": bob_info},
        "session_setup": setup,
        "messages": messages,
        "delivery": {"burst_messages": [7, 8, 9, 10, 11], "burst_delivery_order": burst_order,
                     "other_out_of_order": "message 6 delivered to Alice before message 5"},
        "steps": steps,
        "final": final,
        "attacks": attacks,
    }
    return doc, {"alice_account": alice, "bob_account": bob,
                 "alice_session": sessions["alice"], "bob_session": sessions["bob"],
                 "alice_session_new": R.Session.unpickle(setup["alice_session_pickle_after"])}


def olm_attacks(messages, snapshots, final, bob_info, alice_info, rng):
    out = []

    def case(name, desc, fn, expected_libolm, required):
        r = fn()
        res = r.get("libolm")
        if expected_libolm.isupper():  # an error name: libolm must still say exactly that
            assert res == {"result": "error", "error": expected_libolm}, (name, res)
        r.update({"name": name, "description": desc, "expected_libolm": expected_libolm,
                  "caudata_required": required})
        out.append(r)

    # 1-3: tampered normal message (Alice -> Bob, message 4) given to Bob's session just before it
    m4 = messages[4]
    assert m4["type"] == 1
    raw_len = len(b64d(m4["body"]))

    def tamper(body):
        def run():
            before = snapshots[("bob", 4)]
            s = R.Session.unpickle(before)
            res = libolm_try(lambda: h(s.decrypt(1, body)))
            after = s.pickle()
            res2 = libolm_try(lambda: h(s.decrypt(1, m4["body"])))
            return {"receiver_pickle_before": before, "message": {"type": 1, "body": body},
                    "libolm": res, "libolm_state_unchanged_after_failure": after == before,
                    "original_still_decrypts": res2["result"] == "ok"}
        return run

    case("olm_bad_mac", "message 4 with the last MAC byte XOR 0x01",
         tamper(flip_b64(m4["body"], raw_len - 1)), "BAD_MESSAGE_MAC", "reject, state unchanged")
    case("olm_ciphertext_bit_flip", "message 4 with one ciphertext bit flipped (byte len-9, just before the MAC)",
         tamper(flip_b64(m4["body"], raw_len - 9)), "BAD_MESSAGE_MAC", "reject, state unchanged")
    case("olm_bad_version", "message 4 with version byte 0x03 changed to 0x02",
         tamper(flip_b64(m4["body"], 0, 0x01)), "BAD_MESSAGE_VERSION", "reject")

    def replay():
        s = R.Session.unpickle(final["bob"]["pickle"])
        return {"receiver_pickle_before": final["bob"]["pickle"],
                "message": {"type": 1, "body": m4["body"]},
                "libolm": libolm_try(lambda: h(s.decrypt(1, m4["body"])))}
    case("olm_replay", "message 4 delivered again to Bob's final session (its message key is spent)",
         replay, "BAD_MESSAGE_MAC", "reject")

    # chain index gap: Alice (copy of final) sends 2002 messages on a new chain
    def gap():
        res = {"cases": []}
        for sender, receiver, label in (("bob", "alice", "new chain"), ("alice", "bob", "existing chain")):
            snd = R.Session.unpickle(final[sender]["pickle"])
            srng = rng.for_("%s-gap-copy" % sender)
            count = rng.count()
            msgs = [snd.encrypt(b"gap %d" % i, srng) for i in range(2002)]
            used = [e["seq"] for e in rng.log[count:]]
            rfields = final[receiver]["fields"]
            first = decode_olm(*msgs[0])["chain_index"]
            expected_next = rfields["receiver_chains"][0]["index"] if label == "existing chain" else 0
            if label == "existing chain":
                assert rfields["receiver_chains"][0]["ratchet_key"] == decode_olm(*msgs[0])["ratchet_key"]
            for g in (2000, 2001):
                j = expected_next + g - first
                t, body = msgs[j]
                ci = decode_olm(t, body)["chain_index"]
                assert ci == expected_next + g
                rcv = R.Session.unpickle(final[receiver]["pickle"])
                res["cases"].append({
                    "chain": label, "sender": sender, "receiver": receiver,
                    "sender_pickle_before": final[sender]["pickle"],
                    "receiver_pickle_before": final[receiver]["pickle"],
                    "random_seqs_used_by_sender": used,
                    "receiver_next_expected_index": expected_next,
                    "chain_index": ci, "gap": ci - expected_next,
                    "pt_hex": h(b"gap %d" % j),
                    "message": {"type": t, "body": body},
                    "libolm": libolm_try(lambda: h(rcv.decrypt(t, body)))})
        got = [(c["chain"], c["gap"], c["libolm"]["result"], c["libolm"].get("error")) for c in res["cases"]]
        assert got == [("new chain", 2000, "ok", None), ("new chain", 2001, "error", "BAD_MESSAGE_MAC"),
                       ("existing chain", 2000, "ok", None),
                       ("existing chain", 2001, "error", "BAD_MESSAGE_MAC")], got
        return res
    case("olm_chain_index_gap", "a message whose chain index is 2000 / 2001 past the next expected one, on a "
         "new receiving chain (Bob -> Alice) and on an existing one (Alice -> Bob); 2002 messages were encrypted "
         "on copies of the final sessions, only these kept", gap,
         "gap 2000 decrypts; gap 2001 refused with BAD_MESSAGE_MAC (libolm's MAX_MESSAGE_GAP is 2000 and it "
         "reports that error name)", "bounded; match libolm's limit or be stricter")

    # altered outer keys of a pre-key message delivered to the session it belongs to
    m2 = messages[2]
    raw = bytearray(b64d(m2["body"]))
    d = decode_olm(0, m2["body"])
    # outer field 2 (base key) starts at 1 + 2 + 32 + 2
    off = 1 + 34 + 2
    assert raw[off:off + 32].hex() == d["base_key"]
    raw[off] ^= 0x40
    altered = b64e(bytes(raw))

    def outer():
        s = R.Session.unpickle(snapshots[("bob", 2)])
        r = {"receiver_pickle_before": snapshots[("bob", 2)],
                "message": {"type": 0, "body": altered},
                "libolm_matches_inbound_session": libolm_try(lambda: s.matches_inbound(altered)),
                "libolm": libolm_try(lambda: h(s.decrypt(0, altered))),
                "original_pt_hex": m2["pt_hex"]}
        assert r["libolm_matches_inbound_session"] == {"result": "ok", "value": False}
        assert r["libolm"] == {"result": "ok", "value": m2["pt_hex"]}
        return r
    case("olm_prekey_outer_base_key_altered",
         "pre-key message 2 with one bit of its outer base key flipped, given to Bob's session after message 1",
         outer, "decrypts (same plaintext) although olm_matches_inbound_session says false",
         "refuse unless the outer keys equal the session's; spend nothing")

    # all-zero Curve25519 keys: a forged pre-key message with I_A = E_A = T0 = 0
    def zero():
        bob = R.Account.unpickle(final["bob"]["account_pickle"])
        bob.generate_one_time_keys(1, rng.for_("bob-zero-attack-copy"))
        kid, kpub = list(bob.one_time_keys().items())[0]
        secret = bytes(96)
        rk = hkdf(ZERO32, secret, b"OLM_ROOT", 64)
        aes, mac, iv = keys80(hm(rk[32:], b"\x01"), b"OLM_KEYS")
        pt = b"forged by someone who knows no private key"
        inner = encode_normal(bytes(32), 0, aes_cbc_encrypt(aes, iv, pt), mac)
        body = b64e(encode_prekey(b64d(kpub), bytes(32), bytes(32), inner))

        def run():
            s = R.Session.inbound(bob, body)
            return h(s.decrypt(0, body))
        r = {"receiver_account_pickle": bob.pickle(b""), "receiver_one_time_key_id": kid,
                "receiver_one_time_key": kpub, "forged_pt_hex": h(pt),
                "message": {"type": 0, "body": body},
                "computed_shared_secret": h(secret), "libolm": libolm_try(run)}
        assert r["libolm"] == {"result": "ok", "value": h(pt)}
        return r
    case("olm_all_zero_keys", "pre-key message with identity key, base key and ratchet key all zero: "
         "every DH output is zero, so anyone can compute the keys (the forger used only Bob's public one-time key)",
         zero, "accepts and decrypts", "reject any all-zero DH output")
    return out


# ------------------------------------------------------------------ olm_fallback.json

def gen_olm_fallback():
    rng = Rng("olm_fallback")
    bob, bob_info = make_account(rng, "bob", n_otks=0)
    events = []
    fallback_keys = {}

    def gen_fallback(name):
        bob.generate_fallback_key(rng.for_("bob"))
        rec = rng.last()
        assert rec["call"] == "olm_account_generate_fallback_key" and rec["len"] == 32
        priv = bytes.fromhex(rec["hex"])
        unpub = bob.unpublished_fallback_key()
        cur = bob.fallback_key()
        assert len(unpub) == 1 and unpub == cur
        kid, kpub = list(unpub.items())[0]
        assert b64d(kpub) == x25519_pub(priv), "fallback private = all 32 random bytes"
        bob.mark_keys_as_published()
        fallback_keys[name] = {"key_id": kid, "private": h(priv), "public": kpub,
                               "public_hex": h(b64d(kpub)), "random_seq": rec["seq"]}
        ap = pickled(bob)
        events.append({"event": "bob generates fallback key " + name, "random_seq": rec["seq"],
                       "olm_account_unpublished_fallback_key_before_publishing": unpub,
                       "olm_account_fallback_key_before_publishing": cur,
                       "after_mark_keys_as_published": {
                           "olm_account_unpublished_fallback_key": bob.unpublished_fallback_key(),
                           "olm_account_fallback_key": bob.fallback_key()},
                       "bob_account_pickle_after": ap["pickle"],
                       "bob_account_fallback_slots_after": ap["fields"]["fallback_keys_current_then_previous"]})

    def conversation(name, fb_name, replies=True):
        alice, alice_info = make_account(rng, name)
        fb = fallback_keys[fb_name]
        a = R.Session.outbound(alice, bob_info["identity_keys"]["curve25519"], fb["public"], rng.for_(name))
        rec = rng.last()
        ev = {"event": "%s opens a session to Bob's fallback key %s" % (name, fb_name),
              "alice_account": alice_info,
              "outbound_random": {"seq": rec["seq"], "hex": rec["hex"],
                                  "split": "base key private 0..32, ratchet key private 32..64"},
              "session_id": a.session_id(), "messages": []}
        pt0 = ("hello via fallback %s from %s" % (fb_name, name)).encode()
        t, body = a.encrypt(pt0, rng.for_(name))
        assert t == 0
        dec = decode_olm(t, body)
        assert dec["one_time_key"] == fb["public_hex"]
        msg = {"from": name, "pt_hex": h(pt0), "type": t, "body": body}
        ev["messages"].append(msg)
        try:
            b = R.Session.inbound(bob, body)
        except R.OlmError as e:
            msg["bob_create_inbound_session"] = {"result": "error", "error": str(e)}
            ev["works"] = False
            events.append(ev)
            return
        msg["bob_create_inbound_session"] = {"result": "ok"}
        msg["bob_olm_remove_one_time_keys"] = libolm_try(lambda: bob.remove_one_time_keys(b) and None)
        assert b.decrypt(t, body) == pt0
        msg["bob_decrypted_pt_hex"] = h(pt0)
        ap = pickled(bob)
        msg["bob_fallback_slots_after"] = ap["fields"]["fallback_keys_current_then_previous"]
        if replies:
            for i, (snd, rcv, who) in enumerate([(b, a, "bob"), (a, b, name), (b, a, "bob")]):
                pt = ("%s message %d" % (who, i + 1)).encode()
                count = rng.count()
                t, body = snd.encrypt(pt, rng.for_(who))
                assert rcv.decrypt(t, body) == pt
                ev["messages"].append({"from": who, "pt_hex": h(pt), "type": t, "body": body,
                                       "random_seq": rng.last()["seq"] if rng.count() > count else None})
        ev["works"] = True
        ev["final_pickles"] = {name: a.pickle(b""), "bob": b.pickle(b"")}
        events.append(ev)

    gen_fallback("F1")
    conversation("alice1", "F1")
    conversation("alice1b", "F1", replies=False)
    gen_fallback("F2")
    conversation("alice2", "F1")
    conversation("alice3", "F2", replies=False)
    bob.forget_old_fallback_key()
    events.append({"event": "bob calls olm_account_forget_old_fallback_key",
                   "bob_account_pickle_after": bob.pickle(b""),
                   "bob_account_fallback_slots_after":
                       parse_account(pickle_decrypt(bob.pickle(b""), b""))["fallback_keys_current_then_previous"]})
    conversation("alice4", "F1")
    conversation("alice5", "F2", replies=False)
    works = {e["event"]: e["works"] for e in events if "works" in e}
    assert list(works.values()) == [True, True, True, True, False, True], works
    assert events[-2]["messages"][0]["bob_create_inbound_session"]["error"] == "BAD_MESSAGE_KEY_ID"
    return {
        "_comment": comment("Olm fallback keys (libolm)"),
        "libolm_version": VERSION,
        "pickle_key_hex": "",
        "notes": [
            "olm_account_generate_fallback_key takes 32 bytes: the fallback key's Curve25519 private key.",
            "Fallback keys take ids from the same counter as one-time keys.",
            "olm_account_unpublished_fallback_key returns the current fallback key only until "
            "olm_account_mark_keys_as_published; olm_account_fallback_key (deprecated) always returns the current one.",
            "A fallback key is not removed by olm_remove_one_time_keys (libolm reports success) and can be used by many sessions.",
            "After a second fallback key, the first stays usable (previous slot) until olm_account_forget_old_fallback_key; "
            "then a pre-key message to it fails with BAD_MESSAGE_KEY_ID.",
        ],
        "random_log": rng.log,
        "bob_account": bob_info,
        "fallback_keys": fallback_keys,
        "events": events,
        "summary_works": works,
    }, {"bob_account": bob}


# ------------------------------------------------------------------ megolm.json

def gen_megolm():
    rng = Rng("megolm")
    g = R.OutboundGroupSession.create(rng.for_("sender"))
    rec = rng.last()
    assert rec["call"] == "olm_init_outbound_group_session" and rec["len"] == 160
    rnd = bytes.fromhex(rec["hex"])
    ratchet0, seed = rnd[:128], rnd[128:]
    edpub = ed_pub(seed)
    sk0 = g.session_key()
    dk0 = decode_session_key(sk0)
    assert dk0["ratchet"] == h(ratchet0) and dk0["ed25519_public"] == h(edpub) and dk0["index"] == 0
    assert g.session_id() == b64e(edpub)
    op = pickled(g)
    assert op["fields"]["ed25519_expanded_private"] == h(ed_expanded(seed))

    keep = {0, 1, 2, 255, 256, 257, 65535, 65536}
    key_at = {255, 256, 65535, 65536}
    session_keys = {"0": {"session_key": sk0, "decoded": dk0}}
    messages = []
    filler = b"filler"
    pts = {0: b"megolm message 0", 1: b"", 2: bytes(range(32)), 255: b"index 255",
           256: b"index 256 (R2 rehash)", 257: b"x" * 16, 65535: b"index 65535",
           65536: b"index 65536 (R1 rehash)"}
    while g.message_index() <= 65536:
        i = g.message_index()
        if i in key_at:
            sk = g.session_key()
            dk = decode_session_key(sk)
            assert dk["index"] == i
            assert dk["ratchet"] == h(megolm_advance_to(ratchet0, 0, i)), "megolm ratchet (computed)"
            session_keys[str(i)] = {"session_key": sk, "decoded": dk}
        if i in keep:
            body = g.encrypt(pts[i])
            dm = decode_megolm(body)
            assert dm["message_index"] == i
            assert megolm_open(megolm_advance_to(ratchet0, 0, i), body, edpub) == pts[i]
            messages.append({"index": i, "pt_hex": h(pts[i]), "body": body, "decoded": dm})
        else:
            g.encrypt(filler)
    assert g.message_index() == 65537

    inbound = {}
    ig = R.InboundGroupSession.from_session_key(sk0)
    assert ig.session_id() == g.session_id() and ig.first_known_index() == 0
    inbound["from_session_key_0"] = {"session_id": ig.session_id(), "first_known_index": 0,
                                     "verified_before_decrypt": ig.is_verified()}
    for m in messages:
        pt, idx = ig.decrypt(m["body"])
        assert pt == bytes.fromhex(m["pt_hex"]) and idx == m["index"]
    # decrypting an older index again still works (no replay protection in libolm)
    pt, idx = ig.decrypt(messages[0]["body"])
    inbound["from_session_key_0"]["redecrypt_index_0_after_65536"] = {"result": "ok", "index": idx}
    exports = {}
    for i in (0, 256, 65536):
        e = ig.export(i)
        exports[str(i)] = {"exported": e, "decoded": decode_exported(e)}
        assert exports[str(i)]["decoded"]["ratchet"] == h(megolm_advance_to(ratchet0, 0, i))
    inbound["exports"] = exports

    imp = R.InboundGroupSession.import_session(exports["256"]["exported"])
    r = {"first_known_index": imp.first_known_index(), "verified_after_import": imp.is_verified(),
         "session_id": imp.session_id()}
    r["export_at_255"] = libolm_try(lambda: imp.export(255))
    r["decrypt_index_255"] = libolm_try(lambda: h(imp.decrypt(messages[3]["body"])[0]))
    r["decrypt_index_256"] = libolm_try(lambda: h(imp.decrypt(messages[4]["body"])[0]))
    r["verified_after_decrypt"] = imp.is_verified()
    assert r["first_known_index"] == 256 and r["decrypt_index_255"]["error"] == "UNKNOWN_MESSAGE_INDEX"
    assert r["decrypt_index_256"]["result"] == "ok"
    inbound["imported_at_256"] = r

    ik = R.InboundGroupSession.from_session_key(session_keys["65535"]["session_key"])
    inbound["from_session_key_65535"] = {
        "first_known_index": ik.first_known_index(),
        "decrypt_65535": libolm_try(lambda: h(ik.decrypt(messages[6]["body"])[0])),
        "decrypt_65536": libolm_try(lambda: h(ik.decrypt(messages[7]["body"])[0])),
        "decrypt_257": libolm_try(lambda: h(ik.decrypt(messages[5]["body"])[0])),
    }

    tampered = megolm_tampered(messages, sk0, seed)
    crafted = megolm_crafted(rng)
    doc = {
        "_comment": comment("Megolm (libolm) outbound/inbound group sessions"),
        "libolm_version": VERSION,
        "notes": [
            "olm_init_outbound_group_session takes 160 bytes: the Megolm ratchet R0..R3 (0..128), then the Ed25519 seed (128..160). The counter starts at 0.",
            "olm_group_encrypt takes no randomness (Ed25519 signing is deterministic).",
            "session_keys[i] is olm_outbound_group_session_key when the next message index is i (v2, 229 bytes, signed).",
            "Only the messages listed were kept; the others up to 65536 were encrypted with plaintext 'filler' and dropped.",
            "exports[i] is olm_export_inbound_group_session(i) (v1, 165 bytes) of the inbound session made from session_keys[0].",
            "Megolm messages are base64 strings as libolm gives them (unpadded).",
        ],
        "random_log": rng.log,
        "outbound": {
            "random": {"seq": rec["seq"], "hex": rec["hex"], "len": 160,
                       "split": "ratchet = bytes 0..128 (R0,R1,R2,R3), ed25519 seed = bytes 128..160"},
            "ratchet_0": h(ratchet0), "ed25519_seed": h(seed), "ed25519_public": h(edpub),
            "ed25519_expanded_private": h(ed_expanded(seed)),
            "session_id": g.session_id(),
            "pickle_at_index_0": op["pickle"], "pickle_at_index_0_raw_hex": op["raw_hex"],
            "index_after_all": g.message_index(),
        },
        "session_keys": session_keys,
        "messages": messages,
        "inbound": inbound,
        "tampered": tampered,
        "crafted_high_index": crafted,
    }
    return doc, {"outbound": g, "inbound_verified": ig, "inbound_imported": imp}


def megolm_tampered(messages, sk0, seed):
    m = messages[2]  # index 2, 32-byte plaintext
    raw = b64d(m["body"])
    out = []

    def case(name, desc, body, expected, required):
        ig = R.InboundGroupSession.from_session_key(sk0)
        res = libolm_try(lambda: dict(zip(("pt_hex", "index"), (lambda r: (h(r[0]), r[1]))(ig.decrypt(body)))))
        if expected == "accepts":
            assert res["result"] == "ok" and res["value"]["pt_hex"] == m["pt_hex"], res
        else:
            assert res == {"result": "error", "error": expected}, (name, res)
        out.append({"name": name, "description": desc, "body": body, "session_key": sk0,
                    "original_index": m["index"], "original_pt_hex": m["pt_hex"],
                    "expected_libolm": expected, "libolm": res, "caudata_required": required})

    def resign(mut):
        return b64e(mut + ed_sign(seed, mut))

    ct_off = len(raw) - 72 - 1
    flipped = bytearray(raw)
    flipped[ct_off] ^= 1
    case("ciphertext_bit_flip", "last ciphertext byte XOR 0x01, signature left as it was",
         b64e(bytes(flipped)), "BAD_SIGNATURE", "reject")
    case("ciphertext_bit_flip_resigned", "last ciphertext byte XOR 0x01, then re-signed with the "
         "session's Ed25519 key (so only the MAC can catch it)",
         resign(bytes(flipped[:-64])), "BAD_MESSAGE_MAC", "reject")
    macflip = bytearray(raw[:-64])
    macflip[-1] ^= 1
    case("mac_flip_resigned", "last MAC byte XOR 0x01, then re-signed", resign(bytes(macflip)),
         "BAD_MESSAGE_MAC", "reject")
    vflip = bytearray(raw[:-64])
    vflip[0] = 2
    case("version_2_resigned", "version byte 0x03 -> 0x02, re-signed", resign(bytes(vflip)),
         "BAD_MESSAGE_VERSION", "reject")
    sigflip = bytearray(raw)
    sigflip[-1] ^= 1
    case("bad_signature", "last signature byte XOR 0x01", b64e(bytes(sigflip)), "BAD_SIGNATURE", "reject")
    S = int.from_bytes(raw[-32:], "little")
    assert S < L
    mall = raw[:-32] + (S + L).to_bytes(32, "little")
    assert not ed_verify_strict(bytes.fromhex(decode_session_key(sk0)["ed25519_public"]),
                                mall[:-64], mall[-64:])
    case("signature_s_plus_l", "signature scalar S (little-endian, last 32 bytes) replaced by S + L, "
         "L = 2^252 + 27742317777372353535851937790883648493 (Ed25519 malleability, CVE-2024-45193). "
         "A strict verifier (S < L) must reject.", b64e(mall), "accepts", "reject (strict Ed25519)")
    out[-1]["strict_verifier_accepts"] = False
    return out


def megolm_crafted(rng):
    """Outbound sessions at counters near 2^24 and 2^32, made by pickling a crafted state."""
    out = []
    for start, label in ((0x00FFFFFE, "near 2^24"), (0xFFFFFFFE, "near 2^32")):
        rnd = rng.for_("crafted-%08x" % start)(160, "crafted pickle state (not given to libolm as random)")
        ratchet, seed = rnd[:128], rnd[128:]
        raw = (struct.pack(">I", 1) + ratchet + struct.pack(">I", start) + ed_pub(seed) + ed_expanded(seed))
        p = pickle_encrypt(raw, b"")
        g = R.OutboundGroupSession.unpickle(p, b"")
        assert g.message_index() == start
        sk = g.session_key()
        dk = decode_session_key(sk)
        assert dk["ratchet"] == h(ratchet) and dk["index"] == start
        ig = R.InboundGroupSession.from_session_key(sk)
        msgs = []
        for k in range(4):
            i = g.message_index()
            pt = b"crafted %08x" % i
            body = g.encrypt(pt)
            dm = decode_megolm(body)
            assert dm["message_index"] == i
            exp_ratchet = megolm_advance_to(ratchet, start, i)
            assert megolm_open(exp_ratchet, body, ed_pub(seed)) == pt
            res = libolm_try(lambda: (lambda r: {"pt_hex": h(r[0]), "index": r[1]})(ig.decrypt(body)))
            msgs.append({"index": i, "pt_hex": h(pt), "body": body, "computed_ratchet": h(exp_ratchet),
                         "inbound_from_session_key_libolm": res})
        out.append({"label": label, "start_counter": start, "ratchet": h(ratchet), "ed25519_seed": h(seed),
                    "crafted_pickle_raw_hex": h(raw), "crafted_pickle_key_hex": "", "crafted_pickle": p,
                    "session_key": sk, "messages": msgs, "index_after": g.message_index()})
    return out


# ------------------------------------------------------------------ pickles.json

def gen_pickles(olm_objs, megolm_doc, megolm_objs):
    rng = Rng("pickles")
    entries = {}

    def add(name, obj, key, desc):
        e = pickled(obj, key)
        e["object"] = type(obj).__name__
        e["description"] = desc
        entries[name] = e
        return e

    rich, rich_info = make_account(rng, "rich", n_otks=5, publish=True)
    rich_info["one_time_keys"] += gen_otks(rich, rng, "rich", 2)
    rich.generate_fallback_key(rng.for_("rich"))
    rich.mark_keys_as_published()
    rich.generate_fallback_key(rng.for_("rich"))
    desc = ("account with 7 one-time keys (ids 1-5 published, 6-7 not), a published fallback key "
            "(id 8, now previous) and an unpublished current fallback key (id 9)")
    e = add("account_rich", rich, PICKLE_KEY, desc)
    f = e["fields"]
    assert [k["id"] for k in f["one_time_keys"]] == [7, 6, 5, 4, 3, 2, 1]
    assert [k["id"] for k in f["fallback_keys_current_then_previous"]] == [9, 8]
    add("account_rich_empty_key", rich, b"", desc + "; empty pickle key")
    fresh, fresh_info = make_account(rng, "fresh")
    add("account_fresh", fresh, PICKLE_KEY, "new account: no one-time keys, no fallback key")
    one, one_info = make_account(rng, "onefb", n_otks=1, publish=False)
    one.generate_fallback_key(rng.for_("onefb"))
    add("account_one_fallback", one, PICKLE_KEY, "one unpublished one-time key and one unpublished fallback key")
    accounts_info = {"rich": rich_info, "fresh": fresh_info, "onefb": one_info}

    add("session_outbound_new", olm_objs["alice_session_new"], PICKLE_KEY,
        "Alice's outbound session right after olm_create_outbound_session (olm_transcript.json)")
    add("session_outbound_final", olm_objs["alice_session"], PICKLE_KEY,
        "Alice's (outbound) session at the end of olm_transcript.json")
    add("session_outbound_final_empty_key", olm_objs["alice_session"], b"",
        "same, empty pickle key (equals olm_transcript.json final.alice.pickle)")
    add("session_inbound_final", olm_objs["bob_session"], PICKLE_KEY,
        "Bob's (inbound) session at the end of olm_transcript.json")

    add("group_outbound", megolm_objs["outbound"], PICKLE_KEY,
        "megolm.json's outbound group session after its last message (counter 65537)")
    add("group_inbound_verified", megolm_objs["inbound_verified"], PICKLE_KEY,
        "megolm.json's inbound session from session_keys[0] after decrypting up to index 65536")
    imp = R.InboundGroupSession.import_session(megolm_doc["inbound"]["exports"]["256"]["exported"])
    add("group_inbound_imported", imp, PICKLE_KEY,
        "inbound session imported from megolm.json exports[256], nothing decrypted yet (not verified)")

    # negative cases: libolm's own answer to damaged pickles
    negative = []
    base_raw = bytes.fromhex(entries["account_fresh"]["raw_hex"])

    def neg(name, desc, cls, raw, expected, key=PICKLE_KEY, pickle=None):
        p = pickle if pickle is not None else pickle_encrypt(raw, key)
        res = libolm_try(lambda: cls.unpickle(p, key) and "unpickled")
        assert res == {"result": "error", "error": expected}, (name, res)
        negative.append({"expected_libolm": expected, "name": name, "description": desc, "object": cls.__name__,
                         "pickle_key_hex": h(key), "pickle": p,
                         "raw_hex": h(raw) if raw is not None else None, "libolm": res})
        return res
    neg("account_wrong_key", "account_fresh pickle opened with the key b'wrong key'", R.Account, None,
        "BAD_ACCOUNT_KEY", key=b"wrong key", pickle=entries["account_fresh"]["pickle"])
    neg("account_trailing_byte", "account_fresh raw pickle plus one 0x00 byte", R.Account, base_raw + b"\x00",
        "OLM_PICKLE_EXTRA_DATA")
    neg("account_truncated", "account_fresh raw pickle minus its last byte", R.Account, base_raw[:-1],
        "CORRUPTED_PICKLE")
    neg("account_version_5", "account_fresh raw pickle with version 5", R.Account,
        struct.pack(">I", 5) + base_raw[4:], "UNKNOWN_PICKLE_VERSION")
    neg("account_version_1", "account_fresh raw pickle with version 1", R.Account,
        struct.pack(">I", 1) + base_raw[4:], "BAD_LEGACY_ACCOUNT_PICKLE")
    sess_raw = bytes.fromhex(entries["session_outbound_new"]["raw_hex"])
    neg("session_trailing_byte", "session_outbound_new raw pickle plus one 0x00 byte", R.Session,
        sess_raw + b"\x00", "OLM_PICKLE_EXTRA_DATA")
    bad_mac = bytearray(b64d(entries["group_outbound"]["pickle"]))
    bad_mac[-1] ^= 1
    neg("group_outbound_bad_mac", "group_outbound pickle with its last (MAC) byte flipped",
        R.OutboundGroupSession, None, "BAD_ACCOUNT_KEY", pickle=b64e(bytes(bad_mac)))

    return {
        "_comment": comment("libolm pickles with their decrypted plaintexts"),
        "libolm_version": VERSION,
        "notes": [
            "pickle = unpadded base64(AES-256-CBC-PKCS7(raw) || HMAC-SHA-256(MAC_KEY, ciphertext)[0..8]), "
            "AES_KEY(32) || MAC_KEY(32) || IV(16) = HKDF-SHA-256(salt = 32 zero bytes, ikm = pickle key, info = 'Pickle', 80).",
            "raw_hex is the decrypted plaintext; fields is generate.py's parse of it (the parser asserts every byte is used, "
            "that every Curve25519 pair matches, and generate.py re-encrypts raw to the identical pickle).",
            "Versions seen: Account 4, Session 1, OutboundGroupSession 1, InboundGroupSession 2.",
            "Lists in account pickles are newest first; session receiver_chains are newest first.",
            "negative: libolm's errors for damaged pickles; note a bad pickle MAC is BAD_ACCOUNT_KEY for every object type.",
            "Ed25519 private keys are stored expanded (64 bytes: clamped SHA-512(seed)[0..32] || SHA-512(seed)[32..64]); "
            "the seeds are in accounts_info / megolm.json.",
        ],
        "pickle_key_hex": h(PICKLE_KEY),
        "pickle_key_text": PICKLE_KEY.decode(),
        "random_log": rng.log,
        "accounts_info": accounts_info,
        "pickles": entries,
        "negative": negative,
    }


# ------------------------------------------------------------------ main

def write(name, doc):
    path = os.path.join(HERE, name)
    text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    with open(path, "w") as f:
        f.write(text)
    assert json.load(open(path)) == json.loads(text)
    print("wrote %s (%d bytes)" % (os.path.relpath(path, ROOT), len(text)))


def main():
    assert VERSION == "3.2.16", VERSION
    transcript, olm_objs = gen_olm_transcript()
    write("olm_transcript.json", transcript)
    fallback, _ = gen_olm_fallback()
    write("olm_fallback.json", fallback)
    megolm, megolm_objs = gen_megolm()
    write("megolm.json", megolm)
    write("pickles.json", gen_pickles(olm_objs, megolm, megolm_objs))


if __name__ == "__main__":
    main()
