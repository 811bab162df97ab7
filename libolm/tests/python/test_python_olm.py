"""python-olm 3.2.16, built from its source package against caudata-libolm, driven through its
whole API, and in live conversations with the stock python-olm wheel (real libolm 3.2.16) in
another process, in both directions, with pickles moved between the two.

Run by libolm/tests/python/run.sh, which builds python-olm against OLM_PREFIX and sets
STOCK_PYTHON to the interpreter of the stock wheel (interop/libolm/.venv). Every test asserts
an outcome; a missing peer or library is a failure, never a skip.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import unittest

import olm
from olm import (
    Account,
    InboundGroupSession,
    InboundSession,
    OlmGroupSessionError,
    OlmMessage,
    OlmPreKeyMessage,
    OlmSessionError,
    OutboundGroupSession,
    OutboundSession,
    PkDecryption,
    PkDecryptionError,
    PkEncryption,
    PkSigning,
    Sas,
)

PREFIX = os.environ["OLM_PREFIX"]
STOCK_PYTHON = os.environ["STOCK_PYTHON"]
HERE = os.path.dirname(os.path.abspath(__file__))


def loaded_libolm():
    """The libolm shared objects this process has loaded."""
    with open("/proc/self/maps") as f:
        return sorted({line.split()[-1] for line in f if "libolm.so" in line})


def b64decode(s):
    return base64.b64decode(s + "=" * (-len(s) % 4))


class Stock:
    """The stock python-olm (real libolm) in another process, over olm_rpc.py."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [STOCK_PYTHON, os.path.join(HERE, "olm_rpc.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.n = 0

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)

    def _req(self, req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the stock python-olm peer exited")
        resp = json.loads(line)
        if not resp["ok"]:
            raise StockError(resp["error"])
        return resp["value"]

    def new_handle(self):
        self.n += 1
        return "h%d" % self.n

    def call(self, target, attr, *args, store=False):
        h = self.new_handle() if store else None
        value = self._req(
            {"op": "call", "target": target, "attr": attr, "args": [enc(a) for a in args], "store": h}
        )
        return (h, value) if store else dec(value)

    def make(self, cls, *args):
        """A new stock object; returns its handle."""
        return self.call("olm", cls, *args, store=True)[0]

    def get(self, handle, attr):
        return dec(self._req({"op": "get", "target": handle, "attr": attr}))

    def library(self):
        return self._req({"op": "library"})


class StockError(Exception):
    pass


def enc(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$b": bytes(v).hex()}
    if isinstance(v, (OlmMessage, OlmPreKeyMessage)):
        return {"$olm": v.message_type, "ciphertext": v.ciphertext}
    if isinstance(v, olm.PkMessage):
        return {"$pk": [v.ephemeral_key, v.mac, v.ciphertext]}
    if isinstance(v, Ref):
        return {"$h": v.handle}
    return v


def dec(v):
    if isinstance(v, dict):
        if "$b" in v:
            return bytes.fromhex(v["$b"])
        if "$olm" in v:
            return (OlmPreKeyMessage if v["$olm"] == 0 else OlmMessage)(v["ciphertext"])
        if "$pk" in v:
            return olm.PkMessage(*v["$pk"])
        return {k: dec(x) for k, x in v.items()}
    if isinstance(v, list):
        return [dec(x) for x in v]
    return v


class Ref:
    """An argument naming a stock object by handle."""

    def __init__(self, handle):
        self.handle = handle


STOCK = None


def setUpModule():
    global STOCK
    STOCK = Stock()


def tearDownModule():
    STOCK.close()


# ------------------------------------------------------------------------------ environment


class Environment(unittest.TestCase):
    def test_this_process_uses_caudatas_libolm(self):
        libs = loaded_libolm()
        self.assertTrue(libs, "no libolm.so loaded")
        for lib in libs:
            self.assertTrue(os.path.realpath(lib).startswith(os.path.realpath(PREFIX)), lib)
        # caudata's objects are not libolm's sizes
        from _libolm import lib as clib

        self.assertEqual(clib.olm_account_size(), 16 + 4 + 96 + 64 + 4 + 100 * 69 + 1 + 2 * 69 + 4)

    def test_the_stock_peer_uses_real_libolm(self):
        libs = STOCK.library()
        self.assertTrue(libs)
        self.assertFalse(any(os.path.realpath(PREFIX) in os.path.realpath(p) for p in libs), libs)


# ------------------------------------------------------------------------------ python-olm API


class AccountTest(unittest.TestCase):
    def test_identity_keys_and_signature(self):
        a = Account()
        keys = a.identity_keys
        self.assertEqual(set(keys), {"curve25519", "ed25519"})
        self.assertEqual(len(b64decode(keys["curve25519"])), 32)
        sig = a.sign("a message")
        self.assertEqual(len(b64decode(sig)), 64)
        olm.ed25519_verify(keys["ed25519"], "a message", sig)
        with self.assertRaises(olm.OlmVerifyError):
            olm.ed25519_verify(keys["ed25519"], "another message", sig)

    def test_one_time_keys_follow_libolms_contract(self):
        a = Account()
        self.assertEqual(a.max_one_time_keys, 100)
        self.assertEqual(a.one_time_keys, {"curve25519": {}})
        a.generate_one_time_keys(3)
        keys = a.one_time_keys["curve25519"]
        # libolm's 32-bit ids from 1, as base64 of 4 big-endian bytes
        self.assertEqual(sorted(keys), ["AAAAAQ", "AAAAAg", "AAAAAw"])
        a.mark_keys_as_published()
        self.assertEqual(a.one_time_keys, {"curve25519": {}})
        a.generate_one_time_keys(150)
        self.assertEqual(len(a.one_time_keys["curve25519"]), 100)
        # the newest 100 are kept: ids 54 to 153
        ids = sorted(int.from_bytes(b64decode(i), "big") for i in a.one_time_keys["curve25519"])
        self.assertEqual((ids[0], ids[-1]), (54, 153))

    def test_fallback_keys_share_the_counter(self):
        a = Account()
        a.generate_one_time_keys(2)
        self.assertEqual(a.fallback_key, {"curve25519": {}})
        a.generate_fallback_key()
        fb = a.fallback_key["curve25519"]
        self.assertEqual(list(fb), ["AAAAAw"])
        a.mark_keys_as_published()
        self.assertEqual(a.fallback_key, {"curve25519": {}})
        a.generate_fallback_key()
        self.assertEqual(list(a.fallback_key["curve25519"]), ["AAAABA"])
        a.forget_old_fallback_key()

    def test_pickle_round_trip_and_errors(self):
        a = Account()
        a.generate_one_time_keys(5)
        p = a.pickle("secret")
        b = Account.from_pickle(p, "secret")
        self.assertEqual(a.identity_keys, b.identity_keys)
        self.assertEqual(a.one_time_keys, b.one_time_keys)
        self.assertEqual(b.pickle("secret"), p)
        with self.assertRaisesRegex(olm.OlmAccountError, "BAD_ACCOUNT_KEY"):
            Account.from_pickle(p, "wrong")
        with self.assertRaisesRegex(olm.OlmAccountError, "INVALID_BASE64"):
            # libolm detects only a length that leaves one character over
            Account.from_pickle(p + b"A" * ((1 - len(p)) % 4), "secret")
        with self.assertRaises(ValueError):
            Account.from_pickle("", "secret")

    def test_remove_one_time_keys(self):
        alice, bob = Account(), Account()
        bob.generate_one_time_keys(1)
        otk = list(bob.one_time_keys["curve25519"].values())[0]
        s = OutboundSession(alice, bob.identity_keys["curve25519"], otk)
        m = s.encrypt("hi")
        b = InboundSession(bob, m)
        bob.remove_one_time_keys(b)
        self.assertEqual(bob.one_time_keys, {"curve25519": {}})
        with self.assertRaisesRegex(olm.OlmAccountError, "BAD_MESSAGE_KEY_ID"):
            bob.remove_one_time_keys(b)


def pair():
    alice, bob = Account(), Account()
    bob.generate_one_time_keys(1)
    otk = list(bob.one_time_keys["curve25519"].values())[0]
    a = OutboundSession(alice, bob.identity_keys["curve25519"], otk)
    return alice, bob, a


class SessionTest(unittest.TestCase):
    def test_conversation(self):
        alice, bob, a = pair()
        m = a.encrypt("first")
        self.assertIsInstance(m, OlmPreKeyMessage)
        b = InboundSession(bob, m, alice.identity_keys["curve25519"])
        self.assertEqual(b.decrypt(m), "first")
        self.assertEqual(a.id, b.id)
        self.assertTrue(b.matches(m))
        self.assertTrue(b.matches(m, alice.identity_keys["curve25519"]))
        self.assertFalse(b.matches(m, bob.identity_keys["curve25519"]))
        r = b.encrypt("reply")
        self.assertIsInstance(r, OlmMessage)
        self.assertEqual(a.decrypt(r), "reply")
        for i in range(5):
            self.assertEqual(b.decrypt(a.encrypt("n%d" % i)), "n%d" % i)
        # out of order within a chain
        m1, m2 = a.encrypt("one"), a.encrypt("two")
        self.assertEqual(b.decrypt(m2), "two")
        self.assertEqual(b.decrypt(m1), "one")

    def test_errors(self):
        alice, bob, a = pair()
        m = a.encrypt("first")
        b = InboundSession(bob, m)
        self.assertEqual(b.decrypt(m), "first")
        with self.assertRaisesRegex(OlmSessionError, "BAD_MESSAGE_MAC"):
            b.decrypt(m)  # replayed: its key is used
        r = b.encrypt("x")
        raw = bytearray(b64decode(r.ciphertext))
        raw[-1] ^= 1
        with self.assertRaisesRegex(OlmSessionError, "BAD_MESSAGE_MAC"):
            a.decrypt(OlmMessage(base64.b64encode(bytes(raw)).decode().rstrip("=")))
        self.assertEqual(a.decrypt(r), "x")  # the failure changed nothing
        with self.assertRaisesRegex(OlmSessionError, "BAD_MESSAGE_KEY_ID"):
            InboundSession(Account(), m)
        with self.assertRaisesRegex(OlmSessionError, "BAD_MESSAGE_KEY_ID"):
            InboundSession(bob, m, Account().identity_keys["curve25519"])

    def test_pickle_and_describe(self):
        alice, bob, a = pair()
        m = a.encrypt("hi")
        b = InboundSession(bob, m)
        b.decrypt(m)
        p = b.pickle("k")
        b2 = olm.Session.from_pickle(p, "k")
        self.assertEqual(b2.id, b.id)
        self.assertEqual(b2.pickle("k"), p)
        self.assertEqual(b2.decrypt(a.encrypt("again")), "again")
        d = b2.describe()
        self.assertTrue(d.startswith("sender chain index: 0 receiver chain indices: 2"), d)
        self.assertTrue(b2.describe(30).endswith("..."))
        with self.assertRaisesRegex(OlmSessionError, "BAD_ACCOUNT_KEY"):
            olm.Session.from_pickle(p, "other")

    def test_fallback_key_session(self):
        alice, bob = Account(), Account()
        bob.generate_fallback_key()
        fb = list(bob.fallback_key["curve25519"].values())[0]
        a = OutboundSession(alice, bob.identity_keys["curve25519"], fb)
        m = a.encrypt("via fallback")
        b = InboundSession(bob, m)
        self.assertEqual(b.decrypt(m), "via fallback")
        bob.remove_one_time_keys(b)  # a fallback key is kept, without error
        b2 = InboundSession(bob, a.encrypt("again"))
        self.assertEqual(b2.id, b.id)


class GroupSessionTest(unittest.TestCase):
    def test_group_conversation(self):
        out = OutboundGroupSession()
        self.assertEqual(out.message_index, 0)
        inb = InboundGroupSession(out.session_key)
        self.assertEqual(inb.id, out.id)
        self.assertEqual(inb.first_known_index, 0)
        for i in range(3):
            self.assertEqual(inb.decrypt(out.encrypt("m%d" % i)), ("m%d" % i, i))
        self.assertEqual(out.message_index, 3)

    def test_export_import_and_indices(self):
        out = OutboundGroupSession()
        inb = InboundGroupSession(out.session_key)
        msgs = [out.encrypt("m%d" % i) for i in range(5)]
        from _libolm import lib  # python-olm 3.2.16 does not wrap olm_inbound_group_session_is_verified

        self.assertEqual(lib.olm_inbound_group_session_is_verified(inb._session), 1)
        self.assertEqual(inb.export_session(0), InboundGroupSession.import_session(inb.export_session(0)).export_session(0))
        later = InboundGroupSession.import_session(inb.export_session(2))
        self.assertEqual(lib.olm_inbound_group_session_is_verified(later._session), 0)
        self.assertEqual(later.first_known_index, 2)
        self.assertEqual(later.decrypt(msgs[3]), ("m3", 3))
        # a message decrypted with the session key's signature: libolm counts it as genuine
        self.assertEqual(lib.olm_inbound_group_session_is_verified(later._session), 1)
        with self.assertRaisesRegex(OlmGroupSessionError, "UNKNOWN_MESSAGE_INDEX"):
            later.decrypt(msgs[1])

    def test_pickles_and_errors(self):
        out = OutboundGroupSession()
        m = out.encrypt("x")
        out2 = OutboundGroupSession.from_pickle(out.pickle("k"), "k")
        self.assertEqual((out2.id, out2.message_index), (out.id, 1))
        inb = InboundGroupSession(out.session_key)
        inb2 = InboundGroupSession.from_pickle(inb.pickle("k"), "k")
        self.assertEqual(inb2.pickle("k"), inb.pickle("k"))
        with self.assertRaisesRegex(OlmGroupSessionError, "UNKNOWN_MESSAGE_INDEX"):
            inb2.decrypt(m)  # the key was shared after message 0
        raw = bytearray(b64decode(out.encrypt("y")))
        raw[-70] ^= 1  # inside the MAC: the signature no longer verifies
        with self.assertRaisesRegex(OlmGroupSessionError, "BAD_SIGNATURE"):
            inb2.decrypt(base64.b64encode(bytes(raw)).decode().rstrip("="))
        with self.assertRaisesRegex(OlmGroupSessionError, "BAD_SESSION_KEY"):
            InboundGroupSession(out.session_key[:-4])


class PkTest(unittest.TestCase):
    def test_encryption_decryption_and_pickle(self):
        d = PkDecryption()
        e = PkEncryption(d.public_key)
        m = e.encrypt("backup")
        self.assertEqual(d.decrypt(m), "backup")
        d2 = PkDecryption.from_pickle(d.pickle("k"), "k")
        self.assertEqual(d2.public_key, d.public_key)
        self.assertEqual(d2.decrypt(m), "backup")
        with self.assertRaisesRegex(PkDecryptionError, "BAD_MESSAGE_MAC"):
            PkDecryption().decrypt(m)

    def test_private_key_through_the_raw_interface(self):
        # python-olm 3.2.16 does not wrap olm_pk_get_private_key: call it through its cffi
        # module, as mautrix-python calls functions python-olm does not wrap
        from _libolm import ffi, lib

        memory = ffi.new("char[]", lib.olm_pk_decryption_size())
        d = lib.olm_pk_decryption(memory)
        private = bytes(range(32))
        pub = ffi.new("char[]", lib.olm_pk_key_length())
        self.assertEqual(lib.olm_pk_key_from_private(d, pub, lib.olm_pk_key_length(), private, 32), 0)
        out = ffi.new("char[]", 32)
        self.assertEqual(lib.olm_pk_get_private_key(d, out, 32), 32)
        self.assertEqual(ffi.unpack(out, 32), private)
        self.assertEqual(lib.olm_pk_get_private_key(d, out, 31), lib.olm_error())
        self.assertEqual(ffi.string(lib.olm_pk_decryption_last_error(d)), b"OUTPUT_BUFFER_TOO_SMALL")
        e = PkEncryption(ffi.unpack(pub, 43).decode())
        d2 = PkDecryption()
        # python-olm clears d2's own object when d2 dies (a finalizer holding its pointer): keep
        # its memory alive beside the raw object, or the clear writes into freed memory
        d2._own = (d2._buf, d2._pk_decryption)
        d2._buf, d2._pk_decryption = memory, d  # decrypt with the raw object
        self.assertEqual(d2.decrypt(e.encrypt("raw")), "raw")

    def test_describe_through_the_raw_interface(self):
        # mautrix-python calls olm_session_describe through python-olm's cffi module
        from _libolm import ffi, lib

        alice, bob, a = pair()
        b = InboundSession(bob, a.encrypt("x"))
        buf = ffi.new("char[]", 600)
        lib.olm_session_describe(b._session, buf, 600)
        self.assertEqual(ffi.string(buf).decode(), b.describe())
        self.assertEqual(
            ffi.string(buf).decode(), "sender chain index: 0 receiver chain indices: 0 skipped message keys:"
        )

    def test_signing(self):
        seed = PkSigning.generate_seed()
        s = PkSigning(seed)
        sig = s.sign("cross-signing")
        olm.ed25519_verify(s.public_key, "cross-signing", sig)
        self.assertEqual(PkSigning(seed).public_key, s.public_key)
        self.assertEqual(PkSigning(seed).sign("cross-signing"), sig)


class SasTest(unittest.TestCase):
    def test_both_sides_agree(self):
        a, b = Sas(), Sas()
        self.assertFalse(a.other_key_set)
        with self.assertRaises(olm.OlmSasError):
            a.generate_bytes("info", 6)
        a.set_their_pubkey(b.pubkey)
        b.set_their_pubkey(a.pubkey)
        self.assertTrue(a.other_key_set)
        self.assertEqual(a.generate_bytes("info", 6), b.generate_bytes("info", 6))
        for method in ("calculate_mac", "calculate_mac_fixed_base64", "calculate_mac_long_kdf"):
            self.assertEqual(getattr(a, method)("key", "info"), getattr(b, method)("key", "info"), method)
        self.assertNotEqual(a.calculate_mac("key", "info"), a.calculate_mac_fixed_base64("key", "info"))
        with self.assertRaises(olm.OlmSasError):
            Sas().set_their_pubkey("A" * 43)  # the all-zero key: refused (non-contributory)


class UtilityTest(unittest.TestCase):
    def test_sha256(self):
        expected = base64.b64encode(hashlib.sha256(b"Hello, World").digest()).decode().rstrip("=")
        self.assertEqual(olm.sha256("Hello, World"), expected)

    def test_strict_ed25519(self):
        s = PkSigning(PkSigning.generate_seed())
        sig = bytearray(b64decode(s.sign("m")))
        # S + L (a malleated signature) is refused
        l_order = 2**252 + 27742317777372353535851937790883648493
        scalar = int.from_bytes(sig[32:], "little") + l_order
        sig[32:] = scalar.to_bytes(32, "little")
        with self.assertRaises(olm.OlmVerifyError):
            olm.ed25519_verify(s.public_key, "m", base64.b64encode(bytes(sig)).decode().rstrip("="))


# ------------------------------------------------------------------------------ live with libolm


class LiveOlm(unittest.TestCase):
    def converse(self, ours, theirs_handle, first_from_us):
        """Messages both ways between our session and the stock one, several rounds."""
        for i in range(4):
            if (i % 2 == 0) == first_from_us:
                m = ours.encrypt("from caudata %d" % i)
                self.assertEqual(STOCK.call(theirs_handle, "decrypt", m), "from caudata %d" % i)
            else:
                m = STOCK.call(theirs_handle, "encrypt", "from libolm %d" % i)
                self.assertEqual(ours.decrypt(m), "from libolm %d" % i)

    def test_caudata_starts(self):
        alice = Account()
        bob = STOCK.make("Account")
        STOCK.call(bob, "generate_one_time_keys", 2)
        otk = list(STOCK.get(bob, "one_time_keys")["curve25519"].values())[0]
        bob_id = STOCK.get(bob, "identity_keys")["curve25519"]
        a = OutboundSession(alice, bob_id, otk)
        m = a.encrypt("hello libolm")
        b, _ = STOCK.call("olm", "InboundSession", Ref(bob), m, alice.identity_keys["curve25519"], store=True)
        self.assertEqual(STOCK.call(b, "decrypt", m), "hello libolm")
        STOCK.call(bob, "remove_one_time_keys", Ref(b))
        self.assertEqual(STOCK.get(b, "id"), a.id)
        self.converse(a, b, first_from_us=False)

    def test_libolm_starts(self):
        alice = STOCK.make("Account")
        bob = Account()
        bob.generate_one_time_keys(2)
        otk = list(bob.one_time_keys["curve25519"].values())[1]
        a, _ = STOCK.call("olm", "OutboundSession", Ref(alice), bob.identity_keys["curve25519"], otk, store=True)
        m = STOCK.call(a, "encrypt", "hello caudata")
        self.assertIsInstance(m, OlmPreKeyMessage)
        b = InboundSession(bob, m)
        self.assertEqual(b.decrypt(m), "hello caudata")
        bob.remove_one_time_keys(b)
        self.assertEqual(len(bob.one_time_keys["curve25519"]), 1)
        self.converse(b, a, first_from_us=True)

    def test_pickles_cross_over_byte_for_byte(self):
        # an account made by libolm, continued by caudata, and back
        bob_stock = STOCK.make("Account")
        STOCK.call(bob_stock, "generate_one_time_keys", 5)
        STOCK.call(bob_stock, "generate_fallback_key")
        p = STOCK.call(bob_stock, "pickle", "pk")
        bob = Account.from_pickle(p, "pk")
        self.assertEqual(bob.pickle("pk"), p)  # caudata writes libolm's bytes
        self.assertEqual(bob.identity_keys, STOCK.get(bob_stock, "identity_keys"))
        self.assertEqual(bob.sign("same"), STOCK.call(bob_stock, "sign", "same"))
        self.assertEqual(bob.fallback_key, STOCK.get(bob_stock, "fallback_key"))
        bob.generate_one_time_keys(3)
        back, _ = STOCK.call("olm", "Account.from_pickle", bob.pickle("pk"), "pk", store=True)
        self.assertEqual(STOCK.get(back, "one_time_keys"), bob.one_time_keys)
        # a session pickled mid-conversation by each side continues on the other
        alice = Account()
        otk = list(bob.one_time_keys["curve25519"].values())[0]
        a = OutboundSession(alice, bob.identity_keys["curve25519"], otk)
        m = a.encrypt("1")
        b, _ = STOCK.call("olm", "InboundSession", Ref(back), m, store=True)
        self.assertEqual(STOCK.call(b, "decrypt", m), "1")
        a_stock, _ = STOCK.call("olm", "Session.from_pickle", a.pickle("sk"), "sk", store=True)
        self.assertEqual(STOCK.call(a_stock, "pickle", "sk"), a.pickle("sk"))
        self.assertEqual(STOCK.call(b, "decrypt", STOCK.call(a_stock, "encrypt", "2")), "2")
        b_ours = olm.Session.from_pickle(STOCK.call(b, "pickle", "sk"), "sk")
        self.assertEqual(b_ours.pickle("sk"), STOCK.call(b, "pickle", "sk"))
        r = b_ours.encrypt("3")
        self.assertEqual(STOCK.call(a_stock, "decrypt", r), "3")
        self.assertEqual(b_ours.decrypt(STOCK.call(a_stock, "encrypt", "4")), "4")


class LiveMegolm(unittest.TestCase):
    def test_caudata_sends_libolm_receives(self):
        out = OutboundGroupSession()
        inb = STOCK.make("InboundGroupSession", out.session_key)
        for i in range(3):
            self.assertEqual(STOCK.call(inb, "decrypt", out.encrypt("c%d" % i)), ["c%d" % i, i])
        exported = STOCK.call(inb, "export_session", 1)
        ours = InboundGroupSession.import_session(exported)
        self.assertEqual(ours.first_known_index, 1)
        self.assertEqual(ours.decrypt(out.encrypt("c3")), ("c3", 3))

    def test_libolm_sends_caudata_receives(self):
        out = STOCK.make("OutboundGroupSession")
        inb = InboundGroupSession(STOCK.get(out, "session_key"))
        for i in range(3):
            self.assertEqual(inb.decrypt(STOCK.call(out, "encrypt", "l%d" % i)), ("l%d" % i, i))
        back = STOCK.make("InboundGroupSession.import_session", inb.export_session(2))
        self.assertEqual(STOCK.call(back, "decrypt", STOCK.call(out, "encrypt", "l3")), ["l3", 3])

    def test_group_pickles_cross_over(self):
        out = STOCK.make("OutboundGroupSession")
        STOCK.call(out, "encrypt", "advance")
        p = STOCK.call(out, "pickle", "gk")
        ours = OutboundGroupSession.from_pickle(p, "gk")
        self.assertEqual(ours.pickle("gk"), p)
        self.assertEqual(ours.session_key, STOCK.get(out, "session_key"))
        m = ours.encrypt("continued by caudata")
        inb = STOCK.make("InboundGroupSession", STOCK.get(out, "session_key"))
        self.assertEqual(STOCK.call(inb, "decrypt", m), ["continued by caudata", 1])
        ip = STOCK.call(inb, "pickle", "gk")
        inb_ours = InboundGroupSession.from_pickle(ip, "gk")
        self.assertEqual(inb_ours.pickle("gk"), ip)
        self.assertEqual(inb_ours.decrypt(ours.encrypt("again")), ("again", 2))


class LiveTwins(unittest.TestCase):
    """The same state loaded into caudata and into libolm (from one pickle), then the same
    deterministic operations on both (decryption, exports, key bookkeeping): their outputs and
    their pickles must stay byte-identical. (An operation that draws random bytes cannot be
    repeated on a twin, as python-olm takes them from the OS: after one, caudata's twin is
    reloaded from libolm's pickle.)"""

    def assert_twins(self, ours, theirs):
        self.assertEqual(ours.pickle("t"), STOCK.call(theirs, "pickle", "t"))

    def test_session_with_delayed_messages_across_chains(self):
        # libolm keeps one list of skipped keys for all chains, newest first, and keeps a
        # chain's keys after its chain is forgotten
        a = STOCK.make("Account")
        b = STOCK.make("Account")
        STOCK.call(b, "generate_one_time_keys", 1)
        otk = list(STOCK.get(b, "one_time_keys")["curve25519"].values())[0]
        bid = STOCK.get(b, "identity_keys")["curve25519"]
        sa, _ = STOCK.call("olm", "OutboundSession", Ref(a), bid, otk, store=True)
        m0 = STOCK.call(sa, "encrypt", "hello")
        sb, _ = STOCK.call("olm", "InboundSession", Ref(b), m0, store=True)
        STOCK.call(sb, "decrypt", m0)
        chains = []
        for round_ in range(7):
            # Bob answers (random: libolm's session makes it), Alice moves to a new chain
            STOCK.call(sa, "decrypt", STOCK.call(sb, "encrypt", "r%d" % round_))
            ours = olm.Session.from_pickle(STOCK.call(sb, "pickle", "t"), "t")
            chains.append([STOCK.call(sa, "encrypt", "c%d-%d" % (round_, i)) for i in range(7)])
            late = [chains[-2][5 - round_ % 3]] if len(chains) > 1 else []
            for m in [chains[-1][6]] + late:
                self.assertEqual(ours.decrypt(m), STOCK.call(sb, "decrypt", m))
                self.assert_twins(ours, sb)
            self.assertEqual(ours.describe(), STOCK.call(sb, "describe"))
        # the rest, oldest chains first: both decrypt the same ones (the 40 newest skipped
        # keys of still-known chains), in the same states
        decrypted = 0
        for chain in chains:
            for m in chain[:6]:
                try:
                    pt = ours.decrypt(m)
                except OlmSessionError as e:
                    with self.assertRaisesRegex(StockError, str(e)):
                        STOCK.call(sb, "decrypt", m)
                    continue
                self.assertEqual(pt, STOCK.call(sb, "decrypt", m))
                decrypted += 1
                self.assert_twins(ours, sb)
        self.assertGreater(decrypted, 10)
        self.assertEqual(ours.describe(), STOCK.call(sb, "describe"))

    def test_account_operations(self):
        theirs = STOCK.make("Account")
        STOCK.call(theirs, "generate_one_time_keys", 150)
        STOCK.call(theirs, "generate_fallback_key")
        STOCK.call(theirs, "mark_keys_as_published")
        STOCK.call(theirs, "generate_fallback_key")
        ours = Account.from_pickle(STOCK.call(theirs, "pickle", "t"), "t")
        self.assert_twins(ours, theirs)
        self.assertEqual(ours.one_time_keys, STOCK.get(theirs, "one_time_keys"))
        self.assertEqual(ours.fallback_key, STOCK.get(theirs, "fallback_key"))
        for op in ("mark_keys_as_published", "forget_old_fallback_key"):
            getattr(ours, op)()
            STOCK.call(theirs, op)
            self.assert_twins(ours, theirs)
        self.assertEqual(ours.max_one_time_keys, STOCK.get(theirs, "max_one_time_keys"))

    def test_inbound_group_session_decrypts_and_exports(self):
        out = OutboundGroupSession()
        theirs = STOCK.make("InboundGroupSession", out.session_key)
        msgs = [out.encrypt("m%d" % i) for i in range(8)]
        ours = InboundGroupSession.from_pickle(STOCK.call(theirs, "pickle", "t"), "t")
        for i in (5, 2, 7, 0, 3):
            self.assertEqual(ours.decrypt(msgs[i]), tuple(STOCK.call(theirs, "decrypt", msgs[i])))
            self.assert_twins(ours, theirs)
        # libolm's export at a later index moves its cached ratchet; caudata's does too
        for i in (1, 6, 9, 4):
            self.assertEqual(ours.export_session(i), STOCK.call(theirs, "export_session", i))
            self.assert_twins(ours, theirs)


class LivePkSasSigning(unittest.TestCase):
    def test_pk_both_ways_and_pickles(self):
        d = PkDecryption()
        m = STOCK.call("olm", "PkEncryption", d.public_key, store=True)[0]
        self.assertEqual(d.decrypt(STOCK.call(m, "encrypt", "to caudata")), "to caudata")
        d_stock = STOCK.make("PkDecryption")
        e = PkEncryption(STOCK.get(d_stock, "public_key"))
        self.assertEqual(STOCK.call(d_stock, "decrypt", e.encrypt("to libolm")), "to libolm")
        p = STOCK.call(d_stock, "pickle", "pk")
        ours = PkDecryption.from_pickle(p, "pk")
        self.assertEqual(ours.pickle("pk"), p)
        self.assertEqual(ours.decrypt(e.encrypt("again")), "again")

    def test_sas_with_libolm(self):
        ours = Sas()
        theirs = STOCK.make("Sas")
        ours.set_their_pubkey(STOCK.get(theirs, "pubkey"))
        STOCK.call(theirs, "set_their_pubkey", ours.pubkey)
        self.assertEqual(ours.generate_bytes("SAS", 6), STOCK.call(theirs, "generate_bytes", "SAS", 6))
        for method in ("calculate_mac", "calculate_mac_fixed_base64", "calculate_mac_long_kdf"):
            self.assertEqual(getattr(ours, method)("k", "i"), STOCK.call(theirs, method, "k", "i"), method)

    def test_signing_is_byte_identical(self):
        seed = PkSigning.generate_seed()
        s = STOCK.make("PkSigning", seed)
        self.assertEqual(PkSigning(seed).public_key, STOCK.get(s, "public_key"))
        self.assertEqual(PkSigning(seed).sign("same"), STOCK.call(s, "sign", "same"))
        self.assertEqual(olm.sha256("x"), STOCK.call("olm", "sha256", "x"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
