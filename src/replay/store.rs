//! Where a Rust server keeps its claims: the [`NonceStore`] trait and the in-memory
//! [`MemoryNonceStore`].
//!
//! Both live in the core, beside the rules they drive, rather than behind the `axum` feature:
//! neither needs a runtime or a dependency (the trait's future is any `Send` future, the
//! memory store's is ready at once), so any Rust server (axum, actix, hyper, a Lambda) can
//! claim with them. The memory store is the one part of the core that keeps time, for its
//! claims' expiry: a monotonic clock it reads itself, or one given to it
//! ([`MemoryNonceStore::clock`]); receiving never reads it.
//!
//! Every function here is `#[inline]`, so that it is compiled only in a crate that calls it:
//! compiled into this crate, the memory store changed the Worker's wasm (which keeps its
//! claims elsewhere and never calls it) by a few dozen bytes. With it, the npm `.wasm` and the
//! Worker's are the same, byte for byte, as without this module.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::future::{self, Future};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{decide, Claim};
use crate::Error;

/// A store of claims, shared by every process that receives callbacks for the same secrets.
///
/// `claim` records `digest` under `key` for `ttl_seconds` unless a live claim is held there,
/// and answers as [`decide`] does: [`Claim::New`] (recorded now), [`Claim::Same`] (held with
/// this digest: a retry) or [`Claim::Other`] (held with another digest: a replay). The check
/// and the write must be one atomic step (Redis `SET NX`, an `INSERT` that fails on a
/// duplicate key), or two replays arriving together can both be `New`.
///
/// An error makes the callback `storage_failed` (503, so ZEGO retries). Its message is kept
/// from the answer (a store's errors can name hosts and addresses), except for the crate's
/// own [`Error::Storage`], whose message is written for the sender (the memory store's "full").
pub trait NonceStore: Send + Sync {
    /// What a failed claim returns.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Claims `key` with `digest` for `ttl_seconds`; see the trait's documentation.
    fn claim(
        &self,
        key: &str,
        digest: &str,
        ttl_seconds: u64,
    ) -> impl Future<Output = Result<Claim, Self::Error>> + Send;
}

/// How many claims a [`MemoryNonceStore`] holds unless told otherwise.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

type Clock = Box<dyn Fn() -> Duration + Send + Sync>;

/// Claims in memory, until they expire: for one process (several processes behind a load
/// balancer need a shared store, such as the README's Redis recipe).
///
/// At most [`max_entries`](MemoryNonceStore::max_entries) claims are held. Expired ones are
/// dropped as new ones come; when every held claim is still live, a new one is refused with
/// [`Error::Storage`] (503, so ZEGO retries) rather than a live claim forgotten, which would
/// let its signature be replayed.
pub struct MemoryNonceStore {
    claims: Mutex<Claims>,
    max_entries: usize,
    now: Clock,
}

#[derive(Default)]
struct Claims {
    /// Key to (digest, expiry).
    held: HashMap<String, (String, Duration)>,
    /// (expiry, key), soonest first: what to drop when.
    by_expiry: BTreeSet<(Duration, String)>,
}

impl Claims {
    #[inline]
    fn drop_expired(&mut self, now: Duration) {
        while let Some(first) = self.by_expiry.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, key)) = self.by_expiry.pop_first() {
                self.held.remove(&key);
            }
        }
    }

    #[inline]
    fn insert(&mut self, key: &str, digest: &str, expires: Duration) {
        if let Some((_, old)) = self
            .held
            .insert(key.to_owned(), (digest.to_owned(), expires))
        {
            self.by_expiry.remove(&(old, key.to_owned()));
        }
        self.by_expiry.insert((expires, key.to_owned()));
    }
}

impl MemoryNonceStore {
    /// A store of at most [`DEFAULT_MAX_ENTRIES`] claims, timed by a monotonic clock.
    #[inline]
    pub fn new() -> Self {
        let start = Instant::now();
        MemoryNonceStore {
            claims: Mutex::new(Claims::default()),
            max_entries: DEFAULT_MAX_ENTRIES,
            now: Box::new(move || start.elapsed()),
        }
    }

    /// Sets how many claims are held at most (at least one).
    #[inline]
    pub fn max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries.max(1);
        self
    }

    /// Sets the clock: the time since any fixed moment, never going back. For tests, and for
    /// targets without [`Instant`] (`wasm32-unknown-unknown`).
    #[inline]
    pub fn clock(mut self, now: impl Fn() -> Duration + Send + Sync + 'static) -> Self {
        self.now = Box::new(now);
        self
    }

    /// How many claims are held, expired ones not yet dropped included.
    #[inline]
    pub fn len(&self) -> usize {
        self.lock().held.len()
    }

    /// Whether no claim is held.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn lock(&self) -> std::sync::MutexGuard<'_, Claims> {
        // Nothing panics while the lock is held; a poisoned lock still holds whole claims.
        self.claims.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Claims `key` now; what [`NonceStore::claim`] answers.
    #[inline]
    pub fn claim_now(&self, key: &str, digest: &str, ttl_seconds: u64) -> Result<Claim, Error> {
        let now = (self.now)();
        let mut claims = self.lock();
        claims.drop_expired(now);
        let decision = decide(claims.held.get(key).map(|(d, _)| d.as_str()), digest);
        if decision != Claim::New {
            return Ok(decision);
        }
        if claims.held.len() >= self.max_entries {
            return Err(Error::Storage {
                reason: format!(
                    "the nonce store is full: {} claims are still inside the window \
                     (raise max_entries, or use a shared store)",
                    self.max_entries
                ),
            });
        }
        let expires = now.saturating_add(Duration::from_secs(ttl_seconds));
        claims.insert(key, digest, expires);
        Ok(decision)
    }
}

impl Default for MemoryNonceStore {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryNonceStore {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryNonceStore")
            .field("len", &self.len())
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

impl NonceStore for MemoryNonceStore {
    type Error = Error;

    #[inline]
    fn claim(
        &self,
        key: &str,
        digest: &str,
        ttl_seconds: u64,
    ) -> impl Future<Output = Result<Claim, Error>> + Send {
        future::ready(self.claim_now(key, digest, ttl_seconds))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use super::*;

    /// A store whose clock moves only when the test says so (seconds).
    fn store(max_entries: usize) -> (MemoryNonceStore, Arc<AtomicU64>) {
        let secs = Arc::new(AtomicU64::new(1_000));
        let clock = Arc::clone(&secs);
        let store = MemoryNonceStore::new()
            .max_entries(max_entries)
            .clock(move || Duration::from_secs(clock.load(Ordering::SeqCst)));
        (store, secs)
    }

    #[test]
    fn answers_new_then_same_for_the_same_digest_and_other_for_another() {
        let (s, _) = store(10);
        assert_eq!(s.claim_now("1:n", "d1", 60), Ok(Claim::New));
        assert_eq!(s.claim_now("1:n", "d1", 60), Ok(Claim::Same));
        assert_eq!(s.claim_now("1:n", "d2", 60), Ok(Claim::Other));
        assert_eq!(s.claim_now("2:n", "d2", 60), Ok(Claim::New));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn a_claim_expires_after_its_ttl_and_not_before() {
        let (s, secs) = store(10);
        assert_eq!(s.claim_now("k", "d1", 60), Ok(Claim::New));
        secs.store(1_059, Ordering::SeqCst);
        assert_eq!(s.claim_now("k", "d2", 60), Ok(Claim::Other));
        secs.store(1_060, Ordering::SeqCst);
        assert_eq!(s.claim_now("k", "d2", 60), Ok(Claim::New));
        // The new claim runs from now: the old expiry does not drop it.
        secs.store(1_119, Ordering::SeqCst);
        assert_eq!(s.claim_now("k", "d1", 60), Ok(Claim::Other));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_full_store_refuses_rather_than_forgets_a_live_claim() {
        let (s, secs) = store(2);
        assert_eq!(s.claim_now("a", "d", 60), Ok(Claim::New));
        assert_eq!(s.claim_now("b", "d", 120), Ok(Claim::New));
        let e = s.claim_now("c", "d", 60).unwrap_err();
        assert_eq!(e.code(), "storage_failed");
        assert_eq!(e.status(), 503);
        assert!(e.to_string().contains("full"), "{e}");
        // Held claims still answer while full.
        assert_eq!(s.claim_now("a", "d", 60), Ok(Claim::Same));
        assert_eq!(s.claim_now("b", "x", 60), Ok(Claim::Other));
        // Once `a` expires there is room again, and `b` (longer ttl) is kept.
        secs.store(1_060, Ordering::SeqCst);
        assert_eq!(s.claim_now("c", "d", 60), Ok(Claim::New));
        assert_eq!(s.claim_now("b", "x", 60), Ok(Claim::Other));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn expired_claims_are_dropped_in_expiry_order_whatever_their_ttl() {
        let (s, secs) = store(100);
        s.claim_now("long", "d", 600).unwrap();
        s.claim_now("short", "d", 60).unwrap();
        secs.store(1_061, Ordering::SeqCst);
        s.claim_now("next", "d", 60).unwrap();
        assert_eq!(s.len(), 2, "the short claim is gone, the long one kept");
        assert_eq!(s.claim_now("long", "x", 60), Ok(Claim::Other));
    }

    #[test]
    fn huge_ttls_saturate() {
        let (s, _) = store(1);
        assert_eq!(s.claim_now("k", "d", u64::MAX), Ok(Claim::New));
        assert_eq!(s.claim_now("k", "d", u64::MAX), Ok(Claim::Same));
    }

    #[test]
    fn max_entries_is_at_least_one() {
        let (s, _) = store(0);
        assert_eq!(s.claim_now("k", "d", 60), Ok(Claim::New));
        assert!(s.claim_now("j", "d", 60).is_err());
    }

    #[test]
    fn claims_through_the_trait() {
        let (s, _) = store(10);
        let claimed = NonceStore::claim(&s, "k", "d", 60);
        // The memory store's future is ready at once: poll it without a runtime.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut claimed = std::pin::pin!(claimed);
        assert_eq!(
            claimed.as_mut().poll(&mut cx),
            std::task::Poll::Ready(Ok(Claim::New))
        );
    }
}
