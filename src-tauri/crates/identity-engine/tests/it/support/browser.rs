//! Builders for posthog-js-like traffic fed to `Model`.

use identity_engine::*;

use super::{e, number, P};
use serde_json::{json, Value};

pub const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0";
/// posthog-js style anonymous ids (uuidv7-shaped).
pub const ANON1: &str = "01a20b9c-0000-7000-8000-000000000001";
pub const ANON2: &str = "01a20b9c-0000-7000-8000-000000000002";
pub const ANON3: &str = "01a20b9c-0000-7000-8000-000000000003";

/// A posthog-js event on device `dev`, session `s1`, with `$is_identified` as the SDK sets it
/// (anonymous events are personless, as with person_profiles 'identified_only').
pub fn js(event: &str, id: &str, dev: &str, identified: bool, extra: Value) -> EventInput {
    let mut ev = e(
        event,
        id,
        json!({
            "$device_id": dev, "$session_id": "s1", "$raw_user_agent": UA, "$is_identified": identified,
            "$process_person_profile": identified,
        }),
    );
    for (k, v) in extra.as_object().expect("object") {
        ev.properties.insert(k.clone(), v.clone());
    }
    ev
}

pub fn js_identify(id: &str, anon: &str, dev: &str) -> EventInput {
    js("$identify", id, dev, true, json!({"$anon_distinct_id": anon, "$set": {"email": "max@example.com"}}))
}

pub fn with(mut ev: EventInput, key: &str, v: Value) -> EventInput {
    ev.properties.insert(key.to_owned(), v);
    ev
}

pub fn without(mut ev: EventInput, key: &str) -> EventInput {
    ev.properties.remove(key);
    ev
}

pub fn model(events: Vec<EventInput>) -> Model {
    let mut m = Model::new();
    for ev in number(events) {
        m.apply(&ev).expect("in order");
    }
    m
}

pub fn lane<'a>(m: &'a Model, dev: &str) -> &'a DeviceLane {
    m.device(&format!("{P}/{dev}")).unwrap_or_else(|| panic!("no lane {dev}: {:?}", m.devices(None)))
}

pub fn seg_ids(l: &DeviceLane) -> Vec<&str> {
    l.segments.iter().map(|s| s.distinct_id.as_str()).collect()
}

pub fn kinds(l: &DeviceLane) -> Vec<(&str, bool)> {
    l.transitions.iter().map(|t| (t.kind.as_str(), t.inferred)).collect()
}

pub fn rules(m: &Model, rule: &str) -> Vec<Finding> {
    m.findings(None).into_iter().filter(|f| f.rule.as_str() == rule).map(|f| f.into_owned()).collect()
}
