//! Segment/RudderStack requests the vendor refuses, or partly refuses, and how they are answered.

use crate::common::*;
use capture_decode::Source;
use serde_json::{json, Value};

const AUTH: &str = "Basic d2tfMTo="; // wk_1:

fn track(body: Value) -> Req {
    Req::json("/v1/track", &body).header("Authorization", AUTH)
}

#[test]
fn write_key_from_auth_then_body_then_query() {
    let msg = json!({"event": "e", "userId": "u", "writeKey": "from_body"});
    let (c, _) = track(msg.clone()).wire_capture();
    assert_eq!(c.events[0].project, "wk_1");
    let (c, _) = Req::json("/v1/track?writeKey=from_query", &msg).wire_capture();
    assert_eq!(c.events[0].project, "from_body");
    let (c, _) = Req::json("/v1/track?writeKey=from_query", &json!({"event": "e", "userId": "u"})).wire_capture();
    assert_eq!(c.events[0].project, "from_query");
    let refusal = Req::json("/v1/track", &json!({"event": "e", "userId": "u"})).wire_refusal();
    assert_rejected(&refusal.rejection, 401, "no_write_key", &["Basic auth", "writeKey"]);
    assert_eq!(body_json(&refusal.reply)["code"], "invalid_request");
    assert!(body_json(&refusal.reply)["message"].as_str().unwrap().contains("no write key"));
}

#[test]
fn a_batch_drops_bad_messages_and_keeps_the_rest() {
    let body = json!({"writeKey": "wk", "batch": [
        {"type": "track", "event": "ok", "userId": "u"},
        {"type": "track", "event": "no ids"},
        {"type": "teleport", "userId": "u"},
        {"type": "identify", "anonymousId": {"nested": true}}
    ]});
    let (c, reply) = Req::json("/v1/batch", &body).wire_capture();
    assert_eq!(reply.status, 200);
    assert_eq!(c.events.len(), 1);
    assert_eq!(c.dropped.len(), 3);
    assert!(c.dropped[0].contains("message 2 of 4") && c.dropped[0].contains("no_user_anon_id"), "{:?}", c.dropped);
    assert!(c.dropped[1].contains("teleport"));
    assert!(c.dropped[2].contains("`anonymousId` must be a string or a number, found an object"));
}

#[test]
fn a_batch_of_only_bad_messages_is_refused() {
    let body = json!({"writeKey": "wk", "batch": [{"type": "track", "event": "x"}, {"type": "page"}]});
    let r = Req::json("/v1/batch", &body).wire_refusal();
    assert_rejected(&r.rejection, 400, "no_user_anon_id", &["every message was refused", "message 1 of 2"]);
}

#[test]
fn single_message_problems() {
    let cases = [
        (json!({"event": "e"}), "no_user_anon_id", "neither `userId` nor `anonymousId`"),
        (json!({"userId": "u"}), "missing_event_name", "no `event` name"),
        (
            json!({"userId": ["u"], "event": "e"}),
            "invalid_message",
            "`userId` must be a string or a number, found an array",
        ),
        (json!({"userId": "u\u{0}", "event": "e"}), "invalid_message", "NUL"),
        (
            json!({"userId": "u", "event": "e", "timestamp": 12}),
            "invalid_message",
            "`timestamp` must be an ISO 8601 string",
        ),
        (json!({"userId": "u", "event": "e", "context": "x"}), "invalid_message", "`context` must be an object"),
        (json!({"userId": "u", "event": "e", "properties": {"big": "x".repeat(40_000)}}), "message_too_large", "32 KB"),
    ];
    for (body, code, fragment) in cases {
        let r = track(body.clone()).wire_refusal();
        assert_rejected(&r.rejection, 400, code, &[fragment]);
    }
    let alias = Req::json("/v1/alias", &json!({"userId": "u"})).header("Authorization", AUTH).wire_refusal();
    assert_rejected(&alias.rejection, 400, "missing_previous_id", &[]);
    let group = Req::json("/v1/g", &json!({"userId": "u"})).header("Authorization", AUTH).wire_refusal();
    assert_rejected(&group.rejection, 400, "missing_group_id", &[]);
}

#[test]
fn limits_and_broken_bodies() {
    let big = json!({"writeKey": "wk", "batch": [{"type": "track", "event": "e", "userId": "u", "properties": {"p": "x".repeat(600_000)}}]});
    let r = Req::json("/v1/batch", &big).wire_refusal();
    assert_rejected(&r.rejection, 400, "batch_too_large", &["500 KB"]);
    let bomb = Req::post("/v1/batch", gzip_zeros(2 << 20)).header("Authorization", AUTH).wire_refusal();
    assert_rejected(&bomb.rejection, 400, "batch_too_large", &["500 KB"]);
    let mut truncated = gzip(json!({"batch": []}).to_string().as_bytes());
    truncated.truncate(truncated.len() - 6);
    let r = Req::post("/v1/batch", truncated).header("Authorization", AUTH).wire_refusal();
    assert_rejected(&r.rejection, 400, "invalid_gzip", &["gzip"]);
    let r = Req::post("/v1/batch", "{\"batch\": [").header("Authorization", AUTH).wire_refusal();
    assert_rejected(&r.rejection, 400, "invalid_json", &["ends too early"]);
    let r = Req::json("/v1/batch", &json!({"batch": {}})).header("Authorization", AUTH).wire_refusal();
    assert_rejected(&r.rejection, 400, "invalid_batch", &["expected an array"]);
    let r = Req::json("/v1/batch", &json!({"batch": []})).header("Authorization", AUTH).wire_refusal();
    assert_rejected(&r.rejection, 400, "empty_batch", &[]);
    let r = Req::get("/v1/batch").header("Authorization", AUTH).wire_refusal();
    assert_rejected(&r.rejection, 405, "method_not_allowed", &["POST"]);
}

#[test]
fn batch_context_merges_one_level_deep_and_message_keys_win() {
    let body = json!({"writeKey": "wk", "sentAt": "2026-11-24T12:00:10Z",
        "context": {"library": {"name": "batch-lib"}, "device": {"id": "dev-1"}, "ip": "1.2.3.4"},
        "integrations": {"All": false},
        "batch": [{"type": "identify", "anonymousId": "a1", "timestamp": "2026-11-24T12:00:00Z",
                   "context": {"library": {"name": "msg-lib"}}, "integrations": {"Mixpanel": true}}]});
    let (c, _) = Req::json("/v1/import", &body).wire_capture();
    let e = &c.events[0];
    assert_eq!(
        e.properties["context"],
        json!({"library": {"name": "msg-lib"}, "device": {"id": "dev-1"}, "ip": "1.2.3.4"})
    );
    assert_eq!(e.properties["integrations"], json!({"All": false, "Mixpanel": true}));
    assert_eq!(e.device_id.as_deref(), Some("dev-1"), "context.device.id wins over anonymousId");
    assert_eq!(e.distinct_id, "a1");
    // 10 s between timestamp and sentAt: 10 s before arrival (12:00:00).
    assert_eq!(e.timestamp, at("2026-11-24T11:59:50Z"));
    assert_eq!(e.sent_at.as_deref(), Some("2026-11-24T12:00:10Z"));
}

#[test]
fn ids_numbers_message_ids_and_absurd_times() {
    let (c, _) = track(json!({"event": "e", "userId": 42, "anonymousId": "", "messageId": "m".repeat(101),
        "timestamp": "+200000-01-01T00:00:00Z", "sentAt": "-200000-01-01T00:00:00Z"}))
    .wire_capture();
    let e = &c.events[0];
    assert_eq!(e.distinct_id, "42");
    assert_eq!(e.device_id, None);
    assert_ne!(e.uuid, "m".repeat(101));
    assert!(e.warnings.iter().any(|w| w.contains("cannot deduplicate")), "{:?}", e.warnings);
    let (c, _) = track(json!({"event": "e", "userId": "u", "timestamp": "yesterday"})).wire_capture();
    assert_eq!(c.events[0].timestamp, at(RECEIVED));
    assert!(c.events[0].warnings[0].contains("not an ISO 8601 date"));
}

#[test]
fn rudder_routes_and_replies() {
    let r = Req::get("/sourceConfig/?writeKey=rk_1").wire_answer();
    let body = body_json(&r);
    assert_eq!(body["source"]["writeKey"], "rk_1");
    assert_eq!(body["source"]["enabled"], true);
    assert_eq!(body["source"]["destinations"], json!([]));
    let refusal = Req::get("/sourceConfig").wire_refusal();
    assert_eq!((refusal.source, refusal.reply.status), (Source::Rudderstack, 401));
    assert!(body_text(&refusal.reply).contains("no write key"));
    let beacon = Req::post(
        "/beacon/v1/batch?writeKey=rk_1",
        json!({"batch": [{"type": "page", "anonymousId": "a", "channel": "web"}]}).to_string(),
    );
    let (c, reply) = beacon.wire_capture();
    assert_eq!((c.source, body_text(&reply).as_str()), (Source::Rudderstack, "OK"));
    assert_eq!(c.events[0].project, "rk_1");
    let metrics = Req::post("/v1/m", "{\"series\":[]}").wire_answer();
    assert_eq!(body_json(&metrics), json!({"success": true}));
}
