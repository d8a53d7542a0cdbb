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
use serde_json::Value;

use super::dto::{NavigateQueued, ProbeLatest, ProbeReply};
use super::params::{ApiJson, JsonBody};
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
    ApiJson(Report(report)): ApiJson<Report>,
) -> Result<Json<ProbeReply>, ApiError> {
    let probe = probe(&state)?;
    state.control.check_token(&headers)?;
    *probe.report.lock().unwrap_or_else(|p| p.into_inner()) = Some(report);
    probe.reports.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let navigate = probe.navigate.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok(Json(ProbeReply { navigate }))
}

pub async fn latest(State(state): State<AppState>) -> Result<Json<ProbeLatest>, ApiError> {
    let probe = probe(&state)?;
    let report = probe.report.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok(Json(ProbeLatest { report, reports: probe.reports.load(std::sync::atomic::Ordering::Relaxed) }))
}

/// What the page reports: any JSON (title, route, visible text...).
#[derive(Deserialize)]
pub struct Report(Value);

impl JsonBody for Report {
    const EXPECTED: &'static str = "a JSON report";
}

#[derive(Deserialize)]
pub struct Navigate {
    hash: String,
}

impl JsonBody for Navigate {
    const EXPECTED: &'static str = r##"{"hash": "#/..."}"##;
}

pub async fn navigate(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(to): ApiJson<Navigate>,
) -> Result<Json<NavigateQueued>, ApiError> {
    let probe = probe(&state)?;
    state.control.check_token(&headers)?;
    if !to.hash.starts_with('#') {
        return Err(ApiError::InvalidBody("hash must start with #".into()));
    }
    *probe.navigate.lock().unwrap_or_else(|p| p.into_inner()) = Some(to.hash);
    Ok(Json(NavigateQueued { queued: true }))
}
