#!/usr/bin/env bash
# Installs the libsignal versions that peer.mjs, smoke.mjs and test-vectors/interolm/generate.mjs
# use (npm aliases ls072, ls090, ls0922, ls0103; see package.json), exactly as package-lock.json pins
# them. Idempotent: does nothing when node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup.sh: node and npm are needed (Node 20 or newer)" >&2
  exit 1
fi

# After a successful install the lock file's hash is kept in node_modules/; when it still matches
# and every alias loads, there is nothing to do.
stamp=node_modules/.caudata-lock.sha256
lock_hash() { sha256sum package-lock.json | cut -d' ' -f1; }
installed_ok() {
  [[ -f $stamp && "$(cat "$stamp")" == "$(lock_hash)" ]] || return 1
  node --input-type=module -e '
    for (const m of ["ls072", "ls090", "ls0922", "ls0103"]) await import(m);
  ' >/dev/null 2>&1
}

if installed_ok; then
  echo "setup.sh: libsignal peers already installed"
  exit 0
fi

npm ci --no-audit --no-fund --loglevel=error
lock_hash >"$stamp"
installed_ok || { echo "setup.sh: install finished but a libsignal module does not load" >&2; exit 1; }
echo "setup.sh: libsignal peers installed: $(node -p 'Object.keys(require("./package.json").dependencies).join(" ")')"
