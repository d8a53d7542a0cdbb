//! Segment Unify's "flat matching logic" with its limits and priorities, after the
//! "Identity Resolution Settings" page
//! (<https://segment.com/docs/unify/identity-resolution/identity-resolution-settings/>) and
//! "Unify Limits" (<https://segment.com/docs/unify/product-limits/>):
//! - no profile matches the message's identifiers: a new profile; one matches: the identifiers
//!   join it; several match: they merge;
//! - when the final profile would exceed an identifier's limit (1 `user_id`, 5 of every other
//!   by default, `ProjectSettings::segment_limit`), Unify "demotes" the incoming message's
//!   lowest-priority identifier and tries again;
//! - a profile takes at most 100 merges and 1000 identifiers ("No additional merges will be
//!   added once the profile reaches this limit. Event resolution for the profile, however, will
//!   continue.");
//! - on a merge, a trait both profiles hold takes the newest value.
//!
//! Invariants: a profile never holds more identifiers of a name than its limit (counted ever:
//! identifiers never leave a profile); `is_identified` == the profile holds a `user_id`.

use uuid::Uuid;

use super::ids::{kind_of_name, priority, UnifyId};
use crate::props::EventUpdates;
use crate::step::Step;
use crate::types::{DecisionKind, PropertyChange, Rule, WarningKind};

/// "Engage supports up to 100 merges per profile in its identity graph."
const MAX_MERGES: usize = 100;
/// "Engage supports up to 1000 mappings per profile in its identity graph."
const MAX_MAPPINGS: usize = 1000;

/// A limit the message's identifiers would break on the final profile.
struct Broken {
    name: &'static str,
    count: usize,
    limit: u32,
    values: Vec<String>,
}

fn name_of(step: &Step, id: &str) -> &'static str {
    step.project.unify_names.get(id).copied().unwrap_or("anonymous_id")
}

/// Resolves the message's identifiers (sorted by priority, blocked values removed) into one
/// profile; returns it (None when no identifier is left).
pub(super) fn resolve(step: &mut Step, mut ids: Vec<UnifyId>) -> Option<Uuid> {
    for id in &mut ids {
        // An identifier keeps the name it was first seen with.
        match step.project.unify_names.get(&id.value) {
            Some(&name) => id.name = name,
            None => {
                step.project.unify_names.insert(id.value.clone(), id.name);
                step.project.kinds.insert(id.value.clone(), kind_of_name(id.name));
            }
        }
    }
    ids.sort_by(|a, b| priority(a.name).cmp(&priority(b.name)));
    loop {
        let profiles = owners(step, &ids);
        // The usual message: every identifier already on one profile, so nothing can break a
        // limit (skips gathering the profile's identifiers).
        let known =
            |step: &mut Step, p: Uuid| ids.iter().all(|i| step.project.index.person_of_mut(&i.value) == Some(p));
        if profiles.len() == 1 && known(step, profiles[0]) {
            return commit(step, &ids, &profiles);
        }
        let Some(broken) = broken_limit(step, &ids, &profiles) else {
            return commit(step, &ids, &profiles);
        };
        let dropped = ids.pop()?;
        explain_drop(step, &dropped, &broken, &ids);
    }
}

/// The distinct profiles holding any of `ids`, in the order of `ids`.
fn owners(step: &mut Step, ids: &[UnifyId]) -> Vec<Uuid> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(p) = step.project.index.person_of_mut(&id.value) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The first identifier name (by priority) whose count on the final profile (the matched
/// profiles and the message together) exceeds its limit.
fn broken_limit(step: &Step, ids: &[UnifyId], profiles: &[Uuid]) -> Option<Broken> {
    let mut all: Vec<(&str, &'static str)> = Vec::new();
    for pid in profiles {
        for v in &step.project.persons[pid].distinct_ids {
            all.push((v.as_str(), name_of(step, v)));
        }
    }
    for id in ids {
        if !all.iter().any(|(v, _)| *v == id.value) {
            all.push((id.value.as_str(), id.name));
        }
    }
    // Every name on the final profile: merging two profiles can break the limit of a name the
    // message itself does not carry (two user_ids joined through a shared anonymous_id).
    let mut names: Vec<&'static str> = all.iter().map(|(_, n)| *n).collect();
    names.sort_by(|a, b| priority(a).cmp(&priority(b)));
    names.dedup();
    names.into_iter().find_map(|name| {
        let values: Vec<String> = all.iter().filter(|(_, n)| *n == name).map(|(v, _)| (*v).to_owned()).collect();
        let limit = step.project.settings.segment_limit(name);
        (values.len() > limit as usize).then_some(Broken { name, count: values.len(), limit, values })
    })
}

fn user_id_of<'s>(step: &'s Step, pid: Uuid) -> Option<&'s str> {
    let p = step.project.persons.get(&pid)?;
    p.distinct_ids.iter().find(|v| name_of(step, v) == "user_id").map(String::as_str)
}

fn explain_drop(step: &mut Step, dropped: &UnifyId, broken: &Broken, kept: &[UnifyId]) {
    let owner = step.project.index.person_of_mut(&dropped.value);
    let held_by = owner.and_then(|p| user_id_of(step, p).map(str::to_owned));
    let (rank, _) = priority(dropped.name);
    let text = format!(
        "Segment Unify dropped '{}' ({}) from this message{}: with it the profile would hold {} {} identifiers \
         ({}; limit {}). Unify demotes the incoming message's lowest-priority identifier and tries again \
         (Identity Resolution Settings, \"Priority\": user_id 1, email 2, then alphabetical from 3{}), \
         so {}.",
        dropped.value,
        dropped.name,
        match &held_by {
            Some(u) => format!(" (it is on the profile of user_id '{u}')"),
            None => String::new(),
        },
        broken.count,
        broken.name,
        broken.values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", "),
        broken.limit,
        if rank >= 3 {
            format!("; {} ranks below the message's other identifiers", dropped.name)
        } else {
            String::new()
        },
        match kept.len() {
            0 => "the message keeps no identifier".to_owned(),
            _ => format!(
                "it tries again with {}",
                kept.iter().map(|i| format!("'{}'", i.value)).collect::<Vec<_>>().join(", ")
            ),
        }
    );
    let mut ids = vec![dropped.value.clone()];
    ids.extend(broken.values.iter().filter(|v| **v != dropped.value).cloned());
    step.warn(WarningKind::ProfileUserIdLimit, ids, text.clone());
    step.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(&dropped.value), None, owner, text);
}

/// Puts the (now acceptable) identifiers on one profile: a new one, the one matched, or the
/// matched ones merged (within the merge and mapping limits).
fn commit(step: &mut Step, ids: &[UnifyId], profiles: &[Uuid]) -> Option<Uuid> {
    let first = ids.first()?;
    let anchor = match profiles.iter().copied().find(|&p| user_id_of(step, p).is_some()) {
        Some(p) => p,
        // The oldest profile keeps its id; the others merge into it.
        None => match profiles.iter().copied().min_by_key(|p| step.project.persons[p].created_by.seq) {
            Some(p) => p,
            None => new_profile(step, first),
        },
    };
    for &other in profiles.iter().filter(|&&p| p != anchor) {
        merge(step, other, anchor);
    }
    for id in ids {
        if step.project.index.person_of_mut(&id.value).is_none() {
            attach(step, id, anchor);
        }
    }
    if user_id_of(step, anchor).is_some() && !step.project.persons[&anchor].is_identified {
        let by = step.by().clone();
        let p = step.person_mut(anchor);
        p.is_identified = true;
        p.identified_by = Some(by);
    }
    Some(anchor)
}

fn new_profile(step: &mut Step, id: &UnifyId) -> Uuid {
    let is_user = id.name == "user_id";
    let pid = step.create_person(vec![id.value.clone()], is_user, EventUpdates::default());
    let text = format!(
        "Segment Unify: no profile matches '{}' ({}), so a new profile starts with it{} (Identity Resolution \
         Settings, \"Flat matching logic\": create a new profile).",
        id.value,
        id.name,
        if is_user { "; holding a user_id, it counts as identified" } else { "" }
    );
    step.decide(DecisionKind::Created, Rule::PersonCreated, None, Some(&id.value), Some(pid), text);
    pid
}

fn attach(step: &mut Step, id: &UnifyId, anchor: Uuid) {
    let label = step.project.persons[&anchor].label();
    if step.project.persons[&anchor].distinct_ids.len() >= MAX_MAPPINGS {
        let text = format!(
            "Segment Unify did not add '{}' ({}) to the profile of '{label}': it already holds {MAX_MAPPINGS} \
             identifiers (Unify Limits, \"Identity Mappings\": no additional mappings are added once a profile \
             reaches this limit; the message still resolves to the profile).",
            id.value, id.name
        );
        step.warn(WarningKind::ProfileUserIdLimit, vec![id.value.clone(), label.clone()], text.clone());
        step.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(&id.value), Some(&label), Some(anchor), text);
        return;
    }
    step.project.index.add_id(anchor, &id.value);
    step.person_mut(anchor).distinct_ids.push(id.value.clone());
    let text = format!(
        "Segment Unify added '{}' ({}) to the profile of '{label}': the message carries identifiers of that \
         profile (\"Flat matching logic\": add to existing profile).",
        id.value, id.name
    );
    step.decide(DecisionKind::Attached, Rule::IdentifierLinked, Some(&id.value), Some(&label), Some(anchor), text);
}

fn merge(step: &mut Step, other: Uuid, anchor: Uuid) {
    let (a_label, o_label) = (step.project.persons[&anchor].label(), step.project.persons[&other].label());
    let merges = step.project.persons[&anchor].merged_from.len() + step.project.persons[&other].merged_from.len() + 1;
    if merges > MAX_MERGES {
        let text = format!(
            "Segment Unify did not merge the profile of '{o_label}' into the profile of '{a_label}': the result \
             would record {merges} merges (Unify Limits, \"Identity Merges\": up to {MAX_MERGES} merges per \
             profile; no additional merges are added once a profile reaches the limit)."
        );
        step.warn(WarningKind::ProfileUserIdLimit, vec![o_label.clone(), a_label.clone()], text.clone());
        step.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(&o_label), Some(&a_label), Some(anchor), text);
        return;
    }
    let newer = merge_newest(step, other, anchor);
    let text = format!(
        "Segment Unify merged the profile of '{o_label}' into the profile of '{a_label}': this message carries \
         identifiers of both (\"Flat matching logic\": merge existing profiles){}.",
        if newer.is_empty() { String::new() } else { format!("; the newer value of {} wins", newer.join(", ")) }
    );
    step.decide(DecisionKind::Merged, Rule::ProfilesMerged, Some(&o_label), Some(&a_label), Some(anchor), text);
}

/// Absorbs `other` into `anchor` where a trait both hold takes the value set most recently
/// (Unify: on a profile merge conflicting traits take the newest value). Returns the traits
/// whose value came from `other`.
fn merge_newest(step: &mut Step, other: Uuid, anchor: Uuid) -> Vec<String> {
    let (s, t) = (&step.project.persons[&other], &step.project.persons[&anchor]);
    let newer: Vec<String> = s
        .properties
        .keys()
        .filter(|k| match (s.property_origins.get(k), t.property_origins.get(k)) {
            (Some(so), Some(to)) => so.by.seq > to.by.seq,
            _ => false,
        })
        .cloned()
        .collect();
    // Taken out of the anchor so the shared merge adopts the other profile's (newer) value.
    let mut lost = Vec::with_capacity(newer.len());
    for k in &newer {
        let t = step.person_mut(anchor);
        let old = t.properties.remove(k);
        let origin = t.property_origins.remove(k);
        lost.push((k.clone(), old, origin));
    }
    step.absorb(other, anchor);
    let by = step.by().clone();
    let t = step.person_mut(anchor);
    for (key, old, replaced_origin) in lost {
        let new = t.properties.get(&key).cloned();
        t.history.push(PropertyChange::merge_lost(key, old, new, &by, replaced_origin));
    }
    newer
}
