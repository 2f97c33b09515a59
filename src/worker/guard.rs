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

use super::calls;
use super::names::shard_of;
use super::now_ms;
use super::sql::Sql;
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
pub const NONCE_SHARDS: u16 = 16;

/// The name of the `Nonces` object that owns a claim ([`crate::replay::claim_key`]) in a
/// guard: shards by the key's SHA-1, so that a sender cannot pick the shard by picking a
/// room.
pub fn nonces_name(guard: &Guard, key: &str) -> String {
    let shard = shard_of(key, NONCE_SHARDS);
    let scope = match guard {
        Guard::App(app) => app.as_str(),
        Guard::Shared => "*",
    };
    format!("{scope}:nonces:{shard}")
}

/// The request to claim a callback's signed pair.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// The signed timestamp, Unix seconds.
    pub timestamp: i64,
    /// The signed nonce.
    pub nonce: String,
    /// SHA-1 of its raw body, hex.
    pub digest: String,
    /// How long after its timestamp the claim holds ([`crate::replay::claim_ttl_seconds`]).
    pub ttl_seconds: u64,
}

/// The answer to a [`ClaimRequest`].
#[derive(Debug, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// What the claim found.
    pub claim: Claim,
}

/// One row per claim, keyed by the signed pair with the timestamp first: a claim outlives
/// its timestamp's window by keying alone, and expired claims are the table's first rows,
/// deleted without an index of their own (a claim writes one row).
const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS claims (ts INTEGER NOT NULL, \
     nonce TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (ts, nonce)) WITHOUT ROWID"];

/// Every how many claims expired ones are deleted, and how many at most: twice as many as
/// were claimed meanwhile, so the table stays bounded without a sweep, at one statement per
/// [`PRUNE_EVERY`] claims.
const PRUNE_EVERY: u32 = 32;
const PRUNE_BATCH: i64 = 2 * PRUNE_EVERY as i64;

/// One shard of an app's replay guard.
#[durable_object]
pub struct Nonces {
    state: State,
    ready: Cell<bool>,
    /// Claims since expired ones were last deleted.
    claims: Cell<u32>,
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

    /// Claims a signed pair: prune, read, decide, write — all synchronous, so nothing
    /// interleaves. A claim is kept until its timestamp is `ttl_seconds` old: past the
    /// window, no request can present it again.
    fn claim(&self, req: &ClaimRequest) -> std::result::Result<Claim, Error> {
        let sql = self.sql()?;
        let now_secs = i64::try_from(now_ms() / 1000).unwrap_or(i64::MAX);
        let ttl = i64::try_from(req.ttl_seconds).unwrap_or(i64::MAX);
        if self.claims.get().is_multiple_of(PRUNE_EVERY) {
            sql.exec(
                "DELETE FROM claims WHERE (ts, nonce) IN \
                 (SELECT ts, nonce FROM claims WHERE ts < ? ORDER BY ts LIMIT ?)",
                vec![now_secs.saturating_sub(ttl).into(), PRUNE_BATCH.into()],
            )?;
        }
        self.claims.set(self.claims.get().wrapping_add(1));
        let stored = sql
            .rows(
                "SELECT digest FROM claims WHERE ts = ? AND nonce = ?",
                vec![req.timestamp.into(), req.nonce.clone().into()],
            )?
            .first()
            .map(|row| row.text(0))
            .transpose()?;
        let claim = decide(stored.as_deref(), &req.digest);
        if claim == Claim::New {
            sql.exec(
                "INSERT INTO claims (ts, nonce, digest) VALUES (?, ?, ?)",
                vec![
                    req.timestamp.into(),
                    req.nonce.clone().into(),
                    req.digest.clone().into(),
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
            claims: Cell::new(0),
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
        let shard: u16 = a.rsplit(':').next().unwrap().parse().unwrap();
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
