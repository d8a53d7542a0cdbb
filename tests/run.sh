#!/usr/bin/env bash
# The project's one test command (see README). Gates first (formatting, lints, generated API types
# up to date), then the UI's view logic (Vitest), Rust tests of every crate, then the real SDKs
# (posthog-js, analytics-next, mixpanel-browser in headless Chromium; the Node and Python SDKs) and
# the UI itself (Playwright) against the real server binary, then a short fuzz of every target.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/bootstrap.sh

npm_ci() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

echo "== format: rustfmt (every crate and the fuzz targets)"
cargo fmt --all --check
(cd tests/fuzz && cargo fmt --check)

echo "== UI: format and lint (prettier, eslint), view logic (vitest), types (svelte-check)"
(cd ui && npm_ci && npm run lint && npm test && npm run check)

echo "== e2e and bench scripts: format and lint (prettier, eslint)"
(cd tests && npm_ci && npm run lint)

echo "== clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== generated API types (ui/src/lib/gen) match the Rust types"
bash tests/check-generated.sh

echo "== cargo test (all crates; builds the UI into the server when its sources changed)"
cargo test --workspace --locked
# Scale: one id on 50 000 devices and the lens of a 20 000-id person, in release (identity-engine is small and pure: a quick build).
cargo test --release --locked -p identity-engine --test it -- --ignored scale::

# The desktop app (Tauri 2, needs webkit2gtk): its mock-runtime tests, then its binary, kept
# beside the headless one for the Xvfb smoke test (e2e/desktop.test.mjs).
if pkg-config --exists webkit2gtk-4.1 2>/dev/null; then
  echo "== desktop app: clippy, mock-runtime tests and the desktop binary"
  cargo clippy --locked -p identity-inspector --features desktop --all-targets -- -D warnings
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
node --test --test-concurrency=1 e2e/*.test.mjs

echo "== fuzzing: a short bounded run of every target (longer: bash tests/fuzz/run.sh 600)"
bash fuzz/run.sh 15
