//! Hand-built Segment and Mixpanel events in the stored shape of the shared contract.

use std::cell::Cell;

use chrono::{DateTime, Duration, Utc};
use identity_engine::EventInput;
use serde_json::{json, Map, Value};

pub const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0";

thread_local! {
    static SEQ: Cell<i64> = const { Cell::new(0) };
}

fn next_seq() -> i64 {
    SEQ.with(|s| {
        s.set(s.get() + 1);
        s.get()
    })
}

pub fn base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").unwrap().into()
}

fn event(project: &str, source: &str, event: &str, distinct_id: &str, properties: Value) -> EventInput {
    let seq = next_seq();
    EventInput {
        seq,
        uuid: format!("ev-{seq}"),
        project: project.into(),
        source: source.into(),
        event: event.into(),
        distinct_id: distinct_id.into(),
        timestamp: base() + Duration::seconds(seq),
        properties: properties.as_object().cloned().unwrap_or_default(),
    }
}

/// A Segment message: `ty` (`track` uses `event` "Clicked"), userId, anonymousId, extra keys.
pub fn seg(ty: &str, user: Option<&str>, anon: Option<&str>, extra: Value) -> EventInput {
    let mut m = Map::new();
    m.insert("type".into(), json!(ty));
    if let Some(u) = user {
        m.insert("userId".into(), json!(u));
    }
    if let Some(a) = anon {
        m.insert("anonymousId".into(), json!(a));
    }
    m.insert("context".into(), json!({"library": {"name": "analytics.js"}}));
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            m.insert(k, v);
        }
    }
    let name = if ty == "track" {
        m.get("event").and_then(Value::as_str).unwrap_or("Clicked").to_owned()
    } else {
        ty.to_owned()
    };
    let id = user.filter(|u| !u.is_empty()).or(anon).unwrap_or_default().to_owned();
    event("seg", "segment", &name, &id, Value::Object(m))
}

/// The same from a browser (`context.userAgent`), so lanes key on the anonymousId.
pub fn seg_web(ty: &str, user: Option<&str>, anon: &str, extra: Value) -> EventInput {
    let mut ev = seg(ty, user, Some(anon), extra);
    ev.properties.insert("context".into(), json!({"userAgent": UA, "library": {"name": "analytics.js"}}));
    ev
}

/// A Mixpanel `/track` event (properties as sent).
pub fn mp(name: &str, distinct_id: &str, props: Value) -> EventInput {
    let mut p = props.as_object().cloned().unwrap_or_default();
    p.insert("distinct_id".into(), json!(distinct_id));
    p.insert("token".into(), json!("mpt"));
    event("mpt", "mixpanel", name, distinct_id, Value::Object(p))
}

/// A mixpanel-browser event in Simplified ID Merge: `$device:<device>` until identified.
pub fn mp_web(name: &str, device: &str, user: Option<&str>) -> EventInput {
    let id = user.map(str::to_owned).unwrap_or(format!("$device:{device}"));
    let mut props = json!({"$device_id": device, "$browser": "Chrome", "$browser_version": 156, "$os": "Linux"});
    if let Some(u) = user {
        props["$user_id"] = json!(u);
    }
    mp(name, &id, props)
}

/// A Mixpanel `/engage` update.
pub fn engage(distinct_id: &str, update: Value) -> EventInput {
    let mut p = update.as_object().cloned().unwrap_or_default();
    p.insert("$distinct_id".into(), json!(distinct_id));
    p.insert("$token".into(), json!("mpt"));
    event("mpt", "mixpanel", "$engage", distinct_id, Value::Object(p))
}

/// The model of Mixpanel events of project `mpt` under one ID merge mode.
pub fn mixpanel_model(mode: identity_engine::MixpanelIdMerge, evs: &[EventInput]) -> identity_engine::Model {
    let settings = identity_engine::ProjectSettings { mixpanel_id_merge: mode, ..Default::default() };
    let mut m = identity_engine::Model::with_settings([("mpt", settings)]);
    for e in evs {
        m.apply(e).unwrap();
    }
    m
}

/// The clusters of project `mpt`, each as its ids, sorted.
pub fn mixpanel_clusters(m: &identity_engine::Model) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> =
        m.engine().persons("mpt").into_iter().map(|p| p.distinct_ids.iter().map(String::as_str).collect()).collect();
    out.sort();
    out
}
