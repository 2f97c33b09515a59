// ZEGO callbacks in a Cloudflare Worker written in JS: `npx wrangler dev` in this folder
// (ZEGO_CALLBACK_SECRET in .dev.vars or `--var`). The `workerd` entry of the module loads
// its .wasm the way Workers load wasm. The nonces it remembers are those of one isolate: for
// the guarantee across a whole deployment, see the repository's Rust Worker (Durable Objects).
import { createHandler, ZegoCallbacks } from "zego-callback";

let handle;

export default {
  async fetch(request, env) {
    if (!handle) {
      const callbacks = new ZegoCallbacks({ secret: env.ZEGO_CALLBACK_SECRET });
      callbacks.on("stream_create", (cb) => console.log(`stream_create ${cb.room_id}/${cb.stream_id} session ${cb.room_session_id}`));
      callbacks.on(["stream_close", "room_close"], (cb) => console.log(`${cb.event} ${cb.room_id}`));
      handle = createHandler(callbacks);
    }
    return handle(request);
  },
};
