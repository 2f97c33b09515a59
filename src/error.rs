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
        }
    }

    /// The HTTP status a server answers for this error: the one table the Worker uses.
    ///
    /// Configuration and storage failures are 5xx, so that ZEGO retries the callback once
    /// the fault is fixed; everything wrong with the request itself is 4xx.
    pub fn status(&self) -> u16 {
        match self {
            Error::MalformedBody { .. }
            | Error::MissingField { .. }
            | Error::InvalidField { .. } => 400,
            Error::InvalidSignature | Error::TimestampOutOfWindow { .. } | Error::Unauthorized => {
                401
            }
            Error::UnknownApp { .. } => 403,
            Error::NotFound => 404,
            Error::MethodNotAllowed => 405,
            Error::UpgradeRequired => 426,
            Error::ReplayedNonce { .. } => 409,
            Error::BodyTooLarge { .. } => 413,
            Error::UnsupportedContentType { .. } => 415,
            Error::EmptySecret | Error::MissingSecret { .. } | Error::InvalidOption { .. } => 500,
            Error::Storage { .. } => 503,
        }
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

/// Every code, for documentation and for tests that check the table is complete.
pub const ERROR_CODES: &[&str] = &[
    "malformed_body",
    "missing_field",
    "invalid_field",
    "unsupported_content_type",
    "invalid_signature",
    "timestamp_out_of_window",
    "empty_secret",
    "body_too_large",
    "replayed_nonce",
    "missing_secret",
    "invalid_option",
    "storage_failed",
    "unknown_app",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "upgrade_required",
];

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
