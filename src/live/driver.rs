//! Driving the rules against any key-value store, in three steps that suit a synchronous
//! map as well as an asynchronous KV:
//!
//! 1. [`plan`]: which keys the callback touches, to be read first, and which object owns
//!    them ([`Scope`]: a store that splits the list among objects asks here);
//! 2. [`decide`]: from what was read, the one write for the callback's own key;
//! 3. for a `room_close`, after that write is stored: list [`Plan::scan_prefix`] and pass each
//!    stored stream to [`decide_scanned`].
//!
//! [`LiveList`](super::LiveList), the Worker and the npm module all drive the rules this way.

use serde::Serialize;

use super::{
    apply_mix_start, apply_mix_stop, apply_room_close, apply_room_close_to_stream,
    apply_stream_close, apply_stream_create, mix_key, session_key, stream_key, stream_room_prefix,
    SessionRecord, Stored, Write,
};
use crate::{Callback, Error};

/// The part of the list whose records a callback touches, all of them: one room's streams
/// and closed sessions, or one mix task's record (a task belongs to no room). A store that
/// gives each scope its own lock (the Worker: one object each) serializes exactly what needs
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A room: `room_id`.
    Room(String),
    /// A mix task: `task_id`.
    Mix(String),
}

/// The keys one callback touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Whose records they are.
    #[serde(skip)]
    pub scope: Scope,
    /// The key the callback writes: its stream, room session or mix task.
    pub key: String,
    /// A second key to read before deciding: the room session of a `stream_create`.
    pub session_key: Option<String>,
    /// For a `room_close`: the prefix of the room's streams, each to be passed to
    /// [`decide_scanned`] once the session's write is stored.
    pub scan_prefix: Option<String>,
}

/// One write to carry out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyWrite {
    /// Where.
    pub key: String,
    /// What.
    pub record: Stored,
    /// `Some(seconds)` for a tombstone, which may expire; `None` to keep it.
    pub ttl_seconds: Option<u64>,
}

/// The keys a callback touches; `None` for events that do not concern the live list.
///
/// Fails only when a key would be longer than [`MAX_KEY_BYTES`](super::MAX_KEY_BYTES).
pub fn plan(cb: &Callback) -> Result<Option<Plan>, Error> {
    let room = |id: &str| Scope::Room(id.to_owned());
    let mix = |id: &str| Scope::Mix(id.to_owned());
    let plan = |scope, key, session_key, scan_prefix| {
        Some(Plan {
            scope,
            key,
            session_key,
            scan_prefix,
        })
    };
    Ok(match cb {
        Callback::StreamCreate(ev) => plan(
            room(&ev.room_id),
            stream_key(&ev.room_id, &ev.stream_id)?,
            Some(session_key(&ev.room_id, ev.room_session_id)?),
            None,
        ),
        Callback::StreamClose(ev) => plan(
            room(&ev.room_id),
            stream_key(&ev.room_id, &ev.stream_id)?,
            None,
            None,
        ),
        Callback::RoomClose(ev) => plan(
            room(&ev.room_id),
            session_key(&ev.room_id, ev.room_session_id)?,
            None,
            Some(stream_room_prefix(&ev.room_id)?),
        ),
        Callback::MixStart(ev) => plan(mix(&ev.task_id), mix_key(&ev.task_id)?, None, None),
        Callback::MixStop(ev) => plan(mix(&ev.task_id), mix_key(&ev.task_id)?, None, None),
        _ => None,
    })
}

/// The write for the plan's own key, given the records stored under [`Plan::key`] and
/// [`Plan::session_key`]; `None` when nothing is to be written (a duplicate, a stale
/// callback, or an event that does not concern the list). A record of the wrong kind under
/// a key counts as absent.
pub fn decide(
    cb: &Callback,
    plan: &Plan,
    current: Option<&Stored>,
    session: Option<&Stored>,
) -> Option<KeyWrite> {
    let stream = match current {
        Some(Stored::Stream(s)) => Some(s),
        _ => None,
    };
    let mix = match current {
        Some(Stored::Mix(m)) => Some(m),
        _ => None,
    };
    match cb {
        Callback::StreamCreate(ev) => to_key(
            plan,
            apply_stream_create(stream, session_of(session), ev),
            Stored::Stream,
        ),
        Callback::StreamClose(ev) => to_key(plan, apply_stream_close(stream, ev), Stored::Stream),
        Callback::RoomClose(ev) => to_key(
            plan,
            apply_room_close(session_of(current), ev),
            Stored::Session,
        ),
        Callback::MixStart(ev) => to_key(plan, apply_mix_start(mix, ev), Stored::Mix),
        Callback::MixStop(ev) => to_key(plan, apply_mix_stop(mix, ev), Stored::Mix),
        _ => None,
    }
}

/// A store whose records can be read synchronously: an in-memory map, or a Durable Object's
/// SQLite storage, where a read and the writes decided from it run with nothing in between.
pub trait Records {
    /// The record under `key`.
    fn get(&self, key: &str) -> Result<Option<Stored>, Error>;
    /// Every record whose key starts with `prefix`, in key order.
    fn scan(&self, prefix: &str) -> Result<Vec<(String, Stored)>, Error>;
}

/// Every write one callback calls for, decided from `records` in the three steps above (a
/// `room_close`'s scanned streams follow its session's write). Carrying them out in any
/// order gives the same records: the scanned keys are streams, the session's is not.
pub fn decide_all(cb: &Callback, records: &impl Records) -> Result<Vec<KeyWrite>, Error> {
    let Some(plan) = plan(cb)? else {
        return Ok(Vec::new());
    };
    let current = records.get(&plan.key)?;
    let session = match &plan.session_key {
        Some(key) => records.get(key)?,
        None => None,
    };
    let mut writes: Vec<KeyWrite> = decide(cb, &plan, current.as_ref(), session.as_ref())
        .into_iter()
        .collect();
    // Even when the session was already closed: a retry may follow a failure half-way.
    if let Some(prefix) = &plan.scan_prefix {
        for (key, stored) in records.scan(prefix)? {
            writes.extend(decide_scanned(cb, &key, &stored));
        }
    }
    Ok(writes)
}

/// For a `room_close`: the write for one stored record found under [`Plan::scan_prefix`];
/// `None` when it is not a stream this close ends.
pub fn decide_scanned(cb: &Callback, key: &str, stored: &Stored) -> Option<KeyWrite> {
    match (cb, stored) {
        (Callback::RoomClose(ev), Stored::Stream(s)) => key_write(
            key.to_owned(),
            apply_room_close_to_stream(s, ev),
            Stored::Stream,
        ),
        _ => None,
    }
}

fn session_of(stored: Option<&Stored>) -> Option<&SessionRecord> {
    match stored {
        Some(Stored::Session(s)) => Some(s),
        _ => None,
    }
}

fn to_key<R>(plan: &Plan, write: Write<R>, wrap: fn(R) -> Stored) -> Option<KeyWrite> {
    key_write(plan.key.clone(), write, wrap)
}

fn key_write<R>(key: String, write: Write<R>, wrap: fn(R) -> Stored) -> Option<KeyWrite> {
    match write {
        Write::Put {
            record,
            ttl_seconds,
        } => Some(KeyWrite {
            key,
            record: wrap(record),
            ttl_seconds,
        }),
        Write::Ignore => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn cb(json: &str) -> Callback<'static> {
        parse(json.as_bytes(), None).unwrap().into_owned()
    }

    const ENV: &str = r#""appid":"1","timestamp":"1","nonce":"n","signature":"s""#;

    #[test]
    fn plans_name_the_keys_to_read() {
        let create = cb(&format!(
            r#"{{"event":"stream_create",{ENV},"room_id":"r:1","room_session_id":"9","stream_id":"a",
                "stream_seq":"1","create_time_ms":"10"}}"#
        ));
        let p = plan(&create).unwrap().unwrap();
        assert_eq!(p.scope, Scope::Room("r:1".into()));
        assert_eq!(p.key, "s:r%3A1:a");
        assert_eq!(p.session_key.as_deref(), Some("r:r%3A1:9"));
        let close = cb(&format!(
            r#"{{"event":"room_close",{ENV},"room_id":"r","room_session_id":9,"room_close_time":"5"}}"#
        ));
        assert_eq!(
            plan(&close).unwrap().unwrap().scan_prefix.as_deref(),
            Some("s:r:")
        );
        let login = cb(&format!(
            r#"{{"event":"room_login",{ENV},"room_id":"r","room_seq":"9","user_account":"u"}}"#
        ));
        assert_eq!(plan(&login).unwrap(), None);
    }

    #[test]
    fn a_duplicate_decides_no_write() {
        let create = cb(&format!(
            r#"{{"event":"stream_create",{ENV},"room_id":"r","room_session_id":"9","stream_id":"a",
                "stream_seq":"1","create_time_ms":"10"}}"#
        ));
        let p = plan(&create).unwrap().unwrap();
        let first = decide(&create, &p, None, None).unwrap();
        assert_eq!(first.ttl_seconds, None);
        assert_eq!(decide(&create, &p, Some(&first.record), None), None);
    }
}
