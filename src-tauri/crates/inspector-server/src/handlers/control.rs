//! `/api/control`, `/api/data` and `DELETE /api/projects/{key}`: pause capture, retention, the UI's
//! theme, clearing all data or one project's, bringing the window forward. Every call that changes something needs the per-launch token (see `control`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use event_store::Retention;
use serde::Deserialize;

use super::dto::{Cleared, ControlInfo, ControlStatus, ProjectDeleted};
use super::params::{ApiJson, ApiPath, JsonBody};
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

/// How long a project deletion waits for the identity model to drop the project before
/// answering without saying what it dropped.
const FORGET_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// `DELETE /api/projects/{key}`: deletes one project's stored traffic and drops it from the
/// identity model (see [`delete_project`]). A project with nothing stored is a 404.
pub async fn delete(
    State(state): State<AppState>,
    _: Authorized,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<ProjectDeleted>, ApiError> {
    Ok(Json(delete_project(&state, key).await?))
}

/// Deletes one project's stored traffic (`Store::delete_project`: what was committed before the
/// call, in chunks, capture of every project going on) and waits for the identity model to drop
/// the project (`Model::forget_project`), so that a read after the answer shows neither: what
/// `DELETE /api/projects/{key}` and the MCP tool `clear_project` do. Its settings stay.
pub(crate) async fn delete_project(state: &AppState, key: String) -> Result<ProjectDeleted, ApiError> {
    if key.starts_with(event_store::IMPORT_PREFIX) {
        return Err(ApiError::invalid_parameter(
            "key",
            format!("{key:?} is an imported data set's project: data sets are removed whole (DELETE /api/data)"),
        ));
    }
    let store = state.store.clone();
    let name = key.clone();
    // Bulk work whose size the data decides: a thread of its own at low priority, which only
    // queues chunks on the writer (each one a short wait for capture).
    let (deleted, settings) = crate::background::run("deleting a project", move || {
        let deleted = store.delete_project(&name)?;
        Ok::<_, event_store::StoreError>((deleted, store.project_settings_of(&name)?))
    })
    .await??;
    if deleted.removed.is_empty() {
        return Err(ApiError::NotFoundParameter {
            parameter: "key",
            message: format!("no traffic is stored for project {key:?} (GET /api/projects lists them)"),
        });
    }
    let identity = state.identity.forgotten(deleted.cut.id, FORGET_WAIT).await;
    Ok(ProjectDeleted { project: key, removed: deleted.removed, identity, settings_kept: settings.is_some() })
}

/// Asks the desktop window to come forward (what a second launch on the same data dir does).
pub async fn show(State(state): State<AppState>, _: Authorized) -> Result<StatusCode, ApiError> {
    state.control.request_show();
    Ok(StatusCode::NO_CONTENT)
}
