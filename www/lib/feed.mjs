// A running Worker's live list, as its WebSocket pushes it: the subscription URL, the state a
// snapshot and each change make, and the timeline that state draws. Pure functions: no DOM,
// tested in Node (tests/www/lib.test.mjs).
//
// Frames (JSON text): first {"type":"snapshot","appid","at","streams":[...],"mixes":[...]}
// (a room's has "room_id" and no "mixes"), then one per change, in the order the Worker's
// objects applied them: {"type":"change","appid","at","kind":"stream"|"mix","key",
// "room_id","stream_id" | "task_id","record":{"state":"live"|"closed"|...,"version",...}}.
// Ids stay strings: room_session_id can be above 2^53.

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
  return { appid: null, room: null, at: null, streams: new Map(), mixes: new Map(), bars: [], frames: 0, barIds: 0 };
}

/** A bar of the timeline: one stream of one room session, from its create to its end. */
function openBar(feed, s) {
  const key = streamKey(s.room_id, s.stream_id);
  const open = feed.bars.find((b) => b.key === key && b.end === null);
  if (open && open.room_session_id === s.room_session_id) {
    open.title = s.title ?? open.title;
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
    start: s.create_time_ms,
    end: null,
  });
}

function closeBar(feed, room, stream, at) {
  const open = feed.bars.find((b) => b.key === streamKey(room, stream) && b.end === null);
  if (open) open.end = Math.max(open.start, at);
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
      feed.streams.set(key, stream);
      openBar(feed, stream);
    } else {
      feed.streams.delete(key);
      // A stream_close carries its own time; one ended by room_close ends when applied.
      const version = frame.record?.version;
      const end = version?.kind === "close" ? version.time_ms : frame.at;
      closeBar(feed, frame.room_id, frame.stream_id, end);
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

/**
 * The timeline at `now`: per room, a lane per stream (streams of a room overlap in time),
 * each with its bars (one per room session it was live in) placed on a common axis from the
 * earliest start to `now` (`left` and `width` in percent; an open bar reaches `now`). At most
 * `limit` bars (the latest) are drawn.
 */
export function timeline(feed, now, { limit = 200 } = {}) {
  const bars = feed.bars.slice(-limit);
  if (!bars.length) return { from: null, to: now, ticks: [], rooms: [] };
  const from = Math.min(...bars.map((b) => b.start));
  const to = Math.max(now, ...bars.map((b) => b.end ?? b.start));
  const span = Math.max(1, to - from);
  const rooms = new Map();
  for (const b of bars) {
    const left = Math.min(((b.start - from) / span) * 100, 99.5);
    const width = Math.min(Math.max(0.5, (((b.end ?? to) - b.start) / span) * 100), 100 - left);
    if (!rooms.has(b.room_id)) rooms.set(b.room_id, new Map());
    const lanes = rooms.get(b.room_id);
    if (!lanes.has(b.stream_id)) lanes.set(b.stream_id, []);
    lanes.get(b.stream_id).push({ ...b, open: b.end === null, left, width });
  }
  return {
    from,
    to,
    ticks: ticks(from, to),
    rooms: [...rooms.entries()]
      .sort(([a], [b]) => cmp(a, b))
      .map(([room_id, lanes]) => ({
        room_id,
        lanes: [...lanes.entries()].sort(([a], [b]) => cmp(a, b)).map(([stream_id, list]) => ({ stream_id, bars: list })),
      })),
  };
}

/** A bar's length in words: "42 s", "3 min 5 s", "2 h 10 min". */
export function spanText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

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

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const STEPS = [1, 2, 5, 10, 15, 30].map((n) => n * SECOND).concat([1, 2, 5, 10, 15, 30].map((n) => n * MINUTE), [1, 2, 3, 6, 12, 24].map((n) => n * HOUR));

/**
 * Round times between `from` and `to` to mark on the axis, at most `max`: `{ at, left }`
 * (left in percent), on whole multiples of a step of 1 s to a day (then whole days), UTC.
 */
export function ticks(from, to, max = 6) {
  const span = to - from;
  if (!(span > 0)) return [];
  const step = STEPS.find((s) => span / s < max) ?? Math.ceil(span / (max - 1) / (24 * HOUR)) * 24 * HOUR;
  const out = [];
  for (let at = Math.ceil(from / step) * step; at <= to; at += step) out.push({ at, left: ((at - from) / span) * 100, step });
  return out;
}

/** A tick's label (UTC): "17:52:30"; "17:52" on a step of whole minutes; "11-24" of days. */
export function tickText(at, step) {
  const iso = new Date(at).toISOString();
  if (step % (24 * HOUR) === 0) return iso.slice(5, 10);
  return step % MINUTE === 0 ? iso.slice(11, 16) : iso.slice(11, 19);
}
