// The Deliveries section: what a running Worker forwards to the customer's endpoints, each
// endpoint's state and the messages that did not land at once (GET /deliveries), with the
// admin token's actions: retry one, retry every failed one, enable a disabled endpoint.

import { defaultWorkerUrl, DEV_TOKEN } from "./live.mjs";
import { $, badge, empty, errorBox, fill, h, isoTime, table } from "./dom.mjs";

/** The admin token `.dev.vars.example` sets, offered when the page is served from this machine. */
export const DEV_ADMIN_TOKEN = "zego-dev-admin-token";

const code = (v) => (v === undefined || v === null || v === "" ? h("span", { class: "muted" }, "—") : h("code", {}, String(v)));
const when = (ms) => (ms ? h("span", { class: "nowrap", title: String(ms) }, isoTime(ms)) : h("span", { class: "muted" }, "never"));

/** A Worker's answer as `{ ok, status, body }`; a network failure as `{ ok: false, status: 0 }`. */
async function call(url, { method = "GET", token } = {}) {
  try {
    const res = await fetch(url, {
      method,
      cache: "no-store",
      credentials: "omit",
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const text = await res.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { ok: res.ok, status: res.status, body };
  } catch (e) {
    return { ok: false, status: 0, body: String(e?.message ?? e) };
  }
}

/** Why a call failed, in words: the Worker's own error when it sent one. */
function failure(what, answer) {
  if (answer.status === 0) return errorBox(`${what}: the Worker could not be reached`, answer.body);
  const error = answer.body?.error;
  const detail = error ? `${error.code}: ${error.message}` : String(answer.body ?? "");
  const hint =
    answer.status === 401 ? "Reading needs the read token (READ_TOKEN) or the admin token; changing anything needs the admin token (ADMIN_TOKEN)." : null;
  return errorBox(`${what}: HTTP ${answer.status}`, detail, hint);
}

function endpointCard(endpoint, actions) {
  const state = endpoint.disabled ? badge("bad", "disabled (410)") : badge("ok", "enabled");
  return h(
    "div",
    { class: "endpoint", "data-endpoint": endpoint.id },
    h(
      "p",
      {},
      h("strong", {}, endpoint.id),
      " ",
      state,
      " ",
      h("code", { class: "endpoint-url" }, endpoint.url),
      ` · ${endpoint.format}`,
    ),
    h(
      "p",
      { class: "muted" },
      "last success ",
      when(endpoint.last_success_at),
      ` · failures in a row ${endpoint.failures_in_a_row} · delivered ${endpoint.delivered} · retrying ${endpoint.retrying} · held ${endpoint.held} · failed ${endpoint.failed}`,
      endpoint.expired ? ` · expired ${endpoint.expired}` : "",
    ),
    endpoint.disabled ? h("button", { type: "button", class: "enable", onclick: () => actions.enable(endpoint.id) }, "Enable and send what it held") : null,
  );
}

function deliveriesTable(deliveries, actions) {
  if (!deliveries.length) return empty("Nothing kept: every message landed on its first attempt.");
  return table(
    [
      { label: "state", cell: (d) => badge(d.state === "failed" ? "bad" : d.state === "held" ? "warn" : "info", d.state) },
      { label: "", cell: (d) => (d.state === "failed" ? h("button", { type: "button", class: "retry", onclick: () => actions.retry(d.id) }, "Retry") : "") },
      { label: "id", cell: (d) => code(d.id) },
      { label: "endpoint", cell: (d) => code(d.endpoint) },
      { label: "event", cell: (d) => code(d.event) },
      { label: "appid", cell: (d) => code(d.appid) },
      { label: "attempts", cell: (d) => String(d.attempts) },
      { label: "last status", cell: (d) => code(d.last_status) },
      { label: "last answer", cell: (d) => h("span", { class: "excerpt", title: d.last_error ?? "" }, d.last_error ?? "") },
      { label: "accepted (UTC)", cell: (d) => when(d.accepted_at) },
      { label: "next try (UTC)", cell: (d) => (d.state === "retrying" ? when(d.due_at) : "") },
    ],
    deliveries,
    { caption: "Kept deliveries", rowAttrs: (d) => ({ "data-id": d.id, "data-state": d.state }) },
  );
}

export function setupDeliveries() {
  const url = $("#deliveries-url");
  const readToken = $("#deliveries-token");
  const adminToken = $("#deliveries-admin");
  const state = $("#deliveries-state");
  const status = $("#deliveries-status");
  const result = $("#deliveries-result");
  url.value = defaultWorkerUrl();
  if (["127.0.0.1", "localhost", "[::1]"].includes(location.hostname)) {
    readToken.value = DEV_TOKEN;
    adminToken.value = DEV_ADMIN_TOKEN;
  }
  const base = () => url.value.trim().replace(/\/+$/, "");

  async function load() {
    const query = state.value ? `?state=${encodeURIComponent(state.value)}` : "";
    const answer = await call(`${base()}/deliveries${query}`, { token: readToken.value.trim() || adminToken.value.trim() });
    if (!answer.ok) {
      fill(status, failure("Could not list the deliveries", answer));
      fill(result);
      return;
    }
    const { endpoints, deliveries } = answer.body;
    fill(status, badge("ok", "loaded"), ` ${endpoints.length} endpoint${endpoints.length === 1 ? "" : "s"}, ${deliveries.length} kept message${deliveries.length === 1 ? "" : "s"} at ${isoTime(Date.now())}`);
    fill(result, endpoints.map((e) => endpointCard(e, actions)), deliveriesTable(deliveries, actions));
  }

  async function change(what, path) {
    const answer = await call(`${base()}${path}`, { method: "POST", token: adminToken.value.trim() });
    if (!answer.ok) {
      fill(status, failure(what, answer));
      return;
    }
    await load();
    status.append(` · ${what}: ${answer.body.requeued} sent again`);
  }

  const actions = {
    retry: (id) => change(`Retried ${id}`, `/deliveries/${encodeURIComponent(id)}/retry`),
    enable: (id) => change(`Enabled ${id}`, `/endpoints/${encodeURIComponent(id)}/enable`),
  };
  $("#deliveries-load").addEventListener("click", load);
  $("#deliveries-retry-all").addEventListener("click", () => change("Retried every failed message", "/deliveries/retry"));
}
