//! A data directory that cannot be written: the store opens read-only, serves what is stored,
//! refuses writes with `StoreError::ReadOnly`, and writes nothing (not even `-wal`/`-shm`).
//!
//! The real case is exercised with real permissions. Tests often run as root, whom permission
//! bits do not stop, so then this test binary re-runs its scenarios in a child process as the
//! unprivileged user `nobody` (uid 65534), on folders owned by root (0755, files 0644): the kernel
//! refuses the writes exactly as on a read-only folder. As another user, `chmod` does the same.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::common::*;
use event_store::{ReadOnly, Store, StoreError, DB_FILE};

const CHILD_ENV: &str = "EVENT_STORE_READ_ONLY_SCENARIOS";
const NOBODY: u32 = 65534;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A store in `dir` holding `n` events, closed cleanly (database file only, WAL truncated).
fn stored(dir: &Path, n: usize) {
    let store = Store::open(dir).unwrap();
    runtime().block_on(async {
        for i in 0..n {
            store
                .write(accepted("/batch/"), vec![event(&format!("e{i}"), "phc_ro", "$pageview", "anon")])
                .await
                .unwrap();
        }
        store.close().await;
    });
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn assert_refuses_writes(store: &Store) {
    let refused = runtime().block_on(store.write(accepted("/batch/"), vec![event("new", "phc_ro", "x", "d")]));
    assert!(matches!(refused, Err(StoreError::ReadOnly(_))), "{refused:?}");
    assert!(matches!(store.clear_all(), Err(StoreError::ReadOnly(_))));
}

#[test]
fn a_forced_read_only_open_reads_everything_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    stored(dir.path(), 3);
    let before = listing(dir.path());
    let why = ReadOnly { path: dir.path().to_owned(), reason: "test".into(), caveat: None };
    let store = Store::open_read_only(dir.path(), why.clone()).unwrap();
    assert_eq!(store.read_only(), Some(&why));
    assert_eq!(store.totals().unwrap().events, 3);
    assert_refuses_writes(&store);
    let message = runtime().block_on(store.write(accepted("/batch/"), vec![])).unwrap_err().to_string();
    assert!(message.contains("read-only") && message.contains(&dir.path().display().to_string()), "{message}");
    drop(store);
    assert_eq!(listing(dir.path()), before, "no -wal or -shm left behind");
}

#[test]
fn a_missing_database_reads_as_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let why = ReadOnly { path: dir.path().to_owned(), reason: "test".into(), caveat: None };
    let store = Store::open_read_only(&dir.path().join("absent"), why).unwrap();
    let totals = store.totals().unwrap();
    assert_eq!((totals.events, totals.requests), (0, 0));
    assert!(store.datasets().unwrap().is_empty());
    assert_refuses_writes(&store);
    assert!(!dir.path().join("absent").exists(), "nothing created");
}

fn running_as_root() -> bool {
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Folders the scenarios open; each is made unwritable for the user running them.
struct Layout {
    /// Folder not writable; the database only.
    clean: PathBuf,
    /// Folder not writable; database, `-wal` and `-shm` (a crash left them).
    with_wal: PathBuf,
    /// Folder not writable; database and `-wal` but no `-shm`.
    wal_no_shm: PathBuf,
    /// Folder writable, database file read-only.
    file_only: PathBuf,
    /// Not there, inside a folder that is not writable.
    missing: PathBuf,
}

fn layout(root: &Path) -> Layout {
    Layout {
        clean: root.join("clean"),
        with_wal: root.join("with-wal"),
        wal_no_shm: root.join("wal-no-shm"),
        file_only: root.join("file-only"),
        missing: root.join("clean").join("missing"),
    }
}

/// Builds the folders, then makes them unwritable: for `owner_only` (root), by the owner-only
/// write bits that stop anyone else; otherwise by removing every write bit.
fn prepare(root: &Path, owner_only: bool) -> Layout {
    let l = layout(root);
    stored(&l.clean, 4);
    stored(&l.file_only, 4);
    // A store left open, its newest rows only in the WAL: copy the files as a crash leaves them.
    // The first 5 events reach the database file (the checkpointer runs every 250 ms), the last
    // 2 are only in the WAL.
    let live = root.join("live");
    let store = Store::open(&live).unwrap();
    runtime().block_on(async {
        for i in 0..7 {
            if i == 5 {
                tokio::time::sleep(std::time::Duration::from_millis(800)).await;
            }
            store.write(accepted("/batch/"), vec![event(&format!("w{i}"), "phc_ro", "x", "d")]).await.unwrap();
        }
    });
    for (target, files) in [(&l.with_wal, &["", "-wal", "-shm"][..]), (&l.wal_no_shm, &["", "-wal"][..])] {
        std::fs::create_dir_all(target).unwrap();
        for suffix in files {
            std::fs::copy(live.join(format!("{DB_FILE}{suffix}")), target.join(format!("{DB_FILE}{suffix}"))).unwrap();
        }
    }
    drop(store);
    let (dir_mode, file_mode) = if owner_only { (0o755, 0o644) } else { (0o555, 0o444) };
    for dir in [&l.clean, &l.with_wal, &l.wal_no_shm] {
        for name in listing(dir) {
            chmod(&dir.join(name), file_mode);
        }
        chmod(dir, dir_mode);
    }
    chmod(&l.file_only.join(DB_FILE), file_mode);
    chmod(&l.file_only, 0o777);
    chmod(root, 0o755);
    l
}

fn expect_read_only(dir: &Path, refused: &Path, events: i64) -> Store {
    let before = if dir.exists() { listing(dir) } else { vec![] };
    let store = Store::open(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let why = store.read_only().unwrap_or_else(|| panic!("{} opened writable", dir.display()));
    assert_eq!(why.path, refused, "{why}");
    assert!(why.reason.contains("os error"), "the OS error is named: {why}");
    assert_eq!(store.totals().unwrap().events, events, "{}", dir.display());
    assert_refuses_writes(&store);
    if dir.exists() {
        assert_eq!(listing(dir), before, "nothing written in {}", dir.display());
    }
    store
}

/// The checks, run by a user who cannot write the folders.
fn run_scenarios(root: &Path) {
    let l = layout(root);
    expect_read_only(&l.clean, &l.clean, 4);
    expect_read_only(&l.with_wal, &l.with_wal, 7);
    let store = expect_read_only(&l.file_only, &l.file_only.join(DB_FILE), 4);
    drop(store);
    let empty = expect_read_only(&l.missing, &l.missing, 0);
    assert!(!l.missing.exists());
    drop(empty);
    // Without `-shm` SQLite cannot read the WAL without writing: the database file alone is
    // read, and the notice says rows may be missing.
    let before = listing(&l.wal_no_shm);
    let store = Store::open(&l.wal_no_shm).unwrap();
    let why = store.read_only().expect("read-only").clone();
    assert!(why.caveat.as_deref().is_some_and(|c| c.contains("newest rows may be missing")), "{why}");
    let events = store.totals().unwrap().events;
    assert!((5..=7).contains(&events), "the checkpointed rows at least: {events}");
    assert_refuses_writes(&store);
    assert_eq!(listing(&l.wal_no_shm), before);
}

#[test]
fn an_unwritable_data_dir_opens_read_only_with_real_permissions() {
    let root = tempfile::tempdir().unwrap();
    if !running_as_root() {
        prepare(root.path(), false);
        run_scenarios(root.path());
        // Let the temp dir be removed.
        for dir in ["clean", "with-wal", "wal-no-shm"] {
            chmod(&root.path().join(dir), 0o755);
        }
        return;
    }
    prepare(root.path(), true);
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(&exe)
        .args(["read_only::run_scenarios_as_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, root.path())
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("run the test binary as nobody");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scenarios as uid {NOBODY} failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran the scenarios:\n{text}");
}

/// Run by the test above as `nobody`; does nothing on its own (ignored).
#[test]
#[ignore = "run as an unprivileged child by an_unwritable_data_dir_opens_read_only_with_real_permissions"]
fn run_scenarios_as_child() {
    let root = std::env::var_os(CHILD_ENV).expect("started by the parent test");
    run_scenarios(Path::new(&root));
}
