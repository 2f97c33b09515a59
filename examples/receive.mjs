// Signs ZEGO's documented example callbacks and receives them through the npm module,
// printing what a receiver gets. Run after `node scripts/build-pkg.mjs`:
//   node examples/receive.mjs
import { readFileSync } from "node:fs";
import { receive, sign, ZegoCallbackError } from "../pkg/index.mjs";

const secret = "zego-example-secret";
const seeds = ["stream_create", "stream_close", "mix_stop", "room_close"];

for (const event of seeds) {
  // ZEGO's examples carry a placeholder signature: sign each with our secret, keeping the
  // timestamp and nonce exactly as documented (a number in room_close, strings elsewhere).
  const doc = readFileSync(new URL(`../tests/fixtures/seeds/${event}.json`, import.meta.url), "utf8");
  const timestamp = doc.match(/"timestamp":\s*"?(\d+)"?/)[1];
  const nonce = doc.match(/"nonce":\s*"([^"]*)"/)[1];
  const body = doc.replace(/"signature":\s*"[^"]*"/, `"signature": "${sign(secret, timestamp, nonce)}"`);

  const cb = receive(body, { secret, contentType: "application/json", now: Number(timestamp) });
  console.log(`\n${cb.event} (signature valid, timestamp ${cb.timestamp})`);
  console.log(cb);
}

// A tampered signature, and a timestamp outside the window, are refused with a stable code.
const doc = readFileSync(new URL("../tests/fixtures/signed/mix_stop.json", import.meta.url), "utf8");
for (const [what, options] of [
  ["wrong secret", { secret: "not-the-secret", now: 1689835223 }],
  ["an hour late", { secret: "zego-fixture-secret", now: 1689835223 + 3600 }],
]) {
  try {
    receive(doc, options);
  } catch (e) {
    if (!(e instanceof ZegoCallbackError)) throw e;
    console.log(`\n${what}: ${e.code} (HTTP ${e.status}): ${e.message}`);
  }
}
