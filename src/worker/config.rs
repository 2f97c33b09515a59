//! The Worker's settings, read from its bindings on every request (they are strings that
//! `wrangler secret put`, `.dev.vars`, `wrangler dev --var` or `[vars]` provide).

use ::worker::Env;
use wasm_bindgen::JsValue;

use super::guard::Guard;
use super::names::canonical_app;
use crate::{Error, Receiver, DEFAULT_TOLERANCE_SECONDS};

/// The secret(s) that sign callbacks of any app: comma-separated, for rotation.
pub const SECRET: &str = "ZEGO_CALLBACK_SECRET";
/// The secrets of each app, as JSON: `{"<appid>": "secret"}` or `{"<appid>": ["new", "old"]}`.
pub const SECRETS: &str = "ZEGO_CALLBACK_SECRETS";
/// `true` to let anyone read the lists, without a token.
pub const PUBLIC_READS: &str = "PUBLIC_READS";
/// The Durable Object namespace of the `Room` objects.
pub const ROOMS_BINDING: &str = "ROOMS";
/// The Durable Object namespace of the `Nonces` objects.
pub const NONCES_BINDING: &str = "NONCES";
/// The Durable Object namespace of the `Hub` objects.
pub const HUB_BINDING: &str = "HUB";
/// The timestamp window in seconds (default 300).
pub const TOLERANCE: &str = "ZEGO_TOLERANCE_SECONDS";
/// The bearer token the read routes require (unless `PUBLIC_READS=true`).
pub const READ_TOKEN: &str = "READ_TOKEN";
/// The KV namespace holding the live list.
pub const KV_BINDING: &str = "LIVE_LIST";

/// The error for a binding the Worker needs and does not have (a 503: the callback is not
/// acknowledged, and ZEGO retries once the binding is there).
pub fn unavailable(binding: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage {
        reason: format!("the binding `{binding}` is not available: {e}"),
    }
}

/// A Durable Object namespace the Worker needs.
pub fn namespace(env: &Env, binding: &str) -> Result<::worker::ObjectNamespace, Error> {
    env.durable_object(binding)
        .map_err(|e| unavailable(binding, e))
}

/// A binding's text: `None` when absent; a whole number (from a `[vars]` entry written
/// without quotes) is taken as its decimal text.
pub fn text(env: &Env, name: &str) -> Result<Option<String>, Error> {
    // Secrets (`wrangler secret put`) and plain-text vars (`.dev.vars`, `--var`, `[vars]`)
    // are both JS strings. workers-rs 0.8 reads them alike; asking for each in turn keeps
    // working should a later version tell them apart.
    if let Ok(secret) = env.secret(name) {
        return Ok(secret.as_ref().as_string());
    }
    if let Ok(var) = env.var(name) {
        return Ok(var.as_ref().as_string());
    }
    let value: JsValue =
        js_sys::Reflect::get(env.as_ref(), &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    // Whole numbers only: formatting any float would pull float printing into the bundle.
    match value.as_f64() {
        #[allow(clippy::cast_possible_truncation)]
        Some(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => {
            Ok(Some((n as i64).to_string()))
        }
        _ => Err(Error::InvalidOption {
            name: name.to_owned(),
            reason: "expected a string".to_owned(),
        }),
    }
}

/// The secrets in a comma-separated list, trimmed, empty entries dropped.
pub fn split_secrets(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses the window setting: absent means the default; anything but whole seconds is an
/// error, so a typo does not silently widen or close the window.
pub fn parse_tolerance(value: Option<&str>) -> Result<u64, Error> {
    let Some(raw) = value else {
        return Ok(DEFAULT_TOLERANCE_SECONDS);
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(tolerance_error(raw));
    }
    trimmed.parse().map_err(|_| tolerance_error(raw))
}

fn tolerance_error(raw: &str) -> Error {
    Error::InvalidOption {
        name: TOLERANCE.to_owned(),
        reason: format!("expected a whole number of seconds, got `{raw}`"),
    }
}

/// The secrets that sign callbacks: one list for any app, and one per app.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    any: Vec<String>,
    /// Each app's secrets, by canonical appid (an app named twice keeps its last entry).
    per_app: Vec<(String, Vec<String>)>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("any", &self.any.len())
            .field(
                "apps",
                &self.per_app.iter().map(|(app, _)| app).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn secrets_error(reason: impl Into<String>) -> Error {
    Error::InvalidOption {
        name: SECRETS.to_owned(),
        reason: reason.into(),
    }
}

impl Secrets {
    /// Reads [`SECRET`] (comma-separated) and [`SECRETS`] (JSON). Neither set is
    /// `missing_secret`; malformed JSON, an empty list or an empty secret is a 500 too.
    pub fn parse(single: Option<&str>, per_app: Option<&str>) -> Result<Secrets, Error> {
        let any = split_secrets(single.unwrap_or_default());
        let mut apps: Vec<(String, Vec<String>)> = Vec::new();
        if let Some(json) = per_app.map(str::trim).filter(|j| !j.is_empty()) {
            let shape = r#"expected {"<appid>": "secret"} or {"<appid>": ["new", "old"]}"#;
            let map = match serde_json::from_str(json) {
                Ok(serde_json::Value::Object(map)) => map,
                Ok(_) => return Err(secrets_error(shape)),
                Err(e) => return Err(secrets_error(format!("{shape}: {e}"))),
            };
            for (app, secrets) in map {
                let secrets: Vec<String> = match secrets {
                    serde_json::Value::String(s) => vec![s],
                    serde_json::Value::Array(list) => list
                        .into_iter()
                        .map(|s| match s {
                            serde_json::Value::String(s) => Ok(s),
                            _ => Err(secrets_error(format!("appid `{app}`: {shape}"))),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(secrets_error(format!("appid `{app}`: {shape}"))),
                };
                if secrets.is_empty() {
                    return Err(secrets_error(format!("appid `{app}` has no secret")));
                }
                crate::signature::check_secrets(&secrets)?;
                let app = canonical_app(&app).map_err(|_| {
                    secrets_error(format!(
                        "`{app}` is not an appid (digits, at most {})",
                        u32::MAX
                    ))
                })?;
                apps.retain(|(a, _)| *a != app);
                apps.push((app, secrets));
            }
        }
        if any.is_empty() && apps.is_empty() {
            return Err(Error::MissingSecret {
                name: format!("{SECRET} or {SECRETS}"),
            });
        }
        Ok(Secrets { any, per_app: apps })
    }

    /// The secrets for a callback of `app` (`None`: the body names no app) and the scope of
    /// the replay guard they need: the app's own secrets, else the ones for any app, else
    /// `unknown_app`.
    pub fn for_app(&self, app: Option<&str>) -> Result<Signers<'_>, Error> {
        let own = app.and_then(|a| self.per_app.iter().find(|(known, _)| known == a));
        if let Some((app, own)) = own {
            // A secret the app shares with another app (or with any app) signs for both.
            let shared = own.iter().any(|secret| {
                self.any.contains(secret)
                    || self
                        .per_app
                        .iter()
                        .any(|(other, list)| other != app && list.contains(secret))
            });
            let guard = if shared {
                Guard::Shared
            } else {
                Guard::App(app.clone())
            };
            return Ok(Signers {
                secrets: own,
                guard,
            });
        }
        if !self.any.is_empty() {
            return Ok(Signers {
                secrets: &self.any,
                guard: Guard::Shared,
            });
        }
        Err(match app {
            Some(app) => Error::UnknownApp {
                appid: app.to_owned(),
            },
            None => Error::missing("appid"),
        })
    }

    /// The app a read means when it names none: the only one configured, when the secrets
    /// are per app and there is just one.
    pub fn default_app(&self) -> Option<&str> {
        match (self.any.is_empty(), self.per_app.as_slice()) {
            (true, [(app, _)]) => Some(app),
            _ => None,
        }
    }
}

/// The secrets that may sign a callback, and the guard their signature needs.
#[derive(Debug, Clone)]
pub struct Signers<'a> {
    /// The secrets, any of which may have signed it.
    pub secrets: &'a [String],
    /// The replay guard's scope.
    pub guard: Guard,
}

/// The Worker's settings for receiving callbacks.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The secrets, for any app and per app.
    pub secrets: Secrets,
    /// The timestamp window, seconds.
    pub tolerance: u64,
}

impl Settings {
    /// Reads the bindings: a missing secret and a bad window are 500s.
    pub fn read(env: &Env) -> Result<Settings, Error> {
        let secrets = Secrets::parse(
            text(env, SECRET)?.as_deref(),
            text(env, SECRETS)?.as_deref(),
        )?;
        let tolerance = parse_tolerance(text(env, TOLERANCE)?.as_deref())?;
        Ok(Settings { secrets, tolerance })
    }

    /// The receiver for a callback of `app`, and the replay guard its signature needs.
    pub fn receiver(&self, app: Option<&str>) -> Result<(Receiver, Guard), Error> {
        let signers = self.secrets.for_app(app)?;
        let receiver = Receiver::with_secrets(signers.secrets.iter().cloned())?
            .tolerance_seconds(self.tolerance);
        Ok((receiver, signers.guard))
    }
}

/// Who may read the lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadAccess {
    /// Anyone: `PUBLIC_READS=true`.
    Public,
    /// Whoever presents this token.
    Token(String),
    /// No one: neither a token nor `PUBLIC_READS=true` is set.
    Closed,
}

/// Parses `PUBLIC_READS` and `READ_TOKEN` (an empty token counts as unset).
pub fn parse_read_access(public: Option<&str>, token: Option<&str>) -> Result<ReadAccess, Error> {
    let public = match public.map(str::trim).unwrap_or_default() {
        "" => false,
        p if p.eq_ignore_ascii_case("true") => true,
        p if p.eq_ignore_ascii_case("false") => false,
        other => {
            return Err(Error::InvalidOption {
                name: PUBLIC_READS.to_owned(),
                reason: format!("expected `true` or `false`, got `{other}`"),
            })
        }
    };
    let token = token.map(str::trim).filter(|t| !t.is_empty());
    Ok(match (public, token) {
        (true, _) => ReadAccess::Public,
        (false, Some(token)) => ReadAccess::Token(token.to_owned()),
        (false, None) => ReadAccess::Closed,
    })
}

/// Who may read the lists, from the bindings.
pub fn read_access(env: &Env) -> Result<ReadAccess, Error> {
    parse_read_access(
        text(env, PUBLIC_READS)?.as_deref(),
        text(env, READ_TOKEN)?.as_deref(),
    )
}

/// Each app's secret for ZEGO's server API, as JSON: `{"<appid>": "<server secret>"}`. An app
/// without one is never checked.
pub const SERVER_SECRETS: &str = "ZEGO_SERVER_SECRETS";
/// Where ZEGO's server API answers (default [`DEFAULT_API_BASE`]).
pub const API_BASE: &str = "ZEGO_API_BASE";
/// How often a room with live streams is checked against ZEGO's server API, in seconds
/// (default 300; 0 turns checks off; less than the floor is the floor).
pub const RECONCILE_SECONDS: &str = "ZEGO_RECONCILE_SECONDS";
/// The floor of that period, and the time between two checks a stream must be absent from
/// and its age at the first, in seconds: ZEGO's limit of one call per room every 10 s. For
/// tests against a stand-in of ZEGO's API only.
pub const RECONCILE_MIN_SECONDS: &str = "ZEGO_RECONCILE_MIN_SECONDS";

/// ZEGO's limit of `DescribeSimpleStreamList` calls a second per app (default
/// [`DEFAULT_API_CALLS_PER_SECOND`], as ZEGO documents it): the app's rooms share it.
pub const API_CALLS_PER_SECOND: &str = "ZEGO_API_CALLS_PER_SECOND";
/// ZEGO's documented limit per app.
pub const DEFAULT_API_CALLS_PER_SECOND: u64 = 50;

/// ZEGO's server API.
pub const DEFAULT_API_BASE: &str = "https://rtc-api.zego.im/";
/// The period of checks by default, in seconds.
pub const DEFAULT_RECONCILE_SECONDS: u64 = 300;
/// ZEGO's limit: one `DescribeSimpleStreamList` per room every 10 s.
pub const ZEGO_ROOM_INTERVAL_SECONDS: u64 = 10;

/// Checks of rooms against ZEGO's server API: which apps, where, how often.
#[derive(Clone, PartialEq, Eq)]
pub struct Reconcile {
    /// Each app's server secret, by canonical appid.
    server_secrets: Vec<(String, String)>,
    /// The API's base URL.
    pub api_base: String,
    /// The period of checks, ms; 0: off.
    pub period_ms: u64,
    /// The least time between two calls for a room, ms.
    pub floor_ms: u64,
    /// The calls a second the app's rooms share.
    pub calls_per_second: u64,
}

impl std::fmt::Debug for Reconcile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconcile")
            .field(
                "apps",
                &self
                    .server_secrets
                    .iter()
                    .map(|(app, _)| app)
                    .collect::<Vec<_>>(),
            )
            .field("api_base", &self.api_base)
            .field("period_ms", &self.period_ms)
            .field("floor_ms", &self.floor_ms)
            .field("calls_per_second", &self.calls_per_second)
            .finish()
    }
}

fn whole_seconds(name: &str, value: Option<&str>, default: u64, max: u64) -> Result<u64, Error> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(n) if raw.bytes().all(|b| b.is_ascii_digit()) && n <= max => Ok(n),
        _ => Err(Error::InvalidOption {
            name: name.to_owned(),
            reason: format!("expected a whole number of seconds up to {max}, got `{raw}`"),
        }),
    }
}

fn reconcile_error(name: &str, reason: String) -> Error {
    Error::InvalidOption {
        name: name.to_owned(),
        reason,
    }
}

impl Reconcile {
    /// Reads the four settings' text. Malformed JSON, an empty secret, a base that is not an
    /// http(s) URL or a period that is not whole seconds is `invalid_option` (500).
    pub fn parse(
        secrets: Option<&str>,
        base: Option<&str>,
        seconds: Option<&str>,
        min_seconds: Option<&str>,
    ) -> Result<Reconcile, Error> {
        let present = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let shape = r#"expected {"<appid>": "<server secret>"}, each appid digits and each secret not empty"#;
        let mut server_secrets: Vec<(String, String)> = Vec::new();
        if let Some(json) = present(secrets) {
            // The crate's own reader: a repeated appid is refused, as malformed.
            let Ok(map) = crate::body::decode_json(&json) else {
                return Err(reconcile_error(SERVER_SECRETS, shape.to_owned()));
            };
            for (app, secret) in map.iter() {
                let secret = match secret {
                    crate::value::Value::String(s) => s.trim(),
                    _ => "",
                };
                let (Ok(canonical), false) = (canonical_app(app), secret.is_empty()) else {
                    return Err(reconcile_error(
                        SERVER_SECRETS,
                        format!("appid `{app}`: {shape}"),
                    ));
                };
                server_secrets.retain(|(a, _)| *a != canonical);
                server_secrets.push((canonical, secret.to_owned()));
            }
        }
        let api_base = present(base).unwrap_or_else(|| DEFAULT_API_BASE.to_owned());
        let host = api_base
            .strip_prefix("https://")
            .or_else(|| api_base.strip_prefix("http://"))
            .unwrap_or_default();
        if host.is_empty()
            || host.starts_with('/')
            || api_base.contains(['?', '#'])
            || api_base
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(reconcile_error(
                API_BASE,
                format!("`{api_base}` is not an http(s) URL without a query"),
            ));
        }
        let floor = whole_seconds(
            RECONCILE_MIN_SECONDS,
            min_seconds,
            ZEGO_ROOM_INTERVAL_SECONDS,
            ZEGO_ROOM_INTERVAL_SECONDS,
        )?
        .max(1);
        let period = whole_seconds(
            RECONCILE_SECONDS,
            seconds,
            DEFAULT_RECONCILE_SECONDS,
            86_400,
        )?;
        Ok(Reconcile {
            server_secrets,
            api_base,
            period_ms: if period == 0 {
                0
            } else {
                period.max(floor) * 1000
            },
            floor_ms: floor * 1000,
            calls_per_second: DEFAULT_API_CALLS_PER_SECOND,
        })
    }

    /// The calls a second the app's rooms share, from its setting's text: 1 to 1,000.
    pub fn with_calls_per_second(mut self, value: Option<&str>) -> Result<Reconcile, Error> {
        let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(self);
        };
        match raw.parse::<u64>() {
            Ok(n) if (1..=1000).contains(&n) && raw.bytes().all(|b| b.is_ascii_digit()) => {
                self.calls_per_second = n;
                Ok(self)
            }
            _ => Err(reconcile_error(
                API_CALLS_PER_SECOND,
                format!("expected a whole number of calls from 1 to 1000, got `{raw}`"),
            )),
        }
    }

    /// Reads the bindings.
    pub fn read(env: &Env) -> Result<Reconcile, Error> {
        Reconcile::parse(
            text(env, SERVER_SECRETS)?.as_deref(),
            text(env, API_BASE)?.as_deref(),
            text(env, RECONCILE_SECONDS)?.as_deref(),
            text(env, RECONCILE_MIN_SECONDS)?.as_deref(),
        )?
        .with_calls_per_second(text(env, API_CALLS_PER_SECOND)?.as_deref())
    }

    /// The server secret to check `app`'s rooms with; `None` when checks are off or the app
    /// has none (its rooms are never checked).
    pub fn server_secret(&self, app: &str) -> Option<&str> {
        if self.period_ms == 0 {
            return None;
        }
        self.server_secrets
            .iter()
            .find(|(a, _)| a == app)
            .map(|(_, s)| s.as_str())
    }

    /// What counts as evidence that a stream is gone: ZEGO's 10 s, or the floor set for
    /// tests.
    pub fn thresholds(&self) -> crate::live::Thresholds {
        crate::live::Thresholds {
            min_gap_ms: self.floor_ms,
            min_age_ms: self.floor_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_split_and_trimmed() {
        assert_eq!(split_secrets(" a , b,,c "), ["a", "b", "c"]);
        assert!(split_secrets(" , ").is_empty());
        assert!(split_secrets("").is_empty());
    }

    #[test]
    fn secrets_per_app_beside_one_for_any_app() {
        let s = Secrets::parse(None, Some(r#"{"1": "a", "0002": ["b", "c"]}"#)).unwrap();
        assert_eq!(s.for_app(Some("1")).unwrap().secrets, ["a"]);
        assert_eq!(s.for_app(Some("2")).unwrap().secrets, ["b", "c"]);
        let e = s.for_app(Some("3")).unwrap_err();
        assert_eq!((e.code(), e.status()), ("unknown_app", 403));
        assert!(e.to_string().contains('3'), "{e}");
        assert_eq!(s.for_app(None).unwrap_err().field(), Some("appid"));
        assert_eq!(s.default_app(), None);

        let both = Secrets::parse(Some("x, y"), Some(r#"{"1": "a"}"#)).unwrap();
        assert_eq!(both.for_app(Some("1")).unwrap().secrets, ["a"]);
        assert_eq!(both.for_app(Some("3")).unwrap().secrets, ["x", "y"]);
        assert_eq!(both.for_app(None).unwrap().secrets, ["x", "y"]);
        assert_eq!(both.default_app(), None);

        let one = Secrets::parse(None, Some(r#"{"7": "a"}"#)).unwrap();
        assert_eq!(one.default_app(), Some("7"));
    }

    #[test]
    fn the_guard_is_as_wide_as_what_the_secret_signs_for() {
        // One secret for any app: a captured signature of app 1 also verifies for app 2, so
        // both share one guard.
        let any = Secrets::parse(Some("s"), None).unwrap();
        for app in [Some("1"), Some("2"), None] {
            assert_eq!(any.for_app(app).unwrap().guard, Guard::Shared, "{app:?}");
        }
        // Per-app secrets: each app its own guard...
        let own = Secrets::parse(Some("x"), Some(r#"{"1": "a", "2": ["b", "c"]}"#)).unwrap();
        assert_eq!(
            own.for_app(Some("1")).unwrap().guard,
            Guard::App("1".into())
        );
        assert_eq!(
            own.for_app(Some("2")).unwrap().guard,
            Guard::App("2".into())
        );
        assert_eq!(own.for_app(Some("3")).unwrap().guard, Guard::Shared);
        // ...unless a secret of the app also signs for another, or for any app.
        let reused =
            Secrets::parse(Some("x"), Some(r#"{"1": "a", "2": ["b", "a"], "3": "x"}"#)).unwrap();
        assert_eq!(reused.for_app(Some("1")).unwrap().guard, Guard::Shared);
        assert_eq!(reused.for_app(Some("2")).unwrap().guard, Guard::Shared);
        assert_eq!(reused.for_app(Some("3")).unwrap().guard, Guard::Shared);
    }

    #[test]
    fn bad_secrets_are_configuration_errors() {
        for (single, json, code) in [
            (None, None, "missing_secret"),
            (Some(" , "), Some(" "), "missing_secret"),
            (None, Some("[1]"), "invalid_option"),
            (None, Some(r#"{"1": 5}"#), "invalid_option"),
            (None, Some(r#"{"1": []}"#), "invalid_option"),
            (None, Some(r#"{"1": ""}"#), "empty_secret"),
            (None, Some(r#"{"1:room:a": "s"}"#), "invalid_option"),
            (None, Some(r#"{"1.0": "s"}"#), "invalid_option"),
        ] {
            let e = Secrets::parse(single, json).unwrap_err();
            assert_eq!((e.code(), e.status()), (code, 500), "{json:?}");
        }
        let debug = format!("{:?}", Secrets::parse(Some("hidden"), None).unwrap());
        assert!(!debug.contains("hidden"), "{debug}");
    }

    #[test]
    fn reads_are_closed_unless_a_token_or_public_reads() {
        assert_eq!(parse_read_access(None, None).unwrap(), ReadAccess::Closed);
        assert_eq!(
            parse_read_access(None, Some(" ")).unwrap(),
            ReadAccess::Closed
        );
        assert_eq!(
            parse_read_access(Some("false"), Some(" t ")).unwrap(),
            ReadAccess::Token("t".into())
        );
        assert_eq!(
            parse_read_access(Some("TRUE"), Some("t")).unwrap(),
            ReadAccess::Public
        );
        let e = parse_read_access(Some("yes"), None).unwrap_err();
        assert_eq!((e.code(), e.status()), ("invalid_option", 500));
    }

    #[test]
    fn tolerance_defaults_and_refuses_typos() {
        assert_eq!(parse_tolerance(None).unwrap(), 300);
        assert_eq!(parse_tolerance(Some(" 60 ")).unwrap(), 60);
        for bad in ["", "5m", "-1", "1.5", "99999999999999999999999"] {
            let e = parse_tolerance(Some(bad)).unwrap_err();
            assert_eq!((e.code(), e.status()), ("invalid_option", 500), "{bad}");
            assert!(e.to_string().contains(TOLERANCE), "{e}");
        }
    }

    #[test]
    fn reconcile_defaults_floors_and_refuses_typos() {
        let r = Reconcile::parse(None, None, None, None).unwrap();
        assert_eq!(
            (r.api_base.as_str(), r.period_ms, r.floor_ms),
            (DEFAULT_API_BASE, 300_000, 10_000)
        );
        assert_eq!(
            r.server_secret("1"),
            None,
            "no app is checked without a secret"
        );
        let r = Reconcile::parse(
            Some(r#"{"0001": " s3cret ", "2": "x"}"#),
            Some("http://127.0.0.1:9999/"),
            Some("3"),
            None,
        )
        .unwrap();
        assert_eq!(r.server_secret("1"), Some("s3cret"));
        assert_eq!(r.server_secret("3"), None);
        assert_eq!(r.period_ms, 10_000, "raised to ZEGO's 10 s");
        assert_eq!(r.api_base, "http://127.0.0.1:9999/");
        assert!(!format!("{r:?}").contains("s3cret"));
        let off = Reconcile::parse(Some(r#"{"1":"s"}"#), None, Some("0"), None).unwrap();
        assert_eq!(off.server_secret("1"), None, "0 turns checks off");
        let quick = Reconcile::parse(Some(r#"{"1":"s"}"#), None, Some("2"), Some("1")).unwrap();
        assert_eq!((quick.period_ms, quick.floor_ms), (2_000, 1_000));
        assert_eq!(quick.thresholds().min_gap_ms, 1_000);
        let zero = Reconcile::parse(Some(r#"{"1":"s"}"#), None, Some("1"), Some("0")).unwrap();
        assert_eq!(zero.floor_ms, 1_000, "at least a second");
        assert_eq!(zero.calls_per_second, 50, "ZEGO's documented limit per app");
        let rate = |v| zero.clone().with_calls_per_second(Some(v));
        assert_eq!(rate("7").unwrap().calls_per_second, 7);
        assert_eq!(rate(" ").unwrap().calls_per_second, 50);
        for bad in ["0", "1001", "2.5", "-1", "+3", "fifty"] {
            let e = rate(bad).unwrap_err();
            assert!(e.to_string().contains(API_CALLS_PER_SECOND), "{bad}: {e}");
        }

        for (secrets, base, seconds, min, name) in [
            (Some("{"), None, None, None, SERVER_SECRETS),
            (Some("[]"), None, None, None, SERVER_SECRETS),
            (
                Some(r#"{"1": "a", "1": "b"}"#),
                None,
                None,
                None,
                SERVER_SECRETS,
            ),
            (Some(r#"{"1": 5}"#), None, None, None, SERVER_SECRETS),
            (Some(r#"{"1": " "}"#), None, None, None, SERVER_SECRETS),
            (Some(r#"{"x": "s"}"#), None, None, None, SERVER_SECRETS),
            (None, Some("rtc-api.zego.im"), None, None, API_BASE),
            (None, Some("https://"), None, None, API_BASE),
            (None, Some("https://a.example/?x=1"), None, None, API_BASE),
            (None, None, Some("5m"), None, RECONCILE_SECONDS),
            (None, None, Some("-1"), None, RECONCILE_SECONDS),
            (None, None, None, Some("11"), RECONCILE_MIN_SECONDS),
        ] {
            let e = Reconcile::parse(secrets, base, seconds, min).unwrap_err();
            assert_eq!((e.code(), e.status()), ("invalid_option", 500), "{e}");
            assert!(e.to_string().contains(name), "{e}");
        }
        let e = Reconcile::parse(Some(r#"{"1": "hidden", "2": 1}"#), None, None, None).unwrap_err();
        assert!(!e.to_string().contains("hidden"), "{e}");
    }
}
