#!/usr/bin/env bash
# Fails when ui/src/lib/gen/ (the TypeScript of the /api types) is not what the Rust types
# generate: regenerates it into the tree, then compares with git.
#
#   bash tests/check-generated.sh
#
# Fix a failure by regenerating and committing:
#   cargo test -p inspector-server --features ts --test gen_types && git add ui/src/lib/gen
set -euo pipefail
cd "$(dirname "$0")/.."

INSPECTOR_SKIP_UI_BUILD=1 cargo test --locked -q -p inspector-server --features ts --test gen_types >/dev/null

untracked=$(git ls-files --others --exclude-standard -- ui/src/lib/gen)
if ! git diff --quiet -- ui/src/lib/gen || [ -n "$untracked" ]; then
    git --no-pager diff --stat -- ui/src/lib/gen
    [ -n "$untracked" ] && printf 'new, not committed:\n%s\n' "$untracked"
    cat >&2 <<'MSG'

ui/src/lib/gen/ is stale: the Rust API types (inspector-server/src/dto.rs and the store and
engine types they contain) changed without regenerating the TypeScript. The files above now
hold the regenerated version; review and commit them:

    cargo test -p inspector-server --features ts --test gen_types
    git add ui/src/lib/gen
MSG
    exit 1
fi
echo "ui/src/lib/gen is up to date"
