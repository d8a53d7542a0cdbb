//! Importing a file into a new data set: detect the format, read it as raw requests, decode
//! each one exactly as the live server would ([`ingest::decode_raw`]), and hand the rows to
//! `Store::import`, which stores them all or nothing (in chunks, shown only once complete).
//!
//! What each format contributes:
//! - bundle: every request, rejected ones included; events get back the uuids they had.
//! - HAR: requests to PostHog routes (see `har`); a request the decoder refuses is kept on
//!   PostHog's hosts (it shows what PostHog refused) and skipped elsewhere (not analytics).
//! - NDJSON: events batched into `/batch` requests; an event the decoder refuses fails the
//!   import, naming its lines.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use event_store::{
    dataset_name_from, DatasetInfo, ImportError, ImportRow, ImportSummary, Outcome, RowError, Store, IMPORT_PREFIX,
};

use crate::bundle::BundleReader;
use crate::har::{self, HarCandidate};
use crate::ndjson::NdjsonReader;
use crate::{detect, FileError, Format, Progress};

pub struct ImportOptions {
    /// The data set's name (`import:<label>` or just the label). Default: from the file name,
    /// with `-2`, `-3`... added when taken.
    pub name: Option<String>,
    /// The file's name, recorded with the data set.
    pub source_name: Option<String>,
    pub progress: Arc<dyn Progress>,
}

/// Imports the file at `path` (blocking; see `Store::import`). A FIFO or `/dev/stdin` works too.
pub fn import_file(store: &Store, path: &Path, mut options: ImportOptions) -> Result<ImportSummary, ImportError> {
    if options.source_name.is_none() {
        options.source_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    }
    let opened = read_file_rows(path, options.progress.clone()).map_err(|e| ImportError::Source(Box::new(e)))?;
    import_opened(store, opened, options)
}

/// Imports an open file, read from its current position.
pub fn import_open_file(store: &Store, file: File, options: ImportOptions) -> Result<ImportSummary, ImportError> {
    let opened = read_open_file_rows(file, options.progress.clone()).map_err(|e| ImportError::Source(Box::new(e)))?;
    import_opened(store, opened, options)
}

/// Imports what `input` yields as it arrives (an upload), read once and never sought: rows are
/// decoded and stored while the rest is still coming, and an `input` that fails part-way fails
/// the import, which then leaves nothing (`Store::import` is all or nothing). Only a zip'd HAR,
/// read from its end, is spooled to an anonymous file first.
pub fn import_stream(
    store: &Store,
    input: impl Read + Send + 'static,
    options: ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let opened = read_stream_rows(input, options.progress.clone()).map_err(|e| ImportError::Source(Box::new(e)))?;
    import_opened(store, opened, options)
}

/// Imports whatever `input` holds; `size` (bytes) drives the progress bar.
pub fn import_reader(
    store: &Store,
    input: impl Read + Send + 'static,
    size: Option<u64>,
    options: ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let opened = read_rows(input, size, options.progress.clone()).map_err(|e| ImportError::Source(Box::new(e)))?;
    import_opened(store, opened, options)
}

fn import_opened(store: &Store, opened: Opened, options: ImportOptions) -> Result<ImportSummary, ImportError> {
    let name = dataset_name(store, &options)?;
    let settings = opened.meta.as_deref().map(bundle_settings).unwrap_or_default();
    let info = DatasetInfo {
        name,
        format: opened.format.as_str().into(),
        source: options.source_name.clone(),
        meta: opened.meta,
    };
    let result = store.import(info, opened.rows);
    options.progress.finish();
    if let Ok(summary) = &result {
        // A bundle's project settings go to the data set's own keys, never a live key's.
        for (key, value) in settings {
            let project = event_store::dataset_project(&summary.dataset, &key);
            if let Err(e) = store.set_project_settings(&project, &value.to_string()) {
                tracing::warn!(%project, "could not apply the bundle's project settings: {e}");
            }
        }
    }
    result
}

/// The `settings` of a bundle header (empty for other formats or older bundles).
fn bundle_settings(meta: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
    serde_json::from_str::<crate::bundle::Header>(meta).map(|h| h.settings).unwrap_or_default()
}

/// Rows read from a file, in the order they were received.
pub type Rows = Box<dyn Iterator<Item = Result<ImportRow, RowError>> + Send>;

/// A file opened for reading rows: its format, its header (bundles), and the rows.
pub struct Opened {
    pub format: Format,
    /// The bundle's header as JSON.
    pub meta: Option<String>,
    pub rows: Rows,
}

/// Detects the format of `input` and reads it as the rows the live server would have stored,
/// lazily (for import and replay). Errors in the file's start (format, bundle header) are
/// returned here; later ones come out of the iterator.
pub fn read_rows(
    input: impl Read + Send + 'static,
    size: Option<u64>,
    progress: Arc<dyn Progress>,
) -> Result<Opened, FileError> {
    progress.start(size, "bytes");
    let counted = Counted { inner: input, progress };
    let (format, content) = detect::open(counted)?;
    let mut meta = None;
    let rows: Rows = match format {
        Format::Bundle => {
            let reader = BundleReader::open(content)?;
            meta = serde_json::to_string(&reader.header).ok();
            Box::new(reader.filter_map(move |item| match item {
                Err(e) => Some(Err(e.into())),
                Ok(request) => crate::decode::decode(request.raw, false).map(|(record, mut events)| {
                    restore_uuids(&mut events, request.event_uuids);
                    Ok((record, events))
                }),
            }))
        }
        Format::Ndjson => {
            let reader = NdjsonReader::new(content, chrono::Utc::now());
            Box::new(reader.filter_map(move |item| match item {
                Err(e) => Some(Err(e.into())),
                Ok(batch) => crate::decode::decode(batch.request, false).map(|(record, events)| {
                    if record.outcome == Outcome::Rejected {
                        let (first, last) = batch.lines;
                        let lines =
                            if first == last { format!("line {first}") } else { format!("lines {first}–{last}") };
                        let why = record.error.unwrap_or_default();
                        return Err(Box::new(FileError::Invalid(format!(
                            "{lines}: PostHog would refuse these events: {why}"
                        ))) as RowError);
                    }
                    Ok((record, events))
                }),
            }))
        }
        Format::Har => Box::new(HarRows::start(content, None)),
    };
    Ok(Opened { format, meta, rows })
}

/// Like [`read_rows`] for a file, which may also be a zip'd HAR with its bodies attached
/// (Playwright's `recordHar` to a `.zip`), a FIFO or `/dev/stdin`.
pub fn read_file_rows(path: &Path, progress: Arc<dyn Progress>) -> Result<Opened, FileError> {
    let file = File::open(path)
        .map_err(|e| FileError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))))?;
    read_open_file_rows(file, progress)
}

/// [`read_file_rows`] of an open file, from its current position. The file is read once, from
/// one handle, and never reopened: a pipe's bytes can be read only once (a reopened FIFO waits
/// for a writer that already left, and `/dev/stdin` reopened starts after what was read).
pub fn read_open_file_rows(mut file: File, progress: Arc<dyn Progress>) -> Result<Opened, FileError> {
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return read_stream_rows(file, progress);
    }
    let start = file.stream_position()?;
    let size = metadata.len().saturating_sub(start);
    let (magic, got) = read_magic(&mut file)?;
    file.seek(SeekFrom::Start(start))?;
    if !is_zip(&magic[..got]) {
        return read_rows(file, Some(size), progress);
    }
    progress.start(Some(size), "bytes");
    // A zip is read from its end, and from offset 0: one further in is copied out first.
    let zip = if start == 0 { file } else { spool(file)? };
    open_har_zip(zip)
}

/// [`read_rows`] of a stream read once (a pipe, an upload): the format from its first bytes,
/// then the rows as they arrive; a zip'd HAR is spooled to an anonymous file first.
pub fn read_stream_rows(
    mut input: impl Read + Send + 'static,
    progress: Arc<dyn Progress>,
) -> Result<Opened, FileError> {
    let (magic, got) = read_magic(&mut input)?;
    let input = std::io::Cursor::new(magic[..got].to_vec()).chain(input);
    if !is_zip(&magic[..got]) {
        return read_rows(input, None, progress);
    }
    progress.start(None, "bytes");
    open_har_zip(spool(input)?)
}

/// The first four bytes of `input` (fewer when it is shorter), and how many there are.
fn read_magic(input: &mut impl Read) -> std::io::Result<([u8; 4], usize)> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match input.read(&mut magic[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok((magic, got))
}

fn is_zip(magic: &[u8]) -> bool {
    magic == b"PK\x03\x04"
}

/// The rest of `input` in an anonymous temporary file (removed by the OS when closed), at its start.
fn spool(mut input: impl Read) -> std::io::Result<File> {
    let mut spool = tempfile::tempfile()?;
    std::io::copy(&mut input, &mut spool)?;
    spool.flush()?;
    spool.seek(SeekFrom::Start(0))?;
    Ok(spool)
}

fn open_har_zip(zip: File) -> Result<Opened, FileError> {
    let (har, attachments) = crate::har_zip::open(zip)?;
    Ok(Opened {
        format: Format::Har,
        meta: None,
        rows: Box::new(HarRows::start(Box::new(std::io::BufReader::with_capacity(1 << 16, har)), Some(attachments))),
    })
}

fn dataset_name(store: &Store, options: &ImportOptions) -> Result<String, ImportError> {
    match &options.name {
        Some(name) if name.starts_with(IMPORT_PREFIX) => Ok(name.clone()),
        Some(label) => Ok(format!("{IMPORT_PREFIX}{label}")),
        None => {
            let stem = options
                .source_name
                .as_deref()
                .map(|n| n.split('.').next().unwrap_or(n).to_owned())
                .unwrap_or_else(|| "upload".into());
            Ok(store.unused_dataset_name(&dataset_name_from(&stem))?)
        }
    }
}

/// Gives events the uuids an export recorded for them. Same count: these are the events stored
/// before (an SDK that sent no uuid got a random one at capture, which this brings back).
fn restore_uuids(events: &mut [event_store::NewEvent], uuids: Vec<String>) {
    if events.len() == uuids.len() {
        for (event, uuid) in events.iter_mut().zip(uuids) {
            event.uuid = uuid;
        }
    }
}

fn empty_received() -> capture_decode::Received {
    capture_decode::Received {
        received_at: chrono::DateTime::UNIX_EPOCH,
        method: String::new(),
        path: String::new(),
        query: None,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// Counts bytes read for the progress bar.
struct Counted<R> {
    inner: R,
    progress: Arc<dyn Progress>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Longest string kept of a HAR: a body at the largest route limit (40 MB), base64'd. Longer
/// ones are cut (see `json_cap`), and a cut body is stored refused as `body_too_large`.
const MAX_HAR_STRING: usize = 56 << 20;
/// All the strings of one HAR entry together, and the depth of the entries (`{"log":{"entries":[`).
const MAX_HAR_ENTRY_STRINGS: usize = 64 << 20;
const HAR_ENTRY_DEPTH: usize = 3;

enum HarMessage {
    Candidate(Box<HarCandidate>),
    Failed(FileError),
    End { entries: usize },
}

/// The analytics requests of a HAR as import rows. The HAR is parsed on its own thread (serde
/// pushes entries; the store pulls rows) through a small bounded channel, so memory holds a few
/// entries whatever the HAR's size. Dropping it (the import failed or stopped) stops the
/// reader thread at its next entry, instead of parsing the rest of the file for nobody.
struct HarRows {
    messages: Receiver<HarMessage>,
    stop: Arc<AtomicBool>,
    taken: usize,
    done: bool,
}

impl Drop for HarRows {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl HarRows {
    fn start(content: Box<dyn std::io::BufRead + Send>, mut attachments: Option<har::Attachments>) -> HarRows {
        // Two entries ahead: a candidate may hold a body of up to a route's read limit (40 MB).
        let (tx, messages) = sync_channel(2);
        let content = std::io::BufReader::with_capacity(
            1 << 16,
            crate::json_cap::CappedStrings::new(content, MAX_HAR_STRING, HAR_ENTRY_DEPTH, MAX_HAR_ENTRY_STRINGS),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let spawned = std::thread::Builder::new().name("har-reader".into()).spawn({
            let tx = tx.clone();
            move || {
                // Every vendor's routes: `/v1/batch` must not be cut down to PostHog's `/batch`.
                let is_route = capture_decode::protocol::is_known_path;
                let mut failed = false;
                let read = har::read_entries(content, |index, entry| {
                    if stopped.load(Ordering::Relaxed) {
                        return false;
                    }
                    match har::candidate(&entry, is_route, attachments.as_mut()) {
                        Ok(Some(c)) => tx.send(HarMessage::Candidate(Box::new(c))).is_ok(),
                        Ok(None) => true,
                        Err(e) => {
                            failed = true;
                            let _ = tx
                                .send(HarMessage::Failed(FileError::Invalid(format!("HAR entry {}: {e}", index + 1))));
                            false
                        }
                    }
                });
                if failed {
                    return;
                }
                let _ = tx.send(match read {
                    Ok(entries) => HarMessage::End { entries },
                    Err(e) => HarMessage::Failed(e),
                });
            }
        });
        if let Err(e) = spawned {
            let _ = tx.send(HarMessage::Failed(FileError::Io(e)));
        }
        HarRows { messages, stop, taken: 0, done: false }
    }
}

impl Iterator for HarRows {
    type Item = Result<ImportRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let Ok(message) = self.messages.recv() else {
                self.done = true;
                return Some(Err(Box::new(FileError::Invalid("the HAR reader stopped unexpectedly".into()))));
            };
            match message {
                HarMessage::Candidate(mut c) => {
                    let raw = std::mem::replace(&mut c.raw, empty_received());
                    let Some((mut record, mut events)) = crate::decode::decode(raw, c.body_too_large) else { continue };
                    restore_uuids(&mut events, std::mem::take(&mut c.event_uuids));
                    let is_capture = record.outcome == Outcome::Accepted && !events.is_empty();
                    if !c.vendor_host && !is_capture {
                        continue;
                    }
                    let from = format!("imported from {}", c.url);
                    record.note = Some(match record.note.take() {
                        Some(note) => format!("{from}; {note}"),
                        None => from,
                    });
                    self.taken += 1;
                    return Some(Ok((record, events)));
                }
                HarMessage::Failed(e) => {
                    self.done = true;
                    return Some(Err(Box::new(e)));
                }
                HarMessage::End { entries } => {
                    self.done = true;
                    if self.taken == 0 {
                        return Some(Err(Box::new(FileError::NoAnalytics { entries })));
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    /// A HAR that never ends: non-analytics entries forever, counting the bytes read.
    struct EndlessHar {
        read: Arc<AtomicUsize>,
        started: bool,
    }

    impl Read for EndlessHar {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let chunk: &[u8] = if self.started {
                br#"{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"GET","url":"https://example.com/app.js"}},"#
            } else {
                br#"{"log":{"entries":["#
            };
            self.started = true;
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            self.read.fetch_add(n, Ordering::Relaxed);
            Ok(n)
        }
    }

    #[test]
    fn a_dropped_har_import_stops_reading_the_file() {
        let read = Arc::new(AtomicUsize::new(0));
        let har = EndlessHar { read: read.clone(), started: false };
        let rows = HarRows::start(Box::new(std::io::BufReader::new(har)), None);
        std::thread::sleep(Duration::from_millis(100));
        assert!(read.load(Ordering::Relaxed) > 0, "the reader thread started");
        drop(rows);
        std::thread::sleep(Duration::from_millis(300));
        let stopped_at = read.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(read.load(Ordering::Relaxed), stopped_at, "the reader thread kept parsing after the import ended");
    }
}
