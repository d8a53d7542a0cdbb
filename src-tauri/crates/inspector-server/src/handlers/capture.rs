//! Capture endpoints: decode, store, and only then answer, so a 200 means "on disk".
//! Which vendor and what to store is decided by `ingest::decide`; this is the HTTP side, which
//! also carries out fault rules (`crate::faults`) on the requests the vendor would accept.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use capture_decode::{Protocol, Received, Rejection, Reply};
use chrono::Utc;
use event_store::{NewEvent, Outcome as Stored};
use fault_rules::{Answer, Fired, Target};
use serde_json::json;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use ingest::{decide, read_limit, record, too_large, Decision, Label, UNKNOWN_PATH_LIMIT};

use crate::AppState;

/// The header a faulted (or delayed) answer carries: the id of the fault rule that fired, so a
/// test reading its SDK's traffic can tell an injected failure from a real one.
pub const FAULT_HEADER: &str = "x-inspector-fault";

/// Put on a response whose connection must close without it being sent: a `drop` fault. The
/// accept loop (`serve.rs`) sees it and closes the connection, so the SDK gets no answer at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// SDKs run on any origin: reflect it (mixpanel-browser fails with `*`) and allow credentials.
pub fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_headers(AllowHeaders::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS, Method::HEAD])
        .max_age(Duration::from_secs(86_400))
}

/// Reads the request, refusing bodies over `limit` bytes as they stream in.
async fn receive(request: Request, limit: usize) -> (Received, Option<Rejection>) {
    let received_at = Utc::now();
    let (parts, body) = request.into_parts();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let (body, problem) = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => (bytes.to_vec(), None),
        Err(e) => {
            let too_big =
                std::error::Error::source(&e).is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            let slow = crate::body_deadline::timed_out(&e);
            (
                Vec::new(),
                Some(if too_big {
                    too_large(limit)
                } else if let Some(slow) = slow {
                    Rejection::new(408, "body_timeout", slow.to_string())
                } else {
                    Rejection::bad_request("body_unreadable", format!("request body could not be read: {e}"))
                }),
            )
        }
    };
    let received = Received {
        received_at,
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body,
    };
    (received, problem)
}

fn to_response(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut response = (status, reply.body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    response
}

/// A write failed (a full disk, a data directory gone read-only): the SDK gets a 503 naming the
/// cause (it retries later, as it would against the vendor), the UI a notice, and everything
/// stored so far stays readable.
fn storage_failed(state: &AppState, e: event_store::StoreError) -> Response {
    // A read-only data dir is known from the start (and has its own notice): no error per request.
    let code = if matches!(e, event_store::StoreError::ReadOnly(_)) {
        "storage_read_only"
    } else {
        tracing::error!("could not store a capture request: {e}");
        state.control.storage_failed(&e.to_string());
        "storage_failed"
    };
    let body = json!({"type": "server_error", "code": code, "detail": format!("the inspector could not store this request: {e}")});
    (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
}

/// Stores the request as `decision` says, then answers. Paused (see control.rs): the same
/// answer, nothing stored.
async fn carry_out(state: &AppState, received: Received, decision: Decision) -> Response {
    match decision {
        Decision::Ignore(reply) => to_response(reply),
        Decision::Refuse { label, rejection, reply } => {
            tracing::info!(path = %received.path, status = rejection.status, "rejected: {}", rejection.message);
            if !state.control.keeps_captures() {
                return to_response(reply);
            }
            let record = record(received, label, Stored::Rejected, rejection.status, Some(&rejection), None);
            match state.store.write(record, Vec::new()).await {
                Ok(_) => {
                    state.control.storage_ok();
                    to_response(reply)
                }
                Err(e) => storage_failed(state, e),
            }
        }
        Decision::Accept { label, events, note, reply, forward } => {
            if let Some((fired, protocol)) = fault_for(state, &received, label, &events) {
                return faulted(state, received, Accepted { label, events, note, reply, forward }, fired, protocol)
                    .await;
            }
            if !state.control.keeps_captures() {
                return to_response(reply);
            }
            // Forward mode (PostHog captures only): a copy, sent after the commit, never awaited.
            let copy = state.forward.as_ref().filter(|_| forward).map(|_| received.clone());
            let record = record(received, label, Stored::Accepted, reply.status, None, note);
            match state.store.write(record, events).await {
                Ok(_) => {
                    state.control.storage_ok();
                    if let (Some(forwarder), Some(copy)) = (&state.forward, copy) {
                        forwarder.offer(copy);
                    }
                    to_response(reply)
                }
                Err(e) => storage_failed(state, e),
            }
        }
    }
}

/// What `decide` accepted, handed to a fault rule.
struct Accepted {
    label: Label,
    events: Vec<NewEvent>,
    note: Option<String>,
    reply: Reply,
    forward: bool,
}

/// The fault rule that fires for this request, with the request's protocol (the rule's answer is
/// in the vendor's words). Costs one atomic load while no rule is in force.
fn fault_for(state: &AppState, received: &Received, label: Label, events: &[NewEvent]) -> Option<(Fired, Protocol)> {
    if state.faults.active() == 0 {
        return None;
    }
    let req = received.incoming();
    let protocol = Protocol::recognise(&req)?;
    let project = events.first().map(|e| e.project.clone()).or_else(|| protocol.project_key(&req));
    let target = Target {
        source: label.source.map(|s| s.as_str()),
        path: &received.path,
        project: project.as_deref(),
        capture: protocol.is_capture(),
        v1: protocol.is_capture_v1(),
    };
    let fired = state.faults.check(&target, Utc::now())?;
    Some((fired, protocol))
}

/// Carries out a fault rule on an accepted request (see `crate::faults` for the invariants):
/// stores it (as accepted when the rule only delays, else as faulted with the events it carried
/// kept apart), waits out the rule's delay, then answers as the rule says.
async fn faulted(
    state: &AppState,
    received: Received,
    accepted: Accepted,
    fired: Fired,
    protocol: Protocol,
) -> Response {
    let Accepted { label, events, note, reply, forward } = accepted;
    let rule = format!("fault rule #{} ({})", fired.rule, fired.text);
    let wait = fired.effect.delay_ms.map(|ms| format!(" after a {ms} ms wait")).unwrap_or_default();
    let (status, answered, mut response) = match fired.effect.answer {
        Answer::Normal => {
            let late = format!("answered late by {rule}");
            let note = Some(note.map_or_else(|| late.clone(), |n| format!("{n}; {late}")));
            let copy = state.forward.as_ref().filter(|_| forward).map(|_| received.clone());
            if state.control.keeps_captures() {
                if let Err(e) =
                    state.store.write(record(received, label, Stored::Accepted, reply.status, None, note), events).await
                {
                    return storage_failed(state, e);
                }
                state.control.storage_ok();
                if let (Some(forwarder), Some(copy)) = (&state.forward, copy) {
                    forwarder.offer(copy);
                }
            }
            delay(&fired).await;
            return with_fault_header(to_response(reply), fired.rule);
        }
        Answer::Status { status, retry_after } => {
            let after = retry_after.map(|s| format!(" with Retry-After: {s}")).unwrap_or_default();
            let answered = format!("answered {status}{after}{wait} by {rule}");
            let req = received.incoming();
            let reply = protocol.failing_reply(&req, &Rejection::new(status, "fault", answered.clone()));
            let mut response = to_response(reply);
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            (status, answered, response)
        }
        Answer::Drop => {
            let answered = format!("connection closed unanswered{wait} by {rule}");
            let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
            response.extensions_mut().insert(DropConnection);
            (0, answered, response)
        }
        Answer::V1Retry { retry_after } => {
            let answered = format!("answered 200 with every event's result `retry`{wait} by {rule}");
            let reply =
                capture_decode::posthog::v1_results(events.iter().map(|e| e.uuid.as_str()), "retry", "not_persisted");
            let mut response = to_response(reply);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            (200, answered, response)
        }
    };
    tracing::info!(path = %received.path, status, "fault: {answered}");
    if state.control.keeps_captures() {
        let sdk_uuids = sdk_uuids(&received, &protocol, &events);
        let rejection = Rejection::new(status, "fault", answered);
        let row = record(received, label, Stored::Faulted, status, Some(&rejection), note);
        if let Err(e) = state.store.write_faulted(row, events, sdk_uuids).await {
            return storage_failed(state, e);
        }
        state.control.storage_ok();
    }
    delay(&fired).await;
    response = with_fault_header(response, fired.rule);
    response
}

/// Which events' uuids the SDK sent (its `uuid`, `messageId`, `$insert_id`), rather than the
/// decoder making one up: those are in the payload as the SDK meant it (PostHog's decoder writes a
/// uuid in lower case, posthog-ios sends upper case: compared without case). Only a faulted
/// request pays this second unwrapping; a uuid not sent by the SDK matches no resent copy.
fn sdk_uuids(received: &Received, protocol: &Protocol, events: &[NewEvent]) -> Vec<bool> {
    let Ok(payload) = protocol.unwrap_body(&received.incoming()) else { return Vec::new() };
    let bytes = payload.bytes;
    events
        .iter()
        .map(|e| !e.uuid.is_empty() && bytes.windows(e.uuid.len()).any(|w| w.eq_ignore_ascii_case(e.uuid.as_bytes())))
        .collect()
}

async fn delay(fired: &Fired) {
    if let Some(ms) = fired.effect.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

fn with_fault_header(mut response: Response, rule: u64) -> Response {
    response.headers_mut().insert(FAULT_HEADER, HeaderValue::from(rule));
    response
}

/// Every capture path of every vendor (PostHog, Segment, RudderStack, Mixpanel).
pub async fn capture(State(state): State<AppState>, request: Request) -> Response {
    let limit = read_limit(request.uri().path(), request.uri().query());
    let (received, problem) = receive(request, limit).await;
    let decision = decide(&received, problem);
    carry_out(&state, received, decision).await
}

/// Anything that is neither a capture route, the API nor the UI. Browsers asking for pages get
/// the UI (its router handles the path); anything else is shown to the user as a rejected request.
pub async fn unknown_route(State(state): State<AppState>, request: Request) -> Response {
    let wants_html =
        request.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if request.method() == Method::GET && wants_html {
        return super::ui::index(State(state)).await.into_response();
    }
    if request.uri().path() == "/favicon.ico" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (received, _) = receive(request, UNKNOWN_PATH_LIMIT).await;
    let decision = ingest::unknown_route(&received);
    carry_out(&state, received, decision).await
}
