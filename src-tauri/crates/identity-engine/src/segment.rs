//! Segment (and RudderStack) identity rules, spec §3: a stored event's `properties` is the whole
//! message. Every message links its `userId`, `anonymousId`, `context.traits.email` (and an
//! identify's `traits.email`) and `context.device.id` into one profile (see `graph.rs` for the
//! limits); `alias` links `previousId` and `userId`; identify `traits` become profile traits
//! (later wins). Blocked values never link.

use serde_json::Value;

use crate::engine::Step;
use crate::family::Family;
use crate::graph::{IdKind, Ident};
use crate::model::{Attribution, DecisionKind, Rule, WarningKind};
use crate::props::{apply_updates, EventUpdates};
use crate::uuid::person_uuid;

/// Segment's suggested blocked values: `^[0-]*$` (so also empty), `-1`, `null`, `anonymous`.
pub fn is_segment_blocked(value: &str) -> bool {
    let v = value.trim();
    v.chars().all(|c| c == '0' || c == '-')
        || v == "-1"
        || v.eq_ignore_ascii_case("null")
        || v.eq_ignore_ascii_case("anonymous")
}

/// An identifier field as the vendor reads it: strings as they are, numbers as their JSON
/// text; null, absent and other types carry no identifier.
pub(crate) fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
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

impl Step<'_> {
    pub(crate) fn run_segment(&mut self) -> Attribution {
        let ev = self.ev;
        let props = &ev.properties;
        let ty = message_type(props).to_owned();
        let mut ids = segment_ids(props, |v| self.kind_of(v));
        if ty == "alias" {
            let (user, prev) = (id_text(props.get("userId")), id_text(props.get("previousId")));
            if let (Some(user), Some(prev)) = (user, prev) {
                if user == prev {
                    let text = format!(
                        "alias with previousId == userId ('{user}'): Segment has nothing to link; the call \
                         usually passes the current user id where the previous (anonymous) id was meant."
                    );
                    self.warn(WarningKind::SelfAlias, vec![user.clone()], text.clone());
                    self.decide(DecisionKind::Ignored, Rule::SelfAlias, Some(&prev), Some(&user), None, text);
                }
            }
        }
        ids.retain(|id| !self.blocked(id, Family::Segment, is_segment_blocked(&id.value)));
        let anchor = self.link(&ids, Family::Segment);
        let pid = self.project.index.person_of_mut(&ev.distinct_id).or(anchor);
        let Some(pid) = pid else {
            return Attribution::Personless(person_uuid(&ev.project, &ev.distinct_id));
        };
        if ty == "identify" {
            if let Some(Value::Object(traits)) = props.get("traits") {
                let ups = EventUpdates { set: traits.clone(), ..EventUpdates::default() };
                let by = self.by().clone();
                apply_updates(self.person_mut(pid), &ups, &by);
            }
        }
        Attribution::Person(pid)
    }

    /// Records a blocked identifier (warning + decision) and returns `blocked`.
    pub(crate) fn blocked(&mut self, id: &Ident, family: Family, blocked: bool) -> bool {
        if blocked {
            let text = match family {
                Family::Mixpanel => format!(
                    "Mixpanel never merges '{}' ({}): it is a disallowed id (anon, null, 0, -1, undefined, the \
                     all-zero uuid, empty, ...), so it joins no cluster.",
                    id.value,
                    id.kind.as_str()
                ),
                _ => format!(
                    "Segment never links '{}' ({}): it is a blocked value (the suggested blocklist: ^[0-]*$, -1, \
                     null, anonymous, and empty), so it joins no profile.",
                    id.value,
                    id.kind.as_str()
                ),
            };
            self.warn(WarningKind::BlockedIdentifierValue, vec![id.value.clone()], text.clone());
            self.decide(DecisionKind::Ignored, Rule::BlockedIdentifier, Some(&id.value), None, None, text);
        }
        blocked
    }
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
