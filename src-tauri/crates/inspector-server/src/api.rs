//! `/api`: the JSON the UI and users' scripts read. Shapes are documented in the README.

use axum::extract::{Path, Query, RawQuery, State};
use axum::Json;
use event_store::{EventFilter, RequestFilter};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::sources::SourceFilter;
use crate::AppState;

const DEFAULT_PAGE: u32 = 100;

pub(crate) fn parse_number<T: std::str::FromStr>(name: &str, value: Option<&str>) -> Result<Option<T>, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<T>().map_err(|_| ApiError::BadRequest(format!("`{name}` must be a whole number, not {v:?}")))
        })
        .transpose()
}

pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// Runs a store read on the blocking pool: SQLite calls must not stall the async workers that
/// are answering SDKs.
async fn read<T: Send + 'static>(
    state: &AppState,
    query: impl FnOnce(&event_store::Store) -> Result<T, event_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || query(&store))
        .await
        .map_err(|e| ApiError::Internal(format!("query task failed: {e}")))?
        .map_err(ApiError::from)
}

pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let totals = read(&state, |s| s.totals()).await?;
    Ok(Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "capture_url": &*state.capture_url,
        "started_at": state.started_at.to_rfc3339(),
        "database": state.store.path(),
        "totals": totals,
        "identity": { "applied_seq": state.identity.applied_seq() },
        // Desktop and control state (see control.rs): the UI shows a paused banner and notices.
        "capture": state.control.capture_status(),
        "notices": state.control.notices(),
    })))
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    project: Option<String>,
    distinct_id: Option<String>,
    event: Option<String>,
    device_id: Option<String>,
    session_id: Option<String>,
    request_id: Option<String>,
    q: Option<String>,
    after: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn events(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    Query(q): Query<EventsQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = EventFilter {
        project: non_empty(q.project),
        source: SourceFilter::parse(raw.as_deref())?.store_list(),
        distinct_id: non_empty(q.distinct_id),
        event: non_empty(q.event),
        device_id: non_empty(q.device_id),
        session_id: non_empty(q.session_id),
        request_id: parse_number("request_id", q.request_id.as_deref())?,
        text: non_empty(q.q),
        before_seq: parse_number("cursor", q.cursor.as_deref())?,
        after_seq: parse_number("after", q.after.as_deref())?,
        limit: parse_number("limit", q.limit.as_deref())?.unwrap_or(DEFAULT_PAGE),
    };
    let page = read(&state, move |s| s.events(&filter)).await?;
    Ok(Json(json!({ "events": page.items, "next_cursor": page.next_cursor })))
}

pub async fn event(State(state): State<AppState>, Path(uuid): Path<String>) -> Result<Json<Value>, ApiError> {
    let found = {
        let uuid = uuid.clone();
        read(&state, move |s| s.event(&uuid)).await?
    };
    let event = found.ok_or_else(|| ApiError::NotFound(format!("no event with uuid {uuid}")))?;
    Ok(Json(json!({ "event": event })))
}

#[derive(Debug, Deserialize)]
pub struct RequestsQuery {
    outcome: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn requests(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    Query(q): Query<RequestsQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = RequestFilter {
        outcome: non_empty(q.outcome),
        source: SourceFilter::parse(raw.as_deref())?.store_list(),
        before_id: parse_number("cursor", q.cursor.as_deref())?,
        limit: parse_number("limit", q.limit.as_deref())?.unwrap_or(DEFAULT_PAGE),
    };
    let page = read(&state, move |s| s.requests(&filter)).await?;
    Ok(Json(json!({ "requests": page.items, "next_cursor": page.next_cursor })))
}

/// One request in full: headers, the body as received (base64) and, when it decodes, the JSON
/// the SDK meant to send.
pub async fn request(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::BadRequest(format!("request id must be a number, not {id:?}")))?;
    let detail = read(&state, move |s| s.request(id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no request with id {id}")))?;
    let decoded = crate::capture::decoded_body(&detail);
    let body_base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &detail.body);
    Ok(Json(json!({ "request": detail, "body_base64": body_base64, "decoded": decoded })))
}

/// Each project (token or write key) with the `source` of its events and the identity
/// `family` whose rules apply to it; `?source=` keeps only those sources.
pub async fn projects(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, ApiError> {
    let wanted = SourceFilter::parse(raw.as_deref())?;
    let projects = read(&state, |s| s.projects()).await?;
    let items: Vec<Value> = projects
        .into_iter()
        .filter(|p| wanted.allows(&p.source))
        .map(|p| {
            let mut item = serde_json::to_value(&p).unwrap_or(Value::Null);
            item["family"] = json!(identity_engine::Family::of_source(&p.source).as_str());
            item
        })
        .collect();
    Ok(Json(json!({ "projects": items })))
}

/// `OriginalUri`: inside the nested `/api` router the plain `Uri` has lost its `/api` prefix.
pub async fn not_found(axum::extract::OriginalUri(uri): axum::extract::OriginalUri) -> ApiError {
    ApiError::NotFound(format!("no API endpoint at {}", uri.path()))
}

pub async fn method_not_allowed(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}
