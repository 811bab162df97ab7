#!/usr/bin/env bash
# Fetches python-olm 3.2.16's source package from PyPI (pinned version), checks its
# SHA-256, and unpacks it into DEST (default target/libolm-upstream). It carries libolm 3.2.16's
# sources and C++ tests (libolm/) and python-olm's bindings (olm/, olm_build.py, include/).
# Prints the unpacked directory. Idempotent: an unpacked, verified copy is reused.
#
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="${1:-$root/target/libolm-upstream}"
sha256=a1c47fce2505b7a16841e17694cbed4ed484519646ede96ee9e89545a49643c9
name=python-olm-3.2.16
py="${PYTHON:-python3}"

mkdir -p "$dest"
tarball="$dest/$name.tar.gz"
if [ ! -f "$dest/$name/.verified" ]; then
    if [ ! -f "$tarball" ] || ! echo "$sha256  $tarball" | sha256sum -c --status; then
        rm -f "$tarball"
        # The file named by PyPI's simple index (PEP 503), fetched as it is: `pip download`
        # would first build the package's metadata, compiling the bundled libolm (minutes on
        # a loaded 2-core machine). pip is the fallback if the index cannot be read this way.
        "$py" - "$tarball" <<'PY' >&2 || "$py" -m pip download --quiet --disable-pip-version-check \
            --no-deps --no-binary :all: -d "$dest" "python-olm==3.2.16" >&2
import re, sys, urllib.request
index = urllib.request.urlopen("https://pypi.org/simple/python-olm/", timeout=120).read().decode()
url = re.findall(r'href="([^"#]*/python-olm-3\.2\.16\.tar\.gz)[#"]', index)[0]
with urllib.request.urlopen(url, timeout=300) as r, open(sys.argv[1], "wb") as out:
    out.write(r.read())
PY
    fi
    echo "$sha256  $tarball" | sha256sum -c --status || {
        echo "fetch-python-olm: $tarball does not have the pinned SHA-256 $sha256" >&2
        exit 1
    }
    rm -rf "${dest:?}/$name"
    tar -xzf "$tarball" -C "$dest"
    touch "$dest/$name/.verified"
fi
echo "$dest/$name"
