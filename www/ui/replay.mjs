// The Replay section: a sequence of callbacks played in order, shuffled (optionally with
// duplicates) and step by step through the module's LiveList; the two lists side by side.

import { hasLiveList, replay, sameList, sampleHistory, shuffledOrder } from "../lib/history.mjs";
import { $, badge, errorBox, fill, h } from "./dom.mjs";
import { mixesTable, streamsTable } from "./lists.mjs";

const tail = (id) => (id && id.length > 6 ? `…${id.slice(-4)}` : id);

/** A one-line description of a parsed callback. */
export function describeCallback(cb) {
  switch (cb.event) {
    case "stream_create":
    case "stream_close":
      return `${cb.event} ${cb.room_id}/${cb.stream_id} seq ${cb.stream_seq}, session ${tail(cb.room_session_id)}`;
    case "room_close":
      return `room_close ${cb.room_id}, session ${tail(cb.room_session_id)}`;
    case "mix_start":
    case "mix_stop":
      return `${cb.event} ${cb.task_id} seq ${cb.seq}`;
    default:
      return `${cb.event} (does not change the live list)`;
  }
}

export function setupReplay(ctx) {
  const { api } = ctx;
  const available = hasLiveList(api);
  const list = $("#replay-items");
  const status = $("#replay-status");
  const verdict = $("#replay-verdict");
  const resultArea = $("#replay-result");
  const stepsArea = $("#replay-steps");
  const seedInput = $("#replay-seed");
  const duplicates = $("#replay-duplicates");
  const stepOrder = $("#replay-step-order");
  const playButtons = ["#replay-play", "#replay-reshuffle", "#replay-step", "#replay-step-reset"].map((s) => $(s));
  let items = [];
  let stepper = null;

  if (!available) {
    const notice = $("#replay-unavailable");
    notice.hidden = false;
    fill(notice, badge("warn", "Replay unavailable"), " This build of the module has no LiveList yet (www/pkg predates the live-list rules). Rebuild it with node scripts/build-pkg.mjs; the sequence can still be built meanwhile.");
  }

  function renderItems() {
    for (const b of playButtons) b.disabled = !available || !items.length;
    if (!items.length) {
      fill(list, h("li", { class: "empty" }, "No callbacks yet: add the input's body or load the sample history."));
      return;
    }
    fill(
      list,
      items.map((item, i) =>
        h(
          "li",
          { class: nextItem() === i ? "current" : stepper?.order.slice(0, stepper.next).includes(i) ? "done" : null, "aria-current": nextItem() === i ? "step" : null },
          h(
            "div",
            { class: "seq-row" },
            h("span", { class: "seq-label" }, item.label),
            h(
              "span",
              { class: "seq-actions" },
              h("button", { type: "button", class: "small", "aria-label": `Inspect callback ${i + 1}`, onclick: () => inspect(i) }, "Inspect"),
              " ",
              h("button", { type: "button", class: "small", "aria-label": `Remove callback ${i + 1}`, onclick: () => remove(i) }, "Remove"),
            ),
          ),
        ),
      ),
    );
  }

  /** The index of the item the next Step delivers, or null. */
  const nextItem = () => (stepper && stepper.next < stepper.order.length ? stepper.order[stepper.next] : null);

  /** The order Step walks: the shuffled delivery Play shows (seed, duplicates), or the sequence as listed. */
  function deliveryOrder() {
    if (stepOrder.value === "in-order") return { order: items.map((_, i) => i), text: "in order" };
    const n = seed();
    return {
      order: shuffledOrder(items.length, n, { duplicates: duplicates.checked }),
      text: `shuffled (seed ${n}${duplicates.checked ? ", with duplicates" : ""})`,
    };
  }

  function changed(message) {
    stepper = null;
    fill(verdict);
    fill(resultArea);
    fill(stepsArea);
    fill(status, message);
    renderItems();
  }

  function inspect(i) {
    const item = items[i];
    ctx.setInput({ text: item.body, contentType: item.contentType, label: `replay #${i + 1}` }, "replay");
    $("#input").scrollIntoView();
  }

  function remove(i) {
    const [gone] = items.splice(i, 1);
    changed(`Removed ${gone.label}.`);
  }

  function add() {
    const a = ctx.current;
    if (!a || (!a.input.text && !a.input.bytes)) {
      fill(status, "The input is empty: paste or pick a callback first.");
      return;
    }
    if (!a.parsed) {
      fill(status, h("span", { class: "text-bad" }, `The input does not parse (${a.error.code}): ${a.error.message}`));
      return;
    }
    const body = a.input.bytes ? new TextDecoder().decode(a.input.bytes) : a.input.text;
    items.push({ label: describeCallback(a.parsed), body, contentType: a.input.contentType, cb: a.parsed });
    changed(`Added ${describeCallback(a.parsed)}. ${items.length} callback${items.length > 1 ? "s" : ""} in the sequence.`);
  }

  function loadSample() {
    const history = sampleHistory(api, { secret: ctx.index.secret, nowSeconds: Math.floor(Date.now() / 1000) });
    items = history.map((item) => ({ ...item, cb: api.parse(item.body, item.contentType) }));
    changed(`Loaded a sample history of ${items.length} callbacks: two rooms, a closed session and its successor, a re-published stream, two mixes.`);
  }

  function seed() {
    const n = Number(seedInput.value);
    if (Number.isSafeInteger(n) && n >= 1) return n;
    seedInput.value = "1";
    return 1;
  }

  function run(callbacks) {
    try {
      return replay(api, callbacks);
    } catch (e) {
      if (!(e instanceof api.ZegoCallbackError)) throw e;
      fill(verdict, errorBox(`The rules refused a callback: ${e.code}`, e.message));
      return null;
    }
  }

  function play() {
    const cbs = items.map((i) => i.cb);
    const order = shuffledOrder(cbs.length, seed(), { duplicates: duplicates.checked });
    const inOrder = run(cbs);
    const shuffled = inOrder && run(order.map((i) => cbs[i]));
    if (!shuffled) return;
    const same = sameList(inOrder, shuffled);
    const orderText = order.map((i) => i + 1).join(", ");
    fill(
      verdict,
      h(
        "p",
        { class: "verdict", "data-verdict": same ? "same" : "different" },
        same ? badge("ok", "Same list") : badge("bad", "Different lists"),
        same
          ? ` Delivered shuffled${duplicates.checked ? " with duplicates" : ""}, the ${cbs.length} callbacks end in the live list in-order delivery gives.`
          : " The shuffled delivery ends in another live list than in-order delivery.",
      ),
    );
    fill(
      resultArea,
      h("div", { class: "panel", "data-run": "in-order" }, h("h3", {}, "In order"), h("p", { class: "muted" }, `1 to ${cbs.length}`), streamsTable(inOrder.streams, "Live streams, in order", { compact: true }), mixesTable(inOrder.mixes, "Running mixes, in order")),
      h("div", { class: "panel", "data-run": "shuffled" }, h("h3", {}, `Shuffled (seed ${seed()})`), h("p", { class: "muted order" }, `Delivery order: ${orderText}`), streamsTable(shuffled.streams, "Live streams, shuffled", { compact: true }), mixesTable(shuffled.mixes, "Running mixes, shuffled")),
    );
  }

  function step() {
    if (!stepper) stepper = { list: new api.LiveList(), next: 0, log: [], ...deliveryOrder() };
    const { order } = stepper;
    if (stepper.next >= order.length) {
      fill(status, `All ${order.length} deliveries applied. Reset steps to start again.`);
      return;
    }
    const i = order[stepper.next];
    const item = items[i];
    const again = order.slice(0, stepper.next).includes(i);
    const label = `#${i + 1} ${item.label}${again ? " (again)" : ""}`;
    let keys;
    try {
      keys = stepper.list.apply(item.cb);
    } catch (e) {
      if (!(e instanceof api.ZegoCallbackError)) throw e;
      keys = null;
      stepper.log.push({ label, error: e.message });
    }
    if (keys) stepper.log.push({ label, keys });
    stepper.next += 1;
    renderItems();
    fill(
      stepsArea,
      h("h3", {}, `Step by step, ${stepper.text}: ${stepper.next} of ${order.length} delivered`),
      h(
        "ol",
        { class: "step-log" },
        stepper.log.map((entry) =>
          h(
            "li",
            {},
            entry.label,
            " → ",
            entry.error
              ? h("span", { class: "text-bad" }, entry.error)
              : entry.keys.length
                ? ["wrote ", entry.keys.map((k, j) => [j ? ", " : "", h("code", {}, k)])]
                : h("span", { class: "muted" }, "no change (stale, a duplicate, or not a list event)"),
          ),
        ),
      ),
      streamsTable(stepper.list.streams(), `Live streams after step ${stepper.next}`, { compact: true }),
      mixesTable(stepper.list.mixes(), `Running mixes after step ${stepper.next}`),
    );
    fill(status, `Applied ${label}.`);
  }

  /** Another order to walk: the steps taken so far no longer follow it. */
  function orderChanged() {
    if (!stepper) return;
    stepper = null;
    fill(stepsArea);
    fill(status, "The delivery order changed: steps start again.");
    renderItems();
  }

  $("#replay-add").addEventListener("click", add);
  $("#replay-sample").addEventListener("click", loadSample);
  $("#replay-clear").addEventListener("click", () => {
    items = [];
    changed("The sequence is empty.");
  });
  $("#replay-play").addEventListener("click", play);
  $("#replay-reshuffle").addEventListener("click", () => {
    seedInput.value = String(1 + Math.floor(Math.random() * 99999));
    orderChanged();
    play();
  });
  $("#replay-step").addEventListener("click", step);
  for (const input of [seedInput, duplicates, stepOrder]) input.addEventListener("change", orderChanged);
  $("#replay-step-reset").addEventListener("click", () => {
    stepper = null;
    fill(stepsArea);
    fill(status, "Steps reset.");
    renderItems();
  });
  renderItems();
}
