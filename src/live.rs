//! Live-list rules: what one callback does to the stored state of one stream, one mix task
//! or one room session.
//!
//! Everything here is a pure function over values: no storage, no clock, no JS. A storage
//! layer (Workers KV, a database, the in-memory [`LiveList`]) reads the current record under a
//! key, asks the matching `apply_*` function for a [`Write`], and carries it out ([`driver`]
//! does it for any store). The rules
//! make delivery order irrelevant and applying a callback twice the same as applying it once
//! (ZEGO's articles 19680 and 19668 describe the algorithm; ZEGO retries failed callbacks
//! and does not guarantee their order).
//!
//! # Keys
//!
//! | state                 | identity                         | key                              |
//! |-----------------------|----------------------------------|----------------------------------|
//! | a stream              | `(room_id, stream_id)`           | `s:<room_id>:<stream_id>`        |
//! | a closed room session | `(room_id, room_session_id)`     | `r:<room_id>:<room_session_id>`  |
//! | a mix task            | `task_id`                        | `m:<task_id>`                    |
//!
//! Each text component is percent-encoded (`%`, `:` and ASCII control characters; see
//! [`encode_component`]), so no id can make two keys collide and listing
//! [`stream_room_prefix`] returns exactly one room's streams. `room_session_id` is written in
//! decimal. A key longer than [`MAX_KEY_BYTES`] (the Workers KV limit) is an error, never
//! truncated.
//!
//! # Order
//!
//! Stream ids are reused across the sessions of a room, and `stream_seq` restarts in every
//! session, so a stream's callbacks are ordered by a [`Version`]:
//!
//! - within one `room_session_id`, by `stream_seq`; at equal `stream_seq` a close ranks
//!   above a create;
//! - across sessions, by time (`create_time_ms` of a create, `destroy_timemillis` of a
//!   close), ties broken by `room_session_id` and then by kind.
//!
//! A room's sessions follow each other in time, so every callback of an earlier session
//! ranks below every callback of a later one, and the order is total; a re-publish whose
//! `create_time_ms` is older than its session's other callbacks is still ordered by its
//! `stream_seq`. Only data where one session's times reach into another's (which ZEGO's
//! sessions do not) can make the order cyclic; the outcome may then depend on the delivery
//! order, and nothing panics.
//!
//! Mix callbacks of one task are ordered by `seq` ([`MixVersion`]); at equal `seq` a stop ranks
//! above a start.
//!
//! # What is stored
//!
//! Every record keeps the version of the callback that produced it. A record is only ever
//! replaced by one with a newer version, so the stored record of a stream always belongs to
//! the newest callback delivered for it, whatever the order of delivery:
//!
//! - the newest callback is a `stream_close`: a [`StreamRecord::Closed`] tombstone;
//! - it is a `stream_create` whose room session was closed (`room_close`): a tombstone too
//!   (not nothing: the tombstone keeps an older session's late create from taking the key);
//! - otherwise it is a `stream_create`: [`StreamRecord::Live`] with the stream's summary.
//!
//! Nothing is ever deleted: an ended stream, session or mix leaves a tombstone that expires
//! after [`TOMBSTONE_TTL_SECONDS`], so a late callback cannot bring it back to life.
//!
//! # Applying a `room_close`
//!
//! 1. Put the session tombstone ([`apply_room_close`]), before touching any stream, so that a
//!    `stream_create` of the closed session arriving meanwhile is turned into a tombstone.
//! 2. List the room's streams ([`stream_room_prefix`]) and replace each one for which
//!    [`room_close_ends`] holds by [`apply_room_close_to_stream`]'s tombstone. Only live
//!    streams of the same room and the same `room_session_id` are ended: a newer session's
//!    streams are never touched.
//!
//! Do step 2 even when step 1 is [`Write::Ignore`]: a retried `room_close` may be the one
//! whose earlier attempt failed half-way.
//!
//! # Limits
//!
//! - Callbacks alone handle reordering and duplicates, not lost callbacks (ZEGO gives up
//!   after five retries): a stream whose `stream_close` and `room_close` were both lost stays
//!   live. A store that can ask ZEGO's server API what is live applies its answers with
//!   [`reconcile`], which ends such a stream and lists one whose `stream_create` was lost.
//! - Tombstones expire after [`TOMBSTONE_TTL_SECONDS`]. A callback delivered later than that
//!   after the one that ended its stream (far beyond ZEGO's 62 s of retries and the 300 s
//!   timestamp window) finds no tombstone and may resurrect a stream.
//! - The decisions assume each key's read-decide-write is not interleaved with another
//!   callback's for the same key. Workers KV is eventually consistent and has no
//!   compare-and-swap; a Durable Object gives that guarantee.
//!
//! # Where each part lives
//!
//! | module        | what it knows                                                         |
//! |---------------|-----------------------------------------------------------------------|
//! | [`keys`]      | the keys: how ids become keys and back, which keys are listed         |
//! | [`streams`]   | a stream's versions, its record, and what its callbacks do to it      |
//! | [`sessions`]  | a closed room session's tombstone                                     |
//! | [`mixes`]     | a mix task's versions, its record, and what its callbacks do to it    |
//! | [`stored`]    | the records as stored (one enum, their JSON), and which are live      |
//! | `record_json` | reading a stored record back from its JSON with the crate's reader    |
//! | [`driver`]    | which keys a callback touches, which object owns it, and its writes   |
//! | [`reconcile`] | what an answer of ZEGO's server API (the streams live in a room) does |
//! | [`list`]      | [`LiveList`], the rules driven over a map in memory                   |

use std::borrow::Cow;

pub mod driver;
pub mod keys;
pub mod list;
pub mod mixes;
pub mod reconcile;
mod record_json;
pub mod sessions;
pub mod stored;
pub mod streams;

pub use driver::{decide, decide_all, decide_scanned, plan, KeyWrite, Plan, Records, Scope};
pub use keys::{
    encode_component, is_listed, key_ids, mix_key, session_key, session_room_prefix, stream_key,
    stream_room_prefix, KeyIds, MAX_KEY_BYTES, MIX_PREFIX, SESSION_PREFIX, STREAM_PREFIX,
};
pub use list::{LiveList, LiveView};
pub use mixes::{apply_mix_start, apply_mix_stop, LiveMix, MixEventKind, MixRecord, MixVersion};
pub use reconcile::{absence, decide_check, Absence, Absences, Check, ListedStream, Thresholds};
pub use sessions::{apply_room_close, session_tombstone, SessionRecord};
pub use stored::Stored;
pub use streams::{
    apply_room_close_to_stream, apply_stream_close, apply_stream_create, room_close_ends,
    EndReason, LiveStream, Source, StreamEventKind, StreamRecord, Version,
};

/// How long a tombstone is kept, in seconds: 24 hours.
///
/// Far longer than ZEGO's retry window (the last retry comes 62 s after the first try) plus
/// the 300 s timestamp window, so every retry or reordered callback of an ended stream finds
/// its tombstone. A callback arriving after the tombstone expired is not recognised as stale:
/// a very late `stream_create` could then make an ended stream live again.
pub const TOMBSTONE_TTL_SECONDS: u64 = 24 * 60 * 60;

/// What a storage layer does with one key after a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write<R> {
    /// Store `record` under the key, replacing what is there.
    Put {
        /// The new record.
        record: R,
        /// `Some(seconds)` for a tombstone, which may then expire; `None` to keep it.
        ttl_seconds: Option<u64>,
    },
    /// Leave the key as it is: the callback is a duplicate, stale, or changes nothing.
    Ignore,
}

impl<R> Write<R> {
    /// The record to put, if any.
    pub fn record(&self) -> Option<&R> {
        match self {
            Write::Put { record, .. } => Some(record),
            Write::Ignore => None,
        }
    }

    /// The record to put, if any, by value.
    pub fn into_record(self) -> Option<R> {
        match self {
            Write::Put { record, .. } => Some(record),
            Write::Ignore => None,
        }
    }

    /// Whether nothing is to be written.
    pub fn is_ignore(&self) -> bool {
        matches!(self, Write::Ignore)
    }

    fn live(record: R) -> Self {
        Write::Put {
            record,
            ttl_seconds: None,
        }
    }

    fn tombstone(record: R) -> Self {
        Write::Put {
            record,
            ttl_seconds: Some(TOMBSTONE_TTL_SECONDS),
        }
    }
}

/// A callback's text as a record stores it (owned: records outlive the body).
pub(crate) trait ToRecord {
    type Owned;
    fn stored(&self) -> Self::Owned;
}

impl ToRecord for Cow<'_, str> {
    type Owned = String;
    fn stored(&self) -> String {
        String::from(&**self)
    }
}

impl ToRecord for Option<Cow<'_, str>> {
    type Owned = Option<String>;
    fn stored(&self) -> Option<String> {
        self.as_ref().map(ToRecord::stored)
    }
}

impl ToRecord for Vec<Cow<'_, str>> {
    type Owned = Vec<String>;
    fn stored(&self) -> Vec<String> {
        self.iter().map(ToRecord::stored).collect()
    }
}

#[cfg(test)]
mod tests;
