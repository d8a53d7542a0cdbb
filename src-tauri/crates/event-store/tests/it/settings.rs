//! Per-project identity settings: stored through the writer, announced, kept by a clear.

use event_store::{Change, Store};

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn settings_round_trip_before_any_event_and_are_announced() {
    let (_dir, store) = open();
    assert_eq!(store.project_settings_of("phc_new").unwrap(), None);
    let mut changes = store.subscribe();
    let before = store.settings_writes();
    blocking(&store, |s| s.set_project_settings("phc_new", r#"{"mixpanel_id_merge":"original"}"#)).await.unwrap();
    assert_eq!(store.settings_writes(), before + 1, "a write bumps the counter readers rebuild on");
    match changes.recv().await.unwrap() {
        Change::Settings { project } => assert_eq!(project, "phc_new"),
        other => panic!("expected a settings announcement, got {other:?}"),
    }
    let stored = store.project_settings_of("phc_new").unwrap().expect("configured before its first event");
    assert_eq!(stored.settings, r#"{"mixpanel_id_merge":"original"}"#);
    // A second write replaces the first: one row per key.
    blocking(&store, |s| s.set_project_settings("phc_new", r#"{"segment_blocked_values":true}"#)).await.unwrap();
    let all = store.project_settings().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].settings, r#"{"segment_blocked_values":true}"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn clear_keeps_live_settings_and_drops_imported_ones() {
    let (dir, store) = open();
    write_many(&store, "e", 2).await;
    blocking(&store, |s| s.set_project_settings("live_key", "{}")).await.unwrap();
    blocking(&store, |s| s.set_project_settings("import:bug/live_key", "{}")).await.unwrap();
    blocking(&store, |s| s.clear_all()).await.unwrap();
    let keys: Vec<String> = store.project_settings().unwrap().into_iter().map(|s| s.project).collect();
    assert_eq!(keys, ["live_key"], "the user's chosen mode survives a clear; a gone data set's does not");
    store.close().await;
    drop(store);
    // And a restart.
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(reopened.project_settings().unwrap().len(), 1);
}

/// Runs a blocking store call the way the server does.
async fn blocking<T: Send + 'static>(store: &Store, f: impl FnOnce(&Store) -> T + Send + 'static) -> T {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.unwrap()
}
