// What a framework user needs around `receive`: event handlers (ZegoCallbacks), a nonce
// store, a web-standard handler, Node middleware and test helpers. A fragment, like api.js:
// scripts/build-pkg.mjs puts it after api.js in every entry and exports what
// `makeAdapters(api)` returns. It uses only web-standard globals (TextEncoder, crypto.subtle,
// Request, Response, URL), never `Buffer` or a `node:` import, so that it runs unchanged in
// Node, Workers, Deno, Bun and browsers.

function makeAdapters(api, rules) {
  const { receive, sign, defaults } = api;
  const encoder = new TextEncoder();
  const DEFAULT_PATH = "/zego/callback";

  // An error with the status the core's table gives its code.
  const fail = (message, code, field) => rules.error(message, code, field);

  const bytesOf = (body) =>
    typeof body === "string"
      ? encoder.encode(body)
      : body instanceof Uint8Array
        ? body
        : body instanceof ArrayBuffer
          ? new Uint8Array(body)
          : ArrayBuffer.isView(body)
            ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
            : body;

  /**
   * Remembers claims (a callback's signed timestamp and nonce) with the digest of their body,
   * in memory, until they expire: the default store. At most `maxEntries` are held; expired
   * ones are dropped as new ones come, and when every held claim is still inside the window
   * a new one is refused (`storage_failed`, 503, so ZEGO retries) rather than a live claim
   * forgotten (which would let its signature be replayed). One process only: several
   * processes behind a load balancer need a shared store (see the README's Redis recipe).
   */
  class MemoryNonceStore {
    #entries = new Map();
    #max;
    #now;

    constructor({ maxEntries = 100_000, now = () => Date.now() } = {}) {
      if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw fail("maxEntries: expected a positive integer", "invalid_option");
      this.#max = maxEntries;
      this.#now = now;
    }

    #dropExpired(now, all) {
      for (const [key, entry] of this.#entries) {
        if (entry.expires > now) {
          if (all) continue;
          break;
        }
        this.#entries.delete(key);
      }
    }

    /** `"new"` (claimed now), `"same"` (claimed with this digest: a retry) or `"other"`. */
    claim(key, digest, ttlSeconds) {
      const now = this.#now();
      // Oldest first: claims mostly expire in the order they came.
      this.#dropExpired(now, false);
      const held = this.#entries.get(key);
      const live = held !== undefined && held.expires > now;
      const decision = rules.decide(live ? held.digest : undefined, digest);
      if (decision !== "new") return decision;
      if (!this.#entries.has(key) && this.#entries.size >= this.#max) {
        this.#dropExpired(now, true);
        if (this.#entries.size >= this.#max) {
          throw fail(
            `the nonce store is full: ${this.#max} claims are still inside the window (raise maxEntries, or use a shared store)`,
            "storage_failed",
          );
        }
      }
      this.#entries.delete(key);
      this.#entries.set(key, { digest, expires: now + ttlSeconds * 1000 });
      return decision;
    }

    /** How many claims are held. */
    get size() {
      return this.#entries.size;
    }
  }

  // An envelope field of a callback: a documented event's own, or an unknown event's field
  // by its name or PascalCase twin (api.envelopeNames, the core's table).
  const envelopeField = (cb, name) => {
    if (cb.known) return cb[name];
    for (const n of api.envelopeNames.find(([snake]) => snake === name) ?? [name]) {
      if (cb.fields?.[n] !== undefined) return cb.fields[n];
    }
    return undefined;
  };
  const nonceOf = (cb) => envelopeField(cb, "nonce");
  const timestampOf = (cb) => envelopeField(cb, "timestamp");

  /** Claims a callback in the store; a store that throws is `storage_failed` (503). */
  async function claimIn(store, cb, body, toleranceSeconds) {
    const nonce = nonceOf(cb);
    if (typeof nonce !== "string" && typeof nonce !== "number") return;
    const key = rules.claimKey(timestampOf(cb), nonce);
    let claim;
    try {
      claim = await store.claim(key, rules.bodyDigest(bytesOf(body)), rules.claimTtlSeconds(toleranceSeconds));
    } catch (e) {
      if (e instanceof ZegoCallbackError && e.code === "storage_failed") throw e;
      // The store's own message may name hosts and addresses: kept as the cause, not answered.
      throw Object.assign(fail("the nonce store failed, so the callback was not handled (ZEGO retries it)", "storage_failed"), { cause: e });
    }
    if (!rules.decisions.has(claim)) throw fail(`the nonce store answered ${JSON.stringify(claim)}, not "new", "same" or "other"`, "storage_failed");
    if (claim === "other") throw fail(`nonce \`${nonce}\` was already used with a different body`, "replayed_nonce");
  }

  /** A handler failed: 500 (so that ZEGO retries) unless it threw an error with a status. */
  function handlerFailure(errors) {
    const first = errors[0];
    const status = Number.isInteger(first?.status) && first.status >= 400 && first.status <= 599 ? first.status : 500;
    const message = errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
    const error = fail(`a handler failed: ${message}`, first?.code && first instanceof ZegoCallbackError ? first.code : "handler_failed");
    error.status = status;
    error.errors = errors;
    error.cause = first;
    return error;
  }

  /**
   * Receives verified callbacks and hands them to handlers by event name:
   * `on(event | event[], handler)`, `onAny(handler)`, `onError(handler)`.
   */
  class ZegoCallbacks {
    #handlers = new Map();
    #any = new Set();
    #onError = new Set();
    #options;

    constructor(options = {}) {
      const { secret, toleranceSeconds, nonceStore, now, maxBodyBytes } = options ?? {};
      if (secret === undefined) throw fail("secret: a ZegoCallbacks needs the callback secret (or several)", "missing_secret");
      // Checked now rather than at the first callback.
      api.verifySignature(secret, "0", "0", "");
      this.#options = {
        secret,
        toleranceSeconds: toleranceSeconds ?? defaults.toleranceSeconds,
        maxBodyBytes: maxBodyBytes ?? defaults.maxBodyBytes,
        now,
        nonceStore: nonceStore ?? new MemoryNonceStore(),
      };
    }

    /** The largest body accepted, in bytes. */
    get maxBodyBytes() {
      return this.#options.maxBodyBytes;
    }

    /** Calls `handler(callback)` for the event(s) named (`"stream_create"`, ...). */
    on(events, handler) {
      for (const event of Array.isArray(events) ? events : [events]) {
        if (!this.#handlers.has(event)) this.#handlers.set(event, new Set());
        this.#handlers.get(event).add(handler);
      }
      return this;
    }

    /** Calls `handler(callback)` for every callback. */
    onAny(handler) {
      this.#any.add(handler);
      return this;
    }

    /** Calls `handler(error, callback)` when a handler fails. */
    onError(handler) {
      this.#onError.add(handler);
      return this;
    }

    /** Stops calling `handler` for `event` (`"*"`: the onAny handler; `"error"`: onError). */
    removeListener(event, handler) {
      if (event === "*") this.#any.delete(handler);
      else if (event === "error") this.#onError.delete(handler);
      else this.#handlers.get(event)?.delete(handler);
      return this;
    }

    /**
     * Verifies the body (signature, window), claims its signed timestamp and nonce (another
     * body under a claim already held is `replayed_nonce`; the same body again is a retry,
     * handled again), types it and awaits every matching handler. Resolves with the
     * callback; rejects with a `ZegoCallbackError` whose `status` is the answer to give.
     * One secret (or set) signs for every app it receives, so claims are never per app.
     */
    async verifyAndReceive({ body, contentType } = {}) {
      const o = this.#options;
      const now = o.now === undefined ? undefined : typeof o.now === "function" ? o.now() : o.now;
      const cb = receive(body, { secret: o.secret, contentType, toleranceSeconds: o.toleranceSeconds, maxBodyBytes: o.maxBodyBytes, now });
      await claimIn(o.nonceStore, cb, body, o.toleranceSeconds);
      const handlers = [...(this.#handlers.get(cb.event) ?? []), ...this.#any];
      const results = await Promise.allSettled(handlers.map(async (h) => h(cb)));
      const errors = results.filter((r) => r.status === "rejected").map((r) => r.reason);
      if (errors.length) {
        const error = handlerFailure(errors);
        await Promise.allSettled([...this.#onError].map(async (h) => h(error, cb)));
        throw error;
      }
      return cb;
    }
  }

  /** The JSON answer for an error: `{"error":{"code","message","field"}}` and its status. */
  function errorAnswer(e) {
    const error = e instanceof ZegoCallbackError ? e : fail("the callback could not be handled", "handler_failed");
    return { status: error.status, body: { error: { code: error.code, message: error.message, field: error.field ?? null } } };
  }

  const okAnswer = (cb) => ({ status: 200, body: { ok: true, event: cb.event } });

  /** The path a handler serves. */
  const pathOf = (options) => options?.path ?? DEFAULT_PATH;

  /**
   * The core both adapters share: `read(limit)` reads the raw body (null when it is larger
   * than `limit`), the callbacks verify and handle it; the answer's status and JSON body.
   */
  async function answer(callbacks, { method, path, expectedPath, contentType, contentLength, read }) {
    if (path !== expectedPath) return errorAnswer(fail("not found", "not_found"));
    if (method !== "POST") return { ...errorAnswer(fail("method not allowed", "method_not_allowed")), allow: "POST" };
    const limit = callbacks.maxBodyBytes;
    const declared = Number(contentLength);
    const tooLarge = (size) => errorAnswer(fail(`body of ${size} bytes is larger than the limit of ${limit} bytes`, "body_too_large"));
    if (contentLength != null && Number.isSafeInteger(declared) && declared > limit) return tooLarge(declared);
    let body;
    try {
      body = await read(limit);
    } catch (e) {
      // The sender's stream broke off (an aborted upload): nothing to verify.
      return errorAnswer(Object.assign(fail("the body could not be read to its end", "malformed_body"), { cause: e }));
    }
    if (body === null) return tooLarge(`more than ${limit}`);
    try {
      return okAnswer(await callbacks.verifyAndReceive({ body, contentType }));
    } catch (e) {
      return errorAnswer(e);
    }
  }

  /** Reads a web stream, stopping (null) past `limit` bytes. */
  async function readStream(stream, limit) {
    if (!stream) return new Uint8Array(0);
    const reader = stream.getReader();
    const chunks = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      body.set(c, at);
      at += c.byteLength;
    }
    return body;
  }

  const json = (status, body, extra = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...extra } });

  /**
   * A web-standard handler, `(request) => Promise<Response>`, for Workers, Deno, Bun,
   * Next.js route handlers and Hono: it reads the raw body itself.
   */
  function createHandler(callbacks, options) {
    const expectedPath = pathOf(options);
    return async function handle(request) {
      const { status, body, allow } = await answer(callbacks, {
        method: request.method,
        path: new URL(request.url).pathname,
        expectedPath,
        contentType: request.headers.get("content-type"),
        contentLength: request.headers.get("content-length"),
        read: (limit) => readStream(request.body, limit),
      });
      return json(status, body, allow ? { allow } : {});
    };
  }

  /** Reads a Node request stream (`node:http`, Express, Connect), stopping past `limit`. */
  function readNode(req, limit) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      let over = false;
      req.on("data", (chunk) => {
        if (over) return;
        const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
        size += bytes.byteLength;
        if (size > limit) {
          over = true;
          resolve(null);
          return;
        }
        chunks.push(bytes);
      });
      req.on("end", () => {
        if (over) return;
        const body = new Uint8Array(size);
        let at = 0;
        for (const c of chunks) {
          body.set(c, at);
          at += c.byteLength;
        }
        resolve(body);
      });
      req.on("error", reject);
    });
  }

  const BODY_PARSED =
    "the request body was already parsed (req.body is an object) before this middleware ran, so the raw body " +
    "the signature covers is gone: mount createNodeMiddleware before any body parser (express.json(), " +
    "bodyParser.json(), ...), or give it the raw bytes (express.raw({ type: '*/*' }) on this path)";

  /**
   * Node middleware, `(req, res, next?)`, for `node:http`, Express, Connect and Fastify
   * (with @fastify/middie): it reads the raw body from the request stream. Requests for
   * other paths go to `next` (or get a 404 without one).
   */
  function createNodeMiddleware(callbacks, options) {
    const expectedPath = pathOf(options);
    return async function middleware(req, res, next) {
      const path = new URL(req.originalUrl ?? req.url, "http://localhost").pathname;
      if (path !== expectedPath && typeof next === "function") return next();
      const given = req.body;
      const raw = typeof given === "string" || given instanceof Uint8Array ? bytesOf(given) : undefined;
      let result;
      try {
        if (raw === undefined && given !== undefined && given !== null && (typeof given !== "object" || Object.keys(given).length || req.readableEnded)) {
          result = errorAnswer(fail(BODY_PARSED, "body_parsed"));
        } else {
          result = await answer(callbacks, {
            method: req.method,
            path,
            expectedPath,
            contentType: req.headers["content-type"],
            contentLength: req.headers["content-length"],
            read: (limit) => (raw !== undefined ? Promise.resolve(raw.byteLength > limit ? null : raw) : readNode(req, limit)),
          });
        }
      } catch (e) {
        result = errorAnswer(e);
      }
      const headers = { "content-type": "application/json; charset=utf-8" };
      if (result.allow) headers.allow = result.allow;
      // A body too large is not read to its end: close the connection rather than drain it.
      if (result.status === 413) headers.connection = "close";
      res.writeHead(result.status, headers);
      res.end(JSON.stringify(result.body));
    };
  }

  // ---------------------------------------------------------------------------------------
  // Test helpers

  /** Top-level members of a JSON object text: `[{ name, key, end }]`, from the member's
   * name (`key`) to the end of its value. */
  function jsonSpans(text) {
    const spans = [];
    let i = text.indexOf("{");
    if (i < 0) throw fail("expected a JSON object", "malformed_body");
    const skipString = (at) => {
      for (let j = at + 1; j < text.length; j++) {
        if (text[j] === "\\") j++;
        else if (text[j] === '"') return j + 1;
      }
      throw fail("unterminated string in the body", "malformed_body");
    };
    i++;
    for (;;) {
      while (/\s|,/.test(text[i] ?? "")) i++;
      if (text[i] === "}" || i >= text.length) break;
      const key = i;
      const keyEnd = skipString(i);
      const name = JSON.parse(text.slice(i, keyEnd));
      i = text.indexOf(":", keyEnd) + 1;
      while (/\s/.test(text[i])) i++;
      let depth = 0;
      for (; i < text.length; i++) {
        const c = text[i];
        if (c === '"') i = skipString(i) - 1;
        else if (c === "{" || c === "[") depth++;
        else if (c === "}" || c === "]") {
          if (depth === 0) break;
          depth--;
        } else if (c === "," && depth === 0) break;
      }
      let end = i;
      while (/\s/.test(text[end - 1])) end--;
      spans.push({ name, key, end });
    }
    return spans;
  }

  /** JSON text of an object, BigInt values written as exact integers. */
  function toJson(body) {
    return JSON.stringify(body, (_, v) => (typeof v === "bigint" ? `\u0000${v}\u0000` : v)).replace(/"\\u0000(-?\d+)\\u0000"/g, "$1");
  }

  const SIGNED = ["timestamp", "nonce", "signature"];

  function randomNonce() {
    const words = crypto.getRandomValues(new Uint32Array(2));
    return String((BigInt(words[0] & 0x1fffff) << 32n) | BigInt(words[1]));
  }

  /**
   * A body signed as ZEGO signs one: `timestamp` (default: now), `nonce` (default: random)
   * and `signature` set, everything else exactly as given. An object becomes JSON (64-bit
   * ids as strings or BigInt stay exact); a string stays JSON or form text.
   */
  function signCallback(body, { secret, timestamp, nonce } = {}) {
    if (typeof secret !== "string") throw fail("secret: expected a string", "invalid_option");
    const ts = String(timestamp ?? Math.floor(Date.now() / 1000));
    const n = String(nonce ?? randomNonce());
    const signature = sign(secret, ts, n);
    if (typeof body === "object" && body !== null && !(body instanceof Uint8Array)) {
      const rest = Object.fromEntries(Object.entries(body).filter(([k]) => !SIGNED.includes(k)));
      return toJson({ ...rest, timestamp: ts, nonce: n, signature });
    }
    if (typeof body !== "string") throw fail("body: expected an object or a string", "invalid_option");
    if (!/^\uFEFF?\s*\{/.test(body)) {
      const form = new URLSearchParams(body);
      form.set("timestamp", ts);
      form.set("nonce", n);
      form.set("signature", signature);
      return form.toString();
    }
    let text = body;
    const members = jsonSpans(text);
    // The whitespace before a member, to write the new ones the way the body is written.
    const open = text.indexOf("{") + 1;
    const indent = members.length ? text.slice(open, members[0].key) : "";
    // Remove the signed members (from the end, so the spans stay right), then add them.
    for (const member of members.filter((m) => SIGNED.includes(m.name)).reverse()) {
      let from = member.key;
      while (from > 0 && /\s/.test(text[from - 1])) from--;
      let to = member.end;
      let after = to;
      while (/\s/.test(text[after] ?? "")) after++;
      if (text[after] === ",") to = after + 1;
      else if (text[from - 1] === ",") from--; // the last member: take the comma before it
      text = text.slice(0, from) + text.slice(to);
    }
    const close = text.lastIndexOf("}");
    const head = text.slice(0, close).replace(/\s*$/, "");
    const tail = text.slice(close);
    const ending = /\n/.test(indent) ? "\n" : "";
    const colon = indent ? ": " : ":";
    const added = [["timestamp", ts], ["nonce", n], ["signature", signature]].map(([k, v]) => `"${k}"${colon}${JSON.stringify(v)}`);
    const sep = `,${indent}`;
    return `${head}${head.endsWith("{") ? indent : sep}${added.join(sep)}${ending}${tail}`;
  }

  /** A `Request` posting a signed body, ready for `createHandler` or `fetch`. */
  function signedRequest(url, body, options = {}) {
    const text = signCallback(body, options);
    const form = !/^\uFEFF?\s*\{/.test(text);
    return new Request(url, {
      method: "POST",
      headers: { "content-type": form ? "application/x-www-form-urlencoded" : "application/json", ...(options.headers ?? {}) },
      body: text,
    });
  }

  return { ZegoCallbacks, MemoryNonceStore, createHandler, createNodeMiddleware, signCallback, signedRequest };
}
