//! The names of the Durable Objects, and the appid they are named by. Pure functions, tested
//! natively.
//!
//! | object          | name                        | owns                                         |
//! |-----------------|-----------------------------|----------------------------------------------|
//! | `Room`          | `<appid>:room:<room_id>`    | the room's streams and closed room sessions  |
//! | `Room`          | `<appid>:mix:<task_id>`     | one mix task (a task belongs to no room)     |
//! | `Nonces`        | `<guard>:nonces:<shard>`    | the claims whose key falls in the shard      |
//! | `Hub`           | `<appid>:hub:<shard>`       | a copy of the records of the rooms and tasks |
//! |                 |                             | whose object name falls in the shard         |
//!
//! Which object owns a callback is the live list's to say ([`live::Scope`], from
//! [`live::plan`]); this module only names it. Names are collision-free by construction: an
//! appid is canonical digits ([`canonical_app`]; every route refuses any other text), a
//! guard is an appid or `*` ([`super::guard::Guard`]), and a room or task id is
//! percent-encoded ([`live::encode_component`]: no `:` is left in it).

use sha1::{Digest, Sha1};

use crate::live::{self, Scope};
use crate::value::Fields;
use crate::Error;

/// The name of the object that owns `scope` in `app` (a canonical appid).
pub fn object_name(app: &str, scope: &Scope) -> String {
    Identity::of(app, scope).object_name()
}

/// What a `Room` object is: its app, kind and id. Told with each request (as query
/// parameters), remembered from the first callback it applies, and compared every time after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The app.
    pub app: String,
    /// `room` or `mix`.
    pub kind: String,
    /// The room or task id.
    pub id: String,
}

impl Identity {
    /// The identity of the object that owns `scope` in `app`.
    pub fn of(app: &str, scope: &Scope) -> Identity {
        let (kind, id) = match scope {
            Scope::Room(room) => ("room", room),
            Scope::Mix(task) => ("mix", task),
        };
        Identity {
            app: app.to_owned(),
            kind: kind.to_owned(),
            id: id.clone(),
        }
    }

    /// The name of the object with this identity: `<app>:<kind>:<id percent-encoded>`.
    pub fn object_name(&self) -> String {
        format!(
            "{}:{}:{}",
            self.app,
            self.kind,
            live::encode_component(&self.id)
        )
    }

    /// The query parameters that tell an object its identity.
    pub fn params(&self) -> [(&'static str, &str); 3] {
        [("app", &self.app), ("kind", &self.kind), ("id", &self.id)]
    }

    /// The identity a request's query parameters name, if they name one.
    pub fn from_params(pairs: &[(String, String)]) -> Option<Identity> {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        Some(Identity {
            app: get("app")?,
            kind: get("kind")?,
            id: get("id")?,
        })
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "app {}, {} `{}`", self.app, self.kind, self.id)
    }
}

/// A stable shard of `text` among `shards` (`1..=256`): SHA-1's first byte, so that the
/// same text always falls in the same shard and texts spread evenly.
pub fn shard_of(text: &str, shards: u16) -> u16 {
    let first = Sha1::digest(text.as_bytes()).first().copied().unwrap_or(0);
    u16::from(first) % shards.max(1)
}

/// How many `Hub` objects share an app's subscribers' records. Each room or mix task sends
/// its changes to one of them (by its object's name, so a room's changes stay in order), and
/// an app-wide subscriber gathers all of them ([`super::gather`]): no single object carries
/// every change of an app. Fixed: a room that moved to another shard would leave its records
/// behind in the old one.
pub const HUB_SHARDS: u16 = 16;

/// The name of one of an app's `Hub` shards.
pub fn hub_name(app: &str, shard: u16) -> String {
    format!("{app}:hub:{shard}")
}

/// The name of the `Hub` shard that takes the changes of the object that owns `scope`.
pub fn hub_of(app: &str, scope_object: &str) -> String {
    hub_name(app, shard_of(scope_object, HUB_SHARDS))
}

/// The app a callback names, canonical ([`canonical_app`]); `None` when the body has no
/// `appid` (nor `AppId`). Any other text is `invalid_field`: objects and keys are named by
/// the appid, and only digits keep those names apart.
pub fn app_of(fields: &Fields<'_>) -> Result<Option<String>, Error> {
    let Some((name, value)) = crate::event::envelope_field(fields, "appid") else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body;

    #[test]
    fn objects_are_named_by_app_and_scope() {
        let cb = crate::parse(
            br#"{"event":"stream_close","appid":"1","timestamp":"1","nonce":"n","signature":"s",
                "room_id":"r:1","room_session_id":"9","stream_id":"a","stream_seq":"2",
                "type":"0","destroy_timemillis":"5"}"#,
            None,
        )
        .unwrap();
        let scope = live::plan(&cb).unwrap().unwrap().scope;
        assert_eq!(scope, Scope::Room("r:1".into()));
        assert_eq!(object_name("7", &scope), "7:room:r%3A1");
        assert_eq!(object_name("7", &Scope::Mix("t:x".into())), "7:mix:t%3Ax");
        assert_eq!(hub_name("7", 3), "7:hub:3");
        let hub = hub_of("7", &object_name("7", &scope));
        assert!(hub.starts_with("7:hub:"), "{hub}");
        assert_eq!(hub, hub_of("7", &object_name("7", &scope)));
        let id = Identity::of("7", &scope);
        let params: Vec<(String, String)> = id
            .params()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(Identity::from_params(&params), Some(id));
    }

    #[test]
    fn shards_are_stable_and_all_used() {
        let shards: std::collections::BTreeSet<u16> = (0..400)
            .map(|i| shard_of(&format!("1:room:{i}"), HUB_SHARDS))
            .collect();
        assert_eq!(shards.len(), usize::from(HUB_SHARDS));
        assert_eq!(shard_of("x", 16), shard_of("x", 16));
        assert_eq!(shard_of("x", 1), 0);
    }

    #[test]
    fn no_room_or_app_text_can_make_two_object_names_one() {
        // App 1's room `a:room:b` and an app called `1:room:a`'s room `b` once shared
        // `1:room:a:room:b`: such an app is refused now, and the room id is encoded.
        assert!(canonical_app("1:room:a").is_err());
        let room = |id: &str| Scope::Room(id.into());
        let names = [
            object_name("1", &room("a:room:b")),
            object_name("1", &room("b")),
            object_name("1", &room("a")),
            object_name("1", &Scope::Mix("a:room:b".into())),
            object_name("1", &room("%3A")),
            object_name("1", &room(":")),
            object_name("1", &room("")),
            object_name("11", &room("1")),
            object_name("1", &room("11")),
        ];
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
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
}
