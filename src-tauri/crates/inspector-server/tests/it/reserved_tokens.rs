//! Live traffic cannot claim `import:`, the prefix of imported data sets: a token that starts
//! with it is refused on every vendor's capture route (400 in that vendor's reply shape, kept as
//! rejected, no event stored), while the same request with an ordinary token is accepted.

use crate::common::*;
use axum::body::Body;
use serde_json::{json, Value};

/// `(path, content type, body)` of one capture request carrying `token`.
fn requests(token: &str) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let json = |v: Value| v.to_string().into_bytes();
    let mixpanel = |v: Value| format!("data={}", b64(v.to_string().as_bytes())).into_bytes();
    let posthog_event = json!({"event": "x", "distinct_id": "u", "api_key": token});
    let segment =
        |kind: &str| json!({"type": kind, "event": "x", "userId": "u", "messageId": "m-1", "writeKey": token});
    let form = "application/x-www-form-urlencoded";
    vec![
        ("/e/", "application/json", json(posthog_event.clone())),
        ("/capture/", "application/json", json(posthog_event.clone())),
        ("/i/v0/e/", "application/json", json(posthog_event.clone())),
        ("/batch/", "application/json", json(json!({"api_key": token, "batch": [posthog_event]}))),
        ("/engage/", "application/json", json(json!({"$distinct_id": "u", "$token": token, "$set": {"a": 1}}))),
        ("/v1/track", "application/json", json(segment("track"))),
        ("/v1/identify", "application/json", json(segment("identify"))),
        ("/v1/page", "application/json", json(segment("page"))),
        ("/v1/batch", "application/json", json(json!({"writeKey": token, "batch": [segment("track")]}))),
        ("/v1/import", "application/json", json(json!({"writeKey": token, "batch": [segment("track")]}))),
        (
            "/beacon/v1/batch",
            "text/plain",
            json(json!({"writeKey": token, "batch": [segment("track")], "sentAt": "2026-01-01T00:00:00Z"})),
        ),
        (
            "/track/?verbose=1",
            form,
            mixpanel(json!([{"event": "x", "properties": {"token": token, "distinct_id": "u", "$insert_id": "i1"}}])),
        ),
        ("/engage/?verbose=1", form, mixpanel(json!([{"$token": token, "$distinct_id": "u", "$set": {"a": 1}}]))),
        (
            "/groups/?verbose=1",
            form,
            mixpanel(json!([{"$token": token, "$group_key": "k", "$group_id": "g", "$set": {"a": 1}}])),
        ),
    ]
}

fn request(path: &str, content_type: &str, body: Vec<u8>) -> axum::http::Request<Body> {
    req("POST", path)
        .header("content-type", content_type)
        .header("origin", "https://shop.example")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_token_is_refused_on_every_vendor_route_and_kept_as_rejected() {
    let app = app();
    let ordinary = requests("tok_ordinary");
    for (i, (path, content_type, body)) in requests("import:bug-1").into_iter().enumerate() {
        let resp = app.send(request(path, content_type, body)).await;
        assert_eq!(resp.status.as_u16(), 400, "{path}: {}", resp.text());
        let stored = app.last_request().await;
        assert_eq!(stored["outcome"], "rejected", "{path}: {stored}");
        assert_eq!(stored["error_code"], "reserved_token", "{path}: {stored}");
        assert!(stored["error"].as_str().unwrap().contains("reserved"), "{path}: {stored}");

        // The same request with an ordinary token is accepted: the refusal is the token's alone.
        let (path, content_type, body) = ordinary[i].clone();
        let resp = app.send(request(path, content_type, body)).await;
        assert!(resp.status.is_success(), "{path}: {}", resp.text());
        assert_eq!(app.last_request().await["outcome"], "accepted", "{path}");
    }
    let events = app.events("limit=1000").await;
    assert!(events.iter().all(|e| !e["project"].as_str().unwrap().starts_with("import:")), "{events:?}");
}
