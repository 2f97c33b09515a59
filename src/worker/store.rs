//! The live list in Workers KV: get, put and list records under the keys `crate::live`
//! names. Every KV failure becomes [`Error::Storage`] (503), so ZEGO retries.

use ::worker::kv::{Key, KvError, KvStore};
use ::worker::Env;
use futures_util::future::try_join_all;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use super::config::KV_BINDING;
use super::layout::{self, Listed};
use crate::live::{
    KeyWrite, MixRecord, SessionRecord, Stored, StreamRecord, MIX_PREFIX, SESSION_PREFIX,
    STREAM_PREFIX,
};
use crate::Error;

/// The most keys one `list()` call returns.
pub const MAX_LIST_LIMIT: u64 = 1000;

/// The KV namespace holding the live list.
pub struct Store {
    kv: KvStore,
}

/// One page of a `list()`: its keys (metadata included) and the cursor of the next page.
pub struct Page {
    /// The keys, in key order.
    pub keys: Vec<Key>,
    /// `None` once the listing is complete.
    pub cursor: Option<String>,
}

fn storage(action: &str, key: &str, e: KvError) -> Error {
    let detail = match e {
        KvError::JavaScript(value) => js_message(&value),
        other => other.to_string(),
    };
    Error::Storage {
        reason: format!("{action} `{key}`: {detail}"),
    }
}

fn js_message(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

impl Store {
    /// The namespace bound as `LIVE_LIST`.
    pub fn open(env: &Env) -> Result<Store, Error> {
        env.kv(KV_BINDING)
            .map(|kv| Store { kv })
            .map_err(|e| Error::Storage {
                reason: format!("the KV namespace binding `{KV_BINDING}` is not available: {e}"),
            })
    }

    /// The text stored under `key`.
    pub async fn get_text(&self, key: &str) -> Result<Option<String>, Error> {
        self.kv
            .get(key)
            .text()
            .await
            .map_err(|e| storage("could not read", key, e))
    }

    /// The record stored under `key`.
    pub async fn get<R: DeserializeOwned>(&self, key: &str) -> Result<Option<R>, Error> {
        match self.get_text(key).await? {
            Some(text) => layout::read_value(key, &text).map(Some),
            None => Ok(None),
        }
    }

    /// The record stored under one of the live list's keys, read as the kind its prefix
    /// names (the value holds the record itself, so that its metadata can be the record too).
    pub async fn get_stored(&self, key: &str) -> Result<Option<Stored>, Error> {
        Ok(if key.starts_with(STREAM_PREFIX) {
            self.get::<StreamRecord>(key).await?.map(Stored::Stream)
        } else if key.starts_with(SESSION_PREFIX) {
            self.get::<SessionRecord>(key).await?.map(Stored::Session)
        } else if key.starts_with(MIX_PREFIX) {
            self.get::<MixRecord>(key).await?.map(Stored::Mix)
        } else {
            None
        })
    }

    /// Carries out a [`KeyWrite`]: puts the record, with its TTL when it is a tombstone.
    /// Streams and mixes also carry the record as metadata, so a list needs no reads.
    pub async fn put(&self, write: &KeyWrite) -> Result<(), Error> {
        match &write.record {
            Stored::Stream(r) => {
                self.put_record(&write.key, r, true, write.ttl_seconds)
                    .await
            }
            Stored::Session(r) => {
                self.put_record(&write.key, r, false, write.ttl_seconds)
                    .await
            }
            Stored::Mix(r) => {
                self.put_record(&write.key, r, true, write.ttl_seconds)
                    .await
            }
        }
    }

    async fn put_record<R: Serialize>(
        &self,
        key: &str,
        record: &R,
        listed: bool,
        ttl_seconds: Option<u64>,
    ) -> Result<(), Error> {
        let value = serde_json::to_string(record).map_err(|e| Error::Storage {
            reason: format!("could not serialize the record for `{key}`: {e}"),
        })?;
        let mut put = self
            .kv
            .put(key, value)
            .map_err(|e| storage("could not write", key, e))?;
        if listed {
            put = put
                .metadata(layout::metadata(record)?)
                .map_err(|e| storage("could not write", key, e))?;
        }
        if let Some(ttl) = ttl_seconds {
            put = put.expiration_ttl(ttl);
        }
        put.execute()
            .await
            .map_err(|e| storage("could not write", key, e))
    }

    /// Puts a text that expires after `ttl_seconds`.
    pub async fn put_expiring(&self, key: &str, text: &str, ttl_seconds: u64) -> Result<(), Error> {
        self.kv
            .put(key, text)
            .map_err(|e| storage("could not write", key, e))?
            .expiration_ttl(ttl_seconds)
            .execute()
            .await
            .map_err(|e| storage("could not write", key, e))
    }

    /// One page of the keys under `prefix`, with their metadata.
    pub async fn list(
        &self,
        prefix: &str,
        cursor: Option<String>,
        limit: u64,
    ) -> Result<Page, Error> {
        let mut list = self.kv.list().prefix(prefix.to_owned()).limit(limit);
        if let Some(cursor) = cursor {
            list = list.cursor(cursor);
        }
        let page = list
            .execute()
            .await
            .map_err(|e| storage("could not list", prefix, e))?;
        if page.list_complete {
            return Ok(Page {
                keys: page.keys,
                cursor: None,
            });
        }
        match page.cursor.filter(|c| !c.is_empty()) {
            Some(cursor) => Ok(Page {
                keys: page.keys,
                cursor: Some(cursor),
            }),
            None => Err(Error::Storage {
                reason: format!("listing `{prefix}` is incomplete but came without a cursor"),
            }),
        }
    }

    /// The record of a listed key: from its metadata, or from its value when it did not fit.
    /// `None` when the value is gone (it expired since the list).
    pub async fn listed<R: DeserializeOwned>(&self, key: &Key) -> Result<Option<R>, Error> {
        match layout::read_metadata(key.metadata.as_ref()) {
            Listed::Record(record) => Ok(Some(record)),
            Listed::InValue => self.get(&key.name).await,
        }
    }

    /// The records of a page's keys, in order (values read concurrently where needed).
    pub async fn listed_all<R: DeserializeOwned>(&self, keys: &[Key]) -> Result<Vec<R>, Error> {
        let records = try_join_all(keys.iter().map(|key| self.listed::<R>(key))).await?;
        Ok(records.into_iter().flatten().collect())
    }
}
