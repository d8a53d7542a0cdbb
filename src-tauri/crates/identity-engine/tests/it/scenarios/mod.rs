//! The scenario table: one row per PostHog person rule (merges, refusals, personless events,
//! property updates). Each row lists its events and the complete
//! expected outcome for the project: every person (distinct ids in order, is_identified,
//! properties), every decision (seq, kind, rule) and every warning. Generic checks run on every
//! row: decision messages name the ids involved, merge-type events record exactly one decision,
//! and decisions point at the person their target ended on.

mod merges;
mod posthog_person_rules;
mod properties;

use crate::support::engine::*;
use crate::support::*;
use identity_engine::{DecisionKind as K, Rule as R, WarningKind as W, *};
use serde_json::{json, Value};

pub struct Case {
    name: &'static str,
    events: Vec<EventInput>,
    persons: Vec<(&'static [&'static str], bool, Value)>,
    decisions: Vec<(i64, K, R)>,
    warnings: Vec<(i64, W)>,
}

pub fn case(
    name: &'static str,
    events: Vec<EventInput>,
    persons: Vec<(&'static [&'static str], bool, Value)>,
    decisions: Vec<(i64, K, R)>,
    warnings: Vec<(i64, W)>,
) -> Case {
    Case { name, events, persons, decisions, warnings }
}

pub fn dangerously(id: &str, alias: &str) -> EventInput {
    e("$merge_dangerously", id, json!({ "alias": alias }))
}

pub fn set(id: &str, props: Value) -> EventInput {
    e("$pageview", id, json!({ "$set": props }))
}

fn cases() -> Vec<Case> {
    let mut all = merges::cases();
    all.extend(properties::cases());
    all
}

#[test]
fn scenario_table() {
    let cases = cases();
    assert!(cases.len() >= 30, "the table must cover at least 30 scenarios, has {}", cases.len());
    let mut failures = Vec::new();
    for c in cases {
        let result = std::panic::catch_unwind(|| check(&c));
        if let Err(e) = result {
            let text = e.downcast_ref::<String>().cloned().or(e.downcast_ref::<&str>().map(|s| s.to_string()));
            failures.push(format!("{}: {}", c.name, text.unwrap_or_default()));
        }
    }
    assert!(failures.is_empty(), "{} scenario(s) failed:\n{}", failures.len(), failures.join("\n\n"));
}

fn check(c: &Case) {
    let (engine, applied) = run(c.events.clone());
    let mut expected: Vec<(Vec<String>, bool, Value)> = c
        .persons
        .iter()
        .map(|(ids, idf, props)| (ids.iter().map(|s| s.to_string()).collect(), *idf, props.clone()))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(snapshot(&engine), expected, "persons");
    assert_eq!(rules(&engine), c.decisions, "decisions");
    assert_eq!(warnings(&engine), c.warnings, "warnings");

    let events = number(c.events.clone());
    for (ev, applied) in events.iter().zip(&applied) {
        let mine: Vec<&Decision> = engine.decisions().iter().filter(|d| d.seq == ev.seq).collect();
        let merge_type = ["$identify", "$create_alias", "$merge_dangerously"].contains(&ev.event.as_str());
        if merge_type {
            assert_eq!(mine.len(), 1, "merge-type event {} records exactly one decision", ev.seq);
        }
        for d in mine {
            for id in d.source.iter().chain(&d.target) {
                assert_mentions(&d.message, &[id.as_str()]);
            }
            let attributed = match applied.attribution {
                Attribution::Person(id) => Some(id),
                _ => None,
            };
            assert_eq!(d.person_id, attributed, "decision person of seq {}", ev.seq);
        }
        // Every personful event lands on the person its distinct id ends on.
        if !applied.personless {
            let now = engine.person_for(P, &ev.distinct_id).map(|p| p.id);
            if let Attribution::Person(id) = applied.attribution {
                assert!(now == Some(id) || engine.person(id).is_none(), "attribution of seq {}", ev.seq);
            }
        }
    }
}
mod posthog_cookieless;
