#!/usr/bin/env bash
# Idempotent: create interop/libolm/.venv and install the pinned libolm peer
# (python-olm 3.2.16 = manylinux wheel bundling libolm 3.2.16) plus `cryptography`
# (used by test-vectors/libolm/generate.py to decrypt pickles).
# Usage: interop/libolm/setup.sh   (from anywhere)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
fi

# Skip the network when the pinned versions are already there.
if "$venv/bin/python" - "$here/requirements.txt" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    if version(name) != want:
        sys.exit(1)
import olm, _libolm  # noqa: F401  (the wheel's cffi module must load)
PY
    echo "libolm peer already set up in $venv"
else
    # --only-binary: python-olm must come as the prebuilt manylinux wheel
    # (building it from the sdist needs cmake and a libolm source tree).
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --only-binary=:all: -r "$here/requirements.txt"
    echo "installed libolm peer into $venv"
fi
"$venv/bin/python" -c 'from _libolm import ffi, lib
v = ffi.new("uint8_t[3]"); lib.olm_get_library_version(v, v + 1, v + 2)
print("libolm %d.%d.%d" % tuple(v))'
