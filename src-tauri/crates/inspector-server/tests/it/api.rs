//! The JSON API: request detail with decoded payloads, filters, pagination and errors.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

async fn capture(app: &App, project: &str, event: &str, distinct_id: &str) {
    let body = json!({"api_key": project, "batch": [{"event": event, "distinct_id": distinct_id}]});
    let resp = app.post_json("/e/", &body).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
}

async fn api_error(app: &App, uri: &str, status: StatusCode) -> String {
    let resp = app.get(uri).await;
    assert_eq!(resp.status, status, "GET {uri}: {}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/json"), "GET {uri}");
    let body = resp.json();
    // Only an error: its message, its machine code and, for a bad parameter, the parameter's name.
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(keys.iter().all(|k| ["error", "code", "parameter"].contains(k)), "only an error: {body}");
    assert!(body["code"].is_string(), "a machine code: {body}");
    body["error"].as_str().expect("error message").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn request_detail_decodes_a_gzip_body() {
    let app = app();
    let recorded = recorded(POSTHOG_NODE, 0);
    assert_eq!(app.send(recorded.request()).await.status, StatusCode::OK);
    let id = app.last_request().await["id"].as_i64().unwrap();

    let detail = app.api(&format!("/api/requests/{id}")).await;
    let request = &detail["request"];
    assert_eq!(request["id"], id);
    assert_eq!(request["method"], "POST");
    assert_eq!(request["path"], "/batch/");
    assert_eq!(request["outcome"], "accepted");
    assert_eq!(request["event_count"], 6);
    assert_eq!(request["body_preview"], format!("<gzip, {} bytes>", recorded.body.len()));
    let headers = request["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["content-encoding", "gzip"])), "{headers:?}");
    assert!(headers.contains(&json!(["user-agent", "posthog-node/5.70.0"])), "{headers:?}");

    let uuids: Vec<&str> = request["event_uuids"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert_eq!(uuids.len(), 6);
    assert_eq!(uuids[0], "01a20b9c-cbbf-7aab-9721-94ebab5b8546", "in arrival order");

    assert_eq!(unb64(detail["body_base64"].as_str().unwrap()), recorded.body, "the body exactly as received");
    assert_eq!(detail["decoded"]["steps"], json!(["gzip"]));
    assert_eq!(detail["decoded"]["json"], decode_body(&recorded.body));

    // Every listed uuid leads to its event.
    let event = app.api(&format!("/api/events/{}", uuids[1])).await;
    assert_eq!(event["event"]["event"], "$identify");
    assert_eq!(event["event"]["request_id"], id);
    let events = app.events(&format!("request_id={id}")).await;
    assert_eq!(events.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn request_detail_of_rejected_and_non_capture_requests() {
    let app = app();
    app.post("/e/", &[], "definitely not json").await;
    let id = app.last_request().await["id"].as_i64().unwrap();
    let detail = app.api(&format!("/api/requests/{id}")).await;
    assert_eq!(detail["request"]["outcome"], "rejected");
    assert!(detail["decoded"]["error"].as_str().unwrap().contains("not valid JSON"), "{}", detail["decoded"]);
    assert_eq!(unb64(detail["body_base64"].as_str().unwrap()), b"definitely not json");
    assert_eq!(detail["request"]["event_uuids"], json!([]));

    // A base64 form is shown decoded too.
    let recorded = recorded(POSTHOG_JS, 7);
    app.send(recorded.request()).await;
    let id = app.last_request().await["id"].as_i64().unwrap();
    let detail = app.api(&format!("/api/requests/{id}")).await;
    assert_eq!(detail["decoded"]["steps"], json!(["form data=", "base64"]));
    assert_eq!(detail["decoded"]["json"]["batch"][0]["event"], "$pageleave");
    assert_eq!(detail["request"]["query"], "compression=base64");

    // Flags carry no events: nothing to decode.
    app.post("/flags/?v=2", &[], "{}").await;
    let id = app.last_request().await["id"].as_i64().unwrap();
    assert!(app.api(&format!("/api/requests/{id}")).await["decoded"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_parameters_and_unknown_paths_are_json_errors() {
    let app = app();
    capture(&app, "phc_a", "x", "u").await;

    let error = api_error(&app, "/api/events?limit=abc", StatusCode::BAD_REQUEST).await;
    assert!(error.contains("limit") && error.contains("abc"), "{error}");
    let error = api_error(&app, "/api/events?cursor=-x", StatusCode::BAD_REQUEST).await;
    assert!(error.contains("cursor"), "{error}");
    let error = api_error(&app, "/api/events?request_id=1.5", StatusCode::BAD_REQUEST).await;
    assert!(error.contains("request_id"), "{error}");
    let error = api_error(&app, "/api/requests?limit=ten", StatusCode::BAD_REQUEST).await;
    assert!(error.contains("limit"), "{error}");
    let error = api_error(&app, "/api/requests?outcome=maybe", StatusCode::BAD_REQUEST).await;
    assert!(error.contains("outcome"), "{error}");
    let error = api_error(&app, "/api/requests/abc", StatusCode::BAD_REQUEST).await;
    assert!(error.contains("abc"), "{error}");
    let error = api_error(&app, "/api/requests/999999", StatusCode::NOT_FOUND).await;
    assert!(error.contains("999999"), "{error}");
    let error = api_error(&app, "/api/events/no-such-uuid", StatusCode::NOT_FOUND).await;
    assert!(error.contains("no-such-uuid"), "{error}");
    let error = api_error(&app, "/api/nope", StatusCode::NOT_FOUND).await;
    assert!(error.contains("/api/nope"), "{error}");
    api_error(&app, "/api/events/x/y", StatusCode::NOT_FOUND).await;
    let error = api_error(&app, "/api/", StatusCode::NOT_FOUND).await;
    assert!(error.contains("/api/"), "{error}");
    let error = api_error(&app, "/api", StatusCode::NOT_FOUND).await;
    assert!(error.contains("/api"), "{error}");
    let host = format!("127.0.0.1:{}", crate::common::PORT);
    let wrong_method = app.post("/api/events", &[("host", host.as_str())], Vec::new()).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.json()["error"].as_str().unwrap().contains("POST"), "{}", wrong_method.text());

    // Empty parameters mean "not set".
    let events = app.events("limit=&cursor=&project=&distinct_id=").await;
    assert_eq!(events.len(), 1);
    // API mistakes are not capture traffic: nothing new was stored.
    assert_eq!(app.requests("").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_filter_and_paginate_by_cursor() {
    let app = app();
    for i in 0..12 {
        let who = if i % 2 == 0 { "even" } else { "odd" };
        capture(&app, if i < 9 { "phc_a" } else { "phc_b" }, &format!("ev{i}"), who).await;
    }

    let mut seen = Vec::new();
    let mut cursor: Option<i64> = None;
    for _ in 0..10 {
        let uri = match cursor {
            Some(c) => format!("/api/events?limit=5&cursor={c}"),
            None => "/api/events?limit=5".to_owned(),
        };
        let page = app.api(&uri).await;
        let events = page["events"].as_array().unwrap();
        seen.extend(events.iter().map(|e| e["event"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_i64() {
            Some(c) => {
                assert_eq!(events.last().unwrap()["seq"].as_i64(), Some(c));
                cursor = Some(c);
            }
            None => {
                assert!(page["next_cursor"].is_null());
                break;
            }
        }
    }
    let expected: Vec<String> = (0..12).rev().map(|i| format!("ev{i}")).collect();
    assert_eq!(seen, expected, "every event once, newest first");

    let names = |events: Vec<Value>| -> Vec<String> {
        events.iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(app.events("project=phc_b").await), ["ev11", "ev10", "ev9"]);
    assert_eq!(names(app.events("project=phc_a&distinct_id=odd&limit=2").await), ["ev7", "ev5"]);
    assert_eq!(names(app.events("event=ev3").await), ["ev3"]);
    assert_eq!(app.events("source=posthog").await.len(), 12);
    assert!(app.events("source=segment").await.is_empty());
    let first = app.requests("limit=1").await[0]["id"].as_i64().unwrap();
    assert_eq!(names(app.events(&format!("request_id={first}")).await), ["ev11"]);

    let projects = app.api("/api/projects").await["projects"].clone();
    let mut counts: Vec<(String, i64)> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["project"].as_str().unwrap().to_owned(), p["events"].as_i64().unwrap()))
        .collect();
    counts.sort();
    assert_eq!(counts, [("phc_a".to_owned(), 9), ("phc_b".to_owned(), 3)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_filter_by_outcome_and_paginate() {
    let app = app();
    for i in 0..5 {
        capture(&app, "phc_r", &format!("ok{i}"), "u").await;
        app.post("/e/", &[], format!("bad {i}")).await;
    }
    let rejected = app.rejected().await;
    assert_eq!(rejected.len(), 5);
    assert!(rejected.iter().all(|r| r["outcome"] == "rejected" && r["status"] == 400));
    assert!(rejected.iter().all(|r| r["error"].as_str().unwrap().contains("not valid JSON")));
    assert_eq!(rejected[0]["body_preview"], "bad 4");
    let accepted = app.requests("outcome=accepted").await;
    assert_eq!(accepted.len(), 5);
    assert!(accepted.iter().all(|r| r["outcome"] == "accepted" && r["error"].is_null()));

    let page1 = app.api("/api/requests?limit=4").await;
    let cursor = page1["next_cursor"].as_i64().expect("more to come");
    let page2 = app.api(&format!("/api/requests?limit=4&cursor={cursor}")).await;
    let page3 = app.api(&format!("/api/requests?limit=4&cursor={}", page2["next_cursor"])).await;
    assert!(page3["next_cursor"].is_null());
    let ids: Vec<i64> = [&page1, &page2, &page3]
        .iter()
        .flat_map(|p| p["requests"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>())
        .collect();
    assert_eq!(ids.len(), 10);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_captures_are_all_answered_and_stored() {
    let app = std::sync::Arc::new(app());
    let mut handles = Vec::new();
    for i in 0..64 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let body = json!({"api_key": "phc_c", "batch": [{"event": "c", "distinct_id": format!("user-{i}")}]});
            app.post("/e/", &[], gzip(body.to_string().as_bytes())).await.status
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), StatusCode::OK);
    }
    let events = app.events("project=phc_c&limit=1000").await;
    assert_eq!(events.len(), 64);
    let mut ids: Vec<&str> = events.iter().map(|e| e["distinct_id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 64);
}

#[tokio::test(flavor = "multi_thread")]
async fn decisions_filter_by_outcome_and_refuse_unknown_ones() {
    let app = crate::common::app();
    let batch = serde_json::json!({"api_key": "phc_outcomes", "batch": [
        {"event": "$pageview", "distinct_id": "anon-1"},
        {"event": "$identify", "distinct_id": "user-1", "properties": {"$anon_distinct_id": "anon-1"}},
        {"event": "$pageview", "distinct_id": "user-2"},
        {"event": "$identify", "distinct_id": "user-2", "properties": {"$anon_distinct_id": "user-1"}},
    ]});
    assert_eq!(app.post_json("/batch/", &batch).await.status, StatusCode::OK);

    let all = app.api("/api/decisions?project=phc_outcomes").await["decisions"].as_array().unwrap().clone();
    assert!(all.len() >= 3, "{all:?}");
    let attached = app.api("/api/decisions?project=phc_outcomes&outcome=attached").await;
    let attached = attached["decisions"].as_array().unwrap();
    assert_eq!(attached.len(), 1, "{attached:?}");
    assert_eq!(attached[0]["target"], "user-1");
    let refused = app.api("/api/decisions?project=phc_outcomes&outcome=refused").await;
    let refused = refused["decisions"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["rule"], "source_already_identified");

    let error = api_error(&app, "/api/decisions?outcome=maybe", StatusCode::BAD_REQUEST).await;
    assert!(error.contains("outcome") && error.contains("maybe") && error.contains("refused"), "{error}");
}
