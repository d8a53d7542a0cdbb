//! Mixpanel identity rules, after Mixpanel's identity management docs
//! (<https://docs.mixpanel.com/docs/tracking-methods/id-management>).
//!
//! Mode of a project (decided per project, sticky): **Simplified ID Merge** as soon as one of
//! its events carries `$device_id` or `$user_id` (what every current SDK sends); until then
//! **Original ID Merge**.
//! - Simplified: `$device_id` and `$user_id` on an event link into one cluster; a `$device:<uuid>`
//!   distinct id belongs to the cluster of its device id; a cluster holds one `$user_id`.
//!   `$create_alias` and `$merge` do not merge in this mode (explained).
//! - Original: `$identify` links `$anon_distinct_id` to the distinct id (a user id),
//!   `$create_alias` links `alias` (the new user id) to the distinct id, `$merge` links all of
//!   `$distinct_ids`; a cluster still holds one user id.
//! - `$engage` (the `/engage` profile update) applies `$set`/`$set_once`/`$unset` to the cluster
//!   owning `$distinct_id` (created when none does); `$groups` touches no person.
//!
//! Disallowed ids never merge (explained).

mod words;

use serde_json::Value;

use crate::family::Family;
use crate::graph::link::{link, refuse_blocked, GraphRules};
use crate::graph::{id_text, IdKind, Ident};
use crate::props::{apply_updates, EventUpdates};
use crate::step::{Outcome, Step, Vendor};
use crate::types::{Attribution, DecisionKind, Rule, WarningKind};
use crate::uuid::person_uuid;

/// Mixpanel's limits and words for the shared identity graph.
const GRAPH: GraphRules = GraphRules {
    family: Family::Mixpanel,
    carrier: "event",
    other_limit: None,
    user_id_rule: Rule::ClusterHasUserId,
    user_id_warning: WarningKind::ClusterAlreadyHasUserId,
    second_user_id,
    blocked: |id| {
        format!(
            "Mixpanel never merges '{}' ({}): it is a disallowed id (anon, null, 0, -1, undefined, the \
             all-zero uuid, empty, ...), so it joins no cluster.",
            id.value,
            id.kind.as_str()
        )
    },
    resolve_conflict: None,
};

fn second_user_id(label: &str, have: &str, new: &str) -> String {
    format!(
        "Mixpanel did not merge: the cluster of '{label}' already has $user_id '{have}', and a cluster holds \
         only one $user_id, so '{new}' stays in a cluster of its own."
    )
}

/// Mixpanel's disallowed ids (compared case-insensitively after trimming), plus empty.
const DISALLOWED: [&str; 15] = [
    "00000000-0000-0000-0000-000000000000",
    "-1",
    "0",
    "[]",
    "{}",
    "anon",
    "anonymous",
    "false",
    "lmy47d",
    "nan",
    "nil",
    "none",
    "null",
    "true",
    "undefined",
];

pub(crate) fn is_mixpanel_disallowed(value: &str) -> bool {
    let v = value.trim();
    let v = v.strip_prefix("$device:").unwrap_or(v);
    v.is_empty() || DISALLOWED.iter().any(|d| d.eq_ignore_ascii_case(v))
}

/// The identifiers a Mixpanel event links, and whether it is in Simplified mode.
pub(crate) fn mixpanel_ids(
    event: &str,
    distinct_id: &str,
    props: &serde_json::Map<String, Value>,
    simplified: bool,
    known: impl Fn(&str) -> Option<IdKind>,
) -> Vec<Ident> {
    let prop = |k: &str| id_text(props.get(k)).filter(|v| !v.is_empty());
    let mut ids = Vec::new();
    if simplified {
        let user = prop("$user_id");
        let device = prop("$device_id");
        ids.extend(user.clone().map(|u| Ident::new(u, IdKind::UserId)));
        if let Some(d) = &device {
            ids.push(Ident::new(d.clone(), IdKind::DeviceId));
            // The device's anonymous distinct id, even when this event is sent as the user:
            // a later `/engage` or event may still name it.
            ids.push(Ident::new(format!("$device:{d}"), IdKind::DistinctId));
        }
        let mut distinct = vec![distinct_id.to_owned()];
        distinct.extend(prop("$anon_distinct_id"));
        for d in distinct {
            if Some(&d) == user.as_ref() || Some(&d) == device.as_ref() {
                continue;
            }
            // `$device:<uuid>` is the anonymous distinct id of device <uuid>.
            if let Some(dev) = d.strip_prefix("$device:").filter(|dev| Some(*dev) != device.as_deref()) {
                ids.push(Ident::new(dev, IdKind::DeviceId));
            }
            let kind = known(&d).unwrap_or(IdKind::DistinctId);
            ids.push(Ident::new(d, kind));
        }
        return ids;
    }
    let own = |kind| Ident::new(distinct_id, known(distinct_id).unwrap_or(kind));
    match event {
        "$identify" => {
            ids.push(own(IdKind::UserId));
            ids.extend(
                prop("$anon_distinct_id").map(|a| Ident::new(a.clone(), known(&a).unwrap_or(IdKind::DistinctId))),
            );
        }
        "$create_alias" => {
            ids.push(own(IdKind::DistinctId));
            ids.extend(prop("alias").map(|a| Ident::new(a.clone(), known(&a).unwrap_or(IdKind::UserId))));
        }
        "$merge" => {
            let all = props.get("$distinct_ids").and_then(Value::as_array).cloned().unwrap_or_default();
            for v in all.iter().filter_map(|v| id_text(Some(v))) {
                let kind = known(&v).unwrap_or(IdKind::DistinctId);
                ids.push(Ident::new(v, kind));
            }
        }
        _ => ids.push(own(IdKind::DistinctId)),
    }
    ids
}

pub(crate) fn carries_simplified_ids(props: &serde_json::Map<String, Value>) -> bool {
    ["$device_id", "$user_id"].iter().any(|k| id_text(props.get(*k)).is_some_and(|v| !v.is_empty()))
}

pub(crate) const VENDOR: Vendor =
    Vendor { apply, blocks_id: is_mixpanel_disallowed, links_event_ids: true, words: &words::WORDS };

/// Runs Mixpanel's ID merge for the step's event.
fn apply(step: &mut Step) -> Outcome {
    let ev = step.ev;
    match ev.event.as_str() {
        "$groups" => return Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)).into(),
        "$engage" => return engage(step).into(),
        _ => {}
    }
    if !step.project.simplified && carries_simplified_ids(&ev.properties) {
        step.project.simplified = true;
    }
    let simplified = step.project.simplified;
    if simplified && matches!(ev.event.as_str(), "$create_alias" | "$merge") {
        let text = format!(
            "{} does not merge in Simplified ID Merge (this project sends $device_id/$user_id): Mixpanel \
             links only the $device_id and $user_id carried by events.",
            ev.event
        );
        step.decide(DecisionKind::Ignored, Rule::NotInThisMode, None, Some(&ev.distinct_id), None, text);
    }
    let mut ids = mixpanel_ids(&ev.event, &ev.distinct_id, &ev.properties, simplified, |v| step.kind_of(v));
    ids.retain(|id| !refuse_blocked(step, id, &GRAPH, is_mixpanel_disallowed(&id.value)));
    let anchor = link(step, &ids, &GRAPH);
    match step.project.index.person_of_mut(&ev.distinct_id).or(anchor) {
        Some(pid) => Attribution::Person(pid).into(),
        None => Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)).into(),
    }
}

/// `$engage` (the `/engage` profile update): property updates on the cluster of `$distinct_id`.
fn engage(step: &mut Step) -> Attribution {
    let ev = step.ev;
    let id = ev.distinct_id.clone();
    if is_mixpanel_disallowed(&id) {
        refuse_blocked(step, &Ident::new(id.clone(), IdKind::DistinctId), &GRAPH, true);
        return Attribution::Personless(person_uuid(&ev.project, &id));
    }
    let pid = match step.project.index.person_of_mut(&id) {
        Some(pid) => pid,
        None => {
            let kind = step.kind_of(&id).unwrap_or(IdKind::DistinctId);
            step.project.kinds.entry(id.clone()).or_insert(kind);
            let pid = step.create_person(vec![id.clone()], false, &EventUpdates::default());
            let text = format!(
                "Mixpanel: a profile update (/engage) for '{id}', which belonged to no cluster yet, made a \
                 profile for it."
            );
            step.decide(DecisionKind::Created, Rule::ProfileUpdated, None, Some(&id), Some(pid), text);
            pid
        }
    };
    let ups = EventUpdates::of(ev);
    let by = step.by().clone();
    apply_updates(step.person_mut(pid), &ups, &by);
    Attribution::Person(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disallowed_ids() {
        for v in ["", " ", "anon", "NULL", "0", "-1", "undefined", "00000000-0000-0000-0000-000000000000", "$device:0"]
        {
            assert!(is_mixpanel_disallowed(v), "{v:?}");
        }
        for v in ["1", "user", "anon-1", "$device:1234"] {
            assert!(!is_mixpanel_disallowed(v), "{v:?}");
        }
    }
}
