//! The internal calls between the Worker and its Durable Objects (requests by `fetch`, JSON
//! bodies), and the objects' answers: the error table's status for a failure, and a
//! non-2xx answer read back as a storage failure (the Worker answers 503, ZEGO retries).
//! Also the requests the Worker sends out of it (forwarding, checks of ZEGO's server API):
//! built the same way, sent within a time limit ([`fetch_within`]).

use ::worker::{Headers, Method, ObjectNamespace, Request, Response};

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::http::{self, Extra};
use super::sql::storage;
use crate::Error;

/// An object's answer to a request its handler failed: the error with its status.
pub fn finish(handled: Result<Response, Error>) -> ::worker::Result<Response> {
    match handled {
        Ok(res) => Ok(res),
        Err(e) => answer::<()>(Err(e)),
    }
}

/// Answers a subscriber's close (a socket that is gone already makes no difference).
pub fn close_socket(ws: &::worker::WebSocket) {
    let _ = ws.close(Some(1000), Some("closed"));
}

/// An object's answer: the value as JSON, or the error with its status.
pub fn answer<T: Serialize>(result: Result<T, Error>) -> ::worker::Result<Response> {
    match result {
        Ok(value) => http::json(200, &value, Extra::PLAIN),
        Err(e) => http::error(&e, Extra::PLAIN),
    }
}

/// A runtime error inside an object, as a storage failure (the caller answers 503).
pub fn internal(e: ::worker::Error) -> Error {
    storage("the runtime failed", e)
}

/// An object's JSON answer to a request that succeeded.
pub fn respond<T: Serialize>(value: &T) -> Result<Response, Error> {
    answer(Ok(value)).map_err(internal)
}

/// Reads a request's JSON body with serde_json (the same deserializers the rest of the
/// Worker uses, rather than a second set through JS values).
pub async fn json_of<T: DeserializeOwned>(req: &mut Request) -> Result<T, Error> {
    let text = req
        .text()
        .await
        .map_err(|e| Error::malformed(format!("the body could not be read: {e}")))?;
    serde_json::from_str(&text).map_err(|e| Error::malformed(format!("unexpected JSON: {e}")))
}

/// An internal URL for an object, with query parameters.
pub fn url(path: &str, params: &[(&str, &str)]) -> Result<String, Error> {
    Ok(http::with_query(&format!("https://object{path}"), params))
}

/// A request, to an object or out of the Worker. Built on the runtime's own `RequestInit`:
/// worker's carries Cloudflare's `cf` options, whose conversion is 11 KB of wasm that no
/// request here uses.
pub fn request(
    url: &str,
    method: Method,
    body: Option<JsValue>,
    headers: Headers,
) -> Result<Request, Error> {
    let init = ::worker::web_sys::RequestInit::new();
    init.set_method(method.as_ref());
    init.set_headers(headers.as_ref());
    if let Some(body) = &body {
        init.set_body(body);
    }
    ::worker::web_sys::Request::new_with_str_and_init(url, &init)
        .map(Request::from)
        .map_err(|e| {
            let why = e.as_string().unwrap_or_else(|| "invalid URL".to_owned());
            storage("could not build a request", why)
        })
}

/// Sends `req` out of the Worker and waits at most `timeout_ms` for its answer's headers
/// (the request is aborted then). `Err`: why there is no answer.
pub async fn fetch_within(req: Request, timeout_ms: u64) -> Result<Response, String> {
    use ::worker::{AbortController, Delay, Fetch};
    use futures_util::future::{select, Either};

    let controller = AbortController::default();
    let signal = controller.signal();
    let timeout = Delay::from(std::time::Duration::from_millis(timeout_ms));
    super::costs::count(|c| c.fetches += 1);
    let fetch = Fetch::Request(req);
    let sent = Box::pin(fetch.send_with_signal(&signal));
    // Bound before it is returned: `sent` borrows `fetch` and `signal` until then.
    let answer = match select(sent, timeout).await {
        Either::Left((Ok(res), _)) => Ok(res),
        Either::Left((Err(e), _)) => Err(format!("the request failed: {e}")),
        Either::Right(((), _)) => {
            controller.abort();
            Err(format!("no answer within {timeout_ms} ms"))
        }
    };
    answer
}

/// Sends `req` to the object named `name` in `namespace` and returns its answer as it is.
pub async fn send(
    namespace: &ObjectNamespace,
    name: &str,
    req: Request,
) -> Result<Response, Error> {
    let stub = namespace
        .id_from_name(name)
        .and_then(|id| id.get_stub())
        .map_err(|e| storage(&format!("no object `{name}`"), e))?;
    stub.fetch_with_request(req)
        .await
        .map_err(|e| storage(&format!("the object `{name}` failed"), e))
}

/// Sends `req` to an object and reads its JSON answer; an error answer is a storage failure
/// (the Worker answers 503 and ZEGO retries).
pub async fn call<T: DeserializeOwned>(
    namespace: &ObjectNamespace,
    name: &str,
    req: Request,
) -> Result<T, Error> {
    let mut res = send(namespace, name, req).await?;
    let status = res.status_code();
    let text = res
        .text()
        .await
        .map_err(|e| storage(&format!("could not read the answer of `{name}`"), e))?;
    if !(200..300).contains(&status) {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.pointer("/error/message")?.as_str().map(str::to_owned))
            .unwrap_or(text);
        return Err(storage(
            &format!("the object `{name}` answered {status}"),
            message,
        ));
    }
    serde_json::from_str(&text)
        .map_err(|e| storage(&format!("the answer of `{name}` is not as expected"), e))
}

/// A JSON body and its headers, for [`request`].
pub fn json_body<T: Serialize>(value: &T) -> Result<(JsValue, Headers), Error> {
    let text = serde_json::to_string(value).map_err(|e| storage("could not serialize", e))?;
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(|e| storage("could not set a header", e))?;
    Ok((JsValue::from_str(&text), headers))
}
