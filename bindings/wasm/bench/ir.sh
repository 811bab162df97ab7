#!/usr/bin/env bash
# Instructions per operation (callgrind, V8 TurboFan only) for each implementation and
# operation: total instructions of a run with the operations minus those of the same run
# without them, divided by their number. Deterministic to ≈ 1 % (GC timing), unlike time on
# a shared machine.
#
#   bash bench/ir.sh caudata-size,libolm "Olm encrypt,Megolm decrypt" [rounds=10] [name=dir,… more builds]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IFS=, read -ra impls <<<"$1"
IFS=, read -ra ops <<<"$2"
rounds=${3:-10}
extra=${4:-}
count() {
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file=/dev/null --smc-check=all-non-file \
    node --no-liftoff --single-threaded "$here/ir.mjs" "$@" 2>"$out" >/dev/null
  sed -nE 's/.*Collected : ([0-9]+).*/\1/p' "$out"
  rm -f "$out"
}
printf '%-55s' "instructions per operation (thousands)"
for impl in "${impls[@]}"; do printf ' %16s' "$impl"; done
echo
for op in "${ops[@]}"; do
  printf '%-55s' "$op"
  for impl in "${impls[@]}"; do
    on=$(BENCH_PKG="$extra" count "$impl" "$op" "$rounds" 1)
    off=$(BENCH_PKG="$extra" count "$impl" "$op" "$rounds" 0)
    B=$(BENCH_PKG="$extra" node "$here/ir.mjs" "$impl" "$op" 1 0 | sed -nE 's/.*"ops":([0-9]+).*/\1/p')
    printf ' %16s' "$(( (on - off) / (B * rounds) / 1000 ))"
  done
  echo
done
