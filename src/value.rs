//! Field values exactly as received, before any typing.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// One value as it arrived, in JSON or form data.
///
/// Numbers keep their exact text, so a 64-bit id or a timestamp is never rounded and a
/// signature can be computed over the digits that were sent.
///
/// Text borrows from the body it was decoded from wherever it can (a JSON string without
/// escapes, a number, a form value without `+` or `%`), so decoding copies almost nothing;
/// [`Value::into_owned`] makes a value that outlives the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// JSON `null`.
    Null,
    /// JSON `true` or `false`.
    Bool(bool),
    /// A JSON number, as its exact text.
    Number(Cow<'a, str>),
    /// A JSON string (unescaped) or a form value (URL-decoded).
    String(Cow<'a, str>),
    /// A JSON array, or a key repeated in form data.
    Array(Vec<Value<'a>>),
    /// A JSON object.
    Object(Fields<'a>),
}

impl<'a> Value<'a> {
    /// The JSON type's name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The text of a string or number, as received.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Number(s) => Some(s),
            _ => None,
        }
    }

    /// The same value, owning all of its text.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(s) => Value::Number(Cow::Owned(s.into_owned())),
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Array(items) => Value::Array(items.into_iter().map(Value::into_owned).collect()),
            Value::Object(fields) => Value::Object(fields.into_owned()),
        }
    }
}

/// Serializes for JavaScript without losing a digit: a number that a JS number holds
/// exactly (an integer of at most 2^53 - 1 in size) is a number, any other number is its
/// exact text as a string.
impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(text) => match safe_integer(text) {
                Some(n) => s.serialize_i64(n),
                None => s.serialize_str(text),
            },
            Value::String(text) => s.serialize_str(text),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(fields) => fields.serialize(s),
        }
    }
}

/// The integer a JSON number's text stands for, if a JS number holds it exactly.
pub(crate) fn safe_integer(text: &str) -> Option<i64> {
    let n: i64 = text.parse().ok()?;
    (n.unsigned_abs() <= MAX_SAFE_INTEGER).then_some(n)
}

/// Whether two names are equal, eight bytes at a time: wasm's `memcmp` goes byte by byte,
/// and natively a call to it costs more than comparing a name of a dozen bytes.
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default());
    let half = |c: &[u8]| u32::from_le_bytes(c.try_into().unwrap_or_default());
    if n >= 8 {
        // Whole words, then the last eight bytes (overlapping the last word read).
        let (x, y) = (a.chunks_exact(8), b.chunks_exact(8));
        x.zip(y).all(|(p, q)| word(p) == word(q)) && word(&a[n - 8..]) == word(&b[n - 8..])
    } else if n >= 4 {
        half(&a[..4]) == half(&b[..4]) && half(&a[n - 4..]) == half(&b[n - 4..])
    } else {
        a.iter().zip(b).all(|(p, q)| p == q)
    }
}

/// The fields of an object, in the order received, each name once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields<'a>(Vec<(Cow<'a, str>, Value<'a>)>);

impl<'a> Fields<'a> {
    /// No fields.
    pub fn new() -> Self {
        Fields(Vec::new())
    }

    /// No fields, with room for `capacity`.
    pub fn with_capacity(capacity: usize) -> Self {
        Fields(Vec::with_capacity(capacity))
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value<'a>> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Adds a field at the end (the caller keeps names unique).
    pub fn push(&mut self, name: impl Into<Cow<'a, str>>, value: Value<'a>) {
        self.0.push((name.into(), value));
    }

    /// The fields in the order received.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a field of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The same fields, owning all of their text.
    pub fn into_owned(self) -> Fields<'static> {
        Fields(
            self.0
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                .collect(),
        )
    }

    /// Fields from name/value pairs the caller has checked for repeated names.
    pub(crate) fn from_vec(members: Vec<(Cow<'a, str>, Value<'a>)>) -> Self {
        Fields(members)
    }
}

impl<'a> IntoIterator for Fields<'a> {
    type Item = (Cow<'a, str>, Value<'a>);
    type IntoIter = std::vec::IntoIter<(Cow<'a, str>, Value<'a>)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, K: Into<Cow<'a, str>>> FromIterator<(K, Value<'a>)> for Fields<'a> {
    fn from_iter<I: IntoIterator<Item = (K, Value<'a>)>>(iter: I) -> Self {
        Fields(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_is_string_equality_at_every_length() {
        let text = "abcdefghijklmnopqrstuvwxyz";
        for n in 0..=20 {
            let a = &text[..n];
            assert!(same(a, a), "{a}");
            assert!(!same(a, &text[..n + 1]), "{a}");
            // One byte different, at each position.
            for i in 0..n {
                let mut b = a.as_bytes().to_vec();
                b[i] = b'_';
                let b = String::from_utf8(b).unwrap();
                assert!(!same(a, &b), "{a} {b}");
            }
        }
    }

    #[test]
    fn numbers_beyond_2_pow_53_serialize_as_their_exact_text() {
        let v = Value::Array(vec![
            Value::Number("858012925204410401".into()),
            Value::Number("9007199254740991".into()),
            Value::Number("-12".into()),
            Value::Number("1.50".into()),
        ]);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["858012925204410401",9007199254740991,-12,"1.50"]"#
        );
    }
}
