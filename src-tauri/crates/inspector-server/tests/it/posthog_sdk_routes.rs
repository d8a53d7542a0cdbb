//! PostHog's newer SDK routes (capture-protocols routes table): the ones under `/api/` answer
//! any Host with CORS, while the inspector's own `/api` keeps its Host check and sends no CORS.

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use serde_json::json;

const ORIGIN: &str = "http://shop.example";

async fn get_foreign(app: &App, uri: &str) -> Resp {
    let r = req("GET", uri).header("host", "shop.example").header("origin", ORIGIN).body(Body::empty()).unwrap();
    app.send(r).await
}

#[tokio::test(flavor = "multi_thread")]
async fn posthog_api_paths_answer_any_host_with_cors() {
    let app = app();
    let cases = [
        ("/api/surveys/?token=phc_r", json!({"surveys": []})),
        ("/api/web_experiments/?token=phc_r", json!({"experiments": []})),
        ("/api/product_tours/?token=phc_r", json!({"product_tours": []})),
        ("/api/early_access_features/?token=phc_r", json!({"earlyAccessFeatures": []})),
        ("/api/conversations/v1/widget/messages?token=phc_r", json!({})),
        (
            "/api/feature_flag/local_evaluation?token=phc_r&send_cohorts",
            json!({"flags": [], "group_type_mapping": {}, "cohorts": {}}),
        ),
        ("/flags/definitions", json!({"flags": [], "group_type_mapping": {}, "cohorts": {}})),
    ];
    for (uri, want) in cases {
        let resp = get_foreign(&app, uri).await;
        assert_eq!(resp.status, StatusCode::OK, "{uri}: {}", resp.text());
        assert_eq!(resp.json(), want, "{uri}");
        assert_eq!(resp.header("access-control-allow-origin"), Some(ORIGIN), "{uri}");
        assert_eq!(resp.header("access-control-allow-credentials"), Some("true"), "{uri}");
    }
    // Shown as PostHog requests, never as rejected ones.
    assert!(app.rejected().await.is_empty(), "{:?}", app.rejected().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inspector_api_still_refuses_a_foreign_host_and_sends_no_cors() {
    let app = app();
    for uri in ["/api/health", "/api/persons", "/api/surveys/extra", "/api/conversations"] {
        let resp = get_foreign(&app, uri).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(resp.header("access-control-allow-origin").is_none(), "{uri}");
    }
    assert_eq!(app.get("/api/health").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_and_metrics_are_requests_not_events() {
    let app = app();
    for uri in ["/i/v1/logs?token=phc_otel", "/i/v1/metrics?token=phc_otel"] {
        let resp = app.post(uri, &[("origin", ORIGIN), ("content-type", "application/json")], gzip(b"{}")).await;
        assert_eq!((resp.status, resp.json()), (StatusCode::OK, json!({})), "{uri}");
        assert_eq!(resp.header("access-control-allow-origin"), Some(ORIGIN));
    }
    let stored = app.requests("").await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(app.rejected().await.is_empty());
    assert!(app.events("").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn ai_and_capture_v1_variants_store_events() {
    let app = app();
    let batch = json!({"api_key": "phc_ai", "batch": [{"event": "$ai_generation", "distinct_id": "u1"}]});
    let resp = app.post_json("/i/v0/ai/batch/", &batch).await;
    assert_eq!((resp.status, resp.json()), (StatusCode::OK, json!({"status": 1})));
    let v1 = json!({"created_at": "2026-11-24T12:00:00Z", "batch": [
        {"event": "pv", "uuid": "0192f5a0-0000-7000-8000-000000000001", "distinct_id": "u1",
         "timestamp": "2026-11-24T12:00:00Z", "properties": {}}
    ]});
    for path in ["/i/v1/general/events", "/i/v1/events/analytics", "/i/v1/general/analytics/events", "/i/v1/ai/events"]
    {
        let resp = app
            .post(path, &[("content-type", "application/json"), ("authorization", "Bearer phc_ai")], v1.to_string())
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{path}: {}", resp.text());
    }
    assert_eq!(app.events("project=phc_ai").await.len(), 5);
}
