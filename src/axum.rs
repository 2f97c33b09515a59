//! An axum extractor: a handler takes a verified, typed callback as its argument.
//!
//! ```
//! # use axum::{http::StatusCode, routing::post, Router};
//! # use zego_callback::{Callback, Receiver};
//! use zego_callback::axum::{ZegoCallback, ZegoState};
//!
//! async fn on_zego(ZegoCallback(cb): ZegoCallback) -> StatusCode {
//!     if let Callback::StreamCreate(c) = &cb {
//!         println!("{} live in {} (session {})", c.stream_id, c.room_id, c.room_session_id);
//!     }
//!     StatusCode::OK // a refused callback never gets here: the extractor has answered it
//! }
//!
//! # fn main() -> Result<(), zego_callback::Error> {
//! let zego = ZegoState::new(Receiver::with_secrets(["current-secret", "previous-secret"])?);
//! let app = Router::new().route("/zego/callback", post(on_zego)).with_state(zego);
//! # let _: Router = app;
//! # Ok(())
//! # }
//! ```
//!
//! (The README shows the same lines; `tests/axum.rs` checks that they stay the same.)
//!
//! [`ZegoCallback`] reads the receiver and the replay guard from the application's state
//! ([`ZegoState`], through `FromRef`, so it can sit in a larger state), then does what the
//! Worker and the npm adapters do: refuses a body over the receiver's limit (by its
//! `Content-Length` before reading, else while reading), reads the clock, verifies the
//! signature and the window before typing anything, and claims the callback's signed
//! timestamp and nonce in the nonce store by the rules of [`replay`]. A refusal is a
//! [`ZegoRejection`]: the status of the crate's error table and the JSON body
//! `{"error":{"code","message","field"}}`, as the Worker and the npm module answer.
//!
//! Only this module knows HTTP; the rules, the receiver and the stores are the core's.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ::axum::body::{Body, Bytes, HttpBody};
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use ::axum::response::{IntoResponse, Response};

use crate::replay::{self, Claim, MemoryNonceStore, NonceStore};
use crate::{body, Callback, Error, Receiver, SignedParts};

/// A verified, typed callback, as a handler's argument:
/// `async fn on_zego(ZegoCallback(cb): ZegoCallback) -> StatusCode`.
///
/// Extracting it reads the request's body, so it comes last among a handler's arguments.
/// Take `Result<ZegoCallback, ZegoRejection>` instead to see (and log) a refusal before
/// answering it.
#[derive(Debug, Clone)]
pub struct ZegoCallback(pub Callback<'static>);

/// What [`ZegoCallback`] needs from the application's state: the [`Receiver`] (secrets,
/// window, body limit) and the nonce store of the replay guard.
///
/// Clones share the store: give every route that receives callbacks for the same secrets
/// clones of one state, so that a signature captured on one cannot be replayed on another.
#[derive(Clone)]
pub struct ZegoState {
    receiver: Arc<Receiver>,
    nonces: Option<Arc<dyn ClaimNonce>>,
}

impl ZegoState {
    /// A state that receives with `receiver` and guards against replays with a
    /// [`MemoryNonceStore`] (one process; [`with_nonce_store`](Self::with_nonce_store) for a
    /// shared one).
    pub fn new(receiver: Receiver) -> Self {
        ZegoState {
            receiver: Arc::new(receiver),
            nonces: Some(Arc::new(MemoryNonceStore::new())),
        }
    }

    /// Claims in `store` instead (Redis, a database: whatever several processes share).
    pub fn with_nonce_store(mut self, store: impl NonceStore + 'static) -> Self {
        self.nonces = Some(Arc::new(store));
        self
    }

    /// Claims nothing: a captured signature can then come back with another body within the
    /// window. Only for handlers that something else guards.
    pub fn without_nonce_store(mut self) -> Self {
        self.nonces = None;
        self
    }

    /// The receiver.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }

    /// Reads, verifies, claims and types one request's callback.
    async fn receive(&self, req: Request) -> Result<Callback<'static>, ZegoRejection> {
        let (parts, body) = req.into_parts();
        let limit = self.receiver.body_limit();
        if let Some(size) = declared_length(&parts.headers).filter(|&size| size > limit) {
            return Err(ZegoRejection::unread(Error::BodyTooLarge { size, limit }));
        }
        let bytes = read_body(body, limit).await?;
        let content_type = content_type(&parts.headers)?;
        let now = unix_now();

        // The Worker's steps: the signature and window before anything is typed, the claim
        // once the callback is known to be well formed.
        let fields = body::decode(&bytes, content_type)?;
        self.receiver.verify_fields(&fields, now)?;
        let Some(nonces) = &self.nonces else {
            return Ok(Callback::from_fields(fields)?.into_owned());
        };
        let signed = SignedParts::from_fields(&fields)?;
        let key = replay::claim_key(signed.timestamp_secs, signed.nonce)?;
        let nonce = signed.nonce.to_owned();
        let cb = Callback::from_fields(fields)?.into_owned();
        let digest = replay::body_digest(&bytes);
        let ttl_seconds = replay::claim_ttl_seconds(self.receiver.tolerance());
        match nonces.claim(&key, &digest, ttl_seconds).await {
            Ok(Claim::New | Claim::Same) => Ok(cb),
            Ok(Claim::Other) => Err(Error::ReplayedNonce { nonce }.into()),
            Err(e) => Err(ZegoRejection::store_failed(e)),
        }
    }
}

impl fmt::Debug for ZegoState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZegoState")
            .field("receiver", &self.receiver)
            .field("nonce_store", &self.nonces.is_some())
            .finish()
    }
}

impl<S> FromRequest<S> for ZegoCallback
where
    ZegoState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ZegoRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        ZegoState::from_ref(state)
            .receive(req)
            .await
            .map(ZegoCallback)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Claiming<'a> = Pin<Box<dyn Future<Output = Result<Claim, BoxError>> + Send + 'a>>;

/// A [`NonceStore`] behind a pointer, so that [`ZegoState`] (and so the extractor) names no
/// store type.
trait ClaimNonce: Send + Sync {
    fn claim<'a>(&'a self, key: &'a str, digest: &'a str, ttl_seconds: u64) -> Claiming<'a>;
}

impl<T: NonceStore> ClaimNonce for T {
    fn claim<'a>(&'a self, key: &'a str, digest: &'a str, ttl_seconds: u64) -> Claiming<'a> {
        Box::pin(async move {
            NonceStore::claim(self, key, digest, ttl_seconds)
                .await
                .map_err(|e| Box::new(e) as BoxError)
        })
    }
}

/// Why [`ZegoCallback`] refused a request, and the answer: the error table's status and
/// `{"error":{"code","message","field"}}`.
#[derive(Debug)]
pub struct ZegoRejection {
    error: Error,
    /// What a nonce store failed with: kept for the application's logs, never answered.
    source: Option<BoxError>,
    /// The body was left unread: the connection is closed after the answer.
    unread: bool,
}

impl ZegoRejection {
    /// The error, with its [`code`](Error::code) and [`status`](Error::status).
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The status answered.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn unread(error: Error) -> Self {
        ZegoRejection {
            error,
            source: None,
            unread: true,
        }
    }

    /// A store's error: `storage_failed`, with a message of ours (a store's own can name
    /// hosts and addresses) unless it is the crate's own `storage_failed`.
    fn store_failed(e: BoxError) -> Self {
        match e.downcast::<Error>() {
            Ok(own) if matches!(*own, Error::Storage { .. }) => (*own).into(),
            Ok(own) => Self::storage(own),
            Err(e) => Self::storage(e),
        }
    }

    fn storage(source: BoxError) -> Self {
        ZegoRejection {
            error: Error::Storage {
                reason: "the nonce store failed, so the callback was not handled (ZEGO retries it)"
                    .to_owned(),
            },
            source: Some(source),
            unread: false,
        }
    }
}

impl From<Error> for ZegoRejection {
    fn from(error: Error) -> Self {
        ZegoRejection {
            error,
            source: None,
            unread: false,
        }
    }
}

impl fmt::Display for ZegoRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

/// Its `source` is what a nonce store failed with, for the application's logs.
impl std::error::Error for ZegoRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl IntoResponse for ZegoRejection {
    fn into_response(self) -> Response {
        let Ok(json) = serde_json::to_vec(&crate::error::ErrorBody::new(&self.error)) else {
            return self.status().into_response();
        };
        let mut response = (self.status(), json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if self.unread {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// How much of an oversized body is read (and dropped) before the 413, so that a sender
/// still writing can finish its request and read the answer (closed under it, its writes
/// fail, and many clients report that instead of the 413); past this the connection is
/// closed instead, so a sender cannot make the server read without end. The Worker reads as
/// far.
const DRAIN_BYTES: usize = 256 * 1024;

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The Content-Type, `None` when absent (the core then sniffs).
fn content_type(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    match headers.get(header::CONTENT_TYPE) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(Some)
            .map_err(|_| Error::UnsupportedContentType {
                content_type: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            }),
    }
}

/// Reads the body, refusing it once it passes `limit` bytes (a chunked body declares no
/// length).
async fn read_body(mut body: Body, limit: usize) -> Result<Vec<u8>, ZegoRejection> {
    let mut bytes = Vec::new();
    while let Some(data) = next_data(&mut body).await {
        let data = data?;
        let size = bytes.len().saturating_add(data.len());
        if size > limit {
            let (size, ended) = drain(body, size).await;
            let error = Error::BodyTooLarge { size, limit };
            return Err(if ended {
                error.into()
            } else {
                ZegoRejection::unread(error)
            });
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes)
}

/// The body's next bytes (empty for a frame of trailers); `None` at its end.
async fn next_data(body: &mut Body) -> Option<Result<Bytes, Error>> {
    let frame = poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await?;
    Some(match frame {
        Ok(frame) => Ok(frame.into_data().unwrap_or_default()),
        Err(_) => Err(Error::malformed("the body could not be read to its end")),
    })
}

/// Reads on, dropping what comes, to [`DRAIN_BYTES`] in all; the size seen, and whether the
/// body ended.
async fn drain(mut body: Body, mut seen: usize) -> (usize, bool) {
    while seen <= DRAIN_BYTES {
        match next_data(&mut body).await {
            Some(Ok(data)) => seen = seen.saturating_add(data.len()),
            Some(Err(_)) => return (seen, false),
            None => return (seen, true),
        }
    }
    (seen, body.is_end_stream())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
