//! The engine: per-project state and the flow of one event (spec §1.2–1.4).
//!
//! Flow of `apply`, mirroring PostHog's ingestion order:
//! 1. `$process_person_profile`: `false` makes the event personless (merge-type events and
//!    `$groupidentify` are then dropped); any other non-boolean value warns and counts as true.
//! 2. Merge-type events run `merge(source, target)` (see `merge.rs`), which records exactly one
//!    decision. Outcomes that do not merge fall through to normal processing.
//! 3. Normal processing: create the person (not identified) or apply property updates.

use foldhash::HashMap;

use std::cell::OnceCell;

use serde_json::Value;
use uuid::Uuid;

use crate::index::IdIndex;
use crate::messages as msg;
use crate::model::*;
use crate::props::{apply_updates, init_properties, EventUpdates};
use crate::uuid::person_uuid;

/// Events whose properties can request a merge.
pub(crate) const MERGE_EVENTS: [&str; 3] = ["$identify", "$create_alias", "$merge_dangerously"];

/// One project's persons. Projects never share ids or persons.
#[derive(Debug, Clone, Default)]
pub(crate) struct Project {
    pub persons: HashMap<Uuid, Person>,
    pub index: IdIndex,
    /// Ids that received a personless event while they had no person (PostHog's
    /// `posthog_personlessdistinctid`), with their deterministic uuid (a SHA-1, so computed once
    /// per id, not per event); decides the uuid of a person created by a merge.
    pub seen_personless: HashMap<String, Uuid>,
    /// Whose rules the project gets: the family of its first event's source.
    pub family: crate::family::Family,
    /// That first event's stored source (`posthog`, `segment`, `rudderstack`, `mixpanel`).
    pub source: String,
    /// Segment/Mixpanel: the kind each identifier was first seen as (see `graph.rs`).
    pub kinds: HashMap<String, crate::graph::IdKind>,
    /// Mixpanel: the project sends `$device_id`/`$user_id` (Simplified ID Merge).
    pub simplified: bool,
}

/// Replays PostHog's person processing over events applied in arrival order.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    projects: HashMap<String, Project>,
    decisions: Vec<Decision>,
    warnings: Vec<Warning>,
    last_seq: Option<i64>,
}

/// What a merge-type event asks for.
pub(crate) enum MergeRequest {
    Merge { source: String, target: String },
    IdentifyWithoutAnonId,
    AliasMissing,
    NotMergeType,
}

pub(crate) fn merge_request(ev: &EventInput) -> MergeRequest {
    let target = || ev.distinct_id.clone();
    match ev.event.as_str() {
        "$create_alias" | "$merge_dangerously" => match ev.properties.get("alias") {
            Some(alias) if crate::js::js_truthy(alias) => {
                MergeRequest::Merge { source: crate::js::js_string(alias), target: target() }
            }
            _ => MergeRequest::AliasMissing,
        },
        // The key's presence triggers the merge, even with a null value (which becomes "null",
        // an illegal id, so the merge is refused).
        "$identify" => match ev.properties.get("$anon_distinct_id") {
            Some(anon) => MergeRequest::Merge { source: crate::js::js_string(anon), target: target() },
            None => MergeRequest::IdentifyWithoutAnonId,
        },
        _ => MergeRequest::NotMergeType,
    }
}

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    /// Applies one event. `seq` must be greater than the previous event's: persons depend on
    /// arrival order, so an out-of-order event is rejected and the state is left untouched.
    pub fn apply(&mut self, ev: &EventInput) -> Result<Applied, EngineError> {
        if let Some(last) = self.last_seq {
            if ev.seq <= last {
                return Err(EngineError::OutOfOrder { seq: ev.seq, last });
            }
        }
        self.last_seq = Some(ev.seq);
        let project = match self.projects.get_mut(&ev.project) {
            Some(project) => project,
            None => {
                let family = crate::family::Family::of_source(&ev.source);
                let source = ev.source.clone();
                self.projects.entry(ev.project.clone()).or_insert_with(|| Project {
                    family,
                    source,
                    ..Project::default()
                })
            }
        };
        let mut step = Step { project, ev, by: OnceCell::new(), decisions: Vec::new(), warnings: Vec::new() };
        let (attribution, personless) = match step.project.family {
            crate::family::Family::PostHog => step.run(),
            crate::family::Family::Segment => (step.run_segment(), false),
            crate::family::Family::Mixpanel => (step.run_mixpanel(), false),
        };
        let Step { decisions, warnings, .. } = step;
        self.decisions.extend(decisions.iter().cloned());
        self.warnings.extend(warnings.iter().cloned());
        Ok(Applied { seq: ev.seq, event_uuid: ev.uuid.clone(), attribution, personless, decisions, warnings })
    }

    /// Whose rules a project gets (PostHog for a project not seen yet).
    pub fn family(&self, project: &str) -> crate::family::Family {
        self.projects.get(project).map(|p| p.family).unwrap_or_default()
    }

    /// The stored source of a project's first event (`posthog` for a project not seen yet).
    pub fn source(&self, project: &str) -> &str {
        self.projects.get(project).map_or("posthog", |p| p.source.as_str())
    }

    /// The kind of an identifier in a Segment/Mixpanel project (None for PostHog projects).
    pub fn id_kind(&self, project: &str, id: &str) -> Option<crate::graph::IdKind> {
        self.projects.get(project)?.kinds.get(id).copied()
    }

    /// Persons of one project, oldest creating event first.
    pub fn persons(&self, project: &str) -> Vec<&Person> {
        let mut all: Vec<&Person> =
            self.projects.get(project).map(|p| p.persons.values().collect()).unwrap_or_default();
        all.sort_by_key(|p| (p.created_by.seq, p.id));
        all
    }

    pub fn person_for(&self, project: &str, distinct_id: &str) -> Option<&Person> {
        let p = self.projects.get(project)?;
        p.persons.get(&p.index.person_of(distinct_id)?)
    }

    /// A live person by uuid (persons deleted by a merge are found in their target's `merged_from`).
    pub fn person(&self, id: Uuid) -> Option<&Person> {
        self.projects.values().find_map(|p| p.persons.get(&id))
    }

    /// Every decision so far, in processing order.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Every warning so far, in processing order.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The uuid PostHog writes on events of `distinct_id`: its person's, or the deterministic
    /// uuid of the id when it has no person (personless events).
    pub fn person_id_for(&self, project: &str, distinct_id: &str) -> Uuid {
        if let Some(p) = self.person_for(project, distinct_id) {
            return p.id;
        }
        let seen = self.projects.get(project).and_then(|p| p.seen_personless.get(distinct_id));
        seen.copied().unwrap_or_else(|| person_uuid(project, distinct_id))
    }

    /// Projects seen so far, sorted.
    pub fn projects(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.projects.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

/// The processing of one event against one project.
pub(crate) struct Step<'a> {
    pub project: &'a mut Project,
    pub ev: &'a EventInput,
    /// The event as an `EventRef`, made on first use: most events (personless ones, or
    /// personful ones without property updates) never need it.
    pub by: OnceCell<EventRef>,
    pub decisions: Vec<Decision>,
    pub warnings: Vec<Warning>,
}

impl Step<'_> {
    pub(crate) fn by(&self) -> &EventRef {
        self.by.get_or_init(|| EventRef::of(self.ev))
    }

    fn run(&mut self) -> (Attribution, bool) {
        let ev = self.ev;
        match ev.properties.get("$process_person_profile") {
            None | Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return (self.personless(), true),
            Some(other) => {
                let text = msg::invalid_process_person_profile(other);
                self.warn(WarningKind::InvalidProcessPersonProfile, vec![ev.distinct_id.clone()], text);
            }
        }
        let ups = EventUpdates::of(ev);
        let target = ev.distinct_id.clone();
        let person = match merge_request(ev) {
            MergeRequest::Merge { source, target } => self.merge(source, target, &ups),
            MergeRequest::IdentifyWithoutAnonId => {
                let text = msg::server_identify_warning(&target);
                self.warn(WarningKind::ServerIdentifyWithoutAnonId, vec![target.clone()], text);
                let (pid, created) = self.normal(&ups);
                let text = msg::identify_without_anon_id(&target) + &msg::then_normal(&target, created);
                self.decide(DecisionKind::Ignored, Rule::IdentifyWithoutAnonId, None, Some(&target), Some(pid), text);
                pid
            }
            MergeRequest::AliasMissing => {
                let (pid, created) = self.normal(&ups);
                let text = msg::alias_missing(&ev.event, &target) + &msg::then_normal(&target, created);
                self.decide(DecisionKind::Ignored, Rule::AliasMissing, None, Some(&target), Some(pid), text);
                pid
            }
            MergeRequest::NotMergeType => {
                let (pid, created) = self.normal(&ups);
                if created {
                    let text = msg::person_created(&ev.event, &target);
                    self.decide(DecisionKind::Created, Rule::PersonCreated, None, Some(&target), Some(pid), text);
                }
                pid
            }
        };
        (Attribution::Person(person), false)
    }

    /// `$process_person_profile === false`: no person is created and no property changes.
    fn personless(&mut self) -> Attribution {
        let ev = self.ev;
        let is_merge = MERGE_EVENTS.contains(&ev.event.as_str());
        if is_merge || ev.event == "$groupidentify" {
            let source = match merge_request(ev) {
                MergeRequest::Merge { source, .. } => Some(source),
                _ => None,
            };
            let mut ids = vec![ev.distinct_id.clone()];
            ids.extend(source.clone());
            let text = msg::dropped(self.by(), &ev.distinct_id, source.as_deref());
            self.warn(WarningKind::InvalidEventWhenProcessPersonProfileIsFalse, ids, text.clone());
            let rule = if is_merge { Rule::PersonlessMergeEventDropped } else { Rule::PersonlessGroupidentifyDropped };
            let target = ev.distinct_id.clone();
            self.decide(DecisionKind::Dropped, rule, source.as_deref(), Some(&target), None, text);
            return Attribution::Dropped;
        }
        match self.project.index.person_of_mut(&ev.distinct_id) {
            Some(pid) => Attribution::Person(pid),
            None => {
                let seen = &mut self.project.seen_personless;
                let uuid = match seen.get(&ev.distinct_id) {
                    Some(&uuid) => uuid,
                    None => {
                        *seen.entry(ev.distinct_id.clone()).or_insert_with(|| person_uuid(&ev.project, &ev.distinct_id))
                    }
                };
                Attribution::Personless(uuid)
            }
        }
    }

    /// Normal processing of a personful event for its own distinct id: update the person, or
    /// create it (not identified) with `{...$set_once, ...$set}`. Returns (person, created).
    pub(crate) fn normal(&mut self, ups: &EventUpdates) -> (Uuid, bool) {
        let id = self.ev.distinct_id.clone();
        match self.project.index.person_of_mut(&id) {
            Some(pid) => {
                let person = self.project.persons.get_mut(&pid).expect("indexed person exists");
                if !ups.is_empty() {
                    let by = self.by.get_or_init(|| EventRef::of(self.ev));
                    apply_updates(person, ups, by);
                }
                (pid, false)
            }
            None => (self.create_person(vec![id], false, ups), true),
        }
    }

    /// Creates a person owning `ids` (all unowned); its uuid derives from `ids[0]`.
    pub(crate) fn create_person(&mut self, ids: Vec<String>, identified: bool, ups: &EventUpdates) -> Uuid {
        let ev = self.ev;
        let id = person_uuid(&ev.project, &ids[0]);
        // Cannot collide: a live person's uuid comes from an id it still owns, and ids[0] is unowned.
        debug_assert!(!self.project.persons.contains_key(&id));
        let mut person = Person {
            id,
            project: ev.project.clone(),
            distinct_ids: ids,
            is_identified: identified,
            identified_by: identified.then(|| self.by().clone()),
            properties: Default::default(),
            created_at: ev.timestamp,
            created_by: self.by().clone(),
            property_origins: Default::default(),
            history: Vec::new(),
            merged_from: Vec::new(),
        };
        init_properties(&mut person, ups, self.by());
        self.project.index.insert_person(id, &person.distinct_ids);
        self.project.persons.insert(id, person);
        id
    }

    pub(crate) fn decide(
        &mut self,
        kind: DecisionKind,
        rule: Rule,
        source: Option<&str>,
        target: Option<&str>,
        person_id: Option<Uuid>,
        message: String,
    ) {
        let ev = self.ev;
        self.decisions.push(Decision {
            seq: ev.seq,
            event_uuid: ev.uuid.clone(),
            timestamp: ev.timestamp,
            project: ev.project.clone(),
            event: ev.event.clone(),
            kind,
            rule,
            source: source.map(str::to_owned),
            target: target.map(str::to_owned),
            person_id,
            message,
        });
    }

    pub(crate) fn warn(&mut self, kind: WarningKind, distinct_ids: Vec<String>, message: String) {
        let ev = self.ev;
        self.warnings.push(Warning {
            kind,
            seq: ev.seq,
            event_uuid: ev.uuid.clone(),
            project: ev.project.clone(),
            event: ev.event.clone(),
            distinct_ids,
            message,
        });
    }
}
