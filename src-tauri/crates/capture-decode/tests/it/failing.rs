//! What each vendor answers when it is failing (the replies fault rules inject), and Capture V1's
//! per-event results.

use capture_decode::{posthog, Protocol, Rejection};
use serde_json::{json, Value};

use crate::common::*;

fn failing(req: &Req, status: u16) -> (u16, String, String) {
    let protocol = Protocol::recognise(&req.incoming()).expect("a vendor route");
    let reply = protocol.failing_reply(&req.incoming(), &Rejection::new(status, "fault", "injected by a fault rule"));
    (reply.status, reply.content_type.to_owned(), String::from_utf8(reply.body).expect("text"))
}

/// PostHog's capture answers its failures as text, the error's Display (`rust/capture/src/api.rs`,
/// `CaptureError`'s `IntoResponse`).
#[test]
fn posthog_fails_in_plain_text_as_its_capture_service_does() {
    let batch = Req::json("/batch/", &json!({"api_key": "phc", "batch": []}));
    assert_eq!(failing(&batch, 503).2, "transient error, please retry");
    assert_eq!(failing(&batch, 429).2, "rate limited");
    assert_eq!(failing(&batch, 413), (413, "text/plain; charset=utf-8".into(), "maximum event size exceeded".into()));
    assert_eq!(failing(&batch, 502).2, "injected by a fault rule", "no PostHog body for a gateway's error");
}

#[test]
fn other_vendors_fail_in_their_error_shape() {
    let segment = Req::json("/v1/batch", &json!({"writeKey": "wk", "batch": []}));
    let (status, _, body) = failing(&segment, 503);
    let body: Value = serde_json::from_str(&body).expect("Segment's JSON error");
    assert_eq!((status, body["message"].as_str()), (503, Some("injected by a fault rule")));
    let mixpanel = Req::form("/track?verbose=1", "data=W3siZXZlbnQiOiJ4IiwicHJvcGVydGllcyI6eyJ0b2tlbiI6InQifX1d");
    let (status, _, body) = failing(&mixpanel, 429);
    assert_eq!((status, serde_json::from_str::<Value>(&body).expect("json")["status"].as_i64()), (429, Some(0)));
}

/// `rust/capture/src/v1/analytics/response.rs`: `{"results": {uuid: {"result", "details"}}}`.
#[test]
fn capture_v1_results_name_each_uuid() {
    let reply = posthog::v1_results(["u-1", "u-2"], "retry", "not_persisted");
    assert_eq!(reply.status, 200);
    let body: Value = serde_json::from_slice(&reply.body).expect("json");
    assert_eq!(
        body,
        json!({"results": {"u-1": {"result": "retry", "details": "not_persisted"}, "u-2": {"result": "retry", "details": "not_persisted"}}})
    );
    let v1 = Req::post("/i/v1/analytics/events", "{}");
    assert!(Protocol::recognise(&v1.incoming()).expect("PostHog").is_capture_v1());
    let batch = Req::post("/batch", "{}");
    assert!(!Protocol::recognise(&batch.incoming()).expect("PostHog").is_capture_v1());
}
