//! Mixpanel identity rules, after Mixpanel's ID management docs
//! (<https://docs.mixpanel.com/docs/tracking-methods/id-management>).
//!
//! The ID merge mode is a project setting (`ProjectSettings::mixpanel_id_merge`, Simplified by
//! default), never guessed from traffic: Mixpanel's SDKs send `$device_id` in Original projects
//! too. `simplified.rs` and `original.rs` hold each mode's rules, `cluster.rs` what they share.
//!
//! Both modes:
//! - disallowed distinct ids (Import Events reference,
//!   <https://developer.mixpanel.com/reference/import-events>) never merge. Whether Mixpanel
//!   matches them ignoring case is not documented; the inspector ignores ASCII case and
//!   surrounding spaces and says so, so that `NULL` is flagged as well as `null`;
//! - `$engage` (the `/engage` profile update) applies `$set`, `$set_once`, `$unset`, `$add`,
//!   `$append`, `$union` and `$remove` to the cluster owning `$distinct_id` (created when none
//!   does), as the Engage API reference documents them; `$groups` touches no person.

mod cluster;
mod original;
mod simplified;
mod words;

use serde_json::{Map, Value};

use crate::graph::{id_text, IdKind, Ident};
use crate::props::{apply_updates, EventUpdates};
use crate::settings::MixpanelIdMerge;
use crate::step::{Outcome, Step, Vendor};
use crate::types::{
    prop, Attribution, ChangeOp, DecisionKind, EventInput, PropertyChange, PropertyOrigin, Rule, WarningKind,
};
use crate::uuid::person_uuid;
use cluster::who;

/// Mixpanel's disallowed distinct ids, exactly as the Import Events reference lists them.
const DISALLOWED: [&str; 17] = [
    "00000000-0000-0000-0000-000000000000",
    "anon",
    "anonymous",
    "nil",
    "none",
    "null",
    "n/a",
    "na",
    "undefined",
    "unknown",
    "<nil>",
    "0",
    "-1",
    "true",
    "false",
    "[]",
    "{}",
];

/// A disallowed id (see the module doc for the case decision). A `$device:` id is judged by
/// its device id, since Mixpanel builds it from `$device_id`.
pub(crate) fn is_mixpanel_disallowed(value: &str) -> bool {
    let v = value.trim();
    let v = v.strip_prefix("$device:").unwrap_or(v).trim();
    DISALLOWED.iter().any(|d| d.eq_ignore_ascii_case(v))
}

/// A non-empty identifier property of the event.
pub(crate) fn text(ev: &EventInput, key: &str) -> Option<String> {
    id_text(ev.prop(key)).filter(|v| !v.is_empty())
}

/// Records a disallowed id (warning + decision) and returns whether it is one.
pub(crate) fn refuse_disallowed(step: &mut Step, mode: MixpanelIdMerge, value: &str, kind: IdKind) -> bool {
    if !is_mixpanel_disallowed(value) {
        return false;
    }
    let id = Ident::new(value, kind);
    let text = format!(
        "{}: never merges '{}' ({}): it is on Mixpanel's list of disallowed ids (anon, anonymous, nil, none, \
         null, n/a, na, undefined, unknown, <nil>, 0, -1, true, false, [], {{}}, the all-zero uuid); the \
         inspector matches that list ignoring case, which Mixpanel does not document either way.",
        who(mode),
        id.value,
        id.kind.as_str()
    );
    step.warn(WarningKind::BlockedIdentifierValue, vec![id.value.clone()], text.clone());
    step.decide(DecisionKind::Ignored, Rule::BlockedIdentifier, Some(&id.value), None, None, text);
    true
}

pub(crate) const VENDOR: Vendor =
    Vendor { apply, blocks_id: is_mixpanel_disallowed, links_event_ids: true, words: &words::WORDS };

/// Runs the project's ID merge mode for the step's event.
fn apply(step: &mut Step) -> Outcome {
    let ev = step.ev;
    let mode = step.project.settings.mixpanel_id_merge;
    match ev.event.as_str() {
        "$groups" => return Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)).into(),
        "$engage" => return engage(step, mode).into(),
        _ => {}
    }
    let cluster = match mode {
        MixpanelIdMerge::Simplified => simplified::apply(step),
        MixpanelIdMerge::Original => original::apply(step),
    };
    match cluster {
        Some(pid) => Attribution::Person(pid).into(),
        None => Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)).into(),
    }
}

/// `$engage` (the `/engage` profile update): property updates on the cluster of `$distinct_id`.
fn engage(step: &mut Step, mode: MixpanelIdMerge) -> Attribution {
    let ev = step.ev;
    let id = ev.distinct_id.clone();
    if id.is_empty() || refuse_disallowed(step, mode, &id, IdKind::DistinctId) {
        return Attribution::Personless(person_uuid(&ev.project, &id));
    }
    let pid = match step.project.index.person_of_mut(&id) {
        Some(pid) => pid,
        None => {
            let kind = step.kind_of(&id).unwrap_or(IdKind::DistinctId);
            step.project.kinds.entry(id.clone()).or_insert(kind);
            let pid = step.create_person(vec![id.clone()], false, EventUpdates::default());
            let text = format!(
                "{}: a profile update (/engage) for '{id}', which belonged to no cluster yet, made a profile \
                 for it.",
                who(mode)
            );
            step.decide(DecisionKind::Created, Rule::ProfileUpdated, None, Some(&id), Some(pid), text);
            pid
        }
    };
    let ups = EventUpdates::of(ev);
    let by = step.by().clone();
    apply_updates(step.person_mut(pid), &ups, &by);
    let person = step.person_mut(pid);
    for (key, value) in list_updates(&ev.properties, &person.properties) {
        let old = match &value {
            Some(v) => person.properties.insert(key.clone(), v.clone()),
            None => person.properties.remove(&key),
        };
        let replaced_origin = match &value {
            Some(_) => {
                person.property_origins.insert(key.clone(), PropertyOrigin { by: by.clone(), op: ChangeOp::Set })
            }
            None => person.property_origins.remove(&key),
        };
        person.history.push(PropertyChange {
            key,
            op: ChangeOp::Set,
            old,
            new: value,
            by: by.clone(),
            replaced_origin,
            folded: 0,
        });
    }
    Attribution::Person(pid)
}

/// The new values of `$add` (numeric add, a missing property counts as 0), `$append` (push to a
/// list), `$union` (append the values not in the list yet) and `$remove` (remove a value from a
/// list), in that order, against `current` (Mixpanel Engage API reference,
/// <https://developer.mixpanel.com/reference/profile-numerical-add> and its list operations).
/// Updates of the wrong type (adding to a string) change nothing, as Mixpanel ignores them.
fn list_updates(props: &Map<String, Value>, current: &Map<String, Value>) -> Vec<(String, Option<Value>)> {
    let mut now = current.clone();
    let mut out: Vec<(String, Option<Value>)> = Vec::new();
    let mut put = |now: &mut Map<String, Value>, key: &str, v: Value| {
        now.insert(key.to_owned(), v.clone());
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), Some(v)));
    };
    let object = |k: &str| match prop(props, k) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    for (key, by) in object("$add") {
        let Some(by) = by.as_f64() else { continue };
        let base = match now.get(&key) {
            None | Some(Value::Null) => 0.0,
            Some(v) => match v.as_f64() {
                Some(n) => n,
                None => continue,
            },
        };
        let sum = base + by;
        let v = if sum.fract() == 0.0 && sum.abs() < 9.0e15 { Value::from(sum as i64) } else { Value::from(sum) };
        put(&mut now, &key, v);
    }
    for (op, value) in [("$append", false), ("$union", true)] {
        for (key, add) in object(op) {
            let mut list = match now.get(&key) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(l)) => l.clone(),
                Some(_) => continue,
            };
            let items = match (value, add) {
                (true, Value::Array(items)) => items,
                (_, item) => vec![item],
            };
            for item in items {
                if !value || !list.contains(&item) {
                    list.push(item);
                }
            }
            put(&mut now, &key, Value::Array(list));
        }
    }
    for (key, gone) in object("$remove") {
        if let Some(Value::Array(list)) = now.get(&key) {
            let kept: Vec<Value> = list.iter().filter(|v| **v != gone).cloned().collect();
            if kept.len() != list.len() {
                put(&mut now, &key, Value::Array(kept));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Import Events reference (<https://developer.mixpanel.com/reference/import-events>): the
    /// disallowed distinct ids, matched ignoring case (undocumented; the inspector's choice).
    #[test]
    fn disallowed_ids_are_exactly_the_documented_list() {
        for v in DISALLOWED.iter().copied().chain(["NULL", " anon ", "N/A", "$device:0", "<NIL>"]) {
            assert!(is_mixpanel_disallowed(v), "{v:?}");
        }
        for v in ["1", "user", "anon-1", "$device:1234", "nan", "lmy47d", ""] {
            assert!(!is_mixpanel_disallowed(v), "{v:?} is not on Mixpanel's list");
        }
    }

    #[test]
    fn add_append_union_remove() {
        let props = serde_json::json!({"$add": {"n": 2, "m": 1.5}, "$append": {"l": 3}, "$union": {"u": [1, 2]},
            "$remove": {"r": "x"}});
        let current = serde_json::json!({"n": 1, "u": [2], "r": ["x", "y"]});
        let out = list_updates(props.as_object().unwrap(), current.as_object().unwrap());
        let get = |k: &str| out.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.clone());
        assert_eq!(get("n"), Some(serde_json::json!(3)));
        assert_eq!(get("m"), Some(serde_json::json!(1.5)));
        assert_eq!(get("l"), Some(serde_json::json!([3])));
        assert_eq!(get("u"), Some(serde_json::json!([2, 1])));
        assert_eq!(get("r"), Some(serde_json::json!(["y"])));
    }
}
