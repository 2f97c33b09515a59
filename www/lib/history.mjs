// The Replay section's data: a sample multi-session history of callbacks, seeded shuffles,
// and runs of the module's LiveList over a sequence. Pure apart from the `api`; no DOM.

/** A body written from `[name, rawJsonText]` pairs, so numbers keep every digit. */
function jsonBody(pairs) {
  return `{${pairs.map(([name, raw]) => `${JSON.stringify(name)}:${raw}`).join(",")}}`;
}

const str = (v) => JSON.stringify(String(v));

/**
 * A small history of two rooms, as ZEGO would send it in order: room-7's first session
 * (a 64-bit `room_session_id`) with a stream closed and re-published, a mix started and
 * stopped, then `room_close`; a new session that restarts `stream_seq` and reuses a stream id;
 * a second mix still running; room-9 still live. Each item is `{ label, body, contentType }`,
 * signed with `secret` when one is given.
 */
export function sampleHistory(api, { secret, nowSeconds }) {
  const t0 = (nowSeconds - 300) * 1000;
  const sessionA = "858012925204410401";
  const sessionB = "858012925204410467";
  const sessionC = "1234567";
  let n = 0;

  function envelope(event, offsetMs, { numbers = false } = {}) {
    const timestamp = String(Math.floor((t0 + offsetMs) / 1000));
    const nonce = String(7254119327986670000n + BigInt(++n));
    const signature = secret ? api.sign(secret, timestamp, nonce) : "unsigned";
    return [
      ["event", str(event)],
      ["appid", numbers ? "1" : str(1)],
      ["timestamp", numbers ? timestamp : str(timestamp)],
      ["nonce", str(nonce)],
      ["signature", str(signature)],
    ];
  }

  const create = (room, session, stream, seq, offsetMs, more = []) => ({
    label: `stream_create ${room}/${stream} seq ${seq}, session …${session.slice(-4)}`,
    body: jsonBody([
      ...envelope("stream_create", offsetMs),
      ["room_id", str(room)],
      ["room_session_id", str(session)],
      ["user_id", str(`${stream}-user`)],
      ["stream_id", str(stream)],
      ["title", str(`${room} ${stream}`)],
      ["stream_attr", str('{"cid":0}')],
      ["stream_seq", str(seq)],
      ["create_time_ms", str(t0 + offsetMs)],
      ...more,
      ["rtmp_url", `[${str(`rtmp://play.example.com/live/${stream}`)}]`],
      ["hls_url", "[]"],
      ["hdl_url", "[]"],
      ["pic_url", "[]"],
    ]),
  });
  const close = (room, session, stream, seq, createdMs, offsetMs) => ({
    label: `stream_close ${room}/${stream} seq ${seq}, session …${session.slice(-4)}`,
    body: jsonBody([
      ...envelope("stream_close", offsetMs),
      ["room_id", str(room)],
      ["room_session_id", str(session)],
      ["type", str(0)],
      ["stream_id", str(stream)],
      ["stream_seq", str(seq)],
      ["create_time_ms", str(t0 + createdMs)],
      ["destroy_timemillis", str(t0 + offsetMs)],
    ]),
  });
  // As ZEGO's room_close example: appid, timestamp and room_session_id are JSON numbers.
  const roomClose = (room, session, offsetMs) => ({
    label: `room_close ${room}, session …${session.slice(-4)}`,
    body: jsonBody([
      ...envelope("room_close", offsetMs, { numbers: true }),
      ["room_id", str(room)],
      ["room_session_id", session],
      ["close_reason", "1"],
      ["room_close_time", str(t0 + offsetMs)],
    ]),
  });
  const mix = (event, task, seq, offsetMs) => ({
    label: `${event} ${task} seq ${seq}`,
    body: jsonBody([
      ...envelope(event, offsetMs),
      ["seq", str(seq)],
      ["task_id", str(task)],
      ["channel_id", str("room-7")],
      ["mix_stream_alias", str(task.replace(":", "-"))],
      ...(event === "mix_start" ? [["rtmp_urls", "[]"], ["hls_urls", "[]"], ["hdl_urls", "[]"]] : []),
    ]),
  });

  const items = [
    create("room-7", sessionA, "host", 1, 0),
    create("room-7", sessionA, "guest", 1, 5_000),
    mix("mix_start", "1:mix-a", 1, 8_000),
    close("room-7", sessionA, "guest", 2, 5_000, 40_000),
    create("room-7", sessionA, "guest", 3, 50_000, [["recreate", str(1)]]),
    create("room-9", sessionC, "solo", 1, 60_000),
    mix("mix_stop", "1:mix-a", 2, 90_000),
    roomClose("room-7", sessionA, 120_000),
    create("room-7", sessionB, "host", 1, 200_000),
    mix("mix_start", "1:mix-b", 1, 205_000),
    create("room-7", sessionB, "guest", 1, 210_000),
    close("room-7", sessionB, "guest", 2, 210_000, 260_000),
  ];
  return items.map((item) => ({ ...item, contentType: "application/json" }));
}

/** A seeded generator of integers in [0, n): mulberry32, so a shuffle can be named by its seed. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/**
 * A delivery order for `count` callbacks: their indexes shuffled by `seed`; with
 * `duplicates`, some are delivered twice, as ZEGO's retries do.
 */
export function shuffledOrder(count, seed, { duplicates = false } = {}) {
  const random = seededRandom(seed);
  const order = [];
  for (let i = 0; i < count; i++) {
    order.push(i);
    if (duplicates && random(3) === 0) order.push(i);
  }
  for (let i = order.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Whether this build of the module has the live-list model. */
export function hasLiveList(api) {
  return typeof api.LiveList === "function";
}

/** Applies callbacks in turn to a new LiveList: `{ streams, mixes, writes }`. */
export function replay(api, callbacks) {
  const list = new api.LiveList();
  const writes = callbacks.map((cb) => list.apply(cb));
  return { streams: list.streams(), mixes: list.mixes(), writes };
}

/** Whether two runs show the same live list. */
export function sameList(a, b) {
  return JSON.stringify([a.streams, a.mixes]) === JSON.stringify([b.streams, b.mixes]);
}
