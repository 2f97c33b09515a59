//! The typed callbacks. Each event is declared once, below, in the `events!` table; the
//! struct, its one-pass parser, its JSON form and its schema all come from that declaration.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::field::{Codec, FromValue, Id64, Kind, StreamAttr, Timestamp};
use crate::value::{Fields, Value};
use crate::Error;

/// The fields every documented callback carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The event's name, e.g. `stream_create`.
    pub event: String,
    /// The app's id.
    pub appid: u32,
    /// The server's time when it sent the callback (signed).
    pub timestamp: Timestamp,
    /// A random value (signed).
    pub nonce: String,
    /// `hex(sha1(sorted secret, timestamp, nonce))`.
    pub signature: String,
}

const ENVELOPE_FIELDS: [&str; 5] = ["event", "appid", "timestamp", "nonce", "signature"];

#[derive(Default)]
struct EnvelopeParts {
    event: Option<String>,
    appid: Option<u32>,
    timestamp: Option<Timestamp>,
    nonce: Option<String>,
    signature: Option<String>,
}

impl EnvelopeParts {
    fn set(&mut self, name: &str, value: Value<'_>) -> Result<(), Error> {
        match name {
            "event" => self.event = String::from_value(name, value)?,
            "appid" => self.appid = u32::from_value(name, value)?,
            "timestamp" => self.timestamp = Timestamp::from_value(name, value)?,
            "nonce" => self.nonce = String::from_value(name, value)?,
            _ => self.signature = String::from_value(name, value)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<Envelope, Error> {
        Ok(Envelope {
            event: self.event.ok_or_else(|| Error::missing("event"))?,
            appid: self.appid.ok_or_else(|| Error::missing("appid"))?,
            timestamp: self.timestamp.ok_or_else(|| Error::missing("timestamp"))?,
            nonce: self.nonce.ok_or_else(|| Error::missing("nonce"))?,
            signature: self.signature.ok_or_else(|| Error::missing("signature"))?,
        })
    }

    fn serialize<M: SerializeMap>(env: &Envelope, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("event", &env.event)?;
        map.serialize_entry("known", &true)?;
        map.serialize_entry("appid", &env.appid)?;
        map.serialize_entry("timestamp", &env.timestamp)?;
        map.serialize_entry("nonce", &env.nonce)?;
        map.serialize_entry("signature", &env.signature)
    }
}

/// How one documented field is described, for tools that explain a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSchema {
    /// The name as ZEGO spells it.
    pub name: &'static str,
    /// What kind of value it holds.
    pub kind: Kind,
    /// Whether the callback is rejected without it.
    pub required: bool,
    /// ZEGO's documented maximum length in bytes, if any.
    pub max_bytes: Option<usize>,
    /// ZEGO's description (taken from the field's doc comment, so it may start with a space:
    /// serialized trimmed).
    #[serde(serialize_with = "trimmed")]
    pub doc: &'static str,
}

/// A documented event and its fields (the envelope's first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventSchema {
    /// The `event` value.
    pub event: &'static str,
    /// What the event means (serialized trimmed, like [`FieldSchema::doc`]).
    #[serde(serialize_with = "trimmed")]
    pub doc: &'static str,
    /// Every documented field.
    pub fields: &'static [FieldSchema],
}

fn trimmed<S: Serializer>(doc: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(doc.trim())
}

/// The envelope's fields: required in every documented event.
const fn envelope_schema() -> [FieldSchema; 5] {
    const fn f(name: &'static str, kind: Kind, doc: &'static str) -> FieldSchema {
        FieldSchema {
            name,
            kind,
            required: true,
            max_bytes: None,
            doc,
        }
    }
    [
        f("event", Kind::String, "The callback event's name."),
        f("appid", Kind::AppId, "The app's unique id."),
        f(
            "timestamp",
            Kind::Timestamp,
            "The server's current time when sending, Unix seconds; signed.",
        ),
        f("nonce", Kind::String, "A random number; signed."),
        f(
            "signature",
            Kind::String,
            "sha1 of the secret, timestamp and nonce sorted as strings, in hex.",
        ),
    ]
}

/// Converts a received value into its field's slot. Not inlined in wasm: one copy per field
/// type instead of one per field of every event (most of the typed parsers' size).
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn assign<T: FromValue>(slot: &mut Option<T>, name: &str, value: Value<'_>) -> Result<(), Error> {
    *slot = T::from_value(name, value)?;
    Ok(())
}

/// Values computed from an event's fields, serialized after them.
trait Derived {
    fn serialize_derived<M: SerializeMap>(&self, _map: &mut M) -> Result<(), M::Error> {
        Ok(())
    }
}

macro_rules! field_ty {
    (req $t:ty) => { $t };
    (opt $t:ty) => { Option<$t> };
    (list $t:ty) => { $t };
}

macro_rules! check {
    (req $v:expr, $name:expr) => {
        if $v.is_none() {
            return Err(Error::missing($name));
        }
    };
    ($p:ident $v:expr, $name:expr) => {};
}

macro_rules! take {
    (opt $v:expr) => {
        $v.take()
    };
    // A required field was checked above; a list defaults to empty.
    ($p:ident $v:expr) => {
        $v.take().unwrap_or_default()
    };
}

macro_rules! ser_field {
    (opt $map:ident, $name:expr, $v:expr) => {
        if let Some(v) = &$v {
            $map.serialize_entry($name, v)?;
        }
    };
    ($p:ident $map:ident, $name:expr, $v:expr) => {
        $map.serialize_entry($name, &$v)?;
    };
}

macro_rules! is_required {
    (req) => {
        true
    };
    ($p:ident) => {
        false
    };
}

macro_rules! wire {
    ($f:ident) => {
        stringify!($f)
    };
    ($f:ident $w:literal) => {
        $w
    };
}

macro_rules! opt_max {
    () => {
        None
    };
    ($m:literal) => {
        Some($m)
    };
}

macro_rules! events {
    ($(
        $(#[doc = $doc:literal])*
        $Name:ident = $wire:literal {
            $(
                $(#[doc = $fdoc:literal])*
                $presence:ident $field:ident $(as $wname:literal)? : $ty:ty $(, max $max:literal)?;
            )*
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct $Name {
                /// The fields every callback carries.
                pub envelope: Envelope,
                $(
                    $(#[doc = $fdoc])*
                    pub $field: field_ty!($presence $ty),
                )*
                /// Fields ZEGO sent that this version does not declare, as received.
                pub extra: Fields<'static>,
            }

            impl $Name {
                /// The `event` value of this callback.
                pub const EVENT: &'static str = $wire;

                fn from_fields(fields: Fields<'_>) -> Result<Self, Error> {
                    // The fields read so far, in one value: an early return drops it with
                    // one call, where separate locals each need their own drop at every
                    // return (most of these parsers' code in wasm).
                    #[derive(Default)]
                    struct Parts {
                        $( $field: Option<$ty>, )*
                    }
                    let mut envelope = EnvelopeParts::default();
                    let mut parts = Parts::default();
                    let mut extra = Fields::new();
                    for (name, value) in fields {
                        match name.as_ref() {
                            $( wire!($field $($wname)?) => {
                                assign(&mut parts.$field, &name, value)?
                            } )*
                            n if ENVELOPE_FIELDS.contains(&n) => envelope.set(n, value)?,
                            _ => extra.push(name.into_owned(), value.into_owned()),
                        }
                    }
                    let envelope = envelope.finish()?;
                    // Every check before anything is moved out, so that none of the moves
                    // below can fail.
                    $( check!($presence parts.$field, wire!($field $($wname)?)); )*
                    Ok($Name {
                        envelope,
                        $( $field: take!($presence parts.$field), )*
                        extra,
                    })
                }
            }

            impl Serialize for $Name {
                fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    let mut map = s.serialize_map(None)?;
                    EnvelopeParts::serialize(&self.envelope, &mut map)?;
                    $( ser_field!($presence map, wire!($field $($wname)?), self.$field); )*
                    self.serialize_derived(&mut map)?;
                    map.serialize_entry("extra", &self.extra)?;
                    map.end()
                }
            }
        )*

        /// A parsed callback: one of the documented events, or any other event as received.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Callback {
            $(
                $(#[doc = $doc])*
                $Name($Name),
            )*
            /// An event this version does not know, with every field as received.
            Unknown(UnknownEvent),
        }

        impl Callback {
            /// Types a decoded body by its `event` (or `Event`) field.
            pub fn from_fields(fields: Fields<'_>) -> Result<Callback, Error> {
                match event_name(&fields)? {
                    $( $wire => $Name::from_fields(fields).map(Callback::$Name), )*
                    event => Ok(Callback::Unknown(UnknownEvent {
                        event: event.to_owned(),
                        fields: fields.into_owned(),
                    })),
                }
            }

            /// The `event` value.
            pub fn event(&self) -> &str {
                match self {
                    $( Callback::$Name(e) => &e.envelope.event, )*
                    Callback::Unknown(e) => &e.event,
                }
            }

            /// The envelope of a documented event; `None` for an unknown one.
            pub fn envelope(&self) -> Option<&Envelope> {
                match self {
                    $( Callback::$Name(e) => Some(&e.envelope), )*
                    Callback::Unknown(_) => None,
                }
            }
        }

        impl Serialize for Callback {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Callback::$Name(e) => e.serialize(s), )*
                    Callback::Unknown(e) => e.serialize(s),
                }
            }
        }

        /// Every documented event and its fields.
        pub static SCHEMAS: &[EventSchema] = &[
            $(
                EventSchema {
                    event: $wire,
                    doc: concat!($($doc),*),
                    fields: &{
                        let env = envelope_schema();
                        let own = [
                            $( FieldSchema {
                                name: wire!($field $($wname)?),
                                kind: <$ty as FromValue>::KIND,
                                required: is_required!($presence),
                                max_bytes: opt_max!($($max)?),
                                doc: concat!($($fdoc),*),
                            }, )*
                        ];
                        let mut all = [env[0]; 5 + [$(stringify!($field)),*].len()];
                        let mut i = 0;
                        while i < 5 {
                            all[i] = env[i];
                            i += 1;
                        }
                        while i < all.len() {
                            all[i] = own[i - 5];
                            i += 1;
                        }
                        all
                    },
                },
            )*
        ];
    };
}

events! {
    /// `stream_create`: a stream started publishing.
    StreamCreate = "stream_create" {
        /// Room ID, the client's RoomID (same meaning as `channel_id`).
        req room_id: String, max 127;
        /// The room's lifetime id: the same for the whole life of the room, new when a room of the same id is created again. UInt64.
        req room_session_id: Id64;
        /// User ID (same meaning as `publish_id`).
        opt user_id: String, max 255;
        /// User nickname (same meaning as `publish_name`).
        opt user_name: String, max 255;
        /// Channel ID, the client's RoomID.
        opt channel_id: String, max 127;
        /// Stream ID, the client's StreamID (same meaning as `stream_alias`).
        req stream_id: String;
        /// Stream server ID, generated by ZEGO.
        opt stream_sid: String;
        /// Title.
        opt title: String, max 255;
        /// Stream name, the client's StreamID.
        opt stream_alias: String, max 255;
        /// Stream info, JSON in a string: `{"cid":0}`; cid 0 H.264, 1 H.264 SVC, 2 VP8, 3 H.265.
        opt stream_attr: StreamAttr;
        /// The server's stream-list change sequence; increases by 1 on every change.
        req stream_seq: u64;
        /// Server time at stream creation, Unix seconds.
        opt create_time: u64;
        /// Server time at stream creation, Unix milliseconds.
        req create_time_ms: u64;
        /// Extra information attached to the stream.
        opt extra_info: String;
        /// 1: the client re-published a stream the server already had; 0: a new stream.
        opt recreate: u64;
        /// Publisher ID, the client's UserID.
        opt publish_id: String, max 255;
        /// Publisher name, the client's UserName.
        opt publish_name: String, max 255;
        /// RTMP play URLs.
        list rtmp_url: Vec<String>, max 1024;
        /// HLS play URLs.
        list hls_url: Vec<String>, max 1024;
        /// HDL (HTTP-FLV) play URLs.
        list hdl_url: Vec<String>, max 1024;
        /// CDN snapshot URLs.
        list pic_url: Vec<String>, max 255;
    }

    /// `stream_close`: a stream stopped publishing.
    StreamClose = "stream_close" {
        /// Room ID, the client's RoomID (same meaning as `channel_id`).
        req room_id: String, max 127;
        /// The room's lifetime id. UInt64.
        req room_session_id: Id64;
        /// User ID.
        opt user_id: String, max 255;
        /// User nickname.
        opt user_name: String, max 255;
        /// Channel ID, the client's RoomID.
        opt channel_id: String, max 127;
        /// Close type: 0 normal (stopPublishingStream); 1 heartbeat timeout; 2 same user logged in again; 3 kicked out by the server API; 4 TCP disconnected; 5 room cleared; 100 DeleteStream server API.
        opt r#type as "type": u64;
        /// Stream name, the client's StreamID.
        opt stream_alias: String, max 255;
        /// Stream ID, the client's StreamID (same meaning as `stream_alias`).
        req stream_id: String;
        /// Stream server ID, generated by ZEGO.
        opt stream_sid: String;
        /// The server's stream-list change sequence; increases by 1 on every change.
        req stream_seq: u64;
        /// The customer's own data.
        opt third_define_data: String;
        /// Server time at stream creation, Unix milliseconds.
        opt create_time_ms: u64;
        /// Server time at stream close, Unix milliseconds.
        req destroy_timemillis: u64;
    }

    /// `room_create`: a room was created.
    RoomCreate = "room_create" {
        /// Room ID.
        req room_id: String, max 127;
        /// The room's lifetime id; equals `room_seq` in the login and logout callbacks. UInt64.
        req room_session_id: Id64;
        /// Server time at room creation, Unix milliseconds.
        opt room_create_time: u64;
        /// User ID of the room's creator.
        opt id_name: String, max 255;
    }

    /// `room_close`: a room was closed, ending all of its streams.
    RoomClose = "room_close" {
        /// Room ID.
        req room_id: String, max 127;
        /// The room's lifetime id; equals `room_seq` in the login and logout callbacks. UInt64.
        req room_session_id: Id64;
        /// 0 normal; 1 the last user's heartbeat timed out; 2 the last user disconnected; 3 the last user was kicked out.
        opt close_reason: u64;
        /// Server time at room close, Unix milliseconds.
        req room_close_time: u64;
    }

    /// `room_login`: a user logged in to a room.
    RoomLogin = "room_login" {
        /// Room ID.
        req room_id: String, max 127;
        /// Room name.
        opt room_name: String;
        /// The room's lifetime id; equals `room_session_id` in the room callbacks. UInt64.
        req room_seq: Id64;
        /// The user's ID (the userID the client logged in with).
        req user_account: String, max 255;
        /// The user's name.
        opt user_nickname: String, max 255;
        /// The user's session id. UInt64.
        opt session_id: Id64;
        /// Server time at login, Unix milliseconds.
        opt login_time: u64;
        /// User role (LiveRoom only): 1 host, 2 audience, 4 admin.
        opt user_role: u64;
    }

    /// `room_logout`: a user left a room.
    RoomLogout = "room_logout" {
        /// Room ID.
        req room_id: String, max 127;
        /// Room name.
        opt room_name: String;
        /// The room's lifetime id; equals `room_session_id` in the room callbacks. UInt64.
        req room_seq: Id64;
        /// The user's ID.
        req user_account: String, max 255;
        /// The user's name.
        opt user_nickname: String, max 255;
        /// The user's session id. UInt64.
        opt session_id: Id64;
        /// Server time at logout, Unix milliseconds.
        opt logout_time: u64;
        /// Why the user left: 0 logged out, 1 heartbeat timeout, 2 logged in elsewhere, 3 kicked out.
        opt reason: u64;
    }

    /// `mix_start`: a stream mixing task started.
    MixStart = "mix_start" {
        /// Sequence number of the mixing request: increasing and unique; orders the task's callbacks.
        req seq: u64;
        /// Mixing task id (the appid prefixed to the request's task_id).
        req task_id: String;
        /// Channel ID, the client's RoomID.
        opt channel_id: String, max 255;
        /// Publisher ID, the client's UserID.
        opt publish_id: String, max 255;
        /// The mixed output's RTMP address.
        opt mix_url: String, max 255;
        /// The mixed output's stream name.
        opt mix_stream_alias: String, max 255;
        /// RTMP play URLs.
        list rtmp_urls: Vec<String>, max 1024;
        /// HLS play URLs.
        list hls_urls: Vec<String>, max 1024;
        /// HDL play URLs.
        list hdl_urls: Vec<String>, max 1024;
        /// Stream name, the client's StreamID.
        opt stream_alias: String, max 255;
    }

    /// `mix_stop`: a stream mixing task stopped (none is sent when a mix dies or a stop fails).
    MixStop = "mix_stop" {
        /// Sequence number of the mixing request: increasing and unique; orders the task's callbacks.
        req seq: u64;
        /// Mixing task id (the appid prefixed to the request's task_id).
        req task_id: String;
        /// Channel ID, the client's RoomID.
        opt channel_id: String, max 255;
        /// Publisher ID, the client's UserID.
        opt publish_id: String, max 255;
        /// The mixed output's RTMP address.
        opt mix_url: String, max 255;
        /// The mixed output's stream name.
        opt mix_stream_alias: String, max 255;
    }
}

impl Derived for StreamCreate {
    fn serialize_derived<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let codec: Option<Codec> = self.stream_attr.as_ref().and_then(|a| a.codec);
        map.serialize_entry("codec", &codec)
    }
}
impl Derived for StreamClose {}
impl Derived for RoomCreate {}
impl Derived for RoomClose {}
impl Derived for RoomLogin {}
impl Derived for RoomLogout {}
impl Derived for MixStart {}
impl Derived for MixStop {}

/// The `event` (or PascalCase `Event`) of a decoded body.
fn event_name<'f>(fields: &'f Fields<'_>) -> Result<&'f str, Error> {
    let (name, value) = ["event", "Event"]
        .iter()
        .find_map(|n| fields.get(n).map(|v| (*n, v)))
        .ok_or_else(|| Error::missing("event"))?;
    match value {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::String(_) => Err(Error::invalid(name, "is empty")),
        other => Err(Error::invalid(
            name,
            format!("expected a string, got {}", other.kind()),
        )),
    }
}

/// A callback whose event this version does not know: acknowledged, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent {
    /// The `event` (or `Event`) value.
    pub event: String,
    /// Every field as received, `event` included.
    pub fields: Fields<'static>,
}

impl UnknownEvent {
    /// A field by its snake_case name or, failing that, its PascalCase one (`Event`,
    /// `AppId`, `Timestamp`, `Nonce`, `Signature`, as `transcode_*` and `censor_*` send).
    pub fn field(&self, snake: &str, pascal: &str) -> Option<&Value<'static>> {
        self.fields.get(snake).or_else(|| self.fields.get(pascal))
    }
}

impl Serialize for UnknownEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("event", &self.event)?;
        map.serialize_entry("known", &false)?;
        map.serialize_entry("fields", &self.fields)?;
        map.end()
    }
}

/// The schema of a documented event, by its `event` value.
pub fn schema(event: &str) -> Option<&'static EventSchema> {
    SCHEMAS.iter().find(|s| s.event == event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::decode;

    fn parse(json: &str) -> Result<Callback, Error> {
        Callback::from_fields(decode(json.as_bytes(), None)?)
    }

    #[test]
    fn undeclared_fields_are_kept_in_order() {
        let cb = parse(
            r#"{"event":"mix_stop","appid":"1","timestamp":"2","nonce":"3","signature":"4",
                "seq":"5","task_id":"t","z_new":"a","a_new":[1]}"#,
        )
        .unwrap();
        let Callback::MixStop(m) = cb else {
            panic!("{cb:?}")
        };
        let names: Vec<_> = m.extra.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["z_new", "a_new"]);
    }

    #[test]
    fn unknown_and_pascal_case_events_are_not_errors() {
        let cb = parse(r#"{"Event":"transcode_start","AppId":1,"Timestamp":"1"}"#).unwrap();
        let Callback::Unknown(u) = &cb else {
            panic!("{cb:?}")
        };
        assert_eq!(u.event, "transcode_start");
        assert_eq!(u.field("appid", "AppId"), Some(&Value::Number("1".into())));
        assert_eq!(
            serde_json::to_string(&cb).unwrap(),
            r#"{"event":"transcode_start","known":false,"fields":{"Event":"transcode_start","AppId":1,"Timestamp":"1"}}"#
        );
    }

    #[test]
    fn missing_required_field_is_named() {
        let e = parse(r#"{"event":"room_close","appid":1,"timestamp":1,"nonce":"n","signature":"s","room_id":"r","room_close_time":"1"}"#)
            .unwrap_err();
        assert_eq!(e, Error::missing("room_session_id"));
    }

    #[test]
    fn event_of_the_wrong_type() {
        assert_eq!(parse(r#"{"event":5}"#).unwrap_err().field(), Some("event"));
        assert_eq!(parse(r#"{"a":"b"}"#).unwrap_err(), Error::missing("event"));
    }

    #[test]
    fn schemas_list_envelope_then_fields() {
        let s = schema("stream_close").unwrap();
        let names: Vec<_> = s.fields.iter().map(|f| f.name).collect();
        assert_eq!(
            &names[..6],
            [
                "event",
                "appid",
                "timestamp",
                "nonce",
                "signature",
                "room_id"
            ]
        );
        assert!(names.contains(&"type"));
        let rsid = s
            .fields
            .iter()
            .find(|f| f.name == "room_session_id")
            .unwrap();
        assert_eq!((rsid.kind, rsid.required), (Kind::Id, true));
        assert_eq!(SCHEMAS.len(), 8);
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(json["doc"], "`stream_close`: a stream stopped publishing.");
        assert_eq!(
            json["fields"][5]["doc"],
            "Room ID, the client's RoomID (same meaning as `channel_id`)."
        );
    }
}
