#!/usr/bin/env bash
# Sets everything up, builds every artifact once, and runs every test:
# Rust unit, integration, property and doc tests; the npm module under Node (require,
# import, browser build, packed tarball); its TypeScript types; the Worker in workerd with
# a real local KV; the inspector page in headless Chromium. Exits non-zero if any fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

bash scripts/setup.sh --browser

say "building the npm module (pkg/, www/pkg/)"
node scripts/build-pkg.mjs
if [ -f scripts/build-worker.sh ]; then
  say "building the Worker (build/)"
  bash scripts/build-worker.sh
fi

say "Rust tests"
cargo test --quiet --all-features

say "TypeScript types"
npx --no-install tsc -p tests/types/tsconfig.json

say "Node tests"
suites=(tests/node/)
for dir in tests/worker/ tests/www/; do [ -d "$dir" ] && suites+=("$dir"); done
node --test "${suites[@]}"
