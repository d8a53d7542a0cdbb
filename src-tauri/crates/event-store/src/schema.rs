//! Versioned migrations, embedded. `PRAGMA user_version` is the number of migrations applied.

use rusqlite::Connection;

use crate::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: raw requests, normalised events, per-project counters.
    r#"
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
    "#,
    // 2: imported data sets (bundles, HARs, NDJSON loaded to inspect later). Imported events live in their own project namespace
    // (`import:<name>/<token>`, see `datasets.rs`), so they never mix with live traffic; a
    // request remembers the data set it was imported into (NULL: live traffic).
    r#"
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
    "#,
    // 3: per-project identity settings (`settings.rs`): what the traffic cannot tell, chosen by
    // the user. A key may be configured before its first event, so no foreign key to `projects`.
    r#"
    CREATE TABLE project_settings (
        project     TEXT PRIMARY KEY,
        settings    TEXT NOT NULL,              -- JSON object, the identity engine's ProjectSettings
        updated_at  INTEGER NOT NULL            -- unix microseconds
    ) WITHOUT ROWID;
    "#,
    // 4: an import commits in chunks (`datasets.rs`); its data set stays `complete = 0`, and
    // every read leaves its rows out, until the last chunk is in. Earlier imports were whole.
    r#"
    ALTER TABLE datasets ADD COLUMN complete INTEGER NOT NULL DEFAULT 1;
    "#,
    // 5: the project key a request names (its events' project; for a refused request, or one
    // that carried no events, the key read where its vendor puts it; NULL when none is readable),
    // and the accepted requests that carried no events (feature flags, remote config, settings),
    // which the Events view lists newest first behind its "Requests" toggle: few among millions
    // of event-carrying requests, so a partial index finds a page without scanning those.
    r#"
    ALTER TABLE requests ADD COLUMN project TEXT;
    CREATE INDEX requests_without_events ON requests (id) WHERE outcome = 'accepted' AND event_count = 0;
    "#,
];

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
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied database migration");
    }
    Ok(())
}
