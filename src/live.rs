//! Live-list rules: what one callback does to the stored state of one stream, one mix task
//! or one room session.
//!
//! Everything here is a pure function over values: no storage, no clock, no JS. A storage
//! layer (Workers KV, a database, the in-memory [`LiveList`]) reads the current record under a
//! key, asks the matching `apply_*` function for a [`Write`], and carries it out. The rules
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
//! - This handles reordering and duplicates, not lost callbacks (ZEGO gives up after five
//!   retries): a stream whose `stream_close` and `room_close` were both lost stays live.
//! - Tombstones expire after [`TOMBSTONE_TTL_SECONDS`]. A callback delivered later than that
//!   after the one that ended its stream (far beyond ZEGO's 62 s of retries and the 300 s
//!   timestamp window) finds no tombstone and may resurrect a stream.
//! - The decisions assume each key's read-decide-write is not interleaved with another
//!   callback's for the same key. Workers KV is eventually consistent and has no
//!   compare-and-swap; a Durable Object gives that guarantee.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::event::{Callback, MixStart, MixStop, RoomClose, StreamClose, StreamCreate};
use crate::field::{Codec, Id64};
use crate::Error;

pub mod driver;
mod read;
pub use driver::{decide, decide_all, decide_scanned, plan, KeyWrite, Plan, Records};

/// How long a tombstone is kept, in seconds: 24 hours.
///
/// Far longer than ZEGO's retry window (the last retry comes 62 s after the first try) plus
/// the 300 s timestamp window, so every retry or reordered callback of an ended stream finds
/// its tombstone. A callback arriving after the tombstone expired is not recognised as stale:
/// a very late `stream_create` could then make an ended stream live again.
pub const TOMBSTONE_TTL_SECONDS: u64 = 24 * 60 * 60;

/// The longest key Workers KV accepts, in bytes.
pub const MAX_KEY_BYTES: usize = 512;

/// The prefix of every stream key.
pub const STREAM_PREFIX: &str = "s:";
/// The prefix of every room-session key.
pub const SESSION_PREFIX: &str = "r:";
/// The prefix of every mix-task key.
pub const MIX_PREFIX: &str = "m:";

/// Percent-encodes one key component: `%`, `:` and control characters (U+0000 to U+001F,
/// U+007F) become `%XX`; everything else, non-ASCII text included, is kept as it is, so the
/// encoding is injective and a component never contains the `:` separator.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '%' || c == ':' || c.is_ascii_control() {
            out.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn checked_key(key: String, field: &str) -> Result<String, Error> {
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(
            field,
            format!(
                "the storage key would be {} bytes; the limit is {MAX_KEY_BYTES}",
                key.len()
            ),
        ));
    }
    Ok(key)
}

/// The prefix of every stream key of one room: `s:<room_id>:`.
pub fn stream_room_prefix(room_id: &str) -> Result<String, Error> {
    checked_key(
        format!("{STREAM_PREFIX}{}:", encode_component(room_id)),
        "room_id",
    )
}

/// The key of a stream's record: `s:<room_id>:<stream_id>`.
pub fn stream_key(room_id: &str, stream_id: &str) -> Result<String, Error> {
    let prefix = stream_room_prefix(room_id)?;
    checked_key(prefix + &encode_component(stream_id), "stream_id")
}

/// The prefix of every session key of one room: `r:<room_id>:`.
pub fn session_room_prefix(room_id: &str) -> Result<String, Error> {
    checked_key(
        format!("{SESSION_PREFIX}{}:", encode_component(room_id)),
        "room_id",
    )
}

/// The key of a closed room session's tombstone: `r:<room_id>:<room_session_id>` (decimal).
pub fn session_key(room_id: &str, room_session_id: Id64) -> Result<String, Error> {
    let prefix = session_room_prefix(room_id)?;
    checked_key(format!("{prefix}{room_session_id}"), "room_id")
}

/// The key of a mix task's record: `m:<task_id>`.
pub fn mix_key(task_id: &str) -> Result<String, Error> {
    checked_key(
        format!("{MIX_PREFIX}{}", encode_component(task_id)),
        "task_id",
    )
}

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

// ---------------------------------------------------------------------------------------
// Streams

/// Which stream callback a [`Version`] belongs to. A close ranks above a create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamEventKind {
    /// `stream_create`.
    Create,
    /// `stream_close`.
    Close,
}

/// The position of one stream callback in its stream's history, stored in every stream
/// record so that a later callback can be compared with it.
///
/// Compare with [`Version::compare`]; see the [module documentation](self) for the order.
/// There is deliberately no `Ord`: the order is total only for data that follows ZEGO's
/// rules, and sorting with a comparison that is not total may panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Version {
    /// The room session the callback belongs to.
    #[serde(with = "id64")]
    pub room_session_id: Id64,
    /// `stream_seq`: the order within the session.
    pub stream_seq: u64,
    /// `create_time_ms` of a create, `destroy_timemillis` of a close: the order across
    /// sessions.
    pub time_ms: u64,
    /// Create or close.
    pub kind: StreamEventKind,
}

impl Version {
    /// The version of a `stream_create`.
    pub fn of_create(ev: &StreamCreate) -> Version {
        Version {
            room_session_id: ev.room_session_id,
            stream_seq: ev.stream_seq,
            time_ms: ev.create_time_ms,
            kind: StreamEventKind::Create,
        }
    }

    /// The version of a `stream_close`.
    pub fn of_close(ev: &StreamClose) -> Version {
        Version {
            room_session_id: ev.room_session_id,
            stream_seq: ev.stream_seq,
            time_ms: ev.destroy_timemillis,
            kind: StreamEventKind::Close,
        }
    }

    /// Orders two callbacks of the same stream: within one session by `stream_seq`, then
    /// kind (close above create); across sessions by time, then `room_session_id`, then
    /// kind. `Equal` only for equal versions.
    pub fn compare(&self, other: &Version) -> Ordering {
        if self.room_session_id == other.room_session_id {
            (self.stream_seq, self.kind, self.time_ms).cmp(&(
                other.stream_seq,
                other.kind,
                other.time_ms,
            ))
        } else {
            (
                self.time_ms,
                self.room_session_id,
                self.kind,
                self.stream_seq,
            )
                .cmp(&(
                    other.time_ms,
                    other.room_session_id,
                    other.kind,
                    other.stream_seq,
                ))
        }
    }

    /// Whether `self` ranks strictly above `other`.
    pub fn is_newer_than(&self, other: &Version) -> bool {
        self.compare(other) == Ordering::Greater
    }
}

/// A live stream, as a list shows it: the fields of its newest `stream_create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStream {
    /// Room ID.
    pub room_id: String,
    /// Stream ID.
    pub stream_id: String,
    /// The room session the stream belongs to; a decimal string in JSON.
    #[serde(with = "id64")]
    pub room_session_id: Id64,
    /// `stream_seq` of the create.
    pub stream_seq: u64,
    /// Server time at stream creation, Unix milliseconds.
    pub create_time_ms: u64,
    /// Whether the create was a re-publish (`recreate = 1`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub recreate: bool,
    /// User ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// User nickname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Stream name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_alias: Option<String>,
    /// Stream server ID, generated by ZEGO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_sid: Option<String>,
    /// Extra information attached to the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_info: Option<String>,
    /// The video codec named by `stream_attr`: `{"cid": 0, "name": "H.264"}`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_codec")]
    pub codec: Option<Codec>,
    /// RTMP play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rtmp_url: Vec<String>,
    /// HLS play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hls_url: Vec<String>,
    /// HDL (HTTP-FLV) play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hdl_url: Vec<String>,
    /// CDN snapshot URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pic_url: Vec<String>,
}

/// A callback's text as a record stores it (owned: records outlive the body).
trait ToRecord {
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

impl LiveStream {
    /// The summary of a `stream_create`.
    pub fn from_create(ev: &StreamCreate) -> LiveStream {
        LiveStream {
            room_id: ev.room_id.stored(),
            stream_id: ev.stream_id.stored(),
            room_session_id: ev.room_session_id,
            stream_seq: ev.stream_seq,
            create_time_ms: ev.create_time_ms,
            recreate: ev.recreate == Some(1),
            user_id: ev.user_id.stored(),
            user_name: ev.user_name.stored(),
            title: ev.title.stored(),
            stream_alias: ev.stream_alias.stored(),
            stream_sid: ev.stream_sid.stored(),
            extra_info: ev.extra_info.stored(),
            codec: ev.stream_attr.as_ref().and_then(|a| a.codec),
            rtmp_url: ev.rtmp_url.stored(),
            hls_url: ev.hls_url.stored(),
            hdl_url: ev.hdl_url.stored(),
            pic_url: ev.pic_url.stored(),
        }
    }
}

/// The stored state of one stream (one `(room_id, stream_id)`).
///
/// JSON: `{"state":"live","version":{..},"stream":{..}}` or
/// `{"state":"closed","version":{..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StreamRecord {
    /// The stream is publishing.
    Live {
        /// The version of the `stream_create` that made it live.
        version: Version,
        /// What a list shows.
        stream: Box<LiveStream>,
    },
    /// A tombstone: the stream ended. Stored with a TTL of [`TOMBSTONE_TTL_SECONDS`].
    ///
    /// Its version is that of the `stream_close` that ended the stream or, when the stream
    /// was ended by its room's `room_close`, that of its last `stream_create`.
    Closed {
        /// The version of the callback that ended the stream.
        version: Version,
    },
}

impl StreamRecord {
    /// The version of the callback this record came from.
    pub fn version(&self) -> &Version {
        match self {
            StreamRecord::Live { version, .. } | StreamRecord::Closed { version } => version,
        }
    }

    /// The room session the record belongs to.
    pub fn room_session_id(&self) -> Id64 {
        self.version().room_session_id
    }

    /// The live stream, if the record is live.
    pub fn live(&self) -> Option<&LiveStream> {
        match self {
            StreamRecord::Live { stream, .. } => Some(stream),
            StreamRecord::Closed { .. } => None,
        }
    }

    /// Whether this is a tombstone left by a `room_close` rather than a `stream_close`.
    pub fn ended_by_room_close(&self) -> bool {
        matches!(self, StreamRecord::Closed { version } if version.kind == StreamEventKind::Create)
    }
}

fn newer_than_stored(version: &Version, current: Option<&StreamRecord>) -> bool {
    current.is_none_or(|c| version.is_newer_than(c.version()))
}

/// What a `stream_create` does to its stream's record.
///
/// `current` is the record under [`stream_key`]`(room_id, stream_id)`; `session` the one under
/// [`session_key`]`(room_id, room_session_id)`, present once that session's `room_close` was
/// applied (a record of another session or room is disregarded).
///
/// - The create is no newer than `current` (a duplicate, or stale): [`Write::Ignore`].
/// - Its room session is closed: the create arrived after its session's `room_close`, so
///   the stream is not live; a tombstone with the create's version is put, so that an older
///   session's late create cannot take the key either.
/// - Otherwise the stream is live: [`StreamRecord::Live`].
///
/// A re-publish (`recreate = 1`: the client published again a stream the server still had,
/// within 90 s) is, as ZEGO documents, a create ordered by `stream_seq` like any other: it
/// refreshes the live entry when it is newer and is ignored when it is stale (a retry that
/// arrives after the stream's close, for example).
pub fn apply_stream_create(
    current: Option<&StreamRecord>,
    session: Option<&SessionRecord>,
    ev: &StreamCreate,
) -> Write<StreamRecord> {
    let version = Version::of_create(ev);
    if !newer_than_stored(&version, current) {
        return Write::Ignore;
    }
    let session_closed =
        session.is_some_and(|s| s.room_id == ev.room_id && s.room_session_id == ev.room_session_id);
    if session_closed {
        Write::tombstone(StreamRecord::Closed { version })
    } else {
        Write::live(StreamRecord::Live {
            version,
            stream: Box::new(LiveStream::from_create(ev)),
        })
    }
}

/// What a `stream_close` does to its stream's record.
///
/// No newer than `current`: [`Write::Ignore`]. Otherwise a tombstone with the close's
/// version, also when there is no record yet: a close that arrives before its create keeps
/// the late create from making the stream live.
pub fn apply_stream_close(current: Option<&StreamRecord>, ev: &StreamClose) -> Write<StreamRecord> {
    let version = Version::of_close(ev);
    if newer_than_stored(&version, current) {
        Write::tombstone(StreamRecord::Closed { version })
    } else {
        Write::Ignore
    }
}

/// Whether a `room_close` ends this stored stream: it is live, in the same room and in the
/// same room session. A newer (or any other) session's stream is never ended.
pub fn room_close_ends(stream: &StreamRecord, ev: &RoomClose) -> bool {
    match stream {
        StreamRecord::Live { version, stream } => {
            stream.room_id == ev.room_id && version.room_session_id == ev.room_session_id
        }
        StreamRecord::Closed { .. } => false,
    }
}

/// What a `room_close` does to one stored stream of its room: a tombstone keeping the live
/// record's version when [`room_close_ends`] holds, [`Write::Ignore`] otherwise.
///
/// Keeping the version means a later `stream_close` of the same session still replaces the
/// tombstone, exactly as it would have replaced the live record.
pub fn apply_room_close_to_stream(stream: &StreamRecord, ev: &RoomClose) -> Write<StreamRecord> {
    if room_close_ends(stream, ev) {
        Write::tombstone(StreamRecord::Closed {
            version: *stream.version(),
        })
    } else {
        Write::Ignore
    }
}

// ---------------------------------------------------------------------------------------
// Room sessions

/// A closed room session (a tombstone, stored with a TTL of [`TOMBSTONE_TTL_SECONDS`]):
/// a `stream_create` of this session no longer makes a stream live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Room ID.
    pub room_id: String,
    /// The session that was closed; a decimal string in JSON.
    #[serde(with = "id64")]
    pub room_session_id: Id64,
    /// Server time at room close, Unix milliseconds.
    pub room_close_time: u64,
    /// Why the room closed, as ZEGO sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<u64>,
}

/// The session tombstone a `room_close` leaves.
pub fn session_tombstone(ev: &RoomClose) -> SessionRecord {
    SessionRecord {
        room_id: ev.room_id.stored(),
        room_session_id: ev.room_session_id,
        room_close_time: ev.room_close_time,
        close_reason: ev.close_reason,
    }
}

/// What a `room_close` does to its session's record (the one under
/// [`session_key`]`(room_id, room_session_id)`): put the session tombstone, unless the same
/// one (or one with a later `room_close_time`) is already stored.
///
/// Then end the session's streams: see [`room_close_ends`] and [`apply_room_close_to_stream`].
pub fn apply_room_close(current: Option<&SessionRecord>, ev: &RoomClose) -> Write<SessionRecord> {
    let record = session_tombstone(ev);
    let rank = |r: &SessionRecord| (r.room_close_time, r.close_reason);
    match current {
        Some(c)
            if c.room_id == record.room_id
                && c.room_session_id == record.room_session_id
                && rank(c) >= rank(&record) =>
        {
            Write::Ignore
        }
        _ => Write::tombstone(record),
    }
}

// ---------------------------------------------------------------------------------------
// Mix tasks

/// Which mix callback a [`MixVersion`] belongs to. A stop ranks above a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixEventKind {
    /// `mix_start`.
    Start,
    /// `mix_stop`.
    Stop,
}

/// The position of one mix callback in its task's history: `seq`, then kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MixVersion {
    /// The mixing request's `seq`.
    pub seq: u64,
    /// Start or stop.
    pub kind: MixEventKind,
}

/// A running mix task, as a list shows it: the fields of its newest `mix_start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMix {
    /// Mixing task id.
    pub task_id: String,
    /// `seq` of the start.
    pub seq: u64,
    /// Channel ID, the client's RoomID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// Publisher ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_id: Option<String>,
    /// The mixed output's RTMP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_url: Option<String>,
    /// The mixed output's stream name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_stream_alias: Option<String>,
    /// RTMP play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rtmp_urls: Vec<String>,
    /// HLS play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hls_urls: Vec<String>,
    /// HDL play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hdl_urls: Vec<String>,
    /// Stream name, the client's StreamID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_alias: Option<String>,
}

impl LiveMix {
    /// The summary of a `mix_start`.
    pub fn from_start(ev: &MixStart) -> LiveMix {
        LiveMix {
            task_id: ev.task_id.stored(),
            seq: ev.seq,
            channel_id: ev.channel_id.stored(),
            publish_id: ev.publish_id.stored(),
            mix_url: ev.mix_url.stored(),
            mix_stream_alias: ev.mix_stream_alias.stored(),
            rtmp_urls: ev.rtmp_urls.stored(),
            hls_urls: ev.hls_urls.stored(),
            hdl_urls: ev.hdl_urls.stored(),
            stream_alias: ev.stream_alias.stored(),
        }
    }
}

/// The stored state of one mix task.
///
/// JSON: `{"state":"live","version":{..},"mix":{..}}` or
/// `{"state":"stopped","version":{..},"task_id":".."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MixRecord {
    /// The task is mixing.
    Live {
        /// The version of the `mix_start`.
        version: MixVersion,
        /// What a list shows.
        mix: LiveMix,
    },
    /// A tombstone: the task stopped. Stored with a TTL of [`TOMBSTONE_TTL_SECONDS`].
    Stopped {
        /// The version of the `mix_stop`.
        version: MixVersion,
        /// Mixing task id.
        task_id: String,
    },
}

impl MixRecord {
    /// The version of the callback this record came from.
    pub fn version(&self) -> MixVersion {
        match self {
            MixRecord::Live { version, .. } | MixRecord::Stopped { version, .. } => *version,
        }
    }

    /// The running mix, if the task is live.
    pub fn live(&self) -> Option<&LiveMix> {
        match self {
            MixRecord::Live { mix, .. } => Some(mix),
            MixRecord::Stopped { .. } => None,
        }
    }
}

fn mix_newer(version: MixVersion, current: Option<&MixRecord>) -> bool {
    current.is_none_or(|c| version > c.version())
}

/// What a `mix_start` does to its task's record (under [`mix_key`]): no newer than `current`
/// (by `seq`, a stop ranking above a start at equal `seq`): [`Write::Ignore`]; otherwise
/// [`MixRecord::Live`].
pub fn apply_mix_start(current: Option<&MixRecord>, ev: &MixStart) -> Write<MixRecord> {
    let version = MixVersion {
        seq: ev.seq,
        kind: MixEventKind::Start,
    };
    if mix_newer(version, current) {
        Write::live(MixRecord::Live {
            version,
            mix: LiveMix::from_start(ev),
        })
    } else {
        Write::Ignore
    }
}

/// What a `mix_stop` does to its task's record: no newer than `current`: [`Write::Ignore`];
/// otherwise a [`MixRecord::Stopped`] tombstone, also when no start was seen yet.
pub fn apply_mix_stop(current: Option<&MixRecord>, ev: &MixStop) -> Write<MixRecord> {
    let version = MixVersion {
        seq: ev.seq,
        kind: MixEventKind::Stop,
    };
    if mix_newer(version, current) {
        Write::tombstone(MixRecord::Stopped {
            version,
            task_id: ev.task_id.stored(),
        })
    } else {
        Write::Ignore
    }
}

// ---------------------------------------------------------------------------------------
// The in-memory model

/// One record of a [`LiveList`]; JSON `{"stream":{..}}`, `{"session":{..}}` or `{"mix":{..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    /// Under a stream key.
    Stream(StreamRecord),
    /// Under a session key.
    Session(SessionRecord),
    /// Under a mix key.
    Mix(MixRecord),
}

/// A simulated store: every record under its key, as a KV namespace would hold them.
///
/// [`apply`](LiveList::apply) uses exactly the rules of this module, including the scan of a
/// room's stream prefix on `room_close`, so replaying callbacks into it shows what the stored
/// list becomes. Tombstones never expire here (the model has no clock).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveList {
    records: BTreeMap<String, Stored>,
}

impl Records for LiveList {
    fn get(&self, key: &str) -> Result<Option<Stored>, Error> {
        Ok(self.records.get(key).cloned())
    }

    fn scan(&self, prefix: &str) -> Result<Vec<(String, Stored)>, Error> {
        Ok(self
            .records
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// What a [`LiveList`] shows: its live streams and running mixes, each sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveView<'a> {
    /// Live streams.
    pub streams: Vec<&'a LiveStream>,
    /// Running mix tasks.
    pub mixes: Vec<&'a LiveMix>,
}

impl LiveList {
    /// An empty store.
    pub fn new() -> LiveList {
        LiveList::default()
    }

    /// Applies one callback and returns the keys it wrote (none for a duplicate, a stale
    /// callback or an event that does not concern the list).
    ///
    /// Fails only when a key would be longer than [`MAX_KEY_BYTES`]; nothing is written then.
    pub fn apply(&mut self, cb: &Callback) -> Result<Vec<String>, Error> {
        let writes = driver::decide_all(cb, self)?;
        Ok(writes
            .into_iter()
            .map(|write| {
                self.records.insert(write.key.clone(), write.record);
                write.key
            })
            .collect())
    }

    /// Every record, tombstones included, by key.
    pub fn records(&self) -> &BTreeMap<String, Stored> {
        &self.records
    }

    /// The record under a key.
    pub fn get(&self, key: &str) -> Option<&Stored> {
        self.records.get(key)
    }

    /// The live streams, sorted by key (room, then stream id).
    pub fn streams(&self) -> Vec<&LiveStream> {
        self.records
            .values()
            .filter_map(|r| match r {
                Stored::Stream(s) => s.live(),
                _ => None,
            })
            .collect()
    }

    /// The running mix tasks, sorted by key.
    pub fn mixes(&self) -> Vec<&LiveMix> {
        self.records
            .values()
            .filter_map(|r| match r {
                Stored::Mix(m) => m.live(),
                _ => None,
            })
            .collect()
    }

    /// The live streams and running mixes, ready to serialize.
    pub fn view(&self) -> LiveView<'_> {
        LiveView {
            streams: self.streams(),
            mixes: self.mixes(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Serde helpers

fn is_false(b: &bool) -> bool {
    !*b
}

/// `Id64` as a decimal string; read back from a string of digits or an integer, exactly.
mod id64 {
    use std::fmt;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    use crate::field::Id64;

    pub fn serialize<S: Serializer>(id: &Id64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&id.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Id64, D::Error> {
        d.deserialize_any(Id64Visitor)
    }

    struct Id64Visitor;

    impl Visitor<'_> for Id64Visitor {
        type Value = Id64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an unsigned 64-bit integer or a string of its decimal digits")
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Id64, E> {
            Ok(Id64(n))
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Id64, E> {
            u64::try_from(n)
                .map(Id64)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Id64, E> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::invalid_value(de::Unexpected::Str(s), &self));
            }
            s.parse()
                .map(Id64)
                .map_err(|_| E::invalid_value(de::Unexpected::Str(s), &self))
        }
    }
}

/// `Option<Codec>` as `{"cid": 0, "name": "H.264"}`; read back from its `cid`.
mod opt_codec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::field::Codec;

    pub fn serialize<S: Serializer>(codec: &Option<Codec>, s: S) -> Result<S::Ok, S::Error> {
        codec.serialize(s)
    }

    #[derive(Deserialize)]
    struct Repr {
        cid: u32,
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Codec>, D::Error> {
        Ok(Option::<Repr>::deserialize(d)?.map(|r| Codec::from_cid(r.cid)))
    }
}

impl fmt::Display for StreamEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StreamEventKind::Create => "stream_create",
            StreamEventKind::Close => "stream_close",
        })
    }
}

impl fmt::Display for MixEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MixEventKind::Start => "mix_start",
            MixEventKind::Stop => "mix_stop",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: u64 = 858012925204410401; // above 2^53

    fn cb(json: String) -> Callback<'static> {
        crate::parse(json.as_bytes(), None).unwrap().into_owned()
    }

    fn envelope(event: &str) -> String {
        format!(r#""event":"{event}","appid":"1","timestamp":"1","nonce":"n","signature":"s""#)
    }

    fn create(room: &str, session: u64, stream: &str, seq: u64, t: u64) -> Callback<'static> {
        cb(format!(
            r#"{{{},"room_id":"{room}","room_session_id":"{session}","stream_id":"{stream}",
                "stream_seq":"{seq}","create_time_ms":"{t}","stream_attr":"{{\"cid\":3}}",
                "rtmp_url":["rtmp://x/{stream}"]}}"#,
            envelope("stream_create")
        ))
    }

    fn recreate(room: &str, session: u64, stream: &str, seq: u64, t: u64) -> Callback<'static> {
        cb(format!(
            r#"{{{},"room_id":"{room}","room_session_id":"{session}","stream_id":"{stream}",
                "stream_seq":"{seq}","create_time_ms":"{t}","recreate":"1"}}"#,
            envelope("stream_create")
        ))
    }

    fn close(room: &str, session: u64, stream: &str, seq: u64, t: u64) -> Callback<'static> {
        cb(format!(
            r#"{{{},"room_id":"{room}","room_session_id":"{session}","stream_id":"{stream}",
                "stream_seq":"{seq}","destroy_timemillis":"{t}"}}"#,
            envelope("stream_close")
        ))
    }

    fn room_close(room: &str, session: u64, t: u64) -> Callback<'static> {
        cb(format!(
            r#"{{"event":"room_close","appid":1,"timestamp":1,"nonce":"n","signature":"s",
                "room_id":"{room}","room_session_id":{session},"close_reason":0,
                "room_close_time":"{t}"}}"#
        ))
    }

    fn mix_start(task: &str, seq: u64) -> Callback<'static> {
        cb(format!(
            r#"{{{},"task_id":"{task}","seq":"{seq}","mix_url":"rtmp://m/{seq}"}}"#,
            envelope("mix_start")
        ))
    }

    fn mix_stop(task: &str, seq: u64) -> Callback<'static> {
        cb(format!(
            r#"{{{},"task_id":"{task}","seq":"{seq}"}}"#,
            envelope("mix_stop")
        ))
    }

    fn run(cbs: &[&Callback]) -> LiveList {
        let mut list = LiveList::new();
        for cb in cbs {
            list.apply(cb).unwrap();
        }
        list
    }

    fn live(list: &LiveList) -> Vec<(String, String, u64, u64)> {
        list.streams()
            .into_iter()
            .map(|s| {
                (
                    s.room_id.clone(),
                    s.stream_id.clone(),
                    s.room_session_id.0,
                    s.stream_seq,
                )
            })
            .collect()
    }

    fn stream_record<'a>(list: &'a LiveList, room: &str, stream: &str) -> &'a StreamRecord {
        match list.get(&stream_key(room, stream).unwrap()) {
            Some(Stored::Stream(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn create_makes_a_stream_live_with_its_summary() {
        let list = run(&[&create("r", BIG, "a", 1, 100)]);
        let streams = list.streams();
        assert_eq!(streams.len(), 1);
        let s = streams[0];
        assert_eq!((s.room_session_id, s.codec), (Id64(BIG), Some(Codec::H265)));
        assert_eq!(s.rtmp_url, ["rtmp://x/a"]);
    }

    #[test]
    fn close_before_create_leaves_a_tombstone_and_the_late_create_is_ignored() {
        let (c, x) = (create("r", 1, "a", 1, 100), close("r", 1, "a", 2, 200));
        let Callback::StreamClose(ev) = &x else {
            unreachable!()
        };
        let write = apply_stream_close(None, ev);
        assert_eq!(
            write,
            Write::Put {
                record: StreamRecord::Closed {
                    version: Version::of_close(ev)
                },
                ttl_seconds: Some(TOMBSTONE_TTL_SECONDS),
            }
        );
        let Callback::StreamCreate(cev) = &c else {
            unreachable!()
        };
        assert!(apply_stream_create(write.record(), None, cev).is_ignore());
        assert_eq!(run(&[&x, &c]), run(&[&c, &x]));
        assert!(run(&[&x, &c]).streams().is_empty());
    }

    #[test]
    fn late_create_of_a_closed_session_is_not_live() {
        let (rc, c) = (room_close("r", 1, 300), create("r", 1, "a", 1, 100));
        let list = run(&[&rc, &c]);
        assert!(list.streams().is_empty());
        assert!(stream_record(&list, "r", "a").ended_by_room_close());
        // And in-order delivery leaves the very same records.
        assert_eq!(list, run(&[&c, &rc]));
    }

    #[test]
    fn late_create_of_a_closed_session_keeps_an_older_session_out() {
        // Session 1 (older) left stream "a" without a close; session 2 created it again and
        // was closed. Whatever the order, "a" is not live.
        let old = create("r", 1, "a", 5, 100);
        let new = create("r", 2, "a", 1, 500);
        let rc = room_close("r", 2, 900);
        let in_order = run(&[&old, &new, &rc]);
        assert!(in_order.streams().is_empty());
        let reversed = run(&[&rc, &new, &old]);
        assert!(reversed.streams().is_empty(), "{:?}", reversed.streams());
        assert_eq!(reversed, in_order);
        assert_eq!(run(&[&new, &rc, &old]), in_order);
    }

    #[test]
    fn newer_create_replaces_and_stale_create_is_ignored() {
        let (c1, c2) = (create("r", 1, "a", 1, 100), create("r", 1, "a", 3, 300));
        assert_eq!(live(&run(&[&c1, &c2])), [("r".into(), "a".into(), 1, 3)]);
        assert_eq!(live(&run(&[&c2, &c1])), [("r".into(), "a".into(), 1, 3)]);
    }

    #[test]
    fn close_with_an_older_seq_does_not_end_a_newer_create() {
        let (x, c) = (close("r", 1, "a", 2, 200), create("r", 1, "a", 3, 300));
        assert_eq!(live(&run(&[&c, &x])).len(), 1);
        assert_eq!(live(&run(&[&x, &c])).len(), 1);
    }

    #[test]
    fn equal_seq_close_ranks_above_create() {
        let (c, x) = (create("r", 1, "a", 4, 100), close("r", 1, "a", 4, 100));
        assert!(run(&[&c, &x]).streams().is_empty());
        assert!(run(&[&x, &c]).streams().is_empty());
    }

    #[test]
    fn seq_restart_in_a_new_session_is_newer() {
        // Session 7 reached seq 9; session 3 (a smaller id, but later) restarts at 1.
        let old_create = create("r", 7, "a", 9, 100);
        let old_close = close("r", 7, "a", 10, 150);
        let new_create = create("r", 3, "a", 1, 200);
        for order in [
            [&old_create, &old_close, &new_create],
            [&new_create, &old_close, &old_create],
            [&old_close, &new_create, &old_create],
        ] {
            assert_eq!(live(&run(&order)), [("r".into(), "a".into(), 3, 1)]);
        }
    }

    #[test]
    fn equal_time_across_sessions_is_broken_by_session_id() {
        let a = create("r", 1, "a", 9, 100);
        let b = create("r", 2, "a", 1, 100);
        assert_eq!(live(&run(&[&a, &b]))[0].2, 2);
        assert_eq!(live(&run(&[&b, &a]))[0].2, 2);
        let va = Version::of_create(match &a {
            Callback::StreamCreate(e) => e,
            _ => unreachable!(),
        });
        assert_eq!(va.compare(&va), Ordering::Equal);
    }

    #[test]
    fn room_close_of_an_old_session_does_not_touch_the_new_session() {
        let new = create("r", 2, "a", 1, 500);
        let old_rc = room_close("r", 1, 400);
        for order in [[&new, &old_rc], [&old_rc, &new]] {
            assert_eq!(live(&run(&order)), [("r".into(), "a".into(), 2, 1)]);
        }
    }

    #[test]
    fn room_close_ends_only_its_room_and_session() {
        let list = run(&[
            &create("r", 1, "a", 1, 100),
            &create("r", 1, "b", 2, 110),
            &create("r:x", 1, "a", 1, 100),
            &create("rr", 1, "a", 1, 100),
            &room_close("r", 1, 300),
        ]);
        let rooms: Vec<_> = list.streams().iter().map(|s| s.room_id.clone()).collect();
        assert_eq!(rooms, ["r:x", "rr"]);
        assert!(stream_record(&list, "r", "b").ended_by_room_close());
    }

    #[test]
    fn close_after_room_close_replaces_the_room_close_tombstone() {
        let c = create("r", 1, "a", 1, 100);
        let x = close("r", 1, "a", 2, 200);
        let rc = room_close("r", 1, 300);
        let in_order = run(&[&c, &x, &rc]);
        for order in [[&c, &rc, &x], [&rc, &x, &c], [&x, &rc, &c], [&rc, &c, &x]] {
            assert_eq!(run(&order), in_order);
        }
        assert!(!stream_record(&in_order, "r", "a").ended_by_room_close());
    }

    #[test]
    fn duplicate_is_idempotent() {
        let all = [
            create("r", 1, "a", 1, 100),
            recreate("r", 1, "a", 2, 150),
            close("r", 1, "a", 3, 200),
            room_close("r", 1, 300),
            mix_start("t", 1),
            mix_stop("t", 2),
        ];
        let mut once = LiveList::new();
        let mut twice = LiveList::new();
        for cb in &all {
            assert!(!once.apply(cb).unwrap().is_empty() || cb.event() == "room_close");
            twice.apply(cb).unwrap();
            assert_eq!(twice.apply(cb).unwrap(), Vec::<String>::new(), "{cb:?}");
        }
        assert_eq!(once, twice);
    }

    #[test]
    fn recreate_refreshes_when_newer_and_is_ignored_when_stale() {
        let c = create("r", 1, "a", 1, 100);
        let re = recreate("r", 1, "a", 2, 100);
        let list = run(&[&c, &re]);
        assert_eq!(list.streams()[0].stream_seq, 2);
        assert!(list.streams()[0].recreate);
        // A recreate older than the close that followed it stays ignored.
        let x = close("r", 1, "a", 3, 200);
        assert!(run(&[&c, &x, &re]).streams().is_empty());
    }

    #[test]
    fn session_record_of_another_session_is_disregarded() {
        let Callback::StreamCreate(ev) = create("r", 2, "a", 1, 100) else {
            unreachable!()
        };
        let Callback::RoomClose(rc) = room_close("r", 1, 50) else {
            unreachable!()
        };
        let other = session_tombstone(&rc);
        assert!(apply_stream_create(None, Some(&other), &ev)
            .record()
            .is_some_and(|r| r.live().is_some()));
    }

    #[test]
    fn room_close_writes_its_session_once() {
        let Callback::RoomClose(rc) = room_close("r", BIG, 50) else {
            unreachable!()
        };
        let w = apply_room_close(None, &rc);
        assert_eq!(w.record(), Some(&session_tombstone(&rc)));
        assert!(apply_room_close(w.record(), &rc).is_ignore());
    }

    #[test]
    fn mix_order() {
        let (s1, x2, s3) = (mix_start("t", 1), mix_stop("t", 2), mix_start("t", 3));
        assert!(run(&[&x2, &s1]).mixes().is_empty());
        assert!(run(&[&s1, &x2]).mixes().is_empty());
        for order in [[&s1, &x2, &s3], [&s3, &x2, &s1], [&x2, &s3, &s1]] {
            let list = run(&order);
            assert_eq!(list.mixes().len(), 1);
            assert_eq!(list.mixes()[0].seq, 3);
        }
        let (s, x) = (mix_start("t", 5), mix_stop("t", 5));
        assert!(run(&[&s, &x]).mixes().is_empty());
        assert!(run(&[&x, &s]).mixes().is_empty());
    }

    #[test]
    fn mix_stop_leaves_a_tombstone() {
        let Callback::MixStop(ev) = mix_stop("t", 2) else {
            unreachable!()
        };
        assert_eq!(
            apply_mix_stop(None, &ev),
            Write::Put {
                record: MixRecord::Stopped {
                    version: MixVersion {
                        seq: 2,
                        kind: MixEventKind::Stop
                    },
                    task_id: "t".into()
                },
                ttl_seconds: Some(TOMBSTONE_TTL_SECONDS),
            }
        );
    }

    #[test]
    fn key_escaping() {
        assert_eq!(stream_key("room", "a").unwrap(), "s:room:a");
        assert_eq!(stream_key("a:b", "c").unwrap(), "s:a%3Ab:c");
        assert_eq!(stream_key("a", "b:c").unwrap(), "s:a:b%3Ac");
        assert_ne!(
            stream_key("a:b", "c").unwrap(),
            stream_key("a", "b:c").unwrap()
        );
        // A literal "%3A" is not confused with an escaped ":".
        assert_eq!(stream_key("a%3Ab", "c").unwrap(), "s:a%253Ab:c");
        assert_eq!(stream_key("é\n", "").unwrap(), "s:é%0A:");
        assert_eq!(
            session_key("r", Id64(BIG)).unwrap(),
            "r:r:858012925204410401"
        );
        assert_eq!(mix_key("1:t").unwrap(), "m:1%3At");
        // A room's prefix holds exactly that room's streams.
        let prefix = stream_room_prefix("a").unwrap();
        assert_eq!(prefix, "s:a:");
        for other in [
            stream_key("a:b", "c"),
            stream_key("ab", "c"),
            stream_key("a%", "c"),
        ] {
            assert!(!other.unwrap().starts_with(&prefix));
        }
        assert!(stream_key("a", "x:y").unwrap().starts_with(&prefix));
    }

    #[test]
    fn key_too_long_is_an_error_naming_the_field() {
        let long = "x".repeat(600);
        assert_eq!(stream_key(&long, "a").unwrap_err().field(), Some("room_id"));
        assert_eq!(
            stream_key("r", &long).unwrap_err().field(),
            Some("stream_id")
        );
        assert_eq!(mix_key(&long).unwrap_err().field(), Some("task_id"));
        assert_eq!(
            session_key(&long, Id64(1)).unwrap_err().field(),
            Some("room_id")
        );
        // Escaping counts: 200 colons are 600 bytes once encoded.
        assert!(mix_key(&":".repeat(200)).is_err());
        assert_eq!(mix_key(&"x".repeat(510)).unwrap().len(), 512);
        assert!(mix_key(&"x".repeat(511)).is_err());
        // And the model refuses the callback without writing anything.
        let mut list = LiveList::new();
        assert!(list.apply(&create("r", 1, &long, 1, 1)).is_err());
        assert!(list.records().is_empty());
    }

    #[test]
    fn records_round_trip_through_json_without_losing_a_digit() {
        let list = run(&[
            &create("r", BIG, "a", 1, 100),
            &close("r", BIG, "b", 2, 100),
            &room_close("q", u64::MAX, 5),
            &mix_start("t", 1),
            &mix_stop("u", 2),
        ]);
        let json = serde_json::to_string(&list).unwrap();
        assert!(
            json.contains(r#""room_session_id":"858012925204410401""#),
            "{json}"
        );
        assert!(
            json.contains(r#""codec":{"cid":3,"name":"H.265"}"#),
            "{json}"
        );
        let back: LiveList = serde_json::from_str(&json).unwrap();
        assert_eq!(back, list);
    }

    #[test]
    fn id64_reads_a_string_or_an_integer_exactly() {
        let read = |json: &str| {
            serde_json::from_str::<SessionRecord>(&format!(
                r#"{{"room_id":"r","room_session_id":{json},"room_close_time":1}}"#
            ))
        };
        assert_eq!(
            read(r#""858012925204410401""#).unwrap().room_session_id,
            Id64(BIG)
        );
        assert_eq!(
            read("858012925204410401").unwrap().room_session_id,
            Id64(BIG)
        );
        assert_eq!(
            read("18446744073709551615").unwrap().room_session_id,
            Id64(u64::MAX)
        );
        for bad in [
            r#""""#,
            r#""-1""#,
            r#"" 1""#,
            r#""1.0""#,
            r#""abc""#,
            "-1",
            "1.0",
            "1e3",
            "18446744073709551616",
            r#""18446744073709551616""#,
            "null",
            "true",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn other_events_change_nothing() {
        let mut list = LiveList::new();
        let login = cb(format!(
            r#"{{{},"room_id":"r","room_seq":"1","user_account":"u"}}"#,
            envelope("room_login")
        ));
        assert!(list.apply(&login).unwrap().is_empty());
        assert!(list.records().is_empty());
    }
}
