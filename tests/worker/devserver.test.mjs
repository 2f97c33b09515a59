// The Worker behind `wrangler dev` (its local proxy in front of workerd), as a new user runs
// it: what only shows there, over real HTTP connections.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { callback, root, streamCreate } from "./harness.mjs";

const SECRET = "zego-devserver-test-secret";

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Posts over a new connection; `chunks` sends the body chunked, without a Content-Length. */
function post(port, { body = "", chunks, contentType = "application/json" }) {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": contentType };
    if (chunks === undefined) headers["content-length"] = Buffer.byteLength(body);
    else headers["transfer-encoding"] = "chunked";
    const req = http.request(
      { host: "127.0.0.1", port, path: "/zego/callback", method: "POST", headers, agent: new http.Agent() },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on("error", reject);
    if (chunks === undefined) req.end(body);
    else {
      for (const chunk of chunks) req.write(chunk);
      req.end();
    }
  });
}

describe("behind wrangler dev", () => {
  let dev;
  let port;
  let state;
  let log = "";

  before(async () => {
    port = await freePort();
    state = mkdtempSync(join(tmpdir(), "zego-devserver-"));
    dev = spawn(
      join(root, "node_modules", ".bin", "wrangler"),
      [
        ...["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state],
        ...["--var", `ZEGO_CALLBACK_SECRET:${SECRET}`, "--var", "READ_TOKEN:t", "--show-interactive-dev-session=false"],
      ],
      { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const ready = new Promise((resolve, reject) => {
      const seen = (chunk) => {
        log += chunk;
        if (/Ready on/.test(log)) resolve();
      };
      dev.stdout.on("data", seen);
      dev.stderr.on("data", seen);
      dev.once("exit", (code) => reject(new Error(`wrangler dev exited (${code}):\n${log}`)));
    });
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`wrangler dev not ready:\n${log}`)), 60_000);
    });
    await Promise.race([ready, late]).finally(() => clearTimeout(timer));
  });

  after(async () => {
    if (dev && dev.exitCode === null) {
      const exited = new Promise((resolve) => dev.once("exit", resolve));
      dev.kill("SIGINT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
      if (dev.exitCode === null) dev.kill("SIGKILL");
    }
    rmSync(state, { recursive: true, force: true });
  });

  test("an oversized chunked body is answered 413 and the next callback is served", async () => {
    const big = await post(port, { chunks: Array.from({ length: 80 }, () => "x".repeat(1000)) });
    assert.equal(big.status, 413, big.text);
    assert.equal(JSON.parse(big.text).error.code, "body_too_large");
    for (let i = 0; i < 3; i++) {
      const body = callback("stream_create", streamCreate({ room: "after-413", session: 1, stream: `s${i}`, seq: 1, t: 1 }), { secret: SECRET });
      const next = await post(port, { body });
      assert.equal(next.status, 200, `callback ${i} after the 413: ${next.text}`);
      assert.deepEqual(JSON.parse(next.text).written, [`s:after-413:s${i}`]);
    }
  });
});
