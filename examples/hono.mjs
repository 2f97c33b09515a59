// ZEGO callbacks in a Hono app on Node: `node examples/hono.mjs` (PORT, ZEGO_CALLBACK_SECRET).
// createHandler takes the web-standard Request (c.req.raw) and reads its raw body itself.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createHandler, ZegoCallbacks } from "zego-callback";

const callbacks = new ZegoCallbacks({ secret: process.env.ZEGO_CALLBACK_SECRET ?? "zego-dev-secret" });
callbacks.on("stream_create", (cb) => console.log(`stream_create ${cb.room_id}/${cb.stream_id} session ${cb.room_session_id}`));
callbacks.on(["stream_close", "room_close"], (cb) => console.log(`${cb.event} ${cb.room_id}`));

const app = new Hono();
const zego = createHandler(callbacks);
app.all("/zego/callback", (c) => zego(c.req.raw));
app.get("/", (c) => c.text("ok"));

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1" }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
