// The Live view's timeline as geometry: which window of time it shows, where each bar and its
// label go on a track of a given width, and which times the axis marks and how it words
// them. Pure functions over a feed (lib/feed.mjs) and numbers: no DOM, tested in Node
// (tests/www/lib.test.mjs). Times are Unix milliseconds; every text is UTC.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The windows a reader can choose, narrowest first; "auto" picks one of them, "all" shows
 * every bar from the earliest start. A window always ends now: the view follows the list.
 */
export const WINDOWS = [
  ["1m", MINUTE, "1 min"],
  ["2m", 2 * MINUTE, "2 min"],
  ["5m", 5 * MINUTE, "5 min"],
  ["10m", 10 * MINUTE, "10 min"],
  ["30m", 30 * MINUTE, "30 min"],
  ["1h", HOUR, "1 h"],
  ["3h", 3 * HOUR, "3 h"],
  ["12h", 12 * HOUR, "12 h"],
  ["1d", DAY, "1 day"],
  ["3d", 3 * DAY, "3 days"],
  ["7d", 7 * DAY, "7 days"],
  ["30d", 30 * DAY, "30 days"],
  ["90d", 90 * DAY, "90 days"],
  ["1y", 365 * DAY, "1 year"],
  ["all", null, "everything"],
].map(([id, ms, text]) => ({ id, ms, text }));

/** What "auto" fits: the starts and ends of this recent past. Older bars are clipped. */
export const RECENT_MS = DAY;

/** The narrowest a bar is drawn, in px (CSS `--bar-min` must say the same). */
export const MIN_BAR_PX = 6;
const LABEL_GAP_PX = 4;
const TICK_GAP_PX = 12;
const MAX_TICKS = 7;

/** Where the track is measured when the page has not measured it (and in tests). */
const DEFAULT_PX = { track: 600, char: 7, pad: 4 };

/**
 * The window to draw at `now`: `{ id, text, ms, from, to, auto }`. `choice` is an id of
 * WINDOWS or "auto": the narrowest window that holds, with a tenth to spare, every start and
 * end of the last RECENT_MS (or, when nothing happened in it, the latest start or end).
 */
export function chooseWindow(bars, now, choice = "auto") {
  const events = bars.flatMap((b) => (b.end === null ? [b.start] : [b.start, b.end]));
  const to = Math.max(now, ...events);
  const earliest = Math.min(to, ...bars.map((b) => b.start));
  const all = WINDOWS.at(-1);
  const fixed = WINDOWS.find((w) => w.id === choice);
  let picked = fixed;
  if (!fixed) {
    const recent = events.filter((t) => t >= now - RECENT_MS);
    const oldest = recent.length ? Math.min(...recent) : events.length ? Math.max(...events) : to;
    const need = (to - oldest) * 1.1;
    picked = WINDOWS.find((w) => w.ms !== null && w.ms >= need) ?? all;
  }
  const from = picked.ms === null ? Math.min(earliest, to - SECOND) : to - picked.ms;
  return { id: picked.id, text: picked.text, ms: picked.ms, from, to, auto: !fixed };
}

/** A moment of a bar that lies outside the window, short: its date, or its time on the day `to` is. */
export function shortMoment(ms, to) {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) === new Date(to).toISOString().slice(0, 10) ? `${iso.slice(11, 19)}Z` : iso.slice(0, 10);
}

/**
 * The timeline at `now`: per room, a lane per stream (streams of a room overlap in time),
 * each with its bars (one per room session it was live in) inside the chosen window (`left`
 * and `width` in percent of the track; an open bar reaches `to`, a bar that began before the
 * window is `clipped` at its left edge and says when it began in its `text`). At most `limit`
 * bars (the latest) are considered; `hidden` counts those that ended before the window.
 * `px` is the track's measured width, the width of a character of the bars' and ticks' font
 * and a label's padding, in px: labels and ticks are placed so that none is cut or collides.
 */
export function timeline(feed, now, { window: choice = "auto", limit = 200, px = DEFAULT_PX } = {}) {
  const all = feed.bars.slice(-limit);
  const win = chooseWindow(all, now, choice);
  if (!all.length) return { from: win.from, to: win.to, window: win, relative: false, ticks: [], rooms: [], hidden: 0 };
  const { from, to } = win;
  const span = Math.max(1, to - from);
  const shown = all.filter((b) => (b.end ?? to) > from || b.start >= from);
  const rooms = new Map();
  for (const b of shown) {
    const clipped = b.start < from;
    const start = Math.min(Math.max(b.start, from), to);
    const left = ((start - from) / span) * 100;
    const width = Math.min(Math.max(0, (((b.end ?? to) - start) / span) * 100), 100 - left);
    const text = clipped ? `${b.end === null ? "since" : "from"} ${shortMoment(b.start, to)} · ${b.room_session_id}` : b.room_session_id;
    if (!rooms.has(b.room_id)) rooms.set(b.room_id, new Map());
    const lanes = rooms.get(b.room_id);
    if (!lanes.has(b.stream_id)) lanes.set(b.stream_id, []);
    lanes.get(b.stream_id).push({ ...b, open: b.end === null, clipped, left, width, text });
  }
  const relative = span <= HOUR;
  return {
    from,
    to,
    window: win,
    relative,
    ticks: axisTicks(from, to, { relative, px }),
    hidden: all.length - shown.length,
    rooms: [...rooms.entries()]
      .sort(([a], [b]) => cmp(a, b))
      .map(([room_id, lanes]) => ({
        room_id,
        lanes: [...lanes.entries()].sort(([a], [b]) => cmp(a, b)).map(([stream_id, bars]) => ({ stream_id, bars: placeLabels(bars, px) })),
      })),
  };
}

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Where each bar of a lane puts its label (`label`): "in" the bar when it fits, else just
 * "right" or "left" of it when the track has room there before the next bar or label, else
 * "cut" in the bar (the whole text stays in its tooltip). Bars are returned in time order.
 */
export function placeLabels(bars, { track, char, pad } = DEFAULT_PX) {
  const sorted = [...bars].sort((a, b) => a.left - b.left);
  const box = (b) => {
    const w = Math.max((b.width / 100) * track, MIN_BAR_PX);
    const x = Math.min((b.left / 100) * track, track - MIN_BAR_PX);
    return [x, x + w];
  };
  let used = 0; // the right end of what is drawn so far: bars and their labels
  return sorted.map((b, i) => {
    const [x0, x1] = box(b);
    const need = b.text.length * char + 2 * pad;
    const next = i + 1 < sorted.length ? box(sorted[i + 1])[0] : track;
    let label = "cut";
    if (x1 - x0 >= need) label = "in";
    else if (next - x1 >= need + LABEL_GAP_PX) label = "right";
    else if (x0 - used >= need + LABEL_GAP_PX) label = "left";
    used = label === "right" ? x1 + LABEL_GAP_PX + need : x1;
    return { ...b, label };
  });
}

/** A bar's length in words: "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function spanText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// Steps of the axis, finest first. A fixed step is `ms`; months and years follow the calendar.
const STEPS = [
  ...[1, 2, 5, 10, 15, 30].map((n) => ({ ms: n * SECOND })),
  ...[1, 2, 5, 10, 15, 30].map((n) => ({ ms: n * MINUTE })),
  ...[1, 2, 3, 6, 12].map((n) => ({ ms: n * HOUR })),
  ...[1, 2, 7, 14].map((n) => ({ ms: n * DAY })),
  ...[1, 2, 3, 6].map((n) => ({ months: n })),
  ...[1, 2, 5, 10, 20, 50, 100].map((n) => ({ months: 12 * n })),
];

/** The round moments of a step between `from` and `to`. */
function moments(from, to, step) {
  const out = [];
  if (step.ms) {
    for (let at = Math.ceil(from / step.ms) * step.ms; at <= to; at += step.ms) out.push(at);
    return out;
  }
  const d = new Date(from);
  const first = (month) => Date.UTC(Math.floor(month / 12), month % 12, 1);
  let month = Math.ceil((d.getUTCFullYear() * 12 + d.getUTCMonth()) / step.months) * step.months;
  if (first(month) < from) month += step.months;
  for (; first(month) <= to; month += step.months) out.push(first(month));
  return out;
}

/** What a round moment's tick says, at this step, on a window from `from` to `to` (UTC). */
function absoluteText(at, step, from, to) {
  const d = new Date(at);
  const iso = d.toISOString();
  const oneYear = new Date(from).getUTCFullYear() === new Date(to).getUTCFullYear();
  const date = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  if (step.months >= 12) return String(d.getUTCFullYear());
  if (step.months) return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  if (step.ms >= DAY) return oneYear ? date : `${date} ${d.getUTCFullYear()}`;
  // Within a day the time, and at midnight the date it starts.
  if (iso.slice(11, 19) === "00:00:00") return date;
  return step.ms < MINUTE ? iso.slice(11, 19) : iso.slice(11, 16);
}

/** What a tick `k` steps before now says: "now", "30 s ago", "5 min ago", "2 h ago". */
function relativeText(k, step) {
  if (k === 0) return "now";
  const ago = k * step.ms;
  if (step.ms < MINUTE) return `${ago / SECOND} s ago`;
  if (step.ms < HOUR) return `${ago / MINUTE} min ago`;
  return `${ago / HOUR} h ago`;
}

/**
 * The ticks of the axis: `{ at, left, text, align }` (left in percent; align "start",
 * "middle" or "end", so that a tick's text stays on the track). A window of up to an hour is
 * marked back from now ("now", "30 s ago", ...); a wider one at round UTC times, dates,
 * months or years, with the year whenever the window spans more than one. The step is the
 * finest that gives at most MAX_TICKS ticks whose texts, `px.char` wide per character, do
 * not touch each other on the track.
 */
export function axisTicks(from, to, { relative = false, px = DEFAULT_PX } = {}) {
  const span = to - from;
  if (!(span > 0)) return [];
  const { track, char } = px;
  for (const step of STEPS) {
    if (relative && !step.ms) break;
    const spacing = step.ms ? (step.ms / span) * track : (step.months * 28 * DAY * track) / span;
    if (spacing < Math.max(4 * char + TICK_GAP_PX, track / MAX_TICKS)) continue;
    let marks;
    if (relative) {
      marks = [];
      for (let k = 0; to - k * step.ms >= from; k++) marks.push({ at: to - k * step.ms, text: relativeText(k, step) });
      marks.reverse();
    } else {
      marks = moments(from, to, step).map((at) => ({ at, text: absoluteText(at, step, from, to) }));
    }
    const widest = Math.max(0, ...marks.map((m) => m.text.length)) * char;
    if (marks.length > 1 && spacing < widest + TICK_GAP_PX) continue;
    return keepApart(
      marks.map((m) => ({ ...m, left: ((m.at - from) / span) * 100 })),
      px,
    );
  }
  return [];
}

/** Aligns each tick's text inside the track, and drops any that would touch the one before. */
function keepApart(marks, { track, char }) {
  const out = [];
  let end = -Infinity;
  for (const m of marks) {
    const x = (m.left / 100) * track;
    const w = m.text.length * char;
    const align = x - w / 2 < 0 ? "start" : x + w / 2 > track ? "end" : "middle";
    const x0 = align === "start" ? x : align === "end" ? x - w : x - w / 2;
    if (x0 < end + TICK_GAP_PX / 2) continue;
    end = x0 + w;
    out.push({ ...m, align });
  }
  return out;
}
