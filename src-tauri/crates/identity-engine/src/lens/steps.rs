//! One project's events as family-neutral identity steps: which identifiers an event shows
//! together, and which it links on purpose (identify, alias). Resets send nothing in any SDK, so
//! they never appear as steps; their effect (a new anonymous id) is just a new id.

use foldhash::HashMap;
use serde_json::Value;

use crate::family::Family;
use crate::graph::id_text;
use crate::graph::{IdKind, Ident};
use crate::js::{js_string, js_truthy};
use crate::segment::{message_type, segment_ids};
use crate::settings::ProjectSettings;
use crate::types::EventInput;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Link {
    /// Ids carried by one event (Segment message, Mixpanel `$device_id` + `$user_id`).
    Together,
    Identify {
        anon: String,
        user: String,
    },
    Alias {
        previous: String,
        user: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub seq: i64,
    pub ids: Vec<Ident>,
    pub link: Link,
}

/// The steps of `events` (one project, arrival order), and the kind each id was first seen as.
pub(crate) fn steps(
    events: &[EventInput],
    family: Family,
    settings: &ProjectSettings,
) -> (Vec<Step>, HashMap<String, IdKind>) {
    let mut kinds: HashMap<String, IdKind> = HashMap::default();
    let mut out = Vec::new();
    for ev in events {
        let step = match family {
            Family::PostHog => posthog_step(ev, &kinds),
            Family::Segment | Family::RudderStack => segment_step(ev, settings),
            Family::KissMetrics => kissmetrics_step(ev),
            Family::Mixpanel => mixpanel_step(ev),
        };
        let Some(mut step) = step else { continue };
        step.ids.retain(|i| !i.value.is_empty());
        for id in &mut step.ids {
            // A user id stays a user id; an id first seen anonymous becomes one when identified.
            let known = kinds.entry(id.value.clone()).or_insert(id.kind);
            if id.kind == IdKind::UserId {
                *known = IdKind::UserId;
            }
            id.kind = *known;
        }
        if !step.ids.is_empty() {
            out.push(step);
        }
    }
    (out, kinds)
}

/// The ids a Segment, RudderStack, Mixpanel or KISSmetrics event names as a user id (user id
/// field, identified id, alias target), before the engine's own kinds are consulted. PostHog
/// events have none here: their user ids depend on the event's call (see the lint's
/// `distinct_users_merged`).
pub(crate) fn user_ids_of(ev: &EventInput, family: Family) -> Vec<String> {
    let step = match family {
        Family::PostHog => None,
        Family::Segment | Family::RudderStack => segment_step(ev, &ProjectSettings::default()),
        Family::KissMetrics => kissmetrics_step(ev),
        Family::Mixpanel => mixpanel_step(ev),
    };
    let ids = step.map(|s| s.ids).unwrap_or_default();
    ids.into_iter().filter(|i| i.kind == IdKind::UserId && !i.value.is_empty()).map(|i| i.value).collect()
}

fn step(ev: &EventInput, ids: Vec<Ident>, link: Link) -> Option<Step> {
    Some(Step { seq: ev.seq, ids, link })
}

fn posthog_step(ev: &EventInput, kinds: &HashMap<String, IdKind>) -> Option<Step> {
    let p = &ev.properties;
    let user = || Ident::new(ev.distinct_id.clone(), IdKind::UserId);
    match ev.event.as_str() {
        "$identify" if p.contains_key("$anon_distinct_id") => {
            let anon = js_string(&p["$anon_distinct_id"]);
            let ids = vec![Ident::new(anon.clone(), IdKind::AnonymousId), user()];
            step(ev, ids, Link::Identify { anon, user: ev.distinct_id.clone() })
        }
        "$create_alias" | "$merge_dangerously" if ev.prop("alias").is_some_and(js_truthy) => {
            let previous = js_string(&p["alias"]);
            let ids = vec![
                Ident::new(previous.clone(), kinds.get(&previous).copied().unwrap_or(IdKind::AnonymousId)),
                user(),
            ];
            step(ev, ids, Link::Alias { previous, user: ev.distinct_id.clone() })
        }
        _ => {
            let identified = ev.prop("$is_identified").and_then(Value::as_bool) == Some(true);
            let kind = if identified {
                IdKind::UserId
            } else {
                kinds.get(&ev.distinct_id).copied().unwrap_or(IdKind::AnonymousId)
            };
            step(ev, vec![Ident::new(ev.distinct_id.clone(), kind)], Link::Together)
        }
    }
}

fn segment_step(ev: &EventInput, settings: &ProjectSettings) -> Option<Step> {
    let p = &ev.properties;
    let ids = segment_ids(p, settings);
    let (user, anon) = (
        id_text(ev.prop("userId")).filter(|u| !u.is_empty()),
        id_text(ev.prop("anonymousId")).filter(|a| !a.is_empty()),
    );
    match (message_type(p), user, anon) {
        ("identify", Some(user), Some(anon)) => step(ev, ids, Link::Identify { anon, user }),
        ("alias", Some(user), _) => {
            let previous = id_text(ev.prop("previousId"))?;
            step(ev, ids, Link::Alias { previous, user })
        }
        _ => step(ev, ids, Link::Together),
    }
}

fn mixpanel_step(ev: &EventInput) -> Option<Step> {
    let text = |k: &str| id_text(ev.prop(k)).filter(|v| !v.is_empty());
    match ev.event.as_str() {
        "$engage" | "$groups" => None,
        "$identify" if text("$anon_distinct_id").is_some() => {
            let anon = text("$anon_distinct_id")?;
            let ids =
                vec![Ident::new(anon.clone(), IdKind::AnonymousId), Ident::new(ev.distinct_id.clone(), IdKind::UserId)];
            step(ev, ids, Link::Identify { anon, user: ev.distinct_id.clone() })
        }
        // Original ID Merge's Create Identity: `$identified_id` + `$anon_id`
        // (<https://developer.mixpanel.com/reference/create-identity>).
        "$identify" if crate::posthog_shape::original_identify(ev).is_some() => {
            let (user, anon) = crate::posthog_shape::original_identify(ev)?;
            let ids = vec![Ident::new(anon.clone(), IdKind::AnonymousId), Ident::new(user.clone(), IdKind::UserId)];
            step(ev, ids, Link::Identify { anon, user })
        }
        // mixpanel.alias(new): the current id is the previous one, `alias` the user's new id.
        "$create_alias" => {
            let user = text("alias")?;
            let ids =
                vec![Ident::new(ev.distinct_id.clone(), IdKind::AnonymousId), Ident::new(user.clone(), IdKind::UserId)];
            step(ev, ids, Link::Alias { previous: ev.distinct_id.clone(), user })
        }
        _ => {
            let mut ids = Vec::new();
            ids.extend(text("$user_id").map(|u| Ident::new(u, IdKind::UserId)));
            let anon = text("$device_id").map(|d| format!("$device:{d}")).unwrap_or(ev.distinct_id.clone());
            if ids.first().is_none_or(|u| u.value != anon) {
                ids.push(Ident::new(anon, IdKind::AnonymousId));
            }
            if let Some(Value::Array(all)) = ev.prop("$distinct_ids") {
                ids.extend(all.iter().filter_map(|v| id_text(Some(v))).map(|v| Ident::new(v, IdKind::DistinctId)));
            }
            step(ev, ids, Link::Together)
        }
    }
}

/// A KISSmetrics call: an alias (`/a`) links its two identities (which of them is the named one
/// the call does not say: the second, as `identify(name)` while anonymous sends it); any other
/// call shows its one identity.
fn kissmetrics_step(ev: &EventInput) -> Option<Step> {
    if ev.event == crate::kissmetrics::ALIAS_EVENT {
        let other = crate::kissmetrics::alias_other(&ev.properties)?;
        let ids =
            vec![Ident::new(ev.distinct_id.clone(), IdKind::AnonymousId), Ident::new(other.clone(), IdKind::UserId)];
        return step(ev, ids, Link::Alias { previous: ev.distinct_id.clone(), user: other });
    }
    step(ev, vec![Ident::new(ev.distinct_id.clone(), IdKind::DistinctId)], Link::Together)
}
