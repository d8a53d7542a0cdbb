//! Mixpanel, Simplified ID Merge (the default mode), one documented rule per test. Source of every
//! rule: Mixpanel docs "Identifying Users (Simplified)"
//! (<https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-simplified>);
//! `/engage` operations: Mixpanel's Engage API reference.

use identity_engine::*;
use serde_json::json;

use crate::support::vendor_events::*;

fn run(evs: &[EventInput]) -> Model {
    mixpanel_model(MixpanelIdMerge::Simplified, evs)
}

fn persons(m: &Model) -> Vec<Vec<&str>> {
    mixpanel_clusters(m)
}

fn has(m: &Model, rule: Rule) -> Option<&Decision> {
    m.engine().decisions().iter().find(|d| d.rule == rule)
}

/// A cluster forms when `$user_id` and `$device_id` arrive on one event for the first time.
#[test]
fn a_cluster_forms_when_user_and_device_arrive_together() {
    let m = run(&[mp_web("a", "d1", None), mp_web("b", "d1", Some("u1"))]);
    assert_eq!(persons(&m), [vec!["d1", "$device:d1", "u1"]]);
    let d = has(&m, Rule::IdentifierLinked).unwrap();
    assert!(d.message.starts_with("Mixpanel, Simplified ID Merge:"), "{}", d.message);
}

/// A hand-set distinct_id on an event with `$device_id`/`$user_id` links nothing.
#[test]
fn a_hand_set_distinct_id_links_nothing() {
    let m = run(&[mp("a", "my-own-id", json!({"$device_id": "d1", "$user_id": "u1"}))]);
    assert_eq!(persons(&m), [vec!["u1", "d1", "$device:d1"]]);
    assert!(m.engine().person_for("mpt", "my-own-id").is_none());
    assert!(has(&m, Rule::NotInThisMode).unwrap().message.contains("links nothing"));
}

/// Two `$user_id`s never merge.
#[test]
fn two_user_ids_never_merge() {
    let m = run(&[mp_web("a", "d1", Some("u1")), mp_web("b", "d1", Some("u2"))]);
    assert_eq!(persons(&m), [vec!["u1", "d1", "$device:d1"], vec!["u2"]]);
    assert!(has(&m, Rule::ClusterHasUserId).unwrap().message.contains("never merge"));
}

/// No limit on devices per cluster.
#[test]
fn no_device_limit() {
    let evs: Vec<EventInput> = (0..30).map(|i| mp_web("a", &format!("d{i}"), Some("u1"))).collect();
    let m = run(&evs);
    assert_eq!(m.engine().person_for("mpt", "u1").unwrap().distinct_ids.len(), 61);
}

/// `$identify`, `$create_alias`, `$merge` and `$anon_distinct_id` have no functionality.
#[test]
fn identify_alias_and_merge_have_no_functionality() {
    let m = run(&[
        mp("$create_alias", "x", json!({"alias": "y"})),
        mp("$merge", "x", json!({"$distinct_ids": ["x", "z"]})),
        mp("$identify", "u1", json!({"$anon_distinct_id": "a1"})),
    ]);
    assert_eq!(persons(&m), [vec!["u1"], vec!["x"]]);
    let n = m.engine().decisions().iter().filter(|d| d.rule == Rule::NotInThisMode).count();
    assert_eq!(n, 3);
}

/// Profile properties set on `$device:<id>` are not carried to the user's profile.
#[test]
fn device_profile_properties_are_not_carried_to_the_user() {
    let m = run(&[
        mp_web("a", "d1", None),
        engage("$device:d1", json!({"$set": {"plan": "trial"}})),
        mp_web("b", "d1", Some("u1")),
    ]);
    let p = m.engine().person_for("mpt", "u1").unwrap();
    assert!(p.properties.is_empty(), "{:?}", p.properties);
}

/// `/engage` `$add` (people.increment) adds numerically; `$append`, `$union`, `$remove` edit lists.
#[test]
fn engage_add_append_union_remove() {
    let m = run(&[
        engage("u1", json!({"$add": {"visits": 1}})),
        engage("u1", json!({"$add": {"visits": 2}})),
        engage("u1", json!({"$union": {"tags": ["a", "b"]}})),
        engage("u1", json!({"$append": {"tags": "a"}})),
        engage("u1", json!({"$remove": {"tags": "b"}})),
    ]);
    let p = m.engine().person_for("mpt", "u1").unwrap();
    assert_eq!(serde_json::Value::Object(p.properties.clone()), json!({"visits": 3, "tags": ["a", "a"]}));
}

/// Import Events reference: disallowed ids never merge (case ignored: the inspector's choice).
#[test]
fn disallowed_user_and_device_ids_never_merge() {
    let m = run(&[mp("a", "x", json!({"$device_id": "d1", "$user_id": "Unknown"}))]);
    assert_eq!(persons(&m), [vec!["d1", "$device:d1"]]);
    assert!(has(&m, Rule::BlockedIdentifier).unwrap().message.starts_with("Mixpanel, Simplified ID Merge:"));
}
