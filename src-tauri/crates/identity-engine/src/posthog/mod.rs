//! PostHog's person rules: how PostHog's ingestion turns distinct ids into persons, in its
//! order (`nodejs/src/ingestion/common/persons/` in <https://github.com/PostHog/posthog>):
//! 1. `$process_person_profile`: `false` makes the event personless (merge-type events and
//!    `$groupidentify` are then dropped); any other non-boolean value warns and counts as true.
//! 2. Merge-type events run `merge(source, target)` (see `merge.rs`), which records exactly one
//!    decision. Outcomes that do not merge fall through to normal processing.
//! 3. Normal processing: create the person (not identified) or apply property updates.
//!
//! The sentences are in `messages.rs`; the ids PostHog refuses to merge in `illegal.rs`.

pub(crate) mod cookieless;
mod illegal;
mod lifted;
mod merge;
mod messages;
mod normal;
mod words;

pub use cookieless::Cookieless;
pub use illegal::is_illegal_distinct_id;
pub(crate) use lifted::LIFTED_KEYS;

use serde_json::Value;

use crate::js::{js_string, js_truthy};
use crate::props::EventUpdates;
use crate::step::{Outcome, Step, Vendor};
use crate::types::{Attribution, DecisionKind, EventInput, Rule, WarningKind};
use crate::uuid::person_uuid;
use messages as msg;
use normal::normal;

/// Events PostHog's pipelines never give to person processing, whatever their properties: error
/// tracking's `$exception` only reads persons, `$$heatmap` takes its own pipeline and
/// `$$client_ingestion_warning` is turned into a warning and dropped (the event pipeline runner,
/// `nodejs/src/ingestion/` in <https://github.com/PostHog/posthog>).
///
/// The event-name sets here are `match`es, not `slice.contains`: every event of a rebuild asks,
/// and a match compiles to a length switch and inline compares instead of a `memcmp` call per
/// name of the same length (`$pageview` and `$$heatmap` are both 9 bytes).
fn never_person_event(event: &str) -> bool {
    matches!(event, "$exception" | "$$heatmap" | "$$client_ingestion_warning")
}

/// PostHog drops a `$groupidentify` whose `$group_key` is longer than this (warning
/// `group_key_too_long`).
const MAX_GROUP_KEY_CHARS: usize = 400;

/// Events whose properties can request a merge.
fn merge_event(event: &str) -> bool {
    matches!(event, "$identify" | "$create_alias" | "$merge_dangerously")
}

/// What a merge-type event asks for.
enum MergeRequest {
    Merge { source: String, target: String },
    IdentifyWithoutAnonId,
    AliasMissing,
    NotMergeType,
}

fn merge_request(ev: &EventInput) -> MergeRequest {
    let target = || ev.distinct_id.clone();
    match ev.event.as_str() {
        "$create_alias" | "$merge_dangerously" => match ev.prop("alias") {
            Some(alias) if js_truthy(alias) => MergeRequest::Merge { source: js_string(alias), target: target() },
            _ => MergeRequest::AliasMissing,
        },
        // The key's presence triggers the merge, even with a null value (which becomes "null",
        // an illegal id, so the merge is refused).
        "$identify" => match ev.prop("$anon_distinct_id") {
            Some(anon) => MergeRequest::Merge { source: js_string(anon), target: target() },
            None => MergeRequest::IdentifyWithoutAnonId,
        },
        _ => MergeRequest::NotMergeType,
    }
}

/// PostHog links any legal id; its illegal ids are refused in merges only (`illegal.rs`).
pub(crate) const VENDOR: Vendor = Vendor { apply, blocks_id: |_| false, links_event_ids: false, words: &words::WORDS };

/// Runs PostHog's person processing for the step's event.
fn apply(step: &mut Step) -> Outcome {
    let ev = step.ev;
    if never_person_event(&ev.event) {
        let attribution = never_person(step);
        // No person profile is processed for it: counted as personless when the id has no person.
        return Outcome { attribution, personless: matches!(attribution, Attribution::Personless(_)) };
    }
    if ev.event == "$groupidentify" {
        if let Some(len) = group_key_len(ev).filter(|&len| len > MAX_GROUP_KEY_CHARS) {
            let text = msg::group_key_too_long(len);
            step.warn(WarningKind::GroupKeyTooLong, vec![ev.distinct_id.clone()], text.clone());
            let target = ev.distinct_id.clone();
            step.decide(DecisionKind::Dropped, Rule::GroupKeyTooLong, None, Some(&target), None, text);
            return Attribution::Dropped.into();
        }
    }
    match ev.prop("$process_person_profile") {
        None | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => return Outcome { attribution: personless(step), personless: true },
        Some(other) => {
            let text = msg::invalid_process_person_profile(other);
            step.warn(WarningKind::InvalidProcessPersonProfile, vec![ev.distinct_id.clone()], text);
        }
    }
    let request = merge_request(ev);
    let mut ups = EventUpdates::of(ev);
    if ev.event != "$groupidentify" {
        // Without a merge the update lands on the event's own person, if it has one: lifting can
        // leave out what would change nothing there (most events of a known browser).
        let own = match request {
            MergeRequest::Merge { .. } => None,
            _ => step.project.index.person_of(&ev.distinct_id).and_then(|pid| step.project.persons.get(&pid)),
        };
        lifted::lift(ev, &mut ups, own);
    }
    let target = ev.distinct_id.clone();
    let person = match request {
        MergeRequest::Merge { source, target } => merge::merge(step, source, target, ups),
        MergeRequest::IdentifyWithoutAnonId => {
            let text = msg::server_identify_warning(&target);
            step.warn(WarningKind::ServerIdentifyWithoutAnonId, vec![target.clone()], text);
            let (pid, created) = normal(step, ups);
            let text = msg::identify_without_anon_id(&target) + &msg::then_normal(&target, created);
            step.decide(DecisionKind::Ignored, Rule::IdentifyWithoutAnonId, None, Some(&target), Some(pid), text);
            pid
        }
        MergeRequest::AliasMissing => {
            let (pid, created) = normal(step, ups);
            let text = msg::alias_missing(&ev.event, &target) + &msg::then_normal(&target, created);
            step.decide(DecisionKind::Ignored, Rule::AliasMissing, None, Some(&target), Some(pid), text);
            pid
        }
        MergeRequest::NotMergeType => {
            let (pid, created) = normal(step, ups);
            if created {
                let text = msg::person_created(&ev.event, &target);
                step.decide(DecisionKind::Created, Rule::PersonCreated, None, Some(&target), Some(pid), text);
            }
            pid
        }
    };
    Attribution::Person(person).into()
}

/// The length (in characters) of a `$groupidentify`'s `$group_key`, as a string.
fn group_key_len(ev: &EventInput) -> Option<usize> {
    match ev.prop("$group_key")? {
        Value::String(s) => Some(s.chars().count()),
        Value::Null => None,
        other => Some(other.to_string().chars().count()),
    }
}

/// An event PostHog never gives to person processing: it points at the id's person when there
/// is one, and otherwise at no person (nothing is created or recorded for the id).
fn never_person(step: &mut Step) -> Attribution {
    let ev = step.ev;
    match step.project.index.person_of_mut(&ev.distinct_id) {
        Some(pid) => Attribution::Person(pid),
        None => match step.project.seen_personless.get(&ev.distinct_id) {
            Some(&uuid) => Attribution::Personless(uuid),
            None => Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)),
        },
    }
}

/// `$process_person_profile === false`: no person is created and no property changes.
fn personless(step: &mut Step) -> Attribution {
    let ev = step.ev;
    let is_merge = merge_event(&ev.event);
    if is_merge || ev.event == "$groupidentify" {
        let source = match merge_request(ev) {
            MergeRequest::Merge { source, .. } => Some(source),
            _ => None,
        };
        let mut ids = vec![ev.distinct_id.clone()];
        ids.extend(source.clone());
        let text = msg::dropped(step.by(), &ev.distinct_id, source.as_deref());
        step.warn(WarningKind::InvalidEventWhenProcessPersonProfileIsFalse, ids, text.clone());
        let rule = if is_merge { Rule::PersonlessMergeEventDropped } else { Rule::PersonlessGroupidentifyDropped };
        let target = ev.distinct_id.clone();
        step.decide(DecisionKind::Dropped, rule, source.as_deref(), Some(&target), None, text);
        return Attribution::Dropped;
    }
    match step.project.index.person_of_mut(&ev.distinct_id) {
        Some(pid) => Attribution::Person(pid),
        None => {
            let seen = &mut step.project.seen_personless;
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
