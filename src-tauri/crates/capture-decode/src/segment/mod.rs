//! Segment's tracking API, also spoken by RudderStack (<https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/>).
//!
//! One refused message in a batch does not refuse the batch: Segment's HTTP API documentation
//! says it answers 200 to every request except a too-large payload or invalid JSON (400), and
//! that messages without `userId`/`anonymousId` are rejected one by one (`no_user_anon_id`, seen
//! in its debugger). analytics-node and analytics-python treat any 200 as delivered and never
//! look at single messages, so answering 400 would make them retry a whole batch forever over
//! one bad message. So: such a message is dropped and named in the request's note, the others
//! are stored, the answer is 200. A batch where *every* message is refused is answered 400 and
//! stored as a rejected request, naming the first problem: there is nothing stored to show and
//! the user must see why. A single-message route (`/v1/track` ...) is that one message, so its
//! problem is a 400 too.

mod flavour;
mod message;
mod reply;
mod route;

pub use flavour::{source_before_body, source_of};
pub use message::{merge_frame, normalise, BatchFrame, MAX_MESSAGE_ID_CHARS};
pub use reply::{error as error_reply, settings as settings_reply, source_config, success as success_reply};
pub use route::{MessageType, Route, BATCH_LIMIT, MESSAGE_LIMIT};

use base64::Engine;
use serde_json::{Map, Value};

use crate::payload::{self, Unwrapped};
use crate::posthog::kind_of;
use crate::protocol::VendorRoute;
use crate::{human_size, Capture, Incoming, Outcome, Refusal, Rejection, Reply, Source};

/// Answers one request on a Segment/RudderStack route.
pub fn handle(route: &Route, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
    let early_source = source_before_body(route, req);
    let refuse =
        |source: Source, rejection: Rejection| Refusal { source, reply: error_reply(source, &rejection), rejection };
    let method = req.method.to_ascii_uppercase();
    match route {
        Route::Settings { write_key } => {
            if method != "GET" && method != "HEAD" {
                return Err(refuse(early_source, wrong_method(req, "GET")));
            }
            Ok(Outcome::Answer(Source::Segment, settings_reply(write_key, req)))
        }
        Route::SourceConfig => {
            if method != "GET" && method != "HEAD" {
                return Err(refuse(early_source, wrong_method(req, "GET")));
            }
            let key = basic_auth_user(req).or_else(|| non_empty(req.query_param("writeKey")));
            match key {
                Some(key) => Ok(Outcome::Answer(Source::Rudderstack, source_config(&key))),
                None => Err(refuse(Source::Rudderstack, no_write_key())),
            }
        }
        Route::Metrics => {
            if method != "POST" && method != "HEAD" {
                return Err(refuse(early_source, wrong_method(req, "POST")));
            }
            Ok(Outcome::Answer(Source::Segment, success_reply(Source::Segment)))
        }
        Route::Single(_) | Route::Batch { .. } => {
            if method == "HEAD" {
                return Ok(Outcome::Answer(early_source, success_reply(early_source)));
            }
            if method != "POST" {
                return Err(refuse(early_source, wrong_method(req, "POST")));
            }
            let capture = decode(route, req).map_err(|(source, rejection)| refuse(source, rejection))?;
            let reply = success_reply(capture.source);
            Ok(Outcome::Capture(capture, reply))
        }
    }
}

impl VendorRoute for Route {
    fn source(&self, req: &Incoming<'_>) -> Source {
        source_before_body(self, req)
    }
    fn handle(&self, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
        handle(self, req)
    }
    fn error_reply(&self, req: &Incoming<'_>, rejection: &Rejection) -> Reply {
        error_reply(source_before_body(self, req), rejection)
    }
    fn unwrap_body(&self, req: &Incoming<'_>) -> Result<Unwrapped, Rejection> {
        unwrap_body(self, req)
    }
    fn project_key(&self, req: &Incoming<'_>) -> Option<String> {
        project_key(self, req)
    }
    /// Segment answers 400 for a body over its limits (documented), naming the limit.
    fn body_too_large(&self, _rejection: Rejection) -> Rejection {
        over_limit(self)
    }
}

fn wrong_method(req: &Incoming<'_>, expected: &str) -> Rejection {
    Rejection::new(
        405,
        "method_not_allowed",
        format!("{} is not accepted on {}; Segment's API takes {expected}", req.method, req.path),
    )
}

fn no_write_key() -> Rejection {
    Rejection::unauthorized(
        "no_write_key",
        "no write key: expected Basic auth with the write key as user name, a `writeKey` field in the body, or `?writeKey=`",
    )
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The write key a Segment or RudderStack request names, where [`handle`] reads it: the settings
/// path's key; Basic auth's user name, else the body's `writeKey` (searched as text when the
/// body does not parse), else `?writeKey=`.
fn project_key(route: &Route, req: &Incoming<'_>) -> Option<String> {
    if let Route::Settings { write_key } = route {
        return non_empty(Some(write_key.clone()));
    }
    let in_body = || {
        let Unwrapped { bytes, .. } = unwrap_body(route, req).ok()?;
        match payload::parse_json(&bytes) {
            Ok(json) => non_empty(json.get("writeKey").and_then(Value::as_str).map(str::to_owned)),
            Err(_) => crate::project_key::quoted_value(&bytes, &["writeKey"]),
        }
    };
    basic_auth_user(req).or_else(in_body).or_else(|| non_empty(req.query_param("writeKey")))
}

/// The user name of `Authorization: Basic base64(user:password)`; the write key by convention.
pub fn basic_auth_user(req: &Incoming<'_>) -> Option<String> {
    let header = req.header("authorization")?.trim();
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    non_empty(Some(text.split(':').next().unwrap_or_default().to_owned()))
}

/// The body as JSON bytes: gzip is recognised by its magic bytes whatever the headers say, and
/// the decompressed size is capped at the route's limit.
pub fn unwrap_body(route: &Route, req: &Incoming<'_>) -> Result<Unwrapped, Rejection> {
    let limit = route.limit();
    if req.body.is_empty() {
        return Err(Rejection::bad_request("empty_payload", "empty request body; Segment's API expects a JSON body"));
    }
    let (bytes, steps) = if payload::is_gzip(req.body) {
        (payload::gunzip(req.body, limit).map_err(|r| name_limit(r, route))?, vec!["gzip"])
    } else {
        (req.body.to_vec(), Vec::new())
    };
    if bytes.len() > limit {
        return Err(name_limit(Rejection::too_large(limit), route));
    }
    Ok(Unwrapped { bytes, steps })
}

/// Segment answers 400 (not 413) for a body over its limits, naming the limit.
fn name_limit(rejection: Rejection, route: &Route) -> Rejection {
    if rejection.status != 413 {
        return rejection;
    }
    over_limit(route)
}

/// The refusal of a body larger than `route`'s limit: 400, naming the limit.
pub fn over_limit(route: &Route) -> Rejection {
    let what = if matches!(route, Route::Single(_)) { "per message" } else { "per batch request" };
    Rejection::bad_request(
        if matches!(route, Route::Single(_)) { "message_too_large" } else { "batch_too_large" },
        format!("request body is larger than Segment's {} limit {what}", human_size(route.limit())),
    )
}

/// Decodes a capture request. The error carries the source it was decided for.
pub fn decode(route: &Route, req: &Incoming<'_>) -> Result<Capture, (Source, Rejection)> {
    let early = source_before_body(route, req);
    let Unwrapped { bytes, steps } = unwrap_body(route, req).map_err(|r| (early, r))?;
    let json = payload::parse_json(&bytes).map_err(|r| (early, r.after_steps(&steps)))?;
    let Value::Object(mut body) = json else {
        return Err((
            early,
            Rejection::bad_request(
                "invalid_payload",
                format!("body is {}; Segment expects a JSON object", kind_of(&json)),
            ),
        ));
    };

    let (messages, frame) = match route {
        Route::Batch { .. } => split_batch(&mut body).map_err(|r| (early, r))?,
        _ => (vec![Value::Object(body.clone())], BatchFrame::default()),
    };
    let source = source_of(route, req, &messages);
    let write_key = basic_auth_user(req)
        .or_else(|| non_empty(body.get("writeKey").and_then(Value::as_str).map(str::to_owned)))
        .or_else(|| non_empty(req.query_param("writeKey")))
        .ok_or((source, no_write_key()))?;
    let route_type = match route {
        Route::Single(t) => Some(*t),
        _ => None,
    };

    let total = messages.len();
    let mut events = Vec::with_capacity(total);
    let mut dropped = Vec::new();
    let mut first_problem = None;
    for (index, item) in messages.into_iter().enumerate() {
        let place =
            if route_type.is_some() { String::from("message") } else { format!("message {} of {total}", index + 1) };
        let result = match item {
            Value::Object(mut message) => {
                merge_frame(&mut message, &frame);
                normalise(message, route_type, &write_key, source, frame.sent_at.as_deref(), req.received_at)
            }
            other => {
                Err(Rejection::bad_request("invalid_message", format!("is {}, not a JSON object", kind_of(&other))))
            }
        };
        match result {
            Ok(event) => events.push(event),
            Err(problem) => {
                let said = format!("{place}: {}", problem.message);
                dropped.push(format!("{said} (Segment drops it and answers 200)"));
                first_problem.get_or_insert(Rejection { message: said, ..problem });
            }
        }
    }
    if total == 0 {
        return Err((
            source,
            Rejection::bad_request("empty_batch", "`batch` is empty: the request contains no messages"),
        ));
    }
    if events.is_empty() {
        let mut problem = first_problem.expect("every message failed, so one problem was kept");
        if total > 1 {
            problem.message = format!("every message was refused; first: {}", problem.message);
        }
        return Err((source, problem));
    }
    Ok(Capture { source, events, dropped, steps })
}

fn split_batch(body: &mut Map<String, Value>) -> Result<(Vec<Value>, BatchFrame), Rejection> {
    let messages = match body.remove("batch") {
        Some(Value::Array(items)) => items,
        None => return Err(Rejection::bad_request("invalid_batch", "batch body has no `batch` array of messages")),
        Some(other) => {
            return Err(Rejection::bad_request(
                "invalid_batch",
                format!("`batch` is {}, expected an array of messages", kind_of(&other)),
            ))
        }
    };
    let object = |key: &str| -> Result<Option<Map<String, Value>>, Rejection> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(other) => Err(Rejection::bad_request(
                "invalid_batch",
                format!("batch-level `{key}` must be an object, found {}", kind_of(other)),
            )),
        }
    };
    let sent_at = match body.get("sentAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(Rejection::bad_request(
                "invalid_batch",
                format!("batch `sentAt` must be an ISO 8601 string, found {}", kind_of(other)),
            ))
        }
    };
    let frame = BatchFrame { context: object("context")?, integrations: object("integrations")?, sent_at };
    Ok((messages, frame))
}
