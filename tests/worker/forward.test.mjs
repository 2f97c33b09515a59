// Forwarding: every accepted callback reaches the customer's endpoint, signed (verified by
// the `standardwebhooks` package), with one id per ZEGO callback, retried while the endpoint
// is down or failing, kept when it never lands, and replayable. Real workerd with real local
// Queues, Durable Objects and KV (Miniflare), and a real Node HTTP receiver.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

import { Miniflare } from "miniflare";

import {
  BIG_SESSION,
  SECRET,
  root,
  TOKEN,
  callback,
  errorOf,
  eventually,
  freshNonce,
  inFlight,
  mixStop,
  roomClose,
  startWorker,
  streamClose,
  streamCreate,
  workerOptions,
} from "./harness.mjs";
import { FORWARD_SECRET, startReceiver } from "./receiver.mjs";

const ADMIN = "zego-worker-test-admin-token";

const forwarding = (receiver, extra = {}) => ({
  ZEGO_CALLBACK_SECRET: SECRET,
  READ_TOKEN: TOKEN,
  ADMIN_TOKEN: ADMIN,
  FORWARD_URL: receiver.url,
  FORWARD_SECRET,
  FORWARD_RETRY_SCHEDULE: "1s,1s,1s",
  FORWARD_TIMEOUT_SECONDS: "5",
  FORWARD_RECOVER_SECONDS: "3",
  ...extra,
});

async function withSetup(extra, run, { persist } = {}) {
  const receiver = await startReceiver();
  const worker = await startWorker({ bindings: forwarding(receiver, extra(receiver)), queues: true, persist });
  try {
    await run({ worker, receiver });
  } finally {
    await worker.dispose();
    await receiver.stop();
  }
}

const admin = (worker, path, method = "POST", token = ADMIN) =>
  worker.fetch(path, { method, headers: { authorization: `Bearer ${token}` } });

const listing = async (worker, query = "") => {
  const res = await worker.read(`/deliveries${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
};

/** The ids that landed, each once however often it came. */
const landed = (receiver) => new Set(receiver.delivered().map((r) => r.id));

describe("forwarding", () => {
  test("200 signed callbacks, 8 in flight, shuffled with duplicates: each arrives, signed, under one id, ids exact", async () => {
    await withSetup(() => ({}), async ({ worker, receiver }) => {
      const bodies = [];
      for (let i = 0; i < 200; i++) {
        const room = `fw-${i % 10}`;
        const kind = i % 4;
        const fields =
          kind === 0 || kind === 1
            ? streamCreate({ room, session: BIG_SESSION, stream: `s${i}`, seq: 1, t: 1000 + i })
            : kind === 2
              ? streamClose({ room, session: BIG_SESSION, stream: `s${i - 1}`, seq: 2, t: 2000 + i })
              : mixStop({ task: `task-${i}`, seq: 1 });
        const event = kind <= 1 ? "stream_create" : kind === 2 ? "stream_close" : "mix_stop";
        bodies.push(callback(event, fields));
      }
      // Some callbacks delivered twice (ZEGO's retries), all shuffled.
      const deliveries = [...bodies, ...bodies.filter((_, i) => i % 7 === 0)];
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]];
      }
      const { results, peak } = await inFlight(
        deliveries.map((body) => async () => {
          const res = await worker.post(body);
          return { status: res.status, json: await res.json(), body };
        }),
        8,
      );
      assert.equal(peak, 8);
      assert.deepEqual(results.filter((r) => r.status !== 200), [], "every callback accepted");
      assert.ok(results.every((r) => r.json.forwarded === 1), "each queued for the one endpoint");

      await eventually(() => assert.equal(landed(receiver).size, 200), 30_000);
      assert.deepEqual(receiver.received.filter((r) => !r.verified).map((r) => r.error), [], "every signature verifies");
      // One id per ZEGO callback: the 200 bodies give 200 ids, a duplicate comes under its
      // original's id.
      const byId = new Map();
      for (const r of receiver.delivered()) {
        const msg = JSON.parse(r.text);
        assert.equal(msg.id, r.id);
        const original = bodies.find((b) => JSON.parse(b).nonce === msg.data.nonce);
        assert.ok(original, `a delivery for nonce ${msg.data.nonce}`);
        if (byId.has(r.id)) assert.equal(byId.get(r.id), original, "one id, one callback");
        byId.set(r.id, original);
        // The typed body's 64-bit ids are exact (decimal strings in the JSON text).
        if (msg.type === "stream_create" || msg.type === "stream_close") {
          assert.equal(msg.data.room_session_id, BIG_SESSION);
          assert.ok(r.text.includes(`"room_session_id":"${BIG_SESSION}"`));
          assert.equal(msg.live.scope.room_id, msg.data.room_id);
          assert.ok(Number.isSafeInteger(msg.live.seq) && msg.live.seq >= 0);
        }
        assert.equal(msg.appid, "1");
      }
      assert.equal(new Set(byId.values()).size, 200);
    });
  });

  test("a receiver that refuses connections for a while, then comes back, gets everything", async () => {
    await withSetup(() => ({}), async ({ worker, receiver }) => {
      await receiver.down();
      const bodies = Array.from({ length: 20 }, (_, i) =>
        callback("stream_create", streamCreate({ room: "down", session: 1, stream: `s${i}`, seq: 1, t: i })),
      );
      for (const body of bodies) assert.equal((await worker.post(body)).status, 200);
      await eventually(async () => {
        const { deliveries } = await listing(worker, "?state=retrying");
        assert.equal(deliveries.length, 20);
      }, 15_000);
      await receiver.up();
      await eventually(() => assert.equal(landed(receiver).size, 20), 30_000);
      await eventually(async () => {
        const { endpoints, deliveries } = await listing(worker);
        assert.deepEqual(deliveries, [], "nothing left kept");
        assert.equal(endpoints[0].failures_in_a_row, 0);
        assert.ok(endpoints[0].last_success_at > 0);
      });
    });
  });

  test("a receiver answering 500 for a while, then 200, gets everything; Retry-After-free waits follow the schedule", async () => {
    await withSetup(() => ({}), async ({ worker, receiver }) => {
      let failing = true;
      receiver.answerWith(() => (failing ? 500 : 200));
      for (let i = 0; i < 10; i++) {
        const res = await worker.post(callback("mix_stop", mixStop({ task: `t500-${i}`, seq: 1 })));
        assert.equal(res.status, 200);
      }
      await eventually(() => assert.ok(receiver.received.length >= 20, `${receiver.received.length} attempts`), 15_000);
      const { endpoints, deliveries } = await listing(worker, "?state=retrying");
      assert.equal(deliveries.length, 10);
      assert.ok(deliveries.every((d) => d.last_status === 500 && /answered 500/.test(d.last_error)));
      assert.ok(endpoints[0].failures_in_a_row >= 10);
      failing = false;
      await eventually(() => assert.equal(landed(receiver).size, 10), 20_000);
      // Every attempt of one message came under its one id.
      const ids = new Set(receiver.received.map((r) => r.id));
      assert.equal(ids.size, 10);
    });
  });

  test("410 Gone disables the endpoint: nothing more is sent until it is enabled, then what it held arrives", async () => {
    await withSetup(() => ({}), async ({ worker, receiver }) => {
      receiver.answerWith(() => 410);
      await worker.post(callback("mix_stop", mixStop({ task: "gone-1", seq: 1 })));
      await eventually(async () => {
        const { endpoints } = await listing(worker);
        assert.equal(endpoints[0].disabled, true);
      }, 10_000);
      const attempts = receiver.received.length;
      receiver.answerWith(() => 200);
      for (let i = 2; i <= 4; i++) await worker.post(callback("mix_stop", mixStop({ task: `gone-${i}`, seq: 1 })));
      await eventually(async () => {
        const { endpoints, deliveries } = await listing(worker, "?state=held");
        assert.equal(deliveries.length, 4);
        assert.equal(endpoints[0].held, 4);
      }, 10_000);
      assert.equal(receiver.received.length, attempts, "nothing sent to a disabled endpoint");

      // Changing anything needs the admin token; the read token is not enough.
      const refused = await admin(worker, "/endpoints/default/enable", "POST", TOKEN);
      assert.equal(refused.status, 401);
      assert.equal((await errorOf(refused)).code, "unauthorized");
      const enabled = await admin(worker, "/endpoints/default/enable");
      assert.equal(enabled.status, 200, await enabled.clone().text());
      assert.deepEqual(await enabled.json(), { requeued: 4 });
      await eventually(() => assert.equal(landed(receiver).size, 4), 15_000);
      const { endpoints } = await listing(worker);
      assert.equal(endpoints[0].disabled, false);
    });
  });

  test("attempts run out: the message is kept as failed, listed, retried through the API, then delivered", async () => {
    await withSetup(() => ({ FORWARD_RETRY_SCHEDULE: "1s" }), async ({ worker, receiver }) => {
      receiver.answerWith(() => 503);
      const body = callback("stream_create", streamCreate({ room: "dead", session: BIG_SESSION, stream: "s", seq: 1, t: 1 }));
      assert.equal((await worker.post(body)).status, 200);
      const failed = await eventually(async () => {
        const { deliveries } = await listing(worker, "?state=failed");
        assert.equal(deliveries.length, 1);
        return deliveries[0];
      }, 15_000);
      assert.equal(receiver.received.length, 2, "two attempts in all");
      assert.equal(failed.attempts, 2);
      assert.equal(failed.last_status, 503);
      assert.equal(failed.event, "stream_create");

      receiver.answerWith(() => 200);
      const unknown = await admin(worker, "/deliveries/msg_0000/retry");
      assert.equal(unknown.status, 400);
      const retried = await admin(worker, `/deliveries/${failed.id}/retry`);
      assert.equal(retried.status, 200, await retried.clone().text());
      assert.deepEqual(await retried.json(), { requeued: 1 });
      await eventually(() => assert.equal(landed(receiver).size, 1), 10_000);
      assert.equal(receiver.delivered()[0].id, failed.id);
      await eventually(async () => assert.deepEqual((await listing(worker)).deliveries, []));
    });
  });

  test("retry all: every failed message again, an unknown event among them, each delivered once", async () => {
    await withSetup(() => ({ FORWARD_RETRY_SCHEDULE: "1s" }), async ({ worker, receiver }) => {
      receiver.answerWith(() => 503);
      const bodies = [
        callback("stream_create", streamCreate({ room: "all", session: BIG_SESSION, stream: "a", seq: 1, t: 1 })),
        callback("stream_create", streamCreate({ room: "all", session: BIG_SESSION, stream: "b", seq: 1, t: 2 })),
        // An event the list ignores is forwarded all the same.
        callback("room_login", { room_id: "all", room_seq: "1", user_account: "u" }),
      ];
      for (const body of bodies) assert.equal((await worker.post(body)).status, 200);
      const failed = await eventually(async () => {
        const { deliveries } = await listing(worker, "?state=failed");
        assert.equal(deliveries.length, 3);
        return deliveries;
      }, 20_000);
      assert.deepEqual(failed.map((d) => d.event).sort(), ["room_login", "stream_create", "stream_create"]);

      receiver.answerWith(() => 200);
      assert.equal((await admin(worker, "/deliveries/retry", "POST", TOKEN)).status, 401, "the read token changes nothing");
      const retried = await admin(worker, "/deliveries/retry");
      assert.equal(retried.status, 200, await retried.clone().text());
      assert.deepEqual(await retried.json(), { requeued: 3 });
      await eventually(() => assert.equal(landed(receiver).size, 3), 15_000);
      assert.deepEqual([...landed(receiver)].sort(), failed.map((d) => d.id).sort());
      assert.equal(receiver.delivered().length, 3, "each once");
      const login = receiver.delivered().map((r) => JSON.parse(r.text)).find((m) => m.type === "room_login");
      assert.equal(login.live, null, "an unknown event does not concern the list");
      assert.equal(login.data.room_id, "all");
      await eventually(async () => assert.deepEqual((await listing(worker)).deliveries, []));
    });
  });

  test("an endpoint that does not answer in time is tried again; another endpoint of the same callback is not held back", async () => {
    const slow = await startReceiver();
    const fast = await startReceiver();
    const bindings = forwarding(slow, {
      FORWARD_ENDPOINTS: JSON.stringify({ 1: [{ url: slow.url, name: "slow" }, { url: fast.url, name: "fast" }] }),
      FORWARD_TIMEOUT_SECONDS: "2",
      FORWARD_RETRY_SCHEDULE: "1s",
    });
    delete bindings.FORWARD_URL;
    const worker = await startWorker({ bindings, queues: true });
    try {
      // The first attempt at the slow endpoint is answered after 6 s, past the 2 s timeout.
      let first = true;
      slow.answerWith(() => (first ? ((first = false), new Promise((r) => setTimeout(() => r(200), 6_000))) : 200));
      const sent = Date.now();
      const body = callback("stream_create", streamCreate({ room: "slow", session: BIG_SESSION, stream: "s", seq: 1, t: 1 }));
      assert.equal((await worker.post(body)).status, 200);
      await eventually(() => assert.equal(fast.delivered().length, 1), 10_000);
      assert.ok(fast.delivered()[0].at - sent < 2_000, `the fast endpoint waited ${fast.delivered()[0].at - sent} ms`);
      // Its second attempt comes after the 2 s timeout and the 1 s wait, without waiting for
      // the late answer, under the same id.
      const [late, again] = await eventually(() => {
        assert.equal(slow.received.length, 2);
        return [...slow.received].sort((a, b) => a.at - b.at);
      }, 15_000);
      const gap = again.at - late.at;
      assert.ok(gap >= 2_000 && gap < 6_000, `the second attempt came ${gap} ms after the first`);
      assert.equal(again.id, late.id, "tried again under the same id");
      assert.equal(again.id, fast.delivered()[0].id, "one id for the callback, at every endpoint");
      // Nothing is left to deliver: the retry landed.
      await eventually(async () => assert.deepEqual((await listing(worker)).deliveries, []), 10_000);
    } finally {
      await worker.dispose();
      await slow.stop();
      await fast.stop();
    }
  });

  test("raw format: ZEGO's body byte for byte, with its Content-Type", async () => {
    const endpoints = (receiver) => ({
      FORWARD_URL: "",
      FORWARD_ENDPOINTS: JSON.stringify({ 1: [{ url: receiver.url, format: "raw", name: "raw-hook" }] }),
    });
    await withSetup(endpoints, async ({ worker, receiver }) => {
      const body = callback("room_close", roomClose({ room: "raw", session: BIG_SESSION, t: 5 }));
      const spaced = body.replace("{", "{ \n ");
      assert.equal((await worker.post(spaced, "application/json; charset=utf-8")).status, 200);
      await eventually(() => assert.equal(receiver.delivered().length, 1), 10_000);
      const [got] = receiver.delivered();
      assert.deepEqual(got.raw, Buffer.from(spaced));
      assert.equal(got.contentType, "application/json; charset=utf-8");
    });
  });
});

describe("the README's backend (examples/forwarded-backend.mjs)", () => {
  test("verifies each message, takes each callback once, and a room's changes by seq", async () => {
    const backend = spawn(process.execPath, [join(root, "examples", "forwarded-backend.mjs")], {
      env: { ...process.env, FORWARD_SECRET, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = [];
    let out = "";
    backend.stdout.on("data", (c) => {
      out += c;
      const parts = out.split("\n");
      out = parts.pop();
      lines.push(...parts.filter(Boolean).map((l) => JSON.parse(l)));
    });
    const url = await new Promise((resolve, reject) => {
      backend.stderr.on("data", (c) => {
        const m = /listening on (\S+)/.exec(String(c));
        if (m) resolve(m[1]);
      });
      backend.once("exit", (code) => reject(new Error(`the example exited (${code})`)));
    });
    const worker = await startWorker({
      bindings: { ZEGO_CALLBACK_SECRET: SECRET, READ_TOKEN: TOKEN, FORWARD_URL: url, FORWARD_SECRET },
      queues: true,
    });
    try {
      const create = callback("stream_create", streamCreate({ room: "ex", session: BIG_SESSION, stream: "s", seq: 1, t: 1 }));
      const close = callback("stream_close", streamClose({ room: "ex", session: BIG_SESSION, stream: "s", seq: 2, t: 2 }));
      for (const body of [create, create, close]) assert.equal((await worker.post(body)).status, 200);
      await eventually(() => assert.equal(lines.length, 2), 10_000);
      assert.deepEqual(lines.map((l) => l.type).sort(), ["stream_close", "stream_create"]);
      const [c, x] = ["stream_create", "stream_close"].map((t) => lines.find((l) => l.type === t));
      assert.equal(c.data.room_session_id, BIG_SESSION);
      assert.ok(x.seq > c.seq, "the close is the room's later change");
      assert.deepEqual(x.taken, ["s:ex:s"]);
    } finally {
      await worker.dispose();
      backend.kill();
    }
  });
});

describe("forwarding across faults", () => {
  test("the Worker restarted with messages still queued: they are delivered afterwards", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zego-forward-restart-"));
    const receiver = await startReceiver();
    try {
      await receiver.down();
      const bindings = forwarding(receiver);
      let worker = await startWorker({ bindings, queues: true, persist: dir });
      for (let i = 0; i < 5; i++) {
        const res = await worker.post(callback("mix_stop", mixStop({ task: `restart-${i}`, seq: 1 })));
        assert.equal(res.status, 200);
      }
      // Each failed its first attempt and waits for its next in the queue.
      await eventually(async () => assert.equal((await listing(worker, "?state=retrying")).deliveries.length, 5), 15_000);
      await worker.dispose();
      await receiver.up();
      worker = await startWorker({ bindings, queues: true, persist: dir });
      try {
        await eventually(() => assert.equal(landed(receiver).size, 5), 30_000);
      } finally {
        await worker.dispose();
      }
    } finally {
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a failed enqueue answers 503 and changes nothing a retry does not repeat", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zego-forward-enqueue-"));
    const receiver = await startReceiver();
    try {
      const bindings = forwarding(receiver);
      // The Worker without its queue bindings: every enqueue fails.
      const mf = new Miniflare(workerOptions({ bindings, persist: dir, queues: false }));
      const body = callback("stream_create", streamCreate({ room: "enqueue", session: BIG_SESSION, stream: "s", seq: 1, t: 1 }), { nonce: freshNonce() });
      const post = () => mf.dispatchFetch("http://worker.test/zego/callback", { method: "POST", body, headers: { "content-type": "application/json" } });
      const first = await post();
      assert.equal(first.status, 503);
      const error = await errorOf(first);
      assert.equal(error.code, "storage_failed");
      assert.match(error.message, /FORWARD_QUEUE/);
      // ZEGO retries once the queue is there: applied again (a duplicate for the room), and
      // forwarded this time.
      await mf.setOptions(workerOptions({ bindings, persist: dir, queues: true }));
      const retry = await post();
      assert.equal(retry.status, 200, await retry.clone().text());
      const answer = await retry.json();
      assert.equal(answer.forwarded, 1);
      const room = await (await mf.dispatchFetch("http://worker.test/rooms/enqueue/streams?appid=1", { headers: { authorization: `Bearer ${TOKEN}` } })).json();
      assert.deepEqual(room.streams.map((s) => [s.stream_id, s.room_session_id]), [["s", BIG_SESSION]]);
      await eventually(() => assert.equal(receiver.delivered().length, 1), 10_000);
      const msg = JSON.parse(receiver.delivered()[0].text);
      assert.equal(msg.data.room_session_id, BIG_SESSION);
      await mf.dispose();
    } finally {
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("without forwarding configured nothing is queued and the answer says so", async () => {
    const worker = await startWorker({ queues: true });
    try {
      const res = await worker.post(callback("mix_stop", mixStop({ task: "none", seq: 1 })));
      assert.equal(res.status, 200);
      assert.equal((await res.json()).forwarded, undefined);
      const list = await worker.read("/deliveries");
      assert.equal(list.status, 400);
    } finally {
      await worker.dispose();
    }
  });

  test("a malformed configuration is a 500 naming the binding, before anything is applied", async () => {
    const receiver = await startReceiver();
    const worker = await startWorker({ bindings: forwarding(receiver, { FORWARD_ENDPOINTS: '{"1": [{"url": "nope"}]}' }), queues: true });
    try {
      const res = await worker.post(callback("stream_create", streamCreate({ room: "cfg", session: 1, stream: "s", seq: 1, t: 1 })));
      assert.equal(res.status, 500);
      const error = await errorOf(res);
      assert.equal(error.code, "invalid_option");
      assert.match(error.message, /FORWARD_ENDPOINTS/);
      const room = await (await worker.read("/rooms/cfg/streams?appid=1")).json();
      assert.deepEqual(room.streams, []);
    } finally {
      await worker.dispose();
      await receiver.stop();
    }
  });
});
