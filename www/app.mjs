// The inspector page: loads the wasm module as wasm-bindgen's without-a-bundler example does,
// then wires each section. Every rule (signature, types, live list) comes from the module.

import init, * as raw from "./pkg/zego_callback.js";
import { wrap } from "./pkg/api.mjs";
import { bodyMembers } from "./lib/raw.mjs";
import { $, fill, h } from "./ui/dom.mjs";
import { setupInput } from "./ui/input.mjs";
import { setupSignature } from "./ui/signature.mjs";
import { setupFields } from "./ui/fields.mjs";
import { setupSign } from "./ui/sign.mjs";
import { setupReplay } from "./ui/replay.mjs";
import { setupLive } from "./ui/live.mjs";
import { setupDeliveries } from "./ui/deliveries.mjs";

/** What every section sees of the current body: its members, and the module's verdict. */
function analyze(api, input) {
  const contentType = input.contentType || undefined;
  const { format, members, error: scanError } = bodyMembers(input.text, contentType);
  let parsed = null;
  let error = null;
  try {
    parsed = api.parse(input.bytes ?? input.text, contentType);
  } catch (e) {
    if (!(e instanceof api.ZegoCallbackError)) throw e;
    error = e;
  }
  return { input, format, members, scanError, parsed, error };
}

/** A tiny event bus between the sections. */
function bus() {
  const listeners = new Map();
  return {
    on(name, fn) {
      if (!listeners.has(name)) listeners.set(name, []);
      listeners.get(name).push(fn);
    },
    emit(name, value) {
      for (const fn of listeners.get(name) ?? []) fn(value);
    },
  };
}

async function loadFixtures() {
  try {
    const res = await fetch("fixtures/index.json");
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.json();
  } catch (e) {
    return { secret: null, fixtures: [], error: e };
  }
}

async function main() {
  const status = $("#boot-status");
  let api;
  try {
    await init();
    api = wrap(raw);
  } catch (e) {
    const local = location.protocol === "file:";
    fill(
      status,
      h("strong", {}, "The WebAssembly module could not be loaded. "),
      local
        ? "Browsers do not load modules from file:// pages: serve this folder with any static server (for example `npx http-server www`)."
        : "Build it first with `node scripts/build-pkg.mjs` (it writes www/pkg/).",
      h("br"),
      h("span", { class: "muted" }, String(e?.message ?? e)),
    );
    status.classList.add("boot-error");
    document.body.dataset.ready = "error";
    return;
  }

  const index = await loadFixtures();
  const events = bus();
  const ctx = {
    api,
    index,
    on: events.on,
    emit: events.emit,
    current: null,
    /** Replaces the input (text, optional bytes, content type) and re-analyzes it. */
    setInput: null,
  };

  setupSignature(ctx);
  setupFields(ctx);
  setupSign(ctx);
  setupReplay(ctx);
  setupLive(ctx);
  setupDeliveries();
  // Last, so that every section hears the first body.
  setupInput(ctx, (input, why) => {
    ctx.current = analyze(api, input);
    events.emit("body", { ...ctx.current, why });
  });

  fill(status, index.error ? `Module loaded. The built-in fixtures could not be loaded (${index.error.message}).` : "Module loaded. Everything below runs in this page.");
  status.classList.add("boot-ok");
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  // A bug in the page itself: say so where the person is looking, and in the console.
  const status = $("#boot-status");
  fill(status, h("strong", {}, "The inspector failed to start: "), String(e?.message ?? e));
  status.classList.add("boot-error");
  document.body.dataset.ready = "error";
  throw e;
});
