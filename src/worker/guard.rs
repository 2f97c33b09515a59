//! The replay guard in the Worker: which guard a callback's signature needs ([`Guard`]), the
//! shard that holds its claim ([`nonces_name`]), and the `Nonces` Durable Object that holds
//! claims, one synchronous SQL read and write each, so two requests with the same signed pair
//! cannot both see it unclaimed. What a claim decides is [`crate::replay`]'s.
//!
//! The body is not signed, so whoever holds a captured `(timestamp, nonce, signature)` picks
//! the body, its `room_id` and `appid` included: a guard is never per room, and spans every
//! app its secret signs for.

use std::cell::Cell;

use ::worker::{durable_object, DurableObject, Env, Request, Response, Result, State};
use serde::{Deserialize, Serialize};

use sha1::{Digest, Sha1};

use super::calls;
use super::now_ms;
use super::sql::{int, Sql};
use crate::replay::{decide, Claim};
use crate::Error;

/// The scope of the replay guard a callback's signature needs: what its secret signs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// The secret signs for this app only: the app's own guard.
    App(String),
    /// The secret signs for several apps (or any): one guard across all of them, so that a
    /// captured signature cannot be replayed into another app.
    Shared,
}

/// How many `Nonces` objects share a guard's claims.
pub const NONCE_SHARDS: u8 = 16;

/// The name of the `Nonces` object that owns a claim ([`crate::replay::claim_key`]) in a
/// guard: shards by the key's SHA-1, so that a sender cannot pick the shard by picking a
/// room.
pub fn nonces_name(guard: &Guard, key: &str) -> String {
    let first = Sha1::digest(key.as_bytes()).iter().next().copied();
    let shard = first.unwrap_or(0) % NONCE_SHARDS;
    let scope = match guard {
        Guard::App(app) => app.as_str(),
        Guard::Shared => "*",
    };
    format!("{scope}:nonces:{shard}")
}

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
        Sql::open(
            &self.state,
            super::costs::Class::Nonces,
            &self.ready,
            SCHEMA,
        )
    }

    /// Claims a nonce: prune, read, decide, write — all synchronous, so nothing interleaves.
    fn claim(&self, req: &ClaimRequest) -> std::result::Result<Claim, Error> {
        let sql = self.sql()?;
        let now = now_ms();
        sql.exec(
            "DELETE FROM nonces WHERE nonce IN \
             (SELECT nonce FROM nonces WHERE expires_at <= ? LIMIT ?)",
            vec![int(now), PRUNE_BATCH.into()],
        )?;
        let stored = sql
            .rows(
                "SELECT digest FROM nonces WHERE nonce = ? AND expires_at > ?",
                vec![req.key.clone().into(), int(now)],
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
                    int(expires),
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
        super::costs::object(super::costs::Class::Nonces, |o| o.requests += 1);
        let claimed = calls::json_of::<ClaimRequest>(&mut req)
            .await
            .and_then(|claim| self.claim(&claim));
        calls::answer(claimed.map(|claim| ClaimResponse { claim }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_shard_by_digest_within_the_guard() {
        let app = Guard::App("1".into());
        let a = nonces_name(&app, "1470820198:350176");
        assert!(a.starts_with("1:nonces:"));
        let shard: u8 = a.rsplit(':').next().unwrap().parse().unwrap();
        assert!(shard < NONCE_SHARDS);
        assert_eq!(a, nonces_name(&app, "1470820198:350176"));
        let shards: std::collections::BTreeSet<String> = (0..200)
            .map(|i| nonces_name(&app, &i.to_string()))
            .collect();
        assert_eq!(shards.len(), usize::from(NONCE_SHARDS));
        // A shared secret's claims are one guard whatever app the body names.
        assert!(nonces_name(&Guard::Shared, "1:n").starts_with("*:nonces:"));
    }
}
