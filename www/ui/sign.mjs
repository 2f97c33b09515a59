// The Sign section: an editable list of fields, signed into a JSON or form body, with a curl
// command for one's own endpoint.

import { ComposeError, ROW_TYPES, buildBody, curlCommand, editorRows, randomNonce, signRows } from "../lib/compose.mjs";
import { secretList } from "../lib/check.mjs";
import { schemaOf } from "../lib/fields.mjs";
import { $, badge, copyText, errorBox, fill, h } from "./dom.mjs";

export function setupSign(ctx) {
  const { api } = ctx;
  const editor = $("#editor");
  const note = $("#editor-note");
  const result = $("#sign-result");
  const secretInput = $("#sign-secret");
  const tsInput = $("#sign-timestamp");
  const nonceInput = $("#sign-nonce");
  const urlInput = $("#sign-url");
  let rows = [];
  let edited = false;

  function renderEditor(focusIndex) {
    if (!rows.length) {
      fill(editor, h("p", { class: "empty" }, "No fields. Fill from the input, or add fields one by one."));
      return;
    }
    fill(
      editor,
      h("div", { class: "editor-head", "aria-hidden": "true" }, h("span", {}, "Name"), h("span", {}, "JSON type"), h("span", {}, "Value"), h("span", {})),
      rows.map((row, i) =>
        h(
          "div",
          { class: "editor-row", "data-index": String(i) },
          h("input", {
            type: "text",
            class: "code",
            value: row.name,
            "aria-label": `Name of field ${i + 1}`,
            spellcheck: "false",
            oninput: (e) => {
              row.name = e.target.value;
              edited = true;
            },
          }),
          h(
            "select",
            {
              "aria-label": `JSON type of field ${i + 1}`,
              onchange: (e) => {
                row.type = e.target.value;
                edited = true;
              },
            },
            ROW_TYPES.map((t) => h("option", { value: t, selected: t === row.type }, t === "json" ? "JSON (list, object…)" : t)),
          ),
          h("input", {
            type: "text",
            class: "code",
            value: row.value,
            "aria-label": `Value of ${row.name || `field ${i + 1}`}`,
            spellcheck: "false",
            oninput: (e) => {
              row.value = e.target.value;
              edited = true;
            },
          }),
          h(
            "button",
            {
              type: "button",
              class: "small",
              "aria-label": `Remove ${row.name || `field ${i + 1}`}`,
              onclick: () => {
                rows.splice(i, 1);
                edited = true;
                renderEditor(Math.min(i, rows.length - 1));
              },
            },
            "Remove",
          ),
        ),
      ),
    );
    if (focusIndex !== undefined && focusIndex >= 0) editor.querySelector(`[data-index="${focusIndex}"] input`)?.focus();
  }

  function fillFromInput() {
    const a = ctx.current;
    const schema = a?.parsed ? schemaOf(api.schemas, a.parsed.event) : undefined;
    rows = a ? editorRows(a.members, schema) : [];
    edited = false;
    fill(note, rows.length ? `${rows.length} fields from the input.` : a?.scanError ? "The input could not be read: nothing to fill." : "");
    renderEditor();
  }

  function format() {
    return document.querySelector('input[name="sign-format"]:checked')?.value ?? "json";
  }

  function sign() {
    const secrets = secretList(secretInput.value);
    const secret = secrets[0] ?? secretList(ctx.secrets?.() ?? "")[0];
    if (!secret) {
      fill(result, errorBox("No secret", "Enter a secret here or under Signature: the signature is made with it."));
      secretInput.focus();
      return;
    }
    const timestamp = tsInput.value.trim() || String(Math.floor(Date.now() / 1000));
    const nonce = nonceInput.value.trim() || randomNonce();
    let signed;
    let out;
    try {
      signed = signRows(api, rows, { secret, timestamp, nonce });
      out = buildBody(signed, format());
    } catch (e) {
      if (e instanceof ComposeError) {
        fill(result, errorBox("Cannot write the body", e.message));
        editor.querySelector(`[data-index="${e.index}"] input`)?.focus();
        return;
      }
      if (e instanceof api.ZegoCallbackError) {
        fill(result, errorBox(e.code, e.message));
        return;
      }
      throw e;
    }
    rows = signed;
    renderEditor();

    // What the receiver makes of it: it should be accepted, or say exactly why not.
    let check;
    try {
      const cb = api.receive(out.body, { secret, contentType: out.contentType, now: Math.floor(Date.now() / 1000) });
      check = h("p", {}, badge("ok", "verified"), ` The module receives it: ${cb.event}${cb.known ? "" : " (unknown event, acknowledged)"}.`);
    } catch (e) {
      if (!(e instanceof api.ZegoCallbackError)) throw e;
      check = h("p", {}, badge("warn", e.code), ` The module would refuse it: ${e.message}.`);
    }

    const curl = curlCommand(urlInput.value.trim() || urlInput.defaultValue, out.contentType, out.body);
    const status = h("span", { class: "muted", role: "status" });
    const copy = (text, what) => async () => {
      status.textContent = (await copyText(text)) ? `${what} copied.` : `Could not copy: select the ${what.toLowerCase()} and copy it.`;
    };
    fill(
      result,
      check,
      h("label", { for: "sign-body-out" }, `Body (${out.contentType})`),
      h("textarea", { id: "sign-body-out", class: "code", rows: "4", readonly: true, spellcheck: "false", value: out.body }),
      h("label", { for: "sign-curl-out" }, "curl"),
      h("textarea", { id: "sign-curl-out", class: "code", rows: "4", readonly: true, spellcheck: "false", value: curl }),
      h(
        "div",
        { class: "toolbar" },
        h("button", { type: "button", onclick: copy(out.body, "Body") }, "Copy body"),
        h("button", { type: "button", onclick: copy(curl, "Command") }, "Copy curl"),
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              ctx.setInput({ text: out.body, contentType: out.contentType, label: "signed in this page" }, "signed");
              const inspectorSecret = $("#secret");
              if (!inspectorSecret.value) {
                inspectorSecret.value = secret;
                inspectorSecret.dispatchEvent(new Event("input", { bubbles: true }));
              }
              $("#signature").scrollIntoView();
              $("#signature-title").focus();
            },
          },
          "Inspect this body",
        ),
        status,
      ),
    );
  }

  $("#editor-fill").addEventListener("click", fillFromInput);
  $("#editor-add").addEventListener("click", () => {
    rows.push({ name: "", type: "string", value: "" });
    edited = true;
    renderEditor(rows.length - 1);
  });
  $("#sign-go").addEventListener("click", sign);

  // Follow the input until the list is edited by hand.
  ctx.on("body", (a) => {
    if (a.why === "signed") return;
    if (!edited) fillFromInput();
    else fill(note, "The input changed; your edits are kept. Fill from the input to start over.");
  });
}
