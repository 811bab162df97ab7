#!/usr/bin/env bash
# Builds caudata-libolm and installs it as libolm 3.2.16 would be installed:
#   PREFIX/lib/libolm.so.3.2.16, libolm.so.3 (the soname), libolm.so, libolm.a
#   PREFIX/include/olm/*.h
#   PREFIX/lib/pkgconfig/olm.pc                  (pkg-config --cflags --libs olm)
#   PREFIX/lib/cmake/Olm/OlmConfig*.cmake         (find_package(Olm 3.2) -> Olm::Olm)
#
# Usage: libolm/install.sh PREFIX        e.g. libolm/install.sh /usr/local
# Environment: CARGO (default cargo), LIBDIR (default lib), PROFILE (default release).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
prefix="${1:?usage: libolm/install.sh PREFIX}"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
cargo="${CARGO:-cargo}"
libdir_name="${LIBDIR:-lib}"
profile="${PROFILE:-release}"
version=3.2.16

cd "$root"
"$cargo" build --locked --profile "$profile" -p caudata-libolm
target_dir="$("$cargo" metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
out="$target_dir/$([ "$profile" = dev ] && echo debug || echo "$profile")"
# the system libraries a program linking the static library needs (Rust's standard library's)
static_libs="$("$cargo" rustc --locked --profile "$profile" -p caudata-libolm --lib --crate-type staticlib -- --print native-static-libs 2>&1 \
    | sed -n 's/.*native-static-libs: //p' | tail -n 1)"

libdir="$prefix/$libdir_name"
install -d "$libdir/pkgconfig" "$libdir/cmake/Olm" "$prefix/include/olm"
install -m 0755 "$out/libolm.so" "$libdir/libolm.so.$version"
ln -sf "libolm.so.$version" "$libdir/libolm.so.3"
ln -sf "libolm.so.3" "$libdir/libolm.so"
install -m 0644 "$out/libolm.a" "$libdir/libolm.a"
install -m 0644 "$here"/include/olm/*.h "$prefix/include/olm/"

sed -e "s|@PREFIX@|$prefix|g" -e "s|@LIBDIR@|$libdir|g" -e "s|@VERSION@|$version|g" \
    -e "s|@STATIC_LIBS@|$static_libs|g" "$here/pkg/olm.pc.in" > "$libdir/pkgconfig/olm.pc"
static_libs_cmake="$(echo "$static_libs" | sed -e 's/^-l//' -e 's/ -l/;/g')"
sed -e "s|@VERSION@|$version|g" -e "s|@LIBDIR_NAME@|$libdir_name|g" -e "s|@STATIC_LIBS_CMAKE@|$static_libs_cmake|g" \
    "$here/pkg/OlmConfig.cmake.in" > "$libdir/cmake/Olm/OlmConfig.cmake"
sed -e "s|@VERSION@|$version|g" "$here/pkg/OlmConfigVersion.cmake.in" > "$libdir/cmake/Olm/OlmConfigVersion.cmake"
echo "installed caudata-libolm (libolm $version ABI) into $prefix"
