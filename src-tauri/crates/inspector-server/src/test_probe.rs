//! Test-only readiness and content signal for the desktop smoke test (off unless the server was
//! started with it, e.g. `identity-inspector --test-probe`; the routes answer 404 otherwise).
//!
//! A script the desktop shell injects into its window posts what the page shows (title, route,
//! whether the UI rendered, its visible text) to `POST /api/test/probe` a few times a second;
//! the test reads the latest report from `GET /api/test/probe`, and can make the page go to
//! another view with `POST /api/test/navigate` (handed to the page in the reply to its next post).

use std::sync::Mutex;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::AppState;

#[derive(Default)]
pub struct Probe {
    report: Mutex<Option<Value>>,
    reports: std::sync::atomic::AtomicU64,
    navigate: Mutex<Option<String>>,
}

fn probe(state: &AppState) -> Result<&Probe, ApiError> {
    state.control.probe().ok_or_else(|| ApiError::NotFound("the test probe is off (start with --test-probe)".into()))
}

/// The page's report; answers with a pending navigation, if any.
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(report): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let probe = probe(&state)?;
    state.control.check_token(&headers)?;
    *probe.report.lock().unwrap_or_else(|p| p.into_inner()) = Some(report);
    probe.reports.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let navigate = probe.navigate.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok(Json(json!({ "navigate": navigate })))
}

pub async fn latest(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let probe = probe(&state)?;
    let report = probe.report.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(Json(json!({ "report": report, "reports": probe.reports.load(std::sync::atomic::Ordering::Relaxed) })))
}

#[derive(Deserialize)]
pub struct Navigate {
    hash: String,
}

pub async fn navigate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(to): Json<Navigate>,
) -> Result<Json<Value>, ApiError> {
    let probe = probe(&state)?;
    state.control.check_token(&headers)?;
    if !to.hash.starts_with('#') {
        return Err(ApiError::BadRequest("hash must start with #".into()));
    }
    *probe.navigate.lock().unwrap_or_else(|p| p.into_inner()) = Some(to.hash);
    Ok(Json(json!({ "queued": true })))
}
