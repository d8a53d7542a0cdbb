//! Segment's identity rules: Unify identity resolution
//! (<https://segment.com/docs/unify/identity-resolution/>). A stored event's `properties` is
//! the whole message.
//!
//! - Identifiers (`ids.rs`): `userId`, `traits.email` / `context.traits.email`, `anonymousId`,
//!   `context.device.id` only with `context.device.type` `android`/`ios` (and advertising ids,
//!   push tokens), the Google Analytics client id and `groupId`.
//! - Matching, limits, priority, merge limits and newest-trait-wins merges (`unify.rs`).
//! - Blocked values only when the project opts in (`ProjectSettings::segment_blocked_values`):
//!   Segment suggests them, it does not apply them.
//! - `alias` links nothing: "Alias calls can't be used to merge profiles in Unify"
//!   (<https://segment.com/docs/connections/spec/alias/>).
//! - identify `traits` become profile traits; a trait sent as `null` removes it, `""` is kept.
//! - Messages Unify drops ("Unify Limits", <https://segment.com/docs/unify/product-limits/>)
//!   stay stored and get a decision saying why, with no identity effect.

mod ids;
mod unify;
mod words;

use serde_json::{Map, Value};

use crate::graph::id_text;
use crate::props::{apply_updates, EventUpdates};
pub(crate) use crate::segment::ids::{message_type, segment_ids};
use crate::segment::ids::{unify_ids, UnifyId};
use crate::step::{Outcome, Step, Vendor};
use crate::types::{prop, Attribution, DecisionKind, Rule, WarningKind};
use crate::uuid::person_uuid;

/// Segment's suggested blocked values, as the Identity Resolution Settings page lists them:
/// the pattern `^[0-]*$` and the exact matches `-1`, `null`, `anonymous` (exact matches are
/// case-sensitive as written, so `NULL` is not blocked).
pub(crate) fn is_segment_blocked(value: &str) -> bool {
    value.chars().all(|c| c == '0' || c == '-') || value == "-1" || value == "null" || value == "anonymous"
}

pub(crate) const VENDOR: Vendor =
    // Blocked values depend on the project's settings, so the engine's own warnings (not a fixed
    // list) tell the lint which ids Segment blocked.
    Vendor { apply, blocks_id: |_| false, links_event_ids: true, words: &words::WORDS };

/// Why Unify drops a message without resolving it ("Unify Limits": "Engage rejects Identify
/// events with 300 or more traits"; "Unify will silently drop events if: the groupId has more
/// than 500 characters; events have more than 300 properties/traits; messageId is longer than
/// 100 characters; the groupId is empty in a Group call").
fn dropped_by_unify(props: &Map<String, Value>, ty: &str) -> Option<String> {
    let len = |k: &str| prop(props, k).and_then(Value::as_object).map_or(0, Map::len);
    let (traits, properties) = (len("traits"), len("properties"));
    let group_id = id_text(prop(props, "groupId"));
    let message_id = prop(props, "messageId").and_then(Value::as_str).unwrap_or_default();
    if ty == "identify" && traits >= 300 {
        Some(format!(
            "it is an identify with {traits} traits (\"Engage rejects Identify events with 300 or more traits\")"
        ))
    } else if traits > 300 || properties > 300 {
        Some(format!(
            "it has {} {} (\"Unify will silently drop events if ... events have more than 300 properties/traits\")",
            traits.max(properties),
            if traits > properties { "traits" } else { "properties" }
        ))
    } else if message_id.chars().count() > 100 {
        Some(format!(
            "its messageId is {} characters long (\"messageId is longer than 100 characters\")",
            message_id.chars().count()
        ))
    } else if group_id.as_ref().is_some_and(|g| g.chars().count() > 500) {
        Some("its groupId has more than 500 characters (\"The groupId has more than 500 characters\")".to_owned())
    } else if ty == "group" && group_id.as_deref().unwrap_or_default().is_empty() {
        Some("it is a group call with an empty groupId (\"The groupId is empty in a Group call\")".to_owned())
    } else {
        None
    }
}

/// Runs Segment Unify's identity resolution for the step's event.
fn apply(step: &mut Step) -> Outcome {
    let ev = step.ev;
    let props = &ev.properties;
    let ty = message_type(props);
    if let Some(reason) = dropped_by_unify(props, ty) {
        let text = format!(
            "Segment Unify drops this message: {reason} (Unify Limits). The inspector keeps it, but it adds no \
             identifier and no trait to any profile."
        );
        step.decide(DecisionKind::Ignored, Rule::MessageDropped, None, None, None, text);
        return Attribution::Dropped.into();
    }
    if ty == "alias" {
        return alias(step);
    }
    let mut ids = unify_ids(props, &step.project.settings);
    if step.project.settings.segment_blocked_values {
        ids.retain(|id| !refuse_blocked(step, id));
    }
    let anchor = unify::resolve(step, ids);
    let pid = anchor.or_else(|| step.project.index.person_of_mut(&ev.distinct_id));
    let Some(pid) = pid else {
        return Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id)).into();
    };
    if ty == "identify" {
        if let Some(Value::Object(traits)) = prop(props, "traits") {
            // A trait sent as null removes it; every other value (also "") is set.
            let (unset, set): (Vec<_>, Vec<_>) = traits.iter().partition(|(_, v)| v.is_null());
            let ups = EventUpdates {
                set: set.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                unset: unset.into_iter().map(|(k, _)| k.clone()).collect(),
                ..EventUpdates::default()
            };
            let by = step.by().clone();
            apply_updates(step.person_mut(pid), &ups, &by);
        }
    }
    Attribution::Person(pid).into()
}

/// `alias`: Unify links nothing ("Alias calls can't be used to merge profiles in Unify", Spec:
/// Alias). The message stays with the profile of its previousId (else of its userId).
fn alias(step: &mut Step) -> Outcome {
    let ev = step.ev;
    let props = &ev.properties;
    let (user, prev) = (id_text(prop(props, "userId")), id_text(prop(props, "previousId")));
    if let (Some(user), Some(prev)) = (&user, &prev) {
        if user == prev {
            let text = format!(
                "alias with previousId == userId ('{user}'): there is nothing to link; the call usually passes \
                 the current user id where the previous (anonymous) id was meant."
            );
            step.warn(WarningKind::SelfAlias, vec![user.clone()], text.clone());
            step.decide(DecisionKind::Ignored, Rule::SelfAlias, Some(prev), Some(user), None, text);
        }
    }
    // The message stays with the device's id (previousId: the SDK keeps it), as its lane does.
    let own = prev.clone().unwrap_or_else(|| ev.distinct_id.clone());
    let pid = step.project.index.person_of_mut(&own).or_else(|| step.project.index.person_of_mut(&ev.distinct_id));
    let text = format!(
        "alias from previousId '{}' to userId '{}': Segment Unify links nothing on an alias (\"Alias calls can't \
         be used to merge profiles in Unify\", Spec: Alias); the profiles stay as they are. Send both ids on one \
         identify (userId with the anonymousId) to link them.",
        prev.as_deref().unwrap_or_default(),
        user.as_deref().unwrap_or_default()
    );
    step.decide(DecisionKind::Ignored, Rule::NotInThisMode, prev.as_deref(), user.as_deref(), pid, text);
    match pid {
        Some(pid) => Attribution::Person(pid).into(),
        None => Attribution::Personless(person_uuid(&ev.project, &own)).into(),
    }
}

/// Records a blocked identifier (warning + decision) and returns whether it is blocked.
fn refuse_blocked(step: &mut Step, id: &UnifyId) -> bool {
    if !is_segment_blocked(&id.value) {
        return false;
    }
    let text = format!(
        "Segment never uses '{}' ({}) as an identifier: it is one of the suggested blocked values this project \
         turned on (^[0-]*$, -1, null, anonymous). It stays in the message's payload but joins no profile.",
        id.value, id.name
    );
    step.warn(WarningKind::BlockedIdentifierValue, vec![id.value.clone()], text.clone());
    step.decide(DecisionKind::Ignored, Rule::BlockedIdentifier, Some(&id.value), None, None, text);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_values_are_exact_and_case_sensitive() {
        for v in ["", "0", "000", "-", "0-0", "-1", "null", "anonymous"] {
            assert!(is_segment_blocked(v), "{v:?}");
        }
        for v in ["1", "user-1", "10", "anon", "nul", "NULL", "Anonymous", " "] {
            assert!(!is_segment_blocked(v), "{v:?}");
        }
    }
}
