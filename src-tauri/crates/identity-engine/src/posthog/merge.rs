//! `merge(source, target)`, as PostHog's person-merge-service runs it
//! (`nodejs/src/ingestion/common/persons/` in <https://github.com/PostHog/posthog>).
//!
//! Invariants:
//! - exactly one decision per call;
//! - the target person (the event's distinct id) always survives; the source person is the one
//!   deleted, so direction is decided by the SDK call, never by which person is older;
//! - past the same-id and illegal-id checks the target's person ends identified, whatever happens;
//! - only the *source* person's identified state can block a merge, and `$merge_dangerously`
//!   lifts even that.

use uuid::Uuid;

use super::illegal::is_illegal_distinct_id;
use super::messages as msg;
use super::normal::{create, normal};
use crate::props::{apply_updates, EventUpdates};
use crate::step::Step;
use crate::types::{DecisionKind, Rule, WarningKind};

/// Returns the person the event ends on.
pub(super) fn merge(step: &mut Step, source: String, target: String, ups: EventUpdates) -> Uuid {
    let (s, t) = (Some(source.as_str()), Some(target.as_str()));
    let event = step.ev.event.clone();

    // 1. Same id: nothing to link; the event is then a normal event (not identifying).
    if source == target {
        let (pid, created) = normal(step, ups);
        let text = msg::same_distinct_id(&event, &target) + &msg::then_normal(&target, created);
        step.decide(DecisionKind::Ignored, Rule::SameDistinctId, s, t, Some(pid), text);
        return pid;
    }

    // 2. Illegal ids: PostHog checks the target first, then the source; one warning naming
    // the illegal id. The event is still processed as a normal event (not identifying).
    let illegal = [&target, &source].into_iter().find(|id| is_illegal_distinct_id(id)).cloned();
    if let Some(bad) = illegal {
        let other = if bad == target { source.clone() } else { target.clone() };
        let text = msg::illegal(&event, &bad, &source, &target);
        step.warn(WarningKind::CannotMergeWithIllegalDistinctId, vec![bad, other], text.clone());
        let (pid, created) = normal(step, ups);
        let text = text + &msg::then_normal(&target, created);
        step.decide(DecisionKind::Refused, Rule::IllegalDistinctId, s, t, Some(pid), text);
        return pid;
    }

    // 3. From here on the target's person ends identified.
    let source_pid = step.project.index.person_of_mut(&source);
    let target_pid = step.project.index.person_of_mut(&target);
    match (source_pid, target_pid) {
        (None, None) => {
            // The uuid comes from the first id. PostHog puts the target first unless only the
            // source was already used personless: then the source's uuid is kept, so its
            // earlier personless events already point at the new person.
            let seen = &step.project.seen_personless;
            let source_first = seen.contains_key(&source) && !seen.contains_key(&target);
            let ids =
                if source_first { vec![source.clone(), target.clone()] } else { vec![target.clone(), source.clone()] };
            let pid = create(step, ids, true, ups);
            let text = msg::merge_created(&source, &target, if source_first { &source } else { &target }, source_first);
            step.decide(DecisionKind::Created, Rule::MergeCreatedPerson, s, t, Some(pid), text);
            pid
        }
        (Some(pid), None) | (None, Some(pid)) => {
            let (new_id, owner_id, rule) = if source_pid.is_some() {
                (&target, &source, Rule::MergeAttachedTarget)
            } else {
                (&source, &target, Rule::MergeAttachedSource)
            };
            step.project.index.add_id(pid, new_id);
            step.person_mut(pid).distinct_ids.push(new_id.clone());
            update_and_identify(step, pid, &ups);
            let text = msg::attached(new_id, owner_id, &step.project.persons[&pid]);
            step.decide(DecisionKind::Attached, rule, s, t, Some(pid), text);
            pid
        }
        (Some(sp), Some(tp)) if sp == tp => {
            update_and_identify(step, tp, &ups);
            let text = msg::same_person(&source, &target);
            step.decide(DecisionKind::Ignored, Rule::SamePerson, s, t, Some(tp), text);
            tp
        }
        (Some(sp), Some(tp)) => {
            let dangerous = event == "$merge_dangerously";
            let source_identified = step.project.persons[&sp].is_identified;
            if source_identified && !dangerous {
                let text = msg::refused(&source, &target, &step.project.persons[&sp]);
                let ids = vec![source.clone(), target.clone()];
                step.warn(WarningKind::CannotMergeAlreadyIdentified, ids, text.clone());
                // The refused target still gets the event's updates and becomes identified.
                update_and_identify(step, tp, &ups);
                step.decide(DecisionKind::Refused, Rule::SourceAlreadyIdentified, s, t, Some(tp), text);
                return tp;
            }
            let text = msg::merged(
                &source,
                &target,
                &step.project.persons[&sp],
                &step.project.persons[&tp],
                dangerous && source_identified,
            );
            merge_persons(step, sp, tp, &ups);
            let rule = if dangerous && source_identified {
                Rule::MergeDangerouslyIdentifiedSource
            } else {
                Rule::MergeIntoTarget
            };
            step.decide(DecisionKind::Merged, rule, s, t, Some(tp), text);
            tp
        }
    }
}

/// Source person `sp` into target person `tp`: properties `{...source, ...target}`, then
/// the event's updates; `created_at = min`; ids move; the source is deleted.
fn merge_persons(step: &mut Step, sp: Uuid, tp: Uuid, ups: &EventUpdates) {
    step.absorb(sp, tp);
    // PostHog computes the event's updates against the merged properties...
    let by = step.by().clone();
    apply_updates(step.person_mut(tp), ups, &by);
    // ...and then, like every merge that returns a person, runs the ordinary person update
    // with the same event once more. Only visible when one event both sets (or set_onces)
    // and unsets a key that existed: the second pass writes the set value back.
    update_and_identify(step, tp, ups);
}

/// The ordinary person update of a merge event: property updates and `is_identified = true`
/// (never back to false).
fn update_and_identify(step: &mut Step, pid: Uuid, ups: &EventUpdates) {
    let by = step.by().clone();
    let person = step.person_mut(pid);
    apply_updates(person, ups, &by);
    if !person.is_identified {
        person.is_identified = true;
        person.identified_by = Some(by);
    }
}
