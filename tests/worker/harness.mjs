// Shared by the Worker tests: the built Worker in Miniflare (real workerd, real local KV and
// real local SQLite-backed Durable Objects), ZEGO-style signing, callback bodies, and KV
// snapshots.
import { Miniflare } from "miniflare";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const fixtures = join(root, "tests", "fixtures");
export const manifest = JSON.parse(readFileSync(join(fixtures, "index.json"), "utf8"));
export const readFixture = (file) => readFileSync(join(fixtures, file));

export const SECRET = "zego-worker-test-secret";
export const TOKEN = "zego-worker-test-read-token";
export const AUTH = { authorization: `Bearer ${TOKEN}` };
export const BIG_SESSION = "858012925204410401"; // above 2^53

const wasm = join(root, "build", "index_bg.wasm");
if (!existsSync(wasm)) {
  throw new Error("build/index_bg.wasm is missing: run scripts/build-worker.sh first");
}

/**
 * Starts the Worker with a fresh KV namespace and fresh Durable Objects. `bindings` are its
 * vars and secrets. `persist` is a directory to keep KV and the objects in (to restart on
 * the same state); `kvBinding` renames the KV binding (another name: the Worker has no KV);
 * `port` makes it listen on 127.0.0.1 (0: any free port) for real HTTP and WebSockets.
 * `queues` binds the forwarding queues as wrangler.toml does (false: the Worker has none).
 */
export async function startWorker({
  bindings = { ZEGO_CALLBACK_SECRET: SECRET, READ_TOKEN: TOKEN },
  persist = false,
  kvBinding = "LIVE_LIST",
  port,
  queues = false,
} = {}) {
  const mf = new Miniflare(workerOptions({ bindings, persist, kvBinding, port, queues }));
  return wrap(mf, kvBinding);
}

/** The Miniflare options of the built Worker (see `startWorker`). */
export function workerOptions({
  bindings = { ZEGO_CALLBACK_SECRET: SECRET, READ_TOKEN: TOKEN },
  persist = false,
  kvBinding = "LIVE_LIST",
  port,
  queues = false,
} = {}) {
  return {
    modulesRoot: root,
    modules: [
      { type: "ESModule", path: join(root, "build", "index.js") },
      { type: "CompiledWasm", path: wasm },
    ],
    compatibilityDate: "2026-05-03",
    kvNamespaces: { [kvBinding]: "live-list" },
    kvPersist: persist ? join(persist, "kv") : false,
    durableObjects: {
      ROOMS: { className: "Room", useSQLite: true },
      NONCES: { className: "Nonces", useSQLite: true },
      HUB: { className: "Hub", useSQLite: true },
      DELIVERIES: { className: "Deliveries", useSQLite: true },
    },
    durableObjectsPersist: persist ? join(persist, "do") : false,
    ...(queues
      ? {
          // As wrangler.toml sets them, with batches flushed at once for the tests.
          queueProducers: { FORWARD_QUEUE: "zego-forward", FORWARD_DEAD_LETTERS: "zego-forward-dlq" },
          queueConsumers: {
            "zego-forward": { maxBatchSize: 20, maxBatchTimeout: 0.05, maxRetries: 10, deadLetterQueue: "zego-forward-dlq" },
            "zego-forward-dlq": { maxBatchSize: 20, maxBatchTimeout: 0.05, maxRetries: 10 },
          },
        }
      : {}),
    bindings,
    cf: false,
    host: "127.0.0.1",
    ...(port === undefined ? {} : { port }),
  };
}

async function wrap(mf, kvBinding) {
  const url = await mf.ready;
  const kv = await mf.getKVNamespace(kvBinding);
  const worker = {
    mf,
    kv,
    url,
    fetch: (path, init) => mf.dispatchFetch(`http://worker.test${path}`, init),
    /** A read with the test token. */
    read: (path, init = {}) =>
      mf.dispatchFetch(`http://worker.test${path}`, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } }),
    post(body, contentType = "application/json", headers = {}) {
      const h = { ...headers };
      if (contentType) h["content-type"] = contentType;
      return mf.dispatchFetch("http://worker.test/zego/callback", { method: "POST", body, headers: h });
    },
    snapshot: () => snapshot(kv),
    clear: () => clear(kv),
    dispose: () => mf.dispose(),
  };
  return worker;
}

/** Retries `check` (which throws until it holds) every 50 ms for up to `ms`. */
export async function eventually(check, ms = 10_000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Lets the objects' outboxes run (they send to KV right after each commit). */
export const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

/** Runs `tasks` (functions returning promises) with at most `limit` in flight. */
export async function inFlight(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  let active = 0;
  let peak = 0;
  async function lane() {
    while (next < tasks.length) {
      const i = next++;
      active++;
      peak = Math.max(peak, active);
      try {
        results[i] = await tasks[i]();
      } finally {
        active--;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return { results, peak };
}

/** ZEGO's signature: sha1 of secret, timestamp and nonce sorted as strings, hex. */
export function sign(secret, timestamp, nonce) {
  const parts = [secret, String(timestamp), String(nonce)].sort((a, b) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  return createHash("sha1").update(parts.join("")).digest("hex");
}

export const nowSecs = () => Math.floor(Date.now() / 1000);

let nonceCounter = 0;
/** A nonce not used before in this process. */
export const freshNonce = () => `${process.pid}${Date.now()}${++nonceCounter}`;

/**
 * A signed callback body (JSON text). `fields` are the event's own fields; the envelope is
 * added and signed. room_close gets numbers for appid and timestamp, as ZEGO sends them.
 * A field whose value is a `RawNumber` is written as a bare JSON number, digit for digit.
 */
export function callback(event, fields, { secret = SECRET, timestamp = nowSecs(), nonce = freshNonce(), appid = 1 } = {}) {
  const numeric = event === "room_close" || event === "room_create";
  const envelope = {
    event,
    appid: numeric ? appid : String(appid),
    timestamp: numeric ? new RawNumber(timestamp) : String(timestamp),
    nonce: String(nonce),
    signature: sign(secret, timestamp, nonce),
  };
  return toJson({ ...envelope, ...fields });
}

/** A JSON number kept as its exact text (ids above 2^53). */
export class RawNumber {
  constructor(text) {
    this.text = String(text);
  }
}

function toJson(obj) {
  const parts = Object.entries(obj).map(([k, v]) => {
    const value = v instanceof RawNumber ? v.text : JSON.stringify(v);
    return `${JSON.stringify(k)}:${value}`;
  });
  return `{${parts.join(",")}}`;
}

export function streamCreate({ room, session, stream, seq, t, ...rest }) {
  return {
    room_id: room,
    room_session_id: String(session),
    user_id: `u-${stream}`,
    user_name: `User ${stream}`,
    stream_id: stream,
    stream_sid: `sid-${stream}-${seq}`,
    title: `title ${stream}`,
    stream_alias: `alias-${stream}`,
    stream_attr: '{"cid":3}',
    stream_seq: String(seq),
    create_time_ms: String(t),
    extra_info: `extra ${stream}`,
    recreate: "0",
    rtmp_url: [`rtmp://play.example/live/${stream}`],
    hls_url: [`https://play.example/live/${stream}.m3u8`],
    hdl_url: [`https://play.example/live/${stream}.flv`],
    pic_url: [`https://play.example/live/${stream}.jpg`],
    ...rest,
  };
}

export function streamClose({ room, session, stream, seq, t }) {
  return {
    room_id: room,
    room_session_id: String(session),
    stream_id: stream,
    stream_seq: String(seq),
    type: "0",
    destroy_timemillis: String(t),
  };
}

export function roomClose({ room, session, t }) {
  return {
    room_id: room,
    room_session_id: new RawNumber(session),
    close_reason: new RawNumber(0),
    room_close_time: String(t),
  };
}

export function mixStart({ task, seq }) {
  return {
    task_id: task,
    seq: String(seq),
    channel_id: "room-a",
    mix_url: `rtmp://mix.example/${task}/${seq}`,
    mix_stream_alias: `mix-${task}`,
    rtmp_urls: [`rtmp://play.example/mix/${task}`],
  };
}

export function mixStop({ task, seq }) {
  return { task_id: task, seq: String(seq) };
}

/** Every key of the namespace with its value, metadata and expiration, in key order. */
export async function snapshot(kv) {
  const out = [];
  let cursor;
  do {
    const page = await kv.list({ cursor });
    for (const key of page.keys) {
      const { value, metadata } = await kv.getWithMetadata(key.name);
      out.push({ name: key.name, expiration: key.expiration ?? null, metadata, value });
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out;
}

async function clear(kv) {
  for (const { name } of await snapshot(kv)) await kv.delete(name);
}

/** The records of the live list in KV (streams and mixes). */
export const listState = (snap) => snap.filter((k) => /^[sm]:/.test(k.name));

/** Every page of a listing, followed to its end. */
export async function listAll(worker, route, { limit, query = "", headers = AUTH } = {}) {
  const items = [];
  const pages = [];
  let cursor = null;
  do {
    const params = new URLSearchParams(query);
    if (limit) params.set("limit", String(limit));
    if (cursor) params.set("cursor", cursor);
    const qs = params.toString();
    const res = await worker.fetch(`/${route}${qs ? `?${qs}` : ""}`, { headers });
    if (res.status !== 200) throw new Error(`GET /${route}: ${res.status} ${await res.text()}`);
    const page = await res.json();
    pages.push(page);
    items.push(...page[route]);
    cursor = page.cursor;
  } while (cursor);
  return { items, pages };
}

/** The response's JSON error body, checked for its shape. */
export async function errorOf(res) {
  const body = await res.json();
  if (!body.error || typeof body.error.code !== "string" || typeof body.error.message !== "string") {
    throw new Error(`not an error body: ${JSON.stringify(body)}`);
  }
  return body.error;
}

/**
 * What `run` cost the Worker, from its counters (`GET /costs`; the Worker started with
 * `COST_ACCOUNTING: "true"`): reset, run, then read once `settled(counters)` holds (what the
 * case waits for: its KV writes, a delivery, ...) and the counters have been still for
 * 600 ms, so that everything the case set off (the room's outbox, the hub, a forwarded
 * delivery) is counted.
 */
export async function measureCosts(worker, run, settled = async () => true) {
  await worker.read("/costs?reset=1");
  await run();
  let last = "";
  let stable = 0;
  for (let i = 0; i < 100 && stable < 6; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await (await worker.read("/costs")).text();
    stable = now === last && (await settled(JSON.parse(now))) ? stable + 1 : 0;
    last = now;
  }
  return JSON.parse(last);
}
