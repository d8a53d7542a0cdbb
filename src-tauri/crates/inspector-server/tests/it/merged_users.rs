//! One name per person and the `distinct_users_merged` flag through the API: the UX review's
//! family PC (user-a logs out without reset(), the signup aliases user-b) captured on the real
//! PostHog route, then read from `/api/persons` (`label`, `flags`, `?flagged=`, `?sort=flagged`),
//! the person page, the events page's `persons`, one event's `person` and the lanes.

use crate::common::*;
use axum::http::StatusCode;
use serde_json::{json, Value};

const PROJECT: &str = "phc_family";

async fn family_pc() -> App {
    let app = app();
    let ev = |event: &str, id: &str, props: Value| json!({"event": event, "distinct_id": id, "properties": props});
    let dev = json!({"$device_id": "edge-pc"});
    let with = |extra: Value| {
        let mut p = dev.clone();
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        p
    };
    let batch = json!({"api_key": PROJECT, "batch": [
        // Another user on another device first, so `sort=flagged` has something to reorder.
        ev("$identify", "user-c", json!({"$anon_distinct_id": "anon-phone", "$device_id": "phone"})),
        ev("$pageview", "anon-edge", with(json!({}))),
        ev("$identify", "user-a", with(json!({"$anon_distinct_id": "anon-edge"}))),
        ev("logged_out", "user-a", with(json!({}))),
        ev("$create_alias", "user-a", with(json!({"alias": "user-b"}))),
        // posthog-js marks events sent after identify: that is what shows 'user-b' is a user of
        // its own (an alias value alone is another id of the same user).
        ev("signed_up", "user-b", with(json!({"$is_identified": true}))),
    ]});
    let resp = app.post_json("/batch/", &batch).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    app
}

fn labels(page: &Value) -> Vec<&str> {
    page["persons"].as_array().unwrap().iter().map(|p| p["label"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn persons_carry_one_label_and_their_flags() {
    let app = family_pc().await;
    let page = app.api(&format!("/api/persons?project={PROJECT}")).await;
    assert_eq!(labels(&page), ["user-c", "user-a"], "{page}");
    let merged = &page["persons"][1];
    let ids: Vec<&str> = merged["distinct_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(ids.contains(&"user-b"), "{merged}");
    assert_eq!(merged["user_ids"], json!(["user-a", "user-b"]), "the anonymous ids are no user's");
    let flags = merged["flags"].as_array().unwrap();
    assert!(flags.contains(&json!("distinct_users_merged")), "{merged}");
    assert!(flags.contains(&json!("alias_after_identify")), "{merged}");
    assert!(!page["persons"][0]["flags"].as_array().unwrap().contains(&json!("distinct_users_merged")));

    let only = app.api(&format!("/api/persons?project={PROJECT}&flagged=distinct_users_merged")).await;
    assert_eq!((only["total"].clone(), labels(&only)), (json!(1), vec!["user-a"]));
    let first = app.api(&format!("/api/persons?project={PROJECT}&sort=flagged")).await;
    assert_eq!(labels(&first), ["user-a", "user-c"]);

    // The person page names it the same.
    let detail = app.api(&format!("/api/persons/{}", merged["id"].as_str().unwrap())).await;
    assert_eq!(detail["label"], "user-a");

    // So does every lane segment on the person, whichever id it is on.
    let devices = app.api(&format!("/api/devices?project={PROJECT}")).await;
    let segments: Vec<&Value> = devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["segments"].as_array().unwrap())
        .filter(|s| s["current_person_id"] == merged["id"])
        .collect();
    assert!(segments.len() >= 2, "{devices}");
    assert!(segments.iter().all(|s| s["current_person_label"] == "user-a"), "{segments:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_flag_or_sort_is_a_bad_parameter() {
    let app = family_pc().await;
    for (uri, parameter) in [("/api/persons?flagged=not_a_rule", "flagged"), ("/api/persons?sort=newest", "sort")] {
        let resp = app.get(uri).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{uri}: {}", resp.text());
        let body = resp.json();
        assert_eq!(body["parameter"], parameter, "{body}");
        assert!(body["error"].as_str().unwrap().contains(parameter), "{body}");
    }
    // Every rule name is accepted, with or without persons behind it.
    let none = app.api("/api/persons?flagged=squished_identities").await;
    assert_eq!(none["total"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_name_their_current_person() {
    let app = family_pc().await;
    // Wait for the model to include every event (the events page reads what it has).
    let persons = app.api(&format!("/api/persons?project={PROJECT}")).await;
    let merged_id = persons["persons"][1]["id"].clone();
    let page = app.api(&format!("/api/events?project={PROJECT}")).await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 6);
    let by_uuid = page["persons"].as_object().unwrap();
    for e in events {
        let (uuid, id) = (e["uuid"].as_str().unwrap(), e["distinct_id"].as_str().unwrap());
        let person = &by_uuid[uuid];
        if id == "user-c" {
            assert_eq!(person["label"], "user-c");
        } else {
            assert_eq!((person["id"].clone(), person["label"].clone()), (merged_id.clone(), json!("user-a")), "{id}");
        }
    }
    let signed_up = events.iter().find(|e| e["event"] == "signed_up").unwrap();
    let one = app.api(&format!("/api/events/{}", signed_up["uuid"].as_str().unwrap())).await;
    assert_eq!(one["person"]["label"], "user-a");
    assert_eq!(one["person"]["id"], merged_id);
}
