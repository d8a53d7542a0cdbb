//! posthog-js `cookieless_mode` through the real capture route: PostHog replaces the
//! `$posthog_cookieless` placeholder with a per-visitor hash of IP, root domain and user agent
//! (`nodejs/src/ingestion/cookieless/cookieless-manager.ts` in <https://github.com/PostHog/posthog>),
//! so two visitors with different user agents are two persons, and /api shows what the
//! placeholder became on persons and lanes. The stored events keep what the SDK sent.

use crate::common::*;
use serde_json::{json, Value};

fn visit(ua: &str) -> Value {
    json!({"event": "$pageview", "distinct_id": "$posthog_cookieless", "properties": {
        "$cookieless_mode": true, "$host": "localhost:5173", "$raw_user_agent": ua, "$device_id": null,
        "$current_url": "http://localhost:5173/"}})
}

#[tokio::test]
async fn two_cookieless_visitors_with_different_user_agents_are_two_persons() {
    let app = app();
    let batch = json!({"api_key": "phc_cookieless", "batch": [
        visit("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
        visit("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"),
        visit("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    ]});
    let r = app.post_json("/batch/", &batch).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let persons = app.api("/api/persons").await;
    let persons = persons["persons"].as_array().unwrap();
    assert_eq!(persons.len(), 2, "{persons:?}");
    for p in persons {
        let ids = p["distinct_ids"].as_array().unwrap();
        assert_eq!(ids.len(), 1);
        assert!(ids[0].as_str().unwrap().starts_with("cookieless_"), "{ids:?}");
        let detail = app.api(&format!("/api/persons/{}", p["id"].as_str().unwrap())).await;
        assert_eq!(detail["cookieless"]["placeholder"], "$posthog_cookieless");
        assert_eq!(detail["cookieless"]["distinct_id"], ids[0]);
    }
    let devices = app.api("/api/devices").await;
    let lanes = devices["devices"].as_array().unwrap();
    assert_eq!(lanes.len(), 2);
    assert!(lanes.iter().all(|l| l["cookieless"]["device_id"] == l["device_id"]));
    assert!(app.events("").await.iter().all(|e| e["distinct_id"] == "$posthog_cookieless"), "stored as sent");
}
