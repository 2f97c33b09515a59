// The npm module through import in Node. (Its browser/bundler build fetches its .wasm by
// URL, as browsers and bundlers load wasm: tests/www/module.test.mjs runs it in Chromium.)
import test from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import suite from "./suite.cjs";
import * as nodeImport from "../../pkg/index.mjs";

suite.runSuite("import", nodeImport);

test("import and require share one instance and one error class", () => {
  const required = createRequire(import.meta.url)("../../pkg/index.cjs");
  assert.equal(nodeImport.ZegoCallbackError, required.ZegoCallbackError);
  assert.equal(nodeImport.default.parse, required.parse);
});
