//! Call history in SQLite (compiled in via rusqlite's `bundled` feature), in WAL mode so the UI can read while a
//! call is being recorded.
//!
//! One row per call: direction, peer URI, display name, start time, duration, result (final call state plus the
//! SIP status code and reason phrase of RFC 3261 §7.2 when the call failed) and the final media statistics as JSON
//! text. [`CallHistory::list`] gives newest first; [`CallHistory::search_peer`] and
//! [`CallHistory::peer_suggestions`] match a typed prefix for dial completion, ignoring the URI scheme and case.
//!
//! The schema version is SQLite's `user_version`. [`CallHistory::open`] applies the missing migrations in order,
//! each in its own transaction, and refuses a database from a newer Dialtone rather than damage it:
//! - 1: the `calls` table;
//! - 2: `peer_key`, the normalized peer (scheme stripped, lower case) for prefix search, backfilled and indexed.

use crate::event::{CallState, Direction};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Migrations in order; entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: [fn(&Transaction<'_>) -> rusqlite::Result<()>; 2] = [migrate_to_1, migrate_to_2];

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallResult {
    /// Final state (`FINISH`, `BUSY`, `FAILED`, ...).
    pub state: CallState,
    /// The SIP final response code when there was one (486, 603, 408 ...).
    pub code: Option<u16>,
    /// The reason phrase or a description of the failure; may be empty.
    pub reason: String,
}

/// One call in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    /// Row id, assigned by [`CallHistory::insert`] (ignored there).
    pub id: i64,
    /// The profile the call was made or received on; may be empty.
    pub profile_id: String,
    /// Who placed the call.
    pub direction: Direction,
    /// The peer's SIP or tel URI, as dialed or as shown in the From header.
    pub peer: String,
    /// The peer's display name; may be empty.
    pub display_name: String,
    /// Start time, milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// How long the call was connected, in milliseconds (0 when never answered).
    pub duration_ms: u64,
    /// How it ended.
    pub result: CallResult,
    /// Final media statistics as JSON text; empty when there were none.
    pub stats_json: String,
}

/// A peer to offer when completing a dial field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerSuggestion {
    /// The peer URI of the most recent call with this peer.
    pub peer: String,
    /// The display name seen on that call.
    pub display_name: String,
    /// When that call started (ms since the Unix epoch).
    pub last_call_ms: i64,
    /// How many calls the history holds with this peer.
    pub calls: u64,
}

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite failed.
    #[error("Call history database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The parent directory of the database could not be created.
    #[error("Could not create the call history directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database was written by a newer Dialtone; it was left untouched.
    #[error(
        "The call history was written by a newer Dialtone (schema {found}; this version knows up to \
         {SCHEMA_VERSION}). Update Dialtone; the history was left untouched."
    )]
    NewerSchema {
        /// The database's schema version.
        found: u32,
    },
    /// A row holds a value this version does not understand.
    #[error("Call history entry {id} is unreadable: {detail}")]
    BadRow {
        /// Row id.
        id: i64,
        /// What is wrong.
        detail: String,
    },
}

/// The call history database. Not `Sync`: share it behind a `Mutex`.
#[derive(Debug)]
pub struct CallHistory {
    conn: Connection,
}

impl CallHistory {
    /// Opens (creating it and its directory if needed) the history database at `path`, switches it to WAL and
    /// migrates it to [`SCHEMA_VERSION`].
    pub fn open(path: impl AsRef<Path>) -> Result<CallHistory, HistoryError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| HistoryError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // WAL lets the UI read while a call is recorded; NORMAL sync is crash-safe in WAL mode.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::migrated(conn)
    }

    /// A history in memory (tests, or when the data directory is unusable).
    pub fn open_in_memory() -> Result<CallHistory, HistoryError> {
        Self::migrated(Connection::open_in_memory()?)
    }

    fn migrated(mut conn: Connection) -> Result<CallHistory, HistoryError> {
        let found = user_version(&conn)?;
        if found > SCHEMA_VERSION {
            return Err(HistoryError::NewerSchema { found });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = conn.transaction()?;
            migration(&tx)?;
            // `index + 1` is at most MIGRATIONS.len(), a small constant.
            tx.pragma_update(None, "user_version", index as u32 + 1)?;
            tx.commit()?;
        }
        Ok(CallHistory { conn })
    }

    /// The database's schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, HistoryError> {
        user_version(&self.conn)
    }

    /// The journal mode in effect (`wal` for a file database; `memory` in memory).
    pub fn journal_mode(&self) -> Result<String, HistoryError> {
        Ok(self
            .conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))?)
    }

    /// Records a call and returns its row id (`call.id` is ignored).
    pub fn insert(&self, call: &CallRecord) -> Result<i64, HistoryError> {
        self.conn.execute(
            "INSERT INTO calls (profile_id, direction, peer, peer_key, display_name, started_at_ms, duration_ms,
                                state, code, reason, stats_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                call.profile_id,
                direction_name(call.direction),
                call.peer,
                peer_key(&call.peer),
                call.display_name,
                call.started_at_ms,
                i64::try_from(call.duration_ms).unwrap_or(i64::MAX),
                state_name(call.result.state),
                call.result.code,
                call.result.reason,
                call.stats_json,
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Stores the final statistics of a call recorded earlier; `false` when there is no such row.
    pub fn set_stats(&self, id: i64, stats_json: &str) -> Result<bool, HistoryError> {
        Ok(self.conn.execute(
            "UPDATE calls SET stats_json = ?1 WHERE id = ?2",
            params![stats_json, id],
        )? == 1)
    }

    /// Up to `limit` calls, newest first, skipping the `offset` newest.
    pub fn list(&self, limit: usize, offset: usize) -> Result<Vec<CallRecord>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM calls ORDER BY started_at_ms DESC, id DESC LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt.query_map(params![to_sql_count(limit), to_sql_count(offset)], read_row)?;
        collect(rows)
    }

    /// One call by row id.
    pub fn get(&self, id: i64) -> Result<Option<CallRecord>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM calls WHERE id = ?1"))?;
        match stmt.query_row(params![id], read_row).optional()? {
            Some(row) => Ok(Some(row?)),
            None => Ok(None),
        }
    }

    /// Up to `limit` calls whose peer starts with `prefix` (scheme and case ignored: `bo`, `sip:Bo` and `BOB@`
    /// all find `sip:bob@example.com`), newest first.
    pub fn search_peer(&self, prefix: &str, limit: usize) -> Result<Vec<CallRecord>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM calls WHERE peer_key LIKE ?1 ESCAPE '\\'
             ORDER BY started_at_ms DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![like_prefix(prefix), to_sql_count(limit)], read_row)?;
        collect(rows)
    }

    /// Distinct peers starting with `prefix` (as in [`CallHistory::search_peer`]), most recently called first:
    /// what a dial field offers as completions.
    pub fn peer_suggestions(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<PeerSuggestion>, HistoryError> {
        // SQLite takes the bare columns of an aggregate query from the row that holds max().
        let mut stmt = self.conn.prepare_cached(
            "SELECT peer, display_name, max(started_at_ms), count(*) FROM calls WHERE peer_key LIKE ?1 ESCAPE '\\'
             GROUP BY peer_key ORDER BY max(started_at_ms) DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![like_prefix(prefix), to_sql_count(limit)], |row| {
            Ok(PeerSuggestion {
                peer: row.get(0)?,
                display_name: row.get(1)?,
                last_call_ms: row.get(2)?,
                calls: row.get::<_, i64>(3)?.try_into().unwrap_or(0),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Deletes one call; `false` when there was no such row.
    pub fn delete(&self, id: i64) -> Result<bool, HistoryError> {
        Ok(self
            .conn
            .execute("DELETE FROM calls WHERE id = ?1", params![id])?
            == 1)
    }

    /// Deletes every call and returns how many there were.
    pub fn clear(&self) -> Result<usize, HistoryError> {
        Ok(self.conn.execute("DELETE FROM calls", [])?)
    }
}

const COLUMNS: &str =
    "id, profile_id, direction, peer, display_name, started_at_ms, duration_ms, state, code, reason, stats_json";

fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<CallRecord, HistoryError>> {
    let id: i64 = row.get(0)?;
    let direction: String = row.get(2)?;
    let state: String = row.get(7)?;
    let code: Option<i64> = row.get(8)?;
    let duration: i64 = row.get(6)?;
    let bad = |detail: String| Ok(Err(HistoryError::BadRow { id, detail }));
    let Some(direction) = direction_from_name(&direction) else {
        return bad(format!("unknown direction \"{direction}\""));
    };
    let Some(state) = state_from_name(&state) else {
        return bad(format!("unknown call state \"{state}\""));
    };
    let code = match code.map(u16::try_from) {
        None => None,
        Some(Ok(code)) => Some(code),
        Some(Err(_)) => return bad(format!("status code {code:?} out of range")),
    };
    Ok(Ok(CallRecord {
        id,
        profile_id: row.get(1)?,
        direction,
        peer: row.get(3)?,
        display_name: row.get(4)?,
        started_at_ms: row.get(5)?,
        duration_ms: u64::try_from(duration).unwrap_or(0),
        result: CallResult {
            state,
            code,
            reason: row.get(9)?,
        },
        stats_json: row.get(10)?,
    }))
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<Result<CallRecord, HistoryError>>>,
) -> Result<Vec<CallRecord>, HistoryError> {
    rows.map(|row| row?).collect()
}

fn user_version(conn: &Connection) -> Result<u32, HistoryError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    // A negative user_version was not written by Dialtone; treat it as newer than anything we know.
    Ok(u32::try_from(v).unwrap_or(u32::MAX))
}

fn to_sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The peer as compared by prefix search: without `<` `>`, the URI scheme and surrounding spaces, in lower case.
pub fn peer_key(peer: &str) -> String {
    let trimmed = peer
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let lower = trimmed.to_lowercase();
    for scheme in ["sips:", "sip:", "tel:", "callto:"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            return rest.to_string();
        }
    }
    lower
}

/// A LIKE pattern matching keys that start with the normalized `prefix`, with LIKE's wildcards escaped.
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::new();
    for c in peer_key(prefix).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Outgoing => "outgoing",
        Direction::Incoming => "incoming",
    }
}

fn direction_from_name(s: &str) -> Option<Direction> {
    [Direction::Outgoing, Direction::Incoming]
        .into_iter()
        .find(|&d| direction_name(d) == s)
}

/// The stored name of a call state: the same text as its JSON form.
fn state_name(s: CallState) -> &'static str {
    match s {
        CallState::Pending => "PENDING",
        CallState::Trying => "TRYING",
        CallState::Ring => "RING",
        CallState::RingMedia => "RING_MEDIA",
        CallState::Established => "ESTABLISHED",
        CallState::Hold => "HOLD",
        CallState::Busy => "BUSY",
        CallState::Finish => "FINISH",
        CallState::Failed => "FAILED",
    }
}

fn state_from_name(s: &str) -> Option<CallState> {
    use CallState::*;
    [
        Pending,
        Trying,
        Ring,
        RingMedia,
        Established,
        Hold,
        Busy,
        Finish,
        Failed,
    ]
    .into_iter()
    .find(|&state| state_name(state) == s)
}

fn migrate_to_1(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE calls (
             id            INTEGER PRIMARY KEY,
             profile_id    TEXT    NOT NULL DEFAULT '',
             direction     TEXT    NOT NULL,
             peer          TEXT    NOT NULL,
             display_name  TEXT    NOT NULL DEFAULT '',
             started_at_ms INTEGER NOT NULL,
             duration_ms   INTEGER NOT NULL DEFAULT 0,
             state         TEXT    NOT NULL,
             code          INTEGER,
             reason        TEXT    NOT NULL DEFAULT '',
             stats_json    TEXT    NOT NULL DEFAULT ''
         );
         CREATE INDEX calls_by_start ON calls (started_at_ms);",
    )
}

fn migrate_to_2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE calls ADD COLUMN peer_key TEXT NOT NULL DEFAULT ''")?;
    let peers: Vec<(i64, String)> = tx
        .prepare("SELECT id, peer FROM calls")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE calls SET peer_key = ?1 WHERE id = ?2")?;
    for (id, peer) in peers {
        update.execute(params![peer_key(&peer), id])?;
    }
    tx.execute_batch("CREATE INDEX calls_by_peer_key ON calls (peer_key)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_keys_ignore_scheme_case_and_brackets() {
        assert_eq!(peer_key("sip:Bob@Example.com"), "bob@example.com");
        assert_eq!(peer_key(" <SIPS:bob@x>"), "bob@x");
        assert_eq!(peer_key("tel:+4930123"), "+4930123");
        assert_eq!(like_prefix("sip:50%_a"), "50\\%\\_a%");
    }

    #[test]
    fn state_names_match_the_json_form() {
        use CallState::*;
        for state in [
            Pending,
            Trying,
            Ring,
            RingMedia,
            Established,
            Hold,
            Busy,
            Finish,
            Failed,
        ] {
            let json = serde_json::to_string(&state).expect("state serializes");
            assert_eq!(json, format!("\"{}\"", state_name(state)));
            assert_eq!(state_from_name(state_name(state)), Some(state));
        }
    }
}
