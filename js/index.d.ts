// Types of the zego-callback npm module. Field names are ZEGO's own. 64-bit ids
// (room_session_id, room_seq, session_id) are decimal strings, never numbers, so no digit
// is lost; every other integer is at most 2^53 - 1 and is a number.

/** A 64-bit identifier as an exact decimal string, e.g. "858012925204410401". */
export type Id64 = string;

/** A value as received, for fields the library does not declare: numbers that a JS number
 * cannot hold exactly (beyond 2^53, or with a fraction) are their exact text as a string. */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [name: string]: FieldValue };

/** The fields every documented callback carries. */
export interface Envelope<E extends string> {
  event: E;
  /** Always true for a documented event; false for an {@link UnknownCallback}. */
  known: true;
  appid: number;
  /** Unix seconds. The signature covers its text exactly as received. */
  timestamp: number;
  nonce: string;
  signature: string;
  /** Fields ZEGO sent that this version does not declare, as received. */
  extra: { [name: string]: FieldValue };
}

/** The codec named by `stream_attr`'s cid. */
export interface Codec {
  /** 0 H.264, 1 H.264 SVC, 2 VP8, 3 H.265. */
  cid: number;
  name: "H.264" | "H.264 SVC" | "VP8" | "H.265" | "unknown";
}

/** `stream_create`: a stream started publishing. */
export interface StreamCreate extends Envelope<"stream_create"> {
  room_id: string;
  room_session_id: Id64;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  stream_id: string;
  stream_sid?: string;
  title?: string;
  stream_alias?: string;
  /** As received, e.g. `{"cid":0}`; see {@link StreamCreate.codec}. */
  stream_attr?: string;
  stream_seq: number;
  create_time?: number;
  create_time_ms: number;
  extra_info?: string;
  /** 1: the client re-published a stream the server already had; 0: a new stream. */
  recreate?: number;
  publish_id?: string;
  publish_name?: string;
  rtmp_url: string[];
  hls_url: string[];
  hdl_url: string[];
  pic_url: string[];
  /** The codec from `stream_attr`; null when it is absent or does not parse. */
  codec: Codec | null;
}

/** `stream_close`: a stream stopped publishing. */
export interface StreamClose extends Envelope<"stream_close"> {
  room_id: string;
  room_session_id: Id64;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  /** 0 normal; 1 heartbeat timeout; 2 logged in again; 3 kicked out; 4 TCP lost; 5 room cleared; 100 DeleteStream. */
  type?: number;
  stream_alias?: string;
  stream_id: string;
  stream_sid?: string;
  stream_seq: number;
  third_define_data?: string;
  create_time_ms?: number;
  destroy_timemillis: number;
}

/** `room_create`: a room was created. */
export interface RoomCreate extends Envelope<"room_create"> {
  room_id: string;
  room_session_id: Id64;
  room_create_time?: number;
  id_name?: string;
}

/** `room_close`: a room was closed, ending its streams. */
export interface RoomClose extends Envelope<"room_close"> {
  room_id: string;
  room_session_id: Id64;
  close_reason?: number;
  room_close_time: number;
}

/** `room_login`: a user logged in to a room. */
export interface RoomLogin extends Envelope<"room_login"> {
  room_id: string;
  room_name?: string;
  room_seq: Id64;
  user_account: string;
  user_nickname?: string;
  session_id?: Id64;
  login_time?: number;
  user_role?: number;
}

/** `room_logout`: a user left a room. */
export interface RoomLogout extends Envelope<"room_logout"> {
  room_id: string;
  room_name?: string;
  room_seq: Id64;
  user_account: string;
  user_nickname?: string;
  session_id?: Id64;
  logout_time?: number;
  reason?: number;
}

/** `mix_start`: a stream mixing task started. */
export interface MixStart extends Envelope<"mix_start"> {
  seq: number;
  task_id: string;
  channel_id?: string;
  publish_id?: string;
  mix_url?: string;
  mix_stream_alias?: string;
  rtmp_urls: string[];
  hls_urls: string[];
  hdl_urls: string[];
  stream_alias?: string;
}

/** `mix_stop`: a stream mixing task stopped. */
export interface MixStop extends Envelope<"mix_stop"> {
  seq: number;
  task_id: string;
  channel_id?: string;
  publish_id?: string;
  mix_url?: string;
  mix_stream_alias?: string;
}

/** Every documented callback: a union discriminated by `event`. */
export type KnownCallback =
  | StreamCreate
  | StreamClose
  | RoomCreate
  | RoomClose
  | RoomLogin
  | RoomLogout
  | MixStart
  | MixStop;

/** Any other event (e.g. `transcode_start` with PascalCase keys): acknowledged, never an error. */
export interface UnknownCallback {
  event: string;
  known: false;
  /** Every field as received, `event`/`Event` included. */
  fields: { [name: string]: FieldValue };
}

/** What `parse` and `receive` return. Test `known` first, then switch on `event`. */
export type ZegoCallback = KnownCallback | UnknownCallback;

/** The stable error codes. */
export type ErrorCode =
  | "malformed_body"
  | "missing_field"
  | "invalid_field"
  | "unsupported_content_type"
  | "invalid_signature"
  | "timestamp_out_of_window"
  | "empty_secret"
  | "body_too_large"
  | "replayed_nonce"
  | "missing_secret"
  | "invalid_option"
  | "storage_failed"
  | "unknown_app"
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "upgrade_required"
  | "handler_failed"
  | "body_parsed";

/** Thrown by every function: an `Error` with a stable `code` and the HTTP `status` to answer. */
export declare class ZegoCallbackError extends Error {
  readonly name: "ZegoCallbackError";
  readonly code: ErrorCode;
  readonly status: number;
  /** The field at fault, for `missing_field` and `invalid_field`. */
  readonly field?: string;
}

/** A body: text, or bytes (a Node Buffer is a Uint8Array). */
export type Body = string | Uint8Array | ArrayBuffer;

export interface ReceiveOptions {
  /** The callback secret, or several (rotation): a signature by any of them is accepted. */
  secret: string | readonly string[];
  /** The request's Content-Type; absent means "look at the body". */
  contentType?: string | null;
  /** The current time in Unix seconds; defaults to the clock. */
  now?: number;
  /** How far a timestamp may be from `now`, before or after. Default 300. */
  toleranceSeconds?: number;
  /** The largest body accepted, in bytes. Default 65536. */
  maxBodyBytes?: number;
}

/** `hex(sha1(sorted secret, timestamp, nonce))` in lowercase: ZEGO's signature. */
export declare function sign(secret: string, timestamp: string | number | bigint, nonce: string): string;

/** The sorted string that is hashed. It contains the secret. */
export declare function signingString(secret: string, timestamp: string | number | bigint, nonce: string): string;

/** Whether `signature` signs `(timestamp, nonce)` under the secret or any of the secrets. */
export declare function verifySignature(
  secretOrSecrets: string | readonly string[],
  timestamp: string | number | bigint,
  nonce: string,
  signature: string,
): boolean;

/** Decodes and types a callback body, without checking its signature. */
export declare function parse(body: Body, contentType?: string | null): ZegoCallback;

/** Decodes, verifies (signature, then timestamp window) and types a callback body. */
export declare function receive(body: Body, options: ReceiveOptions): ZegoCallback;

export interface FieldSchema {
  name: string;
  kind: "string" | "integer" | "id" | "app_id" | "timestamp" | "strings" | "stream_attr";
  required: boolean;
  max_bytes: number | null;
  doc: string;
}

export interface EventSchema {
  event: KnownCallback["event"];
  doc: string;
  fields: FieldSchema[];
}

/** Every documented event: its fields, their kinds, limits and ZEGO's descriptions. */
export declare const schemas: readonly EventSchema[];

/** The defaults `receive` uses. */
export declare const defaults: { readonly toleranceSeconds: number; readonly maxBodyBytes: number };

/** A live stream, as the live list shows it. */
export interface LiveStream {
  room_id: string;
  stream_id: string;
  room_session_id: Id64;
  stream_seq: number;
  create_time_ms: number;
  /** Present (true) when the stream was re-published (`recreate = 1`). */
  recreate?: true;
  user_id?: string;
  user_name?: string;
  title?: string;
  stream_alias?: string;
  stream_sid?: string;
  extra_info?: string;
  codec?: Codec;
  rtmp_url?: string[];
  hls_url?: string[];
  hdl_url?: string[];
  pic_url?: string[];
}

/** A running stream mixing task, as the live list shows it. */
export interface LiveMix {
  task_id: string;
  seq: number;
  channel_id?: string;
  publish_id?: string;
  mix_url?: string;
  mix_stream_alias?: string;
  rtmp_urls?: string[];
  hls_urls?: string[];
  hdl_urls?: string[];
  stream_alias?: string;
}

/** What the rules store under one key; tombstones included. Opaque to most callers: store
 * it as JSON and hand it back to {@link live}. */
export type StoredRecord =
  | { stream: { state: "live"; version: object; stream: LiveStream } | { state: "closed"; version: object } }
  | { session: { room_id: string; room_session_id: Id64; room_close_time: number; close_reason?: number } }
  | { mix: { state: "live"; version: object; mix: LiveMix } | { state: "stopped"; version: object; task_id: string } };

/** The keys a callback touches. */
export interface LivePlan {
  /** The key the callback writes. */
  key: string;
  /** Read this key too before deciding (a stream_create's room session). */
  sessionKey: string | null;
  /** For a room_close: once the first write is stored, pass each record under this prefix to `decideScanned`. */
  scanPrefix: string | null;
}

/** One write to carry out: store `record` under `key`, expiring after `ttlSeconds` when not null. */
export interface LiveWrite {
  key: string;
  record: StoredRecord;
  ttlSeconds: number | null;
}

/** The live-list rules, for a store of one's own (a database, another KV): order-proof and
 * idempotent, the same decisions as the Worker's. */
export declare const live: {
  /** Which keys a callback touches; null when it does not concern the live list. */
  plan(callback: ZegoCallback): LivePlan | null;
  /** The write for the plan's key, given what is stored under `key` and `sessionKey`; null: write nothing. */
  decide(callback: ZegoCallback, current?: StoredRecord | null, session?: StoredRecord | null): LiveWrite | null;
  /** For a room_close: the write for one record found under `scanPrefix`; null: leave it. */
  decideScanned(callback: ZegoCallback, key: string, record: StoredRecord): LiveWrite | null;
};

/** A live list kept in memory, driven by the same rules. */
export declare class LiveList {
  /** Applies one callback (as `parse`/`receive` returned it); returns the keys written. */
  apply(callback: ZegoCallback): string[];
  /** The live streams, sorted by key (room, then stream id). */
  streams(): LiveStream[];
  /** The running mix tasks, sorted by key. */
  mixes(): LiveMix[];
  /** Every stored record by key, tombstones included. */
  records(): { [key: string]: StoredRecord };
}

/** What a nonce store's `claim` found: claimed now, a retry of the same body, or a replay. */
export type NonceClaim = "new" | "same" | "other";

/**
 * Where `ZegoCallbacks` remembers what it accepted: `claim` records `(key, digest)` for
 * `ttlSeconds` unless the key is held, atomically. The key is the callback's signed
 * timestamp and nonce (`"<timestamp>:<nonce>"`), the digest the SHA-1 of its raw body. Sync
 * or async: a Redis `SET NX EX` fits. A store that throws makes the callback 503
 * `storage_failed` (ZEGO retries); its own message is kept as the error's `cause`.
 */
export interface NonceStore {
  claim(key: string, digest: string, ttlSeconds: number): NonceClaim | Promise<NonceClaim>;
}

/**
 * The default store: in memory, bounded, expiring. One process only. When `maxEntries`
 * claims are all still inside the window, a new one throws `storage_failed` (503) rather
 * than forget a live claim.
 */
export declare class MemoryNonceStore implements NonceStore {
  constructor(options?: { maxEntries?: number; now?: () => number });
  claim(key: string, digest: string, ttlSeconds: number): NonceClaim;
  /** How many claims are held. */
  readonly size: number;
}

export interface ZegoCallbacksOptions {
  /** The callback secret, or several while rotating. */
  secret: string | string[];
  /** The timestamp window, past and future, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Where nonces are remembered (default: a `MemoryNonceStore`). */
  nonceStore?: NonceStore;
  /** Unix seconds to check timestamps against, or a function giving them (default: the clock). */
  now?: number | (() => number);
  /** The largest body accepted, in bytes (default 65536). */
  maxBodyBytes?: number;
}

/** The callback type of an event name: narrowed for documented events. */
export type CallbackOf<E extends string> = E extends KnownCallback["event"] ? Extract<KnownCallback, { event: E }> : ZegoCallback;

/** A handler's failure, as `verifyAndReceive` rejects with it and `onError` gets it. */
export interface HandlerError extends ZegoCallbackError {
  /** Every handler's error. */
  readonly errors: unknown[];
}

/** Verified callbacks handed to handlers by event name. */
export declare class ZegoCallbacks {
  constructor(options: ZegoCallbacksOptions);
  /** The largest body accepted, in bytes. */
  readonly maxBodyBytes: number;
  on<E extends KnownCallback["event"] | (string & {})>(event: E | E[], handler: (callback: CallbackOf<E>) => unknown): this;
  onAny(handler: (callback: ZegoCallback) => unknown): this;
  onError(handler: (error: HandlerError, callback: ZegoCallback) => unknown): this;
  removeListener(event: string, handler: (...args: never[]) => unknown): this;
  /**
   * Verifies, claims the nonce, types and awaits every matching handler. Rejects with a
   * `ZegoCallbackError` whose `status` is the answer to give (a handler's failure: 500,
   * or the `status` of the error it threw).
   */
  verifyAndReceive(request: { body: Body; contentType?: string | null }): Promise<ZegoCallback>;
}

export interface HandlerOptions {
  /** The path served (default "/zego/callback"). */
  path?: string;
}

/** A web-standard handler for Workers, Deno, Bun, Next.js route handlers and Hono. */
export declare function createHandler(callbacks: ZegoCallbacks, options?: HandlerOptions): (request: Request) => Promise<Response>;

/** The parts of a Node request the middleware reads (`node:http`, Express, Connect). */
export interface NodeRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  readableEnded?: boolean;
  on(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** The parts of a Node response the middleware writes. */
export interface NodeResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

/** Node middleware, `(req, res, next?)`, for `node:http`, Express, Connect and Fastify (middie). */
export declare function createNodeMiddleware(
  callbacks: ZegoCallbacks,
  options?: HandlerOptions,
): (req: NodeRequest, res: NodeResponse, next?: (error?: unknown) => void) => Promise<void>;

export interface SignOptions {
  secret: string;
  /** Unix seconds, signed as given (default: now). */
  timestamp?: string | number | bigint;
  /** Default: random. */
  nonce?: string | number;
}

/**
 * A body signed as ZEGO signs one. An object becomes JSON (64-bit ids as strings or `bigint`
 * stay exact); a string stays JSON or form text, every other field exactly as given.
 */
export declare function signCallback(body: object | string, options: SignOptions): string;

/** A `Request` posting a signed body, ready for `createHandler` or `fetch`. */
export declare function signedRequest(url: string | URL, body: object | string, options: SignOptions & { headers?: Record<string, string> }): Request;

declare const api: {
  sign: typeof sign;
  signingString: typeof signingString;
  verifySignature: typeof verifySignature;
  parse: typeof parse;
  receive: typeof receive;
  schemas: typeof schemas;
  defaults: typeof defaults;
  live: typeof live;
  LiveList: typeof LiveList;
  ZegoCallbackError: typeof ZegoCallbackError;
  ZegoCallbacks: typeof ZegoCallbacks;
  MemoryNonceStore: typeof MemoryNonceStore;
  createHandler: typeof createHandler;
  createNodeMiddleware: typeof createNodeMiddleware;
  signCallback: typeof signCallback;
  signedRequest: typeof signedRequest;
};
export default api;
