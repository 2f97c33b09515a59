//! Standard Webhooks, as the Worker signs what it forwards: the message id, the secrets
//! (`whsec_<base64>`, several while rotating) and the `webhook-signature` header. Pure
//! functions, tested natively against the spec's known answer.
//!
//! The signed content is `{id}.{timestamp}.{body}`; the header holds one `v1,<base64
//! HMAC-SHA256>` per secret, space-separated. A receiver verifies with any Standard Webhooks
//! library (npm `standardwebhooks`, crate `standardwebhooks`, ...), checks a window around
//! `webhook-timestamp`, and dedupes on `webhook-id`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::Error;

/// The binding that holds the signing secrets.
pub const SECRET_BINDING: &str = "FORWARD_SECRET";

/// One signing secret: the key bytes of a `whsec_<base64>` secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

fn secret_error(reason: impl Into<String>) -> Error {
    Error::InvalidOption {
        name: SECRET_BINDING.to_owned(),
        reason: reason.into(),
    }
}

/// Reads `FORWARD_SECRET`: one or more `whsec_<base64>` secrets, comma-separated (the first
/// is the current one; all sign while rotating). The message never shows a secret.
pub fn parse_secrets(text: &str) -> Result<Vec<Secret>, Error> {
    let secrets = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| {
            let encoded = s.strip_prefix("whsec_").ok_or_else(|| {
                secret_error(format!("secret {} does not start with `whsec_`", i + 1))
            })?;
            match STANDARD.decode(encoded) {
                Ok(key) if !key.is_empty() => Ok(Secret(key)),
                _ => Err(secret_error(format!(
                    "secret {} is not `whsec_` followed by base64 of the key",
                    i + 1
                ))),
            }
        })
        .collect::<Result<Vec<_>, Error>>()?;
    if secrets.is_empty() {
        return Err(secret_error("no secret is given"));
    }
    Ok(secrets)
}

/// The `webhook-signature` header for a message: `v1,<base64>` per secret, space-separated.
pub fn signature(secrets: &[Secret], id: &str, timestamp: u64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    secrets
        .iter()
        .map(|secret| {
            // An HMAC takes a key of any length: `new_from_slice` cannot fail here.
            let mut mac = match Hmac::<Sha256>::new_from_slice(&secret.0) {
                Ok(mac) => mac,
                Err(_) => return String::new(),
            };
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(ts.as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The id of a forwarded callback: the same for every retry and duplicate of one ZEGO
/// callback (the same app, nonce and body), different for any other. `msg_` and 32 hex
/// digits of a SHA-256 over the three.
pub fn message_id(app: &str, nonce: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [app.as_bytes(), b"\n", nonce.as_bytes(), b"\n"] {
        hash.update(part);
    }
    hash.update(body);
    let digest = hash.finalize();
    let half: Vec<u8> = digest.iter().take(16).copied().collect();
    format!("msg_{}", hex::encode(half))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_spec_known_answer() {
        let secrets = parse_secrets("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            signature(
                &secrets,
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                body
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn several_secrets_sign_each_while_rotating() {
        let secrets =
            parse_secrets(" whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD , whsec_c2Vjb25k ,").unwrap();
        let header = signature(&secrets, "msg_1", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn a_malformed_secret_is_a_configuration_error_that_shows_no_secret() {
        for bad in [
            "",
            " , ",
            "C2FVsBQIhrscChlQIMV",
            "whsec_",
            "whsec_!!!",
            "whsec_a,nope",
        ] {
            let e = parse_secrets(bad).unwrap_err();
            assert_eq!((e.code(), e.status()), ("invalid_option", 500), "{bad}");
            assert!(e.to_string().contains(SECRET_BINDING), "{e}");
            assert!(!e.to_string().contains("nope"), "{e}");
        }
        let shown = format!("{:?}", parse_secrets("whsec_c2Vjb25k").unwrap());
        assert!(!shown.contains("c2Vjb25k"), "{shown}");
    }

    #[test]
    fn one_callback_one_id() {
        let a = message_id("1", "350176", b"{\"a\":1}");
        assert!(a.starts_with("msg_") && a.len() == 36, "{a}");
        assert_eq!(a, message_id("1", "350176", b"{\"a\":1}"));
        assert_ne!(a, message_id("2", "350176", b"{\"a\":1}"));
        assert_ne!(a, message_id("1", "350177", b"{\"a\":1}"));
        assert_ne!(a, message_id("1", "350176", b"{\"a\":2}"));
        // The separators keep the parts apart.
        assert_ne!(message_id("1", "23", b"x"), message_id("12", "3", b"x"));
    }
}
