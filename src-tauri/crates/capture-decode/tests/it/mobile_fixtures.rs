//! Mobile SDK requests reconstructed from each SDK's source (tests/fixtures/sdk-traffic-mobile;
//! its README names the file and function behind every field), decoded as the server stores
//! them. Each test names the SDK source it checks.

use crate::common::*;
use capture_decode::posthog::Route;
use capture_decode::Event;
use serde_json::{json, Value};

fn mobile(file: &str) -> Vec<Req> {
    load_fixture(&format!("../sdk-traffic-mobile/{file}"))
}

fn all_events(file: &str) -> Vec<Event> {
    mobile(file)
        .iter()
        .flat_map(|req| {
            let (capture, reply) = req.capture();
            assert_eq!((reply.status, body_json(&reply)), (200, json!({"status": 1})), "{file} {}", req.path);
            assert!(capture.dropped.is_empty(), "{file}");
            for ev in &capture.events {
                assert!(ev.warnings.is_empty(), "{file}: {:?}", ev.warnings);
            }
            capture.events
        })
        .collect()
}

/// (event, distinct id) in order.
fn moves(events: &[Event]) -> Vec<(&str, &str)> {
    events.iter().map(|e| (e.event.as_str(), e.distinct_id.as_str())).collect()
}

fn identifies(events: &[Event]) -> Vec<&Event> {
    events.iter().filter(|e| e.event == "$identify").collect()
}

#[test]
fn every_mobile_request_is_a_batch_on_its_sdks_route() {
    // posthog-ios PostHogApi.swift batch(events:) and posthog-android PostHogApi.kt batch():
    // "/batch" without slash, gzip; @posthog/core posthog-core-stateless.ts getBatchEndpointPath:
    // "/batch/", plain JSON on React Native (gzip.ts isGzipSupported).
    for (file, path, gzip, lib) in [
        ("posthog-ios.jsonl", "/batch", true, "posthog-ios"),
        ("posthog-android.jsonl", "/batch", true, "posthog-android"),
        ("posthog-flutter-android.jsonl", "/batch", true, "posthog-flutter"),
        ("posthog-react-native.jsonl", "/batch/", false, "posthog-react-native"),
    ] {
        let reqs = mobile(file);
        assert_eq!(reqs.len(), 8, "{file}");
        for req in &reqs {
            assert_eq!((req.method.as_str(), req.path.as_str(), req.route()), ("POST", path, Route::Batch), "{file}");
            let encoded = req.headers.iter().any(|(k, v)| k == "Content-Encoding" && v == "gzip");
            assert_eq!(encoded, gzip, "{file}");
            assert_eq!(req.body.starts_with(&[0x1f, 0x8b]), gzip, "{file}");
        }
        let events = all_events(file);
        for ev in &events {
            assert_eq!(ev.properties["$lib"], lib, "{file}");
            // No mobile SDK puts $device_id on events (only on /flags requests).
            assert!(ev.device_id.is_none() && !ev.properties.contains_key("$device_id"), "{file}");
            assert!(ev.session_id.is_some(), "{file}: every event carries $session_id");
        }
    }
}

#[test]
fn ios_identify_carries_distinct_id_and_ignores_a_second_user() {
    // posthog-ios PostHogSDK.swift identify(_:userProperties:userPropertiesSetOnce:):
    // `$identify` only when the id differs and the SDK is not identified; properties hold
    // `distinct_id`, `$anon_distinct_id` and `$set`.
    let events = all_events("posthog-ios.jsonl");
    let (a, b, c) = (
        "01a30001-0000-7000-8000-000000000001",
        "01a30001-0000-7000-8000-000000000008",
        "01a30001-0000-7000-8000-000000000013",
    );
    assert_eq!(
        moves(&events),
        [
            ("Application Opened", a),
            ("$screen", a),
            ("$identify", "mobile-user-1"),
            ("Account Created", "mobile-user-1"),
            // identify('mobile-user-2') while identified: nothing sent, the event keeps user 1.
            ("Viewed Profile", "mobile-user-1"),
            ("$create_alias", "mobile-user-1"),
            ("Application Opened", b),
            ("$screen", b),
            ("$identify", "mobile-user-3"),
            ("Logged In", "mobile-user-3"),
            // reset(), then the same user again: a third anonymous id.
            ("Application Opened", c),
            ("$identify", "mobile-user-3"),
            ("Logged In", "mobile-user-3"),
        ]
    );
    let ids = identifies(&events);
    assert_eq!(ids[0].properties["distinct_id"], "mobile-user-1");
    assert_eq!(ids[0].properties["$anon_distinct_id"], a);
    assert_eq!(ids[0].properties["$set"], json!({"email": "max@hedgehogmail.com", "name": "Max"}));
    assert_eq!(ids[0].properties["$is_identified"], true);
    assert_eq!(ids[1].properties["$anon_distinct_id"], b, "reset() made a new anonymous id");
    assert_eq!(ids[2].properties["$anon_distinct_id"], c, "and again");
    assert_eq!(events[0].properties["$process_person_profile"], false, "identified_only before identify");
    assert_eq!(events[6].properties["$process_person_profile"], false, "and again after reset()");
    // alias(_:): `alias` only, no distinct_id inside properties.
    assert_eq!(events[5].properties["alias"], "mobile-alias-1");
    assert!(!events[5].properties.contains_key("distinct_id"));
}

#[test]
fn android_identify_has_no_distinct_id_inside_properties() {
    // posthog-android PostHog.kt identify(): props = {$anon_distinct_id} (+ $set), captured with
    // the new distinct id; the same "not while identified" rule as iOS.
    for (file, prefix) in [("posthog-android.jsonl", "01a30002"), ("posthog-flutter-android.jsonl", "01a30004")] {
        let events = all_events(file);
        let a = format!("{prefix}-0000-7000-8000-000000000001");
        let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            names,
            [
                "Application Opened",
                "$screen",
                "$identify",
                "Account Created",
                "Viewed Profile",
                "$create_alias",
                "Application Opened",
                "$screen",
                "$identify",
                "Logged In",
                "Application Opened",
                "$identify",
                "Logged In"
            ],
            "{file}"
        );
        let ids = identifies(&events);
        assert_eq!(ids.len(), 3, "{file}: identify('mobile-user-2') while identified sent nothing");
        for id in &ids {
            assert!(!id.properties.contains_key("distinct_id"), "{file}");
        }
        assert_eq!(ids[0].properties["$anon_distinct_id"], Value::String(a), "{file}");
        assert_eq!(events[4].distinct_id, "mobile-user-1", "{file}");
        assert_eq!(events[0].properties["$raw_user_agent"], events[0].properties["$user_agent"], "{file}");
    }
}

#[test]
fn react_native_sends_identify_on_every_id_change() {
    // @posthog/core posthog-core.ts identify(): `$identify` whenever the id changes, with
    // `$anon_distinct_id = getAnonymousId()` read before the previous distinct id is stored as
    // the anonymous id; no $is_identified (identifyStateless). aliasStateless puts distinct_id
    // inside properties.
    let events = all_events("posthog-react-native.jsonl");
    let (a, b, c) = (
        "01a30003-0000-7000-8000-000000000001",
        "01a30003-0000-7000-8000-000000000009",
        "01a30003-0000-7000-8000-000000000014",
    );
    let ids = identifies(&events);
    let seen: Vec<(&str, &Value)> =
        ids.iter().map(|e| (e.distinct_id.as_str(), &e.properties["$anon_distinct_id"])).collect();
    assert_eq!(
        seen,
        [
            ("mobile-user-1", &json!(a)),
            ("mobile-user-2", &json!(a)),
            ("mobile-user-3", &json!(b)),
            ("mobile-user-3", &json!(c))
        ]
    );
    for id in &ids {
        assert!(!id.properties.contains_key("$is_identified") && !id.properties.contains_key("distinct_id"));
    }
    let alias = events.iter().find(|e| e.event == "$create_alias").unwrap();
    assert_eq!(
        (alias.distinct_id.as_str(), &alias.properties["distinct_id"]),
        ("mobile-user-2", &json!("mobile-user-2"))
    );
}
