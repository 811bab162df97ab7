#!/usr/bin/env bash
# Constant-time evidence: caudata's MAC check, secret comparisons, HKDF, AES-CBC, base64 of
# secrets, X25519, Ed25519 signing, the QR-login channels (ECIES, HPKE), dehydration, SAS MAC
# verification, key-backup decryption, and sealed sender's ciphers (AES-CTR + HMAC, AES-GCM-SIV)
# and ephemeral-key derivation run under valgrind memcheck with their secrets marked
# undefined; any secret-dependent branch or table index fails the run. A deliberately leaky
# control must be caught, or the harness itself is broken.
set -euo pipefail
cd "$(dirname "$0")"
command -v valgrind >/dev/null || { echo "ctgrind: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet
bin=target/release/caudata-ctgrind
vg=(valgrind --tool=memcheck --error-exitcode=42 --quiet --track-origins=yes --suppressions=declassified.supp)
if ! "${vg[@]}" "$bin" check; then
  echo "ctgrind: FAIL: valgrind found a secret-dependent branch or index in caudata (see above)" >&2
  exit 1
fi
set +e
"${vg[@]}" "$bin" control 2>/dev/null
rc=$?
set -e
if [ "$rc" -ne 42 ]; then
  echo "ctgrind: FAIL: the leaky control was not flagged (exit $rc): the harness sees nothing" >&2
  exit 1
fi
echo "ctgrind: 15 operation groups constant-time under memcheck; leaky control flagged as expected"
