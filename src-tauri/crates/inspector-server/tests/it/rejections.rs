//! Bad input: each answered with the right 4xx, stored as a rejected request with its reason,
//! and the server keeps working afterwards.

use std::io::Write;

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// Sends a request that must be refused with `status` and `code`; returns the stored rejection.
async fn refused(app: &App, request: axum::http::Request<Body>, status: u16, code: &str) -> Value {
    let (method, path) = (request.method().to_string(), request.uri().path().to_owned());
    let before = app.rejected().await.len();
    let resp = app.send(request).await;
    assert_eq!(resp.status.as_u16(), status, "{method} {path}: {}", resp.text());
    let body = resp.json();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], "validation_error");
    let detail = body["detail"].as_str().expect("a readable reason").to_owned();
    assert!(!detail.is_empty());

    let rejected = app.rejected().await;
    assert_eq!(rejected.len(), before + 1, "{method} {path} was stored as rejected");
    let stored = rejected[0].clone();
    assert_eq!(stored["method"], method);
    assert_eq!(stored["path"], path);
    assert_eq!(stored["status"], status);
    assert_eq!(stored["outcome"], "rejected");
    assert_eq!(stored["error"], detail.as_str(), "the stored error is the one answered");
    assert_eq!(stored["error_code"], code);
    assert_eq!(stored["event_count"], 0);

    // And the server still takes good traffic.
    let ok = app.post_json("/e/", &json!({"event": "still alive", "distinct_id": "u", "token": "phc_alive"})).await;
    assert_eq!(ok.status, StatusCode::OK, "after {method} {path}: {}", ok.text());
    stored
}

fn post(uri: &str, body: impl Into<Vec<u8>>) -> axum::http::Request<Body> {
    req("POST", uri).header("content-type", "text/plain").body(Body::from(body.into())).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn undecodable_bodies_are_refused_and_kept() {
    let app = app();

    let stored = refused(&app, post("/e/", Vec::new()), 400, "empty_payload").await;
    assert_eq!(stored["body_size"], 0);

    let stored = refused(&app, post("/e/", "hello, not json"), 400, "invalid_json").await;
    assert_eq!(stored["body_preview"], "hello, not json");

    let whole = gzip(json!({"api_key": "phc_x", "batch": [{"event": "x", "distinct_id": "u"}]}).to_string().as_bytes());
    let truncated = whole[..whole.len() / 2].to_vec();
    let stored = refused(&app, post("/batch/", truncated.clone()), 400, "invalid_gzip").await;
    assert_eq!(stored["body_size"], truncated.len());
    assert_eq!(stored["body_preview"], format!("<gzip, {} bytes>", truncated.len()));

    let stored =
        refused(&app, post("/e/", b"{\"event\": \"caf\xe9\", \"distinct_id\": \"u\"}".to_vec()), 400, "invalid_utf8")
            .await;
    assert!(stored["error"].as_str().unwrap().contains("UTF-8"));

    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let stored = refused(&app, post("/e/", deep), 400, "invalid_json").await;
    assert!(stored["error"].as_str().unwrap().contains("nested too deeply"), "{}", stored["error"]);

    let stored = refused(&app, post("/e/", "[]"), 400, "empty_batch").await;
    assert!(stored["error"].as_str().unwrap().contains("no events"));

    // The stored body is the one received, byte for byte.
    let id = stored["id"].as_i64().unwrap();
    let detail = app.api(&format!("/api/requests/{id}")).await;
    assert_eq!(unb64(detail["body_base64"].as_str().unwrap()), b"[]");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzip_bomb_is_refused_with_413() {
    let app = app();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..100 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < 200_000, "100 MB of zeros compress to {} bytes", bomb.len());
    let stored = refused(&app, post("/e/", bomb.clone()), 413, "payload_too_large").await;
    assert!(stored["error"].as_str().unwrap().contains("2 MB"), "{}", stored["error"]);
    assert_eq!(stored["body_size"], bomb.len(), "the compressed body is kept as received");
    // /batch allows 20 MB, still far below 100 MB.
    refused(&app, post("/batch/", bomb), 413, "payload_too_large").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_raw_limit_is_refused_with_413() {
    let app = app();
    // /e/ accepts 2 MB decoded, so 4 MB raw (room for base64); one byte more is refused unread.
    let big = vec![b'x'; (4 << 20) + 1];
    let stored = refused(&app, post("/e/", big), 413, "body_too_large").await;
    assert!(stored["error"].as_str().unwrap().contains("4 MB"), "{}", stored["error"]);
    assert_eq!(stored["body_size"], 0, "an over-limit body is not kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_distinct_id_is_accepted_cut_to_200_characters() {
    let app = app();
    let id = "é".repeat(1 << 19); // 512 Ki characters, 1 MB
    let body = json!({"api_key": "phc_big", "batch": [{"event": "big id", "distinct_id": id}]});
    let resp = app.post("/e/", &[], body.to_string()).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let events = app.events("project=phc_big").await;
    assert_eq!(events.len(), 1);
    let stored = events[0]["distinct_id"].as_str().unwrap();
    assert_eq!(stored, "é".repeat(200));
    let warnings: Vec<&str> = events[0]["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("524288 characters") && warnings[0].contains("200"), "{warnings:?}");
    assert_eq!(app.events(&format!("distinct_id={}", "%C3%A9".repeat(200))).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_problems_are_401_and_never_leak_the_key() {
    let app = app();
    let key = "phx_0123456789abcdefSECRETSECRET";
    let body = json!({"api_key": key, "batch": [{"event": "x", "distinct_id": "u"}]});
    let stored = refused(&app, post("/batch/", body.to_string()), 401, "personal_api_key").await;
    let error = stored["error"].as_str().unwrap();
    assert!(error.contains("personal API key"), "{error}");
    assert!(!error.contains(key) && !error.contains("SECRET"), "key leaked: {error}");
    let detail = app.api(&format!("/api/requests/{}", stored["id"])).await;
    assert!(!detail["request"]["error"].as_str().unwrap().contains("SECRET"));

    let mixed = json!([
        {"event": "a", "distinct_id": "u", "properties": {"token": "phc_first_project"}},
        {"event": "b", "distinct_id": "u", "properties": {"token": "phc_other_project"}}
    ]);
    let stored = refused(&app, post("/e/", mixed.to_string()), 401, "mixed_tokens").await;
    assert!(stored["error"].as_str().unwrap().contains("event 2 of 2"), "{}", stored["error"]);

    let none = json!({"batch": [{"event": "a", "distinct_id": "u"}]});
    refused(&app, post("/batch/", none.to_string()), 401, "no_token").await;
    assert!(app.events("project=phc_first_project").await.is_empty(), "nothing of a refused request is stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_events_name_the_event() {
    let app = app();
    let body = json!({"api_key": "phc_x", "batch": [
        {"event": "fine", "distinct_id": "u"},
        {"event": "signup", "properties": {}}
    ]});
    let stored = refused(&app, post("/batch/", body.to_string()), 400, "missing_distinct_id").await;
    let error = stored["error"].as_str().unwrap();
    assert!(error.contains("event 2 of 2") && error.contains("signup"), "{error}");
    assert!(app.events("project=phc_x").await.is_empty(), "one bad event refuses the whole request");

    let body = json!({"api_key": "phc_x", "batch": [{"distinct_id": "u"}]});
    refused(&app, post("/batch/", body.to_string()), 400, "missing_event_name").await;
    // PostHog's capture accepts a whitespace-only distinct id (only person merges refuse it).
    let body = json!({"api_key": "phc_x", "batch": [{"event": "x", "distinct_id": "   "}]});
    assert_eq!(app.send(post("/batch/", body.to_string())).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_are_stored() {
    let app = app();
    let stored = refused(&app, post("/nope", "{\"event\":\"x\"}"), 404, "unknown_route").await;
    assert!(stored["source"].is_null() && stored["route"].is_null());
    assert!(stored["error"].as_str().unwrap().contains("/nope"));
    assert_eq!(stored["body_preview"], "{\"event\":\"x\"}");

    let put = req("PUT", "/e/").body(Body::from("{}")).unwrap();
    let stored = refused(&app, put, 405, "method_not_allowed").await;
    assert_eq!(stored["route"], "capture");
    assert!(stored["error"].as_str().unwrap().contains("PUT"));

    let delete = req("DELETE", "/batch").body(Body::empty()).unwrap();
    refused(&app, delete, 405, "method_not_allowed").await;

    // A browser asking for a page gets the UI, not a rejection.
    let page = app.send(req("GET", "/some/ui/route").header("accept", "text/html").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Identity Inspector"));
    assert!(page.text().contains("http://127.0.0.1:8010"), "the capture URL is shown");

    let totals = app.api("/api/health").await["totals"].clone();
    assert_eq!(totals["rejected"], 3);
}

/// A refused request keeps the project key it names where the vendor reads it, also when the body
/// is compressed: a gzip'd batch whose JSON is cut off, a gzip'd event that decodes but fails
/// validation, Segment's Basic auth; and the calls that carry no events (flags, config) too.
#[tokio::test(flavor = "multi_thread")]
async fn refused_and_eventless_requests_keep_their_project() {
    let app = app();
    let cut = br#"{"api_key": "phc_cut", "batch": [{"event": "$pageview", "properties": {"distinct_id": "#;
    assert_eq!(app.post("/batch/", &[], gzip(cut)).await.status, StatusCode::BAD_REQUEST);
    let no_id = json!({"event": "no id", "properties": {"token": "phc_no_id"}});
    assert_eq!(app.post("/e/", &[], gzip(no_id.to_string().as_bytes())).await.status, StatusCode::BAD_REQUEST);
    let basic = format!("Basic {}", b64(b"wk_basic:"));
    let bad_segment = app.post("/v1/track", &[("authorization", basic.as_str())], r#"{"event": "x"}"#).await;
    assert_eq!(bad_segment.status, StatusCode::BAD_REQUEST, "{}", bad_segment.text());
    app.post("/batch/", &[], "not json at all").await;

    let rejected = app.rejected().await;
    let projects: Vec<Value> = rejected.iter().map(|r| r["project"].clone()).collect();
    assert_eq!(projects, [Value::Null, json!("wk_basic"), json!("phc_no_id"), json!("phc_cut")], "{rejected:?}");
    assert!(rejected[3]["body_preview"].as_str().unwrap().starts_with("<gzip"), "the preview cannot tell it");

    app.post("/flags/?v=2", &[], r#"{"token": "phc_flags", "distinct_id": "anon"}"#).await;
    app.send(req("GET", "/array/phc_config/config.js").body(Body::empty()).unwrap()).await;
    app.post_json("/batch/", &json!({"api_key": "phc_events", "batch": [{"event": "e", "distinct_id": "u"}]})).await;
    // Mixpanel (an event without a name) and KISSmetrics (no person): their own keys.
    let nameless = format!(
        "data={}",
        b64(br#"[{"properties": {"token": "mp_nameless", "distinct_id": "u", "mp_lib": "web", "$insert_id": "i1"}}]"#)
    );
    let mixpanel = app.post("/track/?ip=1", &[("content-type", "application/x-www-form-urlencoded")], nameless).await;
    assert_eq!(mixpanel.status, StatusCode::BAD_REQUEST, "{}", mixpanel.text());
    let km = app.send(req("GET", "/e?_k=km_key&_n=Signed%20Up").body(Body::empty()).unwrap()).await;
    assert_eq!(km.status.as_u16() / 100, 4, "{}", km.text());
    let rejected = app.rejected().await;
    let newest: Vec<(&Value, &Value)> = rejected[..2].iter().map(|r| (&r["source"], &r["project"])).collect();
    assert_eq!(newest, [(&json!("kissmetrics"), &json!("km_key")), (&json!("mixpanel"), &json!("mp_nameless"))]);

    // By project: the key's own requests and those naming none (the caller may still read one).
    let of_cut = app.api("/api/requests?outcome=rejected&project=phc_cut").await;
    let keys: Vec<&Value> = of_cut["requests"].as_array().unwrap().iter().map(|r| &r["project"]).collect();
    assert_eq!(keys, [&Value::Null, &json!("phc_cut")]);

    let accepted = app.api("/api/requests?outcome=accepted").await;
    let projects: Vec<&Value> = accepted["requests"].as_array().unwrap().iter().map(|r| &r["project"]).collect();
    assert_eq!(projects, [&json!("phc_events"), &json!("phc_config"), &json!("phc_flags")]);
}
