//! `/api/control` and `/api/data`: pause capture, retention, the UI's theme, clearing data, bringing the window
//! forward. Every call that changes something needs the per-launch token (see `control`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use event_store::Retention;
use serde::Deserialize;

use super::dto::{Cleared, ControlInfo, ControlStatus};
use super::params::{ApiJson, JsonBody};
use crate::control::Authorized;
use crate::error::ApiError;
use crate::AppState;

fn status(state: &AppState) -> ControlStatus {
    let control = &state.control;
    ControlStatus {
        capture: control.capture_status(),
        retention: control.retention(),
        theme: control.theme(),
        notices: control.notices(),
        test_probe: control.probe().is_some(),
    }
}

/// The current state and the token for state-changing calls. Same-origin pages only: `/api` has
/// no CORS headers and checks `Host`.
pub async fn get(State(state): State<AppState>) -> Json<ControlInfo> {
    Json(ControlInfo { status: status(&state), token: state.control.token().to_owned() })
}

pub async fn pause(State(state): State<AppState>, _: Authorized) -> Result<Json<ControlStatus>, ApiError> {
    state.control.set_paused(true);
    Ok(Json(status(&state)))
}

pub async fn resume(State(state): State<AppState>, _: Authorized) -> Result<Json<ControlStatus>, ApiError> {
    state.control.set_paused(false);
    Ok(Json(status(&state)))
}

impl JsonBody for Retention {
    const EXPECTED: &'static str = r#"{"max_events": n|null, "max_age_days": n|null}"#;
}

/// `{"max_events": N|null, "max_age_days": N|null}`; applied at once, then every few minutes.
pub async fn set_retention(
    State(state): State<AppState>,
    _: Authorized,
    ApiJson(policy): ApiJson<Retention>,
) -> Result<Json<ControlStatus>, ApiError> {
    if policy.max_events == Some(0) || policy.max_age_days == Some(0) {
        return Err(ApiError::InvalidBody(
            "a retention limit of 0 would keep nothing; use DELETE /api/data to clear".into(),
        ));
    }
    state.control.set_retention(policy);
    Ok(Json(status(&state)))
}

/// The body of `PUT /api/control/theme`.
#[derive(Debug, Deserialize)]
pub struct ThemeBody {
    theme: crate::UiTheme,
}

impl JsonBody for ThemeBody {
    const EXPECTED: &'static str = r#"{"theme": "light"|"dark"|"system"}"#;
}

/// `{"theme": "light"|"dark"|"system"}`: the page's theme toggle. The app saves it in its
/// settings file, and the page starts in it next time (see `ui::index`).
pub async fn set_theme(
    State(state): State<AppState>,
    _: Authorized,
    ApiJson(ThemeBody { theme }): ApiJson<ThemeBody>,
) -> Result<Json<ControlStatus>, ApiError> {
    state.control.set_theme(theme);
    Ok(Json(status(&state)))
}

/// Deletes every request, event and imported data set; the identity model is rebuilt (empty).
pub async fn clear_data(State(state): State<AppState>, _: Authorized) -> Result<Json<Cleared>, ApiError> {
    let store = state.store.clone();
    let removed = tokio::task::spawn_blocking(move || store.clear_all())
        .await
        .map_err(|e| ApiError::Internal(format!("clear task failed: {e}")))??;
    Ok(Json(Cleared { removed }))
}

/// Asks the desktop window to come forward (what a second launch on the same data dir does).
pub async fn show(State(state): State<AppState>, _: Authorized) -> Result<StatusCode, ApiError> {
    state.control.request_show();
    Ok(StatusCode::NO_CONTENT)
}
