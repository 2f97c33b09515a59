// A customer's backend as the forwarding tests need it: a real Node HTTP server on
// 127.0.0.1 that verifies every message with the `standardwebhooks` package (as a backend
// would) and answers as it is told: 2xx, 500, 410, late (a promise of the status), or not
// at all (its port closed).
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

export const FORWARD_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/**
 * Starts the receiver (on `port`, else any free one). `answer(request)` decides each status
 * (default 204), or a promise of it to answer late. Every request is kept in `received` with
 * its headers, raw body, when it arrived (`at`) and whether its signature verified.
 */
export async function startReceiver({ secret = FORWARD_SECRET, port: fixedPort } = {}) {
  const webhook = new Webhook(secret);
  const received = [];
  let answer = () => 204;
  let port = fixedPort;
  let server;
  const handler = (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks);
      const headers = {
        "webhook-id": req.headers["webhook-id"],
        "webhook-timestamp": req.headers["webhook-timestamp"],
        "webhook-signature": req.headers["webhook-signature"],
      };
      let verified = false;
      let error = null;
      try {
        webhook.verify(raw.toString("utf8"), headers);
        verified = true;
      } catch (e) {
        error = e.message;
      }
      const entry = {
        id: headers["webhook-id"],
        timestamp: headers["webhook-timestamp"],
        contentType: req.headers["content-type"],
        raw,
        text: raw.toString("utf8"),
        verified,
        error,
        at: Date.now(),
      };
      const status = verified ? await answer(entry) : 400;
      entry.status = status;
      received.push(entry);
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(status >= 300 ? `answered ${status}` : "");
    });
  };
  const listen = () =>
    new Promise((resolve, reject) => {
      server = createServer(handler);
      server.once("error", reject);
      server.listen(port ?? 0, "127.0.0.1", () => {
        port = server.address().port;
        resolve();
      });
    });
  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}/hooks/zego`;
    },
    received,
    /** Decides each answer's status from now on. */
    answerWith(fn) {
      answer = fn;
    },
    /** Closes the port: every attempt meets a refused connection. */
    async down() {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
    /** Listens again on the same port. */
    up: listen,
    /** The messages that landed: verified and answered 2xx. */
    delivered() {
      return received.filter((r) => r.verified && r.status < 300);
    },
    stop: async () => {
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
    },
  };
}
