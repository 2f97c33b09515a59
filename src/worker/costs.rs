//! What the Worker's work costs, counted as Cloudflare bills it: invocations, Durable Object
//! requests and alarm runs by class, SQLite rows read and written by class, KV operations,
//! queue messages, outbound requests. Counted in the isolate that does the work (locally, the
//! Worker and every object share one), read and reset by `GET /costs` when
//! `COST_ACCOUNTING=true`: `bench/cost.mjs` and the cost tests measure with it.
//!
//! Counting is a few additions per operation and always on; only the route is gated.

use std::cell::RefCell;

use serde::Serialize;

/// The Durable Object classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `Room`.
    Room,
    /// `Nonces`.
    Nonces,
    /// `Hub`.
    Hub,
    /// `Deliveries`.
    Deliveries,
}

/// The work of each class's objects.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[allow(non_snake_case)]
pub struct Objects {
    /// `Room`.
    pub Room: ObjectCosts,
    /// `Nonces`.
    pub Nonces: ObjectCosts,
    /// `Hub`.
    pub Hub: ObjectCosts,
    /// `Deliveries`.
    pub Deliveries: ObjectCosts,
}

/// One Durable Object class's work.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ObjectCosts {
    /// Requests to its objects (`fetch`).
    pub requests: u64,
    /// Alarm runs.
    pub alarms: u64,
    /// Alarms set (a storage write each).
    pub alarm_sets: u64,
    /// SQLite rows read.
    pub rows_read: u64,
    /// SQLite rows written.
    pub rows_written: u64,
}

/// Everything counted since the last reset.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Costs {
    /// Worker invocations by HTTP request.
    pub worker_requests: u64,
    /// Worker invocations by a queue batch.
    pub queue_batches: u64,
    /// Durable Objects, by class.
    pub objects: Objects,
    /// KV writes.
    pub kv_writes: u64,
    /// KV reads.
    pub kv_reads: u64,
    /// KV list calls.
    pub kv_lists: u64,
    /// Messages put on a queue.
    pub queue_messages: u64,
    /// Outbound requests (deliveries to endpoints).
    pub fetches: u64,
}

thread_local! {
    static COSTS: RefCell<Costs> = RefCell::new(Costs::default());
}

/// Adds to the counters.
pub fn count(f: impl FnOnce(&mut Costs)) {
    COSTS.with(|c| f(&mut c.borrow_mut()));
}

/// Adds to one class's counters.
pub fn object(class: Class, f: impl FnOnce(&mut ObjectCosts)) {
    count(|c| {
        f(match class {
            Class::Room => &mut c.objects.Room,
            Class::Nonces => &mut c.objects.Nonces,
            Class::Hub => &mut c.objects.Hub,
            Class::Deliveries => &mut c.objects.Deliveries,
        })
    });
}

/// The counters, and (with `reset`) zero from now on.
pub fn take(reset: bool) -> Costs {
    COSTS.with(|c| {
        if reset {
            std::mem::take(&mut *c.borrow_mut())
        } else {
            c.borrow().clone()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_reset() {
        take(true);
        count(|c| c.worker_requests += 1);
        object(Class::Room, |o| o.rows_written += 3);
        object(Class::Room, |o| o.rows_written += 1);
        let seen = take(true);
        assert_eq!(seen.worker_requests, 1);
        assert_eq!(seen.objects.Room.rows_written, 4);
        assert_eq!(take(false), Costs::default());
    }
}
