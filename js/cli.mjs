#!/usr/bin/env node
// zego-callback: check, sign and send ZEGO server callbacks from a terminal.
// Exit codes: 0 done; 1 a callback was refused (verify) or answered non-2xx (send);
// 2 a usage error; 3 a file or the network failed.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import * as api from "../index.mjs";
import { fieldRows } from "../lib/fields.mjs";
import { bodyMembers } from "../lib/raw.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, "..", "fixtures");
const version = JSON.parse(readFileSync(join(here, "..", "package.json"), "utf8")).version;

const HELP = {
  main: `zego-callback ${version}: check, sign and send ZEGO server callbacks.

Usage:
  zego-callback verify <file|->   check a body's signature and window, print every field typed
  zego-callback sign [<file|->]   print a body signed now (or as --timestamp/--nonce say)
  zego-callback send <url> <file...> | --fixtures
                                  sign and POST callbacks to an endpoint, print what it did with each
  zego-callback <command> --help  the options of a command

The secret comes from --secret, else ZEGO_CALLBACK_SECRET (comma-separated: several).
Exit codes: 0 done, 1 refused or non-2xx, 2 usage error, 3 file or network error.`,
  verify: `zego-callback verify <file|-> [options]

Checks the body's signature (with each secret) and its timestamp against the window, then
prints every field as received and as typed, with the same warnings as the inspector page.

Options:
  --secret <s>          the callback secret (comma-separated: several); default $ZEGO_CALLBACK_SECRET
  --content-type <t>    application/json or application/x-www-form-urlencoded (default: sniffed)
  --tolerance <secs>    the window, past and future (default 300)
  --now <unix secs>     check against this time instead of the clock
  --json                print the result as JSON
Exit code 0 when the callback is accepted, 1 when refused.`,
  sign: `zego-callback sign [<file|->] [options]

Prints the body with timestamp, nonce and signature set; every other field exactly as given.
Without a file, ZEGO's documented example of --event is signed.

Options:
  --secret <s>          the secret to sign with (the first, when several); default $ZEGO_CALLBACK_SECRET
  --event <name>        with no file: stream_create (default), stream_close, room_close, mix_stop
  --timestamp <secs>    default: now
  --nonce <n>           default: random`,
  send: `zego-callback send <url> [<file>...] [options]

Signs each body now (fresh timestamp and nonce) and POSTs it to <url>, like ZEGO's servers,
then prints one line per callback: what it was, and what the endpoint did with it (applied
and what changed, a duplicate, accepted, or refused and why). Only the bodies' fields other
than timestamp, nonce and signature are kept. Files go in the order given, then --fixtures.

Options:
  --fixtures            send ZEGO's documented examples too, in the order a room lives:
                        stream_create, stream_close, mix_stop, room_close
  --secret <s>          the secret to sign with; default $ZEGO_CALLBACK_SECRET
  --shuffle             send in a random order (as ZEGO's retries can arrive)
  --duplicates <n>      also send n of the bodies again, unchanged (ZEGO's retries)
  --seed <n>            the seed of --shuffle and --duplicates, to repeat a run
  --timeout <secs>      per request (default 10)
  --json                print the run as JSON: each callback, its status and answer
Exit code 0 when every answer is 2xx, 1 otherwise, 3 when a request could not be made.

Example, against the Worker scripts/run.sh starts (its development secret):
  zego-callback send http://127.0.0.1:8787/zego/callback --fixtures --secret zego-dev-secret`,
};

class Usage extends Error {}
class Io extends Error {}

function options(args, spec) {
  try {
    return parseArgs({ args, options: { help: { type: "boolean", short: "h" }, ...spec }, allowPositionals: true });
  } catch (e) {
    throw new Usage(e.message);
  }
}

function secretOf(values, { required = true } = {}) {
  const text = values.secret ?? process.env.ZEGO_CALLBACK_SECRET;
  const secrets = (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (!secrets.length && required) throw new Usage("no secret: give --secret or set ZEGO_CALLBACK_SECRET");
  return secrets;
}

function readBody(file) {
  try {
    return file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  } catch (e) {
    throw new Io(`could not read ${file === "-" ? "standard input" : file}: ${e.message}`);
  }
}

function integer(name, value) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Usage(`--${name}: expected a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

const contentTypeOf = (text, given) => given ?? (/^\uFEFF?\s*\{/.test(text) ? "application/json" : "application/x-www-form-urlencoded");

function verify(args, out) {
  const { values, positionals } = options(args, {
    secret: { type: "string" },
    "content-type": { type: "string" },
    tolerance: { type: "string" },
    now: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return out(HELP.verify), 0;
  if (positionals.length !== 1) throw new Usage("verify takes one file (or - for standard input)");
  const secrets = secretOf(values);
  const body = readBody(positionals[0]);
  const contentType = values["content-type"];
  const toleranceSeconds = integer("tolerance", values.tolerance) ?? api.defaults.toleranceSeconds;
  const now = integer("now", values.now) ?? Math.floor(Date.now() / 1000);

  let accepted = null;
  let refusal = null;
  try {
    accepted = api.receive(body, { secret: secrets, contentType, toleranceSeconds, now });
  } catch (e) {
    if (!(e instanceof api.ZegoCallbackError)) throw e;
    refusal = e;
  }
  let parsed = accepted;
  let parseError = null;
  if (!parsed) {
    try {
      parsed = api.parse(body, contentType);
    } catch (e) {
      if (!(e instanceof api.ZegoCallbackError)) throw e;
      parseError = e;
    }
  }
  const scan = bodyMembers(body, contentType);
  const { rows, event, known } = fieldRows({ members: scan.members, parsed, error: parseError, schemas: api.schemas, envelopeNames: api.envelopeNames });
  const result = {
    accepted: Boolean(accepted),
    error: refusal ? { code: refusal.code, status: refusal.status, message: refusal.message, field: refusal.field ?? null } : null,
    event: event ?? null,
    known: known ?? null,
    fields: rows.map((r) => ({ name: r.name, raw: r.raw, typed: r.typed ?? null, kind: r.kind, warnings: r.warnings })),
  };
  if (values.json) {
    out(JSON.stringify(result, null, 2));
  } else {
    out(accepted ? `accepted: ${event} (signature valid, timestamp within ${toleranceSeconds} s)` : `refused: ${refusal.code} (${refusal.status}): ${refusal.message}`);
    if (scan.error) out(`body: ${scan.error.message}`);
    if (event !== undefined) out(`event: ${event}${known === false ? " (not documented: fields kept as received)" : ""}`);
    for (const r of rows) {
      const typed = r.typed === undefined ? "" : ` -> ${r.typed}`;
      out(`  ${r.name} = ${r.raw}${typed}${r.kind ? `  [${r.kind}]` : ""}`);
      for (const w of r.warnings) out(`      ${w.level}: ${w.text}`);
    }
  }
  return accepted ? 0 : 1;
}

function fixture(event) {
  const file = join(FIXTURES, `${event}.json`);
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new Usage(`no documented example of ${JSON.stringify(event)}: ${fixtureNames().join(", ")}`);
  }
}

/**
 * The order a room lives, for sending ZEGO's examples: the room and its users come, streams
 * start and a mix of them runs, then the mix stops, streams close and the room closes.
 * Events not listed here go last, by name.
 */
const LIFECYCLE = ["room_create", "room_login", "stream_create", "mix_start", "stream_close", "mix_stop", "room_logout", "room_close"];
const lifecycleRank = (name) => (LIFECYCLE.includes(name) ? LIFECYCLE.indexOf(name) : LIFECYCLE.length);

const fixtureNames = () =>
  readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort((a, b) => lifecycleRank(a) - lifecycleRank(b) || (a < b ? -1 : a > b ? 1 : 0));

function sign(args, out) {
  const { values, positionals } = options(args, {
    secret: { type: "string" },
    event: { type: "string" },
    timestamp: { type: "string" },
    nonce: { type: "string" },
  });
  if (values.help) return out(HELP.sign), 0;
  if (positionals.length > 1) throw new Usage("sign takes at most one file (or - for standard input)");
  const [secret] = secretOf(values);
  const body = positionals.length ? readBody(positionals[0]) : fixture(values.event ?? "stream_create");
  integer("timestamp", values.timestamp);
  out(api.signCallback(body.trim(), { secret, timestamp: values.timestamp, nonce: values.nonce }));
  return 0;
}

/** A small seeded PRNG (mulberry32), so that a shuffled run can be repeated. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A callback in a few words, from its typed fields: which event, of what. */
function describe(cb) {
  if (!cb) return "a body that does not parse";
  const session = cb.room_session_id ? `, session ${cb.room_session_id}` : "";
  switch (cb.event) {
    case "stream_create":
    case "stream_close":
      return `${cb.event} ${cb.room_id}/${cb.stream_id} seq ${cb.stream_seq}${session}`;
    case "mix_start":
    case "mix_stop":
      return `${cb.event} ${cb.task_id} seq ${cb.seq}`;
    default:
      if (!cb.known) return `${cb.event} (not a documented event)`;
      return `${cb.event}${cb.room_id ? ` ${cb.room_id}` : ""}${session}`;
  }
}

/** What to check when an endpoint refuses a callback with this code. */
const HINTS = {
  invalid_signature: "the endpoint's secret is another one: check --secret or ZEGO_CALLBACK_SECRET",
  timestamp_out_of_window: "the endpoint's clock and this one differ by more than its window",
  unknown_app: "the endpoint has no secret for this appid",
  replayed_nonce: "this nonce came before with another body",
};

const short = (text) => (text.length > 300 ? `${text.slice(0, 300)}…` : text);

/**
 * What the endpoint did, from its answer: the Worker answers {"ok","event","appid",
 * "duplicate","written"}, ZegoCallbacks' adapters {"ok":true,"event"}, and every refusal
 * {"error":{"code","message","field"}}. `listed` says whether the event concerns the live
 * list at all (live.plan). Returns `{ outcome, text, changed }`; outcome is "applied",
 * "duplicate", "accepted" or "refused"; changed, whether the Worker wrote to its list. A hint
 * for a refusal is given once per code (`hinted`).
 */
function outcomeOf(status, text, { listed, hinted = new Set() }) {
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  const ok = status >= 200 && status < 300;
  if (!ok) {
    const error = json?.error;
    if (!error?.code) return { outcome: "refused", text: `refused${text ? `: ${short(text)}` : ""}` };
    const field = error.field ? ` (field ${error.field})` : "";
    const hint = HINTS[error.code] && !hinted.has(error.code) ? `; ${HINTS[error.code]}` : "";
    hinted.add(error.code);
    return { outcome: "refused", text: `refused, ${error.code}: ${error.message}${field}${hint}` };
  }
  if (json && typeof json.duplicate === "boolean") {
    if (json.duplicate) return { outcome: "duplicate", text: "duplicate: applied before, nothing left to change" };
    if (json.written?.length) return { outcome: "applied", text: `applied, changed ${json.written.join(", ")}`, changed: true };
    if (!listed) return { outcome: "applied", text: "applied, nothing to change: not a live-list event" };
    return { outcome: "applied", text: "applied, no change: the live list already holds this or something later" };
  }
  if (json?.ok === true) return { outcome: "accepted", text: "accepted by the endpoint's handlers" };
  return { outcome: "accepted", text: `accepted${text ? `: ${short(text)}` : ""}` };
}

async function send(args, out) {
  const { values, positionals } = options(args, {
    secret: { type: "string" },
    fixtures: { type: "boolean" },
    shuffle: { type: "boolean" },
    duplicates: { type: "string" },
    seed: { type: "string" },
    timeout: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return out(HELP.send), 0;
  const [url, ...files] = positionals;
  if (!url) throw new Usage("send needs the endpoint's URL");
  let target;
  try {
    target = new URL(url);
  } catch {
    throw new Usage(`not a URL: ${url}`);
  }
  if (!/^https?:$/.test(target.protocol)) throw new Usage(`not an http(s) URL: ${url}`);
  if (!files.length && !values.fixtures) throw new Usage("send needs files, or --fixtures for ZEGO's documented examples");
  const [secret] = secretOf(values);
  const seed = integer("seed", values.seed) ?? Math.floor(Math.random() * 2 ** 31);
  const random = rng(seed);
  const duplicates = integer("duplicates", values.duplicates) ?? 0;
  const timeoutMs = (integer("timeout", values.timeout) ?? 10) * 1000;

  const sources = [
    ...files.map((f) => ({ source: f, text: readBody(f).trim() })),
    ...(values.fixtures ? fixtureNames().map((n) => ({ source: null, text: fixture(n).trim() })) : []),
  ];
  const bodies = sources.map((s, i) => {
    const text = api.signCallback(s.text, { secret });
    let cb = null;
    try {
      cb = api.parse(text, contentTypeOf(text));
    } catch (e) {
      if (!(e instanceof api.ZegoCallbackError)) throw e;
    }
    return { body: i, source: s.source, text, cb, listed: cb ? Boolean(api.live.plan(cb)) : false };
  });
  let queue = [...bodies];
  for (let i = 0; i < duplicates && bodies.length; i++) queue.push(bodies[Math.floor(random() * bodies.length)]);
  if (values.shuffle) {
    for (let i = queue.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [queue[i], queue[j]] = [queue[j], queue[i]];
    }
  }

  const order = values.shuffle ? `shuffled (seed ${seed}; --seed ${seed} repeats this run)` : files.length ? "in the order given" : "in the order a room lives";
  const again = duplicates ? `, ${duplicates} of them sent again as ZEGO's retries${values.shuffle ? "" : ` (seed ${seed})`}` : "";
  if (!values.json) out(`Sending ${queue.length} callbacks to ${target} ${order}${again}:`);
  const results = [];
  const firstSent = new Map(); // body -> its line number
  const hinted = new Set();
  for (const item of queue) {
    const n = results.length + 1;
    const retryOf = firstSent.get(item.body) ?? null;
    if (retryOf === null) firstSent.set(item.body, n);
    let res;
    try {
      res = await fetch(target, {
        method: "POST",
        headers: { "content-type": contentTypeOf(item.text) },
        body: item.text,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new Io(`POST ${target} failed: ${e.cause?.message ?? e.message}`);
    }
    const answer = (await res.text()).trim();
    const { outcome, text, changed = false } = outcomeOf(res.status, answer, { listed: item.listed, hinted });
    results.push({ n, source: item.source, event: item.cb?.event ?? null, callback: describe(item.cb), retry_of: retryOf, status: res.status, outcome, changed, answer });
    if (!values.json) {
      const from = item.source ? `${item.source}: ` : "";
      const retry = retryOf === null ? "" : ` (retry of ${retryOf})`;
      out(`${String(n).padStart(String(queue.length).length)}. ${from}${describe(item.cb)}${retry} → ${res.status} ${text}`);
    }
  }
  const count = (o) => results.filter((r) => r.outcome === o).length;
  const refused = count("refused");
  if (values.json) {
    const answers = results.map((r) => {
      let answer = r.answer;
      try {
        answer = JSON.parse(r.answer);
      } catch {
        // kept as text
      }
      return { ...r, answer };
    });
    out(JSON.stringify({ url: String(target), seed: values.shuffle || duplicates ? seed : null, sent: results.length, refused, results: answers }, null, 2));
  } else {
    const parts = [];
    const changed = results.filter((r) => r.changed).length;
    if (changed) parts.push(`${changed} changed the live list`);
    if (count("applied") - changed) parts.push(`${count("applied") - changed} changed nothing`);
    if (count("duplicate")) parts.push(`${count("duplicate")} duplicate${count("duplicate") === 1 ? "" : "s"}`);
    if (count("accepted")) parts.push(`${count("accepted")} accepted by handlers`);
    if (refused) parts.push(`${refused} refused`);
    out(`${results.length - refused} of ${results.length} accepted${parts.length ? `: ${parts.join(", ")}` : ""}.`);
  }
  return refused ? 1 : 0;
}

async function main(argv, { out = (line) => console.log(line), err = (line) => console.error(line) } = {}) {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "verify":
        return verify(rest, out);
      case "sign":
        return sign(rest, out);
      case "send":
        return await send(rest, out);
      case "--version":
      case "-v":
        out(version);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        out(HELP.main);
        return command === undefined ? 2 : 0;
      default:
        throw new Usage(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    if (e instanceof Usage) {
      err(`zego-callback: ${e.message}\n(zego-callback --help shows the commands)`);
      return 2;
    }
    if (e instanceof Io) {
      err(`zego-callback: ${e.message}`);
      return 3;
    }
    if (e instanceof api.ZegoCallbackError) {
      err(`zego-callback: ${e.code}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
