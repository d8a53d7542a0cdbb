//! `/api/faults`: the fault rules capture answers by (listing is open; adding, removing and
//! clearing need the control token, like every call that changes what capture does), and
//! `/api/deliveries`: what became of each event uuid a fault touched. The work is in
//! `crate::faults` and `event_store::Delivery`; this is the HTTP side.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use event_store::{DeliveryFilter, DeliveryState};
use fault_rules::{FaultError, FaultSpec};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::dto::{DeliveriesPage, FaultResponse, FaultsCleared, FaultsPage};
use super::params::{empty_as_none, whole_number, ApiPath, ApiQuery};
use crate::control::Authorized;
use crate::error::ApiError;
use crate::AppState;

/// What `POST /api/faults` takes, for error messages.
const EXPECTED: &str = "a fault rule: a JSON object such as {\"source\": \"posthog\", \"status\": 503, \"count\": 3} \
    (keys: source, route, project, status, retry_after, delay_ms, drop, v1_retry, count, share), or the text syntax \
    as {\"rule\": \"posthog:503:count=3\"}";

pub(crate) fn refused(e: FaultError) -> ApiError {
    match e {
        FaultError::NoSuchRule(_) => ApiError::NotFound(e.to_string()),
        other => ApiError::InvalidBody(other.to_string()),
    }
}

/// The spec a `POST /api/faults` body asks for: the keys of [`FaultSpec`], or the text syntax as
/// `{"rule": "..."}` (or a JSON string).
fn spec_of(body: &[u8]) -> Result<FaultSpec, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidBody(format!("the body is empty; send {EXPECTED}")));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::InvalidBody(format!("expected {EXPECTED}: {e}")))?;
    let text = match &value {
        Value::String(text) => Some(text.as_str()),
        Value::Object(map) if map.len() == 1 => map.get("rule").and_then(Value::as_str),
        _ => None,
    };
    match text {
        Some(text) => fault_rules::syntax::parse(text).map_err(refused),
        None => serde_json::from_value(value).map_err(|e| ApiError::InvalidBody(format!("{e}; expected {EXPECTED}"))),
    }
}

/// `GET /api/faults`.
pub async fn list(State(state): State<AppState>) -> Json<FaultsPage> {
    Json(crate::faults::list(&state.faults))
}

/// `POST /api/faults`: puts a rule in force (201 with the rule), or says why it cannot be.
pub async fn add(
    State(state): State<AppState>,
    _: Authorized,
    body: Bytes,
) -> Result<(StatusCode, Json<FaultResponse>), ApiError> {
    let rule = crate::faults::add(&state.faults, spec_of(&body)?).map_err(refused)?;
    Ok((StatusCode::CREATED, Json(FaultResponse { rule })))
}

/// `DELETE /api/faults/{id}`: removes one rule, in force or expired.
pub async fn remove(
    State(state): State<AppState>,
    _: Authorized,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<FaultResponse>, ApiError> {
    let rule = crate::faults::remove(&state.faults, id).map_err(refused)?;
    Ok(Json(FaultResponse { rule }))
}

/// `DELETE /api/faults`: removes every rule.
pub async fn clear(State(state): State<AppState>, _: Authorized) -> Json<FaultsCleared> {
    Json(FaultsCleared { removed: crate::faults::clear(&state.faults) })
}

/// `GET /api/deliveries` parameters.
#[derive(Debug, Deserialize)]
pub struct DeliveriesQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    project: Option<String>,
    /// `lost`, `delivered`, `duplicated` or `unmatched`.
    #[serde(default, deserialize_with = "delivery_state")]
    state: Option<DeliveryState>,
    #[serde(default, deserialize_with = "whole_number")]
    limit: Option<u32>,
    /// The previous page's `next_cursor`.
    #[serde(default, deserialize_with = "whole_number")]
    cursor: Option<i64>,
}

fn delivery_state<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DeliveryState>, D::Error> {
    let Some(text) = empty_as_none(d)? else { return Ok(None) };
    DeliveryState::parse(&text).map(Some).ok_or_else(|| {
        D::Error::custom(format!("must be `lost`, `delivered`, `duplicated` or `unmatched`, not {text:?}"))
    })
}

/// `GET /api/deliveries`: every event uuid a fault touched, with each copy the SDK sent.
pub async fn deliveries(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<DeliveriesPage>, ApiError> {
    let filter = DeliveryFilter { project: q.project, state: q.state, before: q.cursor, limit: q.limit.unwrap_or(100) };
    let store = state.store.clone();
    let page = crate::background::run_interactive("the deliveries", move || store.deliveries(&filter)).await??;
    Ok(Json(DeliveriesPage { deliveries: page.items, next_cursor: page.next_cursor }))
}
