//! `/api/persons`, `/api/devices`, `/api/decisions`, `/api/warnings`: the identity model as JSON.
//! Every handler first waits for the model to include all committed events (`Identity::synced`).

use axum::extract::{Path, Query, State};
use axum::Json;
use identity_engine::{Decision, DecisionKind, Person};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::{non_empty, parse_number};
use crate::error::ApiError;
use crate::AppState;

const DEFAULT_PERSONS: usize = 500;
const MAX_PERSONS: usize = 5_000;

/// The list shape: what a person is, without its history.
#[derive(Serialize)]
struct PersonSummary<'a> {
    id: uuid::Uuid,
    project: &'a str,
    distinct_ids: &'a [String],
    is_identified: bool,
    properties: &'a serde_json::Map<String, Value>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> From<&'a Person> for PersonSummary<'a> {
    fn from(p: &'a Person) -> Self {
        PersonSummary {
            id: p.id,
            project: &p.project,
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
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn persons(State(state): State<AppState>, Query(q): Query<PersonsQuery>) -> Result<Json<Value>, ApiError> {
    state.identity.synced(&state.store).await;
    let limit = parse_number("limit", q.limit.as_deref())?.unwrap_or(DEFAULT_PERSONS).clamp(1, MAX_PERSONS);
    let offset = parse_number("cursor", q.cursor.as_deref())?.unwrap_or(0);
    let (project, distinct_id) = (non_empty(q.project), non_empty(q.distinct_id));
    let body = state.identity.read(|model| {
        let engine = model.engine();
        let projects: Vec<&str> = match &project {
            Some(p) => vec![p.as_str()],
            None => engine.projects(),
        };
        let found: Vec<&Person> = match &distinct_id {
            Some(id) => projects.iter().filter_map(|p| engine.person_for(p, id)).collect(),
            None => projects.iter().flat_map(|p| engine.persons(p)).collect(),
        };
        let page: Vec<PersonSummary> = found.iter().skip(offset).take(limit).map(|p| (*p).into()).collect();
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
    let uuid = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::BadRequest(format!("{id:?} is not a person id (a UUID)")))?;
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
        body["devices"] = json!(devices);
        Ok(Json(body))
    })
}

#[derive(Debug, Deserialize)]
pub struct ProjectQuery {
    project: Option<String>,
    outcome: Option<String>,
}

pub async fn devices(State(state): State<AppState>, Query(q): Query<ProjectQuery>) -> Result<Json<Value>, ApiError> {
    state.identity.synced(&state.store).await;
    let project = non_empty(q.project);
    Ok(Json(state.identity.read(|model| json!({ "devices": model.devices(project.as_deref()) }))))
}

pub async fn device(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    state.identity.synced(&state.store).await;
    state.identity.read(|model| {
        let lane = model.device(&id).ok_or_else(|| ApiError::NotFound(format!("no device lane with id {id:?}")))?;
        Ok(Json(json!({ "device": lane })))
    })
}

pub async fn decisions(State(state): State<AppState>, Query(q): Query<ProjectQuery>) -> Result<Json<Value>, ApiError> {
    const OUTCOMES: &str = "merged, attached, created, refused, ignored, dropped";
    // The outcome names are DecisionKind's serde names; parse once, compare kinds after.
    let outcome: Option<DecisionKind> = non_empty(q.outcome)
        .map(|o| {
            serde_json::from_value(Value::String(o.clone()))
                .map_err(|_| ApiError::BadRequest(format!("outcome must be one of {OUTCOMES}, not {o:?}")))
        })
        .transpose()?;
    state.identity.synced(&state.store).await;
    let project = non_empty(q.project);
    let body = state.identity.read(|model| {
        let list: Vec<&Decision> = model
            .engine()
            .decisions()
            .iter()
            .filter(|d| project.as_ref().is_none_or(|p| &d.project == p))
            .filter(|d| outcome.is_none_or(|kind| d.kind == kind))
            .collect();
        json!({ "decisions": list })
    });
    Ok(Json(body))
}

pub async fn warnings(State(state): State<AppState>, Query(q): Query<ProjectQuery>) -> Result<Json<Value>, ApiError> {
    state.identity.synced(&state.store).await;
    let project = non_empty(q.project);
    Ok(Json(state.identity.read(|model| json!({ "warnings": model.findings(project.as_deref()) }))))
}
