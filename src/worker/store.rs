//! The live list in Workers KV, as readers list it: records put by the `Room` objects'
//! outbox under the keys [`super::scope::kv_key`] names, and listed with their metadata.
//! Every KV failure becomes [`Error::Storage`].

use ::worker::kv::{Key, KvError, KvStore};
use ::worker::Env;
use futures_util::future::try_join_all;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

use super::config::KV_BINDING;
use super::layout::{self, Listed};
use crate::live::Stored;
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

    /// Puts a listed record under its KV key: its record as the value, and as the metadata
    /// too, so that a list needs no reads; `expiration` (Unix seconds) for a tombstone.
    pub async fn put(
        &self,
        key: &str,
        stored: &Stored,
        expiration: Option<u64>,
    ) -> Result<(), Error> {
        let value = match stored {
            Stored::Stream(r) => serde_json::to_value(r),
            Stored::Mix(r) => serde_json::to_value(r),
            Stored::Session(r) => serde_json::to_value(r),
        }
        .map_err(|e| Error::Storage {
            reason: format!("could not serialize the record for `{key}`: {e}"),
        })?;
        let mut put = self
            .kv
            .put(key, value.to_string())
            .map_err(|e| storage("could not write", key, e))?
            .metadata(layout::metadata(&value)?)
            .map_err(|e| storage("could not write", key, e))?;
        if let Some(at) = expiration {
            put = put.expiration(at);
        }
        put.execute()
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

    /// The records of a page's keys with their keys, in order (values read concurrently
    /// where needed).
    pub async fn listed_all<R: DeserializeOwned>(
        &self,
        keys: &[Key],
    ) -> Result<Vec<(String, R)>, Error> {
        let records = try_join_all(keys.iter().map(|key| self.listed::<R>(key))).await?;
        Ok(keys
            .iter()
            .zip(records)
            .filter_map(|(key, record)| Some((key.name.clone(), record?)))
            .collect())
    }
}
