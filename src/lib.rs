//! Verified, exact, order-proof ZEGO server callbacks.
//!
//! ZEGO's servers POST callbacks (`stream_create`, `stream_close`, `room_close`, ...) to a
//! customer's URL. This crate decodes them (JSON or form data), checks their signature and
//! timestamp, and types every field without losing a digit of a 64-bit id.
//!
//! The core knows ZEGO and signatures and nothing of HTTP, JS or storage, and never reads the
//! clock: the caller passes `now`. The `axum` feature adds an extractor that reads the body
//! and the clock and answers with the error table (`zego_callback::axum`); the replay guard's
//! rules and a store for them are in [`replay`].
//!
//! ```
//! use zego_callback::{sign, Callback, Receiver};
//!
//! let receiver = Receiver::new("my-callback-secret")?;
//! let body = format!(
//!     r#"{{"event":"room_close","appid":1,"timestamp":1499676989,"nonce":"350176",
//!         "signature":"{}","room_id":"rid_1242649","room_session_id":858012925204410401,
//!         "close_reason":1,"room_close_time":"1499676989909"}}"#,
//!     sign("my-callback-secret", "1499676989", "350176"),
//! );
//! let now = 1499677000; // Unix seconds, read by the caller
//! match receiver.receive(body.as_bytes(), Some("application/json"), now)? {
//!     Callback::RoomClose(close) => assert_eq!(close.room_session_id.0, 858012925204410401),
//!     other => panic!("unexpected {}", other.event()),
//! }
//! # Ok::<(), zego_callback::Error>(())
//! ```
#![deny(missing_docs)]

pub mod body;
mod error;
pub mod event;
pub mod field;
pub mod live;
pub mod replay;
pub mod signature;
#[cfg(all(any(feature = "wasm", test), not(feature = "fuzzing")))]
mod spans;
pub mod value;

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "wasm")]
mod wasm;
#[cfg(feature = "worker")]
mod worker;

use std::fmt;

pub use body::{Format, DEFAULT_MAX_BODY_BYTES};
pub use error::{status_of, Error, ERROR_TABLE};
pub use event::{
    Callback, Envelope, MixStart, MixStop, RoomClose, RoomCreate, RoomLogin, RoomLogout,
    StreamClose, StreamCreate, UnknownEvent,
};
pub use field::{Codec, Id64, StreamAttr, Timestamp};
pub use live::LiveList;
pub use signature::{sign, signing_string, verify_signature, DEFAULT_TOLERANCE_SECONDS};
pub use value::{Fields, Value};

/// Decodes and types a callback body without checking its signature.
///
/// `content_type` chooses JSON or form data; `None` sniffs. Bodies over
/// [`DEFAULT_MAX_BODY_BYTES`] are refused.
pub fn parse<'a>(body: &'a [u8], content_type: Option<&str>) -> Result<Callback<'a>, Error> {
    check_size(body, DEFAULT_MAX_BODY_BYTES)?;
    Callback::from_fields(body::decode(body, content_type)?)
}

fn check_size(body: &[u8], limit: usize) -> Result<(), Error> {
    if body.len() > limit {
        return Err(Error::BodyTooLarge {
            size: body.len(),
            limit,
        });
    }
    Ok(())
}

/// The values a signature covers, read from a decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParts<'a> {
    /// The timestamp's exact text.
    pub timestamp: &'a str,
    /// The timestamp in Unix seconds.
    pub timestamp_secs: i64,
    /// The nonce.
    pub nonce: &'a str,
    /// The signature sent.
    pub signature: &'a str,
}

impl<'a> SignedParts<'a> {
    /// Reads `timestamp`, `nonce` and `signature` (or their PascalCase forms,
    /// [`event::ENVELOPE_NAMES`]) from the fields.
    pub fn from_fields(fields: &'a Fields<'_>) -> Result<Self, Error> {
        let get = |snake: &str| -> Result<(&'a str, &'a Value<'_>), Error> {
            let (name, value) =
                event::envelope_field(fields, snake).ok_or_else(|| Error::missing(snake))?;
            match value.as_text() {
                Some(text) => Ok((text, value)),
                None => Err(Error::InvalidField {
                    field: name.to_owned(),
                    reason: format!("expected a string, got {}", value.kind()),
                }),
            }
        };
        let (timestamp, ts_value) = get("timestamp")?;
        let timestamp_secs = field::integer("timestamp", ts_value, value::MAX_SAFE_INTEGER)?
            .ok_or_else(|| Error::missing("timestamp"))? as i64;
        Ok(SignedParts {
            timestamp,
            timestamp_secs,
            nonce: get("nonce")?.0,
            signature: get("signature")?.0,
        })
    }
}

/// Receives callbacks for one app: holds the secrets (several, for rotation), the timestamp
/// window and the body size limit.
#[derive(Clone)]
pub struct Receiver {
    secrets: Vec<String>,
    tolerance_seconds: u64,
    max_body_bytes: usize,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("tolerance_seconds", &self.tolerance_seconds)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

impl Receiver {
    /// A receiver for one secret, with a 300 s window and a 64 KiB body limit.
    pub fn new(secret: impl Into<String>) -> Result<Self, Error> {
        Self::with_secrets([secret.into()])
    }

    /// A receiver that accepts a signature made with any of `secrets` (key rotation).
    pub fn with_secrets<I, S>(secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let secrets: Vec<String> = secrets.into_iter().map(Into::into).collect();
        signature::check_secrets(&secrets)?;
        Ok(Receiver {
            secrets,
            tolerance_seconds: DEFAULT_TOLERANCE_SECONDS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        })
    }

    /// Sets how far, in seconds, a timestamp may be from `now`, before or after.
    pub fn tolerance_seconds(mut self, seconds: u64) -> Self {
        self.tolerance_seconds = seconds;
        self
    }

    /// Sets the largest body accepted, in bytes.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The timestamp window in seconds, as [`tolerance_seconds`](Receiver::tolerance_seconds)
    /// set it (the replay guard keeps claims for twice as long).
    pub fn tolerance(&self) -> u64 {
        self.tolerance_seconds
    }

    /// The largest body accepted in bytes, as [`max_body_bytes`](Receiver::max_body_bytes)
    /// set it (an adapter stops reading past it).
    pub fn body_limit(&self) -> usize {
        self.max_body_bytes
    }

    /// Decodes, verifies and types a callback.
    ///
    /// The signature and the timestamp window are checked before any field is typed, so an
    /// unsigned request learns nothing about the parser. `now` is Unix seconds.
    pub fn receive<'a>(
        &self,
        body: &'a [u8],
        content_type: Option<&str>,
        now: i64,
    ) -> Result<Callback<'a>, Error> {
        check_size(body, self.max_body_bytes)?;
        let fields = body::decode(body, content_type)?;
        self.verify_fields(&fields, now)?;
        Callback::from_fields(fields)
    }

    /// Checks the signature and timestamp window of a decoded body.
    pub fn verify_fields(&self, fields: &Fields<'_>, now: i64) -> Result<(), Error> {
        let parts = SignedParts::from_fields(fields)?;
        if !verify_signature(&self.secrets, parts.timestamp, parts.nonce, parts.signature)? {
            return Err(Error::InvalidSignature);
        }
        signature::check_window(parts.timestamp_secs, now, self.tolerance_seconds)
    }

    /// Signs `(timestamp, nonce)` with the first secret, as ZEGO would.
    pub fn sign(&self, timestamp: &str, nonce: &str) -> String {
        sign(&self.secrets[0], timestamp, nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_mix_stop(secret: &str, timestamp: &str) -> String {
        format!(
            r#"{{"appid":"1","event":"mix_stop","seq":"1","task_id":"t","nonce":"n1",
                "timestamp":"{timestamp}","signature":"{}"}}"#,
            sign(secret, timestamp, "n1")
        )
    }

    #[test]
    fn receives_a_signed_callback() {
        let r = Receiver::new("s").unwrap();
        let body = signed_mix_stop("s", "1000");
        let cb = r.receive(body.as_bytes(), None, 1000).unwrap();
        assert_eq!(cb.event(), "mix_stop");
    }

    #[test]
    fn rejects_a_wrong_secret_before_the_window() {
        let r = Receiver::new("s").unwrap();
        let e = r
            .receive(signed_mix_stop("other", "1000").as_bytes(), None, 99999)
            .unwrap_err();
        assert_eq!(e, Error::InvalidSignature);
    }

    #[test]
    fn rejects_past_and_future_timestamps() {
        let r = Receiver::new("s").unwrap().tolerance_seconds(10);
        let body = signed_mix_stop("s", "1000");
        assert!(r.receive(body.as_bytes(), None, 1010).is_ok());
        assert_eq!(
            r.receive(body.as_bytes(), None, 1011).unwrap_err().code(),
            "timestamp_out_of_window"
        );
        assert_eq!(
            r.receive(body.as_bytes(), None, 989).unwrap_err().code(),
            "timestamp_out_of_window"
        );
    }

    #[test]
    fn signature_covers_the_timestamp_text_as_received() {
        // "01000" and "1000" are the same second but not the same signed text.
        let body =
            signed_mix_stop("s", "1000").replace(r#""timestamp":"1000""#, r#""timestamp":"01000""#);
        let r = Receiver::new("s").unwrap();
        assert_eq!(
            r.receive(body.as_bytes(), None, 1000).unwrap_err(),
            Error::InvalidSignature
        );
    }

    #[test]
    fn body_limit() {
        let r = Receiver::new("s").unwrap().max_body_bytes(10);
        let e = r.receive(&[b' '; 11], None, 0).unwrap_err();
        assert_eq!(
            e,
            Error::BodyTooLarge {
                size: 11,
                limit: 10
            }
        );
    }

    #[test]
    fn limits_read_back_as_set() {
        let r = Receiver::new("s").unwrap();
        assert_eq!(
            (r.tolerance(), r.body_limit()),
            (300, DEFAULT_MAX_BODY_BYTES)
        );
        let r = r.tolerance_seconds(90).max_body_bytes(10);
        assert_eq!((r.tolerance(), r.body_limit()), (90, 10));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let r = Receiver::with_secrets(["hunter2", "hunter3"]).unwrap();
        let shown = format!("{r:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("2 redacted"));
    }

    #[test]
    fn empty_secret_is_refused_up_front() {
        assert_eq!(Receiver::new("").unwrap_err(), Error::EmptySecret);
        let none: [&str; 0] = [];
        assert_eq!(
            Receiver::with_secrets(none).unwrap_err(),
            Error::EmptySecret
        );
    }
}

/// The README's Rust example, compiled and run as a doctest so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// The fuzzer (fuzz/) calls the span path from outside the crate: not an API. Declared last,
// so that no line above moves (panic locations carry line numbers into every build).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod spans;
