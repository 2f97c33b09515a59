//! The delivery routes: what never landed, each endpoint's state, and replaying.
//!
//! | route                              | who            | what                                  |
//! |------------------------------------|----------------|---------------------------------------|
//! | `GET /deliveries`                  | read or admin  | every endpoint's state and its kept messages (`?state=failed`, `retrying`, `held`; `?endpoint=`; `?limit=`) |
//! | `POST /deliveries/<id>/retry`      | admin          | send a failed message again, from its first attempt |
//! | `POST /deliveries/retry`           | admin          | send every failed message again       |
//! | `POST /endpoints/<id>/enable`      | admin          | enable an endpoint a 410 disabled, and send what it held |
//!
//! Changing anything needs `ADMIN_TOKEN` as a bearer token, never the read token; without
//! `ADMIN_TOKEN` nothing can be changed.

use ::worker::{Env, Request};
use futures_util::future::try_join_all;
use serde::Serialize;

use super::config;
use super::deliveries::{EndpointState, Ledger};
use super::delivery::Listed;
use super::endpoints::{redact, Endpoint, Forwarding};
use super::http::bearer_matches;
use super::read;
use crate::Error;

/// The bearer token that changing anything requires.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";

/// The most messages one listing returns per endpoint.
pub const MAX_LIMIT: u64 = 1000;

/// Refuses a change without the admin token (also when none is configured).
fn authorize_admin(req: &Request, env: &Env) -> Result<(), Error> {
    let token = config::text(env, ADMIN_TOKEN)?
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or(Error::Unauthorized)?;
    let header = req.headers().get("authorization").ok().flatten();
    if bearer_matches(header.as_deref(), &token) {
        Ok(())
    } else {
        Err(Error::Unauthorized)
    }
}

fn forwarding(env: &Env) -> Result<Forwarding, Error> {
    Forwarding::read(env)?.ok_or_else(|| {
        Error::invalid(
            "endpoint",
            "no endpoint is configured (FORWARD_URL or FORWARD_ENDPOINTS)",
        )
    })
}

/// An endpoint as the listing shows it: its configuration and state.
#[derive(Debug, Serialize)]
pub struct EndpointView {
    /// Its URL, the query left out (it may hold a token).
    url: String,
    /// `typed` or `raw`.
    format: &'static str,
    /// Its state.
    #[serde(flatten)]
    state: EndpointState,
}

/// `GET /deliveries`.
#[derive(Debug, Serialize)]
pub struct Deliveries {
    endpoints: Vec<EndpointView>,
    deliveries: Vec<Listed>,
}

fn selected<'a>(fwd: &'a Forwarding, id: Option<&str>) -> Result<Vec<&'a Endpoint>, Error> {
    let all = fwd.unique_endpoints();
    match id {
        None => Ok(all),
        Some(id) => all
            .into_iter()
            .find(|e| e.id == id)
            .map(|e| vec![e])
            .ok_or_else(|| Error::invalid("endpoint", format!("no endpoint `{id}`"))),
    }
}

/// `GET /deliveries`: every endpoint's state and kept messages, latest change first.
pub async fn list(req: &Request, env: &Env) -> Result<Deliveries, Error> {
    if authorize_admin(req, env).is_err() {
        read::authorize(req, env)?;
    }
    let fwd = forwarding(env)?;
    let params = super::http::query(req);
    let param = |name: &str| super::http::param(&params, name).map(str::to_owned);
    let state = param("state");
    if let Some(s) = state.as_deref() {
        if !matches!(s, "failed" | "retrying" | "held") {
            return Err(Error::invalid("state", "expected failed, retrying or held"));
        }
    }
    let limit = match param("limit") {
        Some(l) => l
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| Error::invalid("limit", format!("expected 1 to {MAX_LIMIT}")))?,
        None => 100,
    };
    let endpoints = selected(&fwd, param("endpoint").as_deref())?;
    let listings = try_join_all(endpoints.iter().map(|e| async {
        Ledger::open(env, &e.id)?
            .list(state.as_deref(), limit)
            .await
    }))
    .await?;
    let mut deliveries: Vec<Listed> = Vec::new();
    let mut views = Vec::new();
    for (endpoint, listing) in endpoints.iter().zip(listings) {
        deliveries.extend(listing.messages);
        views.push(EndpointView {
            url: redact(&endpoint.url),
            format: match endpoint.format {
                super::endpoints::Format::Typed => "typed",
                super::endpoints::Format::Raw => "raw",
            },
            state: EndpointState {
                id: endpoint.id.clone(),
                ..listing.endpoint
            },
        });
    }
    deliveries.sort_by_key(|d| std::cmp::Reverse(d.updated_at));
    Ok(Deliveries {
        endpoints: views,
        deliveries,
    })
}

/// How many messages a change sent again.
#[derive(Debug, Serialize)]
pub struct Requeued {
    requeued: u64,
}

/// `POST /deliveries/<id>/retry` (`id: Some`) and `POST /deliveries/retry`.
pub async fn retry(req: &Request, env: &Env, id: Option<&str>) -> Result<Requeued, Error> {
    authorize_admin(req, env)?;
    let fwd = forwarding(env)?;
    let counts = try_join_all(
        fwd.unique_endpoints()
            .into_iter()
            .map(|e| async move { Ledger::open(env, &e.id)?.retry(id).await }),
    )
    .await?;
    let requeued = counts.iter().map(|c| c.requeued).sum();
    if let (Some(id), 0) = (id, requeued) {
        return Err(Error::invalid("id", format!("no failed delivery `{id}`")));
    }
    Ok(Requeued { requeued })
}

/// `POST /endpoints/<id>/enable`.
pub async fn enable(req: &Request, env: &Env, id: &str) -> Result<Requeued, Error> {
    authorize_admin(req, env)?;
    let fwd = forwarding(env)?;
    let endpoint = selected(&fwd, Some(id))?;
    let mut requeued = 0;
    for e in endpoint {
        requeued += Ledger::open(env, &e.id)?.enable().await?.requeued;
    }
    Ok(Requeued { requeued })
}
