//! Person property updates (`$set`, `$set_once`, `$unset`, as PostHog's
//! `computeEventPropertyUpdates` applies them), with the provenance of every value.
//!
//! Invariants:
//! - every check (`$set_once` absent? `$set` different? `$unset` key present?) looks at the
//!   properties as they were *before* the event, as PostHog's `computeEventPropertyUpdates` does;
//! - within one event `$set` beats `$set_once`, and `$unset` runs after the sets;
//! - `property_origins` has exactly the keys of `properties`.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::js::js_equal;
use crate::origins::reserve_small;
use crate::types::{ChangeOp, EventInput, EventRef, Person, PropertyChange, PropertyOrigin};

/// Events PostHog never lets update person properties (they run in a separate pipeline). A
/// `match`, asked for every personful event: no `memcmp` call for names of the same length.
fn no_person_update_event(event: &str) -> bool {
    matches!(event, "$exception" | "$$heatmap")
}

/// The person-property part of one personful event, after PostHog's stripping rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventUpdates {
    pub set: Map<String, Value>,
    pub set_once: Map<String, Value>,
    pub unset: Vec<String>,
    /// `$exception` / `$$heatmap`: never update an existing person. (PostHog's creation path
    /// still uses `$set`/`$set_once` when such an event creates the person.)
    pub updates_blocked: bool,
}

impl EventUpdates {
    /// No `$set`, `$set_once` or `$unset`: nothing to apply (most events).
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.set_once.is_empty() && self.unset.is_empty()
    }

    /// Personless events never get here (the engine handles them before), so only
    /// `$groupidentify` is stripped: it sets group properties, never person properties.
    pub fn of(ev: &EventInput) -> EventUpdates {
        if ev.event == "$groupidentify" {
            return EventUpdates::default();
        }
        let object = |key: &str| match ev.prop(key) {
            Some(Value::Object(m)) => m.clone(),
            // PostHog spreads `$set || {}`; non-object values are not meaningful person updates.
            _ => Map::new(),
        };
        let unset = match ev.prop("$unset") {
            // Non-string array entries are skipped, as PostHog does.
            Some(Value::Array(keys)) => keys.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect(),
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        EventUpdates {
            set: object("$set"),
            set_once: object("$set_once"),
            unset,
            updates_blocked: no_person_update_event(&ev.event),
        }
    }
}

/// Fills a brand-new person's properties: `{...$set_once, ...$set}` (no `$unset`: nothing
/// existed yet). One history entry per resulting key. Takes the updates by value: they are the
/// creating event's own, and their keys and values move into the person.
pub(crate) fn init_properties(person: &mut Person, ups: EventUpdates, by: &Arc<EventRef>) {
    let EventUpdates { set, set_once, .. } = ups;
    let mut landed: Vec<(String, Value, ChangeOp)> = Vec::with_capacity(set_once.len() + set.len());
    for (k, v) in set_once {
        if !set.contains_key(&k) {
            landed.push((k, v, ChangeOp::SetOnce));
        }
    }
    landed.extend(set.into_iter().map(|(k, v)| (k, v, ChangeOp::Set)));
    for (key, value, op) in landed {
        write(person, key, Some(value), op, by);
    }
}

/// Applies one event's `$set`/`$set_once`/`$unset` to an existing person. Returns whether
/// anything changed.
pub(crate) fn apply_updates(person: &mut Person, ups: &EventUpdates, by: &Arc<EventRef>) -> bool {
    if ups.updates_blocked {
        return false;
    }
    let (to_set, to_unset) = planned_updates(person, ups);
    let changed = !to_set.is_empty() || !to_unset.is_empty();
    for (key, value, op) in to_set {
        write(person, key, Some(value), op, by);
    }
    for key in to_unset {
        // Sets ran first: a key both set and unset by one event ends up removed (if it existed).
        if person.properties.contains_key(&key) {
            write(person, key, None, ChangeOp::Unset, by);
        }
    }
    changed
}

/// The keys to set, the new values and how, and the keys to unset, that one event's updates
/// would apply to `person` (nothing when updates are blocked).
pub(crate) type PlannedUpdates = (Vec<(String, Value, ChangeOp)>, Vec<String>);

pub(crate) fn planned_updates(person: &Person, ups: &EventUpdates) -> PlannedUpdates {
    if ups.updates_blocked {
        return (Vec::new(), Vec::new());
    }
    let before = &person.properties;
    // Computed entirely against `before`; `$set` entries replace `$set_once` ones for a key.
    let mut to_set: Vec<(String, Value, ChangeOp)> = Vec::new();
    for (k, v) in &ups.set_once {
        if !before.contains_key(k) && !ups.set.contains_key(k) {
            to_set.push((k.clone(), v.clone(), ChangeOp::SetOnce));
        }
    }
    for (k, v) in &ups.set {
        match before.get(k) {
            Some(old) if js_equal(old, v) => {}
            // `$set_once` for a key absent before and also in `$set`: the `$set` value wins.
            _ => to_set.push((k.clone(), v.clone(), ChangeOp::Set)),
        }
    }
    let to_unset: Vec<String> = ups.unset.iter().filter(|k| before.contains_key(*k)).cloned().collect();
    (to_set, to_unset)
}

/// How far back `record_skipped` looks for the key's previous skipped write. Bounded so that a
/// skipped write costs O(1) whatever the person's history; a key whose previous entry lies
/// further back simply starts a new entry.
const FOLD_LOOKBACK: usize = 64;

/// Records, without changing the person, the values a skipped write carried: per key, a
/// `FilteredSkipped` history entry (`old` = the value kept, `new` = the value dropped). When the
/// key's latest history entry is already a skipped write, that entry takes the new value and
/// event and counts one more `folded` write instead: nothing changed the key in between, so its
/// `old` is still the value kept.
pub(crate) fn record_skipped(person: &mut Person, to_set: Vec<(String, Value, ChangeOp)>, by: &Arc<EventRef>) {
    for (key, value, _) in to_set {
        let latest = person.history.iter_mut().rev().take(FOLD_LOOKBACK).find(|c| c.key == key);
        if let Some(entry) = latest.filter(|c| c.op == ChangeOp::FilteredSkipped) {
            entry.new = Some(value);
            entry.by = by.clone();
            entry.folded += 1;
            continue;
        }
        let old = person.properties.get(&key).cloned();
        let replaced_origin = person.property_origins.get(&key).cloned();
        reserve_small(&mut person.history);
        person.history.push(PropertyChange {
            key,
            op: ChangeOp::FilteredSkipped,
            old,
            new: Some(value),
            by: by.clone(),
            replaced_origin,
            folded: 0,
        });
    }
}

/// Folds a deleted source person's properties into the target: `{...source, ...target}`.
/// The target's value wins every clash; the source's losing value is kept in the history.
/// Values carried over keep their original origin (the event that really set them).
pub(crate) fn merge_properties(target: &mut Person, source: &Person, by: &Arc<EventRef>) {
    for (key, value) in &source.properties {
        let source_origin = source.property_origins.get(key).cloned();
        match target.properties.get(key) {
            Some(kept) => {
                let kept = kept.clone();
                reserve_small(&mut target.history);
                target.history.push(PropertyChange::merge_lost(
                    key.clone(),
                    Some(value.clone()),
                    Some(kept),
                    by,
                    source_origin,
                ));
            }
            None => {
                target.properties.insert(key.clone(), value.clone());
                let origin =
                    source_origin.clone().unwrap_or(PropertyOrigin { by: by.clone(), op: ChangeOp::MergeAdopted });
                target.property_origins.insert(key.clone(), origin);
                reserve_small(&mut target.history);
                target.history.push(PropertyChange {
                    key: key.clone(),
                    op: ChangeOp::MergeAdopted,
                    old: None,
                    new: Some(value.clone()),
                    by: by.clone(),
                    replaced_origin: source_origin,
                    folded: 0,
                });
            }
        }
    }
}

/// Sets (Some) or removes (None) one key, keeping origins and history in step.
fn write(person: &mut Person, key: String, value: Option<Value>, op: ChangeOp, by: &Arc<EventRef>) {
    let old = match &value {
        Some(v) => person.properties.insert(key.clone(), v.clone()),
        None => person.properties.remove(&key),
    };
    let replaced_origin = match &value {
        Some(_) => person.property_origins.insert(key.clone(), PropertyOrigin { by: by.clone(), op }),
        None => person.property_origins.remove(&key),
    };
    reserve_small(&mut person.history);
    person.history.push(PropertyChange { key, op, old, new: value, by: by.clone(), replaced_origin, folded: 0 });
}
