// The npm module's behaviour, run once per entry point (require, import, browser build).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const fixtures = join(__dirname, "..", "fixtures");
const manifest = JSON.parse(readFileSync(join(fixtures, "index.json"), "utf8"));
const read = (f) => readFileSync(join(fixtures, f.file));
const byFile = (name) => manifest.fixtures.find((f) => f.file === name);

function runSuite(label, api) {
  const { sign, signingString, verifySignature, parse, receive, ZegoCallbackError, schemas } = api;

  function throwsCode(fn, code, status) {
    assert.throws(fn, (e) => {
      assert.ok(e instanceof ZegoCallbackError, `not a ZegoCallbackError: ${e}`);
      assert.ok(e instanceof Error);
      assert.equal(e.name, "ZegoCallbackError");
      assert.equal(e.code, code, e.message);
      if (status !== undefined) assert.equal(e.status, status);
      return true;
    });
  }

  test(`${label}: ZEGO's known-answer signatures`, () => {
    assert.equal(sign("secret", "1470820198", "123412"), "5bd59fd62953a8059fb7eaba95720f66d19e4517");
    assert.equal(sign("secret", 1470820198, "123412"), "5bd59fd62953a8059fb7eaba95720f66d19e4517");
    assert.equal(sign("secret", 1470820198n, "99"), "4702a9c87c9a92ad11088b6c10ce1e734fa9a6b5");
    assert.equal(signingString("secret", "1470820198", "99"), "147082019899secret");
  });

  test(`${label}: verifySignature`, () => {
    const sig = "5bd59fd62953a8059fb7eaba95720f66d19e4517";
    assert.equal(verifySignature("secret", "1470820198", "123412", sig), true);
    assert.equal(verifySignature(["old", "secret"], 1470820198, "123412", sig), true);
    assert.equal(verifySignature("other", "1470820198", "123412", sig), false);
    assert.equal(verifySignature("secret", "1470820198", "123412", sig.slice(0, 39)), false, "truncated");
    assert.equal(verifySignature("secret", "1470820198", "123412", ""), false, "empty");
    throwsCode(() => verifySignature("", "1", "2", sig), "empty_secret", 500);
    throwsCode(() => verifySignature([], "1", "2", sig), "empty_secret", 500);
    throwsCode(() => verifySignature(42, "1", "2", sig), "invalid_option", 500);
    // Texts that are not all ASCII are packed one by one, as UTF-8 (a lone surrogate as
    // U+FFFD, as sign gives it to the wasm).
    for (const [secret, nonce] of [["sécret", "123412"], ["secret", "nönce"], ["秘密", "n"], ["s\u{1F511}", "n\ud800"]]) {
      const signed = sign(secret, "1470820198", nonce);
      assert.equal(verifySignature(secret, "1470820198", nonce, signed), true, `${secret} ${nonce}`);
      assert.equal(verifySignature(secret, "1470820198", nonce, signed.toUpperCase()), true, `${secret} ${nonce} upper`);
      assert.equal(verifySignature(secret, "1470820199", nonce, signed), false, `${secret} ${nonce} other timestamp`);
      assert.equal(verifySignature(secret, "1470820198", nonce, sig), false, `${secret} ${nonce} other signature`);
    }
    throwsCode(() => sign("secret", 1.5, "2"), "invalid_option");
  });

  test(`${label}: every good fixture parses to its event`, () => {
    const good = manifest.fixtures.filter((f) => f.event);
    assert.ok(good.length >= 13);
    for (const f of good) {
      const cb = parse(read(f), f.content_type);
      assert.equal(cb.event, f.event, f.file);
      assert.equal(cb.known, f.event !== "transcode_start", f.file);
      const fromString = parse(read(f).toString("utf8"), f.content_type);
      assert.deepEqual(fromString, cb, f.file);
    }
  });

  test(`${label}: every bad fixture throws its code`, () => {
    for (const f of manifest.fixtures.filter((f) => f.error)) {
      throwsCode(() => parse(read(f), f.content_type), f.error);
    }
  });

  test(`${label}: receive verifies signature and window, past and future`, () => {
    for (const f of manifest.fixtures.filter((f) => f.secret)) {
      const body = read(f);
      const opts = { secret: f.secret, contentType: f.content_type, now: f.now };
      assert.equal(receive(body, opts).event, f.event, f.file);
      throwsCode(() => receive(body, { ...opts, now: f.now + 301 }), "timestamp_out_of_window", 401);
      throwsCode(() => receive(body, { ...opts, now: f.now - 301 }), "timestamp_out_of_window", 401);
      assert.equal(receive(body, { ...opts, now: f.now + 1000, toleranceSeconds: 1000 }).event, f.event);
      throwsCode(() => receive(body, { ...opts, secret: "wrong" }), "invalid_signature", 401);
    }
  });

  test(`${label}: now defaults to the clock`, () => {
    const f = byFile("signed/mix_stop.json");
    throwsCode(() => receive(read(f), { secret: f.secret }), "timestamp_out_of_window");
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      event: "mix_stop", appid: "1", timestamp: String(ts), nonce: "n",
      signature: sign("s", ts, "n"), seq: "2", task_id: "t",
    });
    assert.equal(receive(body, { secret: "s" }).seq, 2);
  });

  test(`${label}: 64-bit ids keep every digit`, () => {
    const f400 = byFile("seeds/room_close.json");
    const f401 = byFile("signed/room_close_401.json");
    assert.equal(parse(read(f400)).room_session_id, "858012925204410400");
    assert.equal(receive(read(f401), { secret: f401.secret, now: f401.now }).room_session_id, "858012925204410401");
    // What a plain JSON.parse would have given for both:
    assert.equal(String(JSON.parse(read(f401)).room_session_id), "858012925204410400");
    const unknown = parse(read(byFile("signed/unknown_event.json")));
    assert.equal(unknown.fields.RoomSeq, "858012925204410401");
    assert.equal(unknown.fields.AppId, 1);
  });

  test(`${label}: the seed stream_create, typed`, () => {
    const cb = parse(read(byFile("seeds/stream_create.json")));
    assert.equal(cb.appid, 1);
    assert.equal(cb.timestamp, 1687981272);
    assert.equal(cb.stream_seq, 1);
    assert.equal(cb.create_time_ms, 1687981272742);
    assert.equal(cb.room_session_id, "1234567");
    assert.equal(cb.stream_attr, '{"cid":0}');
    assert.deepEqual(cb.codec, { cid: 0, name: "H.264" });
    assert.equal(cb.hls_url.length, 2);
    assert.deepEqual(cb.extra, {});
    const form = parse(read(byFile("signed/stream_create.form")), "application/x-www-form-urlencoded");
    assert.deepEqual({ ...form, signature: "" }, { ...cb, signature: "" });
  });

  test(`${label}: bodies as Buffer, Uint8Array, ArrayBuffer and DataView`, () => {
    const buf = read(byFile("seeds/mix_stop.json"));
    const u8 = new Uint8Array(buf);
    for (const body of [buf, u8, u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength), new DataView(u8.buffer, u8.byteOffset, u8.byteLength)]) {
      assert.equal(parse(body).task_id, "111111:1111");
    }
    throwsCode(() => parse(12), "invalid_option");
    throwsCode(() => parse({ event: "mix_stop" }), "invalid_option");
  });

  test(`${label}: limits and options`, () => {
    throwsCode(() => parse("x".repeat(65537)), "body_too_large", 413);
    throwsCode(() => parse(new Uint8Array(65537)), "body_too_large", 413);
    const f = byFile("signed/mix_stop.json");
    throwsCode(() => receive(read(f), { secret: f.secret, now: f.now, maxBodyBytes: 10 }), "body_too_large", 413);
    throwsCode(() => receive(read(f)), "invalid_option");
    throwsCode(() => receive(read(f), {}), "invalid_option");
    throwsCode(() => receive(read(f), { secret: "" }), "empty_secret", 500);
    throwsCode(() => receive(read(f), { secret: "s", now: "1" }), "invalid_option");
    throwsCode(() => receive(read(f), { secret: "s", toleranceSeconds: -1 }), "invalid_option");
    throwsCode(() => parse("{}", 5), "invalid_option");
    throwsCode(() => parse("{}", "text/xml"), "unsupported_content_type", 415);
  });

  test(`${label}: errors name the field and never the secret`, () => {
    const f = byFile("bad/stream_seq_bool.json");
    assert.throws(() => parse(read(f)), (e) => e.field === "stream_seq" && /stream_seq/.test(e.message));
    const s = byFile("signed/stream_create.json");
    assert.throws(
      () => receive(read(s), { secret: "hunter2-secret", now: s.now }),
      (e) => e.code === "invalid_signature" && !e.message.includes("hunter2"),
    );
  });

  test(`${label}: a thrown error leaves the module usable`, () => {
    for (let i = 0; i < 2000; i++) assert.throws(() => parse(i % 2 ? "{" : new Uint8Array([0xff])));
    assert.equal(parse(read(byFile("seeds/room_close.json"))).event, "room_close");
  });

  test(`${label}: schemas describe every documented event`, () => {
    const events = schemas.map((s) => s.event).sort();
    assert.deepEqual(events, ["mix_start", "mix_stop", "room_close", "room_create", "room_login", "room_logout", "stream_close", "stream_create"]);
    const create = schemas.find((s) => s.event === "stream_create");
    const rsid = create.fields.find((f) => f.name === "room_session_id");
    assert.equal(rsid.kind, "id");
    assert.ok(create.fields.find((f) => f.name === "room_id").max_bytes === 127);
  });
}

module.exports = { runSuite, manifest };
