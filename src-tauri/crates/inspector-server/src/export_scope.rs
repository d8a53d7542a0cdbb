//! Resolving export scopes that need the identity model: a person (all its distinct ids) and a
//! device lane (its `$device_id`, or the distinct ids of an anonymous-id chain).

use event_store::{Store, StoreError};
use identity_engine::Model;

use crate::identity::Decoded;

/// The identity model of everything in `store`, rebuilt in arrival order from the same decoded
/// steps the server's feeder reads (PostHog events only). For the CLI, which has no running
/// server.
pub fn rebuild_model(store: &Store) -> Result<Model, StoreError> {
    let mut model = Model::new();
    let mut after = 0;
    while let Some(step) = Decoded::read(store, after)? {
        for input in &step.inputs {
            if let Err(e) = model.push(input) {
                tracing::warn!("identity model refused an event while rebuilding: {e}");
            }
        }
        model.take_changes();
        after = step.last;
        if !step.full {
            break;
        }
    }
    Ok(model)
}

/// The distinct ids of a person, named by its id (uuid) or by any of its distinct ids
/// (within `project` when given).
pub fn person_distinct_ids(model: &Model, project: Option<&str>, person: &str) -> Result<Vec<String>, String> {
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
        [] => Err(format!("no person with id or distinct id {person:?}")),
        _ => Err(format!("distinct id {person:?} names persons in several projects; add a project")),
    }
}

/// A device scope: `Ok(Some(device_id))` for a `$device_id` (or a lane id keyed by one), or
/// `Ok(None)` plus distinct ids for a lane keyed by an anonymous-id chain (server SDKs).
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
