# Sourced by build.sh and bench.sh: binaryen's wasm-opt (from node_modules, installed by
# build.sh's `npm ci`) run the same way on every module, so that caudata and the vodozemac bench
# crate are post-processed alike.

# The features rustc enables by default for wasm32-unknown-unknown: wasm-opt must accept them
# and may use nothing else.
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int
  --enable-reference-types --enable-multivalue)

# wasm_opt_profile <cargo profile> <file.wasm>: optimises in place, with -Oz for both profiles
# (-O3 on the release build changed neither its speed nor its size beyond noise).
wasm_opt_profile() {
  local tool
  tool="$(dirname "${BASH_SOURCE[0]}")/node_modules/.bin/wasm-opt"
  [[ -x $tool ]] || { echo "wasm-opt not found (build.sh's npm ci installs binaryen)" >&2; return 1; }
  "$tool" -Oz "${WASM_OPT_FEATURES[@]}" "$2" -o "$2.opt"
  mv "$2.opt" "$2"
}
