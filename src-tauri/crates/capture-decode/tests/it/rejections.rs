//! Requests PostHog refuses: status codes and messages that name the problem.

use crate::common::*;
use serde_json::{json, Value};

fn batch_of(events: Value) -> Value {
    json!({"api_key": "phc_t", "batch": events})
}

fn reject_json(path: &str, body: &Value) -> capture_decode::Rejection {
    Req::json(path, body).reject()
}

// ---- decoding ----

#[test]
fn empty_body_and_empty_data() {
    assert_rejected(&Req::post("/e/", Vec::new()).reject(), 400, "empty_payload", &["empty request"]);
    assert_rejected(&Req::get("/e/?data=&ver=1").reject(), 400, "empty_payload", &["empty"]);
    assert_rejected(&Req::form("/e/", "data=").reject(), 400, "empty_payload", &["empty"]);
    assert_rejected(&Req::form("/e/", "compression=gzip-js").reject(), 400, "missing_form_data", &["`data`"]);
}

#[test]
fn truncated_gzip_is_a_400() {
    let zipped = gzip(batch_of(json!([event("e", "u")])).to_string().as_bytes());
    for cut in [zipped.len() / 2, zipped.len() - 4, 12] {
        let e = Req::post("/e/", zipped[..cut].to_vec()).reject();
        assert_rejected(&e, 400, "invalid_gzip", &["gzip body could not be decompressed"]);
    }
}

#[test]
fn gzip_hint_without_gzip_bytes_is_a_400() {
    let e = Req::post("/e/?compression=gzip-js", "{\"event\":\"x\"}").reject();
    assert_rejected(&e, 400, "invalid_gzip", &["1f 8b 08"]);
}

#[test]
fn gzip_bomb_is_refused_without_inflating_it() {
    let bomb = gzip_zeros(50 << 20);
    assert!(bomb.len() < 200_000, "50 MB of zeros gzips small: {}", bomb.len());
    let e = Req::post("/e/", bomb.clone()).reject();
    assert_rejected(&e, 413, "payload_too_large", &["2 MB"]);
    let e = Req::post("/batch/", bomb).header("Content-Encoding", "gzip").reject();
    assert_rejected(&e, 413, "payload_too_large", &["20 MB"]);
}

#[test]
fn batch_allows_20_mb_where_e_allows_2_mb() {
    // One event with a 3 MB property, gzipped: fine on /batch, too large on /e and /i/v0/e.
    let big = json!({"api_key": "phc_t", "batch": [{"event": "big", "distinct_id": "u",
        "properties": {"blob": "x".repeat(3 << 20)}}]});
    let zipped = gzip(big.to_string().as_bytes());
    let (capture, _) = Req::post("/batch/", zipped.clone()).capture();
    assert_eq!(capture.events[0].properties["blob"].as_str().map(str::len), Some(3 << 20));
    for path in ["/e/", "/i/v0/e/", "/capture"] {
        assert_rejected(&Req::post(path, zipped.clone()).reject(), 413, "payload_too_large", &["2 MB"]);
    }
    // Uncompressed bodies are held to the same limits.
    let plain = big.to_string();
    assert_eq!(Req::post("/batch", plain.clone()).events().len(), 1);
    assert_rejected(&Req::post("/e", plain).reject(), 413, "payload_too_large", &["2 MB"]);
    // And 21 MB is too much even for /batch.
    let huge = json!({"api_key": "phc_t", "batch": [{"event": "huge", "distinct_id": "u",
        "properties": {"blob": "y".repeat(21 << 20)}}]});
    let e = Req::post("/batch/", gzip(huge.to_string().as_bytes())).reject();
    assert_rejected(&e, 413, "payload_too_large", &["20 MB"]);
}

#[test]
fn invalid_utf8_is_a_400() {
    let mut body = br#"{"event":"caf"#.to_vec();
    body.extend_from_slice(&[0xC3, 0x28]);
    body.extend_from_slice(br#"","distinct_id":"u","token":"phc_t"}"#);
    let e = Req::post("/e/", body.clone()).reject();
    assert_rejected(&e, 400, "invalid_utf8", &["UTF-8", "offset 13"]);
    // Also when it arrives gzipped.
    let e = Req::post("/e/", gzip(&body)).reject();
    assert_rejected(&e, 400, "invalid_utf8", &["UTF-8"]);
}

#[test]
fn deeply_nested_json_is_a_400_not_a_stack_overflow() {
    let depth = 10_000;
    let body = format!(
        r#"{{"event":"deep","distinct_id":"u","token":"phc_t","properties":{{"a":{}{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let e = Req::post("/e/", body).reject();
    assert_rejected(&e, 400, "invalid_json", &["nested too deeply"]);
    let e = Req::post("/batch", "{".repeat(depth)).reject();
    assert_eq!(e.status, 400);
}

#[test]
fn truncated_and_malformed_json() {
    let text = batch_of(json!([event("e", "u")])).to_string();
    let e = Req::post("/e/", text[..text.len() - 5].to_owned()).reject();
    assert_rejected(&e, 400, "invalid_json", &["ends too early"]);
    let e = Req::post("/e/", "{\"event\": nope}").reject();
    assert_rejected(&e, 400, "invalid_json", &["not valid JSON"]);
    let e = Req::post("/e/", "\"just a string\"").reject();
    assert_rejected(&e, 400, "invalid_payload", &["a string", "expected an event"]);
}

#[test]
fn invalid_base64_with_a_base64_hint() {
    let e = Req::post("/e/?compression=base64", "not*base64!").reject();
    assert_rejected(&e, 400, "invalid_base64", &["not valid base64"]);
}

#[test]
fn lz64_garbage_is_a_400() {
    for garbage in ["!!!!not lz64", "{\"event\":\"x\"}"] {
        let e = Req::post("/e/?compression=lz64", garbage).reject();
        assert_rejected(&e, 400, "invalid_lz64", &["lz64"]);
    }
    // Valid characters that do not decode into JSON are still a 400.
    assert_eq!(Req::post("/e/?compression=lz64", "AAAAAAAA").reject().status, 400);
}

// ---- shapes and events ----

#[test]
fn non_object_event_names_its_place() {
    let e = reject_json("/batch", &batch_of(json!([event("a", "u"), "oops", event("c", "u")])));
    assert_rejected(&e, 400, "invalid_event", &["event 2 of 3", "a string", "not a JSON object"]);
    let e = reject_json("/e/", &json!([event("a", "u"), event("b", "u"), 7]));
    assert_rejected(&e, 400, "invalid_event", &["event 3 of 3", "a number"]);
}

#[test]
fn missing_empty_or_non_string_event_name() {
    let e = reject_json("/e/", &batch_of(json!([event("a", "u"), {"distinct_id": "u"}])));
    assert_rejected(&e, 400, "missing_event_name", &["event 2 of 2", "no `event` name"]);
    let e = reject_json("/e/", &batch_of(json!([{"event": "", "distinct_id": "u"}])));
    assert_rejected(&e, 400, "missing_event_name", &["event 1 of 1", "empty"]);
    let e = reject_json("/e/", &batch_of(json!([{"event": 42, "distinct_id": "u"}])));
    assert_rejected(&e, 400, "invalid_event_name", &["event 1 of 1", "must be a string", "a number"]);
}

#[test]
fn missing_or_blank_distinct_id() {
    let e = reject_json("/e/", &batch_of(json!([event("ok", "u"), {"event": "pv", "properties": {}}])));
    assert_rejected(&e, 400, "missing_distinct_id", &["event 2 of 2 (pv)", "distinct_id"]);
    // Only the zero-length id is missing; whitespace-only ids are accepted (see
    // `whitespace_only_distinct_id_is_accepted` in events.rs).
    let e = reject_json("/e/", &batch_of(json!([{"event": "pv", "distinct_id": ""}])));
    assert_rejected(&e, 400, "missing_distinct_id", &["event 1 of 1 (pv)", "empty"]);
    let e = reject_json("/e/", &batch_of(json!([{"event": "pv", "distinct_id": null}])));
    assert_rejected(&e, 400, "missing_distinct_id", &["has no `distinct_id`"]);
}

#[test]
fn invalid_uuid_properties_and_set() {
    let e = reject_json("/e/", &batch_of(json!([{"event": "pv", "distinct_id": "u", "uuid": "not-a-uuid"}])));
    assert_rejected(&e, 400, "invalid_uuid", &["event 1 of 1 (pv)", "not-a-uuid", "not a valid UUID"]);
    let e = reject_json("/e/", &batch_of(json!([{"event": "pv", "distinct_id": "u", "uuid": 5}])));
    assert_rejected(&e, 400, "invalid_uuid", &["must be a string"]);
    let e = reject_json("/e/", &batch_of(json!([{"event": "pv", "distinct_id": "u", "properties": [1, 2]}])));
    assert_rejected(&e, 400, "invalid_properties", &["`properties` must be an object", "an array"]);
    let e = reject_json("/e/", &batch_of(json!([{"event": "pv", "distinct_id": "u", "properties": "x"}])));
    assert_rejected(&e, 400, "invalid_properties", &["a string"]);
    let e = reject_json("/e/", &batch_of(json!([{"event": "$identify", "distinct_id": "u", "$set": "x"}])));
    assert_rejected(&e, 400, "invalid_set", &["`$set` must be an object"]);
}

#[test]
fn batch_must_be_a_non_empty_array() {
    let e = reject_json("/batch", &json!({"api_key": "phc_t", "batch": {"event": "x"}}));
    assert_rejected(&e, 400, "invalid_batch", &["`batch` is an object", "array"]);
    let e = reject_json("/batch", &json!({"api_key": "phc_t", "batch": []}));
    assert_rejected(&e, 400, "empty_batch", &["no events"]);
    let e = reject_json("/e/", &json!([]));
    assert_rejected(&e, 400, "empty_batch", &["no events"]);
    let e =
        Req::json("/i/v1/analytics/events", &json!({"batch": "x"})).header("Authorization", "Bearer phc_t").reject();
    assert_rejected(&e, 400, "invalid_batch", &["`batch`"]);
    let e = Req::json("/i/v1/analytics/events", &json!([])).header("Authorization", "Bearer phc_t").reject();
    assert_rejected(&e, 400, "invalid_payload", &["created_at"]);
}

#[test]
fn one_bad_event_rejects_the_whole_request() {
    let events: Vec<Value> = (0..9).map(|i| event(&format!("e{i}"), "u")).chain([json!({"event": "bad"})]).collect();
    let e = reject_json("/batch", &batch_of(Value::Array(events)));
    assert_rejected(&e, 400, "missing_distinct_id", &["event 10 of 10 (bad)"]);
}

// ---- tokens ----

#[test]
fn personal_api_key_is_a_401_that_does_not_echo_the_key() {
    let key = "phx_SuperSecretPersonalKey0123456789";
    let bodies = [
        json!({"api_key": key, "batch": [event("e", "u")]}),
        json!([{"event": "e", "distinct_id": "u", "properties": {"token": key}}]),
    ];
    for body in bodies {
        let e = reject_json("/e/", &body);
        assert_rejected(&e, 401, "personal_api_key", &["personal API key", "project"]);
        assert!(!e.message.contains(key), "the full key leaked: {}", e.message);
        assert!(!e.message.contains("SuperSecret"), "too much of the key shown: {}", e.message);
        assert!(!e.to_string().contains(key));
    }
    let e = Req::json("/i/v1/analytics/events", &json!({"batch": [event("e", "u")]}))
        .header("Authorization", &format!("Bearer {key}"))
        .reject();
    assert_eq!((e.status, e.code), (401, "personal_api_key"));
}

#[test]
fn mixed_tokens_in_one_request_are_a_401() {
    let body = json!([
        {"event": "a", "distinct_id": "u", "properties": {"token": "phc_projectAAAAAAAA"}},
        {"event": "b", "distinct_id": "u", "properties": {"token": "phc_projectBBBBBBBB"}}
    ]);
    let e = reject_json("/e/", &body);
    assert_rejected(&e, 401, "mixed_tokens", &["two project tokens", "event 2 of 2"]);
    assert!(!e.message.contains("phc_projectAAAAAAAA") && !e.message.contains("phc_projectBBBBBBBB"), "{}", e.message);
    let body = json!({"api_key": "phc_batchkey", "batch": [{"event": "a", "distinct_id": "u", "token": "phc_other"}]});
    assert_rejected(&reject_json("/batch", &body), 401, "mixed_tokens", &["event 1 of 1"]);
}

#[test]
fn no_token_is_a_401() {
    let e = reject_json("/e/", &json!([event("a", "u")]));
    assert_rejected(&e, 401, "no_token", &["no project token", "api_key"]);
    let e = reject_json("/batch", &json!({"api_key": "   ", "batch": [event("a", "u")]}));
    assert_rejected(&e, 401, "no_token", &["no project token"]);
    let e = Req::json("/i/v1/analytics/events", &json!({"batch": [event("a", "u")]})).reject();
    assert_rejected(&e, 401, "no_token", &[]);
}

#[test]
fn the_same_token_with_surrounding_spaces_is_not_mixed() {
    let body = json!({"api_key": "  phc_same ", "batch": [{"event": "a", "distinct_id": "u", "properties": {"token": "phc_same"}}]});
    let (capture, _) = Req::json("/batch", &body).capture();
    assert_eq!(token(&capture), "phc_same");
}
