//! Imported data sets: traffic that came from a file (a bundle, a HAR, NDJSON) rather than from
//! an SDK, kept apart from live traffic.
//!
//! Invariants:
//! - An import never holds up live capture: its rows are committed in chunks on the one writer
//!   (at most `CHUNK_ROWS` rows, `CHUNK_BYTES` of bodies, `CHUNK_TIME` each), each chunk queued
//!   behind the captures that arrived during the previous one, so a capture waits for one chunk
//!   at most.
//! - An import is all or nothing to every reader: its data set row is `complete = 0` until the
//!   last chunk is in, and every read (event and request lists, projects, totals, data sets,
//!   exports, the identity model's scan) leaves out the rows of incomplete data sets. One small
//!   transaction flips `complete` and only then is `Change::Imported` announced (chunks announce
//!   nothing). A bad line, a failure or a cancel removes the rows in chunks, the data set row
//!   last; rows a killed process left are removed at the next start (`remove_orphan_imports`).
//! - Imported events never share a project with live traffic: their `project` is
//!   `"<data set>/<token>"` (e.g. `import:bug-123/phc_abc`), so the identity model, which is
//!   keyed by project, never merges an imported person with a live one, and every API filter by
//!   project separates them. Data set names contain no `/`, so the token is what follows the
//!   first `/`.
//! - Imported requests carry `requests.dataset`; live ones have NULL there.

use rusqlite::{params, OptionalExtension};

use crate::writer::insert_into;
use crate::{Change, Micros, NewEvent, NewRequest, Store, StoreError};

/// Every imported data set's name starts with this.
pub const IMPORT_PREFIX: &str = "import:";

/// The project under which an imported event of `token` is stored.
pub fn dataset_project(dataset: &str, token: &str) -> String {
    format!("{dataset}/{token}")
}

/// `(Some(data set), token)` for an imported project, `(None, project)` for live traffic.
pub fn split_project(project: &str) -> (Option<&str>, &str) {
    if project.starts_with(IMPORT_PREFIX) {
        if let Some((dataset, token)) = project.split_once('/') {
            return (Some(dataset), token);
        }
    }
    (None, project)
}

/// Whether `name` may follow `import:`: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn valid_dataset_label(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// `import:<label>` from any text (a file name): other characters become `-`.
pub fn dataset_name_from(text: &str) -> String {
    let mut label: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).take(48).collect();
    if label.is_empty() {
        label.push_str("data");
    }
    format!("{IMPORT_PREFIX}{label}")
}

/// What is being imported, recorded in the `datasets` table.
#[derive(Debug, Clone)]
pub struct DatasetInfo {
    /// `import:<label>`; must not exist yet.
    pub name: String,
    /// `bundle`, `har` or `ndjson`.
    pub format: String,
    /// The file's name, for the listing.
    pub source: Option<String>,
    /// Free JSON (the bundle's header).
    pub meta: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DatasetSummary {
    pub name: String,
    pub format: String,
    pub source: Option<String>,
    #[serde(serialize_with = "crate::model::ser_micros")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub imported_at: Micros,
    pub requests: i64,
    pub events: i64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The projects (`import:<label>/<token>`) its events are under.
    pub projects: Vec<String>,
}

/// One request of a file, decoded exactly as the live server would have, with its events.
/// Event projects are the SDK's tokens; the store puts them under the data set.
pub type ImportRow = (NewRequest, Vec<NewEvent>);

/// Boxed so that readers of any format can report their own errors through the store.
pub type RowError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Source(RowError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("a data set named {0} already exists; pick another name")]
    Exists(String),
    #[error("invalid data set name {0:?}: use `import:` and then 1 to 64 letters, digits, `.`, `_` or `-`")]
    InvalidName(String),
    #[error("the file holds no requests to import")]
    Empty,
    #[error("the import into {0} was cancelled: its data set was cleared while it ran")]
    Cancelled(String),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportSummary {
    pub dataset: String,
    pub requests: i64,
    pub events: i64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
}

impl Store {
    /// Imports `rows` (in arrival order) as the data set `info.name`. Blocking: call it from a
    /// plain thread or `spawn_blocking`. The rows are read and decoded on the calling thread and
    /// committed in chunks on the writer (see the module's invariants), so live captures commit
    /// between chunks and never wait for a whole file.
    pub fn import<I>(&self, info: DatasetInfo, rows: I) -> Result<ImportSummary, ImportError>
    where
        I: Iterator<Item = Result<ImportRow, RowError>> + Send + 'static,
    {
        let label_ok = info.name.strip_prefix(IMPORT_PREFIX).is_some_and(valid_dataset_label);
        if !label_ok {
            return Err(ImportError::InvalidName(info.name));
        }
        let claim = info.clone();
        self.on_writer(move |conn, _| Ok(claim_name(conn, &claim)))??;
        let result = self.import_chunks(&info.name, rows.fuse());
        match result {
            Ok(totals) => {
                let name = info.name.clone();
                let summary = self.on_writer(move |conn, changes| Ok(complete(conn, &name, totals, changes)));
                match summary {
                    Ok(Ok(summary)) => {
                        tracing::info!(
                            dataset = %summary.dataset,
                            requests = summary.requests,
                            events = summary.events,
                            "imported a data set"
                        );
                        Ok(summary)
                    }
                    Ok(Err(e)) => Err(self.abandon(&info.name, e)),
                    Err(e) => Err(self.abandon(&info.name, e.into())),
                }
            }
            Err(e) => Err(self.abandon(&info.name, e)),
        }
    }

    /// Inserts every row in chunks of at most `CHUNK_ROWS` rows, `CHUNK_BYTES` bytes of bodies
    /// and `CHUNK_TIME` on the writer; what a chunk left for lack of time goes into the next one.
    fn import_chunks(
        &self,
        name: &str,
        mut rows: impl Iterator<Item = Result<ImportRow, RowError>>,
    ) -> Result<Totals, ImportError> {
        let mut totals = Totals::default();
        let mut chunk: Vec<ImportRow> = Vec::new();
        loop {
            let mut bytes: usize = chunk.iter().map(|(r, _)| r.body.len()).sum();
            while chunk.len() < CHUNK_ROWS && bytes < CHUNK_BYTES {
                match rows.next() {
                    None => break,
                    Some(Err(e)) => return Err(ImportError::Source(e)),
                    Some(Ok(row)) => {
                        bytes += row.0.body.len();
                        chunk.push(row);
                    }
                }
            }
            if chunk.is_empty() {
                return if totals.requests == 0 { Err(ImportError::Empty) } else { Ok(totals) };
            }
            self.let_wal_restart();
            let name = name.to_owned();
            let rows = std::mem::take(&mut chunk);
            let captures = self.inner.writer.captures().cloned();
            let started = std::time::Instant::now();
            let (added, rest) =
                self.on_writer(move |conn, _| Ok(insert_chunk(conn, &name, rows, captures.as_deref())))??;
            totals.add(added);
            chunk = rest;
            self.yield_to_capture(started.elapsed());
        }
    }

    /// Live capture is arriving: a capture write was queued within the last second
    /// (`LIVE_CAPTURE`). Imports and followers (`tail`) yield to it while it is.
    pub fn capture_is_live(&self) -> bool {
        self.inner.writer.captures().is_some_and(|c| c.live_within(LIVE_CAPTURE))
    }

    /// While live capture is arriving, leaves the writer idle for [`CAPTURE_SHARE`] times as long
    /// as the import's last chunk took (its queueing and commit included), so capture gets the
    /// writer, the disk and the cores first; an import with no capture beside it runs flat out.
    fn yield_to_capture(&self, chunk: std::time::Duration) {
        if self.capture_is_live() {
            std::thread::sleep(chunk.mul_f64(CAPTURE_SHARE));
        }
    }

    /// Removes what an import that did not complete stored, and returns `error` (the reason).
    /// A cancelled import (its data set was cleared under it) left nothing to remove.
    fn abandon(&self, name: &str, error: ImportError) -> ImportError {
        if !matches!(error, ImportError::Cancelled(_)) {
            if let Err(e) = self.remove_incomplete(name) {
                tracing::warn!(dataset = %name, "could not remove an unfinished import (it is removed at next start): {e}");
            }
        }
        error
    }

    /// Deletes the rows of the incomplete data set `name` in chunks (so capture commits between
    /// them), its data set row last: until then every read keeps leaving its rows out.
    pub(crate) fn remove_incomplete(&self, name: &str) -> Result<(), StoreError> {
        let (from, to) = project_range(name);
        loop {
            self.let_wal_restart();
            let (from, to) = (from.clone(), to.clone());
            let n = self.on_writer(move |conn, _| {
                Ok(conn.execute(
                    "DELETE FROM events WHERE seq IN
                         (SELECT seq FROM events WHERE project >= ?1 AND project < ?2 LIMIT ?3)",
                    params![from, to, DELETE_CHUNK],
                )?)
            })?;
            if n < DELETE_CHUNK {
                break;
            }
        }
        loop {
            self.let_wal_restart();
            let owned = name.to_owned();
            let n = self.on_writer(move |conn, _| {
                Ok(conn.execute(
                    "DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE dataset = ?1 LIMIT ?2)",
                    params![owned, DELETE_CHUNK],
                )?)
            })?;
            if n < DELETE_CHUNK {
                break;
            }
        }
        let owned = name.to_owned();
        self.on_writer(move |conn, _| {
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM projects WHERE project >= ?1 AND project < ?2", params![from, to])?;
            tx.execute("DELETE FROM datasets WHERE name = ?1 AND complete = 0", [&owned])?;
            tx.commit()?;
            Ok(())
        })?;
        tracing::info!(dataset = %name, "removed an unfinished import");
        Ok(())
    }

    /// Removes the rows of imports a killed process left incomplete. Runs at start on its own
    /// thread, in chunks on the writer; reads leave those rows out meanwhile.
    pub(crate) fn remove_orphan_imports(&self) -> Result<(), StoreError> {
        let orphans = pending_datasets(&*self.reader()?)?;
        for name in orphans {
            tracing::info!(dataset = %name, "an import was stopped before it completed; removing what it stored");
            self.remove_incomplete(&name)?;
        }
        Ok(())
    }

    /// Names of imports not complete yet (running, or left by a killed process).
    pub fn incomplete_datasets(&self) -> Result<Vec<String>, StoreError> {
        pending_datasets(&*self.reader()?)
    }

    /// Imported data sets, newest first.
    pub fn datasets(&self) -> Result<Vec<DatasetSummary>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT name, format, source, imported_at, requests, events, first_seq, last_seq
             FROM datasets WHERE complete = 1 ORDER BY imported_at DESC, name",
        )?;
        let mut sets = stmt
            .query_map([], |r| {
                Ok(DatasetSummary {
                    name: r.get(0)?,
                    format: r.get(1)?,
                    source: r.get(2)?,
                    imported_at: r.get(3)?,
                    requests: r.get(4)?,
                    events: r.get(5)?,
                    first_seq: r.get(6)?,
                    last_seq: r.get(7)?,
                    projects: Vec::new(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut projects = conn
            .prepare_cached("SELECT DISTINCT project FROM projects WHERE project LIKE ?1 || '/%' ORDER BY project")?;
        for set in &mut sets {
            set.projects = projects.query_map([&set.name], |r| r.get(0))?.collect::<Result<_, _>>()?;
        }
        Ok(sets)
    }

    /// `base` if no data set has that name yet, else `base-2`, `base-3`...
    pub fn unused_dataset_name(&self, base: &str) -> Result<String, StoreError> {
        let conn = self.reader()?;
        let exists = |name: &str| -> Result<bool, StoreError> {
            Ok(conn.query_row("SELECT 1 FROM datasets WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some())
        };
        if !exists(base)? {
            return Ok(base.to_owned());
        }
        for n in 2.. {
            let candidate = format!("{base}-{n}");
            if !exists(&candidate)? {
                return Ok(candidate);
            }
        }
        unreachable!("some suffix is free")
    }
}

/// Rows per import transaction at most.
const CHUNK_ROWS: usize = 500;
/// Request bodies per import transaction at most (a chunk of big HAR entries stays small).
const CHUNK_BYTES: usize = 8 << 20;
/// Time one import transaction may hold the writer before it commits; captures queued meanwhile
/// wait this long, plus the request being inserted (a `/batch/` of a hundred events is about a
/// millisecond) and the commit (about 1.5 ms for such a chunk). A live capture usually arrives
/// mid-chunk, so this is most of what an import adds to capture's latency. Measured with a
/// 1M-entry HAR imported again and again (release build, data dir on tmpfs, docs/RELIABILITY.md):
/// 4 ms chunks took 6.6 ms each with the commit (p99 9 ms) and capture's p99 went from 5.8 to
/// 12.6 ms; 1 ms chunks take 2.9 ms (p99 7 ms), capture's p99 went from 4.8 to 9.1 ms, and the
/// import was no slower (26 s).
const CHUNK_TIME: std::time::Duration = std::time::Duration::from_millis(1);
/// Capture queued within this long counts as live (`Store::capture_is_live`).
const LIVE_CAPTURE: std::time::Duration = std::time::Duration::from_secs(1);
/// While capture is live, the import leaves the writer idle this many times as long as each of
/// its chunks took: the import gets at most 1 / (1 + this) of the writer. Measured with a
/// 1M-entry HAR imported beside a capture every 50 ms (data dir on ext4, docs/RELIABILITY.md):
/// capture's p99 was 2.2–3.1× its idle p99 flat out, 2.0–2.2× at 1, 1.4× at 2 and at 4; a 1M
/// import took 21 s flat out, about 30 s at 1 or 2, 63 s at 4.
const CAPTURE_SHARE: f64 = 2.0;

/// Rows deleted per transaction when an unfinished import is removed.
const DELETE_CHUNK: usize = 5_000;

/// What the chunks of one import stored so far.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    requests: i64,
    events: i64,
    first_seq: Option<i64>,
    last_seq: Option<i64>,
}

impl Totals {
    fn add(&mut self, chunk: Totals) {
        self.requests += chunk.requests;
        self.events += chunk.events;
        if self.first_seq.is_none() {
            self.first_seq = chunk.first_seq;
        }
        if chunk.last_seq.is_some() {
            self.last_seq = chunk.last_seq;
        }
    }
}

/// `[from, to)`: every project `"<name>/<token>"` sorts in it (`0` follows `/` in ASCII).
pub(crate) fn project_range(name: &str) -> (String, String) {
    (format!("{name}/"), format!("{name}0"))
}

/// Data sets whose import has not completed: every read leaves their rows out.
pub(crate) fn pending_datasets(conn: &rusqlite::Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT name FROM datasets WHERE complete = 0 ORDER BY name")?;
    let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

/// Conditions leaving out the rows of `pending` data sets: `column` holds an event's project.
pub(crate) fn exclude_pending_projects(
    pending: &[String],
    column: &str,
    clauses: &mut Vec<String>,
    args: &mut Vec<rusqlite::types::Value>,
) {
    for name in pending {
        let (from, to) = project_range(name);
        clauses.push(format!("NOT ({column} >= ? AND {column} < ?)"));
        args.push(from.into());
        args.push(to.into());
    }
}

/// Conditions leaving out the requests of `pending` data sets: `column` is `requests.dataset`.
pub(crate) fn exclude_pending_requests(
    pending: &[String],
    column: &str,
    clauses: &mut Vec<String>,
    args: &mut Vec<rusqlite::types::Value>,
) {
    if pending.is_empty() {
        return;
    }
    clauses.push(format!("({column} IS NULL OR {column} NOT IN ({}))", vec!["?"; pending.len()].join(", ")));
    args.extend(pending.iter().cloned().map(rusqlite::types::Value::from));
}

/// Records the data set as incomplete, which claims its name.
fn claim_name(conn: &mut rusqlite::Connection, info: &DatasetInfo) -> Result<(), ImportError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    let taken = tx
        .query_row("SELECT 1 FROM datasets WHERE name = ?1", [&info.name], |_| Ok(()))
        .optional()
        .map_err(StoreError::from)?;
    if taken.is_some() {
        return Err(ImportError::Exists(info.name.clone()));
    }
    tx.execute(
        "INSERT INTO datasets (name, format, source, imported_at, requests, events, first_seq, last_seq, meta, complete)
         VALUES (?1, ?2, ?3, ?4, 0, 0, NULL, NULL, ?5, 0)",
        params![info.name, info.format, info.source, chrono::Utc::now().timestamp_micros(), info.meta],
    )
    .map_err(StoreError::from)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(())
}

/// Inserts rows from the front of `rows` in one transaction until the rows or `CHUNK_TIME` run
/// out or a capture waits for the writer, and returns what it stored and the rows it left. Nothing is stored when the data set is
/// no longer pending (cleared under the import).
fn insert_chunk(
    conn: &mut rusqlite::Connection,
    name: &str,
    rows: Vec<ImportRow>,
    captures: Option<&crate::writer::CaptureActivity>,
) -> Result<(Totals, Vec<ImportRow>), ImportError> {
    let started = std::time::Instant::now();
    let tx = conn.transaction().map_err(StoreError::from)?;
    let pending = tx
        .query_row("SELECT 1 FROM datasets WHERE name = ?1 AND complete = 0", [name], |_| Ok(()))
        .optional()
        .map_err(StoreError::from)?;
    if pending.is_none() {
        return Err(ImportError::Cancelled(name.to_owned()));
    }
    let mut totals = Totals::default();
    let mut rows = rows.into_iter();
    for (mut request, mut request_events) in rows.by_ref() {
        for e in &mut request_events {
            e.project = dataset_project(name, &e.project);
        }
        // The key a request named belongs to the data set too, as its events' project does.
        request.project = request.project.map(|key| dataset_project(name, &key));
        let committed = insert_into(&tx, Some(name), &request, &request_events, &[])?;
        if let Some((first, last)) = committed.seqs {
            totals.first_seq.get_or_insert(first);
            totals.last_seq = Some(last);
        }
        totals.requests += 1;
        totals.events += request_events.len() as i64 - committed.duplicates as i64;
        // A capture waiting for the writer ends the chunk at once: it waits for one row and
        // this commit, not for the rest of the chunk.
        if started.elapsed() >= CHUNK_TIME || captures.is_some_and(|c| c.waiting()) {
            break;
        }
    }
    tx.commit().map_err(StoreError::from)?;
    Ok((totals, rows.collect()))
}

/// Makes the data set visible in one small transaction, with its totals, and announces it.
fn complete(
    conn: &mut rusqlite::Connection,
    name: &str,
    totals: Totals,
    changes: &tokio::sync::broadcast::Sender<Change>,
) -> Result<ImportSummary, ImportError> {
    let updated = conn
        .execute(
            "UPDATE datasets SET complete = 1, imported_at = ?2, requests = ?3, events = ?4, first_seq = ?5,
                 last_seq = ?6
             WHERE name = ?1 AND complete = 0",
            params![
                name,
                chrono::Utc::now().timestamp_micros(),
                totals.requests,
                totals.events,
                totals.first_seq,
                totals.last_seq
            ],
        )
        .map_err(StoreError::from)?;
    if updated == 0 {
        return Err(ImportError::Cancelled(name.to_owned()));
    }
    let summary = ImportSummary {
        dataset: name.to_owned(),
        requests: totals.requests,
        events: totals.events,
        first_seq: totals.first_seq,
        last_seq: totals.last_seq,
    };
    let _ = changes.send(Change::Imported {
        dataset: summary.dataset.clone(),
        requests: summary.requests,
        events: summary.events,
        first_seq: summary.first_seq,
        last_seq: summary.last_seq,
    });
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_split_into_data_set_and_token() {
        assert_eq!(split_project("phc_live"), (None, "phc_live"));
        assert_eq!(split_project("import:bug-1/phc_x"), (Some("import:bug-1"), "phc_x"));
        assert_eq!(split_project(&dataset_project("import:a", "tok/with/slash")), (Some("import:a"), "tok/with/slash"));
    }

    /// `rows` one-event requests of project `phc_imp`, and a connection to a fresh store with a
    /// pending data set `import:t` to insert them into.
    fn pending_import(rows: usize) -> (tempfile::TempDir, Store, rusqlite::Connection, Vec<ImportRow>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let info = DatasetInfo { name: "import:t".into(), format: "ndjson".into(), source: None, meta: None };
        store.on_writer(move |conn, _| Ok(claim_name(conn, &info))).unwrap().unwrap();
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        let rows = (0..rows)
            .map(|i| (crate::test_support::accepted_request("posthog"), vec![crate::test_support::tick(i, "phc_imp")]))
            .collect();
        (dir, store, conn, rows)
    }

    #[test]
    fn a_capture_waiting_for_the_writer_ends_an_import_chunk_after_one_row() {
        let (_dir, _store, mut conn, rows) = pending_import(50);
        let captures = crate::writer::CaptureActivity::default();
        captures.queued();
        let (stored, rest) = insert_chunk(&mut conn, "import:t", rows, Some(&captures)).unwrap();
        assert_eq!((stored.requests, stored.events, rest.len()), (1, 1, 49));
        // Taken by the writer: the chunk runs to its time or its rows again.
        captures.taken();
        let (stored, rest) = insert_chunk(&mut conn, "import:t", rest, Some(&captures)).unwrap();
        assert!(stored.requests >= 1 && stored.requests as usize + rest.len() == 49, "{stored:?}");
    }

    #[test]
    fn capture_is_live_for_a_while_after_its_last_write_was_queued() {
        let captures = crate::writer::CaptureActivity::default();
        assert!(!captures.live_within(LIVE_CAPTURE), "never queued");
        assert!(!captures.waiting());
        captures.queued();
        assert!(captures.waiting() && captures.live_within(LIVE_CAPTURE));
        captures.taken();
        assert!(!captures.waiting() && captures.live_within(LIVE_CAPTURE));
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert!(!captures.live_within(std::time::Duration::from_millis(10)));
    }

    #[test]
    fn names_from_file_names_are_valid() {
        assert_eq!(dataset_name_from("bug report (1).har"), "import:bug-report--1-.har");
        assert_eq!(dataset_name_from(""), "import:data");
        assert!(valid_dataset_label(dataset_name_from("x y/z").strip_prefix(IMPORT_PREFIX).unwrap()));
        assert!(!valid_dataset_label("a/b"));
    }
}
