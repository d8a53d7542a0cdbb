//! Fault injection: rules set through `/api/faults` (token), capture answering like a failing
//! vendor (PostHog's own 503/429/413 text, `Retry-After`, Capture V1 `retry`, a slow answer, a
//! dropped connection), faulted requests stored with what was answered and their events kept
//! apart, retries of one uuid told as one delivery, and a lost identify as a finding.

use std::time::{Duration, Instant};

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use inspector_server::{AppState, BoundServer, TOKEN_HEADER};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Faults {
    app: App,
    state: AppState,
}

/// A valid event uuid (PostHog refuses others) that reads as its label `n`.
fn id(n: u32) -> String {
    format!("01950000-0000-7000-8000-{n:012}")
}

fn faults() -> Faults {
    let (app, state) = app_and_state();
    Faults { app, state }
}

impl Faults {
    async fn call(&self, method: &str, uri: &str, token: bool, body: Option<&str>) -> Resp {
        let mut b = req(method, uri).header("host", HOST).header("content-type", "application/json");
        if token {
            b = b.header(TOKEN_HEADER, self.state.control.token());
        }
        self.app.send(b.body(body.map(|b| Body::from(b.to_owned())).unwrap_or_else(Body::empty)).unwrap()).await
    }

    /// Puts a rule in force; it must be accepted.
    async fn rule(&self, body: Value) -> Value {
        let resp = self.call("POST", "/api/faults", true, Some(&body.to_string())).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{body}: {}", resp.text());
        resp.json()["rule"].clone()
    }

    /// A posthog-node batch (`/batch/`) of events with these uuids and names.
    async fn batch(&self, events: &[(String, &str, Value)]) -> Resp {
        let batch: Vec<Value> = events
            .iter()
            .map(|(uuid, name, props)| json!({"event": name, "uuid": uuid, "distinct_id": "user-1", "properties": props}))
            .collect();
        self.app.post_json("/batch/", &json!({"api_key": "phc_faults", "batch": batch})).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_need_the_token_and_impossible_ones_are_refused_with_a_reason() {
    let f = faults();
    let no_token = f.call("POST", "/api/faults", false, Some(r#"{"source":"posthog","status":503}"#)).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    for (body, says) in [
        (r#"{"source":"posthog","status":503,"share":1.5}"#, "share must be between 0 and 1"),
        (r#"{"source":"posthog","status":200}"#, "status 200 is not a fault"),
        (r#"{"route":"/nowhere","status":503}"#, "no capture route starts with \"/nowhere\""),
        (r#"{"source":"posthog","stauts":503}"#, "unknown field `stauts`"),
        (r#"{"source":"posthog","status":503,"drop":true}"#, "status and drop cannot both apply"),
        (r#"{"source":"posthog","status":500,"retry_after":3}"#, "retry_after goes with status 429 or 503"),
        (r#"{"source":"segment","v1_retry":true}"#, "v1_retry answers Capture V1"),
        (r#"{"rule":"posthog:503:count=0"}"#, "count must be at least 1"),
        (r#""posthog:teapot""#, "\"teapot\" is not part of a fault rule"),
        ("", "the body is empty"),
        ("[1]", "expected a fault rule"),
    ] {
        let resp = f.call("POST", "/api/faults", true, Some(body)).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{body}: {}", resp.text());
        let error = resp.json();
        assert_eq!(error["code"], "invalid_body");
        assert!(error["error"].as_str().unwrap().contains(says), "{body}: {error}");
    }
    assert_eq!(f.app.api("/api/faults").await, json!({"active": 0, "rules": []}), "nothing was put in force");
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_are_listed_counted_and_removed() {
    let f = faults();
    let a = f.rule(json!({"source": "posthog", "status": 503, "count": 3})).await;
    assert_eq!(a["text"], "source=posthog,status=503,count=3");
    assert_eq!(a["description"], "Answer 503 to PostHog capture requests (the next 3)");
    assert_eq!((a["state"].as_str(), a["remaining"].as_u64()), (Some("active"), Some(3)));
    assert_eq!(a["effect"]["answer"], json!({"kind": "status", "status": 503, "retry_after": null}));
    let b = f.rule(json!({"rule": "route=/v1/batch,status=429,retry_after=2,share=0.5"})).await;
    assert_eq!(b["match"]["route"], "/v1/batch");
    assert_eq!(f.app.api("/api/health").await["faults"], 2, "health says faults are on");

    let listed = f.app.api("/api/faults").await;
    assert_eq!(listed["active"], 2);
    assert_eq!(listed["rules"].as_array().unwrap().len(), 2);

    assert_eq!(f.call("DELETE", &format!("/api/faults/{}", a["id"]), false, None).await.status, StatusCode::FORBIDDEN);
    let removed = f.call("DELETE", &format!("/api/faults/{}", a["id"]), true, None).await;
    assert_eq!((removed.status, removed.json()["rule"]["id"].clone()), (StatusCode::OK, a["id"].clone()));
    let missing = f.call("DELETE", "/api/faults/99", true, None).await;
    assert_eq!((missing.status, missing.json()["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
    let cleared = f.call("DELETE", "/api/faults", true, None).await;
    assert_eq!(cleared.json(), json!({"removed": 1}));
    assert_eq!(f.app.api("/api/health").await["faults"], 0);
}

/// `@posthog/core` retries a batch on 5xx and 429 (`isPostHogFetchRetryableError` in
/// `packages/core/src/posthog-core-stateless.ts` of PostHog/posthog-js): each copy is stored
/// with what it was answered, the events once, when a copy gets through.
#[tokio::test(flavor = "multi_thread")]
async fn a_503_then_429_then_success_is_one_delivery_stored_once() {
    let f = faults();
    f.rule(json!({"rule": "posthog:503:count=1"})).await;
    f.rule(json!({"rule": "posthog:429:retry_after=2:count=1"})).await;
    let events = [(id(1), "$pageview", json!({})), (id(2), "clicked", json!({}))];

    let first = f.batch(&events).await;
    assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.text(), "transient error, please retry", "PostHog capture's own words (rust/capture/src/api.rs)");
    assert_eq!(first.header("x-inspector-fault"), Some("1"));
    assert!(f.app.events("project=phc_faults").await.is_empty(), "a faulted request stores no event");

    let second = f.batch(&events).await;
    assert_eq!((second.status, second.text().as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate limited"));
    assert_eq!(second.header("retry-after"), Some("2"));

    let third = f.batch(&events).await;
    assert_eq!(third.status, StatusCode::OK);
    assert_eq!(third.header("x-inspector-fault"), None);
    assert_eq!(f.app.events("project=phc_faults").await.len(), 2, "stored once");

    let requests = f.app.requests("project=phc_faults").await;
    let outcomes: Vec<(&str, u64)> =
        requests.iter().map(|r| (r["outcome"].as_str().unwrap(), r["status"].as_u64().unwrap())).collect();
    assert_eq!(outcomes, [("accepted", 200), ("faulted", 429), ("faulted", 503)]);
    assert_eq!(
        requests[2]["error"], "answered 503 by fault rule #1 (source=posthog,status=503,count=1)",
        "which rule, what was answered"
    );
    assert_eq!(
        requests[1]["error"],
        "answered 429 with Retry-After: 2 by fault rule #2 (source=posthog,status=429,retry_after=2,count=1)"
    );
    assert_eq!((requests[2]["event_count"].as_u64(), requests[2]["error_code"].as_str()), (Some(2), Some("fault")));
    assert_eq!(f.app.api("/api/health").await["totals"]["faulted"], 2);

    let deliveries = f.app.api("/api/deliveries?project=phc_faults").await["deliveries"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 2);
    for d in &deliveries {
        assert_eq!(
            (d["summary"].as_str(), d["state"].as_str()),
            (Some("sent 3 times, stored once"), Some("delivered"))
        );
        let statuses: Vec<u64> =
            d["attempts"].as_array().unwrap().iter().map(|a| a["status"].as_u64().unwrap()).collect();
        assert_eq!(statuses, [503, 429, 200]);
    }
    let detail = f.app.api(&format!("/api/requests/{}", requests[2]["id"])).await;
    assert_eq!(detail["request"]["event_uuids"], json!([id(1), id(2)]), "the events the faulted request carried");
    assert_eq!(detail["deliveries"][0]["summary"], "sent 3 times, stored once");
    let event = f.app.api(&format!("/api/events/{}", id(1))).await;
    assert_eq!(event["delivery"]["stored"], 1);
    let lost = f.app.api("/api/deliveries?state=lost").await;
    assert_eq!(lost["deliveries"], json!([]));
    let bad = f.app.get("/api/deliveries?state=gone").await;
    assert_eq!((bad.status, bad.json()["parameter"].clone()), (StatusCode::BAD_REQUEST, json!("state")));
}

/// `@posthog/core` halves its batch on any 413 (`_flushRoute` in posthog-core-stateless.ts).
#[tokio::test(flavor = "multi_thread")]
async fn a_413_is_posthogs_and_the_halves_are_told_apart() {
    let f = faults();
    f.rule(json!({"source": "posthog", "status": 413, "count": 1})).await;
    let four: Vec<(String, &str, Value)> = (1..=4).map(|i| (id(i), "x", json!({}))).collect();
    let refused = f.batch(&four).await;
    assert_eq!(
        (refused.status, refused.text().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "maximum event size exceeded")
    );
    assert_eq!(f.batch(&four[..2]).await.status, StatusCode::OK);
    assert_eq!(f.batch(&four[2..]).await.status, StatusCode::OK);
    let deliveries = f.app.api("/api/deliveries").await["deliveries"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 4);
    assert!(deliveries.iter().all(|d| d["summary"] == "sent twice, stored once"), "{deliveries:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn family_rules_leave_other_vendors_flags_and_projects_alone() {
    let f = faults();
    f.rule(json!({"source": "segment", "status": 500})).await;
    f.rule(json!({"source": "posthog", "project": "phc_other", "status": 502})).await;
    assert_eq!(f.batch(&[(id(1), "x", json!({}))]).await.status, StatusCode::OK, "another project");
    let flags = f.app.post_json("/flags/?v=2", &json!({"token": "phc_faults", "distinct_id": "u"})).await;
    assert_eq!(flags.status, StatusCode::OK);
    let segment = f
        .app
        .post_json(
            "/v1/batch",
            &json!({"writeKey": "wk", "batch": [{"type": "track", "event": "x", "userId": "u", "messageId": "m-1"}]}),
        )
        .await;
    assert_eq!(segment.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(segment.json()["code"], "invalid_request", "Segment's error shape");
    // A route rule reaches what a family rule leaves alone.
    f.rule(json!({"route": "/flags", "status": 503, "count": 1})).await;
    let flags = f.app.post_json("/flags/?v=2", &json!({"token": "phc_faults", "distinct_id": "u"})).await;
    assert_eq!(flags.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread")]
async fn capture_v1_gets_a_retry_result_per_event() {
    let f = faults();
    f.rule(json!({"route": "/i/v1/analytics/events", "v1_retry": true, "count": 1})).await;
    let uuid = "01950000-0000-7000-8000-0000000000a1";
    let body = json!({"created_at": "2026-11-24T12:00:00Z", "batch": [{"event": "v1", "uuid": uuid, "distinct_id": "u", "timestamp": "2026-11-24T12:00:00Z", "properties": {}}]});
    let headers = [("authorization", "Bearer phc_v1"), ("content-type", "application/json")];
    let first = f.app.post("/i/v1/analytics/events", &headers, body.to_string()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.json(), json!({"results": {uuid: {"result": "retry", "details": "not_persisted"}}}));
    assert_eq!(first.header("retry-after"), Some("1"), "PostHog's Retry-After with a retry result");
    assert!(f.app.events("project=phc_v1").await.is_empty());
    let again = f.app.post("/i/v1/analytics/events", &headers, body.to_string()).await;
    assert_eq!(again.json(), json!({"results": {uuid: {"result": "ok"}}}));
    let request = &f.app.requests("outcome=faulted").await[0];
    assert_eq!((request["status"].as_u64(), request["outcome"].as_str()), (Some(200), Some("faulted")));
    let d = &f.app.api("/api/deliveries?project=phc_v1").await["deliveries"][0];
    assert_eq!(d["summary"], "sent twice, stored once");
}

/// A slow vendor: stored first, answered late, normally.
#[tokio::test(flavor = "multi_thread")]
async fn a_delay_alone_answers_normally_late_and_stores_at_once() {
    let f = faults();
    f.rule(json!({"source": "posthog", "delay_ms": 300, "count": 1})).await;
    let started = Instant::now();
    let resp = f.batch(&[(id(1), "x", json!({}))]).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!((resp.status, resp.header("x-inspector-fault")), (StatusCode::OK, Some("1")));
    let request = f.app.last_request().await;
    assert_eq!(request["outcome"], "accepted");
    assert!(request["note"].as_str().unwrap().contains("answered late by fault rule #1"), "{request}");
    assert_eq!(f.app.events("").await.len(), 1);
}

/// An identify lost to a fault changes who the person is: a finding until a retry gets through.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_identify_is_a_finding_until_it_is_delivered() {
    let f = faults();
    let pageview =
        json!({"api_key": "phc_faults", "batch": [{"event": "$pageview", "uuid": id(1), "distinct_id": "anon-1"}]});
    assert_eq!(f.app.post_json("/batch/", &pageview).await.status, StatusCode::OK);
    f.rule(json!({"source": "posthog", "status": 503, "count": 1})).await;
    let identify = [(id(2), "$identify", json!({"$anon_distinct_id": "anon-1"}))];
    assert_eq!(f.batch(&identify).await.status, StatusCode::SERVICE_UNAVAILABLE);

    let warnings = f.app.api("/api/warnings?project=phc_faults&rules=undelivered_identify").await;
    let found = warnings["warnings"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{warnings}");
    assert_eq!((found[0]["severity"].as_str(), found[0]["event_uuids"].clone()), (Some("error"), json!([id(2)])));
    assert!(found[0]["message"].as_str().unwrap().contains("never reached PostHog"), "{}", found[0]["message"]);
    // Made again whenever faults change, so a follower's `after_seq` never leaves it out.
    let after = f.app.api("/api/warnings?project=phc_faults&rules=undelivered_identify&after_seq=1000000").await;
    assert_eq!(after["warnings"], warnings["warnings"]);
    let lost = &f.app.api("/api/deliveries?state=lost").await["deliveries"][0];
    assert_eq!(lost["summary"], "lost: never retried");

    assert_eq!(f.batch(&identify).await.status, StatusCode::OK, "the retry gets through");
    let warnings = f.app.api("/api/warnings?project=phc_faults&rules=undelivered_identify").await;
    assert_eq!(warnings["warnings"], json!([]), "withdrawn once delivered");
}

/// `drop` closes the connection without a byte of answer (a real server: `oneshot` has no
/// connection), and the request is stored as faulted with status 0.
#[tokio::test(flavor = "multi_thread")]
async fn a_drop_closes_the_connection_unanswered() {
    let dir = tempfile::tempdir().unwrap();
    let server = BoundServer::bind(&loopback_config(dir.path())).await.unwrap();
    let (addr, handle, store) = (server.local_addr(), server.handle(), server.store().clone());
    inspector_server::faults::add_text(handle.faults(), "posthog:drop:count=1").unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(server.run_until(async move { signal.cancelled().await }));

    let body = json!({"api_key": "phc_drop", "batch": [{"event": "x", "uuid": id(1), "distinct_id": "u"}]}).to_string();
    let request = format!(
        "POST /batch/ HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection was closed");
    assert!(answer.is_empty(), "not a byte of answer: {}", String::from_utf8_lossy(&answer));

    let faulted = store
        .requests(&event_store::RequestFilter { outcome: Some("faulted".into()), limit: 10, ..Default::default() })
        .unwrap()
        .items;
    assert_eq!(faulted.len(), 1);
    assert_eq!(faulted[0].status, 0);
    assert_eq!(
        faulted[0].error.as_deref(),
        Some("connection closed unanswered by fault rule #1 (source=posthog,drop,count=1)")
    );
    // The next request is answered as usual.
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    socket.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    stop.cancel();
}

/// A bundle (or the inspector's own HAR) keeps a faulted request faulted on import: its body
/// decodes fine (the failure was injected), but its events never reached the vendor, so the
/// imported data set must not show them stored.
#[tokio::test(flavor = "multi_thread")]
async fn an_exported_faulted_request_imports_faulted() {
    let f = faults();
    f.rule(json!({"rule": "posthog:503:count=1"})).await;
    assert_eq!(f.batch(&[(id(1), "$pageview", json!({}))]).await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(f.batch(&[(id(2), "later", json!({}))]).await.status, StatusCode::OK);
    for format in [transfer::ExportFormat::Bundle, transfer::ExportFormat::Har] {
        imports_faulted(&f.app.store, format).await;
    }
}

async fn imports_faulted(store: &event_store::Store, format: transfer::ExportFormat) {
    let store = store.clone();
    let bundle = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        transfer::export(
            &store,
            &event_store::Selection::default(),
            format,
            &mut out,
            "http://127.0.0.1:8010",
            &transfer::NoProgress,
        )
        .expect("export");
        out
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let imported = event_store::Store::open(dir.path()).unwrap();
    let target = imported.clone();
    tokio::task::spawn_blocking(move || {
        let options = transfer::ImportOptions {
            name: Some("faults".into()),
            source_name: None,
            progress: std::sync::Arc::new(transfer::NoProgress),
        };
        transfer::import_reader(&target, std::io::Cursor::new(bundle), None, options).expect("import")
    })
    .await
    .unwrap();
    let requests = imported
        .requests(&event_store::RequestFilter { limit: 10, ..Default::default() })
        .unwrap()
        .items
        .into_iter()
        .map(|r| (r.outcome, r.status))
        .collect::<Vec<_>>();
    assert_eq!(requests, [("accepted".to_owned(), 200), ("faulted".to_owned(), 503)], "{format:?}");
    let events = imported.events(&event_store::EventFilter { limit: 10, ..Default::default() }).unwrap().items;
    assert_eq!(events.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(), [id(2)], "the faulted event is not stored");
    let lost = imported.undelivered(10).unwrap();
    assert_eq!(lost.len(), 1, "it is still an undelivered event");
}

/// An event the SDK sent without a uuid gets one from the decoder, new in each copy: a faulted
/// copy cannot be matched with a resent one, so it is `unmatched`, never `lost`, and makes no
/// `undelivered_identify` finding.
#[tokio::test(flavor = "multi_thread")]
async fn a_faulted_event_without_an_sdk_uuid_is_unmatched_not_lost() {
    let f = faults();
    f.rule(json!({"rule": "posthog:503:count=1"})).await;
    let identify = json!({"api_key": "phc_faults", "batch": [{"event": "$identify", "distinct_id": "user-1", "properties": {"$anon_distinct_id": "anon-1"}}]});
    assert_eq!(f.app.post_json("/batch/", &identify).await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(f.app.post_json("/batch/", &identify).await.status, StatusCode::OK);
    let deliveries = f.app.api("/api/deliveries").await["deliveries"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["state"], "unmatched");
    assert!(deliveries[0]["summary"].as_str().unwrap().contains("sent no event id"), "{}", deliveries[0]);
    assert_eq!(f.app.api("/api/deliveries?state=lost").await["deliveries"], json!([]));
    let warnings = f.app.api("/api/warnings?project=phc_faults&rules=undelivered_identify").await;
    assert_eq!(warnings["warnings"], json!([]), "no finding about an event that may well have got through");
}
