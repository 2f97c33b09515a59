//! The replay guard: a `Nonces` Durable Object per app and shard claims each nonce with the
//! digest of its body, atomically.
//!
//! The body is not signed, so whoever holds a captured `(timestamp, nonce, signature)` picks
//! the body, its `room_id` included: the guard is app-wide (sharded by the nonce's digest,
//! see [`super::scope::nonces_name`]), never per room. A claim is one synchronous SQL read and
//! write, so two requests with the same nonce cannot both see it unclaimed.

use std::cell::Cell;

use ::worker::{durable_object, DurableObject, Env, Request, Response, Result, State};
use serde::{Deserialize, Serialize};

use super::objects::{self, now_ms, Sql};
use crate::Error;

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// The nonce was not claimed: it is now, with this digest.
    New,
    /// Claimed with the same digest: a retry of the same callback, to be applied again.
    Same,
    /// Claimed with another digest: a replay.
    Other,
}

/// Decides a claim from the digest stored under the nonce (if any, and not expired).
pub fn decide(stored: Option<&str>, digest: &str) -> Claim {
    match stored {
        None => Claim::New,
        Some(d) if d == digest => Claim::Same,
        Some(_) => Claim::Other,
    }
}

/// The request to claim a nonce.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// The callback's nonce.
    pub nonce: String,
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
                vec![req.nonce.clone().into(), objects::int(now)],
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
                    req.nonce.clone().into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_digest_is_a_retry_another_a_replay() {
        assert_eq!(decide(None, "d1"), Claim::New);
        assert_eq!(decide(Some("d1"), "d1"), Claim::Same);
        assert_eq!(decide(Some("d1"), "d2"), Claim::Other);
    }
}
