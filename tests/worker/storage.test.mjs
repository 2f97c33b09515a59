// A failed KV write or read answers 503 storage_failed with nothing changed, and ZEGO's
// retry of the same body then converges.
//
// The failure is real, not mocked: Miniflare keeps the local KV in a directory (kvPersist);
// its values live as files under <dir>/LIVE_LIST/blobs. Replacing that directory with a
// regular file makes workerd's every blob write and read fail with ENOTDIR (file
// permissions would not do: the tests may run as root). Key metadata stays in SQLite, so
// lookups and lists still work; what fails is every write of a value.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { BIG_SESSION, callback, errorOf, listAll, roomClose, startWorker, streamClose, streamCreate } from "./harness.mjs";

let worker;
let dir;
let blobs;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "zego-kv-"));
  blobs = join(dir, "LIVE_LIST", "blobs");
  worker = await startWorker({ kvPersist: dir });
});
after(async () => {
  await worker.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function breakStorage() {
  assert.ok(existsSync(blobs), "the blob directory exists once something was written");
  renameSync(blobs, `${blobs}.away`);
  writeFileSync(blobs, "not a directory");
}

function repairStorage() {
  rmSync(blobs);
  renameSync(`${blobs}.away`, blobs);
}

/** Posts `body` while storage is broken: 503 storage_failed, and KV exactly as before. */
async function failsWhileBroken(body) {
  const before = await worker.snapshot();
  breakStorage();
  let res;
  try {
    res = await worker.post(body);
  } finally {
    repairStorage();
  }
  assert.equal(res.status, 503);
  const error = await errorOf(res);
  assert.equal(error.code, "storage_failed");
  assert.deepEqual(await worker.snapshot(), before, "KV unchanged");
  return error;
}

async function accepted(body) {
  const res = await worker.post(body);
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

const create = (stream, seq = 1) => callback("stream_create", streamCreate({ room: "room-s", session: BIG_SESSION, stream, seq, t: 100 + seq }));
const live = async () => (await listAll(worker, "streams")).items.map((s) => s.stream_id);

test("a failed write answers 503, and the retry of the same body is applied", async () => {
  await accepted(create("first"));
  const body = create("second");
  const error = await failsWhileBroken(body);
  assert.match(error.message, /could not write `s:room-s:second`/);
  assert.deepEqual(await live(), ["first"]);
  // The nonce was not recorded (it is stored only after the effect), so this is no duplicate.
  const retry = await accepted(body);
  assert.equal(retry.duplicate, false);
  assert.deepEqual(retry.written, ["s:room-s:second"]);
  assert.deepEqual(await live(), ["first", "second"]);
  assert.equal((await accepted(body)).duplicate, true);
});

test("a failed close of a stored stream answers 503, and the retry converges", async () => {
  const close = callback("stream_close", streamClose({ room: "room-s", session: BIG_SESSION, stream: "first", seq: 2, t: 200 }));
  const error = await failsWhileBroken(close);
  // The stored record is still read (workerd serves it though its blob directory is gone);
  // the tombstone's write is what fails.
  assert.match(error.message, /could not write `s:room-s:first`/);
  assert.deepEqual(await live(), ["first", "second"]);
  await accepted(close);
  assert.deepEqual(await live(), ["second"]);
});

test("a room_close that failed half-way is completed by its retry", async () => {
  await accepted(create("third"));
  const rc = callback("room_close", roomClose({ room: "room-s", session: BIG_SESSION, t: 900 }));
  await failsWhileBroken(rc);
  assert.deepEqual(await live(), ["second", "third"]);
  // As if the first attempt had stored the session tombstone and then failed on the
  // streams: the retry finds the tombstone already there (a Write::Ignore) and still ends
  // the session's streams.
  await worker.kv.put(
    `r:room-s:${BIG_SESSION}`,
    JSON.stringify({ room_id: "room-s", room_session_id: BIG_SESSION, room_close_time: 900, close_reason: 0 }),
    { expirationTtl: 86400 },
  );
  const retry = await accepted(rc);
  assert.deepEqual(retry.written.sort(), ["s:room-s:second", "s:room-s:third"]);
  assert.deepEqual(await live(), []);
});
