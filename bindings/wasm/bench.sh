#!/usr/bin/env bash
# The WebAssembly comparison table: caudata's published build and its size-optimised
# alternative, vodozemac 0.11.1 compiled the same two ways (bench/vodozemac-wasm, whose
# [profile.*] tables must equal ours), and libolm 3.2.15's own wasm build, in one Node process.
#
#   bash bindings/wasm/bench.sh [rounds=15] [bench.mjs options]     (after build.sh)
#   bash bindings/wasm/bench.sh --build-only                        (then browser/bench.mjs too)
#
# Builds (each into its own target dir, kept between runs):
#   pkg/                          caudata, profile `release` (what build.sh publishes)
#   bench/pkg-caudata-size/       caudata, profile `size`
#   bench/pkg-vodozemac-speed/    vodozemac, profile `release`
#   bench/pkg-vodozemac-size/     vodozemac, profile `size`
# all through the same wasm-bindgen and `wasm-opt -O<level>` as build.sh; and the same three
# modules for the web (wasm-bindgen --target web, the same wasm-opt) for browser/bench.mjs,
# next to build.sh's pkg-web/:
#   bench/pkg-web-caudata-size/  bench/pkg-web-vodozemac-speed/  bench/pkg-web-vodozemac-size/
# Each web directory (and bench/pkg-web-caudata-speed/ for pkg-web/) also gets
# <name>_bg.named.wasm: the same module through the same wasm-opt flags plus -g, which keeps
# the function names, for CPU profiles (browser/bench.mjs --names). Timings use the stripped one.
#
# BENCH_SKIP_CARGO=1 re-packages the modules already in the target dirs without running cargo.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
[[ -f pkg/caudata_wasm_bg.wasm && -f pkg-web/caudata_wasm.js ]] || { echo "bench.sh: run build.sh first" >&2; exit 1; }

profiles() { sed -n '/^# BEGIN PROFILES/,/^# END PROFILES/p' "$1"; }
if ! diff <(profiles Cargo.toml) <(profiles bench/vodozemac-wasm/Cargo.toml) >/dev/null; then
  echo "bench.sh: the [profile.*] tables of Cargo.toml and bench/vodozemac-wasm/Cargo.toml differ" >&2
  diff <(profiles Cargo.toml) <(profiles bench/vodozemac-wasm/Cargo.toml) >&2 || true
  exit 1
fi

# shellcheck source=wasm-opt.sh
source "$here/wasm-opt.sh"

# named <profile> <input.wasm> <pkg-dir> <out-name>: <pkg-dir>/<out-name>_bg.named.wasm, the web
# module with its function names (for profiles only; wasm-bindgen's JavaScript is the same).
named() {
  local profile=$1 wasm=$2 pkg=$3 out=$4 tmp
  tmp="$(mktemp -d)"
  wasm-bindgen --target web --remove-producers-section --out-dir "$tmp" --out-name "$out" "$wasm"
  wasm_opt_profile "$profile" "$tmp/${out}_bg.wasm" -g
  mkdir -p "$pkg"
  mv "$tmp/${out}_bg.wasm" "$pkg/${out}_bg.named.wasm"
  rm -rf "$tmp"
}

build() { # name crate-dir out-name profile
  local name=$1 dir=$2 out=$3 profile=$4
  local target="$here/target-bench-$(basename "$dir")"
  [[ -n ${BENCH_SKIP_CARGO:-} ]] ||
    (cd "$dir" && CARGO_TARGET_DIR=$target cargo build --profile "$profile" --target wasm32-unknown-unknown -q)
  local wasm="$target/wasm32-unknown-unknown/$profile/$out.wasm"
  local pkg="$here/bench/pkg-$name"
  rm -rf "$pkg"
  wasm-bindgen --target nodejs --remove-name-section --remove-producers-section --out-dir "$pkg" --out-name "$out" "$wasm"
  echo '{"type":"commonjs"}' >"$pkg/package.json"
  # The same module for browser/bench.mjs: only the JavaScript glue differs (as in build.sh,
  # optimised once when wasm-bindgen made the same module for both targets).
  local web="$here/bench/pkg-web-$name" same=
  rm -rf "$web"
  wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$web" --out-name "$out" "$wasm"
  cmp -s "$pkg/${out}_bg.wasm" "$web/${out}_bg.wasm" && same=1
  wasm_opt_profile "$profile" "$pkg/${out}_bg.wasm"
  if [[ -n $same ]]; then
    cp "$pkg/${out}_bg.wasm" "$web/${out}_bg.wasm"
  else
    wasm_opt_profile "$profile" "$web/${out}_bg.wasm"
  fi
  named "$profile" "$wasm" "$web" "$out"
}
if [[ ${1:-} == --build-only ]]; then
  shift
  build_only=1
fi
build vodozemac-speed "$here/bench/vodozemac-wasm" vodozemac_wasm_bench release
build vodozemac-size "$here/bench/vodozemac-wasm" vodozemac_wasm_bench size
build caudata-size "$here" caudata_wasm size
# build.sh's module for the web is pkg-web/; its named twin, from build.sh's cargo output.
release_wasm="${CARGO_TARGET_DIR:-$here/target}/wasm32-unknown-unknown/release/caudata_wasm.wasm"
if [[ -f $release_wasm ]]; then
  named release "$release_wasm" "$here/bench/pkg-web-caudata-speed" caudata_wasm
else
  echo "bench.sh: no $release_wasm (build.sh's), so no named caudata-speed module for profiles" >&2
fi
[[ -n ${build_only:-} ]] || node bench.mjs "$@"
