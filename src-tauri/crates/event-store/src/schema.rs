//! Versioned migrations, embedded. `PRAGMA user_version` is the number of migrations applied.
//! Most are SQL; one that SQL's `ALTER TABLE` cannot say is code ([`Migration::Code`]).

use rusqlite::{Connection, Transaction};

use crate::StoreError;

/// One migration, run in its own transaction with the `user_version` bump.
enum Migration {
    Sql(&'static str),
    Code(fn(&Transaction<'_>) -> Result<(), StoreError>),
}

use Migration::{Code, Sql};

const MIGRATIONS: &[Migration] = &[
    // 1: raw requests, normalised events, per-project counters.
    Sql(r#"
    CREATE TABLE requests (
        id           INTEGER PRIMARY KEY,
        received_at  INTEGER NOT NULL,          -- unix microseconds
        method       TEXT NOT NULL,
        path         TEXT NOT NULL,
        query        TEXT,
        headers      TEXT NOT NULL,             -- JSON array of [name, value]
        body         BLOB NOT NULL,             -- exactly as received
        source       TEXT,                      -- posthog, ... (null: unknown route)
        route        TEXT,
        outcome      TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
        status       INTEGER NOT NULL,
        error        TEXT,
        error_code   TEXT,
        event_count  INTEGER NOT NULL DEFAULT 0,
        note         TEXT
    );
    CREATE INDEX requests_outcome ON requests (outcome, id);

    CREATE TABLE events (
        seq                INTEGER PRIMARY KEY,  -- arrival order
        uuid               TEXT NOT NULL,
        request_id         INTEGER NOT NULL REFERENCES requests (id),
        project            TEXT NOT NULL,
        source             TEXT NOT NULL,
        event              TEXT NOT NULL,
        distinct_id        TEXT NOT NULL,
        device_id          TEXT,
        session_id         TEXT,
        timestamp          INTEGER NOT NULL,     -- corrected, unix microseconds
        original_timestamp TEXT,                 -- the client's value, untouched
        sent_at            TEXT,
        received_at        INTEGER NOT NULL,
        properties         TEXT NOT NULL,        -- JSON object
        warnings           TEXT                  -- JSON array, null when none
    );
    CREATE INDEX events_project ON events (project, seq);
    CREATE INDEX events_distinct_id ON events (distinct_id, seq);
    CREATE INDEX events_device ON events (device_id, seq) WHERE device_id IS NOT NULL;
    CREATE INDEX events_session ON events (session_id, seq) WHERE session_id IS NOT NULL;
    CREATE INDEX events_name ON events (event, seq);
    CREATE INDEX events_uuid ON events (uuid);

    CREATE TABLE projects (
        project     TEXT NOT NULL,
        source      TEXT NOT NULL,
        events      INTEGER NOT NULL,
        first_seen  INTEGER NOT NULL,
        last_seen   INTEGER NOT NULL,
        PRIMARY KEY (project, source)
    ) WITHOUT ROWID;
    "#),
    // 2: imported data sets (bundles, HARs, NDJSON loaded to inspect later). Imported events live in their own project namespace
    // (`import:<name>/<token>`, see `datasets.rs`), so they never mix with live traffic; a
    // request remembers the data set it was imported into (NULL: live traffic).
    Sql(r#"
    ALTER TABLE requests ADD COLUMN dataset TEXT;
    CREATE INDEX requests_dataset ON requests (dataset, id) WHERE dataset IS NOT NULL;

    CREATE TABLE datasets (
        name         TEXT PRIMARY KEY,          -- "import:<name>"
        format       TEXT NOT NULL,             -- bundle, har, ndjson
        source       TEXT,                      -- the imported file's name
        imported_at  INTEGER NOT NULL,          -- unix microseconds
        requests     INTEGER NOT NULL,
        events       INTEGER NOT NULL,
        first_seq    INTEGER,
        last_seq     INTEGER,
        meta         TEXT                       -- JSON: e.g. the bundle's header
    ) WITHOUT ROWID;
    "#),
    // 3: per-project identity settings (`settings.rs`): what the traffic cannot tell, chosen by
    // the user. A key may be configured before its first event, so no foreign key to `projects`.
    Sql(r#"
    CREATE TABLE project_settings (
        project     TEXT PRIMARY KEY,
        settings    TEXT NOT NULL,              -- JSON object, the identity engine's ProjectSettings
        updated_at  INTEGER NOT NULL            -- unix microseconds
    ) WITHOUT ROWID;
    "#),
    // 4: an import commits in chunks (`datasets.rs`); its data set stays `complete = 0`, and
    // every read leaves its rows out, until the last chunk is in. Earlier imports were whole.
    Sql(r#"
    ALTER TABLE datasets ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
    "#),
    // 5: the project key a request names (its events' project; for a refused request, or one
    // that carried no events, the key read where its vendor puts it; NULL when none is readable),
    // and the accepted requests that carried no events (feature flags, remote config, settings),
    // which the Events view lists newest first behind its "Requests" toggle: few among millions
    // of event-carrying requests, so a partial index finds a page without scanning those.
    Sql(r#"
    ALTER TABLE requests ADD COLUMN project TEXT;
    CREATE INDEX requests_without_events ON requests (id) WHERE outcome = 'accepted' AND event_count = 0;
    "#),
    // 6: requests a fault rule answered (`outcome = 'faulted'`, see `Outcome::Faulted`).
    Code(allow_faulted_outcome),
    // 7: the events a faulted request carried: not events (the SDK was told they were not
    // delivered, and it may send them again), kept so that each uuid's deliveries can be told
    // (`deliveries.rs`). They go with their request (`ON DELETE CASCADE`: prunes and per-project
    // deletes need not know of them). `after_seq` is the newest `events.seq` when the fault
    // happened: where in arrival order the event would have been.
    Sql(r#"
    CREATE TABLE faulted_events (
        id           INTEGER PRIMARY KEY,
        request_id   INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
        uuid         TEXT NOT NULL,
        project      TEXT NOT NULL,
        source       TEXT NOT NULL,
        event        TEXT NOT NULL,
        distinct_id  TEXT NOT NULL,
        timestamp    INTEGER NOT NULL,          -- corrected, unix microseconds
        received_at  INTEGER NOT NULL,
        properties   TEXT NOT NULL,             -- JSON object
        after_seq    INTEGER NOT NULL,
        sdk_uuid     INTEGER NOT NULL DEFAULT 1 -- 0: the SDK sent no id, the decoder made this one up
    );
    CREATE INDEX faulted_events_uuid ON faulted_events (uuid);
    CREATE INDEX faulted_events_request ON faulted_events (request_id);
    CREATE INDEX faulted_events_project ON faulted_events (project, id);
    "#),
];

/// The `outcome` column's CHECK of migration 1, and the same with `faulted` allowed.
const OUTCOME_CHECK: &str = "CHECK (outcome IN ('accepted', 'rejected'))";
const OUTCOME_CHECK_WITH_FAULTS: &str = "CHECK (outcome IN ('accepted', 'rejected', 'faulted'))";

/// Widens `requests.outcome`'s CHECK to allow `faulted`. SQLite cannot alter a constraint, and
/// copying the table would rewrite every stored body; a constraint every stored row still meets
/// may be edited in the schema instead, the procedure SQLite documents for changes that leave
/// the stored content valid ("Making Other Kinds Of Table Schema Changes",
/// <https://www.sqlite.org/lang_altertable.html#otheralter>): edit `sqlite_schema` under
/// `writable_schema`, then bump `schema_version` so every connection reloads the schema.
fn allow_faulted_outcome(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let sql: String =
        tx.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'requests'", [], |r| r.get(0))?;
    if sql.contains(OUTCOME_CHECK_WITH_FAULTS) {
        return Ok(());
    }
    if !sql.contains(OUTCOME_CHECK) {
        return Err(StoreError::Migration(format!(
            "the requests table has an unexpected outcome constraint, so 'faulted' cannot be allowed: {sql}"
        )));
    }
    let version: i64 = tx.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    tx.pragma_update(None, "writable_schema", "ON")?;
    let edited = tx.execute(
        "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'requests'",
        [sql.replace(OUTCOME_CHECK, OUTCOME_CHECK_WITH_FAULTS)],
    );
    let bumped = tx.pragma_update(None, "schema_version", version + 1);
    tx.pragma_update(None, "writable_schema", "OFF")?;
    edited?;
    bumped?;
    Ok(())
}

/// The schema version this build writes (`PRAGMA user_version`).
pub(crate) fn known_version() -> i64 {
    MIGRATIONS.len() as i64
}

pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = known_version();
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > known {
        return Err(StoreError::NewerSchema { found, known });
    }
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        match migration {
            Sql(sql) => tx.execute_batch(sql)?,
            Code(run) => run(&tx)?,
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database of the version before faults, with a request in it.
    fn at_version_5(path: &std::path::Path) -> Connection {
        let mut conn = Connection::open(path).expect("open");
        conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
        for (i, migration) in MIGRATIONS.iter().take(5).enumerate() {
            let tx = conn.transaction().expect("tx");
            match migration {
                Sql(sql) => tx.execute_batch(sql).expect("old migration"),
                Code(_) => unreachable!("the first five migrations are SQL"),
            }
            tx.pragma_update(None, "user_version", i as i64 + 1).expect("version");
            tx.commit().expect("commit");
        }
        conn.execute(
            "INSERT INTO requests (received_at, method, path, headers, body, outcome, status)
             VALUES (1, 'POST', '/batch', '[]', x'7b7d', 'accepted', 200)",
            [],
        )
        .expect("a request at version 5");
        conn
    }

    const FAULTED_ROW: &str = "INSERT INTO requests (received_at, method, path, headers, body, outcome, status)
        VALUES (2, 'POST', '/batch', '[]', x'', 'faulted', 503)";

    #[test]
    fn the_outcome_check_is_widened_in_place_and_every_connection_sees_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inspector.db");
        let mut conn = at_version_5(&path);
        // A connection opened before the upgrade (as the store's readers and checkpointer could be).
        let other = Connection::open(&path).expect("second connection");
        assert!(other.execute(FAULTED_ROW, []).is_err(), "version 5 refuses the outcome");

        migrate(&mut conn).expect("upgrade");
        assert_eq!(conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap(), known_version());
        other.execute(FAULTED_ROW, []).expect("the other connection reloaded the schema");
        conn.execute(FAULTED_ROW, []).expect("and so did the upgrading one");
        assert!(conn.execute(&FAULTED_ROW.replace("faulted", "lost"), []).is_err(), "still a CHECK");
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let rows: i64 = conn.query_row("SELECT count(*) FROM requests", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 3, "the old request is still there");
        // Running the migration again (a later build re-running it) changes nothing.
        let tx = conn.transaction().unwrap();
        allow_faulted_outcome(&tx).expect("idempotent");
    }
}
