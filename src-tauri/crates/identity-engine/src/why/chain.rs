//! The shortest chain of joining decisions between two ids of one person.
//!
//! Every joining decision (`Merged`, `Attached`, and PostHog's `MergeCreatedPerson`, which
//! creates one person for both ids) is an edge between the two ids it names. PostHog names
//! both ids; the vendors that join whole profiles (Segment, RudderStack, Mixpanel, KISSmetrics)
//! name a profile by its label, `Person::label`: its first distinct id, which never changes
//! (the person's uuid derives from it), plus a count. So an edge joins the attached id, or the
//! merged profile's first id, to the first id of the profile it joined.
//!
//! Invariant: only decisions whose person (`Decision::person_id`) is the person of `a` or one
//! merged into it are read, and both ends of an edge are ids of that person, so the walk never
//! leaves the person; breadth-first from `a`, each id is visited once: O(edges).

use std::collections::VecDeque;

use foldhash::{HashMap, HashMapExt, HashSet};
use uuid::Uuid;

use super::WhyStep;
use crate::engine::Engine;
use crate::types::{Decision, DecisionKind, EventRef, Rule};

/// The id a decision's `source`/`target` names: the text itself when it is an id with a
/// person, else the first id of a label "`<first id> +<n> other id(s)`".
pub(super) fn id_named<'t>(engine: &Engine, project: &str, text: &'t str) -> Option<&'t str> {
    if engine.person_for(project, text).is_some() {
        return Some(text);
    }
    let first = label_first_id(text)?;
    engine.person_for(project, first).is_some().then_some(first)
}

/// `"user-a +2 other ids"` -> `"user-a"` (the format of `Person::label`).
fn label_first_id(label: &str) -> Option<&str> {
    let rest = label.strip_suffix(" other ids").or_else(|| label.strip_suffix(" other id"))?;
    let plus = rest.rfind(" +")?;
    let count = &rest[plus + 2..];
    (!count.is_empty() && count.bytes().all(|b| b.is_ascii_digit())).then(|| &rest[..plus])
}

fn joins(d: &Decision) -> bool {
    matches!(d.kind, DecisionKind::Merged | DecisionKind::Attached)
        || (d.kind == DecisionKind::Created && d.rule == Rule::MergeCreatedPerson)
}

pub(super) fn step_of(d: &Decision, from: &str, to: &str) -> WhyStep {
    WhyStep {
        event: EventRef {
            seq: d.seq,
            event_uuid: d.event_uuid.clone(),
            event: d.event.clone(),
            timestamp: d.timestamp,
        },
        lane_id: None,
        from: from.to_owned(),
        to: to.to_owned(),
        kind: d.kind,
        rule: d.rule,
        sentence: d.message.clone(),
    }
}

/// The fewest joining decisions leading from `a` to `b` (both on one person), in path order.
/// Empty when `a == b` or (never expected) when the decisions do not connect them.
pub(super) fn shortest(engine: &Engine, project: &str, a: &str, b: &str) -> Vec<WhyStep> {
    let Some(person) = engine.person_for(project, a) else { return Vec::new() };
    if a == b {
        return Vec::new();
    }
    let persons: HashSet<Uuid> = std::iter::once(person.id).chain(person.merged_from.iter().map(|m| m.id)).collect();
    // Edges (decision, one end, other end) and, per id, the edges touching it.
    let mut edges: Vec<(&Decision, &str, &str)> = Vec::new();
    let mut touching: HashMap<&str, Vec<usize>> = HashMap::with_capacity(person.distinct_ids.len());
    for d in engine.decisions() {
        if d.project != project || !joins(d) || !d.person_id.is_some_and(|p| persons.contains(&p)) {
            continue;
        }
        let (Some(s), Some(t)) = (d.source.as_deref(), d.target.as_deref()) else { continue };
        let (Some(s), Some(t)) = (id_named(engine, project, s), id_named(engine, project, t)) else { continue };
        if s == t {
            continue;
        }
        let i = edges.len();
        edges.push((d, s, t));
        touching.entry(s).or_default().push(i);
        touching.entry(t).or_default().push(i);
    }
    // Breadth-first from `a`; `reached[id]` = the edge it was first reached by.
    let mut reached: HashMap<&str, Option<usize>> = HashMap::with_capacity(touching.len());
    reached.insert(a, None);
    let mut queue = VecDeque::from([a]);
    while let Some(id) = queue.pop_front() {
        if id == b {
            break;
        }
        for &e in touching.get(id).into_iter().flatten() {
            let (_, s, t) = edges[e];
            let next = if s == id { t } else { s };
            if !reached.contains_key(next) {
                reached.insert(next, Some(e));
                queue.push_back(next);
            }
        }
    }
    let mut path = Vec::new();
    let mut at = b;
    while let Some(&Some(e)) = reached.get(at) {
        let (d, s, t) = edges[e];
        let prev = if t == at { s } else { t };
        path.push(step_of(d, prev, at));
        at = prev;
    }
    if at != a {
        return Vec::new();
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::label_first_id;

    #[test]
    fn reads_the_first_id_of_a_person_label() {
        assert_eq!(label_first_id("user-a +1 other id"), Some("user-a"));
        assert_eq!(label_first_id("a +b +12 other ids"), Some("a +b"));
        assert_eq!(label_first_id("user-a"), None);
        assert_eq!(label_first_id("x + other ids"), None);
    }
}
