// Type-level tests of pkg/index.d.ts, checked by `tsc --noEmit` (nothing runs).
// Each `@ts-expect-error` must be an error, or tsc fails: the types can fail too.
import {
  parse,
  receive,
  sign,
  verifySignature,
  ZegoCallbackError,
  type ZegoCallback,
  type StreamCreate,
  type Id64,
  type ForwardedCallback,
  type ForwardedCorrection,
  type ForwardedMessage,
} from "zego-callback";
import api from "zego-callback";

declare const body: string;
declare const bytes: Uint8Array;

const cb: ZegoCallback = receive(body, { secret: ["old", "new"], contentType: "application/json", now: 1, toleranceSeconds: 60 });

// Narrow on `known`, then switch on `event`: each branch sees its own fields.
if (cb.known) {
  switch (cb.event) {
    case "stream_create": {
      const id: Id64 = cb.room_session_id;
      const seq: number = cb.stream_seq;
      const urls: string[] = cb.rtmp_url;
      const codec: string | undefined = cb.codec?.name;
      void [id, seq, urls, codec];
      break;
    }
    case "stream_close": {
      const t: number | undefined = cb.type;
      const ms: number = cb.destroy_timemillis;
      // @ts-expect-error rtmp_url belongs to stream_create
      void cb.rtmp_url;
      void [t, ms];
      break;
    }
    case "room_close": {
      // @ts-expect-error room_session_id is a decimal string, never a number
      const n: number = cb.room_session_id;
      void n;
      break;
    }
    case "mix_stop":
      void (cb.seq + 1);
      break;
    case "room_login":
    case "room_logout":
      void cb.room_seq.length;
      break;
    case "room_create":
    case "mix_start":
      break;
    default: {
      const exhaustive: never = cb;
      void exhaustive;
    }
  }
  void cb.extra;
} else {
  const name: string = cb.event;
  const value = cb.fields["TaskId"];
  void [name, value];
}

const created = parse(bytes, null) as StreamCreate;
void created.stream_id;

const s: string = sign("secret", 1470820198, "123412");
const ok: boolean = verifySignature(["a", "b"], "1470820198", "123412", s);
void ok;

try {
  api.parse(new ArrayBuffer(0));
} catch (e) {
  if (e instanceof ZegoCallbackError) {
    const status: number = e.status;
    // @ts-expect-error codes are a closed union
    const wrong: typeof e.code = "no_such_code";
    void [status, wrong];
  }
}

// @ts-expect-error the secret is required
receive(body, {});
// @ts-expect-error a body is text or bytes
parse(42);

// Framework adapters: handlers narrowed by the event name given to `on`.
import { createHandler, createNodeMiddleware, MemoryNonceStore, signCallback, signedRequest, ZegoCallbacks, type NonceStore } from "zego-callback";

const callbacks = new ZegoCallbacks({ secret: "s", nonceStore: new MemoryNonceStore({ maxEntries: 10 }) });
callbacks.on("stream_create", (c) => {
  const session: Id64 = c.room_session_id;
  const seq: number = c.stream_seq;
  // @ts-expect-error a stream_create has no task_id
  c.task_id;
  return [session, seq];
});
callbacks.on(["mix_start", "mix_stop"], (c) => c.task_id);
callbacks.on("transcode_start", (c) => c.event);
callbacks.onAny((c) => c.event).onError((e) => e.errors.length);
// @ts-expect-error a secret is required
new ZegoCallbacks({});
const handle: (r: Request) => Promise<Response> = createHandler(callbacks, { path: "/hook" });
const middleware = createNodeMiddleware(callbacks);
const redis: NonceStore = { claim: async (_n, _d, _ttl) => "new" as const };
new ZegoCallbacks({ secret: ["a", "b"], nonceStore: redis, now: () => 1 });
const signedText: string = signCallback({ event: "mix_stop", task_id: "t", seq: 1, room_session_id: 1n }, { secret: "s" });
const request: Request = signedRequest("http://127.0.0.1/zego/callback", signedText, { secret: "s", timestamp: 1, nonce: "n" });
// @ts-expect-error the secret is a string
signCallback("{}", { secret: 1 });
void [handle, middleware, request];

// What the Worker forwards, as a backend reads it.
function onForwarded(msg: ForwardedCallback): string | undefined {
  const seq: number | undefined = msg.live?.seq;
  if (msg.data.known && msg.data.event === "stream_create") return msg.data.room_session_id;
  void seq;
  return undefined;
}
void onForwarded;

// A correction of the Worker's checks of ZEGO's server API.
function onCorrection(msg: ForwardedCorrection): string[] {
  const ended: string[] = msg.data.ended.map((s) => s.stream_id);
  const numbers = msg.data.listed.filter((s) => s.source === "zego_api").map((s) => s.stream_number_id ?? "");
  // @ts-expect-error a correction is always a room's
  const task: string = msg.live.scope.task_id;
  void task;
  return [...ended, ...numbers, String(msg.data.asked_at)];
}
const anyMessage: ForwardedMessage[] = [];
void [onCorrection, anyMessage];
