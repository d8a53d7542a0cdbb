//! `Model`: the engine, the device lanes and the lint findings kept together, fed one event at
//! a time in arrival order. This is what the server calls.
//!
//! Invariant: `Model` state depends only on the sequence of events applied and on the undelivered
//! events last set ([`Model::set_undelivered`]; queries are pure), so a model built from a stream
//! equals one rebuilt from the same stream (tested).

use std::borrow::Cow;

use serde::Serialize;
use uuid::Uuid;

use crate::devices::{DeviceLane, Devices};
use crate::engine::Engine;
use crate::lint::rules::Ctx;
use crate::lint::{Finding, Lint, Undelivered};
use crate::settings::ProjectSettings;
use crate::types::{Attribution, DecisionKind, EngineError, EventInput};

#[derive(Debug, Clone, Default)]
pub struct Model {
    engine: Engine,
    devices: Devices,
    lint: Lint,
    /// What changed since the last `take_changes` (not part of the model's state).
    pending: Pending,
}

/// How many changed persons, and how many changed lanes, [`ModelChanges`] names; past that it
/// only says that more changed. Kept small on purpose: a capture burst or a rebuild changes
/// about a thousand of each per step, every reader refetches what it shows anyway when more
/// changed, and a full list cost the model thread a set insert per event and every stream
/// reader ~60 MB per million events to receive and skip.
pub const LISTED_CHANGES: usize = 16;

/// Changes gathered over several events.
#[derive(Debug, Clone, Default)]
struct Pending {
    persons: Listed<Uuid>,
    lanes: Listed<usize>,
    new_findings: usize,
}

/// The first [`LISTED_CHANGES`] distinct items, in first-change order, and whether any other
/// item came after them.
#[derive(Debug, Clone)]
struct Listed<T> {
    items: Vec<T>,
    more: bool,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed { items: Vec::new(), more: false }
    }
}

impl<T: PartialEq> Listed<T> {
    /// A linear scan: the list never holds more than `LISTED_CHANGES`.
    fn add(&mut self, item: T) {
        if self.more || self.items.contains(&item) {
            return;
        }
        if self.items.len() == LISTED_CHANGES {
            self.more = true;
        } else {
            self.items.push(item);
        }
    }
}

/// What one event (or the events pushed since the last `take_changes`) changed, so the server
/// can refresh only those.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelChanges {
    /// Persons the event touched: its person, persons of its decisions, and persons a merge
    /// deleted (look them up with `Engine::person`; deleted ones are gone). At most
    /// [`LISTED_CHANGES`], in first-change order.
    pub persons: Vec<Uuid>,
    /// More persons changed than `persons` names.
    pub more_persons: bool,
    /// Lane ids changed (the event's lane first, then lanes linked by reset(true) inference).
    /// At most [`LISTED_CHANGES`].
    pub devices: Vec<String>,
    /// More lanes changed than `devices` names.
    pub more_devices: bool,
    /// Findings created by this event (existing findings it updated are not counted).
    pub new_findings: usize,
}

/// What [`Model::forget_project`] dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Forgotten {
    /// Persons (live ones; those merged into them went with them).
    pub persons: usize,
    /// Device lanes.
    pub lanes: usize,
    pub decisions: usize,
    /// Findings (lint findings and the engine's warnings).
    pub findings: usize,
}

impl Model {
    pub fn new() -> Model {
        Model::default()
    }

    /// A model whose projects get these settings (per project key); projects not listed get
    /// the vendors' defaults. Settings are fixed for the model's life: a change is a rebuild.
    pub fn with_settings<'a>(settings: impl IntoIterator<Item = (&'a str, ProjectSettings)>) -> Model {
        let mut model = Model::default();
        for (project, s) in settings {
            model.engine.set_settings(project, s);
        }
        model
    }

    /// Events strictly in arrival (seq) order; an out-of-order event is rejected with
    /// `EngineError::OutOfOrder` and changes nothing. Returns what this one event changed.
    pub fn apply(&mut self, ev: &EventInput) -> Result<ModelChanges, EngineError> {
        self.take_changes();
        self.push(ev)?;
        Ok(self.take_changes())
    }

    /// Like `apply`, but gathers the changes until `take_changes`: feeding thousands of events
    /// then costs no list of changes per event.
    pub fn push(&mut self, ev: &EventInput) -> Result<(), EngineError> {
        let applied = self.engine.apply(ev)?;
        // Lanes and lint read the event as PostHog's cookieless step rewrote it.
        let ev = applied.rewritten.as_ref().map_or(ev, |r| &r.0);
        let family = self.engine.family(&ev.project);
        let view = crate::posthog_shape::lane_view(ev, family);
        let update = self.devices.apply(&view, &applied, &self.engine, family);
        let ctx = Ctx {
            ev: &view,
            raw: ev,
            family,
            applied: &applied,
            update: &update,
            devices: &self.devices,
            engine: &self.engine,
        };
        let new_findings = self.lint.apply(&ctx);

        let pending = &mut self.pending;
        pending.new_findings += new_findings;
        if let Some(r) = &applied.rewritten {
            self.devices.lanes[update.lane].lane.cookieless.get_or_insert_with(|| r.1.clone());
        }
        pending.lanes.add(update.lane);
        update.linked.iter().for_each(|&l| pending.lanes.add(l));
        if let Attribution::Person(id) = applied.attribution {
            pending.persons.add(id);
        }
        for d in &applied.decisions {
            if let Some(id) = d.person_id {
                pending.persons.add(id);
                if d.kind == DecisionKind::Merged {
                    let merged = self.engine.person(id).map(|p| p.merged_from.as_slice()).unwrap_or_default();
                    merged.iter().filter(|m| m.by.seq == ev.seq).for_each(|m| pending.persons.add(m.id));
                }
            }
        }
        Ok(())
    }

    /// Makes the model as if no event of `project` had ever been applied: its persons,
    /// decisions, lanes and findings go, and what the rules remember about it; other projects
    /// are untouched (their state never depends on another project's events), so the model then
    /// equals one built from the same stream without that project's events, and stays equal
    /// when more events follow (tested in `tests/it/forget.rs`). The project's settings stay.
    /// Costs O(its persons and findings + every lane, finding and user entry), far less than a
    /// rebuild, which replays every other project's events too.
    pub fn forget_project(&mut self, project: &str) -> Forgotten {
        let decisions = self.engine.decisions().iter().filter(|d| d.project == project).count();
        let findings = self.lint.findings.iter().filter(|f| f.project == project).count();
        let persons_before = self.engine.persons(project).len();
        let persons = self.engine.forget_project(project);
        let lanes = self.devices.forget_project(project);
        self.lint.forget_project(project, &lanes, &persons);
        let pending = &mut self.pending;
        pending.persons.items.retain(|id| !persons.contains(id));
        pending.lanes.items = pending.lanes.items.iter().filter_map(|&l| lanes.get(l)).collect();
        Forgotten { persons: persons_before, lanes: lanes.dropped(), decisions, findings }
    }

    /// What the events pushed since the last call changed, each person and lane once (up to
    /// [`LISTED_CHANGES`] of each).
    pub fn take_changes(&mut self) -> ModelChanges {
        let p = std::mem::take(&mut self.pending);
        let devices = p.lanes.items.iter().map(|&i| self.devices.lanes[i].lane.id.clone()).collect();
        ModelChanges {
            persons: p.persons.items,
            more_persons: p.persons.more,
            devices,
            more_devices: p.lanes.more,
            new_findings: p.new_findings,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The person's ids that name a user, its label first (what a list shows as "user-a +
    /// user-b"). PostHog keeps no id kinds, so there they are the ids the lint saw used as a
    /// user's (identify targets, ids of identified events); elsewhere `Engine::user_like_ids`.
    pub fn user_like_ids(&self, person: &crate::types::Person) -> Vec<String> {
        let mut ids = self.engine.user_like_ids(person);
        if self.engine.family(&person.project) == crate::family::Family::PostHog {
            let label = self.engine.display_label(person);
            ids.retain(|id| *id == label || self.lint.is_user_id(&person.project, id));
        }
        ids
    }

    /// Lanes of one project (all projects with `None`), most recently active (arrival) first.
    pub fn devices(&self, project: Option<&str>) -> Vec<&DeviceLane> {
        let mut lanes: Vec<&DeviceLane> =
            self.devices.lanes.iter().map(|l| &l.lane).filter(|l| project.is_none_or(|p| l.project == p)).collect();
        lanes.sort_by(|a, b| b.last_seq.cmp(&a.last_seq).then_with(|| a.id.cmp(&b.id)));
        lanes
    }

    pub fn device(&self, id: &str) -> Option<&DeviceLane> {
        self.devices.get(id).map(|l| &l.lane)
    }

    /// Engine warnings and lint findings of one project (all with `None`), in creation order,
    /// then those about undelivered events. Borrowed, except those whose message is written when
    /// read (`identified_share`).
    pub fn findings(&self, project: Option<&str>) -> Vec<Cow<'_, Finding>> {
        self.findings_after(project, i64::MIN)
    }

    /// Like [`Model::findings`], but only the engine warnings and lint findings first fired by
    /// an event after seq `after_seq` (what a follower has not seen when the model had applied
    /// `after_seq` at its last look); those about undelivered events are always included, since
    /// they are made again whenever faults change. Costs O(findings) comparisons, but copies
    /// and rewrites only the ones it returns.
    pub fn findings_after(&self, project: Option<&str>, after_seq: i64) -> Vec<Cow<'_, Finding>> {
        self.lint
            .findings
            .iter()
            .filter(|f| f.seq > after_seq)
            .map(|f| self.lint.current(f))
            .chain(self.lint.undelivered.iter().map(Cow::Borrowed))
            .filter(|f| project.is_none_or(|p| f.project == p))
            .collect()
    }

    /// The events that never reached the vendor (only ever sent in requests a fault rule
    /// answered), as they are now: replaces the ones set before, and makes the
    /// `undelivered_identify` findings again against the persons as they stand. Returns how many
    /// of those findings are new (also counted in the next `take_changes`).
    pub fn set_undelivered(&mut self, events: &[Undelivered]) -> usize {
        let new = self.lint.set_undelivered(&self.engine, events);
        self.pending.new_findings += new;
        new
    }

    /// Whether an undelivered event that joins two ids is set: its finding depends on the
    /// persons, which every applied event may change, so it is worth setting again after them.
    pub fn has_undelivered(&self) -> bool {
        !self.lint.undelivered.is_empty()
    }
}
