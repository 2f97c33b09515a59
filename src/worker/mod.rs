//! The Cloudflare Worker (feature `worker`): receives ZEGO callbacks into a live list kept in
//! Workers KV, and serves that list.
//!
//! | route                  | what                                                        |
//! |------------------------|-------------------------------------------------------------|
//! | `POST /zego/callback`  | verify, apply with [`crate::live`], store; 2xx once stored  |
//! | `GET /streams`         | live streams (`?room_id=`, `?cursor=`, `?limit=`)           |
//! | `GET /mixes`           | running mix tasks (`?cursor=`, `?limit=`)                   |
//! | `GET /healthz`         | `{"ok":true}`                                               |
//!
//! Bindings: `ZEGO_CALLBACK_SECRET` (comma-separated for rotation), `ZEGO_TOLERANCE_SECONDS`
//! (default 300), `READ_TOKEN` (optional bearer token for the reads), KV `LIVE_LIST`.
//!
//! This layer is thin: the rules are in [`crate::live`], verification in [`crate::Receiver`],
//! the status of every error in [`Error::status`]. It never panics (a panic aborts the
//! isolate): every failure becomes a JSON error response.
//!
//! Workers KV has no compare-and-swap: two callbacks of the same stream handled at the same
//! moment can both read the old record (see [`crate::live`]'s limits).
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

mod callback;
mod config;
mod http;
mod layout;
mod read;
mod store;

use ::worker::{event, Context, Env, Method, Request, Response};
use serde_json::json;

use self::http::Extra;
use self::read::Listing;
use crate::Error;

/// The callback URL to configure in ZEGO's console.
pub const CALLBACK_PATH: &str = "/zego/callback";

enum Route {
    Callback,
    List(Listing),
    Health,
}

fn route(path: &str) -> Option<Route> {
    match path {
        CALLBACK_PATH => Some(Route::Callback),
        "/streams" => Some(Route::List(Listing::Streams)),
        "/mixes" => Some(Route::List(Listing::Mixes)),
        "/healthz" => Some(Route::Health),
        _ => None,
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> ::worker::Result<Response> {
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
        (Some(Route::Health), Method::Get) => http::json(200, &json!({ "ok": true }), Extra::CORS),
        (Some(_), _) => http::error(&Error::MethodNotAllowed, Extra::CORS.allow("GET, OPTIONS")),
        (None, _) => http::error(&Error::NotFound, Extra::CORS),
    }
}
