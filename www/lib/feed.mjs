// A running Worker's live list, as its WebSocket pushes it: the subscription URL, the state a
// snapshot and each change make (the live records, and the bars the timeline draws from
// them: lib/timeline.mjs), and why a subscription was refused. Pure functions: no DOM, tested
// in Node (tests/www/lib.test.mjs).
//
// Frames (JSON text): first {"type":"snapshot","appid","at","streams":[...],"mixes":[...]}
// (a room's has "room_id" and no "mixes"), then one per change, in the order the Worker's
// objects applied them: {"type":"change","appid","at","kind":"stream"|"mix","key",
// "room_id","stream_id" | "task_id","record":{"state":"live"|"closed"|...,"version",...}}.
// Ids stay strings: room_session_id can be above 2^53.
//
// Corrections: when the Worker checks its rooms against ZEGO's server API, a stream whose
// stream_create was lost comes as a live record with "source":"zego_api" (replaced by its
// real record when the create arrives), and one whose stream_close was lost ends with
// "reason":"reconciled" on its record. The feed keeps both on the bars and in `corrections`.

/** The WebSocket URL of an app's (or one room's) subscription on the Worker at `base`. */
export function subscribeUrl(base, { appid, token, room } = {}) {
  const url = new URL(room ? `rooms/${encodeURIComponent(room)}/subscribe` : "subscribe", String(base).replace(/\/*$/, "/"));
  if (!/^https?:$/.test(url.protocol)) throw new TypeError(`${base} is not an http(s) URL`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (appid) url.searchParams.set("appid", appid);
  if (token) url.searchParams.set("token", token);
  return url;
}

const streamKey = (room, stream) => `${room}\u0000${stream}`;

/** An empty feed. */
export function emptyFeed() {
  return { appid: null, room: null, at: null, streams: new Map(), mixes: new Map(), bars: [], corrections: [], frames: 0, barIds: 0 };
}

/** How many corrections the feed keeps, the latest. */
export const MAX_CORRECTIONS = 20;

function correction(feed, c) {
  feed.corrections.push(c);
  if (feed.corrections.length > MAX_CORRECTIONS) feed.corrections.shift();
}

/** A bar of the timeline: one stream of one room session, from its create to its end. */
function openBar(feed, s) {
  const key = streamKey(s.room_id, s.stream_id);
  const open = feed.bars.find((b) => b.key === key && b.end === null);
  // A record listed from ZEGO's server API knows no session: the stream's real record, when
  // its create arrives, is the same publish, and takes over its bar.
  if (open && (open.room_session_id === s.room_session_id || open.source === "zego_api")) {
    // The same session's stream again (re-published, or its create re-sent): the bar starts
    // when the record the table shows says it was created, so the two never disagree.
    open.start = s.create_time_ms;
    open.title = s.title ?? open.title;
    open.room_session_id = s.room_session_id;
    open.source = s.source ?? null;
    return;
  }
  if (open) open.end = Math.max(open.start, s.create_time_ms);
  // A stream is live in one session at a time: an earlier session's bar (ended by its
  // room's close, when that was applied) ends at the latest when the next one starts.
  for (const b of feed.bars) {
    if (b.key === key && b.end !== null && b.start <= s.create_time_ms && b.end > s.create_time_ms) b.end = s.create_time_ms;
  }
  feed.bars.push({
    id: ++feed.barIds,
    key,
    room_id: s.room_id,
    stream_id: s.stream_id,
    room_session_id: s.room_session_id,
    title: s.title ?? null,
    source: s.source ?? null,
    reason: null,
    start: s.create_time_ms,
    end: null,
  });
}

function closeBar(feed, room, stream, at, reason = null) {
  const open = feed.bars.find((b) => b.key === streamKey(room, stream) && b.end === null);
  if (open) {
    open.end = Math.max(open.start, at);
    open.reason = reason;
  }
}

/**
 * The feed after one frame (the feed is updated in place and returned). A snapshot starts
 * over from the Worker's list; a change upserts a live record and removes an ended one.
 */
export function applyFrame(feed, frame) {
  feed.frames += 1;
  if (frame?.type === "snapshot") {
    feed.appid = frame.appid ?? null;
    feed.room = frame.room_id ?? null;
    feed.at = frame.at ?? null;
    feed.streams = new Map();
    feed.mixes = new Map();
    // Bars of streams gone since are closed at the snapshot; live ones stay open.
    for (const s of frame.streams ?? []) {
      feed.streams.set(streamKey(s.room_id, s.stream_id), s);
      openBar(feed, s);
    }
    for (const bar of feed.bars) {
      if (bar.end === null && !feed.streams.has(bar.key)) bar.end = Math.max(bar.start, frame.at ?? bar.start);
    }
    for (const m of frame.mixes ?? []) feed.mixes.set(m.task_id, m);
    return feed;
  }
  if (frame?.type !== "change") return feed;
  feed.at = frame.at ?? feed.at;
  if (frame.kind === "stream") {
    const key = streamKey(frame.room_id, frame.stream_id);
    const stream = frame.record?.state === "live" ? frame.record.stream : null;
    if (stream) {
      if (stream.source === "zego_api" && feed.streams.get(key)?.source !== "zego_api") {
        correction(feed, { at: frame.at, kind: "listed", room_id: frame.room_id, stream_id: frame.stream_id });
      }
      feed.streams.set(key, stream);
      openBar(feed, stream);
    } else {
      feed.streams.delete(key);
      // A stream_close carries its own time; one ended by room_close, or by a check of ZEGO's
      // server API (whose record keeps the stream's own version), ends when applied.
      const version = frame.record?.version;
      const reason = frame.record?.reason ?? null;
      const end = version?.kind === "close" && !reason ? version.time_ms : frame.at;
      closeBar(feed, frame.room_id, frame.stream_id, end, reason);
      if (reason === "reconciled") correction(feed, { at: frame.at, kind: "ended", room_id: frame.room_id, stream_id: frame.stream_id });
    }
  } else if (frame.kind === "mix") {
    const mix = frame.record?.state === "live" ? frame.record.mix : null;
    if (mix) feed.mixes.set(frame.task_id, mix);
    else feed.mixes.delete(frame.task_id);
  }
  return feed;
}

/** The live streams, sorted by room, then stream id. */
export function feedStreams(feed) {
  return [...feed.streams.values()].sort((a, b) => (a.room_id === b.room_id ? cmp(a.stream_id, b.stream_id) : cmp(a.room_id, b.room_id)));
}

/** The running mixes, sorted by task id. */
export function feedMixes(feed) {
  return [...feed.mixes.values()].sort((a, b) => cmp(a.task_id, b.task_id));
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The plain http(s) URL of a subscription: the Worker answers it with its reason to refuse. */
export function probeUrl(socketUrl) {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  return url;
}

const HINTS = {
  401: "The read token is missing or wrong: enter the Worker's READ_TOKEN (the development token with .dev.vars.example).",
  400: "Check the App ID and the room.",
  403: "This Worker does not receive callbacks for that App ID.",
  404: "Nothing answers at this path: check the Worker URL.",
};

/**
 * Why a subscription was refused, from the Worker's answer to the same URL over plain HTTP
 * (`{ status, body }`, the body parsed when JSON), or `null` when that could not be fetched.
 * A browser does not show a script the response that refused a WebSocket; this one does.
 * Returns `{ title, lines }`.
 */
export function refusal(answer, { appid } = {}) {
  if (!answer) {
    return {
      title: "Could not subscribe: no answer",
      lines: ["The Worker could not be reached at this URL (is it running, and is the URL right?)."],
    };
  }
  const { status, body } = answer;
  const error = body && typeof body === "object" ? body.error : null;
  if (status === 426) {
    // The Worker checks the token before the upgrade, the app after it.
    return appid
      ? {
          title: "Could not subscribe",
          lines: ["The Worker accepts the token, but the WebSocket did not open (a proxy on the way may not pass WebSockets)."],
        }
      : {
          title: "Could not subscribe: App ID needed",
          lines: ["The Worker accepts the token, and needs the App ID: it receives callbacks for several apps (or for any)."],
        };
  }
  const code = error?.code ? ` ${error.code}` : "";
  const lines = [];
  if (error?.message) lines.push(`${error.message}${error.field ? ` (field ${error.field})` : ""}`);
  lines.push(HINTS[status] ?? "The Worker answered, but not with a WebSocket: check the Worker URL.");
  return { title: `Could not subscribe: HTTP ${status}${code}`, lines };
}
