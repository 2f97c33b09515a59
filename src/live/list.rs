//! [`LiveList`]: the rules driven over a map in memory, exactly as a store drives them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::driver::{self, Records};
use super::reconcile::{self, Absences, Check, Thresholds};
#[cfg(doc)]
use super::MAX_KEY_BYTES;
use super::{LiveMix, LiveStream, Stored};
use crate::event::Callback;
use crate::Error;

/// A simulated store: every record under its key, as a KV namespace would hold them.
///
/// [`apply`](LiveList::apply) uses exactly the rules of this module, including the scan of a
/// room's stream prefix on `room_close`, so replaying callbacks into it shows what the stored
/// list becomes. Tombstones never expire here (the model has no clock).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveList {
    records: BTreeMap<String, Stored>,
    /// What checks found absent, kept for the next check ([`LiveList::reconcile`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    absences: Absences,
}

impl Records for LiveList {
    fn get(&self, key: &str) -> Result<Option<Stored>, Error> {
        Ok(self.records.get(key).cloned())
    }

    fn scan(&self, prefix: &str) -> Result<Vec<(String, Stored)>, Error> {
        Ok(self
            .records
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// What a [`LiveList`] shows: its live streams and running mixes, each sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveView<'a> {
    /// Live streams.
    pub streams: Vec<&'a LiveStream>,
    /// Running mix tasks.
    pub mixes: Vec<&'a LiveMix>,
}

impl LiveList {
    /// An empty store.
    pub fn new() -> LiveList {
        LiveList::default()
    }

    /// Applies one callback and returns the keys it wrote (none for a duplicate, a stale
    /// callback or an event that does not concern the list).
    ///
    /// Fails only when a key would be longer than [`MAX_KEY_BYTES`]; nothing is written then.
    pub fn apply(&mut self, cb: &Callback) -> Result<Vec<String>, Error> {
        let writes = driver::decide_all(cb, self)?;
        Ok(writes
            .into_iter()
            .map(|write| {
                self.records.insert(write.key.clone(), write.record);
                write.key
            })
            .collect())
    }

    /// Applies a check's answer (what ZEGO's server API listed live in a room), with ZEGO's
    /// [`Thresholds`], exactly as a store does ([`reconcile::decide_check`]); returns the keys
    /// written.
    ///
    /// Fails only when the room's id makes a key too long; nothing is written then.
    pub fn reconcile(&mut self, check: &Check) -> Result<Vec<String>, Error> {
        let outcome = reconcile::decide_check(check, self, &self.absences, Thresholds::ZEGO)?;
        // The absences of other rooms stay as they are.
        let prefix = super::stream_room_prefix(&check.room_id)?;
        self.absences.retain(|(key, _)| !key.starts_with(&prefix));
        self.absences.extend(outcome.absences);
        self.absences.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(outcome
            .writes
            .into_iter()
            .map(|write| {
                self.records.insert(write.key.clone(), write.record);
                write.key
            })
            .collect())
    }

    /// What checks found absent so far, by stream key.
    pub fn absences(&self) -> &Absences {
        &self.absences
    }

    /// Every record, tombstones included, by key.
    pub fn records(&self) -> &BTreeMap<String, Stored> {
        &self.records
    }

    /// The record under a key.
    pub fn get(&self, key: &str) -> Option<&Stored> {
        self.records.get(key)
    }

    /// The live streams, sorted by key (room, then stream id).
    pub fn streams(&self) -> Vec<&LiveStream> {
        self.records
            .values()
            .filter_map(|r| match r {
                Stored::Stream(s) => s.live(),
                _ => None,
            })
            .collect()
    }

    /// The running mix tasks, sorted by key.
    pub fn mixes(&self) -> Vec<&LiveMix> {
        self.records
            .values()
            .filter_map(|r| match r {
                Stored::Mix(m) => m.live(),
                _ => None,
            })
            .collect()
    }

    /// The live streams and running mixes, ready to serialize.
    pub fn view(&self) -> LiveView<'_> {
        LiveView {
            streams: self.streams(),
            mixes: self.mixes(),
        }
    }
}
