//! `GET /api/why`: the answer's JSON for two ids a shared computer merged (with the root cause
//! quoting the stored event before the alias), two ids apart, and the error shapes: a missing
//! parameter (400) and an id the project never saw (404), each naming the parameter.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

const P: &str = "phc_why";

/// posthog-js on one laptop: identify user-a, `logged_out` without reset(), then signup calls
/// alias('user-b') and identify('user-b') (already identified, posthog-js just switches ids);
/// and an unrelated visitor.
async fn shared_laptop(app: &App) {
    let js = |i: usize, name: &str, id: &str, identified: bool, extra: Value| {
        let mut props =
            json!({"$device_id": "laptop", "$is_identified": identified, "$process_person_profile": identified});
        for (k, v) in extra.as_object().unwrap() {
            props[k] = v.clone();
        }
        stored_event(i, (P, "posthog"), name, id, Some("laptop".into()), props)
    };
    let events = vec![
        js(1, "$pageview", "anon-1", false, json!({})),
        js(2, "$identify", "user-a", true, json!({"$anon_distinct_id": "anon-1"})),
        js(3, "logged_out", "user-a", true, json!({})),
        js(4, "$create_alias", "user-a", true, json!({"alias": "user-b"})),
        js(5, "$pageview", "user-b", true, json!({})),
        stored_event(6, (P, "posthog"), "$pageview", "visitor-9", None, json!({})),
    ];
    app.store.write(accepted_request("posthog"), events).await.unwrap();
}

#[tokio::test]
async fn why_answers_the_chain_and_the_root_cause() {
    let app = app();
    shared_laptop(&app).await;
    let w = app.api(&format!("/api/why?project={P}&a=user-a&b=user-b")).await;
    assert_eq!(w["together"], true, "{w}");
    assert_eq!(w["family"], "posthog");
    let chain = w["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 1, "{w}");
    let step = &chain[0];
    assert_eq!(step["event"]["event"], "$create_alias");
    assert_eq!(step["event"]["event_uuid"], "00000000-0000-7000-8000-000000000004");
    assert_eq!((step["from"].as_str(), step["to"].as_str()), (Some("user-a"), Some("user-b")));
    assert_eq!(step["lane_id"], format!("{P}/laptop"));
    assert_eq!(step["rule"], "merge_attached_source");
    assert!(step["sentence"].as_str().unwrap().contains("'user-b'"), "{step}");
    let cause = w["root_cause"].as_str().expect("a root cause");
    assert!(cause.contains("no reset() after `logged_out`, then `alias('user-b')` joined the two users"), "{cause}");
    assert_eq!(w["a"]["person_id"], w["b"]["person_id"]);
}

#[tokio::test]
async fn why_apart_says_nothing_linked_them() {
    let app = app();
    shared_laptop(&app).await;
    let w = app.api(&format!("/api/why?project={P}&a=user-a&b=visitor-9")).await;
    assert_eq!((w["together"].as_bool(), w["chain"].as_array().map(Vec::len)), (Some(false), Some(0)));
    assert_eq!(w["refusals"], json!([]));
    assert!(w["summary"].as_str().unwrap().contains("no event ever linked 'user-a' and 'visitor-9'"), "{w}");
    assert_eq!(w["b"]["person_ids"], 1, "visitor-9 has a person of its own: {w}");
    assert_ne!(w["a"]["person_id"], w["b"]["person_id"]);
}

#[tokio::test]
async fn why_errors_name_the_parameter() {
    let app = app();
    shared_laptop(&app).await;
    let missing = app.get(&format!("/api/why?project={P}&a=user-a")).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let body = missing.json();
    assert_eq!((body["code"].as_str(), body["parameter"].as_str()), (Some("missing_parameter"), Some("b")), "{body}");
    let empty = app.get("/api/why?project=&a=x&b=y").await.json();
    assert_eq!(empty["parameter"], "project");

    let unknown = app.get(&format!("/api/why?project={P}&a=user-a&b=nobody")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let body = unknown.json();
    assert_eq!((body["code"].as_str(), body["parameter"].as_str()), (Some("not_found"), Some("b")), "{body}");
    assert!(body["error"].as_str().unwrap().contains("'nobody'"), "{body}");
    let other_project = app.get("/api/why?project=phc_other&a=user-a&b=user-b").await.json();
    assert_eq!(other_project["parameter"], "a", "{other_project}");
}
