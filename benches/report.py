#!/usr/bin/env python3
"""Turns the criterion results of `cargo bench` into benches/RESULTS.md: one table of every
operation, caudata against vodozemac, and against its primitive floor.

    python3 benches/report.py                 # read existing results
    python3 benches/report.py --run           # run the benches first (short runs), then read
    python3 benches/report.py --run --repeat 3   # three whole runs: medians over the runs

On a shared machine one run's ratios move by ±20 % (a burst of load hits whichever library is
being measured at the time). With --repeat N the benches run N times, one after the other; each
figure is then the median over the runs of criterion's median, the ratio the median of the
per-run ratios, and the table shows the range of the per-run ratios beside it.

Results are read from $CARGO_TARGET_DIR/criterion (default target/criterion), file
<group>/<function>/new/estimates.json, the median in nanoseconds. Stdlib only.

The primitive floor of an operation is the sum, over the primitives the protocol makes it
call, of (count x the primitive's median), the primitives measured straight on the crates
(benches/primitives.rs): the cost of a naive implementation that does nothing but call them.
Going below 1.0x means reusing work the naive recipe repeats (HMAC key states, the zero HKDF
salt, one key set-up for several HMACs under the same key).
"""

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
CRIT = TARGET / "criterion"
OUT = ROOT / "benches" / "RESULTS.md"
MARKER = "<!-- written by hand below this line; benches/report.py keeps it -->"


def megolm_hmacs(start, target):
    """HMAC-SHA-256 outputs of the Megolm ratchet advance from `start` to `target` (the
    algorithm of libolm, vodozemac and caudata)."""
    n, index = 0, start
    for j in range(4):
        shift = (3 - j) * 8
        steps = ((target >> shift) - (index >> shift)) & 0xFF
        if steps == 0:
            if j == 0 and target < index:
                steps = 0x100
            else:
                continue
        n += (steps - 1) + (4 - j)
        mask = 0xFFFFFFFF if shift == 0 else (0xFFFFFFFF << shift) & 0xFFFFFFFF
        index = target & mask
    return n


def olm_msg(size, enc):
    """One Olm/Signal message with a message-key seed in hand: HKDF to 80 bytes, AES-CBC,
    HMAC over the message."""
    return {"hkdf_80": 1, f"aes256cbc_{'enc' if enc else 'dec'}_{size}": 1, MAC[size]: 1}


MAC = {"100B": "hmac_150B", "10KiB": "hmac_10KiB"}
SIGN = {"100B": "ed25519_sign_128B", "10KiB": "ed25519_sign_10KiB"}
VERIFY = {"100B": "ed25519_verify_128B", "10KiB": "ed25519_verify_10KiB"}


def add(*recipes):
    out = {}
    for r in recipes:
        for k, v in r.items():
            out[k] = out.get(k, 0) + v
    return out


CHAIN_STEP = {"hmac_1B": 2}  # message-key seed HMAC(C, 1) and next chain key HMAC(C, 2)
ROOT_STEP = {"x25519_dh": 1, "hkdf_64": 1}


def recipes(sizes):
    r = {
        "olm_account_new": {"ed25519_keygen": 1, "x25519_keygen": 1},
        "olm_one_time_keys_50": {"x25519_keygen": 50},
        # base key and first ratchet key; 3DH; HKDF(0, S(96), "OLM_ROOT", 64)
        "olm_session_outbound": {"x25519_keygen": 2, "x25519_dh": 3, "hkdf_64_ikm96": 1},
        # 3DH, root, then the first message (100 B) decrypted
        "olm_session_inbound": add({"x25519_dh": 3, "hkdf_64_ikm96": 1}, CHAIN_STEP, olm_msg("100B", False)),
        "olm_decrypt_skip_1000": add({"hmac_1B": 2 * 1001}, olm_msg("100B", False)),
        "olm_decrypt_stored_skipped": olm_msg("100B", False),
        "megolm_decrypt_at_1000": add(
            {VERIFY["100B"]: 1, "hmac_1B": megolm_hmacs(0, 1000)}, olm_msg("100B", False)
        ),
        "megolm_decrypt_at_2p24": add(
            {VERIFY["100B"]: 1, "hmac_1B": megolm_hmacs(0, 1 << 24)}, olm_msg("100B", False)
        ),
        "megolm_advance_1000": {"hmac_1B": megolm_hmacs(0, 1000)},
        "megolm_advance_2p24": {"hmac_1B": megolm_hmacs(0, 1 << 24)},
        # sign 229 bytes + base64 / base64 + decompress + strict verify
        "megolm_session_key_export": {"ed25519_sign_128B": 1},
        "megolm_session_key_import": {"ed25519_decompress": 1, "ed25519_verify_128B": 1},
        "megolm_exported_key_export": {},
        "megolm_exported_key_import": {"ed25519_decompress": 1},
    }
    for s in ("100B", "10KiB"):
        r[f"olm_encrypt_steady_{s}"] = add(CHAIN_STEP, olm_msg(s, True))
        r[f"olm_decrypt_steady_{s}"] = add(CHAIN_STEP, olm_msg(s, False))
        # a fresh ratchet key and a root step, then a steady message
        r[f"olm_encrypt_ratchet_{s}"] = add({"x25519_keygen": 1}, ROOT_STEP, CHAIN_STEP, olm_msg(s, True))
        r[f"olm_decrypt_ratchet_{s}"] = add(ROOT_STEP, CHAIN_STEP, olm_msg(s, False))
        # HKDF, AES, MAC, Ed25519 over the message, one ratchet HMAC
        r[f"megolm_encrypt_{s}"] = add(olm_msg(s, True), {SIGN[s]: 1, "hmac_1B": 1})
        r[f"megolm_decrypt_{s}"] = add(olm_msg(s, False), {VERIFY[s]: 1, "hmac_1B": 1})
        r[f"interolm_encrypt_steady_{s}"] = add(CHAIN_STEP, olm_msg(s, True))
        r[f"interolm_decrypt_steady_{s}"] = add(CHAIN_STEP, olm_msg(s, False))
    for pq in ("x3dh", "pqxdh"):
        kem_out = {"kyber1024_encaps": 1, "xeddsa_verify": 1} if pq == "pqxdh" else {}
        kem_in = {"kyber1024_decaps": 1} if pq == "pqxdh" else {}
        # bundle signature(s); base key, ratchet key; 3 DH (no one-time prekey); root; the
        # first sending chain (root step against the signed prekey)
        r[f"interolm_{pq}_outbound"] = add(
            {"xeddsa_verify": 1, "x25519_keygen": 2, "x25519_dh": 3, "hkdf_64_ikm96": 1}, ROOT_STEP, kem_out
        )
        # 3 DH, root; receiving chain (root step); Signal's eager sending chain (keygen + root
        # step); the first message (100 B)
        r[f"interolm_{pq}_inbound"] = add(
            {"x25519_dh": 3, "hkdf_64_ikm96": 1, "x25519_keygen": 1},
            ROOT_STEP,
            ROOT_STEP,
            kem_in,
            CHAIN_STEP,
            olm_msg("100B", False),
        )
    # Pickles: AEAD and base64 over the pickle's bytes (sizes from benches/pickle.rs).
    for obj, (cd_len, _vz_len) in sizes.items():
        kib = cd_len * 3 / 4 / 1024
        for op in ("pickle", "unpickle"):
            r[f"{op}_{obj}"] = {"chacha20poly1305_1KiB": kib, "base64_encode_1KiB": kib}
    return r


ORDER = [
    "olm_account_new", "olm_one_time_keys_50", "olm_session_outbound", "olm_session_inbound",
    "olm_encrypt_steady_100B", "olm_encrypt_steady_10KiB", "olm_decrypt_steady_100B", "olm_decrypt_steady_10KiB",
    "olm_encrypt_ratchet_100B", "olm_encrypt_ratchet_10KiB", "olm_decrypt_ratchet_100B", "olm_decrypt_ratchet_10KiB",
    "olm_decrypt_skip_1000", "olm_decrypt_stored_skipped",
    "megolm_encrypt_100B", "megolm_encrypt_10KiB", "megolm_decrypt_100B", "megolm_decrypt_10KiB",
    "megolm_advance_1000", "megolm_advance_2p24", "megolm_decrypt_at_1000", "megolm_decrypt_at_2p24",
    "megolm_session_key_export", "megolm_session_key_import", "megolm_exported_key_export", "megolm_exported_key_import",
    "pickle_account_50otk", "unpickle_account_50otk", "pickle_session_40skipped", "unpickle_session_40skipped",
    "pickle_group_session", "unpickle_group_session", "pickle_inbound_group_session", "unpickle_inbound_group_session",
    "interolm_x3dh_outbound", "interolm_x3dh_inbound", "interolm_pqxdh_outbound", "interolm_pqxdh_inbound",
    "interolm_encrypt_steady_100B", "interolm_encrypt_steady_10KiB",
    "interolm_decrypt_steady_100B", "interolm_decrypt_steady_10KiB",
]


def median(group, function):
    p = CRIT / group / function / "new" / "estimates.json"
    if not p.exists():
        return None
    return json.loads(p.read_text())["median"]["point_estimate"]


def fmt(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def machine():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        flags = next(l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags"))
        ext = [f for f in ("aes", "sha_ni", "avx2", "avx512f", "avx512ifma", "bmi2", "adx") if f" {f}" in flags]
    except (OSError, StopIteration):
        ext = []
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rustc = "unknown"
    return cpu, os.cpu_count(), ext, rustc


def run_benches():
    cmd = ["cargo", "bench", "-p", "caudata-benches", "--bench", "*", "--", "--warm-up-time", "0.5", "--measurement-time", "2", "--noplot"]
    print("running:", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=ROOT, check=True)


def snapshot():
    """The medians criterion left in CRIT: ({op: (caudata, vodozemac)}, {primitive: median})."""
    ops = {op: (median(op, "caudata"), median(op, "vodozemac")) for op in ORDER}
    prim = {}
    if CRIT.exists():
        for d in CRIT.iterdir():
            if d.name.startswith("prim_"):
                m = median(d.name, "caudata")
                if m is not None:
                    prim[d.name[len("prim_"):]] = m
    return ops, prim


def mid(values):
    """The median of the values that are there (None if none is)."""
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def main():
    args = sys.argv[1:]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 1
    runs = []
    for i in range(repeat if "--run" in args else 1):
        if "--run" in args:
            print(f"run {i + 1} of {repeat}", file=sys.stderr)
            run_benches()
        runs.append(snapshot())
    sizes_path = CRIT / "pickle_sizes.json"
    sizes = json.loads(sizes_path.read_text()) if sizes_path.exists() else {}
    prim = {k: mid([p.get(k) for _, p in runs]) for k in runs[-1][1]}
    rec = recipes(sizes)
    rows = []
    for op in ORDER:
        cd, vz = mid([o[op][0] for o, _ in runs]), mid([o[op][1] for o, _ in runs])
        if cd is None and vz is None:
            continue
        per_run = [o[op][0] / o[op][1] for o, _ in runs if o[op][0] and o[op][1]]
        ratio = f"{mid(per_run):.2f}×" if per_run else "—"
        spread = f"{min(per_run):.2f}–{max(per_run):.2f}" if len(per_run) > 1 else "—"
        floor = None
        r = rec.get(op)
        if r and all(k in prim for k in r):
            floor = sum(prim[k] * n for k, n in r.items())
        over = f"{cd / floor:.2f}×" if cd and floor else "—"
        rows.append(f"| {op} | {fmt(cd)} | {fmt(vz)} | {ratio} | {spread} | {fmt(floor) if floor else '—'} | {over} |")
    if not rows:
        sys.exit(f"no criterion results in {CRIT} (set CARGO_TARGET_DIR, or pass --run)")
    cpu, cores, ext, rustc = machine()
    out = [
        "# Benchmarks: caudata against vodozemac 0.11.1",
        "",
        f"Written by `benches/report.py` from criterion medians of {len(runs)} `cargo bench --bench '*'` "
        "run(s), one after the other",
        "(both libraries in each run, on the same inputs). Each time is the median over the runs;",
        "ratio = caudata / vodozemac (below 1 is faster), the median of the per-run ratios, with their",
        "range beside it. Floor = the sum of the primitives the protocol makes the operation call, each",
        "measured on the crates themselves (`benches/primitives.rs`, recipes in `report.py`).",
        "",
        f"Machine: {cpu}, {cores} cores ({', '.join(ext)}); {rustc}; "
        f"{datetime.date.today().isoformat()}; shared with other work: one run's ratios move by ±20 %.",
        "",
        "| operation | caudata | vodozemac | ratio | ratio range | primitive floor | caudata / floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "## Primitives (medians)",
        "",
        "| primitive | median |",
        "|---|---:|",
        *[f"| {k} | {fmt(v)} |" for k, v in sorted(prim.items())],
    ]
    if sizes:
        out += [
            "",
            "## Pickle sizes (encrypted, base64 characters)",
            "",
            "| object | caudata | vodozemac | ratio |",
            "|---|---:|---:|---:|",
            *[f"| {k} | {a:,} | {b:,} | {a / b:.2f}× |" for k, (a, b) in sizes.items()],
        ]
    # What follows the marker in the current RESULTS.md is written by hand (analysis, SPQR
    # figures from their own bench) and kept as it is.
    kept = ""
    if OUT.exists():
        text = OUT.read_text()
        if MARKER in text:
            kept = text[text.index(MARKER):]
    OUT.write_text("\n".join(out) + "\n" + ("\n" + kept if kept else ""))
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
