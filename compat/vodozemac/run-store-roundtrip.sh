#!/usr/bin/env bash
# Stores across libraries: matrix-sdk-crypto 0.19.1 on matrix-sdk-sqlite 0.19.1's SQLite crypto
# store, one program (store-roundtrip/) built twice: with the real vodozemac 0.11.1 and with this
# facade. Two chains, each library opening stores the other wrote and continuing every session:
#
#   write (vodozemac) -> continue (facade) -> continue (vodozemac)
#   write (facade) -> continue (vodozemac) -> continue (facade)
#
#   compat/vodozemac/run-store-roundtrip.sh              # what CI runs
#   compat/vodozemac/run-store-roundtrip.sh update-lock  # regenerate the two lockfiles
#
# Both builds use committed lockfiles (store-roundtrip/Cargo.lock.{vodozemac,facade}): the first
# is matrix-sdk-crypto 0.19.1's published lock completed for this program, the second the first
# after cargo's minimal re-resolution with the patch. The target dir is
# the SDK suite's ($SDK_SUITE_DIR/target-facade), so the crates both share build once.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODE=${1:-run}
WORK=${STORE_ROUNDTRIP_DIR:-$ROOT/target/store-roundtrip}
PROGRAM="$HERE/store-roundtrip"
export CARGO_TARGET_DIR="${SDK_SUITE_DIR:-$ROOT/target/sdk-suite}/target-facade"
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0

# matrix-sdk-crypto 0.19.1 needs rustc >= 1.96: the nightly toolchain, installed if missing.
cargo +nightly --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
mkdir -p "$WORK/bin"
for lib in vodozemac facade; do
  rm -rf "${WORK:?}/$lib"
  mkdir -p "$WORK/$lib"
  cp -r "$PROGRAM/src" "$PROGRAM/Cargo.toml" "$WORK/$lib/"
  if [ "$lib" = facade ]; then
    cat >>"$WORK/$lib/Cargo.toml" <<EOF

[patch.crates-io]
vodozemac = { path = "$HERE" }
EOF
  fi
done

if [ "$MODE" = update-lock ]; then
  # seeded with matrix-sdk-crypto 0.19.1's own lock (from the package run-sdk-suite.sh fetched),
  # so that the versions the two share are the same and their builds are shared too
  SDK_CRATE="${SDK_SUITE_DIR:-$ROOT/target/sdk-suite}/matrix-sdk-crypto-0.19.1.crate"
  [ -f "$SDK_CRATE" ] || {
    echo "store-roundtrip: run run-sdk-suite.sh first (it fetches $SDK_CRATE)" >&2
    exit 1
  }
  tar -xzOf "$SDK_CRATE" matrix-sdk-crypto-0.19.1/Cargo.lock >"$WORK/vodozemac/Cargo.lock"
  (cd "$WORK/vodozemac" && cargo +nightly metadata --format-version 1 >/dev/null)
  cp "$WORK/vodozemac/Cargo.lock" "$PROGRAM/Cargo.lock.vodozemac"
  cp "$WORK/vodozemac/Cargo.lock" "$WORK/facade/Cargo.lock"
  (cd "$WORK/facade" && cargo +nightly update -p vodozemac@0.11.1)
  cp "$WORK/facade/Cargo.lock" "$PROGRAM/Cargo.lock.facade"
  echo "store-roundtrip: wrote $PROGRAM/Cargo.lock.{vodozemac,facade}"
  exit 0
fi
[ "$MODE" = run ] || {
  echo "usage: $0 [run|update-lock]" >&2
  exit 2
}

for lib in vodozemac facade; do
  cp "$PROGRAM/Cargo.lock.$lib" "$WORK/$lib/Cargo.lock"
  # the facade's build must link caudata, the other must not (--locked holds the rest)
  if grep -q '^name = "caudata"$' "$WORK/$lib/Cargo.lock"; then has=facade; else has=vodozemac; fi
  [ "$has" = "$lib" ] || {
    echo "store-roundtrip: FAIL: the $lib build's lockfile links the $has" >&2
    exit 1
  }
  label=$([ "$lib" = facade ] && echo "0.11.1, the facade on caudata" || echo "0.11.1 from crates.io")
  (cd "$WORK/$lib" && STORE_ROUNDTRIP_VODOZEMAC="$label" cargo +nightly build --locked)
  cp "$CARGO_TARGET_DIR/debug/caudata-sdk-store-roundtrip" "$WORK/bin/$lib"
done

for first in vodozemac facade; do
  second=$([ "$first" = facade ] && echo vodozemac || echo facade)
  dir="$WORK/stores-written-by-$first"
  rm -rf "$dir"
  mkdir -p "$dir"
  "$WORK/bin/$first" write "$dir"
  "$WORK/bin/$second" continue "$dir"
  "$WORK/bin/$first" continue "$dir"
done
echo "store-roundtrip: OK: SQLite crypto stores written by each library were reopened by the other, both ways, every session continued"
