//! `DELETE /api/projects/{key}` (each test its own project key): one project's traffic and
//! identity model go, another project's events, requests, persons, lanes, decisions and findings
//! stay exactly as they were, capture goes on while it runs, and the project's next traffic is
//! processed as if it were the first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use inspector_server::{AppState, TOKEN_HEADER};
use serde_json::{json, Value};

async fn delete(app: &App, key: &str, token: Option<&str>) -> Resp {
    let mut b = req("DELETE", &format!("/api/projects/{key}")).header("host", HOST);
    if let Some(t) = token {
        b = b.header(TOKEN_HEADER, t);
    }
    app.send(b.body(Body::empty()).unwrap()).await
}

/// A day of one project's traffic: two browsers, a login on each (merges), a user id that looks
/// like a placeholder and an email used as an id (findings), a refused request and a flags call.
async fn traffic(app: &App, key: &str) {
    let at = |minute: u32| format!("2026-11-24T12:{minute:02}:00Z");
    let ev = |event: &str, id: &str, device: &str, minute: u32, props: Value| {
        let mut p = props;
        p["$device_id"] = json!(device);
        p["$session_id"] = json!(format!("s-{device}"));
        // Fixed uuids: a person's `$creator_event_uuid` is its first event's.
        let uuid = format!("01a24119-0000-7000-8000-{minute:012}");
        json!({"event": event, "distinct_id": id, "uuid": uuid, "timestamp": at(minute), "properties": p})
    };
    let batch = vec![
        ev("$pageview", "anon-1", "dev-1", 1, json!({})),
        ev("$identify", "ada@example.com", "dev-1", 2, json!({"$anon_distinct_id": "anon-1"})),
        ev("$pageview", "anon-2", "dev-2", 3, json!({})),
        ev("$identify", "null", "dev-2", 4, json!({"$anon_distinct_id": "anon-2"})),
        ev("$pageview", "null", "dev-2", 5, json!({})),
        ev("$identify", "user-2", "dev-2", 6, json!({"$anon_distinct_id": "anon-2"})),
    ];
    let resp = app.post_json("/batch/", &json!({"api_key": key, "batch": batch})).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let no_id = json!({"event": "no id", "properties": {"token": key}});
    assert_eq!(app.post("/e/", &[], gzip(no_id.to_string().as_bytes())).await.status, StatusCode::BAD_REQUEST);
    let flags = app.post("/flags/?v=2", &[], json!({"token": key, "distinct_id": "anon-1"}).to_string()).await;
    assert_eq!(flags.status, StatusCode::OK);
}

/// Everything the API says about one project, as the UI reads it.
async fn everything(app: &App, key: &str) -> Value {
    let mut out = json!({});
    for (name, uri) in [
        ("events", format!("/api/events?project={key}&limit=1000")),
        ("requests", format!("/api/requests?project={key}&limit=1000")),
        ("persons", format!("/api/persons?project={key}")),
        ("devices", format!("/api/devices?project={key}")),
        ("decisions", format!("/api/decisions?project={key}")),
        ("warnings", format!("/api/warnings?project={key}")),
    ] {
        out[name] = app.api(&uri).await;
    }
    out
}

/// What must come back the same when a deleted project's traffic is sent again: persons by
/// their ids and properties, lanes by their segments, findings by rule and ids (arrival numbers
/// and request ids differ).
async fn identity_shape(app: &App, key: &str) -> Value {
    let all = everything(app, key).await;
    let persons: Vec<Value> = all["persons"]["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!([p["id"], p["label"], p["distinct_ids"], p["is_identified"], p["properties"], p["flags"]]))
        .collect();
    let lanes: Vec<Value> = all["devices"]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let segments: Vec<Value> =
                l["segments"].as_array().unwrap().iter().map(|s| json!([s["distinct_id"], s["event_count"]])).collect();
            json!([l["id"], segments])
        })
        .collect();
    let findings: Vec<Value> = all["warnings"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| json!([f["rule"], f["distinct_ids"], f["device_ids"]]))
        .collect();
    json!({"persons": persons, "lanes": lanes, "findings": findings})
}

fn projects(list: &Value) -> Vec<String> {
    list["projects"].as_array().unwrap().iter().map(|p| p["project"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_one_project_leaves_another_identical_and_the_deleted_one_as_if_never_seen() {
    let (app, state) = app_and_state();
    traffic(&app, "phc_gone").await;
    traffic(&app, "phc_kept").await;
    let kept = everything(&app, "phc_kept").await;
    let gone_shape = identity_shape(&app, "phc_gone").await;
    assert_eq!(gone_shape["persons"].as_array().unwrap().len(), 3, "{gone_shape}");
    assert!(!gone_shape["findings"].as_array().unwrap().is_empty(), "the traffic must make findings: {gone_shape}");
    let rebuilds = state.identity.rebuilds();

    let resp = delete(&app, "phc_gone", Some(state.control.token())).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let body = resp.json();
    assert_eq!(body["project"], "phc_gone");
    assert_eq!(body["removed"], json!({"events": 6, "requests": 3}), "a batch, a refusal, a flags call");
    assert_eq!(body["identity"]["persons"], 3, "{body}");
    assert_eq!(body["identity"]["lanes"], 2, "{body}");
    assert!(body["identity"]["decisions"].as_u64().unwrap() >= 2, "{body}");
    assert!(body["identity"]["findings"].as_u64().unwrap() >= 1, "{body}");
    assert_eq!(body["settings_kept"], false);
    assert_eq!(state.identity.rebuilds(), rebuilds, "the project is dropped, not the model rebuilt");

    assert_eq!(everything(&app, "phc_kept").await, kept, "the other project is exactly as it was");
    let gone = everything(&app, "phc_gone").await;
    for (list, key) in [
        ("events", "events"),
        ("persons", "persons"),
        ("devices", "devices"),
        ("decisions", "decisions"),
        ("warnings", "warnings"),
    ] {
        assert_eq!(gone[list][key], json!([]), "{list} of the deleted project: {}", gone[list]);
    }
    let attributed: Vec<&Value> =
        gone["requests"]["requests"].as_array().unwrap().iter().filter(|r| r["project"] == "phc_gone").collect();
    assert!(attributed.is_empty(), "{attributed:?}");
    assert_eq!(projects(&app.api("/api/projects").await), ["phc_kept"]);
    let health = app.api("/api/health").await;
    assert_eq!(health["totals"]["events"], 6);

    // The same traffic again: the same persons, lanes and findings, as for a key never seen.
    traffic(&app, "phc_gone").await;
    assert_eq!(identity_shape(&app, "phc_gone").await, gone_shape);
    assert_eq!(everything(&app, "phc_kept").await, kept);
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_needs_the_token_and_a_known_live_project() {
    let (app, state) = app_and_state();
    traffic(&app, "phc_a").await;
    let before = everything(&app, "phc_a").await;
    for token in [None, Some("not-the-token")] {
        let resp = delete(&app, "phc_a", token).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{token:?}: {}", resp.text());
        assert_eq!(resp.json()["code"], "bad_token");
    }
    assert_eq!(everything(&app, "phc_a").await, before, "nothing was deleted");

    let unknown = delete(&app, "phc_never", Some(state.control.token())).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());
    let body = unknown.json();
    assert_eq!((body["code"].as_str(), body["parameter"].as_str()), (Some("not_found"), Some("key")));
    assert!(body["error"].as_str().unwrap().contains("phc_never"), "{body}");

    let imported = delete(&app, "import:bug-1%2Fphc_a", Some(state.control.token())).await;
    assert_eq!(imported.status, StatusCode::BAD_REQUEST, "{}", imported.text());
    assert_eq!(imported.json()["parameter"], "key");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_projects_settings_stay() {
    let (app, state) = app_and_state();
    let put = req("PUT", "/api/projects/mp_kept/settings")
        .header("host", HOST)
        .header(TOKEN_HEADER, state.control.token())
        .header("content-type", "application/json")
        .body(Body::from(json!({"mixpanel_id_merge": "original"}).to_string()))
        .unwrap();
    assert_eq!(app.send(put).await.status, StatusCode::OK);
    traffic(&app, "mp_kept").await;
    let body = delete(&app, "mp_kept", Some(state.control.token())).await.json();
    assert_eq!(body["settings_kept"], true, "{body}");
    let settings = app.api("/api/projects/mp_kept/settings").await;
    assert_eq!(settings["settings"]["mixpanel_id_merge"], "original");
}

/// One acknowledged batch of `capture_loop`: its uuids and when the answer came.
struct Acked {
    uuids: Vec<String>,
    at: Instant,
}

/// Posts `n` batches of 5 events for `key`, each with its own uuids; returns the acknowledged
/// batches and the slowest acknowledgement.
async fn capture_loop(app: Arc<App>, key: &'static str, n: usize) -> (Vec<Acked>, Duration) {
    capture_until(app, key, n, None).await
}

/// Like [`capture_loop`], but sends at least `n` batches and goes on until `done` is set, then 20
/// more: the test needs batches after the deletion answered however long it takes (a slow CI
/// machine took longer than 300 batches).
async fn capture_until(
    app: Arc<App>,
    key: &'static str,
    n: usize,
    done: Option<Arc<std::sync::atomic::AtomicBool>>,
) -> (Vec<Acked>, Duration) {
    let mut acknowledged = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut after_done = 0;
    for i in 0.. {
        let finished = match &done {
            None => i >= n,
            Some(done) => {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    after_done += 1;
                }
                (i >= n && after_done > 20) || i >= 9_999
            }
        };
        if finished {
            break;
        }
        let uuids: Vec<String> =
            (0..5).map(|j| format!("00000000-0000-7000-8000-{:04}{i:04}{j:04}", key.len())).collect();
        let batch: Vec<Value> = uuids
            .iter()
            .map(|u| {
                let props = json!({"$device_id": format!("d{}", i % 3)});
                json!({"event": "tick", "distinct_id": format!("u{}", i % 7), "uuid": u, "properties": props})
            })
            .collect();
        let started = Instant::now();
        let resp = app.post_json("/batch/", &json!({"api_key": key, "batch": batch})).await;
        slowest = slowest.max(started.elapsed());
        if resp.status == StatusCode::OK {
            acknowledged.push(Acked { uuids, at: Instant::now() });
        }
    }
    (acknowledged, slowest)
}

/// How many events of `key` the identity model applied: every event lands in one lane.
async fn events_in_lanes(app: &App, key: &str) -> u64 {
    let devices = app.api(&format!("/api/devices?project={key}")).await;
    devices["devices"].as_array().unwrap().iter().map(|l| l["event_count"].as_u64().unwrap()).sum()
}

async fn stored_uuids(app: &App, key: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.api(&format!("/api/events?project={key}&limit=1000{cursor}")).await;
        all.extend(page["events"].as_array().unwrap().iter().map(|e| e["uuid"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_i64() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return all,
        }
    }
}

/// A big project is deleted while another project (and the deleted one itself) keep sending:
/// every acknowledged event of the other project is kept, the deleted project keeps exactly
/// what arrived after the deletion started, and the identity model agrees with the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_while_capture_runs_loses_nothing_acknowledged() {
    let (app, state) = app_and_state();
    let state: AppState = state;
    // 40 000 events of the project to delete, written straight to the store (fast), in requests
    // of 40: eight chunks of deletion.
    for r in 0..1_000 {
        let events = (0..40)
            .map(|j| {
                let i = r * 40 + j;
                stored_event(i, ("phc_big", "posthog"), "tick", &format!("u{}", i % 50), None, json!({}))
            })
            .collect();
        app.store.write(accepted_request("posthog"), events).await.unwrap();
    }
    app.api("/api/persons?project=phc_big&limit=1").await; // the model has applied them
    let app = Arc::new(app);

    let others = tokio::spawn(capture_loop(app.clone(), "phc_other", 300));
    let answered_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let same = tokio::spawn(capture_until(app.clone(), "phc_big", 300, Some(answered_flag.clone())));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let resp = delete(&app, "phc_big", Some(state.control.token())).await;
    let answered = Instant::now();
    answered_flag.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let (other_acked, other_slowest) = others.await.unwrap();
    let (same_acked, _) = same.await.unwrap();
    let removed = resp.json()["removed"]["events"].as_u64().unwrap();
    eprintln!(
        "deleted {removed} events in {:?}; slowest capture of another project meanwhile: {other_slowest:?}",
        answered - started
    );
    assert!(
        other_acked.iter().any(|a| a.at > started && a.at < answered),
        "capture of the other project must have gone on during the deletion, or this test shows nothing"
    );

    let mut stored = stored_uuids(&app, "phc_other").await;
    stored.sort();
    let mut acked: Vec<String> = other_acked.iter().flat_map(|a| a.uuids.clone()).collect();
    acked.sort();
    assert_eq!(acked.len(), 1_500);
    assert_eq!(stored, acked, "every acknowledged event of the other project is stored, once");
    assert!(other_slowest < Duration::from_secs(5), "capture waited {other_slowest:?} behind the deletion");

    // The deleted project: its 40 000 stored events went, with whatever of its own capture was
    // committed before the deletion started; what it acknowledged after the answer stays.
    let left = stored_uuids(&app, "phc_big").await;
    let same_uuids: Vec<&String> = same_acked.iter().flat_map(|a| &a.uuids).collect();
    assert!(left.iter().all(|u| same_uuids.contains(&u)), "only events sent during the deletion are left");
    let after: Vec<&String> = same_acked.iter().filter(|a| a.at > answered).flat_map(|a| &a.uuids).collect();
    assert!(!after.is_empty(), "the project must have sent after the deletion, or this test shows less");
    assert!(after.iter().all(|u| left.contains(u)), "what came after the deletion stays");
    assert_eq!(removed as usize + left.len(), 40_000 + same_uuids.len(), "each event deleted or kept, once");
    // The model agrees with the store, for both projects.
    assert_eq!(events_in_lanes(&app, "phc_big").await, left.len() as u64);
    assert_eq!(events_in_lanes(&app, "phc_other").await, 1_500);
}
