//! What the Segment, RudderStack and Mixpanel decoders produce: events already shaped like the
//! store's rows (see the shared contract in the README), and the family's own reply.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::posthog::Reply;
use crate::Source;

/// One event as the vendor would store it.
#[derive(Debug, Clone, PartialEq)]
pub struct WireEvent {
    /// Segment `messageId` / Mixpanel `$insert_id` when the client sent a usable one (the
    /// vendor's dedup key), else a fresh UUIDv7.
    pub uuid: String,
    /// Write key or Mixpanel token.
    pub project: String,
    pub source: Source,
    pub event: String,
    pub distinct_id: String,
    pub device_id: Option<String>,
    /// Clock-skew corrected server time.
    pub timestamp: DateTime<Utc>,
    /// The client's own time value, untouched (JSON text when it was not a string).
    pub original_timestamp: Option<String>,
    pub sent_at: Option<String>,
    /// Segment: the whole message after the batch-level merge. Mixpanel: `properties` of a
    /// track/import event, or the whole `/engage` / `/groups` update.
    pub properties: Map<String, Value>,
    /// Things the vendor silently changed or ignored about this event.
    pub warnings: Vec<String>,
}

/// A decoded capture request of a non-PostHog family.
#[derive(Debug, Clone)]
pub struct WireCapture {
    pub source: Source,
    pub events: Vec<WireEvent>,
    /// Messages the vendor answers 200 for but drops (e.g. a Segment batch message without
    /// ids), each said in words.
    pub dropped: Vec<String>,
    /// How the body was unwrapped (`gzip`, `form data=`, `base64`...).
    pub steps: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub enum WireOutcome {
    /// Events to store; answer `reply` once they are committed.
    Capture(WireCapture, Reply),
    /// Store only the request (settings, metrics, flags); answer `reply`.
    Answer(Source, Reply),
}

/// A refusal together with the body the vendor's SDK expects for it.
#[derive(Debug, Clone)]
pub struct WireRefusal {
    pub source: Source,
    pub rejection: crate::Rejection,
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
