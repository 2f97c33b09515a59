//! Mix tasks: the version that orders a task's callbacks (`seq`, then a stop above a start),
//! the record a list keeps of it, and what `mix_start` and `mix_stop` do to that record.

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::{mix_key, TOMBSTONE_TTL_SECONDS};
use super::{ToRecord, Write};
use crate::event::{MixStart, MixStop};

/// Which mix callback a [`MixVersion`] belongs to. A stop ranks above a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixEventKind {
    /// `mix_start`.
    Start,
    /// `mix_stop`.
    Stop,
}

/// The position of one mix callback in its task's history: `seq`, then kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MixVersion {
    /// The mixing request's `seq`.
    pub seq: u64,
    /// Start or stop.
    pub kind: MixEventKind,
}

/// A running mix task, as a list shows it: the fields of its newest `mix_start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMix {
    /// Mixing task id.
    pub task_id: String,
    /// `seq` of the start.
    pub seq: u64,
    /// Channel ID, the client's RoomID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// Publisher ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_id: Option<String>,
    /// The mixed output's RTMP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_url: Option<String>,
    /// The mixed output's stream name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_stream_alias: Option<String>,
    /// RTMP play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rtmp_urls: Vec<String>,
    /// HLS play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hls_urls: Vec<String>,
    /// HDL play URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hdl_urls: Vec<String>,
    /// Stream name, the client's StreamID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_alias: Option<String>,
}

impl LiveMix {
    /// The summary of a `mix_start`.
    pub fn from_start(ev: &MixStart) -> LiveMix {
        LiveMix {
            task_id: ev.task_id.stored(),
            seq: ev.seq,
            channel_id: ev.channel_id.stored(),
            publish_id: ev.publish_id.stored(),
            mix_url: ev.mix_url.stored(),
            mix_stream_alias: ev.mix_stream_alias.stored(),
            rtmp_urls: ev.rtmp_urls.stored(),
            hls_urls: ev.hls_urls.stored(),
            hdl_urls: ev.hdl_urls.stored(),
            stream_alias: ev.stream_alias.stored(),
        }
    }
}

/// The stored state of one mix task.
///
/// JSON: `{"state":"live","version":{..},"mix":{..}}` or
/// `{"state":"stopped","version":{..},"task_id":".."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MixRecord {
    /// The task is mixing.
    Live {
        /// The version of the `mix_start`.
        version: MixVersion,
        /// What a list shows.
        mix: LiveMix,
    },
    /// A tombstone: the task stopped. Stored with a TTL of [`TOMBSTONE_TTL_SECONDS`].
    Stopped {
        /// The version of the `mix_stop`.
        version: MixVersion,
        /// Mixing task id.
        task_id: String,
    },
}

impl MixRecord {
    /// The version of the callback this record came from.
    pub fn version(&self) -> MixVersion {
        match self {
            MixRecord::Live { version, .. } | MixRecord::Stopped { version, .. } => *version,
        }
    }

    /// The running mix, if the task is live.
    pub fn live(&self) -> Option<&LiveMix> {
        match self {
            MixRecord::Live { mix, .. } => Some(mix),
            MixRecord::Stopped { .. } => None,
        }
    }
}

fn mix_newer(version: MixVersion, current: Option<&MixRecord>) -> bool {
    current.is_none_or(|c| version > c.version())
}

/// What a `mix_start` does to its task's record (under [`mix_key`]): no newer than `current`
/// (by `seq`, a stop ranking above a start at equal `seq`): [`Write::Ignore`]; otherwise
/// [`MixRecord::Live`].
pub fn apply_mix_start(current: Option<&MixRecord>, ev: &MixStart) -> Write<MixRecord> {
    let version = MixVersion {
        seq: ev.seq,
        kind: MixEventKind::Start,
    };
    if mix_newer(version, current) {
        Write::live(MixRecord::Live {
            version,
            mix: LiveMix::from_start(ev),
        })
    } else {
        Write::Ignore
    }
}

/// What a `mix_stop` does to its task's record: no newer than `current`: [`Write::Ignore`];
/// otherwise a [`MixRecord::Stopped`] tombstone, also when no start was seen yet.
pub fn apply_mix_stop(current: Option<&MixRecord>, ev: &MixStop) -> Write<MixRecord> {
    let version = MixVersion {
        seq: ev.seq,
        kind: MixEventKind::Stop,
    };
    if mix_newer(version, current) {
        Write::tombstone(MixRecord::Stopped {
            version,
            task_id: ev.task_id.stored(),
        })
    } else {
        Write::Ignore
    }
}

impl fmt::Display for MixEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MixEventKind::Start => "mix_start",
            MixEventKind::Stop => "mix_stop",
        })
    }
}
