//! Slow identity reads and lens calls never hold up capture: with two async workers (the
//! server's count on a two-core machine) and several lens and identity calls on a big person
//! running, a capture and `/api/health` still answer before the first lens call ends.
//! (They used to run on the async workers: four of them took both, and capture waited.)

use std::time::{Duration, Instant};

use crate::common::*;
use axum::http::StatusCode;
use event_store::NewEvent;
use serde_json::json;

const PROJECT: &str = "phc_mega";
/// Anonymous ids merged into one person: its lens takes seconds in a debug build.
const IDS: usize = 4_000;

fn event(i: usize, name: &str, distinct_id: &str, props: serde_json::Value) -> NewEvent {
    crate::common::stored_event(i, (PROJECT, "posthog"), name, distinct_id, None, props)
}

/// One user identified from `IDS` anonymous ids, with an alias every tenth id (so the vendors
/// disagree on many pairs and the lens has reasons to write).
fn mega_person() -> Vec<NewEvent> {
    let mut events = Vec::new();
    for i in 0..IDS {
        let anon = format!("anon-{i:06}");
        events.push(event(events.len(), "$pageview", &anon, json!({})));
        events.push(event(events.len(), "$identify", "mega-user", json!({"$anon_distinct_id": anon})));
        if i % 10 == 0 {
            events.push(event(events.len(), "$create_alias", &format!("other-{i}"), json!({"alias": "mega-user"})));
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_and_health_answer_while_lens_and_identity_reads_run() {
    let app = std::sync::Arc::new(app());
    for chunk in mega_person().chunks(2_000) {
        app.store.write(accepted_request("posthog"), chunk.to_vec()).await.unwrap();
    }
    // The model has caught up (a read waits for it).
    assert_eq!(app.api(&format!("/api/persons?project={PROJECT}&distinct_id=mega-user")).await["total"], 1);

    let started = Instant::now();
    let mut slow = Vec::new();
    for uri in [
        format!("/api/lens?project={PROJECT}"),
        format!("/api/lens?project={PROJECT}&compare={PROJECT}"),
        format!("/api/lens?project={PROJECT}"),
        format!("/api/lens?project={PROJECT}"),
        "/api/devices".to_owned(),
        "/api/persons?q=anon".to_owned(),
    ] {
        let app = app.clone();
        slow.push(tokio::spawn(async move {
            let resp = app.get(&uri).await;
            assert_eq!(resp.status, StatusCode::OK, "GET {uri}: {}", resp.text());
            started.elapsed()
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Each probe is its own task, as each connection is in the server.
    let probe = |uri: &'static str| {
        let app = app.clone();
        tokio::spawn(async move {
            let at = Instant::now();
            let resp = if uri == "/e/" {
                let body = json!({"api_key": "phc_live", "batch": [{"event": "$pageview", "distinct_id": "d1"}]});
                app.post_json(uri, &body).await
            } else {
                app.get(uri).await
            };
            assert_eq!(resp.status, StatusCode::OK, "{uri}: {}", resp.text());
            (at.elapsed(), started.elapsed())
        })
    };
    let (capture, health) = (probe("/e/"), probe("/api/health"));
    let (capture, health) = (capture.await.unwrap(), health.await.unwrap());

    let mut ends = Vec::new();
    for task in slow {
        ends.push(task.await.unwrap());
    }
    // The lens calls (the first four) take seconds; the model reads may be quick.
    let first_end = *ends[..4].iter().min().unwrap();
    for (what, (latency, done)) in [("capture", capture), ("/api/health", health)] {
        assert!(
            done < first_end && latency < Duration::from_secs(5),
            "{what} took {latency:?} (done at {done:?}); the slow calls ended at {ends:?}"
        );
    }
}
