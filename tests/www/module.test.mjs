// The npm module's browser entry (pkg/index.browser.mjs) in headless Chromium: imported as a
// page or a bundler's output imports it, its .wasm fetched by URL beside it.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, normalize, sep } from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";
import { CHROMIUM, launchChromium } from "./chromium.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = join(root, "pkg");
const TYPES = { ".mjs": "text/javascript; charset=utf-8", ".wasm": "application/wasm", ".html": "text/html; charset=utf-8" };
const fixture = readFileSync(join(root, "tests", "fixtures", "signed", "room_close_401.json"), "utf8");

/** Serves pkg/ read-only on 127.0.0.1, and an empty page at /. */
function serve() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/") return res.writeHead(200, { "content-type": TYPES[".html"] }).end("<!doctype html><title>module</title>");
    const path = normalize(join(pkg, decodeURIComponent(url.pathname.replace(/^\/pkg\//, "/"))));
    if (!path.startsWith(pkg + sep)) return res.writeHead(403).end();
    try {
      const body = await readFile(path);
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const missing = [join(pkg, "index.browser.mjs"), CHROMIUM].filter((p) => !existsSync(p));

test("the browser entry in Chromium", { skip: missing.length ? `missing ${missing.join(", ")}` : false }, async (t) => {
  const server = await serve();
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    server.close();
  });
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const wasmRequests = [];
  page.on("request", (r) => r.url().endsWith(".wasm") && wasmRequests.push(new URL(r.url()).pathname));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);

  const result = await page.evaluate(async (body) => {
    const m = await import("/pkg/index.browser.mjs");
    const cb = m.receive(body, { secret: "zego-fixture-secret", now: 1499676989 });
    let refused;
    try {
      m.receive(body.replace("350176", "350177"), { secret: "zego-fixture-secret", now: 1499676989 });
    } catch (e) {
      refused = [e instanceof m.ZegoCallbackError, e.code, e.status];
    }
    const callbacks = new m.ZegoCallbacks({ secret: "s" });
    const seen = [];
    callbacks.on("mix_stop", (c) => seen.push(c.task_id));
    const handle = m.createHandler(callbacks);
    const res = await handle(m.signedRequest(`${location.origin}/zego/callback`, { event: "mix_stop", appid: "1", task_id: "t-browser", seq: "1" }, { secret: "s" }));
    const list = new m.LiveList();
    list.apply(cb);
    return {
      event: cb.event,
      session: cb.room_session_id,
      refused,
      status: res.status,
      seen,
      records: Object.keys(list.records()),
      same: m.default.receive === m.receive,
    };
  }, fixture);

  assert.deepEqual(result, {
    event: "room_close",
    session: "858012925204410401",
    refused: [true, "invalid_signature", 401],
    status: 200,
    seen: ["t-browser"],
    records: ["r:rid_1242649:858012925204410401"],
    same: true,
  });
  assert.deepEqual(wasmRequests, ["/pkg/web/zego_callback_bg.wasm"], "the one .wasm, fetched by URL");
  assert.deepEqual(errors, []);
});
