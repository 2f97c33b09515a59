//! The `Hub` Durable Object, sixteen shards per app: the app-wide subscribers' end.
//!
//! Every `Room` object sends its committed changes here, in the order it applied them
//! ([`super::outbox`]). The hub keeps the latest record of each key (a change older than the
//! one it has is dropped: versions come from the key's one owner), so that a new subscriber
//! gets a snapshot of the whole app, then every change as it arrives.

use std::cell::Cell;

use ::worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};
use serde::{Deserialize, Serialize};

use super::calls::{self, internal, respond};
use super::frames;
use super::http;
use super::now_ms;
use super::sql::{int, Sql};
use crate::live::Stored;
use crate::Error;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value TEXT NOT NULL, \
     version INTEGER NOT NULL, at INTEGER NOT NULL, expires_at INTEGER) WITHOUT ROWID",
];

/// How often expired tombstones are deleted, in ms (reads skip them meanwhile). A scan of
/// the table once a minute reads rows, which cost a thousandth of what an index on the
/// expiry would cost in writes, one per change.
const PRUNE_EVERY_MS: u64 = 60_000;

/// One change a room sends.
#[derive(Debug, Serialize, Deserialize)]
pub struct HubChange {
    /// The live-list key.
    pub key: String,
    /// The sending object's change counter for it.
    pub version: u64,
    /// When the object applied it, Unix ms.
    pub at: u64,
    /// When the record expires (a tombstone), Unix ms.
    pub expires_at: Option<u64>,
    /// The record's JSON, as the room stores it ([`Stored`]'s).
    pub record: String,
}

/// A batch of changes, in the order they were applied.
#[derive(Debug, Serialize, Deserialize)]
pub struct HubChanges {
    /// The changes.
    pub changes: Vec<HubChange>,
}

/// The hub's answer: how many of the changes were newer than what it had.
#[derive(Debug, Serialize, Deserialize)]
pub struct HubAck {
    /// Changes taken.
    pub applied: usize,
}

/// The answer to a room asking for a slot of its app's calls to ZEGO's server API.
#[derive(Debug, Serialize, Deserialize)]
pub struct Slot {
    /// 0: granted; otherwise how long to wait for one, ms.
    pub wait_ms: u64,
}

/// An app's subscribers and its latest records. The app's first shard also keeps ZEGO's limit
/// of calls a second per app for the rooms' checks ([`super::reconcile::take_slot`]), in
/// memory: an object that restarts forgets at most one window of grants.
#[durable_object]
pub struct Hub {
    state: State,
    ready: Cell<bool>,
    pruned_at: Cell<u64>,
    granted: std::cell::RefCell<std::collections::VecDeque<u64>>,
}

impl Hub {
    fn sql(&self) -> std::result::Result<Sql, Error> {
        Sql::open(&self.state, super::costs::Class::Hub, &self.ready, SCHEMA)
    }

    /// Takes a batch: each change newer than the record held replaces it and is pushed.
    fn take(&self, app: &str, batch: &HubChanges) -> std::result::Result<HubAck, Error> {
        let sql = self.sql()?;
        let now = now_ms();
        if now.saturating_sub(self.pruned_at.get()) >= PRUNE_EVERY_MS {
            sql.exec("DELETE FROM records WHERE expires_at <= ?", vec![int(now)])?;
            self.pruned_at.set(now);
        }
        let mut frames = Vec::new();
        for change in &batch.changes {
            let held = sql.rows(
                "SELECT version FROM records WHERE key = ?",
                vec![change.key.clone().into()],
            )?;
            if let Some(row) = held.first() {
                if row.int(0)? >= change.version {
                    continue;
                }
            }
            let record = Stored::from_json(&change.record).map_err(|e| Error::Storage {
                reason: format!("the record sent for `{}` is not valid: {e}", change.key),
            })?;
            sql.exec(
                "INSERT OR REPLACE INTO records (key, value, version, at, expires_at) \
                 VALUES (?, ?, ?, ?, ?)",
                vec![
                    change.key.clone().into(),
                    change.record.clone().into(),
                    int(change.version),
                    int(change.at),
                    change
                        .expires_at
                        .map(int)
                        .unwrap_or(::worker::SqlStorageValue::Null),
                ],
            )?;
            frames.extend(frames::change(app, &change.key, &record, change.at));
        }
        for ws in self.state.get_websockets() {
            for frame in &frames {
                let _ = ws.send_with_str(frame);
            }
        }
        Ok(HubAck {
            applied: frames.len(),
        })
    }

    fn snapshot(&self, app: &str) -> std::result::Result<String, Error> {
        let sql = self.sql()?;
        let now = now_ms();
        let rows = sql.rows(
            "SELECT value FROM records WHERE expires_at IS NULL OR expires_at > ? ORDER BY key",
            vec![int(now)],
        )?;
        let mut records: Vec<Stored> = Vec::with_capacity(rows.len());
        for row in &rows {
            records.extend(Stored::from_json(&row.text(0)?).ok());
        }
        let (streams, mixes) = frames::live_of(&records);
        Ok(frames::app_snapshot(app, now, streams, mixes))
    }

    async fn handle(&self, mut req: Request) -> std::result::Result<Response, Error> {
        let params = http::query(&req);
        let app = http::param(&params, "app")
            .map(str::to_owned)
            .ok_or_else(|| Error::missing("app"))?;
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/slot") => {
                let limit = http::param(&params, "limit")
                    .and_then(|l| l.parse::<u64>().ok())
                    .ok_or_else(|| Error::missing("limit"))?;
                let now = now_ms();
                let wait_ms =
                    super::reconcile::take_slot(&mut self.granted.borrow_mut(), now, limit);
                respond(&Slot { wait_ms })
            }
            (Method::Post, "/changes") => {
                let batch: HubChanges = calls::json_of(&mut req).await?;
                respond(&self.take(&app, &batch)?)
            }
            (Method::Get, "/subscribe") => {
                let pair = WebSocketPair::new().map_err(internal)?;
                self.state.accept_web_socket(&pair.server);
                pair.server
                    .send_with_str(self.snapshot(&app)?)
                    .map_err(internal)?;
                Response::from_websocket(pair.client).map_err(internal)
            }
            _ => Err(Error::NotFound),
        }
    }
}

impl DurableObject for Hub {
    fn new(state: State, _env: Env) -> Self {
        Hub {
            state,
            ready: Cell::new(false),
            pruned_at: Cell::new(0),
            granted: Default::default(),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        super::costs::object(super::costs::Class::Hub, |o| o.requests += 1);
        calls::finish(self.handle(req).await)
    }

    async fn websocket_message(
        &self,
        _ws: WebSocket,
        _message: WebSocketIncomingMessage,
    ) -> Result<()> {
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        calls::close_socket(&ws);
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: ::worker::Error) -> Result<()> {
        Ok(())
    }
}
