//! When a `Room` object sends its committed changes on: to KV (the list readers list) and to
//! the app's `Hub` (the app-wide subscribers). Pure functions, tested natively.
//!
//! Every record row carries the object's change counter at its last change (`version`), the
//! version KV has (`kv_version`, written at `kv_at`) and the version the hub has
//! (`hub_version`). A row is pending while either is behind. Only the latest version of a
//! key is ever sent, so a burst of changes to one key is one write; one object owns the key
//! and sends one batch at a time, so an older record never replaces a newer one.

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
/// now, else when the earliest key may be written again; never before `retry_at` (after a
/// failure).
pub fn next_attempt(rows: &[Progress], now: u64, retry_at: Option<u64>) -> Option<u64> {
    let earliest = rows
        .iter()
        .flat_map(|r| {
            let hub = r.hub_pending().then_some(now);
            let kv = r.kv_due_at().map(|at| at.max(now));
            hub.into_iter().chain(kv)
        })
        .min()?;
    Some(earliest.max(retry_at.unwrap_or(0)))
}

/// The wait after the `failures`-th failure in a row: 1 s, 2 s, 4 s, ... up to a minute.
pub fn backoff_ms(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(1).min(16);
    (1_000u64 << doublings).min(MAX_BACKOFF_MS)
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
