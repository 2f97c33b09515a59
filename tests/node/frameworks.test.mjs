// The examples under examples/, really run: Express, Fastify and Hono servers as their own
// Node processes, and the JS Worker bundled by wrangler and run in workerd (Miniflare). Real
// signed callbacks go to each over HTTP on 127.0.0.1.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

import express from "express";
import { createNodeMiddleware, signCallback, ZegoCallbacks } from "zego-callback";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SECRET = "framework-test-secret";
const BIG = "858012925204410401";

/** Starts an example server; resolves once it prints its URL. Its output lines are kept. */
function startExample(file) {
  const child = spawn(process.execPath, [join(root, "examples", file)], {
    cwd: root,
    env: { ...process.env, PORT: "0", ZEGO_CALLBACK_SECRET: SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = [];
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start: ${stderr}`)), 15_000);
    let buffered = "";
    child.stdout.on("data", (d) => {
      buffered += d;
      const parts = buffered.split("\n");
      buffered = parts.pop();
      for (const line of parts) {
        lines.push(line);
        const url = line.match(/^listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
        if (url) {
          clearTimeout(timer);
          resolve({ url, lines, stop: () => child.kill() });
        }
      }
    });
    child.on("exit", (code) => reject(new Error(`${file} exited (${code}): ${stderr}`)));
  });
}

const createBody = (stream, { secret = SECRET, nonce } = {}) =>
  signCallback(
    {
      event: "stream_create",
      appid: "1",
      room_id: "room-fw",
      room_session_id: BigInt(BIG),
      stream_id: stream,
      stream_seq: "1",
      create_time_ms: "1700000000000",
      user_id: "u",
    },
    { secret, nonce },
  );

const post = (url, body, headers = { "content-type": "application/json" }) => fetch(url, { method: "POST", body, headers });

/** The scenarios every framework must pass, against `base` (its origin). */
function scenarios(name, start) {
  describe(name, () => {
    let server;
    before(async () => {
      server = await start();
    });
    after(() => server?.stop());
    const url = () => `${server.url}/zego/callback`;

    test("a signed callback: 200, the handler ran with the 64-bit id exact", async () => {
      const res = await post(url(), createBody("s1"));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true, event: "stream_create" });
      if (server.lines) {
        await waitFor(() => server.lines.some((l) => l === `stream_create room-fw/s1 session ${BIG}`), server.lines);
      }
    });

    test("a wrong secret: 401 invalid_signature", async () => {
      const res = await post(url(), createBody("s2", { secret: "not-the-secret" }));
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error.code, "invalid_signature");
    });

    test("a captured nonce with another body: 409; the same body again: 200", async () => {
      const nonce = `fw-${name}-${Date.now()}`;
      const first = createBody("s3", { nonce });
      assert.equal((await post(url(), first)).status, 200);
      const forged = createBody("evil", { nonce });
      const res = await post(url(), forged);
      assert.equal(res.status, 409);
      assert.equal((await res.json()).error.code, "replayed_nonce");
      assert.equal((await post(url(), first)).status, 200, "a retry of the same body");
    });

    test("an oversized body: 413 body_too_large", async () => {
      const body = createBody("big").replace(/}$/, `,"pad":"${"x".repeat(70_000)}"}`);
      const res = await post(url(), body);
      assert.equal(res.status, 413);
      assert.equal((await res.json()).error.code, "body_too_large");
    });

    test("another method: 405 with Allow; a form body is taken as well", async () => {
      const res = await fetch(url(), { method: "PUT", body: "x" });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "POST");
      const form = signCallback("event=mix_stop&appid=1&task_id=t&seq=1", { secret: SECRET });
      const ok = await post(url(), form, { "content-type": "application/x-www-form-urlencoded" });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.deepEqual(await ok.json(), { ok: true, event: "mix_stop" });
    });
  });
}

async function waitFor(check, lines, ms = 5_000) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`not seen in: ${lines.join(" | ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

scenarios("Express", () => startExample("express.mjs"));
scenarios("Fastify", () => startExample("fastify.mjs"));
scenarios("Hono on Node", () => startExample("hono.mjs"));
scenarios("a JS Worker in workerd", async () => {
  // Bundled by wrangler as `wrangler deploy` would, then run in workerd.
  const out = mkdtempSync(join(tmpdir(), "zego-js-worker-"));
  execFileSync(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", out, "-c", join(root, "examples/worker/wrangler.toml")], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: "ignore",
  });
  const wasm = readdirSync(out).find((f) => f.endsWith(".wasm"));
  const mf = new Miniflare({
    modulesRoot: out,
    modules: [
      { type: "ESModule", path: join(out, "index.js") },
      { type: "CompiledWasm", path: join(out, wasm) },
    ],
    compatibilityDate: "2026-05-03",
    bindings: { ZEGO_CALLBACK_SECRET: SECRET },
    cf: false,
    host: "127.0.0.1",
    port: 0,
  });
  const url = await mf.ready;
  return { url: url.origin, stop: async () => { await mf.dispose(); rmSync(out, { recursive: true, force: true }); } };
});

describe("a body parser that ran first", () => {
  test("Express with express.json() before the middleware: 500 naming the fix", async () => {
    const callbacks = new ZegoCallbacks({ secret: SECRET });
    const app = express();
    app.use(express.json());
    app.use(createNodeMiddleware(callbacks));
    const server = await new Promise((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    try {
      const res = await post(`http://127.0.0.1:${server.address().port}/zego/callback`, createBody("parsed"));
      assert.equal(res.status, 500);
      const { error } = await res.json();
      assert.equal(error.code, "body_parsed");
      assert.match(error.message, /before any body parser/);
      assert.match(error.message, /express\.raw/);
    } finally {
      server.close();
    }
  });

  test("Express with express.raw() before it: the raw bytes are verified", async () => {
    const callbacks = new ZegoCallbacks({ secret: SECRET });
    const app = express();
    app.use("/zego/callback", express.raw({ type: "*/*" }));
    app.use(createNodeMiddleware(callbacks));
    const server = await new Promise((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    try {
      const res = await post(`http://127.0.0.1:${server.address().port}/zego/callback`, createBody("raw"));
      assert.equal(res.status, 200, await res.clone().text());
    } finally {
      server.close();
    }
  });
});
