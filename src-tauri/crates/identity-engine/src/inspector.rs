//! `Model`: the engine, the device lanes and the lint findings kept together, fed one event at
//! a time in arrival order. This is what the server calls.
//!
//! Invariant: `Model` state depends only on the sequence of events applied (queries are pure),
//! so a model built from a stream equals one rebuilt from the same stream (tested).

use std::borrow::Cow;

use serde::Serialize;
use uuid::Uuid;

use crate::devices::{DeviceLane, Devices};
use crate::engine::Engine;
use crate::lint::rules::Ctx;
use crate::lint::{Finding, Lint};
use crate::model::{Attribution, DecisionKind, EngineError, EventInput};

#[derive(Debug, Clone, Default)]
pub struct Model {
    engine: Engine,
    devices: Devices,
    lint: Lint,
}

/// What one event changed, so the server can refresh only those.
#[derive(Debug, Clone, Serialize)]
pub struct ModelChanges {
    /// Persons the event touched: its person, persons of its decisions, and persons a merge
    /// deleted (look them up with `Engine::person`; deleted ones are gone).
    pub persons: Vec<Uuid>,
    /// Lane ids changed (the event's lane first, then lanes linked by reset(true) inference).
    pub devices: Vec<String>,
    /// Findings created by this event (existing findings it updated are not counted).
    pub new_findings: usize,
}

impl Model {
    pub fn new() -> Model {
        Model::default()
    }

    /// Events strictly in arrival (seq) order; an out-of-order event is rejected with
    /// `EngineError::OutOfOrder` and changes nothing.
    pub fn apply(&mut self, ev: &EventInput) -> Result<ModelChanges, EngineError> {
        let applied = self.engine.apply(ev)?;
        let update = self.devices.apply(ev, &applied, &self.engine);
        let ctx = Ctx { ev, applied: &applied, update: &update, devices: &self.devices };
        let new_findings = self.lint.apply(&ctx);

        let mut persons: Vec<Uuid> = Vec::new();
        let mut add = |id: Uuid| {
            if !persons.contains(&id) {
                persons.push(id);
            }
        };
        if let Attribution::Person(id) = applied.attribution {
            add(id);
        }
        for d in &applied.decisions {
            if let Some(id) = d.person_id {
                add(id);
                if d.kind == DecisionKind::Merged {
                    let merged = self.engine.person(id).map(|p| p.merged_from.as_slice()).unwrap_or_default();
                    merged.iter().filter(|m| m.by.seq == ev.seq).for_each(|m| add(m.id));
                }
            }
        }
        Ok(ModelChanges { persons, devices: update.changed, new_findings })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Lanes of one project (all projects with `None`), most recently active (arrival) first.
    pub fn devices(&self, project: Option<&str>) -> Vec<&DeviceLane> {
        let mut lanes: Vec<&DeviceLane> = self
            .devices
            .lanes
            .iter()
            .map(|l| &l.lane)
            .filter(|l| project.is_none_or(|p| l.project == p))
            .collect();
        lanes.sort_by(|a, b| b.last_seq.cmp(&a.last_seq).then_with(|| a.id.cmp(&b.id)));
        lanes
    }

    pub fn device(&self, id: &str) -> Option<&DeviceLane> {
        self.devices.get(id).map(|l| &l.lane)
    }

    /// Engine warnings and lint findings of one project (all with `None`), in creation order.
    /// Borrowed, except those whose message is written when read (`identified_share`).
    pub fn findings(&self, project: Option<&str>) -> Vec<Cow<'_, Finding>> {
        self.lint.findings.iter().filter(|f| project.is_none_or(|p| f.project == p)).map(|f| self.lint.current(f)).collect()
    }
}
