//! Importing from a FIFO and from `/dev/stdin` (a pipe reached through `/proc/self/fd`): the
//! file is read once, from one handle, and never reopened.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use event_store::Store;
use transfer::{import_file, ImportOptions, NoProgress};

const NDJSON: &str = "{\"event\":\"a\",\"distinct_id\":\"u1\",\"api_key\":\"phc_pipe\"}\n{\"event\":\"b\",\"distinct_id\":\"u2\",\"api_key\":\"phc_pipe\"}\n";

/// Imports `path` on a thread, failing the test instead of hanging when the import waits forever.
fn import_within(store: &Store, path: PathBuf, name: &str) -> event_store::ImportSummary {
    let (done, result) = std::sync::mpsc::channel();
    let store = store.clone();
    let name = name.to_owned();
    std::thread::spawn(move || {
        let options = ImportOptions { name: Some(name), source_name: None, progress: Arc::new(NoProgress) };
        let _ = done.send(import_file(&store, &path, options).map_err(|e| e.to_string()));
    });
    result.recv_timeout(Duration::from_secs(20)).expect("the import finishes").expect("the import succeeds")
}

fn store(dir: &Path) -> Store {
    Store::open(&dir.join("data")).unwrap()
}

#[test]
fn a_fifo_imports() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let fifo = dir.path().join("events.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = std::thread::spawn({
        let fifo = fifo.clone();
        move || std::fs::OpenOptions::new().write(true).open(&fifo).unwrap().write_all(NDJSON.as_bytes())
    });
    let summary = import_within(&store, fifo, "fifo");
    writer.join().unwrap().unwrap();
    assert_eq!(summary.events, 2, "{summary:?}");
}

#[test]
fn dev_stdin_imports_from_a_pipe() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let (reader, mut writer) = std::io::pipe().unwrap();
    // `/dev/stdin` is `/proc/self/fd/0`; this pipe's reading end is another descriptor of it.
    let path = PathBuf::from(format!("/proc/self/fd/{}", reader.as_raw_fd()));
    let feeding = std::thread::spawn(move || writer.write_all(NDJSON.as_bytes()));
    let summary = import_within(&store, path, "stdin");
    feeding.join().unwrap().unwrap();
    drop(reader);
    assert_eq!(summary.events, 2, "{summary:?}");
}
