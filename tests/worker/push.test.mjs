// The WebSockets: a room's and an app's subscribers get a snapshot, then each change in the
// order it was applied. Real workerd; the sockets are Miniflare's real WebSocket pairs.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";

import {
  BIG_SESSION,
  TOKEN,
  callback,
  errorOf,
  mixStart,
  roomClose,
  startWorker,
  streamClose,
  streamCreate,
} from "./harness.mjs";

/** Opens a subscription; `next()` resolves with each JSON frame in turn. */
async function subscribe(worker, path) {
  const res = await worker.fetch(path, { headers: { upgrade: "websocket" } });
  assert.equal(res.status, 101, `${path}: ${res.status}`);
  const ws = res.webSocket;
  const frames = [];
  const waiting = [];
  ws.addEventListener("message", (event) => {
    assert.equal(typeof event.data, "string", "text frames");
    const frame = JSON.parse(event.data);
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  ws.accept();
  return {
    next: () =>
      frames.length
        ? Promise.resolve(frames.shift())
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no frame on ${path} within 10 s`)), 10_000);
            waiting.push((frame) => {
              clearTimeout(timer);
              resolve(frame);
            });
          }),
    close: () => ws.close(1000, "done"),
  };
}

const ok = async (worker, body) => {
  const res = await worker.post(body);
  assert.equal(res.status, 200, await res.text());
};

describe("subscribers", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(() => worker.dispose());

  test("a room's socket: the snapshot, then create, close and room_close in order", async () => {
    const room = "房间:push";
    await ok(worker, callback("stream_create", streamCreate({ room, session: BIG_SESSION, stream: "early", seq: 1, t: 10 })));
    const socket = await subscribe(worker, `/rooms/${encodeURIComponent(room)}/subscribe?appid=1&token=${TOKEN}`);
    try {
      const snapshot = await socket.next();
      assert.equal(snapshot.type, "snapshot");
      assert.equal(snapshot.room_id, room);
      assert.equal(snapshot.appid, "1");
      assert.deepEqual(snapshot.streams.map((s) => [s.stream_id, s.room_session_id]), [["early", BIG_SESSION]]);
      assert.equal(snapshot.mixes, undefined);

      await ok(worker, callback("stream_create", streamCreate({ room, session: BIG_SESSION, stream: "late", seq: 1, t: 20 })));
      await ok(worker, callback("stream_close", streamClose({ room, session: BIG_SESSION, stream: "early", seq: 2, t: 30 })));
      await ok(worker, callback("room_close", roomClose({ room, session: BIG_SESSION, t: 40 })));

      const created = await socket.next();
      assert.deepEqual(
        [created.type, created.kind, created.room_id, created.stream_id, created.record.state],
        ["change", "stream", room, "late", "live"],
      );
      assert.equal(created.record.stream.room_session_id, BIG_SESSION, "64-bit id exact");
      assert.equal(typeof created.at, "number");
      const closed = await socket.next();
      assert.deepEqual([closed.stream_id, closed.record.state, closed.record.version.kind], ["early", "closed", "close"]);
      const ended = await socket.next();
      assert.deepEqual([ended.stream_id, ended.record.state], ["late", "closed"]);
      assert.ok(created.at <= closed.at && closed.at <= ended.at);
    } finally {
      socket.close();
    }
  });

  test("the app's socket: the app's snapshot with mixes, then changes of every room and mix", async () => {
    const socket = await subscribe(worker, `/subscribe?appid=1&token=${TOKEN}`);
    try {
      const snapshot = await socket.next();
      assert.equal(snapshot.type, "snapshot");
      assert.ok(Array.isArray(snapshot.mixes));
      const before = new Set(snapshot.streams.map((s) => `${s.room_id}/${s.stream_id}`));
      await ok(worker, callback("stream_create", streamCreate({ room: "app-a", session: 1, stream: "a1", seq: 1, t: 1 })));
      await ok(worker, callback("mix_start", mixStart({ task: "mix-1", seq: 1 })));
      await ok(worker, callback("stream_close", streamClose({ room: "app-a", session: 1, stream: "a1", seq: 2, t: 2 })));
      const seen = [];
      while (seen.length < 3) {
        const frame = await socket.next();
        assert.equal(frame.type, "change");
        seen.push(frame.kind === "mix" ? `mix ${frame.task_id} ${frame.record.state}` : `${frame.room_id}/${frame.stream_id} ${frame.record.state}`);
      }
      // One room's changes arrive in the order the room applied them.
      assert.ok(seen.indexOf("app-a/a1 live") < seen.indexOf("app-a/a1 closed"), seen.join(", "));
      assert.ok(seen.includes("mix mix-1 live"), seen.join(", "));
      assert.ok(!before.has("app-a/a1"));
    } finally {
      socket.close();
    }
  });

  test("a new app socket's snapshot holds what was applied before it", async () => {
    await ok(worker, callback("stream_create", streamCreate({ room: "app-b", session: 2, stream: "b1", seq: 1, t: 1 })));
    // The room sends to the hub right after its commit; a snapshot taken before that is
    // followed by the change itself, so between the two the stream is there.
    const socket = await subscribe(worker, `/subscribe?appid=1&token=${TOKEN}`);
    try {
      const snapshot = await socket.next();
      const inSnapshot = snapshot.streams.some((s) => s.stream_id === "b1");
      if (!inSnapshot) {
        const frame = await socket.next();
        assert.deepEqual([frame.stream_id, frame.record.state], ["b1", "live"]);
      }
      assert.ok(snapshot.mixes.some((m) => m.task_id === "mix-1"), "the running mix");
    } finally {
      socket.close();
    }
  });

  test("the app's socket gathers every hub shard: each room's changes, in order, 64 rooms in flight", async () => {
    // The shard a room's changes go through, as the Worker picks it (SHA-1 of the room
    // object's name): four rooms per shard, so that every shard is exercised.
    const SHARDS = 16;
    const shardOf = (room) => createHash("sha1").update(`1:room:${room}`).digest()[0] % SHARDS;
    const rooms = [];
    const perShard = new Array(SHARDS).fill(0);
    for (let i = 0; rooms.length < 4 * SHARDS; i++) {
      const room = `gather-${i}`;
      if (perShard[shardOf(room)] < 4) {
        perShard[shardOf(room)] += 1;
        rooms.push(room);
      }
    }
    const socket = await subscribe(worker, `/subscribe?appid=1&token=${TOKEN}`);
    try {
      const snapshot = await socket.next();
      assert.equal(snapshot.type, "snapshot");
      assert.ok(!snapshot.streams.some((s) => s.room_id.startsWith("gather-")));
      // Each room in order: a and b go live, then a closes; the rooms all at once.
      const applied = ["a live", "b live", "a closed"];
      await Promise.all(
        rooms.map(async (room, i) => {
          await ok(worker, callback("stream_create", streamCreate({ room, session: 5, stream: "a", seq: 1, t: 10 + i })));
          await ok(worker, callback("stream_create", streamCreate({ room, session: 5, stream: "b", seq: 1, t: 11 + i })));
          await ok(worker, callback("stream_close", streamClose({ room, session: 5, stream: "a", seq: 2, t: 12 + i })));
        }),
      );
      const seen = new Map(rooms.map((room) => [room, []]));
      const done = (frames) => frames.includes("a closed") && frames.includes("b live");
      while ([...seen.values()].some((frames) => !done(frames))) {
        const frame = await socket.next();
        assert.equal(frame.type, "change");
        seen.get(frame.room_id)?.push(`${frame.stream_id} ${frame.record.state}`);
      }
      for (const [room, frames] of seen) {
        // The room's changes in the order it applied them; a change to a key may be
        // overtaken by the next change to the same key before it is sent (never reordered).
        let at = 0;
        for (const frame of frames) {
          const next = applied.indexOf(frame, at);
          assert.ok(next >= 0, `${room}: ${frames.join(", ")}`);
          at = next + 1;
        }
      }
    } finally {
      socket.close();
    }
    // A socket opened afterwards: one snapshot holding every room's live stream, from every shard.
    const late = await subscribe(worker, `/subscribe?appid=1&token=${TOKEN}`);
    try {
      const snapshot = await late.next();
      const live = snapshot.streams.filter((s) => s.room_id.startsWith("gather-")).map((s) => `${s.room_id}/${s.stream_id}`);
      assert.deepEqual(live.sort(), rooms.map((room) => `${room}/b`).sort());
    } finally {
      late.close();
    }
  });

  test("subscribing needs the token and an upgrade", async () => {
    for (const path of ["/subscribe?appid=1", "/subscribe?appid=1&token=wrong", "/rooms/r/subscribe?appid=1"]) {
      const res = await worker.fetch(path, { headers: { upgrade: "websocket" } });
      assert.equal(res.status, 401, path);
      assert.equal((await errorOf(res)).code, "unauthorized");
    }
    const plain = await worker.fetch(`/subscribe?appid=1&token=${TOKEN}`);
    assert.equal(plain.status, 426);
    assert.equal((await errorOf(plain)).code, "upgrade_required");
  });
});
