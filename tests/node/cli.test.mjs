// The CLI (pkg/bin/zego-callback.mjs) as a terminal runs it: real processes, real files,
// standard input, exit codes, `npx zego-callback` in this checkout, and `send` against a real
// server on 127.0.0.1.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
  });
});

describe("send", () => {
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

  test("--fixtures: ZEGO's documented examples, signed now, all accepted", async () => {
    seen.length = 0;
    const res = await cli(["send", url, "--fixtures", "--secret", SECRET]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /4 of 4 accepted/);
    assert.deepEqual(seen.sort(), ["mix_stop", "room_close", "stream_close", "stream_create"]);
  });

  test("--shuffle --duplicates: the same bodies again are retries, accepted; the seed repeats a run", async () => {
    const file = join(dir, "mine.json");
    writeFileSync(file, JSON.stringify({ event: "mix_stop", appid: "1", task_id: "from-file", seq: "3" }));
    const res = await cli(["send", url, file, "--fixtures", "--shuffle", "--duplicates", "3", "--seed", "11"], { env: { ZEGO_CALLBACK_SECRET: SECRET } });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /^seed 11$/m);
    assert.match(res.stdout, /8 of 8 accepted/);
    assert.equal((res.stdout.match(/\(again\)/g) ?? []).length, 3);
  });

  test("a refusal exits 1, an unreachable endpoint 3", async () => {
    const refused = await cli(["send", url, "--fixtures", "--secret", "not-it"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /^401 /m);
    assert.match(refused.stdout, /0 of 4 accepted/);
    const down = await cli(["send", "http://127.0.0.1:9/zego/callback", "--fixtures", "--secret", SECRET]);
    assert.equal(down.code, 3);
    assert.match(down.stderr, /failed/);
  });
});
