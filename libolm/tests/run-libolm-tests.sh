#!/usr/bin/env bash
# Proof 1: libolm 3.2.16's own C++ test suite, unchanged, against caudata-libolm.
#
# Fetches python-olm 3.2.16's source package (pinned, SHA-256 checked), installs caudata-libolm
# into target/libolm-prefix with libolm/install.sh, builds libolm's tests with CMake through
# find_package(Olm) (the shared library, and test_olm once more against the static one), runs
# them, then runs each under valgrind memcheck (no leak, no invalid access, or it fails).
# Installs cmake and valgrind with apt-get when they are missing; fails, never skips.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
prefix="${OLM_PREFIX:-$root/target/libolm-prefix}"
build="$root/target/libolm-upstream-tests"

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v valgrind >/dev/null || need+=(valgrind)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} with apt-get"
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

src="$("$here/fetch-python-olm.sh")"
"$root/libolm/install.sh" "$prefix"

tests=(olm olm_decrypt olm_sha256 olm_signature olm_using_malloc pk sas group_session crypto)
rm -rf "$build"
cmake -S "$here/c" -B "$build/shared" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="$prefix" \
    -DLIBOLM_TESTS="$src/libolm/tests" >/dev/null
cmake --build "$build/shared" -j 2 >/dev/null
cmake -S "$here/c" -B "$build/static" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="$prefix" \
    -DLIBOLM_TESTS="$src/libolm/tests" -DOLM_USE_STATIC_LIBS=ON >/dev/null
cmake --build "$build/static" --target test_olm -j 2 >/dev/null

# The shared build must load caudata's libolm.so.3 (from the prefix), not any other. (ldd's
# output is read whole first: `ldd | grep -q` under pipefail fails whenever grep's early exit
# gives ldd a SIGPIPE, which made a CI run report a correct build as wrong.)
deps="$(ldd "$build/shared/test_olm")"
grep -qF "$prefix/lib/libolm.so.3" <<<"$deps" || {
    echo "test_olm does not load $prefix/lib/libolm.so.3:"; echo "$deps"; exit 1; }

cases=0
run() { # name, command...
    local name="$1"; shift
    local log="$build/$name.log"
    if ! "$@" >"$log" 2>&1; then
        echo "FAILED: $name"; cat "$log"; exit 1
    fi
    local line; line="$(grep 'test cases:' "$log" | tail -n 1)"
    grep -q '| *0 failed' <<<"$line" || { echo "FAILED: $name: $line"; cat "$log"; exit 1; }
    echo "$name: $line"
    cases=$((cases + $(sed -E 's/.*test cases: *([0-9]+) \|.*/\1/' <<<"$line")))
}
for t in "${tests[@]}"; do run "test_$t" "$build/shared/test_$t"; done
run "test_olm (static)" "$build/static/test_olm"
plain=$cases

cases=0
for t in "${tests[@]}"; do
    run "valgrind test_$t" valgrind --tool=memcheck --leak-check=full \
        --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
        --error-exitcode=99 --quiet "$build/shared/test_$t"
done
echo "libolm 3.2.16's tests against caudata-libolm: $plain test cases passed (${#tests[@]} suites, plus test_olm static); under valgrind memcheck: $cases passed, no leak or memory error"
