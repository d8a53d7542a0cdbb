//! Segment Unify's answer to a message whose identifiers belong to profiles of two different
//! user ids (see `drop_conflicting`).

use crate::graph::link::user_id_of;
use crate::graph::{IdKind, Ident};
use crate::step::Step;
use crate::types::{DecisionKind, Rule, WarningKind};

/// Segment Unify resolves a user_id conflict by dropping the message's lowest-priority
/// identifiers (anonymous id, then device id, then email; never the user id) until what is
/// left no longer ties two user ids together. So on a shared device the new user keeps its
/// own email, and the anonymous and device ids stay with the profile that had them.
pub(super) fn drop_conflicting(step: &mut Step, mut order: Vec<Ident>) -> Vec<Ident> {
    let rank = |k: IdKind| match k {
        IdKind::UserId => 0,
        IdKind::Email => 1,
        IdKind::DeviceId => 2,
        IdKind::AnonymousId => 3,
        IdKind::DistinctId => 4,
    };
    // The usual message: its ids belong to at most one person, and its user id (if any) is
    // that person's or the person has none. Nothing to drop; no need to gather user ids.
    let mut owners = order.iter().filter_map(|id| step.project.index.person_of_mut(&id.value));
    let first = owners.next();
    if owners.all(|p| Some(p) == first) {
        let mut own = order.iter().filter(|id| id.kind == IdKind::UserId).map(|id| id.value.as_str());
        let (own, second) = (own.next(), own.next());
        let held = first.and_then(|p| user_id_of(step, p));
        if second.is_none() && (own.is_none() || held.is_none() || own == held) {
            return order;
        }
    }
    loop {
        let mut users: Vec<String> = Vec::new();
        for id in &order {
            let user = if id.kind == IdKind::UserId {
                Some(id.value.clone())
            } else {
                let pid = step.project.index.person_of_mut(&id.value);
                pid.and_then(|p| user_id_of(step, p).map(str::to_owned))
            };
            if let Some(u) = user.filter(|u| !users.contains(u)) {
                users.push(u);
            }
        }
        if users.len() < 2 {
            return order;
        }
        // The lowest-priority identifier; the last of its kind on the message goes first.
        let Some(at) =
            (0..order.len()).filter(|&i| order[i].kind != IdKind::UserId).max_by_key(|&i| (rank(order[i].kind), i))
        else {
            return order; // only user ids left: the merge refusal explains the rest
        };
        let dropped = order.remove(at);
        let owner = step.project.index.person_of_mut(&dropped.value);
        let held_by = owner.and_then(|p| user_id_of(step, p).map(str::to_owned));
        let text = format!(
            "Segment dropped '{}' ({}) from this message: {}, and keeping it would tie the user ids {} together \
             on one profile (limit 1). Segment drops the lowest-priority identifier until the conflict is gone.",
            dropped.value,
            dropped.kind.as_str(),
            match &held_by {
                Some(u) => format!("it is on the profile of user_id '{u}'"),
                None => "it links profiles of different users".to_owned(),
            },
            users.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(" and "),
        );
        step.warn(
            WarningKind::ProfileUserIdLimit,
            vec![dropped.value.clone()].into_iter().chain(users).collect(),
            text.clone(),
        );
        step.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(&dropped.value), None, owner, text);
    }
}
