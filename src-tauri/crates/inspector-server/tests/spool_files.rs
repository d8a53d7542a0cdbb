//! Uploads being imported and exports being downloaded are spooled to anonymous temporary files
//! (unlinked at creation): at no moment does the temporary folder hold a file that a killed
//! server would leave behind. Its own test binary: it points `TMPDIR` at a folder of its own.

#[path = "it/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Duration;

use axum::body::{Body, Bytes};
use common::*;
use serde_json::json;
use tower::ServiceExt;

/// What the temporary folder holds besides the test's own data folder.
fn leftovers(tmp: &Path, app: &App) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path() != app.dir.path())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_and_exports_leave_no_named_temporary_file() {
    let tmp = tempfile::tempdir().unwrap();
    // SAFETY: set before any thread of this test binary reads the environment (this is its only test).
    unsafe { std::env::set_var("TMPDIR", tmp.path()) };
    let app = app();
    let batch = json!({"api_key": "phc_spool", "batch": [{"event": "e", "distinct_id": "u", "properties": {}}]});
    assert!(app.post_json("/batch/", &batch).await.status.is_success());
    let token = app.api("/api/control").await["token"].as_str().unwrap().to_owned();

    // An upload that stalls halfway, as when the server is killed mid-import.
    let (chunks, body) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let request = req("POST", "/api/import?name=spooled")
        .header("host", HOST)
        .header("x-inspector-token", token)
        .body(Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(body)))
        .unwrap();
    let importing = tokio::spawn(app.router.clone().oneshot(request));
    chunks
        .send(Ok(Bytes::from_static(b"{\"event\":\"a\",\"distinct_id\":\"u1\",\"api_key\":\"phc_x\"}\n")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(leftovers(tmp.path(), &app), Vec::<String>::new(), "a named spool file during the upload");
    chunks
        .send(Ok(Bytes::from_static(b"{\"event\":\"b\",\"distinct_id\":\"u2\",\"api_key\":\"phc_x\"}\n")))
        .await
        .unwrap();
    drop(chunks);
    let response = tokio::time::timeout(Duration::from_secs(20), importing).await.unwrap().unwrap().unwrap();
    assert_eq!(response.status().as_u16(), 200);

    // A download held unread.
    let request = req("GET", "/api/export?format=bundle").header("host", HOST).body(Body::empty()).unwrap();
    let held = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(held.status().as_u16(), 200);
    assert_eq!(leftovers(tmp.path(), &app), Vec::<String>::new(), "a named spool file during the download");
    drop(held);
}
