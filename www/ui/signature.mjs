// The Signature section: is the body's signature valid for the secret, what was computed,
// the sorted string that was hashed (masked: it contains the secret), and the timestamp's age.

import { analyzeSignature } from "../lib/check.mjs";
import { $, badge, empty, fill, h } from "./dom.mjs";

const STORAGE_KEY = "zego-callback-inspector:secret";

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The received signature with the characters that differ from `expected` marked. */
function diff(received, expected) {
  const out = [];
  for (let i = 0; i < received.length; i++) {
    const c = received[i];
    out.push(c === expected[i] ? c : h("mark", { title: `differs from the computed signature at character ${i + 1}` }, c));
  }
  return out;
}

export function setupSignature(ctx) {
  const { api } = ctx;
  const secret = $("#secret");
  const show = $("#secret-show");
  const remember = $("#secret-remember");
  const tolerance = $("#tolerance");
  const checkAt = $("#check-at");
  const result = $("#signature-result");
  let revealSigning = false;

  tolerance.value = String(api.defaults.toleranceSeconds);
  const stored = storage()?.getItem(STORAGE_KEY);
  if (stored) {
    secret.value = stored;
    remember.checked = true;
  }

  function persist() {
    const store = storage();
    if (!store) return;
    if (remember.checked) store.setItem(STORAGE_KEY, secret.value);
    else store.removeItem(STORAGE_KEY);
  }

  function toleranceSeconds() {
    const n = Number(tolerance.value);
    return Number.isSafeInteger(n) && n >= 0 ? n : api.defaults.toleranceSeconds;
  }

  // The time the window is checked at: the field when it holds Unix seconds, else the clock.
  function nowSeconds() {
    const text = checkAt.value.trim();
    if (/^\d{1,15}$/.test(text)) return { now: Number(text), fixed: true };
    return { now: Math.floor(Date.now() / 1000), fixed: false, invalid: text !== "" };
  }

  function signingView(r) {
    return h(
      "code",
      { class: "signing" },
      r.parts.map((p) =>
        p.what === "secret" && !revealSigning
          ? h("span", { class: "masked", title: "the secret (hidden)" }, "•".repeat(Math.min(p.text.length, 24)))
          : h("span", { class: `part-${p.what}`, title: p.what }, p.text),
      ),
    );
  }

  function receiverVerdict(a, secrets, now) {
    try {
      const cb = api.receive(a.input.bytes ?? a.input.text, {
        secret: secrets,
        contentType: a.input.contentType || undefined,
        now,
        toleranceSeconds: toleranceSeconds(),
      });
      return h("p", {}, badge("ok", "200"), ` A receiver with this secret and window accepts it (${cb.event}${cb.known ? "" : ", an event the module does not document: acknowledged"}).`);
    } catch (e) {
      if (!(e instanceof api.ZegoCallbackError)) throw e;
      return h("p", {}, badge("bad", String(e.status)), " A receiver with this secret and window answers ", h("code", {}, e.code), `: ${e.message}.`);
    }
  }

  function render() {
    const a = ctx.current;
    if (!a || (!a.input.text && !a.input.bytes)) {
      fill(result, empty("Paste or pick a callback body to check its signature."));
      return;
    }
    if (a.scanError && !a.members.length) {
      fill(result, empty("The body could not be read (see Fields), so there is no timestamp, nonce or signature to check."));
      return;
    }
    const { now, fixed, invalid } = nowSeconds();
    const s = analyzeSignature(api, { members: a.members, secretText: secret.value, now, tolerance: toleranceSeconds() });
    const { fields } = s;
    const out = [];

    if (s.missing.length) {
      out.push(
        h("p", { class: "verdict" }, badge("bad", "Cannot check"), ` The body has no ${s.missing.join(", ")}: ZEGO signs the timestamp and nonce, and sends the signature beside them.`),
      );
    } else if (!s.secrets.length) {
      out.push(h("p", { class: "verdict" }, badge("info", "No secret"), " Enter the callback secret (ZEGO console → your project → server callback secret) to check the signature."));
    } else if (s.valid) {
      const which = s.results.findIndex((r) => r.match);
      out.push(
        h("p", { class: "verdict", "data-verdict": "valid" }, badge("ok", "Valid signature"), s.secrets.length > 1 ? ` Made by secret ${which + 1} of ${s.secrets.length}.` : " The secret makes this signature."),
      );
    } else {
      out.push(
        h(
          "p",
          { class: "verdict", "data-verdict": "invalid" },
          badge("bad", "Invalid signature"),
          s.secrets.length > 1 ? " None of the secrets makes this signature." : " This secret does not make this signature.",
          " Check the secret, and that the timestamp and nonce are the ones ZEGO sent, character for character.",
        ),
      );
    }

    const rows = [];
    for (const name of ["timestamp", "nonce", "signature"]) {
      const f = fields[name];
      rows.push(h("dt", {}, f && f.name !== name ? `${name} (sent as ${f.name})` : name), h("dd", {}, f ? h("code", {}, f.text) : h("span", { class: "muted" }, "absent")));
    }
    if (s.age) {
      rows.push(
        h("dt", {}, "timestamp age"),
        h(
          "dd",
          { "data-age": s.age.inside === undefined ? "" : s.age.inside ? "inside" : "outside" },
          s.age.inside === undefined ? null : badge(s.age.inside ? "ok" : "warn", s.age.inside ? "in window" : "out of window"),
          " ",
          s.age.text,
          h("span", { class: "note" }, fixed ? `checked at ${now} (the time entered), not the clock` : `checked at ${new Date(now * 1000).toISOString().replace(".000Z", "Z")} (the clock)${invalid ? "; “Check at” is not Unix seconds, so the clock is used" : ""}`),
        ),
      );
    }
    out.push(h("dl", { class: "facts" }, rows));

    if (s.results.length) {
      const received = fields.signature.text;
      const best = s.results.find((r) => r.match) ?? s.results[0];
      out.push(
        h(
          "div",
          { class: "compare-sig" },
          h("p", {}, h("span", { class: "label-inline" }, "received"), h("code", { class: "sig" }, best.match ? received : diff(received, best.computed))),
          ...s.results.map((r, i) =>
            h(
              "p",
              {},
              h("span", { class: "label-inline" }, s.results.length > 1 ? `computed, secret ${i + 1}` : "computed"),
              h("code", { class: "sig" }, r.computed),
              " ",
              badge(r.match ? "ok" : "bad", r.match ? "match" : "differs"),
            ),
          ),
          !best.match && received.length !== best.computed.length
            ? h("p", { class: "text-bad" }, `The received signature has ${received.length} characters; a signature has ${best.computed.length} (lowercase hex of a SHA-1).`)
            : null,
        ),
      );
      out.push(
        h(
          "div",
          { class: "signing-box" },
          h(
            "p",
            {},
            "Hashed string (secret, timestamp and nonce sorted as strings, concatenated) ",
            h("button", { type: "button", class: "small", "aria-pressed": String(revealSigning), onclick: () => { revealSigning = !revealSigning; render(); } }, revealSigning ? "Hide the secret" : "Show the secret"),
          ),
          ...s.results.map((r) =>
            h("p", {}, signingView(r), h("span", { class: "muted" }, ` (${r.parts.map((p) => p.what).join(" · ")}) → sha1 → ${r.computed.slice(0, 8)}…`)),
          ),
        ),
      );
      out.push(receiverVerdict(a, s.secrets, now));
    }
    fill(result, out);
  }

  secret.addEventListener("input", () => {
    if (remember.checked) persist();
    render();
  });
  remember.addEventListener("change", persist);
  show.addEventListener("click", () => {
    const reveal = secret.type === "password";
    secret.type = reveal ? "text" : "password";
    show.setAttribute("aria-pressed", String(reveal));
    show.textContent = reveal ? "Hide" : "Show";
  });
  tolerance.addEventListener("input", render);
  checkAt.addEventListener("input", render);
  $("#recheck").addEventListener("click", render);
  ctx.on("body", render);
  ctx.secrets = () => secret.value;
}
