// The copies of the core's rules that the JS keeps, held to the core: the generated event
// types of js/index.d.ts, the kinds table the builders, the types and the page share, and the
// envelope names the adapters and the page look fields up by.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as api from "zego-callback";

import { KINDS } from "../../www/lib/kinds.mjs";
import { findMember } from "../../www/lib/check.mjs";
import { withEventTypes } from "../../scripts/types.mjs";

const root = new URL("../../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("tests/fixtures/index.json", root), "utf8"));

test("js/index.d.ts holds the event types the schemas give (node scripts/types.mjs rewrites them)", () => {
  const committed = readFileSync(new URL("js/index.d.ts", root), "utf8");
  assert.equal(withEventTypes(committed, api.schemas, api.envelopeNames), committed, "js/index.d.ts is stale: run node scripts/types.mjs");
  const packaged = readFileSync(new URL("pkg/index.d.ts", root), "utf8");
  assert.equal(packaged, committed);
});

test("the kinds table covers every kind the schemas use, each as the module really returns it", () => {
  const used = new Set(api.schemas.flatMap((s) => s.fields.map((f) => f.kind)));
  assert.deepEqual([...used].sort(), Object.keys(KINDS).sort());
  const jsType = (value) => (Array.isArray(value) ? "array" : typeof value);
  const expected = { string: "string", number: "number", Id64: "string", "string[]": "array" };
  const seen = new Set();
  for (const f of manifest.fixtures.filter((x) => x.event)) {
    const body = readFileSync(new URL(`tests/fixtures/${f.file}`, root));
    let cb;
    try {
      cb = api.parse(body, f.content_type);
    } catch {
      continue; // a bad body, kept to test errors
    }
    if (!cb.known) continue;
    const schema = api.schemas.find((s) => s.event === cb.event);
    for (const field of schema.fields) {
      if (!(field.name in cb)) {
        assert.ok(!field.required && !KINDS[field.kind].always, `${cb.event}.${field.name} absent`);
        continue;
      }
      const ts = KINDS[field.kind].ts;
      assert.equal(jsType(cb[field.name]), expected[ts], `${cb.event}.${field.name} (${field.kind} as ${ts})`);
      if (ts === "Id64") assert.match(cb[field.name], /^\d+$/);
      seen.add(field.kind);
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(KINDS).sort(), "every kind met in the fixtures");
});

test("envelope fields are found by their name or PascalCase twin, as the core finds them", () => {
  assert.deepEqual(api.envelopeNames[0], ["event", "Event"]);
  const members = (...names) => names.map((name) => ({ name }));
  assert.equal(findMember(members("Event", "event"), "event", api.envelopeNames).name, "event");
  assert.equal(findMember(members("Event"), "event", api.envelopeNames).name, "Event");
  assert.equal(findMember(members("EVENT", "eVent"), "event", api.envelopeNames), undefined);
  // The core agrees: an EVENT member is no event.
  assert.throws(() => api.parse('{"EVENT":"x"}'), (e) => e.code === "missing_field" && e.field === "event");
  assert.equal(api.parse('{"Event":"x"}').event, "x");
});
