//! The npm module's result path: a received callback described as spans of its body.
//!
//! [`describe`] receives a callback as [`crate::Receiver::receive`] does (size, format,
//! signature, window, typing) and, instead of building the typed callback, writes for each
//! field of the event's schema how to read its value out of the body: a mode and the UTF-16
//! span of the text. JS already holds the body as a string, so it builds the result with
//! `slice` and one object literal per event, and no value crosses the boundary as a string.
//!
//! It covers what ZEGO sends: a documented event as a JSON object whose values are scalars
//! or arrays of strings. Anything else, and anything [`crate::Receiver::receive`] would
//! refuse, gives `None`: the caller then takes that path, which returns the callback or the
//! exact error. So this path only has to be right when it accepts, and it accepts only what
//! the other path accepts, with the same result (tests/node/spans.test.mjs checks both on
//! the fixtures and on generated bodies).

use crate::body::json::{self, Flat, Member, Shape};
use crate::body::Format;
use crate::event::SCHEMAS;
use crate::field::{decimal, Codec, Kind, StreamAttr};
use crate::signature;
use crate::value::{safe_integer, same, MAX_SAFE_INTEGER};

macro_rules! protocol {
    (
        modes { $($(#[doc = $mdoc:literal])* $mode:ident = $mv:literal,)* }
        header { $($(#[doc = $hdoc:literal])* $slot:ident = $hv:literal,)* }
        words { $($(#[doc = $wdoc:literal])* $word:ident = $wv:literal,)* }
    ) => {
        /// How JS reads a value from its span.
        pub(crate) mod mode {
            $( $(#[doc = $mdoc])* pub const $mode: i32 = $mv; )*
        }

        /// The words before the fields, by position.
        pub(crate) mod slot {
            $( $(#[doc = $hdoc])* pub const $slot: usize = $hv; )*
        }

        $( $(#[doc = $wdoc])* pub(crate) const $word: usize = $wv; )*

        /// The protocol as JSON, for the JS that reads the words (scripts/build-pkg.mjs
        /// writes its constants into the package): `{"modes":{..},"header":{..},"words":{..}}`.
        #[cfg_attr(not(any(feature = "wasm", test)), allow(dead_code))]
        pub(crate) const PROTOCOL_JSON: &str = concat!(
            "{\"modes\":{", $("\"", stringify!($mode), "\":", $mv, ",",)* "\"_\":0},",
            "\"header\":{", $("\"", stringify!($slot), "\":", $hv, ",",)* "\"_\":0},",
            "\"words\":{", $("\"", stringify!($word), "\":", $wv, ",",)* "\"_\":0}}"
        );
    };
}

protocol! {
    modes {
        /// Not present: no property.
        ABSENT = 0,
        /// `text.slice(start, end)`.
        SLICE = 1,
        /// `JSON.parse(text.slice(start, end))`: a string with escapes, or an array of strings.
        JSON = 2,
        /// `+text.slice(start, end)`: decimal digits of at most 2^53 - 1.
        NUMBER = 3,
        /// `[text.slice(start, end)]`.
        ONE = 4,
        /// `[]`.
        EMPTY = 5,
        /// `true`.
        TRUE = 6,
        /// `false`.
        FALSE = 7,
        /// `null`.
        NULL = 8,
        /// An array of strings: "start" is the word where its items begin, "end" their count;
        /// each item is a mode (`SLICE` or `JSON`), a start and an end.
        LIST = 9,
        /// An integer of at most 2^53 - 1, not a span: "start" and "end" are its high and
        /// low 32 bits.
        INTEGER = 10,
    }
    header {
        /// How many extra fields follow the list items.
        EXTRAS = 0,
        /// How many optional fields are absent.
        ABSENT_FIELDS = 1,
        /// 1 when `stream_attr` names a codec.
        CODEC_PRESENT = 2,
        /// The codec's cid.
        CODEC_ID = 3,
        /// The word where the extras start.
        EXTRAS_AT = 4,
    }
    words {
        /// Words before the fields (the header above). List items and extras follow the
        /// fields.
        HEADER = 5,
        /// Words per field: mode, start, end.
        FIELD_WORDS = 3,
        /// Words per extra field: name start, name end, mode, start, end.
        EXTRA_WORDS = 5,
    }
}

/// The most words written: the output buffer never grows, so JS keeps one view of it.
pub const MAX_WORDS: usize = 1024;

/// What a receive is given.
pub struct Request<'a> {
    /// The body's bytes.
    pub body: &'a [u8],
    /// The secrets, any of which may sign.
    pub secrets: &'a [&'a str],
    /// The Content-Type, if any.
    pub content_type: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
    /// The window, in seconds.
    pub tolerance: u64,
    /// The body size limit.
    pub max_body: usize,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The callback's spans in `out` (its length is the words written) and the index of its
/// event in [`SCHEMAS`]; `None` where the full path must decide. `flat` is scratch space.
pub(crate) fn describe(req: &Request<'_>, flat: &mut Flat, out: &mut Vec<i32>) -> Option<usize> {
    // Offsets are i32 words (a body of 2 GiB or more takes the full path).
    if req.body.len() > req.max_body || req.body.len() > i32::MAX as usize {
        return None;
    }
    let declared = Format::from_content_type(req.content_type).ok()?;
    if declared == Some(Format::Form) {
        return None;
    }
    let bom = if req.body.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    let ascii = is_ascii(req.body);
    let whole = if ascii {
        // SAFETY: ASCII is UTF-8; checking it was the word-at-a-time loop just above, which
        // costs half of what from_utf8's checks cost in wasm.
        unsafe { std::str::from_utf8_unchecked(req.body) }
    } else {
        std::str::from_utf8(&req.body[bom..]).ok()?
    };
    let text = whole.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let base = bom + (whole.len() - text.len());
    let text = text.trim_end_matches(|c: char| c.is_ascii_whitespace());
    if !text.starts_with('{') {
        return None;
    }
    json::scan_flat(text, flat)?;
    let Flat { members, items } = &*flat;
    // A byte offset in `text` as a word: an offset in the body.
    let at = |offset: u32| (offset as usize + base) as i32;

    let span = |(start, end): (u32, u32)| {
        let (start, end) = (start as usize, end as usize);
        debug_assert!(start <= end && text.is_char_boundary(start) && text.is_char_boundary(end));
        // SAFETY: every span `scan_flat` records starts and ends next to an ASCII byte of
        // `text` (inside a string's quotes, or from any other value's first byte, a digit,
        // `-`, `[` or a literal's letter, to the byte after its last), so within `text` and
        // at character boundaries. Checking them
        // again is measurable in wasm, where names are matched span by span.
        unsafe { text.get_unchecked(start..end) }
    };
    let key = |m: &Member| span(m.key);
    let value = |m: &Member| span(m.value);

    let event = members.iter().find(|m| same(key(m), "event"))?;
    if event.shape != Shape::Str {
        return None;
    }
    let (index, schema) = SCHEMAS
        .iter()
        .enumerate()
        .find(|(_, s)| same(s.event, value(event)))?;
    let fields = schema.fields;
    if fields.len() > 64 {
        return None;
    }

    let words = HEADER + FIELD_WORDS * fields.len();
    out.clear();
    out.resize(words, 0);
    // The fields given so far, and the members that gave the signed ones (timestamp, nonce,
    // signature: the envelope's third to fifth fields).
    let mut seen = 0u64;
    let mut signed_by = [usize::MAX; 3];
    let mut extras = Vec::new();
    let mut codec = None;
    // Bodies list their fields in the schema's order, mostly: look there first.
    let mut next = 0;
    for (j, m) in members.iter().enumerate() {
        let name = key(m);
        let found = match fields.get(next) {
            Some(f) if same(f.name, name) => Some(next),
            _ => fields.iter().position(|f| same(f.name, name)),
        };
        let Some(i) = found else {
            extras.push(j);
            continue;
        };
        next = i + 1;
        if seen & (1 << i) != 0 {
            return None;
        }
        seen |= 1 << i;
        if (2..5).contains(&i) {
            signed_by[i - 2] = j;
        }
        let (start, end) = m.value;
        let (mode, span) = match (fields[i].kind, m.shape) {
            (Kind::Strings, Shape::Null) => (mode::EMPTY, m.value),
            (_, Shape::Null) => (mode::ABSENT, m.value),
            (Kind::String | Kind::StreamAttr, Shape::Str | Shape::Number) => (mode::SLICE, m.value),
            (Kind::String | Kind::StreamAttr, Shape::Escaped) => (mode::JSON, (start - 1, end + 1)),
            (Kind::Integer | Kind::AppId | Kind::Timestamp | Kind::Id, Shape::Str)
                if value(m).is_empty() =>
            {
                (mode::ABSENT, m.value)
            }
            (Kind::Integer | Kind::Timestamp | Kind::AppId, Shape::Str | Shape::Number) => {
                let max = match fields[i].kind {
                    Kind::AppId => u32::MAX.into(),
                    _ => MAX_SAFE_INTEGER,
                };
                let n = digits(value(m), max)?;
                (mode::INTEGER, ((n >> 32) as u32, n as u32))
            }
            (Kind::Id, Shape::Str | Shape::Number) => {
                digits(value(m), u64::MAX)?;
                // In decimal without leading zeros, as a u64 prints.
                let zeros = value(m).bytes().take_while(|&b| b == b'0').count();
                let skip = zeros.min(value(m).len() - 1) as u32;
                (mode::SLICE, (start + skip, end))
            }
            (Kind::Strings, Shape::Strings) => {
                let first = out.len();
                let (from, to) = (m.items.0 as usize, m.items.1 as usize);
                if first + FIELD_WORDS * (to - from) > MAX_WORDS {
                    return None;
                }
                for item in &items[from..to] {
                    let (mode, a, b) = match item.escaped {
                        false => (mode::SLICE, item.span.0, item.span.1),
                        // With its quotes, for JSON.parse.
                        true => (mode::JSON, item.span.0 - 1, item.span.1 + 1),
                    };
                    out.extend([mode, at(a), at(b)]);
                }
                (mode::LIST, (first as u32, (to - from) as u32))
            }
            (Kind::Strings, Shape::Str) if value(m).is_empty() => (mode::EMPTY, m.value),
            (Kind::Strings, Shape::Str) if !value(m).trim_start().starts_with('[') => {
                (mode::ONE, m.value)
            }
            _ => return None,
        };
        if fields[i].kind == Kind::StreamAttr && mode != mode::ABSENT {
            codec = match m.shape {
                // What ZEGO sends, `{\"cid\":0}`, read as it is; anything else unescaped.
                Shape::Escaped => match cid_escaped(value(m)) {
                    Some(cid) => Some(Codec::from_cid(cid)),
                    None => StreamAttr::codec_of(&json::string_at(text, start as usize)?),
                },
                _ => StreamAttr::codec_of(value(m)),
            };
        }
        let w = HEADER + FIELD_WORDS * i;
        out[w] = mode;
        if mode == mode::LIST || mode == mode::INTEGER {
            out[w + 1] = span.0 as i32;
            out[w + 2] = span.1 as i32;
        } else {
            out[w + 1] = at(span.0);
            out[w + 2] = at(span.1);
        }
    }

    // The envelope's signed values: a string without escapes or a number.
    let signed = |i: usize| {
        let m = members.get(signed_by[i - 2])?;
        matches!(m.shape, Shape::Str | Shape::Number).then(|| value(m))
    };
    let (timestamp, nonce, signature) = (signed(2)?, signed(3)?, signed(4)?);
    if !signature::verify_signature(req.secrets, timestamp, nonce, signature).ok()? {
        return None;
    }
    let secs = digits(timestamp, MAX_SAFE_INTEGER)?;
    signature::check_window(secs as i64, req.now, req.tolerance).ok()?;

    let mut absent = 0;
    for (i, f) in fields.iter().enumerate() {
        if out[HEADER + FIELD_WORDS * i] != mode::ABSENT {
            continue;
        }
        if f.required {
            return None;
        }
        if f.kind == Kind::Strings {
            out[HEADER + FIELD_WORDS * i] = mode::EMPTY;
        } else {
            absent += 1;
        }
    }

    let extras_at = out.len();
    for (n, &j) in extras.iter().enumerate() {
        let m = &members[j];
        let name = key(m);
        // A name JS would not set as an own property, or one given twice.
        if name == "__proto__" || extras[..n].iter().any(|&k| key(&members[k]) == name) {
            return None;
        }
        let (mode, span) = match m.shape {
            Shape::Str => (mode::SLICE, m.value),
            Shape::Escaped => (mode::JSON, (m.value.0 - 1, m.value.1 + 1)),
            Shape::Strings => (mode::JSON, m.value),
            Shape::True => (mode::TRUE, m.value),
            Shape::False => (mode::FALSE, m.value),
            Shape::Null => (mode::NULL, m.value),
            // "-0" is the integer 0, which `+"-0"` is not.
            Shape::Number if value(m) == "-0" => return None,
            Shape::Number if safe_integer(value(m)).is_some() => (mode::NUMBER, m.value),
            Shape::Number => (mode::SLICE, m.value),
        };
        // Checked before writing: the buffer must never grow (JS keeps its address).
        if out.len() + EXTRA_WORDS > MAX_WORDS {
            return None;
        }
        out.extend([at(m.key.0), at(m.key.1), mode, at(span.0), at(span.1)]);
    }
    out[slot::EXTRAS] = extras.len() as i32;
    out[slot::ABSENT_FIELDS] = absent;
    if let Some(codec) = codec {
        out[slot::CODEC_PRESENT] = 1;
        out[slot::CODEC_ID] = codec.cid() as i32;
    }
    out[slot::EXTRAS_AT] = extras_at as i32;
    if !ascii {
        to_utf16(req.body, out, fields.len(), extras_at);
    }
    Some(index)
}

/// The value of decimal digits (leading zeros allowed), if it is at most `max`.
fn digits(text: &str, max: u64) -> Option<u64> {
    decimal(text).filter(|&n| n <= max)
}

/// The cid of a `stream_attr` received as `{\"cid\":N}` (escaped quotes), N a JSON number
/// of digits that fits in 32 bits; `None` for any other text.
fn cid_escaped(raw: &str) -> Option<u32> {
    StreamAttr::cid_digits(raw.strip_prefix(r#"{\"cid\":"#)?.strip_suffix('}')?)
}

/// Whether every byte is ASCII, eight at a time.
fn is_ascii(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let high = (&mut words).fold(0, |acc, w| {
        acc | u64::from_le_bytes(w.try_into().unwrap_or_default())
    });
    (high & 0x8080_8080_8080_8080) == 0 && words.remainder().is_ascii()
}

/// Turns the byte offsets in `out` into offsets in UTF-16 units of the same text: the
/// fields' spans (but a list's, which point at its items), the items, then the extras'.
fn to_utf16(body: &[u8], out: &mut [i32], fields: usize, extras_at: usize) {
    // The UTF-16 offset of every byte offset: a 4-byte character is two units.
    let mut at = Vec::with_capacity(body.len() + 1);
    let mut units = 0u32;
    for &b in body {
        at.push(units);
        if b & 0xC0 != 0x80 {
            units += 1 + u32::from(b >= 0xF0);
        }
    }
    at.push(units);
    let fields_end = HEADER + FIELD_WORDS * fields;
    let (head, tail) = out.split_at_mut(fields_end);
    let convert = |w: &mut i32| *w = at[*w as usize] as i32;
    for slot in head[HEADER..].chunks_exact_mut(3) {
        if slot[0] != mode::LIST && slot[0] != mode::INTEGER {
            slot[1..].iter_mut().for_each(convert);
        }
    }
    let (items, extras) = tail.split_at_mut(extras_at - fields_end);
    for item in items.chunks_exact_mut(3) {
        item[1..].iter_mut().for_each(convert);
    }
    for extra in extras.chunks_exact_mut(EXTRA_WORDS) {
        for w in [0, 1, 3, 4] {
            convert(&mut extra[w]);
        }
    }
}

/// `describe` with scratch space of its own, kept from one call to the next as the npm
/// module keeps its own: for the fuzzer in fuzz/, which cannot name the crate's types.
#[cfg(feature = "fuzzing")]
pub struct Describer {
    flat: Flat,
    out: Vec<i32>,
}

#[cfg(feature = "fuzzing")]
impl Default for Describer {
    fn default() -> Self {
        Describer {
            flat: Flat::default(),
            out: Vec::with_capacity(MAX_WORDS),
        }
    }
}

#[cfg(feature = "fuzzing")]
impl Describer {
    /// `describe`: the event's index, or `None` for the full path.
    pub fn describe(&mut self, req: &Request<'_>) -> Option<usize> {
        describe(req, &mut self.flat, &mut self.out)
    }

    /// The words the last call wrote (their buffer, to check it never moved or grew).
    pub fn words(&self) -> &Vec<i32> {
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_as_json_is_the_constants() {
        let json: serde_json::Value = serde_json::from_str(PROTOCOL_JSON).unwrap();
        assert_eq!(json["modes"]["SLICE"], mode::SLICE);
        assert_eq!(json["modes"]["INTEGER"], mode::INTEGER);
        assert_eq!(json["header"]["EXTRAS_AT"], slot::EXTRAS_AT as u64);
        assert_eq!(json["words"]["HEADER"], HEADER as u64);
        assert_eq!(json["words"]["EXTRA_WORDS"], EXTRA_WORDS as u64);
        assert_eq!(
            json["modes"].as_object().unwrap().len(),
            12,
            "eleven modes and `_`"
        );
    }
    use crate::sign;

    const NOW: i64 = 1_700_000_000;

    fn body(fields: &str) -> String {
        let sig = sign("s", "1700000000", "n");
        format!(
            r#"{{"event":"mix_stop","appid":"1","timestamp":"1700000000","nonce":"n","signature":"{sig}",{fields}}}"#
        )
    }

    /// The words for a body, or `None` for the full path.
    fn describe_body(body: &str, content_type: Option<&str>) -> Option<(usize, Vec<i32>)> {
        let req = Request {
            body: body.as_bytes(),
            secrets: &["s"],
            content_type,
            now: NOW,
            tolerance: 300,
            max_body: 65536,
        };
        let (mut flat, mut out) = (Flat::default(), Vec::new());
        describe(&req, &mut flat, &mut out).map(|i| (i, out))
    }

    /// The text a field's span covers, by the field's index in the schema.
    fn field(body: &str, out: &[i32], i: usize) -> (i32, String) {
        let w = HEADER + FIELD_WORDS * i;
        let units: Vec<u16> = body.encode_utf16().collect();
        let span = &units[out[w + 1] as usize..out[w + 2] as usize];
        (out[w], String::from_utf16(span).unwrap())
    }

    #[test]
    fn a_documented_event_is_described_by_spans() {
        let b = body(r#""seq":"07","task_id":"t1","mix_url":"\u0072tmp""#);
        assert!(b.contains(r#""timestamp":"1700000000""#));
        let (index, out) = describe_body(&b, Some("application/json")).unwrap();
        assert_eq!(SCHEMAS[index].event, "mix_stop");
        assert_eq!(field(&b, &out, 0), (mode::SLICE, "mix_stop".into()));
        // Integers are given by value, high and low 32 bits.
        let w = HEADER + FIELD_WORDS * 5;
        assert_eq!(&out[w..w + 3], &[mode::INTEGER, 0, 7]);
        let w = HEADER + FIELD_WORDS * 2;
        assert_eq!(&out[w..w + 3], &[mode::INTEGER, 0, 1_700_000_000]);
        assert_eq!(field(&b, &out, 6), (mode::SLICE, "t1".into()));
        // An escaped string is given with its quotes, for JSON.parse.
        assert_eq!(field(&b, &out, 9), (mode::JSON, r#""\u0072tmp""#.into()));
        // channel_id, publish_id, mix_stream_alias are absent; no extras, no codec.
        assert_eq!(&out[..3], &[0, 3, 0]);
    }

    #[test]
    fn ids_lose_their_leading_zeros_and_offsets_count_utf16_units() {
        let sig = sign("s", "1700000000", "n");
        let b = format!(
            r#"{{"event":"room_close","appid":1,"timestamp":1700000000,"nonce":"n","signature":"{sig}","room_id":"😀张三","room_session_id":"007","room_close_time":5}}"#
        );
        let (_, out) = describe_body(&b, None).unwrap();
        assert_eq!(field(&b, &out, 5), (mode::SLICE, "😀张三".into()));
        assert_eq!(field(&b, &out, 6), (mode::SLICE, "7".into()));
    }

    #[test]
    fn extras_and_lists() {
        let sig = sign("s", "1700000000", "n");
        let b = format!(
            r#"{{"event":"mix_start","appid":1,"timestamp":"1700000000","nonce":"n","signature":"{sig}","seq":1,"task_id":"t","rtmp_urls":["a","b\"c"],"hls_urls":"one","z":-12,"y":1.50}}"#
        );
        let (_, out) = describe_body(&b, None).unwrap();
        let w = HEADER + FIELD_WORDS * 11;
        assert_eq!((out[w], out[w + 2]), (mode::LIST, 2));
        assert_eq!(out[out[w + 1] as usize], mode::SLICE);
        assert_eq!(out[out[w + 1] as usize + 3], mode::JSON);
        assert_eq!(field(&b, &out, 12), (mode::ONE, "one".into()));
        // hdl_urls absent: an empty list.
        assert_eq!(out[HEADER + FIELD_WORDS * 13], mode::EMPTY);
        assert_eq!(out[0], 2);
        let extras = out[4] as usize;
        assert_eq!(out[extras + 2], mode::NUMBER);
        assert_eq!(out[extras + EXTRA_WORDS + 2], mode::SLICE);
    }

    #[test]
    fn the_buffer_never_grows() {
        let many = |n: usize| (0..n).map(|i| format!(r#""x{i}":"v""#)).collect::<Vec<_>>();
        let (mut flat, mut out) = (Flat::default(), Vec::with_capacity(MAX_WORDS));
        let at = out.as_ptr();
        for (extras, items, described) in [(10, 2, true), (300, 2, false), (10, 400, false)] {
            let list = vec![r#""u""#; items].join(",");
            let fields = [many(extras), vec![format!(r#""rtmp_urls":[{list}]"#)]].concat();
            let b = body(&format!(r#""seq":1,"task_id":"t",{}"#, fields.join(",")))
                .replace("mix_stop", "mix_start");
            let req = Request {
                body: b.as_bytes(),
                secrets: &["s"],
                content_type: None,
                now: NOW,
                tolerance: 300,
                max_body: 65536,
            };
            let got = describe(&req, &mut flat, &mut out);
            assert_eq!(got.is_some(), described, "{extras} extras, {items} items");
            assert!(out.len() <= MAX_WORDS);
            assert_eq!((out.as_ptr(), out.capacity()), (at, MAX_WORDS));
        }
    }

    #[test]
    fn anything_else_takes_the_full_path() {
        let cases = [
            // Refused: bad signature, a repeated name, a wrong type, a missing field.
            body(r#""seq":"1","task_id":"t""#).replace(r#""nonce":"n""#, r#""nonce":"m""#),
            body(r#""seq":"1","task_id":"t","seq":"2""#),
            body(r#""seq":true,"task_id":"t""#),
            body(r#""seq":"1""#),
            // Accepted, but not by spans: a nested object, an unknown event, "__proto__".
            body(r#""seq":"1","task_id":"t","x":{"a":1}"#),
            body(r#""seq":"1","task_id":"t""#).replace("mix_stop", "transcode_start"),
            body(r#""seq":"1","task_id":"t","__proto__":1"#),
        ];
        for b in &cases {
            assert!(describe_body(b, None).is_none(), "{b}");
        }
        let form = "event=mix_stop&appid=1";
        assert!(describe_body(form, Some("application/x-www-form-urlencoded")).is_none());
        let good = body(r#""seq":"1","task_id":"t""#);
        assert!(describe_body(&good, Some("application/x-www-form-urlencoded")).is_none());
        assert!(describe_body(&good, None).is_some());
    }
}
