#!/usr/bin/env bash
# Installs the system packages the end-to-end tests need, only when they are missing:
# Debian's Chromium (driven by playwright-core; a browser download cannot work offline),
# python3-venv (for the real posthog python SDK) and a font for screenshots.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "tests need these Debian packages: ${missing[*]} (run as root or install them)" >&2; exit 1
fi
echo "installing ${missing[*]} ..." >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
