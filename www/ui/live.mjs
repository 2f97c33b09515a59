// The Live section: a running Worker's GET /streams, page by page.

import { $, badge, errorBox, fill, h } from "./dom.mjs";
import { streamsTable } from "./lists.mjs";

const TIMEOUT_MS = 10_000;

/** The Worker URL to offer: this page's own origin when it is served over http(s). */
export function defaultWorkerUrl(loc = location) {
  return /^https?:$/.test(loc.protocol) ? loc.origin : "http://127.0.0.1:8787";
}

/** The /streams URL for a base URL, a room filter and a cursor. */
export function streamsUrl(base, { room, cursor } = {}) {
  const url = new URL("streams", base.replace(/\/*$/, "/"));
  if (room) url.searchParams.set("room_id", room);
  if (cursor) url.searchParams.set("cursor", cursor);
  return url;
}

export function setupLive() {
  const urlInput = $("#live-url");
  const token = $("#live-token");
  const room = $("#live-room");
  const fetchButton = $("#live-fetch");
  const next = $("#live-next");
  const status = $("#live-status");
  const result = $("#live-result");
  let cursor = null;
  let page = 0;

  urlInput.value = defaultWorkerUrl();

  async function load(more) {
    let url;
    try {
      url = streamsUrl(urlInput.value.trim(), { room: room.value.trim(), cursor: more ? cursor : null });
    } catch {
      fill(status, errorBox("Not a URL", `${JSON.stringify(urlInput.value)} is not an absolute http(s) URL.`));
      urlInput.focus();
      return;
    }
    fetchButton.disabled = true;
    next.disabled = true;
    fill(status, h("p", { class: "muted" }, `Fetching ${url}…`));
    const headers = token.value ? { Authorization: `Bearer ${token.value}` } : {};
    let res;
    let text;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), cache: "no-store" });
      text = await res.text();
    } catch (e) {
      const why = e?.name === "TimeoutError" ? `no answer in ${TIMEOUT_MS / 1000} s` : "the connection failed";
      fill(
        status,
        errorBox(
          `Could not reach ${url.origin}`,
          `${why[0].toUpperCase()}${why.slice(1)}. Is the Worker running there (npx wrangler dev), and does it allow this page's origin (its read routes send CORS headers)?`,
        ),
      );
      fill(result);
      cursor = null;
      fetchButton.disabled = false;
      return;
    }
    fetchButton.disabled = false;
    let body = null;
    try {
      // The Worker writes room_session_id as a string, so JSON.parse loses nothing here.
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    if (!res.ok) {
      const err = body?.error;
      const hint =
        res.status === 401
          ? "The Worker has a READ_TOKEN: enter it as the bearer token."
          : res.status === 404
            ? "No /streams here: is this the Worker's URL?"
            : null;
      fill(status, errorBox(`HTTP ${res.status}${err?.code ? ` ${err.code}` : ""}`, err?.message ?? (text.slice(0, 200) || res.statusText), hint));
      fill(result);
      cursor = null;
      return;
    }
    if (!body || !Array.isArray(body.streams)) {
      fill(status, errorBox("Not a live list", `${url} answered 200, but not with {"streams": [...], "cursor": ...}.`));
      fill(result);
      cursor = null;
      return;
    }
    cursor = typeof body.cursor === "string" && body.cursor ? body.cursor : null;
    page = more ? page + 1 : 1;
    next.disabled = !cursor;
    const n = body.streams.length;
    fill(
      status,
      h("p", {}, badge("ok", `HTTP ${res.status}`), ` Page ${page}: ${n} live stream${n === 1 ? "" : "s"}${cursor ? "; more on the next page." : "."}`),
    );
    fill(result, streamsTable(body.streams, `Live streams at ${url.origin}, page ${page}`));
  }

  fetchButton.addEventListener("click", () => load(false));
  next.addEventListener("click", () => load(true));
}
