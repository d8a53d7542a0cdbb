//! One Segment/RudderStack message: batch-level merge, checks, and the stored event's fields.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::route::{MessageType, MESSAGE_LIMIT};
use crate::capture::id_text;
use crate::posthog::kind_of;
use crate::timestamp::parse_iso;
use crate::{human_size, Event, Rejection, Source};

/// Segment ignores a `messageId` longer than this for deduplication.
pub const MAX_MESSAGE_ID_CHARS: usize = 100;

/// What the batch says around its messages.
#[derive(Debug, Clone, Default)]
pub struct BatchFrame {
    pub context: Option<Map<String, Value>>,
    pub integrations: Option<Map<String, Value>>,
    pub sent_at: Option<String>,
}

/// Batch-level `context` and `integrations` go into each message; the message's own keys win,
/// key by key one level deep (a message's `context.library` replaces the batch's whole).
pub fn merge_frame(message: &mut Map<String, Value>, frame: &BatchFrame) {
    for (field, outer) in [("context", &frame.context), ("integrations", &frame.integrations)] {
        let Some(outer) = outer else { continue };
        match message.get_mut(field) {
            Some(Value::Object(inner)) => {
                for (k, v) in outer {
                    inner.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            None | Some(Value::Null) => {
                message.insert(field.to_owned(), Value::Object(outer.clone()));
            }
            // A message whose context is not an object is refused below, untouched.
            Some(_) => {}
        }
    }
}

/// Checks one message (already merged) and turns it into the event the vendor would store.
/// `route_type`: the type a single-message route implies (it wins over the body's `type`).
pub fn normalise(
    mut message: Map<String, Value>,
    route_type: Option<MessageType>,
    write_key: &str,
    source: Source,
    batch_sent_at: Option<&str>,
    received_at: DateTime<Utc>,
) -> Result<Event, Rejection> {
    let size = Value::Object(message.clone()).to_string().len();
    if size > MESSAGE_LIMIT {
        return Err(Rejection::bad_request(
            "message_too_large",
            format!("message is {}, over Segment's {} limit per message", human_size(size), human_size(MESSAGE_LIMIT)),
        ));
    }
    let mut warnings = Vec::new();
    let kind = message_type(&message, route_type, &mut warnings)?;
    if let Some(route_type) = route_type {
        message.insert("type".into(), Value::String(route_type.as_str().into()));
    }
    for field in ["context", "traits", "properties", "integrations"] {
        match message.get(field) {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(other) => {
                return Err(invalid(format!("`{field}` must be an object, found {}", kind_of(other))));
            }
        }
    }

    let user_id = id_field(&message, "userId")?;
    let anonymous_id = id_field(&message, "anonymousId")?;
    let distinct_id = user_id.clone().or_else(|| anonymous_id.clone()).ok_or_else(|| {
        Rejection::bad_request(
            "no_user_anon_id",
            "message has neither `userId` nor `anonymousId`; Segment refuses it (no_user_anon_id)",
        )
    })?;

    let event = match kind {
        MessageType::Track => match message.get("event") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(Rejection::bad_request("missing_event_name", "track message has no `event` name"))
            }
            Some(other) => return Err(invalid(format!("`event` must be a string, found {}", kind_of(other)))),
        },
        other => other.as_str().to_owned(),
    };
    match kind {
        MessageType::Alias if id_field(&message, "previousId")?.is_none() => {
            return Err(Rejection::bad_request("missing_previous_id", "alias message has no `previousId`"))
        }
        MessageType::Group if id_field(&message, "groupId")?.is_none() => {
            return Err(Rejection::bad_request("missing_group_id", "group message has no `groupId`"))
        }
        _ => {}
    }

    let uuid = match message.get("messageId") {
        Some(Value::String(id)) if !id.is_empty() && id.chars().count() <= MAX_MESSAGE_ID_CHARS => id.clone(),
        None | Some(Value::Null) => uuid::Uuid::now_v7().to_string(),
        Some(other) => {
            warnings.push(format!(
                "messageId {} is not a string of at most {MAX_MESSAGE_ID_CHARS} characters; Segment cannot deduplicate this message",
                short(other)
            ));
            uuid::Uuid::now_v7().to_string()
        }
    };

    let original = time_field(&message, "timestamp")?.or(time_field(&message, "originalTimestamp")?);
    let sent_at = time_field(&message, "sentAt")?.or_else(|| batch_sent_at.map(str::to_owned));
    let timestamp = corrected_time(original.as_deref(), sent_at.as_deref(), received_at, &mut warnings);

    let device_id = message
        .get("context")
        .and_then(|c| c.pointer("/device/id"))
        .and_then(|v| id_text(Some(v)))
        .or_else(|| anonymous_id.clone());

    Ok(Event {
        uuid,
        project: write_key.to_owned(),
        source,
        event,
        distinct_id,
        device_id,
        session_id: None,
        timestamp,
        original_timestamp: original,
        sent_at,
        offset_ms: None,
        properties: message,
        warnings,
    })
}

fn invalid(message: String) -> Rejection {
    Rejection::bad_request("invalid_message", message)
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

fn message_type(
    message: &Map<String, Value>,
    route_type: Option<MessageType>,
    warnings: &mut Vec<String>,
) -> Result<MessageType, Rejection> {
    let body_type = match message.get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) => match MessageType::parse(t) {
            Some(t) => Some(t),
            None if route_type.is_some() => None,
            None => {
                return Err(Rejection::bad_request(
                    "unknown_type",
                    format!(
                        "`type` {} is not one of identify, track, page, screen, group, alias",
                        short(&Value::String(t.clone()))
                    ),
                ))
            }
        },
        Some(other) => return Err(invalid(format!("`type` must be a string, found {}", kind_of(other)))),
    };
    match (route_type, body_type) {
        (Some(route), Some(body)) if route != body => {
            warnings.push(format!(
                "the body says type {}, the route {}; Segment goes by the route",
                body.as_str(),
                route.as_str()
            ));
            Ok(route)
        }
        (Some(route), _) => Ok(route),
        (None, Some(body)) => Ok(body),
        (None, None) => Err(Rejection::bad_request("missing_type", "batch message has no `type`")),
    }
}

/// A user id, anonymous id, previous id or group id: a string or a number (stored as its JSON
/// text); empty and null count as absent. NUL characters are refused: no id contains them.
fn id_field(message: &Map<String, Value>, field: &str) -> Result<Option<String>, Rejection> {
    match message.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.contains('\0') => Err(invalid(format!("`{field}` contains a NUL character"))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(id_text(Some(v))),
        Some(other) => Err(invalid(format!("`{field}` must be a string or a number, found {}", kind_of(other)))),
    }
}

fn time_field(message: &Map<String, Value>, field: &str) -> Result<Option<String>, Rejection> {
    match message.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(format!("`{field}` must be an ISO 8601 string, found {}", kind_of(other)))),
    }
}

/// `receivedAt - (sentAt - timestamp)`: the client's clock is trusted for durations only.
/// Without `sentAt` the client's value stands; without a usable `timestamp`, the arrival time.
fn corrected_time(
    original: Option<&str>,
    sent_at: Option<&str>,
    received_at: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> DateTime<Utc> {
    let Some(text) = original else { return received_at };
    let Some(client) = parse_iso(text) else {
        warnings.push(format!("timestamp {text:?} is not an ISO 8601 date; used the arrival time"));
        return received_at;
    };
    let Some(sent) = sent_at.and_then(parse_iso) else { return client };
    // Checked: absurd dates (year 200000) must not overflow into a panic.
    let corrected = received_at.checked_sub_signed(sent - client);
    corrected.unwrap_or_else(|| {
        warnings.push(format!("timestamp {text:?} and sentAt are too far apart to correct; used the arrival time"));
        received_at
    })
}
