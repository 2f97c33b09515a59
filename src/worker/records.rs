//! A `Room` object's tables: `records`, the authoritative records of its scope, each with the
//! outbox's progress (which version KV and the hub hold), and `meta`, its identity and
//! counters. Every statement is synchronous: a read and the writes decided from it run with
//! nothing in between.
//!
//! It knows how rows are laid out and what each column means; it decides nothing (the live
//! rules decide what to write, the outbox when to send).

use std::cell::RefCell;

use ::worker::{SqlStorageValue, State};

use super::names::Identity;
use super::outbox::Progress;
use super::sql::{int, Row, Sql};
use crate::live::{self, KeyWrite, LiveStream, Records, Stored, STREAM_PREFIX};
use crate::Error;

/// The tables, created on an instance's first use. Both are keyed by their primary key
/// alone (`WITHOUT ROWID`): a change writes one row, not a row and an index entry.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value TEXT NOT NULL, \
     expires_at INTEGER, at INTEGER NOT NULL, version INTEGER NOT NULL, \
     kv_version INTEGER NOT NULL, kv_at INTEGER NOT NULL, hub_version INTEGER NOT NULL) \
     WITHOUT ROWID",
];

/// The `meta` values of an instance, read once (only the object writes them).
#[derive(Default)]
pub struct MetaCache(RefCell<Option<Vec<(String, String)>>>);

/// One row KV or the hub lacks, as [`Table::pending`] reads it.
pub struct PendingRow {
    /// The live-list key.
    pub key: String,
    /// The record's JSON.
    pub value: String,
    /// When a tombstone expires, Unix ms.
    pub expires_at: Option<u64>,
    /// When the change was applied, Unix ms.
    pub at: u64,
    /// The outbox's view of the row.
    pub progress: Progress,
}

/// The rows KV or the hub lacks, oldest change first: the columns [`PendingRow::read`]
/// reads, the first four of them those [`Progress::read`] reads.
const PENDING: &str = "SELECT version, kv_version, kv_at, hub_version, key, value, expires_at, \
                       at FROM records WHERE version > kv_version OR version > hub_version \
                       ORDER BY version LIMIT ?";

/// The same rows' progress alone.
const PROGRESS: &str = "SELECT version, kv_version, kv_at, hub_version FROM records \
                        WHERE version > kv_version OR version > hub_version LIMIT ?";

impl Progress {
    /// The first four columns of [`PENDING`] and [`PROGRESS`].
    fn read(row: &Row) -> Result<Progress, Error> {
        Ok(Progress {
            version: row.int(0)?,
            kv_version: row.int(1)?,
            kv_at: row.int(2)?,
            hub_version: row.int(3)?,
        })
    }
}

impl PendingRow {
    /// Every column of [`PENDING`].
    fn read(row: &Row) -> Result<PendingRow, Error> {
        Ok(PendingRow {
            progress: Progress::read(row)?,
            key: row.text(4)?,
            value: row.text(5)?,
            expires_at: row.opt_int(6)?,
            at: row.int(7)?,
        })
    }

    /// The record.
    pub fn record(&self) -> Result<Stored, Error> {
        parse_stored(&self.key, &self.value)
    }
}

fn parse_stored(key: &str, value: &str) -> Result<Stored, Error> {
    Stored::from_json(value).map_err(|e| Error::Storage {
        reason: format!("the record under `{key}` is not valid: {e}"),
    })
}

/// The end of a prefix range: the prefix with its last byte raised by one (every prefix
/// here ends with `:`).
fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.to_owned();
    if let Some(last) = end.pop() {
        end.push(char::from_u32(u32::from(last) + 1).unwrap_or(char::MAX));
    }
    end
}

/// A `Room` object's tables.
pub struct Table<'a> {
    sql: Sql,
    meta: &'a MetaCache,
}

impl<'a> Table<'a> {
    /// The tables of `state`'s object (`ready` remembers they were created).
    pub fn open(
        state: &State,
        ready: &std::cell::Cell<bool>,
        meta: &'a MetaCache,
    ) -> Result<Table<'a>, Error> {
        Ok(Table {
            sql: Sql::open(state, super::costs::Class::Room, ready, SCHEMA)?,
            meta,
        })
    }

    /// A value of the `meta` table.
    pub fn meta(&self, name: &str) -> Result<Option<String>, Error> {
        if self.meta.0.borrow().is_none() {
            let loaded = self
                .sql
                .rows("SELECT name, value FROM meta", Vec::new())?
                .iter()
                .map(|r| Ok((r.text(0)?, r.text(1)?)))
                .collect::<Result<Vec<_>, Error>>()?;
            *self.meta.0.borrow_mut() = Some(loaded);
        }
        Ok(self.meta.0.borrow().as_ref().and_then(|pairs| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        }))
    }

    /// Sets a value of the `meta` table.
    pub fn set_meta(&self, name: &str, value: &str) -> Result<(), Error> {
        self.sql.exec(
            "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
            vec![name.to_owned().into(), value.to_owned().into()],
        )?;
        if let Some(pairs) = self.meta.0.borrow_mut().as_mut() {
            pairs.retain(|(n, _)| n != name);
            pairs.push((name.to_owned(), value.to_owned()));
        }
        Ok(())
    }

    /// A counter of the `meta` table (0 when never set).
    pub fn counter(&self, name: &str) -> Result<u64, Error> {
        Ok(self.meta(name)?.and_then(|n| n.parse().ok()).unwrap_or(0))
    }

    /// The object's identity: what it stored, else what the request names (stored only when
    /// `remember`: a callback's apply, never a read, so that reading a room costs no write).
    /// A request naming another identity than the stored one is refused: two names must never
    /// share one object's records.
    pub fn identity(
        &self,
        named: Option<Identity>,
        remember: bool,
    ) -> Result<Option<Identity>, Error> {
        // One row: `<app>\t<kind>\t<id>` (an app is digits and a kind a word; the id is the
        // rest, whatever it holds).
        let stored = self.meta("identity")?.and_then(|text| {
            let mut parts = text.splitn(3, '\t');
            Some(Identity {
                app: parts.next()?.to_owned(),
                kind: parts.next()?.to_owned(),
                id: parts.next()?.to_owned(),
            })
        });
        match (stored, named) {
            (Some(stored), Some(named)) if stored != named => Err(Error::Storage {
                reason: format!("this object is {stored}, not {named}"),
            }),
            (Some(stored), _) => Ok(Some(stored)),
            (None, Some(named)) => {
                if remember {
                    let text = format!("{}\t{}\t{}", named.app, named.kind, named.id);
                    self.set_meta("identity", &text)?;
                }
                Ok(Some(named))
            }
            (None, None) => Ok(None),
        }
    }

    /// The records as the live driver reads them at `now`; expired tombstones are absent.
    pub fn records(&self, now: u64) -> SqlRecords<'_> {
        SqlRecords {
            sql: &self.sql,
            now,
        }
    }

    /// Writes what the live driver decided, each change with the next value of the object's
    /// change counter (`seq`), applied at `now`; returns the counter after them. A listed
    /// record's KV and hub versions stay as they are, so the outbox sends it; a room
    /// session's record is not listed, so it counts as sent.
    pub fn write(&self, writes: &[KeyWrite], now: u64) -> Result<u64, Error> {
        let mut seq = self.counter("seq")?;
        for write in writes {
            seq += 1;
            let value = serde_json::to_string(&write.record).map_err(|e| Error::Storage {
                reason: format!("could not serialize the record for `{}`: {e}", write.key),
            })?;
            let expires_at = write
                .ttl_seconds
                .map(|ttl| int(now.saturating_add(ttl.saturating_mul(1000))))
                .unwrap_or(SqlStorageValue::Null);
            let mut bindings = vec![
                write.key.clone().into(),
                value.into(),
                expires_at,
                int(now),
                int(seq),
            ];
            if live::is_listed(&write.key) {
                self.sql.exec(
                    "INSERT INTO records (key, value, expires_at, at, version, kv_version, \
                     kv_at, hub_version) VALUES (?, ?, ?, ?, ?, 0, 0, 0) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                     expires_at = excluded.expires_at, at = excluded.at, \
                     version = excluded.version",
                    bindings,
                )?;
            } else {
                bindings.extend([int(seq), int(seq)]);
                self.sql.exec(
                    "INSERT OR REPLACE INTO records (key, value, expires_at, at, version, \
                     kv_version, kv_at, hub_version) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                    bindings,
                )?;
            }
        }
        self.set_meta("seq", &seq.to_string())?;
        Ok(seq)
    }

    /// The room's live streams at `now`, by key.
    pub fn live_streams(&self, now: u64) -> Result<Vec<LiveStream>, Error> {
        let records = self.records(now).scan(STREAM_PREFIX)?;
        Ok(records
            .into_iter()
            .filter_map(|(_, stored)| stored.live_stream().cloned())
            .collect())
    }

    /// Up to `limit` rows KV or the hub lacks, oldest change first.
    pub fn pending(&self, limit: u64) -> Result<Vec<PendingRow>, Error> {
        self.sql
            .rows(PENDING, vec![int(limit)])?
            .iter()
            .map(PendingRow::read)
            .collect()
    }

    /// What the outbox knows of up to `limit` of those rows.
    pub fn progress(&self, limit: u64) -> Result<Vec<Progress>, Error> {
        self.sql
            .rows(PROGRESS, vec![int(limit)])?
            .iter()
            .map(Progress::read)
            .collect()
    }

    /// How many rows KV or the hub lacks.
    pub fn pending_count(&self) -> Result<u64, Error> {
        let rows = self.sql.rows(
            "SELECT COUNT(*) FROM records WHERE version > kv_version OR version > hub_version",
            Vec::new(),
        )?;
        Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0))
    }

    /// What a send delivered of `key`: KV took `kv` (a version, at a time) and the hub took
    /// `hub` (a version), either or both; one write. Never moves back: others may have
    /// sent a newer version meanwhile.
    pub fn sent(&self, key: &str, kv: Option<(u64, u64)>, hub: Option<u64>) -> Result<(), Error> {
        let (kv_version, kv_at) = kv.unwrap_or((0, 0));
        let hub_version = hub.unwrap_or(0);
        self.sql.exec(
            "UPDATE records SET kv_version = MAX(kv_version, ?1), \
             kv_at = CASE WHEN kv_version < ?1 THEN ?2 ELSE kv_at END, \
             hub_version = MAX(hub_version, ?3) \
             WHERE key = ?4 AND (kv_version < ?1 OR hub_version < ?3)",
            vec![
                int(kv_version),
                int(kv_at),
                int(hub_version),
                key.to_owned().into(),
            ],
        )
    }

    /// Deletes tombstones that expired before `now` and were sent everywhere, as KV does.
    pub fn prune(&self, now: u64) -> Result<(), Error> {
        self.sql.exec(
            "DELETE FROM records WHERE expires_at <= ? AND version <= kv_version \
             AND version <= hub_version",
            vec![int(now)],
        )
    }
}

/// The records of a [`Table`] as the live driver reads them; expired tombstones count as
/// absent.
pub struct SqlRecords<'a> {
    sql: &'a Sql,
    now: u64,
}

impl Records for SqlRecords<'_> {
    fn get(&self, key: &str) -> Result<Option<Stored>, Error> {
        let rows = self.sql.rows(
            "SELECT value FROM records WHERE key = ? \
             AND (expires_at IS NULL OR expires_at > ?)",
            vec![key.to_owned().into(), int(self.now)],
        )?;
        rows.first()
            .map(|r| parse_stored(key, &r.text(0)?))
            .transpose()
    }

    fn scan(&self, prefix: &str) -> Result<Vec<(String, Stored)>, Error> {
        let rows = self.sql.rows(
            "SELECT key, value FROM records WHERE key >= ? AND key < ? \
             AND (expires_at IS NULL OR expires_at > ?) ORDER BY key",
            vec![
                prefix.to_owned().into(),
                prefix_end(prefix).into(),
                int(self.now),
            ],
        )?;
        rows.iter()
            .map(|r| {
                let key = r.text(0)?;
                parse_stored(&key, &r.text(1)?).map(|s| (key, s))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_range_ends_past_its_last_byte() {
        assert_eq!(prefix_end("s:"), "s;");
        assert_eq!(prefix_end("s:room:"), "s:room;");
        assert!("s:room:zzz" < prefix_end("s:room:").as_str());
        assert!("s:room;" >= prefix_end("s:room:").as_str());
    }
}
