//! `merge(source, target)` (spec §1.4), as PostHog's person-merge-service runs it.
//!
//! Invariants:
//! - exactly one decision per call;
//! - the target person (the event's distinct id) always survives; the source person is the one
//!   deleted, so direction is decided by the SDK call, never by which person is older;
//! - past the same-id and illegal-id checks the target's person ends identified, whatever happens;
//! - only the *source* person's identified state can block a merge, and `$merge_dangerously`
//!   lifts even that.

use uuid::Uuid;

use crate::engine::Step;
use crate::illegal::is_illegal_distinct_id;
use crate::messages as msg;
use crate::model::{DecisionKind, MergedPerson, Rule, WarningKind};
use crate::props::{apply_updates, merge_properties, EventUpdates};

impl Step<'_> {
    /// Returns the person the event ends on.
    pub(crate) fn merge(&mut self, source: String, target: String, ups: &EventUpdates) -> Uuid {
        let (s, t) = (Some(source.as_str()), Some(target.as_str()));
        let event = self.ev.event.clone();

        // 1. Same id: nothing to link; the event is then a normal event (not identifying).
        if source == target {
            let (pid, created) = self.normal(ups);
            let text = msg::same_distinct_id(&event, &target) + &msg::then_normal(&target, created);
            self.decide(DecisionKind::Ignored, Rule::SameDistinctId, s, t, Some(pid), text);
            return pid;
        }

        // 2. Illegal ids: PostHog checks the target first, then the source; one warning naming
        // the illegal id. The event is still processed as a normal event (not identifying).
        let illegal = [&target, &source].into_iter().find(|id| is_illegal_distinct_id(id)).cloned();
        if let Some(bad) = illegal {
            let other = if bad == target { source.clone() } else { target.clone() };
            let text = msg::illegal(&event, &bad, &source, &target);
            self.warn(WarningKind::CannotMergeWithIllegalDistinctId, vec![bad, other], text.clone());
            let (pid, created) = self.normal(ups);
            let text = text + &msg::then_normal(&target, created);
            self.decide(DecisionKind::Refused, Rule::IllegalDistinctId, s, t, Some(pid), text);
            return pid;
        }

        // 3. From here on the target's person ends identified.
        let source_pid = self.project.index.person_of_mut(&source);
        let target_pid = self.project.index.person_of_mut(&target);
        match (source_pid, target_pid) {
            (None, None) => {
                // The uuid comes from the first id. PostHog puts the target first unless only the
                // source was already used personless: then the source's uuid is kept, so its
                // earlier personless events already point at the new person.
                let seen = &self.project.seen_personless;
                let source_first = seen.contains_key(&source) && !seen.contains_key(&target);
                let ids = if source_first {
                    vec![source.clone(), target.clone()]
                } else {
                    vec![target.clone(), source.clone()]
                };
                let pid = self.create_person(ids, true, ups);
                let text =
                    msg::merge_created(&source, &target, if source_first { &source } else { &target }, source_first);
                self.decide(DecisionKind::Created, Rule::MergeCreatedPerson, s, t, Some(pid), text);
                pid
            }
            (Some(pid), None) | (None, Some(pid)) => {
                let (new_id, owner_id, rule) = if source_pid.is_some() {
                    (&target, &source, Rule::MergeAttachedTarget)
                } else {
                    (&source, &target, Rule::MergeAttachedSource)
                };
                self.project.index.add_id(pid, new_id);
                self.person_mut(pid).distinct_ids.push(new_id.clone());
                self.update_and_identify(pid, ups);
                let text = msg::attached(new_id, owner_id, &self.project.persons[&pid]);
                self.decide(DecisionKind::Attached, rule, s, t, Some(pid), text);
                pid
            }
            (Some(sp), Some(tp)) if sp == tp => {
                self.update_and_identify(tp, ups);
                let text = msg::same_person(&source, &target);
                self.decide(DecisionKind::Ignored, Rule::SamePerson, s, t, Some(tp), text);
                tp
            }
            (Some(sp), Some(tp)) => {
                let dangerous = event == "$merge_dangerously";
                let source_identified = self.project.persons[&sp].is_identified;
                if source_identified && !dangerous {
                    let text = msg::refused(&source, &target, &self.project.persons[&sp]);
                    let ids = vec![source.clone(), target.clone()];
                    self.warn(WarningKind::CannotMergeAlreadyIdentified, ids, text.clone());
                    // The refused target still gets the event's updates and becomes identified.
                    self.update_and_identify(tp, ups);
                    self.decide(DecisionKind::Refused, Rule::SourceAlreadyIdentified, s, t, Some(tp), text);
                    return tp;
                }
                let text = msg::merged(
                    &source,
                    &target,
                    &self.project.persons[&sp],
                    &self.project.persons[&tp],
                    dangerous && source_identified,
                );
                self.merge_persons(sp, tp, ups);
                let rule = if dangerous && source_identified {
                    Rule::MergeDangerouslyIdentifiedSource
                } else {
                    Rule::MergeIntoTarget
                };
                self.decide(DecisionKind::Merged, rule, s, t, Some(tp), text);
                tp
            }
        }
    }

    /// Source person `sp` into target person `tp`: properties `{...source, ...target}`, then
    /// the event's updates; `created_at = min`; ids move; the source is deleted.
    fn merge_persons(&mut self, sp: Uuid, tp: Uuid, ups: &EventUpdates) {
        self.absorb(sp, tp);
        // PostHog computes the event's updates against the merged properties...
        let by = self.by().clone();
        apply_updates(self.person_mut(tp), ups, &by);
        // ...and then, like every merge that returns a person, runs the ordinary person update
        // with the same event once more. Only visible when one event both sets (or set_onces)
        // and unsets a key that existed: the second pass writes the set value back.
        self.update_and_identify(tp, ups);
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

    /// The ordinary person update of a merge event: property updates and `is_identified = true`
    /// (never back to false).
    fn update_and_identify(&mut self, pid: Uuid, ups: &EventUpdates) {
        let by = self.by().clone();
        let person = self.person_mut(pid);
        apply_updates(person, ups, &by);
        if !person.is_identified {
            person.is_identified = true;
            person.identified_by = Some(by);
        }
    }

    pub(crate) fn person_mut(&mut self, pid: Uuid) -> &mut crate::model::Person {
        self.project.persons.get_mut(&pid).expect("indexed person exists")
    }
}
