//! Helpers shared by the integration tests: event builders and assertions.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use identity_engine::*;
use serde_json::{json, Value};

pub const P: &str = "phc_test";

/// 2026-11-24T12:00:00Z; events without an explicit time get T0 + seq minutes.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z").unwrap().with_timezone(&Utc)
}

/// An event of project `P`; seq, uuid and time are filled in by `number`.
pub fn e(event: &str, distinct_id: &str, props: Value) -> EventInput {
    EventInput {
        seq: 0,
        uuid: String::new(),
        project: P.to_owned(),
        source: "posthog".into(),
        event: event.to_owned(),
        distinct_id: distinct_id.to_owned(),
        timestamp: DateTime::UNIX_EPOCH,
        properties: props.as_object().expect("props must be an object").clone(),
    }
}

pub fn pageview(id: &str) -> EventInput {
    e("$pageview", id, json!({}))
}

pub fn identify(id: &str, anon: &str) -> EventInput {
    e("$identify", id, json!({ "$anon_distinct_id": anon }))
}

pub fn alias(id: &str, alias: &str) -> EventInput {
    e("$create_alias", id, json!({ "alias": alias }))
}

pub fn personless(mut ev: EventInput) -> EventInput {
    ev.properties.insert("$process_person_profile".into(), Value::Bool(false));
    ev
}

pub fn at(mut ev: EventInput, minutes: i64) -> EventInput {
    ev.timestamp = t0() + Duration::minutes(minutes);
    ev
}

/// Gives events seq 1..=n, uuids `ev-<seq>`, and default times.
pub fn number(mut events: Vec<EventInput>) -> Vec<EventInput> {
    for (i, ev) in events.iter_mut().enumerate() {
        ev.seq = i as i64 + 1;
        ev.uuid = format!("ev-{}", ev.seq);
        if ev.timestamp == DateTime::UNIX_EPOCH {
            ev.timestamp = t0() + Duration::minutes(ev.seq);
        }
    }
    events
}

/// Applies the events one by one; returns the engine and every `Applied`.
pub fn run(events: Vec<EventInput>) -> (Engine, Vec<Applied>) {
    let mut engine = Engine::new();
    let applied = number(events).iter().map(|ev| engine.apply(ev).expect("in order")).collect();
    (engine, applied)
}

/// (distinct ids, is_identified, properties) of every person of `P`, sorted by first id.
pub fn snapshot(engine: &Engine) -> Vec<(Vec<String>, bool, Value)> {
    let mut all: Vec<_> = engine
        .persons(P)
        .into_iter()
        .map(|p| (p.distinct_ids.clone(), p.is_identified, Value::Object(p.properties.clone())))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

pub fn person<'a>(engine: &'a Engine, id: &str) -> &'a Person {
    engine.person_for(P, id).unwrap_or_else(|| panic!("no person for {id}"))
}

pub fn rules(engine: &Engine) -> Vec<(i64, DecisionKind, Rule)> {
    engine.decisions().iter().map(|d| (d.seq, d.kind, d.rule)).collect()
}

pub fn warnings(engine: &Engine) -> Vec<(i64, WarningKind)> {
    engine.warnings().iter().map(|w| (w.seq, w.kind)).collect()
}

/// The only decision recorded for event `seq`.
#[track_caller]
pub fn decision(engine: &Engine, seq: i64) -> &Decision {
    let found: Vec<&Decision> = engine.decisions().iter().filter(|d| d.seq == seq).collect();
    assert_eq!(found.len(), 1, "expected exactly one decision for seq {seq}: {found:#?}");
    found[0]
}

#[track_caller]
pub fn assert_mentions(text: &str, fragments: &[&str]) {
    for f in fragments {
        assert!(text.contains(f), "{text:?} should mention {f:?}");
    }
}
