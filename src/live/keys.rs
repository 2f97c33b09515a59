//! The live list's keys: how a callback's ids become the key of its record, how a key gives
//! its ids back, and which keys readers list.
//!
//! | state                 | identity                         | key                              |
//! |-----------------------|----------------------------------|----------------------------------|
//! | a stream              | `(room_id, stream_id)`           | `s:<room_id>:<stream_id>`        |
//! | a closed room session | `(room_id, room_session_id)`     | `r:<room_id>:<room_session_id>`  |
//! | a mix task            | `task_id`                        | `m:<task_id>`                    |
//!
//! It knows nothing of where keys are stored: a store adds its own prefix (the Worker puts
//! the app after the first `:` in KV).

use crate::field::Id64;
use crate::Error;

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

/// Which listed record a key names, with its ids decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyIds {
    /// `s:<room_id>:<stream_id>`.
    Stream {
        /// The room.
        room_id: String,
        /// The stream.
        stream_id: String,
    },
    /// `m:<task_id>`.
    Mix {
        /// The task.
        task_id: String,
    },
    /// A key that is not listed (a room session's).
    Other,
}

/// Decodes the ids of a key (the inverse of [`stream_key`] and [`mix_key`]).
pub fn key_ids(key: &str) -> KeyIds {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    if let Some(rest) = key.strip_prefix(STREAM_PREFIX) {
        if let Some((room, stream)) = rest.split_once(':') {
            return KeyIds::Stream {
                room_id: decode(room),
                stream_id: decode(stream),
            };
        }
    }
    if let Some(task) = key.strip_prefix(MIX_PREFIX) {
        return KeyIds::Mix {
            task_id: decode(task),
        };
    }
    KeyIds::Other
}

/// Whether a key is one that readers list: streams and mixes. A closed room session's
/// tombstone is not listed; it only keeps late creates of its session out.
pub fn is_listed(key: &str) -> bool {
    key.starts_with(STREAM_PREFIX) || key.starts_with(MIX_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_decoded() {
        assert_eq!(
            key_ids(&stream_key("房间:1", "a%b").unwrap()),
            KeyIds::Stream {
                room_id: "房间:1".into(),
                stream_id: "a%b".into()
            }
        );
        assert_eq!(
            key_ids("m:t%3A2"),
            KeyIds::Mix {
                task_id: "t:2".into()
            }
        );
        assert_eq!(key_ids("r:room:9"), KeyIds::Other);
        assert!(is_listed("s:r:a") && is_listed("m:t") && !is_listed("r:r:9"));
    }
}
