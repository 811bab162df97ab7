#!/usr/bin/env bash
# The WebAssembly comparison table: caudata's published build and its size-optimised
# alternative, vodozemac 0.11.1 compiled the same two ways (bench/vodozemac-wasm, whose
# [profile.*] tables must equal ours), and libolm 3.2.15's own wasm build, in one Node process.
#
#   bash bindings/wasm/bench.sh [rounds=15] [bench.mjs options]     (after build.sh)
#
# Builds (each into its own target dir, kept between runs):
#   pkg/                          caudata, profile `release` (what build.sh publishes)
#   bench/pkg-caudata-size/       caudata, profile `size`
#   bench/pkg-vodozemac-speed/    vodozemac, profile `release`
#   bench/pkg-vodozemac-size/     vodozemac, profile `size`
# all through the same wasm-bindgen and `wasm-opt -O<level>` as build.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
[[ -f pkg/caudata_wasm_bg.wasm ]] || { echo "bench.sh: run build.sh first" >&2; exit 1; }

profiles() { sed -n '/^# BEGIN PROFILES/,/^# END PROFILES/p' "$1"; }
if ! diff <(profiles Cargo.toml) <(profiles bench/vodozemac-wasm/Cargo.toml) >/dev/null; then
  echo "bench.sh: the [profile.*] tables of Cargo.toml and bench/vodozemac-wasm/Cargo.toml differ" >&2
  diff <(profiles Cargo.toml) <(profiles bench/vodozemac-wasm/Cargo.toml) >&2 || true
  exit 1
fi

# shellcheck source=wasm-opt.sh
source "$here/wasm-opt.sh"

build() { # name crate-dir out-name profile
  local name=$1 dir=$2 out=$3 profile=$4
  local target="$here/target-bench-$(basename "$dir")"
  (cd "$dir" && CARGO_TARGET_DIR=$target cargo build --profile "$profile" --target wasm32-unknown-unknown -q)
  local pkg="$here/bench/pkg-$name"
  rm -rf "$pkg"
  wasm-bindgen --target nodejs --remove-name-section --remove-producers-section --out-dir "$pkg" --out-name "$out" \
    "$target/wasm32-unknown-unknown/$profile/$out.wasm"
  echo '{"type":"commonjs"}' >"$pkg/package.json"
  wasm_opt_profile "$profile" "$pkg/${out}_bg.wasm"
}
if [[ ${1:-} == --build-only ]]; then
  shift
  build_only=1
fi
build vodozemac-speed "$here/bench/vodozemac-wasm" vodozemac_wasm_bench release
build vodozemac-size "$here/bench/vodozemac-wasm" vodozemac_wasm_bench size
build caudata-size "$here" caudata_wasm size
[[ -n ${build_only:-} ]] || node bench.mjs "$@"
