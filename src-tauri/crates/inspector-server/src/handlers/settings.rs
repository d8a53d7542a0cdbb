//! `/api/projects/{key}/settings` and `/api/projects/settings`: per-project identity settings,
//! what a project's traffic cannot tell (Mixpanel's ID merge mode, Segment's blocked values and
//! identifier limits; `identity_engine::ProjectSettings`).
//!
//! Invariants:
//! - A key may be configured before its first event: nothing here requires the project to exist.
//! - `PUT` takes a partial body: a field left out keeps its current value; an unknown field or
//!   a bad value is a 400 `invalid_body` naming the field, and nothing is stored.
//! - A `PUT` that changes nothing on a configured project writes nothing (no replay).
//! - A stored change is announced (`Change::Settings`) and makes the identity feeder replay the
//!   model under the new settings on its own thread (`Identity::restart_if_stale`), never on an
//!   async worker; the answer is sent once the write is committed.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use identity_engine::{Family, MixpanelIdMerge, ProjectSettings};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::dto::{FamilyLabel, ProjectSettingsPage, ProjectSettingsResponse};
use super::params::ApiPath;
use crate::control::Authorized;
use crate::error::ApiError;
use crate::AppState;

/// Every family a label may exist for, in the order the UI lists them.
const FAMILIES: [Family; 5] =
    [Family::PostHog, Family::Segment, Family::RudderStack, Family::Mixpanel, Family::KissMetrics];

/// The label of each family a setting applies to ("Mixpanel, Original ID Merge").
pub fn labels(settings: &ProjectSettings) -> Vec<FamilyLabel> {
    FAMILIES
        .iter()
        .filter_map(|&family| settings.label_for(family).map(|label| FamilyLabel { family, label }))
        .collect()
}

fn response(project: String, settings: ProjectSettings, configured: bool) -> ProjectSettingsResponse {
    let labels = labels(&settings);
    ProjectSettingsResponse { project, settings, configured, labels }
}

/// The stored settings of `project`, or the defaults; `(settings, configured)`.
async fn stored(state: &AppState, project: &str) -> Result<(ProjectSettings, bool), ApiError> {
    let store = state.store.clone();
    let key = project.to_owned();
    let row = tokio::task::spawn_blocking(move || store.project_settings_of(&key))
        .await
        .map_err(|e| ApiError::Internal(format!("settings read failed: {e}")))??;
    match row {
        None => Ok((ProjectSettings::default(), false)),
        Some(row) => serde_json::from_str(&row.settings)
            .map(|s| (s, true))
            .map_err(|e| ApiError::Internal(format!("the stored settings of {project:?} do not parse: {e}"))),
    }
}

/// `GET /api/projects/{key}/settings`: the stored settings, or the defaults when never set.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<ProjectSettingsResponse>, ApiError> {
    let (settings, configured) = stored(&state, &project).await?;
    Ok(Json(response(project, settings, configured)))
}

/// `GET /api/projects/settings`: every configured project, by key.
pub async fn list(State(state): State<AppState>) -> Result<Json<ProjectSettingsPage>, ApiError> {
    let store = state.store.clone();
    let stored = tokio::task::spawn_blocking(move || ingest::stored_settings(&store))
        .await
        .map_err(|e| ApiError::Internal(format!("settings read failed: {e}")))??;
    let projects = stored.into_iter().map(|(project, settings)| response(project, settings, true)).collect();
    Ok(Json(ProjectSettingsPage { projects }))
}

/// `PUT /api/projects/{key}/settings` with a (partial) JSON object of `ProjectSettings` fields
/// and the control token. Answers the settings now stored.
pub async fn put(
    State(state): State<AppState>,
    _: Authorized,
    ApiPath(project): ApiPath<String>,
    body: Bytes,
) -> Result<Json<ProjectSettingsResponse>, ApiError> {
    if project.is_empty() {
        return Err(ApiError::invalid_parameter("key", "the project key is empty"));
    }
    let (current, configured) = stored(&state, &project).await?;
    let settings = patched(current.clone(), &body)?;
    if configured && settings == current {
        // Nothing changes: no write, so no replay of the model.
        return Ok(Json(response(project, settings, true)));
    }
    let text = serde_json::to_string(&settings).map_err(|e| ApiError::Internal(format!("settings: {e}")))?;
    let store = state.store.clone();
    let key = project.clone();
    tokio::task::spawn_blocking(move || store.set_project_settings(&key, &text))
        .await
        .map_err(|e| ApiError::Internal(format!("settings write failed: {e}")))??;
    Ok(Json(response(project, settings, true)))
}

const EXPECTED: &str = r#"{"mixpanel_id_merge": "simplified"|"original", "segment_blocked_values": true|false, "segment_identifier_limits": {"<identifier>": n}}"#;

/// `current` with the fields `body` names replaced; an error names the first field at fault.
fn patched(mut current: ProjectSettings, body: &[u8]) -> Result<ProjectSettings, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::InvalidBody(format!("the body is not JSON ({e}); expected {EXPECTED}")))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::InvalidBody(format!("expected a JSON object: {EXPECTED}")));
    };
    for (name, value) in fields {
        match name.as_str() {
            "mixpanel_id_merge" => current.mixpanel_id_merge = field::<MixpanelIdMerge>(&name, value, r#""simplified" or "original""#)?,
            "segment_blocked_values" => current.segment_blocked_values = field(&name, value, "true or false")?,
            "segment_identifier_limits" => {
                let limits: std::collections::BTreeMap<String, u32> =
                    field(&name, value, "an object of identifier names to whole numbers from 1")?;
                if let Some((identifier, _)) = limits.iter().find(|(id, n)| id.trim().is_empty() || **n == 0) {
                    return Err(ApiError::InvalidBody(format!(
                        "`segment_identifier_limits`: {identifier:?} needs a name and a limit of at least 1"
                    )));
                }
                current.segment_identifier_limits = limits;
            }
            other => {
                return Err(ApiError::InvalidBody(format!(
                    "unknown field `{other}`; the settings are `mixpanel_id_merge`, `segment_blocked_values` and `segment_identifier_limits`"
                )))
            }
        }
    }
    Ok(current)
}

fn field<T: DeserializeOwned>(name: &str, value: Value, expected: &str) -> Result<T, ApiError> {
    let shown = value.to_string();
    serde_json::from_value(value)
        .map_err(|_| ApiError::InvalidBody(format!("`{name}` must be {expected}, not {shown}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_body_keeps_the_other_fields_and_bad_ones_name_the_field() {
        let current = ProjectSettings { segment_blocked_values: true, ..ProjectSettings::default() };
        let s = patched(current.clone(), br#"{"mixpanel_id_merge":"original"}"#).unwrap();
        assert_eq!(s.mixpanel_id_merge, MixpanelIdMerge::Original);
        assert!(s.segment_blocked_values, "a field left out keeps its value");
        let bad = patched(current.clone(), br#"{"mixpanel_id_merge":"guess"}"#).unwrap_err().to_string();
        assert!(bad.contains("`mixpanel_id_merge`") && bad.contains("guess"), "{bad}");
        let unknown = patched(current.clone(), br#"{"mixpanel_mode":"original"}"#).unwrap_err().to_string();
        assert!(unknown.contains("`mixpanel_mode`"), "{unknown}");
        let zero = patched(current, br#"{"segment_identifier_limits":{"email":0}}"#).unwrap_err().to_string();
        assert!(zero.contains("segment_identifier_limits"), "{zero}");
    }
}
