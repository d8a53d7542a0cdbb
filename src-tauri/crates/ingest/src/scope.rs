//! Resolving export scopes that need the identity model: a person (all its distinct ids) and a
//! device lane (its `$device_id`, or the distinct ids of an anonymous-id chain).

use identity_engine::Model;

/// Why a person named in an export scope could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("no person with id or distinct id {0:?}")]
    NoPerson(String),
    #[error("distinct id {0:?} names persons in several projects; add a project")]
    PersonInSeveralProjects(String),
}

/// The distinct ids of a person, named by its id (uuid) or by any of its distinct ids
/// (within `project` when given).
pub fn person_distinct_ids(model: &Model, project: Option<&str>, person: &str) -> Result<Vec<String>, ScopeError> {
    let engine = model.engine();
    if let Ok(id) = person.parse::<uuid::Uuid>() {
        if let Some(p) = engine.person(id) {
            return Ok(p.distinct_ids.clone());
        }
    }
    let projects: Vec<&str> = match project {
        Some(p) => vec![p],
        None => engine.projects(),
    };
    let found: Vec<_> = projects.iter().filter_map(|p| engine.person_for(p, person)).collect();
    match found.as_slice() {
        [one] => Ok(one.distinct_ids.clone()),
        [] => Err(ScopeError::NoPerson(person.to_owned())),
        _ => Err(ScopeError::PersonInSeveralProjects(person.to_owned())),
    }
}

/// A device scope: `(Some(device_id), [])` for a `$device_id` (or a lane id keyed by one), or
/// `(None, distinct ids)` for a lane keyed by an anonymous-id chain (server SDKs).
pub fn device_scope(model: &Model, device: &str) -> (Option<String>, Vec<String>) {
    match model.device(device) {
        Some(lane) if lane.key_kind == identity_engine::LaneKey::DeviceId => (Some(lane.device_id.clone()), Vec::new()),
        Some(lane) => {
            let mut ids: Vec<String> = lane.segments.iter().map(|s| s.distinct_id.clone()).collect();
            ids.sort();
            ids.dedup();
            (None, ids)
        }
        None => (Some(device.to_owned()), Vec::new()),
    }
}
