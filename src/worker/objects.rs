//! What the Durable Objects share: their SQLite storage with errors mapped to
//! [`Error::Storage`], the internal calls between the Worker and the objects, and the clock.

use ::worker::{
    Date, Headers, Method, ObjectNamespace, Request, RequestInit, Response, SqlStorageValue, State,
    Url,
};
use std::cell::Cell;

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::http::{self, Extra};
use crate::Error;

/// The time, Unix milliseconds.
pub fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// An integer for a SQL binding (every one here is far below 2^53: times, counters).
pub fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn storage(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage {
        reason: format!("{what}: {e}"),
    }
}

/// An object's SQLite storage. Every call is synchronous: a read and the write that follows
/// it, with no `await` between them, cannot be interleaved with another request.
pub struct Sql {
    sql: ::worker::SqlStorage,
}

impl Sql {
    /// The storage of `state`'s object, its tables created on the instance's first use
    /// (`ready` remembers that).
    pub fn open(state: &State, ready: &Cell<bool>, schema: &[&str]) -> Result<Sql, Error> {
        let sql = Sql {
            sql: state.storage().sql(),
        };
        if !ready.get() {
            sql.schema(schema)?;
            ready.set(true);
        }
        Ok(sql)
    }

    /// Creates the tables and indexes if they do not exist.
    pub fn schema(&self, statements: &[&str]) -> Result<(), Error> {
        for statement in statements {
            self.exec(statement, Vec::new())?;
        }
        Ok(())
    }

    /// Runs a statement.
    pub fn exec(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<(), Error> {
        self.sql
            .exec(query, bindings)
            .map(drop)
            .map_err(|e| storage("SQL failed", e))
    }

    /// Runs a query and reads its rows, each a list of column values in the query's order
    /// (read without a deserializer per row type: smaller code).
    pub fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Row>, Error> {
        let cursor = self
            .sql
            .exec(query, bindings)
            .map_err(|e| storage("SQL failed", e))?;
        cursor
            .raw()
            .map(|row| {
                row.map(|values| Row { values })
                    .map_err(|e| storage("SQL failed", e))
            })
            .collect()
    }
}

/// One row of a query, its columns by position.
pub struct Row {
    values: Vec<SqlStorageValue>,
}

impl Row {
    fn column(&self, i: usize) -> Result<&SqlStorageValue, Error> {
        self.values
            .get(i)
            .ok_or_else(|| storage("SQL failed", format!("no column {i}")))
    }

    /// A TEXT column.
    pub fn text(&self, i: usize) -> Result<String, Error> {
        match self.column(i)? {
            SqlStorageValue::String(s) => Ok(s.clone()),
            other => Err(storage(
                "SQL failed",
                format!("column {i} is {other:?}, not text"),
            )),
        }
    }

    /// An INTEGER column (never negative here); `None` for NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<u64>, Error> {
        match self.column(i)? {
            SqlStorageValue::Null => Ok(None),
            SqlStorageValue::Integer(n) => Ok(Some(u64::try_from(*n).unwrap_or(0))),
            // Whole numbers below 2^53 only: times and counters.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            SqlStorageValue::Float(f) if f.fract() == 0.0 && *f >= 0.0 => Ok(Some(*f as u64)),
            other => Err(storage(
                "SQL failed",
                format!("column {i} is {other:?}, not an integer"),
            )),
        }
    }

    /// An INTEGER column that is never NULL.
    pub fn int(&self, i: usize) -> Result<u64, Error> {
        self.opt_int(i)?
            .ok_or_else(|| storage("SQL failed", format!("column {i} is NULL")))
    }
}

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
pub fn url(path: &str, params: &[(&str, &str)]) -> Result<Url, Error> {
    Url::parse_with_params(&format!("https://object{path}"), params)
        .map_err(|e| storage("could not build an internal URL", e))
}

/// A request to an object.
pub fn request(
    url: &Url,
    method: Method,
    body: Option<JsValue>,
    headers: Headers,
) -> Result<Request, Error> {
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(body));
    }
    Request::new_with_init(url.as_str(), &init).map_err(|e| storage("could not build a request", e))
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
