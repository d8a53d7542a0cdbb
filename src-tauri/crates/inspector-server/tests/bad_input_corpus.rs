//! The bad-input corpus: named requests no SDK should send, each with the status and error code
//! the inspector answers, stored as a rejected request with a readable reason, with nothing
//! stored as events and the server taking good traffic afterwards. One table, so a new family
//! (Segment, Mixpanel) adds its rows here.

mod common;

use axum::body::Body;
use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

/// One bad request and what it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    uri: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    /// The `code` of the JSON error (and of the stored request's `error_code`).
    code: &'static str,
}

fn case(name: &'static str, uri: &str, body: impl Into<Vec<u8>>, status: u16, code: &'static str) -> Case {
    Case {
        name,
        method: "POST",
        uri: uri.to_owned(),
        headers: vec![("content-type", "application/json".into())],
        body: body.into(),
        status,
        code,
    }
}

fn with_header(mut c: Case, name: &'static str, value: &str) -> Case {
    c.headers.retain(|(k, _)| *k != name);
    c.headers.push((name, value.to_owned()));
    c
}

fn method(mut c: Case, m: &'static str) -> Case {
    c.method = m;
    c
}

fn batch(events: Value) -> Vec<u8> {
    json!({"api_key": "phc_corpus", "batch": events}).to_string().into_bytes()
}

fn one(event: Value) -> Vec<u8> {
    batch(json!([event]))
}

fn ev(extra: Value) -> Value {
    let mut e = json!({"event": "$pageview", "distinct_id": "user-1", "properties": {}});
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

fn gzip_zeros(n: usize) -> Vec<u8> {
    gzip(&vec![b' '; n])
}

fn posthog_cases() -> Vec<Case> {
    let ten_mb_id = "x".repeat(10 << 20);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut huge = String::from("[");
    huge.push_str(&vec!["{\"event\":\"e\",\"distinct_id\":\"u\"}"; 120_000].join(","));
    huge.push(']');
    let good_gzip = gzip(&one(ev(json!({}))));
    vec![
        // Bodies that are not a payload at all.
        case("empty body", "/e/", Vec::new(), 400, "empty_payload"),
        case("empty batch body", "/batch/", Vec::new(), 400, "empty_payload"),
        case("plain text", "/e/", "hello", 400, "invalid_json"),
        case("truncated JSON", "/e/", "{\"event\": \"x\", \"distinct_id\": ", 400, "invalid_json"),
        case("JSON with trailing garbage", "/e/", "{\"event\":\"x\",\"distinct_id\":\"u\"} trailing", 400, "invalid_json"),
        case("invalid UTF-8", "/e/", b"{\"event\": \"caf\xe9\", \"distinct_id\": \"u\"}".to_vec(), 400, "invalid_utf8"),
        case("NUL bytes outside strings", "/e/", b"{\"event\":\"x\",\0\"distinct_id\":\"u\"}".to_vec(), 400, "invalid_json"),
        case("deeply nested arrays", "/e/", deep, 400, "invalid_json"),
        case("a bare number", "/e/", "42", 400, "invalid_payload"),
        case("a bare string", "/e/", "\"event\"", 400, "invalid_payload"),
        case("null", "/e/", "null", 400, "invalid_utf8"),
        case("empty array", "/e/", "[]", 400, "empty_batch"),
        case("empty batch array", "/batch/", batch(json!([])), 400, "empty_batch"),
        case("batch is not an array", "/batch/", json!({"api_key": "phc_corpus", "batch": {"event": "x"}}).to_string(), 400, "invalid_batch"),
        case("batch of numbers", "/batch/", batch(json!([1, 2, 3])), 400, "invalid_event"),
        // Compression and encodings.
        case("truncated gzip", "/batch/", good_gzip[..good_gzip.len() / 2].to_vec(), 400, "invalid_gzip"),
        case("gzip header only", "/batch/", good_gzip[..10].to_vec(), 400, "invalid_gzip"),
        case("gzip hint on plain JSON", "/e/?compression=gzip-js", one(ev(json!({}))), 400, "invalid_gzip"),
        with_header(case("Content-Encoding gzip on plain JSON", "/batch/", one(ev(json!({}))), 400, "invalid_gzip"), "content-encoding", "gzip"),
        case("gzip bomb on /e", "/e/", gzip_zeros(50 << 20), 413, "payload_too_large"),
        case("gzip bomb on /batch", "/batch/", gzip_zeros(60 << 20), 413, "payload_too_large"),
        with_header(case("lz64 garbage", "/e/?compression=lz64", "data=%25%25not-lz64%25%25", 400, "invalid_lz64"), "content-type", "application/x-www-form-urlencoded"),
        with_header(case("lz64 of nothing", "/e/?compression=lz64", "data=", 400, "empty_payload"), "content-type", "application/x-www-form-urlencoded"),
        with_header(case("form without data", "/e/", "compression=gzip-js", 400, "missing_form_data"), "content-type", "application/x-www-form-urlencoded"),
        with_header(case("form data not base64", "/e/", "data=***", 400, "invalid_json"), "content-type", "application/x-www-form-urlencoded"),
        case("raw body over 40 MB", "/batch/", vec![b' '; 41 << 20], 413, "body_too_large"),
        case("120 000 events over the size limit", "/e/", huge, 413, "payload_too_large"),
        // Wrong types for every field.
        case("event name missing", "/batch/", one(json!({"distinct_id": "u"})), 400, "missing_event_name"),
        case("event name is a number", "/batch/", one(ev(json!({"event": 7}))), 400, "invalid_event_name"),
        case("event name is empty", "/batch/", one(ev(json!({"event": ""}))), 400, "missing_event_name"),
        case("event name is an object", "/batch/", one(ev(json!({"event": {"a": 1}}))), 400, "invalid_event_name"),
        case("distinct id missing", "/batch/", one(json!({"event": "e"})), 400, "missing_distinct_id"),
        case("distinct id null", "/batch/", one(ev(json!({"distinct_id": null}))), 400, "missing_distinct_id"),
        case("distinct id empty", "/batch/", one(ev(json!({"distinct_id": ""}))), 400, "missing_distinct_id"),
        case("distinct id only spaces", "/batch/", one(ev(json!({"distinct_id": "   "}))), 400, "missing_distinct_id"),
        case("properties is a string", "/batch/", one(ev(json!({"properties": "a=b"}))), 400, "invalid_properties"),
        case("properties is an array", "/batch/", one(ev(json!({"properties": [1]}))), 400, "invalid_properties"),
        case("$set is a string", "/batch/", one(ev(json!({"$set": "plan"}))), 400, "invalid_set"),
        case("uuid is not a uuid", "/batch/", one(ev(json!({"uuid": "not-a-uuid"}))), 400, "invalid_uuid"),
        case("uuid is a number", "/batch/", one(ev(json!({"uuid": 12}))), 400, "invalid_uuid"),
        case("10 MB distinct id on /e", "/e/", ev(json!({"distinct_id": ten_mb_id, "token": "phc_corpus"})).to_string(), 413, "body_too_large"),
        // Tokens.
        case("no token anywhere", "/e/", ev(json!({})).to_string(), 401, "no_token"),
        case("token is a number", "/e/", ev(json!({"token": 5})).to_string(), 401, "no_token"),
        case("mixed tokens in one batch", "/batch/", json!({"batch": [ev(json!({"api_key": "phc_a"})), ev(json!({"api_key": "phc_b"}))]}).to_string(), 401, "mixed_tokens"),
        case("personal API key", "/batch/", json!({"api_key": "phx_personal_key", "batch": [ev(json!({}))]}).to_string(), 401, "personal_api_key"),
        // Routes and methods.
        case("unknown route", "/v2/capture-everything", one(ev(json!({}))), 404, "unknown_route"),
        case("path traversal", "/../../etc/passwd", "", 404, "unknown_route"),
        method(case("DELETE on capture", "/e/", Vec::new(), 405, "method_not_allowed"), "DELETE"),
        method(case("PUT on batch", "/batch/", one(ev(json!({}))), 405, "method_not_allowed"), "PUT"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_input_is_refused_named_stored_and_survived() {
    let app = app();
    let cases = posthog_cases();
    assert!(cases.len() >= 45, "the corpus shrank: {} cases", cases.len());
    let mut failures = Vec::new();
    for c in cases {
        let mut builder = req(c.method, &c.uri);
        for (k, v) in &c.headers {
            builder = builder.header(*k, v);
        }
        let before = app.rejected().await.len();
        let resp = app.send(builder.body(Body::from(c.body)).unwrap()).await;
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let got = (resp.status.as_u16(), body["code"].as_str().unwrap_or("<no code>").to_owned());
        if got != (c.status, c.code.to_owned()) {
            failures.push(format!("{}: expected {} {}, got {} {} ({})", c.name, c.status, c.code, got.0, got.1, resp.text().chars().take(200).collect::<String>()));
            continue;
        }
        let detail = body["detail"].as_str().unwrap_or_default();
        if detail.len() < 10 {
            failures.push(format!("{}: the reason is not readable: {detail:?}", c.name));
        }
        let rejected = app.rejected().await;
        if rejected.len() != before + 1 || rejected[0]["error_code"] != c.code || rejected[0]["error"] != detail {
            failures.push(format!("{}: not stored as a rejected request with its reason", c.name));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));

    // Nothing got in as events, and good traffic still works.
    assert_eq!(app.events("limit=10").await.len(), 0);
    let ok = app.post_json("/e/", &json!({"event": "still alive", "distinct_id": "u", "token": "phc_alive"})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let health = app.api("/api/health").await;
    assert_eq!(health["status"], "ok");
}

/// Not refused: PostHog cuts a distinct id to 200 characters, and so does the inspector, saying
/// so on the event (a 10 MB id fits in `/batch`'s 20 MB).
#[tokio::test(flavor = "multi_thread")]
async fn a_10_mb_distinct_id_in_a_batch_is_cut_and_noted() {
    let app = app();
    let id = "x".repeat(10 << 20);
    let resp = app.post("/batch/", &[("content-type", "application/json")], one(ev(json!({"distinct_id": id})))).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let events = app.events("limit=1").await;
    assert_eq!(events[0]["distinct_id"].as_str().map(|d| d.chars().count()), Some(200));
    assert!(events[0]["warnings"].to_string().contains("200"), "{}", events[0]["warnings"]);
}

/// A body that happens to be valid base64 is decoded as such (the protocol allows it), so the
/// reason says so rather than only "not valid UTF-8".
#[tokio::test(flavor = "multi_thread")]
async fn a_reason_names_the_decoding_that_ran_before_it() {
    let app = app();
    let resp = app.post("/e/", &[("content-type", "application/json")], "null").await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.json()["detail"], "payload is not valid UTF-8 (first bad byte at offset 0) (after decoding the body as: base64)");
}
