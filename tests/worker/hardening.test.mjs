// What a careful attacker tried against the Worker, kept as regression tests: a captured
// signature replayed into other apps, ids that make object names collide, and room ids a
// path cannot carry. Real workerd, real local KV and Durable Objects.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AUTH,
  callback,
  errorOf,
  eventually,
  freshNonce,
  listAll,
  nowSecs,
  sign,
  startWorker,
  streamCreate,
} from "./harness.mjs";

async function withWorker(bindings, run) {
  const worker = await startWorker({ bindings });
  try {
    await run(worker);
  } finally {
    await worker.dispose();
  }
}

const create = (room, stream) => streamCreate({ room, session: 1, stream, seq: 1, t: 1 });
const roomStreams = async (worker, query) => {
  const res = await worker.read(`/rooms/streams?${new URLSearchParams(query)}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).streams.map((s) => s.stream_id);
};

describe("a captured signature", () => {
  test("with one secret for any app, is accepted once, whatever app the body names", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "any-app", READ_TOKEN: "zego-worker-test-read-token" }, async (worker) => {
      const captured = { secret: "any-app", nonce: freshNonce(), timestamp: nowSecs() };
      const genuine = await worker.post(callback("stream_create", create("lobby", "real"), { ...captured, appid: 1 }));
      assert.equal(genuine.status, 200, await genuine.clone().text());
      for (const appid of [2, 3, 77, 1000001]) {
        const res = await worker.post(callback("stream_create", create("lobby", `injected-${appid}`), { ...captured, appid }));
        assert.equal(res.status, 409, `app ${appid}`);
        assert.equal((await errorOf(res)).code, "replayed_nonce");
      }
      await eventually(async () => {
        const { items } = await listAll(worker, "streams");
        assert.deepEqual(items.map((s) => [s.appid, s.stream_id]), [["1", "real"]]);
      });
    });
  });

  test("raced against its own app at the same instant: one of each pair is accepted, 10 times", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "any-app", READ_TOKEN: "t" }, async (worker) => {
      for (let i = 0; i < 10; i++) {
        const captured = { secret: "any-app", nonce: freshNonce(), timestamp: nowSecs() };
        const answers = await Promise.all([
          worker.post(callback("stream_create", create(`race-${i}`, "real"), { ...captured, appid: 1 })),
          worker.post(callback("stream_create", create(`race-${i}`, "forged"), { ...captured, appid: 2 })),
        ]);
        assert.deepEqual(answers.map((r) => r.status).sort(), [200, 409], `pair ${i}`);
        await Promise.all(answers.map((r) => r.arrayBuffer()));
      }
    });
  });

  test("with a secret two apps share, is accepted once across both; per-app secrets keep per-app guards", async () => {
    const bindings = {
      ZEGO_CALLBACK_SECRETS: JSON.stringify({ 1: "shared", 2: ["shared"], 3: "three", 4: "four" }),
      READ_TOKEN: "t",
    };
    await withWorker(bindings, async (worker) => {
      const shared = { secret: "shared", nonce: freshNonce(), timestamp: nowSecs() };
      assert.equal((await worker.post(callback("stream_create", create("r", "a"), { ...shared, appid: 1 }))).status, 200);
      const replayed = await worker.post(callback("stream_create", create("r", "b"), { ...shared, appid: 2 }));
      assert.equal(replayed.status, 409);
      assert.equal((await errorOf(replayed)).code, "replayed_nonce");

      // Apps with their own secrets: the same nonce and second in each is each app's own.
      const pair = { nonce: freshNonce(), timestamp: nowSecs() };
      assert.equal((await worker.post(callback("stream_create", create("r", "c"), { ...pair, secret: "three", appid: 3 }))).status, 200);
      assert.equal((await worker.post(callback("stream_create", create("r", "d"), { ...pair, secret: "four", appid: 4 }))).status, 200);
    });
  });

  test("a retry signed again with a new timestamp is handled again, not refused as a replay", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "s", READ_TOKEN: "t" }, async (worker) => {
      const nonce = freshNonce();
      const first = await worker.post(callback("stream_create", create("retry", "s"), { secret: "s", nonce, timestamp: nowSecs() - 5 }));
      assert.equal(first.status, 200);
      const again = await worker.post(callback("stream_create", create("retry", "s"), { secret: "s", nonce, timestamp: nowSecs() }));
      assert.equal(again.status, 200, await again.clone().text());
      assert.deepEqual((await again.json()).written, [], "the rules see the same stream");
    });
  });
});

describe("appids and object names", () => {
  test("a read naming a non-canonical appid is refused, and cannot take over a room's object", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "s", READ_TOKEN: "t" }, async (worker) => {
      const auth = { authorization: "Bearer t" };
      for (const appid of ["1:room:a", "1.0", "-1", "x", "4294967296"]) {
        const res = await worker.fetch(`/rooms/b/streams?appid=${encodeURIComponent(appid)}`, { headers: auth });
        assert.equal(res.status, 400, appid);
        assert.equal((await errorOf(res)).field, "appid", appid);
        const list = await worker.fetch(`/streams?appid=${encodeURIComponent(appid)}`, { headers: auth });
        assert.equal(list.status, 400, appid);
      }
      // App 1's room `a:room:b` once shared its object with "app `1:room:a`, room `b`".
      const res = await worker.post(callback("stream_create", create("a:room:b", "s"), { secret: "s", appid: 1 }));
      assert.equal(res.status, 200, await res.clone().text());
      const room = await worker.fetch(`/rooms/${encodeURIComponent("a:room:b")}/streams?appid=1`, { headers: auth });
      assert.deepEqual((await room.json()).streams.map((s) => s.stream_id), ["s"]);
      const other = await worker.fetch("/rooms/b/streams?appid=1", { headers: auth });
      assert.deepEqual((await other.json()).streams, []);
      await eventually(async () => {
        const { items } = await listAll(worker, "streams", { headers: auth, query: "appid=1" });
        assert.deepEqual(items.map((s) => [s.room_id, s.stream_id]), [["a:room:b", "s"]]);
      });
    });
  });

  test("a callback whose appid is not an app's id is refused", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "s", READ_TOKEN: "t" }, async (worker) => {
      const ts = nowSecs();
      const nonce = freshNonce();
      const body = JSON.stringify({ event: "room_login", appid: "1:room:a", timestamp: String(ts), nonce, signature: sign("s", ts, nonce), room_id: "r" });
      const res = await worker.post(body);
      assert.equal(res.status, 400);
      assert.equal((await errorOf(res)).field, "appid");
    });
  });
});

describe("room ids a path cannot carry", () => {
  test("`.`, `..` and the empty id are stored and readable by ?room_id=; an empty filter is an error", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "s", PUBLIC_READS: "true" }, async (worker) => {
      for (const room of [".", "..", ""]) {
        const res = await worker.post(callback("stream_create", create(room, `in-${room || "empty"}`), { secret: "s", appid: 1 }));
        assert.equal(res.status, 200, `${JSON.stringify(room)}: ${await res.clone().text()}`);
      }
      // The path form cannot name them: `%2e` is normalised away (`/rooms/streams`, which
      // then wants ?room_id=), and an empty segment is no room.
      const dot = await worker.fetch("/rooms/%2e/streams?appid=1");
      assert.equal(dot.status, 400);
      assert.equal((await errorOf(dot)).field, "room_id");
      assert.equal((await worker.fetch("/rooms//streams?appid=1")).status, 404);
      assert.deepEqual(await roomStreams(worker, { appid: "1", room_id: "." }), ["in-."]);
      assert.deepEqual(await roomStreams(worker, { appid: "1", room_id: ".." }), ["in-.."]);
      assert.deepEqual(await roomStreams(worker, { appid: "1", room_id: "" }), ["in-empty"]);
      // As a filter of the KV list, an empty value is an error, never "every room".
      const empty = await worker.fetch("/streams?room_id=&appid=1");
      assert.equal(empty.status, 400);
      assert.equal((await errorOf(empty)).field, "room_id");
      const noApp = await worker.fetch("/streams?appid=");
      assert.equal(noApp.status, 400);
      assert.equal((await errorOf(noApp)).field, "appid");
      await eventually(async () => {
        const { items } = await listAll(worker, "streams", { headers: {}, query: "appid=1&room_id=.." });
        assert.deepEqual(items.map((s) => s.stream_id), ["in-.."]);
      });
    });
  });
});
