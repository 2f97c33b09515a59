// The Sign section: an editable list of fields, signed and written out as a JSON or form body,
// and a curl command to send it. Pure apart from the `api` handed to `signRows`; no DOM.

import { findMember } from "./check.mjs";
import { isJsonValue, stringArray } from "./raw.mjs";

/** A field that cannot be written out, naming its row. */
export class ComposeError extends Error {
  constructor(message, index) {
    super(message);
    this.name = "ComposeError";
    this.index = index;
  }
}

/** How a row's value is written in JSON. */
export const ROW_TYPES = ["string", "number", "json"];

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Editor rows `{ name, type, value }` from a body's members. A JSON number keeps its exact
 * digits (`number`), arrays and objects their raw text (`json`); form values are strings,
 * and a repeated form name (or a list field) becomes a JSON array.
 */
export function editorRows(members, schema) {
  const kinds = new Map((schema?.fields ?? []).map((f) => [f.name, f.kind]));
  return members.map((m) => {
    if (m.type === "string") return { name: m.name, type: "string", value: m.value };
    if (m.type === "number") return { name: m.name, type: "number", value: m.raw };
    if (m.type !== "form") return { name: m.name, type: "json", value: m.raw };
    if (m.values.length > 1 || kinds.get(m.name) === "strings") {
      const single = m.values.length === 1 && stringArray(m.values[0]) !== null;
      return { name: m.name, type: "json", value: single ? m.values[0] : JSON.stringify(m.values) };
    }
    return { name: m.name, type: "string", value: m.values[0] };
  });
}

function checkRows(rows) {
  const seen = new Set();
  rows.forEach((r, i) => {
    if (r.name === "") throw new ComposeError(`Row ${i + 1} has no name.`, i);
    if (seen.has(r.name)) throw new ComposeError(`"${r.name}" is listed twice.`, i);
    seen.add(r.name);
    if (r.type === "number" && !NUMBER.test(r.value)) {
      throw new ComposeError(`"${r.name}": ${JSON.stringify(r.value)} is not a JSON number.`, i);
    }
    if (r.type === "json" && !isJsonValue(r.value)) {
      throw new ComposeError(`"${r.name}": the value is not valid JSON.`, i);
    }
  });
}

/**
 * The body for the rows: `{ body, contentType }`. JSON is written compactly, numbers with the
 * digits typed (never through a JS number); a form writes a list of strings as a repeated
 * name, like ZEGO's form callbacks. Throws a {@link ComposeError}.
 */
export function buildBody(rows, format) {
  checkRows(rows);
  if (format === "form") {
    const params = new URLSearchParams();
    for (const r of rows) {
      const list = r.type === "json" ? stringArray(r.value) : null;
      if (list) for (const v of list) params.append(r.name, v);
      else params.append(r.name, r.value);
    }
    return { body: params.toString(), contentType: "application/x-www-form-urlencoded" };
  }
  const members = rows.map((r) => {
    const value = r.type === "string" ? JSON.stringify(r.value) : r.value.trim();
    return `${JSON.stringify(r.name)}:${value}`;
  });
  return { body: `{${members.join(",")}}`, contentType: "application/json" };
}

/** A random nonce of 19 decimal digits at most, like ZEGO's. */
export function randomNonce() {
  const words = crypto.getRandomValues(new Uint32Array(2));
  const n = ((BigInt(words[0]) << 32n) | BigInt(words[1])) % 10n ** 19n;
  return n.toString();
}

/** The rows with timestamp, nonce and signature set (added when absent, in the body's case). */
export function signRows(api, rows, { secret, timestamp, nonce }) {
  const out = rows.map((r) => ({ ...r }));
  const names = api.envelopeNames;
  // A body whose event is named by its PascalCase twin gets the signed fields the same way.
  const event = findMember(out, "event", names);
  const pascal = event !== undefined && event.name !== "event";
  const set = (name, value) => {
    const row = findMember(out, name, names);
    if (row) {
      if (row.type === "json") row.type = "string";
      if (row.type === "number" && !/^\d+$/.test(value)) row.type = "string";
      row.value = value;
    } else {
      const [snake, twin] = names.find(([n]) => n === name) ?? [name, name];
      out.push({ name: pascal ? twin : snake, type: "string", value });
    }
  };
  set("timestamp", timestamp);
  set("nonce", nonce);
  set("signature", api.sign(secret, timestamp, nonce));
  return out;
}

/** A text quoted for a POSIX shell: in single quotes, each `'` written `'\''`. */
export function shellQuote(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A curl command that POSTs the body to the URL. */
export function curlCommand(url, contentType, body) {
  return [
    "curl -sS -X POST",
    shellQuote(url),
    "-H",
    shellQuote(`Content-Type: ${contentType}`),
    "--data-binary",
    shellQuote(body),
  ].join(" ");
}
