//! The machinery behind the `events!` table of [`super`]: the schema types, the one pass that
//! types every event's fields by its schema ([`Slots`]), and the macros that turn each row of
//! the table into a struct, its JSON form and its schema.
//!
//! A reader who adds an event or a field only needs the table; this is how the table works.

use std::mem::ManuallyDrop;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::MAX_FIELDS;
use crate::field::{FromValue, Kind, Typed};
use crate::value::{same, Fields};
use crate::Error;

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
/// A schema's description: the Worker's build carries none (it never shows a schema, and
/// every byte of its bundle counts); every other build, the text.
pub const fn doc(text: &'static str) -> &'static str {
    if cfg!(all(
        target_arch = "wasm32",
        feature = "worker",
        not(feature = "wasm")
    )) {
        ""
    } else {
        text
    }
}

pub(super) const fn envelope_schema() -> [FieldSchema; 5] {
    const fn f(name: &'static str, kind: Kind, doc: &'static str) -> FieldSchema {
        FieldSchema {
            name,
            kind,
            required: true,
            max_bytes: None,
            doc: crate::event::typing::doc(doc),
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
pub(super) struct Slots<'a> {
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
    pub(super) fn new() -> Self {
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
    pub(super) fn fill(
        &mut self,
        fields: Fields<'a>,
        schema: &[FieldSchema],
    ) -> Result<Fields<'a>, Error> {
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
    pub(super) fn next<T: FromValue<'a>>(&mut self) -> Option<T> {
        let slot = self.typed.get_mut(self.taken)?;
        self.taken += 1;
        T::from_typed(std::mem::take(slot))
    }
}

/// Values computed from an event's fields, serialized after them.
pub(super) trait Derived {
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
                            doc: $crate::event::typing::doc(concat!($($fdoc),*)),
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
                    doc: $crate::event::typing::doc(concat!($($doc),*)),
                    fields: &$Name::FIELDS,
                },
            )*
        ];
    };
}
