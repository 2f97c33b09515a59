// The replay guard and the rooms under concurrent delivery, and both across a restart of
// the local runtime: real workerd, real local Durable Objects and KV.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import {
  BIG_SESSION,
  callback,
  errorOf,
  eventually,
  freshNonce,
  inFlight,
  listAll,
  nowSecs,
  startWorker,
  streamCreate,
} from "./harness.mjs";

const roomStreams = async (worker, room, appid = 1) => {
  const res = await worker.read(`/rooms/${encodeURIComponent(room)}/streams?appid=${appid}`);
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
};

describe("under concurrent delivery", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(() => worker.dispose());

  test("a captured signature sent with two bodies at once: exactly one is accepted, 50 times", async () => {
    const outcomes = [];
    for (let i = 0; i < 50; i++) {
      const signed = { nonce: freshNonce(), timestamp: nowSecs() };
      // The forger picks another room: the guard must be app-wide to see the nonce.
      const genuine = callback("stream_create", streamCreate({ room: `pair-${i}`, session: 1, stream: "s", seq: 1, t: 1 }), signed);
      const forged = callback("stream_create", streamCreate({ room: `forged-${i}`, session: 1, stream: "evil", seq: 1, t: 1 }), signed);
      const answers = await Promise.all([worker.post(genuine), worker.post(forged)]);
      const statuses = answers.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409], `pair ${i}`);
      const refused = answers.find((r) => r.status === 409);
      assert.equal((await errorOf(refused)).code, "replayed_nonce");
      await Promise.all(answers.filter((r) => r !== refused).map((r) => r.arrayBuffer()));
      outcomes.push(answers[0].status === 200 ? "genuine" : "forged");
      // The refused body left nothing in its room.
      const loser = answers[0].status === 200 ? `forged-${i}` : `pair-${i}`;
      assert.deepEqual((await roomStreams(worker, loser)).streams, [], `pair ${i}: ${loser}`);
    }
    assert.equal(outcomes.length, 50);
  });

  test("the same body 8 times at once: all 200, one record, one KV write", async () => {
    const body = callback("stream_create", streamCreate({ room: "retried", session: BIG_SESSION, stream: "s", seq: 1, t: 9 }));
    const { results, peak } = await inFlight(
      Array.from({ length: 8 }, () => async () => {
        const res = await worker.post(body);
        return { status: res.status, body: await res.json() };
      }),
      8,
    );
    assert.equal(peak, 8);
    assert.deepEqual(results.map((r) => r.status), Array(8).fill(200));
    const wrote = results.filter((r) => r.body.written.length > 0);
    assert.equal(wrote.length, 1, "applied once");
    assert.deepEqual(wrote[0].body.written, ["s:retried:s"]);
    assert.equal(results.filter((r) => r.body.duplicate).length, 7);
    const room = await eventually(async () => {
      const state = await roomStreams(worker, "retried");
      assert.equal(state.sync.pending, 0);
      return state;
    });
    assert.equal(room.streams.length, 1);
    assert.equal(room.streams[0].room_session_id, BIG_SESSION);
    assert.equal(room.sync.kv_writes, 1);
  });
});

describe("a restart of the local runtime", () => {
  let dir;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zego-restart-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("keeps the objects, KV and the replay guard", async () => {
    const captured = { nonce: freshNonce(), timestamp: nowSecs() };
    const body = callback("stream_create", streamCreate({ room: "kept", session: BIG_SESSION, stream: "s", seq: 1, t: 5 }), captured);
    let worker = await startWorker({ persist: dir });
    try {
      assert.equal((await worker.post(body)).status, 200);
      await eventually(async () => assert.equal((await listAll(worker, "streams")).items.length, 1));
    } finally {
      await worker.dispose();
    }
    worker = await startWorker({ persist: dir });
    try {
      assert.deepEqual((await roomStreams(worker, "kept")).streams.map((s) => s.room_session_id), [BIG_SESSION]);
      assert.deepEqual((await listAll(worker, "streams")).items.map((s) => s.stream_id), ["s"]);
      const forged = callback("stream_create", streamCreate({ room: "elsewhere", session: 1, stream: "x", seq: 1, t: 1 }), captured);
      const res = await worker.post(forged);
      assert.equal(res.status, 409);
      assert.equal((await errorOf(res)).code, "replayed_nonce");
      const retry = await worker.post(body);
      assert.equal(retry.status, 200);
      assert.equal((await retry.json()).duplicate, true);
    } finally {
      await worker.dispose();
    }
  });

  test("lets a change committed while KV was unreachable reach KV without a new callback", async () => {
    const sub = join(dir, "no-kv");
    // No LIVE_LIST binding: every KV write fails, but the room's object commits.
    let worker = await startWorker({ persist: sub, kvBinding: "NOT_LIVE_LIST" });
    try {
      const res = await worker.post(callback("stream_create", streamCreate({ room: "later", session: 3, stream: "s", seq: 1, t: 5 })));
      assert.equal(res.status, 200, "acknowledged once committed");
      const room = await eventually(async () => {
        const state = await roomStreams(worker, "later");
        assert.ok(state.sync.failures >= 1, JSON.stringify(state.sync));
        return state;
      });
      assert.equal(room.streams.length, 1);
      assert.equal(room.sync.pending, 1);
    } finally {
      await worker.dispose();
    }
    worker = await startWorker({ persist: sub });
    try {
      // Nothing is posted: the object's pending retry (its alarm) sends the change.
      await eventually(async () => {
        assert.deepEqual((await listAll(worker, "streams")).items.map((s) => s.stream_id), ["s"]);
      }, 90_000);
      const state = await roomStreams(worker, "later");
      assert.equal(state.sync.pending, 0);
      assert.equal(state.sync.failures, 0);
    } finally {
      await worker.dispose();
    }
  });
});
