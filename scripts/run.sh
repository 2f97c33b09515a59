#!/usr/bin/env bash
# Sets everything up and runs the main job: the Worker with the inspector page, locally,
# on wrangler's embedded local KV and Durable Objects, at http://127.0.0.1:8787 (Ctrl-C, or
# SIGINT or SIGTERM to this script's PID, stops it and workerd). The development secret and
# read token come from .dev.vars.example.
# Send it a signed sample with `node examples/send-sample.mjs`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/build-pkg.mjs          # the npm module, and the page's copy in www/pkg
bash scripts/build-worker.sh        # build/index.js + build/index_bg.wasm
if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars    # secret zego-dev-secret, read token zego-dev-read-token
  echo "created .dev.vars from .dev.vars.example"
elif ! grep -qE '^(READ_TOKEN|PUBLIC_READS)=' .dev.vars; then
  echo "note: .dev.vars sets neither READ_TOKEN nor PUBLIC_READS, so every read answers 401;" \
    "see .dev.vars.example" >&2
fi
export WRANGLER_SEND_METRICS=false
# Miniflare asks workers.cloudflare.com for the fields of Request.cf when it starts; offline
# that logged "getaddrinfo ENOTFOUND workers.cloudflare.com" twice before using placeholders.
# The Worker reads no cf field: don't ask.
export CLOUDFLARE_CF_FETCH_ENABLED=false
# wrangler's own launcher, not npx: `npm exec` passes neither SIGINT nor SIGTERM on, so
# `kill -INT <pid>` left wrangler running. The launcher, which takes this script's PID, passes
# both to the dev server, which stops workerd; it exits when they are gone.
exec node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port 8787
