#!/usr/bin/env python3
"""Smoke test of peer.py: Alice and Bob both inside one peer process.

    interop/libolm/setup.sh && interop/libolm/.venv/bin/python interop/libolm/smoke_test.py

Prints "N passed, 0 failed" and exits 0 on success.
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class Peer:
    def __init__(self):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "peer.py")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def raw(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def call(self, cmd, **args):
        args["cmd"] = cmd
        return self.raw(json.dumps(args))

    def ok(self, cmd, **args):
        r = self.call(cmd, **args)
        assert r["ok"] is True, (cmd, r)
        return r

    def err(self, cmd, **args):
        r = self.call(cmd, **args)
        assert r["ok"] is False, (cmd, r)
        return r["error"]

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(10)
        assert rc == 0, rc


CHECKS = 0


def check(cond, what):
    global CHECKS
    assert cond, what
    CHECKS += 1


def main():
    p = Peer()
    v = p.ok("version")
    check(v["version"] == "3.2.16", v)

    # accounts
    alice = p.ok("account_new", h="alice")
    bob = p.ok("account_new", h="bob")
    check(set(alice) >= {"curve25519", "ed25519"}, alice)
    check(p.ok("account_identity_keys", h="bob")["curve25519"] == bob["curve25519"], "ik")
    check(p.ok("account_max_otks", h="bob")["n"] == 100, "max otks")
    p.ok("account_generate_otks", h="bob", n=3)
    otks = p.ok("account_one_time_keys", h="bob")["keys"]
    check(len(otks) == 3 and "AAAAAQ" in otks, otks)
    p.ok("account_mark_published", h="bob")
    check(p.ok("account_one_time_keys", h="bob")["keys"] == {}, "published")
    sig = p.ok("account_sign", h="bob", msg_hex=b"hello".hex())["sig"]
    check(p.ok("ed25519_verify", key=bob["ed25519"], msg_hex=b"hello".hex(), sig=sig)["valid"], "sig")
    check(not p.ok("ed25519_verify", key=bob["ed25519"], msg_hex=b"hellO".hex(), sig=sig)["valid"], "sig2")

    # Olm: three pre-key messages from Alice (binary plaintexts), then replies
    p.ok("session_outbound", h="a2b", account="alice", identity_key=bob["curve25519"],
         one_time_key=otks["AAAAAQ"])
    pts = [bytes([0, 255, 1, 2]) + b"pre%d" % i for i in range(3)]
    msgs = [p.ok("session_encrypt", h="a2b", pt=pt.hex()) for pt in pts]
    check(all(m["type"] == 0 for m in msgs), msgs)
    check(not p.ok("session_has_received", h="a2b")["received"], "not received")
    r = p.ok("session_inbound", h="b2a", account="bob", body=msgs[0]["body"],
             identity_key=alice["curve25519"])
    check(bytes.fromhex(r["pt"]) == pts[0], r)
    check(r["session_id"] == p.ok("session_id", h="a2b")["session_id"], "session ids")
    check(p.ok("session_matches", h="b2a", body=msgs[1]["body"])["matches"], "matches")
    check(p.ok("session_matches", h="b2a", body=msgs[1]["body"],
               identity_key=alice["curve25519"])["matches"], "matches from")
    check(not p.ok("session_matches", h="b2a", body=msgs[1]["body"],
                   identity_key=bob["curve25519"])["matches"], "not matches from")
    for m, pt in zip(msgs[1:], pts[1:]):
        check(bytes.fromhex(p.ok("session_decrypt", h="b2a", **m)["pt"]) == pt, "pre-key decrypt")
    # the one-time key is gone: a second inbound session from the same message fails
    check(p.err("session_inbound", h="x", account="bob", body=msgs[0]["body"]) == "BAD_MESSAGE_KEY_ID", "otk")
    reply = p.ok("session_encrypt", h="b2a", pt=b"reply".hex())
    check(reply["type"] == 1, reply)
    check(bytes.fromhex(p.ok("session_decrypt", h="a2b", **reply)["pt"]) == b"reply", "reply")
    check(p.ok("session_has_received", h="a2b")["received"], "received")
    m = p.ok("session_encrypt", h="a2b", pt="")
    check(m["type"] == 1, m)
    check(p.ok("session_decrypt", h="b2a", **m)["pt"] == "", "empty plaintext")

    # bad MAC: flip a bit in the middle of a normal message (MAC covers it)
    m = p.ok("session_encrypt", h="b2a", pt=b"tamper me".hex())
    body = bytearray(m["body"], "ascii")
    body[-3] = ord("A") if body[-3] != ord("A") else ord("B")
    check(p.err("session_decrypt", h="a2b", type=1, body=body.decode()) == "BAD_MESSAGE_MAC", "bad mac")
    check(bytes.fromhex(p.ok("session_decrypt", h="a2b", **m)["pt"]) == b"tamper me", "after bad mac")
    # libolm's base64 decoder only rejects impossible lengths; other junk decodes to garbage
    check(p.err("session_decrypt", h="a2b", type=1, body="A") == "INVALID_BASE64", "b64")
    check(p.err("session_decrypt", h="a2b", type=1, body="!!!") == "BAD_MESSAGE_FORMAT", "b64 junk")

    # pickles with an arbitrary binary key
    key = bytes(range(40)).hex()
    pk = p.ok("session_pickle", h="a2b", key_hex=key)["pickle"]
    check(p.err("session_unpickle", h="a2b_x", pickle=pk, key_hex="00") == "BAD_ACCOUNT_KEY", "wrong key")
    p.ok("session_unpickle", h="a2b_copy", pickle=pk, key_hex=key)
    m = p.ok("session_encrypt", h="b2a", pt=b"to both".hex())
    check(bytes.fromhex(p.ok("session_decrypt", h="a2b_copy", **m)["pt"]) == b"to both", "copy")
    check(bytes.fromhex(p.ok("session_decrypt", h="a2b", **m)["pt"]) == b"to both", "orig")
    ap = p.ok("account_pickle", h="bob", key_hex="")["pickle"]
    check(p.ok("account_unpickle", h="bob2", pickle=ap, key_hex="")["curve25519"] == bob["curve25519"], "acct")

    # fallback keys
    p.ok("account_generate_fallback", h="bob")
    fb = p.ok("account_fallback_key", h="bob")["keys"]
    check(len(fb) == 1, fb)
    check(p.ok("account_fallback_key", h="bob", which="current")["keys"] == fb, "current")
    p.ok("account_mark_published", h="bob")
    check(p.ok("account_fallback_key", h="bob")["keys"] == {}, "published fallback")
    p.ok("session_outbound", h="a2b_fb", account="alice", identity_key=bob["curve25519"],
         one_time_key=list(fb.values())[0])
    m = p.ok("session_encrypt", h="a2b_fb", pt=b"via fallback".hex())
    r = p.ok("session_inbound", h="b2a_fb", account="bob", body=m["body"])
    check(bytes.fromhex(r["pt"]) == b"via fallback", r)
    p.ok("account_forget_old_fallback", h="bob")

    # Megolm
    g = p.ok("group_out_new", h="g")
    check(g["index"] == 0, g)
    gi = p.ok("group_in_new", h="gi", session_key=g["session_key"])
    check(gi["session_id"] == g["session_id"] and gi["first_known_index"] == 0, gi)
    for i in range(3):
        e = p.ok("group_encrypt", h="g", pt=bytes([i, 0xFE]).hex())
        check(e["index_before"] == i, e)
        d = p.ok("group_decrypt", h="gi", body=e["body"])
        check(d["index"] == i and bytes.fromhex(d["pt"]) == bytes([i, 0xFE]), d)
    check(p.ok("group_out_info", h="g")["index"] == 3, "index")
    exp = p.ok("group_export", h="gi", index=1)["exported"]
    imp = p.ok("group_in_import", h="gi2", exported=exp)
    check(imp["first_known_index"] == 1 and imp["verified"] is False, imp)
    check(p.ok("group_in_first_known", h="gi2")["first_known_index"] == 1, "fki")
    check(p.err("group_export", h="gi2", index=0) == "UNKNOWN_MESSAGE_INDEX", "export before first")
    opk = p.ok("group_out_pickle", h="g", key_hex="aa")["pickle"]
    p.ok("group_out_unpickle", h="g2", pickle=opk, key_hex="aa")
    ipk = p.ok("group_in_pickle", h="gi", key_hex="")["pickle"]
    p.ok("group_in_unpickle", h="gi3", pickle=ipk, key_hex="")
    e = p.ok("group_encrypt", h="g2", pt=b"from pickle".hex())
    check(e["index_before"] == 3, e)
    for h in ("gi", "gi2", "gi3"):
        d = p.ok("group_decrypt", h=h, body=e["body"])
        check(d["index"] == 3 and bytes.fromhex(d["pt"]) == b"from pickle", (h, d))
    # tampered Megolm message: libolm checks the signature first
    import base64
    raw = bytearray(base64.b64decode(e["body"] + "=" * (-len(e["body"]) % 4)))
    raw[10] ^= 1
    bad = base64.b64encode(bytes(raw)).decode().rstrip("=")
    check(p.err("group_decrypt", h="gi", body=bad) == "BAD_SIGNATURE", "megolm tamper")

    # bad requests never kill the peer
    check(p.raw("not json")["error"].startswith("peer: "), "bad json")
    check(p.raw("[1]")["error"].startswith("peer: "), "not object")
    check(p.err("nope").startswith("peer: "), "unknown")
    check(p.err("session_encrypt", h="missing", pt="").startswith("peer: "), "handle")
    check(p.err("session_encrypt", h="g", pt="").startswith("peer: "), "wrong type")
    check(p.err("session_encrypt", h="a2b", pt="zz").startswith("peer: "), "hex")
    check(p.err("group_in_new", h="q", session_key="AAAA") in ("BAD_SESSION_KEY", "INVALID_BASE64"), "key")
    check(p.call("version", id=7)["id"] == 7, "id echo")
    p.ok("free", h="g")
    check(p.err("group_out_info", h="g").startswith("peer: "), "freed")
    p.close()
    print("%d passed, 0 failed" % CHECKS)


if __name__ == "__main__":
    main()
