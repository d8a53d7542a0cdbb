//! One desktop app per data dir: a second launch on the same data dir brings the first one's
//! window forward and exits, while launches on other data dirs (tests, several projects) run
//! side by side. Two processes writing one SQLite file is what this really prevents.
//!
//! The first instance holds an exclusive lock on `<data dir>/instance.lock` for its lifetime (the
//! OS releases it when the process dies, even on a crash, so a stale file never blocks a launch)
//! and writes its URL and control token into it; a second launch that cannot take the lock reads
//! them and calls `POST /api/control/show` with the token. `mcp` and the query commands
//! (`cli/attach.rs`) find the inspector of a data dir the same way ([`holder`]).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub const LOCK_FILE: &str = "instance.lock";

/// What a running instance publishes for the next launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningInstance {
    pub pid: u32,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    pub token: String,
}

/// Held by the first instance until it exits.
#[derive(Debug)]
pub struct InstanceLock {
    file: File,
    path: PathBuf,
}

#[derive(Debug)]
pub enum Acquired {
    First(InstanceLock),
    /// Another process holds the lock; what it published, if it got that far.
    Running(Option<RunningInstance>),
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("cannot use {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the running instance did not answer: {0}")]
    NoAnswer(String),
}

pub fn acquire(data_dir: &Path) -> Result<Acquired, InstanceError> {
    match acquire_at(data_dir, data_dir.join(LOCK_FILE)) {
        // A read-only data dir (opened read-only by the store) still gets one app: the
        // lock then lives in the temp folder, named after the data dir.
        Err(InstanceError::Io { source, .. })
            if matches!(
                source.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            let path = lock_outside(data_dir);
            tracing::info!("{} is not writable: instance lock at {}", data_dir.display(), path.display());
            acquire_at(&std::env::temp_dir(), path)
        }
        other => other,
    }
}

/// `<temp>/identity-inspector-<FNV-1a of the data dir's path>.lock`: the same for every launch
/// on the same data dir (FNV rather than std's hasher, whose output may change between builds).
fn lock_outside(data_dir: &Path) -> PathBuf {
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let hash = dir
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3));
    std::env::temp_dir().join(format!("identity-inspector-{hash:016x}.lock"))
}

fn acquire_at(dir: &Path, path: PathBuf) -> Result<Acquired, InstanceError> {
    let io = |source| InstanceError::Io { path: path.clone(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(Acquired::First(InstanceLock { file, path })),
        Err(TryLockError::WouldBlock) => Ok(Acquired::Running(read_published(&path))),
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}

fn read_published(path: &Path) -> Option<RunningInstance> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

impl InstanceLock {
    /// Tells later launches where this instance is. The file holds the control token, so only
    /// its owner may read it.
    pub fn publish(&mut self, url: &str, token: &str) -> Result<(), InstanceError> {
        let info = RunningInstance { pid: std::process::id(), url: url.to_owned(), token: token.to_owned() };
        let io = |source| InstanceError::Io { path: self.path.clone(), source };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        self.file.set_len(0).map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.file.write_all(&serde_json::to_vec(&info).expect("serialises")).map_err(io)?;
        self.file.sync_all().map_err(io)
    }
}

/// Who holds a data dir's lock, as a client of the running instance sees it (`identity-inspector
/// mcp`): it takes no lock and writes nothing, so it neither creates a data dir nor keeps the
/// app from starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// No instance runs for the data dir.
    Nobody,
    /// One runs but has not published where yet (it is starting).
    Starting,
    Running(RunningInstance),
}

/// Who holds the lock of `data_dir`, in the data dir or, for a read-only one, in the temp folder
/// (see [`acquire`]).
pub fn holder(data_dir: &Path) -> Holder {
    for path in [data_dir.join(LOCK_FILE), lock_outside(data_dir)] {
        let Ok(file) = File::open(&path) else { continue };
        // A shared lock is granted unless an instance holds its exclusive one; it is released
        // when `file` closes, at once.
        match file.try_lock_shared() {
            Ok(()) => continue,
            Err(TryLockError::WouldBlock) => {
                return read_published(&path).map_or(Holder::Starting, Holder::Running);
            }
            Err(TryLockError::Error(e)) => {
                tracing::debug!("cannot tell whether {} is held: {e}", path.display());
            }
        }
    }
    Holder::Nobody
}

/// Waits (up to `patience`) for the running instance to publish itself, then asks it to show
/// its window.
pub fn wake_running(
    data_dir: &Path,
    first: Option<RunningInstance>,
    patience: Duration,
) -> Result<RunningInstance, InstanceError> {
    let deadline = Instant::now() + patience;
    let mut known = first;
    loop {
        if let Some(info) = &known {
            match ask_to_show(info) {
                Ok(()) => return Ok(info.clone()),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => {}
            }
        } else if Instant::now() >= deadline {
            return Err(InstanceError::NoAnswer("it has not finished starting".into()));
        }
        std::thread::sleep(Duration::from_millis(200));
        known = read_published(&data_dir.join(LOCK_FILE)).or(known);
    }
}

/// `POST /api/control/show` with the token, over a plain socket (no HTTP client in the binary).
fn ask_to_show(info: &RunningInstance) -> Result<(), InstanceError> {
    let no_answer = |e: std::io::Error| InstanceError::NoAnswer(format!("{}: {e}", info.url));
    let host = info.url.strip_prefix("http://").unwrap_or(&info.url).trim_end_matches('/');
    let mut stream = TcpStream::connect(host).map_err(no_answer)?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(no_answer)?;
    let request = format!(
        "POST /api/control/show HTTP/1.1\r\nHost: {host}\r\n{}: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        inspector_server::TOKEN_HEADER,
        info.token
    );
    stream.write_all(request.as_bytes()).map_err(no_answer)?;
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let status = reply.split_whitespace().nth(1).unwrap_or("");
    if status.starts_with('2') {
        Ok(())
    } else {
        Err(InstanceError::NoAnswer(format!("{} answered {:?}", info.url, reply.lines().next().unwrap_or(""))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_outside_a_read_only_dir_is_one_per_data_dir() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert_eq!(lock_outside(a.path()), lock_outside(a.path()));
        assert_ne!(lock_outside(a.path()), lock_outside(b.path()));
        assert!(lock_outside(a.path()).starts_with(std::env::temp_dir()));
    }

    #[test]
    fn the_first_launch_locks_and_a_second_sees_what_it_published() {
        let dir = tempfile::tempdir().unwrap();
        let Acquired::First(mut lock) = acquire(dir.path()).unwrap() else { panic!("first launch gets the lock") };
        match acquire(dir.path()).unwrap() {
            Acquired::Running(None) => {}
            other => panic!("before publishing, a second launch knows nothing yet: {other:?}"),
        }
        lock.publish("http://127.0.0.1:1234", "t0ken").unwrap();
        match acquire(dir.path()).unwrap() {
            Acquired::Running(Some(info)) => {
                assert_eq!((info.url.as_str(), info.token.as_str()), ("http://127.0.0.1:1234", "t0ken"));
                assert_eq!(info.pid, std::process::id());
            }
            other => panic!("expected the published instance, got {other:?}"),
        }
        drop(lock);
        assert!(matches!(acquire(dir.path()).unwrap(), Acquired::First(_)), "the lock goes with its holder");
    }

    #[test]
    fn a_client_sees_who_holds_the_lock_without_taking_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("never-created");
        assert_eq!(holder(&missing), Holder::Nobody);
        assert!(!missing.exists(), "looking creates nothing");
        let Acquired::First(mut lock) = acquire(dir.path()).unwrap() else { panic!("first launch gets the lock") };
        assert_eq!(holder(dir.path()), Holder::Starting);
        lock.publish("http://127.0.0.1:1234", "t0ken").unwrap();
        match holder(dir.path()) {
            Holder::Running(info) => assert_eq!(info.url, "http://127.0.0.1:1234"),
            other => panic!("expected the published instance, got {other:?}"),
        }
        assert!(matches!(acquire(dir.path()).unwrap(), Acquired::Running(_)), "looking released nothing");
        drop(lock);
        assert_eq!(holder(dir.path()), Holder::Nobody);
        assert!(matches!(acquire(dir.path()).unwrap(), Acquired::First(_)), "looking holds no lock");
    }

    #[test]
    fn other_data_dirs_run_side_by_side() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let _first = acquire(a.path()).unwrap();
        assert!(matches!(acquire(b.path()).unwrap(), Acquired::First(_)));
    }

    #[cfg(unix)]
    #[test]
    fn the_published_token_is_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let Acquired::First(mut lock) = acquire(dir.path()).unwrap() else { panic!() };
        lock.publish("http://127.0.0.1:1", "secret").unwrap();
        let mode = std::fs::metadata(dir.path().join(LOCK_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn waking_an_instance_that_never_answers_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener); // nothing listens there any more
        let info = RunningInstance { pid: 1, url, token: "x".into() };
        let err = wake_running(dir.path(), Some(info), Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, InstanceError::NoAnswer(_)));
    }
}
