//! The few JS semantics the npm module's result depends on, in Rust: values and plain
//! objects (with JS's order of keys), `String.prototype.slice` on UTF-16 text,
//! `JSON.parse` and unary `+` on a string.

use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// A JS value, as `JSON.parse` or the result builders make them.
#[derive(Clone, Debug)]
pub enum Js {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string: UTF-16 code units, lone surrogates allowed.
    Str(Vec<u16>),
    /// An array.
    Arr(Vec<Js>),
    /// A plain object.
    Obj(Obj),
}

/// A plain object. JS enumerates the keys that are array indices first, ascending, then the
/// others in the order they were added; setting a key that exists keeps its place.
#[derive(Clone, Debug, Default)]
pub struct Obj {
    indexed: BTreeMap<u32, Js>,
    named: Vec<(Vec<u16>, Js)>,
}

impl Obj {
    /// `o[key] = value` on a plain object (the caller refuses `__proto__`, a setter), or a
    /// member `JSON.parse` creates.
    pub fn set(&mut self, key: Vec<u16>, value: Js) {
        if let Some(i) = array_index(&key) {
            self.indexed.insert(i, value);
        } else if let Some(slot) = self.named.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.named.push((key, value));
        }
    }

    /// `o[key] = value` with an ASCII key.
    pub fn put(&mut self, key: &str, value: Js) {
        self.set(key.encode_utf16().collect(), value);
    }

    /// The entries in JS's order (`Object.entries`).
    pub fn entries(&self) -> Vec<(Vec<u16>, &Js)> {
        let indexed = self
            .indexed
            .iter()
            .map(|(i, v)| (i.to_string().encode_utf16().collect(), v));
        let named = self.named.iter().map(|(k, v)| (k.clone(), v));
        indexed.chain(named).collect()
    }
}

/// The index of a key that is an array index: the canonical decimal of 0 to 2^32 - 2.
fn array_index(key: &[u16]) -> Option<u32> {
    let digits = key
        .iter()
        .all(|&c| (b'0' as u16..=b'9' as u16).contains(&c));
    if key.is_empty() || key.len() > 10 || !digits || (key.len() > 1 && key[0] == b'0' as u16) {
        return None;
    }
    let n: u64 = String::from_utf16_lossy(key).parse().ok()?;
    u32::try_from(n).ok().filter(|&n| n != u32::MAX)
}

/// `assert.deepStrictEqual` on these values with keys in the same order (what
/// `JSON.stringify` of both shows): numbers compared by `Object.is`.
pub fn same(a: &Js, b: &Js) -> bool {
    match (a, b) {
        (Js::Null, Js::Null) => true,
        (Js::Bool(x), Js::Bool(y)) => x == y,
        (Js::Num(x), Js::Num(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
        (Js::Str(x), Js::Str(y)) => x == y,
        (Js::Arr(x), Js::Arr(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Js::Obj(x), Js::Obj(y)) => {
            let (x, y) = (x.entries(), y.entries());
            x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| p.0 == q.0 && same(p.1, q.1))
        }
        _ => false,
    }
}

/// Shown as JSON (lone surrogates and control characters escaped; `-0` as `-0`).
impl fmt::Display for Js {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Js::Null => f.write_str("null"),
            Js::Bool(b) => write!(f, "{b}"),
            Js::Num(n) if *n == 0.0 && n.is_sign_negative() => f.write_str("-0"),
            Js::Num(n) => write!(f, "{n}"),
            Js::Str(s) => write_str(f, s),
            Js::Arr(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(']')
            }
            Js::Obj(o) => {
                f.write_char('{')?;
                for (i, (k, v)) in o.entries().iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_str(f, k)?;
                    write!(f, ":{v}")?;
                }
                f.write_char('}')
            }
        }
    }
}

fn write_str(f: &mut fmt::Formatter<'_>, s: &[u16]) -> fmt::Result {
    f.write_char('"')?;
    for c in char::decode_utf16(s.iter().copied()) {
        match c {
            Ok('"') => f.write_str("\\\"")?,
            Ok('\\') => f.write_str("\\\\")?,
            Ok(c) if c < ' ' => write!(f, "\\u{:04x}", c as u32)?,
            Ok(c) => f.write_char(c)?,
            Err(e) => write!(f, "\\u{:04x}", e.unpaired_surrogate())?,
        }
    }
    f.write_char('"')
}

/// A Rust string as JS holds it.
pub fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// `t.slice(a, b)` where the span path promises `0 <= a <= b <= t.length`, neither end
/// inside a surrogate pair: anything else is an error here (JS would clamp or swap and go on,
/// silently giving another string).
pub fn slice(t: &[u16], a: i32, b: i32) -> Result<Vec<u16>, String> {
    let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
        return Err(format!("span {a}..{b} has a negative end"));
    };
    if a > b || b > t.len() {
        return Err(format!(
            "span {a}..{b} is not within the body's {} units",
            t.len()
        ));
    }
    let splits = |p: usize| {
        p > 0
            && p < t.len()
            && (0xD800..0xDC00).contains(&t[p - 1])
            && (0xDC00..0xE000).contains(&t[p])
    };
    if splits(a) || splits(b) {
        return Err(format!("span {a}..{b} cuts a surrogate pair"));
    }
    Ok(t[a..b].to_vec())
}

/// `JSON.parse(text)`, or the `SyntaxError` it throws.
pub fn json_parse(text: &[u16]) -> Result<Js, String> {
    let mut p = Parser { t: text, i: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != text.len() {
        return Err(p.error("unexpected text after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    t: &'a [u16],
    i: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("JSON.parse: {what} at {}", self.i)
    }

    fn peek(&self) -> Option<u16> {
        self.t.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let found = self.peek() == Some(c as u16);
        if found {
            self.i += 1;
        }
        found
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(0x20 | 0x09 | 0x0A | 0x0D)) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Js, String> {
        if depth > 512 {
            return Err(self.error("too deep"));
        }
        match self.peek() {
            Some(0x7B) => {
                self.i += 1;
                let mut o = Obj::default();
                self.ws();
                if self.eat(b'}') {
                    return Ok(Js::Obj(o));
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"' as u16) {
                        return Err(self.error("expected a name"));
                    }
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(b':') {
                        return Err(self.error("expected ':'"));
                    }
                    self.ws();
                    let v = self.value(depth + 1)?;
                    o.set(key, v);
                    self.ws();
                    if self.eat(b'}') {
                        return Ok(Js::Obj(o));
                    }
                    if !self.eat(b',') {
                        return Err(self.error("expected ',' or '}'"));
                    }
                }
            }
            Some(0x5B) => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat(b']') {
                    return Ok(Js::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(b']') {
                        return Ok(Js::Arr(items));
                    }
                    if !self.eat(b',') {
                        return Err(self.error("expected ',' or ']'"));
                    }
                }
            }
            Some(0x22) => self.string().map(Js::Str),
            _ => {
                for (word, v) in [
                    ("true", Js::Bool(true)),
                    ("false", Js::Bool(false)),
                    ("null", Js::Null),
                ] {
                    if self.t[self.i..].starts_with(&utf16(word)) {
                        self.i += word.len();
                        return Ok(v);
                    }
                }
                self.number()
            }
        }
    }

    /// At the opening quote: the string's code units.
    fn string(&mut self) -> Result<Vec<u16>, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            self.i += 1;
            match c {
                0x22 => return Ok(out),
                0x00..=0x1F => return Err(self.error("control character in a string")),
                0x5C => {
                    let e = self
                        .peek()
                        .ok_or_else(|| self.error("unterminated escape"))?;
                    self.i += 1;
                    let unit = match e {
                        0x22 | 0x5C | 0x2F => e,
                        0x62 => 0x08,
                        0x66 => 0x0C,
                        0x6E => 0x0A,
                        0x72 => 0x0D,
                        0x74 => 0x09,
                        0x75 => {
                            let hex = self.t.get(self.i..self.i + 4).unwrap_or_default();
                            let hex = String::from_utf16(hex).unwrap_or_default();
                            let ok = hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit());
                            let unit = u16::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| ok)
                                .ok_or_else(|| self.error("bad \\u escape"))?;
                            self.i += 4;
                            unit
                        }
                        _ => return Err(self.error("bad escape")),
                    };
                    out.push(unit);
                }
                _ => out.push(c),
            }
        }
    }

    fn number(&mut self) -> Result<Js, String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while matches!(p.peek(), Some(0x30..=0x39)) {
                p.i += 1;
            }
            p.i - from
        };
        self.eat(b'-');
        if self.eat(b'0') {
            // No digit may follow a leading zero.
        } else if digits(self) == 0 {
            return Err(self.error("unexpected character"));
        }
        if self.eat(b'.') && digits(self) == 0 {
            return Err(self.error("no digit after '.'"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            if digits(self) == 0 {
                return Err(self.error("no digit in the exponent"));
            }
        }
        let text = String::from_utf16_lossy(&self.t[start..self.i]);
        // Rust's parse rounds correctly, as JS does.
        text.parse()
            .map(Js::Num)
            .map_err(|_| self.error("bad number"))
    }
}

/// Unary `+` on a string (ToNumber): surrounding whitespace ignored, empty is 0, decimal
/// with an optional sign, fraction and exponent, `Infinity`, or unsigned `0x`/`0o`/`0b`
/// integers; anything else is NaN.
pub fn to_number(s: &[u16]) -> f64 {
    let white = |c: &u16| {
        matches!(
            c,
            0x09..=0x0D
                | 0x20
                | 0xA0
                | 0x1680
                | 0x2000..=0x200A
                | 0x2028
                | 0x2029
                | 0x202F
                | 0x205F
                | 0x3000
                | 0xFEFF
        )
    };
    let start = s.iter().position(|c| !white(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !white(c)).map_or(start, |i| i + 1);
    let Ok(text) = String::from_utf16(&s[start..end]) else {
        return f64::NAN;
    };
    if text.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            if rest.is_empty() || !rest.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            // Exact below 2^53, which is all the span path gives as a number.
            return rest.chars().fold(0.0, |n, c| {
                n * radix as f64 + c.to_digit(radix).unwrap_or(0) as f64
            });
        }
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(&text);
    if unsigned == "Infinity" {
        return if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    // StrDecimalLiteral: digits with an optional point, or a point and digits; an exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = all_digits(int) && all_digits(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    if !mantissa_ok || !exponent_ok {
        return f64::NAN;
    }
    text.parse().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Js, String> {
        json_parse(&utf16(s))
    }

    #[test]
    fn json_parse_keeps_lone_surrogates_and_js_key_order() {
        let v = parse(r#"{"b":1,"2":true,"a":"\ud800x","1":null,"b":[],"01":0,"4294967295":0}"#)
            .unwrap();
        assert_eq!(
            v.to_string(),
            r#"{"1":null,"2":true,"b":[],"a":"\ud800x","01":0,"4294967295":0}"#
        );
        let Js::Obj(o) = &v else { panic!() };
        assert_eq!(o.entries()[3].1.to_string(), r#""\ud800x""#);
    }

    #[test]
    fn json_parse_refuses_what_js_refuses() {
        for bad in [
            "",
            "01",
            "1.",
            ".5",
            "+1",
            "[1,]",
            r#"{"a":1,}"#,
            "\"\t\"",
            r#""\x""#,
            "nul",
            "1 2",
            "'a'",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        for good in [
            "-0",
            " 1e400 ",
            "[]",
            r#""\/""#,
            "0.5E-3",
            r#"{"__proto__":1}"#,
        ] {
            assert!(parse(good).is_ok(), "{good}");
        }
        assert!(same(&parse("-0").unwrap(), &Js::Num(-0.0)));
        assert!(!same(&parse("-0").unwrap(), &Js::Num(0.0)));
    }

    #[test]
    fn unary_plus() {
        let n = |s: &str| to_number(&utf16(s));
        assert_eq!(n(" 12\n"), 12.0);
        assert_eq!(n(""), 0.0);
        assert_eq!(n("0x1f"), 31.0);
        assert_eq!(n("-Infinity"), f64::NEG_INFINITY);
        assert_eq!(n("5."), 5.0);
        assert_eq!(n(".5e1"), 5.0);
        assert!(n("-0").is_sign_negative());
        for nan in ["inf", "1_0", "-0x1", "1e", ".", "NaN", "12px"] {
            assert!(n(nan).is_nan(), "{nan}");
        }
    }

    #[test]
    fn slices_must_stay_within_the_text_and_whole_characters() {
        let t = utf16("a😀b");
        assert_eq!(slice(&t, 1, 3).unwrap(), utf16("😀"));
        assert!(slice(&t, 2, 3).is_err());
        assert!(slice(&t, 0, 5).is_err());
        assert!(slice(&t, 2, 1).is_err());
        assert!(slice(&t, -1, 1).is_err());
    }
}
