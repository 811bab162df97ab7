#!/usr/bin/env python3
"""Instruction counts (callgrind) for sender keys and sealed sender: benches/groups_instructions.rs.
Load-independent. Prints instructions per call and the ratio the issue bounds:
sealed decrypt / (plain decrypt + one certificate validation). Stdlib only; needs valgrind.

    python3 benches/groups_instructions.py
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N = 20


def binary():
    out = subprocess.run(
        ["cargo", "bench", "-p", "caudata-benches", "--bench", "groups_instructions", "--no-run",
         "--message-format=json"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "groups_instructions" \
                and msg.get("executable"):
            return msg["executable"]
    sys.exit("groups_instructions binary not found")


def count(exe, op, n):
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "cg.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=*measured*",
                        f"--callgrind-out-file={out}", exe, op, str(n)],
                       check=True, capture_output=True, text=True)
        m = re.search(r"^summary:\s*(\d+)", out.read_text(), re.M) or \
            re.search(r"^totals:\s*(\d+)", out.read_text(), re.M)
        return int(m.group(1))


def main():
    exe = binary()
    ops = subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split()
    per = {}
    for op in ops:
        # The fixed cost of one empty call is negligible; counts are per operation.
        per[op] = count(exe, op, N) / N
        print(f"{op:28} {per[op]:>12,.0f} instructions")
    base = per["plain_decrypt"] + per["certificate_validate"]
    for op in ["sealed_decrypt_v1", "sealed_decrypt_v2", "sealed_decrypt_v1_cached", "sealed_decrypt_v2_cached"]:
        print(f"{op:28} {per[op] / base:6.3f} x (plain decrypt + one certificate validation)")


if __name__ == "__main__":
    main()
