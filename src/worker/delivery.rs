//! Forwarding, the consumer's side: the queue consumer POSTs each message to its endpoint,
//! signed (Standard Webhooks), with a timeout, and decides what comes next. What an answer
//! means and when to try again are pure functions ([`classify`], [`next_step`]), tested
//! natively; [`consume`] runs them.
//!
//! - 2xx: delivered.
//! - 410 Gone: the endpoint is disabled (its messages are held) until it is enabled again.
//! - Anything else, a timeout or a refused connection: tried again after the schedule's next
//!   wait (with jitter, and never sooner than a `Retry-After`), by acknowledging the message
//!   and sending it again with a delay and its attempt count; after the last attempt it goes
//!   to the dead-letter queue, whose consumer keeps it where the admin routes list it.
//!
//! Each endpoint's messages are attempted together, every endpoint's at once, so a failing
//! endpoint never holds back another's. What an attempt found is reported to the endpoint's
//! `Deliveries` object before the message is acknowledged: a message whose report or resend
//! fails is left to the queue to deliver again.

use ::worker::{Env, Headers, MessageBatch, MessageExt, Method, RawMessage};
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use super::calls;
use super::deliveries::{self, Report, Reported};
use super::endpoints::Forwarding;
use super::forward::{self, Message, DEAD_LETTER_BINDING, QUEUE_BINDING};
use super::webhook;
use crate::Error;

/// The most of an answer kept with a failed message.
pub const EXCERPT_CHARS: usize = 300;

/// What one attempt met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered,
    /// 410 Gone: the endpoint asks to be sent nothing more.
    Gone,
    /// Any other answer (`status`), a timeout or a network error (no status).
    Failed {
        /// The answer's status, if there was one.
        status: Option<u16>,
        /// An excerpt of the answer, or the error.
        error: String,
        /// Seconds the answer's `Retry-After` asked to wait.
        retry_after: Option<u32>,
    },
}

/// What an answer means.
pub fn classify(status: u16, body: &str, retry_after: Option<&str>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        410 => Outcome::Gone,
        _ => Outcome::Failed {
            status: Some(status),
            error: excerpt(body),
            retry_after: retry_after.and_then(|v| v.trim().parse().ok()),
        },
    }
}

/// The first [`EXCERPT_CHARS`] characters of an answer.
pub fn excerpt(body: &str) -> String {
    match body.char_indices().nth(EXCERPT_CHARS) {
        Some((at, _)) => format!("{}…", &body[..at]),
        None => body.to_owned(),
    }
}

/// What to do with a message after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing more: delivered.
    Done,
    /// Hold it: the endpoint is gone (410) until enabled.
    Hold,
    /// Send it again after `delay` seconds, as attempt number `attempt` (attempts made).
    Retry {
        /// Seconds to wait.
        delay: u32,
    },
    /// Its attempts ran out: to the dead-letter queue.
    Dead,
}

/// The step after an attempt that was the message's `attempt`-th retry (0: the first try),
/// by the schedule's waits, with up to ±10% jitter decided by the message's id (so that
/// messages failed together do not come back together), and never sooner than `Retry-After`
/// (capped at Queues' longest delay).
pub fn next_step(outcome: &Outcome, attempt: u32, schedule: &[u32], id: &str) -> Step {
    match outcome {
        Outcome::Delivered => Step::Done,
        Outcome::Gone => Step::Hold,
        Outcome::Failed { retry_after, .. } => match schedule.get(attempt as usize) {
            None => Step::Dead,
            Some(&wait) => {
                let jittered = jitter(wait, id, attempt);
                let delay = jittered
                    .max(retry_after.unwrap_or(0))
                    .min(super::endpoints::MAX_DELAY_SECONDS);
                Step::Retry { delay }
            }
        },
    }
}

fn jitter(wait: u32, id: &str, attempt: u32) -> u32 {
    // A fraction in [-0.1, 0.1] from the id and the attempt (FNV-1a: no need for randomness
    // to spread retries).
    let mut h: u32 = 0x811c_9dc5;
    for b in id.bytes().chain(attempt.to_le_bytes()) {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let spread = u64::from(wait) / 10;
    if spread == 0 {
        return wait;
    }
    let offset = u64::from(h) % (2 * spread + 1);
    u32::try_from(u64::from(wait) - spread + offset).unwrap_or(wait)
}

/// One attempt: POSTs the message to `url`, signed now, within `timeout_seconds`.
async fn attempt(url: &str, message: &Message, fwd: &Forwarding) -> Outcome {
    let failed = |error: String| Outcome::Failed {
        status: None,
        error,
        retry_after: None,
    };
    let now = super::now_ms() / 1000;
    let headers = Headers::new();
    let signature = webhook::signature(&fwd.secrets, &message.id, now, message.body.as_bytes());
    for (name, value) in [
        ("content-type", message.content_type.as_str()),
        ("webhook-id", message.id.as_str()),
        ("webhook-timestamp", &now.to_string()),
        ("webhook-signature", &signature),
        ("user-agent", "zego-callback"),
    ] {
        if let Err(e) = headers.set(name, value) {
            return failed(format!("could not set the header `{name}`: {e}"));
        }
    }
    let body = Some(wasm_bindgen::JsValue::from_str(&message.body));
    let request = match calls::request(url, Method::Post, body, headers) {
        Ok(r) => r,
        Err(e) => return failed(e.to_string()),
    };
    match calls::fetch_within(request, u64::from(fwd.timeout_seconds) * 1000).await {
        Ok(mut res) => {
            let status = res.status_code();
            let retry_after = res.headers().get("retry-after").ok().flatten();
            let body = if (200..300).contains(&status) {
                String::new()
            } else {
                res.text().await.unwrap_or_default()
            };
            classify(status, &body, retry_after.as_deref())
        }
        Err(why) => failed(why),
    }
}

/// A message taken from the queue.
struct Taken {
    raw: RawMessage,
    message: Message,
}

/// The queue consumer: every batch of the forward queue and of the dead-letter queue.
pub async fn consume(batch: MessageBatch<String>, env: Env) {
    super::costs::count(|c| c.queue_batches += 1);
    let fwd = match Forwarding::read(&env) {
        Ok(Some(fwd)) => fwd,
        Ok(None) => {
            // Forwarding was switched off: the messages are kept for when it comes back.
            ::worker::console_error!("forwarding is not configured: the batch is retried");
            batch.retry_all();
            return;
        }
        Err(e) => {
            ::worker::console_error!("the forwarding configuration is not valid: {e}");
            batch.retry_all();
            return;
        }
    };
    let dead = batch.queue() == dead_letter_queue(&env);
    let mut taken: Vec<Taken> = Vec::new();
    for raw in batch.raw_iter() {
        match raw.body().as_string().map(|t| Message::from_json(&t)) {
            Some(Ok(message)) => taken.push(Taken { raw, message }),
            other => {
                // Nothing to deliver: not one of ours.
                ::worker::console_error!("a queue message that is not a delivery: {other:?}");
                raw.ack();
            }
        }
    }
    let mut groups: Vec<(String, Vec<Taken>)> = Vec::new();
    for t in taken {
        match groups.iter_mut().find(|(id, _)| *id == t.message.endpoint) {
            Some((_, group)) => group.push(t),
            None => groups.push((t.message.endpoint.clone(), vec![t])),
        }
    }
    join_all(groups.into_iter().map(|(endpoint, group)| {
        let fwd = &fwd;
        let env = &env;
        async move {
            if let Err(e) = endpoint_batch(env, fwd, &endpoint, &group, dead).await {
                ::worker::console_error!("deliveries to `{endpoint}` are retried: {e}");
                for t in &group {
                    t.raw.retry();
                }
            }
        }
    }))
    .await;
}

/// The dead-letter queue's name (`FORWARD_DEAD_LETTER_QUEUE`, default `zego-forward-dlq`).
fn dead_letter_queue(env: &Env) -> String {
    super::config::text(env, "FORWARD_DEAD_LETTER_QUEUE")
        .ok()
        .flatten()
        .unwrap_or_else(|| "zego-forward-dlq".to_owned())
}

/// One endpoint's messages of a batch. An `Err` leaves them all to the queue.
async fn endpoint_batch(
    env: &Env,
    fwd: &Forwarding,
    endpoint: &str,
    group: &[Taken],
    dead: bool,
) -> Result<(), Error> {
    let ledger = deliveries::Ledger::open(env, endpoint)?;
    if dead {
        // The last attempt failed, or the queue gave up on the message: kept as failed.
        let reports = group.iter().map(|t| Report::failed(&t.message)).collect();
        ledger.report(reports).await?;
        for t in group {
            t.raw.ack();
        }
        return Ok(());
    }
    let target = fwd.endpoint(endpoint);
    let state = ledger.begin().await?;
    let Some(target) = target.filter(|_| !state.disabled) else {
        // Disabled (410), or no longer configured: held until enabled again.
        let reports = group.iter().map(|t| Report::held(&t.message)).collect();
        ledger.report(reports).await?;
        for t in group {
            t.raw.ack();
        }
        return Ok(());
    };
    let outcomes = join_all(group.iter().map(|t| attempt(&target.url, &t.message, fwd))).await;

    let now = super::now_ms();
    let mut reports = Vec::with_capacity(group.len());
    let mut resend: Vec<(usize, Message, u32)> = Vec::new();
    let mut dead_letters: Vec<(usize, Message)> = Vec::new();
    for (i, (t, outcome)) in group.iter().zip(&outcomes).enumerate() {
        let step = next_step(outcome, t.message.attempt, &fwd.schedule, &t.message.id);
        let mut next = t.message.clone();
        next.attempt += 1;
        if let Outcome::Failed { status, error, .. } = outcome {
            next.last_status = *status;
            next.last_error = Some(error.clone());
        }
        reports.push(match &step {
            Step::Done => Report::delivered(&t.message),
            Step::Hold => Report::gone(&t.message),
            Step::Retry { delay } => Report::retrying(&next, now + u64::from(*delay) * 1000),
            Step::Dead => Report::retrying(&next, now),
        });
        match step {
            Step::Retry { delay } => resend.push((i, next, delay)),
            Step::Dead => dead_letters.push((i, next)),
            Step::Done | Step::Hold => {}
        }
    }
    let Reported { disabled: _ } = ledger.report(reports).await?;

    // What is sent again or on to the dead letters is acknowledged once the queue has it;
    // a message whose send fails is left to the queue to deliver again.
    let sends = resend
        .iter()
        .map(|(i, m, delay)| (*i, QUEUE_BINDING, m, *delay))
        .chain(
            dead_letters
                .iter()
                .map(|(i, m)| (*i, DEAD_LETTER_BINDING, m, 0)),
        );
    let results = join_all(sends.map(|(i, binding, m, delay)| async move {
        let sent = match forward::queue_message(m, delay) {
            Ok(message) => forward::send(env, binding, vec![message]).await,
            Err(e) => Err(e),
        };
        (i, sent)
    }))
    .await;
    let failed: Vec<usize> = results
        .into_iter()
        .filter_map(|(i, sent)| {
            sent.map_err(|e| ::worker::console_error!("a delivery could not be queued: {e}"))
                .err()
                .map(|()| i)
        })
        .collect();
    for (i, t) in group.iter().enumerate() {
        if failed.contains(&i) {
            t.raw.retry();
        } else {
            t.raw.ack();
        }
    }
    Ok(())
}

/// A delivery as the admin routes list it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listed {
    /// The webhook id.
    pub id: String,
    /// The endpoint's id.
    pub endpoint: String,
    /// `retrying`, `failed` or `held`.
    pub state: String,
    /// The app.
    pub appid: String,
    /// The event.
    pub event: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last attempt's status, if it got an answer.
    pub last_status: Option<u16>,
    /// An excerpt of the last answer, or the error.
    pub last_error: Option<String>,
    /// When it was accepted, Unix ms.
    pub accepted_at: u64,
    /// When it is next due (retrying), Unix ms.
    pub due_at: Option<u64>,
    /// When its row last changed, Unix ms.
    pub updated_at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULE: [u32; 3] = [5, 300, 36_000];

    fn failed(retry_after: Option<u32>) -> Outcome {
        Outcome::Failed {
            status: Some(500),
            error: "down".into(),
            retry_after,
        }
    }

    #[test]
    fn answers_mean_delivered_gone_or_failed() {
        assert_eq!(classify(200, "", None), Outcome::Delivered);
        assert_eq!(classify(204, "", None), Outcome::Delivered);
        assert_eq!(classify(410, "bye", None), Outcome::Gone);
        assert_eq!(
            classify(429, "slow down", Some(" 120 ")),
            Outcome::Failed {
                status: Some(429),
                error: "slow down".into(),
                retry_after: Some(120)
            }
        );
        assert_eq!(
            classify(302, "", Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Outcome::Failed {
                status: Some(302),
                error: String::new(),
                retry_after: None
            }
        );
        let long = "é".repeat(1000);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn failures_follow_the_schedule_then_go_to_the_dead_letters() {
        let steps: Vec<Step> = (0..4)
            .map(|a| next_step(&failed(None), a, &SCHEDULE, "msg_1"))
            .collect();
        for (step, wait) in steps.iter().zip(SCHEDULE) {
            let Step::Retry { delay } = step else {
                panic!("{step:?}")
            };
            assert!(
                (wait - wait / 10..=wait + wait / 10).contains(delay),
                "{delay} for {wait}"
            );
        }
        assert_eq!(steps[3], Step::Dead);
        assert_eq!(
            next_step(&Outcome::Delivered, 9, &SCHEDULE, "m"),
            Step::Done
        );
        assert_eq!(next_step(&Outcome::Gone, 0, &SCHEDULE, "m"), Step::Hold);
        assert_eq!(next_step(&failed(None), 0, &[], "m"), Step::Dead);
    }

    #[test]
    fn jitter_spreads_messages_and_retry_after_is_honoured() {
        let delays: std::collections::BTreeSet<u32> = (0..50)
            .map(
                |i| match next_step(&failed(None), 1, &SCHEDULE, &format!("msg_{i}")) {
                    Step::Retry { delay } => delay,
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        assert!(delays.len() > 10, "{delays:?}");
        assert_eq!(
            next_step(&failed(Some(3_600)), 0, &SCHEDULE, "m"),
            Step::Retry { delay: 3_600 }
        );
        assert_eq!(
            next_step(&failed(Some(1_000_000)), 0, &SCHEDULE, "m"),
            Step::Retry { delay: 43_200 }
        );
        // A wait too short to spread stays as it is.
        assert_eq!(
            next_step(&failed(None), 0, &[1], "m"),
            Step::Retry { delay: 1 }
        );
    }
}
