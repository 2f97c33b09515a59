// The Input section: a body from the textarea, a dropped or opened file, or a fixture.
// A file's bytes are kept as they are (a body that is not UTF-8 stays one) until edited.

import { $, fill, h } from "./dom.mjs";

const GROUPS = [
  ["seeds/", "ZEGO's documented examples"],
  ["signed/", "Signed with the fixture secret"],
  ["bad/", "Bad bodies"],
];

function describe(f) {
  if (f.error) return `${f.file} — expect ${f.error}`;
  const secret = f.secret ? (Array.isArray(f.secret) ? ", signed (rotated secret)" : ", signed") : "";
  return `${f.file} — ${f.event}${secret}`;
}

/** Text for a byte buffer, and whether that text is exact (valid UTF-8). */
function decode(buffer) {
  const bytes = new Uint8Array(buffer);
  try {
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes), bytes: null };
  } catch {
    return { text: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes), bytes };
  }
}

export function setupInput(ctx, changed) {
  const select = $("#fixture");
  const body = $("#body");
  const ct = $("#content-type");
  const file = $("#file");
  const info = $("#body-info");
  const useSecret = $("#use-fixture-secret");
  const useTime = $("#use-fixture-time");
  const fixtures = ctx.index.fixtures ?? [];

  let state = { text: "", bytes: null, contentType: "", label: "", fixture: null };

  function setContentType(value) {
    if (![...ct.options].some((o) => o.value === value)) {
      ct.append(h("option", { value, "data-extra": "" }, `${value} (from the fixture)`));
    }
    ct.value = value;
  }

  function set(next, why) {
    state = { ...state, ...next };
    if (body.value !== state.text) body.value = state.text;
    setContentType(state.contentType);
    useSecret.disabled = !state.fixture?.secret;
    useTime.disabled = !state.fixture?.now;
    changed(state, why);
  }

  ctx.setInput = (next, why = "set") =>
    set({ bytes: null, fixture: null, label: "", contentType: "", ...next }, why);

  // The fixture list.
  if (fixtures.length) {
    fill(
      select,
      h("option", { value: "" }, `Choose one of ${fixtures.length} fixtures…`),
      GROUPS.map(([prefix, label]) =>
        h(
          "optgroup",
          { label },
          fixtures.filter((f) => f.file.startsWith(prefix)).map((f) => h("option", { value: f.file }, describe(f))),
        ),
      ),
    );
    select.disabled = false;
  } else {
    fill(select, h("option", { value: "" }, "No fixtures available"));
  }

  async function loadFixture(name) {
    const fixture = fixtures.find((f) => f.file === name);
    if (!fixture) return;
    try {
      const res = await fetch(`fixtures/${fixture.file}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const decoded = decode(await res.arrayBuffer());
      set({ ...decoded, contentType: fixture.content_type ?? "", label: fixture.file, fixture }, "fixture");
    } catch (e) {
      fill(info, h("span", { class: "text-bad" }, `Could not load ${fixture.file}: ${e.message}`));
    }
  }

  async function loadFile(f) {
    const decoded = decode(await f.arrayBuffer());
    const contentType = /json/.test(f.type) ? "application/json" : "";
    set({ ...decoded, contentType, label: f.name, fixture: null }, "file");
    select.value = "";
  }

  select.addEventListener("change", () => loadFixture(select.value));
  useSecret.addEventListener("click", () => {
    const secret = state.fixture?.secret;
    if (!secret) return;
    const input = $("#secret");
    input.value = Array.isArray(secret) ? secret.join(", ") : secret;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
  });
  useTime.addEventListener("click", () => {
    const now = state.fixture?.now;
    if (!now) return;
    const input = $("#check-at");
    input.value = String(now);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
  });
  body.addEventListener("input", () => {
    const label = state.label && !state.label.endsWith(" (edited)") ? `${state.label} (edited)` : state.label;
    set({ text: body.value, bytes: null, label }, "typing");
  });
  ct.addEventListener("change", () => {
    for (const o of [...ct.options]) if (o.dataset.extra !== undefined && o.value !== ct.value) o.remove();
    set({ contentType: ct.value }, "content-type");
  });
  file.addEventListener("change", () => {
    if (file.files?.[0]) loadFile(file.files[0]);
  });
  body.addEventListener("dragover", (e) => {
    if (e.dataTransfer?.types?.includes("Files")) {
      e.preventDefault();
      body.classList.add("dragging");
    }
  });
  body.addEventListener("dragleave", () => body.classList.remove("dragging"));
  body.addEventListener("drop", (e) => {
    body.classList.remove("dragging");
    const f = e.dataTransfer?.files?.[0];
    if (!f) return;
    e.preventDefault();
    loadFile(f);
  });
  $("#clear-body").addEventListener("click", () => {
    select.value = "";
    ctx.setInput({ text: "" }, "clear");
    body.focus();
  });

  // The line under the box: where the body came from, its size and format.
  ctx.on("body", (a) => {
    if (!a.input.text && !a.input.bytes) {
      fill(info, "Paste, type, or drop a file on the box.");
      return;
    }
    const size = a.input.bytes ? a.input.bytes.length : new TextEncoder().encode(a.input.text).length;
    const parts = [a.input.label, `${size.toLocaleString("en")} bytes`, a.format === "form" ? "read as form data" : "read as JSON"];
    fill(
      info,
      parts.filter(Boolean).join(" · "),
      a.input.bytes
        ? h("span", { class: "text-warn" }, " · The file is not valid UTF-8: the module checks its bytes; the box shows them decoded, and editing replaces them with the text.")
        : null,
    );
  });

  // The first render: an empty body, unless the fixtures are missing.
  set(state, "start");
}
