//! The Durable Objects' SQLite storage, with every failure mapped to [`Error::Storage`].
//! Every call is synchronous: a read and the write that follows it, with no `await` between
//! them, cannot be interleaved with another request.

use ::worker::{SqlStorageValue, State};
use std::cell::Cell;

use crate::Error;

/// An integer for a SQL binding (every one here is far below 2^53: times, counters).
pub fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

pub(crate) fn storage(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage {
        reason: format!("{what}: {e}"),
    }
}

/// An object's SQLite storage. Every call is synchronous: a read and the write that follows
/// it, with no `await` between them, cannot be interleaved with another request.
pub struct Sql {
    sql: ::worker::SqlStorage,
    /// The object's class, whose rows read and written are counted ([`super::costs`]).
    class: super::costs::Class,
}

impl Sql {
    /// The storage of `state`'s object of `class`, its tables created on the instance's
    /// first use (`ready` remembers that).
    pub fn open(
        state: &State,
        class: super::costs::Class,
        ready: &Cell<bool>,
        schema: &[&str],
    ) -> Result<Sql, Error> {
        let sql = Sql {
            sql: state.storage().sql(),
            class,
        };
        if !ready.get() {
            sql.schema(schema)?;
            ready.set(true);
        }
        Ok(sql)
    }

    /// Creates the tables and indexes if they do not exist.
    pub fn schema(&self, statements: &[&str]) -> Result<(), Error> {
        for statement in statements {
            self.exec(statement, Vec::new())?;
        }
        Ok(())
    }

    fn counted(&self, cursor: &::worker::SqlCursor) {
        let (read, written) = (cursor.rows_read() as u64, cursor.rows_written() as u64);
        super::costs::object(self.class, |o| {
            o.rows_read += read;
            o.rows_written += written;
        });
    }

    /// Runs a statement.
    pub fn exec(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<(), Error> {
        let cursor = self
            .sql
            .exec(query, bindings)
            .map_err(|e| storage("SQL failed", e))?;
        self.counted(&cursor);
        Ok(())
    }

    /// Runs a query and reads its rows, each a list of column values in the query's order
    /// (read without a deserializer per row type: smaller code).
    pub fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Row>, Error> {
        let cursor = self
            .sql
            .exec(query, bindings)
            .map_err(|e| storage("SQL failed", e))?;
        let rows = cursor
            .raw()
            .map(|row| {
                row.map(|values| Row { values })
                    .map_err(|e| storage("SQL failed", e))
            })
            .collect();
        self.counted(&cursor);
        rows
    }
}

/// One row of a query, its columns by position.
pub struct Row {
    values: Vec<SqlStorageValue>,
}

impl Row {
    fn column(&self, i: usize) -> Result<&SqlStorageValue, Error> {
        self.values
            .get(i)
            .ok_or_else(|| storage("SQL failed", format!("no column {i}")))
    }

    /// A TEXT column.
    pub fn text(&self, i: usize) -> Result<String, Error> {
        match self.column(i)? {
            SqlStorageValue::String(s) => Ok(s.clone()),
            other => Err(storage(
                "SQL failed",
                format!("column {i} is {other:?}, not text"),
            )),
        }
    }

    /// An INTEGER column (never negative here); `None` for NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<u64>, Error> {
        match self.column(i)? {
            SqlStorageValue::Null => Ok(None),
            SqlStorageValue::Integer(n) => Ok(Some(u64::try_from(*n).unwrap_or(0))),
            // Whole numbers below 2^53 only: times and counters.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            SqlStorageValue::Float(f) if f.fract() == 0.0 && *f >= 0.0 => Ok(Some(*f as u64)),
            other => Err(storage(
                "SQL failed",
                format!("column {i} is {other:?}, not an integer"),
            )),
        }
    }

    /// An INTEGER column that is never NULL.
    pub fn int(&self, i: usize) -> Result<u64, Error> {
        self.opt_int(i)?
            .ok_or_else(|| storage("SQL failed", format!("column {i} is NULL")))
    }
}
