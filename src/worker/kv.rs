//! The live list in Workers KV, as readers list it: where each record sits (the app after the
//! key's prefix), what a key's metadata holds, and the store itself. Records are put there by
//! the `Room` objects' outbox, never read back by them. Every KV failure is
//! [`Error::Storage`].
//!
//! A stream is listed under `s:<appid>:<room_id>:<stream_id>`, a mix task under
//! `m:<appid>:<task_id>` ([`kv_key`]). A key's value is its record's JSON
//! ([`live::StreamRecord`], [`live::MixRecord`]); its metadata is the same JSON when that fits
//! in [`MAX_METADATA_BYTES`], so a list is one `list()` call per 1,000 keys; otherwise it is a
//! marker, `{"state":"live","in_value":true}`, and the reader gets the value instead.

use ::worker::kv::{Key, KvError, KvStore};
use ::worker::Env;
use futures_util::future::try_join_all;
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};

use super::config;
use crate::live::{self, Stored, MAX_KEY_BYTES, MIX_PREFIX, STREAM_PREFIX};
use crate::Error;

/// The largest metadata Workers KV stores with a key, in bytes of JSON.
pub const MAX_METADATA_BYTES: usize = 1024;

/// The shortest `expirationTtl` Workers KV accepts, in seconds.
pub const MIN_TTL_SECONDS: u64 = crate::replay::MIN_CLAIM_SECONDS;

/// The metadata to store with `record`: the record itself, or a marker when it is too big.
pub fn metadata<R: Serialize>(record: &R) -> Result<Value, Error> {
    let value = serde_json::to_value(record).map_err(|e| Error::Storage {
        reason: format!("could not serialize a record: {e}"),
    })?;
    if value.to_string().len() <= MAX_METADATA_BYTES {
        return Ok(value);
    }
    let state = value.get("state").cloned().unwrap_or(Value::Null);
    Ok(json!({ "state": state, "in_value": true }))
}

/// What a key's metadata says about its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed<R> {
    /// The whole record.
    Record(R),
    /// The record did not fit (or the metadata is not a record): get the value.
    InValue,
}

/// A record KV lists, read back from its JSON with the crate's reader (serde's derived
/// deserializers for the records are most of their code in the bundle).
pub trait ListedRecord: Sized {
    /// Reads the record from the JSON its `Serialize` writes.
    fn read(text: &str) -> Result<Self, String>;
}

impl ListedRecord for live::StreamRecord {
    fn read(text: &str) -> Result<Self, String> {
        live::StreamRecord::from_json(text)
    }
}

impl ListedRecord for live::MixRecord {
    fn read(text: &str) -> Result<Self, String> {
        live::MixRecord::from_json(text)
    }
}

/// Reads a key's metadata as written by [`metadata`].
pub fn read_metadata<R: ListedRecord>(metadata: Option<&Value>) -> Listed<R> {
    match metadata {
        Some(m) if m.get("in_value") != Some(&Value::Bool(true)) => {
            R::read(&m.to_string()).map_or(Listed::InValue, Listed::Record)
        }
        _ => Listed::InValue,
    }
}

/// Parses a stored value as a record; a value that is not one is a storage fault.
pub fn read_value<R: ListedRecord>(key: &str, text: &str) -> Result<R, Error> {
    R::read(text).map_err(|e| Error::Storage {
        reason: format!("the value stored under `{key}` is not a valid record: {e}"),
    })
}

/// The KV key of a live-list key in `app`: the app goes right after the prefix.
pub fn kv_key(app: &str, key: &str) -> Result<String, Error> {
    let (prefix, rest) = key.split_at(key.find(':').map_or(0, |i| i + 1));
    let kv = format!("{prefix}{app}:{rest}");
    if kv.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(
            "room_id",
            format!(
                "the storage key would be {} bytes; the limit is {MAX_KEY_BYTES}",
                kv.len()
            ),
        ));
    }
    Ok(kv)
}

/// The KV prefix of an app's streams (of one room, when given) or of every app's.
pub fn kv_stream_prefix(app: Option<&str>, room: Option<&str>) -> Result<String, Error> {
    Ok(match (app, room) {
        (None, _) => STREAM_PREFIX.to_owned(),
        (Some(app), None) => format!("{STREAM_PREFIX}{app}:"),
        (Some(app), Some(room)) => kv_key(app, &live::stream_room_prefix(room)?)?,
    })
}

/// The KV prefix of an app's mix tasks, or of every app's.
pub fn kv_mix_prefix(app: Option<&str>) -> String {
    match app {
        None => MIX_PREFIX.to_owned(),
        Some(app) => format!("{MIX_PREFIX}{app}:"),
    }
}

/// The app of a KV key written by [`kv_key`].
pub fn app_of_kv_key(kv: &str) -> Option<&str> {
    kv.split(':').nth(1)
}

/// A `list()` answer, as read by [`Store::list`].
struct ListAnswer {
    keys: Vec<Key>,
    list_complete: bool,
    cursor: Option<String>,
}

/// The most keys one `list()` call returns.
pub const MAX_LIST_LIMIT: u64 = 1000;

/// The KV namespace holding the live list.
pub struct Store {
    kv: KvStore,
    /// The namespace as the runtime gives it, for `list()` (see [`Store::list`]).
    raw: JsValue,
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
        let kv = env
            .kv(config::KV_BINDING)
            .map_err(|e| config::unavailable(config::KV_BINDING, e))?;
        let raw = js_sys::Reflect::get(env, &JsValue::from_str(config::KV_BINDING))
            .map_err(|e| config::unavailable(config::KV_BINDING, js_message(&e)))?;
        Ok(Store { kv, raw })
    }

    /// The text stored under `key`.
    pub async fn get_text(&self, key: &str) -> Result<Option<String>, Error> {
        super::costs::count(|c| c.kv_reads += 1);
        self.kv
            .get(key)
            .text()
            .await
            .map_err(|e| storage("could not read", key, e))
    }

    /// The record stored under `key`.
    pub async fn get<R: ListedRecord>(&self, key: &str) -> Result<Option<R>, Error> {
        match self.get_text(key).await? {
            Some(text) => read_value(key, &text).map(Some),
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
        // The JSON's bytes (KV stores bytes; a reader gets the same text): `put` with a
        // `String` would take it through a generic serializer.
        let mut put = self
            .kv
            .put_bytes(key, value.to_string().as_bytes())
            .map_err(|e| storage("could not write", key, e))?
            .metadata(metadata(&value)?)
            .map_err(|e| storage("could not write", key, e))?;
        if let Some(at) = expiration {
            put = put.expiration(at);
        }
        super::costs::count(|c| c.kv_writes += 1);
        put.execute()
            .await
            .map_err(|e| storage("could not write", key, e))
    }

    /// One page of the keys under `prefix`, with their metadata. The page is read from the
    /// runtime's answer directly (a key's metadata through `JSON.stringify`): worker's `list()`
    /// reads it with a second set of deserializers, which the Worker's bundle is smaller
    /// without.
    pub async fn list(
        &self,
        prefix: &str,
        cursor: Option<String>,
        limit: u64,
    ) -> Result<Page, Error> {
        use js_sys::{Array, Function, Object, Reflect, JSON};
        super::costs::count(|c| c.kv_lists += 1);
        let failed = |e: JsValue| Error::Storage {
            reason: format!("could not list `{prefix}`: {}", js_message(&e)),
        };
        let get = |target: &JsValue, name: &str| Reflect::get(target, &JsValue::from_str(name));
        let options = Object::new();
        Reflect::set(&options, &"prefix".into(), &prefix.into()).map_err(failed)?;
        Reflect::set(&options, &"limit".into(), &(limit as f64).into()).map_err(failed)?;
        if let Some(cursor) = &cursor {
            Reflect::set(&options, &"cursor".into(), &cursor.into()).map_err(failed)?;
        }
        let list: Function = get(&self.raw, "list").map_err(failed)?.unchecked_into();
        let promise = list.call1(&self.raw, &options).map_err(failed)?;
        let answer = ::worker::wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise))
            .await
            .map_err(failed)?;
        let mut keys = Vec::new();
        for key in Array::from(&get(&answer, "keys").map_err(failed)?).iter() {
            let name = get(&key, "name").map_err(failed)?.as_string();
            let Some(name) = name else {
                return Err(failed(JsValue::from_str("a key without a name")));
            };
            let metadata = get(&key, "metadata").map_err(failed)?;
            let metadata = if metadata.is_undefined() || metadata.is_null() {
                None
            } else {
                let text = JSON::stringify(&metadata).map_err(failed)?;
                serde_json::from_str(&String::from(text)).ok()
            };
            let expiration = get(&key, "expiration").map_err(failed)?.as_f64();
            keys.push(Key {
                name,
                expiration: expiration.map(|e| e as u64),
                metadata,
            });
        }
        let page = ListAnswer {
            keys,
            list_complete: get(&answer, "list_complete").map_err(failed)?.is_truthy(),
            cursor: get(&answer, "cursor").map_err(failed)?.as_string(),
        };
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
    pub async fn listed<R: ListedRecord>(&self, key: &Key) -> Result<Option<R>, Error> {
        match read_metadata(key.metadata.as_ref()) {
            Listed::Record(record) => Ok(Some(record)),
            Listed::InValue => self.get(&key.name).await,
        }
    }

    /// The records of a page's keys with their keys, in order (values read concurrently
    /// where needed).
    pub async fn listed_all<R: ListedRecord>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::Id64;
    use crate::live;
    use crate::live::{StreamEventKind, StreamRecord, Version};

    fn closed() -> StreamRecord {
        StreamRecord::Closed {
            version: Version {
                room_session_id: Id64(858012925204410401),
                stream_seq: 1,
                time_ms: 2,
                kind: StreamEventKind::Close,
            },
            reason: None,
        }
    }

    #[test]
    fn small_record_is_its_own_metadata() {
        let meta = metadata(&closed()).unwrap();
        assert_eq!(meta["state"], "closed");
        assert_eq!(meta["version"]["room_session_id"], "858012925204410401");
        assert_eq!(
            read_metadata::<StreamRecord>(Some(&meta)),
            Listed::Record(closed())
        );
    }

    #[test]
    fn big_record_leaves_a_marker_with_its_state() {
        let big = json!({ "state": "live", "pad": "x".repeat(MAX_METADATA_BYTES) });
        let meta = metadata(&big).unwrap();
        assert_eq!(meta, json!({ "state": "live", "in_value": true }));
        assert!(meta.to_string().len() <= MAX_METADATA_BYTES);
        assert_eq!(read_metadata::<StreamRecord>(Some(&meta)), Listed::InValue);
    }

    #[test]
    fn missing_or_foreign_metadata_reads_the_value() {
        assert_eq!(read_metadata::<StreamRecord>(None), Listed::InValue);
        let foreign = json!({ "hello": 1 });
        assert_eq!(
            read_metadata::<StreamRecord>(Some(&foreign)),
            Listed::InValue
        );
    }

    #[test]
    fn corrupt_value_is_a_storage_fault_naming_the_key() {
        let e = read_value::<StreamRecord>("s:r:a", "{").unwrap_err();
        assert_eq!(e.code(), "storage_failed");
        assert!(e.to_string().contains("s:r:a"));
    }
    #[test]
    fn kv_keys_carry_the_app_after_the_prefix() {
        let key = live::stream_key("r:1", "a").unwrap();
        let kv = kv_key("42", &key).unwrap();
        assert_eq!(kv, "s:42:r%3A1:a");
        assert_eq!(app_of_kv_key(&kv), Some("42"));
        assert_eq!(kv_key("42", "m:t").unwrap(), "m:42:t");
        assert_eq!(
            kv_stream_prefix(Some("42"), Some("r:1")).unwrap(),
            "s:42:r%3A1:"
        );
        assert!(kv.starts_with(&kv_stream_prefix(Some("42"), None).unwrap()));
        assert_eq!(kv_stream_prefix(None, Some("r")).unwrap(), "s:");
        assert_eq!(kv_mix_prefix(Some("42")), "m:42:");
        let long = live::stream_key("r", &"x".repeat(506)).unwrap();
        assert_eq!(kv_key("4", &long).unwrap().len(), MAX_KEY_BYTES);
        assert_eq!(kv_key("42", &long).unwrap_err().code(), "invalid_field");
    }
}
