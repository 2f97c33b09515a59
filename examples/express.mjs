// ZEGO callbacks in an Express app: `node examples/express.mjs` (PORT, ZEGO_CALLBACK_SECRET).
// The middleware reads the raw body itself: mount it before any body parser.
import express from "express";
import { createNodeMiddleware, ZegoCallbacks } from "zego-callback";

const callbacks = new ZegoCallbacks({ secret: process.env.ZEGO_CALLBACK_SECRET ?? "zego-dev-secret" });
callbacks.on("stream_create", (cb) => console.log(`stream_create ${cb.room_id}/${cb.stream_id} session ${cb.room_session_id}`));
callbacks.on(["stream_close", "room_close"], (cb) => console.log(`${cb.event} ${cb.room_id}`));

const app = express();
app.use(createNodeMiddleware(callbacks)); // POST /zego/callback; other paths go on
app.use(express.json()); // the rest of the app may parse bodies as it likes
app.get("/", (_req, res) => res.send("ok"));

const server = app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
