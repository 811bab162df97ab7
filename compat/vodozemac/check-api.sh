#!/usr/bin/env bash
# Compares this crate's public API with vodozemac 0.11.1's, item by item, from both crates'
# rustdoc JSON (nightly's unstable `--output-format json`), with the features matrix-rust-sdk
# and the low-level users enable. Writes API-DIFF.txt: the lines only vodozemac has ("-") and
# only this crate has ("+"); README.md explains each. A maintainer's tool, not a CI step (the
# rustdoc JSON format changes between nightlies).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${CHECK_API_DIR:-$ROOT/target/check-api}
FEATURES="insecure-pk-encryption,experimental-session-config,low-level-api"
export CARGO_TARGET_DIR="$WORK/target"
mkdir -p "$WORK/real/src"

# vodozemac 0.11.1 from crates.io, through a throwaway crate that depends on it
cat >"$WORK/real/Cargo.toml" <<EOF
[package]
name = "check-api-vodozemac"
version = "0.0.0"
edition = "2024"
publish = false
[dependencies]
vodozemac = { version = "=0.11.1", features = ["${FEATURES//,/\", \"}"] }
[workspace]
EOF
: >"$WORK/real/src/lib.rs"
(cd "$WORK/real" && cargo +nightly rustdoc -p vodozemac@0.11.1 -- -Z unstable-options --output-format json)
cp "$CARGO_TARGET_DIR/doc/vodozemac.json" "$WORK/vodozemac-0.11.1.json"

(cd "$ROOT" && cargo +nightly rustdoc --manifest-path "$HERE/Cargo.toml" --features "$FEATURES" -- -Z unstable-options --output-format json)
cp "$CARGO_TARGET_DIR/doc/vodozemac.json" "$WORK/facade.json"

python3 "$HERE/api-diff.py" "$WORK/vodozemac-0.11.1.json" "$WORK/facade.json" | tee "$HERE/API-DIFF.txt"
