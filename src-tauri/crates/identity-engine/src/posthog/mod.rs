//! PostHog's person rules: how PostHog's ingestion turns distinct ids into persons, in its
//! order (`nodejs/src/ingestion/common/persons/` in <https://github.com/PostHog/posthog>):
//! 1. `$process_person_profile`: `false` makes the event personless (merge-type events and
//!    `$groupidentify` are then dropped); any other non-boolean value warns and counts as true.
//! 2. Merge-type events run `merge(source, target)` (see `merge.rs`), which records exactly one
//!    decision. Outcomes that do not merge fall through to normal processing.
//! 3. Normal processing: create the person (not identified) or apply property updates.
//!
//! The sentences are in `messages.rs`; the ids PostHog refuses to merge in `illegal.rs`.

mod illegal;
mod merge;
mod messages;
mod normal;
mod words;

pub use illegal::is_illegal_distinct_id;

use serde_json::Value;

use crate::js::{js_string, js_truthy};
use crate::props::EventUpdates;
use crate::step::{Outcome, Step, Vendor};
use crate::types::{Attribution, DecisionKind, EventInput, Rule, WarningKind};
use crate::uuid::person_uuid;
use messages as msg;
use normal::normal;

/// Events whose properties can request a merge.
const MERGE_EVENTS: [&str; 3] = ["$identify", "$create_alias", "$merge_dangerously"];

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
        "$create_alias" | "$merge_dangerously" => match ev.properties.get("alias") {
            Some(alias) if js_truthy(alias) => MergeRequest::Merge { source: js_string(alias), target: target() },
            _ => MergeRequest::AliasMissing,
        },
        // The key's presence triggers the merge, even with a null value (which becomes "null",
        // an illegal id, so the merge is refused).
        "$identify" => match ev.properties.get("$anon_distinct_id") {
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
    match ev.properties.get("$process_person_profile") {
        None | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => return Outcome { attribution: personless(step), personless: true },
        Some(other) => {
            let text = msg::invalid_process_person_profile(other);
            step.warn(WarningKind::InvalidProcessPersonProfile, vec![ev.distinct_id.clone()], text);
        }
    }
    let ups = EventUpdates::of(ev);
    let target = ev.distinct_id.clone();
    let person = match merge_request(ev) {
        MergeRequest::Merge { source, target } => merge::merge(step, source, target, &ups),
        MergeRequest::IdentifyWithoutAnonId => {
            let text = msg::server_identify_warning(&target);
            step.warn(WarningKind::ServerIdentifyWithoutAnonId, vec![target.clone()], text);
            let (pid, created) = normal(step, &ups);
            let text = msg::identify_without_anon_id(&target) + &msg::then_normal(&target, created);
            step.decide(DecisionKind::Ignored, Rule::IdentifyWithoutAnonId, None, Some(&target), Some(pid), text);
            pid
        }
        MergeRequest::AliasMissing => {
            let (pid, created) = normal(step, &ups);
            let text = msg::alias_missing(&ev.event, &target) + &msg::then_normal(&target, created);
            step.decide(DecisionKind::Ignored, Rule::AliasMissing, None, Some(&target), Some(pid), text);
            pid
        }
        MergeRequest::NotMergeType => {
            let (pid, created) = normal(step, &ups);
            if created {
                let text = msg::person_created(&ev.event, &target);
                step.decide(DecisionKind::Created, Rule::PersonCreated, None, Some(&target), Some(pid), text);
            }
            pid
        }
    };
    Attribution::Person(person).into()
}

/// `$process_person_profile === false`: no person is created and no property changes.
fn personless(step: &mut Step) -> Attribution {
    let ev = step.ev;
    let is_merge = MERGE_EVENTS.contains(&ev.event.as_str());
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
