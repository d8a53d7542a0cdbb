//! Recorded traffic of real PostHog SDKs (tests/fixtures/sdk-traffic) decoded end to end.
//! Expected values were read from the recordings with an independent decoder (python3).

use crate::common::*;
use capture_decode::posthog::Route;
use capture_decode::Event;
use chrono::Duration;
use serde_json::{json, Value};

const BROWSER: &str = "posthog-js-browser.jsonl";
const NODE: &str = "posthog-node.jsonl";
const PYTHON: &str = "posthog-python.jsonl";

fn browser(line: usize) -> Req {
    load_fixture(BROWSER).swap_remove(line)
}

fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

fn ids(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.distinct_id.as_str()).collect()
}

#[test]
fn every_recorded_request_is_accepted_with_the_expected_event_counts() {
    // (file, per line: None = answer without events, Some(n) = n events)
    let expected: [(&str, Vec<Option<usize>>); 3] = [
        (
            BROWSER,
            vec![
                None,
                Some(1),
                None,
                Some(1),
                Some(1),
                None,
                Some(7),
                Some(1),
                None,
                Some(1),
                None,
                None,
                Some(1),
                Some(1),
                None,
                Some(5),
            ],
        ),
        (NODE, vec![Some(6)]),
        (PYTHON, vec![Some(5)]),
    ];
    for (file, counts) in expected {
        let reqs = load_fixture(file);
        assert_eq!(reqs.len(), counts.len(), "{file}: number of recorded requests");
        for (i, (req, count)) in reqs.iter().zip(counts).enumerate() {
            match count {
                None => {
                    let reply = req.answer();
                    assert_eq!(reply.status, 200, "{file}:{i}");
                }
                Some(n) => {
                    let (capture, reply) = req.capture();
                    assert_eq!(capture.events.len(), n, "{file}:{i} {}", req.path);
                    assert!(capture.dropped.is_empty(), "{file}:{i}");
                    assert_eq!((reply.status, body_json(&reply)), (200, json!({"status": 1})), "{file}:{i}");
                    for ev in &capture.events {
                        assert_eq!(Some(ev.project.as_str()), Some(token(&capture)));
                        assert!(ev.warnings.is_empty(), "{file}:{i}: {:?}", ev.warnings);
                    }
                }
            }
        }
    }
}

#[test]
fn browser_routes_are_classified() {
    let routes: Vec<Route> = load_fixture(BROWSER).iter().map(Req::route).collect();
    let script = |t: &str| Route::RemoteConfig { token: t.into(), script: true };
    let json = |t: &str| Route::RemoteConfig { token: t.into(), script: false };
    let e = Route::Capture { legacy: true };
    let flags = Route::Flags { v2: true };
    assert_eq!(
        routes,
        vec![
            script("posthog_token"),
            e.clone(),
            json("posthog_token"),
            e.clone(),
            e.clone(),
            flags.clone(),
            e.clone(),
            e.clone(),
            script("phc_web"),
            e.clone(),
            json("phc_web"),
            flags.clone(),
            e.clone(),
            e.clone(),
            flags,
            e,
        ]
    );
}

#[test]
fn browser_gzip_pageview_with_text_plain_and_no_hint() {
    let req = browser(1).received("2026-11-24T03:31:57.810Z");
    assert_eq!(req.incoming().header("content-type"), Some("text/plain"));
    let (capture, _) = req.capture();
    assert_eq!(capture.steps, vec!["gzip"]);
    assert_eq!(token(&capture), "posthog_token");
    let ev = &capture.events[0];
    assert_eq!(ev.event, "$pageview");
    assert_eq!(ev.uuid.to_string(), "01a20b9c-3aee-7042-bbbf-74064dd34663");
    assert_eq!(ev.distinct_id, "01a20b9c-3ad6-719c-a1e4-a8286af8408e");
    assert_eq!(ev.device_id.as_deref(), Some("01a20b9c-3ad6-719c-a1e4-a8286af8408e"));
    assert_eq!(ev.session_id.as_deref(), Some("01a20b9c-3ade-74d6-8bec-a26603cf1db9"));
    assert_eq!(ev.properties["$lib"], "web");
    assert_eq!(ev.properties["$process_person_profile"], false);
    // Server clock equal to the client's sent_at: the client timestamp is kept as is.
    assert_eq!(ev.timestamp, at("2026-11-24T03:31:57.806Z"));
    assert_eq!(ev.original_timestamp.as_deref(), Some("2026-11-24T03:31:57.806Z"));
    assert_eq!(ev.sent_at.as_deref(), Some("2026-11-24T03:31:57.810Z"));
}

#[test]
fn browser_sent_at_corrects_a_skewed_client_clock() {
    // The server received it an hour after the client says it sent it: shift by that hour.
    let (capture, _) = browser(1).received("2026-11-24T04:31:57.810Z").capture();
    assert_eq!(capture.events[0].timestamp, at("2026-11-24T04:31:57.806Z"));
    assert_eq!(capture.events[0].original_timestamp.as_deref(), Some("2026-11-24T03:31:57.806Z"));
}

#[test]
fn browser_identify_carries_anon_id_and_top_level_set() {
    let (capture, _) = browser(3).received("2026-11-24T03:31:57.726Z").capture();
    let ev = &capture.events[0];
    assert_eq!(ev.event, "$identify");
    assert_eq!(ev.distinct_id, "user-42");
    assert_eq!(ev.properties["$anon_distinct_id"], "01a20b9c-3a69-7874-8076-a2a931210c98");
    assert_eq!(ev.device_id.as_deref(), Some("01a20b9c-3a69-7874-8076-a2a931210c98"));
    assert_eq!(ev.properties["$set"], json!({"email": "max@hedgehogmail.com", "name": "Max Hedgehog"}));
    assert_eq!(ev.properties["$set_once"]["$initial_referrer"], "$direct");
    assert_eq!(ev.properties["$set_once"]["$initial_pathname"], "/multi.html");
    assert_eq!(ev.timestamp, at("2026-11-24T03:31:57.723Z"));

    let (capture, _) = browser(4).capture();
    let ev = &capture.events[0];
    assert_eq!((ev.event.as_str(), ev.distinct_id.as_str()), ("$identify", "user-43"));
    assert_eq!(ev.properties["$anon_distinct_id"], "01a20b9c-3aab-7317-97fb-f1b3eb00ebe4");
    assert_eq!(ev.device_id.as_deref(), Some("01a20b9c-3a69-7874-8076-a2a931210c98"));
    assert_eq!(ev.properties["$set"], json!({}));
}

#[test]
fn browser_plain_json_batch_of_seven() {
    let req = browser(6).received("2026-11-24T03:32:00.677Z");
    assert_eq!(req.incoming().header("Content-Type"), Some("application/json"));
    let (capture, _) = req.capture();
    assert!(capture.steps.is_empty(), "plain JSON needs no unwrapping: {:?}", capture.steps);
    let evs = &capture.events;
    assert_eq!(
        names(evs),
        [
            "viewed signup",
            "Account Created",
            "after reset",
            "$create_alias",
            "$set",
            "$groupidentify",
            "after reset true"
        ]
    );
    assert_eq!(
        ids(evs),
        [
            "01a20b9c-3a69-7874-8076-a2a931210c98",
            "user-42",
            "01a20b9c-3aab-7317-97fb-f1b3eb00ebe4",
            "user-43",
            "user-43",
            "user-43",
            "01a20b9c-3ad6-719c-a1e4-a8286af8408e",
        ]
    );
    assert_eq!(evs[3].properties["alias"], "alias-43");
    assert_eq!(evs[4].properties["$set"], json!({"plan": "pro"}));
    assert_eq!(evs[5].properties["$group_type"], "company");
    assert_eq!(evs[5].properties["$group_key"], "acme");
    assert_eq!(evs[2].session_id.as_deref(), Some("01a20b9c-3ab5-7455-b815-f4f5e3e5881c"));
    let stamps = [
        "03:31:57.686",
        "03:31:57.729",
        "03:31:57.748",
        "03:31:57.762",
        "03:31:57.765",
        "03:31:57.771",
        "03:31:57.789",
    ];
    for (ev, t) in evs.iter().zip(stamps) {
        assert_eq!(ev.timestamp, at(&format!("2026-11-24T{t}Z")), "{}", ev.event);
    }
    for ev in &evs[..6] {
        assert_eq!(ev.device_id.as_deref(), Some("01a20b9c-3a69-7874-8076-a2a931210c98"), "{}", ev.event);
    }
    assert_eq!(evs[6].device_id.as_deref(), Some("01a20b9c-3ad6-719c-a1e4-a8286af8408e"));
}

#[test]
fn browser_beacon_form_body_with_base64() {
    let req = browser(7).received("2026-11-24T03:32:02.817Z");
    assert_eq!(req.query.as_deref(), Some("compression=base64"));
    assert!(req.body.starts_with(b"data=eyJ"));
    let (capture, reply) = req.capture();
    assert_eq!(capture.steps, vec!["form data=", "base64"]);
    let ev = &capture.events[0];
    assert_eq!(ev.event, "$pageleave");
    assert_eq!(ev.uuid.to_string(), "01a20b9c-4e7d-7f46-bda6-97a19d9effac");
    assert_eq!(ev.distinct_id, "01a20b9c-3ad6-719c-a1e4-a8286af8408e");
    assert_eq!(ev.session_id.as_deref(), Some("01a20b9c-3ade-74d6-8bec-a26603cf1db9"));
    assert_eq!(ev.timestamp, at("2026-11-24T03:32:02.813Z"));
    assert_eq!(token(&capture), "posthog_token");
    assert_eq!(reply.status, 200);
}

#[test]
fn browser_second_session_uses_its_own_token() {
    let (capture, _) = browser(9).received("2026-11-24T03:13:37.236Z").capture();
    assert_eq!(token(&capture), "phc_web");
    let ev = &capture.events[0];
    assert_eq!((ev.event.as_str(), ev.distinct_id.as_str()), ("$pageview", "01a20b8b-6f86-7165-b76e-b666d4bff16e"));
    assert_eq!(ev.timestamp, at("2026-11-24T03:13:37.196Z"));

    let (capture, _) = browser(12).capture();
    let ev = &capture.events[0];
    assert_eq!((ev.event.as_str(), ev.distinct_id.as_str()), ("$identify", "user-42"));
    assert_eq!(ev.properties["$anon_distinct_id"], "01a20b8b-6f86-7165-b76e-b666d4bff16e");
    assert_eq!(ev.properties["$set"], json!({"email": "max@hedgehogmail.com"}));

    let ev = &browser(13).events()[0];
    assert_eq!(ev.distinct_id, "user-43");
    assert_eq!(ev.properties["$anon_distinct_id"], "01a20b8b-75fe-7eb2-88f6-72571a8206ba");

    let evs = browser(15).received("2026-11-24T03:13:40.163Z").events();
    assert_eq!(names(&evs), ["viewed signup", "Account Created", "after reset", "$create_alias", "after reset true"]);
    assert_eq!(
        ids(&evs),
        [
            "01a20b8b-6f86-7165-b76e-b666d4bff16e",
            "user-42",
            "01a20b8b-75fe-7eb2-88f6-72571a8206ba",
            "user-43",
            "01a20b8b-7614-7c48-a1f6-b4fc2efb7069",
        ]
    );
    assert_eq!(evs[4].device_id.as_deref(), Some("01a20b8b-7614-7c48-a1f6-b4fc2efb7069"));
    assert_eq!(evs[4].timestamp, at("2026-11-24T03:13:38.839Z"));
}

#[test]
fn browser_flags_get_the_v2_shape() {
    for line in [5, 11, 14] {
        let req = browser(line);
        assert_eq!(req.route(), Route::Flags { v2: true });
        let reply = req.answer();
        assert_eq!((reply.status, reply.content_type), (200, "application/json"));
        let body = body_json(&reply);
        assert_eq!(body["flags"], json!({}), "line {line}");
        assert_eq!(body["errorsWhileComputingFlags"], false);
        let id = body["requestId"].as_str().expect("requestId");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "requestId {id} is a UUID");
        assert!(body.get("featureFlags").is_none(), "v2 has no legacy fields: {body}");
    }
}

#[test]
fn browser_remote_config_script_and_json() {
    for (line, token) in [(0, "posthog_token"), (8, "phc_web")] {
        let reply = browser(line).answer();
        assert_eq!((reply.status, reply.content_type), (200, "application/javascript"));
        let script = String::from_utf8(reply.body).unwrap();
        assert!(script.contains(&format!("window._POSTHOG_REMOTE_CONFIG[\"{token}\"]")), "{script}");
        assert!(script.contains(&format!("\"token\":\"{token}\"")), "{script}");
        assert!(script.contains("siteApps:[]"));
    }
    for (line, token) in [(2, "posthog_token"), (10, "phc_web")] {
        let reply = browser(line).answer();
        assert_eq!((reply.status, reply.content_type), (200, "application/json"));
        let config = body_json(&reply);
        assert_eq!(config["token"], token);
        assert_eq!(config["supportedCompression"], json!(["gzip", "gzip-js"]));
        assert_eq!(config["analytics"]["endpoint"], "/i/v0/e/");
        assert_eq!(config["sessionRecording"], false);
    }
}

#[test]
fn node_batch_gzip_with_content_encoding() {
    let req = load_fixture(NODE).remove(0).received("2026-11-24T03:32:34.881Z");
    assert_eq!(req.route(), Route::Batch);
    assert_eq!(req.incoming().header("content-encoding"), Some("gzip"));
    let (capture, _) = req.capture();
    assert_eq!(capture.steps, vec!["gzip"]);
    assert_eq!(token(&capture), "posthog_node_token");
    let evs = &capture.events;
    assert_eq!(
        names(evs),
        ["viewed pricing", "$identify", "$create_alias", "signed up", "$groupidentify", "bad id event"]
    );
    assert_eq!(ids(evs), ["anon-n1", "user-n1", "user-n1", "user-n1", "$company_acme", "null"]);
    assert_eq!(evs[0].uuid.to_string(), "01a20b9c-cbbf-7aab-9721-94ebab5b8546");
    assert_eq!(evs[1].properties["$anon_distinct_id"], "anon-n1");
    assert_eq!(evs[1].properties["$set"], json!({"email": "max@hedgehogmail.com"}));
    assert_eq!(evs[2].properties["alias"], "legacy-n1");
    assert_eq!(evs[3].properties["$set"], json!({"plan": "free"}));
    assert_eq!(evs[3].properties["$set_once"], json!({"first_seen": "2026-11-24"}));
    assert_eq!(evs[4].properties["$group_set"], json!({"name": "Acme"}));
    assert!(evs.iter().all(|e| e.device_id.is_none()));
    assert_eq!(evs[0].timestamp, at("2026-11-24T03:32:34.871Z"));
    assert!(evs[1..].iter().all(|e| e.timestamp == at("2026-11-24T03:32:34.880Z")));
    // Received 2 s after the client's sent_at: every event moves by 2 s.
    let later = load_fixture(NODE).remove(0).received("2026-11-24T03:32:36.881Z").events();
    assert_eq!(later[0].timestamp, at("2026-11-24T03:32:34.871Z") + Duration::seconds(2));
}

#[test]
fn python_batch_plain_json_with_top_level_set() {
    let req = load_fixture(PYTHON).remove(0).received("2026-11-24T03:32:35.563693+00:00");
    let (capture, _) = req.capture();
    assert!(capture.steps.is_empty());
    assert_eq!(token(&capture), "posthog_python_token");
    let evs = &capture.events;
    assert_eq!(names(evs), ["viewed pricing", "$create_alias", "$set", "$set_once", "personless thing"]);
    assert_eq!(ids(evs), ["anon-p1", "anon-p1", "user-p1", "user-p1", "df04c15f-cff9-42c7-bf98-86c9c12f953c"]);
    assert_eq!(evs[1].properties["alias"], "user-p1");
    // posthog-python `set()` puts `$set` at the top level; it lands in properties.
    assert_eq!(evs[2].properties["$set"], json!({"email": "a@b.c"}));
    assert_eq!(evs[3].properties["$set_once"], json!({"first_seen": "2026-11-24"}));
    assert_eq!(evs[4].properties["$process_person_profile"], Value::Bool(false));
    assert_eq!(evs[0].uuid.to_string(), "1432621f-be08-4120-a6c6-17a618f0dd13");
    assert_eq!(evs[0].timestamp, at("2026-11-24T03:32:35.562833Z"));
    assert_eq!(evs[4].timestamp, at("2026-11-24T03:32:35.563330Z"));
    assert_eq!(evs[0].original_timestamp.as_deref(), Some("2026-11-24T03:32:35.562833+00:00"));
}
