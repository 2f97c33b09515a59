#!/usr/bin/env bash
# Sets everything up and runs the main job: signs ZEGO's documented callbacks and
# receives them through the npm module, printing what a receiver gets.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node scripts/build-pkg.mjs
node examples/receive.mjs
