//! Durable storage for everything the inspector receives.
//!
//! [`Store`] opens the database and is the one handle for writing and reading. Writes take a
//! [`NewRequest`] and its [`NewEvent`]s (rows as the decoder made them); every read of events,
//! the API's pages and exports alike, hands out [`StoredEvent`] (with its `seq` and request id);
//! [`Selection`] says what an export reads. Requests a fault rule answered keep the events they
//! carried apart (`faulted_events`), read back as [`Delivery`]s and [`UndeliveredEvent`]s.
//!
//! Invariants:
//! - One writer thread owns the only writing connection. Concurrent requests queue up and are
//!   committed together in one transaction; each caller learns its own row ids only after COMMIT,
//!   so a capture answered 200 is on disk (WAL, `synchronous=NORMAL`: survives a process crash).
//! - `events.seq` is the arrival order: assigned by the writer, strictly increasing, never reused
//!   (until `clear_all` empties the store; see `prune`).
//! - Readers use a separate pool of connections and never block the writer (WAL).
//! - Rows leave the store by retention (`prune`), "clear all data" (`clear_all`) or one project's
//!   deletion (`delete`); each tells the keepers of derived state so (see those modules).

mod checkpointer;
mod datasets;
mod delete;
mod deliveries;
mod error;
mod export;
mod model;
mod prune;
mod query;
mod read_only;
mod schema;
mod settings;
#[cfg(feature = "test-support")]
pub mod test_support;
mod writer;

pub use datasets::{
    dataset_name_from, dataset_project, split_project, valid_dataset_label, DatasetInfo, DatasetSummary, ImportError,
    ImportRow, ImportSummary, RowError, IMPORT_PREFIX,
};
pub use delete::{DeletedProject, ProjectCut};
pub use deliveries::{summary as delivery_summary, Attempt, Delivery, DeliveryFilter, DeliveryState, UndeliveredEvent};
pub use error::StoreError;
pub use export::{ExportedRequest, Selection, SelectionCounts};
pub use model::*;
pub use prune::{Removed, Retention};
pub use query::{ArrivedEvent, ArrivedRow, EventFilter, Page, RequestFilter, Scanned, MAX_PAGE};
pub use read_only::ReadOnly;
pub use settings::StoredSettings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use r2d2_sqlite::SqliteConnectionManager;
use tokio::sync::broadcast;

pub const DB_FILE: &str = "inspector.db";

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: writer::Handle,
    readers: r2d2::Pool<SqliteConnectionManager>,
    changes: broadcast::Sender<Change>,
    /// Bumped after every prune or clear that removed rows (see `prune`).
    removals: std::sync::atomic::AtomicU64,
    /// Bumped after every committed write of project settings (see `settings`).
    settings_writes: std::sync::atomic::AtomicU64,
    /// Project deletions started (see `delete`).
    cuts: delete::Cuts,
    /// Set when the data directory could not be written at open: reads only (see `read_only`).
    read_only: Option<ReadOnly>,
    /// Keeps the in-memory database of an empty read-only store alive.
    _empty: Option<std::sync::Mutex<rusqlite::Connection>>,
    checkpointer: Option<checkpointer::Checkpointer>,
}

/// How a store connection waits for a lock another holds (the writer behind a RESTART
/// checkpoint, `checkpointer`): in steps of 200 µs for the first 20 ms, then of 2 ms, for
/// 5 s in all. SQLite's own `busy_timeout` sleeps 1, 2, 5, 10 … 100 ms, so a writer behind a
/// 40 ms checkpoint would wake 13 ms after it ended, with capture queued behind it.
fn wait_for_lock(tries: i32) -> bool {
    const FINE: i32 = 100;
    const COARSE: i32 = 2_490;
    match tries {
        t if t < FINE => std::thread::sleep(std::time::Duration::from_micros(200)),
        t if t < FINE + COARSE => std::thread::sleep(std::time::Duration::from_millis(2)),
        _ => return false,
    }
    true
}

fn configure(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(wait_for_lock))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -8_000)?;
    Ok(())
}

/// Settings of the one writing connection. Public so that benchmarks compare against raw SQLite
/// configured exactly the same way.
pub fn configure_writer(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    configure(conn)?;
    // Index pages of a busy capture session stay in memory: 64 MB, allocated only as used.
    conn.pragma_update(None, "cache_size", -64_000)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Checkpoints copy the WAL into the database file. Done inline they stall every commit that
    // crosses the threshold; the checkpointer thread does them instead (see `checkpointer`).
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // Tests only: caps the database's size so that a full disk can be reproduced anywhere.
    if let Some(pages) = std::env::var(MAX_PAGES_VAR).ok().and_then(|v| v.parse::<u32>().ok()) {
        conn.pragma_update(None, "max_page_count", pages)?;
    }
    Ok(())
}

/// Environment variable that caps the database at this many pages (4 KB each), to test what a
/// full disk does (SQLITE_FULL on every write) without filling one.
pub const MAX_PAGES_VAR: &str = "INSPECTOR_TEST_MAX_DB_PAGES";

/// Environment variable that sets how many frames the WAL may hold before a bulk writer waits
/// for the checkpoint to catch up (`checkpointer`), so tests reach the bound with small imports.
pub const WAL_RESTART_FRAMES_VAR: &str = "INSPECTOR_TEST_WAL_RESTART_FRAMES";

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and starts the writer. A directory
    /// the system will not let us write gives a read-only store instead (see
    /// [`Store::read_only`]); only other failures are errors.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DB_FILE);
        match read_only::diagnose(data_dir, &path)? {
            None => Self::open_writable(path),
            Some(why) => {
                tracing::warn!("{why}");
                Self::open_read_only(data_dir, why)
            }
        }
    }

    fn open_writable(path: PathBuf) -> Result<Store, StoreError> {
        let mut conn = rusqlite::Connection::open(&path)?;
        configure_writer(&conn)?;
        schema::migrate(&mut conn)?;

        let manager = SqliteConnectionManager::file(&path)
            .with_flags(rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| configure(c));
        let readers = r2d2::Pool::builder().max_size(8).build(manager)?;

        let (changes, _) = broadcast::channel(1024);
        let wal_frames = writer::WalFrames::default();
        let checkpointer = checkpointer::Checkpointer::spawn(path.clone(), wal_frames.clone())
            .map_err(|e| StoreError::DataDir { path: path.clone(), source: e })?;
        let writer = writer::spawn(conn, changes.clone(), wal_frames, checkpointer.gate())?;
        let store = Store::assemble(path, writer, readers, changes, None, None, Some(checkpointer));
        // Imports a killed process left incomplete are invisible to every read; their rows go in
        // the background, in chunks, so start-up and capture do not wait for them.
        if !datasets::pending_datasets(&*store.reader()?)?.is_empty() {
            let cleaner = store.clone();
            let spawned = std::thread::Builder::new().name("orphan-imports".into()).spawn(move || {
                if let Err(e) = cleaner.remove_orphan_imports() {
                    tracing::warn!("could not remove an unfinished import's rows: {e}");
                }
            });
            if let Err(e) = spawned {
                tracing::warn!("cannot start removing unfinished imports: {e}");
            }
        }
        Ok(store)
    }

    /// Opens what `data_dir` holds without writing anything there; every write is refused with
    /// `why`. Public so tests can take this path whatever the permissions (root writes anywhere).
    pub fn open_read_only(data_dir: &Path, mut why: ReadOnly) -> Result<Store, StoreError> {
        let path = data_dir.join(DB_FILE);
        let db = read_only::open(&path)?;
        why.caveat = db.caveat;
        let manager =
            SqliteConnectionManager::file(&db.uri).with_flags(read_only::reader_flags()).with_init(|c| configure(c));
        let readers = r2d2::Pool::builder().max_size(8).build(manager)?;
        let (changes, _) = broadcast::channel(1024);
        let writer = writer::Handle::Refusing(why.clone());
        let empty = db.keeper.map(std::sync::Mutex::new);
        Ok(Store::assemble(path, writer, readers, changes, Some(why), empty, None))
    }

    fn assemble(
        path: PathBuf,
        writer: writer::Handle,
        readers: r2d2::Pool<SqliteConnectionManager>,
        changes: broadcast::Sender<Change>,
        read_only: Option<ReadOnly>,
        _empty: Option<std::sync::Mutex<rusqlite::Connection>>,
        checkpointer: Option<checkpointer::Checkpointer>,
    ) -> Store {
        let removals = std::sync::atomic::AtomicU64::new(0);
        let settings_writes = std::sync::atomic::AtomicU64::new(0);
        Store {
            inner: Arc::new(Inner {
                path,
                writer,
                readers,
                changes,
                removals,
                settings_writes,
                cuts: delete::Cuts::default(),
                read_only,
                _empty,
                checkpointer,
            }),
        }
    }

    /// For bulk writers (imports, removals in chunks), between their commits: lets a WAL grown
    /// past its bound be copied back whole so that it starts again from its beginning (see
    /// `checkpointer`). Returns at once while the WAL is small.
    pub(crate) fn let_wal_restart(&self) {
        if let Some(checkpointer) = &self.inner.checkpointer {
            checkpointer.let_wal_restart();
        }
    }

    /// Why this store cannot be written, when it was opened read-only.
    pub fn read_only(&self) -> Option<&ReadOnly> {
        self.inner.read_only.as_ref()
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Stores one request and its events in the next group commit; returns once committed.
    pub async fn write(&self, request: NewRequest, events: Vec<NewEvent>) -> Result<Committed, StoreError> {
        self.inner.writer.write(request, events, Vec::new()).await
    }

    /// [`Store::write`] of a faulted request, saying which of its events' uuids the SDK sent
    /// (`sdk_uuids[i]`): a uuid the decoder made up (the SDK sent none) cannot be matched with a
    /// resent copy, so its delivery is `unmatched`, never `lost` (see `deliveries.rs`).
    pub async fn write_faulted(
        &self,
        request: NewRequest,
        events: Vec<NewEvent>,
        sdk_uuids: Vec<bool>,
    ) -> Result<Committed, StoreError> {
        self.inner.writer.write(request, events, sdk_uuids).await
    }

    /// A live feed of what was committed. Slow subscribers see `RecvError::Lagged` rather than
    /// holding memory: the channel keeps the newest 1024 changes.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.changes.subscribe()
    }

    /// Waits for everything queued to be committed, then stops the writer.
    pub async fn close(&self) {
        self.inner.writer.close().await;
    }

    pub(crate) fn reader(&self) -> Result<r2d2::PooledConnection<SqliteConnectionManager>, StoreError> {
        Ok(self.inner.readers.get()?)
    }
}
