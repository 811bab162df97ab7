#!/usr/bin/env bash
# Runs every cargo-fuzz target of caudata briefly (CI smoke fuzzing; see fuzz/README.md).
# Installs cargo-fuzz if missing, builds all targets once, then runs each for
# FUZZ_SECONDS (default 15) from its checked-in seed corpus, one at a time, and prints
# executions per second and total executions per target. A crash fails the run and leaves
# the input in fuzz/artifacts/<target>/.
#
#   bash fuzz/run-ci.sh                 # all targets, 15 s each (~3 min plus the build)
#   FUZZ_SECONDS=60 bash fuzz/run-ci.sh decrypt_olm interaction_interolm
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-15}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz

# libolm_differential compiles libolm 3.2.16 itself from python-olm 3.2.16's source package
# (pinned, SHA-256 checked) to compare caudata-libolm with it call for call.
LIBOLM_SRC="$(bash ../libolm/tests/fetch-python-olm.sh)/libolm"
export LIBOLM_SRC
features=(--features libolm-differential)

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +"$toolchain" fuzz list)
fi

echo "== building ${#targets[@]} fuzz targets"
cargo +"$toolchain" fuzz build "${features[@]}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
total_all=0
printf '%-22s %10s %12s %8s %8s %8s\n' target "exec/s" executions seconds edges features
for t in "${targets[@]}"; do
    # a scratch copy, so a CI run never grows the checked-in corpus
    mkdir -p "$work/$t"
    cp corpus/"$t"/* "$work/$t"/ 2>/dev/null || true
    log="$work/$t.log"
    start=$(date +%s)
    if ! cargo +"$toolchain" fuzz run "${features[@]}" "$t" "$work/$t" -- -max_total_time="$seconds" -print_final_stats=1 \
        >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "FUZZ FAILURE in $t (input saved under fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    elapsed=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    # libFuzzer's coverage at the end: edges (`cov:`) and features (`ft:`) of the instrumented
    # code reached by the corpus (caudata and the crates it calls)
    cov=$(grep -o 'cov: [0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    ft=$(grep -o 'ft: [0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    printf '%-22s %10s %12s %8s %8s %8s\n' "$t" "${rate:-?}" "${execs:-?}" "$elapsed" "${cov:-?}" "${ft:-?}"
    total_all=$(( total_all + ${execs:-0} ))
done
echo "total executions: $total_all"
