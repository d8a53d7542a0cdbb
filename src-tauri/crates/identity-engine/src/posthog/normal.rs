//! PostHog's normal processing: what happens to a personful event that merges nothing, and how
//! PostHog creates a person.

use serde_json::Value;
use uuid::Uuid;

use super::lifted::{forces_write, is_filtered_key};
use crate::props::{apply_updates, planned_updates, record_skipped, EventUpdates};
use crate::step::Step;
use crate::types::{ChangeOp, EventRef};

/// Normal processing of a personful event for its own distinct id: update the person, or
/// create it (not identified). Returns (person, created). Takes the event's updates by value: a
/// created person's properties are moved out of them (the normal processing is always the
/// last use of an event's updates).
pub(super) fn normal(step: &mut Step, ups: EventUpdates) -> (Uuid, bool) {
    let id = step.ev.distinct_id.clone();
    match step.project.index.person_of_mut(&id) {
        Some(pid) => {
            let event = step.ev.event.clone();
            let person = step.project.persons.get_mut(&pid).expect("indexed person exists");
            if !ups.is_empty() {
                let by = step.by.get_or_init(|| std::sync::Arc::new(EventRef::of(step.ev)));
                let (to_set, to_unset) = planned_updates(person, &ups);
                // `getPersonUpdateOutcome` (batch-writing-person-store.ts): a write whose only
                // changes are new values of keys the person already has and PostHog filters is
                // skipped; new keys, unsets and forced (`PERSON_EVENTS`) updates are written. The
                // inspector treats each event as its own batch.
                let filtered_only = !forces_write(&event)
                    && !to_set.is_empty()
                    && to_unset.is_empty()
                    && to_set.iter().all(|(k, _, op)| {
                        *op == ChangeOp::Set && person.properties.contains_key(k) && is_filtered_key(k)
                    });
                if filtered_only {
                    record_skipped(person, to_set, by);
                } else {
                    apply_updates(person, &ups, by);
                }
            }
            (pid, false)
        }
        None => (create(step, vec![id], false, ups), true),
    }
}

/// PostHog's `createPerson` (`person-create-service.ts`): properties
/// `{...$set_once, ...$set, $creator_event_uuid: <the creating event's uuid>}`; the uuid wins over
/// an event's own `$set` of that key. A merge keeps the target's value (`{...source, ...target}`).
pub(super) fn create(step: &mut Step, ids: Vec<String>, identified: bool, mut ups: EventUpdates) -> Uuid {
    ups.set_once.remove("$creator_event_uuid");
    ups.set.insert("$creator_event_uuid".to_owned(), Value::String(step.ev.uuid.clone()));
    step.create_person(ids, identified, ups)
}
