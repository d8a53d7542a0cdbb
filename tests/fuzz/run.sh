#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of the PostHog, Segment and Mixpanel request decoders, the
# lz64 decoder and the identity model, on stable Rust without cargo-fuzz: the instrumentation flags cargo-fuzz would
# pass, given to plain cargo.
#
#   bash tests/fuzz/run.sh [SECONDS_PER_TARGET]   (default 20; CI runs the default)
#
# The corpus starts from the recorded SDK traffic (tests/fixtures/sdk-traffic); what the fuzzer
# finds is kept in tests/fuzz/corpus/<target> (git-ignored) and grows across runs. A crash stops
# the run with its input saved as tests/fuzz/artifacts/<target>/crash-*: turn it into a
# regression test next to the code it broke.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${1:-20}"
# `TARGETS="segment_request mixpanel_request" bash tests/fuzz/run.sh 60` fuzzes only those.
TARGETS="${TARGETS:-posthog_request segment_request mixpanel_request lz64 identity_model}"

export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares"
# An explicit --target keeps the flags off build scripts and proc macros (they would not link).
HOST="$(rustc -vV | sed -n 's/^host: //p')"
# Not --locked: the lock file follows the main crates, whose dependencies move on their own.
cargo build --release --bins --target-dir target --target "$HOST"
BIN="target/$HOST/release"

python3 seed_corpus.py ../fixtures/sdk-traffic corpus

for target in $TARGETS; do
  mkdir -p "corpus/$target" "artifacts/$target"
  echo "== fuzzing $target for ${SECONDS_PER_TARGET}s"
  "$BIN/$target" "corpus/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -artifact_prefix="artifacts/$target/" -print_final_stats=1 2>&1 \
    | grep -E "^(stat::|#[0-9]+ +DONE|==|INFO: seed corpus|SUMMARY|Done)" || true
  if compgen -G "artifacts/$target/crash-*" > /dev/null || compgen -G "artifacts/$target/timeout-*" > /dev/null; then
    echo "fuzzing $target found a failing input: $(ls artifacts/$target)" >&2
    exit 1
  fi
done
