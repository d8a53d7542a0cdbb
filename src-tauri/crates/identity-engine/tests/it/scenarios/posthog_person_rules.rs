//! PostHog person rules beyond merges, each with its source in PostHog's ingestion code
//! (<https://github.com/PostHog/posthog>, `nodejs/src/`).

use crate::support::engine::*;
use crate::support::*;
use identity_engine::{ChangeOp, DecisionKind, Rule, WarningKind};
use serde_json::json;

/// `person-create-service.ts` `createPerson`: `$creator_event_uuid` is the creating event's uuid.
#[test]
fn creator_event_uuid_is_the_creating_events() {
    let (engine, _) = run(vec![
        e("$identify", "user", json!({"$anon_distinct_id": "anon"})),
        e("$pageview", "other", json!({"$set": {"$creator_event_uuid": "mine"}})),
    ]);
    assert_eq!(person(&engine, "user").properties["$creator_event_uuid"], json!("ev-1"));
    assert_eq!(person(&engine, "other").properties["$creator_event_uuid"], json!("ev-2"), "the uuid wins over $set");
}

/// `utils.ts` `personInitialAndUTMProperties`: lifted into `$set` (the event's own `$set` wins) and
/// `$initial_*` into `$set_once` (never a null); `$is_server: true` keeps `$os`/`$os_version` off;
/// `$os_name` stands in for a missing `$os`.
#[test]
fn event_properties_are_lifted_onto_the_person() {
    let (engine, _) = run(vec![
        e(
            "$pageview",
            "u",
            json!({"$browser": "Chrome", "utm_source": "ads", "gclid": null, "$os_name": "iOS",
                   "$set": {"$browser": "Mine"}}),
        ),
        e("server_event", "s", json!({"$is_server": true, "$os": "Linux", "$os_version": "6", "$browser": "x"})),
    ]);
    let u = &person(&engine, "u").properties;
    assert_eq!(u["$browser"], json!("Mine"));
    assert_eq!(u["$initial_browser"], json!("Chrome"));
    assert_eq!((u["utm_source"].clone(), u["$initial_utm_source"].clone()), (json!("ads"), json!("ads")));
    assert_eq!(u["gclid"], json!(null));
    assert!(!u.contains_key("$initial_gclid"), "a null never becomes a first touch");
    assert_eq!((u["$os"].clone(), u["$initial_os"].clone()), (json!("iOS"), json!("iOS")));
    assert!(!u.contains_key("$os_name") && !u.contains_key("$initial_os_name"));
    let s = &person(&engine, "s").properties;
    assert!(!s.contains_key("$os") && !s.contains_key("$initial_os") && !s.contains_key("$os_version"));
    assert_eq!(s["$browser"], json!("x"));
}

/// `batch-writing-person-store.ts` `getPersonUpdateOutcome` with `FILTERED_PERSON_UPDATE_PROPERTIES`
/// (`person-property-utils.ts`): a write whose only change is a new value of an existing filtered key
/// is skipped; a new key, or a `PERSON_EVENTS` event (`person-update.ts`), is written.
#[test]
fn filtered_only_changes_are_not_written() {
    let (engine, _) = run(vec![
        e("$pageview", "u", json!({"$current_url": "https://a"})),
        e("$pageview", "u", json!({"$current_url": "https://b"})),
        e("$set", "u", json!({"$current_url": "https://c"})),
        e("$pageview", "u", json!({"$current_url": "https://d", "utm_source": "new"})),
    ]);
    let p = person(&engine, "u");
    let skipped: Vec<_> = p.history.iter().filter(|c| c.op == ChangeOp::FilteredSkipped).collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0].by.seq, skipped[0].new.clone()), (2, Some(json!("https://b"))));
    assert_eq!(p.properties["$current_url"], json!("https://d"), "written with a new key");
    assert_eq!(p.properties["$initial_current_url"], json!("https://a"));
}

/// Skipped writes are PostHog's (`getPersonUpdateOutcome`); folding them is the inspector's own way
/// of keeping a person's history as long as its real writes: consecutive skipped writes of one key
/// are one entry with the newest value and event and a count, and a real write starts a new one.
#[test]
fn repeated_skipped_writes_fold_into_one_entry() {
    let (engine, _) = run(vec![
        e("$pageview", "u", json!({"$current_url": "https://a"})),
        e("$pageview", "u", json!({"$current_url": "https://b"})),
        e("$pageview", "u", json!({"$current_url": "https://c"})),
        e("$pageview", "u", json!({"$current_url": "https://d"})),
        e("$set", "u", json!({"$current_url": "https://e"})),
        e("$pageview", "u", json!({"$current_url": "https://f"})),
    ]);
    let p = person(&engine, "u");
    let skipped: Vec<_> = p.history.iter().filter(|c| c.op == ChangeOp::FilteredSkipped).collect();
    assert_eq!(skipped.len(), 2, "one entry before the forced write, one after");
    assert_eq!((skipped[0].by.seq, skipped[0].new.clone(), skipped[0].folded), (4, Some(json!("https://d")), 2));
    assert_eq!(skipped[0].old, Some(json!("https://a")), "the value kept all along");
    assert_eq!((skipped[1].by.seq, skipped[1].folded, skipped[1].old.clone()), (6, 0, Some(json!("https://e"))));
    assert_eq!(p.properties["$current_url"], json!("https://e"));
}

/// The event pipeline runner: `$exception` (error tracking) and `$$heatmap` never create or
/// update persons.
#[test]
fn exception_and_heatmap_never_touch_persons() {
    let (engine, _) = run(vec![
        e("$exception", "anon", json!({"$set": {"a": 1}})),
        e("$$heatmap", "anon", json!({})),
        e("$pageview", "u", json!({})),
        e("$exception", "u", json!({"$set": {"a": 1}})),
    ]);
    assert!(engine.person_for(P, "anon").is_none());
    assert!(!person(&engine, "u").properties.contains_key("a"));
}

/// `$groupidentify` with a `$group_key` over 400 characters: dropped, warning `group_key_too_long`.
#[test]
fn long_group_key_is_dropped() {
    let long = "k".repeat(401);
    let (engine, applied) = run(vec![
        e("$groupidentify", "u", json!({"$group_type": "company", "$group_key": long})),
        e("$groupidentify", "u", json!({"$group_type": "company", "$group_key": "k".repeat(400)})),
    ]);
    assert_eq!(applied[0].decisions[0].kind, DecisionKind::Dropped);
    assert_eq!(applied[0].decisions[0].rule, Rule::GroupKeyTooLong);
    assert_eq!(applied[0].warnings[0].kind, WarningKind::GroupKeyTooLong);
    assert!(applied[1].warnings.is_empty());
    assert!(engine.person_for(P, "u").is_some());
}

/// `isDistinctIdIllegal`: a whitespace-only id (which PostHog's capture accepts) is refused in merges.
#[test]
fn whitespace_only_id_cannot_merge() {
    let (_, applied) = run(vec![e("$identify", "user", json!({"$anon_distinct_id": "   "}))]);
    assert_eq!(applied[0].decisions[0].rule, Rule::IllegalDistinctId);
}
