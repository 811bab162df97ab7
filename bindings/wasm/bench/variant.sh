#!/usr/bin/env bash
# Experiments only: builds caudata's bindings or the vodozemac bench crate with a given
# opt-level / wasm-opt level / RUSTFLAGS into bench/pkg-<name>/ (Node target), for bench.mjs
# (CAUDATA_WASM_PKG=bench/pkg-<name> or --only). Each variant keeps its own target dir.
#
#   bash bench/variant.sh <name> caudata|vodozemac <opt-level> <wasm-opt flag> [RUSTFLAGS] [cargo --config …]
#
# e.g. bash bench/variant.sh z-deps3 caudata z -Oz "" 'profile.release.package."*".opt-level=3'
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name=$1 crate=$2 level=$3 wopt=$4 rustflags=${5:-}
shift 5 || shift $#
config=()
for c in "$@"; do config+=(--config "$c"); done
case $crate in
  caudata) dir=$here out=caudata_wasm ;;
  vodozemac) dir=$here/bench/vodozemac-wasm out=vodozemac_wasm_bench ;;
  *) echo "caudata or vodozemac" >&2; exit 1 ;;
esac
export CARGO_TARGET_DIR=$here/target-$crate-$name
(cd "$dir" && CARGO_PROFILE_RELEASE_OPT_LEVEL=$level RUSTFLAGS="$rustflags" cargo build --release --target wasm32-unknown-unknown -q "${config[@]}")
wasm=$(ls "$CARGO_TARGET_DIR"/wasm32-unknown-unknown/release/*.wasm | head -1)
pkg=$here/bench/pkg-$name
rm -rf "$pkg"
wasm-bindgen --target nodejs --out-dir "$pkg" --out-name "$out" "$wasm"
echo '{"type":"commonjs"}' >"$pkg/package.json"
features=(--enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int
  --enable-reference-types --enable-multivalue)
[[ $rustflags == *simd128* ]] && features+=(--enable-simd)
# Names kept for profiles and bench/crate-sizes.mjs; the sizes printed are without them.
"$here/node_modules/.bin/wasm-opt" "$wopt" -g "${features[@]}" "$pkg/${out}_bg.wasm" -o "$pkg/${out}_bg.wasm"
"$here/node_modules/.bin/wasm-opt" "$wopt" "${features[@]}" --strip-debug "$pkg/${out}_bg.wasm" -o "$pkg/stripped.wasm"
printf '%s: raw %s gzip %s\n' "$name" "$(wc -c <"$pkg/stripped.wasm")" "$(gzip -9c "$pkg/stripped.wasm" | wc -c)"
mv "$pkg/stripped.wasm" "$pkg/${out}_bg.wasm.stripped"
