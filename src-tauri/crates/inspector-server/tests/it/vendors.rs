//! Segment, RudderStack and Mixpanel through the real router: recorded SDK traffic answered and
//! stored per the shared contract, dedup, partial batches, source filters and request details.

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use serde_json::{json, Value};

const NEXT: &str = SEGMENT_NEXT;
const SEG_NODE: &str = SEGMENT_NODE;
const SEG_PYTHON: &str = SEGMENT_PYTHON;
const MIXPANEL: &str = MIXPANEL_BROWSER;

async fn replay(app: &App, file: &str) -> Vec<Resp> {
    let mut out = Vec::new();
    for line in 0..file.lines().count() {
        out.push(app.send(recorded(file, line).request()).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_segment_and_rudder_traffic_is_answered_and_stored_per_the_contract() {
    let app = app();
    let next = replay(&app, NEXT).await;
    let settings = next[0].json();
    assert_eq!(settings["integrations"]["Segment.io"]["apiHost"], "127.0.0.1:18120/v1", "the Host the SDK used");
    for resp in &next[1..] {
        assert_eq!((resp.status, resp.json()), (StatusCode::OK, json!({"success": true})));
    }
    for file in [SEG_NODE, SEG_PYTHON] {
        assert_eq!(replay(&app, file).await[0].json(), json!({"success": true}));
    }
    let rudder = replay(&app, RUDDER_PYTHON).await;
    assert_eq!((rudder[0].status, rudder[0].text().as_str()), (StatusCode::OK, "OK"));

    let segment = app.events("source=segment&limit=100").await;
    assert_eq!(segment.len(), 5 + 5 + 3);
    let rudder_events = app.events("source=rudderstack").await;
    assert_eq!(rudder_events.len(), 2);
    let identify = &rudder_events[1];
    assert_eq!(identify["event"], "identify");
    assert_eq!(identify["distinct_id"], "user-r1");
    assert_eq!(identify["device_id"], "anon-r1");
    assert_eq!(identify["project"], "rudder_python_token");
    assert_eq!(identify["uuid"], "28f723ca-276d-461e-8b87-e37e15d4e0d6");
    assert_eq!(identify["properties"]["type"], "identify");
    assert_eq!(identify["properties"]["context"]["traits"]["email"], "r@example.com");
    assert_eq!(identify["original_timestamp"], "2026-11-24T03:32:36.573583+00:00");
    assert_eq!(identify["sent_at"], "2026-11-24T03:32:37.073945+00:00");
    // Clock skew: 500.362 ms between timestamp and sentAt, so that long before arrival.
    let skew = time(&identify["received_at"]) - time(&identify["timestamp"]);
    assert_eq!(skew.num_microseconds(), Some(500_362));

    // analytics-next: write key `k` from Basic auth; the page's anonymous id is its device.
    let page = segment.iter().find(|e| e["event"] == "page").unwrap();
    assert_eq!((page["project"].as_str(), page["source"].as_str()), (Some("k"), Some("segment")));
    assert_eq!(page["device_id"], "8e741521-6325-40f4-a62c-829e1fa40b5e");
    assert_eq!(page["session_id"], Value::Null);

    let routes: Vec<String> =
        app.requests("limit=20").await.iter().rev().map(|r| format!("{} {}", r["source"], r["route"])).collect();
    assert_eq!(
        routes,
        [
            r#""segment" "segment_settings""#,
            r#""segment" "segment_page""#,
            r#""segment" "segment_identify""#,
            r#""segment" "segment_track""#,
            r#""segment" "segment_track""#,
            r#""segment" "segment_alias""#,
            r#""segment" "segment_batch""#,
            r#""segment" "segment_batch""#,
            r#""rudderstack" "segment_batch""#
        ]
    );
    // Projects carry source and family; `?source=` narrows them.
    let projects = app.api("/api/projects?source=rudderstack").await;
    assert_eq!(
        projects["projects"],
        json!([{
            "project": "rudder_python_token", "source": "rudderstack", "family": "rudderstack", "events": 2,
            "first_seen": projects["projects"][0]["first_seen"], "last_seen": projects["projects"][0]["last_seen"]
        }])
    );
    let both = app.events("source=segment&source=rudderstack&limit=100").await;
    assert_eq!(both.len(), 15);
    assert_eq!(app.events("source=segment,rudderstack,posthog&limit=100").await.len(), 15);
    let bad = app.get("/api/events?source=amplitude").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("unknown source \\\"amplitude\\\""), "{}", bad.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_mixpanel_traffic_and_its_replies() {
    let app = app();
    let resps = replay(&app, MIXPANEL).await;
    for resp in &resps {
        assert_eq!((resp.status, resp.json()), (StatusCode::OK, json!({"status": 1, "error": null})));
    }
    let events = app.events("source=mixpanel&limit=100").await;
    let names: Vec<&str> = events.iter().rev().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["viewed signup", "Account Created", "after reset", "$identify", "$engage", "$engage"]);
    let identify = &events[2];
    assert_eq!(identify["uuid"], "pw0uym33ev7nw2bc");
    assert_eq!(identify["distinct_id"], "mp-user-1");
    assert_eq!(identify["properties"]["$anon_distinct_id"], "$device:df3aa830-0bcb-428d-adac-b28e5a08f0cb");
    assert_eq!(identify["timestamp"], "2026-11-24T03:32:11.170Z");
    let requests = app.requests("source=mixpanel").await;
    assert_eq!(
        requests.iter().map(|r| r["route"].as_str().unwrap()).collect::<Vec<_>>(),
        ["mixpanel_engage", "mixpanel_track"]
    );
    assert_eq!(requests[1]["note"], "decoded: form data= → base64");
    // The request detail shows the payload as the SDK meant it.
    let detail = app.api(&format!("/api/requests/{}", requests[1]["id"])).await;
    assert_eq!(detail["decoded"]["json"][0]["event"], "viewed signup");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resent_batch_is_stored_once_and_the_request_says_how_many_were_dropped() {
    let app = app();
    let first = app.send(recorded(SEG_NODE, 0).request()).await;
    let again = app.send(recorded(SEG_NODE, 0).request()).await;
    assert_eq!((first.status, again.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(app.events("limit=100").await.len(), 5);
    let last = app.last_request().await;
    assert_eq!(last["event_count"], 0);
    assert_eq!(
        last["note"],
        "5 duplicate events dropped: the same messageId/$insert_id was already stored for this project"
    );
    // Mixpanel: the same $insert_id twice in one request.
    let ev = json!({"event": "e", "properties": {"token": "mp_t", "distinct_id": "u", "time": 1795491131, "$insert_id": "same-1"}});
    let body = format!("data={}", b64(json!([ev, ev]).to_string().as_bytes()));
    let resp = app.post("/track?verbose=1", &[("content-type", "application/x-www-form-urlencoded")], body).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(app.events("source=mixpanel").await.len(), 1);
    assert!(app.last_request().await["note"].as_str().unwrap().contains("1 duplicate event dropped"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_keeps_its_good_messages_and_names_the_dropped_ones() {
    let app = app();
    let body = json!({"writeKey": "wk_partial", "batch": [
        {"type": "track", "event": "kept", "userId": "u"},
        {"type": "track", "event": "dropped"}
    ]});
    let resp = app.post_json("/v1/batch", &body).await;
    assert_eq!((resp.status, resp.json()), (StatusCode::OK, json!({"success": true})));
    assert_eq!(app.events("").await.len(), 1);
    let note = app.last_request().await["note"].as_str().unwrap().to_owned();
    assert!(note.contains("message 2 of 2") && note.contains("no_user_anon_id"), "{note}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_settings_and_source_config_store_requests_but_no_events() {
    let app = app();
    let metrics = app.post("/v1/m", &[("content-type", "text/plain")], r#"{"series":[]}"#).await;
    assert_eq!(metrics.json(), json!({"success": true}));
    let settings = app
        .send(req("GET", "/projects/wk_9/settings").header("host", "192.168.1.5:28120").body(Body::empty()).unwrap())
        .await;
    assert_eq!(settings.json()["integrations"]["Segment.io"]["apiHost"], "192.168.1.5:28120/v1");
    assert_eq!(settings.json()["integrations"]["Segment.io"]["apiKey"], "wk_9");
    let config = app.send(req("GET", "/sourceConfig/?writeKey=rk_2").body(Body::empty()).unwrap()).await;
    assert_eq!(config.json()["source"]["writeKey"], "rk_2");
    assert_eq!(app.events("").await.len(), 0);
    let requests = app.requests("outcome=accepted").await;
    let labels: Vec<_> =
        requests.iter().map(|r| (r["source"].as_str().unwrap(), r["route"].as_str().unwrap())).collect();
    assert_eq!(
        labels,
        [("rudderstack", "rudderstack_source_config"), ("segment", "segment_settings"), ("segment", "segment_metrics")]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn posthog_keeps_track_engage_and_flags() {
    let app = app();
    let legacy =
        json!([{"event": "$pageview", "properties": {"token": "phc_legacy", "distinct_id": "d", "$lib": "web"}}]);
    let body = format!("data={}", b64(legacy.to_string().as_bytes()));
    let resp =
        app.post("/track/?ip=1&_=1795491131481", &[("content-type", "application/x-www-form-urlencoded")], body).await;
    assert_eq!(resp.json(), json!({"status": 1}));
    let engage =
        app.post_json("/engage/", &json!({"$token": "phc_legacy", "$distinct_id": "d", "$set": {"plan": "pro"}})).await;
    assert_eq!(engage.json(), json!({"status": 1}));
    let events = app.events("source=posthog").await;
    assert_eq!(events.iter().map(|e| e["event"].as_str().unwrap()).collect::<Vec<_>>(), ["$identify", "$pageview"]);
    let flags = app.post_json("/flags/?v=2", &json!({"token": "phc_legacy", "distinct_id": "d"})).await;
    assert!(flags.json()["flags"].is_object());
    let mp_decide =
        app.send(req("GET", "/decide/?verbose=1&version=1&lib=web&token=mp_t").body(Body::empty()).unwrap()).await;
    assert_eq!(mp_decide.json(), json!({}));
    assert_eq!(app.last_request().await["source"], "mixpanel");
}

#[tokio::test(flavor = "multi_thread")]
async fn segment_routes_answer_cors_preflights_with_the_origin() {
    let app = app();
    let preflight = req("OPTIONS", "/v1/t")
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,authorization")
        .body(Body::empty())
        .unwrap();
    let resp = app.send(preflight).await;
    assert_eq!(resp.header("access-control-allow-origin"), Some("http://localhost:5173"));
    assert_eq!(resp.header("access-control-allow-credentials"), Some("true"));
}
