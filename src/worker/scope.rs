//! Who decides what: the Durable Object that owns a callback's records, the shard of the
//! replay guard that owns its nonce, and the KV key a record is listed under. Pure functions,
//! tested natively.
//!
//! | object          | name                        | owns                                         |
//! |-----------------|-----------------------------|----------------------------------------------|
//! | `Room`          | `<appid>:room:<room_id>`    | the room's streams and closed room sessions  |
//! | `Room`          | `<appid>:mix:<task_id>`     | one mix task (a task belongs to no room)     |
//! | `Nonces`        | `<guard>:nonces:<shard>`    | the claims whose key falls in the shard      |
//! | `Hub`           | `<appid>:hub`               | a copy of the app's records, for subscribers |
//!
//! Names are collision-free by construction: an appid is canonical digits (every route
//! refuses any other text), a guard is an appid or `*` (a secret that signs for several
//! apps), and a room or task id is percent-encoded ([`encode_component`]: no `:` is left in
//! it). In KV a record of the live list sits under its [`crate::live`] key with the app after
//! the prefix: `s:<appid>:<room_id>:<stream_id>`, `m:<appid>:<task_id>`.

use sha1::{Digest, Sha1};

use super::config::Guard;
use crate::live::{encode_component, MAX_KEY_BYTES, MIX_PREFIX, STREAM_PREFIX};
use crate::value::Fields;
use crate::{Callback, Error};

/// How many `Nonces` objects share a guard's claims.
pub const NONCE_SHARDS: u8 = 16;

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

    /// The name of the scope's object in `app` (a canonical appid).
    pub fn object_name(&self, app: &str) -> String {
        match self {
            Scope::Room(room) => format!("{app}:room:{}", encode_component(room)),
            Scope::Mix(task) => format!("{app}:mix:{}", encode_component(task)),
        }
    }
}

/// The name of an app's `Hub` object.
pub fn hub_name(app: &str) -> String {
    format!("{app}:hub")
}

/// The name of the `Nonces` object that owns a claim ([`crate::replay::claim_key`]) in a
/// guard: shards by the key's SHA-1, so that a sender cannot pick the shard by picking a
/// room.
pub fn nonces_name(guard: &Guard, key: &str) -> String {
    let first = Sha1::digest(key.as_bytes()).iter().next().copied();
    let shard = first.unwrap_or(0) % NONCE_SHARDS;
    let scope = match guard {
        Guard::App(app) => app.as_str(),
        Guard::Shared => "*",
    };
    format!("{scope}:nonces:{shard}")
}

/// The app a callback names, canonical ([`canonical_app`]); `None` when the body has no
/// `appid` (nor `AppId`). Any other text is `invalid_field`: objects and keys are named by
/// the appid, and only digits keep those names apart.
pub fn app_of(fields: &Fields<'_>) -> Result<Option<String>, Error> {
    let Some((name, value)) = ["appid", "AppId"]
        .into_iter()
        .find_map(|name| fields.get(name).map(|v| (name, v)))
    else {
        return Ok(None);
    };
    canonical_app(value.as_text().unwrap_or_default())
        .map(Some)
        .map_err(|e| match e {
            Error::InvalidField { reason, .. } => Error::invalid(name, reason),
            other => other,
        })
}

/// An appid in canonical form: its digits without leading zeros (`"01"`, `1` and `" 1 "`
/// are one app). Anything else — a sign, a fraction, a separator, a number past `u32`
/// (ZEGO's appids are 32-bit) — is `invalid_field`.
pub fn canonical_app(text: &str) -> Result<String, Error> {
    let text = text.trim();
    match text.parse::<u32>() {
        Ok(n) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(n.to_string()),
        _ => Err(Error::invalid(
            "appid",
            format!("expected the app's id, digits up to {}", u32::MAX),
        )),
    }
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
        assert_eq!(scope.object_name("7"), "7:room:r%3A1");
        assert_eq!(Scope::Mix("t:x".into()).object_name("7"), "7:mix:t%3Ax");
        assert_eq!(hub_name("7"), "7:hub");
    }

    #[test]
    fn no_room_or_app_text_can_make_two_object_names_one() {
        // App 1's room `a:room:b` and an app called `1:room:a`'s room `b` once shared
        // `1:room:a:room:b`: such an app is refused now, and the room id is encoded.
        assert!(canonical_app("1:room:a").is_err());
        let names = [
            Scope::Room("a:room:b".into()).object_name("1"),
            Scope::Room("b".into()).object_name("1"),
            Scope::Room("a".into()).object_name("1"),
            Scope::Mix("a:room:b".into()).object_name("1"),
            Scope::Room("%3A".into()).object_name("1"),
            Scope::Room(":".into()).object_name("1"),
            Scope::Room("".into()).object_name("1"),
            Scope::Room("1".into()).object_name("11"),
            Scope::Room("11".into()).object_name("1"),
        ];
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn claims_shard_by_digest_within_the_guard() {
        let app = Guard::App("1".into());
        let a = nonces_name(&app, "1470820198:350176");
        assert!(a.starts_with("1:nonces:"));
        let shard: u8 = a.rsplit(':').next().unwrap().parse().unwrap();
        assert!(shard < NONCE_SHARDS);
        assert_eq!(a, nonces_name(&app, "1470820198:350176"));
        let shards: std::collections::BTreeSet<String> = (0..200)
            .map(|i| nonces_name(&app, &i.to_string()))
            .collect();
        assert_eq!(shards.len(), usize::from(NONCE_SHARDS));
        // A shared secret's claims are one guard whatever app the body names.
        assert!(nonces_name(&Guard::Shared, "1:n").starts_with("*:nonces:"));
    }

    #[test]
    fn appid_is_canonical_whatever_its_form() {
        for body in [r#"{"appid":"01"}"#, r#"{"appid":1}"#, r#"{"AppId":" 1 "}"#] {
            let fields = body::decode(body.as_bytes(), None).unwrap();
            assert_eq!(app_of(&fields).unwrap().as_deref(), Some("1"), "{body}");
        }
        let fields = body::decode(br#"{"event":"x"}"#, None).unwrap();
        assert_eq!(app_of(&fields).unwrap(), None);
        assert_eq!(canonical_app("000").unwrap(), "0");
        assert_eq!(canonical_app("4294967295").unwrap(), "4294967295");
        for bad in [
            "a1",
            "1.0",
            "1:room:a",
            "-1",
            "+1",
            "",
            "1 2",
            "4294967296",
            "１",
        ] {
            let e = canonical_app(bad).unwrap_err();
            assert_eq!(
                (e.code(), e.field()),
                ("invalid_field", Some("appid")),
                "{bad}"
            );
        }
        let fields = body::decode(br#"{"AppId":"x"}"#, None).unwrap();
        assert_eq!(app_of(&fields).unwrap_err().field(), Some("AppId"));
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
}
