//! Mixpanel's ingestion API (<https://developer.mixpanel.com/reference/ingestion-api>).
//!
//! One invalid event refuses the whole request, naming it (as `/track` with `verbose=1` does):
//! mixpanel-browser then keeps the batch and shows the error in its debug log, which is what a
//! developer needs to see.

mod detect;
mod event;
mod reply;
mod route;

pub use detect::{is_mixpanel_capture, is_mixpanel_flags};
pub use event::{event_time, MAX_INSERT_ID_CHARS};
pub use reply::{empty as empty_reply, error as error_reply, success as success_reply};
pub use route::Route;

use serde_json::Value;

use crate::payload::{self, Unwrapped};
use crate::posthog::kind_of;
use crate::protocol::VendorRoute;
use crate::{Capture, Incoming, Outcome, Refusal, Rejection, Reply, Source};

pub fn handle(route: Route, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
    if !route.is_capture() || req.method.eq_ignore_ascii_case("HEAD") {
        let reply = if route.is_capture() { success_reply(route, req, 0) } else { empty_reply(route) };
        return Ok(Outcome::Answer(Source::Mixpanel, reply));
    }
    let capture = decode(route, req).map_err(|rejection| Refusal {
        source: Source::Mixpanel,
        reply: error_reply(Some(route), req, &rejection),
        rejection,
    })?;
    let reply = success_reply(route, req, capture.events.len());
    Ok(Outcome::Capture(capture, reply))
}

impl VendorRoute for Route {
    fn source(&self, _req: &Incoming<'_>) -> Source {
        Source::Mixpanel
    }
    fn handle(&self, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
        handle(*self, req)
    }
    fn error_reply(&self, req: &Incoming<'_>, rejection: &Rejection) -> Reply {
        error_reply(Some(*self), req, rejection)
    }
    fn unwrap_body(&self, req: &Incoming<'_>) -> Result<Unwrapped, Rejection> {
        unwrap_body(*self, req)
    }
    fn project_key(&self, req: &Incoming<'_>) -> Option<String> {
        project_key(*self, req)
    }
}

/// The token a Mixpanel request names, where [`decode`] and the routes read it: the first
/// event's `properties.token` (`/track`, `/import`) or update's `$token` (`/engage`), searched as
/// text when the body does not parse; else `?token=` (the flags call's).
fn project_key(route: Route, req: &Incoming<'_>) -> Option<String> {
    let in_body = || {
        let Unwrapped { bytes, .. } = unwrap_body(route, req).ok()?;
        match payload::parse_json(&bytes) {
            Ok(json) => token_in(&json),
            Err(_) => crate::project_key::quoted_value(&bytes, &["token", "$token"]),
        }
    };
    let in_query = || req.query_param("token").map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    in_body().or_else(in_query)
}

fn token_in(json: &Value) -> Option<String> {
    let token = match json {
        Value::Array(items) => return items.iter().find_map(token_in),
        Value::Object(map) => map.get("$token").or_else(|| map.get("properties").and_then(|p| p.get("token"))),
        _ => None,
    };
    token.and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// `data=` in the query or a form, base64 or not, gzip by magic bytes, or a plain JSON body.
pub fn unwrap_body(route: Route, req: &Incoming<'_>) -> Result<Unwrapped, Rejection> {
    payload::unwrap(req, true, route.limit())
}

pub fn decode(route: Route, req: &Incoming<'_>) -> Result<Capture, Rejection> {
    let Unwrapped { bytes, steps } = unwrap_body(route, req)?;
    let json = payload::parse_json(&bytes).map_err(|r| r.after_steps(&steps))?;
    let items = match json {
        Value::Array(items) => items,
        Value::Object(map) => vec![Value::Object(map)],
        other => {
            return Err(Rejection::bad_request(
                "invalid_payload",
                format!("payload is {}; Mixpanel expects an event, an update or an array of them", kind_of(&other)),
            ))
        }
    };
    if items.is_empty() {
        return Err(Rejection::bad_request("empty_batch", "the request contains no events"));
    }
    let fallback = match route {
        Route::Import => req
            .query_param("project_id")
            .filter(|p| !p.trim().is_empty())
            .or_else(|| crate::segment::basic_auth_user(req)),
        _ => None,
    };
    let total = items.len();
    let mut events = Vec::with_capacity(total);
    for (index, item) in items.into_iter().enumerate() {
        let place = format!(
            "{} {} of {total}",
            if matches!(route, Route::Track | Route::Import) { "event" } else { "update" },
            index + 1
        );
        let Value::Object(raw) = item else {
            return Err(Rejection::bad_request(
                "invalid_event",
                format!("{place} is {}, not a JSON object", kind_of(&item)),
            ));
        };
        events.push(match route {
            Route::Track => event::track(raw, &place, None, false, req.received_at)?,
            Route::Import => event::track(raw, &place, fallback.as_deref(), true, req.received_at)?,
            Route::Engage => event::update(raw, &place, false, req.received_at)?,
            Route::Groups => event::update(raw, &place, true, req.received_at)?,
            _ => unreachable!("only capture routes decode"),
        });
    }
    Ok(Capture { source: Source::Mixpanel, events, dropped: Vec::new(), steps })
}
