//! Importing a file into a new data set: detect the format, read it as raw requests, decode
//! each one exactly as the live server would ([`ingest::decode_raw`]), and hand the rows to
//! `Store::import`, which stores them all in one transaction or nothing.
//!
//! What each format contributes:
//! - bundle: every request, rejected ones included; events get back the uuids they had.
//! - HAR: requests to PostHog routes (see `har`); a request the decoder refuses is kept on
//!   PostHog's hosts (it shows what PostHog refused) and skipped elsewhere (not analytics).
//! - NDJSON: events batched into `/batch` requests; an event the decoder refuses fails the
//!   import, naming its lines.

use std::io::Read;
use std::path::Path;
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

/// Imports the file at `path` (blocking; see `Store::import`).
pub fn import_file(store: &Store, path: &Path, mut options: ImportOptions) -> Result<ImportSummary, ImportError> {
    if options.source_name.is_none() {
        options.source_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    }
    let opened = read_file_rows(path, options.progress.clone()).map_err(|e| ImportError::Source(Box::new(e)))?;
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
    let info = DatasetInfo {
        name,
        format: opened.format.as_str().into(),
        source: options.source_name.clone(),
        meta: opened.meta,
    };
    let result = store.import(info, opened.rows);
    options.progress.finish();
    result
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
                Ok(request) => ingest::decode_raw(&request.raw).map(|(record, mut events)| {
                    restore_uuids(&mut events, request.event_uuids);
                    Ok((record, events))
                }),
            }))
        }
        Format::Ndjson => {
            let reader = NdjsonReader::new(content, chrono::Utc::now());
            Box::new(reader.filter_map(move |item| match item {
                Err(e) => Some(Err(e.into())),
                Ok(batch) => ingest::decode_raw(&batch.request).map(|(record, events)| {
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
/// (Playwright's `recordHar` to a `.zip`).
pub fn read_file_rows(path: &Path, progress: Arc<dyn Progress>) -> Result<Opened, FileError> {
    let open = || {
        std::fs::File::open(path)
            .map_err(|e| FileError::Io(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))))
    };
    let mut file = open()?;
    let size = file.metadata().ok().map(|m| m.len());
    let mut magic = [0u8; 4];
    let is_zip = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    if !is_zip {
        return read_rows(open()?, size, progress);
    }
    progress.start(size, "bytes");
    let (har, attachments) = crate::har_zip::open(open()?)?;
    Ok(Opened {
        format: Format::Har,
        meta: None,
        rows: Box::new(HarRows::start(Box::new(std::io::Cursor::new(har)), Some(attachments))),
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

enum HarMessage {
    Candidate(Box<HarCandidate>),
    Failed(FileError),
    End { entries: usize },
}

/// The analytics requests of a HAR as import rows. The HAR is parsed on its own thread (serde
/// pushes entries; the store pulls rows) through a small bounded channel, so memory holds a few
/// entries whatever the HAR's size.
struct HarRows {
    messages: Receiver<HarMessage>,
    taken: usize,
    done: bool,
}

impl HarRows {
    fn start(content: Box<dyn std::io::BufRead + Send>, mut attachments: Option<har::Attachments>) -> HarRows {
        let (tx, messages) = sync_channel(16);
        let spawned = std::thread::Builder::new().name("har-reader".into()).spawn({
            let tx = tx.clone();
            move || {
                // Every vendor's routes: `/v1/batch` must not be cut down to PostHog's `/batch`.
                let is_route = capture_decode::protocol::is_known_path;
                let mut failed = false;
                let read = har::read_entries(content, |index, entry| {
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
        HarRows { messages, taken: 0, done: false }
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
                    let Some((mut record, mut events)) = ingest::decode_raw(&c.raw) else { continue };
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
