//! The Cloudflare Worker (feature `worker`): receives ZEGO callbacks into a live list kept in
//! Workers KV, and serves that list.
//!
//! | route                              | what                                               |
//! |------------------------------------|----------------------------------------------------|
//! | `POST /zego/callback`              | verify, claim the nonce, apply in the room's object |
//! | `GET /streams`                     | live streams from KV (`?appid=`, `?room_id=`, `?cursor=`, `?limit=`) |
//! | `GET /mixes`                       | running mix tasks from KV (`?appid=`, `?cursor=`, `?limit=`) |
//! | `GET /rooms/<room_id>/streams`     | a room's live streams from its object (consistent) |
//! | `GET /rooms/<room_id>/subscribe`   | WebSocket: the room's snapshot, then each change   |
//! | `GET /rooms/streams?room_id=`, `GET /rooms/subscribe?room_id=` | the same, any room id |
//! | `GET /subscribe`                   | WebSocket: the app's snapshot, then each change    |
//! | `GET /healthz`                     | `{"ok":true}`                                      |
//! | `GET /deliveries`, `POST .../retry`, `POST /endpoints/<id>/enable` | forwarding: see `admin` |
//!
//! Bindings: `ZEGO_CALLBACK_SECRET` (any app; comma-separated for rotation) and/or
//! `ZEGO_CALLBACK_SECRETS` (JSON, per app), `ZEGO_TOLERANCE_SECONDS` (default 300),
//! `READ_TOKEN` and `PUBLIC_READS` (who reads), KV `LIVE_LIST`, Durable Objects `ROOMS`
//! ([`room::Room`]), `NONCES` ([`guard::Nonces`]) and `HUB` ([`hub::Hub`]);
//! `ZEGO_SERVER_SECRETS`, `ZEGO_API_BASE`, `ZEGO_RECONCILE_SECONDS` and
//! `ZEGO_API_CALLS_PER_SECOND` for checks of ZEGO's server API ([`reconcile`]).
//!
//! The Worker itself only verifies and routes: the decisions are made by the objects, as
//! drivers of [`crate::live`]; verification is [`crate::Receiver`]'s; every status is
//! [`Error::status`]'s. Nothing here panics (a panic aborts the isolate): every failure
//! becomes a JSON error response.
//!
//! | module     | what it knows                                                            |
//! |------------|--------------------------------------------------------------------------|
//! | `mod`      | the routes                                                               |
//! | `callback` | the callback route: verify, claim, apply, answer                         |
//! | `read`     | the read routes: lists from KV, a room from its object, subscriptions    |
//! | `config`   | the bindings: secrets, window, read access, namespaces                   |
//! | `guard`    | the replay guard: its scope, its shards, the `Nonces` object             |
//! | `names`    | object names, and the canonical appid they are named by                  |
//! | `room`     | the `Room` object: apply, read, subscribe                                |
//! | `records`  | the `Room` object's tables                                               |
//! | `outbox`   | when and how a `Room` sends its changes to KV and the hub                |
//! | `reconcile`| when a `Room` checks its room against ZEGO's server API, and applying it |
//! | `zego_api` | ZEGO's server API: the signed request, the answer                        |
//! | `hub`      | the `Hub` object: one shard of an app's records, for its subscribers     |
//! | `gather`   | an app-wide subscriber's socket, gathered from the app's hub shards      |
//! | `frames`   | what subscribers receive                                                 |
//! | `endpoints`| where callbacks are forwarded: the endpoints and their settings          |
//! | `forward`  | the forwarded messages and the queue they are sent on                    |
//! | `webhook`  | Standard Webhooks: ids and signatures of forwarded messages              |
//! | `delivery` | the queue consumer: one attempt per message, its outcome                 |
//! | `deliveries`| the `Deliveries` object: an endpoint's kept messages, retries, state    |
//! | `admin`    | the delivery admin routes: list, retry, enable                           |
//! | `costs`    | what the Worker did, counted (`COST_ACCOUNTING`)                         |
//! | `kv`       | the live list in Workers KV: keys, metadata, the store                   |
//! | `sql`      | the objects' SQLite storage                                              |
//! | `calls`    | the internal calls between the Worker and the objects                    |
//! | `http`     | responses, CORS, the bounded body read, the bearer check                 |
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

mod admin;
mod callback;
mod calls;
mod config;
mod costs;
mod deliveries;
mod delivery;
mod endpoints;
mod forward;
mod frames;
mod gather;
mod guard;
mod http;
mod hub;
mod kv;
mod names;
mod outbox;
mod read;
mod reconcile;
mod records;
mod room;
mod sql;
mod webhook;
mod zego_api;

use ::worker::{event, Context, Date, Env, MessageBatch, Method, Request, Response};
use serde_json::json;

use self::http::Extra;
use self::read::{Feed, Listing};
use crate::Error;

/// The Worker's clock, Unix milliseconds: read here, at the edge, never in the core.
pub(crate) fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// The callback URL to configure in ZEGO's console.
pub const CALLBACK_PATH: &str = "/zego/callback";

enum Route {
    Callback,
    List(Listing),
    /// A room's streams: the room from the path, or (`None`) from `?room_id=`.
    RoomStreams(Option<String>),
    Subscribe(Feed),
    Health,
    Deliveries,
    RetryDelivery(Option<String>),
    EnableEndpoint(String),
    Costs,
}

fn route(path: &str) -> Option<Route> {
    match path {
        CALLBACK_PATH => return Some(Route::Callback),
        "/streams" => return Some(Route::List(Listing::Streams)),
        "/mixes" => return Some(Route::List(Listing::Mixes)),
        "/subscribe" => return Some(Route::Subscribe(Feed::App)),
        "/rooms/streams" => return Some(Route::RoomStreams(None)),
        "/rooms/subscribe" => return Some(Route::Subscribe(Feed::Room(None))),
        "/healthz" => return Some(Route::Health),
        "/deliveries" => return Some(Route::Deliveries),
        "/deliveries/retry" => return Some(Route::RetryDelivery(None)),
        "/costs" => return Some(Route::Costs),
        _ => {}
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .filter(|r| !r.is_empty())
            .map(|s| s.into_owned())
    };
    if let Some(rest) = path.strip_prefix("/deliveries/") {
        let id = rest.strip_suffix("/retry")?;
        return Some(Route::RetryDelivery(Some(decode(id)?)));
    }
    if let Some(rest) = path.strip_prefix("/endpoints/") {
        let id = rest.strip_suffix("/enable")?;
        return Some(Route::EnableEndpoint(decode(id)?));
    }
    let (room, action) = path.strip_prefix("/rooms/")?.rsplit_once('/')?;
    let room = percent_encoding::percent_decode_str(room)
        .decode_utf8()
        .ok()
        .filter(|r| !r.is_empty())?
        .into_owned();
    match action {
        "streams" => Some(Route::RoomStreams(Some(room))),
        "subscribe" => Some(Route::Subscribe(Feed::Room(Some(room)))),
        _ => None,
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> ::worker::Result<Response> {
    costs::count(|c| c.worker_requests += 1);
    let method = req.method();
    match (route(&req.path()), method) {
        (Some(Route::Callback), Method::Post) => match callback::handle(&mut req, &env).await {
            Ok(accepted) => http::json(200, &accepted, Extra::PLAIN),
            Err(e) => http::error(&e, Extra::PLAIN),
        },
        (Some(Route::Callback), _) => {
            http::error(&Error::MethodNotAllowed, Extra::PLAIN.allow("POST"))
        }
        (Some(_), Method::Options) => http::preflight(),
        (Some(Route::List(listing)), Method::Get) => match read::list(&req, &env, listing).await {
            Ok(page) => http::json(200, &page, Extra::CORS),
            Err(e) => http::error(&e, Extra::CORS),
        },
        (Some(Route::RoomStreams(room)), Method::Get) => {
            match read::room_streams(&req, &env, room.as_deref()).await {
                Ok(list) => http::json(200, &list, Extra::CORS),
                Err(e) => http::error(&e, Extra::CORS),
            }
        }
        (Some(Route::Subscribe(feed)), Method::Get) => {
            match read::subscribe(&req, &env, &feed).await {
                Ok(res) => Ok(res),
                Err(e) => http::error(&e, Extra::CORS),
            }
        }
        (Some(Route::Health), Method::Get) => http::json(200, &json!({ "ok": true }), Extra::CORS),
        (Some(Route::Deliveries), Method::Get) => match admin::list(&req, &env).await {
            Ok(list) => http::json(200, &list, Extra::CORS),
            Err(e) => http::error(&e, Extra::CORS),
        },
        (Some(Route::RetryDelivery(id)), Method::Post) => {
            match admin::retry(&req, &env, id.as_deref()).await {
                Ok(done) => http::json(200, &done, Extra::CORS),
                Err(e) => http::error(&e, Extra::CORS),
            }
        }
        (Some(Route::EnableEndpoint(id)), Method::Post) => {
            match admin::enable(&req, &env, &id).await {
                Ok(done) => http::json(200, &done, Extra::CORS),
                Err(e) => http::error(&e, Extra::CORS),
            }
        }
        (Some(Route::Costs), Method::Get) => match read_costs(&req, &env) {
            Ok(costs) => http::json(200, &costs, Extra::CORS),
            Err(e) => http::error(&e, Extra::CORS),
        },
        (Some(Route::RetryDelivery(_) | Route::EnableEndpoint(_)), _) => {
            http::error(&Error::MethodNotAllowed, Extra::CORS.allow("POST, OPTIONS"))
        }
        (Some(_), _) => http::error(&Error::MethodNotAllowed, Extra::CORS.allow("GET, OPTIONS")),
        (None, _) => http::error(&Error::NotFound, Extra::CORS),
    }
}

/// `GET /costs` (`?reset=1` starts over): what this isolate counted, when
/// `COST_ACCOUNTING=true` (else 404), to a reader with the read token.
fn read_costs(req: &Request, env: &Env) -> Result<costs::Costs, Error> {
    let on = config::text(env, "COST_ACCOUNTING")?;
    if on.as_deref().map(str::trim) != Some("true") {
        return Err(Error::NotFound);
    }
    read::authorize(req, env)?;
    let reset = http::param(&http::query(req), "reset").is_some();
    // This request was counted before it was routed: it is not the work being measured.
    costs::count(|c| c.worker_requests = c.worker_requests.saturating_sub(1));
    Ok(costs::take(reset))
}

/// The queue consumer: deliveries to the endpoints, and the dead letters they leave.
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> ::worker::Result<()> {
    // Every message is acknowledged or retried by the consumer itself: an `Err` here would
    // panic in the glue and reset the module.
    delivery::consume(batch, env).await;
    Ok(())
}
