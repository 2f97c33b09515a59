//! The JSON decoder against serde_json, on generated documents valid and invalid.
//!
//! `body::decode_json` must accept exactly the texts serde_json accepts as a JSON object in
//! which no object repeats a name, nested at most as deep as serde_json allows; and when it
//! accepts, every name and string must equal serde_json's unescaped text and every number
//! must be the exact text received (which is also what serde_json's `RawValue` holds).

use std::fmt;

use proptest::prelude::*;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use zego_callback::body::decode_json;
use zego_callback::{Fields, Value};

/// A JSON value as serde_json reads it, names in order and numbers as raw text.
#[derive(Debug, PartialEq)]
enum Expected {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Expected>),
    Object(Vec<(String, Expected)>),
}

/// An object's members as serde_json reads them (names unescaped, values raw), repeats kept.
struct RawMembers<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawMembers<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawMembers<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    out.push((key, map.next_value::<&'a RawValue>()?));
                }
                Ok(RawMembers(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// serde_json's reading of one raw value; `Err` if serde_json refuses part of it (a string
/// with a lone surrogate, say) or an object repeats a name.
fn expected(raw: &RawValue) -> Result<Expected, String> {
    let text = raw.get();
    Ok(match text.as_bytes()[0] {
        b'{' => {
            let RawMembers(members) = serde_json::from_str(text).map_err(|e| e.to_string())?;
            let mut out: Vec<(String, Expected)> = Vec::new();
            for (name, value) in members {
                if out.iter().any(|(k, _)| *k == name) {
                    return Err(format!("duplicate field `{name}`"));
                }
                out.push((name, expected(value)?));
            }
            Expected::Object(out)
        }
        b'[' => {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            Expected::Array(items.into_iter().map(expected).collect::<Result<_, _>>()?)
        }
        b'"' => Expected::String(serde_json::from_str(text).map_err(|e| e.to_string())?),
        b't' => Expected::Bool(true),
        b'f' => Expected::Bool(false),
        b'n' => Expected::Null,
        _ => Expected::Number(text.to_owned()),
    })
}

/// What the decoder must return for `text`: `Ok` with the object, or `Err` with serde_json's
/// (or the duplicate check's) reason.
fn oracle(text: &str) -> Result<Expected, String> {
    // serde_json's full reading enforces the nesting limit and the grammar...
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        // ...but parses numbers into f64, which our exact text need not fit (1e400).
        if !e.to_string().starts_with("number out of range") {
            return Err(e.to_string());
        }
    }
    // RawValue checks the grammar of the whole text, with numbers as text.
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if !raw.get().starts_with('{') {
        return Err("not an object".into());
    }
    expected(raw)
}

fn same_value(ours: &Value<'_>, theirs: &Expected) -> Result<(), String> {
    match (ours, theirs) {
        (Value::Null, Expected::Null) => Ok(()),
        (Value::Bool(a), Expected::Bool(b)) if a == b => Ok(()),
        (Value::Number(a), Expected::Number(b)) if a == b => {
            // Where serde_json holds the number exactly, the text must say the same.
            if let Ok(serde_json::Value::Number(n)) = serde_json::from_str(b) {
                if let Some(i) = n.as_i64() {
                    if a.parse::<i64>().ok() != Some(i) {
                        return Err(format!("number {a} is not {i}"));
                    }
                } else if let Some(u) = n.as_u64() {
                    if a.parse::<u64>().ok() != Some(u) {
                        return Err(format!("number {a} is not {u}"));
                    }
                }
            }
            Ok(())
        }
        (Value::String(a), Expected::String(b)) if a == b => Ok(()),
        (Value::Array(a), Expected::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).try_for_each(|(x, y)| same_value(x, y))
        }
        (Value::Object(a), Expected::Object(b)) => same_fields(a, b),
        _ => Err(format!("{ours:?} differs from {theirs:?}")),
    }
}

fn same_fields(ours: &Fields<'_>, theirs: &[(String, Expected)]) -> Result<(), String> {
    if ours.len() != theirs.len() {
        return Err(format!("{} members, expected {}", ours.len(), theirs.len()));
    }
    for ((name, value), (ename, evalue)) in ours.iter().zip(theirs) {
        if name != ename {
            return Err(format!("name {name:?} differs from {ename:?}"));
        }
        same_value(value, evalue)?;
    }
    Ok(())
}

/// Checks one text; the error says how the decoder and the oracle disagree.
fn check(text: &str) -> Result<(), String> {
    let ours = decode_json(text);
    let theirs = oracle(text);
    match (&ours, &theirs) {
        (Ok(fields), Ok(Expected::Object(members))) => {
            same_fields(fields, members).map_err(|e| format!("{text:?}: {e}"))
        }
        (Err(e), Err(_)) => {
            let message = e.to_string();
            if e.code() != "malformed_body" || !message.contains("invalid JSON: ") {
                return Err(format!("{text:?}: unexpected error {message}"));
            }
            // Syntax errors say where they are, as serde_json's do.
            if !message.contains(" at line ") || !message.contains(" column ") {
                return Err(format!("{text:?}: no position in {message}"));
            }
            Ok(())
        }
        _ => Err(format!(
            "{text:?}: decoder says {:?}, serde_json says {:?}",
            ours.map(|f| f.len()),
            theirs
        )),
    }
}

// ------------------------------------------------------------------------------------------
// Generators.

/// Names from a small set, so that repeats are frequent, and some with escapes.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            r#""a""#, r#""b""#, r#""event""#, r#""timestamp""#, r#""""#, r#""\u0061""#,
            r#""a\/b""#, r#""a/b""#, r#""é""#, r#""\u00e9""#, r#""\ud83d\ude00""#, r#""😀""#,
        ])
        .prop_map(str::to_owned),
        1 => string_literal(),
    ]
}

/// Number texts, valid and not.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,3})?",
        1 => prop::sample::select(vec![
            "01", "-01", "00", "09", "-09", "0123456789", "-0.5e-0", "-", "1.", ".5", "1e", "1e+", "1E-", "+1", "-0", "0.0e0",
            "1e400", "-1e400", "1e-400", "18446744073709551615", "18446744073709551616",
            "-9223372036854775808", "-9223372036854775809", "9007199254740993", "1.5e",
            "0x10", "1_000", "Infinity", "NaN", "--1", "1..2", "1ee3", "0e", "-.5", "2.e3",
        ])
        .prop_map(str::to_owned),
        2 => "[-+.eE0-9]{1,6}",
        1 => "-?0[0-9]{1,3}",
    ]
}

/// One piece of a string literal's contents: text, escapes valid and invalid, raw control
/// characters.
fn string_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z0-9 _:/.,{}\\[\\]-]{0,12}",
        2 => any::<char>().prop_map(String::from),
        2 => prop::sample::select(vec![
            r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t", r"\u0041", r"\u00e9",
            r"\u20AC", r"\uFFFF", r"\u0000", r"\u001f", r"\ud83d\ude00", r"\uD83D\uDE00",
            // Lone and misordered surrogates, bad and short escapes.
            r"\ud800", r"\udc00", r"\ud800\u0041", r"\ud800\ud800", r"\ude00\ud83d",
            r"\ud800x", r"\ud800\n", r"\u12", r"\u12G4", r"\x41", r"\a", r"\'", r"\U0041",
            r"\", "\u{7f}", "é", "😀", "\u{fffd}", "\u{2028}",
        ])
        .prop_map(str::to_owned),
        1 => (0u8..0x20).prop_map(|b| char::from(b).to_string()),
        1 => "\\\\u[0-9a-fA-F]{4}",
    ]
}

fn string_literal() -> impl Strategy<Value = String> {
    prop::collection::vec(string_piece(), 0..4).prop_map(|p| format!("\"{}\"", p.concat()))
}

/// Whitespace, mostly JSON's own and sometimes not (form feed, no-break space, vertical tab).
fn ws() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just(String::new()),
        4 => "[ \t\r\n]{1,4}",
        1 => prop::sample::select(vec!["\u{c}", "\u{a0}", "\u{b}", "\u{feff}", "\u{2003}"])
            .prop_map(str::to_owned),
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => string_literal(),
        3 => number(),
        1 => prop::sample::select(vec![
            "true", "false", "null", "tru", "nul", "fals", "True", "NULL", "truex", "nulll",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A JSON-ish value: mostly well-formed structure with occasional slips (trailing commas,
/// missing colons or commas, a wrong closing bracket).
fn value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(5, 48, 6, |inner| {
        let member = (ws(), name(), ws(), ws(), inner.clone(), ws(), 0u8..40).prop_map(
            |(w1, k, w2, w3, v, w4, slip)| {
                let colon = if slip == 0 { "" } else { ":" };
                format!("{w1}{k}{w2}{colon}{w3}{v}{w4}")
            },
        );
        prop_oneof![
            (prop::collection::vec(member, 0..6), ws(), 0u8..30).prop_map(|(ms, w, slip)| {
                let sep = if slip == 0 { " " } else { "," };
                let trailing = if slip == 1 && !ms.is_empty() { "," } else { "" };
                let close = if slip == 2 { "]" } else { "}" };
                format!("{{{w}{}{trailing}{close}", ms.join(sep))
            }),
            (
                prop::collection::vec((ws(), inner, ws()), 0..6),
                ws(),
                0u8..30
            )
                .prop_map(|(items, w, slip)| {
                    let items: Vec<String> = items
                        .into_iter()
                        .map(|(a, v, b)| format!("{a}{v}{b}"))
                        .collect();
                    let sep = if slip == 0 { " " } else { "," };
                    let trailing = if slip == 1 && !items.is_empty() {
                        ","
                    } else {
                        ""
                    };
                    let close = if slip == 2 { "}" } else { "]" };
                    format!("[{w}{}{trailing}{close}", items.join(sep))
                }),
        ]
    })
}

/// A top-level object (usually), with surrounding whitespace and sometimes trailing text.
fn document() -> impl Strategy<Value = String> {
    let members = prop::collection::vec(
        (ws(), name(), ws(), value(), ws()).prop_map(|(a, k, b, v, c)| format!("{a}{k}{b}:{v}{c}")),
        0..8,
    );
    (
        ws(),
        members,
        ws(),
        prop_oneof![8 => Just(String::new()), 1 => scalar(), 1 => Just("}".to_owned())],
        0u8..20,
    )
        .prop_map(|(w1, ms, w2, trailing, top)| match top {
            0 => format!("{w1}[{}]{w2}", ms.join(",")),
            1 => format!("{w1}{}{w2}", ms.first().cloned().unwrap_or_default()),
            _ => format!("{w1}{{{}}}{w2}{trailing}", ms.join(",")),
        })
}

/// An edit at a random place: delete, insert or replace a character, cut the text short, or
/// repeat a slice of it.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, char),
    Replace(usize, char),
    Truncate(usize),
    Repeat(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let c = prop_oneof![
        4 => prop::sample::select(vec![
            '{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '0', '1', '-', '+', '.', 'e',
            'E', 'u', 't', 'n', 'f', '\u{0}', '\u{1f}', '\u{7f}', 'é', '😀',
        ]),
        1 => any::<char>(),
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), c.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        (any::<usize>(), c).prop_map(|(i, c)| Edit::Replace(i, c)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..12).prop_map(|(i, n)| Edit::Repeat(i, n)),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let len = chars.len();
    match *edit {
        Edit::Delete(i) if len > 0 => {
            chars.remove(i % len);
        }
        Edit::Insert(i, c) => chars.insert(i % (len + 1), c),
        Edit::Replace(i, c) if len > 0 => chars[i % len] = c,
        Edit::Truncate(i) => chars.truncate(i % (len + 1)),
        Edit::Repeat(i, n) if len > 0 => {
            let start = i % len;
            let end = (start + n).min(len);
            let slice: Vec<char> = chars[start..end].to_vec();
            chars.splice(end..end, slice);
        }
        _ => {}
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4096,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_documents_agree(doc in document()) {
        check(&doc).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn edited_documents_agree(doc in document(), edits in prop::collection::vec(edit(), 1..4)) {
        let mut text = doc;
        for e in &edits {
            text = apply(&text, e);
        }
        check(&text).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn strings_agree(pieces in prop::collection::vec(string_piece(), 0..8)) {
        let doc = format!(r#"{{"k":"{}","{}":1}}"#, pieces.concat(), pieces.concat());
        check(&doc).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn numbers_agree(n in number(), m in number()) {
        check(&format!(r#"{{"n":{n},"a":[{m},{n}]}}"#)).map_err(TestCaseError::fail)?;
        check(&format!(r#"{{"n":{n} }}"#)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn arbitrary_jsonish_text_agrees(text in r#"[{}\[\]",:\\ 0-9a-fetnrlsu.+Ee-]{0,40}"#) {
        check(&text).map_err(TestCaseError::fail)?;
        check(&format!("{{{text}")).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn arbitrary_text_agrees(text in any::<String>()) {
        check(&text).map_err(TestCaseError::fail)?;
    }
}

/// Nesting up to serde_json's limit and one past it, in arrays, objects and a mix.
#[test]
fn nesting_limit_matches_serde_json() {
    for depth in (0..140).chain([1000, 30_000]) {
        let arrays = format!(r#"{{"a":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
        let objects = format!(
            r#"{{"a":{}1{}}}"#,
            r#"{"b":"#.repeat(depth),
            "}".repeat(depth)
        );
        let mixed = format!(
            r#"{{"a":{}{}}}"#,
            r#"[{"b":"#.repeat(depth),
            "}]".repeat(depth)
        );
        let unclosed = format!(r#"{{"a":{}"#, "[".repeat(depth));
        for text in [arrays, objects, mixed, unclosed] {
            check(&text).unwrap();
        }
    }
}

/// Hand-picked cases, each checked against the oracle, with the outcome pinned too.
#[test]
fn known_cases() {
    let accepted = [
        r#"{}"#,
        " \t\r\n{ } \n",
        r#"{"a":1.5e3,"b":-0,"c":"x\"y","d":[],"e":{},"f":null,"g":true,"h":false}"#,
        r#"{"a":"\ud83d\ude00\u00e9\/\b\f\n\r\t"}"#,
        r#"{"a":1e400}"#,
        r#"{"a":{"x":1},"b":{"x":2}}"#,
        "{\"a\":\"\u{7f}é😀\"}",
        r#"{"a\u0062":1,"a":2}"#,
    ];
    for text in accepted {
        check(text).unwrap();
        assert!(decode_json(text).is_ok(), "{text}");
    }
    let refused = [
        "",
        " ",
        "[]",
        r#""a""#,
        "1",
        "null",
        "{",
        "}",
        r#"{"a":1,}"#,
        r#"{"a":[1,]}"#,
        r#"{"a":01}"#,
        r#"{"a":-}"#,
        r#"{"a":1.}"#,
        r#"{"a":.1}"#,
        r#"{"a":+1}"#,
        r#"{"a":1e}"#,
        r#"{"a":"\ud800"}"#,
        r#"{"a":"\udc00"}"#,
        r#"{"a":"\ud800\u0041"}"#,
        r#"{"\ud800":1}"#,
        r#"{"a":"\x"}"#,
        r#"{"a":"\u12"}"#,
        "{\"a\":\"\u{1}\"}",
        "{\"a\":\"\n\"}",
        r#"{"a":1}x"#,
        r#"{"a":1}{}"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        r#"{"a":1 "b":2}"#,
        r#"{"a":tru}"#,
        r#"{"a":"1","a":"2"}"#,
        r#"{"x":{"a":1,"a":2}}"#,
        r#"{"a":[{"b":1,"b":1}]}"#,
        r#"{"\u0061":1,"a":2}"#,
        r#"{"a\u0062":1,"ab":2}"#,
        "{\"a\":1}\u{c}",
        "\u{feff}{}",
    ];
    for text in refused {
        check(text).unwrap();
        assert!(decode_json(text).is_err(), "{text}");
    }
    let e = decode_json(r#"{"a":1,"a":2}"#).unwrap_err();
    assert!(e.to_string().contains("duplicate field `a`"), "{e}");
    let e = decode_json("{\n  \"a\": 1,\n}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "malformed body: invalid JSON: trailing comma at line 3 column 1"
    );
}

/// Objects too large for the quick duplicate check use the sorting one.
#[test]
fn repeated_names_in_large_objects() {
    for n in [31, 32, 33, 40, 200] {
        for (i, j) in [(0, n - 1), (n - 2, n - 1), (0, 1), (n / 2, n - 1)] {
            let names: Vec<String> = (0..n)
                .map(|k| format!("\"k{}\":{k}", if k == j { i } else { k }))
                .collect();
            let text = format!("{{{}}}", names.join(","));
            check(&text).unwrap();
            let e = decode_json(&text).unwrap_err();
            assert!(
                e.to_string().contains(&format!("duplicate field `k{i}`")),
                "{e}"
            );
        }
        let unique: Vec<String> = (0..n).map(|k| format!("\"k{k}\":{k}")).collect();
        let text = format!("{{{}}}", unique.join(","));
        check(&text).unwrap();
        assert_eq!(decode_json(&text).unwrap().len(), n);
    }
}
