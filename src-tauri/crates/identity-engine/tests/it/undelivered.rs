//! `undelivered_identify`: an identify or alias that only ever reached the inspector in requests
//! a fault rule answered is a finding, made against the persons as they stand, and withdrawn
//! once it is delivered.

use crate::support::browser::{model, rules};
use crate::support::vendor_events::seg;
use crate::support::*;
use identity_engine::{LintRule, Model, Severity, Undelivered};
use serde_json::json;

/// `ev` as the server hands it over: faulted after `after_seq`, sent `attempts` times.
fn lost(mut ev: identity_engine::EventInput, uuid: &str, after_seq: i64, attempts: u32) -> Undelivered {
    ev.uuid = uuid.into();
    ev.seq = after_seq;
    ev.timestamp = t0();
    Undelivered { event: ev, attempts }
}

fn anon_then_user() -> Model {
    model(vec![e("$pageview", "anon-1", json!({"$device_id": "dev-1"})), e("$pageview", "user-1", json!({}))])
}

#[test]
fn a_lost_identify_is_an_error_naming_both_ids() {
    let mut m = anon_then_user();
    let identify = e("$identify", "user-1", json!({"$anon_distinct_id": "anon-1", "$device_id": "dev-1"}));
    let new = m.set_undelivered(&[lost(identify, "id-1", 1, 4)]);
    assert_eq!(new, 1);
    assert_eq!(m.take_changes().new_findings, 1, "counted as a new finding for the stream");
    let found = rules(&m, "undelivered_identify");
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!((f.rule, f.severity, f.seq), (LintRule::UndeliveredIdentify, Severity::Error, 1));
    assert_eq!(f.distinct_ids, ["anon-1", "user-1"]);
    assert_eq!((f.event_uuids.clone(), f.device_ids.clone()), (vec!["id-1".to_owned()], vec!["dev-1".to_owned()]));
    assert!(f.message.starts_with("$identify('user-1') never reached PostHog: it was sent 4 times"), "{}", f.message);
    assert!(f.message.contains("the person would not be merged"), "{}", f.message);
    assert!(m.has_undelivered());
    // Set again, the same finding is not new.
    let identify = e("$identify", "user-1", json!({"$anon_distinct_id": "anon-1"}));
    assert_eq!(m.set_undelivered(&[lost(identify, "id-1", 1, 4)]), 0);
}

#[test]
fn a_lost_identify_whose_ids_another_event_joined_is_only_noted() {
    let mut m =
        model(vec![e("$pageview", "anon-1", json!({})), e("$create_alias", "user-1", json!({"alias": "anon-1"}))]);
    let identify = e("$identify", "user-1", json!({"$anon_distinct_id": "anon-1"}));
    m.set_undelivered(&[lost(identify, "id-1", 2, 1)]);
    let f = &rules(&m, "undelivered_identify")[0];
    assert_eq!(f.severity, Severity::Info);
    assert!(f.message.contains("sent once and not retried"), "{}", f.message);
    assert!(f.message.contains("one person anyway"), "{}", f.message);
}

#[test]
fn events_that_join_nothing_and_delivered_ones_make_no_finding() {
    let mut m = anon_then_user();
    let pageview = e("$pageview", "anon-1", json!({}));
    let self_identify = e("$identify", "user-1", json!({}));
    m.set_undelivered(&[lost(pageview, "pv", 1, 1), lost(self_identify, "self", 1, 1)]);
    assert!(rules(&m, "undelivered_identify").is_empty());
    assert!(!m.has_undelivered());
    // Once the retry is delivered the server sets what is still undelivered: nothing.
    let identify = e("$identify", "user-1", json!({"$anon_distinct_id": "anon-1"}));
    m.set_undelivered(&[lost(identify, "id-1", 1, 2)]);
    assert_eq!(rules(&m, "undelivered_identify").len(), 1);
    m.set_undelivered(&[]);
    assert!(rules(&m, "undelivered_identify").is_empty(), "withdrawn");
}

#[test]
fn aliases_and_segment_identifies_count_in_their_vendor_s_words() {
    let mut m = Model::new();
    let alias = e("$create_alias", "user-1", json!({"alias": "user-1-old"}));
    let segment = seg("identify", Some("user-9"), Some("anon-9"), json!({}));
    m.set_undelivered(&[lost(alias, "al", 0, 1), lost(segment, "sg", 0, 2)]);
    let found = rules(&m, "undelivered_identify");
    assert_eq!(found.len(), 2);
    assert!(found[0].message.starts_with("$create_alias('user-1') never reached PostHog"), "{}", found[0].message);
    assert_eq!(found[0].distinct_ids, ["user-1-old", "user-1"]);
    assert!(found[1].message.starts_with("identify('user-9') never reached Segment"), "{}", found[1].message);
    assert!(found[1].message.contains("the profile would not be merged"), "{}", found[1].message);
    assert_eq!(m.findings(Some("seg")).len(), 1, "findings filter by project");
}
