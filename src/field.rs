//! Field types and the one place where a received value becomes a typed one.
//!
//! ZEGO sends the same field as a JSON string in one callback and a JSON number in another
//! (`"appid": "1"` and `"appid": 1`), and every form value is a string: each conversion here
//! accepts both and reads the exact text, never an `f64`.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::value::{Value, MAX_SAFE_INTEGER};
use crate::Error;

/// What kind of value a field holds, as documented by ZEGO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Text.
    String,
    /// A counter, time or code: an integer of at most 2^53 - 1, a number in JS.
    Integer,
    /// A 64-bit identifier (`room_session_id`, `room_seq`, `session_id`): a decimal string in JS.
    Id,
    /// The app's id, an unsigned 32-bit integer.
    AppId,
    /// Unix seconds, kept with the exact text that is signed.
    Timestamp,
    /// A list of strings (play URLs).
    Strings,
    /// `stream_attr`: JSON inside a string, holding the codec id.
    StreamAttr,
}

/// A type a field's received value converts into, borrowing the value's text.
pub(crate) trait FromValue<'a>: Sized {
    /// The documented kind, for the schema.
    const KIND: Kind;
    /// The typed value, or `None` where the field counts as absent (`null`, or `""` for a
    /// number).
    fn from_value(field: &str, value: Value<'a>) -> Result<Option<Self>, Error>;
    /// The value [`Typed::set`] made for this type's kind; `None` for any other.
    fn from_typed(typed: Typed<'a>) -> Option<Self>;
}

/// A received value typed by its field's [`Kind`]: what the one typing pass of every event
/// makes, before each event's struct takes its fields out.
#[derive(Debug, Default)]
pub(crate) enum Typed<'a> {
    /// Absent, `null`, or `""` for a number.
    #[default]
    Absent,
    /// [`Kind::String`], and [`Kind::StreamAttr`] as received (parsed when taken out: a
    /// variant holding the codec would be copied in 32-bit halves on every field).
    Text(Cow<'a, str>),
    /// [`Kind::Integer`], [`Kind::Id`] and [`Kind::AppId`], within their bounds.
    Integer(u64),
    /// [`Kind::Timestamp`].
    Timestamp(Timestamp<'a>),
    /// [`Kind::Strings`].
    Strings(Vec<Cow<'a, str>>),
}

impl<'a> Typed<'a> {
    /// Types `value` as a field of `kind` into `slot`, which must be absent, with the same
    /// checks and errors as the kind's [`FromValue`] type.
    ///
    /// Written in place rather than returned: a returned value is built on the stack and
    /// copied in wider words than it was written in, which stalls natively on every field.
    #[inline(never)]
    pub(crate) fn set(
        slot: &mut Self,
        kind: Kind,
        field: &str,
        value: Value<'a>,
    ) -> Result<(), Error> {
        fn put<'a, T: FromValue<'a>>(
            slot: &mut Typed<'a>,
            field: &str,
            value: Value<'a>,
            wrap: fn(T) -> Typed<'a>,
        ) -> Result<(), Error> {
            if let Some(typed) = T::from_value(field, value)? {
                // The slot is absent (the caller's promise): nothing to drop.
                debug_assert!(slot.is_absent());
                std::mem::forget(std::mem::replace(slot, wrap(typed)));
            }
            Ok(())
        }
        match kind {
            Kind::String | Kind::StreamAttr => put(slot, field, value, Typed::Text),
            Kind::Integer => put(slot, field, value, Typed::Integer),
            Kind::Id => put(slot, field, value, |n: Id64| Typed::Integer(n.0)),
            Kind::AppId => put(slot, field, value, |n: u32| Typed::Integer(n.into())),
            Kind::Timestamp => put(slot, field, value, Typed::Timestamp),
            Kind::Strings => put(slot, field, value, Typed::Strings),
        }
    }

    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Typed::Absent)
    }
}

/// A typed value that may borrow from the body, and the same value owning its text.
pub(crate) trait IntoOwned {
    /// The same type with `'static` text.
    type Owned;
    /// Copies whatever text is borrowed.
    fn into_owned(self) -> Self::Owned;
}

macro_rules! owned_as_is {
    ($($t:ty),*) => {
        $(impl IntoOwned for $t {
            type Owned = $t;
            fn into_owned(self) -> $t {
                self
            }
        })*
    };
}
owned_as_is!(u32, u64, Id64);

impl IntoOwned for Cow<'_, str> {
    type Owned = Cow<'static, str>;
    fn into_owned(self) -> Cow<'static, str> {
        Cow::Owned(Cow::into_owned(self))
    }
}

impl<T: IntoOwned> IntoOwned for Option<T> {
    type Owned = Option<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        self.map(T::into_owned)
    }
}

impl<T: IntoOwned> IntoOwned for Vec<T> {
    type Owned = Vec<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        self.into_iter().map(T::into_owned).collect()
    }
}

fn wrong_type(field: &str, expected: &str, got: &Value<'_>) -> Error {
    Error::invalid(field, format!("expected {expected}, got {}", got.kind()))
}

/// The text of a string or number field; `None` for null; an error for anything else.
fn scalar_text<'a>(
    field: &str,
    value: &'a Value<'_>,
    expected: &str,
) -> Result<Option<&'a str>, Error> {
    match value {
        Value::String(s) | Value::Number(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        other => Err(wrong_type(field, expected, other)),
    }
}

/// Parses decimal digits (leading zeros allowed: `"01"` is 1) into a `u64`.
fn parse_u64(field: &str, text: &str) -> Result<u64, Error> {
    decimal(text).ok_or_else(|| not_u64(field, text))
}

/// Why `text` is not a `u64`.
#[cold]
fn not_u64(field: &str, text: &str) -> Error {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Error::invalid(field, format!("expected an unsigned integer, got {text:?}"));
    }
    Error::invalid(field, format!("{text} does not fit in 64 bits"))
}

/// The value of a non-empty run of decimal digits (leading zeros allowed) that fits in a
/// `u64`; `None` for anything else.
pub(crate) fn decimal(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    // Nineteen digits never overflow a u64: only the steps past them are checked (in wasm
    // a checked 64-bit multiply is a call to a 128-bit multiply). One pass: each byte is
    // checked as it is added.
    let (head, tail) = bytes.split_at(bytes.len().min(19));
    let digit = |b: u8| Some(u64::from(b.wrapping_sub(b'0'))).filter(|&d| d <= 9);
    let mut n = 0u64;
    for &b in head {
        n = n * 10 + digit(b)?;
    }
    for &b in tail {
        n = n.checked_mul(10)?.checked_add(digit(b)?)?;
    }
    Some(n)
}

/// The integer in a numeric field, bounded; `None` when absent or empty.
pub(crate) fn integer(field: &str, value: &Value<'_>, max: u64) -> Result<Option<u64>, Error> {
    match scalar_text(field, value, "an integer")? {
        None | Some("") => Ok(None),
        Some(text) => {
            let n = parse_u64(field, text)?;
            if n > max {
                return Err(Error::invalid(
                    field,
                    format!("{text} is larger than {max}"),
                ));
            }
            Ok(Some(n))
        }
    }
}

impl<'a> FromValue<'a> for Cow<'a, str> {
    const KIND: Kind = Kind::String;
    fn from_typed(typed: Typed<'a>) -> Option<Self> {
        match typed {
            Typed::Text(s) => Some(s),
            _ => None,
        }
    }
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn from_value(field: &str, value: Value<'a>) -> Result<Option<Self>, Error> {
        match value {
            Value::String(s) | Value::Number(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => Err(wrong_type(field, "a string", &other)),
        }
    }
}

impl FromValue<'_> for u64 {
    const KIND: Kind = Kind::Integer;
    fn from_typed(typed: Typed<'_>) -> Option<Self> {
        match typed {
            Typed::Integer(n) => Some(n),
            _ => None,
        }
    }
    fn from_value(field: &str, value: Value<'_>) -> Result<Option<Self>, Error> {
        integer(field, &value, MAX_SAFE_INTEGER)
    }
}

impl FromValue<'_> for u32 {
    const KIND: Kind = Kind::AppId;
    fn from_typed(typed: Typed<'_>) -> Option<Self> {
        match typed {
            Typed::Integer(n) => u32::try_from(n).ok(),
            _ => None,
        }
    }
    fn from_value(field: &str, value: Value<'_>) -> Result<Option<Self>, Error> {
        Ok(integer(field, &value, u32::MAX.into())?.map(|n| n as u32))
    }
}

/// A 64-bit identifier, exact: a `u64` in Rust, a decimal string in JSON and JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Id64(pub u64);

impl fmt::Display for Id64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u64> for Id64 {
    fn from(n: u64) -> Self {
        Id64(n)
    }
}

impl Serialize for Id64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl FromValue<'_> for Id64 {
    const KIND: Kind = Kind::Id;
    fn from_typed(typed: Typed<'_>) -> Option<Self> {
        match typed {
            Typed::Integer(n) => Some(Id64(n)),
            _ => None,
        }
    }
    fn from_value(field: &str, value: Value<'_>) -> Result<Option<Self>, Error> {
        Ok(integer(field, &value, u64::MAX)?.map(Id64))
    }
}

/// A callback's `timestamp`: Unix seconds, and the exact text the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp<'a> {
    /// Unix seconds.
    pub secs: i64,
    /// The digits as received (a JSON string's contents or a JSON number's text).
    pub text: Cow<'a, str>,
}

impl IntoOwned for Timestamp<'_> {
    type Owned = Timestamp<'static>;
    fn into_owned(self) -> Timestamp<'static> {
        Timestamp {
            secs: self.secs,
            text: IntoOwned::into_owned(self.text),
        }
    }
}

impl Serialize for Timestamp<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.secs)
    }
}

impl<'a> FromValue<'a> for Timestamp<'a> {
    const KIND: Kind = Kind::Timestamp;
    fn from_typed(typed: Typed<'a>) -> Option<Self> {
        match typed {
            Typed::Timestamp(t) => Some(t),
            _ => None,
        }
    }
    fn from_value(field: &str, value: Value<'a>) -> Result<Option<Self>, Error> {
        let Some(secs) = integer(field, &value, MAX_SAFE_INTEGER)? else {
            return Ok(None);
        };
        let (Value::String(text) | Value::Number(text)) = value else {
            unreachable!("integer() accepts only strings and numbers")
        };
        Ok(Some(Timestamp {
            secs: secs as i64,
            text,
        }))
    }
}

impl<'a> FromValue<'a> for Vec<Cow<'a, str>> {
    const KIND: Kind = Kind::Strings;
    fn from_typed(typed: Typed<'a>) -> Option<Self> {
        match typed {
            Typed::Strings(v) => Some(v),
            _ => None,
        }
    }
    fn from_value(field: &str, value: Value<'a>) -> Result<Option<Self>, Error> {
        match value {
            Value::Null => Ok(None),
            Value::Array(items) => {
                // Into a new vector: collecting in place would reuse the items' larger
                // allocation and then shrink it, a `realloc` per array (measured).
                let mut texts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) | Value::Number(s) => texts.push(s),
                        other => return Err(wrong_type(field, "an array of strings", &other)),
                    }
                }
                Ok(Some(texts))
            }
            // Form data carries an array as repeated keys (handled above), as one key, or
            // as a JSON array inside one value.
            Value::String(s) if s.trim_start().starts_with('[') => {
                let not_strings = |reason: String| {
                    Error::invalid(field, format!("not a JSON array of strings: {reason}"))
                };
                match crate::body::json::parse_value(&s).map_err(|e| not_strings(e.to_string()))? {
                    Value::Array(items) => items
                        .into_iter()
                        .map(|item| match item {
                            // Borrowed from `s`, which this value does not outlive.
                            Value::String(s) => Ok(Cow::Owned(s.into_owned())),
                            other => Err(not_strings(format!("an item is {}", other.kind()))),
                        })
                        .collect::<Result<_, _>>()
                        .map(Some),
                    other => Err(not_strings(format!("it is {}", other.kind()))),
                }
            }
            Value::String(s) if s.is_empty() => Ok(Some(Vec::new())),
            Value::String(s) => Ok(Some(vec![s])),
            other => Err(wrong_type(field, "an array of strings", &other)),
        }
    }
}

/// The video codec named by `stream_attr`'s `cid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// cid 0.
    H264,
    /// cid 1: H.264 with scalable video coding.
    H264Svc,
    /// cid 2.
    Vp8,
    /// cid 3.
    H265,
    /// A cid ZEGO had not documented.
    Other(u32),
}

impl Codec {
    /// The codec for a cid.
    pub fn from_cid(cid: u32) -> Codec {
        match cid {
            0 => Codec::H264,
            1 => Codec::H264Svc,
            2 => Codec::Vp8,
            3 => Codec::H265,
            n => Codec::Other(n),
        }
    }

    /// ZEGO's codec id.
    pub fn cid(self) -> u32 {
        match self {
            Codec::H264 => 0,
            Codec::H264Svc => 1,
            Codec::Vp8 => 2,
            Codec::H265 => 3,
            Codec::Other(n) => n,
        }
    }

    /// A human name: `H.264`, `H.264 SVC`, `VP8`, `H.265`, or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "H.264",
            Codec::H264Svc => "H.264 SVC",
            Codec::Vp8 => "VP8",
            Codec::H265 => "H.265",
            Codec::Other(_) => "unknown",
        }
    }
}

/// Serializes as `{"cid": 0, "name": "H.264"}`.
impl Serialize for Codec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Codec", 2)?;
        st.serialize_field("cid", &self.cid())?;
        st.serialize_field("name", self.name())?;
        st.end()
    }
}

/// `stream_attr` as received, and the codec it names when it parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamAttr<'a> {
    /// The string as received, e.g. `{"cid":0}`.
    pub raw: Cow<'a, str>,
    /// The codec, when `raw` is a JSON object with an integer `cid`.
    pub codec: Option<Codec>,
}

impl IntoOwned for StreamAttr<'_> {
    type Owned = StreamAttr<'static>;
    fn into_owned(self) -> StreamAttr<'static> {
        StreamAttr {
            raw: IntoOwned::into_owned(self.raw),
            codec: self.codec,
        }
    }
}

impl<'a> StreamAttr<'a> {
    /// Reads the codec id from the JSON inside the string; anything unreadable gives no codec.
    pub fn parse(raw: impl Into<Cow<'a, str>>) -> StreamAttr<'a> {
        let raw = raw.into();
        StreamAttr {
            codec: Self::codec_of(&raw),
            raw,
        }
    }

    /// The cid in `{"cid":N}` when N is a JSON number of digits that fits in 32 bits.
    pub(crate) fn cid_digits(digits: &str) -> Option<u32> {
        let json_number = digits == "0" || !digits.starts_with('0');
        if !json_number || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// The codec named by a `stream_attr` text, if it names one.
    pub(crate) fn codec_of(raw: &str) -> Option<Codec> {
        // What ZEGO sends, read without building the object.
        if let Some(cid) = raw
            .strip_prefix(r#"{"cid":"#)
            .and_then(|r| r.strip_suffix('}'))
        {
            if let Some(cid) = Self::cid_digits(cid) {
                return Some(Codec::from_cid(cid));
            }
        }
        let fields = crate::body::decode_json(raw).ok()?;
        let cid = fields
            .get("cid")
            .and_then(Value::as_text)?
            .parse::<u32>()
            .ok()?;
        Some(Codec::from_cid(cid))
    }
}

impl Serialize for StreamAttr<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'a> FromValue<'a> for StreamAttr<'a> {
    const KIND: Kind = Kind::StreamAttr;
    fn from_typed(typed: Typed<'a>) -> Option<Self> {
        match typed {
            Typed::Text(raw) => Some(StreamAttr::parse(raw)),
            _ => None,
        }
    }
    fn from_value(field: &str, value: Value<'a>) -> Result<Option<Self>, Error> {
        Ok(<Cow<'a, str>>::from_value(field, value)?.map(StreamAttr::parse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value<'_> {
        Value::String(text.into())
    }
    fn n(text: &str) -> Value<'_> {
        Value::Number(text.into())
    }

    #[test]
    fn decimal_is_str_parse_for_digits() {
        let cases = [
            "0",
            "01",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "000000000000000000000000018446744073709551615",
            "0000000000000000000000000000000000000000000000",
        ];
        for text in cases {
            assert_eq!(decimal(text), text.parse::<u64>().ok(), "{text}");
        }
        for bad in ["", "+1", "-1", "1 ", "١"] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn integers_accept_strings_numbers_and_leading_zeros() {
        assert_eq!(u64::from_value("stream_seq", s("01")).unwrap(), Some(1));
        assert_eq!(u64::from_value("stream_seq", n("700")).unwrap(), Some(700));
        assert_eq!(u64::from_value("stream_seq", s("")).unwrap(), None);
        assert_eq!(u64::from_value("stream_seq", Value::Null).unwrap(), None);
    }

    #[test]
    fn integers_reject_signs_fractions_and_words() {
        for bad in [s("-1"), s("+1"), s(" 1"), n("1.0"), n("1e3"), s("abc")] {
            let e = u64::from_value("type", bad).unwrap_err();
            assert_eq!(e.field(), Some("type"));
        }
        let e = u64::from_value("seq", Value::Bool(true)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid field `seq`: expected an integer, got a boolean"
        );
    }

    #[test]
    fn counters_above_2_pow_53_are_refused_ids_are_not() {
        assert!(u64::from_value("seq", n("9007199254740992")).is_err());
        assert_eq!(
            Id64::from_value("room_session_id", n("858012925204410401")).unwrap(),
            Some(Id64(858012925204410401))
        );
        assert!(Id64::from_value("room_session_id", n("18446744073709551616")).is_err());
    }

    #[test]
    fn appid_is_32_bits() {
        assert_eq!(
            u32::from_value("appid", n("4294967295")).unwrap(),
            Some(u32::MAX)
        );
        assert!(u32::from_value("appid", n("4294967296")).is_err());
    }

    #[test]
    fn timestamp_keeps_its_text() {
        let t = Timestamp::from_value("timestamp", s("01499676989"))
            .unwrap()
            .unwrap();
        assert_eq!((t.secs, &*t.text), (1499676989, "01499676989"));
    }

    #[test]
    fn string_arrays_from_json_and_form_shapes() {
        let one = Vec::<Cow<str>>::from_value("u", s("rtmp://a")).unwrap();
        assert_eq!(one, Some(vec![Cow::from("rtmp://a")]));
        let json = Vec::<Cow<str>>::from_value("u", s(r#"["a","b"]"#)).unwrap();
        assert_eq!(json, Some(vec![Cow::from("a"), Cow::from("b")]));
        assert!(Vec::<Cow<str>>::from_value("u", s("[1,")).is_err());
        let escaped = Vec::<Cow<str>>::from_value("u", s(r#" ["a\"b", "\u4e2d"] "#)).unwrap();
        assert_eq!(escaped, Some(vec![Cow::from("a\"b"), Cow::from("中")]));
        let e = Vec::<Cow<str>>::from_value("u", s("[1]")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid field `u`: not a JSON array of strings: an item is a number"
        );
        assert!(Vec::<Cow<str>>::from_value("u", s(r#"["a"] x"#)).is_err());
        assert!(Vec::<Cow<str>>::from_value("u", Value::Array(vec![Value::Null])).is_err());
    }

    #[test]
    fn stream_attr_codec_or_raw() {
        assert_eq!(StreamAttr::parse(r#"{"cid":3}"#).codec, Some(Codec::H265));
        assert_eq!(
            StreamAttr::parse(r#"{"cid":"1"}"#).codec,
            Some(Codec::H264Svc)
        );
        let bad = StreamAttr::parse("{cid:0");
        assert_eq!((&*bad.raw, bad.codec), ("{cid:0", None));
        // Not JSON (a leading zero), so no codec, as the full reader says.
        assert_eq!(StreamAttr::parse(r#"{"cid":01}"#).codec, None);
        assert_eq!(StreamAttr::parse(r#"{"cid":0}"#).codec, Some(Codec::H264));
        assert_eq!(StreamAttr::parse(r#"{"cid":4294967296}"#).codec, None);
    }
}
