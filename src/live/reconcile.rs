//! Checks: what an answer of ZEGO's server API (`DescribeSimpleStreamList`: the streams live
//! in a room) does to the room's records, so that a list missing a lost callback heals.
//!
//! ZEGO gives up on a callback after five tries, and nothing in the callbacks alone can
//! recover it: a lost `stream_close` leaves a stream live for ever, a lost `stream_create`
//! hides one. A store that can ask ZEGO what is live applies the answer here, through the
//! same read-decide-write path as a callback ([`decide_check`] reads the room's records and
//! returns the writes), and with the same guarantee: every write replaces a record by one
//! whose [`Version`] is newer, so checks interleaved anywhere with callbacks, in any order
//! and any number of times, change no outcome the callbacks decide.
//!
//! # What a check does
//!
//! ZEGO's answer names streams by `StreamId` only (no `room_session_id`, no `stream_seq`),
//! with their `CreateTime`. Asked at `asked_at`:
//!
//! - **A stream the room lists live and ZEGO does not** is remembered as absent (an
//!   [`Absence`], kept by the store beside its records). Absent again from a check at least
//!   [`Thresholds::min_gap_ms`] after the first, as the same record, and created at least
//!   [`Thresholds::min_age_ms`] before the first, it is ended: a tombstone with
//!   [`EndReason::Reconciled`] whose version is the live record's as a close
//!   ([`reconciled_version`]), so it ranks just above the record it ends and below everything
//!   that ranked above that record. A record created less than `min_age_ms` before a check
//!   was asked is never counted absent by it: its stream may have been created after ZEGO
//!   answered.
//! - **A stream ZEGO lists and the room does not** is listed from ZEGO's data
//!   ([`Source::ZegoApi`], room session 0, `stream_seq` 0) at [`api_version`]: its
//!   `CreateTime` less [`CREATE_TIME_SLACK_MS`], a version below every real callback of that
//!   publish, so its `stream_create` replaces it when it comes and its `stream_close` ends
//!   it. It is not listed when a record of the stream already ranks at or above that version
//!   (a tombstone of a close at or after its creation covers it), nor when one of the room's
//!   sessions closed at or after its `CreateTime` (a `room_close` ends such a stream too:
//!   [`room_close_ends`](super::room_close_ends)).
//!
//! The version of a reconciled tombstone keeps the ended record's time rather than the
//! check's: a later time would rank it above the next session's callbacks whose times come
//! before the check (a clock a little behind, ZEGO's list a moment late), and a stream
//! re-published then would stay hidden under a tombstone no check could lift.
//!
//! # Limits
//!
//! - Only streams the store asks about are found: a room whose every `stream_create` was
//!   lost is not known to be live, and is not checked.
//! - A stream re-published within [`CREATE_TIME_SLACK_MS`] after its previous publish's close,
//!   whose `stream_create` was lost, stays covered by that close.
//! - A stream listed from ZEGO shows only what ZEGO's answer has (user, creation time, its
//!   number in the room) until its `stream_create` replaces it.

use serde::{Deserialize, Serialize};

use super::driver::{KeyWrite, Records};
use super::{
    session_room_prefix, stream_key, stream_room_prefix, EndReason, LiveStream, Source, Stored,
    StreamEventKind, StreamRecord, Version, TOMBSTONE_TTL_SECONDS,
};
use crate::field::Id64;
use crate::Error;

/// How much earlier than ZEGO's `CreateTime` a stream listed from a check is dated, in ms,
/// so that its `stream_create` (whose `create_time_ms` may differ a little, or be the same
/// second in ms) always ranks above it.
pub const CREATE_TIME_SLACK_MS: u64 = 1_000;

/// What counts as evidence that a stream is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Two absent checks at least this far apart, in ms.
    pub min_gap_ms: u64,
    /// A record created at least this long before the first absent check, in ms.
    pub min_age_ms: u64,
}

impl Thresholds {
    /// ZEGO's: 10 s, its limit of one call per room every 10 s.
    pub const ZEGO: Thresholds = Thresholds {
        min_gap_ms: 10_000,
        min_age_ms: 10_000,
    };
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::ZEGO
    }
}

/// One stream as ZEGO's server API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedStream {
    /// `StreamId`.
    pub stream_id: String,
    /// `UserId`.
    pub user_id: Option<String>,
    /// `UserName`.
    pub user_name: Option<String>,
    /// `CreateTime`, Unix ms.
    pub create_time_ms: u64,
    /// `StreamNumberId`, decimal digits.
    pub stream_number_id: Option<String>,
}

/// A check's answer: the streams live in a room when it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The room.
    pub room_id: String,
    /// When the request was sent, Unix ms (not when it was answered).
    pub asked_at: u64,
    /// What ZEGO listed.
    pub streams: Vec<ListedStream>,
}

/// A live record found absent from a check, remembered until the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Absence {
    /// When the first check it was absent from was asked, Unix ms.
    pub since: u64,
    /// The version of the record that was absent.
    pub version: Version,
}

/// The absences a store keeps between checks, each under its stream key, in key order. (A
/// list, not a map: a room has a few streams, and the Worker's bundle is smaller without
/// another map's code.)
pub type Absences = Vec<(String, Absence)>;

/// The absence remembered under `key`.
pub fn absence<'a>(absences: &'a Absences, key: &str) -> Option<&'a Absence> {
    absences.iter().find(|(k, _)| k == key).map(|(_, a)| a)
}

/// What a check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The writes, to carry out like a callback's.
    pub writes: Vec<KeyWrite>,
    /// The absences to keep in place of the old ones.
    pub absences: Absences,
    /// The streams the check ended, as they were listed.
    pub ended: Vec<LiveStream>,
    /// The streams the check listed from ZEGO's answer.
    pub listed: Vec<LiveStream>,
}

/// The version of a stream listed from a check: below every real callback of the publish
/// ZEGO created at `create_time_ms` (see the [module documentation](self)).
pub fn api_version(create_time_ms: u64) -> Version {
    Version {
        room_session_id: Id64(0),
        stream_seq: 0,
        time_ms: create_time_ms.saturating_sub(CREATE_TIME_SLACK_MS),
        kind: StreamEventKind::Create,
    }
}

/// The version of the tombstone a check leaves in place of a live record: the record's own,
/// as a close, so that it ranks right above it and below anything that ranked above it.
pub fn reconciled_version(live: &Version) -> Version {
    Version {
        kind: StreamEventKind::Close,
        ..*live
    }
}

impl LiveStream {
    /// A live stream from what a check's answer says of it.
    pub fn from_check(room_id: &str, listed: &ListedStream) -> LiveStream {
        LiveStream {
            room_id: room_id.to_owned(),
            stream_id: listed.stream_id.clone(),
            room_session_id: Id64(0),
            stream_seq: 0,
            create_time_ms: listed.create_time_ms,
            recreate: false,
            user_id: listed.user_id.clone(),
            user_name: listed.user_name.clone(),
            title: None,
            stream_alias: None,
            stream_sid: None,
            extra_info: None,
            codec: None,
            rtmp_url: Vec::new(),
            hls_url: Vec::new(),
            hdl_url: Vec::new(),
            pic_url: Vec::new(),
            source: Some(Source::ZegoApi),
            stream_number_id: listed.stream_number_id.clone(),
        }
    }
}

/// What a check's answer does to the room's records: the writes (each a record replaced by a
/// newer one), the absences to keep, and which streams it ended and listed. `absences` are
/// those the previous check left; `records` are read once, with nothing applied in between
/// and the writes.
///
/// Fails only when the room's id makes a key too long; a listed stream whose key would be too
/// long is left out (no callback of it could be applied either).
pub fn decide_check(
    check: &Check,
    records: &impl Records,
    absences: &Absences,
    thresholds: Thresholds,
) -> Result<Outcome, Error> {
    let room = &check.room_id;
    let streams = records.scan(&stream_room_prefix(room)?)?;
    let closed_up_to = records
        .scan(&session_room_prefix(room)?)?
        .iter()
        .filter_map(|(_, stored)| match stored {
            Stored::Session(s) if s.room_id == *room => Some(s.room_close_time),
            _ => None,
        })
        .max();
    let mut out = Outcome {
        writes: Vec::new(),
        absences: Absences::new(),
        ended: Vec::new(),
        listed: Vec::new(),
    };

    // ZEGO's streams by key, the latest creation of a stream id named twice.
    let mut listed: Vec<(String, &ListedStream)> = Vec::new();
    for stream in &check.streams {
        let Ok(key) = stream_key(room, &stream.stream_id) else {
            continue;
        };
        match listed.iter_mut().find(|(k, _)| *k == key) {
            Some((_, seen)) if stream.create_time_ms > seen.create_time_ms => *seen = stream,
            Some(_) => {}
            None => listed.push((key, stream)),
        }
    }
    let stored = |key: &str| {
        streams.iter().find_map(|(k, s)| match s {
            Stored::Stream(record) if k == key => Some(record),
            _ => None,
        })
    };

    for (key, stream) in &listed {
        let version = api_version(stream.create_time_ms);
        let covered_by_record =
            stored(key).is_some_and(|current| !version.is_newer_than(current.version()));
        let covered_by_session = closed_up_to.is_some_and(|t| t >= stream.create_time_ms);
        if covered_by_record || covered_by_session {
            continue;
        }
        let live = LiveStream::from_check(room, stream);
        out.listed.push(live.clone());
        out.writes.push(KeyWrite {
            key: key.clone(),
            record: Stored::Stream(StreamRecord::Live {
                version,
                stream: Box::new(live),
            }),
            ttl_seconds: None,
        });
    }

    for (key, record) in &streams {
        let Stored::Stream(StreamRecord::Live { version, stream }) = record else {
            continue;
        };
        if listed.iter().any(|(k, _)| k == key) || stream.room_id != *room {
            continue;
        }
        let old_enough = |at: u64| version.time_ms.saturating_add(thresholds.min_age_ms) <= at;
        match absence(absences, key) {
            Some(absent) if absent.version == *version => {
                let apart = check.asked_at >= absent.since.saturating_add(thresholds.min_gap_ms);
                if apart && old_enough(absent.since) {
                    out.ended.push((**stream).clone());
                    out.writes.push(KeyWrite {
                        key: key.clone(),
                        record: Stored::Stream(StreamRecord::Closed {
                            version: reconciled_version(version),
                            reason: Some(EndReason::Reconciled),
                        }),
                        ttl_seconds: Some(TOMBSTONE_TTL_SECONDS),
                    });
                } else {
                    out.absences.push((key.clone(), *absent));
                }
            }
            // Absent for the first time (or as another record than the one remembered).
            _ if old_enough(check.asked_at) => {
                out.absences.push((
                    key.clone(),
                    Absence {
                        since: check.asked_at,
                        version: *version,
                    },
                ));
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::LiveList;
    use crate::{parse, Callback};

    const S: u64 = 1_000; // ms in a second
    const T0: u64 = 1_700_000_000_000;
    const BIG: u64 = 858012925204410401; // above 2^53

    fn cb(json: String) -> Callback<'static> {
        parse(json.as_bytes(), None).unwrap().into_owned()
    }

    fn env(event: &str) -> String {
        format!(r#""event":"{event}","appid":"1","timestamp":"1","nonce":"n","signature":"s""#)
    }

    fn create(stream: &str, session: u64, seq: u64, t: u64) -> Callback<'static> {
        cb(format!(
            r#"{{{},"room_id":"r","room_session_id":"{session}","stream_id":"{stream}",
                "stream_seq":"{seq}","create_time_ms":"{t}","user_id":"u-{stream}",
                "rtmp_url":["rtmp://x/{stream}"]}}"#,
            env("stream_create")
        ))
    }

    fn close(stream: &str, session: u64, seq: u64, t: u64) -> Callback<'static> {
        cb(format!(
            r#"{{{},"room_id":"r","room_session_id":"{session}","stream_id":"{stream}",
                "stream_seq":"{seq}","destroy_timemillis":"{t}"}}"#,
            env("stream_close")
        ))
    }

    fn room_close(session: u64, t: u64) -> Callback<'static> {
        cb(format!(
            r#"{{"event":"room_close","appid":1,"timestamp":1,"nonce":"n","signature":"s",
                "room_id":"r","room_session_id":{session},"room_close_time":"{t}"}}"#
        ))
    }

    fn listed(stream: &str, created: u64) -> ListedStream {
        ListedStream {
            stream_id: stream.to_owned(),
            user_id: Some(format!("u-{stream}")),
            user_name: Some("名字".to_owned()),
            create_time_ms: created,
            stream_number_id: Some("18446744073709551615".to_owned()),
        }
    }

    fn check(at: u64, streams: &[ListedStream]) -> Check {
        Check {
            room_id: "r".to_owned(),
            asked_at: at,
            streams: streams.to_vec(),
        }
    }

    fn live_ids(list: &LiveList) -> Vec<String> {
        list.streams().iter().map(|s| s.stream_id.clone()).collect()
    }

    fn record(list: &LiveList, stream: &str) -> StreamRecord {
        match list.get(&stream_key("r", stream).unwrap()) {
            Some(Stored::Stream(r)) => r.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stream_whose_close_was_lost_is_ended_by_the_second_absent_check() {
        let mut list = LiveList::new();
        list.apply(&create("a", BIG, 1, T0)).unwrap();
        list.apply(&create("b", BIG, 2, T0)).unwrap();
        let b = [listed("b", T0)];
        // The first absence is only remembered.
        assert!(list.reconcile(&check(T0 + 60 * S, &b)).unwrap().is_empty());
        assert_eq!(live_ids(&list), ["a", "b"]);
        // Too soon after it: still remembered, nothing ended.
        assert!(list.reconcile(&check(T0 + 69 * S, &b)).unwrap().is_empty());
        // Ten seconds after the first: ended, with a tombstone just above the live record.
        let written = list.reconcile(&check(T0 + 70 * S, &b)).unwrap();
        assert_eq!(written, [stream_key("r", "a").unwrap()]);
        assert_eq!(live_ids(&list), ["b"]);
        let StreamRecord::Closed { version, reason } = record(&list, "a") else {
            panic!()
        };
        assert_eq!(reason, Some(EndReason::Reconciled));
        assert_eq!(
            (version.room_session_id, version.stream_seq, version.time_ms),
            (Id64(BIG), 1, T0)
        );
        assert_eq!(version.kind, StreamEventKind::Close);
    }

    #[test]
    fn after_a_reconciled_end_callbacks_still_converge() {
        let ended = || {
            let mut list = LiveList::new();
            list.apply(&create("a", BIG, 1, T0)).unwrap();
            list.reconcile(&check(T0 + 60 * S, &[])).unwrap();
            list.reconcile(&check(T0 + 70 * S, &[])).unwrap();
            assert!(list.streams().is_empty());
            list
        };
        // A retry of the create that was live: no newer than the tombstone.
        let mut list = ended();
        assert!(list.apply(&create("a", BIG, 1, T0)).unwrap().is_empty());
        // The real close, late: it ranks above, and the list shows the same.
        list.apply(&close("a", BIG, 2, T0 + 5 * S)).unwrap();
        let StreamRecord::Closed { version, reason } = record(&list, "a") else {
            panic!()
        };
        assert_eq!((reason, version.stream_seq), (None, 2));
        assert!(list.streams().is_empty());
        // A new session's create comes in, even one created before the checks were asked.
        for mut list in [list, ended()] {
            list.apply(&create("a", BIG + 1, 1, T0 + 30 * S)).unwrap();
            assert_eq!(live_ids(&list), ["a"]);
            // And the old session's late close does not end it.
            list.apply(&close("a", BIG, 2, T0 + 5 * S)).unwrap();
            assert_eq!(live_ids(&list), ["a"]);
        }
    }

    #[test]
    fn a_stream_created_after_the_check_was_asked_is_never_ended() {
        let mut list = LiveList::new();
        // Created a moment before the first check was asked, applied while it was out.
        list.apply(&create("a", 1, 1, T0 - 2 * S)).unwrap();
        assert!(list.reconcile(&check(T0, &[])).unwrap().is_empty());
        assert!(list.absences().is_empty(), "too young to be counted absent");
        assert!(list.reconcile(&check(T0 + 11 * S, &[])).unwrap().is_empty());
        assert_eq!(live_ids(&list), ["a"], "absent once only, since T0 + 11 s");
        assert_eq!(list.absences().len(), 1);
        list.reconcile(&check(T0 + 22 * S, &[])).unwrap();
        assert!(list.streams().is_empty());
    }

    #[test]
    fn the_absence_is_of_one_record_a_newer_one_starts_over() {
        let mut list = LiveList::new();
        list.apply(&create("a", 1, 1, T0)).unwrap();
        list.reconcile(&check(T0 + 60 * S, &[])).unwrap();
        // Re-published in between (a newer record), then absent again.
        list.apply(&create("a", 1, 3, T0 + 20 * S)).unwrap();
        assert!(list.reconcile(&check(T0 + 75 * S, &[])).unwrap().is_empty());
        assert_eq!(live_ids(&list), ["a"]);
        list.reconcile(&check(T0 + 85 * S, &[])).unwrap();
        assert!(list.streams().is_empty());
        // Listed again in between: the absence is forgotten.
        let mut list = LiveList::new();
        list.apply(&create("a", 1, 1, T0)).unwrap();
        list.reconcile(&check(T0 + 60 * S, &[])).unwrap();
        list.reconcile(&check(T0 + 70 * S, &[listed("a", T0)]))
            .unwrap();
        assert!(list.absences().is_empty());
        list.reconcile(&check(T0 + 80 * S, &[])).unwrap();
        assert_eq!(live_ids(&list), ["a"]);
    }

    #[test]
    fn a_stream_whose_create_was_lost_is_listed_then_replaced_by_its_create() {
        let mut list = LiveList::new();
        let written = list
            .reconcile(&check(T0 + 30 * S, &[listed("a", T0)]))
            .unwrap();
        assert_eq!(written, [stream_key("r", "a").unwrap()]);
        let shown = list.streams()[0].clone();
        assert_eq!(shown.source, Some(Source::ZegoApi));
        assert_eq!(shown.user_name.as_deref(), Some("名字"));
        assert_eq!(
            shown.stream_number_id.as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!((shown.room_session_id, shown.create_time_ms), (Id64(0), T0));
        // The same answer again changes nothing.
        assert!(list
            .reconcile(&check(T0 + 40 * S, &[listed("a", T0)]))
            .unwrap()
            .is_empty());
        // Its create comes, with ZEGO's time or a little earlier: the real record wins.
        for (session, t) in [(BIG, T0), (BIG, T0 - 999), (0, T0 - 999)] {
            let mut copy = list.clone();
            copy.apply(&create("a", session, 1, t)).unwrap();
            let s = copy.streams()[0].clone();
            assert_eq!((s.source, s.rtmp_url.len()), (None, 1), "{session} {t}");
        }
        // Or its close comes (its create lost for good): ended.
        list.apply(&close("a", BIG, 2, T0 + 50 * S)).unwrap();
        assert!(list.streams().is_empty());
    }

    #[test]
    fn a_close_at_or_after_the_creation_covers_the_stream_a_check_lists() {
        let mut list = LiveList::new();
        list.apply(&close("a", 1, 2, T0)).unwrap();
        // ZEGO's list a moment late: the stream created before that close is not listed.
        assert!(list
            .reconcile(&check(T0 + S, &[listed("a", T0 - 5 * S)]))
            .unwrap()
            .is_empty());
        // A publish created after it is.
        assert_eq!(
            list.reconcile(&check(T0 + 30 * S, &[listed("a", T0 + 20 * S)]))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(live_ids(&list), ["a"]);
    }

    #[test]
    fn room_close_and_checks_agree_in_either_order() {
        let at = T0 + 30 * S;
        let shown = |order: &[bool]| {
            let mut list = LiveList::new();
            for &check_first in order {
                if check_first {
                    list.reconcile(&check(at, &[listed("a", T0)])).unwrap();
                } else {
                    list.apply(&room_close(7, T0 + 10 * S)).unwrap();
                }
            }
            live_ids(&list)
        };
        assert!(shown(&[true, false]).is_empty(), "the close ends it");
        assert!(
            shown(&[false, true]).is_empty(),
            "the check does not list it"
        );
        // A stream created after the close is not the closed session's.
        let mut list = LiveList::new();
        list.apply(&room_close(7, T0 + 10 * S)).unwrap();
        list.reconcile(&check(at, &[listed("b", T0 + 20 * S)]))
            .unwrap();
        assert_eq!(live_ids(&list), ["b"]);
        list.apply(&room_close(8, T0 + 15 * S)).unwrap();
        assert_eq!(live_ids(&list), ["b"], "an earlier close does not end it");
    }

    #[test]
    fn a_newer_publish_zego_lists_replaces_an_older_record_left_live() {
        let mut list = LiveList::new();
        list.apply(&create("a", 1, 1, T0)).unwrap();
        // Its close and the next session's create were lost.
        list.reconcile(&check(T0 + 90 * S, &[listed("a", T0 + 60 * S)]))
            .unwrap();
        let s = list.streams()[0].clone();
        assert_eq!(
            (s.source, s.create_time_ms),
            (Some(Source::ZegoApi), T0 + 60 * S)
        );
        // The same publish's record (created within the slack) is left as it is.
        let mut list = LiveList::new();
        list.apply(&create("a", 1, 1, T0)).unwrap();
        assert!(list
            .reconcile(&check(T0 + 90 * S, &[listed("a", T0 + 500)]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn thresholds_other_than_zegos_are_honoured() {
        let quick = Thresholds {
            min_gap_ms: S,
            min_age_ms: S,
        };
        let mut list = LiveList::new();
        list.apply(&create("a", 1, 1, T0)).unwrap();
        let records = list.clone();
        let first = decide_check(&check(T0 + S, &[]), &records, &Absences::new(), quick).unwrap();
        assert_eq!(first.absences.len(), 1);
        let second =
            decide_check(&check(T0 + 2 * S, &[]), &records, &first.absences, quick).unwrap();
        assert_eq!(second.ended.len(), 1);
        assert!(second.absences.is_empty());
    }

    #[test]
    fn a_listed_stream_named_twice_counts_once_with_its_latest_creation() {
        let mut list = LiveList::new();
        list.reconcile(&check(
            T0 + 30 * S,
            &[
                listed("a", T0),
                listed("a", T0 + 5 * S),
                listed("a", T0 + 2 * S),
            ],
        ))
        .unwrap();
        assert_eq!(list.streams()[0].create_time_ms, T0 + 5 * S);
        let long = "x".repeat(600);
        assert!(list
            .reconcile(&check(T0 + 40 * S, &[listed(&long, T0)]))
            .unwrap()
            .is_empty());
    }
}
