//! Deliveries: what became of each event a faulted request carried. SDKs resend the events of a
//! request that failed with the same event uuid (PostHog's `uuid`, Segment's `messageId`,
//! Mixpanel's `$insert_id`), so every copy of one `(project, uuid)`, in faulted requests
//! (`faulted_events`) and stored as an event (`events`), is one delivery attempt: "sent 3 times,
//! stored once", or "lost: never retried".
//!
//! The main types: [`Delivery`] (one uuid's attempts and what they add up to, a
//! [`DeliveryState`]), [`Attempt`], [`DeliveryFilter`]; and [`UndeliveredEvent`], an event only
//! ever seen in faulted requests, which the identity model reads as "not delivered" input.
//!
//! Invariants:
//! - Only uuids with a faulted copy are deliveries: the store never looks for repeats among
//!   events no fault touched (a PostHog uuid stored twice is PostHog's behaviour, shown by the
//!   event views, not here).
//! - Nothing is deduplicated or hidden: an event stored twice counts twice (`duplicated`).
//! - A uuid without any stored copy is `lost` for now: an SDK may still resend it (posthog-js
//!   retries for up to about an hour, an offline queue much later), and then it is not.
//! - A copy whose uuid the SDK did not send (the decoder made one up: KISSmetrics calls, or an
//!   event without `uuid`/`messageId`/`$insert_id`) matches no other copy: its delivery is
//!   `unmatched`, never `lost`, and it is no undelivered event.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection};
use serde::Serialize;

use crate::model::ser_micros;
use crate::query::{Page, MAX_PAGE};
use crate::{ArrivedEvent, Micros, Outcome, Store, StoreError};

/// What one uuid's attempts add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Stored once, after one or more faulted attempts.
    Delivered,
    /// Stored more than once (PostHog keeps every copy of a uuid; Segment and Mixpanel store one).
    Duplicated,
    /// Never stored: every copy was faulted (so far).
    Lost,
    /// Faulted, with a uuid the SDK did not send: a resent copy would have another one, so
    /// whether it got through cannot be told.
    Unmatched,
}

impl DeliveryState {
    pub fn parse(text: &str) -> Option<DeliveryState> {
        match text {
            "delivered" => Some(DeliveryState::Delivered),
            "duplicated" => Some(DeliveryState::Duplicated),
            "lost" => Some(DeliveryState::Lost),
            "unmatched" => Some(DeliveryState::Unmatched),
            _ => None,
        }
    }

    fn of(stored: u32) -> DeliveryState {
        match stored {
            0 => DeliveryState::Lost,
            1 => DeliveryState::Delivered,
            _ => DeliveryState::Duplicated,
        }
    }
}

/// One copy of an event reaching the inspector.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attempt {
    pub request_id: i64,
    #[serde(serialize_with = "ser_micros")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received_at: Micros,
    /// `accepted` (stored as an event) or `faulted`.
    #[cfg_attr(feature = "ts", ts(as = "crate::Outcome"))]
    pub outcome: String,
    /// What the SDK was answered (0: the connection was dropped).
    pub status: u16,
    pub path: String,
    /// posthog-js numbers its retries in the query (`retry_count=N`).
    pub query: Option<String>,
    /// What the fault rule did, for a faulted copy.
    pub fault: Option<String>,
    /// The stored event's arrival number, for a stored copy.
    pub seq: Option<i64>,
}

/// Every attempt to deliver one event uuid, when a fault touched one of them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Delivery {
    pub project: String,
    pub uuid: String,
    pub event: String,
    pub distinct_id: String,
    /// Copies received, faulted or stored.
    pub sent: u32,
    /// Copies stored as events.
    pub stored: u32,
    pub state: DeliveryState,
    /// "sent 3 times, stored once", "lost: never retried".
    pub summary: String,
    /// Oldest first.
    pub attempts: Vec<Attempt>,
}

/// Which deliveries `Store::deliveries` lists, newest fault first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub project: Option<String>,
    pub state: Option<DeliveryState>,
    /// The previous page's `next_cursor`.
    pub before: Option<i64>,
    pub limit: u32,
}

/// An event seen only in faulted requests: `event.seq` is the `seq` stored last before its first
/// attempt (where it would have arrived); `attempts` counts its copies.
#[derive(Debug, Clone)]
pub struct UndeliveredEvent {
    pub event: ArrivedEvent,
    pub attempts: u32,
}

fn times(n: u32) -> String {
    match n {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

/// The summary of an `unmatched` delivery.
const UNMATCHED: &str = "faulted; the SDK sent no event id, so a resent copy cannot be matched to it";

/// The sentence a delivery is summed up in.
pub fn summary(sent: u32, stored: u32) -> String {
    match (sent, stored) {
        (1, 0) => "lost: never retried".to_owned(),
        (sent, 0) => format!("lost: sent {}, never stored", times(sent)),
        (sent, stored) => format!("sent {}, stored {}", times(sent), times(stored)),
    }
}

/// The attempts at `(project, uuid)`, oldest first, with the event's name and distinct id.
fn attempts(conn: &Connection, project: &str, uuid: &str) -> Result<Option<Delivery>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.received_at, r.outcome, r.status, r.path, r.query, r.error, e.seq, e.event, e.distinct_id, 1
         FROM events e JOIN requests r ON r.id = e.request_id WHERE e.uuid = ?1 AND e.project = ?2
         UNION ALL
         SELECT r.id, r.received_at, r.outcome, r.status, r.path, r.query, r.error, NULL, f.event, f.distinct_id,
                f.sdk_uuid
         FROM faulted_events f JOIN requests r ON r.id = f.request_id WHERE f.uuid = ?1 AND f.project = ?2
         ORDER BY 1",
    )?;
    let mut rows = stmt.query(params![uuid, project])?;
    let mut delivery: Option<Delivery> = None;
    let mut matchable = true;
    while let Some(row) = rows.next()? {
        let outcome: String = row.get(2)?;
        let faulted = outcome == Outcome::Faulted.as_str();
        let attempt = Attempt {
            request_id: row.get(0)?,
            received_at: row.get(1)?,
            status: row.get(3)?,
            path: row.get(4)?,
            query: row.get(5)?,
            fault: if faulted { row.get(6)? } else { None },
            seq: row.get(7)?,
            outcome,
        };
        let d = delivery.get_or_insert_with(|| Delivery {
            project: project.to_owned(),
            uuid: uuid.to_owned(),
            event: String::new(),
            distinct_id: String::new(),
            sent: 0,
            stored: 0,
            state: DeliveryState::Lost,
            summary: String::new(),
            attempts: Vec::new(),
        });
        if d.event.is_empty() {
            d.event = row.get(8)?;
            d.distinct_id = row.get(9)?;
        }
        d.sent += 1;
        d.stored += u32::from(!faulted);
        d.attempts.push(attempt);
        matchable &= row.get::<_, bool>(10)?;
    }
    Ok(delivery.map(|mut d| {
        if matchable {
            d.state = DeliveryState::of(d.stored);
            d.summary = summary(d.sent, d.stored);
        } else {
            d.state = DeliveryState::Unmatched;
            d.summary = UNMATCHED.to_owned();
        }
        d
    }))
}

/// The SQL condition on `faulted_events f` that keeps the uuids in `state`.
fn state_clause(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Lost => {
            "f.sdk_uuid = 1 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.uuid = f.uuid AND e.project = f.project)"
        }
        DeliveryState::Unmatched => "f.sdk_uuid = 0",
        DeliveryState::Delivered => {
            "(SELECT count(*) FROM events e WHERE e.uuid = f.uuid AND e.project = f.project) = 1"
        }
        DeliveryState::Duplicated => {
            "(SELECT count(*) FROM events e WHERE e.uuid = f.uuid AND e.project = f.project) > 1"
        }
    }
}

impl Store {
    /// The uuids faults touched, the most recently faulted first, each with all its attempts.
    /// `next_cursor` pages on.
    pub fn deliveries(&self, filter: &DeliveryFilter) -> Result<Page<Delivery>, StoreError> {
        let conn = self.reader()?;
        let mut clauses = vec!["1".to_owned()];
        let mut args: Vec<SqlValue> = Vec::new();
        if let Some(project) = &filter.project {
            clauses.push("f.project = ?".into());
            args.push(SqlValue::Text(project.clone()));
        }
        if let Some(state) = filter.state {
            clauses.push(state_clause(state).into());
        }
        let having = match filter.before {
            Some(before) => {
                args.push(SqlValue::Integer(before));
                "HAVING last < ?"
            }
            None => "",
        };
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let keys: Vec<(String, String, i64)> = conn
            .prepare(&format!(
                "SELECT f.project, f.uuid, max(f.id) AS last FROM faulted_events f WHERE {}
                 GROUP BY f.project, f.uuid {having} ORDER BY last DESC LIMIT {limit}",
                clauses.join(" AND ")
            ))?
            .query_map(params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let next_cursor = (keys.len() as u32 == limit).then(|| keys.last().map(|k| k.2)).flatten();
        let mut items = Vec::with_capacity(keys.len());
        for (project, uuid, _) in &keys {
            items.extend(attempts(&conn, project, uuid)?);
        }
        Ok(Page { items, next_cursor })
    }

    /// The deliveries of these uuids of `project` that a fault touched (the others have none),
    /// in the order given: a request's or an event's delivery history.
    pub fn deliveries_of(&self, project: &str, uuids: &[String]) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.reader()?;
        if !conn.prepare_cached("SELECT 1 FROM faulted_events LIMIT 1")?.exists([])? {
            return Ok(Vec::new());
        }
        let mut faulted = conn.prepare_cached("SELECT 1 FROM faulted_events WHERE uuid = ?1 AND project = ?2")?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for uuid in uuids {
            if seen.insert(uuid.as_str()) && faulted.exists(params![uuid, project])? {
                out.extend(attempts(&conn, project, uuid)?);
            }
        }
        Ok(out)
    }

    /// Up to `limit` events never stored, only ever seen in faulted requests, in the order of
    /// their first attempt: what the identity model reads as "not delivered".
    pub fn undelivered(&self, limit: u32) -> Result<Vec<UndeliveredEvent>, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn.prepare_cached(
            "SELECT min(f.id), f.after_seq, f.uuid, f.project, f.source, f.event, f.distinct_id, f.timestamp,
                    f.properties, count(*)
             FROM faulted_events f
             WHERE f.sdk_uuid = 1
               AND NOT EXISTS (SELECT 1 FROM events e WHERE e.uuid = f.uuid AND e.project = f.project)
             GROUP BY f.project, f.uuid ORDER BY 1 LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(UndeliveredEvent {
                event: ArrivedEvent {
                    seq: r.get(1)?,
                    uuid: r.get(2)?,
                    project: r.get(3)?,
                    source: r.get(4)?,
                    event: r.get(5)?,
                    distinct_id: r.get(6)?,
                    timestamp: r.get(7)?,
                    properties: r.get(8)?,
                    request_path: None,
                },
                attempts: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest faulted event's id (0 when none): moves with every faulted request that
    /// carried events, so a reader of `undelivered` knows when to read again.
    pub fn faults_mark(&self) -> Result<i64, StoreError> {
        let conn = self.reader()?;
        Ok(conn.query_row("SELECT coalesce(max(id), 0) FROM faulted_events", [], |r| r.get(0))?)
    }
}
