//! `/api/persons`, `/api/devices`, `/api/decisions`, `/api/warnings`, `/api/lens`: the identity
//! model as JSON. Every handler first waits for the model to include all committed events
//! (`Identity::synced`). Every item carries its project's `source` and identity `family`, and
//! every list takes `?source=` (repeatable or comma-separated) to keep some sources only.

use axum::extract::{Path, Query, RawQuery, State};
use axum::Json;
use identity_engine::{Decision, DecisionKind, DeviceLane, Person};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::{non_empty, parse_number};
use crate::error::ApiError;
use crate::sources::SourceFilter;
use crate::AppState;

const DEFAULT_PERSONS: usize = 500;
const MAX_PERSONS: usize = 5_000;
const MAX_DEVICES: usize = 1_000;

/// The list shape: what a person is, without its history.
#[derive(Serialize)]
struct PersonSummary<'a> {
    id: uuid::Uuid,
    project: &'a str,
    source: &'a str,
    family: identity_engine::Family,
    distinct_ids: &'a [String],
    is_identified: bool,
    properties: &'a serde_json::Map<String, Value>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> PersonSummary<'a> {
    fn of(p: &'a Person, engine: &'a identity_engine::Engine) -> Self {
        PersonSummary {
            id: p.id,
            project: &p.project,
            source: engine.source(&p.project),
            family: engine.family(&p.project),
            distinct_ids: &p.distinct_ids,
            is_identified: p.is_identified,
            properties: &p.properties,
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PersonsQuery {
    project: Option<String>,
    distinct_id: Option<String>,
    q: Option<String>,
    order: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Case-insensitive substring match of `needle` (already lowercase) in a distinct id or a string
/// property value of the person.
fn person_matches(p: &Person, needle: &str) -> bool {
    p.distinct_ids.iter().any(|id| id.to_lowercase().contains(needle))
        || p.id.to_string().contains(needle)
        || p.properties.values().any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(needle)))
}

pub async fn persons(
    State(state): State<AppState>,
    Query(q): Query<PersonsQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let sources = SourceFilter::parse(raw.as_deref())?;
    state.identity.synced(&state.store).await;
    let limit = parse_number("limit", q.limit.as_deref())?.unwrap_or(DEFAULT_PERSONS).clamp(1, MAX_PERSONS);
    let offset = parse_number("cursor", q.cursor.as_deref())?.unwrap_or(0);
    let (project, distinct_id) = (non_empty(q.project), non_empty(q.distinct_id));
    let needle = non_empty(q.q).map(|t| t.to_lowercase());
    let newest_first = match non_empty(q.order).as_deref() {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(other) => return Err(ApiError::BadRequest(format!("order must be `newest` or `oldest`, not {other:?}"))),
    };
    let body = state.identity.read(|model| {
        let engine = model.engine();
        let mut projects: Vec<&str> = match &project {
            Some(p) => vec![p.as_str()],
            None => engine.projects(),
        };
        projects.retain(|p| sources.allows(engine.source(p)));
        let mut found: Vec<&Person> = match &distinct_id {
            Some(id) => projects.iter().filter_map(|p| engine.person_for(p, id)).collect(),
            None => projects.iter().flat_map(|p| engine.persons(p)).collect(),
        };
        if let Some(needle) = &needle {
            found.retain(|p| person_matches(p, needle));
        }
        if newest_first {
            found.sort_by(|a, b| b.created_by.seq.cmp(&a.created_by.seq).then(a.id.cmp(&b.id)));
        }
        let page: Vec<PersonSummary> =
            found.iter().skip(offset).take(limit).map(|p| PersonSummary::of(p, engine)).collect();
        let next = (offset + page.len() < found.len()).then(|| (offset + page.len()).to_string());
        json!({ "persons": page, "total": found.len(), "next_cursor": next })
    });
    Ok(Json(body))
}

fn decisions_about<'a>(decisions: &'a [Decision], person: &Person) -> Vec<&'a Decision> {
    let mine = |id: &Option<String>| id.as_ref().is_some_and(|id| person.distinct_ids.contains(id));
    decisions
        .iter()
        .filter(|d| {
            d.project == person.project && (d.person_id == Some(person.id) || mine(&d.source) || mine(&d.target))
        })
        .collect()
}

pub async fn person(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let uuid =
        uuid::Uuid::parse_str(&id).map_err(|_| ApiError::BadRequest(format!("{id:?} is not a person id (a UUID)")))?;
    state.identity.synced(&state.store).await;
    state.identity.read(|model| {
        let engine = model.engine();
        let person = engine.person(uuid).ok_or_else(|| ApiError::NotFound(format!("no person with id {uuid}")))?;
        let mut body = serde_json::to_value(person).map_err(|e| ApiError::Internal(e.to_string()))?;
        let devices: Vec<&str> = model
            .devices(Some(&person.project))
            .into_iter()
            .filter(|lane| lane.segments.iter().any(|s| s.person_id == Some(uuid)))
            .map(|lane| lane.id.as_str())
            .collect();
        body["decisions"] = json!(decisions_about(engine.decisions(), person));
        body["source"] = json!(engine.source(&person.project));
        body["family"] = json!(engine.family(&person.project));
        let kinds: serde_json::Map<String, Value> = person
            .distinct_ids
            .iter()
            .filter_map(|id| engine.id_kind(&person.project, id).map(|k| (id.clone(), json!(k.as_str()))))
            .collect();
        body["id_kinds"] = Value::Object(kinds);
        body["devices"] = json!(devices);
        Ok(Json(body))
    })
}

#[derive(Debug, Deserialize)]
pub struct ProjectQuery {
    project: Option<String>,
    outcome: Option<String>,
    event_uuid: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DevicesQuery {
    project: Option<String>,
    q: Option<String>,
    device_id: Option<String>,
    distinct_id: Option<String>,
    person_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Where the matching lanes lie in client time and in arrival order: the shared axis of the
/// devices view, whichever page of lanes it shows.
#[derive(Serialize)]
struct LaneRange {
    first_seen: chrono::DateTime<chrono::Utc>,
    last_seen: chrono::DateTime<chrono::Utc>,
    first_seq: i64,
    last_seq: i64,
}

fn lanes_range(lanes: &[&DeviceLane]) -> Option<LaneRange> {
    let first = lanes.first()?;
    let start = LaneRange {
        first_seen: first.first_seen,
        last_seen: first.last_seen,
        first_seq: first.first_seq,
        last_seq: first.last_seq,
    };
    Some(lanes.iter().fold(start, |r, l| LaneRange {
        first_seen: r.first_seen.min(l.first_seen),
        last_seen: r.last_seen.max(l.last_seen),
        first_seq: r.first_seq.min(l.first_seq),
        last_seq: r.last_seq.max(l.last_seq),
    }))
}

/// A lane as JSON, each segment with `current_person_id`: the person its distinct id belongs to
/// now (a segment's `person_id` is the one PostHog wrote at the time; later merges move ids).
fn lane_json(model: &identity_engine::Model, lane: &DeviceLane) -> Value {
    let mut value = serde_json::to_value(lane).unwrap_or(Value::Null);
    if let Some(segments) = value.get_mut("segments").and_then(Value::as_array_mut) {
        for (segment, s) in segments.iter_mut().zip(&lane.segments) {
            let now = model.engine().person_for(&lane.project, &s.distinct_id).map(|p| p.id);
            segment["current_person_id"] = json!(now);
        }
    }
    value
}

/// Lanes, most recently active first. Without `limit` every matching lane; with it, a page
/// (`cursor` = the previous page's `next_cursor`), so a view can window 10 000 lanes.
pub async fn devices(
    State(state): State<AppState>,
    Query(q): Query<DevicesQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let sources = SourceFilter::parse(raw.as_deref())?;
    let limit: Option<usize> = parse_number("limit", q.limit.as_deref())?.map(|n: usize| n.clamp(1, MAX_DEVICES));
    let offset: usize = parse_number("cursor", q.cursor.as_deref())?.unwrap_or(0);
    let person = non_empty(q.person_id)
        .map(|id| {
            uuid::Uuid::parse_str(&id)
                .map_err(|_| ApiError::BadRequest(format!("person_id must be a person id (a UUID), not {id:?}")))
        })
        .transpose()?;
    let (project, device_id, distinct_id) = (non_empty(q.project), non_empty(q.device_id), non_empty(q.distinct_id));
    let needle = non_empty(q.q).map(|t| t.to_lowercase());
    state.identity.synced(&state.store).await;
    let body = state.identity.read(|model| {
        let lanes: Vec<&DeviceLane> = model
            .devices(project.as_deref())
            .into_iter()
            .filter(|l| sources.allows(model.engine().source(&l.project)))
            .filter(|l| device_id.as_ref().is_none_or(|d| &l.device_id == d))
            .filter(|l| distinct_id.as_ref().is_none_or(|d| l.segments.iter().any(|s| &s.distinct_id == d)))
            .filter(|l| person.is_none_or(|p| l.segments.iter().any(|s| s.person_id == Some(p))))
            .filter(|l| {
                needle.as_ref().is_none_or(|n| {
                    l.id.to_lowercase().contains(n)
                        || l.user_agent.as_ref().is_some_and(|ua| ua.to_lowercase().contains(n))
                        || l.segments.iter().any(|s| s.distinct_id.to_lowercase().contains(n))
                })
            })
            .collect();
        let start = offset.min(lanes.len());
        let end = limit.map_or(lanes.len(), |n| (start + n).min(lanes.len()));
        let next = (end < lanes.len()).then(|| end.to_string());
        let page: Vec<Value> = lanes[start..end].iter().map(|lane| lane_json(model, lane)).collect();
        json!({ "devices": page, "total": lanes.len(), "next_cursor": next, "range": lanes_range(&lanes) })
    });
    Ok(Json(body))
}

pub async fn device(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    state.identity.synced(&state.store).await;
    state.identity.read(|model| {
        let lane = model.device(&id).ok_or_else(|| ApiError::NotFound(format!("no device lane with id {id:?}")))?;
        Ok(Json(json!({ "device": lane_json(model, lane) })))
    })
}

pub async fn decisions(
    State(state): State<AppState>,
    Query(q): Query<ProjectQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let sources = SourceFilter::parse(raw.as_deref())?;
    const OUTCOMES: &str = "merged, attached, created, refused, ignored, dropped";
    // The outcome names are DecisionKind's serde names; parse once, compare kinds after.
    let outcome: Option<DecisionKind> = non_empty(q.outcome)
        .map(|o| {
            serde_json::from_value(Value::String(o.clone()))
                .map_err(|_| ApiError::BadRequest(format!("outcome must be one of {OUTCOMES}, not {o:?}")))
        })
        .transpose()?;
    state.identity.synced(&state.store).await;
    let (project, event_uuid) = (non_empty(q.project), non_empty(q.event_uuid));
    let body = state.identity.read(|model| {
        let engine = model.engine();
        let list: Vec<Value> = engine
            .decisions()
            .iter()
            .filter(|d| sources.allows(engine.source(&d.project)))
            .filter(|d| project.as_ref().is_none_or(|p| &d.project == p))
            .filter(|d| outcome.is_none_or(|kind| d.kind == kind))
            .filter(|d| event_uuid.as_ref().is_none_or(|u| &d.event_uuid == u))
            .map(|d| {
                // A decision's own `source` is the id merged away (see `Decision`), so the
                // project's source goes under `project_source`.
                let mut item = json!(d);
                item["project_source"] = json!(engine.source(&d.project));
                item["family"] = json!(engine.family(&d.project));
                item
            })
            .collect();
        json!({ "decisions": list })
    });
    Ok(Json(body))
}

pub async fn warnings(
    State(state): State<AppState>,
    Query(q): Query<ProjectQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let sources = SourceFilter::parse(raw.as_deref())?;
    state.identity.synced(&state.store).await;
    let (project, event_uuid) = (non_empty(q.project), non_empty(q.event_uuid));
    Ok(Json(state.identity.read(|model| {
        let engine = model.engine();
        let findings: Vec<Value> = model
            .findings(project.as_deref())
            .into_iter()
            .filter(|f| sources.allows(engine.source(&f.project)))
            .filter(|f| event_uuid.as_ref().is_none_or(|u| f.event_uuids.contains(u)))
            .map(|f| with_source(json!(f), engine, &f.project))
            .collect();
        json!({ "warnings": findings })
    })))
}

/// `item` (a JSON object) with its project's `source` and `family`.
fn with_source(mut item: Value, engine: &identity_engine::Engine, project: &str) -> Value {
    item["source"] = json!(engine.source(project));
    item["family"] = json!(engine.family(project));
    item
}

#[derive(Debug, Deserialize)]
pub struct LensQuery {
    project: Option<String>,
    /// Another project (usually another vendor's) to join with by user id.
    compare: Option<String>,
}

async fn lens_of(state: &AppState, project: String) -> Result<identity_engine::Lens, ApiError> {
    let store = state.store.clone();
    let name = project.clone();
    let events = tokio::task::spawn_blocking(move || crate::identity::project_events(&store, &name))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if events.is_empty() {
        return Err(ApiError::NotFound(format!("no events stored for project {project:?}")));
    }
    Ok(identity_engine::vendor_lens(&project, &events))
}

/// `GET /api/lens?project=[&compare=]`: the project's traffic under PostHog's, Segment's and
/// Mixpanel's identity rules (see `identity_engine::vendor_lens`); with `compare`, also the
/// user ids of both projects side by side (`identity_engine::compare`) under `"compare"`.
pub async fn lens(State(state): State<AppState>, Query(q): Query<LensQuery>) -> Result<Json<Value>, ApiError> {
    let project = non_empty(q.project)
        .ok_or_else(|| ApiError::BadRequest("`project` is required: /api/lens?project=<token or write key>".into()))?;
    let lens = lens_of(&state, project).await?;
    let mut body = serde_json::to_value(&lens).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(other) = non_empty(q.compare) {
        let there = lens_of(&state, other).await?;
        body["compare"] = json!(identity_engine::compare(&lens, &there));
    }
    Ok(Json(body))
}
