//! KISSmetrics through the real router: `/e?_k=..` (a KISSmetrics call, answered with a GIF and
//! stored as source `kissmetrics`) next to PostHog's own `/e`, and a call without `_p` kept as
//! a rejected request.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn kissmetrics_e_and_posthog_e_share_the_path() {
    let app = app();
    let km = app.get("/e?_k=km_key&_p=qFq2LweZugFNE4o49hLhmRPBW34%3D&_n=Viewed+Signup&plan=pro").await;
    assert_eq!((km.status, km.header("content-type")), (StatusCode::OK, Some("image/gif")));
    let alias = app.get("/a?_k=km_key&_p=qFq2LweZugFNE4o49hLhmRPBW34%3D&_n=bob%40site.com").await;
    assert_eq!(alias.status, StatusCode::OK);
    let posthog = app.post_json("/e", &json!({"api_key": "phc_k", "event": "$pageview", "distinct_id": "d1"})).await;
    assert_eq!((posthog.status, posthog.json()), (StatusCode::OK, json!({"status": 1})));

    let km_events = app.events("source=kissmetrics").await;
    let got: Vec<(&str, &str, &str)> = km_events
        .iter()
        .rev()
        .map(|e| (e["project"].as_str().unwrap(), e["event"].as_str().unwrap(), e["distinct_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("km_key", "Viewed Signup", "qFq2LweZugFNE4o49hLhmRPBW34="),
            ("km_key", "$alias", "qFq2LweZugFNE4o49hLhmRPBW34=")
        ]
    );
    assert_eq!(km_events[1]["properties"], json!({"plan": "pro"}));
    let ph = app.events("source=posthog").await;
    assert_eq!((ph.len(), ph[0]["project"].as_str()), (1, Some("phc_k")));
    let routes: Vec<String> =
        app.requests("source=kissmetrics").await.iter().map(|r| r["route"].as_str().unwrap().to_owned()).collect();
    assert_eq!(routes, ["kissmetrics_alias", "kissmetrics_event"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_without_its_person_is_kept_as_rejected() {
    let app = app();
    let resp = app.get("/s?_k=km_key&Plan=Gold").await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert!(resp.text().contains("`_p`"), "{}", resp.text());
    let rejected = app.rejected().await;
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (rejected[0]["source"].as_str(), rejected[0]["error_code"].as_str()),
        (Some("kissmetrics"), Some("missing_parameter"))
    );
}
