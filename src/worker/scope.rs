//! Who decides what: the Durable Object that owns a callback's records, the shard of the
//! replay guard that owns its nonce, and the KV key a record is listed under. Pure functions,
//! tested natively.
//!
//! | object          | name                        | owns                                         |
//! |-----------------|-----------------------------|----------------------------------------------|
//! | `Room`          | `<appid>:room:<room_id>`    | the room's streams and closed room sessions  |
//! | `Room`          | `<appid>:mix:<task_id>`     | one mix task (a task belongs to no room)     |
//! | `Nonces`        | `<appid>:nonces:<shard>`    | the nonces whose digest falls in the shard   |
//! | `Hub`           | `<appid>:hub`               | a copy of the app's records, for subscribers |
//!
//! An appid is digits, so no room or task id can make two names collide. In KV a record of
//! the live list sits under its [`crate::live`] key with the app after the prefix:
//! `s:<appid>:<room_id>:<stream_id>`, `m:<appid>:<task_id>`.

use sha1::{Digest, Sha1};

use crate::live::{MAX_KEY_BYTES, MIX_PREFIX, STREAM_PREFIX};
use crate::value::Fields;
use crate::{Callback, Error};

/// How many `Nonces` objects share an app's nonces.
pub const NONCE_SHARDS: u8 = 16;

/// The longest nonce the replay guard stores, in bytes.
pub const MAX_NONCE_BYTES: usize = 512;

/// The part of an app's state one `Room` object owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A room: its streams and its closed sessions.
    Room(String),
    /// A mix task.
    Mix(String),
}

impl Scope {
    /// The scope whose object decides `cb`; `None` for events that do not concern the list.
    pub fn of(cb: &Callback) -> Option<Scope> {
        match cb {
            Callback::StreamCreate(ev) => Some(Scope::Room(ev.room_id.to_string())),
            Callback::StreamClose(ev) => Some(Scope::Room(ev.room_id.to_string())),
            Callback::RoomClose(ev) => Some(Scope::Room(ev.room_id.to_string())),
            Callback::MixStart(ev) => Some(Scope::Mix(ev.task_id.to_string())),
            Callback::MixStop(ev) => Some(Scope::Mix(ev.task_id.to_string())),
            _ => None,
        }
    }

    /// The query parameters that tell the scope's object who it is.
    pub fn params<'a>(&'a self, app: &'a str) -> [(&'static str, &'a str); 3] {
        let (kind, id) = match self {
            Scope::Room(room) => ("room", room.as_str()),
            Scope::Mix(task) => ("mix", task.as_str()),
        };
        [("app", app), ("kind", kind), ("id", id)]
    }

    /// The name of the scope's object in `app`.
    pub fn object_name(&self, app: &str) -> String {
        match self {
            Scope::Room(room) => format!("{app}:room:{room}"),
            Scope::Mix(task) => format!("{app}:mix:{task}"),
        }
    }
}

/// The name of an app's `Hub` object.
pub fn hub_name(app: &str) -> String {
    format!("{app}:hub")
}

/// The name of the `Nonces` object that owns `nonce` in `app`: shards by the nonce's SHA-1,
/// so that a sender cannot pick the shard by picking a room.
pub fn nonces_name(app: &str, nonce: &str) -> String {
    let first = Sha1::digest(nonce.as_bytes()).iter().next().copied();
    let shard = first.unwrap_or(0) % NONCE_SHARDS;
    format!("{app}:nonces:{shard}")
}

/// A nonce the guard can store: at most [`MAX_NONCE_BYTES`].
pub fn check_nonce(nonce: &str) -> Result<(), Error> {
    if nonce.len() > MAX_NONCE_BYTES {
        return Err(Error::invalid(
            "nonce",
            format!(
                "{} bytes; the longest accepted is {MAX_NONCE_BYTES}",
                nonce.len()
            ),
        ));
    }
    Ok(())
}

/// The app a callback names, as the key its secrets and objects go by: an `appid` of digits
/// in canonical form (`"01"`, `1` and `"1"` are one app), other text as it is; `None` when
/// the body has no `appid` (nor `AppId`).
pub fn app_of(fields: &Fields<'_>) -> Option<String> {
    let value = ["appid", "AppId"]
        .into_iter()
        .find_map(|name| fields.get(name))?;
    Some(canonical_app(value.as_text().unwrap_or_default()))
}

/// `text` trimmed, and without leading zeros when it is all digits.
pub fn canonical_app(text: &str) -> String {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let digits = text.trim_start_matches('0');
        return if digits.is_empty() { "0" } else { digits }.to_owned();
    }
    text.to_owned()
}

/// The KV key of a live-list key in `app`: the app goes right after the prefix.
pub fn kv_key(app: &str, key: &str) -> Result<String, Error> {
    let (prefix, rest) = key.split_at(key.find(':').map_or(0, |i| i + 1));
    let kv = format!("{prefix}{app}:{rest}");
    if kv.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(
            "room_id",
            format!(
                "the storage key would be {} bytes; the limit is {MAX_KEY_BYTES}",
                kv.len()
            ),
        ));
    }
    Ok(kv)
}

/// The KV prefix of an app's streams (of one room, when given) or of every app's.
pub fn kv_stream_prefix(app: Option<&str>, room: Option<&str>) -> Result<String, Error> {
    Ok(match (app, room) {
        (None, _) => STREAM_PREFIX.to_owned(),
        (Some(app), None) => format!("{STREAM_PREFIX}{app}:"),
        (Some(app), Some(room)) => kv_key(app, &crate::live::stream_room_prefix(room)?)?,
    })
}

/// The KV prefix of an app's mix tasks, or of every app's.
pub fn kv_mix_prefix(app: Option<&str>) -> String {
    match app {
        None => MIX_PREFIX.to_owned(),
        Some(app) => format!("{MIX_PREFIX}{app}:"),
    }
}

/// The app of a KV key written by [`kv_key`].
pub fn app_of_kv_key(kv: &str) -> Option<&str> {
    kv.split(':').nth(1)
}

/// Which listed record a live-list key names, with its ids decoded.
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

/// Decodes the ids of a live-list key (its components are percent-encoded).
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

/// Whether a live-list key is one that readers list (streams and mixes, not sessions).
pub fn is_listed(key: &str) -> bool {
    key.starts_with(STREAM_PREFIX) || key.starts_with(MIX_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body;
    use crate::live;

    #[test]
    fn objects_are_named_by_app_and_scope() {
        let cb = crate::parse(
            br#"{"event":"stream_close","appid":"1","timestamp":"1","nonce":"n","signature":"s",
                "room_id":"r:1","room_session_id":"9","stream_id":"a","stream_seq":"2",
                "type":"0","destroy_timemillis":"5"}"#,
            None,
        )
        .unwrap();
        let scope = Scope::of(&cb).unwrap();
        assert_eq!(scope, Scope::Room("r:1".into()));
        assert_eq!(scope.object_name("7"), "7:room:r:1");
        assert_eq!(Scope::Mix("t".into()).object_name("7"), "7:mix:t");
        assert_eq!(hub_name("7"), "7:hub");
    }

    #[test]
    fn nonces_shard_by_digest_within_the_app() {
        let a = nonces_name("1", "350176");
        assert!(a.starts_with("1:nonces:"));
        let shard: u8 = a.rsplit(':').next().unwrap().parse().unwrap();
        assert!(shard < NONCE_SHARDS);
        assert_eq!(a, nonces_name("1", "350176"));
        let shards: std::collections::BTreeSet<String> =
            (0..200).map(|i| nonces_name("1", &i.to_string())).collect();
        assert_eq!(shards.len(), usize::from(NONCE_SHARDS));
    }

    #[test]
    fn appid_is_canonical_whatever_its_form() {
        for body in [r#"{"appid":"01"}"#, r#"{"appid":1}"#, r#"{"AppId":" 1 "}"#] {
            let fields = body::decode(body.as_bytes(), None).unwrap();
            assert_eq!(app_of(&fields).as_deref(), Some("1"), "{body}");
        }
        let fields = body::decode(br#"{"event":"x"}"#, None).unwrap();
        assert_eq!(app_of(&fields), None);
        assert_eq!(canonical_app("000"), "0");
        assert_eq!(canonical_app("a1"), "a1");
    }

    #[test]
    fn kv_keys_carry_the_app_after_the_prefix() {
        let key = live::stream_key("r:1", "a").unwrap();
        let kv = kv_key("42", &key).unwrap();
        assert_eq!(kv, "s:42:r%3A1:a");
        assert_eq!(app_of_kv_key(&kv), Some("42"));
        assert_eq!(kv_key("42", "m:t").unwrap(), "m:42:t");
        assert_eq!(
            kv_stream_prefix(Some("42"), Some("r:1")).unwrap(),
            "s:42:r%3A1:"
        );
        assert!(kv.starts_with(&kv_stream_prefix(Some("42"), None).unwrap()));
        assert_eq!(kv_stream_prefix(None, Some("r")).unwrap(), "s:");
        assert_eq!(kv_mix_prefix(Some("42")), "m:42:");
        let long = live::stream_key("r", &"x".repeat(506)).unwrap();
        assert_eq!(kv_key("4", &long).unwrap().len(), MAX_KEY_BYTES);
        assert_eq!(kv_key("42", &long).unwrap_err().code(), "invalid_field");
    }

    #[test]
    fn key_ids_are_decoded() {
        assert_eq!(
            key_ids(&live::stream_key("房间:1", "a%b").unwrap()),
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

    #[test]
    fn nonces_are_bounded() {
        assert!(check_nonce(&"n".repeat(MAX_NONCE_BYTES)).is_ok());
        assert_eq!(
            check_nonce(&"n".repeat(MAX_NONCE_BYTES + 1))
                .unwrap_err()
                .field(),
            Some("nonce")
        );
    }
}
