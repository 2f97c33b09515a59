//! The Worker's settings, read from its bindings on every request (they are strings that
//! `wrangler secret put`, `.dev.vars`, `wrangler dev --var` or `[vars]` provide).

use ::worker::Env;
use wasm_bindgen::JsValue;

use crate::{Error, Receiver, DEFAULT_TOLERANCE_SECONDS};

/// The secret(s) that sign callbacks: comma-separated, for rotation.
pub const SECRET: &str = "ZEGO_CALLBACK_SECRET";
/// The timestamp window in seconds (default 300).
pub const TOLERANCE: &str = "ZEGO_TOLERANCE_SECONDS";
/// When set, the bearer token the read routes require.
pub const READ_TOKEN: &str = "READ_TOKEN";
/// The KV namespace holding the live list.
pub const KV_BINDING: &str = "LIVE_LIST";

/// A binding's text: `None` when absent; a number (from a `[vars]` entry written without
/// quotes) is taken as its decimal text.
fn text(env: &Env, name: &str) -> Result<Option<String>, Error> {
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
    match value.as_f64() {
        Some(n) => Ok(Some(n.to_string())),
        None => Err(Error::InvalidOption {
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

/// The receiver configured by the bindings: missing secret and bad window are 500s.
pub fn receiver(env: &Env) -> Result<(Receiver, u64), Error> {
    let secrets = split_secrets(&text(env, SECRET)?.unwrap_or_default());
    if secrets.is_empty() {
        return Err(Error::MissingSecret {
            name: SECRET.to_owned(),
        });
    }
    let tolerance = parse_tolerance(text(env, TOLERANCE)?.as_deref())?;
    Ok((
        Receiver::with_secrets(secrets)?.tolerance_seconds(tolerance),
        tolerance,
    ))
}

/// The bearer token the read routes require, if one is set (an empty one counts as unset).
pub fn read_token(env: &Env) -> Result<Option<String>, Error> {
    Ok(text(env, READ_TOKEN)?
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
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
    fn tolerance_defaults_and_refuses_typos() {
        assert_eq!(parse_tolerance(None).unwrap(), 300);
        assert_eq!(parse_tolerance(Some(" 60 ")).unwrap(), 60);
        for bad in ["", "5m", "-1", "1.5", "99999999999999999999999"] {
            let e = parse_tolerance(Some(bad)).unwrap_err();
            assert_eq!((e.code(), e.status()), ("invalid_option", 500), "{bad}");
            assert!(e.to_string().contains(TOLERANCE), "{e}");
        }
    }
}
