// Sends ZEGO's documented stream_create, signed now with the development secret, to a
// running Worker (scripts/run.sh), then shows GET /streams.
//   node examples/send-sample.mjs [http://127.0.0.1:8787]
// The secret comes from ZEGO_CALLBACK_SECRET, else .dev.vars, else "zego-dev-secret".
import { randomInt } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { sign } from "../pkg/index.mjs";

const base = process.argv[2] ?? "http://127.0.0.1:8787";
const devVars = new URL("../.dev.vars", import.meta.url);
const fromFile = existsSync(devVars)
  ? readFileSync(devVars, "utf8").match(/^ZEGO_CALLBACK_SECRET=(.*)$/m)?.[1]
  : undefined;
// With several secrets configured (rotation), ZEGO signs with one of them: use the first.
const secret = (process.env.ZEGO_CALLBACK_SECRET ?? fromFile ?? "zego-dev-secret").split(",")[0].trim();

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

const headers = process.env.READ_TOKEN ? { authorization: `Bearer ${process.env.READ_TOKEN}` } : {};
const listed = await fetch(`${base}/streams`, { headers });
console.log(`GET /streams -> ${listed.status}`);
console.log(JSON.stringify(await listed.json(), null, 2));
