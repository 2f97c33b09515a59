#!/usr/bin/env bash
# Builds the Cloudflare Worker into build/: worker-build (cargo --release, feature "worker",
# wasm-bindgen, esbuild) -> build/index.js + build/index_bg.wasm; then optimizes the wasm
# for size and strips its debug info and producers section with wasm-opt, and prints the
# bundle's size.
# Usage: scripts/build-worker.sh    (then: npx wrangler dev, or node --test tests/worker/)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# worker-build never looks on PATH: without these it downloads the tools (and fails offline).
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$PWD/node_modules/@esbuild/linux-x64/bin/esbuild"
for tool in "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do
  [ -x "$tool" ] || { echo "missing $tool: run scripts/setup.sh" >&2; exit 1; }
done

worker-build --release --features worker

wasm=build/index_bg.wasm
[ -f build/index.js ] && [ -f "$wasm" ] || { echo "worker-build did not write build/index.js and $wasm" >&2; exit 1; }

size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
before=$(size "$wasm")

# -Oz once more over worker-build's output: 2.8 KB gzipped less. worker-build keeps the
# names section. The features are those Rust's wasm32 target uses by default, plus exception
# handling, which worker-build's wasm-bindgen catch wrappers need;
# naming them (rather than --all-features) keeps wasm-opt from emitting newer encodings.
"$WASM_OPT_BIN" -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-reference-types --enable-multivalue --enable-exception-handling \
  "$wasm" -o "$wasm"

printf 'stripped the names section and producers: %d -> %d bytes\n' "$before" "$(size "$wasm")"
raw=$(( $(size build/index.js) + $(size "$wasm") ))
gzipped=$(( $(gz build/index.js) + $(gz "$wasm") ))
printf 'build/index.js      %8d bytes (%d gzipped)\n' "$(size build/index.js)" "$(gz build/index.js)"
printf 'build/index_bg.wasm %8d bytes (%d gzipped)\n' "$(size "$wasm")" "$(gz "$wasm")"
printf 'bundle              %8d bytes (%d gzipped; goal <= 307200)\n' "$raw" "$gzipped"
