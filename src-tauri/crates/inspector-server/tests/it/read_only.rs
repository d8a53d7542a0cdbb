//! A read-only data dir: the server serves what is stored, `/api/health` carries a
//! `storage_read_only` notice naming the path and the OS error, capture answers 503
//! `storage_read_only`, and clearing answers 503 too. The store is opened with
//! `Store::open_read_only` (what `Store::open` does when the system refuses writes; that
//! decision is tested with real permissions in event-store's `tests/read_only.rs`).

use std::net::SocketAddr;

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use event_store::{ReadOnly, Store};
use inspector_server::{AppState, TOKEN_HEADER};
use serde_json::json;

fn read_only_app(dir: tempfile::TempDir, reason: &str) -> App {
    let why = ReadOnly { path: dir.path().to_owned(), reason: reason.into(), caveat: None };
    let store = Store::open_read_only(dir.path(), why).expect("read-only open");
    let state = AppState::new(store.clone(), SocketAddr::from(([127, 0, 0, 1], PORT)));
    App { dir, store, router: inspector_server::router(state) }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_data_dir_serves_what_is_stored_and_refuses_capture_with_503() {
    // Some traffic stored while the folder was writable.
    let writable = app();
    let batch = json!({"api_key": "phc_ro", "batch": [
        {"event": "$pageview", "distinct_id": "anon-1"},
        {"event": "$identify", "distinct_id": "user-1", "properties": {"$anon_distinct_id": "anon-1"}}
    ]});
    assert_eq!(writable.post_json("/batch/", &batch).await.status, StatusCode::OK);
    let App { dir, store, .. } = writable;
    store.close().await;
    drop(store);

    let app = read_only_app(dir, "Permission denied (os error 13)");
    let health = app.api("/api/health").await;
    assert_eq!(health["totals"]["events"], 2, "{health}");
    let notice = health["notices"].as_array().unwrap().iter().find(|n| n["code"] == "storage_read_only").cloned();
    let notice = notice.unwrap_or_else(|| panic!("a read-only notice: {health}"));
    let message = notice["message"].as_str().unwrap();
    assert!(message.contains(&app.dir.path().display().to_string()), "names the path: {message}");
    assert!(message.contains("Permission denied (os error 13)"), "names the OS error: {message}");
    assert_eq!(notice["level"], "warning");

    // Reads work: events, and the identity model fed from them.
    assert_eq!(app.events("limit=10").await.len(), 2);
    let mut persons = json!(null);
    for _ in 0..100 {
        persons = app.api("/api/persons?project=phc_ro").await;
        if persons.to_string().contains("user-1") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(persons.to_string().contains("anon-1"), "{persons}");

    // Capture: 503 naming the cause, and nothing stored (no rejected request either).
    let refused = app.post_json("/batch/", &batch).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text());
    let body = refused.json();
    assert_eq!(body["code"], "storage_read_only");
    assert!(body["detail"].as_str().unwrap().contains("read-only"), "{body}");
    let bad = app.post("/batch/", &[("content-type", "application/json")], "{not json").await;
    assert_eq!(bad.status, StatusCode::SERVICE_UNAVAILABLE, "a rejection cannot be stored either");
    assert_eq!(app.api("/api/health").await["totals"]["requests"], 1);
    // The per-request storage_failed notice is not raised: the read-only one says it all.
    let codes: Vec<_> =
        app.api("/api/health").await["notices"].as_array().unwrap().iter().map(|n| n["code"].clone()).collect();
    assert_eq!(codes, [json!("storage_read_only")]);

    // Clearing: 503 with the reason, not a 500.
    let token = app.api("/api/control").await["token"].as_str().unwrap().to_owned();
    let request =
        req("DELETE", "/api/data").header("host", HOST).header(TOKEN_HEADER, token).body(Body::empty()).unwrap();
    let cleared = app.send(request).await;
    assert_eq!(cleared.status, StatusCode::SERVICE_UNAVAILABLE, "{}", cleared.text());
    assert!(cleared.json()["error"].as_str().unwrap().contains("read-only"));
    assert_eq!(app.api("/api/health").await["totals"]["events"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_read_only_dir_gives_an_empty_inspector_with_the_notice() {
    let dir = tempfile::tempdir().unwrap();
    let app = read_only_app(dir, "Read-only file system (os error 30)");
    let health = app.api("/api/health").await;
    assert_eq!(health["totals"]["events"], 0);
    assert!(health["notices"].to_string().contains("Read-only file system (os error 30)"), "{health}");
    assert!(app.events("limit=10").await.is_empty());
    assert_eq!(app.get("/").await.status, StatusCode::OK, "the UI is served");
    let refused = app.post_json("/e/", &json!({"api_key": "phc_x", "event": "a", "distinct_id": "d"})).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(std::fs::read_dir(app.dir.path()).unwrap().next().is_none(), "nothing written");
}
