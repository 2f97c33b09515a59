// The Fields table's rows: each field's raw text, typed value, kind, ZEGO's description and
// warnings, from the body's members, the module's parse result (or error) and its schemas.
// Pure; no DOM.

import { findMember } from "./check.mjs";
import { KINDS, kindLabel } from "./kinds.mjs";
import { jsonParseLoss, memberText, utf8Bytes } from "./raw.mjs";


const NOT_FIELDS = new Set(["known", "extra", "codec"]);

/** A typed value as text: strings quoted (so `"858012925204410400"` reads as a string). */
export function formatValue(value) {
  if (value === undefined) return "";
  if (typeof value === "string") return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** The schema of a documented event, or undefined. */
export function schemaOf(schemas, event) {
  return schemas.find((s) => s.event === event);
}

function timeHint(name, value) {
  if (typeof value !== "number" || !/time/i.test(name) || value <= 0) return undefined;
  const ms = value > 1e11 ? value : value * 1000;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(".000Z", "Z");
}

/**
 * Rows for the Fields table.
 * @param {object} o
 * @param {Array} o.members what `bodyMembers` found, in body order
 * @param {object|null} o.parsed what `api.parse` returned, or null when it threw
 * @param {object|null} o.error the ZegoCallbackError it threw, or null
 * @param {Array} o.schemas `api.schemas`
 * @param {Array} o.envelopeNames `api.envelopeNames`
 * @returns {{ rows: Array, event: string|undefined, known: boolean|undefined, schema: object|undefined }}
 */
export function fieldRows({ members, parsed, error, schemas, envelopeNames }) {
  const known = parsed ? parsed.known : undefined;
  const eventMember = findMember(members, "event", envelopeNames);
  const event = parsed ? parsed.event : memberText(eventMember);
  const schema = event !== undefined ? schemaOf(schemas, event) : undefined;
  const docs = new Map((schema?.fields ?? []).map((f) => [f.name, f]));
  const counts = new Map();
  for (const m of members) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);

  const rows = members.map((m) => {
    const field = docs.get(m.name);
    const row = {
      name: m.name,
      raw: m.raw,
      rawType: m.type,
      values: m.values,
      typed: undefined,
      typedNote: undefined,
      kind: field ? kindLabel(field.kind) : "",
      doc: field ? field.doc.trim() : "",
      maxBytes: field?.max_bytes ?? null,
      warnings: [],
      fault: false,
    };
    const warn = (level, text) => row.warnings.push({ level, text });

    if (parsed) {
      if (!parsed.known) {
        row.typed = formatValue(parsed.fields?.[m.name]);
        row.kind = "as received";
      } else if (field && !NOT_FIELDS.has(m.name)) {
        if (m.name in parsed) row.typed = formatValue(parsed[m.name]);
        else {
          row.typed = "";
          row.typedNote = "read as absent";
        }
      } else if (parsed.extra && m.name in parsed.extra) {
        row.typed = formatValue(parsed.extra[m.name]);
        row.kind = "as received (extra)";
        warn("info", `Not in ZEGO's docs for ${parsed.event}: kept under extra, as received.`);
      }
      row.typedNote ??= timeHint(m.name, parsed.known ? parsed[m.name] : undefined);
    } else if (!field && schema) {
      row.kind = "as received (extra)";
    }

    if ((counts.get(m.name) ?? 0) > 1) warn("error", `"${m.name}" appears more than once in the body.`);

    if (m.type === "number") {
      const loss = jsonParseLoss(m.raw);
      if (loss !== null) {
        warn("warn", `Above 2⁵³: JSON.parse would give ${loss}, not ${m.raw}.`);
      }
    }

    if (row.maxBytes !== null) {
      const typed = parsed?.known ? parsed[m.name] : undefined;
      const texts = Array.isArray(typed) ? typed : typeof typed === "string" ? [typed] : m.values ?? [memberText(m)];
      for (const text of texts) {
        if (typeof text !== "string") continue;
        const bytes = utf8Bytes(text);
        if (bytes > row.maxBytes) {
          warn("warn", `${bytes} bytes: ZEGO documents at most ${row.maxBytes} bytes.`);
        }
      }
    }

    if (parsed?.known && field && KINDS[field.kind]?.ts === "number") {
      const text = memberText(m);
      const value = parsed[m.name];
      if (typeof value === "number" && text !== undefined && text !== String(value)) {
        warn("info", `The text ${JSON.stringify(text)} is read as ${value}.`);
      }
    }

    if (parsed?.known && m.name === "stream_attr") {
      if (parsed.codec) warn("info", `Codec: ${parsed.codec.name} (cid ${parsed.codec.cid}).`);
      else warn("warn", "stream_attr does not hold a readable cid: the codec is unknown.");
    }
    return row;
  });

  if (error?.field) {
    let row = rows.find((r) => r.name === error.field);
    if (!row) {
      const field = docs.get(error.field);
      row = {
        name: error.field,
        raw: "",
        rawType: "absent",
        typed: undefined,
        kind: field ? kindLabel(field.kind) : "",
        doc: field ? field.doc.trim() : "",
        maxBytes: field?.max_bytes ?? null,
        warnings: [],
        fault: true,
        absent: true,
      };
      rows.push(row);
    }
    row.fault = true;
    row.warnings.unshift({ level: "error", text: error.message });
  }

  return { rows, event, known, schema };
}
