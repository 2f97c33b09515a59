//! Where the Worker forwards the callbacks it accepts, and how: the endpoints a user
//! configures once, the signing secrets, the retry schedule and the timeout. Pure functions
//! over the bindings' text, tested natively.
//!
//! | binding                   | what                                                        |
//! |---------------------------|-------------------------------------------------------------|
//! | `FORWARD_URL`             | one endpoint for every app and event (typed)               |
//! | `FORWARD_ENDPOINTS`       | JSON, per app: `{"<appid>": [{"url", "events", "format", "name"}]}` |
//! | `FORWARD_SECRET`          | `whsec_<base64>`, comma-separated while rotating (required) |
//! | `FORWARD_RETRY_SCHEDULE`  | the waits between attempts, default `5s,5m,30m,2h,5h,10h,10h` |
//! | `FORWARD_TIMEOUT_SECONDS` | how long one attempt may take, default 15                   |
//! | `FORWARD_RECOVER_SECONDS` | how long past its due time a retry may stay unseen before it is sent again, default 900 |
//! | `FORWARD_KEEP_DAYS`       | how long a message that never landed is kept, default 30     |
//!
//! Without `FORWARD_URL` and `FORWARD_ENDPOINTS` nothing is forwarded. Anything malformed is
//! `invalid_option` (500) naming its binding: a callback is never acknowledged while its
//! forward cannot be decided.

use serde_json::Value;
use sha1::{Digest, Sha1};

use super::names::canonical_app;
use super::webhook::{self, Secret};
use crate::Error;

/// One endpoint for every app and event.
pub const URL_BINDING: &str = "FORWARD_URL";
/// Endpoints per app, as JSON.
pub const ENDPOINTS_BINDING: &str = "FORWARD_ENDPOINTS";
/// The retry schedule.
pub const SCHEDULE_BINDING: &str = "FORWARD_RETRY_SCHEDULE";
/// The timeout of one attempt, in seconds.
pub const TIMEOUT_BINDING: &str = "FORWARD_TIMEOUT_SECONDS";
/// How long past its due time a retry may stay unseen, in seconds.
pub const RECOVER_BINDING: &str = "FORWARD_RECOVER_SECONDS";
/// How long failed messages are kept, in days.
pub const KEEP_BINDING: &str = "FORWARD_KEEP_DAYS";

/// The waits between attempts by default, in seconds: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
/// 10 h (eight attempts over 27 h 35 min, as svix and the Standard Webhooks example do).
pub const DEFAULT_SCHEDULE: [u32; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// The longest wait Cloudflare Queues takes for a message (12 h).
pub const MAX_DELAY_SECONDS: u32 = 43_200;
/// The most retries a schedule may have.
pub const MAX_RETRIES: usize = 100;

/// What an endpoint receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON envelope: the typed callback and what the room's object did with it.
    Typed,
    /// ZEGO's body byte for byte, with its Content-Type.
    Raw,
}

/// One endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id in the delivery routes: the `name` given, else derived from the URL.
    pub id: String,
    /// Where messages are POSTed.
    pub url: String,
    /// The events it takes (`None`: all, unknown events included).
    pub events: Option<Vec<String>>,
    /// What it receives.
    pub format: Format,
    /// The app it takes callbacks of (`None`: every app: `FORWARD_URL`).
    pub app: Option<String>,
}

impl Endpoint {
    /// Whether a callback of `app` and `event` goes to this endpoint.
    pub fn takes(&self, app: &str, event: &str) -> bool {
        self.app.as_deref().is_none_or(|a| a == app)
            && self
                .events
                .as_ref()
                .is_none_or(|events| events.iter().any(|e| e == event))
    }
}

/// The forwarding configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarding {
    /// Every endpoint, each id once.
    pub endpoints: Vec<Endpoint>,
    /// The signing secrets.
    pub secrets: Vec<Secret>,
    /// The waits between attempts, in seconds.
    pub schedule: Vec<u32>,
    /// The timeout of one attempt, in seconds.
    pub timeout_seconds: u32,
    /// How long past its due time a retry may stay unseen, in seconds.
    pub recover_seconds: u32,
    /// How long failed messages are kept, in days.
    pub keep_days: u32,
}

/// The bindings' text, as [`Forwarding::parse`] reads it.
#[derive(Debug, Default, Clone)]
pub struct Bindings<'a> {
    /// `FORWARD_URL`.
    pub url: Option<&'a str>,
    /// `FORWARD_ENDPOINTS`.
    pub endpoints: Option<&'a str>,
    /// `FORWARD_SECRET`.
    pub secret: Option<&'a str>,
    /// `FORWARD_RETRY_SCHEDULE`.
    pub schedule: Option<&'a str>,
    /// `FORWARD_TIMEOUT_SECONDS`.
    pub timeout: Option<&'a str>,
    /// `FORWARD_RECOVER_SECONDS`.
    pub recover: Option<&'a str>,
    /// `FORWARD_KEEP_DAYS`.
    pub keep: Option<&'a str>,
}

fn invalid(binding: &str, reason: impl Into<String>) -> Error {
    Error::InvalidOption {
        name: binding.to_owned(),
        reason: reason.into(),
    }
}

fn present(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

impl Forwarding {
    /// Reads the Worker's bindings: `None` when no endpoint is configured.
    pub fn read(env: &::worker::Env) -> Result<Option<Forwarding>, Error> {
        let text = |name| super::config::text(env, name);
        let (url, endpoints, secret) = (
            text(URL_BINDING)?,
            text(ENDPOINTS_BINDING)?,
            text(webhook::SECRET_BINDING)?,
        );
        let (schedule, timeout, recover, keep) = (
            text(SCHEDULE_BINDING)?,
            text(TIMEOUT_BINDING)?,
            text(RECOVER_BINDING)?,
            text(KEEP_BINDING)?,
        );
        Forwarding::parse(&Bindings {
            url: url.as_deref(),
            endpoints: endpoints.as_deref(),
            secret: secret.as_deref(),
            schedule: schedule.as_deref(),
            timeout: timeout.as_deref(),
            recover: recover.as_deref(),
            keep: keep.as_deref(),
        })
    }

    /// Reads the bindings: `None` when no endpoint is configured (nothing is forwarded).
    pub fn parse(b: &Bindings<'_>) -> Result<Option<Forwarding>, Error> {
        let mut endpoints = Vec::new();
        if let Some(url) = present(b.url) {
            endpoints.push(Endpoint {
                id: "default".to_owned(),
                url: check_url(URL_BINDING, url)?,
                events: None,
                format: Format::Typed,
                app: None,
            });
        }
        if let Some(json) = present(b.endpoints) {
            endpoints.extend(parse_endpoints(json)?);
        }
        if endpoints.is_empty() {
            return Ok(None);
        }
        // One id, one endpoint: its state (disabled, failures) is kept by id.
        for (i, e) in endpoints.iter().enumerate() {
            if let Some(other) = endpoints.iter().take(i).find(|o| o.id == e.id) {
                if other.url != e.url {
                    return Err(invalid(
                        ENDPOINTS_BINDING,
                        format!("the name `{}` is given to two URLs", e.id),
                    ));
                }
            }
        }
        let secret = present(b.secret).ok_or_else(|| Error::MissingSecret {
            name: webhook::SECRET_BINDING.to_owned(),
        })?;
        Ok(Some(Forwarding {
            endpoints,
            secrets: webhook::parse_secrets(secret)?,
            schedule: match present(b.schedule) {
                Some(text) => parse_schedule(text)?,
                None => DEFAULT_SCHEDULE.to_vec(),
            },
            timeout_seconds: seconds(TIMEOUT_BINDING, b.timeout, 15, 1, 900)?,
            recover_seconds: seconds(RECOVER_BINDING, b.recover, 900, 1, 86_400)?,
            keep_days: seconds(KEEP_BINDING, b.keep, 30, 1, 3_650)?,
        }))
    }

    /// The endpoints a callback of `app` and `event` goes to.
    pub fn endpoints_for<'a>(
        &'a self,
        app: &'a str,
        event: &'a str,
    ) -> impl Iterator<Item = &'a Endpoint> {
        self.endpoints.iter().filter(move |e| e.takes(app, event))
    }

    /// Every endpoint once, by id (an id several apps share is one endpoint).
    pub fn unique_endpoints(&self) -> Vec<&Endpoint> {
        let mut seen: Vec<&Endpoint> = Vec::new();
        for e in &self.endpoints {
            if !seen.iter().any(|s| s.id == e.id) {
                seen.push(e);
            }
        }
        seen
    }

    /// The endpoint with this id.
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }
}

/// An http(s) URL with a host, and no whitespace or control character in it (checked by
/// hand: the `url` crate's parser is a large part of a bundle that needs no more of it).
fn check_url(binding: &str, url: &str) -> Result<String, Error> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    let host_ok = host.is_some_and(|h| {
        let name = h.rsplit('@').next().unwrap_or_default();
        !name.is_empty() && !name.starts_with(':')
    });
    if !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            binding,
            format!("`{}` is not an http(s) URL", redact(url)),
        ));
    }
    Ok(url.to_owned())
}

/// A URL as shown in messages and listings: its query (which may hold a token) left out.
pub fn redact(url: &str) -> String {
    match url.split_once('?') {
        Some((head, _)) => format!("{head}?…"),
        None => url.to_owned(),
    }
}

/// The id of an endpoint given no name: `e` and 10 hex digits of its URL's SHA-1.
pub fn derived_id(url: &str) -> String {
    format!("e{}", &hex::encode(Sha1::digest(url.as_bytes()))[..10])
}

fn parse_endpoints(json: &str) -> Result<Vec<Endpoint>, Error> {
    let shape = r#"expected {"<appid>": [{"url": "https://...", "events": ["stream_create"], "format": "typed"}]}"#;
    let map = match serde_json::from_str(json) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(invalid(ENDPOINTS_BINDING, shape)),
        Err(e) => return Err(invalid(ENDPOINTS_BINDING, format!("{shape}: {e}"))),
    };
    let mut out = Vec::new();
    for (app_text, list) in map {
        let app = canonical_app(&app_text).map_err(|_| {
            invalid(
                ENDPOINTS_BINDING,
                format!(
                    "`{app_text}` is not an appid (digits, at most {})",
                    u32::MAX
                ),
            )
        })?;
        let Value::Array(list) = list else {
            return Err(invalid(
                ENDPOINTS_BINDING,
                format!("appid `{app}`: {shape}"),
            ));
        };
        for entry in list {
            out.push(parse_endpoint(&app, entry)?);
        }
    }
    Ok(out)
}

fn parse_endpoint(app: &str, entry: Value) -> Result<Endpoint, Error> {
    let at = |what: String| invalid(ENDPOINTS_BINDING, format!("appid `{app}`: {what}"));
    let Value::Object(entry) = entry else {
        return Err(at("an endpoint is an object with a `url`".to_owned()));
    };
    let mut url = None;
    let mut events = None;
    let mut format = Format::Typed;
    let mut name = None;
    for (key, value) in entry {
        match (key.as_str(), value) {
            ("url", Value::String(u)) => url = Some(check_url(ENDPOINTS_BINDING, &u)?),
            ("events", Value::Array(list)) => {
                let list = list
                    .into_iter()
                    .map(|e| match e {
                        Value::String(e) if !e.is_empty() => Ok(e),
                        _ => Err(at("`events` holds event names".to_owned())),
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                events = Some(list);
            }
            ("format", Value::String(f)) => {
                format = match f.as_str() {
                    "typed" => Format::Typed,
                    "raw" => Format::Raw,
                    other => return Err(at(format!("format `{other}`: expected typed or raw"))),
                }
            }
            ("name", Value::String(n)) => {
                let ok = !n.is_empty()
                    && n.len() <= 64
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !ok {
                    return Err(at(format!(
                        "name `{n}`: letters, digits, `-` and `_`, at most 64"
                    )));
                }
                name = Some(n);
            }
            (other, _) => return Err(at(format!("`{other}` is not a setting of an endpoint"))),
        }
    }
    let url = url.ok_or_else(|| at("an endpoint needs a `url`".to_owned()))?;
    Ok(Endpoint {
        id: name.unwrap_or_else(|| derived_id(&url)),
        url,
        events,
        format,
        app: Some(app.to_owned()),
    })
}

/// Reads a schedule: waits separated by commas, each seconds (`30`, `30s`), minutes (`5m`)
/// or hours (`2h`), at most 12 h (Queues' longest delay), at most 100 of them.
pub fn parse_schedule(text: &str) -> Result<Vec<u32>, Error> {
    let waits = text
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| {
            let (digits, unit) = match w.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
                Some((i, _)) => w.split_at(i),
                None => (w, "s"),
            };
            let n: u32 = digits
                .parse()
                .map_err(|_| invalid(SCHEDULE_BINDING, format!("`{w}` is not a wait")))?;
            let scale = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3_600,
                _ => return Err(invalid(SCHEDULE_BINDING, format!("`{w}`: use s, m or h"))),
            };
            match n.checked_mul(scale) {
                Some(s) if s <= MAX_DELAY_SECONDS => Ok(s),
                _ => Err(invalid(
                    SCHEDULE_BINDING,
                    format!("`{w}` is longer than Queues' longest delay, 12h"),
                )),
            }
        })
        .collect::<Result<Vec<_>, Error>>()?;
    if waits.len() > MAX_RETRIES {
        return Err(invalid(
            SCHEDULE_BINDING,
            format!("{} retries; at most {MAX_RETRIES}", waits.len()),
        ));
    }
    Ok(waits)
}

fn seconds(
    binding: &str,
    text: Option<&str>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, Error> {
    let Some(text) = present(text) else {
        return Ok(default);
    };
    match text.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(
            binding,
            format!("expected a whole number from {min} to {max}, got `{text}`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn with(b: Bindings<'_>) -> Result<Option<Forwarding>, Error> {
        Forwarding::parse(&Bindings {
            secret: b.secret.or(Some(SECRET)),
            ..b
        })
    }

    #[test]
    fn nothing_configured_forwards_nothing() {
        assert_eq!(Forwarding::parse(&Bindings::default()).unwrap(), None);
        assert_eq!(
            Forwarding::parse(&Bindings {
                url: Some(" "),
                endpoints: Some(""),
                ..Bindings::default()
            })
            .unwrap(),
            None
        );
    }

    #[test]
    fn one_url_for_everything_and_per_app_endpoints() {
        let f = with(Bindings {
            url: Some("https://backend.example/zego"),
            endpoints: Some(
                r#"{"007": [{"url": "http://127.0.0.1:9/a", "events": ["stream_create"], "format": "raw", "name": "billing"}],
                    "8": [{"url": "https://x.example/b?token=t"}]}"#,
            ),
            ..Bindings::default()
        })
        .unwrap()
        .unwrap();
        assert_eq!(f.endpoints.len(), 3);
        let ids = |app, event| -> Vec<String> {
            f.endpoints_for(app, event).map(|e| e.id.clone()).collect()
        };
        assert_eq!(ids("7", "stream_create"), ["default", "billing"]);
        assert_eq!(ids("7", "room_login"), ["default"]);
        assert_eq!(
            ids("8", "room_login"),
            vec![
                "default".to_owned(),
                derived_id("https://x.example/b?token=t")
            ]
        );
        assert_eq!(f.endpoint("billing").unwrap().format, Format::Raw);
        assert_eq!(f.schedule, DEFAULT_SCHEDULE);
        assert_eq!(f.schedule.len() + 1, 8, "attempts in all");
        assert_eq!((f.timeout_seconds, f.keep_days), (15, 30));
        // The default schedule retries for more than a day.
        assert!(f.schedule.iter().map(|&s| u64::from(s)).sum::<u64>() > 86_400);
        assert_eq!(
            redact("https://x.example/b?token=t"),
            "https://x.example/b?…"
        );
    }

    #[test]
    fn malformed_configuration_is_a_500_naming_the_binding() {
        for (b, binding) in [
            (
                Bindings {
                    url: Some("not a url"),
                    ..Bindings::default()
                },
                URL_BINDING,
            ),
            (
                Bindings {
                    url: Some("ftp://x.example/"),
                    ..Bindings::default()
                },
                URL_BINDING,
            ),
            (
                Bindings {
                    endpoints: Some("[1]"),
                    ..Bindings::default()
                },
                ENDPOINTS_BINDING,
            ),
            (
                Bindings {
                    endpoints: Some(r#"{"x": []}"#),
                    ..Bindings::default()
                },
                ENDPOINTS_BINDING,
            ),
            (
                Bindings {
                    endpoints: Some(r#"{"1": [{}]}"#),
                    ..Bindings::default()
                },
                ENDPOINTS_BINDING,
            ),
            (
                Bindings {
                    endpoints: Some(r#"{"1": [{"url": "https://a/", "format": "xml"}]}"#),
                    ..Bindings::default()
                },
                ENDPOINTS_BINDING,
            ),
            (
                Bindings {
                    endpoints: Some(r#"{"1": [{"url": "https://a/", "retries": 3}]}"#),
                    ..Bindings::default()
                },
                ENDPOINTS_BINDING,
            ),
            (
                Bindings {
                    endpoints: Some(r#"{"1": [{"url": "https://a/", "name": "a b"}]}"#),
                    ..Bindings::default()
                },
                ENDPOINTS_BINDING,
            ),
            (
                Bindings {
                    endpoints: Some(
                        r#"{"1": [{"url": "https://a/", "name": "n"}, {"url": "https://b/", "name": "n"}]}"#,
                    ),
                    ..Bindings::default()
                },
                ENDPOINTS_BINDING,
            ),
            (
                Bindings {
                    url: Some("https://a/"),
                    schedule: Some("5s,13h"),
                    ..Bindings::default()
                },
                SCHEDULE_BINDING,
            ),
            (
                Bindings {
                    url: Some("https://a/"),
                    schedule: Some("5d"),
                    ..Bindings::default()
                },
                SCHEDULE_BINDING,
            ),
            (
                Bindings {
                    url: Some("https://a/"),
                    timeout: Some("0"),
                    ..Bindings::default()
                },
                TIMEOUT_BINDING,
            ),
            (
                Bindings {
                    url: Some("https://a/"),
                    secret: Some("s3cret"),
                    ..Bindings::default()
                },
                webhook::SECRET_BINDING,
            ),
        ] {
            let e = with(b.clone()).unwrap_err();
            assert_eq!(e.status(), 500, "{b:?}");
            assert!(e.to_string().contains(binding), "{b:?}: {e}");
        }
        let e = Forwarding::parse(&Bindings {
            url: Some("https://a/"),
            ..Bindings::default()
        })
        .unwrap_err();
        assert_eq!((e.code(), e.status()), ("missing_secret", 500));
        assert!(e.to_string().contains("FORWARD_SECRET"), "{e}");
    }

    #[test]
    fn schedules_in_seconds_minutes_hours() {
        assert_eq!(
            parse_schedule("1, 2s, 3m, 4h").unwrap(),
            [1, 2, 180, 14_400]
        );
        assert_eq!(parse_schedule("12h").unwrap(), [MAX_DELAY_SECONDS]);
        assert!(parse_schedule("").unwrap().is_empty());
        let hundred_one = vec!["1"; 101].join(",");
        assert!(parse_schedule(&hundred_one).is_err());
    }
}
