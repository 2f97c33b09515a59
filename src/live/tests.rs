//! The rules' scenarios, driven through [`LiveList`], and the records' JSON.

use super::*;
use crate::event::Callback;
use crate::field::{Codec, Id64};
use std::cmp::Ordering;

const BIG: u64 = 858012925204410401; // above 2^53

fn cb(json: String) -> Callback<'static> {
    crate::parse(json.as_bytes(), None).unwrap().into_owned()
}

fn envelope(event: &str) -> String {
    format!(r#""event":"{event}","appid":"1","timestamp":"1","nonce":"n","signature":"s""#)
}

fn create(room: &str, session: u64, stream: &str, seq: u64, t: u64) -> Callback<'static> {
    cb(format!(
        r#"{{{},"room_id":"{room}","room_session_id":"{session}","stream_id":"{stream}",
            "stream_seq":"{seq}","create_time_ms":"{t}","stream_attr":"{{\"cid\":3}}",
            "rtmp_url":["rtmp://x/{stream}"]}}"#,
        envelope("stream_create")
    ))
}

fn recreate(room: &str, session: u64, stream: &str, seq: u64, t: u64) -> Callback<'static> {
    cb(format!(
        r#"{{{},"room_id":"{room}","room_session_id":"{session}","stream_id":"{stream}",
            "stream_seq":"{seq}","create_time_ms":"{t}","recreate":"1"}}"#,
        envelope("stream_create")
    ))
}

fn close(room: &str, session: u64, stream: &str, seq: u64, t: u64) -> Callback<'static> {
    cb(format!(
        r#"{{{},"room_id":"{room}","room_session_id":"{session}","stream_id":"{stream}",
            "stream_seq":"{seq}","destroy_timemillis":"{t}"}}"#,
        envelope("stream_close")
    ))
}

fn room_close(room: &str, session: u64, t: u64) -> Callback<'static> {
    cb(format!(
        r#"{{"event":"room_close","appid":1,"timestamp":1,"nonce":"n","signature":"s",
            "room_id":"{room}","room_session_id":{session},"close_reason":0,
            "room_close_time":"{t}"}}"#
    ))
}

fn mix_start(task: &str, seq: u64) -> Callback<'static> {
    cb(format!(
        r#"{{{},"task_id":"{task}","seq":"{seq}","mix_url":"rtmp://m/{seq}"}}"#,
        envelope("mix_start")
    ))
}

fn mix_stop(task: &str, seq: u64) -> Callback<'static> {
    cb(format!(
        r#"{{{},"task_id":"{task}","seq":"{seq}"}}"#,
        envelope("mix_stop")
    ))
}

fn run(cbs: &[&Callback]) -> LiveList {
    let mut list = LiveList::new();
    for cb in cbs {
        list.apply(cb).unwrap();
    }
    list
}

fn live(list: &LiveList) -> Vec<(String, String, u64, u64)> {
    list.streams()
        .into_iter()
        .map(|s| {
            (
                s.room_id.clone(),
                s.stream_id.clone(),
                s.room_session_id.0,
                s.stream_seq,
            )
        })
        .collect()
}

fn stream_record<'a>(list: &'a LiveList, room: &str, stream: &str) -> &'a StreamRecord {
    match list.get(&stream_key(room, stream).unwrap()) {
        Some(Stored::Stream(s)) => s,
        other => panic!("{other:?}"),
    }
}

#[test]
fn create_makes_a_stream_live_with_its_summary() {
    let list = run(&[&create("r", BIG, "a", 1, 100)]);
    let streams = list.streams();
    assert_eq!(streams.len(), 1);
    let s = streams[0];
    assert_eq!((s.room_session_id, s.codec), (Id64(BIG), Some(Codec::H265)));
    assert_eq!(s.rtmp_url, ["rtmp://x/a"]);
}

#[test]
fn close_before_create_leaves_a_tombstone_and_the_late_create_is_ignored() {
    let (c, x) = (create("r", 1, "a", 1, 100), close("r", 1, "a", 2, 200));
    let Callback::StreamClose(ev) = &x else {
        unreachable!()
    };
    let write = apply_stream_close(None, ev);
    assert_eq!(
        write,
        Write::Put {
            record: StreamRecord::Closed {
                version: Version::of_close(ev),
                reason: None,
            },
            ttl_seconds: Some(TOMBSTONE_TTL_SECONDS),
        }
    );
    let Callback::StreamCreate(cev) = &c else {
        unreachable!()
    };
    assert!(apply_stream_create(write.record(), None, cev).is_ignore());
    assert_eq!(run(&[&x, &c]), run(&[&c, &x]));
    assert!(run(&[&x, &c]).streams().is_empty());
}

#[test]
fn late_create_of_a_closed_session_is_not_live() {
    let (rc, c) = (room_close("r", 1, 300), create("r", 1, "a", 1, 100));
    let list = run(&[&rc, &c]);
    assert!(list.streams().is_empty());
    assert!(stream_record(&list, "r", "a").ended_by_room_close());
    // And in-order delivery leaves the very same records.
    assert_eq!(list, run(&[&c, &rc]));
}

#[test]
fn late_create_of_a_closed_session_keeps_an_older_session_out() {
    // Session 1 (older) left stream "a" without a close; session 2 created it again and
    // was closed. Whatever the order, "a" is not live.
    let old = create("r", 1, "a", 5, 100);
    let new = create("r", 2, "a", 1, 500);
    let rc = room_close("r", 2, 900);
    let in_order = run(&[&old, &new, &rc]);
    assert!(in_order.streams().is_empty());
    let reversed = run(&[&rc, &new, &old]);
    assert!(reversed.streams().is_empty(), "{:?}", reversed.streams());
    assert_eq!(reversed, in_order);
    assert_eq!(run(&[&new, &rc, &old]), in_order);
}

#[test]
fn newer_create_replaces_and_stale_create_is_ignored() {
    let (c1, c2) = (create("r", 1, "a", 1, 100), create("r", 1, "a", 3, 300));
    assert_eq!(live(&run(&[&c1, &c2])), [("r".into(), "a".into(), 1, 3)]);
    assert_eq!(live(&run(&[&c2, &c1])), [("r".into(), "a".into(), 1, 3)]);
}

#[test]
fn close_with_an_older_seq_does_not_end_a_newer_create() {
    let (x, c) = (close("r", 1, "a", 2, 200), create("r", 1, "a", 3, 300));
    assert_eq!(live(&run(&[&c, &x])).len(), 1);
    assert_eq!(live(&run(&[&x, &c])).len(), 1);
}

#[test]
fn equal_seq_close_ranks_above_create() {
    let (c, x) = (create("r", 1, "a", 4, 100), close("r", 1, "a", 4, 100));
    assert!(run(&[&c, &x]).streams().is_empty());
    assert!(run(&[&x, &c]).streams().is_empty());
}

#[test]
fn seq_restart_in_a_new_session_is_newer() {
    // Session 7 reached seq 9; session 3 (a smaller id, but later) restarts at 1.
    let old_create = create("r", 7, "a", 9, 100);
    let old_close = close("r", 7, "a", 10, 150);
    let new_create = create("r", 3, "a", 1, 200);
    for order in [
        [&old_create, &old_close, &new_create],
        [&new_create, &old_close, &old_create],
        [&old_close, &new_create, &old_create],
    ] {
        assert_eq!(live(&run(&order)), [("r".into(), "a".into(), 3, 1)]);
    }
}

#[test]
fn equal_time_across_sessions_is_broken_by_session_id() {
    let a = create("r", 1, "a", 9, 100);
    let b = create("r", 2, "a", 1, 100);
    assert_eq!(live(&run(&[&a, &b]))[0].2, 2);
    assert_eq!(live(&run(&[&b, &a]))[0].2, 2);
    let va = Version::of_create(match &a {
        Callback::StreamCreate(e) => e,
        _ => unreachable!(),
    });
    assert_eq!(va.compare(&va), Ordering::Equal);
}

#[test]
fn room_close_of_an_old_session_does_not_touch_the_new_session() {
    let new = create("r", 2, "a", 1, 500);
    let old_rc = room_close("r", 1, 400);
    for order in [[&new, &old_rc], [&old_rc, &new]] {
        assert_eq!(live(&run(&order)), [("r".into(), "a".into(), 2, 1)]);
    }
}

#[test]
fn room_close_ends_only_its_room_and_session() {
    let list = run(&[
        &create("r", 1, "a", 1, 100),
        &create("r", 1, "b", 2, 110),
        &create("r:x", 1, "a", 1, 100),
        &create("rr", 1, "a", 1, 100),
        &room_close("r", 1, 300),
    ]);
    let rooms: Vec<_> = list.streams().iter().map(|s| s.room_id.clone()).collect();
    assert_eq!(rooms, ["r:x", "rr"]);
    assert!(stream_record(&list, "r", "b").ended_by_room_close());
}

#[test]
fn close_after_room_close_replaces_the_room_close_tombstone() {
    let c = create("r", 1, "a", 1, 100);
    let x = close("r", 1, "a", 2, 200);
    let rc = room_close("r", 1, 300);
    let in_order = run(&[&c, &x, &rc]);
    for order in [[&c, &rc, &x], [&rc, &x, &c], [&x, &rc, &c], [&rc, &c, &x]] {
        assert_eq!(run(&order), in_order);
    }
    assert!(!stream_record(&in_order, "r", "a").ended_by_room_close());
}

#[test]
fn duplicate_is_idempotent() {
    let all = [
        create("r", 1, "a", 1, 100),
        recreate("r", 1, "a", 2, 150),
        close("r", 1, "a", 3, 200),
        room_close("r", 1, 300),
        mix_start("t", 1),
        mix_stop("t", 2),
    ];
    let mut once = LiveList::new();
    let mut twice = LiveList::new();
    for cb in &all {
        assert!(!once.apply(cb).unwrap().is_empty() || cb.event() == "room_close");
        twice.apply(cb).unwrap();
        assert_eq!(twice.apply(cb).unwrap(), Vec::<String>::new(), "{cb:?}");
    }
    assert_eq!(once, twice);
}

#[test]
fn recreate_refreshes_when_newer_and_is_ignored_when_stale() {
    let c = create("r", 1, "a", 1, 100);
    let re = recreate("r", 1, "a", 2, 100);
    let list = run(&[&c, &re]);
    assert_eq!(list.streams()[0].stream_seq, 2);
    assert!(list.streams()[0].recreate);
    // A recreate older than the close that followed it stays ignored.
    let x = close("r", 1, "a", 3, 200);
    assert!(run(&[&c, &x, &re]).streams().is_empty());
}

#[test]
fn session_record_of_another_session_is_disregarded() {
    let Callback::StreamCreate(ev) = create("r", 2, "a", 1, 100) else {
        unreachable!()
    };
    let Callback::RoomClose(rc) = room_close("r", 1, 50) else {
        unreachable!()
    };
    let other = session_tombstone(&rc);
    assert!(apply_stream_create(None, Some(&other), &ev)
        .record()
        .is_some_and(|r| r.live().is_some()));
}

#[test]
fn room_close_writes_its_session_once() {
    let Callback::RoomClose(rc) = room_close("r", BIG, 50) else {
        unreachable!()
    };
    let w = apply_room_close(None, &rc);
    assert_eq!(w.record(), Some(&session_tombstone(&rc)));
    assert!(apply_room_close(w.record(), &rc).is_ignore());
}

#[test]
fn mix_order() {
    let (s1, x2, s3) = (mix_start("t", 1), mix_stop("t", 2), mix_start("t", 3));
    assert!(run(&[&x2, &s1]).mixes().is_empty());
    assert!(run(&[&s1, &x2]).mixes().is_empty());
    for order in [[&s1, &x2, &s3], [&s3, &x2, &s1], [&x2, &s3, &s1]] {
        let list = run(&order);
        assert_eq!(list.mixes().len(), 1);
        assert_eq!(list.mixes()[0].seq, 3);
    }
    let (s, x) = (mix_start("t", 5), mix_stop("t", 5));
    assert!(run(&[&s, &x]).mixes().is_empty());
    assert!(run(&[&x, &s]).mixes().is_empty());
}

#[test]
fn mix_stop_leaves_a_tombstone() {
    let Callback::MixStop(ev) = mix_stop("t", 2) else {
        unreachable!()
    };
    assert_eq!(
        apply_mix_stop(None, &ev),
        Write::Put {
            record: MixRecord::Stopped {
                version: MixVersion {
                    seq: 2,
                    kind: MixEventKind::Stop
                },
                task_id: "t".into()
            },
            ttl_seconds: Some(TOMBSTONE_TTL_SECONDS),
        }
    );
}

#[test]
fn key_escaping() {
    assert_eq!(stream_key("room", "a").unwrap(), "s:room:a");
    assert_eq!(stream_key("a:b", "c").unwrap(), "s:a%3Ab:c");
    assert_eq!(stream_key("a", "b:c").unwrap(), "s:a:b%3Ac");
    assert_ne!(
        stream_key("a:b", "c").unwrap(),
        stream_key("a", "b:c").unwrap()
    );
    // A literal "%3A" is not confused with an escaped ":".
    assert_eq!(stream_key("a%3Ab", "c").unwrap(), "s:a%253Ab:c");
    assert_eq!(stream_key("é\n", "").unwrap(), "s:é%0A:");
    assert_eq!(
        session_key("r", Id64(BIG)).unwrap(),
        "r:r:858012925204410401"
    );
    assert_eq!(mix_key("1:t").unwrap(), "m:1%3At");
    // A room's prefix holds exactly that room's streams.
    let prefix = stream_room_prefix("a").unwrap();
    assert_eq!(prefix, "s:a:");
    for other in [
        stream_key("a:b", "c"),
        stream_key("ab", "c"),
        stream_key("a%", "c"),
    ] {
        assert!(!other.unwrap().starts_with(&prefix));
    }
    assert!(stream_key("a", "x:y").unwrap().starts_with(&prefix));
}

#[test]
fn key_too_long_is_an_error_naming_the_field() {
    let long = "x".repeat(600);
    assert_eq!(stream_key(&long, "a").unwrap_err().field(), Some("room_id"));
    assert_eq!(
        stream_key("r", &long).unwrap_err().field(),
        Some("stream_id")
    );
    assert_eq!(mix_key(&long).unwrap_err().field(), Some("task_id"));
    assert_eq!(
        session_key(&long, Id64(1)).unwrap_err().field(),
        Some("room_id")
    );
    // Escaping counts: 200 colons are 600 bytes once encoded.
    assert!(mix_key(&":".repeat(200)).is_err());
    assert_eq!(mix_key(&"x".repeat(510)).unwrap().len(), 512);
    assert!(mix_key(&"x".repeat(511)).is_err());
    // And the model refuses the callback without writing anything.
    let mut list = LiveList::new();
    assert!(list.apply(&create("r", 1, &long, 1, 1)).is_err());
    assert!(list.records().is_empty());
}

#[test]
fn records_round_trip_through_json_without_losing_a_digit() {
    let list = run(&[
        &create("r", BIG, "a", 1, 100),
        &close("r", BIG, "b", 2, 100),
        &room_close("q", u64::MAX, 5),
        &mix_start("t", 1),
        &mix_stop("u", 2),
    ]);
    let json = serde_json::to_string(&list).unwrap();
    assert!(
        json.contains(r#""room_session_id":"858012925204410401""#),
        "{json}"
    );
    assert!(
        json.contains(r#""codec":{"cid":3,"name":"H.265"}"#),
        "{json}"
    );
    let back: LiveList = serde_json::from_str(&json).unwrap();
    assert_eq!(back, list);
}

#[test]
fn id64_reads_a_string_or_an_integer_exactly() {
    let read = |json: &str| {
        serde_json::from_str::<SessionRecord>(&format!(
            r#"{{"room_id":"r","room_session_id":{json},"room_close_time":1}}"#
        ))
    };
    assert_eq!(
        read(r#""858012925204410401""#).unwrap().room_session_id,
        Id64(BIG)
    );
    assert_eq!(
        read("858012925204410401").unwrap().room_session_id,
        Id64(BIG)
    );
    assert_eq!(
        read("18446744073709551615").unwrap().room_session_id,
        Id64(u64::MAX)
    );
    for bad in [
        r#""""#,
        r#""-1""#,
        r#"" 1""#,
        r#""1.0""#,
        r#""abc""#,
        "-1",
        "1.0",
        "1e3",
        "18446744073709551616",
        r#""18446744073709551616""#,
        "null",
        "true",
    ] {
        assert!(read(bad).is_err(), "{bad}");
    }
}

#[test]
fn other_events_change_nothing() {
    let mut list = LiveList::new();
    let login = cb(format!(
        r#"{{{},"room_id":"r","room_seq":"1","user_account":"u"}}"#,
        envelope("room_login")
    ));
    assert!(list.apply(&login).unwrap().is_empty());
    assert!(list.records().is_empty());
}
