//! The identity model catching up on a backlog of many read steps (the start-up rebuild):
//! read and decoded on a second thread, it must give exactly the model built by applying the
//! stored events one by one, and report the last stored seq as applied, the newest events
//! being another vendor's (the model takes every source; a project keeps its first source's rules).

use std::time::{Duration, Instant};

use crate::common::accepted_request;
use event_store::{NewEvent, Store};
use identity_engine::Model;
use ingest::to_input;
use inspector_server::Identity;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// More than `PIPELINE_BACKLOG` past the first step, so the reading thread is used.
const EVENTS: usize = 61_234;

fn event(i: usize, source: &str) -> NewEvent {
    let device = i % 700;
    let user = format!("user-{}", device % 300);
    let anon = format!("anon-{device}");
    let (name, distinct_id, props) = match i / 700 {
        0 => ("$pageview", anon.clone(), json!({"$device_id": format!("d{device}"), "$session_id": "s1"})),
        1 => (
            "$identify",
            user.clone(),
            json!({"$device_id": format!("d{device}"), "$anon_distinct_id": anon, "$set": {"n": i}}),
        ),
        _ => (
            "$pageview",
            user.clone(),
            json!({"$device_id": format!("d{device}"), "$session_id": format!("s{}", i / 2000)}),
        ),
    };
    crate::common::stored_event(i, ("phc_backlog", source), name, &distinct_id, Some(format!("d{device}")), props)
}

fn view(model: &Model) -> String {
    serde_json::to_string(&(
        model.engine().persons("phc_backlog"),
        model.engine().decisions(),
        model.devices(None),
        model.findings(None),
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_rebuilds_the_same_model_as_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(1_000) {
        store.write(accepted_request("posthog"), chunk.iter().map(|&i| event(i, "posthog")).collect()).await.unwrap();
    }
    // The newest events come from another vendor: the model applies them too and reaches their seq.
    store
        .write(accepted_request("segment"), (EVENTS..EVENTS + 3).map(|i| event(i, "segment")).collect())
        .await
        .unwrap();
    let last = store.last_seq().unwrap();

    let mut expected = Model::new();
    let mut after = 0;
    loop {
        let batch = store.events_after(after, 1_000).unwrap();
        let Some(end) = batch.last().map(|e| e.seq) else { break };
        batch.into_iter().for_each(|e| drop(expected.apply(&to_input(e)).unwrap()));
        after = end;
    }

    let shutdown = CancellationToken::new();
    let identity = Identity::start(store.clone(), shutdown.clone(), true);
    let started = Instant::now();
    while identity.applied_seq() < last {
        assert!(started.elapsed() < Duration::from_secs(30), "model stuck at {} of {last}", identity.applied_seq());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(identity.applied_seq(), last);
    let rebuilt = identity.read(view);
    assert!(rebuilt.contains("user-299") && rebuilt.len() > 100_000, "a real model: {} bytes", rebuilt.len());
    assert_eq!(rebuilt, view(&expected));
    shutdown.cancel();
    store.close().await;
}
