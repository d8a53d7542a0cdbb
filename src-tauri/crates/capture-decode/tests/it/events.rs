//! One event's fields: distinct ids, `$set` placement and time.

use crate::common::*;
use capture_decode::Event;
use chrono::Duration;
use serde_json::{json, Value};

/// Decodes one event sent in a batch with token `phc_t` on `/e/`.
fn one(event: Value) -> Event {
    let mut events = Req::json("/e/", &json!({"api_key": "phc_t", "batch": [event]})).events();
    assert_eq!(events.len(), 1);
    events.remove(0)
}

fn with_id(id: Value) -> Event {
    one(json!({"event": "e", "distinct_id": id}))
}

#[test]
fn very_long_distinct_id_is_cut_to_200_chars_with_a_warning() {
    let long = "é".repeat(1 << 19); // 1 MB of UTF-8, 524 288 characters
    let ev = with_id(json!(long));
    assert_eq!(ev.distinct_id.chars().count(), 200);
    assert_eq!(ev.distinct_id, "é".repeat(200));
    assert_eq!(ev.warnings.len(), 1, "{:?}", ev.warnings);
    assert!(ev.warnings[0].contains("524288 characters") && ev.warnings[0].contains("200"), "{:?}", ev.warnings);
    // Exactly 200 is left alone.
    let ev = with_id(json!("x".repeat(200)));
    assert_eq!(ev.distinct_id.len(), 200);
    assert!(ev.warnings.is_empty());
}

#[test]
fn numeric_and_object_distinct_ids_become_json_text() {
    let cases = [
        (json!(12345), "12345"),
        (json!(1.5), "1.5"),
        (json!(true), "true"),
        (json!({"a": 1}), r#"{"a":1}"#),
        (json!([1, "x"]), r#"[1,"x"]"#),
    ];
    for (id, text) in cases {
        let ev = with_id(id.clone());
        assert_eq!(ev.distinct_id, text, "{id}");
        assert!(ev.warnings.iter().any(|w| w.contains("JSON text")), "{id}: {:?}", ev.warnings);
    }
}

#[test]
fn nul_in_distinct_id_becomes_replacement_character() {
    let ev = with_id(json!("a\u{0}b\u{0}"));
    assert_eq!(ev.distinct_id, "a\u{FFFD}b\u{FFFD}");
    assert!(ev.warnings.iter().any(|w| w.contains("NUL")), "{:?}", ev.warnings);
}

#[test]
fn surrounding_spaces_are_kept_and_string_null_is_an_id() {
    assert_eq!(with_id(json!("  spaced  ")).distinct_id, "  spaced  ");
    assert_eq!(with_id(json!("null")).distinct_id, "null");
}

#[test]
fn distinct_id_sources_in_order() {
    // Top-level `distinct_id` beats `$distinct_id`, which beats `properties.distinct_id`.
    let ev = one(
        json!({"event": "e", "distinct_id": "top", "$distinct_id": "dollar", "properties": {"distinct_id": "prop"}}),
    );
    assert_eq!(ev.distinct_id, "top");
    let ev = one(json!({"event": "e", "$distinct_id": "dollar", "properties": {"distinct_id": "prop"}}));
    assert_eq!(ev.distinct_id, "dollar");
    let ev = one(json!({"event": "e", "distinct_id": null, "properties": {"distinct_id": "prop"}}));
    assert_eq!(ev.distinct_id, "prop");
}

#[test]
fn top_level_set_is_merged_into_properties_and_wins() {
    let ev = one(json!({
        "event": "$identify", "distinct_id": "u",
        "$set": {"email": "top@x", "name": "Top"},
        "$set_once": {"first": "top"},
        "properties": {"$set": {"email": "prop@x", "plan": "pro"}, "$unset": ["old"]}
    }));
    assert_eq!(ev.properties["$set"], json!({"email": "top@x", "name": "Top", "plan": "pro"}));
    assert_eq!(ev.properties["$set_once"], json!({"first": "top"}));
    assert_eq!(ev.properties["$unset"], json!(["old"]));
}

#[test]
fn device_and_session_ids_come_from_properties() {
    let ev =
        one(json!({"event": "e", "distinct_id": "u", "properties": {"$device_id": "dev-1", "$session_id": "ses-1"}}));
    assert_eq!((ev.device_id.as_deref(), ev.session_id.as_deref()), (Some("dev-1"), Some("ses-1")));
    let ev = one(json!({"event": "e", "distinct_id": "u", "properties": {"$device_id": ""}}));
    assert_eq!(ev.device_id, None);
}

// ---- time ----

#[test]
fn sent_at_removes_client_clock_skew() {
    // Client clock 10 minutes fast: it sent at 12:10, the server got it at 12:00.
    let body = json!({"api_key": "phc_t", "sent_at": "2026-11-24T12:10:00Z",
        "batch": [{"event": "e", "distinct_id": "u", "timestamp": "2026-11-24T12:09:00Z"}]});
    let ev = Req::json("/e/", &body).received("2026-11-24T12:00:00Z").events().remove(0);
    assert_eq!(ev.timestamp, at("2026-11-24T11:59:00Z"));
    assert_eq!(ev.original_timestamp.as_deref(), Some("2026-11-24T12:09:00Z"));
    assert_eq!(ev.sent_at.as_deref(), Some("2026-11-24T12:10:00Z"));
}

#[test]
fn offset_overrides_timestamp_and_sent_at() {
    let body = json!({"api_key": "phc_t", "sent_at": "2026-11-24T12:10:00Z",
        "batch": [{"event": "e", "distinct_id": "u", "timestamp": "2020-01-01T00:00:00Z", "offset": 1500}]});
    let ev = Req::json("/e/", &body).received("2026-11-24T12:00:00Z").events().remove(0);
    assert_eq!(ev.timestamp, at("2026-11-24T11:59:58.500Z"));
    assert_eq!(ev.offset_ms, Some(1500));
    // Offset alone, as old posthog-js sends it.
    let ev = one(json!({"event": "e", "distinct_id": "u", "offset": 60_000}));
    assert_eq!(ev.timestamp, at(RECEIVED) - Duration::seconds(60));
}

#[test]
fn underscore_query_parameter_is_the_send_time_in_ms() {
    let received = at("2026-11-24T12:00:00Z");
    let client_sent = received + Duration::hours(1); // client clock one hour fast
    let body = json!([{"event": "e", "distinct_id": "u", "token": "phc_t", "timestamp": "2026-11-24T12:59:55Z"}]);
    let url = format!("/e/?ver=1.0&_={}", client_sent.timestamp_millis());
    let ev = Req::json(&url, &body).received("2026-11-24T12:00:00Z").events().remove(0);
    assert_eq!(ev.timestamp, at("2026-11-24T11:59:55Z"));
    assert_eq!(ev.sent_at.as_deref().map(at), Some(client_sent));
    // A batch `sent_at` beats `_`.
    let body = json!({"api_key": "phc_t", "sent_at": "2026-11-24T12:00:05Z",
        "batch": [{"event": "e", "distinct_id": "u", "timestamp": "2026-11-24T12:00:00Z"}]});
    let ev = Req::json(&url, &body).received("2026-11-24T12:00:00Z").events().remove(0);
    assert_eq!(ev.timestamp, at("2026-11-24T11:59:55Z"));
}

#[test]
fn ignore_sent_at_keeps_the_client_timestamp() {
    let body = json!({"api_key": "phc_t", "sent_at": "2026-11-24T12:10:00Z", "batch": [
        {"event": "e", "distinct_id": "u", "timestamp": "2026-11-24T12:09:00Z", "properties": {"$ignore_sent_at": true}},
        {"event": "f", "distinct_id": "u", "timestamp": "2026-11-24T12:09:00Z", "properties": {"$ignore_sent_at": false}}
    ]});
    let evs = Req::json("/batch", &body).received("2026-11-24T12:00:00Z").events();
    assert_eq!(evs[0].timestamp, at("2026-11-24T12:09:00Z"));
    assert_eq!(evs[1].timestamp, at("2026-11-24T11:59:00Z"));
}

#[test]
fn missing_bad_or_future_timestamps_fall_back_to_arrival() {
    let ev = one(json!({"event": "e", "distinct_id": "u"}));
    assert_eq!(ev.timestamp, at(RECEIVED));
    assert!(ev.warnings.is_empty() && ev.original_timestamp.is_none());

    let ev = one(json!({"event": "e", "distinct_id": "u", "timestamp": "yesterday"}));
    assert_eq!(ev.timestamp, at(RECEIVED));
    assert!(ev.warnings.iter().any(|w| w.contains("not an ISO 8601")), "{:?}", ev.warnings);
    assert_eq!(ev.original_timestamp.as_deref(), Some("yesterday"));

    let ev = one(json!({"event": "e", "distinct_id": "u", "timestamp": "2026-11-25T12:00:01Z"}));
    assert_eq!(ev.timestamp, at(RECEIVED), "24 h ahead is too far");
    assert!(ev.warnings.iter().any(|w| w.contains("23 hours")), "{:?}", ev.warnings);

    let ev = one(json!({"event": "e", "distinct_id": "u", "timestamp": "2026-11-25T10:00:00Z"}));
    assert_eq!(ev.timestamp, at("2026-11-25T10:00:00Z"), "22 h ahead is kept");
}

#[test]
fn timestamp_formats_sdks_send() {
    for (text, want) in [
        ("2026-11-24T03:32:35.562833+00:00", "2026-11-24T03:32:35.562833Z"),
        ("2026-11-24T05:32:35+02:00", "2026-11-24T03:32:35Z"),
        ("2026-11-24T03:32:35.5", "2026-11-24T03:32:35.500Z"),
        ("2026-11-24 03:32:35", "2026-11-24T03:32:35Z"),
    ] {
        let ev = one(json!({"event": "e", "distinct_id": "u", "timestamp": text}));
        assert_eq!(ev.timestamp, at(want), "{text}");
        assert_eq!(ev.original_timestamp.as_deref(), Some(text));
    }
}

// ---- tokens ----

#[test]
fn every_event_gets_the_request_token() {
    let body = json!([
        {"event": "a", "distinct_id": "u"},
        {"event": "b", "distinct_id": "u", "api_key": "phc_same"},
        {"event": "c", "distinct_id": "u", "properties": {"token": "phc_same"}}
    ]);
    let (capture, _) = Req::json("/e/", &body).capture();
    assert_eq!(token(&capture), "phc_same");
    assert!(capture.events.iter().all(|e| Some(e.project.as_str()) == Some("phc_same")));
    // Surrounding whitespace around a key is not part of it.
    let body = json!({"api_key": "  phc_spaced \n", "batch": [{"event": "a", "distinct_id": "u"}]});
    assert_eq!(token(&Req::json("/batch", &body).capture().0), "phc_spaced");
}

/// PostHog's capture only refuses a missing or zero-length distinct id
/// (`extract_distinct_id`, `rust/common/types/src/event.rs`); a whitespace-only id is kept as
/// sent, spaces and all, and left to the person rules (which refuse merges with it).
#[test]
fn whitespace_only_distinct_id_is_accepted() {
    for blank in ["   ", "\t\n", " "] {
        assert_eq!(with_id(json!(blank)).distinct_id, blank);
    }
}
