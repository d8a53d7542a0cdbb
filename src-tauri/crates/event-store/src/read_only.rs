//! A data directory the inspector may not write to (a read-only mount, a copied-in folder owned by
//! someone else, a database file marked read-only) is still worth opening: the user wants to look
//! at what is stored. The store then serves reads and refuses every write with
//! [`StoreError::ReadOnly`], naming the path and the operating system's error.
//!
//! Invariants:
//! - Whether the directory is writable is decided up front, by really trying (create the folder,
//!   create and remove a probe file, open the database and its WAL files for writing), never by
//!   reading permission bits: ACLs, read-only mounts and root all make the bits lie.
//! - Nothing is written in read-only mode, not even SQLite's `-wal`/`-shm` files: connections
//!   are opened with `mode=ro`, and with `immutable=1` only when SQLite cannot read the WAL
//!   without creating files (then the view is the last checkpoint, and the notice says so).
//! - A missing or empty read-only directory gives an empty store (an in-memory database with
//!   the current schema), so the UI and API work the same, only with nothing in them.

use std::fmt;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;

/// Why the store is read-only: shown in `/api/health` and in every refused write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOnly {
    /// The file or folder that could not be written.
    pub path: PathBuf,
    /// The operating system's error, e.g. "Permission denied (os error 13)".
    pub reason: String,
    /// Set when the WAL could not be read without writing: newer rows may be missing.
    pub caveat: Option<String>,
}

impl fmt::Display for ReadOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the data directory is read-only ({}: {}): stored data can be read, nothing new can be stored",
            self.path.display(),
            self.reason
        )?;
        if let Some(caveat) = &self.caveat {
            write!(f, "; {caveat}")?;
        }
        Ok(())
    }
}

/// `Ok(None)` when `dir` can be used for writing; `Ok(Some(_))` naming the first thing the
/// system refused to let us write (permission, read-only file system); other failures (a path
/// through a file, an I/O error) are errors. Creates `dir` if it is missing, as a writable open
/// would.
pub(crate) fn diagnose(dir: &Path, db: &Path) -> Result<Option<ReadOnly>, StoreError> {
    let judge = |path: &Path, e: std::io::Error| {
        if is_refusal(&e) {
            Ok(Some(ReadOnly { path: path.to_owned(), reason: e.to_string(), caveat: None }))
        } else {
            Err(StoreError::DataDir { path: path.to_owned(), source: e })
        }
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return judge(dir, e);
    }
    let probe = dir.join(format!(".inspector-write-probe-{}", std::process::id()));
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return judge(dir, e),
    }
    for file in [db.to_owned(), with_suffix(db, "-wal"), with_suffix(db, "-shm")] {
        if file.exists() {
            if let Err(e) = OpenOptions::new().write(true).open(&file) {
                return judge(&file, e);
            }
        }
    }
    Ok(None)
}

/// The system will not let us write here (as opposed to something being broken).
fn is_refusal(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem)
}

/// Reader connections for a read-only store, and the connection keeping an empty in-memory
/// database alive when there is no database file.
pub(crate) struct ReadOnlyDb {
    pub uri: String,
    pub keeper: Option<Connection>,
    pub caveat: Option<String>,
}

/// Flags every read-only connection uses (the readers' pool included).
pub(crate) fn reader_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
}

pub(crate) fn open(db: &Path) -> Result<ReadOnlyDb, StoreError> {
    if !db.exists() {
        return empty();
    }
    let plain = format!("file:{}?mode=ro", uri_path(db));
    let first_error = match check(&plain) {
        Ok(()) => return Ok(ReadOnlyDb { uri: plain, keeper: None, caveat: None }),
        Err(e) => e,
    };
    // SQLite reads a WAL database only if it can use (or create) the -shm file; without that,
    // `immutable=1` reads the database file alone.
    let immutable = format!("file:{}?mode=ro&immutable=1", uri_path(db));
    let wal_has_data = with_suffix(db, "-wal").metadata().is_ok_and(|m| m.len() > 0);
    let caveat = wal_has_data
        .then(|| "its write-ahead log cannot be read without writing, so the newest rows may be missing".to_owned());
    match check(&immutable) {
        Ok(()) => Ok(ReadOnlyDb { uri: immutable, keeper: None, caveat }),
        // Nothing was ever checkpointed into the file (all of it is in the WAL).
        Err(StoreError::OlderSchemaReadOnly { found: 0, .. }) if wal_has_data => Ok(ReadOnlyDb { caveat, ..empty()? }),
        Err(e) => {
            tracing::debug!("read-only open failed ({first_error}), immutable too: {e}");
            Err(first_error)
        }
    }
}

/// Opens once and reads the schema version: fails fast (a pool would retry for 30 s).
fn check(uri: &str) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(uri, reader_flags())?;
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = crate::schema::known_version();
    if found > known {
        return Err(StoreError::NewerSchema { found, known });
    }
    if found < known {
        return Err(StoreError::OlderSchemaReadOnly { found, known });
    }
    Ok(())
}

/// A private in-memory database with the current schema, shared by the readers' pool.
fn empty() -> Result<ReadOnlyDb, StoreError> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("inspector-empty-{}-{n}", std::process::id());
    let keeper_uri = format!("file:{name}?mode=memory&cache=shared");
    let mut keeper = Connection::open_with_flags(
        &keeper_uri,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_URI,
    )?;
    crate::schema::migrate(&mut keeper)?;
    Ok(ReadOnlyDb { uri: keeper_uri, keeper: Some(keeper), caveat: None })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A path as the path part of a `file:` URI: the characters with a meaning there are escaped.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_escape_what_sqlite_would_read_as_query_or_fragment() {
        assert_eq!(uri_path(Path::new("/a b/100%?#x.db")), "/a b/100%25%3f%23x.db");
    }

    #[test]
    fn a_writable_directory_is_not_diagnosed_and_keeps_no_probe() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("new");
        assert_eq!(diagnose(&sub, &sub.join("inspector.db")).unwrap(), None);
        assert!(sub.is_dir(), "created like a writable open would");
        assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 0, "the probe file is removed");
    }

    #[test]
    fn a_broken_path_is_an_error_not_a_read_only_store() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, "x").unwrap();
        let sub = file.join("data");
        let err = diagnose(&sub, &sub.join("inspector.db")).expect_err("a folder inside a file");
        assert!(err.to_string().contains("not-a-folder"), "{err}");
    }
}
