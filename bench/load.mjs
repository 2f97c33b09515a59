// Load test of the Worker under `wrangler dev` (real local Durable Objects and KV), run by
// hand. In one run, at one concurrency:
//   1. GET /healthz, N times: the Worker's own ceiling on this machine;
//   2. N signed unknown events (room_login): the Worker and the replay guard alone, as a
//      ratio to (1): what the guard's hop costs;
//   3. N signed stream_create callbacks (distinct streams in 20 rooms): callbacks/s as a
//      ratio to (1), latency, non-2xx; with --receiver-port, the forwarded messages too:
//      deliveries/s until the last landed at the bench's verifying receiver;
//   4. KV writes per callback, from the rooms' outbox counters once KV has caught up: for
//      the creates, for the same bodies delivered again (duplicates) and for a room_close
//      (which ends every stream of its room);
//   5. GET /streams?limit=1000: one KV list() call.
//
// Usage:
//   scripts/build-worker.sh
//   cp .dev.vars.example .dev.vars     # secret zego-dev-secret, read token zego-dev-read-token
//   WRANGLER_SEND_METRICS=false npx wrangler dev --local --ip 127.0.0.1 --port 8787 \
//     --persist-to "$(mktemp -d)" &
//   node bench/load.mjs [--count 2000] [--concurrency 50] [--url http://127.0.0.1:8787]
//                       [--secret zego-dev-secret] [--token zego-dev-read-token] [--timeout 120]
//   (then stop wrangler with SIGINT to its PID)
//
// Forwarding on: add to .dev.vars `FORWARD_URL=http://127.0.0.1:8799/hooks/zego` and
// `FORWARD_SECRET=whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD` (the test receiver's), start
// wrangler dev as above, and run `node bench/load.mjs --receiver-port 8799`.
//
// Only loopback URLs are accepted. Each phase stops after its N requests or --timeout
// seconds, whichever comes first. Figures are printed against the goals; nothing fails on
// a figure (the exit code is non-zero only for non-2xx answers or a list that is short).
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";

import { startReceiver } from "../tests/worker/receiver.mjs";

const { values: opts } = parseArgs({
  options: {
    count: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "50" },
    url: { type: "string", default: "http://127.0.0.1:8787" },
    secret: { type: "string", default: process.env.ZEGO_CALLBACK_SECRET ?? "zego-dev-secret" },
    token: { type: "string", default: process.env.READ_TOKEN ?? "zego-dev-read-token" },
    timeout: { type: "string", default: "120" },
    "receiver-port": { type: "string" },
  },
});
const count = Number(opts.count);
const concurrency = Number(opts.concurrency);
const timeoutMs = Number(opts.timeout) * 1000;
const base = new URL(opts.url);
const auth = { authorization: `Bearer ${opts.token}` };
if (!["127.0.0.1", "localhost", "[::1]"].includes(base.hostname)) {
  console.error(`refusing ${base.origin}: this load test only runs against loopback`);
  process.exit(2);
}
if (!(count > 0 && count <= 100_000 && concurrency > 0 && concurrency <= 500)) {
  console.error("--count must be 1..100000 and --concurrency 1..500");
  process.exit(2);
}

const ROOMS = 20;
const SESSION = "858012925204410401";
const sign = (secret, timestamp, nonce) =>
  createHash("sha1").update([secret, timestamp, nonce].sort().join("")).digest("hex");
const run = `${Date.now().toString(36)}`;
const room = (i) => `load-${run}-room-${i % ROOMS}`;

function signed(fields, nonce) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return JSON.stringify({ appid: "1", timestamp, nonce, signature: sign(opts.secret, timestamp, nonce), ...fields });
}

function create(i) {
  const stream = `load-${run}-${i}`;
  return signed(
    {
      event: "stream_create",
      room_id: room(i),
      room_session_id: SESSION,
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
    },
    `${run}-${i}`,
  );
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Sends `requests` (functions returning a fetch promise) `concurrency` at a time. */
async function phase(name, requests) {
  const deadline = Date.now() + timeoutMs;
  const latencies = [];
  const statuses = new Map();
  let next = 0;
  let failures = 0;
  let firstFailure;
  async function lane() {
    while (next < requests.length && Date.now() < deadline) {
      const request = requests[next++];
      const started = performance.now();
      try {
        const res = await request();
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status < 200 || res.status > 299) {
          failures++;
          firstFailure ??= `${res.status} ${text.slice(0, 300)}`;
        }
      } catch (e) {
        statuses.set(e.name, (statuses.get(e.name) ?? 0) + 1);
        failures++;
      }
      latencies.push(performance.now() - started);
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const rate = latencies.length / elapsed;
  console.log(
    `${name.padEnd(12)} ${latencies.length} in ${elapsed.toFixed(2)} s at concurrency ${concurrency}: ` +
      `${rate.toFixed(1)}/s, p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, ` +
      `non-2xx ${failures} ${JSON.stringify(Object.fromEntries(statuses))}` +
      (firstFailure ? `; the first: ${firstFailure}` : ""),
  );
  return { rate, failures };
}

const post = (body) => () =>
  fetch(new URL("/zego/callback", base), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(10_000),
  });

/** Every room's outbox: KV writes so far, and what is still pending. */
async function outboxes() {
  let kvWrites = 0;
  let pending = 0;
  for (let r = 0; r < ROOMS; r++) {
    const url = new URL(`/rooms/${encodeURIComponent(room(r))}/streams?appid=1`, base);
    const res = await fetch(url, { headers: auth, signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) throw new Error(`GET ${url.pathname}: ${res.status} ${await res.text()}`);
    const { sync } = await res.json();
    kvWrites += sync.kv_writes;
    pending += sync.pending;
  }
  return { kvWrites, pending };
}

/** Waits until KV has every change (no room has anything pending); the KV writes then. */
async function caughtUp() {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await outboxes();
    if (state.pending === 0 || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const receiver = opts["receiver-port"] ? await startReceiver({ port: Number(opts["receiver-port"]) }) : null;

const health = await phase("healthz", Array.from({ length: count }, () => () =>
  fetch(new URL("/healthz", base), { signal: AbortSignal.timeout(10_000) }),
));
const unknown = await phase("unknown", Array.from({ length: count }, (_, i) =>
  post(signed({ event: "room_login", room_id: room(i), room_seq: String(i), user_account: `user-${i}` }, `${run}-login-${i}`)),
));
console.log(`ratio        unknown events/s / healthz/s = ${(unknown.rate / health.rate).toFixed(2)}x (the Worker and the replay guard)`);
const bodies = Array.from({ length: count }, (_, i) => create(i));
const started = performance.now();
const callbacks = await phase("callbacks", bodies.map(post));
const ratio = callbacks.rate / health.rate;
console.log(`ratio        callbacks/s / healthz/s = ${ratio.toFixed(2)}x (goal >= 0.3x)`);
if (receiver) {
  // Every create forwarded once (retries of a delivery keep its id).
  const creates = () => {
    const byId = new Map();
    for (const r of receiver.delivered()) if (JSON.parse(r.text).type === "stream_create") byId.set(r.id, r);
    return [...byId.values()];
  };
  const deadline = Date.now() + timeoutMs;
  while (creates().length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const landed = creates();
  const seconds = (Math.max(...landed.map((r) => r.at)) - (performance.timeOrigin + started)) / 1000;
  const unverified = receiver.received.filter((r) => !r.verified).length;
  console.log(
    `forwarded    ${landed.length} of ${count} stream_create delivered, the last ${seconds.toFixed(2)} s after the ` +
      `first was sent: ${(landed.length / seconds).toFixed(1)} deliveries/s; ${unverified} unverified`,
  );
}

const afterCreates = await caughtUp();
console.log(
  `KV writes    ${afterCreates.kvWrites} for ${count} stream_create = ${(afterCreates.kvWrites / count).toFixed(2)} per callback ` +
    `(goal 1: one per changed record)${afterCreates.pending ? `; ${afterCreates.pending} still pending` : ""}`,
);
const duplicates = bodies.slice(0, Math.max(1, Math.floor(count / 10)));
const dup = await phase("duplicates", duplicates.map(post));
const afterDuplicates = await caughtUp();
console.log(
  `KV writes    ${afterDuplicates.kvWrites - afterCreates.kvWrites} for ${duplicates.length} duplicate deliveries (goal 0)`,
);
const inRoom0 = Math.ceil(count / ROOMS);
const close = signed(
  { event: "room_close", room_id: room(0), room_session_id: SESSION, close_reason: 1, room_close_time: String(Date.now()) },
  `${run}-close`,
);
const closed = await phase("room_close", [post(close)]);
const afterClose = await caughtUp();
console.log(
  `KV writes    ${afterClose.kvWrites - afterDuplicates.kvWrites} for one room_close of a room with ${inRoom0} live streams ` +
    `(goal ${inRoom0}: one per stream it ends)`,
);

// Listing: one page of up to 1,000 live streams (one KV list() call with metadata).
const listTimes = [];
let listed = 0;
for (let i = 0; i < 5; i++) {
  const started = performance.now();
  const res = await fetch(new URL("/streams?limit=1000", base), { headers: auth, signal: AbortSignal.timeout(30_000) });
  const page = await res.json();
  listTimes.push(performance.now() - started);
  listed = page.streams?.length ?? 0;
  if (res.status !== 200) {
    console.log(`GET /streams answered ${res.status}: ${JSON.stringify(page)}`);
    break;
  }
}
const first = listTimes[0];
await receiver?.stop();
listTimes.sort((a, b) => a - b);
console.log(
  `list         GET /streams?limit=1000 returned ${listed} streams: first call ${first.toFixed(1)} ms, ` +
    `median ${pct(listTimes, 50).toFixed(1)} ms of ${listTimes.length} calls`,
);
const failures = health.failures + callbacks.failures + dup.failures + closed.failures;
process.exit(failures === 0 && listed >= Math.min(1000, count - inRoom0) ? 0 : 1);
