//! KISSmetrics calls (support.kissmetrics.io "API specifications": `/e`, `/s`, `/a` with `_k`,
//! `_p`, `_n`, `_t`, `_d`), in the query as the JS library's image GETs send them or as a
//! form body, and the rule telling them from PostHog on `/e` and `/s`, checked against every
//! PostHog recording.

use crate::common::*;
use capture_decode::{kissmetrics, posthog, Protocol, Source};
use serde_json::json;

#[test]
fn event_in_the_query_as_the_js_library_sends_it() {
    let req = Req::get("/e?_k=km-key-1&_p=4tyjk0zrrtnz5xdmcjzhso4bdya%3D&_n=Viewed+Signup&plan=pro&_t=1795491131&_d=1");
    assert_eq!(req.protocol(), Some(Protocol::Kissmetrics(kissmetrics::Route::Event)));
    let (capture, reply) = req.wire_capture();
    assert_eq!(capture.source, Source::Kissmetrics);
    assert_eq!((reply.status, reply.content_type, reply.body.as_slice()), (200, "image/gif", kissmetrics::GIF));
    let e = &capture.events[0];
    assert_eq!(
        (e.project.as_str(), e.distinct_id.as_str(), e.event.as_str()),
        ("km-key-1", "4tyjk0zrrtnz5xdmcjzhso4bdya=", "Viewed Signup")
    );
    assert_eq!(e.source, Source::Kissmetrics);
    assert_eq!(e.timestamp.timestamp(), 1_795_491_131, "_t is used with _d=1");
    assert_eq!(
        serde_json::Value::Object(e.properties.clone()),
        json!({"plan": "pro"}),
        "reserved parameters are not properties"
    );
}

#[test]
fn time_without_d_is_the_time_of_receipt() {
    let (capture, _) = Req::get("/e?_k=k&_p=bob&_n=Signed+Up&_t=1795491131").wire_capture();
    let e = &capture.events[0];
    assert_eq!(e.timestamp, at(RECEIVED));
    assert_eq!(e.original_timestamp.as_deref(), Some("1795491131"));
    assert!(e.warnings[0].contains("_d=1"));
}

#[test]
fn set_and_alias_in_a_form_body_as_server_libraries_send_them() {
    let set = Req::form("/s", "_k=k&_p=bob%40example.com&Plan=Gold");
    assert_eq!(set.protocol(), Some(Protocol::Kissmetrics(kissmetrics::Route::Set)));
    let (capture, reply) = set.wire_capture();
    assert_eq!(reply.content_type, "image/gif");
    let e = &capture.events[0];
    assert_eq!((e.event.as_str(), e.distinct_id.as_str()), (kissmetrics::SET_EVENT, "bob@example.com"));
    assert_eq!(e.properties["$set"], json!({"Plan": "Gold"}));

    // Identities page: /a?_k=api-key&_p=User+12345&_n=bob%40bob.com
    let alias = Req::form("/a", "_k=k&_p=User+12345&_n=bob%40bob.com");
    let (capture, _) = alias.wire_capture();
    let e = &capture.events[0];
    assert_eq!((e.event.as_str(), e.distinct_id.as_str()), (kissmetrics::ALIAS_EVENT, "User 12345"));
    assert_eq!(serde_json::Value::Object(e.properties.clone()), json!({"alias": "bob@bob.com"}), "the other identity");
    assert_eq!(Req::get("/a?_k=k&_p=a&_n=b").protocol(), Some(Protocol::Kissmetrics(kissmetrics::Route::Alias)));
}

#[test]
fn missing_key_person_or_name_is_refused_naming_the_parameter() {
    for (url, param) in [
        ("/e?_p=bob&_n=x", "`_k`"),
        ("/e?_k=k&_n=x", "`_p`"),
        ("/s?_k=k&_p=", "`_p`"),
        ("/e?_k=k&_p=bob", "`_n`"),
        ("/a?_k=k&_p=bob", "`_n`"),
    ] {
        let refusal = Req::get(url).wire_refusal();
        assert_eq!(refusal.source, Source::Kissmetrics, "{url}");
        assert_rejected(&refusal.rejection, 400, "missing_parameter", &[param]);
        assert_eq!(refusal.reply.status, 400);
        assert!(String::from_utf8_lossy(&refusal.reply.body).contains(param));
    }
    let bad_time = Req::get("/e?_k=k&_p=bob&_n=x&_t=soon&_d=1").wire_refusal();
    assert_rejected(&bad_time.rejection, 400, "invalid_time", &["soon"]);
}

#[test]
fn every_posthog_recording_stays_posthog() {
    for file in ["posthog-js-browser.jsonl", "posthog-node.jsonl", "posthog-python.jsonl"] {
        for (i, req) in load_fixture(file).iter().enumerate() {
            let protocol = req.protocol();
            assert!(matches!(protocol, Some(Protocol::Posthog(_))), "{file} line {i}: {protocol:?}");
            let source = match protocol.unwrap().handle(&req.incoming()) {
                Ok(outcome) => outcome.source(),
                Err(refusal) => refusal.source,
            };
            assert_eq!(source, Source::Posthog, "{file} line {i} decodes as PostHog");
        }
    }
    // Hand-shaped posthog-js requests on the shared paths: its query (`ip`, `_`, `ver`,
    // `compression`) and its `data=` form body.
    for req in [
        Req::form("/e/?ip=1&_=1700000000000&ver=1.200.0", "data=eyJldmVudCI6IngifQ%3D%3D"),
        Req::post("/e?compression=gzip-js&ip=1&_=1700000000000&ver=1.200.0", gzip(b"{}")),
        Req::json("/s?ip=1&_=1700000000000&ver=1.200.0", &json!([{"event": "$snapshot", "properties": {}}])),
        Req::get("/e?data=eyJldmVudCI6IngifQ%3D%3D"),
    ] {
        let protocol = req.protocol();
        assert!(
            matches!(protocol, Some(Protocol::Posthog(posthog::Route::Capture { .. } | posthog::Route::Recording))),
            "{} {:?}: {protocol:?}",
            req.path,
            req.query
        );
    }
}
