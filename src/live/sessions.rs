//! Room sessions: the tombstone a `room_close` leaves, so that a late `stream_create` of the
//! closed session is not made live.

use serde::{Deserialize, Serialize};

use super::stored::id64;
#[cfg(doc)]
use super::{apply_room_close_to_stream, room_close_ends, session_key, TOMBSTONE_TTL_SECONDS};
use super::{ToRecord, Write};
use crate::event::RoomClose;
use crate::field::Id64;

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
