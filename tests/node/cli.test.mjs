// The CLI (pkg/bin/zego-callback.mjs) as a terminal runs it: real processes, real files,
// standard input, exit codes, `npx zego-callback` in this checkout, and `send` against a real
// server on 127.0.0.1 (ZegoCallbacks' middleware) and against the built Worker.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { createNodeMiddleware, ZegoCallbacks } from "zego-callback";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "pkg", "bin", "zego-callback.mjs");
const SECRET = "cli-secret";

/** Runs the CLI; resolves with its exit code and output. */
function cli(args, { input, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ZEGO_CALLBACK_SECRET: "", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "zego-cli-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("sign and verify", () => {
  test("sign prints ZEGO's example signed now; verify accepts it from standard input", async () => {
    const signed = await cli(["sign", "--event", "room_close", "--secret", SECRET]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /"room_session_id": 858012925204410400,/);
    const checked = await cli(["verify", "-"], { input: signed.stdout, env: { ZEGO_CALLBACK_SECRET: `old,${SECRET}` } });
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /^accepted: room_close/);
    assert.match(checked.stdout, /room_session_id = 858012925204410400 -> "858012925204410400"/);
    assert.match(checked.stdout, /warn: Above 2⁵³: JSON\.parse would give 858012925204410368/);
  });

  test("verify refuses a wrong secret and a late timestamp with exit code 1; --json for scripts", async () => {
    const file = join(dir, "body.json");
    writeFileSync(file, (await cli(["sign", "--secret", SECRET, "--timestamp", "1700000000", "--nonce", "7"])).stdout);
    const wrong = await cli(["verify", file, "--secret", "other", "--now", "1700000000"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^refused: invalid_signature \(401\)/);
    const late = await cli(["verify", file, "--secret", SECRET, "--now", "1700000301"]);
    assert.equal(late.code, 1);
    assert.match(late.stdout, /timestamp_out_of_window/);
    const json = await cli(["verify", file, "--secret", SECRET, "--now", "1700000000", "--json"]);
    assert.equal(json.code, 0);
    const result = JSON.parse(json.stdout);
    assert.equal(result.accepted, true);
    assert.equal(result.event, "stream_create");
    assert.ok(result.fields.some((f) => f.name === "room_session_id" && f.typed === '"1234567"'));
  });

  test("usage errors exit 2, a missing file 3, each command has --help", async () => {
    for (const args of [["nope"], ["verify"], ["verify", "a", "b", "--secret", "s"], ["sign", "--secret", "s", "--timestamp", "soon"], ["send"], ["send", "ftp://x", "--fixtures", "--secret", "s"]]) {
      const res = await cli(args);
      assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
      assert.match(res.stderr, /^zego-callback: /);
    }
    assert.equal((await cli(["verify", "-"], { input: "{}" })).code, 2, "no secret anywhere");
    const missing = await cli(["verify", join(dir, "nope.json"), "--secret", "s"]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /could not read/);
    for (const command of ["verify", "sign", "send"]) {
      const help = await cli([command, "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`^zego-callback ${command} `));
    }
    assert.match((await cli(["--help"])).stdout, /Exit codes/);
  });
});

describe("npx zego-callback in this checkout", () => {
  // scripts/build-pkg.mjs links the bin into node_modules/.bin, as npm does for an installed
  // package (tests/node/package.test.mjs runs it from a project that installed the tarball).
  const npx = (cwd, args) =>
    new Promise((resolve) => execFile("npx", ["--no-install", "zego-callback", ...args], { cwd, encoding: "utf8" }, (error, stdout, stderr) => resolve({ code: error?.code ?? 0, stdout, stderr })));

  test("runs the built CLI from the repository's root and from a folder in it", async () => {
    const version = (await cli(["--version"])).stdout.trim();
    for (const cwd of [root, join(root, "www")]) {
      const res = await npx(cwd, ["--version"]);
      assert.equal(res.code, 0, `${cwd}: ${res.stderr}`);
      assert.equal(res.stdout.trim(), version);
    }
    assert.match((await npx(root, ["send", "--help"])).stdout, /--fixtures .* in the order a room lives/s);
  });
});

/** The numbered lines of a send: `[text before the arrow, status, what happened]`. */
const sendLines = (stdout) =>
  stdout
    .split("\n")
    .map((line) => line.match(/^ *\d+\. (.*) → (\d{3}) (.*)$/))
    .filter(Boolean)
    .map((m) => m.slice(1));

describe("send to ZegoCallbacks' middleware", () => {
  let server;
  let url;
  const seen = [];
  before(async () => {
    const callbacks = new ZegoCallbacks({ secret: SECRET }).onAny((cb) => seen.push(cb.event));
    server = createServer(createNodeMiddleware(callbacks));
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${server.address().port}/zego/callback`;
  });
  after(() => server.close());

  test("--fixtures: ZEGO's documented examples, signed now, in the order a room lives, one line each", async () => {
    seen.length = 0;
    const res = await cli(["send", url, "--fixtures", "--secret", SECRET]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.deepEqual(seen, ["stream_create", "stream_close", "mix_stop", "room_close"]);
    assert.match(res.stdout, /^Sending 4 callbacks to .* in the order a room lives:$/m);
    assert.deepEqual(sendLines(res.stdout), [
      ["stream_create room1/stream_id seq 1, session 1234567", "200", "accepted by the endpoint's handlers"],
      ["stream_close room1/stream_id seq 700, session 123456789", "200", "accepted by the endpoint's handlers"],
      ["mix_stop 111111:1111 seq 1234", "200", "accepted by the endpoint's handlers"],
      ["room_close rid_1242649, session 858012925204410400", "200", "accepted by the endpoint's handlers"],
    ]);
    assert.match(res.stdout, /^4 of 4 accepted: 4 accepted by handlers\.$/m);
  });

  test("--shuffle --duplicates: a retry says which line it repeats; the seed repeats a run", async () => {
    const file = join(dir, "mine.json");
    writeFileSync(file, JSON.stringify({ event: "mix_stop", appid: "1", task_id: "from-file", seq: "3" }));
    const args = ["send", url, file, "--fixtures", "--shuffle", "--duplicates", "3", "--seed", "11"];
    const res = await cli(args, { env: { ZEGO_CALLBACK_SECRET: SECRET } });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /shuffled \(seed 11; --seed 11 repeats this run\), 3 of them sent again as ZEGO's retries/);
    const lines = sendLines(res.stdout);
    assert.equal(lines.length, 8);
    assert.ok(lines.some(([what]) => what.startsWith(`${file}: mix_stop from-file seq 3`)), "a file's line names it");
    const retries = lines.map(([what], i) => [i + 1, what.match(/^(.*) \(retry of (\d+)\)$/)]).filter(([, m]) => m);
    assert.equal(retries.length, 3);
    for (const [n, [, what, of]] of retries) {
      assert.ok(Number(of) < n, "a retry comes after the first sending");
      assert.equal(lines[Number(of) - 1][0], what, "and repeats that callback");
    }
    assert.match(res.stdout, /^8 of 8 accepted/m);
    const again = await cli(args, { env: { ZEGO_CALLBACK_SECRET: SECRET } });
    assert.deepEqual(sendLines(again.stdout).map(([what]) => what), lines.map(([what]) => what), "the same seed, the same run");
  });

  test("a refusal says why and exits 1, an unreachable endpoint 3", async () => {
    const refused = await cli(["send", url, "--fixtures", "--secret", "not-it"]);
    assert.equal(refused.code, 1);
    const lines = sendLines(refused.stdout);
    assert.equal(lines.length, 4);
    assert.ok(lines.every(([, status, what]) => status === "401" && what.startsWith("refused, invalid_signature: ")), refused.stdout);
    assert.match(lines[0][2], /check --secret/, "what to check, once");
    assert.doesNotMatch(lines[1][2], /check --secret/);
    assert.match(refused.stdout, /^0 of 4 accepted: 4 refused\.$/m);
    const down = await cli(["send", "http://127.0.0.1:9/zego/callback", "--fixtures", "--secret", SECRET]);
    assert.equal(down.code, 3);
    assert.match(down.stderr, /failed/);
  });
});

const built = existsSync(join(root, "build", "index_bg.wasm"));

describe("send to the built Worker", { skip: built ? false : "build/ is missing (bash scripts/build-worker.sh)" }, () => {
  let worker;
  let url;
  before(async () => {
    const { startWorker } = await import("../worker/harness.mjs");
    worker = await startWorker({ port: 0, bindings: { ZEGO_CALLBACK_SECRET: "zego-dev-secret", READ_TOKEN: "t" } });
    url = new URL("/zego/callback", worker.url).href;
  });
  after(() => worker?.dispose());

  test("each line says what the Worker did: applied and what changed, no change, a duplicate", async () => {
    const res = await cli(["send", url, "--fixtures", "--secret", "zego-dev-secret"]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.deepEqual(sendLines(res.stdout), [
      ["stream_create room1/stream_id seq 1, session 1234567", "200", "applied, changed s:room1:stream_id"],
      // ZEGO's stream_close example is of another, earlier session: nothing to close.
      ["stream_close room1/stream_id seq 700, session 123456789", "200", "applied, no change: the live list already holds this or something later"],
      ["mix_stop 111111:1111 seq 1234", "200", "applied, changed m:111111%3A1111"],
      ["room_close rid_1242649, session 858012925204410400", "200", "applied, changed r:rid_1242649:858012925204410400"],
    ]);
    assert.match(res.stdout, /^4 of 4 accepted: 3 changed the live list, 1 changed nothing\.$/m);

    // Retries of callbacks already applied: duplicates. --json gives the same run for scripts.
    const json = await cli(["send", url, "--fixtures", "--secret", "zego-dev-secret", "--duplicates", "4", "--seed", "3", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const run = JSON.parse(json.stdout);
    assert.deepEqual([run.sent, run.refused, run.seed], [8, 0, 3]);
    const retries = run.results.filter((r) => r.retry_of !== null);
    assert.equal(retries.length, 4);
    for (const r of retries) {
      assert.equal(r.outcome, "duplicate", JSON.stringify(r));
      assert.deepEqual(r.answer, { ok: true, event: r.event, appid: r.answer.appid, duplicate: true, written: [] });
    }
    assert.deepEqual(run.results.slice(0, 4).map((r) => r.event), ["stream_create", "stream_close", "mix_stop", "room_close"]);

    // A body the Worker refuses: its code, message and field.
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ event: "stream_create", appid: "1", room_id: "r", room_session_id: "1", stream_id: "s", stream_seq: true, create_time_ms: "1" }));
    const refused = await cli(["send", url, bad, "--secret", "zego-dev-secret"]);
    assert.equal(refused.code, 1);
    const [[, status, what]] = sendLines(refused.stdout);
    assert.equal(status, "400");
    assert.match(what, /^refused, invalid_field: .*stream_seq.* \(field stream_seq\)$/);
  });
});
