#!/usr/bin/env bash
# Builds the C example of libolm/README.md (the ```c block, extracted here so that the README
# is what is tested) against an installed caudata-libolm with `pkg-config --cflags --libs olm`,
# and runs it. Installs into target/libolm-prefix first (libolm/install.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
prefix="${OLM_PREFIX:-$root/target/libolm-prefix}"
work="$root/target/libolm-example"
command -v pkg-config >/dev/null || { echo "pkg-config is required"; exit 1; }

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
