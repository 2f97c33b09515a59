// Load test of the Worker under `wrangler dev`: N signed stream_create callbacks at a fixed
// concurrency, then the time GET /streams takes to list 1,000 live streams.
//
// Usage:
//   scripts/build-worker.sh
//   WRANGLER_SEND_METRICS=false npx wrangler dev --local --ip 127.0.0.1 --port 8787 \
//     --var ZEGO_CALLBACK_SECRET:zego-dev-secret &
//   node bench/load.mjs [--count 2000] [--concurrency 50] [--url http://127.0.0.1:8787]
//                       [--secret zego-dev-secret] [--timeout 120]
//   (then stop wrangler with SIGINT to its PID)
//
// Only loopback URLs are accepted. The run stops by itself after --count callbacks or
// --timeout seconds, whichever comes first. Each callback creates a distinct stream (20
// rooms), so with the default count at least 1,000 streams are live for the list timing.
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    count: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "50" },
    url: { type: "string", default: "http://127.0.0.1:8787" },
    secret: { type: "string", default: process.env.ZEGO_CALLBACK_SECRET ?? "zego-dev-secret" },
    timeout: { type: "string", default: "120" },
  },
});
const count = Number(opts.count);
const concurrency = Number(opts.concurrency);
const timeoutMs = Number(opts.timeout) * 1000;
const base = new URL(opts.url);
if (!["127.0.0.1", "localhost", "[::1]"].includes(base.hostname)) {
  console.error(`refusing ${base.origin}: this load test only runs against loopback`);
  process.exit(2);
}
if (!(count > 0 && count <= 100_000 && concurrency > 0 && concurrency <= 500)) {
  console.error("--count must be 1..100000 and --concurrency 1..500");
  process.exit(2);
}

const sign = (secret, timestamp, nonce) =>
  createHash("sha1").update([secret, timestamp, nonce].sort().join("")).digest("hex");
const run = `${Date.now().toString(36)}`;

function body(i) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = `${run}-${i}`;
  const stream = `load-${run}-${i}`;
  return JSON.stringify({
    event: "stream_create",
    appid: "1",
    timestamp,
    nonce,
    signature: sign(opts.secret, timestamp, nonce),
    room_id: `load-room-${i % 20}`,
    room_session_id: "858012925204410401",
    user_id: `user-${i}`,
    user_name: `User ${i}`,
    stream_id: stream,
    stream_seq: "1",
    create_time_ms: String(Date.now()),
    stream_attr: '{"cid":0}',
    rtmp_url: [`rtmp://play.example/live/${stream}`],
    hls_url: [`https://play.example/live/${stream}.m3u8`],
    hdl_url: [`https://play.example/live/${stream}.flv`],
    pic_url: [`https://play.example/live/${stream}.jpg`],
  });
}

const deadline = Date.now() + timeoutMs;
const latencies = [];
const statuses = new Map();
let next = 0;
let failures = 0;

async function worker() {
  while (next < count && Date.now() < deadline) {
    const i = next++;
    const payload = body(i);
    const started = performance.now();
    try {
      const res = await fetch(new URL("/zego/callback", base), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status < 200 || res.status > 299) failures++;
    } catch (e) {
      statuses.set(e.name, (statuses.get(e.name) ?? 0) + 1);
      failures++;
    }
    latencies.push(performance.now() - started);
  }
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);

console.log(`callbacks:   ${latencies.length} sent (of ${count}) at concurrency ${concurrency} in ${elapsed.toFixed(2)} s`);
console.log(`throughput:  ${(latencies.length / elapsed).toFixed(1)} callbacks/s`);
console.log(`latency:     p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1).toFixed(1)} ms`);
console.log(`non-2xx:     ${failures}  (statuses: ${JSON.stringify(Object.fromEntries(statuses))})`);

// Listing: one page of 1,000 live streams (one KV list() call with metadata).
const listTimes = [];
let listed = 0;
for (let i = 0; i < 5 && Date.now() < deadline + 30_000; i++) {
  const started = performance.now();
  const res = await fetch(new URL("/streams?limit=1000", base), { signal: AbortSignal.timeout(30_000) });
  const page = await res.json();
  listTimes.push(performance.now() - started);
  listed = page.streams?.length ?? 0;
  if (res.status !== 200) {
    console.log(`GET /streams answered ${res.status}: ${JSON.stringify(page)}`);
    break;
  }
}
const first = listTimes[0];
listTimes.sort((a, b) => a - b);
if (listTimes.length) {
  console.log(
    `list:        GET /streams?limit=1000 returned ${listed} streams: first call ${first.toFixed(1)} ms, ` +
      `median ${pct(listTimes, 50).toFixed(1)} ms of ${listTimes.length} calls`,
  );
}
process.exit(failures === 0 && listed >= Math.min(1000, count) ? 0 : 1);
