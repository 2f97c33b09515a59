// The Live section: a running Worker's live list, pushed over its WebSocket (a snapshot, then
// each change as the Worker applies it; no polling), as tables and as a timeline per room.

import { applyFrame, emptyFeed, feedMixes, feedStreams, subscribeUrl, timeline } from "../lib/feed.mjs";
import { $, badge, empty, errorBox, fill, h, isoTime } from "./dom.mjs";
import { mixesTable, streamsTable } from "./lists.mjs";

/** The token `.dev.vars.example` sets, offered when the page is served from this machine. */
export const DEV_TOKEN = "zego-dev-read-token";

/** The Worker URL to offer: this page's own origin when it is served over http(s). */
export function defaultWorkerUrl(loc = location) {
  return /^https?:$/.test(loc.protocol) ? loc.origin : "http://127.0.0.1:8787";
}

const isLoopback = (loc) => ["127.0.0.1", "localhost", "[::1]"].includes(loc.hostname);

/** Why a socket closed, in words, from its close code. */
function closeReason(event, everOpen) {
  if (!everOpen) {
    return "The Worker refused the subscription or could not be reached. Check the URL, the token (READ_TOKEN) and the App ID (needed when the Worker has several apps, or accepts any).";
  }
  return event.reason ? `Closed by the Worker: ${event.reason} (${event.code}).` : `Closed (${event.code}).`;
}

/** Draws the timeline: per room, a lane per stream, a bar from its create to its end. */
function drawTimeline(feed, now) {
  const line = timeline(feed, now);
  if (!line.rooms.length) return empty("No streams yet: the timeline starts with the first one.");
  const bar = (b) => {
    const label = `${b.stream_id} (session ${b.room_session_id}): ${isoTime(b.start)} to ${b.open ? "now, live" : isoTime(b.end)}`;
    return h(
      "div",
      {
        class: `timeline-bar${b.open ? " open" : ""}`,
        style: `left:${b.left.toFixed(3)}%;width:${b.width.toFixed(3)}%`,
        title: label,
        "aria-label": label,
        "data-stream": b.stream_id,
        "data-session": b.room_session_id,
      },
      h("span", {}, b.room_session_id),
    );
  };
  return h(
    "div",
    { class: "timeline", role: "figure", "aria-label": "Timeline of each room's streams" },
    h("div", { class: "timeline-axis" }, h("span", {}, isoTime(line.from)), h("span", {}, isoTime(line.to))),
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
            h("div", { class: "timeline-track" }, lane.bars.map(bar)),
          ),
        ),
      ),
    ),
  );
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

  urlInput.value = defaultWorkerUrl();
  if (isLoopback(location)) token.value = DEV_TOKEN;

  let socket = null;
  let feed = emptyFeed();
  let ticker = null;

  function render() {
    const streams = feedStreams(feed);
    const mixes = feedMixes(feed);
    const scope = feed.room ? `room ${feed.room}` : `app ${feed.appid ?? "?"}`;
    fill(
      list,
      streamsTable(streams, `Live streams of ${scope} (${streams.length})`),
      feed.room ? null : mixesTable(mixes, `Running mixes of ${scope} (${mixes.length})`),
    );
    fill(chart, drawTimeline(feed, Date.now()));
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
    fill(chart);
    connect.disabled = true;
    disconnect.disabled = false;
    const ws = new WebSocket(url);
    socket = ws;
    let everOpen = false;
    ws.addEventListener("open", () => {
      everOpen = true;
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
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      clearInterval(ticker);
      connect.disabled = false;
      disconnect.disabled = true;
      fill(status, errorBox(everOpen ? "Disconnected" : "Could not subscribe", closeReason(event, everOpen)));
    });
    // Open bars grow with the clock; the list itself changes only when a frame arrives.
    ticker = setInterval(() => {
      if (feed.bars.some((b) => b.end === null)) fill(chart, drawTimeline(feed, Date.now()));
    }, 1000);
  }

  connect.addEventListener("click", start);
  disconnect.addEventListener("click", () => {
    stop();
    fill(status, h("p", { class: "muted" }, "Disconnected."));
  });
}
