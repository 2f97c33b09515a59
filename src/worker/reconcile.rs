//! A `Room` object's checks of its room against ZEGO's server API: when the next one is due,
//! what it remembers between them, and applying an answer.
//!
//! A room that lists live streams, of an app with a server secret (`ZEGO_SERVER_SECRETS`),
//! asks ZEGO what is live in it every `ZEGO_RECONCILE_SECONDS` (±20%, so that rooms do not
//! ask at once), from its alarm ([`wake_at`] gives the outbox the time, which sets the one
//! alarm at the earlier of its own next attempt and this). The answer is applied by
//! [`crate::live::reconcile`]'s rules through the same read-decide-write as a callback; the
//! writes go out through the outbox like any change, are pushed to the room's subscribers
//! and, when forwarding is configured, forwarded as `zego_callback.reconciled`. A failure
//! or a rate-limit answer changes nothing and doubles the wait, up to an hour. Never more
//! than one call per room every 10 s (ZEGO's limit), counted from when the call was made,
//! also across a restart of the object.
//!
//! State, in the object's `meta` table (through [`Table`]'s API, under names of its own): the
//! last check and the next (`check`, `check_error`), what the last check found absent
//! (`check_absences`), and corrections not yet on the queue (`check_forwards`).

use ::worker::Env;
use serde::Serialize;

use super::config::Reconcile;
use super::endpoints::Forwarding;
use super::forward::{self, Live, Reconciled, ScopeIds};
use super::names::Identity;
use super::records::Table;
use super::zego_api::{self, Answer};
use crate::field::Id64;
use crate::live::{self, Absence, Absences, KeyWrite, Scope, StreamEventKind, Version};
use crate::Error;

/// The `meta` names of the checks' state.
const STATE: &str = "check";
const ERROR: &str = "check_error";
const ABSENCES: &str = "check_absences";
const FORWARDS: &str = "check_forwards";

/// The longest wait after failures in a row: an hour.
pub const MAX_BACKOFF_MS: u64 = 3_600_000;

/// How long a call may take.
const TIMEOUT_MS: u64 = 10_000;

/// How soon corrections that did not reach the queue are tried again.
const FORWARD_RETRY_MS: u64 = 10_000;

/// The window ZEGO's limit per app is counted over, ms: a second, and a little more, so that
/// calls granted a second apart and delayed differently on the way never reach ZEGO within
/// one second.
pub const APP_WINDOW_MS: u64 = 1_100;

/// ZEGO's limit per app, as the app's first `Hub` shard keeps it for all its rooms: grants a
/// call at `now` when fewer than `limit` were granted in the last [`APP_WINDOW_MS`] (`granted`
/// holds their times, oldest first) and answers 0, or answers how long to wait for a slot.
pub fn take_slot(granted: &mut std::collections::VecDeque<u64>, now: u64, limit: u64) -> u64 {
    while granted
        .front()
        .is_some_and(|&t| now.saturating_sub(t) >= APP_WINDOW_MS)
    {
        granted.pop_front();
    }
    match granted.front() {
        Some(&oldest) if granted.len() as u64 >= limit => {
            (oldest + APP_WINDOW_MS).saturating_sub(now).max(1)
        }
        _ => {
            granted.push_back(now);
            0
        }
    }
}

/// The wait from one call to the next: the period after an answer, doubled for each failure
/// in a row up to [`MAX_BACKOFF_MS`] (never less than the period), moved by up to 20% either
/// way by `random`, and never less than `floor_ms` (ZEGO's 10 s per room).
pub fn wait_ms(period_ms: u64, floor_ms: u64, failures: u32, random: u32) -> u64 {
    let base = if failures == 0 {
        period_ms
    } else {
        let doubled = period_ms.saturating_mul(1u64 << failures.min(20));
        doubled.min(MAX_BACKOFF_MS).max(period_ms)
    };
    let spread = base / 5;
    let offset = u64::from(random) % (2 * spread + 1);
    (base - spread + offset).max(floor_ms)
}

/// How the last check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// ZEGO answered with the room's streams, and the answer was applied.
    Ok,
    /// ZEGO refused for calling too often.
    RateLimited,
    /// No list: an error code, an HTTP error, no answer, an answer not as documented.
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::RateLimited => "rate_limited",
            Outcome::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Outcome> {
        match text {
            "ok" => Some(Outcome::Ok),
            "rate_limited" => Some(Outcome::RateLimited),
            "failed" => Some(Outcome::Failed),
            _ => None,
        }
    }
}

/// The last check and the next, as `GET /rooms/<room_id>/streams` shows them (`"check"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckState {
    /// When the last call was made, Unix ms.
    pub at: Option<u64>,
    /// How it ended.
    pub result: Option<Outcome>,
    /// How many streams ZEGO listed in its last answer.
    pub streams: u64,
    /// How many streams the last check listed from ZEGO's answer.
    pub listed: u64,
    /// How many it ended.
    pub ended: u64,
    /// Failed or refused calls in a row.
    pub failures: u32,
    /// When the next call is due, Unix ms; `None` while the room lists no live stream.
    pub next_at: Option<u64>,
    /// What the last failure was.
    pub error: Option<String>,
}

impl CheckState {
    /// The state as one line: seven numbers (`-` for none).
    fn to_text(&self) -> String {
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |n| n.to_string());
        let result = self.result.map_or("-", Outcome::as_str);
        format!(
            "{} {result} {} {} {} {} {}",
            opt(self.at),
            self.streams,
            self.listed,
            self.ended,
            self.failures,
            opt(self.next_at)
        )
    }

    /// Reads [`CheckState::to_text`]'s line back; what does not read is none.
    fn from_text(text: &str, error: Option<String>) -> CheckState {
        let parts: Vec<&str> = text.split(' ').collect();
        let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u64>().ok());
        CheckState {
            at: num(0),
            result: parts.get(1).and_then(|r| Outcome::parse(r)),
            streams: num(2).unwrap_or(0),
            listed: num(3).unwrap_or(0),
            ended: num(4).unwrap_or(0),
            failures: num(5).and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            next_at: num(6),
            error,
        }
    }
}

/// The checks' state in a `Room`'s `meta` table.
impl Checker<'_> {
    /// The last check and the next.
    pub fn state(&self) -> Result<CheckState, Error> {
        let error = self.table.meta(ERROR)?.filter(|e| !e.is_empty());
        Ok(match self.table.meta(STATE)? {
            Some(text) => CheckState::from_text(&text, error),
            None => CheckState::default(),
        })
    }

    fn save(&self, s: &CheckState) -> Result<(), Error> {
        self.table.set_meta(STATE, &s.to_text())?;
        let error = s.error.as_deref().unwrap_or_default();
        if self.table.meta(ERROR)?.as_deref().unwrap_or_default() != error {
            self.table.set_meta(ERROR, error)?;
        }
        Ok(())
    }

    /// One line per absence: the stream key (percent-encoded: no space or line break in
    /// it), when it was first absent, and the version of the record (session, seq, time,
    /// `c` for a create or `x` for a close).
    fn absences(&self) -> Result<Absences, Error> {
        let text = self.table.meta(ABSENCES)?.unwrap_or_default();
        let mut out = Absences::new();
        for line in text.lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            let [key, since, session, seq, time, kind] = parts[..] else {
                continue;
            };
            let (Ok(since), Ok(session), Ok(seq), Ok(time)) =
                (since.parse(), session.parse(), seq.parse(), time.parse())
            else {
                continue;
            };
            let kind = if kind == "x" {
                StreamEventKind::Close
            } else {
                StreamEventKind::Create
            };
            let version = Version {
                room_session_id: Id64(session),
                stream_seq: seq,
                time_ms: time,
                kind,
            };
            out.push((key.to_owned(), Absence { since, version }));
        }
        Ok(out)
    }

    fn set_absences(&self, old: &Absences, new: &Absences) -> Result<(), Error> {
        if old == new {
            return Ok(());
        }
        let mut text = String::new();
        for (key, a) in new {
            let v = &a.version;
            let kind = if v.kind == StreamEventKind::Close {
                "x"
            } else {
                "c"
            };
            text.push_str(&format!(
                "{key} {} {} {} {} {kind}\n",
                a.since, v.room_session_id, v.stream_seq, v.time_ms
            ));
        }
        self.table.set_meta(ABSENCES, &text)
    }

    /// The corrections not yet on the queue, a message's JSON a line.
    fn pending_forwards(&self) -> Result<String, Error> {
        Ok(self.table.meta(FORWARDS)?.unwrap_or_default())
    }
}

/// The random number that places a check within its window (the middle, without one).
fn random_u32() -> u32 {
    match zego_api::random_bytes() {
        Ok([a, b, c, d, ..]) => u32::from_le_bytes([a, b, c, d]),
        Err(_) => u32::MAX / 2,
    }
}

/// The object's checks: its bindings, records and identity.
pub struct Checker<'a> {
    /// Its bindings.
    pub env: &'a Env,
    /// Its tables.
    pub table: &'a Table<'a>,
    /// What it is.
    pub id: &'a Identity,
}

/// What a check wrote, for the room's subscribers.
pub struct Written {
    /// The writes.
    pub writes: Vec<KeyWrite>,
    /// When they were applied.
    pub at: u64,
}

impl Checker<'_> {
    /// The checks' settings and this room's server secret, when its rooms are checked.
    fn settings(&self) -> Option<(Reconcile, String)> {
        if self.id.kind != "room" {
            return None;
        }
        // A malformed setting turns checks off here; callbacks answer it with a 500.
        let config = Reconcile::read(self.env).ok()?;
        let secret = config.server_secret(&self.id.app)?.to_owned();
        Some((config, secret))
    }

    /// The room's checks for `GET /rooms/<room_id>/streams`: `None` when its app is not
    /// checked (a malformed setting is an error).
    pub fn view(&self) -> Result<Option<CheckState>, Error> {
        let config = Reconcile::read(self.env)?;
        if self.id.kind != "room" || config.server_secret(&self.id.app).is_none() {
            return Ok(None);
        }
        self.state().map(Some)
    }

    /// When the alarm is next needed for checks (and for corrections still to forward):
    /// schedules the first check of a room that has come to list live streams, and forgets
    /// the schedule of one that lists none. `None`: not needed.
    pub fn wake_at(&self, now: u64) -> Result<Option<u64>, Error> {
        let forwards = (!self.pending_forwards()?.is_empty()).then_some(now + FORWARD_RETRY_MS);
        let Some((config, _)) = self.settings() else {
            return Ok(forwards);
        };
        let live = !self.table.live_streams(now)?.is_empty();
        let mut state = self.state()?;
        let next = match (live, state.next_at) {
            (true, Some(at)) => Some(at),
            (true, None) => {
                let at = now + wait_ms(config.period_ms, config.floor_ms, 0, random_u32());
                // Never sooner than ZEGO's limit after the last call.
                let at = state
                    .at
                    .map_or(at, |last| at.max(last.saturating_add(config.floor_ms)));
                state.next_at = Some(at);
                self.save(&state)?;
                Some(at)
            }
            (false, Some(_)) => {
                state.next_at = None;
                self.save(&state)?;
                None
            }
            (false, None) => None,
        };
        Ok(next.into_iter().chain(forwards).min())
    }

    /// Checks the room if a check is due: asks ZEGO, applies the answer; then puts what it
    /// changed (and what earlier checks could not) on the forward queue. Returns the writes
    /// for the room's subscribers.
    pub async fn check_if_due(&self) -> Result<Option<Written>, Error> {
        let written = self.check().await;
        if let Err(e) = self.forward_pending().await {
            ::worker::console_error!("corrections wait for the queue: {e}");
        }
        written
    }

    /// Asks ZEGO when a check is due, and applies the answer. Only the call is awaited: the
    /// rest runs synchronously on each side of it.
    async fn check(&self) -> Result<Option<Written>, Error> {
        let Some(config) = self.is_due()? else {
            return Ok(None);
        };
        // ZEGO's limit per app, shared by all its rooms: a slot from the app's first hub
        // shard. Refused, the check waits for one (no failure: nothing was asked).
        let wait = match self.app_slot(config.calls_per_second).await {
            Ok(wait) => wait,
            Err(e) => {
                ::worker::console_error!("no slot for a check of the room: {e}");
                config.floor_ms
            }
        };
        if wait > 0 {
            let mut state = self.state()?;
            state.next_at = Some(super::now_ms() + wait + u64::from(random_u32() % 250));
            return self.save(&state).map(|()| None);
        }
        let Some((url, asked_at)) = self.due()? else {
            return Ok(None);
        };
        let answer = zego_api::ask(&url, TIMEOUT_MS).await;
        self.apply(answer, asked_at)
    }

    /// The checks' settings when a check is due now.
    fn is_due(&self) -> Result<Option<Reconcile>, Error> {
        let Some((config, _)) = self.settings() else {
            return Ok(None);
        };
        let due = self
            .state()?
            .next_at
            .is_some_and(|at| at <= super::now_ms());
        Ok(due.then_some(config))
    }

    /// A slot of the app's calls a second to ZEGO: 0, or how long to wait for one.
    async fn app_slot(&self, limit: u64) -> Result<u64, Error> {
        use super::calls;
        let limit = limit.to_string();
        let url = calls::url("/slot", &[("app", &self.id.app), ("limit", &limit)])?;
        let req = calls::request(&url, ::worker::Method::Post, None, ::worker::Headers::new())?;
        let hubs = super::config::namespace(self.env, super::config::HUB_BINDING)?;
        let slot: super::hub::Slot =
            calls::call(&hubs, &super::names::hub_name(&self.id.app, 0), req).await?;
        Ok(slot.wait_ms)
    }

    /// When a check is due: the URL to ask and when it is asked, remembered before asking
    /// (a call that never returns, the object reset, still counts against ZEGO's limit).
    fn due(&self) -> Result<Option<(String, u64)>, Error> {
        let Some((config, secret)) = self.settings() else {
            return Ok(None);
        };
        let asked_at = super::now_ms();
        let mut state = self.state()?;
        if state.next_at.is_none_or(|at| asked_at < at) {
            return Ok(None);
        }
        let live = !self.table.live_streams(asked_at)?.is_empty();
        state.next_at = live.then_some(asked_at + config.floor_ms);
        if live {
            state.at = Some(asked_at);
        }
        self.save(&state)?;
        if !live {
            return Ok(None);
        }
        let request = zego_api::Request {
            base: &config.api_base,
            app: &self.id.app,
            server_secret: &secret,
            room_id: &self.id.id,
            nonce: &nonce()?,
            timestamp: asked_at / 1000,
        };
        Ok(Some((request.url(), asked_at)))
    }

    /// Applies an answer to the check asked at `asked_at`, reading everything again
    /// (callbacks may have been applied while the call was out), and schedules the next.
    fn apply(&self, answer: Answer, asked_at: u64) -> Result<Option<Written>, Error> {
        let Some((config, _)) = self.settings() else {
            return Ok(None);
        };
        let mut state = self.state()?;
        let (result, streams) = match answer {
            Answer::Listed(streams) => (Outcome::Ok, streams),
            Answer::RateLimited(why) => (Outcome::RateLimited, why_not(&mut state, why)),
            Answer::Failed(why) => (Outcome::Failed, why_not(&mut state, why)),
        };
        state.result = Some(result);
        if result != Outcome::Ok {
            // Nothing changes but the schedule, which backs off.
            state.failures = state.failures.saturating_add(1);
            let wait = wait_ms(
                config.period_ms,
                config.floor_ms,
                state.failures,
                random_u32(),
            );
            state.next_at = Some(asked_at + wait);
            self.save(&state)?;
            return Ok(None);
        }
        let check = live::Check {
            room_id: self.id.id.clone(),
            asked_at,
            streams,
        };
        let at = super::now_ms();
        let absences = self.absences()?;
        let outcome = live::decide_check(
            &check,
            &self.table.records(at),
            &absences,
            config.thresholds(),
        )?;
        let seq = if outcome.writes.is_empty() {
            0
        } else {
            self.table.write(&outcome.writes, at)?
        };
        self.set_absences(&absences, &outcome.absences)?;
        state.streams = check.streams.len() as u64;
        state.listed = outcome.listed.len() as u64;
        state.ended = outcome.ended.len() as u64;
        state.failures = 0;
        state.error = None;
        state.next_at =
            Some(asked_at + wait_ms(config.period_ms, config.floor_ms, 0, random_u32()));
        self.save(&state)?;
        if outcome.writes.is_empty() {
            return Ok(None);
        }
        if let Err(e) = self.keep_forwards(&check, &outcome, seq, at) {
            ::worker::console_error!("a correction is not forwarded: {e}");
        }
        Ok(Some(Written {
            writes: outcome.writes,
            at,
        }))
    }

    /// Keeps the correction's messages, in the same synchronous run as its writes, until the
    /// queue has them.
    fn keep_forwards(
        &self,
        check: &live::Check,
        outcome: &live::reconcile::Outcome,
        seq: u64,
        at: u64,
    ) -> Result<(), Error> {
        let Some(fwd) = Forwarding::read(self.env)? else {
            return Ok(());
        };
        let scope = Scope::Room(self.id.id.clone());
        let written: Vec<String> = outcome.writes.iter().map(|w| w.key.clone()).collect();
        let live = Live {
            scope: ScopeIds::of(&scope),
            written: &written,
            duplicate: false,
            seq,
        };
        let correction = Reconciled {
            room_id: &self.id.id,
            asked_at: check.asked_at,
            ended: &outcome.ended,
            listed: &outcome.listed,
        };
        let mut text = self.pending_forwards()?;
        for m in forward::reconciled_messages(&fwd, &self.id.app, &correction, &live, at)? {
            text.push_str(&m.to_json()?);
            text.push('\n');
        }
        self.table.set_meta(FORWARDS, &text)
    }

    /// Puts the corrections kept so far on the forward queue; what it does not take stays
    /// for the next alarm. A kept line that is not a message (it never was one) is dropped,
    /// and said.
    async fn forward_pending(&self) -> Result<(), Error> {
        let (text, messages, dropped) = self.kept_messages()?;
        if text.is_empty() {
            return Ok(());
        }
        forward::send(self.env, forward::QUEUE_BINDING, messages).await?;
        self.forwarded(&text, dropped)
    }

    /// The kept corrections as queue messages, with their text and how many lines were not
    /// messages.
    #[allow(clippy::type_complexity)]
    fn kept_messages(&self) -> Result<(String, Vec<QueueMessage>, usize), Error> {
        let text = self.pending_forwards()?;
        let mut messages = Vec::new();
        let mut dropped = 0;
        for line in text.lines() {
            match forward::Message::from_json(line) {
                Ok(m) => messages.push(forward::queue_message(&m, 0)?),
                Err(_) => dropped += 1,
            }
        }
        Ok((text, messages, dropped))
    }

    /// The queue took what `text` held: only that is no longer kept (nothing else keeps
    /// more meanwhile, but the rest would stay if something did).
    fn forwarded(&self, text: &str, dropped: usize) -> Result<(), Error> {
        let now = self.pending_forwards()?;
        self.table
            .set_meta(FORWARDS, now.strip_prefix(text).unwrap_or(&now))?;
        if dropped > 0 {
            return Err(Error::Storage {
                reason: format!("{dropped} kept corrections were not messages: dropped"),
            });
        }
        Ok(())
    }
}

/// A message as the queue takes it.
type QueueMessage = ::worker::SendMessage<wasm_bindgen::JsValue>;

/// Keeps why a call brought no list; no streams.
fn why_not(state: &mut CheckState, why: String) -> Vec<live::ListedStream> {
    state.error = Some(why);
    Vec::new()
}

/// A new `SignatureNonce`: 16 hex characters from the runtime's cryptographic random source.
fn nonce() -> Result<String, Error> {
    let bytes = zego_api::random_bytes().map_err(|e| Error::Storage {
        reason: format!("no random nonce: {e}"),
    })?;
    Ok(zego_api::nonce_of(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_the_period_jittered_doubled_per_failure_up_to_an_hour() {
        let p = 300_000;
        // ±20% around the period, from the random number.
        assert_eq!(wait_ms(p, 10_000, 0, 0), 240_000);
        assert_eq!(wait_ms(p, 10_000, 0, 120_000), 360_000);
        assert_eq!(wait_ms(p, 10_000, 0, 60_000), 300_000);
        let all: Vec<u64> = (0..1000).map(|r| wait_ms(p, 10_000, 0, r * 7919)).collect();
        assert!(all.iter().all(|w| (240_000..=360_000).contains(w)));
        // Doubled per failure in a row, up to an hour.
        let centre = |f| wait_ms(p, 10_000, f, 0) * 5 / 4;
        assert_eq!(
            (1..=6).map(centre).collect::<Vec<_>>(),
            [600_000, 1_200_000, 2_400_000, 3_600_000, 3_600_000, 3_600_000]
        );
        assert_eq!(wait_ms(p, 10_000, u32::MAX, 0) * 5 / 4, MAX_BACKOFF_MS);
        // A period above an hour is not shortened by a failure.
        assert_eq!(wait_ms(7_200_000, 10_000, 3, 0) * 5 / 4, 7_200_000);
        // Never sooner than ZEGO's 10 s per room.
        assert_eq!(wait_ms(10_000, 10_000, 0, 0), 10_000);
        assert_eq!(wait_ms(1_000, 1_000, 0, 0), 1_000);
    }

    #[test]
    fn an_apps_calls_are_granted_up_to_its_limit_in_any_window() {
        let mut granted = std::collections::VecDeque::new();
        assert_eq!(
            (0..3)
                .map(|i| take_slot(&mut granted, 100 + i, 3))
                .collect::<Vec<_>>(),
            [0, 0, 0]
        );
        // The fourth waits until the first leaves the window.
        assert_eq!(take_slot(&mut granted, 500, 3), 100 + APP_WINDOW_MS - 500);
        assert_eq!(granted.len(), 3, "a refusal takes no slot");
        assert_eq!(take_slot(&mut granted, 100 + APP_WINDOW_MS - 1, 3), 1);
        assert_eq!(take_slot(&mut granted, 100 + APP_WINDOW_MS, 3), 0);
        // Never more than the limit within any window, whatever the times asked.
        let mut granted = std::collections::VecDeque::new();
        let mut times = Vec::new();
        for i in 0..5_000u64 {
            let now = i * 3 + i * 7 % 13;
            let now = now.max(times.last().copied().unwrap_or(0));
            if take_slot(&mut granted, now, 5) == 0 {
                times.push(now);
            }
        }
        for (i, t) in times.iter().enumerate() {
            let within = times[i..]
                .iter()
                .take_while(|&&u| u < t + APP_WINDOW_MS)
                .count();
            assert!(within <= 5, "{within} grants from {t}");
        }
        assert!(times.len() > 20);
    }

    #[test]
    fn outcomes_read_back() {
        for o in [Outcome::Ok, Outcome::RateLimited, Outcome::Failed] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(
                serde_json::to_value(o).unwrap(),
                serde_json::Value::from(o.as_str())
            );
        }
        assert_eq!(Outcome::parse("x"), None);
    }
}
