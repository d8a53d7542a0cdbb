//! Capture endpoints: decode, store, and only then answer, so a 200 means "on disk".
//! Which vendor and what to store is decided by `ingest::decide`; this is the HTTP side.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use capture_decode::{Received, Rejection, Reply};
use chrono::Utc;
use event_store::Outcome as Stored;
use serde_json::json;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use ingest::{decide, read_limit, record, too_large, Decision, UNKNOWN_PATH_LIMIT};

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
