//! Imports commit in chunks and become visible only when complete: an incomplete data set is
//! left out of every read, a failed one is removed, a killed one is removed at the next start,
//! and live captures commit between the chunks of a big import.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::*;
use event_store::{
    Change, DatasetInfo, EventFilter, ImportError, ImportRow, RequestFilter, RowError, Selection, Store,
};

fn info(name: &str) -> DatasetInfo {
    DatasetInfo { name: name.into(), format: "ndjson".into(), source: Some("test.ndjson".into()), meta: None }
}

/// Row `i` of an import: one request with one event of project `phc_imp`.
fn row(i: usize) -> ImportRow {
    (accepted("/batch/"), vec![event(&format!("imp-{i}"), "phc_imp", "imported", &format!("user-{}", i % 50))])
}

/// Counts rows straight from the file, whatever the store's reads leave out.
fn raw_counts(store: &Store) -> (i64, i64, i64, i64) {
    let conn = rusqlite::Connection::open(store.path()).expect("open the database file");
    conn.query_row(
        "SELECT (SELECT count(*) FROM events WHERE project LIKE 'import:%'),
                (SELECT count(*) FROM requests WHERE dataset IS NOT NULL),
                (SELECT count(*) FROM projects WHERE project LIKE 'import:%'),
                (SELECT count(*) FROM datasets)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .expect("count rows")
}

fn all_events(store: &Store) -> Vec<String> {
    let page = store.events(&EventFilter { limit: 1000, ..Default::default() }).expect("events");
    page.items.iter().map(|e| e.project.clone()).collect()
}

/// Rows `0..first` at once, then waits for `go` before yielding `then` (an error, a panic or
/// more rows): an import held open half-way.
struct Held {
    i: usize,
    first: usize,
    go: Option<mpsc::Receiver<Then>>,
    reached: mpsc::Sender<()>,
    then: Option<Then>,
}

enum Then {
    Fail,
    Panic,
    More(usize),
}

impl Iterator for Held {
    type Item = Result<ImportRow, RowError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.i == self.first {
            if let Some(go) = self.go.take() {
                let _ = self.reached.send(());
                self.then = go.recv().ok();
            }
            match &self.then {
                Some(Then::Fail) => return Some(Err("line 7: not JSON".into())),
                Some(Then::Panic) => panic!("the process is killed mid-import"),
                Some(Then::More(n)) if self.i < self.first + n => {}
                _ => return None,
            }
        } else if self.i > self.first {
            match &self.then {
                Some(Then::More(n)) if self.i < self.first + n => {}
                _ => return None,
            }
        }
        self.i += 1;
        Some(Ok(row(self.i - 1)))
    }
}

fn held(first: usize) -> (Held, Hold) {
    let (go, go_rx) = mpsc::channel();
    let (reached_tx, reached) = mpsc::channel();
    (Held { i: 0, first, go: Some(go_rx), reached: reached_tx, then: None }, Hold { go, reached })
}

/// The test's end of a [`Held`] file.
struct Hold {
    go: mpsc::Sender<Then>,
    reached: mpsc::Receiver<()>,
}

impl Hold {
    /// Waits until the import is blocked reading row `first`. The importing thread commits its
    /// chunks itself, so from here until [`Hold::send`] nothing more of the import is committed:
    /// what a test reads meanwhile cannot race with a chunk.
    fn wait(&self) {
        self.reached.recv_timeout(Duration::from_secs(60)).expect("the import reached its hold within 60 s");
    }

    fn send(&self, then: Then) -> Result<(), mpsc::SendError<Then>> {
        self.go.send(then)
    }
}

/// Waits until `rows` imported events are committed.
fn wait_for_rows(store: &Store, rows: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while raw_counts(store).0 < rows {
        assert!(Instant::now() < deadline, "the first chunks were not committed within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incomplete_import_is_left_out_of_every_read_until_its_last_chunk() {
    let (_dir, store) = open();
    let mut changes = store.subscribe();
    let (rows, go) = held(5_000);
    let importer = store.clone();
    let import = std::thread::spawn(move || importer.import(info("import:held"), rows));
    go.wait();
    // Live capture commits while the import is half-way.
    write(&store, accepted("/batch/"), vec![event("live-1", "phc_live", "x", "u")]).await;

    assert_eq!(all_events(&store), vec!["phc_live".to_owned()], "events list");
    let requests = store.requests(&RequestFilter { limit: 1000, ..Default::default() }).unwrap();
    assert_eq!(requests.items.len(), 1, "requests list: the live one only");
    let projects: Vec<String> = store.projects().unwrap().into_iter().map(|p| p.project).collect();
    assert_eq!(projects, vec!["phc_live".to_owned()], "projects");
    let totals = store.totals().unwrap();
    assert_eq!((totals.events, totals.requests), (1, 1), "totals");
    assert!(store.datasets().unwrap().is_empty(), "data sets");
    assert!(store.event("imp-3").unwrap().is_none(), "an event by uuid");
    let first_imported = raw_first_request(&store);
    assert!(store.request(first_imported).unwrap().is_none(), "a request by id");
    let selection = Selection { dataset: Some("import:held".into()), ..Default::default() };
    let counts = store.count_selection(&selection).unwrap();
    assert_eq!((counts.requests, counts.events), (0, 0), "export");
    // The identity model's scan moves past the import's rows and says what it left out.
    let scanned = store.scan_events_after(0, 100_000, |row| Some(row.project.to_owned())).unwrap();
    assert_eq!(scanned.items, vec!["phc_live".to_owned()]);
    assert_eq!(scanned.pending, vec!["import:held".to_owned()]);
    assert_eq!(scanned.last_seq, Some(store.last_seq().unwrap()));
    assert_eq!(store.incomplete_datasets().unwrap(), vec!["import:held".to_owned()]);
    // The name is taken meanwhile.
    let again = store.clone();
    let taken = tokio::task::spawn_blocking(move || {
        again.import(info("import:held"), std::iter::empty::<Result<ImportRow, RowError>>())
    })
    .await
    .unwrap();
    assert!(matches!(taken, Err(ImportError::Exists(_))), "{taken:?}");

    go.send(Then::More(3_000)).unwrap();
    let summary = tokio::task::spawn_blocking(move || import.join().unwrap()).await.unwrap().expect("import");
    assert_eq!((summary.requests, summary.events), (8_000, 8_000));
    let sets = store.datasets().unwrap();
    assert_eq!(sets.len(), 1);
    assert_eq!((sets[0].requests, sets[0].events), (8_000, 8_000));
    assert_eq!(sets[0].projects, vec!["import:held/phc_imp".to_owned()]);
    assert_eq!(store.totals().unwrap().events, 8_001);
    assert!(store.event("imp-3").unwrap().is_some());
    assert_eq!(store.count_selection(&selection).unwrap().events, 8_000);
    let scanned = store.scan_events_after(0, 100_000, |_| Some(())).unwrap();
    assert_eq!((scanned.rows, scanned.pending.len()), (8_001, 0));

    // Chunks announce nothing; the completed data set is announced once.
    let mut announced = Vec::new();
    while let Ok(change) = changes.try_recv() {
        announced.push(change);
    }
    assert_eq!(announced.len(), 2, "the live capture and the import: {announced:?}");
    assert!(matches!(&announced[0], Change::Events { project, .. } if project == "phc_live"));
    assert!(matches!(&announced[1], Change::Imported { dataset, events: 8_000, .. } if dataset == "import:held"));
}

fn raw_first_request(store: &Store) -> i64 {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.query_row("SELECT min(id) FROM requests WHERE dataset IS NOT NULL", [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_import_removes_what_its_chunks_stored() {
    let (_dir, store) = open();
    let (rows, go) = held(4_500);
    let importer = store.clone();
    let import = std::thread::spawn(move || importer.import(info("import:bad"), rows));
    go.wait();
    go.send(Then::Fail).unwrap();
    let result = tokio::task::spawn_blocking(move || import.join().unwrap()).await.unwrap();
    assert!(matches!(&result, Err(ImportError::Source(e)) if e.to_string().contains("line 7")), "{result:?}");
    assert_eq!(raw_counts(&store), (0, 0, 0, 0), "no imported row is left");
    // The name is free again.
    let again = store.clone();
    let summary = tokio::task::spawn_blocking(move || again.import(info("import:bad"), (0..3).map(|i| Ok(row(i)))))
        .await
        .unwrap()
        .expect("import");
    assert_eq!(summary.events, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_mid_way_leaves_no_rows_after_reopening() {
    let (dir, store) = open();
    write(&store, accepted("/batch/"), vec![event("live-1", "phc_live", "x", "u")]).await;
    let (rows, go) = held(4_500);
    let importer = store.clone();
    let import = std::thread::spawn(move || importer.import(info("import:killed"), rows));
    go.wait();
    // A panic on the importing thread stops it where a kill would: nothing cleans up after it.
    go.send(Then::Panic).unwrap();
    assert!(import.join().is_err());
    assert!(raw_counts(&store).0 >= 2_000, "the committed chunks are still on disk");
    store.close().await;
    drop(store);

    let store = Store::open(dir.path()).expect("reopen");
    // Left out of reads at once, removed in the background.
    assert_eq!(all_events(&store), vec!["phc_live".to_owned()]);
    assert!(store.datasets().unwrap().is_empty());
    let deadline = Instant::now() + Duration::from_secs(60);
    while raw_counts(&store) != (0, 0, 0, 0) {
        assert!(Instant::now() < deadline, "orphan rows still there after 60 s: {:?}", raw_counts(&store));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(store.incomplete_datasets().unwrap().is_empty());
    assert_eq!(store.totals().unwrap().events, 1, "live traffic is untouched");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capture_sent_during_a_big_import_commits_before_the_import_ends() {
    let (_dir, store) = open();
    const ROWS: usize = 60_000;
    let importer = store.clone();
    let import = std::thread::spawn(move || importer.import(info("import:big"), (0..ROWS).map(|i| Ok(row(i)))));
    wait_for_rows(&store, 2_000);
    let mut slowest = Duration::ZERO;
    let (mut during, mut written) = (0, 0);
    while !import.is_finished() {
        let started = Instant::now();
        write(&store, accepted("/batch/"), vec![event(&format!("live-{written}"), "phc_live", "x", "u")]).await;
        written += 1;
        let took = started.elapsed();
        if import.is_finished() {
            break;
        }
        slowest = slowest.max(took);
        during += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let summary = tokio::task::spawn_blocking(move || import.join().unwrap()).await.unwrap().expect("import");
    assert_eq!(summary.events, ROWS as i64);
    assert!(during >= 3, "only {during} captures committed while the import ran");
    // A chunk holds the writer for about 1 ms (plus one row and the commit); a whole-file transaction
    // held it for seconds. 1 s leaves room for a loaded machine.
    assert!(slowest < Duration::from_secs(1), "a capture waited {slowest:?} for the import");
    assert_eq!(store.totals().unwrap().events, ROWS as i64 + written as i64);
}

#[tokio::test(flavor = "multi_thread")]
async fn clearing_all_data_cancels_a_running_import() {
    let (_dir, store) = open();
    let (rows, go) = held(6_000);
    let importer = store.clone();
    let import = std::thread::spawn(move || importer.import(info("import:cleared"), rows));
    go.wait();
    let clearer = store.clone();
    tokio::task::spawn_blocking(move || clearer.clear_all()).await.unwrap().expect("clear");
    // The import may already have stopped: its next chunk found its data set gone.
    let _ = go.send(Then::More(3_000));
    let result = tokio::task::spawn_blocking(move || import.join().unwrap()).await.unwrap();
    assert!(matches!(&result, Err(ImportError::Cancelled(name)) if name == "import:cleared"), "{result:?}");
    assert_eq!(raw_counts(&store), (0, 0, 0, 0), "nothing was stored after the clear");
}

/// Each imported request is stored as part of its data set, and the project key it named is the
/// data set's project (as its events' is), so it never shows among the live project's requests.
#[tokio::test(flavor = "multi_thread")]
async fn imported_requests_belong_to_the_data_set_and_its_project() {
    let (_dir, store) = open();
    let named = |i: usize| {
        let (mut request, events) = row(i);
        request.project = Some("phc_imp".into());
        Ok((request, events))
    };
    let flags = || {
        let mut request = accepted("/flags/");
        request.project = Some("phc_imp".into());
        Ok((request, vec![]))
    };
    let rows: Vec<Result<ImportRow, RowError>> = vec![named(0), flags(), named(1)];
    let importer = store.clone();
    tokio::task::spawn_blocking(move || importer.import(info("import:keys"), rows.into_iter()))
        .await
        .unwrap()
        .expect("import");
    let conn = rusqlite::Connection::open(store.path()).expect("open the database file");
    let mut stmt = conn.prepare("SELECT dataset, project FROM requests ORDER BY id").unwrap();
    let stored: Vec<(Option<String>, Option<String>)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
    let expected = (Some("import:keys".to_owned()), Some("import:keys/phc_imp".to_owned()));
    assert_eq!(stored, vec![expected.clone(), expected.clone(), expected]);
    let live = RequestFilter { project: Some("phc_imp".into()), limit: 100, ..Default::default() };
    assert!(store.requests(&live).unwrap().items.is_empty(), "none among the live project's requests");
}

/// A big import commits back to back, which leaves the checkpoint no gap to catch up in, so the
/// WAL never started again from its beginning and grew by the size of everything imported (6 GB
/// for a 1M-entry HAR). Past its bound the import now waits for the checkpoint, and the WAL
/// file stays near the bound.
#[test]
fn a_big_import_keeps_the_wal_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let bound_frames = 256;
    let store = open_with_wal_bound(dir.path(), bound_frames);
    let rows = 40_000;
    let summary = store.import(info("import:big"), (0..rows).map(|i| Ok(row(i)))).expect("import");
    assert_eq!(summary.events, rows as i64);
    let wal = std::fs::metadata(dir.path().join(format!("{}-wal", event_store::DB_FILE))).unwrap().len();
    let db = std::fs::metadata(dir.path().join(event_store::DB_FILE)).unwrap().len();
    eprintln!("WAL {} KB, database {} KB", wal / 1024, db / 1024);
    // The bound plus what one chunk and the captures beside it add (chunks of at most 500 rows).
    assert!(wal < 4 * bound_frames * 4096 * 4, "the WAL grew to {} KB (database {} KB)", wal / 1024, db / 1024);
}
