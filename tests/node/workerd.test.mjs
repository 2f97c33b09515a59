// The npm module's `workerd` entry, in workerd itself (Miniflare): Workers cannot compile
// wasm from bytes, so this entry imports the .wasm as a module.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/pkg/package.json`, "utf8"));
const entry = pkg.exports["."].workerd;

test("the workerd entry receives a callback inside workerd", async (t) => {
  const mf = new Miniflare({
    modules: true,
    modulesRoot: `${root}/pkg`,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    script: `
      import { receive, ZegoCallbackError } from "${entry}";
      export default {
        async fetch(request) {
          try {
            const cb = receive(await request.text(), { secret: "zego-fixture-secret", now: 1499676989 });
            return Response.json({ event: cb.event, room_session_id: cb.room_session_id });
          } catch (e) {
            return Response.json({ code: e.code, ours: e instanceof ZegoCallbackError }, { status: e.status });
          }
        },
      };`,
    scriptPath: `${root}/pkg/test-worker.mjs`,
    compatibilityDate: "2025-06-01",
    cf: false,
    host: "127.0.0.1",
  });
  t.after(() => mf.dispose());
  const body = readFileSync(`${root}/tests/fixtures/signed/room_close_401.json`, "utf8");
  const ok = await mf.dispatchFetch("http://worker/", { method: "POST", body });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { event: "room_close", room_session_id: "858012925204410401" });
  const bad = await mf.dispatchFetch("http://worker/", { method: "POST", body: body.replace("350176", "350177") });
  assert.equal(bad.status, 401);
  assert.deepEqual(await bad.json(), { code: "invalid_signature", ours: true });
});
