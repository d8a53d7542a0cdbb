//! Recorded mixpanel-browser traffic, and the rule telling Mixpanel from PostHog on the paths
//! both use, checked against both families' recordings.

use crate::common::*;
use capture_decode::Protocol;
use capture_decode::{mixpanel, posthog, Source};
use serde_json::json;

#[test]
fn mixpanel_browser_track_batch() {
    let reqs = load_fixture("mixpanel-browser.jsonl");
    assert_eq!(reqs[0].protocol(), Some(Protocol::Mixpanel(mixpanel::Route::Track)));
    let (capture, reply) = reqs[0].wire_capture();
    assert_eq!(capture.source, Source::Mixpanel);
    assert_eq!(capture.steps, ["form data=", "base64"]);
    assert_eq!((reply.status, body_json(&reply)), (200, json!({"status": 1, "error": null})), "verbose=1");
    let e = &capture.events;
    let names: Vec<_> = e.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["viewed signup", "Account Created", "after reset", "$identify"]);
    let ids: Vec<_> = e.iter().map(|e| e.distinct_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "$device:df3aa830-0bcb-428d-adac-b28e5a08f0cb",
            "mp-user-1",
            "$device:b6c74add-f253-40ec-9f6c-1e8f98de1fca",
            "mp-user-1"
        ]
    );
    let devices: Vec<_> = e.iter().map(|e| e.device_id.as_deref().unwrap()).collect();
    assert_eq!(
        devices,
        [
            "df3aa830-0bcb-428d-adac-b28e5a08f0cb",
            "df3aa830-0bcb-428d-adac-b28e5a08f0cb",
            "b6c74add-f253-40ec-9f6c-1e8f98de1fca",
            "df3aa830-0bcb-428d-adac-b28e5a08f0cb"
        ]
    );
    let uuids: Vec<_> = e.iter().map(|e| e.uuid.as_str()).collect();
    assert_eq!(uuids, ["f4p3fku7bocqthay", "1h92d2i7wa9g9flt", "j9p1v0ah60i7rsml", "pw0uym33ev7nw2bc"]);
    assert!(e.iter().all(|e| e.project == "mixpanel_token"));
    // `time` is seconds with a fraction: 1795491131.164.
    assert_eq!(e[0].timestamp.timestamp_millis(), 1_795_491_131_164);
    assert_eq!(e[3].properties["$anon_distinct_id"], "$device:df3aa830-0bcb-428d-adac-b28e5a08f0cb");
    assert_eq!(e[1].properties["$user_id"], "mp-user-1");
}

#[test]
fn mixpanel_browser_engage() {
    let reqs = load_fixture("mixpanel-browser.jsonl");
    assert_eq!(reqs[1].protocol(), Some(Protocol::Mixpanel(mixpanel::Route::Engage)));
    let (capture, _) = reqs[1].wire_capture();
    let e = &capture.events;
    assert_eq!(e.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(), ["$engage", "$engage"]);
    assert!(e.iter().all(|e| e.distinct_id == "mp-user-1" && e.project == "mixpanel_token"));
    assert_eq!(e[0].device_id.as_deref(), Some("df3aa830-0bcb-428d-adac-b28e5a08f0cb"));
    assert_eq!(e[1].properties["$set"]["$email"], "max@hedgehogmail.com");
    assert_eq!(e[0].properties["$token"], "mixpanel_token", "properties = the whole update");
}

#[test]
fn posthog_recordings_stay_posthog() {
    for file in ["posthog-js-browser.jsonl", "posthog-node.jsonl", "posthog-python.jsonl"] {
        for req in load_fixture(file) {
            assert!(
                matches!(req.protocol(), Some(Protocol::Posthog(_))),
                "{file}: {} {:?} went to {:?}",
                req.path,
                req.query,
                req.protocol()
            );
        }
    }
}

#[test]
fn posthog_legacy_bodies_on_track_and_engage_stay_posthog() {
    // Old posthog-js: an array of events with token and $lib in properties, base64 form.
    let events = json!([{"event": "$pageview", "properties": {"token": "phc_x", "distinct_id": "d1", "$lib": "web", "time": 1.0, "$insert_id": "abc"}}]);
    let form = format!("data={}", b64(events.to_string().as_bytes()));
    let req = Req::form("/track/?ip=1&_=1795491131481", &form);
    assert_eq!(req.protocol(), Some(Protocol::Posthog(posthog::Route::Capture { legacy: true })));
    // A top-level distinct_id is PostHog's shape.
    let req = Req::json("/track", &json!({"event": "x", "distinct_id": "d", "properties": {"token": "t", "time": 1}}));
    assert!(matches!(req.protocol(), Some(Protocol::Posthog(_))));
    // PostHog's /engage: {$token, $distinct_id, $set}.
    let req = Req::json("/engage", &json!({"$token": "phc_x", "$distinct_id": "d", "$set": {"a": 1}}));
    assert_eq!(req.protocol(), Some(Protocol::Posthog(posthog::Route::Engage)));
    // Undecodable bodies keep today's PostHog rejection.
    assert!(matches!(Req::post("/track", "garbage").protocol(), Some(Protocol::Posthog(_))));
}

#[test]
fn mixpanel_server_library_shapes_are_mixpanel() {
    // mixpanel-python: no verbose, plain JSON data= form, mp_lib python.
    let events = json!([{"event": "Signed up", "properties": {"token": "tok", "distinct_id": "u1", "time": 1795491131, "mp_lib": "python", "$insert_id": "x1"}}]);
    let req = Req::form("/track", &format!("data={}", events));
    assert_eq!(req.protocol(), Some(Protocol::Mixpanel(mixpanel::Route::Track)));
    let (capture, reply) = req.wire_capture();
    assert_eq!(body_text(&reply), "1");
    assert_eq!(capture.events[0].timestamp.timestamp(), 1_795_491_131);
    let update = json!({"$token": "tok", "$distinct_id": "u1", "$time": 1795491131000u64, "$set": {"a": 1}});
    let req = Req::form("/engage", &format!("data={}", update));
    assert_eq!(req.protocol(), Some(Protocol::Mixpanel(mixpanel::Route::Engage)));
}

#[test]
fn flags_and_decide_are_mixpanel_only_with_mixpanel_query() {
    let req = Req::get("/decide?verbose=1&version=1&lib=web&token=tok&ip=1&_=1");
    assert_eq!(req.protocol(), Some(Protocol::Mixpanel(mixpanel::Route::Decide)));
    assert_eq!(body_json(&req.wire_answer()), json!({}));
    let req = Req::get("/flags?context=%7B%7D&token=tok&mp_lib=web");
    assert_eq!(body_json(&req.wire_answer()), json!({"flags": {}}));
    assert_eq!(Req::post("/flags/?v=2", "{}").protocol(), Some(Protocol::Posthog(posthog::Route::Flags { v2: true })));
    assert_eq!(
        Req::post("/decide/?v=3", "{}").protocol(),
        Some(Protocol::Posthog(posthog::Route::Flags { v2: false }))
    );
    for path in ["/settings", "/record/"] {
        assert_eq!(body_json(&Req::post(path, "x").wire_answer()), json!({}), "{path}");
    }
}

#[test]
fn import_groups_and_replies() {
    let events = json!([
        {"event": "a", "properties": {"token": "tok", "distinct_id": 42, "time": 1795491131164u64, "$insert_id": "i-1"}},
        {"event": "b", "properties": {"distinct_id": "u", "time": 1795491131}}
    ]);
    let req = Req::json("/import?strict=1&project_id=123", &events);
    let (capture, reply) = req.wire_capture();
    assert_eq!(body_json(&reply), json!({"code": 200, "num_records_imported": 2, "status": "OK"}));
    assert_eq!(capture.events[0].distinct_id, "42", "numbers become their JSON text");
    assert_eq!(capture.events[0].timestamp.timestamp_millis(), 1_795_491_131_164, "milliseconds");
    assert_eq!(capture.events[1].project, "123", "no token: the import's project id");
    let missing_time = Req::json("/import", &json!([{"event": "a", "properties": {"token": "t", "distinct_id": "u"}}]));
    let refusal = missing_time.wire_refusal();
    assert_rejected(&refusal.rejection, 400, "missing_time", &["event 1 of 1 (a)", "properties.time"]);
    assert_eq!(body_json(&refusal.reply)["code"], 400);
    // Merge Identities (https://developer.mixpanel.com/reference/identity-merge): a `$merge` on
    // /import carries `$distinct_ids` only, no time and no distinct_id, and is accepted.
    let merge = json!([{"event": "$merge", "properties": {"token": "t", "$distinct_ids": ["a", "b"]}}]);
    let (capture, reply) = Req::json("/import", &merge).wire_capture();
    assert_eq!(body_json(&reply)["num_records_imported"], 1);
    assert_eq!((capture.events[0].event.as_str(), capture.events[0].distinct_id.as_str()), ("$merge", ""));
    assert!(capture.events[0].warnings.is_empty(), "{:?}", capture.events[0].warnings);

    let group = json!({"$token": "tok", "$group_key": "company", "$group_id": "acme", "$set": {"name": "Acme"}});
    let (capture, _) = Req::json("/groups", &group).wire_capture();
    assert_eq!((capture.events[0].event.as_str(), capture.events[0].distinct_id.as_str()), ("$groups", "company"));
}

#[test]
fn errors_follow_the_verbose_variant() {
    let bad = json!([{"event": "", "properties": {"token": "t"}}]);
    let verbose = Req::form("/track?verbose=1", &format!("data={bad}")).wire_refusal();
    assert_eq!(verbose.reply.status, 400);
    assert_eq!(body_json(&verbose.reply)["status"], 0);
    assert!(body_json(&verbose.reply)["error"].as_str().unwrap().contains("no `event` name"));
    let garbage = Req::form("/track?verbose=1", "data=%%%%not-base64").wire_refusal();
    assert_rejected(&garbage.rejection, 400, "invalid_json", &["not valid JSON"]);
    let plain = Req::form("/groups", "data=W10=").wire_refusal();
    assert_eq!((plain.reply.status, body_text(&plain.reply).as_str()), (400, "0"));
    assert_rejected(&plain.rejection, 400, "empty_batch", &[]);
}
