//! Capture routes answer like PostHog and what they accept shows up in the API.

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use chrono::Duration;
use serde_json::{json, Value};

fn ok_body(resp: &Resp) {
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json(), json!({"status": 1}));
    assert_eq!(resp.header("content-type"), Some("application/json"));
}

#[tokio::test(flavor = "multi_thread")]
async fn posthog_js_gzip_text_plain_batch_is_stored_with_corrected_time() {
    let app = app();
    let recorded = recorded(POSTHOG_JS, 1);
    assert_eq!((recorded.method.as_str(), recorded.uri.as_str()), ("POST", "/e/"));
    assert_eq!(recorded.header("content-type"), Some("text/plain"));
    assert!(recorded.body.starts_with(&[0x1f, 0x8b, 0x08]), "the recording is a gzip body");

    let before = chrono::Utc::now();
    let resp = app.send(recorded.request()).await;
    let after = chrono::Utc::now();
    ok_body(&resp);

    let events = app.events("").await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["uuid"], "01a20b9c-3aee-7042-bbbf-74064dd34663");
    assert_eq!(e["event"], "$pageview");
    assert_eq!(e["project"], "posthog_token");
    assert_eq!(e["source"], "posthog");
    assert_eq!(e["distinct_id"], "01a20b9c-3ad6-719c-a1e4-a8286af8408e");
    assert_eq!(e["device_id"], "01a20b9c-3ad6-719c-a1e4-a8286af8408e");
    assert_eq!(e["session_id"], "01a20b9c-3ade-74d6-8bec-a26603cf1db9");
    assert_eq!(e["original_timestamp"], "2026-11-24T03:31:57.806Z");
    assert_eq!(e["sent_at"], "2026-11-24T03:31:57.810Z");
    assert_eq!(e["properties"]["$lib"], "web");
    assert!(e["warnings"].is_null(), "{}", e["warnings"]);

    // Clock skew removed: the event happened 4 ms before the client sent it, so 4 ms before arrival.
    let received = time(&e["received_at"]);
    assert!(received >= before - Duration::milliseconds(1) && received <= after, "{received}");
    assert_eq!(time(&e["timestamp"]), received - Duration::milliseconds(4));

    let request = app.last_request().await;
    assert_eq!(request["outcome"], "accepted");
    assert_eq!(request["status"], 200);
    assert_eq!(request["path"], "/e/");
    assert_eq!(request["route"], "capture");
    assert_eq!(request["source"], "posthog");
    assert_eq!(request["event_count"], 1);
    assert_eq!(request["note"], "decoded: gzip");
    assert_eq!(request["body_size"], recorded.body.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn posthog_node_gzip_batch_with_content_encoding() {
    let app = app();
    let recorded = recorded(POSTHOG_NODE, 0);
    assert_eq!(recorded.uri, "/batch/");
    assert_eq!(recorded.header("content-encoding"), Some("gzip"));
    ok_body(&app.send(recorded.request()).await);

    let events = app.events("project=posthog_node_token").await;
    let got: Vec<(&str, &str)> =
        events.iter().rev().map(|e| (e["event"].as_str().unwrap(), e["distinct_id"].as_str().unwrap())).collect();
    assert_eq!(
        got,
        [
            ("viewed pricing", "anon-n1"),
            ("$identify", "user-n1"),
            ("$create_alias", "user-n1"),
            ("signed up", "user-n1"),
            ("$groupidentify", "$company_acme"),
            ("bad id event", "null"),
        ],
        "arrival order kept, distinct id \"null\" is a string like any other"
    );
    let first = events.last().unwrap();
    assert_eq!(first["uuid"], "01a20b9c-cbbf-7aab-9721-94ebab5b8546");
    // sent_at .881, timestamp .871: 10 ms before arrival.
    assert_eq!(time(&first["timestamp"]), time(&first["received_at"]) - Duration::milliseconds(10));
    assert_eq!(events[2]["properties"]["$set_once"]["first_seen"], "2026-11-24");
    assert_eq!(app.last_request().await["route"], "batch");
}

#[tokio::test(flavor = "multi_thread")]
async fn posthog_python_plain_json_batch() {
    let app = app();
    let recorded = recorded(POSTHOG_PYTHON, 0);
    ok_body(&app.send(recorded.request()).await);
    let events = app.events("project=posthog_python_token").await;
    assert_eq!(events.len(), 5);
    let set = events.iter().find(|e| e["event"] == "$set").unwrap();
    assert_eq!(set["properties"]["$set"], json!({"email": "a@b.c"}), "top-level $set moved into properties");
    let personless = &events[0];
    assert_eq!(personless["event"], "personless thing");
    assert_eq!(personless["properties"]["$process_person_profile"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_posthog_capture_path_accepts_events() {
    let app = app();
    let one = |name: &str| json!({"api_key": "phc_paths", "batch": [{"event": name, "distinct_id": "u-paths"}]});

    ok_body(&app.post_json("/i/v0/e/", &one("v0")).await);
    ok_body(&app.post("/batch", &[], gzip(one("no-slash").to_string().as_bytes())).await);
    ok_body(
        &app.post_json("/capture", &json!({"event": "capture", "distinct_id": "u-paths", "api_key": "phc_paths"}))
            .await,
    );
    // Old clients: a base64 form field on /track.
    let form = format!("data={}", b64(one("track").to_string().as_bytes()));
    ok_body(&app.post("/track/", &[("content-type", "application/x-www-form-urlencoded")], form).await);
    let snapshot = json!({"api_key": "phc_paths", "batch": [{"event": "$snapshot", "distinct_id": "u-paths",
        "properties": {"$session_id": "rec-1", "$snapshot_data": [{"type": 2}]}}]});
    ok_body(&app.post("/s/", &[], gzip(snapshot.to_string().as_bytes())).await);

    let names: Vec<String> =
        app.events("project=phc_paths").await.iter().rev().map(|e| e["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["v0", "no-slash", "capture", "track", "$snapshot"]);
    let routes: Vec<String> =
        app.requests("").await.iter().rev().map(|r| r["route"].as_str().unwrap().to_owned()).collect();
    assert_eq!(routes, ["capture_v0", "batch", "capture", "capture", "recording"]);
    assert_eq!(app.events("session_id=rec-1").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn engage_becomes_identify() {
    let app = app();
    let body = json!({"$token": "phc_engage", "$distinct_id": "user-e", "$set": {"email": "e@x.io"}});
    ok_body(&app.post_json("/engage/", &body).await);
    let events = app.events("project=phc_engage").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "$identify");
    assert_eq!(events[0]["distinct_id"], "user-e");
    assert_eq!(events[0]["properties"]["$set"]["email"], "e@x.io");
}

#[tokio::test(flavor = "multi_thread")]
async fn analytics_v1_uses_the_bearer_token_and_answers_per_uuid() {
    let app = app();
    let uuid = "01950000-0000-7000-8000-000000000001";
    let body = json!({"created_at": "2026-11-24T12:00:00Z", "batch": [{
        "event": "v1 event", "uuid": uuid, "distinct_id": "user-v1", "timestamp": "2026-11-24T11:59:59Z",
        "session_id": "sess-v1", "window_id": "win-v1", "options": {"process_person_profile": false},
        "properties": {"plan": "pro"}}]});
    let resp = app
        .post(
            "/i/v1/analytics/events",
            &[("authorization", "Bearer phc_bearer"), ("content-type", "application/json")],
            body.to_string(),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json(), json!({"results": {uuid: {"result": "ok"}}}));

    let events = app.events("project=phc_bearer").await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["uuid"], uuid);
    assert_eq!(e["session_id"], "sess-v1");
    assert_eq!(e["properties"]["$window_id"], "win-v1");
    assert_eq!(e["properties"]["$process_person_profile"], false);
    assert_eq!(e["properties"]["plan"], "pro");
    // created_at is 1 s after timestamp: the event is 1 s before arrival.
    assert_eq!(time(&e["timestamp"]), time(&e["received_at"]) - Duration::seconds(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn beacon_gets_204_and_head_gets_200() {
    let app = app();
    let recorded = recorded(POSTHOG_JS, 7); // the sendBeacon form on page unload
    assert_eq!(recorded.uri, "/e/?compression=base64");
    let mut beacon = recorded.clone();
    beacon.uri = "/e/?compression=base64&beacon=1".into();
    let resp = app.send(beacon.request()).await;
    assert_eq!(resp.status, StatusCode::NO_CONTENT);
    assert!(resp.body.is_empty());
    let events = app.events("").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "$pageleave");

    let resp = app.send(req("HEAD", "/e/").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status, StatusCode::OK);
    let resp = app.send(req("HEAD", "/batch/").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(app.events("").await.len(), 1, "HEAD stores no events");
    assert!(app.rejected().await.is_empty(), "HEAD is not an error");
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_and_decide_reply_in_their_shapes() {
    let app = app();
    let recorded = recorded(POSTHOG_JS, 5);
    assert_eq!(recorded.uri, "/flags/?v=2");
    let v2 = app.send(recorded.request()).await;
    assert_eq!(v2.status, StatusCode::OK);
    let body = v2.json();
    assert_eq!(body["flags"], json!({}));
    assert_eq!(body["errorsWhileComputingFlags"], false);
    let id = body["requestId"].as_str().expect("requestId");
    assert_eq!(id.len(), 36, "a UUID: {id}");

    for uri in ["/decide/?v=3", "/flags", "/flags/?v=1"] {
        let legacy = app.send(req("POST", uri).body(Body::from("{}")).unwrap()).await;
        assert_eq!(legacy.status, StatusCode::OK, "{uri}");
        let body = legacy.json();
        assert_eq!(body["featureFlags"], json!({}), "{uri}");
        assert_eq!(body["featureFlagPayloads"], json!({}), "{uri}");
        assert_eq!(body["errorsWhileComputingFlags"], false, "{uri}");
        assert_eq!(body["supportedCompression"], json!(["gzip", "gzip-js"]), "{uri}");
        assert!(body.get("flags").is_none(), "{uri}");
    }
    let get = app.send(req("GET", "/flags/?v=2").body(Body::empty()).unwrap()).await;
    assert_eq!(get.json()["flags"], json!({}));
    // Flags store the request but no events.
    assert!(app.events("").await.is_empty());
    assert_eq!(app.requests("outcome=accepted").await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_config_is_javascript_or_json() {
    let app = app();
    let resp = app.send(req("GET", "/array/phc_x/config.js").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("content-type"), Some("application/javascript"));
    let script = resp.text();
    assert!(script.contains(r#"window._POSTHOG_REMOTE_CONFIG["phc_x"]={config:{"#), "{script}");
    assert!(script.contains(r#""token":"phc_x""#), "{script}");
    assert!(script.contains(r#""sessionRecording":false"#), "{script}");

    let resp = app.send(req("GET", "/array/phc_x/config").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let config: Value = resp.json();
    assert_eq!(config["token"], "phc_x");
    assert_eq!(config["analytics"]["endpoint"], "/i/v0/e/");
    assert_eq!(config["siteApps"], json!([]));

    // A token that would break out of the script stays a string.
    let resp = app.send(req("GET", "/array/a%3C%2Fscript%3E/config.js").body(Body::empty()).unwrap()).await;
    assert!(!resp.text().contains("</script>"), "{}", resp.text());

    // Both were kept as (accepted) requests; listing them works even though they have no body.
    let listed = app.requests("").await;
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|r| r["outcome"] == "accepted" && r["body_size"] == 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_posthog_js_recording_is_accepted() {
    let app = app();
    let mut expected_events = 0;
    for i in 0..POSTHOG_JS.lines().count() {
        let r = recorded(POSTHOG_JS, i);
        let resp = app.send(r.request()).await;
        assert_eq!(resp.status, StatusCode::OK, "line {i} {}: {}", r.uri, resp.text());
        if r.uri.starts_with("/e/") {
            let decoded = if r.header("content-type").unwrap_or("").contains("form") {
                let form = String::from_utf8(r.body.clone()).unwrap();
                let data =
                    form.strip_prefix("data=").unwrap().replace("%2B", "+").replace("%2F", "/").replace("%3D", "=");
                serde_json::from_slice::<Value>(&unb64(&data)).unwrap()
            } else {
                decode_body(&r.body)
            };
            expected_events += decoded["batch"].as_array().unwrap().len();
        }
    }
    let all = app.events("limit=1000").await;
    assert_eq!(all.len(), expected_events);
    assert_eq!(all.len(), 19, "1+1+1+7+1+1+1+1+5 events in the recording");
    assert!(app.rejected().await.is_empty());
    let projects = app.api("/api/projects").await;
    let mut counts: Vec<(String, i64)> = projects["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["project"].as_str().unwrap().to_owned(), p["events"].as_i64().unwrap()))
        .collect();
    counts.sort();
    let total: i64 = counts.iter().map(|c| c.1).sum();
    assert_eq!(total, 19);
    assert_eq!(counts.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["phc_web", "posthog_token"]);
}
