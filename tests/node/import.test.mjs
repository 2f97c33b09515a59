// The npm module through import, in Node and in its browser/bundler build.
import test from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import suite from "./suite.cjs";
import * as nodeImport from "../../pkg/index.mjs";
import * as browser from "../../pkg/index.browser.mjs";

suite.runSuite("import", nodeImport);
suite.runSuite("browser build", browser);

test("import and require share one instance and one error class", () => {
  const required = createRequire(import.meta.url)("../../pkg/index.cjs");
  assert.equal(nodeImport.ZegoCallbackError, required.ZegoCallbackError);
  assert.equal(nodeImport.default.parse, required.parse);
});
