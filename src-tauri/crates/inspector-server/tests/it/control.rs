//! `/api/control`, `/api/data` and the test probe: the per-launch token, pausing capture (SDKs
//! get their usual answer, nothing is stored), clearing and pruning data with the identity model
//! rebuilt from what remains.

use std::time::Duration;

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use inspector_server::{AppState, Notice, TOKEN_HEADER};
use serde_json::{json, Value};

struct Ctl {
    app: App,
    state: AppState,
}

fn ctl() -> Ctl {
    let (app, state) = app_and_state();
    Ctl { app, state }
}

impl Ctl {
    async fn call(&self, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let mut b = req(method, uri).header("host", HOST).header("content-type", "application/json");
        if let Some(t) = token {
            b = b.header(TOKEN_HEADER, t);
        }
        let body = body.map(|v| Body::from(v.to_string())).unwrap_or_else(Body::empty);
        self.app.send(b.body(body).unwrap()).await
    }

    fn token(&self) -> String {
        self.state.control.token().to_owned()
    }

    async fn capture(&self, distinct_id: &str, events: &[&str]) -> Resp {
        let batch: Vec<Value> = events.iter().map(|e| json!({"event": e, "distinct_id": distinct_id})).collect();
        self.app.post_json("/batch/", &json!({"api_key": "phc_ctl", "batch": batch})).await
    }

    async fn identify(&self, anon: &str, user: &str) {
        let body = json!({"api_key": "phc_ctl", "batch": [{"event": "$identify", "distinct_id": user, "properties": {"$anon_distinct_id": anon}}]});
        assert_eq!(self.app.post_json("/batch/", &body).await.status, StatusCode::OK);
    }

    async fn persons(&self) -> Vec<Value> {
        self.app.api("/api/persons?project=phc_ctl").await["persons"].as_array().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn state_changing_calls_need_this_launchs_token() {
    let c = ctl();
    for (method, uri) in [
        ("POST", "/api/control/pause"),
        ("POST", "/api/control/resume"),
        ("DELETE", "/api/data"),
        ("POST", "/api/control/show"),
    ] {
        let none = c.call(method, uri, None, None).await;
        assert_eq!(none.status, StatusCode::FORBIDDEN, "{method} {uri} without a token");
        assert!(none.json()["error"].as_str().unwrap().contains(TOKEN_HEADER));
        let wrong = c.call(method, uri, Some("not-the-token"), None).await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{method} {uri} with a wrong token");
    }
    let retention = c.call("PUT", "/api/control/retention", None, Some(json!({"max_events": 10}))).await;
    assert_eq!(retention.status, StatusCode::FORBIDDEN);
    assert!(!c.state.control.is_paused());

    // The token is readable by same-origin pages only: the host guard applies as to all of /api.
    let got = c.app.api("/api/control").await;
    assert_eq!(got["token"], c.token());
    let rebinding =
        c.app.send(req("GET", "/api/control").header("host", "evil.example:8010").body(Body::empty()).unwrap()).await;
    assert_eq!(rebinding.status, StatusCode::FORBIDDEN);
    assert!(rebinding.header("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn paused_capture_answers_as_usual_and_stores_nothing() {
    let c = ctl();
    assert_eq!(c.capture("d1", &["before"]).await.status, StatusCode::OK);
    let paused = c.call("POST", "/api/control/pause", Some(&c.token()), None).await;
    assert_eq!(paused.status, StatusCode::OK);
    assert_eq!(paused.json()["capture"]["paused"], true);

    let answered = c.capture("d1", &["while paused"]).await;
    assert_eq!(answered.status, StatusCode::OK);
    assert_eq!(answered.json(), json!({"status": 1}), "the SDK sees a normal success");
    let refused = c.app.post("/batch/", &[("content-type", "application/json")], "not json").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "invalid requests are still refused the same way");
    let beacon = c
        .app
        .post(
            "/e/?beacon=1",
            &[("content-type", "application/json")],
            r#"{"event":"b","distinct_id":"d","api_key":"phc_ctl"}"#,
        )
        .await;
    assert_eq!(beacon.status, StatusCode::NO_CONTENT);

    let health = c.app.api("/api/health").await;
    assert_eq!(health["capture"], json!({"paused": true, "ignored_while_paused": 3}));
    assert_eq!(health["totals"]["events"], 1);
    assert_eq!(health["totals"]["requests"], 1, "nothing of the paused traffic was stored");

    assert_eq!(c.call("POST", "/api/control/resume", Some(&c.token()), None).await.status, StatusCode::OK);
    assert_eq!(c.capture("d1", &["after"]).await.status, StatusCode::OK);
    let names: Vec<String> = c.app.events("").await.iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["after", "before"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn clearing_data_empties_the_store_and_the_identity_model() {
    let c = ctl();
    c.capture("anon-1", &["viewed"]).await;
    c.identify("anon-1", "user-1").await;
    assert_eq!(c.persons().await.len(), 1);
    let mut stream = c.app.store.subscribe();

    let cleared = c.call("DELETE", "/api/data", Some(&c.token()), None).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text());
    assert_eq!(cleared.json()["removed"], json!({"events": 2, "requests": 2}));
    assert!(matches!(stream.recv().await.unwrap(), event_store::Change::Pruned { all: true, .. }));
    assert_eq!(c.app.api("/api/health").await["totals"]["events"], 0);
    assert!(c.persons().await.is_empty(), "no person survives a clear");

    // Capture and identity go on, with arrival numbers starting again.
    c.capture("anon-2", &["fresh"]).await;
    c.identify("anon-2", "user-2").await;
    let persons = c.persons().await;
    assert_eq!(persons.len(), 1);
    let ids: Vec<&str> = persons[0]["distinct_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(ids.contains(&"user-2") && ids.contains(&"anon-2") && !ids.contains(&"user-1"), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_prunes_the_oldest_and_the_model_follows() {
    let c = ctl();
    // user-old's identify is the oldest traffic; the newest 2 events belong to user-new.
    c.identify("anon-old", "user-old").await;
    c.identify("anon-new", "user-new").await;
    c.capture("user-new", &["kept"]).await;
    assert_eq!(c.persons().await.len(), 2);

    let bad = c.call("PUT", "/api/control/retention", Some(&c.token()), Some(json!({"max_events": 0}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let set = c
        .call("PUT", "/api/control/retention", Some(&c.token()), Some(json!({"max_events": 2, "max_age_days": null})))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json()["retention"], json!({"max_events": 2, "max_age_days": null}));

    // Applied in the background right away.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let persons = c.persons().await;
        if persons.len() == 1 {
            assert!(persons[0]["distinct_ids"].as_array().unwrap().contains(&json!("user-new")));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the model never dropped the pruned person: {persons:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(c.app.api("/api/health").await["totals"]["events"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn notices_appear_in_health() {
    let c = ctl();
    assert_eq!(c.app.api("/api/health").await["notices"], json!([]));
    c.state.control.set_notice(Notice::warning("port_taken", "Port 28120 is in use"));
    let health = c.app.api("/api/health").await;
    assert_eq!(
        health["notices"],
        json!([{"level": "warning", "code": "port_taken", "message": "Port 28120 is in use"}])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_test_probe_is_off_unless_enabled() {
    let c = ctl();
    assert_eq!(c.call("GET", "/api/test/probe", None, None).await.status, StatusCode::NOT_FOUND);
    c.state.control.enable_test_probe();
    let token = c.token();
    let posted = c.call("POST", "/api/test/probe", Some(&token), Some(json!({"ready": true, "text": "hello"}))).await;
    assert_eq!(posted.json(), json!({"navigate": null}));
    assert_eq!(
        c.call("POST", "/api/test/navigate", Some(&token), Some(json!({"hash": "#/events"}))).await.status,
        StatusCode::OK
    );
    let next = c.call("POST", "/api/test/probe", Some(&token), Some(json!({"ready": true, "text": "again"}))).await;
    assert_eq!(next.json(), json!({"navigate": "#/events"}), "a navigation is handed over once");
    let latest = c.call("GET", "/api/test/probe", None, None).await.json();
    assert_eq!(latest["report"]["text"], "again");
    assert_eq!(c.call("POST", "/api/test/probe", None, Some(json!({}))).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_theme_toggle_is_saved_through_the_api_and_the_page_starts_in_it() {
    let c = ctl();
    let mut saved = c.state.control.watch_theme();
    assert_eq!(c.app.api("/api/control").await["theme"], "system");
    let page = c.app.get("/").await.text();
    assert!(page.contains(r#"<meta name="inspector-theme" content="system">"#), "{page}");

    let refused = c.call("PUT", "/api/control/theme", None, Some(json!({"theme": "dark"}))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = c.call("PUT", "/api/control/theme", Some(&c.token()), Some(json!({"theme": "purple"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"].as_str().unwrap().contains("purple"), "names the bad value: {}", bad.text());
    assert!(!saved.has_changed().unwrap(), "refused calls change nothing");

    let set = c.call("PUT", "/api/control/theme", Some(&c.token()), Some(json!({"theme": "dark"}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json()["theme"], "dark");
    assert!(saved.has_changed().unwrap(), "the app is told, to write its settings file");
    assert_eq!(*saved.borrow_and_update(), inspector_server::UiTheme::Dark);
    let page = c.app.get("/").await.text();
    assert!(page.contains(r#"<meta name="inspector-theme" content="dark">"#), "{page}");
    // Setting the same theme again is no change.
    c.call("PUT", "/api/control/theme", Some(&c.token()), Some(json!({"theme": "dark"}))).await;
    assert!(!saved.has_changed().unwrap());
}
