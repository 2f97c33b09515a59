// Throughput of the npm module against what a user would write with node:crypto instead.
//
//   npm run bench            (or: node bench/receive.mjs)
//
// Everything runs in one process on one fixture: tests/fixtures/signed/stream_create.json,
// signed with the fixture secret, received at the `now` its manifest entry gives. Each case
// is warmed up, then timed for a fixed duration per round; the rounds are interleaved so that
// drift (CPU frequency, GC) hits every case alike, and the median ops/s is reported.
//
// This prints figures; it never fails on them. It does refuse to time a pure-JS receiver that
// disagrees with the module on the fixture, a tampered signature or a stale timestamp, since
// timing a receiver that checks less would be meaningless.

import { execFileSync } from "node:child_process";
import * as nodeCrypto from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const { createHash, timingSafeEqual } = nodeCrypto;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const require = createRequire(import.meta.url);

const pkgEntry = join(root, "pkg", "index.cjs");
const wasmFile = join(root, "pkg", "web", "zego_callback_bg.wasm"); // the one .wasm every entry loads
try {
  statSync(pkgEntry);
} catch {
  console.error("pkg/ is missing: build it first with `npm run build:pkg`.");
  process.exit(1);
}

const zego = require(pkgEntry);
// The wasm-bindgen module under the public API (the same instance, from require's cache), for
// the informational rows that leave out the wrapper or the final JSON.parse.
const raw = require(join(root, "pkg", "node", "zego_callback.js"));

// ---------------------------------------------------------------------------------------------
// The fixture.

const fixturesDir = join(root, "tests", "fixtures");
const manifest = JSON.parse(readFileSync(join(fixturesDir, "index.json"), "utf8"));
const FIXTURE = "signed/stream_create.json";
const entry = manifest.fixtures.find((f) => f.file === FIXTURE);
if (!entry) throw new Error(`${FIXTURE} is not in tests/fixtures/index.json`);
const SECRET = typeof entry.secret === "string" ? entry.secret : manifest.secret;
const NOW = entry.now;
const CONTENT_TYPE = entry.content_type;
const BODY = readFileSync(join(fixturesDir, FIXTURE), "utf8");
const { timestamp: TIMESTAMP, nonce: NONCE, signature: SIGNATURE } = JSON.parse(BODY);
const TOLERANCE = zego.defaults.toleranceSeconds;

// ---------------------------------------------------------------------------------------------
// The pure-JS receiver a user would write instead: JSON.parse, SHA-1 over the sorted values,
// a constant-time comparison after a length check, and the timestamp window. It checks what
// the module's receive checks before typing fields (body is an object; timestamp, nonce and
// signature are present strings; the signature is 40 hex digits in either case and matches;
// the timestamp is decimal digits within the window). It does not type the other fields,
// which is the module's extra work, so the comparison flatters the pure-JS side if anything.
//
// Of the ways to write the signature check with node:crypto, this is the fastest that is
// correct (constant time, either case), so the ratios are against the hardest plain
// reference: the one-shot `hash("sha1", text)` (Node 20.12, 21.7 and later; about 0.5 us less
// than `createHash("sha1").update(text).digest("hex")` here), its hex compared with
// `timingSafeEqual` on the two strings' Buffers once their lengths agree. Decoding the
// signature from hex and comparing raw digests instead (`digest()` against
// `Buffer.from(signature, "hex")`, what this used to time) is the slowest of the forms.

class CallbackRejected extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

const DIGITS = /^[0-9]+$/;

const HAS_ONE_SHOT_HASH = typeof nodeCrypto.hash === "function";
const REFERENCE = HAS_ONE_SHOT_HASH
  ? 'hash("sha1", [secret, timestamp, nonce].sort().join(""))'
  : 'createHash("sha1").update([secret, timestamp, nonce].sort().join("")).digest("hex") (this Node has no crypto.hash)';
const sha1Hex = HAS_ONE_SHOT_HASH
  ? (text) => nodeCrypto.hash("sha1", text)
  : (text) => createHash("sha1").update(text).digest("hex");

function jsSignatureMatches(secret, timestamp, nonce, signature) {
  const expected = Buffer.from(sha1Hex([secret, timestamp, nonce].sort().join("")));
  // ZEGO sends lower case; the module accepts either, and so does this.
  const received = Buffer.from(signature.toLowerCase());
  return expected.length === received.length && timingSafeEqual(expected, received);
}

function jsReceive(body, secret, now, tolerance = 300) {
  let callback;
  try {
    callback = JSON.parse(body);
  } catch {
    throw new CallbackRejected("malformed_body");
  }
  if (callback === null || typeof callback !== "object" || Array.isArray(callback)) {
    throw new CallbackRejected("malformed_body");
  }
  const { timestamp, nonce, signature } = callback;
  if (typeof timestamp !== "string" || typeof nonce !== "string" || typeof signature !== "string") {
    throw new CallbackRejected("missing_field");
  }
  if (!jsSignatureMatches(secret, timestamp, nonce, signature)) {
    throw new CallbackRejected("invalid_signature");
  }
  if (!DIGITS.test(timestamp)) throw new CallbackRejected("invalid_field");
  const secs = Number(timestamp);
  if (!Number.isSafeInteger(secs)) throw new CallbackRejected("invalid_field");
  if (Math.abs(secs - now) > tolerance) throw new CallbackRejected("timestamp_out_of_window");
  return callback;
}

// ---------------------------------------------------------------------------------------------
// Check that both sides accept and reject the same things before timing them.

function outcome(fn) {
  try {
    fn();
    return "ok";
  } catch (e) {
    return e.code ?? String(e);
  }
}

function sanityCheck() {
  const flipped = SIGNATURE.replace(/^./, (c) => (c === "0" ? "1" : "0"));
  const tampered = BODY.replace(SIGNATURE, flipped);
  const upper = BODY.replace(SIGNATURE, SIGNATURE.toUpperCase());
  const short = BODY.replace(SIGNATURE, SIGNATURE.slice(0, 39));
  const cases = [
    ["fixture", BODY, NOW],
    ["upper-case signature", upper, NOW],
    ["at the window's edge", BODY, NOW + TOLERANCE],
    ["tampered signature", tampered, NOW],
    ["truncated signature", short, NOW],
    ["stale", BODY, NOW + TOLERANCE + 1],
    ["early", BODY, NOW - TOLERANCE - 1],
  ];
  for (const [name, body, now] of cases) {
    const mod = outcome(() => zego.receive(body, { secret: SECRET, now, contentType: CONTENT_TYPE }));
    const js = outcome(() => jsReceive(body, SECRET, now, TOLERANCE));
    if (mod !== js) throw new Error(`receivers disagree on ${name}: module ${mod}, pure JS ${js}`);
  }
  const verifyCases = [SIGNATURE, SIGNATURE.toUpperCase(), flipped, SIGNATURE.slice(0, 39), "", `${SIGNATURE}0`, SIGNATURE.replace(/.$/, "g")];
  for (const sig of verifyCases) {
    const mod = zego.verifySignature(SECRET, TIMESTAMP, NONCE, sig);
    const js = jsSignatureMatches(SECRET, TIMESTAMP, NONCE, sig);
    if (mod !== js) throw new Error(`verifiers disagree on ${JSON.stringify(sig)}: module ${mod}, pure JS ${js}`);
  }
  if (!zego.verifySignature(SECRET, TIMESTAMP, NONCE, SIGNATURE)) {
    throw new Error("the fixture's signature does not verify");
  }
}

// ---------------------------------------------------------------------------------------------
// Timing.

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 500);

// Results are folded into this so that no call can be dropped as dead code.
let sink = 0;

// Runs `fn` in batches until `ms` have passed; returns ops/s. The batch size is picked so that
// reading the clock is a negligible share of the time.
function timeFor(fn, ms, batch) {
  const budget = BigInt(Math.round(ms * 1e6));
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  let ops = 0;
  let acc = 0;
  do {
    for (let i = 0; i < batch; i++) acc += fn();
    ops += batch;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  sink += acc;
  return (ops * 1e9) / Number(elapsed);
}

function batchFor(fn) {
  // Aim for about 1 ms per batch.
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    let acc = 0;
    for (let i = 0; i < batch; i++) acc += fn();
    sink += acc;
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns >= 1e6 || batch >= 1 << 20) return Math.max(1, Math.round((batch * 1e6) / Math.max(ns, 1)));
    batch *= 2;
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------
// The cases. Each returns a number derived from its result.

const receiveOptions = { secret: SECRET, now: NOW, contentType: CONTENT_TYPE };
const ENCODER = new TextEncoder();
const BODY_BYTES = ENCODER.encode(BODY);
const ENCODE_BUFFER = new Uint8Array(4 * BODY.length);
// receive's arguments as it packs them into wasm memory (secret, Content-Type, body), for
// timing the wasm call alone; other cases use the same buffer, so it is copied in each time.
const SECRET_BYTES = ENCODER.encode(SECRET);
const CT_BYTES = ENCODER.encode(CONTENT_TYPE);
const PACKED = new Uint8Array([...SECRET_BYTES, ...CT_BYTES, ...BODY_BYTES]);
const packedAt = raw.scratch(PACKED.length);
let packedBuf = new Uint8Array(0);
const packedView = () => (packedBuf.length ? packedBuf : (packedBuf = new Uint8Array(raw.wasmMemory().buffer, packedAt, PACKED.length)));

const cases = [
  {
    id: "receive.module",
    name: "receive: module receive(body, { secret, now })",
    fn: () => zego.receive(BODY, receiveOptions).stream_id.length,
  },
  {
    id: "receive.js",
    name: "receive: pure JS (JSON.parse + sha1 + timingSafeEqual + window)",
    fn: () => jsReceive(BODY, SECRET, NOW, TOLERANCE).stream_id.length,
  },
  {
    id: "verify.module",
    name: "verifySignature: module verifySignature(secret, ts, nonce, sig)",
    fn: () => (zego.verifySignature(SECRET, TIMESTAMP, NONCE, SIGNATURE) ? 1 : 0),
  },
  {
    id: "verify.js",
    name: `verifySignature: pure JS (${HAS_ONE_SHOT_HASH ? "hash" : "createHash"} sha1 + timingSafeEqual)`,
    fn: () => (jsSignatureMatches(SECRET, TIMESTAMP, NONCE, SIGNATURE) ? 1 : 0),
  },
  {
    id: "parse.module",
    name: "parse: module parse(body)",
    fn: () => zego.parse(BODY, CONTENT_TYPE).stream_id.length,
  },
  {
    id: "parse.js",
    name: "parse: JSON.parse(body)",
    fn: () => JSON.parse(BODY).stream_id.length,
  },
  // Informational: where the module's receive spends its time.
  {
    id: "info.encode",
    name: "info: TextEncoder.encodeInto(body, reused buffer) alone",
    fn: () => ENCODER.encodeInto(BODY, ENCODE_BUFFER).written,
  },
  {
    id: "info.packed",
    name: "info: wasm receivePacked only (scan, verify, type, spans out; 1.2 KB copied in)",
    fn: () => {
      packedView().set(PACKED);
      return raw.receivePacked(SECRET_BYTES.length, -1, CT_BYTES.length, BODY_BYTES.length, NOW, TOLERANCE, 65536);
    },
  },
  {
    id: "info.full",
    name: "info: the full path (wasm receiveBytes to JSON, then JSON.parse)",
    fn: () => JSON.parse(raw.receiveBytes(BODY_BYTES, [SECRET], CONTENT_TYPE, NOW, TOLERANCE, 65536)).stream_id.length,
  },
  {
    id: "info.rawVerify",
    name: "info: wasm verifySignature only (no argument checks)",
    fn: () => (raw.verifySignature([SECRET], TIMESTAMP, NONCE, SIGNATURE) ? 1 : 0),
  },
  {
    id: "info.jsSha1",
    name: "info: node:crypto SHA-1 of the signing string alone, as the pure-JS side hashes",
    fn: () => sha1Hex([SECRET, TIMESTAMP, NONCE].sort().join("")).length,
  },
];

// ---------------------------------------------------------------------------------------------
// Run.

sanityCheck();

console.log(`zego-callback benchmark: ${FIXTURE} (${Buffer.byteLength(BODY)} bytes), now=${NOW}`);
console.log(
  `node ${process.version} on ${process.platform}/${process.arch}; ` +
    `${ROUNDS} rounds x ${ROUND_MS} ms per case, ${WARMUP_MS} ms warm-up, median reported`,
);
console.log(`pure-JS signature check: ${REFERENCE}, timingSafeEqual`);
console.log(`pkg built ${statSync(wasmFile).mtime.toISOString()}`);
console.log("");

for (const c of cases) {
  timeFor(c.fn, WARMUP_MS, batchFor(c.fn));
  c.batch = batchFor(c.fn);
  c.samples = [];
}
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) c.samples.push(timeFor(c.fn, ROUND_MS, c.batch));
}
for (const c of cases) c.ops = median(c.samples);

const byId = Object.fromEntries(cases.map((c) => [c.id, c]));
const fmtOps = (x) => Math.round(x).toLocaleString("en-US");
const fmtNs = (x) => (1e9 / x).toFixed(0);
const spread = (c) => {
  const lo = Math.min(...c.samples);
  const hi = Math.max(...c.samples);
  return `${(((hi - lo) / c.ops) * 100).toFixed(1)}%`;
};

const nameWidth = Math.max(...cases.map((c) => c.name.length));
const header =
  `${"case".padEnd(nameWidth)}  ${"ops/s".padStart(12)}  ${"ns/op".padStart(7)}  ` +
  `${"best ops/s".padStart(12)}  ${"spread".padStart(7)}`;
console.log(header);
console.log("-".repeat(header.length));
for (const c of cases) {
  if (c.id === "info.encode") console.log("");
  console.log(
    `${c.name.padEnd(nameWidth)}  ${fmtOps(c.ops).padStart(12)}  ${fmtNs(c.ops).padStart(7)}  ` +
      `${fmtOps(Math.max(...c.samples)).padStart(12)}  ${spread(c).padStart(7)}`,
  );
}
console.log("(ops/s and ns/op: median of the rounds; best: fastest round; spread: (max - min) / median)");
console.log("");

const goals = [
  ["receive", byId["receive.module"], byId["receive.js"], 2],
  ["verifySignature", byId["verify.module"], byId["verify.js"], 3],
  ["parse (context)", byId["parse.module"], byId["parse.js"], null],
];
console.log(`${"ratio module / pure JS".padEnd(24)}  ${"ratio".padStart(7)}  ${"goal".padStart(6)}  result`);
for (const [name, mod, js, goal] of goals) {
  const ratio = mod.ops / js.ops;
  const verdict = goal == null ? "-" : ratio >= goal ? "met" : "not met";
  console.log(
    `${name.padEnd(24)}  ${(ratio.toFixed(2) + "x").padStart(7)}  ${(goal == null ? "-" : ">= " + goal + "x").padStart(6)}  ${verdict}`,
  );
}
console.log("");

// Where the module's receive goes, from the informational rows (per call, medians). Each row
// is timed on its own, so under load the parts need not add up exactly to the total.
const ns = (id) => 1e9 / byId[id].ops;
const total = ns("receive.module");
const share = (x) => `${x.toFixed(0).padStart(7)} ns  ${((x / total) * 100).toFixed(0).padStart(3)}%`;
console.log("where a module receive goes (medians above, as a share of the module receive):");
console.log(`  module receive, total                               ${share(total)}`);
console.log(`  TextEncoder.encodeInto of the string body          ${share(ns("info.encode"))}`);
console.log(`  wasm: scan, verify, type, write spans               ${share(ns("info.packed"))}`);
console.log(`  the rest: options, packing, building the object     ${share(total - ns("info.encode") - ns("info.packed"))}`);
console.log(`  the full path instead (to JSON and JSON.parse)      ${share(ns("info.full"))}`);
console.log(`  pure-JS receive, for comparison                     ${share(ns("receive.js"))}`);
console.log(`  pure-JS JSON.parse(body) alone                      ${share(ns("parse.js"))}`);
console.log("");

// Sizes.
const wasm = readFileSync(wasmFile);
const gz = gzipSync(wasm, { level: 9 }).length;
const GOAL_KIB = 60;
const goalBytes = GOAL_KIB * 1024;
console.log("size of pkg/web/zego_callback_bg.wasm");
console.log(`  raw             ${wasm.length.toLocaleString("en-US")} bytes (${(wasm.length / 1024).toFixed(1)} KiB)`);
console.log(`  gzip -9         ${gz.toLocaleString("en-US")} bytes (${(gz / 1024).toFixed(1)} KiB)`);
console.log(
  `  goal            <= ${GOAL_KIB} KB gzipped (${goalBytes.toLocaleString("en-US")} bytes): ` +
    `${gz <= goalBytes ? "met" : "not met"}${gz <= goalBytes && gz > 60000 ? " (over 60,000 bytes)" : ""}`,
);

// The tarball npm would publish: what a user downloads.
const packed = JSON.parse(execFileSync("npm", ["pack", join(root, "pkg"), "--dry-run", "--json"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }))[0];
const TARBALL_GOAL = 150_000;
console.log("npm pack ./pkg");
console.log(`  packed          ${packed.size.toLocaleString("en-US")} bytes, ${packed.entryCount} files (unpacked ${packed.unpackedSize.toLocaleString("en-US")})`);
console.log(`  goal            <= 150 kB (${TARBALL_GOAL.toLocaleString("en-US")} bytes): ${packed.size <= TARBALL_GOAL ? "met" : "not met"}`);

if (sink === 0) console.log("(sink is 0: results were not consumed)");
