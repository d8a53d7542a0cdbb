//! The PostHog-shaped view of a Segment or Mixpanel event: the same event in PostHog's words, so the device
//! lanes and the generic lint rules read one shape for every family.
//!
//! - Segment: `identify` with an anonymousId becomes `$identify` with `$anon_distinct_id`;
//!   `alias` becomes `$create_alias` (`alias` = previousId, distinct id = userId);
//!   `$device_id` = `context.device.id` (mobile), else the anonymousId on a browser (a message
//!   with `context.userAgent`): reset() makes a new anonymousId, so a browser's lanes are its
//!   anonymousIds, tied together by the reset inference. Server messages have neither and
//!   follow the anonymous-id chain like server-side PostHog events.
//!   `$is_identified` = the message has a userId; `$set` = identify `traits`.
//! - Mixpanel: already PostHog-like (`$device_id`, `$identify` + `$anon_distinct_id`,
//!   `$create_alias` + `alias`); an Original ID Merge identify (`$identify` with
//!   `$identified_id` + `$anon_id`, Mixpanel API reference "Create Identity",
//!   <https://developer.mixpanel.com/reference/create-identity>) becomes `$anon_distinct_id` =
//!   `$anon_id` on the distinct id `$identified_id`; the user agent is
//!   `$browser $browser_version ($os)`, and `$is_identified` = the event carries `$user_id`
//!   (Simplified ID Merge).
//! - KISSmetrics: an alias call becomes `$create_alias` (`alias` = its `_n`, distinct id = its
//!   `_p`), a set call keeps its `$set`. Its calls carry no device
//!   key (the JS library keeps its anonymous id in the `km_ai` cookie and sends it as `_p` while
//!   the visitor is anonymous), so lanes follow the anonymous-id chain.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::family::Family;
use crate::graph::id_text;
use crate::segment::message_type;
use crate::types::EventInput;

/// Set on a view whose `$device_id` is really an anonymousId (the lane's `key_kind`).
pub(crate) const LANE_KEY_KIND: &str = "$lane_key_kind";

pub(crate) fn lane_view(ev: &EventInput, family: Family) -> Cow<'_, EventInput> {
    match family {
        Family::PostHog => Cow::Borrowed(ev),
        Family::Segment | Family::RudderStack => Cow::Owned(segment_view(ev)),
        Family::KissMetrics => Cow::Owned(kissmetrics_view(ev)),
        Family::Mixpanel => Cow::Owned(mixpanel_view(ev)),
    }
}

fn shell(ev: &EventInput, event: String, properties: Map<String, Value>) -> EventInput {
    EventInput {
        seq: ev.seq,
        uuid: ev.uuid.clone(),
        project: ev.project.clone(),
        source: ev.source.clone(),
        event,
        distinct_id: ev.distinct_id.clone(),
        timestamp: ev.timestamp,
        properties,
    }
}

fn segment_view(ev: &EventInput) -> EventInput {
    let p = &ev.properties;
    let ctx = |ptr: &str| ev.prop("context").and_then(|c| c.pointer(ptr));
    let user = id_text(ev.prop("userId")).filter(|u| !u.is_empty());
    let anon = id_text(ev.prop("anonymousId")).filter(|a| !a.is_empty());
    let agent = ctx("/userAgent").and_then(Value::as_str).filter(|a| !a.is_empty());
    let mut out = Map::new();
    let mut event = ev.event.clone();
    let mut alias_from = None;
    match message_type(p) {
        "identify" => {
            if let (Some(_), Some(a)) = (&user, &anon) {
                event = "$identify".into();
                out.insert("$anon_distinct_id".into(), Value::String(a.clone()));
            }
            if let Some(traits) = ev.prop("traits").filter(|t| t.is_object()) {
                out.insert("$set".into(), traits.clone());
            }
        }
        "alias" => {
            // alias(to, from) leaves the SDK on its own id (analytics.js and
            // @rudderstack/analytics-js v3 keep their user id), so the device stays on
            // `previousId` and `to` is the id it adds, as posthog-js's alias(x) is
            // `$create_alias {alias: x}` sent by the current id.
            event = "$create_alias".into();
            if let Some(to) = &user {
                out.insert("alias".into(), Value::String(to.clone()));
            }
            alias_from = id_text(ev.prop("previousId")).filter(|v| !v.is_empty());
        }
        _ => {}
    }
    match (id_text(ctx("/device/id")).filter(|d| !d.is_empty()), &anon, agent) {
        (Some(device), _, _) => drop(out.insert("$device_id".into(), Value::String(device))),
        (None, Some(a), Some(_)) => {
            out.insert("$device_id".into(), Value::String(a.clone()));
            out.insert(LANE_KEY_KIND.into(), Value::String("anonymous_id".into()));
        }
        _ => {}
    }
    if let Some(agent) = agent {
        out.insert("$raw_user_agent".into(), Value::String(agent.to_owned()));
    }
    let mut view = match alias_from {
        Some(from) => {
            let mut view = shell(ev, event, out);
            view.distinct_id = from;
            view
        }
        None => {
            out.insert("$is_identified".into(), Value::Bool(user.is_some()));
            shell(ev, event, out)
        }
    };
    // A device's lane follows the device's own clock where the message keeps it untouched:
    // @rudderstack/analytics-js v3 queues and sends messages concurrently, so the
    // arrival-corrected time (receivedAt - (sentAt - originalTimestamp)) can put a later call
    // first, while `originalTimestamp` orders one device's calls as made. (`timestamp` is not
    // used: an export/import round trip rewrites it to the corrected time.)
    let client = ev.prop("originalTimestamp").and_then(Value::as_str);
    if let Some(t) = client.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
        view.timestamp = t.with_timezone(&chrono::Utc);
    }
    view
}

fn mixpanel_view(ev: &EventInput) -> EventInput {
    let p = &ev.properties;
    let mut out = Map::new();
    for key in ["$device_id", "$anon_distinct_id", "alias", "$set", "$set_once", "$unset"] {
        if let Some(v) = ev.prop(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(Value::String(d)) = out.get("$device_id").cloned() {
        if d.is_empty() {
            out.remove("$device_id");
        }
    }
    let text = |k: &str| id_text(ev.prop(k)).filter(|v| !v.is_empty());
    if let Some(browser) = text("$browser") {
        let version = text("$browser_version").map(|v| format!(" {v}")).unwrap_or_default();
        let os = text("$os").map(|o| format!(" ({o})")).unwrap_or_default();
        out.insert("$raw_user_agent".into(), Value::String(format!("{browser}{version}{os}")));
    }
    if p.contains_key("$device_id") || p.contains_key("$user_id") {
        out.insert("$is_identified".into(), Value::Bool(text("$user_id").is_some()));
    }
    let mut view = shell(ev, ev.event.clone(), out);
    if let Some((identified, anon)) = original_identify(ev) {
        view.properties.entry("$anon_distinct_id").or_insert(Value::String(anon));
        view.distinct_id = identified;
    }
    view
}

/// The `($identified_id, $anon_id)` of an Original ID Merge identify (Create Identity), whose
/// distinct id may be missing: the identified id is the id the event is on.
pub(crate) fn original_identify(ev: &EventInput) -> Option<(String, String)> {
    if ev.event != "$identify" {
        return None;
    }
    let text = |k: &str| id_text(ev.prop(k)).filter(|v| !v.is_empty());
    let anon = text("$anon_id")?;
    let identified = text("$identified_id").unwrap_or_else(|| ev.distinct_id.clone());
    (!identified.is_empty()).then_some((identified, anon))
}

fn kissmetrics_view(ev: &EventInput) -> EventInput {
    use crate::kissmetrics::{alias_other, ALIAS_EVENT, SET_EVENT};
    let mut out = Map::new();
    let event = match ev.event.as_str() {
        ALIAS_EVENT => {
            if let Some(other) = alias_other(&ev.properties) {
                out.insert("alias".into(), Value::String(other));
            }
            "$create_alias".to_owned()
        }
        SET_EVENT => {
            if let Some(set) = ev.prop("$set") {
                out.insert("$set".into(), set.clone());
            }
            ev.event.clone()
        }
        _ => ev.event.clone(),
    };
    shell(ev, event, out)
}
