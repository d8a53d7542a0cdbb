//! A data dir whose path is not UTF-8 (possible on Linux: file names are bytes) works, and
//! `/api/health` names it lossily instead of failing.

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn health_answers_with_a_lossy_path_for_a_non_utf8_data_dir() {
    use std::ffi::OsStr;
    use std::net::SocketAddr;
    use std::os::unix::ffi::OsStrExt;

    use event_store::Store;
    use inspector_server::AppState;

    use crate::common::App;

    let parent = tempfile::tempdir().expect("temp dir");
    let data_dir = parent.path().join(OsStr::from_bytes(b"data-\xff\xfe"));
    let store = Store::open(&data_dir).expect("a store opens in a non-UTF-8 folder");
    let state = AppState::new(store.clone(), SocketAddr::from(([127, 0, 0, 1], crate::common::PORT)));
    let app = App { router: inspector_server::router(state), store, dir: parent };

    let resp = app.get("/api/health").await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.text());
    let database = resp.json()["database"].as_str().expect("the database path as text").to_owned();
    assert!(database.contains("data-\u{fffd}\u{fffd}") && database.ends_with(event_store::DB_FILE), "{database}");

    // And capture still works there.
    let resp = app.post_json("/e/", &serde_json::json!({"event": "x", "distinct_id": "u", "api_key": "phc_x"})).await;
    assert!(resp.status.is_success(), "{}", resp.text());
}
