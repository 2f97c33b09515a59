//! One error type for every failure, with a stable code and the HTTP status to answer.

/// Everything that can go wrong while receiving a ZEGO callback.
///
/// Each variant has a stable string [`code`](Error::code) (what programs match on) and an
/// HTTP [`status`](Error::status) (what the Worker answers). Messages name the field at fault
/// and never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is empty, not UTF-8, not valid JSON or form data, or not an object.
    #[error("malformed body: {reason}")]
    MalformedBody {
        /// What is wrong with it, with a position where there is one.
        reason: String,
    },
    /// A field the event needs is absent.
    #[error("missing field `{field}`")]
    MissingField {
        /// The field's name as ZEGO spells it.
        field: String,
    },
    /// A field is present but its value has the wrong type or form.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// The field's name as ZEGO spells it.
        field: String,
        /// What was expected.
        reason: String,
    },
    /// The Content-Type is neither JSON nor form data (nor absent, which means "sniff").
    #[error("unsupported content type `{content_type}`: expected application/json or application/x-www-form-urlencoded")]
    UnsupportedContentType {
        /// The Content-Type as given.
        content_type: String,
    },
    /// The signature does not match any configured secret.
    #[error("invalid signature")]
    InvalidSignature,
    /// The timestamp is too far from the current time, in the past or in the future.
    #[error("timestamp {timestamp} is {} s from now ({now}); the window is {tolerance} s", timestamp.abs_diff(*now))]
    TimestampOutOfWindow {
        /// The callback's timestamp, Unix seconds.
        timestamp: i64,
        /// The time it was checked against, Unix seconds.
        now: i64,
        /// The allowed distance, seconds.
        tolerance: u64,
    },
    /// A secret given to the verifier is empty (or no secret was given).
    #[error("the callback secret is empty")]
    EmptySecret,
    /// The body is larger than the configured limit.
    #[error("body of {size} bytes is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The body's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A nonce already seen with a different body: someone replays a signature.
    #[error("nonce `{nonce}` was already used with a different body")]
    ReplayedNonce {
        /// The nonce that was reused.
        nonce: String,
    },
    /// The receiver has no secret configured at all.
    #[error("no callback secret is configured ({name})")]
    MissingSecret {
        /// Where the secret was expected (for example an environment variable's name).
        name: String,
    },
    /// An option given by the caller is invalid (a wrong type or a value out of range).
    #[error("invalid option `{name}`: {reason}")]
    InvalidOption {
        /// The option's name.
        name: String,
        /// What was expected.
        reason: String,
    },
    /// Storing the callback's effect failed; the callback was not acknowledged.
    #[error("storage failed: {reason}")]
    Storage {
        /// What the storage answered.
        reason: String,
    },
    /// A callback names an app for which no secret is configured.
    #[error("no callback secret is configured for appid `{appid}`")]
    UnknownApp {
        /// The callback's `appid`, as received.
        appid: String,
    },
    /// A read request lacks the right bearer token.
    #[error("unauthorized: a valid bearer token is required")]
    Unauthorized,
    /// No route matches the request's path.
    #[error("not found")]
    NotFound,
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A subscription route was asked for without a WebSocket upgrade.
    #[error("this route takes a WebSocket: send `Upgrade: websocket`")]
    UpgradeRequired,
    /// A handler the application registered failed (the npm `ZegoCallbacks`): 500, so that
    /// ZEGO retries.
    #[error("a handler failed: {reason}")]
    HandlerFailed {
        /// What the handler threw.
        reason: String,
    },
    /// A framework parsed the request body before the receiver could read it raw, so the
    /// body the signature covers is gone (the npm Node middleware).
    #[error("the request body was already parsed: {fix}")]
    BodyParsed {
        /// How to mount the receiver so that it reads the raw body.
        fix: String,
    },
}

impl Error {
    /// The stable, machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::MalformedBody { .. } => "malformed_body",
            Error::MissingField { .. } => "missing_field",
            Error::InvalidField { .. } => "invalid_field",
            Error::UnsupportedContentType { .. } => "unsupported_content_type",
            Error::InvalidSignature => "invalid_signature",
            Error::TimestampOutOfWindow { .. } => "timestamp_out_of_window",
            Error::EmptySecret => "empty_secret",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::ReplayedNonce { .. } => "replayed_nonce",
            Error::MissingSecret { .. } => "missing_secret",
            Error::InvalidOption { .. } => "invalid_option",
            Error::Storage { .. } => "storage_failed",
            Error::UnknownApp { .. } => "unknown_app",
            Error::Unauthorized => "unauthorized",
            Error::NotFound => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::UpgradeRequired => "upgrade_required",
            Error::HandlerFailed { .. } => "handler_failed",
            Error::BodyParsed { .. } => "body_parsed",
        }
    }

    /// The HTTP status a server answers for this error, from [`ERROR_TABLE`].
    ///
    /// Configuration and storage failures are 5xx, so that ZEGO retries the callback once
    /// the fault is fixed; everything wrong with the request itself is 4xx.
    pub fn status(&self) -> u16 {
        status_of(self.code()).unwrap_or(500)
    }

    /// The field at fault, where there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::MissingField { field } | Error::InvalidField { field, .. } => Some(field),
            _ => None,
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        Error::MalformedBody {
            reason: reason.into(),
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn missing(field: &str) -> Self {
        Error::MissingField {
            field: field.to_owned(),
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Error::InvalidField {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Every error code with the HTTP status a server answers for it: the one table the Worker,
/// the npm module (which asks the wasm for a code's status) and the framework adapters use.
pub const ERROR_TABLE: &[(&str, u16)] = &[
    ("malformed_body", 400),
    ("missing_field", 400),
    ("invalid_field", 400),
    ("invalid_signature", 401),
    ("timestamp_out_of_window", 401),
    ("unauthorized", 401),
    ("unknown_app", 403),
    ("not_found", 404),
    ("method_not_allowed", 405),
    ("replayed_nonce", 409),
    ("body_too_large", 413),
    ("unsupported_content_type", 415),
    ("upgrade_required", 426),
    ("empty_secret", 500),
    ("missing_secret", 500),
    ("invalid_option", 500),
    ("handler_failed", 500),
    ("body_parsed", 500),
    ("storage_failed", 503),
];

/// The status of an error code ([`ERROR_TABLE`]); `None` for a code not in it.
pub fn status_of(code: &str) -> Option<u16> {
    ERROR_TABLE
        .iter()
        .find(|(known, _)| *known == code)
        .map(|&(_, status)| status)
}

/// The JSON body of an error, as the Worker and the axum extractor answer it:
/// `{"error":{"code":..,"message":..,"field":..}}`.
#[cfg(any(feature = "worker", feature = "axum"))]
#[derive(Debug, serde::Serialize)]
pub(crate) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[cfg(any(feature = "worker", feature = "axum"))]
#[derive(Debug, serde::Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    field: Option<&'a str>,
}

#[cfg(any(feature = "worker", feature = "axum"))]
impl<'a> ErrorBody<'a> {
    /// The body for `e`.
    pub(crate) fn new(e: &'a Error) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: e.code(),
                message: e.to_string(),
                field: e.field(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_split_request_faults_from_server_faults() {
        assert_eq!(Error::malformed("x").status(), 400);
        assert_eq!(Error::InvalidSignature.status(), 401);
        assert_eq!(Error::BodyTooLarge { size: 2, limit: 1 }.status(), 413);
        assert_eq!(Error::EmptySecret.status(), 500);
        assert_eq!(
            Error::Storage {
                reason: "429".into()
            }
            .status(),
            503
        );
    }

    #[test]
    fn every_error_has_one_row_in_the_table() {
        let every = [
            Error::malformed("x"),
            Error::missing("f"),
            Error::invalid("f", "r"),
            Error::UnsupportedContentType {
                content_type: "x".into(),
            },
            Error::InvalidSignature,
            Error::TimestampOutOfWindow {
                timestamp: 0,
                now: 0,
                tolerance: 0,
            },
            Error::EmptySecret,
            Error::BodyTooLarge { size: 2, limit: 1 },
            Error::ReplayedNonce { nonce: "n".into() },
            Error::MissingSecret { name: "n".into() },
            Error::InvalidOption {
                name: "n".into(),
                reason: "r".into(),
            },
            Error::Storage { reason: "r".into() },
            Error::UnknownApp { appid: "1".into() },
            Error::Unauthorized,
            Error::NotFound,
            Error::MethodNotAllowed,
            Error::UpgradeRequired,
            Error::HandlerFailed { reason: "r".into() },
            Error::BodyParsed { fix: "f".into() },
        ];
        let codes: Vec<&str> = every.iter().map(Error::code).collect();
        let table: Vec<&str> = ERROR_TABLE.iter().map(|(code, _)| *code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len(), "one code per variant");
        for code in &codes {
            assert_eq!(table.iter().filter(|c| *c == code).count(), 1, "{code}");
        }
        assert_eq!(codes.len(), table.len(), "no row without a variant");
        assert_eq!(status_of("nope"), None);
    }

    /// The codes as the TypeScript types and the README's table give them, held to the table.
    #[test]
    fn the_types_and_the_readme_list_the_table() {
        let dts = include_str!("../js/index.d.ts");
        let union = dts
            .split("export type ErrorCode =")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap();
        let mut typed: Vec<&str> = union.split('"').skip(1).step_by(2).collect();
        let mut codes: Vec<&str> = ERROR_TABLE.iter().map(|(c, _)| *c).collect();
        typed.sort_unstable();
        codes.sort_unstable();
        assert_eq!(typed, codes, "js/index.d.ts ErrorCode");

        let readme = include_str!("../README.md");
        let mut rows: Vec<(String, u16)> = readme
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let code = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let status = cells.get(2)?.parse().ok()?;
                ERROR_TABLE
                    .iter()
                    .any(|(c, _)| *c == code)
                    .then(|| (code.to_owned(), status))
            })
            .collect();
        let mut table: Vec<(String, u16)> = ERROR_TABLE
            .iter()
            .map(|&(c, s)| (c.to_owned(), s))
            .collect();
        rows.sort();
        table.sort();
        assert_eq!(rows, table, "README's error table");
    }

    #[test]
    fn messages_name_the_field() {
        let e = Error::invalid("stream_seq", "expected an unsigned integer");
        assert_eq!(e.code(), "invalid_field");
        assert_eq!(e.field(), Some("stream_seq"));
        assert!(e.to_string().contains("stream_seq"));
    }

    #[test]
    fn window_message_gives_the_distance() {
        let e = Error::TimestampOutOfWindow {
            timestamp: 100,
            now: 1000,
            tolerance: 300,
        };
        assert_eq!(
            e.to_string(),
            "timestamp 100 is 900 s from now (1000); the window is 300 s"
        );
    }
}
