#!/usr/bin/env bash
# Builds the C example of libolm/README.md (the ```c block, extracted here so that the README
# is what is tested) against an installed caudata-libolm with `pkg-config --cflags --libs olm`,
# and runs it. Installs into target/libolm-prefix first (libolm/install.sh); installs
# pkg-config (and a C compiler) with apt-get when missing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
prefix="${OLM_PREFIX:-$root/target/libolm-prefix}"
work="$root/target/libolm-example"
need=()
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v cc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} with apt-get"
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

"$root/libolm/install.sh" "$prefix"
mkdir -p "$work"
awk '/^```c$/ {on = 1; next} /^```$/ {on = 0} on' "$root/libolm/README.md" > "$work/example.c"
[ -s "$work/example.c" ] || { echo "no C example in libolm/README.md"; exit 1; }
cd "$work"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# the README's command, with warnings as errors
cc -Wall -Wextra -Werror example.c $(pkg-config --cflags --libs olm) -o example
out="$(LD_LIBRARY_PATH="$prefix/lib" ./example)"
echo "$out"
[ "$out" = "$(printf 'Bob read: Hello, Bob\nAlice read: Hello, Alice')" ] || { echo "unexpected output"; exit 1; }
echo "the README's C example builds with pkg-config against caudata-libolm and runs"
