// POST /zego/callback against the built Worker in workerd with a real local KV and real
// local Durable Objects.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  BIG_SESSION,
  SECRET,
  callback,
  errorOf,
  eventually,
  freshNonce,
  listAll,
  listState,
  manifest,
  nowSecs,
  readFixture,
  settle,
  sign,
  startWorker,
  streamCreate,
} from "./harness.mjs";

// The contract: each code and the status it answers (src/error.rs decides; this checks it).
const STATUS = {
  malformed_body: 400,
  missing_field: 400,
  invalid_field: 400,
  unsupported_content_type: 415,
  invalid_signature: 401,
  timestamp_out_of_window: 401,
  body_too_large: 413,
  replayed_nonce: 409,
  missing_secret: 500,
  invalid_option: 500,
  storage_failed: 503,
  unknown_app: 403,
  unauthorized: 401,
  not_found: 404,
  upgrade_required: 426,
  method_not_allowed: 405,
};
const seen = new Set();

/** Sends a request that must fail with `code`, and checks that KV did not change. */
async function expectError(worker, send, code, check = () => {}) {
  const before = await worker.snapshot();
  const res = await send();
  const error = await errorOf(res);
  assert.equal(error.code, code, error.message);
  assert.equal(res.status, STATUS[code], `${code} answers ${res.status}`);
  assert.ok("field" in error);
  check(error, res);
  await settle(); // an object that had committed something would have sent it to KV by now
  assert.deepEqual(await worker.snapshot(), before, `${code} changed KV`);
  seen.add(code);
  return error;
}

describe("signed fixtures", () => {
  let worker;
  // The fixtures were signed years ago: a window that reaches them. Two secrets, with stray
  // spaces, for the rotated fixture.
  const fresh = async () => {
    await worker?.dispose();
    worker = await startWorker({
      bindings: {
        ZEGO_CALLBACK_SECRET: " zego-fixture-secret-next ,zego-fixture-secret ",
        ZEGO_TOLERANCE_SECONDS: "400000000",
        READ_TOKEN: "t",
      },
    });
  };
  after(() => worker.dispose());

  test("every signed fixture is accepted with 2xx", async () => {
    const signed = manifest.fixtures.filter((f) => f.secret);
    assert.ok(signed.length >= 9);
    for (const f of signed) {
      // Several fixtures share a nonce (the same callback, re-encoded): a fresh Worker each.
      await fresh();
      const res = await worker.post(readFixture(f.file), f.content_type);
      const body = await res.json();
      assert.equal(res.status, 200, `${f.file}: ${JSON.stringify(body)}`);
      assert.equal(body.ok, true);
      assert.equal(body.event, f.event, f.file);
      assert.equal(body.duplicate, false);
    }
  });

  test("the seed's stream_create is listed, every field exact", async () => {
    await fresh();
    const seed = JSON.parse(readFixture("signed/stream_create.json"));
    assert.equal((await worker.post(readFixture("signed/stream_create.json"))).status, 200);
    const { items } = await eventually(async () => {
      const list = await listAll(worker, "streams", { headers: { authorization: "Bearer t" } });
      assert.equal(list.items.length, 1);
      return list;
    });
    assert.equal(items[0].appid, String(Number(seed.appid)));
    assert.equal(items.length, 1);
    const [s] = items;
    assert.equal(s.room_session_id, seed.room_session_id);
    assert.equal(typeof s.room_session_id, "string");
    for (const k of ["room_id", "stream_id", "user_id", "user_name", "title", "stream_alias", "extra_info"]) {
      assert.equal(s[k], seed[k], k);
    }
    assert.equal(s.stream_seq, 1);
    assert.equal(s.create_time_ms, Number(seed.create_time_ms));
    assert.deepEqual(s.codec, { cid: 0, name: "H.264" });
    for (const k of ["rtmp_url", "hls_url", "hdl_url", "pic_url"]) assert.deepEqual(s[k], seed[k], k);
  });

  test("the seed's room_close keeps its 64-bit session id to the digit", async () => {
    await fresh();
    const res = await worker.post(readFixture("signed/room_close.json"));
    assert.equal(res.status, 200);
    // The seed's JSON number 858012925204410400 (JSON.parse would make it ...368). A closed
    // session stays in its room's object: nobody lists it, so KV gets nothing.
    assert.deepEqual((await res.json()).written, ["r:rid_1242649:858012925204410400"]);
    await settle();
    assert.deepEqual(await worker.snapshot(), []);
  });

  test("a fixture's nonce reused by another encoding of the body is a replay", async () => {
    await fresh();
    assert.equal((await worker.post(readFixture("signed/stream_create.json"))).status, 200);
    await expectError(worker, () => worker.post(readFixture("signed/stream_create.form"), "application/x-www-form-urlencoded"), "replayed_nonce");
  });
});

describe("callback errors and duplicates", () => {
  let worker;
  const base = callback("stream_create", streamCreate({ room: "room-a", session: BIG_SESSION, stream: "s1", seq: 1, t: 1000 }));
  before(async () => {
    worker = await startWorker();
    // Something in KV, so that "untouched" means something.
    assert.equal((await worker.post(base)).status, 200);
  });
  after(() => worker.dispose());

  test("a stored callback is listed with its 64-bit session id exact", async () => {
    const { items } = await eventually(async () => {
      const list = await listAll(worker, "streams");
      assert.equal(list.items.length, 1);
      return list;
    });
    assert.equal(items[0].room_session_id, BIG_SESSION);
  });

  test("malformed bodies: 400 malformed_body", async () => {
    for (const body of ["{", "", "[1]", '{"a":1,}', "plain text"]) {
      await expectError(worker, () => worker.post(body), "malformed_body");
    }
  });

  test("bad fixtures: 4xx with their code, nothing stored", async () => {
    for (const f of manifest.fixtures.filter((f) => f.error)) {
      const before = await worker.snapshot();
      const res = await worker.post(readFixture(f.file), f.content_type);
      const error = await errorOf(res);
      assert.equal(res.status, STATUS[error.code], f.file);
      assert.ok(res.status >= 400 && res.status < 500, f.file);
      // Decoding comes first; a body that decodes is then verified before its fields are
      // typed, so an unsigned fixture fails on its signature parts, not on its own field.
      if (["malformed_body", "unsupported_content_type"].includes(f.error)) {
        assert.equal(error.code, f.error, f.file);
      }
      assert.deepEqual(await worker.snapshot(), before, f.file);
      seen.add(error.code);
    }
  });

  test("missing signature parts: 400 missing_field naming the field", async () => {
    const ts = String(nowSecs());
    const noNonce = JSON.stringify({ event: "stream_create", appid: "1", timestamp: ts, signature: sign(SECRET, ts, "x") });
    const e = await expectError(worker, () => worker.post(noNonce), "missing_field");
    assert.equal(e.field, "nonce");
  });

  test("a signed body with a field of the wrong form: 400 invalid_field", async () => {
    const bad = callback("stream_create", streamCreate({ room: "room-a", session: 1, stream: "s2", seq: "abc", t: 1 }));
    const e = await expectError(worker, () => worker.post(bad), "invalid_field");
    assert.equal(e.field, "stream_seq");
    const long = callback("stream_create", streamCreate({ room: "room-a", session: 1, stream: "x".repeat(600), seq: 1, t: 1 }));
    assert.equal((await expectError(worker, () => worker.post(long), "invalid_field")).field, "stream_id");
  });

  test("an unsupported content type: 415", async () => {
    await expectError(worker, () => worker.post(base, "application/xml"), "unsupported_content_type");
  });

  test("a wrong or truncated signature: 401 invalid_signature", async () => {
    const wrong = callback("stream_create", streamCreate({ room: "room-a", session: 1, stream: "s3", seq: 1, t: 1 }), { secret: "not-the-secret" });
    await expectError(worker, () => worker.post(wrong), "invalid_signature");
    const good = JSON.parse(callback("mix_stop", { task_id: "t", seq: "1" }));
    const truncated = JSON.stringify({ ...good, signature: good.signature.slice(0, 39) });
    await expectError(worker, () => worker.post(truncated), "invalid_signature");
  });

  test("a timestamp outside the default 300 s window: 401 timestamp_out_of_window", async () => {
    for (const timestamp of [nowSecs() - 330, nowSecs() + 330]) {
      const body = callback("mix_stop", { task_id: "t", seq: "1" }, { timestamp });
      await expectError(worker, () => worker.post(body), "timestamp_out_of_window");
    }
    const inside = callback("mix_stop", { task_id: "t-window", seq: "1" }, { timestamp: nowSecs() - 250 });
    assert.equal((await worker.post(inside)).status, 200);
    // Its record reaches KV through the object's outbox: wait for it, so that the next
    // test's before-and-after snapshots of KV do not see it arrive.
    await eventually(async () => assert.ok((await worker.snapshot()).some((e) => e.name.endsWith(":t-window"))));
  });

  test("a body over 64 KiB: 413, by its Content-Length and by its actual length", async () => {
    const big = base.slice(0, -1) + `,"pad":"${"x".repeat(64 * 1024)}"}`;
    await expectError(worker, () => worker.post(big), "body_too_large", (e) => assert.match(e.message, /65536/));
    // Streamed: no Content-Length, so only counting the bytes read can refuse it.
    const streamed = () => {
      const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
      let sent = 0;
      const stream = new ReadableStream({
        pull(controller) {
          if (sent++ < 5) controller.enqueue(chunk);
          else controller.close();
        },
      });
      return worker.fetch("/zego/callback", { method: "POST", body: stream, duplex: "half", headers: { "content-type": "application/json" } });
    };
    await expectError(worker, streamed, "body_too_large");
  });

  test("a body of exactly 64 KiB is accepted", async () => {
    const body = callback("mix_start", { task_id: "t-64k", seq: "1" });
    const padded = body + " ".repeat(64 * 1024 - Buffer.byteLength(body));
    assert.equal(Buffer.byteLength(padded), 65536);
    const res = await worker.post(padded);
    assert.equal(res.status, 200, await res.text());
  });

  test("the same nonce with another body: 409 replayed_nonce, nothing changed", async () => {
    // A captured signature: its timestamp and nonce (and so its signature) with a new body.
    const { nonce, timestamp } = JSON.parse(base);
    const forged = callback("stream_close", { room_id: "room-a", room_session_id: BIG_SESSION, stream_id: "s1", stream_seq: "9", destroy_timemillis: "2000" }, { nonce, timestamp });
    const e = await expectError(worker, () => worker.post(forged), "replayed_nonce");
    assert.match(e.message, new RegExp(nonce));
    await eventually(async () => assert.equal((await listAll(worker, "streams")).items.length, 1, "the stream is still live"));
  });

  test("a duplicate delivery: 2xx, nothing written", async () => {
    const before = await worker.snapshot();
    const res = await worker.post(base);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, event: "stream_create", appid: "1", duplicate: true, written: [] });
    await settle();
    assert.deepEqual(await worker.snapshot(), before);
  });

  test("a re-signed retry (new nonce, same event): 2xx, the list unchanged", async () => {
    const before = listState(await worker.snapshot());
    const retry = callback("stream_create", streamCreate({ room: "room-a", session: BIG_SESSION, stream: "s1", seq: 1, t: 1000 }));
    const res = await worker.post(retry);
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).written, []);
    await settle();
    assert.deepEqual(listState(await worker.snapshot()), before);
  });

  test("an unknown event: 2xx, KV unchanged, and its nonce is claimed", async () => {
    const before = await worker.snapshot();
    const nonce = freshNonce();
    const timestamp = nowSecs();
    const unknown = callback("transcode_start", { task_id: "t", anything: { nested: [1, 2] } }, { nonce, timestamp });
    const res = await worker.post(unknown);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, event: "transcode_start", appid: "1", duplicate: false, written: [] });
    await settle();
    assert.deepEqual(await worker.snapshot(), before, "no nonce or anything else in KV");
    // So the same signed triple cannot come back with a body that does change the list.
    const forged = callback("stream_create", streamCreate({ room: "room-z", session: 1, stream: "evil", seq: 1, t: 1 }), { nonce, timestamp });
    await expectError(worker, () => worker.post(forged), "replayed_nonce");
  });

  test("one KV write per listed record: a stream_create writes its stream only", async () => {
    const before = new Set((await worker.snapshot()).map((k) => k.name));
    const body = callback("stream_create", streamCreate({ room: "room-k", session: 5, stream: "one", seq: 1, t: 5 }));
    assert.deepEqual((await (await worker.post(body)).json()).written, ["s:room-k:one"]);
    const added = await eventually(async () => {
      const names = (await worker.snapshot()).map((k) => k.name).filter((n) => !before.has(n));
      assert.deepEqual(names, ["s:1:room-k:one"]);
      return names;
    });
    assert.equal(added.length, 1);
  });

  test("wrong method or path: 405 with Allow, 404 JSON", async () => {
    await expectError(worker, () => worker.fetch("/zego/callback"), "method_not_allowed", (_, res) => assert.equal(res.headers.get("allow"), "POST"));
    await expectError(worker, () => worker.fetch("/zego/callback", { method: "PUT", body: base }), "method_not_allowed");
    await expectError(worker, () => worker.fetch("/streams", { method: "POST", body: "{}" }), "method_not_allowed", (_, res) =>
      assert.equal(res.headers.get("allow"), "GET, OPTIONS"),
    );
    for (const path of ["/", "/nope", "/zego/callback/", "/zego", "/streams/x"]) {
      await expectError(worker, () => worker.fetch(path, { method: "POST", body: base }), "not_found");
    }
  });
});

describe("configuration errors", () => {
  const seedKv = async (worker) => worker.kv.put("s:keep:me", '{"state":"closed"}');

  test("no secret (unset, or only commas and spaces): 500 missing_secret, nothing changed", async () => {
    for (const bindings of [{}, { ZEGO_CALLBACK_SECRET: " , " }, { ZEGO_CALLBACK_SECRET: "" }]) {
      const worker = await startWorker({ bindings });
      try {
        await seedKv(worker);
        const e = await expectError(worker, () => worker.post(callback("mix_stop", { task_id: "t", seq: "1" })), "missing_secret");
        assert.match(e.message, /ZEGO_CALLBACK_SECRET/);
      } finally {
        await worker.dispose();
      }
    }
  });

  test("an invalid window: 500 invalid_option naming the variable", async () => {
    const worker = await startWorker({ bindings: { ZEGO_CALLBACK_SECRET: SECRET, ZEGO_TOLERANCE_SECONDS: "5m" } });
    try {
      await seedKv(worker);
      const e = await expectError(worker, () => worker.post(callback("mix_stop", { task_id: "t", seq: "1" })), "invalid_option");
      assert.match(e.message, /ZEGO_TOLERANCE_SECONDS/);
      assert.match(e.message, /5m/);
    } finally {
      await worker.dispose();
    }
  });

  test("the window follows ZEGO_TOLERANCE_SECONDS", async () => {
    const worker = await startWorker({ bindings: { ZEGO_CALLBACK_SECRET: SECRET, ZEGO_TOLERANCE_SECONDS: "10" } });
    try {
      await expectError(worker, () => worker.post(callback("mix_stop", { task_id: "t", seq: "1" }, { timestamp: nowSecs() - 30 })), "timestamp_out_of_window");
      const res = await worker.post(callback("mix_stop", { task_id: "t", seq: "1" }, { timestamp: nowSecs() - 5 }));
      assert.equal(res.status, 200);
    } finally {
      await worker.dispose();
    }
  });

  test("a read without the configured token: 401 unauthorized", async () => {
    const worker = await startWorker({ bindings: { ZEGO_CALLBACK_SECRET: SECRET, READ_TOKEN: "t0ken" } });
    try {
      await expectError(worker, () => worker.fetch("/streams"), "unauthorized");
      await expectError(worker, () => worker.fetch("/subscribe?appid=1&token=t0ken"), "upgrade_required");
    } finally {
      await worker.dispose();
    }
  });

  test("an app with no secret: 403 unknown_app naming it", async () => {
    const worker = await startWorker({ bindings: { ZEGO_CALLBACK_SECRETS: JSON.stringify({ 7: SECRET }) } });
    try {
      const e = await expectError(worker, () => worker.post(callback("mix_stop", { task_id: "t", seq: "1" }, { appid: 8 })), "unknown_app");
      assert.match(e.message, /`8`/);
      assert.equal((await worker.post(callback("mix_stop", { task_id: "t", seq: "1" }, { appid: 7 }))).status, 200);
    } finally {
      await worker.dispose();
    }
  });
});

test("every error code the Worker can produce was produced (storage_failed: storage.test.mjs)", () => {
  // empty_secret cannot come from the Worker: empty entries are dropped, and none left is
  // missing_secret.
  const expected = Object.keys(STATUS).filter((c) => c !== "storage_failed");
  assert.deepEqual([...seen].sort(), expected.sort());
});
