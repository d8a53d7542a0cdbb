//! Streaming reads for export: every stored request or event of a selection, oldest first,
//! handed to a callback row by row so that exporting a million events holds one in memory.

use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;

use crate::query::{event_row, EVENT_COLUMNS};
use crate::{Micros, Store, StoreError, StoredEvent};

/// Which traffic to export. Everything is ANDed; an empty selection is all live traffic.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Selection {
    /// Live traffic (`None`) or one imported data set (`import:<name>`).
    pub dataset: Option<String>,
    /// A project as stored (`phc_…`, or `import:<name>/phc_…` for imported data).
    pub project: Option<String>,
    pub session_id: Option<String>,
    pub device_id: Option<String>,
    /// A person's distinct ids (resolved by the caller from the identity model). Empty: any.
    pub distinct_ids: Vec<String>,
    /// Arrival time, unix microseconds, inclusive.
    pub from: Option<Micros>,
    /// Arrival time, unix microseconds, exclusive.
    pub to: Option<Micros>,
}

impl Selection {
    /// Whether the selection narrows events (so requests without events are left out).
    pub fn narrows_events(&self) -> bool {
        self.project.is_some() || self.session_id.is_some() || self.device_id.is_some() || !self.distinct_ids.is_empty()
    }

    /// The WHERE clause over `events` (aliased `e`) and its arguments.
    fn event_clauses(&self) -> (Vec<String>, Vec<SqlValue>) {
        let mut clauses = Vec::new();
        let mut args = Vec::new();
        for (column, value) in
            [("e.project", &self.project), ("e.session_id", &self.session_id), ("e.device_id", &self.device_id)]
        {
            if let Some(v) = value {
                clauses.push(format!("{column} = ?"));
                args.push(SqlValue::Text(v.clone()));
            }
        }
        if !self.distinct_ids.is_empty() {
            clauses.push(format!("e.distinct_id IN ({})", vec!["?"; self.distinct_ids.len()].join(", ")));
            args.extend(self.distinct_ids.iter().cloned().map(SqlValue::Text));
        }
        self.time_clauses("e.received_at", &mut clauses, &mut args);
        (clauses, args)
    }

    fn time_clauses(&self, column: &str, clauses: &mut Vec<String>, args: &mut Vec<SqlValue>) {
        if let Some(from) = self.from {
            clauses.push(format!("{column} >= ?"));
            args.push(SqlValue::Integer(from));
        }
        if let Some(to) = self.to {
            clauses.push(format!("{column} < ?"));
            args.push(SqlValue::Integer(to));
        }
    }

    fn dataset_clause(&self, column: &str, clauses: &mut Vec<String>, args: &mut Vec<SqlValue>) {
        match &self.dataset {
            None => clauses.push(format!("{column} IS NULL")),
            Some(name) => {
                // An incomplete import exports nothing (see `datasets.rs`).
                clauses.push(format!(
                    "{column} = ? AND NOT EXISTS (SELECT 1 FROM datasets WHERE name = ? AND complete = 0)"
                ));
                args.push(SqlValue::Text(name.clone()));
                args.push(SqlValue::Text(name.clone()));
            }
        }
    }
}

/// A stored request with everything an export or a replay needs.
#[derive(Debug, Clone)]
pub struct ExportedRequest {
    pub id: i64,
    pub received_at: Micros,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub outcome: String,
    pub status: u16,
    pub error_code: Option<String>,
    /// Its stored events' uuids, in arrival order (the bundle keeps them so that events whose
    /// SDK sent no uuid get the same one back on import).
    pub event_uuids: Vec<String>,
}

/// Counts of a selection, for progress bars and headers.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SelectionCounts {
    pub requests: i64,
    pub events: i64,
}

impl Store {
    /// The requests of a selection, in arrival order. When the selection narrows events, a
    /// request is included when any of its events matches, and it is included whole (a batch
    /// may carry other events too); otherwise every request of the data set in the time range,
    /// rejected ones included.
    pub fn export_requests<E: From<StoreError>>(
        &self,
        selection: &Selection,
        mut each: impl FnMut(ExportedRequest) -> Result<(), E>,
    ) -> Result<(), E> {
        let (sql, args) = requests_sql(
            selection,
            "r.id, r.received_at, r.method, r.path, r.query, r.headers, r.body, r.outcome, r.status, r.error_code",
        );
        let (uuid_sql, uuid_args) = request_uuids_sql(selection);
        let conn = self.reader()?;
        let mut stmt = conn.prepare(&sql).map_err(StoreError::from)?;
        let mut uuid_stmt = conn.prepare(&uuid_sql).map_err(StoreError::from)?;
        let mut rows = stmt.query(params_from_iter(args)).map_err(StoreError::from)?;
        // Events come in seq order, which is request order too (the writer inserts a request's
        // events right after it, in one transaction): a merge instead of a lookup per request,
        // since `events` has no index on request_id (capture pays for every index).
        let mut uuid_rows = uuid_stmt.query(params_from_iter(uuid_args)).map_err(StoreError::from)?;
        let mut pending: Option<(i64, String)> = None;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let id: i64 = row.get(0).map_err(StoreError::from)?;
            let headers: String = row.get(5).map_err(StoreError::from)?;
            let mut event_uuids = Vec::new();
            loop {
                if pending.is_none() {
                    pending = match uuid_rows.next().map_err(StoreError::from)? {
                        Some(r) => Some((r.get(0).map_err(StoreError::from)?, r.get(1).map_err(StoreError::from)?)),
                        None => None,
                    };
                }
                match pending.take() {
                    Some((request_id, uuid)) if request_id == id => event_uuids.push(uuid),
                    // An event of an earlier request that was not selected: skip it.
                    Some((request_id, _)) if request_id < id => {}
                    later => {
                        pending = later;
                        break;
                    }
                }
            }
            let request = ExportedRequest {
                id,
                received_at: row.get(1).map_err(StoreError::from)?,
                method: row.get(2).map_err(StoreError::from)?,
                path: row.get(3).map_err(StoreError::from)?,
                query: row.get(4).map_err(StoreError::from)?,
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                body: row.get(6).map_err(StoreError::from)?,
                outcome: row.get(7).map_err(StoreError::from)?,
                status: row.get(8).map_err(StoreError::from)?,
                error_code: row.get(9).map_err(StoreError::from)?,
                event_uuids,
            };
            each(request)?;
        }
        Ok(())
    }

    /// The events of a selection, in arrival order.
    pub fn export_events<E: From<StoreError>>(
        &self,
        selection: &Selection,
        mut each: impl FnMut(StoredEvent) -> Result<(), E>,
    ) -> Result<(), E> {
        let (sql, args) = events_sql(selection, EVENT_COLUMNS);
        let conn = self.reader()?;
        let mut stmt = conn.prepare(&format!("{sql} ORDER BY e.seq")).map_err(StoreError::from)?;
        let mut rows = stmt.query(params_from_iter(args)).map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            each(event_row(row).map_err(StoreError::from)?)?;
        }
        Ok(())
    }

    /// How many requests and events a selection holds.
    pub fn count_selection(&self, selection: &Selection) -> Result<SelectionCounts, StoreError> {
        let conn = self.reader()?;
        let (sql, args) = requests_sql(selection, "count(*)");
        let requests = conn.query_row(&sql, params_from_iter(args), |r| r.get(0))?;
        let (sql, args) = events_sql(selection, "count(*)");
        let events = conn.query_row(&sql, params_from_iter(args), |r| r.get(0))?;
        Ok(SelectionCounts { requests, events })
    }
}

fn events_sql(selection: &Selection, columns: &str) -> (String, Vec<SqlValue>) {
    let (mut clauses, mut args) = selection.event_clauses();
    selection.dataset_clause("r.dataset", &mut clauses, &mut args);
    let sql = format!(
        "SELECT {columns} FROM events e JOIN requests r ON r.id = e.request_id WHERE {}",
        clauses.join(" AND ")
    );
    (sql, args)
}

/// `(request_id, uuid)` of every event of the selected requests, in seq order.
fn request_uuids_sql(selection: &Selection) -> (String, Vec<SqlValue>) {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    selection.dataset_clause("r.dataset", &mut clauses, &mut args);
    if selection.narrows_events() {
        let (event_clauses, event_args) = selection.event_clauses();
        // SQLite runs the subquery once into a temporary index.
        clauses
            .push(format!("e.request_id IN (SELECT e.request_id FROM events e WHERE {})", event_clauses.join(" AND ")));
        args.extend(event_args);
    } else {
        selection.time_clauses("r.received_at", &mut clauses, &mut args);
    }
    let sql = format!(
        "SELECT e.request_id, e.uuid FROM events e JOIN requests r ON r.id = e.request_id WHERE {} ORDER BY e.seq",
        clauses.join(" AND ")
    );
    (sql, args)
}

fn requests_sql(selection: &Selection, columns: &str) -> (String, Vec<SqlValue>) {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    selection.dataset_clause("r.dataset", &mut clauses, &mut args);
    if selection.narrows_events() {
        let (event_clauses, event_args) = selection.event_clauses();
        clauses.push(format!("r.id IN (SELECT e.request_id FROM events e WHERE {})", event_clauses.join(" AND ")));
        args.extend(event_args);
    } else {
        selection.time_clauses("r.received_at", &mut clauses, &mut args);
    }
    (format!("SELECT {columns} FROM requests r WHERE {} ORDER BY r.id", clauses.join(" AND ")), args)
}
