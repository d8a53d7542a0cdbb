//! Recorded Segment and RudderStack traffic decoded end to end. Expected values were read from
//! the recordings with python3 (tests/fixtures/sdk-traffic).

use crate::common::*;
use capture_decode::Event;
use capture_decode::Source;
use serde_json::json;

fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}
fn ids(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.distinct_id.as_str()).collect()
}
fn devices(events: &[Event]) -> Vec<Option<&str>> {
    events.iter().map(|e| e.device_id.as_deref()).collect()
}

#[test]
fn analytics_next_settings_point_the_sdk_back_here() {
    let reqs = load_fixture("segment-analytics-next-browser.jsonl");
    assert_eq!(reqs[0].path, "/v1/projects/segment_token/settings");
    let reply = reqs[0].wire_answer();
    let body = body_json(&reply);
    assert_eq!(body["integrations"]["Segment.io"]["apiKey"], "segment_token");
    assert_eq!(body["integrations"]["Segment.io"]["apiHost"], "127.0.0.1:18120/v1");
    assert_eq!(body["integrations"]["Segment.io"]["protocol"], "http");
    assert_eq!(body["metrics"]["sampleRate"], 0);
    assert_eq!(body["remotePlugins"], json!([]));
}

#[test]
fn analytics_next_messages_one_per_request() {
    let reqs = load_fixture("segment-analytics-next-browser.jsonl");
    let events: Vec<Event> = reqs[1..]
        .iter()
        .flat_map(|r| {
            let (capture, reply) = r.wire_capture();
            assert_eq!(capture.source, Source::Segment);
            assert_eq!((reply.status, body_json(&reply)), (200, json!({"success": true})));
            capture.events
        })
        .collect();
    assert_eq!(names(&events), ["page", "identify", "Account Created", "after reset", "alias"]);
    let first_anon = "8e741521-6325-40f4-a62c-829e1fa40b5e";
    let second_anon = "f4662c82-9e1f-440b-9eba-8be868f188ad";
    assert_eq!(ids(&events), [first_anon, "12345", "12345", second_anon, "12346"]);
    // Browsers have no context.device.id: the anonymous id is the device.
    assert_eq!(
        devices(&events),
        [Some(first_anon), Some(first_anon), Some(first_anon), Some(second_anon), Some(second_anon)]
    );
    assert!(events.iter().all(|e| e.project == "k"), "write key from Basic auth `azo=` (k:)");
    assert_eq!(events[0].uuid, "ajs-next-1795491124306-008e7415-2163-4570-b466-2c829e1fa40b");
    // page: timestamp 04.306, sentAt 04.338; received at 12:00:00 => 32 ms before arrival.
    assert_eq!(events[0].timestamp, at("2026-11-24T11:59:59.968Z"));
    assert_eq!(events[0].original_timestamp.as_deref(), Some("2026-11-24T03:32:04.306Z"));
    assert_eq!(events[0].sent_at.as_deref(), Some("2026-11-24T03:32:04.338Z"));
    // properties = the whole message.
    let alias = &events[4].properties;
    assert_eq!(alias["type"], "alias");
    assert_eq!(alias["previousId"], second_anon);
    assert_eq!(alias["context"]["library"]["name"], "analytics.js");
    assert_eq!(events[1].properties["traits"]["email"], "jake.peterson@example.com");
}

#[test]
fn analytics_node_batch() {
    let (capture, _) = load_fixture("segment-analytics-node.jsonl")[0].wire_capture();
    assert_eq!(capture.source, Source::Segment);
    let e = &capture.events;
    assert_eq!(names(e), ["identify", "Account Created", "alias", "group", "screen"]);
    assert_eq!(ids(e), ["user-s1", "user-s1", "user-s1", "user-s1", "anon-s2"]);
    assert_eq!(devices(e), [Some("anon-s1"), None, None, None, Some("anon-s2")]);
    assert!(e.iter().all(|e| e.project == "segment_node_token"));
    assert_eq!(e[0].uuid, "node-next-1795491154910-38e8f5af-314e-495b-aeb6-877199d37101");
    assert_eq!(e[0].sent_at.as_deref(), Some("2026-11-24T03:32:34.914Z"), "batch sentAt");
    assert_eq!(e[0].timestamp, at("2026-11-24T11:59:59.996Z"));
    assert_eq!(e[3].properties["groupId"], "acme");
    assert_eq!(e[4].properties["name"], "Home");
}

#[test]
fn analytics_python_batch() {
    let (capture, reply) = load_fixture("segment-analytics-python.jsonl")[0].wire_capture();
    assert_eq!(capture.source, Source::Segment);
    assert_eq!(reply.status, 200);
    let e = &capture.events;
    assert_eq!(names(e), ["identify", "Account Created", "alias"]);
    assert_eq!(ids(e), ["user-py1", "user-py1", "user-py1"]);
    assert_eq!(devices(e), [Some("anon-py1"), None, None]);
    assert!(e.iter().all(|e| e.project == "segment_python_token"));
    assert_eq!(e[2].uuid, "bd6da2d7-92cb-46f8-b3b3-e7bc9b44c78f");
    // 35.568 vs sentAt 36.068690: 500.690 ms before arrival.
    assert_eq!(e[0].timestamp, at("2026-11-24T11:59:59.499310Z"));
}

#[test]
fn rudder_python_is_told_apart_and_answered_ok() {
    let (capture, reply) = load_fixture("rudder-sdk-python.jsonl")[0].wire_capture();
    assert_eq!(capture.source, Source::Rudderstack);
    assert_eq!((reply.status, body_text(&reply).as_str()), (200, "OK"));
    assert_eq!(capture.steps, ["gzip"]);
    let e = &capture.events;
    assert_eq!(names(e), ["identify", "Account Created"]);
    assert_eq!(ids(e), ["user-r1", "user-r1"]);
    assert_eq!(e[0].properties["context"]["traits"]["email"], "r@example.com");
    assert!(e.iter().all(|e| e.project == "rudder_python_token" && e.source == Source::Rudderstack));
    assert_eq!(e[1].uuid, "eda27ff8-778a-4d48-b787-ff572d0ee81e");
}
