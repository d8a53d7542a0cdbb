//! CORS on capture routes only, and the Host check that protects /api from DNS rebinding.

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use serde_json::json;

const ORIGIN: &str = "http://app.example";

fn event_body() -> String {
    json!({"api_key": "phc_cors", "batch": [{"event": "x", "distinct_id": "u"}]}).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn capture_responses_reflect_the_origin_with_credentials() {
    let app = app();
    let resp = app.post("/e/", &[("origin", ORIGIN), ("content-type", "text/plain")], event_body()).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.header("access-control-allow-origin"), Some(ORIGIN), "the origin, never *");
    assert_eq!(resp.header("access-control-allow-credentials"), Some("true"));

    // Errors carry the headers too, so browser SDKs can read why they were refused.
    let resp = app.post("/e/", &[("origin", "http://other.example")], "not json").await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.header("access-control-allow-origin"), Some("http://other.example"));
    assert_eq!(resp.header("access-control-allow-credentials"), Some("true"));

    for uri in ["/flags/?v=2", "/array/phc_cors/config.js", "/batch"] {
        let method = if uri.starts_with("/array") { "GET" } else { "POST" };
        let r = req(method, uri).header("origin", ORIGIN).body(Body::from("{}")).unwrap();
        let resp = app.send(r).await;
        assert_eq!(resp.header("access-control-allow-origin"), Some(ORIGIN), "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_echoes_the_requested_headers() {
    let app = app();
    let preflight = req("OPTIONS", "/e/")
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-foo")
        .body(Body::empty())
        .unwrap();
    let resp = app.send(preflight).await;
    assert!(resp.status.is_success(), "{}", resp.status);
    assert_eq!(resp.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(resp.header("access-control-allow-credentials"), Some("true"));
    let allowed = resp.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(allowed.contains("content-type") && allowed.contains("x-foo"), "{allowed}");
    let methods = resp.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
    for m in ["GET", "POST", "OPTIONS", "HEAD"] {
        assert!(methods.contains(m), "{m} missing from {methods}");
    }
    // A preflight is not traffic to show the user.
    assert!(app.requests("").await.is_empty());

    // So are preflights on the other capture paths.
    let preflight = req("OPTIONS", "/i/v0/e/")
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(preflight).await.header("access-control-allow-origin"), Some(ORIGIN));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_responses_carry_no_cors_headers() {
    let app = app();
    for uri in ["/api/health", "/api/events", "/api/requests", "/api/projects", "/api/nope", "/api/events?limit=x"] {
        let r = req("GET", uri).header("host", HOST).header("origin", ORIGIN).body(Body::empty()).unwrap();
        let resp = app.send(r).await;
        assert!(resp.header("access-control-allow-origin").is_none(), "{uri}: {:?}", resp.headers);
        assert!(resp.header("access-control-allow-credentials").is_none(), "{uri}");
    }
    let preflight = req("OPTIONS", "/api/events")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("access-control-request-method", "GET")
        .body(Body::empty())
        .unwrap();
    let resp = app.send(preflight).await;
    assert!(resp.header("access-control-allow-origin").is_none(), "{:?}", resp.headers);
}

async fn health_with_host(app: &App, host: Option<&str>) -> Resp {
    let mut r = req("GET", "/api/health");
    if let Some(h) = host {
        r = r.header("host", h);
    }
    app.send(r.body(Body::empty()).unwrap()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_answers_only_its_own_host() {
    let app = app();
    for host in ["127.0.0.1:8010", "localhost:8010", "LocalHost:8010", "[::1]:8010"] {
        let resp = health_with_host(&app, Some(host)).await;
        assert_eq!(resp.status, StatusCode::OK, "Host {host}: {}", resp.text());
        assert_eq!(resp.json()["status"], "ok");
    }
    for host in [
        Some("evil.example"),
        Some("127.0.0.1:8011"),
        Some("localhost"),
        Some("127.0.0.1"),
        Some("evil.example:8010"),
        None,
    ] {
        let resp = health_with_host(&app, host).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "Host {host:?}");
        let error = resp.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains("DNS rebinding") && error.contains("127.0.0.1:8010"), "{error}");
    }
    // Every API route is guarded, including the stream and unknown API paths.
    for uri in ["/api/events", "/api/requests/1", "/api/stream", "/api/nope"] {
        let r = req("GET", uri).header("host", "evil.example").body(Body::empty()).unwrap();
        assert_eq!(app.send(r).await.status, StatusCode::FORBIDDEN, "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn capture_routes_accept_any_host() {
    let app = app();
    for host in ["evil.example", "192.168.1.20:8010", "127.0.0.1:9999"] {
        let r = req("POST", "/e/").header("host", host).body(Body::from(event_body())).unwrap();
        let resp = app.send(r).await;
        assert_eq!(resp.status, StatusCode::OK, "Host {host}: {}", resp.text());
    }
    let r = req("POST", "/e/").body(Body::from(event_body())).unwrap();
    assert_eq!(app.send(r).await.status, StatusCode::OK, "no Host at all");
    assert_eq!(app.events("project=phc_cors").await.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_the_capture_url_and_totals() {
    let app = app();
    app.post("/e/", &[], event_body()).await;
    app.post("/e/", &[], "bad").await;
    let health = app.api("/api/health").await;
    assert_eq!(health["capture_url"], "http://127.0.0.1:8010");
    assert_eq!(health["totals"], json!({"events": 1, "requests": 2, "rejected": 1, "faulted": 0}));
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert!(health["database"].as_str().unwrap().ends_with("inspector.db"));
    time(&health["started_at"]);
}
