//! Mixpanel honours `$merge` only when it is sent to `/import` (API reference "Merge
//! Identities", <https://developer.mixpanel.com/reference/identity-merge>). The route is the
//! stored request's path, read back with the event and handed to the engine: this follows it
//! from the store through `ingest::project_events` to an Original ID Merge model.

use event_store::{NewEvent, NewRequest, Store};
use identity_engine::{MixpanelIdMerge, Model, ProjectSettings, INSPECTOR_ROUTE};
use serde_json::json;

use crate::common::accepted_request;

fn merge(uuid: &str, ids: [&str; 2]) -> NewEvent {
    NewEvent {
        uuid: uuid.into(),
        project: "mpt".into(),
        source: "mixpanel".into(),
        event: "$merge".into(),
        distinct_id: String::new(),
        device_id: None,
        session_id: None,
        timestamp: 1_795_521_600_000_000,
        original_timestamp: None,
        sent_at: None,
        received_at: 1_795_521_600_000_000,
        properties: json!({"$distinct_ids": ids, "token": "mpt"}).to_string(),
        warnings: Vec::new(),
    }
}

fn mixpanel_request(path: &str) -> NewRequest {
    NewRequest { path: path.into(), source: Some("mixpanel".into()), ..accepted_request("mixpanel") }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_joins_clusters_only_when_its_request_went_to_import() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.write(mixpanel_request("/import"), vec![merge("m1", ["a", "b"])]).await.unwrap();
    store.write(mixpanel_request("/track"), vec![merge("m2", ["c", "d"])]).await.unwrap();

    let inputs = ingest::project_events(&store, "mpt").unwrap();
    let routes: Vec<_> = inputs.iter().map(|e| e.properties.get(INSPECTOR_ROUTE).cloned()).collect();
    assert_eq!(routes, [Some(json!("/import")), Some(json!("/track"))]);
    let stored = store.events_after(0, 10).unwrap();
    assert!(stored.iter().all(|e| !e.properties.contains(INSPECTOR_ROUTE)), "the route is never stored");

    let original = ProjectSettings { mixpanel_id_merge: MixpanelIdMerge::Original, ..Default::default() };
    let mut model = Model::with_settings([("mpt", original)]);
    for input in &inputs {
        model.apply(input).unwrap();
    }
    let engine = model.engine();
    let person = |id| engine.person_for("mpt", id).map(|p| p.id);
    assert!(person("a").is_some() && person("a") == person("b"), "the /import $merge joined a and b");
    assert!(person("c").is_none() || person("c") != person("d"), "the /track $merge joined nothing");
}
