//! A download that stops reading holds no pooled reader and no read transaction: other `/api`
//! reads and capture keep answering, and the WAL keeps being checkpointed.

use std::time::Duration;

use axum::body::Body;
use serde_json::json;
use tower::ServiceExt;

use crate::common::*;

/// Unread downloads held at once: more than the reader pool's eight connections.
const HELD: usize = 10;

/// Posts `batches` batches of 100 events of about 1 KB each (about 100 KB per batch).
async fn capture(app: &App, round: usize, batches: usize) {
    let filler = "x".repeat(1000);
    for b in 0..batches {
        let batch: Vec<_> = (0..100)
            .map(|i| json!({"event": "e", "distinct_id": format!("u-{round}-{b}-{i}"), "properties": {"filler": filler}}))
            .collect();
        let resp = app.post_json("/batch/", &json!({"api_key": "phc_held", "batch": batch})).await;
        assert!(resp.status.is_success(), "{}", resp.text());
    }
}

fn wal_len(app: &App) -> u64 {
    let wal = std::fs::read_dir(app.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with("-wal"))
        .expect("a WAL file");
    wal.metadata().unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn unread_downloads_hold_no_reader_nor_the_wal() {
    let app = app();
    // About 3 MB of NDJSON: far more than a response's buffers hold before it waits on the client.
    capture(&app, 0, 30).await;

    let mut held = Vec::new();
    for _ in 0..HELD {
        let request = req("GET", "/api/export?format=ndjson").header("host", HOST).body(Body::empty()).unwrap();
        let response = tokio::time::timeout(Duration::from_secs(20), app.router.clone().oneshot(request))
            .await
            .expect("the export answers")
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        // Never read: the client stopped reading.
        held.push(response);
    }

    // Every other read still gets a pooled connection (the pool waits 30 s before failing).
    for _ in 0..3 {
        let events = tokio::time::timeout(Duration::from_secs(10), app.api("/api/events?limit=1"))
            .await
            .expect("/api/events answers while downloads are held");
        assert_eq!(events["events"].as_array().unwrap().len(), 1);
    }
    tokio::time::timeout(Duration::from_secs(10), app.api("/api/datasets")).await.expect("/api/datasets answers");

    // Capture goes on, and the checkpointer can restart the WAL: it does not grow with every write.
    tokio::time::sleep(Duration::from_millis(800)).await;
    capture(&app, 1, 10).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let settled = wal_len(&app);
    for round in 2..8 {
        capture(&app, round, 10).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    let after = wal_len(&app);
    assert!(after <= settled + (2 << 20), "the WAL grew from {settled} to {after} bytes while downloads were held");
    drop(held);
}
