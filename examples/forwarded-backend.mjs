// A customer's backend receiving what the Worker forwards: each message verified with the
// `standardwebhooks` package (npm install standardwebhooks), deduplicated by its id, and the
// live list's changes taken in the order the room's object made them (`live.seq`), whatever
// order the deliveries come in.
//
//   FORWARD_SECRET=whsec_... PORT=4000 node examples/forwarded-backend.mjs
//
// It prints one JSON line per message it takes. Point the Worker at it with
// FORWARD_URL=http://127.0.0.1:4000/zego.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const webhook = new Webhook(process.env.FORWARD_SECRET);
const seen = new Set(); // use a table with a unique key on the id in a real backend
const keySeq = new Map(); // per live-list key: the seq of the newest change taken

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let msg;
    try {
      // Checks the signature (any of the Worker's secrets) and a 5-minute window.
      msg = webhook.verify(body, req.headers);
    } catch {
      res.writeHead(400).end("bad signature");
      return;
    }
    // A retry or a duplicate comes under the same id: take it once, answer 2xx every time.
    if (seen.has(msg.id)) {
      res.writeHead(204).end();
      return;
    }
    seen.add(msg.id);
    // Deliveries are not ordered; a room's changes are, by the seq its object gave them. A
    // key already changed by a later seq keeps that change: this older one is not taken for
    // it. A callback that wrote nothing (a duplicate, a stale one) changed nothing.
    const taken = [];
    for (const key of msg.live?.written ?? []) {
      const id = `${msg.appid}|${key}`;
      if (msg.live.seq > (keySeq.get(id) ?? 0)) {
        keySeq.set(id, msg.live.seq);
        taken.push(key);
      }
    }
    console.log(JSON.stringify({ id: msg.id, type: msg.type, appid: msg.appid, seq: msg.live?.seq ?? null, taken, data: msg.data }));
    res.writeHead(204).end();
  });
});

server.listen(Number(process.env.PORT ?? 4000), "127.0.0.1", () => {
  console.error(`listening on http://127.0.0.1:${server.address().port}/zego`);
});
