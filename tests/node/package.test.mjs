// The real tarball (`npm pack ./pkg`), installed into a scratch project and resolved by
// its name through package.json "exports": require, import, the browser condition (which
// resolves to the entry tests/www/module.test.mjs runs in Chromium) and the CLI's bin.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixture = join(root, "tests/fixtures/signed/room_close_401.json");

test("the packed module installs and resolves for require, import and browsers, within its size", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "zego-pack-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  const tarball = npm(["pack", join(root, "pkg"), "--pack-destination", dir, "--silent"], root).trim().split("\n").pop();
  // One .wasm serves every entry.
  const listing = execFileSync("tar", ["-tzf", join(dir, tarball)], { encoding: "utf8" }).split("\n");
  assert.deepEqual(listing.filter((f) => f.endsWith(".wasm")), ["package/web/zego_callback_bg.wasm"]);
  assert.ok(!listing.some((f) => f.includes("inline")), "no inlined copy of the wasm");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true }));
  npm(["install", "--offline", "--no-audit", "--no-fund", join(dir, tarball)], dir);

  const body = JSON.stringify(readFileSync(fixture, "utf8"));
  const script = (load) =>
    `${load}.then((m) => { const cb = m.receive(${body}, { secret: "zego-fixture-secret", now: 1499676989 });` +
    ` console.log(JSON.stringify([cb.event, cb.room_session_id, typeof m.ZegoCallbackError])); })`;
  const runNode = (args) => JSON.parse(execFileSync(process.execPath, args, { cwd: dir, encoding: "utf8" }));
  const expected = ["room_close", "858012925204410401", "function"];

  assert.deepEqual(runNode(["-e", script(`Promise.resolve(require("zego-callback"))`)]), expected, "require");
  assert.deepEqual(runNode(["--input-type=module", "-e", script(`import("zego-callback")`)]), expected, "import");
  const resolved = execFileSync(
    process.execPath,
    ["--conditions=browser", "--input-type=module", "-e", `console.log(import.meta.resolve("zego-callback"))`],
    { cwd: dir, encoding: "utf8" },
  );
  assert.match(resolved, /index\.browser\.mjs/);
  assert.ok(readFileSync(join(dir, "node_modules/zego-callback/index.d.ts"), "utf8").includes("ZegoCallbackError"));

  // The adapters come with every entry, and the CLI is on the path as `npx zego-callback`.
  const adapters = `import("zego-callback").then((m) => console.log(JSON.stringify(["ZegoCallbacks", "createHandler", "createNodeMiddleware", "MemoryNonceStore", "signCallback", "signedRequest"].map((n) => typeof m[n]))))`;
  const functions = Array(6).fill("function");
  assert.deepEqual(runNode(["--input-type=module", "-e", adapters]), functions, "import");
  const help = execFileSync("npx", ["--no-install", "zego-callback", "--help"], { cwd: dir, encoding: "utf8" });
  assert.match(help, /zego-callback verify <file\|->/);
  const signed = execFileSync("npx", ["--no-install", "zego-callback", "sign", "--secret", "s", "--event", "mix_stop"], { cwd: dir, encoding: "utf8" });
  assert.match(signed, /"task_id": "111111:1111"/);
});
