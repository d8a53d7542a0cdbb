//! One PostHog event: required fields, token, distinct id, `$set` placement and time.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{kind_of, take_object};
use crate::timestamp::{self, ClientTime};
use crate::{Event, Rejection, Source};

/// PostHog keeps the first 200 characters of a distinct id.
pub const MAX_DISTINCT_ID_CHARS: usize = 200;

/// Where an event sits in its request, for messages ("event 3 of 10 ($pageview)").
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub index: usize,
    pub total: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {} of {}", self.index + 1, self.total)
    }
}

fn string_field(raw: &Map<String, Value>, key: &str) -> Option<String> {
    match raw.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

/// `/engage` bodies are profile updates; PostHog turns them into `$identify` events.
pub fn engage_to_identify(mut raw: Map<String, Value>) -> Map<String, Value> {
    let mut properties = take_object(&mut raw, "properties").unwrap_or_default();
    for key in ["$set", "$set_once", "$unset"] {
        if let Some(v) = raw.remove(key) {
            properties.insert(key.to_owned(), v);
        }
    }
    let mut event = Map::new();
    event.insert("event".into(), Value::String("$identify".into()));
    if let Some(id) = raw.remove("$distinct_id").or_else(|| raw.remove("distinct_id")) {
        event.insert("distinct_id".into(), id);
    }
    if let Some(t) = raw.remove("$token").or_else(|| raw.remove("token")) {
        event.insert("token".into(), t);
    }
    for key in ["uuid", "timestamp", "offset"] {
        if let Some(v) = raw.remove(key) {
            event.insert(key.into(), v);
        }
    }
    event.insert("properties".into(), Value::Object(properties));
    event
}

/// `/i/v1/analytics/events` puts session, window and person-processing options beside the event.
pub fn analytics_v1_to_event(mut raw: Map<String, Value>) -> Map<String, Value> {
    let mut properties = take_object(&mut raw, "properties").unwrap_or_default();
    for (field, property) in [("session_id", "$session_id"), ("window_id", "$window_id")] {
        if let Some(v) = raw.remove(field) {
            properties.entry(property).or_insert(v);
        }
    }
    if let Some(mut options) = take_object(&mut raw, "options") {
        if let Some(v) = options.remove("process_person_profile") {
            properties.entry("$process_person_profile").or_insert(v);
        }
    }
    raw.insert("properties".into(), Value::Object(properties));
    raw
}

/// Checks one event and turns it into what PostHog would store. Returns the project token the
/// event names itself, if any; the event's `project` is left empty for the request to fill.
pub fn normalise(
    mut raw: Map<String, Value>,
    place: Place,
    sent_at: Option<&str>,
    received_at: DateTime<Utc>,
) -> Result<(Event, Option<String>), Rejection> {
    let event = match raw.get("event") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => {
            return Err(Rejection::bad_request("missing_event_name", format!("{place}: `event` is empty")))
        }
        None | Some(Value::Null) => {
            return Err(Rejection::bad_request("missing_event_name", format!("{place}: has no `event` name")))
        }
        Some(other) => {
            return Err(Rejection::bad_request(
                "invalid_event_name",
                format!("{place}: `event` must be a string, found {}", kind_of(other)),
            ))
        }
    };
    let place_named = format!("{place} ({event})");

    let mut properties = match raw.remove("properties") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => Map::new(),
        Some(other) => {
            return Err(Rejection::bad_request(
                "invalid_properties",
                format!("{place_named}: `properties` must be an object, found {}", kind_of(&other)),
            ))
        }
    };

    // Top-level `$set`/`$set_once` (posthog-js `$identify`, posthog-python `set()`) win over the
    // same keys inside `properties`.
    for key in ["$set", "$set_once"] {
        match raw.remove(key) {
            Some(Value::Object(top)) => {
                let merged = properties.entry(key).or_insert_with(|| Value::Object(Map::new()));
                match merged {
                    Value::Object(inner) => inner.extend(top),
                    other => *other = Value::Object(top),
                }
            }
            None | Some(Value::Null) => {}
            Some(other) => {
                return Err(Rejection::bad_request(
                    "invalid_set",
                    format!("{place_named}: top-level `{key}` must be an object, found {}", kind_of(&other)),
                ))
            }
        }
    }

    let uuid = match raw.get("uuid") {
        None | Some(Value::Null) => Uuid::now_v7(),
        Some(Value::String(s)) if s.trim().is_empty() => Uuid::now_v7(),
        Some(Value::String(s)) => Uuid::parse_str(s.trim()).map_err(|_| {
            Rejection::bad_request(
                "invalid_uuid",
                format!("{place_named}: `uuid` {:?} is not a valid UUID", truncate(s, 60)),
            )
        })?,
        Some(other) => {
            return Err(Rejection::bad_request(
                "invalid_uuid",
                format!("{place_named}: `uuid` must be a string, found {}", kind_of(other)),
            ))
        }
    };

    let token = ["token", "$token", "api_key"]
        .iter()
        .find_map(|k| raw.get(*k).and_then(Value::as_str))
        .or_else(|| properties.get("token").and_then(Value::as_str))
        .map(|t| t.trim().to_owned());

    let mut warnings = Vec::new();
    let distinct_id = distinct_id(&raw, &properties, &place_named, &mut warnings)?;

    let offset_ms = match raw.get("offset") {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    };
    let client = ClientTime {
        timestamp: raw.get("timestamp").cloned(),
        sent_at: string_field(&raw, "sent_at").or_else(|| sent_at.map(str::to_owned)),
        offset_ms,
        ignore_sent_at: properties.get("$ignore_sent_at") == Some(&Value::Bool(true)),
    };
    let corrected = timestamp::correct(&client, received_at);
    warnings.extend(corrected.warning);

    let event = Event {
        uuid: uuid.to_string(),
        project: String::new(),
        source: Source::Posthog,
        event,
        distinct_id,
        device_id: id_property(&properties, "$device_id"),
        session_id: id_property(&properties, "$session_id"),
        timestamp: corrected.timestamp,
        original_timestamp: client.timestamp.filter(|v| !v.is_null()).map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        }),
        sent_at: client.sent_at,
        offset_ms,
        properties,
        warnings,
    };
    Ok((event, token))
}

fn id_property(properties: &Map<String, Value>, key: &str) -> Option<String> {
    match properties.get(key)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn distinct_id(
    raw: &Map<String, Value>,
    properties: &Map<String, Value>,
    place: &str,
    warnings: &mut Vec<String>,
) -> Result<String, Rejection> {
    let value = ["distinct_id", "$distinct_id"]
        .iter()
        .find_map(|k| raw.get(*k).filter(|v| !v.is_null()))
        .or_else(|| properties.get("distinct_id").filter(|v| !v.is_null()));
    let text = match value {
        None => return Err(Rejection::bad_request("missing_distinct_id", format!("{place}: has no `distinct_id`"))),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            warnings.push(format!("distinct_id was {}; PostHog stores its JSON text", kind_of(other)));
            other.to_string()
        }
    };
    // Only a zero-length id is missing: PostHog's capture (`extract_distinct_id` in
    // `rust/common/types/src/event.rs`) keeps a whitespace-only one, and the person rules then
    // refuse merges with it (an illegal id).
    if text.is_empty() {
        return Err(Rejection::bad_request("missing_distinct_id", format!("{place}: `distinct_id` is empty")));
    }
    let mut text = if text.contains('\0') {
        warnings.push("distinct_id contained NUL characters; PostHog replaces them with U+FFFD".into());
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    };
    let chars = text.chars().count();
    if chars > MAX_DISTINCT_ID_CHARS {
        warnings
            .push(format!("distinct_id was {chars} characters long; PostHog keeps the first {MAX_DISTINCT_ID_CHARS}"));
        text = text.chars().take(MAX_DISTINCT_ID_CHARS).collect();
    }
    Ok(text)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
