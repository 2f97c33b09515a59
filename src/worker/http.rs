//! HTTP plumbing: JSON and error responses, CORS, the bounded body read, the bearer check.

use ::worker::{Headers, Request, Response, ResponseBuilder};
use futures_util::StreamExt;
use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::error::ErrorBody;
use crate::Error;

/// Which headers a response carries besides its content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extra {
    /// CORS headers, for the read routes (a browser page reads the list).
    pub cors: bool,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
}

impl Extra {
    /// No extra header.
    pub const PLAIN: Extra = Extra {
        cors: false,
        allow: None,
    };
    /// CORS headers.
    pub const CORS: Extra = Extra {
        cors: true,
        allow: None,
    };

    /// The same, with an `Allow` header.
    pub fn allow(self, methods: &'static str) -> Extra {
        Extra {
            allow: Some(methods),
            ..self
        }
    }
}

const CORS: [(&str, &str); 4] = [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET, POST, OPTIONS"),
    (
        "access-control-allow-headers",
        "Authorization, Content-Type",
    ),
    ("access-control-max-age", "86400"),
];

fn headers(extra: Extra) -> ::worker::Result<Headers> {
    let headers = Headers::new();
    headers.set("cache-control", "no-store")?;
    if extra.cors {
        for (name, value) in CORS {
            headers.set(name, value)?;
        }
    }
    if let Some(methods) = extra.allow {
        headers.set("allow", methods)?;
    }
    Ok(headers)
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, body: &T, extra: Extra) -> ::worker::Result<Response> {
    let text = serde_json::to_string(body)?;
    let headers = headers(extra)?;
    headers.set("content-type", "application/json; charset=utf-8")?;
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(text.into_bytes()))
}

/// The response for an error, with the status [`Error::status`] gives it.
pub fn error(e: &Error, extra: Extra) -> ::worker::Result<Response> {
    if e.status() >= 500 {
        ::worker::console_error!("{} ({})", e, e.code());
    }
    json(e.status(), &ErrorBody::new(e), extra)
}

/// The answer to a CORS preflight.
pub fn preflight() -> ::worker::Result<Response> {
    Ok(ResponseBuilder::new()
        .with_status(204)
        .with_headers(headers(Extra::CORS)?)
        .empty())
}

/// Reads the body, refusing one larger than `limit` bytes: by its Content-Length before
/// reading anything, and by its actual length while reading (a chunked body has none).
pub async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, Error> {
    let declared = req.headers().get("content-length").ok().flatten();
    if let Some(size) = declared.and_then(|v| v.trim().parse::<usize>().ok()) {
        if size > limit {
            return Err(Error::BodyTooLarge { size, limit });
        }
        // The runtime holds a body to its declared length: read it in one call, not chunk
        // by chunk through a stream reader.
        return req
            .bytes()
            .await
            .map_err(|e| Error::malformed(format!("the body could not be read: {e}")));
    }
    // No body stream at all is an empty body.
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Error::malformed(format!("the body could not be read: {e}")))?;
        let size = body.len() + chunk.len();
        if size > limit {
            return Err(Error::BodyTooLarge {
                size: drain(stream, size).await,
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The query parameters of a request, decoded as a form (`+` a space, `%XX` escapes),
/// without the `url` crate (its parser is a large part of a bundle that needs no more of it).
/// A pair that does not decode to UTF-8 is left out.
pub fn query(req: &Request) -> Vec<(String, String)> {
    let url = req.inner().url();
    let Some((_, rest)) = url.split_once('?') else {
        return Vec::new();
    };
    let query = rest.split('#').next().unwrap_or_default();
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((
                crate::body::form_decode(k)?.into_owned(),
                crate::body::form_decode(v)?.into_owned(),
            ))
        })
        .collect()
}

/// The first value of query parameter `name`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A URL with query parameters, each form-encoded (what [`query`] reads back).
pub fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let mut url = base.to_owned();
    for (i, (k, v)) in params.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.extend(utf8_percent_encode(k, NON_ALPHANUMERIC));
        url.push('=');
        url.extend(utf8_percent_encode(v, NON_ALPHANUMERIC));
    }
    url
}

/// How far an oversized body is read (and dropped) before the 413: a body left unread broke
/// the next request on the same local dev server (`wrangler dev`'s proxy answered it 503).
/// Past this the stream is cancelled instead, so a sender cannot make the Worker read
/// without end.
pub const DRAIN_LIMIT: usize = 256 * 1024;

/// Reads what is left of a body up to [`DRAIN_LIMIT`] in all, dropping it; returns the size
/// seen. The stream is cancelled when dropped.
async fn drain(mut stream: ::worker::ByteStream, mut seen: usize) -> usize {
    while seen <= DRAIN_LIMIT {
        match stream.next().await {
            Some(Ok(chunk)) => seen += chunk.len(),
            _ => break,
        }
    }
    seen
}

/// Whether an `Authorization` header carries `Bearer <token>`; compared in constant time
/// (for a given length).
pub fn bearer_matches(header: Option<&str>, token: &str) -> bool {
    let Some((scheme, given)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer") && token_matches(given.trim(), token)
}

/// Whether a token given some other way (a `?token=` query parameter) is the token;
/// compared in constant time (for a given length).
pub fn token_matches(given: &str, token: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token() {
        assert!(bearer_matches(Some("Bearer s3cret"), "s3cret"));
        assert!(bearer_matches(Some("bearer  s3cret "), "s3cret"));
        for wrong in [
            None,
            Some(""),
            Some("s3cret"),
            Some("Bearer"),
            Some("Bearer s3cre"),
            Some("Bearer s3cret2"),
            Some("Basic s3cret"),
        ] {
            assert!(!bearer_matches(wrong, "s3cret"), "{wrong:?}");
        }
    }

    #[test]
    fn internal_urls_read_back() {
        let url = with_query("https://object/apply", &[("id", "a b&c=d/é"), ("app", "1")]);
        assert_eq!(url.matches('?').count(), 1);
        let (_, q) = url.split_once('?').unwrap();
        let pairs: Vec<(String, String)> = q
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (
                    crate::body::form_decode(k).unwrap().into_owned(),
                    crate::body::form_decode(v).unwrap().into_owned(),
                )
            })
            .collect();
        assert_eq!(param(&pairs, "id"), Some("a b&c=d/é"));
        assert_eq!(param(&pairs, "app"), Some("1"));
        assert_eq!(with_query("https://object/x", &[]), "https://object/x");
    }

    #[test]
    fn error_body_shape() {
        let e = Error::invalid("stream_seq", "expected an unsigned integer");
        let body = serde_json::to_value(ErrorBody::new(&e)).unwrap();
        assert_eq!(body["error"]["code"], "invalid_field");
        assert_eq!(body["error"]["field"], "stream_seq");
        let body = serde_json::to_value(ErrorBody::new(&Error::NotFound)).unwrap();
        assert_eq!(body["error"]["field"], serde_json::Value::Null);
    }
}
