//! The identity endpoints over Segment and Mixpanel events (stored as the shared contract
//! says, written straight to the store since their capture routes are built elsewhere) next to
//! PostHog events captured through the real route: `source`/`family` on every item, the
//! `?source=` filter (repeatable or comma-separated, unknown values rejected), and `/api/lens`.

use crate::common::*;
use event_store::NewEvent;
use serde_json::{json, Value};

const T0: i64 = 1_795_521_600_000_000;

fn stored(uuid: &str, project: &str, source: &str, event: &str, distinct_id: &str, props: Value) -> NewEvent {
    NewEvent {
        uuid: uuid.into(),
        project: project.into(),
        source: source.into(),
        event: event.into(),
        distinct_id: distinct_id.into(),
        device_id: None,
        session_id: None,
        timestamp: T0,
        original_timestamp: None,
        sent_at: None,
        received_at: T0,
        properties: props.to_string(),
        warnings: Vec::new(),
    }
}

async fn setup() -> App {
    let app = app();
    let segment = vec![
        stored(
            "s1",
            "wk",
            "segment",
            "identify",
            "u1",
            json!({"type": "identify", "userId": "u1", "anonymousId": "a1", "traits": {"plan": "pro"}}),
        ),
        stored(
            "s2",
            "wk",
            "segment",
            "identify",
            "u2",
            json!({"type": "identify", "userId": "u2", "anonymousId": "a1"}),
        ),
    ];
    app.store.write(accepted_request("segment"), segment).await.unwrap();
    let mixpanel = vec![
        stored(
            "m1",
            "mpt",
            "mixpanel",
            "Clicked",
            "$device:d1",
            json!({"distinct_id": "$device:d1", "$device_id": "d1"}),
        ),
        stored(
            "m2",
            "mpt",
            "mixpanel",
            "$identify",
            "mu1",
            json!({"distinct_id": "mu1", "$device_id": "d1", "$user_id": "mu1", "$anon_distinct_id": "$device:d1"}),
        ),
    ];
    app.store.write(accepted_request("mixpanel"), mixpanel).await.unwrap();
    let r = app
        .post_json(
            "/batch/",
            &json!({"api_key": "phc", "batch": [{"event": "$pageview", "distinct_id": "ph-1", "properties": {}}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    app
}

fn field<'a>(items: &'a Value, key: &str) -> Vec<&'a str> {
    let mut v: Vec<&str> = items.as_array().unwrap().iter().map(|i| i[key].as_str().unwrap()).collect();
    v.sort();
    v.dedup();
    v
}

#[tokio::test]
async fn persons_devices_decisions_and_warnings_carry_and_filter_by_source() {
    let app = setup().await;
    let all = app.api("/api/persons").await;
    assert_eq!(field(&all["persons"], "source"), ["mixpanel", "posthog", "segment"]);
    assert_eq!(field(&all["persons"], "family"), ["mixpanel", "posthog", "segment"]);

    let seg = app.api("/api/persons?source=segment").await;
    let ids: Vec<Value> = seg["persons"].as_array().unwrap().iter().map(|p| p["distinct_ids"].clone()).collect();
    assert_eq!(ids, [json!(["u1", "a1"]), json!(["u2"])], "Segment refused the second user_id on a1");
    assert_eq!(seg["persons"][0]["properties"]["plan"], "pro");

    let two = app.api("/api/persons?source=segment&source=mixpanel").await;
    assert_eq!(two["total"], app.api("/api/persons?source=segment,mixpanel").await["total"]);
    assert_eq!(field(&two["persons"], "source"), ["mixpanel", "segment"]);

    let devices = app.api("/api/devices?source=mixpanel").await;
    assert_eq!(field(&devices["devices"], "source"), ["mixpanel"]);
    assert_eq!(devices["devices"][0]["device_id"], "d1");

    let decisions = app.api("/api/decisions?source=segment&outcome=refused").await;
    let d = &decisions["decisions"][0];
    assert_eq!(
        (d["rule"].as_str(), d["family"].as_str(), d["project_source"].as_str()),
        (Some("profile_limit"), Some("segment"), Some("segment"))
    );
    assert!(d["message"].as_str().unwrap().contains("on the profile of user_id 'u1'"), "{}", d["message"]);

    let warnings = app.api("/api/warnings?source=segment").await;
    let rules = field(&warnings["warnings"], "rule");
    assert!(
        rules.contains(&"anonymous_id_with_many_user_ids") && rules.contains(&"profile_user_id_limit"),
        "{rules:?}"
    );
    assert_eq!(field(&warnings["warnings"], "source"), ["segment"]);

    let person = app.api(&format!("/api/persons/{}", seg["persons"][0]["id"].as_str().unwrap())).await;
    assert_eq!((person["family"].as_str(), person["id_kinds"]["a1"].as_str()), (Some("segment"), Some("anonymous_id")));
}

/// `after_seq` (what `tail` asks for): only the findings fired by later events, the rest of
/// the answer as without it; a value that is no whole number is a 400 naming the parameter.
#[tokio::test]
async fn warnings_after_a_seq_are_those_fired_by_later_events() {
    let app = setup().await;
    let all = app.api("/api/warnings").await["warnings"].as_array().unwrap().clone();
    let mut seqs: Vec<i64> = all.iter().map(|f| f["seq"].as_i64().unwrap()).collect();
    seqs.dedup();
    assert!(seqs.len() >= 2, "findings of at least two events: {seqs:?}");
    let after = seqs[0];
    let later: Vec<Value> = all.iter().filter(|f| f["seq"].as_i64().unwrap() > after).cloned().collect();
    assert!(!later.is_empty() && later.len() < all.len(), "{after}: {seqs:?}");
    assert_eq!(app.api(&format!("/api/warnings?after_seq={after}")).await["warnings"], json!(later));
    assert_eq!(app.api("/api/warnings?after_seq=-1").await["warnings"], json!(all));
    let last = seqs.iter().max().unwrap();
    assert_eq!(app.api(&format!("/api/warnings?after_seq={last}")).await["warnings"], json!([]));
    let r = app.get("/api/warnings?after_seq=first").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("after_seq") && r.text().contains("whole number"), "{}", r.text());
}

#[tokio::test]
async fn unknown_sources_are_rejected_by_name() {
    let app = setup().await;
    for path in [
        "/api/persons?source=amplitude",
        "/api/devices?source=segment,nope",
        "/api/warnings?source=x",
        "/api/decisions?source=POSTHOG",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, 400, "{path}");
        assert!(
            r.text().contains("unknown source")
                && r.text().contains("expected one of posthog, segment, rudderstack, mixpanel"),
            "{path}: {}",
            r.text()
        );
    }
}

#[tokio::test]
async fn lens_shows_every_vendor_and_their_disagreements() {
    let app = setup().await;
    let lens = app.api("/api/lens?project=wk").await;
    assert_eq!(
        (lens["project"].as_str(), lens["source"].as_str(), lens["family"].as_str(), lens["events"].as_i64()),
        (Some("wk"), Some("segment"), Some("segment"), Some(2))
    );
    let vendors: Vec<&str> =
        lens["vendors"].as_array().unwrap().iter().map(|v| v["vendor"].as_str().unwrap()).collect();
    assert_eq!(vendors, ["posthog", "segment", "rudderstack", "mixpanel", "kissmetrics"]);
    assert_eq!(lens["vendors"][0]["vendor"], "posthog");
    let d = lens["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ids"] == json!(["u2", "a1"]))
        .expect("u2/a1 disagreement");
    // RudderStack's stitcher unions every id on a message; KISSmetrics' identify(u2) once named u1
    // sends no alias (its "Identities" article).
    assert_eq!(
        (d["together"].clone(), d["apart"].clone()),
        (json!(["posthog", "rudderstack"]), json!(["segment", "mixpanel", "kissmetrics"]))
    );
    assert!(d["why"]["segment"].as_str().unwrap().contains("limit 1"), "{}", d["why"]["segment"]);

    let joined = app.api("/api/lens?project=wk&compare=mpt").await;
    assert_eq!(joined["compare"]["family"], "mixpanel");
    let users: Vec<&str> =
        joined["compare"]["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap()).collect();
    assert_eq!(users, ["mu1", "u1", "u2"]);
    assert_eq!(app.get("/api/lens?project=wk&compare=nobody").await.status, 404);

    let r = app.get("/api/lens").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("project"), "{}", r.text());
    assert_eq!(app.get("/api/lens?project=nobody").await.status, 404);
}
