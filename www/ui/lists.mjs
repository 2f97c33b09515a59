// Tables of a live list: streams and mix tasks, as the module's LiveList and the Worker's
// GET /streams show them.

import { empty, h, isoTime, table } from "./dom.mjs";

const code = (v) => (v === undefined || v === null || v === "" ? h("span", { class: "muted" }, "—") : h("code", {}, String(v)));

const COMPACT = new Set(["room_id", "stream_id", "room_session_id", "stream_seq"]);

/** A table of live streams (or an empty state); `compact` keeps the identifying columns. */
export function streamsTable(streams, caption = "Live streams", { compact = false } = {}) {
  if (!streams.length) return empty("No live streams.");
  const columns = [
    { label: "room_id", cell: (s) => code(s.room_id) },
    { label: "stream_id", cell: (s) => code(s.stream_id) },
    { label: "room_session_id", cell: (s) => code(s.room_session_id) },
    { label: "stream_seq", cell: (s) => code(s.stream_seq) },
    { label: "created (UTC)", cell: (s) => h("span", { class: "nowrap", title: String(s.create_time_ms) }, isoTime(s.create_time_ms)) },
    { label: "user_id", cell: (s) => code(s.user_id) },
    { label: "title", cell: (s) => s.title ?? "" },
    { label: "codec", cell: (s) => s.codec?.name ?? "" },
    { label: "re-published", cell: (s) => (s.recreate ? "yes" : "") },
  ];
  // A stream the Worker listed from ZEGO's server API: its stream_create never came. Beside
  // the stream's id, where it is seen without scrolling.
  if (streams.some((s) => s.source)) {
    columns.splice(2, 0, {
      label: "source",
      cell: (s) =>
        s.source === "zego_api"
          ? h("span", { class: "badge corrected", title: "Listed by a check of ZEGO's server API: its stream_create was lost. Its real record replaces this one if the create comes." }, "ZEGO API")
          : h("span", { class: "muted" }, "callback"),
    });
  }
  return table(compact ? columns.filter((c) => COMPACT.has(c.label)) : columns, streams, { caption });
}

/** A table of running mix tasks (or an empty state). */
export function mixesTable(mixes, caption = "Running mixes") {
  if (!mixes.length) return empty("No running mixes.");
  return table(
    [
      { label: "task_id", cell: (m) => code(m.task_id) },
      { label: "seq", cell: (m) => code(m.seq) },
      { label: "channel_id", cell: (m) => code(m.channel_id) },
      { label: "mix_stream_alias", cell: (m) => code(m.mix_stream_alias) },
    ],
    mixes,
    { caption },
  );
}
