// Reconciliation: each room that lists live streams checks itself against ZEGO's server API
// (here a stand-in that checks every request as ZEGO documents it: tests/worker/zego-api.mjs)
// and heals what lost callbacks left wrong. Real workerd (Miniflare): the rooms' alarms, the
// outbox to KV, the subscribers' sockets, Queues for forwarding.
//
// ZEGO allows one call per room every 10 s; the tests run with a period of 2 s and a floor
// of 1 s (ZEGO_RECONCILE_MIN_SECONDS, a setting for tests), and the stand-in holds them to
// that floor instead of ZEGO's 10 s. The stand-in refuses a request whose signature does not
// verify (MD5 over the app's server secret), so every list a test sees came from a verified
// call.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { SECRET, TOKEN, callback, eventually, startWorker, streamClose, streamCreate } from "./harness.mjs";
import { FORWARD_SECRET, startReceiver } from "./receiver.mjs";
import { SERVER_SECRET, startZegoApi } from "./zego-api.mjs";

const PERIOD_MS = 2_000;

const bindings = (api, extra = {}) => ({
  ZEGO_CALLBACK_SECRET: SECRET,
  READ_TOKEN: TOKEN,
  ZEGO_SERVER_SECRETS: JSON.stringify({ 1: SERVER_SECRET, 3: "not-the-server-secret" }),
  ZEGO_API_BASE: api.url,
  ZEGO_RECONCILE_SECONDS: String(PERIOD_MS / 1000),
  ZEGO_RECONCILE_MIN_SECONDS: "1",
  ...extra,
});

const ok = async (worker, body) => {
  const res = await worker.post(body);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
};

const create = (room, stream, t, appid = 1, seq = 1) =>
  callback("stream_create", streamCreate({ room, session: "858012925204410401", stream, seq, t }), { appid });

/** A room as its object shows it, and the raw text of the answer. */
async function roomOf(worker, room, appid = 1) {
  const res = await worker.read(`/rooms/${encodeURIComponent(room)}/streams?appid=${appid}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return { ...JSON.parse(text), text };
}

/** A room's socket: `waitFor(predicate)` resolves with the first frame (seen or to come) that matches. */
async function subscribe(worker, room) {
  const res = await worker.fetch(`/rooms/${encodeURIComponent(room)}/subscribe?appid=1`, {
    headers: { upgrade: "websocket", authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(res.status, 101);
  const ws = res.webSocket;
  const frames = [];
  const waiters = [];
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    frames.push(frame);
    for (const w of [...waiters]) {
      if (w.match(frame)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(frame);
      }
    }
  });
  ws.accept();
  return {
    frames,
    waitFor: (match, ms = 15_000) => {
      const seen = frames.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching frame within ${ms} ms`)), ms);
        waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
      });
    },
    close: () => ws.close(1000, "done"),
  };
}

/** Resolves once the stand-in has answered `n` calls for the room with a list. */
const listedCalls = (api, room, n, ms = 15_000, appid = 1) =>
  eventually(() => {
    const done = api.callsFor(appid, room).filter((c) => c.code === 0);
    assert.ok(done.length >= n, `${done.length} of ${n} checks of ${room}`);
    return done;
  }, ms);

describe("reconciliation against ZEGO's server API", () => {
  let api;
  let worker;
  before(async () => {
    api = await startZegoApi({ roomIntervalMs: 1_000, secrets: { 1: SERVER_SECRET, 3: "the-server-secret" } });
    worker = await startWorker({ bindings: bindings(api) });
  });
  after(async () => {
    await worker.dispose();
    await api.stop();
  });

  test("a lost stream_close: two checks end the stream, pushed to subscribers and written to KV", async () => {
    const room = "rc-close";
    const t = Date.now() - 5_000;
    api.live(1, room, [
      { stream: "a", created: t },
      { stream: "b", created: t },
    ]);
    const socket = await subscribe(worker, room);
    await ok(worker, create(room, "a", t));
    await ok(worker, create(room, "b", t));
    await listedCalls(api, room, 1);
    // a's stream_close is lost: ZEGO stops listing it, the Worker never hears of it.
    const lost = Date.now();
    api.live(1, room, [{ stream: "b", created: t }]);

    const frame = await socket.waitFor((f) => f.type === "change" && f.stream_id === "a" && f.record.state === "closed");
    const took = Date.now() - lost;
    assert.equal(frame.record.reason, "reconciled");
    assert.equal(frame.record.version.kind, "close");
    assert.ok(took < 3 * PERIOD_MS * 1.2 + 1_000, `ended ${took} ms after ZEGO stopped listing it`);
    socket.close();

    const state = await roomOf(worker, room);
    assert.deepEqual(state.streams.map((s) => s.stream_id), ["b"]);
    assert.equal(state.check.result, "ok");
    assert.equal(state.check.ended, 1);
    assert.equal(state.check.failures, 0);
    assert.ok(state.check.next_at > state.check.at, JSON.stringify(state.check));
    await eventually(async () => {
      const entry = (await worker.snapshot()).find((k) => k.name === `s:1:${room}:a`);
      assert.ok(entry, "a's key in KV");
      assert.equal(JSON.parse(entry.value).reason, "reconciled");
    });
    // The late stream_close changes nothing that is shown.
    await ok(worker, callback("stream_close", streamClose({ room, session: "858012925204410401", stream: "a", seq: 2, t: t + 1 })));
    assert.deepEqual((await roomOf(worker, room)).streams.map((s) => s.stream_id), ["b"]);
  });

  test("a lost stream_create: listed from ZEGO's answer, then replaced by its real record", async () => {
    const room = "rc-create";
    const t = Date.now() - 5_000;
    api.live(1, room, [
      { stream: "a", created: t },
      { stream: "b", created: t + 1_000, number: "18446744073709551614" },
    ]);
    await ok(worker, create(room, "a", t));
    const listed = await eventually(async () => {
      const state = await roomOf(worker, room);
      const b = state.streams.find((s) => s.stream_id === "b");
      assert.ok(b, "b listed");
      return { state, b };
    }, 15_000);
    assert.equal(listed.b.source, "zego_api");
    assert.equal(listed.b.user_id, "u-b");
    assert.equal(listed.b.create_time_ms, t + 1_000);
    assert.equal(listed.b.room_session_id, "0");
    assert.ok(listed.state.text.includes('"stream_number_id":"18446744073709551614"'), "the 64-bit number digit for digit");
    assert.equal(listed.state.check.listed, 1);

    // Its stream_create arrives at last: the real record replaces the one from ZEGO.
    await ok(worker, create(room, "b", t + 1_000));
    const b = (await roomOf(worker, room)).streams.find((s) => s.stream_id === "b");
    assert.equal(b.source, undefined);
    assert.equal(b.room_session_id, "858012925204410401");
    assert.deepEqual(b.rtmp_url, ["rtmp://play.example/live/b"]);
  });

  test("a stream created while a check is out is not counted absent by it", async () => {
    const room = "rc-during";
    const t = Date.now() - 5_000;
    api.live(1, room, [{ stream: "a", created: t }]);
    api.delay(1, room, 1_200);
    await ok(worker, create(room, "a", t));
    // As soon as a call arrives, c is published (and its create applied) while ZEGO's
    // answer, which does not list it, is on its way.
    const before = api.callsFor(1, room).length;
    await eventually(() => assert.ok(api.callsFor(1, room).length > before), 15_000);
    await ok(worker, create(room, "c", Date.now()));
    const first = api.callsFor(1, room).length;
    // The next check does not list c either (ZEGO's list a moment late): counted absent once.
    await eventually(() => assert.ok(api.callsFor(1, room).filter((x) => x.code === 0).length >= first + 1), 15_000);
    await new Promise((r) => setTimeout(r, 1_500));
    const state = await roomOf(worker, room);
    assert.deepEqual(state.streams.map((s) => s.stream_id), ["a", "c"], "c still live");
    api.live(1, room, [
      { stream: "a", created: t },
      { stream: "c", created: Date.now() },
    ]);
    api.delay(1, room, 0);
  });

  test("an app without a server secret is never checked; a wrong secret is refused by ZEGO and changes nothing", async () => {
    const t = Date.now() - 5_000;
    await ok(worker, create("rc-other", "a", t, 2));
    await ok(worker, create("rc-wrong", "a", t, 3));
    await eventually(() => assert.ok(api.callsFor(3, "rc-wrong").length >= 2), 15_000);
    assert.deepEqual(api.callsFor(2, "rc-other"), [], "app 2 has no server secret");
    assert.equal((await roomOf(worker, "rc-other", 2)).check, null);
    const wrong = await roomOf(worker, "rc-wrong", 3);
    assert.equal(wrong.check.result, "failed");
    assert.match(wrong.check.error, /100000005/);
    assert.ok(wrong.check.failures >= 2);
    assert.deepEqual(wrong.streams.map((s) => s.stream_id), ["a"]);
    assert.ok(api.callsFor(3, "rc-wrong").every((c) => !c.verified));
  });

  test("every call was signed as ZEGO documents it, and none came sooner than the floor", () => {
    const app1 = api.calls.filter((c) => c.app === "1");
    assert.ok(app1.length >= 6);
    for (const c of app1) {
      assert.equal(c.verified, true, JSON.stringify(c));
      assert.equal(c.query.SignatureVersion, "2.0");
      assert.match(c.query.SignatureNonce, /^[0-9a-f]{16}$/);
    }
    assert.equal(new Set(app1.map((c) => c.query.SignatureNonce)).size, app1.length, "a nonce each");
    assert.deepEqual(api.calls.filter((c) => c.tooSoon || c.tooMany), []);
  });
});

describe("reconciliation when ZEGO fails", () => {
  test("down (HTTP 503) or rate-limiting (code 7): nothing changes, the wait doubles, and a good answer resets it", async () => {
    const api = await startZegoApi({ roomIntervalMs: 1_000 });
    // A period of 1 s here (the floor), so that three calls backing off take seconds.
    const period = 1_000;
    const worker = await startWorker({ bindings: bindings(api, { ZEGO_RECONCILE_SECONDS: "1" }) });
    try {
      const t = Date.now() - 5_000;
      api.mode(1, "rc-down", "down");
      api.mode(1, "rc-limited", "rate_limited");
      await ok(worker, create("rc-down", "a", t));
      await ok(worker, create("rc-limited", "a", t));
      const spaced = async (room) => {
        const calls = await eventually(() => {
          const c = api.callsFor(1, room);
          assert.ok(c.length >= 3, `${c.length} calls`);
          return c;
        }, 25_000);
        const [g1, g2] = [calls[1].at - calls[0].at, calls[2].at - calls[1].at];
        // Twice the period after the first failure, four times after the second (each ±20%).
        assert.ok(g1 >= 2 * period * 0.8 - 100, `${room}: first wait ${g1} ms`);
        assert.ok(g2 >= 4 * period * 0.8 - 100 && g2 > g1 * 1.3, `${room}: ${g1} ms, then ${g2} ms`);
        return calls;
      };
      await Promise.all([spaced("rc-down"), spaced("rc-limited")]);
      const down = await roomOf(worker, "rc-down");
      assert.equal(down.check.result, "failed");
      assert.match(down.check.error, /503/);
      const limited = await roomOf(worker, "rc-limited");
      assert.equal(limited.check.result, "rate_limited");
      for (const state of [down, limited]) {
        assert.ok(state.check.failures >= 2);
        assert.deepEqual(state.streams.map((s) => s.stream_id), ["a"], "nothing ended on a failure");
      }
      // ZEGO answers again: the next check lists, and the wait is the period again.
      api.live(1, "rc-limited", [{ stream: "a", created: t }]);
      api.mode(1, "rc-limited", "ok");
      await eventually(async () => assert.equal((await roomOf(worker, "rc-limited")).check.result, "ok"), 25_000);
      const healed = await roomOf(worker, "rc-limited");
      assert.equal(healed.check.failures, 0);
      assert.ok(healed.check.next_at - healed.check.at <= period * 1.2 + 50, JSON.stringify(healed.check));
      assert.deepEqual(api.calls.filter((c) => c.tooSoon), []);
    } finally {
      await worker.dispose();
      await api.stop();
    }
  });
});

describe("reconciliation, forwarded and across a restart", () => {
  test("a correction is forwarded as zego_callback.reconciled, signed", async () => {
    const api = await startZegoApi({ roomIntervalMs: 1_000 });
    const receiver = await startReceiver();
    const worker = await startWorker({
      bindings: bindings(api, { FORWARD_URL: receiver.url, FORWARD_SECRET, FORWARD_RETRY_SCHEDULE: "1s" }),
      queues: true,
    });
    try {
      const room = "rc-forward";
      const t = Date.now() - 5_000;
      api.live(1, room, [{ stream: "a", created: t }]);
      await ok(worker, create(room, "a", t));
      await listedCalls(api, room, 1);
      api.live(1, room, []);
      const delivered = await eventually(() => {
        const found = receiver.delivered().find((r) => JSON.parse(r.text).type === "zego_callback.reconciled");
        assert.ok(found, "a reconciled message");
        return found;
      }, 20_000);
      assert.ok(receiver.received.every((r) => r.verified), "every signature verifies");
      const msg = JSON.parse(delivered.text);
      assert.equal(msg.id, delivered.id);
      assert.equal(msg.appid, "1");
      assert.equal(msg.data.room_id, room);
      assert.deepEqual(msg.data.ended.map((s) => s.stream_id), ["a"]);
      assert.deepEqual(msg.data.listed, []);
      assert.deepEqual(msg.live.written, [`s:${room}:a`]);
      assert.deepEqual(msg.live.scope, { room_id: room });
      assert.ok(Number.isSafeInteger(msg.live.seq));
    } finally {
      await worker.dispose();
      await receiver.stop();
      await api.stop();
    }
  });

  test("what a check remembers survives a restart: one absence before, the end after", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zego-reconcile-"));
    const api = await startZegoApi({ roomIntervalMs: 1_000 });
    const room = "rc-restart";
    const t = Date.now() - 5_000;
    try {
      api.live(1, room, [{ stream: "a", created: t }]);
      let worker = await startWorker({ bindings: bindings(api), persist: dir });
      await ok(worker, create(room, "a", t));
      await listedCalls(api, room, 1);
      // a's close is lost; one check finds it absent, then the Worker restarts.
      api.live(1, room, []);
      const seen = api.callsFor(1, room).length;
      await eventually(() => assert.ok(api.callsFor(1, room).length > seen), 15_000);
      await new Promise((r) => setTimeout(r, 300));
      const before = await roomOf(worker, room);
      assert.deepEqual(before.streams.map((s) => s.stream_id), ["a"]);
      await worker.dispose();

      worker = await startWorker({ bindings: bindings(api), persist: dir });
      try {
        const after = await roomOf(worker, room);
        assert.equal(after.check.at, before.check.at, "the last check remembered");
        assert.equal(after.check.next_at, before.check.next_at);
        // The next check ends it: the absence was remembered, not found again from scratch.
        const calls = api.callsFor(1, room).length;
        await eventually(async () => assert.deepEqual((await roomOf(worker, room)).streams, []), 15_000);
        assert.equal(api.callsFor(1, room).length, calls + 1, "ended by the first check after the restart");
        assert.deepEqual(api.calls.filter((c) => c.tooSoon), []);
      } finally {
        await worker.dispose();
      }
    } finally {
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ZEGO's limit per app", () => {
  test("rooms due at once share the app's calls a second: ZEGO refuses next to none for the app's limit", async () => {
    // ZEGO_API_CALLS_PER_SECOND 2 here (ZEGO's is 50), and a stand-in that refuses a third
    // call of the app within a second; eight rooms, each due every 2 s: 4 calls a second.
    const api = await startZegoApi({ roomIntervalMs: 1_000, perAppPerSecond: 2 });
    const worker = await startWorker({ bindings: bindings(api, { ZEGO_API_CALLS_PER_SECOND: "2" }) });
    try {
      const t = Date.now() - 5_000;
      const rooms = Array.from({ length: 8 }, (_, i) => `rc-app-${i}`);
      for (const room of rooms) api.live(1, room, [{ stream: "a", created: t }]);
      await Promise.all(rooms.map((room) => ok(worker, create(room, "a", t))));
      // Every room is checked, twice, within the app's limit.
      await eventually(() => {
        for (const room of rooms) assert.ok(api.callsFor(1, room).filter((c) => c.code === 0).length >= 2, room);
      }, 40_000);
      // The app's first hub shard grants at most 2 calls in any 1.1 s; on their way to ZEGO
      // calls can still bunch (a busy machine delays one more than the next), and the room
      // ZEGO refuses backs off. Without the slots, eight rooms would make about 4 calls a
      // second and ZEGO would refuse about half of them.
      const calls = api.calls.filter((c) => rooms.includes(c.room));
      assert.deepEqual(calls.filter((c) => c.tooSoon), [], "no room called sooner than its floor");
      const refused = calls.filter((c) => c.tooMany).length;
      assert.ok(refused <= calls.length / 10, `${refused} of ${calls.length} calls refused for the app's limit`);
      for (const room of rooms) {
        const state = await roomOf(worker, room);
        assert.deepEqual(state.streams.map((s) => s.stream_id), ["a"]);
      }
    } finally {
      await worker.dispose();
      await api.stop();
    }
  });
});
