#!/usr/bin/env bash
# Installs the system packages the tests need, only when they are missing:
# Debian's Chromium (driven by playwright-core; a browser download cannot work offline),
# python3-venv (for the real posthog python SDK) and a font for screenshots; for the desktop
# app (Tauri 2): webkit2gtk and a C toolchain to build it, the tray library, Xvfb to run it
# without a screen and ImageMagick for its screenshot.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)

desktop=()
command -v cc >/dev/null || desktop+=(build-essential)
command -v pkg-config >/dev/null || desktop+=(pkg-config)
pkg-config --exists webkit2gtk-4.1 2>/dev/null || desktop+=(libwebkit2gtk-4.1-dev)
pkg-config --exists ayatana-appindicator3-0.1 2>/dev/null || desktop+=(libayatana-appindicator3-dev)
[ -x /usr/bin/Xvfb ] || desktop+=(xvfb)
command -v xauth >/dev/null || desktop+=(xauth)
[ -x /usr/bin/import ] || desktop+=(imagemagick)

all=("${missing[@]}" "${desktop[@]}")
[ ${#all[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  if [ ${#missing[@]} -gt 0 ]; then
    echo "tests need these Debian packages: ${all[*]} (run as root or install them)" >&2; exit 1
  fi
  echo "*** the desktop tests need: ${desktop[*]} (run as root or install them); they will be skipped ***" >&2
  exit 0
fi
echo "installing ${all[*]} ..." >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${all[@]}" >/dev/null
