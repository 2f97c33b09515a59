//! `POST /zego/callback`: verify, guard the nonce, apply the live-list rules, store, answer.
//!
//! The answer is 2xx only once every write the callback calls for is stored, so a storage
//! failure (503) makes ZEGO retry, and a retry finds the rules idempotent.

use ::worker::{Date, Env, Request};
use futures_util::future::try_join;
use serde::Serialize;

use super::config;
use super::http::read_body;
use super::layout;
use super::store::{Store, MAX_LIST_LIMIT};
use crate::live::{self, KeyWrite, Stored, StreamRecord};
use crate::{Callback, Error, DEFAULT_MAX_BODY_BYTES};

/// The answer to a callback that was stored (or needed nothing stored).
#[derive(Debug, Serialize)]
pub struct Accepted {
    ok: bool,
    /// The event's name.
    event: String,
    /// The same nonce and body were already stored: nothing was done.
    duplicate: bool,
    /// The keys of the live list this callback wrote (none for a stale or unknown one).
    written: Vec<String>,
}

/// Receives one callback. Every error leaves the store as it was, except a storage failure
/// after some writes (half-way through a `room_close`, or before the nonce is recorded):
/// those writes are what the rules decide anyway, and the retry completes the rest.
pub async fn handle(req: &mut Request, env: &Env) -> Result<Accepted, Error> {
    let (receiver, tolerance) = config::receiver(env)?;
    let store = Store::open(env)?;
    let body = read_body(req, DEFAULT_MAX_BODY_BYTES).await?;
    let content_type = req.headers().get("content-type").ok().flatten();
    let now = i64::try_from(Date::now().as_millis() / 1000).unwrap_or(i64::MAX);
    let cb = receiver.receive(&body, content_type.as_deref(), now)?;
    let event = cb.event().to_owned();

    // The body is not signed: a captured (timestamp, nonce, signature) may come back with
    // another body. The nonce is remembered with the body's digest for the whole window.
    let nonce = nonce_of(&cb)?;
    let nonce_key = layout::nonce_key(nonce)?;
    let digest = layout::body_digest(&body);
    match store.get_text(&nonce_key).await? {
        Some(seen) if seen == digest => {
            // Its effect was stored before its nonce was: nothing left to do.
            return Ok(Accepted {
                ok: true,
                event,
                duplicate: true,
                written: Vec::new(),
            });
        }
        Some(_) => {
            return Err(Error::ReplayedNonce {
                nonce: nonce.to_owned(),
            })
        }
        None => {}
    }

    let written = apply(&store, &cb).await?;
    // Only now: a retry after a failed write must be applied again, not taken for a duplicate.
    store
        .put_expiring(&nonce_key, &digest, layout::nonce_ttl_seconds(tolerance))
        .await?;
    Ok(Accepted {
        ok: true,
        event,
        duplicate: false,
        written,
    })
}

fn nonce_of(cb: &Callback) -> Result<&str, Error> {
    let nonce = match cb {
        Callback::Unknown(ev) => ev.field("nonce", "Nonce").and_then(|v| v.as_text()),
        known => known.envelope().map(|env| env.nonce.as_str()),
    };
    nonce.ok_or_else(|| Error::missing("nonce"))
}

async fn put(store: &Store, write: KeyWrite, written: &mut Vec<String>) -> Result<(), Error> {
    store.put(&write).await?;
    written.push(write.key);
    Ok(())
}

/// Applies a verified callback to the store through [`live`]'s driver (plan, decide, and
/// for a `room_close` decide each scanned stream), as [`live::LiveList::apply`] does in
/// memory. Returns the keys written.
pub async fn apply(store: &Store, cb: &Callback) -> Result<Vec<String>, Error> {
    let mut written = Vec::new();
    // Events that do not concern the list (and unknown ones) have no plan.
    let Some(plan) = live::plan(cb)? else {
        return Ok(written);
    };
    let session = async {
        match &plan.session_key {
            Some(key) => store.get_stored(key).await,
            None => Ok(None),
        }
    };
    let (current, session) = try_join(store.get_stored(&plan.key), session).await?;
    if let Some(write) = live::decide(cb, &plan, current.as_ref(), session.as_ref()) {
        put(store, write, &mut written).await?;
    }
    // Even when the session was already closed: a retry may follow a failure here.
    if let Some(prefix) = &plan.scan_prefix {
        let mut cursor = None;
        loop {
            let page = store.list(prefix, cursor, MAX_LIST_LIMIT).await?;
            for key in &page.keys {
                let Some(stream) = store.listed::<StreamRecord>(key).await? else {
                    continue;
                };
                if let Some(write) = live::decide_scanned(cb, &key.name, &Stored::Stream(stream)) {
                    put(store, write, &mut written).await?;
                }
            }
            cursor = page.cursor;
            if cursor.is_none() {
                break;
            }
        }
    }
    Ok(written)
}
