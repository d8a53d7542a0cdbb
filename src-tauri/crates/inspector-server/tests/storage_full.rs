//! A full disk (reproduced by capping the database's size): capture answers 503 with the cause
//! instead of crashing, the UI gets a notice, everything stored stays readable, and the server
//! keeps answering. Its own test binary: the cap is a process-wide environment variable.

#[path = "it/common/mod.rs"]
mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

fn batch(n: usize) -> Value {
    let events: Vec<Value> = (0..50)
        .map(|i| json!({"event": "$pageview", "distinct_id": format!("user-{n}"), "properties": {"blob": "x".repeat(400), "i": i}}))
        .collect();
    json!({"api_key": "phc_full", "batch": events})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_answers_503_keeps_what_is_stored_and_says_so() {
    // SAFETY: set before any thread of this test binary reads the environment (this is its only test).
    unsafe { std::env::set_var(event_store::MAX_PAGES_VAR, "120") };
    let app = app();

    let mut stored = 0;
    let mut refused = None;
    for n in 0..200 {
        let resp = app.post_json("/batch/", &batch(n)).await;
        if resp.status == StatusCode::OK {
            stored += 50;
            continue;
        }
        refused = Some(resp);
        break;
    }
    let refused = refused.expect("a capped database fills up");
    assert!(stored > 0, "some batches fit before the disk filled");
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text());
    let body = refused.json();
    assert_eq!(body["code"], "storage_failed");
    assert!(body["detail"].as_str().unwrap().contains("full"), "{body}");

    // Still serving: what was stored reads fine, and the health says why new traffic is refused.
    let health = app.api("/api/health").await;
    assert_eq!(health["totals"]["events"], stored);
    let notice = health["notices"].as_array().unwrap().iter().find(|n| n["code"] == "storage_failed").cloned();
    let notice = notice.unwrap_or_else(|| panic!("a storage notice: {health}"));
    assert!(notice["message"].as_str().unwrap().contains("full"), "{notice}");
    assert_eq!(app.events("limit=5").await.len(), 5);
    let again = app.post_json("/batch/", &batch(999)).await;
    assert_eq!(again.status, StatusCode::SERVICE_UNAVAILABLE);
}
