//! The `Room` Durable Object: the one place that decides for a room (or a mix task).
//!
//! It is a driver of [`crate::live`], like [`crate::LiveList`]: it reads its records
//! ([`super::records`]), asks the rules, writes, with no `await` in between, so nothing can
//! interleave whatever the order and concurrency of deliveries. Once a change is committed it
//! answers, pushes the change to the room's subscribers, and wakes its outbox
//! ([`super::outbox`]), which sends the change on to KV and the app's `Hub`. Its alarm also
//! checks the room against ZEGO's server API when that is due ([`super::reconcile`]), and
//! applies the answer the same way. No rule lives here.

use std::cell::Cell;

use ::worker::{
    durable_object, DurableObject, Env, Method, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};
use serde::{Deserialize, Serialize};

use super::calls::{self, internal, respond};
use super::frames;
use super::http;
use super::names::Identity;
use super::now_ms;
use super::outbox::{Outbox, Sync};
use super::reconcile::{CheckState, Checker};
use super::records::{MetaCache, Table};
use crate::live::{self, KeyWrite, LiveStream};
use crate::Error;

/// What applying a callback wrote.
#[derive(Debug, Serialize, Deserialize)]
pub struct Applied {
    /// The live-list keys written, in order.
    pub written: Vec<String>,
    /// The object's change counter once the callback was applied: the order of its changes.
    pub seq: u64,
}

/// The consistent list of a room's live streams, and how far KV is behind it.
#[derive(Debug, Serialize)]
pub struct RoomStreams {
    appid: String,
    room_id: String,
    streams: Vec<LiveStream>,
    sync: Sync,
    /// The room's checks of ZEGO's server API; `None` when its app is not checked.
    check: Option<CheckState>,
}

/// The authority over one room's streams and sessions, or over one mix task.
#[durable_object]
pub struct Room {
    state: State,
    env: Env,
    ready: Cell<bool>,
    meta: MetaCache,
    /// When the alarm was last asked for at once, until it runs.
    alarm_asked: Cell<bool>,
    /// When expired tombstones were last deleted.
    pruned_at: Cell<u64>,
}

impl Room {
    fn table(&self) -> std::result::Result<Table<'_>, Error> {
        Table::open(&self.state, &self.ready, &self.meta)
    }

    fn checker<'a>(&'a self, table: &'a Table<'a>, id: &'a Identity) -> Checker<'a> {
        Checker {
            env: &self.env,
            table,
            id,
        }
    }

    fn outbox<'a>(&'a self, table: &'a Table<'a>) -> Outbox<'a> {
        Outbox {
            state: &self.state,
            env: &self.env,
            table,
        }
    }

    /// Applies a callback: read, decide, write, with no `await` in between. Returns the
    /// writes, the time they were applied and the change counter after them. A callback of
    /// another app, room or task than the object's is refused.
    fn apply(
        table: &Table,
        id: &Identity,
        body: &[u8],
        content_type: Option<&str>,
    ) -> std::result::Result<(Vec<KeyWrite>, u64, u64), Error> {
        let cb = crate::parse(body, content_type)?;
        let owner = live::plan(&cb)?.map(|plan| Identity::of(&id.app, &plan.scope));
        let app = cb.envelope().map(|env| env.appid.to_string());
        if owner.as_ref() != Some(id) || app.as_deref() != Some(id.app.as_str()) {
            return Err(Error::Storage {
                reason: format!("a callback of app {app:?}, {owner:?} reached the object of {id}"),
            });
        }
        let now = now_ms();
        let writes = live::decide_all(&cb, &table.records(now))?;
        let seq = if writes.is_empty() {
            table.counter("seq")?
        } else {
            table.write(&writes, now)?
        };
        Ok((writes, now, seq))
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
        let params = http::query(&req);
        let path = req.path();
        let table = self.table()?;
        let applying = req.method() == Method::Post && path == "/apply";
        let id = table
            .identity(Identity::from_params(&params), applying)?
            .ok_or_else(|| Error::missing("app"))?;
        match (req.method(), path.as_str()) {
            (Method::Post, "/apply") => {
                let body = req
                    .bytes()
                    .await
                    .map_err(|e| Error::malformed(format!("the body could not be read: {e}")))?;
                let content_type = req.headers().get("content-type").ok().flatten();
                let (writes, at, seq) = Self::apply(&table, &id, &body, content_type.as_deref())?;
                if !writes.is_empty() {
                    self.broadcast(&id.app, &writes, at);
                    self.outbox(&table).wake(&self.alarm_asked).await?;
                }
                respond(&Applied {
                    written: writes.into_iter().map(|w| w.key).collect(),
                    seq,
                })
            }
            (Method::Get, "/streams") => respond(&RoomStreams {
                streams: table.live_streams(now_ms())?,
                sync: self.outbox(&table).sync()?,
                check: self.checker(&table, &id).view()?,
                appid: id.app,
                room_id: id.id,
            }),
            (Method::Get, "/subscribe") => {
                let pair = WebSocketPair::new().map_err(internal)?;
                self.state.accept_web_socket(&pair.server);
                let now = now_ms();
                let streams = table.live_streams(now)?;
                let snapshot =
                    frames::room_snapshot(&id.app, &id.id, now, streams.iter().collect());
                pair.server.send_with_str(snapshot).map_err(internal)?;
                Response::from_websocket(pair.client).map_err(internal)
            }
            _ => Err(Error::NotFound),
        }
    }

    /// The alarm's work: the room's check of ZEGO's server API when it is due (its
    /// corrections pushed like a callback's), then the outbox, which sets the next alarm.
    async fn flush(&self) -> std::result::Result<(), Error> {
        let table = self.table()?;
        let Some(id) = table.identity(None, false)? else {
            return Ok(());
        };
        let checker = self.checker(&table, &id);
        // A check that fails is logged and tried again later; it never holds the outbox.
        match checker.check_if_due().await {
            Ok(Some(written)) => self.broadcast(&id.app, &written.writes, written.at),
            Ok(None) => {}
            Err(e) => ::worker::console_error!("the check of the room failed: {e}"),
        }
        let wake = checker.wake_at(now_ms()).unwrap_or_else(|e| {
            ::worker::console_error!("the next check could not be scheduled: {e}");
            None
        });
        self.outbox(&table).flush(&id, &self.pruned_at, wake).await
    }
}

impl DurableObject for Room {
    fn new(state: State, env: Env) -> Self {
        Room {
            state,
            env,
            ready: Cell::new(false),
            meta: MetaCache::default(),
            alarm_asked: Cell::new(false),
            pruned_at: Cell::new(0),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        super::costs::object(super::costs::Class::Room, |o| o.requests += 1);
        calls::finish(self.handle(req).await)
    }

    async fn alarm(&self) -> Result<Response> {
        super::costs::object(super::costs::Class::Room, |o| o.alarms += 1);
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
        calls::close_socket(&ws);
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: ::worker::Error) -> Result<()> {
        Ok(())
    }
}
