// The public JS API over the raw wasm exports. This file is a fragment: scripts/build-pkg.mjs
// wraps it into the CommonJS and ES module entries, which define `raw` (the wasm-bindgen
// module) before it and export what `makeApi(raw)` returns after it.

/** An `Error` with a stable `code` and the HTTP `status` to answer. */
class ZegoCallbackError extends Error {
  constructor(message, code, status, field) {
    super(message);
    this.name = "ZegoCallbackError";
    this.code = code;
    this.status = status;
    if (field != null) this.field = field;
  }
}

// How a callback is built from the spans `receivePacked` writes (src/spans.rs): `t` is the
// body as a string, `s` the words, `w` the index of a field's mode word, then its span.
// scripts/build-pkg.mjs generates one builder per event from the schemas (BUILDERS, after
// this fragment), each an object literal with the event's keys written out, and the
// protocol's constants (SPAN_* modes, SLOT_* header words, word counts) from the wasm.
function spanValue(t, m, a, b) {
  switch (m) {
    case SPAN_SLICE:
      return t.slice(a, b);
    case SPAN_JSON:
      return JSON.parse(t.slice(a, b));
    case SPAN_NUMBER:
      return +t.slice(a, b);
    case SPAN_ONE:
      return [t.slice(a, b)];
    case SPAN_EMPTY:
      return [];
    case SPAN_TRUE:
      return true;
    case SPAN_FALSE:
      return false;
    default:
      return null;
  }
}
function spanText(t, s, w) {
  return s[w] === SPAN_SLICE ? t.slice(s[w + 1], s[w + 2]) : unescaped(t.slice(s[w + 1], s[w + 2]));
}
// A string with escapes, from its JSON: the last one is kept, since a callback's one escaped
// value (`stream_attr`, JSON in a string) is mostly the same from one callback to the next.
let lastEscaped = "";
let lastUnescaped = "";
function unescaped(json) {
  if (json !== lastEscaped) {
    lastUnescaped = JSON.parse(json);
    lastEscaped = json;
  }
  return lastUnescaped;
}
function spanList(t, s, w) {
  if (s[w] !== SPAN_LIST) return spanValue(t, s[w], s[w + 1], s[w + 2]);
  // Each item is a mode, start and end, like a field's: spanText reads it.
  const i = s[w + 1];
  switch (s[w + 2]) {
    case 1:
      return [spanText(t, s, i)];
    case 2:
      return [spanText(t, s, i), spanText(t, s, i + FIELD_WORDS)];
    default: {
      const list = [];
      for (let j = i, n = s[w + 2]; n > 0; n--, j += FIELD_WORDS) list.push(spanText(t, s, j));
      return list;
    }
  }
}
function spanExtra(t, s) {
  const extra = {};
  for (let n = s[SLOT_EXTRAS], w = s[SLOT_EXTRAS_AT]; n > 0; n--, w += EXTRA_WORDS) extra[t.slice(s[w], s[w + 1])] = spanValue(t, s[w + 2], s[w + 3], s[w + 4]);
  return extra;
}

// A wasm export throws the JSON of the core's error; anything else is a bug, rethrown.
function rethrow(e) {
  if (typeof e === "string" && e.charCodeAt(0) === 123 /* { */) {
    const { message, code, status, field } = JSON.parse(e);
    throw new ZegoCallbackError(message, code, status, field);
  }
  throw e;
}

// What the adapters (adapters.js) take from the core rather than restate: each error code's
// status, and the replay guard's key, digest, lifetime and decision (src/replay.rs).
function makeRules(raw) {
  const call = (f) => {
    try {
      return f();
    } catch (e) {
      return rethrow(e);
    }
  };
  return {
    /** A ZegoCallbackError with the status the core's error table gives `code`. */
    error(message, code, field) {
      return new ZegoCallbackError(message, code, raw.errorStatus(code), field);
    },
    claimKey: (timestamp, nonce) => call(() => raw.claimKey(String(timestamp), String(nonce))),
    bodyDigest: (bytes) => raw.bodyDigest(bytes),
    claimTtlSeconds: (toleranceSeconds) => raw.claimTtlSeconds(toleranceSeconds),
    decide: (storedDigest, digest) => raw.replayDecide(storedDigest ?? undefined, digest),
    // The three answers a store may give, as the rule itself names them.
    decisions: new Set([raw.replayDecide(undefined, "a"), raw.replayDecide("a", "a"), raw.replayDecide("a", "b")]),
  };
}

function makeApi(raw) {
  const defaults = JSON.parse(raw.defaults());

  function invalid(name, reason) {
    rethrow(raw.invalidOption(name, reason));
  }

  function text(name, value) {
    if (typeof value !== "string") invalid(name, `expected a string, got ${typeof value}`);
    return value;
  }

  // A timestamp as the exact text that is signed: a string as given, an integer in decimal.
  function timestampText(value) {
    if (typeof value === "string") return value;
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value);
    if (typeof value === "bigint" && value >= 0n) return value.toString();
    return invalid("timestamp", "expected a string or a non-negative integer");
  }

  function secretList(value) {
    if (typeof value === "string") return [value];
    if (Array.isArray(value) && value.every((s) => typeof s === "string")) return value;
    return invalid("secret", "expected a string or an array of strings");
  }

  function count(name, value, fallback) {
    if (value === undefined) return fallback;
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
    return invalid(name, "expected a non-negative integer");
  }

  function contentTypeOf(value) {
    if (value === undefined || value === null) return undefined;
    return text("contentType", value);
  }

  const encoder = new TextEncoder();

  // The body as UTF-8 bytes: a string is encoded here, in one native call, because
  // wasm-bindgen would copy it into wasm memory a character at a time.
  function bodyOf(body, limit) {
    const checked = checkedBody(body, limit);
    return typeof checked === "string" ? encoder.encode(checked) : checked;
  }

  // The body as given (a string) or as a Uint8Array view of its bytes, refused when it is
  // over the limit.
  function checkedBody(body, limit) {
    if (typeof body === "string") {
      // A string's UTF-8 form is at least as long as its length in UTF-16 units.
      if (body.length > limit) rethrow(raw.bodyTooLarge(body.length, limit));
      return body;
    }
    let bytes = body;
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    else if (ArrayBuffer.isView(bytes) && !(bytes instanceof Uint8Array)) {
      bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    if (!(bytes instanceof Uint8Array)) invalid("body", "expected a string, Uint8Array or ArrayBuffer");
    if (bytes.byteLength > limit) rethrow(raw.bodyTooLarge(bytes.byteLength, limit));
    return bytes;
  }

  /** `hex(sha1(sorted secret, timestamp, nonce))`, as ZEGO signs a callback. */
  function sign(secret, timestamp, nonce) {
    try {
      return raw.sign(text("secret", secret), timestampText(timestamp), text("nonce", nonce));
    } catch (e) {
      return rethrow(e);
    }
  }

  /** The sorted string that is hashed (it contains the secret: show it only to its owner). */
  function signingString(secret, timestamp, nonce) {
    return raw.signingString(text("secret", secret), timestampText(timestamp), text("nonce", nonce));
  }

  // A scratch buffer in wasm memory for packed arguments, and a view of it (re-made when the
  // memory grows, which detaches the old buffer).
  const memory = raw.wasmMemory();
  let scratchAt = 0;
  let scratchLen = 0;
  let scratch = new Uint8Array(0);
  function scratchView(len) {
    if (len > scratchLen) {
      scratchLen = Math.max(len, 256);
      scratchAt = raw.scratch(scratchLen);
    }
    // A view of memory that has since grown is detached: its length reads 0. (Asking the
    // memory for its buffer each time costs more than the check.)
    if (scratch.byteLength !== scratchLen) scratch = new Uint8Array(memory.buffer, scratchAt, scratchLen);
    return scratch;
  }

  // Writes `s` as UTF-8 at `at` of the scratch view; returns the bytes written. Short ASCII
  // text (a timestamp, nonce, signature or secret, mostly) is copied a unit at a time, which
  // costs less than a subarray and an encodeInto call.
  function put(view, at, s) {
    const n = s.length;
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        view[at + i] = c;
      }
      if (i === n) return n;
    }
    return encoder.encodeInto(s, view.subarray(at)).written;
  }

  // One secret, the common case: the four texts go into the scratch buffer and cross as
  // four lengths in one call.
  function verifyOne(secret, ts, n, sig) {
    const total = secret.length + ts.length + n.length + sig.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const view = scratchView(3 * total);
    head = null; // what receivePacked left at the start is overwritten
    // Written as one string in one native call (15% of a verifySignature less than four
    // copies a unit at a time). As many bytes as units means all of it was ASCII, so each
    // text's length in bytes is its length; otherwise each is written again on its own.
    if (encoder.encodeInto(secret + ts + n + sig, view).written === total) {
      return raw.verifyPacked(secret.length, ts.length, n.length, sig.length);
    }
    const a = put(view, 0, secret);
    const b = put(view, a, ts);
    const c = put(view, a + b, n);
    const d = put(view, a + b + c, sig);
    return raw.verifyPacked(a, b, c, d);
  }

  /** Whether `signature` signs `(timestamp, nonce)` under the secret or any of the secrets. */
  function verifySignature(secretOrSecrets, timestamp, nonce, signature) {
    try {
      const ts = timestampText(timestamp);
      const n = text("nonce", nonce);
      const sig = text("signature", signature);
      return typeof secretOrSecrets === "string"
        ? verifyOne(secretOrSecrets, ts, n, sig)
        : raw.verifySignature(secretList(secretOrSecrets), ts, n, sig);
    } catch (e) {
      return rethrow(e);
    }
  }

  /** Decodes and types a callback body, without checking its signature. */
  function parse(body, contentType) {
    try {
      return JSON.parse(raw.parseBytes(bodyOf(body, defaults.maxBodyBytes), contentTypeOf(contentType)));
    } catch (e) {
      return rethrow(e);
    }
  }

  // The words receivePacked writes, at a fixed address (the view is re-made when the memory
  // grows, which detaches the old buffer).
  const spansAt = raw.spansAddress();
  let spans = new Int32Array(0);
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  // One or two secrets, the Content-Type and the body go into the scratch buffer, in that
  // order, and cross as their lengths in one call. The texts before the body are mostly the
  // same from one call to the next: they stay in place until one of them changes (or another
  // function writes there), and the body goes after them. The callback comes back as spans
  // of the body, which this side already holds as a string; any other outcome (form data,
  // an unknown event, an error) as JSON.
  let head = null; // { view, secret, second, ct, their lengths a, b, c, body: the view after them }
  function receivePacked(body, secret, second, ct, now, tolerance, limit) {
    const checked = checkedBody(body, limit);
    const bytes = typeof checked === "string" ? undefined : checked;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const size = bytes === undefined ? 3 * body.length : bytes.byteLength;
    const view = scratchView(size + 3 * (secret.length + (second === undefined ? 0 : second.length) + (ct === undefined ? 0 : ct.length)));
    if (head === null || head.view !== view || head.secret !== secret || head.second !== second || head.ct !== ct) {
      const a = put(view, 0, secret);
      const b = second === undefined ? -1 : put(view, a, second);
      const c = ct === undefined ? -1 : put(view, a + Math.max(b, 0), ct);
      head = { view, secret, second, ct, a, b, c, body: view.subarray(a + Math.max(b, 0) + Math.max(c, 0)) };
    }
    let d;
    if (bytes === undefined) d = encoder.encodeInto(body, head.body).written;
    else {
      head.body.set(bytes);
      d = size;
    }
    const event = raw.receivePacked(head.a, head.b, head.c, d, now, tolerance, limit);
    if (event >= 0) {
      // Spans are in UTF-16 units of the body as received: a string with lone surrogates
      // was received as its UTF-8 (U+FFFD for each), so it is read back from that.
      let t = body;
      if (bytes !== undefined || (d !== body.length && !(body.isWellFormed?.() ?? false))) {
        t = decoder.decode(head.body.subarray(0, d));
      }
      if (spans.length === 0) spans = new Int32Array(memory.buffer, spansAt);
      return BUILDERS[event](t, spans);
    }
    const json = raw.takeResult();
    return event === -1 ? JSON.parse(json) : rethrow(json);
  }

  /** Decodes, verifies (signature and timestamp window) and types a callback body. */
  function receive(body, options) {
    try {
      if (options === null || typeof options !== "object") invalid("options", "expected an object with a secret");
      const secret = options.secret;
      const now = options.now === undefined ? Math.floor(Date.now() / 1000) : count("now", options.now);
      const tolerance = count("toleranceSeconds", options.toleranceSeconds, defaults.toleranceSeconds);
      const limit = count("maxBodyBytes", options.maxBodyBytes, defaults.maxBodyBytes);
      const ct = contentTypeOf(options.contentType);
      if (typeof secret === "string") return receivePacked(body, secret, undefined, ct, now, tolerance, limit);
      const secrets = secretList(secret);
      if (secrets.length === 1 || secrets.length === 2) return receivePacked(body, secrets[0], secrets[1], ct, now, tolerance, limit);
      return JSON.parse(raw.receiveBytes(bodyOf(body, limit), secrets, ct, now, tolerance, limit));
    } catch (e) {
      return rethrow(e);
    }
  }

  /** Every documented event: its fields, their kinds, limits and ZEGO's descriptions. */
  const schemas = JSON.parse(raw.schemas());

  /** The envelope's field names, each with the PascalCase name other events use
   * (`[["event", "Event"], ["appid", "AppId"], ...]`): a field is found by its first name,
   * else its second, and by no other spelling. */
  const envelopeNames = JSON.parse(raw.envelopeNames()).filter(Boolean);

  // The live-list rules, driven against any store: plan (keys to read), decide (the write
  // for the callback's own key), and for a room_close, decideScanned for each stored
  // stream under plan.scanPrefix once the first write is stored.
  const stored = (record) => (record == null ? undefined : JSON.stringify(record));
  const live = {
    plan(callback) {
      try {
        return JSON.parse(raw.livePlan(JSON.stringify(callback)));
      } catch (e) {
        return rethrow(e);
      }
    },
    decide(callback, current, session) {
      try {
        return JSON.parse(raw.liveDecide(JSON.stringify(callback), stored(current), stored(session)));
      } catch (e) {
        return rethrow(e);
      }
    },
    decideScanned(callback, key, record) {
      try {
        return JSON.parse(raw.liveDecideScanned(JSON.stringify(callback), text("key", key), stored(record)));
      } catch (e) {
        return rethrow(e);
      }
    },
  };

  /**
   * A live list kept in memory, driven by the same rules as the Worker's KV: a store of its
   * own over `live`, the three steps of the core's `live::decide_all` (kept here rather than
   * in the wasm, where they cost more than the size goal leaves; tests/node/live.test.mjs
   * holds them to the core's LiveList over generated histories).
   */
  class LiveList {
    #records = new Map();

    /** Applies one callback (as `parse` or `receive` returned it); returns the keys written. */
    apply(callback) {
      const json = JSON.stringify(callback);
      let plan, written = [];
      try {
        plan = JSON.parse(raw.livePlan(json));
        if (plan === null) return written;
        const get = (key) => (key == null ? undefined : stored(this.#records.get(key)));
        const write = JSON.parse(raw.liveDecide(json, get(plan.key), get(plan.sessionKey)));
        if (write) this.#put(write, written);
        if (plan.scanPrefix != null) {
          for (const [key, record] of [...this.#records]) {
            if (!key.startsWith(plan.scanPrefix)) continue;
            const ended = JSON.parse(raw.liveDecideScanned(json, key, stored(record)));
            if (ended) this.#put(ended, written);
          }
        }
      } catch (e) {
        return rethrow(e);
      }
      return written;
    }

    #put(write, written) {
      this.#records.set(write.key, write.record);
      written.push(write.key);
    }

    #live(kind) {
      return [...this.#records.keys()]
        .sort()
        .map((key) => this.#records.get(key)[kind])
        .filter((r) => r !== undefined && r.state === "live")
        .map((r) => r[kind]);
    }

    /** The live streams, sorted by key (room, then stream id). */
    streams() {
      return this.#live("stream");
    }

    /** The running mix tasks, sorted by key. */
    mixes() {
      return this.#live("mix");
    }

    /** Every stored record by key, tombstones included. */
    records() {
      return Object.fromEntries([...this.#records.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  }

  return {
    sign,
    signingString,
    verifySignature,
    parse,
    receive,
    schemas,
    envelopeNames,
    defaults,
    live,
    LiveList,
    ZegoCallbackError,
  };
}
