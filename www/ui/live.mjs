// The Live section: a running Worker's live list, pushed over its WebSocket (a snapshot, then
// each change as the Worker applies it; no polling), as tables and as a timeline per room.

import { applyFrame, emptyFeed, feedMixes, feedStreams, probeUrl, refusal, subscribeUrl } from "../lib/feed.mjs";
import { MIN_BAR_PX, spanText, timeline, WINDOWS } from "../lib/timeline.mjs";
import { $, badge, empty, errorBox, fill, h, isoTime } from "./dom.mjs";
import { mixesTable, streamsTable } from "./lists.mjs";

/** The token `.dev.vars.example` sets, offered when the page is served from this machine. */
export const DEV_TOKEN = "zego-dev-read-token";

/** The Worker URL to offer: this page's own origin when it is served over http(s). */
export function defaultWorkerUrl(loc = location) {
  return /^https?:$/.test(loc.protocol) ? loc.origin : "http://127.0.0.1:8787";
}

/** A bar label's padding on each side, in px (`.timeline-text` in style.css). */
const LABEL_PAD_PX = 4;

const isLoopback = (loc) => ["127.0.0.1", "localhost", "[::1]"].includes(loc.hostname);

/** Why an open socket closed, in words, from its close event. */
function closeReason(event) {
  return event.reason ? `Closed by the Worker: ${event.reason} (code ${event.code}).` : `Closed (code ${event.code}).`;
}

/** What the Worker answers the subscription URL over plain HTTP: `{ status, body }`, or null. */
async function probe(socketUrl) {
  try {
    const res = await fetch(probeUrl(socketUrl), { cache: "no-store", credentials: "omit" });
    const text = await res.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    return { status: res.status, body };
  } catch {
    return null;
  }
}

/** A bar's text alternative: which stream, which session, from when to when, how long. */
function barLabel(b, now) {
  const end = b.open ? now : b.end;
  const how =
    b.source === "zego_api"
      ? " (listed by a check of ZEGO's server API: its stream_create was lost)"
      : b.reason === "reconciled"
        ? " (ended by a check of ZEGO's server API: its stream_close was lost)"
        : "";
  return `${b.room_id} / ${b.stream_id}, session ${b.room_session_id}: ${isoTime(b.start)} to ${b.open ? "now (live)" : isoTime(b.end)}, ${spanText(end - b.start)}${how}`;
}

/** The latest corrections checks of ZEGO's server API made, newest first; null without any. */
function correctionsNote(feed) {
  if (!feed.corrections.length) return null;
  const line = (c) =>
    h(
      "li",
      {},
      h("span", { class: "nowrap" }, isoTime(c.at)),
      " ",
      h("code", {}, `${c.room_id} / ${c.stream_id}`),
      c.kind === "ended" ? " ended: gone at ZEGO, its stream_close was lost" : " listed: live at ZEGO, its stream_create was lost",
    );
  return h(
    "div",
    { class: "corrections", id: "live-corrections" },
    h("p", {}, h("span", { class: "badge corrected" }, "corrected"), " by the Worker's checks of ZEGO's server API:"),
    h("ul", {}, [...feed.corrections].reverse().map(line)),
  );
}

// A bar never narrower than MIN_BAR_PX, nor past its track's right edge.
const geometry = (b) => `left:min(${b.left.toFixed(3)}%, 100% - ${MIN_BAR_PX}px);width:max(${b.width.toFixed(3)}%, ${MIN_BAR_PX}px)`;
const barClass = (b) =>
  `timeline-bar label-${b.label}${b.open ? " open" : ""}${b.clipped ? " clipped" : ""}${b.source === "zego_api" ? " from-api" : ""}${b.reason === "reconciled" ? " reconciled" : ""}`;
const barsOf = (line) => line.rooms.flatMap((room) => room.lanes.flatMap((lane) => lane.bars));

/** The faint vertical lines of the axis's ticks, behind a lane's bars. */
const gridLines = (line) => line.ticks.map((t) => h("div", { class: "timeline-gridline", style: `left:${t.left.toFixed(3)}%` }));

/** The axis's ticks, under the lanes, each kept inside the track by its alignment. */
const scaleMarks = (line) => [
  h("span", { class: "timeline-probe" }, "0000000000"),
  line.ticks.map((t) => h("span", { class: `timeline-tick ${t.align}`, style: `left:${t.left.toFixed(3)}%` }, t.text)),
];

/** The window in words, beside its control. */
const windowNote = (line) =>
  line.window.id === "all" ? `showing everything, since ${isoTime(line.from)}` : `showing the last ${line.window.text}${line.window.auto ? ", fitted to the last day's activity" : ""}`;

function legend(line) {
  return [
    h("span", { class: "timeline-swatch open" }),
    " live, growing until now · ",
    h("span", { class: "timeline-swatch" }),
    " ended · a bar per room session, labelled with its room_session_id; a bar that began before the window starts at its left edge and says when it began; point at one for its times (UTC)",
    line.hidden ? h("span", { class: "timeline-hidden" }, ` · ${line.hidden} earlier bar${line.hidden === 1 ? "" : "s"} ended before this window: widen it to see ${line.hidden === 1 ? "it" : "them"}`) : null,
    barsOf(line).some((b) => b.source === "zego_api" || b.reason === "reconciled")
      ? [
          " · ",
          h("span", { class: "timeline-swatch open from-api" }),
          " listed by a check of ZEGO's server API (its stream_create was lost) · ",
          h("span", { class: "timeline-swatch reconciled" }),
          " ended by a check (its stream_close was lost)",
        ]
      : null,
  ];
}

/** Draws the timeline: per room, a lane per stream, a bar per session from its create to its end. */
function drawTimeline(line, now) {
  if (!line.rooms.length) {
    return line.hidden
      ? empty(`Nothing in this window: ${line.hidden} earlier bar${line.hidden === 1 ? "" : "s"} ended before it. Widen the window to see ${line.hidden === 1 ? "it" : "them"}.`)
      : empty("No streams yet: the timeline starts with the first one.");
  }
  const bar = (b) => {
    const label = barLabel(b, now);
    return h(
      "div",
      {
        class: barClass(b),
        style: geometry(b),
        role: "img",
        title: label,
        "aria-label": label,
        "data-bar": String(b.id),
        "data-stream": b.stream_id,
        "data-session": b.room_session_id,
      },
      h("span", { class: "timeline-text" }, b.text),
    );
  };
  return h(
    "div",
    { class: "timeline", role: "group", "aria-label": "Timeline of each room's streams" },
    h("div", { class: "timeline-axis" }, h("span", { class: "timeline-from" }, `from ${isoTime(line.from)}`), h("span", { class: "timeline-to" }, `to ${isoTime(line.to)} (now)`)),
    line.rooms.map((room) =>
      h(
        "div",
        { class: "timeline-group", "data-room": room.room_id },
        h("div", { class: "timeline-room" }, "room ", h("code", {}, room.room_id)),
        room.lanes.map((lane) =>
          h(
            "div",
            { class: "timeline-row" },
            h("div", { class: "timeline-label", title: lane.stream_id }, h("code", {}, lane.stream_id)),
            h("div", { class: "timeline-track" }, h("div", { class: "timeline-grid", "aria-hidden": "true" }, gridLines(line)), lane.bars.map(bar)),
          ),
        ),
      ),
    ),
    h("div", { class: "timeline-scale", "aria-hidden": "true" }, scaleMarks(line)),
    h("p", { class: "timeline-legend" }, legend(line)),
  );
}

/** The drawn track's width and the width of a character of the bars' font, in px; null before a draw. */
function measure(chart) {
  const scale = chart.querySelector(".timeline-scale");
  const probe = chart.querySelector(".timeline-probe");
  if (!scale || !probe || !scale.clientWidth) return null;
  return { track: scale.clientWidth, char: probe.getBoundingClientRect().width / 10, pad: LABEL_PAD_PX };
}

/** Moves the drawn bars, labels and ticks to `line` in place; false when other bars are to be drawn. */
function paint(chart, line, now) {
  const bars = barsOf(line);
  const drawn = chart.querySelectorAll(".timeline-bar");
  if (!bars.length || drawn.length !== bars.length || !bars.every((b, i) => drawn[i].dataset.bar === String(b.id))) return false;
  bars.forEach((b, i) => {
    const el = drawn[i];
    el.style.cssText = geometry(b);
    el.className = barClass(b);
    // A record listed from ZEGO's server API (session 0) is taken over by its real one.
    if (el.dataset.session !== b.room_session_id) el.dataset.session = b.room_session_id;
    const text = el.firstElementChild;
    if (text.textContent !== b.text) text.textContent = b.text;
    const label = barLabel(b, now);
    if (el.title !== label) {
      el.title = label;
      el.setAttribute("aria-label", label);
    }
  });
  chart.querySelector(".timeline-from").textContent = `from ${isoTime(line.from)}`;
  chart.querySelector(".timeline-to").textContent = `to ${isoTime(line.to)} (now)`;
  for (const grid of chart.querySelectorAll(".timeline-grid")) fill(grid, gridLines(line));
  fill(chart.querySelector(".timeline-scale"), scaleMarks(line));
  fill(chart.querySelector(".timeline-legend"), legend(line));
  return true;
}

/**
 * Brings the timeline to `now` in the chosen window (`choice`: "auto" or an id of WINDOWS).
 * The drawn bars are moved in place (open bars grow, the axis moves on), so that a bar being
 * pointed at keeps its tooltip; the chart is redrawn only when other bars are to be drawn.
 * Labels and ticks are placed for the track's measured width, measured again after a redraw.
 * Returns the line drawn.
 */
function advanceTimeline(chart, feed, now, choice) {
  let px = measure(chart);
  let line = timeline(feed, now, px ? { window: choice, px } : { window: choice });
  if (!paint(chart, line, now)) {
    fill(chart, drawTimeline(line, now));
    const measured = measure(chart);
    if (measured && (!px || measured.track !== px.track || measured.char !== px.char)) {
      px = measured;
      line = timeline(feed, now, { window: choice, px });
      if (!paint(chart, line, now)) fill(chart, drawTimeline(line, now));
    }
  }
  return line;
}

export function setupLive() {
  const urlInput = $("#live-url");
  const appInput = $("#live-appid");
  const token = $("#live-token");
  const room = $("#live-room");
  const connect = $("#live-connect");
  const disconnect = $("#live-disconnect");
  const status = $("#live-status");
  const list = $("#live-result");
  const chart = $("#live-timeline");
  const windowSelect = $("#live-window");
  const windowNoteEl = $("#live-window-note");

  fill(
    windowSelect,
    h("option", { value: "auto" }, "auto: follow recent activity"),
    WINDOWS.map((w) => h("option", { value: w.id }, w.id === "all" ? "everything" : `last ${w.text}`)),
  );
  const idle = () => {
    fill(chart, empty("Connect to draw each room's streams on a timeline."));
    fill(windowNoteEl);
  };
  idle();
  urlInput.value = defaultWorkerUrl();
  if (isLoopback(location)) token.value = DEV_TOKEN;

  let socket = null;
  let feed = emptyFeed();
  let ticker = null;
  let attempts = 0; // a later Connect or Disconnect makes an earlier attempt's news stale

  function render() {
    const streams = feedStreams(feed);
    const mixes = feedMixes(feed);
    const scope = feed.room ? `room ${feed.room}` : `app ${feed.appid ?? "?"}`;
    fill(
      list,
      streamsTable(streams, `Live streams of ${scope} (${streams.length})`),
      feed.room ? null : mixesTable(mixes, `Running mixes of ${scope} (${mixes.length})`),
      correctionsNote(feed),
    );
    redraw();
  }

  function redraw() {
    const line = advanceTimeline(chart, feed, Date.now(), windowSelect.value);
    const note = line.rooms.length || line.hidden ? windowNote(line) : "";
    if (windowNoteEl.textContent !== note) windowNoteEl.textContent = note;
  }

  function stop() {
    clearInterval(ticker);
    ticker = null;
    if (socket) {
      const s = socket;
      socket = null;
      s.close(1000, "closed by the page");
    }
    connect.disabled = false;
    disconnect.disabled = true;
  }

  function start() {
    stop();
    const attempt = ++attempts;
    let url;
    try {
      url = subscribeUrl(urlInput.value.trim(), { appid: appInput.value.trim(), token: token.value, room: room.value.trim() });
    } catch {
      fill(status, errorBox("Not a URL", `${JSON.stringify(urlInput.value)} is not an absolute http(s) URL.`));
      urlInput.focus();
      return;
    }
    const shown = new URL(url);
    if (shown.searchParams.has("token")) shown.searchParams.set("token", "…");
    feed = emptyFeed();
    fill(status, h("p", { class: "muted" }, `Connecting to ${shown}…`));
    fill(list);
    idle();
    connect.disabled = true;
    disconnect.disabled = false;
    const ws = new WebSocket(url);
    socket = ws;
    let everOpen = false;
    ws.addEventListener("open", () => {
      everOpen = true;
      if (socket === ws && !feed.frames) fill(status, h("p", { class: "muted" }, "Connected; waiting for the snapshot…"));
    });
    ws.addEventListener("message", (event) => {
      if (socket !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      applyFrame(feed, frame);
      const n = feed.streams.size;
      fill(
        status,
        h(
          "p",
          {},
          badge("ok", "live"),
          ` ${frame.type === "snapshot" ? "Snapshot" : "Change"} at ${isoTime(feed.at)}: ${n} live stream${n === 1 ? "" : "s"}; ${feed.frames} frame${feed.frames === 1 ? "" : "s"} received.`,
        ),
      );
      render();
    });
    ws.addEventListener("close", async (event) => {
      if (socket !== ws) return;
      socket = null;
      clearInterval(ticker);
      connect.disabled = false;
      disconnect.disabled = true;
      if (everOpen) {
        fill(status, errorBox("Disconnected", closeReason(event)));
        return;
      }
      // The browser hides the HTTP answer that refused the upgrade: ask for it over HTTP.
      fill(status, h("p", { class: "muted" }, "Could not subscribe; asking the Worker why…"));
      const why = refusal(await probe(url), { appid: appInput.value.trim() });
      if (attempt === attempts) fill(status, errorBox(why.title, ...why.lines));
    });
    // The window ends now: open bars grow and the axis moves on with the clock; the list
    // itself changes only when a frame arrives.
    ticker = setInterval(() => {
      if (feed.frames) redraw();
    }, 1000);
  }

  windowSelect.addEventListener("change", () => {
    if (feed.frames) redraw();
  });
  // Labels and ticks are placed for the track's width: place them again when it changes.
  let width = 0;
  new ResizeObserver(() => {
    if (chart.clientWidth !== width && feed.frames) redraw();
    width = chart.clientWidth;
  }).observe(chart);
  connect.addEventListener("click", start);
  disconnect.addEventListener("click", () => {
    attempts += 1;
    stop();
    fill(status, h("p", { class: "muted" }, "Disconnected."));
  });
}
