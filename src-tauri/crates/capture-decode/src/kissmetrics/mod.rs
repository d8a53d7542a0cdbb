//! KISSmetrics' tracking API (support.kissmetrics.io "API specifications"): one call per
//! request, `GET` or `POST` on `/e` (record an event), `/s` (set properties), `/a` (alias).
//!
//! Parameters come in the query string (the JS library loads each call as an image URL on
//! trk.kissmetrics.io) or as a form body (server libraries): `_k` the API key (the project),
//! `_p` the person, `_n` the event name (`/e`) or the second identity (`/a`, stored as the
//! property `alias`), `_t` the time in unix seconds, used when `_d=1`; every other parameter is
//! a property (on `/s`, under `$set`). The reply is a 1x1 GIF,
//! what the JS library's image expects. There is no batch route.

mod detect;
mod route;

pub use detect::is_kissmetrics_call;
pub use route::Route;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::payload::Unwrapped;
use crate::protocol::VendorRoute;
use crate::{Capture, Event, Incoming, Outcome, Refusal, Rejection, Reply, Source};

/// A transparent 1x1 GIF89a: what trk.kissmetrics.io answers every call with, so the JS
/// library's `Image` loads.
pub const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// Parameters the API reads itself; every other one is a property.
const RESERVED: [&str; 5] = ["_k", "_p", "_n", "_t", "_d"];

/// The event name a `/s` call is stored under (it has no `_n`); its properties are stored under
/// `properties.$set`, the shape the identity model reads person updates from.
pub const SET_EVENT: &str = "$set";
/// The event name a `/a` call is stored under; its `_n` (the second identity) is stored as
/// `properties.alias`.
pub const ALIAS_EVENT: &str = "$alias";

pub fn gif(status: u16) -> Reply {
    Reply { status, content_type: "image/gif", body: GIF.to_vec() }
}

/// A refused call: its status with the reason as text, so whoever opens the URL by hand
/// reads which parameter is missing (an image request just fails to load).
pub fn error_reply(rejection: &Rejection) -> Reply {
    Reply::text(rejection.status, &rejection.message)
}

/// The call's parameters in order: the query's, then a form body's. A parameter given twice
/// keeps its first value.
pub fn params(req: &Incoming<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let query = req.query.map(|q| form_urlencoded::parse(q.as_bytes()));
    let body = detect::is_form(req).then(|| form_urlencoded::parse(req.body));
    for (k, v) in query.into_iter().flatten().chain(body.into_iter().flatten()) {
        if !out.iter().any(|(have, _)| *have == k) {
            out.push((k.into_owned(), v.into_owned()));
        }
    }
    out
}

fn get<'p>(params: &'p [(String, String)], key: &str) -> Option<&'p str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn required<'p>(params: &'p [(String, String)], key: &str, what: &str) -> Result<&'p str, Rejection> {
    match get(params, key) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(Rejection::bad_request("missing_parameter", format!("the call has no `{key}` ({what})"))),
    }
}

pub fn decode(route: Route, req: &Incoming<'_>) -> Result<Capture, Rejection> {
    let params = params(req);
    let project = required(&params, "_k", "the API key")?.to_owned();
    let person = required(&params, "_p", "the person")?.to_owned();
    let event = match route {
        Route::Event => required(&params, "_n", "the event name")?.to_owned(),
        Route::Alias => {
            required(&params, "_n", "the other identity")?;
            ALIAS_EVENT.to_owned()
        }
        Route::Set => SET_EVENT.to_owned(),
    };
    let mut warnings = Vec::new();
    let time = get(&params, "_t");
    let timestamp = match (time, get(&params, "_d")) {
        (Some(t), Some("1")) => event_time(t)?,
        (Some(_), _) => {
            warnings.push("`_t` without `_d=1`: KISSmetrics uses the time it received the call".to_owned());
            req.received_at
        }
        (None, _) => req.received_at,
    };
    let mut properties = Map::new();
    for (k, v) in params.iter().filter(|(k, _)| !RESERVED.contains(&k.as_str())) {
        properties.insert(k.clone(), Value::String(v.clone()));
    }
    match route {
        Route::Set => properties = Map::from_iter([(SET_EVENT.to_owned(), Value::Object(properties))]),
        Route::Alias => {
            let other = get(&params, "_n").unwrap_or_default();
            properties.insert("alias".to_owned(), Value::String(other.to_owned()));
        }
        Route::Event => {}
    }
    let event = Event {
        uuid: uuid::Uuid::now_v7().to_string(),
        project,
        source: Source::Kissmetrics,
        event,
        distinct_id: person,
        device_id: None,
        session_id: None,
        timestamp,
        original_timestamp: time.map(str::to_owned),
        sent_at: None,
        offset_ms: None,
        properties,
        warnings,
    };
    Ok(Capture { source: Source::Kissmetrics, events: vec![event], dropped: Vec::new(), steps: Vec::new() })
}

/// `_t`: whole unix seconds (a decimal number is accepted too).
fn event_time(text: &str) -> Result<DateTime<Utc>, Rejection> {
    let bad = || Rejection::bad_request("invalid_time", format!("`_t` {text:?} is not a time in unix seconds"));
    let seconds: f64 = text.trim().parse().map_err(|_| bad())?;
    if !(0.0..=253_402_300_799.0).contains(&seconds) {
        return Err(bad());
    }
    DateTime::from_timestamp_micros((seconds * 1e6).round() as i64).ok_or_else(bad)
}

pub fn handle(route: Route, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
    if req.method.eq_ignore_ascii_case("HEAD") {
        return Ok(Outcome::Answer(Source::Kissmetrics, gif(200)));
    }
    match decode(route, req) {
        Ok(capture) => Ok(Outcome::Capture(capture, gif(200))),
        Err(rejection) => Err(Refusal { source: Source::Kissmetrics, reply: error_reply(&rejection), rejection }),
    }
}

impl VendorRoute for Route {
    fn source(&self, _req: &Incoming<'_>) -> Source {
        Source::Kissmetrics
    }
    fn handle(&self, req: &Incoming<'_>) -> Result<Outcome, Refusal> {
        handle(*self, req)
    }
    fn error_reply(&self, _req: &Incoming<'_>, rejection: &Rejection) -> Reply {
        error_reply(rejection)
    }
    /// `_k`, the API key, from the query or the form body (where [`decode`] reads it).
    fn project_key(&self, req: &Incoming<'_>) -> Option<String> {
        get(&params(req), "_k").map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned)
    }
    /// The parameters as a JSON object (query, then form body).
    fn unwrap_body(&self, req: &Incoming<'_>) -> Result<Unwrapped, Rejection> {
        let map: Map<String, Value> = params(req).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        let steps = if detect::is_form(req) { vec!["form parameters"] } else { vec!["query parameters"] };
        Ok(Unwrapped { bytes: Value::Object(map).to_string().into_bytes(), steps })
    }
}
