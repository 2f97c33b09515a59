//! The read routes. `GET /streams` and `GET /mixes` list KV (eventually consistent): one
//! `list()` call per page (records whose metadata did not fit are read from their values).
//! `GET /rooms/<room_id>/streams` asks the room's object (consistent). `GET /subscribe` and
//! `GET /rooms/<room_id>/subscribe` hand a WebSocket to the app's hub shards (gathered) or the
//! room's object.
//!
//! Every read needs `READ_TOKEN` (as a bearer token, or `?token=` where a browser cannot
//! set a header) unless `PUBLIC_READS=true`.

use ::worker::{Env, Method, Request, Response};
use serde::Serialize;

use super::calls;
use super::config::{self, ReadAccess, Settings, ROOMS_BINDING};
use super::http::{bearer_matches, token_matches};
use super::kv::{self, Store, MAX_LIST_LIMIT};
use super::names::{canonical_app, object_name, Identity};
use crate::live::{LiveMix, LiveStream, MixRecord, Scope, StreamRecord};
use crate::Error;

/// What a read route lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Live streams.
    Streams,
    /// Running mix tasks.
    Mixes,
}

/// The query of a list request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// `appid`: only this app's records.
    pub appid: Option<String>,
    /// `room_id`: only this room's streams.
    pub room_id: Option<String>,
    /// `cursor`: the page after the one that returned it.
    pub cursor: Option<String>,
    /// `limit`: keys per page, 1 to 1000.
    pub limit: u64,
}

impl Query {
    /// Reads `appid`, `room_id`, `cursor` and `limit`. An empty `appid` is an error, never
    /// "every app"; an empty `room_id` is kept (it names the empty room on the room routes,
    /// and is an error as a list's filter); an empty `cursor` or `limit` counts as absent.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Query, Error> {
        let mut query = Query {
            limit: MAX_LIST_LIMIT,
            ..Query::default()
        };
        for (name, value) in pairs {
            if value.is_empty() {
                match name {
                    "appid" => return Err(empty_filter("appid")),
                    "room_id" => query.room_id = Some(String::new()),
                    _ => {}
                }
                continue;
            }
            match name {
                "appid" => query.appid = Some(canonical_app(value)?),
                "room_id" => query.room_id = Some(value.to_owned()),
                "cursor" => query.cursor = Some(value.to_owned()),
                "limit" => {
                    query.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIST_LIMIT).contains(n))
                        .ok_or_else(|| {
                            Error::invalid(
                                "limit",
                                format!("expected a whole number from 1 to {MAX_LIST_LIMIT}"),
                            )
                        })?;
                }
                _ => {}
            }
        }
        Ok(query)
    }
}

fn empty_filter(name: &str) -> Error {
    Error::invalid(name, "empty: name one, or leave the parameter out")
}

/// Refuses a read without the token, unless reads are public.
pub fn authorize(req: &Request, env: &Env) -> Result<(), Error> {
    let token = match config::read_access(env)? {
        ReadAccess::Public => return Ok(()),
        ReadAccess::Closed => return Err(Error::Unauthorized),
        ReadAccess::Token(token) => token,
    };
    let header = req.headers().get("authorization").ok().flatten();
    let pairs = super::http::query(req);
    let query = super::http::param(&pairs, "token");
    if bearer_matches(header.as_deref(), &token)
        || query.is_some_and(|given| token_matches(given, &token))
    {
        Ok(())
    } else {
        Err(Error::Unauthorized)
    }
}

/// The app a read names (`?appid=`), else the only one configured; `None` when neither.
fn app_or_default(named: Option<String>, env: &Env) -> Result<Option<String>, Error> {
    if named.is_some() {
        return Ok(named);
    }
    Ok(Settings::read(env)?
        .secrets
        .default_app()
        .map(str::to_owned))
}

/// Like [`app_or_default`], but an app is needed.
fn required_app(named: Option<String>, env: &Env) -> Result<String, Error> {
    app_or_default(named, env)?.ok_or_else(|| {
        Error::invalid(
            "appid",
            "name the app with ?appid= (the Worker has several, or accepts any)",
        )
    })
}

fn query_of(req: &Request) -> Result<Query, Error> {
    let pairs = super::http::query(req);
    Query::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// A listed item with the app it belongs to.
#[derive(Debug, Serialize)]
pub struct Item<T> {
    /// The app.
    pub appid: String,
    /// The record.
    #[serde(flatten)]
    pub item: T,
}

/// A page of a listing: `{"streams":[..],"cursor":..}` or `{"mixes":[..],"cursor":..}`;
/// `cursor` is `null` on the last page.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Page {
    /// Live streams.
    Streams {
        /// The live streams among this page's keys.
        streams: Vec<Item<LiveStream>>,
        /// The cursor of the next page.
        cursor: Option<String>,
    },
    /// Running mix tasks.
    Mixes {
        /// The running mixes among this page's keys.
        mixes: Vec<Item<LiveMix>>,
        /// The cursor of the next page.
        cursor: Option<String>,
    },
}

fn items<R, T: Clone>(records: Vec<(String, R)>, live: impl Fn(&R) -> Option<&T>) -> Vec<Item<T>> {
    records
        .iter()
        .filter_map(|(key, record)| {
            Some(Item {
                appid: kv::app_of_kv_key(key)?.to_owned(),
                item: live(record)?.clone(),
            })
        })
        .collect()
}

/// One page of a listing, as the JSON body to answer.
pub async fn list(req: &Request, env: &Env, listing: Listing) -> Result<Page, Error> {
    authorize(req, env)?;
    let query = query_of(req)?;
    let store = Store::open(env)?;
    let body = match listing {
        Listing::Streams => {
            if query.room_id.as_deref() == Some("") {
                return Err(empty_filter("room_id"));
            }
            let app = match &query.room_id {
                Some(_) => Some(required_app(query.appid, env)?),
                None => query.appid,
            };
            let prefix = kv::kv_stream_prefix(app.as_deref(), query.room_id.as_deref())?;
            let page = store.list(&prefix, query.cursor, query.limit).await?;
            let records = store.listed_all::<StreamRecord>(&page.keys).await?;
            Page::Streams {
                streams: items(records, StreamRecord::live),
                cursor: page.cursor,
            }
        }
        Listing::Mixes => {
            let prefix = kv::kv_mix_prefix(query.appid.as_deref());
            let page = store.list(&prefix, query.cursor, query.limit).await?;
            let records = store.listed_all::<MixRecord>(&page.keys).await?;
            Page::Mixes {
                mixes: items(records, MixRecord::live),
                cursor: page.cursor,
            }
        }
    };
    Ok(body)
}

/// The room a room route names: in its path (`/rooms/<room_id>/...`, percent-decoded), or as
/// `?room_id=` (`/rooms/streams?room_id=...`), which reaches every room id, `.`, `..` and
/// the empty id included, that a path cannot carry.
pub fn room_of(path: Option<&str>, query: &Query) -> Result<String, Error> {
    match (path, query.room_id.as_deref()) {
        (Some(path), None) => Ok(path.to_owned()),
        (Some(path), Some(named)) if path == named => Ok(path.to_owned()),
        (Some(_), Some(_)) => Err(Error::invalid(
            "room_id",
            "the path and ?room_id= name different rooms",
        )),
        (None, Some(named)) => Ok(named.to_owned()),
        (None, None) => Err(Error::missing("room_id")),
    }
}

/// `GET /rooms/<room_id>/streams`: the room's live streams, from its object.
pub async fn room_streams(
    req: &Request,
    env: &Env,
    room: Option<&str>,
) -> Result<serde_json::Value, Error> {
    authorize(req, env)?;
    let query = query_of(req)?;
    let scope = Scope::Room(room_of(room, &query)?);
    let app = required_app(query.appid, env)?;
    let url = calls::url("/streams", &Identity::of(&app, &scope).params())?;
    let internal = calls::request(&url, Method::Get, None, ::worker::Headers::new())?;
    let rooms = config::namespace(env, ROOMS_BINDING)?;
    calls::call(&rooms, &object_name(&app, &scope), internal).await
}

/// What a WebSocket subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// The whole app: `GET /subscribe`.
    App,
    /// One room: `GET /rooms/<room_id>/subscribe` (`Some`), `GET /rooms/subscribe?room_id=`.
    Room(Option<String>),
}

/// `GET /subscribe`, `GET /rooms/<room_id>/subscribe`: the WebSocket of the app's hub or of
/// the room's object.
pub async fn subscribe(req: &Request, env: &Env, feed: &Feed) -> Result<Response, Error> {
    authorize(req, env)?;
    let upgrade = req.headers().get("upgrade").ok().flatten();
    if !upgrade.is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        return Err(Error::UpgradeRequired);
    }
    let query = query_of(req)?;
    let app = required_app(query.appid.clone(), env)?;
    let room = match feed {
        Feed::Room(room) => room_of(room.as_deref(), &query)?,
        Feed::App => return super::gather::subscribe(env, &app).await,
    };
    let scope = Scope::Room(room);
    let url = calls::url("/subscribe", &Identity::of(&app, &scope).params())?;
    let internal = calls::request(&url, Method::Get, None, req.headers().clone())?;
    calls::send(
        &config::namespace(env, ROOMS_BINDING)?,
        &object_name(&app, &scope),
        internal,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_defaults_and_bounds() {
        let q = Query::parse([]).unwrap();
        assert_eq!((q.limit, q.room_id, q.cursor), (1000, None, None));
        let q = Query::parse([
            ("appid", "007"),
            ("room_id", "r:1"),
            ("limit", "5"),
            ("cursor", "c"),
            ("x", "y"),
        ])
        .unwrap();
        assert_eq!(q.room_id.as_deref(), Some("r:1"));
        assert_eq!(q.appid.as_deref(), Some("7"));
        assert_eq!((q.limit, q.cursor.as_deref()), (5, Some("c")));
        assert_eq!(
            Query::parse([("cursor", ""), ("limit", "")]).unwrap().limit,
            1000
        );
        assert_eq!(
            Query::parse([("room_id", "")]).unwrap().room_id.as_deref(),
            Some("")
        );
        for (name, value) in [("appid", ""), ("appid", "1:room:a"), ("appid", "1.0")] {
            let e = Query::parse([(name, value)]).unwrap_err();
            assert_eq!((e.status(), e.field()), (400, Some(name)), "{name}={value}");
        }
    }

    #[test]
    fn a_room_is_named_by_its_path_or_by_room_id() {
        let none = Query::parse([]).unwrap();
        let dots = Query::parse([("room_id", "..")]).unwrap();
        let empty = Query::parse([("room_id", "")]).unwrap();
        assert_eq!(room_of(None, &empty).unwrap(), "");
        assert_eq!(room_of(Some("a"), &none).unwrap(), "a");
        assert_eq!(room_of(None, &dots).unwrap(), "..");
        assert_eq!(room_of(Some(".."), &dots).unwrap(), "..");
        assert_eq!(
            room_of(Some("a"), &dots).unwrap_err().field(),
            Some("room_id")
        );
        let e = room_of(None, &none).unwrap_err();
        assert_eq!((e.code(), e.field()), ("missing_field", Some("room_id")));
        for bad in ["0", "1001", "-1", "ten", "1.5"] {
            let e = Query::parse([("limit", bad)]).unwrap_err();
            assert_eq!((e.status(), e.field()), (400, Some("limit")), "{bad}");
        }
    }
}
