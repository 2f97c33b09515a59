//! Stored records read back from their JSON with the crate's own JSON reader.
//!
//! The npm module gets records back from JS (`live.decide`, `LiveList`), and the Worker from
//! its objects' SQLite and from KV; both read them here rather than through serde's derived
//! deserializers, which are most of a record's code in the wasm (and pull in float
//! formatting for their messages). The format is the one
//! [`Stored`]'s `Serialize` writes and its `Deserialize` reads; the tests hold the three to
//! each other.

use crate::body::decode_json;
use crate::field::{Codec, Id64};
use crate::value::{Fields, Value};

use super::{
    EndReason, LiveMix, LiveStream, MixEventKind, MixRecord, MixVersion, SessionRecord, Source,
    Stored, StreamEventKind, StreamRecord, Version,
};

type Result<T> = std::result::Result<T, String>;

impl Stored {
    /// Reads a record from the JSON its `Serialize` writes (`{"stream":{..}}`,
    /// `{"session":{..}}` or `{"mix":{..}}`). Unknown fields are ignored, as by its
    /// `Deserialize`; the error says what is wrong.
    pub fn from_json(text: &str) -> Result<Stored> {
        let fields = decode_json(text).map_err(|e| e.to_string())?;
        let mut members = fields.iter();
        let (Some((tag, value)), None) = (members.next(), members.next()) else {
            return Err("expected an object with one of `stream`, `session`, `mix`".to_owned());
        };
        let record = Record(object(tag, value)?, tag);
        match tag {
            "stream" => stream(&record).map(Stored::Stream),
            "session" => session(&record).map(Stored::Session),
            "mix" => mix(&record).map(Stored::Mix),
            other => Err(format!(
                "unknown variant `{other}`, expected one of `stream`, `session`, `mix`"
            )),
        }
    }
}

impl StreamRecord {
    /// Reads a stream's record from the JSON its `Serialize` writes (the Worker's KV values
    /// and metadata), with the crate's reader.
    pub fn from_json(text: &str) -> Result<StreamRecord> {
        let fields = decode_json(text).map_err(|e| e.to_string())?;
        stream(&Record(&fields, "stream"))
    }
}

impl MixRecord {
    /// Reads a mix task's record from the JSON its `Serialize` writes, with the crate's
    /// reader.
    pub fn from_json(text: &str) -> Result<MixRecord> {
        let fields = decode_json(text).map_err(|e| e.to_string())?;
        mix(&Record(&fields, "mix"))
    }
}

/// An object being read, and where it is (for messages).
struct Record<'f, 'a>(&'f Fields<'a>, &'f str);

fn object<'f, 'a>(name: &str, value: &'f Value<'a>) -> Result<&'f Fields<'a>> {
    match value {
        Value::Object(fields) => Ok(fields),
        other => Err(format!(
            "`{name}`: expected an object, got {}",
            other.kind()
        )),
    }
}

// Out of line in wasm: each is called from many places, and a copy per call is most of
// this reader's size there.
impl<'f, 'a> Record<'f, 'a> {
    /// A field that must be there (null counts as there, for the types that take it).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn get(&self, name: &str) -> Result<&'f Value<'a>> {
        self.0
            .get(name)
            .ok_or_else(|| format!("`{}`: missing field `{name}`", self.1))
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn wrong(&self, name: &str, expected: &str, got: &Value<'_>) -> String {
        format!(
            "`{}.{name}`: expected {expected}, got {}",
            self.1,
            got.kind()
        )
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn object(&self, name: &str) -> Result<Record<'f, 'a>> {
        Ok(Record(object(name, self.get(name)?)?, self.1))
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn string(&self, name: &str) -> Result<String> {
        match self.get(name)? {
            Value::String(s) => Ok(s.to_string()),
            other => Err(self.wrong(name, "a string", other)),
        }
    }

    /// A field that may be missing or null, read by `read` otherwise.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn opt<T>(&self, name: &str, read: fn(&Self, &str) -> Result<T>) -> Result<Option<T>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => read(self, name).map(Some),
        }
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn opt_string(&self, name: &str) -> Result<Option<String>> {
        self.opt(name, Self::string)
    }

    /// A JSON number that is an unsigned 64-bit integer.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn u64(&self, name: &str) -> Result<u64> {
        match self.get(name)? {
            Value::Number(n) => n
                .parse()
                .map_err(|_| format!("`{}.{name}`: {n} is not an unsigned integer", self.1)),
            other => Err(self.wrong(name, "an unsigned integer", other)),
        }
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn opt_u64(&self, name: &str) -> Result<Option<u64>> {
        self.opt(name, Self::u64)
    }

    /// An id: an unsigned integer, or a string of its decimal digits.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn id64(&self, name: &str) -> Result<Id64> {
        match self.get(name)? {
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
                .parse()
                .map(Id64)
                .map_err(|_| format!("`{}.{name}`: {s} does not fit in 64 bits", self.1)),
            Value::Number(_) => self.u64(name).map(Id64),
            other => Err(self.wrong(name, "an id (digits)", other)),
        }
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn flag(&self, name: &str) -> Result<bool> {
        match self.0.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.wrong(name, "a boolean", other)),
        }
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn strings(&self, name: &str) -> Result<Vec<String>> {
        match self.0.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.to_string()),
                    other => Err(self.wrong(name, "an array of strings", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(name, "an array of strings", other)),
        }
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn codec(&self, name: &str) -> Result<Option<Codec>> {
        self.opt(name, |r, name| {
            let cid = r.object(name)?.u64("cid")?;
            let cid = u32::try_from(cid)
                .map_err(|_| format!("`{}.{name}.cid`: {cid} is out of range", r.1))?;
            Ok(Codec::from_cid(cid))
        })
    }

    /// The `state` tag of a record, one of `states`.
    fn state<'s>(&self, states: &[&'s str]) -> Result<&'s str> {
        self.tag("state", states)
    }

    /// A version's `kind`, one of `kinds`.
    fn kind<'s>(&self, kinds: &[&'s str]) -> Result<&'s str> {
        self.tag("kind", kinds)
    }

    /// A string field that is one of `tags` (a record's `state`, a stream's `source`, ...).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn tag<'s>(&self, name: &str, tags: &[&'s str]) -> Result<&'s str> {
        let tag = match self.get(name)? {
            Value::String(s) => s,
            other => return Err(self.wrong(name, "a string", other)),
        };
        tags.iter()
            .find(|t| **t == tag.as_ref())
            .copied()
            .ok_or_else(|| {
                format!(
                    "`{}.{name}`: unknown variant `{tag}`, expected one of {}",
                    self.1,
                    tags.join(", ")
                )
            })
    }
}

fn version(r: &Record<'_, '_>) -> Result<Version> {
    let v = r.object("version")?;
    Ok(Version {
        room_session_id: v.id64("room_session_id")?,
        stream_seq: v.u64("stream_seq")?,
        time_ms: v.u64("time_ms")?,
        kind: match v.kind(&["create", "close"])? {
            "create" => StreamEventKind::Create,
            _ => StreamEventKind::Close,
        },
    })
}

fn stream(r: &Record<'_, '_>) -> Result<StreamRecord> {
    let state = r.state(&["live", "closed"])?;
    let version = version(r)?;
    if state == "closed" {
        let reason = r.opt("reason", |r, name| {
            r.tag(name, &["reconciled"]).map(|_| EndReason::Reconciled)
        })?;
        return Ok(StreamRecord::Closed { version, reason });
    }
    let s = r.object("stream")?;
    let stream = LiveStream {
        room_id: s.string("room_id")?,
        stream_id: s.string("stream_id")?,
        room_session_id: s.id64("room_session_id")?,
        stream_seq: s.u64("stream_seq")?,
        create_time_ms: s.u64("create_time_ms")?,
        recreate: s.flag("recreate")?,
        user_id: s.opt_string("user_id")?,
        user_name: s.opt_string("user_name")?,
        title: s.opt_string("title")?,
        stream_alias: s.opt_string("stream_alias")?,
        stream_sid: s.opt_string("stream_sid")?,
        extra_info: s.opt_string("extra_info")?,
        codec: s.codec("codec")?,
        rtmp_url: s.strings("rtmp_url")?,
        hls_url: s.strings("hls_url")?,
        hdl_url: s.strings("hdl_url")?,
        pic_url: s.strings("pic_url")?,
        source: s.opt("source", |r, name| {
            r.tag(name, &["zego_api"]).map(|_| Source::ZegoApi)
        })?,
        stream_number_id: s.opt_string("stream_number_id")?,
    };
    Ok(StreamRecord::Live {
        version,
        stream: Box::new(stream),
    })
}

fn session(r: &Record<'_, '_>) -> Result<SessionRecord> {
    Ok(SessionRecord {
        room_id: r.string("room_id")?,
        room_session_id: r.id64("room_session_id")?,
        room_close_time: r.u64("room_close_time")?,
        close_reason: r.opt_u64("close_reason")?,
    })
}

fn mix(r: &Record<'_, '_>) -> Result<MixRecord> {
    let state = r.state(&["live", "stopped"])?;
    let v = r.object("version")?;
    let version = MixVersion {
        seq: v.u64("seq")?,
        kind: match v.kind(&["start", "stop"])? {
            "start" => MixEventKind::Start,
            _ => MixEventKind::Stop,
        },
    };
    if state == "stopped" {
        return Ok(MixRecord::Stopped {
            version,
            task_id: r.string("task_id")?,
        });
    }
    let m = r.object("mix")?;
    let mix = LiveMix {
        task_id: m.string("task_id")?,
        seq: m.u64("seq")?,
        channel_id: m.opt_string("channel_id")?,
        publish_id: m.opt_string("publish_id")?,
        mix_url: m.opt_string("mix_url")?,
        mix_stream_alias: m.opt_string("mix_stream_alias")?,
        rtmp_urls: m.strings("rtmp_urls")?,
        hls_urls: m.strings("hls_urls")?,
        hdl_urls: m.strings("hdl_urls")?,
        stream_alias: m.opt_string("stream_alias")?,
    };
    Ok(MixRecord::Live { version, mix })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_version(kind: StreamEventKind) -> Version {
        Version {
            room_session_id: Id64(858012925204410401),
            stream_seq: 7,
            time_ms: 1_700_000_000_123,
            kind,
        }
    }

    fn samples() -> Vec<Stored> {
        let full = LiveStream {
            room_id: "room 1".into(),
            stream_id: "s\"1".into(),
            room_session_id: Id64(u64::MAX),
            stream_seq: 7,
            create_time_ms: 1,
            recreate: true,
            user_id: Some("u".into()),
            user_name: Some("张三".into()),
            title: Some(String::new()),
            stream_alias: Some("a".into()),
            stream_sid: Some("sid".into()),
            extra_info: Some("x".into()),
            codec: Some(Codec::Other(9)),
            rtmp_url: vec!["rtmp://a".into(), "rtmp://b".into()],
            hls_url: vec!["h".into()],
            hdl_url: vec![],
            pic_url: vec!["p".into()],
            source: Some(Source::ZegoApi),
            stream_number_id: Some("18446744073709551615".into()),
        };
        let minimal = LiveStream {
            user_id: None,
            user_name: None,
            title: None,
            stream_alias: None,
            stream_sid: None,
            extra_info: None,
            codec: None,
            recreate: false,
            rtmp_url: vec![],
            hls_url: vec![],
            pic_url: vec![],
            source: None,
            stream_number_id: None,
            ..full.clone()
        };
        let mix = LiveMix {
            task_id: "t".into(),
            seq: 3,
            channel_id: Some("c".into()),
            publish_id: None,
            mix_url: Some("rtmp://m".into()),
            mix_stream_alias: None,
            rtmp_urls: vec!["r".into()],
            hls_urls: vec![],
            hdl_urls: vec!["d".into()],
            stream_alias: Some("sa".into()),
        };
        let start = MixVersion {
            seq: 3,
            kind: MixEventKind::Start,
        };
        vec![
            Stored::Stream(StreamRecord::Live {
                version: stream_version(StreamEventKind::Create),
                stream: Box::new(full),
            }),
            Stored::Stream(StreamRecord::Live {
                version: stream_version(StreamEventKind::Create),
                stream: Box::new(minimal),
            }),
            Stored::Stream(StreamRecord::Closed {
                version: stream_version(StreamEventKind::Close),
                reason: None,
            }),
            Stored::Stream(StreamRecord::Closed {
                version: stream_version(StreamEventKind::Close),
                reason: Some(EndReason::Reconciled),
            }),
            Stored::Session(SessionRecord {
                room_id: "r".into(),
                room_session_id: Id64(1),
                room_close_time: 2,
                close_reason: Some(0),
            }),
            Stored::Session(SessionRecord {
                room_id: "r".into(),
                room_session_id: Id64(0),
                room_close_time: 0,
                close_reason: None,
            }),
            Stored::Mix(MixRecord::Live {
                version: start,
                mix,
            }),
            Stored::Mix(MixRecord::Stopped {
                version: MixVersion {
                    seq: 4,
                    kind: MixEventKind::Stop,
                },
                task_id: "t".into(),
            }),
        ]
    }

    #[test]
    fn reads_what_serialize_writes_as_deserialize_does() {
        for record in samples() {
            let json = serde_json::to_string(&record).unwrap();
            let ours = Stored::from_json(&json).unwrap();
            let serde: Stored = serde_json::from_str(&json).unwrap();
            assert_eq!(ours, record, "{json}");
            assert_eq!(serde, record, "{json}");
        }
    }

    #[test]
    fn accepts_and_refuses_what_deserialize_does() {
        let sid = r#""room_session_id":"5","stream_seq":1,"time_ms":2"#;
        let cases = [
            // Ids as numbers, unknown fields, a codec with its name, nulls for options.
            r#"{"stream":{"state":"closed","version":{"room_session_id":5,"stream_seq":1,"time_ms":2,"kind":"close"},"x":1}}"#.to_owned(),
            format!(r#"{{"stream":{{"state":"live","version":{{{sid},"kind":"create"}},"stream":{{"room_id":"r","stream_id":"s","room_session_id":5,"stream_seq":1,"create_time_ms":2,"codec":{{"cid":1,"name":"H.264 SVC"}},"title":null}}}}}}"#),
            r#"{"session":{"room_id":"r","room_session_id":"1","room_close_time":-0,"close_reason":null}}"#.to_owned(),
            // Refused: unknown tags, a missing version, wrong types, out of range, two tags.
            format!(r#"{{"stream":{{"state":"gone","version":{{{sid},"kind":"close"}}}}}}"#),
            r#"{"stream":{"state":"closed"}}"#.to_owned(),
            format!(r#"{{"stream":{{"state":"closed","version":{{{sid},"kind":"close"}},"reason":"lost"}}}}"#),
            format!(r#"{{"stream":{{"state":"closed","version":{{{sid},"kind":"close"}},"reason":null}}}}"#),
            format!(r#"{{"stream":{{"state":"live","version":{{{sid},"kind":"create"}},"stream":{{"room_id":"r","stream_id":"s","room_session_id":5,"stream_seq":1,"create_time_ms":2,"source":"zego"}}}}}}"#),
            format!(r#"{{"stream":{{"state":"live","version":{{{sid},"kind":"create"}},"stream":{{"room_id":"r","stream_id":"s","room_session_id":5,"stream_seq":1,"create_time_ms":2,"source":"zego_api","stream_number_id":"7"}}}}}}"#),
            format!(r#"{{"stream":{{"state":"closed","version":{{{sid},"kind":"open"}}}}}}"#),
            r#"{"session":{"room_id":"r","room_session_id":"x","room_close_time":1}}"#.to_owned(),
            r#"{"session":{"room_id":"r","room_session_id":"1","room_close_time":1.5}}"#.to_owned(),
            r#"{"session":{"room_id":"r","room_session_id":"1","room_close_time":-1}}"#.to_owned(),
            r#"{"session":{"room_id":"r","room_session_id":"18446744073709551616","room_close_time":1}}"#.to_owned(),
            r#"{"session":{"room_id":1,"room_session_id":"1","room_close_time":1}}"#.to_owned(),
            format!(r#"{{"stream":{{"state":"live","version":{{{sid},"kind":"create"}},"stream":{{"room_id":"r","stream_id":"s","room_session_id":5,"stream_seq":1,"create_time_ms":2,"codec":{{"cid":4294967296}}}}}}}}"#),
            format!(r#"{{"stream":{{"state":"live","version":{{{sid},"kind":"create"}},"stream":{{"room_id":"r","stream_id":"s","room_session_id":5,"stream_seq":1,"create_time_ms":2,"rtmp_url":"a"}}}}}}"#),
            format!(r#"{{"stream":{{"state":"live","version":{{{sid},"kind":"create"}},"stream":{{"room_id":"r","stream_id":"s","room_session_id":5,"stream_seq":1,"create_time_ms":2,"recreate":null}}}}}}"#),
            r#"{"mix":{"state":"stopped","version":{"seq":1,"kind":"stop"}}}"#.to_owned(),
            r#"{"session":{},"mix":{}}"#.to_owned(),
            r#"{}"#.to_owned(),
            r#"{"room":{}}"#.to_owned(),
            r#"[1]"#.to_owned(),
        ];
        for json in &cases {
            let ours = Stored::from_json(json);
            let serde = serde_json::from_str::<Stored>(json);
            match (&ours, &serde) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{json}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{json}: ours {ours:?}, serde {serde:?}"),
            }
        }
    }
}
