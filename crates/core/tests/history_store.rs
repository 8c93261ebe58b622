//! Call history: insert, list newest first, prefix search for dial completion, delete, WAL, schema migrations.

use dialtone_core::history::{CallHistory, CallRecord, CallResult, HistoryError, SCHEMA_VERSION};
use dialtone_core::{CallState, Direction};

fn call(peer: &str, started_at_ms: i64, state: CallState) -> CallRecord {
    CallRecord {
        id: 0,
        profile_id: "p1".into(),
        direction: Direction::Outgoing,
        peer: peer.into(),
        display_name: String::new(),
        started_at_ms,
        duration_ms: 0,
        result: CallResult {
            state,
            code: None,
            reason: String::new(),
        },
        stats_json: String::new(),
    }
}

#[test]
fn insert_list_newest_first_and_delete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data").join("history.sqlite3");
    let history = CallHistory::open(&path).expect("open");
    assert_eq!(history.journal_mode().expect("mode"), "wal");
    assert_eq!(history.schema_version().expect("version"), SCHEMA_VERSION);

    let mut answered = call("sip:bob@example.com", 2_000, CallState::Finish);
    answered.direction = Direction::Incoming;
    answered.display_name = "Bob \"B\" Ünal".into();
    answered.duration_ms = 61_500;
    answered.stats_json = r#"{"mos":4.2,"lost":3}"#.into();
    let busy = CallRecord {
        result: CallResult {
            state: CallState::Busy,
            code: Some(486),
            reason: "Busy Here".into(),
        },
        ..call("sip:carol@example.com", 3_000, CallState::Busy)
    };
    let failed = CallRecord {
        result: CallResult {
            state: CallState::Failed,
            code: Some(408),
            reason: "Request Timeout".into(),
        },
        ..call("tel:+4930123456", 1_000, CallState::Failed)
    };
    let a = history.insert(&answered).expect("insert");
    let b = history.insert(&busy).expect("insert");
    let c = history.insert(&failed).expect("insert");
    drop(history);

    let history = CallHistory::open(&path).expect("reopen");
    let listed = history.list(10, 0).expect("list");
    let expect = |record: &CallRecord, id| CallRecord {
        id,
        ..record.clone()
    };
    assert_eq!(
        listed,
        [expect(&busy, b), expect(&answered, a), expect(&failed, c)]
    );
    assert_eq!(history.list(1, 1).expect("page"), [expect(&answered, a)]);
    assert_eq!(history.get(a).expect("get"), Some(expect(&answered, a)));

    assert!(history.set_stats(c, r#"{"mos":1.0}"#).expect("stats"));
    assert_eq!(
        history.get(c).expect("get").expect("row").stats_json,
        r#"{"mos":1.0}"#
    );

    assert!(history.delete(b).expect("delete"));
    assert!(!history.delete(b).expect("delete again"));
    assert_eq!(history.list(10, 0).expect("list").len(), 2);
    assert_eq!(history.clear().expect("clear"), 2);
    assert!(history.list(10, 0).expect("list").is_empty());
}

#[test]
fn peer_prefix_search_for_dial_completion() {
    let history = CallHistory::open_in_memory().expect("open");
    history
        .insert(&call("sip:bob@example.com", 1_000, CallState::Finish))
        .expect("insert");
    history
        .insert(&call("sip:Bob@example.com", 5_000, CallState::Busy))
        .expect("insert");
    history
        .insert(&call("sips:bobby@corp.example", 3_000, CallState::Finish))
        .expect("insert");
    history
        .insert(&call("sip:alice@example.com", 4_000, CallState::Finish))
        .expect("insert");
    history
        .insert(&call("sip:50%_off@shop.example", 2_000, CallState::Finish))
        .expect("insert");
    history
        .insert(&call("tel:+4930123", 6_000, CallState::Finish))
        .expect("insert");

    let peers = |prefix: &str| -> Vec<String> {
        history
            .search_peer(prefix, 10)
            .expect("search")
            .into_iter()
            .map(|r| r.peer)
            .collect()
    };
    assert_eq!(
        peers("bo"),
        [
            "sip:Bob@example.com",
            "sips:bobby@corp.example",
            "sip:bob@example.com"
        ]
    );
    assert_eq!(
        peers("sip:BOB@"),
        ["sip:Bob@example.com", "sip:bob@example.com"]
    );
    assert_eq!(peers("+49"), ["tel:+4930123"]);
    // LIKE wildcards in what the user typed are literal.
    assert_eq!(peers("50%_"), ["sip:50%_off@shop.example"]);
    assert!(peers("5_").is_empty());
    assert!(peers("%").is_empty());
    assert_eq!(history.search_peer("bo", 1).expect("limit").len(), 1);

    let suggestions = history.peer_suggestions("b", 10).expect("suggest");
    let got: Vec<_> = suggestions
        .iter()
        .map(|s| (s.peer.as_str(), s.last_call_ms, s.calls))
        .collect();
    assert_eq!(
        got,
        [
            ("sip:Bob@example.com", 5_000, 2),
            ("sips:bobby@corp.example", 3_000, 1)
        ]
    );
}

#[test]
fn version_1_database_is_migrated_keeping_its_calls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.sqlite3");
    {
        // A database as schema version 1 left it.
        let conn = rusqlite::Connection::open(&path).expect("create v1");
        conn.execute_batch(
            "CREATE TABLE calls (
                 id INTEGER PRIMARY KEY, profile_id TEXT NOT NULL DEFAULT '', direction TEXT NOT NULL,
                 peer TEXT NOT NULL, display_name TEXT NOT NULL DEFAULT '', started_at_ms INTEGER NOT NULL,
                 duration_ms INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, code INTEGER,
                 reason TEXT NOT NULL DEFAULT '', stats_json TEXT NOT NULL DEFAULT '');
             CREATE INDEX calls_by_start ON calls (started_at_ms);
             INSERT INTO calls (direction, peer, started_at_ms, duration_ms, state, code, reason)
                 VALUES ('incoming', 'sip:Dave@example.com', 7000, 1234, 'FAILED', 603, 'Decline');
             PRAGMA user_version = 1;",
        )
        .expect("v1 schema");
    }
    let history = CallHistory::open(&path).expect("migrate");
    assert_eq!(history.schema_version().expect("version"), SCHEMA_VERSION);
    let found = history
        .search_peer("dave", 10)
        .expect("search after migration");
    assert_eq!(found.len(), 1);
    let row = &found[0];
    assert_eq!(
        (row.direction, row.duration_ms),
        (Direction::Incoming, 1234)
    );
    assert_eq!(
        row.result,
        CallResult {
            state: CallState::Failed,
            code: Some(603),
            reason: "Decline".into()
        }
    );
    drop(history);
    // Opening again applies nothing twice.
    let history = CallHistory::open(&path).expect("reopen");
    assert_eq!(history.list(10, 0).expect("list").len(), 1);
}

#[test]
fn database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).expect("create");
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .expect("future schema");
    }
    let err = CallHistory::open(&path).expect_err("newer schema refused");
    assert!(
        matches!(err, HistoryError::NewerSchema { found: 99 }),
        "{err:?}"
    );
    let conn = rusqlite::Connection::open(&path).expect("reopen raw");
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'calls'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(tables, 0);
}

#[test]
fn unknown_state_in_a_row_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.sqlite3");
    let history = CallHistory::open(&path).expect("open");
    let id = history
        .insert(&call("sip:x@y", 1, CallState::Finish))
        .expect("insert");
    let raw = rusqlite::Connection::open(&path).expect("raw");
    raw.execute("UPDATE calls SET state = 'TELEPORTED' WHERE id = ?1", [id])
        .expect("tamper");
    let err = history.list(10, 0).expect_err("bad row reported");
    assert!(err.to_string().contains("TELEPORTED"), "{err}");
}
