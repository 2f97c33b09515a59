// Throughput of the npm module against what a user would write with node:crypto instead.
//
//   npm run bench                       (or: node bench/receive.mjs)
//   node bench/receive.mjs --isolate    each timed round of each case in a fresh process
//
// Input: tests/fixtures/signed/stream_create.json, signed with the fixture secret, received
// at the `now` its manifest entry gives, and 15 copies of it that differ only in their
// timestamp, nonce and signature (signed here), taken in turn: a server never receives the
// same callback twice in a row, and neither side gets to repeat one call's work.
//
// Each case is measured as a user's code calls it. It has a loop of its own, written out
// below, in which the function under test is called from its own call site, with the
// arguments a handler would pass (a fresh options object for `receive`), and every result
// is folded into a number that the loop returns, so that nothing is dropped as dead code. A
// driver runs a case's loop in batches of about 1 ms until the round's time has passed; the
// one call site every case passes through is the batch's, not the operation's.
//
// A goal's two sides (the module and its pure-JS equivalent) are timed back to back in
// every round, the side that goes first alternating from round to round and the cases'
// order rotating, and the ratio is taken in each round from those two adjacent timings:
// drift between rounds (the neighbours' load on a shared machine, CPU frequency, GC) then
// moves both sides of a ratio alike. The median and the range of the per-round ratios are
// reported. With --isolate, every timed round of every case runs in a child process of its
// own (warm-up included), in the same order, so no case shares a JIT, heap or GC with
// another.
//
// This prints figures; it never fails on them. It does refuse to time a pure-JS receiver that
// disagrees with the module on the fixture, a tampered signature or a stale timestamp, since
// timing a receiver that checks less would be meaningless.

import { execFileSync, spawnSync } from "node:child_process";
import * as nodeCrypto from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const { createHash, timingSafeEqual } = nodeCrypto;
const self = fileURLToPath(import.meta.url);
const here = dirname(self);
const root = join(here, "..");
const require = createRequire(import.meta.url);

const childAt = process.argv.indexOf("--child");
const CHILD = childAt >= 0 ? process.argv[childAt + 1] : null;
const ISOLATE = CHILD === null && process.argv.includes("--isolate");

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
// The input.

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

// The fixture and RING - 1 copies with an earlier timestamp (still inside the window), another
// nonce of as many digits, and their signature; all of the fixture's length.
const RING = 16;
const MASK = RING - 1;
const BODIES = [BODY];
for (let k = 1; k < RING; k++) {
  const ts = String(Number(TIMESTAMP) - k);
  const nonce = String(BigInt(NONCE) + BigInt(k) * 7919n);
  const signature = createHash("sha1").update([SECRET, ts, nonce].sort().join("")).digest("hex");
  const body = BODY.replace(/("timestamp"\s*:\s*)"[^"]*"/, `$1"${ts}"`)
    .replace(/("nonce"\s*:\s*)"[^"]*"/, `$1"${nonce}"`)
    .replace(/("signature"\s*:\s*)"[^"]*"/, `$1"${signature}"`);
  const parsed = JSON.parse(body);
  if (body.length !== BODY.length || parsed.timestamp !== ts || parsed.nonce !== nonce || parsed.signature !== signature) {
    throw new Error(`copy ${k} of the fixture is not the fixture with a new timestamp, nonce and signature`);
  }
  BODIES.push(body);
}
// The signed parts as a handler has them: strings out of JSON.parse of each body.
const SIGNED = BODIES.map((b) => JSON.parse(b));
const TIMESTAMPS = SIGNED.map((c) => c.timestamp);
const NONCES = SIGNED.map((c) => c.nonce);
const SIGNATURES = SIGNED.map((c) => c.signature);

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
// signature from hex and comparing raw digests instead is slower (`digest()` and
// `Buffer.from(signature, "hex")` cost more than two hex Buffers). The common createHash
// form is timed as well, as an informational row.

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

// The same check as most examples write it, with createHash (informational).
function jsSignatureMatchesCreateHash(secret, timestamp, nonce, signature) {
  const expected = Buffer.from(createHash("sha1").update([secret, timestamp, nonce].sort().join("")).digest("hex"));
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
    ...BODIES.slice(1).map((body, k) => [`copy ${k + 1} of the fixture`, body, NOW]),
  ];
  for (const [name, body, now] of cases) {
    const mod = outcome(() => zego.receive(body, { secret: SECRET, now, contentType: CONTENT_TYPE }));
    const js = outcome(() => jsReceive(body, SECRET, now, TOLERANCE));
    if (mod !== js) throw new Error(`receivers disagree on ${name}: module ${mod}, pure JS ${js}`);
    if (name.startsWith("copy") && mod !== "ok") throw new Error(`${name} is refused: ${mod}`);
  }
  const verifyCases = [SIGNATURE, SIGNATURE.toUpperCase(), flipped, SIGNATURE.slice(0, 39), "", `${SIGNATURE}0`, SIGNATURE.replace(/.$/, "g")];
  for (const sig of verifyCases) {
    const mod = zego.verifySignature(SECRET, TIMESTAMP, NONCE, sig);
    for (const [form, check] of [["pure JS", jsSignatureMatches], ["pure JS (createHash)", jsSignatureMatchesCreateHash]]) {
      const js = check(SECRET, TIMESTAMP, NONCE, sig);
      if (mod !== js) throw new Error(`verifiers disagree on ${JSON.stringify(sig)}: module ${mod}, ${form} ${js}`);
    }
  }
  for (let k = 0; k < RING; k++) {
    if (!zego.verifySignature(SECRET, TIMESTAMPS[k], NONCES[k], SIGNATURES[k])) {
      throw new Error(`the signature of ${k === 0 ? "the fixture" : `copy ${k} of the fixture`} does not verify`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The cases. Each `run(n)` makes n calls, in turn over the RING bodies, from a call site of
// its own, and returns a number derived from every result.

const ENCODER = new TextEncoder();
const BODY_BYTES = BODIES.map((b) => ENCODER.encode(b));
const ENCODE_BUFFER = new Uint8Array(4 * BODY.length);
// receive's arguments as it packs them into wasm memory (secret, Content-Type, body), for
// timing the wasm call alone; other cases use the same buffer, so it is copied in each time.
const SECRET_BYTES = ENCODER.encode(SECRET);
const CT_BYTES = ENCODER.encode(CONTENT_TYPE);
const PACKED = BODY_BYTES.map((b) => new Uint8Array([...SECRET_BYTES, ...CT_BYTES, ...b]));
// Asked for after the module has sized the scratch buffer (the sanity check does), so that
// this does not move it under the module.
let packedAt = -1;
let packedBuf = new Uint8Array(0);
function packedView() {
  if (packedBuf.length === 0) {
    if (packedAt < 0) packedAt = raw.scratch(PACKED[0].length);
    packedBuf = new Uint8Array(raw.wasmMemory().buffer, packedAt, PACKED[0].length);
  }
  return packedBuf;
}

const cases = [
  {
    id: "receive.module",
    name: "receive: module receive(body, { secret, now, contentType })",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const callback = zego.receive(BODIES[i & MASK], { secret: SECRET, now: NOW, contentType: CONTENT_TYPE });
        acc += callback.stream_id.length;
      }
      return acc;
    },
  },
  {
    id: "receive.js",
    name: "receive: pure JS (JSON.parse + sha1 + timingSafeEqual + window)",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const callback = jsReceive(BODIES[i & MASK], SECRET, NOW, TOLERANCE);
        acc += callback.stream_id.length;
      }
      return acc;
    },
  },
  {
    id: "verify.module",
    name: "verifySignature: module verifySignature(secret, ts, nonce, sig)",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const k = i & MASK;
        if (zego.verifySignature(SECRET, TIMESTAMPS[k], NONCES[k], SIGNATURES[k])) acc++;
      }
      return acc;
    },
  },
  {
    id: "verify.js",
    name: `verifySignature: pure JS (${HAS_ONE_SHOT_HASH ? "hash" : "createHash"} sha1 + timingSafeEqual)`,
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const k = i & MASK;
        if (jsSignatureMatches(SECRET, TIMESTAMPS[k], NONCES[k], SIGNATURES[k])) acc++;
      }
      return acc;
    },
  },
  {
    id: "verify.createHash",
    name: "verifySignature: pure JS with createHash(...).digest('hex')",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const k = i & MASK;
        if (jsSignatureMatchesCreateHash(SECRET, TIMESTAMPS[k], NONCES[k], SIGNATURES[k])) acc++;
      }
      return acc;
    },
  },
  {
    id: "parse.module",
    name: "parse: module parse(body, contentType)",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += zego.parse(BODIES[i & MASK], CONTENT_TYPE).stream_id.length;
      return acc;
    },
  },
  {
    id: "parse.js",
    name: "parse: JSON.parse(body)",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += JSON.parse(BODIES[i & MASK]).stream_id.length;
      return acc;
    },
  },
  // Informational: where the module's receive spends its time.
  {
    id: "info.encode",
    name: "info: TextEncoder.encodeInto(body, reused buffer) alone",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += ENCODER.encodeInto(BODIES[i & MASK], ENCODE_BUFFER).written;
      return acc;
    },
  },
  {
    id: "info.packed",
    name: "info: wasm receivePacked only (scan, verify, type, spans out; 1.2 KB copied in)",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        packedView().set(PACKED[i & MASK]);
        acc += raw.receivePacked(SECRET_BYTES.length, -1, CT_BYTES.length, BODY_BYTES[0].length, NOW, TOLERANCE, 65536) + 1;
      }
      return acc;
    },
  },
  {
    id: "info.full",
    name: "info: the full path (wasm receiveBytes to JSON, then JSON.parse)",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const json = raw.receiveBytes(BODY_BYTES[i & MASK], [SECRET], CONTENT_TYPE, NOW, TOLERANCE, 65536);
        acc += JSON.parse(json).stream_id.length;
      }
      return acc;
    },
  },
  {
    id: "info.verifyPacked",
    name: "info: wasm verifyPacked only (texts already in memory: SHA-1, hex, compare)",
    run(n) {
      // The module's verifySignature leaves the fixture's four texts in the scratch buffer.
      zego.verifySignature(SECRET, TIMESTAMPS[0], NONCES[0], SIGNATURES[0]);
      const [a, b, c, d] = [SECRET, TIMESTAMPS[0], NONCES[0], SIGNATURES[0]].map((t) => Buffer.byteLength(t));
      let acc = 0;
      for (let i = 0; i < n; i++) if (raw.verifyPacked(a, b, c, d)) acc++;
      return acc;
    },
  },
  {
    id: "info.rawVerify",
    name: "info: wasm verifySignature of a list of secrets (wasm-bindgen's string passing)",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const k = i & MASK;
        if (raw.verifySignature([SECRET], TIMESTAMPS[k], NONCES[k], SIGNATURES[k])) acc++;
      }
      return acc;
    },
  },
  {
    id: "info.jsSha1",
    name: "info: node:crypto SHA-1 of the signing string alone, as the pure-JS side hashes",
    run(n) {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const k = i & MASK;
        acc += sha1Hex([SECRET, TIMESTAMPS[k], NONCES[k]].sort().join("")).length;
      }
      return acc;
    },
  },
];
const byId = Object.fromEntries(cases.map((c) => [c.id, c]));

// Timed back to back in every round; a goal's two sides are the first two of a group.
const groups = [
  ["receive.module", "receive.js"],
  ["verify.module", "verify.js", "verify.createHash"],
  ["parse.module", "parse.js"],
  ["info.encode"],
  ["info.packed"],
  ["info.full"],
  ["info.verifyPacked"],
  ["info.rawVerify"],
  ["info.jsSha1"],
];

// ---------------------------------------------------------------------------------------------
// Timing.

// Many short rounds rather than a few long ones: each ratio is taken within a round, and on
// a shared machine the neighbours' load changes from one second to the next.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 300);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 500);

// Every loop's result is added to this, and it is printed if zero.
let sink = 0;

// Runs the case's loop in batches until `ms` have passed; returns ops/s.
function timeFor(c, ms) {
  const budget = ms * 1e6;
  const start = process.hrtime.bigint();
  let ops = 0;
  let elapsed = 0;
  do {
    sink += c.run(c.batch);
    ops += c.batch;
    elapsed = Number(process.hrtime.bigint() - start);
  } while (elapsed < budget);
  return (ops * 1e9) / elapsed;
}

// A batch of about 1 ms, so that reading the clock is a negligible share of the time.
function batchFor(c) {
  for (let batch = 1; ; batch *= 2) {
    const t0 = process.hrtime.bigint();
    sink += c.run(batch);
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns >= 1e6 || batch >= 1 << 20) return Math.max(1, Math.round((batch * 1e6) / Math.max(ns, 1)));
  }
}

function warm(c) {
  c.batch = batchFor(c);
  timeFor(c, WARMUP_MS);
  c.batch = batchFor(c);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// The order of round r: the groups rotated by r, each group's cases reversed in odd rounds.
function orderOf(r) {
  const rotated = [...groups.slice(r % groups.length), ...groups.slice(0, r % groups.length)];
  return rotated.flatMap((g) => (r % 2 ? [...g].reverse() : g));
}

// In a child process (--isolate): warm one case up, time one round, print its ops/s.
if (CHILD !== null) {
  sanityCheck();
  const c = byId[CHILD];
  if (!c) throw new Error(`no case ${CHILD}`);
  warm(c);
  const ops = timeFor(c, ROUND_MS);
  process.stdout.write(JSON.stringify({ ops, sink }));
  process.exit(0);
}

function timeIsolated(c) {
  const child = spawnSync(process.execPath, [self, "--child", c.id], { encoding: "utf8", env: process.env });
  if (child.status !== 0) throw new Error(`the child timing ${c.id} failed:\n${child.stderr}`);
  const { ops, sink: childSink } = JSON.parse(child.stdout);
  sink += childSink;
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Run.

sanityCheck();

const fmtLoad = () => loadavg().map((x) => x.toFixed(2)).join(" ");
const loadBefore = fmtLoad();
console.log(`zego-callback benchmark: ${FIXTURE} (${Buffer.byteLength(BODY)} bytes) and ${RING - 1} re-signed copies in turn, now=${NOW}`);
console.log(
  `node ${process.version} on ${process.platform}/${process.arch}, ${cpus().length} CPUs; ` +
    `${ROUNDS} rounds x ${ROUND_MS} ms per case, ${WARMUP_MS} ms warm-up, ` +
    (ISOLATE ? "each round of each case in its own process" : "one process"),
);
console.log(`pure-JS signature check: ${REFERENCE}, timingSafeEqual`);
console.log(`pkg built ${statSync(wasmFile).mtime.toISOString()}`);
console.log(`load average (1, 5, 15 min) before: ${loadBefore}`);
console.log("");

if (!ISOLATE) for (const c of cases) warm(c);
for (const c of cases) c.samples = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const id of orderOf(r)) {
    const c = byId[id];
    c.samples.push(ISOLATE ? timeIsolated(c) : timeFor(c, ROUND_MS));
  }
}
for (const c of cases) c.ops = median(c.samples);
const loadAfter = fmtLoad();

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

// Ratios from the two sides' adjacent timings in each round.
const ratios = (mod, js) => mod.samples.map((ops, r) => ops / js.samples[r]);
const goals = [
  ["receive", "receive.module", "receive.js", 2],
  ["verifySignature", "verify.module", "verify.js", 3],
  ["  against createHash", "verify.module", "verify.createHash", null],
  ["parse (context)", "parse.module", "parse.js", null],
];
const x = (v) => `${v.toFixed(2)}x`;
console.log(`${"ratio module / pure JS".padEnd(24)}  ${"median".padStart(7)}  ${"rounds".padStart(13)}  ${"goal".padStart(6)}  result`);
for (const [name, modId, jsId, goal] of goals) {
  const rs = ratios(byId[modId], byId[jsId]);
  const ratio = median(rs);
  const verdict = goal == null ? "-" : ratio >= goal ? "met" : "not met";
  console.log(
    `${name.padEnd(24)}  ${x(ratio).padStart(7)}  ${`${x(Math.min(...rs))}-${x(Math.max(...rs))}`.padStart(13)}  ` +
      `${(goal == null ? "-" : ">= " + goal + "x").padStart(6)}  ${verdict}`,
  );
}
console.log("(median and range of the per-round ratios; a goal is met when the median reaches it)");
console.log(`load average (1, 5, 15 min) after: ${loadAfter}`);
console.log("");

// Where the module's receive goes, from the informational rows (per call, medians). Each row
// is timed on its own, so under load the parts need not add up exactly to the total.
const ns = (id) => 1e9 / byId[id].ops;
const total = ns("receive.module");
const share = (v) => `${v.toFixed(0).padStart(7)} ns  ${((v / total) * 100).toFixed(0).padStart(3)}%`;
console.log("where a module receive goes (medians above, as a share of the module receive):");
console.log(`  module receive, total                               ${share(total)}`);
console.log(`  TextEncoder.encodeInto of the string body          ${share(ns("info.encode"))}`);
console.log(`  wasm: scan, verify, type, write spans               ${share(ns("info.packed"))}`);
console.log(`  the rest: options, packing, building the object     ${share(total - ns("info.encode") - ns("info.packed"))}`);
console.log(`  the full path instead (to JSON and JSON.parse)      ${share(ns("info.full"))}`);
console.log(`  pure-JS receive, for comparison                     ${share(ns("receive.js"))}`);
console.log(`  pure-JS JSON.parse(body) alone                      ${share(ns("parse.js"))}`);
console.log("");
const verifyTotal = ns("verify.module");
const vshare = (v) => `${v.toFixed(0).padStart(7)} ns  ${((v / verifyTotal) * 100).toFixed(0).padStart(3)}%`;
console.log("where a module verifySignature goes (medians above, as a share of the module call):");
console.log(`  module verifySignature, total                       ${vshare(verifyTotal)}`);
console.log(`  wasm: SHA-1, hex, compare (and the crossing)        ${vshare(ns("info.verifyPacked"))}`);
console.log(`  the rest: argument checks, packing the four texts   ${vshare(verifyTotal - ns("info.verifyPacked"))}`);
console.log(`  pure-JS verify, for comparison                      ${vshare(ns("verify.js"))}`);
console.log(`  its node:crypto SHA-1 alone                         ${vshare(ns("info.jsSha1"))}`);
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
