//! `Step`: the processing of one event against one project's state, and the helpers every
//! vendor's rules share (create a person, absorb one person into another, record a decision or
//! a warning). Each vendor module (`posthog/`, `segment/`, `mixpanel/`) is a function of a
//! `&mut Step` (its `Vendor`); `engine.rs` only picks which one runs.
//!
//! Invariants:
//! - a `Step` records decisions and warnings only for its own event (`seq`, `uuid`);
//! - every person a step creates or keeps is indexed under all its distinct ids
//!   (`Project::index`), and a person removed by `absorb` is gone from the index.

use std::cell::OnceCell;
use std::sync::Arc;

use foldhash::HashMap;
use uuid::Uuid;

use crate::family::Family;
use crate::graph::IdKind;
use crate::index::IdIndex;
use crate::props::{init_properties, merge_properties, EventUpdates};
use crate::settings::ProjectSettings;
use crate::types::{
    Attribution, Decision, DecisionKind, EventInput, EventRef, MergedPerson, Person, Rule, Warning, WarningKind,
};
use crate::uuid::person_uuid;
use crate::words::Words;

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
    pub family: Family,
    /// That first event's stored source (`posthog`, `segment`, `rudderstack`, `mixpanel`).
    pub source: String,
    /// Segment/Mixpanel: the kind each identifier was first seen as (see `graph.rs`).
    pub kinds: HashMap<String, IdKind>,
    /// Segment: the Unify name each identifier was first seen as (`user_id`, `ios.id`, ...),
    /// which Unify's per-name limits count.
    pub unify_names: HashMap<String, &'static str>,
    /// What the traffic cannot tell (Mixpanel's ID merge mode, Segment's blocked values...).
    pub settings: ProjectSettings,
    /// PostHog cookieless (Stateful): the `$identify` event uuids seen per visitor base hash.
    pub cookieless_identifies: HashMap<[u8; 16], std::collections::HashSet<String>>,
}

/// What a vendor's rules made of one event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    pub attribution: Attribution,
    /// PostHog only: the event had `$process_person_profile: false`.
    pub personless: bool,
}

impl From<Attribution> for Outcome {
    fn from(attribution: Attribution) -> Outcome {
        Outcome { attribution, personless: false }
    }
}

/// One vendor's rules, as the engine and the lint see them. Each vendor module has one
/// (`posthog::VENDOR`, ...); `engine::vendor` picks it by family.
pub(crate) struct Vendor {
    /// Processes one event of a project of this vendor.
    pub apply: fn(&mut Step) -> Outcome,
    /// An id the vendor never links (Segment's blocked values, Mixpanel's disallowed ids); the
    /// engine warns about those itself, so the lint does not report them again.
    pub blocks_id: fn(&str) -> bool,
    /// The vendor links every identifier an event carries (Segment, Mixpanel), so a lane that
    /// moves from an anonymous id to a user id on one event shows the identify itself, not an
    /// inference; PostHog links ids only through `$identify`, alias and merge events.
    pub links_event_ids: bool,
    pub words: &'static Words,
}

/// The processing of one event against one project.
pub(crate) struct Step<'a> {
    pub project: &'a mut Project,
    pub ev: &'a EventInput,
    /// The event as an `EventRef`, made on first use: most events (personless ones, or
    /// personful ones without property updates) never need it.
    pub by: OnceCell<Arc<EventRef>>,
    pub decisions: Vec<Decision>,
    pub warnings: Vec<Warning>,
}

impl<'a> Step<'a> {
    pub(crate) fn new(project: &'a mut Project, ev: &'a EventInput) -> Step<'a> {
        Step { project, ev, by: OnceCell::new(), decisions: Vec::new(), warnings: Vec::new() }
    }
}

impl Step<'_> {
    pub(crate) fn by(&self) -> &Arc<EventRef> {
        self.by.get_or_init(|| Arc::new(EventRef::of(self.ev)))
    }

    /// The kind an identifier was first seen as (Segment/Mixpanel projects).
    pub(crate) fn kind_of(&self, id: &str) -> Option<IdKind> {
        self.project.kinds.get(id).copied()
    }

    pub(crate) fn person_mut(&mut self, pid: Uuid) -> &mut Person {
        self.project.persons.get_mut(&pid).expect("indexed person exists")
    }

    /// Creates a person owning `ids` (all unowned), with the properties of `ups` (moved in); its
    /// uuid derives from `ids[0]`.
    pub(crate) fn create_person(&mut self, ids: Vec<String>, identified: bool, ups: EventUpdates) -> Uuid {
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
            cookieless: None,
        };
        init_properties(&mut person, ups, self.by());
        self.project.index.insert_person(id, &person.distinct_ids);
        self.project.persons.insert(id, person);
        id
    }

    /// Moves person `sp` into `tp` (properties `{...source, ...target}`, `created_at = min`,
    /// ids, `merged_from`) and deletes `sp`; no event updates, identified state untouched.
    /// Shared by every family's merges.
    pub(crate) fn absorb(&mut self, sp: Uuid, tp: Uuid) {
        let by = self.by().clone();
        let source = self.project.persons.remove(&sp).expect("source person exists");
        self.project.index.merge(sp, tp);
        let target = self.person_mut(tp);
        merge_properties(target, &source, &by);
        target.created_at = target.created_at.min(source.created_at);
        target.distinct_ids.extend(source.distinct_ids.iter().cloned());
        target.merged_from.push(MergedPerson {
            id: source.id,
            distinct_ids: source.distinct_ids,
            is_identified: source.is_identified,
            properties: source.properties,
            created_at: source.created_at,
            history: source.history,
            by,
        });
        target.merged_from.extend(source.merged_from);
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
