//! Deleting one project's traffic (`DELETE /api/projects/{key}`, e.g. a test suite giving each
//! test its own project key): its events, the requests that carried them, its refused and
//! event-less requests (flags, settings calls), and its counters, while capture of every other
//! project goes on. The project's identity settings stay (see `settings.rs`).
//!
//! Invariants:
//! - What goes is what was committed before the call: the deletion first takes a [`ProjectCut`]
//!   on the writer thread (the newest event seq and request id at that moment) and deletes
//!   only the project's rows at or below it. The project's traffic that arrives meanwhile is
//!   kept, as traffic that came after the call.
//! - The cut is registered on the writer thread before anything later is committed, so a
//!   reader that has seen an event newer than the cut finds the cut in
//!   [`Store::project_cuts_after`]: the identity model drops the project's state exactly
//!   between the events before and after it (`inspector-server/src/identity.rs`), and skips
//!   the project's events at or below the cut that it may still read while the deletion runs.
//! - Deletion runs on the writer thread in chunks of at most `CHUNK` events, each its own
//!   transaction with the requests whose events it deleted and the project's counters, so a
//!   capture of another project waits for one chunk at most, and a process killed between two
//!   chunks leaves counters that match the events and no request whose events are only partly
//!   gone. A request's events have consecutive seqs (the writer inserts them together), so a
//!   chunk that ends inside a request leaves that request to the next chunk.
//! - Requests without events are found through the indexes that hold them (`requests_outcome`
//!   for refused ones, `requests_without_events` for accepted ones) by their `project` column,
//!   on a reader connection; requests stored before they kept their project key (NULL there)
//!   cannot be attributed and stay.
//! - Imported data sets (`import:<name>/<key>`) are not deleted one project at a time: they go
//!   whole, with "clear all data".

use std::sync::atomic::Ordering;

use rusqlite::{params, Connection, OptionalExtension};

use crate::prune::without_foreign_keys;
use crate::{Change, Removed, Store, StoreError, IMPORT_PREFIX};

/// Events (and the requests that carried them) deleted per transaction: a capture of another
/// project queued behind a chunk waits for it, so it is kept to milliseconds (see the test
/// `deleting_a_big_project_keeps_capture_of_others_going` for the measured wait).
const CHUNK: i64 = 5_000;

/// A project's traffic being deleted: every event of `project` with `seq <= through_seq` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectCut {
    /// Numbers the cuts of this store from 1, in the order they were taken.
    pub id: u64,
    pub project: String,
    /// The newest event seq committed when the deletion started (0 when the store was empty).
    pub through_seq: i64,
}

/// What [`Store::delete_project`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedProject {
    pub cut: ProjectCut,
    pub removed: Removed,
}

/// The cuts taken since the store was opened, and whether each deletion has finished.
#[derive(Debug, Default)]
pub(crate) struct Cuts {
    taken: std::sync::Mutex<Vec<(ProjectCut, bool)>>,
    count: std::sync::atomic::AtomicU64,
}

impl Store {
    /// Deletes the traffic of `project` committed before this call (see the module docs),
    /// announces [`Change::ProjectDeleted`] when something went, and returns what was removed.
    /// Blocking: call it from a plain thread or a background thread.
    pub fn delete_project(&self, project: &str) -> Result<DeletedProject, StoreError> {
        if project.starts_with(IMPORT_PREFIX) {
            return Err(StoreError::InvalidQuery(format!(
                "{project:?} is an imported data set's project: data sets are removed whole"
            )));
        }
        let store = self.clone();
        let name = project.to_owned();
        let (cut, through_request) = self.on_writer(move |conn, _| {
            let through_seq: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
            let through_request: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM requests", [], |r| r.get(0))?;
            Ok((store.take_cut(name, through_seq), through_request))
        })?;
        let result = self.delete_through(&cut, through_request);
        let failed = result.is_err();
        {
            let mut taken = self.inner.cuts.taken.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(entry) = taken.iter_mut().find(|(c, _)| c.id == cut.id) {
                entry.1 = true;
            }
        }
        if failed {
            // Some of the project's rows may be left while the identity model already dropped
            // the project: a removal makes it rebuild from what is really there.
            self.inner.removals.fetch_add(1, Ordering::SeqCst);
        }
        let removed = result?;
        if !removed.is_empty() {
            tracing::info!(
                project,
                events = removed.events,
                requests = removed.requests,
                "deleted a project's traffic"
            );
        }
        Ok(DeletedProject { cut, removed })
    }

    /// Registers a cut; runs on the writer thread (see the module's invariants).
    fn take_cut(&self, project: String, through_seq: i64) -> ProjectCut {
        let mut taken = self.inner.cuts.taken.lock().unwrap_or_else(|p| p.into_inner());
        let cut = ProjectCut { id: taken.len() as u64 + 1, project, through_seq };
        taken.push((cut.clone(), false));
        self.inner.cuts.count.store(cut.id, Ordering::SeqCst);
        cut
    }

    /// How many project deletions have started since the store was opened: a reader of derived
    /// state that has seen fewer must take the newer ones from [`Store::project_cuts_after`].
    pub fn project_cuts(&self) -> u64 {
        self.inner.cuts.count.load(Ordering::SeqCst)
    }

    /// The cuts after the first `seen`, oldest first.
    pub fn project_cuts_after(&self, seen: u64) -> Vec<ProjectCut> {
        let taken = self.inner.cuts.taken.lock().unwrap_or_else(|p| p.into_inner());
        taken.iter().skip(seen as usize).map(|(cut, _)| cut.clone()).collect()
    }

    /// Whether the deletion of cut `id` has finished (successfully or not): no row at or below
    /// the cut goes any more, so what is still stored stays.
    pub fn project_cut_finished(&self, id: u64) -> bool {
        let taken = self.inner.cuts.taken.lock().unwrap_or_else(|p| p.into_inner());
        id == 0 || taken.get(id as usize - 1).is_some_and(|(_, finished)| *finished)
    }

    fn delete_through(&self, cut: &ProjectCut, through_request: i64) -> Result<Removed, StoreError> {
        let mut removed = Removed::default();
        loop {
            self.let_wal_restart();
            let (project, through) = (cut.project.clone(), cut.through_seq);
            let (events, requests) = self.on_writer(move |c, _| delete_events_chunk(c, &project, through))?;
            removed.events += events;
            removed.requests += requests;
            if events == 0 {
                break;
            }
        }
        // Refused and faulted requests and accepted ones without events, found by a reader (no
        // writer time).
        let ids: Vec<i64> = {
            let conn = self.reader()?;
            let mut stmt = conn.prepare(
                "SELECT id FROM requests WHERE outcome IN ('rejected', 'faulted') AND id <= ?2 AND project = ?1
                 UNION ALL
                 SELECT id FROM requests INDEXED BY requests_without_events
                  WHERE outcome = 'accepted' AND event_count = 0 AND id <= ?2 AND project = ?1",
            )?;
            let rows = stmt.query_map(params![cut.project, through_request], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for chunk in ids.chunks(CHUNK as usize) {
            self.let_wal_restart();
            let (project, chunk) = (cut.project.clone(), chunk.to_vec());
            removed.requests += self.on_writer(move |c, _| delete_requests(c, &project, &chunk))?;
        }
        if !removed.is_empty() {
            let project = cut.project.clone();
            self.on_writer(move |_, changes| {
                let _ = changes.send(Change::ProjectDeleted {
                    project,
                    events: removed.events,
                    requests: removed.requests,
                });
                Ok(())
            })?;
        }
        Ok(removed)
    }
}

/// Deletes the oldest `CHUNK` events of `project` up to seq `through`, the requests whose
/// events are all gone then, and takes them off the project's counters, in one transaction.
/// Returns `(events, requests)` deleted.
fn delete_events_chunk(conn: &mut Connection, project: &str, through: i64) -> Result<(u64, u64), StoreError> {
    without_foreign_keys(conn, |conn| {
        let tx = conn.transaction()?;
        let last: Option<i64> = tx
            .query_row(
                "SELECT max(seq) FROM (SELECT seq FROM events WHERE project = ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3)",
                params![project, through, CHUNK],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let Some(last) = last else { return Ok((0, 0)) };
        // Earlier chunks took the project's older events: `seq <= last` is this chunk.
        let requests: Vec<i64> = {
            let mut stmt =
                tx.prepare_cached("SELECT DISTINCT request_id FROM events WHERE project = ?1 AND seq <= ?2")?;
            let rows = stmt.query_map(params![project, last], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let counts: Vec<(String, i64)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT source, count(*) FROM events WHERE project = ?1 AND seq <= ?2 GROUP BY source",
            )?;
            let rows = stmt.query_map(params![project, last], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let events = tx.execute("DELETE FROM events WHERE project = ?1 AND seq <= ?2", params![project, last])? as u64;
        // The request of the project's next event still has events when it is the chunk's last
        // request (its events are consecutive): it goes with the next chunk.
        let continuing: Option<i64> = tx
            .query_row(
                "SELECT request_id FROM events WHERE project = ?1 AND seq > ?2 ORDER BY seq LIMIT 1",
                params![project, last],
                |r| r.get(0),
            )
            .optional()?;
        let mut gone = 0;
        {
            let mut delete = tx.prepare_cached("DELETE FROM requests WHERE id = ?1")?;
            for id in requests.into_iter().filter(|id| Some(*id) != continuing) {
                gone += delete.execute([id])? as u64;
            }
        }
        for (source, count) in &counts {
            tx.execute(
                "UPDATE projects SET events = events - ?3,
                     first_seen = coalesce(
                         (SELECT received_at FROM events WHERE project = ?1 AND source = ?2 ORDER BY seq LIMIT 1),
                         first_seen)
                 WHERE project = ?1 AND source = ?2",
                params![project, source, count],
            )?;
        }
        tx.execute("DELETE FROM projects WHERE project = ?1 AND events <= 0", [project])?;
        tx.commit()?;
        Ok((events, gone))
    })
}

/// Deletes the requests `ids` (found without events) that still name `project`, and the events
/// a fault kept of them (`faulted_events`: foreign keys are off here, so no cascade does it).
fn delete_requests(conn: &mut Connection, project: &str, ids: &[i64]) -> Result<u64, StoreError> {
    without_foreign_keys(conn, |conn| {
        let tx = conn.transaction()?;
        let mut gone = 0;
        {
            let mut delete = tx.prepare_cached("DELETE FROM requests WHERE id = ?1 AND project = ?2")?;
            let mut faulted = tx.prepare_cached(
                "DELETE FROM faulted_events WHERE request_id = ?1
                     AND EXISTS (SELECT 1 FROM requests WHERE id = ?1 AND project = ?2)",
            )?;
            for id in ids {
                faulted.execute(params![id, project])?;
                gone += delete.execute(params![id, project])? as u64;
            }
        }
        tx.commit()?;
        Ok(gone)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{accepted_request, tick as event, T0};

    fn count(store: &Store, sql: &str) -> i64 {
        let sql = sql.to_owned();
        store.on_writer(move |c, _| Ok(c.query_row(&sql, [], |r| r.get(0))?)).unwrap()
    }

    /// Three requests of 4 000 events: the first chunk ends inside the second request. A deletion
    /// killed after that chunk committed only it: the first request is gone, the second keeps
    /// its request row with its remaining events, and the counters match the events.
    #[test]
    fn a_deletion_stopped_after_any_chunk_leaves_requests_and_counters_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            for r in 0..3 {
                let events = (r * 4_000..(r + 1) * 4_000).map(|i| event(i, "phc_big")).collect();
                store.write(accepted_request("posthog"), events).await.unwrap();
            }
            store.write(accepted_request("posthog"), vec![event(99_999, "phc_other")]).await.unwrap();
        });

        let (events, requests) = store.on_writer(|c, _| delete_events_chunk(c, "phc_big", i64::MAX)).unwrap();
        assert_eq!((events, requests), (CHUNK as u64, 1), "the second request still has events");

        assert_eq!(count(&store, "SELECT count(*) FROM events WHERE project = 'phc_big'"), 12_000 - CHUNK);
        assert_eq!(count(&store, "SELECT count(*) FROM requests"), 3);
        assert_eq!(
            count(&store, "SELECT count(*) FROM events WHERE request_id NOT IN (SELECT id FROM requests)"),
            0,
            "no event lost its request"
        );
        assert_eq!(count(&store, "SELECT events FROM projects WHERE project = 'phc_big'"), 12_000 - CHUNK);
        assert_eq!(
            count(&store, "SELECT first_seen FROM projects WHERE project = 'phc_big'"),
            T0 + CHUNK,
            "first_seen moves to the oldest event left"
        );
    }

    /// Events of the project committed after the cut are not the deletion's.
    #[test]
    fn events_after_the_cut_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let write = |from: usize| {
            runtime
                .block_on(store.write(accepted_request("posthog"), (from..from + 3).map(|i| event(i, "p")).collect()))
        };
        let through = write(0).unwrap().seqs.unwrap().1;
        write(10).unwrap();
        while store.on_writer(move |c, _| delete_events_chunk(c, "p", through)).unwrap().0 > 0 {}
        assert_eq!(count(&store, "SELECT count(*) FROM events"), 3);
        assert_eq!(count(&store, "SELECT min(seq) FROM events"), through + 1);
        assert_eq!(count(&store, "SELECT events FROM projects"), 3);
        assert_eq!(count(&store, "SELECT count(*) FROM requests"), 1);
    }
}
