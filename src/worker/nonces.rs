//! The replay guard's storage: a `Nonces` Durable Object per guard and shard holds the claims
//! ([`crate::replay`] decides them), one synchronous SQL read and write each, so two requests
//! with the same signed pair cannot both see it unclaimed.
//!
//! The body is not signed, so whoever holds a captured `(timestamp, nonce, signature)` picks
//! the body, its `room_id` included: a guard is at least app-wide, never per room, and spans
//! every app its secret signs for ([`super::config::Guard`], sharded by the claim's digest,
//! see [`super::scope::nonces_name`]).

use std::cell::Cell;

use ::worker::{durable_object, DurableObject, Env, Request, Response, Result, State};
use serde::{Deserialize, Serialize};

use super::objects::{self, now_ms, Sql};
use crate::replay::{decide, Claim};
use crate::Error;

/// The request to claim a callback's signed pair.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// The claim's key ([`crate::replay::claim_key`]).
    pub key: String,
    /// SHA-1 of its raw body, hex.
    pub digest: String,
    /// How long the claim holds.
    pub ttl_seconds: u64,
}

/// The answer to a [`ClaimRequest`].
#[derive(Debug, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// What the claim found.
    pub claim: Claim,
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, digest TEXT NOT NULL, \
     expires_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at)",
];

/// How many expired claims one claim deletes: the table stays bounded without a sweep.
const PRUNE_BATCH: i64 = 32;

/// One shard of an app's replay guard.
#[durable_object]
pub struct Nonces {
    state: State,
    ready: Cell<bool>,
}

impl Nonces {
    fn sql(&self) -> std::result::Result<Sql, Error> {
        Sql::open(&self.state, &self.ready, SCHEMA)
    }

    /// Claims a nonce: prune, read, decide, write — all synchronous, so nothing interleaves.
    fn claim(&self, req: &ClaimRequest) -> std::result::Result<Claim, Error> {
        let sql = self.sql()?;
        let now = now_ms();
        sql.exec(
            "DELETE FROM nonces WHERE nonce IN \
             (SELECT nonce FROM nonces WHERE expires_at <= ? LIMIT ?)",
            vec![objects::int(now), PRUNE_BATCH.into()],
        )?;
        let stored = sql
            .rows(
                "SELECT digest FROM nonces WHERE nonce = ? AND expires_at > ?",
                vec![req.key.clone().into(), objects::int(now)],
            )?
            .first()
            .map(|row| row.text(0))
            .transpose()?;
        let claim = decide(stored.as_deref(), &req.digest);
        if claim == Claim::New {
            let expires = now.saturating_add(req.ttl_seconds.saturating_mul(1000));
            sql.exec(
                "INSERT OR REPLACE INTO nonces (nonce, digest, expires_at) VALUES (?, ?, ?)",
                vec![
                    req.key.clone().into(),
                    req.digest.clone().into(),
                    objects::int(expires),
                ],
            )?;
        }
        Ok(claim)
    }
}

impl DurableObject for Nonces {
    fn new(state: State, _env: Env) -> Self {
        Nonces {
            state,
            ready: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let claimed = objects::json_of::<ClaimRequest>(&mut req)
            .await
            .and_then(|claim| self.claim(&claim));
        objects::answer(claimed.map(|claim| ClaimResponse { claim }))
    }
}
