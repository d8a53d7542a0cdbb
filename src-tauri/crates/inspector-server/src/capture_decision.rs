//! What to do with one request on a capture path, decided without I/O: the vendor family, the
//! rows to store and the reply. The live handler and imports (`decode_raw`) both go through
//! [`decide`], so an imported request is stored exactly as if it had just arrived.

use capture_decode::family::{self, Family};
use capture_decode::posthog::{self, Reply};
use capture_decode::wire::{WireCapture, WireEvent, WireOutcome, WireRefusal};
pub(crate) use capture_decode::Received;
use capture_decode::{mixpanel, segment, Incoming, Rejection, Source};
use chrono::Utc;
use event_store::{to_micros, NewEvent, NewRequest, Outcome as Stored};
use serde_json::{json, Value};

/// Read limit for paths no vendor uses (stored as rejected, 404).
pub(crate) const UNKNOWN_PATH_LIMIT: usize = 2 << 20;

/// The copy `--forward` sends on to the vendor.
pub(crate) fn forwarded(received: &Received) -> crate::forward::Forwarded {
    crate::forward::Forwarded {
        method: received.method.clone(),
        path: received.path.clone(),
        query: received.query.clone(),
        headers: received.headers.clone(),
        body: received.body.clone(),
    }
}

/// The row a request is kept as, accepted or rejected, with what the inspector made of it.
pub(crate) fn record(
    received: Received,
    label: Label,
    outcome: Stored,
    status: u16,
    error: Option<&Rejection>,
    note: Option<String>,
) -> NewRequest {
    NewRequest {
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

/// The `source` and `route` a request is stored with; `None` for unknown paths.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Label {
    pub source: Option<Source>,
    pub route: Option<&'static str>,
}

pub(crate) enum Decision {
    /// Store the request as accepted with these events, then answer.
    Accept { label: Label, events: Vec<NewEvent>, note: Option<String>, reply: Reply, forward: bool },
    /// Store the request as rejected, then answer.
    Refuse { label: Label, rejection: Rejection, reply: Reply },
    /// Store nothing (a bare `OPTIONS`); answer.
    Ignore(Reply),
}

/// PostHog's error body; also used for paths no vendor knows.
pub(crate) fn posthog_error(rejection: &Rejection) -> Reply {
    Reply::json(
        rejection.status,
        json!({"type": "validation_error", "code": rejection.code, "detail": rejection.message}),
    )
}

fn error_reply(family: &Family, req: &Incoming<'_>, rejection: &Rejection) -> Reply {
    match family {
        Family::Posthog(_) => posthog_error(rejection),
        Family::Segment(route) => segment::error_reply(segment::source_before_body(route, req), rejection),
        Family::Mixpanel(route) => mixpanel::error_reply(Some(*route), req, rejection),
    }
}

fn label_of(family: &Family, req: &Incoming<'_>) -> Label {
    let source = match family {
        Family::Posthog(_) => Source::Posthog,
        Family::Segment(route) => segment::source_before_body(route, req),
        Family::Mixpanel(_) => Source::Mixpanel,
    };
    Label { source: Some(source), route: Some(family.route_name()) }
}

/// How many body bytes the live handler reads on `path` before refusing (413).
pub(crate) fn read_limit(path: &str, query: Option<&str>) -> usize {
    family::read_limit(path, query).unwrap_or(UNKNOWN_PATH_LIMIT)
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
pub(crate) fn decide(received: &Received, problem: Option<Rejection>) -> Decision {
    let req = received.incoming();
    let Some(family) = family::recognise(&req) else {
        let rejection = Rejection::new(
            404,
            "unknown_route",
            format!("no analytics SDK endpoint at {} {}", received.method, received.path),
        );
        return Decision::Refuse { label: Label::default(), reply: posthog_error(&rejection), rejection };
    };
    let label = label_of(&family, &req);
    let refuse = |label: Label, rejection: Rejection| Decision::Refuse {
        label,
        reply: error_reply(&family, &req, &rejection),
        rejection,
    };
    if let Some(mut rejection) = problem {
        if let (Family::Segment(route), 413) = (&family, rejection.status) {
            // Segment answers 400 for a body over its limits (documented), naming the limit.
            rejection = segment::over_limit(route);
        }
        return refuse(label, rejection);
    }
    if let Some(rejection) = method_refused(received) {
        return refuse(label, rejection);
    }
    if received.method == "OPTIONS" {
        // A bare OPTIONS (not a CORS preflight, which the CORS layer answers) is harmless.
        return Decision::Ignore(Reply::empty(200));
    }
    match &family {
        Family::Posthog(route) => match posthog::handle(route, &req) {
            Err(rejection) => refuse(label, rejection),
            Ok(posthog::Outcome::Answer(reply)) => {
                Decision::Accept { label, events: Vec::new(), note: None, reply, forward: false }
            }
            Ok(posthog::Outcome::Capture(capture, reply)) => {
                let received_at = to_micros(received.received_at);
                let mut note = steps_note(&capture.steps);
                note.extend(capture.dropped);
                let events =
                    capture.events.into_iter().map(|e| posthog_event(e, &capture.token, received_at)).collect();
                Decision::Accept { label, events, note: joined(note), reply, forward: true }
            }
        },
        Family::Segment(route) => wire(segment::handle(route, &req), label, received),
        Family::Mixpanel(route) => wire(mixpanel::handle(*route, &req), label, received),
    }
}

fn wire(outcome: Result<WireOutcome, WireRefusal>, label: Label, received: &Received) -> Decision {
    match outcome {
        Err(WireRefusal { source, rejection, reply }) => {
            Decision::Refuse { label: Label { source: Some(source), ..label }, rejection, reply }
        }
        Ok(WireOutcome::Answer(source, reply)) => Decision::Accept {
            label: Label { source: Some(source), ..label },
            events: Vec::new(),
            note: None,
            reply,
            forward: false,
        },
        Ok(WireOutcome::Capture(WireCapture { source, events, dropped, steps }, reply)) => {
            let received_at = to_micros(received.received_at);
            let mut note = steps_note(&steps);
            note.extend(dropped);
            let events = events.into_iter().map(|e| wire_event(e, received_at)).collect();
            Decision::Accept {
                label: Label { source: Some(source), ..label },
                events,
                note: joined(note),
                reply,
                forward: false,
            }
        }
    }
}

fn steps_note(steps: &[&str]) -> Vec<String> {
    if steps.is_empty() {
        Vec::new()
    } else {
        vec![format!("decoded: {}", steps.join(" → "))]
    }
}

fn joined(note: Vec<String>) -> Option<String> {
    (!note.is_empty()).then(|| note.join("; "))
}

fn posthog_event(e: posthog::Event, token: &str, received_at: i64) -> NewEvent {
    NewEvent {
        uuid: e.uuid.to_string(),
        project: token.to_owned(),
        source: Source::Posthog.as_str().to_owned(),
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

fn wire_event(e: WireEvent, received_at: i64) -> NewEvent {
    NewEvent {
        uuid: e.uuid,
        project: e.project,
        source: e.source.as_str().to_owned(),
        event: e.event,
        distinct_id: e.distinct_id,
        device_id: e.device_id,
        session_id: None,
        timestamp: to_micros(e.timestamp),
        original_timestamp: e.original_timestamp,
        sent_at: e.sent_at,
        received_at,
        properties: Value::Object(e.properties).to_string(),
        warnings: e.warnings,
    }
}

/// The payload of a stored request as the SDK meant it (after base64, gzip, forms...), for the
/// request detail view. `{"error": ...}` when it does not decode, which is often why it was rejected.
pub fn decoded_body(detail: &event_store::RequestDetail) -> Value {
    let headers: Vec<(String, String)> = serde_json::from_str(detail.headers.get()).unwrap_or_default();
    let req = Incoming {
        method: &detail.summary.method,
        path: &detail.summary.path,
        query: detail.summary.query.as_deref(),
        headers: &headers,
        body: &detail.body,
        received_at: Utc::now(),
    };
    let unwrapped = match family::recognise(&req).filter(Family::is_capture) {
        None => return Value::Null,
        Some(Family::Posthog(route)) => capture_decode::payload::unwrap(&req, route.is_legacy(), route.limit()),
        Some(Family::Segment(route)) => segment::unwrap_body(&route, &req),
        Some(Family::Mixpanel(route)) => mixpanel::unwrap_body(route, &req),
    };
    match unwrapped.and_then(|u| capture_decode::payload::parse_json(&u.bytes).map(|json| (u.steps, json))) {
        Ok((steps, json)) => json!({"steps": steps, "json": json}),
        Err(rejection) => json!({"error": rejection.message}),
    }
}
