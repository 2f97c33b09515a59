// Holds the fuzzer's Rust copy of the result builders to the real ones: runs the inputs that
// `cargo run --release --example outcomes -- --json FILE DIR` wrote (those the span path
// describes) through the npm module in pkg/ (node scripts/build-pkg.mjs), as a byte body and
// as a string. Each must take the span path and give the object the copy gave, keys and order
// included. Usage: node fuzz/js-agree.mjs FILE (from the repository root, or from fuzz/ as
// node js-agree.mjs FILE)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const zego = require(join(root, "pkg", "index.cjs"));
// The wasm-bindgen module under the API (the same instance): a receive that takes the full
// path asks it for its JSON.
const raw = require(join(root, "pkg", "node", "zego_callback.js"));
let fullPath = 0;
const takeResult = raw.takeResult;
raw.takeResult = (...args) => {
  fullPath++;
  return takeResult(...args);
};

// A BOM stays in the string, as in the bytes.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true, fatal: true });
const lines = readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean);
for (const line of lines) {
  const c = JSON.parse(line);
  const bytes = Buffer.from(c.body, "hex");
  const expected = JSON.parse(c.object);
  const options = {
    secret: c.secrets.length === 1 ? c.secrets[0] : c.secrets,
    contentType: c.contentType ?? undefined,
    now: c.now,
    toleranceSeconds: c.tolerance,
    maxBodyBytes: c.maxBody,
  };
  for (const body of [bytes, decoder.decode(bytes)]) {
    const label = `${c.file} as ${typeof body === "string" ? "a string" : "bytes"}`;
    const before = fullPath;
    const got = zego.receive(body, options);
    assert.equal(fullPath, before, `${label}: took the full path`);
    assert.equal(JSON.stringify(got), JSON.stringify(expected), label);
    assert.deepStrictEqual(got, expected, label);
  }
}
console.log(`${lines.length} inputs: the npm module built the same object as the Rust copy, from bytes and from a string`);
