#!/usr/bin/env python3
"""Drives python-olm over JSON lines, so that a test can hold objects in another Python
process: one request per stdin line, one response per stdout line, until EOF.

Run with any python-olm (the stock wheel with real libolm, or python-olm built against
caudata-libolm). Requests:

  {"op": "call", "target": T, "attr": "name", "args": [...], "kwargs": {}, "store": H?}
      T is "olm" (the module) or a handle; "attr" may be dotted ("Account.from_pickle").
      The result is returned encoded, and kept under handle H if "store" is given.
  {"op": "get", "target": H, "attr": "name"}      a property
  {"op": "library"}                                the libolm shared object this process loaded

Values: JSON scalars, lists and dicts as themselves; bytes as {"$b": hex}; an object kept
under a handle as {"$h": handle}; Olm messages as {"$olm": type, "ciphertext": str}; PK
messages as {"$pk": [ephemeral_key, mac, ciphertext]}.
Responses: {"ok": true, "value": ...} or {"ok": false, "error": "ExceptionClass: message"}.
"""

import json
import sys

import olm

OBJECTS = {}


def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if "$b" in v:
            return bytes.fromhex(v["$b"])
        if "$h" in v:
            return OBJECTS[v["$h"]]
        if "$olm" in v:
            cls = olm.OlmPreKeyMessage if v["$olm"] == 0 else olm.OlmMessage
            return cls(v["ciphertext"])
        if "$pk" in v:
            return olm.PkMessage(*v["$pk"])
        return {k: decode(x) for k, x in v.items()}
    return v


def encode(v):
    if isinstance(v, (bytes, bytearray)):
        return {"$b": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {str(k): encode(x) for k, x in v.items()}
    if isinstance(v, (olm.OlmMessage, olm.OlmPreKeyMessage)):
        return {"$olm": v.message_type, "ciphertext": v.ciphertext}
    if isinstance(v, olm.PkMessage):
        return {"$pk": [v.ephemeral_key, v.mac, v.ciphertext]}
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return {"$object": type(v).__name__}


def resolve(target, attr):
    obj = olm if target == "olm" else OBJECTS[target]
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def library():
    with open("/proc/self/maps") as f:
        for line in f:
            if "libolm" in line or "_libolm" in line:
                path = line.split()[-1]
                if path.endswith(".so") or ".so." in path:
                    if "libolm.so" in path or "_libolm" in path:
                        yield path


def handle(req):
    op = req["op"]
    if op == "library":
        return sorted(set(library()))
    if op == "get":
        return encode(resolve(req["target"], req["attr"]))
    if op == "call":
        fn = resolve(req["target"], req["attr"])
        result = fn(*decode(req.get("args", [])), **decode(req.get("kwargs", {})))
        if req.get("store"):
            OBJECTS[req["store"]] = result
        return encode(result)
    if op == "drop":
        OBJECTS.pop(req["target"], None)
        return None
    raise ValueError("unknown op %r" % op)


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            resp = {"ok": True, "value": handle(req)}
        except Exception as e:  # reported to the test, which decides
            resp = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(resp) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
