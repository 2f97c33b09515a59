// The inspector's pure modules (www/lib/) under Node, against the module build the page loads
// (www/pkg/, instantiated synchronously here instead of fetched).
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { bodyMembers, formMembers, isJsonValue, jsonMembers, jsonParseLoss, memberText, ScanError, stringArray, utf8Bytes } from "../../www/lib/raw.mjs";
import { fieldRows } from "../../www/lib/fields.mjs";
import { analyzeSignature, humanDuration, secretList, signingParts, timestampAge } from "../../www/lib/check.mjs";
import { buildBody, ComposeError, curlCommand, editorRows, randomNonce, shellQuote, signRows } from "../../www/lib/compose.mjs";
import { hasLiveList, replay, sameList, sampleHistory, shuffledOrder } from "../../www/lib/history.mjs";
import { applyFrame, emptyFeed, feedMixes, feedStreams, probeUrl, refusal, subscribeUrl } from "../../www/lib/feed.mjs";
import { axisTicks, chooseWindow, MIN_BAR_PX, placeLabels, spanText, timeline, WINDOWS } from "../../www/lib/timeline.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = join(root, "tests", "fixtures");
const fixture = (file) => readFileSync(join(fixtures, file), "utf8");
const index = JSON.parse(fixture("index.json"));
const wasm = join(root, "www", "pkg", "zego_callback_bg.wasm");

async function loadApi() {
  const raw = await import("../../www/pkg/zego_callback.js");
  raw.initSync({ module: readFileSync(wasm) });
  const { wrap } = await import("../../www/pkg/api.mjs");
  return wrap(raw);
}
const api = existsSync(wasm) ? await loadApi() : null;
const needsApi = api ? {} : { skip: "www/pkg is not built (node scripts/build-pkg.mjs)" };

test("jsonMembers keeps each value's exact text", () => {
  const members = jsonMembers(fixture("seeds/room_close.json"));
  const byName = Object.fromEntries(members.map((m) => [m.name, m]));
  assert.deepEqual(members.map((m) => m.name), ["event", "appid", "timestamp", "nonce", "signature", "room_id", "room_session_id", "close_reason", "room_close_time"]);
  assert.equal(byName.room_session_id.raw, "858012925204410400");
  assert.equal(byName.room_session_id.type, "number");
  assert.equal(byName.room_close_time.raw, '"1499676989909"');
  assert.equal(memberText(byName.timestamp), "1499676989");
  assert.equal(memberText(byName.nonce), "350176");
  const create = jsonMembers(fixture("seeds/stream_create.json"));
  const attr = create.find((m) => m.name === "stream_attr");
  assert.equal(attr.value, '{"cid":0}');
  assert.equal(create.find((m) => m.name === "rtmp_url").type, "array");
});

test("jsonMembers: a BOM, nesting, and every kind of fault", () => {
  assert.deepEqual(jsonMembers('\uFEFF{"a":{"b":[1,{"c":null}]},"d":-1.5e3}').map((m) => [m.name, m.raw]), [["a", '{"b":[1,{"c":null}]}'], ["d", "-1.5e3"]]);
  assert.deepEqual(jsonMembers(" {} "), []);
  for (const bad of ["", "  ", '{"a":1,}', '{"a":1} x', '["a"]', '{"a":01}', '{"a":"\\q"}', '{"a":tru}', "{", "[".repeat(300)]) {
    assert.throws(() => jsonMembers(bad), ScanError, JSON.stringify(bad));
  }
  assert.deepEqual(bodyMembers('{"a":1,}', "application/json").members, []);
  assert.ok(bodyMembers('{"a":1,}', "application/json").error instanceof ScanError);
});

test("form bodies: decoded, repeated names grouped, a BOM dropped, sniffed", () => {
  const members = formMembers(fixture("signed/stream_create.form"));
  const rtmp = members.find((m) => m.name === "rtmp_url");
  assert.equal(rtmp.values.length, 2);
  assert.equal(members.find((m) => m.name === "stream_attr").value, '{"cid":0}');
  const bom = bodyMembers(fixture("signed/stream_create_json_arrays.form"), null);
  assert.equal(bom.format, "form");
  assert.equal(bom.members[0].name, "event");
  assert.equal(bodyMembers(fixture("seeds/mix_stop.json"), null).format, "json");
  assert.equal(bodyMembers("a=1", "application/xml").format, "form");
});

test("jsonParseLoss writes out exactly what JSON.parse makes of a big integer", () => {
  assert.equal(jsonParseLoss("858012925204410400"), "858012925204410368");
  assert.equal(jsonParseLoss("18446744073709551615"), "18446744073709551616");
  assert.equal(jsonParseLoss("18446744073709551616"), null, "2^64 is a double exactly");
  assert.equal(jsonParseLoss("9007199254740993"), "9007199254740992");
  assert.equal(jsonParseLoss("9007199254740992"), null);
  assert.equal(jsonParseLoss("1499676989"), null);
  assert.equal(jsonParseLoss("1.5"), null);
});

test("small helpers", () => {
  assert.deepEqual(stringArray('[ "a", "b\\u0021" ]'), ["a", "b!"]);
  assert.deepEqual(stringArray("[]"), []);
  assert.equal(stringArray('["a", 1]'), null);
  assert.equal(stringArray('"a"'), null);
  assert.ok(isJsonValue(" [1, 858012925204410400] "));
  assert.ok(!isJsonValue("[1,]"));
  assert.equal(utf8Bytes("房间"), 6);
  assert.deepEqual(secretList(" a , b,, "), ["a", "b"]);
  assert.equal(humanDuration(12), "12 s");
  assert.equal(humanDuration(-600), "10 min");
  assert.equal(humanDuration(5 * 3600), "5 h");
  assert.equal(humanDuration(10 * 86400), "10 days");
  assert.equal(humanDuration(3 * 365 * 86400), "3 years");
  assert.deepEqual(timestampAge("1000", 1012, 300), { age: 12, inside: true, text: "received 12 s ago — inside the 300 s window" });
  assert.deepEqual(timestampAge("1400", 1000, 300), { age: -400, inside: false, text: "dated 400 s in the future — outside the 300 s window" });
  assert.equal(timestampAge("1300", 1000, 300).inside, true, "the window's edge is inside");
  assert.equal(timestampAge("12a", 1000, 300).inside, undefined);
  assert.deepEqual(signingParts("1234121470820198secret", "secret", "1470820198", "123412").map((p) => p.what), ["nonce", "timestamp", "secret"]);
});

test("shell quoting survives single quotes", () => {
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(""), "''");
  assert.equal(curlCommand("http://h/p", "application/json", "{}"), "curl -sS -X POST 'http://h/p' -H 'Content-Type: application/json' --data-binary '{}'");
  assert.match(randomNonce(), /^\d{1,19}$/);
});

test("buildBody refuses what it cannot write, naming the row", () => {
  const rows = [{ name: "a", type: "number", value: "01" }];
  assert.throws(() => buildBody(rows, "json"), (e) => e instanceof ComposeError && e.index === 0);
  assert.throws(() => buildBody([{ name: "a", type: "string", value: "" }, { name: "a", type: "string", value: "" }], "json"), ComposeError);
  assert.throws(() => buildBody([{ name: "", type: "string", value: "" }], "json"), ComposeError);
  assert.throws(() => buildBody([{ name: "x", type: "json", value: "[1,]" }], "json"), ComposeError);
  assert.equal(buildBody([{ name: "id", type: "number", value: "858012925204410400" }], "json").body, '{"id":858012925204410400}');
});

test("ZEGO's known answer through the page's module build", needsApi, () => {
  assert.equal(api.sign("secret", "1470820198", "123412"), "5bd59fd62953a8059fb7eaba95720f66d19e4517");
  const s = analyzeSignature(api, { members: jsonMembers(fixture("signed/unknown_event.json")), secretText: index.secret, now: 1689835223, tolerance: 300 });
  assert.equal(s.valid, true);
  assert.equal(s.fields.timestamp.name, "Timestamp");
  assert.equal(s.age.inside, true);
  const rotated = analyzeSignature(api, { members: jsonMembers(fixture("signed/mix_stop_rotated.json")), secretText: "wrong, zego-fixture-secret-next", now: 0, tolerance: 300 });
  assert.equal(rotated.valid, true);
  assert.deepEqual(rotated.results.map((r) => r.match), [false, true]);
});

test("every fixture: rows for every field, the module's error on the field at fault", needsApi, () => {
  for (const f of index.fixtures) {
    const bytes = readFileSync(join(fixtures, f.file));
    const text = new TextDecoder().decode(bytes);
    const { members, error: scanError } = bodyMembers(text, f.content_type);
    let parsed = null;
    let error = null;
    try {
      parsed = api.parse(bytes, f.content_type);
    } catch (e) {
      error = e;
    }
    assert.equal(error?.code, f.error, f.file);
    const { rows } = fieldRows({ members, parsed, error, schemas: api.schemas, envelopeNames: api.envelopeNames });
    if (parsed) {
      assert.ok(!scanError, `${f.file}: the page reads what the module reads`);
      assert.ok(rows.length >= 5 && rows.every((r) => r.typed !== undefined), f.file);
    }
    if (error?.field) assert.ok(rows.some((r) => r.fault && r.name === error.field), f.file);
  }
});

test("editor rows round-trip: signed, written as JSON and as form, received by the module", needsApi, () => {
  for (const file of ["seeds/stream_create.json", "seeds/room_close.json", "signed/stream_create.form", "signed/stream_create_json_arrays.form", "signed/unknown_event.json"]) {
    const ct = index.fixtures.find((f) => f.file === file).content_type;
    const { members } = bodyMembers(fixture(file), ct);
    const parsed = api.parse(fixture(file), ct);
    const schema = api.schemas.find((s) => s.event === parsed.event);
    const rows = signRows(api, editorRows(members, schema), { secret: "s3", timestamp: "1700000000", nonce: "99" });
    for (const format of ["json", "form"]) {
      const out = buildBody(rows, format);
      const cb = api.receive(out.body, { secret: "s3", contentType: out.contentType, now: 1700000000 });
      assert.equal(cb.event, parsed.event, `${file} as ${format}`);
      if (parsed.known) {
        assert.equal(cb.room_session_id, parsed.room_session_id, `${file} as ${format}`);
        assert.deepEqual(cb.rtmp_url, parsed.rtmp_url, `${file} as ${format}`);
      }
    }
  }
});

test("the sample history: the same list for shuffled, duplicated deliveries", needsApi, (t) => {
  if (!hasLiveList(api)) {
    t.skip("api.LiveList is missing from www/pkg");
    return;
  }
  const items = sampleHistory(api, { secret: index.secret, nowSeconds: 1_700_000_000 });
  const cbs = items.map((i) => api.parse(i.body, i.contentType));
  for (const cb of cbs) assert.ok(api.verifySignature(index.secret, String(cb.timestamp), cb.nonce, cb.signature));
  const inOrder = replay(api, cbs);
  assert.deepEqual(inOrder.streams.map((s) => [s.room_id, s.stream_id, s.room_session_id, s.stream_seq]), [
    ["room-7", "host", "858012925204410467", 1],
    ["room-9", "solo", "1234567", 1],
  ]);
  assert.deepEqual(inOrder.mixes.map((m) => m.task_id), ["1:mix-b"]);
  for (let seed = 1; seed <= 200; seed++) {
    const order = shuffledOrder(cbs.length, seed, { duplicates: seed % 2 === 0 });
    assert.ok(sameList(replay(api, order.map((i) => cbs[i])), inOrder), `seed ${seed}`);
  }
  assert.deepEqual(shuffledOrder(12, 7), shuffledOrder(12, 7), "a seed names one order");
});

test("feed: the subscription URL of an app or a room, ws or wss, token and appid in the query", () => {
  assert.equal(String(subscribeUrl("http://127.0.0.1:8787", { appid: "1", token: "t k" })), "ws://127.0.0.1:8787/subscribe?appid=1&token=t+k");
  assert.equal(String(subscribeUrl("https://w.example/base/", { room: "房间:1" })), "wss://w.example/base/rooms/%E6%88%BF%E9%97%B4%3A1/subscribe");
  assert.throws(() => subscribeUrl("ftp://x"), TypeError);
  assert.throws(() => subscribeUrl("not a url"), TypeError);
});

test("feed: a snapshot, then changes; ids stay exact strings; bars open and close", () => {
  const big = "858012925204410401";
  const live = (stream, t, session = big) => ({ room_id: "r", stream_id: stream, room_session_id: session, stream_seq: 1, create_time_ms: t });
  const feed = emptyFeed();
  applyFrame(feed, { type: "snapshot", appid: "1", at: 1000, streams: [live("a", 100)], mixes: [{ task_id: "m", seq: 1 }] });
  assert.deepEqual(feedStreams(feed).map((s) => s.room_session_id), [big]);
  assert.deepEqual(feedMixes(feed).map((m) => m.task_id), ["m"]);
  applyFrame(feed, { type: "change", appid: "1", at: 1100, kind: "stream", key: "s:r:b", room_id: "r", stream_id: "b", record: { state: "live", stream: live("b", 1050) } });
  // Closed by stream_close: the bar ends at the close's own time.
  applyFrame(feed, { type: "change", at: 1300, kind: "stream", room_id: "r", stream_id: "a", record: { state: "closed", version: { kind: "close", time_ms: 1200, room_session_id: big } } });
  // Ended by room_close (its version is the create's): the bar ends when it was applied.
  applyFrame(feed, { type: "change", at: 1400, kind: "stream", room_id: "r", stream_id: "b", record: { state: "closed", version: { kind: "create", time_ms: 1050 } } });
  applyFrame(feed, { type: "change", at: 1500, kind: "mix", task_id: "m", record: { state: "stopped", task_id: "m" } });
  assert.deepEqual(feedStreams(feed), []);
  assert.deepEqual(feedMixes(feed), []);
  assert.deepEqual(feed.bars.map((b) => [b.stream_id, b.start, b.end]), [["a", 100, 1200], ["b", 1050, 1400]]);
  // A stream re-published in a later session is a new bar.
  applyFrame(feed, { type: "change", at: 1600, kind: "stream", room_id: "r", stream_id: "a", record: { state: "live", stream: live("a", 1550, "7") } });
  assert.deepEqual(feed.bars.map((b) => [b.stream_id, b.room_session_id, b.end]), [["a", big, 1200], ["b", big, 1400], ["a", "7", null]]);
  assert.equal(feed.frames, 6);
  // A new snapshot closes what is gone and keeps what is live.
  applyFrame(feed, { type: "snapshot", appid: "1", at: 2000, streams: [] });
  assert.deepEqual(feed.bars.at(-1).end, 2000);
});

test("feed: the timeline places each room's bars on one axis up to now", () => {
  const feed = emptyFeed();
  applyFrame(feed, {
    type: "snapshot",
    at: 0,
    streams: [
      { room_id: "b", stream_id: "x", room_session_id: "1", create_time_ms: 0 },
      { room_id: "a", stream_id: "y", room_session_id: "1", create_time_ms: 500 },
    ],
  });
  applyFrame(feed, { type: "change", at: 750, kind: "stream", room_id: "a", stream_id: "y", record: { state: "closed", version: { kind: "close", time_ms: 750 } } });
  const line = timeline(feed, 1000, { window: "all" });
  assert.deepEqual([line.from, line.to], [0, 1000]);
  assert.deepEqual(line.rooms.map((r) => r.room_id), ["a", "b"]);
  const [y] = line.rooms[0].lanes[0].bars;
  assert.deepEqual([y.left, y.width, y.open], [50, 25, false]);
  const [x] = line.rooms[1].lanes[0].bars;
  assert.deepEqual([x.left, x.width, x.open], [0, 100, true]);
  // Streams of one room that overlap get a lane each.
  applyFrame(feed, { type: "change", at: 900, kind: "stream", room_id: "b", stream_id: "z", record: { state: "live", stream: { room_id: "b", stream_id: "z", room_session_id: "1", create_time_ms: 800 } } });
  assert.deepEqual(timeline(feed, 1000, { window: "all" }).rooms[1].lanes.map((l) => l.stream_id), ["x", "z"]);
  assert.deepEqual(timeline(emptyFeed(), 5).rooms, []);
});

test("feed: a later session's bar cuts short the one its room's close ended late", () => {
  const feed = emptyFeed();
  const live = (session, t) => ({ state: "live", stream: { room_id: "r", stream_id: "host", room_session_id: session, create_time_ms: t } });
  applyFrame(feed, { type: "snapshot", at: 0, streams: [] });
  applyFrame(feed, { type: "change", at: 100, kind: "stream", room_id: "r", stream_id: "host", record: live("7", 100) });
  // room_close applied at 900, though the next session's create says it was over by 500.
  applyFrame(feed, { type: "change", at: 900, kind: "stream", room_id: "r", stream_id: "host", record: { state: "closed", version: { kind: "create", time_ms: 100 } } });
  applyFrame(feed, { type: "change", at: 950, kind: "stream", room_id: "r", stream_id: "host", record: live("8", 500) });
  assert.deepEqual(feed.bars.map((b) => [b.id, b.room_session_id, b.start, b.end]), [[1, "7", 100, 500], [2, "8", 500, null]]);
});

test("feed: corrections of ZEGO's server API: a stream listed from it, then its real record; one a check ended", () => {
  const feed = emptyFeed();
  const big = "18446744073709551615";
  applyFrame(feed, { type: "snapshot", at: 0, streams: [{ room_id: "r", stream_id: "a", room_session_id: big, create_time_ms: 100 }] });
  // b's stream_create was lost: a check lists it from ZEGO's answer, session 0.
  const fromApi = { room_id: "r", stream_id: "b", room_session_id: "0", create_time_ms: 200, source: "zego_api" };
  applyFrame(feed, { type: "change", at: 300, kind: "stream", room_id: "r", stream_id: "b", record: { state: "live", stream: fromApi } });
  assert.deepEqual(feed.corrections, [{ at: 300, kind: "listed", room_id: "r", stream_id: "b" }]);
  assert.equal(feed.bars[1].source, "zego_api");
  // Its real create arrives: the same bar, now the real session's.
  applyFrame(feed, { type: "change", at: 400, kind: "stream", room_id: "r", stream_id: "b", record: { state: "live", stream: { ...fromApi, room_session_id: big, create_time_ms: 210, source: undefined } } });
  assert.deepEqual(feed.bars.map((b) => [b.stream_id, b.room_session_id, b.start, b.end, b.source]), [["a", big, 100, null, null], ["b", big, 210, null, null]]);
  assert.equal(feed.corrections.length, 1, "a real record is no correction");
  // a's stream_close was lost: the check's tombstone keeps a's own version (a close at its
  // creation time), and the bar ends when it was applied, not then.
  applyFrame(feed, { type: "change", at: 900, kind: "stream", room_id: "r", stream_id: "a", record: { state: "closed", reason: "reconciled", version: { kind: "close", time_ms: 100, room_session_id: big } } });
  assert.deepEqual([feed.bars[0].end, feed.bars[0].reason], [900, "reconciled"]);
  assert.deepEqual(feed.corrections.at(-1), { at: 900, kind: "ended", room_id: "r", stream_id: "a" });
  assert.deepEqual(feedStreams(feed).map((s) => s.stream_id), ["b"]);
  // A stream_close ends its bar at its own time, with no reason.
  applyFrame(feed, { type: "change", at: 1000, kind: "stream", room_id: "r", stream_id: "b", record: { state: "closed", version: { kind: "close", time_ms: 950 } } });
  assert.deepEqual([feed.bars[1].end, feed.bars[1].reason], [950, null]);
  // Only the latest corrections are kept.
  for (let i = 0; i < 30; i++) {
    applyFrame(feed, { type: "change", at: 2000 + i, kind: "stream", room_id: "r", stream_id: `s${i}`, record: { state: "live", stream: { ...fromApi, stream_id: `s${i}` } } });
  }
  assert.equal(feed.corrections.length, 20);
  assert.equal(feed.corrections.at(-1).stream_id, "s29");
});

test("feed: why a subscription was refused, from the Worker's answer over plain HTTP", () => {
  assert.equal(String(probeUrl("wss://w.example/rooms/a%3Ab/subscribe?appid=1&token=t")), "https://w.example/rooms/a%3Ab/subscribe?appid=1&token=t");
  assert.equal(String(probeUrl("ws://127.0.0.1:8787/subscribe")), "http://127.0.0.1:8787/subscribe");
  const unauthorized = refusal({ status: 401, body: { error: { code: "unauthorized", message: "unauthorized: a valid bearer token is required" } } });
  assert.equal(unauthorized.title, "Could not subscribe: HTTP 401 unauthorized");
  assert.equal(unauthorized.lines[0], "unauthorized: a valid bearer token is required");
  assert.match(unauthorized.lines[1], /READ_TOKEN/);
  const field = refusal({ status: 400, body: { error: { code: "invalid_field", message: "appid: name the app", field: "appid" } } });
  assert.equal(field.title, "Could not subscribe: HTTP 400 invalid_field");
  assert.equal(field.lines[0], "appid: name the app (field appid)");
  // 426: the token passed (the Worker checks it first); the app is checked after the upgrade.
  assert.match(refusal({ status: 426, body: null }, { appid: "" }).title, /App ID needed/);
  assert.match(refusal({ status: 426, body: null }, { appid: "1" }).lines[0], /accepts the token/);
  assert.match(refusal({ status: 404, body: { error: { code: "not_found", message: "not found" } } }).lines[1], /Worker URL/);
  assert.match(refusal({ status: 502, body: null }).title, /HTTP 502$/);
  assert.match(refusal(null).lines[0], /could not be reached/);
  assert.deepEqual([spanText(999), spanText(61_000), spanText(3_725_000), spanText(-5), spanText(3 * 86_400_000 + 7_200_000)], ["0 s", "1 min 1 s", "1 h 2 min", "0 s", "3 d 2 h"]);
});

const DAY = 86_400_000;
const liveStream = (room, stream, t, session = "858012925204410401") => ({ room_id: room, stream_id: stream, room_session_id: session, stream_seq: 1, create_time_ms: t });

test("feed: a create re-sent with a new create_time_ms moves its bar's start with the record", () => {
  const feed = emptyFeed();
  applyFrame(feed, { type: "snapshot", at: 0, streams: [liveStream("r", "s", 1000)] });
  const again = { ...liveStream("r", "s", 4000), stream_seq: 3 };
  applyFrame(feed, { type: "change", at: 4100, kind: "stream", room_id: "r", stream_id: "s", record: { state: "live", stream: again } });
  assert.equal(feed.bars.length, 1, "the same session: still one bar");
  assert.equal(feed.bars[0].start, feedStreams(feed)[0].create_time_ms);
  assert.equal(feed.bars[0].start, 4000);
});

test("timeline: the window follows recent activity; a bar from 2023 is clipped and says when it began", () => {
  const now = Date.UTC(2026, 11, 5, 12, 0, 0);
  const feed = emptyFeed();
  applyFrame(feed, {
    type: "snapshot",
    at: now,
    streams: [liveStream("room1", "stream_id", Date.UTC(2023, 5, 9, 8, 0), "1234567"), liveStream("r2", "a", now - 50_000), liveStream("r2", "b", now - 30_000), liveStream("r2", "c", now - 10_000)],
  });
  const px = { track: 900, char: 7, pad: 4 };
  const line = timeline(feed, now, { px });
  assert.equal(line.window.auto, true);
  assert.ok(line.window.ms >= 55_000 && line.window.ms <= 2 * 60_000, `the window is ${line.window.text}`);
  assert.equal(line.to, now);
  const bars = Object.fromEntries(line.rooms.flatMap((r) => r.lanes.flatMap((l) => l.bars)).map((b) => [b.stream_id, b]));
  assert.deepEqual([bars.stream_id.clipped, bars.stream_id.left, bars.stream_id.width], [true, 0, 100]);
  assert.equal(bars.stream_id.text, "since 2023-06-09 · 1234567");
  for (const id of ["a", "b", "c"]) {
    const b = bars[id];
    assert.equal(b.clipped, false);
    assert.ok(b.left + b.width <= 100 + 1e-9, `${id} stays on its track`);
    assert.ok((b.width / 100) * px.track >= 60, `${id} is ${(b.width / 100) * px.track} px wide`);
    assert.notEqual(b.label, "cut", `${id}'s label is whole`);
  }
  // Relative ticks over a window of a minute or two, "now" at the right edge.
  assert.equal(line.relative, true);
  assert.equal(line.ticks.at(-1).text, "now");
  assert.equal(line.ticks.at(-1).align, "end");
  assert.ok(line.ticks.slice(0, -1).every((t) => / s ago$/.test(t.text)), line.ticks.map((t) => t.text).join(", "));

  // Everything: the axis runs from 2023, and its ticks name years or months with their year.
  const all = timeline(feed, now, { window: "all", px });
  assert.equal(all.from, Date.UTC(2023, 5, 9, 8, 0));
  assert.equal(all.relative, false);
  assert.ok(all.ticks.length >= 2 && all.ticks.every((t) => /\b20\d\d$/.test(t.text)), all.ticks.map((t) => t.text).join(", "));
  assert.ok(all.rooms.flatMap((r) => r.lanes.flatMap((l) => l.bars)).every((b) => !b.clipped));
});

test("timeline: auto fits the latest activity when nothing is recent; ended bars before the window are counted", () => {
  const now = Date.UTC(2026, 11, 5);
  const feed = emptyFeed();
  applyFrame(feed, { type: "snapshot", at: 0, streams: [liveStream("r", "old", Date.UTC(2023, 5, 9))] });
  assert.equal(chooseWindow(feed.bars, now).id, "all", "only a stream from 2023: everything");
  applyFrame(feed, { type: "change", at: now - 2 * DAY, kind: "stream", room_id: "r", stream_id: "old", record: { state: "closed", version: { kind: "close", time_ms: now - 2 * DAY } } });
  assert.equal(chooseWindow(feed.bars, now).id, "3d", "its end two days ago");
  applyFrame(feed, { type: "change", at: now - 20_000, kind: "stream", room_id: "r", stream_id: "new", record: { state: "live", stream: liveStream("r", "new", now - 20_000) } });
  const line = timeline(feed, now);
  assert.equal(line.window.id, "1m");
  assert.equal(line.hidden, 1);
  assert.deepEqual(line.rooms.flatMap((r) => r.lanes.map((l) => l.stream_id)), ["new"]);
  // A window chosen by the reader: here wide enough for both.
  const week = timeline(feed, now, { window: "7d" });
  assert.deepEqual([week.window.auto, week.hidden, week.from], [false, 0, now - 7 * DAY]);
  assert.deepEqual(WINDOWS.map((w) => w.ms).filter(Boolean), WINDOWS.map((w) => w.ms).filter(Boolean).sort((a, b) => a - b), "narrowest first");
});

test("timeline: a label goes in its bar, else beside it where the lane has room, else is cut", () => {
  const px = { track: 1000, char: 7, pad: 4 };
  const bar = (id, left, width, text = "858012925204410401") => ({ id, left, width, text });
  // 18 characters: 134 px with padding.
  const placed = placeLabels([bar(3, 95, 5), bar(1, 0, 20), bar(2, 30, 2)], px);
  assert.deepEqual(placed.map((b) => [b.id, b.label]), [[1, "in"], [2, "right"], [3, "left"]]);
  // No room on either side: cut, never spilling over the next bar or off the track.
  const tight = { ...px, track: 200 };
  assert.deepEqual(placeLabels([bar(1, 0, 20), bar(2, 22, 20), bar(3, 44, 56)], tight).map((b) => b.label), ["cut", "cut", "cut"]);
  // A bar narrower than MIN_BAR_PX is drawn that wide, its label beside it.
  assert.equal(placeLabels([bar(1, 50, 0, "7")], px)[0].label, "right");
  assert.ok(MIN_BAR_PX > 0);
});

test("timeline: the axis says what it marks, and its texts never touch or leave the track", () => {
  const char = 7;
  const texts = (from, to, opts = {}) => axisTicks(from, to, { px: { track: 900, char, pad: 4 }, ...opts }).map((t) => t.text);
  const from = Date.UTC(2026, 10, 24, 17, 52, 3, 477);
  assert.deepEqual(texts(from, from + 64_000), ["17:52:10", "17:52:20", "17:52:30", "17:52:40", "17:52:50", "17:53:00"]);
  assert.deepEqual(texts(0, 3 * 3600_000), ["Jan 1", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00"]);
  assert.deepEqual(texts(Date.UTC(2026, 10, 24, 20), Date.UTC(2026, 10, 25, 8)), ["20:00", "22:00", "Nov 25", "02:00", "04:00", "06:00", "08:00"]);
  assert.deepEqual(texts(Date.UTC(2026, 10, 20, 6), Date.UTC(2026, 10, 30)), ["Nov 21", "Nov 23", "Nov 25", "Nov 27", "Nov 29"]);
  // Dates carry their year when the window spans two; long windows are marked in years.
  assert.ok(texts(Date.UTC(2025, 11, 20), Date.UTC(2026, 0, 10)).every((t) => / 202[56]$/.test(t)));
  assert.deepEqual(texts(Date.UTC(2023, 5, 9), Date.UTC(2026, 11, 5)), ["2024", "2025", "2026"]);
  // Back from now within an hour.
  assert.deepEqual(texts(0, 5 * 60_000, { relative: true }), ["5 min ago", "4 min ago", "3 min ago", "2 min ago", "1 min ago", "now"]);
  assert.deepEqual(texts(5, 5), []);
  for (const track of [120, 250, 400, 900, 1600]) {
    for (const span of [900, 61_000, 3_600_000, 5 * 3_600_000, 3 * DAY, 40 * DAY, 400 * DAY, 3.5 * 365 * DAY]) {
      for (const relative of [false, true]) {
        const marks = axisTicks(from - span, from, { relative: relative && span <= 3_600_000, px: { track, char, pad: 4 } });
        let end = -Infinity;
        for (const m of marks) {
          const x = (m.left / 100) * track;
          const w = m.text.length * char;
          const x0 = m.align === "start" ? x : m.align === "end" ? x - w : x - w / 2;
          assert.ok(x0 >= -1e-6 && x0 + w <= track + 1e-6, `${m.text} inside a ${track} px track (span ${span})`);
          assert.ok(x0 > end, `${m.text} clear of the tick before it (track ${track}, span ${span})`);
          end = x0 + w;
        }
      }
    }
  }
});
