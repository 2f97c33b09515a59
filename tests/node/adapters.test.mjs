// ZegoCallbacks, the nonce store, the web handler and the test helpers, through the package
// as a user imports it (the built pkg/, by its name).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import {
  createHandler,
  MemoryNonceStore,
  parse,
  receive,
  signCallback,
  signedRequest,
  ZegoCallbackError,
  ZegoCallbacks,
} from "zego-callback";

const SECRET = "adapter-secret";
const BIG = "858012925204410401";
const seed = (name) => readFileSync(new URL(`../fixtures/seeds/${name}.json`, import.meta.url), "utf8");
const close = (room, extra = {}) =>
  signCallback({ event: "room_close", appid: 1, room_id: room, room_session_id: BigInt(BIG), close_reason: 1, room_close_time: "5", ...extra }, { secret: SECRET });

describe("signCallback", () => {
  test("an object becomes JSON with 64-bit ids exact, signed over the timestamp and nonce given", () => {
    const text = signCallback(
      { event: "room_close", appid: 1, room_session_id: BigInt(BIG), room_id: "r", room_close_time: "1", signature: "stale" },
      { secret: SECRET, timestamp: 1700000000, nonce: "n1" },
    );
    assert.match(text, /"room_session_id":858012925204410401[,}]/);
    const cb = receive(text, { secret: SECRET, now: 1700000000 });
    assert.equal(cb.room_session_id, BIG);
    assert.equal(cb.nonce, "n1");
  });

  test("a JSON string keeps every other member byte for byte, its layout too", () => {
    const doc = seed("stream_create");
    const text = signCallback(doc, { secret: SECRET, timestamp: "1700000000", nonce: "42" });
    const strip = (t) => t.split("\n").filter((l) => !/"(timestamp|nonce|signature)"/.test(l)).map((l) => l.replace(/,$/, "")).join("\n");
    assert.equal(strip(text), strip(doc));
    assert.ok(text.endsWith("}\n") === doc.endsWith("}\n"), "the ending too");
    const cb = receive(text, { secret: SECRET, now: 1700000000 });
    assert.equal(cb.room_session_id, parse(doc).room_session_id);
    assert.equal(cb.timestamp, 1700000000);
  });

  test("a form string stays form; another body type is refused", () => {
    const text = signCallback("event=mix_stop&appid=1&task_id=t&seq=1&signature=x", { secret: SECRET, timestamp: 9, nonce: "n" });
    assert.equal(new URLSearchParams(text).getAll("signature").length, 1);
    assert.equal(receive(text, { secret: SECRET, now: 9, contentType: "application/x-www-form-urlencoded" }).task_id, "t");
    assert.throws(() => signCallback(42, { secret: SECRET }), (e) => e instanceof ZegoCallbackError && e.code === "invalid_option");
    assert.throws(() => signCallback("{}", {}), (e) => e.code === "invalid_option");
  });

  test("nonces are fresh by default", () => {
    const a = JSON.parse(signCallback({ event: "x" }, { secret: SECRET })).nonce;
    const b = JSON.parse(signCallback({ event: "x" }, { secret: SECRET })).nonce;
    assert.notEqual(a, b);
  });
});

describe("MemoryNonceStore", () => {
  test("new, same (a retry), other (a replay); expired claims are gone", () => {
    let now = 0;
    const store = new MemoryNonceStore({ now: () => now });
    assert.equal(store.claim("n", "d1", 60), "new");
    assert.equal(store.claim("n", "d1", 60), "same");
    assert.equal(store.claim("n", "d2", 60), "other");
    now = 60_001;
    assert.equal(store.claim("m", "d", 60), "new");
    assert.equal(store.size, 1, "the expired claim was dropped");
    assert.equal(store.claim("n", "d2", 60), "new");
  });

  test("is bounded: when full of live claims it refuses a new one (503) rather than forget one", () => {
    let now = 0;
    const store = new MemoryNonceStore({ maxEntries: 3, now: () => now });
    for (const n of ["a", "b", "c"]) assert.equal(store.claim(n, "x", 600), "new");
    assert.throws(() => store.claim("d", "x", 600), (e) => e instanceof ZegoCallbackError && e.code === "storage_failed" && e.status === 503);
    assert.equal(store.size, 3);
    // Every live claim still answers: a replay of `a` with another body is still seen.
    assert.equal(store.claim("a", "y", 600), "other");
    assert.equal(store.claim("a", "x", 600), "same");
    // Once claims expire, there is room again.
    now = 600_001;
    assert.equal(store.claim("d", "x", 600), "new");
    assert.equal(store.size, 1);
    assert.throws(() => new MemoryNonceStore({ maxEntries: 0 }), (e) => e.code === "invalid_option");
  });

  test("when full, expired claims anywhere make room, not only the oldest", () => {
    let now = 0;
    const store = new MemoryNonceStore({ maxEntries: 2, now: () => now });
    store.claim("long", "x", 600);
    store.claim("short", "x", 60);
    now = 61_000;
    assert.equal(store.claim("next", "x", 600), "new", "`short` expired behind a live `long`");
    assert.equal(store.claim("long", "y", 600), "other");
  });
});

describe("ZegoCallbacks", () => {
  test("hands each callback to its event's handlers and to onAny, typed", async () => {
    const seen = [];
    const callbacks = new ZegoCallbacks({ secret: SECRET })
      .on("room_close", (cb) => seen.push(`close ${cb.room_session_id}`))
      .on(["mix_stop", "room_close"], (cb) => seen.push(`list ${cb.event}`))
      .onAny((cb) => seen.push(`any ${cb.event}`));
    const cb = await callbacks.verifyAndReceive({ body: close("r1"), contentType: "application/json" });
    assert.equal(cb.event, "room_close");
    assert.deepEqual(seen.sort(), [`any room_close`, `close ${BIG}`, `list room_close`]);
  });

  test("removeListener stops a handler", async () => {
    const seen = [];
    const handler = () => seen.push(1);
    const callbacks = new ZegoCallbacks({ secret: SECRET }).on("room_close", handler).onAny(handler);
    callbacks.removeListener("room_close", handler).removeListener("*", handler);
    await callbacks.verifyAndReceive({ body: close("r2") });
    assert.deepEqual(seen, []);
  });

  test("a handler that throws: 500 handler_failed, onError told; an error with a status keeps it", async () => {
    const errors = [];
    const callbacks = new ZegoCallbacks({ secret: SECRET }).onError((e, cb) => errors.push([e.code, cb.event]));
    callbacks.on("room_close", () => {
      throw new Error("database down");
    });
    await assert.rejects(callbacks.verifyAndReceive({ body: close("r3") }), (e) => e instanceof ZegoCallbackError && e.status === 500 && e.code === "handler_failed" && /database down/.test(e.message));
    assert.deepEqual(errors, [["handler_failed", "room_close"]]);
    const teapot = new ZegoCallbacks({ secret: SECRET }).on("room_close", async () => {
      throw Object.assign(new Error("not now"), { status: 503 });
    });
    await assert.rejects(teapot.verifyAndReceive({ body: close("r4") }), (e) => e.status === 503);
  });

  test("a replay is 409 before any handler runs; a retry of the same body is handled again", async () => {
    let calls = 0;
    const callbacks = new ZegoCallbacks({ secret: SECRET }).onAny(() => calls++);
    // A captured signature: the same timestamp and nonce with another body.
    const captured = { secret: SECRET, nonce: "shared-nonce", timestamp: Math.floor(Date.now() / 1000) };
    const first = signCallback({ event: "mix_stop", appid: "1", task_id: "t", seq: "1" }, captured);
    const forged = signCallback({ event: "room_close", appid: 1, room_id: "x", room_session_id: 1, room_close_time: "1" }, captured);
    await callbacks.verifyAndReceive({ body: first });
    await assert.rejects(callbacks.verifyAndReceive({ body: forged }), (e) => e.code === "replayed_nonce" && e.status === 409);
    await callbacks.verifyAndReceive({ body: first });
    assert.equal(calls, 2);
  });

  test("an async nonce store (a shared database) is awaited; a bad answer is 503", async () => {
    const claims = [];
    const store = { claim: async (key, digest, ttl) => (claims.push([key, digest.length, ttl]), "new") };
    const body = signCallback({ event: "mix_stop", appid: "1", task_id: "t", seq: "1" }, { secret: SECRET, nonce: "n-5", timestamp: Math.floor(Date.now() / 1000) });
    await new ZegoCallbacks({ secret: SECRET, nonceStore: store, toleranceSeconds: 100 }).verifyAndReceive({ body });
    assert.equal(claims.length, 1);
    assert.deepEqual(claims[0], [`${JSON.parse(body).timestamp}:n-5`, 40, 200]);
    const broken = new ZegoCallbacks({ secret: SECRET, nonceStore: { claim: () => "maybe" } });
    await assert.rejects(broken.verifyAndReceive({ body: close("r6") }), (e) => e.status === 503 && e.code === "storage_failed");
  });

  test("a store that throws is 503 storage_failed, its own message (hosts, addresses) kept out of the answer", async () => {
    const down = new Error("redis down at 10.0.0.5:6379");
    const callbacks = new ZegoCallbacks({ secret: SECRET, nonceStore: { claim: async () => Promise.reject(down) } });
    const handle = createHandler(callbacks);
    const res = await handle(signedRequest("http://x/zego/callback", { event: "mix_stop", appid: "1", task_id: "t", seq: "1" }, { secret: SECRET }));
    assert.equal(res.status, 503);
    const { error } = await res.json();
    assert.equal(error.code, "storage_failed");
    assert.doesNotMatch(error.message, /10\.0\.0\.5|6379|redis/);
    await assert.rejects(callbacks.verifyAndReceive({ body: close("r7") }), (e) => e.code === "storage_failed" && e.cause === down);
  });

  test("a full default store answers 503, and a live claim is never forgotten", async () => {
    const callbacks = new ZegoCallbacks({ secret: SECRET, nonceStore: new MemoryNonceStore({ maxEntries: 2 }) });
    const handle = createHandler(callbacks);
    const ts = Math.floor(Date.now() / 1000);
    const bodies = ["a", "b", "c"].map((n) => ({ event: "mix_stop", appid: "1", task_id: n, seq: "1" }));
    const post = (body, nonce) => handle(signedRequest("http://x/zego/callback", body, { secret: SECRET, nonce, timestamp: ts }));
    assert.equal((await post(bodies[0], "n-a")).status, 200);
    assert.equal((await post(bodies[1], "n-b")).status, 200);
    const full = await post(bodies[2], "n-c");
    assert.equal(full.status, 503);
    assert.equal((await full.json()).error.code, "storage_failed");
    // n-a's claim is still there: its signature with another body is a replay, not new.
    const replay = await post(bodies[2], "n-a");
    assert.equal(replay.status, 409);
  });

  test("one secret for several apps: a captured signature is claimed once whatever app the body names", async () => {
    const callbacks = new ZegoCallbacks({ secret: SECRET });
    const captured = { secret: SECRET, nonce: "cross-app", timestamp: Math.floor(Date.now() / 1000) };
    await callbacks.verifyAndReceive({ body: signCallback({ event: "mix_stop", appid: "1", task_id: "t", seq: "1" }, captured) });
    for (const appid of ["2", "3", "77", "1000001"]) {
      const forged = signCallback({ event: "mix_stop", appid, task_id: "t", seq: "1" }, captured);
      await assert.rejects(callbacks.verifyAndReceive({ body: forged }), (e) => e.code === "replayed_nonce", `app ${appid}`);
    }
  });

  test("verification errors keep their codes; a missing secret is refused at once", async () => {
    const callbacks = new ZegoCallbacks({ secret: SECRET });
    await assert.rejects(callbacks.verifyAndReceive({ body: signCallback({ event: "x" }, { secret: "other" }) }), (e) => e.code === "invalid_signature");
    await assert.rejects(callbacks.verifyAndReceive({ body: "{" }), (e) => e.code === "malformed_body");
    assert.throws(() => new ZegoCallbacks({}), (e) => e.code === "missing_secret");
    assert.throws(() => new ZegoCallbacks({ secret: "" }), (e) => e.code === "empty_secret");
  });
});

describe("createHandler with signedRequest", () => {
  const callbacks = new ZegoCallbacks({ secret: SECRET });
  const handle = createHandler(callbacks, { path: "/hooks/zego" });

  test("200 for a signed request, JSON errors with the table's statuses otherwise", async () => {
    const ok = await handle(signedRequest("http://x/hooks/zego", { event: "mix_stop", appid: "1", task_id: "t", seq: "1" }, { secret: SECRET }));
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true, event: "mix_stop" });
    const wrong = await handle(signedRequest("http://x/hooks/zego", { event: "mix_stop" }, { secret: "nope" }));
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error.code, "invalid_signature");
    const elsewhere = await handle(new Request("http://x/other", { method: "POST", body: "{}" }));
    assert.equal(elsewhere.status, 404);
    const get = await handle(new Request("http://x/hooks/zego"));
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
  });

  test("413 by Content-Length before reading, and by counting a streamed body", async () => {
    const declared = await handle(new Request("http://x/hooks/zego", { method: "POST", body: "{}", headers: { "content-length": "999999" } }));
    assert.equal(declared.status, 413);
    let pulled = 0;
    const stream = new ReadableStream({
      pull(controller) {
        pulled++;
        if (pulled > 100) controller.close();
        else controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    const res = await handle(new Request("http://x/hooks/zego", { method: "POST", body: stream, duplex: "half" }));
    assert.equal(res.status, 413);
    assert.ok(pulled < 10, `read ${pulled} chunks, not the whole stream`);
  });

  test("a body stream that breaks off is answered with a JSON error, never a rejected promise", async () => {
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"event":'));
      },
      pull(controller) {
        controller.error(new Error("connection reset"));
      },
    });
    const res = await handle(new Request("http://x/hooks/zego", { method: "POST", body: stream, duplex: "half" }));
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "malformed_body");
  });
});
