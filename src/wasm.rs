//! The npm module's bindings: thin wasm-bindgen functions over the core.
//!
//! They are wrapped by `js/api.js`, which validates arguments, reads the clock and turns a
//! thrown error (the JSON of [`Error`]) into a `ZegoCallbackError`. `receive` crosses as
//! numbers only: its texts packed into a scratch buffer in wasm memory, its result as spans
//! of the body (see [`spans`]), from which JS builds the object. Everything else, and a
//! callback the spans do not describe, crosses as JSON text for `JSON.parse`; 64-bit ids are
//! strings in it, so no digit is lost either way.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::body::json::Flat;
use crate::replay;
use crate::{body, event, live, signature, spans, Callback, Codec, Error, Receiver};

/// The JSON of an error, as thrown to JS: code, status, message and field.
fn error_json(e: Error) -> String {
    #[derive(Serialize)]
    struct Thrown<'a> {
        code: &'a str,
        status: u16,
        message: String,
        field: Option<&'a str>,
    }
    let thrown = Thrown {
        code: e.code(),
        status: e.status(),
        message: e.to_string(),
        field: e.field(),
    };
    serde_json::to_string(&thrown).unwrap_or_default()
}

/// An error thrown to JS: its JSON.
fn throw(e: Error) -> JsValue {
    JsValue::from_str(&error_json(e))
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing our own types to a String cannot fail: no map has non-string keys.
    serde_json::to_string(value).unwrap_or_default()
}

/// `sign(secret, timestamp, nonce)`: the hex signature (timestamp already text).
#[wasm_bindgen]
pub fn sign(secret: &str, timestamp: &str, nonce: &str) -> Result<String, JsValue> {
    signature::check_secrets(&[secret]).map_err(throw)?;
    Ok(signature::sign(secret, timestamp, nonce))
}

/// The sorted concatenation that is hashed (for the inspector; contains the secret).
#[wasm_bindgen(js_name = signingString)]
pub fn signing_string(secret: &str, timestamp: &str, nonce: &str) -> String {
    signature::signing_string(secret, timestamp, nonce)
}

/// `verifySignature(secrets, timestamp, nonce, signature)`.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(
    secrets: Vec<String>,
    timestamp: &str,
    nonce: &str,
    signature: &str,
) -> Result<bool, JsValue> {
    signature::verify_signature(&secrets, timestamp, nonce, signature).map_err(throw)
}

thread_local! {
    /// Where JS packs the arguments of [`verify_packed`]: grown by [`scratch`] only.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The address of a scratch buffer of at least `len` bytes in wasm memory, where JS writes
/// packed arguments with `TextEncoder.encodeInto` (no string crosses the boundary).
#[wasm_bindgen]
pub fn scratch(len: usize) -> *const u8 {
    SCRATCH.with(|buf| {
        let mut buf = buf.borrow_mut();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf.as_ptr()
    })
}

/// The module's memory, for JS to write into the scratch buffer.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// `verifySignature(secret, timestamp, nonce, signature)` with one secret, its four texts
/// packed as UTF-8 into the [`scratch`] buffer in that order, by their byte lengths: one call
/// with four numbers.
#[wasm_bindgen(js_name = verifyPacked)]
pub fn verify_packed(
    secret_len: usize,
    timestamp_len: usize,
    nonce_len: usize,
    signature_len: usize,
) -> Result<bool, JsValue> {
    SCRATCH.with(|buf| {
        let buf = buf.borrow();
        let mut rest = buf.as_slice();
        let mut take = |len: usize| -> Result<&str, JsValue> {
            let (head, tail) = rest.split_at_checked(len).ok_or_else(|| {
                throw(Error::InvalidOption {
                    name: "signature".to_owned(),
                    reason: "packed arguments past the scratch buffer".to_owned(),
                })
            })?;
            rest = tail;
            std::str::from_utf8(head).map_err(|_| {
                throw(Error::InvalidOption {
                    name: "signature".to_owned(),
                    reason: "packed arguments are not UTF-8".to_owned(),
                })
            })
        };
        let (secret, timestamp) = (take(secret_len)?, take(timestamp_len)?);
        let (nonce, signature) = (take(nonce_len)?, take(signature_len)?);
        signature::verify_signature(&[secret], timestamp, nonce, signature).map_err(throw)
    })
}

/// `parse(body, contentType)` for a byte body: the callback's JSON.
#[wasm_bindgen(js_name = parseBytes)]
pub fn parse_bytes(body: &[u8], content_type: Option<String>) -> Result<String, JsValue> {
    crate::parse(body, content_type.as_deref())
        .map(|cb| callback_json(&cb, body.len()))
        .map_err(throw)
}

/// A callback's JSON, written into a buffer sized from the body so that it rarely grows:
/// the JSON holds the body's values plus a few derived fields.
fn callback_json(cb: &Callback, body_len: usize) -> String {
    let mut out = Vec::with_capacity(body_len + body_len / 4 + 128);
    // Writing our own types into a Vec cannot fail: no map has non-string keys.
    if serde_json::to_writer(&mut out, cb).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// `receive(body, options)` for a byte body. The wrapper has checked that the numbers are
/// non-negative safe integers.
#[wasm_bindgen(js_name = receiveBytes)]
pub fn receive_bytes(
    body: &[u8],
    secrets: Vec<String>,
    content_type: Option<String>,
    now: f64,
    tolerance_seconds: f64,
    max_body_bytes: f64,
) -> Result<String, JsValue> {
    let receiver = Receiver::with_secrets(secrets)
        .map_err(throw)?
        .tolerance_seconds(tolerance_seconds as u64)
        .max_body_bytes(max_body_bytes as usize);
    receiver
        .receive(body, content_type.as_deref(), now as i64)
        .map(|cb: Callback| callback_json(&cb, body.len()))
        .map_err(throw)
}

thread_local! {
    /// Where [`receive_packed`] describes a callback: [`spans::MAX_WORDS`] words, never moved.
    static SPANS: std::cell::RefCell<Vec<i32>> =
        std::cell::RefCell::new(Vec::with_capacity(spans::MAX_WORDS));
    /// The members of the body being described.
    static FLAT: std::cell::RefCell<Flat> = std::cell::RefCell::new(Flat::default());
    /// What [`receive_packed`] leaves for [`take_result`]: a callback's or an error's JSON.
    static RESULT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The address of the words [`receive_packed`] writes (a fixed place in wasm memory).
#[wasm_bindgen(js_name = spansAddress)]
pub fn spans_address() -> *const i32 {
    SPANS.with(|s| s.borrow().as_ptr())
}

/// `receive(body, options)` with its texts packed into the [`scratch`] buffer by their byte
/// lengths: the first secret, the second (`-1`: none), the Content-Type (`-1`: none), the
/// body. Returns the event's index in the schemas when the callback is described by spans
/// (see [`spans`]); `-1` when [`take_result`] holds its JSON; `-2` when it holds the
/// error's.
#[wasm_bindgen(js_name = receivePacked)]
// Numbers only cross here, by design: one per packed text, and the receive's options.
#[allow(clippy::too_many_arguments)]
pub fn receive_packed(
    secret_len: usize,
    second_len: i32,
    content_type_len: i32,
    body_len: usize,
    now: f64,
    tolerance_seconds: f64,
    max_body_bytes: f64,
) -> i32 {
    SCRATCH.with(|buf| {
        let buf = buf.borrow();
        let mut rest = buf.as_slice();
        let mut take = |len: usize| {
            let (head, tail) = rest.split_at_checked(len).unwrap_or((rest, &[]));
            rest = tail;
            head
        };
        fn text(bytes: &[u8]) -> &str {
            std::str::from_utf8(bytes).unwrap_or_default()
        }
        let secret = text(take(secret_len));
        let second = usize::try_from(second_len).ok().map(|len| text(take(len)));
        let content_type = usize::try_from(content_type_len)
            .ok()
            .map(|len| text(take(len)));
        let body = take(body_len);
        let secrets: &[&str] = match &second {
            Some(second) => &[secret, second],
            None => &[secret],
        };
        let req = spans::Request {
            body,
            secrets,
            content_type,
            now: now as i64,
            tolerance: tolerance_seconds as u64,
            max_body: max_body_bytes as usize,
        };
        let described = SPANS.with(|out| {
            FLAT.with(|flat| spans::describe(&req, &mut flat.borrow_mut(), &mut out.borrow_mut()))
        });
        if let Some(index) = described {
            return index as i32;
        }
        let result = Receiver::with_secrets(secrets.iter().copied()).and_then(|r| {
            r.tolerance_seconds(req.tolerance)
                .max_body_bytes(req.max_body)
                .receive(body, content_type, req.now)
        });
        let (code, json) = match result {
            Ok(cb) => (-1, callback_json(&cb, body.len())),
            Err(e) => (-2, error_json(e)),
        };
        RESULT.with(|r| *r.borrow_mut() = json);
        code
    })
}

/// The JSON [`receive_packed`] left (once).
#[wasm_bindgen(js_name = takeResult)]
pub fn take_result() -> String {
    RESULT.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

/// The codec names, by cid, then the name of any other cid.
#[wasm_bindgen(js_name = codecNames)]
pub fn codec_names() -> String {
    let names: Vec<&str> = (0..5).map(|cid| Codec::from_cid(cid).name()).collect();
    to_json(&names)
}

/// The error a body of `size` bytes gets against `limit`, checked in JS before copying a
/// huge body into wasm memory.
#[wasm_bindgen(js_name = bodyTooLarge)]
pub fn body_too_large(size: f64, limit: f64) -> JsValue {
    throw(Error::BodyTooLarge {
        size: size as usize,
        limit: limit as usize,
    })
}

/// The error for an invalid option given to a JS function.
#[wasm_bindgen(js_name = invalidOption)]
pub fn invalid_option(name: &str, reason: &str) -> JsValue {
    throw(Error::InvalidOption {
        name: name.to_owned(),
        reason: reason.to_owned(),
    })
}

/// The status the error table gives `code` (500 for a code not in it).
#[wasm_bindgen(js_name = errorStatus)]
pub fn error_status(code: &str) -> u16 {
    crate::status_of(code).unwrap_or(500)
}

/// The envelope's names and their PascalCase twins, as JSON: `[["event","Event"],...,null]`.
#[wasm_bindgen(js_name = envelopeNames)]
pub fn envelope_names() -> String {
    event::ENVELOPE_NAMES_JSON.to_owned()
}

/// The words [`receive_packed`] writes, as JSON: their modes, header slots and sizes.
#[wasm_bindgen(js_name = spanProtocol)]
pub fn span_protocol() -> String {
    spans::PROTOCOL_JSON.to_owned()
}

/// The replay guard's decision from the digest stored under a claim's key (if any).
#[wasm_bindgen(js_name = replayDecide)]
pub fn replay_decide(stored: Option<String>, digest: &str) -> String {
    replay::decide(stored.as_deref(), digest)
        .as_str()
        .to_owned()
}

/// How long a claim is kept for a timestamp window of `tolerance_seconds`.
#[wasm_bindgen(js_name = claimTtlSeconds)]
pub fn claim_ttl_seconds(tolerance_seconds: f64) -> f64 {
    replay::claim_ttl_seconds(tolerance_seconds as u64) as f64
}

/// The digest a claim holds for a body.
#[wasm_bindgen(js_name = bodyDigest)]
pub fn body_digest(body: &[u8]) -> String {
    replay::body_digest(body)
}

/// The key a callback is claimed under, from its timestamp (the number or text received)
/// and nonce.
#[wasm_bindgen(js_name = claimKey)]
pub fn claim_key(timestamp: &str, nonce: &str) -> Result<String, JsValue> {
    let secs = timestamp
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|s| *s >= 0)
        .ok_or_else(|| throw(Error::invalid("timestamp", "expected Unix seconds")))?;
    replay::claim_key(secs, nonce).map_err(throw)
}

/// Every documented event's schema, as JSON.
#[wasm_bindgen]
pub fn schemas() -> String {
    to_json(&event::SCHEMAS)
}

/// The defaults: tolerance, body limit.
#[wasm_bindgen]
pub fn defaults() -> String {
    format!(
        r#"{{"toleranceSeconds":{},"maxBodyBytes":{}}}"#,
        signature::DEFAULT_TOLERANCE_SECONDS,
        body::DEFAULT_MAX_BODY_BYTES
    )
}

/// A callback object given back by JS (the JSON of one `parse` returned), typed again.
fn callback_from_json(json: &str) -> Result<Callback<'_>, JsValue> {
    body::decode_json(json)
        .and_then(Callback::from_fields)
        .map_err(throw)
}

fn stored_from_json(json: Option<String>) -> Result<Option<live::Stored>, JsValue> {
    json.map(|text| {
        live::Stored::from_json(&text).map_err(|e| {
            throw(Error::InvalidOption {
                name: "record".to_owned(),
                reason: format!("not a stored live-list record: {e}"),
            })
        })
    })
    .transpose()
}

/// The keys a callback touches, as JSON (`null` when it does not concern the list).
#[wasm_bindgen(js_name = livePlan)]
pub fn live_plan(callback: &str) -> Result<String, JsValue> {
    let cb = callback_from_json(callback)?;
    live::plan(&cb).map(|p| to_json(&p)).map_err(throw)
}

/// The write for a callback's own key, given the records read for its plan (JSON or null).
#[wasm_bindgen(js_name = liveDecide)]
pub fn live_decide(
    callback: &str,
    current: Option<String>,
    session: Option<String>,
) -> Result<String, JsValue> {
    let cb = callback_from_json(callback)?;
    let Some(plan) = live::plan(&cb).map_err(throw)? else {
        return Ok("null".to_owned());
    };
    let (current, session) = (stored_from_json(current)?, stored_from_json(session)?);
    Ok(to_json(&live::decide(
        &cb,
        &plan,
        current.as_ref(),
        session.as_ref(),
    )))
}

/// For a `room_close`: the write for one record found under the plan's scan prefix.
#[wasm_bindgen(js_name = liveDecideScanned)]
pub fn live_decide_scanned(callback: &str, key: &str, stored: String) -> Result<String, JsValue> {
    let cb = callback_from_json(callback)?;
    let stored = stored_from_json(Some(stored))?;
    Ok(to_json(
        &stored.and_then(|s| live::decide_scanned(&cb, key, &s)),
    ))
}
