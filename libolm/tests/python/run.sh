#!/usr/bin/env bash
# Proof 2: python-olm 3.2.16 built from its source package against caudata-libolm, tested
# through its whole API and in live conversations with the stock python-olm wheel (real
# libolm 3.2.16), both directions, pickles moved between them.
#
# Installs caudata-libolm into target/libolm-prefix, makes target/libolm-python/venv with
# python-olm built from the (pinned, SHA-256 checked) source package whose cffi build is pointed
# at that prefix (olm_build_caudata.py replaces upstream's olm_build.py, which would compile the
# bundled libolm), sets up the stock peer (interop/libolm/setup.sh), and runs
# test_python_olm.py. Fails, never skips.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
prefix="${OLM_PREFIX:-$root/target/libolm-prefix}"
work="$root/target/libolm-python"
py="${PYTHON:-python3}"

src="$("$here/../fetch-python-olm.sh")"
"$root/libolm/install.sh" "$prefix"
bash "$root/interop/libolm/setup.sh" >/dev/null

venv="$work/venv"
if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "cffi==2.1.1" "pycparser==3.12" "setuptools==80.9.0"

# python-olm's own package, its cffi build pointed at caudata-libolm
rm -rf "$work/build"
mkdir -p "$work/build"
cp -r "$src/olm" "$src/include" "$src/pyproject.toml" "$src/setup.py" "$src/setup.cfg" "$src/README.md" "$work/build/"
cp "$here/olm_build_caudata.py" "$work/build/olm_build.py"
OLM_PREFIX="$prefix" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-build-isolation --no-deps --force-reinstall "$work/build"

cd "$here"
OLM_PREFIX="$prefix" STOCK_PYTHON="$root/interop/libolm/.venv/bin/python" \
    "$venv/bin/python" -m unittest -v test_python_olm 2>&1 | tee "$work/test.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"
ran="$(sed -n 's/^Ran \([0-9]*\) tests.*/\1/p' "$work/test.log")"
grep -q '^OK$' "$work/test.log"
echo "python-olm 3.2.16 on caudata-libolm: $ran tests passed (API, and live against libolm 3.2.16)"
