//! `POST /zego/callback`: verify with the app's secrets, claim the nonce with the app's
//! replay guard, have the owning `Room` object apply it, answer.
//!
//! The answer is 2xx only once the object has committed the callback's effect, so any
//! failure before that (503) makes ZEGO retry, and a retry is applied again: the rules are
//! idempotent, and the guard takes the same nonce with the same body as a retry.

use ::worker::{Date, Env, Headers, Method, Request};
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::calls;
use super::config::{self, Settings, NONCES_BINDING, ROOMS_BINDING};
use super::endpoints::Forwarding;
use super::forward;
use super::guard::{nonces_name, ClaimRequest, ClaimResponse, Guard};
use super::http::read_body;
use super::kv::kv_key;
use super::names::{self, object_name, Identity};
use super::room::Applied;
use crate::live::{self, Scope};
use crate::replay::{self, Claim};
use crate::{body, Callback, Error, SignedParts, DEFAULT_MAX_BODY_BYTES};

/// The app key of callbacks that name no app (unknown events may not), for the replay guard.
const NO_APP: &str = "0";

/// The answer to a callback that was applied (or needed nothing applied).
#[derive(Debug, Serialize)]
pub struct Accepted {
    ok: bool,
    /// The event's name.
    event: String,
    /// The app it belongs to.
    appid: String,
    /// The same nonce and body were seen before and nothing was left to change.
    duplicate: bool,
    /// The keys of the live list this callback changed (none for a stale, duplicate or
    /// unknown one).
    written: Vec<String>,
    /// How many endpoints it was queued for (only when forwarding is configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    forwarded: Option<usize>,
}

/// Receives one callback. An error leaves every record as it was.
pub async fn handle(req: &mut Request, env: &Env) -> Result<Accepted, Error> {
    let settings = Settings::read(env)?;
    // Read before anything is applied: a configuration that cannot be followed is a 500.
    let forwarding = Forwarding::read(env)?;
    config::Reconcile::read(env)?;
    let body = read_body(req, DEFAULT_MAX_BODY_BYTES).await?;
    let content_type = req.headers().get("content-type").ok().flatten();
    let now = i64::try_from(Date::now().as_millis() / 1000).unwrap_or(i64::MAX);

    let fields = body::decode(&body, content_type.as_deref())?;
    let app = names::app_of(&fields)?;
    let (receiver, guard) = settings.receiver(app.as_deref())?;
    receiver.verify_fields(&fields, now)?;
    let signed = SignedParts::from_fields(&fields)?;
    let key = replay::claim_key(signed.timestamp_secs, signed.nonce)?;
    let timestamp = signed.timestamp_secs;
    let nonce = signed.nonce.to_owned();
    let cb = Callback::from_fields(fields)?;
    let app = app.unwrap_or_else(|| NO_APP.to_owned());

    // The body is not signed: a captured (timestamp, nonce, signature) may come back with
    // another body, another room, or (when its secret signs for several apps) another app.
    // Claimed in the guard the secret needs before anything is applied.
    let claim = claim(
        env,
        &guard,
        &key,
        (timestamp, &nonce),
        &body,
        settings.tolerance,
    )
    .await?;
    if claim == Claim::Other {
        return Err(Error::ReplayedNonce { nonce });
    }

    let plan = live::plan(&cb)?;
    let applied = match &plan {
        Some(plan) => {
            // A key KV would refuse is refused now, before anything is committed.
            if live::is_listed(&plan.key) {
                kv_key(&app, &plan.key)?;
            }
            Some(apply(env, &app, &plan.scope, &body, content_type.as_deref()).await?)
        }
        None => None,
    };
    let written = applied
        .as_ref()
        .map(|a| a.written.clone())
        .unwrap_or_default();
    let duplicate = claim == Claim::Same && written.is_empty();

    // Acknowledged only once its forwards are on the queue: a failed enqueue is a 503, and
    // ZEGO's retry applies (idempotently) and enqueues again, under the same webhook id.
    let forwarded = match &forwarding {
        Some(fwd) => {
            let live = plan
                .as_ref()
                .zip(applied.as_ref())
                .map(|(plan, a)| forward::Live {
                    scope: forward::ScopeIds::of(&plan.scope),
                    written: &a.written,
                    duplicate,
                    seq: a.seq,
                });
            let accepted = forward::Accepted {
                app: &app,
                nonce: &nonce,
                body: &body,
                content_type: content_type.as_deref(),
                callback: &cb,
                live: live.as_ref(),
                at: super::now_ms(),
            };
            let messages = forward::messages(fwd, &accepted)?;
            let count = messages.len();
            let queued = messages
                .iter()
                .map(|m| forward::queue_message(m, 0))
                .collect::<Result<Vec<_>, Error>>()?;
            forward::send(env, forward::QUEUE_BINDING, queued).await?;
            Some(count)
        }
        None => None,
    };
    Ok(Accepted {
        ok: true,
        event: cb.event().to_owned(),
        appid: app,
        duplicate,
        written,
        forwarded,
    })
}

async fn claim(
    env: &Env,
    guard: &Guard,
    key: &str,
    (timestamp, nonce): (i64, &str),
    body: &[u8],
    tolerance: u64,
) -> Result<Claim, Error> {
    let name = nonces_name(guard, key);
    let request = ClaimRequest {
        timestamp,
        nonce: nonce.to_owned(),
        digest: replay::body_digest(body),
        ttl_seconds: replay::claim_ttl_seconds(tolerance),
    };
    let (json, headers) = calls::json_body(&request)?;
    let url = calls::url("/claim", &[])?;
    let req = calls::request(&url, Method::Post, Some(json), headers)?;
    let answer: ClaimResponse =
        calls::call(&config::namespace(env, NONCES_BINDING)?, &name, req).await?;
    Ok(answer.claim)
}

/// Has the scope's object apply the callback; returns what it wrote.
async fn apply(
    env: &Env,
    app: &str,
    scope: &Scope,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Applied, Error> {
    let url = calls::url("/apply", &Identity::of(app, scope).params())?;
    let headers = Headers::new();
    if let Some(ct) = content_type {
        headers.set("content-type", ct).map_err(calls::internal)?;
    }
    let bytes = js_sys::Uint8Array::from(body);
    let req = calls::request(&url, Method::Post, Some(JsValue::from(bytes)), headers)?;
    calls::call(
        &config::namespace(env, ROOMS_BINDING)?,
        &object_name(app, scope),
        req,
    )
    .await
}
