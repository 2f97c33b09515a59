//! The `Deliveries` Durable Object, one per endpoint: the endpoint's state (disabled by a 410,
//! its last success, its failures in a row) and every message of it that did not land on its
//! first attempt, until it does: retrying, held while the endpoint is disabled, or failed
//! after its last attempt (kept for `FORWARD_KEEP_DAYS`, then deleted and counted).
//!
//! The queue does the delivering; this object keeps what a person needs to see and replay,
//! and one safety net: a retrying message not seen again well past its due time (the queue
//! lost it, as a local `wrangler dev` does across a restart) is sent again from its alarm.
//! [`Ledger`] is how the Worker and the queue consumer talk to it.

use std::cell::{Cell, RefCell};

use ::worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};
use serde::{Deserialize, Serialize};

use super::calls;
use super::config;
use super::delivery::Listed;
use super::endpoints::Forwarding;
use super::forward::{self, Message, QUEUE_BINDING};
use super::http;
use super::now_ms;
use super::sql::{int, Row, Sql};
use crate::Error;

/// The Durable Object namespace of the `Deliveries` objects.
pub const BINDING: &str = "DELIVERIES";

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, state TEXT NOT NULL, \
     attempts INTEGER NOT NULL, due_at INTEGER, updated_at INTEGER NOT NULL, status INTEGER, \
     error TEXT, app TEXT NOT NULL, event TEXT NOT NULL, accepted_at INTEGER NOT NULL, \
     message TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_state ON messages (state, due_at)",
];

/// What an attempt (or the dead-letter queue) found for one message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// `delivered`, `retrying`, `gone`, `held` or `failed`.
    pub result: String,
    /// The message, as it will be sent next (retrying) or as it was.
    pub message: Message,
    /// When it is next due, Unix ms (retrying).
    pub due_at: Option<u64>,
}

impl Report {
    fn of(result: &str, message: &Message, due_at: Option<u64>) -> Report {
        Report {
            result: result.to_owned(),
            message: message.clone(),
            due_at,
        }
    }

    /// Delivered: forgotten, counted.
    pub fn delivered(message: &Message) -> Report {
        Report::of("delivered", message, None)
    }

    /// To be tried again at `due_at`.
    pub fn retrying(message: &Message, due_at: u64) -> Report {
        Report::of("retrying", message, Some(due_at))
    }

    /// The endpoint answered 410: it is disabled, the message held.
    pub fn gone(message: &Message) -> Report {
        Report::of("gone", message, None)
    }

    /// Held while the endpoint is disabled.
    pub fn held(message: &Message) -> Report {
        Report::of("held", message, None)
    }

    /// Its attempts ran out.
    pub fn failed(message: &Message) -> Report {
        Report::of("failed", message, None)
    }
}

/// The answer to a report, and to `begin`: whether the endpoint is disabled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reported {
    /// Disabled by a 410 until enabled.
    pub disabled: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Reports {
    reports: Vec<Report>,
}

/// An endpoint's state, as the admin routes show it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EndpointState {
    /// The endpoint's id.
    pub id: String,
    /// Disabled by a 410 until enabled.
    pub disabled: bool,
    /// When it was disabled, Unix ms.
    pub disabled_at: Option<u64>,
    /// When a message last landed, Unix ms.
    pub last_success_at: Option<u64>,
    /// When an attempt last failed, Unix ms.
    pub last_failure_at: Option<u64>,
    /// Failed attempts since the last success.
    pub failures_in_a_row: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages kept as failed (now).
    pub failed: u64,
    /// Messages retrying (now).
    pub retrying: u64,
    /// Messages held (now).
    pub held: u64,
    /// Failed messages deleted after `FORWARD_KEEP_DAYS`.
    pub expired: u64,
}

/// An endpoint's state and some of its messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listing {
    /// The endpoint.
    pub endpoint: EndpointState,
    /// Its messages, latest change first.
    pub messages: Vec<Listed>,
}

/// How many messages were sent again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Requeued {
    /// Messages put on the queue again.
    pub requeued: u64,
}

/// The `Deliveries` object of one endpoint, as the Worker and the consumer call it.
pub struct Ledger {
    namespace: ::worker::ObjectNamespace,
    name: String,
    endpoint: String,
}

impl Ledger {
    /// The object of endpoint `id`.
    pub fn open(env: &Env, id: &str) -> std::result::Result<Ledger, Error> {
        Ok(Ledger {
            namespace: config::namespace(env, BINDING)?,
            name: format!("deliveries:{id}"),
            endpoint: id.to_owned(),
        })
    }

    async fn call<T: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&T>,
    ) -> std::result::Result<R, Error> {
        let mut params = vec![("endpoint", self.endpoint.as_str())];
        params.extend_from_slice(query);
        let url = calls::url(path, &params)?;
        let req = match body {
            Some(body) => {
                let (json, headers) = calls::json_body(body)?;
                calls::request(&url, Method::Post, Some(json), headers)?
            }
            None => calls::request(&url, Method::Post, None, ::worker::Headers::new())?,
        };
        calls::call(&self.namespace, &self.name, req).await
    }

    /// Whether the endpoint is disabled.
    pub async fn begin(&self) -> std::result::Result<Reported, Error> {
        self.call::<(), _>("/begin", &[], None).await
    }

    /// Records what attempts found.
    pub async fn report(&self, reports: Vec<Report>) -> std::result::Result<Reported, Error> {
        self.call("/report", &[], Some(&Reports { reports })).await
    }

    /// The endpoint's state and its messages in `state` (all when `None`), at most `limit`.
    pub async fn list(
        &self,
        state: Option<&str>,
        limit: u64,
    ) -> std::result::Result<Listing, Error> {
        let limit = limit.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(state) = state {
            query.push(("state", state));
        }
        self.call::<(), _>("/list", &query, None).await
    }

    /// Sends failed messages again from their first attempt: the one with webhook id `id`,
    /// or all of them.
    pub async fn retry(&self, id: Option<&str>) -> std::result::Result<Requeued, Error> {
        let query: Vec<(&str, &str)> = id.map(|id| ("id", id)).into_iter().collect();
        self.call::<(), _>("/retry", &query, None).await
    }

    /// Enables the endpoint and sends its held messages.
    pub async fn enable(&self) -> std::result::Result<Requeued, Error> {
        self.call::<(), _>("/enable", &[], None).await
    }
}

/// One endpoint's deliveries.
#[durable_object]
pub struct Deliveries {
    state: State,
    env: Env,
    ready: Cell<bool>,
    endpoint: RefCell<Option<String>>,
}

fn opt(n: u64) -> Option<u64> {
    (n > 0).then_some(n)
}

impl Deliveries {
    fn sql(&self) -> std::result::Result<Sql, Error> {
        Sql::open(
            &self.state,
            super::costs::Class::Deliveries,
            &self.ready,
            SCHEMA,
        )
    }

    fn counter(sql: &Sql, name: &str) -> std::result::Result<u64, Error> {
        let rows = sql.rows(
            "SELECT value FROM meta WHERE name = ?",
            vec![name.to_owned().into()],
        )?;
        Ok(rows
            .first()
            .map(|r| r.text(0))
            .transpose()?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Sets a `meta` value; a value that is already there costs no write.
    fn set(sql: &Sql, name: &str, value: u64) -> std::result::Result<(), Error> {
        if Self::counter(sql, name)? == value {
            return Ok(());
        }
        sql.exec(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
            vec![name.to_owned().into(), value.to_string().into()],
        )
    }

    fn count(sql: &Sql, state: &str) -> std::result::Result<u64, Error> {
        let rows = sql.rows(
            "SELECT COUNT(*) FROM messages WHERE state = ?",
            vec![state.to_owned().into()],
        )?;
        Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0))
    }

    fn endpoint_state(&self, sql: &Sql) -> std::result::Result<EndpointState, Error> {
        Ok(EndpointState {
            id: self.endpoint.borrow().clone().unwrap_or_default(),
            disabled: Self::counter(sql, "disabled")? == 1,
            disabled_at: opt(Self::counter(sql, "disabled_at")?),
            last_success_at: opt(Self::counter(sql, "last_success_at")?),
            last_failure_at: opt(Self::counter(sql, "last_failure_at")?),
            failures_in_a_row: Self::counter(sql, "failures_in_a_row")?,
            delivered: Self::counter(sql, "delivered")?,
            failed: Self::count(sql, "failed")?,
            retrying: Self::count(sql, "retrying")?,
            held: Self::count(sql, "held")?,
            expired: Self::counter(sql, "expired")?,
        })
    }

    fn keep(
        sql: &Sql,
        state: &str,
        m: &Message,
        due_at: Option<u64>,
        now: u64,
    ) -> std::result::Result<(), Error> {
        sql.exec(
            "INSERT OR REPLACE INTO messages (id, state, attempts, due_at, updated_at, status, \
             error, app, event, accepted_at, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                m.id.clone().into(),
                state.to_owned().into(),
                int(u64::from(m.attempt)),
                due_at.map(int).unwrap_or(::worker::SqlStorageValue::Null),
                int(now),
                m.last_status
                    .map(|s| int(u64::from(s)))
                    .unwrap_or(::worker::SqlStorageValue::Null),
                m.last_error
                    .clone()
                    .map(Into::into)
                    .unwrap_or(::worker::SqlStorageValue::Null),
                m.app.clone().into(),
                m.event.clone().into(),
                int(m.accepted_at),
                m.to_json()?.into(),
            ],
        )
    }

    /// Records reports: synchronous, so a report and the state it changes cannot interleave.
    fn report(&self, reports: &[Report]) -> std::result::Result<Reported, Error> {
        let sql = self.sql()?;
        let now = now_ms();
        let mut delivered = 0;
        for r in reports {
            let m = &r.message;
            match r.result.as_str() {
                "delivered" => {
                    sql.exec(
                        "DELETE FROM messages WHERE id = ?",
                        vec![m.id.clone().into()],
                    )?;
                    delivered += 1;
                    Self::set(&sql, "last_success_at", now)?;
                    Self::set(&sql, "failures_in_a_row", 0)?;
                }
                "retrying" => {
                    Self::keep(&sql, "retrying", m, r.due_at, now)?;
                    Self::failure(&sql, now)?;
                }
                "gone" => {
                    Self::set(&sql, "disabled", 1)?;
                    Self::set(&sql, "disabled_at", now)?;
                    Self::keep(&sql, "held", m, None, now)?;
                    Self::failure(&sql, now)?;
                }
                "held" => Self::keep(&sql, "held", m, None, now)?,
                "failed" => Self::keep(&sql, "failed", m, None, now)?,
                other => return Err(Error::malformed(format!("unknown report `{other}`"))),
            }
        }
        if delivered > 0 {
            Self::set(
                &sql,
                "delivered",
                Self::counter(&sql, "delivered")? + delivered,
            )?;
        }
        Ok(Reported {
            disabled: Self::counter(&sql, "disabled")? == 1,
        })
    }

    fn failure(sql: &Sql, now: u64) -> std::result::Result<(), Error> {
        Self::set(sql, "last_failure_at", now)?;
        Self::set(
            sql,
            "failures_in_a_row",
            Self::counter(sql, "failures_in_a_row")? + 1,
        )
    }

    fn listed(row: &Row) -> std::result::Result<Listed, Error> {
        let message = Message::from_json(&row.text(6)?).map_err(|e| Error::Storage {
            reason: format!("a kept message is not valid: {e}"),
        })?;
        Ok(Listed {
            id: row.text(0)?,
            endpoint: message.endpoint,
            state: row.text(1)?,
            appid: message.app,
            event: message.event,
            attempts: u32::try_from(row.int(2)?).unwrap_or(u32::MAX),
            last_status: row.opt_int(4)?.and_then(|s| u16::try_from(s).ok()),
            last_error: message.last_error,
            accepted_at: message.accepted_at,
            due_at: row.opt_int(3)?,
            updated_at: row.int(5)?,
        })
    }

    fn list(&self, state: Option<&str>, limit: u64) -> std::result::Result<Listing, Error> {
        let sql = self.sql()?;
        // The columns `listed` reads, in its order.
        let columns = "SELECT id, state, attempts, due_at, status, updated_at, message \
                       FROM messages";
        let rows = match state {
            Some(state) => sql.rows(
                &format!("{columns} WHERE state = ? ORDER BY updated_at DESC LIMIT ?"),
                vec![state.to_owned().into(), int(limit)],
            )?,
            None => sql.rows(
                &format!("{columns} ORDER BY updated_at DESC LIMIT ?"),
                vec![int(limit)],
            )?,
        };
        Ok(Listing {
            endpoint: self.endpoint_state(&sql)?,
            messages: rows
                .iter()
                .map(Self::listed)
                .collect::<std::result::Result<_, _>>()?,
        })
    }

    /// Sends the kept messages that `query` selects (ids and JSON) again; `fresh` starts
    /// their attempts over. Then marks them retrying.
    async fn requeue(
        &self,
        query: &str,
        bindings: Vec<::worker::SqlStorageValue>,
        fresh: bool,
    ) -> std::result::Result<u64, Error> {
        let rows = self.sql()?.rows(query, bindings)?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut m = Message::from_json(&row.text(1)?).map_err(|e| Error::Storage {
                reason: format!("a kept message is not valid: {e}"),
            })?;
            if fresh {
                m.attempt = 0;
            }
            messages.push(m);
        }
        let queued = messages
            .iter()
            .map(|m| forward::queue_message(m, 0))
            .collect::<std::result::Result<Vec<_>, Error>>()?;
        forward::send(&self.env, QUEUE_BINDING, queued).await?;
        // Marked after the queue took them: a failure before leaves them as they were.
        let sql = self.sql()?;
        let now = now_ms();
        for m in &messages {
            Self::keep(&sql, "retrying", m, Some(now), now)?;
        }
        Ok(messages.len() as u64)
    }

    async fn handle(&self, mut req: Request) -> std::result::Result<Response, Error> {
        let params = http::query(&req);
        let param = |name: &str| http::param(&params, name).map(str::to_owned);
        if let Some(endpoint) = param("endpoint") {
            *self.endpoint.borrow_mut() = Some(endpoint);
        }
        let answer = match req.path().as_str() {
            "/begin" => {
                let sql = self.sql()?;
                calls::respond(&Reported {
                    disabled: Self::counter(&sql, "disabled")? == 1,
                })
            }
            "/report" => {
                let reports: Reports = calls::json_of(&mut req).await?;
                let reported = self.report(&reports.reports)?;
                self.schedule().await?;
                calls::respond(&reported)
            }
            "/list" => {
                let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
                calls::respond(&self.list(param("state").as_deref(), limit)?)
            }
            "/retry" => {
                let requeued = match param("id") {
                    Some(id) => {
                        self.requeue(
                            "SELECT id, message FROM messages WHERE state = 'failed' AND id = ?",
                            vec![id.into()],
                            true,
                        )
                        .await?
                    }
                    None => {
                        self.requeue(
                            "SELECT id, message FROM messages WHERE state = 'failed'",
                            Vec::new(),
                            true,
                        )
                        .await?
                    }
                };
                self.schedule().await?;
                calls::respond(&Requeued { requeued })
            }
            "/enable" => {
                let requeued = self
                    .requeue(
                        "SELECT id, message FROM messages WHERE state = 'held'",
                        Vec::new(),
                        true,
                    )
                    .await?;
                let sql = self.sql()?;
                Self::set(&sql, "disabled", 0)?;
                Self::set(&sql, "disabled_at", 0)?;
                self.schedule().await?;
                calls::respond(&Requeued { requeued })
            }
            _ => Err(Error::NotFound),
        };
        answer
    }

    fn settings(&self) -> (u64, u64) {
        match Forwarding::read(&self.env) {
            Ok(Some(f)) => (
                u64::from(f.recover_seconds) * 1000,
                u64::from(f.keep_days) * 86_400_000,
            ),
            _ => (900_000, 30 * 86_400_000),
        }
    }

    /// Sets the alarm for the next retrying message that could be lost, or the next failed
    /// one to expire.
    async fn schedule(&self) -> std::result::Result<(), Error> {
        let sql = self.sql()?;
        let (recover, keep) = self.settings();
        let next = |query: &str| -> std::result::Result<Option<u64>, Error> {
            Ok(sql
                .rows(query, Vec::new())?
                .first()
                .map(|r| r.opt_int(0))
                .transpose()?
                .flatten())
        };
        let stale = next("SELECT MIN(due_at) FROM messages WHERE state = 'retrying'")?
            .map(|due| due + recover);
        let expiry = next("SELECT MIN(updated_at) FROM messages WHERE state = 'failed'")?
            .map(|at| at + keep);
        let Some(at) = stale.into_iter().chain(expiry).min() else {
            return Ok(());
        };
        let offset = i64::try_from(at.saturating_sub(now_ms())).unwrap_or(i64::MAX);
        super::costs::object(super::costs::Class::Deliveries, |o| o.alarm_sets += 1);
        self.state
            .storage()
            .set_alarm(offset.max(0))
            .await
            .map_err(|e| Error::Storage {
                reason: format!("could not set the alarm: {e}"),
            })
    }

    async fn sweep(&self) -> std::result::Result<(), Error> {
        let (recover, keep) = self.settings();
        let now = now_ms();
        // Retrying messages long past their due time: the queue lost them. Sent again with
        // the attempts they had.
        self.requeue(
            "SELECT id, message FROM messages WHERE state = 'retrying' AND due_at < ?",
            vec![int(now.saturating_sub(recover))],
            false,
        )
        .await?;
        let sql = self.sql()?;
        let old = now.saturating_sub(keep);
        let expired = sql.rows(
            "SELECT COUNT(*) FROM messages WHERE state = 'failed' AND updated_at < ?",
            vec![int(old)],
        )?;
        let expired = expired.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
        if expired > 0 {
            sql.exec(
                "DELETE FROM messages WHERE state = 'failed' AND updated_at < ?",
                vec![int(old)],
            )?;
            Self::set(&sql, "expired", Self::counter(&sql, "expired")? + expired)?;
        }
        self.schedule().await
    }
}

impl DurableObject for Deliveries {
    fn new(state: State, env: Env) -> Self {
        Deliveries {
            state,
            env,
            ready: Cell::new(false),
            endpoint: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        super::costs::object(super::costs::Class::Deliveries, |o| o.requests += 1);
        calls::finish(self.handle(req).await)
    }

    async fn alarm(&self) -> Result<Response> {
        super::costs::object(super::costs::Class::Deliveries, |o| o.alarms += 1);
        if let Err(e) = self.sweep().await {
            ::worker::console_error!("the deliveries' sweep failed: {e}");
            return Err(::worker::Error::RustError(e.to_string()));
        }
        Response::empty()
    }
}
