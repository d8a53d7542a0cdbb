//! Every way a PostHog payload can be wrapped.

use crate::common::*;
use serde_json::{json, Value};

fn batch(token: &str, names: &[&str]) -> Value {
    let events: Vec<Value> = names.iter().map(|n| event(n, "user-1")).collect();
    json!({"api_key": token, "batch": events})
}

fn names(req: &Req) -> Vec<String> {
    req.events().into_iter().map(|e| e.event).collect()
}

/// Base64 of a JSON document that is sure to contain `+`, so form decoding turns it into a space.
fn json_whose_base64_has_a_plus() -> (Value, String) {
    for i in 0..200 {
        let body = json!({"api_key": "phc_plus", "batch": [{"event": format!("plus>>{i}?~"), "distinct_id": "u"}]});
        let encoded = b64(body.to_string().as_bytes());
        if encoded.contains('+') {
            return (body, encoded);
        }
    }
    panic!("no base64 with a plus found");
}

#[test]
fn plain_json_with_application_json() {
    let req = Req::json("/batch/", &batch("phc_a", &["one", "two"]));
    let (capture, _) = req.capture();
    assert_eq!(token(&capture), "phc_a");
    assert!(capture.steps.is_empty());
    assert_eq!(names(&req), ["one", "two"]);
}

#[test]
fn json_with_text_plain_is_still_json() {
    let req = Req::post("/e/", batch("phc_a", &["pv"]).to_string()).header("Content-Type", "text/plain");
    assert_eq!(names(&req), ["pv"]);
    let no_type = Req::post("/i/v0/e/", batch("phc_a", &["pv"]).to_string());
    assert_eq!(names(&no_type), ["pv"]);
}

#[test]
fn gzip_is_sniffed_from_magic_bytes_without_any_hint() {
    for path in ["/e/", "/i/v0/e/", "/batch", "/capture"] {
        let req = Req::post(path, gzip(batch("phc_a", &["zipped"]).to_string().as_bytes()))
            .header("Content-Type", "text/plain");
        let (capture, _) = req.capture();
        assert_eq!(capture.steps, vec!["gzip"], "{path}");
        assert_eq!(capture.events[0].event, "zipped");
    }
}

#[test]
fn gzip_hinted_by_query_compression_gzip_js() {
    let mut one = event("old js", "u1");
    one["properties"] = json!({"token": "phc_old"});
    let body_with_token = gzip(json!([one]).to_string().as_bytes());
    let req = Req::post("/e/?compression=gzip-js&ver=1.100.0", body_with_token);
    let (capture, _) = req.capture();
    assert_eq!(capture.steps, vec!["gzip"]);
    assert_eq!(token(&capture), "phc_old");
    // The same hint with `gzip` spelled plainly, and with base64 of the gzip bytes.
    let mut with_token = json!([event("b64 gzip", "u1")]);
    with_token[0]["properties"]["token"] = json!("phc_old");
    let b64_gzip = b64(&gzip(with_token.to_string().as_bytes()));
    let (capture, _) = Req::post("/e/?compression=gzip", b64_gzip).capture();
    assert_eq!(capture.steps, vec!["base64", "gzip"]);
    assert_eq!(capture.events[0].event, "b64 gzip");
}

#[test]
fn gzip_hinted_by_form_compression_field() {
    let zipped = gzip(batch("phc_f", &["form gzip"]).to_string().as_bytes());
    let encoded: String = form_encode(&[("data", &b64(&zipped)), ("compression", "gzip-js")]);
    let (capture, _) = Req::form("/e/", &encoded).capture();
    assert_eq!(capture.steps, vec!["form data=", "base64", "gzip"]);
    assert_eq!(capture.events[0].event, "form gzip");
}

#[test]
fn gzip_hinted_by_content_encoding() {
    let zipped = gzip(batch("phc_n", &["node"]).to_string().as_bytes());
    let req =
        Req::post("/batch/", zipped).header("Content-Encoding", "gzip").header("Content-Type", "application/json");
    let (capture, _) = req.capture();
    assert_eq!(capture.steps, vec!["gzip"]);
    assert_eq!(capture.events[0].event, "node");
}

#[test]
fn concatenated_gzip_members_are_one_payload() {
    let text = batch("phc_m", &["first", "second"]).to_string();
    let (head, tail) = text.split_at(text.len() / 2);
    let mut body = gzip(head.as_bytes());
    body.extend(gzip(tail.as_bytes()));
    assert_eq!(names(&Req::post("/batch", body)), ["first", "second"]);
}

#[test]
fn strict_base64_body_is_decoded() {
    let req = Req::post("/i/v0/e/", b64(batch("phc_b", &["b64 body"]).to_string().as_bytes()));
    let (capture, _) = req.capture();
    assert_eq!(capture.steps, vec!["base64"]);
    assert_eq!(capture.events[0].event, "b64 body");
}

#[test]
fn form_data_with_plus_turned_into_space_is_restored() {
    let (body, encoded) = json_whose_base64_has_a_plus();
    // A raw `+` in a form value means a space; the decoder must put the `+` back.
    let req = Req::form("/e/", &format!("data={encoded}"));
    let (capture, _) = req.capture();
    assert_eq!(capture.steps, vec!["form data=", "base64"]);
    assert_eq!(capture.events[0].event, body["batch"][0]["event"].as_str().unwrap());
    // Properly percent-encoded, the same body decodes too.
    let req = Req::form("/e/", &form_encode(&[("data", &encoded)]));
    assert_eq!(req.events()[0].event, body["batch"][0]["event"].as_str().unwrap());
}

#[test]
fn json_sent_as_data_keeps_its_spaces() {
    // posthog-js without compression posts `data=encodeURIComponent(JSON)`; spaces are real spaces.
    let body = json!({"api_key": "phc_j", "batch": [{"event": "viewed signup", "distinct_id": "user 1",
        "properties": {"name": "Max Hedgehog", "math": "1+1"}}]});
    let pretty = serde_json::to_string_pretty(&body).unwrap();
    for req in [
        Req::form("/e/", &form_encode(&[("data", &pretty)])),
        Req::form("/e/", &form_encode(&[("data", &body.to_string())]).replace('+', "%20")),
        Req::get(&format!("/e/?{}", form_encode(&[("data", &body.to_string())]))),
    ] {
        let (capture, _) = req.capture();
        assert!(!capture.steps.contains(&"base64"), "{:?}", capture.steps);
        let ev = &capture.events[0];
        assert_eq!((ev.event.as_str(), ev.distinct_id.as_str()), ("viewed signup", "user 1"));
        assert_eq!(ev.properties["name"], "Max Hedgehog");
        assert_eq!(ev.properties["math"], "1+1");
    }
}

#[test]
fn get_with_data_query_parameter() {
    let (body, encoded) = json_whose_base64_has_a_plus();
    let want = body["batch"][0]["event"].as_str().unwrap();
    for query in [format!("data={encoded}"), form_encode(&[("data", &encoded)])] {
        let req = Req::get(&format!("/e/?{query}&ip=1"));
        let (capture, _) = req.capture();
        assert_eq!(capture.steps, vec!["query data=", "base64"], "{query}");
        assert_eq!(capture.events[0].event, want);
    }
}

#[test]
fn lz64_from_query_hint_and_from_form_field() {
    let payload = json!([{"event": "lz ✓ ünïcödé", "distinct_id": "u-lz", "properties": {"token": "phc_lz"}}]);
    let compressed = lz_str::compress_to_base64(&payload.to_string());
    let (capture, _) = Req::post("/e/?compression=lz64", compressed.clone()).capture();
    assert_eq!(capture.steps, vec!["lz64"]);
    assert_eq!(capture.events[0].event, "lz ✓ ünïcödé");
    assert_eq!(token(&capture), "phc_lz");

    let form = form_encode(&[("data", &compressed), ("compression", "lz64")]);
    let (capture, _) = Req::form("/e/", &form).capture();
    assert_eq!(capture.steps, vec!["form data=", "lz64"]);
    assert_eq!(capture.events[0].distinct_id, "u-lz");

    let big: Vec<Value> =
        (0..300).map(|i| json!({"event": format!("e{i}"), "distinct_id": "d", "token": "phc_lz"})).collect();
    let compressed = lz_str::compress_to_base64(&Value::Array(big).to_string());
    let events = Req::post("/e/?compression=lz-string", compressed).events();
    assert_eq!(events.len(), 300);
    assert_eq!(events[299].event, "e299");
}

#[test]
fn legacy_routes_decode_base64_found_inside_gzip() {
    let inner = b64(batch("phc_l", &["legacy"]).to_string().as_bytes());
    let body = gzip(inner.as_bytes());
    for path in ["/e/", "/capture", "/track/", "/engage"] {
        let (capture, _) = Req::post(path, body.clone()).capture();
        assert_eq!(capture.steps, vec!["gzip", "base64"], "{path}");
        assert_eq!(capture.events[0].event, "legacy");
    }
    // Newer routes do not: the base64 text is not JSON.
    for path in ["/i/v0/e/", "/batch/"] {
        let e = Req::post(path, body.clone()).reject();
        assert_rejected(&e, 400, "invalid_json", &["not valid JSON"]);
    }
}

#[test]
fn engage_without_event_becomes_identify() {
    let body =
        json!({"$token": "phc_eng", "$distinct_id": "user-e", "$set": {"plan": "pro"}, "$set_once": {"first": 1}});
    let (capture, _) = Req::json("/engage/", &body).capture();
    assert_eq!(token(&capture), "phc_eng");
    let ev = &capture.events[0];
    assert_eq!((ev.event.as_str(), ev.distinct_id.as_str()), ("$identify", "user-e"));
    assert_eq!(ev.properties["$set"], json!({"plan": "pro"}));
    assert_eq!(ev.properties["$set_once"], json!({"first": 1}));
    // Elsewhere, an object without `event` is an error.
    let e = Req::json("/e/", &body).reject();
    assert_rejected(&e, 400, "missing_event_name", &["event 1 of 1", "no `event`"]);
}

#[test]
fn analytics_v1_with_bearer_token() {
    let body = json!({"created_at": "2026-11-24T12:00:10Z", "batch": [
        {"event": "v1 one", "uuid": "0194f6c1-0000-7000-8000-000000000001", "distinct_id": "d1",
         "timestamp": "2026-11-24T12:00:05Z", "session_id": "s-1", "window_id": "w-1",
         "options": {"process_person_profile": false}, "properties": {"k": "v"}},
        {"event": "v1 two", "uuid": "0194f6c1-0000-7000-8000-000000000002", "distinct_id": "d2", "properties": {}}
    ]});
    let req = Req::json("/i/v1/analytics/events", &body).header("Authorization", "Bearer phc_v1");
    let (capture, reply) = req.capture();
    assert_eq!(token(&capture), "phc_v1");
    let ev = &capture.events[0];
    assert_eq!(ev.properties["$session_id"], "s-1");
    assert_eq!(ev.properties["$window_id"], "w-1");
    assert_eq!(ev.properties["$process_person_profile"], false);
    assert_eq!(ev.properties["k"], "v");
    assert_eq!(ev.session_id.as_deref(), Some("s-1"));
    // created_at is the send time: received 10 s "earlier" by the client clock → 12:00:00 - 5 s.
    assert_eq!(ev.timestamp, at("2026-11-24T11:59:55Z"));
    assert_eq!(reply.status, 200);
    assert_eq!(
        body_json(&reply),
        json!({"results": {
            "0194f6c1-0000-7000-8000-000000000001": {"result": "ok"},
            "0194f6c1-0000-7000-8000-000000000002": {"result": "ok"}
        }})
    );
}

#[test]
fn single_event_object() {
    let body = json!({"event": "solo", "distinct_id": "u", "api_key": "phc_solo", "properties": {"a": 1}});
    let (capture, _) = Req::json("/capture/", &body).capture();
    assert_eq!(token(&capture), "phc_solo");
    assert_eq!(capture.events.len(), 1);
    assert_eq!(capture.events[0].properties["a"], 1);
}

#[test]
fn array_of_events_with_token_in_properties() {
    let body = json!([
        {"event": "a", "distinct_id": "u", "properties": {"token": "phc_arr"}},
        {"event": "b", "$distinct_id": "u2", "$token": "phc_arr"},
        {"event": "c", "properties": {"distinct_id": "u3"}}
    ]);
    let (capture, _) = Req::json("/e", &body).capture();
    assert_eq!(token(&capture), "phc_arr");
    let ids: Vec<_> = capture.events.iter().map(|e| e.distinct_id.as_str()).collect();
    assert_eq!(ids, ["u", "u2", "u3"]);
    assert!(capture.events.iter().all(|e| Some(e.project.as_str()) == Some("phc_arr")));
}

#[test]
fn batch_object_with_token_instead_of_api_key() {
    let body = json!({"token": "phc_tok", "batch": [event("x", "u")]});
    assert_eq!(token(&Req::json("/batch", &body).capture().0), "phc_tok");
}

#[test]
fn performance_events_are_dropped_and_reported() {
    let req = Req::json("/e/", &batch("phc_a", &["$pageview", "$performance_event", "click"]));
    let (capture, _) = req.capture();
    assert_eq!(capture.events.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(), ["$pageview", "click"]);
    assert_eq!(capture.dropped.len(), 1);
    assert!(capture.dropped[0].contains("event 2 of 3") && capture.dropped[0].contains("$performance_event"));
}

#[test]
fn missing_or_empty_uuid_gets_a_v7() {
    let body = json!({"api_key": "phc_a", "batch": [
        event("no uuid", "u"),
        {"event": "empty uuid", "uuid": "", "distinct_id": "u"},
        {"event": "given", "uuid": "11111111-2222-4333-8444-555555555555", "distinct_id": "u"}
    ]});
    let evs = Req::json("/e/", &body).events();
    assert_eq!(uuid::Uuid::parse_str(&evs[0].uuid).unwrap().get_version_num(), 7);
    assert_eq!(uuid::Uuid::parse_str(&evs[1].uuid).unwrap().get_version_num(), 7);
    assert_ne!(evs[0].uuid, evs[1].uuid);
    assert_eq!(evs[2].uuid.to_string(), "11111111-2222-4333-8444-555555555555");
}

#[test]
fn beacon_gets_204_and_head_gets_200() {
    let (_, reply) = Req::json("/e/?beacon=1", &batch("phc_a", &["bye"])).capture();
    assert_eq!((reply.status, reply.body.len()), (204, 0));
    let reply = Req::new("HEAD", "/e/", Vec::new()).answer();
    assert_eq!((reply.status, body_json(&reply)), (200, json!({"status": 1})));
}

#[test]
fn recording_snapshots_are_accepted() {
    let body = json!({"api_key": "phc_rec", "batch": [{"event": "$snapshot", "distinct_id": "u",
        "properties": {"$session_id": "s9", "$snapshot_data": [{"type": 2}]}}]});
    let (capture, _) = Req::json("/s/", &body).capture();
    assert_eq!(capture.events[0].event, "$snapshot");
    assert_eq!(capture.events[0].session_id.as_deref(), Some("s9"));
}

/// `application/x-www-form-urlencoded` with every special byte escaped.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}
