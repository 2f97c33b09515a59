// How each field kind of the schemas (src/field.rs's `Kind`) appears in what the npm module
// returns: its TypeScript type, the builder helper that reads it from the spans, and the
// words the inspector shows. One table for the result builders (scripts/builders.mjs), the
// types (scripts/types.mjs) and the page; tests/node/generated.test.mjs holds it to what the
// wasm really returns for each kind.

/** Kind → `{ ts, build, label, always }`; `always`: never absent (a list defaults to `[]`). */
export const KINDS = {
  string: { ts: "string", build: "T", label: "string" },
  integer: { ts: "number", build: "I", label: "integer → number" },
  id: { ts: "Id64", build: "S", label: "64-bit id → decimal string" },
  app_id: { ts: "number", build: "I", label: "app id → number" },
  timestamp: { ts: "number", build: "I", label: "Unix seconds → number" },
  strings: { ts: "string[]", build: "L", label: "list of strings", always: true },
  stream_attr: { ts: "string", build: "T", label: "JSON in a string" },
};

/** What the reader of a kind is told about it, in words (the kind's own name if unknown). */
export const kindLabel = (kind) => KINDS[kind]?.label ?? kind;
