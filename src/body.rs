//! Body decoding: JSON or form data into [`Fields`], chosen by Content-Type or by sniffing.

use std::borrow::Cow;

use percent_encoding::percent_decode;

use crate::value::{Fields, Value};
use crate::Error;

/// The largest body accepted unless configured otherwise: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The most members a JSON object, or pairs a form, may have. ZEGO's callbacks have a few
/// dozen; the bound keeps what an unsigned request can make a receiver do before its
/// signature is checked (finding repeated names) within a few normal callbacks.
pub const MAX_MEMBERS: usize = 256;

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`: ZEGO's default.
    Json,
    /// `application/x-www-form-urlencoded`: ZEGO's "POST/FORM" option.
    Form,
}

impl Format {
    /// The format a Content-Type names; `None` means "look at the body" (no type given, or a
    /// generic one such as `text/plain`).
    pub fn from_content_type(content_type: Option<&str>) -> Result<Option<Format>, Error> {
        let Some(full) = content_type else {
            return Ok(None);
        };
        let essence = full.split(';').next().unwrap_or("").trim();
        // Compared without case, and without allocating: this runs on every callback.
        let is = |name: &str| essence.eq_ignore_ascii_case(name);
        let ends = |suffix: &str| {
            let at = essence.len().checked_sub(suffix.len());
            at.and_then(|at| essence.get(at..))
                .is_some_and(|end| end.eq_ignore_ascii_case(suffix))
        };
        let starts = |prefix: &str| {
            essence
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        };
        if essence.is_empty() || is("text/plain") || is("application/octet-stream") {
            Ok(None)
        } else if is("application/json") || is("text/json") {
            Ok(Some(Format::Json))
        } else if is("application/x-www-form-urlencoded") {
            Ok(Some(Format::Form))
        } else if starts("application/") && ends("+json") {
            Ok(Some(Format::Json))
        } else {
            Err(Error::UnsupportedContentType {
                content_type: full.to_owned(),
            })
        }
    }

    /// The format a body looks like: JSON when it starts with `{` or `[`, else form data.
    pub fn sniff(body: &str) -> Format {
        match body.as_bytes().first() {
            Some(b'{' | b'[') => Format::Json,
            _ => Format::Form,
        }
    }
}

/// Decodes a body into its fields.
///
/// A UTF-8 byte order mark and surrounding whitespace are ignored. The format comes from
/// `content_type` when it names one, otherwise from the body itself.
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Result<Fields<'a>, Error> {
    let declared = Format::from_content_type(content_type)?;
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let body = std::str::from_utf8(body).map_err(|e| {
        Error::malformed(format!(
            "the body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    let body = body.trim_matches(|c: char| c.is_ascii_whitespace());
    if body.is_empty() {
        return Err(Error::malformed("the body is empty"));
    }
    match declared.unwrap_or_else(|| Format::sniff(body)) {
        Format::Json => decode_json(body),
        Format::Form if declared.is_none() && !body.contains('=') => Err(Error::malformed(
            "the body is neither a JSON object nor form data",
        )),
        Format::Form => decode_form(body),
    }
}

/// Parses a JSON object, keeping every number's exact text.
///
/// Strings without escapes borrow from `body`; the grammar, the nesting limit and the error
/// messages are serde_json's (tests/json_differential.rs checks both against it).
pub fn decode_json(body: &str) -> Result<Fields<'_>, Error> {
    json::parse(body).map_err(|e| Error::malformed(format!("invalid JSON: {e}")))
}

pub(crate) mod json;

/// Parses `application/x-www-form-urlencoded` data: `+` is a space, `%XX` escapes are
/// decoded, and the result must be UTF-8. A repeated key becomes an array.
///
/// At most [`MAX_MEMBERS`] pairs: this runs before the signature is checked, and a repeated
/// key is looked for among the earlier ones, so the bound keeps what a large unsigned form
/// costs (at most 256 x 255 / 2 key comparisons) within a few normal callbacks. Only keys of
/// the same length are compared byte by byte, and at most [`FORM_COMPARE_BYTES`] bytes in
/// all: long keys that share most of their bytes (which no callback has) are refused rather
/// than compared for milliseconds.
pub fn decode_form(body: &str) -> Result<Fields<'_>, Error> {
    let mut pairs: Vec<(Cow<'_, str>, Value<'_>)> = Vec::new();
    let mut budget = FORM_COMPARE_BYTES;
    let mut count = 0;
    for (i, part) in body.split('&').enumerate() {
        if part.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_MEMBERS {
            return Err(Error::malformed(format!(
                "more than {MAX_MEMBERS} pairs in the form data"
            )));
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let key = form_decode(k).ok_or_else(|| not_utf8(i))?;
        let value = Value::String(form_decode(v).ok_or_else(|| not_utf8(i))?);
        match pairs
            .iter_mut()
            .find(|(name, _)| same_key(name, &key, &mut budget))
        {
            Some((_, first)) => push_repeat(first, value),
            None if budget == 0 => {
                return Err(Error::malformed(format!(
                    "the form data's keys take more than {FORM_COMPARE_BYTES} bytes to compare \
                     (many long keys alike)"
                )))
            }
            None => pairs.push((key, value)),
        }
    }
    Ok(Fields::from_vec(pairs))
}

/// The most bytes of keys [`decode_form`] compares to group repeated keys: four bodies of the
/// default size limit, a fraction of a millisecond.
pub const FORM_COMPARE_BYTES: usize = 4 * DEFAULT_MAX_BODY_BYTES;

/// Adds a repeated key's value to what its first occurrence holds: an array, in order.
fn push_repeat<'a>(held: &mut Value<'a>, value: Value<'a>) {
    match held {
        Value::Array(items) => items.push(value),
        first => {
            let first_value = std::mem::replace(first, Value::Null);
            *first = Value::Array(vec![first_value, value]);
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Key comparisons made by form decoding, for the test that bounds them.
    static KEY_COMPARISONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Whether two keys are the same, comparing bytes only when their lengths are, and only
/// while `budget` (bytes) lasts: once spent, no key is the same, and the budget is 0.
fn same_key(a: &str, b: &str, budget: &mut usize) -> bool {
    #[cfg(test)]
    KEY_COMPARISONS.with(|n| n.set(n.get() + 1));
    if a.len() != b.len() {
        return false;
    }
    match budget.checked_sub(a.len().max(1)) {
        Some(left) => {
            *budget = left;
            a == b
        }
        None => {
            *budget = 0;
            false
        }
    }
}

fn not_utf8(index: usize) -> Error {
    Error::malformed(format!(
        "form pair {} is not valid UTF-8 once decoded",
        index + 1
    ))
}

/// One form-encoded component decoded: `+` is a space, `%XX` escapes are decoded; `None`
/// when the result is not UTF-8.
pub(crate) fn form_decode(s: &str) -> Option<Cow<'_, str>> {
    if !s.contains(['+', '%']) {
        return Some(Cow::Borrowed(s));
    }
    let spaced = s.replace('+', " ");
    percent_decode(spaced.as_bytes())
        .decode_utf8()
        .ok()
        .map(|c| Cow::Owned(c.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(fields: &Fields, name: &str) -> String {
        fields
            .get(name)
            .and_then(Value::as_text)
            .unwrap()
            .to_owned()
    }

    #[test]
    fn json_numbers_keep_their_exact_text() {
        let f = decode(
            br#"{"a": 858012925204410401, "b":1.50e3 ,"c":"x\"y"}"#,
            None,
        )
        .unwrap();
        assert_eq!(
            f.get("a"),
            Some(&Value::Number("858012925204410401".into()))
        );
        assert_eq!(f.get("b"), Some(&Value::Number("1.50e3".into())));
        assert_eq!(f.get("c"), Some(&Value::String("x\"y".into())));
    }

    #[test]
    fn bom_and_whitespace_are_tolerated() {
        let f = decode(
            b"\xEF\xBB\xBF \n {\"a\":\"1\"}\r\n",
            Some("application/json"),
        )
        .unwrap();
        assert_eq!(text(&f, "a"), "1");
    }

    #[test]
    fn trailing_comma_is_a_malformed_body() {
        let e = decode(b"{\"a\":\"1\",}", None).unwrap_err();
        assert_eq!(e.code(), "malformed_body");
        assert!(e.to_string().contains("trailing comma"), "{e}");
    }

    #[test]
    fn duplicate_json_keys_are_rejected() {
        let e = decode(br#"{"timestamp":"1","timestamp":"2"}"#, None).unwrap_err();
        assert!(e.to_string().contains("duplicate field `timestamp`"), "{e}");
    }

    #[test]
    fn objects_are_bounded_in_members() {
        let members = |n: usize| {
            let list: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{\"nested\":{{{}}}}}", list.join(","))
        };
        assert_eq!(decode_json(&members(MAX_MEMBERS)).unwrap().len(), 1);
        let e = decode_json(&members(MAX_MEMBERS + 1)).unwrap_err();
        assert!(e.to_string().contains("more than 256 members"), "{e}");
    }

    #[test]
    fn non_object_json_is_rejected() {
        let e = decode(b"[1,2]", None).unwrap_err();
        assert!(e.to_string().contains("expected a JSON object"), "{e}");
    }

    #[test]
    fn form_values_are_url_decoded_with_plus_as_space() {
        let f = decode(
            b"a=x+y%2Bz&b=%E4%BD%A0&c",
            Some("application/x-www-form-urlencoded"),
        )
        .unwrap();
        assert_eq!(text(&f, "a"), "x y+z");
        assert_eq!(text(&f, "b"), "你");
        assert_eq!(text(&f, "c"), "");
    }

    #[test]
    fn repeated_form_keys_become_an_array_in_first_seen_order() {
        let f = decode(b"u=1&x=2&u=3&u=4", None).unwrap();
        let names: Vec<_> = f.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["u", "x"]);
        assert_eq!(
            f.get("u"),
            Some(&Value::Array(vec![
                Value::String("1".into()),
                Value::String("3".into()),
                Value::String("4".into())
            ]))
        );
    }

    #[test]
    fn repeats_group_in_first_seen_order_up_to_the_bound() {
        let mut body: Vec<String> = (0..MAX_MEMBERS - 5).map(|i| format!("k{i}={i}")).collect();
        body.extend(["k3=again", "k0=x", "k250=y", "k3=last"].map(str::to_owned));
        body.insert(50, "k7=mid".to_owned());
        let body = body.join("&");
        let f = decode_form(&body).unwrap();
        assert_eq!(f.len(), MAX_MEMBERS - 5);
        let names: Vec<String> = f.iter().map(|(k, _)| k.to_owned()).collect();
        let expected: Vec<String> = (0..MAX_MEMBERS - 5).map(|i| format!("k{i}")).collect();
        assert_eq!(names, expected);
        let strings = |items: &[&'static str]| -> Value<'static> {
            Value::Array(items.iter().map(|s| Value::String((*s).into())).collect())
        };
        assert_eq!(f.get("k3"), Some(&strings(&["3", "again", "last"])));
        assert_eq!(f.get("k0"), Some(&strings(&["0", "x"])));
        assert_eq!(f.get("k7"), Some(&strings(&["7", "mid"])));
        assert_eq!(f.get("k250"), Some(&strings(&["250", "y"])));
        assert_eq!(f.get("k5"), Some(&Value::String("5".into())));
    }

    #[test]
    fn a_form_of_many_distinct_keys_is_refused_before_it_costs_much() {
        // 64 KiB holds 13,000 distinct keys: grouping each key against every earlier one
        // made ~84 million comparisons. Past the bound the form is refused, so the most a
        // form costs is the bound's square. Counted, not timed.
        let many: String = (0..13_000).map(|i| format!("{i:x}&")).collect();
        assert!(many.len() <= DEFAULT_MAX_BODY_BYTES);
        KEY_COMPARISONS.with(|n| n.set(0));
        let e = decode_form(&many).unwrap_err();
        assert_eq!(e.code(), "malformed_body");
        assert!(e.to_string().contains("more than 256 pairs"), "{e}");
        let worst: String = (0..MAX_MEMBERS).map(|i| format!("{i:x}&")).collect();
        assert_eq!(decode_form(&worst).unwrap().len(), MAX_MEMBERS);
        let compared = KEY_COMPARISONS.with(|n| n.get());
        assert!(compared <= 2 * 256 * 255 / 2, "{compared} key comparisons");
    }

    #[test]
    fn long_keys_alike_are_refused_before_they_cost_much() {
        // 256 keys of 250 bytes that differ only in their last 4: grouping them compared
        // about 8 MB (6 ms in Node). The comparison stops at its budget.
        let prefix = "k".repeat(246);
        let alike: String = (0..MAX_MEMBERS)
            .map(|i| format!("{prefix}{i:04x}=v&"))
            .collect();
        assert!(alike.len() <= DEFAULT_MAX_BODY_BYTES);
        let e = decode_form(&alike).unwrap_err();
        assert_eq!(e.code(), "malformed_body");
        assert!(e.to_string().contains("bytes to compare"), "{e}");
        // Keys of other lengths are never compared byte by byte, and a form of ZEGO's kind
        // (short keys, some repeated) is well within the budget.
        let varied: String = (0..MAX_MEMBERS)
            .map(|i| format!("{}=v&", "k".repeat(i + 1)))
            .collect();
        assert_eq!(decode_form(&varied).unwrap().len(), MAX_MEMBERS);
        let repeated: String = (0..MAX_MEMBERS)
            .map(|i| format!("key{}=v{i}&", i % 16))
            .collect();
        let f = decode_form(&repeated).unwrap();
        assert_eq!(f.len(), 16);
        assert!(matches!(f.get("key3"), Some(Value::Array(items)) if items.len() == 16));
    }

    #[test]
    fn invalid_utf8_is_rejected_raw_and_percent_encoded() {
        assert_eq!(
            decode(b"{\"a\":\"\xff\"}", None).unwrap_err().code(),
            "malformed_body"
        );
        let e = decode(b"a=%ff", None).unwrap_err();
        assert!(e.to_string().contains("pair 1"), "{e}");
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Format::from_content_type(Some("Application/JSON; charset=utf-8")).unwrap(),
            Some(Format::Json)
        );
        assert_eq!(
            Format::from_content_type(Some("application/x-www-form-urlencoded")).unwrap(),
            Some(Format::Form)
        );
        assert_eq!(Format::from_content_type(Some("text/plain")).unwrap(), None);
        let e = decode(b"{}", Some("multipart/form-data; boundary=x")).unwrap_err();
        assert_eq!(e.code(), "unsupported_content_type");
        assert_eq!(
            Format::from_content_type(Some("Application/Vnd.Zego+JSON")).unwrap(),
            Some(Format::Json)
        );
        for odd in [
            "applicatio\u{e9}/x+json",
            "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
            "+json",
            "text/x+json",
        ] {
            assert!(Format::from_content_type(Some(odd)).is_err(), "{odd}");
        }
    }

    #[test]
    fn empty_and_unrecognisable_bodies() {
        assert!(decode(b"", None).unwrap_err().to_string().contains("empty"));
        assert!(decode(b" \r\n", None)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(decode(b"hello", None)
            .unwrap_err()
            .to_string()
            .contains("neither"));
    }
}
