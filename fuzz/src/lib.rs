//! The span path against the full path, for the fuzz target `spans` and its tests.
//!
//! The npm module's `receive` runs src/spans.rs in wasm and, when it describes the callback
//! (returns an event's index), builds the object in JS from the words it wrote and the body
//! as a JS string; otherwise the full path runs (`Receiver::receive`, its JSON parsed in JS).
//! [`check`] does both here for one input: the span path as wasm calls it (with scratch space
//! a previous call left), the object built as the JS builders build it ([`builders`], on a
//! model of JS values, [`js`]), and the full path's JSON read as `JSON.parse` reads it. The
//! invariant is the npm module's: the same object, keys and order included, or (when the
//! span path declines) whatever the full path says, which is then all that runs.

pub mod builders;
pub mod js;

use std::cell::RefCell;

use zego_callback::event::SCHEMAS;
use zego_callback::spans::{Describer, Request, MAX_WORDS};
use zego_callback::{body, sign, Receiver, Value};

use js::{json_parse, utf16};

/// The secret of tests/fixtures/ (index.json).
pub const SECRET: &str = "zego-fixture-secret";

/// What one receive is given, as `receivePacked` takes it (one or two secrets: more take
/// the full path in JS).
#[derive(Debug, Clone)]
pub struct Case {
    /// The body's bytes (a JS string body arrives as its UTF-8: lone surrogates as U+FFFD).
    pub body: Vec<u8>,
    /// The secrets.
    pub secrets: Vec<String>,
    /// The Content-Type.
    pub content_type: Option<&'static str>,
    /// Unix seconds.
    pub now: i64,
    /// The window, in seconds.
    pub tolerance: u64,
    /// The body size limit.
    pub max_body: usize,
}

/// What [`check`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The span path declined: the full path's answer is the answer.
    Declined,
    /// The span path described a callback of this event, and it is the full path's.
    Described(&'static str),
}

/// The largest integer JS options take (`count` in js/api.js).
const MAX_SAFE: u64 = (1 << 53) - 1;

/// Content types: the first header byte's low four bits.
const CONTENT_TYPES: [Option<&str>; 16] = [
    None,
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
    Some("application/json; charset=utf-8"),
    Some("application/xml"),
    Some("APPLICATION/JSON"),
    Some("application/vnd.zego+json"),
    Some(""),
    Some(" application/json "),
    Some("text/plain; charset=utf-8"),
    Some("application/x-www-form-urlencoded; charset=utf-8"),
    Some("multipart/form-data"),
    Some("application/json;"),
    Some("json"),
    Some("application/jsonx"),
];

/// Secrets: the first header byte's bits 4 and 5. A body is re-signed with the last.
const SECRETS: [&[&str]; 4] = [
    &[SECRET],
    &["old-secret", SECRET],
    &[SECRET, "zego-fixture-secret-next"],
    &["", SECRET],
];

/// Windows, by the third header byte.
const TOLERANCES: [u64; 8] = [300, 0, 1, 5, 60, 3600, 86400, MAX_SAFE];

/// Fixed clocks, when `now` is not derived from the body's timestamp.
const NOWS: [i64; 6] = [1687981272, 1700000000, 0, 1, 1499676989, MAX_SAFE as i64];

/// An input as a case. Four header bytes, then the body:
/// 0. bits 0-3 the Content-Type, bits 4-5 the secrets, bit 6 set: keep the body's
///    signature as it is (else the body is re-signed when its timestamp, nonce and
///    signature can be read), bit 7 set: `now` from a fixed list rather than the body's
///    timestamp;
/// 1. `now`: a fixed one, or the timestamp moved to the window's edges or past them;
/// 2. the window (tolerance);
/// 3. the body size limit, fixed or around the body's length.
///
/// `None` for an input too short to hold the header.
pub fn prepare(data: &[u8]) -> Option<Case> {
    let (&[flags, now, tolerance, limit], body) = data.split_first_chunk::<4>()?;
    let content_type = CONTENT_TYPES[usize::from(flags & 0x0F)];
    let secrets: Vec<String> = SECRETS[usize::from(flags >> 4 & 3)]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let tolerance = TOLERANCES[usize::from(tolerance) % TOLERANCES.len()];
    let mut body = body.to_vec();
    let timestamp = signed_parts(&body, content_type).and_then(|(ts, nonce, at)| {
        if flags & 0x40 == 0 {
            let signature = sign(&secrets[secrets.len() - 1], &ts, &nonce);
            body.splice(at, signature.into_bytes());
        }
        ts.parse::<i64>().ok()
    });
    let now = match timestamp {
        Some(ts) if flags & 0x80 == 0 => {
            let tol = tolerance.min(MAX_SAFE) as i64;
            let moved = match now % 8 {
                0 | 1 => 0,
                2 => tol,
                3 => -tol,
                4 => tol + 1,
                5 => -tol - 1,
                6 => 1,
                _ => -1,
            };
            let moved = ts.saturating_add(moved);
            moved.clamp(0, MAX_SAFE as i64)
        }
        _ => NOWS[usize::from(now) % NOWS.len()],
    };
    let len = body.len();
    let max_body = match limit % 8 {
        0 | 1 => 65536,
        2 => len,
        3 => len.saturating_sub(1),
        4 => len + 1,
        5 => 0,
        6 => MAX_SAFE as usize,
        _ => 16,
    };
    Some(Case {
        body,
        secrets,
        content_type,
        now,
        tolerance,
        max_body,
    })
}

/// The body's timestamp and nonce texts and where its signature's text lies in it, when it
/// decodes (as given, else sniffed) and the signature is a value without escapes.
fn signed_parts(
    body: &[u8],
    content_type: Option<&str>,
) -> Option<(String, String, std::ops::Range<usize>)> {
    let fields = body::decode(body, content_type)
        .or_else(|_| body::decode(body, None))
        .ok()?;
    let text = |snake: &str, pascal: &str| {
        [snake, pascal]
            .iter()
            .find_map(|n| fields.get(n))
            .and_then(Value::as_text)
    };
    let (ts, nonce, sig) = (
        text("timestamp", "Timestamp")?,
        text("nonce", "Nonce")?,
        text("signature", "Signature")?,
    );
    // Where the decoded signature borrows from the body, that is its place.
    let at = (sig.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
    let range = at..at + sig.len();
    (body.get(range.clone())? == sig.as_bytes() && !sig.is_empty())
        .then(|| (ts.to_owned(), nonce.to_owned(), range))
}

thread_local! {
    /// The span path's scratch space, kept between calls as in wasm.
    static WARM: RefCell<Describer> = RefCell::new(Describer::default());
    /// What it describes before each input.
    static DIRTY: Case = dirty();
}

/// A body the span path describes with many members, list items and extras: run before each
/// input, so that the input is described over what it left, as in wasm.
fn dirty() -> Case {
    let values = [
        r#"["a","b\"c"]"#,
        r#""v""#,
        "-12",
        "1.50",
        "true",
        "null",
        r#""\u00e9""#,
    ];
    let extras: Vec<String> = (0..14)
        .map(|i| format!(r#""x{i}":{}"#, values[i % values.len()]))
        .collect();
    let items = [r#""\u00e9😀""#; 12].join(",");
    let body = format!(
        r#"{{"event":"stream_create","appid":1,"timestamp":"1700000000","nonce":"n","signature":"{}","room_id":"r😀","room_session_id":"1","stream_id":"s","stream_attr":"{{\"cid\":1}}","stream_seq":1,"create_time_ms":1,"rtmp_url":[{items}],"hls_url":"h",{}}}"#,
        sign(SECRET, "1700000000", "n"),
        extras.join(",")
    );
    Case {
        body: body.into_bytes(),
        secrets: vec![SECRET.to_owned()],
        content_type: Some("application/json"),
        now: 1700000000,
        tolerance: 300,
        max_body: 65536,
    }
}

fn request<'a>(case: &'a Case, secrets: &'a [&'a str]) -> Request<'a> {
    Request {
        body: &case.body,
        secrets,
        content_type: case.content_type,
        now: case.now,
        tolerance: case.tolerance,
        max_body: case.max_body,
    }
}

/// Both paths on one case: `Err` names a difference (or a broken promise of the span path).
pub fn check(case: &Case) -> Result<Outcome, String> {
    let secrets: Vec<&str> = case.secrets.iter().map(String::as_str).collect();
    let req = request(case, &secrets);
    let (described, words) = WARM.with(|warm| {
        let mut warm = warm.borrow_mut();
        DIRTY.with(|dirty| {
            let secrets = [SECRET];
            let before = warm.describe(&request(dirty, &secrets));
            assert!(before.is_some(), "the dirty body is not described");
        });
        let at = warm.words().as_ptr();
        let described = warm.describe(&req);
        let words = warm.words();
        // JS keeps one view of the buffer: it must not move or grow.
        if words.as_ptr() != at || words.capacity() != MAX_WORDS || words.len() > MAX_WORDS {
            return Err(format!(
                "the words moved or grew: {} written, capacity {}",
                words.len(),
                words.capacity()
            ));
        }
        Ok((described, words.clone()))
    })?;
    // What a previous call left must change nothing.
    let mut fresh = Describer::default();
    let again = fresh.describe(&req);
    if again != described || (described.is_some() && *fresh.words() != words) {
        return Err(format!(
            "a fresh describe gives {again:?} {:?}, after another body {described:?} {words:?}",
            fresh.words()
        ));
    }
    match described {
        None => Ok(Outcome::Declined),
        Some(index) => compare(case, index, &words),
    }
}

/// The object JS builds from the span path's words against the full path's.
fn compare(case: &Case, index: usize, words: &[i32]) -> Result<Outcome, String> {
    let schema = SCHEMAS
        .get(index)
        .ok_or_else(|| format!("event index {index} out of the schemas"))?;
    let full = Receiver::with_secrets(&case.secrets).and_then(|r| {
        r.tolerance_seconds(case.tolerance)
            .max_body_bytes(case.max_body)
            .receive(&case.body, case.content_type, case.now)
    });
    // The span path reads only UTF-8 (JS would decode anything else with replacements, at
    // other offsets).
    if std::str::from_utf8(&case.body).is_err() {
        return Err("the span path describes a body that is not UTF-8".to_owned());
    }
    let callback = full.map_err(|e| {
        format!(
            "the span path describes a {} that the full path refuses: {} ({e})",
            schema.event,
            e.code()
        )
    })?;
    // As src/wasm.rs writes it, read as JS reads it.
    let json = serde_json::to_string(&callback).map_err(|e| e.to_string())?;
    let expected = json_parse(&utf16(&json))?;
    // The body as a JS string: a byte body decoded by TextDecoder (replacing what is not
    // UTF-8, keeping a BOM), a string body as given (its UTF-8, lone surrogates as U+FFFD,
    // decoded again): both are this.
    let t = utf16(&String::from_utf8_lossy(&case.body));
    let got = builders::build(schema, &t, words)
        .map_err(|e| format!("building the {}: {e}; words {words:?}", schema.event))?;
    if !js::same(&got, &expected) {
        return Err(format!(
            "the objects differ\n  span path: {got}\n  full path: {expected}\n  words: {words:?}"
        ));
    }
    Ok(Outcome::Described(schema.event))
}

/// The object JS builds for a case the span path describes, for checks against the real JS
/// (examples/outcomes.rs `--json`, js-agree.mjs); `None` when the span path declines.
pub fn span_object(case: &Case) -> Option<Result<js::Js, String>> {
    let secrets: Vec<&str> = case.secrets.iter().map(String::as_str).collect();
    let mut describer = Describer::default();
    let index = describer.describe(&request(case, &secrets))?;
    let t = utf16(&String::from_utf8_lossy(&case.body));
    Some(builders::build(&SCHEMAS[index], &t, describer.words()))
}

#[cfg(test)]
mod tests;
