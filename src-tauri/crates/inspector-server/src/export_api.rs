//! `/api/export`, `/api/import` and `/api/datasets` (issue 7), for the UI's export buttons,
//! import dialog and drag and drop.
//!
//! - Export streams: a blocking task writes the file into a small bounded channel that the
//!   response body drains, so a million events never sit in memory.
//! - Import changes data, so it needs this launch's `x-inspector-token` (from `GET /api/control`)
//!   like every other state-changing call: a cross-site form cannot send custom headers, and a
//!   cross-site `fetch` with one needs a CORS preflight `/api` never grants. The body is spooled
//!   to a temporary file first (zip'd HARs need seeking), then imported all or nothing.

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use transfer::{export, parse_time, ExportFormat, ImportOptions, NoProgress, Scope};

use crate::api::non_empty;
use crate::error::ApiError;
use crate::AppState;

/// Chunks in flight between the exporting task and the response.
const CHUNKS: usize = 16;

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    project: Option<String>,
    dataset: Option<String>,
    session: Option<String>,
    device: Option<String>,
    person: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/export?format=bundle|ndjson|har|csv&project=&dataset=&session=&device=&person=&from=&to=`
pub async fn export_file(State(state): State<AppState>, Query(q): Query<ExportQuery>) -> Result<Response, ApiError> {
    let format_text = non_empty(q.format).unwrap_or_else(|| "bundle".into());
    let format = ExportFormat::parse(&format_text).ok_or_else(|| {
        ApiError::BadRequest(format!("format must be bundle, ndjson, har or csv, not {format_text:?}"))
    })?;
    let time = |t: Option<String>| {
        non_empty(t).map(|t| parse_time(&t)).transpose().map_err(|e| ApiError::BadRequest(e.to_string()))
    };
    let project = non_empty(q.project);
    let mut scope = Scope {
        project: project.clone(),
        dataset: non_empty(q.dataset),
        session: non_empty(q.session.clone()),
        device: None,
        person_distinct_ids: Vec::new(),
        from: time(q.from)?,
        to: time(q.to)?,
    };
    let (device, person) = (non_empty(q.device), non_empty(q.person));
    if device.is_some() || person.is_some() {
        state.identity.synced(&state.store).await;
        state.identity.read(|model| -> Result<(), ApiError> {
            if let Some(person) = &person {
                scope.person_distinct_ids = ingest::person_distinct_ids(model, project.as_deref(), person)
                    .map_err(|e| ApiError::NotFound(e.to_string()))?;
            }
            if let Some(device) = &device {
                let (device_id, ids) = ingest::device_scope(model, device);
                scope.device = device_id;
                scope.person_distinct_ids = ids;
            }
            Ok(())
        })?;
    }
    let selection = scope.selection().map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let file_name = file_name(&selection, format);

    let (chunks, body) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS);
    let store = state.store.clone();
    let base_url = state.capture_url.to_string();
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter { chunks: chunks.clone() };
        if let Err(e) = export(&store, &selection, format, out, &base_url, &NoProgress) {
            tracing::warn!("export failed: {e}");
            // The download ends with an error instead of looking complete.
            let _ = chunks.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(body);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
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

/// Hands written bytes to the response body, waiting when the client reads slowly.
struct ChannelWriter {
    chunks: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.chunks
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    /// The data set to create (`import:<name>` or `<name>`); default: from `filename`.
    name: Option<String>,
    /// The dropped or chosen file's name.
    filename: Option<String>,
}

/// `POST /api/import?name=&filename=` with the file as the body.
pub async fn import(
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    state.control.check_token(&headers)?;
    let spool =
        tempfile::NamedTempFile::new().map_err(|e| ApiError::Internal(format!("cannot spool the upload: {e}")))?;
    let mut file = spool.reopen().map_err(|e| ApiError::Internal(format!("cannot spool the upload: {e}")))?;
    let mut body = request.into_body().into_data_stream();
    let mut size = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the upload was interrupted: {e}")))?;
        size += chunk.len();
        file.write_all(&chunk).map_err(|e| ApiError::Internal(format!("cannot spool the upload: {e}")))?;
    }
    drop(file);
    if size == 0 {
        return Err(ApiError::BadRequest("the request body is empty: send the file to import".into()));
    }
    let store = state.store.clone();
    let options =
        ImportOptions { name: non_empty(q.name), source_name: non_empty(q.filename), progress: Arc::new(NoProgress) };
    let result = tokio::task::spawn_blocking(move || transfer::import_file(&store, spool.path(), options))
        .await
        .map_err(|e| ApiError::Internal(format!("import task failed: {e}")))?;
    match result {
        Ok(summary) => Ok((StatusCode::OK, Json(json!({ "imported": summary }))).into_response()),
        Err(event_store::ImportError::Store(e)) => Err(ApiError::Store(e)),
        Err(e) => Err(ApiError::BadRequest(format!("{e}; nothing was imported"))),
    }
}

/// `GET /api/datasets`: imported data sets, newest first.
pub async fn datasets(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let sets = tokio::task::spawn_blocking(move || store.datasets())
        .await
        .map_err(|e| ApiError::Internal(format!("query task failed: {e}")))??;
    Ok(Json(json!({ "datasets": sets })))
}
