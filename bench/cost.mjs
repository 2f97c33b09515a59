// What one callback costs the Worker, counted, not estimated: the built Worker in Miniflare
// (real workerd, real local Durable Objects, KV and Queues) with COST_ACCOUNTING=true, whose
// GET /costs gives the counters of the isolate the Worker and its objects share. Each case
// runs on warm objects (one callback of the same room first), the counters reset, the case
// sent, then the counters read once everything it set off (the room's outbox, the hub, the
// forwarded delivery) has settled. Prints a Markdown table and the price of a million of each
// at Cloudflare's published prices. Run by hand:
//
//   scripts/build-worker.sh && node bench/cost.mjs [--streams 10]
import { parseArgs } from "node:util";

import { callback, measureCosts as measure, mixStop, roomClose, SECRET, startWorker, streamClose, streamCreate, TOKEN } from "../tests/worker/harness.mjs";
import { FORWARD_SECRET, startReceiver } from "../tests/worker/receiver.mjs";

const { values: opts } = parseArgs({ options: { streams: { type: "string", default: "10" } } });
const N = Number(opts.streams);

/** Cloudflare's published prices (Workers Paid), as read on 2026-12-04, in USD per unit. */
export const PRICES = {
  date: "2026-12-04",
  workerRequest: 0.3 / 1e6, // Workers: requests (queue batches are invocations too)
  objectRequest: 0.15 / 1e6, // Durable Objects: requests, alarm runs
  rowRead: 0.001 / 1e6, // SQLite in Durable Objects: rows read
  rowWritten: 1.0 / 1e6, // rows written
  kvWrite: 5.0 / 1e6, // Workers KV: writes
  queueOperation: 0.4 / 1e6, // Queues: per 64 KB written, read or deleted (a delivered message: 3)
};

const CLASSES = ["Nonces", "Room", "Hub", "Deliveries"];

function row(name, c) {
  const o = c.objects;
  const requests = CLASSES.map((k) => o[k].requests);
  const alarms = CLASSES.reduce((n, k) => n + o[k].alarms, 0);
  const alarmSets = CLASSES.reduce((n, k) => n + o[k].alarm_sets, 0);
  const read = CLASSES.reduce((n, k) => n + o[k].rows_read, 0);
  const written = CLASSES.reduce((n, k) => n + o[k].rows_written, 0);
  const invocations = c.worker_requests + c.queue_batches;
  const queueOps = 3 * c.queue_messages;
  const price =
    invocations * PRICES.workerRequest +
    (requests.reduce((a, b) => a + b, 0) + alarms) * PRICES.objectRequest +
    read * PRICES.rowRead +
    written * PRICES.rowWritten +
    c.kv_writes * PRICES.kvWrite +
    queueOps * PRICES.queueOperation;
  return {
    name,
    cells: [invocations, ...requests, alarms, alarmSets, read, written, c.kv_writes, c.queue_messages, c.fetches],
    perMillion: price * 1e6,
  };
}

async function cases({ forward }) {
  const receiver = forward ? await startReceiver() : null;
  const bindings = { ZEGO_CALLBACK_SECRET: SECRET, READ_TOKEN: TOKEN, COST_ACCOUNTING: "true" };
  if (forward) Object.assign(bindings, { FORWARD_URL: receiver.url, FORWARD_SECRET });
  const worker = await startWorker({ bindings, queues: forward });
  const settled = async () => {
    if (receiver && receiver.received.length < expectDeliveries) return false;
    return true;
  };
  let expectDeliveries = 0;
  const send = async (body) => {
    const res = await worker.post(body);
    if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`);
    if (forward) expectDeliveries += 1;
  };
  const rows = [];
  const room = "cost-room";
  // Warm: the room's, the hub's and every guard shard's objects exist and have their tables
  // (an object's first use creates them: a cost once per object, not per callback).
  await send(callback("stream_create", streamCreate({ room, session: 1, stream: "warm", seq: 1, t: 1 })));
  for (let i = 0; i < 64; i++) await send(callback("room_login", { room_id: room, room_seq: String(i), user_account: "warm" }));
  await measure(worker, async () => {}, settled);

  const create = callback("stream_create", streamCreate({ room, session: 1, stream: "s", seq: 1, t: 2 }));
  rows.push(row("`stream_create` (a new stream)", await measure(worker, () => send(create), settled)));
  rows.push(row("the same `stream_create` again (a retry)", await measure(worker, () => send(create), settled)));
  rows.push(row("`stream_close`", await measure(worker, () => send(callback("stream_close", streamClose({ room, session: 1, stream: "s", seq: 2, t: 3 }))), settled)));
  rows.push(row("an unknown event (`room_login`)", await measure(worker, () => send(callback("room_login", { room_id: room, room_seq: "1", user_account: "u" })), settled)));
  rows.push(row("`mix_stop` (its task's first callback: a new object)", await measure(worker, () => send(callback("mix_stop", mixStop({ task: "cost-task", seq: 1 }))), settled)));
  const closing = "cost-closing";
  for (let i = 0; i < N; i++) await send(callback("stream_create", streamCreate({ room: closing, session: 7, stream: `s${i}`, seq: 1, t: 10 + i })));
  // Past KV's one write a second per key, as a room's streams are when it closes.
  await new Promise((r) => setTimeout(r, 1100));
  await measure(worker, async () => {}, settled);
  rows.push(row(`\`room_close\` ending ${N} streams`, await measure(worker, () => send(callback("room_close", roomClose({ room: closing, session: 7, t: 100 }))), settled)));
  await worker.dispose();
  await receiver?.stop();
  return rows;
}

const head = ["Worker invocations", ...CLASSES.map((k) => `${k} requests`), "alarm runs", "alarms set", "rows read", "rows written", "KV writes", "queue messages", "deliveries"];
for (const forward of [false, true]) {
  const rows = await cases({ forward });
  console.log(`\n${forward ? "With forwarding to one endpoint" : "Without forwarding"}:\n`);
  console.log(`| callback | ${head.join(" | ")} | per million (USD) |`);
  console.log(`| --- | ${head.map(() => "---:").join(" | ")} | ---: |`);
  for (const r of rows) console.log(`| ${r.name} | ${r.cells.join(" | ")} | ${r.perMillion.toFixed(2)} |`);
}
console.log(`\nPrices: Cloudflare's published prices as of ${PRICES.date} (Workers Paid, beyond the included amounts): Worker requests $0.30/M, Durable Object requests and alarm runs $0.15/M, SQLite rows read $0.001/M and written $1.00/M, KV writes $5.00/M, Queues $0.40/M operations (3 per delivered message). Durable Object duration (wall time while active) and Worker CPU time are not counted here.`);
