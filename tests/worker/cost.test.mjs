// What a callback costs the Worker, counted by the Worker itself (COST_ACCOUNTING=true,
// GET /costs) in real workerd with real local Durable Objects and KV: the hops a callback
// needs and no more, and the ceilings the README's cost table states. bench/cost.mjs prints
// the whole table; this holds the figures that must not creep back.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { callback, errorOf, eventually, measureCosts, roomClose, SECRET, startWorker, streamClose, streamCreate, TOKEN } from "./harness.mjs";
import { SERVER_SECRET, startZegoApi } from "./zego-api.mjs";

const ok = async (worker, body) => {
  const res = await worker.post(body);
  assert.equal(res.status, 200, await res.text());
};

const objects = (c) => Object.values(c.objects);
/** Settled once the case's KV writes are in (the room's alarm may wait on a busy machine). */
const kvWrites = (n) => async (c) => c.kv_writes >= n;
const sum = (c, field) => objects(c).reduce((n, o) => n + o[field], 0);

describe("what a callback costs", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ bindings: { ZEGO_CALLBACK_SECRET: SECRET, READ_TOKEN: TOKEN, COST_ACCOUNTING: "true" } });
    // Every object a case touches exists already (an object's first use creates its tables).
    await ok(worker, callback("stream_create", streamCreate({ room: "cost", session: 1, stream: "warm", seq: 1, t: 1 })));
    for (let i = 0; i < 64; i++) await ok(worker, callback("room_login", { room_id: "cost", room_seq: String(i), user_account: "warm" }));
    await measureCosts(worker, async () => {});
  });
  after(() => worker.dispose());

  test("a stream_create: the Worker, one guard shard, the room, the hub once, one KV write, 7 rows written", async () => {
    const body = callback("stream_create", streamCreate({ room: "cost", session: 1, stream: "a", seq: 1, t: 2 }));
    const c = await measureCosts(worker, () => ok(worker, body), kvWrites(1));
    assert.equal(c.worker_requests, 1);
    assert.deepEqual(
      [c.objects.Nonces.requests, c.objects.Room.requests, c.objects.Hub.requests, c.objects.Deliveries.requests],
      [1, 1, 1, 0],
    );
    assert.equal(c.objects.Room.alarms, 1, "one alarm sends the change on");
    assert.equal(c.kv_writes, 1);
    assert.equal(c.objects.Nonces.rows_written, 1, "one row per claim");
    assert.ok(sum(c, "rows_written") <= 7, `rows written: ${JSON.stringify(c.objects)}`);

    // The same callback again (a retry): claimed already, nothing changes, nothing is sent.
    const again = await measureCosts(worker, () => ok(worker, body));
    assert.deepEqual([again.kv_writes, again.objects.Hub.requests, again.objects.Room.alarms, sum(again, "rows_written")], [0, 0, 0, 0]);
  });

  test("a stream_close: the same hops as a create", async () => {
    const c = await measureCosts(worker, () => ok(worker, callback("stream_close", streamClose({ room: "cost", session: 1, stream: "a", seq: 2, t: 3 }))), kvWrites(1));
    assert.deepEqual([c.objects.Nonces.requests, c.objects.Room.requests, c.objects.Hub.requests, c.kv_writes], [1, 1, 1, 1]);
    assert.ok(sum(c, "rows_written") <= 7, JSON.stringify(c.objects));
  });

  test("an unknown event costs the guard's claim and nothing else", async () => {
    const c = await measureCosts(worker, () => ok(worker, callback("room_login", { room_id: "cost", room_seq: "99", user_account: "u" })));
    assert.deepEqual([c.objects.Nonces.requests, c.objects.Room.requests, c.objects.Hub.requests, c.kv_writes], [1, 0, 0, 0]);
    assert.equal(sum(c, "rows_written"), 1);
  });

  test("a room_close ending N streams: one request each to the room and the hub, N KV writes, a row each", async () => {
    const N = 12;
    const room = "cost-close";
    for (let i = 0; i < N; i++) await ok(worker, callback("stream_create", streamCreate({ room, session: 3, stream: `s${i}`, seq: 1, t: 10 + i })));
    // Past KV's one write a second per key, as a room's streams are.
    await new Promise((r) => setTimeout(r, 1100));
    await measureCosts(worker, async () => {});
    const c = await measureCosts(worker, () => ok(worker, callback("room_close", roomClose({ room, session: 3, t: 100 }))), kvWrites(N));
    assert.deepEqual([c.objects.Room.requests, c.objects.Hub.requests, c.kv_writes], [1, 1, N]);
    assert.equal(c.objects.Room.alarms, 1, "the whole burst in one alarm");
    // Per stream: its record, its sent mark, the hub's copy; plus the session's record and
    // a few counters.
    assert.ok(sum(c, "rows_written") <= 3 * N + 6, `rows written: ${sum(c, "rows_written")}`);
  });

  test("changes to one key are coalesced: at most one KV write a second", async () => {
    const room = "cost-burst";
    let elapsed = 0;
    const c = await measureCosts(worker, async () => {
      const start = Date.now();
      for (let seq = 1; seq <= 5; seq++) {
        const body = seq % 2 ? streamCreate({ room, session: 4, stream: "x", seq, t: seq }) : streamClose({ room, session: 4, stream: "x", seq, t: seq });
        await ok(worker, callback(seq % 2 ? "stream_create" : "stream_close", body));
      }
      elapsed = Date.now() - start;
    }, kvWrites(1));
    assert.ok(c.kv_writes >= 1 && c.kv_writes <= 1 + Math.ceil(elapsed / 1000), `${c.kv_writes} KV writes for 5 changes in ${elapsed} ms`);
    const res = await worker.read(`/rooms/${room}/streams?appid=1`);
    assert.deepEqual((await res.json()).streams.map((s) => s.stream_id), ["x"], "the latest change is what stays");
  });
});

test("GET /costs answers only when COST_ACCOUNTING is on, and only to a reader", async () => {
  const off = await startWorker();
  try {
    const res = await off.read("/costs");
    assert.equal(res.status, 404);
    assert.equal((await errorOf(res)).code, "not_found");
  } finally {
    await off.dispose();
  }
  const on = await startWorker({ bindings: { ZEGO_CALLBACK_SECRET: SECRET, READ_TOKEN: TOKEN, COST_ACCOUNTING: "true" } });
  try {
    assert.equal((await on.fetch("/costs")).status, 401);
    assert.equal((await on.read("/costs")).status, 200);
  } finally {
    await on.dispose();
  }
});

describe("what a check of ZEGO's server API costs", () => {
  test("one that corrects nothing: one alarm run, a slot of the app's calls from its hub, one call to ZEGO; two that end a stream: one KV write and one hub send more", async () => {
    const api = await startZegoApi({ roomIntervalMs: 1_000 });
    const worker = await startWorker({
      bindings: {
        ZEGO_CALLBACK_SECRET: SECRET,
        READ_TOKEN: TOKEN,
        COST_ACCOUNTING: "true",
        ZEGO_SERVER_SECRETS: JSON.stringify({ 1: SERVER_SECRET }),
        ZEGO_API_BASE: api.url,
        ZEGO_RECONCILE_SECONDS: "2",
        ZEGO_RECONCILE_MIN_SECONDS: "1",
      },
    });
    try {
      const room = "cost-check";
      const t = Date.now() - 5_000;
      api.live(1, room, [{ stream: "a", created: t }]);
      await ok(worker, callback("stream_create", streamCreate({ room, session: 1, stream: "a", seq: 1, t })));
      const answered = () => api.callsFor(1, room).filter((c) => c.code === 0).length;
      await eventually(() => assert.ok(answered() >= 1), 15_000);
      const after = (n) => () => eventually(() => assert.ok(answered() >= n), 15_000);

      // ZEGO lists what the room lists: nothing to correct.
      const quiet = await measureCosts(worker, after(answered() + 1), async (c) => c.fetches >= 1);
      assert.deepEqual(
        [quiet.worker_requests, quiet.objects.Room.requests, quiet.objects.Room.alarms, quiet.fetches, quiet.kv_writes, quiet.objects.Hub.requests],
        [0, 0, 1, 1, 0, 1],
        JSON.stringify(quiet),
      );
      assert.ok(sum(quiet, "rows_written") <= 2, `rows written: ${JSON.stringify(quiet.objects.Room)}`);

      // a's stream_close is lost: the next two checks end it.
      api.live(1, room, []);
      const ended = await measureCosts(worker, after(answered() + 2), kvWrites(1));
      assert.deepEqual(
        [ended.worker_requests, ended.objects.Room.alarms, ended.fetches, ended.kv_writes, ended.objects.Hub.requests],
        [0, 2, 2, 1, 3],
        JSON.stringify(ended),
      );
      assert.ok(sum(ended, "rows_written") <= 12, `rows written: ${JSON.stringify(ended.objects)}`);
    } finally {
      await worker.dispose();
      await api.stop();
    }
  });
});
