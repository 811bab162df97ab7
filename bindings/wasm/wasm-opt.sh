# Sourced by build.sh and bench.sh: binaryen's wasm-opt (from node_modules, installed by
# build.sh's `npm ci`) run the same way on every module, so that caudata and the vodozemac bench
# crate are post-processed alike.

# The features rustc enables by default for wasm32-unknown-unknown: wasm-opt must accept them
# and may use nothing else.
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int
  --enable-reference-types --enable-multivalue)

# wasm_opt_profile <cargo profile> <file.wasm> [more wasm-opt flags]: optimises in place. `size`: -Oz. `release`: -O2
# with wasm-opt's own inlining off. LLVM has already inlined at the crates' levels; wasm-opt's
# further inlining (of functions with one caller, and of tiny ones) grew the gzipped module by
# 12-15 KB and changed no timing beyond the noise (2026-12-06: 321 648 gzip with -Oz, 307 286
# with these flags, for the same input; README.md "Size and speed").
wasm_opt_profile() {
  local tool flags
  tool="$(dirname "${BASH_SOURCE[0]}")/node_modules/.bin/wasm-opt"
  [[ -x $tool ]] || { echo "wasm-opt not found (build.sh's npm ci installs binaryen)" >&2; return 1; }
  case $1 in
    release) flags=(-O2 --always-inline-max-function-size 0 --one-caller-inline-max-function-size 0) ;;
    *) flags=(-Oz) ;;
  esac
  "$tool" "${flags[@]}" "${WASM_OPT_FEATURES[@]}" "${@:3}" "$2" -o "$2.opt"
  mv "$2.opt" "$2"
}
