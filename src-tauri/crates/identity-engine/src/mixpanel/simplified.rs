//! Mixpanel, Simplified ID Merge (Mixpanel docs "Identifying Users (Simplified)":
//! <https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-simplified>).
//!
//! - A cluster forms when a `$user_id` and a `$device_id` arrive on one event for the first
//!   time; the device's anonymous distinct id `$device:<id>` belongs to it.
//! - Mixpanel sets the distinct id itself: the `$user_id` when present, else
//!   `$device:<$device_id>`; a hand-set `distinct_id` on such an event links nothing.
//! - Two `$user_id`s never merge; a cluster has no device limit.
//! - `$identify`, `$create_alias`, `$merge` (and `$anon_distinct_id`) have no functionality.
//! - Profile properties set on `$device:<id>` are not carried to the user's profile.

use uuid::Uuid;

use super::cluster::{self, who};
use super::{refuse_disallowed, text};
use crate::graph::{IdKind, Ident};
use crate::settings::MixpanelIdMerge;
use crate::step::Step;
use crate::types::{DecisionKind, Rule, WarningKind};

const MODE: MixpanelIdMerge = MixpanelIdMerge::Simplified;

/// Runs the rules for one `/track` or `/import` event; returns the cluster the event belongs to.
pub(super) fn apply(step: &mut Step) -> Option<Uuid> {
    let cluster = link(step);
    let ev = step.ev;
    if matches!(ev.event.as_str(), "$identify" | "$create_alias" | "$merge") || ev.prop("$anon_distinct_id").is_some() {
        let text = format!(
            "{}: {} has no functionality in this mode; only the $user_id and $device_id an event \
             carries link ids.",
            who(MODE),
            if ev.event.starts_with('$') { ev.event.as_str() } else { "$anon_distinct_id" }
        );
        step.decide(DecisionKind::Ignored, Rule::NotInThisMode, None, Some(&ev.distinct_id), None, text);
    }
    cluster
}

/// Links the `$user_id` and `$device_id` the event carries.
fn link(step: &mut Step) -> Option<Uuid> {
    let ev = step.ev;
    let user = text(ev, "$user_id").filter(|u| !refuse_disallowed(step, MODE, u, IdKind::UserId));
    let device = text(ev, "$device_id").filter(|d| !refuse_disallowed(step, MODE, d, IdKind::DeviceId));
    if user.is_none() && device.is_none() {
        // No Mixpanel ids: the event's own distinct id names its cluster.
        let id = ev.distinct_id.clone();
        if id.is_empty() || refuse_disallowed(step, MODE, &id, IdKind::DistinctId) {
            return None;
        }
        return Some(cluster::ensure(step, MODE, &Ident::new(id, IdKind::DistinctId)));
    }
    let own = user.clone().or_else(|| device.as_ref().map(|d| format!("$device:{d}"))).expect("one of them is set");
    if !ev.distinct_id.is_empty() && ev.distinct_id != own && cluster::cluster_of(step, &ev.distinct_id).is_none() {
        let text = format!(
            "{}: the event's distinct_id '{}' links nothing: Mixpanel sets the distinct id itself from \
             $user_id/$device_id ('{own}' here).",
            who(MODE),
            ev.distinct_id
        );
        step.decide(DecisionKind::Ignored, Rule::NotInThisMode, Some(&ev.distinct_id), Some(&own), None, text);
    }
    let device_ids: Vec<Ident> = device
        .iter()
        .flat_map(|d| [Ident::new(d.clone(), IdKind::DeviceId), Ident::new(format!("$device:{d}"), IdKind::DistinctId)])
        .collect();
    let device_cluster = device_ids.iter().find_map(|i| step.project.index.person_of_mut(&i.value));
    let Some(user) = user else {
        let pid = match device_cluster {
            Some(pid) => pid,
            None => cluster::create(step, MODE, &device_ids[0], " (a $device_id)"),
        };
        attach_missing(step, pid, &device_ids, "it is the anonymous distinct id of this $device_id");
        return Some(pid);
    };
    let user_ident = Ident::new(user.clone(), IdKind::UserId);
    let user_cluster = cluster::cluster_of(step, &user);
    let Some(dc) = device_cluster else {
        let pid = match user_cluster {
            Some(pid) => pid,
            None => cluster::create(step, MODE, &user_ident, "; holding a $user_id, it counts as identified"),
        };
        if !device_ids.is_empty() {
            attach_missing(step, pid, &device_ids, "$user_id and $device_id arrived on one event for the first time");
        }
        return Some(pid);
    };
    if user_cluster == Some(dc) {
        attach_missing(step, dc, &device_ids, "it belongs to this $device_id");
        return Some(dc);
    }
    if let Some(have) = cluster::user_of(step, dc) {
        // Two $user_ids never merge: the device stays with the first user.
        let label = step.project.persons[&dc].label();
        let text = format!(
            "{}: did not merge: the cluster of '{label}' already has $user_id '{have}', and two $user_ids \
             never merge, so '{user}' stays in a cluster of its own.",
            who(MODE)
        );
        step.warn(WarningKind::ClusterAlreadyHasUserId, vec![user.clone(), have], text.clone());
        let pid = match user_cluster {
            Some(pid) => pid,
            None => step.create_person(vec![user.clone()], true, Default::default()),
        };
        step.project.kinds.entry(user.clone()).or_insert(IdKind::UserId);
        step.decide(DecisionKind::Refused, Rule::ClusterHasUserId, Some(&user), Some(&label), Some(pid), text);
        return Some(pid);
    }
    let why = "$user_id and $device_id arrived on one event for the first time; profile properties set on the \
               device's $device:<id> are not carried to the user's profile";
    let pid = match user_cluster {
        Some(pid) => {
            cluster::join(step, MODE, dc, pid, false, None, why);
            pid
        }
        None => {
            cluster::drop_properties(step, dc);
            cluster::attach(step, MODE, dc, &user_ident, None, why);
            dc
        }
    };
    attach_missing(step, pid, &device_ids, "it belongs to this $device_id");
    Some(pid)
}

fn attach_missing(step: &mut Step, pid: Uuid, ids: &[Ident], why: &str) {
    for id in ids {
        if step.project.index.person_of_mut(&id.value).is_none() {
            cluster::attach(step, MODE, pid, id, None, why);
        }
    }
}
