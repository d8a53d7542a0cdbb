//! The engine: one project's state per project token, events applied in arrival order, each
//! handed to the rules of its project's vendor (`Family`).
//!
//! Invariant: a project keeps the family of its first event, so one project's persons are
//! always the work of one vendor's rules.

use foldhash::HashMap;

use uuid::Uuid;

use crate::family::Family;
use crate::graph::IdKind;
use crate::posthog::cookieless::Rewrite;
use crate::settings::ProjectSettings;
use crate::step::{Outcome, Project, Step, Vendor};
use crate::types::{Applied, Attribution, Decision, DecisionKind, EngineError, EventInput, Person, Rule, Warning};
use crate::uuid::person_uuid;
use crate::{kissmetrics, mixpanel, posthog, rudderstack, segment};

/// Persons, decisions and warnings of every project, from events applied in arrival order
/// under each project's vendor rules (PostHog, Segment or Mixpanel).
#[derive(Debug, Clone, Default)]
pub struct Engine {
    projects: HashMap<String, Project>,
    decisions: Vec<Decision>,
    warnings: Vec<Warning>,
    last_seq: Option<i64>,
    /// Settings of projects configured before (or after) their first event; a project not
    /// listed gets the vendors' defaults.
    settings: HashMap<String, ProjectSettings>,
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
                let family = Family::of_source(&ev.source);
                let source = ev.source.clone();
                let settings = self.settings.get(&ev.project).cloned().unwrap_or_default();
                self.projects.entry(ev.project.clone()).or_insert_with(|| Project {
                    family,
                    source,
                    settings,
                    ..Project::default()
                })
            }
        };
        // PostHog replaces the cookieless placeholder before person processing.
        let rewritten = match project.family {
            Family::PostHog => match crate::posthog::cookieless::rewrite(project, ev) {
                Rewrite::Untouched => None,
                Rewrite::Rewritten(input, cookieless) => Some(Box::new((*input, cookieless))),
                Rewrite::Dropped { text } => {
                    let mut step = Step::new(project, ev);
                    let target = ev.distinct_id.clone();
                    step.decide(DecisionKind::Dropped, Rule::CookielessDropped, None, Some(&target), None, text);
                    let Step { decisions, warnings, .. } = step;
                    self.decisions.extend(decisions.iter().cloned());
                    let attribution = Attribution::Dropped;
                    let uuid = ev.uuid.clone();
                    return Ok(Applied {
                        seq: ev.seq,
                        event_uuid: uuid,
                        attribution,
                        personless: false,
                        decisions,
                        warnings,
                        rewritten: None,
                    });
                }
            },
            _ => None,
        };
        let input = rewritten.as_ref().map_or(ev, |r| &r.0);
        let mut step = Step::new(project, input);
        let Outcome { attribution, personless } = (vendor(step.project.family).apply)(&mut step);
        let Step { decisions, warnings, .. } = step;
        if let (Some(r), Attribution::Person(id)) = (&rewritten, attribution) {
            if let Some(person) = project.persons.get_mut(&id) {
                person.cookieless.get_or_insert_with(|| r.1.clone());
            }
        }
        self.decisions.extend(decisions.iter().cloned());
        self.warnings.extend(warnings.iter().cloned());
        Ok(Applied {
            seq: ev.seq,
            event_uuid: ev.uuid.clone(),
            attribution,
            personless,
            decisions,
            warnings,
            rewritten,
        })
    }

    /// Sets a project's identity settings. Only events applied afterwards see them: to change
    /// the settings of a project that already has events, build a new engine (replay), since
    /// persons depend on every event's processing under one set of settings.
    pub fn set_settings(&mut self, project: &str, settings: ProjectSettings) {
        if let Some(p) = self.projects.get_mut(project) {
            p.settings = settings.clone();
        }
        self.settings.insert(project.to_owned(), settings);
    }

    /// A project's settings (the vendors' defaults when never set).
    pub fn settings(&self, project: &str) -> ProjectSettings {
        self.projects
            .get(project)
            .map(|p| p.settings.clone())
            .or_else(|| self.settings.get(project).cloned())
            .unwrap_or_default()
    }

    /// Whose rules a project gets (PostHog for a project not seen yet).
    pub fn family(&self, project: &str) -> Family {
        self.projects.get(project).map(|p| p.family).unwrap_or_default()
    }

    /// The stored source of a project's first event (`posthog` for a project not seen yet).
    pub fn source(&self, project: &str) -> &str {
        self.projects.get(project).map_or("posthog", |p| p.source.as_str())
    }

    /// The kind of an identifier in a Segment/Mixpanel project (None for PostHog projects).
    pub fn id_kind(&self, project: &str, id: &str) -> Option<IdKind> {
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

    /// A live person of one project by uuid, without looking at other projects.
    pub fn person_in(&self, project: &str, id: Uuid) -> Option<&Person> {
        self.projects.get(project)?.persons.get(&id)
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

    /// Drops everything one project's events made: its persons, decisions and warnings. Its
    /// settings stay (a key may be configured before its first event, and a project whose
    /// traffic was deleted is such a key). Returns the uuids of its persons, the ones merged
    /// away included, whose state elsewhere (the lint's) must go too. Other projects are
    /// untouched: a project's persons depend on its own events only.
    pub(crate) fn forget_project(&mut self, project: &str) -> foldhash::HashSet<Uuid> {
        let Some(gone) = self.projects.remove(project) else { return Default::default() };
        self.decisions.retain(|d| d.project != project);
        self.warnings.retain(|w| w.project != project);
        gone.persons.values().flat_map(|p| std::iter::once(p.id).chain(p.merged_from.iter().map(|m| m.id))).collect()
    }
}

/// The dispatch: the rules of a project of `family`.
///
/// Adding a vendor: a folder `src/<vendor>/` whose `mod.rs` has a `pub(crate) const VENDOR:
/// Vendor` (its `apply` may use the shared identity graph, `graph/link.rs`, with the vendor's
/// own `GraphRules`, as Segment and Mixpanel do), a `Family` variant with its source in
/// `Family::of_source` and its words, and one line here.
pub(crate) fn vendor(family: Family) -> &'static Vendor {
    match family {
        Family::PostHog => &posthog::VENDOR,
        Family::Segment => &segment::VENDOR,
        Family::RudderStack => &rudderstack::VENDOR,
        Family::KissMetrics => &kissmetrics::VENDOR,
        Family::Mixpanel => &mixpanel::VENDOR,
    }
}
