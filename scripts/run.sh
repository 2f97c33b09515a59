#!/usr/bin/env bash
# Sets everything up and runs the main job: the Worker with the inspector page, locally,
# on wrangler's embedded local KV, at http://127.0.0.1:8787 (Ctrl-C stops it).
# Send it a signed sample with `node examples/send-sample.mjs`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/build-pkg.mjs          # the npm module, and the page's copy in www/pkg
bash scripts/build-worker.sh        # build/index.js + build/index_bg.wasm
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars    # the development secret: zego-dev-secret
  echo "created .dev.vars from .dev.vars.example"
fi
export WRANGLER_SEND_METRICS=false
exec npx --no-install wrangler dev --local --ip 127.0.0.1 --port 8787
