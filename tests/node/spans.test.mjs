// receive() builds a callback from spans of the body (src/spans.rs, the generated builders)
// and falls back to the full path, which writes the callback as JSON, for anything else.
// Here both run on the same inputs and must agree exactly: the same object with its keys in
// the same order, or the same error. Inputs: every fixture, the fixtures with bytes changed
// (the signature covers only the secret, timestamp and nonce, so most stay signed), and
// bodies generated from every event's schema with ZEGO's variations (numbers as strings,
// leading zeros, escapes, non-ASCII text, nulls, extra fields, repeated names, a BOM...).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(import.meta.url);
const zego = require(join(root, "pkg", "index.cjs"));
// The wasm-bindgen module under the API: the same instance (require's cache).
const raw = require(join(root, "pkg", "node", "zego_callback.js"));

const fixturesDir = join(root, "tests", "fixtures");
const manifest = JSON.parse(readFileSync(join(fixturesDir, "index.json"), "utf8"));
const SECRET = manifest.secret;
const encoder = new TextEncoder();

// Counts the receives that took the full path: the API asks for its JSON by takeResult.
let fullPath = 0;
const takeResult = raw.takeResult;
raw.takeResult = (...args) => {
  fullPath++;
  return takeResult(...args);
};

function outcome(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    if (typeof e === "string") {
      const { code, message, field } = JSON.parse(e);
      return { code, message, field: field ?? undefined };
    }
    if (e instanceof zego.ZegoCallbackError) return { code: e.code, message: e.message, field: e.field };
    throw e;
  }
}

/** The full path on its own: bytes in, the callback's JSON (or the error's) out. */
function viaJson(body, { secret, contentType, now, toleranceSeconds = 300, maxBodyBytes = 65536 }) {
  const bytes = typeof body === "string" ? encoder.encode(body) : new Uint8Array(body);
  const secrets = typeof secret === "string" ? [secret] : secret;
  return outcome(() => JSON.parse(raw.receiveBytes(bytes, secrets, contentType ?? undefined, now, toleranceSeconds, maxBodyBytes)));
}

let compared = 0;
function agree(body, options, label) {
  const expected = viaJson(body, options);
  const before = fullPath;
  const got = outcome(() => zego.receive(body, options));
  if ("ok" in expected && "ok" in got) {
    // Same keys in the same order, same values (JSON.stringify drops nothing here: no
    // undefined, no functions), and the same object shape for deep equality.
    assert.equal(JSON.stringify(got.ok), JSON.stringify(expected.ok), label);
    assert.deepStrictEqual(got.ok, expected.ok, label);
    assert.equal(Object.getPrototypeOf(got.ok), Object.prototype, label);
  } else {
    assert.deepStrictEqual(got, expected, label);
  }
  compared++;
  return fullPath === before && "ok" in got ? "spans" : "full";
}

// A small seeded generator, so a failure names a case that can be run again.
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)], chance: (p) => next() < p };
}

const signedFixtures = manifest.fixtures.filter((f) => f.now !== undefined && f.expect === undefined && f.secret !== null);

test("every fixture: the same callback or the same error on both paths", () => {
  let spans = 0;
  for (const f of manifest.fixtures) {
    const bytes = readFileSync(join(fixturesDir, f.file));
    const secret = typeof f.secret === "string" ? f.secret : SECRET;
    const now = f.now ?? 1687981272;
    for (const body of [bytes, bytes.toString("utf8")]) {
      if (agree(body, { secret, contentType: f.content_type ?? undefined, now }, f.file) === "spans") spans++;
      agree(body, { secret: ["not-it", secret], contentType: f.content_type ?? undefined, now }, `${f.file}, two secrets`);
      agree(body, { secret: ["a", "b", secret], contentType: f.content_type ?? undefined, now }, `${f.file}, three secrets`);
    }
  }
  // The documented JSON events take the span path (else this test compares nothing new).
  assert.ok(spans >= 10, `only ${spans} fixtures took the span path`);
});

test("fixtures with bytes replaced, inserted or removed (still signed)", () => {
  const rand = prng(0x5eed);
  const bodies = signedFixtures.map((f) => ({ f, bytes: readFileSync(join(fixturesDir, f.file)) }));
  const alphabet = [..."\"\\{}[]:,0123456789-+.eE \t\n\r/u", "\u00e9", "\u4e2d", "\u{1F600}"].map((c) => encoder.encode(c));
  let spans = 0;
  for (let i = 0; i < 3000; i++) {
    const { f, bytes } = rand.pick(bodies);
    let body = Buffer.from(bytes);
    for (let edits = 1 + rand.int(4); edits > 0; edits--) {
      const at = rand.int(body.length);
      const piece = rand.chance(0.2) ? Buffer.from([rand.int(256)]) : Buffer.from(rand.pick(alphabet));
      const op = rand.int(3);
      if (op === 0) body = Buffer.concat([body.subarray(0, at), piece, body.subarray(at + 1)]);
      else if (op === 1) body = Buffer.concat([body.subarray(0, at), piece, body.subarray(at)]);
      else body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
    }
    const options = { secret: SECRET, contentType: f.content_type ?? undefined, now: f.now };
    if (agree(body, options, `${f.file}, mutation ${i}: ${body.toString("latin1")}`) === "spans") spans++;
    agree(body.toString("utf8"), options, `${f.file}, mutation ${i} as a string`);
  }
  assert.ok(spans > 150, `only ${spans} mutated fixtures took the span path`);
});

// ---------------------------------------------------------------------------------------
// Bodies generated from the schemas.

const NOW = 1700000000;
const words = ["room1", "user_1", "x", "", "a b", "\u5f20\u4e09", "caf\u00e9", "\u{1F600}go", 'say "hi"', "back\\slash", "line\nbreak", "tab\tstop", "/path/", "\u00a0"];
const extraNames = ["z_new", "a_new", "known", "extra", "codec", "Event", "Timestamp", "__proto__", "constructor", "\u540d\u5b57", "has space", "toString"];

function jsonString(rand, s) {
  // Sometimes a letter as a \u escape, which JSON allows anywhere.
  const text = JSON.stringify(s);
  return rand.chance(0.1) ? text.replace(/[a-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : text;
}

function digitsValue(rand, n) {
  const text = String(n);
  switch (rand.int(5)) {
    case 0:
      return text; // a JSON number
    case 1:
      return `"0${text}"`; // a leading zero
    default:
      return `"${text}"`;
  }
}

function extraValue(rand) {
  return rand.pick([
    () => jsonString(rand, rand.pick(words)),
    () => rand.pick(["0", "-0", "12", "-7", "9007199254740991", "9007199254740992", "-9007199254740993", "1.5", "1e3", "858012925204410401", "0.0"]),
    () => rand.pick(["true", "false", "null"]),
    () => rand.pick(["[]", '["a","b"]', '["\\u00e9"]', "[1]", '["a",null]', "{}", '{"a":1}', "[[]]"]),
  ])();
}

function fieldValue(rand, field) {
  const r = rand.next();
  if (r < 0.04) return "null";
  switch (field.kind) {
    case "integer":
      if (r < 0.08) return '""';
      if (r < 0.1) return rand.pick(["-1", "1.0", '"1e3"', "true", '"abc"', "9007199254740992"]);
      return digitsValue(rand, rand.pick([0, 1, 7, 1700000000123, 9007199254740991]));
    case "app_id":
      if (r < 0.08) return rand.pick(["4294967296", '""', '"-1"']);
      return digitsValue(rand, rand.pick([1, 3575801402, 4294967295]));
    case "id":
      if (r < 0.08) return rand.pick(['"18446744073709551616"', '"-5"', '""', "1.5"]);
      return digitsValue(rand, rand.pick(["0", "1234567", "858012925204410401", "18446744073709551615"]));
    case "strings":
      return rand.pick([
        '["rtmp://a/b","rtmp://c/d"]',
        "[]",
        '"rtmp://single"',
        '""',
        '"[\\"rtmp://in-a-string\\"]"',
        '["with \\"quote\\"","\\u4e2d"]',
        '["\u4e2d\u6587"]',
        "[1]",
        "{}",
        "true",
        "12",
      ]);
    case "stream_attr":
      return rand.pick(['"{\\"cid\\":0}"', '"{\\"cid\\":3}"', '"{\\"cid\\":\\"1\\"}"', '"{\\"cid\\":01}"', '"{\\"cid\\":4294967296}"', '"{cid:0"', '""', "7", '"{\\"cid\\":9}"']);
    default:
      if (r < 0.07) return rand.pick(["12", "true", "[]", "{}", "1.5"]);
      return jsonString(rand, rand.pick(words));
  }
}

function generated(rand, schema) {
  const timestamp = rand.chance(0.1) ? `0${NOW}` : String(NOW);
  const nonce = rand.pick(["350176", "7254119327986670314", "n-\u00e9", "n1"]);
  const entries = [];
  for (const field of schema.fields) {
    let value;
    switch (field.name) {
      case "event":
        value = JSON.stringify(schema.event);
        break;
      case "timestamp":
        value = rand.chance(0.3) ? timestamp : `"${timestamp}"`;
        break;
      case "nonce":
        value = rand.chance(0.2) && /^\d+$/.test(nonce) ? nonce : JSON.stringify(nonce);
        break;
      case "signature": {
        const sig = zego.sign(SECRET, timestamp, nonce);
        value = JSON.stringify(rand.chance(0.1) ? sig.toUpperCase() : rand.chance(0.03) ? sig.replace(/^./, "f") : sig);
        break;
      }
      default:
        if (!field.required && rand.chance(0.15)) continue;
        if (field.required && rand.chance(0.01)) continue;
        value = fieldValue(rand, field);
    }
    entries.push([JSON.stringify(field.name), value]);
  }
  for (let n = rand.chance(0.3) ? 1 + rand.int(4) : 0; n > 0; n--) {
    entries.push([jsonString(rand, rand.pick(extraNames)), extraValue(rand)]);
  }
  if (rand.chance(0.03)) entries.push(rand.pick(entries));
  if (rand.chance(0.5)) {
    for (let i = entries.length - 1; i > 0; i--) {
      const j = rand.int(i + 1);
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
  }
  const pretty = rand.chance(0.3);
  const body = pretty
    ? `{\n${entries.map(([k, v]) => `    ${k}: ${v}`).join(",\n")}\n}\n`
    : `{${entries.map(([k, v]) => `${k}:${v}`).join(",")}}`;
  return rand.pick(["", "", "", "\uFEFF", " \t", "\f"]) + body;
}

test("bodies generated from every event's schema", () => {
  const rand = prng(0xc0ffee);
  const contentTypes = [undefined, "application/json", "application/json; charset=utf-8", "text/plain", "application/vnd.zego+json"];
  let spans = 0;
  const total = 4000;
  for (let i = 0; i < total; i++) {
    const schema = rand.pick(zego.schemas);
    const body = generated(rand, schema);
    const options = {
      secret: rand.chance(0.9) ? SECRET : ["old", SECRET],
      contentType: rand.pick(contentTypes),
      now: NOW + rand.pick([0, 0, 0, 300, -300, 301]),
    };
    const input = rand.chance(0.5) ? body : Buffer.from(body);
    if (agree(input, options, `generated ${i} (${schema.event}): ${body}`) === "spans") spans++;
  }
  assert.ok(spans > total / 4, `only ${spans} of ${total} generated bodies took the span path`);
});

test("a string with a lone surrogate is read as the UTF-8 it was received as", () => {
  const body = `{"event":"mix_stop","appid":1,"timestamp":"${NOW}","nonce":"n","signature":"${zego.sign(SECRET, String(NOW), "n")}","seq":1,"task_id":"t\ud800x"}`;
  const kind = agree(body, { secret: SECRET, now: NOW }, "lone surrogate");
  assert.equal(kind, "spans");
  assert.equal(zego.receive(body, { secret: SECRET, now: NOW }).task_id, "t\ufffdx");
});

test("the texts kept in wasm memory between calls follow each change of secret or type", () => {
  const f = signedFixtures.find((x) => x.file === "signed/stream_create.json");
  const body = readFileSync(join(fixturesDir, f.file), "utf8");
  const { timestamp, nonce, signature } = JSON.parse(body);
  const ok = { secret: SECRET, now: f.now };
  const steps = [
    () => zego.receive(body, ok).event,
    () => outcome(() => zego.receive(body, { ...ok, secret: "other" })).code,
    () => zego.receive(body, ok).event,
    () => zego.verifySignature(SECRET, timestamp, nonce, signature),
    () => zego.receive(body, { ...ok, contentType: "application/json" }).event,
    () => outcome(() => zego.receive(body, { ...ok, contentType: "application/xml" })).code,
    () => zego.receive(body, { ...ok, secret: ["other", SECRET] }).event,
    () => outcome(() => zego.receive(body, { ...ok, secret: [SECRET.slice(1), "other"] })).code,
    () => zego.receive(Buffer.from(body), ok).event,
    () => zego.verifySignature("other", timestamp, nonce, signature),
    () => zego.receive(body, ok).event,
  ];
  const expected = [
    "stream_create", "invalid_signature", "stream_create", true, "stream_create",
    "unsupported_content_type", "stream_create", "invalid_signature", "stream_create", false, "stream_create",
  ];
  for (let round = 0; round < 3; round++) assert.deepEqual(steps.map((step) => step()), expected);
});

test("a body past the span buffer's size takes the full path, and the next one is still right", () => {
  const f = signedFixtures.find((x) => x.file === "signed/stream_create.json");
  const body = readFileSync(join(fixturesDir, f.file), "utf8");
  // 230 extras (5 words each) pass the span buffer's 1,024 words while the body stays
  // within the 256 members an object may have.
  const extras = Array.from({ length: 230 }, (_, i) => `"x${i}":"v${i}"`).join(",");
  const big = body.replace(/\}\s*$/, `,${extras}}`);
  const options = { secret: SECRET, now: f.now };
  assert.equal(agree(big, options, "230 extras"), "full");
  assert.equal(zego.receive(big, options).extra.x229, "v229");
  for (let i = 0; i < 3; i++) assert.equal(agree(body, options, "after 230 extras"), "spans");
});

test("the comparison ran", () => {
  assert.ok(compared > 9000, `${compared} comparisons`);
});
