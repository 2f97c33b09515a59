// A stand-in for ZEGO's server API, as the reconciliation tests need it: a real Node HTTP
// server on 127.0.0.1 that answers `DescribeSimpleStreamList` and checks every request as
// ZEGO documents it (the common parameters, the MD5 signature over the app's server secret,
// the timestamp within 10 minutes, one call per room every 10 s and 50 a second per app),
// answers the documented JSON, and can be told which streams are live in a room, to fail,
// to rate-limit or to answer late. It records every call.
//
// Codes (ZEGO's public return codes for its server API): 0 success; 7 more calls than the
// rate limit; 2 an input parameter is wrong; 100000004 the signature expired (the timestamp
// is out of the window); 100000005 the signature is wrong; 100000007 unsupported action;
// 100000008 no SignatureNonce; 100000013/14 no or unsupported SignatureVersion; 154 the list
// could not be had (DescribeSimpleStreamList's own). Which code ZEGO gives for the per-room
// limit is not documented: the stand-in answers 7, the public "too many calls" code.
import { createHash } from "node:crypto";
import { createServer } from "node:http";

/** The server secret the tests configure for app 1 (not the callback secret). */
export const SERVER_SECRET = "0123456789abcdef0123456789abcdef";

/** ZEGO's signature of a request. */
export const zegoSignature = (appId, nonce, secret, timestamp) =>
  createHash("md5").update(`${appId}${nonce}${secret}${timestamp}`).digest("hex");

/**
 * Starts the stand-in. `secrets` are the server secrets by appid; `roomIntervalMs` is the
 * per-room limit (ZEGO's is 10 s; the tests shorten it with the Worker's floor).
 */
export async function startZegoApi({ secrets = { 1: SERVER_SECRET }, roomIntervalMs = 10_000, perAppPerSecond = 50 } = {}) {
  /** Per room (`<appid>/<room>`): its live streams and how to answer. */
  const rooms = new Map();
  const calls = [];
  const lastCall = new Map();
  const appCalls = new Map();
  const room = (app, id) => {
    const key = `${app}/${id}`;
    if (!rooms.has(key)) rooms.set(key, { streams: [], mode: "ok", delayMs: 0 });
    return rooms.get(key);
  };

  const answer = (res, status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(body);
  };
  const code = (res, c, message) =>
    answer(res, 200, JSON.stringify({ Code: c, Message: message, RequestId: requestId() }));

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const q = url.searchParams;
    const call = {
      at: Date.now(),
      method: req.method,
      path: url.pathname,
      app: q.get("AppId"),
      room: q.get("RoomId"),
      query: Object.fromEntries(q),
      verified: false,
      code: null,
      status: 200,
    };
    calls.push(call);
    const refuse = (c, message) => {
      call.code = c;
      code(res, c, message);
    };
    if (req.method !== "GET") return refuse(2, "GET only");
    if (q.get("Action") !== "DescribeSimpleStreamList") return refuse(100000007, "Unsupported Action");
    const app = q.get("AppId");
    const secret = secrets[app];
    if (!app || !/^\d+$/.test(app) || secret === undefined) return refuse(100000001, "Invalid AppId");
    const nonce = q.get("SignatureNonce");
    if (!nonce) return refuse(100000008, "SignatureNonce is null");
    if (!/^[0-9a-f]{16}$/.test(nonce)) return refuse(2, "SignatureNonce is 16 hex characters");
    const ts = q.get("Timestamp");
    if (!ts) return refuse(100000002, "Timestamp is null");
    if (!/^\d+$/.test(ts)) return refuse(100000003, "Invalid Timestamp format");
    if (Math.abs(Number(ts) - Date.now() / 1000) > 600) return refuse(100000004, "Signature expired");
    const version = q.get("SignatureVersion");
    if (!version) return refuse(100000013, "SignatureVersion is null");
    if (version !== "2.0") return refuse(100000014, "Unsupported SignatureVersion");
    const signature = q.get("Signature");
    if (!signature) return refuse(100000009, "Signature is null");
    if (signature !== zegoSignature(app, nonce, secret, ts)) return refuse(100000005, "Invalid signature");
    call.verified = true;
    const roomId = q.get("RoomId");
    if (roomId === null || roomId === "") return refuse(2, "RoomId is required");

    // The limits: one call per room every `roomIntervalMs`, `perAppPerSecond` per app.
    const key = `${app}/${roomId}`;
    const last = lastCall.get(key);
    if (last !== undefined && call.at - last < roomIntervalMs) {
      call.tooSoon = true;
      return refuse(7, "The number of requests has exceeded the API rate limit");
    }
    const recent = (appCalls.get(app) ?? []).filter((t) => call.at - t < 1000);
    if (recent.length >= perAppPerSecond) {
      call.tooMany = true;
      return refuse(7, "The number of requests has exceeded the API rate limit");
    }
    lastCall.set(key, call.at);
    appCalls.set(app, [...recent, call.at]);

    const r = room(app, roomId);
    if (r.delayMs) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
    if (r.mode === "down") {
      call.status = 503;
      return answer(res, 503, "unavailable");
    }
    if (r.mode === "fail") return refuse(154, "Failed to get list information");
    if (r.mode === "rate_limited") return refuse(7, "The number of requests has exceeded the API rate limit");
    call.code = 0;
    call.listed = r.streams.map((s) => s.stream);
    // Written by hand so that StreamNumberId, a 64-bit number, keeps every digit.
    const list = r.streams.map(
      (s) =>
        `{"StreamId":${JSON.stringify(s.stream)},"UserId":${JSON.stringify(s.user ?? `u-${s.stream}`)},` +
        `"UserName":${JSON.stringify(s.name ?? `User ${s.stream}`)},"CreateTime":${s.created},` +
        `"StreamNumberId":${s.number ?? "18446744073709551615"}}`,
    );
    answer(res, 200, `{"Code":0,"Message":"success","RequestId":"${requestId()}","Data":{"StreamList":[${list.join(",")}]}}`);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();

  return {
    /** The base URL, for `ZEGO_API_BASE`. */
    url: `http://127.0.0.1:${port}/`,
    /** Every call received, in order. */
    calls,
    /** The calls for one room of an app. */
    callsFor: (app, roomId) => calls.filter((c) => c.app === String(app) && c.room === roomId),
    /** Sets what is live in a room: `[{ stream, created (ms), user?, name?, number? }]`. */
    live(app, roomId, streams) {
      room(String(app), roomId).streams = streams;
    },
    /** How the room's calls are answered: "ok", "fail" (Code 154), "down" (HTTP 503), "rate_limited" (Code 7). */
    mode(app, roomId, mode) {
      room(String(app), roomId).mode = mode;
    },
    /** Holds each answer for the room this long. */
    delay(app, roomId, ms) {
      room(String(app), roomId).delayMs = ms;
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

let requestCounter = 0;
const requestId = () => `${Date.now()}${++requestCounter}`;
