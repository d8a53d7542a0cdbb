//! RudderStack's identity: the Profiles "ID stitcher"
//! (<https://www.rudderstack.com/docs/profiles/identity-stitching/>), a model the customer runs in
//! their warehouse on a schedule. It "maps and unifies all the specified identifiers across
//! inputs" into one `rudder_id`: every pair of ids seen on one message is an edge, and a
//! `rudder_id` is a connected component. RudderStack has no real-time identity graph, so unlike
//! Segment Unify there are no per-identifier limits, no priorities and no blocked values (the
//! event stream takes the ids as they are; an empty string is no id).
//!
//! The message's ids (RudderStack speaks Segment's wire protocol): `userId`, `anonymousId`,
//! `traits.email` / `context.traits.email` and `context.device.id` (whatever the device type),
//! the columns the identifies and tracks tables carry. An alias's `previousId` lives in the
//! aliases table, which the docs' example stitcher (`edge_sources: inputs/rsIdentifies,
//! inputs/rsTracks`) does not read, so it is not an edge here.
//!
//! Invariant: two ids ever seen on one message are in one person (union only, never split).

mod words;

use serde_json::Value;
use uuid::Uuid;

use crate::graph::{id_text, IdKind, Ident};
use crate::props::{apply_updates, EventUpdates};
use crate::segment::message_type;
use crate::step::{Outcome, Step, Vendor};
use crate::types::{prop, Attribution, DecisionKind, Rule};
use crate::uuid::person_uuid;

pub(crate) const VENDOR: Vendor = Vendor { apply, blocks_id: |_| false, links_event_ids: true, words: &words::WORDS };

/// What the stitcher is, for every decision's sentence.
const STITCHER: &str = "RudderStack's Profiles ID stitcher (a warehouse job run on a schedule, not in real time)";

/// The ids of one message that become edges, each once, user id first.
pub(crate) fn stitched_ids(props: &serde_json::Map<String, Value>) -> Vec<Ident> {
    let text = |v: Option<&Value>| id_text(v).filter(|s| !s.is_empty());
    let ctx = |p: &str| prop(props, "context").and_then(|c| c.pointer(p));
    let mut ids: Vec<Ident> = Vec::new();
    let found = [
        (text(prop(props, "userId")), IdKind::UserId),
        (text(prop(props, "anonymousId")), IdKind::AnonymousId),
        // A group call's `traits` describe the group, not the user.
        (
            text(prop(props, "traits").filter(|_| message_type(props) != "group").and_then(|t| t.get("email"))),
            IdKind::Email,
        ),
        (text(ctx("/traits/email")), IdKind::Email),
        (text(ctx("/device/id")), IdKind::DeviceId),
    ];
    for (value, kind) in found {
        if let Some(v) = value.filter(|v| !ids.iter().any(|i| i.value == *v)) {
            ids.push(Ident::new(v, kind));
        }
    }
    ids
}

fn apply(step: &mut Step) -> Outcome {
    let ev = step.ev;
    let props = &ev.properties;
    let is_alias = message_type(props) == "alias";
    let ids = if is_alias { Vec::new() } else { stitched_ids(props) };
    let anchor = stitch(step, &ids);
    // An alias stays with the device's id, its previousId (the SDK keeps it), as its lane does.
    let previous = id_text(prop(props, "previousId")).filter(|v| is_alias && !v.is_empty());
    let own = previous.unwrap_or_else(|| ev.distinct_id.clone());
    let found = anchor
        .or_else(|| step.project.index.person_of_mut(&own))
        .or_else(|| step.project.index.person_of_mut(&ev.distinct_id));
    let Some(pid) = found else {
        return Attribution::Personless(person_uuid(&ev.project, &own)).into();
    };
    if message_type(props) == "identify" {
        // Profiles computes features with the project's own SQL; the inspector shows the last
        // traits sent, as the identifies table's latest row holds them. RudderStack's SDKs send
        // identify traits in `context.traits` (older ones in `traits`).
        let traits = prop(props, "traits").or_else(|| prop(props, "context").and_then(|c| c.get("traits")));
        if let Some(Value::Object(traits)) = traits {
            let ups = EventUpdates { set: traits.clone(), ..EventUpdates::default() };
            let by = step.by().clone();
            apply_updates(step.person_mut(pid), &ups, &by);
        }
    }
    Attribution::Person(pid).into()
}

/// Joins `ids` into one person: the oldest person among theirs absorbs the others, and ids
/// without a person join it. Returns it (None for no ids).
fn stitch(step: &mut Step, ids: &[Ident]) -> Option<Uuid> {
    for id in ids {
        if !step.project.kinds.contains_key(&id.value) {
            step.project.kinds.insert(id.value.clone(), id.kind);
        }
    }
    let mut persons: Vec<Uuid> = Vec::new();
    for id in ids {
        if let Some(p) = step.project.index.person_of_mut(&id.value) {
            if !persons.contains(&p) {
                persons.push(p);
            }
        }
    }
    let anchor = match persons.iter().copied().min_by_key(|p| step.project.persons[p].created_by.seq) {
        Some(p) => p,
        None => {
            let first = ids.first()?;
            let is_user = first.kind == IdKind::UserId;
            let pid = step.create_person(vec![first.value.clone()], is_user, EventUpdates::default());
            let text = format!(
                "{STITCHER}: '{}' ({}) was seen with no stitched id yet, so it starts a new rudder_id.",
                first.value,
                first.kind.as_str()
            );
            step.decide(DecisionKind::Created, Rule::PersonCreated, None, Some(&first.value), Some(pid), text);
            pid
        }
    };
    for other in persons.into_iter().filter(|&p| p != anchor) {
        let (a, o) = (step.project.persons[&anchor].label(), step.project.persons[&other].label());
        step.absorb(other, anchor);
        let text = format!(
            "{STITCHER} joins '{o}' and '{a}' into one rudder_id: this message carries ids of both, and every \
             pair of ids seen on one message is an edge of the identity graph (no limits, no priorities)."
        );
        step.decide(DecisionKind::Merged, Rule::ProfilesMerged, Some(&o), Some(&a), Some(anchor), text);
    }
    for id in ids {
        if step.project.index.person_of_mut(&id.value).is_none() {
            let label = step.project.persons[&anchor].label();
            step.project.index.add_id(anchor, &id.value);
            step.person_mut(anchor).distinct_ids.push(id.value.clone());
            let text = format!(
                "{STITCHER} stitches '{}' ({}) to the rudder_id of '{label}': both were on this message.",
                id.value,
                id.kind.as_str()
            );
            step.decide(
                DecisionKind::Attached,
                Rule::IdentifierLinked,
                Some(&id.value),
                Some(&label),
                Some(anchor),
                text,
            );
        }
    }
    let holds_user =
        step.project.persons[&anchor].distinct_ids.iter().any(|v| step.project.kinds.get(v) == Some(&IdKind::UserId));
    if holds_user && !step.project.persons[&anchor].is_identified {
        let by = step.by().clone();
        let p = step.person_mut(anchor);
        p.is_identified = true;
        p.identified_by = Some(by);
    }
    Some(anchor)
}
