//! PostHog events fed to `Engine`, and assertions on its persons and decisions.

use identity_engine::*;

use super::{e, number, P};
use serde_json::{json, Value};

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

/// Applies the events one by one; returns the engine and every `Applied`.
pub fn run(events: Vec<EventInput>) -> (Engine, Vec<Applied>) {
    let mut engine = Engine::new();
    let applied = number(events).iter().map(|ev| engine.apply(ev).expect("in order")).collect();
    (engine, applied)
}

/// (distinct ids, is_identified, properties) of every person of `P`, sorted by first id.
/// Persons as (ids, identified, properties). `$creator_event_uuid` (which every PostHog person
/// gets at creation, `person-create-service.ts`) is left out so tables state only what the events
/// set; `scenarios/posthog_person_rules.rs` checks it.
pub fn snapshot(engine: &Engine) -> Vec<(Vec<String>, bool, Value)> {
    let mut all: Vec<_> = engine
        .persons(P)
        .into_iter()
        .map(|p| {
            let mut props = p.properties.clone();
            props.remove("$creator_event_uuid");
            (p.distinct_ids.clone(), p.is_identified, Value::Object(props))
        })
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
