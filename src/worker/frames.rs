//! What subscribers receive: JSON text frames, a snapshot first, then one frame per change
//! in the order the objects applied them. Pure functions, tested natively.
//!
//! ```text
//! {"type":"snapshot","appid":"1","at":1700000000000,"streams":[..],"mixes":[..]}
//! {"type":"change","appid":"1","at":1700000000123,"kind":"stream","key":"s:room:a",
//!  "room_id":"room","stream_id":"a","record":{"state":"live","version":{..},"stream":{..}}}
//! ```
//!
//! A room's snapshot has `"room_id"` and no `"mixes"`. `at` is when the object applied the
//! change (Unix ms): a stream ended by its room's `room_close` has no close time of its own.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::live::{key_ids, KeyIds, LiveMix, LiveStream, Stored};

/// The frame for a change of a listed record; `None` for a record nobody lists (a room
/// session's).
pub fn change(app: &str, key: &str, stored: &Stored, at: u64) -> Option<String> {
    let (kind, record) = match stored {
        Stored::Stream(r) => ("stream", serde_json::to_value(r).ok()?),
        Stored::Mix(r) => ("mix", serde_json::to_value(r).ok()?),
        Stored::Session(_) => return None,
    };
    let (room_id, stream_id, task_id) = match key_ids(key) {
        KeyIds::Stream { room_id, stream_id } => (Some(room_id), Some(stream_id), None),
        KeyIds::Mix { task_id } => (None, None, Some(task_id)),
        KeyIds::Other => (None, None, None),
    };
    Some(to_text(&Change {
        r#type: "change",
        appid: app,
        at,
        kind,
        key,
        room_id,
        stream_id,
        task_id,
        record,
    }))
}

#[derive(Serialize)]
struct Change<'a> {
    r#type: &'static str,
    appid: &'a str,
    at: u64,
    kind: &'static str,
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    room_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<String>,
    record: Value,
}

#[derive(Serialize)]
struct Snapshot<'a> {
    r#type: &'static str,
    appid: &'a str,
    at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    room_id: Option<&'a str>,
    streams: Vec<&'a LiveStream>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mixes: Option<Vec<&'a LiveMix>>,
}

/// The first frame of a room's socket: its live streams.
pub fn room_snapshot(app: &str, room_id: &str, at: u64, streams: Vec<&LiveStream>) -> String {
    to_text(&Snapshot {
        r#type: "snapshot",
        appid: app,
        at,
        room_id: Some(room_id),
        streams,
        mixes: None,
    })
}

/// The first frame of an app's socket: its live streams and running mixes.
pub fn app_snapshot(app: &str, at: u64, streams: Vec<&LiveStream>, mixes: Vec<&LiveMix>) -> String {
    to_text(&Snapshot {
        r#type: "snapshot",
        appid: app,
        at,
        room_id: None,
        streams,
        mixes: Some(mixes),
    })
}

/// One app snapshot out of several, read with its entries kept as their exact text.
#[derive(Deserialize)]
struct Part<'a> {
    at: u64,
    #[serde(borrow)]
    streams: Vec<&'a RawValue>,
    #[serde(borrow)]
    mixes: Vec<&'a RawValue>,
}

#[derive(Serialize)]
struct Merged<'a> {
    r#type: &'static str,
    appid: &'a str,
    at: u64,
    streams: Vec<&'a RawValue>,
    mixes: Vec<&'a RawValue>,
}

/// One app snapshot from the snapshots of the app's hub shards: every stream and mix of
/// each, as they were (no value is read back as a number), taken at the latest of their
/// times.
pub fn merge_snapshots(app: &str, parts: &[String]) -> Result<String, serde_json::Error> {
    let mut merged = Merged {
        r#type: "snapshot",
        appid: app,
        at: 0,
        streams: Vec::new(),
        mixes: Vec::new(),
    };
    for text in parts {
        let part: Part = serde_json::from_str(text)?;
        merged.at = merged.at.max(part.at);
        merged.streams.extend(part.streams);
        merged.mixes.extend(part.mixes);
    }
    serde_json::to_string(&merged)
}

fn to_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The live streams and running mixes among `records`, in their order.
pub fn live_of(records: &[Stored]) -> (Vec<&LiveStream>, Vec<&LiveMix>) {
    let streams = records
        .iter()
        .filter_map(|r| match r {
            Stored::Stream(s) => s.live(),
            _ => None,
        })
        .collect();
    let mixes = records
        .iter()
        .filter_map(|r| match r {
            Stored::Mix(m) => m.live(),
            _ => None,
        })
        .collect();
    (streams, mixes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveList;
    use serde_json::json;

    const ENV: &str = r#""appid":"1","timestamp":"1","nonce":"n","signature":"s""#;

    fn list_with_one_stream() -> LiveList {
        let mut list = LiveList::new();
        let body = format!(
            r#"{{"event":"stream_create",{ENV},"room_id":"房间:1","room_session_id":"858012925204410401",
                "stream_id":"a","stream_seq":"1","create_time_ms":"10"}}"#
        );
        list.apply(&crate::parse(body.as_bytes(), None).unwrap())
            .unwrap();
        list
    }

    #[test]
    fn a_change_names_its_ids_and_keeps_64_bit_ids_exact() {
        let list = list_with_one_stream();
        let (key, stored) = list.records().iter().next().unwrap();
        let frame: Value = serde_json::from_str(&change("1", key, stored, 99).unwrap()).unwrap();
        assert_eq!(frame["type"], "change");
        assert_eq!(frame["kind"], "stream");
        assert_eq!(
            (frame["room_id"].as_str(), frame["stream_id"].as_str()),
            (Some("房间:1"), Some("a"))
        );
        assert_eq!(frame["at"], 99);
        assert_eq!(frame["record"]["state"], "live");
        assert_eq!(
            frame["record"]["stream"]["room_session_id"],
            "858012925204410401"
        );
    }

    #[test]
    fn sessions_make_no_frame() {
        let session = Stored::Session(crate::live::SessionRecord {
            room_id: "room".into(),
            room_session_id: crate::Id64(9),
            room_close_time: 1,
            close_reason: None,
        });
        assert_eq!(change("1", "r:room:9", &session, 1), None);
    }

    #[test]
    fn shard_snapshots_merge_into_one_with_ids_exact() {
        let list = list_with_one_stream();
        let records: Vec<Stored> = list.records().values().cloned().collect();
        let (streams, mixes) = live_of(&records);
        let one = app_snapshot("1", 5, streams.clone(), mixes.clone());
        let empty = app_snapshot("1", 9, Vec::new(), Vec::new());
        let merged = merge_snapshots("1", &[empty.clone(), one.clone(), empty]).unwrap();
        let (merged, one): (Value, Value) = (
            serde_json::from_str(&merged).unwrap(),
            serde_json::from_str(&one).unwrap(),
        );
        assert_eq!(merged["streams"], one["streams"]);
        assert_eq!(merged["mixes"], json!([]));
        assert_eq!(
            (merged["type"].as_str(), merged["at"].as_u64()),
            (Some("snapshot"), Some(9))
        );
        assert!(merge_snapshots("1", &["{}".into()]).is_err());
        // 64-bit ids pass through as their text.
        let text = r#"{"at":1,"streams":[{"room_session_id":"18446744073709551615","n":18446744073709551615}],"mixes":[]}"#;
        let merged = merge_snapshots("1", &[text.into()]).unwrap();
        assert!(
            merged.contains(
                r#"[{"room_session_id":"18446744073709551615","n":18446744073709551615}]"#
            ),
            "{merged}"
        );
    }

    #[test]
    fn snapshots_list_only_what_is_live() {
        let list = list_with_one_stream();
        let records: Vec<Stored> = list.records().values().cloned().collect();
        let (streams, mixes) = live_of(&records);
        let app: Value =
            serde_json::from_str(&app_snapshot("1", 5, streams.clone(), mixes)).unwrap();
        assert_eq!(app["streams"][0]["stream_id"], "a");
        assert_eq!(app["mixes"], json!([]));
        assert!(app.get("room_id").is_none());
        let room: Value = serde_json::from_str(&room_snapshot("1", "房间:1", 5, streams)).unwrap();
        assert_eq!(room["room_id"], "房间:1");
        assert!(room.get("mixes").is_none());
    }
}
