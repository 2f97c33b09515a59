// The inspector page (www/) in headless Chromium: served by a tiny static server, driven by
// playwright-core. Needs www/pkg/ and www/fixtures/ (node scripts/build-pkg.mjs) and
// /usr/bin/chromium. Screenshots go to test-artifacts/www/.
import test from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM, launchChromium } from "./chromium.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const www = join(root, "www");
const artifacts = join(root, "test-artifacts", "www");
const fixtures = join(root, "tests", "fixtures");
const index = JSON.parse(readFileSync(join(fixtures, "index.json"), "utf8"));

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
};

/** Serves www/ read-only on 127.0.0.1; never a file outside it. */
function serve() {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    let path;
    try {
      path = normalize(join(www, decodeURIComponent(url.pathname)));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (path !== www && !path.startsWith(www + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if ((await stat(path)).isDirectory()) path = join(path, "index.html");
      const body = await readFile(path);
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const missing = [join(www, "pkg", "zego_callback_bg.wasm"), join(www, "fixtures", "index.json"), CHROMIUM].filter((p) => !existsSync(p));

test("the inspector page in headless Chromium", { skip: missing.length ? `missing ${missing.join(", ")} (run node scripts/build-pkg.mjs; install chromium)` : false }, async (t) => {
  mkdirSync(artifacts, { recursive: true });
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    server.close();
  });

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  // The Worker itself (workerd, real local Durable Objects and KV) for the Live section,
  // with the development read token the page offers on a loopback origin.
  const { BIG_SESSION, callback, mixStart, roomClose, startWorker, streamClose, streamCreate } = await import("../worker/harness.mjs");
  const worker = await startWorker({ port: 0, bindings: { ZEGO_CALLBACK_SECRET: "page-secret", READ_TOKEN: "zego-dev-read-token" } });
  t.after(() => worker.dispose());
  const post = async (event, fields) => {
    const res = await worker.post(callback(event, fields, { secret: "page-secret" }));
    assert.equal(res.status, 200, await res.text());
  };
  // Subscriptions this test refuses on purpose; their console lines are expected.
  // (The socket's refusal, then the page's plain GET of the same URL that reads the reason.)
  const expectedFailures = [
    /WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/subscribe\?(appid=1|token=zego-dev-read-token)' failed/,
    /Failed to load resource: the server responded with a status of (401|426) /,
  ];
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    if (expectedFailures.some((re) => re.test(msg.text()))) return;
    errors.push(`console: ${msg.text()} (${msg.location()?.url ?? ""})`);
  });

  const shot = (name, target = page) => target.screenshot({ path: join(artifacts, `${name}.png`), ...(target === page ? { fullPage: true } : {}) });
  const typedCell = (field) => page.locator(`#fields-table tr[data-field="${field}"] td:nth-child(3)`);
  const notesCell = (field) => page.locator(`#fields-table tr[data-field="${field}"] td:nth-child(6)`);

  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.body.dataset.ready);

  await t.test("loads the module and lists every fixture", async () => {
    assert.equal(await page.evaluate(() => document.body.dataset.ready), "true");
    await assert.doesNotReject(page.locator("#boot-status.boot-ok").waitFor());
    const files = await page.locator("#fixture option").evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert.deepEqual(files, index.fixtures.map((f) => f.file));
    await shot("01-empty");
  });

  await t.test("a signed fixture with the fixture secret: valid", async () => {
    await page.selectOption("#fixture", "signed/stream_create.json");
    await page.locator("#use-fixture-secret:enabled").click();
    assert.equal(await page.inputValue("#secret"), index.secret);
    const verdict = page.locator('#signature-result [data-verdict="valid"]');
    await verdict.waitFor();
    assert.match(await verdict.textContent(), /Valid signature/);
    // The secret is masked in the hashed string until asked for.
    const signing = page.locator("#signature-result .signing").first();
    assert.ok(!(await signing.textContent()).includes(index.secret));
    await page.getByRole("button", { name: "Show the secret" }).click();
    assert.ok((await page.locator("#signature-result .signing").first().textContent()).includes(index.secret));
    // ZEGO's example timestamp is years old: outside the window.
    assert.match(await page.locator('#signature-result [data-age="outside"]').textContent(), /years ago — outside the 300 s window/);
    assert.match(await page.locator("#signature-result").textContent(), /401.*timestamp_out_of_window/s);
    await shot("02-signature-valid", page.locator("#signature"));
    // The secret is stored only when asked, and forgotten when unticked.
    const stored = () => page.evaluate(() => localStorage.getItem("zego-callback-inspector:secret"));
    assert.equal(await stored(), null);
    await page.check("#secret-remember");
    assert.equal(await stored(), index.secret);
    await page.uncheck("#secret-remember");
    assert.equal(await stored(), null);
    // At the fixture's own time the timestamp is fresh and a receiver accepts the body.
    await page.click("#use-fixture-time");
    assert.match(await page.locator('#signature-result [data-age="inside"]').textContent(), /received 0 s ago — inside the 300 s window/);
    assert.match(await page.locator("#signature-result").textContent(), /200 A receiver with this secret and window accepts it \(stream_create\)/);
    await page.fill("#check-at", "");
  });

  await t.test("one changed character of the signature: invalid, and marked", async () => {
    const body = await page.inputValue("#body");
    const good = "09d07a2aa0d7e50283a745901b67a2d4e55ce78a";
    assert.ok(body.includes(good));
    await page.fill("#body", body.replace(good, `${good.slice(0, 10)}f${good.slice(11)}`));
    const verdict = page.locator('#signature-result [data-verdict="invalid"]');
    await verdict.waitFor();
    assert.match(await verdict.textContent(), /Invalid signature/);
    assert.equal(await page.locator("#signature-result .compare-sig mark").count(), 1);
    assert.ok((await page.locator("#signature-result .compare-sig").textContent()).includes(good), "the computed signature is shown");
    assert.match(await page.locator("#signature-result").textContent(), /401.*invalid_signature/s);
    await shot("03-signature-invalid", page.locator("#signature"));
  });

  await t.test("room_close pasted: the 64-bit id digit for digit, and what JSON.parse would make of it", async () => {
    await page.selectOption("#fixture", "");
    await page.fill("#body", readFileSync(join(fixtures, "seeds", "room_close.json"), "utf8"));
    await page.locator('#fields-table tr[data-field="room_session_id"]').waitFor();
    assert.equal(await typedCell("room_session_id").textContent(), '"858012925204410400"');
    assert.match(await notesCell("room_session_id").textContent(), /JSON\.parse would give 858012925204410368/);
    assert.equal(await page.locator('#fields-table tr[data-field="room_session_id"] td:nth-child(2)').textContent(), "858012925204410400");
    await shot("04-fields-room-close", page.locator("#fields"));
  });

  await t.test("a bad body: the error and the field at fault", async () => {
    await page.selectOption("#fixture", "bad/stream_seq_bool.json");
    const row = page.locator('#fields-table tr.fault[data-field="stream_seq"]');
    await row.waitFor();
    assert.match(await page.locator("#fields-summary .error-box").textContent(), /invalid_field.*stream_seq/s);
    await page.getByRole("button", { name: "Go to stream_seq" }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.field), "stream_seq");
    await shot("05-fields-error", page.locator("#fields"));
  });

  await t.test("an unknown PascalCase event: acknowledged, its signature checked", async () => {
    await page.selectOption("#fixture", "signed/unknown_event.json");
    await page.locator('#signature-result [data-verdict="valid"]').waitFor();
    assert.match(await page.locator("#signature-result").textContent(), /timestamp \(sent as Timestamp\)/);
    assert.match(await page.locator("#fields-summary").textContent(), /unknown event/);
    assert.equal(await typedCell("RoomSeq").textContent(), '"858012925204410401"');
  });

  await t.test("a file from disk; a body that is not UTF-8 keeps its bytes; an unsupported type", async () => {
    await page.setInputFiles("#file", join(fixtures, "signed", "stream_create.form"));
    await page.locator('#fields-table tr[data-field="rtmp_url"]').waitFor();
    assert.match(await page.locator("#body-info").textContent(), /stream_create\.form · [\d,]+ bytes · read as form data/);
    await page.locator('#signature-result [data-verdict="valid"]').waitFor();
    assert.equal(await page.locator('#fields-table tr[data-field="rtmp_url"] td:nth-child(2) li').count(), 2);

    await page.selectOption("#fixture", "bad/not_utf8.json");
    await page.waitForFunction(() => document.querySelector("#fields-summary").textContent.includes("malformed_body"));
    assert.match(await page.locator("#fields-summary").textContent(), /not valid UTF-8/);
    assert.match(await page.locator("#body-info").textContent(), /not valid UTF-8: the module checks its bytes/);

    await page.selectOption("#fixture", "bad/xml.xml");
    await page.waitForFunction(() => document.querySelector("#fields-summary").textContent.includes("unsupported_content_type"));
    assert.equal(await page.inputValue("#content-type"), "application/xml");
    await page.selectOption("#content-type", "");
    await page.waitForFunction(() => !document.querySelector("#fields-summary").textContent.includes("unsupported_content_type"));
  });

  await t.test("sign: the edited fields come back signed, and the page verifies them", async () => {
    await page.selectOption("#fixture", "seeds/mix_stop.json");
    await page.locator('#editor input[aria-label="Value of task_id"]').fill("it's:42");
    await page.fill("#sign-url", "http://127.0.0.1:8787/zego/callback");
    await page.click("#sign-go");
    await page.locator("#sign-result .badge.ok").waitFor();
    const curl = await page.inputValue("#sign-curl-out");
    assert.match(curl, /^curl -sS -X POST 'http:\/\/127\.0\.0\.1:8787\/zego\/callback' -H 'Content-Type: application\/json' --data-binary '/);
    assert.ok(curl.includes(`"task_id":"it'\\''s:42"`), "a single quote is shell-escaped");
    await shot("06-sign", page.locator("#sign"));
    await page.getByRole("button", { name: "Inspect this body" }).click();
    await page.locator('#signature-result [data-verdict="valid"]').waitFor();
    assert.match(await page.locator('#signature-result [data-age="inside"]').textContent(), /inside the 300 s window/);
  });

  await t.test("replay: shuffled delivery ends in the in-order list", async (st) => {
    if (!(await page.evaluate(() => document.querySelector("#replay-unavailable").hidden))) {
      st.skip("api.LiveList is missing from www/pkg: rebuild with node scripts/build-pkg.mjs once the live-list bindings land");
      return;
    }
    await page.click("#replay-sample");
    assert.equal(await page.locator("#replay-items > li").count(), 12);
    await page.fill("#replay-seed", "7");
    await page.check("#replay-duplicates");
    await page.click("#replay-play");
    await page.locator('#replay-verdict [data-verdict="same"]').waitFor();
    const tableText = (run) => page.locator(`#replay-result [data-run="${run}"] table`).evaluateAll((ts) => ts.map((t) => t.tBodies[0].innerText));
    const inOrder = await tableText("in-order");
    assert.deepEqual(await tableText("shuffled"), inOrder);
    assert.match(inOrder[0], /room-7\thost\t858012925204410467\t1/);
    assert.match(inOrder[0], /room-9\tsolo/);
    assert.doesNotMatch(inOrder[0], /guest/);
    assert.match(inOrder[1], /1:mix-b/);
    // Step walks the shuffled delivery shown beside it, and its tables have Play's columns.
    const order = (await page.locator('#replay-result [data-run="shuffled"] .order').textContent()).match(/\d+/g).map(Number);
    assert.ok(order.length > 12, "some delivered twice");
    assert.notDeepEqual(order.slice(0, 3), [1, 2, 3]);
    for (let i = 0; i < 3; i++) await page.click("#replay-step");
    const stepped = await page.locator("#replay-steps .step-log > li").allTextContents();
    assert.deepEqual(stepped.map((line) => Number(line.match(/^#(\d+) /)?.[1])), order.slice(0, 3));
    assert.match(await page.locator("#replay-steps h3").textContent(), /shuffled \(seed 7, with duplicates\): 3 of \d+ delivered/);
    assert.equal(await page.locator("#replay-items > li.current").count(), 1);
    await shot("07-replay", page.locator("#replay"));
    for (let i = 3; i < order.length; i++) await page.click("#replay-step");
    const columns = (where) => page.locator(`${where} table`, { hasText: "Live streams" }).locator("th").allTextContents();
    assert.deepEqual(await columns("#replay-steps"), await columns('#replay-result [data-run="in-order"]'));
    assert.equal(await page.locator("#replay-steps table", { hasText: "Live streams" }).locator("tbody").innerText(), inOrder[0], "stepped to the end: the in-order list");
    // In order, on demand; another order starts the steps again.
    await page.selectOption("#replay-step-order", "in-order");
    assert.equal(await page.locator("#replay-steps .step-log").count(), 0);
    await page.click("#replay-step");
    assert.match(await page.locator("#replay-steps .step-log").textContent(), /^#1 stream_create room-7\/host .* wrote s:room-7:host/);
    await page.selectOption("#replay-step-order", "shuffled");
  });

  await t.test("live: the Worker's list and timeline follow its callbacks, pushed; refusals explained", async () => {
    assert.equal(await page.inputValue("#live-url"), origin);
    assert.equal(await page.inputValue("#live-appid"), "1");
    assert.equal(await page.inputValue("#live-token"), "zego-dev-read-token", "offered on a loopback origin");
    const room = "room-live";
    const now = Date.now();
    await post("stream_create", streamCreate({ room, session: BIG_SESSION, stream: "early", seq: 1, t: now - 60_000 }));
    const status = () => page.locator("#live-status").textContent();

    // Without the token: the Worker's own 401, not a guess.
    await page.fill("#live-url", worker.url.origin);
    await page.fill("#live-token", "");
    await page.click("#live-connect");
    await page.locator("#live-status .error-box").waitFor();
    assert.match(await status(), /Could not subscribe: HTTP 401 unauthorized/);
    assert.match(await status(), /a valid bearer token is required.*READ_TOKEN/s);
    await shot("08-live-401", page.locator("#live"));

    // With the token but no App ID, on a Worker that takes callbacks for any app.
    await page.fill("#live-token", "zego-dev-read-token");
    await page.fill("#live-appid", "");
    await page.click("#live-connect");
    await page.locator("#live-status .error-box").waitFor();
    assert.match(await status(), /App ID needed.*accepts the token/s);

    await page.fill("#live-appid", "1");
    await page.click("#live-connect");
    await page.locator("#live-status .badge.ok").waitFor();
    await page.locator("#live-result tbody tr").first().waitFor();
    assert.match(await status(), /Snapshot at .*1 live stream/);
    // The 64-bit room session id, digit for digit, in the table and on the bar.
    assert.match(await page.locator("#live-result tbody").innerText(), new RegExp(`${room}\tearly\t${BIG_SESSION}\t1`));
    const early = page.locator(`.timeline-group[data-room="${room}"] .timeline-bar[data-stream="early"]`);
    assert.equal(await early.count(), 1);
    assert.ok(await early.evaluate((e) => e.classList.contains("open")));
    assert.match(await early.getAttribute("aria-label"), new RegExp(`${room} / early, session ${BIG_SESSION}: .* to now \\(live\\), 1 min`));
    assert.equal(await early.textContent(), BIG_SESSION);

    // The open bar grows with the clock, in place: the same element, wider, its text updated.
    const drawn = await early.elementHandle();
    const label = () => drawn.evaluate((e) => [e.isConnected, e.title]);
    const [, before] = await label();
    await page.waitForTimeout(2100);
    const [connected, after] = await label();
    assert.ok(connected, "the bar was updated, not redrawn");
    assert.notEqual(after, before, "the open bar's length moved on");

    // No reload, no polling: the page changes as the Worker applies each callback.
    await post("stream_create", streamCreate({ room, session: BIG_SESSION, stream: "late", seq: 1, t: Date.now() - 30_000 }));
    // Re-published with a new create_time_ms: the table and the bar say the same time.
    const republished = Date.now() - 20_000;
    await post("stream_create", streamCreate({ room, session: BIG_SESSION, stream: "late", seq: 3, t: republished, recreate: "1" }));
    const lateRow = page.locator("#live-result tbody tr", { hasText: "late" });
    await page.waitForFunction((t) => [...document.querySelectorAll("#live-result tbody tr span[title]")].some((e) => e.title === String(t)), republished);
    const created = await lateRow.locator("span[title]").textContent();
    assert.equal(created, new Date(republished).toISOString().replace(".000Z", "Z"));
    const lateBar = page.locator(`.timeline-group[data-room="${room}"] .timeline-bar[data-stream="late"]`);
    await page.waitForFunction((c) => document.querySelector('.timeline-bar[data-stream="late"]')?.getAttribute("aria-label").includes(`: ${c} to `), created);
    assert.ok((await lateBar.getAttribute("aria-label")).includes(`: ${created} to now (live)`));
    await post("stream_close", streamClose({ room, session: BIG_SESSION, stream: "early", seq: 2, t: Date.now() - 10_000 }));
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#live-result tbody tr")].map((tr) => tr.cells[1]?.textContent);
      return rows.length === 1 && rows[0] === "late";
    });
    const barsOf = (r) =>
      page.locator(`.timeline-group[data-room="${r}"] .timeline-bar`).evaluateAll((els) => els.map((e) => [e.dataset.stream, e.dataset.session, e.classList.contains("open")]));
    assert.deepEqual(await barsOf(room), [
      ["early", BIG_SESSION, false],
      ["late", BIG_SESSION, true],
    ]);

    // A second room: a stream re-published in a new session is a second bar on its lane;
    // room_close ends what is still live, at the moment it is applied.
    const other = "房间:stage";
    await post("stream_create", streamCreate({ room: other, session: "7", stream: "host", seq: 1, t: Date.now() - 50_000 }));
    await post("stream_create", streamCreate({ room: other, session: "7", stream: "guest", seq: 1, t: Date.now() - 40_000 }));
    await post("stream_close", streamClose({ room: other, session: "7", stream: "guest", seq: 2, t: Date.now() - 25_000 }));
    await post("room_close", roomClose({ room: other, session: "7", t: Date.now() - 20_000 }));
    await post("stream_create", streamCreate({ room: other, session: "8", stream: "host", seq: 1, t: Date.now() - 5_000 }));
    await post("mix_start", mixStart({ task: "mix-1", seq: 1 }));
    await page.waitForFunction(() => document.querySelectorAll(".timeline-bar").length === 5 && document.querySelectorAll("#live-result tbody tr").length === 3);
    assert.deepEqual(await barsOf(other), [
      ["guest", "7", false],
      ["host", "7", false],
      ["host", "8", true],
    ]);
    assert.match(await page.locator("#live-result").innerText(), /mix-1/);
    await page.waitForTimeout(1100);
    await shot("08-live", page.locator("#live"));

    await post("room_close", roomClose({ room, session: BIG_SESSION, t: Date.now() }));
    await page.waitForFunction((r) => ![...document.querySelectorAll("#live-result tbody tr")].some((tr) => tr.cells[0]?.textContent === r), room);
    assert.deepEqual(await barsOf(room), [
      ["early", BIG_SESSION, false],
      ["late", BIG_SESSION, false],
    ]);
    assert.doesNotMatch(await page.locator(`.timeline-bar[data-stream="late"]`).getAttribute("aria-label"), /now/);

    // One room's socket: its snapshot, and no mixes.
    await page.click("#live-disconnect");
    assert.match(await status(), /Disconnected/);
    await page.fill("#live-room", other);
    await page.click("#live-connect");
    await page.waitForFunction(() => /room 房间:stage/.test(document.querySelector("#live-result caption")?.textContent ?? ""));
    assert.match(await page.locator("#live-result").innerText(), /host\t8\t1/);
    assert.doesNotMatch(await page.locator("#live-result").innerText(), /mix-1/);
    await shot("08-live-room", page.locator("#live"));

    await page.click("#live-disconnect");
    await page.fill("#live-room", "");
  });

  // A Worker that checks its rooms against a stand-in of ZEGO's server API (every request's
  // signature verified as ZEGO documents it), once a second.
  const { startZegoApi, SERVER_SECRET } = await import("../worker/zego-api.mjs");
  const zego = await startZegoApi({ roomIntervalMs: 1_000 });
  t.after(() => zego.stop());
  const checking = await startWorker({
    port: 0,
    bindings: {
      ZEGO_CALLBACK_SECRET: "page-secret",
      READ_TOKEN: "zego-dev-read-token",
      ZEGO_SERVER_SECRETS: JSON.stringify({ 1: SERVER_SECRET }),
      ZEGO_API_BASE: zego.url,
      ZEGO_RECONCILE_SECONDS: "1",
      ZEGO_RECONCILE_MIN_SECONDS: "1",
    },
  });
  t.after(() => checking.dispose());

  await t.test("live: what the Worker's checks of ZEGO's server API corrected is marked", async () => {
    const room = "room-checked";
    const t0 = Date.now() - 30_000;
    // ZEGO lists "kept" and "create-lost" (whose stream_create never reached the Worker), and
    // not "close-lost" (whose stream_close never did).
    zego.live(1, room, [
      { stream: "kept", created: t0 },
      { stream: "create-lost", created: t0 + 1_000 },
    ]);
    for (const stream of ["kept", "close-lost"]) {
      const res = await checking.post(callback("stream_create", streamCreate({ room, session: BIG_SESSION, stream, seq: 1, t: t0 }), { secret: "page-secret" }));
      assert.equal(res.status, 200, await res.text());
    }
    await page.fill("#live-url", checking.url.origin);
    await page.fill("#live-appid", "1");
    await page.fill("#live-room", "");
    await page.click("#live-connect");
    await page.locator("#live-status .badge.ok").waitFor();
    await page.waitForFunction(() => /close-lost ended/.test(document.querySelector("#live-corrections")?.textContent ?? ""), null, { timeout: 20_000 });
    await page.waitForFunction(() => /create-lost listed/.test(document.querySelector("#live-corrections")?.textContent ?? ""), null, { timeout: 20_000 });

    const rows = await page.locator("#live-result tbody tr").evaluateAll((trs) => trs.map((tr) => [tr.cells[1].textContent, tr.cells[2].textContent]));
    assert.deepEqual(rows, [
      ["create-lost", "ZEGO API"],
      ["kept", "callback"],
    ]);
    const bar = (stream) => page.locator(`.timeline-group[data-room="${room}"] .timeline-bar[data-stream="${stream}"]`);
    assert.ok(await bar("create-lost").evaluate((e) => e.classList.contains("from-api") && e.classList.contains("open")));
    assert.match(await bar("create-lost").getAttribute("aria-label"), /session 0: .*listed by a check of ZEGO's server API/);
    assert.ok(await bar("close-lost").evaluate((e) => e.classList.contains("reconciled") && !e.classList.contains("open")));
    assert.match(await bar("close-lost").getAttribute("aria-label"), /ended by a check of ZEGO's server API: its stream_close was lost/);
    assert.ok(await bar("kept").evaluate((e) => !e.classList.contains("from-api") && !e.classList.contains("reconciled")));
    assert.match(await page.locator(".timeline-legend").textContent(), /listed by a check of ZEGO's server API/);
    await shot("08-live-corrected", page.locator("#live"));

    // create-lost's stream_create arrives at last: its real record takes over, unmarked.
    const res = await checking.post(callback("stream_create", streamCreate({ room, session: BIG_SESSION, stream: "create-lost", seq: 1, t: t0 + 1_000 }), { secret: "page-secret" }));
    assert.equal(res.status, 200, await res.text());
    await page.waitForFunction(() => [...document.querySelectorAll("#live-result tbody tr")].every((tr) => !/ZEGO API/.test(tr.textContent)));
    assert.equal(await bar("create-lost").getAttribute("data-session"), BIG_SESSION);
    assert.ok(await bar("create-lost").evaluate((e) => !e.classList.contains("from-api")));

    await page.click("#live-disconnect");
    await page.fill("#live-url", origin);
  });

  // A Worker that holds ZEGO's documented stream_create (created in June 2023, never closed)
  // and streams of the last minute: what a reader sees after the README's first steps.
  const mixed = await startWorker({ port: 0, bindings: { ZEGO_CALLBACK_SECRET: "page-secret", READ_TOKEN: "zego-dev-read-token" } });
  t.after(() => mixed.dispose());
  const documented = JSON.parse(readFileSync(join(fixtures, "seeds", "stream_create.json"), "utf8"));
  const postMixed = async (event, fields) => {
    const res = await mixed.post(callback(event, fields, { secret: "page-secret" }));
    assert.equal(res.status, 200, await res.text());
  };

  /** Every box of the drawn timeline that must stay inside another, and what overlaps. */
  const timelineFaults = (where) =>
    where.evaluate(() => {
      const faults = [];
      const box = (e) => e.getBoundingClientRect();
      const inside = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5;
      for (const track of document.querySelectorAll(".timeline-track")) {
        for (const bar of track.querySelectorAll(".timeline-bar")) {
          const text = bar.querySelector(".timeline-text");
          if (!inside(box(bar), box(track))) faults.push(`bar ${bar.dataset.stream} leaves its track`);
          if (!bar.classList.contains("label-cut") && !inside(box(text), box(track))) faults.push(`label of ${bar.dataset.stream} leaves its track`);
        }
      }
      const scale = document.querySelector(".timeline-scale");
      const ticks = [...document.querySelectorAll(".timeline-tick")].map(box);
      ticks.forEach((tick, i) => {
        if (!inside(tick, box(scale))) faults.push(`tick ${i} leaves the axis`);
        if (i && tick.left < ticks[i - 1].right) faults.push(`tick ${i} touches the one before`);
      });
      const from = box(document.querySelector(".timeline-from"));
      const to = box(document.querySelector(".timeline-to"));
      if (from.top === to.top && from.right > to.left) faults.push("the axis's start and end labels collide");
      return faults;
    });

  await t.test("live: a stream from 2023 beside streams of the last minute; the window follows the recent ones", async () => {
    const now = Date.now();
    const { room_id, room_session_id, stream_id } = documented;
    await postMixed("stream_create", streamCreate({ room: room_id, session: room_session_id, stream: stream_id, seq: 1, t: Number(documented.create_time_ms) }));
    for (const [stream, ago] of [["host", 50_000], ["guest", 30_000], ["cohost", 15_000]]) {
      await postMixed("stream_create", streamCreate({ room: "today", session: BIG_SESSION, stream, seq: 1, t: now - ago }));
    }
    await page.fill("#live-url", mixed.url.origin);
    await page.fill("#live-appid", "1");
    await page.click("#live-connect");
    await page.waitForFunction(() => document.querySelectorAll(".timeline-bar").length === 4);
    assert.equal(await page.inputValue("#live-window"), "auto");
    assert.match(await page.locator("#live-window-note").textContent(), /showing the last \d+ min, fitted to the last day's activity/);

    // Today's bars: dozens of px wide at least, each label whole.
    const today = await page.locator('.timeline-group[data-room="today"] .timeline-bar').evaluateAll((bars) =>
      bars.map((b) => {
        const text = b.querySelector(".timeline-text");
        return { stream: b.dataset.stream, width: b.getBoundingClientRect().width, text: text.textContent, whole: text.scrollWidth <= text.clientWidth + 0.5, cut: b.classList.contains("label-cut") };
      }),
    );
    assert.equal(today.length, 3);
    for (const bar of today) {
      assert.ok(bar.width >= 40, `${bar.stream} is ${bar.width} px wide`);
      assert.deepEqual([bar.text, bar.whole, bar.cut], [BIG_SESSION, true, false], bar.stream);
    }
    // The documented stream began in 2023: clipped at the window's left edge, saying so.
    const old = page.locator(`.timeline-bar[data-stream="${stream_id}"]`);
    assert.ok(await old.evaluate((e) => e.classList.contains("clipped") && e.classList.contains("open")));
    assert.equal(await old.textContent(), `since 2023-06-28 · ${room_session_id}`);
    assert.match(await old.getAttribute("aria-label"), /: 2023-06-28T19:41:12\.742Z to now \(live\)/);
    const [oldLeft, trackLeft] = await old.evaluate((e) => [e.getBoundingClientRect().left, e.parentElement.getBoundingClientRect().left]);
    assert.ok(Math.abs(oldLeft - trackLeft) < 1);
    // Ticks back from now.
    const ticks = await page.locator(".timeline-tick").allTextContents();
    assert.equal(ticks.at(-1), "now");
    assert.ok(ticks.slice(0, -1).every((x) => /^\d+ (s|min) ago$/.test(x)), ticks.join(", "));
    assert.deepEqual(await timelineFaults(page), []);
    await shot("10-live-2023-and-today", page.locator("#live"));

    // A fixed window: the bars grow with the clock.
    await page.selectOption("#live-window", "5m");
    const host = page.locator('.timeline-bar[data-stream="host"]');
    const before = await host.evaluate((e) => e.getBoundingClientRect().width);
    await page.waitForFunction((w) => document.querySelector('.timeline-bar[data-stream="host"]').getBoundingClientRect().width > w + 1, before);

    // Everything: the axis reaches back to 2023 and its ticks carry the year.
    await page.selectOption("#live-window", "all");
    await page.waitForFunction(() => !document.querySelector(".timeline-bar.clipped"));
    const years = await page.locator(".timeline-tick").allTextContents();
    assert.ok(years.length >= 2 && years.every((x) => /\b20\d\d$/.test(x)), years.join(", "));
    assert.match(await page.locator(".timeline-from").textContent(), /^from 2023-06-28T/);
    assert.deepEqual(await timelineFaults(page), []);
    await shot("10-live-everything", page.locator("#live"));
    await page.selectOption("#live-window", "auto");
    await page.click("#live-disconnect");
  });

  // A Worker that forwards to a receiver that fails at first, for the Deliveries view.
  const { startReceiver, FORWARD_SECRET } = await import("../worker/receiver.mjs");
  const receiver = await startReceiver();
  t.after(() => receiver.stop());
  const forwarding = await startWorker({
    port: 0,
    queues: true,
    bindings: {
      ZEGO_CALLBACK_SECRET: "page-secret",
      READ_TOKEN: "zego-dev-read-token",
      ADMIN_TOKEN: "zego-dev-admin-token",
      FORWARD_URL: receiver.url,
      FORWARD_SECRET,
      FORWARD_RETRY_SCHEDULE: "1s",
    },
  });
  t.after(() => forwarding.dispose());

  await t.test("deliveries: the endpoint's state, what failed and why, retried from the page", async () => {
    receiver.answerWith(() => 503);
    const bodies = ["kept-a", "kept-b"].map((task) => callback("mix_stop", { task_id: task, seq: "1" }, { secret: "page-secret" }));
    for (const body of bodies) assert.equal((await forwarding.post(body)).status, 200);
    const failed = async () => {
      const res = await forwarding.fetch("/deliveries?state=failed", { headers: { authorization: "Bearer zego-dev-read-token" } });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()).deliveries;
    };
    const deadline = Date.now() + 20_000;
    while ((await failed()).length < 2) {
      assert.ok(Date.now() < deadline, "both messages failed after their attempts");
      await new Promise((r) => setTimeout(r, 200));
    }
    const [first] = await failed();

    assert.equal(await page.inputValue("#deliveries-token"), "zego-dev-read-token", "offered on a loopback origin");
    assert.equal(await page.inputValue("#deliveries-admin"), "zego-dev-admin-token");
    await page.fill("#deliveries-url", forwarding.url.origin);
    await page.click("#deliveries-load");
    await page.locator('#deliveries-result tr[data-state="failed"]').nth(1).waitFor();
    const endpoint = page.locator('#deliveries-result .endpoint[data-endpoint="default"]');
    assert.match(await endpoint.innerText(), /enabled/);
    assert.match(await endpoint.innerText(), /failed 2/);
    const row = page.locator(`#deliveries-result tr[data-id="${first.id}"]`);
    assert.match(await row.innerText(), /failed\s+Retry\s+msg_[0-9a-f]{32}\s+default\s+mix_stop\s+1\s+2\s+503\s+answered 503/);
    await shot("11-deliveries", page.locator("#deliveries"));

    // Without the admin token, the Worker's refusal is shown.
    await page.fill("#deliveries-admin", "");
    await row.locator("button.retry").click();
    await page.locator("#deliveries-status .error-box").waitFor();
    assert.match(await page.locator("#deliveries-status").innerText(), /HTTP 401[\s\S]*unauthorized[\s\S]*ADMIN_TOKEN/);

    // With it, the message is sent again, and lands.
    receiver.answerWith(() => 200);
    await page.fill("#deliveries-admin", "zego-dev-admin-token");
    await page.click("#deliveries-load");
    await row.locator("button.retry").click();
    await page.waitForFunction(() => /1 sent again/.test(document.querySelector("#deliveries-status").textContent));
    while (!receiver.delivered().some((r) => r.id === first.id)) {
      assert.ok(Date.now() < deadline + 10_000, "the retried message lands");
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.click("#deliveries-load");
    await page.waitForFunction((id) => !document.querySelector(`#deliveries-result tr[data-id="${id}"]`), first.id);
    assert.equal(await page.locator('#deliveries-result tr[data-state="failed"]').count(), 1, "the other one is still kept");
  });

  await t.test("a narrow screen: nothing wider than the viewport", async () => {
    const narrow = await context.newPage();
    narrow.on("pageerror", (e) => errors.push(`pageerror (narrow): ${e.message}`));
    await narrow.setViewportSize({ width: 400, height: 800 });
    await narrow.goto(`${origin}/`);
    await narrow.waitForFunction(() => document.body.dataset.ready === "true");
    await narrow.selectOption("#fixture", "seeds/room_close.json");
    await narrow.locator('#fields-table tr[data-field="room_session_id"]').waitFor();
    await narrow.click("#replay-sample");
    if (await narrow.locator("#replay-play:enabled").count()) await narrow.click("#replay-play");
    await narrow.click("#replay-step");
    // The Live view with the 2023 stream and today's.
    await narrow.fill("#live-url", mixed.url.origin);
    await narrow.click("#live-connect");
    await narrow.waitForFunction(() => document.querySelectorAll(".timeline-bar").length === 4 && document.querySelector("#live-result tbody tr"));
    // The Deliveries view with a failed message kept.
    await narrow.fill("#deliveries-url", forwarding.url.origin);
    await narrow.click("#deliveries-load");
    await narrow.locator('#deliveries-result tr[data-state="failed"]').waitFor();
    const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 400, `the page is ${width} px wide`);
    const wide = await narrow.evaluate(() => [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > 400.5 && !e.parentElement?.closest(".table-wrap")).map((e) => e.tagName + (e.id ? `#${e.id}` : "")));
    assert.deepEqual(wide, [], "nothing outside a scrolling table reaches past the viewport");
    assert.deepEqual(await timelineFaults(narrow), []);
    // A table wider than the screen says that it scrolls.
    const tables = await narrow.locator(".table-block").evaluateAll((blocks) =>
      blocks
        .filter((b) => b.offsetParent)
        .map((b) => {
          const wrap = b.querySelector(".table-wrap");
          const hint = b.querySelector(".scroll-hint");
          return { id: wrap.getAttribute("aria-label"), scrolls: wrap.scrollWidth > wrap.clientWidth, hint: hint.offsetHeight > 0 };
        }),
    );
    assert.ok(tables.some((x) => x.scrolls && /Live streams/.test(x.id)), JSON.stringify(tables));
    for (const x of tables) assert.equal(x.hint, x.scrolls, `${x.id}: a hint exactly when it scrolls`);
    await narrow.evaluate(() => window.scrollTo(0, 0));
    await narrow.screenshot({ path: join(artifacts, "09-narrow-top.png") });
    for (const section of ["fields", "sign", "replay", "live", "deliveries"]) {
      await narrow.locator(`#${section}`).screenshot({ path: join(artifacts, `09-narrow-${section}.png`) });
    }
    await narrow.click("#live-disconnect");
    await narrow.close();
  });

  await t.test("no console errors", () => {
    assert.deepEqual(errors, []);
  });
});
