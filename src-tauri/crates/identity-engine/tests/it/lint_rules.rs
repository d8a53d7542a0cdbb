//! One test per lint rule: it fires (with its ids, events and severity) and it stays
//! quiet on the correct variant.

use crate::support::browser;

use crate::support::*;
use browser::*;
use identity_engine::Model;
use serde_json::json;

fn only(m: &Model, rule: &str) -> identity_engine::Finding {
    let mut found = rules(m, rule);
    assert_eq!(found.len(), 1, "{rule}: {:#?}", m.findings(None));
    found.remove(0)
}

#[test]
fn illegal_merge_id() {
    let m = model(vec![e("$identify", "user-1", json!({"$anon_distinct_id": "undefined"}))]);
    let f = only(&m, "cannot_merge_with_illegal_distinct_id");
    assert_eq!(
        (f.severity.as_str(), f.distinct_ids.clone(), f.event_uuids.clone()),
        ("error", vec!["undefined".into(), "user-1".into()], vec!["ev-1".into()])
    );
    assert!(f.message.contains("refuses"), "{}", f.message);
    let m = model(vec![e("$identify", "user-1", json!({"$anon_distinct_id": "anon-1"}))]);
    assert!(rules(&m, "cannot_merge_with_illegal_distinct_id").is_empty());
}

#[test]
fn already_identified_merge() {
    let base = || {
        vec![
            e("$identify", "user-1", json!({"$anon_distinct_id": "a1"})),
            e("$identify", "user-2", json!({"$anon_distinct_id": "a2"})),
        ]
    };
    let mut evs = base();
    evs.push(e("$create_alias", "user-2", json!({"alias": "user-1"})));
    let m = model(evs);
    let f = only(&m, "cannot_merge_already_identified");
    assert_eq!((f.severity.as_str(), f.seq), ("warning", 3));
    assert_eq!(f.distinct_ids, ["user-1", "user-2"]);
    assert!(f.fix.contains("$merge_dangerously"));
    let mut evs = base();
    evs.push(e("$create_alias", "user-2", json!({"alias": "fresh"})));
    assert!(rules(&model(evs), "cannot_merge_already_identified").is_empty());
}

#[test]
fn personless_merge_event_and_invalid_flag() {
    let m = model(vec![
        e("$identify", "user-1", json!({"$anon_distinct_id": "a1", "$process_person_profile": false})),
        e("$pageview", "user-1", json!({"$process_person_profile": "yes"})),
    ]);
    assert_eq!(only(&m, "invalid_event_when_process_person_profile_is_false").severity.as_str(), "error");
    let lane = m.device(&format!("{P}/id:a1")).unwrap();
    assert!(lane.transitions[0].explanation().contains("dropped it and linked nothing"), "{:?}", lane.transitions);
    assert_eq!(only(&m, "invalid_process_person_profile").severity.as_str(), "warning");
    let m = model(vec![e("$identify", "user-1", json!({"$anon_distinct_id": "a1", "$process_person_profile": true}))]);
    assert!(rules(&m, "invalid_event_when_process_person_profile_is_false").is_empty());
    assert!(rules(&m, "invalid_process_person_profile").is_empty());
}

#[test]
fn server_identify_without_anon_id() {
    let m = model(vec![e("$identify", "user-1", json!({"$set": {"plan": "pro"}}))]);
    let f = only(&m, "server_identify_without_anon_id");
    assert_eq!((f.severity.as_str(), f.distinct_ids.clone()), ("info", vec!["user-1".to_owned()]));
    let m = model(vec![e("$identify", "user-1", json!({"$anon_distinct_id": "a1"}))]);
    assert!(rules(&m, "server_identify_without_anon_id").is_empty());
}

#[test]
fn generic_ids_are_errors_or_warnings_and_deduplicated() {
    let m = model(vec![
        e("$pageview", "null", json!({})),
        e("$pageview", "null", json!({})),
        e("$pageview", "null", json!({})),
        e("$pageview", "user", json!({})),
        e("$pageview", "00000000-0000-0000-0000-000000000000", json!({})),
        e("$pageview", "user-7", json!({})),
        e("$pageview", "NULL", json!({})),
    ]);
    let found = rules(&m, "generic_distinct_id");
    let got: Vec<_> =
        found.iter().map(|f| (f.distinct_ids[0].as_str(), f.severity.as_str(), f.event_uuids.len())).collect();
    assert_eq!(
        got,
        [
            ("null", "error", 3),
            ("user", "warning", 1),
            ("00000000-0000-0000-0000-000000000000", "warning", 1),
            ("NULL", "warning", 1)
        ]
    );
    assert!(
        found[0].message.contains("3 events") && found[0].message.contains("one person called 'null'"),
        "{}",
        found[0].message
    );
    assert_eq!(found[0].seq, 1);
}

#[test]
fn generic_id_identified_on_many_unrelated_devices() {
    // Unrelated devices: each its own user agent.
    let on = |dev: &str| {
        let ua = json!(format!("Agent/{}", &dev[dev.len() - 1..]));
        vec![
            with(js("$pageview", dev, dev, false, json!({})), "$raw_user_agent", ua.clone()),
            with(js_identify("shared", dev, dev), "$raw_user_agent", ua),
        ]
    };
    let two: Vec<_> = [ANON1, ANON2].iter().flat_map(|d| on(d)).map(|e| at(e, 0)).collect();
    assert!(rules(&model(two.clone()), "generic_distinct_id").is_empty(), "two devices is normal");
    let mut three = two;
    three.extend(on(ANON3).into_iter().map(|e| at(e, 0)));
    let m = model(three);
    let f = only(&m, "generic_distinct_id");
    assert_eq!(f.device_ids, [ANON1, ANON2, ANON3]);
    assert_eq!((f.severity.as_str(), f.distinct_ids.clone()), ("warning", vec!["shared".to_owned()]));
    assert!(f.message.contains("3 unrelated devices"), "{}", f.message);

    // A reset(true) continuation is the same device: ANON2 continues ANON1 here.
    let mut linked: Vec<_> = on(ANON1);
    linked.push(with(js("$pageview", ANON2, ANON2, false, json!({})), "$last_posthog_reset", json!("r")));
    linked.push(js_identify("shared", ANON2, ANON2));
    for ev in linked.iter_mut() {
        ev.properties.insert("$raw_user_agent".into(), json!("Agent/1"));
    }
    linked.extend(on(ANON3));
    let m = model(linked);
    assert!(lane(&m, ANON2).linked_from.is_some());
    assert!(rules(&m, "generic_distinct_id").is_empty(), "{:#?}", m.findings(None));
}

#[test]
fn identified_before_identify() {
    let m = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js("viewed signup", ANON1, ANON1, false, json!({})),
        js("User_Signed-Up", ANON1, ANON1, false, json!({})),
        js("Logged In", ANON1, ANON1, false, json!({})),
        js_identify("user-1", ANON1, ANON1),
    ]);
    let f = only(&m, "identified_before_identify");
    assert_eq!(f.event_uuids, ["ev-3", "ev-4"], "one finding per device, 'viewed signup' is not a signup");
    assert_eq!((f.device_ids.clone(), f.distinct_ids.clone()), (vec![ANON1.to_owned()], vec![ANON1.to_owned()]));
    assert!(f.fix.contains("identify"));
    let m = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js_identify("user-1", ANON1, ANON1),
        js("Account Created", "user-1", ANON1, true, json!({})),
    ]);
    assert!(rules(&m, "identified_before_identify").is_empty());
}

#[test]
fn repeated_identify_in_one_session() {
    let again = || js("$identify", "user-1", ANON1, true, json!({"$set": {"email": "max@example.com"}}));
    let m = model(vec![js_identify("user-1", ANON1, ANON1), again(), again()]);
    let f = only(&m, "repeated_identify");
    assert_eq!(
        (f.severity.as_str(), f.event_uuids.clone()),
        ("info", vec!["ev-1".into(), "ev-2".into(), "ev-3".into()])
    );
    assert!(f.message.contains("3 times in session 's1'"), "{}", f.message);
    // Different data, or another session: fine.
    let other_data = js("$identify", "user-1", ANON1, true, json!({"$set": {"email": "new@example.com"}}));
    let other_session = with(again(), "$session_id", json!("s2"));
    let m = model(vec![js_identify("user-1", ANON1, ANON1), other_data, other_session]);
    assert!(rules(&m, "repeated_identify").is_empty());
}

#[test]
fn alias_after_identify() {
    let m = model(vec![
        js_identify("user-1", ANON1, ANON1),
        js("$create_alias", "user-1", ANON1, true, json!({"alias": "legacy-1"})),
    ]);
    let f = only(&m, "alias_after_identify");
    // A hint: 'legacy-1' is a second id of the same user, which is what PostHog's alias is for
    // (posthog.com/docs/product-analytics/identify#alias-assigning-multiple-distinct-ids-to-the-same-user);
    // it becomes an error only when the alias value turns out to be another user
    // (`distinct_users_merged`, see users_merged.rs).
    assert_eq!((f.severity.as_str(), f.distinct_ids.clone()), ("info", vec!["user-1".into(), "legacy-1".into()]));
    assert!(rules(&m, "distinct_users_merged").is_empty());
    assert_eq!(f.event_uuids, ["ev-2"]);
    // Legacy order: alias at signup, then identify.
    let m = model(vec![
        js("$create_alias", ANON1, ANON1, true, json!({"alias": "user-1"})),
        js_identify("user-1", ANON1, ANON1),
    ]);
    assert!(rules(&m, "alias_after_identify").is_empty());
}

#[test]
fn email_as_distinct_id() {
    let m = model(vec![
        js_identify("max@hedgehogmail.com", ANON1, ANON1),
        e("x", "@handle", json!({})),
        e("x", "a@b", json!({})),
    ]);
    let f = only(&m, "email_as_distinct_id");
    assert_eq!((f.severity.as_str(), f.distinct_ids.clone()), ("warning", vec!["max@hedgehogmail.com".to_owned()]));
    assert!(f.fix.contains("database user id"));
}

#[test]
fn identified_share_per_project() {
    let mut other = e("$pageview", "u", json!({}));
    other.project = "phc_other".into();
    let m = model(vec![
        js("$pageview", ANON1, ANON1, false, json!({})),
        js_identify("user-1", ANON1, ANON1),
        js("$pageview", "user-1", ANON1, true, json!({})),
        js("$pageview", "user-1", ANON1, true, json!({})),
        other,
    ]);
    let found = rules(&m, "identified_share");
    assert_eq!(found.len(), 2);
    assert_eq!((found[0].project.as_str(), found[0].severity.as_str(), found[0].seq), (P, "info", 1));
    assert!(found[0].message.starts_with("3 of 4 events (75%) are identified"), "{}", found[0].message);
    assert!(found[0].message.contains("up to 4x"));
    assert!(found[1].message.starts_with("1 of 1 events (100%)"), "{}", found[1].message);
    assert_eq!(m.findings(Some("phc_other")).len(), 1);
}
