// KV failing after the room's object has committed: the callback is acknowledged (its effect
// is stored, in the object), KV is left as it was while it fails, and once KV works again
// the object's outbox brings it up to date by itself: no new callback, no retry by ZEGO.
//
// The failure is real, not mocked: Miniflare keeps the local KV in a directory; its values
// live as files under <dir>/kv/<namespace>/blobs. Replacing that directory with a regular
// file makes workerd's every blob write fail with ENOTDIR (file permissions would not do:
// the tests may run as root). Key metadata stays in SQLite, so lists still work.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import {
  AUTH,
  BIG_SESSION,
  callback,
  eventually,
  listAll,
  roomClose,
  settle,
  startWorker,
  streamClose,
  streamCreate,
} from "./harness.mjs";

let worker;
let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "zego-kv-"));
  worker = await startWorker({ persist: dir });
});
after(async () => {
  await worker.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function blobDir() {
  const kv = join(dir, "kv");
  const namespaces = existsSync(kv) ? readdirSync(kv).filter((n) => existsSync(join(kv, n, "blobs"))) : [];
  assert.equal(namespaces.length, 1, "the blob directory exists once something was written");
  return join(kv, namespaces[0], "blobs");
}

function breakKv() {
  const blobs = blobDir();
  renameSync(blobs, `${blobs}.away`);
  writeFileSync(blobs, "not a directory");
  return () => {
    rmSync(blobs);
    renameSync(`${blobs}.away`, blobs);
  };
}

async function accepted(body) {
  const res = await worker.post(body);
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

const room = "room-s";
const create = (stream, seq = 1) => callback("stream_create", streamCreate({ room, session: BIG_SESSION, stream, seq, t: 100 + seq }));
const listed = async () => (await listAll(worker, "streams")).items.map((s) => s.stream_id);
const consistent = async () => {
  const res = await worker.read(`/rooms/${room}/streams?appid=1`);
  assert.equal(res.status, 200);
  return (await res.json()).streams.map((s) => s.stream_id);
};

test("KV failing after the commit: acknowledged, then KV converges once it works again", async () => {
  await accepted(create("first"));
  await eventually(async () => assert.deepEqual(await listed(), ["first"]));

  const repair = breakKv();
  let repaired = false;
  try {
    const second = await accepted(create("second"));
    assert.deepEqual(second.written, [`s:${room}:second`]);
    await accepted(callback("stream_close", streamClose({ room, session: BIG_SESSION, stream: "first", seq: 2, t: 200 })));
    await accepted(create("third"));
    await accepted(callback("room_close", roomClose({ room, session: BIG_SESSION, t: 900 })));
    await accepted(create("fourth", 5)); // a late create of the closed session: a tombstone
    // The room's object has every change, at once.
    assert.deepEqual(await consistent(), []);
    // KV has none of them: every write failed (and is being retried).
    await settle(1_500);
    assert.deepEqual(await listed(), ["first"]);
    repair();
    repaired = true;
  } finally {
    if (!repaired) repair();
  }

  // No new callback: the outbox's retries land.
  await eventually(async () => {
    assert.deepEqual(await listed(), []);
    const keys = (await worker.snapshot()).map((k) => [k.name, k.metadata.state]);
    assert.deepEqual(keys, [
      [`s:1:${room}:first`, "closed"],
      [`s:1:${room}:fourth`, "closed"],
      [`s:1:${room}:second`, "closed"],
      [`s:1:${room}:third`, "closed"],
    ]);
  }, 20_000);
  const tombstones = await worker.snapshot();
  assert.ok(tombstones.every((k) => k.expiration > Date.now() / 1000), "tombstones expire");
});

test("a burst on one key while KV fails ends in its latest record", async () => {
  const repair = breakKv();
  try {
    for (let seq = 1; seq <= 6; seq++) {
      const body = seq % 2
        ? callback("stream_create", streamCreate({ room, session: "77", stream: "busy", seq, t: 5000 + seq }))
        : callback("stream_close", streamClose({ room, session: "77", stream: "busy", seq, t: 5000 + seq }));
      await accepted(body);
    }
    await accepted(callback("stream_create", streamCreate({ room, session: "77", stream: "busy", seq: 7, t: 6000 })));
  } finally {
    repair();
  }
  const record = await eventually(async () => {
    const found = (await worker.snapshot()).find((k) => k.name === `s:1:${room}:busy`);
    assert.ok(found, "written");
    return found;
  }, 20_000);
  assert.equal(record.metadata.state, "live");
  assert.equal(record.metadata.version.stream_seq, 7);
  assert.deepEqual(
    (await listAll(worker, "streams", { headers: AUTH })).items.map((s) => [s.stream_id, s.stream_seq]),
    [["busy", 7]],
  );
});
