//! Mixpanel, Original ID Merge (Mixpanel docs "Identifying Users (Original)":
//! <https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-original>;
//! API reference "Create Identity", "Create Alias", "Merge Identities").
//!
//! - `$identify` with `$identified_id` and `$anon_id` merges the anon id into the identified
//!   id's cluster only if the anon id is a UUID v4 (`$device:` prefix accepted) and is not
//!   already merged to another identified id.
//! - `$create_alias` (`alias` -> `distinct_id`) adds a new id to an existing cluster; an alias
//!   points to one distinct id only; aliasing into an identified cluster is allowed.
//! - `$merge` (`$distinct_ids: [a, b]`) joins any two clusters, identified or not, only when
//!   sent to `/import`; on `/track` it merges nothing.
//! - A cluster holds at most 500 ids.
//!
//! `$device_id` and `$user_id` carry no identity in this mode: only `distinct_id` does.

use serde_json::Value;
use uuid::Uuid;

use super::cluster::{self, who, MAX_CLUSTER_IDS};
use super::{refuse_disallowed, text};
use crate::graph::{id_text, IdKind, Ident};
use crate::input::INSPECTOR_ROUTE;
use crate::settings::MixpanelIdMerge;
use crate::step::Step;
use crate::types::{DecisionKind, Rule, WarningKind};

const MODE: MixpanelIdMerge = MixpanelIdMerge::Original;
const CAP: Option<usize> = Some(MAX_CLUSTER_IDS);

pub(super) fn apply(step: &mut Step) -> Option<Uuid> {
    match step.ev.event.as_str() {
        "$identify" => identify(step),
        "$create_alias" => alias(step),
        "$merge" => merge(step),
        _ => own(step),
    }
}

/// The event's own distinct id names its cluster (created when it has none).
fn own(step: &mut Step) -> Option<Uuid> {
    let id = step.ev.distinct_id.clone();
    if id.is_empty() || refuse_disallowed(step, MODE, &id, IdKind::DistinctId) {
        return None;
    }
    let kind = step.kind_of(&id).unwrap_or(IdKind::DistinctId);
    Some(cluster::ensure(step, MODE, &Ident::new(id, kind)))
}

/// A UUID v4, bare or as `$device:<uuid>`: the only anon ids `$identify` merges.
pub(crate) fn is_uuid_v4(id: &str) -> bool {
    let bare = id.strip_prefix("$device:").unwrap_or(id);
    Uuid::try_parse(bare).is_ok_and(|u| u.get_version_num() == 4)
}

fn identify(step: &mut Step) -> Option<Uuid> {
    let ev = step.ev;
    let identified = text(ev, "$identified_id").unwrap_or_else(|| ev.distinct_id.clone());
    if identified.is_empty() || refuse_disallowed(step, MODE, &identified, IdKind::UserId) {
        return None;
    }
    step.project.kinds.insert(identified.clone(), IdKind::UserId);
    let target = cluster::ensure(step, MODE, &Ident::new(identified.clone(), IdKind::UserId));
    if !step.project.persons[&target].is_identified {
        let by = step.by().clone();
        let p = step.person_mut(target);
        p.is_identified = true;
        p.identified_by = Some(by);
    }
    let Some(anon) = text(ev, "$anon_id") else {
        let text = format!(
            "{}: $identify without $anon_id merges nothing (Mixpanel's Create Identity needs $identified_id \
             and $anon_id; $anon_distinct_id is not a Mixpanel field).",
            who(MODE)
        );
        step.decide(DecisionKind::Ignored, Rule::IdentifyWithoutAnonId, None, Some(&identified), Some(target), text);
        return Some(target);
    };
    if anon == identified || refuse_disallowed(step, MODE, &anon, IdKind::DistinctId) {
        return Some(target);
    }
    if !is_uuid_v4(&anon) {
        let text = format!(
            "{}: '{anon}' was not merged into '{identified}': $identify merges an $anon_id only when it is a \
             UUID v4 (optionally prefixed $device:).",
            who(MODE)
        );
        step.decide(DecisionKind::Refused, Rule::IllegalDistinctId, Some(&anon), Some(&identified), Some(target), text);
        return Some(target);
    }
    match cluster::cluster_of(step, &anon) {
        None => {
            let why = "$identify merged the $anon_id into the $identified_id's cluster";
            cluster::attach(step, MODE, target, &Ident::new(anon, IdKind::DistinctId), CAP, why);
        }
        Some(source) if source == target => {}
        Some(source) => {
            if let Some(other) = cluster::user_of(step, source).filter(|o| *o != identified) {
                let text = format!(
                    "{}: '{anon}' was not merged into '{identified}': it is already merged to the identified \
                     id '{other}', and $identify never moves an anon id between identified ids.",
                    who(MODE)
                );
                step.warn(WarningKind::CannotMergeAlreadyIdentified, vec![anon.clone(), other], text.clone());
                step.decide(
                    DecisionKind::Refused,
                    Rule::SourceAlreadyIdentified,
                    Some(&anon),
                    Some(&identified),
                    Some(target),
                    text,
                );
            } else {
                let why = "$identify merged the $anon_id's cluster into the $identified_id's";
                cluster::join(step, MODE, source, target, true, CAP, why);
            }
        }
    }
    Some(target)
}

fn alias(step: &mut Step) -> Option<Uuid> {
    let ev = step.ev;
    let Some(new) = text(ev, "alias") else {
        let text = format!("{}: $create_alias without an `alias` property links nothing.", who(MODE));
        step.decide(DecisionKind::Ignored, Rule::AliasMissing, None, Some(&ev.distinct_id), None, text);
        return own(step);
    };
    let target = own(step)?;
    if refuse_disallowed(step, MODE, &new, IdKind::UserId) {
        return Some(target);
    }
    match cluster::cluster_of(step, &new) {
        None => {
            let why = "$create_alias points this new id at the distinct id (aliasing into an identified cluster \
                       is allowed)";
            let kind = step.kind_of(&new).unwrap_or(IdKind::UserId);
            cluster::attach(step, MODE, target, &Ident::new(new, kind), CAP, why);
        }
        Some(pid) if pid == target => {}
        Some(pid) => {
            let label = step.project.persons[&pid].label();
            let text = format!(
                "{}: alias '{new}' links nothing: it already points to the cluster of '{label}', and an alias \
                 can point to only one distinct id.",
                who(MODE)
            );
            step.decide(
                DecisionKind::Refused,
                Rule::ClusterHasUserId,
                Some(&new),
                Some(&ev.distinct_id),
                Some(target),
                text,
            );
        }
    }
    Some(target)
}

/// `$merge` joins any two clusters, but Mixpanel honours it only when it is sent to `/import`
/// (API reference "Merge Identities", <https://developer.mixpanel.com/reference/identity-merge>);
/// on any other route (or when the route is unknown) it merges nothing. The route is the
/// request's path, added to the input by the inspector (`INSPECTOR_ROUTE`).
fn merge(step: &mut Step) -> Option<Uuid> {
    let ev = step.ev;
    let route = ev.prop(INSPECTOR_ROUTE).and_then(Value::as_str);
    if route.map(|r| r.strip_suffix('/').unwrap_or(r)) != Some("/import") {
        let on = route.map_or_else(|| "a route the inspector does not know".to_owned(), str::to_owned);
        let text = format!(
            "{}: $merge merges nothing here: it arrived on {on}, and Mixpanel honours $merge only when it \
             is sent to /import (API reference \"Merge Identities\").",
            who(MODE)
        );
        // mixpanel-python's merge() sends no distinct_id: then the decision names no target.
        let target = Some(ev.distinct_id.as_str()).filter(|id| !id.is_empty());
        step.decide(DecisionKind::Ignored, Rule::NotInThisMode, None, target, None, text);
        return own(step);
    }
    let ids: Vec<String> = match ev.prop("$distinct_ids") {
        Some(Value::Array(all)) => all.iter().filter_map(|v| id_text(Some(v))).filter(|v| !v.is_empty()).collect(),
        _ => Vec::new(),
    };
    let ids: Vec<String> =
        ids.into_iter().filter(|id| !refuse_disallowed(step, MODE, id, IdKind::DistinctId)).collect();
    let Some(first) = ids.first().cloned() else { return own(step) };
    let kind = step.kind_of(&first).unwrap_or(IdKind::DistinctId);
    let anchor = cluster::ensure(step, MODE, &Ident::new(first, kind));
    for id in &ids[1..] {
        let why = "$merge joins any two clusters, identified or not";
        match cluster::cluster_of(step, id) {
            None => {
                let kind = step.kind_of(id).unwrap_or(IdKind::DistinctId);
                cluster::attach(step, MODE, anchor, &Ident::new(id.clone(), kind), CAP, why);
            }
            Some(pid) if pid == anchor => {}
            Some(pid) => {
                cluster::join(step, MODE, pid, anchor, true, CAP, why);
            }
        }
    }
    cluster::cluster_of(step, &ev.distinct_id).or(Some(anchor))
}
