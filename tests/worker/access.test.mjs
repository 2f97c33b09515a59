// Who may read (READ_TOKEN, PUBLIC_READS) and several ZEGO apps in one Worker
// (ZEGO_CALLBACK_SECRETS), against the built Worker in workerd.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { callback, errorOf, eventually, freshNonce, listAll, startWorker, streamCreate } from "./harness.mjs";

const READS = ["/streams", "/mixes", "/rooms/r/streams?appid=1"];

async function withWorker(bindings, run) {
  const worker = await startWorker({ bindings });
  try {
    await run(worker);
  } finally {
    await worker.dispose();
  }
}

async function status(worker, path, init) {
  const res = await worker.fetch(path, init);
  const body = res.status === 200 ? await res.json() : await errorOf(res);
  return { status: res.status, body };
}

describe("reads", () => {
  test("need a token by default: with neither READ_TOKEN nor PUBLIC_READS, every read is 401", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "s" }, async (worker) => {
      for (const path of READS) {
        const { status: code, body } = await status(worker, path);
        assert.equal(code, 401, path);
        assert.equal(body.code, "unauthorized");
      }
      assert.equal((await status(worker, "/healthz")).status, 200, "/healthz stays public");
    });
  });

  test("take READ_TOKEN as a bearer token or as ?token=, and nothing else", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "s", READ_TOKEN: "t0ken" }, async (worker) => {
      for (const path of READS) {
        const sep = path.includes("?") ? "&" : "?";
        assert.equal((await status(worker, path, { headers: { authorization: "Bearer t0ken" } })).status, 200, path);
        assert.equal((await status(worker, `${path}${sep}token=t0ken`)).status, 200, `${path} ?token=`);
        assert.equal((await status(worker, `${path}${sep}token=t0ke`)).status, 401, `${path} short token`);
        assert.equal((await status(worker, path, { headers: { authorization: "Bearer t0kenX" } })).status, 401);
        assert.equal((await status(worker, path)).status, 401);
      }
    });
  });

  test("are open with PUBLIC_READS=true, set on purpose; another value is a configuration error", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRET: "s", PUBLIC_READS: "true" }, async (worker) => {
      for (const path of READS) assert.equal((await status(worker, path)).status, 200, path);
    });
    await withWorker({ ZEGO_CALLBACK_SECRET: "s", PUBLIC_READS: "yes", READ_TOKEN: "t" }, async (worker) => {
      const { status: code, body } = await status(worker, "/streams", { headers: { authorization: "Bearer t" } });
      assert.equal(code, 500);
      assert.equal(body.code, "invalid_option");
      assert.match(body.message, /PUBLIC_READS/);
    });
  });
});

describe("two apps with two secrets", () => {
  const bindings = { ZEGO_CALLBACK_SECRETS: JSON.stringify({ 1: "secret-one", 2: ["secret-two-new", "secret-two-old"] }), READ_TOKEN: "t" };
  const auth = { authorization: "Bearer t" };
  const create = (appid, secret, stream, nonce = freshNonce()) =>
    callback("stream_create", streamCreate({ room: "shared-room", session: 1, stream, seq: 1, t: 1 }), { appid, secret, nonce });

  test("each app's callbacks need its own secrets; an app without one is unknown_app", async () => {
    await withWorker(bindings, async (worker) => {
      assert.equal((await worker.post(create(1, "secret-one", "a"))).status, 200);
      assert.equal((await worker.post(create(2, "secret-two-new", "b"))).status, 200);
      assert.equal((await worker.post(create(2, "secret-two-old", "c"))).status, 200, "rotation");
      for (const [appid, secret] of [[1, "secret-two-new"], [2, "secret-one"]]) {
        const res = await worker.post(create(appid, secret, "x"));
        assert.equal(res.status, 401, `app ${appid} with another app's secret`);
        assert.equal((await errorOf(res)).code, "invalid_signature");
      }
      const unknown = await worker.post(create(3, "secret-one", "x"));
      assert.equal(unknown.status, 403);
      const error = await errorOf(unknown);
      assert.equal(error.code, "unknown_app");
      assert.match(error.message, /`3`/);
    });
  });

  test("keep their rooms, KV keys and nonces apart", async () => {
    await withWorker(bindings, async (worker) => {
      const nonce = freshNonce();
      assert.equal((await worker.post(create(1, "secret-one", "one", nonce))).status, 200);
      // The same nonce in another app is another app's business.
      assert.equal((await worker.post(create(2, "secret-two-new", "two", nonce))).status, 200);
      const room = async (appid) => {
        const res = await worker.fetch(`/rooms/shared-room/streams?appid=${appid}`, { headers: auth });
        assert.equal(res.status, 200);
        return (await res.json()).streams.map((s) => s.stream_id);
      };
      assert.deepEqual(await room(1), ["one"]);
      assert.deepEqual(await room(2), ["two"]);
      // Several apps: a room's read must name its app.
      const ambiguous = await worker.fetch("/rooms/shared-room/streams", { headers: auth });
      assert.equal(ambiguous.status, 400);
      assert.equal((await errorOf(ambiguous)).field, "appid");
      await eventually(async () => {
        const keys = (await worker.snapshot()).map((k) => k.name);
        assert.deepEqual(keys, ["s:1:shared-room:one", "s:2:shared-room:two"]);
      });
      const all = await listAll(worker, "streams", { headers: auth });
      assert.deepEqual(all.items.map((s) => [s.appid, s.stream_id]), [["1", "one"], ["2", "two"]]);
      const two = await listAll(worker, "streams", { headers: auth, query: "appid=2" });
      assert.deepEqual(two.items.map((s) => s.stream_id), ["two"]);
    });
  });

  test("with a single app configured, reads may leave out the appid", async () => {
    await withWorker({ ZEGO_CALLBACK_SECRETS: JSON.stringify({ 9: "nine" }), READ_TOKEN: "t" }, async (worker) => {
      const body = callback("stream_create", streamCreate({ room: "solo", session: 1, stream: "s", seq: 1, t: 1 }), { appid: 9, secret: "nine" });
      assert.equal((await worker.post(body)).status, 200);
      const res = await worker.fetch("/rooms/solo/streams", { headers: auth });
      assert.equal(res.status, 200);
      const json = await res.json();
      assert.deepEqual([json.appid, json.streams.map((s) => s.stream_id)], ["9", ["s"]]);
    });
  });
});
