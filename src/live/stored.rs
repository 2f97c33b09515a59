//! The records as stored: one enum for every kind ([`Stored`]), its JSON, and which records
//! are live. Also the serde helpers the records' JSON needs (64-bit ids as decimal strings,
//! the codec by its `cid`).

use serde::{Deserialize, Serialize};

use super::{LiveMix, LiveStream, MixRecord, SessionRecord, StreamRecord};

/// One record of the live list, under its key; JSON `{"stream":{..}}`, `{"session":{..}}` or `{"mix":{..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    /// Under a stream key.
    Stream(StreamRecord),
    /// Under a session key.
    Session(SessionRecord),
    /// Under a mix key.
    Mix(MixRecord),
}

impl Stored {
    /// The live stream this record shows, if it is a stream's and the stream is live.
    pub fn live_stream(&self) -> Option<&LiveStream> {
        match self {
            Stored::Stream(s) => s.live(),
            _ => None,
        }
    }

    /// The running mix this record shows, if it is a task's and the task is live.
    pub fn live_mix(&self) -> Option<&LiveMix> {
        match self {
            Stored::Mix(m) => m.live(),
            _ => None,
        }
    }
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// `Id64` as a decimal string; read back from a string of digits or an integer, exactly.
pub(crate) mod id64 {
    use std::fmt;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    use crate::field::Id64;

    pub fn serialize<S: Serializer>(id: &Id64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&id.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Id64, D::Error> {
        d.deserialize_any(Id64Visitor)
    }

    struct Id64Visitor;

    impl Visitor<'_> for Id64Visitor {
        type Value = Id64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an unsigned 64-bit integer or a string of its decimal digits")
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Id64, E> {
            Ok(Id64(n))
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Id64, E> {
            u64::try_from(n)
                .map(Id64)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Id64, E> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::invalid_value(de::Unexpected::Str(s), &self));
            }
            s.parse()
                .map(Id64)
                .map_err(|_| E::invalid_value(de::Unexpected::Str(s), &self))
        }
    }
}

/// `Option<Codec>` as `{"cid": 0, "name": "H.264"}`; read back from its `cid`.
pub(crate) mod opt_codec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::field::Codec;

    pub fn serialize<S: Serializer>(codec: &Option<Codec>, s: S) -> Result<S::Ok, S::Error> {
        codec.serialize(s)
    }

    #[derive(Deserialize)]
    struct Repr {
        cid: u32,
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Codec>, D::Error> {
        Ok(Option::<Repr>::deserialize(d)?.map(|r| Codec::from_cid(r.cid)))
    }
}
