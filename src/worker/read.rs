//! `GET /streams` and `GET /mixes`: one page of the live list, one KV `list()` call each
//! (records whose metadata did not fit are read from their values).

use ::worker::{Env, Request};
use serde::Serialize;

use super::config;
use super::http::bearer_matches;
use super::store::{Store, MAX_LIST_LIMIT};
use crate::live::{self, LiveMix, LiveStream, MixRecord, StreamRecord};
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
    /// `room_id`: only this room's streams.
    pub room_id: Option<String>,
    /// `cursor`: the page after the one that returned it.
    pub cursor: Option<String>,
    /// `limit`: keys per page, 1 to 1000.
    pub limit: u64,
}

impl Query {
    /// Reads `room_id`, `cursor` and `limit` (an empty value counts as absent).
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Query, Error> {
        let mut query = Query {
            limit: MAX_LIST_LIMIT,
            ..Query::default()
        };
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            match name {
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

/// Refuses a read without the bearer token, when one is configured.
pub fn authorize(req: &Request, env: &Env) -> Result<(), Error> {
    let Some(token) = config::read_token(env)? else {
        return Ok(());
    };
    let header = req.headers().get("authorization").ok().flatten();
    if bearer_matches(header.as_deref(), &token) {
        Ok(())
    } else {
        Err(Error::Unauthorized)
    }
}

/// A page of a listing: `{"streams":[..],"cursor":..}` or `{"mixes":[..],"cursor":..}`;
/// `cursor` is `null` on the last page.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Page {
    /// Live streams.
    Streams {
        /// The live streams among this page's keys.
        streams: Vec<LiveStream>,
        /// The cursor of the next page.
        cursor: Option<String>,
    },
    /// Running mix tasks.
    Mixes {
        /// The running mixes among this page's keys.
        mixes: Vec<LiveMix>,
        /// The cursor of the next page.
        cursor: Option<String>,
    },
}

/// One page of a listing, as the JSON body to answer.
pub async fn list(req: &Request, env: &Env, listing: Listing) -> Result<Page, Error> {
    authorize(req, env)?;
    let url = req
        .url()
        .map_err(|e| Error::malformed(format!("the URL could not be read: {e}")))?;
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let query = Query::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let store = Store::open(env)?;
    let body = match listing {
        Listing::Streams => {
            let prefix = match &query.room_id {
                Some(room_id) => live::stream_room_prefix(room_id)?,
                None => live::STREAM_PREFIX.to_owned(),
            };
            let page = store.list(&prefix, query.cursor, query.limit).await?;
            let records = store.listed_all::<StreamRecord>(&page.keys).await?;
            Page::Streams {
                streams: records.iter().filter_map(|r| r.live().cloned()).collect(),
                cursor: page.cursor,
            }
        }
        Listing::Mixes => {
            let page = store
                .list(live::MIX_PREFIX, query.cursor, query.limit)
                .await?;
            let records = store.listed_all::<MixRecord>(&page.keys).await?;
            Page::Mixes {
                mixes: records.iter().filter_map(|r| r.live().cloned()).collect(),
                cursor: page.cursor,
            }
        }
    };
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_defaults_and_bounds() {
        let q = Query::parse([]).unwrap();
        assert_eq!((q.limit, q.room_id, q.cursor), (1000, None, None));
        let q = Query::parse([
            ("room_id", "r:1"),
            ("limit", "5"),
            ("cursor", "c"),
            ("x", "y"),
        ])
        .unwrap();
        assert_eq!(q.room_id.as_deref(), Some("r:1"));
        assert_eq!((q.limit, q.cursor.as_deref()), (5, Some("c")));
        assert_eq!(Query::parse([("room_id", "")]).unwrap().room_id, None);
        for bad in ["0", "1001", "-1", "ten", "1.5"] {
            let e = Query::parse([("limit", bad)]).unwrap_err();
            assert_eq!((e.status(), e.field()), (400, Some("limit")), "{bad}");
        }
    }
}
