//! `/api/health`, `/api/events`, `/api/requests`, `/api/projects`: the stored traffic as JSON
//! (shapes: `crate::handlers::dto`), and the answers for paths and methods `/api` does not have.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use event_store::{EventFilter, Page, RequestFilter, StoredEvent};
use serde::Deserialize;

use super::decision_pill::pills;
use super::dto::{
    EventResponse, EventsPage, Health, IdentityProgress, ProjectItem, ProjectsPage, RequestResponse, RequestsPage,
};
use super::identity::person_refs;
use super::long_poll::{self, duration, Settle, Wait, WaitParams, Wake};
use super::params::{empty_as_none, flag_default_yes, whole_number, yes, ApiPath, ApiQuery};
use super::sources::{LiveOnly, SourceFilter};
use crate::background::Urgency;
use crate::error::ApiError;
use crate::AppState;

const DEFAULT_PAGE: u32 = 100;
/// At most this long an events page waits for the identity model to apply its newest event;
/// during a rebuild it answers without persons and pills rather than hang the table.
const PAGE_IDENTITY_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs a store read off the async workers (`crate::background::run_interactive`): SQLite calls
/// must not stall the workers that are answering SDKs. Every read here is one page or one row.
pub(crate) async fn read<T: Send + 'static>(
    state: &AppState,
    query: impl FnOnce(&event_store::Store) -> Result<T, event_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    read_as(state, Urgency::Interactive, query).await
}

/// [`read`] at the priority `urgency` says (a follower's page runs at nice 10).
async fn read_as<T: Send + 'static>(
    state: &AppState,
    urgency: Urgency,
    query: impl FnOnce(&event_store::Store) -> Result<T, event_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    crate::background::run_as(urgency, "the query", move || query(&store)).await?.map_err(ApiError::from)
}

/// Like `read`, on Tokio's blocking pool at normal priority: for `/api/health`, which a
/// supervisor uses to tell a busy server from a dead one, so it must not queue behind reads.
async fn read_urgent<T: Send + 'static>(
    state: &AppState,
    query: impl FnOnce(&event_store::Store) -> Result<T, event_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || query(&store))
        .await
        .map_err(|e| ApiError::Internal(format!("query task failed: {e}")))?
        .map_err(ApiError::from)
}

pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let totals = read_urgent(&state, |s| s.totals()).await?;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        capture_url: state.capture_url.to_string(),
        started_at: state.started_at.to_rfc3339(),
        // A path need not be UTF-8 (Linux file names are bytes): shown lossily, never refused.
        database: state.store.path().to_string_lossy().into_owned(),
        totals,
        identity: IdentityProgress { applied_seq: state.identity.applied_seq() },
        // Desktop and control state (see control.rs): the UI shows a paused banner and notices.
        capture: state.control.capture_status(),
        notices: state.control.notices(),
        families: capture_decode::Source::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), identity_engine::Family::of_source(s.as_str())))
            .collect(),
        faults: state.faults.active(),
    }))
}

/// `GET /api/events` parameters; `source` is read by [`SourceFilter`].
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    project: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    distinct_id: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    event: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    device_id: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    session_id: Option<String>,
    #[serde(default, deserialize_with = "whole_number")]
    request_id: Option<i64>,
    /// Text anywhere in the event.
    #[serde(default, deserialize_with = "empty_as_none")]
    q: Option<String>,
    /// Only events after this seq (live updates).
    #[serde(default, deserialize_with = "whole_number")]
    after: Option<i64>,
    #[serde(default, deserialize_with = "whole_number")]
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    #[serde(default, deserialize_with = "whole_number")]
    cursor: Option<i64>,
    /// Long poll (`handlers/long_poll.rs`): answer once `min` events match, or after `wait`.
    #[serde(default, deserialize_with = "duration")]
    wait: Option<std::time::Duration>,
    #[serde(default, deserialize_with = "whole_number")]
    min: Option<usize>,
    /// `order=oldest`: the first `limit` events (after `after`) instead of the newest; a
    /// follower works through a backlog in order, a page at a time.
    #[serde(default, deserialize_with = "oldest_first")]
    order: bool,
    /// `properties=0`: each event's properties are `null` (a follower printing names and ids
    /// reads a fifth of the bytes).
    #[serde(default = "yes", deserialize_with = "flag_default_yes")]
    properties: bool,
}

/// `order=newest|oldest`; `order=` is the default, newest first.
fn oldest_first<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match empty_as_none(d)?.as_deref() {
        None | Some("newest") => Ok(false),
        Some("oldest") => Ok(true),
        Some(other) => Err(serde::de::Error::custom(format!("must be `newest` or `oldest`, not {other:?}"))),
    }
}

pub async fn events(
    State(state): State<AppState>,
    sources: SourceFilter,
    live: LiveOnly,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, event_store::MAX_PAGE);
    let wait = WaitParams { wait: q.wait, min: q.min }.wait(limit as usize)?;
    // `after`: a follower (tail, a live table) asking for what arrived since its last page. It
    // takes its turn with the other followers and yields to live capture (`crate::followers`);
    // a long poll reads once when woken and is no follower.
    let follower = q.after.is_some() && wait.is_none();
    let urgency = if q.after.is_some() { Urgency::Follow } else { Urgency::Interactive };
    let mut turn = if follower { Some(state.followers.turn(state.store.capture_is_live()).await) } else { None };
    let filter = EventFilter {
        live_only: live.0,
        project: q.project,
        source: sources.store_list(),
        distinct_id: q.distinct_id,
        event: q.event,
        device_id: q.device_id,
        session_id: q.session_id,
        request_id: q.request_id,
        text: q.q,
        before_seq: q.cursor,
        after_seq: q.after,
        oldest_first: q.order,
        without_properties: !q.properties,
        limit,
    };
    let (page, waited) = long_poll::until_enough(
        &state,
        wait,
        || Wake::events(&state, &filter),
        || {
            let filter = filter.clone();
            let state = &state;
            async move {
                let page = read_as(state, urgency, move |s| s.events(&filter)).await?;
                let matched = page.items.len();
                Ok((page, matched))
            }
        },
    )
    .await?;
    // Interactive even for a follower (`with_identity`): the lookups hold the model's read
    // lock, which the feeder's writes wait for, so they must not wait for a free core.
    let (mut page, model_wait) = with_identity_waiting(&state, page).await?;
    if let Some(turn) = &mut turn {
        turn.exclude(model_wait);
    }
    page.waited = waited;
    // Serialised inside the turn: writing a follower's page as JSON costs as much as reading it
    // (a profile of two tails beside a burst: 92 samples against 74 for the reads and 84 for the
    // persons), and the pacing should count what the follower costs.
    let response = Json(page).into_response();
    drop(turn);
    Ok(response)
}

/// One page of events matching `filter`, newest first, with the person each event's id belongs
/// to now and the decision pills of merge-type events: what `GET /api/events` answers and what
/// the MCP tools read.
pub(crate) async fn events_page(state: &AppState, filter: EventFilter) -> Result<EventsPage, ApiError> {
    let page = read(state, move |s| s.events(&filter)).await?;
    with_identity(state, page).await
}

/// A page of stored events with their persons and decision pills (see [`events_page`]).
async fn with_identity(state: &AppState, page: Page<StoredEvent>) -> Result<EventsPage, ApiError> {
    Ok(with_identity_waiting(state, page).await?.0)
}

/// [`with_identity`], and how long it waited for the identity model to apply the page's events.
async fn with_identity_waiting(
    state: &AppState,
    page: Page<StoredEvent>,
) -> Result<(EventsPage, std::time::Duration), ApiError> {
    // Events captured a moment ago: give the feeder a moment to apply them, so their persons and
    // pills come with this page (a live view does not fetch these events again).
    let waiting = std::time::Instant::now();
    if let Some(newest) = page.items.iter().map(|e| e.seq).max() {
        state.identity.applied_through(newest, PAGE_IDENTITY_WAIT).await;
    }
    let waited = waiting.elapsed();
    let keys: Vec<(String, String, String)> =
        page.items.iter().map(|e| (e.uuid.clone(), e.project.clone(), e.distinct_id.clone())).collect();
    let seqs: Vec<(String, i64)> = page.items.iter().map(|e| (e.uuid.clone(), e.seq)).collect();
    let (persons, decisions) = state
        .identity
        .read_off_workers(move |model| (person_refs(model, &keys), pills(model.engine().decisions(), &seqs)))
        .await?;
    Ok((EventsPage { events: page.items, next_cursor: page.next_cursor, persons, decisions, waited: None }, waited))
}

/// How long [`wait_for_events`] may wait, whatever the caller asks: MCP clients give up on a call
/// after 60 s by default, and an answer saying "nothing yet" is more use than a dropped call.
pub(crate) const MAX_EVENTS_WAIT: std::time::Duration = std::time::Duration::from_secs(55);

/// What [`wait_for_events`] found.
#[derive(Debug)]
pub(crate) struct Waited {
    /// The matching events after the filter's `after_seq`, newest first (at most its `limit`).
    pub(crate) page: EventsPage,
    /// At least the wanted number arrived (false: the wait timed out or the server is stopping).
    pub(crate) arrived: bool,
}

/// How [`wait_for_events`] settles once enough events matched: an SDK sends one action's events
/// in one request or in a few close together (a flush, then the `$identify` sent at once), so an
/// agent that triggered the action gets them in one answer; and an agent that calls it again and
/// again during a burst costs capture one answer a second, not one per query.
const EVENTS_SETTLE: Settle =
    Settle { quiet: std::time::Duration::from_millis(100), most: std::time::Duration::from_secs(1) };

/// Waits until at least `min` events matching `filter` (whose `after_seq` says after which
/// arrival they count) are stored, or `timeout` (at most [`MAX_EVENTS_WAIT`]) passes, then until
/// matching events stop arriving ([`EVENTS_SETTLE`]): the MCP tool's wait, the same as
/// `GET /api/events?wait=&min=` (`long_poll::until_enough`) but for the settling.
pub(crate) async fn wait_for_events(
    state: &AppState,
    filter: EventFilter,
    min: usize,
    timeout: std::time::Duration,
) -> Result<Waited, ApiError> {
    let wait = Wait::new(timeout.min(MAX_EVENTS_WAIT), min.max(1)).settling(EVENTS_SETTLE);
    let (page, waited) = long_poll::until_enough(
        state,
        Some(wait),
        || Wake::events(state, &filter),
        || {
            let filter = filter.clone();
            async move {
                let page = read(state, move |s| s.events(&filter)).await?;
                let matched = page.items.len();
                Ok((page, matched))
            }
        },
    )
    .await?;
    let page = with_identity(state, page).await?;
    Ok(Waited { page, arrived: waited.is_some_and(|w| !w.timed_out) })
}

pub async fn event(
    State(state): State<AppState>,
    ApiPath(uuid): ApiPath<String>,
) -> Result<Json<EventResponse>, ApiError> {
    let found = {
        let uuid = uuid.clone();
        read(&state, move |s| s.event(&uuid)).await?
    };
    let event = found.ok_or_else(|| ApiError::NotFound(format!("no event with uuid {uuid}")))?;
    let delivery = {
        let (project, uuid) = (event.project.clone(), [event.uuid.clone()]);
        read(&state, move |s| s.deliveries_of(&project, &uuid)).await?.pop()
    };
    let key = [(event.uuid.clone(), event.project.clone(), event.distinct_id.clone())];
    let mut persons = state.identity.read_off_workers(move |model| person_refs(model, &key)).await?;
    Ok(Json(EventResponse { person: persons.remove(&event.uuid), event, delivery }))
}

/// `GET /api/requests` parameters; `source` is read by [`SourceFilter`].
#[derive(Debug, Deserialize)]
pub struct RequestsQuery {
    /// `accepted`, `rejected` or `faulted` (the store checks it).
    #[serde(default, deserialize_with = "empty_as_none")]
    outcome: Option<String>,
    /// Requests that named this project key, or none readable (see `RequestFilter::project`).
    #[serde(default, deserialize_with = "empty_as_none")]
    project: Option<String>,
    /// `events=none`: only accepted requests that carried no events (flags, config, settings).
    #[serde(default, deserialize_with = "empty_as_none")]
    events: Option<String>,
    #[serde(default, deserialize_with = "whole_number")]
    limit: Option<u32>,
    #[serde(default, deserialize_with = "whole_number")]
    cursor: Option<i64>,
}

pub async fn requests(
    State(state): State<AppState>,
    sources: SourceFilter,
    ApiQuery(q): ApiQuery<RequestsQuery>,
) -> Result<Json<RequestsPage>, ApiError> {
    let without_events = match q.events.as_deref() {
        None => false,
        Some("none") => true,
        Some(other) => {
            return Err(ApiError::invalid_parameter("events", format!("events must be `none`, not {other:?}")))
        }
    };
    let filter = RequestFilter {
        without_events,
        project: q.project,
        outcome: q.outcome,
        source: sources.store_list(),
        before_id: q.cursor,
        limit: q.limit.unwrap_or(DEFAULT_PAGE),
    };
    Ok(Json(requests_page(&state, filter).await?))
}

/// One page of stored requests matching `filter`, newest first (`GET /api/requests`, the MCP
/// tools).
pub(crate) async fn requests_page(state: &AppState, filter: RequestFilter) -> Result<RequestsPage, ApiError> {
    let page = read(state, move |s| s.requests(&filter)).await?;
    Ok(RequestsPage { requests: page.items, next_cursor: page.next_cursor })
}

/// One request in full: headers, the body as received (base64), when it decodes the JSON the
/// SDK meant to send, and the deliveries of its events that a fault touched.
pub async fn request(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RequestResponse>, ApiError> {
    let (detail, deliveries) = read(&state, move |s| {
        let Some(detail) = s.request(id)? else { return Ok(None) };
        let deliveries = match &detail.summary.project {
            Some(project) if !detail.event_uuids.is_empty() => s.deliveries_of(project, &detail.event_uuids)?,
            _ => Vec::new(),
        };
        Ok(Some((detail, deliveries)))
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no request with id {id}")))?;
    let decoded = ingest::decoded_body(&detail);
    let body_base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &detail.body);
    Ok(Json(RequestResponse { request: detail, body_base64, decoded, deliveries }))
}

/// Each project (token or write key) with the `source` of its events and the identity
/// `family` whose rules apply to it; `?source=` keeps only those sources.
pub async fn projects(State(state): State<AppState>, wanted: SourceFilter) -> Result<Json<ProjectsPage>, ApiError> {
    Ok(Json(projects_page(&state, &wanted).await?))
}

/// Every project of the `wanted` sources, most recently seen first, with its family and
/// settings in words (`GET /api/projects`, the MCP tools).
pub(crate) async fn projects_page(state: &AppState, wanted: &SourceFilter) -> Result<ProjectsPage, ApiError> {
    let projects = read(state, |s| s.projects()).await?;
    let configured: std::collections::HashMap<String, identity_engine::ProjectSettings> =
        read(state, ingest::stored_settings).await?.into_iter().collect();
    let projects = projects
        .into_iter()
        .filter(|p| wanted.allows(&p.source))
        .map(|summary| {
            let family = identity_engine::Family::of_source(&summary.source);
            let settings_label = configured.get(&summary.project).cloned().unwrap_or_default().label_for(family);
            ProjectItem { family, settings_label, summary }
        })
        .collect();
    Ok(ProjectsPage { projects })
}

/// `OriginalUri`: inside the nested `/api` router the plain `Uri` has lost its `/api` prefix.
pub async fn not_found(axum::extract::OriginalUri(uri): axum::extract::OriginalUri) -> ApiError {
    ApiError::NoEndpoint(uri.path().to_owned())
}

pub async fn method_not_allowed(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> ApiError {
    ApiError::MethodNotAllowed { method, path: uri.path().to_owned() }
}
