// The members of a callback body exactly as received: each top-level field's raw text,
// read without JSON.parse on numbers (which would round 64-bit ids). Pure; no DOM.

/** Why a JSON body could not be scanned, with the offset of the fault. */
export class ScanError extends Error {
  constructor(message, offset) {
    super(`${message} (at character ${offset})`);
    this.name = "ScanError";
    this.offset = offset;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 256;

function scanner(text) {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const fail = (message) => {
    throw new ScanError(message, i);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const expect = (c) => {
    if (text[i] !== c) fail(i < text.length ? `expected '${c}', found '${text[i]}'` : `expected '${c}', found the end`);
    i++;
  };

  // A string token; its value is decoded with JSON.parse, which is exact for strings.
  function string() {
    const start = i;
    expect('"');
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail("a control character inside a string");
      i += text[i] === "\\" ? 2 : 1;
    }
    expect('"');
    const raw = text.slice(start, i);
    try {
      return { raw, value: JSON.parse(raw) };
    } catch {
      i = start;
      return fail("an invalid escape inside a string");
    }
  }

  // Skips one value; returns its type.
  function value(depth) {
    if (depth > MAX_DEPTH) fail("nested too deeply");
    const c = text[i];
    if (c === '"') {
      string();
      return "string";
    }
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return c === "{" ? "object" : "array";
      }
      for (;;) {
        if (c === "{") {
          if (text[i] !== '"') fail("expected a member name");
          string();
          ws();
          expect(":");
          ws();
        }
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          ws();
          continue;
        }
        expect(close);
        return c === "{" ? "object" : "array";
      }
    }
    for (const [word, type] of [["true", "boolean"], ["false", "boolean"], ["null", "null"]]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return type;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return "number";
    }
    return fail(i < text.length ? `unexpected '${text[i]}'` : "unexpected end of the body");
  }

  return {
    get offset() {
      return i;
    },
    ws,
    expect,
    string,
    value,
    fail,
    at: (c) => text[i] === c,
    done: () => i >= text.length,
    slice: (a, b) => text.slice(a, b),
  };
}

/**
 * The top-level members of a JSON object body, in order: `{ name, raw, type, start, end }`
 * where `raw` is the value's exact text (`"01"` with its quotes, `858012925204410400` as
 * written) and `value` the decoded text of a string. Throws a {@link ScanError} for a body
 * that is not a JSON object.
 */
export function jsonMembers(text) {
  const s = scanner(text);
  const members = [];
  s.ws();
  if (s.done()) s.fail("the body is empty");
  s.expect("{");
  s.ws();
  if (s.at("}")) {
    s.expect("}");
  } else {
    for (;;) {
      if (!s.at('"')) s.fail("expected a member name");
      const name = s.string().value;
      s.ws();
      s.expect(":");
      s.ws();
      const start = s.offset;
      const type = s.value(1);
      const raw = s.slice(start, s.offset);
      const member = { name, raw, type, start, end: s.offset };
      if (type === "string") member.value = JSON.parse(raw);
      members.push(member);
      s.ws();
      if (s.at(",")) {
        s.expect(",");
        s.ws();
        continue;
      }
      s.expect("}");
      break;
    }
  }
  s.ws();
  if (!s.done()) s.fail("text after the object");
  return members;
}

/**
 * The members of a form body (`application/x-www-form-urlencoded`), decoded: one entry per
 * name, in order of first appearance, `values` holding every occurrence (play URLs repeat).
 */
export function formMembers(text) {
  const params = new URLSearchParams(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const byName = new Map();
  for (const [name, value] of params) {
    if (!byName.has(name)) byName.set(name, { name, values: [], type: "form" });
    byName.get(name).values.push(value);
  }
  return [...byName.values()].map((m) => ({ ...m, raw: m.values.join("\n"), value: m.values[0] }));
}

/** Whether a body looks like JSON (after a BOM and whitespace, it starts with `{` or `[`). */
export function looksLikeJson(text) {
  return /^\uFEFF?\s*[{[]/.test(text);
}

/**
 * The members of a body, JSON or form by the content type (by sniffing for any other type):
 * `{ format: "json" | "form", members, error? }`. `error` is a {@link ScanError} when a JSON
 * body could not be scanned; `members` then holds none.
 */
export function bodyMembers(text, contentType) {
  const ct = (contentType || "").toLowerCase();
  const form = ct.includes("x-www-form-urlencoded") || (!ct.includes("json") && !looksLikeJson(text));
  if (form) return { format: "form", members: formMembers(text) };
  try {
    return { format: "json", members: jsonMembers(text) };
  } catch (e) {
    if (e instanceof ScanError) return { format: "json", members: [], error: e };
    throw e;
  }
}

/** The text of a scalar member as it is signed: a string's content, a number's digits. */
export function memberText(member) {
  if (!member) return undefined;
  if (member.type === "string" || member.type === "form") return member.value;
  if (member.type === "number") return member.raw;
  return undefined;
}

/** The exact integer a JSON number token denotes, or null when it is not an integer token. */
export function integerToken(raw) {
  return /^-?(0|[1-9]\d*)$/.test(raw) ? BigInt(raw) : null;
}

/**
 * What `JSON.parse` turns an integer token into, written out exactly (the double's full
 * decimal expansion, not JS's shortest form): `858012925204410400` -> `"858012925204410368"`.
 * Null when the token is exact as a JS number.
 */
export function jsonParseLoss(raw) {
  const exact = integerToken(raw);
  if (exact === null) return null;
  const parsed = JSON.parse(raw);
  if (!Number.isFinite(parsed)) return String(parsed);
  const asDouble = BigInt(parsed);
  return asDouble === exact ? null : asDouble.toString();
}

/** A JSON array of strings as a list, or null when the text is anything else. */
export function stringArray(raw) {
  const s = scanner(raw);
  const out = [];
  try {
    s.ws();
    s.expect("[");
    s.ws();
    if (s.at("]")) s.expect("]");
    else {
      for (;;) {
        if (!s.at('"')) return null;
        out.push(s.string().value);
        s.ws();
        if (s.at(",")) {
          s.expect(",");
          s.ws();
          continue;
        }
        s.expect("]");
        break;
      }
    }
    s.ws();
    return s.done() ? out : null;
  } catch {
    return null;
  }
}

/** Whether a text is exactly one JSON value (checked without JSON.parse, so big numbers pass). */
export function isJsonValue(raw) {
  const s = scanner(raw);
  try {
    s.ws();
    s.value(1);
    s.ws();
    return s.done();
  } catch {
    return false;
  }
}

/** The number of bytes a text takes in UTF-8. */
export function utf8Bytes(text) {
  return new TextEncoder().encode(text).length;
}
