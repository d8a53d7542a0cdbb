//! PostHog's normal processing: what happens to a personful event that merges nothing.

use uuid::Uuid;

use crate::props::{apply_updates, EventUpdates};
use crate::step::Step;
use crate::types::EventRef;

/// Normal processing of a personful event for its own distinct id: update the person, or
/// create it (not identified) with `{...$set_once, ...$set}`. Returns (person, created).
pub(super) fn normal(step: &mut Step, ups: &EventUpdates) -> (Uuid, bool) {
    let id = step.ev.distinct_id.clone();
    match step.project.index.person_of_mut(&id) {
        Some(pid) => {
            let person = step.project.persons.get_mut(&pid).expect("indexed person exists");
            if !ups.is_empty() {
                let by = step.by.get_or_init(|| EventRef::of(step.ev));
                apply_updates(person, ups, by);
            }
            (pid, false)
        }
        None => (step.create_person(vec![id], false, ups), true),
    }
}
