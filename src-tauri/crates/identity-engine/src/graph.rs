//! The identity graph shared by Segment and Mixpanel: every identifier an event carries is
//! linked into one profile (Segment) or cluster (Mixpanel), within the vendor's limits. Stored
//! in the engine's own persons, so both families produce the same output as PostHog (persons,
//! decisions with a rule and a sentence, property history, merged persons).
//!
//! Invariants:
//! - a person holds at most one `user_id` identifier: a link that would give it a second one is
//!   refused (Segment's default limit of 1 user_id per profile, Mixpanel's one `$user_id` per
//!   cluster) and the refused user id keeps (or gets) its own person;
//! - Segment: at most `other_limit` identifiers of every other kind (5 by default); one more is
//!   dropped, explained;
//! - `is_identified` == the person holds a `user_id` (never back to false: ids never leave);
//! - an identifier keeps the kind it was first seen with (`Project::kinds`).

use serde::Serialize;
use uuid::Uuid;

use crate::engine::Step;
use crate::family::Family;
use crate::model::{DecisionKind, Person, Rule, WarningKind};
use crate::props::EventUpdates;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    UserId,
    AnonymousId,
    Email,
    DeviceId,
    DistinctId,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::UserId => "user_id",
            IdKind::AnonymousId => "anonymous_id",
            IdKind::Email => "email",
            IdKind::DeviceId => "device_id",
            IdKind::DistinctId => "distinct_id",
        }
    }
}

/// One identifier an event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ident {
    pub value: String,
    pub kind: IdKind,
}

impl Ident {
    pub fn new(value: impl Into<String>, kind: IdKind) -> Ident {
        Ident { value: value.into(), kind }
    }
}

/// Segment Unify's default: 5 identifiers of each kind besides the one user_id.
pub(crate) const SEGMENT_OTHER_LIMIT: usize = 5;

fn vendor(f: Family) -> &'static str {
    match f {
        Family::PostHog => "PostHog",
        Family::Segment => "Segment",
        Family::Mixpanel => "Mixpanel",
    }
}

impl Step<'_> {
    pub(crate) fn kind_of(&self, id: &str) -> Option<IdKind> {
        self.project.kinds.get(id).copied()
    }

    pub(crate) fn user_id_of(&self, pid: Uuid) -> Option<&str> {
        let p = self.project.persons.get(&pid)?;
        p.distinct_ids.iter().find(|id| self.kind_of(id) == Some(IdKind::UserId)).map(String::as_str)
    }

    fn count_kind(&self, pid: Uuid, kind: IdKind) -> usize {
        let p = &self.project.persons[&pid];
        p.distinct_ids.iter().filter(|id| self.kind_of(id) == Some(kind)).count()
    }

    fn label(&self, pid: Uuid) -> String {
        self.project.persons[&pid].label()
    }

    /// Links `ids` (blocked values already removed) into one person, within the family's
    /// limits. User ids go first, so a profile that has one is the anchor the others join.
    /// Returns the anchor (None when `ids` is empty).
    pub(crate) fn link(&mut self, ids: &[Ident], family: Family) -> Option<Uuid> {
        let mut order: Vec<Ident> = Vec::with_capacity(ids.len());
        for id in ids.iter().filter(|i| i.kind == IdKind::UserId).chain(ids.iter().filter(|i| i.kind != IdKind::UserId))
        {
            if !order.iter().any(|o| o.value == id.value) {
                // Looked up before inserting: most ids are known, and `entry` would copy the key.
                let kind = match self.kind_of(&id.value) {
                    Some(known) => known,
                    None => {
                        self.project.kinds.insert(id.value.clone(), id.kind);
                        id.kind
                    }
                };
                order.push(Ident::new(id.value.clone(), kind));
            }
        }
        if family == Family::Segment {
            order = self.drop_conflicting(order);
        }
        let mut persons: Vec<Uuid> = Vec::new();
        for id in &order {
            if let Some(p) = self.project.index.person_of_mut(&id.value) {
                if !persons.contains(&p) {
                    persons.push(p);
                }
            }
        }
        let anchor = persons.iter().copied().find(|&p| self.user_id_of(p).is_some()).or(persons.first().copied());
        let anchor = match anchor {
            Some(a) => a,
            None => {
                let first = order.first()?.clone();
                self.new_person(&first, family)
            }
        };
        for other in persons.into_iter().filter(|&p| p != anchor) {
            self.try_merge(other, anchor, family);
        }
        for id in order {
            if self.project.index.person_of_mut(&id.value).is_none() {
                self.try_attach(&id, anchor, family);
            }
        }
        self.identify_if_user(anchor);
        Some(anchor)
    }

    /// Segment Unify resolves a user_id conflict by dropping the message's lowest-priority
    /// identifiers (anonymous id, then device id, then email; never the user id) until what is
    /// left no longer ties two user ids together. So on a shared device the new user keeps its
    /// own email, and the anonymous and device ids stay with the profile that had them.
    fn drop_conflicting(&mut self, mut order: Vec<Ident>) -> Vec<Ident> {
        let rank = |k: IdKind| match k {
            IdKind::UserId => 0,
            IdKind::Email => 1,
            IdKind::DeviceId => 2,
            IdKind::AnonymousId => 3,
            IdKind::DistinctId => 4,
        };
        // The usual message: its ids belong to at most one person, and its user id (if any) is
        // that person's or the person has none. Nothing to drop; no need to gather user ids.
        let mut owners = order.iter().filter_map(|id| self.project.index.person_of_mut(&id.value));
        let first = owners.next();
        if owners.all(|p| Some(p) == first) {
            let mut own = order.iter().filter(|id| id.kind == IdKind::UserId).map(|id| id.value.as_str());
            let (own, second) = (own.next(), own.next());
            let held = first.and_then(|p| self.user_id_of(p));
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
                    let pid = self.project.index.person_of_mut(&id.value);
                    pid.and_then(|p| self.user_id_of(p).map(str::to_owned))
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
            let owner = self.project.index.person_of_mut(&dropped.value);
            let held_by = owner.and_then(|p| self.user_id_of(p).map(str::to_owned));
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
            self.warn(
                WarningKind::ProfileUserIdLimit,
                vec![dropped.value.clone()].into_iter().chain(users).collect(),
                text.clone(),
            );
            self.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(&dropped.value), None, owner, text);
        }
    }

    pub(crate) fn new_person(&mut self, id: &Ident, family: Family) -> Uuid {
        let is_user = id.kind == IdKind::UserId;
        let pid = self.create_person(vec![id.value.clone()], is_user, &EventUpdates::default());
        let (v, word) = (vendor(family), family.person_word());
        let text = format!(
            "{v}: '{}' ({}) belonged to no {word} yet, so a new {word} starts with it{}.",
            id.value,
            id.kind.as_str(),
            if is_user { "; holding a user id, it counts as identified" } else { "" }
        );
        self.decide(DecisionKind::Created, Rule::PersonCreated, None, Some(&id.value), Some(pid), text);
        pid
    }

    fn identify_if_user(&mut self, pid: Uuid) {
        if self.user_id_of(pid).is_some() && !self.project.persons[&pid].is_identified {
            let by = self.by().clone();
            let p: &mut Person = self.person_mut(pid);
            p.is_identified = true;
            p.identified_by = Some(by);
        }
    }

    fn try_attach(&mut self, id: &Ident, anchor: Uuid, family: Family) {
        let (v, word) = (vendor(family), family.person_word());
        let label = self.label(anchor);
        if id.kind == IdKind::UserId {
            if let Some(have) = self.user_id_of(anchor).map(str::to_owned) {
                let text = second_user_id(family, &label, &have, &id.value);
                self.refuse_user_id(family, vec![id.value.clone(), have], text.clone());
                let pid = self.create_person(vec![id.value.clone()], true, &EventUpdates::default());
                let rule = if family == Family::Mixpanel { Rule::ClusterHasUserId } else { Rule::ProfileLimit };
                self.decide(DecisionKind::Refused, rule, Some(&id.value), Some(&label), Some(pid), text);
                return;
            }
        } else if family == Family::Segment && self.count_kind(anchor, id.kind) >= SEGMENT_OTHER_LIMIT {
            let text = format!(
                "Segment did not add '{}' ({}) to the profile of '{label}': it already holds \
                 {SEGMENT_OTHER_LIMIT} identifiers of that kind (the default limit), so this one is dropped.",
                id.value,
                id.kind.as_str()
            );
            self.warn(WarningKind::ProfileUserIdLimit, vec![id.value.clone(), label.clone()], text.clone());
            self.decide(DecisionKind::Refused, Rule::ProfileLimit, Some(&id.value), Some(&label), Some(anchor), text);
            return;
        }
        self.project.index.add_id(anchor, &id.value);
        self.person_mut(anchor).distinct_ids.push(id.value.clone());
        let text = format!(
            "{v} linked '{}' ({}) to the {word} of '{label}': both were on this {}.",
            id.value,
            id.kind.as_str(),
            if family == Family::Segment { "message" } else { "event" }
        );
        self.decide(DecisionKind::Attached, Rule::IdentifierLinked, Some(&id.value), Some(&label), Some(anchor), text);
    }

    fn try_merge(&mut self, other: Uuid, anchor: Uuid, family: Family) {
        let (v, word) = (vendor(family), family.person_word());
        let (a_label, o_label) = (self.label(anchor), self.label(other));
        let users = (self.user_id_of(anchor).map(str::to_owned), self.user_id_of(other).map(str::to_owned));
        if let (Some(have), Some(theirs)) = &users {
            if have != theirs {
                let text = second_user_id(family, &a_label, have, theirs);
                self.refuse_user_id(family, vec![theirs.clone(), have.clone()], text.clone());
                let rule = if family == Family::Mixpanel { Rule::ClusterHasUserId } else { Rule::ProfileLimit };
                self.decide(DecisionKind::Refused, rule, Some(&o_label), Some(&a_label), Some(anchor), text);
                return;
            }
        }
        if family == Family::Segment {
            let kinds = [IdKind::AnonymousId, IdKind::Email, IdKind::DeviceId, IdKind::DistinctId];
            if let Some(k) = kinds
                .into_iter()
                .find(|&k| self.count_kind(anchor, k) + self.count_kind(other, k) > SEGMENT_OTHER_LIMIT)
            {
                let text = format!(
                    "Segment did not merge the profile of '{o_label}' into the profile of '{a_label}': together \
                     they would hold more than {SEGMENT_OTHER_LIMIT} identifiers of kind {} (the default limit).",
                    k.as_str()
                );
                self.warn(WarningKind::ProfileUserIdLimit, vec![o_label.clone(), a_label.clone()], text.clone());
                self.decide(
                    DecisionKind::Refused,
                    Rule::ProfileLimit,
                    Some(&o_label),
                    Some(&a_label),
                    Some(anchor),
                    text,
                );
                return;
            }
        }
        self.absorb(other, anchor);
        let text = format!(
            "{v} merged the {word} of '{o_label}' into the {word} of '{a_label}': this {} carries identifiers of both.",
            if family == Family::Segment { "message" } else { "event" }
        );
        self.decide(DecisionKind::Merged, Rule::ProfilesMerged, Some(&o_label), Some(&a_label), Some(anchor), text);
    }

    fn refuse_user_id(&mut self, family: Family, ids: Vec<String>, text: String) {
        let kind = if family == Family::Mixpanel {
            WarningKind::ClusterAlreadyHasUserId
        } else {
            WarningKind::ProfileUserIdLimit
        };
        self.warn(kind, ids, text);
    }
}

fn second_user_id(family: Family, label: &str, have: &str, new: &str) -> String {
    match family {
        Family::Mixpanel => format!(
            "Mixpanel did not merge: the cluster of '{label}' already has $user_id '{have}', and a cluster holds \
             only one $user_id, so '{new}' stays in a cluster of its own."
        ),
        _ => format!(
            "Segment did not merge: the profile of '{label}' already has user_id '{have}', and a profile holds at \
             most 1 user_id (the default limit), so '{new}' stays on a profile of its own."
        ),
    }
}
