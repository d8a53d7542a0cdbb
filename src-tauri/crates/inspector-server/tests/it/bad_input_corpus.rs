//! The bad-input corpus: named requests no SDK should send, each with the status and error code
//! the inspector answers, stored as a rejected request with a readable reason (which the reply
//! carries too, in the vendor's own error shape), with nothing stored as events and the server
//! taking good traffic afterwards. One table per family: PostHog, Segment/RudderStack, Mixpanel.

use crate::common::*;
use axum::body::Body;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// One bad request and what it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    uri: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    /// The stored request's `error_code` (and the `code` of PostHog's JSON error).
    code: &'static str,
    /// A fragment the stored reason must contain ("" for the PostHog rows, which predate it).
    says: &'static str,
}

fn case(name: &'static str, uri: &str, body: impl Into<Vec<u8>>, status: u16, code: &'static str) -> Case {
    Case {
        name,
        method: "POST",
        uri: uri.to_owned(),
        headers: vec![("content-type", "application/json".into())],
        body: body.into(),
        status,
        code,
        says: "",
    }
}

fn says(mut c: Case, fragment: &'static str) -> Case {
    c.says = fragment;
    c
}

fn with_header(mut c: Case, name: &'static str, value: &str) -> Case {
    c.headers.retain(|(k, _)| *k != name);
    c.headers.push((name, value.to_owned()));
    c
}

fn method(mut c: Case, m: &'static str) -> Case {
    c.method = m;
    c
}

fn batch(events: Value) -> Vec<u8> {
    json!({"api_key": "phc_corpus", "batch": events}).to_string().into_bytes()
}

fn one(event: Value) -> Vec<u8> {
    batch(json!([event]))
}

fn ev(extra: Value) -> Value {
    let mut e = json!({"event": "$pageview", "distinct_id": "user-1", "properties": {}});
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

fn gzip_zeros(n: usize) -> Vec<u8> {
    gzip(&vec![b' '; n])
}

fn posthog_cases() -> Vec<Case> {
    let ten_mb_id = "x".repeat(10 << 20);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut huge = String::from("[");
    huge.push_str(&vec!["{\"event\":\"e\",\"distinct_id\":\"u\"}"; 120_000].join(","));
    huge.push(']');
    let good_gzip = gzip(&one(ev(json!({}))));
    vec![
        // Bodies that are not a payload at all.
        case("empty body", "/e/", Vec::new(), 400, "empty_payload"),
        case("empty batch body", "/batch/", Vec::new(), 400, "empty_payload"),
        case("plain text", "/e/", "hello", 400, "invalid_json"),
        case("truncated JSON", "/e/", "{\"event\": \"x\", \"distinct_id\": ", 400, "invalid_json"),
        case(
            "JSON with trailing garbage",
            "/e/",
            "{\"event\":\"x\",\"distinct_id\":\"u\"} trailing",
            400,
            "invalid_json",
        ),
        case("invalid UTF-8", "/e/", b"{\"event\": \"caf\xe9\", \"distinct_id\": \"u\"}".to_vec(), 400, "invalid_utf8"),
        case(
            "NUL bytes outside strings",
            "/e/",
            b"{\"event\":\"x\",\0\"distinct_id\":\"u\"}".to_vec(),
            400,
            "invalid_json",
        ),
        case("deeply nested arrays", "/e/", deep, 400, "invalid_json"),
        case("a bare number", "/e/", "42", 400, "invalid_payload"),
        case("a bare string", "/e/", "\"event\"", 400, "invalid_payload"),
        case("null", "/e/", "null", 400, "invalid_utf8"),
        case("empty array", "/e/", "[]", 400, "empty_batch"),
        case("empty batch array", "/batch/", batch(json!([])), 400, "empty_batch"),
        case(
            "batch is not an array",
            "/batch/",
            json!({"api_key": "phc_corpus", "batch": {"event": "x"}}).to_string(),
            400,
            "invalid_batch",
        ),
        case("batch of numbers", "/batch/", batch(json!([1, 2, 3])), 400, "invalid_event"),
        // Compression and encodings.
        case("truncated gzip", "/batch/", good_gzip[..good_gzip.len() / 2].to_vec(), 400, "invalid_gzip"),
        case("gzip header only", "/batch/", good_gzip[..10].to_vec(), 400, "invalid_gzip"),
        case("gzip hint on plain JSON", "/e/?compression=gzip-js", one(ev(json!({}))), 400, "invalid_gzip"),
        with_header(
            case("Content-Encoding gzip on plain JSON", "/batch/", one(ev(json!({}))), 400, "invalid_gzip"),
            "content-encoding",
            "gzip",
        ),
        case("gzip bomb on /e", "/e/", gzip_zeros(50 << 20), 413, "payload_too_large"),
        case("gzip bomb on /batch", "/batch/", gzip_zeros(60 << 20), 413, "payload_too_large"),
        with_header(
            case("lz64 garbage", "/e/?compression=lz64", "data=%25%25not-lz64%25%25", 400, "invalid_lz64"),
            "content-type",
            "application/x-www-form-urlencoded",
        ),
        with_header(
            case("lz64 of nothing", "/e/?compression=lz64", "data=", 400, "empty_payload"),
            "content-type",
            "application/x-www-form-urlencoded",
        ),
        with_header(
            case("form without data", "/e/", "compression=gzip-js", 400, "missing_form_data"),
            "content-type",
            "application/x-www-form-urlencoded",
        ),
        with_header(
            case("form data not base64", "/e/", "data=***", 400, "invalid_json"),
            "content-type",
            "application/x-www-form-urlencoded",
        ),
        case("raw body over 40 MB", "/batch/", vec![b' '; 41 << 20], 413, "body_too_large"),
        case("120 000 events over the size limit", "/e/", huge, 413, "payload_too_large"),
        // Wrong types for every field.
        case("event name missing", "/batch/", one(json!({"distinct_id": "u"})), 400, "missing_event_name"),
        case("event name is a number", "/batch/", one(ev(json!({"event": 7}))), 400, "invalid_event_name"),
        case("event name is empty", "/batch/", one(ev(json!({"event": ""}))), 400, "missing_event_name"),
        case("event name is an object", "/batch/", one(ev(json!({"event": {"a": 1}}))), 400, "invalid_event_name"),
        case("distinct id missing", "/batch/", one(json!({"event": "e"})), 400, "missing_distinct_id"),
        case("distinct id null", "/batch/", one(ev(json!({"distinct_id": null}))), 400, "missing_distinct_id"),
        case("distinct id empty", "/batch/", one(ev(json!({"distinct_id": ""}))), 400, "missing_distinct_id"),
        case("properties is a string", "/batch/", one(ev(json!({"properties": "a=b"}))), 400, "invalid_properties"),
        case("properties is an array", "/batch/", one(ev(json!({"properties": [1]}))), 400, "invalid_properties"),
        case("$set is a string", "/batch/", one(ev(json!({"$set": "plan"}))), 400, "invalid_set"),
        case("uuid is not a uuid", "/batch/", one(ev(json!({"uuid": "not-a-uuid"}))), 400, "invalid_uuid"),
        case("uuid is a number", "/batch/", one(ev(json!({"uuid": 12}))), 400, "invalid_uuid"),
        case(
            "10 MB distinct id on /e",
            "/e/",
            ev(json!({"distinct_id": ten_mb_id, "token": "phc_corpus"})).to_string(),
            413,
            "body_too_large",
        ),
        // Tokens.
        case("no token anywhere", "/e/", ev(json!({})).to_string(), 401, "no_token"),
        case("token is a number", "/e/", ev(json!({"token": 5})).to_string(), 401, "no_token"),
        case(
            "mixed tokens in one batch",
            "/batch/",
            json!({"batch": [ev(json!({"api_key": "phc_a"})), ev(json!({"api_key": "phc_b"}))]}).to_string(),
            401,
            "mixed_tokens",
        ),
        case(
            "personal API key",
            "/batch/",
            json!({"api_key": "phx_personal_key", "batch": [ev(json!({}))]}).to_string(),
            401,
            "personal_api_key",
        ),
        // Routes and methods.
        case("unknown route", "/v2/capture-everything", one(ev(json!({}))), 404, "unknown_route"),
        case("path traversal", "/../../etc/passwd", "", 404, "unknown_route"),
        method(case("DELETE on capture", "/e/", Vec::new(), 405, "method_not_allowed"), "DELETE"),
        method(case("PUT on batch", "/batch/", one(ev(json!({}))), 405, "method_not_allowed"), "PUT"),
    ]
}

const SEGMENT_AUTH: &str = "Basic d2tfY29ycHVzOg=="; // wk_corpus:

/// A Segment request with the corpus write key in Basic auth.
fn sg(
    name: &'static str,
    uri: &str,
    body: impl Into<Vec<u8>>,
    status: u16,
    code: &'static str,
    fragment: &'static str,
) -> Case {
    says(with_header(case(name, uri, body, status, code), "authorization", SEGMENT_AUTH), fragment)
}

fn segment_cases() -> Vec<Case> {
    let track = |extra: Value| {
        let mut m = json!({"event": "Signed Up", "userId": "u1"});
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        m.to_string()
    };
    let good_gzip = gzip(json!({"batch": [{"type": "track", "event": "e", "userId": "u"}]}).to_string().as_bytes());
    let big_props = json!({"big": "x".repeat(40 << 10)});
    let rudder_batch = json!({"batch": [{"type": "track", "event": "e", "channel": "server"}]}).to_string();
    vec![
        sg("segment: empty body", "/v1/batch", Vec::new(), 400, "empty_payload", "empty request body"),
        sg(
            "segment: truncated gzip",
            "/v1/batch",
            good_gzip[..good_gzip.len() - 8].to_vec(),
            400,
            "invalid_gzip",
            "could not be decompressed",
        ),
        sg("segment: plain text", "/v1/t", "hello", 400, "invalid_json", "not valid JSON"),
        sg("segment: body is an array", "/v1/track", "[1]", 400, "invalid_payload", "Segment expects a JSON object"),
        sg(
            "segment: batch is an object",
            "/v1/batch",
            json!({"batch": {}}).to_string(),
            400,
            "invalid_batch",
            "expected an array",
        ),
        sg("segment: empty batch", "/v1/b", json!({"batch": []}).to_string(), 400, "empty_batch", "no messages"),
        sg(
            "segment: batch context is a string",
            "/v1/batch",
            json!({"context": "x", "batch": [{}]}).to_string(),
            400,
            "invalid_batch",
            "batch-level `context`",
        ),
        says(
            case("segment: no write key anywhere", "/v1/track", track(json!({})), 401, "no_write_key"),
            "no write key",
        ),
        sg(
            "segment: neither userId nor anonymousId",
            "/v1/track",
            track(json!({"userId": null})),
            400,
            "no_user_anon_id",
            "no_user_anon_id",
        ),
        sg(
            "segment: userId is an object",
            "/v1/track",
            track(json!({"userId": {"id": 1}})),
            400,
            "invalid_message",
            "`userId` must be a string or a number",
        ),
        sg(
            "segment: anonymousId is a boolean",
            "/v1/i",
            json!({"anonymousId": true}).to_string(),
            400,
            "invalid_message",
            "`anonymousId` must be",
        ),
        sg("segment: NUL in userId", "/v1/track", track(json!({"userId": "u\u{0}1"})), 400, "invalid_message", "NUL"),
        sg(
            "segment: 10 MB userId",
            "/v1/identify",
            json!({"userId": "x".repeat(10 << 20)}).to_string(),
            400,
            "message_too_large",
            "32 KB",
        ),
        sg(
            "segment: oversized message in a batch",
            "/v1/batch",
            json!({"batch": [{"type": "track", "event": "e", "userId": "u", "properties": big_props}]}).to_string(),
            400,
            "message_too_large",
            "32 KB",
        ),
        sg("segment: batch over 500 KB", "/v1/batch", vec![b' '; 600 << 10], 400, "batch_too_large", "500 KB"),
        sg("segment: gzip bomb", "/v1/batch", gzip_zeros(20 << 20), 400, "batch_too_large", "500 KB"),
        sg(
            "segment: timestamp is a number",
            "/v1/track",
            track(json!({"timestamp": 1795491131})),
            400,
            "invalid_message",
            "ISO 8601",
        ),
        sg(
            "segment: unknown type",
            "/v1/batch",
            json!({"batch": [{"type": "teleport", "userId": "u"}]}).to_string(),
            400,
            "unknown_type",
            "teleport",
        ),
        sg(
            "segment: batch message without type",
            "/v1/batch",
            json!({"batch": [{"userId": "u"}]}).to_string(),
            400,
            "missing_type",
            "no `type`",
        ),
        sg(
            "segment: track without event",
            "/v1/track",
            json!({"userId": "u"}).to_string(),
            400,
            "missing_event_name",
            "no `event` name",
        ),
        sg(
            "segment: event is a number",
            "/v1/track",
            track(json!({"event": 5})),
            400,
            "invalid_message",
            "`event` must be a string",
        ),
        sg(
            "segment: context is a string",
            "/v1/track",
            track(json!({"context": "web"})),
            400,
            "invalid_message",
            "`context` must be an object",
        ),
        sg(
            "segment: duplicate keys, the last userId empty",
            "/v1/track",
            r#"{"event":"e","userId":"u","userId":""}"#,
            400,
            "no_user_anon_id",
            "neither",
        ),
        sg(
            "segment: alias without previousId",
            "/v1/alias",
            json!({"userId": "u"}).to_string(),
            400,
            "missing_previous_id",
            "previousId",
        ),
        sg(
            "segment: group without groupId",
            "/v1/group",
            json!({"userId": "u"}).to_string(),
            400,
            "missing_group_id",
            "groupId",
        ),
        method(sg("segment: GET on batch", "/v1/batch", Vec::new(), 405, "method_not_allowed", "takes POST"), "GET"),
        method(
            sg("segment: PUT on track", "/v1/track", track(json!({})), 405, "method_not_allowed", "GET or POST"),
            "PUT",
        ),
        method(
            sg("segment: POST on settings", "/v1/projects/wk/settings", "{}", 405, "method_not_allowed", "takes GET"),
            "POST",
        ),
        method(
            says(
                case("rudder: sourceConfig without write key", "/sourceConfig", Vec::new(), 401, "no_write_key"),
                "no write key",
            ),
            "GET",
        ),
        says(
            case(
                "rudder: beacon with broken JSON",
                "/beacon/v1/batch?writeKey=rk",
                "{\"batch\": [",
                400,
                "invalid_json",
            ),
            "ends too early",
        ),
        sg("rudder: message without ids", "/v1/batch", rudder_batch, 400, "no_user_anon_id", "no_user_anon_id"),
    ]
}

/// A Mixpanel request as mixpanel-browser sends it: `data=<base64 JSON>` form, `verbose=1`.
fn mp(name: &'static str, path: &str, data: Value, status: u16, code: &'static str, fragment: &'static str) -> Case {
    mp_raw(name, path, &b64(data.to_string().as_bytes()), status, code, fragment)
}

fn mp_raw(name: &'static str, path: &str, data: &str, status: u16, code: &'static str, fragment: &'static str) -> Case {
    let c = case(name, &format!("{path}?verbose=1&ip=1"), format!("data={data}"), status, code);
    says(with_header(c, "content-type", "application/x-www-form-urlencoded"), fragment)
}

fn mixpanel_cases() -> Vec<Case> {
    let ev = |props: Value| {
        let mut p = json!({"token": "mp_corpus", "distinct_id": "u1", "time": 1795491131.5, "$insert_id": "abc"});
        for (k, v) in props.as_object().unwrap() {
            p[k] = v.clone();
        }
        json!([{"event": "Signed Up", "properties": p}])
    };
    let good_gzip = gzip(ev(json!({})).to_string().as_bytes());
    vec![
        mp_raw(
            "mixpanel: base64 garbage in data",
            "/track/",
            "%25%25%25%25not-base64",
            400,
            "invalid_json",
            "not valid JSON",
        ),
        mp_raw(
            "mixpanel: data decodes to text",
            "/track/",
            "aGVsbG8gd29ybGQ=",
            400,
            "invalid_json",
            "after decoding the body as",
        ),
        mp_raw("mixpanel: empty data", "/track/", "", 400, "empty_payload", "empty request"),
        mp("mixpanel: empty array", "/track/", json!([]), 400, "empty_batch", "no events"),
        mp("mixpanel: array of numbers", "/track/", json!([1, 2]), 400, "invalid_event", "not a JSON object"),
        mp("mixpanel: a bare string", "/track/", json!("Signed Up"), 400, "invalid_payload", "Mixpanel expects"),
        mp(
            "mixpanel: event without name",
            "/track/",
            json!([{"properties": {"token": "t", "time": 1}}]),
            400,
            "missing_event_name",
            "no `event` name",
        ),
        mp(
            "mixpanel: event name is an object",
            "/track/",
            json!([{"event": {}, "properties": {"token": "t"}}]),
            400,
            "invalid_event_name",
            "must be a string",
        ),
        mp(
            "mixpanel: properties is a string",
            "/track/",
            json!([{"event": "e", "properties": "token=t"}]),
            400,
            "invalid_properties",
            "`properties` must be an object",
        ),
        mp("mixpanel: no token", "/track/", ev(json!({"token": null})), 401, "no_token", "properties.token"),
        mp("mixpanel: token is a number", "/track/", ev(json!({"token": 7})), 400, "invalid_token", "must be a string"),
        mp(
            "mixpanel: distinct_id is an object",
            "/track/",
            ev(json!({"distinct_id": {"a": 1}})),
            400,
            "invalid_distinct_id",
            "must be a string or a number",
        ),
        mp(
            "mixpanel: NUL in distinct_id",
            "/track/",
            ev(json!({"distinct_id": "u\u{0}"})),
            400,
            "invalid_distinct_id",
            "NUL",
        ),
        mp(
            "mixpanel: time is a string",
            "/track/",
            ev(json!({"time": "yesterday"})),
            400,
            "invalid_time",
            "must be a number",
        ),
        mp(
            "mixpanel: absurd future time",
            "/track/",
            ev(json!({"time": 1e15})),
            400,
            "invalid_time",
            "between 1970 and 9999",
        ),
        mp("mixpanel: negative time", "/track/", ev(json!({"time": -1})), 400, "invalid_time", "between 1970 and 9999"),
        mp(
            "mixpanel: engage without $distinct_id",
            "/engage/",
            json!([{"$token": "t", "$set": {"a": 1}}]),
            400,
            "missing_distinct_id",
            "$distinct_id",
        ),
        mp(
            "mixpanel: engage $token is an array",
            "/engage/",
            json!([{"$token": ["t"], "$distinct_id": "u"}]),
            400,
            "invalid_token",
            "`$token` must be a string",
        ),
        mp(
            "mixpanel: groups without $group_id",
            "/groups/",
            json!([{"$token": "t", "$group_key": "company"}]),
            400,
            "missing_group_id",
            "$group_id",
        ),
        says(
            case(
                "mixpanel: import without time",
                "/import?strict=1",
                ev(json!({"time": null})).to_string(),
                400,
                "missing_time",
            ),
            "properties.time",
        ),
        says(
            case(
                "mixpanel: truncated gzip on import",
                "/import",
                good_gzip[..good_gzip.len() - 10].to_vec(),
                400,
                "invalid_gzip",
            ),
            "gzip",
        ),
        mp_raw(
            "mixpanel: 10 MB distinct id",
            "/track/",
            &"x".repeat(10 << 20),
            413,
            "body_too_large",
            "larger than 4 MB",
        ),
        method(
            mp("mixpanel: DELETE on engage", "/engage/", json!([]), 405, "method_not_allowed", "GET or POST"),
            "DELETE",
        ),
    ]
}

/// The reason a reply carries, whatever the vendor's error shape: PostHog `detail`, Segment
/// `message`, Mixpanel `error`, RudderStack plain text.
fn reply_reason(resp: &Resp) -> String {
    match serde_json::from_slice::<Value>(&resp.body) {
        Ok(body) => {
            ["detail", "message", "error"].iter().find_map(|k| body[*k].as_str()).unwrap_or_default().to_owned()
        }
        Err(_) => resp.text(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_input_is_refused_named_stored_and_survived() {
    let app = app();
    let mut cases = posthog_cases();
    assert!(cases.len() >= 45, "the PostHog corpus shrank: {} cases", cases.len());
    let vendors: Vec<Case> = segment_cases().into_iter().chain(mixpanel_cases()).collect();
    assert!(vendors.len() >= 50, "the Segment/RudderStack/Mixpanel corpus shrank: {} cases", vendors.len());
    cases.extend(vendors);
    let mut failures = Vec::new();
    for c in cases {
        let mut builder = req(c.method, &c.uri);
        for (k, v) in &c.headers {
            builder = builder.header(*k, v);
        }
        let before = app.rejected().await.len();
        let resp = app.send(builder.body(Body::from(c.body)).unwrap()).await;
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let rejected = app.rejected().await;
        let stored_code = rejected.first().and_then(|r| r["error_code"].as_str()).unwrap_or("<none>").to_owned();
        let got = (resp.status.as_u16(), stored_code);
        if rejected.len() != before + 1 || got != (c.status, c.code.to_owned()) {
            failures.push(format!(
                "{}: expected {} {}, got {} {} ({})",
                c.name,
                c.status,
                c.code,
                got.0,
                got.1,
                resp.text().chars().take(200).collect::<String>()
            ));
            continue;
        }
        let stored = rejected[0]["error"].as_str().unwrap_or_default();
        if stored.len() < 10 || !stored.contains(c.says) {
            failures.push(format!("{}: the stored reason {stored:?} should be readable and say {:?}", c.name, c.says));
        }
        // The SDK gets the same reason (Mixpanel without `verbose` only says `0`).
        if reply_reason(&resp) != stored {
            failures.push(format!("{}: the reply {:?} does not carry the reason {stored:?}", c.name, resp.text()));
        }
        if c.says.is_empty() && body["code"] != c.code {
            failures.push(format!("{}: PostHog's error code should be {}, got {}", c.name, c.code, body["code"]));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));

    // Nothing got in as events, and good traffic still works.
    assert_eq!(app.events("limit=10").await.len(), 0);
    let ok = app.post_json("/e/", &json!({"event": "still alive", "distinct_id": "u", "token": "phc_alive"})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let health = app.api("/api/health").await;
    assert_eq!(health["status"], "ok");
}

/// Not refused: PostHog cuts a distinct id to 200 characters, and so does the inspector, saying
/// so on the event (a 10 MB id fits in `/batch`'s 20 MB).
#[tokio::test(flavor = "multi_thread")]
async fn a_10_mb_distinct_id_in_a_batch_is_cut_and_noted() {
    let app = app();
    let id = "x".repeat(10 << 20);
    let resp = app.post("/batch/", &[("content-type", "application/json")], one(ev(json!({"distinct_id": id})))).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let events = app.events("limit=1").await;
    assert_eq!(events[0]["distinct_id"].as_str().map(|d| d.chars().count()), Some(200));
    assert!(events[0]["warnings"].to_string().contains("200"), "{}", events[0]["warnings"]);
}

/// A body that happens to be valid base64 is decoded as such (the protocol allows it), so the
/// reason says so rather than only "not valid UTF-8".
#[tokio::test(flavor = "multi_thread")]
async fn a_reason_names_the_decoding_that_ran_before_it() {
    let app = app();
    let resp = app.post("/e/", &[("content-type", "application/json")], "null").await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.json()["detail"],
        "payload is not valid UTF-8 (first bad byte at offset 0) (after decoding the body as: base64)"
    );
}
