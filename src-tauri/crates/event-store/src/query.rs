//! Read queries for the API. Pagination is by cursor (a `seq` or request id), newest first, so a
//! page stays correct while new rows arrive.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, OptionalExtension, Row};
use serde_json::value::RawValue;

use crate::datasets::{exclude_pending_projects, exclude_pending_requests, pending_datasets, IMPORT_PREFIX};
use crate::{JsonText, ProjectSummary, RequestDetail, Store, StoreError, StoredEvent, StoredRequest, Totals};

/// The most rows one page of events or requests holds (a larger `limit` is clamped to it).
pub const MAX_PAGE: u32 = 1000;
const PREVIEW_BYTES: usize = 300;

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub project: Option<String>,
    /// One source or several, comma-separated (`segment,rudderstack`).
    pub source: Option<String>,
    pub distinct_id: Option<String>,
    pub event: Option<String>,
    pub device_id: Option<String>,
    pub session_id: Option<String>,
    pub request_id: Option<i64>,
    /// Free text: events whose name, distinct id, uuid, device, session or properties JSON
    /// contain it (case-insensitive for ASCII).
    pub text: Option<String>,
    /// Only events with `seq` below this (the previous page's `next_cursor`).
    pub before_seq: Option<i64>,
    /// Only events with `seq` above this (what arrived since a page was loaded).
    pub after_seq: Option<i64>,
    /// Leave out imported data sets (`import:<name>/<token>`): live traffic only.
    pub live_only: bool,
    /// Oldest first: the first `limit` events after `after_seq` (a follower working through a
    /// backlog in order), instead of the newest `limit`. The next page is then `after_seq` = the
    /// page's `next_cursor` (its last seq), not `before_seq`.
    pub oldest_first: bool,
    /// Leave each event's properties out (read as JSON `null`): a follower that prints names and
    /// ids reads a fifth of the bytes of a posthog-js event.
    pub without_properties: bool,
    pub limit: u32,
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub outcome: Option<String>,
    /// One source or several, comma-separated, as for events.
    pub source: Option<String>,
    pub before_id: Option<i64>,
    /// Only accepted requests that carried no events (flags, config, settings calls).
    pub without_events: bool,
    /// Requests that named this project key, and those stored without one (before requests
    /// kept their key, or naming none), which the caller may still attribute by their body.
    pub project: Option<String>,
    pub limit: u32,
}

#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<i64>,
}

fn raw_json(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"))
}

/// The columns of a [`StoredEvent`], in `event_row`'s order, qualified by the alias `e` so that
/// a query joining `requests` (which has `source` and `received_at` too) can use them as they
/// are: select them `FROM events e`.
pub(crate) const EVENT_COLUMNS: &str = "e.uuid, e.project, e.source, e.event, e.distinct_id, e.device_id,
    e.session_id, e.timestamp, e.original_timestamp, e.sent_at, e.received_at, e.seq, e.request_id, e.properties,
    e.warnings";

/// `EVENT_COLUMNS` with `null` in place of the properties (`EventFilter::without_properties`).
const EVENT_COLUMNS_WITHOUT_PROPERTIES: &str = "e.uuid, e.project, e.source, e.event, e.distinct_id,
    e.device_id, e.session_id, e.timestamp, e.original_timestamp, e.sent_at, e.received_at, e.seq, e.request_id,
    'null', e.warnings";

/// One row of `EVENT_COLUMNS` (or `EVENT_COLUMNS_WITHOUT_PROPERTIES`).
pub(crate) fn event_row(row: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        uuid: row.get(0)?,
        project: row.get(1)?,
        source: row.get(2)?,
        event: row.get(3)?,
        distinct_id: row.get(4)?,
        device_id: row.get(5)?,
        session_id: row.get(6)?,
        timestamp: row.get(7)?,
        original_timestamp: row.get(8)?,
        sent_at: row.get(9)?,
        received_at: row.get(10)?,
        seq: row.get(11)?,
        request_id: row.get(12)?,
        properties: row.get::<_, String>(13)?.into(),
        warnings: row.get::<_, Option<String>>(14)?.map(JsonText::from),
    })
}

/// `text` with LIKE's wildcards (and the escape character) escaped by `\`.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a body looks like at a glance, without decoding it.
pub fn body_preview(head: &[u8], total: usize) -> String {
    if total == 0 {
        return String::new();
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        return format!("<gzip, {total} bytes>");
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // Cut inside a multi-byte character at the preview edge: keep the valid part.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
        Err(_) => return format!("<binary, {total} bytes>"),
    };
    let mut preview: String = text.chars().take(200).collect();
    if total > preview.len() {
        preview.push('…');
    }
    preview
}

const REQUEST_COLUMNS: &str = "id, method, path, query, received_at, source, route, outcome, status, error,
    error_code, event_count, note, length(body), substr(body, 1, 300), project";

fn request_row(row: &Row<'_>) -> rusqlite::Result<StoredRequest> {
    let size: i64 = row.get(13)?;
    // SQLite's substr() of a zero-length blob is NULL, not an empty blob.
    let head: Vec<u8> = row.get::<_, Option<Vec<u8>>>(14)?.unwrap_or_default();
    debug_assert!(head.len() <= PREVIEW_BYTES);
    Ok(StoredRequest {
        id: row.get(0)?,
        method: row.get(1)?,
        path: row.get(2)?,
        query: row.get(3)?,
        received_at: row.get(4)?,
        source: row.get(5)?,
        route: row.get(6)?,
        outcome: row.get(7)?,
        status: row.get(8)?,
        error: row.get(9)?,
        error_code: row.get(10)?,
        event_count: row.get(11)?,
        note: row.get(12)?,
        body_size: size,
        body_preview: body_preview(&head, size as usize),
        project: row.get(15)?,
    })
}

/// `source IN (...)` for a comma-separated list of sources; nothing when it is empty.
fn push_sources(sources: &Option<String>, clauses: &mut Vec<String>, args: &mut Vec<SqlValue>) {
    let list: Vec<&str> = sources.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()).collect();
    if list.is_empty() {
        return;
    }
    clauses.push(format!("source IN ({})", vec!["?"; list.len()].join(", ")));
    args.extend(list.into_iter().map(|s| SqlValue::Text(s.to_owned())));
}

impl Store {
    pub fn events(&self, filter: &EventFilter) -> Result<Page<StoredEvent>, StoreError> {
        let mut clauses = Vec::new();
        let mut args: Vec<SqlValue> = Vec::new();
        let text_filters = [
            ("project", &filter.project),
            ("distinct_id", &filter.distinct_id),
            ("event", &filter.event),
            ("device_id", &filter.device_id),
            ("session_id", &filter.session_id),
        ];
        for (column, value) in text_filters {
            if let Some(v) = value {
                clauses.push(format!("{column} = ?"));
                args.push(SqlValue::Text(v.clone()));
            }
        }
        push_sources(&filter.source, &mut clauses, &mut args);
        if let Some(id) = filter.request_id {
            clauses.push("request_id = ?".into());
            args.push(SqlValue::Integer(id));
        }
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            let columns = ["event", "distinct_id", "uuid", "device_id", "session_id", "properties"];
            let any = columns.map(|c| format!("{c} LIKE ? ESCAPE '\\'")).join(" OR ");
            clauses.push(format!("({any})"));
            let pattern = format!("%{}%", like_escape(text));
            args.extend(columns.map(|_| SqlValue::Text(pattern.clone())));
        }
        if let Some(seq) = filter.before_seq {
            clauses.push("seq < ?".into());
            args.push(SqlValue::Integer(seq));
        }
        if let Some(seq) = filter.after_seq {
            clauses.push("seq > ?".into());
            args.push(SqlValue::Integer(seq));
        }
        if filter.live_only {
            // `[import:, import;)`: every imported project sorts inside it (`;` follows `:` in
            // ASCII), and capture refuses live tokens that start with the prefix.
            clauses.push("NOT (project >= ? AND project < ?)".into());
            args.push(SqlValue::Text(IMPORT_PREFIX.to_owned()));
            args.push(SqlValue::Text(format!("{};", IMPORT_PREFIX.trim_end_matches(':'))));
        }
        let conn = self.reader()?;
        exclude_pending_projects(&pending_datasets(&conn)?, "project", &mut clauses, &mut args);
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let columns = if filter.without_properties { EVENT_COLUMNS_WITHOUT_PROPERTIES } else { EVENT_COLUMNS };
        let order = if filter.oldest_first { "ASC" } else { "DESC" };
        let sql = format!("SELECT {columns} FROM events e {where_sql} ORDER BY seq {order} LIMIT {limit}");
        let mut stmt = conn.prepare_cached(&sql)?;
        let items = stmt.query_map(params_from_iter(args), event_row)?.collect::<Result<Vec<_>, _>>()?;
        let next_cursor = (items.len() as u32 == limit).then(|| items.last().map(|e| e.seq)).flatten();
        Ok(Page { items, next_cursor })
    }

    pub fn requests(&self, filter: &RequestFilter) -> Result<Page<StoredRequest>, StoreError> {
        let mut clauses: Vec<String> = Vec::new();
        let mut args: Vec<SqlValue> = Vec::new();
        if let Some(outcome) = &filter.outcome {
            if crate::Outcome::parse(outcome).is_none() {
                return Err(StoreError::InvalidQuery(format!(
                    "outcome must be `accepted`, `rejected` or `faulted`, not {outcome:?}"
                )));
            }
            clauses.push("outcome = ?".into());
            args.push(SqlValue::Text(outcome.clone()));
        }
        if filter.without_events {
            // Literal values, as the partial index `requests_without_events` states them: SQLite
            // uses a partial index only when the query's terms imply its WHERE.
            clauses.push("outcome = 'accepted' AND event_count = 0".into());
        }
        if let Some(project) = &filter.project {
            clauses.push("(project = ? OR project IS NULL)".into());
            args.push(SqlValue::Text(project.clone()));
        }
        push_sources(&filter.source, &mut clauses, &mut args);
        if let Some(id) = filter.before_id {
            clauses.push("id < ?".into());
            args.push(SqlValue::Integer(id));
        }
        let conn = self.reader()?;
        exclude_pending_requests(&pending_datasets(&conn)?, "dataset", &mut clauses, &mut args);
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        // Without statistics the planner prefers `requests_outcome` (every accepted request, most
        // of them carrying events); naming the partial index keeps a page a short index walk, and
        // SQLite refuses the statement if the clause above ever stops matching the index.
        let index = if filter.without_events { "INDEXED BY requests_without_events" } else { "" };
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests {index} {where_sql} ORDER BY id DESC LIMIT {limit}");
        let mut stmt = conn.prepare_cached(&sql)?;
        let items = stmt.query_map(params_from_iter(args), request_row)?.collect::<Result<Vec<_>, _>>()?;
        let next_cursor = (items.len() as u32 == limit).then(|| items.last().map(|r| r.id)).flatten();
        Ok(Page { items, next_cursor })
    }

    pub fn request(&self, id: i64) -> Result<Option<RequestDetail>, StoreError> {
        let conn = self.reader()?;
        let found = conn
            .prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS}, headers, body FROM requests
                 WHERE id = ?1 AND (dataset IS NULL OR dataset NOT IN (SELECT name FROM datasets WHERE complete = 0))"
            ))?
            .query_row([id], |row| Ok((request_row(row)?, row.get::<_, String>(16)?, row.get::<_, Vec<u8>>(17)?)))
            .optional()?;
        let Some((summary, headers, body)) = found else { return Ok(None) };
        let uuids = if summary.outcome == crate::Outcome::Faulted.as_str() {
            "SELECT uuid FROM faulted_events WHERE request_id = ?1 ORDER BY id"
        } else {
            "SELECT uuid FROM events WHERE request_id = ?1 ORDER BY seq"
        };
        let event_uuids =
            conn.prepare_cached(uuids)?.query_map([id], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
        Ok(Some(RequestDetail { summary, headers: raw_json(headers), body, event_uuids }))
    }

    pub fn event(&self, uuid: &str) -> Result<Option<StoredEvent>, StoreError> {
        let conn = self.reader()?;
        let (mut clauses, mut args) = (vec!["uuid = ?".to_owned()], vec![SqlValue::Text(uuid.to_owned())]);
        exclude_pending_projects(&pending_datasets(&conn)?, "project", &mut clauses, &mut args);
        let event = conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE {} ORDER BY seq LIMIT 1",
                clauses.join(" AND ")
            ))?
            .query_row(params_from_iter(args), event_row)
            .optional()?;
        Ok(event)
    }

    pub fn projects(&self) -> Result<Vec<ProjectSummary>, StoreError> {
        let conn = self.reader()?;
        let (mut clauses, mut args) = (Vec::new(), Vec::new());
        exclude_pending_projects(&pending_datasets(&conn)?, "project", &mut clauses, &mut args);
        let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT project, source, events, first_seen, last_seen FROM projects {where_sql} ORDER BY last_seen DESC"
        ))?;
        let rows = stmt
            .query_map(params_from_iter(args), |r| {
                Ok(ProjectSummary {
                    project: r.get(0)?,
                    source: r.get(1)?,
                    events: r.get(2)?,
                    first_seen: r.get(3)?,
                    last_seen: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn totals(&self) -> Result<Totals, StoreError> {
        let conn = self.reader()?;
        let pending = pending_datasets(&conn)?;
        let (mut clauses, mut args) = (vec!["1".to_owned()], Vec::new());
        exclude_pending_projects(&pending, "project", &mut clauses, &mut args);
        let events = conn.query_row(
            &format!("SELECT coalesce(sum(events), 0) FROM projects WHERE {}", clauses.join(" AND ")),
            params_from_iter(args),
            |r| r.get(0),
        )?;
        let (mut clauses, mut args) = (vec!["1".to_owned()], Vec::new());
        exclude_pending_requests(&pending, "dataset", &mut clauses, &mut args);
        let live = clauses.join(" AND ");
        let (requests, rejected, faulted) = conn.query_row(
            &format!(
                "SELECT (SELECT count(*) FROM requests WHERE {live}),
                        (SELECT count(*) FROM requests WHERE outcome = 'rejected' AND {live}),
                        (SELECT count(*) FROM requests WHERE outcome = 'faulted' AND {live})"
            ),
            params_from_iter(args.iter().chain(args.iter()).chain(args.iter())),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(Totals { events, requests, rejected, faulted })
    }
}

/// An event as the identity model consumes it: arrival order, corrected time, raw properties.
#[derive(Debug, Clone)]
pub struct ArrivedEvent {
    pub seq: i64,
    pub uuid: String,
    pub project: String,
    pub source: String,
    pub event: String,
    pub distinct_id: String,
    pub timestamp: crate::Micros,
    pub properties: String,
    /// The path of the request the event arrived in (`requests.path`), read for Mixpanel events
    /// only (`None` for every other source): Mixpanel honours some events on one route only.
    pub request_path: Option<String>,
}

/// One row of `scan_events_after`, borrowed from SQLite (nothing copied until the caller does).
#[derive(Debug, Clone, Copy)]
pub struct ArrivedRow<'a> {
    pub seq: i64,
    pub uuid: &'a str,
    pub project: &'a str,
    pub source: &'a str,
    pub event: &'a str,
    pub distinct_id: &'a str,
    pub timestamp: crate::Micros,
    pub properties: &'a str,
    /// See `ArrivedEvent::request_path`.
    pub request_path: Option<&'a str>,
}

impl ArrivedRow<'_> {
    pub fn to_owned_event(&self) -> ArrivedEvent {
        ArrivedEvent {
            seq: self.seq,
            uuid: self.uuid.to_owned(),
            project: self.project.to_owned(),
            source: self.source.to_owned(),
            event: self.event.to_owned(),
            distinct_id: self.distinct_id.to_owned(),
            timestamp: self.timestamp,
            properties: self.properties.to_owned(),
            request_path: self.request_path.map(str::to_owned),
        }
    }
}

impl ArrivedEvent {
    /// The same event, borrowed (what `scan_events_after` hands out).
    pub fn as_row(&self) -> ArrivedRow<'_> {
        ArrivedRow {
            seq: self.seq,
            uuid: &self.uuid,
            project: &self.project,
            source: &self.source,
            event: &self.event,
            distinct_id: &self.distinct_id,
            timestamp: self.timestamp,
            properties: &self.properties,
            request_path: self.request_path.as_deref(),
        }
    }
}

/// What `scan_events_after` read: the caller's items, how many rows there were, and the last
/// row's seq (where the next scan starts, whatever the caller kept).
#[derive(Debug)]
pub struct Scanned<T> {
    pub items: Vec<T>,
    pub rows: usize,
    pub last_seq: Option<i64>,
    /// Data sets whose import was incomplete at the read: their rows were left out (see
    /// `datasets.rs`), and `last_seq` may be past them.
    pub pending: Vec<String>,
}

fn text<'a>(row: &'a Row<'_>, i: usize) -> rusqlite::Result<&'a str> {
    row.get_ref(i)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// The most items `scan_events_after` reserves room for up front.
const SCAN_CAPACITY: u32 = 10_000;

impl Store {
    /// Like `events_after`, but hands each row to `keep` as borrowed text and stores only what
    /// it returns: the identity model's rebuild reads a million properties this way without
    /// copying each into a `String` first.
    pub fn scan_events_after<T>(
        &self,
        after: i64,
        limit: u32,
        mut keep: impl FnMut(ArrivedRow<'_>) -> Option<T>,
    ) -> Result<Scanned<T>, StoreError> {
        let mut conn = self.reader()?;
        // One read transaction: the pending list and the rows are of the same moment.
        let tx = conn.transaction()?;
        let pending = pending_datasets(&tx)?;
        let mut clauses = vec!["seq > ?".to_owned()];
        let mut args = vec![SqlValue::Integer(after)];
        exclude_pending_projects(&pending, "project", &mut clauses, &mut args);
        args.push(SqlValue::Integer(limit.into()));
        // The request path is a lookup by primary key, made for Mixpanel events only, so the
        // rebuild of other sources' events costs nothing more; `path` precedes the request body
        // in the row, so reading it never walks the body's overflow pages.
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT seq, uuid, project, source, event, distinct_id, timestamp, properties,
                    CASE WHEN source = 'mixpanel'
                         THEN (SELECT path FROM requests WHERE requests.id = events.request_id) END
             FROM events WHERE {} ORDER BY seq LIMIT ?",
            clauses.join(" AND ")
        ))?;
        let mut rows = stmt.query(params_from_iter(args))?;
        // Sized once: grown by doubling, a step's vector of thousands of decoded events was copied
        // into fresh pages several times per step, and the page faults cost more than the decoding.
        let items = Vec::with_capacity(limit.min(SCAN_CAPACITY) as usize);
        let mut scanned = Scanned { items, rows: 0, last_seq: None, pending: Vec::new() };
        while let Some(r) = rows.next()? {
            let row = ArrivedRow {
                seq: r.get(0)?,
                uuid: text(r, 1)?,
                project: text(r, 2)?,
                source: text(r, 3)?,
                event: text(r, 4)?,
                distinct_id: text(r, 5)?,
                timestamp: r.get(6)?,
                properties: text(r, 7)?,
                request_path: match r.get_ref(8)? {
                    rusqlite::types::ValueRef::Null => None,
                    _ => Some(text(r, 8)?),
                },
            };
            scanned.rows += 1;
            scanned.last_seq = Some(row.seq);
            scanned.items.extend(keep(row));
        }
        drop(rows);
        drop(stmt);
        if !pending.is_empty() && scanned.rows < limit as usize {
            // Fewer rows than asked: everything up to the newest seq was read, the pending rows
            // left out included; the caller continues after them.
            let newest: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
            if newest > after {
                scanned.last_seq = Some(newest);
            }
        }
        scanned.pending = pending;
        Ok(scanned)
    }

    /// Up to `limit` events with `seq > after`, oldest first: the feed for rebuilding and
    /// catching up the identity model.
    pub fn events_after(&self, after: i64, limit: u32) -> Result<Vec<ArrivedEvent>, StoreError> {
        Ok(self.scan_events_after(after, limit, |row| Some(row.to_owned_event()))?.items)
    }

    /// The newest arrival sequence number committed (0 when empty).
    pub fn last_seq(&self) -> Result<i64, StoreError> {
        let conn = self.reader()?;
        Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?)
    }
}
