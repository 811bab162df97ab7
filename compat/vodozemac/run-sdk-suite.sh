#!/usr/bin/env bash
# matrix-sdk-crypto 0.19.1's own test suite (466 unit tests, 32 doctests) with vodozemac patched
# to this crate: vodozemac's API on caudata.
#
#   compat/vodozemac/run-sdk-suite.sh              # the suite on the facade (what CI runs)
#   compat/vodozemac/run-sdk-suite.sh vodozemac    # the baseline: the same suite on real vodozemac
#   compat/vodozemac/run-sdk-suite.sh update-lock  # regenerate sdk-suite/Cargo.lock (see below)
#
# The package is fetched from crates.io by exact version and checked against its sha256; the
# test fixtures its package lacks come from test-vectors/matrix-sdk-crypto-0.19.1/. The suite
# builds with the package's own Cargo.lock (--locked), except that vodozemac is the facade: the
# lock used, sdk-suite/Cargo.lock, is the package's lock after cargo's minimal re-resolution
# with the patch, and `update-lock` checks that every package of the original lock kept its
# version. Needs the nightly toolchain (the package needs rustc >= 1.96; installed through rustup
# if missing) and python3.
# The work directory (unpacked package and its target dir) is $SDK_SUITE_DIR, by default
# target/sdk-suite; keep it between runs for warm builds.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODE=${1:-facade}
VERSION=0.19.1
SHA256=6851a6f102574c52430bd3617f86fb0def62f912fd2aed5356dcb8ff06a9fbc3
URL="https://static.crates.io/crates/matrix-sdk-crypto/matrix-sdk-crypto-$VERSION.crate"
WORK=${SDK_SUITE_DIR:-$ROOT/target/sdk-suite}
FIXTURES="$ROOT/test-vectors/matrix-sdk-crypto-$VERSION"
EXPECTED_UNIT=466
EXPECTED_DOC=32

case "$MODE" in facade | vodozemac | update-lock) ;; *)
  echo "usage: $0 [facade|vodozemac|update-lock]" >&2
  exit 2
  ;;
esac

# The package needs rustc >= 1.96: the nightly toolchain, installed if missing.
cargo +nightly --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal

mkdir -p "$WORK"
CRATE="$WORK/matrix-sdk-crypto-$VERSION.crate"
# fetched with python3's urllib (no curl needed) and checked against the published sha256
python3 - "$URL" "$CRATE" "$SHA256" <<'EOF'
import hashlib, os, sys, urllib.request
url, path, want = sys.argv[1:]
def digest(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
if not (os.path.exists(path) and digest(path) == want):
    with urllib.request.urlopen(url, timeout=60) as r, open(path + ".part", "wb") as f:
        f.write(r.read())
    os.replace(path + ".part", path)
if digest(path) != want:
    sys.exit(f"sdk-suite: FAIL: {path} does not have the published sha256 {want}")
EOF

# <root>/crates/matrix-sdk-crypto (the package) and <root>/benchmarks (fixtures), as in the
# matrix-rust-sdk repository; unpacked afresh each run (the target dir is kept).
TREE="$WORK/tree"
rm -rf "$TREE"
mkdir -p "$TREE/crates"
tar -xzf "$CRATE" -C "$TREE/crates"
mv "$TREE/crates/matrix-sdk-crypto-$VERSION" "$TREE/crates/matrix-sdk-crypto"
PKG="$TREE/crates/matrix-sdk-crypto"
cp -r "$FIXTURES/src/." "$PKG/src/"
mkdir -p "$TREE/benchmarks"
cp -r "$FIXTURES/benchmarks/." "$TREE/benchmarks/"

# Its own workspace (the work directory may lie inside caudata's).
printf '\n[workspace]\n' >>"$PKG/Cargo.toml"
if [ "$MODE" != vodozemac ]; then
  cat >>"$PKG/Cargo.toml" <<EOF

[patch.crates-io]
vodozemac = { path = "$HERE" }
EOF
fi

export CARGO_TARGET_DIR="$WORK/target-$([ "$MODE" = vodozemac ] && echo vodozemac || echo facade)"
# No debug info and no incremental state: a third of the build time and most of the disk.
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0 CARGO_INCREMENTAL=0

if [ "$MODE" = update-lock ]; then
  cp "$PKG/Cargo.lock" "$WORK/Cargo.lock.orig"
  # only vodozemac moves (to the patch); its new dependencies are added at their newest versions
  (cd "$PKG" && cargo +nightly update -p vodozemac)
  python3 - "$WORK/Cargo.lock.orig" "$PKG/Cargo.lock" <<'EOF'
import sys, tomllib
def pkgs(p):
    with open(p, "rb") as f:
        return {(x["name"], x["version"], x.get("source", "")) for x in tomllib.load(f)["package"]}
old, new = pkgs(sys.argv[1]), pkgs(sys.argv[2])
gone = sorted(old - new)
added = sorted(new - old)
new_names = {p[0] for p in new}
# vodozemac 0.11.0 from crates.io is replaced by the facade; a package only vodozemac used may
# leave the graph, and the facade's own dependencies join it, but no package present in both
# may change version
bad = [p for p in gone if p[0] != "vodozemac" and p[0] in new_names and p not in new]
print("left the graph:", [f"{n} {v}" for n, v, _ in gone])
print("joined the graph:", [f"{n} {v}" for n, v, _ in added])
if bad:
    sys.exit(f"sdk-suite: FAIL: packages of the published lock changed version: {bad}")
EOF
  cp "$PKG/Cargo.lock" "$HERE/sdk-suite/Cargo.lock"
  echo "sdk-suite: wrote $HERE/sdk-suite/Cargo.lock"
  exit 0
fi

if [ "$MODE" = facade ]; then
  cp "$HERE/sdk-suite/Cargo.lock" "$PKG/Cargo.lock"
fi

LOG="$WORK/test-$MODE.log"
set +e
(cd "$PKG" && cargo +nightly test --locked 2>&1) | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  echo "sdk-suite: FAIL: cargo test exited with $rc (log: $LOG)" >&2
  exit 1
fi
# The unit-test binary's and the doctests' summary lines, in that order.
python3 - "$LOG" "$EXPECTED_UNIT" "$EXPECTED_DOC" <<'EOF'
import re, sys
log, unit, doc = open(sys.argv[1]).read(), int(sys.argv[2]), int(sys.argv[3])
results = re.findall(r"test result: (\w+)\. (\d+) passed; (\d+) failed; (\d+) ignored", log)
if len(results) != 2:
    sys.exit(f"sdk-suite: FAIL: expected 2 test binaries (unit tests, doctests), found {len(results)}")
(s1, p1, f1, _), (s2, p2, f2, _) = results
if (s1, int(f1), s2, int(f2)) != ("ok", 0, "ok", 0) or int(p1) < unit or int(p2) < doc:
    sys.exit(f"sdk-suite: FAIL: unit tests {p1} passed / {f1} failed (need {unit}), doctests {p2} passed / {f2} failed (need {doc})")
print(f"sdk-suite: OK: {p1} unit tests and {p2} doctests of matrix-sdk-crypto 0.19.1 passed")
EOF
