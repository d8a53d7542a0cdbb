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

echo "== building the server binary"
cargo build --locked -p identity-inspector
export INSPECTOR_BIN="$PWD/target/debug/identity-inspector"

echo "== end-to-end: real SDKs against the running server"
cd tests
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node --test --test-concurrency=1 e2e/*.test.mjs
