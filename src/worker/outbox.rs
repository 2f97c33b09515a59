//! A `Room` object's outbox: how its committed changes reach KV (the list readers list) and
//! the app's `Hub` (the app-wide subscribers), from the object's alarm. When to send is
//! decided by pure functions ([`Progress`], [`next_attempt`], [`backoff_ms`]), tested
//! natively; [`Outbox`] sends.
//!
//! Every record row carries the object's change counter at its last change (`version`), the
//! version KV has (`kv_version`, written at `kv_at`) and the version the hub has
//! (`hub_version`). A row is pending while either is behind. Only the latest version of a
//! key is ever sent, so a burst of changes to one key is one write; one object owns the key
//! and sends one batch at a time, so an older record never replaces a newer one. A failed
//! send is retried (1 s, 2 s, 4 s, ... up to a minute) until it lands: a committed change is
//! never lost.

use ::worker::{Env, Method, State};
use futures_util::future::{join, join_all};
use serde::Serialize;

use super::calls;
use super::config::{self, HUB_BINDING};
use super::hub::{HubAck, HubChange, HubChanges};
use super::kv::{self, Store};
use super::names::{hub_of, Identity};
use super::now_ms;
use super::records::{PendingRow, Table};
use crate::Error;

/// Workers KV takes at most one write a second to a key.
pub const KV_KEY_INTERVAL_MS: u64 = 1_000;

/// The longest wait between two attempts after failures.
pub const MAX_BACKOFF_MS: u64 = 60_000;

/// What the outbox knows of one record row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The object's change counter at the row's last change.
    pub version: u64,
    /// The version KV has.
    pub kv_version: u64,
    /// When KV was last written for this key, Unix ms (0: never).
    pub kv_at: u64,
    /// The version the hub has.
    pub hub_version: u64,
}

impl Progress {
    /// KV is behind.
    pub fn kv_pending(&self) -> bool {
        self.version > self.kv_version
    }

    /// The hub is behind.
    pub fn hub_pending(&self) -> bool {
        self.version > self.hub_version
    }

    /// When KV may next be written for this key, if it is behind.
    pub fn kv_due_at(&self) -> Option<u64> {
        self.kv_pending()
            .then(|| self.kv_at.saturating_add(KV_KEY_INTERVAL_MS))
    }

    /// Whether KV should be written now.
    pub fn kv_due(&self, now: u64) -> bool {
        self.kv_due_at().is_some_and(|at| at <= now)
    }
}

/// When to try again, if anything is pending: at once for the hub and for keys KV may take
/// now; else when the last of the waiting keys may be written again (each within a second),
/// so that a burst of changes is one alarm, not one per key. Never before `retry_at` (after
/// a failure).
pub fn next_attempt(rows: &[Progress], now: u64, retry_at: Option<u64>) -> Option<u64> {
    let at_once = rows.iter().any(|r| r.hub_pending() || r.kv_due(now));
    let waiting = rows.iter().filter_map(Progress::kv_due_at).max();
    let next = if at_once { Some(now) } else { waiting }?;
    Some(next.max(retry_at.unwrap_or(0)))
}

/// The wait after the `failures`-th failure in a row: 1 s, 2 s, 4 s, ... up to a minute.
pub fn backoff_ms(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(1).min(16);
    (1_000u64 << doublings).min(MAX_BACKOFF_MS)
}

/// The most rows one send carries.
const BATCH: u64 = 256;

/// How often expired tombstones are deleted, in ms.
const PRUNE_EVERY_MS: u64 = 60_000;

/// The outbox's state, as a room's read shows it: what KV and the hub still lack, and what
/// was sent.
#[derive(Debug, Serialize)]
pub struct Sync {
    /// Records changed here that KV or the hub does not have yet.
    pending: u64,
    /// Writes to KV so far (one per changed record, bursts coalesced).
    kv_writes: u64,
    /// Failed attempts in a row (0 while KV and the hub take every change).
    failures: u32,
}

/// A `Room` object's outbox: its tables, and where it sends.
pub struct Outbox<'a> {
    /// The object's state (its alarm).
    pub state: &'a State,
    /// Its bindings (KV, the hub).
    pub env: &'a Env,
    /// Its tables.
    pub table: &'a Table<'a>,
}

impl Outbox<'_> {
    /// Failed attempts in a row.
    pub fn failures(&self) -> Result<u32, Error> {
        Ok(u32::try_from(self.table.counter("failures")?).unwrap_or(u32::MAX))
    }

    /// What is pending and what was sent.
    pub fn sync(&self) -> Result<Sync, Error> {
        Ok(Sync {
            pending: self.table.pending_count()?,
            kv_writes: self.table.counter("kv_writes")?,
            failures: self.failures()?,
        })
    }

    /// Asks for the alarm at once, so that what was just committed is sent: not again while
    /// an alarm asked for (`asked`) has not run yet, and not while sends are failing (the
    /// retry already set, with its backoff, takes the change along).
    pub async fn wake(&self, asked: &std::cell::Cell<bool>) -> Result<(), Error> {
        if asked.get() || self.failures()? > 0 {
            return Ok(());
        }
        self.set_alarm(0).await?;
        asked.set(true);
        Ok(())
    }

    async fn set_alarm(&self, offset_ms: i64) -> Result<(), Error> {
        super::costs::object(super::costs::Class::Room, |o| o.alarm_sets += 1);
        self.state
            .storage()
            .set_alarm(offset_ms)
            .await
            .map_err(|e| Error::Storage {
                reason: format!("could not set the alarm: {e}"),
            })
    }

    /// Sends what is pending to KV and to the hub (deleting, once a minute, tombstones that
    /// expired and were sent everywhere), then sets the alarm for what is left, or for
    /// `also_at` when that is sooner: the object's own next need of its one alarm (its next
    /// check of ZEGO's server API).
    pub async fn flush(
        &self,
        id: &Identity,
        pruned_at: &std::cell::Cell<u64>,
        also_at: Option<u64>,
    ) -> Result<(), Error> {
        let table = self.table;
        let now = now_ms();
        if now.saturating_sub(pruned_at.get()) >= PRUNE_EVERY_MS {
            table.prune(now)?;
            pruned_at.set(now);
        }
        let rows = table.pending(BATCH)?;
        let kv_rows: Vec<&PendingRow> = rows.iter().filter(|r| r.progress.kv_due(now)).collect();
        let hub_rows: Vec<&PendingRow> = rows.iter().filter(|r| r.progress.hub_pending()).collect();

        let kv_sends = join_all(kv_rows.iter().map(|row| self.send_to_kv(&id.app, row, now)));
        let hub_send = self.send_to_hub(id, &hub_rows);
        let (kv_results, hub_result) = join(kv_sends, hub_send).await;

        // One write per row sent, whichever of KV and the hub took it; others may have
        // changed these rows meanwhile, so versions only ever move forward.
        let done = now_ms();
        let mut failed = false;
        let mut written = 0;
        let mut kv_took = Vec::with_capacity(kv_rows.len());
        for (row, result) in kv_rows.iter().zip(kv_results) {
            match result {
                Ok(()) => {
                    written += 1;
                    kv_took.push(row.key.as_str());
                }
                Err(e) => {
                    failed = true;
                    ::worker::console_error!("KV write of `{}` failed: {e}", row.key);
                }
            }
        }
        let hub_took = match hub_result {
            Ok(()) => true,
            Err(e) => {
                failed = true;
                ::worker::console_error!("sending to the hub failed: {e}");
                false
            }
        };
        for row in &rows {
            let version = row.progress.version;
            let kv = kv_took
                .contains(&row.key.as_str())
                .then_some((version, done));
            let hub = (hub_took && row.progress.hub_pending()).then_some(version);
            if kv.is_some() || hub.is_some() {
                table.sent(&row.key, kv, hub)?;
            }
        }
        if written > 0 {
            let total = table.counter("kv_writes")?.saturating_add(written);
            table.set_meta("kv_writes", &total.to_string())?;
        }
        let before = self.failures()?;
        let failures = if failed { before.saturating_add(1) } else { 0 };
        if failures != before {
            table.set_meta("failures", &failures.to_string())?;
        }
        let pending = table.progress(BATCH)?;
        let retry_at = failed.then(|| done + backoff_ms(failures));
        let next = next_attempt(&pending, done, retry_at)
            .into_iter()
            .chain(also_at)
            .min();
        if let Some(at) = next {
            self.set_alarm(i64::try_from(at.saturating_sub(done)).unwrap_or(i64::MAX))
                .await?;
        }
        Ok(())
    }

    async fn send_to_kv(&self, app: &str, row: &PendingRow, now: u64) -> Result<(), Error> {
        let store = Store::open(self.env)?;
        // An absolute expiry, so that a late retry does not extend a tombstone's life; KV
        // takes none sooner than a minute ahead.
        let expiration = row
            .expires_at
            .map(|ms| (ms / 1000).max(now / 1000 + kv::MIN_TTL_SECONDS));
        store
            .put(&kv::kv_key(app, &row.key)?, &row.record()?, expiration)
            .await
    }

    async fn send_to_hub(&self, id: &Identity, rows: &[&PendingRow]) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let changes = rows
            .iter()
            .map(|row| {
                Ok(HubChange {
                    key: row.key.clone(),
                    version: row.progress.version,
                    at: row.at,
                    expires_at: row.expires_at,
                    record: row.value.clone(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let url = calls::url("/changes", &[("app", &id.app)])?;
        let (body, headers) = calls::json_body(&HubChanges { changes })?;
        let req = calls::request(&url, Method::Post, Some(body), headers)?;
        let hubs = config::namespace(self.env, HUB_BINDING)?;
        calls::call::<HubAck>(&hubs, &hub_of(&id.app, &id.object_name()), req).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: u64, kv_version: u64, kv_at: u64, hub_version: u64) -> Progress {
        Progress {
            version,
            kv_version,
            kv_at,
            hub_version,
        }
    }

    #[test]
    fn a_key_written_less_than_a_second_ago_waits() {
        let r = row(5, 3, 10_000, 5);
        assert!(r.kv_pending() && !r.hub_pending());
        assert!(!r.kv_due(10_500));
        assert!(r.kv_due(11_000));
        assert_eq!(next_attempt(&[r], 10_500, None), Some(11_000));
        assert_eq!(next_attempt(&[r], 12_000, None), Some(12_000));
    }

    #[test]
    fn the_hub_goes_at_once_and_nothing_pending_means_no_alarm() {
        assert_eq!(
            next_attempt(&[row(5, 5, 10_000, 4)], 10_100, None),
            Some(10_100)
        );
        assert_eq!(next_attempt(&[row(5, 5, 10_000, 5)], 10_100, None), None);
        assert_eq!(next_attempt(&[], 10_100, None), None);
    }

    #[test]
    fn keys_waiting_for_kv_are_sent_together() {
        let rows = [
            row(5, 3, 10_000, 5),
            row(6, 2, 10_400, 6),
            row(7, 1, 10_200, 7),
        ];
        assert_eq!(next_attempt(&rows, 10_500, None), Some(11_400));
        // Anything that can go now goes now (and takes the others that are due along).
        let mut with_hub = rows.to_vec();
        with_hub.push(row(8, 8, 0, 4));
        assert_eq!(next_attempt(&with_hub, 10_500, None), Some(10_500));
    }

    #[test]
    fn after_a_failure_nothing_goes_before_the_retry() {
        let rows = [row(2, 0, 0, 2), row(3, 3, 0, 1)];
        assert_eq!(next_attempt(&rows, 100, Some(4_100)), Some(4_100));
        assert_eq!(next_attempt(&[row(2, 2, 0, 2)], 100, Some(4_100)), None);
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let waits: Vec<u64> = (1..=8).map(backoff_ms).collect();
        assert_eq!(
            waits,
            [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]
        );
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(u32::MAX), MAX_BACKOFF_MS);
    }
}
