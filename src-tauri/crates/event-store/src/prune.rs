//! Removing stored data: the oldest events and requests past a retention policy, or everything.
//!
//! Invariants:
//! - Only whole prefixes of the arrival order go: events with `seq` below a cut, requests with
//!   `id` below a cut, so what remains is still "everything since X" and `seq` never goes back
//!   (except after [`Store::clear_all`], which starts the numbering again).
//! - A request is never removed while one of its events is kept (the events' foreign key).
//! - Deletion runs on the writer thread in chunks, each its own transaction: captures queued in
//!   the meantime are committed between two chunks instead of waiting for the whole prune.
//! - The per-project counters (`projects`) change in the same transaction as the events they
//!   count, so a prune killed between two chunks leaves them exact across restarts.
//! - Retention applies to live traffic only: imported data sets (`datasets.rs`) were loaded on
//!   purpose and stay until cleared. "Prefix" above means the prefix of the live rows.
//! - Callers that keep derived state (the identity model) must rebuild it afterwards: the store
//!   announces [`Change::Pruned`] after every prune that removed something.

use std::sync::atomic::Ordering;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::{Change, Micros, Store, StoreError};

/// SQL conditions selecting live traffic (not an imported data set; see `datasets.rs`).
const LIVE_EVENT: &str = "substr(project, 1, 7) <> 'import:'";
const LIVE_REQUEST: &str = "dataset IS NULL";

/// Rows deleted per transaction: big enough to be quick, small enough that a capture waiting
/// behind a chunk waits tens of milliseconds, not seconds.
const CHUNK: i64 = 20_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// How much to keep. `None` means no limit of that kind; both limits apply when both are set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Retention {
    /// Keep at most this many events (the newest).
    pub max_events: Option<u64>,
    /// Keep events and requests received within this many days.
    pub max_age_days: Option<u32>,
}

impl Retention {
    pub fn keeps_everything(&self) -> bool {
        self.max_events.is_none() && self.max_age_days.is_none()
    }
}

/// What a prune or clear removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Removed {
    pub events: u64,
    pub requests: u64,
}

impl Removed {
    pub fn is_empty(&self) -> bool {
        self.events == 0 && self.requests == 0
    }
}

/// Where a prune cuts: events with `seq < events_below` and requests with `id < requests_below` go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut {
    events_below: i64,
    requests_below: i64,
}

impl Store {
    /// Deletes the oldest live events and requests that `policy` does not keep, judged at `now`.
    /// Blocking: call it from a plain thread or `spawn_blocking`.
    pub fn prune(&self, policy: Retention, now: Micros) -> Result<Removed, StoreError> {
        if policy.keeps_everything() {
            return Ok(Removed::default());
        }
        let cut = self.cut_for(policy, now)?;
        let mut removed = Removed::default();
        loop {
            let n = self.on_writer(move |c, _| delete_events_chunk(c, cut.events_below))?;
            removed.events += n;
            if n < CHUNK as u64 {
                break;
            }
        }
        loop {
            let n = self.on_writer(move |c, _| delete_chunk(c, "requests", "id", LIVE_REQUEST, cut.requests_below))?;
            removed.requests += n;
            if n < CHUNK as u64 {
                break;
            }
        }
        if !removed.is_empty() {
            self.inner.removals.fetch_add(1, Ordering::SeqCst);
            self.on_writer(move |c, changes| {
                recount_projects(c)?;
                let _ = changes.send(Change::Pruned { events: removed.events, requests: removed.requests, all: false });
                Ok(())
            })?;
            tracing::info!(
                events = removed.events,
                requests = removed.requests,
                "pruned data past the retention policy"
            );
        }
        Ok(removed)
    }

    /// Deletes every request, event and imported data set (with the data sets' project settings;
    /// live projects' settings stay, see `settings.rs`). Arrival numbers (`seq`) start again
    /// at 1 afterwards. Blocking: call it from a plain thread or `spawn_blocking`.
    pub fn clear_all(&self) -> Result<Removed, StoreError> {
        let store = self.clone();
        let removed = self.on_writer(move |conn, changes| {
            let removed = without_foreign_keys(conn, |conn| {
                let tx = conn.transaction()?;
                let events = tx.execute("DELETE FROM events", [])? as u64;
                // Foreign keys are off here: the cascade from requests would not run.
                tx.execute("DELETE FROM faulted_events", [])?;
                let requests = tx.execute("DELETE FROM requests", [])? as u64;
                tx.execute("DELETE FROM projects", [])?;
                tx.execute("DELETE FROM datasets", [])?;
                // Live projects keep their identity settings (the user chose a mode, then clears
                // the traffic to try again under it); settings of imported data sets go with them.
                tx.execute("DELETE FROM project_settings WHERE project LIKE 'import:%'", [])?;
                tx.commit()?;
                Ok(Removed { events, requests })
            })?;
            store.inner.removals.fetch_add(1, Ordering::SeqCst);
            // Give the space back: "clear all data" should also shrink the file.
            if let Err(e) = conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);") {
                tracing::warn!("could not compact the database after clearing it: {e}");
            }
            let _ = changes.send(Change::Pruned { events: removed.events, requests: removed.requests, all: true });
            Ok(removed)
        })?;
        tracing::info!(events = removed.events, requests = removed.requests, "cleared all data");
        Ok(removed)
    }

    /// How many prunes and clears removed rows since the store was opened: a reader of derived
    /// state that sees this change must rebuild it (rows it built on may be gone).
    pub fn removals(&self) -> u64 {
        self.inner.removals.load(Ordering::SeqCst)
    }

    /// Runs `work` on the writer thread after everything queued before it, and waits for it.
    pub(crate) fn on_writer<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection, &broadcast::Sender<Change>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.inner.writer.exclusive(Box::new(move |conn, changes| {
            let _ = reply.send(work(conn, changes));
        }))?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
    }

    fn cut_for(&self, policy: Retention, now: Micros) -> Result<Cut, StoreError> {
        let conn = self.reader()?;
        let end_seq: i64 = conn.query_row("SELECT coalesce(max(seq), 0) + 1 FROM events", [], |r| r.get(0))?;
        let end_id: i64 = conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM requests", [], |r| r.get(0))?;
        let first_seq: i64 =
            conn.query_row(&format!("SELECT coalesce(min(seq), 0) FROM events WHERE {LIVE_EVENT}"), [], |r| r.get(0))?;
        let mut events_below = 0;
        let mut requests_below = 0;
        if let Some(max) = policy.max_events {
            events_below = if max == 0 {
                end_seq
            } else {
                // The newest `max` events stay; with fewer than `max`, all of them.
                conn.query_row(
                    &format!("SELECT seq FROM events WHERE {LIVE_EVENT} ORDER BY seq DESC LIMIT 1 OFFSET ?1"),
                    [max as i64 - 1],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0)
            };
        }
        if let Some(days) = policy.max_age_days {
            let cutoff = now - i64::from(days) * MICROS_PER_DAY;
            // Arrival order and arrival time agree up to a few concurrent requests, so the first
            // row young enough is where the kept prefix starts (scanning only what goes).
            let first_young_event: Option<i64> = conn
                .query_row(
                    &format!("SELECT seq FROM events WHERE received_at >= ?1 AND {LIVE_EVENT} ORDER BY seq LIMIT 1"),
                    [cutoff],
                    |r| r.get(0),
                )
                .optional()?;
            events_below = events_below.max(first_young_event.unwrap_or(end_seq));
            let first_young_request: Option<i64> = conn
                .query_row(
                    &format!("SELECT id FROM requests WHERE received_at >= ?1 AND {LIVE_REQUEST} ORDER BY id LIMIT 1"),
                    [cutoff],
                    |r| r.get(0),
                )
                .optional()?;
            requests_below = first_young_request.unwrap_or(end_id);
        }
        let first_kept_request: Option<i64> = conn
            .query_row(
                &format!("SELECT request_id FROM events WHERE seq >= ?1 AND {LIVE_EVENT} ORDER BY seq LIMIT 1"),
                [events_below],
                |r| r.get(0),
            )
            .optional()?;
        // When events go, the requests that arrived before the oldest kept event go with them.
        if first_seq > 0 && first_seq < events_below {
            requests_below = requests_below.max(first_kept_request.unwrap_or(end_id));
        }
        // Never a request that a kept event belongs to.
        if let Some(kept) = first_kept_request {
            requests_below = requests_below.min(kept);
        }
        Ok(Cut { events_below, requests_below })
    }
}

/// Deletes up to `CHUNK` of the oldest live rows of `table` whose `key` is below `below`.
fn delete_chunk(conn: &mut Connection, table: &str, key: &str, live: &str, below: i64) -> Result<u64, StoreError> {
    if below <= 0 {
        return Ok(0);
    }
    without_foreign_keys(conn, |conn| {
        let sql = format!(
            "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {key} < ?1 AND {live} ORDER BY {key} LIMIT ?2)"
        );
        Ok(conn.execute(&sql, params![below, CHUNK])? as u64)
    })
}

/// Deletes up to `CHUNK` of the oldest live events with `seq` below `below`, and takes them off
/// their projects' counters in the same transaction (a project left with no events goes; its
/// `first_seen` becomes its oldest remaining event's arrival).
fn delete_events_chunk(conn: &mut Connection, below: i64) -> Result<u64, StoreError> {
    if below <= 0 {
        return Ok(0);
    }
    without_foreign_keys(conn, |conn| {
        let tx = conn.transaction()?;
        // The chunk is the live events with `seq` in `..=last`.
        let last: Option<i64> = tx
            .query_row(
                &format!(
                    "SELECT max(seq) FROM (SELECT seq FROM events WHERE seq < ?1 AND {LIVE_EVENT} ORDER BY seq LIMIT ?2)"
                ),
                params![below, CHUNK],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let Some(last) = last else { return Ok(0) };
        let counts: Vec<(String, String, i64)> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT project, source, count(*) FROM events WHERE seq <= ?1 AND {LIVE_EVENT} GROUP BY project, source"
            ))?;
            let rows = stmt.query_map([last], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let n = tx.execute(&format!("DELETE FROM events WHERE seq <= ?1 AND {LIVE_EVENT}"), [last])? as u64;
        for (project, source, count) in &counts {
            tx.execute(
                "UPDATE projects SET events = events - ?3,
                     first_seen = coalesce(
                         (SELECT received_at FROM events WHERE project = ?1 AND source = ?2 ORDER BY seq LIMIT 1),
                         first_seen)
                 WHERE project = ?1 AND source = ?2",
                params![project, source, count],
            )?;
        }
        tx.execute("DELETE FROM projects WHERE events <= 0", [])?;
        tx.commit()?;
        Ok(n)
    })
}

/// The per-project counters, recomputed from the events that remain.
fn recount_projects(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM projects", [])?;
    tx.execute(
        "INSERT INTO projects (project, source, events, first_seen, last_seen)
         SELECT project, source, count(*), min(received_at), max(received_at) FROM events GROUP BY project, source",
        [],
    )?;
    tx.commit()?;
    Ok(())
}

/// Runs `work` with foreign keys off. Deleting a request makes SQLite look for events pointing at
/// it, and `events.request_id` has no index (capture would pay for one): a full scan per row. The
/// cuts above keep the references intact instead.
pub(crate) fn without_foreign_keys<T>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = work(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{accepted_request, tick as event, T0};
    use crate::NewEvent;

    /// `(project, events, first_seen)` rows.
    type Counters = Vec<(String, i64, i64)>;

    /// The counters as stored, and as recounted from the events.
    fn counters(conn: &Connection) -> (Counters, Counters) {
        let read = |sql: &str| -> Counters {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
        };
        (
            read("SELECT project, events, first_seen FROM projects ORDER BY project"),
            read("SELECT project, count(*), min(received_at) FROM events GROUP BY project ORDER BY project"),
        )
    }

    /// A prune killed after its first chunk is a prune that ran only that chunk's transaction:
    /// what it committed (all a restart finds) must already have the counters agree with the
    /// events.
    #[test]
    fn a_prune_stopped_after_any_chunk_leaves_the_project_counters_exact() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            // Two projects, more than one chunk: the first chunk empties "a-small".
            let events: Vec<NewEvent> =
                (0..(CHUNK as usize + 500)).map(|i| event(i, if i < 10 { "a-small" } else { "b-big" })).collect();
            store.write(accepted_request("posthog"), events).await.unwrap();
        });

        // Killed here: the last chunk and the final recount never run.
        let removed = store.on_writer(|c, _| delete_events_chunk(c, i64::MAX)).unwrap();
        assert_eq!(removed, CHUNK as u64);

        assert_eq!(store.totals().unwrap().events, 500, "the counters count what is left");
        let (stored, recounted) = store.on_writer(|c, _| Ok(counters(c))).unwrap();
        assert_eq!(stored, recounted);
        assert_eq!(stored, [("b-big".to_owned(), 500, T0 + CHUNK)]);
    }
}
