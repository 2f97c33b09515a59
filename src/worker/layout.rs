//! How records sit in Workers KV beyond their keys (the app in every key, the metadata a list
//! reads). Pure functions, tested natively.
//!
//! A stream or mix key's value is its record's JSON ([`live::StreamRecord`],
//! [`live::MixRecord`]). Its metadata is the same JSON when that fits in
//! [`MAX_METADATA_BYTES`], so a list is one `list()` call per 1,000 keys; otherwise it is a
//! marker, `{"state":"live","in_value":true}`, and the reader gets the value instead.
//!
//! [`live::StreamRecord`]: crate::live::StreamRecord
//! [`live::MixRecord`]: crate::live::MixRecord

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

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

/// Reads a key's metadata as written by [`metadata`].
pub fn read_metadata<R: DeserializeOwned>(metadata: Option<&Value>) -> Listed<R> {
    match metadata {
        Some(m) if m.get("in_value") != Some(&Value::Bool(true)) => {
            serde_json::from_value(m.clone()).map_or(Listed::InValue, Listed::Record)
        }
        _ => Listed::InValue,
    }
}

/// Parses a stored value as a record; a value that is not one is a storage fault.
pub fn read_value<R: DeserializeOwned>(key: &str, text: &str) -> Result<R, Error> {
    serde_json::from_str(text).map_err(|e| Error::Storage {
        reason: format!("the value stored under `{key}` is not a valid record: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::Id64;
    use crate::live::{StreamEventKind, StreamRecord, Version};

    fn closed() -> StreamRecord {
        StreamRecord::Closed {
            version: Version {
                room_session_id: Id64(858012925204410401),
                stream_seq: 1,
                time_ms: 2,
                kind: StreamEventKind::Close,
            },
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
}
