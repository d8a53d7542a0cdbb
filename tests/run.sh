#!/usr/bin/env bash
# The project's one test command (see README): the UI's view logic (Vitest), Rust tests of every
# crate, then the real SDKs (posthog-js in headless Chromium, posthog-node, posthog python) and the
# UI itself (Playwright) against the real server binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/bootstrap.sh

echo "== UI: view logic (vitest) and types (svelte-check)"
(
  cd ui
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  npm test
  npm run check
)

echo "== cargo test (all crates; builds the UI into the server when its sources changed)"
cargo test --workspace --locked

# The desktop app (Tauri 2, needs webkit2gtk): its mock-runtime tests, then its binary, kept
# beside the headless one for the Xvfb smoke test (e2e/desktop.test.mjs).
if pkg-config --exists webkit2gtk-4.1 2>/dev/null; then
  echo "== desktop app: mock-runtime tests and the desktop binary"
  cargo test --locked -p identity-inspector --features desktop
  cargo build --locked -p identity-inspector --features desktop
  cp target/debug/identity-inspector target/debug/identity-inspector-desktop
  export INSPECTOR_DESKTOP_BIN="$PWD/target/debug/identity-inspector-desktop"
elif [ "${CI:-}" = "true" ]; then
  echo "webkit2gtk-4.1 is missing: CI must build and test the desktop app" >&2
  exit 1
else
  echo "*** SKIPPING the desktop app: webkit2gtk-4.1 is not installed (apt-get install libwebkit2gtk-4.1-dev) ***" >&2
fi

echo "== building the server binary"
cargo build --locked -p identity-inspector
export INSPECTOR_BIN="$PWD/target/debug/identity-inspector"

echo "== end-to-end: real SDKs against the running server"
cd tests
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node --test --test-concurrency=1 e2e/*.test.mjs

echo "== fuzzing: a short bounded run of every target (longer: bash tests/fuzz/run.sh 600)"
bash fuzz/run.sh 15
