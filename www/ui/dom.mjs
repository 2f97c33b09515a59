// Small DOM helpers: build elements from data (text only, never HTML strings).

/**
 * An element: `h("p", { class: "x", onclick: fn }, "text", child)`. Attributes starting with
 * `on` are listeners; `text` sets textContent; `false`/null/undefined attributes are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value == null) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "text") el.textContent = value;
    else if (name === "class") el.className = value;
    else if (name === "value") el.value = value;
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** `$("#id")`. */
export const $ = (selector, root = document) => root.querySelector(selector);

/** A paragraph for an empty state. */
export const empty = (text) => h("p", { class: "empty" }, text);

/** A status badge: kind is `ok`, `bad`, `warn` or `info`. */
export const badge = (kind, text) => h("span", { class: `badge ${kind}` }, text);

/** An error box with a title and details. */
export function errorBox(title, ...details) {
  return h("div", { class: "error-box", role: "alert" }, h("strong", {}, title), ...details.map((d) => h("p", {}, d)));
}

/** Text with `code` spans in backticks, as ZEGO's docs and the schema descriptions write them. */
export function withCode(text) {
  return text.split(/(`[^`]+`)/).map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 1 ? h("code", {}, part.slice(1, -1)) : part));
}

/**
 * Marks a table's block while its table is wider than its frame (`scrolls`: a hint then says
 * so, and the side with more columns fades) and at which end it is scrolled.
 */
function markScroll(block) {
  const wrap = block.querySelector(".table-wrap");
  const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
  block.classList.toggle("scrolls", scrolls);
  block.classList.toggle("at-start", !scrolls || wrap.scrollLeft <= 1);
  block.classList.toggle("at-end", !scrolls || wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 1);
}

function onResize(entries) {
  for (const { target } of entries) {
    const block = target.isConnected ? target.closest(".table-block") : null;
    if (block) markScroll(block);
    else resized.unobserve(target); // replaced by a newer table
  }
}

const resized = typeof ResizeObserver === "function" ? new ResizeObserver(onResize) : null;

/** Keeps the marks of the `.table-block` around a `.table-wrap` up to date for it and its table. */
export function watchScroll(wrap) {
  const block = wrap.closest(".table-block");
  if (!wrap.dataset.watched) {
    wrap.dataset.watched = "true";
    wrap.addEventListener("scroll", () => markScroll(block), { passive: true });
    resized?.observe(wrap);
  }
  const inner = wrap.querySelector("table");
  if (inner) resized?.observe(inner);
  markScroll(block);
}

/** The line over a table that says it is wider than the screen. */
const scrollHint = () => h("p", { class: "scroll-hint", "aria-hidden": "true" }, "scroll sideways for more columns →");

/** A table in a horizontally scrolling wrapper: `columns` are `{ label, cell(row) }`. */
export function table(columns, rows, { caption, rowAttrs } = {}) {
  const wrap = h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption ?? "Table" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((row, i) => h("tr", rowAttrs ? rowAttrs(row, i) : {}, columns.map((c) => h("td", {}, c.cell(row, i))))),
      ),
    ),
  );
  const block = h("div", { class: "table-block at-start at-end" }, scrollHint(), h("div", { class: "table-frame" }, wrap));
  watchScroll(wrap);
  return block;
}

/** Copies text to the clipboard; resolves to whether it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

/** A Unix-milliseconds time as an ISO string in UTC, or "". */
export function isoTime(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().replace(".000Z", "Z");
}
