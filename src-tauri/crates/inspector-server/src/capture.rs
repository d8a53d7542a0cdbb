//! Capture endpoints: decode, store, and only then answer, so a 200 means "on disk".

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use capture_decode::posthog::{self, Outcome, Reply, Route};
use capture_decode::{Incoming, Rejection, Source};
use chrono::{DateTime, Utc};
use event_store::{to_micros, NewEvent, NewRequest, Outcome as Stored};
use serde_json::{json, Value};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::AppState;

/// SDKs run on any origin: reflect it (mixpanel-browser fails with `*`) and allow credentials.
pub fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_headers(AllowHeaders::mirror_request())
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS, Method::HEAD])
        .max_age(Duration::from_secs(86_400))
}

/// A request taken apart once, kept whole for storage whatever happens to it.
struct Received {
    received_at: DateTime<Utc>,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn incoming(&self) -> Incoming<'_> {
        Incoming {
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
            received_at: self.received_at,
        }
    }

    fn forwarded(&self) -> crate::forward::Forwarded {
        crate::forward::Forwarded {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }

    fn record(self, route: Option<&Route>, outcome: Stored, status: u16, error: Option<&Rejection>, note: Option<String>) -> NewRequest {
        NewRequest {
            received_at: to_micros(self.received_at),
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
            body: self.body,
            source: route.map(|_| Source::Posthog.as_str().to_owned()),
            route: route.map(|r| r.name().to_owned()),
            outcome,
            status,
            error: error.map(|e| e.message.clone()),
            error_code: error.map(|e| e.code.to_owned()),
            note,
        }
    }
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
            let too_big = std::error::Error::source(&e)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            let rejection = if too_big {
                Rejection::new(413, "body_too_large", format!("request body is larger than {}", capture_decode::human_size(limit)))
            } else {
                Rejection::bad_request("body_unreadable", format!("request body could not be read: {e}"))
            };
            (Vec::new(), Some(rejection))
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

fn rejection_response(rejection: &Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"type": "validation_error", "code": rejection.code, "detail": rejection.message});
    (status, axum::Json(body)).into_response()
}

/// A write failed (a full disk, a data directory gone read-only): the SDK gets a 503 naming the
/// cause (it retries later, as it would against PostHog), the UI a notice, and everything
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

/// Stores a refused request so the user sees it, then answers with the reason.
async fn reject(state: &AppState, received: Received, route: Option<&Route>, rejection: Rejection) -> Response {
    tracing::info!(path = %received.path, status = rejection.status, "rejected: {}", rejection.message);
    if !state.control.keeps_captures() {
        return rejection_response(&rejection);
    }
    let record = received.record(route, Stored::Rejected, rejection.status, Some(&rejection), None);
    if let Err(e) = state.store.write(record, Vec::new()).await {
        return storage_failed(state, e);
    }
    state.control.storage_ok();
    rejection_response(&rejection)
}

pub async fn posthog(State(state): State<AppState>, request: Request) -> Response {
    let route = Route::parse(request.uri().path(), request.uri().query());
    let (received, problem) = receive(request, body_limit(route.as_ref())).await;
    let Some(route) = route else {
        let rejection = Rejection::new(404, "unknown_route", format!("no PostHog endpoint at {}", received.path));
        return reject(&state, received, None, rejection).await;
    };
    if let Some(rejection) = problem {
        return reject(&state, received, Some(&route), rejection).await;
    }
    if let Some(rejection) = method_refused(&received) {
        return reject(&state, received, Some(&route), rejection).await;
    }
    if received.method == "OPTIONS" {
        // A bare OPTIONS (not a CORS preflight, which the CORS layer answers) is harmless.
        return StatusCode::OK.into_response();
    }

    let outcome = posthog::handle(&route, &received.incoming());
    match outcome {
        Err(rejection) => reject(&state, received, Some(&route), rejection).await,
        Ok(Outcome::Answer(reply)) => {
            // Paused (see control.rs): the same answer, nothing stored.
            if !state.control.keeps_captures() {
                return to_response(reply);
            }
            let record = received.record(Some(&route), Stored::Accepted, reply.status, None, None);
            if let Err(e) = state.store.write(record, Vec::new()).await {
                return storage_failed(&state, e);
            }
            state.control.storage_ok();
            to_response(reply)
        }
        Ok(Outcome::Capture(capture, reply)) => {
            if !state.control.keeps_captures() {
                return to_response(reply);
            }
            // Forward mode: a copy, taken only when on; sent after the commit, never awaited.
            let copy = state.forward.as_ref().map(|_| received.forwarded());
            let (record, events) = captured(received, &route, capture, reply.status);
            match state.store.write(record, events).await {
                Ok(_) => {
                    state.control.storage_ok();
                    if let (Some(forwarder), Some(copy)) = (&state.forward, copy) {
                        forwarder.offer(copy);
                    }
                    to_response(reply)
                }
                Err(e) => storage_failed(&state, e),
            }
        }
    }
}

/// Raw bodies may be base64 (4/3 larger) around a payload at the route's decompressed limit.
fn body_limit(route: Option<&Route>) -> usize {
    route.map_or(2 << 20, |r| r.limit() * 2)
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

/// The rows an accepted capture is stored as.
fn captured(received: Received, route: &Route, capture: posthog::Capture, status: u16) -> (NewRequest, Vec<NewEvent>) {
    let received_micros = to_micros(received.received_at);
    let events = capture.events.into_iter().map(|e| stored_event(e, &capture.token, received_micros)).collect();
    let mut note = Vec::new();
    if !capture.steps.is_empty() {
        note.push(format!("decoded: {}", capture.steps.join(" → ")));
    }
    note.extend(capture.dropped);
    let note = (!note.is_empty()).then(|| note.join("; "));
    (received.record(Some(route), Stored::Accepted, status, None, note), events)
}

/// What the live handler stores for `raw`, without the network: the same route table, size
/// limit, method check, decoding and rows. `None` for what it stores nothing of (a bare
/// `OPTIONS`). Imports (bundles, HARs, NDJSON) go through this, so an imported request is
/// stored exactly as if it had arrived at `raw.received_at`.
pub fn decode_raw(raw: &session_export::RawRequest) -> Option<event_store::ImportRow> {
    let route = Route::parse(&raw.path, raw.query.as_deref());
    let received = Received {
        received_at: raw.received_at,
        method: raw.method.clone(),
        path: raw.path.clone(),
        query: raw.query.clone(),
        headers: raw.headers.clone(),
        body: raw.body.clone(),
    };
    let refused = |received: Received, route: Option<&Route>, rejection: Rejection| {
        Some((received.record(route, Stored::Rejected, rejection.status, Some(&rejection), None), Vec::new()))
    };
    let Some(route) = route else {
        let rejection = Rejection::new(404, "unknown_route", format!("no PostHog endpoint at {}", received.path));
        return refused(received, None, rejection);
    };
    let limit = body_limit(Some(&route));
    if received.body.len() > limit {
        let rejection =
            Rejection::new(413, "body_too_large", format!("request body is larger than {}", capture_decode::human_size(limit)));
        return refused(received, Some(&route), rejection);
    }
    if let Some(rejection) = method_refused(&received) {
        return refused(received, Some(&route), rejection);
    }
    if received.method == "OPTIONS" {
        return None;
    }
    match posthog::handle(&route, &received.incoming()) {
        Err(rejection) => refused(received, Some(&route), rejection),
        Ok(Outcome::Answer(reply)) => Some((received.record(Some(&route), Stored::Accepted, reply.status, None, None), Vec::new())),
        Ok(Outcome::Capture(capture, reply)) => Some(captured(received, &route, capture, reply.status)),
    }
}

fn stored_event(e: posthog::Event, token: &str, received_at: i64) -> NewEvent {
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

/// Anything that is neither a capture route, the API nor the UI. Browsers asking for pages get
/// the UI (its router handles the path); anything else is shown to the user as a rejected request.
pub async fn unknown_route(State(state): State<AppState>, request: Request) -> Response {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if request.method() == Method::GET && wants_html {
        return crate::ui::index(State(state)).await.into_response();
    }
    if request.uri().path() == "/favicon.ico" {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (received, _) = receive(request, 2 << 20).await;
    let rejection = Rejection::new(
        404,
        "unknown_route",
        format!("no analytics SDK endpoint at {} {}", received.method, received.path),
    );
    reject(&state, received, None, rejection).await
}

/// The payload of a stored request as the SDK meant it (after base64, gzip, forms...), for the
/// request detail view. `{"error": ...}` when it does not decode, which is often why it was rejected.
pub fn decoded_body(detail: &event_store::RequestDetail) -> Value {
    let headers: Vec<(String, String)> = serde_json::from_str(detail.headers.get()).unwrap_or_default();
    let path = &detail.summary.path;
    let query = detail.summary.query.as_deref();
    let Some(route) = Route::parse(path, query).filter(Route::is_capture) else {
        return Value::Null;
    };
    let incoming = Incoming {
        method: &detail.summary.method,
        path,
        query,
        headers: &headers,
        body: &detail.body,
        received_at: Utc::now(),
    };
    match capture_decode::payload::unwrap(&incoming, route.is_legacy(), route.limit())
        .and_then(|u| capture_decode::payload::parse_json(&u.bytes).map(|json| (u.steps, json)))
    {
        Ok((steps, json)) => json!({"steps": steps, "json": json}),
        Err(rejection) => json!({"error": rejection.message}),
    }
}
