#!/usr/bin/env bash
# Installs what the browser tests need, from Debian's packages only: chromium and
# chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver). Nothing downloads a browser of its
# own. A no-op when both are present. Needs root (CI runs as root) or sudo.
set -euo pipefail
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi
command -v apt-get >/dev/null || { echo "setup.sh: chromium and chromedriver are missing and there is no apt-get" >&2; exit 1; }
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
echo "== installing chromium and chromium-driver (Debian)"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
/usr/bin/chromium --version
