#!/usr/bin/env bash
# Builds caudata's WebAssembly package, from a machine with only Rust, Node and npm:
#
#   bash bindings/wasm/build.sh            # -> bindings/wasm/pkg (Node, npm-ready), pkg-web (ES module)
#
# 1. ensures the wasm32-unknown-unknown target;
# 2. ensures wasm-bindgen-cli at exactly the version the wasm-bindgen crate is pinned to in
#    Cargo.toml (`cargo install`, ≈ 6 min once; skipped when already installed at that version);
# 3. installs the npm devDependencies (binaryen's wasm-opt, and the live peers the tests use:
#    libolm's own WebAssembly build, libsignal) exactly as package-lock.json pins them;
# 4. builds the core crate for wasm32-unknown-unknown with only the `wasm_js` feature (the
#    check that the library itself needs no extra code path for WebAssembly);
# 5. builds the bindings (profile `release` of Cargo.toml: the crypto crates at
#    opt-level 3, caudata itself at 2, the JavaScript glue and Kyber at "z", LTO, one codegen unit), runs wasm-bindgen
#    (--target nodejs into pkg/, --target web into pkg-web/), then wasm-opt (wasm-opt.sh);
# 6. prints the .wasm size raw and gzipped, before and after wasm-opt, and fails if the
#    result exceeds size-budget.json.
#
# Environment: CARGO_TARGET_DIR is honoured; CAUDATA_WASM_SKIP_NPM=1 skips step 3 (then
# wasm-opt runs only if node_modules already has it, and the budget may fail without it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

start=$(date +%s)
step() { echo "== wasm: $* (+$(($(date +%s) - start)) s)"; }

for tool in cargo rustup node npm gzip; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is needed" >&2; exit 1; }
done

step "target wasm32-unknown-unknown"
# (the list is read whole first: with pipefail, grep -q's early exit could SIGPIPE rustup)
if ! grep -qx wasm32-unknown-unknown <<<"$(rustup target list --installed)"; then
  rustup target add wasm32-unknown-unknown
fi

# The CLI and the crate must be the very same version, or wasm-bindgen refuses the module.
bindgen_version="$(sed -nE 's/^wasm-bindgen = "=([0-9.]+)".*/\1/p' Cargo.toml)"
[[ -n $bindgen_version ]] || { echo "build.sh: wasm-bindgen must be pinned with =X.Y.Z in Cargo.toml" >&2; exit 1; }
step "wasm-bindgen-cli $bindgen_version"
installed="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [[ $installed != "$bindgen_version" ]]; then
  # Without --locked: the CLI's own lock file pins crates that no longer build on current Rust.
  cargo install wasm-bindgen-cli --version "=$bindgen_version"
fi

if [[ ${CAUDATA_WASM_SKIP_NPM:-0} != 1 ]]; then
  step "npm devDependencies (binaryen, @matrix-org/olm, libsignal)"
  stamp=node_modules/.caudata-lock.sha256
  lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [[ ! -f $stamp || "$(cat "$stamp")" != "$lock_hash" ]]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" >"$stamp"
  fi
fi

target_dir="${CARGO_TARGET_DIR:-$here/target}"
export CARGO_TARGET_DIR="$target_dir"

step "core crate for wasm32-unknown-unknown (--features wasm_js)"
cargo build --manifest-path "$root/Cargo.toml" --lib --target wasm32-unknown-unknown --features wasm_js

step "bindings (profile release: crypto crates at opt-level 3, caudata at 2, glue at z, LTO)"
cargo build --release --target wasm32-unknown-unknown
wasm="$target_dir/wasm32-unknown-unknown/release/caudata_wasm.wasm"

step "wasm-bindgen"
rm -rf pkg pkg-web
wasm-bindgen --target nodejs --remove-name-section --remove-producers-section --out-dir pkg --out-name caudata_wasm "$wasm"
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir pkg-web --out-name caudata_wasm "$wasm"

gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
size() { wc -c <"$1" | tr -d ' '; }
raw_before=$(size pkg/caudata_wasm_bg.wasm)
gz_before=$(gz pkg/caudata_wasm_bg.wasm)

# shellcheck source=wasm-opt.sh
source "$here/wasm-opt.sh"
if [[ -x node_modules/.bin/wasm-opt ]]; then
  step "wasm-opt ($(node_modules/.bin/wasm-opt --version))"
  # Both targets get the same module (only the JavaScript glue differs): optimise it once.
  same=0
  cmp -s pkg/caudata_wasm_bg.wasm pkg-web/caudata_wasm_bg.wasm && same=1
  wasm_opt_profile release pkg/caudata_wasm_bg.wasm
  if [[ $same == 1 ]]; then
    cp pkg/caudata_wasm_bg.wasm pkg-web/caudata_wasm_bg.wasm
  else
    wasm_opt_profile release pkg-web/caudata_wasm_bg.wasm
  fi
else
  echo "build.sh: wasm-opt not found (npm ci installs binaryen); the module is not optimised" >&2
fi
raw_after=$(size pkg/caudata_wasm_bg.wasm)
gz_after=$(gz pkg/caudata_wasm_bg.wasm)

step "package files"
version="$(sed -nE '0,/^version = "([^"]+)"/s//\1/p' Cargo.toml)"
node - "$version" <<'EOF'
const fs = require('node:fs');
const version = process.argv[2];
const common = {
  version,
  description: 'Olm, Megolm (libolm/vodozemac compatible) and the Signal dialect, in WebAssembly',
  license: 'Apache-2.0',
  keywords: ['olm', 'megolm', 'signal', 'double-ratchet', 'matrix', 'e2ee', 'webassembly'],
  sideEffects: false,
};
const pkg = {
  name: 'caudata',
  ...common,
  main: 'caudata_wasm.js',
  types: 'caudata_wasm.d.ts',
  files: ['caudata_wasm.js', 'caudata_wasm.d.ts', 'caudata_wasm_bg.wasm', 'caudata_wasm_bg.wasm.d.ts', 'README.md'],
  engines: { node: '>=20' },
};
const web = {
  name: 'caudata-web',
  ...common,
  type: 'module',
  main: 'caudata_wasm.js',
  module: 'caudata_wasm.js',
  types: 'caudata_wasm.d.ts',
  files: ['caudata_wasm.js', 'caudata_wasm.d.ts', 'caudata_wasm_bg.wasm', 'caudata_wasm_bg.wasm.d.ts', 'README.md'],
};
fs.writeFileSync('pkg/package.json', JSON.stringify(pkg, null, 2) + '\n');
fs.writeFileSync('pkg-web/package.json', JSON.stringify(web, null, 2) + '\n');
EOF
rm -f pkg/.gitignore pkg-web/.gitignore
cp README.md pkg/README.md
cp README.md pkg-web/README.md

step "size"
printf '%-22s %10s %10s\n' "caudata_wasm_bg.wasm" "raw" "gzip -9"
printf '%-22s %10s %10s\n' "before wasm-opt" "$raw_before" "$gz_before"
printf '%-22s %10s %10s\n' "after wasm-opt" "$raw_after" "$gz_after"
node - "$raw_after" "$gz_after" <<'EOF'
const budget = JSON.parse(require('node:fs').readFileSync('size-budget.json', 'utf8'));
const [raw, gzip] = process.argv.slice(2).map(Number);
const over = [];
if (raw > budget.wasm_raw_bytes) over.push(`raw ${raw} > ${budget.wasm_raw_bytes}`);
if (gzip > budget.wasm_gzip_bytes) over.push(`gzip ${gzip} > ${budget.wasm_gzip_bytes}`);
if (over.length) {
  console.error(`build.sh: size budget exceeded (size-budget.json): ${over.join(', ')}`);
  process.exit(1);
}
console.log(`size budget ok: raw ${raw}/${budget.wasm_raw_bytes}, gzip ${gzip}/${budget.wasm_gzip_bytes}`);
EOF
step "done: $here/pkg"
