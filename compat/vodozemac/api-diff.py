#!/usr/bin/env python3
"""Compares two crates' public APIs from their rustdoc JSON (rustdoc's unstable JSON output,
`cargo +nightly rustdoc -- -Z unstable-options --output-format json`): every public path
(re-exports followed), each type's inherent methods with their signatures, public fields, enum
variants and their fields, and trait impls. Prints what only one side has.

    api-diff.py vodozemac-0.11.1.json facade.json

Used by compat/vodozemac/check-api.sh to hold the facade to vodozemac 0.11.1's API.
"""

import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


class Api:
    def __init__(self, doc):
        self.doc = doc
        self.index = doc["index"]
        self.crate = self.index[str(doc["root"])]["name"]
        self.lines = set()
        self.seen = set()
        self.walk(self.index[str(doc["root"])], self.crate)

    def item(self, id_):
        return self.index.get(str(id_))

    # ------------------------------------------------------------ types as text

    def ty(self, t):
        if t is None:
            return "()"
        (kind, v), = t.items()
        if kind == "resolved_path":
            name = v["path"].split("::")[-1]
            return name + self.args(v.get("args"))
        if kind == "primitive":
            return v
        if kind == "generic":
            return v
        if kind == "borrowed_ref":
            return "&" + ("mut " if v["is_mutable"] else "") + self.ty(v["type"])
        if kind == "slice":
            return "[" + self.ty(v) + "]"
        if kind == "array":
            return "[" + self.ty(v["type"]) + "; " + str(v["len"]) + "]"
        if kind == "tuple":
            return "(" + ", ".join(self.ty(x) for x in v) + ")"
        if kind == "impl_trait":
            return "impl " + " + ".join(self.bound(b) for b in v)
        if kind == "qualified_path":
            return self.ty(v["self_type"]) + "::" + v["name"]
        if kind == "dyn_trait":
            return "dyn " + " + ".join(self.ty({"resolved_path": x["trait"]}) for x in v["traits"])
        if kind == "raw_pointer":
            return "*" + ("mut " if v["is_mutable"] else "const ") + self.ty(v["type"])
        return kind

    def bound(self, b):
        if "trait_bound" in b:
            return self.ty({"resolved_path": b["trait_bound"]["trait"]})
        return "?"

    def args(self, a):
        if not a:
            return ""
        if "angle_bracketed" in a:
            parts = []
            for x in a["angle_bracketed"]["args"]:
                if "type" in x:
                    parts.append(self.ty(x["type"]))
                elif "const" in x:
                    parts.append(str(x["const"].get("expr", "?")))
                elif "lifetime" in x:
                    continue
            return "<" + ", ".join(parts) + ">" if parts else ""
        return ""

    def sig(self, name, f):
        s = f["sig"]
        ins = []
        for pname, t in s["inputs"]:
            if pname == "self":
                if t == {"generic": "Self"}:
                    ins.append("self")
                elif "borrowed_ref" in t:
                    ins.append("&mut self" if t["borrowed_ref"]["is_mutable"] else "&self")
                else:
                    ins.append(self.ty(t))
            else:
                ins.append(self.ty(t))
        out = s.get("output")
        head = f["header"]
        prefix = ("const " if head.get("is_const") else "") + ("async " if head.get("is_async") else "")
        generics = []
        for p in f["generics"]["params"]:
            if "type" in p["kind"]:
                bounds = p["kind"]["type"]["bounds"]
                generics.append(p["name"] + (": " + " + ".join(self.bound(b) for b in bounds) if bounds else ""))
        g = "<" + ", ".join(generics) + ">" if generics else ""
        return f"{prefix}fn {name}{g}(" + ", ".join(ins) + ")" + (" -> " + self.ty(out) if out else "")

    # ------------------------------------------------------------ walking

    def cfg_note(self, item):
        return ""

    def walk(self, item, path):
        inner = item["inner"]
        kind = next(iter(inner))
        v = inner[kind]
        if kind == "module":
            self.lines.add(f"mod {path}")
            for cid in v["items"]:
                child = self.item(cid)
                if child is None or child.get("visibility") != "public":
                    continue
                ck = next(iter(child["inner"]))
                if ck == "use":
                    u = child["inner"]["use"]
                    target = self.item(u["id"]) if u.get("id") is not None else None
                    if u.get("is_glob"):
                        if target is not None:
                            self.walk_glob(target, path)
                        continue
                    if target is None:
                        # a foreign item re-exported (base64::DecodeError and the like)
                        self.lines.add(f"use {path}::{u['name']} = {u['source'].split('::')[-1]}")
                        continue
                    self.walk(target, f"{path}::{u['name']}")
                else:
                    self.walk(child, f"{path}::{child['name']}")
            return
        key = (item["id"], path)
        if key in self.seen:
            return
        self.seen.add(key)
        if kind == "function":
            self.lines.add(f"{path}: " + self.sig(path.split("::")[-1], v))
        elif kind == "struct":
            self.lines.add(f"struct {path}")
            sk = v["kind"]
            if isinstance(sk, dict) and "plain" in sk:
                for fid in sk["plain"]["fields"]:
                    fi = self.item(fid)
                    if fi and fi.get("visibility") == "public":
                        self.lines.add(f"field {path}.{fi['name']}: {self.ty(fi['inner']['struct_field'])}")
            elif isinstance(sk, dict) and "tuple" in sk:
                for n, fid in enumerate(sk["tuple"]):
                    fi = self.item(fid) if fid is not None else None
                    if fi and fi.get("visibility") == "public":
                        self.lines.add(f"field {path}.{n}: {self.ty(fi['inner']['struct_field'])}")
            self.impls(path, v["impls"])
        elif kind == "enum":
            self.lines.add(f"enum {path}")
            for vid in v["variants"]:
                var = self.item(vid)
                vk = var["inner"]["variant"]["kind"]
                if vk == "plain":
                    self.lines.add(f"variant {path}::{var['name']}")
                elif "tuple" in vk:
                    tys = [self.ty(self.item(f)["inner"]["struct_field"]) if f is not None else "_" for f in vk["tuple"]]
                    self.lines.add(f"variant {path}::{var['name']}(" + ", ".join(tys) + ")")
                else:
                    fs = [self.item(f) for f in vk["struct"]["fields"]]
                    self.lines.add(f"variant {path}::{var['name']} {{ " +
                                   ", ".join(f"{x['name']}: {self.ty(x['inner']['struct_field'])}" for x in fs) + " }")
            self.impls(path, v["impls"])
        elif kind == "trait":
            self.lines.add(f"trait {path}")
        elif kind in ("constant", "static"):
            t = v["type"] if kind == "static" else v["type"]
            self.lines.add(f"{kind} {path}: {self.ty(t)}")
        elif kind == "type_alias":
            self.lines.add(f"type {path} = {self.ty(v['type'])}")
        else:
            self.lines.add(f"{kind} {path}")

    def walk_glob(self, module, path):
        for cid in module["inner"]["module"]["items"]:
            child = self.item(cid)
            if child is None or child.get("visibility") != "public":
                continue
            ck = next(iter(child["inner"]))
            if ck == "use":
                u = child["inner"]["use"]
                target = self.item(u["id"]) if u.get("id") is not None else None
                if target is not None and not u.get("is_glob"):
                    self.walk(target, f"{path}::{u['name']}")
            else:
                self.walk(child, f"{path}::{child['name']}")

    def impls(self, path, impl_ids):
        for iid in impl_ids:
            im = self.item(iid)
            if im is None:
                continue
            i = im["inner"]["impl"]
            if i.get("is_synthetic") or i.get("blanket_impl") is not None:
                continue
            if i["trait"] is not None:
                t = i["trait"]
                name = t["path"].split("::")[-1] + self.args(t.get("args"))
                neg = "!" if i.get("is_negative") else ""
                self.lines.add(f"impl {neg}{name} for {path}")
                continue
            for mid in i["items"]:
                m = self.item(mid)
                if m is None or m.get("visibility") != "public":
                    continue
                mk = next(iter(m["inner"]))
                if mk == "function":
                    self.lines.add(f"{path}::{m['name']}: " + self.sig(m["name"], m["inner"]["function"]))
                elif mk == "assoc_const":
                    self.lines.add(f"const {path}::{m['name']}: {self.ty(m['inner']['assoc_const']['type'])}")


def main():
    a, b = Api(load(sys.argv[1])), Api(load(sys.argv[2]))
    only_a = sorted(a.lines - b.lines)
    only_b = sorted(b.lines - a.lines)
    print(f"# {len(a.lines)} API lines in {sys.argv[1]}, {len(b.lines)} in {sys.argv[2]}")
    print(f"# only in the first ({len(only_a)}):")
    for line in only_a:
        print("- " + line)
    print(f"# only in the second ({len(only_b)}):")
    for line in only_b:
        print("+ " + line)


if __name__ == "__main__":
    main()
