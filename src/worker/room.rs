//! The `Room` Durable Object: the one place that decides for a room (or a mix task).
//!
//! It holds the authoritative records of its scope in SQLite and applies each callback with
//! [`crate::live`]'s driver as one synchronous read-decide-write: nothing can run between
//! the read and the write, whatever the order and concurrency of deliveries. It is a driver
//! like [`crate::LiveList`]: no rule lives here.
//!
//! Once a change is committed, the object answers, pushes the change to its room's
//! subscribers, and sends it on from its alarm ([`super::outbox`]): to KV, the list readers
//! list, and to the app's `Hub`. A failed send is retried until it lands.

use std::cell::{Cell, RefCell};

use ::worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};
use futures_util::future::{join, join_all};
use serde::{Deserialize, Serialize};

use super::config::HUB_BINDING;
use super::frames;
use super::hub::{HubAck, HubChange, HubChanges};
use super::objects::{self, int, internal, now_ms, respond, Row, Sql};
use super::outbox::{self, Progress};
use super::scope::{hub_name, is_listed, kv_key};
use super::store::Store;
use crate::live::{self, KeyWrite, LiveStream, Records, Stored, STREAM_PREFIX};
use crate::Error;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value TEXT NOT NULL, \
     expires_at INTEGER, at INTEGER NOT NULL, version INTEGER NOT NULL, \
     kv_version INTEGER NOT NULL, kv_at INTEGER NOT NULL, hub_version INTEGER NOT NULL)",
];

/// How often expired tombstones are deleted, in ms.
const PRUNE_EVERY_MS: u64 = 60_000;

/// What is still pending after a send, for the next alarm's time.
const PROGRESS: &str = "SELECT version, kv_version, kv_at, hub_version FROM records \
                        WHERE version > kv_version OR version > hub_version LIMIT ?";

/// The most rows one send carries.
const BATCH: u64 = 256;

/// The rows KV or the hub lacks, oldest change first.
const PENDING: &str = "SELECT key, value, expires_at, at, version, kv_version, kv_at, \
                       hub_version FROM records WHERE version > kv_version \
                       OR version > hub_version ORDER BY version LIMIT ?";

/// The object's identity, kept in `meta` so that the alarm knows it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The app.
    pub app: String,
    /// `room` or `mix`.
    pub kind: String,
    /// The room or task id.
    pub id: String,
}

impl Meta {
    /// The query parameters that name this identity (as [`super::scope::Scope::params`]).
    fn params(&self) -> [(&'static str, &str); 3] {
        [
            ("app", self.app.as_str()),
            ("kind", self.kind.as_str()),
            ("id", self.id.as_str()),
        ]
    }
}

struct PendingRow {
    key: String,
    value: String,
    expires_at: Option<u64>,
    at: u64,
    version: u64,
    kv_version: u64,
    kv_at: u64,
    hub_version: u64,
}

impl PendingRow {
    /// The columns of [`PENDING`], in order.
    fn read(row: &Row) -> std::result::Result<PendingRow, Error> {
        Ok(PendingRow {
            key: row.text(0)?,
            value: row.text(1)?,
            expires_at: row.opt_int(2)?,
            at: row.int(3)?,
            version: row.int(4)?,
            kv_version: row.int(5)?,
            kv_at: row.int(6)?,
            hub_version: row.int(7)?,
        })
    }

    fn progress(&self) -> Progress {
        Progress {
            version: self.version,
            kv_version: self.kv_version,
            kv_at: self.kv_at,
            hub_version: self.hub_version,
        }
    }
}

/// What applying a callback wrote.
#[derive(Debug, Serialize, Deserialize)]
pub struct Applied {
    /// The live-list keys written, in order.
    pub written: Vec<String>,
}

/// The consistent list of a room's live streams, and how far KV is behind it.
#[derive(Debug, Serialize)]
pub struct RoomStreams {
    appid: String,
    room_id: String,
    streams: Vec<LiveStream>,
    sync: Sync,
}

/// The outbox's state: what KV and the hub still lack, and what was sent.
#[derive(Debug, Serialize)]
pub struct Sync {
    /// Records changed here that KV or the hub does not have yet.
    pending: u64,
    /// Writes to KV so far (one per changed record, bursts coalesced).
    kv_writes: u64,
    /// Failed attempts in a row (0 while KV and the hub take every change).
    failures: u32,
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a String> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn parse_stored(key: &str, value: &str) -> std::result::Result<Stored, Error> {
    serde_json::from_str(value).map_err(|e| Error::Storage {
        reason: format!("the record under `{key}` is not valid: {e}"),
    })
}

/// The end of a prefix range: the prefix with its last byte raised by one (every prefix
/// here ends with `:`).
fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.to_owned();
    if let Some(last) = end.pop() {
        end.push(char::from_u32(u32::from(last) + 1).unwrap_or(char::MAX));
    }
    end
}

/// The object's records as the live driver reads them; expired tombstones count as absent.
struct SqlRecords<'a> {
    sql: &'a Sql,
    now: u64,
}

impl Records for SqlRecords<'_> {
    fn get(&self, key: &str) -> std::result::Result<Option<Stored>, Error> {
        let rows = self.sql.rows(
            "SELECT value FROM records WHERE key = ? \
             AND (expires_at IS NULL OR expires_at > ?)",
            vec![key.to_owned().into(), int(self.now)],
        )?;
        rows.first()
            .map(|r| parse_stored(key, &r.text(0)?))
            .transpose()
    }

    fn scan(&self, prefix: &str) -> std::result::Result<Vec<(String, Stored)>, Error> {
        let rows = self.sql.rows(
            "SELECT key, value FROM records WHERE key >= ? AND key < ? \
             AND (expires_at IS NULL OR expires_at > ?) ORDER BY key",
            vec![
                prefix.to_owned().into(),
                prefix_end(prefix).into(),
                int(self.now),
            ],
        )?;
        rows.iter()
            .map(|r| {
                let key = r.text(0)?;
                parse_stored(&key, &r.text(1)?).map(|s| (key, s))
            })
            .collect()
    }
}

/// The authority over one room's streams and sessions, or over one mix task.
#[durable_object]
pub struct Room {
    state: State,
    env: Env,
    ready: Cell<bool>,
    meta_cache: RefCell<Option<Vec<(String, String)>>>,
    /// When the alarm was last asked for at once, until it runs.
    alarm_asked: Cell<bool>,
    /// When expired tombstones were last deleted.
    pruned_at: Cell<u64>,
}

impl Room {
    fn sql(&self) -> std::result::Result<Sql, Error> {
        Sql::open(&self.state, &self.ready, SCHEMA)
    }

    /// A value of the `meta` table, which is read once per instance: only this object
    /// writes it.
    fn meta_get(&self, sql: &Sql, name: &str) -> std::result::Result<Option<String>, Error> {
        if self.meta_cache.borrow().is_none() {
            let loaded = sql
                .rows("SELECT name, value FROM meta", Vec::new())?
                .iter()
                .map(|r| Ok((r.text(0)?, r.text(1)?)))
                .collect::<std::result::Result<Vec<_>, Error>>()?;
            *self.meta_cache.borrow_mut() = Some(loaded);
        }
        Ok(self
            .meta_cache
            .borrow()
            .as_ref()
            .and_then(|pairs| lookup(pairs, name).cloned()))
    }

    fn set_meta(&self, sql: &Sql, name: &str, value: &str) -> std::result::Result<(), Error> {
        sql.exec(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
            vec![name.to_owned().into(), value.to_owned().into()],
        )?;
        if let Some(pairs) = self.meta_cache.borrow_mut().as_mut() {
            pairs.retain(|(n, _)| n != name);
            pairs.push((name.to_owned(), value.to_owned()));
        }
        Ok(())
    }

    /// The object's identity: what it stored, else what the request names (stored only
    /// when `remember`: a callback's apply, never a read, so that reading a room costs no
    /// write). A request naming another identity than the stored one is refused: two names
    /// must never share one object's records.
    fn identity(
        &self,
        sql: &Sql,
        given: &[(String, String)],
        remember: bool,
    ) -> std::result::Result<Option<Meta>, Error> {
        let stored = match (
            self.meta_get(sql, "app")?,
            self.meta_get(sql, "kind")?,
            self.meta_get(sql, "id")?,
        ) {
            (Some(app), Some(kind), Some(id)) => Some(Meta { app, kind, id }),
            _ => None,
        };
        let named = match (
            lookup(given, "app"),
            lookup(given, "kind"),
            lookup(given, "id"),
        ) {
            (Some(app), Some(kind), Some(id)) => Some(Meta {
                app: app.clone(),
                kind: kind.clone(),
                id: id.clone(),
            }),
            _ => None,
        };
        match (stored, named) {
            (Some(stored), Some(named)) if stored != named => Err(Error::Storage {
                reason: format!(
                    "this object is {}:{}:{}, not {}:{}:{}",
                    stored.app, stored.kind, stored.id, named.app, named.kind, named.id
                ),
            }),
            (Some(stored), _) => Ok(Some(stored)),
            (None, Some(named)) => {
                if remember {
                    self.set_meta(sql, "app", &named.app)?;
                    self.set_meta(sql, "kind", &named.kind)?;
                    self.set_meta(sql, "id", &named.id)?;
                }
                Ok(Some(named))
            }
            (None, None) => Ok(None),
        }
    }

    /// Applies a callback: read, decide, write, with no `await` in between. Returns the
    /// writes with the time they were applied. A callback of another app, room or task than
    /// the object's is refused.
    fn apply(
        &self,
        sql: &Sql,
        meta: &Meta,
        body: &[u8],
        content_type: Option<&str>,
    ) -> std::result::Result<(Vec<KeyWrite>, u64), Error> {
        let cb = crate::parse(body, content_type)?;
        let owner = super::scope::Scope::of(&cb);
        let app = cb.envelope().map(|env| env.appid.to_string());
        if owner.as_ref().map(|o| o.params(&meta.app)) != Some(meta.params())
            || app.as_deref() != Some(meta.app.as_str())
        {
            return Err(Error::Storage {
                reason: format!(
                    "a callback of app {app:?}, {owner:?} reached the object of {}:{}:{}",
                    meta.app, meta.kind, meta.id
                ),
            });
        }
        let now = now_ms();
        let writes = live::decide_all(&cb, &SqlRecords { sql, now })?;
        if writes.is_empty() {
            return Ok((writes, now));
        }
        let mut seq = self.counter(sql, "seq")?;
        for write in &writes {
            seq += 1;
            let value = serde_json::to_string(&write.record).map_err(|e| Error::Storage {
                reason: format!("could not serialize the record for `{}`: {e}", write.key),
            })?;
            let expires_at = write
                .ttl_seconds
                .map(|ttl| int(now.saturating_add(ttl.saturating_mul(1000))))
                .unwrap_or(::worker::SqlStorageValue::Null);
            let mut bindings = vec![
                write.key.clone().into(),
                value.into(),
                expires_at,
                int(now),
                int(seq),
            ];
            if is_listed(&write.key) {
                // KV and the hub keep what they have until the outbox sends this version.
                sql.exec(
                    "INSERT INTO records (key, value, expires_at, at, version, kv_version, \
                     kv_at, hub_version) VALUES (?, ?, ?, ?, ?, 0, 0, 0) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                     expires_at = excluded.expires_at, at = excluded.at, \
                     version = excluded.version",
                    bindings,
                )?;
            } else {
                // A room session's record stays here: nobody lists it.
                bindings.extend([int(seq), int(seq)]);
                sql.exec(
                    "INSERT OR REPLACE INTO records (key, value, expires_at, at, version, \
                     kv_version, kv_at, hub_version) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                    bindings,
                )?;
            }
        }
        self.set_meta(sql, "seq", &seq.to_string())?;
        Ok((writes, now))
    }

    fn live_streams(sql: &Sql) -> std::result::Result<Vec<LiveStream>, Error> {
        let records = SqlRecords { sql, now: now_ms() }.scan(STREAM_PREFIX)?;
        Ok(records
            .into_iter()
            .filter_map(|(_, stored)| match stored {
                Stored::Stream(s) => s.live().cloned(),
                _ => None,
            })
            .collect())
    }

    /// Pushes the changes to the room's subscribers, if it has any.
    fn broadcast(&self, app: &str, writes: &[KeyWrite], at: u64) {
        let sockets = self.state.get_websockets();
        if sockets.is_empty() {
            return;
        }
        let frames: Vec<String> = writes
            .iter()
            .filter_map(|w| frames::change(app, &w.key, &w.record, at))
            .collect();
        for ws in sockets {
            for frame in &frames {
                // A socket that is closing just misses the frame.
                let _ = ws.send_with_str(frame);
            }
        }
    }

    async fn handle(&self, mut req: Request) -> std::result::Result<Response, Error> {
        let url = req
            .url()
            .map_err(|e| Error::malformed(format!("bad internal URL: {e}")))?;
        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let sql = self.sql()?;
        let applying = req.method() == Method::Post && url.path() == "/apply";
        let meta = self
            .identity(&sql, &params, applying)?
            .ok_or_else(|| Error::missing("app"))?;
        match (req.method(), url.path()) {
            (Method::Post, "/apply") => {
                let body = req
                    .bytes()
                    .await
                    .map_err(|e| Error::malformed(format!("the body could not be read: {e}")))?;
                let content_type = req.headers().get("content-type").ok().flatten();
                let (writes, at) = self.apply(&sql, &meta, &body, content_type.as_deref())?;
                if !writes.is_empty() {
                    self.broadcast(&meta.app, &writes, at);
                    self.wake(&sql).await?;
                }
                respond(&Applied {
                    written: writes.into_iter().map(|w| w.key).collect(),
                })
            }
            (Method::Get, "/streams") => respond(&RoomStreams {
                appid: meta.app,
                room_id: meta.id,
                streams: Self::live_streams(&sql)?,
                sync: self.sync_state(&sql)?,
            }),
            (Method::Get, "/subscribe") => {
                let pair = WebSocketPair::new().map_err(internal)?;
                self.state.accept_web_socket(&pair.server);
                let streams = Self::live_streams(&sql)?;
                let snapshot =
                    frames::room_snapshot(&meta.app, &meta.id, now_ms(), streams.iter().collect());
                pair.server.send_with_str(snapshot).map_err(internal)?;
                Response::from_websocket(pair.client).map_err(internal)
            }
            _ => Err(Error::NotFound),
        }
    }

    /// Asks for the alarm at once, so that the outbox sends what was just committed; not
    /// again while that alarm has not run yet, and not while sends are failing: the retry
    /// already set (with its backoff) takes the change along.
    async fn wake(&self, sql: &Sql) -> std::result::Result<(), Error> {
        if self.alarm_asked.get() || self.failures(sql)? > 0 {
            return Ok(());
        }
        self.state
            .storage()
            .set_alarm(0)
            .await
            .map_err(|e| Error::Storage {
                reason: format!("could not set the alarm: {e}"),
            })?;
        self.alarm_asked.set(true);
        Ok(())
    }

    fn counter(&self, sql: &Sql, name: &str) -> std::result::Result<u64, Error> {
        Ok(self
            .meta_get(sql, name)?
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    fn sync_state(&self, sql: &Sql) -> std::result::Result<Sync, Error> {
        let pending = sql.rows(
            "SELECT COUNT(*) FROM records WHERE version > kv_version OR version > hub_version",
            Vec::new(),
        )?;
        Ok(Sync {
            pending: pending.first().map(|r| r.int(0)).transpose()?.unwrap_or(0),
            kv_writes: self.counter(sql, "kv_writes")?,
            failures: self.failures(sql)?,
        })
    }

    fn failures(&self, sql: &Sql) -> std::result::Result<u32, Error> {
        Ok(u32::try_from(self.counter(sql, "failures")?).unwrap_or(u32::MAX))
    }

    /// Sends what is pending to KV and to the hub, then sets the alarm for what is left.
    async fn flush(&self) -> std::result::Result<(), Error> {
        let sql = self.sql()?;
        let Some(meta) = self.identity(&sql, &[], false)? else {
            return Ok(());
        };
        let now = now_ms();
        // Tombstones that expired and were sent everywhere are gone, as in KV (checked
        // once a minute: reads skip expired records meanwhile).
        if now.saturating_sub(self.pruned_at.get()) >= PRUNE_EVERY_MS {
            sql.exec(
                "DELETE FROM records WHERE expires_at <= ? AND version <= kv_version \
                 AND version <= hub_version",
                vec![int(now)],
            )?;
            self.pruned_at.set(now);
        }
        let rows = sql
            .rows(PENDING, vec![int(BATCH)])?
            .iter()
            .map(PendingRow::read)
            .collect::<std::result::Result<Vec<_>, Error>>()?;
        let kv_rows: Vec<&PendingRow> = rows.iter().filter(|r| r.progress().kv_due(now)).collect();
        let hub_rows: Vec<&PendingRow> =
            rows.iter().filter(|r| r.progress().hub_pending()).collect();

        let kv_sends = join_all(
            kv_rows
                .iter()
                .map(|row| self.send_to_kv(&meta.app, row, now)),
        );
        let hub_send = self.send_to_hub(&meta.app, &hub_rows);
        let (kv_results, hub_result) = join(kv_sends, hub_send).await;

        // Others may have changed these rows meanwhile: only ever move forward.
        let done = now_ms();
        let mut failed = false;
        let mut written = 0;
        for (row, result) in kv_rows.iter().zip(kv_results) {
            match result {
                Ok(()) => {
                    written += 1;
                    sql.exec(
                    "UPDATE records SET kv_version = ?, kv_at = ? WHERE key = ? AND kv_version < ?",
                    vec![
                        int(row.version),
                        int(done),
                        row.key.clone().into(),
                        int(row.version),
                    ],
                    )?
                }
                Err(e) => {
                    failed = true;
                    ::worker::console_error!("KV write of `{}` failed: {e}", row.key);
                }
            }
        }
        match hub_result {
            Ok(()) => {
                for row in &hub_rows {
                    sql.exec(
                        "UPDATE records SET hub_version = ? WHERE key = ? AND hub_version < ?",
                        vec![int(row.version), row.key.clone().into(), int(row.version)],
                    )?;
                }
            }
            Err(e) => {
                failed = true;
                ::worker::console_error!("sending to the hub failed: {e}");
            }
        }

        if written > 0 {
            let total = self.counter(&sql, "kv_writes")?.saturating_add(written);
            self.set_meta(&sql, "kv_writes", &total.to_string())?;
        }
        let before = self.failures(&sql)?;
        let failures = if failed { before.saturating_add(1) } else { 0 };
        if failures != before {
            self.set_meta(&sql, "failures", &failures.to_string())?;
        }
        let pending = sql
            .rows(PROGRESS, vec![int(BATCH)])?
            .iter()
            .map(|row| {
                Ok(Progress {
                    version: row.int(0)?,
                    kv_version: row.int(1)?,
                    kv_at: row.int(2)?,
                    hub_version: row.int(3)?,
                })
            })
            .collect::<std::result::Result<Vec<_>, Error>>()?;
        let retry_at = failed.then(|| done + outbox::backoff_ms(failures));
        if let Some(at) = outbox::next_attempt(&pending, done, retry_at) {
            let offset = i64::try_from(at.saturating_sub(done)).unwrap_or(i64::MAX);
            self.state
                .storage()
                .set_alarm(offset)
                .await
                .map_err(|e| Error::Storage {
                    reason: format!("could not set the alarm: {e}"),
                })?;
        }
        Ok(())
    }

    async fn send_to_kv(
        &self,
        app: &str,
        row: &PendingRow,
        now: u64,
    ) -> std::result::Result<(), Error> {
        let store = Store::open(&self.env)?;
        let stored = parse_stored(&row.key, &row.value)?;
        // An absolute expiry, so that a late retry does not extend a tombstone's life; KV
        // takes none sooner than a minute ahead.
        let expiration = row
            .expires_at
            .map(|ms| (ms / 1000).max(now / 1000 + super::layout::MIN_TTL_SECONDS));
        store
            .put(&kv_key(app, &row.key)?, &stored, expiration)
            .await
    }

    async fn send_to_hub(&self, app: &str, rows: &[&PendingRow]) -> std::result::Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let changes = rows
            .iter()
            .map(|row| {
                Ok(HubChange {
                    key: row.key.clone(),
                    version: row.version,
                    at: row.at,
                    expires_at: row.expires_at,
                    record: parse_stored(&row.key, &row.value)?,
                })
            })
            .collect::<std::result::Result<Vec<_>, Error>>()?;
        let namespace = self
            .env
            .durable_object(HUB_BINDING)
            .map_err(|e| Error::Storage {
                reason: format!("the Durable Object binding `{HUB_BINDING}` is not available: {e}"),
            })?;
        let url = objects::url("/changes", &[("app", app)])?;
        let (body, headers) = objects::json_body(&HubChanges { changes })?;
        let req = objects::request(&url, Method::Post, Some(body), headers)?;
        objects::call::<HubAck>(&namespace, &hub_name(app), req).await?;
        Ok(())
    }
}

impl DurableObject for Room {
    fn new(state: State, env: Env) -> Self {
        Room {
            state,
            env,
            ready: Cell::new(false),
            meta_cache: RefCell::new(None),
            alarm_asked: Cell::new(false),
            pruned_at: Cell::new(0),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        objects::finish(self.handle(req).await)
    }

    async fn alarm(&self) -> Result<Response> {
        // Changes committed from here on ask for the next alarm themselves.
        self.alarm_asked.set(false);
        if let Err(e) = self.flush().await {
            // The alarm is retried by the runtime; nothing committed is lost meanwhile.
            ::worker::console_error!("the outbox failed: {e}");
            return Err(::worker::Error::RustError(e.to_string()));
        }
        Response::empty()
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
        objects::close_socket(&ws);
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: ::worker::Error) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_range_ends_past_its_last_byte() {
        assert_eq!(prefix_end("s:"), "s;");
        assert_eq!(prefix_end("s:room:"), "s:room;");
        assert!("s:room:zzz" < prefix_end("s:room:").as_str());
        assert!("s:room;" >= prefix_end("s:room:").as_str());
    }
}
