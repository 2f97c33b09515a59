// What an unsigned request can make the Worker do before its signature is checked, against
// what a normal callback costs, in one process: the built Worker in Miniflare (real
// workerd, real local Durable Objects and KV), one request at a time, median wall time per
// request. Run by hand; nothing fails on a figure.
//
// Usage:
//   scripts/build-worker.sh
//   node bench/unsigned.mjs [--rounds 5] [--per-round 40]
//
// Cases (each body at most 64 KiB, the Worker's limit, except the oversized one):
//   normal       a signed stream_create (1.2 KB) of a new stream: verify, claim, apply
//   tiny         an unsigned 13-byte body: what any request costs
//   form-keys    an unsigned form of ~13,000 distinct keys (grouping repeats was quadratic;
//                refused after the 256th pair now)
//   form-max     an unsigned form of 256 distinct keys of ~250 bytes sharing a long prefix
//                (the most pairs accepted, each key compared with every earlier one of its
//                length: refused once that has compared 256 KiB of keys)
//   form-repeat  an unsigned form of one key repeated ~16,000 times (refused after 256)
//   json-keys    an unsigned JSON object of ~5,000 distinct members (refused after 256)
//   json-max     unsigned JSON objects of 256 members each, keys sharing a long prefix,
//                nested side by side to fill 64 KiB (each checked for repeated names)
//   json-deep    an unsigned JSON value nested 127 deep, padded to 64 KiB
//   json-string  an unsigned JSON object whose one string is 64 KiB of escapes
//   oversized    a 200 KiB body without Content-Length (read to its end, then 413)
// The ratio "x normal" is what the goal is about: within a few times a normal callback.
import { parseArgs } from "node:util";

import { callback, startWorker, streamCreate } from "../tests/worker/harness.mjs";

const { values: opts } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, "per-round": { type: "string", default: "40" } },
});
const rounds = Number(opts.rounds);
const perRound = Number(opts["per-round"]);
const LIMIT = 64 * 1024;

const pad = (text, fill) => {
  const missing = LIMIT - Buffer.byteLength(text);
  return missing > 0 ? text.replace(fill.at, fill.with(missing)) : text;
};

function formKeys() {
  let body = "";
  for (let i = 0; body.length + 8 < LIMIT; i++) body += `${i.toString(36)}=&`;
  return body;
}
const formRepeat = () => "k=1&".repeat(Math.floor(LIMIT / 4));
const prefix = "p".repeat(246);
const formMax = () => Array.from({ length: 256 }, (_, i) => `${prefix}${i.toString(36).padStart(4, "0")}=`).join("&");
function jsonMax() {
  const object = (j) => `"o${j}":{${Array.from({ length: 256 }, (_, i) => `"${prefix.slice(0, 40)}${i.toString(36).padStart(4, "0")}${j}":0`).join(",")}}`;
  const parts = [];
  let size = 2;
  for (let j = 0; ; j++) {
    const next = object(j);
    if (size + next.length + 1 > LIMIT) break;
    parts.push(next);
    size += next.length + 1;
  }
  return `{${parts.join(",")}}`;
}
function jsonKeys() {
  const parts = [];
  let size = 2;
  for (let i = 0; ; i++) {
    const member = `"k${i}":${i}`;
    if (size + member.length + 1 > LIMIT) break;
    parts.push(member);
    size += member.length + 1;
  }
  return `{${parts.join(",")}}`;
}
const jsonDeep = () => pad(`{"a":${"[".repeat(126)}""${"]".repeat(126)}}`, { at: '""', with: (n) => `"${"x".repeat(n)}"` });
const jsonString = () => `{"a":"${"\\u00e9".repeat(Math.floor((LIMIT - 10) / 6))}"}`;

let n = 0;
const cases = {
  normal: () => ({
    body: callback("stream_create", streamCreate({ room: `bench-${n % 20}`, session: 1, stream: `s${n++}`, seq: 1, t: 1 })),
    type: "application/json",
  }),
  tiny: () => ({ body: '{"event":"x"}', type: "application/json" }),
  "form-keys": () => ({ body: formKeys(), type: "application/x-www-form-urlencoded" }),
  "form-max": () => ({ body: formMax(), type: "application/x-www-form-urlencoded" }),
  "form-repeat": () => ({ body: formRepeat(), type: "application/x-www-form-urlencoded" }),
  "json-keys": () => ({ body: jsonKeys(), type: "application/json" }),
  "json-max": () => ({ body: jsonMax(), type: "application/json" }),
  "json-deep": () => ({ body: jsonDeep(), type: "application/json" }),
  "json-string": () => ({ body: jsonString(), type: "application/json" }),
  oversized: () => ({ stream: true, type: "application/json" }),
};

const worker = await startWorker();
async function once(make) {
  const { body, type, stream } = make();
  const init = { method: "POST", headers: { "content-type": type } };
  if (stream) {
    let sent = 0;
    init.body = new ReadableStream({
      pull(controller) {
        if (sent >= 200 * 1024) controller.close();
        else {
          controller.enqueue(new Uint8Array(16 * 1024).fill(32));
          sent += 16 * 1024;
        }
      },
    });
    init.duplex = "half";
  } else {
    if (Buffer.byteLength(body) > LIMIT) throw new Error(`a case's body is over ${LIMIT} bytes`);
    init.body = body;
  }
  const started = performance.now();
  const res = await worker.mf.dispatchFetch("http://worker.test/zego/callback", init);
  await res.arrayBuffer();
  return [performance.now() - started, res.status];
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const statuses = Object.fromEntries(Object.keys(cases).map((k) => [k, new Set()]));
for (const make of Object.values(cases)) await once(make); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const [name, make] of Object.entries(cases)) {
    const round = [];
    for (let i = 0; i < perRound; i++) {
      const [ms, status] = await once(make);
      round.push(ms);
      statuses[name].add(status);
    }
    times[name].push(median(round));
  }
}
await worker.dispose();

const normal = median(times.normal);
console.log(`median ms per request over ${rounds} rounds of ${perRound} (one at a time):`);
for (const name of Object.keys(cases)) {
  const ms = median(times[name]);
  const spread = `${Math.min(...times[name]).toFixed(2)}-${Math.max(...times[name]).toFixed(2)}`;
  const ratio = name === "normal" ? "" : `  ${(ms / normal).toFixed(2)}x normal`;
  console.log(`  ${name.padEnd(12)} ${ms.toFixed(2).padStart(7)} ms (rounds ${spread}) status ${[...statuses[name]].join(",")}${ratio}`);
}
