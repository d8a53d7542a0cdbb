//! Stored events read back as the identity model's input, in arrival order. The server's
//! feeder, the vendor lens, the CLI and the export tests all read the store through here, so
//! they build the same model from the same rows.
//!
//! Invariants:
//! - Events come out in `seq` order and every source's events are included: the model picks
//!   each project's rules from its source.
//! - Only the properties the model reads are parsed (`identity_engine::model_properties`).
//! - Every model is started by `empty_model`, with the stored project settings: a project's
//!   persons depend on its settings as much as on its events.

use chrono::DateTime;
use event_store::{ArrivedEvent, ArrivedRow, Store, StoreError};
use identity_engine::{EventInput, Model, ProjectSettings, Undelivered};

/// Events read from the store per step. A rebuild holds about three steps at once (one applied,
/// one queued, one being read): 1 000 rather than 5 000 keeps ~12 MB fewer decoded events
/// alive in a 1 000 000-event rebuild and the step being applied closer in cache, for one more
/// SQLite query per 1 000 events.
pub const STEP: u32 = 1_000;

/// The most undelivered events handed to the model: faults are set up on purpose, so far fewer
/// than this are ever lost; beyond it the oldest are reported.
pub const UNDELIVERED_LIMIT: u32 = 10_000;

/// The events never delivered (only ever sent in requests a fault rule answered), as the
/// model's [`Model::set_undelivered`] takes them.
pub fn undelivered(store: &Store) -> Result<Vec<Undelivered>, StoreError> {
    Ok(store
        .undelivered(UNDELIVERED_LIMIT)?
        .into_iter()
        .map(|u| Undelivered { event: to_input(u.event), attempts: u.attempts })
        .collect())
}

/// A stored event as the identity model takes it.
pub fn to_input(ev: ArrivedEvent) -> EventInput {
    row_to_input(ev.as_row())
}

/// The same, straight from a row borrowed from SQLite (no copy of the properties text).
fn row_to_input(row: ArrivedRow<'_>) -> EventInput {
    let mut properties = identity_engine::model_properties(row.properties);
    // Mixpanel honours `$merge` only on `/import`: the engine learns the route from the
    // request, never from the stored event (the store reads the path for Mixpanel only).
    if let Some(path) = row.request_path.filter(|_| row.source == "mixpanel") {
        properties.insert(identity_engine::INSPECTOR_ROUTE.to_owned(), path.into());
    }
    EventInput {
        seq: row.seq,
        uuid: row.uuid.to_owned(),
        project: row.project.to_owned(),
        source: row.source.to_owned(),
        event: row.event.to_owned(),
        distinct_id: row.distinct_id.to_owned(),
        timestamp: DateTime::from_timestamp_micros(row.timestamp).unwrap_or_default(),
        properties,
    }
}

/// One step of stored events, decoded for the model.
pub struct Decoded {
    /// Every source's events: the model picks each project's rules from its source.
    pub inputs: Vec<EventInput>,
    /// The last seq read (whatever its source), where the next step starts.
    pub last: i64,
    /// The read returned a whole `STEP`: more may follow.
    pub full: bool,
    /// Data sets whose import was incomplete at the read: their events up to `last` were left
    /// out (a reader that applied them in seq order rebuilds once the import completed).
    pub pending: Vec<String>,
}

impl Decoded {
    /// The next step after `after`, `None` when nothing is stored after it. Rows are decoded
    /// straight from SQLite's buffers (`scan_events_after`).
    pub fn read(store: &Store, after: i64) -> Result<Option<Decoded>, StoreError> {
        let scanned = store.scan_events_after(after, STEP, |row| Some(row_to_input(row)))?;
        Ok(scanned.last_seq.map(|last| Decoded {
            inputs: scanned.items,
            last,
            full: scanned.rows == STEP as usize,
            pending: scanned.pending,
        }))
    }
}

/// Every stored event of one project, in arrival order, decoded for the model (the vendor
/// lens's input). Reads the whole store in steps; fine for a local debugging session.
pub fn project_events(store: &Store, project: &str) -> Result<Vec<EventInput>, StoreError> {
    let (mut out, mut after) = (Vec::new(), 0);
    loop {
        let scanned =
            store.scan_events_after(after, STEP, |row| (row.project == project).then(|| row_to_input(row)))?;
        out.extend(scanned.items);
        match scanned.last_seq {
            Some(last) if scanned.rows == STEP as usize => after = last,
            _ => return Ok(out),
        }
    }
}

/// The identity model of everything in `store`, rebuilt in arrival order from the same decoded
/// steps the server's feeder reads, under each project's stored settings, with the events that
/// were never delivered ([`undelivered`]). For the CLI and tests, which have no running server.
pub fn rebuild_model(store: &Store) -> Result<Model, StoreError> {
    let mut model = empty_model(store)?;
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
    model.set_undelivered(&undelivered(store)?);
    model.take_changes();
    Ok(model)
}

/// Every configured project's identity settings, parsed. A stored value that no longer parses
/// (written by another version) is logged and left out, so that project gets the vendors'
/// defaults rather than stopping the model.
pub fn stored_settings(store: &Store) -> Result<Vec<(String, ProjectSettings)>, StoreError> {
    let mut out = Vec::new();
    for row in store.project_settings()? {
        match serde_json::from_str::<ProjectSettings>(&row.settings) {
            Ok(settings) => out.push((row.project, settings)),
            Err(e) => tracing::warn!(project = %row.project, "stored project settings ignored: {e}"),
        }
    }
    Ok(out)
}

/// An empty identity model that applies each project's stored settings: the one way to start a
/// model that stored events will be fed to (server start, rebuilds, the CLI).
pub fn empty_model(store: &Store) -> Result<Model, StoreError> {
    let settings = stored_settings(store)?;
    Ok(Model::with_settings(settings.iter().map(|(project, s)| (project.as_str(), s.clone()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity_engine::INSPECTOR_ROUTE;

    fn arrived(source: &str, properties: &str, request_path: Option<&str>) -> ArrivedEvent {
        ArrivedEvent {
            seq: 1,
            uuid: "e1".into(),
            project: "mpt".into(),
            source: source.into(),
            event: "$merge".into(),
            distinct_id: "u1".into(),
            timestamp: 0,
            properties: properties.into(),
            request_path: request_path.map(str::to_owned),
        }
    }

    #[test]
    fn a_mixpanel_event_carries_its_request_path_as_the_inspector_route() {
        let input = to_input(arrived("mixpanel", r#"{"$distinct_ids":["u1","u2"]}"#, Some("/import")));
        assert_eq!(input.properties.get(INSPECTOR_ROUTE), Some(&"/import".into()));
    }

    #[test]
    fn the_route_is_never_read_from_the_stored_properties_nor_added_for_other_sources() {
        let spoofed = r#"{"$inspector_route":"/import"}"#;
        assert_eq!(to_input(arrived("mixpanel", spoofed, None)).properties.get(INSPECTOR_ROUTE), None);
        assert_eq!(to_input(arrived("posthog", "{}", Some("/import"))).properties.get(INSPECTOR_ROUTE), None);
    }
}
