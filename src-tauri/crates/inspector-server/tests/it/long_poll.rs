//! `wait` and `min` on list reads: a read answers as soon as `min` items match its filter, or
//! when the wait ends with what there is (saying so in `waited`), holds no thread meanwhile,
//! and refuses a bad `wait` or `min` naming the parameter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

async fn capture(app: &App, key: &str, events: &[(&str, &str)]) {
    let batch: Vec<Value> = events.iter().map(|(e, id)| json!({"event": e, "distinct_id": id})).collect();
    let resp = app.post_json("/batch/", &json!({"api_key": key, "batch": batch})).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
}

/// Starts `GET uri` in the background; resolves to the answer and how long it took.
fn start(app: &Arc<App>, uri: &str) -> tokio::task::JoinHandle<(Resp, Duration)> {
    let (app, uri) = (app.clone(), uri.to_owned());
    tokio::spawn(async move {
        let started = Instant::now();
        let resp = app.get(&uri).await;
        (resp, started.elapsed())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waiting_read_answers_as_soon_as_enough_events_match() {
    let app = Arc::new(app());
    capture(&app, "phc_wait", &[("before", "u1")]).await;
    let waiting = start(&app, "/api/events?project=phc_wait&event=tick&wait=10s&min=3");
    tokio::time::sleep(Duration::from_millis(300)).await;
    capture(&app, "phc_wait", &[("tick", "u1")]).await;
    // Another project's and another event's traffic wake nothing the filter matches.
    capture(&app, "phc_other", &[("tick", "u9"), ("tick", "u9"), ("tick", "u9")]).await;
    capture(&app, "phc_wait", &[("other", "u1")]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished(), "one matching event is not three");
    capture(&app, "phc_wait", &[("tick", "u2"), ("tick", "u3")]).await;

    let (resp, took) = waiting.await.unwrap();
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let page = resp.json();
    let ids: Vec<&str> =
        page["events"].as_array().unwrap().iter().map(|e| e["distinct_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["u3", "u2", "u1"]);
    assert_eq!(page["waited"]["timed_out"], false);
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(5), "answered after {took:?}");
    assert!(page["waited"]["ms"].as_u64().unwrap() >= 400, "{}", page["waited"]);
    assert_eq!(page["persons"].as_object().unwrap().len(), 3, "the events come with their persons: {page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_that_ends_answers_what_there_is_and_says_so() {
    let app = app();
    capture(&app, "phc_short", &[("tick", "u1"), ("tick", "u2")]).await;
    let started = Instant::now();
    let page = app.api("/api/events?project=phc_short&wait=300ms&min=5").await;
    let took = started.elapsed();
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    assert_eq!(page["waited"]["timed_out"], true);
    assert!(took >= Duration::from_millis(300), "answered after {took:?}");
    // Enough already: no wait at all. And a plain read says nothing about waiting.
    let page = app.api("/api/events?project=phc_short&wait=10s&min=2").await;
    assert_eq!(page["waited"]["timed_out"], false);
    assert!(page["waited"]["ms"].as_u64().unwrap() < 1_000);
    assert!(app.api("/api/events?project=phc_short").await.get("waited").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_waits_are_refused_naming_the_parameter() {
    let app = app();
    for (query, parameter) in [
        ("wait=abc", "wait"),
        ("wait=-1", "wait"),
        ("wait=61s", "wait"),
        ("wait=5h", "wait"),
        ("wait=5s&min=0", "min"),
        ("wait=5s&min=x", "min"),
        ("min=3", "min"),
        ("wait=5s&min=101", "min"),
        ("wait=5s&limit=10&min=11", "min"),
    ] {
        let resp = app.get(&format!("/api/events?{query}")).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{query}: {}", resp.text());
        let body = resp.json();
        assert_eq!(body["code"], "invalid_parameter", "{query}: {body}");
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
    }
    for uri in ["/api/persons?wait=abc", "/api/warnings?wait=-1", "/api/decisions?min=2"] {
        assert_eq!(app.get(uri).await.status, StatusCode::BAD_REQUEST, "{uri}");
    }
}

/// More waiting reads than the server has threads for reads: none of them holds one, so a
/// plain read still answers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_reads_hold_no_thread() {
    let app = Arc::new(app());
    capture(&app, "phc_busy", &[("tick", "u1")]).await;
    let waiting: Vec<_> = (0..64).map(|i| start(&app, &format!("/api/events?project=nobody-{i}&wait=3s"))).collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let page = app.api("/api/events?project=phc_busy").await;
    let took = started.elapsed();
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    assert!(took < Duration::from_secs(1), "a plain read took {took:?} beside 64 waiting ones");
    for w in waiting {
        let (resp, took) = w.await.unwrap();
        assert_eq!(resp.json()["waited"]["timed_out"], true);
        assert!(took >= Duration::from_secs(3));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn persons_and_warnings_wait_for_the_identity_model() {
    let app = Arc::new(app());
    let persons = start(&app, "/api/persons?project=phc_id&wait=10s&min=2");
    let warnings = start(&app, "/api/warnings?project=phc_id&rules=generic_distinct_id&wait=10s");
    tokio::time::sleep(Duration::from_millis(200)).await;
    capture(&app, "phc_id", &[("$pageview", "anon-1")]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!persons.is_finished(), "one person is not two");
    capture(&app, "phc_id", &[("$pageview", "null")]).await;

    let (resp, took) = persons.await.unwrap();
    let page = resp.json();
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["waited"]["timed_out"], false);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let (resp, took) = warnings.await.unwrap();
    let page = resp.json();
    assert_eq!(page["warnings"][0]["distinct_ids"], json!(["null"]), "{page}");
    assert_eq!(page["waited"]["timed_out"], false);
    assert!(took < Duration::from_secs(5), "{took:?}");
}
