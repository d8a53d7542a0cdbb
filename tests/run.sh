#!/usr/bin/env bash
# The project's one test command (see README): Rust tests of every crate, then the real SDKs
# (posthog-js in headless Chromium, posthog-node, posthog python) against the real server binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/bootstrap.sh

echo "== cargo test (all crates)"
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
