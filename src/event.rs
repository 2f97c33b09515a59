//! The typed callbacks. Each event is declared once, below, in the `events!` table; the
//! struct, its JSON form and its schema all come from that declaration, and one function,
//! led by the schema, types the fields of every event.

use std::borrow::Cow;
use std::mem::ManuallyDrop;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::field::{Codec, FromValue, Id64, IntoOwned, Kind, StreamAttr, Timestamp, Typed};
use crate::value::{same, Fields, Value};
use crate::Error;

/// The fields every documented callback carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The event's name, e.g. `stream_create`.
    pub event: Cow<'a, str>,
    /// The app's id.
    pub appid: u32,
    /// The server's time when it sent the callback (signed).
    pub timestamp: Timestamp<'a>,
    /// A random value (signed).
    pub nonce: Cow<'a, str>,
    /// `hex(sha1(sorted secret, timestamp, nonce))`.
    pub signature: Cow<'a, str>,
}

impl Envelope<'_> {
    /// The same envelope, owning its text.
    pub fn into_owned(self) -> Envelope<'static> {
        Envelope {
            event: IntoOwned::into_owned(self.event),
            appid: self.appid,
            timestamp: self.timestamp.into_owned(),
            nonce: IntoOwned::into_owned(self.nonce),
            signature: IntoOwned::into_owned(self.signature),
        }
    }
}

impl<'a> Envelope<'a> {
    /// The envelope's fields, typed by the schema's first five (all required, so present).
    fn from_slots(slots: &mut Slots<'a>) -> Envelope<'a> {
        Envelope {
            event: slots.next().unwrap_or_default(),
            appid: slots.next().unwrap_or_default(),
            timestamp: slots.next().unwrap_or(Timestamp {
                secs: 0,
                text: Cow::Borrowed(""),
            }),
            nonce: slots.next().unwrap_or_default(),
            signature: slots.next().unwrap_or_default(),
        }
    }

    fn serialize_into<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry("event", &self.event)?;
        map.serialize_entry("known", &true)?;
        map.serialize_entry("appid", &self.appid)?;
        map.serialize_entry("timestamp", &self.timestamp)?;
        map.serialize_entry("nonce", &self.nonce)?;
        map.serialize_entry("signature", &self.signature)
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

/// Room for the typed values of an event's fields, in its schema's order, taken out one by
/// one. One type for every event (sized for the longest schema): typing is one function, and
/// so is dropping what an error leaves, where an array per event has its drop unrolled.
struct Slots<'a> {
    /// Dropped by [`Slots`]' own `drop`, which visits only the slots not taken yet.
    typed: ManuallyDrop<[Typed<'a>; MAX_FIELDS]>,
    /// The slots before this one were taken (left absent).
    taken: usize,
}

impl Drop for Slots<'_> {
    fn drop(&mut self) {
        // The taken slots are absent and nothing is left behind in the others: every value
        // is dropped, here or by whoever took it.
        for slot in self.typed.iter_mut().skip(self.taken) {
            drop(std::mem::take(slot));
        }
    }
}

impl<'a> Slots<'a> {
    /// Not inlined: every slot's initial value is a few stores, times each event.
    #[inline(never)]
    fn new() -> Self {
        Slots {
            typed: ManuallyDrop::new([const { Typed::Absent }; MAX_FIELDS]),
            taken: 0,
        }
    }

    /// Types `fields` by `schema` and returns the fields it does not name, in the order
    /// received.
    ///
    /// Errors are the first value that does not convert (in the body's order), then the
    /// first required field absent (in the schema's order).
    fn fill(&mut self, fields: Fields<'a>, schema: &[FieldSchema]) -> Result<Fields<'a>, Error> {
        let mut extra = Fields::new();
        // Bodies list their fields in the schema's order, mostly: look there first.
        let mut hint = 0;
        for (name, value) in fields {
            let found = match schema.get(hint) {
                Some(f) if same(f.name, &name) => Some(hint),
                _ => schema.iter().position(|f| same(f.name, &name)),
            };
            match found {
                Some(i) => {
                    // Names are unique in `fields`, so the slot is still absent.
                    Typed::set(&mut self.typed[i], schema[i].kind, &name, value)?;
                    hint = i + 1;
                }
                None => extra.push(name, value),
            }
        }
        match schema
            .iter()
            .zip(self.typed.iter())
            .find(|(f, slot)| f.required && slot.is_absent())
        {
            Some((f, _)) => Err(Error::missing(f.name)),
            None => Ok(extra),
        }
    }

    /// The next slot's value as its field's type. Not inlined in wasm: one copy per field
    /// type instead of one per field of every event.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn next<T: FromValue<'a>>(&mut self) -> Option<T> {
        let slot = self.typed.get_mut(self.taken)?;
        self.taken += 1;
        T::from_typed(std::mem::take(slot))
    }
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

macro_rules! take {
    (opt $slots:expr) => {
        $slots.next()
    };
    // A required field was checked present by `Slots::fill`; a list defaults to empty.
    ($p:ident $slots:expr) => {
        $slots.next().unwrap_or_default()
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
            ///
            /// Text borrows from the body it was received in; [`Self::into_owned`] copies it.
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct $Name<'a> {
                /// The fields every callback carries.
                pub envelope: Envelope<'a>,
                $(
                    $(#[doc = $fdoc])*
                    pub $field: field_ty!($presence $ty),
                )*
                /// Fields ZEGO sent that this version does not declare, as received.
                pub extra: Fields<'a>,
            }

            impl<'a> $Name<'a> {
                /// The `event` value of this callback.
                pub const EVENT: &'static str = $wire;

                /// The schema's fields: the envelope's, then this event's.
                const FIELDS: [FieldSchema; 5 + [$(stringify!($field)),*].len()] = {
                    let env = envelope_schema();
                    let own = [
                        $( FieldSchema {
                            name: wire!($field $($wname)?),
                            kind: <$ty as FromValue<'a>>::KIND,
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
                };

                /// The same callback, owning its text (to keep it past the body).
                pub fn into_owned(self) -> $Name<'static> {
                    $Name {
                        envelope: self.envelope.into_owned(),
                        $( $field: IntoOwned::into_owned(self.$field), )*
                        extra: self.extra.into_owned(),
                    }
                }

                fn from_fields(fields: Fields<'a>) -> Result<Self, Error> {
                    let mut slots = Slots::new();
                    let extra = slots.fill(fields, &Self::FIELDS)?;
                    Ok($Name {
                        envelope: Envelope::from_slots(&mut slots),
                        $( $field: take!($presence slots), )*
                        extra,
                    })
                }
            }

            impl Serialize for $Name<'_> {
                fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    let mut map = s.serialize_map(None)?;
                    self.envelope.serialize_into(&mut map)?;
                    $( ser_field!($presence map, wire!($field $($wname)?), self.$field); )*
                    self.serialize_derived(&mut map)?;
                    map.serialize_entry("extra", &self.extra)?;
                    map.end()
                }
            }
        )*

        /// A parsed callback: one of the documented events, or any other event as received.
        ///
        /// Its text borrows from the body it was received in (decoding copies only strings
        /// with escapes); [`Callback::into_owned`] makes one that outlives the body.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Callback<'a> {
            $(
                $(#[doc = $doc])*
                $Name($Name<'a>),
            )*
            /// An event this version does not know, with every field as received.
            Unknown(UnknownEvent<'a>),
        }

        impl<'a> Callback<'a> {
            /// Types a decoded body by its `event` (or `Event`) field.
            pub fn from_fields(fields: Fields<'a>) -> Result<Callback<'a>, Error> {
                let event = event_name(&fields)?;
                match event.as_ref() {
                    $( $wire => $Name::from_fields(fields).map(Callback::$Name), )*
                    _ => Ok(Callback::Unknown(UnknownEvent { event, fields })),
                }
            }

            /// The same callback, owning its text (to keep it past the body).
            pub fn into_owned(self) -> Callback<'static> {
                match self {
                    $( Callback::$Name(e) => Callback::$Name(e.into_owned()), )*
                    Callback::Unknown(e) => Callback::Unknown(UnknownEvent {
                        event: IntoOwned::into_owned(e.event),
                        fields: e.fields.into_owned(),
                    }),
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
            pub fn envelope(&self) -> Option<&Envelope<'a>> {
                match self {
                    $( Callback::$Name(e) => Some(&e.envelope), )*
                    Callback::Unknown(_) => None,
                }
            }
        }

        impl Serialize for Callback<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Callback::$Name(e) => e.serialize(s), )*
                    Callback::Unknown(e) => e.serialize(s),
                }
            }
        }

        /// The most fields an event's schema has.
        const MAX_FIELDS: usize = {
            let lens = [$($Name::FIELDS.len()),*];
            let mut max = 0;
            let mut i = 0;
            while i < lens.len() {
                if lens[i] > max {
                    max = lens[i];
                }
                i += 1;
            }
            max
        };

        /// Every documented event and its fields.
        pub static SCHEMAS: &[EventSchema] = &[
            $(
                EventSchema {
                    event: $wire,
                    doc: concat!($($doc),*),
                    fields: &$Name::FIELDS,
                },
            )*
        ];
    };
}

events! {
    /// `stream_create`: a stream started publishing.
    StreamCreate = "stream_create" {
        /// Room ID, the client's RoomID (same meaning as `channel_id`).
        req room_id: Cow<'a, str>, max 127;
        /// The room's lifetime id: the same for the whole life of the room, new when a room of the same id is created again. UInt64.
        req room_session_id: Id64;
        /// User ID (same meaning as `publish_id`).
        opt user_id: Cow<'a, str>, max 255;
        /// User nickname (same meaning as `publish_name`).
        opt user_name: Cow<'a, str>, max 255;
        /// Channel ID, the client's RoomID.
        opt channel_id: Cow<'a, str>, max 127;
        /// Stream ID, the client's StreamID (same meaning as `stream_alias`).
        req stream_id: Cow<'a, str>;
        /// Stream server ID, generated by ZEGO.
        opt stream_sid: Cow<'a, str>;
        /// Title.
        opt title: Cow<'a, str>, max 255;
        /// Stream name, the client's StreamID.
        opt stream_alias: Cow<'a, str>, max 255;
        /// Stream info, JSON in a string: `{"cid":0}`; cid 0 H.264, 1 H.264 SVC, 2 VP8, 3 H.265.
        opt stream_attr: StreamAttr<'a>;
        /// The server's stream-list change sequence; increases by 1 on every change.
        req stream_seq: u64;
        /// Server time at stream creation, Unix seconds.
        opt create_time: u64;
        /// Server time at stream creation, Unix milliseconds.
        req create_time_ms: u64;
        /// Extra information attached to the stream.
        opt extra_info: Cow<'a, str>;
        /// 1: the client re-published a stream the server already had; 0: a new stream.
        opt recreate: u64;
        /// Publisher ID, the client's UserID.
        opt publish_id: Cow<'a, str>, max 255;
        /// Publisher name, the client's UserName.
        opt publish_name: Cow<'a, str>, max 255;
        /// RTMP play URLs.
        list rtmp_url: Vec<Cow<'a, str>>, max 1024;
        /// HLS play URLs.
        list hls_url: Vec<Cow<'a, str>>, max 1024;
        /// HDL (HTTP-FLV) play URLs.
        list hdl_url: Vec<Cow<'a, str>>, max 1024;
        /// CDN snapshot URLs.
        list pic_url: Vec<Cow<'a, str>>, max 255;
    }

    /// `stream_close`: a stream stopped publishing.
    StreamClose = "stream_close" {
        /// Room ID, the client's RoomID (same meaning as `channel_id`).
        req room_id: Cow<'a, str>, max 127;
        /// The room's lifetime id. UInt64.
        req room_session_id: Id64;
        /// User ID.
        opt user_id: Cow<'a, str>, max 255;
        /// User nickname.
        opt user_name: Cow<'a, str>, max 255;
        /// Channel ID, the client's RoomID.
        opt channel_id: Cow<'a, str>, max 127;
        /// Close type: 0 normal (stopPublishingStream); 1 heartbeat timeout; 2 same user logged in again; 3 kicked out by the server API; 4 TCP disconnected; 5 room cleared; 100 DeleteStream server API.
        opt r#type as "type": u64;
        /// Stream name, the client's StreamID.
        opt stream_alias: Cow<'a, str>, max 255;
        /// Stream ID, the client's StreamID (same meaning as `stream_alias`).
        req stream_id: Cow<'a, str>;
        /// Stream server ID, generated by ZEGO.
        opt stream_sid: Cow<'a, str>;
        /// The server's stream-list change sequence; increases by 1 on every change.
        req stream_seq: u64;
        /// The customer's own data.
        opt third_define_data: Cow<'a, str>;
        /// Server time at stream creation, Unix milliseconds.
        opt create_time_ms: u64;
        /// Server time at stream close, Unix milliseconds.
        req destroy_timemillis: u64;
    }

    /// `room_create`: a room was created.
    RoomCreate = "room_create" {
        /// Room ID.
        req room_id: Cow<'a, str>, max 127;
        /// The room's lifetime id; equals `room_seq` in the login and logout callbacks. UInt64.
        req room_session_id: Id64;
        /// Server time at room creation, Unix milliseconds.
        opt room_create_time: u64;
        /// User ID of the room's creator.
        opt id_name: Cow<'a, str>, max 255;
    }

    /// `room_close`: a room was closed, ending all of its streams.
    RoomClose = "room_close" {
        /// Room ID.
        req room_id: Cow<'a, str>, max 127;
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
        req room_id: Cow<'a, str>, max 127;
        /// Room name.
        opt room_name: Cow<'a, str>;
        /// The room's lifetime id; equals `room_session_id` in the room callbacks. UInt64.
        req room_seq: Id64;
        /// The user's ID (the userID the client logged in with).
        req user_account: Cow<'a, str>, max 255;
        /// The user's name.
        opt user_nickname: Cow<'a, str>, max 255;
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
        req room_id: Cow<'a, str>, max 127;
        /// Room name.
        opt room_name: Cow<'a, str>;
        /// The room's lifetime id; equals `room_session_id` in the room callbacks. UInt64.
        req room_seq: Id64;
        /// The user's ID.
        req user_account: Cow<'a, str>, max 255;
        /// The user's name.
        opt user_nickname: Cow<'a, str>, max 255;
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
        req task_id: Cow<'a, str>;
        /// Channel ID, the client's RoomID.
        opt channel_id: Cow<'a, str>, max 255;
        /// Publisher ID, the client's UserID.
        opt publish_id: Cow<'a, str>, max 255;
        /// The mixed output's RTMP address.
        opt mix_url: Cow<'a, str>, max 255;
        /// The mixed output's stream name.
        opt mix_stream_alias: Cow<'a, str>, max 255;
        /// RTMP play URLs.
        list rtmp_urls: Vec<Cow<'a, str>>, max 1024;
        /// HLS play URLs.
        list hls_urls: Vec<Cow<'a, str>>, max 1024;
        /// HDL play URLs.
        list hdl_urls: Vec<Cow<'a, str>>, max 1024;
        /// Stream name, the client's StreamID.
        opt stream_alias: Cow<'a, str>, max 255;
    }

    /// `mix_stop`: a stream mixing task stopped (none is sent when a mix dies or a stop fails).
    MixStop = "mix_stop" {
        /// Sequence number of the mixing request: increasing and unique; orders the task's callbacks.
        req seq: u64;
        /// Mixing task id (the appid prefixed to the request's task_id).
        req task_id: Cow<'a, str>;
        /// Channel ID, the client's RoomID.
        opt channel_id: Cow<'a, str>, max 255;
        /// Publisher ID, the client's UserID.
        opt publish_id: Cow<'a, str>, max 255;
        /// The mixed output's RTMP address.
        opt mix_url: Cow<'a, str>, max 255;
        /// The mixed output's stream name.
        opt mix_stream_alias: Cow<'a, str>, max 255;
    }
}

impl Derived for StreamCreate<'_> {
    fn serialize_derived<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let codec: Option<Codec> = self.stream_attr.as_ref().and_then(|a| a.codec);
        map.serialize_entry("codec", &codec)
    }
}
impl Derived for StreamClose<'_> {}
impl Derived for RoomCreate<'_> {}
impl Derived for RoomClose<'_> {}
impl Derived for RoomLogin<'_> {}
impl Derived for RoomLogout<'_> {}
impl Derived for MixStart<'_> {}
impl Derived for MixStop<'_> {}

/// The `event` (or PascalCase `Event`) of a decoded body.
fn event_name<'a>(fields: &Fields<'a>) -> Result<Cow<'a, str>, Error> {
    let (name, value) = ["event", "Event"]
        .iter()
        .find_map(|n| fields.get(n).map(|v| (*n, v)))
        .ok_or_else(|| Error::missing("event"))?;
    match value {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::String(_) => Err(Error::invalid(name, "is empty")),
        other => Err(Error::invalid(
            name,
            format!("expected a string, got {}", other.kind()),
        )),
    }
}

/// A callback whose event this version does not know: acknowledged, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent<'a> {
    /// The `event` (or `Event`) value.
    pub event: Cow<'a, str>,
    /// Every field as received, `event` included.
    pub fields: Fields<'a>,
}

impl<'a> UnknownEvent<'a> {
    /// A field by its snake_case name or, failing that, its PascalCase one (`Event`,
    /// `AppId`, `Timestamp`, `Nonce`, `Signature`, as `transcode_*` and `censor_*` send).
    pub fn field(&self, snake: &str, pascal: &str) -> Option<&Value<'a>> {
        self.fields.get(snake).or_else(|| self.fields.get(pascal))
    }
}

impl Serialize for UnknownEvent<'_> {
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

    fn parse(json: &str) -> Result<Callback<'_>, Error> {
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
    fn text_borrows_from_the_body_until_into_owned() {
        let body = String::from(
            r#"{"event":"mix_stop","appid":"1","timestamp":"2","nonce":"3","signature":"4",
                "seq":"5","task_id":"t\u0031","channel_id":"c","z_new":"x"}"#,
        );
        let cb = parse(&body).unwrap();
        let Callback::MixStop(m) = &cb else {
            panic!("{cb:?}")
        };
        assert!(matches!(m.channel_id, Some(Cow::Borrowed("c"))));
        assert!(
            matches!(&m.task_id, Cow::Owned(t) if t == "t1"),
            "escapes are copied"
        );
        assert!(matches!(m.envelope.nonce, Cow::Borrowed("3")));
        assert!(matches!(
            m.extra.get("z_new"),
            Some(Value::String(Cow::Borrowed("x")))
        ));
        let expected = cb.clone().into_owned();
        let kept: Callback<'static> = cb.into_owned();
        drop(body);
        assert_eq!(kept, expected);
        let Callback::MixStop(m) = &kept else {
            panic!("{kept:?}")
        };
        assert!(matches!(m.channel_id, Some(Cow::Owned(_))));
        assert_eq!(
            (m.seq, &*m.task_id, m.envelope.timestamp.secs),
            (5, "t1", 2)
        );
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
    fn fields_in_any_order_type_alike() {
        let ordered = r#"{"event":"stream_close","appid":"1","timestamp":"2","nonce":"3","signature":"4","room_id":"r","room_session_id":"18446744073709551615","stream_id":"s","stream_seq":"7","destroy_timemillis":"9","x":"y"}"#;
        let reversed = r#"{"x":"y","destroy_timemillis":"9","stream_seq":"7","stream_id":"s","room_session_id":"18446744073709551615","room_id":"r","signature":"4","nonce":"3","timestamp":"2","appid":"1","event":"stream_close"}"#;
        let (a, b) = (parse(ordered).unwrap(), parse(reversed).unwrap());
        assert_eq!(a, b);
        let Callback::StreamClose(c) = a else {
            panic!("{a:?}")
        };
        assert_eq!((c.room_session_id, c.stream_seq), (Id64(u64::MAX), 7));
        assert_eq!(c.extra.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["x"]);
    }

    #[test]
    fn a_bad_value_is_reported_before_a_missing_field() {
        // `stream_seq` is bad and `stream_id` missing: the value comes first, as received.
        let e = parse(r#"{"event":"stream_close","appid":"1","timestamp":"2","nonce":"3","signature":"4","room_id":"r","room_session_id":"1","stream_seq":"x","destroy_timemillis":"9"}"#)
            .unwrap_err();
        assert_eq!(e.field(), Some("stream_seq"));
        assert_eq!(e.code(), "invalid_field");
        // Two absent: the first in the schema's order.
        let e = parse(r#"{"event":"stream_close","appid":"1","timestamp":"2","nonce":"3","signature":"4","room_id":"r","destroy_timemillis":"9"}"#)
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
