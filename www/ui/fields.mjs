// The Fields section: every field's raw text, typed value, kind, ZEGO's description and
// warnings; the module's error, with the field at fault highlighted.

import { fieldRows } from "../lib/fields.mjs";
import { $, badge, empty, fill, h, table, watchScroll, withCode } from "./dom.mjs";

const LEVEL_LABEL = { error: "Error", warn: "Warning", info: "Note" };

function rawCell(row) {
  if (row.absent) return h("span", { class: "muted" }, "absent");
  if (row.values && row.values.length > 1) {
    return h("ul", { class: "values" }, row.values.map((v) => h("li", {}, h("code", {}, v))));
  }
  return h("code", { class: "value" }, row.raw);
}

function typedCell(row, failed) {
  if (row.typed === undefined) return h("span", { class: "muted" }, failed ? "—" : "");
  return [
    row.typed === "" ? null : h("code", { class: "value" }, row.typed),
    row.typedNote ? h("span", { class: "note" }, row.typedNote) : null,
  ];
}

function notesCell(row) {
  if (!row.warnings.length) return null;
  return h(
    "ul",
    { class: "warnings" },
    row.warnings.map((w) => h("li", { class: `level-${w.level}` }, h("span", { class: "visually-hidden" }, `${LEVEL_LABEL[w.level]}: `), w.text)),
  );
}

export function setupFields(ctx) {
  const summary = $("#fields-summary");
  const area = $("#fields-table");

  function render() {
    const a = ctx.current;
    if (!a || (!a.input.text && !a.input.bytes)) {
      fill(summary);
      fill(area, empty("No body yet."));
      watchScroll(area);
      return;
    }
    const { rows, event, known, schema } = fieldRows({ members: a.members, parsed: a.parsed, error: a.error, schemas: ctx.api.schemas, envelopeNames: ctx.api.envelopeNames });
    const out = [];
    const faultIndex = rows.findIndex((r) => r.fault);

    if (a.error) {
      out.push(
        h(
          "div",
          { class: "error-box", role: "alert" },
          h("p", {}, badge("bad", String(a.error.status)), " ", h("code", {}, a.error.code), a.error.field ? [" in ", h("code", {}, a.error.field)] : null),
          h("p", {}, a.error.message),
          faultIndex >= 0
            ? h("button", { type: "button", class: "small", onclick: () => document.getElementById(`field-row-${faultIndex}`)?.focus() }, `Go to ${rows[faultIndex].name}`)
            : null,
          a.scanError ? h("p", { class: "muted" }, `This page's own reading of the body stops too: ${a.scanError.message}.`) : null,
        ),
      );
    }
    if (a.parsed) {
      if (known) {
        out.push(h("p", {}, badge("ok", "documented"), " ", h("code", {}, event), schema ? [" — ", withCode(schema.doc.trim().replace(/^`[^`]+`:\s*/, ""))] : null));
      } else {
        out.push(
          h(
            "p",
            { class: "notice" },
            badge("warn", "unknown event"),
            " ",
            h("code", {}, event),
            " is not one of the events ZEGO documents for this module (known: false). A receiver acknowledges it with 2xx, so ZEGO does not retry it; its fields are kept as received.",
          ),
        );
      }
      const extra = a.parsed.known ? Object.keys(a.parsed.extra ?? {}) : [];
      if (extra.length) out.push(h("p", { class: "muted" }, `${extra.length} field${extra.length > 1 ? "s" : ""} not in ZEGO's docs for this event, kept under extra: ${extra.join(", ")}.`));
    }
    const warned = rows.filter((r) => r.warnings.some((w) => w.level !== "info")).length;
    if (warned && !a.error) out.push(h("p", {}, badge("warn", `${warned} warning${warned > 1 ? "s" : ""}`), " See the Notes column."));
    fill(summary, out);

    if (!rows.length) {
      fill(area, empty(a.scanError ? `No fields could be read: ${a.scanError.message}.` : "The body has no fields."));
      watchScroll(area);
      return;
    }
    const failed = !a.parsed;
    const view = table(
      [
        { label: "Field", cell: (r) => h("code", { class: "name" }, r.name) },
        { label: "As received", cell: rawCell },
        { label: "Typed by the module", cell: (r) => typedCell(r, failed) },
        { label: "Type", cell: (r) => r.kind || h("span", { class: "muted" }, "—") },
        { label: "ZEGO's description", cell: (r) => [r.doc ? withCode(r.doc) : null, r.maxBytes ? h("span", { class: "note" }, `at most ${r.maxBytes} bytes`) : null] },
        { label: "Notes", cell: notesCell },
      ],
      rows,
      {
        caption: a.parsed ? `${rows.length} fields of ${event}` : `${rows.length} fields`,
        rowAttrs: (r, i) => ({
          id: `field-row-${i}`,
          "data-field": r.name,
          class: r.fault ? "fault" : r.warnings.some((w) => w.level === "warn") ? "warned" : null,
          tabindex: r.fault ? "-1" : null,
        }),
      },
    );
    // The section's own wrapper scrolls (it is the region); the table goes into it.
    fill(area, view.querySelector("table"));
    watchScroll(area);
  }

  ctx.on("body", render);
}
