//! Delivery order and duplicates do not change the live list.
//!
//! Histories are generated as they happen at ZEGO: several rooms, each with sessions that
//! follow each other in time (a new session restarts `stream_seq` at a small number), stream
//! ids reused across sessions and rooms, creates, closes and re-publishes (`recreate = 1`),
//! a `room_close` ending some sessions, and mix tasks started and stopped. Each callback is
//! built as a JSON body and parsed like a received one. The property: delivering a history
//! in any order, each callback one or more times, leaves exactly the records that in-order
//! delivery leaves, and in-order delivery shows the streams and mixes the history says are
//! live.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{json, Value};
use zego_callback::{parse, Callback, LiveList};

const ROOMS: &[&str] = &["room", "room:1", "room%3A1", "ro"];
const STREAMS: &[&str] = &["a", "b", "a:b"];
const TASKS: &[&str] = &["1_t", "1:t"];

#[derive(Debug, Clone, Copy)]
enum Op {
    Create,
    Close,
    Recreate,
}

#[derive(Debug, Clone)]
struct SessionPlan {
    id: u64,
    first_seq: u64,
    /// (what, which stream, seq increment, time increment)
    ops: Vec<(Op, usize, u64, u64)>,
    room_close: bool,
    gap: u64,
}

#[derive(Debug, Clone)]
struct RoomPlan {
    room: &'static str,
    sessions: Vec<SessionPlan>,
}

#[derive(Debug, Clone)]
struct MixPlan {
    task: &'static str,
    /// (start or stop, seq increment)
    ops: Vec<(bool, u64)>,
}

/// One callback of a history, without its envelope (added per delivery).
#[derive(Debug, Clone)]
enum Ev {
    Create {
        room: &'static str,
        session: u64,
        stream: &'static str,
        seq: u64,
        time: u64,
        recreate: bool,
    },
    Close {
        room: &'static str,
        session: u64,
        stream: &'static str,
        seq: u64,
        time: u64,
    },
    RoomClose {
        room: &'static str,
        session: u64,
        time: u64,
    },
    MixStart {
        task: &'static str,
        seq: u64,
    },
    MixStop {
        task: &'static str,
        seq: u64,
    },
}

/// (room, stream, room_session_id, stream_seq) of live streams.
type LiveStreams = BTreeSet<(String, String, u64, u64)>;
/// (task, seq) of running mixes.
type LiveMixes = BTreeSet<(String, u64)>;

#[derive(Debug, Clone)]
struct History {
    events: Vec<Ev>,
    /// When each event happened at ZEGO (a re-publish may carry an earlier create time);
    /// 0 for mix events, which checks do not concern.
    at: Vec<u64>,
    /// Every stream live at the end.
    live_streams: LiveStreams,
    /// Every mix running at the end.
    live_mixes: LiveMixes,
}

fn session_id() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..6,
        (1u64 << 53)..(1u64 << 53) + 4,
        Just(858012925204410401u64),
        Just(u64::MAX),
    ]
}

fn op() -> impl Strategy<Value = (Op, usize, u64, u64)> {
    (
        prop_oneof![
            3 => Just(Op::Create),
            3 => Just(Op::Close),
            1 => Just(Op::Recreate),
        ],
        0..STREAMS.len(),
        1u64..=2,
        0u64..=3,
    )
}

fn room_plan(room: &'static str) -> impl Strategy<Value = RoomPlan> {
    prop::collection::btree_set(session_id(), 1..=3)
        .prop_map(|ids| ids.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
        .prop_flat_map(|ids| {
            let n = ids.len();
            (
                Just(ids),
                prop::collection::vec(
                    (
                        0u64..=3,
                        prop::collection::vec(op(), 0..8),
                        prop::bool::weighted(0.6),
                        0u64..=4,
                    ),
                    n,
                ),
            )
        })
        .prop_map(move |(ids, parts)| RoomPlan {
            room,
            sessions: ids
                .into_iter()
                .zip(parts)
                .map(|(id, (first_seq, ops, room_close, gap))| SessionPlan {
                    id,
                    first_seq,
                    ops,
                    room_close,
                    gap,
                })
                .collect(),
        })
}

fn mix_plan(task: &'static str) -> impl Strategy<Value = MixPlan> {
    prop::collection::vec((any::<bool>(), 1u64..=3), 0..6)
        .prop_map(move |ops| MixPlan { task, ops })
}

fn build(rooms: Vec<RoomPlan>, mixes: Vec<MixPlan>) -> History {
    let mut events = Vec::new();
    let mut at = Vec::new();
    let mut live_streams = BTreeSet::new();
    let mut live_mixes = BTreeSet::new();
    for plan in rooms {
        // The newest callback of each stream, in true (generation) order.
        let mut last: BTreeMap<&str, (bool, u64, u64)> = BTreeMap::new(); // live?, session, seq
        let mut time = 1_000u64;
        for s in &plan.sessions {
            time += 1 + s.gap; // sessions of a room are strictly sequential in time
            let mut seq = s.first_seq;
            let mut created_at: BTreeMap<usize, u64> = BTreeMap::new();
            for &(what, i, dseq, dt) in &s.ops {
                seq += dseq;
                time += dt;
                let stream = STREAMS[i];
                match what {
                    Op::Create | Op::Recreate => {
                        let recreate = matches!(what, Op::Recreate);
                        // A re-publish may carry the stream's first create time: within
                        // a session, stream_seq alone orders.
                        let t = if recreate {
                            *created_at.entry(i).or_insert(time)
                        } else {
                            created_at.insert(i, time);
                            time
                        };
                        events.push(Ev::Create {
                            room: plan.room,
                            session: s.id,
                            stream,
                            seq,
                            time: t,
                            recreate,
                        });
                        at.push(time);
                        last.insert(stream, (true, s.id, seq));
                    }
                    Op::Close => {
                        events.push(Ev::Close {
                            room: plan.room,
                            session: s.id,
                            stream,
                            seq,
                            time,
                        });
                        at.push(time);
                        last.insert(stream, (false, s.id, seq));
                    }
                }
            }
            if s.room_close {
                time += 1;
                events.push(Ev::RoomClose {
                    room: plan.room,
                    session: s.id,
                    time,
                });
                at.push(time);
                for entry in last.values_mut() {
                    if entry.1 == s.id {
                        entry.0 = false;
                    }
                }
            }
        }
        for (stream, (live, session, seq)) in last {
            if live {
                live_streams.insert((plan.room.to_owned(), stream.to_owned(), session, seq));
            }
        }
    }
    for plan in mixes {
        let mut seq = 0;
        let mut last = None;
        for (start, dseq) in plan.ops {
            seq += dseq;
            at.push(0);
            events.push(if start {
                Ev::MixStart {
                    task: plan.task,
                    seq,
                }
            } else {
                Ev::MixStop {
                    task: plan.task,
                    seq,
                }
            });
            last = Some((start, seq));
        }
        if let Some((true, seq)) = last {
            live_mixes.insert((plan.task.to_owned(), seq));
        }
    }
    History {
        events,
        at,
        live_streams,
        live_mixes,
    }
}

fn history() -> impl Strategy<Value = History> {
    let rooms = prop::sample::subsequence(ROOMS.to_vec(), 1..=3)
        .prop_flat_map(|rooms| rooms.into_iter().map(room_plan).collect::<Vec<_>>());
    let mixes = prop::sample::subsequence(TASKS.to_vec(), 0..=2)
        .prop_flat_map(|tasks| tasks.into_iter().map(mix_plan).collect::<Vec<_>>());
    (rooms, mixes).prop_map(|(rooms, mixes)| build(rooms, mixes))
}

/// A history and a delivery of it: every index once or more, shuffled.
fn delivery() -> impl Strategy<Value = (History, Vec<usize>)> {
    history().prop_flat_map(|h| {
        let n = h.events.len();
        (Just(h), prop::collection::vec(1usize..=3, n)).prop_flat_map(|(h, repeats)| {
            let order: Vec<usize> = repeats
                .iter()
                .enumerate()
                .flat_map(|(i, &r)| std::iter::repeat_n(i, r))
                .collect();
            (Just(h), Just(order).prop_shuffle())
        })
    })
}

/// The body ZEGO would send; `try_no` varies the envelope as a retry would.
fn body(ev: &Ev, try_no: usize) -> String {
    let envelope = |event: &str| {
        json!({
            "event": event,
            "appid": "1",
            "timestamp": (1_700_000_000 + try_no).to_string(),
            "nonce": format!("n{try_no}"),
            "signature": "0123456789abcdef0123456789abcdef01234567",
        })
    };
    let mut v: Value = match ev {
        Ev::Create { .. } => envelope("stream_create"),
        Ev::Close { .. } => envelope("stream_close"),
        Ev::RoomClose { .. } => json!({
            "event": "room_close",
            "appid": 1,
            "timestamp": 1_700_000_000 + try_no,
            "nonce": format!("n{try_no}"),
            "signature": "0123456789abcdef0123456789abcdef01234567",
        }),
        Ev::MixStart { .. } => envelope("mix_start"),
        Ev::MixStop { .. } => envelope("mix_stop"),
    };
    let fields = match ev {
        Ev::Create {
            room,
            session,
            stream,
            seq,
            time,
            recreate,
        } => json!({
            "room_id": room,
            "room_session_id": session.to_string(),
            "stream_id": stream,
            "stream_sid": format!("s-{session}-{seq}"),
            "stream_alias": stream,
            "stream_attr": format!("{{\"cid\":{}}}", seq % 4),
            "stream_seq": format!("0{seq}"),
            "create_time": (time / 1000).to_string(),
            "create_time_ms": time.to_string(),
            "recreate": if *recreate { "1" } else { "0" },
            "user_id": format!("u{seq}"),
            "rtmp_url": [format!("rtmp://cdn/{stream}/{seq}")],
            "hls_url": [],
        }),
        Ev::Close {
            room,
            session,
            stream,
            seq,
            time,
        } => json!({
            "room_id": room,
            "room_session_id": session.to_string(),
            "stream_id": stream,
            "stream_seq": seq.to_string(),
            "type": "0",
            "destroy_timemillis": time.to_string(),
        }),
        Ev::RoomClose {
            room,
            session,
            time,
        } => json!({
            "room_id": room,
            "room_session_id": session,
            "close_reason": 0,
            "room_close_time": time.to_string(),
        }),
        Ev::MixStart { task, seq } => json!({
            "task_id": task,
            "seq": seq.to_string(),
            "mix_url": format!("rtmp://mix/{task}/{seq}"),
            "hls_urls": [format!("https://mix/{seq}.m3u8")],
        }),
        Ev::MixStop { task, seq } => json!({ "task_id": task, "seq": seq.to_string() }),
    };
    if let (Value::Object(env), Value::Object(fields)) = (&mut v, fields) {
        env.extend(fields);
    }
    v.to_string()
}

fn callback(ev: &Ev, try_no: usize) -> Callback<'static> {
    let text = body(ev, try_no);
    parse(text.as_bytes(), None)
        .unwrap_or_else(|e| panic!("{e}: {text}"))
        .into_owned()
}

fn replay<'a>(events: impl IntoIterator<Item = (usize, &'a Ev)>) -> LiveList {
    let mut list = LiveList::new();
    for (try_no, ev) in events {
        list.apply(&callback(ev, try_no)).expect("keys fit");
    }
    list
}

fn shown(list: &LiveList) -> (LiveStreams, LiveMixes) {
    (
        list.streams()
            .iter()
            .map(|s| {
                (
                    s.room_id.clone(),
                    s.stream_id.clone(),
                    s.room_session_id.0,
                    s.stream_seq,
                )
            })
            .collect(),
        list.mixes()
            .iter()
            .map(|m| (m.task_id.clone(), m.seq))
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_order_and_any_duplicates_leave_the_in_order_list((h, order) in delivery()) {
        let in_order = replay(h.events.iter().enumerate());
        let (streams, mixes) = shown(&in_order);
        prop_assert_eq!(&streams, &h.live_streams);
        prop_assert_eq!(&mixes, &h.live_mixes);

        let shuffled = replay(order.iter().enumerate().map(|(k, &i)| (k, &h.events[i])));
        prop_assert_eq!(shown(&shuffled), (streams, mixes));
        prop_assert_eq!(&shuffled, &in_order);

        // What the inspector shows survives a JSON round trip.
        let json = serde_json::to_string(&shuffled).unwrap();
        let back: LiveList = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, shuffled);
    }
}

/// Where the histories the npm module's `LiveList` is held to are kept.
const JS_FIXTURE: &str = "tests/fixtures/live/histories.json";

/// A few generated histories, their deliveries (shuffled, duplicated) and the records Rust's
/// `LiveList` keeps after them, as tests/node/live.test.mjs replays them through the JS
/// `LiveList` (a copy of the driver's steps, in JS: this is what holds it to the rules). The
/// file is generated; this test fails when it is not what the rules give, and
/// `ZEGO_BLESS=1 cargo test --test live_order` writes it again.
#[test]
fn the_js_live_list_fixture_is_what_the_rules_give() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let cases: Vec<String> = (0..6)
        .map(|_| {
            let (h, order) = delivery().new_tree(&mut runner).unwrap().current();
            let bodies: Vec<String> = order
                .iter()
                .enumerate()
                .map(|(try_no, &i)| body(&h.events[i], try_no))
                .collect();
            let delivered = replay(order.iter().enumerate().map(|(k, &i)| (k, &h.events[i])));
            json!({ "deliveries": bodies, "records": delivered.records() }).to_string()
        })
        .collect();
    // One case a line.
    let text = format!("{{\"cases\":[\n{}\n]}}\n", cases.join(",\n"));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(JS_FIXTURE);
    if std::env::var_os("ZEGO_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{JS_FIXTURE} is not what the rules give: run ZEGO_BLESS=1 cargo test --test live_order"
    );
}

// Checks of ZEGO's server API interleaved with the callbacks.
//
// A history is scaled so that one of its time units is a second (the checks' thresholds are
// ZEGO's 10 s). Every callback is delivered, once or more, each copy some time (up to two
// minutes) after it happened, so any order is possible; each room is checked now and then,
// as its object does: asked at a time, answered with what was live at ZEGO then (or a moment
// later), applied at once, the next check asked after the last was applied. Everything is
// applied in the order of the times it arrives.

use zego_callback::live::{self, reconcile, EndReason, ListedStream, Stored, StreamRecord};

/// Milliseconds in one time unit of a generated history.
const UNIT_MS: u64 = 1_000;
/// The longest a callback takes to arrive, in ms.
const MAX_DELAY_MS: u64 = 120_000;

fn scaled(mut h: History) -> History {
    for ev in &mut h.events {
        if let Ev::Create { time, .. } | Ev::Close { time, .. } | Ev::RoomClose { time, .. } = ev {
            *time *= UNIT_MS;
        }
    }
    for at in &mut h.at {
        *at *= UNIT_MS;
    }
    h
}

fn room_of(ev: &Ev) -> Option<&'static str> {
    match ev {
        Ev::Create { room, .. } | Ev::Close { room, .. } | Ev::RoomClose { room, .. } => Some(room),
        _ => None,
    }
}

/// What ZEGO lists live in `room` at time `t`: each stream's create time and `stream_seq`,
/// from the events that happened by then (the same bookkeeping as `build`).
fn truth_at(h: &History, room: &str, t: u64) -> BTreeMap<&'static str, (u64, u64)> {
    // stream -> (live?, session, seq, create time)
    let mut last: BTreeMap<&'static str, (bool, u64, u64, u64)> = BTreeMap::new();
    for (ev, &at) in h.events.iter().zip(&h.at) {
        if at > t || room_of(ev) != Some(room) {
            continue;
        }
        match *ev {
            Ev::Create {
                session,
                stream,
                seq,
                time,
                ..
            } => {
                last.insert(stream, (true, session, seq, time));
            }
            Ev::Close {
                session,
                stream,
                seq,
                ..
            } => {
                last.insert(stream, (false, session, seq, 0));
            }
            Ev::RoomClose { session, .. } => {
                for entry in last.values_mut() {
                    if entry.1 == session {
                        entry.0 = false;
                    }
                }
            }
            _ => {}
        }
    }
    last.into_iter()
        .filter(|(_, (live, ..))| *live)
        .map(|(stream, (_, _, seq, time))| (stream, (time, seq)))
        .collect()
}

fn answer(h: &History, room: &'static str, asked: u64, seen_at: u64) -> live::Check {
    live::Check {
        room_id: room.to_owned(),
        asked_at: asked,
        streams: truth_at(h, room, seen_at)
            .into_iter()
            .map(|(stream, (time, seq))| ListedStream {
                stream_id: stream.to_owned(),
                user_id: Some(format!("u{seq}")),
                user_name: None,
                create_time_ms: time,
                stream_number_id: Some(format!("{}", u64::MAX - seq)),
            })
            .collect(),
    }
}

/// One thing arriving at the list.
#[derive(Debug, Clone)]
enum Arrival {
    /// A copy of the callback `events[i]`.
    Callback(usize),
    /// A check's answer.
    Check(live::Check),
}

/// (the first check's time after the room's first event, in ms from 20 s before it; each
/// check: (how late ZEGO's list is, in ms; the wait before the next check, in ms)).
type CheckPlan = (u64, Vec<(u64, u64)>);

fn check_plan() -> impl Strategy<Value = CheckPlan> {
    (
        0u64..=80_000,
        prop::collection::vec((0u64..=2_000, 0u64..=30_000), 0..=6),
    )
}

/// Everything that arrives, in order: the callbacks' copies and the checks, by arrival time.
fn arrivals(h: &History, delays: &[Vec<u64>], plans: &[CheckPlan]) -> Vec<Arrival> {
    let mut timed: Vec<(u64, Arrival)> = Vec::new();
    for (i, copies) in delays.iter().enumerate() {
        for d in copies {
            timed.push((h.at[i] + d, Arrival::Callback(i)));
        }
    }
    for (room, (start, checks)) in rooms_of(h).into_iter().zip(plans) {
        let first = h
            .events
            .iter()
            .zip(&h.at)
            .filter(|(ev, _)| room_of(ev) == Some(room))
            .map(|(_, &at)| at)
            .min()
            .unwrap_or(0);
        let mut asked = (first + start).saturating_sub(20_000);
        for &(lag, wait) in checks {
            let applied = asked + lag;
            timed.push((applied, Arrival::Check(answer(h, room, asked, applied))));
            asked = applied + wait;
        }
    }
    // Stable: at equal times, callbacks first, in history order.
    timed.sort_by_key(|(t, _)| *t);
    timed.into_iter().map(|(_, a)| a).collect()
}

fn rooms_of(h: &History) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = h.events.iter().filter_map(room_of).collect();
    set.into_iter().collect()
}

/// A history as ZEGO's own list sees it: a room's session ends with its `room_close` before
/// the next begins (the callbacks of `history()` may leave one out, and then keep its streams
/// live, as a list that lost it would; here the check's answer is the room's state at ZEGO).
fn zego_history() -> impl Strategy<Value = History> {
    let rooms = prop::sample::subsequence(ROOMS.to_vec(), 1..=3).prop_flat_map(|rooms| {
        rooms
            .into_iter()
            .map(|room| {
                room_plan(room).prop_map(|mut plan| {
                    let n = plan.sessions.len();
                    for s in plan.sessions.iter_mut().take(n.saturating_sub(1)) {
                        s.room_close = true;
                    }
                    plan
                })
            })
            .collect::<Vec<_>>()
    });
    let mixes = prop::sample::subsequence(TASKS.to_vec(), 0..=2)
        .prop_flat_map(|tasks| tasks.into_iter().map(mix_plan).collect::<Vec<_>>());
    (rooms, mixes).prop_map(|(rooms, mixes)| build(rooms, mixes))
}

/// A scaled history, the delays of each callback's copies, and each room's checks.
fn checked_delivery() -> impl Strategy<Value = (History, Vec<Vec<u64>>, Vec<CheckPlan>)> {
    zego_history().prop_map(scaled).prop_flat_map(|h| {
        let n = h.events.len();
        let rooms = rooms_of(&h).len();
        (
            Just(h),
            prop::collection::vec(prop::collection::vec(0..=MAX_DELAY_MS, 1..=3), n),
            prop::collection::vec(check_plan(), rooms),
        )
    })
}

/// Applies the arrivals; checks what every check wrote as it goes: nothing ZEGO listed is
/// ended, and nothing is ended that was created less than 10 s before the first of two
/// checks at least 10 s apart.
fn apply_all(list: &mut LiveList, h: &History, arrivals: &[Arrival]) -> Result<(), TestCaseError> {
    let limits = reconcile::Thresholds::ZEGO;
    for (try_no, arrival) in arrivals.iter().enumerate() {
        match arrival {
            Arrival::Callback(i) => {
                list.apply(&callback(&h.events[*i], try_no))
                    .expect("keys fit");
            }
            Arrival::Check(check) => {
                let written = list.reconcile(check).expect("keys fit");
                for key in written {
                    let Some(Stored::Stream(StreamRecord::Closed { version, reason })) =
                        list.get(&key)
                    else {
                        continue;
                    };
                    prop_assert_eq!(*reason, Some(EndReason::Reconciled));
                    prop_assert!(
                        version.time_ms + limits.min_age_ms + limits.min_gap_ms <= check.asked_at,
                        "ended a record created at {} by a check asked at {}",
                        version.time_ms,
                        check.asked_at
                    );
                    let listed = check.streams.iter().any(|s| {
                        live::stream_key(&check.room_id, &s.stream_id).ok() == Some(key.clone())
                    });
                    prop_assert!(!listed, "ended {key}, which ZEGO listed");
                }
            }
        }
    }
    Ok(())
}

fn live_records(list: &LiveList) -> BTreeMap<String, Stored> {
    list.records()
        .iter()
        .filter(|(_, r)| r.live_stream().is_some())
        .map(|(k, r)| (k.clone(), r.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every callback arrives (any order, duplicates), and checks come in between anywhere:
    /// the list ends exactly as in-order delivery of the callbacks alone leaves it, every live
    /// record the same, nothing left from ZEGO's answers.
    #[test]
    fn checks_anywhere_change_nothing_the_callbacks_decide(
        (h, delays, plans) in checked_delivery()
    ) {
        let truth_end = h.at.iter().max().copied().unwrap_or(0);
        for room in rooms_of(&h) {
            let shown: LiveStreams = truth_at(&h, room, truth_end)
                .into_keys()
                .filter_map(|stream| {
                    h.live_streams.iter().find(|(r, s, ..)| r == room && s == stream).cloned()
                })
                .collect();
            let expected: LiveStreams =
                h.live_streams.iter().filter(|(r, ..)| r == room).cloned().collect();
            prop_assert_eq!(shown, expected, "the truth the checks answer from is the history's");
        }
        let in_order = replay(h.events.iter().enumerate());
        let arrivals = arrivals(&h, &delays, &plans);
        let mut checked = LiveList::new();
        apply_all(&mut checked, &h, &arrivals)?;
        prop_assert_eq!(checked.streams(), in_order.streams());
        prop_assert_eq!(live_records(&checked), live_records(&in_order));
        prop_assert!(checked.streams().iter().all(|s| s.source.is_none()));

        let json = serde_json::to_string(&checked).unwrap();
        let back: LiveList = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, checked);
    }

    /// Some callbacks are lost for good; the rest arrive in any order with checks in between,
    /// then two more checks come, 15 s apart, after everything has happened: the list shows
    /// exactly the streams live at ZEGO, except one whose `stream_create` was lost and that a
    /// close (of its previous publish, within the slack) still covers.
    #[test]
    fn two_checks_after_lost_callbacks_show_what_is_live(
        ((h, delays, plans), lost) in checked_delivery().prop_flat_map(|d| {
            let n = d.0.events.len();
            (Just(d), prop::collection::vec(prop::bool::weighted(0.25), n))
        })
    ) {
        let kept: Vec<Vec<u64>> = delays
            .iter()
            .zip(&lost)
            .map(|(copies, &gone)| if gone { Vec::new() } else { copies.clone() })
            .collect();
        let arrivals = arrivals(&h, &kept, &plans);
        let mut list = LiveList::new();
        apply_all(&mut list, &h, &arrivals)?;
        let before = list.clone();

        let end = h.at.iter().max().copied().unwrap_or(0) + MAX_DELAY_MS + 1_000;
        for asked in [end, end + 15_000] {
            let checks: Vec<Arrival> = rooms_of(&h)
                .into_iter()
                .map(|room| Arrival::Check(answer(&h, room, asked, asked)))
                .collect();
            apply_all(&mut list, &h, &checks)?;
        }

        let shown: BTreeSet<(String, String)> = list
            .streams()
            .iter()
            .map(|s| (s.room_id.clone(), s.stream_id.clone()))
            .collect();
        let mut expected = BTreeSet::new();
        for room in rooms_of(&h) {
            for (stream, (created, _)) in truth_at(&h, room, end) {
                let key = live::stream_key(room, stream).unwrap();
                let covered = match before.get(&key) {
                    Some(Stored::Stream(r @ StreamRecord::Closed { .. })) => {
                        !reconcile::api_version(created).is_newer_than(r.version())
                    }
                    _ => false,
                };
                if !covered {
                    expected.insert((room.to_owned(), stream.to_owned()));
                }
            }
        }
        prop_assert_eq!(shown, expected);
    }
}
