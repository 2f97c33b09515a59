// Sends ZEGO's documented stream_create, signed now with the development secret, to a
// running Worker (scripts/run.sh), then shows the room's list from its Durable Object
// (consistent at once) and GET /streams from KV (once the object's outbox has written it).
//   node examples/send-sample.mjs [http://127.0.0.1:8787]
// The secret comes from ZEGO_CALLBACK_SECRET, else .dev.vars, else "zego-dev-secret"; the
// read token from READ_TOKEN, else .dev.vars, else "zego-dev-read-token".
import { randomInt } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { sign } from "../pkg/index.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:8787";
const devVars = new URL("../.dev.vars", import.meta.url);
const vars = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
const fromFile = (name) => vars.match(new RegExp(`^${name}=(.*)$`, "m"))?.[1];
// With several secrets configured (rotation), ZEGO signs with one of them: use the first.
const secret = (process.env.ZEGO_CALLBACK_SECRET ?? fromFile("ZEGO_CALLBACK_SECRET") ?? "zego-dev-secret")
  .split(",")[0]
  .trim();
const token = process.env.READ_TOKEN ?? fromFile("READ_TOKEN") ?? "zego-dev-read-token";

// ZEGO's example, byte for byte, with a fresh timestamp, nonce and signature.
const doc = readFileSync(new URL("../tests/fixtures/seeds/stream_create.json", import.meta.url), "utf8");
const timestamp = String(Math.floor(Date.now() / 1000));
const nonce = String(randomInt(1, 2 ** 47));
const body = doc
  .replace(/"timestamp": "\d+"/, `"timestamp": "${timestamp}"`)
  .replace(/"nonce": "\d+"/, `"nonce": "${nonce}"`)
  .replace(/"signature": "[^"]*"/, `"signature": "${sign(secret, timestamp, nonce)}"`);

const posted = await fetch(`${base}/zego/callback`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body,
});
console.log(`POST /zego/callback -> ${posted.status}\n${await posted.text()}\n`);

const headers = { authorization: `Bearer ${token}` };
const { appid, room_id: room } = JSON.parse(doc);
const roomUrl = `${base}/rooms/${encodeURIComponent(room)}/streams?appid=${appid}`;
const consistent = await fetch(roomUrl, { headers });
console.log(`GET ${roomUrl.slice(base.length)} -> ${consistent.status}`);
console.log(JSON.stringify(await consistent.json(), null, 2));

// KV is written by the room's object right after it commits: give it a moment.
await new Promise((resolve) => setTimeout(resolve, 500));
const listed = await fetch(`${base}/streams`, { headers });
console.log(`\nGET /streams -> ${listed.status}`);
console.log(JSON.stringify(await listed.json(), null, 2));
