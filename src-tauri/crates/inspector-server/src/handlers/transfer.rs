//! `/api/export`, `/api/import` and `/api/datasets`: export, import and the imported data sets, for the UI's export buttons,
//! import dialog and drag and drop.
//!
//! - Export spools: a blocking task writes the file to an anonymous temporary file, then the
//!   response streams it, so a million events never sit in memory and a download that stops
//!   reading holds no pooled reader and no read transaction (nor pins the WAL), only a file.
//!   The export reads one snapshot per query as before; it is consistent as of when it ran,
//!   not when the client finished downloading.
//! - Import changes data, so it needs this launch's `x-inspector-token` (from `GET /api/control`)
//!   like every other state-changing call: a cross-site form cannot send custom headers, and a
//!   cross-site `fetch` with one needs a CORS preflight `/api` never grants. The body is spooled
//!   to an anonymous temporary file first (zip'd HARs need seeking), then imported all or nothing
//!   on a lower-priority thread.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use transfer::{export_with, parse_time, ExportFormat, ImportOptions, NoProgress, Scope, Secrets};

use super::dto::{DatasetsPage, Imported};
use super::params::{empty_as_none, ApiQuery};
use crate::control::Authorized;
use crate::error::ApiError;
use crate::AppState;

/// `GET /api/export` parameters.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    /// Default: bundle.
    #[serde(default, deserialize_with = "export_format")]
    format: Option<ExportFormat>,
    #[serde(default, deserialize_with = "empty_as_none")]
    project: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    dataset: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    session: Option<String>,
    /// A device lane id.
    #[serde(default, deserialize_with = "empty_as_none")]
    device: Option<String>,
    /// A person id or one of its distinct ids.
    #[serde(default, deserialize_with = "empty_as_none")]
    person: Option<String>,
    #[serde(default, deserialize_with = "time")]
    from: Option<event_store::Micros>,
    #[serde(default, deserialize_with = "time")]
    to: Option<event_store::Micros>,
    /// `keep` writes secret headers (Cookie, Authorization, ...) as received; default `redact`.
    #[serde(default)]
    secrets: Secrets,
}

fn export_format<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ExportFormat>, D::Error> {
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    ExportFormat::parse(&text)
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("must be bundle, ndjson, har or csv, not {text:?}")))
}

/// A time as `transfer::parse_time` reads it (RFC 3339, a date, ...).
fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<event_store::Micros>, D::Error> {
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    parse_time(&text).map(Some).map_err(D::Error::custom)
}

/// `GET /api/export?format=bundle|ndjson|har|csv&project=&dataset=&session=&device=&person=&from=&to=&secrets=redact|keep`
pub async fn export_file(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = q.format.unwrap_or(ExportFormat::Bundle);
    let project = q.project;
    let mut scope = Scope {
        project: project.clone(),
        dataset: q.dataset,
        session: q.session,
        device: None,
        person_distinct_ids: Vec::new(),
        from: q.from,
        to: q.to,
    };
    let (device, person) = (q.device, q.person);
    if device.is_some() || person.is_some() {
        state.identity.synced(&state.store).await;
        let project = project.clone();
        let (device_id, ids) = state
            .identity
            .read_off_workers(move |model| -> Result<(Option<String>, Vec<String>), ApiError> {
                let mut found = (None, Vec::new());
                if let Some(person) = &person {
                    found.1 = ingest::person_distinct_ids(model, project.as_deref(), person)
                        .map_err(|e| ApiError::NotFound(e.to_string()))?;
                }
                if let Some(device) = &device {
                    found = ingest::device_scope(model, device);
                }
                Ok(found)
            })
            .await??;
        scope.device = device_id;
        scope.person_distinct_ids = ids;
    }
    // The scope's parameters do not fit together (e.g. a session and a device).
    let selection = scope.selection().map_err(|e| ApiError::invalid_parameter("scope", e.to_string()))?;
    let file_name = file_name(&selection, format);

    // Written whole to a spool file first, on a background thread, then streamed from the file:
    // the pooled reader and its read transaction are released when the export is written, at
    // disk speed, however slowly (or never) the client reads. The spool file is anonymous
    // (unlinked at creation), so a killed server leaves nothing behind.
    let store = state.store.clone();
    let base_url = state.capture_url.to_string();
    let secrets = q.secrets;
    let spooled = crate::background::run("the export", move || -> Result<std::fs::File, ApiError> {
        let mut file = tempfile::tempfile().map_err(|e| ApiError::Internal(format!("cannot spool the export: {e}")))?;
        export_with(&store, &selection, format, &mut file, &base_url, &NoProgress, secrets).map_err(|e| {
            tracing::warn!("export failed: {e}");
            ApiError::Internal(format!("export failed: {e}"))
        })?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| ApiError::Internal(format!("cannot read the spooled export: {e}")))?;
        Ok(file)
    })
    .await??;
    let length = spooled.metadata().map(|m| m.len()).ok();
    let stream = spool_stream(spooled);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Bytes read from the spooled export per chunk of the response.
const CHUNK: usize = 1 << 16;

/// The spooled file as a body stream. Each chunk is read on the blocking pool when the response
/// asks for it, so a client that stops reading holds no thread, only the file.
fn spool_stream(file: std::fs::File) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold(Some(file), |file| async move {
        let Some(mut file) = file else { return Ok(None) };
        let (file, chunk) = tokio::task::spawn_blocking(move || {
            let mut chunk = vec![0u8; CHUNK];
            let read = file.read(&mut chunk).map(|n| {
                chunk.truncate(n);
                chunk
            });
            (file, read)
        })
        .await
        .map_err(std::io::Error::other)?;
        let chunk = chunk?;
        Ok(if chunk.is_empty() { None } else { Some((Bytes::from(chunk), Some(file))) })
    })
}

/// `inspector-<what>-<time>.<ext>`, ASCII only.
fn file_name(selection: &event_store::Selection, format: ExportFormat) -> String {
    let what = selection
        .session_id
        .as_ref()
        .map(|s| format!("session-{s}"))
        .or_else(|| selection.device_id.as_ref().map(|d| format!("device-{d}")))
        .or_else(|| (!selection.distinct_ids.is_empty()).then(|| format!("person-{}", selection.distinct_ids[0])))
        .or_else(|| selection.project.clone())
        .unwrap_or_else(|| "all".into());
    let safe: String =
        what.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).take(60).collect();
    format!("inspector-{safe}-{}.{}", chrono::Utc::now().format("%Y%m%d-%H%M%S"), format.extension())
}

/// `POST /api/import` parameters.
#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    /// The data set to create (`import:<name>` or `<name>`); default: from `filename`.
    #[serde(default, deserialize_with = "empty_as_none")]
    name: Option<String>,
    /// The dropped or chosen file's name.
    #[serde(default, deserialize_with = "empty_as_none")]
    filename: Option<String>,
}

/// `POST /api/import?name=&filename=` with the file as the body.
pub async fn import(
    State(state): State<AppState>,
    _: Authorized,
    ApiQuery(q): ApiQuery<ImportQuery>,
    request: Request,
) -> Result<Json<Imported>, ApiError> {
    // The upload is read, decoded and committed as it arrives, on one thread of the import at a
    // lower priority (`crate::background`): this handler only moves the body's chunks to it, so
    // no async worker waits on the disk and capture keeps the cores. Nothing is spooled (but a
    // zip'd HAR, read from its end): a spool file doubled what the import wrote to disk, and on
    // ext4 that writeback doubled capture's p99 beside a large import. An upload that stops
    // part-way fails the import, which then leaves nothing (`Store::import` is all or nothing).
    let store = state.store.clone();
    let options = ImportOptions { name: q.name, source_name: q.filename, progress: Arc::new(NoProgress) };
    let (chunks, received) = tokio::sync::mpsc::channel::<Upload>(UPLOAD_QUEUE);
    let (done, imported) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("import".into())
        .spawn(move || {
            crate::background::lower_priority();
            let _ = done.send(import_upload(&store, received, options));
        })
        .map_err(|e| ApiError::Internal(format!("cannot start the import: {e}")))?;
    let mut body = request.into_body().into_data_stream();
    let mut ended = Upload::End;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => {
                if chunks.send(Upload::Chunk(bytes)).await.is_err() {
                    break; // The import thread stopped (a spool error): its result says why.
                }
            }
            Err(e) => {
                ended = Upload::Interrupted(e.to_string());
                break;
            }
        }
    }
    let _ = chunks.send(ended).await;
    drop(chunks);
    let result = imported.await.map_err(|_| ApiError::Internal("the import stopped unexpectedly".into()))?;
    match result? {
        Ok(imported) => Ok(Json(Imported { imported })),
        Err(event_store::ImportError::Store(e)) => Err(ApiError::Store(e)),
        Err(e) => Err(ApiError::ImportFailed(format!("{e}; nothing was imported"))),
    }
}

/// Chunks of an upload queued for the import thread (about 1 MB at hyper's usual frame sizes).
const UPLOAD_QUEUE: usize = 16;

/// What the import handler hands its thread. Only `End` lets the import run: a closed queue
/// without it (the handler was dropped when the client went away) imports nothing.
enum Upload {
    Chunk(Bytes),
    End,
    Interrupted(String),
}

/// The import thread's work: imports the upload as it arrives. The outer error is the upload's
/// (empty, interrupted), the inner one the import's.
fn import_upload(
    store: &event_store::Store,
    received: tokio::sync::mpsc::Receiver<Upload>,
    options: ImportOptions,
) -> Result<Result<event_store::ImportSummary, event_store::ImportError>, ApiError> {
    let upload = Arc::new(std::sync::Mutex::new(UploadState::default()));
    let reader = UploadReader { received, current: Bytes::new(), ended: false, state: upload.clone() };
    let result = transfer::import_stream(store, reader, options);
    // A failed upload explains a failed import better than the import's own words ("not a
    // HAR" for a file cut short), and an empty one imported nothing whatever it says.
    let state = upload.lock().map(|s| s.clone()).unwrap_or_default();
    if let Some(why) = state.interrupted {
        return Err(ApiError::InvalidBody(why));
    }
    if state.size == 0 {
        return Err(ApiError::InvalidBody("the request body is empty: send the file to import".into()));
    }
    Ok(result)
}

/// What the import thread saw of the upload.
#[derive(Debug, Clone, Default)]
struct UploadState {
    size: usize,
    /// Why the upload stopped before its end.
    interrupted: Option<String>,
}

/// The upload's chunks as one `Read`, for the import's decoders. It ends (reads 0) only on the
/// handler's `End`; an interrupted upload, or a queue closed without `End` (the handler was
/// dropped when the client went away), is a read error, which fails the import.
struct UploadReader {
    received: tokio::sync::mpsc::Receiver<Upload>,
    current: Bytes,
    /// `End` was received: every later read is the end too (the queue is closed by then).
    ended: bool,
    state: Arc<std::sync::Mutex<UploadState>>,
}

impl UploadReader {
    fn interrupted(&self, why: String) -> std::io::Error {
        if let Ok(mut state) = self.state.lock() {
            state.interrupted.get_or_insert(why.clone());
        }
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, why)
    }
}

impl Read for UploadReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.received.blocking_recv() {
                Some(Upload::Chunk(bytes)) => {
                    if let Ok(mut state) = self.state.lock() {
                        state.size += bytes.len();
                    }
                    self.current = bytes;
                }
                Some(Upload::End) => self.ended = true,
                Some(Upload::Interrupted(e)) => {
                    return Err(self.interrupted(format!("the upload was interrupted: {e}")));
                }
                None => return Err(self.interrupted("the upload was interrupted".into())),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// `GET /api/datasets`: imported data sets, newest first.
pub async fn datasets(State(state): State<AppState>) -> Result<Json<DatasetsPage>, ApiError> {
    let store = state.store.clone();
    let sets = tokio::task::spawn_blocking(move || store.datasets())
        .await
        .map_err(|e| ApiError::Internal(format!("query task failed: {e}")))??;
    Ok(Json(DatasetsPage { datasets: sets }))
}
