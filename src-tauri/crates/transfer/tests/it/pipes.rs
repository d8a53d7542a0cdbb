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

/// Yields `bytes` a few at a time, then fails with `error` if given (an upload cut short).
struct Trickle {
    bytes: Vec<u8>,
    at: usize,
    error: Option<std::io::ErrorKind>,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.bytes.len() {
            return match self.error {
                Some(kind) => Err(std::io::Error::new(kind, "cut short")),
                None => Ok(0),
            };
        }
        let n = buf.len().min(7).min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn import_stream(
    store: &Store,
    bytes: Vec<u8>,
    error: Option<std::io::ErrorKind>,
    name: &str,
) -> Result<event_store::ImportSummary, String> {
    let options = ImportOptions { name: Some(name.into()), source_name: None, progress: Arc::new(NoProgress) };
    transfer::import_stream(store, Trickle { bytes, at: 0, error }, options).map_err(|e| e.to_string())
}

/// A zip'd HAR (Playwright's `recordHar` to a `.zip`) with one batch of two events.
fn har_zip() -> Vec<u8> {
    let batch = r#"{"api_key":"phc_zip","batch":[{"event":"a","distinct_id":"u1"},{"event":"b","distinct_id":"u2"}]}"#;
    let entry = format!(
        r#"{{"startedDateTime":"2026-01-01T00:00:00Z","request":{{"method":"POST","url":"https://us.i.posthog.com/batch/","headers":[{{"name":"Content-Type","value":"application/json"}}],"postData":{{"mimeType":"application/json","text":{}}}}}}}"#,
        serde_json::to_string(batch).unwrap()
    );
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    zip.start_file("har.har", zip::write::SimpleFileOptions::default()).unwrap();
    write!(zip, r#"{{"log":{{"version":"1.2","entries":[{entry}]}}}}"#).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

#[test]
fn a_stream_imports_as_it_arrives_zips_included() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let ndjson = import_stream(&store, NDJSON.as_bytes().to_vec(), None, "ndjson").expect("NDJSON imports");
    assert_eq!(ndjson.events, 2, "{ndjson:?}");
    let zipped = import_stream(&store, har_zip(), None, "zipped").expect("a zip'd HAR imports");
    assert_eq!(zipped.events, 2, "{zipped:?}");
}

#[test]
fn a_stream_cut_short_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let half = NDJSON.as_bytes()[..NDJSON.len() - 3].to_vec();
    let failed = import_stream(&store, half, Some(std::io::ErrorKind::ConnectionReset), "cut");
    assert!(failed.is_err(), "{failed:?}");
    let zip = har_zip();
    let failed =
        import_stream(&store, zip[..zip.len() / 2].to_vec(), Some(std::io::ErrorKind::ConnectionReset), "cutzip");
    assert!(failed.is_err(), "{failed:?}");
    let db = rusqlite::Connection::open(dir.path().join("data").join(event_store::DB_FILE)).unwrap();
    let left: i64 = db
        .query_row("SELECT (SELECT count(*) FROM requests) + (SELECT count(*) FROM datasets)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0, "nothing of either import is left");
}
