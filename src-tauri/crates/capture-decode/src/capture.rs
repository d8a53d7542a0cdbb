//! What every vendor's decoder produces: one [`Outcome`] per request, or a [`Refusal`].
//!
//! The contract is the same for PostHog, Segment, RudderStack and Mixpanel, so whoever stores
//! the result (the server, an import) has one accept branch and one event-to-row mapping.
//!
//! Invariants:
//! - Every [`Event`] names its own `source` and `project` (PostHog token, Segment write key,
//!   Mixpanel token): a request never has to be asked again which vendor it came from.
//! - A [`Refusal`] already carries the body that vendor's SDK expects for an error, so nothing
//!   above this crate builds a vendor's reply.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::{Rejection, Reply, Source};

/// One event as the vendor would store it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// PostHog `uuid`, Segment `messageId`, Mixpanel `$insert_id` when the client sent a usable
    /// one (the vendor's dedup key), else a fresh UUIDv7.
    pub uuid: String,
    /// PostHog project token (the request's, once decoding is done), Segment write key or
    /// Mixpanel token.
    pub project: String,
    pub source: Source,
    pub event: String,
    pub distinct_id: String,
    pub device_id: Option<String>,
    /// PostHog's `$session_id`; the other vendors have none.
    pub session_id: Option<String>,
    /// Server time after clock-skew correction: what the vendor would store.
    pub timestamp: DateTime<Utc>,
    /// The client's own time value, untouched (JSON text when it was not a string).
    pub original_timestamp: Option<String>,
    pub sent_at: Option<String>,
    /// PostHog's `offset` (milliseconds before sending); the other vendors have none.
    pub offset_ms: Option<i64>,
    /// PostHog: event properties with top-level `$set`/`$set_once` merged in. Segment: the whole
    /// message after the batch-level merge. Mixpanel: `properties` of a track/import event, or
    /// the whole `/engage` / `/groups` update.
    pub properties: Map<String, Value>,
    /// Things the vendor silently changed or ignored about this event, for the user to see.
    pub warnings: Vec<String>,
}

/// A decoded capture request.
#[derive(Debug, Clone)]
pub struct Capture {
    pub source: Source,
    pub events: Vec<Event>,
    /// Events the vendor answers 200 for but drops (PostHog's `$performance_event`, a Segment
    /// batch message without ids), each said in words.
    pub dropped: Vec<String>,
    /// How the body was unwrapped (`gzip`, `form data=`, `base64`...).
    pub steps: Vec<&'static str>,
}

/// What to do with a request the vendor accepts.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Events to store; answer `reply` once they are committed.
    Capture(Capture, Reply),
    /// Store only the request (settings, metrics, flags, config, `HEAD`); answer `reply`.
    Answer(Source, Reply),
}

impl Outcome {
    pub fn source(&self) -> Source {
        match self {
            Outcome::Capture(capture, _) => capture.source,
            Outcome::Answer(source, _) => *source,
        }
    }

    pub fn reply(&self) -> &Reply {
        match self {
            Outcome::Capture(_, reply) | Outcome::Answer(_, reply) => reply,
        }
    }
}

/// A request the vendor refuses, with the body its SDK expects for that refusal.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub source: Source,
    pub rejection: Rejection,
    pub reply: Reply,
}

/// JSON text of a scalar id: strings as they are, numbers as their JSON text.
pub(crate) fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
