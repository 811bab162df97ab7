#!/usr/bin/env bash
# Miri (undefined behaviour, out-of-bounds and uninitialised reads, aliasing violations) over
# the tests that need no peer and that the interpreter gets through in reasonable time:
#
# * the core's unit tests of everything that parses or lays out bytes: the wire codecs (Olm,
#   Megolm, Signal), the pickle codec, the JSON reader (vodozemac pickles), the libolm pickle
#   cipher and caudata's pickle envelope, SPQR's message codec and erasure-code rules, base64,
#   HMAC/HKDF and AES-CBC;
# * property tests with a handful of cases under cfg(miri): SPQR's message codec
#   (tests/spqr_erasure.rs) and every pickle importer fed arbitrary and authentic-garbage bytes
#   (tests/pickle_own.rs).
#
# Left out, because Miri interprets every step and they would take hours: the tests dominated by
# elliptic-curve and lattice arithmetic (X25519, Ed25519, XEdDSA, Kyber1024, ML-KEM-768, whole
# SPQR conversations, whole sessions, the prekey store's Kyber keys), GF(2^16) erasure decoding
# (the field-law and round-trip tests: minutes each), the Megolm ratchet (thousands of HMACs per
# test: two to five minutes each), and everything that needs a live peer. caudata itself is
# #![forbid(unsafe_code)]; what Miri checks here is mostly the dependencies' unsafe code
# (base64ct, sha2, aes/cbc, subtle, zeroize, chacha20poly1305) on caudata's inputs.
#
# Installs the nightly toolchain's miri and rust-src components if missing, fails (never skips)
# if it cannot. Run time: see the lead's notes in the helper report.
set -euo pipefail
cd "$(dirname "$0")/.."
toolchain="${MIRI_TOOLCHAIN:-nightly}"
# (the list is read whole first: with pipefail, grep -q's early exit could SIGPIPE rustup)
if ! grep -q '^miri' <<<"$(rustup component list --toolchain "$toolchain" --installed 2>/dev/null || true)"; then
    rustup component add --toolchain "$toolchain" miri rust-src
fi
# proptest reads the clock and the environment; the rest is deterministic
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
start=$(date +%s)

echo "== miri: the core's unit tests (codecs, pickles, SPQR codec, base64, KDF, AES)"
cargo +"$toolchain" miri test -p caudata --features hazmat --lib -- \
    wire:: pickle::codec:: pickle::json:: pickle::libolm:: pickle::envelope:: \
    interolm::spqr::message:: interolm::spqr::erasure::tests::acceptance_rule interolm::spqr::erasure::tests::bad_lengths \
    primitives::tests::base64 primitives::tests::aes primitives::tests::hash \
    primitives::kdf::tests::hkdf_matches_the_hkdf_crate

echo "== miri: property tests, 4 cases each (SPQR message codec, pickle importers)"
cargo +"$toolchain" miri test -p caudata-tests --all-features --test spqr_erasure -- \
    codec_round_trip arbitrary_bytes_never_panic_the_codec
cargo +"$toolchain" miri test -p caudata-tests --all-features --test pickle_own -- \
    arbitrary_text_and_bytes_never_panic authentic_garbage_reaches_every_decoder_without_panic

echo "miri: done in $(( $(date +%s) - start )) s"
