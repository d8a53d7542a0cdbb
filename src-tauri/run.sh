#!/usr/bin/env bash
# Builds and runs Identity Inspector from this checkout: the desktop window, or the headless
# server when there is no display or a subcommand is given. Arguments go to the binary:
#
#   bash src-tauri/run.sh                     # the window (or `serve` without a display)
#   bash src-tauri/run.sh --port 28121        # the window on another port
#   bash src-tauri/run.sh serve --port 9000   # headless, with a display or without
#   bash src-tauri/run.sh --print-plan [ARGS] # say what would be installed, built and run; do nothing
#
# The desktop build needs Debian's WebKitGTK development packages; the ones pkg-config cannot
# find are installed with apt-get (with sudo when not root), and apt is not touched when all are
# there. The headless build needs none of them. Rust (cargo) and Node (npm, for the UI) must be
# installed already.
set -euo pipefail

plan_only=0
if [[ "${1:-}" == "--print-plan" ]]; then
  plan_only=1
  shift
fi
args=("$@")
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
binary="$target_dir/release/identity-inspector"
say() { printf 'run.sh: %s\n' "$*" >&2; }

# --- What to run -------------------------------------------------------------------------
# A subcommand (serve, mcp, export, import, replay, tail and the queries) or help runs as given,
# headless. With no subcommand the binary opens the window, which needs a display; without one,
# `serve` instead.
subcommand=""
for a in "${args[@]}"; do
  case "$a" in
    serve | mcp | export | import | replay | tail | persons | devices | warnings | why | help | -h | --help | -V | --version)
      subcommand="$a"
      break
      ;;
  esac
done
if [[ -n "$subcommand" ]]; then
  mode=headless
  run_args=("${args[@]}")
elif [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  mode=headless
  run_args=(serve "${args[@]}")
  port=28120
  for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
      --port) port="${args[$((i + 1))]:-$port}" ;;
      --port=*) port="${args[$i]#--port=}" ;;
    esac
  done
  say "no display (\$DISPLAY and \$WAYLAND_DISPLAY are empty): running the server headless instead."
  say "open http://127.0.0.1:$port in a browser (the line below gives the real address)."
else
  mode=desktop
  run_args=("${args[@]}")
fi

# --- System packages (desktop build only) ------------------------------------------------
# pkg-config module -> the Debian package that provides it.
missing=()
if [[ "$mode" == desktop ]]; then
  if ! command -v pkg-config >/dev/null 2>&1; then
    missing+=(pkg-config libwebkit2gtk-4.1-dev libayatana-appindicator3-dev)
  else
    pkg-config --exists webkit2gtk-4.1 || missing+=(libwebkit2gtk-4.1-dev)
    pkg-config --exists ayatana-appindicator3-0.1 || missing+=(libayatana-appindicator3-dev)
  fi
  command -v cc >/dev/null 2>&1 || missing+=(build-essential)
fi
if ((${#missing[@]} == 0)); then
  sudo_cmd=()
  install_line="none (everything needed is installed)"
elif [[ "$(id -u)" == 0 ]]; then
  sudo_cmd=()
  install_line="apt-get install ${missing[*]} (as root)"
else
  sudo_cmd=(sudo)
  install_line="sudo apt-get install ${missing[*]}"
fi

# One binary for both: headless runs use the desktop build too when its packages are already
# there (switching features would rebuild the binary each time), and never install any.
features=()
if [[ "$mode" == desktop ]] || { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists webkit2gtk-4.1; }; then
  features=(--features desktop)
fi
build_cmd=(cargo build --release --locked -p identity-inspector "${features[@]}")

if ((plan_only)); then
  printf 'mode: %s\n' "$mode"
  printf 'install: %s\n' "$install_line"
  printf 'build: %s\n' "${build_cmd[*]}"
  printf 'run: %s\n' "$binary${run_args[*]:+ ${run_args[*]}}"
  exit 0
fi

for tool in cargo npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "$tool is not installed: this needs Rust (https://rustup.rs) and Node 20.19+ with npm (the UI is built with it)."
    exit 1
  fi
done

if ((${#missing[@]} > 0)); then
  say "the desktop window is built against WebKitGTK; installing what pkg-config cannot find:"
  say "  ${missing[*]}"
  say "(libwebkit2gtk-4.1-dev: the web view; libayatana-appindicator3-dev: the tray icon;"
  say " pkg-config and build-essential: to find and link them)"
  if ((${#sudo_cmd[@]})) && ! command -v sudo >/dev/null 2>&1; then
    say "not root and no sudo: run as root:  apt-get install ${missing[*]}"
    exit 1
  fi
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

say "building: ${build_cmd[*]}  (the first build takes several minutes)"
(cd "$repo" && "${build_cmd[@]}")
exec "$binary" "${run_args[@]}"
