//! Mixpanel identity clusters as the engine's persons, shared by both ID merge modes: create a
//! cluster, add an id to one, join two, each with a decision whose sentence names the mode.
//!
//! Invariants:
//! - a cluster holds at most `MAX_CLUSTER_IDS` ids (Mixpanel, Original ID Merge: "a cluster can
//!   hold up to 500 distinct_ids"; Simplified has no documented limit, so it passes `None`);
//! - an id's kind is the one it was first seen with (`Project::kinds`); `IdKind::UserId` is a
//!   `$user_id` (Simplified) or an identified id (Original).

use uuid::Uuid;

use crate::graph::{IdKind, Ident};
use crate::props::EventUpdates;
use crate::settings::MixpanelIdMerge;
use crate::step::Step;
use crate::types::{DecisionKind, PropertyChange, Rule, WarningKind};

/// Original ID Merge's cluster size limit (Mixpanel docs "Identifying Users (Original)":
/// <https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-original>).
pub(crate) const MAX_CLUSTER_IDS: usize = 500;

/// "Mixpanel, Simplified ID Merge" / "Mixpanel, Original ID Merge": every sentence starts so.
pub(crate) fn who(mode: MixpanelIdMerge) -> String {
    format!("Mixpanel, {}", mode.label())
}

pub(crate) fn cluster_of(step: &mut Step, id: &str) -> Option<Uuid> {
    step.project.index.person_of_mut(id)
}

/// The first id of kind `UserId` a cluster holds.
pub(crate) fn user_of(step: &Step, pid: Uuid) -> Option<String> {
    let p = step.project.persons.get(&pid)?;
    p.distinct_ids.iter().find(|id| step.kind_of(id) == Some(IdKind::UserId)).cloned()
}

fn remember_kind(step: &mut Step, id: &Ident) {
    if step.kind_of(&id.value).is_none() {
        step.project.kinds.insert(id.value.clone(), id.kind);
    }
}

/// A new cluster holding `id` (which belongs to none).
pub(crate) fn create(step: &mut Step, mode: MixpanelIdMerge, id: &Ident, why: &str) -> Uuid {
    remember_kind(step, id);
    let is_user = step.kind_of(&id.value) == Some(IdKind::UserId);
    let pid = step.create_person(vec![id.value.clone()], is_user, EventUpdates::default());
    let text =
        format!("{}: '{}' belonged to no cluster yet, so a new cluster starts with it{why}.", who(mode), id.value);
    step.decide(DecisionKind::Created, Rule::PersonCreated, None, Some(&id.value), Some(pid), text);
    pid
}

/// The cluster of `id`, created when it has none.
pub(crate) fn ensure(step: &mut Step, mode: MixpanelIdMerge, id: &Ident) -> Uuid {
    match cluster_of(step, &id.value) {
        Some(pid) => pid,
        None => create(step, mode, id, ""),
    }
}

fn over_limit(
    step: &mut Step,
    mode: MixpanelIdMerge,
    pid: Uuid,
    adding: usize,
    limit: Option<usize>,
    what: &str,
) -> bool {
    let Some(limit) = limit else { return false };
    let have = step.project.persons[&pid].distinct_ids.len();
    if have + adding <= limit {
        return false;
    }
    let label = step.project.persons[&pid].label();
    let text = format!(
        "{}: '{what}' stays outside the cluster of '{label}': it holds {have} ids and a cluster holds at most \
         {limit}.",
        who(mode)
    );
    step.warn(WarningKind::ProfileUserIdLimit, vec![what.to_owned(), label.clone()], text.clone());
    step.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(what), Some(&label), Some(pid), text);
    true
}

/// Adds `id` (in no cluster) to cluster `pid`. `why` ends the sentence. False when the cap refuses it.
pub(crate) fn attach(
    step: &mut Step,
    mode: MixpanelIdMerge,
    pid: Uuid,
    id: &Ident,
    limit: Option<usize>,
    why: &str,
) -> bool {
    if over_limit(step, mode, pid, 1, limit, &id.value) {
        return false;
    }
    remember_kind(step, id);
    let label = step.project.persons[&pid].label();
    step.project.index.add_id(pid, &id.value);
    step.person_mut(pid).distinct_ids.push(id.value.clone());
    if step.kind_of(&id.value) == Some(IdKind::UserId) && !step.project.persons[&pid].is_identified {
        let by = step.by().clone();
        let p = step.person_mut(pid);
        p.is_identified = true;
        p.identified_by = Some(by);
    }
    let text = format!("{}: '{}' joined the cluster of '{label}': {why}.", who(mode), id.value);
    step.decide(DecisionKind::Attached, Rule::IdentifierLinked, Some(&id.value), Some(&label), Some(pid), text);
    true
}

/// Moves cluster `other` into `anchor`. With `carry_properties` false the anchor keeps only its
/// own profile properties (Simplified: a device's profile is not carried to the user's); the
/// dropped values stay in the history. False when the cap refuses it.
pub(crate) fn join(
    step: &mut Step,
    mode: MixpanelIdMerge,
    other: Uuid,
    anchor: Uuid,
    carry_properties: bool,
    limit: Option<usize>,
    why: &str,
) -> bool {
    let (o_label, a_label) = (step.project.persons[&other].label(), step.project.persons[&anchor].label());
    let adding = step.project.persons[&other].distinct_ids.len();
    if over_limit(step, mode, anchor, adding, limit, &o_label) {
        return false;
    }
    let kept = (!carry_properties).then(|| {
        let a = &step.project.persons[&anchor];
        (a.properties.clone(), a.property_origins.clone())
    });
    let became_identified = step.project.persons[&other].is_identified;
    step.absorb(other, anchor);
    if let Some((properties, origins)) = kept {
        let by = step.by().clone();
        let p = step.person_mut(anchor);
        let dropped: Vec<(String, serde_json::Value)> = p
            .properties
            .iter()
            .filter(|(k, _)| !properties.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, old) in dropped {
            p.history.push(PropertyChange::merge_lost(key, Some(old), None, &by, None));
        }
        p.properties = properties;
        p.property_origins = origins;
    }
    if became_identified && !step.project.persons[&anchor].is_identified {
        let by = step.by().clone();
        let p = step.person_mut(anchor);
        p.is_identified = true;
        p.identified_by = Some(by);
    }
    let text = format!("{}: the cluster of '{o_label}' joined the cluster of '{a_label}': {why}.", who(mode));
    step.decide(DecisionKind::Merged, Rule::ProfilesMerged, Some(&o_label), Some(&a_label), Some(anchor), text);
    true
}

/// Simplified: a device cluster that a `$user_id` joins keeps no profile properties (the
/// device's profile is not carried to the user's); the values stay in the history.
pub(crate) fn drop_properties(step: &mut Step, pid: Uuid) {
    let by = step.by().clone();
    let p = step.person_mut(pid);
    for (key, old) in std::mem::take(&mut p.properties) {
        let replaced_origin = p.property_origins.remove(&key);
        p.history.push(PropertyChange::merge_lost(key, Some(old), None, &by, replaced_origin));
    }
}
