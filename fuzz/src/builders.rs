//! The npm module's result builders, copied from JS: `spanValue`, `spanText`, `spanList` and
//! `spanExtra` of js/api.js, and the per-event builder scripts/builders.mjs generates from
//! the schemas (with its helpers `I`, `S`, `C`). Line for line, so that a difference between
//! this and the full path is one between the JS and the full path.
//!
//! The copy is held to the JS two ways. By the fixtures, in `cargo test`: tests/node/
//! spans.test.mjs shows the real builders give the full path's object for every fixture, and
//! this crate's test `every_fixture_agrees` shows this copy gives it for the same inputs, so
//! on those the two agree. And by the corpus, against the real npm module: `examples/
//! outcomes.rs --json` writes every input of a corpus the span path describes with the
//! object this copy built, and js-agree.mjs runs each through pkg/ and compares (README,
//! "Fuzzing the span path"). A change to either JS file needs the same change here.

use zego_callback::event::{EventSchema, FieldSchema};
use zego_callback::field::Kind;
use zego_callback::Codec;

use crate::js::{json_parse, slice, to_number, utf16, Js, Obj};

/// Words before the fields (`HEADER` in scripts/builders.mjs).
const HEADER: i64 = 5;

/// The words `receivePacked` wrote, read as JS reads its `Int32Array`; reading a word this
/// call did not write (JS would read a stale one, or `undefined`) is an error.
struct Words<'a>(&'a [i32]);

impl Words<'_> {
    fn at(&self, w: i64) -> Result<i32, String> {
        usize::try_from(w)
            .ok()
            .and_then(|w| self.0.get(w).copied())
            .ok_or_else(|| format!("reads word {w}, past the {} written", self.0.len()))
    }
}

/// `codecNames()` of src/wasm.rs: the names by cid, then the name of any other cid.
fn codec_names() -> Vec<&'static str> {
    (0..5).map(|cid| Codec::from_cid(cid).name()).collect()
}

/// `spanValue(t, m, a, b)`.
fn span_value(t: &[u16], m: i32, a: i32, b: i32) -> Result<Js, String> {
    Ok(match m {
        1 => Js::Str(slice(t, a, b)?),
        2 => json_parse(&slice(t, a, b)?)?,
        3 => Js::Num(to_number(&slice(t, a, b)?)),
        4 => Js::Arr(vec![Js::Str(slice(t, a, b)?)]),
        5 => Js::Arr(vec![]),
        6 => Js::Bool(true),
        7 => Js::Bool(false),
        _ => Js::Null,
    })
}

/// `spanText(t, s, w)` (and `unescaped`, whose cache changes no value).
fn span_text(t: &[u16], s: &Words, w: i64) -> Result<Js, String> {
    let text = slice(t, s.at(w + 1)?, s.at(w + 2)?)?;
    if s.at(w)? == 1 {
        Ok(Js::Str(text))
    } else {
        json_parse(&text)
    }
}

/// `spanList(t, s, w)`.
fn span_list(t: &[u16], s: &Words, w: i64) -> Result<Js, String> {
    if s.at(w)? != 9 {
        return span_value(t, s.at(w)?, s.at(w + 1)?, s.at(w + 2)?);
    }
    let i = i64::from(s.at(w + 1)?);
    let n = i64::from(s.at(w + 2)?);
    // Its one- and two-item cases read the same words as the loop.
    let items = (0..n.max(0)).map(|k| span_text(t, s, i + 3 * k));
    items.collect::<Result<_, _>>().map(Js::Arr)
}

/// `spanExtra(t, s)`.
fn span_extra(t: &[u16], s: &Words) -> Result<Js, String> {
    let mut extra = Obj::default();
    let (mut n, mut w) = (s.at(0)?, i64::from(s.at(4)?));
    while n > 0 {
        let key = slice(t, s.at(w)?, s.at(w + 1)?)?;
        if key == utf16("__proto__") {
            return Err("sets extra.__proto__, its prototype, not a property".to_owned());
        }
        extra.set(
            key,
            span_value(t, s.at(w + 2)?, s.at(w + 3)?, s.at(w + 4)?)?,
        );
        n -= 1;
        w += 5;
    }
    Ok(Js::Obj(extra))
}

/// `I(s, w)`: an integer given by value, high and low 32 bits.
fn integer(s: &Words, w: i64) -> Result<Js, String> {
    Ok(Js::Num(
        f64::from(s.at(w + 1)?) * 4294967296.0 + f64::from(s.at(w + 2)? as u32),
    ))
}

/// `S(t, s, w)`: a 64-bit id, always a slice.
fn id(t: &[u16], s: &Words, w: i64) -> Result<Js, String> {
    Ok(Js::Str(slice(t, s.at(w + 1)?, s.at(w + 2)?)?))
}

/// `C(s)`: the codec.
fn codec(s: &Words) -> Result<Js, String> {
    if s.at(2)? == 0 {
        return Ok(Js::Null);
    }
    let names = codec_names();
    let (known, other) = names.split_at(names.len() - 1);
    let cid = s.at(3)? as u32;
    let name = known.get(cid as usize).unwrap_or(&other[0]);
    let mut o = Obj::default();
    o.put("cid", Js::Num(f64::from(cid)));
    o.put("name", Js::Str(utf16(name)));
    Ok(Js::Obj(o))
}

/// The expression builders.mjs writes for field `i`: `value(field, i)`.
fn value(t: &[u16], s: &Words, field: &FieldSchema, i: usize) -> Result<Js, String> {
    let w = HEADER + 3 * i as i64;
    match field.kind {
        Kind::Integer | Kind::AppId | Kind::Timestamp => integer(s, w),
        Kind::Id => id(t, s, w),
        Kind::Strings => span_list(t, s, w),
        _ => span_text(t, s, w),
    }
}

/// `BUILDERS[event](t, s)`: the callback object.
pub fn build(schema: &EventSchema, t: &[u16], s: &[i32]) -> Result<Js, String> {
    let s = &Words(s);
    let derived = schema.event == "stream_create";
    let optional = |f: &FieldSchema| !f.required && f.kind != Kind::Strings;
    let extra = |o: &mut Obj| -> Result<(), String> {
        let extra = if s.at(0)? == 0 {
            Js::Obj(Obj::default())
        } else {
            span_extra(t, s)?
        };
        o.put("extra", extra);
        Ok(())
    };
    let mut o = Obj::default();
    // The envelope (the schema's first five fields) with `known` after `event`; with no
    // optional field absent the rest follow in one literal, else each unless absent.
    let literal = s.at(1)? == 0;
    for (i, f) in schema.fields.iter().enumerate() {
        let absent = i >= 5 && !literal && optional(f) && s.at(HEADER + 3 * i as i64)? == 0;
        if !absent {
            o.put(f.name, value(t, s, f, i)?);
        }
        if i == 0 {
            o.put("known", Js::Bool(true));
        }
    }
    if derived {
        o.put("codec", codec(s)?);
    }
    extra(&mut o)?;
    Ok(Js::Obj(o))
}
