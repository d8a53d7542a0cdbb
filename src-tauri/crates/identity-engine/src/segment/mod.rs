//! Segment (and RudderStack) identity rules, after Segment Unify's identity resolution
//! (<https://segment.com/docs/unify/identity-resolution/>): a stored event's `properties` is the
//! whole message. Every message links its `userId`, `anonymousId`, `context.traits.email` (and an
//! identify's `traits.email`) and `context.device.id` into one profile (see `graph.rs` for the
//! limits); `alias` links `previousId` and `userId`; identify `traits` become profile traits
//! (later wins). Blocked values never link.

mod conflict;
mod words;

use serde_json::Value;

use crate::family::Family;
use crate::graph::link::{link, refuse_blocked, GraphRules};
use crate::graph::{id_text, IdKind, Ident};
use crate::props::{apply_updates, EventUpdates};
use crate::step::{Outcome, Step, Vendor};
use crate::types::{Attribution, DecisionKind, Rule, WarningKind};
use crate::uuid::person_uuid;

/// Segment Unify's default: 5 identifiers of each kind besides the one user_id.
const OTHER_LIMIT: usize = 5;

/// Segment's limits and words for the shared identity graph.
const GRAPH: GraphRules = GraphRules {
    family: Family::Segment,
    carrier: "message",
    other_limit: Some(OTHER_LIMIT),
    user_id_rule: Rule::ProfileLimit,
    user_id_warning: WarningKind::ProfileUserIdLimit,
    second_user_id,
    blocked: |id| {
        format!(
            "Segment never links '{}' ({}): it is a blocked value (the suggested blocklist: ^[0-]*$, -1, \
             null, anonymous, and empty), so it joins no profile.",
            id.value,
            id.kind.as_str()
        )
    },
    resolve_conflict: Some(conflict::drop_conflicting),
};

fn second_user_id(label: &str, have: &str, new: &str) -> String {
    format!(
        "Segment did not merge: the profile of '{label}' already has user_id '{have}', and a profile holds at \
         most 1 user_id (the default limit), so '{new}' stays on a profile of its own."
    )
}

/// Segment's suggested blocked values: `^[0-]*$` (so also empty), `-1`, `null`, `anonymous`.
pub(crate) fn is_segment_blocked(value: &str) -> bool {
    let v = value.trim();
    v.chars().all(|c| c == '0' || c == '-')
        || v == "-1"
        || v.eq_ignore_ascii_case("null")
        || v.eq_ignore_ascii_case("anonymous")
}

/// The message's type: `properties.type`, never inferred from the event name (contract).
pub(crate) fn message_type(props: &serde_json::Map<String, Value>) -> &str {
    props.get("type").and_then(Value::as_str).unwrap_or("track")
}

/// Identifiers of a Segment message, in the order they are linked (before blocking).
pub(crate) fn segment_ids(
    props: &serde_json::Map<String, Value>,
    known: impl Fn(&str) -> Option<IdKind>,
) -> Vec<Ident> {
    let ty = message_type(props);
    let ptr = |p: &str| id_text(props.get("context").and_then(|c| c.pointer(p)));
    let mut ids = Vec::new();
    ids.extend(id_text(props.get("userId")).map(|v| Ident::new(v, IdKind::UserId)));
    if ty == "alias" {
        if let Some(prev) = id_text(props.get("previousId")) {
            let kind = known(&prev).unwrap_or(IdKind::AnonymousId);
            ids.push(Ident::new(prev, kind));
        }
    }
    ids.extend(id_text(props.get("anonymousId")).map(|v| Ident::new(v, IdKind::AnonymousId)));
    ids.extend(ptr("/traits/email").map(|v| Ident::new(v, IdKind::Email)));
    if ty == "identify" {
        ids.extend(id_text(props.get("traits").and_then(|t| t.get("email"))).map(|v| Ident::new(v, IdKind::Email)));
    }
    ids.extend(ptr("/device/id").map(|v| Ident::new(v, IdKind::DeviceId)));
    ids
}

pub(crate) const VENDOR: Vendor =
    Vendor { apply, blocks_id: is_segment_blocked, links_event_ids: true, words: &words::WORDS };

/// Runs Segment's identity resolution for the step's event.
fn apply(step: &mut Step) -> Outcome {
    let ev = step.ev;
    let props = &ev.properties;
    let ty = message_type(props).to_owned();
    let mut ids = segment_ids(props, |v| step.kind_of(v));
    if ty == "alias" {
        let (user, prev) = (id_text(props.get("userId")), id_text(props.get("previousId")));
        if let (Some(user), Some(prev)) = (user, prev) {
            if user == prev {
                let text = format!(
                    "alias with previousId == userId ('{user}'): Segment has nothing to link; the call \
                     usually passes the current user id where the previous (anonymous) id was meant."
                );
                step.warn(WarningKind::SelfAlias, vec![user.clone()], text.clone());
                step.decide(DecisionKind::Ignored, Rule::SelfAlias, Some(&prev), Some(&user), None, text);
            }
        }
    }
    ids.retain(|id| !refuse_blocked(step, id, &GRAPH, is_segment_blocked(&id.value)));
    let anchor = link(step, &ids, &GRAPH);
    let pid = step.project.index.person_of_mut(&ev.distinct_id).or(anchor);
    let Some(pid) = pid else {
        return Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)).into();
    };
    if ty == "identify" {
        if let Some(Value::Object(traits)) = props.get("traits") {
            let ups = EventUpdates { set: traits.clone(), ..EventUpdates::default() };
            let by = step.by().clone();
            apply_updates(step.person_mut(pid), &ups, &by);
        }
    }
    Attribution::Person(pid).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_values() {
        for v in ["", "0", "000", "-", "0-0", "-1", "null", "NULL", "anonymous", " "] {
            assert!(is_segment_blocked(v), "{v:?}");
        }
        for v in ["1", "user-1", "10", "anon", "nul"] {
            assert!(!is_segment_blocked(v), "{v:?}");
        }
    }
}
