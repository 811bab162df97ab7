#!/usr/bin/env python3
"""Instruction counts of caudata and vodozemac for the same operations (benches/instructions.rs),
counted by callgrind inside the `measured` function only: load-independent, unlike the
wall-clock medians of benches/RESULTS.md. Stdlib only; needs valgrind.

    python3 benches/instructions.py              # every operation
    python3 benches/instructions.py olm_session_outbound unpickle_account_50otk
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Enough repetitions that per-call costs dominate; slower operations get fewer.
N = {"olm_one_time_keys_50": 4, "olm_session_outbound": 10, "olm_session_inbound": 10,
     "olm_encrypt_ratchet_100B": 10, "olm_decrypt_ratchet_100B": 10, "unpickle_account_50otk": 10,
     "olm_account_new": 20, "olm_decrypt_skip_1000": 10, "megolm_advance_1000": 20, "megolm_decrypt_at_1000": 20,
     "rehydrate_50otk": 10, "megolm_history_10000x5": 1, "rehydrate_legacy_50otk": 10,
     "facade_pickle_account_50otk": 10, "facade_pickle_account_50otk_encrypted": 10,
     "facade_pickle_olm_session": 10, "facade_pickle_olm_session_encrypted": 10}


def binary():
    out = subprocess.run(
        ["cargo", "bench", "-p", "caudata-benches", "--bench", "instructions", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "instructions" \
                and msg.get("executable"):
            return msg["executable"]
    sys.exit("instructions bench binary not found")


def count(exe, op, lib, n):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(
            ["valgrind", "--tool=callgrind", "--toggle-collect=*measured*",
             f"--callgrind-out-file={d}/out", exe, op, lib, str(n)],
            capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{op} {lib}: {r.stderr[-2000:]}")
        m = re.search(r"Collected : (\d+)", r.stderr)
        return int(m.group(1)) / n


def main():
    exe = binary()
    ops = sys.argv[1:] or subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split()
    print("| operation | caudata | vodozemac | ratio |")
    print("|---|---:|---:|---:|")
    for op in ops:
        n = N.get(op, 50)
        cd, vz = count(exe, op, "caudata", n), count(exe, op, "vodozemac", n)
        print(f"| {op} | {cd:,.0f} | {vz:,.0f} | {cd / vz:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
