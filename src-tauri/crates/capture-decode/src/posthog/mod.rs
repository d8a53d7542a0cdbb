//! PostHog's capture protocol: routes, request shapes and replies
//! (<https://posthog.com/docs/api/capture>; the capture service's source is
//! <https://github.com/PostHog/posthog/tree/master/rust/capture>).

mod event;
mod reply;
mod route;

pub use event::MAX_DISTINCT_ID_CHARS;
pub use reply::{
    config_json, config_script, error as error_reply, failing as failing_reply, flag_definitions_reply, flags_reply,
    product_list_reply, telemetry_reply, v1_results,
};
pub use route::{ProductList, Route, Signal, CONVERSATIONS_WIDGET_PREFIX, MB, SDK_API_PATHS};

use serde_json::{Map, Value};

use crate::payload::{self, Unwrapped};
use crate::protocol::VendorRoute;
use crate::{Capture, Incoming, Outcome, Refusal, Rejection, Reply, Source};

/// Answers one request on a PostHog route.
pub fn handle(route: &Route, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
    let answer = |reply| Ok(Outcome::Answer(Source::Posthog, reply));
    match route {
        Route::Flags { v2 } => answer(flags_reply(*v2)),
        Route::RemoteConfig { token, script } => {
            answer(if *script { config_script(token) } else { config_json(token) })
        }
        Route::Telemetry { .. } => answer(telemetry_reply()),
        Route::ProductList { list } => answer(product_list_reply(*list)),
        Route::FlagDefinitions => answer(flag_definitions_reply()),
        Route::Capture { .. }
        | Route::Batch
        | Route::AiBatch
        | Route::Engage
        | Route::Recording
        | Route::AnalyticsV1 => {
            if req.method.eq_ignore_ascii_case("HEAD") {
                return answer(Reply::json(200, serde_json::json!({"status": 1})));
            }
            let capture = decode(route, req).map_err(|rejection| Refusal {
                source: Source::Posthog,
                reply: error_reply(&rejection),
                rejection,
            })?;
            let reply = reply::capture_reply(route, req, &capture);
            Ok(Outcome::Capture(capture, reply))
        }
    }
}

impl VendorRoute for Route {
    fn source(&self, _req: &Incoming<'_>) -> Source {
        Source::Posthog
    }
    fn handle(&self, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
        handle(self, req)
    }
    fn error_reply(&self, _req: &Incoming<'_>, rejection: &Rejection) -> Reply {
        error_reply(rejection)
    }
    fn failing_reply(&self, _req: &Incoming<'_>, rejection: &Rejection) -> Reply {
        failing_reply(rejection.status, &rejection.message)
    }
    fn unwrap_body(&self, req: &Incoming<'_>) -> Result<Unwrapped, Rejection> {
        payload::unwrap(req, self.is_legacy(), self.limit())
    }
    fn project_key(&self, req: &Incoming<'_>) -> Option<String> {
        project_key(self, req)
    }
}

/// The token a PostHog request names, where [`decode`] and the routes read it: the remote-config
/// path's token, Capture V1's Bearer token, else in the body (after gzip, lz64, base64, forms) a
/// batch's `api_key`/`token` or the first event's `token`/`$token`/`api_key`/`properties.token`
/// (`/flags` bodies carry `token` too). A body that unwraps but does not parse is searched as
/// text for the same keys: a refused batch is still kept with its project.
fn project_key(route: &Route, req: &Incoming<'_>) -> Option<String> {
    match route {
        Route::RemoteConfig { token, .. } => return Some(token.clone()).filter(|t| !t.trim().is_empty()),
        Route::AnalyticsV1 => {
            if let Some(token) = bearer_token(req).filter(|t| !t.is_empty()) {
                return Some(token);
            }
        }
        _ => {}
    }
    let Unwrapped { bytes, .. } = payload::unwrap(req, route.is_legacy(), route.limit()).ok()?;
    match payload::parse_json(&bytes) {
        Ok(json) => token_in(&json),
        Err(_) => crate::project_key::quoted_value(&bytes, &["api_key", "token", "$token"]),
    }
}

fn token_in(json: &Value) -> Option<String> {
    let named = |map: &Map<String, Value>| {
        ["api_key", "token", "$token"]
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    match json {
        Value::Array(items) => items.iter().find_map(token_in),
        Value::Object(map) => named(map)
            .or_else(|| map.get("properties").and_then(Value::as_object).and_then(named))
            .or_else(|| map.get("batch").and_then(token_in)),
        _ => None,
    }
}

/// Decodes a capture request into events, or says exactly why PostHog would refuse it. Every
/// event's `project` is the request's token (PostHog refuses a request naming two).
pub fn decode(route: &Route, req: &Incoming<'_>) -> Result<Capture, Rejection> {
    let Unwrapped { bytes, steps } = payload::unwrap(req, route.is_legacy(), route.limit())?;
    let json = payload::parse_json(&bytes).map_err(|r| r.after_steps(&steps))?;

    let (items, batch_token, sent_at, bearer) = match route {
        Route::AnalyticsV1 => split_analytics_v1(req, json)?,
        _ => split_shapes(req, json)?,
    };

    let mut token = bearer.or(batch_token);
    let total = items.len();
    let mut events = Vec::with_capacity(total);
    let mut dropped = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let place = event::Place { index, total };
        let raw = match item {
            Value::Object(map) => map,
            other => {
                return Err(Rejection::bad_request(
                    "invalid_event",
                    format!("{place} is {}, not a JSON object", kind_of(&other)),
                ))
            }
        };
        let raw = if matches!(route, Route::Engage) && !raw.contains_key("event") {
            event::engage_to_identify(raw)
        } else if matches!(route, Route::AnalyticsV1) {
            event::analytics_v1_to_event(raw)
        } else {
            raw
        };
        let (ev, own_token) = event::normalise(raw, place, sent_at.as_deref(), req.received_at)?;
        match (&token, &own_token) {
            (None, Some(t)) => token = Some(t.clone()),
            (Some(a), Some(b)) if a != b => {
                return Err(Rejection::unauthorized(
                    "mixed_tokens",
                    format!(
                    "one request carries two project tokens ({} and {} in {place}); PostHog refuses the whole request",
                    crate::error::redact_key(a),
                    crate::error::redact_key(b)
                ),
                ))
            }
            _ => {}
        }
        if ev.event == "$performance_event" {
            dropped.push(format!("{place}: $performance_event (PostHog drops these)"));
            continue;
        }
        events.push(ev);
    }
    if total == 0 {
        return Err(Rejection::bad_request("empty_batch", "the request contains no events"));
    }
    let token = check_token(token)?;
    for ev in &mut events {
        ev.project.clone_from(&token);
    }
    Ok(Capture { source: Source::Posthog, events, dropped, steps })
}

type Split = (Vec<Value>, Option<String>, Option<String>, Option<String>);

fn split_shapes(req: &Incoming<'_>, json: Value) -> Result<Split, Rejection> {
    // `_` in the query is the client's send time in milliseconds (old posthog-js).
    let query_sent_at = req
        .query_param("_")
        .and_then(|ms| ms.trim().parse::<i64>().ok())
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339());
    match json {
        Value::Array(items) => Ok((items, None, query_sent_at, None)),
        Value::Object(mut map) if map.contains_key("batch") => {
            let items = match map.remove("batch") {
                Some(Value::Array(items)) => items,
                Some(other) => {
                    return Err(Rejection::bad_request(
                        "invalid_batch",
                        format!("`batch` is {}, expected an array of events", kind_of(&other)),
                    ))
                }
                None => unreachable!("checked above"),
            };
            let token = ["api_key", "token"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str).map(|t| t.trim().to_owned()));
            let sent_at = map.get("sent_at").and_then(Value::as_str).map(str::to_owned).or(query_sent_at);
            Ok((items, token, sent_at, None))
        }
        Value::Object(map) => Ok((vec![Value::Object(map)], None, query_sent_at, None)),
        other => Err(Rejection::bad_request(
            "invalid_payload",
            format!("payload is {}; expected an event, an array of events or a batch object", kind_of(&other)),
        )),
    }
}

/// Capture V1's project token: `Authorization: Bearer <token>`.
fn bearer_token(req: &Incoming<'_>) -> Option<String> {
    req.header("authorization")
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned())
}

fn split_analytics_v1(req: &Incoming<'_>, json: Value) -> Result<Split, Rejection> {
    let bearer = bearer_token(req);
    let Value::Object(mut map) = json else {
        return Err(Rejection::bad_request("invalid_payload", "body must be an object {created_at, batch:[...]}"));
    };
    let Some(Value::Array(items)) = map.remove("batch") else {
        return Err(Rejection::bad_request("invalid_batch", "`batch` must be an array of events"));
    };
    let sent_at = map.get("created_at").and_then(Value::as_str).map(str::to_owned);
    Ok((items, None, sent_at, bearer))
}

fn check_token(token: Option<String>) -> Result<String, Rejection> {
    let token = token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).ok_or_else(|| {
        Rejection::unauthorized(
            "no_token",
            "no project token: expected `api_key` or `token` on the batch, or `token` in an event's properties",
        )
    })?;
    if token.starts_with("phx_") {
        return Err(Rejection::unauthorized(
            "personal_api_key",
            format!(
                "{} is a personal API key (phx_...), not a project key; SDKs must use the project API key (phc_...)",
                crate::error::redact_key(&token)
            ),
        ));
    }
    Ok(token)
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn take_object(map: &mut Map<String, Value>, key: &str) -> Option<Map<String, Value>> {
    match map.remove(key) {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}
