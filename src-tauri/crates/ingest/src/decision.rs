//! What to do with one request on a capture path, decided without I/O: its label, the rows to
//! store and the reply. The live handler and imports ([`decode_raw`]) both go through [`decide`].

use capture_decode::{
    posthog, protocol, Capture, Event, Outcome, Protocol, Received, Refusal, Rejection, Reply, Source,
};
use chrono::Utc;
use event_store::{to_micros, ImportRow, NewEvent, NewRequest, Outcome as Stored, RequestDetail, IMPORT_PREFIX};
use serde_json::{json, Value};

/// Read limit for paths no vendor uses (stored as rejected, 404).
pub const UNKNOWN_PATH_LIMIT: usize = 2 << 20;

/// The `source` and `route` a request is stored with; `None` for unknown paths.
#[derive(Debug, Clone, Copy, Default)]
pub struct Label {
    pub source: Option<Source>,
    pub route: Option<&'static str>,
}

#[derive(Debug)]
pub enum Decision {
    /// Store the request as accepted with these events, then answer. `forward`: a PostHog
    /// capture, which forward mode sends on to PostHog.
    Accept { label: Label, events: Vec<NewEvent>, note: Option<String>, reply: Reply, forward: bool },
    /// Store the request as rejected, then answer.
    Refuse { label: Label, rejection: Rejection, reply: Reply },
    /// Store nothing (a bare `OPTIONS`); answer.
    Ignore(Reply),
}

/// The row a request is kept as, accepted or rejected, with what the inspector made of it.
pub fn record(
    received: Received,
    label: Label,
    outcome: Stored,
    status: u16,
    error: Option<&Rejection>,
    note: Option<String>,
) -> NewRequest {
    let project = named_project(&received, outcome);
    NewRequest {
        project,
        received_at: to_micros(received.received_at),
        method: received.method,
        path: received.path,
        query: received.query,
        headers: received.headers,
        body: received.body,
        source: label.source.map(|s| s.as_str().to_owned()),
        route: label.route.map(str::to_owned),
        outcome,
        status,
        error: error.map(|e| e.message.clone()),
        error_code: error.map(|e| e.code.to_owned()),
        note,
    }
}

/// The project key a request without events names, read where its vendor reads it
/// (`Protocol::project_key`): a refused request, or a flags, config or settings call, is then
/// kept with its project. Accepted (and faulted) capture requests are left to the store, which
/// takes their events' project, so the hot path never unwraps a body twice.
fn named_project(received: &Received, outcome: Stored) -> Option<String> {
    let req = received.incoming();
    let protocol = Protocol::recognise(&req)?;
    if !matches!(outcome, Stored::Rejected) && protocol.is_capture() {
        return None;
    }
    protocol.project_key(&req)
}

/// How many body bytes the live handler reads on `path` before refusing (413).
pub fn read_limit(path: &str, query: Option<&str>) -> usize {
    protocol::read_limit(path, query).unwrap_or(UNKNOWN_PATH_LIMIT)
}

/// The refusal of a body over the read limit.
pub fn too_large(limit: usize) -> Rejection {
    Rejection::new(413, "body_too_large", format!("request body is larger than {}", capture_decode::human_size(limit)))
}

/// A request on a path no vendor uses: stored as rejected (404), answered with PostHog's error
/// body.
pub fn unknown_route(received: &Received) -> Decision {
    let rejection = Rejection::new(
        404,
        "unknown_route",
        format!("no analytics SDK endpoint at {} {}", received.method, received.path),
    );
    Decision::Refuse { label: Label::default(), reply: posthog::error_reply(&rejection), rejection }
}

fn method_refused(received: &Received) -> Option<Rejection> {
    (!matches!(received.method.as_str(), "GET" | "POST" | "HEAD" | "OPTIONS")).then(|| {
        Rejection::new(
            405,
            "method_not_allowed",
            format!("{} is not accepted on {}; SDKs use GET or POST", received.method, received.path),
        )
    })
}

/// `problem`: the body could not be read (too large, broken connection).
pub fn decide(received: &Received, problem: Option<Rejection>) -> Decision {
    let req = received.incoming();
    let Some(protocol) = Protocol::recognise(&req) else {
        return unknown_route(received);
    };
    let labelled = |source| Label { source: Some(source), route: Some(protocol.route_name()) };
    let refused = |Refusal { source, rejection, reply }| Decision::Refuse { label: labelled(source), rejection, reply };
    if let Some(rejection) = problem.or_else(|| method_refused(received)) {
        return refused(protocol.refuse(&req, rejection));
    }
    if received.method == "OPTIONS" {
        // A bare OPTIONS (not a CORS preflight, which the CORS layer answers) is harmless.
        return Decision::Ignore(Reply::empty(200));
    }
    match protocol.handle(&req) {
        Err(refusal) => refused(refusal),
        Ok(Outcome::Answer(source, reply)) => {
            Decision::Accept { label: labelled(source), events: Vec::new(), note: None, reply, forward: false }
        }
        Ok(Outcome::Capture(Capture { events, .. }, _)) if reserved_project(&events).is_some() => {
            let project = reserved_project(&events).unwrap_or_default();
            refused(protocol.refuse(&req, reserved(project)))
        }
        Ok(Outcome::Capture(Capture { source, events, dropped, steps }, reply)) => {
            let received_at = to_micros(received.received_at);
            let mut note = steps_note(&steps);
            note.extend(dropped);
            Decision::Accept {
                label: labelled(source),
                events: events.into_iter().map(|e| new_event(e, received_at)).collect(),
                note: (!note.is_empty()).then(|| note.join("; ")),
                reply,
                forward: source == Source::Posthog,
            }
        }
    }
}

/// The first event whose project token claims an imported data set's name.
fn reserved_project(events: &[Event]) -> Option<&str> {
    events.iter().map(|e| e.project.as_str()).find(|p| p.starts_with(IMPORT_PREFIX))
}

/// Live traffic cannot claim `import:`: the store files imported data sets under
/// `import:<name>/<token>` and keeps them out of retention, so a live token with that prefix
/// would escape retention and mix into an imported data set of the same name.
fn reserved(project: &str) -> Rejection {
    Rejection::bad_request(
        "reserved_token",
        format!(
            "project token {:?} starts with {IMPORT_PREFIX:?}, which is reserved for imported data sets",
            capture_decode::redact_key(project)
        ),
    )
}

fn steps_note(steps: &[&str]) -> Vec<String> {
    if steps.is_empty() {
        Vec::new()
    } else {
        vec![format!("decoded: {}", steps.join(" → "))]
    }
}

/// The one mapping from a decoded event to its row, for every vendor.
fn new_event(e: Event, received_at: i64) -> NewEvent {
    NewEvent {
        uuid: e.uuid,
        project: e.project,
        source: e.source.as_str().to_owned(),
        event: e.event,
        distinct_id: e.distinct_id,
        device_id: e.device_id,
        session_id: e.session_id,
        timestamp: to_micros(e.timestamp),
        original_timestamp: e.original_timestamp,
        sent_at: e.sent_at,
        received_at,
        properties: Value::Object(e.properties).to_string(),
        warnings: e.warnings,
    }
}

/// What the live handler stores for `raw`, without the network: the same route table, size
/// limit, method check, decoding and rows. `None` for what it stores nothing of (a bare
/// `OPTIONS`). Imports (bundles, HARs, NDJSON) go through this, so an imported request is
/// stored exactly as if it had arrived at `raw.received_at`.
pub fn decode_raw(raw: &Received) -> Option<ImportRow> {
    let limit = read_limit(&raw.path, raw.query.as_deref());
    let problem = (raw.body.len() > limit).then(|| too_large(limit));
    match decide(raw, problem) {
        Decision::Ignore(_) => None,
        Decision::Refuse { label, rejection, .. } => {
            Some((record(raw.clone(), label, Stored::Rejected, rejection.status, Some(&rejection), None), Vec::new()))
        }
        Decision::Accept { label, events, note, reply, .. } => {
            Some((record(raw.clone(), label, Stored::Accepted, reply.status, None, note), events))
        }
    }
}

/// The payload of a stored request as the SDK meant it (after base64, gzip, forms...), for the
/// request detail view. `{"error": ...}` when it does not decode, which is often why it was rejected.
pub fn decoded_body(detail: &RequestDetail) -> Value {
    let headers: Vec<(String, String)> = serde_json::from_str(detail.headers.get()).unwrap_or_default();
    let req = capture_decode::Incoming {
        method: &detail.summary.method,
        path: &detail.summary.path,
        query: detail.summary.query.as_deref(),
        headers: &headers,
        body: &detail.body,
        received_at: Utc::now(),
    };
    let Some(protocol) = Protocol::recognise(&req).filter(Protocol::is_capture) else {
        return Value::Null;
    };
    let unwrapped = protocol.unwrap_body(&req);
    match unwrapped.and_then(|u| capture_decode::payload::parse_json(&u.bytes).map(|json| (u.steps, json))) {
        Ok((steps, json)) => json!({"steps": steps, "json": json}),
        Err(rejection) => json!({"error": rejection.message}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(method: &str, path: &str, body: &str) -> Received {
        Received {
            received_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time"),
            method: method.into(),
            path: path.into(),
            query: None,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn accepted(decision: Decision) -> (Label, Vec<NewEvent>, Reply, bool) {
        match decision {
            Decision::Accept { label, events, reply, forward, .. } => (label, events, reply, forward),
            other => panic!("expected the request to be accepted, got {other:?}"),
        }
    }

    #[test]
    fn every_vendor_s_events_become_rows_through_one_mapping() {
        let posthog = received(
            "POST",
            "/batch/",
            r#"{"api_key":"phc_a","batch":[{"event":"$pageview","distinct_id":"anon-1"}]}"#,
        );
        let (label, events, reply, forward) = accepted(decide(&posthog, None));
        assert_eq!((label.source, label.route), (Some(Source::Posthog), Some("batch")));
        assert_eq!(reply.status, 200);
        assert!(forward, "forward mode sends PostHog captures on to PostHog");
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].project.as_str(), events[0].source.as_str()), ("phc_a", "posthog"));
        assert_eq!(events[0].distinct_id, "anon-1");

        let segment = received(
            "POST",
            "/v1/batch",
            r#"{"writeKey":"wk_a","batch":[{"type":"track","event":"Signed Up","anonymousId":"anon-2","messageId":"m-1"}]}"#,
        );
        let (label, events, reply, forward) = accepted(decide(&segment, None));
        assert_eq!(label.source, Some(Source::Segment));
        assert_eq!(reply.status, 200);
        assert!(!forward, "forward mode is PostHog's only");
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].project.as_str(), events[0].source.as_str()), ("wk_a", "segment"));
        assert_eq!((events[0].uuid.as_str(), events[0].event.as_str()), ("m-1", "Signed Up"));
        assert_eq!(events[0].received_at, to_micros(segment.received_at), "arrival time is the request's");
    }

    #[test]
    fn a_live_token_cannot_claim_an_imported_data_set() {
        let posthog = received("POST", "/e/", r#"{"api_key":"import:bug-1","event":"x","distinct_id":"u"}"#);
        match decide(&posthog, None) {
            Decision::Refuse { label, rejection, reply } => {
                assert_eq!(
                    (label.source, rejection.status, rejection.code),
                    (Some(Source::Posthog), 400, "reserved_token")
                );
                assert_eq!(reply.status, 400);
            }
            other => panic!("an import: token is refused, got {other:?}"),
        }
        // Imports decide the same way: such a row is stored as rejected, with no events.
        let (row, events) = decode_raw(&posthog).expect("stored");
        assert_eq!((row.outcome, events.len()), (Stored::Rejected, 0));
    }

    #[test]
    fn unknown_paths_and_wrong_methods_are_refused_and_a_bare_options_is_not_stored() {
        match decide(&received("POST", "/nowhere", "{}"), None) {
            Decision::Refuse { label, rejection, reply } => {
                assert_eq!((label.source, rejection.status, rejection.code), (None, 404, "unknown_route"));
                assert_eq!(reply.status, 404);
            }
            other => panic!("an unknown path is refused, got {other:?}"),
        }
        match decide(&received("PUT", "/batch/", "{}"), None) {
            Decision::Refuse { label, rejection, .. } => {
                assert_eq!((label.source, rejection.status), (Some(Source::Posthog), 405));
            }
            other => panic!("PUT is refused, got {other:?}"),
        }
        assert!(decode_raw(&received("OPTIONS", "/batch/", "")).is_none(), "a bare OPTIONS stores nothing");
    }

    #[test]
    fn an_imported_request_over_the_route_s_limit_is_stored_as_rejected_like_live_capture() {
        let limit = read_limit("/batch/", None);
        let mut big = received("POST", "/batch/", "");
        big.body = vec![b' '; limit + 1];
        let (request, events) = decode_raw(&big).expect("an oversized request is still recorded");
        assert!(events.is_empty());
        assert_eq!((request.status, request.error_code.as_deref()), (413, Some("body_too_large")));
        assert!(matches!(request.outcome, Stored::Rejected));
    }
}
