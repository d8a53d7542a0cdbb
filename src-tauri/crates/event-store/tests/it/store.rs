//! Opening, concurrent writing, restarting and schema versions of the store.

use std::collections::HashSet;

use crate::common::*;
use event_store::{EventFilter, Store, StoreError, DB_FILE};

fn user_version(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn open_creates_the_database_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested").join("data");
    let store = Store::open(&data_dir).unwrap();
    assert_eq!(store.path(), data_dir.join(DB_FILE));
    assert!(store.path().is_file(), "database file was created");

    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in ["datasets", "events", "projects", "requests"] {
        assert!(tables.iter().any(|t| t == table), "table {table} exists: {tables:?}");
    }
    assert!(user_version(store.path()) >= 1, "migrations were recorded in user_version");

    let totals = store.totals().unwrap();
    assert_eq!((totals.events, totals.requests, totals.rejected), (0, 0, 0));
    let page = store.events(&EventFilter { limit: 10, ..Default::default() }).unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next_cursor, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn open_fails_when_the_data_dir_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    match Store::open(&file) {
        Err(StoreError::DataDir { path, .. }) => assert_eq!(path, file),
        Err(other) => panic!("expected DataDir error, got {other}"),
        Ok(_) => panic!("opening a file as data dir must fail"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writes_all_commit_with_their_own_ids() {
    const TASKS: usize = 64;
    const PER_TASK: usize = 5;
    let (_dir, store) = open();

    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let events = (0..PER_TASK)
                .map(|i| event(&format!("t{task}-e{i}"), "proj", &format!("e{i}"), &format!("user-{task}")))
                .collect();
            let committed = store.write(accepted(&format!("/task/{task}")), events).await.unwrap();
            (task, committed)
        }));
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }

    let request_ids: HashSet<i64> = results.iter().map(|(_, c)| c.request_id).collect();
    assert_eq!(request_ids.len(), TASKS, "every write got its own request id");

    let mut all_seqs = HashSet::new();
    for (task, committed) in &results {
        let (first, last) = committed.seqs.expect("events were written");
        assert_eq!(last - first, PER_TASK as i64 - 1, "task {task}: one contiguous range");

        // The ids handed back are this task's own rows, not a neighbour's in the same group.
        let detail = store.request(committed.request_id).unwrap().expect("request stored");
        assert_eq!(detail.summary.path, format!("/task/{task}"));
        assert_eq!(detail.summary.event_count, PER_TASK as i64);
        let expected_uuids: Vec<String> = (0..PER_TASK).map(|i| format!("t{task}-e{i}")).collect();
        assert_eq!(detail.event_uuids, expected_uuids, "task {task}: uuids in seq order");

        let page = store
            .events(&EventFilter { request_id: Some(committed.request_id), limit: 100, ..Default::default() })
            .unwrap();
        let seqs: Vec<i64> = page.items.iter().map(|e| e.seq).collect();
        let expected: Vec<i64> = (first..=last).rev().collect();
        assert_eq!(seqs, expected, "task {task}: events() lists the range newest first");
        let names: Vec<&str> = page.items.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(names, ["e4", "e3", "e2", "e1", "e0"], "task {task}: order of arrival kept");
        for e in &page.items {
            assert_eq!(e.distinct_id, format!("user-{task}"));
            assert_eq!(e.request_id, committed.request_id);
            assert!(all_seqs.insert(e.seq), "seq {} used twice", e.seq);
        }
    }

    let totals = store.totals().unwrap();
    assert_eq!(totals.events, (TASKS * PER_TASK) as i64);
    assert_eq!(totals.requests, TASKS as i64);
    assert_eq!(totals.rejected, 0);

    // Across all events: the listing is strictly decreasing in seq and complete.
    let page = store.events(&EventFilter { limit: 1000, ..Default::default() }).unwrap();
    assert_eq!(page.items.len(), TASKS * PER_TASK);
    assert!(page.items.windows(2).all(|w| w[0].seq > w[1].seq));
}

#[tokio::test(flavor = "multi_thread")]
async fn sequence_numbers_keep_growing_across_writes() {
    let (_dir, store) = open();
    let committed = write_many(&store, "x", 10).await;
    let firsts: Vec<i64> = committed.iter().map(|c| c.seqs.unwrap().0).collect();
    assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{firsts:?}");
    let ids: Vec<i64> = committed.iter().map(|c| c.request_id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // A request without events has no seq range.
    let none = write(&store, accepted("/flags/"), Vec::new()).await;
    assert_eq!(none.seqs, None);
    assert!(none.request_id > *ids.last().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn everything_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (ids_before, last_seq) = {
        let store = Store::open(dir.path()).unwrap();
        let committed = write_many(&store, "before", 3).await;
        write(&store, rejected("/e/", 400, "not JSON"), Vec::new()).await;
        store.close().await;
        // Once closed, the writer is gone and says so instead of hanging.
        let after = store.write(accepted("/e/"), vec![event("late", "proj", "x", "u")]).await;
        assert!(matches!(after, Err(StoreError::WriterGone)), "{after:?}");
        (committed.iter().map(|c| c.request_id).collect::<Vec<_>>(), committed[2].seqs.unwrap().1)
    };

    let store = Store::open(dir.path()).unwrap();
    let totals = store.totals().unwrap();
    assert_eq!((totals.events, totals.requests, totals.rejected), (3, 4, 1));
    let page = store.events(&EventFilter { limit: 100, ..Default::default() }).unwrap();
    let uuids: Vec<&str> = page.items.iter().map(|e| e.uuid.as_str()).collect();
    assert_eq!(uuids, ["before2", "before1", "before0"]);
    assert!(store.event("late").unwrap().is_none(), "a write after close was not stored");
    for id in &ids_before {
        assert!(store.request(*id).unwrap().is_some(), "request {id} survived");
    }
    let projects = store.projects().unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].events, 3);

    // New rows continue after the old ones: seq and ids are never reused.
    let next = write(&store, accepted("/e/"), vec![event("after", "proj", "x", "u")]).await;
    assert!(next.seqs.unwrap().0 > last_seq);
    assert!(next.request_id > *ids_before.iter().max().unwrap());
    assert_eq!(store.totals().unwrap().events, 4);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_schema_is_refused() {
    let (_dir, store) = open();
    let known = user_version(store.path());
    store.close().await;

    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", known + 1).unwrap();
    }
    match Store::open(dir.path()) {
        Err(StoreError::NewerSchema { found, known: k }) => {
            assert_eq!(found, known + 1);
            assert_eq!(k, known);
        }
        Err(other) => panic!("expected NewerSchema, got {other}"),
        Ok(_) => panic!("a database from a newer build must not be opened"),
    }
    // Nothing was migrated or rewritten.
    assert_eq!(user_version(&dir.path().join(DB_FILE)), known + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn reopening_a_current_database_does_not_migrate_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    write_many(&store, "a", 2).await;
    let version = user_version(store.path());
    store.close().await;
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(user_version(store.path()), version);
    assert_eq!(store.totals().unwrap().events, 2);
}

/// A capture burst commits back to back too (SDK connections posting as fast as they can leave
/// the writer no gap), and a 1M-event burst grew the WAL to 4.6 GB. Past its bound the writer
/// now has the checkpointer start it again, and the WAL file stays near the bound.
#[tokio::test(flavor = "multi_thread")]
async fn a_capture_burst_keeps_the_wal_bounded() {
    capture_burst_keeps_the_wal_bounded(false).await;
}

/// The same beside a reader that reads the newest events all the time, as the identity model
/// does during a burst: its snapshots kept PASSIVE checkpoints from copying the newest frames
/// back and the WAL from starting again, and the WAL grew to 3 GB in a 1M-event burst (about
/// 100 MB here) until the restart waited for such readers (`checkpointer`, RESTART).
#[tokio::test(flavor = "multi_thread")]
async fn a_capture_burst_keeps_the_wal_bounded_beside_a_reader_of_every_commit() {
    capture_burst_keeps_the_wal_bounded(true).await;
}

async fn capture_burst_keeps_the_wal_bounded(reader: bool) {
    let dir = tempfile::tempdir().unwrap();
    let bound_frames: u64 = 512;
    let store = open_with_wal_bound(dir.path(), bound_frames);
    let (connections, requests, per_request) = (8, 150, 50);
    let total = (connections * requests * per_request) as i64;
    // Reads each new step of events as it is committed, until it has read them all.
    let reading = reader.then(|| {
        let store = store.clone();
        std::thread::spawn(move || {
            let (mut after, mut steps) = (0, 0);
            while after < total {
                let scanned = store.scan_events_after(after, 1_000, |row| Some(row.seq)).unwrap();
                after = scanned.last_seq.unwrap_or(after);
                steps += 1;
            }
            steps
        })
    });
    let posting = (0..connections).map(|c| {
        let store = store.clone();
        tokio::spawn(async move {
            for r in 0..requests {
                let events = (0..per_request)
                    .map(|e| {
                        let mut ev = event(&format!("{c}-{r}-{e}"), "phc_burst", "$pageview", &format!("user-{e}"));
                        ev.properties = format!("{{\"$current_url\":\"https://example.com/{c}/{r}/{e}\"}}");
                        ev
                    })
                    .collect();
                write(&store, accepted("/batch/"), events).await;
            }
        })
    });
    for task in posting.collect::<Vec<_>>() {
        task.await.unwrap();
    }
    assert_eq!(store.last_seq().unwrap(), total);
    if let Some(reading) = reading {
        let steps = reading.join().unwrap();
        assert!(steps > 60, "the reader read along with the burst ({steps} reads), not once after it");
    }
    let wal = std::fs::metadata(dir.path().join(format!("{}-wal", event_store::DB_FILE))).unwrap().len();
    let db = std::fs::metadata(dir.path().join(event_store::DB_FILE)).unwrap().len();
    eprintln!("WAL {} KB, database {} KB", wal / 1024, db / 1024);
    // Without the restarts this WAL reaches about 100 MB, and with PASSIVE checkpoints only
    // (no wait for readers) 30–50 MB. With them, about twice the bound (the commits made while
    // a restart is under way), or a few more halves of it when a restart finds a reader busy
    // for longer than it waits.
    assert!(wal < 8 * bound_frames * 4096, "the WAL grew to {} KB (database {} KB)", wal / 1024, db / 1024);
}
