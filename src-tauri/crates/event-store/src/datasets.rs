//! Imported data sets: traffic that came from a file (a bundle, a HAR, NDJSON) rather than from
//! an SDK, kept apart from live traffic.
//!
//! Invariants:
//! - An import is all or nothing: every request and event of a file is inserted in one
//!   transaction on the writer thread, which commits only once the whole file was read and
//!   decoded. A bad line anywhere rolls everything back, so nothing is half-imported.
//! - Imported events never share a project with live traffic: their `project` is
//!   `"<data set>/<token>"` (e.g. `import:bug-123/phc_abc`), so the identity model, which is
//!   keyed by project, never merges an imported person with a live one, and every API filter by
//!   project separates them. Data set names contain no `/`, so the token is what follows the
//!   first `/`.
//! - Imported requests carry `requests.dataset`; live ones have NULL there.

use rusqlite::{params, OptionalExtension};

use crate::writer::insert;
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
    /// Imports `rows` (in arrival order) as the data set `info.name`, in one transaction on the
    /// writer thread; captures arriving meanwhile wait for it. Blocking: call it from a plain
    /// thread or `spawn_blocking`. The iterator runs on the writer thread, so reading and
    /// decoding stream straight into SQLite without holding the file in memory.
    pub fn import<I>(&self, info: DatasetInfo, rows: I) -> Result<ImportSummary, ImportError>
    where
        I: Iterator<Item = Result<ImportRow, RowError>> + Send + 'static,
    {
        let label_ok = info.name.strip_prefix(IMPORT_PREFIX).is_some_and(valid_dataset_label);
        if !label_ok {
            return Err(ImportError::InvalidName(info.name));
        }
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.inner.writer.exclusive(Box::new(move |conn, changes| {
            let result = import_in_transaction(conn, &info, rows);
            if let Ok(summary) = &result {
                let _ = changes.send(Change::Imported {
                    dataset: summary.dataset.clone(),
                    requests: summary.requests,
                    events: summary.events,
                    first_seq: summary.first_seq,
                    last_seq: summary.last_seq,
                });
            }
            let _ = reply.send(result);
        }))?;
        answer.recv().map_err(|_| ImportError::Store(StoreError::WriterGone))?
    }

    /// Imported data sets, newest first.
    pub fn datasets(&self) -> Result<Vec<DatasetSummary>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT name, format, source, imported_at, requests, events, first_seq, last_seq
             FROM datasets ORDER BY imported_at DESC, name",
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

fn import_in_transaction<I>(
    conn: &mut rusqlite::Connection,
    info: &DatasetInfo,
    rows: I,
) -> Result<ImportSummary, ImportError>
where
    I: Iterator<Item = Result<ImportRow, RowError>>,
{
    // Dropping the transaction without commit rolls back: every early return below undoes all.
    let tx = conn.transaction().map_err(StoreError::from)?;
    let taken = tx
        .query_row("SELECT 1 FROM datasets WHERE name = ?1", [&info.name], |_| Ok(()))
        .optional()
        .map_err(StoreError::from)?;
    if taken.is_some() {
        return Err(ImportError::Exists(info.name.clone()));
    }
    let (mut requests, mut events) = (0i64, 0i64);
    let (mut first_request, mut last_request) = (None, 0i64);
    let (mut first_seq, mut last_seq) = (None, None);
    for row in rows {
        let (request, mut request_events) = row.map_err(ImportError::Source)?;
        for e in &mut request_events {
            e.project = dataset_project(&info.name, &e.project);
        }
        let committed = insert(&tx, &request, &request_events)?;
        first_request.get_or_insert(committed.request_id);
        last_request = committed.request_id;
        if let Some((first, last)) = committed.seqs {
            first_seq.get_or_insert(first);
            last_seq = Some(last);
        }
        requests += 1;
        events += request_events.len() as i64 - committed.duplicates as i64;
    }
    let Some(first_request) = first_request else { return Err(ImportError::Empty) };
    tx.execute(
        "UPDATE requests SET dataset = ?1 WHERE id BETWEEN ?2 AND ?3",
        params![info.name, first_request, last_request],
    )
    .map_err(StoreError::from)?;
    tx.execute(
        "INSERT INTO datasets (name, format, source, imported_at, requests, events, first_seq, last_seq, meta)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            info.name,
            info.format,
            info.source,
            chrono::Utc::now().timestamp_micros(),
            requests,
            events,
            first_seq,
            last_seq,
            info.meta
        ],
    )
    .map_err(StoreError::from)?;
    tx.commit().map_err(StoreError::from)?;
    tracing::info!(dataset = %info.name, requests, events, "imported a data set");
    Ok(ImportSummary { dataset: info.name.clone(), requests, events, first_seq, last_seq })
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

    #[test]
    fn names_from_file_names_are_valid() {
        assert_eq!(dataset_name_from("bug report (1).har"), "import:bug-report--1-.har");
        assert_eq!(dataset_name_from(""), "import:data");
        assert!(valid_dataset_label(dataset_name_from("x y/z").strip_prefix(IMPORT_PREFIX).unwrap()));
        assert!(!valid_dataset_label("a/b"));
    }
}
