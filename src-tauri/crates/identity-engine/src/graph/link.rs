//! Linking the identifiers of one event into one person (KISSmetrics' identities), within the
//! vendor's limits. Stored in the engine's own persons, so these vendors
//! produce the same output as PostHog (persons, decisions with a rule and a sentence, property
//! history, merged persons). What differs between vendors is data: their `GraphRules`.
//!
//! Invariants:
//! - a person holds at most one `user_id` identifier: a link that would give it a second one is
//!   refused and the refused user id keeps (or gets) its own person (KISSmetrics' identities are
//!   all distinct ids, so for it this never happens);
//! - with `other_limit`, at most that many identifiers of every other kind; one more is
//!   dropped, explained;
//! - `is_identified` == the person holds a `user_id` (never back to false: ids never leave).

use uuid::Uuid;

use super::{IdKind, Ident};
use crate::family::Family;
use crate::props::EventUpdates;
use crate::step::Step;
use crate::types::{DecisionKind, Person, Rule, WarningKind};

/// One vendor's limits and words for the shared graph.
pub(crate) struct GraphRules {
    pub family: Family,
    /// What carried the ids together, for sentences: "message" (Segment) or "event".
    pub carrier: &'static str,
    /// The vendor has user ids (at most one per person). False (KISSmetrics: every identity is a
    /// plain id) skips every user-id check, each a scan of a person's ids: with them a person of
    /// n ids linked n times would cost n².
    pub user_ids: bool,
    /// Identifiers of each kind besides the user id a person may hold; None: no limit.
    pub other_limit: Option<usize>,
    /// The rule and warning of a refused second user id.
    pub user_id_rule: Rule,
    pub user_id_warning: WarningKind,
    /// The sentence of a refused second user id: (person label, its user id, the new one).
    pub second_user_id: fn(&str, &str, &str) -> String,
    /// Run on the event's ids (known kinds, user ids first) before linking: a vendor that
    /// drops identifiers to resolve a user id conflict does it here.
    pub resolve_conflict: Option<ResolveConflict>,
}

/// Takes the event's identifiers and returns those to link.
pub(crate) type ResolveConflict = fn(&mut Step, Vec<Ident>) -> Vec<Ident>;

/// The user id a person holds, if any.
pub(crate) fn user_id_of<'s>(step: &'s Step, pid: Uuid) -> Option<&'s str> {
    let p = step.project.persons.get(&pid)?;
    p.distinct_ids.iter().find(|id| step.kind_of(id) == Some(IdKind::UserId)).map(String::as_str)
}

fn count_kind(step: &Step, pid: Uuid, kind: IdKind) -> usize {
    let p = &step.project.persons[&pid];
    p.distinct_ids.iter().filter(|id| step.kind_of(id) == Some(kind)).count()
}

fn label(step: &Step, pid: Uuid) -> String {
    step.project.persons[&pid].label()
}

/// Links `ids` (blocked values already removed) into one person, within the vendor's limits.
/// User ids go first, so a profile that has one is the anchor the others join. Returns the
/// anchor (None when `ids` is empty).
pub(crate) fn link(step: &mut Step, ids: &[Ident], rules: &GraphRules) -> Option<Uuid> {
    let mut order: Vec<Ident> = Vec::with_capacity(ids.len());
    for id in ids.iter().filter(|i| i.kind == IdKind::UserId).chain(ids.iter().filter(|i| i.kind != IdKind::UserId)) {
        if !order.iter().any(|o| o.value == id.value) {
            // Looked up before inserting: most ids are known, and `entry` would copy the key.
            let kind = match step.kind_of(&id.value) {
                Some(known) => known,
                None => {
                    step.project.kinds.insert(id.value.clone(), id.kind);
                    id.kind
                }
            };
            order.push(Ident::new(id.value.clone(), kind));
        }
    }
    if let Some(resolve) = rules.resolve_conflict {
        order = resolve(step, order);
    }
    let mut persons: Vec<Uuid> = Vec::new();
    for id in &order {
        if let Some(p) = step.project.index.person_of_mut(&id.value) {
            if !persons.contains(&p) {
                persons.push(p);
            }
        }
    }
    // Without a user id to anchor on, the biggest person survives: its ids stay where they
    // are and only the smaller persons' ids move, so linking stays n·log n overall.
    let with_user =
        if rules.user_ids { persons.iter().copied().find(|&p| user_id_of(step, p).is_some()) } else { None };
    let biggest =
        persons.iter().copied().max_by_key(|p| (step.project.persons[p].distinct_ids.len(), std::cmp::Reverse(*p)));
    let anchor = with_user.or(if rules.user_ids { persons.first().copied() } else { biggest });
    let anchor = match anchor {
        Some(a) => a,
        None => {
            let first = order.first()?.clone();
            new_person(step, &first, rules.family)
        }
    };
    for other in persons.into_iter().filter(|&p| p != anchor) {
        try_merge(step, other, anchor, rules);
    }
    for id in order {
        if step.project.index.person_of_mut(&id.value).is_none() {
            try_attach(step, &id, anchor, rules);
        }
    }
    if rules.user_ids {
        identify_if_user(step, anchor);
    }
    Some(anchor)
}

/// A person for an identifier that belonged to none, with its decision.
pub(crate) fn new_person(step: &mut Step, id: &Ident, family: Family) -> Uuid {
    let is_user = id.kind == IdKind::UserId;
    let pid = step.create_person(vec![id.value.clone()], is_user, EventUpdates::default());
    let (v, word) = (family.vendor(), family.person_word());
    let text = format!(
        "{v}: '{}' ({}) belonged to no {word} yet, so a new {word} starts with it{}.",
        id.value,
        id.kind.as_str(),
        if is_user { "; holding a user id, it counts as identified" } else { "" }
    );
    step.decide(DecisionKind::Created, Rule::PersonCreated, None, Some(&id.value), Some(pid), text);
    pid
}

fn identify_if_user(step: &mut Step, pid: Uuid) {
    if user_id_of(step, pid).is_some() && !step.project.persons[&pid].is_identified {
        let by = step.by().clone();
        let p: &mut Person = step.person_mut(pid);
        p.is_identified = true;
        p.identified_by = Some(by);
    }
}

fn try_attach(step: &mut Step, id: &Ident, anchor: Uuid, rules: &GraphRules) {
    let (v, word) = (rules.family.vendor(), rules.family.person_word());
    let label = label(step, anchor);
    if id.kind == IdKind::UserId && rules.user_ids {
        if let Some(have) = user_id_of(step, anchor).map(str::to_owned) {
            let text = (rules.second_user_id)(&label, &have, &id.value);
            step.warn(rules.user_id_warning, vec![id.value.clone(), have], text.clone());
            let pid = step.create_person(vec![id.value.clone()], true, EventUpdates::default());
            step.decide(DecisionKind::Refused, rules.user_id_rule, Some(&id.value), Some(&label), Some(pid), text);
            return;
        }
    } else if let Some(limit) = rules.other_limit.filter(|&limit| count_kind(step, anchor, id.kind) >= limit) {
        let text = format!(
            "{v} did not add '{}' ({}) to the {word} of '{label}': it already holds \
             {limit} identifiers of that kind (the default limit), so this one is dropped.",
            id.value,
            id.kind.as_str()
        );
        step.warn(WarningKind::ProfileUserIdLimit, vec![id.value.clone(), label.clone()], text.clone());
        step.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(&id.value), Some(&label), Some(anchor), text);
        return;
    }
    step.project.index.add_id(anchor, &id.value);
    step.person_mut(anchor).distinct_ids.push(id.value.clone());
    let text = format!(
        "{v} linked '{}' ({}) to the {word} of '{label}': both were on this {}.",
        id.value,
        id.kind.as_str(),
        rules.carrier
    );
    step.decide(DecisionKind::Attached, Rule::IdentifierLinked, Some(&id.value), Some(&label), Some(anchor), text);
}

fn try_merge(step: &mut Step, other: Uuid, anchor: Uuid, rules: &GraphRules) {
    let (v, word) = (rules.family.vendor(), rules.family.person_word());
    let (a_label, o_label) = (label(step, anchor), label(step, other));
    let users = if rules.user_ids {
        (user_id_of(step, anchor).map(str::to_owned), user_id_of(step, other).map(str::to_owned))
    } else {
        (None, None)
    };
    if let (Some(have), Some(theirs)) = &users {
        if have != theirs {
            let text = (rules.second_user_id)(&a_label, have, theirs);
            step.warn(rules.user_id_warning, vec![theirs.clone(), have.clone()], text.clone());
            step.decide(DecisionKind::Refused, rules.user_id_rule, Some(&o_label), Some(&a_label), Some(anchor), text);
            return;
        }
    }
    if let Some(limit) = rules.other_limit {
        let kinds = [IdKind::AnonymousId, IdKind::Email, IdKind::DeviceId, IdKind::DistinctId];
        if let Some(k) = kinds.into_iter().find(|&k| count_kind(step, anchor, k) + count_kind(step, other, k) > limit) {
            let text = format!(
                "{v} did not merge the {word} of '{o_label}' into the {word} of '{a_label}': together \
                 they would hold more than {limit} identifiers of kind {} (the default limit).",
                k.as_str()
            );
            step.warn(WarningKind::ProfileUserIdLimit, vec![o_label.clone(), a_label.clone()], text.clone());
            step.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(&o_label), Some(&a_label), Some(anchor), text);
            return;
        }
    }
    step.absorb(other, anchor);
    let text = format!(
        "{v} merged the {word} of '{o_label}' into the {word} of '{a_label}': this {} carries identifiers of both.",
        rules.carrier
    );
    step.decide(DecisionKind::Merged, Rule::ProfilesMerged, Some(&o_label), Some(&a_label), Some(anchor), text);
}
