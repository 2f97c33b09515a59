// The live-list rules through the npm module: LiveList and the plan/decide API give the
// same list for any delivery order, with duplicates, as in-order delivery.
import test from "node:test";
import assert from "node:assert/strict";
import { LiveList, live, parse } from "../../pkg/index.mjs";

// A small deterministic PRNG, so a failure names its seed.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

const envelope = (i) => ({ appid: "1", timestamp: String(1700000000 + i), nonce: `n${i}`, signature: "x" });

// Rooms with sequential sessions (big 64-bit ids), stream_seq restarting per session,
// stream ids reused across sessions, re-publishes, room_close on some sessions, mixes.
function history(seed) {
  const r = rng(seed);
  const out = [];
  let t = 1_700_000_000_000;
  let n = 0;
  const push = (o) => out.push(JSON.stringify({ ...o, ...envelope(n++) }));
  for (const room of ["room-a", "room:b"]) {
    for (let session = 0; session < 3; session++) {
      const sid = (18446744073709551000n - BigInt(session * 7 + room.length)).toString();
      let seq = 1 + r(3);
      for (const stream of ["s1", "s2", "s3"].slice(0, 1 + r(3))) {
        push({ event: "stream_create", room_id: room, room_session_id: sid, stream_id: stream,
          stream_seq: String(seq++), create_time_ms: String((t += 10)), title: `${room}/${stream}/${session}` });
        if (r(3) === 0) {
          push({ event: "stream_create", room_id: room, room_session_id: sid, stream_id: stream,
            stream_seq: String(seq++), create_time_ms: String((t += 10)), recreate: "1" });
        }
        if (r(2) === 0) {
          push({ event: "stream_close", room_id: room, room_session_id: sid, stream_id: stream,
            stream_seq: String(seq++), destroy_timemillis: String((t += 10)), type: "0" });
        }
      }
      if (session < 2 || r(2) === 0) {
        push({ event: "room_close", room_id: room, room_session_id: sid, room_close_time: String((t += 10)) });
      }
      t += 1000;
    }
  }
  for (let m = 0; m < 3; m++) {
    push({ event: "mix_start", task_id: `1:mix${m}`, seq: String(10 * m + 1) });
    if (m !== 1) push({ event: "mix_stop", task_id: `1:mix${m}`, seq: String(10 * m + 2) });
  }
  return out.map((body) => parse(body));
}

function deliver(callbacks, seed) {
  const r = rng(seed * 7919);
  const copies = callbacks.flatMap((cb) => Array.from({ length: 1 + r(3) }, () => cb));
  for (let i = copies.length - 1; i > 0; i--) {
    const j = r(i + 1);
    [copies[i], copies[j]] = [copies[j], copies[i]];
  }
  return copies;
}

test("shuffled, duplicated deliveries end in the in-order list (LiveList)", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const cbs = history(seed);
    const inOrder = new LiveList();
    for (const cb of cbs) inOrder.apply(cb);
    const shuffled = new LiveList();
    for (const cb of deliver(cbs, seed)) shuffled.apply(cb);
    assert.deepEqual(shuffled.records(), inOrder.records(), `seed ${seed}`);
    assert.deepEqual(shuffled.streams(), inOrder.streams(), `seed ${seed}`);
    assert.ok(inOrder.mixes().some((m) => m.task_id === "1:mix1"));
  }
});

test("no stream of a closed session stays live; ids keep every digit", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const cbs = history(seed);
    const sessions = new Set(cbs.filter((c) => c.room_session_id).map((c) => c.room_session_id));
    const closed = new Set(cbs.filter((c) => c.event === "room_close").map((c) => `${c.room_id}/${c.room_session_id}`));
    const list = new LiveList();
    for (const cb of deliver(cbs, seed)) list.apply(cb);
    for (const s of list.streams()) {
      assert.ok(sessions.has(s.room_session_id), `${s.room_session_id} is one of the sent ids, digit for digit`);
      assert.ok(!closed.has(`${s.room_id}/${s.room_session_id}`), `seed ${seed}: ${s.stream_id} outlived its room_close`);
    }
  }
});

test("applying a callback twice writes nothing the second time", () => {
  const list = new LiveList();
  const [first] = history(5);
  assert.equal(list.apply(first).length, 1);
  assert.deepEqual(list.apply(first), []);
  assert.deepEqual(list.apply(parse(JSON.stringify({ event: "room_login", room_id: "r", room_seq: "1", user_account: "u", ...envelope(0) }))), []);
});

test("plan/decide over a store of one's own gives LiveList's records", () => {
  const cbs = deliver(history(9), 9);
  const store = new Map();
  for (const cb of cbs) {
    const plan = live.plan(cb);
    if (!plan) continue;
    const write = live.decide(cb, store.get(plan.key), plan.sessionKey && store.get(plan.sessionKey));
    if (write) store.set(write.key, JSON.parse(JSON.stringify(write.record)));
    if (plan.scanPrefix) {
      for (const [key, record] of store) {
        if (!key.startsWith(plan.scanPrefix)) continue;
        const ended = live.decideScanned(cb, key, record);
        if (ended) {
          assert.equal(ended.ttlSeconds, 86400, "an ended stream is a tombstone that expires");
          store.set(ended.key, ended.record);
        }
      }
    }
  }
  const list = new LiveList();
  for (const cb of cbs) list.apply(cb);
  assert.deepEqual(Object.fromEntries([...store].sort(([a], [b]) => (a < b ? -1 : 1))), list.records());
});

test("a record that is not one of ours is an invalid_option error", () => {
  const [cb] = history(1);
  assert.throws(() => live.decide(cb, { nonsense: true }), (e) => e.code === "invalid_option");
});

test("LiveList keeps, delivery for delivery, the records the core's LiveList keeps", async () => {
  // Generated by the Rust property test's generator (tests/live_order.rs), with the records
  // the core's LiveList keeps after each shuffled, duplicated delivery.
  const { readFileSync } = await import("node:fs");
  const { cases } = JSON.parse(readFileSync(new URL("../fixtures/live/histories.json", import.meta.url), "utf8"));
  assert.ok(cases.length >= 6);
  for (const [i, { deliveries, records }] of cases.entries()) {
    const list = new LiveList();
    for (const body of deliveries) list.apply(parse(body));
    assert.deepEqual(list.records(), records, `case ${i}`);
  }
});
