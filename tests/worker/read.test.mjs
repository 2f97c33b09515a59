// GET /streams, /mixes, /healthz: pages, room filter, metadata fallback, token, CORS. The
// objects send each change to KV right after committing it: reads of KV wait for that.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  BIG_SESSION,
  SECRET,
  callback,
  errorOf,
  eventually,
  listAll,
  mixStart,
  mixStop,
  roomClose,
  startWorker,
  streamClose,
  streamCreate,
} from "./harness.mjs";

async function postAll(worker, bodies) {
  for (const body of bodies) {
    const res = await worker.post(body);
    assert.equal(res.status, 200, await res.text());
  }
}

describe("listing", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
    const bodies = [];
    for (let i = 0; i < 25; i++) {
      const stream = `s${String(i).padStart(2, "0")}`;
      bodies.push(callback("stream_create", streamCreate({ room: "room-a", session: BIG_SESSION, stream, seq: 1, t: 1000 + i })));
    }
    // Tombstones among them: closed streams are not listed.
    for (const i of [3, 4, 17]) {
      const stream = `s${String(i).padStart(2, "0")}`;
      bodies.push(callback("stream_close", streamClose({ room: "room-a", session: BIG_SESSION, stream, seq: 2, t: 5000 })));
    }
    bodies.push(callback("stream_create", streamCreate({ room: "room:a", session: 7, stream: "x", seq: 1, t: 1 })));
    bodies.push(callback("stream_create", streamCreate({ room: "room-b", session: 8, stream: "y", seq: 1, t: 1 })));
    bodies.push(callback("mix_start", mixStart({ task: "m1", seq: 1 })));
    bodies.push(callback("mix_start", mixStart({ task: "m2", seq: 1 })));
    bodies.push(callback("mix_stop", mixStop({ task: "m2", seq: 2 })));
    await postAll(worker, bodies);
    await eventually(async () => {
      assert.equal((await listAll(worker, "streams")).items.length, 24);
      assert.equal((await listAll(worker, "mixes")).items.length, 1);
      const closed = (await worker.snapshot()).filter((k) => k.metadata?.state !== "live");
      assert.equal(closed.length, 4, "three closed streams and a stopped mix");
    });
  });
  after(() => worker.dispose());

  test("GET /streams lists every live stream, tombstones skipped, in one page by default", async () => {
    const res = await worker.read("/streams");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^application\/json/);
    const body = await res.json();
    assert.equal(body.cursor, null);
    assert.equal(body.streams.length, 22 + 2);
    const ids = body.streams.map((s) => s.stream_id);
    for (const closed of ["s03", "s04", "s17"]) assert.ok(!ids.includes(closed), closed);
    const s = body.streams.find((s) => s.stream_id === "s00");
    assert.equal(s.room_session_id, BIG_SESSION);
    assert.equal(s.appid, "1");
    for (const k of ["room_id", "user_id", "user_name", "title", "stream_alias", "stream_seq", "create_time_ms", "codec", "rtmp_url", "hls_url", "hdl_url", "pic_url", "extra_info"]) {
      assert.ok(k in s, k);
    }
    assert.deepEqual(s.codec, { cid: 3, name: "H.265" });
  });

  test("?limit pages through with a cursor until it is null", async () => {
    const all = (await listAll(worker, "streams")).items;
    const { items, pages } = await listAll(worker, "streams", { limit: 10 });
    assert.ok(pages.length >= 3, `${pages.length} pages`);
    for (const page of pages) assert.ok(page.streams.length <= 10);
    assert.equal(pages.at(-1).cursor, null);
    assert.deepEqual(items, all);
  });

  test("?room_id= lists exactly one room (ids with a colon included)", async () => {
    const { items } = await listAll(worker, "streams", { query: "appid=1&room_id=room%3Aa" });
    assert.deepEqual(items.map((s) => `${s.room_id}/${s.stream_id}`), ["room:a/x"]);
    const a = await listAll(worker, "streams", { query: "appid=1&room_id=room-a", limit: 7 });
    assert.equal(a.items.length, 22);
    assert.ok(a.items.every((s) => s.room_id === "room-a"));
    assert.deepEqual((await listAll(worker, "streams", { query: "appid=1&room_id=none" })).items, []);
    assert.deepEqual((await listAll(worker, "streams", { query: "appid=2" })).items, []);
    // The Worker accepts any app (one secret for all): a room needs its app named.
    const res = await worker.read("/streams?room_id=room-a");
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).field, "appid");
  });

  test("GET /mixes lists running mix tasks only", async () => {
    const { items } = await listAll(worker, "mixes");
    assert.deepEqual(items.map((m) => [m.task_id, m.seq]), [["m1", 1]]);
    assert.equal(items[0].mix_url, "rtmp://mix.example/m1/1");
    const paged = await listAll(worker, "mixes", { limit: 1 });
    assert.deepEqual(paged.items, items);
  });

  test("a bad ?limit: 400 invalid_field", async () => {
    for (const limit of ["0", "1001", "abc", "-5"]) {
      const res = await worker.read(`/streams?limit=${limit}`);
      assert.equal(res.status, 400, limit);
      const e = await errorOf(res);
      assert.deepEqual([e.code, e.field], ["invalid_field", "limit"]);
    }
  });

  test("GET /healthz", async () => {
    const res = await worker.fetch("/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
  });

  test("read routes send CORS headers and answer preflights", async () => {
    for (const path of ["/streams", "/mixes", "/healthz"]) {
      const res = await worker.read(path);
      assert.equal(res.headers.get("access-control-allow-origin"), "*", path);
      await res.arrayBuffer();
      const pre = await worker.fetch(path, {
        method: "OPTIONS",
        headers: { origin: "https://inspector.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
      assert.equal(pre.status, 204, path);
      assert.equal(pre.headers.get("access-control-allow-origin"), "*");
      assert.match(pre.headers.get("access-control-allow-headers"), /Authorization/i);
      assert.match(pre.headers.get("access-control-allow-methods"), /GET/);
    }
    // Errors of read routes too, so a page can show them.
    const res = await worker.read("/streams?limit=0");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    await res.arrayBuffer();
  });
});

describe("a summary too big for KV metadata", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(() => worker.dispose());

  test("is kept in the value; the list reads it from there; room_close still ends it", async () => {
    const long = (i) => `rtmp://play.example/live/long?token=${"t".repeat(380)}&i=${i}`;
    const urls = [long(1), long(2), long(3)];
    const big = callback("stream_create", streamCreate({ room: "room-f", session: BIG_SESSION, stream: "big", seq: 1, t: 10, rtmp_url: urls }));
    const small = callback("stream_create", streamCreate({ room: "room-f", session: BIG_SESSION, stream: "small", seq: 1, t: 11 }));
    await postAll(worker, [big, small]);

    const keys = await eventually(async () => {
      const listed = (await worker.kv.list({ prefix: "s:" })).keys;
      assert.equal(listed.length, 2);
      return listed;
    });
    const meta = Object.fromEntries(keys.map((k) => [k.name, k.metadata]));
    assert.deepEqual(meta["s:1:room-f:big"], { state: "live", in_value: true });
    assert.equal(meta["s:1:room-f:small"].state, "live");
    assert.ok(JSON.stringify(meta["s:1:room-f:small"]).length <= 1024);

    const { items } = await listAll(worker, "streams");
    const listed = items.find((s) => s.stream_id === "big");
    assert.deepEqual(listed.rtmp_url, urls);
    assert.equal(listed.room_session_id, BIG_SESSION);
    assert.equal(items.length, 2);

    await postAll(worker, [callback("room_close", roomClose({ room: "room-f", session: BIG_SESSION, t: 99 }))]);
    await eventually(async () => assert.deepEqual((await listAll(worker, "streams")).items, []));
    const closed = (await worker.kv.list({ prefix: "s:1:room-f:" })).keys;
    assert.deepEqual(closed.map((k) => k.metadata.state), ["closed", "closed"]);
    assert.ok(closed.every((k) => k.expiration > 0), "tombstones expire");
  });
});

describe("READ_TOKEN", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ bindings: { ZEGO_CALLBACK_SECRET: SECRET, READ_TOKEN: "t0ken-123" } });
    await postAll(worker, [callback("stream_create", streamCreate({ room: "r", session: 1, stream: "a", seq: 1, t: 1 }))]);
  });
  after(() => worker.dispose());

  test("reads need `Authorization: Bearer <token>`; 401 JSON with CORS otherwise", async () => {
    for (const path of ["/streams", "/mixes"]) {
      for (const authorization of [undefined, "Bearer wrong", "Bearer t0ken-12", "Bearer t0ken-1234", "t0ken-123", "Basic t0ken-123"]) {
        const res = await worker.fetch(path, { headers: authorization ? { authorization } : {} });
        assert.equal(res.status, 401, `${path} ${authorization}`);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        assert.equal((await errorOf(res)).code, "unauthorized");
      }
      const ok = await worker.fetch(path, { headers: { authorization: "Bearer t0ken-123" } });
      assert.equal(ok.status, 200, path);
      await ok.arrayBuffer();
    }
    await eventually(async () => {
      const { items } = await listAll(worker, "streams", { headers: { authorization: "Bearer t0ken-123" } });
      assert.equal(items.length, 1);
    });
  });

  test("preflights, /healthz and the callback route do not need it", async () => {
    const pre = await worker.fetch("/streams", { method: "OPTIONS" });
    assert.equal(pre.status, 204);
    assert.equal((await worker.fetch("/healthz")).status, 200);
    const res = await worker.post(callback("mix_start", mixStart({ task: "t", seq: 1 })));
    assert.equal(res.status, 200);
  });
});
