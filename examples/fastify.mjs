// ZEGO callbacks in a Fastify app: `node examples/fastify.mjs` (PORT, ZEGO_CALLBACK_SECRET).
// @fastify/middie runs the middleware before Fastify parses the body, so the raw body is there.
import middie from "@fastify/middie";
import Fastify from "fastify";
import { createNodeMiddleware, ZegoCallbacks } from "zego-callback";

const callbacks = new ZegoCallbacks({ secret: process.env.ZEGO_CALLBACK_SECRET ?? "zego-dev-secret" });
callbacks.on("stream_create", (cb) => console.log(`stream_create ${cb.room_id}/${cb.stream_id} session ${cb.room_session_id}`));
callbacks.on(["stream_close", "room_close"], (cb) => console.log(`${cb.event} ${cb.room_id}`));

const app = Fastify();
await app.register(middie);
app.use(createNodeMiddleware(callbacks));
app.get("/", async () => "ok");

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: "127.0.0.1" });
console.log(`listening on ${address}`);
